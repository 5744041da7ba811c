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
 * Tenant values are also compared outside the planner, as text: the pins
 * of a statement when it starts, the tenant the running top-level statement
 * has reached, gtm_pin(), the rows of COPY and of unique-key pins.  That
 * text must be one value's alone (tenant_value_text), and so must the
 * casts a pin may wear (strip_fixed_casts).
 *
 * IDENTIFICATION
 *	  src/enforce_identity.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/nbtree.h"
#include "access/transam.h"
#include "catalog/pg_amproc.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

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
static int	identity_cache_last = 0;	/* the entry found last: asked first */
static uint64 identity_cache_resets = 0;	/* invalidations so far */

static void
identity_cache_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	identity_cache_resets++;
	identity_cache_used = 0;
	identity_cache_next = 0;
	identity_cache_last = 0;
}

static bool family_says_identity(Oid family, Oid type, Oid collid);

/* Is collid a nondeterministic collation (the built-in ones are not)? */
bool
collation_is_nondeterministic(Oid collid)
{
	return OidIsValid(collid) && collid != DEFAULT_COLLATION_OID &&
		collid != C_COLLATION_OID && collid != POSIX_COLLATION_OID &&
		!get_collation_isdeterministic(collid);
}

/*
 * Are equal values of type (an input type of the btree opfamily family)
 * identical under collation collid?  Asks the opfamily's equalimage
 * function, as nbtree deduplication does (_bt_allequalimage), and the
 * type's default btree family too; never under a nondeterministic
 * collation.
 */
bool
opfamily_is_identity(Oid family, Oid type, Oid collid)
{
	TypeCacheEntry *tce;

	/*
	 * Only the type's own equality, that of its default btree operator
	 * class, is asked, and only its default family answers.  Another
	 * family says nothing about the values the column holds: an operator
	 * class a DBA made from a template with the generic btequalimage
	 * (round CZ: one for numeric, used by no index, made "tenant_id = 1.0"
	 * read and delete tenant 1.00 too), text_pattern_ops under a
	 * nondeterministic collation, or a family whose equality is an
	 * operator of the DBA's (round DA: a case-insensitive "=~=" with
	 * text_ops' equalimage, by which a pin and a unique index as ON
	 * CONFLICT arbiter read and changed another tenant's row).  A family
	 * other than the default one counts when its equality of the type is
	 * the type's own "=" (text_pattern_ops' is: an index with it is unique
	 * by that equality).
	 */
	tce = lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY | TYPECACHE_EQ_OPR);
	if (!OidIsValid(tce->btree_opf) || !OidIsValid(tce->eq_opr))
		return false;
	if (family != tce->btree_opf &&
		get_opfamily_member(family, type, type, BTEqualStrategyNumber) != tce->eq_opr)
		return false;
	return family_says_identity(tce->btree_opf, type, collid);
}

/* The default btree family of type (InvalidOid if none) */
static Oid
default_btree_family(Oid type)
{
	return lookup_type_cache(type, TYPECACHE_BTREE_OPFAMILY)->btree_opf;
}

/* What family's equalimage function answers for type under collid */
static bool
family_says_identity(Oid family, Oid type, Oid collid)
{
	HeapTuple	tup;
	Form_pg_amproc amproc;
	Oid			proc;
	bool		shipped;

	/*
	 * Only PostgreSQL's own answer counts: a family, and an equalimage
	 * entry of it, that the system was initialised with.  Operator classes
	 * and support functions are a DBA's to create, and one that says
	 * "identical" of a looser equality makes every pin by it span tenants
	 * (rounds CZ, DA, DB: a class for numeric, a case-insensitive operator
	 * with text_ops' function, a DEFAULT class of a DBA's enum type whose
	 * "=" is always true).  The type of a tenant column is a built-in one,
	 * or a domain or enum over the built-in classes.
	 */
	if (family >= FirstNormalObjectId)
		return false;
	tup = SearchSysCache4(AMPROCNUM, ObjectIdGetDatum(family),
						  ObjectIdGetDatum(type), ObjectIdGetDatum(type),
						  Int16GetDatum(BTEQUALIMAGE_PROC));
	if (!HeapTupleIsValid(tup))
		return false;
	amproc = (Form_pg_amproc) GETSTRUCT(tup);
	proc = amproc->amproc;
	shipped = amproc->oid < FirstNormalObjectId && proc < FirstNormalObjectId;
	ReleaseSysCache(tup);
	if (!shipped)
		return false;
	if (type_is_collatable(type) && !OidIsValid(collid))
		return false;

	/*
	 * Equal under a nondeterministic collation is not identical ('acme'
	 * and 'ACME' under a case-insensitive one), whatever a family's
	 * equalimage function says: text_pattern_ops has the generic
	 * btequalimage, which answers yes for any collation, and text's "="
	 * is in that family too (round CY: a unique-key pin, whose equivalence
	 * class lists both families, read, updated and deleted the rows of a
	 * tenant that differs only in case).
	 */
	if (collation_is_nondeterministic(collid))
		return false;
	return DatumGetBool(OidFunctionCall1Coll(proc, collid,
											 ObjectIdGetDatum(type)));
}

/*
 * A cross-type equality converts one side to the other's type on every
 * comparison.  Between the integers, and between text and name, that
 * conversion reads nothing but the values; between date, timestamp and
 * timestamptz (datetime_ops, the one btree family of the core whose
 * cross-type members read a setting) it reads TimeZone, which the
 * statement itself can change between two rows (set_config(), SET LOCAL
 * between two FETCHes): timestamptz_col = '2020-01-01 00:00'::timestamp
 * then matches another stored instant after the change, while the value
 * compared when the statement started stays the same.  Any pair not listed
 * here is no identity.
 */
static bool
type_is_integer(Oid typid)
{
	return typid == INT2OID || typid == INT4OID || typid == INT8OID;
}

bool
cross_type_reads_no_setting(Oid lefttype, Oid righttype)
{
	if (type_is_integer(lefttype) && type_is_integer(righttype))
		return true;
	return (lefttype == TEXTOID || lefttype == NAMEOID) &&
		(righttype == TEXTOID || righttype == NAMEOID);
}

/*
 * Does "col = v" under the btree equality opno (opfamilies: its btree
 * families if the caller has them, else NIL) and collation collid imply
 * that the column holds exactly v's value?  col_on_left says on which side
 * of the operator the column is, which decides the input type whose
 * equalimage function is asked (cross-type operators: int4 = int8 asks
 * int4's).
 */
static pg_noinline bool equality_is_identity_slow(Oid opno, List *opfamilies,
												 bool col_on_left, Oid collid);

bool
equality_is_identity(Oid opno, List *opfamilies, bool col_on_left, Oid collid)
{
	/* the operator asked last (usually the tenant column's every time) */
	if (likely(identity_cache_last < identity_cache_used))
	{
		IdentityEntry *ent = &identity_cache[identity_cache_last];

		if (ent->opno == opno && ent->collid == collid &&
			ent->col_on_left == col_on_left)
			return ent->identity;
	}
	return equality_is_identity_slow(opno, opfamilies, col_on_left, collid);
}

/* The rest of the cache, then the catalogs */
static bool
equality_is_identity_slow(Oid opno, List *opfamilies, bool col_on_left,
						  Oid collid)
{
	ListCell   *lc;
	bool		identity = false;
	IdentityEntry *ent;
	uint64		resets = identity_cache_resets;

	for (int i = 0; i < identity_cache_used; i++)
	{
		ent = &identity_cache[i];
		if (ent->opno == opno && ent->collid == collid &&
			ent->col_on_left == col_on_left)
		{
			identity_cache_last = i;
			return ent->identity;
		}
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
		if (lefttype != righttype && !cross_type_reads_no_setting(lefttype, righttype))
			continue;
		/* the operator itself must be of the type's own family (round DA) */
		if (family != default_btree_family(side))
			continue;
		if (opfamily_is_identity(family, side, collid))
		{
			identity = true;
			break;
		}
	}

	/* an invalidation while the catalogs were read: the answer is not kept */
	if (resets != identity_cache_resets)
		return identity;
	identity_cache_last = identity_cache_next;
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

/*
 * Does bpchar's padding rule hide distinct values of a column of type
 * coltype (typmod coltypmod) compared as type compared (the operator's
 * input type)?  Compared as bpchar, a column that is not bpchar itself, or
 * is unbounded bpchar, holds values that differ in trailing blanks and
 * compare equal.  Asked wherever an equality of the column is taken for an
 * identity: a pin (enforce_pin.c), a unique-key pin (enforce_key.c), an
 * arbiter (enforce_modify.c), a partial index's predicate
 * (enforce_index_trust.c).
 */
bool
bpchar_padding_hides(Oid compared, Oid coltype, int32 coltypmod)
{
	if (compared != BPCHAROID)
		return false;
	return getBaseType(coltype) != BPCHAROID ||
		unbounded_bpchar(coltype, coltypmod);
}

/*
 * Does the text of a value of type typid depend on the value alone, and
 * its input on the text alone?  True for the types tenant ids are made of,
 * whose output and input functions read no setting: text, varchar, bpchar,
 * name, "char", uuid, the integers, oid and bool (and domains over them).
 * Other types' text can change while a statement runs: date and
 * timestamps with a setting (DateStyle, TimeZone: two dates print alike
 * under two DateStyles), regclass (search_path), bytea (bytea_output), an
 * enum with ALTER TYPE ... RENAME VALUE (its text is its label), a type of
 * an extension (anything).
 */
bool
type_text_is_fixed(Oid typid)
{
	Oid			base = getBaseType(typid);

	switch (base)
	{
		case TEXTOID:
		case VARCHAROID:
		case BPCHAROID:
		case NAMEOID:
		case CHAROID:
		case UUIDOID:
		case INT2OID:
		case INT4OID:
		case INT8OID:
		case OIDOID:
		case BOOLOID:
			return true;
		default:
			/* an enum's text is its label, which ALTER TYPE can rename */
			return false;
	}
}

/*
 * The text a tenant value of type typid is compared by: its output text
 * when that is fixed (type_text_is_fixed), so that a text, a varchar and a
 * uuid of the same id compare equal; for an enum, the type's name and the
 * value's pg_enum OID (its label can be renamed); for any other type, the
 * type's name and the hex digits of its binary (send) form, which no
 * setting changes.  A type with no binary output is refused (fail closed).
 */
char *
tenant_value_text(Datum value, Oid typid)
{
	Oid			func;
	bool		varlena;
	bytea	   *bin;
	StringInfoData buf;
	const char *hex = "0123456789abcdef";

	/* the common ones, without a catalog lookup: their output functions' text */
	switch (typid)
	{
		case TEXTOID:
		case VARCHAROID:
			return TextDatumGetCString(value);
		case INT4OID:
		case INT2OID:
			{
				char	   *str = palloc(MAXINT8LEN + 1);

				pg_ltoa(typid == INT4OID ? DatumGetInt32(value) :
						(int32) DatumGetInt16(value), str);
				return str;
			}
		case INT8OID:
			{
				char	   *str = palloc(MAXINT8LEN + 1);

				pg_lltoa(DatumGetInt64(value), str);
				return str;
			}
		case UUIDOID:
			return DatumGetCString(DirectFunctionCall1(uuid_out, value));
		default:
			break;
	}
	if (type_text_is_fixed(typid))
	{
		getTypeOutputInfo(typid, &func, &varlena);
		return OidOutputFunctionCall(func, value);
	}
	/* an enum's binary form is its label too: its value is a pg_enum OID */
	if (type_is_enum(getBaseType(typid)))
		return psprintf("%s:%u", format_type_be(typid), DatumGetObjectId(value));
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
		bool		has_send;

		if (!HeapTupleIsValid(tup))
			elog(ERROR, "cache lookup failed for type %u", typid);
		has_send = OidIsValid(((Form_pg_type) GETSTRUCT(tup))->typsend);
		ReleaseSysCache(tup);
		if (!has_send)
			ereport(ERROR,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("a tenant value of type %s cannot be compared",
							format_type_be(typid)),
					 errdetail("The type's text may change while a statement runs, and it has no binary form."),
					 errhint("Pin tenant-scoped tables to tenant ids of type text, uuid or an integer.")));
	}
	getTypeBinaryOutputInfo(typid, &func, &varlena);
	bin = OidSendFunctionCall(func, value);
	initStringInfo(&buf);
	appendStringInfo(&buf, "%s:\\x", format_type_be(typid));
	for (int i = 0; i < (int) VARSIZE(bin) - VARHDRSZ; i++)
	{
		unsigned char c = ((unsigned char *) VARDATA(bin))[i];

		appendStringInfoChar(&buf, hex[c >> 4]);
		appendStringInfoChar(&buf, hex[c & 0xf]);
	}
	return buf.data;
}

/*
 * n without the casts that wrap it between types of fixed text: relabelling,
 * a domain's checks, I/O conversion, and built-in cast functions (a length
 * coercion included).
 * Each gives one result for one input, whatever the settings, so a pin may
 * wear them: $1::uuid for a text parameter, gtm_current_tenant()::uuid.
 */
Node *
strip_fixed_casts(Node *n)
{
	for (;;)
	{
		if (n == NULL)
			return NULL;
		if (IsA(n, RelabelType))
		{
			Node	   *inner = strip_relabel(n);

			if (inner == n)
				return n;		/* a relabelling that changes the text */
			n = inner;
		}
		else if (IsA(n, CoerceToDomain) &&
				 type_text_is_fixed(((CoerceToDomain *) n)->resulttype) &&
				 type_text_is_fixed(exprType((Node *) ((CoerceToDomain *) n)->arg)))
			n = (Node *) ((CoerceToDomain *) n)->arg;	/* checks, keeps the value */
		else if (IsA(n, CoerceViaIO) &&
				 type_text_is_fixed(((CoerceViaIO *) n)->resulttype) &&
				 type_text_is_fixed(exprType((Node *) ((CoerceViaIO *) n)->arg)))
			n = (Node *) ((CoerceViaIO *) n)->arg;
		else if (IsA(n, FuncExpr) &&
				 (((FuncExpr *) n)->funcformat == COERCE_IMPLICIT_CAST ||
				  ((FuncExpr *) n)->funcformat == COERCE_EXPLICIT_CAST) &&
				 ((FuncExpr *) n)->funcid < FirstNormalObjectId &&
				 ((FuncExpr *) n)->args != NIL &&
				 type_text_is_fixed(((FuncExpr *) n)->funcresulttype) &&
				 type_text_is_fixed(exprType(linitial(((FuncExpr *) n)->args))))
			n = linitial(((FuncExpr *) n)->args);
		else
			return n;
	}
}

/*
 * e without the casts that keep a value's text exactly: a relabelling that
 * keeps it (strip_relabel), a domain's checks, an integer widened, and an
 * integer or a uuid as text (its output is the text).  For a column
 * followed to where it is written (INSERT ... SELECT, a data-modifying
 * CTE's RETURNING): the value written is then the column's, as text.  A
 * length coercion, text to uuid (which folds case), text to "char" or name
 * (which cut it) are not such casts.
 */
Node *
strip_value_casts(Node *n)
{
	for (;;)
	{
		Node	   *inner = strip_relabel(n);

		if (inner != n)
			n = inner;
		else if (n != NULL && IsA(n, CoerceToDomain))
			n = (Node *) ((CoerceToDomain *) n)->arg;
		else if (n != NULL && IsA(n, CoerceViaIO))
		{
			Oid			from = getBaseType(exprType((Node *) ((CoerceViaIO *) n)->arg));
			Oid			to = getBaseType(((CoerceViaIO *) n)->resulttype);

			if ((to != TEXTOID && to != VARCHAROID) ||
				(from != UUIDOID && from != INT2OID && from != INT4OID &&
				 from != INT8OID && from != TEXTOID && from != VARCHAROID))
				return n;
			n = (Node *) ((CoerceViaIO *) n)->arg;
		}
		else if (n != NULL && IsA(n, FuncExpr) &&
				 (((FuncExpr *) n)->funcformat == COERCE_IMPLICIT_CAST ||
				  ((FuncExpr *) n)->funcformat == COERCE_EXPLICIT_CAST) &&
				 list_length(((FuncExpr *) n)->args) == 1 &&
				 (((FuncExpr *) n)->funcid == F_INT4_INT2 ||
				  ((FuncExpr *) n)->funcid == F_INT8_INT2 ||
				  ((FuncExpr *) n)->funcid == F_INT8_INT4))
			n = linitial(((FuncExpr *) n)->args);
		else
			return n;
	}
}

/* Called once from _PG_init (through enforce_pin_init). */
void
enforce_identity_init(void)
{
	CacheRegisterSyscacheCallback(AMPROCNUM, identity_cache_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(AMOPOPID, identity_cache_inval, (Datum) 0);
}
