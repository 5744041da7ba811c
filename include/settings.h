/*-------------------------------------------------------------------------
 *
 * settings.h
 *	  Declarations shared by the files of tenant settings.
 *
 * IDENTIFICATION
 *	  include/settings.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_SETTINGS_H
#define GTM_SETTINGS_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * Limits of a settings document (the defaults, the overrides of a tenant):
 * its size in jsonb's binary form, and how deeply it nests, the top-level
 * object being level 1 and every object or array inside a value one level
 * more.  Checking and merging are linear in the size of a document; the
 * limits keep one that is read on every request small, and bound the work
 * and the memory of a check whatever is sent.
 */
#define SETTINGS_MAX_BYTES	(1024 * 1024)
#define SETTINGS_MAX_DEPTH	32

typedef struct SettingsProblem
{
	int			sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
} SettingsProblem;

/* Is JsonbValue v an object (inside a container)? */
#define IS_OBJECT_VALUE(v) \
	((v)->type == jbvBinary && JsonContainerIsObject((v)->val.binary.data))

/* settings_merge.c */
extern Jsonb *jsonb_merge_patch(Jsonb *base, Jsonb *patch);

/* settings_check.c */
extern SettingsProblem *problem(char *message, char *detail, char *hint);
extern void report_problem(SettingsProblem *p);
extern char *quoted(const char *s, int len);
extern char *nearest_key(JsonbContainer *object, const char *key, int keylen);
extern SettingsProblem *root_not_object_problem(Jsonb *j, const char *what,
												const char *hint);
extern SettingsProblem *tenant_settings_problem(Jsonb *over, Jsonb *defs);
extern SettingsProblem *default_settings_problem(Jsonb *defs);

#endif							/* GTM_SETTINGS_H */
