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
#include "utils/numeric.h"

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
extern SettingsProblem *unknown_key_problem(char *message, const char *source,
											 const char *see, const char *parent,
											 const char *near);
extern void report_problem(SettingsProblem *p);
extern char *quoted(const char *s, int len);
extern char *nearest_key(JsonbContainer *object, const char *key, int keylen);
extern SettingsProblem *root_not_object_problem(Jsonb *j, const char *what,
												const char *hint);
extern char *jsonb_value_text(JsonbValue *v);
extern SettingsProblem *timezone_problem(const char *what, const char *path, JsonbValue *v);
extern SettingsProblem *tenant_settings_problem(Jsonb *over, Jsonb *defs, Jsonb *schema);
extern SettingsProblem *default_settings_problem(Jsonb *defs, Jsonb *schema);


/*
 * The settings schema (settings_schema.c, settings_schema_meta.c): a walk
 * over a document or a schema, with the path of the value at hand (keys and
 * array indexes), written out only for a message.
 */
#define FORMAT_TIME_ZONE "iana-time-zone"

typedef struct PathElem
{
	const char *key;			/* NULL: an array index */
	int			keylen;
	int			index;
} PathElem;

/*
 * The root keyword of a schema whose document keeps the rules of 1.0.0
 * (gtm_settings_schema_from, which the upgrade gives every version of the
 * defaults written under 1.0.0): no rule that later versions added to the
 * keywords' own applies, i.e. a number need not fit a JSON reader's double
 * (round FR: 1e400, stored under 1.0.0, made ALTER EXTENSION UPDATE fail,
 * or a tenant's overrides stop passing).
 */
#define SETTINGS_RULES_KEYWORD "x-gtm-rules"
#define SETTINGS_RULES_1_0_0 "1.0.0"

typedef struct Walk
{
	const char *what;			/* "tenant setting", "default setting" */
	bool		overrides;
	bool		rules_1_0_0;	/* the schema's root has x-gtm-rules 1.0.0 */
	int			depth;
	PathElem	path[SETTINGS_MAX_DEPTH * 3 + 2];
} Walk;

extern void push_key(Walk *w, const char *key, int len);
extern void push_index(Walk *w, int i);
extern char *path_upto(Walk *w, int upto);
extern char *schema_path(Walk *w);
extern bool get_kw(JsonbContainer *schema, const char *kw, JsonbValue *out);
extern SettingsProblem *chosen_key_problem(Walk *w, JsonbValue *k);
extern const char *type_of(JsonbValue *v);
extern bool numeric_is_integral(Numeric n);
extern int	num_cmp(Numeric a, Numeric b);
extern char *num_text(Numeric n);
extern const char *nearest_word(const char *word, int len,
								const char *const *words, int n);
extern SettingsProblem *schema_settings_problem(Jsonb *doc, Jsonb *schema, Jsonb *defs);
extern SettingsProblem *rule_problem(Walk *w, JsonbValue *v, const char *rest,
									 const char *rule, char *hint);

/* settings_schema_numbers.c */
extern SettingsProblem *check_number(Walk *w, JsonbContainer *s, JsonbValue *v);
extern Jsonb *double_image(JsonbValue *e);
extern SettingsProblem *free_numbers(Walk *w, JsonbValue *v);

/* settings_defaults.c */
extern Jsonb *current_defaults(Oid nsp, Jsonb **schema);
extern bool defaults_have_schema(Oid relid);
extern Jsonb *effective_settings_fast(Oid nsp, const char *tenant_id);

/* settings_schema_meta.c */
extern SettingsProblem *settings_schema_problem(Jsonb *schema);
extern Jsonb *settings_schema_from_defaults(Jsonb *defs);

#endif							/* GTM_SETTINGS_H */
