/*-------------------------------------------------------------------------
 *
 * gtm_clarity.h
 *	  Declarations shared by the capabilities of gtm_clarity.
 *
 * Each capability lives in its own file under src/ and exposes one
 * initialisation function that _PG_init() (src/init.c) calls while the
 * library is being preloaded.
 *
 * IDENTIFICATION
 *	  include/gtm_clarity.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_CLARITY_H
#define GTM_CLARITY_H

#include "postgres.h"

#include "executor/spi.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "pg_compat.h"

/*
 * The variables that every statement's executor path reads or writes (the
 * executor frames' counters, the running statement's tenant, the chained
 * hooks, the caches of "is the extension here", "is this role exempt"):
 * their definitions carry GTM_HOT_DATA, which keeps them together in one
 * section of a few cache lines, instead of wherever the link puts each
 * file's data (25 lines of data for a cached point select, measured with
 * objdump; each one a likely cache miss when the backend's next statement
 * comes after other work).  GTM_HOT_BUF: the buffers of the running
 * statement's tenant and label, whose first bytes only are used, apart
 * from them.  Elsewhere than ELF with GCC or Clang: no effect.
 */
#if defined(__ELF__) && defined(__GNUC__)
#define GTM_HOT_DATA __attribute__((section(".data.gtm_hot")))
#define GTM_HOT_BUF __attribute__((section(".data.gtm_hot_buf")))
#else
#define GTM_HOT_DATA
#define GTM_HOT_BUF
#endif

/* src/extension.c: the extension's own objects */
typedef struct GtmQueryDef
{
	const char *sql;			/* %1$s stands for the quoted schema name */
	int			nargs;
	Oid			argtypes[4];
} GtmQueryDef;

typedef struct GtmQuerySet
{
	const GtmQueryDef *defs;
	int			count;
	Oid			nsp;			/* schema the plans were prepared for */
	SPIPlanPtr *plans;			/* count entries, NULL until first use */
} GtmQuerySet;

#define GTM_QUERY_SET(defs, plans) {(defs), lengthof(defs), InvalidOid, (plans)}

extern SPIPlanPtr gtm_query_plan(GtmQuerySet *set, int q, Oid nsp);
extern uint64 gtm_query_run(GtmQuerySet *set, int q, Oid nsp, Datum *values, bool read_only);
extern HeapTuple gtm_query_first_row(const char *what);
extern uint64 gtm_query_run_latest(GtmQuerySet *set, int q, Oid nsp, Datum *values,
								   bool read_only, long tcount);
extern Oid	gtm_extension_namespace(FunctionCallInfo fcinfo);
extern Oid	gtm_installed_namespace(void);
extern bool gtm_installed_here(void);
extern bool gtm_installed_known_here(void);
extern void gtm_extension_init(void);
extern Oid	gtm_extension_relid(const char *relname, Oid nsp);
extern void gtm_require_arg(FunctionCallInfo fcinfo, int argno,
							const char *argname, const char *hint);
extern bool gtm_jsonb_is_object(Jsonb *j);

/*
 * A value quoted in an error message, cut to at most GTM_MSG_VALUE_CHARS
 * characters with its length when longer.
 */
#define GTM_MSG_VALUE_CHARS 64
extern char *gtm_msg_value(const char *s, int len, bool quote);

/* src/tenant_session.c: a function reaches a tenant for its caller */
extern void statement_scope_reach(const char *tenant_id, const char *what,
								  bool definer);

/* src/provision_lifecycle.c: the GUC gtm.clerk_sync */
extern void gtm_provision_init(void);

/*
 * src/member_session.c: the acting member (GUC gtm.member); the tenant was
 * set without a member (called by gtm_set_tenant of tenant_session.c, whose
 * C function the three-argument gtm_set_tenant calls)
 */
extern void gtm_member_init(void);
extern void gtm_member_forget(bool is_local);
extern Datum gtm_set_tenant(PG_FUNCTION_ARGS);

/* src/settings_defaults.c: the defaults kept per backend */
extern void gtm_settings_init(void);

/* src/enforce_hooks.c: tenant-scope enforcement (GUCs, hooks) */
extern void gtm_enforce_init(void);


#endif							/* GTM_CLARITY_H */
