/*-------------------------------------------------------------------------
 *
 * enforce_written_check.c
 *	  The tenant a write stores, checked on every row it writes.
 *
 * A value written into a tenant column from a column of a relation that
 * is not a tenant table -- the caller's temporary table, a subquery, a
 * UNION ALL over them -- counts as pinned by that relation's condition
 * (enforce_values.c), and the plan is asked to evaluate that condition on
 * the rows it reads (pin_columns_trusted, enforce_order.c).  Rounds BP, BR
 * and BS each found a path by which the planner did not (a partial index
 * of the caller's whose predicate stands for the condition), and the write
 * stored another tenant under a statement judged to touch one.  So such a
 * write is also checked where it happens: in every ModifyTable of the
 * plan that writes a tenant table, the tenant column's new value -- of an
 * INSERT, of an UPDATE, of a MERGE action -- is wrapped in gtm_pin(), which
 * compares each row's value with the tenant the running top-level
 * statement has reached (tenant_session.c), and refuses another with
 * "statement touches more than one tenant" before the row is written.
 * Done only for a statement whose written values were taken from such a
 * relation (EnforceState.write_pin_sources); constants and parameters are
 * compared when the statement starts and are not wrapped.
 *
 * A subplan that cannot project (a Sort, a Limit, an Append) gets a Result
 * above it that does.  ON CONFLICT DO UPDATE SET of the tenant column is
 * wrapped too: the conflicting row's tenant is the inserted one (the
 * arbiter includes the tenant column, judge_modify_tables), but the value
 * SET may be another inserted column, EXCLUDED.x (round BY).
 *
 * IDENTIFICATION
 *	  src/enforce_written_check.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/planmain.h"
#include "parser/parsetree.h"

#include "enforce.h"

/* gtm_pin(expr), unless expr is a constant or a parameter already */
static Expr *
pinned(Expr *expr, Oid pin_fn)
{
	Node	   *e = strip_relabel((Node *) expr);

	if (e == NULL || IsA(e, Const) ||
		(IsA(e, Param) && ((Param *) e)->paramkind == PARAM_EXTERN) ||
		(IsA(e, FuncExpr) && ((FuncExpr *) e)->funcid == pin_fn))
		return expr;
	return (Expr *) make_pin_call((Node *) expr, pin_fn);
}

/* The largest plan_node_id of a plan tree (a new node takes the next) */
static int
max_plan_node_id(Plan *plan)
{
	int			max = 0;
	List	   *children = NIL;
	ListCell   *lc;

	check_stack_depth();
	if (plan == NULL)
		return 0;
	max = plan->plan_node_id;
	max = Max(max, max_plan_node_id(plan->lefttree));
	max = Max(max, max_plan_node_id(plan->righttree));
	switch (nodeTag(plan))
	{
		case T_Append:
			children = ((Append *) plan)->appendplans;
			break;
		case T_MergeAppend:
			children = ((MergeAppend *) plan)->mergeplans;
			break;
		case T_BitmapAnd:
			children = ((BitmapAnd *) plan)->bitmapplans;
			break;
		case T_BitmapOr:
			children = ((BitmapOr *) plan)->bitmapplans;
			break;
		case T_SubqueryScan:
			children = list_make1(((SubqueryScan *) plan)->subplan);
			break;
		case T_CustomScan:
			children = ((CustomScan *) plan)->custom_plans;
			break;
		default:
			break;
	}
	foreach(lc, children)
		max = Max(max, max_plan_node_id(lfirst(lc)));
	return max;
}

/*
 * The ModifyTable's subplan with its k-th non-junk output (the value of a
 * written column) wrapped in gtm_pin(): in place when the subplan's top
 * node projects, else in a Result put above it.
 */
static void
pin_subplan_output(ModifyTable *mt, int k, Oid pin_fn, PlannedStmt *stmt)
{
	Plan	   *sub = mt->plan.lefttree;
	Result	   *res;
	ListCell   *lc;
	int			i = 0;
	int			max_id;

	if (sub == NULL)
		return;
	if (!is_projection_capable_plan(sub))
	{
		res = makeNode(Result);
		foreach(lc, sub->targetlist)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);
			Var		   *v = makeVarFromTargetEntry(OUTER_VAR, tle);

			res->plan.targetlist = lappend(res->plan.targetlist,
										   makeTargetEntry((Expr *) v, tle->resno,
														   tle->resname, tle->resjunk));
		}
		res->plan.startup_cost = sub->startup_cost;
		res->plan.total_cost = sub->total_cost;
		res->plan.plan_rows = sub->plan_rows;
		res->plan.plan_width = sub->plan_width;
		res->plan.parallel_aware = false;
		res->plan.parallel_safe = false;
		max_id = max_plan_node_id(stmt->planTree);
		foreach(lc, stmt->subplans)
			max_id = Max(max_id, max_plan_node_id(lfirst(lc)));
		res->plan.plan_node_id = max_id + 1;
		res->plan.lefttree = sub;
		sub = (Plan *) res;
		mt->plan.lefttree = sub;
	}
	foreach(lc, sub->targetlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resjunk)
			continue;
		if (i++ == k)
		{
			tle->expr = pinned(tle->expr, pin_fn);
			return;
		}
	}
}

/* Position of attno in a list of column numbers, or -1 */
static int
colno_position(List *colnos, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, colnos)
		if (lfirst_int(lc) == attno)
			return foreach_current_index(lc);
	return -1;
}

/*
 * After the walk: wrap the written tenant values of every ModifyTable that
 * writes a tenant table (modifytables, found by walk_plan).  False when
 * the installed extension has no gtm_pin() (1.0.0): the caller then
 * refuses the statement instead.
 */
bool
check_written_tenants(PlannedStmt *stmt, ModifyTable **modifytables,
					  int n_modifytables)
{
	Oid			pin_fn = pin_function_oid();

	if (!OidIsValid(pin_fn))
		return false;
	for (int m = 0; m < n_modifytables; m++)
	{
		ModifyTable *mt = modifytables[m];
		ListCell   *lr;
		AttrNumber	root_tenant = 0;

		/*
		 * A MERGE's INSERT actions (and an INSERT's row) are numbered in
		 * the columns of the table named, the root of a partitioned or
		 * inherited target (PostgreSQL routes the row afterwards), whatever
		 * the partition whose action list holds them (round BT)
		 */
		if (mt->rootRelation > 0)
		{
			RelFacts   *rf = rel_facts(rt_fetch(mt->rootRelation, stmt->rtable)->relid);

			if (rf->tenant && !rf->exempt)
				root_tenant = rf->attnum;
		}

		foreach(lr, mt->resultRelations)
		{
			int			which = foreach_current_index(lr);
			RangeTblEntry *rte = rt_fetch(lfirst_int(lr), stmt->rtable);
			RelFacts   *f = rel_facts(rte->relid);
			AttrNumber	tenant = f->attnum;
			int			k;

			if (!f->tenant || f->exempt)
				continue;
			if (mt->operation == CMD_INSERT)
			{
				/* the subplan's outputs are the row, in column order */
				pin_subplan_output(mt, tenant - 1, pin_fn, stmt);
				/* ON CONFLICT DO UPDATE SET tenant_id = excluded.x (round BY) */
				k = colno_position(mt->onConflictCols, tenant);
				if (mt->onConflictAction == ONCONFLICT_UPDATE && k >= 0 &&
					k < list_length(mt->onConflictSet))
				{
					TargetEntry *tle = list_nth_node(TargetEntry, mt->onConflictSet, k);

					tle->expr = pinned(tle->expr, pin_fn);
				}
			}
			else if (mt->operation == CMD_UPDATE &&
					 which < list_length(mt->updateColnosLists))
			{
				k = colno_position(list_nth(mt->updateColnosLists, which), tenant);
				if (k >= 0)
					pin_subplan_output(mt, k, pin_fn, stmt);
			}
			else if (mt->operation == CMD_MERGE &&
					 which < list_length(mt->mergeActionLists))
			{
				ListCell   *la;

				foreach(la, (List *) list_nth(mt->mergeActionLists, which))
				{
					MergeAction *ma = lfirst(la);
					ListCell   *lt;

					k = ma->commandType == CMD_UPDATE ?
						colno_position(ma->updateColnos, tenant) : -1;
					foreach(lt, ma->targetList)
					{
						TargetEntry *tle = lfirst_node(TargetEntry, lt);

						if ((ma->commandType == CMD_INSERT &&
							 tle->resno == (root_tenant > 0 ? root_tenant : tenant)) ||
							(ma->commandType == CMD_UPDATE &&
							 foreach_current_index(lt) == k))
							tle->expr = pinned(tle->expr, pin_fn);
					}
				}
			}
		}
	}
	return true;
}
