/*-------------------------------------------------------------------------
 *
 * enforce_index_trust.c
 *	  What an index stands for, checked against the rows.
 *
 * PostgreSQL answers from what an index stored when a row was inserted:
 * the keys of expression columns, the membership in a partial index, and
 * leaves out of a scan the conditions an index's predicate implies.  A
 * stored value is what the expression computed then -- an IMMUTABLE
 * function of the caller's replaced since, a setting an output function
 * reads (bytea_output) -- which can differ from what the planner makes of
 * the expression now, the bare tenant column among others (rounds BB, BC,
 * BD).  So, for a scan of a tenant table (tenant_quals_first,
 * enforce_order.c):
 *	- an index scan of an index with expression columns, and a bitmap scan
 *	  of an expression or partial index (whose Recheck Cond runs on lossy
 *	  pages only), compare the row's tenant column again in their Filter;
 *	- an index-only scan that reads the tenant column from a stored
 *	  expression other than the column relabelled is refused;
 *	- a scan left without a tenant condition because a partial index's
 *	  predicate implies it is refused, unless the stored predicate compares
 *	  the tenant column with a constant.
 * Indexes without expressions or predicate (RelFacts, cached) cost nothing.
 *
 * IDENTIFICATION
 *	  src/enforce_index_trust.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "catalog/pg_index.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "utils/builtins.h"
#include "utils/syscache.h"

#include "enforce.h"

/*
 * Does the scan compare the row's tenant column with a pin: in its Filter,
 * or, for an index-only scan (which reads no row), in any condition on an
 * index column that holds the tenant column (index_only_tenant_plain has
 * checked those are the column itself)?
 */
static bool
scan_has_tenant_equality(Scan *scan, const TenantColumn *tc)
{
	List	   *lists[2] = {scan->plan.qual, NIL};
	ListCell   *lc;

	if (IsA(scan, IndexOnlyScan))
		lists[1] = ((IndexOnlyScan *) scan)->indexqual;
	for (int i = 0; i < 2; i++)
		foreach(lc, lists[i])
			if (is_tenant_equality(lfirst(lc), tc))
				return true;
	return false;
}

/*
 * Does the bitmap tree read an index with expression columns (partial:
 * false) or with a predicate (partial: true)?
 */
static bool
bitmap_reads_index(Plan *plan, bool partial)
{
	ListCell   *lc;

	check_stack_depth();
	if (plan == NULL)
		return false;
	if (IsA(plan, BitmapIndexScan))
	{
		RelFacts   *f = rel_facts(((BitmapIndexScan *) plan)->indexid);

		return partial ? f->index_partial : f->index_expressions;
	}
	if (IsA(plan, BitmapAnd))
	{
		foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
			if (bitmap_reads_index(lfirst(lc), partial))
				return true;
	}
	else if (IsA(plan, BitmapOr))
	{
		foreach(lc, ((BitmapOr *) plan)->bitmapplans)
			if (bitmap_reads_index(lfirst(lc), partial))
				return true;
	}
	return false;
}

/*
 * The scan's Filter with its tenant condition, copied from the index
 * conditions when the Filter has none: an index condition on an
 * expression column is met by what the expression computed when the row
 * was inserted, which can differ from what the planner now makes of it
 * (an IMMUTABLE function of the caller's that changed, a built-in whose
 * text output reads a setting): the row's own column is compared again
 * (round BC).
 */
static List *
tenant_condition_in_filter(List *qual, List *indexconds, const TenantColumn *tc)
{
	ListCell   *lc;

	foreach(lc, qual)
		if (is_tenant_equality(lfirst(lc), tc))
			return qual;
	foreach(lc, indexconds)
		if (is_tenant_equality(lfirst(lc), tc))
			return lcons(copyObject(lfirst(lc)), qual);
	return qual;
}

/*
 * An index-only scan reads the tenant column from its index, for its
 * conditions and its output alike: from any index column that the planner
 * now reads as that column.  Is each such column the table's own column,
 * or an expression that is the column relabelled (a domain's or varchar's
 * text) as stored -- not one whose stored value is what some computation
 * gave at insertion, which the planner may now simplify to the bare column
 * (an IMMUTABLE function of the caller's replaced since, a setting a
 * built-in output function reads; rounds BC, BD)?
 */
static bool
index_only_tenant_plain(IndexOnlyScan *ios, AttrNumber attnum)
{
	HeapTuple	tup;
	Form_pg_index index;
	ListCell   *lc;
	bool		plain = true;
	List	   *exprs = NIL;
	Datum		d;
	bool		isnull;

	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(ios->indexid));
	if (!HeapTupleIsValid(tup))
		return false;
	index = (Form_pg_index) GETSTRUCT(tup);
	/* the expressions as stored, not as the planner simplifies them now */
	d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indexprs, &isnull);
	if (!isnull)
		exprs = (List *) stringToNode(TextDatumGetCString(d));
	foreach(lc, ios->indextlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Node	   *e = strip_relabel((Node *) tle->expr);
		int			k = tle->resno;
		int			n = 0;

		if (e == NULL || !IsA(e, Var) || ((Var *) e)->varattno != attnum ||
			k < 1 || k > index->indnatts || index->indkey.values[k - 1] != 0)
			continue;
		for (int c = 0; c < k - 1; c++)
			if (index->indkey.values[c] == 0)
				n++;
		if (n >= list_length(exprs) || !IsA(strip_relabel(list_nth(exprs, n)), Var))
			plain = false;
	}
	ReleaseSysCache(tup);
	return plain;
}

/*
 * Is every partial index the scan (or its bitmap tree) reads one whose
 * stored predicate includes "tenant column = constant" with a built-in
 * identity equality?  (An index without a predicate counts as plain: it
 * cannot stand for a condition.)
 */
bool
partial_indexes_plain(Plan *plan, AttrNumber attnum)
{
	Oid			indexid = InvalidOid;
	HeapTuple	tup;
	Datum		d;
	bool		isnull;
	bool		plain = false;
	ListCell   *lc;

	check_stack_depth();
	if (plan == NULL)
		return true;
	switch (nodeTag(plan))
	{
		case T_IndexScan:
			indexid = ((IndexScan *) plan)->indexid;
			break;
		case T_IndexOnlyScan:
			indexid = ((IndexOnlyScan *) plan)->indexid;
			break;
		case T_BitmapIndexScan:
			indexid = ((BitmapIndexScan *) plan)->indexid;
			break;
		case T_BitmapHeapScan:
			return partial_indexes_plain(plan->lefttree, attnum);
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				if (!partial_indexes_plain(lfirst(lc), attnum))
					return false;
			return true;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				if (!partial_indexes_plain(lfirst(lc), attnum))
					return false;
			return true;
		default:
			return false;
	}
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexid));
	if (!HeapTupleIsValid(tup))
		return false;
	d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indpred, &isnull);
	if (isnull)
		plain = true;
	else
	{
		Node	   *pred = stringToNode(TextDatumGetCString(d));

		foreach(lc, make_ands_implicit((Expr *) pred))
		{
			OpExpr	   *op = lfirst(lc);

			if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
				op->opno >= FirstNormalObjectId)
				continue;
			for (int side = 0; side < 2 && !plain; side++)
			{
				Node	   *col = strip_relabel(list_nth(op->args, side));
				Node	   *val = strip_relabel(list_nth(op->args, 1 - side));

				if (IsA(col, Var) && ((Var *) col)->varattno == attnum &&
					IsA(val, Const) && !((Const *) val)->constisnull &&
					equality_is_identity(op->opno, NIL, side == 0, op->inputcollid) &&
					!bpchar_padding_hides(exprType(list_nth(op->args, side)),
										  ((Var *) col)->vartype,
										  ((Var *) col)->vartypmod))
					plain = true;
			}
		}
	}
	ReleaseSysCache(tup);
	return plain;
}


/*
 * The checks above for a scan of a tenant table whose tenant column its
 * conditions name as tc: PR_PINNED, or the reason it is refused.  A scan
 * of an index with expressions or a predicate must compare the row's
 * tenant column itself (its Filter; an index-only scan, a plain index
 * column): an index condition the planner matched to an expression --
 * "(tenant_id = f()) = true" on a boolean expression column (round BE),
 * the expression simplified to the bare column (BC) -- or a condition a
 * predicate implied and the planner left out (BB) compares what was stored.
 * The one exception: a partial index whose stored predicate compares the
 * tenant column with a constant, which holds that tenant's rows only.
 */
/*
 * An index-only scan whose target list does not hold column attno (so no
 * condition of it compares the column on the rows): it stands for that
 * condition through its index unless the index has no expression and its
 * predicate, if any, is the column compared with a constant.
 */
bool
index_only_stands_for(Scan *scan, AttrNumber attno)
{
	return IsA(scan, IndexOnlyScan) &&
		(rel_facts(((IndexOnlyScan *) scan)->indexid)->index_expressions ||
		 !partial_indexes_plain(&scan->plan, attno));
}

PinReason
index_trust(Scan *scan, const TenantColumn *tc, AttrNumber attnum)
{
	bool		exprs = false;
	bool		partial = false;
	RelFacts   *f;

	if (IsA(scan, IndexScan) || IsA(scan, IndexOnlyScan))
	{
		f = rel_facts(IsA(scan, IndexScan) ? ((IndexScan *) scan)->indexid :
					  ((IndexOnlyScan *) scan)->indexid);
		exprs = f->index_expressions;
		partial = f->index_partial;
	}
	else if (IsA(scan, BitmapHeapScan))
	{
		exprs = bitmap_reads_index(scan->plan.lefttree, false);
		partial = bitmap_reads_index(scan->plan.lefttree, true);
	}
	if (likely(!exprs && !partial))
		return PR_PINNED;

	if (IsA(scan, IndexOnlyScan))
	{
		if (exprs && !index_only_tenant_plain((IndexOnlyScan *) scan, attnum))
			return PR_PARTIAL_INDEX;
	}
	else
		scan->plan.qual = tenant_condition_in_filter(scan->plan.qual,
													 IsA(scan, IndexScan) ?
													 ((IndexScan *) scan)->indexqualorig :
													 ((BitmapHeapScan *) scan)->bitmapqualorig,
													 tc);
	if (scan_has_tenant_equality(scan, tc))
		return PR_PINNED;
	if (!exprs && partial_indexes_plain(&scan->plan, attnum))
		return PR_PINNED;
	return PR_PARTIAL_INDEX;
}
