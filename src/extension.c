/*-------------------------------------------------------------------------
 *
 * extension.c
 *	  The extension's own objects, as every capability reaches them.
 *
 * Shared by provisioning, settings and enforcement:
 *	- the extension's schema: from the function being called
 *	  (gtm_extension_namespace), or from pg_extension when no function of
 *	  ours is running (gtm_installed_namespace, for the planner hooks);
 *	- whether the extension is installed in this database at all
 *	  (gtm_installed_here): the library is preloaded server-wide, but its
 *	  rules apply only in databases that ran CREATE EXTENSION gtm_clarity;
 *	- the extension's relations, with the reinstall hint when one is missing
 *	  (gtm_extension_relid);
 *	- the argument checks every SQL-callable function makes
 *	  (gtm_require_arg, gtm_jsonb_is_object) and the quoting of a value in
 *	  an error message (gtm_msg_value);
 *	- prepared SPI statements on the extension's tables (GtmQuerySet).
 *
 * Each capability keeps its statements in a GtmQuerySet: SQL texts in which
 * %1$s stands for the quoted schema of the extension.  A statement is
 * prepared on first use and kept for the life of the backend; the plan
 * cache revalidates it when the tables change.  The schema is taken from
 * the calling function, so a set whose schema changes (the extension
 * dropped and created elsewhere) is prepared again.
 *
 * It also holds gtm_msg_value(), which every capability uses to quote a
 * value in an error message: an input of any length gives a message of
 * bounded length.
 *
 * IDENTIFICATION
 *	  src/extension.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/indexing.h"
#include "catalog/pg_extension.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/jsonb.h"
#include "utils/plancache.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "gtm_clarity.h"

/* Call between SPI_connect and SPI_finish. */
SPIPlanPtr
gtm_query_plan(GtmQuerySet *set, int q, Oid nsp)
{
	Assert(q >= 0 && q < set->count);

	if (nsp != set->nsp)
	{
		for (int i = 0; i < set->count; i++)
		{
			if (set->plans[i])
				SPI_freeplan(set->plans[i]);
			set->plans[i] = NULL;
		}
		set->nsp = nsp;
	}
	if (set->plans[q] == NULL)
	{
		const GtmQueryDef *def = &set->defs[q];
		char	   *nspname = get_namespace_name(nsp);
		char	   *sql;
		SPIPlanPtr	plan;

		if (nspname == NULL)
			elog(ERROR, "cache lookup failed for namespace %u", nsp);
		sql = psprintf(def->sql, quote_identifier(nspname));
		plan = SPI_prepare(sql, def->nargs, (Oid *) def->argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed for \"%s\": %s",
				 sql, SPI_result_code_string(SPI_result));
		if (SPI_keepplan(plan) != 0)
			elog(ERROR, "SPI_keepplan failed");
		set->plans[q] = plan;
	}
	return set->plans[q];
}

/* Run statement q of set; returns SPI_processed. */
uint64
gtm_query_run(GtmQuerySet *set, int q, Oid nsp, Datum *values, bool read_only)
{
	int			rc;

	rc = SPI_execute_plan(gtm_query_plan(set, q, nsp), values, NULL, read_only, 0);
	if (rc < 0)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/*
 * The first row of the last statement run, which the caller read back
 * after a write or a lock (the row it inserted, found, or locked): none
 * means another transaction deleted it meanwhile (a concurrent removal of
 * the member or the tenant, which takes no lock this one holds).  The
 * call is refused with serialization_failure, to be retried; reading row 0
 * of an empty result would read memory SPI never filled.
 */
HeapTuple
gtm_query_first_row(const char *what)
{
	if (SPI_tuptable == NULL || SPI_processed < 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("%s was deleted concurrently", what),
				 errhint("Retry the call.")));
	return SPI_tuptable->vals[0];
}

/*
 * Run statement q of set with a snapshot taken now, not the statement's:
 * after the caller has acquired a lock, it sees every transaction that
 * committed while the caller waited, at any isolation level (as the
 * foreign-key triggers do for the same reason).  At most tcount rows
 * (0: all); returns SPI_processed.
 */
uint64
gtm_query_run_latest(GtmQuerySet *set, int q, Oid nsp, Datum *values,
					 bool read_only, long tcount)
{
	int			rc;

	rc = SPI_execute_snapshot(gtm_query_plan(set, q, nsp), values, NULL,
							  GetLatestSnapshot(), InvalidSnapshot,
							  read_only, false, tcount);
	if (rc < 0)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	return SPI_processed;
}

/* The extension's schema: that of the function being called. */
Oid
gtm_extension_namespace(FunctionCallInfo fcinfo)
{
	return get_func_namespace(fcinfo->flinfo->fn_oid);
}

/*
 * The schema gtm_clarity is installed in, from pg_extension, or InvalidOid
 * when it is not installed in this database.  (PostgreSQL's own lookup,
 * get_extension_schema, is static in commands/extension.c.)  Kept like the
 * answer of gtm_installed_here() below (ALTER EXTENSION ... SET SCHEMA moves
 * the extension's functions, a pg_proc change too), and stored only when no
 * such invalidation arrived during the lookup.
 */
static bool nsp_known GTM_HOT_DATA = false;
static Oid	nsp_value GTM_HOT_DATA = InvalidOid;
static uint64 extension_invals GTM_HOT_DATA = 0;

/*
 * The schema of the extension from its pg_extension row, found by name;
 * InvalidOid when it is not installed in this database.
 */
static Oid
lookup_installed_namespace(void)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_extname, BTEqualStrategyNumber,
				F_NAMEEQ, CStringGetDatum("gtm_clarity"));

	/*
	 * A heap scan: pg_extension holds a handful of rows, and its index's
	 * relcache entry, which an index scan builds first, is most of the cost
	 * of a backend's first statement here.
	 */
	scan = systable_beginscan(rel, ExtensionNameIndexId, false, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

Oid
gtm_installed_namespace(void)
{
	uint64		invals = extension_invals;
	Oid			nsp;

	if (nsp_known)
		return nsp_value;
	nsp = lookup_installed_namespace();
	if (invals == extension_invals)
	{
		nsp_value = nsp;
		nsp_known = true;
	}
	return nsp;
}

/*
 * Is the extension installed in the database of this backend?  The answer
 * is kept until pg_proc changes: CREATE EXTENSION and DROP EXTENSION create
 * and drop the extension's functions, and every such change (committed by
 * another backend, or by this one, also rolled back) sends a pg_proc
 * invalidation, which clears it.  The lookup may itself process such an
 * invalidation (opening pg_extension accepts them), so the answer is stored
 * only after it.
 */
static bool installed_known GTM_HOT_DATA = false;
static bool installed_value GTM_HOT_DATA = false;

/*
 * Has the extension been found installed in this session's database?
 * Stays true when an invalidation makes installed_known false, so that
 * gtm_installed_known_here() cannot be turned off by one.
 */
static bool installed_seen GTM_HOT_DATA = false;

static void
installed_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	/*
	 * Not installed when last asked: the change may be CREATE EXTENSION,
	 * and the plans this backend keeps (prepared statements, PL/pgSQL) were
	 * made unchecked: they are planned again.  (Marking plans invalid needs
	 * no catalog access.  Installed: plans made with the check stay, at
	 * worst stricter than needed after DROP EXTENSION.)
	 */
	if (installed_known && !installed_value)
		ResetPlanCache();
	installed_known = false;
	nsp_known = false;
	extension_invals++;
}

bool
gtm_installed_here(void)
{
	bool		value;

	if (installed_known)
		return installed_value;
	if (!IsTransactionState() || !OidIsValid(MyDatabaseId))
		return false;			/* no catalog to ask: nothing to check */
	value = OidIsValid(gtm_installed_namespace());
	installed_value = value;
	installed_known = true;
	if (value)
		installed_seen = true;
	return value;
}

/*
 * Has the extension been found installed here in this session (no catalog
 * access: for hooks that may not read the catalogs)?
 */
bool
gtm_installed_known_here(void)
{
	return installed_seen;
}

/* Called once from _PG_init. */
void
gtm_extension_init(void)
{
	CacheRegisterSyscacheCallback(PROCOID, installed_inval, (Datum) 0);
}

/*
 * The OID of relation relname of the extension (schema nsp); a missing one
 * (dropped by hand) is reported with the reinstall hint, 42P01.
 */
Oid
gtm_extension_relid(const char *relname, Oid nsp)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" of extension gtm_clarity does not exist", relname),
				 errhint("Reinstall the extension: DROP EXTENSION gtm_clarity; CREATE EXTENSION gtm_clarity;")));
	return relid;
}

/* Is j a JSON object (not an array, not a scalar)? */
bool
gtm_jsonb_is_object(Jsonb *j)
{
	return JB_ROOT_IS_OBJECT(j) && !JB_ROOT_IS_SCALAR(j);
}

/*
 * Raise the documented error for a NULL argument argno: "<argname> must
 * not be null" (22004), with hint when not NULL.
 */
void
gtm_require_arg(FunctionCallInfo fcinfo, int argno, const char *argname,
				const char *hint)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname),
				 hint ? errhint("%s", hint) : 0));
}

/*
 * A value for an error message: s (len bytes, or up to its NUL when len is
 * negative) in double quotes when quote is set, as it is when it has at
 * most GTM_MSG_VALUE_CHARS characters; else its first GTM_MSG_VALUE_CHARS - 4
 * characters, "..." and its length in characters:
 *
 *		"org_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa..." (1048576 characters)
 *
 * so that a rejected input of any size writes a message of bounded size to
 * the client and the server log.  s must be valid in the server encoding.
 */
char *
gtm_msg_value(const char *s, int len, bool quote)
{
	StringInfoData buf;
	int			nchars;
	const char *q = quote ? "\"" : "";

	if (len < 0)
		len = strlen(s);
	nchars = len <= GTM_MSG_VALUE_CHARS ? len : pg_mbstrlen_with_len(s, len);
	initStringInfo(&buf);
	if (nchars <= GTM_MSG_VALUE_CHARS)
		appendStringInfo(&buf, "%s%.*s%s", q, len, s, q);
	else
		appendStringInfo(&buf, "%s%.*s...%s (%d characters)", q,
						 pg_mbcharcliplen(s, len, GTM_MSG_VALUE_CHARS - 4), s,
						 q, nchars);
	return buf.data;
}
