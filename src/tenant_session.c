/*-------------------------------------------------------------------------
 *
 * tenant_session.c
 *	  The session tenant: gtm_set_tenant() and gtm_current_tenant().
 *
 * gtm.tenant holds the tenant of the session (or of the transaction, with
 * is_local); only superusers may SET it, so an application role sets it
 * through gtm_set_tenant(), SECURITY DEFINER, which checks that the tenant
 * exists.  gtm_current_tenant() is a STABLE function the check trusts as a
 * pin value (enforce_pin.c recognises it by its C symbol).
 *
 * A statement pinned by gtm_current_tenant() must see one tenant while it
 * runs, and so must an open cursor: gtm_set_tenant() refuses while an
 * executor of a plan touching a tenant table is running.  Such executors
 * are counted here (tenant_executor_started, from ExecutorStart_hook) and
 * counted off when their memory (es_query_cxt) goes away: at ExecutorEnd,
 * or when an aborted (sub)transaction releases it, since an aborted portal
 * never reaches ExecutorEnd.  This needs no ExecutorEnd hook or transaction
 * callback, so a statement on no tenant table pays for one hook call only.
 *
 * IDENTIFICATION
 *	  src/tenant_session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_set_tenant);
PG_FUNCTION_INFO_V1(gtm_current_tenant);

/*
 * Executors started, and not yet ended, for plans touching a tenant table
 * (dependsOnRole).  Incremented by tenant_executor_started(), decremented by
 * the reset callback of the executor's memory, which runs on every path out
 * of the executor, error and abort included.
 */
static int	tenant_executors = 0;

/* The memory of a counted executor is going away: count it off. */
static void
tenant_executor_done(void *arg)
{
	if (tenant_executors > 0)
		tenant_executors--;
}

/* ExecutorStart_hook's part, after the executor started. */
void
tenant_executor_started(QueryDesc *queryDesc)
{
	MemoryContext cxt;
	MemoryContextCallback *cb;

	if (!queryDesc->plannedstmt->dependsOnRole || IsParallelWorker())
		return;
	cxt = queryDesc->estate->es_query_cxt;
	cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));
	cb->func = tenant_executor_done;
	cb->arg = NULL;
	MemoryContextRegisterResetCallback(cxt, cb);
	tenant_executors++;
}

enum
{
	Q_TENANT_EXISTS
};

static const GtmQueryDef query_defs[] = {
	[Q_TENANT_EXISTS] = {"SELECT 1 FROM %1$s.tenants WHERE id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}},
};
static SPIPlanPtr plans[lengthof(query_defs)];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/*
 * gtm_set_tenant(tenant_id text, is_local boolean DEFAULT false) RETURNS text
 *
 * SECURITY DEFINER: checks the tenant exists, then sets gtm.tenant (which
 * only superusers may SET directly) for the session or the transaction.
 */
Datum
gtm_set_tenant(PG_FUNCTION_ARGS)
{
	char	   *tenant;
	bool		is_local;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		values[1];
	bool		exists;

	gtm_require_arg(fcinfo, 0, "tenant id", "Pass the id of a row of tenants.");
	gtm_require_arg(fcinfo, 1, "is_local",
					"Pass true for the current transaction, false for the session.");
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	is_local = PG_GETARG_BOOL(1);

	if (tenant_executors > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change the session tenant while a statement on tenant-scoped tables is running"),
				 errdetail("A running statement or an open cursor may be pinned by gtm_current_tenant()."),
				 errhint("Call gtm_set_tenant() in a statement of its own, after closing open cursors.")));

	values[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	exists = gtm_query_run(&queries, Q_TENANT_EXISTS, nsp, values, true) > 0;
	SPI_finish();

	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant \"%s\" does not exist", tenant),
				 errhint("Pass the id of a row of tenants (gtm_sign_in returns it).")));

	(void) set_config_option("gtm.tenant", tenant, PGC_SUSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}

/* gtm_current_tenant() RETURNS text STABLE */
Datum
gtm_current_tenant(PG_FUNCTION_ARGS)
{
	if (gtm_session_tenant == NULL || gtm_session_tenant[0] == '\0')
	{
		/*
		 * The planner evaluates stable functions to estimate selectivity;
		 * only the execution of the statement reports the missing tenant.
		 */
		if (planning_depth > 0)
			PG_RETURN_NULL();
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no tenant is set in this session"),
				 errhint("Call gtm_set_tenant(tenant_id) first.")));
	}
	PG_RETURN_TEXT_P(cstring_to_text(gtm_session_tenant));
}
