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
 *	  execution (key_value_fixed: a constant or a parameter), under the
 *	  index's equality and collation;
 *	- every condition on m, and everything computed from m's rows before the
 *	  join (its projection: a flattened UNION ALL branch, a placeholder;
 *	  every equivalence-class member over m, which becomes join clauses and
 *	  sort or hash keys), is leakproof (m's scan reads every tenant's rows
 *	  and the join keeps those of the key's row: a function that is not
 *	  leakproof could see the others first), else PR_KEY_LEAKY.
 *
 * Which tenant it is is decided when the statement starts: the plan
 * carries, for each such key, the index, the key's values and the column
 * equated with the tenant column (attach_key_pins: a payload in the plan's
 * invalItems, like enforce_runtime.c's), and ExecutorStart looks the row
 * up with the statement's snapshot, the one the executor will read it
 * with (run_key_pins).  Its tenant is then checked like any other pin of
 * the statement: against the statement's other pins and the tenant of the
 * running top-level statement (statement_scope_check).  No row: the
 * statement reads nothing through the key.
 *
 * When p's conditions cover no unique key, the reference is reported as
 * PR_KEY_NOT_UNIQUE instead of "no condition".
 *
 * The extension's tenants table is tenant-scoped with id as its tenant
 * column (relfacts.c): a tenant's row is its data.  Its scan is pinned the
 * same way by its own unique keys (clerk_org_id, slug: "the organization
 * X"), the column being id itself (PR_ROOT_LEAKY, PR_ROOT_NOT_UNIQUE when
 * that fails), and it may be the joined table p of another tenant table
 * when the member equated is its id: the one row the key finds is one
 * tenant.  Only tenants: a unique key of another tenant table (deals.id)
 * finds a row of any tenant, not the tenant the statement chose.
 *
 * IDENTIFICATION
 *	  src/enforce_key.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "executor/executor.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "nodes/readfuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/typcache.h"

#include "enforce.h"

/* Is e (a member of an equivalence class) the column (varno, attno)? */
static bool
member_is_column(Expr *e, Index varno, AttrNumber attno)
{
	Node	   *n = strip_relabel((Node *) e);

	return n && IsA(n, Var) && ((Var *) n)->varno == varno &&
		((Var *) n)->varattno == attno && ((Var *) n)->varlevelsup == 0;
}

/*
 * Does the class compare member em by identity (see enforce_pin.c)?
 * PR_PINNED if so, else why not (the reason the pin reports).
 */
static PinReason
class_identity(EquivalenceClass *ec, EquivalenceMember *em)
{
	ListCell   *lc;
	Var		   *col = (Var *) strip_relabel((Node *) em->em_expr);	/* member_is_column */

	/* compared as bpchar, stored unpadded (round CZ) */
	if (bpchar_padding_hides(em->em_datatype, col->vartype, col->vartypmod))
		return PR_NOT_IDENTITY;

	/*
	 * The key pin's filter at execution (tenant_condition,
	 * enforce_key_filter.c) compares the column with its type's default
	 * "=" under its own collation, not the join's: that must be an
	 * identity too, or the scan lets other tenants' rows through to the
	 * join, where a condition of the query level can still see them
	 * (round DC: a nondeterministic column joined under COLLATE "C").
	 */
	if (collation_is_nondeterministic(col->varcollid))
		return PR_NONDETERMINISTIC;
	{
		/* the type cache keeps the default class's family and input type */
		TypeCacheEntry *ctce = lookup_type_cache(col->vartype,
												 TYPECACHE_BTREE_OPFAMILY);

		if (!OidIsValid(ctce->btree_opf) ||
			!opfamily_is_identity(ctce->btree_opf, ctce->btree_opintype,
								  col->varcollid))
			return PR_NOT_IDENTITY;
	}

	/* members of two types: compared through a conversion (enforce_identity.c) */
	foreach(lc, ec->ec_members)
	{
		Oid			type = ((EquivalenceMember *) lfirst(lc))->em_datatype;

		if (type != em->em_datatype &&
			!cross_type_reads_no_setting(type, em->em_datatype))
			return PR_CROSS_TYPE;
	}
	if (collation_is_nondeterministic(ec->ec_collation))
		return PR_NONDETERMINISTIC;

	/*
	 * The class's equality must be the type's own: its default family is
	 * among the class's (a class made by an operator of a DBA's family is
	 * not, round DA)
	 */
	{
		TypeCacheEntry *tce = lookup_type_cache(em->em_datatype,
												TYPECACHE_BTREE_OPFAMILY);

		if (OidIsValid(tce->btree_opf) &&
			list_member_oid(ec->ec_opfamilies, tce->btree_opf) &&
			opfamily_is_identity(tce->btree_opf, em->em_datatype,
								 ec->ec_collation))
			return PR_PINNED;
	}
	return PR_NOT_IDENTITY;
}


/*
 * A key value is a non-null constant or a bound parameter ($n), as the
 * whole value: the row it finds is looked up once, when the statement
 * starts.  An expression is evaluated again for every row and may change
 * (built-ins marked IMMUTABLE can read a setting); gtm_pin() keeps a
 * tenant, not a key, and returns NULL unchecked.
 */
static bool
key_value_fixed(Node *value)
{
	if (mentions_callers_type(value))
		return false;			/* a temporary domain's CHECK (enforce_pin.c) */
	value = strip_fixed_casts(value);
	return (IsA(value, Const) && !((Const *) value)->constisnull) ||
		(IsA(value, Param) && ((Param *) value)->paramkind == PARAM_EXTERN);
}

/*
 * Does restriction clause rinfo of rel equate index column c of ind with a
 * value fixed before execution, under the index's equality and collation?
 * If so, returns how to look the value up in the index: list(strategy,
 * right type, operator function, collation, value).
 */
static List *
clause_fixes_index_column(RestrictInfo *rinfo, RelOptInfo *rel,
						  IndexOptInfo *ind, int c)
{
	OpExpr	   *op = (OpExpr *) rinfo->clause;
	Node	   *key,
			   *value;
	Oid			opno;
	int			strategy;
	Oid			lefttype,
				righttype;

	if (!IsA(op, OpExpr) || list_length(op->args) != 2 ||
		!list_member_oid(rinfo->mergeopfamilies, ind->opfamily[c]))
		return NIL;
	if (OidIsValid(ind->indexcollations[c]) &&
		ind->indexcollations[c] != op->inputcollid)
		return NIL;
	if (bms_is_empty(rinfo->left_relids))
	{
		value = linitial(op->args);
		key = lsecond(op->args);
		opno = get_commutator(op->opno);
	}
	else if (bms_is_empty(rinfo->right_relids))
	{
		key = linitial(op->args);
		value = lsecond(op->args);
		opno = op->opno;
	}
	else
		return NIL;
	if (!OidIsValid(opno) || !op_in_opfamily(opno, ind->opfamily[c]) ||
		!match_index_to_operand(key, c, ind) ||
		!key_value_fixed(value))
		return NIL;
	get_op_opfamily_properties(opno, ind->opfamily[c], false, &strategy,
							   &lefttype, &righttype);
	value = copyObject(value);
	fix_opfuncids(value);
	return list_make5(makeInteger(strategy), makeInteger((int) righttype),
					  makeInteger((int) get_opcode(opno)),
					  makeInteger((int) op->inputcollid), value);
}

/*
 * Do rel's restriction clauses give every key column of one of its unique
 * indexes a value fixed before execution (so rel yields at most one row)?
 * Returns the index, or NULL; *keys: the lookup of each key column.
 */
static IndexOptInfo *
fixed_by_unique_key(RelOptInfo *rel, List **keys)
{
	ListCell   *li;

	foreach(li, rel->indexlist)
	{
		IndexOptInfo *ind = lfirst(li);
		int			c;

		/*
		 * Only indexes of plain columns: an expression index may rest on a
		 * user function marked IMMUTABLE that is not, and then be unique
		 * for values it no longer computes.
		 */
		if (!ind->unique || !ind->immediate || ind->indpred != NIL ||
			ind->relam != BTREE_AM_OID || ind->indexprs != NIL)
			continue;
		*keys = NIL;
		for (c = 0; c < ind->nkeycolumns; c++)
		{
			ListCell   *lr;
			List	   *key = NIL;

			foreach(lr, rel->baserestrictinfo)
				if ((key = clause_fixes_index_column(lfirst(lr), rel, ind, c)) != NIL)
					break;
			if (key == NIL)
				break;
			*keys = lappend(*keys, key);
		}
		if (c == ind->nkeycolumns)
			return ind;
	}
	*keys = NIL;
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
 * Could evaluating node show a value of the rows it is evaluated on?
 * PostgreSQL's contain_leaked_vars (the test of row-level security), and
 * an array constructor of arrays (multidims), which raises an error when
 * its parts differ in size: ARRAY[ARRAY[col], ARRAY[1, 2]] under a CASE
 * of a guess errs only when some row matches the guess.
 */
static bool
multidim_array_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, ArrayExpr) && ((ArrayExpr *) node)->multidims)
		return true;
	return expression_tree_walker(node, multidim_array_walker, context);
}

static bool
leaky(Node *node)
{
	return contain_leaked_vars(node) || multidim_array_walker(node, NULL);
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

	/* a LATERAL reference passes rel's rows to a function before the join */
	if (!bms_is_empty(rel->lateral_referencers))
		return false;
	foreach(lc, rel->baserestrictinfo)
		if (leaky((Node *) ((RestrictInfo *) lfirst(lc))->clause))
			return false;
	foreach(lc, rel->joininfo)
		if (leaky((Node *) ((RestrictInfo *) lfirst(lc))->clause))
			return false;
	return true;
}

/*
 * Are the conditions of every other relation of the query level
 * leakproof?  The planner may join rel's rows, of every tenant, with
 * another table before the key's row restricts them, and scan that table
 * parameterized by them (a nested loop whose inner index scan looks up
 * x.a = rel.col): a condition of x that is not leakproof then sees values
 * found through rel's rows of every tenant.
 */
static bool
other_conditions_leakproof(PlannerInfo *root, RelOptInfo *rel)
{
	for (int i = 1; i < root->simple_rel_array_size; i++)
	{
		RelOptInfo *other = root->simple_rel_array[i];

		if (other == NULL || other == rel ||
			other->reloptkind != RELOPT_BASEREL)
			continue;
		if (!conditions_leakproof(other))
			return false;
	}
	return true;
}

/*
 * Is nothing that is not leakproof computed from rel's rows before they
 * are joined with the key's row?  Beyond rel's own conditions
 * (conditions_leakproof): what rel's scan projects (the branch of a
 * flattened UNION ALL, a placeholder of a pulled-up subquery), and every
 * equivalence-class member over rel, from which the planner makes join
 * clauses, sort and hash keys evaluated in whatever join order it picks,
 * possibly with another table before the key's.
 */
static bool
scan_leakproof(PlannerInfo *root, RelOptInfo *rel)
{
	ListCell   *lc;
	int			i = -1;

	if (!conditions_leakproof(rel) || !other_conditions_leakproof(root, rel))
		return false;
	foreach(lc, rel->reltarget->exprs)
		if (leaky((Node *) lfirst(lc)))
			return false;
	while ((i = bms_next_member(rel->eclass_indexes, i)) >= 0)
	{
		EquivalenceClass *ec = list_nth(root->eq_classes, i);
		GtmEcMemberIterator it;
		EquivalenceMember *em;

		/* a child relation's members too (kept apart in PostgreSQL 18) */
		gtm_ec_members_setup(&it, ec, rel->relids);
		while ((em = gtm_ec_members_next(&it)) != NULL)
		{
			if (bms_is_member(rel->relid, em->em_relids) &&
				leaky((Node *) em->em_expr))
				return false;
		}
	}
	return true;
}

/*
 * Pin ref through the row of relid (alias) that unique index ind finds
 * with keys: its column attno is the tenant (see attach_key_pins).
 */
static void
set_key_lookup(TenantRef *ref, const char *alias, Oid relid, AttrNumber attno,
			   IndexOptInfo *ind, List *keys)
{
	char	   *col = get_attname(relid, attno, true);

	ref->key_label = psprintf("%s.%s (the one row of \"%s\" its unique key \"%s\" finds)",
							  quote_identifier(alias),
							  quote_identifier(col ? col : "?"),
							  get_rel_name(relid),
							  get_rel_name(ind->indexoid));
	ref->key_lookup = list_make5(makeInteger((int) relid),
								 makeInteger((int) ind->indexoid),
								 makeInteger(attno),
								 makeString(raw_label(ref)),
								 keys);
}

/*
 * Can the tenant column (varno, attno) of rel, which rel_pin found no
 * condition on, be pinned through a unique key (see the file header)?
 * Returns PR_PINNED with ref->key_lookup and key_label set (see
 * attach_key_pins), PR_KEY_LEAKY when a condition on rel is not
 * leakproof, PR_KEY_NOT_UNIQUE when the tenant column is equated with a
 * column of a non-tenant table that has conditions covering no unique key,
 * or PR_NO_CONDITION.
 */
PinReason
key_pin(PlannerInfo *root, RelOptInfo *rel, Index varno, AttrNumber attno,
		TenantRef *ref)
{
	PinReason	result = PR_NO_CONDITION;
	PinReason	why;
	int			i = -1;
	Index		parent = 0;

	if (root->append_rel_array && root->append_rel_array[varno])
		parent = root->append_rel_array[varno]->parent_relid;

	/* the tenants table found by one of its own unique keys */
	if (rel_facts(ref->relid)->root)
	{
		List	   *keys;
		IndexOptInfo *ind = fixed_by_unique_key(rel, &keys);

		/*
		 * Its own key condition restricts the scan itself, so other tables
		 * see only the key's row; only its own conditions, evaluated in the
		 * same scan, could see other rows first.
		 */
		if (ind != NULL && !conditions_leakproof(rel))
			return PR_ROOT_LEAKY;
		if (ind != NULL)
		{
			set_key_lookup(ref, ref->alias, ref->relid, attno, ind, keys);
			restrict_key_pinned_paths(rel);
			return PR_PINNED;
		}
		if (has_value_condition(rel))
			result = PR_ROOT_NOT_UNIQUE;
	}

	while ((i = bms_next_member(rel->eclass_indexes, i)) >= 0)
	{
		EquivalenceClass *ec = list_nth(root->eq_classes, i);
		EquivalenceMember *mine = NULL;
		GtmEcMemberIterator it;
		EquivalenceMember *member;
		ListCell   *lc;

		if (ec->ec_has_const || ec->ec_has_volatile || ec->ec_broken ||
			ec->ec_merged != NULL)
			continue;
		/* the column of a child relation too (kept apart in PostgreSQL 18) */
		gtm_ec_members_setup(&it, ec, rel->relids);
		while ((member = gtm_ec_members_next(&it)) != NULL)
		{
			if (member_is_column(member->em_expr, varno, attno))
				mine = member;
		}
		if (mine == NULL)
			continue;
		why = class_identity(ec, mine);
		if (why != PR_PINNED)
		{
			/*
			 * The column is equated with others, but not by identity: no
			 * row of theirs can pin it, and that is the reason to report
			 * (rounds CY, CZ), unless a better one is found.
			 */
			if (result == PR_NO_CONDITION)
				result = why;
			continue;
		}

		foreach(lc, ec->ec_members)
		{
			EquivalenceMember *em = lfirst(lc);
			Node	   *n = strip_relabel((Node *) em->em_expr);
			Var		   *v;
			RelOptInfo *prel;
			RangeTblEntry *prte;
			IndexOptInfo *ind;
			RelFacts   *pf;
			List	   *keys;

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

			/*
			 * A tenant table's row is judged on its own pin, except the
			 * tenants table's id: its row found by a unique key is one
			 * tenant (and pins that scan the same way, above).
			 */
			if (pf->tenant && !pf->exempt &&
				!(pf->root && v->varattno == pf->attnum))
				continue;
			ind = fixed_by_unique_key(prel, &keys);
			if (ind != NULL && !scan_leakproof(root, rel))
				return PR_KEY_LEAKY;
			if (ind != NULL)
			{
				set_key_lookup(ref, prte->eref->aliasname, prte->relid,
							   v->varattno, ind, keys);
				restrict_key_pinned_paths(rel);
				return PR_PINNED;
			}
			if (has_value_condition(prel))
				result = PR_KEY_NOT_UNIQUE;
		}
	}
	return result;
}

/* ----------------------------------------------------------------
 *		At execution: the tenant of the key's row
 * ----------------------------------------------------------------
 */

/*
 * Attach to an enforcing plan the lookups of its references pinned through
 * a unique key: nodeToString of the list of distinct key_lookups, as a
 * payload in the plan's invalItems (write_plan_payload, enforce_runtime.c).
 */
void
attach_key_pins(PlannedStmt *stmt, List *judged)
{
	List	   *lookups = NIL;
	ListCell   *lc;
	char	   *payload;

	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->reason == PR_PINNED && ref->key_lookup != NIL &&
			!list_member(lookups, ref->key_lookup))
			lookups = lappend(lookups, ref->key_lookup);
	}
	if (lookups == NIL)
		return;
	payload = nodeToString(lookups);
	write_plan_payload(stmt, GTM_KEYS_CACHEID, payload, strlen(payload) + 1);

	/* first, so that the executor's start finds it at once (plan_has_key_pins) */
	{
		PlanInvalItem *mark = makeNode(PlanInvalItem);

		mark->cacheId = GTM_KEYS_MARK_CACHEID;
		mark->hashValue = 0;
		stmt->invalItems = lcons(mark, stmt->invalItems);
	}
}

/*
 * The text of the column of the row a key lookup (see key_pin) finds with
 * the statement's snapshot and parameters, or NULL when there is none.
 */
char *
lookup_key_row(List *lookup, QueryDesc *queryDesc)
{
	Oid			typid;
	Datum		value;

	return lookup_key_value(lookup, queryDesc, &typid, &value);
}

/*
 * The same, and the column's value itself (*value, copied into the
 * caller's memory) and type (*typid) when there is a row.
 */
char *
lookup_key_value(List *lookup, QueryDesc *queryDesc, Oid *typid, Datum *value)
{
	Oid			relid = (Oid) intVal(linitial(lookup));
	Oid			indexoid = (Oid) intVal(lsecond(lookup));
	AttrNumber	attno = (AttrNumber) intVal(lthird(lookup));
	List	   *keys = (List *) list_nth(lookup, 4);
	int			nkeys = list_length(keys);
	ScanKeyData skeys[INDEX_MAX_KEYS];
	ExprContext *econtext = CreateStandaloneExprContext();
	char	   *result = NULL;
	ListCell   *lc;
	Relation	heap,
				index;
	IndexScanDesc scan;
	TupleTableSlot *slot;

	econtext->ecxt_param_list_info = queryDesc->params;
	foreach(lc, keys)
	{
		List	   *key = lfirst(lc);
		int			i = foreach_current_index(lc);
		ExprState  *es = ExecInitExprWithParams((Expr *) list_nth(key, 4),
												queryDesc->params);
		bool		isnull;
		Datum		d = ExecEvalExprSwitchContext(es, econtext, &isnull);

		if (isnull)
		{
			FreeExprContext(econtext, true);
			return NULL;		/* equal to nothing: no row */
		}
		ScanKeyEntryInitialize(&skeys[i], 0, i + 1,
							   (StrategyNumber) intVal(linitial(key)),
							   (Oid) intVal(lsecond(key)),
							   (Oid) intVal(lfourth(key)),
							   (RegProcedure) intVal(lthird(key)), d);
	}

	heap = table_open(relid, AccessShareLock);
	index = index_open(indexoid, AccessShareLock);
	scan = gtm_index_beginscan(heap, index, queryDesc->snapshot, nkeys, 0);
	index_rescan(scan, skeys, nkeys, NULL, 0);
	slot = table_slot_create(heap, NULL);
	if (index_getnext_slot(scan, ForwardScanDirection, slot))
	{
		bool		isnull;
		Datum		d = slot_getattr(slot, attno, &isnull);

		if (!isnull)
		{
			Form_pg_attribute att = TupleDescAttr(RelationGetDescr(heap), attno - 1);

			result = tenant_value_text(d, att->atttypid);
			*typid = att->atttypid;
			*value = datumCopy(d, att->attbyval, att->attlen);
		}
	}
	ExecDropSingleTupleTableSlot(slot);
	index_endscan(scan);
	index_close(index, AccessShareLock);
	table_close(heap, AccessShareLock);
	FreeExprContext(econtext, true);
	return result;
}

/*
 * The unique-key pins of a statement that starts, from the payload
 * run_statement_pins read (after checking the statement's other pins,
 * which it does only when the executor has started, the role is not
 * exempt, not in a parallel worker and not for EXPLAIN without ANALYZE):
 * look up the row of each and check its tenant against the statement's
 * (statement_scope_check).
 */
void
run_key_pins(QueryDesc *queryDesc, const char *payload)
{
	ListCell   *lc;

	foreach(lc, (List *) stringToNode(payload))
	{
		List	   *lookup = lfirst(lc);
		char	   *tenant = lookup_key_row(lookup, queryDesc);

		if (tenant != NULL)
			statement_scope_check(tenant, strVal(lfourth(lookup)),
								  ENFORCE_ELEVEL());
	}
}
