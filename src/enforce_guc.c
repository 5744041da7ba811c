/*-------------------------------------------------------------------------
 *
 * enforce_guc.c
 *	  The settings of tenant-scope enforcement (gtm.*).
 *
 *	gtm.enforcement			error, warn or off (superuser; GRANT SET delegates it)
 *	gtm.tenant_column		the column that makes a table tenant-scoped
 *	gtm.tenant				the session tenant, set through gtm_set_tenant()
 *	gtm.allow_session_tenant	may a tenant outlive the transaction
 *
 * A change of mode or column drops cached plans and facts (their verdicts
 * change); a change of tenant drops the plans a tenant was folded into
 * (enforce_distributed.c).
 *
 * IDENTIFICATION
 *	  src/enforce_guc.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/guc.h"
#include "utils/plancache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* ----------------------------------------------------------------
 *		GUCs
 * ----------------------------------------------------------------
 */
static const struct config_enum_entry enforcement_options[] = {
	{"error", GTM_ENFORCE_ERROR, false},
	{"warn", GTM_ENFORCE_WARN, false},
	{"off", GTM_ENFORCE_OFF, false},
	{NULL, 0, false}
};

/* gtm.enforcement: error, warn or off (superuser; GRANT SET delegates it) */
int			gtm_enforcement GTM_HOT_DATA = GTM_ENFORCE_ERROR;

/* gtm.tenant_column: the column that makes a table tenant-scoped */
char	   *gtm_tenant_column = NULL;

/* gtm.tenant: the session tenant, set through gtm_set_tenant() */
char	   *gtm_session_tenant = NULL;

/*
 * gtm.allow_session_tenant: may gtm_set_tenant(t, false) set a tenant that
 * outlives the transaction?  Superuser-only (ALTER ROLE ... SET for the
 * roles that keep one connection per tenant); off by default, since a
 * connection pool hands the connection, and its session tenant, to the
 * next request.
 */
bool		gtm_allow_session_tenant = false;

static bool
check_tenant_column(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("gtm.tenant_column must name a column.");
		return false;
	}
	if (strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A column name has at most %d bytes.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

/*
 * A change of mode or column changes verdicts: cached plans must be
 * re-checked, so drop them (they are rebuilt on next use).
 */
static void
assign_tenant_column(const char *newval, void *extra)
{
	forget_rel_facts();
	ResetPlanCache();
}

static void
assign_enforcement(int newval, void *extra)
{
	if (newval != gtm_enforcement)
		ResetPlanCache();
}

static bool
check_enforcement(int *newval, void **extra, GucSource source)
{
	/* Parallel workers take the leader's value; nothing else to refuse. */
	return *newval == GTM_ENFORCE_OFF || *newval == GTM_ENFORCE_WARN ||
		*newval == GTM_ENFORCE_ERROR;
}

/* plans made with the old tenant folded in go (enforce_distributed.c) */
static void
assign_session_tenant(const char *newval, void *extra)
{
	session_tenant_changing(newval);
}

static bool
check_allow_session_tenant(bool *newval, void **extra, GucSource source)
{
	/* every value is valid; who may set it is PGC_SUSET's business */
	return true;
}

static bool
check_session_tenant(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > 128)
	{
		GUC_check_errdetail("A tenant id has at most 128 bytes.");
		return false;
	}
	return true;
}

/*
 * current_setting('gtm.tenant') read by a function the planner runs (an
 * IMMUTABLE wrapper it folds) shows no tenant, as gtm_current_tenant()
 * answers NULL there: a tenant folded into a plan would be served from a
 * plan cache to a later request of another tenant.
 */
static const char *
show_session_tenant(void)
{
	if (planner_runs_function() || gtm_session_tenant == NULL)
		return "";
	return gtm_session_tenant;
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
enforce_guc_init(void)
{
	DefineCustomEnumVariable("gtm.enforcement",
							 "What to do with a statement not pinned to one tenant.",
							 "error rejects it, warn runs it with a WARNING, off does not check.",
							 &gtm_enforcement,
							 GTM_ENFORCE_ERROR,
							 enforcement_options,
							 PGC_SUSET,
							 0,
							 check_enforcement, assign_enforcement, NULL);
	DefineCustomStringVariable("gtm.tenant_column",
							   "Name of the column that makes a table tenant-scoped.",
							   NULL,
							   &gtm_tenant_column,
							   "tenant_id",
							   PGC_SUSET,
							   0,
							   check_tenant_column, assign_tenant_column, NULL);
	DefineCustomStringVariable("gtm.tenant",
							   "Tenant of the session, set by gtm_set_tenant().",
							   NULL,
							   &gtm_session_tenant,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   check_session_tenant, assign_session_tenant,
							   show_session_tenant);
	DefineCustomBoolVariable("gtm.allow_session_tenant",
							 "Allows gtm_set_tenant(tenant, false): a tenant for the whole session.",
							 "A session tenant outlives the transaction; behind a connection pool the next request on the connection inherits it.",
							 &gtm_allow_session_tenant,
							 false,
							 PGC_SUSET,
							 0,
							 check_allow_session_tenant, NULL, NULL);
}
