/*-------------------------------------------------------------------------
 *
 * enforce_record.c
 *	  What the planner hooks record about each reference to a tenant table.
 *
 * Two planner hooks feed the EnforceState of the statement being planned
 * (cur_state, see enforce_hooks.c):
 *
 *	- set_rel_pathlist_hook, for each base relation of a tenant table at
 *	  every query level (subqueries, appendrel children, relations proven
 *	  empty): record_scan() notes what its restriction clauses pin;
 *	- create_upper_paths_hook at UPPERREL_FINAL of a query with a result
 *	  relation: record_writes() notes the tenant values the statement writes.
 *	  INSERT, UPDATE SET, ON CONFLICT DO UPDATE SET and the actions of MERGE
 *	  go through two helpers: the value a row is inserted with
 *	  (record_inserted_value) and the new values assigned to the tenant
 *	  column (record_assignments), followed by written_values
 *	  (enforce_values.c); the tenant values foreign-key actions and
 *	  generated columns write are enforce_cascade.c's.
 *
 * Nothing here decides a verdict; enforce_judge.c does, once the plan is
 * finished and every level's outer parameters are known.
 *
 * IDENTIFICATION
 *	  src/enforce_record.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/pathnodes.h"
#include "optimizer/clauses.h"
#include "optimizer/paths.h"
#include "parser/parsetree.h"

#include "enforce.h"

/* A new reference of the given kind to the tenant table of f. */
TenantRef *
new_ref(RefKind kind, RelFacts *f, const char *alias)
{
	TenantRef  *ref = palloc(sizeof(TenantRef));

	/* a memset of constant size is inlined: cheaper than palloc0's loop */
	memset(ref, 0, sizeof(TenantRef));
	ref->kind = kind;
	ref->relid = f->relid;
	ref->attnum = f->attnum;
	ref->alias = alias;
	return ref;
}

/*
 * set_rel_pathlist_hook's part: record what the restriction clauses of a
 * base relation of a tenant table pin its tenant column to (or, without
 * any, a unique key of a joined table: enforce_key.c).  Also keeps the
 * outer parameters of a subquery level while they are still listed.
 */
void
record_scan(EnforceState *st, PlannerInfo *root, RelOptInfo *rel, Index rti,
			RangeTblEntry *rte)
{
	RelFacts   *f;
	TenantRef  *ref;
	PinResult	pr;

	if (root->parent_root != NULL)
		capture_outer_params(st, root);
	if (rte->rtekind != RTE_RELATION)
		return;
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return;

	ref = new_ref(REF_SCAN, f, rte->eref->aliasname);
	ref->eref = rte->eref;
	if (f->virtual_tenant)
	{
		/* its conditions name the generation expression, not the column */
		ref->reason = PR_VIRTUAL_GENERATED;
		st->refs = lappend(st->refs, ref);
		return;
	}
	rel_pin(st, root, rel, rti, f->attnum, &pr);
	ref->reason = pr.reason;
	if (pr.reason == PR_PINNED)
		ref->values = list_make1(pr.value);

	/*
	 * A foreign table: a condition the wrapper sends to the server runs
	 * there on the server's rows of every tenant (in whatever order its
	 * planner picks, through whatever index).  Whether it was sent is seen
	 * on a plain foreign scan (tenant_quals_first); a join or aggregate the
	 * wrapper pushes down hides it, so note here whether any condition
	 * besides the pin is not leakproof (a correlated pin's too).
	 */
	if (rte->relkind == RELKIND_FOREIGN_TABLE &&
		(pr.reason == PR_PINNED || pr.reason == PR_DEFERRED))
	{
		ListCell   *lc;

		foreach(lc, rel->baserestrictinfo)
			if (lfirst(lc) != pr.rinfo &&
				contain_leaked_vars((Node *) ((RestrictInfo *) lfirst(lc))->clause))
				ref->remote_leaky = true;
		/*
		 * A sort the wrapper may send: by a sort key of the statement
		 * (ORDER BY, DISTINCT, GROUP BY, a window) or by any expression of
		 * this table in an equivalence class (a value a join equates with a
		 * sort key, a merge join's key)
		 */
		foreach(lc, root->parse->targetList)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (tle->ressortgroupref != 0 && contain_leaked_vars((Node *) tle->expr))
				ref->remote_sort_leaky = true;
		}
		{
			int			i = -1;

			while ((i = bms_next_member(rel->eclass_indexes, i)) >= 0)
			{
				EquivalenceClass *ec = list_nth(root->eq_classes, i);
				GtmEcMemberIterator it;
				EquivalenceMember *em;

				/*
				 * also the members of a child relation (a foreign
				 * partition), which PostgreSQL 18 keeps apart (round FJ F0)
				 */
				gtm_ec_members_setup(&it, ec, rel->relids);
				while ((em = gtm_ec_members_next(&it)) != NULL)
				{
					if (bms_is_member(rti, em->em_relids) &&
						contain_leaked_vars((Node *) em->em_expr))
						ref->remote_sort_leaky = true;
				}
			}
		}
		/* a pin the wrapper cannot send: gtm_current_tenant(), gtm_pin() */
		ref->pin_unsent = pr.reason == PR_PINNED && pr.value != NULL &&
			!IsA(pr.value, Const) && !IsA(pr.value, Param);
	}
	else if (pr.reason != PR_PINNED && pr.reason != PR_DEFERRED)
	{
		/*
		 * No condition pins the column itself; a unique key may (key_pin).
		 * A condition on the column that pins nothing (id <> $2, IS NOT
		 * NULL, NOT IN (...)) is one more conjunct of the scan: it can only
		 * take rows away from the key's one row (round FG: "is this slug
		 * taken by another organization?" was refused).  Its reason stays
		 * the one reported when no key pins the column.
		 */
		PinReason	kr = key_pin(root, rel, rti, f->attnum, ref);

		if (kr == PR_PINNED || pr.reason == PR_NO_CONDITION)
			ref->reason = kr;
	}
	ref->outer_root = pr.outer_root;
	ref->outer_varno = pr.outer_varno;
	ref->outer_paramid = pr.outer_paramid;
	ref->outer_attno = pr.outer_attno;
	st->refs = lappend(st->refs, ref);
}

/*
 * Record the tenant value(s) a write puts into the tenant column.  A value
 * from the nullable side of an outer join is no value (PR_NULLABLE).
 */
static void
record_value(EnforceState *st, RefKind kind, RelFacts *f, const char *alias,
			 PlannerInfo *root, Node *expr)
{
	bool		merge_insert = kind == REF_INSERT &&
		root->parse->commandType == CMD_MERGE;

	TenantRef  *ref = new_ref(kind, f, alias);
	PinReason	why = PR_NULL;

	if (expr == NULL)
		ref->reason = PR_INSERT_NO_VALUE;
	else
	{
		ref->values = written_values(st, root, expr, merge_insert, &why);
		if (ref->values != NIL)
			ref->reason = PR_PINNED;
		else if (why == PR_NULLABLE)
			ref->reason = PR_NULLABLE;
		else
			ref->reason = kind == REF_INSERT ? PR_INSERT_UNPINNED : PR_SET_UNPINNED;
	}
	st->refs = lappend(st->refs, ref);
}

/* Record that a write computes a generated tenant column. */
static void
record_generated(EnforceState *st, RefKind kind, RelFacts *f,
				 const char *alias)
{
	TenantRef  *ref = new_ref(kind, f, alias);

	ref->reason = PR_GENERATED;
	st->refs = lappend(st->refs, ref);
}

/*
 * The value an INSERT (or MERGE's INSERT action) with target list tlist
 * writes into the tenant column: a NULL constant is no value (no value was
 * given and the column has no default).
 */
static void
record_inserted_value(EnforceState *st, RelFacts *f, const char *alias,
					  PlannerInfo *root, List *tlist)
{
	ListCell   *lc;
	Node	   *e = NULL;

	if (tenant_column_generated(st, f, true, NIL, NIL, 0))
	{
		record_generated(st, REF_INSERT, f, alias);
		return;
	}
	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resno == f->attnum && !tle->resjunk)
		{
			e = strip_relabel((Node *) tle->expr);
			break;
		}
	}
	if (e && IsA(e, Const) && ((Const *) e)->constisnull)
		e = NULL;
	record_value(st, REF_INSERT, f, alias, root, e);
}

/*
 * The new values an UPDATE-style target list assigns to the tenant column.
 * With by_resno, an entry's resno is its column (ON CONFLICT DO UPDATE
 * SET); otherwise colnos gives the column of each leading entry of tlist
 * (UPDATE's update_colnos, MERGE's updateColnos: their resnos were
 * renumbered, and junk entries follow).  An
 * assignment of the column to itself, or (excluded > 0) to the value being
 * inserted, which is pinned on its own, changes nothing and is skipped.
 */
static void
record_assignments(EnforceState *st, RelFacts *f, const char *alias,
				   PlannerInfo *root, Index target, Index excluded,
				   List *tlist, bool by_resno, List *colnos)
{
	ListCell   *lc;

	if (tenant_column_generated(st, f, false, tlist, by_resno ? NIL : colnos,
								target))
	{
		record_generated(st, REF_SET, f, alias);
		return;
	}
	foreach(lc, tlist)
	{
		TargetEntry *t = lfirst_node(TargetEntry, lc);
		int			i = foreach_current_index(lc);
		Node	   *e;

		if (by_resno ? (t->resno != f->attnum || t->resjunk) :
			(i >= list_length(colnos) || list_nth_int(colnos, i) != f->attnum))
			continue;
		e = strip_relabel((Node *) t->expr);
		if (e && IsA(e, Var) && ((Var *) e)->varlevelsup == 0 &&
			((Var *) e)->varattno == f->attnum &&
			(((Var *) e)->varno == target ||
			 (excluded > 0 && ((Var *) e)->varno == excluded)))
			continue;			/* unchanged, or the inserted (pinned) value */
		record_value(st, REF_SET, f, alias, root, (Node *) t->expr);
	}
}

/*
 * create_upper_paths_hook's part (UPPERREL_FINAL): record the tenant values
 * an INSERT, UPDATE, ON CONFLICT DO UPDATE or MERGE writes into a tenant
 * table, and those its foreign-key actions write into other tables
 * (record_cascades, enforce_cascade.c; any result relation).
 */
void
record_writes(EnforceState *st, PlannerInfo *root)
{
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	RelFacts   *f;
	const char *alias;
	Index		target = parse->resultRelation;
	ListCell   *lc;

	if (target <= 0)
		return;
	rte = rt_fetch(target, parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		return;
	record_cascades(st, root);
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return;
	alias = rte->eref->aliasname;

	switch (parse->commandType)
	{
		case CMD_INSERT:
			record_inserted_value(st, f, alias, root, root->processed_tlist);
			if (parse->onConflict &&
				parse->onConflict->action == ONCONFLICT_UPDATE)
				record_assignments(st, f, alias, root, target,
								   parse->onConflict->exclRelIndex,
								   parse->onConflict->onConflictSet, true, NIL);
			break;
		case CMD_UPDATE:
			record_assignments(st, f, alias, root, target, 0,
							   root->processed_tlist, false,
							   root->update_colnos);
			break;
		case CMD_MERGE:
			foreach(lc, parse->mergeActionList)
			{
				MergeAction *action = lfirst_node(MergeAction, lc);

				if (action->commandType == CMD_INSERT)
					record_inserted_value(st, f, alias, root, action->targetList);
				else if (action->commandType == CMD_UPDATE)
					record_assignments(st, f, alias, root, target, 0,
									   action->targetList, false,
									   action->updateColnos);
			}
			break;
		default:
			break;
	}
}

/*
 * The verdict of the plan st judges read the catalog rows of relids too
 * (the partitions of a partitioned table written through its parent, whose
 * triggers, generated columns and foreign keys decide what a row's tenant
 * can become, while the plan names only the parent; the tables a
 * foreign-key action writes): they join the plan's relationOids, so that a
 * change to any of them (a trigger created on one partition) makes the
 * plan cache plan it again, and judge it again.  st NULL: no plan (COPY).
 */
void
plan_depends_on(EnforceState *st, List *relids)
{
	if (st != NULL)
		st->depends_on = list_concat_unique_oid(st->depends_on, relids);
}
