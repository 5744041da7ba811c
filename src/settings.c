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
 * tenants.settings is covered: a key must exist in the defaults (at the
 * same depth) with the same JSON type, "timezone" must be an IANA zone name
 * that PostgreSQL can load, "defaultScoringVersion" a positive integer.
 * The checks are written once and report a problem instead of raising it,
 * so gtm_invalid_tenant_settings() can list every tenant whose overrides no
 * longer pass after the defaults changed.
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

PG_FUNCTION_INFO_V1(gtm_jsonb_merge);
PG_FUNCTION_INFO_V1(gtm_validate_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_set_default_settings);
PG_FUNCTION_INFO_V1(gtm_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_tenant_setting);
PG_FUNCTION_INFO_V1(gtm_feature_enabled);
PG_FUNCTION_INFO_V1(gtm_update_tenant_settings);
PG_FUNCTION_INFO_V1(gtm_invalid_tenant_settings);

/* ----------------------------------------------------------------
 *		JSON Merge Patch (RFC 7396)
 * ----------------------------------------------------------------
 */

#define IS_OBJECT_VALUE(v) \
	((v)->type == jbvBinary && JsonContainerIsObject((v)->val.binary.data))

/* The order in which Jsonb stores object keys: length first, then bytes. */
static inline int
key_cmp(const JsonbValue *a, const JsonbValue *b)
{
	if (a->val.string.len != b->val.string.len)
		return a->val.string.len < b->val.string.len ? -1 : 1;
	return memcmp(a->val.string.val, b->val.string.val, a->val.string.len);
}

/*
 * One object being merged: base (may be absent) and patch, each walked by
 * its own iterator, with the current key of each.
 */
typedef struct MergeLevel
{
	JsonbIterator *itb;			/* NULL when there is no base object */
	JsonbIterator *itp;
	JsonbIteratorToken rb;		/* WJB_KEY while kb holds a key */
	JsonbIteratorToken rp;		/* WJB_KEY while kp holds a key */
	JsonbValue	kb;
	JsonbValue	kp;
	bool		shared;			/* the key being merged is in both */
} MergeLevel;

static void
start_level(MergeLevel *l, JsonbContainer *base, JsonbContainer *patch,
			JsonbParseState **st)
{
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	l->itb = NULL;
	l->rb = WJB_END_OBJECT;
	if (base != NULL)
	{
		l->itb = JsonbIteratorInit(base);
		(void) JsonbIteratorNext(&l->itb, &l->kb, true);	/* WJB_BEGIN_OBJECT */
		l->rb = JsonbIteratorNext(&l->itb, &l->kb, true);
	}
	l->itp = JsonbIteratorInit(patch);
	(void) JsonbIteratorNext(&l->itp, &l->kp, true);	/* WJB_BEGIN_OBJECT */
	l->rp = JsonbIteratorNext(&l->itp, &l->kp, true);
	l->shared = false;
}

/* Step past the key just merged. */
static inline void
next_key(MergeLevel *l)
{
	if (l->shared)
		l->rb = JsonbIteratorNext(&l->itb, &l->kb, true);
	l->rp = JsonbIteratorNext(&l->itp, &l->kp, true);
}

/*
 * Push onto *st the object that is base (NULL: no object) patched by patch.
 *
 * Both walks hand out keys in storage order, which is sorted, so one pass
 * over each object finds the keys they share.  Nested objects present in
 * the patch are merged with an explicit stack of levels instead of
 * recursion, so the depth of a document costs heap, not C stack.
 */
static JsonbValue *
merge_objects(JsonbContainer *base, JsonbContainer *patch, JsonbParseState **st)
{
	MergeLevel	fixed[16];
	MergeLevel *levels = fixed;
	int			maxlevels = lengthof(fixed);
	int			depth = 0;

	start_level(&levels[0], base, patch, st);
	for (;;)
	{
		MergeLevel *l = &levels[depth];
		JsonbValue	vb,
					vp;
		int			cmp;

		if (l->rb == WJB_KEY)
			cmp = (l->rp == WJB_KEY) ? key_cmp(&l->kb, &l->kp) : -1;
		else if (l->rp == WJB_KEY)
			cmp = 1;
		else
		{
			/* this object is done */
			JsonbValue *res = pushJsonbValue(st, WJB_END_OBJECT, NULL);

			if (depth == 0)
			{
				if (levels != fixed)
					pfree(levels);
				return res;
			}
			next_key(&levels[--depth]);
			continue;
		}

		if (cmp < 0)
		{
			/* only in base: kept as it is */
			(void) JsonbIteratorNext(&l->itb, &vb, true);
			pushJsonbValue(st, WJB_KEY, &l->kb);
			pushJsonbValue(st, WJB_VALUE, &vb);
			l->rb = JsonbIteratorNext(&l->itb, &l->kb, true);
			continue;
		}

		l->shared = (cmp == 0);
		(void) JsonbIteratorNext(&l->itp, &vp, true);
		if (l->shared)
			(void) JsonbIteratorNext(&l->itb, &vb, true);

		if (vp.type == jbvNull)
		{
			/* null removes the key */
		}
		else if (IS_OBJECT_VALUE(&vp))
		{
			/* an object merges into the base's object (or into nothing) */
			JsonbContainer *sub = (l->shared && IS_OBJECT_VALUE(&vb)) ?
				vb.val.binary.data : NULL;

			CHECK_FOR_INTERRUPTS();
			pushJsonbValue(st, WJB_KEY, &l->kp);
			if (depth + 1 == maxlevels)
			{
				if (levels == fixed)
				{
					levels = palloc(sizeof(MergeLevel) * maxlevels * 2);
					memcpy(levels, fixed, sizeof(fixed));
				}
				else
					levels = repalloc(levels, sizeof(MergeLevel) * maxlevels * 2);
				maxlevels *= 2;
			}
			start_level(&levels[++depth], sub, vp.val.binary.data, st);
			continue;			/* next_key() when that object is done */
		}
		else
		{
			/* arrays and scalars replace */
			pushJsonbValue(st, WJB_KEY, &l->kp);
			pushJsonbValue(st, WJB_VALUE, &vp);
		}
		next_key(l);
	}
}

static bool
jsonb_is_object(Jsonb *j)
{
	return JB_ROOT_IS_OBJECT(j) && !JB_ROOT_IS_SCALAR(j);
}

/*
 * MergePatch(base, patch).  base may be NULL (treated like a non-object).
 */
static Jsonb *
jsonb_merge_patch(Jsonb *base, Jsonb *patch)
{
	JsonbParseState *st = NULL;
	bool		base_is_object = (base != NULL && jsonb_is_object(base));

	if (!jsonb_is_object(patch))
		return patch;
	if (JB_ROOT_COUNT(patch) == 0)
		return base_is_object ? base : patch;
	return JsonbValueToJsonb(merge_objects(base_is_object ? &base->root : NULL,
										   &patch->root, &st));
}

/*
 * gtm_jsonb_merge(base jsonb, patch jsonb) RETURNS jsonb
 *
 * Not strict: a SQL NULL patch returns base; a SQL NULL base is patched
 * like any non-object.
 */
Datum
gtm_jsonb_merge(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_DATUM(PG_GETARG_DATUM(0));
	}
	PG_RETURN_JSONB_P(jsonb_merge_patch(PG_ARGISNULL(0) ? NULL : PG_GETARG_JSONB_P(0),
										PG_GETARG_JSONB_P(1)));
}

/* ----------------------------------------------------------------
 *		Rules for settings
 *
 * Each check returns NULL when the value passes, else the problem, which
 * report_problem() raises and gtm_invalid_tenant_settings() lists.
 * ----------------------------------------------------------------
 */

typedef struct SettingsProblem
{
	int			sqlstate;
	char	   *message;
	char	   *detail;
	char	   *hint;
} SettingsProblem;

static SettingsProblem *
problem(char *message, char *detail, char *hint)
{
	SettingsProblem *p = palloc(sizeof(SettingsProblem));

	p->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	p->message = message;
	p->detail = detail;
	p->hint = hint;
	return p;
}

static void
report_problem(SettingsProblem *p)
{
	ereport(ERROR,
			(errcode(p->sqlstate),
			 errmsg_internal("%s", p->message),
			 p->detail ? errdetail_internal("%s", p->detail) : 0,
			 p->hint ? errhint("%s", p->hint) : 0));
}

/* "features.writeback" */
static char *
setting_path(const char *parent, const JsonbValue *key)
{
	if (parent == NULL)
		return pnstrdup(key->val.string.val, key->val.string.len);
	return psprintf("%s.%.*s", parent, key->val.string.len, key->val.string.val);
}

/* The JSON text of a value, for messages; long values are cut. */
static char *
value_text(JsonbValue *v)
{
	StringInfoData buf;
	Jsonb	   *j = JsonbValueToJsonb(v);
	char	   *s = JsonbToCString(NULL, &j->root, VARSIZE(j));

	if (strlen(s) <= 60)
		return s;
	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, s, pg_mbcliplen(s, strlen(s), 57));
	appendStringInfoString(&buf, "...");
	return buf.data;
}

/*
 * The key of object that is nearest to key (Levenshtein distance), if it is
 * near enough to be a likely typo; else NULL.
 */
static char *
nearest_key(JsonbContainer *object, const char *key, int keylen)
{
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	char	   *best = NULL;
	int			best_d = INT_MAX;

	if (keylen > 255)
		return NULL;
	it = JsonbIteratorInit(object);
	while ((r = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		int			d,
					maxlen;

		if (r != WJB_KEY || v.val.string.len > 255)
			continue;
		d = varstr_levenshtein(key, keylen, v.val.string.val, v.val.string.len,
							   1, 1, 1, true);
		maxlen = Max(keylen, v.val.string.len);
		if (d < best_d && d <= Max(2, maxlen / 3))
		{
			best_d = d;
			best = pnstrdup(v.val.string.val, v.val.string.len);
		}
	}
	return best;
}

/*
 * Zone names that are all upper case and contain a digit (EST5EDT, GMT+0,
 * ...) are the only ones a POSIX time zone string can look like, so only
 * for those do we look at the list of zone files; it is read once per
 * backend.
 */
static List *upper_digit_zones = NIL;
static bool upper_digit_zones_loaded = false;

static bool
is_upper_digit(const char *s)
{
	bool		digit = false;

	for (; *s; s++)
	{
		if (*s >= 'a' && *s <= 'z')
			return false;
		if (*s >= '0' && *s <= '9')
			digit = true;
	}
	return digit;
}

static bool
is_zone_file_name(const char *canonical)
{
	ListCell   *lc;

	if (!is_upper_digit(canonical))
		return true;			/* a POSIX string never loads as this */

	if (!upper_digit_zones_loaded)
	{
		pg_tzenum  *tzenum = pg_tzenumerate_start();
		pg_tz	   *tz;
		List	   *names = NIL;

		while ((tz = pg_tzenumerate_next(tzenum)) != NULL)
		{
			const char *name = pg_get_timezone_name(tz);

			if (is_upper_digit(name))
				names = lappend(names, MemoryContextStrdup(TopMemoryContext, name));
		}
		pg_tzenumerate_end(tzenum);
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			upper_digit_zones = list_copy(names);
			MemoryContextSwitchTo(old);
		}
		upper_digit_zones_loaded = true;
	}

	foreach(lc, upper_digit_zones)
		if (strcmp((char *) lfirst(lc), canonical) == 0)
			return true;
	return false;
}

#define TIMEZONE_HINT "Use an IANA time zone name such as \"America/New_York\" or \"UTC\" (see pg_timezone_names)."

static SettingsProblem *
timezone_problem(const char *what, const char *path, JsonbValue *v)
{
	char	   *name = pnstrdup(v->val.string.val, v->val.string.len);
	char	   *msg = psprintf("invalid time zone \"%s\" in %s \"%s\"", name, what, path);
	pg_tz	   *tz = NULL;
	const char *canonical;

	if (strlen(name) == v->val.string.len && name[0] != '\0' &&
		strlen(name) < TZ_STRLEN_MAX)
		tz = pg_tzset(name);
	if (tz == NULL || !pg_tz_acceptable(tz))
		return problem(msg, pstrdup("PostgreSQL does not know a time zone of that name."),
					   pstrdup(TIMEZONE_HINT));

	canonical = pg_get_timezone_name(tz);
	if (!is_zone_file_name(canonical))
		return problem(msg, pstrdup("It is a POSIX time zone specification or a UTC offset, not the name of a time zone."),
					   pstrdup(TIMEZONE_HINT));
	if (strcmp(canonical, name) != 0)
		return problem(msg, pstrdup("Time zone names are case-sensitive here."),
					   psprintf("Did you mean \"%s\"?", canonical));
	return NULL;
}

static SettingsProblem *
scoring_version_problem(const char *what, const char *path, JsonbValue *v)
{
	bool		ok = false;

	if (!numeric_is_nan(v->val.numeric) && !numeric_is_inf(v->val.numeric))
	{
		Datum		n = NumericGetDatum(v->val.numeric);
		Datum		one = DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
		Datum		max = DirectFunctionCall1(int4_numeric, Int32GetDatum(PG_INT32_MAX));
		Datum		rounded = DirectFunctionCall2(numeric_round, n, Int32GetDatum(0));

		ok = DatumGetBool(DirectFunctionCall2(numeric_eq, n, rounded)) &&
			DatumGetBool(DirectFunctionCall2(numeric_ge, n, one)) &&
			DatumGetBool(DirectFunctionCall2(numeric_le, n, max));
	}
	if (ok)
		return NULL;
	return problem(psprintf("%s \"%s\" must be a positive integer", what, path),
				   psprintf("The value given is %s.", value_text(v)),
				   psprintf("Use a whole number from 1 to %d.", PG_INT32_MAX));
}

/*
 * Rules that hold whatever the defaults say (top-level keys only); what is
 * "tenant setting" or "default setting", for the message.
 */
static SettingsProblem *
value_problem(const char *what, const char *parent, const char *path, JsonbValue *v)
{
	if (parent != NULL)
		return NULL;
	if (strcmp(path, "timezone") == 0 && v->type == jbvString)
		return timezone_problem(what, path, v);
	if (strcmp(path, "defaultScoringVersion") == 0 && v->type == jbvNumeric)
		return scoring_version_problem(what, path, v);
	return NULL;
}

static SettingsProblem *
not_an_object_problem(const char *what, JsonbValue *v, const char *hint)
{
	return problem(psprintf("%s must be a JSON object", what),
				   psprintf("The value given is a JSON %s.", JsonbTypeName(v)),
				   hint ? pstrdup(hint) : NULL);
}

/*
 * The first problem among the keys of an object: check is called for each
 * key with the key's path ("features.writeback"; parent is the object's own
 * path, NULL at the top), its value and arg.  Checks recurse into objects
 * through walk_keys.
 */
typedef SettingsProblem *(*KeyCheck) (const char *parent, const char *path,
									  JsonbValue *key, JsonbValue *value,
									  void *arg);

static SettingsProblem *
walk_keys(JsonbContainer *object, const char *parent, KeyCheck check, void *arg)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken r;
	SettingsProblem *p;

	check_stack_depth();

	it = JsonbIteratorInit(object);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		if ((p = check(parent, setting_path(parent, &k), &k, &v, arg)) != NULL)
			return p;
	}
	return NULL;
}

/*
 * One key of the overrides against the defaults (arg, a JsonbContainer *)
 * at the same depth.
 */
static SettingsProblem *
override_key_problem(const char *parent, const char *path, JsonbValue *k,
					 JsonbValue *v, void *arg)
{
	JsonbContainer *defs = arg;
	JsonbValue	dv;

	if (getKeyJsonValueFromContainer(defs, k->val.string.val, k->val.string.len, &dv) == NULL)
	{
		char	   *near = nearest_key(defs, k->val.string.val, k->val.string.len);

		return problem(psprintf("unknown tenant setting \"%s\"", path),
					   parent == NULL ?
					   pstrdup("The system defaults have no such key (see gtm_default_settings()).") :
					   psprintf("The system defaults have no such key in \"%s\" (see gtm_default_settings()).", parent),
					   near == NULL ? NULL :
					   parent == NULL ? psprintf("Did you mean \"%s\"?", near) :
					   psprintf("Did you mean \"%s.%s\"?", parent, near));
	}
	if (v->type == jbvNull)
		return problem(psprintf("tenant setting \"%s\" must not be null", path),
					   pstrdup("A stored override cannot be null."),
					   pstrdup("Leave the key out to use the default; a null in the patch given to gtm_update_tenant_settings() removes the override."));
	if (strcmp(JsonbTypeName(v), JsonbTypeName(&dv)) != 0)
		return problem(psprintf("tenant setting \"%s\" must be a JSON %s, not a JSON %s",
								path, JsonbTypeName(&dv), JsonbTypeName(v)),
					   psprintf("The system default is %s.", value_text(&dv)),
					   NULL);
	if (IS_OBJECT_VALUE(v))
		return walk_keys(v->val.binary.data, path, override_key_problem,
						 dv.val.binary.data);
	return value_problem("tenant setting", parent, path, v);
}

static SettingsProblem *
tenant_settings_problem(Jsonb *over, Jsonb *defs)
{
	if (!jsonb_is_object(over))
	{
		JsonbValue	v;

		JsonbToJsonbValue(over, &v);
		if (JB_ROOT_IS_SCALAR(over))
			(void) JsonbExtractScalar(&over->root, &v);
		return not_an_object_problem("tenant settings", &v, "Pass '{}' for no overrides.");
	}
	return walk_keys(&over->root, NULL, override_key_problem, &defs->root);
}

/* One key of the defaults: no nulls, the value rules, features all booleans. */
static SettingsProblem *
default_key_problem(const char *parent, const char *path, JsonbValue *k,
					JsonbValue *v, void *arg)
{
	if (v->type == jbvNull)
		return problem(psprintf("default setting \"%s\" must not be null", path),
					   pstrdup("A default gives the value and the JSON type that overrides of the setting must have."),
					   NULL);
	if (parent == NULL && strcmp(path, "timezone") == 0 && v->type != jbvString)
		return problem(pstrdup("default setting \"timezone\" must be a JSON string"),
					   psprintf("The value given is a JSON %s.", JsonbTypeName(v)), NULL);
	if (parent == NULL && strcmp(path, "defaultScoringVersion") == 0 && v->type != jbvNumeric)
		return problem(pstrdup("default setting \"defaultScoringVersion\" must be a JSON number"),
					   psprintf("The value given is a JSON %s.", JsonbTypeName(v)), NULL);
	if (parent == NULL && strcmp(path, "features") == 0 && !IS_OBJECT_VALUE(v))
		return problem(pstrdup("default setting \"features\" must be a JSON object"),
					   psprintf("The value given is a JSON %s.", JsonbTypeName(v)), NULL);
	if (parent != NULL && strcmp(parent, "features") == 0 && v->type != jbvBool)
		return problem(psprintf("default setting \"%s\" must be a JSON boolean", path),
					   psprintf("The value given is a JSON %s; every feature flag is true or false.",
								JsonbTypeName(v)), NULL);
	if (IS_OBJECT_VALUE(v))
		return walk_keys(v->val.binary.data, path, default_key_problem, NULL);
	return value_problem("default setting", parent, path, v);
}

/* ----------------------------------------------------------------
 *		Prepared statements (kept for the life of the backend)
 * ----------------------------------------------------------------
 */

typedef enum SettingsQuery
{
	Q_DEFAULTS,
	Q_OVERRIDES,
	Q_PATCH_OVERRIDES,
	Q_ALL_OVERRIDES,
	Q_INSERT_DEFAULTS,
	NUM_SETTINGS_QUERIES
} SettingsQuery;

static const GtmQueryDef query_defs[NUM_SETTINGS_QUERIES] = {
	[Q_DEFAULTS] = {
		"SELECT settings FROM %1$s.settings_defaults ORDER BY version DESC LIMIT 1",
		0, {InvalidOid}
	},
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
	[Q_INSERT_DEFAULTS] = {
		"INSERT INTO %1$s.settings_defaults (version, settings) "
		"SELECT pg_catalog.max(version) + 1, $1 FROM %1$s.settings_defaults",
		1, {JSONBOID}
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

/* The defaults in force; call between SPI_connect and SPI_finish. */
static Jsonb *
current_defaults(Oid nsp)
{
	Jsonb	   *defs;

	if (run(Q_DEFAULTS, nsp, NULL, true) != 1 ||
		(defs = result_jsonb(0, 1)) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the system default settings are missing"),
				 errdetail("Table settings_defaults has no rows."),
				 errhint("Set them with gtm_set_default_settings().")));
	return defs;
}

static void
tenant_not_found(const char *tenant_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("tenant \"%s\" does not exist", tenant_id)));
}

static char *
arg_tenant_id(FunctionCallInfo fcinfo)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant_id must not be null")));
	return text_to_cstring(PG_GETARG_TEXT_PP(0));
}

/* Defaults merged with the stored overrides of one tenant. */
static Jsonb *
effective_settings(Oid nsp, const char *tenant_id)
{
	Datum		args[1];
	Jsonb	   *defs;
	Jsonb	   *over;

	args[0] = CStringGetTextDatum(tenant_id);
	SPI_connect();
	defs = current_defaults(nsp);
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
 * BEFORE INSERT OR UPDATE OF settings ON tenants FOR EACH ROW.
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
	SettingsProblem *p;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_validate_tenant_settings() was not called by the trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_validate_tenant_settings() must be fired BEFORE INSERT OR UPDATE FOR EACH ROW")));

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
	if (!jsonb_is_object(newjb))
		return PointerGetDatum(newtup);

	/*
	 * Keep the defaults from changing until this transaction ends, so that
	 * what is checked now is what is in force at commit.
	 */
	nsp = gtm_extension_namespace(fcinfo);
	defaults_relid = get_relname_relid("settings_defaults", nsp);
	if (!OidIsValid(defaults_relid))
		elog(ERROR, "relation \"settings_defaults\" does not exist");
	LockRelationOid(defaults_relid, RowShareLock);

	SPI_connect();
	defs = current_defaults(nsp);
	SPI_finish();

	if ((p = tenant_settings_problem(newjb, defs)) != NULL)
		report_problem(p);
	return PointerGetDatum(newtup);
}

/*
 * gtm_set_default_settings(settings jsonb) RETURNS jsonb
 *
 * Writes a new version of the defaults and returns it.  Tenants whose
 * overrides no longer pass are kept as they are and counted in a WARNING.
 */
Datum
gtm_set_default_settings(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Jsonb	   *defs;
	SettingsProblem *p;
	Datum		args[1];
	Oid			defaults_relid;
	uint64		ntenants;
	int64		ninvalid = 0;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("default settings must not be null")));
	defs = PG_GETARG_JSONB_P(0);
	if (!jsonb_is_object(defs))
	{
		JsonbValue	v;

		JsonbToJsonbValue(defs, &v);
		if (JB_ROOT_IS_SCALAR(defs))
			(void) JsonbExtractScalar(&defs->root, &v);
		report_problem(not_an_object_problem("default settings", &v, NULL));
	}
	if ((p = walk_keys(&defs->root, NULL, default_key_problem, NULL)) != NULL)
		report_problem(p);

	/* One writer at a time; waits for transactions that checked tenants. */
	defaults_relid = get_relname_relid("settings_defaults", nsp);
	if (!OidIsValid(defaults_relid))
		elog(ERROR, "relation \"settings_defaults\" does not exist");
	LockRelationOid(defaults_relid, ExclusiveLock);

	args[0] = JsonbPGetDatum(defs);
	SPI_connect();
	run(Q_INSERT_DEFAULTS, nsp, args, false);
	ntenants = run(Q_ALL_OVERRIDES, nsp, NULL, false);
	for (uint64 i = 0; i < ntenants; i++)
	{
		Jsonb	   *over = result_jsonb(i, 2);

		CHECK_FOR_INTERRUPTS();
		if (over && tenant_settings_problem(over, defs) != NULL)
			ninvalid++;
	}
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
 * gtm_tenant_settings(tenant_id text) RETURNS jsonb
 */
Datum
gtm_tenant_settings(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_tenant_id(fcinfo);

	PG_RETURN_JSONB_P(effective_settings(gtm_extension_namespace(fcinfo), tenant_id));
}

static void
unknown_path(JsonbContainer *object, const char *parent, const char *path,
			 const char *key, int keylen)
{
	char	   *near = nearest_key(object, key, keylen);

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown tenant setting \"%s\"", path),
			 near == NULL ? 0 :
			 parent == NULL ? errhint("Did you mean \"%s\"?", near) :
			 errhint("Did you mean \"%s.%s\"?", parent, near)));
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
	char	   *path = NULL;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("path must not be null")));
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
		char	   *parent = path;
		JsonbContainer *object;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("path element %d is null", i + 1)));
		key = TextDatumGetCString(elems[i]);
		path = parent ? psprintf("%s.%s", parent, key) : key;
		if (!IS_OBJECT_VALUE(&v))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tenant setting \"%s\" is a JSON %s, not an object", parent,
							JsonbTypeName(&v)),
					 errdetail("So it has no \"%s\".", key)));
		object = v.val.binary.data;
		if (getKeyJsonValueFromContainer(object, key, strlen(key), &v) == NULL)
			unknown_path(object, parent, path, key, strlen(key));
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

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("feature must not be null")));
	feature = text_to_cstring(PG_GETARG_TEXT_PP(1));
	eff = effective_settings(gtm_extension_namespace(fcinfo), tenant_id);

	if (getKeyJsonValueFromContainer(&eff->root, "features", strlen("features"), &features) == NULL ||
		!IS_OBJECT_VALUE(&features))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("the settings of tenant \"%s\" have no \"features\" object", tenant_id),
				 errhint("Check gtm_default_settings() and SELECT * FROM gtm_invalid_tenant_settings().")));
	if (getKeyJsonValueFromContainer(features.val.binary.data, feature, strlen(feature), &v) == NULL)
	{
		char	   *near = nearest_key(features.val.binary.data, feature, strlen(feature));

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown feature \"%s\"", feature),
				 errdetail("The features are the keys of \"features\" in gtm_default_settings()."),
				 near ? errhint("Did you mean \"%s\"?", near) : 0));
	}
	if (v.type != jbvBool)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("feature \"%s\" of tenant \"%s\" is a JSON %s, not a boolean",
						feature, tenant_id, JsonbTypeName(&v)),
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

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("patch must not be null"),
				 errhint("Pass '{}' to change nothing.")));
	patch = PG_GETARG_JSONB_P(1);
	if (!jsonb_is_object(patch))
	{
		JsonbValue	v;

		JsonbToJsonbValue(patch, &v);
		if (JB_ROOT_IS_SCALAR(patch))
			(void) JsonbExtractScalar(&patch->root, &v);
		report_problem(not_an_object_problem("settings patch", &v,
											 "A patch is an object of the settings to change; null as a value restores the default."));
	}

	args[0] = CStringGetTextDatum(tenant_id);
	args[1] = JsonbPGetDatum(patch);
	SPI_connect();
	if (run(Q_PATCH_OVERRIDES, nsp, args, false) != 1)
		tenant_not_found(tenant_id);
	over = result_jsonb(0, 1);
	defs = current_defaults(nsp);
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
Datum
gtm_invalid_tenant_settings(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	MemoryContext callcxt = CurrentMemoryContext;
	Jsonb	   *defs;
	uint64		ntenants;

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	defs = current_defaults(nsp);
	ntenants = run(Q_ALL_OVERRIDES, nsp, NULL, true);
	for (uint64 i = 0; i < ntenants; i++)
	{
		bool		isnull;
		Datum		over = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		SettingsProblem *p;
		MemoryContext spicxt;

		CHECK_FOR_INTERRUPTS();
		if (isnull)
			continue;
		p = tenant_settings_problem(DatumGetJsonbP(over), defs);
		if (p != NULL)
		{
			Datum		values[4];
			bool		nulls[4] = {false, false, false, false};

			spicxt = MemoryContextSwitchTo(callcxt);
			values[0] = CStringGetTextDatum(SPI_getvalue(SPI_tuptable->vals[i],
														 SPI_tuptable->tupdesc, 1));
			values[1] = CStringGetTextDatum(p->message);
			nulls[2] = (p->detail == NULL);
			values[2] = p->detail ? CStringGetTextDatum(p->detail) : (Datum) 0;
			nulls[3] = (p->hint == NULL);
			values[3] = p->hint ? CStringGetTextDatum(p->hint) : (Datum) 0;
			tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
			MemoryContextSwitchTo(spicxt);
		}
	}
	SPI_finish();
	return (Datum) 0;
}
