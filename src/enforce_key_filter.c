/*-------------------------------------------------------------------------
 *
 * enforce_key_filter.c
 *	  A statement pinned through a unique key reads its tenant's rows only:
 *	  the tenant, looked up when it starts, filters every scan first.
 *
 * A tenant table m pinned through the row a unique key of another table
 * finds (enforce_key.c) has no condition on its tenant column: the planner
 * scans every tenant's rows of m, and the join with the key's row keeps
 * one tenant's.  Whatever is evaluated on m's rows before that join sees
 * the others: a condition whose subquery runs only when a row matches, a
 * condition of another table scanned through m's rows, the sorts that
 * trace_sort reports, the scans the statistics count.  Requiring every
 * such expression to be leakproof is a list that never ends.  So when the
 * statement starts, the key's row is looked up (as run_key_pins does,
 * with the statement's snapshot and parameters), and the executor is given
 * a copy of the plan in which every scan of a tenant table evaluates
 * "tenant column = that tenant" before its other conditions (no row: a
 * condition that is false).  m's rows of other tenants then never leave
 * its scan.  A scan this cannot be added to (an index-only scan whose
 * index lacks the tenant column, a foreign or custom scan) is refused.
 *
 * The planner is kept from what would escape it: no parallel plan for m,
 * and no index-only scan of m, which becomes a plain index scan
 * (restrict_key_pinned_paths).
 *
 * IDENTIFICATION
 *	  src/enforce_key_filter.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/table.h"
#include "catalog/pg_am.h"
#include "catalog/pg_index.h"
#include "catalog/pg_opclass.h"
#include "executor/execdesc.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "enforce.h"

/*
 * The planner's side, for a relation pinned through a unique key: no
 * parallel paths (and so no parallel join above it), no index-only scan.
 * Called from set_rel_pathlist_hook, before the cheapest path is chosen.
 */
void
restrict_key_pinned_paths(RelOptInfo *rel)
{
	ListCell   *lc;

	rel->consider_parallel = false;
	rel->partial_pathlist = NIL;

	/*
	 * An index-only scan becomes the plain index scan of the same index
	 * (the same IndexPath, fetching the heap row, which has the tenant
	 * column): its cost is somewhat underestimated, never its rows.
	 */
	foreach(lc, rel->pathlist)
	{
		Path	   *path = lfirst(lc);

		if (path->pathtype == T_IndexOnlyScan && IsA(path, IndexPath))
		{
			IndexPath  *copy = makeNode(IndexPath);

			memcpy(copy, path, sizeof(IndexPath));
			copy->path.pathtype = T_IndexScan;
			lfirst(lc) = copy;
		}
	}
}

typedef struct FilterContext
{
	PlannedStmt *stmt;
	const char *tenant;			/* its text; NULL: the key finds no row */
	Oid			typid;			/* the key column's type and value */
	Datum		value;
} FilterContext;

/*
 * "var = tenant" under the default btree equality of var's type: the key
 * column's value itself when it is of var's type, else its text read as
 * var's type without a length (varchar(2) would cut 't2  ' to 't2'), and
 * false when that does not give the same text back (a tenant of another
 * type: no row of var's table can be it).
 */
static Expr *
tenant_condition(Var *var, FilterContext *cxt)
{
	/* the default btree class, from the type cache (not a catalog scan) */
	TypeCacheEntry *tce = lookup_type_cache(var->vartype, TYPECACHE_BTREE_OPFAMILY);
	Oid			opfamily = tce->btree_opf;
	Oid			opcintype = tce->btree_opintype;
	Oid			opno;
	Oid			typinput;
	Oid			typioparam;
	Expr	   *left = (Expr *) var;
	Expr	   *right;
	OpExpr	   *op;

	if (!OidIsValid(opfamily))
		elog(ERROR, "gtm_clarity: no btree operator class for type %u", var->vartype);
	opno = get_opfamily_member(opfamily, opcintype, opcintype, BTEqualStrategyNumber);
	if (!OidIsValid(opno))
		elog(ERROR, "gtm_clarity: no equality for type %u", var->vartype);
	if (cxt->typid == var->vartype)
		right = (Expr *) makeConst(var->vartype, -1, var->varcollid,
								   get_typlen(var->vartype), cxt->value,
								   false, get_typbyval(var->vartype));
	else
	{
		Datum		d;

		getTypeInputInfo(var->vartype, &typinput, &typioparam);
		d = OidInputFunctionCall(typinput, unconstify(char *, cxt->tenant),
								 typioparam, -1);
		if (strcmp(tenant_value_text(d, var->vartype), cxt->tenant) != 0)
			return (Expr *) makeBoolConst(false, false);
		right = (Expr *) makeConst(var->vartype, -1, var->varcollid,
								   get_typlen(var->vartype), d,
								   false, get_typbyval(var->vartype));
	}
	if (var->vartype != opcintype)
	{
		left = (Expr *) makeRelabelType(left, opcintype, -1, var->varcollid,
										COERCE_IMPLICIT_CAST);
		right = (Expr *) makeRelabelType(right, opcintype, -1, var->varcollid,
										 COERCE_IMPLICIT_CAST);
	}
	op = (OpExpr *) make_opclause(opno, BOOLOID, false, left, right,
								  InvalidOid, var->varcollid);
	set_opfuncid(op);
	return (Expr *) op;
}

/* The position of attno among the columns of index indexoid, or 0 */
static int
index_column_of(Oid indexoid, AttrNumber attno)
{
	HeapTuple	tuple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index index;
	int			pos = 0;

	/* the plan's lock on the index keeps its row (no index_open needed) */
	if (!HeapTupleIsValid(tuple))
		elog(ERROR, "cache lookup failed for index %u", indexoid);
	index = (Form_pg_index) GETSTRUCT(tuple);
	for (int i = 0; i < index->indnatts; i++)
		if (index->indkey.values[i] == attno)
		{
			pos = i + 1;
			break;
		}
	ReleaseSysCache(tuple);
	return pos;
}


/* Put the tenant's condition first among the conditions of one scan */
static void
filter_scan(Plan *plan, FilterContext *cxt)
{
	Scan	   *scan = (Scan *) plan;
	RangeTblEntry *rte;
	RelFacts   *f;
	Var		   *var;
	Expr	   *cond;
	Oid			typid;
	int32		typmod;
	Oid			collid;

	if (scan->scanrelid == 0 || scan->scanrelid > (Index) list_length(cxt->stmt->rtable))
		return;
	rte = rt_fetch(scan->scanrelid, cxt->stmt->rtable);
	if (rte->rtekind != RTE_RELATION)
		return;
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return;
	get_atttypetypmodcoll(rte->relid, f->attnum, &typid, &typmod, &collid);

	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_BitmapHeapScan:
		case T_TidScan:
		case T_TidRangeScan:
			var = makeVar(scan->scanrelid, f->attnum, typid, typmod, collid, 0);
			break;
		case T_IndexOnlyScan:
			{
				int			pos = index_column_of(((IndexOnlyScan *) plan)->indexid,
												  f->attnum);

				if (pos > 0)
				{
					var = makeVar(INDEX_VAR, pos, typid, typmod, collid, 0);
					break;
				}
			}
			/* FALLTHROUGH */
		default:
			ereport(ERROR,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("tenant-scoped table \"%s\" cannot be restricted to the tenant of the unique key that pins the statement",
							get_rel_name(rte->relid)),
					 errdetail("Its scan in this plan cannot take the tenant's condition first."),
					 err_tenant_scope(rte->relid),
					 errhint("Add \"%s = <value>\" to the statement.", tenant_column_name(rte->relid))));
			return;
	}
	cond = cxt->tenant == NULL ? (Expr *) makeBoolConst(false, false) :
		tenant_condition(var, cxt);
	plan->qual = lcons(cond, plan->qual);

	/*
	 * A recheck (a lossy match of GIN, GiST or BRIN) runs before the
	 * Filter, on rows of every tenant: the condition goes first there too.
	 */
	if (IsA(plan, IndexScan) && ((IndexScan *) plan)->indexqualorig != NIL)
		((IndexScan *) plan)->indexqualorig =
			lcons(copyObject(cond), ((IndexScan *) plan)->indexqualorig);
	else if (IsA(plan, BitmapHeapScan) &&
			 ((BitmapHeapScan *) plan)->bitmapqualorig != NIL)
		((BitmapHeapScan *) plan)->bitmapqualorig =
			lcons(copyObject(cond), ((BitmapHeapScan *) plan)->bitmapqualorig);
	else if (IsA(plan, IndexOnlyScan) &&
			 ((IndexOnlyScan *) plan)->recheckqual != NIL)
		((IndexOnlyScan *) plan)->recheckqual =
			lcons(copyObject(cond), ((IndexOnlyScan *) plan)->recheckqual);
}

/* Walk a plan tree, filtering its scans */
static void
filter_plan_tree(Plan *plan, FilterContext *cxt)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();
	switch (nodeTag(plan))
	{
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				filter_plan_tree(lfirst(lc), cxt);
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				filter_plan_tree(lfirst(lc), cxt);
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				filter_plan_tree(lfirst(lc), cxt);
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				filter_plan_tree(lfirst(lc), cxt);
			break;
		case T_SubqueryScan:
			filter_plan_tree(((SubqueryScan *) plan)->subplan, cxt);
			break;
		case T_CustomScan:
			foreach(lc, ((CustomScan *) plan)->custom_plans)
				filter_plan_tree(lfirst(lc), cxt);
			filter_scan(plan, cxt);
			break;
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_IndexOnlyScan:
		case T_BitmapHeapScan:
		case T_TidScan:
		case T_TidRangeScan:
		case T_ForeignScan:
			filter_scan(plan, cxt);
			break;
		default:
			break;
	}
	filter_plan_tree(plan->lefttree, cxt);
	filter_plan_tree(plan->righttree, cxt);
}

/*
 * ExecutorStart, before the executor: a plan with unique-key pins, run by
 * a role that is not exempt, is replaced, for this execution, by a copy
 * whose tenant scans are filtered by the tenant the keys find (see the
 * file header).  Keys that find different tenants are left to
 * run_statement_pins, which rejects the statement before it runs.
 */
void
filter_key_pinned_plan(QueryDesc *queryDesc)
{
	StringInfoData buf = {NULL, 0, 0, 0};
	char	   *payload = read_plan_payload(queryDesc->plannedstmt->invalItems,
											GTM_KEYS_CACHEID, &buf);
	FilterContext cxt;
	ListCell   *lc;
	MemoryContext old;

	/*
	 * Also for an exempt role: its plans carry key pins only when they were
	 * judged (it read through a view of a role that is not exempt).
	 */
	if (payload == NULL)
		return;

	/* the copy, and the key's value in it, live as long as the QueryDesc */
	old = MemoryContextSwitchTo(GetMemoryChunkContext(queryDesc));
	cxt.tenant = NULL;
	foreach(lc, (List *) stringToNode(payload))
	{
		Oid			typid = InvalidOid;
		Datum		value = (Datum) 0;
		char	   *tenant = lookup_key_value(lfirst(lc), queryDesc, &typid, &value);

		if (tenant == NULL)
		{
			cxt.tenant = NULL;
			break;				/* one key finds nothing: nothing is read */
		}
		if (cxt.tenant != NULL && strcmp(cxt.tenant, tenant) != 0)
		{
			MemoryContextSwitchTo(old);
			return;				/* rejected by run_statement_pins */
		}
		cxt.tenant = tenant;
		cxt.typid = typid;
		cxt.value = value;
	}

	cxt.stmt = copyObject(queryDesc->plannedstmt);
	filter_plan_tree(cxt.stmt->planTree, &cxt);
	foreach(lc, cxt.stmt->subplans)
		filter_plan_tree(lfirst(lc), &cxt);
	queryDesc->plannedstmt = cxt.stmt;
	MemoryContextSwitchTo(old);
}
