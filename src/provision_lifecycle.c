/*-------------------------------------------------------------------------
 *
 * provision_lifecycle.c
 *	  Organization updates: gtm_update_tenant, and the tenant of a Clerk
 *	  organization as a webhook describes it (gtm_clerk_tenant).
 *
 * gtm_update_tenant() renames a tenant or changes its slug with the same
 * checks and errors as provisioning (the slug rule is strict there).
 * gtm_clerk_tenant() is the part of gtm_apply_clerk_event (SQL, in the
 * upgrade script) that writes tenants: it creates the tenant of an
 * organization or brings its name and slug to Clerk's, a Clerk slug being
 * normalised (normalize_clerk_slug) and, when another tenant holds it,
 * replaced by a free slug derived from it -- never an error.
 *
 * Also the GUC gtm.clerk_sync: on while gtm_apply_clerk_event applies
 * Clerk's state (its SET clause turns it on for the call only), when the
 * last-admin rule of gtm_guard_last_admin steps aside (Clerk is the source
 * of truth there; doc/clerk-lifecycle.md).
 *
 * IDENTIFICATION
 *	  src/provision_lifecycle.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/snapmgr.h"

#include "gtm_clarity.h"
#include "provision.h"

PG_FUNCTION_INFO_V1(gtm_update_tenant);
PG_FUNCTION_INFO_V1(gtm_clerk_tenant);
PG_FUNCTION_INFO_V1(gtm_clerk_reach);

/* gtm.clerk_sync */
bool		gtm_clerk_sync = false;

/*
 * Only a session-level or function-level SET may turn gtm.clerk_sync on: in
 * postgresql.conf, ALTER SYSTEM, ALTER DATABASE or ALTER ROLE it would turn
 * the last-admin rule off for good.  (PGC_S_TEST: the check of a value
 * stored for later, by CREATE FUNCTION ... SET or ALTER ROLE ... SET; the
 * latter is refused when a session applies it.)
 */
static bool
check_clerk_sync(bool *newval, void **extra, GucSource source)
{
	if (*newval && source < PGC_S_SESSION && source != PGC_S_TEST)
	{
		GUC_check_errdetail("gtm.clerk_sync may only be set for a session or a function call.");
		GUC_check_errhint("gtm_apply_clerk_event() turns it on for the duration of its call.");
		return false;
	}
	return true;
}

void
gtm_provision_init(void)
{
	DefineCustomBoolVariable("gtm.clerk_sync",
							 "Whether Clerk's state is being applied (gtm_apply_clerk_event).",
							 "While on, the last-admin rule of tenant_members is not checked.",
							 &gtm_clerk_sync,
							 false,
							 PGC_SUSET,
							 GUC_NOT_IN_SAMPLE,
							 check_clerk_sync, NULL, NULL);
}

enum
{
	Q_TENANT_BY_ID,
	Q_TENANT_BY_ORG,
	Q_SLUG_OWNER,
	Q_LOCK_SLUG,
	Q_UPDATE,
	Q_FORGET_APPLIED_SLUG
};

static const GtmQueryDef query_defs[] = {
	[Q_TENANT_BY_ID] = {
		"SELECT * FROM %1$s.tenants WHERE id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {TEXTOID}
	},
	[Q_TENANT_BY_ORG] = {
		"SELECT * FROM %1$s.tenants WHERE clerk_org_id OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE",
		1, {TEXTOID}
	},
	[Q_SLUG_OWNER] = {
		"SELECT id FROM %1$s.tenants WHERE slug OPERATOR(pg_catalog.=) $1",
		1, {TEXTOID}
	},
	/* the writers of one slug, one at a time (lock_tenant_slug) */
	[Q_LOCK_SLUG] = {
		"SELECT pg_catalog.pg_advisory_xact_lock(1735549293, pg_catalog.hashtext($1))",
		1, {TEXTOID}
	},
	[Q_UPDATE] = {
		"UPDATE %1$s.tenants SET name = $2, slug = $3 WHERE id OPERATOR(pg_catalog.=) $1 "
		"RETURNING *",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[Q_FORGET_APPLIED_SLUG] = {
		"UPDATE %1$s.clerk_sync_state SET applied_slug = NULL "
		"WHERE clerk_org_id OPERATOR(pg_catalog.=) $1 AND clerk_user_id OPERATOR(pg_catalog.=) '' "
		"AND applied_slug IS NOT NULL",
		1, {TEXTOID}
	},
};
static SPIPlanPtr plans[lengthof(query_defs)];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

static Datum
text_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

/* Column colname of the first row of SPI_tuptable, as text. */
static char *
row_text(const char *colname)
{
	return SPI_getvalue(gtm_query_first_row("the tenant"), SPI_tuptable->tupdesc,
						SPI_fnumber(SPI_tuptable->tupdesc, colname));
}

/*
 * The tenant holding slug, with a snapshot taken now (after our lock on the
 * tenant row), or NULL.
 */
static char *
slug_owner(Oid nsp, const char *slug)
{
	Datum		args[1];

	args[0] = text_datum(slug);
	if (gtm_query_run_latest(&queries, Q_SLUG_OWNER, nsp, args, true, 1) == 0)
		return NULL;
	return row_text("id");
}

/*
 * Lock slug for the rest of the transaction (between SPI_connect and
 * SPI_finish).  Every writer of a tenant's slug -- a tenant created
 * (provision_tenant), renamed by a Clerk event (gtm_clerk_tenant) or by
 * gtm_update_tenant -- locks the slug it writes before it looks whether the
 * slug is free, with a snapshot taken after the lock (slug_owner): a second
 * writer of the same slug waits for the first to end, then sees its slug
 * and derives another (or reports it), rather than failing on the unique
 * index after the first commits (round CR: a webhook's rename against a
 * sign-in's or another event's new tenant, 23505).
 */
void
lock_tenant_slug(Oid nsp, const char *slug)
{
	Datum		args[1];

	args[0] = text_datum(slug);
	gtm_query_run(&queries, Q_LOCK_SLUG, nsp, args, false);
}

/*
 * slug, derived from base, locked and found free (or the tenant id's own)
 * after the lock; another one derived from base when it was taken
 * meanwhile.  Leaves SPI_tuptable for the caller to read the row again.
 */
static char *
claim_derived_slug(Oid nsp, const char *id, char *slug, const char *base,
				   const char *own)
{
	for (;;)
	{
		char	   *owner;

		lock_tenant_slug(nsp, slug);
		owner = slug_owner(nsp, slug);
		if (owner == NULL || strcmp(owner, id) == 0)
			return slug;
		CHECK_FOR_INTERRUPTS();
		slug = free_derived_slug(nsp, base, own);
	}
}

/*
 * Write name and slug of the locked tenant row in SPI_tuptable when either
 * differs; leaves the row (new or unchanged) in SPI_tuptable.
 */
static void
write_name_slug(Oid nsp, const char *id, const char *name, const char *slug)
{
	Datum		args[3];

	if (strcmp(row_text("name"), name) == 0 && strcmp(row_text("slug"), slug) == 0)
		return;
	args[0] = text_datum(id);
	args[1] = text_datum(name);
	args[2] = text_datum(slug);
	if (gtm_query_run(&queries, Q_UPDATE, nsp, args, false) != 1)
		elog(ERROR, "tenant %s vanished while locked", id);
}

/*
 * gtm_update_tenant(tenant_id, name DEFAULT NULL, slug DEFAULT NULL) -> tenants
 *
 * NULL keeps the current value.  Errors as provisioning: 22023 invalid
 * tenant name, 22023 invalid slug, 23505 a slug of another tenant; 22023 for
 * a tenant that does not exist.  Writes nothing when nothing changes.
 */
Datum
gtm_update_tenant(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	char	   *id;
	char	   *name;
	char	   *slug;
	char	   *owner;
	char	   *current;
	TupleDesc	rettupdesc;
	Datum		args[1];
	Datum		org_arg[1];
	HeapTupleHeader result;

	gtm_require_arg(fcinfo, 0, "tenant_id", "Pass the id of a row of tenants.");
	id = text_to_cstring(PG_GETARG_TEXT_PP(0));
	name = PG_ARGISNULL(1) ? NULL : arg_tenant_name(fcinfo, 1, "name");
	slug = arg_slug(fcinfo, 2);

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	statement_scope_reach(id, "\"tenants\" (through gtm_update_tenant())", true);
	SPI_connect();
	args[0] = text_datum(id);
	if (gtm_query_run(&queries, Q_TENANT_BY_ID, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant %s does not exist", gtm_msg_value(id, -1, true)),
				 errhint("Pass the id of a row of tenants (gtm_sign_in returns it).")));
	org_arg[0] = text_datum(row_text("clerk_org_id"));
	current = row_text("slug");
	if (name == NULL)
		name = row_text("name");
	if (slug == NULL || strcmp(slug, current) == 0)
		slug = current;
	else if ((lock_tenant_slug(nsp, slug),
			  (owner = slug_owner(nsp, slug)) != NULL && strcmp(owner, id) != 0))
		ereport(ERROR,
				(errcode(ERRCODE_UNIQUE_VIOLATION),
				 errmsg("slug %s is already used by another tenant",
						gtm_msg_value(slug, -1, true)),
				 errhint("Choose another slug.")));
	else
	{
		/*
		 * A slug the operator changes is the operator's, whatever its value:
		 * Clerk's redelivered and stale events leave it (round FW: the
		 * operator's change back to the slug an event had derived was taken
		 * for the event's, and a redelivery replaced it by Clerk's once that
		 * came free); only a newer snapshot of the organization replaces it.
		 * An event being applied meanwhile (under its organization's lock,
		 * not taken here: round FX, a caller that already holds the tenant
		 * row deadlocked with it) locks the tenant row before it moves the
		 * slug and then reads the state again, so it waits for this
		 * transaction and sees the clear.  A slug given equal
		 * to the tenant's (a form that sends it back unchanged) changes
		 * nothing.
		 */
		gtm_query_run(&queries, Q_FORGET_APPLIED_SLUG, nsp, org_arg, false);
		gtm_query_run(&queries, Q_TENANT_BY_ID, nsp, args, false);	/* the row again */
	}
	write_name_slug(nsp, id, name, slug);
	result = SPI_returntuple(gtm_query_first_row("the tenant"), rettupdesc);
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(result);
}

/*
 * The slug derived from base that the tenant id, whose slug is current,
 * gets: the one free_derived_slug finds where its own counts as free, so
 * that it depends on the other tenants' slugs, not on the slug the tenant
 * had (rounds FP and FQ: a slug of the form base-N that Clerk had given it
 * earlier was kept in one delivery order and not in the other; a free
 * base-3 below a taken base-4 kept it in one order and gave base-8 in the
 * other).  A tenant that has it keeps it.  Leaves SPI_tuptable to the
 * caller's next query.
 */
static char *
tenant_derived_slug(Oid nsp, const char *id, const char *current, const char *base)
{
	char	   *found = free_derived_slug(nsp, base, current);

	if (strcmp(found, current) == 0)
		return (char *) current;
	return claim_derived_slug(nsp, id, found, base, current);
}

/*
 * What a Clerk event reaches: the tenant of its organization, for the
 * running top-level statement (statement_scope_reach), so one statement
 * cannot apply the events of two organizations' tenants, or read one
 * tenant and change another.
 */
#define CLERK_REACH "\"tenants\" (through gtm_apply_clerk_event())"

/*
 * gtm_clerk_reach(tenant_id) -> void: the event being applied reaches
 * tenant_id (CLERK_REACH).  Internal to gtm_apply_clerk_event, which is
 * SECURITY DEFINER: the caller checked is the outer user.
 */
Datum
gtm_clerk_reach(PG_FUNCTION_ARGS)
{
	statement_scope_reach(text_to_cstring(PG_GETARG_TEXT_PP(0)), CLERK_REACH, true);
	PG_RETURN_VOID();
}

/*
 * gtm_clerk_tenant(clerk_org_id, name, clerk_slug) -> tenants
 *
 * The tenant of the organization, created with name and the normalised
 * Clerk slug when missing, else given them (a tenant whose slug is already
 * the slug or one derived from it keeps it).  Internal to
 * gtm_apply_clerk_event; EXECUTE is not granted to anyone.
 */
Datum
gtm_clerk_tenant(PG_FUNCTION_ARGS)
{
	Oid			nsp = gtm_extension_namespace(fcinfo);
	char	   *org_id = arg_clerk_org_id(fcinfo, 0, "clerk_org_id");
	char	   *name = arg_tenant_name(fcinfo, 1, "name");
	char	   *slug = PG_ARGISNULL(2) ? NULL :
		normalize_clerk_slug(text_to_cstring(PG_GETARG_TEXT_PP(2)));
	TupleDesc	rettupdesc;
	Datum		args[1];
	HeapTupleHeader result;
	char	   *id;
	char	   *current;
	char	   *owner;
	bool		created;

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	SPI_connect();
	args[0] = text_datum(org_id);
	if (gtm_query_run(&queries, Q_TENANT_BY_ORG, nsp, args, false) != 1)
	{
		provision_tenant(nsp, org_id, name, slug,
						 DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum("{}"))),
						 false, &created);
		if (created)
		{
			statement_scope_reach(row_text("id"), CLERK_REACH, true);
			result = SPI_returntuple(gtm_query_first_row("the tenant"), rettupdesc);
			SPI_finish();
			PG_RETURN_HEAPTUPLEHEADER(result);
		}
		/* created concurrently: lock it and update it as below */
		if (gtm_query_run(&queries, Q_TENANT_BY_ORG, nsp, args, false) != 1)
			ereport(ERROR,
					(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
					 errmsg("the tenant of organization \"%s\" was deleted concurrently", org_id),
					 errhint("Retry the call.")));
	}
	id = row_text("id");
	statement_scope_reach(id, CLERK_REACH, true);	/* before it is changed */
	current = row_text("slug");
	if (slug == NULL)
	{
		/*
		 * Clerk has no slug for the organization: the tenant's is the one
		 * derived from its name, as a tenant created by this event would
		 * have (so the events give one slug whatever order they come in):
		 * the base when it is free, else the one the search for a free
		 * suffix finds with the tenant's own slug counting as free
		 * (tenant_derived_slug).
		 */
		char	   *base = name_slug_base(org_id, name);
		Datum		slug_arg[1];

		if (strcmp(current, base) == 0)
			slug = current;
		else
		{
			slug_arg[0] = text_datum(base);
			gtm_query_run(&queries, Q_LOCK_SLUG, nsp, slug_arg, false);
			if ((owner = slug_owner(nsp, base)) == NULL || strcmp(owner, id) == 0)
				slug = base;	/* free: the name's, whatever the tenant had */
			else
				slug = tenant_derived_slug(nsp, id, current, base);
			gtm_query_run(&queries, Q_TENANT_BY_ORG, nsp, args, false);	/* the row again */
		}
	}
	else if (strcmp(current, slug) == 0)
		slug = current;
	else
	{
		Datum		slug_arg[1];

		/*
		 * Clerk's slug, when no other tenant has it (also over a slug
		 * derived from it, which it held while the slug was taken, or a
		 * Clerk slug of that form: "team-2024" for "team"), else one
		 * derived from it (tenant_derived_slug, below).  Two events
		 * claiming one slug take the slug's lock, so that the second sees
		 * the first's (slug_owner reads the latest snapshot) and derives
		 * one, rather than failing on the unique index.  The slugs derived
		 * from Clerk's are built from its base (clerk_slug_base: cut to
		 * leave room for a suffix): the base itself, then base-2, base-3.
		 * The tenant gets the one the search finds with its own slug
		 * counting as free (tenant_derived_slug), so that every event of
		 * the organization (and a sign-in before them) leaves one slug,
		 * whatever their order (round FN: with a Clerk slug over 90
		 * characters that another tenant held, each event moved the tenant
		 * between the base and base-2).
		 */
		char	   *base = clerk_slug_base(slug);

		slug_arg[0] = text_datum(slug);
		gtm_query_run(&queries, Q_LOCK_SLUG, nsp, slug_arg, false);
		if ((owner = slug_owner(nsp, slug)) == NULL || strcmp(owner, id) == 0)
			;					/* free: Clerk's */
		else
			slug = tenant_derived_slug(nsp, id, current, base);
		gtm_query_run(&queries, Q_TENANT_BY_ORG, nsp, args, false);	/* the row again */
	}
	write_name_slug(nsp, id, name, slug);
	result = SPI_returntuple(gtm_query_first_row("the tenant"), rettupdesc);
	SPI_finish();
	PG_RETURN_HEAPTUPLEHEADER(result);
}
