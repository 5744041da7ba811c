/*-------------------------------------------------------------------------
 *
 * settings.c
 *	  Tenant settings: system defaults deep-merged with per-tenant
 *	  overrides, validated on every write, patched without lost updates.
 *
 * gtm_jsonb_merge() is RFC 7396 (JSON Merge Patch) on the Jsonb iterator
 * API.  Jsonb stores the keys of an object sorted (by length, then bytes),
 * and its iterator hands them out in that order, so two objects are merged
 * by one sorted walk over both, like the merge step of a merge sort: no
 * lookups, no sort.  Only the keys present in both objects with object
 * values on both sides are descended into; every other value is handed to
 * pushJsonbValue() as it is.
 *
 * The system defaults are rows of settings_defaults: version 0 is the
 * factory defaults written by CREATE EXTENSION, every later version was
 * written by gtm_set_default_settings(), and the highest version is in
 * force.  pg_dump keeps versions above 0 only, so a restore (whose CREATE
 * EXTENSION writes version 0 again) ends with exactly the rows it started
 * with.
 *
 * Overrides are checked by a trigger on tenants, so every path that writes
 * tenants.settings is covered, against the settings schema stored with the
 * defaults in force (settings_schema.c; doc/settings-schema.md).  A
 * database still at 1.0.0 has no schema: there a key must exist in the
 * defaults (at the same depth) with the same JSON type, "timezone" must be
 * an IANA zone name, "defaultScoringVersion" a positive integer.
 * The checks are written once and report a problem instead of raising it,
 * so gtm_invalid_tenant_settings() can list every tenant whose overrides no
 * longer pass after the defaults changed.  They are one pass of the Jsonb
 * iterator over a document (walk_settings), linear in its size, within the
 * limits of a settings document: 1 MB as jsonb and 32 levels of nesting.
 * A time-zone name is checked without loading anything that pg_tzset()
 * would keep for a name we reject (see timezone_problem).
 *
 * IDENTIFICATION
 *	  src/settings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "storage/lmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "gtm_clarity.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(gtm_validate_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_set_default_settings);
PG_FUNCTION_INFO_V1(gtm_check_settings);
PG_FUNCTION_INFO_V1(gtm_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_tenant_setting);
PG_FUNCTION_INFO_V1(gtm_feature_enabled);
PG_FUNCTION_INFO_V1(gtm_update_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_invalid_tenant_settings);

/* ----------------------------------------------------------------
 *		Prepared statements (kept for the life of the backend)
 * ----------------------------------------------------------------
 */

typedef enum SettingsQuery
{
	Q_OVERRIDES,
	Q_PATCH_OVERRIDES,
	Q_ALL_OVERRIDES,
	Q_INSERT_DEFAULTS,
	Q_INSERT_DEFAULTS_1_0,
	NUM_SETTINGS_QUERIES
} SettingsQuery;

static const GtmQueryDef query_defs[NUM_SETTINGS_QUERIES] = {
	[Q_OVERRIDES] = {
		"SELECT settings FROM %1$s.tenants WHERE id = $1",
		1, {TEXTOID}
	},
	[Q_PATCH_OVERRIDES] = {
		/* READ COMMITTED: a concurrent patch is waited for, then built upon */
		"UPDATE %1$s.tenants SET settings = %1$s.gtm_jsonb_merge(settings, $2) "
		"WHERE id = $1 RETURNING settings",
		2, {TEXTOID, JSONBOID}
	},
	[Q_ALL_OVERRIDES] = {
		"SELECT id, settings FROM %1$s.tenants ORDER BY id",
		0, {InvalidOid}
	},
	[Q_INSERT_DEFAULTS_1_0] = {
		/* a database still at 1.0.0 (see settings_defaults.c) */
		"INSERT INTO %1$s.settings_defaults (version, settings) "
		"SELECT pg_catalog.max(version) + 1, $1 FROM %1$s.settings_defaults",
		1, {JSONBOID}
	},
	[Q_INSERT_DEFAULTS] = {
		"INSERT INTO %1$s.settings_defaults (version, settings, schema) "
		"SELECT pg_catalog.max(version) + 1, $1, $2 FROM %1$s.settings_defaults",
		2, {JSONBOID, JSONBOID}
	},
};

static SPIPlanPtr plans[NUM_SETTINGS_QUERIES];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/* Run a prepared statement; returns SPI_processed. */
static inline uint64
run(SettingsQuery q, Oid nsp, Datum *values, bool read_only)
{
	return gtm_query_run(&queries, q, nsp, values, read_only);
}

/* Column col of result row row as jsonb, copied out of SPI memory. */
static Jsonb *
result_jsonb(uint64 row, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, &isnull);

	if (isnull)
		return NULL;
	return DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(DatumGetJsonbP(d)), false, -1));
}

/*
 * Checks the overrides of every tenant against defs and calls found() for
 * each tenant whose overrides do not pass; call between SPI_connect and
 * SPI_finish.  The rows come through a cursor, 1,000 at a time, and each is
 * checked in a memory context that is reset after it, so that memory stays
 * flat however many tenants there are.
 */
typedef void (*OverrideProblemFound) (HeapTuple row, TupleDesc desc,
									  SettingsProblem *p, void *arg);

/*
 * Check every tenant's overrides against defs, reading tenants through a
 * cursor 1,000 rows at a time and each row in a context reset after it;
 * calls found() for each tenant whose overrides have a problem.
 */
static void
check_all_overrides(Oid nsp, bool read_only, Jsonb *defs, Jsonb *schema,
					OverrideProblemFound found, void *arg)
{
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext,
												 "gtm_clarity overrides check",
												 ALLOCSET_DEFAULT_SIZES);
	Portal		portal;

	portal = SPI_cursor_open(NULL, gtm_query_plan(&queries, Q_ALL_OVERRIDES, nsp),
							 NULL, NULL, read_only);
	for (;;)
	{
		SPITupleTable *rows;
		uint64		nrows;

		SPI_cursor_fetch(portal, true, 1000);
		rows = SPI_tuptable;
		nrows = SPI_processed;
		if (nrows == 0)
			break;
		for (uint64 i = 0; i < nrows; i++)
		{
			bool		isnull;
			Datum		over = SPI_getbinval(rows->vals[i], rows->tupdesc, 2, &isnull);
			MemoryContext old;
			SettingsProblem *p;

			CHECK_FOR_INTERRUPTS();
			if (isnull)
				continue;
			old = MemoryContextSwitchTo(rowcxt);
			p = tenant_settings_problem(DatumGetJsonbP(over), defs, schema);
			if (p != NULL)
				found(rows->vals[i], rows->tupdesc, p, arg);
			MemoryContextSwitchTo(old);
			MemoryContextReset(rowcxt);
		}
		SPI_freetuptable(rows);
	}
	SPI_cursor_close(portal);
	MemoryContextDelete(rowcxt);
}

static void
tenant_not_found(const char *tenant_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("tenant %s does not exist", quoted(tenant_id, -1))));
}

static char *
arg_tenant_id(FunctionCallInfo fcinfo)
{
	gtm_require_arg(fcinfo, 0, "tenant_id", NULL);
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/* Defaults merged with the stored overrides of one tenant. */
static Jsonb *
effective_settings(Oid nsp, const char *tenant_id)
{
	Datum		args[1];
	Jsonb	   *defs;
	Jsonb	   *over;

	if ((defs = effective_settings_fast(nsp, tenant_id)) != NULL)
		return defs;
	args[0] = CStringGetTextDatum(tenant_id);
	SPI_connect();
	defs = current_defaults(nsp, NULL);
	if (run(Q_OVERRIDES, nsp, args, true) != 1)
		tenant_not_found(tenant_id);
	over = result_jsonb(0, 1);
	SPI_finish();
	return over ? jsonb_merge_patch(defs, over) : defs;
}

/* ----------------------------------------------------------------
 *		SQL functions
 * ----------------------------------------------------------------
 */

/*
 * AFTER INSERT OR UPDATE ON tenants FOR EACH ROW (1.1.0; 1.0.0 fired it
 * BEFORE INSERT OR UPDATE OF settings, which a BEFORE trigger of the
 * table's owner firing later, or on an UPDATE that does not name settings,
 * could get past by writing settings itself: an AFTER trigger sees the row
 * as stored).  The return value counts only when fired BEFORE.
 *
 * Every write that changes settings is checked against the defaults in
 * force, with one exception: a superuser inserting a row whose updated_at
 * is older than the transaction, which is what pg_restore does when it
 * loads tenants back.  Such a row passed when it was written; if it no
 * longer does, gtm_invalid_tenant_settings() lists it (a superuser can
 * disable the trigger anyway, so this opens nothing).
 */
Datum
gtm_validate_tenant_settings(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	newtup;
	int			attnum;
	Datum		newval;
	Jsonb	   *newjb;
	bool		isnull;
	Oid			nsp;
	Oid			defaults_relid;
	Jsonb	   *defs;
	Jsonb	   *schema;
	SettingsProblem *p;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_validate_tenant_settings() was not called by the trigger manager")));
	if (TRIGGER_FIRED_INSTEAD(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!(TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		  TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event)))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_validate_tenant_settings() must be fired AFTER INSERT OR UPDATE FOR EACH ROW")));

	tupdesc = trigdata->tg_relation->rd_att;
	newtup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	attnum = SPI_fnumber(tupdesc, "settings");
	if (attnum <= 0 || SPI_gettypeid(tupdesc, attnum) != JSONBOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation \"%s\" has no jsonb column \"settings\"",
						RelationGetRelationName(trigdata->tg_relation))));

	newval = SPI_getbinval(newtup, tupdesc, attnum, &isnull);
	if (isnull)
		return PointerGetDatum(newtup);	/* NOT NULL says the rest */

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		bool		oldnull;
		Datum		oldval = SPI_getbinval(trigdata->tg_trigtuple, tupdesc, attnum, &oldnull);

		if (!oldnull && datum_image_eq(oldval, newval, false, -1))
			return PointerGetDatum(newtup); /* settings unchanged */
	}
	else if (superuser())
	{
		int			upd = SPI_fnumber(tupdesc, "updated_at");
		bool		updnull;
		Datum		updated;

		if (upd > 0 && SPI_gettypeid(tupdesc, upd) == TIMESTAMPTZOID)
		{
			updated = SPI_getbinval(newtup, tupdesc, upd, &updnull);
			if (!updnull &&
				DatumGetTimestampTz(updated) < GetCurrentTransactionStartTimestamp())
				return PointerGetDatum(newtup); /* a row being restored */
		}
	}

	/* Not an object: constraint tenants_settings_check reports that. */
	newjb = DatumGetJsonbP(newval);
	if (!gtm_jsonb_is_object(newjb))
		return PointerGetDatum(newtup);

	/*
	 * Keep the defaults from changing until this transaction ends, so that
	 * what is checked now is what is in force at commit.
	 */
	nsp = gtm_extension_namespace(fcinfo);
	defaults_relid = gtm_extension_relid("settings_defaults", nsp);
	LockRelationOid(defaults_relid, RowShareLock);

	SPI_connect();
	defs = current_defaults(nsp, &schema);
	SPI_finish();

	if ((p = tenant_settings_problem(newjb, defs, schema)) != NULL)
		report_problem(p);
	return PointerGetDatum(newtup);
}

static void
count_problem(HeapTuple row, TupleDesc desc, SettingsProblem *p, void *arg)
{
	(*(int64 *) arg)++;
}

/*
 * gtm_set_default_settings(settings jsonb, schema jsonb DEFAULT NULL)
 *	 RETURNS jsonb
 *
 * Writes a new version of the defaults with their schema and returns the
 * defaults.  Without a schema, the defaults describe themselves as in 1.0.0
 * (settings_schema_from_defaults: their keys, of their types); to keep the
 * schema in force, pass gtm_settings_schema().  An invalid schema, and
 * defaults that do not pass theirs, are refused.  Tenants
 * whose overrides no longer pass are kept as they are and counted in a
 * WARNING.
 */
Datum
gtm_set_default_settings(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Jsonb	   *defs;
	Jsonb	   *schema = NULL;
	SettingsProblem *p;
	Datum		args[2];
	Oid			defaults_relid;
	int64		ninvalid = 0;

	gtm_require_arg(fcinfo, 0, "default settings", NULL);
	defs = PG_GETARG_JSONB_P(0);
	if (!gtm_jsonb_is_object(defs))
		report_problem(root_not_object_problem(defs, "default settings", NULL));
	/* the rules of defaults and the limits first: the schema walks recurse */
	if ((p = default_settings_problem(defs, NULL)) != NULL)
		report_problem(p);
	if (PG_NARGS() > 1 && !PG_ARGISNULL(1))
	{
		schema = PG_GETARG_JSONB_P(1);
		if ((p = settings_schema_problem(schema)) != NULL)
			report_problem(p);
		if ((p = default_settings_problem(defs, schema)) != NULL)
			report_problem(p);
	}
	else
		schema = settings_schema_from_defaults(defs);	/* as 1.0.0 */

	/* One writer at a time; waits for transactions that checked tenants. */
	defaults_relid = gtm_extension_relid("settings_defaults", nsp);
	LockRelationOid(defaults_relid, ExclusiveLock);

	SPI_connect();
	args[0] = JsonbPGetDatum(defs);
	args[1] = JsonbPGetDatum(schema);
	run(defaults_have_schema(defaults_relid) ? Q_INSERT_DEFAULTS : Q_INSERT_DEFAULTS_1_0,
		nsp, args, false);
	defs = current_defaults(nsp, &schema);
	check_all_overrides(nsp, false, defs, schema, count_problem, &ninvalid);
	SPI_finish();

	if (ninvalid > 0)
		ereport(WARNING,
				(errcode(ERRCODE_WARNING),
				 errmsg_plural("the overrides of %lld tenant no longer pass validation",
							   "the overrides of %lld tenants no longer pass validation",
							   ninvalid, (long long) ninvalid),
				 errdetail("gtm_tenant_settings() still merges them, but changing those tenants' settings fails until they are fixed."),
				 errhint("List them with SELECT * FROM gtm_invalid_tenant_settings().")));

	PG_RETURN_JSONB_P(defs);
}

/*
 * gtm_check_settings(overrides jsonb) RETURNS jsonb
 *
 * The overrides given, if a tenant could store them under the defaults and
 * schema in force; else the error such a write would raise.  Nothing is
 * written.
 */
Datum
gtm_check_settings(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Jsonb	   *over;
	Jsonb	   *defs;
	Jsonb	   *schema;
	SettingsProblem *p;

	gtm_require_arg(fcinfo, 0, "overrides", "Pass '{}' for no overrides.");
	over = PG_GETARG_JSONB_P(0);
	SPI_connect();
	defs = current_defaults(nsp, &schema);
	SPI_finish();
	if ((p = tenant_settings_problem(over, defs, schema)) != NULL)
		report_problem(p);
	PG_RETURN_JSONB_P(over);
}

/*
 * gtm_tenant_settings(tenant_id text) RETURNS jsonb
 */
Datum
gtm_tenant_settings(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_tenant_id(fcinfo);

	statement_scope_reach(tenant_id, "\"tenants\" (through gtm_tenant_settings())", false);
	PG_RETURN_JSONB_P(effective_settings(gtm_extension_namespace(fcinfo), tenant_id));
}

/* The first n elements of a path array, dotted: "features.writeback". */
static char *
path_text(Datum *elems, int n)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
	{
		text	   *t = DatumGetTextPP(elems[i]);

		if (i > 0)
			appendStringInfoChar(&buf, '.');
		appendBinaryStringInfo(&buf, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	return buf.data;
}

static void
unknown_path(JsonbContainer *object, Datum *elems, int i, const char *key)
{
	char	   *near = nearest_key(object, key, strlen(key));
	char	   *parent = i > 0 ? path_text(elems, i) : NULL;

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown tenant setting %s", quoted(path_text(elems, i + 1), -1)),
			 near == NULL ? 0 :
			 errhint("Did you mean %s?",
					 parent == NULL ? quoted(near, -1) :
					 quoted(psprintf("%s.%s", parent, near), -1))));
}

/*
 * gtm_tenant_setting(tenant_id text, path text[]) RETURNS jsonb
 *
 * One value of the effective settings; an unknown path is an error (with a
 * suggestion), not NULL, so a typo does not pass for "not set".
 */
Datum
gtm_tenant_setting(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_tenant_id(fcinfo);
	ArrayType  *patharr;
	Datum	   *elems;
	bool	   *nulls;
	int			nelems;
	Jsonb	   *eff;
	JsonbValue	v;

	statement_scope_reach(tenant_id, "\"tenants\" (through gtm_tenant_setting())", false);

	gtm_require_arg(fcinfo, 1, "path", NULL);
	patharr = PG_GETARG_ARRAYTYPE_P(1);
	if (ARR_NDIM(patharr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("path must be a one-dimensional array")));
	deconstruct_array(patharr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &nelems);

	eff = effective_settings(gtm_extension_namespace(fcinfo), tenant_id);
	v.type = jbvBinary;
	v.val.binary.data = &eff->root;
	v.val.binary.len = VARSIZE(eff) - VARHDRSZ;

	for (int i = 0; i < nelems; i++)
	{
		char	   *key;
		JsonbContainer *object;

		CHECK_FOR_INTERRUPTS();
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("path element %d is null", i + 1)));
		key = TextDatumGetCString(elems[i]);
		if (!IS_OBJECT_VALUE(&v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tenant setting %s is a JSON %s, not an object",
							quoted(path_text(elems, i), -1), JsonbTypeName(&v)),
					 errdetail("So it has no %s.", quoted(key, -1))));
		object = v.val.binary.data;
		if (getKeyJsonValueFromContainer(object, key, strlen(key), &v) == NULL)
			unknown_path(object, elems, i, key);
		pfree(key);
	}
	if (v.type == jbvBinary && v.val.binary.data == &eff->root)
		PG_RETURN_JSONB_P(eff);
	PG_RETURN_JSONB_P(JsonbValueToJsonb(&v));
}

/*
 * gtm_feature_enabled(tenant_id text, feature text) RETURNS boolean
 */
Datum
gtm_feature_enabled(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_tenant_id(fcinfo);
	char	   *feature;
	Jsonb	   *eff;
	JsonbValue	features;
	JsonbValue	v;

	statement_scope_reach(tenant_id, "\"tenants\" (through gtm_feature_enabled())", false);

	gtm_require_arg(fcinfo, 1, "feature", NULL);
	feature = text_to_cstring(PG_GETARG_TEXT_PP(1));
	eff = effective_settings(gtm_extension_namespace(fcinfo), tenant_id);

	if (getKeyJsonValueFromContainer(&eff->root, "features", strlen("features"), &features) == NULL ||
		!IS_OBJECT_VALUE(&features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the settings of tenant %s have no \"features\" object",
						quoted(tenant_id, -1)),
				 errhint("Check gtm_default_settings() and SELECT * FROM gtm_invalid_tenant_settings().")));
	if (getKeyJsonValueFromContainer(features.val.binary.data, feature, strlen(feature), &v) == NULL)
	{
		char	   *near = nearest_key(features.val.binary.data, feature, strlen(feature));

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown feature %s", quoted(feature, -1)),
				 errdetail("The features are the keys of \"features\" in gtm_default_settings()."),
				 near ? errhint("Did you mean %s?", quoted(near, -1)) : 0));
	}
	if (v.type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature %s of tenant %s is a JSON %s, not a boolean",
						quoted(feature, -1), quoted(tenant_id, -1), JsonbTypeName(&v)),
				 errhint("Check SELECT * FROM gtm_invalid_tenant_settings().")));
	PG_RETURN_BOOL(v.val.boolean);
}

/*
 * gtm_update_tenant_settings(tenant_id text, patch jsonb) RETURNS jsonb
 *
 * Merges patch into the stored overrides (a null removes an override, so
 * the default applies again) in one UPDATE: under READ COMMITTED a
 * concurrent patch of the same tenant is waited for and the merge is
 * re-applied to its result, so neither is lost.  The trigger validates
 * the result and bumps updated_at.  Returns the effective settings.
 */
Datum
gtm_update_tenant_settings(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_tenant_id(fcinfo);
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Jsonb	   *patch;
	Jsonb	   *over;
	Jsonb	   *defs;
	Datum		args[2];

	statement_scope_reach(tenant_id, "\"tenants\" (through gtm_update_tenant_settings())", true);

	gtm_require_arg(fcinfo, 1, "patch", "Pass '{}' to change nothing.");
	patch = PG_GETARG_JSONB_P(1);
	if (!gtm_jsonb_is_object(patch))
		report_problem(root_not_object_problem(patch, "settings patch",
											   "A patch is an object of the settings to change; null as a value restores the default."));

	args[0] = CStringGetTextDatum(tenant_id);
	args[1] = JsonbPGetDatum(patch);
	SPI_connect();
	if (run(Q_PATCH_OVERRIDES, nsp, args, false) != 1)
		tenant_not_found(tenant_id);
	over = result_jsonb(0, 1);
	defs = current_defaults(nsp, NULL);
	SPI_finish();

	PG_RETURN_JSONB_P(jsonb_merge_patch(defs, over));
}

/*
 * gtm_invalid_tenant_settings()
 *	 RETURNS TABLE (tenant_id text, message text, detail text, hint text)
 *
 * The tenants whose stored overrides do not pass against the defaults in
 * force, with the error a write of them would raise.
 */
/* Called in a memory context reset after each row; the tuplestore copies. */
static void
list_problem(HeapTuple row, TupleDesc desc, SettingsProblem *p, void *arg)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = CStringGetTextDatum(SPI_getvalue(row, desc, 1));
	values[1] = CStringGetTextDatum(p->message);
	nulls[2] = (p->detail == NULL);
	values[2] = p->detail ? CStringGetTextDatum(p->detail) : (Datum) 0;
	nulls[3] = (p->hint == NULL);
	values[3] = p->hint ? CStringGetTextDatum(p->hint) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

Datum
gtm_invalid_tenant_settings(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Jsonb	   *defs;
	Jsonb	   *schema;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	defs = current_defaults(nsp, &schema);
	check_all_overrides(nsp, true, defs, schema, list_problem, fcinfo->resultinfo);
	SPI_finish();
	return (Datum) 0;
}
