/*-------------------------------------------------------------------------
 *
 * exemptions_table.c
 *	  Tables the DBA exempts: gtm_exempt_table() and the set relfacts.c reads.
 *
 * A table recorded in the extension's table tenant_scope_exemptions is not
 * a tenant table for enforcement (exemption_recorded, asked by relfacts.c
 * for each relation whose facts it computes; a partition follows its
 * partitioned ancestors there).  gtm_exempt_table and gtm_unexempt_table
 * change the set and send a relcache invalidation for the table;
 * gtm_forget_dropped_exemptions, an event trigger, forgets dropped tables.
 *
 * IDENTIFICATION
 *	  src/exemptions_table.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_exempt_table);
PG_FUNCTION_INFO_V1(gtm_forget_dropped_exemptions);
PG_FUNCTION_INFO_V1(gtm_unexempt_table);

#define EXEMPTIONS_TABLE		"tenant_scope_exemptions"

/*
 * The relations recorded in the extension's exemptions table, read in one
 * scan and kept, sorted, in TopMemoryContext until any relcache
 * invalidation (gtm_exempt_table and gtm_unexempt_table send one for the
 * table they change; DROP EXTENSION drops the exemptions table; a cache
 * reset sends one for every relation) and at most until the end of the
 * transaction: a row written into the table directly (a superuser's INSERT
 * or DELETE, pg_restore's COPY) sends no invalidation, and the facts of a
 * relation computed in a later transaction see it, as when each relation
 * was looked up in the table by itself.  relfacts.c asks for each relation
 * whose facts it computes, which happens after such an invalidation too.
 * The scan itself may process invalidations: the set is kept only when
 * none arrived meanwhile.
 */
static Oid *exempt_relids = NULL;
static int	exempt_count = 0;
static bool exempt_known GTM_HOT_DATA = false;
static uint64 exempt_invals = 0;

/* The exemptions table the set was last read from (InvalidOid: none) */
static Oid	exempt_table_oid = InvalidOid;

static void
exemptions_relcache_inval(Datum arg, Oid relid)
{
	exempt_known = false;
	exempt_invals++;

	/*
	 * The exemptions table itself: dropped (DROP EXTENSION, whose next
	 * CREATE EXTENSION starts with no exemption), truncated or altered.
	 * Its rows can change with no invalidation of the tables they name, so
	 * the facts computed from them (relfacts.c) and the plans made with
	 * them are dropped, all of them: marking needs no catalog access.
	 */
	if (OidIsValid(relid) && relid == exempt_table_oid)
	{
		exempt_table_oid = InvalidOid;
		forget_rel_facts();
		ResetPlanCache();
	}
}

/* End of a transaction: the set is read again by the next one. */
static void
exemptions_xact_end(XactEvent event, void *arg)
{
	exempt_known = false;
}

/*
 * Does the table's file hold no block at all?  A heap with no block has no
 * row, committed or in progress: a row is written into a page the table was
 * extended by first.  This is asked of the file, through the storage
 * manager, so that a database that exempts nothing (most do) never builds
 * the exemptions table's relcache entry: that build was most of a new
 * backend's first statement on a tenant table.  The pg_class row comes from
 * the syscache; were it stale (a TRUNCATE of the table committed since this
 * backend last read invalidations), the file read is the replaced one,
 * emptied at that commit: the answer is then "no exemption", which checks
 * more, never less.  False whenever in doubt: the caller then reads the
 * table.
 */
static bool
table_has_no_block(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class c;
	bool		empty = false;

	if (!HeapTupleIsValid(tup))
		return false;
	c = (Form_pg_class) GETSTRUCT(tup);
	if (c->relkind == RELKIND_RELATION &&
		c->relpersistence == RELPERSISTENCE_PERMANENT &&
		OidIsValid(c->relfilenode))
	{
		SMgrRelation srel;

		srel = gtm_smgropen_permanent(OidIsValid(c->reltablespace) ?
									  c->reltablespace : MyDatabaseTableSpace,
									  MyDatabaseId, c->relfilenode);
		empty = smgrexists(srel, MAIN_FORKNUM) &&
			smgrnblocks(srel, MAIN_FORKNUM) == 0;
	}
	ReleaseSysCache(tup);
	return empty;
}

/* Read the exemptions table into exempt_relids (sorted). */
static void
load_exemptions(void)
{
	uint64		invals = exempt_invals;
	Oid			nsp = gtm_installed_namespace();
	Oid			tableoid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	int			n = 0;
	int			cap = 8;
	Oid		   *relids;

	relids = MemoryContextAlloc(TopMemoryContext, cap * sizeof(Oid));
	tableoid = OidIsValid(nsp) ? get_relname_relid(EXEMPTIONS_TABLE, nsp) : InvalidOid;
	if (OidIsValid(tableoid) && !table_has_no_block(tableoid))
	{
		rel = table_open(tableoid, AccessShareLock);

		/*
		 * The latest committed state, which the invalidations that clear the
		 * set announce.  In parallel mode GetLatestSnapshot() is refused, and
		 * the active snapshot may be older than an invalidation this backend
		 * has processed already (a REPEATABLE READ transaction): a set read
		 * with it, and kept, would keep a table exempt after
		 * gtm_unexempt_table() for every later statement.  A new catalog
		 * snapshot (GetCatalogSnapshot of a relation without a syscache is
		 * taken afresh) is allowed there and is just as new.
		 */
		snap = RegisterSnapshot(IsInParallelMode() ?
								GetCatalogSnapshot(tableoid) :
								GetLatestSnapshot());
		scan = systable_beginscan(rel, InvalidOid, false, snap, 0, NULL);
		while (HeapTupleIsValid(tup = systable_getnext(scan)))
		{
			bool		isnull;
			Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			if (n == cap)
			{
				cap *= 2;
				relids = repalloc(relids, cap * sizeof(Oid));
			}
			relids[n++] = DatumGetObjectId(d);
		}
		systable_endscan(scan);
		UnregisterSnapshot(snap);
		table_close(rel, AccessShareLock);
	}
	exempt_table_oid = tableoid;
	qsort(relids, n, sizeof(Oid), oid_cmp);
	if (exempt_relids != NULL)
		pfree(exempt_relids);
	exempt_relids = relids;
	exempt_count = n;
	exempt_known = (invals == exempt_invals);
}

/* Is relid recorded in the extension's exemptions table? */
bool
exemption_recorded(Oid relid)
{
	if (!exempt_known)
		load_exemptions();
	return exempt_count > 0 &&
		bsearch(&relid, exempt_relids, exempt_count, sizeof(Oid), oid_cmp) != NULL;
}

enum
{
	Q_EXEMPT,
	Q_UNEXEMPT,
	Q_FORGET_DROPPED
};

static const GtmQueryDef query_defs[] = {
	[Q_EXEMPT] = {"INSERT INTO %1$s." EXEMPTIONS_TABLE " (relid) VALUES ($1) ON CONFLICT DO NOTHING",
	1, {OIDOID}},
	[Q_UNEXEMPT] = {"DELETE FROM %1$s." EXEMPTIONS_TABLE " WHERE relid OPERATOR(pg_catalog.=) $1",
	1, {OIDOID}},
	[Q_FORGET_DROPPED] = {"DELETE FROM %1$s." EXEMPTIONS_TABLE " e"
		" USING pg_catalog.pg_event_trigger_dropped_objects() d"
		" WHERE d.classid OPERATOR(pg_catalog.=) 'pg_catalog.pg_class'::pg_catalog.regclass"
		" AND d.objsubid OPERATOR(pg_catalog.=) 0"
		" AND e.relid::pg_catalog.oid OPERATOR(pg_catalog.=) d.objid",
	0, {InvalidOid}},
};
static SPIPlanPtr plans[lengthof(query_defs)];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/*
 * gtm_exempt_table / gtm_unexempt_table: record or forget the exemption of
 * a table, then make every backend forget the facts and cached plans of it
 * and of its partitions (which follow their partitioned ancestors).
 */
static void
change_exemption(FunctionCallInfo fcinfo, bool exempt)
{
	Oid			relid;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		values[1];
	ListCell   *lc;
	LOCKMODE	lockmode;

	gtm_require_arg(fcinfo, 0, "table", NULL);
	relid = PG_GETARG_OID(0);

	/*
	 * Hold a lock on the table until the end of the transaction: a DROP of
	 * it in another session waits for this one to end, so its sql_drop event
	 * trigger (gtm_forget_dropped_exemptions) sees the row written here and
	 * deletes it; and a table being dropped by an open transaction is found
	 * gone below once that commits, instead of getting a row that no event
	 * trigger will ever delete.  The mode is SHARE UPDATE EXCLUSIVE, the
	 * mode ATTACH and DETACH PARTITION take on a parent, here and on every
	 * partition below (find_all_inheritors): the partitions whose facts are
	 * invalidated at the end are then all those the table has when this
	 * transaction commits.  (With ACCESS SHARE, a partition attached by
	 * another session before gtm_unexempt_table() committed kept the
	 * exemption of its parent in the sessions that had looked it up
	 * meanwhile: round EF.)  Withdrawing an exemption takes ACCESS
	 * EXCLUSIVE instead, as ALTER TABLE ... ENABLE ROW LEVEL SECURITY does:
	 * it waits for the statements running on the table (an open cursor, a
	 * write waiting on a row lock), which were judged with the exemption and
	 * would go on reading and writing every tenant's rows after it is gone
	 * (round EL), and new ones wait for it.
	 */
	lockmode = exempt ? ShareUpdateExclusiveLock : AccessExclusiveLock;
	LockRelationOid(relid, lockmode);
	if (get_rel_relkind(relid) == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (exempt && !rel_facts(relid)->tenant)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a tenant-scoped table", get_rel_name(relid)),
				 errdetail("Only tables with a column %s are checked.",
						   quote_identifier(gtm_tenant_column))));

	/*
	 * A temporary table goes at the end of its session, at COMMIT (ON COMMIT
	 * DROP) or with DISCARD TEMP / ALL without firing the sql_drop event
	 * trigger: its row would stay, for whatever table gets its OID later
	 * (or, through pg_dump, gets that OID in the restored database).
	 */
	if (exempt && get_rel_persistence(relid) == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot exempt temporary table \"%s\"", get_rel_name(relid)),
				 errdetail("A temporary table is dropped at the end of its session, at COMMIT or by DISCARD without firing an event trigger, so its exemption would be left to the next table with its OID."),
				 errhint("Pin the statements on it to one tenant, or run them as a role exempt from the tenant-scope check.")));

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	(void) gtm_query_run(&queries, exempt ? Q_EXEMPT : Q_UNEXEMPT, nsp, values,
						 false);
	SPI_finish();

	foreach(lc, find_all_inheritors(relid, lockmode, NULL))
	{
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));

		/*
		 * The shards of a distributed table follow it (relfacts.c), so this
		 * node's shards are held like it: on a worker, a statement of the
		 * application on a shard, judged with the exemption, was not waited
		 * for and went on after it was gone (round ER).
		 */
		if (distributed_planner_loaded())
			lock_local_shards(lfirst_oid(lc), lockmode);
	}
	if (distributed_planner_loaded())
		CacheInvalidateRelcacheAll();

	/*
	 * Not propagated to the other nodes of a Citus cluster: Citus' calls
	 * for that commit on their own connections at once, so a rolled-back
	 * exemption would stay there (doc/scaling-out.md).  Say so.
	 */
	if (distributed_planner_loaded() && relation_is_distributed(relid))
		ereport(NOTICE,
				(exempt ?
				 errmsg("\"%s\" is exempt on this node only", get_rel_name(relid)) :
				 errmsg("\"%s\" is no longer exempt on this node only", get_rel_name(relid)),
				 errdetail("Each node of a Citus cluster checks the statements it runs with its own exemptions."),
				 errhint("Run it on every node with run_command_on_all_nodes().")));
}

/* gtm_exempt_table(regclass) RETURNS void */
Datum
gtm_exempt_table(PG_FUNCTION_ARGS)
{
	change_exemption(fcinfo, true);
	PG_RETURN_VOID();
}

/* gtm_unexempt_table(regclass) RETURNS void */
Datum
gtm_unexempt_table(PG_FUNCTION_ARGS)
{
	change_exemption(fcinfo, false);
	PG_RETURN_VOID();
}

/*
 * gtm_forget_dropped_exemptions(): the sql_drop event trigger
 * gtm_clarity_forget_dropped_exemptions deletes the rows of the dropped
 * tables, so that a table created later with the same OID is not exempt.
 * With a snapshot taken now, not the transaction's: a DROP in a REPEATABLE
 * READ or SERIALIZABLE transaction also deletes a row written by a
 * transaction that committed after its snapshot (gtm_exempt_table holds a
 * lock on the table, so such a writer has committed before the DROP got its
 * lock).  Nothing to do when the exemptions table was dropped by hand: no
 * other DROP may fail for it.
 */
Datum
gtm_forget_dropped_exemptions(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_EVENT_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_forget_dropped_exemptions() must be called as an event trigger")));
	if (!OidIsValid(get_relname_relid(EXEMPTIONS_TABLE, nsp)))
		PG_RETURN_VOID();

	SPI_connect();
	gtm_query_run_latest(&queries, Q_FORGET_DROPPED, nsp, NULL, false, 0);
	SPI_finish();
	PG_RETURN_VOID();
}

/* Called once from exemptions_init. */
void
exempted_tables_init(void)
{
	CacheRegisterRelcacheCallback(exemptions_relcache_inval, (Datum) 0);
	RegisterXactCallback(exemptions_xact_end, NULL);
}
