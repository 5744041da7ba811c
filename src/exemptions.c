/*-------------------------------------------------------------------------
 *
 * exemptions.c
 *	  What tenant-scope enforcement does not check, and why.
 *
 * Exempt, as from row-level security:
 *	- superusers and roles with BYPASSRLS (role_is_exempt; the answer for the
 *	  last role asked is kept until pg_authid changes);
 *	- the internal queries of foreign-key checks, which run under
 *	  SECURITY_NOFORCE_RLS (InNoForceRLSOperation()), the signal row-level
 *	  security uses to stand aside.
 * And, because they only compare rows the statement itself reached:
 *	- the validation query of ALTER TABLE ... FOREIGN KEY, which runs as the
 *	  current user (is_alter_table_fk_check);
 *	- the internal comparison queries of REFRESH MATERIALIZED VIEW
 *	  CONCURRENTLY (its definition query is checked); see RefreshPhase.
 * And tables recorded in the extension's table tenant_scope_exemptions by
 * gtm_exempt_table() (exemption_recorded, read by relfacts.c; a partition
 * follows its partitioned ancestors).
 *
 * statement_is_exempt() is the one decision the planner hook asks before
 * planning: a statement it exempts is not analysed at all.
 *
 * IDENTIFICATION
 *	  src/exemptions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/table.h"
#include "access/genam.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_exempt_table);
PG_FUNCTION_INFO_V1(gtm_unexempt_table);

#define EXEMPTIONS_TABLE		"tenant_scope_exemptions"

/*
 * The role whose exemption was computed last, and the answer; reset by a
 * pg_authid invalidation (a role gains or loses SUPERUSER or BYPASSRLS).
 */
static Oid	exempt_cache_role = InvalidOid;
static bool exempt_cache_value = false;

static void
exempt_cache_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	exempt_cache_role = InvalidOid;
}

/* Exempt like row-level security: superuser, BYPASSRLS, RI checks. */
bool
role_is_exempt(void)
{
	Oid			role = GetUserId();

	if (InNoForceRLSOperation())
		return true;
	if (role != exempt_cache_role)
	{
		exempt_cache_value = superuser_arg(role) || has_bypassrls_privilege(role);
		exempt_cache_role = role;
	}
	return exempt_cache_value;
}

/*
 * The foreign-key check ALTER TABLE runs when it adds or validates a
 * constraint (RI_Initial_Check, RI_PartitionRemove_Check) runs as the
 * current user, not under SECURITY_NOFORCE_RLS like the per-row checks.
 * Recognise it: during ALTER TABLE, a query whose relations are exactly
 * the "fk" and "pk" aliases that ri_triggers.c writes.
 */
static bool
is_alter_table_fk_check(Query *parse)
{
	ListCell   *lc;
	bool		fk = false;

	if (alter_table_depth == 0 || parse->commandType != CMD_SELECT)
		return false;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION || rte->alias == NULL)
			return false;
		if (strcmp(rte->alias->aliasname, "fk") == 0)
			fk = true;
		else if (strcmp(rte->alias->aliasname, "pk") != 0)
			return false;
	}
	return fk;
}

/*
 * Is the statement about to be planned exempt from the check?  Decided
 * before planning, so that exempt sessions such as migrations and pg_dump
 * skip the analysis.  phase is the REFRESH phase when planning began.
 */
bool
statement_is_exempt(Query *parse, RefreshPhase phase)
{
	return phase == REFRESH_COMPARING || role_is_exempt() ||
		is_alter_table_fk_check(parse);
}

/* Is relid recorded in the extension's exemptions table? */
bool
exemption_recorded(Oid relid)
{
	Oid			nsp = gtm_installed_namespace();
	Oid			tableoid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	bool		found = false;

	if (!OidIsValid(nsp))
		return false;
	tableoid = get_relname_relid(EXEMPTIONS_TABLE, nsp);
	if (!OidIsValid(tableoid))
		return false;

	rel = table_open(tableoid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snap, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

		if (!isnull && DatumGetObjectId(d) == relid)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

enum
{
	Q_EXEMPT,
	Q_UNEXEMPT
};

static const GtmQueryDef query_defs[] = {
	[Q_EXEMPT] = {"INSERT INTO %1$s." EXEMPTIONS_TABLE " (relid) VALUES ($1) ON CONFLICT DO NOTHING",
	1, {OIDOID}},
	[Q_UNEXEMPT] = {"DELETE FROM %1$s." EXEMPTIONS_TABLE " WHERE relid OPERATOR(pg_catalog.=) $1",
	1, {OIDOID}},
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

	gtm_require_arg(fcinfo, 0, "table", NULL);
	relid = PG_GETARG_OID(0);
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

	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	(void) gtm_query_run(&queries, exempt ? Q_EXEMPT : Q_UNEXEMPT, nsp, values,
						 false);
	SPI_finish();

	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
		CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
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

/* Called once from _PG_init (through gtm_enforce_init). */
void
exemptions_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, exempt_cache_inval, (Datum) 0);
}
