/*-------------------------------------------------------------------------
 *
 * tenant_set.c
 *	  gtm_set_tenant() and gtm_current_tenant(): the session tenant as the
 *	  application sets and reads it.
 *
 * gtm_set_tenant(), SECURITY DEFINER, sets gtm.tenant (which only
 * superusers may SET) for the transaction or, where a superuser allows it,
 * for the session, once the tenant exists, its Clerk organization was not
 * deleted, and nothing the connection keeps (a running statement on tenant
 * tables, temporary objects or SQL-prepared statements of an earlier
 * request: tenant_session.c, tenant_temp.c) would cross into the new
 * tenant.  gtm_current_tenant() reads it: the pin value the check trusts
 * (enforce_pin.c), NULL inside a function the planner runs.  gtm_pin()
 * and statement_scope_reach() fix the running statement's tenant from a
 * value (a frozen pin, a settings function's tenant) as a pinned
 * statement's start does (tenant_session.c).
 *
 * IDENTIFICATION
 *	  src/tenant_set.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_set_tenant);
PG_FUNCTION_INFO_V1(gtm_current_tenant);
PG_FUNCTION_INFO_V1(gtm_pin);

enum
{
	Q_TENANT_EXISTS,
	Q_TENANT_ORG_DELETED
};

static const GtmQueryDef query_defs[] = {
	[Q_TENANT_EXISTS] = {"SELECT 1 FROM %1$s.tenants WHERE id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}},
	/* (1.1.0: Clerk's deleted organizations, whose tenant row may be kept) */
	[Q_TENANT_ORG_DELETED] = {"SELECT t.clerk_org_id, EXISTS (SELECT 1 FROM %1$s.clerk_sync_state s"
		" WHERE s.clerk_org_id OPERATOR(pg_catalog.=) t.clerk_org_id"
		" AND s.clerk_user_id OPERATOR(pg_catalog.=) '' AND s.deleted)"
		" FROM %1$s.tenants t WHERE t.id OPERATOR(pg_catalog.=) $1",
	1, {TEXTOID}},
};
static SPIPlanPtr plans[lengthof(query_defs)];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/*
 * gtm_set_tenant(tenant text, is_local boolean DEFAULT true) RETURNS text
 *
 * SECURITY DEFINER: checks the tenant exists, then sets gtm.tenant (which
 * only superusers may SET directly) for the transaction or, when
 * gtm.allow_session_tenant is on, for the session.  Transaction scope
 * called by a statement sent outside a transaction block lasts only until
 * that statement ends: a WARNING says so, as for SET LOCAL.
 */
Datum
gtm_set_tenant(PG_FUNCTION_ARGS)
{
	char	   *tenant;
	bool		is_local;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		values[1];
	bool		exists;
	bool		org_deleted = false;
	char	   *org_id = NULL;
	MemoryContext caller_cxt;

	gtm_require_arg(fcinfo, 0, "tenant id", "Pass the id of a row of tenants.");
	gtm_require_arg(fcinfo, 1, "is_local",
					"Pass true (the default) for the current transaction.");
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	is_local = PG_GETARG_BOOL(1);

	if (!is_local && !gtm_allow_session_tenant)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a tenant for the whole session is not allowed"),
				 errdetail("gtm.allow_session_tenant is off: a session tenant outlives the transaction, and a connection pool hands the connection, with its tenant, to the next request."),
				 errhint("Set the tenant in each request's transaction: BEGIN; SELECT gtm_set_tenant($1); ...; COMMIT;")));

	/* not under a running statement on tenant tables (tenant_session.c) */
	if (!statement_scope_allows_switch(tenant))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change the session tenant while a statement on tenant-scoped tables is running"),
				 errdetail("A running statement or an open cursor may be pinned by gtm_current_tenant()."),
				 errhint("Call gtm_set_tenant() in a statement of its own, after closing open cursors.")));

	/*
	 * The tenant set is reached by the running statement, before anything
	 * of it is read (its row; for the three-argument form, its members):
	 * no later part of the statement may reach another, even when this
	 * call fails and is caught.
	 */
	statement_scope_reach(tenant, "\"tenants\" (through gtm_set_tenant())", true);

	/* nor on a connection that keeps an earlier request's temporary objects */
	check_no_earlier_temp_objects();

	values[0] = PG_GETARG_DATUM(0);
	caller_cxt = CurrentMemoryContext;
	SPI_connect();
	if (!OidIsValid(get_relname_relid("clerk_sync_state", nsp)))
		exists = gtm_query_run(&queries, Q_TENANT_EXISTS, nsp, values, true) > 0;
	else if ((exists = gtm_query_run(&queries, Q_TENANT_ORG_DELETED, nsp, values, true) > 0))
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);

		org_deleted = !isnull && DatumGetBool(d);
		if (org_deleted)
		{
			/* copied out of SPI's memory, which SPI_finish frees */
			char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

			if (v != NULL)
				org_id = MemoryContextStrdup(caller_cxt, v);
		}
	}
	SPI_finish();

	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant \"%s\" does not exist", tenant),
				 errhint("Pass the id of a row of tenants (gtm_sign_in returns it).")));

	/*
	 * Clerk deleted its organization, and gtm_apply_clerk_event kept the
	 * row (a table whose key or triggers it must not run): no request works
	 * in it any more (round CG); an operator's gtm_delete_tenant removes it.
	 */
	if (org_deleted)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("organization \"%s\" of tenant \"%s\" was deleted",
						org_id ? org_id : "", tenant),
				 errdetail("Clerk's organization.deleted event for it was applied; the tenant's rows are kept only until an operator deletes them."),
				 errhint("Run SELECT * FROM gtm_delete_tenant(%s) as a role that may run the triggers of its tables.",
						 quote_literal_cstr(tenant))));

	/*
	 * Called directly by a statement the client sent outside a transaction
	 * block: the tenant is gone when that statement ends.  Not from a DO
	 * block, a procedure (utility_nesting), a statement a function runs
	 * (executor_nesting), nor from a function's own expressions (PL/pgSQL
	 * evaluates simple ones without an executor; every PL and SQL function
	 * has an error context callback pushed while it runs), whose later
	 * statements use the tenant.  A statement of the extended protocol
	 * runs under the callback that reports its parameters.
	 */
	if (is_local && !IsTransactionBlock() && executor_nesting <= 1 &&
		utility_nesting == 0 &&
		(error_context_stack == NULL ||
		 (error_context_stack->callback == ParamsErrorCallback &&
		  error_context_stack->previous == NULL)))
		ereport(WARNING,
				(errcode(ERRCODE_NO_ACTIVE_SQL_TRANSACTION),
				 errmsg("gtm_set_tenant() can only be used in transaction blocks"),
				 errdetail("The tenant is set for the current transaction, which ends with this statement."),
				 errhint("Set the tenant in each request's transaction: BEGIN; SELECT gtm_set_tenant($1); ...; COMMIT;")));

	(void) set_config_option("gtm.tenant", tenant, PGC_SUSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	gtm_member_forget(is_local);	/* member_session.c */
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}

/* gtm_current_tenant() RETURNS text STABLE */
Datum
gtm_current_tenant(PG_FUNCTION_ARGS)
{
	/*
	 * Evaluated by a function the planner runs (an IMMUTABLE wrapper it
	 * folds, SQL or PL/pgSQL, a function it calls to estimate): the value
	 * could be folded into a plan that a later request, of another tenant,
	 * executes from a plan cache.  NULL pins nothing (fail closed); the
	 * planner's own estimates, which call this function directly, still
	 * get the tenant.
	 */
	if (planner_runs_function())
		PG_RETURN_NULL();
	if (gtm_session_tenant == NULL || gtm_session_tenant[0] == '\0')
	{
		/*
		 * The planner evaluates stable functions to estimate selectivity;
		 * only the execution of the statement reports the missing tenant.
		 */
		if (innermost_planning)
			PG_RETURN_NULL();
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no tenant is set in this session"),
				 errhint("Set the tenant in each request's transaction: BEGIN; SELECT gtm_set_tenant($1); ...; COMMIT;")));
	}
	PG_RETURN_TEXT_P(cstring_to_text(gtm_session_tenant));
}

/*
 * A function of the extension reads or changes the data of tenant_id for
 * its caller (the settings functions): that reaches tenant_id, as a pinned
 * statement would.  what names the access in a message.  definer: the
 * function is SECURITY DEFINER, so its caller is the outer user.  Exempt
 * callers are not checked.
 */
void
statement_scope_reach(const char *tenant_id, const char *what, bool definer)
{
	Oid			caller = definer ? GetOuterUserId() : GetUserId();

	/*
	 * Also while the statement is planned: a function the planner folds or
	 * calls to estimate (an IMMUTABLE wrapper, a PL/pgSQL simple
	 * expression) reads and writes for real.
	 */
	if (gtm_enforcement == GTM_ENFORCE_OFF ||
		superuser_arg(caller) || has_bypassrls_privilege(caller))
		return;

	/*
	 * In a parallel worker the running statement's tenant is the leader's,
	 * which the worker does not share: refused, as a statement on tenant
	 * tables is there (a PARALLEL SAFE wrapper of these functions).  Inside
	 * a foreign-key action only user code (a trigger of the rows it
	 * reaches) calls them, and user code there is checked like anywhere.
	 */
	if (IsParallelWorker())
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("%s cannot run inside a parallel worker", what),
				 errdetail("The tenant of the running statement is checked in the leader process."),
				 errhint("Mark the function that calls it PARALLEL RESTRICTED.")));
	statement_scope_check(tenant_id, psprintf("0:%s", what), ENFORCE_ELEVEL());
}

/* gtm_pin(value anyelement) RETURNS anyelement STABLE PARALLEL RESTRICTED */
Datum
gtm_pin(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();

	/*
	 * The planner evaluates stable functions to estimate selectivity: only
	 * execution fixes the tenant.
	 */
	if (!innermost_planning && gtm_enforcement != GTM_ENFORCE_OFF &&
		!IsParallelWorker() && !role_is_exempt())
	{
		statement_scope_check(tenant_value_text(PG_GETARG_DATUM(0),
												get_fn_expr_argtype(fcinfo->flinfo, 0)),
							  NULL, ENFORCE_ELEVEL());
	}
	PG_RETURN_DATUM(PG_GETARG_DATUM(0));
}
