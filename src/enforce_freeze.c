/*-------------------------------------------------------------------------
 *
 * enforce_freeze.c
 *	  One value per statement for stable built-in pins: wrap them in gtm_pin().
 *
 * A pin must denote one tenant for the whole statement, but a stable
 * built-in value such as current_setting('app.tenant_id') is evaluated again
 * for every row a scan filters and can change on the way (set_config() in
 * the same statement or between the FETCHes of a cursor).  Before planning,
 * every qual "tenant_col = v" of the statement whose v is such a value
 * (is_freezable_value: no column, subquery or user function; only fails
 * because it is not immutable) becomes "tenant_col = gtm_pin(v)".  gtm_pin()
 * (tenant_session.c) checks every value it returns against the tenant the
 * running top-level statement has reached, so the value compared when the
 * statement starts is the value used for every row: any other raises 42501.
 * The planner then carries gtm_pin(v) through equivalence classes like any
 * stable expression, and enforce_pin.c accepts it as a pin.
 *
 * In the same pass, "tenant_col = ANY (list)" whose list is constants all
 * equal to one non-null value c (ARRAY['T1'], '{T1,T1}', IN ('T1', 'T1'))
 * becomes "tenant_col = c": the same clause for every row (an equality
 * operator is strict, and each element gives the same answer), and one
 * value, where a list is otherwise rejected (uniform_list_equality).
 *
 * Only quals are rewritten (WHERE and JOIN ... ON of every query level):
 * an output column comparing the tenant column with a setting is not a pin
 * and must not fix the statement's tenant.  A tenant column is found
 * through views, subqueries in FROM, join aliases and (PostgreSQL 18) the
 * grouping step of a grouped subquery.  When the installed
 * extension has no gtm_pin() (version 1.0.0), nothing is rewritten and such
 * values are rejected as mutable.
 *
 * IDENTIFICATION
 *	  src/enforce_freeze.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "parser/parsetree.h"
#include "utils/array.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "enforce.h"

/* A query level being rewritten, on the C stack of freeze_query */
typedef struct QueryLevel
{
	Query	   *query;
	const struct QueryLevel *up;	/* the enclosing level; NULL at the top */
} QueryLevel;

typedef struct FreezeContext
{
	const QueryLevel *level;	/* the innermost level */
} FreezeContext;

/*
 * The levels as a List, innermost first, for is_tenant_column: built only
 * for an equality that may need a pin (rare), not for every level walked.
 */
static List *
levels_list(const QueryLevel *level)
{
	List	   *queries = NIL;

	for (; level != NULL; level = level->up)
		queries = lappend(queries, level->query);
	return queries;
}

/*
 * Is var, seen in the query levels "queries" (innermost first), a tenant
 * column of a base relation, through subqueries and join aliases?
 */
static bool
is_tenant_column(List *queries, Var *var, int depth)
{
	Query	   *q;
	RangeTblEntry *rte;

	check_stack_depth();
	if (depth > 16 || var->varlevelsup >= (Index) list_length(queries) ||
		var->varattno <= 0)
		return false;
	q = list_nth(queries, var->varlevelsup);
	if (var->varno < 1 || var->varno > (Index) list_length(q->rtable))
		return false;
	rte = rt_fetch(var->varno, q->rtable);
	switch (rte->rtekind)
	{
		case RTE_RELATION:
			{
				RelFacts   *f = rel_facts(rte->relid);

				return f->tenant && !f->exempt && var->varattno == f->attnum;
			}
		case RTE_SUBQUERY:
			{
				ListCell   *lc;

				foreach(lc, rte->subquery->targetList)
				{
					TargetEntry *tle = lfirst_node(TargetEntry, lc);
					Node	   *e = strip_relabel((Node *) tle->expr);

					if (tle->resno != var->varattno)
						continue;
					if (e == NULL || !IsA(e, Var))
						return false;
					return is_tenant_column(lcons(rte->subquery,
												  list_copy_tail(queries, var->varlevelsup)),
											(Var *) e, depth + 1);
				}
				return false;
			}
		case RTE_JOIN:
			{
				Node	   *e;
				Var			v;

				if (var->varattno > list_length(rte->joinaliasvars))
					return false;
				e = strip_relabel(list_nth(rte->joinaliasvars, var->varattno - 1));
				if (e == NULL || !IsA(e, Var))
					return false;
				v = *(Var *) e;
				v.varlevelsup += var->varlevelsup;
				return is_tenant_column(queries, &v, depth + 1);
			}
		default:
			{
				/*
				 * RTE_GROUP (PostgreSQL 18): above GROUP BY, a grouped
				 * column is a Var of the grouping step; follow it to the
				 * grouped expression, as for a join alias.
				 */
				Var		   *col = grouped_column(rte, var->varattno);
				Var			v;

				if (col == NULL)
					return false;
				v = *col;
				v.varlevelsup += var->varlevelsup;
				return is_tenant_column(queries, &v, depth + 1);
			}
	}
}

/*
 * Should "col op val" have val wrapped?  col must be a tenant column, op an
 * equality, val a value that only fails to pin because it is mutable.
 */
static bool
needs_pin(FreezeContext *ctx, OpExpr *op, Node *col, Node *val)
{
	Node	   *v = strip_relabel(val);

	/* constants and parameters are pins already: the common case, first */
	col = strip_relabel(col);
	/*
	 * "col COLLATE x = val": the judge decides whether x makes equal
	 * identical (rel_pin); the value is made one per statement either way
	 * (round FF: a deterministic collation on the column side kept a
	 * stable value from being frozen, and the statement was rejected)
	 */
	if (col != NULL && IsA(col, CollateExpr))
		col = strip_relabel((Node *) ((CollateExpr *) col)->arg);
	if (col == NULL || !IsA(col, Var) || v == NULL ||
		IsA(v, Const) || IsA(v, Param) || IsA(v, Var))
		return false;
	return is_tenant_column(levels_list(ctx->level), (Var *) col, 0) &&
		op_mergejoinable(op->opno, exprType((Node *) linitial(op->args))) &&
		is_freezable_value(val) &&
		OidIsValid(pin_function_oid());	/* looked up only now: rare */
}

static void freeze_query(Query *q, FreezeContext *ctx);
static bool sublink_walker(Node *node, FreezeContext *ctx);
static Node *freeze_qual(Node *qual, FreezeContext *ctx);
static void fold_uniform_values(Query *q);

/*
 * The one value of a list of constants, or NULL: every element a non-null
 * constant with the same bytes as the first (a Const array, or an ArrayExpr
 * of Consts, maybe relabelled), at least one.  Binary equality is stricter
 * than the operator's: a list it does not find uniform stays a list.
 */
static Node *
uniform_list_value(Node *list)
{
	if (IsA(list, Const))
	{
		Const	   *c = (Const *) list;
		ArrayType  *a;
		Datum	   *elems;
		bool	   *nulls;
		int			n;
		int16		typlen;
		bool		typbyval;
		char		typalign;

		if (c->constisnull)
			return NULL;
		a = DatumGetArrayTypeP(c->constvalue);
		if (ARR_NDIM(a) != 1)
			return NULL;
		get_typlenbyvalalign(ARR_ELEMTYPE(a), &typlen, &typbyval, &typalign);
		deconstruct_array(a, ARR_ELEMTYPE(a), typlen, typbyval, typalign,
						  &elems, &nulls, &n);
		if (n < 1 || nulls[0])
			return NULL;
		for (int i = 1; i < n; i++)
			if (nulls[i] || !datumIsEqual(elems[i], elems[0], typbyval, typlen))
				return NULL;
		return (Node *) makeConst(ARR_ELEMTYPE(a), -1, c->constcollid, typlen,
								  datumCopy(elems[0], typbyval, typlen),
								  false, typbyval);
	}
	if (IsA(list, ArrayExpr) && !((ArrayExpr *) list)->multidims &&
		((ArrayExpr *) list)->elements != NIL)
	{
		List	   *elements = ((ArrayExpr *) list)->elements;
		Const	   *first = (Const *) strip_relabel(linitial(elements));
		int16		typlen;
		bool		typbyval;
		ListCell   *lc;

		if (first == NULL || !IsA(first, Const) || first->constisnull)
			return NULL;
		get_typlenbyval(first->consttype, &typlen, &typbyval);
		foreach(lc, elements)
		{
			Const	   *e = (Const *) strip_relabel(lfirst(lc));

			if (e == NULL || !IsA(e, Const) || e->constisnull ||
				e->consttype != first->consttype ||
				!datumIsEqual(e->constvalue, first->constvalue, typbyval, typlen))
				return NULL;
		}
		return linitial(elements);
	}
	return NULL;
}

/*
 * The array below binary coercions (varchar[] read as text[]: a RelabelType,
 * or an ArrayCoerceExpr that relabels each element).
 */
static Node *
strip_array_relabel(Node *n)
{
	for (;;)
	{
		n = strip_relabel(n);
		if (n == NULL || !IsA(n, ArrayCoerceExpr) ||
			!IsA(strip_relabel((Node *) ((ArrayCoerceExpr *) n)->elemexpr), CaseTestExpr))
			return n;
		n = (Node *) ((ArrayCoerceExpr *) n)->arg;
	}
}

/*
 * "tenant_col = ANY (list)" with a uniform list (uniform_list_value) as
 * "tenant_col = value", or NULL.  Only for an equality (mergejoinable, so
 * strict) with a tenant column: for such an operator both give the same
 * answer for every row, NULL included; the judge then treats it like any
 * equality (identity, collation).
 */
static Node *
uniform_list_equality(FreezeContext *ctx, ScalarArrayOpExpr *saop)
{
	Node	   *col;
	Node	   *list;
	Node	   *value;
	Oid			elemtype;
	OpExpr	   *op;

	if (!saop->useOr || list_length(saop->args) != 2)
		return NULL;
	col = strip_relabel(linitial(saop->args));
	if (col != NULL && IsA(col, CollateExpr))
		col = strip_relabel((Node *) ((CollateExpr *) col)->arg);
	if (col == NULL || !IsA(col, Var) ||
		!is_tenant_column(levels_list(ctx->level), (Var *) col, 0) ||
		!op_mergejoinable(saop->opno, exprType((Node *) linitial(saop->args))))
		return NULL;
	/* varchar[] read as text[] and the like: the element as the operator's type */
	list = (Node *) lsecond(saop->args);
	elemtype = get_element_type(exprType(list));
	value = uniform_list_value(strip_array_relabel(list));
	if (value == NULL || !OidIsValid(elemtype))
		return NULL;
	if (exprType(value) != elemtype)
		value = (Node *) makeRelabelType((Expr *) value, elemtype, -1,
										 exprCollation(list), COERCE_IMPLICIT_CAST);
	op = makeNode(OpExpr);
	op->opno = saop->opno;
	op->opfuncid = saop->opfuncid;
	op->opresulttype = BOOLOID;
	op->opretset = false;
	op->opcollid = InvalidOid;
	op->inputcollid = saop->inputcollid;
	op->args = list_make2(linitial(saop->args), value);
	op->location = saop->location;
	return (Node *) op;
}

/*
 * Rewrite the equalities of one qual expression; the query of a sublink is
 * a level of its own.
 */
/* A column, constant or parameter (maybe relabelled): nothing below it. */
static inline bool
is_leaf_value(Node *n)
{
	n = strip_relabel(n);
	return n != NULL && (IsA(n, Var) || IsA(n, Const) || IsA(n, Param));
}

/*
 * An equality (or the DistinctExpr of IS NOT DISTINCT FROM) of the tenant
 * column with a value to freeze: wrap the value.  False when both sides are
 * columns, constants or parameters (nothing below them to look at).
 */
static bool
freeze_equality(FreezeContext *ctx, OpExpr *op)
{
	ListCell   *l;
	ListCell   *r;

	if (list_length(op->args) != 2)
		return true;
	l = list_nth_cell(op->args, 0);
	r = list_nth_cell(op->args, 1);
	if (is_leaf_value(lfirst(l)) && is_leaf_value(lfirst(r)))
		return false;
	if (needs_pin(ctx, op, lfirst(l), lfirst(r)))
		lfirst(r) = make_pin_call(lfirst(r), pin_function_oid());
	else if (needs_pin(ctx, op, lfirst(r), lfirst(l)))
		lfirst(l) = make_pin_call(lfirst(l), pin_function_oid());
	return true;
}

static bool
freeze_qual_walker(Node *node, FreezeContext *ctx)
{
	ListCell   *lc;

	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Var:
		case T_Const:
		case T_Param:
			return false;		/* no sublink, no equality below */
		case T_SubLink:
			fold_uniform_values((Query *) ((SubLink *) node)->subselect);
			freeze_query((Query *) ((SubLink *) node)->subselect, ctx);
			return false;
		case T_BoolExpr:
			/* "col IS NOT DISTINCT FROM value": NOT over a DistinctExpr */
			if (is_notclause(node) &&
				IsA(get_notclausearg((Expr *) node), DistinctExpr))
			{
				freeze_equality(ctx, (OpExpr *) get_notclausearg((Expr *) node));
				break;
			}
			/* the args, as expression_tree_walker would visit them */
			foreach(lc, ((BoolExpr *) node)->args)
				lfirst(lc) = freeze_qual(lfirst(lc), ctx);
			return false;
		case T_OpExpr:
			/* "col = constant" and the like: the common qual */
			if (list_length(((OpExpr *) node)->args) == 2 &&
				is_leaf_value(linitial(((OpExpr *) node)->args)) &&
				is_leaf_value(lsecond(((OpExpr *) node)->args)))
				return false;	/* nothing below, nothing to freeze */
			if (!freeze_equality(ctx, (OpExpr *) node))
				return false;
			break;
		default:
			break;
	}
	return expression_tree_walker(node, freeze_qual_walker, ctx);
}

/*
 * Rewrite one qual (a clause of an AND, or a whole condition): a uniform
 * list becomes an equality, then its equalities and sublinks.  Returns the
 * qual to put in its place.
 */
static Node *
freeze_qual(Node *qual, FreezeContext *ctx)
{
	if (qual != NULL && IsA(qual, ScalarArrayOpExpr))
	{
		Node	   *eq = uniform_list_equality(ctx, (ScalarArrayOpExpr *) qual);

		if (eq != NULL)
			qual = eq;
	}
	(void) freeze_qual_walker(qual, ctx);
	return qual;
}

/* Rewrite the quals of a join tree (FromExpr and JoinExpr nodes). */
static void
freeze_jointree(Node *jt, FreezeContext *ctx)
{
	if (jt == NULL)
		return;
	if (IsA(jt, FromExpr))
	{
		ListCell   *lc;

		foreach(lc, ((FromExpr *) jt)->fromlist)
			freeze_jointree(lfirst(lc), ctx);
		((FromExpr *) jt)->quals = freeze_qual(((FromExpr *) jt)->quals, ctx);
	}
	else if (IsA(jt, JoinExpr))
	{
		JoinExpr   *j = (JoinExpr *) jt;

		freeze_jointree(j->larg, ctx);
		freeze_jointree(j->rarg, ctx);
		j->quals = freeze_qual(j->quals, ctx);
	}
}

/* Outside quals, only look for the sublinks of a query level. */
static bool
sublink_walker(Node *node, FreezeContext *ctx)
{
	if (node == NULL || IsA(node, Var) || IsA(node, Const) || IsA(node, Param))
		return false;			/* a leaf: no sublink below */
	if (IsA(node, SubLink))
	{
		fold_uniform_values((Query *) ((SubLink *) node)->subselect);
		freeze_query((Query *) ((SubLink *) node)->subselect, ctx);
		return false;
	}
	return expression_tree_walker(node, sublink_walker, ctx);
}

/*
 * Is column attno of VALUES entry rte one constant in every row (not NULL,
 * the same bytes; uniform_list_value for a VALUES list)?  Its first row's
 * expression, or NULL.
 */
static Node *
uniform_values_column(RangeTblEntry *rte, AttrNumber attno)
{
	Const	   *first = NULL;
	int16		typlen = 0;
	bool		typbyval = false;
	ListCell   *lc;

	foreach(lc, rte->values_lists)
	{
		List	   *row = lfirst(lc);
		Const	   *c;

		if (attno > list_length(row))
			return NULL;
		c = (Const *) strip_relabel(list_nth(row, attno - 1));
		if (c == NULL || !IsA(c, Const) || c->constisnull)
			return NULL;
		if (first == NULL)
		{
			first = c;
			get_typlenbyval(c->consttype, &typlen, &typbyval);
		}
		else if (c->consttype != first->consttype ||
				 !datumIsEqual(c->constvalue, first->constvalue, typbyval, typlen))
			return NULL;
	}
	return first == NULL ? NULL :
		list_nth(linitial(rte->values_lists), attno - 1);
}

/*
 * A query that only lists a VALUES list ("(VALUES ('T1', 1), ('T1', 2)) AS
 * v(t, id)" in FROM, USING or WITH, or "IN (VALUES ...)"): an output column that is one constant
 * in every row becomes that constant, as the planner already does for a
 * VALUES list of one row.  The same rows come out; where the query is
 * pulled up into its parent, v.t is then 'T1' there ("UPDATE deals d ...
 * FROM (VALUES ...) v WHERE d.tenant_id = v.t" pins d, a bulk update of one
 * tenant), and under the nullable side of an outer join the planner keeps
 * it a value that goes NULL (a PlaceHolderVar: no pin).
 */
static void
fold_uniform_values(Query *q)
{
	RangeTblRef *ref;
	RangeTblEntry *rte;
	ListCell   *lc;

	if (q->commandType != CMD_SELECT || q->setOperations != NULL ||
		q->hasAggs || q->hasWindowFuncs || q->hasTargetSRFs ||
		q->groupClause != NIL || q->groupingSets != NIL || q->havingQual != NULL ||
		q->jointree == NULL || list_length(q->jointree->fromlist) != 1 ||
		!IsA(linitial(q->jointree->fromlist), RangeTblRef))
		return;
	ref = linitial(q->jointree->fromlist);
	rte = rt_fetch(ref->rtindex, q->rtable);
	if (rte->rtekind != RTE_VALUES || list_length(rte->values_lists) < 2)
		return;
	foreach(lc, q->targetList)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		Var		   *v = (Var *) tle->expr;
		Node	   *c;

		if (v == NULL || !IsA(v, Var) || v->varno != ref->rtindex ||
			v->varlevelsup != 0 || v->varattno <= 0)
			continue;
		c = uniform_values_column(rte, v->varattno);
		if (c != NULL && exprType(c) == v->vartype)
			tle->expr = (Expr *) copyObject(c);
	}
}

/*
 * Rewrite the quals of one query level, then of the levels below it:
 * subqueries in FROM (views among them), CTEs, and sublinks (those of the
 * quals are reached by freeze_qual_walker; the others are looked for only
 * when the level has any, as the whole tree is not walked for nothing).
 */
static void
freeze_query(Query *q, FreezeContext *ctx)
{
	ListCell   *lc;
	QueryLevel	level = {q, ctx->level};

	check_stack_depth();
	ctx->level = &level;
	freeze_jointree((Node *) q->jointree, ctx);
	/* HAVING on a grouped column: the planner moves it into WHERE (round FF) */
	q->havingQual = freeze_qual(q->havingQual, ctx);
#if PG_VERSION_NUM >= 170000
	/* MERGE ... ON: not in the join tree before planning from 17 on */
	q->mergeJoinCondition = freeze_qual(q->mergeJoinCondition, ctx);
#endif
	foreach(lc, q->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_SUBQUERY && rte->subquery != NULL)
		{
			fold_uniform_values(rte->subquery);
			freeze_query(rte->subquery, ctx);
		}
		else if (rte->securityQuals != NIL)
		{
			ListCell   *lq;

			/* row-level security policies: the pins of their sublinks too */
			foreach(lq, rte->securityQuals)
				(void) sublink_walker(lfirst(lq), ctx);
		}
		else if (q->hasSubLinks &&
				 (rte->rtekind == RTE_FUNCTION || rte->rtekind == RTE_VALUES ||
				  rte->rtekind == RTE_TABLEFUNC))
			(void) range_table_entry_walker(rte, sublink_walker, ctx, 0);
	}
	foreach(lc, q->cteList)
	{
		fold_uniform_values((Query *) ((CommonTableExpr *) lfirst(lc))->ctequery);
		freeze_query((Query *) ((CommonTableExpr *) lfirst(lc))->ctequery, ctx);
	}
	if (q->hasSubLinks)
	{
		(void) sublink_walker((Node *) q->targetList, ctx);
		(void) sublink_walker((Node *) q->returningList, ctx);
		(void) sublink_walker((Node *) q->onConflict, ctx);
		(void) sublink_walker((Node *) q->mergeActionList, ctx);
		(void) sublink_walker(q->limitOffset, ctx);
		(void) sublink_walker(q->limitCount, ctx);
		(void) sublink_walker((Node *) q->windowClause, ctx);
	}
	ctx->level = level.up;
}

/*
 * Before planning: wrap each stable built-in value compared with a tenant
 * column in a qual in gtm_pin().  The planner scribbles on its input
 * anyway; callers that keep the query (plan cache) pass a copy.
 */
void
freeze_mutable_pins(Query *parse)
{
	FreezeContext ctx;

	if (parse->commandType == CMD_UTILITY)
		return;
	ctx.level = NULL;
	freeze_query(parse, &ctx);
}
