/*-------------------------------------------------------------------------
 *
 * enforce_identity.c
 *	  Which equalities are identities: only those pin a tenant.
 *
 * An equality "tenant_col = v" pins the column to one tenant only when
 * "equal" means "identical" for the compared type and collation; otherwise
 * two distinct stored values, possibly two tenants, compare equal.
 * enforce_pin.c asks equality_is_identity() for every pinning clause,
 * enforce_key.c for the class of a unique-key pin, enforce_judge.c
 * (opfamily_is_identity) for the tenant column of an ON CONFLICT arbiter.
 *
 * IDENTIFICATION
 *	  src/enforce_identity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "catalog/pg_type.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "enforce.h"

/*
 * Identity of equalities.  An equality pins a tenant only when "equal"
 * means "identical" for the compared type and collation: numeric 1.0 =
 * 1.00, float -0 = 0, interval '1 day' = '24 hours', citext 'A' = 'a' and
 * strings under a nondeterministic collation compare equal although they
 * are distinct values, hence possibly distinct tenants.  PostgreSQL says
 * which equalities are identities with the btree "equalimage" support
 * function (BTEQUALIMAGE_PROC), which nbtree deduplication relies on: an
 * opclass without one, or whose function answers false for the collation,
 * has equal values that are not interchangeable.
 *
 * The answers are cached by (operator, side, collation); any change to
 * pg_amproc or pg_amop empties the cache.
 */
typedef struct IdentityEntry
{
	Oid			opno;
	Oid			collid;
	bool		col_on_left;
	bool		identity;
} IdentityEntry;

#define IDENTITY_CACHE_SIZE 16
static IdentityEntry identity_cache[IDENTITY_CACHE_SIZE];
static int	identity_cache_used = 0;
static int	identity_cache_next = 0;

static void
identity_cache_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	identity_cache_used = 0;
	identity_cache_next = 0;
}

/*
 * Are equal values of type (an input type of the btree opfamily family)
 * identical under collation collid?  Asks the opfamily's equalimage
 * function, as nbtree deduplication does (_bt_allequalimage).
 */
bool
opfamily_is_identity(Oid family, Oid type, Oid collid)
{
	Oid			proc = get_opfamily_proc(family, type, type, BTEQUALIMAGE_PROC);

	if (!OidIsValid(proc))
		return false;
	if (type_is_collatable(type) && !OidIsValid(collid))
		return false;
	return DatumGetBool(OidFunctionCall1Coll(proc, collid,
											 ObjectIdGetDatum(type)));
}

/*
 * Does "col = v" under the btree equality opno (opfamilies: its btree
 * families if the caller has them, else NIL) and collation collid imply
 * that the column holds exactly v's value?  col_on_left says on which side
 * of the operator the column is, which decides the input type whose
 * equalimage function is asked (cross-type operators: int4 = int8 asks
 * int4's).
 */
bool
equality_is_identity(Oid opno, List *opfamilies, bool col_on_left, Oid collid)
{
	ListCell   *lc;
	bool		identity = false;
	IdentityEntry *ent;

	for (int i = 0; i < identity_cache_used; i++)
	{
		ent = &identity_cache[i];
		if (ent->opno == opno && ent->collid == collid &&
			ent->col_on_left == col_on_left)
			return ent->identity;
	}

	if (opfamilies == NIL)
		opfamilies = get_mergejoin_opfamilies(opno);
	foreach(lc, opfamilies)
	{
		Oid			family = lfirst_oid(lc);
		int			strategy;
		Oid			lefttype,
					righttype,
					side;

		if (!op_in_opfamily(opno, family))
			continue;
		get_op_opfamily_properties(opno, family, false, &strategy,
								   &lefttype, &righttype);
		if (strategy != BTEqualStrategyNumber)
			continue;
		side = col_on_left ? lefttype : righttype;
		if (opfamily_is_identity(family, side, collid))
		{
			identity = true;
			break;
		}
	}

	ent = &identity_cache[identity_cache_next];
	ent->opno = opno;
	ent->collid = collid;
	ent->col_on_left = col_on_left;
	ent->identity = identity;
	identity_cache_next = (identity_cache_next + 1) % IDENTITY_CACHE_SIZE;
	if (identity_cache_used < IDENTITY_CACHE_SIZE)
		identity_cache_used++;
	return identity;
}

/*
 * Unbounded bpchar (a column declared "bpchar" without a length) stores
 * trailing spaces that its equality ignores: 'T1' and 'T1 ' are equal and
 * distinct.  Recent minor releases of PostgreSQL 15 answer so for every
 * bpchar in btequalimage/btvarstrequalimage; earlier ones answered that
 * equal values are identical, hence this check of our own.
 */
bool
unbounded_bpchar(Oid type, int32 typmod)
{
	Oid			base = getBaseTypeAndTypmod(type, &typmod);

	return base == BPCHAROID && typmod < 0;
}

/* Called once from _PG_init (through enforce_pin_init). */
void
enforce_identity_init(void)
{
	CacheRegisterSyscacheCallback(AMPROCNUM, identity_cache_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(AMOPOPID, identity_cache_inval, (Datum) 0);
}
