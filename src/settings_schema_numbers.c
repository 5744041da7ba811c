/*-------------------------------------------------------------------------
 *
 * settings_schema_numbers.c
 *	  The numbers of the settings as a JSON reader holds them: IEEE doubles.
 *
 * jsonb keeps exact numerics; JavaScript's JSON.parse and PostgreSQL's
 * float8 read doubles.  A setting is valid only as its readers see it, so
 * every number is held to a double's range (check_double), bounds that
 * exclude their value hold for the double too (check_number), and
 * "uniqueItems" compares items by their doubles (double_image), also where
 * the schema says nothing about a number (free_numbers).  Called by the
 * document walk of settings_schema.c.
 *
 * IDENTIFICATION
 *	  src/settings_schema_numbers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/numeric.h"

#include "gtm_clarity.h"
#include "settings.h"

/*
 * Numbers as the application reads them: JSON numbers are IEEE doubles to
 * JavaScript (JSON.parse) and to PostgreSQL's float8, and a setting is
 * valid only as its readers see it.  jsonb keeps exact numerics, so
 * 1e400 (Infinity, written back as null by JSON.stringify) or 1e-400 (0,
 * under "exclusiveMinimum": 0) would pass the rules as stored and break
 * them as read; and a whole number beyond 2^53 - 1 is read as another one.
 */
static Numeric double_max = NULL;
static Numeric double_min = NULL;
static Numeric safe_integer_max = NULL;
static Numeric numeric_zero = NULL;

static Numeric
numeric_const(const char *text, Numeric *slot)
{
	if (*slot == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		*slot = DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(text),
													ObjectIdGetDatum(InvalidOid),
													Int32GetDatum(-1)));
		MemoryContextSwitchTo(old);
	}
	return *slot;
}

/*
 * Does schema s admit whole numbers only ("type": "integer", or an array of
 * types naming "integer" and not "number")?
 */
static bool
type_is_integer_only(JsonbContainer *s)
{
	JsonbValue	t;
	bool		integer = false;
	bool		number = false;

	if (s == NULL || !get_kw(s, "type", &t))
		return false;
	if (t.type == jbvString)
		return t.val.string.len == 7 && memcmp(t.val.string.val, "integer", 7) == 0;
	if (t.type == jbvBinary && JsonContainerIsArray(t.val.binary.data))
	{
		JsonbIterator *it = JsonbIteratorInit(t.val.binary.data);
		JsonbIteratorToken r;
		JsonbValue	e;

		while ((r = JsonbIteratorNext(&it, &e, true)) != WJB_DONE)
		{
			if (r != WJB_ELEM || e.type != jbvString)
				continue;
			if (e.val.string.len == 7 && memcmp(e.val.string.val, "integer", 7) == 0)
				integer = true;
			else if (e.val.string.len == 6 && memcmp(e.val.string.val, "number", 6) == 0)
				number = true;
		}
	}
	return integer && !number;
}

static SettingsProblem *
check_double(Walk *w, JsonbContainer *s, JsonbValue *v)
{
	Numeric		abs;

	if (w->rules_1_0_0)
		return NULL;			/* 1.0.0 held any number numeric holds */
	abs = DatumGetNumeric(DirectFunctionCall1(numeric_abs,
											  NumericGetDatum(v->val.numeric)));

	if (num_cmp(abs, numeric_const("1.7976931348623157e308", &double_max)) > 0)
		return rule_problem(w, v, "is too large for a JSON reader (a double at most 1.7976931348623157e308 in magnitude)",
							"that JSON numbers are read as doubles", NULL);
	if (num_cmp(abs, numeric_const("0", &numeric_zero)) != 0 &&
		num_cmp(abs, numeric_const("2.2250738585072014e-308", &double_min)) < 0)
		return rule_problem(w, v, "is too close to 0 for a JSON reader (a double at least 2.2250738585072014e-308 in magnitude, or 0)",
							"that JSON numbers are read as doubles", NULL);
	if (type_is_integer_only(s) &&
		num_cmp(abs, numeric_const("9007199254740991", &safe_integer_max)) > 0)
		return rule_problem(w, v, "is too large for a whole number a JSON reader holds exactly (at most 9007199254740991 in magnitude)",
							"\"type\": \"integer\"", NULL);
	return NULL;
}

/*
 * n as a JSON reader holds it: the nearest double (a value beyond a
 * double's range becomes an infinity, which stays in order).
 */
static double
reader_double(Numeric n)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow,
											  NumericGetDatum(n)));
}

/* ... written back exactly, as the shortest decimal of that double */
static Numeric
as_double(Numeric n)
{
	char		buf[DOUBLE_SHORTEST_DECIMAL_LEN];
	double		d = reader_double(n);

	if (isinf(d))
		strlcpy(buf, d > 0 ? "Infinity" : "-Infinity", sizeof(buf));
	else
		double_to_shortest_decimal_buf(d, buf);
	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

SettingsProblem *
check_number(Walk *w, JsonbContainer *s, JsonbValue *v)
{
	JsonbValue	b;
	SettingsProblem *p;

	if ((p = check_double(w, s, v)) != NULL)
		return p;
	if (get_kw(s, "minimum", &b) && num_cmp(v->val.numeric, b.val.numeric) < 0)
		return rule_problem(w, v, psprintf("must be at least %s", num_text(b.val.numeric)),
							psprintf("\"minimum\": %s", num_text(b.val.numeric)), NULL);
	/*
	 * A bound that excludes its value holds for the reader's double too:
	 * 1.00000000000000000001 is greater than 1, its double is 1 (round CG).
	 * (An inclusive bound holds for both: rounding keeps the order.)
	 */
	if (get_kw(s, "exclusiveMinimum", &b) &&
		(num_cmp(v->val.numeric, b.val.numeric) <= 0 ||
		 reader_double(v->val.numeric) <= reader_double(b.val.numeric)))
		return rule_problem(w, v, psprintf("must be greater than %s", num_text(b.val.numeric)),
							psprintf("\"exclusiveMinimum\": %s", num_text(b.val.numeric)), NULL);
	if (get_kw(s, "maximum", &b) && num_cmp(v->val.numeric, b.val.numeric) > 0)
		return rule_problem(w, v, psprintf("must be at most %s", num_text(b.val.numeric)),
							psprintf("\"maximum\": %s", num_text(b.val.numeric)), NULL);
	return NULL;
}

/*
 * An array item as a JSON reader holds it, for "uniqueItems": its numbers,
 * at any depth, as the nearest doubles ([1, 1.00000000000000000001] is
 * [1, 1] to the reader, round CG).
 */
Jsonb *
double_image(JsonbValue *e)
{
	JsonbIterator *it;
	JsonbIteratorToken r;
	JsonbParseState *st = NULL;
	JsonbValue	x;
	JsonbValue *res = NULL;

	if (e->type == jbvNumeric)
	{
		x = *e;
		x.val.numeric = as_double(e->val.numeric);
		return JsonbValueToJsonb(&x);
	}
	if (e->type != jbvBinary)
		return JsonbValueToJsonb(e);
	check_stack_depth();
	it = JsonbIteratorInit(e->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &x, false)) != WJB_DONE)
	{
		if ((r == WJB_VALUE || r == WJB_ELEM) && x.type == jbvNumeric)
			x.val.numeric = as_double(x.val.numeric);
		res = pushJsonbValue(&st, r,
							 (r == WJB_KEY || r == WJB_VALUE || r == WJB_ELEM) ? &x : NULL);
	}
	return JsonbValueToJsonb(res);
}

/*
 * The numbers of v, at any depth, where the schema says nothing about them
 * (absent, true, an array without "items"): each is still a number that a
 * JSON reader holds as a double (check_double), the rule of every number
 * of the settings (round CJ: 1e400 was stored under "type": "object").
 */
SettingsProblem *
free_numbers(Walk *w, JsonbValue *v)
{
	JsonbIterator *it;
	JsonbIteratorToken r;
	JsonbValue	k,
				e;
	int			i = 0;
	bool		object;

	if (v->type == jbvNumeric)
		return check_double(w, NULL, v);
	if (v->type != jbvBinary)
		return NULL;
	check_stack_depth();
	object = JsonContainerIsObject(v->val.binary.data);
	it = JsonbIteratorInit(v->val.binary.data);
	while ((r = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		SettingsProblem *p;

		if (object)
		{
			if (r != WJB_KEY)
				continue;
			(void) JsonbIteratorNext(&it, &e, true);
			/* a key of an object the schema leaves free: the tenant's */
			if ((p = chosen_key_problem(w, &k)) != NULL)
				return p;
			push_key(w, k.val.string.val, k.val.string.len);
		}
		else
		{
			if (r != WJB_ELEM)
				continue;
			e = k;
			push_index(w, i++);
		}
		p = free_numbers(w, &e);
		w->depth--;
		if (p != NULL)
			return p;
	}
	return NULL;
}
