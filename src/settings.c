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

/*
 * Begin merging one object level: open the output object and position
 * iterators on the first key of base and of patch.
 */
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

		CHECK_FOR_INTERRUPTS();
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


/*
 * MergePatch(base, patch).  base may be NULL (treated like a non-object).
 */
static Jsonb *
jsonb_merge_patch(Jsonb *base, Jsonb *patch)
{
	JsonbParseState *st = NULL;
	bool		base_is_object = (base != NULL && gtm_jsonb_is_object(base));

	if (!gtm_jsonb_is_object(patch))
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

/*
 * Limits of a settings document (the defaults, the overrides of a tenant):
 * its size in jsonb's binary form, and how deeply it nests, the top-level
 * object being level 1 and every object or array inside a value one level
 * more.  Checking and merging are linear in the size of a document; the
 * limits keep one that is read on every request small, and bound the work
 * and the memory of a check whatever is sent.
 */
#define SETTINGS_MAX_BYTES	(1024 * 1024)
#define SETTINGS_MAX_DEPTH	32

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

/* A value quoted for a message, cut when long (see gtm_msg_value). */
static char *
quoted(const char *s, int len)
{
	return gtm_msg_value(s, len, true);
}

/* The JSON text of a value, for messages; long values are cut. */
static char *
value_text(JsonbValue *v)
{
	Jsonb	   *j = JsonbValueToJsonb(v);

	return gtm_msg_value(JsonbToCString(NULL, &j->root, VARSIZE(j)), -1, false);
}

static bool
key_is(const JsonbValue *key, const char *s)
{
	return key->val.string.len == strlen(s) &&
		memcmp(key->val.string.val, s, key->val.string.len) == 0;
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

		CHECK_FOR_INTERRUPTS();
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
 * Time zones.
 *
 * pg_tzset() keeps every zone it loads for the life of the backend, and it
 * loads not only zone files but any POSIX time zone specification
 * ("EST5", "<+0530>-5:30", "XYZ7"): each distinct string would stay, about
 * 24 kB, although we reject it.  A POSIX specification always contains a
 * digit (its UTC offset), so a name with a digit is only ever looked up in
 * the list of zone names that contain one (Etc/GMT+5, EST5EDT, ...), read
 * once per backend with pg_tzenumerate(), which loads the zone files
 * without caching them.  Only a name without a digit goes to pg_tzset(),
 * which then loads a zone file or nothing.
 */
static char **digit_zones = NULL;
static int	num_digit_zones = -1;	/* not read yet */

static bool
has_digit(const char *s)
{
	return strpbrk(s, "0123456789") != NULL;
}

/*
 * Read once per backend the names of the time zones that contain a digit
 * (pg_tzenumerate, which loads nothing into the time-zone cache).
 */
static void
read_digit_zones(void)
{
	pg_tzenum  *tzenum;
	pg_tz	   *tz;
	List	   *names = NIL;
	ListCell   *lc;
	char	  **array;
	int			n = 0;

	tzenum = pg_tzenumerate_start();
	while ((tz = pg_tzenumerate_next(tzenum)) != NULL)
	{
		const char *name = pg_get_timezone_name(tz);

		CHECK_FOR_INTERRUPTS();
		if (has_digit(name))
			names = lappend(names, pstrdup(name));
	}
	pg_tzenumerate_end(tzenum);

	array = MemoryContextAlloc(TopMemoryContext,
							   Max(list_length(names), 1) * sizeof(char *));
	foreach(lc, names)
		array[n++] = MemoryContextStrdup(TopMemoryContext, lfirst(lc));
	digit_zones = array;
	num_digit_zones = n;
}

#define TIMEZONE_HINT "Use an IANA time zone name such as \"America/New_York\" or \"UTC\" (see pg_timezone_names)."

/*
 * The problem with a time-zone setting v at path, or NULL for an IANA zone
 * name: a value with a digit is looked up among the digit zone names only,
 * so a POSIX-style string never reaches pg_tzset.
 */
static SettingsProblem *
timezone_problem(const char *what, const char *path, JsonbValue *v)
{
	const char *val = v->val.string.val;
	int			len = v->val.string.len;
	char	   *name = pnstrdup(val, len);
	char	   *msg = psprintf("invalid time zone %s in %s \"%s\"", quoted(val, len), what, path);
	const char *canonical = NULL;
	pg_tz	   *tz;

	if (len == 0 || strlen(name) != len || len > TZ_STRLEN_MAX)
		return problem(msg, pstrdup("PostgreSQL does not know a time zone of that name."),
					   pstrdup(TIMEZONE_HINT));

	if (has_digit(name))
	{
		if (num_digit_zones < 0)
			read_digit_zones();
		for (int i = 0; i < num_digit_zones; i++)
		{
			if (strcmp(digit_zones[i], name) == 0)
				return NULL;
			if (canonical == NULL && pg_strcasecmp(digit_zones[i], name) == 0)
				canonical = digit_zones[i];
		}
		if (canonical == NULL)
			return problem(msg, pstrdup("It is not the name of a time zone: POSIX time zone specifications and UTC offsets are not accepted."),
						   pstrdup(TIMEZONE_HINT));
	}
	else
	{
		tz = pg_tzset(name);
		if (tz == NULL || !pg_tz_acceptable(tz))
			return problem(msg, pstrdup("PostgreSQL does not know a time zone of that name."),
						   pstrdup(TIMEZONE_HINT));
		canonical = pg_get_timezone_name(tz);
		if (strcmp(canonical, name) == 0)
			return NULL;
	}
	return problem(msg, pstrdup("Time zone names are case-sensitive here."),
				   psprintf("Did you mean \"%s\"?", canonical));
}

/* The problem with defaultScoringVersion v (a positive integer), or NULL. */
static SettingsProblem *
scoring_version_problem(const char *what, const char *path, JsonbValue *v)
{
	bool		ok = false;

	if (!numeric_is_nan(v->val.numeric) && !numeric_is_inf(v->val.numeric))
	{
		Datum		n = NumericGetDatum(v->val.numeric);
		Datum		one = DirectFunctionCall1(int4_numeric, Int32GetDatum(1));
		Datum		max = DirectFunctionCall1(int4_numeric, Int32GetDatum(PG_INT32_MAX));

		/* compare first: rounding a number of a million digits costs */
		ok = DatumGetBool(DirectFunctionCall2(numeric_ge, n, one)) &&
			DatumGetBool(DirectFunctionCall2(numeric_le, n, max)) &&
			DatumGetBool(DirectFunctionCall2(numeric_eq, n,
											 DirectFunctionCall2(numeric_round, n,
																 Int32GetDatum(0))));
	}
	if (ok)
		return NULL;
	return problem(psprintf("%s \"%s\" must be a positive integer", what, path),
				   psprintf("The value given is %s.", value_text(v)),
				   psprintf("Use a whole number from 1 to %d.", PG_INT32_MAX));
}

/*
 * Rules that hold whatever the defaults say, for the scalar value v of the
 * top-level key "key"; what is "tenant setting" or "default setting".
 */
static SettingsProblem *
value_problem(const char *what, const JsonbValue *key, JsonbValue *v)
{
	if (key_is(key, "timezone") && v->type == jbvString)
		return timezone_problem(what, "timezone", v);
	if (key_is(key, "defaultScoringVersion") && v->type == jbvNumeric)
		return scoring_version_problem(what, "defaultScoringVersion", v);
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
 * The problem "<what> must be a JSON object" for j, with the JSON type it
 * is, or NULL when j is an object.
 */
static SettingsProblem *
root_not_object_problem(Jsonb *j, const char *what, const char *hint)
{
	JsonbValue	v;

	if (gtm_jsonb_is_object(j))
		return NULL;
	JsonbToJsonbValue(j, &v);
	if (JB_ROOT_IS_SCALAR(j))
		(void) JsonbExtractScalar(&j->root, &v);
	return not_an_object_problem(what, &v, hint);
}

/*
 * Walking a settings document.
 *
 * One pass of the Jsonb iterator over every key, value and array element,
 * in storage order, with the path held as a stack of frames, one per open
 * object or array: no recursion and no string per key, so the work is
 * linear in the size of the document at any depth.  A path is written out
 * ("features.writeback", "tags[2]") only for a problem.
 */
typedef struct WalkFrame
{
	bool		is_array;
	int			index;			/* array: the current element, from 0 */
	JsonbValue	key;			/* object: the current key */
	JsonbContainer *defs;		/* overrides: the default object at this
								 * path; NULL where nothing is checked */
	JsonbValue	dv;				/* overrides: the default of key */
	bool		features;		/* defaults: the top-level "features" */
} WalkFrame;

typedef struct SettingsWalk
{
	bool		defaults;		/* checking defaults, else overrides */
	int			depth;			/* frames in use */
	WalkFrame	frames[SETTINGS_MAX_DEPTH];
} SettingsWalk;

/* The path of frames[0..upto], each at its current key or element. */
static char *
walk_path(SettingsWalk *w, int upto)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i <= upto; i++)
	{
		WalkFrame  *f = &w->frames[i];

		if (f->is_array)
			appendStringInfo(&buf, "[%d]", f->index);
		else
		{
			if (i > 0)
				appendStringInfoChar(&buf, '.');
			appendBinaryStringInfo(&buf, f->key.val.string.val, f->key.val.string.len);
		}
	}
	return buf.data;
}

static char *
quoted_path(SettingsWalk *w, int upto)
{
	return quoted(walk_path(w, upto), -1);
}

/* The JSON type of the value that token r (with v) starts. */
static const char *
token_type_name(JsonbIteratorToken r, JsonbValue *v)
{
	if (r == WJB_BEGIN_OBJECT)
		return "object";
	if (r == WJB_BEGIN_ARRAY)
		return "array";
	return JsonbTypeName(v);
}

static SettingsProblem *
too_large_problem(const char *what, Size size)
{
	SettingsProblem *p;

	p = problem(psprintf("%s are too large", what),
				psprintf("They take %zu bytes as jsonb; the limit is %d bytes.",
						 size, SETTINGS_MAX_BYTES),
				pstrdup("Keep bulky data in tables of its own and settings small."));
	p->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	return p;
}

static SettingsProblem *
too_deep_problem(SettingsWalk *w, const char *what)
{
	SettingsProblem *p;

	p = problem(psprintf("%s nest more than %d levels deep", what, SETTINGS_MAX_DEPTH),
				psprintf("The value of %s is at level %d, the top-level object being level 1.",
						 quoted_path(w, w->depth - 1), w->depth + 1),
				psprintf("Settings may nest objects and arrays at most %d levels deep.",
						 SETTINGS_MAX_DEPTH));
	p->sqlstate = ERRCODE_PROGRAM_LIMIT_EXCEEDED;
	return p;
}

/* Overrides: the key just read must exist in the defaults at this path. */
static SettingsProblem *
override_key_problem(SettingsWalk *w, WalkFrame *f)
{
	int			d = w->depth - 1;
	char	   *parent;
	char	   *near;

	if (getKeyJsonValueFromContainer(f->defs, f->key.val.string.val,
									 f->key.val.string.len, &f->dv) != NULL)
		return NULL;

	parent = d > 0 ? walk_path(w, d - 1) : NULL;
	near = nearest_key(f->defs, f->key.val.string.val, f->key.val.string.len);
	return problem(psprintf("unknown tenant setting %s", quoted_path(w, d)),
				   parent == NULL ?
				   pstrdup("The system defaults have no such key (see gtm_default_settings()).") :
				   psprintf("The system defaults have no such key in %s (see gtm_default_settings()).",
							quoted(parent, -1)),
				   near == NULL ? NULL :
				   psprintf("Did you mean %s?",
							parent == NULL ? quoted(near, -1) :
							quoted(psprintf("%s.%s", parent, near), -1)));
}

/* Overrides: the value of the key just checked (token r, v). */
static SettingsProblem *
override_value_problem(SettingsWalk *w, WalkFrame *f, JsonbIteratorToken r,
					   JsonbValue *v, JsonbContainer **child_defs)
{
	int			d = w->depth - 1;
	const char *type = token_type_name(r, v);

	if (r == WJB_VALUE && v->type == jbvNull)
		return problem(psprintf("tenant setting %s must not be null", quoted_path(w, d)),
					   pstrdup("A stored override cannot be null."),
					   pstrdup("Leave the key out to use the default; a null in the patch given to gtm_update_tenant_settings() removes the override."));
	if (strcmp(type, JsonbTypeName(&f->dv)) != 0)
		return problem(psprintf("tenant setting %s must be a JSON %s, not a JSON %s",
								quoted_path(w, d), JsonbTypeName(&f->dv), type),
					   psprintf("The system default is %s.", value_text(&f->dv)),
					   NULL);
	if (r == WJB_BEGIN_OBJECT)
		*child_defs = f->dv.val.binary.data;
	else if (r == WJB_VALUE && d == 0)
		return value_problem("tenant setting", &f->key, v);
	return NULL;
}

/*
 * Defaults: no null anywhere (arrays included), the value rules, and
 * "features" an object of booleans.  f is the object or array holding the
 * value that token r (with v) starts.
 */
static SettingsProblem *
default_value_problem(SettingsWalk *w, WalkFrame *f, JsonbIteratorToken r,
					  JsonbValue *v, bool *child_features)
{
	int			d = w->depth - 1;
	bool		scalar = (r == WJB_VALUE || r == WJB_ELEM);
	const char *type = token_type_name(r, v);

	if (scalar && v->type == jbvNull)
		return problem(psprintf("default setting %s must not be null", quoted_path(w, d)),
					   f->is_array ?
					   pstrdup("No JSON null is allowed anywhere in the defaults, not even in an array.") :
					   pstrdup("A default gives the value and the JSON type that overrides of the setting must have."),
					   NULL);
	if (f->is_array)
		return NULL;
	if (d == 0 && key_is(&f->key, "timezone") && !(scalar && v->type == jbvString))
		return problem(pstrdup("default setting \"timezone\" must be a JSON string"),
					   psprintf("The value given is a JSON %s.", type), NULL);
	if (d == 0 && key_is(&f->key, "defaultScoringVersion") && !(scalar && v->type == jbvNumeric))
		return problem(pstrdup("default setting \"defaultScoringVersion\" must be a JSON number"),
					   psprintf("The value given is a JSON %s.", type), NULL);
	if (d == 0 && key_is(&f->key, "features"))
	{
		if (r != WJB_BEGIN_OBJECT)
			return problem(pstrdup("default setting \"features\" must be a JSON object"),
						   psprintf("The value given is a JSON %s.", type), NULL);
		*child_features = true;
	}
	if (f->features && !(scalar && v->type == jbvBool))
		return problem(psprintf("default setting %s must be a JSON boolean", quoted_path(w, d)),
					   psprintf("The value given is a JSON %s; every feature flag is true or false.",
								type), NULL);
	if (scalar && d == 0)
		return value_problem("default setting", &f->key, v);
	return NULL;
}

/*
 * The first problem of a settings object, in storage order: the defaults
 * (defs NULL) or overrides checked against the defaults defs.
 */
static SettingsProblem *
walk_settings(Jsonb *doc, Jsonb *defs)
{
	SettingsWalk *w = palloc(sizeof(SettingsWalk));
	const char *what = defs ? "tenant settings" : "default settings";
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	SettingsProblem *p = NULL;
	Size		size = VARSIZE(doc) - VARHDRSZ;

	if (size > SETTINGS_MAX_BYTES)
		return too_large_problem(what, size);

	w->defaults = (defs == NULL);
	w->depth = 0;
	it = JsonbIteratorInit(&doc->root);
	while (p == NULL && (r = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
	{
		WalkFrame  *f = w->depth > 0 ? &w->frames[w->depth - 1] : NULL;
		JsonbContainer *child_defs = NULL;
		bool		child_features = false;

		CHECK_FOR_INTERRUPTS();
		switch (r)
		{
			case WJB_KEY:
				f->key = v;
				if (f->defs != NULL)
					p = override_key_problem(w, f);
				break;
			case WJB_VALUE:
			case WJB_ELEM:
			case WJB_BEGIN_OBJECT:
			case WJB_BEGIN_ARRAY:
				if (f == NULL)
					child_defs = defs ? &defs->root : NULL; /* the top level */
				else
				{
					if (f->is_array)
						f->index++;
					if (w->defaults)
						p = default_value_problem(w, f, r, &v, &child_features);
					else if (f->defs != NULL)
						p = override_value_problem(w, f, r, &v, &child_defs);
				}
				if (p != NULL || (r != WJB_BEGIN_OBJECT && r != WJB_BEGIN_ARRAY))
					break;
				if (w->depth == SETTINGS_MAX_DEPTH)
				{
					p = too_deep_problem(w, what);
					break;
				}
				f = &w->frames[w->depth++];
				f->is_array = (r == WJB_BEGIN_ARRAY);
				f->index = -1;
				f->defs = child_defs;
				f->features = child_features;
				break;
			case WJB_END_OBJECT:
			case WJB_END_ARRAY:
				w->depth--;
				break;
			case WJB_DONE:
				break;
		}
	}
	return p;
}

static SettingsProblem *
tenant_settings_problem(Jsonb *over, Jsonb *defs)
{
	if (!gtm_jsonb_is_object(over))
		return root_not_object_problem(over, "tenant settings", "Pass '{}' for no overrides.");
	return walk_settings(over, defs);
}

static SettingsProblem *
default_settings_problem(Jsonb *defs)
{
	return walk_settings(defs, NULL);
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
check_all_overrides(Oid nsp, bool read_only, Jsonb *defs,
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
			p = tenant_settings_problem(DatumGetJsonbP(over), defs);
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
	defs = current_defaults(nsp);
	SPI_finish();

	if ((p = tenant_settings_problem(newjb, defs)) != NULL)
		report_problem(p);
	return PointerGetDatum(newtup);
}

static void
count_problem(HeapTuple row, TupleDesc desc, SettingsProblem *p, void *arg)
{
	(*(int64 *) arg)++;
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
	int64		ninvalid = 0;

	gtm_require_arg(fcinfo, 0, "default settings", NULL);
	defs = PG_GETARG_JSONB_P(0);
	if (!gtm_jsonb_is_object(defs))
		report_problem(root_not_object_problem(defs, "default settings", NULL));
	if ((p = default_settings_problem(defs)) != NULL)
		report_problem(p);

	/* One writer at a time; waits for transactions that checked tenants. */
	defaults_relid = gtm_extension_relid("settings_defaults", nsp);
	LockRelationOid(defaults_relid, ExclusiveLock);

	args[0] = JsonbPGetDatum(defs);
	SPI_connect();
	run(Q_INSERT_DEFAULTS, nsp, args, false);
	check_all_overrides(nsp, false, defs, count_problem, &ninvalid);
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

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	defs = current_defaults(nsp);
	check_all_overrides(nsp, true, defs, list_problem, fcinfo->resultinfo);
	SPI_finish();
	return (Datum) 0;
}
