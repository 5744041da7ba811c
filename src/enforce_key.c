/*-------------------------------------------------------------------------
 *
 * enforce_key.c
 *	  Tenant columns pinned through a unique key of a non-tenant table.
 *
 * "The members of organization X":
 *
 *	SELECT m.* FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
 *	 WHERE t.clerk_org_id = $1
 *
 * m.tenant_id is equated with t.id (one equivalence class), and t's
 * conditions give every column of a unique index of tenants a value fixed
 * before execution, so t contributes at most one row: every row of m the
 * statement returns, locks or changes has that row's id as its tenant.
 * Which tenant that is is known only when the row is found, at execution;
 * that it is one tenant is known now.  So m is pinned ("key pin") when
 *
 *	- its tenant column has no pin of its own (rel_pin) and is a member of
 *	  an equivalence class whose equality is an identity for it (the class
 *	  of an inner join or semijoin condition; outer and anti joins form
 *	  none), with no constant;
 *	- another member is a column of a base relation p at the same level,
 *	  not itself a tenant table (a tenant table's rows are judged on their
 *	  own pin: one row of it is not one tenant the statement chose), read
 *	  without inheritance;
 *	- p's restriction clauses equate each key column of one of p's unique,
 *	  immediately enforced, non-partial indexes with a value fixed before
 *	  execution (classify_value), under the index's equality and collation;
 *	- every condition on m is leakproof (m's scan reads every tenant's rows
 *	  and the join keeps those of the key's row: a function that is not
 *	  leakproof could see the others first), else PR_KEY_LEAKY.
 *
 * Two references pinned through the same class of the same query level
 * denote one tenant; any other combination (another class, a value pin)
 * cannot be compared before execution and is rejected (PR_KEY_UNKNOWN,
 * judge_one_tenant).  When p's conditions cover no unique key, the
 * reference is reported as PR_KEY_NOT_UNIQUE instead of "no condition".
 *
 * IDENTIFICATION
 *	  src/enforce_key.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/stratnum.h"
#include "catalog/pg_class.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"

/* Is e (a member of an equivalence class) the column (varno, attno)? */
static bool
member_is_column(Expr *e, Index varno, AttrNumber attno)
{
	Node	   *n = strip_relabel((Node *) e);

	return n && IsA(n, Var) && ((Var *) n)->varno == varno &&
		((Var *) n)->varattno == attno && ((Var *) n)->varlevelsup == 0;
}

/* Does the class compare member em by identity (see enforce_pin.c)? */
static bool
class_is_identity(EquivalenceClass *ec, EquivalenceMember *em)
{
	ListCell   *lc;

	foreach(lc, ec->ec_opfamilies)
		if (opfamily_is_identity(lfirst_oid(lc), em->em_datatype,
								 ec->ec_collation))
			return true;
	return false;
}

/*
 * Does restriction clause rinfo of rel equate index column c of ind with a
 * value fixed before execution, under the index's equality and collation?
 */
static bool
clause_fixes_index_column(RestrictInfo *rinfo, RelOptInfo *rel,
						  IndexOptInfo *ind, int c)
{
	OpExpr	   *op = (OpExpr *) rinfo->clause;
	Node	   *key,
			   *value;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
		!list_member_oid(rinfo->mergeopfamilies, ind->opfamily[c]))
		return false;
	if (OidIsValid(ind->indexcollations[c]) &&
		ind->indexcollations[c] != op->inputcollid)
		return false;
	if (bms_is_empty(rinfo->left_relids))
	{
		value = linitial(op->args);
		key = lsecond(op->args);
	}
	else if (bms_is_empty(rinfo->right_relids))
	{
		key = linitial(op->args);
		value = lsecond(op->args);
	}
	else
		return false;
	return match_index_to_operand(key, c, ind) &&
		classify_value(value) == PR_PINNED;
}

/*
 * Do rel's restriction clauses give every key column of one of its unique
 * indexes a value fixed before execution (so rel yields at most one row)?
 * Returns the index, or NULL.
 */
static IndexOptInfo *
fixed_by_unique_key(RelOptInfo *rel)
{
	ListCell   *li;

	foreach(li, rel->indexlist)
	{
		IndexOptInfo *ind = lfirst(li);
		int			c;

		if (!ind->unique || !ind->immediate || ind->indpred != NIL)
			continue;
		for (c = 0; c < ind->nkeycolumns; c++)
		{
			ListCell   *lr;
			bool		fixed = false;

			foreach(lr, rel->baserestrictinfo)
				if (clause_fixes_index_column(lfirst(lr), rel, ind, c))
				{
					fixed = true;
					break;
				}
			if (!fixed)
				break;
		}
		if (c == ind->nkeycolumns)
			return ind;
	}
	return NULL;
}

/* Does rel have a restriction clause equating a column with a value? */
static bool
has_value_condition(RelOptInfo *rel)
{
	ListCell   *lr;

	foreach(lr, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst(lr);

		if (rinfo->mergeopfamilies != NIL &&
			(bms_is_empty(rinfo->left_relids) ||
			 bms_is_empty(rinfo->right_relids)))
			return true;
	}
	return false;
}

/*
 * Are all of rel's own conditions and join conditions leakproof?  Nothing
 * restricts rel's scan to one tenant: its rows of every tenant reach the
 * join with the key's row, and a function that is not leakproof evaluated
 * on them before (a qual of rel, a join with another table first) could
 * show them, as row-level security knows.
 */
static bool
conditions_leakproof(RelOptInfo *rel)
{
	ListCell   *lc;

	foreach(lc, rel->baserestrictinfo)
		if (contain_leaked_vars((Node *) ((RestrictInfo *) lfirst(lc))->clause))
			return false;
	foreach(lc, rel->joininfo)
		if (contain_leaked_vars((Node *) ((RestrictInfo *) lfirst(lc))->clause))
			return false;
	return true;
}

/*
 * Can the tenant column (varno, attno) of rel, which rel_pin found no
 * condition on, be pinned through a unique key (see the file header)?
 * Returns PR_PINNED with ref->key_root, key_ec and key_label set,
 * PR_KEY_NOT_UNIQUE when it is equated with a column of a non-tenant table
 * that has conditions covering no unique key, or PR_NO_CONDITION.
 */
PinReason
key_pin(PlannerInfo *root, RelOptInfo *rel, Index varno, AttrNumber attno,
		TenantRef *ref)
{
	PinReason	result = PR_NO_CONDITION;
	int			i = -1;
	Index		parent = 0;

	if (root->append_rel_array && root->append_rel_array[varno])
		parent = root->append_rel_array[varno]->parent_relid;

	while ((i = bms_next_member(rel->eclass_indexes, i)) >= 0)
	{
		EquivalenceClass *ec = list_nth(root->eq_classes, i);
		EquivalenceMember *mine = NULL;
		ListCell   *lc;

		if (ec->ec_has_const || ec->ec_has_volatile || ec->ec_broken ||
			ec->ec_merged != NULL)
			continue;
		foreach(lc, ec->ec_members)
		{
			EquivalenceMember *em = lfirst(lc);

			if (member_is_column(em->em_expr, varno, attno))
				mine = em;
		}
		if (mine == NULL || !class_is_identity(ec, mine))
			continue;

		foreach(lc, ec->ec_members)
		{
			EquivalenceMember *em = lfirst(lc);
			Node	   *n = strip_relabel((Node *) em->em_expr);
			Var		   *v;
			RelOptInfo *prel;
			RangeTblEntry *prte;
			IndexOptInfo *ind;
			RelFacts   *pf;

			if (em->em_is_child || em->em_is_const || n == NULL ||
				!IsA(n, Var) || ((Var *) n)->varlevelsup != 0)
				continue;
			v = (Var *) n;
			if (v->varno == varno || v->varno == parent ||
				v->varno >= root->simple_rel_array_size)
				continue;
			prel = root->simple_rel_array[v->varno];
			prte = root->simple_rte_array[v->varno];
			if (prel == NULL || prte == NULL ||
				prel->reloptkind != RELOPT_BASEREL ||
				prte->rtekind != RTE_RELATION || prte->inh ||
				(prte->relkind != RELKIND_RELATION &&
				 prte->relkind != RELKIND_MATVIEW))
				continue;
			pf = rel_facts(prte->relid);
			if (pf->tenant && !pf->exempt)
				continue;
			ind = fixed_by_unique_key(prel);
			if (ind != NULL && !conditions_leakproof(rel))
				return PR_KEY_LEAKY;
			if (ind != NULL)
			{
				char	   *col = get_attname(prte->relid, v->varattno, true);

				ref->key_root = root;
				ref->key_ec = ec;
				ref->key_label = psprintf("%s.%s (the one row of \"%s\" its unique key \"%s\" finds)",
										  quote_identifier(prte->eref->aliasname),
										  quote_identifier(col ? col : "?"),
										  get_rel_name(prte->relid),
										  get_rel_name(ind->indexoid));
				return PR_PINNED;
			}
			if (has_value_condition(prel))
				result = PR_KEY_NOT_UNIQUE;
		}
	}
	return result;
}
