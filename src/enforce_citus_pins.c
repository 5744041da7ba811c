/*-------------------------------------------------------------------------
 *
 * enforce_citus_pins.c
 *	  On a Citus coordinator, a pin counts only where the query Citus sends
 *	  holds it as written: a tenant column equated with a constant.
 *
 * The shadow plan (enforce_distributed.c) judges the client's query as the
 * standard planner makes it: subqueries, CTEs and VALUES of one row pulled
 * up into the query, functions inlined, expressions over the constants
 * that brings together folded.  Citus sends the query as the client wrote
 * it, and the worker pulls up and folds again, with its own settings, its
 * own functions and its own catalogs: "FROM (SELECT 1 AS k) s ... tenant_id
 * = tk(s.k)", where tk() is an IMMUTABLE function of the role's that
 * answers by application_name, was T1 in the shadow plan and T3 on the
 * worker; a CASE over an array constant of a subquery read under the
 * worker's array_nulls, an enum label or a collation that differs by node
 * did the same (rounds DM, DO: another tenant's rows read, copied, planted,
 * changed).
 *
 * So, before Citus plans it, the query is searched for the pins it holds
 * as written (direct_pins_collect): in each query level's conditions (WHERE,
 * JOIN ... ON), equalities of two columns and of a column with a constant
 * or a bound parameter (IS NOT DISTINCT FROM included) make classes of
 * columns, as the planner's equivalence classes do, and a subquery's, a
 * CTE's or a one-row VALUES list's output column joins the class of the
 * column or constant it outputs (a condition on that output pins the
 * body only for a subquery the planner and Citus push it into, never for
 * a CTE).  A value flows down, never up: into a
 * subquery or sublink from an equality with an outer level's column, into
 * an outer join's nullable side from its ON condition; an equality inside a
 * sublink ("(SELECT 1 WHERE d.tenant_id = 'T1')") or in a LEFT JOIN's ON
 * pins nothing of the outer level or of the kept side (round DQ).  A tenant table whose tenant column is in
 * no class with a constant, in any place it is named, is "not pinned as
 * written"; so is an INSERT whose written tenant is not a constant, a
 * parameter or a column of such a class.  The classes keep their
 * constants: a judged reference that the shadow plan found pinned is
 * refused (PR_NODE_INDIRECT, direct_pins_apply) unless its table is pinned
 * as written wherever it is named and each value the shadow plan pinned it
 * to is among those written ("d.tenant_id = tk(s.k) AND d.tenant_id = $1"
 * was T1 in the shadow plan and the bound victim on the worker: round DT);
 * a parameter matches itself or its bound value, gtm_current_tenant() the
 * session tenant that replaced it.  Only an identity equality of the
 * column type's own joins a class (not an operator of the role's marked
 * MERGES), and a column keeps only the relabelings that keep its text.  Expressions over constants alone were evaluated on
 * the coordinator before (enforce_citus_fold.c), and gtm_current_tenant()
 * replaced by the session tenant: both are constants here.
 *
 * IDENTIFICATION
 *	  src/enforce_citus_pins.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* A column of one query level, in a class of equal columns */
typedef struct EqColumn
{
	Query	   *level;
	Index		varno;
	AttrNumber	attno;
	int			parent;			/* union-find: index of the parent, or own */
	List	   *consts;			/* (at the root) the class's constants and
								 * parameters */
} EqColumn;

typedef struct EqWalk
{
	EqColumn  *cols;
	int			ncols;
	int			maxcols;
	List	   *levels;			/* the query levels, innermost first */
	List	   *flows;			/* pairs (from, to): to gets from's constants */
} EqWalk;

static int
find_root(EqWalk *w, int i)
{
	while (w->cols[i].parent != i)
		i = w->cols[i].parent;
	return i;
}

/*
 * The column (level, varno, attno): its index, added if new.  A join's
 * column that is its input's column, maybe relabeled (the merged column of
 * JOIN ... USING of varchar and text; not FULL JOIN's, a COALESCE), is
 * that column: one class, and no entry of its own.  The parser names the
 * input column itself wherever it can, so few queries have such columns;
 * linking every column of every join instead made a search of hundreds.
 */
static int
column_index(EqWalk *w, Query *level, Index varno, AttrNumber attno)
{
	if (varno >= 1 && varno <= (Index) list_length(level->rtable) && attno > 0)
	{
		RangeTblEntry *rte = rt_fetch(varno, level->rtable);

		if (rte->rtekind == RTE_JOIN && attno <= list_length(rte->joinaliasvars))
		{
			Node	   *v = strip_relabel(list_nth(rte->joinaliasvars, attno - 1));

			if (v != NULL && IsA(v, Var) && ((Var *) v)->varlevelsup == 0 &&
				((Var *) v)->varattno > 0)
			{
				check_stack_depth();	/* a join of joins */
				return column_index(w, level, ((Var *) v)->varno,
									((Var *) v)->varattno);
			}
		}
	}
	for (int i = 0; i < w->ncols; i++)
		if (w->cols[i].level == level && w->cols[i].varno == varno &&
			w->cols[i].attno == attno)
			return i;
	if (w->ncols == w->maxcols)
	{
		w->maxcols *= 2;
		w->cols = repalloc(w->cols, w->maxcols * sizeof(EqColumn));
	}
	w->cols[w->ncols].level = level;
	w->cols[w->ncols].varno = varno;
	w->cols[w->ncols].attno = attno;
	w->cols[w->ncols].parent = w->ncols;
	w->cols[w->ncols].consts = NIL;
	return w->ncols++;
}

static void
union_columns(EqWalk *w, int a, int b)
{
	int			ra = find_root(w, a);
	int			rb = find_root(w, b);

	if (ra == rb)
		return;
	w->cols[ra].parent = rb;
	w->cols[rb].consts = list_concat(w->cols[rb].consts, w->cols[ra].consts);
	w->cols[ra].consts = NIL;
}

/*
 * A column side is stripped of its binary-compatible relabelings that keep
 * the text only (strip_relabel): strip_fixed_casts would also take off a
 * varchar(n) length coercion, a cast to "char" or to name, which change the
 * value ("d.tenant_id::\"char\" = 'v'" is no pin of d: round DS).
 */

/* Is node (its casts that change no text stripped) a constant here? */
static bool
is_constant(Node *node)
{
	node = strip_fixed_casts(node);
	return node != NULL && (IsA(node, Const) ||
							(IsA(node, Param) &&
							 ((Param *) node)->paramkind == PARAM_EXTERN));
}

/* The class of column i holds the constant (or parameter) node */
static void
add_const(EqWalk *w, int i, Node *node)
{
	int			r = find_root(w, i);

	w->cols[r].consts = lappend(w->cols[r].consts, strip_fixed_casts(node));
}

/*
 * The column node stands for (a Var of this level, or of an outer one),
 * or -1; *outer says whether it is an outer level's.
 */
static int
node_column(EqWalk *w, Node *node, bool *outer)
{
	Var		   *var;
	Query	   *level;

	*outer = false;
	node = strip_relabel(node);
	if (node == NULL || !IsA(node, Var))
		return -1;
	var = (Var *) node;
	if (var->varlevelsup >= (Index) list_length(w->levels) || var->varattno <= 0)
		return -1;
	*outer = var->varlevelsup > 0;
	level = list_nth(w->levels, var->varlevelsup);
	return column_index(w, level, var->varno, var->varattno);
}

static void
add_flow(EqWalk *w, int from, int to)
{
	w->flows = lappend(w->flows, list_make2_int(from, to));
}

/*
 * Equate the two sides of an equality (columns, constants).  pinnable says
 * which of this level's columns the condition restricts (NULL: all; an
 * outer join's ON restricts its nullable side only).  A value flows down
 * into a subquery and into a join's nullable side, never out of them: an
 * equality with an outer level's column, or with a kept side's, makes the
 * column of this level constant when that one is, and no more.
 */
static void
equate(EqWalk *w, Node *left, Node *right, Bitmapset *pinnable)
{
	bool		lo,
				ro;
	int			l = node_column(w, left, &lo);
	int			r = node_column(w, right, &ro);
	bool		lp = l >= 0 && !lo && (pinnable == NULL ||
									  bms_is_member((int) w->cols[l].varno, pinnable));
	bool		rp = r >= 0 && !ro && (pinnable == NULL ||
									  bms_is_member((int) w->cols[r].varno, pinnable));

	if (l >= 0 && r >= 0)
	{
		if (lp && rp)
			union_columns(w, l, r);
		else if (rp)
			add_flow(w, l, r);
		else if (lp)
			add_flow(w, r, l);
	}
	else if (lp && is_constant(right))
		add_const(w, l, right);
	else if (rp && is_constant(left))
		add_const(w, r, left);
}

/* A condition's conjuncts: the equalities among them */
static void
note_condition(EqWalk *w, Node *quals, Bitmapset *pinnable)
{
	ListCell   *lc;

	if (quals == NULL)
		return;
	foreach(lc, make_ands_implicit((Expr *) quals))
	{
		Node	   *c = lfirst(lc);
		List	   *args = NIL;
		Oid			opno = InvalidOid;
		Oid			collid = InvalidOid;
		Node	   *left;

		if (IsA(c, OpExpr))
		{
			opno = ((OpExpr *) c)->opno;
			args = ((OpExpr *) c)->args;
			collid = ((OpExpr *) c)->inputcollid;
		}
		else if (is_notclause(c) && IsA(get_notclausearg((Expr *) c), DistinctExpr))
		{
			opno = ((DistinctExpr *) get_notclausearg((Expr *) c))->opno;
			args = ((DistinctExpr *) get_notclausearg((Expr *) c))->args;
			collid = ((DistinctExpr *) get_notclausearg((Expr *) c))->inputcollid;
		}
		if (list_length(args) != 2)
			continue;

		/*
		 * Only an identity equality of the type's own (the one a pin needs:
		 * enforce_identity.c), not any operator the planner may merge on:
		 * an operator of the role's marked MERGES, a cross-type one
		 */
		left = strip_relabel(linitial(args));
		if (!equality_is_identity(opno, NIL, left != NULL && IsA(left, Var), collid))
			continue;
		equate(w, linitial(args), lsecond(args), pinnable);
	}
}

/* The range table indexes under a join tree node */
static Bitmapset *
jointree_relids(Node *node)
{
	Bitmapset  *result = NULL;
	ListCell   *lc;

	if (node == NULL)
		return NULL;
	if (IsA(node, RangeTblRef))
		return bms_make_singleton(((RangeTblRef *) node)->rtindex);
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			result = bms_add_members(result, jointree_relids(lfirst(lc)));
	}
	else if (IsA(node, JoinExpr))
	{
		result = bms_add_members(jointree_relids(((JoinExpr *) node)->larg),
								 jointree_relids(((JoinExpr *) node)->rarg));
		result = bms_add_member(result, ((JoinExpr *) node)->rtindex);
	}
	return result;
}

/*
 * The conditions of a join tree: WHERE and an inner join's ON restrict
 * every column; an outer join's ON restricts its nullable side only (round
 * DQ: "LEFT JOIN kinds k ON d.tenant_id = 'T1'" pinned nothing of d), a
 * full join's neither.
 */
static void
note_jointree(EqWalk *w, Node *node)
{
	ListCell   *lc;

	if (node == NULL)
		return;
	if (IsA(node, FromExpr))
	{
		foreach(lc, ((FromExpr *) node)->fromlist)
			note_jointree(w, lfirst(lc));
		note_condition(w, ((FromExpr *) node)->quals, NULL);
	}
	else if (IsA(node, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) node;

		note_jointree(w, j->larg);
		note_jointree(w, j->rarg);
		switch (j->jointype)
		{
			case JOIN_INNER:
				note_condition(w, j->quals, NULL);
				break;
			case JOIN_LEFT:
				note_condition(w, j->quals, jointree_relids(j->rarg));
				break;
			case JOIN_RIGHT:
				note_condition(w, j->quals, jointree_relids(j->larg));
				break;
			default:
				break;
		}
	}
}

static void note_level(EqWalk *w, Query *q);

/* Sublinks in expressions of a level: their queries are levels below it */
static bool
sublink_walker(Node *node, EqWalk *w)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		note_level(w, (Query *) node);
		return false;
	}
	return expression_tree_walker(node, sublink_walker, w);
}

/*
 * A subquery's (or CTE's) output column k joins the class of what the
 * subquery outputs there: its column, or a constant.
 */
static void
link_output(EqWalk *w, Query *q, Index rtindex, Query *sub, bool inlined)
{
	ListCell   *lc;
	bool		pushdown;

	/*
	 * A data-modifying CTE runs to completion whatever reads it, and its
	 * output is its RETURNING list: nothing linked.  A set operation's
	 * output columns are its branches': not followed.
	 */
	if (sub->commandType != CMD_SELECT || sub->setOperations != NULL ||
		sub->hasTargetSRFs)
		return;

	/*
	 * A value flows out of the body always.  Into it (a condition on the
	 * output restricting the rows the body reads) only where the planner
	 * and Citus push the condition down: a subquery without LIMIT, OFFSET,
	 * DISTINCT, aggregates, window functions, FOR UPDATE or volatile
	 * functions; never a CTE, which is planned on its own when referenced
	 * twice, MATERIALIZED (round DR), holding a volatile function (round
	 * DU: random() in its body kept it out of line, and the worker's body
	 * read another tenant), or when Citus falls back to planning it apart
	 */
	pushdown = inlined && sub->rowMarks == NIL &&
		!contain_volatile_functions((Node *) sub) && sub->limitCount == NULL && sub->limitOffset == NULL &&
		sub->distinctClause == NIL && !sub->hasAggs && sub->groupClause == NIL &&
		!sub->hasWindowFuncs;
	foreach(lc, sub->targetList)
	{
		TargetEntry *te = lfirst(lc);
		int			outer = column_index(w, q, rtindex, te->resno);

		if (te->resjunk)
			continue;
		if (is_constant((Node *) te->expr))
			add_const(w, outer, (Node *) te->expr);
		else
		{
			Node	   *e = strip_relabel((Node *) te->expr);
			int			inner;

			if (!IsA(e, Var) || ((Var *) e)->varlevelsup != 0 ||
				((Var *) e)->varattno <= 0)
				continue;
			inner = column_index(w, sub, ((Var *) e)->varno, ((Var *) e)->varattno);
			if (pushdown)
				union_columns(w, outer, inner);
			else
				add_flow(w, inner, outer);
		}
	}
}

static void
note_level(EqWalk *w, Query *q)
{
	ListCell   *lc;
	Index		rtindex = 0;

	check_stack_depth();
	w->levels = lcons(q, w->levels);
	foreach(lc, q->cteList)
		note_level(w, castNode(Query, ((CommonTableExpr *) lfirst(lc))->ctequery));
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rtindex++;
		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
		{
			note_level(w, rte->subquery);
			link_output(w, q, rtindex, rte->subquery, true);
		}
		else if (rte->rtekind == RTE_CTE &&
				 rte->ctelevelsup < (Index) list_length(w->levels))
		{
			ListCell   *cl;

			/* its WITH may be a level up (WITH ... INSERT ... SELECT) */
			foreach(cl, ((Query *) list_nth(w->levels, rte->ctelevelsup))->cteList)
			{
				CommonTableExpr *cte = lfirst(cl);

				if (strcmp(cte->ctename, rte->ctename) == 0 && !cte->cterecursive)
					link_output(w, q, rtindex, castNode(Query, cte->ctequery), false);
			}
		}
		/* (a join's columns are its inputs': column_index) */
		else if (rte->rtekind == RTE_VALUES && list_length(rte->values_lists) == 1)
		{
			AttrNumber	k = 0;
			ListCell   *vl;

			foreach(vl, (List *) linitial(rte->values_lists))
			{
				k++;
				if (is_constant(lfirst(vl)))
					add_const(w, column_index(w, q, rtindex, k), lfirst(vl));
			}
		}
	}
	note_jointree(w, (Node *) q->jointree);
	/*
	 * queries in sublinks anywhere: WHERE, target list, HAVING, and the
	 * range table's expressions (a function's arguments, a VALUES list of
	 * several rows, a table function: round DP); its subqueries and CTEs
	 * were visited above.  A level without (hasSubLinks, which the parser
	 * and the rewriter keep and the planner relies on) is not walked.
	 */
	if (q->hasSubLinks)
		(void) query_tree_walker(q, sublink_walker, w,
								 QTW_IGNORE_RT_SUBQUERIES | QTW_IGNORE_CTE_SUBQUERIES);
	w->levels = list_delete_first(w->levels);
}

/* The constants of the class of column (level, varno, attno): NIL if none */
static List *
column_consts(EqWalk *w, Query *level, Index varno, AttrNumber attno)
{
	return w->cols[find_root(w, column_index(w, level, varno, attno))].consts;
}

/*
 * The tenants an INSERT of q writes (column attno), as written: constants
 * or parameters (NIL if any row's is not one)
 */
static List *
written_consts(EqWalk *w, Query *q, AttrNumber attno)
{
	ListCell   *lc;

	foreach(lc, q->targetList)
	{
		TargetEntry *te = lfirst(lc);
		Node	   *e = strip_relabel((Node *) te->expr);

		if (te->resno != attno)
			continue;
		if (is_constant(e))
			return list_make1(strip_fixed_casts(e));
		if (IsA(e, Var) && ((Var *) e)->varlevelsup == 0 && ((Var *) e)->varattno > 0)
		{
			RangeTblEntry *rte = rt_fetch(((Var *) e)->varno, q->rtable);

			/* a multi-row VALUES list: each row's value */
			if (rte->rtekind == RTE_VALUES)
			{
				List	   *result = NIL;
				ListCell   *vl;

				foreach(vl, rte->values_lists)
				{
					Node	   *v = list_nth(lfirst(vl), ((Var *) e)->varattno - 1);

					if (!is_constant(v))
						return NIL;
					result = lappend(result, strip_fixed_casts(v));
				}
				return result;
			}
			return column_consts(w, q, ((Var *) e)->varno, ((Var *) e)->varattno);
		}
		return NIL;
	}
	return NIL;					/* none written: the column's default */
}

typedef struct CollectContext
{
	EqWalk	   *w;
	DirectPins *dp;
} CollectContext;

static void collect_places(EqWalk *w, Query *q, DirectPins *dp);

static bool
sublink_collect_walker(Node *node, CollectContext *cx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		collect_places(cx->w, (Query *) node, cx->dp);
		return false;
	}
	return expression_tree_walker(node, sublink_collect_walker, cx);
}

/* The tenant tables of each level, with the constants their tenant has as written */
static void
collect_places(EqWalk *w, Query *q, DirectPins *dp)
{
	CollectContext cx = {w, dp};
	ListCell   *lc;
	Index		rtindex = 0;

	check_stack_depth();
	foreach(lc, q->cteList)
		collect_places(w, castNode(Query, ((CommonTableExpr *) lfirst(lc))->ctequery), dp);
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		rtindex++;
		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
			collect_places(w, rte->subquery, dp);
		else if (rte->rtekind == RTE_RELATION)
		{
			RelFacts   *f = rel_facts(rte->relid);
			PinPlace   *place;

			dp->seen = list_append_unique_oid(dp->seen, rte->relid);
			if (!f->tenant || f->exempt)
				continue;
			place = palloc(sizeof(PinPlace));
			place->relid = rte->relid;
			place->insert = q->commandType == CMD_INSERT &&
				rtindex == (Index) q->resultRelation;
			place->consts = place->insert ? written_consts(w, q, f->attnum) :
				list_copy(column_consts(w, q, rtindex, f->attnum));
			dp->places = lappend(dp->places, place);
		}
	}
	if (q->hasSubLinks)			/* as note_level */
		(void) query_tree_walker(q, sublink_collect_walker, (void *) &cx,
								 QTW_IGNORE_RT_SUBQUERIES | QTW_IGNORE_CTE_SUBQUERIES);
}

/*
 * Before Citus plans parse (the query it will send): where each tenant
 * table is named, and the constants its tenant is equated with there as
 * written (see the file header), into dp.
 */
void
direct_pins_collect(Query *parse, DirectPins *dp)
{
	EqWalk		w;

	dp->places = NIL;
	dp->seen = NIL;
	w.maxcols = 16;
	w.ncols = 0;
	w.cols = palloc(w.maxcols * sizeof(EqColumn));
	w.levels = NIL;
	w.flows = NIL;
	note_level(&w, parse);
	/* values flowing down, to a fixpoint */
	for (bool changed = true; changed;)
	{
		ListCell   *lc;

		changed = false;
		foreach(lc, w.flows)
		{
			int			from = find_root(&w, linitial_int(lfirst(lc)));
			int			to = find_root(&w, lsecond_int(lfirst(lc)));
			ListCell   *cl;

			foreach(cl, w.cols[from].consts)
				if (!list_member_ptr(w.cols[to].consts, lfirst(cl)))
				{
					w.cols[to].consts = lappend(w.cols[to].consts, lfirst(cl));
					changed = true;
				}
		}
	}
	collect_places(&w, parse, dp);
	pfree(w.cols);
}

