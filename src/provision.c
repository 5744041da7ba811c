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
 * The input rules (organization and user ids, names, slugs) are in
 * provision_input.c.
 *
 * A free derived slug is found with a few exact probes of the slug index,
 * however many tenants share the name (see free_derived_slug).  Whatever an
 * SPI query returns and is used after SPI_finish() is copied out of SPI's
 * memory first (result_text, result_datum).
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
#include "provision.h"


PG_FUNCTION_INFO_V1(gtm_provision_tenant);
PG_FUNCTION_INFO_V1(gtm_sign_in);
PG_FUNCTION_INFO_V1(gtm_sign_in_write);

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
	Q_ORG_DELETED,
	Q_MEMBER_DELETED,
	Q_LOCK_ORG,
	Q_INSERT_TENANT,
	Q_LOCK_TENANT,
	Q_HAS_MEMBERS,
	Q_FIND_MEMBER,
	Q_INSERT_MEMBER,
	Q_STATE_CLERK_SLUG,
	Q_RECORD_APPLIED_SLUG,
	NUM_PROVISION_QUERIES
} ProvisionQuery;

static const GtmQueryDef query_defs[NUM_PROVISION_QUERIES] = {
	[Q_FIND_TENANT_BY_ORG] = {
		"SELECT * FROM %1$s.tenants WHERE clerk_org_id = $1",
		1, {TEXTOID}
	},
	[Q_ORG_DELETED] = {
		"SELECT EXISTS (SELECT 1 FROM %1$s.clerk_sync_state "
		"WHERE clerk_org_id = $1 AND clerk_user_id = '' AND deleted)",
		1, {TEXTOID}
	},
	[Q_MEMBER_DELETED] = {
		"SELECT EXISTS (SELECT 1 FROM %1$s.clerk_sync_state "
		"WHERE clerk_org_id = $1 AND clerk_user_id = $2 AND deleted)",
		2, {TEXTOID, TEXTOID}
	},
	/* the lock gtm_apply_clerk_event takes for the events of one organization */
	[Q_LOCK_ORG] = {
		"SELECT pg_catalog.pg_advisory_xact_lock(1735549292, pg_catalog.hashtext($1))",
		1, {TEXTOID}
	},
	[Q_INSERT_TENANT] = {
		"INSERT INTO %1$s.tenants (clerk_org_id, name, slug, settings) "
		"VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING *",
		4, {TEXTOID, TEXTOID, TEXTOID, JSONBOID}
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
	[Q_STATE_CLERK_SLUG] = {
		"SELECT clerk_slug FROM %1$s.clerk_sync_state "
		"WHERE clerk_org_id = $1 AND clerk_user_id = ''",
		1, {TEXTOID}
	},
	[Q_RECORD_APPLIED_SLUG] = {
		"UPDATE %1$s.clerk_sync_state SET applied_slug = CASE WHEN $3 THEN $2 END "
		"WHERE clerk_org_id = $1 AND clerk_user_id = '' "
		"AND applied_slug IS DISTINCT FROM CASE WHEN $3 THEN $2 END",
		3, {TEXTOID, TEXTOID, BOOLOID}
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
 * acquired its lock (gtm_query_run_latest).  Returns the boolean in
 * column 1.
 */
static bool
check_latest(ProvisionQuery q, Oid nsp, Datum *values)
{
	bool		isnull;
	Datum		d;

	if (gtm_query_run_latest(&queries, q, nsp, values, false, 1) != 1)
		elog(ERROR, "check of provisioning returned no row");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

static Datum
text_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

/*
 * Column col of the first result row, as text or as a Datum, copied into the
 * memory of the caller of SPI_connect (SPI_palloc, SPI_datumTransfer): what
 * SPI_getvalue and SPI_getbinval return lives in SPI's memory, which
 * SPI_finish frees, and these values are used after it.
 */
static char *
result_text(int col)
{
	char	   *s = SPI_getvalue(gtm_query_first_row("the row read back"),
								 SPI_tuptable->tupdesc, col);
	char	   *copy;

	if (s == NULL)
		return NULL;
	copy = SPI_palloc(strlen(s) + 1);
	strcpy(copy, s);
	return copy;
}

static Datum
result_datum(int col, bool *isnull)
{
	Form_pg_attribute att = TupleDescAttr(SPI_tuptable->tupdesc, col - 1);
	Datum		d = SPI_getbinval(gtm_query_first_row("the row read back"),
								  SPI_tuptable->tupdesc, col, isnull);

	if (*isnull)
		return (Datum) 0;
	return SPI_datumTransfer(d, att->attbyval, att->attlen);
}

/* ----------------------------------------------------------------
 *		Provisioning
 * ----------------------------------------------------------------
 */

/*
 * Refuse a sign-in that Clerk's events have overtaken (1.1.0, when
 * gtm_apply_clerk_event's tombstones exist): into an organization whose
 * organization.deleted was applied (its tenant row may remain, kept for
 * its data), or, user_id given, as a member whose
 * organizationMembership.deleted was applied (a token issued before the
 * removal).  Clerk's organizationMembership.created for a member added
 * again replaces that tombstone.  Read with the latest snapshot: the
 * sign-in writer holds the organization's event lock by then, so an event
 * applied meanwhile is seen, also in a REPEATABLE READ transaction.
 * Called inside SPI.
 */
static void
refuse_deleted_sign_in(Oid nsp, const char *org_id, const char *user_id)
{
	Datum		args[2];

	if (!OidIsValid(get_relname_relid("clerk_sync_state", nsp)))
		return;
	args[0] = text_datum(org_id);
	if (check_latest(Q_ORG_DELETED, nsp, args))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("organization \"%s\" was deleted", org_id),
				 errdetail("Clerk's organization.deleted event for it was applied; a deleted organization is not created or joined again."),
				 errhint("Sign the user in to an organization that exists in Clerk.")));
	if (user_id == NULL)
		return;
	args[1] = text_datum(user_id);
	if (check_latest(Q_MEMBER_DELETED, nsp, args))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("membership of user \"%s\" in organization \"%s\" was deleted",
						user_id, org_id),
				 errdetail("Clerk's organizationMembership.deleted event for it was applied; a removed member does not join again by signing in."),
				 errhint("Add the user to the organization in Clerk again: its organizationMembership.created event restores the membership.")));
}

/*
 * Wait for, and hold to the end of the transaction, the lock under which
 * gtm_apply_clerk_event applies the events of org_id (when the 1.1.0
 * tombstones exist): a sign-in that writes is then ordered with them, and
 * reads their outcome.  Called inside SPI.
 */
static void
lock_org_events(Oid nsp, const char *org_id)
{
	Datum		args[1];

	if (!OidIsValid(get_relname_relid("clerk_sync_state", nsp)))
		return;
	args[0] = text_datum(org_id);
	(void) run(Q_LOCK_ORG, nsp, args, true);
}

/*
 * A tenant was created (its row in SPI_tuptable, left there) for an
 * organization whose events' state was kept when its previous tenant was
 * deleted (gtm_delete_tenant without the right to delete it): the slug the
 * events applied was the old tenant's.  The new tenant's slug is recorded
 * as the events' when it comes from the Clerk slug the state holds
 * (requested, normalised, is that slug: the tenant has it, or one derived
 * from it), so that a redelivered event still gives it Clerk's slug once
 * that comes free; otherwise none is, and only a newer event replaces
 * it: an operator's (gtm_provision_tenant), or a sign-in's token newer
 * than the state (round FX: its slug was moved back to the older one a
 * redelivery held).  Round FW: the old tenant's slug stayed recorded, and
 * decided both wrongly.  Called inside SPI, under the organization's lock.
 */
static void
record_applied_slug(Oid nsp, const char *org_id, const char *slug,
					const char *requested, bool from_clerk)
{
	Datum		args[3];
	bool		events = false;

	if (!OidIsValid(get_relname_relid("clerk_sync_state", nsp)))
		return;
	args[0] = text_datum(org_id);
	if (run(Q_STATE_CLERK_SLUG, nsp, args, false) == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									  1, &isnull);
		char	   *clerk_slug = isnull ? NULL :
			normalize_clerk_slug(TextDatumGetCString(d));

		events = from_clerk && requested != NULL && clerk_slug != NULL &&
			strcmp(clerk_slug, requested) == 0;
		args[1] = text_datum(slug);
		args[2] = BoolGetDatum(events);
		(void) run(Q_RECORD_APPLIED_SLUG, nsp, args, false);
	}
	if (run(Q_FIND_TENANT_BY_ORG, nsp, args, false) != 1)	/* the row again */
		elog(ERROR, "tenant of organization %s vanished after its creation", org_id);
}

/*
 * The base of the slug a tenant without one gets: its name slugified, or,
 * with nothing usable in the name, the organization id.
 */
char *
name_slug_base(const char *org_id, const char *name)
{
	char	   *base = slugify(name);

	if (base[0] == '\0')
		base = slugify(psprintf("org %s", org_id + strlen("org_")));
	return base;
}

/*
 * The tenant of an organization, created when missing.  On return
 * SPI_tuptable->vals[0] is the tenants row.  *created says whether this
 * call inserted it.  slug_strict: a slug given that belongs to another
 * tenant is an error (gtm_provision_tenant); otherwise (a Clerk slug, on
 * sign-in and from webhooks) a free slug is derived from it instead.
 */
void
provision_tenant(Oid nsp, const char *org_id, const char *name,
				 const char *slug, Jsonb *settings, bool slug_strict,
				 bool *created)
{
	Datum		args[4];
	char	   *base = NULL;
	const char *requested = slug;

	args[0] = text_datum(org_id);

	/* Existing organization: one index probe, no write, no lock. */
	if (run(Q_FIND_TENANT_BY_ORG, nsp, args, true) == 1)
	{
		*created = false;
		return;
	}

	if (slug == NULL)
		base = name_slug_base(org_id, name);

	/*
	 * An organization Clerk deleted (its organization.deleted applied:
	 * gtm_apply_clerk_event's tombstone, 1.1.0) is not created again by a
	 * sign-in with a token issued before the deletion.  The organization's
	 * event lock orders this creation with its events (every caller:
	 * gtm_provision_tenant too, so that an organization.deleted applied
	 * while it runs waits for it and deletes the tenant it created).
	 */
	lock_org_events(nsp, org_id);
	refuse_deleted_sign_in(nsp, org_id, NULL);

	args[1] = text_datum(name);
	args[3] = JsonbPGetDatum(settings);

	for (;;)
	{
		char	   *candidate = slug ? (char *) slug : free_derived_slug(nsp, base, NULL);

		/* (see lock_tenant_slug: a rename of another tenant waits for it) */
		lock_tenant_slug(nsp, candidate);
		args[2] = text_datum(candidate);
		if (run(Q_INSERT_TENANT, nsp, args, false) == 1)
		{
			*created = true;
			record_applied_slug(nsp, org_id, candidate, requested, !slug_strict);
			return;
		}

		/*
		 * Conflict.  Either a concurrent sign-in created the organization
		 * (ON CONFLICT waited for it to commit; this query sees it) or the
		 * slug belongs to another organization: then a derived slug is
		 * searched again, with a snapshot that sees the new owner.
		 */
		if (run(Q_FIND_TENANT_BY_ORG, nsp, args, false) == 1)
		{
			*created = false;
			return;
		}
		if (slug != NULL && !slug_strict)
		{
			/* a Clerk slug taken here: derive a free one from it */
			base = clerk_slug_base(slug);
			slug = NULL;
			SPI_freetuptable(SPI_tuptable);
			continue;
		}
		if (slug != NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNIQUE_VIOLATION),
					 errmsg("slug %s is already used by another tenant",
							gtm_msg_value(slug, -1, true)),
					 errhint("Choose another slug, or pass NULL to derive a free one from the name.")));
		SPI_freetuptable(SPI_tuptable);
		pfree(DatumGetPointer(args[2]));
		pfree(candidate);
		CHECK_FOR_INTERRUPTS();
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
	provision_tenant(nsp, org_id, name, slug, settings, true, &created);
	/* the tenant found or created is reached before its row is returned */
	statement_scope_reach(result_text(SPI_fnumber(SPI_tuptable->tupdesc, "id")), "\"tenants\" (through gtm_provision_tenant())", true);
	result = SPI_returntuple(gtm_query_first_row("the tenant"), rettupdesc);
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

/*
 * The repeat sign-in's read path: the tenant of org_id and the role of
 * user_id in it, by two index probes (see index_probe); says which of the
 * two exist.
 */
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
 * A sign-in reads and writes the rows of its organization's tenant
 * (tenants, tenant_members): for the running top-level statement, that
 * tenant is reached like a pinned statement's, so one statement cannot
 * read one tenant's rows and sign in to another (statement_scope_reach:
 * exempt callers are not checked).
 */
static void
sign_in_reach(Datum tenant_id)
{
	statement_scope_reach(TextDatumGetCString(tenant_id),
						  "\"tenant_members\" (through gtm_sign_in())", false);
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

	/*
	 * org_name, org_slug and clerk_role are not checked here: a repeat
	 * sign-in ignores them, so it never fails on them, whatever their
	 * format.  The writer checks what it uses.
	 */
	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	switch (lookup_sign_in(nsp, org_id, user_id, &values[0], &values[1]))
	{
		case SIGN_IN_MEMBER:
			sign_in_reach(values[0]);
			values[2] = BoolGetDatum(false);
			values[3] = BoolGetDatum(false);
			PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(rettupdesc, values, nulls)));
		case SIGN_IN_TENANT_ONLY:
			sign_in_reach(values[0]);	/* before anything is written */
			break;
		case SIGN_IN_NOTHING:
			break;
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
	{
		bool		isnull;
		Datum		tenant = GetAttributeByNum(DatumGetHeapTupleHeader(result), 1,
											   &isnull);

		if (!isnull)
			sign_in_reach(tenant);	/* a tenant created: it is reached too */
	}
	PG_RETURN_DATUM(result);
}

/*
 * gtm_sign_in_write(): the writing half of gtm_sign_in (SECURITY DEFINER).
 *
 * Each input is checked only where it is used: org_name when the tenant is
 * created (org_slug, a Clerk slug, is then normalised, never an error:
 * normalize_clerk_slug), clerk_role when the membership is created (an
 * unknown key is an error naming it and how to map it).
 */
Datum
gtm_sign_in_write(PG_FUNCTION_ARGS)
{
	char	   *org_id = arg_clerk_org_id(fcinfo, 0, "clerk_org_id");
	char	   *user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	char	   *name;
	char	   *slug;
	const char *asked_role;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	TupleDesc	rettupdesc;
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};
	Datum		args[3];
	bool		tenant_created = false;
	bool		member_created = false;
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
			lock_org_events(nsp, org_id);
			break;
		case SIGN_IN_NOTHING:
		default:
			name = arg_tenant_name(fcinfo, 2, "org_name");
			slug = PG_ARGISNULL(3) ? NULL :
				normalize_clerk_slug(text_to_cstring(PG_GETARG_TEXT_PP(3)));
			SPI_connect();
			lock_org_events(nsp, org_id);
			provision_tenant(nsp, org_id, name, slug,
							 DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))),
							 false, &tenant_created);
			tenant_id = result_text(1);
			break;
	}

	/*
	 * Whether the tenant was there, created meanwhile by a webhook, or
	 * created now (a membership.deleted may come before the organization's
	 * events): no member Clerk removed joins, and no deleted organization.
	 */
	refuse_deleted_sign_in(nsp, org_id, user_id);

	asked_role = PG_ARGISNULL(4) ? "viewer" :
		clerk_role_or_error(nsp, text_to_cstring(PG_GETARG_TEXT_PP(4)));

	/*
	 * New membership.  Lock the tenant row so that "is this the first
	 * member?" and the insert are one step per tenant.
	 */
	args[0] = text_datum(tenant_id);
	if (run(Q_LOCK_TENANT, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("tenant of organization %s was deleted during sign-in",
						gtm_msg_value(org_id, -1, true)),
				 errhint("Retry the sign-in.")));
	args[1] = text_datum(user_id);
	args[2] = text_datum(check_latest(Q_HAS_MEMBERS, nsp, args) ? asked_role : "admin");
	if (run(Q_INSERT_MEMBER, nsp, args, false) == 1)
		member_created = true;
	else if (run(Q_FIND_MEMBER, nsp, args, false) != 1)	/* signed in concurrently */
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("membership of user %s in organization %s was removed during sign-in",
						gtm_msg_value(user_id, -1, true), gtm_msg_value(org_id, -1, true)),
				 errdetail("A concurrent sign-in added it, and a removal deleted it before it could be read."),
				 errhint("Retry the sign-in.")));
	values[1] = result_datum(1, &nulls[1]);
	SPI_finish();

	/* tenant_id and values[1] are in the caller's memory, not SPI's */
	values[0] = text_datum(tenant_id);
	values[2] = BoolGetDatum(tenant_created);
	values[3] = BoolGetDatum(member_created);
	tuple = heap_form_tuple(rettupdesc, values, nulls);
	PG_RETURN_DATUM(HeapTupleGetDatum(tuple));
}
