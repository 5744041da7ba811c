/*-------------------------------------------------------------------------
 *
 * enforce_payload.c
 *	  What a plan carries for the check made when it starts.
 *
 * judge_plan() attaches to an accepted plan what enforce_runtime.c checks
 * when the plan starts (its pins; enforce_key.c's unique-key lookups;
 * enforce_planning.c's tenant of the functions the planner ran;
 * enforce_distributed.c's folded tenant).  PlannedStmt has no field for an
 * extension, and the plan cache copies plans: they travel in the plan's
 * invalItems, as PlanInvalItems whose cacheId no syscache has, so no
 * invalidation ever matches them.  A payload is a header item (its kind,
 * and its length in hashValue) followed by data items of seven bytes each;
 * write_plan_payload() writes one, read_plan_payload(s)() gather them.
 *
 * The constant pins of plans, kept once per backend.  Most statements are
 * pinned by one constant, the tenant's id written in the statement.  For
 * such a plan attach_statement_pins() writes no payload: the tenant and the
 * label of the reference that pins it ("relid:alias", for messages) are
 * interned here, each once per backend, and the plan carries a single
 * item (GTM_CONSTPIN_CACHEID) whose hashValue holds the two indexes.  The
 * executor's start reads them back with two array lookups, where a payload
 * would be gathered byte by byte.
 *
 * An index a plan holds must stay valid for as long as the plan lives: in
 * the plan cache, for the backend's life.  So entries are never removed or
 * moved, and what they point to is never freed.  A plan never leaves its
 * backend with its invalItems (a parallel worker's copy has none, and
 * enforcement skips parallel workers).  Memory is bounded: at most
 * INTERN_MAX_TENANTS tenants of at most INTERN_MAX_TENANT_LEN bytes and
 * INTERN_MAX_LABELS labels (well under 1 MB); a value beyond those bounds
 * (and every value once they are reached, which only a statement-generating
 * attacker or a backend serving thousands of tenants would do) is written
 * as a payload: slower, never different.  Nothing here reads the catalog
 * or raises an error once an entry is being linked in (its memory is
 * allocated first), so an error at any point leaves both sets consistent.
 *
 * IDENTIFICATION
 *	  src/enforce_payload.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "lib/stringinfo.h"
#include "nodes/plannodes.h"
#include "utils/memutils.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * PlanInvalItem.cacheIds of the payload, none a syscache id (those are
 * small and non-negative, so no invalidation ever matches an item).  The
 * header carries the payload's length in its hashValue; each data item
 * carries 7 bytes: 3 in its cacheId, within [GTM_PINS_DATA_BASE,
 * GTM_PINS_DATA_BASE + 2^24), and 4 in its hashValue.
 */
#define GTM_PINS_DATA_BASE		(PG_INT32_MIN)
#define GTM_MAX_PAYLOAD			65536
#define IS_PINS_DATA(id)		((id) < GTM_PINS_DATA_BASE + (1 << 24))

/* ----------------------------------------------------------------
 *		Payloads
 * ----------------------------------------------------------------
 */

/*
 * A List of the n items: one allocation for the short payloads of most
 * statements (a header and up to four data items), where lappend would
 * make one per growth.
 */
static List *
item_list(PlanInvalItem *items, int n)
{
	List	   *list;

	switch (n)
	{
		case 2:
			return list_make2(&items[0], &items[1]);
		case 3:
			return list_make3(&items[0], &items[1], &items[2]);
		case 4:
			return list_make4(&items[0], &items[1], &items[2], &items[3]);
		case 5:
			return list_make5(&items[0], &items[1], &items[2], &items[3],
							  &items[4]);
		default:
			list = NIL;
			for (int i = 0; i < n; i++)
				list = lappend(list, &items[i]);
			return list;
	}
}

/*
 * Append a payload of len bytes (NUL included) to the plan's invalItems
 * under the header id "kind".  padded holds the payload followed by zeros
 * up to a whole number of items (7 * (PAYLOAD_ITEMS(len) - 1) bytes), so
 * that every item takes a fixed 7 bytes.
 */
void
write_padded_payload(PlannedStmt *stmt, int kind, const unsigned char *padded,
					 int len)
{
	PlanInvalItem *items;
	int			nitems = PAYLOAD_ITEMS(len);

	/*
	 * A tenant value is an id: one of many kilobytes is a way to make every
	 * plan of it huge (one item per 7 bytes), not a tenant.
	 */
	if (len > GTM_MAX_PAYLOAD)
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("tenant values of the statement are too long"),
				 errdetail("They take %d bytes; the limit is %d.", len, GTM_MAX_PAYLOAD),
				 err_tenant_scope(InvalidOid),
				 errhint("Pin tenant-scoped tables to tenant ids.")));

	/*
	 * All items in one allocation: nodes of a plan are copied one by one
	 * (copyObject) and freed with their memory context, never one by one.
	 */
	items = palloc(nitems * sizeof(PlanInvalItem));
	if (stmt->invalItems == NIL)	/* (list_concat would copy the list) */
		stmt->invalItems = item_list(items, nitems);
	else
		stmt->invalItems = list_concat(stmt->invalItems, item_list(items, nitems));
	items[0].type = T_PlanInvalItem;
	items[0].cacheId = kind;
	items[0].hashValue = (uint32) len;
	for (int n = 1; n < nitems; n++, padded += 7)
	{
		items[n].type = T_PlanInvalItem;
		items[n].cacheId = GTM_PINS_DATA_BASE +
			(int) (padded[0] | (padded[1] << 8) | (padded[2] << 16));
		items[n].hashValue = (uint32) padded[3] | ((uint32) padded[4] << 8) |
			((uint32) padded[5] << 16) | ((uint32) padded[6] << 24);
	}
}

/*
 * Append a payload (len bytes, NUL included) to the plan's invalItems
 * under the header id "kind" (GTM_PINS_CACHEID here, GTM_KEYS_CACHEID for
 * enforce_key.c's lookups).
 */
void
write_plan_payload(PlannedStmt *stmt, int kind, const char *payload, int len)
{
	int			padded_len = 7 * (PAYLOAD_ITEMS(len) - 1);
	unsigned char *padded = palloc0(Max(padded_len, 1));

	memcpy(padded, payload, len);
	write_padded_payload(stmt, kind, padded, len);
	pfree(padded);
}


/* Append the 7 bytes of a data item to a payload being gathered. */
static inline void
append_payload_item(PlanInvalItem *item, StringInfo into, int len)
{
	uint32		lo = (uint32) (item->cacheId - GTM_PINS_DATA_BASE);
	uint32		hi = item->hashValue;
	char	   *d = into->data + into->len;

	d[0] = lo & 0xff;
	d[1] = (lo >> 8) & 0xff;
	d[2] = (lo >> 16) & 0xff;
	d[3] = hi & 0xff;
	d[4] = (hi >> 8) & 0xff;
	d[5] = (hi >> 16) & 0xff;
	d[6] = (hi >> 24) & 0xff;
	into->len += Min(7, len - into->len);
}

/* Start gathering a payload of len bytes into "into". */
static void
start_payload(StringInfo into, int len)
{
	if (into->data == NULL)
		initStringInfo(into);
	resetStringInfo(into);
	enlargeStringInfo(into, len + 7);
}

/* A gathered payload, or NULL when it is absent or incomplete. */
static inline char *
payload_done(StringInfo into, int len)
{
	if (len <= 1 || into->len != len || into->data[len - 1] != '\0')
		return NULL;
	return into->data;
}

/*
 * Does the plan carry unique-key pins?  attach_key_pins puts a mark first
 * among its invalItems (the executor's start asks this of every plan).
 */
bool
plan_has_key_pins(PlannedStmt *stmt)
{
	return stmt->invalItems != NIL &&
		((PlanInvalItem *) linitial(stmt->invalItems))->cacheId == GTM_KEYS_MARK_CACHEID;
}

/*
 * The payload of header id kind of a plan (one written by
 * write_plan_payload for another file: enforce_distributed.c), gathered
 * into buf (initialised here if its data is NULL), or NULL when the plan
 * has none.
 */
char *
read_plan_payload(List *invalItems, int kind, StringInfo buf)
{
	ListCell   *lc;
	int			len = -1;
	bool		mine = false;

	foreach(lc, invalItems)
	{
		PlanInvalItem *item = lfirst(lc);

		if (IS_PINS_DATA(item->cacheId))
		{
			if (mine && len > buf->len)
				append_payload_item(item, buf, len);
		}
		else if (item->cacheId == kind && len < 0)
		{
			len = (int) item->hashValue;
			start_payload(buf, len);
			mine = true;
		}
		else
			mine = false;
	}
	return payload_done(buf, len);
}

/*
 * The payloads of header ids GTM_PINS_CACHEID and GTM_KEYS_CACHEID of a
 * plan, gathered in one pass over its invalItems into "pins" and "keys"
 * (each initialised here if its data is NULL); *pins_out and *keys_out
 * are NULL when the plan has none.  A payload's data items follow its
 * header; only the first header of each id counts.
 */
void
read_plan_payloads(List *invalItems, StringInfo pins, char **pins_out,
				   StringInfo keys, char **keys_out,
				   StringInfo planned, char **planned_out,
				   PlanInvalItem **pinitem, bool *trusted)
{
	ListCell   *lc;
	int			pins_len = -1;
	int			keys_len = -1;
	int			planned_len = -1;
	StringInfo	cur = NULL;		/* the payload whose header came last */
	int			cur_len = -1;

	foreach(lc, invalItems)
	{
		PlanInvalItem *item = lfirst(lc);

		if (IS_PINS_DATA(item->cacheId))
		{
			if (cur != NULL && cur_len > cur->len)
				append_payload_item(item, cur, cur_len);
		}
		else if (unlikely(item->cacheId == GTM_TRUSTED_CACHEID))
		{
			*trusted = true;	/* read on its own: rare */
			cur = NULL;
		}
		else if ((item->cacheId == GTM_CONSTPIN_CACHEID ||
				  item->cacheId == GTM_PARAMPIN_CACHEID) && pins_len < 0)
		{
			/* the pins, interned: no payload follows */
			*pinitem = item;
			pins_len = 0;
			cur = NULL;
		}
		else if (item->cacheId == GTM_PINS_CACHEID && pins_len < 0)
		{
			pins_len = (int) item->hashValue;
			start_payload(pins, pins_len);
			cur = pins;
			cur_len = pins_len;
		}
		else if (item->cacheId == GTM_KEYS_CACHEID && keys_len < 0)
		{
			keys_len = (int) item->hashValue;
			start_payload(keys, keys_len);
			cur = keys;
			cur_len = keys_len;
		}
		else if (unlikely(item->cacheId == GTM_PLANNED_CACHEID) && planned_len < 0)
		{
			planned_len = (int) item->hashValue;
			start_payload(planned, planned_len);
			cur = planned;
			cur_len = planned_len;
		}
		else
			cur = NULL;
	}
	*pins_out = payload_done(pins, pins_len);
	*keys_out = payload_done(keys, keys_len);
	*planned_out = payload_done(planned, planned_len);
}


/* ----------------------------------------------------------------
 *		Constant pins, interned
 * ----------------------------------------------------------------
 */

#define INTERN_MAX_TENANTS		4096
#define INTERN_MAX_LABELS		2048
#define INTERN_MAX_TENANT_LEN	128

/* One interned value: its key (hashed and compared) and the text kept */
typedef struct Interned
{
	uint32		hash;
	Oid			relid;			/* labels: the relation; tenants: 0 */
	uint32		keylen;
	const char *key;			/* tenants: the tenant; labels: the alias */
	uint32		textlen;
	const char *text;			/* tenants: the tenant; labels: "relid:alias" */
} Interned;

/* A set of interned values: an array and an open-addressing index */
typedef struct InternSet
{
	Interned   *items;
	int			n;
	int			allocated;
	int			max;
	uint16	   *slots;			/* an item's index + 1, or 0: free */
	uint32		nslots;			/* a power of two, at least 2 * n */
} InternSet;

StaticAssertDecl(INTERN_MAX_TENANTS < PG_UINT16_MAX &&
				 INTERN_MAX_LABELS < PG_UINT16_MAX,
				 "indexes are packed in 16 bits each");

/* The tenant and labels found last, looked at before hashing */
#define RECENT_LABELS			4
static int	last_tenant = -1;
static int	recent_labels[RECENT_LABELS] = {-1, -1, -1, -1};
static int	recent_next = 0;

static MemoryContext intern_cxt = NULL;
static InternSet tenant_set GTM_HOT_DATA = {NULL, 0, 0, INTERN_MAX_TENANTS, NULL, 0};
static InternSet label_set GTM_HOT_DATA = {NULL, 0, 0, INTERN_MAX_LABELS, NULL, 0};

static inline uint32
intern_hash(const char *key, uint32 len, Oid relid)
{
	return hash_bytes((const unsigned char *) key, (int) len) ^
		(relid * 0x9E3779B1U);
}

/* The index of (key, relid) in set, or -1 */
static int
intern_find(InternSet *set, const char *key, uint32 len, Oid relid,
			uint32 hash)
{
	uint32		mask = set->nslots - 1;
	uint32		i;
	uint16		v;

	if (set->nslots == 0)
		return -1;
	for (i = hash & mask; (v = set->slots[i]) != 0; i = (i + 1) & mask)
	{
		Interned   *e = &set->items[v - 1];

		if (e->hash == hash && e->keylen == len && e->relid == relid &&
			memcmp(e->key, key, len) == 0)
			return v - 1;
	}
	return -1;
}

/*
 * Make room for one more item: a larger array and index, built aside and
 * swapped in only once complete (an allocation failure changes nothing).
 */
static void
intern_grow(InternSet *set)
{
	if (intern_cxt == NULL)
		intern_cxt = AllocSetContextCreate(TopMemoryContext,
										   "gtm_clarity interned pins",
										   ALLOCSET_SMALL_SIZES);
	if (set->n == set->allocated)
	{
		int			allocated = Max(16, set->allocated * 2);
		Interned   *items = MemoryContextAlloc(intern_cxt,
											   allocated * sizeof(Interned));

		if (set->n > 0)
			memcpy(items, set->items, set->n * sizeof(Interned));
		if (set->items != NULL)
			pfree(set->items);
		set->items = items;
		set->allocated = allocated;
	}
	if ((uint32) (set->n + 1) * 2 > set->nslots)
	{
		uint32		nslots = Max(32, set->nslots * 2);
		uint16	   *slots = MemoryContextAllocZero(intern_cxt,
												   nslots * sizeof(uint16));

		for (int k = 0; k < set->n; k++)
		{
			uint32		i = set->items[k].hash & (nslots - 1);

			while (slots[i] != 0)
				i = (i + 1) & (nslots - 1);
			slots[i] = (uint16) (k + 1);
		}
		if (set->slots != NULL)
			pfree(set->slots);
		set->slots = slots;
		set->nslots = nslots;
	}
}

/*
 * The index of (key, relid) in set, added with text (copied) if absent, or
 * -1 when the set is full.
 */
static int
intern_add(InternSet *set, const char *key, uint32 len, Oid relid,
		   const char *text, uint32 textlen, uint32 hash)
{
	char	   *keycopy;
	char	   *textcopy;
	Interned   *e;
	uint32		i;

	if (set->n >= set->max)
		return -1;
	intern_grow(set);
	keycopy = MemoryContextAlloc(intern_cxt, len + 1 + (key == text ? 0 : textlen + 1));
	memcpy(keycopy, key, len);
	keycopy[len] = '\0';
	if (key == text)
		textcopy = keycopy;
	else
	{
		textcopy = keycopy + len + 1;
		memcpy(textcopy, text, textlen);
		textcopy[textlen] = '\0';
	}
	/* nothing can fail from here on */
	e = &set->items[set->n];
	e->hash = hash;
	e->relid = relid;
	e->keylen = len;
	e->key = keycopy;
	e->textlen = textlen;
	e->text = textcopy;
	for (i = hash & (set->nslots - 1); set->slots[i] != 0;
		 i = (i + 1) & (set->nslots - 1))
		;
	set->slots[i] = (uint16) (set->n + 1);
	return set->n++;
}

/*
 * The index of the label of a reference (relation relid, alias) in
 * label_set, added if absent, or -1 when a bound is reached.
 */
static int
intern_label(Oid relid, const char *alias)
{
	uint32		alen = strlen(alias);
	uint32		lh;
	int			l;

	if (alen >= NAMEDATALEN)
		return -1;
	/* the statements of a request name few tables */
	for (int k = 0; k < RECENT_LABELS; k++)
	{
		int			r = recent_labels[k];

		if (r >= 0 && label_set.items[r].relid == relid &&
			label_set.items[r].keylen == alen &&
			memcmp(label_set.items[r].key, alias, alen) == 0)
			return r;
	}
	lh = intern_hash(alias, alen, relid);
	l = intern_find(&label_set, alias, alen, relid, lh);
	if (l < 0)
	{
		char		label[NAMEDATALEN + 16];
		int			llen = snprintf(label, sizeof(label), "%u:%s", relid, alias);

		l = intern_add(&label_set, alias, alen, relid, label, llen, lh);
	}
	if (l < 0)
		return -1;
	recent_labels[recent_next] = l;
	recent_next = (recent_next + 1) % RECENT_LABELS;
	return l;
}

/*
 * Intern a constant pin: tenant (tlen bytes) and the label of the
 * reference (relation relid, alias).  Sets *packed to the two indexes and
 * returns true, or returns false when a bound is reached (the caller writes
 * a payload instead).
 */
bool
intern_const_pin(const char *tenant, int tlen, Oid relid, const char *alias,
				 uint32 *packed)
{
	uint32		th;
	int			t;
	int			l;

	if (tlen > INTERN_MAX_TENANT_LEN || strlen(alias) >= NAMEDATALEN)
		return false;

	/* the statements of a request mostly repeat the last tenant */
	t = last_tenant;
	if (t < 0 || tenant_set.items[t].keylen != (uint32) tlen ||
		memcmp(tenant_set.items[t].key, tenant, tlen) != 0)
	{
		th = intern_hash(tenant, tlen, InvalidOid);
		t = intern_find(&tenant_set, tenant, tlen, InvalidOid, th);
		if (t < 0)
			t = intern_add(&tenant_set, tenant, tlen, InvalidOid, tenant, tlen, th);
		if (t < 0)
			return false;
		last_tenant = t;
	}

	/* and the few tables they name */
	l = intern_label(relid, alias);
	if (l < 0)
		return false;
	*packed = ((uint32) t << 16) | (uint32) l;
	return true;
}

/*
 * The tenant and label of a packed constant pin (a plan's item), or false
 * when it names no entry (never, for a plan this backend made).
 */
bool
interned_const_pin(uint32 packed, const char **tenant, int *tlen,
				   const char **label, int *llen)
{
	int			t = (int) (packed >> 16);
	int			l = (int) (packed & 0xffff);

	if (t >= tenant_set.n || l >= label_set.n)
		return false;
	*tenant = tenant_set.items[t].text;
	*tlen = (int) tenant_set.items[t].textlen;
	*label = label_set.items[l].text;
	*llen = (int) label_set.items[l].textlen;
	return true;
}

/*
 * The types of a parameter pin that intern_param_pin packs, by their index
 * in these 4 bits (0: none): those of tenant columns.  Another type, or a
 * parameter number beyond 12 bits, is written as a payload ("P").
 */
static const Oid param_pin_types[] = {
	InvalidOid, TEXTOID, VARCHAROID, BPCHAROID, NAMEOID, INT2OID, INT4OID,
	INT8OID, UUIDOID
};

StaticAssertDecl(lengthof(param_pin_types) <= 16, "a type's index is packed in 4 bits");

#define PARAM_PIN_MAX_ID		4095

/*
 * Intern a pin by one bound parameter ($paramid of type paramtype) of the
 * reference (relation relid, alias): *packed holds the parameter's number,
 * its type's index and the label's index.  False when it cannot be packed
 * or a bound is reached (the caller writes a payload instead).
 */
bool
intern_param_pin(int paramid, Oid paramtype, Oid relid, const char *alias,
				 uint32 *packed)
{
	int			code = 0;
	int			l;

	for (int k = 1; k < (int) lengthof(param_pin_types); k++)
		if (param_pin_types[k] == paramtype)
			code = k;
	if (code == 0 || paramid < 1 || paramid > PARAM_PIN_MAX_ID)
		return false;
	l = intern_label(relid, alias);
	if (l < 0)
		return false;
	*packed = ((uint32) paramid << 20) | ((uint32) code << 16) | (uint32) l;
	return true;
}

/*
 * The parameter, its type and the label of a packed parameter pin (a
 * plan's item), or false when it names no entry (never, for a plan this
 * backend made).
 */
bool
interned_param_pin(uint32 packed, int *paramid, Oid *paramtype,
				   const char **label, int *llen)
{
	int			code = (int) ((packed >> 16) & 0xf);
	int			l = (int) (packed & 0xffff);

	if (code == 0 || code >= (int) lengthof(param_pin_types) || l >= label_set.n)
		return false;
	*paramid = (int) (packed >> 20);
	*paramtype = param_pin_types[code];
	*label = label_set.items[l].text;
	*llen = (int) label_set.items[l].textlen;
	return true;
}
