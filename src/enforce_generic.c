/*-------------------------------------------------------------------------
 *
 * enforce_generic.c
 *	  A generic plan the rule rejects is refused when it starts, and costed
 *	  so that the plan cache keeps making custom plans.
 *
 * A prepared statement's first five executions get custom plans, planned
 * with the bound parameters: `(tenant_id = $1 AND id = $2) OR (tenant_id =
 * $3 AND id = $4)` with $1 = $3 is then `tenant_id = 'T1' AND (...)`
 * (PostgreSQL factors the equal condition out of the OR) and pinned.  The
 * sixth execution makes the plan cache build the generic plan to compare
 * its cost, where $1 and $3 are two parameters: rejected, and every later
 * execution failed with it, although a custom plan, checked with its own
 * values, would have served (an ORM's compound-key OR, PL/pgSQL's
 * statements).
 *
 * So in error mode a rejected plan planned without bound values for its
 * parameters (the plan cache's generic plan; also a SQL function's
 * statements) is not refused while it is planned: its verdict, the error
 * PostgreSQL would have raised, replaces everything the plan carries
 * ('R' payload, enforce_runtime.c) and is raised when the plan starts,
 * before any row is read, also under plain EXPLAIN; and its cost is made
 * higher than any custom plan's, so the plan cache, comparing, goes on
 * with custom plans, each judged with its own values.  In
 * force_generic_plan mode the generic plan is used and refused at every
 * start, as before.
 *
 * IDENTIFICATION
 *	  src/enforce_generic.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "lib/stringinfo.h"
#include "nodes/nodeFuncs.h"
#include "utils/elog.h"
#include "utils/memutils.h"

#include "enforce.h"

/* The cost given to such a generic plan: above any custom plan's */
#define REJECTED_GENERIC_COST	1.0e15

/* The longest field kept of the error (the payload has a limit) */
#define MAX_FIELD				4000

static bool
extern_param_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Param))
		return ((Param *) node)->paramkind == PARAM_EXTERN;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, extern_param_walker, context, 0);
	return expression_tree_walker(node, extern_param_walker, context);
}

static void
append_field(StringInfo buf, const char *s)
{
	if (s != NULL)
		appendBinaryStringInfo(buf, s, Min((int) strlen(s), MAX_FIELD));
	appendStringInfoChar(buf, '\0');
}

/*
 * The error the verdicts raise, as PostgreSQL would report it, or NULL:
 * caught from report_verdicts, which raises it before it acquires
 * anything that an error would have to release.
 */
static ErrorData *
verdict_error(List *judged)
{
	MemoryContext cxt = CurrentMemoryContext;
	ErrorData  *volatile edata = NULL;

	PG_TRY();
	{
		report_verdicts(judged, ERROR);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		FlushErrorState();
	}
	PG_END_TRY();
	return edata;
}

/*
 * gtm_planner, a plan judged in error mode: when it is rejected, was
 * planned without bound parameter values (boundParams NULL) and has
 * parameters, keep its verdict in it to be raised when it starts, and
 * return true; else false (the caller reports the verdicts as usual).
 */
bool
defer_generic_rejection(PlannedStmt *stmt, Query *parse,
						ParamListInfo boundParams, List *judged)
{
	ErrorData  *edata;
	StringInfoData buf;
	List	   *kept = NIL;
	ListCell   *lc;
	bool		rejected = false;

	if (boundParams != NULL || stmt->planTree == NULL)
		return false;
	foreach(lc, judged)
		if (((TenantRef *) lfirst(lc))->reason != PR_PINNED)
			rejected = true;
	if (!rejected || !query_tree_walker(parse, extern_param_walker, NULL, 0))
		return false;

	edata = verdict_error(judged);
	if (edata == NULL)
		return false;

	initStringInfo(&buf);
	appendStringInfoChar(&buf, 'R');
	append_field(&buf, unpack_sql_state(edata->sqlerrcode));
	append_field(&buf, edata->message);
	append_field(&buf, edata->detail);
	append_field(&buf, edata->hint);
	append_field(&buf, edata->schema_name);
	append_field(&buf, edata->table_name);
	append_field(&buf, edata->column_name);
	FreeErrorData(edata);

	/* nothing else the plan carries matters: it never runs */
	foreach(lc, stmt->invalItems)
	{
		PlanInvalItem *item = lfirst(lc);

		if (item->cacheId >= 0)
			kept = lappend(kept, item);
	}
	stmt->invalItems = kept;
	write_plan_payload(stmt, GTM_PINS_CACHEID, buf.data, buf.len + 1);
	stmt->planTree->total_cost = Max(stmt->planTree->total_cost,
									 REJECTED_GENERIC_COST);
	return true;
}

/* The next field of an 'R' payload, after *p; moves *p past it */
static const char *
next_field(const char **p, const char *end)
{
	const char *s = *p;

	if (s >= end)
		return NULL;
	*p = s + strlen(s) + 1;
	return *s != '\0' ? s : NULL;
}

/*
 * run_statement_pins: a plan carrying a deferred rejection starts (payload
 * "R" and its fields, len bytes in all): raise it.
 */
void
raise_deferred_rejection(const char *payload, int len, int elevel)
{
	const char *end = payload + len;
	const char *p = payload + 1;
	const char *state = next_field(&p, end);
	const char *message = next_field(&p, end);
	const char *detail = next_field(&p, end);
	const char *hint = next_field(&p, end);
	const char *schema = next_field(&p, end);
	const char *table = next_field(&p, end);
	const char *column = next_field(&p, end);

	ereport(elevel,
			(errcode(state != NULL && strlen(state) == 5 ?
					 MAKE_SQLSTATE(state[0], state[1], state[2], state[3], state[4]) :
					 GTM_ERRCODE_NOT_PINNED),
			 errmsg_internal("%s", message != NULL ? message : "statement is not pinned to one tenant"),
			 detail != NULL ? errdetail_internal("%s", detail) : 0,
			 hint != NULL ? errhint("%s", hint) : 0,
			 schema != NULL ? err_generic_string(PG_DIAG_SCHEMA_NAME, schema) : 0,
			 table != NULL ? err_generic_string(PG_DIAG_TABLE_NAME, table) : 0,
			 column != NULL ? err_generic_string(PG_DIAG_COLUMN_NAME, column) : 0));
}
