/*-------------------------------------------------------------------------
 *
 * provision.h
 *	  Declarations shared by the files of provisioning.
 *
 * IDENTIFICATION
 *	  include/provision.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_PROVISION_H
#define GTM_PROVISION_H

#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

#define MAX_CLERK_ID_LEN	128
#define MAX_NAME_CHARS		256
#define MAX_SLUG_LEN		100
/* a derived slug leaves room for a "-NNNNNNNNN" suffix */
#define MAX_DERIVED_SLUG_LEN 90
#define MAX_SLUG_SUFFIX		999999999

/* provision_input.c: the input rules and the argument checks */
extern char *arg_clerk_org_id(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *arg_clerk_user_id(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *arg_tenant_name(FunctionCallInfo fcinfo, int argno, const char *argname);
extern char *arg_slug(FunctionCallInfo fcinfo, int argno);
extern Jsonb *arg_settings(FunctionCallInfo fcinfo, int argno, const char *argname);
extern const char *clerk_role_or_error(Oid nsp, const char *key);
extern const char *clerk_role_lookup(Oid nsp, const char *key);
extern char *slugify(const char *name);
extern char *normalize_clerk_slug(const char *slug);
extern char *clerk_slug_base(const char *slug);

/* provision.c */
extern char *name_slug_base(const char *org_id, const char *name);
extern void provision_tenant(Oid nsp, const char *org_id, const char *name,
							 const char *slug, Jsonb *settings, bool slug_strict,
							 bool *created);

/* provision_lifecycle.c: gtm.clerk_sync, on while Clerk's state is applied */
extern bool gtm_clerk_sync;

/* provision_index.c: index probes without SPI */
extern bool index_probe(Oid nsp, const char *relname, const char *indexname,
						int nkeys, Datum *keys, const char *want,
						Datum *result, bool *isnull);
extern char *free_derived_slug(Oid nsp, const char *base, const char *own);
extern void lock_tenant_slug(Oid nsp, const char *slug);

#endif							/* GTM_PROVISION_H */
