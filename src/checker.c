/*-------------------------------------------------------------------------
 *
 * checker.c
 *	  gtm_check_statement(): the verdicts of enforcement without executing.
 *
 * The checker parses, analyses and rewrites the statements of a text, then
 * plans each one through the planner hook with next_plan.collect set: the
 * planner call records and judges as enforcement does, whatever the mode
 * and the role, raises nothing, and leaves the judged references in
 * next_plan.collected, which become one row each.  COPY and TRUNCATE get
 * their row from utility_tenant_table(); EXPLAIN, CREATE TABLE AS and
 * DECLARE CURSOR are looked inside.  The reasons' texts are
 * enforce_report.c's.
 *
 * IDENTIFICATION
 *	  src/checker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_check_statement);


/* One row of the result. */
static void
checker_row(ReturnSetInfo *rsinfo, Oid relid, const char *alias, bool pinned,
			const char *reason)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(alias);
	values[2] = BoolGetDatum(pinned);
	values[3] = CStringGetTextDatum(reason);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}


/*
 * Add the rows of one analysed and rewritten statement: plan it with the
 * planner hook collecting (the flag is cleared on every path out), then
 * one row per judged reference.
 */
static void
check_one_query(ReturnSetInfo *rsinfo, Query *query, const char *sql)
{
	ListCell   *lc;

	if (query->commandType == CMD_UTILITY)
	{
		const char *what = NULL;
		Oid			relid;

		if (!IsA(query->utilityStmt, CopyStmt) && !IsA(query->utilityStmt, TruncateStmt))
			return;
		relid = utility_tenant_table(query->utilityStmt, &what);
		if (OidIsValid(relid))
			checker_row(rsinfo, relid, get_rel_name(relid), false,
						psprintf("%s reaches every tenant", what));
		return;
	}

	next_plan.collected = NIL;
	next_plan.collect = true;
	PG_TRY();
	{
		(void) pg_plan_query(query, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	}
	PG_FINALLY();
	{
		next_plan.collect = false;
	}
	PG_END_TRY();

	foreach(lc, next_plan.collected)
	{
		TenantRef  *ref = lfirst(lc);

		checker_row(rsinfo, ref->relid, ref->alias,
					ref->reason == PR_PINNED || ref->reason == PR_AT_START,
					reason_text(ref));
	}
	next_plan.collected = NIL;
}

/*
 * gtm_check_statement(sql text)
 *	 RETURNS TABLE("table" regclass, alias text, pinned boolean, reason text)
 *
 * Plans each statement of sql without executing it, with the verdicts of
 * enforcement whatever the mode and the role.  $n parameters are allowed.
 */
Datum
gtm_check_statement(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql;
	List	   *raw;
	ListCell   *lc;

	gtm_require_arg(fcinfo, 0, "statement", NULL);
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);

	raw = pg_parse_query(sql);
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		Oid		   *ptypes = NULL;
		int			nparams = 0;
		List	   *queries;
		ListCell   *lc2;

		if (IsA(rs->stmt, TransactionStmt))
			continue;
		queries = pg_analyze_and_rewrite_varparams(rs, sql, &ptypes, &nparams, NULL);
		foreach(lc2, queries)
		{
			Query	   *q = lfirst_node(Query, lc2);

			/* look inside EXPLAIN, CREATE TABLE AS, DECLARE CURSOR */
			if (q->commandType == CMD_UTILITY)
			{
				Node	   *u = q->utilityStmt;
				Node	   *inner = NULL;

				if (IsA(u, ExplainStmt))
					inner = ((ExplainStmt *) u)->query;
				else if (IsA(u, CreateTableAsStmt))
					inner = ((CreateTableAsStmt *) u)->query;
				else if (IsA(u, DeclareCursorStmt))
					inner = ((DeclareCursorStmt *) u)->query;
				if (inner && IsA(inner, Query))
				{
					List	   *rw = QueryRewrite(copyObject((Query *) inner));
					ListCell   *lc3;

					foreach(lc3, rw)
						check_one_query(rsinfo, lfirst_node(Query, lc3), sql);
					continue;
				}
			}
			check_one_query(rsinfo, q, sql);
		}
	}
	return (Datum) 0;
}

