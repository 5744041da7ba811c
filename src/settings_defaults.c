/*-------------------------------------------------------------------------
 *
 * settings_defaults.c
 *	  The system defaults in force and their schema, kept per backend, and
 *	  the triggers of settings_defaults.
 *
 * Every read of a tenant's settings needs the defaults in force (the row of
 * settings_defaults with the highest version) and every write their schema.
 * Reading them is one query; keeping them saves it on all but the first
 * read of a backend.  A statement trigger on settings_defaults sends a
 * relcache invalidation of the table at every change (whatever writes it:
 * gtm_set_default_settings, a superuser's INSERT, a restore), and the
 * relcache callback drops what is kept, in this backend at once and in
 * every other when the change commits (and here again when it aborts).
 * What is kept is read with the latest snapshot, like a catalog: an
 * invalidation is sent after a commit becomes visible, so a reader either
 * sees the change or is told about it later.  A load during which an
 * invalidation arrived is not kept (load_generation).
 *
 * The row trigger gives a row without a schema the schema equivalent to the
 * rules of 1.0.0 for its defaults (a row of a dump taken at 1.0.0), and
 * refuses a schema that is itself invalid or defaults that do not pass it,
 * whatever path writes the row.
 *
 * IDENTIFICATION
 *	  src/settings_defaults.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/datum.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"

#include "gtm_clarity.h"
#include "provision.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(gtm_settings_defaults_row);
PG_FUNCTION_INFO_V1(gtm_settings_defaults_changed);

/* ----------------------------------------------------------------
 *		The defaults in force, kept
 * ----------------------------------------------------------------
 */
static MemoryContext defaults_cxt = NULL;
static Oid	kept_nsp = InvalidOid;	/* valid while something is kept */
static Oid	kept_relid = InvalidOid;
static Jsonb *kept_defaults = NULL;
static Jsonb *kept_schema = NULL;
static uint64 defaults_generation = 0;	/* bumped by every invalidation */

/*
 * The second query serves a database still at 1.0.0 (no schema column)
 * between the installation of this library and ALTER EXTENSION UPDATE:
 * the 1.0.0 rules apply there (tenant_settings_problem without a schema).
 */
static const GtmQueryDef query_defs[] = {
	{
		"SELECT settings, schema FROM %1$s.settings_defaults ORDER BY version DESC LIMIT 1",
		0, {InvalidOid}
	},
	{
		"SELECT settings, NULL::jsonb FROM %1$s.settings_defaults ORDER BY version DESC LIMIT 1",
		0, {InvalidOid}
	},
};
static SPIPlanPtr plans[lengthof(query_defs)];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

static void
forget_defaults(void)
{
	kept_nsp = InvalidOid;
	kept_defaults = NULL;
	kept_schema = NULL;
	if (defaults_cxt != NULL)
		MemoryContextReset(defaults_cxt);
}

static void
defaults_inval(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == kept_relid)
	{
		defaults_generation++;
		forget_defaults();
	}
}

void
gtm_settings_init(void)
{
	CacheRegisterRelcacheCallback(defaults_inval, (Datum) 0);
}

/* Has settings_defaults (relid) the schema column of 1.1.0? */
bool
defaults_have_schema(Oid relid)
{
	return get_attnum(relid, "schema") != InvalidAttrNumber;
}

/* Column col of row as jsonb, copied into the current memory context. */
static Jsonb *
copy_jsonb(HeapTuple row, TupleDesc desc, int col)
{
	bool		isnull;
	Datum		d = SPI_getbinval(row, desc, col, &isnull);

	if (isnull)
		return NULL;
	return DatumGetJsonbP(datumCopy(PointerGetDatum(DatumGetJsonbP(d)), false, -1));
}

/*
 * The defaults in force (and, in *schema, their schema; NULL before the
 * upgrade to 1.1.0 has run) for the extension in schema nsp, copied into
 * the caller's memory context; call between SPI_connect and SPI_finish.
 */
Jsonb *
current_defaults(Oid nsp, Jsonb **schema)
{
	uint64		generation;
	Oid			relid;
	HeapTuple	row;
	TupleDesc	desc;
	Jsonb	   *defs;
	Jsonb	   *sch;
	MemoryContext old;
	bool		has_schema;

	/*
	 * A change committed since is seen by this statement: a transaction
	 * that already holds its lock on settings_defaults takes no new lock,
	 * which would bring the invalidation in.
	 */
	AcceptInvalidationMessages();
	generation = defaults_generation;
	if (!(OidIsValid(kept_nsp) && kept_nsp == nsp))
	{
		/* what was kept (of another schema of the extension) goes */
		forget_defaults();
		generation = ++defaults_generation;
		relid = gtm_extension_relid("settings_defaults", nsp);
		has_schema = defaults_have_schema(relid);
		if (gtm_query_run_latest(&queries, has_schema ? 0 : 1, nsp, NULL, true, 1) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the system default settings are missing"),
					 errdetail("Table settings_defaults has no rows."),
					 errhint("Set them with gtm_set_default_settings().")));
		row = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
		if (defaults_cxt == NULL)
			defaults_cxt = AllocSetContextCreate(TopMemoryContext, "gtm_clarity defaults",
												 ALLOCSET_SMALL_SIZES);
		old = MemoryContextSwitchTo(defaults_cxt);
		defs = copy_jsonb(row, desc, 1);
		sch = copy_jsonb(row, desc, 2);
		MemoryContextSwitchTo(old);
		SPI_freetuptable(SPI_tuptable);

		/*
		 * The stored schema is trusted by every check; one written with the
		 * table's triggers off (session_replication_role = replica, a
		 * restore with --disable-triggers) is checked here, once per load.
		 */
		if (sch != NULL)
		{
			SettingsProblem *p = settings_schema_problem(sch);

			if (p != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("the settings schema in force is invalid: %s", p->message),
						 p->detail ? errdetail_internal("%s", p->detail) : 0,
						 errhint("It was written with the triggers of settings_defaults off; set a valid one with gtm_set_default_settings().")));
		}
		if (generation != defaults_generation || !has_schema)
		{
			/*
			 * Invalidated while reading, or a database still at 1.0.0, whose
			 * table has no trigger to tell of changes: hand out what was
			 * read, keep nothing.
			 */
			defs = DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(defs), false, -1));
			if (sch)
				sch = DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(sch), false, -1));
			if (schema)
				*schema = sch;
			MemoryContextReset(defaults_cxt);
			return defs;
		}
		kept_defaults = defs;
		kept_schema = sch;
		kept_relid = relid;
		kept_nsp = nsp;
	}

	/* copies in the caller's context: an invalidation may come any time */
	if (schema)
		*schema = kept_schema ?
			DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(kept_schema), false, -1)) : NULL;
	return DatumGetJsonbP(SPI_datumTransfer(PointerGetDatum(kept_defaults), false, -1));
}

/* ----------------------------------------------------------------
 *		Triggers of settings_defaults
 * ----------------------------------------------------------------
 */

/*
 * BEFORE INSERT OR UPDATE ON settings_defaults FOR EACH ROW: a row without
 * a schema gets the one equivalent to the 1.0.0 rules for its defaults; the
 * schema must be valid and the defaults must pass it.
 */
Datum
gtm_settings_defaults_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	HeapTuple	tup;
	int			setcol,
				schcol;
	bool		isnull;
	Datum		d;
	Jsonb	   *defs;
	Jsonb	   *schema;
	SettingsProblem *p;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_settings_defaults_row() must be fired BEFORE INSERT OR UPDATE FOR EACH ROW")));
	tupdesc = trigdata->tg_relation->rd_att;
	tup = TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event) ?
		trigdata->tg_newtuple : trigdata->tg_trigtuple;
	setcol = SPI_fnumber(tupdesc, "settings");
	schcol = SPI_fnumber(tupdesc, "schema");
	if (setcol <= 0 || schcol <= 0 ||
		SPI_gettypeid(tupdesc, setcol) != JSONBOID || SPI_gettypeid(tupdesc, schcol) != JSONBOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation \"%s\" has no jsonb columns \"settings\" and \"schema\"",
						RelationGetRelationName(trigdata->tg_relation))));

	d = SPI_getbinval(tup, tupdesc, setcol, &isnull);
	if (isnull)
		return PointerGetDatum(tup);	/* NOT NULL says the rest */
	defs = DatumGetJsonbP(d);
	if (!gtm_jsonb_is_object(defs))
		report_problem(root_not_object_problem(defs, "default settings", NULL));

	/* the rules of defaults and the limits first: the schema walks recurse */
	if ((p = default_settings_problem(defs, NULL)) != NULL)
		report_problem(p);
	d = SPI_getbinval(tup, tupdesc, schcol, &isnull);
	if (isnull)
	{
		Datum		value;
		bool		null = false;

		schema = settings_schema_from_defaults(defs);
		value = JsonbPGetDatum(schema);
		tup = heap_modify_tuple_by_cols(tup, tupdesc, 1, &schcol, &value, &null);
	}
	else
	{
		schema = DatumGetJsonbP(d);
		if ((p = settings_schema_problem(schema)) != NULL)
			report_problem(p);
	}
	if ((p = default_settings_problem(defs, schema)) != NULL)
		report_problem(p);
	return PointerGetDatum(tup);
}

/*
 * AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON settings_defaults FOR
 * EACH STATEMENT: every backend forgets the defaults it keeps.  A direct
 * write of the table (a superuser's INSERT of a version, the DELETE of the
 * newest one) takes the EXCLUSIVE lock gtm_set_default_settings takes, so
 * that it too waits for the transactions that validated a tenant's
 * settings against the defaults in force (ROW SHARE, settings.c) and
 * commits after them (round BQ).
 */
Datum
gtm_settings_defaults_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_STATEMENT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_settings_defaults_changed() must be fired AFTER ... FOR EACH STATEMENT")));
	LockRelationOid(RelationGetRelid(trigdata->tg_relation), ExclusiveLock);
	CacheInvalidateRelcache(trigdata->tg_relation);
	return PointerGetDatum(NULL);
}

/* ----------------------------------------------------------------
 *		The effective settings of a tenant at request speed
 *
 * A request reads its tenant's settings again and again.  The fast path is
 * one probe of tenants_pkey (index_probe: no SPI, plan or executor) under
 * the statement's snapshot, and the last tenant's merged settings are kept
 * with the bytes of the overrides and the generation of the defaults they
 * were merged from: while both are unchanged, the merge is not redone.
 * It is taken only where it reads what the SQL query would: the caller
 * holds SELECT on the whole of tenants, which has no row-level security,
 * and the database has the 1.1.0 objects (the defaults are kept).
 * Otherwise effective_settings_fast returns NULL and the caller runs the
 * query.
 * ----------------------------------------------------------------
 */
static MemoryContext effective_cxt = NULL;
static char *last_tenant = NULL;
static Jsonb *last_overrides = NULL;
static Jsonb *last_effective = NULL;
static uint64 last_generation = 0;

static Jsonb *
copy_out(Jsonb *j)
{
	Jsonb	   *c = palloc(VARSIZE(j));

	memcpy(c, j, VARSIZE(j));
	return c;
}

Jsonb *
effective_settings_fast(Oid nsp, const char *tenant_id)
{
	Oid			relid = gtm_extension_relid("tenants", nsp);
	Datum		key;
	Datum		value;
	bool		isnull;
	Jsonb	   *over;
	Jsonb	   *merged;
	MemoryContext old;

	if (pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) != ACLCHECK_OK ||
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED)
		return NULL;
	key = CStringGetTextDatum(tenant_id);
	if (!index_probe(nsp, "tenants", "tenants_pkey", 1, &key, "settings", &value, &isnull))
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("tenant %s does not exist", quoted(tenant_id, -1))));
	over = isnull ? NULL : DatumGetJsonbP(value);

	/* a change committed since is seen (see current_defaults) */
	AcceptInvalidationMessages();

	/* the defaults kept now; nothing below may accept invalidations */
	if (!(OidIsValid(kept_nsp) && kept_nsp == nsp))
	{
		SPI_connect();
		(void) current_defaults(nsp, NULL);
		SPI_finish();
		if (!(OidIsValid(kept_nsp) && kept_nsp == nsp))
			return NULL;		/* cannot be kept: let the caller query */
	}

	if (last_tenant != NULL && last_generation == defaults_generation &&
		strcmp(last_tenant, tenant_id) == 0 &&
		(over == NULL ? last_overrides == NULL :
		 (last_overrides != NULL && VARSIZE(over) == VARSIZE(last_overrides) &&
		  memcmp(over, last_overrides, VARSIZE(over)) == 0)))
		return copy_out(last_effective);

	merged = over ? jsonb_merge_patch(kept_defaults, over) : kept_defaults;
	if (effective_cxt == NULL)
		effective_cxt = AllocSetContextCreate(TopMemoryContext, "gtm_clarity effective settings",
											  ALLOCSET_SMALL_SIZES);
	MemoryContextReset(effective_cxt);
	old = MemoryContextSwitchTo(effective_cxt);
	last_tenant = pstrdup(tenant_id);
	last_overrides = over ? copy_out(over) : NULL;
	last_effective = copy_out(merged);
	last_generation = defaults_generation;
	MemoryContextSwitchTo(old);
	return merged == kept_defaults ? copy_out(merged) : merged;
}
