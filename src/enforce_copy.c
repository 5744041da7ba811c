/*-------------------------------------------------------------------------
 *
 * enforce_copy.c
 *	  COPY table FROM into a tenant table: every row checked against the
 *	  session tenant.
 *
 * COPY table FROM does not go through the planner, so the check cannot
 * prove anything about the rows before they are read.  Instead, when the
 * session has a tenant (gtm_current_tenant()), gtm_ProcessUtility gives the
 * COPY a first condition of its own (copy_from_checked):
 *
 *		COPY t ... FROM ... WHERE pg_catalog.gtm_copy_check_row(tenant_id, 'T1')
 *							  [AND the caller's own WHERE condition]
 *
 * PostgreSQL's CopyFrom evaluates it on every row it reads, after the
 * column defaults have filled the columns the COPY does not list (so a
 * tenant column left out takes its DEFAULT, gtm_current_tenant() for a
 * table made by gtm_make_tenant_table) and before partition routing,
 * BEFORE triggers, constraints and the insert.  gtm_copy_check_row returns
 * true for a row of the tenant and raises 42501, naming the line, for any
 * other value or NULL: the COPY, and the transaction, are aborted, so no
 * row of it is written.  The function is STABLE, so CopyFrom keeps its
 * multi-insert buffers (a volatile WHERE condition would make it insert
 * row by row).
 *
 * The tenant is the session's when the COPY starts, passed as a constant:
 * the COPY fixes it as the tenant of its top-level statement
 * (statement_scope_check), so the triggers and functions it runs may reach
 * that tenant only, and gtm_set_tenant() cannot change it while it runs.
 *
 * The table is looked up and locked in ROW EXCLUSIVE mode (the lock COPY
 * FROM takes anyway) before it is judged, and the statement names it by
 * schema, so the table judged is the table written.
 *
 * A Citus shard on a worker (distributed_table_of_shard) may also be
 * imported into without a session tenant: Citus writes the rows of an
 * INSERT ... SELECT it executes through the coordinator with
 * "COPY shard FROM STDIN" on its own connection, where no session
 * tenant is set.  Then the condition passes the empty string as the tenant
 * (no tenant has that id), and gtm_copy_check_row checks every row against
 * the tenant of the running top-level statement instead: the first row
 * fixes it (as gtm_pin does), any other tenant or a NULL aborts the COPY.
 * Such a COPY thus writes one tenant's rows, like a multi-row INSERT into
 * the shard, which the worker accepts from any client; that the rows are
 * those of the tenant the client's statement was pinned to is the
 * coordinator's verdict (doc/scaling-out.md).
 *
 * Not checked: what a BEFORE row trigger written by the table owner does to
 * the row after the check (README, "Known limits"; as for INSERT).
 *
 * IDENTIFICATION
 *	  src/enforce_copy.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "commands/copy.h"
#include "commands/copyfrom_internal.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_copy_check_row);

#define COPY_CHECK_FN "gtm_copy_check_row"

/* In warn mode, one warning per COPY (reset by copy_from_checked). */
static bool copy_warned = false;

/*
 * The OID of pg_catalog.gtm_copy_check_row(anyelement, text), or InvalidOid
 * (1.0.0).  It lives in pg_catalog, where only a superuser creates
 * functions, because the COPY's WHERE clause names it and PostgreSQL
 * resolves that name when the COPY runs: in a schema where others may
 * create functions, an overload with the column's exact types would win.
 */
static Oid
copy_check_fn(void)
{
	Oid			argtypes[2] = {ANYELEMENTOID, TEXTOID};

	return LookupFuncName(list_make2(makeString("pg_catalog"),
									 makeString(COPY_CHECK_FN)),
						  2, argtypes, true);
}

/* Is a session tenant set? */
static bool
session_has_tenant(void)
{
	return gtm_session_tenant != NULL && gtm_session_tenant[0] != '\0';
}

/*
 * May a COPY FROM into tenant table relid run with its rows checked?  Yes
 * when the session has a tenant, or relid is a Citus shard (its rows are
 * then checked against the statement's tenant, see the file header), the
 * tenant column is not generated (computed after the check) and the
 * installed version of the extension has the check function.  Else *why
 * says what is missing.
 */
bool
copy_from_allowed(Oid relid, CopyRefusal *why)
{
	RelFacts   *f = rel_facts(relid);

	*why = COPY_REFUSED_NONE;
	if (!session_has_tenant() && !OidIsValid(distributed_table_of_shard(relid)))
		*why = COPY_REFUSED_NO_TENANT;
	else if (tenant_column_generated(NULL, f, true, NIL, NIL, 0))
		*why = COPY_REFUSED_GENERATED;
	else if (!OidIsValid(copy_check_fn()))
		*why = COPY_REFUSED_OLD_VERSION;
	return *why == COPY_REFUSED_NONE;
}

/*
 * gtm_ProcessUtility, for a role that is not exempt: COPY table FROM into
 * a tenant table the session may import into gets the row check as the
 * first condition of its WHERE clause, and fixes the session tenant as the
 * top-level statement's.  Returns the statement to run (pstmt itself when
 * it is not such a COPY).  Any other COPY FROM is returned with its table
 * named by schema, locked; judge_utility then decides on it.  *copied is
 * the table of a COPY FROM returned so (else InvalidOid): its partitions
 * are judged again once it has copied, by this OID, since a schema may be
 * renamed meanwhile (round EJ).
 */
PlannedStmt *
copy_from_checked(PlannedStmt *pstmt, Oid *copied)
{
	CopyStmt   *stmt = (CopyStmt *) pstmt->utilityStmt;
	CopyStmt   *checked;
	PlannedStmt *result;
	Oid			relid;
	RelFacts   *f;
	CopyRefusal why;
	FuncCall   *call;
	ColumnRef  *col;
	A_Const    *tenant;
	char	   *nspname;

	*copied = InvalidOid;
	if (!IsA(stmt, CopyStmt) || stmt->relation == NULL)
		return pstmt;

	/*
	 * The lock COPY takes (DoCopy), taken first: the table cannot be
	 * renamed, dropped, or given or lose its tenant column until the end of
	 * the transaction, and the statement names it by schema, so PostgreSQL's
	 * own lookup finds the table judged.  COPY TO too: judged on what its
	 * name denoted before its lock, it sent every row of a tenant table that
	 * took the name while it waited (round EV: a table of the role's own
	 * earlier in the search_path, dropped by its other session; a migration
	 * renaming tables), and its rows reach the client before any check
	 * after it.  A missing table is left to DoCopy's message.
	 */
	relid = RangeVarGetRelid(stmt->relation,
							 stmt->is_from ? RowExclusiveLock : AccessShareLock, true);
	if (!OidIsValid(relid))
		return pstmt;
	nspname = get_namespace_name(get_rel_namespace(relid));
	if (nspname == NULL)
		return pstmt;

	checked = copyObject(stmt);
	checked->relation->schemaname = nspname;
	checked->relation->relname = get_rel_name(relid);
	checked->relation->catalogname = NULL;
	if (!stmt->is_from)
	{
		result = makeNode(PlannedStmt);
		memcpy(result, pstmt, sizeof(PlannedStmt));
		result->utilityStmt = (Node *) checked;
		return result;
	}

	f = rel_facts(relid);
	if (f->tenant && !f->exempt && copy_from_allowed(relid, &why))
	{
		col = makeNode(ColumnRef);
		col->fields = list_make1(makeString(pstrdup(tenant_column_name(relid))));
		col->location = -1;
		tenant = makeNode(A_Const);
		tenant->val.sval.type = T_String;
		/* no session tenant: a shard, checked against the statement's */
		tenant->val.sval.sval = pstrdup(session_has_tenant() ?
										gtm_session_tenant : "");
		tenant->location = -1;
		call = makeFuncCall(list_make2(makeString("pg_catalog"),
									   makeString(COPY_CHECK_FN)),
							list_make2(col, tenant), COERCE_EXPLICIT_CALL, -1);
		checked->whereClause = stmt->whereClause == NULL ? (Node *) call :
			(Node *) makeBoolExpr(AND_EXPR,
								  list_make2(call, copyObject(stmt->whereClause)),
								  -1);

		/* the COPY reaches this tenant, and its triggers no other */
		if (session_has_tenant())
			statement_scope_check(gtm_session_tenant,
								  psprintf("%u:%s", relid, get_rel_name(relid)),
								  ENFORCE_ELEVEL());
		copy_warned = false;
	}

	result = makeNode(PlannedStmt);
	memcpy(result, pstmt, sizeof(PlannedStmt));
	result->utilityStmt = (Node *) checked;
	*copied = relid;
	return result;
}

/* The COPY FROM whose row is being read, from the error context stack. */
static CopyFromState
running_copy(void)
{
	ErrorContextCallback *ecb;

	for (ecb = error_context_stack; ecb != NULL; ecb = ecb->previous)
		if (ecb->callback == CopyFromErrorCallback)
			return (CopyFromState) ecb->arg;
	return NULL;
}

/*
 * gtm_copy_check_row(value anyelement, tenant text) RETURNS boolean
 *
 * The condition copy_from_checked gives a COPY FROM: true when value (the
 * row's tenant column) is tenant, else 42501 naming the line (a WARNING,
 * once per COPY, in warn mode); called outside a COPY, 42501 without one.  A value of another type than text is
 * compared in its text form (a uuid column's canonical text).
 */
Datum
gtm_copy_check_row(PG_FUNCTION_ARGS)
{
	text	   *want;
	CopyFromState cstate;
	char	   *got = NULL;
	const char *relname;
	const char *tcol;
	uint64		line;
	int			elevel;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant must not be null")));
	want = PG_GETARG_TEXT_PP(1);
	if (VARSIZE_ANY_EXHDR(want) == 0 && !PG_ARGISNULL(0) &&
		(cstate = running_copy()) != NULL)
	{
		/* a shard without a session tenant: the first row fixes it */
		char	   *row_tenant;
		const char *reached = statement_scope_tenant();

		row_tenant = tenant_value_text(PG_GETARG_DATUM(0),
									   get_fn_expr_argtype(fcinfo->flinfo, 0));
		if (reached != NULL && strcmp(reached, row_tenant) != 0)
		{
			if (ENFORCE_ELEVEL() < ERROR && copy_warned)
				PG_RETURN_BOOL(true);	/* warn mode: once per COPY */
			copy_warned = true;
		}
		statement_scope_check(row_tenant,
							  psprintf("%u:%s", RelationGetRelid(cstate->rel),
									   RelationGetRelationName(cstate->rel)),
							  ENFORCE_ELEVEL());
		PG_RETURN_BOOL(true);
	}
	if (!PG_ARGISNULL(0))
	{
		Oid			type;

		/* the argument's type, looked up on the first row of the COPY */
		if (fcinfo->flinfo->fn_extra == NULL)
		{
			Oid		   *cached = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt,
													sizeof(Oid));

			*cached = get_fn_expr_argtype(fcinfo->flinfo, 0);
			fcinfo->flinfo->fn_extra = cached;
		}
		type = *(Oid *) fcinfo->flinfo->fn_extra;
		if (type == TEXTOID || type == VARCHAROID)
		{
			text	   *have = PG_GETARG_TEXT_PP(0);

			if (VARSIZE_ANY_EXHDR(have) == VARSIZE_ANY_EXHDR(want) &&
				memcmp(VARDATA_ANY(have), VARDATA_ANY(want),
					   VARSIZE_ANY_EXHDR(want)) == 0)
				PG_RETURN_BOOL(true);
			got = text_to_cstring(have);
		}
		else
		{
			got = tenant_value_text(PG_GETARG_DATUM(0), type);
			if (strcmp(got, text_to_cstring(want)) == 0)
				PG_RETURN_BOOL(true);
		}
	}

	elevel = ENFORCE_ELEVEL();
	if (elevel < ERROR && copy_warned)
		PG_RETURN_BOOL(true);
	copy_warned = true;
	cstate = running_copy();
	if (cstate == NULL)
		ereport(elevel,			/* called directly, not by a COPY */
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("tenant value %s is not '%s'",
						got ? psprintf("'%s'", gtm_msg_value(got, -1, false)) : "NULL",
						gtm_msg_value(VARDATA_ANY(want), VARSIZE_ANY_EXHDR(want), false))));
	relname = cstate ? RelationGetRelationName(cstate->rel) : "?";
	tcol = cstate ? tenant_column_name(RelationGetRelid(cstate->rel)) : gtm_tenant_column;
	line = cstate ? cstate->cur_lineno : 0;
	if (cstate == NULL)
		PG_RETURN_BOOL(true);	/* warn mode */
	if (got == NULL)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("COPY into tenant-scoped table \"%s\": line %llu has no tenant",
						relname, (unsigned long long) line),
				 VARSIZE_ANY_EXHDR(want) == 0 ?
				 errdetail("Its %s is NULL; every row must belong to the tenant of the statement.",
						   quote_identifier(tcol)) :
				 errdetail("Its %s is NULL; every row must belong to the session tenant '%s'.",
						   quote_identifier(tcol),
						   gtm_msg_value(VARDATA_ANY(want),
										 VARSIZE_ANY_EXHDR(want), false)),
				 errhint("Give the tenant of each row, or leave %s out of the column list with DEFAULT gtm_current_tenant() (gtm_make_tenant_table sets it).",
						 quote_identifier(tcol))));
	else
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("COPY into tenant-scoped table \"%s\": line %llu belongs to another tenant",
						relname, (unsigned long long) line),
				 errdetail("Its %s is '%s'; every row must belong to the session tenant '%s'.",
						   quote_identifier(tcol),
						   gtm_msg_value(got, -1, false),
						   gtm_msg_value(VARDATA_ANY(want),
										 VARSIZE_ANY_EXHDR(want), false)),
				 errhint("Import each tenant's rows in a COPY of their own, after gtm_set_tenant().")));
	PG_RETURN_BOOL(true);
}
