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
#include "common/hashfn.h"
#include "mb/pg_wchar.h"
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
 * Citus' name of shard shardid of a table named tname (Citus'
 * AppendShardIdToName): "<tname>_<shardid>", or, when that would not fit
 * in NAMEDATALEN, tname clipped, "_", its hash_any() in 8 hex digits, and
 * "_<shardid>".
 */
static char *
shard_name(const char *tname, int64 shardid)
{
	char		suffix[NAMEDATALEN];
	int			len = strlen(tname);
	int			suffixlen;

	snprintf(suffix, sizeof(suffix), "_" INT64_FORMAT, shardid);
	suffixlen = strlen(suffix);
	if (len < NAMEDATALEN - suffixlen)
		return psprintf("%s%s", tname, suffix);
	return psprintf("%.*s_%.8x%s",
					pg_mbcliplen(tname, len, NAMEDATALEN - suffixlen - 10), tname,
					DatumGetUInt32(hash_any((const unsigned char *) tname, len)), suffix);
}

/* What a pass over pg_dist_shard looks for, and finds */
typedef struct ShardSearch
{
	Oid			table;			/* the shards of this table, or */
	int64		shardid;		/* this shard's table */
	List	   *found;			/* (table) its shards' tables of this node;
								 * (shardid) the table it is a shard of */
} ShardSearch;

/*
 * One pass over pg_dist_shard, read without an index (one row per shard;
 * the answers are cached with the relation's facts), for a ShardSearch.
 */
static void
search_dist_shard(ShardSearch *search)
{
	Oid			catalog = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

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

		CHECK_FOR_INTERRUPTS();
		if (null1 || null2)
			continue;
		if (OidIsValid(search->table) && DatumGetObjectId(logical) == search->table)
		{
			char	   *tname = get_rel_name(search->table);
			Oid			shard;

			shard = tname == NULL ? InvalidOid :
				get_relname_relid(shard_name(tname, DatumGetInt64(id)),
								  get_rel_namespace(search->table));
			if (OidIsValid(shard))
				search->found = lappend_oid(search->found, shard);
		}
		else if (!OidIsValid(search->table) && DatumGetInt64(id) == search->shardid)
		{
			search->found = list_make1_oid(DatumGetObjectId(logical));
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * On a node that holds Citus' metadata, the distributed table that relid
 * is a shard of, or InvalidOid: the table of the shardid its name ends
 * with in pg_dist_shard, whose shard of that id has relid's name and
 * schema (shard_name: round EX, a long table name's shards, whose names
 * Citus hashes, were not known, and not exempt with their table).
 * relfacts.c makes a shard exempt with that table.
 */
Oid
distributed_table_of_shard(Oid relid)
{
	char	   *name;
	char	   *us;
	char	   *end;
	char	   *tname;
	Oid			table;
	ShardSearch search = {InvalidOid, 0, NIL};

	if (!distributed_planner_loaded())
		return InvalidOid;
	name = get_rel_name(relid);
	if (name == NULL || (us = strrchr(name, '_')) == NULL || us[1] == '\0')
		return InvalidOid;
	errno = 0;
	search.shardid = strtoi64(us + 1, &end, 10);
	if (errno != 0 || *end != '\0' || search.shardid <= 0)
		return InvalidOid;
	search_dist_shard(&search);
	if (search.found == NIL)
		return InvalidOid;
	table = linitial_oid(search.found);
	tname = get_rel_name(table);
	if (tname == NULL || get_rel_namespace(table) != get_rel_namespace(relid) ||
		strcmp(shard_name(tname, search.shardid), name) != 0)
		return InvalidOid;
	return table;
}

/*
 * The shards of distributed table relid that are tables of this node (on a
 * worker; none on a coordinator without placements), locked in lockmode
 * with their partitions: gtm_exempt_table() and gtm_unexempt_table() hold
 * them as they hold the table, since a shard is exempt with its table.
 */
void
lock_local_shards(Oid relid, LOCKMODE lockmode)
{
	ShardSearch search = {relid, 0, NIL};
	ListCell   *lc;

	if (!distributed_planner_loaded() || get_rel_name(relid) == NULL)
		return;
	search_dist_shard(&search);
	foreach(lc, search.found)
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
