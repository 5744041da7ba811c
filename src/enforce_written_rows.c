/*-------------------------------------------------------------------------
 *
 * enforce_written_rows.c
 *	  May the rows a write stores differ from the values the statement gives?
 *
 * A written tenant value is judged on what the statement gives (the values
 * of enforce_values.c).  The row stored can differ: a BEFORE or INSTEAD OF
 * row trigger can change it, a foreign table stores what its server does,
 * and a generated column is computed anew.  The verdict asks here, and
 * what it trusted ("no trigger could change it") travels in the plan to be
 * asked again when the statement starts (recheck_trusted_writes,
 * enforce_runtime.c; rounds BG and BH).
 *
 * IDENTIFICATION
 *	  src/enforce_written_rows.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "parser/parse_relation.h"
#include "storage/lockdefs.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"

/*
 * Does the BEFORE or INSTEAD OF row trigger t of rel (firing on an event
 * the command runs) change the row?  The extension's own
 * gtm_touch_updated_at() sets one timestamptz column (its argument, else
 * updated_at) and nothing else: it changes the row's column attno only
 * when that is its column (gtm_make_tenant_table adds it to every table).
 */
static bool
trigger_changes_column(Relation rel, Trigger *t, AttrNumber attno)
{
	const char *col;

	if (!is_our_c_function(t->tgfoid, "gtm_touch_updated_at"))
		return true;
	col = t->tgnargs > 0 ? t->tgargs[0] : "updated_at";
	return attno == InvalidAttrNumber ||
		attnameAttNum(rel, col, false) == attno;
}

/*
 * May column attno (InvalidAttrNumber: any) of a row a command writes into
 * relid (or into its descendants, with inh) differ from the value the
 * statement gives?  A BEFORE or INSTEAD OF row trigger can change it, and
 * a foreign table returns what the remote server stored.  DELETE returns
 * the rows as they were.  The triggers of both writes count where a
 * command runs both: an UPDATE of a partitioned table that moves a row
 * inserts it into another partition (whose BEFORE INSERT triggers then
 * run), INSERT ... ON CONFLICT DO UPDATE updates the conflicting row, and
 * MERGE may do either.
 */
bool
row_may_differ_from_written(EnforceState *st, Oid relid, bool inh,
							CmdType cmd, bool upsert,
							AttrNumber attno)
{
	List	   *rels;
	ListCell   *lc;
	bool		result = false;
	bool		inserts,
				updates;

	if (cmd != CMD_INSERT && cmd != CMD_UPDATE && cmd != CMD_DELETE &&
		cmd != CMD_MERGE)
		return true;
	/* an INSERT into a partitioned table writes into its partitions */
	if (inh || rel_facts(relid)->relkind == RELKIND_PARTITIONED_TABLE)
	{
		rels = find_all_inheritors(relid, AccessShareLock, NULL);
		plan_depends_on(st, rels);
	}
	else
		rels = list_make1_oid(relid);
	inserts = cmd == CMD_INSERT || cmd == CMD_MERGE ||
		(cmd == CMD_UPDATE && list_length(rels) > 1);	/* a row moved */
	updates = cmd == CMD_UPDATE || cmd == CMD_MERGE ||
		(cmd == CMD_INSERT && upsert);
	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		TriggerDesc *td = rel->trigdesc;
		AttrNumber	here = attno;

		/*
		 * attno in this partition's or child's own column numbers (not
		 * found: InvalidAttrNumber, any column, the cautious answer)
		 */
		if (attno != InvalidAttrNumber && lfirst_oid(lc) != relid)
		{
			char	   *name = get_attname(relid, attno, true);

			here = name ? attnameAttNum(rel, name, false) : InvalidAttrNumber;
		}
		if (rel->rd_rel->relkind == RELKIND_FOREIGN_TABLE)
			result = true;
		for (int i = 0; !result && td != NULL && i < td->numtriggers; i++)
		{
			Trigger    *t = &td->triggers[i];
			int16		type = t->tgtype;

			if (!TRIGGER_FOR_ROW(type) ||
				!(TRIGGER_FOR_BEFORE(type) || TRIGGER_FOR_INSTEAD(type)))
				continue;
			if ((inserts && TRIGGER_FOR_INSERT(type)) ||
				(updates && TRIGGER_FOR_UPDATE(type)) ||
				(cmd == CMD_DELETE && TRIGGER_FOR_DELETE(type) &&
				 TRIGGER_FOR_INSTEAD(type)))
				result = trigger_changes_column(rel, t, here);
		}
		table_close(rel, AccessShareLock);
		if (result)
			break;
	}
	if (!result && st != NULL)
	{
		/* trusted now: asked again when the statement starts */
		if (st->trusted_writes == NULL)
			st->trusted_writes = makeStringInfo();
		appendStringInfo(st->trusted_writes, "%u:%d:%d:%d:%d;", relid, (int) inh,
						 (int) cmd, (int) upsert, (int) attno);
	}
	return result;
}

/*
 * Is column attno of relid (or, with inh, of one of its descendants: before
 * PostgreSQL 16 a child's column may be generated where its parent's is
 * not) a generated column?  An UPDATE computes a stored one anew from the
 * columns it sets.
 */
bool
column_generated(EnforceState *st, Oid relid, bool inh, AttrNumber attno)
{
	List	   *rels;
	ListCell   *lc;
	char	   *name;

	if (get_attgenerated(relid, attno) != '\0')
		return true;
	if (!inh && rel_facts(relid)->relkind != RELKIND_PARTITIONED_TABLE)
		return false;
	name = get_attname(relid, attno, false);
	rels = find_all_inheritors(relid, AccessShareLock, NULL);
	plan_depends_on(st, rels);
	foreach(lc, rels)
	{
		AttrNumber	a = get_attnum(lfirst_oid(lc), name);

		if (a != InvalidAttrNumber && get_attgenerated(lfirst_oid(lc), a) != '\0')
			return true;
	}
	return false;
}

/*
 * When a statement starts, asked again of what its verdict trusted
 * (recheck_trusted_writes, enforce_runtime.c): may the rows written into
 * relid now differ from what the statement gives -- a trigger, a foreign
 * table, or a partition or child attached since that generates the column,
 * or the tenant column (round BH)?
 */
bool
written_rows_may_differ_now(Oid relid, bool inh, CmdType cmd, bool upsert,
							AttrNumber attno)
{
	AttrNumber	tenant = rel_facts(relid)->attnum;

	return row_may_differ_from_written(NULL, relid, inh, cmd, upsert, attno) ||
		(attno > 0 && column_generated(NULL, relid, inh, attno)) ||
		(tenant > 0 && column_generated(NULL, relid, inh, tenant));
}
