/*-------------------------------------------------------------------------
 *
 * settings_schema_paths.c
 *	  What the two walks of the settings schema share: the path of the
 *	  value at hand (written out only for a message), keyword lookup, JSON
 *	  type names, numbers, and the nearest known word for a typo.
 *
 * settings_schema.c walks a document against a schema,
 * settings_schema_meta.c a schema against the keywords it may use; both
 * report a problem at a path, "scoring.weights[2]" in a document or
 * "#/properties/scoring/type" in a schema.
 *
 * IDENTIFICATION
 *	  src/settings_schema_paths.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <limits.h>

#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/jsonb.h"
#include "utils/numeric.h"
#include "utils/varlena.h"

#include "gtm_clarity.h"
#include "settings.h"

/* ----------------------------------------------------------------
 *		Paths
 * ----------------------------------------------------------------
 */

void
push_key(Walk *w, const char *key, int len)
{
	w->path[w->depth].key = key;
	w->path[w->depth].keylen = len;
	w->depth++;
}

void
push_index(Walk *w, int i)
{
	w->path[w->depth].key = NULL;
	w->path[w->depth].index = i;
	w->depth++;
}

/* "scoring.weights[2]"; upto elements */
char *
path_upto(Walk *w, int upto)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < upto; i++)
	{
		if (w->path[i].key == NULL)
			appendStringInfo(&buf, "[%d]", w->path[i].index);
		else
		{
			if (i > 0)
				appendStringInfoChar(&buf, '.');
			appendBinaryStringInfo(&buf, w->path[i].key, w->path[i].keylen);
		}
	}
	return buf.data;
}

/* Schema paths, JSON-Pointer-like: "#/properties/scoring/type". */
char *
schema_path(Walk *w)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '#');
	for (int i = 0; i < w->depth; i++)
	{
		appendStringInfoChar(&buf, '/');
		if (w->path[i].key == NULL)
			appendStringInfo(&buf, "%d", w->path[i].index);
		else
			appendBinaryStringInfo(&buf, w->path[i].key, w->path[i].keylen);
	}
	return quoted(buf.data, -1);
}

/* ----------------------------------------------------------------
 *		Small helpers
 * ----------------------------------------------------------------
 */
bool
get_kw(JsonbContainer *schema, const char *kw, JsonbValue *out)
{
	return getKeyJsonValueFromContainer(schema, kw, strlen(kw), out) != NULL;
}

/* JSON type name of v (a value from a container or a scalar). */
const char *
type_of(JsonbValue *v)
{
	return JsonbTypeName(v);
}

bool
numeric_is_integral(Numeric n)
{
	if (numeric_is_nan(n) || numeric_is_inf(n))
		return false;
	return DatumGetBool(DirectFunctionCall2(numeric_eq, NumericGetDatum(n),
											DirectFunctionCall2(numeric_trunc,
																NumericGetDatum(n),
																Int32GetDatum(0))));
}

int
num_cmp(Numeric a, Numeric b)
{
	return DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(a),
											 NumericGetDatum(b)));
}

char *
num_text(Numeric n)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, NumericGetDatum(n)));
}

/* The nearest of words to word, as a likely typo, or NULL. */
const char *
nearest_word(const char *word, int len, const char *const *words, int n)
{
	const char *best = NULL;
	int			best_d = INT_MAX;

	if (len > 255)
		return NULL;
	for (int i = 0; i < n; i++)
	{
		int			wl = strlen(words[i]);
		int			d = varstr_levenshtein(word, len, words[i], wl, 1, 1, 1, true);

		if (d < best_d && d <= Max(2, Max(len, wl) / 3))
		{
			best_d = d;
			best = words[i];
		}
	}
	return best;
}

