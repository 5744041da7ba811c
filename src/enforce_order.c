/*-------------------------------------------------------------------------
 *
 * enforce_order.c
 *	  The tenant condition first in every scan of a tenant table.
 *
 * A scan filters each row with its conditions in the order the planner
 * chose, cheapest first (order_qual_clauses).  A condition cheaper than the
 * tenant condition would see the rows of every tenant before the tenant
 * condition removes them: a function of the caller's own with a low COST
 * can show them (RAISE NOTICE), a built-in can quote them in an error.
 * Row-level security avoids this by evaluating its quals first; so does
 * this file, after planning: in every scan of a tenant table, the equality
 * of the tenant column with a value is moved before every other condition
 * of the same list (the filter, and the index or bitmap recheck
 * conditions), keeping the relative order of the others.  A row of another
 * tenant then fails the first test and no other condition sees it; an
 * index condition on the tenant column already keeps such rows out.
 *
 * Rearranging an AND list changes no result.  The plan is rearranged
 * before it is cached or sent to parallel workers, so every execution and
 * every worker evaluates it in this order.
 *
 * IDENTIFICATION
 *	  src/enforce_order.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"

#include "enforce.h"

/* Does node call a function of the database's own (not built in)? */
static bool
user_function_checker(Oid funcid, void *context)
{
	if (funcid < FirstNormalObjectId)
		return builtin_runs_sql(funcid);
	return !is_current_tenant_fn(funcid) && funcid != pin_function_oid();
}

static bool
user_function_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, user_function_checker, context))
		return true;
	return expression_tree_walker(node, user_function_walker, context);
}

/*
 * Is val the value of a pin: no column, no function of the database's own
 * (the caller's could be a probe that its low cost would order before the
 * pin), nothing volatile (nextval(), set_config() count the rows they see)?
 * Constants, parameters, gtm_current_tenant(), gtm_pin() and stable
 * built-in expressions are.
 */
static bool
is_pin_value(Node *val)
{
	Node	   *v = strip_relabel(val);

	if (v == NULL)
		return false;
	if (IsA(v, Const) || IsA(v, Param))
		return true;			/* the common case */
	return !contain_var_clause(v) && !user_function_walker(v, NULL) &&
		!contain_volatile_functions(v);
}


static inline bool
is_tenant_var(Node *n, const TenantColumn *tc)
{
	Var		   *v;

	if (n == NULL || !IsA(n, Var))
		return false;
	v = (Var *) n;
	if (v->varno != tc->varno || v->varlevelsup != 0)
		return false;
	if (tc->varno == INDEX_VAR)
		return v->varattno > 0 && bms_is_member(v->varattno, tc->tlist_cols);
	return v->varattno == tc->attnum;
}

/*
 * Is clause "tenant column = value" (either side), or the pin "tenant
 * column IS NOT DISTINCT FROM value" (a NOT over a DistinctExpr), value a
 * pin's (is_pin_value), and the operator a built-in equality under which
 * equal values are identical (the pins' own test, equality_is_identity)?
 * Any other built-in operator (LIKE with a trailing escape raises an error
 * on some values only) would test other tenants' values before the pin.
 */
bool
is_tenant_equality(Node *clause, const TenantColumn *tc)
{
	OpExpr	   *op;
	int			side;

	if (clause == NULL)
		return false;
	if (is_notclause(clause) && IsA(get_notclausearg((Expr *) clause), DistinctExpr))
		clause = (Node *) get_notclausearg((Expr *) clause);
	else if (!IsA(clause, OpExpr))
		return false;
	op = (OpExpr *) clause;
	/* a built-in operator: one of the caller's could be a cheap probe */
	if (list_length(op->args) != 2 || op->opno >= FirstNormalObjectId ||
		(OidIsValid(op->opfuncid) && op->opfuncid >= FirstNormalObjectId))
		return false;
	for (side = 0; side < 2; side++)
	{
		if (is_tenant_var(strip_relabel(list_nth(op->args, side)), tc) &&
			is_pin_value(list_nth(op->args, 1 - side)) &&
			equality_is_identity(op->opno, NIL, side == 0, op->inputcollid))
			return true;
	}
	return false;
}

/*
 * quals with the tenant equalities moved to the front; *led (when led is
 * not NULL) tells whether a tenant equality now comes first.
 */
static pg_noinline List *tenant_first_slow(List *quals, const TenantColumn *tc,
										  bool *led);

static inline List *
tenant_first(List *quals, const TenantColumn *tc, bool *led)
{
	if (led != NULL)
		*led = false;
	/* nothing to move (and the caller does not ask what leads) */
	if (quals == NIL || (led == NULL && list_length(quals) < 2))
		return quals;
	return tenant_first_slow(quals, tc, led);
}

static List *
tenant_first_slow(List *quals, const TenantColumn *tc, bool *led)
{
	List	   *first = NIL;
	List	   *rest = NIL;
	ListCell   *lc;

	/* a tenant equality first already (the usual) */
	if (is_tenant_equality(linitial(quals), tc))
	{
		if (led != NULL)
			*led = true;
		return quals;
	}
	if (list_length(quals) < 2)
		return quals;
	foreach(lc, quals)
	{
		if (is_tenant_equality(lfirst(lc), tc))
			first = lappend(first, lfirst(lc));
		else
			rest = lappend(rest, lfirst(lc));
	}
	if (first == NIL)
		return quals;
	if (led != NULL)
		*led = true;
	return list_concat(first, rest);
}

/*
 * The recheck conditions of an index or bitmap heap scan, evaluated on the
 * rows the index returned (of every tenant, when the tenant equality is
 * only a Filter) before the Filter: with the scan's tenant equalities put
 * first (copied from the Filter when the recheck lacks one), so that a
 * function in a recheck (a lossy GIN, GiST or BRIN match) sees no row of
 * another tenant and runs no more often than for the pinned tenant's rows.
 */
static List *
recheck_tenant_first(List *recheck, List *qual, const TenantColumn *tc)
{
	List	   *first = NIL;
	ListCell   *lc;
	bool		led;

	if (recheck == NIL)
		return recheck;
	recheck = tenant_first(recheck, tc, &led);
	if (led)
		return recheck;
	foreach(lc, qual)
		if (is_tenant_equality(lfirst(lc), tc))
			first = lappend(first, copyObject(lfirst(lc)));
	return first != NIL ? list_concat(first, recheck) : recheck;
}

/*
 * Rearrange the conditions of one scan of the plan (a scan of a table,
 * found by walk_plan, enforce_judge.c) if it reads a tenant table; rtable
 * is the plan's flat range table.  An index-only scan's conditions name
 * the index's columns (INDEX_VAR), found in its indextlist, which names
 * the relation's, and so do a foreign scan's when it has an fdw_scan_tlist;
 * a foreign scan's Filter is what the remote server did not evaluate.
 */
/*
 * The column attnum of an index-only scan's or a foreign scan's relation as
 * its conditions name it: the entries of its target list that hold it
 * (INDEX_VAR); false when none does (no condition can then compare it).
 */
static bool
scan_tlist_column(Scan *scan, AttrNumber attnum, TenantColumn *tc)
{
	List	   *tlist = IsA(scan, IndexOnlyScan) ?
		((IndexOnlyScan *) scan)->indextlist :
		((ForeignScan *) scan)->fdw_scan_tlist;
	ListCell   *lc;

	tc->varno = INDEX_VAR;
	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *e = strip_relabel((Node *) tle->expr);

		if (e != NULL && IsA(e, Var) && ((Var *) e)->varno == scan->scanrelid &&
			((Var *) e)->varattno == attnum && ((Var *) e)->varlevelsup == 0)
			tc->tlist_cols = bms_add_member(tc->tlist_cols, tle->resno);
	}
	return tc->tlist_cols != NULL;
}

/*
 * The column attnum of the scan's relation as its conditions name it (see
 * TenantColumn); false when an index-only or foreign scan's target list
 * does not hold it.
 */
static inline bool
scan_column(Scan *scan, AttrNumber attnum, TenantColumn *tc)
{
	tc->varno = scan->scanrelid;
	tc->attnum = attnum;
	tc->tlist_cols = NULL;
	if (IsA(scan, IndexOnlyScan) ||
		(IsA(scan, ForeignScan) && ((ForeignScan *) scan)->fdw_scan_tlist != NIL))
		return scan_tlist_column(scan, attnum, tc);
	return true;
}

PinReason
tenant_quals_first(Scan *scan, List *rtable)
{
	RangeTblEntry *rte;
	RelFacts   *f;
	TenantColumn tc;
	bool		in_index = false;

	if (scan->scanrelid < 1 || scan->scanrelid > (Index) list_length(rtable))
		return PR_PINNED;
	rte = rt_fetch(scan->scanrelid, rtable);
	if (rte->rtekind != RTE_RELATION)
		return PR_PINNED;
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return PR_PINNED;
	if (!scan_column(scan, f->attnum, &tc))
	{
		/*
		 * No tenant column to compare: none in a Filter.  (An index-only
		 * scan of a partial index whose predicate stands for the tenant
		 * condition: below.)
		 */
		if (index_only_stands_for(scan, f->attnum))
			return PR_PARTIAL_INDEX;
		return PR_PINNED;
	}
	scan->plan.qual = tenant_first(scan->plan.qual, &tc, NULL);
	if (IsA(scan, IndexScan))
	{
		ListCell   *lc;

		/* (asked only of a scan ordered by a distance, below) */
		if (((IndexScan *) scan)->indexorderbyorig != NIL)
			foreach(lc, ((IndexScan *) scan)->indexqualorig)
				if (is_tenant_equality(lfirst(lc), &tc))
					in_index = true;
		((IndexScan *) scan)->indexqualorig =
			recheck_tenant_first(((IndexScan *) scan)->indexqualorig,
								 scan->plan.qual, &tc);
	}
	else if (IsA(scan, BitmapHeapScan))
		((BitmapHeapScan *) scan)->bitmapqualorig =
			recheck_tenant_first(((BitmapHeapScan *) scan)->bitmapqualorig,
								 scan->plan.qual, &tc);
	else if (IsA(scan, IndexOnlyScan))
	{
		ListCell   *lc;

		if (((IndexOnlyScan *) scan)->indexorderby != NIL)
			foreach(lc, ((IndexOnlyScan *) scan)->indexqual)
				if (is_tenant_equality(lfirst(lc), &tc))
					in_index = true;
		((IndexOnlyScan *) scan)->recheckqual =
			recheck_tenant_first(((IndexOnlyScan *) scan)->recheckqual,
								 scan->plan.qual, &tc);
	}

	/* what an index stands for is checked against the rows (enforce_index_trust.c) */
	if (IsA(scan, IndexScan) || IsA(scan, IndexOnlyScan) || IsA(scan, BitmapHeapScan))
	{
		PinReason	why = index_trust(scan, &tc, f->attnum);

		if (why != PR_PINNED)
			return why;
	}

	/*
	 * An index scan ordered by a distance it recomputes (a lossy one: GiST
	 * polygons) evaluates the ORDER BY expressions on every row the index
	 * returns before the Filter: a function that is not leakproof there
	 * runs for the rows of every tenant, unless the tenant condition is a
	 * condition of the index scan itself.  Built-in distances are no
	 * exception: the distance of a point to a polygon overflows (22003)
	 * for a point far enough, depending on the polygon's edges, so a
	 * search over the point reads another tenant's geometry.  An index-only
	 * scan computes its distances in the index, on the entries of every
	 * tenant, with the same functions: the same rule.
	 */
	if (!in_index &&
		(IsA(scan, IndexScan) || IsA(scan, IndexOnlyScan)))
	{
		Node	   *orderby = IsA(scan, IndexScan) ?
			(Node *) ((IndexScan *) scan)->indexorderbyorig :
			(Node *) ((IndexOnlyScan *) scan)->indexorderby;

		if (orderby != NULL &&
			(contain_leaked_vars(orderby) ||
			 user_function_walker(orderby, NULL) ||
			 mentions_callers_type(orderby)))
			return PR_ORDER_BY_FUNCTION;
	}

	/*
	 * A foreign scan: the conditions the wrapper sent to the server
	 * (fdw_recheck_quals) run there on the server's rows of every tenant,
	 * in the order its planner picks and through whatever index it has,
	 * also when the tenant condition is sent with them (a
	 * gtm_current_tenant() pin is not): besides it, only leakproof ones.
	 */
	if (IsA(scan, ForeignScan))
	{
		ListCell   *lc;
		bool		sent = false;

		foreach(lc, ((ForeignScan *) scan)->fdw_recheck_quals)
		{
			if (is_tenant_equality(lfirst(lc), &tc))
				sent = true;
			else if (contain_leaked_vars(lfirst(lc)))
				return PR_REMOTE_CONDITION;
		}
		/*
		 * The server then reads every tenant's rows: with a condition sent
		 * beside it, it would send here the rows of other tenants that
		 * match it (how long that takes tells how many); without, all of
		 * them, judged with the statement's locks and sorts
		 */
		if (!sent)
			return ((ForeignScan *) scan)->fdw_recheck_quals != NIL ?
				PR_REMOTE_UNPINNED : PR_REMOTE_UNSENT;
	}
	return PR_PINNED;
}

/*
 * The column of relation rti (a scan's) that stands for column attno of the
 * relation whose range-table entry has eref: rti's own, or, for a child of
 * an inheritance or partitioning (appendrels, the plan's), the child's
 * column mapped from its parent's (parent_colnos); 0 if none.
 */
static AttrNumber
column_for_eref(PlanWalk *w, Index rti, Alias *eref, AttrNumber attno,
				int depth)
{
	ListCell   *lc;

	check_stack_depth();
	if (rti < 1 || rti > (Index) list_length(w->rtable) || depth > 64)
		return 0;
	if (rt_fetch(rti, w->rtable)->eref == eref)
		return attno;
	foreach(lc, w->appendrels)
	{
		AppendRelInfo *ai = lfirst_node(AppendRelInfo, lc);
		AttrNumber	parent_attno;

		if (ai->child_relid != rti)
			continue;
		parent_attno = column_for_eref(w, ai->parent_relid, eref, attno, depth + 1);
		if (parent_attno <= 0)
			return 0;
		for (int c = 0; c < ai->num_child_cols; c++)
			if (ai->parent_colnos[c] == parent_attno)
				return c + 1;
		return 0;
	}
	return 0;
}

/*
 * A correlated pin resolved through a column of this scan's relation
 * (PlanWalk.pin_columns, judge_plan): the relation need not be a tenant
 * table (a temporary table of the caller's, an exempt table, VALUES, a
 * subquery), but the subquery it feeds runs, in this scan's Filter, for
 * every row the conditions before it let through, with that row's value:
 * the pin's equality comes first, as a tenant table's own does, also ahead
 * of the conditions of row-level security (a leakproof equality may), so
 * that only the pin's rows reach the rest.
 */
void
pin_columns_first(Scan *scan, PlanWalk *w)
{
	ListCell   *lc;

	if (scan->plan.qual == NIL || list_length(scan->plan.qual) < 2)
		return;
	foreach(lc, w->pin_columns)
	{
		PinColumn  *pc = lfirst(lc);
		AttrNumber	attno = column_for_eref(w, scan->scanrelid, pc->eref,
											pc->attno, 0);
		TenantColumn tc;

		if (attno > 0 && scan_column(scan, attno, &tc))
			scan->plan.qual = tenant_first(scan->plan.qual, &tc, NULL);
	}
}

/*
 * A pin resolved through a column of this scan's relation (a value written
 * into a tenant column, or a correlated pin: PlanWalk.pin_columns) counts
 * only if the scan evaluates the pin's equality on the rows it reads, as a
 * tenant table's own scan must (index_trust, enforce_index_trust.c): the
 * planner drops a condition that a partial index's predicate implies, and
 * reads the predicate as the caller's functions answer now, not as they
 * answered when the index was built (round BP: a temporary table whose
 * only row holds T2 wrote T2 under a pin to T1).  PR_UNTRUSTED_SOURCE if
 * it does not.
 */
PinReason
pin_columns_trusted(Scan *scan, PlanWalk *w)
{
	ListCell   *lc;

	if (!IsA(scan, IndexScan) && !IsA(scan, IndexOnlyScan) &&
		!IsA(scan, BitmapHeapScan))
		return PR_PINNED;
	foreach(lc, w->pin_columns)
	{
		PinColumn  *pc = lfirst(lc);
		AttrNumber	attno = column_for_eref(w, scan->scanrelid, pc->eref,
											pc->attno, 0);
		TenantColumn tc;

		if (attno <= 0)
			continue;
		if (!scan_column(scan, attno, &tc))
		{
			/* an index-only scan that does not return the column */
			if (index_only_stands_for(scan, attno))
				return PR_UNTRUSTED_SOURCE;
			continue;
		}
		if (index_trust(scan, &tc, attno) != PR_PINNED)
			return PR_UNTRUSTED_SOURCE;
	}
	return PR_PINNED;
}

/*
 * A correlated pin resolved from an outer column whose rows may reach the
 * subquery before their own pin runs (TenantRef.check_param: anything but
 * a tenant table's own tenant column, whose scan evaluates its pin first;
 * a second level of correlation, a UNION ALL arm, an UPDATE's target, a
 * row-level security policy of the caller's): the scan's correlated
 * parameter is wrapped in gtm_pin() wherever the scan compares it, so each
 * value the outer row sets is checked against the running statement's
 * tenant before the scan reads a row (an index's runtime key is computed
 * before the index is searched; a Filter's tenant condition comes first).
 * Another tenant's value raises "statement touches more than one tenant".
 * Done on the finished plan, where the parameter is what the executor
 * evaluates: what the planner made of the query (a collation, a CTE or SQL
 * function inlined, a sublink flattened into a join, which needs no check)
 * does not matter (rounds AX, AY).
 */
typedef struct ParamWrap
{
	int			paramid;
	Oid			pin_fn;
} ParamWrap;

static Node *
wrap_param_mutator(Node *node, ParamWrap *pw)
{
	if (node == NULL)
		return NULL;
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXEC &&
		((Param *) node)->paramid == pw->paramid)
	{
		return make_pin_call((Node *) copyObject(node), pw->pin_fn);
	}
	/* already checked (the same parameter in two references) */
	if (IsA(node, FuncExpr) && ((FuncExpr *) node)->funcid == pw->pin_fn)
		return node;
	return expression_tree_mutator(node, wrap_param_mutator, (void *) pw);
}

#define WRAP(field) ((field) = (void *) wrap_param_mutator((Node *) (field), &pw))

void
check_param_pins(Plan *plan, PlanWalk *w)
{
	Scan	   *scan = (Scan *) plan;
	RangeTblEntry *rte;
	ListCell   *lc;

	if (scan->scanrelid < 1 || scan->scanrelid > (Index) list_length(w->rtable))
		return;
	rte = rt_fetch(scan->scanrelid, w->rtable);
	foreach(lc, w->param_checks)
	{
		TenantRef  *ref = lfirst(lc);
		ParamWrap	pw;

		if (ref->eref != rte->eref)
			continue;
		ref->param_checked = true;
		pw.paramid = ref->outer_paramid;
		pw.pin_fn = pin_function_oid();
		if (!OidIsValid(pw.pin_fn))
			elog(ERROR, "gtm_clarity: gtm_pin() not found");
		WRAP(plan->qual);
		switch (nodeTag(plan))
		{
			case T_IndexScan:
				WRAP(((IndexScan *) plan)->indexqual);
				WRAP(((IndexScan *) plan)->indexqualorig);
				break;
			case T_IndexOnlyScan:
				WRAP(((IndexOnlyScan *) plan)->indexqual);
				WRAP(((IndexOnlyScan *) plan)->recheckqual);
				break;
			case T_BitmapIndexScan:
				WRAP(((BitmapIndexScan *) plan)->indexqual);
				WRAP(((BitmapIndexScan *) plan)->indexqualorig);
				break;
			case T_BitmapHeapScan:
				WRAP(((BitmapHeapScan *) plan)->bitmapqualorig);
				break;
			case T_TidScan:
				WRAP(((TidScan *) plan)->tidquals);
				break;
			case T_TidRangeScan:
				WRAP(((TidRangeScan *) plan)->tidrangequals);
				break;
			case T_ForeignScan:
				/* the values it sends the server are computed here */
				WRAP(((ForeignScan *) plan)->fdw_exprs);
				WRAP(((ForeignScan *) plan)->fdw_recheck_quals);
				break;
			default:
				break;
		}
	}
}
