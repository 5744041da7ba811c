/*-------------------------------------------------------------------------
 *
 * settings_merge.c
 *	  gtm_jsonb_merge: JSON Merge Patch (RFC 7396) of tenant settings.
 *
 * The deep merge of a tenant's overrides with the system defaults, in one
 * pass over both objects' keys in jsonb's sorted order (Jsonb iterators),
 * checking for interrupts at every key.
 *
 * IDENTIFICATION
 *	  src/settings_merge.c
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

PG_FUNCTION_INFO_V1(gtm_jsonb_merge);


/* ----------------------------------------------------------------
 *		JSON Merge Patch (RFC 7396)
 * ----------------------------------------------------------------
 */

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
Jsonb *
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

