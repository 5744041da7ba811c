/*-------------------------------------------------------------------------
 *
 * provision_members.c
 *	  Members of a tenant: their role changed or removed, and the triggers
 *	  of the extension's tables.
 *
 * gtm_set_member_role and gtm_remove_member change one tenant_members row
 * of the tenant they reach (statement_scope_reach), as a statement pinned
 * to it would.  The last-admin rule is gtm_guard_last_admin's, an AFTER
 * UPDATE OR DELETE row trigger on tenant_members, so that it holds for a
 * plain UPDATE or DELETE too: it locks the tenant row (FOR NO KEY UPDATE,
 * as provisioning does) and counts the admins left with a snapshot taken
 * after the lock, so two transactions that each remove one of two admins
 * are serialised and the second fails.
 *
 * IDENTIFICATION
 *	  src/provision_members.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "gtm_clarity.h"
#include "provision.h"


PG_FUNCTION_INFO_V1(gtm_set_member_role);
PG_FUNCTION_INFO_V1(gtm_remove_member);
PG_FUNCTION_INFO_V1(gtm_touch_updated_at);
PG_FUNCTION_INFO_V1(gtm_guard_last_admin);

typedef enum MemberQuery
{
	Q_SET_ROLE,
	Q_REMOVE_MEMBER,
	Q_LOCK_TENANT,
	Q_ADMIN_LEFT,
	NUM_MEMBER_QUERIES
} MemberQuery;

static const GtmQueryDef query_defs[NUM_MEMBER_QUERIES] = {
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
	[Q_LOCK_TENANT] = {
		"SELECT 1 FROM %1$s.tenants WHERE id = $1 FOR NO KEY UPDATE",
		1, {TEXTOID}
	},
	[Q_ADMIN_LEFT] = {
		"SELECT EXISTS (SELECT 1 FROM %1$s.tenant_members "
		"               WHERE tenant_id = $1 AND role = 'admin')",
		1, {TEXTOID}
	},
};

static SPIPlanPtr plans[NUM_MEMBER_QUERIES];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

static Datum
text_datum(const char *s)
{
	return PointerGetDatum(cstring_to_text(s));
}

/*
 * Run q, which changes one tenant_members row and returns it, and return
 * that row as the function's result (copied out of SPI memory); no row
 * raises 02000 "user ... is not a member of tenant ...".
 */
static HeapTupleHeader
member_row_query(MemberQuery q, Oid nsp, Datum *args, TupleDesc rettupdesc,
				 const char *tenant_id, const char *user_id)
{
	HeapTupleHeader result;

	SPI_connect();
	if (gtm_query_run(&queries, q, nsp, args, false) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_NO_DATA_FOUND),
				 errmsg("user %s is not a member of tenant %s",
						gtm_msg_value(user_id, -1, true), gtm_msg_value(tenant_id, -1, true))));
	result = SPI_returntuple(SPI_tuptable->vals[0], rettupdesc);
	SPI_finish();
	return result;
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
	char	   *tenant_id;
	char	   *user_id;

	gtm_require_arg(fcinfo, 0, "tenant_id", NULL);
	user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	gtm_require_arg(fcinfo, 2, "role", NULL);
	tenant_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	/* the member's tenant is reached, as by a statement pinned to it */
	statement_scope_reach(tenant_id, "\"tenant_members\" (through gtm_set_member_role())", true);

	args[0] = text_datum(tenant_id);
	args[1] = text_datum(user_id);
	args[2] = DirectFunctionCall1(enum_out, PG_GETARG_DATUM(2));
	args[2] = text_datum(DatumGetCString(args[2]));

	PG_RETURN_HEAPTUPLEHEADER(member_row_query(Q_SET_ROLE, nsp, args, rettupdesc,
											   tenant_id, user_id));
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
	char	   *tenant_id;
	char	   *user_id;

	gtm_require_arg(fcinfo, 0, "tenant_id", NULL);
	user_id = arg_clerk_user_id(fcinfo, 1, "clerk_user_id");
	tenant_id = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (get_call_result_type(fcinfo, NULL, &rettupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	statement_scope_reach(tenant_id, "\"tenant_members\" (through gtm_remove_member())", true);

	args[0] = text_datum(tenant_id);
	args[1] = text_datum(user_id);

	PG_RETURN_HEAPTUPLEHEADER(member_row_query(Q_REMOVE_MEMBER, nsp, args, rettupdesc,
											   tenant_id, user_id));
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

	/*
	 * Clerk's state, applied by gtm_apply_clerk_event, may pass through a
	 * tenant without admin (doc/clerk-lifecycle.md): no check.  It takes the
	 * tenant's lock all the same, so that a check of another transaction,
	 * which counted this admin, waits for it and counts again.
	 */
	if (gtm_query_run(&queries, Q_LOCK_TENANT, nsp, args, false) == 0 || gtm_clerk_sync)
		admin_left = true;		/* being deleted, or Clerk's state */
	else
	{
		/* not read-only: the snapshot sees this statement's own change */
		bool		isnull;

		if (gtm_query_run_latest(&queries, Q_ADMIN_LEFT, nsp, args, false, 1) != 1)
			elog(ERROR, "count of admins returned no row");
		admin_left = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 1, &isnull)) && !isnull;
	}
	SPI_finish();

	if (!admin_left)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("tenant %s must keep at least one admin",
						gtm_msg_value(tenant_id, -1, true)),
				 errdetail("User %s is its last admin.", gtm_msg_value(user_id, -1, true)),
				 errhint("Make another member admin first with gtm_set_member_role(), or delete the tenant.")));
	return PointerGetDatum(NULL);
}
