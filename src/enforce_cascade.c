/*-------------------------------------------------------------------------
 *
 * enforce_cascade.c
 *	  Tenant values PostgreSQL itself writes on behalf of a statement.
 *
 * Besides "SET tenant_id = ..." (enforce_record.c), a write changes the
 * tenant column of rows in two ways the statement does not spell out:
 *
 *	- foreign-key actions.  Updating or deleting rows of a referenced table
 *	  (tenant-scoped or not) makes the foreign-key triggers write into the
 *	  referencing table: ON UPDATE CASCADE copies the new key, ON UPDATE
 *	  SET NULL / SET DEFAULT and ON DELETE SET NULL / SET DEFAULT overwrite
 *	  the referencing columns.  Their internal queries are exempt (as from
 *	  row-level security), so the statement that fires them is judged here:
 *	  when the tenant column of a tenant table is among the columns an
 *	  action writes, the statement is rejected (PR_CASCADE), except
 *		- ON UPDATE CASCADE from the updated table's own tenant column: the
 *		  new value is the one the statement assigns, already compared with
 *		  the rows' pin (one tenant, no row moves);
 *		- SET NULL into a NOT NULL column: the action fails, nothing moves.
 *	- generated columns.  A stored generated tenant column is computed from
 *	  other columns: inserting into it, or updating a column it depends on,
 *	  writes a tenant the check cannot pin (PR_GENERATED).
 *
 * The actions are found through the referenced table's triggers (the
 * relcache has them), so a table nothing references costs one look at its
 * trigger list.
 *
 * IDENTIFICATION
 *	  src/enforce_cascade.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "commands/trigger.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "enforce.h"

/* What a statement does to the rows of its result relation */
typedef struct WriteEffect
{
	Oid			target;			/* the result relation */
	Bitmapset  *assigned;		/* its columns given a new value */
	bool		deletes;		/* rows deleted (DELETE, MERGE ... DELETE) */
} WriteEffect;

/* Add the columns tlist assigns (colnos, or resnos if NIL) to *set. */
static void
add_assigned(Bitmapset **set, List *tlist, List *colnos, Index target)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);
		int			i = foreach_current_index(lc);
		AttrNumber	col;
		Node	   *e = strip_relabel((Node *) tle->expr);

		if (colnos != NIL)
		{
			if (i >= list_length(colnos))
				break;
			col = list_nth_int(colnos, i);
		}
		else if (tle->resjunk)
			continue;
		else
			col = tle->resno;
		if (e && IsA(e, Var) && ((Var *) e)->varno == target &&
			((Var *) e)->varlevelsup == 0 && ((Var *) e)->varattno == col)
			continue;			/* assigned to itself: unchanged */
		*set = bms_add_member(*set, col);
	}
}

/* The columns and rows the statement of root changes in its target. */
static void
write_effect(PlannerInfo *root, WriteEffect *we)
{
	Query	   *parse = root->parse;
	Index		target = parse->resultRelation;
	ListCell   *lc;

	we->target = rt_fetch(target, parse->rtable)->relid;
	we->assigned = NULL;
	we->deletes = false;
	switch (parse->commandType)
	{
		case CMD_UPDATE:
			add_assigned(&we->assigned, root->processed_tlist,
						 root->update_colnos, target);
			break;
		case CMD_DELETE:
			we->deletes = true;
			break;
		case CMD_INSERT:
			if (parse->onConflict &&
				parse->onConflict->action == ONCONFLICT_UPDATE)
				add_assigned(&we->assigned, parse->onConflict->onConflictSet,
							 NIL, target);
			break;
		case CMD_MERGE:
			foreach(lc, parse->mergeActionList)
			{
				MergeAction *action = lfirst_node(MergeAction, lc);

				if (action->commandType == CMD_UPDATE)
					add_assigned(&we->assigned, action->targetList,
								 action->updateColnos, target);
				else if (action->commandType == CMD_DELETE)
					we->deletes = true;
			}
			break;
		default:
			break;
	}
}

/* Column attno of relid, as a column number of the relation parent. */
static AttrNumber
parent_attno(Oid relid, AttrNumber attno, Oid parent)
{
	char	   *name;

	if (relid == parent)
		return attno;
	name = get_attname(relid, attno, true);
	return name ? get_attnum(parent, name) : InvalidAttrNumber;
}

/*
 * Judge one foreign-key action trigger of relid (the target or one of its
 * descendants); fires_on_update: an ON UPDATE action, else ON DELETE.
 * Records a PR_CASCADE reference when the action can write the tenant
 * column of the referencing tenant table.
 */
static void
judge_fk_action(EnforceState *st, WriteEffect *we, Oid relid, Trigger *tg,
				bool fires_on_update, bool sets_null, bool cascades)
{
	HeapTuple	tup;
	Form_pg_constraint con;
	int			numfks,
				ndelset,
				k = -1;
	AttrNumber	conkey[INDEX_MAX_KEYS],
				confkey[INDEX_MAX_KEYS],
				delset[INDEX_MAX_KEYS];
	Oid			pf[INDEX_MAX_KEYS],
				pp[INDEX_MAX_KEYS],
				ff[INDEX_MAX_KEYS];
	RelFacts   *f;
	RelFacts   *tf;
	bool		writes_tenant = false;
	TenantRef  *ref;

	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(tg->tgconstraint));
	if (!HeapTupleIsValid(tup))
		return;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	f = rel_facts(con->conrelid);
	if (!f->tenant || f->exempt)
	{
		ReleaseSysCache(tup);
		return;
	}
	DeconstructFkConstraintRow(tup, &numfks, conkey, confkey, pf, pp, ff,
							   &ndelset, delset);
	for (int i = 0; i < numfks; i++)
		if (conkey[i] == f->attnum)
			k = i;

	if (k >= 0 && !fires_on_update)
	{
		/* ON DELETE SET NULL / DEFAULT: the listed columns, or all */
		writes_tenant = (ndelset == 0);
		for (int i = 0; i < ndelset; i++)
			if (delset[i] == f->attnum)
				writes_tenant = true;
	}
	else if (k >= 0 && cascades)
	{
		/* ON UPDATE CASCADE: the tenant takes the new referenced value */
		AttrNumber	col = parent_attno(relid, confkey[k], we->target);

		tf = rel_facts(we->target);
		writes_tenant = bms_is_member(col, we->assigned) &&
			!(tf->tenant && !tf->exempt && col == tf->attnum);
	}
	else if (k >= 0)
	{
		/* ON UPDATE SET NULL / DEFAULT: any key column changed */
		for (int i = 0; i < numfks; i++)
			if (bms_is_member(parent_attno(relid, confkey[i], we->target),
							  we->assigned))
				writes_tenant = true;
	}
	if (writes_tenant && sets_null && column_not_null(f->relid, f->attnum))
		writes_tenant = false;	/* the action fails: nothing is written */

	if (writes_tenant)
	{
		ref = new_ref(REF_SET, f, get_rel_name(f->relid));
		ref->reason = PR_CASCADE;
		ref->index_name = pstrdup(NameStr(con->conname));
		st->refs = lappend(st->refs, ref);
	}
	ReleaseSysCache(tup);
}

/* Does td hold a foreign-key action that writes referencing rows? */
static bool
has_fk_action(TriggerDesc *td)
{
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
		switch (td->triggers[i].tgfoid)
		{
			case F_RI_FKEY_CASCADE_UPD:
			case F_RI_FKEY_SETNULL_UPD:
			case F_RI_FKEY_SETDEFAULT_UPD:
			case F_RI_FKEY_SETNULL_DEL:
			case F_RI_FKEY_SETDEFAULT_DEL:
				return true;
			default:
				break;
		}
	return false;
}

/*
 * Record the foreign-key actions the write of root (UPDATE, DELETE, ON
 * CONFLICT DO UPDATE, MERGE) fires that would write a tenant column.  The
 * result relation can be any table, tenant-scoped or not; with
 * inheritance the actions of its descendants fire too.  A row that an
 * UPDATE moves to another partition is deleted from a partition whose own
 * (not cloned) constraints then act as for a DELETE.
 */
void
record_cascades(EnforceState *st, PlannerInfo *root)
{
	RangeTblEntry *rte = rt_fetch(root->parse->resultRelation,
								  root->parse->rtable);
	WriteEffect we;
	List	   *rels;
	ListCell   *lc;

	write_effect(root, &we);
	if (we.assigned == NULL && !we.deletes)
		return;
	if (rte->inh || rel_facts(rte->relid)->relkind == RELKIND_PARTITIONED_TABLE)
	{
		rels = find_all_inheritors(rte->relid, AccessShareLock, NULL);
		plan_depends_on(rels);
	}
	else
	{
		/* one table: its facts say whether it has any action at all */
		RelFacts   *f = rel_facts(rte->relid);

		if (!f->fk_actions_known)
		{
			Relation	rel = table_open(rte->relid, AccessShareLock);
			bool		any = has_fk_action(rel->trigdesc);

			table_close(rel, AccessShareLock);

			/*
			 * table_open may have processed an invalidation that marked f:
			 * then it is computed again, with this flag cleared, when next
			 * looked up; the answer is right for the table as opened.
			 */
			f->fk_actions = any;
			f->fk_actions_known = true;
		}
		if (!f->fk_actions)
			return;
		rels = list_make1_oid(rte->relid);
	}

	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	rel = table_open(relid, AccessShareLock);
		TriggerDesc *td = rel->trigdesc;

		for (int i = 0; td != NULL && i < td->numtriggers; i++)
		{
			Trigger    *tg = &td->triggers[i];
			bool		upd = false,
						del = false,
						setnull = false,
						cascade = false;

			switch (tg->tgfoid)
			{
				case F_RI_FKEY_CASCADE_UPD:
					upd = cascade = true;
					break;
				case F_RI_FKEY_SETNULL_UPD:
					upd = setnull = true;
					break;
				case F_RI_FKEY_SETDEFAULT_UPD:
					upd = true;
					break;
				case F_RI_FKEY_SETNULL_DEL:
					del = setnull = true;
					break;
				case F_RI_FKEY_SETDEFAULT_DEL:
					del = true;
					break;
				default:
					continue;
			}
			if (upd && we.assigned != NULL)
				judge_fk_action(st, &we, relid, tg, true, setnull, cascade);
			else if (del && (we.deletes ||
							 (we.assigned != NULL && relid != rte->relid &&
							  !tg->tgisclone)))
				judge_fk_action(st, &we, relid, tg, false, setnull, false);
		}
		table_close(rel, AccessShareLock);
	}
}

/*
 * Does a write compute the tenant column of f, a stored generated column?
 * An INSERT (inserting) always does; an update when it assigns (tlist with
 * colnos, or by resno if colnos is NIL; see add_assigned) a column the
 * generation expression depends on.
 */
bool
tenant_column_generated(RelFacts *f, bool inserting, List *tlist,
						List *colnos, Index target)
{
	Relation	rel;
	Node	   *expr;
	Bitmapset  *deps = NULL;
	Bitmapset  *assigned = NULL;
	int			col = -1;

	if (!f->generated_tenant)
	{
		Oid			relid = f->relid;
		ListCell   *lc;

		/*
		 * A partition or inheritance child may compute its tenant column
		 * (a generated column of its own, allowed under a parent whose
		 * column is plain): a write through the parent can then store a
		 * tenant no value of the statement gave.  Any write may reach it.
		 * (f may be computed again during the lookups: relid is read
		 * first.)
		 */
		List	   *rels;

		if (!f->has_children)
			return false;
		rels = find_all_inheritors(relid, AccessShareLock, NULL);
		plan_depends_on(rels);
		foreach(lc, rels)
			if (lfirst_oid(lc) != relid && rel_facts(lfirst_oid(lc))->generated_tenant)
				return true;
		return false;
	}
	if (inserting)
		return true;
	rel = table_open(f->relid, AccessShareLock);
	expr = build_column_default(rel, f->attnum);
	table_close(rel, AccessShareLock);
	if (expr == NULL)
		return true;
	pull_varattnos(expr, 1, &deps);
	add_assigned(&assigned, tlist, colnos, target);
	while ((col = bms_next_member(assigned, col)) >= 0)
		if (bms_is_member(col - FirstLowInvalidHeapAttributeNumber, deps))
			return true;
	return false;
}
