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
 *	  What an action writes fires the actions of the table it writes in
 *	  turn (ON DELETE CASCADE deletes, the others assign its foreign-key
 *	  columns): they are followed, also through tables of no tenant, and a
 *	  write of a column a generated tenant column is computed from counts as
 *	  a write of the tenant.  The referencing tables and their partitions
 *	  become dependencies of the plan (plan_depends_on), as their NOT NULL,
 *	  generated columns, exemptions and triggers decide the verdict.
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
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "miscadmin.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "enforce.h"

/* What a statement does to the rows of its result relation */
typedef struct WriteEffect
{
	Oid			target;			/* the result relation */
	Bitmapset  *assigned;		/* its columns given a new value */
	Bitmapset  *carried;		/* of those, the ones that hold the value the
								 * statement assigns to its own, checked,
								 * tenant column (ON UPDATE CASCADE from it) */
	bool		deletes;		/* rows deleted (DELETE, MERGE ... DELETE) */
	bool		updates;		/* rows updated, even if no column changes
								 * value (SET col = col): a BEFORE trigger
								 * may still change them */
} WriteEffect;

/*
 * How deep foreign-key actions are followed (an action's write fires the
 * actions of the table it writes): beyond, the statement is rejected.
 */
#define MAX_CASCADE_DEPTH 8

/* What BEFORE row triggers of a written table may change of its keys */
typedef enum TriggerKeys
{
	TRIGGER_KEYS_NONE,
	TRIGGER_KEYS_ALL,			/* a table without tenant column, or exempt */
	TRIGGER_KEYS_BUT_TENANT		/* a tenant table: all but its tenant column */
} TriggerKeys;

/* The effects already judged while following one statement's actions */
typedef struct CascadeWalk
{
	EnforceState *st;
	List	   *seen;			/* WriteEffect * */
} CascadeWalk;

static void judge_actions(CascadeWalk *cw, WriteEffect *we, List *rels,
						  int depth);

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
	we->carried = NULL;
	we->deletes = false;
	we->updates = false;
	switch (parse->commandType)
	{
		case CMD_UPDATE:
			we->updates = true;
			add_assigned(&we->assigned, root->processed_tlist,
						 root->update_colnos, target);
			break;
		case CMD_DELETE:
			we->deletes = true;
			break;
		case CMD_INSERT:
			if (parse->onConflict &&
				parse->onConflict->action == ONCONFLICT_UPDATE)
			{
				we->updates = true;
				add_assigned(&we->assigned, parse->onConflict->onConflictSet,
							 NIL, target);
			}
			break;
		case CMD_MERGE:
			foreach(lc, parse->mergeActionList)
			{
				MergeAction *action = lfirst_node(MergeAction, lc);

				if (action->commandType == CMD_UPDATE)
				{
					we->updates = true;
					add_assigned(&we->assigned, action->targetList,
								 action->updateColnos, target);
				}
				else if (action->commandType == CMD_DELETE)
					we->deletes = true;
			}
			break;
		default:
			break;
	}

	/*
	 * The statement's own tenant column keeps its rows' tenant (the value
	 * assigned is compared with their pin): an ON UPDATE CASCADE from it
	 * carries that tenant on.
	 */
	{
		RelFacts   *tf = rel_facts(we->target);

		if (tf->tenant && !tf->exempt && bms_is_member(tf->attnum, we->assigned))
			we->carried = bms_make_singleton(tf->attnum);
	}
}

/* Reject the statement: the action of constraint conname writes f's tenant */
static void
record_cascade(EnforceState *st, RelFacts *f, const char *conname)
{
	TenantRef  *ref = new_ref(REF_SET, f, get_rel_name(f->relid));

	ref->reason = PR_CASCADE;
	ref->index_name = pstrdup(conname);
	st->refs = lappend(st->refs, ref);
}

/*
 * Does the foreign key of trigger tg compare the tenant column of a
 * referencing tenant table (or partition) by an equality that is not an
 * identity?  PostgreSQL's queries for its check and its actions compare
 * the referencing columns with their own type's equality under their own
 * collation (ri_GenerateQual adds the referenced column's collation only
 * when that one is nondeterministic), so the rows of every tenant equal
 * under it are locked, tested, deleted or given the new key: a
 * nondeterministic collation (round DJ), citext (round DN).  Records the
 * reference (PR_CASCADE_IDENTITY).
 */
static bool
fk_tenant_not_identity(EnforceState *st, Trigger *tg)
{
	HeapTuple	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(tg->tgconstraint));
	Form_pg_constraint con;
	List	   *child_rels;
	ListCell   *lc;
	bool		found = false;

	if (!HeapTupleIsValid(tup))
		return false;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	child_rels = find_all_inheritors(con->conrelid, AccessShareLock, NULL);
	plan_depends_on(st, child_rels);
	foreach(lc, child_rels)
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));
		Oid			typid;
		int32		typmod;
		Oid			collid = InvalidOid;

		TypeCacheEntry *tce;

		if (!f->tenant || f->exempt)
			continue;
		get_atttypetypmodcoll(f->relid, f->attnum, &typid, &typmod, &collid);
		tce = lookup_type_cache(getBaseType(typid), TYPECACHE_BTREE_OPFAMILY);
		if (!OidIsValid(tce->btree_opf) ||
			!opfamily_is_identity(tce->btree_opf, tce->type_id, collid))
		{
			TenantRef  *ref = new_ref(REF_SET, f, get_rel_name(f->relid));

			ref->reason = PR_CASCADE_IDENTITY;
			ref->index_name = pstrdup(NameStr(con->conname));
			st->refs = lappend(st->refs, ref);
			found = true;
			break;
		}
	}
	ReleaseSysCache(tup);
	return found;
}

/*
 * Judge one foreign-key action trigger of relid (we->target or one of its
 * descendants), given what the write does to relid's rows (we); kind is
 * the trigger's function.  The action writes the referencing table
 * (con->conrelid): deletes its rows (ON DELETE CASCADE), or assigns its
 * foreign-key columns.  Records a PR_CASCADE reference when that can
 * change the tenant of a row of a tenant table: its tenant column
 * assigned (unless the value carried is the statement's own checked
 * tenant), or a column its generated tenant column is computed from.
 * Then what the action writes fires the actions of the referencing table
 * in turn (judge_actions), to MAX_CASCADE_DEPTH.
 */
static void
judge_fk_action(CascadeWalk *cw, WriteEffect *we, List *rels, Oid relid,
				Trigger *tg, Oid kind, Bitmapset *touched, TriggerKeys trigger_keys,
				int depth)
{
	EnforceState *st = cw->st;
	HeapTuple	tup;
	Form_pg_constraint con;
	int			numfks,
				ndelset;
	AttrNumber	conkey[INDEX_MAX_KEYS],
				confkey[INDEX_MAX_KEYS],
				delset[INDEX_MAX_KEYS];
	Oid			pf[INDEX_MAX_KEYS],
				pp[INDEX_MAX_KEYS],
				ff[INDEX_MAX_KEYS];
	bool		on_update = (kind == F_RI_FKEY_CASCADE_UPD ||
							 kind == F_RI_FKEY_SETNULL_UPD ||
							 kind == F_RI_FKEY_SETDEFAULT_UPD);
	bool		sets_null = (kind == F_RI_FKEY_SETNULL_UPD ||
							 kind == F_RI_FKEY_SETNULL_DEL);
	bool		key_changed = false;
	bool		may_move = (we->assigned != NULL ||
							(we->updates && (trigger_keys != TRIGGER_KEYS_NONE ||
											 touched != NULL))) &&
		list_length(rels) > 1;
	AttrNumber	own_tenant = InvalidAttrNumber;
	Bitmapset  *assigned_here;
	WriteEffect child;
	List	   *child_rels;
	ListCell   *lc;
	char	   *conname;

	tup = SearchSysCache1(CONSTROID, ObjectIdGetDatum(tg->tgconstraint));
	if (!HeapTupleIsValid(tup))
		return;
	con = (Form_pg_constraint) GETSTRUCT(tup);
	DeconstructFkConstraintRow(tup, &numfks, conkey, confkey, pf, pp, ff,
							   &ndelset, delset);
	child.target = con->conrelid;
	child.assigned = NULL;
	child.carried = NULL;
	child.deletes = false;
	child.updates = false;
	conname = pstrdup(NameStr(con->conname));
	ReleaseSysCache(tup);

	/*
	 * The referenced columns that change: those assigned, in relid's own
	 * column numbers with the generated columns computed from them (a
	 * partition may generate a key its parent does not), and, when a row
	 * may move to another partition, a key column any partition generates
	 * (recomputed there).
	 */
	assigned_here = map_columns(we->assigned, we->target, relid);
	if (touched != NULL && (we->assigned != NULL || we->updates))
		assigned_here = bms_add_members(assigned_here,
										map_columns(touched, we->target, relid));
	add_generated_dependents(relid, &assigned_here);
	if (trigger_keys == TRIGGER_KEYS_BUT_TENANT)
	{
		RelFacts   *rf = rel_facts(relid);

		own_tenant = rf->attnum;	/* a tenant table: its tenant column */
	}
	for (int i = 0; i < numfks; i++)
		if (bms_is_member(confkey[i], assigned_here) ||
			(may_move && generated_in_any(rels, relid, confkey[i])) ||
			(trigger_keys != TRIGGER_KEYS_NONE && confkey[i] != own_tenant &&
			 (we->assigned != NULL || we->updates)))
			assigned_here = bms_add_member(assigned_here, confkey[i]);
	for (int i = 0; i < numfks; i++)
		if (bms_is_member(confkey[i], assigned_here))
			key_changed = true;
	if (kind == F_RI_FKEY_CASCADE_DEL)
		child.deletes = true;
	else if (!on_update)
	{
		/* ON DELETE SET NULL / DEFAULT: the listed columns, or all */
		for (int i = 0; i < (ndelset > 0 ? ndelset : numfks); i++)
			child.assigned = bms_add_member(child.assigned,
											ndelset > 0 ? delset[i] : conkey[i]);
	}
	else if (key_changed)
	{
		/*
		 * ON UPDATE CASCADE copies the new key (a column carrying the
		 * statement's tenant carries it on); SET NULL / DEFAULT overwrite
		 * every referencing column.
		 */
		for (int i = 0; i < numfks; i++)
		{
			AttrNumber	col = parent_attno(relid, confkey[i], we->target);

			if (kind != F_RI_FKEY_CASCADE_UPD || bms_is_member(confkey[i], assigned_here))
				child.assigned = bms_add_member(child.assigned, conkey[i]);
			if (kind == F_RI_FKEY_CASCADE_UPD &&
				((bms_is_member(col, we->carried) && trigger_keys != TRIGGER_KEYS_ALL) ||
				 (confkey[i] == own_tenant && !bms_is_member(confkey[i], assigned_here))))
				child.carried = bms_add_member(child.carried, conkey[i]);
		}
	}
	child.updates = child.assigned != NULL;
	if (child.assigned == NULL && !child.deletes)
		return;
	/* the action's query, under the referencing column's collation */
	if (fk_tenant_not_identity(st, tg))
		return;

	/* the referencing table and its partitions: their facts decide */
	child_rels = find_all_inheritors(child.target, AccessShareLock, NULL);
	plan_depends_on(st, child_rels);
	foreach(lc, child_rels)
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));
		AttrNumber	tcol;

		if (!f->tenant || f->exempt || child.assigned == NULL)
			continue;
		tcol = parent_attno(f->relid, f->attnum, child.target);

		/*
		 * A partition that generates its tenant: a write of the partition
		 * key can move a row into it, where the tenant is computed again
		 * (as tenant_column_generated judges a write through the parent)
		 */
		if (f->generated_tenant && list_length(child_rels) > 1)
		{
			record_cascade(st, f, conname);
			return;
		}
		if (f->generated_tenant ?
			generated_from(f, map_columns(child.assigned, child.target, f->relid)) :
			(bms_is_member(tcol, child.assigned) &&
			 !bms_is_member(tcol, child.carried)))
		{
			/*
			 * SET NULL into a NOT NULL column fails: nothing is written
			 * there (a partition that generates its tenant is judged on
			 * its own)
			 */
			if (sets_null && !f->generated_tenant &&
				column_not_null(f->relid, f->attnum))
				continue;
			record_cascade(st, f, conname);
			return;
		}
	}
	if (depth >= MAX_CASCADE_DEPTH)
	{
		/* too deep to follow: fail closed */
		record_cascade(st, rel_facts(child.target), conname);
		return;
	}
	/* a generated key computed from the columns written changes too */
	add_generated_dependents(child.target, &child.assigned);
	judge_actions(cw, &child, child_rels, depth + 1);
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
			case F_RI_FKEY_CASCADE_DEL:
			case F_RI_FKEY_SETNULL_DEL:
			case F_RI_FKEY_SETDEFAULT_DEL:
				return true;
			default:
				break;
		}
	return false;
}

/*
 * Judge the foreign-key actions that a write (we) to the rows of rels (we->
 * target and its descendants) fires.  A row that an UPDATE moves to
 * another partition is deleted from a partition whose own (not cloned)
 * constraints then act as for a DELETE.
 */
static void
judge_actions(CascadeWalk *cw, WriteEffect *we, List *rels, int depth)
{
	ListCell   *lc;
	WriteEffect *copy;
	bool		keys_by_trigger = false;
	bool		tenant_trigger = false;
	Bitmapset  *touched = NULL;	/* columns the toolkit's trigger sets */

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();

	/*
	 * The same write to the same table fires the same actions: judged once
	 * (a self-referencing or cyclic foreign key comes back to it).
	 */
	foreach(lc, cw->seen)
	{
		WriteEffect *s = lfirst(lc);

		if (s->target == we->target && s->deletes == we->deletes &&
			s->updates == we->updates &&
			bms_equal(s->assigned, we->assigned) && bms_equal(s->carried, we->carried))
			return;
	}
	copy = palloc(sizeof(WriteEffect));
	*copy = *we;
	copy->assigned = bms_copy(we->assigned);
	copy->carried = bms_copy(we->carried);
	cw->seen = lappend(cw->seen, copy);

	/*
	 * A BEFORE row trigger of a written table without a tenant column (a
	 * table in the middle of a chain; a partition a row may move into), or
	 * of an exempt one, can change any of its key columns, which the
	 * actions then copy on: every key column counts as changed, also when
	 * the statement assigns a column its own value, none as carrying the
	 * statement's tenant.  A tenant table's trigger: every key column but
	 * its tenant column (that one changing is the documented limit).
	 * Disabled triggers do not count, nor the toolkit's touch trigger.
	 */
	foreach(lc, rels)
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));
		bool		tenant = f->tenant && !f->exempt;
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		TriggerDesc *td = rel->trigdesc;

		for (int i = 0; td != NULL && i < td->numtriggers; i++)
		{
			Trigger    *t = &td->triggers[i];

			if (t->tgenabled == TRIGGER_DISABLED || !TRIGGER_FOR_ROW(t->tgtype) ||
				!TRIGGER_FOR_BEFORE(t->tgtype) ||
				!(TRIGGER_FOR_UPDATE(t->tgtype) ||
				  (list_length(rels) > 1 && TRIGGER_FOR_INSERT(t->tgtype))))
				continue;
			if (is_our_c_function(t->tgfoid, "gtm_touch_updated_at"))
			{
				/*
				 * The toolkit's sets one column (updated_at): only that one,
				 * when the written table has it too (an inheritance child's
				 * own column counts as any trigger's change)
				 */
				const char *col = t->tgnargs > 0 ? t->tgargs[0] : "updated_at";
				AttrNumber	a = get_attnum(we->target, col);

				if (a > 0 && get_attnum(lfirst_oid(lc), col) > 0)
				{
					touched = bms_add_member(touched, a);
					continue;
				}
			}
			if (tenant)
				tenant_trigger = true;
			else
				keys_by_trigger = true;
		}
		table_close(rel, AccessShareLock);
	}

	foreach(lc, rels)
	{
		Oid			relid = lfirst_oid(lc);
		Relation	rel = table_open(relid, AccessShareLock);
		TriggerDesc *td = rel->trigdesc;

		for (int i = 0; td != NULL && i < td->numtriggers; i++)
		{
			Trigger    *tg = &td->triggers[i];

			switch (tg->tgfoid)
			{
				case F_RI_FKEY_CASCADE_UPD:
				case F_RI_FKEY_SETNULL_UPD:
				case F_RI_FKEY_SETDEFAULT_UPD:
					if (we->assigned != NULL ||
						(we->updates && (keys_by_trigger || tenant_trigger ||
										 touched != NULL)))
						judge_fk_action(cw, we, rels, relid, tg, tg->tgfoid, touched,
										keys_by_trigger ? TRIGGER_KEYS_ALL :
										tenant_trigger ? TRIGGER_KEYS_BUT_TENANT :
										TRIGGER_KEYS_NONE, depth);
					break;
				case F_RI_FKEY_CASCADE_DEL:
				case F_RI_FKEY_SETNULL_DEL:
				case F_RI_FKEY_SETDEFAULT_DEL:

					/*
					 * A row that moves out of a partition is deleted there:
					 * the actions of the keys that reference the partition
					 * itself fire.  It moves when the statement assigns a
					 * column, or a BEFORE trigger changes one when it
					 * assigns a column its own value (round DH).
					 */
					if (we->deletes ||
						((we->assigned != NULL ||
						  (we->updates && (keys_by_trigger || tenant_trigger ||
										   touched != NULL))) &&
						 relid != we->target && !tg->tgisclone))
						judge_fk_action(cw, we, rels, relid, tg, tg->tgfoid, touched,
										keys_by_trigger ? TRIGGER_KEYS_ALL :
										tenant_trigger ? TRIGGER_KEYS_BUT_TENANT :
										TRIGGER_KEYS_NONE, depth);
					break;
				default:
					break;
			}
		}
		table_close(rel, AccessShareLock);
	}
}

/*
 * Record the foreign-key actions the write of root (UPDATE, DELETE, ON
 * CONFLICT DO UPDATE, MERGE) fires that would write a tenant column, also
 * through the actions those fire in turn.  The result relation can be any
 * table, tenant-scoped or not; with inheritance the actions of its
 * descendants fire too.
 */
void
record_cascades(EnforceState *st, PlannerInfo *root)
{
	RangeTblEntry *rte = rt_fetch(root->parse->resultRelation,
								  root->parse->rtable);
	WriteEffect we;
	CascadeWalk cw;
	List	   *rels;
	bool		one_table;

	one_table = !rte->inh &&
		rel_facts(rte->relid)->relkind != RELKIND_PARTITIONED_TABLE;
	if (one_table)
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
			return;				/* the usual: before the columns are read */
	}
	write_effect(root, &we);
	if (we.assigned == NULL && !we.deletes && !we.updates)
		return;
	if (one_table)
		rels = list_make1_oid(rte->relid);
	else
	{
		rels = find_all_inheritors(rte->relid, AccessShareLock, NULL);
		plan_depends_on(st, rels);
	}
	/* a generated key computed from the columns written changes too */
	add_generated_dependents(we.target, &we.assigned);
	cw.st = st;
	cw.seen = NIL;
	judge_actions(&cw, &we, rels, 0);
}

/*
 * Does a write compute the tenant column of f, a stored generated column?
 * An INSERT (inserting) always does; an update when it assigns (tlist with
 * colnos, or by resno if colnos is NIL; see add_assigned) a column the
 * generation expression depends on.
 */
bool
tenant_column_generated(EnforceState *st, RelFacts *f, bool inserting,
						List *tlist, List *colnos, Index target)
{
	Bitmapset  *assigned = NULL;

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
		/*
		 * a write routes rows to partitions pending detach only where the
		 * transaction's snapshot is older than the detach (PostgreSQL's
		 * CreatePartitionDirectory): not in READ COMMITTED, where they are
		 * not waited for (round EP: DETACH ... FINALIZE blocked inserts)
		 */
		rels = IsolationUsesXactSnapshot() ?
			inheritors_in_catalog(relid, AccessShareLock) :
			find_all_inheritors(relid, AccessShareLock, NULL);
		plan_depends_on(st, rels);
		foreach(lc, rels)
			if (lfirst_oid(lc) != relid && rel_facts(lfirst_oid(lc))->generated_tenant)
				return true;
		return false;
	}
	if (inserting)
		return true;
	add_assigned(&assigned, tlist, colnos, target);
	return generated_from(f, assigned);
}
