/*-------------------------------------------------------------------------
 *
 * settings_schema.c
 *	  The settings schema: a subset of JSON Schema 2020-12 that describes
 *	  the tenant settings, checked itself when it is set, and the document
 *	  (defaults, a tenant's overrides) checked against it.
 *
 * Keywords: type, properties, additionalProperties (a schema: maps with keys
 * chosen by the tenant), items, enum, const, minimum, maximum,
 * exclusiveMinimum, minLength, maxLength, pattern, minItems, maxItems,
 * uniqueItems, required, default, description, and "format":
 * "iana-time-zone" (the time-zone check of settings_check.c).  Schemas may
 * also be the booleans true and false.  Everything else is refused when the
 * schema is set (with the nearest keyword suggested), so a typo in a schema
 * never silently turns a rule off.
 *
 * Both walks read the jsonb in place (getKeyJsonValueFromContainer, the
 * Jsonb iterator); "pattern" runs PostgreSQL's regular-expression engine
 * (RE_compile_and_execute, whose cache keeps the compiled patterns) as an
 * unanchored search, like JSON Schema.  They recurse once per level of the
 * document or schema, which SETTINGS_MAX_DEPTH and check_stack_depth()
 * bound.
 *
 * Overrides are a partial document: a key that "required" asks for is
 * present when the tenant's object has it or the defaults at the same path
 * have it (the merged settings then have it).  A stored override is never
 * null (a null in a patch removes the override).
 *
 * IDENTIFICATION
 *	  src/settings_schema.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_collation.h"
#include "common/shortest_dec.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "regex/regex.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/varlena.h"

#include "gtm_clarity.h"
#include "settings.h"

static char *
qpath(Walk *w)
{
	return quoted(path_upto(w, w->depth), -1);
}

/* Does v have JSON Schema type name t (len tlen)? */
static bool
has_type(JsonbValue *v, const char *t, int tlen)
{
	const char *vt = type_of(v);

	if (tlen == 7 && memcmp(t, "integer", 7) == 0)
		return v->type == jbvNumeric && numeric_is_integral(v->val.numeric);
	return strlen(vt) == tlen && memcmp(vt, t, tlen) == 0;
}

/*
 * Jsonb equality (numbers by value, like JSON Schema).  Called for every
 * element of an enum for every value checked: it allocates nothing for
 * scalars, and compares containers in place (jbvBinary, as the iterator
 * returns them), so a large document against a long enum costs time, not
 * memory.
 */
static bool
values_equal(JsonbValue *a, JsonbValue *b)
{
	if (a->type == jbvBinary || b->type == jbvBinary)
	{
		Jsonb	   *ja;
		Jsonb	   *jb;
		bool		eq;

		if (a->type == jbvBinary && b->type == jbvBinary)
			return compareJsonbContainers(a->val.binary.data, b->val.binary.data) == 0;
		if (a->type != jbvBinary && b->type != jbvBinary)
			return false;
		/* a container and a scalar (never equal, but compare as Jsonb) */
		ja = JsonbValueToJsonb(a);
		jb = JsonbValueToJsonb(b);
		eq = compareJsonbContainers(&ja->root, &jb->root) == 0;
		pfree(ja);
		pfree(jb);
		return eq;
	}
	if (a->type != b->type)
		return false;
	switch (a->type)
	{
		case jbvNull:
			return true;
		case jbvBool:
			return a->val.boolean == b->val.boolean;
		case jbvString:
			return a->val.string.len == b->val.string.len &&
				memcmp(a->val.string.val, b->val.string.val, a->val.string.len) == 0;
		case jbvNumeric:
			return DatumGetInt32(DirectFunctionCall2(numeric_cmp,
													 NumericGetDatum(a->val.numeric),
													 NumericGetDatum(b->val.numeric))) == 0;
		default:
			return false;
	}
}

/* ----------------------------------------------------------------
 *		A document checked against a schema
 * ----------------------------------------------------------------
 */
static SettingsProblem *check_value(Walk *w, JsonbValue *v, JsonbValue *s, JsonbValue *def);

/* "<what> <path> <rest>", detail "The value given is <v>.<more>" */
SettingsProblem *
rule_problem(Walk *w, JsonbValue *v, const char *rest, const char *rule, char *hint)
{
	return problem(psprintf("%s %s %s", w->what, qpath(w), rest),
				   psprintf("The value given is %s; the settings schema's rule is %s.",
							jsonb_value_text(v), rule),
				   hint);
}

static SettingsProblem *
check_type(Walk *w, JsonbValue *v, JsonbValue *t, JsonbValue *def)
{
	StringInfoData want;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken r;
	int			n = 0;

	if (t->type == jbvString)
	{
		if (has_type(v, t->val.string.val, t->val.string.len))
			return NULL;
		if (t->val.string.len == 7 && memcmp(t->val.string.val, "integer", 7) == 0 &&
			v->type == jbvNumeric)
			return rule_problem(w, v, "must be a whole number", "\"type\": \"integer\"", NULL);
		initStringInfo(&want);
		appendBinaryStringInfo(&want, t->val.string.val, t->val.string.len);
	}
	else
	{
		initStringInfo(&want);
		it = JsonbIteratorInit(t->val.binary.data);
		while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (r != WJB_ELEM)
				continue;
			if (has_type(v, e.val.string.val, e.val.string.len))
				return NULL;
			if (n++ > 0)
				appendStringInfoString(&want, " or ");
			appendBinaryStringInfo(&want, e.val.string.val, e.val.string.len);
		}
	}
	return problem(psprintf("%s %s must be a JSON %s, not a JSON %s",
							w->what, qpath(w), want.data, type_of(v)),
				   def ? psprintf("The system default is %s.", jsonb_value_text(def)) :
				   psprintf("The value given is %s.", jsonb_value_text(v)),
				   NULL);
}

static SettingsProblem *
check_enum(Walk *w, JsonbValue *v, JsonbValue *en)
{
	JsonbIterator *it = JsonbIteratorInit(en->val.binary.data);
	JsonbValue	e;
	JsonbIteratorToken r;
	StringInfoData list;
	char	   *near = NULL;
	int			near_d = INT_MAX;

	/* a match: nothing built (the common case, once per value checked) */
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		if (r == WJB_ELEM && values_equal(v, &e))
			return NULL;			/* (the iterator's few bytes: the statement's) */

	/* no match: the message lists the values, and the nearest */
	initStringInfo(&list);
	it = JsonbIteratorInit(en->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (r != WJB_ELEM)
			continue;
		if (list.len > 0)
			appendStringInfoString(&list, ", ");
		appendStringInfoString(&list, jsonb_value_text(&e));
		if (v->type == jbvString && e.type == jbvString &&
			v->val.string.len <= 255 && e.val.string.len <= 255)
		{
			int			d = varstr_levenshtein(v->val.string.val, v->val.string.len,
											   e.val.string.val, e.val.string.len,
											   1, 1, 1, true);

			if (d < near_d && d <= Max(2, Max(v->val.string.len, e.val.string.len) / 3))
			{
				near_d = d;
				near = quoted(e.val.string.val, e.val.string.len);
			}
		}
	}
	return problem(psprintf("%s %s must be one of %s", w->what, qpath(w),
							gtm_msg_value(list.data, -1, false)),
				   psprintf("The value given is %s; the settings schema's rule is \"enum\".",
							jsonb_value_text(v)),
				   near ? psprintf("Did you mean %s?", near) : NULL);
}

/* "1 item", "2 items": the bound b of a count rule, with its noun. */
static char *
count_text(JsonbValue *b, const char *noun)
{
	char	   *n = num_text(b->val.numeric);

	return psprintf("%s %s%s", n, noun, strcmp(n, "1") == 0 ? "" : "s");
}

static SettingsProblem *
check_string(Walk *w, JsonbContainer *s, JsonbValue *v)
{
	JsonbValue	b;
	int			nchars = -1;

	if (get_kw(s, "minLength", &b) || get_kw(s, "maxLength", &b))
		nchars = pg_mbstrlen_with_len(v->val.string.val, v->val.string.len);
	if (get_kw(s, "minLength", &b) &&
		nchars < DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(b.val.numeric))))
		return rule_problem(w, v, psprintf("must be at least %s long", count_text(&b, "character")),
							psprintf("\"minLength\": %s", num_text(b.val.numeric)), NULL);
	if (get_kw(s, "maxLength", &b) &&
		nchars > DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(b.val.numeric))))
		return rule_problem(w, v, psprintf("must be at most %s long", count_text(&b, "character")),
							psprintf("\"maxLength\": %s", num_text(b.val.numeric)), NULL);
	if (get_kw(s, "pattern", &b) &&
		!RE_compile_and_execute(cstring_to_text_with_len(b.val.string.val, b.val.string.len),
								v->val.string.val, v->val.string.len,
								REG_ADVANCED, C_COLLATION_OID, 0, NULL))
		return rule_problem(w, v, psprintf("does not match the pattern %s",
										   quoted(b.val.string.val, b.val.string.len)),
							"\"pattern\"", NULL);
	if (get_kw(s, "format", &b))
		return timezone_problem(w->what, path_upto(w, w->depth), v);
	return NULL;
}

typedef struct ArrayItem
{
	int			index;
	Jsonb	   *value;			/* as a JSON reader holds it (double_image) */
	JsonbValue	given;			/* as given, for the message */
} ArrayItem;

static int
item_cmp(const void *a, const void *b)
{
	const ArrayItem *x = a;
	const ArrayItem *y = b;
	int			c = compareJsonbContainers(&x->value->root, &y->value->root);

	return c != 0 ? c : (x->index - y->index);
}

static SettingsProblem *
check_array(Walk *w, JsonbContainer *s, JsonbValue *v)
{
	JsonbContainer *arr = v->val.binary.data;
	int			n = JsonContainerSize(arr);
	JsonbValue	b;
	JsonbValue	items;
	bool		has_items = get_kw(s, "items", &items);
	bool		unique = get_kw(s, "uniqueItems", &b) && b.val.boolean;
	ArrayItem	   *all = unique && n > 1 ? palloc(sizeof(ArrayItem) * n) : NULL;
	JsonbIterator *it;
	JsonbValue	e;
	JsonbIteratorToken r;
	int			i = 0;

	if (get_kw(s, "minItems", &b) &&
		n < DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(b.val.numeric))))
		return rule_problem(w, v, psprintf("must have at least %s", count_text(&b, "item")),
							psprintf("\"minItems\": %s", num_text(b.val.numeric)), NULL);
	if (get_kw(s, "maxItems", &b) &&
		n > DatumGetInt32(DirectFunctionCall1(numeric_int4, NumericGetDatum(b.val.numeric))))
		return rule_problem(w, v, psprintf("must have at most %s", count_text(&b, "item")),
							psprintf("\"maxItems\": %s", num_text(b.val.numeric)), NULL);

	it = JsonbIteratorInit(arr);
	while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
	{
		if (r != WJB_ELEM)
			continue;
		{
			SettingsProblem *p;

			push_index(w, i);
			p = has_items ? check_value(w, &e, &items, NULL) : free_numbers(w, &e);
			w->depth--;
			if (p != NULL)
				return p;
		}
		if (all != NULL)
		{
			all[i].index = i;
			all[i].value = double_image(&e);
			all[i].given = e;
		}
		i++;
	}
	if (all != NULL)
	{
		qsort(all, n, sizeof(ArrayItem), item_cmp);
		for (i = 1; i < n; i++)
			if (compareJsonbContainers(&all[i - 1].value->root, &all[i].value->root) == 0)
			{
				char	   *a = jsonb_value_text(&all[i - 1].given);
				char	   *b = jsonb_value_text(&all[i].given);

				return problem(psprintf("%s %s must not hold the same item twice", w->what, qpath(w)),
							   strcmp(a, b) == 0 ?
							   psprintf("Items [%d] and [%d] are both %s; the settings schema's rule is \"uniqueItems\".",
										all[i - 1].index, all[i].index, a) :
							   psprintf("Items [%d] and [%d] are %s and %s, the same to a JSON reader; the settings schema's rule is \"uniqueItems\".",
										all[i - 1].index, all[i].index, a, b),
							   NULL);
			}
	}
	return NULL;
}

static SettingsProblem *
unknown_key(Walk *w, JsonbValue *k, JsonbContainer *props)
{
	char	   *parent = w->depth > 0 ? path_upto(w, w->depth) : NULL;
	char	   *near = props ? nearest_key(props, k->val.string.val, k->val.string.len) : NULL;
	char	   *path;

	push_key(w, k->val.string.val, k->val.string.len);
	path = qpath(w);
	w->depth--;
	return unknown_key_problem(psprintf("unknown %s %s", w->what, path),
							   "The settings schema has", "gtm_settings_schema()",
							   parent, near);
}

/*
 * k, a key of an object that the schema does not declare (a key of a map,
 * through "additionalProperties", or of an object the schema leaves free:
 * no "additionalProperties", or a true schema), is a name the tenant
 * chooses (a connector, a source field, a signal): never empty, nor white
 * space alone (round FN F2: a connector "" counted as a connected data
 * source; round FR: the rule depended on how the schema was spelled, and
 * " " passed), which no screen can show or address.  A key the schema
 * declares is the operator's, and the schemas equivalent to 1.0.0's rules
 * declare every key their defaults have (round FP: the update from 1.0.0
 * failed on such a key); under "x-gtm-rules": "1.0.0" the rule is not
 * applied at all.
 */
/*
 * A character that shows nothing: Unicode's white space (Zs, the line and
 * paragraph separators, the C0 and C1 controls that are white space) and
 * the invisible format characters a key could be made of (zero-width
 * space, joiners, word joiner, byte order mark; round FS: keys of U+00A0,
 * U+3000, U+2028, U+200B were stored).  Keys are UTF-8 (the database's
 * encoding, which jsonb holds).
 */
static bool
blank_char(pg_wchar c)
{
	if (c == ' ' || (c >= 0x09 && c <= 0x0D) || c == 0x85 || c == 0xA0 ||
		c == 0x1680 || c == 0x180E || (c >= 0x2000 && c <= 0x200D) ||
		c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
		c == 0x2060 || c == 0x3000 || c == 0xFEFF)
		return true;
	return false;
}

SettingsProblem *
chosen_key_problem(Walk *w, JsonbValue *k)
{
	int			len = k->val.string.len;
	const char *key = k->val.string.val;
	StringInfoData shown;
	int			i;

	if (w->rules_1_0_0)
		return NULL;
	for (i = 0; i < len; i += pg_utf_mblen((const unsigned char *) key + i))
		if (!blank_char(utf8_to_unicode((const unsigned char *) key + i)))
			return NULL;
	initStringInfo(&shown);		/* as JSON writes it: "\t" */
	escape_json(&shown, pnstrdup(key, len));
	return problem(w->depth > 0 ?
				   psprintf("%s %s has %s", w->what, qpath(w),
							len == 0 ? "an empty key" : "a key of white space only") :
				   psprintf("%ss have %s", w->what,
							len == 0 ? "an empty key" : "a key of white space only"),
				   len == 0 ?
				   pstrdup("A key the settings schema does not declare names a connector, field or signal the tenant chooses.") :
				   psprintf("The key is %s; a key the settings schema does not declare names a connector, field or signal the tenant chooses.",
							shown.data),
				   pstrdup("Give it a name, or remove it (a patch sets it to null)."));
}

static SettingsProblem *
check_object(Walk *w, JsonbContainer *s, JsonbValue *v, JsonbValue *def)
{
	JsonbContainer *obj = v->val.binary.data;
	JsonbContainer *defobj = (def && IS_OBJECT_VALUE(def)) ? def->val.binary.data : NULL;
	JsonbValue	props,
				addl,
				req,
				k,
				e;
	bool		has_props = get_kw(s, "properties", &props);
	bool		has_addl = get_kw(s, "additionalProperties", &addl);
	JsonbIterator *it;
	JsonbIteratorToken r;

	if (get_kw(s, "required", &req))
	{
		it = JsonbIteratorInit(req.val.binary.data);
		while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			JsonbValue	dummy;

			if (r != WJB_ELEM)
				continue;
			if (getKeyJsonValueFromContainer(obj, e.val.string.val, e.val.string.len, &dummy) ||
				(w->overrides && defobj &&
				 getKeyJsonValueFromContainer(defobj, e.val.string.val, e.val.string.len, &dummy)))
				continue;
			return problem(w->depth > 0 ?
						   psprintf("%s %s lacks the required key %s", w->what, qpath(w),
									quoted(e.val.string.val, e.val.string.len)) :
						   psprintf("%ss lack the required key %s", w->what,
									quoted(e.val.string.val, e.val.string.len)),
						   pstrdup("The settings schema's rule is \"required\"."), NULL);
		}
	}

	it = JsonbIteratorInit(obj);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		JsonbValue	sub,
					childdef,
				   *childdefp = NULL;
		JsonbValue *subschema;
		SettingsProblem *p;

		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &e, true);
		if (has_props &&
			getKeyJsonValueFromContainer(props.val.binary.data, k.val.string.val,
										 k.val.string.len, &sub))
			subschema = &sub;
		else if (has_addl && addl.type == jbvBool && !addl.val.boolean)
			return unknown_key(w, &k, has_props ? props.val.binary.data : NULL);
		else
		{
			/* a key the tenant chooses (a map's, or of a free object) */
			if ((p = chosen_key_problem(w, &k)) != NULL)
				return p;
			subschema = has_addl ? &addl : NULL;	/* NULL: anything */
		}
		if (defobj &&
			getKeyJsonValueFromContainer(defobj, k.val.string.val, k.val.string.len, &childdef))
			childdefp = &childdef;
		push_key(w, k.val.string.val, k.val.string.len);
		p = check_value(w, &e, subschema, childdefp);
		w->depth--;
		if (p != NULL)
			return p;
	}
	return NULL;
}

/* An object member of an override that is null (see check_value). */
static SettingsProblem *
null_member_problem(Walk *w)
{
	return problem(psprintf("%s %s must not be null", w->what, qpath(w)),
				   pstrdup("A stored override cannot be null."),
				   pstrdup("Leave the key out to use the default; a null in the patch given to gtm_update_tenant_settings() removes the override."));
}

/*
 * The first null member of an override's object v or of the objects
 * below it, where the schema says nothing (absent, or true): merged with
 * the defaults, a null member would remove the default at its path, which
 * a stored override never does.  (Arrays replace the default whole: what
 * they hold is kept as given.)
 */
static SettingsProblem *
null_members(Walk *w, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbIteratorToken r;
	JsonbValue	k,
				e;

	if (!IS_OBJECT_VALUE(v))
		return NULL;
	check_stack_depth();
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		SettingsProblem *p = NULL;

		if (r != WJB_KEY)
			continue;
		(void) JsonbIteratorNext(&it, &e, true);
		push_key(w, k.val.string.val, k.val.string.len);
		if (e.type == jbvNull)
			p = null_member_problem(w);
		else
			p = null_members(w, &e);
		w->depth--;
		if (p != NULL)
			return p;
	}
	return NULL;
}

/*
 * The value "const" and "enum" are compared with: an override's object is
 * merged with the default object at the same path first (what the tenant's
 * settings hold there), else the value itself.
 */
static JsonbValue *
value_as_merged(Walk *w, JsonbValue *v, JsonbValue *def, JsonbValue *out)
{
	Jsonb	   *merged;

	if (!w->overrides || def == NULL || !IS_OBJECT_VALUE(v) || !IS_OBJECT_VALUE(def))
		return v;
	merged = jsonb_merge_patch(JsonbValueToJsonb(def), JsonbValueToJsonb(v));
	out->type = jbvBinary;
	out->val.binary.data = &merged->root;
	out->val.binary.len = VARSIZE(merged) - VARHDRSZ;
	return out;
}

/*
 * v against schema s (NULL: true); def is the default at the same path
 * (overrides), for the messages, "required", "const" and "enum".
 */
static SettingsProblem *
check_value(Walk *w, JsonbValue *v, JsonbValue *s, JsonbValue *def)
{
	JsonbContainer *sc;
	JsonbValue	kw;
	JsonbValue	merged;
	SettingsProblem *p;

	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (w->overrides && v->type == jbvNull && w->depth > 0 &&
		w->path[w->depth - 1].key != NULL)
		return null_member_problem(w);
	if (s == NULL || (s->type == jbvBool && s->val.boolean))
	{
		if (w->overrides && (p = null_members(w, v)) != NULL)
			return p;
		return free_numbers(w, v);
	}
	if (s->type == jbvBool)
		return problem(psprintf("%s %s is not allowed", w->what, qpath(w)),
					   pstrdup("The settings schema of this key is false."), NULL);
	sc = s->val.binary.data;
	if (get_kw(sc, "type", &kw) && (p = check_type(w, v, &kw, def)) != NULL)
		return p;
	if (get_kw(sc, "const", &kw) &&
		!values_equal(value_as_merged(w, v, def, &merged), &kw))
		return rule_problem(w, v, psprintf("must be %s", jsonb_value_text(&kw)), "\"const\"", NULL);
	if (get_kw(sc, "enum", &kw) &&
		(p = check_enum(w, value_as_merged(w, v, def, &merged), &kw)) != NULL)
		return p;
	if (v->type == jbvNumeric)
		return check_number(w, sc, v);
	if (v->type == jbvString)
		return check_string(w, sc, v);
	if (v->type == jbvBinary && JsonContainerIsArray(v->val.binary.data))
		return check_array(w, sc, v);
	if (IS_OBJECT_VALUE(v))
		return check_object(w, sc, v, def);
	return NULL;
}

/*
 * The first problem of doc against schema: a tenant's overrides (defs: the
 * defaults in force) or the defaults themselves (defs NULL).
 */
SettingsProblem *
schema_settings_problem(Jsonb *doc, Jsonb *schema, Jsonb *defs)
{
	Walk	   *w = palloc0(sizeof(Walk));
	JsonbValue	root,
				sroot,
				droot;
	Size		size = VARSIZE(doc) - VARHDRSZ;

	w->overrides = (defs != NULL);
	w->what = w->overrides ? "tenant setting" : "default setting";
	root.type = jbvBinary;
	root.val.binary.data = &doc->root;
	root.val.binary.len = size;
	sroot.type = jbvBinary;
	sroot.val.binary.data = &schema->root;
	sroot.val.binary.len = VARSIZE(schema) - VARHDRSZ;
	if (JB_ROOT_IS_OBJECT(schema))
	{
		JsonbValue	r;

		w->rules_1_0_0 = get_kw(&schema->root, SETTINGS_RULES_KEYWORD, &r) &&
			r.type == jbvString;
	}
	if (defs)
	{
		droot.type = jbvBinary;
		droot.val.binary.data = &defs->root;
		droot.val.binary.len = VARSIZE(defs) - VARHDRSZ;
	}
	return check_value(w, &root, &sroot, defs ? &droot : NULL);
}

