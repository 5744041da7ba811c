/*-------------------------------------------------------------------------
 *
 * tenant_session.c
 *	  The session tenant, and the one tenant of a running top-level statement.
 *
 * gtm.tenant holds the tenant of the transaction (is_local, the default)
 * or, where a superuser allows it (gtm.allow_session_tenant), of the
 * session; only superusers may SET it, so an application role sets it
 * through gtm_set_tenant(), SECURITY DEFINER, which checks that the tenant
 * exists.  Transaction scope is the default because connection pools
 * (PgBouncer in transaction mode, an application's pg.Pool) hand a server
 * connection to the next request: a session tenant would go with it.
 * gtm_current_tenant() is a STABLE function the check trusts as a pin
 * value (enforce_pin.c recognises it by its C symbol).
 *
 * One top-level statement, one tenant, including everything it runs:
 * functions called per row, triggers, the statements of a DO block or a
 * procedure, and the FETCHes of an open cursor.  Each statement on tenant
 * tables has its tenant checked when it starts (enforce_runtime.c calls
 * statement_scope_check); the first fixes the tenant of the top-level
 * statement, any other is rejected.  The top-level statement lasts while an
 * executor or a utility statement of it is alive: executors are counted
 * here (statement_scope_executor_started, from ExecutorStart_hook) and
 * counted off when their memory (es_query_cxt) goes away, at ExecutorEnd or
 * when an aborted (sub)transaction or a dropped portal releases it; utility
 * statements are counted by gtm_ProcessUtility.  No ExecutorEnd hook or
 * transaction callback is needed.
 *
 * gtm_set_tenant() refuses while the running statement has reached a
 * tenant, or while an executor of a plan touching a tenant table runs (an
 * open cursor included), so gtm_current_tenant() cannot change under it.
 * gtm_pin() checks a value against the statement's tenant every time it is
 * evaluated (see enforce_freeze.c).
 *
 * IDENTIFICATION
 *	  src/tenant_session.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/params.h"
#include "parser/parse_node.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* ----------------------------------------------------------------
 *		The running top-level statement and its tenant
 * ----------------------------------------------------------------
 */

/*
 * Executors alive in this backend (all plans, while enforcement is not
 * off), and among them those of plans touching a tenant table
 * (dependsOnRole).  Incremented by statement_scope_executor_started(),
 * decremented by the reset callback of the executor's memory, which runs on
 * every path out of the executor: ExecutorEnd, error, (sub)transaction
 * abort, portal drop.
 */
static int	live_executors GTM_HOT_DATA = 0;
static int	tenant_executors GTM_HOT_DATA = 0;

/*
 * Executors of plans touching a tenant table being started, where Citus
 * is loaded: ExecutorStart runs code of the statement before it is counted
 * above (Citus evaluates the functions of a distributed INSERT's VALUES
 * and an UPDATE's SET in its scan's begin, round EM).  Set by
 * gtm_ExecutorStart around the standard start, put back on every path out.
 */
int			tenant_executors_starting GTM_HOT_DATA = 0;

/* the live ones of them that were started while the planner ran a function */
int			planner_executors GTM_HOT_DATA = 0;

/*
 * Utility statements running (ProcessUtility nesting: DO, CALL, EXPLAIN
 * ANALYZE, CREATE TABLE AS ...).  Incremented and decremented by
 * gtm_ProcessUtility around the standard call, also on error.
 */
static int	utility_depth GTM_HOT_DATA = 0;

/*
 * The tenant the running top-level statement has reached, with the label
 * of the first table pinned to it; NULL when it has reached none.  Set by
 * statement_scope_check() (from a statement's pins when it starts, and by
 * gtm_pin()); cleared when the last executor and utility statement of the
 * top-level statement is gone (an open cursor keeps it), including on
 * error.  Kept in static buffers (every statement sets them), or in
 * TopMemoryContext when longer.
 */
#define SCOPE_BUF_SIZE 256
static char *scope_tenant GTM_HOT_DATA = NULL;
static char *scope_label GTM_HOT_DATA = NULL;
static char scope_tenant_buf[SCOPE_BUF_SIZE] GTM_HOT_BUF;
static char scope_label_buf[SCOPE_BUF_SIZE] GTM_HOT_BUF;

/* Keep s, of len bytes, in buf when it fits, else in TopMemoryContext. */
static char *
scope_copy_n(const char *s, size_t len, char *buf)
{
	char	   *copy = len < SCOPE_BUF_SIZE ? buf :
		MemoryContextAlloc(TopMemoryContext, len + 1);

	memcpy(copy, s, len);
	copy[len] = '\0';
	return copy;
}

static inline char *
scope_copy(const char *s, char *buf)
{
	return scope_copy_n(s, strlen(s), buf);
}

/* Forget a copy made by scope_copy. */
static void
scope_free(char *s, char *buf)
{
	if (s != NULL && s != buf)
		pfree(s);
}

/*
 * The top-level statement is a generation: it begins with the first
 * executor or utility statement of a client message (statement_timestamp)
 * when nothing of the previous one is alive, and lasts while an executor
 * that started in it (an open cursor among them) or a utility statement
 * runs, or while the same client message is being processed (what the
 * planner, the rules of a statement, Bind or COMMIT run between its
 * executors).  scope_live counts the generation's live executors.
 */
static uint64 scope_gen GTM_HOT_DATA = 1;
static int	scope_live GTM_HOT_DATA = 0;
static TimestampTz scope_started GTM_HOT_DATA = 0;

/*
 * Was the running statement's tenant reached outside any portal and any
 * frame of ours: by code run while a client message is analysed (a
 * domain's CHECK on a literal of a temporary domain), or while Bind
 * converts parameters, or while a commit fires deferred triggers?
 */
bool		scope_set_unframed GTM_HOT_DATA = false;

/*
 * The tenant that the parse analysis of a client statement reached (a
 * domain's CHECK that reads a tenant table, run on a literal), for the
 * rest of the transaction (statement_scope_note_parse).
 */
static char *parse_tenant GTM_HOT_DATA = NULL;
static char *parse_label GTM_HOT_DATA = NULL;
static char parse_tenant_buf[SCOPE_BUF_SIZE];
static char parse_label_buf[SCOPE_BUF_SIZE];

/* Per counted executor: its generation, and whether it touches tenants */
typedef struct ScopeExecutor
{
	MemoryContextCallback cb;
	uint64		gen;
	bool		tenant;
	QueryDesc  *queryDesc;		/* whose executor it is */
	Oid			started_by;		/* the role that started it */
	bool		session_level;	/* outside any SECURITY DEFINER function, or
								 * inside a function of the caller's in
								 * pg_temp */
	bool		in_planner;		/* a tenant executor started while the
								 * planner ran a function (see
								 * refuse_run_after_planning) */
	struct ScopeExecutor *next; /* the live ones (live_list) */
} ScopeExecutor;

/* The counted executors alive, most recent first */
static ScopeExecutor *live_list GTM_HOT_DATA = NULL;

/*
 * Records of ended executors, kept for the next ones (in TopMemoryContext):
 * one is taken at every executor start, which an allocation in the
 * executor's memory would cost more.  At most SCOPE_FREE_MAX are kept.
 */
#define SCOPE_FREE_MAX 32
static ScopeExecutor *free_list GTM_HOT_DATA = NULL;
static int	free_count GTM_HOT_DATA = 0;

static inline ScopeExecutor *
scope_executor_new(void)
{
	ScopeExecutor *se = free_list;

	if (likely(se != NULL))
	{
		free_list = se->next;
		free_count--;
		return se;
	}
	return MemoryContextAlloc(TopMemoryContext, sizeof(ScopeExecutor));
}

static uint64 xact_seq = 1;		/* transactions ended, counted by scope_xact_end */
static uint64 scope_xact = 0;	/* the transaction of the running statement */

/*
 * Is the current top-level statement still the one scope_gen stands for?
 * If not, forget its tenant and begin a new generation.
 */
static bool
scope_alive(void)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (scope_live > 0 || utility_depth > 0 || now == scope_started)
	{
		/*
		 * A top-level statement that reaches into this client message (an
		 * open cursor of an earlier one) lasts to the message's end, as one
		 * that began in it: closing the cursor half-way (CLOSE, COMMIT,
		 * ROLLBACK TO, or a function the planner calls) must not begin a
		 * new top-level statement for the rest of the message.
		 */
		scope_started = now;
		return true;
	}
	scope_reach_end(scope_tenant != NULL && scope_xact == xact_seq ? scope_tenant : NULL);
	scope_xact = xact_seq;
	scope_free(scope_tenant, scope_tenant_buf);
	scope_free(scope_label, scope_label_buf);
	scope_tenant = NULL;
	scope_label = NULL;
	scope_gen++;
	scope_live = 0;
	scope_started = now;
	scope_set_unframed = false;
	return false;
}

/* The memory of a counted executor is going away: count it off. */
static void
executor_done(void *arg)
{
	ScopeExecutor *se = (ScopeExecutor *) arg;

	for (ScopeExecutor **p = &live_list; *p != NULL; p = &(*p)->next)
		if (*p == se)
		{
			*p = se->next;
			break;
		}
	if (se->tenant && tenant_executors > 0)
		tenant_executors--;
	if (se->in_planner && planner_executors > 0)
		planner_executors--;
	if (live_executors > 0)
		live_executors--;
	if (se->gen == scope_gen && scope_live > 0)
		scope_live--;
	if (free_count < SCOPE_FREE_MAX)
	{
		se->next = free_list;
		free_list = se;
		free_count++;
	}
	else
		pfree(se);
}

/*
 * ExecutorStart_hook, first thing, in a parallel worker: a statement on
 * tenant-scoped tables is refused there, before it starts.  The tenant of
 * the running top-level statement is the leader's, which the worker does
 * not share, so such a statement, which user code runs there (a function
 * marked PARALLEL SAFE: called per row, or while the worker's part of the
 * plan starts, as partition pruning at start-up calls the caller's STABLE
 * functions, round BM), cannot be checked: fail closed.  The worker's part
 * of the leader's plan is told by its PlannedStmt, which the leader built
 * for the workers (ExecSerializePlan) with dependsOnRole false; the planner
 * hook marks every plan that reaches a tenant table dependsOnRole (and so
 * every statement planned in the worker).  Not by the order of starts: a
 * statement started, and ended, before that part has finished starting is
 * as much the caller's.
 */
void
refuse_parallel_worker_statement(QueryDesc *queryDesc)
{
	if (queryDesc->plannedstmt->dependsOnRole &&
		gtm_enforcement != GTM_ENFORCE_OFF && !role_is_exempt())
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("a statement on tenant-scoped tables cannot run inside a parallel worker"),
				 errdetail("The tenant of the running statement is checked in the leader process."),
				 err_tenant_scope(InvalidOid),
				 errhint("Mark the function that runs it PARALLEL RESTRICTED.")));
}

/*
 * ProcessUtility_hook's part, before a utility statement runs in a portal
 * bound by an earlier message (a CALL's Execute): the statement begins,
 * and reaches what its Bind reached before the procedure runs (round GA:
 * one that commits first forgot it).
 */
void
statement_scope_utility_start(void)
{
	if (likely(ActivePortal == NULL) ||
		ActivePortal->creation_time == GetCurrentStatementStartTimestamp() ||
		gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	(void) scope_alive();
	if (message_reach_pending)
		statement_scope_portal_start();
}

/*
 * ExecutorStart_hook's part, once the executor has started: count it, in
 * the running top-level statement, for as long as its memory lives.  Not
 * in parallel workers (the leader's executor stands for them).
 */
void
statement_scope_executor_started(QueryDesc *queryDesc)
{
	MemoryContext cxt;
	ScopeExecutor *se;

	if (gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	if (IsParallelWorker())
		return;					/* refused before it started, if it must be */
	(void) scope_alive();
	/* in a portal bound by an earlier message (tenant_portal_bind.c) */
	if (unlikely(message_reach_pending))
		statement_scope_portal_start();
	cxt = queryDesc->estate->es_query_cxt;
	/* counted off by a callback of the executor's memory (executor_done) */
	se = scope_executor_new();
	se->cb.func = executor_done;
	se->cb.arg = se;
	se->gen = scope_gen;
	se->tenant = queryDesc->plannedstmt->dependsOnRole;
	se->queryDesc = queryDesc;
	se->started_by = GetUserId();
	se->session_level = !InLocalUserIdChange() || callers_code_depth > 0;
	se->in_planner = se->tenant && unlikely(planner_runs_function()) &&
		!role_is_exempt();
	if (se->in_planner)
		planner_executors++;
	se->next = live_list;
	live_list = se;
	MemoryContextRegisterResetCallback(cxt, &se->cb);
	live_executors++;
	scope_live++;
	if (se->tenant)
		tenant_executors++;
}

/*
 * ExecutorRun of a tenant executor started while the planner ran a function
 * (a cursor that an IMMUTABLE function it folded, or a STABLE one it called
 * to estimate, opened and left open), now outside planning: refused.  Its
 * pins were compared when it started, where gtm_current_tenant() answers
 * NULL (a scan that matches no row, no tenant for the statement); its rows
 * are read now, where the same pin is the session tenant, which no check
 * compared with the tenant of the running statement (round CF: one
 * statement read T2, then T1 through such a cursor).  A pin is one value
 * for the whole statement, or the statement does not run.
 */
void
refuse_run_after_planning(QueryDesc *queryDesc)
{
	if (planner_executors == 0 || planner_runs_function())
		return;
	for (ScopeExecutor *se = live_list; se != NULL; se = se->next)
	{
		if (se->queryDesc != queryDesc)
			continue;
		if (se->in_planner)
			ereport(ENFORCE_ELEVEL(),
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("a cursor opened while the planner ran a function cannot be read after planning"),
					 errdetail("Its tenant was compared when it started, where gtm_current_tenant() has no value; its rows would be read with the session's tenant, unchecked."),
					 errhint("Open cursors on tenant-scoped tables outside IMMUTABLE and STABLE functions.")));
		return;
	}
}

/*
 * ExecutorRun as an exempt role: was this executor started by a role the
 * check applies to?  Then its plan is that role's code (a cursor it
 * declared, fetched by a SECURITY DEFINER function of an exempt role):
 * its functions, even built-ins that run SQL text (query_to_xml), would
 * run with the exempt role's rights.  Refused.
 */
void
refuse_exempt_run_of_callers_executor(QueryDesc *queryDesc)
{
	for (ScopeExecutor *se = live_list; se != NULL; se = se->next)
	{
		if (se->queryDesc != queryDesc)
			continue;
		/*
		 * Started at the session's level (a cursor the session's role, or
		 * a role it SET ROLE to, declared) or inside a function of the
		 * caller's in pg_temp (its own SECURITY DEFINER opener); not by a
		 * function of the schema's that opened it as its own owner.
		 */
		if (se->started_by != GetUserId() && se->session_level &&
			!role_oid_is_exempt(se->started_by))
			ereport(ENFORCE_ELEVEL(),
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("an exempt role cannot run a statement of a role the tenant check applies to"),
					 errdetail("Role \"%s\" started it (a cursor it declared); its expressions would run with the rights of role \"%s\".",
							   GetUserNameFromId(se->started_by, true),
							   GetUserNameFromId(GetUserId(), true)),
					 errhint("Let no SECURITY DEFINER function of an exempt role fetch a cursor its caller opened.")));
		return;
	}
}

/* gtm_ProcessUtility: a utility statement starts and ends (also on error). */
void
statement_scope_utility_enter(void)
{
	if (utility_depth == 0)
		(void) scope_alive();
	utility_depth++;
}

void
statement_scope_utility_exit(void)
{
	if (utility_depth > 0)
		utility_depth--;
}

/*
 * Is a top-level statement open besides the one starting now: one that
 * reached a tenant, or an open cursor or portal (gtm_ProcessUtility, for a
 * CALL that Citus may run on a worker)?
 */
bool
statement_scope_busy(void)
{
	return scope_alive() && (scope_live > 0 || scope_tenant != NULL);
}

/* Has the running top-level statement reached a tenant? */
bool
scope_has_tenant(void)
{
	return scope_alive() && scope_tenant != NULL;
}

/* The tenant the running top-level statement has reached, or NULL */
const char *
statement_scope_tenant(void)
{
	return scope_has_tenant() ? scope_tenant : NULL;
}

/* The label of the running top-level statement's first tenant table */
const char *
statement_scope_label(void)
{
	return scope_has_tenant() ? scope_label : NULL;
}

/*
 * The tenant the top-level statement reached, without asking whether a
 * new one begins (which would keep it alive into the current client
 * message): for the executor of a cursor a folded function fetches from.
 */
const char *
statement_scope_tenant_as_is(void)
{
	return scope_tenant;
}

/*
 * A statement of the running top-level statement is pinned to tenant
 * (label: its first table): the first fixes the top-level statement's
 * tenant, any other tenant is rejected.
 */
/*
 * The tenant the statements of the running transaction reached, when they
 * all reached one (xact_tenant, xact_many false): the deferred triggers
 * that COMMIT, PREPARE TRANSACTION or SET CONSTRAINTS fire belong to its
 * statements (statement_scope_deferred_enter; on a Citus worker, the
 * commands Citus sends to end a transaction, mark_distributed_command).  Set by
 * statement_scope_check, forgotten when the transaction ends.
 */
static char *xact_tenant GTM_HOT_DATA = NULL;
static bool xact_many GTM_HOT_DATA = false;

static char xact_tenant_buf[SCOPE_BUF_SIZE] GTM_HOT_BUF;
static bool xact_callback_registered GTM_HOT_DATA = false;

static void
scope_xact_end(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE || event == XACT_EVENT_PARALLEL_COMMIT ||
		event == XACT_EVENT_PARALLEL_ABORT)
	{
		scope_free(xact_tenant, xact_tenant_buf);
		xact_tenant = NULL;
		xact_many = false;
		scope_free(parse_tenant, parse_tenant_buf);
		scope_free(parse_label, parse_label_buf);
		parse_tenant = NULL;
		parse_label = NULL;
		message_reach_forget();
		xact_seq++;
		deferred_xact_end();
	}
}

/* Note that a statement of the running transaction reached tenant */
static void
xact_reached(const char *tenant, size_t tlen)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(scope_xact_end, NULL);
		xact_callback_registered = true;
	}
	if (xact_tenant == NULL && !xact_many)
		xact_tenant = scope_copy_n(tenant, tlen, xact_tenant_buf);
	else if (xact_tenant != NULL && strcmp(xact_tenant, tenant) != 0)
	{
		scope_free(xact_tenant, xact_tenant_buf);
		xact_tenant = NULL;
		xact_many = true;
	}
}

/* Have the running transaction's statements reached several tenants? */
bool
transaction_many_tenants(void)
{
	return xact_many;
}

/* The end of the running transaction calls scope_xact_end (once set up). */
void
transaction_callback_ensure(void)
{
	if (!xact_callback_registered)
	{
		RegisterXactCallback(scope_xact_end, NULL);
		xact_callback_registered = true;
	}
}

/* The one tenant the running transaction's statements reached, or NULL */
const char *
transaction_tenant(void)
{
	return xact_many ? NULL : xact_tenant;
}

/*
 * A part of a distributed statement, whose tenant this node does not know
 * (enforce_citus_fold.c), starts: as statement_scope_check with a tenant
 * no statement can have, not noted as the transaction's.
 */
void
statement_scope_mark_unknown(int elevel)
{
	static const char *const unknown = "(a part of a distributed statement)";

	if (!scope_has_tenant())
	{
		scope_tenant = scope_copy(unknown, scope_tenant_buf);
		scope_label = scope_copy("0:a part of a distributed statement", scope_label_buf);
		return;					/* (not noted for a later message) */
	}
	if (strcmp(scope_tenant, unknown) != 0)
		report_scope_two_tenants(scope_label, scope_tenant,
								 "0:a part of a distributed statement", unknown,
								 elevel);
}

void
statement_scope_check_n(const char *tenant, size_t tlen, const char *label,
						size_t llen, int elevel)
{
	bool		has_tenant;

	/*
	 * While a function the planner runs (to fold or to estimate) reaches a
	 * tenant: the plan carries it too (planning_reached).
	 */
	if (unlikely(planning_depth > 0))
		planning_reached(tenant);
	deferred_check_reach(tenant, label, elevel);
	has_tenant = scope_has_tenant();	/* (a new statement begins first) */
	/* the tenant the analysis of a statement of this transaction reached */
	if (unlikely(parse_tenant != NULL) && strcmp(parse_tenant, tenant) != 0)
		report_scope_two_tenants(parse_label, parse_tenant, label, tenant,
								 elevel);
	if (!has_tenant)
	{
		scope_tenant = scope_copy_n(tenant, tlen, scope_tenant_buf);
		scope_label = label ? scope_copy_n(label, llen, scope_label_buf) : NULL;
		scope_reach_message();
		scope_set_unframed = ActivePortal == NULL && executor_nesting == 0 &&
			utility_nesting == 0 && planning_depth == 0;
		xact_reached(tenant, tlen);
		return;
	}
	if (strcmp(scope_tenant, tenant) != 0)
		report_scope_two_tenants(scope_label, scope_tenant, label, tenant,
								 elevel);
	else if (scope_label == NULL && label != NULL)
		scope_label = scope_copy_n(label, llen, scope_label_buf);
	scope_reach_message();
}

/* statement_scope_check_n of C strings */
void
statement_scope_check(const char *tenant, const char *label, int elevel)
{
	statement_scope_check_n(tenant, strlen(tenant), label,
							label ? strlen(label) : 0, elevel);
}

/*
 * post_parse_analyze_hook (tenant_temp.c), after the analysis of a client
 * statement (no portal, no frame of ours): did code run by the analysis
 * reach a tenant (a domain's CHECK on a literal of a temporary domain that
 * reads a tenant table)?  In the extended protocol the statement then runs
 * in later messages, Bind and Execute, each a top-level statement of its
 * own for scope_alive: the statement would reach that tenant at Parse and
 * another at Execute (round CQ: one UPDATE changed T2's row at Parse and
 * T1's at Execute; the same text sent as a simple Query was refused).  So
 * that tenant stays the transaction's: any statement of it reaching
 * another is refused.  (SQL PREPARE is analysed in a utility frame: a
 * statement of its own, as EXECUTE is.)
 */
void
statement_scope_note_parse(struct ParseState *pstate)
{
	if (!scope_set_unframed || !scope_has_tenant() ||
		pstate->parentParseState != NULL || ActivePortal != NULL ||
		executor_nesting != 0 || utility_nesting != 0 || planning_depth != 0 ||
		GetCurrentStatementStartTimestamp() != scope_started ||
		gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	if (parse_tenant == NULL)
	{
		transaction_callback_ensure();
		parse_tenant = scope_copy(scope_tenant, parse_tenant_buf);
		parse_label = scope_copy(scope_label ? scope_label : "0:the analysis of a statement",
								 parse_label_buf);
	}
	else if (strcmp(parse_tenant, scope_tenant) != 0)
		report_scope_two_tenants(parse_label, parse_tenant, scope_label,
								 scope_tenant, ENFORCE_ELEVEL());
}

/*
 * RESET ALL puts gtm.tenant back to its reset value, which only a
 * superuser sets (ALTER ROLE ... SET gtm.tenant), with no check of the
 * statements running: a cursor pinned by gtm_current_tenant() would read
 * the next rows of that tenant (round CK).  Refused while a statement on
 * tenant tables runs (an open cursor included), as gtm_set_tenant() is.
 * (DISCARD ALL closes every cursor first, and runs outside transaction
 * blocks only.)
 */
void
refuse_reset_all_under_statement(void)
{
	if ((tenant_executors == 0 && tenant_executors_starting == 0) ||
		gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("cannot reset the session tenant while a statement on tenant-scoped tables is running"),
			 errdetail("RESET ALL resets gtm.tenant; a running statement or an open cursor may be pinned by gtm_current_tenant()."),
			 errhint("Close open cursors first, or RESET the settings you changed by name.")));
}

/*
 * May the session tenant change to tenant now?  Not while a statement on
 * tenant tables runs (it may be pinned by gtm_current_tenant()), nor once
 * the running top-level statement has reached another tenant; the tenant
 * it reached itself may be set (a sign-in and the tenant it returns, in one
 * statement).  (gtm_set_tenant, tenant_set.c)
 */
bool
statement_scope_allows_switch(const char *tenant)
{
	return tenant_executors == 0 && tenant_executors_starting == 0 &&
		!(scope_has_tenant() && strcmp(scope_tenant, tenant) != 0);
}
