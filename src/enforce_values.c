/*-------------------------------------------------------------------------
 *
 * enforce_values.c
 *	  The tenant values a column or an expression can hold.
 *
 * Two uses:
 *
 *	- the outer column of a correlated pin (PR_DEFERRED): the rows of the
 *	  inner reference carry the values of that outer column (var_values);
 *	- a value written into a tenant column by INSERT, UPDATE, ON CONFLICT
 *	  DO UPDATE or MERGE (written_values): every row written must carry one
 *	  of the values found, and none may be NULL.
 *
 * A value is followed through
 *	  - a base relation: its pin (rel_pin);
 *	  - a subquery, a CTE or a VALUES list: the values of its output column;
 *	  - a data-modifying CTE: its RETURNING list, whose columns of the
 *		result relation are the values written (INSERT, UPDATE) or the
 *		rows' own values (DELETE; UPDATE of another column); RETURNING
 *		old.col of an UPDATE (PostgreSQL 18) is the row as read, and old
 *		of an INSERT or new of a DELETE, which is NULL, is no value; of a
 *		MERGE (RETURNING from PostgreSQL 17) only the tenant column is
 *		followed (the target's pin: what its actions write into it is
 *		judged on its own), since which action returned a row is unknown;
 *	  - the result relation of an INSERT (a correlated subquery in ON
 *		CONFLICT DO UPDATE or RETURNING): the inserted values, and for the
 *		tenant column of a conflicting row the same, since the arbiter
 *		includes the tenant column (judge_modify_tables) and compares it by
 *		identity;
 *	  - EXCLUDED: the values proposed for insertion.
 *
 * For a written value NULL matters: a column from the nullable side of an
 * outer join, or of a query with grouping sets, can be NULL whatever its
 * pin (PR_NULLABLE).  An expression (a parameter, a stable expression)
 * that is NULL when the statement starts is rejected then, as every
 * written value is (enforce_runtime.c).  Values coming from a pin are
 * never NULL: a row satisfying "col = v" is not.
 *
 * IDENTIFICATION
 *	  src/enforce_values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "enforce.h"

/* Which row of an UPDATE's target target_values follows */
typedef enum TargetRow
{
	ROW_READ_OR_WRITTEN,		/* either: a correlated subquery sees both */
	ROW_RETURNED,				/* the new row, as RETURNING (new.) sees it */
	ROW_OLD						/* RETURNING old. (PostgreSQL 18): as read */
} TargetRow;

/* The state of one walk through values */
typedef struct ValueWalk
{
	EnforceState *st;
	bool		write;			/* values written into a tenant column */
	PinReason	why;			/* out: why NIL was returned */
	/*
	 * The walk is for a written value: every column a pin is taken from is
	 * noted (PinColumn), also past a correlated pin, where write is off
	 * (round BR)
	 */
	bool		for_write;
	/* the MERGE whose INSERT action writes the value: its source is real */
	PlannerInfo *merge_insert;
} ValueWalk;

#define MAX_VALUE_DEPTH 16

static List *column_values(ValueWalk *vw, PlannerInfo *root, Index varno,
						   AttrNumber attno, int depth);
static List *expression_values(ValueWalk *vw, PlannerInfo *root, Node *expr,
							   int depth);
static bool note_pin_column(ValueWalk *vw, PlannerInfo *root, Index varno,
							AttrNumber attno, int depth);

/* Is e a Var of this level naming (varno, attno)? */
static bool
is_column(Node *e, Index varno, AttrNumber attno)
{
	e = strip_relabel(e);
	return e && IsA(e, Var) && ((Var *) e)->varlevelsup == 0 &&
		((Var *) e)->varno == varno && ((Var *) e)->varattno == attno;
}

/*
 * Can a column of relation varno be NULL in root's output although the
 * relation's own rows are pinned?  It can on the nullable side of an outer
 * join (as the planner keeps them after reducing outer joins: the inner
 * side of LEFT and ANTI joins, both sides of FULL ones), and in a query
 * with grouping sets, whose rows of a larger set carry NULL for the
 * columns they group over.  Not by MERGE's own join (the one naming
 * merge_target) in the values of its INSERT action, which runs for a
 * source row that met no target row: FULL with NOT MATCHED BY SOURCE
 * actions (PostgreSQL 17), where only those actions see a NULL source.
 */
static bool
nullable_in_output(PlannerInfo *root, Index varno, Index merge_target)
{
	ListCell   *lc;

	if (root->parse->groupingSets != NIL)
		return true;
	foreach(lc, root->join_info_list)
	{
		SpecialJoinInfo *sj = lfirst_node(SpecialJoinInfo, lc);

		if (merge_target > 0 && (bms_is_member(merge_target, sj->syn_lefthand) ||
								 bms_is_member(merge_target, sj->syn_righthand)))
			continue;
		if ((sj->jointype == JOIN_LEFT || sj->jointype == JOIN_ANTI ||
			 sj->jointype == JOIN_FULL) &&
			bms_is_member(varno, sj->syn_righthand))
			return true;
		if (sj->jointype == JOIN_FULL && bms_is_member(varno, sj->syn_lefthand))
			return true;
	}
	return false;
}

/* The expression of tlist's non-junk entry for column attno, or NULL. */
static Node *
tlist_column(List *tlist, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resno == attno && !tle->resjunk)
			return (Node *) tle->expr;
	}
	return NULL;
}

/*
 * The new value an UPDATE assigns to column attno, or NULL: the leading
 * entries of processed_tlist are the new values of the columns listed in
 * update_colnos.  An assignment of the column to itself is no change.
 */
static Node *
update_assignment(PlannerInfo *root, AttrNumber attno)
{
	ListCell   *lc;
	int			i = 0;

	foreach(lc, root->update_colnos)
	{
		if (lfirst_int(lc) == attno && i < list_length(root->processed_tlist))
		{
			Node	   *e = (Node *) ((TargetEntry *) list_nth(root->processed_tlist, i))->expr;

			return is_column(e, root->parse->resultRelation, attno) ? NULL : e;
		}
		i++;
	}
	return NULL;
}

/* The values proposed for column attno by the INSERT of root. */
static List *
inserted_values(ValueWalk *vw, PlannerInfo *root, AttrNumber attno, int depth)
{
	Node	   *e = tlist_column(root->processed_tlist, attno);

	if (e == NULL)
	{
		vw->why = PR_NULL;
		return NIL;
	}
	return expression_values(vw, root, e, depth + 1);
}

/*
 * The values column attno of the result relation of root (an INSERT or
 * UPDATE) can hold where a correlated subquery or the RETURNING list sees
 * it.  which: ROW_RETURNED only where RETURNING sees it (the new row of an
 * UPDATE); ROW_OLD the row as read (RETURNING old. of an UPDATE, never
 * asked of an INSERT); ROW_READ_OR_WRITTEN both.
 *
 * The tenant column: an INSERT's inserted value, an UPDATE's pin.  A new
 * value assigned to it (UPDATE SET, ON CONFLICT DO UPDATE SET) is recorded
 * on its own and must be the same tenant (judge_one_tenant), and the
 * conflicting row of ON CONFLICT DO UPDATE has the inserted tenant (the
 * arbiter includes the tenant column, compared by identity:
 * judge_modify_tables).
 *
 * Another column: an INSERT's inserted value, unless ON CONFLICT DO UPDATE
 * may return or update a conflicting row, whose values are unknown (and
 * whose SET list create_plan has renumbered by now); an UPDATE's pin and
 * the value assigned.  A row that a trigger or a foreign server may
 * change is not trusted; the tenant column of such a row is trusted only
 * for the table's own write (README, known limits: a trigger written by
 * the table's owner can change it), never when read through RETURNING.
 */
static List *
target_values(ValueWalk *vw, PlannerInfo *root, AttrNumber attno, int depth,
			  TargetRow which)
{
	Query	   *parse = root->parse;
	Index		target = parse->resultRelation;
	RangeTblEntry *rte = rt_fetch(target, parse->rtable);
	RelFacts   *f = rel_facts(rte->relid);
	/* (an exempt table's new tenant values are not recorded nor compared) */
	bool		tenant_col = f->tenant && !f->exempt && f->attnum == attno;
	RelOptInfo *rel;
	PinResult	pr;
	Node	   *set;
	List	   *vals;
	List	   *more;

	vw->why = PR_OTHER_COLUMN;

	/*
	 * Not even the tenant column is followed through RETURNING when a
	 * trigger or a foreign server may change the row: a BEFORE trigger on a
	 * table of the caller's own can put another tenant there and hand it to
	 * a write into a tenant table, or to a subquery of the RETURNING list
	 * or of a view's CHECK OPTION, a policy's WITH CHECK or ON CONFLICT DO
	 * UPDATE correlated with it (such a subquery sees the row written, or
	 * the conflicting row another statement wrote; one of the WHERE or SET
	 * lists sees the row as read, but a correlated subquery does not say
	 * where it is, so any subquery in those lists counts).
	 */
	if ((which == ROW_RETURNED || !tenant_col ||
		 (which == ROW_READ_OR_WRITTEN &&
		  (contain_subplans((Node *) parse->returningList) ||
		   contain_subplans((Node *) parse->withCheckOptions) ||
		   contain_subplans((Node *) parse->onConflict)))) &&
		row_may_differ_from_written(vw->st, rte->relid, rte->inh, parse->commandType,
									parse->onConflict != NULL &&
									parse->onConflict->action == ONCONFLICT_UPDATE,
									attno))
		return NIL;

	if (parse->commandType == CMD_INSERT)
	{
		if (!tenant_col && parse->onConflict &&
			parse->onConflict->action == ONCONFLICT_UPDATE)
			return NIL;
		/* a partition may compute a column its parent does not */
		if (!tenant_col && column_generated(vw->st, rte->relid, rte->inh, attno))
			return NIL;
		return inserted_values(vw, root, attno, depth);
	}

	Assert(parse->commandType == CMD_UPDATE);

	/*
	 * The new row's value of a generated column is computed from the
	 * columns the UPDATE sets, not the one the statement's conditions pin.
	 */
	if (!tenant_col && which != ROW_OLD &&
		column_generated(vw->st, rte->relid, rte->inh, attno))
		return NIL;
	set = (tenant_col || which == ROW_OLD) ? NULL : update_assignment(root, attno);
	if (set != NULL && which == ROW_RETURNED)
		return expression_values(vw, root, set, depth + 1);
	rel = root->simple_rel_array[target];
	if (rel == NULL)
		return NIL;
	rel_pin(vw->st, root, rel, target, attno, &pr);
	if (pr.reason != PR_PINNED)
	{
		vw->why = pr.reason;
		return NIL;
	}
	/*
	 * The updated table's own scan must evaluate the pin too, and a value
	 * written from it is checked on each row (round BX: a bitmap scan of a
	 * lying partial index of the caller's, whose condition is only its
	 * Recheck Cond, returned T2 through UPDATE ... RETURNING)
	 */
	if ((vw->st->record_pin_columns || vw->for_write) &&
		!note_pin_column(vw, root, target, attno, depth) && vw->for_write)
	{
		vw->why = PR_UNTRUSTED_SOURCE;
		return NIL;
	}
	vals = list_make1(pr.value);
	if (set == NULL)
		return vals;
	more = expression_values(vw, root, set, depth + 1);
	return more ? list_concat(vals, more) : NIL;
}

/*
 * The values column attno of MERGE's target can hold where a correlated
 * subquery or RETURNING sees it.  RETURNING sees the row an action updated
 * or inserted (a NOT MATCHED row never met the join condition), and its
 * other columns are whatever the actions put there: only the tenant column
 * is followed, to the target's pin, the one tenant every action must keep
 * or write (judge_plan), and only where no trigger or foreign server may
 * change the row.
 */
static List *
merge_target_values(ValueWalk *vw, PlannerInfo *root, AttrNumber attno)
{
	Index		target = root->parse->resultRelation;
	RangeTblEntry *rte = rt_fetch(target, root->parse->rtable);
	RelFacts   *f = rel_facts(rte->relid);
	RelOptInfo *rel = root->simple_rel_array[target];
	PinResult	pr;

	vw->why = PR_OTHER_COLUMN;
	if (!f->tenant || f->exempt || f->attnum != attno || rel == NULL ||
		row_may_differ_from_written(vw->st, rte->relid, rte->inh, CMD_MERGE, false, attno))
		return NIL;
	rel_pin(vw->st, root, rel, target, attno, &pr);
	if (pr.reason != PR_PINNED)
	{
		vw->why = pr.reason;
		return NIL;
	}
	return list_make1(pr.value);
}

/*
 * Does expr name the old or new row of RETURNING (PostgreSQL 18: a Var with
 * a returning type, or a ReturningExpr the rewriter put in for a view's
 * column)?  Such a value is NULL where that row does not exist.
 */
static bool
returns_old_or_new_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) &&
		(GTM_VAR_RETURNS_OLD((Var *) node) || GTM_VAR_RETURNS_NEW((Var *) node)))
		return true;
	if (GTM_IS_RETURNING_EXPR(node))
		return true;
	return expression_tree_walker(node, returns_old_or_new_walker, context);
}

/* The values of output column attno of a data-modifying CTE's query. */
static List *
returning_values(ValueWalk *vw, PlannerInfo *root, AttrNumber attno, int depth)
{
	Query	   *parse = root->parse;
	CmdType		cmd = parse->commandType;
	Node	   *e = tlist_column(parse->returningList, attno);
	Node	   *s = strip_relabel(e);

	vw->why = PR_OTHER_COLUMN;
	if (e == NULL)
		return NIL;
	if (IsA(s, Var) && ((Var *) s)->varlevelsup == 0 &&
		((Var *) s)->varno == parse->resultRelation)
	{
		Var		   *v = (Var *) s;
		bool		old = GTM_VAR_RETURNS_OLD(v);
		bool		new = GTM_VAR_RETURNS_NEW(v);
		RelFacts   *f;

		/* the old row of an INSERT, the new row of a DELETE: NULL */
		if ((old && cmd == CMD_INSERT) || (new && cmd == CMD_DELETE))
		{
			vw->why = PR_NULLABLE;
			return NIL;
		}
		if (cmd == CMD_INSERT || cmd == CMD_UPDATE)
			return target_values(vw, root, v->varattno, depth + 1,
								 old ? ROW_OLD : ROW_RETURNED);
		if (cmd == CMD_MERGE)
		{
			/*
			 * A returned row is the one an action read, updated or
			 * inserted; old or new may not exist.  Only the tenant column
			 * is followed: to the target's pin, the one tenant every
			 * action must keep or write (judge_plan).
			 */
			f = rel_facts(rt_fetch(parse->resultRelation, parse->rtable)->relid);
			if (old || new || !f->tenant || f->exempt ||
				f->attnum != v->varattno)
				return NIL;
		}
		/* DELETE, a MERGE's tenant column: the row as read */
		return expression_values(vw, root, e, depth + 1);
	}
	if (returns_old_or_new_walker(e, NULL))
	{
		vw->why = PR_NULLABLE;
		return NIL;
	}
	return expression_values(vw, root, e, depth + 1);
}

/*
 * The values of column attno of a CTE named by rte at root's level: of its
 * query's output, through RETURNING for a data-modifying one.
 */
static List *
cte_values(ValueWalk *vw, PlannerInfo *root, RangeTblEntry *rte,
		   AttrNumber attno, int depth)
{
	PlannerInfo *cteroot = root;
	Index		levelsup = rte->ctelevelsup;
	int			ndx = 0;
	ListCell   *lc;
	int			plan_id;
	PlannerInfo *subroot;

	while (levelsup-- > 0 && cteroot)
		cteroot = cteroot->parent_root;
	if (cteroot == NULL)
		return NIL;
	foreach(lc, cteroot->parse->cteList)
	{
		if (strcmp(((CommonTableExpr *) lfirst(lc))->ctename, rte->ctename) == 0)
			break;
		ndx++;
	}
	if (lc == NULL || ndx >= list_length(cteroot->cte_plan_ids))
		return NIL;
	plan_id = list_nth_int(cteroot->cte_plan_ids, ndx);
	if (plan_id <= 0 || plan_id > list_length(root->glob->subroots))
		return NIL;
	subroot = list_nth(root->glob->subroots, plan_id - 1);
	if (subroot->parse->commandType != CMD_SELECT)
		return returning_values(vw, subroot, attno, depth + 1);
	{
		Node	   *e = tlist_column(subroot->processed_tlist, attno);

		return e ? expression_values(vw, subroot, e, depth + 1) : NIL;
	}
}

/* Is attno the tenant column of relid, a tenant table that is not exempt? */
static bool
is_tenant_column_of(Oid relid, AttrNumber attno)
{
	RelFacts   *f = rel_facts(relid);

	return f->tenant && !f->exempt && f->attnum == attno;
}

/*
 * Note column attno of relation varno (at root's level), whose condition
 * pins it, as a PinColumn: the walk puts that equality first in its scan
 * and requires the scan to evaluate it on its rows (pin_columns_trusted),
 * unless it is a tenant table's tenant column, which tenant_quals_first
 * and index_trust judge already.  A relation that is not a table -- a
 * subquery, a UNION ALL (an appendrel over its branches) -- holds no rows
 * of its own: its condition was pushed down to the relations it reads,
 * whose columns are followed and noted too, or the scan that reads them
 * could stand for it by an index and go unchecked (round BS); a condition
 * left on the subquery's own scan is evaluated there.  False when such a
 * source is not a column (an expression of the branch or subquery, whose
 * pushed-down condition a partial index may stand for as well): a written
 * value is then no pin (fail closed).  Constants of a branch hold no rows.
 */
static bool
note_pin_column(ValueWalk *vw, PlannerInfo *root, Index varno,
				AttrNumber attno, int depth)
{
	bool		verified = true;
	RelOptInfo *rel = root->simple_rel_array[varno];
	RangeTblEntry *rte = root->simple_rte_array[varno];
	PinColumn  *pc;
	ListCell   *lc;

	check_stack_depth();
	if (rel == NULL || rte == NULL || depth > MAX_VALUE_DEPTH || attno <= 0)
		return false;
	if (rte->rtekind == RTE_RELATION && !rte->inh &&
		is_tenant_column_of(rte->relid, attno))
		return true;
	pc = palloc(sizeof(PinColumn));
	pc->eref = rte->eref;
	pc->attno = attno;
	vw->st->pin_columns = lappend(vw->st->pin_columns, pc);
	if (vw->for_write)
		vw->st->write_pin_sources = true;
	if (rte->rtekind != RTE_SUBQUERY)
		return true;
	if (rte->inh)
	{
		/* a UNION ALL: each branch's column, where it is a column */
		foreach(lc, root->append_rel_list)
		{
			AppendRelInfo *ai = lfirst_node(AppendRelInfo, lc);
			Node	   *e;

			if (ai->parent_relid != varno ||
				attno > list_length(ai->translated_vars))
				continue;
			e = strip_relabel(list_nth(ai->translated_vars, attno - 1));
			if (e != NULL && IsA(e, Var) && ((Var *) e)->varlevelsup == 0)
				verified &= note_pin_column(vw, root, ((Var *) e)->varno,
											((Var *) e)->varattno, depth + 1);
			else if (e == NULL || !IsA(e, Const))
				verified = false;
		}
	}
	else if (rel->subroot != NULL)
	{
		/* a subquery planned apart: its output column's source */
		Node	   *e = strip_relabel(tlist_column(rel->subroot->processed_tlist,
												   attno));

		if (e != NULL && IsA(e, Var) && ((Var *) e)->varlevelsup == 0)
			verified = note_pin_column(vw, rel->subroot, ((Var *) e)->varno,
									   ((Var *) e)->varattno, depth + 1);
		else if (e == NULL || !IsA(e, Const))
			verified = false;
	}
	return verified;
}

/*
 * The values of column (varno, attno) of root, or NIL with vw->why set.
 */
static List *
column_values(ValueWalk *vw, PlannerInfo *root, Index varno, AttrNumber attno,
			  int depth)
{
	Query	   *parse = root->parse;
	RelOptInfo *rel;
	RangeTblEntry *rte;
	PinResult	pr;

	check_stack_depth();
	vw->why = PR_OTHER_COLUMN;
	if (depth > MAX_VALUE_DEPTH || varno < 1 ||
		varno >= root->simple_rel_array_size || attno <= 0)
		return NIL;
	/*
	 * MERGE's target is the nullable side of its join when it inserts, but
	 * what RETURNING or a correlated subquery sees of its tenant column is
	 * the row an action kept or wrote: merge_target_values.
	 */
	if (varno == parse->resultRelation && parse->commandType == CMD_MERGE)
		return merge_target_values(vw, root, attno);
	if (vw->write && nullable_in_output(root, varno, vw->merge_insert == root ?
										parse->resultRelation : 0))
	{
		vw->why = PR_NULLABLE;
		return NIL;
	}
	if (parse->onConflict && varno == parse->onConflict->exclRelIndex)
	{
		RangeTblEntry *target = rt_fetch(parse->resultRelation, parse->rtable);

		/* EXCLUDED is the row after the BEFORE INSERT triggers */
		if (row_may_differ_from_written(vw->st, target->relid, target->inh, CMD_INSERT,
										false, attno))
			return NIL;
		return inserted_values(vw, root, attno, depth);
	}
	if (varno == parse->resultRelation &&
		(parse->commandType == CMD_INSERT || parse->commandType == CMD_UPDATE))
		return target_values(vw, root, attno, depth + 1, ROW_READ_OR_WRITTEN);

	rel = root->simple_rel_array[varno];
	rte = root->simple_rte_array[varno];
	if (rel == NULL || rte == NULL)
		return NIL;

	rel_pin(vw->st, root, rel, varno, attno, &pr);
	if (pr.reason == PR_PINNED)
	{
		/*
		 * Its equality first in the scan (judge_plan, walk_plan), and
		 * evaluated there on the rows, not stood for by an index
		 * (pin_columns_trusted, round BP), unless it is a tenant table's
		 * tenant column, which tenant_quals_first and index_trust judge
		 * already.  For a correlated pin (record_pin_columns) and for a
		 * written value.
		 */
		if ((vw->st->record_pin_columns || vw->for_write) &&
			!note_pin_column(vw, root, varno, attno, depth) && vw->for_write)
		{
			vw->why = PR_UNTRUSTED_SOURCE;
			return NIL;
		}
		return list_make1(pr.value);
	}
	if (pr.reason == PR_DEFERRED)
	{
		/*
		 * The rows carry the outer column's value and exist only where it
		 * is not NULL: whether the outer column can be NULL does not
		 * matter.
		 */
		bool		write = vw->write;
		List	   *vals;

		vw->write = false;
		vals = column_values(vw, pr.outer_root, pr.outer_varno,
							 pr.outer_attno, depth + 1);
		vw->write = write;
		return vals;
	}

	if (rte->rtekind == RTE_SUBQUERY && rel->subroot != NULL)
	{
		Node	   *e = tlist_column(rel->subroot->processed_tlist, attno);

		if (e != NULL)
			return expression_values(vw, rel->subroot, e, depth + 1);
	}
	else if (rte->rtekind == RTE_SUBQUERY && rte->inh)
	{
		/*
		 * A UNION ALL flattened into this level (an appendrel): the values
		 * of each branch's column, each pinned on its own (round BS: a
		 * pin inside every branch, not on the union)
		 */
		List	   *result = NIL;
		ListCell   *lc;

		foreach(lc, root->append_rel_list)
		{
			AppendRelInfo *ai = lfirst_node(AppendRelInfo, lc);
			List	   *v;

			if (ai->parent_relid != varno)
				continue;
			if (attno > list_length(ai->translated_vars))
				return NIL;
			v = expression_values(vw, root, list_nth(ai->translated_vars, attno - 1),
								  depth + 1);
			if (v == NIL)
				return NIL;
			result = list_concat(result, v);
		}
		return result;
	}
	else if (rte->rtekind == RTE_CTE && !rte->self_reference)
		return cte_values(vw, root, rte, attno, depth);
	else if (rte->rtekind == RTE_VALUES)
	{
		List	   *result = NIL;
		ListCell   *lc;

		foreach(lc, rte->values_lists)
		{
			List	   *row = lfirst(lc);
			List	   *v;

			if (attno > list_length(row))
				return NIL;
			v = expression_values(vw, root, list_nth(row, attno - 1), depth + 1);
			if (v == NIL)
				return NIL;
			result = list_concat(result, v);
		}
		return result;
	}
	return NIL;
}

/* The values expr can hold, or NIL with vw->why set. */
static List *
expression_values(ValueWalk *vw, PlannerInfo *root, Node *expr, int depth)
{
	Node	   *e = strip_value_casts(expr);
	PinReason	r;

	if (e == NULL)
	{
		vw->why = PR_NULL;
		return NIL;
	}
	if (IsA(e, Var) && ((Var *) e)->varlevelsup == 0)
		return column_values(vw, root, ((Var *) e)->varno, ((Var *) e)->varattno,
							 depth);
	if (vw->write && IsA(e, PlaceHolderVar))
	{
		/* a pulled-up subquery's output below an outer join */
		vw->why = PR_NULLABLE;
		return NIL;
	}
	r = classify_value(e);
	if (r == PR_PINNED)
		return list_make1(e);
	vw->why = r;
	return NIL;
}

/*
 * The tenant values a column (varno, attno) of root can hold, or NIL with
 * *why set.  For the outer Vars of correlated pins.
 */
List *
var_values(EnforceState *st, PlannerInfo *root, Index varno, AttrNumber attno,
		   int depth, PinReason *why)
{
	ValueWalk	vw = {st, false, PR_OTHER_COLUMN, false, NULL};
	List	   *result = column_values(&vw, root, varno, attno, depth);

	*why = vw.why;
	return result;
}

/* The tenant values expr can hold, or NIL with *why set (see var_values). */
List *
expr_values(EnforceState *st, PlannerInfo *root, Node *expr, int depth,
			PinReason *why)
{
	ValueWalk	vw = {st, false, PR_OTHER_COLUMN, false, NULL};
	List	   *result = expression_values(&vw, root, expr, depth);

	*why = vw.why;
	return result;
}

/*
 * The tenant values written where a write puts expr (merge_insert: the
 * values of a MERGE's INSERT action), or NIL with *why set.
 */
List *
written_values(EnforceState *st, PlannerInfo *root, Node *expr,
			   bool merge_insert, PinReason *why)
{
	ValueWalk	vw = {st, true, PR_OTHER_COLUMN, true, merge_insert ? root : NULL};
	List	   *result = expression_values(&vw, root, expr, 0);

	*why = vw.why;
	return result;
}
