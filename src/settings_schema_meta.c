/*-------------------------------------------------------------------------
 *
 * settings_schema_meta.c
 *	  The settings schema itself: checked when it is set (known keywords,
 *	  each of the right kind, patterns that compile), and the schema
 *	  equivalent to the rules of 1.0.0 for given defaults.
 *
 * A schema is refused at the first problem, with its place as a
 * JSON-Pointer-like path ("#/properties/scoring/type") and, for an unknown
 * keyword or type, the nearest known one.  A "pattern" is compiled by
 * PostgreSQL's regular-expression engine, whose own error (SQLSTATE 2201B)
 * says what is wrong with it, with the schema path as context.
 *
 * IDENTIFICATION
 *	  src/settings_schema_meta.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_collation.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"

#include "gtm_clarity.h"
#include "settings.h"

PG_FUNCTION_INFO_V1(gtm_settings_schema_from);

static const char *const keywords[] = {
	"type", "properties", "additionalProperties", "items", "enum", "const",
	"minimum", "maximum", "exclusiveMinimum", "minLength", "maxLength",
	"pattern", "minItems", "maxItems", "uniqueItems", "required", "default",
	"description", "format", SETTINGS_RULES_KEYWORD
};

static const char *const type_names[] = {
	"object", "array", "string", "number", "integer", "boolean", "null"
};

/* ----------------------------------------------------------------
 *		The schema itself (checked when it is set)
 * ----------------------------------------------------------------
 */
static SettingsProblem *
schema_problem_at(Walk *w, const char *message, char *hint)
{
	SettingsProblem *p = problem(psprintf("invalid settings schema at %s: %s",
										  schema_path(w), message),
								 NULL, hint);

	p->sqlstate = ERRCODE_INVALID_PARAMETER_VALUE;
	return p;
}

static SettingsProblem *check_schema(Walk *w, JsonbValue *s);

static SettingsProblem *
kw_type_problem(Walk *w, const char *kw, const char *want, JsonbValue *v)
{
	return schema_problem_at(w, psprintf("\"%s\" must be %s, not a JSON %s",
										 kw, want, type_of(v)), NULL);
}

static bool
is_nonneg_integer(JsonbValue *v)
{
	return v->type == jbvNumeric && numeric_is_integral(v->val.numeric) &&
		num_cmp(v->val.numeric,
				DatumGetNumeric(DirectFunctionCall1(int4_numeric, Int32GetDatum(0)))) >= 0 &&
		num_cmp(v->val.numeric,
				DatumGetNumeric(DirectFunctionCall1(int4_numeric,
													Int32GetDatum(PG_INT32_MAX)))) <= 0;
}

/* Error context while a "pattern" is compiled. */
static void
pattern_context(void *arg)
{
	errcontext("while compiling the \"pattern\" at %s of the settings schema", (char *) arg);
}

/* A "pattern", compiled (and cached) by the regular-expression engine. */
static void
compile_pattern(Walk *w, JsonbValue *v)
{
	ErrorContextCallback cb;

	cb.callback = pattern_context;
	cb.arg = schema_path(w);
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	(void) RE_compile_and_cache(cstring_to_text_with_len(v->val.string.val, v->val.string.len),
								REG_ADVANCED, C_COLLATION_OID);
	error_context_stack = cb.previous;
}

static SettingsProblem *
check_type_kw(Walk *w, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken r;

	if (v->type == jbvString)
	{
		const char *near;

		for (int i = 0; i < lengthof(type_names); i++)
			if (strlen(type_names[i]) == v->val.string.len &&
				memcmp(type_names[i], v->val.string.val, v->val.string.len) == 0)
				return NULL;
		near = nearest_word(v->val.string.val, v->val.string.len,
							type_names, lengthof(type_names));
		return schema_problem_at(w, psprintf("\"type\" names the unknown type %s",
											 quoted(v->val.string.val, v->val.string.len)),
								 near ? psprintf("Did you mean \"%s\"?", near) :
								 pstrdup("The types are object, array, string, number, integer, boolean and null."));
	}
	if (!(v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data)))
		return kw_type_problem(w, "type", "a type name or an array of them", v);
	if (JsonContainerSize(v->val.binary.data) == 0)
		return schema_problem_at(w, "\"type\" must name at least one type", NULL);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		SettingsProblem *p;

		if (r != WJB_ELEM)
			continue;
		if (e.type != jbvString)
			return kw_type_problem(w, "type", "a type name or an array of them", &e);
		if ((p = check_type_kw(w, &e)) != NULL)
			return p;
	}
	return NULL;
}

/* "properties": an object of schemas */
static SettingsProblem *
check_properties(Walk *w, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	k,
				s;
	JsonbIteratorToken r;

	if (!IS_OBJECT_VALUE(v))
		return kw_type_problem(w, "properties", "an object of schemas", v);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		SettingsProblem *p;

		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &s, true);
		push_key(w, k.val.string.val, k.val.string.len);
		p = check_schema(w, &s);
		w->depth--;
		if (p != NULL)
			return p;
	}
	return NULL;
}

static SettingsProblem *
check_required(Walk *w, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken r;

	if (!(v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data)))
		return kw_type_problem(w, "required", "an array of key names", v);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (r == WJB_ELEM && e.type != jbvString)
			return kw_type_problem(w, "required", "an array of key names", &e);
	return NULL;
}

/* One keyword k (value v) of the schema object at w's path. */
static SettingsProblem *
check_keyword(Walk *w, JsonbValue *k, JsonbValue *v)
{
	const char *kw = NULL;
	SettingsProblem *p = NULL;

	for (int i = 0; i < lengthof(keywords); i++)
		if (strlen(keywords[i]) == k->val.string.len &&
			memcmp(keywords[i], k->val.string.val, k->val.string.len) == 0)
			kw = keywords[i];
	if (kw == NULL)
	{
		const char *near = nearest_word(k->val.string.val, k->val.string.len,
										keywords, lengthof(keywords));

		return schema_problem_at(w, psprintf("unknown keyword %s",
											 quoted(k->val.string.val, k->val.string.len)),
								 near ? psprintf("Did you mean \"%s\"?", near) :
								 pstrdup("The keywords supported are listed in doc/settings-schema.md."));
	}

	if (strcmp(kw, "type") == 0)
		return check_type_kw(w, v);
	if (strcmp(kw, "properties") == 0)
	{
		push_key(w, "properties", 10);
		p = check_properties(w, v);
		w->depth--;
		return p;
	}
	if (strcmp(kw, "additionalProperties") == 0 || strcmp(kw, "items") == 0)
	{
		push_key(w, kw, strlen(kw));
		p = check_schema(w, v);
		w->depth--;
		return p;
	}
	if (strcmp(kw, "enum") == 0)
	{
		if (!(v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data)))
			return kw_type_problem(w, kw, "an array of the values allowed", v);
		if (JsonContainerSize(v->val.binary.data) == 0)
			return schema_problem_at(w, "\"enum\" must allow at least one value", NULL);
		return NULL;
	}
	if (strcmp(kw, "minimum") == 0 || strcmp(kw, "maximum") == 0 ||
		strcmp(kw, "exclusiveMinimum") == 0)
		return v->type == jbvNumeric ? NULL : kw_type_problem(w, kw, "a JSON number", v);
	if (strcmp(kw, "minLength") == 0 || strcmp(kw, "maxLength") == 0 ||
		strcmp(kw, "minItems") == 0 || strcmp(kw, "maxItems") == 0)
	{
		if (v->type == jbvNumeric && !is_nonneg_integer(v))
			return schema_problem_at(w, psprintf("\"%s\" must be a whole number from 0 to %d, not %s",
												 kw, PG_INT32_MAX, num_text(v->val.numeric)),
									 NULL);
		return v->type == jbvNumeric ? NULL :
			kw_type_problem(w, kw, "a whole number from 0", v);
	}
	if (strcmp(kw, "uniqueItems") == 0)
		return v->type == jbvBool ? NULL : kw_type_problem(w, kw, "a JSON boolean", v);
	if (strcmp(kw, "description") == 0)
		return v->type == jbvString ? NULL : kw_type_problem(w, kw, "a JSON string", v);
	if (strcmp(kw, "pattern") == 0)
	{
		if (v->type != jbvString)
			return kw_type_problem(w, kw, "a JSON string (a regular expression)", v);
		compile_pattern(w, v);
		return NULL;
	}
	if (strcmp(kw, "format") == 0)
	{
		if (v->type != jbvString)
			return kw_type_problem(w, kw, "a JSON string", v);
		if (v->val.string.len != strlen(FORMAT_TIME_ZONE) ||
			memcmp(v->val.string.val, FORMAT_TIME_ZONE, v->val.string.len) != 0)
			return schema_problem_at(w, psprintf("unknown format %s",
												 quoted(v->val.string.val, v->val.string.len)),
									 pstrdup("The only format is \"" FORMAT_TIME_ZONE "\"."));
		return NULL;
	}
	if (strcmp(kw, "required") == 0)
		return check_required(w, v);
	if (strcmp(kw, SETTINGS_RULES_KEYWORD) == 0)
	{
		/* the root's only: the rules of the whole document */
		if (w->depth != 0)
			return schema_problem_at(w, "\"" SETTINGS_RULES_KEYWORD "\" belongs to the root schema only",
									 NULL);
		if (v->type != jbvString)
			return kw_type_problem(w, kw, "the string \"" SETTINGS_RULES_1_0_0 "\"", v);
		if (v->val.string.len != strlen(SETTINGS_RULES_1_0_0) ||
			memcmp(v->val.string.val, SETTINGS_RULES_1_0_0, v->val.string.len) != 0)
			return schema_problem_at(w, psprintf("\"" SETTINGS_RULES_KEYWORD "\" must be \"" SETTINGS_RULES_1_0_0 "\", not %s",
												 quoted(v->val.string.val, v->val.string.len)),
									 pstrdup("\"" SETTINGS_RULES_1_0_0 "\" keeps the rules of version 1.0.0 for a schema written for settings stored under it; leave the keyword out for the current rules."));
		return NULL;
	}
	return NULL;				/* const, default: any value */
}

/* A schema: true, false or an object of known keywords. */
static SettingsProblem *
check_schema(Walk *w, JsonbValue *s)
{
	JsonbIterator *it;
	JsonbValue	k,
				v;
	JsonbIteratorToken r;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (s->type == jbvBool)
		return NULL;
	if (!IS_OBJECT_VALUE(s))
		return schema_problem_at(w, psprintf("a schema must be a JSON object or boolean, not a JSON %s",
											 type_of(s)), NULL);
	if (w->depth >= lengthof(w->path) - 2)
		return schema_problem_at(w, psprintf("the schema nests more than %d levels deep",
											 (int) lengthof(w->path) - 2), NULL);
	it = JsonbIteratorInit(s->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		SettingsProblem *p;

		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &v, true);
		if ((p = check_keyword(w, &k, &v)) != NULL)
			return p;
	}
	return NULL;
}

/* The problem with schema as a settings schema, or NULL. */
SettingsProblem *
settings_schema_problem(Jsonb *schema)
{
	Walk	   *w = palloc0(sizeof(Walk));
	JsonbValue	root;
	SettingsProblem *p;

	if ((p = root_not_object_problem(schema, "a settings schema", NULL)) != NULL)
		return p;
	if (VARSIZE(schema) - VARHDRSZ > SETTINGS_MAX_BYTES)
		return schema_problem_at(w, psprintf("it takes %zu bytes as jsonb; the limit is %d bytes",
											 (Size) (VARSIZE(schema) - VARHDRSZ), SETTINGS_MAX_BYTES),
								 NULL);
	root.type = jbvBinary;
	root.val.binary.data = &schema->root;
	root.val.binary.len = VARSIZE(schema) - VARHDRSZ;
	return check_schema(w, &root);
}

/* ----------------------------------------------------------------
 *		The schema equivalent to the rules of 1.0.0
 * ----------------------------------------------------------------
 */
static void
push_str(JsonbParseState **st, JsonbIteratorToken t, const char *s)
{
	JsonbValue	v;

	v.type = jbvString;
	v.val.string.val = (char *) s;
	v.val.string.len = strlen(s);
	pushJsonbValue(st, t, &v);
}

static void
push_int(JsonbParseState **st, int32 n)
{
	JsonbValue	v;

	v.type = jbvNumeric;
	v.val.numeric = DatumGetNumeric(DirectFunctionCall1(int4_numeric, Int32GetDatum(n)));
	pushJsonbValue(st, WJB_VALUE, &v);
}

/*
 * Push the schema of value v: an object's keys and nothing else, with the
 * schemas of their values; any other value, its JSON type.  At the top level
 * (top), "timezone" a time zone and "defaultScoringVersion" a whole number
 * from 1, as 1.0.0 checked them.
 */
static void
derive_schema(JsonbParseState **st, JsonbValue *v, const char *topkey)
{
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
	push_str(st, WJB_KEY, "type");
	if (topkey && strcmp(topkey, "defaultScoringVersion") == 0 && v->type == jbvNumeric)
	{
		push_str(st, WJB_VALUE, "integer");
		push_str(st, WJB_KEY, "minimum");
		push_int(st, 1);
		push_str(st, WJB_KEY, "maximum");
		push_int(st, PG_INT32_MAX);
	}
	else if (IS_OBJECT_VALUE(v))
	{
		JsonbIterator *it = JsonbIteratorInit(v->val.binary.data);
		JsonbValue	k,
					e;
		JsonbIteratorToken r;

		push_str(st, WJB_VALUE, "object");
		push_str(st, WJB_KEY, "properties");
		pushJsonbValue(st, WJB_BEGIN_OBJECT, NULL);
		while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
		{
			if (r != WJB_KEY)
				continue;
			(void) JsonbIteratorNext(&it, &e, true);
			pushJsonbValue(st, WJB_KEY, &k);
			derive_schema(st, &e, NULL);
		}
		pushJsonbValue(st, WJB_END_OBJECT, NULL);
		push_str(st, WJB_KEY, "additionalProperties");
		{
			JsonbValue	f;

			f.type = jbvBool;
			f.val.boolean = false;
			pushJsonbValue(st, WJB_VALUE, &f);
		}
	}
	else
	{
		push_str(st, WJB_VALUE, type_of(v));
		if (topkey && strcmp(topkey, "timezone") == 0 && v->type == jbvString)
		{
			push_str(st, WJB_KEY, "format");
			push_str(st, WJB_VALUE, FORMAT_TIME_ZONE);
		}
	}
	pushJsonbValue(st, WJB_END_OBJECT, NULL);
}

/* The schema that holds overrides to the rules of 1.0.0 for defaults defs. */
Jsonb *
settings_schema_from_defaults(Jsonb *defs)
{
	JsonbParseState *st = NULL;
	JsonbIterator *it = JsonbIteratorInit(&defs->root);
	JsonbValue	k,
				e,
			   *res;
	JsonbIteratorToken r;

	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	push_str(&st, WJB_KEY, "type");
	push_str(&st, WJB_VALUE, "object");
	push_str(&st, WJB_KEY, "properties");
	pushJsonbValue(&st, WJB_BEGIN_OBJECT, NULL);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		char	   *key;

		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &e, true);
		key = pnstrdup(k.val.string.val, k.val.string.len);
		pushJsonbValue(&st, WJB_KEY, &k);
		derive_schema(&st, &e, key);
	}
	pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	push_str(&st, WJB_KEY, "additionalProperties");
	{
		JsonbValue	f;

		f.type = jbvBool;
		f.val.boolean = false;
		pushJsonbValue(&st, WJB_VALUE, &f);
	}
	/* what 1.0.0 stored passes: no rule of later versions' (round FR) */
	push_str(&st, WJB_KEY, SETTINGS_RULES_KEYWORD);
	push_str(&st, WJB_VALUE, SETTINGS_RULES_1_0_0);
	res = pushJsonbValue(&st, WJB_END_OBJECT, NULL);
	return JsonbValueToJsonb(res);
}

/*
 * gtm_settings_schema_from(defaults jsonb) RETURNS jsonb
 *
 * The schema equivalent to the 1.0.0 rules for the defaults given (every key
 * known, of the type of its default; "timezone" a time zone,
 * "defaultScoringVersion" a whole number from 1): what the upgrade to 1.1.0
 * stores beside every existing version of the defaults.
 */
Datum
gtm_settings_schema_from(PG_FUNCTION_ARGS)
{
	Jsonb	   *defs;
	SettingsProblem *p;

	gtm_require_arg(fcinfo, 0, "defaults", NULL);
	defs = PG_GETARG_JSONB_P(0);
	if (!gtm_jsonb_is_object(defs))
		report_problem(root_not_object_problem(defs, "default settings", NULL));
	/* the rules and limits of defaults first: the derivation recurses */
	if ((p = default_settings_problem(defs, NULL)) != NULL)
		report_problem(p);
	PG_RETURN_JSONB_P(settings_schema_from_defaults(defs));
}

