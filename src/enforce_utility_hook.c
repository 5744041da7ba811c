/*-------------------------------------------------------------------------
 *
 * enforce_utility_hook.c
 *	  Utility hook entry point of tenant-scope enforcement.
 *
 * ProcessUtility_hook		gtm_ProcessUtility: a raw parse tree refused;
 *							COPY table FROM rewritten to check every row
 *							(copy_from_checked, enforce_copy.c); then
 *							process_utility: COPY, TRUNCATE and LOCK TABLE
 *							judged (check_utility_statement,
 *							enforce_utility.c) before the standard call
 *							and, for TRUNCATE and LOCK TABLE, again after
 *							it; the refusals of the other files that a
 *							utility statement asks for; the utility frame
 *							counted; the control state of EXPLAIN,
 *							REFRESH ... CONCURRENTLY and ALTER TABLE ...
 *							DETACH PARTITION set for the planner calls they
 *							make, and put back on every path out.
 *
 * The control state is enforce_hooks.c's, as are the planner hooks; the
 * executor hooks are enforce_executor.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_utility_hook.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* Saved hook value */
static ProcessUtility_hook_type prev_ProcessUtility_hook = NULL;

/*
 * The body of ProcessUtility_hook: judge COPY, TRUNCATE and LOCK TABLE; count the
 * utility frame; set the control state of EXPLAIN, REFRESH ...
 * CONCURRENTLY and ALTER TABLE ... DETACH PARTITION for the planner calls
 * they make, and put it back on every path out.
 */
static void
process_utility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	int			saved_utility = utility_nesting;
	RefreshPhase saved_phase;
	Oid			saved_matview = refresh_matview;
	Oid			saved_transient;
	int			saved_refresh_level = refresh_level;
	Oid			saved_partition = detach_partition;
	int			saved_detach_level = detach_level;
	int			saved_explain_analyze = explain_analyze_depth;
	int			saved_deferred;
	Oid			transient;
	bool		warned;

	warned = check_utility_statement(parsetree);
	exempt_utility_reaches_callers(parsetree);	/* exempt_callers.c */
	/* a client's named statement that is a utility (COMMIT): its name */
	if (ActivePortal != NULL && ActivePortal->prepStmtName != NULL &&
		context == PROCESS_UTILITY_TOPLEVEL)
		note_client_statement(ActivePortal->prepStmtName);
	if (IsA(parsetree, PrepareStmt))
		note_sql_prepare((PrepareStmt *) parsetree);	/* tenant_temp.c */
	else if (IsA(parsetree, DeallocateStmt))
	{
		refuse_nested_deallocate(context == PROCESS_UTILITY_TOPLEVEL);
		reserve_client_statements(parsetree);
	}
	else if (IsA(parsetree, DiscardStmt) &&
			 ((DiscardStmt *) parsetree)->target == DISCARD_ALL)
		reserve_client_statements(parsetree);
	else if (IsA(parsetree, TransactionStmt))
	{
		refuse_begin_in_transaction((TransactionStmt *) parsetree);
		refuse_two_phase_commit((TransactionStmt *) parsetree);
	}
	else if (IsA(parsetree, DeclareCursorStmt))
		refuse_held_cursor((DeclareCursorStmt *) parsetree);	/* tenant_request_bounds.c */
	else if (IsA(parsetree, VariableSetStmt) &&
			 ((VariableSetStmt *) parsetree)->kind == VAR_RESET_ALL)
		refuse_reset_all_under_statement();	/* tenant_session.c */
	if (unlikely(distributed_planner_loaded()))
		mark_distributed_command(parsetree);

	if (IsA(parsetree, ExplainStmt) && gtm_enforcement != GTM_ENFORCE_OFF)
	{
		next_plan.explain_only = explain_is_plan_only((ExplainStmt *) parsetree);
		if (explain_measures((ExplainStmt *) parsetree))
			explain_analyze_depth++;
	}

	/* the REFRESH running at this level starts comparing */
	transient = refresh_transient_analyzed(parsetree);
	if (OidIsValid(transient))
	{
		refresh_phase = REFRESH_COMPARING;
		refresh_transient = transient;
	}
	saved_phase = refresh_phase;
	saved_transient = refresh_transient;

	utility_nesting++;
	if (IsA(parsetree, RefreshMatViewStmt) &&
		((RefreshMatViewStmt *) parsetree)->concurrent)
	{
		refresh_phase = REFRESH_DEFINITION;
		refresh_matview = RangeVarGetRelid(((RefreshMatViewStmt *) parsetree)->relation,
										   NoLock, true);
		refresh_transient = InvalidOid;
		refresh_level = NESTING_LEVEL();
	}
	detach_partition = detach_partition_of(parsetree);
	if (OidIsValid(detach_partition))
		detach_level = NESTING_LEVEL();
	statement_scope_utility_enter();
	saved_deferred = statement_scope_deferred_enter(parsetree);

	PG_TRY();
	{
		if (prev_ProcessUtility_hook)
			prev_ProcessUtility_hook(pstmt, queryString, readOnlyTree, context,
									 params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		next_plan.explain_only = false;
		explain_analyze_depth = saved_explain_analyze;
		utility_nesting = saved_utility;
		refresh_phase = saved_phase;
		refresh_matview = saved_matview;
		refresh_transient = saved_transient;
		refresh_level = saved_refresh_level;
		detach_partition = saved_partition;
		detach_level = saved_detach_level;
		statement_scope_deferred_exit(saved_deferred);
		statement_scope_utility_exit();
	}
	PG_END_TRY();

	/*
	 * Judged again holding its locks: what the names denote may have changed
	 * while it waited for them (round EU: a REFRESH ... WITH NO DATA waiting
	 * behind a migration that replaced the view by a tenant-scoped one of
	 * the same name emptied it); raising rolls it back.
	 */
	if (!warned && (IsA(parsetree, TruncateStmt) || IsA(parsetree, LockStmt) ||
					IsA(parsetree, VacuumStmt) || IsA(parsetree, ClusterStmt) ||
					IsA(parsetree, ReindexStmt) || IsA(parsetree, RefreshMatViewStmt)))
		(void) check_utility_statement(parsetree);
	if (IsA(parsetree, DeallocateStmt) ||
		(IsA(parsetree, DiscardStmt) && ((DiscardStmt *) parsetree)->target == DISCARD_ALL))
		forget_sql_prepared();	/* the statements gone (tenant_temp.c) */
	else if (IsA(parsetree, PrepareStmt) && role_is_exempt())
		note_exempt_prepared((PrepareStmt *) parsetree);
	if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from &&
		((CopyStmt *) parsetree)->relation != NULL)
		statement_scope_note_deferred_copy(RangeVarGetRelid(((CopyStmt *) parsetree)->relation,
															NoLock, true));
}

/* Does a statement that holds an analysed query hold a raw one instead? */
static bool
utility_query_unanalysed(Node *stmt)
{
	Node	   *query;

	if (IsA(stmt, CreateTableAsStmt))
		query = ((CreateTableAsStmt *) stmt)->query;
	else if (IsA(stmt, ExplainStmt))
		query = ((ExplainStmt *) stmt)->query;
	else if (IsA(stmt, DeclareCursorStmt))
		query = ((DeclareCursorStmt *) stmt)->query;
	else if (IsA(stmt, CallStmt))
		return ((CallStmt *) stmt)->funcexpr == NULL;	/* set by the analysis */
	else
		return false;
	return query == NULL || !IsA(query, Query);
}

/*
 * ProcessUtility_hook.  COPY table FROM, by a role that is not exempt, runs
 * as the statement copy_from_checked makes of it: the table locked and
 * named by schema, and with the session's tenant, every row checked
 * (enforce_copy.c).
 */
static void
gtm_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Oid			copied = InvalidOid;	/* the table a COPY FROM writes */

	/*
	 * A statement whose query PostgreSQL executes as analysed, passed as a
	 * raw parse tree: Citus' worker_apply_shard_ddl_command(), executable by
	 * PUBLIC, does so with the command text it is given, and CREATE TABLE
	 * AS or EXPLAIN of a raw query (round EM), or a CALL (round EO), crashes
	 * the backend and every other session.  Refused.
	 */
	if (unlikely(utility_query_unanalysed(pstmt->utilityStmt)))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot run %s whose query was not analysed",
						GetCommandTagName(CreateCommandTag(pstmt->utilityStmt))),
				 errdetail("The statement reached ProcessUtility as a raw parse tree (Citus' worker_apply_shard_ddl_command() passes one), which PostgreSQL cannot run."),
				 errhint("Run the statement itself.")));

	/* Citus deparses the commands it propagates (enforce_citus_strings.c) */
	if (unlikely(!standard_conforming_strings) && distributed_planner_loaded())
		refuse_nonstandard_strings(pstmt->utilityStmt);
	/* a CALL of a portal bound earlier: what its Bind reached (tenant_portal_bind.c) */
	statement_scope_utility_start();
	if (IsA(pstmt->utilityStmt, CopyStmt) &&
		gtm_enforcement != GTM_ENFORCE_OFF && !role_is_exempt())
		pstmt = copy_from_checked(pstmt, &copied);
	else if (IsA(pstmt->utilityStmt, CallStmt))
		check_distributed_call((CallStmt *) pstmt->utilityStmt);
	process_utility(pstmt, queryString, readOnlyTree, context, params,
					queryEnv, dest, qc);
	/* a partition another session attached while the COPY ran */
	if (OidIsValid(copied))
		refuse_attached_generated_partitions(NULL, copied, 0);
#if PG_VERSION_NUM < 170000
	/* a partition computing the tenant column, attached (enforce_attach.c) */
	if (IsA(pstmt->utilityStmt, AlterTableStmt))
		refuse_generating_partition_attached(pstmt->utilityStmt);
#endif
	/* and may not turn it off (enforce_citus_strings.c) */
	if (unlikely(!standard_conforming_strings) && distributed_planner_loaded())
		refuse_standard_strings_turned_off();
}

/* Called once from gtm_enforce_init, last: the utility hook, chained. */
void
enforce_utility_hook_init(void)
{
	prev_ProcessUtility_hook = ProcessUtility_hook;
	ProcessUtility_hook = gtm_ProcessUtility;
}
