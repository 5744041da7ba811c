/*-------------------------------------------------------------------------
 *
 * enforce_executor.c
 *	  Executor hook entry points of tenant-scope enforcement.
 *
 * ExecutorStart_hook		the statement's pins compared when it starts
 *							(run_statement_pins, enforce_runtime.c), after
 *							the executor count of tenant_session.c;
 * ExecutorRun_hook,		the executor frames: the nesting of executors,
 * ExecutorFinish_hook		for exemptions.c and tenant_session.c; and the
 *							partitions rows were routed to, which another
 *							session may have attached since planning
 *							(refuse_attached_generated_partitions, also
 *							called after COPY FROM);
 * ExecutorCheckPerms_hook	fk_initial_check_allowed (exemptions.c).
 *
 * The planner hooks, and the control state they share with these, are
 * enforce_hooks.c's; the utility hook is enforce_utility_hook.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_executor.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "miscadmin.h"
#include "parser/parser.h"
#include "partitioning/partdesc.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"
#include "gtm_clarity.h"

static ExecutorStart_hook_type prev_ExecutorStart_hook GTM_HOT_DATA = NULL;
static ExecutorRun_hook_type prev_ExecutorRun_hook GTM_HOT_DATA = NULL;
static ExecutorFinish_hook_type prev_ExecutorFinish_hook GTM_HOT_DATA = NULL;
static ExecutorCheckPerms_hook_type prev_ExecutorCheckPerms_hook GTM_HOT_DATA = NULL;

/* The previous hook's start, or the standard one */
static inline void
executor_start(QueryDesc *queryDesc, int eflags)
{
	if (prev_ExecutorStart_hook)
		prev_ExecutorStart_hook(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);
}

/*
 * ExecutorStart_hook: once the executor has started (nothing is read before
 * ExecutorRun), count it as part of the running top-level statement, then
 * check the statement's pins, which may fix that statement's tenant.  In
 * this order, an error in either leaves nothing behind: the count goes
 * with the executor's memory.
 */
static void
gtm_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	/* a statement on tenant tables that user code runs in a parallel worker */
	if (unlikely(IsParallelWorker()))
		refuse_parallel_worker_statement(queryDesc);
	/* a statement SQL PREPARE made, bound by the protocol (tenant_temp.c) */
	refuse_bound_sql_prepared();
	/* deferred pruning deparses shard queries now (enforce_citus_strings.c) */
	if (unlikely(!standard_conforming_strings) && distributed_planner_loaded())
		refuse_nonstandard_strings(NULL);

	/* the marks of a distributed plan (Citus), made only where it is loaded */
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		queryDesc->plannedstmt->invalItems != NIL && distributed_planner_loaded())
		check_distributed_start(queryDesc->plannedstmt);
	/* a statement pinned through a unique key reads its tenant's rows only */
	if ((eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0 &&
		queryDesc->plannedstmt->invalItems != NIL &&
		gtm_enforcement != GTM_ENFORCE_OFF && !IsParallelWorker() &&
		plan_has_key_pins(queryDesc->plannedstmt))
		filter_key_pinned_plan(queryDesc);
	/*
	 * A statement started while the planner runs a function (one it folds,
	 * one it calls to estimate) runs without parallel workers: a worker
	 * copies gtm.tenant but not the planner's state, so gtm_current_tenant()
	 * would answer the session tenant there, where the leader, which
	 * compared the pins, had no tenant (round CO: T2's rows folded into a
	 * statement on T1).  Its plan, maybe a cached one, is left as it is:
	 * the executor runs a copy of the PlannedStmt without parallel mode (as
	 * PostgreSQL runs a cursor's Gather), with its Gather in the leader.
	 */
	if (unlikely(planner_runs_function()) && queryDesc->plannedstmt->parallelModeNeeded)
	{
		PlannedStmt *serial = palloc(sizeof(PlannedStmt));

		memcpy(serial, queryDesc->plannedstmt, sizeof(PlannedStmt));
		serial->parallelModeNeeded = false;
		queryDesc->plannedstmt = serial;
	}
	/*
	 * The session tenant may not change while a tenant plan starts either,
	 * where Citus is loaded: it evaluates the functions of a distributed
	 * write during the start, after the tenant it folded for
	 * gtm_current_tenant() was compared (round EM: gtm_set_tenant(V) in the
	 * VALUES of an INSERT pinned so to A read V's rows into A's; the folded
	 * tenant is also reached before, check_distributed_start).  PostgreSQL
	 * itself runs code of the statement during the start only for initial
	 * partition pruning, before the statement's pins are compared with the
	 * session tenant as it then is, and after any statement of it that
	 * read a tenant, which fixed the statement's tenant.
	 */
	if (unlikely(distributed_planner_loaded()) &&
		queryDesc->plannedstmt->dependsOnRole && gtm_enforcement != GTM_ENFORCE_OFF)
	{
		int			starting = tenant_executors_starting++;

		PG_TRY();
		{
			executor_start(queryDesc, eflags);
		}
		PG_FINALLY();
		{
			tenant_executors_starting = starting;
		}
		PG_END_TRY();
	}
	else
		executor_start(queryDesc, eflags);

	statement_scope_executor_started(queryDesc);
	run_statement_pins(queryDesc, eflags);	/* and the unique-key pins */
	if (unlikely(distributed_planner_loaded()))
	{
		/* Citus wrote its shard queries while it started (BeginScan) */
		refuse_unshared_settings();
		mark_distributed_task(queryDesc, eflags);
	}
}


/* The frame counters an executor frame saves and puts back */
typedef struct ExecutorFrame
{
	int			executor_nesting;
	int			noforce_depth;
	bool		innermost_planning;
} ExecutorFrame;

/*
 * Enter an executor frame (user code of a statement runs inside ExecutorRun
 * and ExecutorFinish: triggers, defaults, constraints, functions), noting
 * whether it was entered inside a foreign-key query.
 */
static ExecutorFrame
executor_frame_enter(void)
{
	ExecutorFrame saved = {executor_nesting, noforce_depth, innermost_planning};

	executor_nesting++;
	innermost_planning = false;
	if (InNoForceRLSOperation())
		noforce_depth++;
	return saved;
}

/* Leave it, on every path out (called in PG_FINALLY). */
static void
executor_frame_exit(ExecutorFrame saved)
{
	executor_nesting = saved.executor_nesting;
	noforce_depth = saved.noforce_depth;
	innermost_planning = saved.innermost_planning;
}

/* The executor call an executor frame makes */
typedef enum FrameCall
{
	FRAME_RUN,
	FRAME_FINISH
} FrameCall;

/*
 * Make an executor call (the previous hook's or the standard one) inside
 * an executor frame, which is left on every path out.  One function for
 * ExecutorRun and ExecutorFinish, so that a statement's two frames share
 * their code (its error handling included) in the instruction cache.
 */
static pg_noinline void
executor_frame_call(FrameCall call, QueryDesc *queryDesc,
					ScanDirection direction, uint64 count
					GTM_EXECUTOR_RUN_EXTRA_PARAM)
{
	ExecutorFrame saved;

	/*
	 * An executor run while the planner folds a function (a FETCH from an
	 * open cursor): what it returns goes into the plan, with the tenant of
	 * the top-level statement the cursor belongs to.
	 */
	if (unlikely(planning_depth > 0) && statement_scope_tenant_as_is() != NULL)
		planning_reached(statement_scope_tenant_as_is());
	/* a cursor opened inside planning, read outside it (tenant_session.c) */
	if (unlikely(planner_executors > 0) && call == FRAME_RUN)
		refuse_run_after_planning(queryDesc);
	/* a cursor's rows fetched under EXPLAIN ANALYZE or BUFFERS (enforce_runtime.c) */
	if (unlikely(explain_analyze_depth > 0) && call == FRAME_RUN)
		refuse_measured_run(queryDesc);
	/* a cursor of an ordinary role fetched by an exempt one (tenant_session.c) */
	if (call == FRAME_RUN && gtm_enforcement != GTM_ENFORCE_OFF &&
		unlikely(role_is_exempt()))
		refuse_exempt_run_of_callers_executor(queryDesc);

	saved = executor_frame_enter();

	PG_TRY();
	{
		if (call == FRAME_RUN)
		{
			if (prev_ExecutorRun_hook)
				prev_ExecutorRun_hook(queryDesc, direction, count
									  GTM_EXECUTOR_RUN_EXTRA_ARG);
			else
				standard_ExecutorRun(queryDesc, direction, count
									 GTM_EXECUTOR_RUN_EXTRA_ARG);
		}
		else
		{
			if (prev_ExecutorFinish_hook)
				prev_ExecutorFinish_hook(queryDesc);
			else
				standard_ExecutorFinish(queryDesc);
			statement_scope_note_deferred(queryDesc);
		}
	}
	PG_FINALLY();
	{
		executor_frame_exit(saved);
	}
	PG_END_TRY();
}

/* ExecutorRun_hook: the standard run inside an executor frame. */
static void
gtm_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction, uint64 count
				GTM_EXECUTOR_RUN_EXTRA_PARAM)
{
	executor_frame_call(FRAME_RUN, queryDesc, direction, count
						GTM_EXECUTOR_RUN_EXTRA_ARG);
}

/*
 * Are the partitions a write of this role routes rows to judged?  Not for
 * an exempt role; in a foreign-key action, which ri_triggers.c runs as the
 * owner of the table it writes (a superuser, often), the role of the
 * statement that fired it counts (round EG: a cascade of a statement
 * pinned to t-1 routed a row to a partition attached meanwhile).
 */
static bool
routing_judged(void)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here())
		return false;
	return !(InNoForceRLSOperation() ? role_oid_is_exempt(GetOuterUserId()) :
			 role_is_exempt());
}

/*
 * A partition a write routed rows to (or, for COPY FROM, any partition of
 * its table), relid, under root: refused if it computes its tenant column
 * (GENERATED) while root does not.  The planner judged the write on the
 * partitions the table had then (tenant_column_generated refuses a write
 * that may reach such a partition), but ATTACH PARTITION takes a lock no
 * write conflicts with: another session may attach one and commit while
 * the statement runs, and PostgreSQL looks a sub-partitioned partition's
 * partitions up, and an UPDATE its destination, when it first routes a
 * row there (round EF: rows of tenant t-2 written by statements pinned to
 * t-1).  PostgreSQL 17 and later refuse to attach such a partition, and
 * on 15 and 16 the extension does (enforce_attach.c), so this finds one
 * only where a partition was attached before the extension was created,
 * or before its column became the tenant column: a second line.
 */
static void
refuse_generated_partition(Oid relid, Oid root)
{
	RelFacts   *f = rel_facts(relid);

	/*
	 * The partition's own exemption does not count: the statement writes
	 * the root, judged as the root (tenant_column_generated; round EJ: a
	 * partition exempted, then attached while a write ran, took t-2 rows).
	 */
	if (!f->tenant || !f->generated_tenant)
		return;
	f = rel_facts(root);
	if (!f->tenant || f->exempt || f->generated_tenant)
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("tenant-scoped table \"%s\" is not pinned to one tenant",
					get_rel_name(root)),
			 errdetail("Its partition \"%s\", attached while the statement ran, computes %s from other columns: the statement wrote a tenant the check did not see.",
					   get_rel_name(relid), tenant_column_name(relid)),
			 errhint("Make %s an ordinary column of every partition and write the tenant into it.",
					 tenant_column_name(relid)),
			 err_tenant_scope(relid)));
}

/*
 * The partitions rows of the statement of estate were routed to (a root
 * result relation each), or, with estate NULL, every partition of the
 * table a COPY FROM wrote (copy_root), looked up now: a partition attached
 * before this is seen, and no row is routed after it.
 */
void
refuse_attached_generated_partitions(EState *estate, Oid copy_root, int from)
{
	ListCell   *lc;

	if (!routing_judged())
		return;
	if (estate != NULL)
	{
		for_each_from(lc, estate->es_tuple_routing_result_relations, from)
		{
			ResultRelInfo *rri = lfirst(lc);

			if (rri->ri_RootResultRelInfo != NULL)
				refuse_generated_partition(RelationGetRelid(rri->ri_RelationDesc),
										   RelationGetRelid(rri->ri_RootResultRelInfo->ri_RelationDesc));
		}
		return;
	}
	if (!OidIsValid(copy_root) || !rel_facts(copy_root)->has_children)
		return;
	foreach(lc, inheritors_in_catalog(copy_root, NoLock))
		if (lfirst_oid(lc) != copy_root)
			refuse_generated_partition(lfirst_oid(lc), copy_root);
}

/* ExecutorFinish_hook: the standard finish (AFTER triggers) in a frame. */
static void
gtm_ExecutorFinish(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;
	int			routed;

	/*
	 * A SELECT without data-modifying CTEs runs in skip-triggers mode
	 * (standard_ExecutorStart: it "can't possibly queue triggers") and has
	 * no auxiliary ModifyTable to finish: the standard finish runs no code
	 * of anyone's, and queues nothing deferred, so it needs no frame.
	 */
	if (prev_ExecutorFinish_hook == NULL &&
		queryDesc->operation == CMD_SELECT && estate != NULL &&
		(estate->es_top_eflags & EXEC_FLAG_SKIP_TRIGGERS) != 0 &&
		estate->es_auxmodifytables == NIL)
	{
		standard_ExecutorFinish(queryDesc);
		return;
	}
	/* before the AFTER triggers, which would see the rows */
	routed = estate != NULL ? list_length(estate->es_tuple_routing_result_relations) : 0;
	if (unlikely(routed > 0))
		refuse_attached_generated_partitions(estate, InvalidOid, 0);
	executor_frame_call(FRAME_FINISH, queryDesc, NoMovementScanDirection, 0
						GTM_EXECUTOR_RUN_EXTRA_UNUSED);

	/*
	 * and after, the partitions routed to since: the standard finish runs
	 * the data-modifying CTEs the query did not read to their end
	 * (ExecPostprocessPlan), which route rows too (round EH)
	 */
	if (unlikely(estate != NULL &&
				 list_length(estate->es_tuple_routing_result_relations) > routed))
		refuse_attached_generated_partitions(estate, InvalidOid, routed);
}

/*
 * ExecutorCheckPerms_hook: the permission check without raising that
 * RI_Initial_Check asks for (see fk_initial_check_allowed).
 */
static bool
gtm_ExecutorCheckPerms(List *rangeTable GTM_CHECK_PERMS_EXTRA_PARAM,
					   bool ereport_on_violation)
{
	if (prev_ExecutorCheckPerms_hook &&
		!prev_ExecutorCheckPerms_hook(rangeTable GTM_CHECK_PERMS_EXTRA_ARG,
									  ereport_on_violation))
		return false;
	return ereport_on_violation || !gtm_installed_here() ||
		fk_initial_check_allowed(rangeTable);
}

/* Called once from gtm_enforce_init: the executor hooks, chained. */
void
enforce_executor_init(void)
{
	prev_ExecutorStart_hook = ExecutorStart_hook;
	ExecutorStart_hook = gtm_ExecutorStart;
	prev_ExecutorRun_hook = ExecutorRun_hook;
	ExecutorRun_hook = gtm_ExecutorRun;
	prev_ExecutorFinish_hook = ExecutorFinish_hook;
	ExecutorFinish_hook = gtm_ExecutorFinish;
	prev_ExecutorCheckPerms_hook = ExecutorCheckPerms_hook;
	ExecutorCheckPerms_hook = gtm_ExecutorCheckPerms;
}
