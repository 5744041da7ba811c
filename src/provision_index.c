/*-------------------------------------------------------------------------
 *
 * provision_index.c
 *	  Index probes of provisioning, without SPI: repeat sign-ins and slugs.
 *
 * A repeat sign-in is the hot path of every session start: it reads the
 * unique index on tenants.clerk_org_id and the primary key of
 * tenant_members directly (index_probe, under the statement's snapshot),
 * without SPI, a plan or an executor.  A free derived slug is found with a
 * few exact probes of the slug index, however many tenants share the name
 * (free_derived_slug).
 *
 * IDENTIFICATION
 *	  src/provision_index.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "gtm_clarity.h"
#include "provision.h"

/* ----------------------------------------------------------------
 *		Repeat sign-in fast path
 *
 * A repeat sign-in is the hot path of every session start: it reads the
 * unique index on tenants.clerk_org_id and the primary key of
 * tenant_members directly (two index probes under the statement's
 * snapshot), without SPI, a plan or an executor.
 * ----------------------------------------------------------------
 */


/*
 * Probe a unique index on text columns with nkeys equality keys; when a
 * row visible to the statement's snapshot is found, return true and its
 * column "want" in result and isnull (copied into the current memory
 * context, detoasted).  When "want" is one of the index's columns (a key or
 * an INCLUDE column), a heap page that the visibility map marks all-visible
 * is not read at all, as in an index-only scan; any other column is read
 * from the heap (the settings of a tenant, settings_defaults.c).
 */
bool
index_probe(Oid nsp, const char *relname, const char *indexname,
			int nkeys, Datum *keys, const char *want, Datum *result, bool *isnull)
{
	Relation	rel = table_open(gtm_extension_relid(relname, nsp), AccessShareLock);
	Relation	idx = index_open(gtm_extension_relid(indexname, nsp), AccessShareLock);
	Snapshot	snapshot = GetActiveSnapshot();
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttrNumber	attnum = InvalidAttrNumber;
	int			idxcol = -1;
	ScanKeyData skey[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Buffer		vmbuffer = InvalidBuffer;
	ItemPointer tid;
	bool		found = false;
	Form_pg_attribute att;

	for (int i = 0; i < tupdesc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(tupdesc, i)->attname), want) == 0)
			attnum = i + 1;
	for (int i = 0; i < idx->rd_index->indnatts; i++)
		if (idx->rd_index->indkey.values[i] == attnum)
			idxcol = i;
	if (attnum == InvalidAttrNumber)
		elog(ERROR, "relation \"%s\" has no column \"%s\"", relname, want);
	att = TupleDescAttr(tupdesc, attnum - 1);

	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&skey[i], 0, i + 1, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[i], F_TEXTEQ, keys[i]);
	scan = gtm_index_beginscan(rel, idx, snapshot, nkeys, 0);
	scan->xs_want_itup = (idxcol >= 0);
	index_rescan(scan, skey, nkeys, NULL, 0);
	slot = table_slot_create(rel, NULL);

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (idxcol >= 0 && VM_ALL_VISIBLE(rel, ItemPointerGetBlockNumber(tid), &vmbuffer))
		{
			/* every tuple on the page is visible to everyone */
			*result = index_getattr(scan->xs_itup, idxcol + 1, scan->xs_itupdesc, isnull);
			PredicateLockPage(rel, ItemPointerGetBlockNumber(tid), snapshot);
		}
		else if (index_fetch_heap(scan, slot))
			*result = slot_getattr(slot, attnum, isnull);
		else
			continue;			/* not visible to us */
		if (!*isnull && att->attlen == -1)
			*result = PointerGetDatum(PG_DETOAST_DATUM_COPY(*result));
		else if (!*isnull)
			*result = datumCopy(*result, att->attbyval, att->attlen);
		found = true;
		break;
	}
	if (BufferIsValid(vmbuffer))
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return found;
}

/* ----------------------------------------------------------------
 *		Free derived slugs
 *
 * A derived slug is its base ("acme") or the base with a suffix ("acme-2",
 * "acme-3", ...).  The suffixes in use cannot be read in numeric order from
 * tenants_slug_key (a COLLATE "C" text index puts "acme-10" before
 * "acme-2"), and reading all of them costs as much as there are tenants of
 * that name.  Instead each probe asks the index whether one exact slug is
 * taken: one descent of the B-tree.  The search doubles the suffix while it
 * is taken (2, 4, 8, ...) and then bisects between the last taken and the
 * first free one, so it ends on a free suffix whose predecessor is taken
 * after at most 2 * log2(n) + 2 probes for n tenants of the same base:
 * with suffixes used without gaps that is the next one, n + 1.
 *
 * The probes read a snapshot taken when the search starts, so a slug that
 * a concurrent sign-in committed while our INSERT ... ON CONFLICT waited for
 * it is seen by the next search.
 * ----------------------------------------------------------------
 */
typedef struct SlugSearch
{
	Relation	rel;
	Relation	idx;
	Snapshot	snapshot;
	IndexScanDesc scan;
	TupleTableSlot *slot;
	StringInfoData slug;		/* the base, then the candidate */
	int			baselen;
	const char *own;			/* a slug that counts as free, or NULL */
} SlugSearch;

/*
 * Is base-n (n = 1: the base itself) the slug of a row we can see, other
 * than the own one?
 */
static bool
slug_taken(SlugSearch *ss, int n)
{
	ScanKeyData skey;
	text	   *key;
	bool		found;

	CHECK_FOR_INTERRUPTS();
	ss->slug.len = ss->baselen;
	ss->slug.data[ss->baselen] = '\0';
	if (n > 1)
		appendStringInfo(&ss->slug, "-%d", n);
	if (ss->own != NULL && strcmp(ss->slug.data, ss->own) == 0)
		return false;
	key = cstring_to_text_with_len(ss->slug.data, ss->slug.len);
	ScanKeyEntryInitialize(&skey, 0, 1, BTEqualStrategyNumber, InvalidOid,
						   ss->idx->rd_indcollation[0], F_TEXTEQ,
						   PointerGetDatum(key));
	index_rescan(ss->scan, &skey, 1, NULL, 0);
	found = index_getnext_slot(ss->scan, ForwardScanDirection, ss->slot);
	ExecClearTuple(ss->slot);
	pfree(key);
	return found;
}

/*
 * The slug of the row to insert next: base or base-n, free when we looked,
 * where own (a tenant's slug, or NULL) counts as free: the search then
 * depends on the other tenants' slugs only, so that a tenant given one
 * gets the same whatever slug it had before (round FQ).
 */
char *
free_derived_slug(Oid nsp, const char *base, const char *own)
{
	SlugSearch	ss;
	int			lo,
				hi;
	char	   *result;

	ss.rel = table_open(gtm_extension_relid("tenants", nsp), AccessShareLock);
	ss.idx = index_open(gtm_extension_relid("tenants_slug_key", nsp), AccessShareLock);
	ss.snapshot = RegisterSnapshot(GetLatestSnapshot());
	ss.scan = gtm_index_beginscan(ss.rel, ss.idx, ss.snapshot, 1, 0);
	ss.slot = table_slot_create(ss.rel, NULL);
	initStringInfo(&ss.slug);
	appendStringInfoString(&ss.slug, base);
	ss.baselen = ss.slug.len;
	ss.own = own;

	if (!slug_taken(&ss, 1))
		hi = 1;
	else if (!slug_taken(&ss, 2))
		hi = 2;
	else
	{
		/* invariant: lo is taken, hi is free (or past the last suffix) */
		lo = 2;
		hi = 4;
		while (hi <= MAX_SLUG_SUFFIX && slug_taken(&ss, hi))
		{
			lo = hi;
			hi = (hi > MAX_SLUG_SUFFIX / 2) ? MAX_SLUG_SUFFIX + 1 : hi * 2;
		}
		if (hi > MAX_SLUG_SUFFIX)
			hi = MAX_SLUG_SUFFIX + 1;
		while (hi - lo > 1)
		{
			int			mid = lo + (hi - lo) / 2;

			if (slug_taken(&ss, mid))
				lo = mid;
			else
				hi = mid;
		}
	}

	ExecDropSingleTupleTableSlot(ss.slot);
	index_endscan(ss.scan);
	UnregisterSnapshot(ss.snapshot);
	index_close(ss.idx, NoLock);
	table_close(ss.rel, NoLock);

	if (hi > MAX_SLUG_SUFFIX)
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("no free slug derived from %s", gtm_msg_value(base, -1, true)),
				 errhint("Pass an explicit slug.")));
	result = hi == 1 ? pstrdup(base) : psprintf("%s-%d", base, hi);
	pfree(ss.slug.data);
	return result;
}

