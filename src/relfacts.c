/*-------------------------------------------------------------------------
 *
 * relfacts.c
 *	  The per-relation facts cache of tenant-scope enforcement.
 *
 * For each relation a statement names, enforcement needs three facts: is
 * it a tenant table (a table, partitioned table, foreign table or
 * materialized view outside the system schemas with a column named by
 * gtm.tenant_column; and the extension's own tenants table, a tenant's own
 * row, whose tenant column is id), which attribute is that column, and is
 * the table exempt (recorded with gtm_exempt_table(), itself or a partitioned
 * ancestor).  They live in a backend-local hash keyed by relation OID, with
 * a small array of the entries found last in front of it, so a statement
 * costs one probe per relation it names and no catalog access once warm.
 *
 * This file owns the cache only: it decides nothing about statements.
 * It also lists a table's partitions and inheritance children as pg_inherits
 * holds them (inheritors_in_catalog), pending detach included.
 *
 * Invalidation: a relcache callback marks the entry of the relation named
 * invalid (every entry for InvalidOid, a cache reset); a change of
 * gtm.tenant_column marks every entry (forget_rel_facts).  An invalid entry
 * is computed again, in place, when next looked up.  An invalidation that
 * arrives while the facts of its relation are being computed (during any
 * catalog access of the computation: a partition attached and committed
 * meanwhile) marks the computation, which starts again, as relcache.c's
 * RelationBuildDesc does: facts read before it are never kept as valid
 * (round EE; test/specs/enforce_facts_race.spec).  Entries are never
 * freed while enforcement code may hold a pointer to one: an invalidation
 * can arrive during any catalog access, also while an entry is being
 * computed or used, and a marked entry stays readable memory.  The entries
 * of dropped relations are swept out by rel_facts_sweep(), which the
 * planner hook calls before planning a top-level statement, when no such
 * pointer exists.
 *
 * IDENTIFICATION
 *	  src/relfacts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/pg_index.h"
#include "catalog/catalog.h"
#include "catalog/indexing.h"
#include "catalog/pg_attribute.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* The tenant column of the extension's tenants table */
#define TENANTS_ID_COLUMN "id"

/* The cache, in TopMemoryContext; NULL until first use, never destroyed. */
static HTAB *rel_facts_hash = NULL;

/* Entries marked invalid since the last sweep */
static int	invalid_facts = 0;

/*
 * The computations of facts under way, innermost first, on the C stack of
 * rel_facts_lookup (which takes its own off on every way out, errors
 * included): an invalidation of the relation one computes, or of every
 * relation, marks it.
 */
typedef struct FactsComputation
{
	Oid			relid;
	bool		invalidated;
	struct FactsComputation *outer;
} FactsComputation;

static FactsComputation *computing = NULL;

/* Mark the computations under way of relid (every one for InvalidOid). */
static void
invalidate_computations(Oid relid)
{
	for (FactsComputation *c = computing; c != NULL; c = c->outer)
		if (!OidIsValid(relid) || c->relid == relid)
			c->invalidated = true;
}

/*
 * The entries found last, by relid modulo RECENT_FACTS, in front of the
 * hash table: a statement looks its few tables up several times.  Cleared
 * by a sweep, the only time entries leave the hash table.
 */
RelFacts   *recent_facts[RECENT_FACTS];

/* Mark every entry invalid (a change of gtm.tenant_column, a cache reset). */
void
forget_rel_facts(void)
{
	HASH_SEQ_STATUS seq;
	RelFacts   *f;

	invalidate_computations(InvalidOid);
	if (rel_facts_hash == NULL)
		return;
	hash_seq_init(&seq, rel_facts_hash);
	while ((f = hash_seq_search(&seq)) != NULL)
	{
		if (f->valid)
			invalid_facts++;
		f->valid = false;
	}
}

/* Relcache invalidation callback: mark, never free. */
static void
rel_facts_inval(Datum arg, Oid relid)
{
	RelFacts   *f;

	if (!OidIsValid(relid))
	{
		forget_rel_facts();
		return;
	}
	invalidate_computations(relid);
	if (rel_facts_hash == NULL)
		return;
	f = hash_search(rel_facts_hash, &relid, HASH_FIND, NULL);
	if (f != NULL && f->valid)
	{
		f->valid = false;
		invalid_facts++;
	}
}

/*
 * Free the entries marked invalid, when there are many of them (relations
 * created and dropped, temporary tables).  Only where no pointer to an
 * entry is held: before a top-level statement is planned.
 */
void
rel_facts_sweep(void)
{
	HASH_SEQ_STATUS seq;
	RelFacts   *f;

	if (rel_facts_hash == NULL || invalid_facts < 256)
		return;
	memset(recent_facts, 0, sizeof(recent_facts));
	hash_seq_init(&seq, rel_facts_hash);
	while ((f = hash_seq_search(&seq)) != NULL)
		if (!f->valid)
			hash_search(rel_facts_hash, &f->relid, HASH_REMOVE, NULL);
	invalid_facts = 0;
}

/*
 * Is relid (in schema nsp) the extension's tenants table?  A tenant's row
 * (its name, slug, settings) is that tenant's data, so the table is
 * tenant-scoped with id as its tenant column.  The name is compared first:
 * the schema lookup reads pg_extension.
 */
static bool
is_tenants_table(Oid relid, Oid nsp)
{
	char	   *name = get_rel_name(relid);

	return name != NULL && strcmp(name, "tenants") == 0 &&
		nsp == gtm_installed_namespace();
}

/*
 * The name of the tenant column of tenant table relid: id for the tenants
 * table, else gtm.tenant_column.
 */
const char *
tenant_column_name(Oid relid)
{
	return rel_facts(relid)->root ? TENANTS_ID_COLUMN : gtm_tenant_column;
}

/*
 * The number of column "name" of relid (InvalidAttrNumber if none) and its
 * attgenerated, from the relation's descriptor in the relcache: the
 * statement being planned has it open already, so this is a scan of a few
 * attributes rather than a miss of the attribute-name catcache (an index
 * scan of pg_attribute per relation, on a backend's first statements).
 */
static AttrNumber
column_attnum(Oid relid, const char *name, char *generated)
{
	Relation	rel = RelationIdGetRelation(relid);
	AttrNumber	attnum = InvalidAttrNumber;

	*generated = '\0';
	if (!RelationIsValid(rel))
		return InvalidAttrNumber;	/* dropped meanwhile */
	for (int i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			attnum = att->attnum;
			*generated = att->attgenerated;
			break;
		}
	}
	RelationClose(rel);
	return attnum;
}

/* Is row-level security enabled on relid (relrowsecurity)? */
static bool
rel_row_security(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		result = false;

	if (HeapTupleIsValid(tup))
	{
		result = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
		ReleaseSysCache(tup);
	}
	return result;
}

/* Compute the facts of relid from the catalogs into *f. */
static void
compute_rel_facts(Oid relid, RelFacts *f)
{
	char		relkind = get_rel_relkind(relid);
	Oid			nsp = get_rel_namespace(relid);

	f->relid = relid;
	f->valid = true;
	f->relkind = relkind;
	f->tenant = false;
	f->exempt = false;
	f->attnum = InvalidAttrNumber;
	f->virtual_tenant = false;
	f->distributed = false;
	f->tenant_text_fixed = false;
	f->root = false;
	f->generated_tenant = false;
	f->has_children = false;
	f->row_security = false;
	f->fk_actions_known = false;
	f->fk_actions = false;
	f->index_expressions = false;
	f->index_partial = false;
	if (relkind == RELKIND_INDEX || relkind == RELKIND_PARTITIONED_INDEX)
	{
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(relid));

		if (HeapTupleIsValid(tup))
		{
			f->index_expressions = !heap_attisnull(tup, Anum_pg_index_indexprs, NULL);
			f->index_partial = !heap_attisnull(tup, Anum_pg_index_indpred, NULL);
			ReleaseSysCache(tup);
		}
		return;
	}
	if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		 relkind == RELKIND_FOREIGN_TABLE || relkind == RELKIND_MATVIEW) &&
		OidIsValid(nsp) && !IsCatalogNamespace(nsp) && !IsToastNamespace(nsp) &&
		strcmp(get_namespace_name(nsp), "information_schema") != 0)
	{
		char		gen;

		f->attnum = column_attnum(relid, gtm_tenant_column, &gen);
		if (f->attnum <= 0 && is_tenants_table(relid, nsp))
		{
			f->root = true;
			f->attnum = column_attnum(relid, TENANTS_ID_COLUMN, &gen);
		}
		if (f->attnum > 0)
		{
			f->tenant = true;
			f->generated_tenant = gen != '\0';
			f->has_children = has_subclass(relid);
			f->row_security = rel_row_security(relid);
			f->virtual_tenant = GTM_ATTGENERATED_IS_VIRTUAL(gen);
			f->exempt = exemption_recorded(relid);
			/* a partition is exempt with its partitioned ancestors */
			if (!f->exempt && get_rel_relispartition(relid))
			{
				ListCell   *lc;

				foreach(lc, get_partition_ancestors(relid))
					if (exemption_recorded(lfirst_oid(lc)))
						f->exempt = true;
			}
			f->distributed = relation_is_distributed(relid);
			if (f->distributed)
				f->tenant_text_fixed = type_text_is_fixed(get_atttype(relid, f->attnum));
			/* a shard of Citus, on a worker, with its distributed table */
			if (!f->exempt && !f->distributed)
			{
				Oid			table = distributed_table_of_shard(relid);

				if (OidIsValid(table) && exemption_recorded(table))
					f->exempt = true;
			}
		}
		else
			f->attnum = InvalidAttrNumber;
	}
}

/*
 * The facts of relid when rel_facts() (enforce.h) does not find them in
 * recent_facts: from the hash table or computed.  The pointer stays valid
 * until the next rel_facts_sweep(); its facts may be marked invalid and
 * computed again meanwhile, never freed.
 */
RelFacts *
rel_facts_lookup(Oid relid)
{
	RelFacts   *f;
	RelFacts	tmp;
	bool		found;
	if (rel_facts_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelFacts);
		ctl.hcxt = TopMemoryContext;
		rel_facts_hash = hash_create("gtm_clarity relation facts", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	f = hash_search(rel_facts_hash, &relid, HASH_FIND, NULL);
	if (f != NULL && f->valid)
	{
		recent_facts[relid % RECENT_FACTS] = f;
		return f;
	}

	/*
	 * Compute into a local copy: the catalog lookups may process
	 * invalidations, which mark entries (this one too, if present) but
	 * free none.  One of this relation's (or a cache reset) marks the
	 * computation, and the facts are computed again, from catalogs that
	 * have processed it.
	 */
	for (;;)
	{
		FactsComputation me = {relid, false, computing};

		computing = &me;
		PG_TRY();
		{
			compute_rel_facts(relid, &tmp);
		}
		PG_FINALLY();
		{
			computing = me.outer;
		}
		PG_END_TRY();
		if (!me.invalidated)
			break;
		CHECK_FOR_INTERRUPTS();
	}
	f = hash_search(rel_facts_hash, &relid, HASH_ENTER, &found);
	if (found && !f->valid && invalid_facts > 0)
		invalid_facts--;
	*f = tmp;
	recent_facts[relid % RECENT_FACTS] = f;
	return f;
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
rel_facts_init(void)
{
	CacheRegisterRelcacheCallback(rel_facts_inval, (Datum) 0);
}

/*
 * The direct partitions and inheritance children of parent in pg_inherits,
 * each locked in lockmode (and left out if dropped meanwhile), in OID
 * order: also those a DETACH ... CONCURRENTLY has left pending, and read
 * whatever pg_class.relhassubclass says (find_inheritance_children trusts
 * it, and ANALYZE clears it on a table whose only child is pending).
 */
static List *
children_in_catalog(Oid parent, LOCKMODE lockmode)
{
	Relation	inh = table_open(InheritsRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	List	   *found = NIL;
	List	   *kept = NIL;
	ListCell   *lc;

	ScanKeyInit(&key, Anum_pg_inherits_inhparent, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(parent));
	scan = systable_beginscan(inh, InheritsParentIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
		found = lappend_oid(found, ((Form_pg_inherits) GETSTRUCT(tup))->inhrelid);
	systable_endscan(scan);
	table_close(inh, AccessShareLock);
	list_sort(found, list_oid_cmp);	/* the order PostgreSQL locks them in */
	foreach(lc, found)
	{
		Oid			child = lfirst_oid(lc);

		if (lockmode != NoLock)
		{
			LockRelationOid(child, lockmode);
			if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(child)))
			{
				UnlockRelationOid(child, lockmode);
				continue;
			}
		}
		kept = lappend_oid(kept, child);
	}
	return kept;
}

/*
 * relid and every partition and inheritance child below it in pg_inherits,
 * each locked in lockmode, also those a DETACH ... CONCURRENTLY has left
 * pending: a REPEATABLE READ or SERIALIZABLE write still routes rows to
 * them (round EN: a COPY FROM stored a row of t-2 in one that computes
 * tenant_id), and the check after a COPY must see one it routed rows to
 * before it became pending (round EP).
 */
List *
inheritors_in_catalog(Oid relid, LOCKMODE lockmode)
{
	List	   *rels = list_make1_oid(relid);

	for (int i = 0; i < list_length(rels); i++)
	{
		ListCell   *lc;

		CHECK_FOR_INTERRUPTS();
		foreach(lc, children_in_catalog(list_nth_oid(rels, i), lockmode))
			rels = list_append_unique_oid(rels, lfirst_oid(lc));
	}
	return rels;
}
