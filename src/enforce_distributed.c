/*-------------------------------------------------------------------------
 *
 * enforce_distributed.c
 *	  The verdict on a statement that a distributed planner (Citus) plans.
 *
 * Citus' planner_hook (distributed_planner) replaces the plan of a
 * statement on distributed and reference tables by a Custom Scan over a
 * placeholder range-table entry; its fast-path router planner does not run
 * the standard planner at all.  The plan walk cannot see into that node,
 * and judge_scans() rejects every tenant table behind it (fail closed).
 *
 * To give such a statement the verdict it would have on a single node,
 * gtm_planner keeps a copy of the query tree as the client wrote it (after
 * freeze_mutable_pins, before Citus rewrites it), and when the plan Citus
 * returns holds a Citus Custom Scan, plans that copy once more with the
 * standard planner -- the "shadow plan" -- with the planner hooks of the
 * judgement recording and every other planner hook switched off (Citus'
 * set_rel_pathlist, set_join_pathlist and get_relation_info hooks need the
 * restriction context of its own planner call, and must not record the
 * shadow's relations).  On the coordinator, distributed and reference
 * tables are ordinary (empty) tables with their columns, constraints and
 * indexes, so the shadow plan is the plan a single node would make, and
 * judge_plan() judges it as one.  What the judgement attaches to the shadow
 * plan (the pins compared when the statement starts, enforce_runtime.c) is
 * moved to Citus' plan, so it travels with that plan into the plan cache and
 * is checked when Citus' plan starts.
 *
 * Before the shadow plan, a cheaper way: unless Citus' fast-path planner
 * took the statement, Citus first runs the standard planner on the client's
 * query, and the recording hooks see that call like any other (only the
 * first call is kept: record_this_call).  judge_recorded accepts the
 * statement from those records when every tenant table the statement
 * names was recorded, every reference is pinned (not through a unique
 * key) and all pins denote one tenant; this is stricter than judge_plan
 * (every reference counts, also of a relation the plan would not read), so
 * an acceptance here is one the shadow plan would give.  Anything else,
 * and every call of gtm_check_statement, gets the shadow plan's verdict.
 *
 * A pin through a unique key of a joined non-tenant table (enforce_key.c)
 * is checked by reading that row when the statement starts; on a
 * coordinator the row of a distributed or reference table is on a worker,
 * and the local shell table is empty, so such a pin is not accepted here:
 * the reference is rejected as read through the distributed plan.
 *
 * gtm_current_tenant() is STABLE, and Citus sends a read-only query's
 * functions to the workers, where no session tenant is set.  So the query
 * handed to the distributed planner has each call replaced by the session
 * tenant as a constant (fold_current_tenant; the shadow keeps the call,
 * and judges it as the pin it is), which also lets Citus route the
 * statement to one shard.  A plan holding the folded tenant must not serve
 * another tenant: when the session tenant changes (gtm_set_tenant, or the
 * end of a transaction that set it locally), the cached plans of this
 * backend are dropped (session_tenant_changing, from gtm.tenant's assign
 * hook), if any statement was folded since the last time.  A portal bound
 * before the change keeps its plan: the tenant folded is written into the
 * plan and compared with the session tenant when it starts
 * (mark_folded_plan, check_distributed_start).
 *
 * An INSERT ... SELECT that Citus cannot push down is executed either
 * through the coordinator (the rows are sent to the target shards with COPY,
 * which the workers check row by row, enforce_copy.c) or by repartitioning
 * (the workers insert from intermediate result files, which they cannot
 * judge: they reject it).  So a judged INSERT ... SELECT on a Citus table is
 * planned with citus.enable_repartitioned_insert_select off
 * (distributed_settings_begin), and takes the first way.
 *
 * A distributed function call ("SELECT f(const)" of a function made with
 * create_distributed_function) is delegated by Citus to the worker holding
 * the shard of its argument, as a statement of its own there: the worker
 * checks the function's statements, but does not know the tenant the
 * client's top-level statement on the coordinator has reached (an open
 * cursor, an earlier statement of the same query string).  So such a call
 * is rejected when that statement has reached a tenant, and otherwise
 * fixes it to a tenant of its own that no other statement can match
 * (mark_delegated_call when planned, check_distributed_start when it
 * starts).
 *
 * Which plans are distributed: a Custom Scan whose provider's name begins
 * with "Citus " (Citus Adaptive, Citus INSERT ... SELECT, Citus MERGE INTO
 * ...).  Any other Custom Scan stays opaque.
 *
 * IDENTIFICATION
 *	  src/enforce_distributed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/parallel.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/paths.h"
#include "optimizer/plancat.h"
#include "optimizer/planner.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* The Custom Scan provider names of Citus' distributed plans start so */
#define CITUS_SCAN_PREFIX "Citus "

/*
 * > 0 while a shadow plan is made (the outermost planner call on the
 * stack is the shadow's): gtm_set_rel_pathlist and gtm_create_upper_paths
 * then do not call the hooks they chain.  Set and restored by
 * plan_shadow(); a planner call nested in the shadow's (a function
 * evaluated to estimate) suspends it (shadow_suspend/shadow_resume).
 */
int			shadow_planning = 0;

/* The other extensions' planner hooks, switched off for the shadow plan */
typedef struct ShadowHooks
{
	set_join_pathlist_hook_type join;
	get_relation_info_hook_type relinfo;
} ShadowHooks;

static ShadowHooks shadow_saved = {NULL, NULL};

/* Is a distributed planner (Citus) loaded?  Its Custom Scans are
 * registered by its _PG_init, before ours (it must come first). */
bool
distributed_planner_loaded(void)
{
	static int	loaded GTM_HOT_DATA = -1;

	if (loaded < 0)
		loaded = GetCustomScanMethods("Citus Adaptive", true) != NULL ? 1 : 0;
	return loaded == 1;
}

/* Does the plan tree hold a Custom Scan of Citus? */
static bool
plan_has_distributed_scan(Plan *plan)
{
	ListCell   *lc;

	if (plan == NULL)
		return false;
	check_stack_depth();
	if (IsA(plan, CustomScan))
	{
		const char *name = ((CustomScan *) plan)->methods->CustomName;

		if (strncmp(name, CITUS_SCAN_PREFIX, strlen(CITUS_SCAN_PREFIX)) == 0)
			return true;
		foreach(lc, ((CustomScan *) plan)->custom_plans)
			if (plan_has_distributed_scan(lfirst(lc)))
				return true;
	}
	switch (nodeTag(plan))
	{
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				if (plan_has_distributed_scan(lfirst(lc)))
					return true;
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				if (plan_has_distributed_scan(lfirst(lc)))
					return true;
			break;
		case T_SubqueryScan:
			if (plan_has_distributed_scan(((SubqueryScan *) plan)->subplan))
				return true;
			break;
		default:
			break;
	}
	return plan_has_distributed_scan(plan->lefttree) ||
		plan_has_distributed_scan(plan->righttree);
}

bool
plan_is_distributed(PlannedStmt *stmt)
{
	ListCell   *lc;

	if (plan_has_distributed_scan(stmt->planTree))
		return true;
	foreach(lc, stmt->subplans)
		if (plan_has_distributed_scan(lfirst(lc)))
			return true;
	return false;
}

/*
 * A planner call nested in the shadow's (SPI of a function evaluated while
 * estimating) plans for real: put the other hooks back while it runs.
 * Returns the depth to hand to shadow_resume.
 */
int
shadow_suspend(void)
{
	int			depth = shadow_planning;

	if (depth > 0)
	{
		set_join_pathlist_hook = shadow_saved.join;
		get_relation_info_hook = shadow_saved.relinfo;
		shadow_planning = 0;
	}
	return depth;
}

void
shadow_resume(int depth)
{
	if (depth > 0)
	{
		set_join_pathlist_hook = NULL;
		get_relation_info_hook = NULL;
		shadow_planning = depth;
	}
}

/*
 * Plan parse (the client's query tree, copied before the distributed
 * planner saw it) with the standard planner, recording into st, with the
 * hooks of other extensions off.  Everything is restored on error.
 */
/* What plan_shadow changes, to be put back on every path out */
typedef struct ShadowFrame
{
	EnforceState *state;
	bool		innermost;
	ErrorContextCallback *context;
	ShadowHooks hooks;
} ShadowFrame;

static void
shadow_leave(ShadowFrame *f)
{
	set_join_pathlist_hook = shadow_saved.join;
	get_relation_info_hook = shadow_saved.relinfo;
	shadow_saved = f->hooks;
	shadow_planning--;
	cur_state = f->state;
	planning_depth--;
	innermost_planning = f->innermost;
	planner_error_context = f->context;
}

static PlannedStmt *
plan_shadow(EnforceState *st, Query *parse, const char *query_string,
			int cursorOptions, ParamListInfo boundParams)
{
	ShadowFrame frame;
	PlannedStmt *result;

	frame.state = cur_state;
	frame.innermost = innermost_planning;
	frame.context = planner_error_context;
	frame.hooks = shadow_saved;
	shadow_saved.join = set_join_pathlist_hook;
	shadow_saved.relinfo = get_relation_info_hook;
	set_join_pathlist_hook = NULL;
	get_relation_info_hook = NULL;
	shadow_planning++;
	cur_state = st;
	planning_depth++;
	innermost_planning = true;
	planner_error_context = error_context_stack;	/* see enforce_hooks.c */
	PG_TRY();
	{
		result = standard_planner(parse, query_string, cursorOptions,
								  boundParams);
	}
	PG_CATCH();
	{
		shadow_leave(&frame);
		PG_RE_THROW();
	}
	PG_END_TRY();
	shadow_leave(&frame);
	return result;
}

/*
 * A tenant column whose type's text depends on settings (a date, a
 * timestamp: DateStyle, TimeZone, timezone_abbreviations): Citus writes a
 * pinned value, a constant or a bound parameter, into the shard query as
 * text in the client's settings, which any role may SET, and the worker
 * reads it in its own: '2000-01-04' under DateStyle DMY is sent as
 * 04/01/2000 and read as April 1st, another tenant of the same shard,
 * which the worker finds pinned to one tenant and accepts (round CI).  A
 * reference to such a column in a distributed plan is refused, whatever
 * it is pinned to (judge_distributed's and judge_recorded's verdicts).
 */
void
refuse_setting_dependent_tenants(List *judged)
{
	ListCell   *lc;

	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->reason != PR_PINNED || ref->attnum <= 0)
			continue;
		if (!rel_facts(ref->relid)->tenant_text_fixed &&
			!type_text_is_fixed(get_atttype(ref->relid, ref->attnum)))
		{
			ref->reason = PR_DISTRIBUTED_TYPE;
			ref->values = NIL;
		}
	}
}

/*
 * The verdict on a distributed plan: judge the shadow plan of parse (see
 * the file header), refuse unique-key pins, and move what the judgement
 * attached for the start of the statement to the distributed plan.
 * Returns the judged references, like judge_plan.
 */
List *
judge_distributed(EnforceState *st, Query *parse, const char *query_string,
				  int cursorOptions, ParamListInfo boundParams,
				  PlannedStmt *dist)
{
	PlannedStmt *shadow;
	List	   *judged;
	ListCell   *lc;
	const char *node = NULL;

	shadow = plan_shadow(st, parse, query_string, cursorOptions, boundParams);
	judged = judge_plan(st, shadow);

	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		/*
		 * A tenant written from a relation that is not a tenant table is
		 * also checked on every row written, on one server
		 * (enforce_written_check.c); Citus' plan has no ModifyTable of the
		 * shadow's to carry it (it inserts through COPY to the shards, each
		 * of one tenant): refused, fail closed (round BW)
		 */
		if (unlikely(st->write_pin_sources) && ref->kind != REF_SCAN &&
			ref->reason == PR_PINNED)
		{
			ref->reason = PR_DISTRIBUTED_SOURCE;
			ref->values = NIL;
			continue;
		}

		if (ref->reason == PR_PINNED && ref->key_lookup != NIL)
		{
			if (node == NULL)
				node = psprintf("Custom Scan (%s)", distributed_scan_name(dist));
			ref->reason = PR_OPAQUE_NODE;
			ref->node_name = node;
		}
		else if (ref->reason == PR_PINNED &&
				 pin_computed_per_node(ref->values))
			ref->reason = PR_NODE_VALUE;
	}

	/* the pins compared when it starts, and the shadow's dependencies */
	dist->invalItems = list_concat(dist->invalItems, shadow->invalItems);
	dist->relationOids = list_concat_unique_oid(dist->relationOids,
												shadow->relationOids);
	return judged;
}

/*
 * Could a pin's value be computed on each node rather than once on the
 * coordinator?  Citus sends a read-only query's expressions to the workers,
 * which evaluate them there, with their own settings: a stable built-in
 * value (frozen with gtm_pin() on a single node, enforce_freeze.c), such as
 * one that depends on current_setting('port'), yields one tenant on each
 * worker, and so can an immutable one (byteaout reads bytea_output), while
 * the statement is one tenant on the coordinator's shadow plan.  A constant,
 * a parameter (Citus sends its value) and gtm_current_tenant() (folded into
 * a constant, fold_current_tenant) are the same on every node; any other
 * value, gtm_pin() of anything included, is refused on a distributed plan
 * (fail closed).
 */
bool
pin_computed_per_node(List *values)
{
	ListCell   *lc;

	foreach(lc, values)
	{
		Node	   *v = strip_fixed_casts(lfirst(lc));

		if (IsA(v, Const) ||
			(IsA(v, Param) && ((Param *) v)->paramkind == PARAM_EXTERN) ||
			(IsA(v, FuncExpr) &&
			 is_current_tenant_fn(((FuncExpr *) v)->funcid) &&
			 ((FuncExpr *) v)->args == NIL))
			continue;
		return true;
	}
	return false;
}

/* The name of the first Citus Custom Scan of the plan (for messages) */
const char *
distributed_scan_name(PlannedStmt *stmt)
{
	Plan	   *plan = stmt->planTree;

	while (plan != NULL && !IsA(plan, CustomScan))
		plan = plan->lefttree;
	if (plan != NULL)
		return ((CustomScan *) plan)->methods->CustomName;
	return "Citus Adaptive";
}

/* Citus' switch between the two ways of a non-pushable INSERT ... SELECT */
#define CITUS_REPARTITIONED_INSERT "citus.enable_repartitioned_insert_select"

/*
 * Before the distributed planner plans parse (a judged statement naming a
 * Citus tenant table): for an INSERT ... SELECT, switch off Citus'
 * repartitioned INSERT ... SELECT for this planner call (see the file
 * header).  Returns the GUC nest level to hand to distributed_settings_end,
 * or -1 when nothing was changed.  On error, the (sub)transaction's abort
 * puts the setting back.
 */
int
distributed_settings_begin(Query *parse)
{
	ListCell   *lc;
	bool		has_select = false;
	int			level;

	if (parse->commandType != CMD_INSERT)
		return -1;
	foreach(lc, parse->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_SUBQUERY)
			has_select = true;
	if (!has_select || GetConfigOption(CITUS_REPARTITIONED_INSERT, true, false) == NULL)
		return -1;
	level = NewGUCNestLevel();
	(void) set_config_option(CITUS_REPARTITIONED_INSERT, "off", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
distributed_settings_end(int level)
{
	if (level >= 0)
		AtEOXact_GUC(true, level);
}

/*
 * Could Citus delegate parse to a worker as a function call?  Its form:
 * "SELECT f(...)", one output column, no FROM (tested before planning).
 */
bool
query_may_be_delegated(Query *parse)
{
	return parse->commandType == CMD_SELECT && parse->rtable == NIL &&
		list_length(parse->targetList) == 1 &&
		IsA(linitial_node(TargetEntry, parse->targetList)->expr, FuncExpr) &&
		distributed_planner_loaded();
}

/*
 * Mark the plan of such a query, when it is distributed (Citus delegated
 * it), with a PlanInvalItem whose cacheId no syscache has (as the pins of
 * enforce_runtime.c travel): the mark stays with the plan in the plan cache.
 */
void
mark_delegated_call(PlannedStmt *stmt)
{
	PlanInvalItem *item;

	if (!plan_is_distributed(stmt))
		return;
	item = makeNode(PlanInvalItem);
	item->cacheId = GTM_DELEGATED_CACHEID;
	item->hashValue = 0;
	stmt->invalItems = lappend(stmt->invalItems, item);
}

/*
 * The tenant fold_current_tenant folded into a distributed plan, written
 * into the plan (a payload of its invalItems, as the pins travel): checked
 * when the plan starts (check_distributed_start).
 */
void
mark_folded_plan(PlannedStmt *stmt, const char *tenant)
{
	write_plan_payload(stmt, GTM_FOLDED_CACHEID, tenant, strlen(tenant) + 1);
}

/*
 * ExecutorStart, before the executor, for the marks a distributed plan may
 * carry:
 *
 *	- a tenant folded into it: the session tenant must still be that one.
 *	  Plans are dropped when the session tenant changes, but a portal bound
 *	  before the change (Bind, then gtm_set_tenant(), then Execute) keeps
 *	  its plan; on a single node, gtm_current_tenant() would give the new
 *	  tenant at Execute, so the plan must not run with the old one.
 *	- a delegated function call (see the file header): it may not join a
 *	  top-level statement that has reached a tenant, and no statement on
 *	  tenant tables may join it after.
 */
void
check_distributed_start(PlannedStmt *stmt)
{
	static uint32 calls = 0;
	static StringInfoData buf = {NULL, 0, 0, 0};
	ListCell   *lc;
	bool		delegated = false;
	bool		folded = false;
	const char *reached;

	foreach(lc, stmt->invalItems)
	{
		int			id = ((PlanInvalItem *) lfirst(lc))->cacheId;

		if (id == GTM_DELEGATED_CACHEID)
			delegated = true;
		else if (id == GTM_FOLDED_CACHEID)
			folded = true;
	}
	if (folded)
	{
		const char *tenant;
		const char *now = gtm_session_tenant ? gtm_session_tenant : "";

		if (buf.data == NULL)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			initStringInfo(&buf);
			MemoryContextSwitchTo(old);
		}
		tenant = read_plan_payload(stmt->invalItems, GTM_FOLDED_CACHEID, &buf);
		if (tenant == NULL || strcmp(tenant, now) != 0)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the distributed plan of this statement was made for tenant '%s', and the session tenant is now '%s'",
							tenant ? gtm_msg_value(tenant, -1, false) : "?",
							gtm_msg_value(now, -1, false)),
					 errdetail("Citus was given the session tenant in place of gtm_current_tenant() when the statement was planned, before gtm_set_tenant() changed it."),
					 errhint("Bind the statement again after gtm_set_tenant().")));

		/*
		 * and the running statement reaches it now, before Citus evaluates
		 * the functions of the statement while it starts: a statement they
		 * run on another tenant is refused before it changes anything
		 * (round EM: one that Citus committed on its own outside a
		 * transaction block stayed changed)
		 */
		if (gtm_enforcement != GTM_ENFORCE_OFF && !IsParallelWorker() &&
			!role_is_exempt())
			statement_scope_check(tenant, "0:the tenant a distributed plan was made for",
								  ENFORCE_ELEVEL());
	}
	if (!delegated || gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		role_is_exempt())
		return;
	reached = statement_scope_tenant();
	if (reached != NULL)
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("statement touches more than one tenant"),
				 errdetail("The running statement reached tenant '%s', and a distributed function call runs on a worker, where that tenant is not known.",
						   gtm_msg_value(reached, -1, false)),
				 errhint("Call a distributed function in a statement of its own, with no cursor open.")));
	else
		statement_scope_check(psprintf("(distributed function call %u)", ++calls),
							  "0:a distributed function call", ENFORCE_ELEVEL());
}

static bool
names_walker(Node *node, QueryNames *names)
{
	if (node == NULL)
		return false;
	check_stack_depth();
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
		{
			RelFacts   *f = rel_facts(rte->relid);

			if (f->tenant && f->distributed)
				names->distributed = true;
			names->relids = list_append_unique_oid(names->relids, rte->relid);
		}
		else if (rte->rtekind == RTE_JOIN)
		{
			/*
			 * A join's columns as the query refers to them (walked here,
			 * not by query_tree_walker: QTW_IGNORE_JOINALIASES): most are
			 * plain Vars of its inputs, which hold nothing this walk looks
			 * for and were a third of its nodes in a 3-way join; the
			 * others (COALESCE of a FULL JOIN's USING column, a coercion
			 * of an input's column) are walked as any expression.
			 */
			ListCell   *lc;

			foreach(lc, rte->joinaliasvars)
			{
				Node	   *alias = lfirst(lc);

				if (alias != NULL && !IsA(alias, Var) && names_walker(alias, names))
					return true;
			}
		}
		return false;
	}
	if (IsA(node, FuncExpr) && is_current_tenant_fn(((FuncExpr *) node)->funcid))
		names->current_tenant = true;
	else if (!names->coordinator_fold && needs_coordinator_fold(node))
		names->coordinator_fold = true;
	if (IsA(node, Const) && is_reg_type(((Const *) node)->consttype))
		names->reg_constant = true;
	if (IsA(node, Query))
	{
		if (((Query *) node)->onConflict != NULL)
			names->on_conflict = true;
		return query_tree_walker((Query *) node, names_walker, (void *) names,
								 QTW_EXAMINE_RTES_BEFORE | QTW_IGNORE_JOINALIASES);
	}
	return expression_tree_walker(node, names_walker, (void *) names);
}

/*
 * May q name a Citus tenant table?  Looks only at the range tables of q,
 * of its subqueries in FROM and of its CTEs; a level with sublinks (whose
 * queries sit in expressions) answers "maybe".  A worker's shard queries,
 * which name shards, are answered "no" without a walk of their
 * expressions.  A wrong "no" cannot let a statement through: Citus' plan
 * of a distributed table is then judged as an opaque Custom Scan and
 * rejected (judge_scans).
 */
static bool
may_name_distributed(Query *q)
{
	ListCell   *lc;

	check_stack_depth();
	if (q->hasSubLinks)
		return true;
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION)
		{
			RelFacts   *f = rel_facts(rte->relid);

			if (f->tenant && f->distributed)
				return true;
		}
		else if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL &&
				 may_name_distributed(rte->subquery))
			return true;
	}
	foreach(lc, q->cteList)
	{
		Node	   *cte = ((CommonTableExpr *) lfirst(lc))->ctequery;

		if (IsA(cte, Query) && may_name_distributed((Query *) cte))
			return true;
	}
	return false;
}

/*
 * Does the statement name a tenant table that is a Citus table, at any
 * level?  Only then does gtm_planner keep a copy for the shadow plan (a
 * worker's shard queries name shards, which are not).  A relation reached
 * only through a view is named by the rewritten query too.  One walk of
 * the whole tree fills names (see QueryNames) for fold_current_tenant and
 * judge_recorded, after a cheaper look at the range tables
 * (may_name_distributed) for the statements that name none.
 */
bool
query_names_distributed(Query *parse, QueryNames *names)
{
	memset(names, 0, sizeof(QueryNames));
	if (!distributed_planner_loaded() || !may_name_distributed(parse))
		return false;
	(void) names_walker((Node *) parse, names);
	return names->distributed;
}

/*
 * Record what this planner call sees into st?  Always, except under a
 * distributed planner, where only its first call of the standard planner
 * (on the client's query: Citus plans it so before its own steps) is kept.
 */
bool
record_this_call(EnforceState *st, PlannerInfo *root)
{
	if (!st->first_call_only)
		return true;
	if (st->glob == NULL)
		st->glob = root->glob;
	return st->glob == root->glob;
}
