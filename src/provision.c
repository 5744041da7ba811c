/*-------------------------------------------------------------------------
 *
 * provision.c
 *	  Tenants, members and provisioning on first sign-in.
 *
 * A tenant is one row of tenants per Clerk organization.  The first sign-in
 * of a user under an organization creates that row (exactly once, however
 * many users of the organization sign in at the same moment) and links the
 * user to it with a role.  A repeat sign-in reads one index entry and
 * returns: it neither writes nor locks.
 *
 * Concurrency rests on PostgreSQL itself: INSERT ... ON CONFLICT DO NOTHING
 * waits for a concurrent inserter of the same key and then skips, after
 * which the row is read back with a fresh snapshot (READ COMMITTED).  Whether
 * a new member is the tenant's first, and whether an admin may be demoted or
 * removed, is decided while holding FOR NO KEY UPDATE on the tenant row, so
 * those decisions are serialised per tenant.
 *
 * The input rules (organization and user ids, names, slugs) are written
 * once, here, and used both by the SQL functions and by the CHECK
 * constraints of the tables, so that a row obeys them whatever writes it.
 *
 * IDENTIFICATION
 *	  src/provision.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/itup.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/visibilitymap.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/predicate.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "gtm_clarity.h"

#define MAX_CLERK_ID_LEN	128
#define MAX_NAME_CHARS		256
#define MAX_SLUG_LEN		100
/* a derived slug leaves room for a "-NNNNNNNNN" suffix */
#define MAX_DERIVED_SLUG_LEN 90

PG_FUNCTION_INFO_V1(gtm_is_valid_clerk_org_id);
PG_FUNCTION_INFO_V1(gtm_is_valid_clerk_user_id);
PG_FUNCTION_INFO_V1(gtm_is_valid_tenant_name);
PG_FUNCTION_INFO_V1(gtm_is_valid_slug);
PG_FUNCTION_INFO_V1(gtm_slugify);
PG_FUNCTION_INFO_V1(gtm_role_from_clerk);
PG_FUNCTION_INFO_V1(gtm_touch_updated_at);
PG_FUNCTION_INFO_V1(gtm_guard_last_admin);
PG_FUNCTION_INFO_V1(gtm_provision_tenant);
PG_FUNCTION_INFO_V1(gtm_sign_in);
PG_FUNCTION_INFO_V1(gtm_sign_in_write);
PG_FUNCTION_INFO_V1(gtm_set_member_role);
PG_FUNCTION_INFO_V1(gtm_remove_member);

/* ----------------------------------------------------------------
 *		Input rules
 *
 * Each returns NULL when the value is acceptable, else a sentence saying
 * what is wrong (used as errdetail).
 * ----------------------------------------------------------------
 */

static const char *
clerk_id_problem(const char *s, const char *prefix)
{
	size_t		plen = strlen(prefix);
	size_t		len = strlen(s);

	if (strncmp(s, prefix, plen) != 0)
		return psprintf("It does not start with \"%s\".", prefix);
	if (len == plen)
		return psprintf("Nothing follows \"%s\".", prefix);
	if (len > MAX_CLERK_ID_LEN)
		return psprintf("It is longer than %d characters.", MAX_CLERK_ID_LEN);
	for (const char *p = s + plen; *p; p++)
	{
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9')))
			return psprintf("Only letters and digits may follow \"%s\".", prefix);
	}
	return NULL;
}

/* Is the (UTF-8) character at p a space?  Returns its byte length or 0. */
static int
space_len(const unsigned char *p)
{
	if (*p == ' ' || (*p >= '\t' && *p <= '\r'))
		return 1;
	if (GetDatabaseEncoding() != PG_UTF8)
		return 0;
	/* U+00A0, U+1680, U+2000..U+200B, U+2028/9, U+202F, U+205F, U+3000, U+FEFF */
	if (p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	if (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80)
		return 3;
	if (p[0] == 0xE2 && p[1] == 0x80 &&
		(p[2] <= 0x8B || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF))
		return 3;
	if (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F)
		return 3;
	if (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80)
		return 3;
	if (p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF)
		return 3;
	return 0;
}

static const char *
tenant_name_problem(const char *s)
{
	const unsigned char *p = (const unsigned char *) s;
	bool		visible = false;
	int			nchars = 0;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);

	while (*p)
	{
		int			sl;

		nchars++;
		if (*p < 0x20 || *p == 0x7F ||
			(utf8 && p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F))
			return psprintf("It contains a control character at position %d.", nchars);
		sl = space_len(p);
		if (sl == 0)
		{
			visible = true;
			sl = pg_mblen((const char *) p);
		}
		p += sl;
	}
	if (!visible)
		return nchars == 0 ? "It is empty." : "It contains only whitespace.";
	if (nchars > MAX_NAME_CHARS)
		return psprintf("It is %d characters long; the limit is %d.", nchars, MAX_NAME_CHARS);
	return NULL;
}

static const char *
slug_problem(const char *s)
{
	size_t		len = strlen(s);

	if (len == 0)
		return "It is empty.";
	if (len > MAX_SLUG_LEN)
		return psprintf("It is longer than %d characters.", MAX_SLUG_LEN);
	if (s[0] == '-' || s[len - 1] == '-')
		return "It starts or ends with a dash.";
	for (const char *p = s; *p; p++)
	{
		if (*p == '-' && p[1] == '-')
			return "It contains two dashes in a row.";
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-'))
			return "Only lowercase letters, digits and dashes are allowed.";
	}
	return NULL;
}

#define SLUG_RULE "A slug is 1 to 100 lowercase letters (a-z), digits and single dashes, not starting or ending with a dash."

/*
 * Latin-1 letters (the second byte of the UTF-8 sequence C3 xx) folded to
 * ASCII for slugs: "Café Müller" -> "cafe-muller".  NULL: not a letter.
 */
static const char *const latin1_fold[64] = {
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "ss",
	"a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i", "i",
	"d", "n", "o", "o", "o", "o", "o", NULL, "o", "u", "u", "u", "u", "y", "th", "y"
};

/*
 * Derive a slug from a display name: ASCII letters and digits lowercased,
 * Latin-1 letters folded, every other run of characters one dash, no dash
 * at either end, at most MAX_DERIVED_SLUG_LEN bytes.  Returns "" when the
 * name has no usable character.
 */
static char *
slugify(const char *name)
{
	StringInfoData buf;
	bool		pending_dash = false;
	bool		utf8 = (GetDatabaseEncoding() == PG_UTF8);
	const unsigned char *p = (const unsigned char *) name;

	initStringInfo(&buf);
	while (*p && buf.len < MAX_DERIVED_SLUG_LEN)
	{
		const char *piece = NULL;
		char		one[2] = {0, 0};
		int			adv = 1;

		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			one[0] = (char) *p, piece = one;
		else if (*p >= 'A' && *p <= 'Z')
			one[0] = (char) (*p - 'A' + 'a'), piece = one;
		else if (*p >= 0x80)
		{
			adv = pg_mblen((const char *) p);
			if (utf8 && p[0] == 0xC3 && adv == 2 && p[1] >= 0x80 && p[1] <= 0xBF)
				piece = latin1_fold[p[1] - 0x80];
		}

		if (piece == NULL)
			pending_dash = (buf.len > 0);
		else
		{
			if (pending_dash)
				appendStringInfoChar(&buf, '-');
			appendStringInfoString(&buf, piece);
			pending_dash = false;
		}
		p += adv;
	}
	if (buf.len > MAX_DERIVED_SLUG_LEN)
		buf.len = MAX_DERIVED_SLUG_LEN;
	while (buf.len > 0 && buf.data[buf.len - 1] == '-')
		buf.len--;
	buf.data[buf.len] = '\0';
	return buf.data;
}

/*
 * Clerk role keys mapped to ours; NULL when the key is unknown.
 */
static const char *
role_from_clerk(const char *key)
{
	static const struct
	{
		const char *key;
		const char *role;
	}			map[] = {
		{"org:admin", "admin"}, {"admin", "admin"},
		{"org:manager", "manager"}, {"manager", "manager"},
		{"org:member", "viewer"}, {"basic_member", "viewer"},
		{"org:viewer", "viewer"}, {"viewer", "viewer"},
	};

	for (int i = 0; i < lengthof(map); i++)
		if (strcmp(key, map[i].key) == 0)
			return map[i].role;
	return NULL;
}

#define CLERK_ROLE_KEYS "org:admin, admin, org:manager, manager, org:member, basic_member, org:viewer, viewer"

/* ----------------------------------------------------------------
 *		Argument checks that raise the documented errors
 * ----------------------------------------------------------------
 */

static void
require_not_null(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

static char *
arg_clerk_org_id(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;
	const char *why;

	require_not_null(fcinfo, argno, argname);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = clerk_id_problem(s, "org_")) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Clerk organization id: \"%s\"", s),
				 errdetail("%s", why),
				 errhint("A Clerk organization id is \"org_\" followed by letters and digits, as in \"org_2abcDEF123\".")));
	return s;
}

static char *
arg_clerk_user_id(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;
	const char *why;

	require_not_null(fcinfo, argno, argname);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = clerk_id_problem(s, "user_")) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid Clerk user id: \"%s\"", s),
				 errdetail("%s", why),
				 errhint("A Clerk user id is \"user_\" followed by letters and digits, as in \"user_2abcDEF123\".")));
	return s;
}

static char *
arg_tenant_name(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	char	   *s;
	const char *why;

	require_not_null(fcinfo, argno, argname);
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = tenant_name_problem(s)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid tenant name"),
				 errdetail("%s", why),
				 errhint("A tenant name is 1 to %d characters, not only whitespace, without control characters.",
						 MAX_NAME_CHARS)));
	return s;
}

/* NULL argument means "derive the slug". */
static char *
arg_slug(FunctionCallInfo fcinfo, int argno)
{
	char	   *s;
	const char *why;

	if (PG_ARGISNULL(argno))
		return NULL;
	s = text_to_cstring(PG_GETARG_TEXT_PP(argno));
	if ((why = slug_problem(s)) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid slug: \"%s\"", s),
				 errdetail("%s", why),
				 errhint("%s Pass NULL to derive one from the name.", SLUG_RULE)));
	return s;
}

static Jsonb *
arg_settings(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Jsonb	   *j;

	require_not_null(fcinfo, argno, argname);
	j = PG_GETARG_JSONB_P(argno);
	if (!JB_ROOT_IS_OBJECT(j) || JB_ROOT_IS_SCALAR(j))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant settings must be a JSON object"),
				 errdetail("The value given is a JSON %s.",
						   JB_ROOT_IS_SCALAR(j) ? "scalar" : "array"),
				 errhint("Pass '{}' for no overrides.")));
	return j;
}

/* ----------------------------------------------------------------
 *		SQL-callable validators (used by the CHECK constraints)
 * ----------------------------------------------------------------
 */

Datum
gtm_is_valid_clerk_org_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clerk_id_problem(text_to_cstring(PG_GETARG_TEXT_PP(0)), "org_") == NULL);
}

Datum
gtm_is_valid_clerk_user_id(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(clerk_id_problem(text_to_cstring(PG_GETARG_TEXT_PP(0)), "user_") == NULL);
}

Datum
gtm_is_valid_tenant_name(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(tenant_name_problem(text_to_cstring(PG_GETARG_TEXT_PP(0))) == NULL);
}

Datum
gtm_is_valid_slug(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(slug_problem(text_to_cstring(PG_GETARG_TEXT_PP(0))) == NULL);
}

Datum
gtm_slugify(PG_FUNCTION_ARGS)
{
	char	   *slug = slugify(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	if (slug[0] == '\0')
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(slug));
}

static Datum
role_datum(FunctionCallInfo fcinfo, const char *role)
{
	Oid			enumtype = get_fn_expr_rettype(fcinfo->flinfo);

	return DirectFunctionCall2(enum_in, CStringGetDatum(role),
							   ObjectIdGetDatum(enumtype));
}

static const char *
clerk_role_or_error(const char *key)
{
	const char *role = role_from_clerk(key);

	if (role == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown Clerk role \"%s\"", key),
				 errdetail("Accepted role keys: " CLERK_ROLE_KEYS "."),
				 errhint("Map custom Clerk roles to one of these keys in the application, or pass NULL for viewer.")));
	return role;
}

Datum
gtm_role_from_clerk(PG_FUNCTION_ARGS)
{
	const char *role = clerk_role_or_error(text_to_cstring(PG_GETARG_TEXT_PP(0)));

	PG_RETURN_DATUM(role_datum(fcinfo, role));
}

/* ----------------------------------------------------------------
 *		Prepared statements
 *
 * Kept for the life of the backend, keyed by the extension's schema (the
 * schema of the calling function); the plan cache revalidates them when the
 * tables change.
 * ----------------------------------------------------------------
 */

typedef enum ProvisionQuery
{
	Q_FIND_TENANT_BY_ORG,
	Q_INSERT_TENANT,
	Q_SLUGS_LIKE,
	Q_LOCK_TENANT,
	Q_HAS_MEMBERS,
	Q_FIND_MEMBER,
	Q_INSERT_MEMBER,
	Q_SET_ROLE,
	Q_REMOVE_MEMBER,
	Q_ADMIN_LEFT,
	NUM_PROVISION_QUERIES
} ProvisionQuery;

static const GtmQueryDef query_defs[NUM_PROVISION_QUERIES] = {
	[Q_FIND_TENANT_BY_ORG] = {
		"SELECT * FROM %1$s.tenants WHERE clerk_org_id = $1",
		1, {TEXTOID}
	},
	[Q_INSERT_TENANT] = {
		"INSERT INTO %1$s.tenants (clerk_org_id, name, slug, settings) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *",
		4, {TEXTOID, TEXTOID, TEXTOID, JSONBOID}
	},
	[Q_SLUGS_LIKE] = {
		/* slug is COLLATE "C": this is a range scan of tenants_slug_key */
		"SELECT slug FROM %1$s.tenants WHERE slug = $1 "
		"OR (slug > $1 || '-' AND slug < $1 || '.')",
		1, {TEXTOID}
	},
	[Q_LOCK_TENANT] = {
		"SELECT 1 FROM %1$s.tenants WHERE id = $1 FOR NO KEY UPDATE",
		1, {TEXTOID}
	},
	[Q_HAS_MEMBERS] = {
		"SELECT EXISTS (SELECT 1 FROM %1$s.tenant_members WHERE tenant_id = $1)",
		1, {TEXTOID}
	},
	[Q_FIND_MEMBER] = {
		"SELECT role FROM %1$s.tenant_members WHERE tenant_id = $1 AND clerk_user_id = $2",
		2, {TEXTOID, TEXTOID}
	},
	[Q_INSERT_MEMBER] = {
		"INSERT INTO %1$s.tenant_members (tenant_id, clerk_user_id, role) "
		"VALUES ($1, $2, $3::%1$s.gtm_role) ON CONFLICT DO NOTHING RETURNING role",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[Q_SET_ROLE] = {
		"UPDATE %1$s.tenant_members SET role = $3::%1$s.gtm_role "
		"WHERE tenant_id = $1 AND clerk_user_id = $2 RETURNING *",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[Q_REMOVE_MEMBER] = {
		"DELETE FROM %1$s.tenant_members "
		"WHERE tenant_id = $1 AND clerk_user_id = $2 RETURNING *",
		2, {TEXTOID, TEXTOID}
	},
	[Q_ADMIN_LEFT] = {
		"SELECT EXISTS (SELECT 1 FROM %1$s.tenant_members "
		"               WHERE tenant_id = $1 AND role = 'admin')",
		1, {TEXTOID}
	},
};

static SPIPlanPtr plans[NUM_PROVISION_QUERIES];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/* Run a prepared statement; returns SPI_processed. */
static inline uint64
run(ProvisionQuery q, Oid nsp, Datum *values, bool read_only)
{
	return gtm_query_run(&queries, q, nsp, values, read_only);
}

/*
 * Run a read-only check with a snapshot taken now, after the caller has
 * acquired its lock on the tenant row: it sees every transaction that
 * committed while we waited, at any isolation level (as the foreign-key
 * triggers do for the same reason).  Returns the boolean in column 1.
 */
static bool
check_latest(ProvisionQuery q, Oid nsp, Datum *values)
{
	int			rc;
	bool		isnull;
	Datum		d;

	rc = SPI_execute_snapshot(gtm_query_plan(&queries, q, nsp), values, NULL,
							  GetLatestSnapshot(), InvalidSnapshot,
							  false, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "SPI_execute_snapshot failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

static Datum
text_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

static char *
result_text(int col)
{
	return SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
}

static Datum
result_datum(int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col, isnull);
}

/* ----------------------------------------------------------------
 *		Repeat sign-in fast path
 *
 * A repeat sign-in is the hot path of every session start: it reads the
 * unique index on tenants.clerk_org_id and the primary key of
 * tenant_members directly (two index probes under the statement's
 * snapshot), without SPI, a plan or an executor.
 * ----------------------------------------------------------------
 */

static Oid
extension_relid(const char *relname, Oid nsp)
{
	Oid			relid = get_relname_relid(relname, nsp);

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation \"%s\" of extension gtm_clarity does not exist", relname),
				 errhint("Reinstall the extension: DROP EXTENSION gtm_clarity; CREATE EXTENSION gtm_clarity;")));
	return relid;
}

/*
 * Probe a unique index on text columns with nkeys equality keys; when a
 * row visible to the statement's snapshot is found, return true and its
 * column "want" in result and isnull (copied into the current memory
 * context).  "want" is one of the index's columns (a key or an INCLUDE
 * column), so that, as in an index-only scan, a heap page that the
 * visibility map marks all-visible is not read at all.
 */
static bool
index_probe(Oid nsp, const char *relname, const char *indexname,
			int nkeys, Datum *keys, const char *want, Datum *result, bool *isnull)
{
	Relation	rel = table_open(extension_relid(relname, nsp), AccessShareLock);
	Relation	idx = index_open(extension_relid(indexname, nsp), AccessShareLock);
	Snapshot	snapshot = GetActiveSnapshot();
	TupleDesc	tupdesc = RelationGetDescr(rel);
	AttrNumber	attnum = InvalidAttrNumber;
	int			idxcol = -1;
	ScanKeyData skey[INDEX_MAX_KEYS];
	IndexScanDesc scan;
	TupleTableSlot *slot;
	Buffer		vmbuffer = InvalidBuffer;
	ItemPointer tid;
	bool		found = false;
	Form_pg_attribute att;

	for (int i = 0; i < tupdesc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(tupdesc, i)->attname), want) == 0)
			attnum = i + 1;
	for (int i = 0; i < idx->rd_index->indnatts; i++)
		if (idx->rd_index->indkey.values[i] == attnum)
			idxcol = i;
	if (attnum == InvalidAttrNumber || idxcol < 0)
		elog(ERROR, "column \"%s\" of relation \"%s\" is not in index \"%s\"",
			 want, relname, indexname);
	att = TupleDescAttr(tupdesc, attnum - 1);

	for (int i = 0; i < nkeys; i++)
		ScanKeyEntryInitialize(&skey[i], 0, i + 1, BTEqualStrategyNumber, InvalidOid,
							   idx->rd_indcollation[i], F_TEXTEQ, keys[i]);
	scan = gtm_index_beginscan(rel, idx, snapshot, nkeys, 0);
	scan->xs_want_itup = true;
	index_rescan(scan, skey, nkeys, NULL, 0);
	slot = table_slot_create(rel, NULL);

	while ((tid = index_getnext_tid(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		if (VM_ALL_VISIBLE(rel, ItemPointerGetBlockNumber(tid), &vmbuffer))
		{
			/* every tuple on the page is visible to everyone */
			*result = index_getattr(scan->xs_itup, idxcol + 1, scan->xs_itupdesc, isnull);
			PredicateLockPage(rel, ItemPointerGetBlockNumber(tid), snapshot);
		}
		else if (index_fetch_heap(scan, slot))
			*result = slot_getattr(slot, attnum, isnull);
		else
			continue;			/* not visible to us */
		if (!*isnull)
			*result = datumCopy(*result, att->attbyval, att->attlen);
		found = true;
		break;
	}
	if (BufferIsValid(vmbuffer))
		ReleaseBuffer(vmbuffer);
	index_endscan(scan);
	ExecDropSingleTupleTableSlot(slot);
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	return found;
}

/* ----------------------------------------------------------------
 *		Provisioning
 * ----------------------------------------------------------------
 */

/*
 * The tenant of an organization, created when missing.  On return
 * SPI_tuptable->vals[0] is the tenants row.  *created says whether this
 * call inserted it.
 */
static void
provision_tenant(Oid nsp, const char *org_id, const char *name,
				 const char *slug, Jsonb *settings, bool *created)
{
	Datum		args[4];
	char	   *base;
	List	   *taken = NIL;
	bool		fetched_taken = false;

	args[0] = text_datum(org_id);

	/* Existing organization: one index probe, no write, no lock. */
	if (run(Q_FIND_TENANT_BY_ORG, nsp, args, true) == 1)
	{
		*created = false;
		return;
	}

	base = slug ? pstrdup(slug) : slugify(name);
	if (base[0] == '\0')
	{
		/* nothing usable in the name: fall back on the organization id */
		base = slugify(psprintf("org %s", org_id + strlen("org_")));
	}

	args[1] = text_datum(name);
	args[3] = JsonbPGetDatum(settings);

	for (int n = 1;; n++)
	{
		char	   *candidate;

		CHECK_FOR_INTERRUPTS();

		candidate = (n == 1) ? base : psprintf("%s-%d", base, n);

		if (slug == NULL && !fetched_taken)
		{
			Datum		sarg[1] = {text_datum(base)};

			/* Skip the suffixes already in use (a snapshot; races retried). */
			run(Q_SLUGS_LIKE, nsp, sarg, true);
			for (uint64 i = 0; i < SPI_processed; i++)
				taken = lappend(taken, SPI_getvalue(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 1));
			fetched_taken = true;
		}
		if (slug == NULL)
		{
			ListCell   *lc;
			bool		in_use = false;

			foreach(lc, taken)
				if (strcmp((char *) lfirst(lc), candidate) == 0)
					in_use = true;
			if (in_use)
				continue;
		}

		args[2] = text_datum(candidate);
		if (run(Q_INSERT_TENANT, nsp, args, false) == 1)
		{
			*created = true;
			return;
		}

		/*
		 * Conflict.  Either a concurrent sign-in created the organization
		 * (ON CONFLICT waited for it to commit; this query sees it) or the
		 * slug belongs to another organization.
		 */
		if (run(Q_FIND_TENANT_BY_ORG, nsp, args, false) == 1)
		{
			*created = false;
			return;
		}
		if (slug != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("slug \"%s\" is already used by another tenant", slug),
					 errhint("Choose another slug, or pass NULL to derive a free one from the name.")));
		if (n >= 1000000000)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("no free slug derived from \"%s\"", base)));
	}
}

/*
 * gtm_provision_tenant(clerk_org_id, name, slug DEFAULT NULL, settings DEFAULT '{}')
 */
Datum
gtm_provision_tenant(PG_FUNCTION_ARGS)
{
	char	   *org_id = arg_clerk_org_id(fcinfo, 0, "clerk_org_id");
	char	   *name = arg_tenant_name(fcinfo, 1, "name");
	char	   *slug = arg_slug(fcinfo, 2);
	Jsonb	   *settings = arg_settings(fcinfo, 3, "settings");
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	bool		created;
	HeapTupleHeader result;

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	provision_tenant(nsp, org_id, name, slug, settings, &created);
	result = SPI_returntuple(SPI_tuptable->vals[0], rettupdesc);
	SPI_finish();

	PG_RETURN_HEAPTUPLEHEADER(result);
}

/*
 * Where a sign-in stands: the tenant of the organization and the user's
 * role in it, read from the two unique indexes.
 */
typedef enum SignInState
{
	SIGN_IN_NOTHING,			/* no tenant for the organization */
	SIGN_IN_TENANT_ONLY,		/* *tenant_id set; the user is no member */
	SIGN_IN_MEMBER				/* *tenant_id and *role set */
} SignInState;

static SignInState
lookup_sign_in(Oid nsp, const char *org_id, const char *user_id,
			   Datum *tenant_id, Datum *role)
{
	Datum		keys[2];
	bool		isnull;

	keys[0] = text_datum(org_id);
	if (!index_probe(nsp, "tenants", "tenants_clerk_org_id_key", 1, keys,
					 "id", tenant_id, &isnull))
		return SIGN_IN_NOTHING;
	keys[0] = *tenant_id;
	keys[1] = text_datum(user_id);
	if (!index_probe(nsp, "tenant_members", "tenant_members_pkey", 2, keys,
					 "role", role, &isnull))
		return SIGN_IN_TENANT_ONLY;
	return SIGN_IN_MEMBER;
}

/*
 * gtm_sign_in(clerk_org_id, clerk_user_id, org_name, org_slug, clerk_role)
 *	 -> (tenant_id, role, tenant_created, member_created)
 *
 * Runs with the caller's rights (EXECUTE is granted, not PUBLIC): it checks
 * the input and, for a repeat sign-in, answers from two index probes -- no
 * write, no lock, no SPI, and none of the cost of switching user and
 * search_path.  Anything to create is done by gtm_sign_in_write(), which is
 * SECURITY DEFINER with a pinned search_path; it is called here through
 * fmgr, so the caller needs no privilege on it.
 */
Datum
gtm_sign_in(PG_FUNCTION_ARGS)
{
	char	   *org_id = arg_clerk_org_id(fcinfo, 0, "clerk_org_id");
	char	   *user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Oid			argtypes[5] = {TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Oid			writer;
	FmgrInfo	flinfo;
	LOCAL_FCINFO(call, 5);
	Datum		result;

	/* the same checks as the writer's, so a bad input fails either way */
	(void) arg_tenant_name(fcinfo, 2, "org_name");
	(void) arg_slug(fcinfo, 3);
	if (!PG_ARGISNULL(4))
		(void) clerk_role_or_error(text_to_cstring(PG_GETARG_TEXT_PP(4)));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	if (lookup_sign_in(nsp, org_id, user_id, &values[0], &values[1]) == SIGN_IN_MEMBER)
	{
		values[2] = BoolGetDatum(false);
		values[3] = BoolGetDatum(false);
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettupdesc, values, nulls)));
	}

	writer = GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
							 CStringGetDatum("gtm_sign_in_write"),
							 PointerGetDatum(buildoidvector(argtypes, 5)),
							 ObjectIdGetDatum(nsp));
	if (!OidIsValid(writer))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function gtm_sign_in_write of extension gtm_clarity does not exist"),
				 errhint("Reinstall the extension: DROP EXTENSION gtm_clarity; CREATE EXTENSION gtm_clarity;")));
	fmgr_info(writer, &flinfo);
	InitFunctionCallInfoData(*call, &flinfo, 5, PG_GET_COLLATION(), NULL, NULL);
	for (int i = 0; i < 5; i++)
		call->args[i] = fcinfo->args[i];
	result = FunctionCallInvoke(call);
	if (call->isnull)
		elog(ERROR, "gtm_sign_in_write returned NULL");
	PG_RETURN_DATUM(result);
}

/*
 * gtm_sign_in_write(): the writing half of gtm_sign_in (SECURITY DEFINER).
 */
Datum
gtm_sign_in_write(PG_FUNCTION_ARGS)
{
	char	   *org_id = arg_clerk_org_id(fcinfo, 0, "clerk_org_id");
	char	   *user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	char	   *name = arg_tenant_name(fcinfo, 2, "org_name");
	char	   *slug = arg_slug(fcinfo, 3);
	const char *asked_role = PG_ARGISNULL(4) ? "viewer" :
		clerk_role_or_error(text_to_cstring(PG_GETARG_TEXT_PP(4)));
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		args[3];
	bool		tenant_created = false;
	bool		member_created = false;
	bool		isnull;
	char	   *tenant_id;
	HeapTuple	tuple;

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* Signed in since gtm_sign_in() looked? */
	switch (lookup_sign_in(nsp, org_id, user_id, &values[0], &values[1]))
	{
		case SIGN_IN_MEMBER:
			values[2] = BoolGetDatum(false);
			values[3] = BoolGetDatum(false);
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettupdesc, values, nulls)));
		case SIGN_IN_TENANT_ONLY:
			tenant_id = TextDatumGetCString(values[0]);
			SPI_connect();
			break;
		case SIGN_IN_NOTHING:
		default:
			SPI_connect();
			provision_tenant(nsp, org_id, name, slug,
							 DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))),
							 &tenant_created);
			tenant_id = result_text(1);
			break;
	}

	/*
	 * New membership.  Lock the tenant row so that "is this the first
	 * member?" and the insert are one step per tenant.
	 */
	args[0] = text_datum(tenant_id);
	if (run(Q_LOCK_TENANT, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("tenant of organization \"%s\" was deleted during sign-in", org_id),
				 errhint("Retry the sign-in.")));
	args[1] = text_datum(user_id);
	args[2] = text_datum(check_latest(Q_HAS_MEMBERS, nsp, args) ? asked_role : "admin");
	if (run(Q_INSERT_MEMBER, nsp, args, false) == 1)
		member_created = true;
	else
		run(Q_FIND_MEMBER, nsp, args, false);	/* signed in concurrently */
	values[1] = result_datum(1, &isnull);

	values[0] = text_datum(tenant_id);
	values[2] = BoolGetDatum(tenant_created);
	values[3] = BoolGetDatum(member_created);
	SPI_finish();

	/* values[0] was made in SPI memory: rebuild it in the caller's context */
	values[0] = text_datum(tenant_id);
	tuple = heap_form_tuple(rettupdesc, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}

/*
 * gtm_set_member_role(tenant_id, clerk_user_id, role) -> tenant_members row
 *
 * The last-admin rule is the guard trigger's (it holds for plain UPDATEs too).
 */
Datum
gtm_set_member_role(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	Datum		args[3];
	HeapTupleHeader result;
	char	   *tenant_id;
	char	   *user_id;

	require_not_null(fcinfo, 0, "tenant_id");
	user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	require_not_null(fcinfo, 2, "role");
	tenant_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	args[0] = text_datum(tenant_id);
	args[1] = text_datum(user_id);
	args[2] = DirectFunctionCall1(enum_out, PG_GETARG_DATUM(2));
	args[2] = text_datum(DatumGetCString(args[2]));

	SPI_connect();
	if (run(Q_SET_ROLE, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user \"%s\" is not a member of tenant \"%s\"", user_id, tenant_id)));
	result = SPI_returntuple(SPI_tuptable->vals[0], rettupdesc);
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(result);
}

/*
 * gtm_remove_member(tenant_id, clerk_user_id) -> the removed tenant_members row
 */
Datum
gtm_remove_member(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	Datum		args[2];
	HeapTupleHeader result;
	char	   *tenant_id;
	char	   *user_id;

	require_not_null(fcinfo, 0, "tenant_id");
	user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	tenant_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	args[0] = text_datum(tenant_id);
	args[1] = text_datum(user_id);

	SPI_connect();
	if (run(Q_REMOVE_MEMBER, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user \"%s\" is not a member of tenant \"%s\"", user_id, tenant_id)));
	result = SPI_returntuple(SPI_tuptable->vals[0], rettupdesc);
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(result);
}

/* ----------------------------------------------------------------
 *		Triggers
 * ----------------------------------------------------------------
 */

static TriggerData *
trigger_data(FunctionCallInfo fcinfo, const char *funcname)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("%s() was not called by the trigger manager", funcname)));
	return (TriggerData *) fcinfo->context;
}

/*
 * BEFORE UPDATE FOR EACH ROW: set the column named by the trigger's first
 * argument (default updated_at) to now().
 */
Datum
gtm_touch_updated_at(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "gtm_touch_updated_at");
	Trigger    *trigger = trigdata->tg_trigger;
	TupleDesc	tupdesc = trigdata->tg_relation->rd_att;
	const char *colname = trigger->tgnargs > 0 ? trigger->tgargs[0] : "updated_at";
	int			attnum;
	Datum		value;
	bool		isnull = false;

	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("gtm_touch_updated_at() must be fired BEFORE UPDATE FOR EACH ROW")));

	attnum = SPI_fnumber(tupdesc, colname);
	if (attnum <= 0 || SPI_gettypeid(tupdesc, attnum) != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("relation \"%s\" has no timestamptz column \"%s\"",
						RelationGetRelationName(trigdata->tg_relation), colname)));

	value = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
	return PointerGetDatum(heap_modify_tuple_by_cols(trigdata->tg_newtuple, tupdesc,
													 1, &attnum, &value, &isnull));
}

/*
 * AFTER UPDATE OR DELETE FOR EACH ROW on tenant_members: a tenant that had
 * an admin keeps one, unless the tenant itself is being deleted.
 */
Datum
gtm_guard_last_admin(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = trigger_data(fcinfo, "gtm_guard_last_admin");
	TupleDesc	tupdesc = trigdata->tg_relation->rd_att;
	HeapTuple	oldtup = trigdata->tg_trigtuple;
	char	   *old_role = SPI_getvalue(oldtup, tupdesc, SPI_fnumber(tupdesc, "role"));
	char	   *tenant_id = SPI_getvalue(oldtup, tupdesc, SPI_fnumber(tupdesc, "tenant_id"));
	char	   *user_id = SPI_getvalue(oldtup, tupdesc, SPI_fnumber(tupdesc, "clerk_user_id"));
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		args[1];
	bool		admin_left;

	if (old_role == NULL || strcmp(old_role, "admin") != 0)
		return PointerGetDatum(NULL);
	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
	{
		HeapTuple	newtup = trigdata->tg_newtuple;
		char	   *new_role = SPI_getvalue(newtup, tupdesc, SPI_fnumber(tupdesc, "role"));
		char	   *new_tenant = SPI_getvalue(newtup, tupdesc, SPI_fnumber(tupdesc, "tenant_id"));

		if (new_role && strcmp(new_role, "admin") == 0 &&
			new_tenant && strcmp(new_tenant, tenant_id) == 0)
			return PointerGetDatum(NULL);
	}

	args[0] = text_datum(tenant_id);
	SPI_connect();
	if (run(Q_LOCK_TENANT, nsp, args, false) == 0)
		admin_left = true;		/* the tenant is being deleted */
	else
		admin_left = check_latest(Q_ADMIN_LEFT, nsp, args);
	SPI_finish();

	if (!admin_left)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("tenant \"%s\" must keep at least one admin", tenant_id),
				 errdetail("User \"%s\" is its last admin.", user_id),
				 errhint("Make another member admin first with gtm_set_member_role(), or delete the tenant.")));
	return PointerGetDatum(NULL);
}
