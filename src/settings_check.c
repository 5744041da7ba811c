/*-------------------------------------------------------------------------
 *
 * settings_check.c
 *	  The rules of settings: defaults and tenant overrides, checked.
 *
 * One iterative walk (no recursion) over a settings document checks the
 * defaults (a documented shape, no null anywhere) and a tenant's overrides
 * (every key known to the defaults, of the same JSON type), linear in the
 * document, with size and depth limits; time zones are checked without
 * loading anything that is rejected.  Each check returns NULL when the
 * value passes, else the problem, which report_problem() raises and
 * gtm_invalid_tenant_settings() lists.
 *
 * IDENTIFICATION
 *	  src/settings_check.c
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


/* ----------------------------------------------------------------
 *		Rules for settings
 *
 * Each check returns NULL when the value passes, else the problem, which
 * report_problem() raises and gtm_invalid_tenant_settings() lists.
 * ----------------------------------------------------------------
 */


SettingsProblem *
problem(char *message, char *detail, char *hint)
{
	SettingsProblem *p = palloc(sizeof(SettingsProblem));

	p->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	p->message = message;
	p->detail = detail;
	p->hint = hint;
	return p;
}

/*
 * An unknown key (message): source ("The system defaults have", "The
 * settings schema has") no such key under parent (a dotted path, NULL at
 * the top; see: where to look), with the nearest key as a suggestion.
 */
SettingsProblem *
unknown_key_problem(char *message, const char *source, const char *see,
					const char *parent, const char *near)
{
	return problem(message,
				   parent == NULL ?
				   psprintf("%s no such key (see %s).", source, see) :
				   psprintf("%s no such key in %s (see %s).", source,
							quoted(parent, -1), see),
				   near == NULL ? NULL :
				   psprintf("Did you mean %s?",
							parent == NULL ? quoted(near, -1) :
							quoted(psprintf("%s.%s", parent, near), -1)));
}

void
report_problem(SettingsProblem *p)
{
	ereport(ERROR,
			(errcode(p->sqlstate),
			 errmsg_internal("%s", p->message),
			 p->detail ? errdetail_internal("%s", p->detail) : 0,
			 p->hint ? errhint("%s", p->hint) : 0));
}

/* A value quoted for a message, cut when long (see gtm_msg_value). */
char *
quoted(const char *s, int len)
{
	return gtm_msg_value(s, len, true);
}

/* The JSON text of a value, for messages; long values are cut. */
char *
jsonb_value_text(JsonbValue *v)
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
char *
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
 * Is name a file of the server's time-zone directory that is no zone of
 * the IANA database?  pg_tzset() loads them, but the application reads the
 * setting too, and a JavaScript runtime (Intl.DateTimeFormat), like any
 * IANA-based library, rejects them: "localtime" (the server's own zone),
 * "posixrules" (a rules file), "Factory" (no zone), and the copies under
 * "posix/" and "right/" (with leap seconds).  Compared as pg_tzset compares
 * names, without regard to case.
 */
static bool
is_zone_directory_file(const char *name)
{
	static const char *const files[] = {"localtime", "posixrules", "Factory"};
	static const char *const dirs[] = {"posix/", "right/"};

	for (int i = 0; i < lengthof(files); i++)
		if (pg_strcasecmp(name, files[i]) == 0)
			return true;
	for (int i = 0; i < lengthof(dirs); i++)
		if (pg_strncasecmp(name, dirs[i], strlen(dirs[i])) == 0)
			return true;
	return false;
}

/*
 * The problem with a time-zone setting v at path, or NULL for an IANA zone
 * name: a value with a digit is looked up among the digit zone names only,
 * so a POSIX-style string never reaches pg_tzset.
 */
SettingsProblem *
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
	if (is_zone_directory_file(name))
		return problem(msg, pstrdup("It is a file of the server's time-zone directory, not a zone of the IANA time zone database."),
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
				   psprintf("The value given is %s.", jsonb_value_text(v)),
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
SettingsProblem *
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
	return unknown_key_problem(psprintf("unknown tenant setting %s", quoted_path(w, d)),
							   "The system defaults have", "gtm_default_settings()",
							   parent, near);
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
					   psprintf("The system default is %s.", jsonb_value_text(&f->dv)),
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
walk_settings(Jsonb *doc, Jsonb *defs, bool defaults)
{
	SettingsWalk *w = palloc(sizeof(SettingsWalk));
	const char *what = defaults ? "default settings" : "tenant settings";
	JsonbIterator *it;
	JsonbValue	v;
	JsonbIteratorToken r;
	SettingsProblem *p = NULL;
	Size		size = VARSIZE(doc) - VARHDRSZ;

	if (size > SETTINGS_MAX_BYTES)
		return too_large_problem(what, size);

	w->defaults = defaults;
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

/*
 * The first problem of a tenant's overrides: against the settings schema
 * when there is one (after the limits of a settings document), else
 * against the keys and types of the defaults.
 */
SettingsProblem *
tenant_settings_problem(Jsonb *over, Jsonb *defs, Jsonb *schema)
{
	SettingsProblem *p;

	if (!gtm_jsonb_is_object(over))
		return root_not_object_problem(over, "tenant settings", "Pass '{}' for no overrides.");
	if (schema == NULL)
		return walk_settings(over, defs, false);
	if ((p = walk_settings(over, NULL, false)) != NULL)
		return p;
	return schema_settings_problem(over, schema, defs);
}

/* The first problem of the defaults: their own rules, then the schema. */
SettingsProblem *
default_settings_problem(Jsonb *defs, Jsonb *schema)
{
	SettingsProblem *p = walk_settings(defs, NULL, true);

	if (p == NULL && schema != NULL)
		p = schema_settings_problem(defs, schema, NULL);
	return p;
}
