/*-------------------------------------------------------------------------
 *
 * enforce_walk.c
 *	  The walk of a finished plan: the scans it reads, in the order their
 *	  conditions run.
 *
 * walk_plan() visits every node of a plan tree (and judge_plan() every
 * subplan) for judge_scans (enforce_judge.c): it notes the range-table
 * indexes each known scan reads, puts the tenant condition first in each
 * scan of a tenant table (tenant_quals_first, enforce_order.c) and notes
 * the scans whose conditions would still run unsafely (a foreign server's,
 * an index scan ordered by the caller's function), the relations a foreign
 * server reads for a join or aggregate pushed down, the ModifyTable nodes,
 * and the first node it cannot see into (fail closed).
 *
 * IDENTIFICATION
 *	  src/enforce_walk.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/extensible.h"
#include "nodes/plannodes.h"

#include "enforce.h"

/* A scan of rtable index rti whose order of evaluation is unsafe (why) */
static pg_noinline void
note_unsafe_scan(PlanWalk *w, Index rti, PinReason why)
{
	w->unsafe_rti = lappend_int(w->unsafe_rti, (int) rti);
	w->unsafe_why = lappend_int(w->unsafe_why, (int) why);
}

/* Note rtable index i as read by a known scan (no allocation below 64) */
static inline void
mark_scanned(PlanWalk *w, int i)
{
	if (i >= 0 && i < 64)
		w->scanned_low |= UINT64CONST(1) << i;
	else
		w->scanned_high = bms_add_member(w->scanned_high, i);
}

/*
 * Collect the range-table indexes the plan scans and its ModifyTable nodes,
 * and put the tenant condition first in each scan of a table
 * (tenant_quals_first, enforce_order.c: rearranging changes no verdict).
 * Every node type of PostgreSQL's executor is known here: a scan of a
 * table counts its relation; scans of subqueries, CTEs, functions and
 * VALUES read no table; the others only have children.  A node that is not
 * known (another extension's Custom Scan, a node of a newer PostgreSQL)
 * makes the plan opaque: what it reads cannot be seen, and judge_scans()
 * then rejects every tenant table the statement names outside the known
 * scans (fail closed).  Its subtree is not entered.
 */
void
walk_plan(Plan *plan, PlanWalk *w)
{
	ListCell   *lc;
	PinReason	why;

	check_stack_depth();

	/*
	 * A node, then its left subtree, then its right subtree: the right one
	 * by this loop rather than another call (most plans are left-deep).
	 */
	while (plan != NULL)
	{
		switch (nodeTag(plan))
		{
			case T_SeqScan:
			case T_SampleScan:
			case T_IndexScan:
			case T_IndexOnlyScan:
			case T_BitmapHeapScan:
			case T_TidScan:
			case T_TidRangeScan:
				mark_scanned(w, ((Scan *) plan)->scanrelid);
				/* the tenant condition first (enforce_order.c) */
				why = tenant_quals_first((Scan *) plan, w->rtable);
				if (unlikely(why != PR_PINNED))
					note_unsafe_scan(w, ((Scan *) plan)->scanrelid, why);
				if (unlikely(w->pin_columns != NIL))
				{
					pin_columns_first((Scan *) plan, w);
					why = pin_columns_trusted((Scan *) plan, w);
					if (why != PR_PINNED)
						w->untrusted_source = why;
				}
				if (unlikely(w->param_checks != NIL))
					check_param_pins(plan, w);
				break;
			case T_BitmapIndexScan:
				if (unlikely(w->param_checks != NIL))
					check_param_pins(plan, w);
				break;
			case T_ForeignScan:
				{
					ForeignScan *fs = (ForeignScan *) plan;
					int			r = -1;

					if (fs->scan.scanrelid > 0)
					{
						mark_scanned(w, fs->scan.scanrelid);
						/* its local Filter: the tenant condition first */
						why = tenant_quals_first(&fs->scan, w->rtable);
						if (unlikely(why != PR_PINNED))
							note_unsafe_scan(w, fs->scan.scanrelid, why);
						if (unlikely(w->pin_columns != NIL))
							pin_columns_first(&fs->scan, w);
						if (unlikely(w->param_checks != NIL))
							check_param_pins(plan, w);
					}
					while ((r = bms_next_member(fs->fs_relids, r)) >= 0)
						mark_scanned(w, r);
					if (fs->scan.scanrelid == 0)
						w->pushed_down = bms_add_members(w->pushed_down, fs->fs_relids);
				}
				break;
			case T_CustomScan:
				if (w->opaque == NULL)
					w->opaque = psprintf("Custom Scan (%s)",
										 ((CustomScan *) plan)->methods->CustomName);
				return;
			case T_Append:
				foreach(lc, ((Append *) plan)->appendplans)
					walk_plan(lfirst(lc), w);
				break;
			case T_MergeAppend:
				foreach(lc, ((MergeAppend *) plan)->mergeplans)
					walk_plan(lfirst(lc), w);
				break;
			case T_BitmapAnd:
				foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
					walk_plan(lfirst(lc), w);
				break;
			case T_BitmapOr:
				foreach(lc, ((BitmapOr *) plan)->bitmapplans)
					walk_plan(lfirst(lc), w);
				break;
			case T_SubqueryScan:
				if (unlikely(w->pin_columns != NIL))
					pin_columns_first((Scan *) plan, w);
				walk_plan(((SubqueryScan *) plan)->subplan, w);
				break;
			case T_FunctionScan:
			case T_ValuesScan:
			case T_TableFuncScan:
			case T_CteScan:
			case T_NamedTuplestoreScan:
			case T_WorkTableScan:
				/* no table read; a correlated pin's column may be here */
				if (unlikely(w->pin_columns != NIL))
					pin_columns_first((Scan *) plan, w);
				break;
			case T_ModifyTable:
				if (w->n_modifytables == w->max_modifytables)
				{
					ModifyTable **more = palloc(2 * w->max_modifytables *
												sizeof(ModifyTable *));

					memcpy(more, w->modifytables,
						   w->n_modifytables * sizeof(ModifyTable *));
					w->modifytables = more;
					w->max_modifytables *= 2;
				}
				w->modifytables[w->n_modifytables++] = (ModifyTable *) plan;
				break;
			case T_Result:
			case T_ProjectSet:
			case T_RecursiveUnion:
			case T_NestLoop:
			case T_MergeJoin:
			case T_HashJoin:
			case T_Material:
			case T_Memoize:
			case T_Sort:
			case T_IncrementalSort:
			case T_Group:
			case T_Agg:
			case T_WindowAgg:
			case T_Unique:
			case T_Gather:
			case T_GatherMerge:
			case T_Hash:
			case T_SetOp:
			case T_LockRows:
			case T_Limit:
				break;
			default:
				if (w->opaque == NULL)
					w->opaque = psprintf("plan node %d", (int) nodeTag(plan));
				return;
		}
		if (plan->lefttree != NULL)
		{
			if (plan->righttree == NULL)
			{
				plan = plan->lefttree;	/* the only child: no call */
				continue;
			}
			walk_plan(plan->lefttree, w);
		}
		plan = plan->righttree;
	}
}
