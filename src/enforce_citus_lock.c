/*-------------------------------------------------------------------------
 *
 * enforce_citus_lock.c
 *	  Citus' lock_relation_if_exists(): judged as LOCK TABLE; calls of
 *	  master_run_on_worker() refused, and of the functions that crash the
 *	  server or measure a statement's reads.
 *
 * Citus 13 installs pg_catalog.lock_relation_if_exists(table_name text,
 * lock_mode text), executable by PUBLIC: it locks the named table in the
 * named mode, the lock a LOCK TABLE would take (Citus sends it to the
 * workers to propagate LOCK TABLE and for its own DDL).  Called by a client,
 * it would take a lock that LOCK TABLE is refused (ACCESS EXCLUSIVE on
 * "deals" blocks every tenant's statements), without any LOCK statement for
 * judge_utility to see.  So a call of it by a role that is not exempt is
 * judged as the LOCK TABLE it stands for, when the call starts: the modes
 * lock_mode_allowed accepts pass (ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE,
 * which are what Citus sends for the LOCK TABLEs a client may run), any
 * other on a tenant table gets LOCK TABLE's rejection.
 *
 * The call is caught through PostgreSQL's function manager hooks
 * (needs_fmgr_hook, fmgr_hook), which see every call of one function
 * however it is written (a FROM list, a subquery, PL/pgSQL).  Its arguments
 * are read from the call's expression (flinfo->fn_expr): Citus always
 * passes constants; a call whose arguments are not constants, or that comes
 * without an expression, is refused (fail closed).  The functions' OIDs are
 * looked up once and again after pg_proc changes (the fmgr_hook compares
 * with a fresh lookup, so a change between fmgr_info and the call cannot
 * hide the call).  The same hooks catch
 * assign_distributed_transaction_id() for enforce_citus_txn.c, and
 * master_run_on_worker(), which Citus' run_command_on_workers(),
 * run_command_on_shards() and the other run_command_on_*() functions
 * (executable by PUBLIC) call: it runs SQL text on other nodes, each
 * command in a connection of its own as the caller, where the running
 * statement's tenant does not reach; one statement read T1 here and
 * updated T2 there.  Refused to roles that are not exempt.
 *
 * Also refused to roles that are not exempt, in every mode, on every node:
 * functions of Citus 13.2 that PUBLIC may execute and that crash the
 * backend, and every other session with it, on arguments Citus' own calls
 * never pass (round ER: column_to_column_name(t, '{VAR}'),
 * worker_split_copy(shard, 'x', '{}'), worker_save_query_explain_analyze(
 * 'SELECT 1', '{}')), the last also an oracle: it runs a query with
 * EXPLAIN ANALYZE and keeps the plan's counts, whose "Rows Removed by
 * Filter" counts the rows of other tenants that a pinned query's scan
 * passed over (EXPLAIN ANALYZE itself is refused on tenant tables,
 * enforce_runtime.c).  Citus calls them for a superuser or the table owner
 * (shard splits), or for the EXPLAIN ANALYZE of a distributed query.
 *
 * IDENTIFICATION
 *	  src/enforce_citus_lock.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "catalog/namespace.h"
#include "parser/parse_func.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "enforce.h"
#include "gtm_clarity.h"

static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/*
 * The Citus functions the hooks judge, in pg_catalog, each looked up once
 * and again after pg_proc changes.  The OID itself is kept until then: the
 * fmgr_hook of a call whose FmgrInfo was made before the change (a function
 * earlier in the same target list that runs CREATE FUNCTION, or any
 * invalidation arriving between executor start and the call) must still
 * recognise the call and judge it.  An OID during whose lookup such a
 * change arrived (citus_functions_invals) is used, not kept as known.
 */
typedef struct CitusFunction
{
	const char *name;
	int			nargs;
	Oid			argtypes[4];
	Oid			oid;
	bool		known;
} CitusFunction;

enum
{
	CF_LOCK,					/* lock_relation_if_exists(text, text) */
	CF_ASSIGN,					/* assign_distributed_transaction_id(int4, int8, timestamptz) */
	CF_RUN,						/* master_run_on_worker(text[], int4[], text[], bool) */
	CF_EXPLAIN_SAVE,			/* worker_save_query_explain_analyze(text, jsonb) */
	CF_COLUMN_NAME,				/* column_to_column_name(regclass, text) */
	CF_SPLIT_COPY				/* worker_split_copy(int8, text, split_copy_info[]) */
};

static CitusFunction citus_functions[] = {
	[CF_LOCK] = {"lock_relation_if_exists", 2, {TEXTOID, TEXTOID}, InvalidOid, false},
	[CF_ASSIGN] = {"assign_distributed_transaction_id", 3,
	{INT4OID, INT8OID, TIMESTAMPTZOID}, InvalidOid, false},
	[CF_RUN] = {"master_run_on_worker", 4,
	{TEXTARRAYOID, INT4ARRAYOID, TEXTARRAYOID, BOOLOID}, InvalidOid, false},
	[CF_EXPLAIN_SAVE] = {"worker_save_query_explain_analyze", 2, {TEXTOID, JSONBOID},
	InvalidOid, false},
	[CF_COLUMN_NAME] = {"column_to_column_name", 2, {REGCLASSOID, TEXTOID},
	InvalidOid, false},
	/* by its name alone: its third argument is of a type of Citus' own */
	[CF_SPLIT_COPY] = {"worker_split_copy", -1, {InvalidOid}, InvalidOid, false},
};

/* pg_proc changed: look the OIDs up again at their next use */
static uint64 citus_functions_invals = 0;

static void
citus_functions_forget(Datum arg, int cacheid, uint32 hashvalue)
{
	for (int i = 0; i < lengthof(citus_functions); i++)
		citus_functions[i].known = false;
	citus_functions_invals++;
}

static Oid
citus_function_oid(int which)
{
	CitusFunction *f = &citus_functions[which];

	if (!f->known && IsTransactionState())
	{
		uint64		invals = citus_functions_invals;

		f->oid = LookupFuncName(list_make2(makeString("pg_catalog"),
										   makeString(unconstify(char *, f->name))),
								f->nargs, f->nargs < 0 ? NULL : f->argtypes, true);
		f->known = invals == citus_functions_invals;
	}
	return f->oid;
}

static bool
gtm_needs_fmgr_hook(Oid fn_oid)
{
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	if (!distributed_planner_loaded() || !OidIsValid(fn_oid))
		return false;
	for (int i = 0; i < lengthof(citus_functions); i++)
		if (fn_oid == citus_function_oid(i))
			return true;
	return false;
}

/* The lock mode named as Citus names them, or NoLock */
static int
lock_mode_named(const char *name)
{
	static const struct
	{
		const char *name;
		int			mode;
	}			modes[] = {
		{"ACCESS SHARE", AccessShareLock},
		{"ROW SHARE", RowShareLock},
		{"ROW EXCLUSIVE", RowExclusiveLock},
		{"SHARE UPDATE EXCLUSIVE", ShareUpdateExclusiveLock},
		{"SHARE", ShareLock},
		{"SHARE ROW EXCLUSIVE", ShareRowExclusiveLock},
		{"EXCLUSIVE", ExclusiveLock},
		{"ACCESS EXCLUSIVE", AccessExclusiveLock},
	};

	for (int i = 0; i < lengthof(modes); i++)
		if (pg_strcasecmp(name, modes[i].name) == 0)
			return modes[i].mode;
	return NoLock;
}

/* A constant text argument, or NULL */
static text *
const_arg(List *args, int n)
{
	Node	   *arg = list_length(args) > n ? strip_relabel(list_nth(args, n)) : NULL;

	if (arg == NULL || !IsA(arg, Const) || ((Const *) arg)->constisnull ||
		((Const *) arg)->consttype != TEXTOID)
		return NULL;
	return DatumGetTextPP(((Const *) arg)->constvalue);
}

/* A call of lock_relation_if_exists starts: judge it as LOCK TABLE */
static void
judge_lock_call(FmgrInfo *flinfo)
{
	FuncExpr   *call = (FuncExpr *) flinfo->fn_expr;
	text	   *table = NULL;
	text	   *mode = NULL;
	LockStmt   *stmt;
	UtilityVerdict v;

	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here() ||
		role_is_exempt())
		return;
	if (call != NULL && IsA(call, FuncExpr))
	{
		table = const_arg(call->args, 0);
		mode = const_arg(call->args, 1);
	}
	if (table == NULL || mode == NULL)
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("lock_relation_if_exists() must be called with constant arguments"),
				 errdetail("gtm_clarity judges the call as the LOCK TABLE it stands for, before it runs."),
				 errhint("Use LOCK TABLE.")));

	stmt = makeNode(LockStmt);
	stmt->relations = list_make1(makeRangeVarFromNameList(textToQualifiedNameList(table)));
	stmt->mode = lock_mode_named(text_to_cstring(mode));
	if (stmt->mode == NoLock)
		stmt->mode = AccessExclusiveLock;	/* unknown: the strongest */
	stmt->nowait = false;
	if (judge_utility((Node *) stmt, &v))
		report_utility_verdict(&v, ENFORCE_ELEVEL());
}

/* A call of master_run_on_worker starts: refused (see the file header) */
static void
judge_run_call(void)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here() ||
		role_is_exempt())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("master_run_on_worker() is not allowed for this role"),
			 errdetail("It runs SQL on other nodes, each command in a connection of its own (run_command_on_workers(), run_command_on_shards() and the other run_command_on_*() functions call it), where the tenant of the running statement does not reach."),
			 errhint("Run such commands as a role exempt from the tenant-scope check (the migration role).")));
}

/*
 * A call of a Citus function that crashes the server on some arguments, or
 * measures a statement's reads, starts: refused to roles that are not
 * exempt (see the file header), whatever the mode.
 */
static void
refuse_unsafe_call(const char *name, const char *why)
{
	if (superuser() || role_is_exempt())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s() is not allowed for this role", name),
			 errdetail("%s", why),
			 errhint("Citus calls it for a superuser or the table owner; run such work as a role exempt from the tenant-scope check.")));
}

static void
gtm_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		prev_fmgr_hook(event, flinfo, private);
	if (event != FHET_START || !OidIsValid(flinfo->fn_oid) ||
		!distributed_planner_loaded())
		return;
	/* looked up again if pg_proc changed since (citus_functions_forget) */
	if (flinfo->fn_oid == citus_function_oid(CF_LOCK))
		judge_lock_call(flinfo);
	else if (flinfo->fn_oid == citus_function_oid(CF_ASSIGN))
		judge_citus_txn_call(flinfo);
	else if (flinfo->fn_oid == citus_function_oid(CF_RUN))
		judge_run_call();
	else if (flinfo->fn_oid == citus_function_oid(CF_EXPLAIN_SAVE))
		refuse_unsafe_call("worker_save_query_explain_analyze",
						   "It runs a query under EXPLAIN ANALYZE, whose counts include rows of other tenants that a scan passed over, and Citus 13.2 crashes the server on some of its options.");
	else if (flinfo->fn_oid == citus_function_oid(CF_COLUMN_NAME))
		refuse_unsafe_call("column_to_column_name",
						   "Citus 13.2 crashes the server on a column text that is not one of its own.");
	else if (flinfo->fn_oid == citus_function_oid(CF_SPLIT_COPY))
		refuse_unsafe_call("worker_split_copy",
						   "Citus 13.2 crashes the server on an empty list of split copies.");
}

/*
 * A CALL starts (ProcessUtility, before Citus' hook): a procedure Citus
 * distributed may be delegated to a worker, which runs it as a statement of
 * its own, where the tenant that the running top-level statement reached
 * (an open portal or cursor of T1, or the DO block or procedure around
 * this CALL) is not known: one statement would read T1 here and T2 there.
 * So the call of a distributed procedure is refused to roles that are not
 * exempt while another statement is open (see query_may_be_delegated for
 * the SELECT form).
 */
void
check_distributed_call(CallStmt *stmt)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !distributed_planner_loaded() ||
		stmt->funcexpr == NULL || !gtm_installed_here() || role_is_exempt() ||
		!statement_scope_busy() || !function_is_distributed(stmt->funcexpr->funcid))
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a distributed procedure must be called in a statement of its own"),
			 errdetail("Citus may run the call of %s on a worker, where the tenant of the running statement, or of an open cursor or portal, is not known.",
					   get_func_name(stmt->funcexpr->funcid)),
			 errhint("Close open cursors and portals, and CALL it in a statement of its own.")));
}

/* Called once from gtm_enforce_init. */
void
citus_lock_init(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = gtm_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = gtm_fmgr_hook;
	CacheRegisterSyscacheCallback(PROCOID, citus_functions_forget, (Datum) 0);
}
