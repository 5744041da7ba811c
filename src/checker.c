/*-------------------------------------------------------------------------
 *
 * checker.c
 *	  gtm_check_statement(): the verdicts of enforcement without executing.
 *
 * The checker parses, analyses and rewrites the statements of a text, then
 * plans each one through the planner hook with next_plan.collect set: the
 * planner call records and judges as enforcement does, whatever the mode
 * and the role, raises nothing, and leaves the judged references in
 * next_plan.collected, which become one row each.  COPY, TRUNCATE (with
 * what CASCADE reaches) and LOCK TABLE get their row from judge_utility();
 * EXPLAIN, CREATE TABLE AS, DECLARE CURSOR, COPY (query) and PREPARE are
 * looked inside, and EXECUTE checks the prepared statement's query (one
 * PREPAREd earlier in the text, else the session's; a DEALLOCATE of the
 * text is followed).  The reasons' texts
 * are enforce_report.c's.
 *
 * Nothing is executed, but parse analysis and planning run some code:
 * type input functions of literals, IMMUTABLE functions with constant
 * arguments (folded into constants) and STABLE ones when estimating
 * selectivity.  The statements such a function runs are checked and
 * enforced as usual (they are not the checked text).
 *
 * IDENTIFICATION
 *	  src/checker.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/prepare.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "parser/parse_type.h"
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

	/* a problem of the whole statement names no table (VACUUM, two-phase) */
	values[0] = ObjectIdGetDatum(relid);
	nulls[0] = !OidIsValid(relid);
	values[1] = alias != NULL ? CStringGetTextDatum(alias) : (Datum) 0;
	nulls[1] = alias == NULL;
	values[2] = BoolGetDatum(pinned);
	values[3] = CStringGetTextDatum(reason);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}


/* What the checker keeps while it goes through the statements of a text */
typedef struct Checker
{
	ReturnSetInfo *rsinfo;
	const char *sql;
	List	   *prepared;		/* CheckedPrepare *, PREPAREd in the text */
	bool		deallocated_all;	/* a DEALLOCATE ALL in the text */
	Oid			last_tenant_table;	/* of the last row naming a tenant table */
	bool		planning_reached;	/* a function the planner ran reached a
									 * tenant (check_planning_tenant) */
} Checker;

/*
 * A PREPARE of the text: nothing is prepared, EXECUTE finds it here.  A
 * DEALLOCATE of the text adds an entry without a statement.
 */
typedef struct CheckedPrepare
{
	char	   *name;
	RawStmt    *raw;			/* NULL: deallocated */
	Oid		   *types;
	int			ntypes;
} CheckedPrepare;

static void check_query(Checker *ck, Query *query);

/*
 * Add the rows of one analysed and rewritten statement that is not a
 * utility statement: plan it with the planner hook collecting (the flag is
 * cleared on every path out), then one row per judged reference.
 */
/*
 * A function the planner ran while it planned the statement (an IMMUTABLE
 * one it folded, a STABLE one it called to estimate) reached a tenant: the
 * plan carries that tenant (plan_carries_tenant), and the statement's start
 * compares it with its pins as with the tenant of any other statement it
 * runs (run_statement_pins).  A constant pin of another tenant is a
 * rejection, "statement touches more than one tenant"; other pins are
 * compared when the statement starts (round FL F1: the checker said
 * "pinned" of a statement that enforcement rejected).
 */
static void
check_planning_tenant(Checker *ck, PlannedStmt *plan, List *refs)
{
	StringInfoData buf;
	char	   *reached;
	ListCell   *lc;

	buf.data = NULL;
	reached = read_plan_payload(plan->invalItems, GTM_PLANNED_CACHEID, &buf);
	if (reached == NULL)
		return;
	ck->planning_reached = true;
	foreach(lc, refs)
	{
		TenantRef  *ref = lfirst(lc);
		Const	   *c;

		if (ref->reason != PR_PINNED || ref->key_label != NULL ||
			ref->values == NIL || !IsA(linitial(ref->values), Const))
			continue;
		c = linitial_node(Const, ref->values);
		if (c->constisnull ||
			strcmp(tenant_value_text(c->constvalue, c->consttype), reached) == 0)
			continue;
		checker_row(ck->rsinfo, ref->relid, ref->alias, false,
					psprintf("two tenants: %s (reached by a function the planner ran) and %s",
							 quote_literal_cstr(reached), value_text((Node *) c)));
		return;
	}
	checker_row(ck->rsinfo, InvalidOid, NULL, true,
				psprintf("must be one tenant when the statement starts: %s (reached by a function the planner ran)",
						 quote_literal_cstr(reached)));
}

static void
check_planned(Checker *ck, Query *query)
{
	ListCell   *lc;
	PlannedStmt *volatile plan = NULL;
	List	   *refs;

	next_plan.collected = NIL;
	next_plan.collect = true;
	PG_TRY();
	{
		plan = pg_plan_query(query, ck->sql, CURSOR_OPT_PARALLEL_OK, NULL);
	}
	PG_FINALLY();
	{
		next_plan.collect = false;
	}
	PG_END_TRY();

	refs = next_plan.collected;
	next_plan.collected = NIL;
	foreach(lc, refs)
	{
		TenantRef  *ref = lfirst(lc);

		checker_row(ck->rsinfo, ref->relid, ref->alias,
					ref->reason == PR_PINNED || ref->reason == PR_AT_START,
					reason_text(ref));
		if (OidIsValid(ref->relid))
			ck->last_tenant_table = ref->relid;
	}
	if (plan != NULL)
		check_planning_tenant(ck, plan, refs);

	/*
	 * A tenant table planning looked at, also one whose scan it removed
	 * (WHERE false): a measuring EXPLAIN of it is refused all the same
	 * (round FK F2)
	 */
	if (plan != NULL && !OidIsValid(ck->last_tenant_table))
		ck->last_tenant_table = plan_names_tenant_table(plan);
}

/*
 * Analyse and rewrite a raw statement of source (a copy: analysis may
 * scribble on it) with parameters of the types given, or of types inferred
 * from their use when varparams, and check each query.
 */
static void
check_raw(Checker *ck, RawStmt *raw, const char *source, Oid **types,
		  int *ntypes, bool varparams)
{
	RawStmt    *copy = copyObject(raw);
	List	   *queries;
	ListCell   *lc;

	if (varparams)
		queries = pg_analyze_and_rewrite_varparams(copy, source, types, ntypes,
												   NULL);
	else
		queries = pg_analyze_and_rewrite_fixedparams(copy, source, *types,
													 *ntypes, NULL);
	foreach(lc, queries)
		check_query(ck, lfirst_node(Query, lc));
}

/* A raw statement inside a utility statement (COPY, PREPARE). */
static RawStmt *
make_raw(Node *stmt)
{
	RawStmt    *raw = makeNode(RawStmt);

	raw->stmt = stmt;
	raw->stmt_location = -1;
	return raw;
}

/*
 * PREPARE: check the statement with the declared parameter types (others
 * inferred, as PrepareQuery does) and remember it for an EXECUTE of the
 * text.
 */
static void
check_prepare(Checker *ck, PrepareStmt *ps)
{
	CheckedPrepare *cp = palloc0(sizeof(CheckedPrepare));
	ListCell   *lc;
	int			i = 0;

	cp->name = ps->name;
	cp->raw = make_raw(ps->query);
	cp->ntypes = list_length(ps->argtypes);
	cp->types = palloc0(sizeof(Oid) * Max(cp->ntypes, 1));
	foreach(lc, ps->argtypes)
		cp->types[i++] = typenameTypeId(NULL, lfirst_node(TypeName, lc));
	check_raw(ck, cp->raw, ck->sql, &cp->types, &cp->ntypes, true);
	ck->prepared = lappend(ck->prepared, cp);
}

/*
 * EXECUTE: check the prepared statement's query, with its parameters (the
 * arguments are not evaluated), as a generic plan would be judged.  The
 * statement is one PREPAREd earlier in the text, else one of the session.
 */
static void
check_execute(Checker *ck, ExecuteStmt *es)
{
	ListCell   *lc;
	CheckedPrepare *found = NULL;
	PreparedStatement *session;
	Oid		   *types;
	int			ntypes;

	foreach(lc, ck->prepared)
	{
		CheckedPrepare *cp = lfirst(lc);

		if (strcmp(cp->name, es->name) == 0)
			found = cp;
	}
	if (found != NULL ? found->raw == NULL : ck->deallocated_all)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_PSTATEMENT),
				 errmsg("prepared statement \"%s\" does not exist", es->name)));
	if (found != NULL)
	{
		types = found->types;
		ntypes = found->ntypes;
		check_raw(ck, found->raw, ck->sql, &types, &ntypes, false);
		return;
	}
	session = FetchPreparedStatement(es->name, true);
	if (session->plansource->raw_parse_tree == NULL)
		return;					/* nothing to plan (an empty statement) */
	types = session->plansource->param_types;
	ntypes = session->plansource->num_params;
	check_raw(ck, session->plansource->raw_parse_tree,
			  session->plansource->query_string, &types, &ntypes, false);
}

/*
 * A utility statement: look inside EXPLAIN, CREATE TABLE AS and DECLARE
 * CURSOR (whose query may be an EXECUTE), COPY (query), PREPARE and
 * EXECUTE; judge COPY, TRUNCATE and LOCK TABLE as gtm_ProcessUtility does.
 */
static void
check_utility_query(Checker *ck, Node *u)
{
	Node	   *inner = NULL;
	UtilityVerdict v;

	if (IsA(u, ExplainStmt))
		inner = ((ExplainStmt *) u)->query;
	else if (IsA(u, CreateTableAsStmt))
		inner = ((CreateTableAsStmt *) u)->query;
	else if (IsA(u, DeclareCursorStmt))
	{
		inner = ((DeclareCursorStmt *) u)->query;
		/* refused whatever its query (refuse_held_cursor) */
		if (((DeclareCursorStmt *) u)->options & CURSOR_OPT_HOLD)
			checker_row(ck->rsinfo, InvalidOid, ((DeclareCursorStmt *) u)->portalname,
						false, "WITH HOLD cursors are not allowed for this role");
	}
	if (inner != NULL && IsA(inner, Query))
	{
		List	   *rw = QueryRewrite(copyObject((Query *) inner));
		ListCell   *lc;
		Oid			before = ck->last_tenant_table;
		bool		before_reached = ck->planning_reached;

		ck->last_tenant_table = InvalidOid;
		ck->planning_reached = false;
		foreach(lc, rw)
			check_query(ck, lfirst_node(Query, lc));

		/*
		 * A measuring EXPLAIN of a statement on tenant tables is refused
		 * (refuse_explain_analyze, refuse_measured_plan), and so is one
		 * whose planning ran a statement on tenant tables (a function it
		 * folded or called to estimate: refuse_measured_run)
		 */
		if (IsA(u, ExplainStmt) && explain_measures((ExplainStmt *) u) &&
			(OidIsValid(ck->last_tenant_table) || ck->planning_reached))
			checker_row(ck->rsinfo, ck->last_tenant_table, NULL, false,
						"EXPLAIN ANALYZE, BUFFERS or MEMORY of a statement on tenant-scoped tables is not allowed for this role");
		if (!OidIsValid(ck->last_tenant_table))
			ck->last_tenant_table = before;
		ck->planning_reached |= before_reached;
		return;
	}
	if (IsA(u, CopyStmt) && ((CopyStmt *) u)->query != NULL)
	{
		Oid		   *types = NULL;
		int			ntypes = 0;

		check_raw(ck, make_raw(((CopyStmt *) u)->query), ck->sql, &types,
				  &ntypes, true);
		return;
	}
	if (IsA(u, PrepareStmt))
		check_prepare(ck, (PrepareStmt *) u);
	else if (IsA(u, DeallocateStmt))
	{
		DeallocateStmt *ds = (DeallocateStmt *) u;
		CheckedPrepare *cp = palloc0(sizeof(CheckedPrepare));

		if (ds->name == NULL)
		{
			ck->deallocated_all = true;
			ck->prepared = NIL;
		}
		else
		{
			cp->name = ds->name;
			ck->prepared = lappend(ck->prepared, cp);
		}
	}
	else if (IsA(u, ExecuteStmt))
		check_execute(ck, (ExecuteStmt *) u);
	else if (judge_utility(u, &v) || v.copy_checked)
	{
		/* no relation: a maintenance command of the whole database */
		checker_row(ck->rsinfo, v.relid,
					OidIsValid(v.relid) ? get_rel_name(v.relid) : NULL,
					v.copy_checked, utility_reason_text(&v));
		if (OidIsValid(v.relid))
			ck->last_tenant_table = v.relid;
	}
}

/*
 * Two-phase commit is refused to roles the rule applies to
 * (refuse_two_phase_commit); other transaction statements have no verdict.
 */
static void
check_transaction(Checker *ck, TransactionStmt *ts)
{
	const char *what = two_phase_command(ts);

	if (what == NULL)
		return;
	checker_row(ck->rsinfo, InvalidOid, NULL, false,
				psprintf("%s is not allowed for this role", what));
}

/* One analysed and rewritten statement. */
static void
check_query(Checker *ck, Query *query)
{
	check_stack_depth();
	if (query->commandType == CMD_UTILITY)
		check_utility_query(ck, query->utilityStmt);
	else
		check_planned(ck, query);
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
	Checker		ck;
	List	   *raw;
	ListCell   *lc;

	gtm_require_arg(fcinfo, 0, "statement", NULL);
	ck.sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	ck.prepared = NIL;
	ck.deallocated_all = false;
	ck.last_tenant_table = InvalidOid;
	ck.planning_reached = false;
	InitMaterializedSRF(fcinfo, 0);
	ck.rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;

	raw = pg_parse_query(ck.sql);
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		Oid		   *ptypes = NULL;
		int			nparams = 0;

		if (IsA(rs->stmt, TransactionStmt))
		{
			check_transaction(&ck, (TransactionStmt *) rs->stmt);
			continue;
		}
		check_raw(&ck, rs, ck.sql, &ptypes, &nparams, true);
	}
	return (Datum) 0;
}
