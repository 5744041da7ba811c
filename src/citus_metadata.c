/*-------------------------------------------------------------------------
 *
 * citus_metadata.c
 *	  What Citus' metadata says of a relation, for the facts cache.
 *
 * relfacts.c asks, for each tenant table whose facts it computes, whether
 * it is a Citus table (distributed or reference: a row of
 * pg_dist_partition) and, on a worker, which distributed table it is a
 * shard of (a shard is exempt with its table).  Both read Citus' catalogs
 * only where Citus is loaded, without an index (their answers are cached
 * with the relation's facts, which Citus invalidates when it changes
 * them), and whether a function is one Citus distributed (for a CALL it
 * may delegate).  Nothing here decides a verdict.
 *
 * IDENTIFICATION
 *	  src/citus_metadata.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_proc.h"
#include "parser/parse_relation.h"
#include "storage/lmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"

/* ----------------------------------------------------------------
 *		Shards on a worker
 * ----------------------------------------------------------------
 */

/*
 * On a node that holds Citus' metadata, the distributed table that relid
 * is a shard of, or InvalidOid.  A shard is the table named
 * "<name>_<shardid>" in the schema of its distributed table, with its
 * shardid in pg_dist_shard; relfacts.c makes a shard exempt with that
 * table.  pg_dist_shard is read without an index (one row per shard; the
 * answer is cached with the relation's facts).
 */
Oid
distributed_table_of_shard(Oid relid)
{
	char	   *name;
	char	   *us;
	char	   *end;
	int64		shardid;
	Oid			catalog;
	Oid			result = InvalidOid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	if (!distributed_planner_loaded())
		return InvalidOid;
	name = get_rel_name(relid);
	if (name == NULL || (us = strrchr(name, '_')) == NULL || us[1] == '\0')
		return InvalidOid;
	errno = 0;
	shardid = strtoi64(us + 1, &end, 10);
	if (errno != 0 || *end != '\0' || shardid <= 0)
		return InvalidOid;
	catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return InvalidOid;

	rel = table_open(catalog, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		null1,
					null2;
		Datum		logical = heap_getattr(tup, 1, RelationGetDescr(rel), &null1);
		Datum		id = heap_getattr(tup, 2, RelationGetDescr(rel), &null2);

		CHECK_FOR_INTERRUPTS();
		if (!null1 && !null2 && DatumGetInt64(id) == shardid)
		{
			Oid			table = DatumGetObjectId(logical);
			char	   *tname = get_rel_name(table);

			if (tname != NULL &&
				get_rel_namespace(table) == get_rel_namespace(relid) &&
				strlen(tname) == (size_t) (us - name) &&
				strncmp(tname, name, us - name) == 0)
				result = table;
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The shards of distributed table relid that are tables of this node (on a
 * worker; none on a coordinator without placements), locked in lockmode
 * with their partitions: gtm_exempt_table() and gtm_unexempt_table() hold
 * them as they hold the table, since a shard is exempt with its table.
 * pg_dist_shard is read without an index, as above.
 */
void
lock_local_shards(Oid relid, LOCKMODE lockmode)
{
	char	   *tname;
	Oid			nsp;
	Oid			catalog;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *shards = NIL;
	ListCell   *lc;

	if (!distributed_planner_loaded() || (tname = get_rel_name(relid)) == NULL)
		return;
	nsp = get_rel_namespace(relid);
	catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return;

	rel = table_open(catalog, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		null1,
					null2;
		Datum		logical = heap_getattr(tup, 1, RelationGetDescr(rel), &null1);
		Datum		id = heap_getattr(tup, 2, RelationGetDescr(rel), &null2);
		Oid			shard;

		CHECK_FOR_INTERRUPTS();
		if (null1 || null2 || DatumGetObjectId(logical) != relid)
			continue;
		shard = get_relname_relid(psprintf("%s_" INT64_FORMAT, tname,
										   DatumGetInt64(id)), nsp);
		if (OidIsValid(shard))
			shards = lappend_oid(shards, shard);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);

	foreach(lc, shards)
	{
		/* find_all_inheritors locks the partitions, not the table itself */
		LockRelationOid(lfirst_oid(lc), lockmode);
		(void) find_all_inheritors(lfirst_oid(lc), lockmode, NULL);
	}
}

/*
 * Is relid a Citus table (distributed or reference: a row of
 * pg_dist_partition)?  For relfacts.c, which caches it; Citus invalidates
 * the relation's cache entry when it changes that.
 */
bool
relation_is_distributed(Oid relid)
{
	Oid			catalog;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	bool		found = false;

	if (!distributed_planner_loaded())
		return false;
	catalog = get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return false;
	rel = table_open(catalog, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

		CHECK_FOR_INTERRUPTS();
		if (!isnull && DatumGetObjectId(d) == relid)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Is funcid a function or procedure Citus distributed
 * (create_distributed_function: a row of pg_dist_object for it)?  Citus
 * may delegate a call of it to a worker.  Read without an index, and not
 * cached: asked only for a CALL made while a statement is open.
 */
bool
function_is_distributed(Oid funcid)
{
	Oid			catalog;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	classid_att;
	AttrNumber	objid_att;
	bool		found = false;

	if (!distributed_planner_loaded())
		return false;
	catalog = get_relname_relid("pg_dist_object", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(catalog))
		return false;
	rel = table_open(catalog, AccessShareLock);
	classid_att = attnameAttNum(rel, "classid", false);
	objid_att = attnameAttNum(rel, "objid", false);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		null1;
		bool		null2;
		Datum		classid = heap_getattr(tup, classid_att, RelationGetDescr(rel), &null1);
		Datum		objid = heap_getattr(tup, objid_att, RelationGetDescr(rel), &null2);

		CHECK_FOR_INTERRUPTS();
		if (!null1 && !null2 && DatumGetObjectId(classid) == ProcedureRelationId &&
			DatumGetObjectId(objid) == funcid)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}
