/*-------------------------------------------------------------------------
 *
 * relfacts.c
 *	  The per-relation facts cache of tenant-scope enforcement.
 *
 * For each relation a statement names, enforcement needs three facts: is
 * it a tenant table (a table, partitioned table, foreign table or
 * materialized view outside the system schemas with a column named by
 * gtm.tenant_column), which attribute is that column, and is the table
 * exempt (recorded with gtm_exempt_table(), itself or a partitioned
 * ancestor).  They live in a backend-local hash keyed by relation OID, with
 * a small array of the entries found last in front of it, so a statement
 * costs one probe per relation it names and no catalog access once warm.
 *
 * This file owns the cache only: it decides nothing about statements.
 *
 * Invalidation: a relcache callback drops the entry of the relation named
 * (the whole cache for InvalidOid); a change of gtm.tenant_column drops the
 * whole cache (forget_rel_facts, from enforce_hooks.c).  An entry is
 * computed completely before it enters the hash, because the catalog
 * lookups that compute it may themselves process invalidations.
 *
 * IDENTIFICATION
 *	  src/relfacts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/catalog.h"
#include "catalog/partition.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "enforce.h"

/* The cache, in TopMemoryContext; NULL until first use and after a reset. */
static HTAB *rel_facts_hash = NULL;

/*
 * The entries found last, by relid modulo RECENT_FACTS, in front of the
 * hash table: a statement looks its few tables up several times.  Cleared
 * whenever an entry leaves the hash table.
 */
#define RECENT_FACTS 16
static RelFacts *recent_facts[RECENT_FACTS];

/* Drop the whole cache (a change of gtm.tenant_column, or a full reset). */
void
forget_rel_facts(void)
{
	memset(recent_facts, 0, sizeof(recent_facts));
	if (rel_facts_hash != NULL)
	{
		hash_destroy(rel_facts_hash);
		rel_facts_hash = NULL;
	}
}

/* Relcache invalidation callback. */
static void
rel_facts_inval(Datum arg, Oid relid)
{
	if (rel_facts_hash == NULL)
		return;
	if (!OidIsValid(relid))
		forget_rel_facts();
	else
	{
		memset(recent_facts, 0, sizeof(recent_facts));
		hash_search(rel_facts_hash, &relid, HASH_REMOVE, NULL);
	}
}

/* Compute the facts of relid from the catalogs into *f. */
static void
compute_rel_facts(Oid relid, RelFacts *f)
{
	char		relkind = get_rel_relkind(relid);
	Oid			nsp = get_rel_namespace(relid);

	f->relid = relid;
	f->tenant = false;
	f->exempt = false;
	f->attnum = InvalidAttrNumber;
	if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
		 relkind == RELKIND_FOREIGN_TABLE || relkind == RELKIND_MATVIEW) &&
		OidIsValid(nsp) && !IsCatalogNamespace(nsp) && !IsToastNamespace(nsp) &&
		strcmp(get_namespace_name(nsp), "information_schema") != 0)
	{
		f->attnum = get_attnum(relid, gtm_tenant_column);
		if (f->attnum > 0)
		{
			f->tenant = true;
			f->exempt = exemption_recorded(relid);
			/* a partition is exempt with its partitioned ancestors */
			if (!f->exempt && get_rel_relispartition(relid))
			{
				ListCell   *lc;

				foreach(lc, get_partition_ancestors(relid))
					if (exemption_recorded(lfirst_oid(lc)))
						f->exempt = true;
			}
		}
		else
			f->attnum = InvalidAttrNumber;
	}
}

/*
 * The facts of relid, from the cache or computed.  The pointer is valid
 * until the next invalidation is processed: use it before any catalog
 * access, or copy what you need.
 */
RelFacts *
rel_facts(Oid relid)
{
	RelFacts   *f = recent_facts[relid % RECENT_FACTS];
	RelFacts	tmp;
	bool		found;

	if (f != NULL && f->relid == relid)
		return f;
	if (rel_facts_hash != NULL)
	{
		f = hash_search(rel_facts_hash, &relid, HASH_FIND, NULL);
		if (f)
		{
			recent_facts[relid % RECENT_FACTS] = f;
			return f;
		}
	}

	compute_rel_facts(relid, &tmp);

	/*
	 * The lookups above may have processed invalidations, even one that
	 * dropped the whole cache: create the table and insert only now.
	 */
	if (rel_facts_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelFacts);
		ctl.hcxt = TopMemoryContext;
		rel_facts_hash = hash_create("gtm_clarity relation facts", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	f = hash_search(rel_facts_hash, &relid, HASH_ENTER, &found);
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
