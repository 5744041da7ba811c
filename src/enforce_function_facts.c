/*-------------------------------------------------------------------------
 *
 * enforce_function_facts.c
 *	  The per-function facts cache of tenant-scope enforcement.
 *
 * fmgr asks needs_fmgr_hook about every function of the database's (not
 * PostgreSQL's own) it looks up, and fmgr_hook is then called at every
 * start and end of such a function's calls, once per row: for each, the
 * check needs its owner, whether that owner is exempt, whether it lives
 * in a temporary schema, whether it is SECURITY DEFINER, and (to know
 * what the planner folds) its volatility and language.  Read from the
 * catalogs, that is a pg_proc and two pg_authid lookups each time.  They
 * are kept here, in a backend-local hash keyed by function OID, so that
 * the owner lookups of enforce_planning.c and exempt_callers.c are one
 * lookup, answered alike.
 *
 * Invalidation: any pg_proc or pg_authid invalidation (a function
 * replaced, altered, dropped or given to another owner; a role made
 * superuser or BYPASSRLS or no longer so; a cache reset, which calls
 * every callback) advances a generation; an entry counts only in the
 * generation it was read in.  Facts are read from the catalogs before the
 * entry is written and copied out to the caller, so an invalidation that
 * arrives during a catalog access of the lookup leaves the entry of an
 * older generation (read again next time), and no pointer into the hash
 * is held across a catalog access.  The hash is emptied when it grows
 * past FUNCTION_FACTS_MAX entries, at a lookup (never in a callback).
 *
 * IDENTIFICATION
 *	  src/enforce_function_facts.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_proc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* Entries kept before the hash is emptied and filled again */
#define FUNCTION_FACTS_MAX	4096

typedef struct FunctionFactsEntry
{
	Oid			funcid;			/* hash key */
	uint64		generation;		/* facts_generation they were read in */
	FunctionFacts facts;
} FunctionFactsEntry;

static HTAB *function_facts_hash = NULL;

/* Advanced by every pg_proc or pg_authid invalidation; starts at 1 */
static uint64 facts_generation = 1;

static void
function_facts_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	facts_generation++;
}

/* The facts of funcid read from the catalogs (found = false: no such function) */
static void
read_function_facts(Oid funcid, FunctionFacts *out)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	Form_pg_proc proc;

	memset(out, 0, sizeof(*out));
	if (!HeapTupleIsValid(tup))
		return;
	proc = (Form_pg_proc) GETSTRUCT(tup);
	out->found = true;
	out->owner = proc->proowner;
	out->in_temp_schema = isAnyTempNamespace(proc->pronamespace);
	out->security_definer = proc->prosecdef;
	out->provolatile = proc->provolatile;
	out->prolang = proc->prolang;
	ReleaseSysCache(tup);
	out->owner_exempt = role_oid_is_exempt(out->owner);
}

/*
 * The facts of function funcid, copied into *out.  For PostgreSQL's own
 * functions too (read each time: the hooks' callers skip those first).
 */
void
function_facts(Oid funcid, FunctionFacts *out)
{
	uint64		generation = facts_generation;
	FunctionFactsEntry *entry;
	bool		found;

	if (unlikely(function_facts_hash == NULL))
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(FunctionFactsEntry);
		ctl.hcxt = TopMemoryContext;
		function_facts_hash = hash_create("gtm_clarity function facts", 64, &ctl,
										  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	entry = hash_search(function_facts_hash, &funcid, HASH_FIND, NULL);
	if (likely(entry != NULL) && entry->generation == generation)
	{
		*out = entry->facts;
		return;
	}

	/* read first: an invalidation may arrive during these catalog reads */
	read_function_facts(funcid, out);
	if (hash_get_num_entries(function_facts_hash) >= FUNCTION_FACTS_MAX)
	{
		HASH_SEQ_STATUS seq;
		FunctionFactsEntry *e;

		hash_seq_init(&seq, function_facts_hash);
		while ((e = hash_seq_search(&seq)) != NULL)
			hash_search(function_facts_hash, &e->funcid, HASH_REMOVE, NULL);
	}
	entry = hash_search(function_facts_hash, &funcid, HASH_ENTER, &found);
	entry->facts = *out;
	/* the generation the reads began in: older when one arrived meanwhile */
	entry->generation = generation;
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
function_facts_init(void)
{
	CacheRegisterSyscacheCallback(PROCOID, function_facts_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, function_facts_inval, (Datum) 0);
}
