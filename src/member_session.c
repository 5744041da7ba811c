/*-------------------------------------------------------------------------
 *
 * member_session.c
 *	  The acting member: the Clerk user a request acts for, in the tenant of
 *	  the session, and the role checks of the application's SQL.
 *
 * gtm_set_tenant(tenant, is_local, clerk_user_id) sets the tenant as the
 * two-argument gtm_set_tenant() does (it calls that C function), then
 * checks that the user is a member of it and records the member in the
 * GUC gtm.member as "tenant_id/clerk_user_id", in the same scope as
 * gtm.tenant: the transaction with is_local, else the session.  Only
 * superusers may SET gtm.member; the two-argument gtm_set_tenant() clears it
 * (gtm_member_forget), so a member never outlives the tenant it was set
 * with.
 *
 * gtm_current_member_role() reads the member's role from the primary key
 * of tenant_members (one index probe, index_probe in provision_index.c), so
 * a role changed or a membership removed since gtm_set_tenant() counts at
 * once.  gtm_require_role(role) raises 42501 when that role is below role
 * (admin > manager > viewer: the order of the gtm_role enum).
 *
 * IDENTIFICATION
 *	  src/member_session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_enum.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"
#include "provision.h"

PG_FUNCTION_INFO_V1(gtm_set_tenant_member);
PG_FUNCTION_INFO_V1(gtm_current_member_role);
PG_FUNCTION_INFO_V1(gtm_require_role);

/* gtm.member: "tenant_id/clerk_user_id", or "" for none */
static char *gtm_member = NULL;

/*
 * current_setting('gtm.member') ("tenant/user") read by a function the
 * planner runs shows no member: see show_session_tenant (enforce_guc.c).
 */
static const char *
show_member(void)
{
	if (planner_runs_function() || gtm_member == NULL)
		return "";
	return gtm_member;
}

static bool
check_member(char **newval, void **extra, GucSource source)
{
	const char *slash;

	if (*newval == NULL || (*newval)[0] == '\0')
		return true;
	slash = strchr(*newval, '/');
	if (slash == NULL || slash == *newval || strncmp(slash + 1, "user_", 5) != 0 ||
		strchr(slash + 1, '/') != NULL)
	{
		GUC_check_errdetail("gtm.member is \"tenant_id/clerk_user_id\" or empty.");
		GUC_check_errhint("Set it with gtm_set_tenant(tenant_id, is_local, clerk_user_id).");
		return false;
	}
	return true;
}

void
gtm_member_init(void)
{
	DefineCustomStringVariable("gtm.member",
							   "Acting member of the session tenant, set by gtm_set_tenant(tenant, is_local, clerk_user_id).",
							   NULL,
							   &gtm_member,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   check_member, NULL, show_member);
}

static void
set_member(const char *value, bool is_local)
{
	(void) set_config_option("gtm.member", value, PGC_SUSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
}

/*
 * The tenant was set without a member: forget the member, in that scope.
 * For the session scope always: a transaction-local empty value may hide
 * a session member that would come back when the transaction ends.
 */
void
gtm_member_forget(bool is_local)
{
	if (!is_local || (gtm_member != NULL && gtm_member[0] != '\0'))
		set_member("", is_local);
}

/*
 * gtm_set_tenant(tenant text, is_local boolean, clerk_user_id text) RETURNS text
 *
 * SECURITY DEFINER.  The arguments 0 and 1 are those of the two-argument
 * form, whose C function runs first with this call's arguments.
 */
Datum
gtm_set_tenant_member(PG_FUNCTION_ARGS)
{
	char	   *user_id = arg_clerk_user_id(fcinfo, 2, "clerk_user_id");
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		result;
	char	   *tenant;
	Datum		keys[2];
	Datum		role;
	bool		isnull;

	result = gtm_set_tenant(fcinfo);
	tenant = TextDatumGetCString(result);
	keys[0] = PointerGetDatum(cstring_to_text(tenant));
	keys[1] = PointerGetDatum(cstring_to_text(user_id));
	if (!index_probe(nsp, "tenant_members", "tenant_members_pkey", 2, keys,
					 "role", &role, &isnull))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("user %s is not a member of tenant %s",
						gtm_msg_value(user_id, -1, true), gtm_msg_value(tenant, -1, true)),
				 errdetail("The session tenant is left as it was."),
				 errhint("Sign the user in with gtm_sign_in(), or apply the Clerk membership event, first.")));
	set_member(psprintf("%s/%s", tenant, user_id), PG_GETARG_BOOL(1));
	PG_RETURN_DATUM(result);
}

/*
 * The acting member's role (an OID of gtm_role) when a member is set for
 * the session tenant and still a member; else false.  *user: the member.
 */
static bool
member_role(FunctionCallInfo fcinfo, Datum *role, char **user)
{
	const char *slash;
	size_t		tlen;
	Datum		keys[2];
	bool		isnull;

	*user = NULL;
	/* inside a function the planner runs: see gtm_current_tenant() */
	if (planner_runs_function())
		return false;
	if (gtm_member == NULL || gtm_member[0] == '\0' ||
		gtm_session_tenant == NULL || gtm_session_tenant[0] == '\0')
		return false;
	slash = strchr(gtm_member, '/');
	tlen = slash - gtm_member;
	if (strlen(gtm_session_tenant) != tlen ||
		strncmp(gtm_session_tenant, gtm_member, tlen) != 0)
		return false;
	*user = pstrdup(slash + 1);
	keys[0] = PointerGetDatum(cstring_to_text(gtm_session_tenant));
	keys[1] = PointerGetDatum(cstring_to_text(*user));
	/* reading a row of the session tenant reaches it, as a query would */
	statement_scope_reach(gtm_session_tenant, "gtm_current_member_role", false);
	return index_probe(gtm_extension_namespace(fcinfo), "tenant_members",
					   "tenant_members_pkey", 2, keys, "role", role, &isnull) && !isnull;
}

/* gtm_current_member_role() RETURNS gtm_role STABLE: NULL when none */
Datum
gtm_current_member_role(PG_FUNCTION_ARGS)
{
	Datum		role;
	char	   *user;

	if (!member_role(fcinfo, &role, &user))
		PG_RETURN_NULL();
	PG_RETURN_DATUM(role);
}

/* The sort order of a value of an enum (pg_enum.enumsortorder). */
static float4
enum_order(Datum value)
{
	HeapTuple	tup = SearchSysCache1(ENUMOID, value);
	float4		order;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "invalid internal value for enum: %u", DatumGetObjectId(value));
	order = ((Form_pg_enum) GETSTRUCT(tup))->enumsortorder;
	ReleaseSysCache(tup);
	return order;
}

static char *
enum_label(Datum value)
{
	return DatumGetCString(DirectFunctionCall1(enum_out, value));
}

/*
 * gtm_require_role(role gtm_role) RETURNS gtm_role STABLE
 *
 * The acting member's role when it is role or above; 42501 otherwise,
 * including when no member is acting.
 */
Datum
gtm_require_role(PG_FUNCTION_ARGS)
{
	Datum		role;
	char	   *user;

	gtm_require_arg(fcinfo, 0, "role", "Pass 'admin', 'manager' or 'viewer'.");
	if (!member_role(fcinfo, &role, &user))
	{
		if (user == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("no acting member is set for the session tenant"),
					 errdetail("Role %s is required.", enum_label(PG_GETARG_DATUM(0))),
					 errhint("Call gtm_set_tenant(tenant_id, is_local, clerk_user_id) first.")));
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("user %s is no longer a member of tenant %s",
						gtm_msg_value(user, -1, true),
						gtm_msg_value(gtm_session_tenant, -1, true)),
				 errdetail("Role %s is required.", enum_label(PG_GETARG_DATUM(0)))));
	}
	/* admin is the first label: a lower sort order is a higher role */
	if (enum_order(role) > enum_order(PG_GETARG_DATUM(0)))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role %s is required", enum_label(PG_GETARG_DATUM(0))),
				 errdetail("User %s is %s in tenant %s.",
						   gtm_msg_value(user, -1, true), enum_label(role),
						   gtm_msg_value(gtm_session_tenant, -1, true)),
				 errhint("Roles rank admin > manager > viewer.")));
	PG_RETURN_DATUM(role);
}
