/*-------------------------------------------------------------------------
 *
 * enforce_hooks.c
 *	  Hook entry points of tenant-scope enforcement.
 *
 * No statement reads, locks, changes or inserts rows of a tenant-scoped
 * table unless the planner can prove they belong to one tenant.  A table is
 * tenant-scoped when it has a column named by gtm.tenant_column (default
 * tenant_id) and lives outside the system schemas (relfacts.c).
 *
 * The hooks only dispatch, in the order a statement meets them:
 *
 *	planner_hook			gtm_planner: decides whether the statement will be
 *							judged (exemptions.c), runs the planner with an
 *							EnforceState, then judges the finished plan
 *							(enforce_judge.c) and reports (enforce_report.c);
 *	  set_rel_pathlist_hook		record_scan (enforce_record.c);
 *	  create_upper_paths_hook	record_writes (enforce_record.c);
 *	Executor*_hook			enforce_executor.c: the pins compared when a
 *							statement starts, the executor frames;
 *	ProcessUtility_hook		enforce_utility_hook.c: COPY, TRUNCATE and LOCK
 *							TABLE (judge_utility, enforce_utility.c; the row
 *							check of COPY FROM, enforce_copy.c), and the
 *							control state of EXPLAIN, REFRESH ...
 *							CONCURRENTLY and ALTER TABLE ... DETACH
 *							PARTITION.
 *
 * Plans touching a tenant table are marked dependsOnRole, as row-level
 * security does, so a plan made for an exempt role never serves another.
 *
 * This file also owns the control state that passes between hooks (the
 * globals below, each saying who sets and resets it); the GUCs are
 * enforce_guc.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_hooks.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"

#include "catalog/pg_namespace.h"
#include "commands/defrem.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "parser/parser.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* ----------------------------------------------------------------
 *		Control state
 * ----------------------------------------------------------------
 */

/*
 * The request for the next planner call (see NextPlanRequest).  Set by
 * gtm_ProcessUtility (explain_only) and gtm_check_statement (collect), each
 * clearing its flag in PG_FINALLY; cleared by gtm_planner when it takes it.
 */
NextPlanRequest next_plan = {false, false, NIL};

/*
 * The state of the innermost planner call that judges, for the planner
 * hooks (which take no argument of ours); NULL when no such call is
 * running.  Set and restored by plan_with_state(), also on error.
 */
EnforceState *cur_state = NULL;

/*
 * > 0 while the planner runs (it evaluates stable functions to estimate;
 * gtm_current_tenant() answers NULL then instead of raising).  Incremented
 * and decremented by plan_with_state(), also on error.
 */
int			planning_depth GTM_HOT_DATA = 0;

/*
 * Is the innermost activity planning (true) or an executor run (false)?
 * A statement executed while an outer statement is planned (a function
 * folded or called to estimate) runs in an executor frame: what it
 * evaluates is checked as execution.  Set by plan_with_state and the
 * executor frames, each putting back the value it found, also on error.
 */
bool		innermost_planning GTM_HOT_DATA = false;

/*
 * The error context stack when the innermost planner call began.  A user
 * function the planner runs (folding an IMMUTABLE one, estimating with a
 * STABLE one) pushes its own error context (SQL and PL/pgSQL functions
 * do), even where it evaluates an expression without an executor frame
 * (PL/pgSQL's simple expressions): so a different stack while planning
 * means a function is running for the planner (planner_runs_function()).
 * Set and restored by plan_with_state(), also on error.
 */
ErrorContextCallback *planner_error_context GTM_HOT_DATA = NULL;

/*
 * Executor runs (ExecutorRun, ExecutorFinish) and utility statements on
 * the stack; with planning_depth they make NESTING_LEVEL().  Incremented
 * by gtm_ExecutorRun, gtm_ExecutorFinish and gtm_ProcessUtility, which put
 * back the value they found, also on error.
 */
int			executor_nesting GTM_HOT_DATA = 0;
int			utility_nesting GTM_HOT_DATA = 0;


/*
 * EXPLAIN statements that measure (ANALYZE, BUFFERS, MEMORY) running
 * (ProcessUtility), each putting back the value it found, also on error:
 * the executor start and run of any statement on tenant tables meanwhile
 * (the one explained, one a function of it or the planner runs, a cursor
 * fetched) is refused to roles that are not exempt (run_statement_pins,
 * refuse_measured_run).
 */
int			explain_analyze_depth GTM_HOT_DATA = 0;

/*
 * Planner calls and executor runs entered inside a foreign-key query (see
 * is_ri_query).  Incremented by plan_with_state, gtm_ExecutorRun and
 * gtm_ExecutorFinish when InNoForceRLSOperation(); put back, also on error.
 */
int			noforce_depth GTM_HOT_DATA = 0;

/*
 * The innermost REFRESH MATERIALIZED VIEW CONCURRENTLY (see RefreshPhase)
 * and ALTER TABLE ... DETACH PARTITION.  Set by gtm_ProcessUtility around
 * the standard call, which puts back the values it found, also on error;
 * refresh_phase moves to REFRESH_COMPARING when gtm_ProcessUtility sees
 * the ANALYZE that begins the comparison (refresh_transient_analyzed).
 */
RefreshPhase refresh_phase = REFRESH_NONE;
Oid			refresh_matview = InvalidOid;
Oid			refresh_transient = InvalidOid;
int			refresh_level = -1;
Oid			detach_partition = InvalidOid;
int			detach_level = -1;

/* Saved hook values */
static planner_hook_type prev_planner_hook = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;
static create_upper_paths_hook_type prev_create_upper_paths_hook = NULL;

/* ----------------------------------------------------------------
 *		Planner hooks
 * ----------------------------------------------------------------
 */

/*
 * Run the next planner with st as the current state (NULL: record
 * nothing).  phase, the REFRESH phase when planning began, is not needed
 * here any more: the phases move in gtm_ProcessUtility.  Everything set
 * here is restored on error.
 */
static PlannedStmt *
plan_with_state(EnforceState *st, RefreshPhase phase, Query *parse,
				const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	EnforceState *saved = cur_state;
	int			saved_noforce = noforce_depth;
	PlannedStmt *volatile result = NULL;

	bool		saved_innermost = innermost_planning;
	ErrorContextCallback *saved_context = planner_error_context;
	PlanningFrame frame = {NULL, CurrentMemoryContext, 0};
	PlanningFrame *saved_frame = planning_frame_push(&frame);

	/* the other extensions' hooks run for real, also inside a shadow plan */
	int			shadow_depth = shadow_suspend();

	cur_state = st;
	planning_depth++;
	innermost_planning = true;
	planner_error_context = error_context_stack;
	if (InNoForceRLSOperation())
		noforce_depth++;
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions,
									   boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions,
									  boundParams);
	}
	PG_FINALLY();
	{
		cur_state = saved;
		planning_depth--;
		innermost_planning = saved_innermost;
		planner_error_context = saved_context;
		noforce_depth = saved_noforce;
		shadow_resume(shadow_depth);
		planning_frame_pop(saved_frame);
	}
	PG_END_TRY();
	if (unlikely(frame.tenant != NULL) && result != NULL)
		plan_carries_tenant(result, frame.tenant);
	return result;
}

/*
 * planner_hook: take the request for this call, decide before planning
 * whether the statement will be judged (the checker's always; otherwise
 * when enforcing and not exempt), plan, and judge the plan if it touches a
 * tenant table: raise (or warn) for the checker's caller or hand the
 * verdicts to the checker.
 */
/* The relations the verdict read beyond those the plan names (plan_depends_on) */
static inline void
add_plan_dependencies(PlannedStmt *result, EnforceState *st)
{
	if (st->depends_on != NIL)
		result->relationOids = list_concat_unique_oid(result->relationOids,
													  st->depends_on);
}

/*
 * A plan made under a measuring EXPLAIN: refused to a role the rule applies
 * to when it names tenant tables.  Also the plan gtm_check_statement makes
 * (collect), whatever the verdicts it collects: the EXPLAIN (ANALYZE,
 * BUFFERS) of a query calling the checker counts the buffers its planning
 * read (round FK F1), unless the caller is exempt.
 */
static pg_noinline void
refuse_measured_planning(bool collect, PlannedStmt *result)
{
	if (result == NULL)
		return;
	if (collect && (gtm_enforcement == GTM_ENFORCE_OFF || role_is_exempt()))
		return;
	refuse_measured_plan(result);
}

static PlannedStmt *
gtm_planner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	NextPlanRequest req = next_plan;
	RefreshPhase phase = refresh_phase;
	EnforceState st;
	PlannedStmt *result;
	bool		judge;
	Query	   *original = NULL;
	List	   *judged = NIL;
	bool		distributed = false;
	bool		distributed_query = false;
	int			dist_settings = -1;
	bool		delegable;
	char	   *folded = NULL;
	QueryNames	names;
	bool		recheck_plan = false;
	DirectPins	dpins = {NIL, NIL};

	next_plan.explain_only = false;
	next_plan.collect = false;

	if (unlikely(distributed_planner_loaded()))
	{
		/* Citus deparses shard queries now (enforce_citus_strings.c) */
		if (!standard_conforming_strings)
			refuse_nonstandard_strings(NULL);
		/* ... with settings every node reads alike (enforce_citus_settings.c) */
		refuse_unshared_settings();
	}

	/* the rule applies only where the extension is installed */
	if (!req.collect && !gtm_installed_here())
		return plan_with_state(NULL, phase, parse, query_string,
							   cursorOptions, boundParams);

	if (planning_depth == 0)
		rel_facts_sweep();	/* no pointer into the facts cache is held */
	st.collect = req.collect;
	st.refs = NIL;
	st.outer_params = NIL;
	st.parse = parse;
	st.first_call_only = false;
	st.glob = NULL;
	st.proven_empty = false;
	st.depends_on = NIL;
	st.all_pinned = false;
	st.any_key_lookup = false;
	st.record_pin_columns = false;
	st.pin_columns = NIL;
	st.write_pin_sources = false;
	st.trusted_writes = NULL;

	judge = req.collect ||
		(gtm_enforcement != GTM_ENFORCE_OFF &&
		 !statement_is_exempt(parse, phase, &recheck_plan));
	if (judge)
		freeze_mutable_pins(parse);

	/*
	 * A distributed planner rewrites the query tree: keep the client's for
	 * a shadow plan (enforce_distributed.c).
	 */
	if (judge && query_names_distributed(parse, &names))
	{
		Query	   *unfolded;

		/*
		 * The database's own functions are evaluated once, for both the
		 * shadow plan and the distributed planner (enforce_citus_fold.c):
		 * a function that answers differently at each call must not give
		 * the judgement one tenant and Citus another.
		 */
		if (names.coordinator_fold)
			parse = fold_own_functions(parse, boundParams);
		if (unlikely(names.reg_constant))
			refuse_reg_constants(parse);
		/* no copy where the records decide (enforce_recorded.c) */
		if (req.collect || !records_decide(parse, &names))
			original = copyObject(parse);
		distributed_query = true;
		unfolded = parse;
		parse = fold_current_tenant(parse, &names);
		if (parse != unfolded)	/* the session tenant is in it */
			folded = pstrdup(gtm_session_tenant);
		/* the pins the query Citus sends holds as written */
		direct_pins_collect(parse, &dpins);
		st.first_call_only = true;
		dist_settings = distributed_settings_begin(parse);
	}
	delegable = query_may_be_delegated(parse);
	result = plan_with_state(judge ? &st : NULL, phase, parse, query_string,
							 cursorOptions, boundParams);

	/*
	 * An exempt role's statement whose plan reaches objects of a role the
	 * check applies to, which only planning brought in (a SQL function in
	 * FROM inlined over a view of that role's): refused, as before planning.
	 */
	if (unlikely(recheck_plan) && result != NULL)
		exempt_plan_reaches_callers(result);

	/*
	 * A write planned without a verdict (an exempt role's, or an exempt
	 * statement's) must not serve another role: a cached UPDATE whose
	 * foreign-key actions write tenant tables names none of them.
	 */
	if (!judge && result != NULL &&
		(result->commandType != CMD_SELECT || result->hasModifyingCTE))
		result->dependsOnRole = true;
	distributed_settings_end(dist_settings);
	if (delegable)
		mark_delegated_call(result);	/* Citus' function call delegation */
	if (folded != NULL)
		mark_folded_plan(result, folded);

	if (distributed_query && plan_is_distributed(result))
	{
		/*
		 * Accepted from what the distributed planner's first call of the
		 * standard planner recorded, if that suffices; else the shadow
		 * plan's verdict (enforce_distributed.c), or, where no copy was
		 * kept for it, its verdict from the records alone (enforce_recorded.c).
		 */
		if (req.collect || st.glob == NULL ||
			(judged = judge_recorded(&st, &names, result)) == NIL)
		{
			if (original == NULL)
				judged = judge_records_alone(&st, &names, result);
			else
			{
				st.refs = NIL;
				st.outer_params = NIL;
				st.parse = original;
				st.first_call_only = false;
				st.glob = NULL;
				judged = judge_distributed(&st, original, query_string,
										   cursorOptions, boundParams, result);
			}
		}
		distributed = true;
		refuse_setting_dependent_tenants(judged);
		direct_pins_apply(judged, &dpins, boundParams);
	}
	else if (!plan_touches_tenant_table(&st, result))
	{
		/* a write whose foreign-key actions were judged (and accepted) */
		add_plan_dependencies(result, &st);
		if (unlikely(explain_analyze_depth > 0) && judge)
			refuse_measured_planning(req.collect, result);
		return result;
	}

	/* a plan made for an exempt role must not serve another role */
	result->dependsOnRole = true;

	if (!distributed && judge)
		judged = judge_plan(&st, result);

	/*
	 * Nor may a plan judged on the catalog rows of relations it does not
	 * name (partitions, referencing tables; also those judge_plan read when
	 * it resolved correlated pins) outlive a change to them.
	 */
	add_plan_dependencies(result, &st);
	if (req.collect)
		next_plan.collected = judged;
	else if (!judge || (!distributed && st.all_pinned))
		;						/* nothing to report: the common case */
	else if (gtm_enforcement == GTM_ENFORCE_WARN || req.explain_only)
		report_verdicts(judged, WARNING);
	else if (!defer_generic_rejection(result, parse, boundParams, judged))
		report_verdicts(judged, ERROR);

	/*
	 * Under EXPLAIN ANALYZE, BUFFERS or MEMORY, a plan on tenant tables is
	 * refused when it is made, after its verdict (enforce_runtime.c).
	 */
	if (unlikely(explain_analyze_depth > 0) && judge)
		refuse_measured_planning(req.collect, result);
	return result;
}

/*
 * set_rel_pathlist_hook: record a base relation's pin.  The planner calls
 * it for every base relation and create_upper_paths_hook for every upper
 * one: each has a variant that chains to another library's hook, installed
 * only when there is one (a call the planner need not make is saved).
 */
static void
gtm_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					 RangeTblEntry *rte)
{
	if (cur_state != NULL && record_this_call(cur_state, root))
		record_scan(cur_state, root, rel, rti, rte);
}

/*
 * A function in FROM whose first argument is a NULL constant, called
 * read_intermediate_result(s) in pg_catalog: Citus 13.2's cost estimate
 * for these (its set_rel_pathlist hook, AdjustReadIntermediateResultCost)
 * reads the constant as text without testing for NULL, and the backend
 * crashes, with every other session of the server (round EM: any role may
 * call them).  Refused before that hook runs.
 */
static void
refuse_null_result_id(RangeTblEntry *rte)
{
	RangeTblFunction *rtfunc;
	FuncExpr   *call;
	Node	   *arg;
	char	   *name;

	if (rte->rtekind != RTE_FUNCTION || list_length(rte->functions) != 1)
		return;
	rtfunc = linitial_node(RangeTblFunction, rte->functions);
	call = (FuncExpr *) rtfunc->funcexpr;
	if (call == NULL || !IsA(call, FuncExpr) || call->args == NIL)
		return;
	arg = linitial(call->args);
	if (!IsA(arg, Const) || !((Const *) arg)->constisnull ||
		get_func_namespace(call->funcid) != PG_CATALOG_NAMESPACE ||
		(name = get_func_name(call->funcid)) == NULL ||
		(strcmp(name, "read_intermediate_result") != 0 &&
		 strcmp(name, "read_intermediate_results") != 0))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("%s() called with a NULL result id", name),
			 errdetail("Citus' planner reads the result id of this call without testing for NULL, which crashes the server."),
			 errhint("Pass the id of an intermediate result.")));
}

static void
gtm_set_rel_pathlist_chained(PlannerInfo *root, RelOptInfo *rel, Index rti,
							 RangeTblEntry *rte)
{
	if (unlikely(rte->rtekind == RTE_FUNCTION))
		refuse_null_result_id(rte);
	if (shadow_planning == 0)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);
	gtm_set_rel_pathlist(root, rel, rti, rte);
}

/* create_upper_paths_hook: record the values a write puts in (final rel). */
static void
gtm_create_upper_paths(PlannerInfo *root, UpperRelationKind stage,
					   RelOptInfo *input_rel, RelOptInfo *output_rel,
					   void *extra)
{
	if (stage == UPPERREL_FINAL && cur_state != NULL &&
		record_this_call(cur_state, root))
	{
		/*
		 * The scan and join relation of the top level of a kept call proved
		 * empty: the plan reads no relation (judge_records_alone)
		 */
		if (cur_state->first_call_only && root->parent_root == NULL)
		{
			RelOptInfo *scanjoin = bms_membership(root->all_baserels) == BMS_MULTIPLE ?
				find_join_rel(root, root->all_baserels) : NULL;

			if (scanjoin != NULL && IS_DUMMY_REL(scanjoin))
				cur_state->proven_empty = true;
		}
		record_writes(cur_state, root);
	}
}

static void
gtm_create_upper_paths_chained(PlannerInfo *root, UpperRelationKind stage,
							   RelOptInfo *input_rel, RelOptInfo *output_rel,
							   void *extra)
{
	if (shadow_planning == 0)
		prev_create_upper_paths_hook(root, stage, input_rel, output_rel, extra);
	gtm_create_upper_paths(root, stage, input_rel, output_rel, extra);
}

/* ----------------------------------------------------------------
 *		Initialisation
 * ----------------------------------------------------------------
 */

/* Called by _PG_init: GUCs, cache callbacks, then the hooks, chained. */
void
gtm_enforce_init(void)
{
	enforce_guc_init();
	enforce_report_init();
	rel_facts_init();
	enforce_pin_init();
	exemptions_init();
	citus_lock_init();
	citus_strings_init();
	citus_settings_init();
	tenant_temp_init();
	planning_frames_init();
	function_facts_init();
	enforce_stats_init();
	enforce_executor_init();

	prev_planner_hook = planner_hook;
	planner_hook = gtm_planner;
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = prev_set_rel_pathlist_hook ?
		gtm_set_rel_pathlist_chained : gtm_set_rel_pathlist;
	prev_create_upper_paths_hook = create_upper_paths_hook;
	create_upper_paths_hook = prev_create_upper_paths_hook ?
		gtm_create_upper_paths_chained : gtm_create_upper_paths;
	enforce_utility_hook_init();
}
