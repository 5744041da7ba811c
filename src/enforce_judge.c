/*-------------------------------------------------------------------------
 *
 * enforce_judge.c
 *	  The verdict on a finished plan.
 *
 * When the standard planner returns, judge_plan() decides from what the
 * planner hooks recorded (enforce_record.c) and from the finished plan, in
 * four steps:
 *
 *	1. judge_scans: every tenant table the plan scans (walk_plan over the
 *	   plan tree and its subplans, enforce_walk.c) must have been recorded,
 *	   with its conditions in a safe order; one that was not
 *	   is PR_NOT_ANALYSED.  References recorded for relations the plan does
 *	   not read (removed joins, pruned partitions) are not judged.
 *	2. judge_modify_tables (enforce_modify.c): an ON CONFLICT DO UPDATE
 *	   arbiter index must include the tenant column, compared by identity;
 *	   a foreign tenant table is written only by a statement sent to its
 *	   server whole.
 *	3. judged_refs: the references to judge, with correlated pins
 *	   (PR_DEFERRED) resolved through the outer Var they stand for.
 *	4. judge_one_tenant: all pins must denote one tenant.  Two different
 *	   constants are rejected now; the values known only when the statement
 *	   starts are compared then (enforce_runtime.c), and so is the tenant of
 *	   the row a unique-key pin finds (enforce_key.c).
 *
 * The judgement of COPY, TRUNCATE and LOCK TABLE is enforce_utility.c's.
 *
 * Messages are enforce_report.c's; this file only sets reasons.
 *
 * IDENTIFICATION
 *	  src/enforce_judge.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/namespace.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/nodes.h"
#include "parser/parsetree.h"
#include "port/pg_bitutils.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"

#include "enforce.h"

/*
 * A foreign scan (rtable index rti) whose pin is not sent to the server,
 * which then reads every tenant's rows: the coordinator filters them, but
 * a lock (FOR UPDATE, UPDATE, DELETE) or a sort by an expression that is
 * not leakproof would reach them all there.  The reason to record: found's
 * own (PR_PINNED, PR_DEFERRED) when nothing of the kind.
 */
static PinReason
remote_unpinned_reason(PlannedStmt *stmt, int rti, TenantRef *found)
{
	ListCell   *lc;

	if (found->remote_sort_leaky || list_member_int(stmt->resultRelations, rti))
		return PR_REMOTE_UNPINNED;
	foreach(lc, stmt->rowMarks)
	{
		PlanRowMark *rc = lfirst_node(PlanRowMark, lc);

		/*
		 * FOR UPDATE/SHARE: a foreign table's mark is a copy, its strength
		 * what the wrapper asks the server to lock
		 */
		if (rc->rti == (Index) rti && rc->strength != LCS_NONE)
			return PR_REMOTE_UNPINNED;
	}
	return found->reason;
}

/* Are two constant pins the same tenant?  Compared as text. */
static bool
consts_equal(Const *a, Const *b)
{
	if (a->consttype == b->consttype &&
		datumIsEqual(a->constvalue, b->constvalue, a->constbyval, a->constlen))
		return true;
	return strcmp(tenant_value_text(a->constvalue, a->consttype),
				  tenant_value_text(b->constvalue, b->consttype)) == 0;
}

/*
 * Is any relation of the finished plan a tenant table?  Also true when a
 * reference was recorded while planning, although the plan no longer names
 * it.  The common statement touches none and leaves here.
 */
bool
plan_touches_tenant_table(EnforceState *st, PlannedStmt *stmt)
{
	ListCell   *lc;

	if (st->refs != NIL)
		return true;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rel_facts(rte->relid)->tenant)
			return true;
	}
	return false;
}

/* A reference the plan reads without the check having seen its conditions */
void
add_not_analysed(EnforceState *st, RelFacts *f, const char *alias,
				 const char *opaque)
{
	TenantRef  *ref = new_ref(REF_SCAN, f, alias);

	ref->reason = opaque ? PR_OPAQUE_NODE : PR_NOT_ANALYSED;
	ref->node_name = opaque;
	ref->judged = true;
	st->refs = lappend(st->refs, ref);
}

/* Does st hold a reference recorded for relid (a scan or a write)? */
bool
relid_recorded(EnforceState *st, Oid relid)
{
	ListCell   *lc;

	foreach(lc, st->refs)
		if (((TenantRef *) lfirst(lc))->relid == relid)
			return true;
	return false;
}

/* Collect the relations of every level of a (planned) query. */
static bool
relids_walker(Node *node, List **relids)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION)
				*relids = list_append_unique_oid(*relids, rte->relid);
		}
		return query_tree_walker((Query *) node, relids_walker, relids, 0);
	}
	return expression_tree_walker(node, relids_walker, relids);
}

/*
 * Every relation the statement names: those left in its query tree at any
 * level (a planner that bypasses the hooks leaves them out of the plan's
 * range table) and those the plan depends on.
 */
static List *
statement_relids(EnforceState *st, PlannedStmt *stmt)
{
	List	   *relids = list_copy(stmt->relationOids);

	if (st->parse != NULL)
		(void) relids_walker((Node *) st->parse, &relids);
	return relids;
}

/*
 * Step 1: every tenant table the plan scans must have a recorded verdict.
 * When the plan holds a node the walk cannot see into, fail closed: every
 * tenant table of the final range table that no known scan reads, and
 * every tenant table the statement names (statement_relids) that was
 * never recorded, is rejected.
 */
static void
judge_scans(EnforceState *st, PlannedStmt *stmt, PlanWalk *w)
{
	int			i = -1;
	ListCell   *lc;

	while ((i = next_scanned(w, i)) >= 0)
	{
		RangeTblEntry *rte;
		RelFacts   *f;
		TenantRef  *found = NULL;

		if (i < 1 || i > list_length(stmt->rtable))
			continue;
		rte = rt_fetch(i, stmt->rtable);
		if (rte->rtekind != RTE_RELATION)
			continue;
		foreach(lc, st->refs)
		{
			TenantRef  *ref = lfirst(lc);

			if (ref->kind == REF_SCAN && ref->eref == rte->eref)
			{
				found = ref;
				break;
			}
		}
		if (found == NULL)
		{
			f = rel_facts(rte->relid);
			if (!f->tenant || f->exempt)
				continue;
			add_not_analysed(st, f, rte->eref->aliasname, NULL);
		}
		else
		{
			found->judged = true;

			/*
			 * A join or aggregate pushed down to a foreign server: the
			 * conditions sent with it are not seen, so every condition on
			 * the table besides the pin must be leakproof
			 * (tenant_quals_first judges a plain foreign scan exactly).
			 */
			if (unlikely(found->remote_leaky || found->pin_unsent) &&
				(found->reason == PR_PINNED || found->reason == PR_DEFERRED) &&
				bms_is_member(i, w->pushed_down))
				found->reason = found->remote_leaky ? PR_REMOTE_CONDITION :
					PR_REMOTE_UNPINNED;
			/* (a correlated pin, resolved later, is judged the same) */
			if (unlikely(w->unsafe_rti != NIL) &&
				(found->reason == PR_PINNED || found->reason == PR_DEFERRED))
			{
				ListCell   *lr;
				ListCell   *lw;

				forboth(lr, w->unsafe_rti, lw, w->unsafe_why)
					if (lfirst_int(lr) == i)
						found->reason = lfirst_int(lw) == PR_REMOTE_UNSENT ?
							remote_unpinned_reason(stmt, i, found) :
							(PinReason) lfirst_int(lw);
			}
		}
	}

	if (w->opaque == NULL)
		return;
	i = 0;
	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);
		RelFacts   *f;

		i++;
		if (rte->rtekind != RTE_RELATION || is_scanned(w, i))
			continue;
		f = rel_facts(rte->relid);
		if (f->tenant && !f->exempt)
			add_not_analysed(st, f, rte->eref->aliasname, w->opaque);
	}
	foreach(lc, statement_relids(st, stmt))
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));

		if (f->tenant && !f->exempt && !relid_recorded(st, f->relid))
			add_not_analysed(st, f, get_rel_name(f->relid), w->opaque);
	}
}

/*
 * Before the walk: the correlated pins resolved through the outer columns
 * they stand for (judged_refs would do it after), each column noted
 * (st->pin_columns) so that the walk puts its pin equality first in its
 * scan, whatever the relation (a temporary table of the caller's, an
 * exempt table, VALUES): a subquery in that scan's Filter runs for each
 * row it sees, with the row's value, and must see only the rows of the pin.
 */
static List *
resolve_deferred_pins(EnforceState *st)
{
	ListCell   *lc;
	List	   *param_checks = NIL;

	foreach(lc, st->refs)
	{
		TenantRef  *ref = lfirst(lc);
		PinReason	why;
		List	   *v;
		RangeTblEntry *outer;

		if (ref->reason != PR_DEFERRED)
			continue;
		st->record_pin_columns = true;
		v = var_values(st, ref->outer_root, ref->outer_varno,
					   ref->outer_attno, 0, &why);
		st->record_pin_columns = false;
		if (v == NIL)
			continue;
		ref->values = v;
		ref->reason = PR_PINNED;

		/*
		 * Its parameter is checked at each value (check_param_pins) unless
		 * the outer column is a tenant table's own tenant column (one
		 * relation, no children): that scan evaluates its own pin first,
		 * so only the pinned tenant's rows set the parameter -- the common
		 * correlated subquery, which pays nothing.
		 */
		outer = ref->outer_root->simple_rte_array[ref->outer_varno];
		if (!(outer->rtekind == RTE_RELATION && !outer->inh &&
			  rel_facts(outer->relid)->tenant && !rel_facts(outer->relid)->exempt &&
			  rel_facts(outer->relid)->attnum == ref->outer_attno))
		{
			ref->check_param = true;
			param_checks = lappend(param_checks, ref);
		}
	}
	return param_checks;
}

/*
 * Step 3: the references to judge (writes always, scans when the plan
 * reads them), with correlated pins resolved now that every level of the
 * statement is planned.
 */
List *
judged_refs(EnforceState *st)
{
	List	   *judged = NIL;
	ListCell   *lc;
	bool		all = true;

	foreach(lc, st->refs)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->kind != REF_SCAN)
			ref->judged = true;
		if (!ref->judged)
		{
			all = false;
			continue;
		}
		if (ref->reason == PR_DEFERRED)
		{
			PinReason	why;
			List	   *v = var_values(st, ref->outer_root, ref->outer_varno,
									   ref->outer_attno, 0, &why);

			if (v != NIL)
			{
				ref->values = v;
				ref->reason = PR_PINNED;
			}
		}
	}
	/* usually every reference is judged: st->refs itself, not a copy */
	if (all)
		return st->refs;
	foreach(lc, st->refs)
		if (((TenantRef *) lfirst(lc))->judged)
			judged = lappend(judged, lfirst(lc));
	return judged;
}

/*
 * Step 4: one statement, one tenant.  Sorts the values of the pinned
 * references into classes of equal values (PinClass); a reference whose
 * constant differs from another class's constant becomes PR_TWO_TENANTS,
 * or PR_MOVES_ROW when one of the two is a new value assigned by an update.
 * Fills *classes; *has_nonconst tells whether any class value is not a
 * constant (then the classes are compared when the statement starts).
 */
void
judge_one_tenant(List *judged, PinClasses *classes, bool *has_nonconst,
				 EnforceState *st)
{
	ListCell   *lc;

	classes->n = 0;
	classes->cap = PIN_CLASSES_LOCAL;
	classes->items = classes->local;
	*has_nonconst = false;
	st->all_pinned = true;
	st->any_key_lookup = false;
	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);
		ListCell   *lv;

		if (ref->reason != PR_PINNED)
		{
			st->all_pinned = false;
			continue;
		}
		if (ref->key_lookup != NIL)
			st->any_key_lookup = true;
		foreach(lv, ref->values)
		{
			Node	   *v = lfirst(lv);
			PinClass   *same = NULL;

			for (int c = 0; c < classes->n; c++)
			{
				PinClass   *pc = &classes->items[c];

				/*
				 * Two non-null constants: equal() would only say yes when
				 * consts_equal() does, so ask it alone.
				 */
				if (!(IsA(v, Const) && IsA(pc->value, Const) &&
					  !((Const *) v)->constisnull &&
					  !((Const *) pc->value)->constisnull) &&
					equal(v, pc->value))
				{
					same = pc;
					break;
				}
				if (IsA(v, Const) && IsA(pc->value, Const))
				{
					if (consts_equal((Const *) v, (Const *) pc->value))
					{
						same = pc;
						break;
					}
					/* two different constants: rejected now */
					ref->reason = (ref->kind == REF_SET || pc->first->kind == REF_SET) ?
						PR_MOVES_ROW : PR_TWO_TENANTS;
					ref->other = pc->first;
					ref->mine = v;
					ref->theirs = pc->value;
					break;
				}
			}
			if (ref->reason != PR_PINNED)
				break;
			if (same == NULL)
			{
				if (classes->n == classes->cap)
				{
					PinClass   *more = palloc(2 * classes->cap * sizeof(PinClass));

					memcpy(more, classes->items, classes->n * sizeof(PinClass));
					classes->items = more;
					classes->cap *= 2;
				}
				same = &classes->items[classes->n++];
				same->first = ref;
				same->value = v;
				same->written = false;
				if (!IsA(v, Const))
					*has_nonconst = true;
			}
			if (ref->kind != REF_SCAN)
				same->written = true;
		}
		if (ref->reason != PR_PINNED)
			st->all_pinned = false;
	}
}

/*
 * Decide the verdict of a planned statement.  Returns the references
 * judged, each with its reason; the caller reports those not PR_PINNED (or
 * hands them to the checker).  The checker gets a PR_AT_START reference
 * listing the values to compare when several are not all constants; an
 * enforcing plan gets its classes' values attached (enforce_runtime.c), to
 * be compared with each other and with the tenant of the running top-level
 * statement when it starts.
 */
List *
judge_plan(EnforceState *st, PlannedStmt *stmt)
{
	PlanWalk	w = {0};
	ListCell   *lc;
	List	   *judged;
	PinClasses	classes;
	bool		has_nonconst;

	w.rtable = stmt->rtable;
	w.modifytables = w.modifytables_local;
	w.max_modifytables = lengthof(w.modifytables_local);
	w.param_checks = resolve_deferred_pins(st);
	w.pin_columns = st->pin_columns;
	w.appendrels = stmt->appendRelations;
	walk_plan(stmt->planTree, &w);
	foreach(lc, stmt->subplans)
		walk_plan((Plan *) lfirst(lc), &w);

	/*
	 * A correlated value to check that no scan of its reference had
	 * wrapped (a join or aggregate pushed to a foreign server, where the
	 * value is sent unchecked): refused, fail closed (round AZ).
	 */
	foreach(lc, w.param_checks)
	{
		TenantRef  *ref = lfirst(lc);

		if (!ref->param_checked && ref->reason == PR_PINNED)
		{
			ref->reason = PR_UNCHECKED_CORRELATION;
			ref->values = NIL;
		}
	}

	/*
	 * A written value taken from a relation that is not a tenant table is
	 * also checked on every row written (enforce_written_check.c); where
	 * it cannot be (no gtm_pin() in 1.0.0), refused like a scan that does
	 * not evaluate its pin on the rows (pin_columns_trusted): fail closed
	 * (rounds BP, BR, BS).
	 */
	if (unlikely(st->write_pin_sources) && !st->collect &&
		!check_written_tenants(stmt, w.modifytables, w.n_modifytables))
		w.untrusted_source = PR_UNTRUSTED_SOURCE;
	if (unlikely(w.untrusted_source != PR_PINNED))
	{
		foreach(lc, st->refs)
		{
			TenantRef  *ref = lfirst(lc);

			if ((ref->kind != REF_SCAN || ref->outer_root != NULL) &&
				(ref->reason == PR_PINNED || ref->reason == PR_DEFERRED))
			{
				ref->reason = w.untrusted_source;
				ref->values = NIL;
			}
		}
	}

	judge_scans(st, stmt, &w);
	judge_modify_tables(st, stmt, w.modifytables, w.n_modifytables);
	judged = judged_refs(st);
	judge_one_tenant(judged, &classes, &has_nonconst, st);

	if (st->collect)
	{
		if (classes.n > 1 && has_nonconst)
		{
			/* tell the checker which values will be compared */
			PinClass   *last = &classes.items[classes.n - 1];
			TenantRef  *ref = new_ref(last->first->kind,
									  rel_facts(last->first->relid),
									  last->first->alias);

			ref->reason = PR_AT_START;
			for (int c = 0; c < classes.n; c++)
				ref->values = lappend(ref->values, classes.items[c].value);
			judged = lappend(judged, ref);
		}
	}
	else
	{
		if (classes.n > 0)
			attach_statement_pins(stmt, &classes);
		/* the written rows trusted: asked again at the start (round BG) */
		if (unlikely(st->trusted_writes != NULL))
			write_plan_payload(stmt, GTM_TRUSTED_CACHEID, st->trusted_writes->data,
							   st->trusted_writes->len + 1);
		if (st->any_key_lookup)
			attach_key_pins(stmt, judged);	/* unique-key pins: enforce_key.c */
	}
	return judged;
}
