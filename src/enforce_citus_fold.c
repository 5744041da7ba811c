/*-------------------------------------------------------------------------
 *
 * enforce_citus_fold.c
 *	  The database's own IMMUTABLE functions, evaluated once on the Citus
 *	  coordinator; the tenant of a query over intermediate results, unknown
 *	  on a worker.
 *
 * A statement on a Citus table is judged on the coordinator's shadow plan
 * (enforce_distributed.c), where the planner folds a call of an IMMUTABLE
 * function with constant arguments into a constant: "tenant_id = f()" is a
 * pin to that constant.  Citus plans the client's query tree, though, and
 * sends an IMMUTABLE call to the workers as it is written (an immutable
 * function returns the same everywhere, it assumes), where each node
 * evaluates it with its own settings: a function of the database's that
 * answers by current_setting('application_name') (Citus' connections say
 * citus_internal) pinned the shadow plan to T1 and read T3's rows on the
 * worker.  So, before the distributed planner sees the query, every call of
 * a function that is not built in (OID at or above FirstNormalObjectId) is
 * replaced by what eval_const_expressions makes of it, with the bound
 * parameters the shadow plan sees: the constant the shadow plan judged,
 * which Citus then sends.  An honest immutable function gives the same
 * result either way; a call that does not fold (a column among its
 * arguments) stays, and is no pin on a distributed plan
 * (pin_computed_per_node).
 *
 * The same for every expression whose arguments are all constants (or
 * bound parameters): Citus writes it into the shard query as it stands,
 * and the worker evaluates it with its own settings, which a role may set
 * otherwise for Citus' connections (ALTER ROLE ... SET, which Citus
 * propagates; SET LOCAL, which it replays there) than for its session on
 * the coordinator.  PostgreSQL marks functions immutable that read a
 * setting: output functions (float8out reads extra_float_digits, byteaout
 * bytea_output: "tenant_id = 'T46'::bytea::text" was judged pinned to
 * '\x543436' on the coordinator and read tenant T46 on a worker whose
 * bytea_output was escape, round DG), quote_ident() (quote_all_identifiers:
 * "CASE length(quote_ident('a')) WHEN 1 THEN 'T1' ELSE 'T3' END" was T1 on
 * the coordinator and T3 on the workers, round DK), and others may.
 * Folded on the coordinator, the worker receives the constant the shadow
 * plan judged.
 *
 * A constant of a type whose text is not its value's alone (a date, an
 * interval, a float, a regclass) is written as text in the client's
 * settings (DateStyle, IntervalStyle, extra_float_digits, search_path), and
 * the worker reads it in its own.
 * "tenant_id = (ARRAY['T1', 'x', 'y', 'T9'])[extract(month FROM date
 * '2000-01-04')::int]" was T1 in the shadow plan and, sent under DateStyle
 * 'SQL, DMY' as 04/01/2000, T9 on the worker: an INSERT ... SELECT copied
 * T9's rows into T1, another planted T1's rows in T9 (round DI).  Folded
 * bottom up, a pin becomes one constant of the column's type; what cannot
 * fold (a column, a stable function among its arguments) is no pin on a
 * distributed plan.
 *
 * Citus splits a client's statement into tasks, each a statement of its own
 * on a worker: a CTE or subquery it plans separately (pinned to T1) runs
 * first, and the rest goes to a worker over read_intermediate_result() and,
 * say, a table of no tenant; UNION ALL branches, the map tasks of a
 * repartition join and the source of an INSERT ... SELECT are tasks too.
 * The worker checks each as a top-level statement; a task that reached no
 * tenant let a function in it (or query_to_xml) read or change T2's shard,
 * while the client's statement had reached T1 on the coordinator.  So a
 * task that reaches no tenant by its own pins stands for a tenant the node
 * does not know (mark_distributed_task, at executor start): any tenant a
 * statement it runs reaches is refused ("statement touches more than one
 * tenant").
 *
 * gtm_current_tenant() itself is replaced by the session tenant before the
 * distributed planner sees the query (fold_current_tenant): the workers do
 * not know the session tenant; the plans made so are dropped when the
 * session tenant changes (session_tenant_changing).
 *
 * IDENTIFICATION
 *	  src/enforce_citus_fold.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "rewrite/rewriteHandler.h"
#include "utils/rel.h"
#include "catalog/pg_namespace.h"
#include "executor/execdesc.h"
#include "nodes/execnodes.h"
#include "nodes/makefuncs.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/guc.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/plancache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* what Citus' own connections call themselves (application_name) */
#define CITUS_APPLICATION_NAME "citus_internal"

/* Is funcid a function of the database's own (not built in)? */
static bool
is_own_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId;
}

/* Does node call one of the database's own functions (itself, not below)? */
bool
calls_own_function(Node *node)
{
	return node != NULL && !IsA(node, Query) &&
		check_functions_in_node(node, is_own_function, NULL);
}

/*
 * A direct argument of node (not below; the WHEN clauses of a CASE looked
 * into) that is neither a constant nor a bound parameter: node cannot be
 * folded into a constant here.
 */
static bool
variable_arg_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_Const:
		case T_CaseTestExpr:	/* the CASE's (or array coercion's) own value */
			return false;
		case T_Param:
			return ((Param *) node)->paramkind != PARAM_EXTERN;
		case T_List:
			return expression_tree_walker(node, variable_arg_walker, context);
		default:
			return true;
	}
}

/*
 * Must node itself be evaluated on the coordinator before Citus sends it
 * (see the file header): an expression all of whose arguments are
 * constants or bound parameters (eval_const_expressions folds it when its
 * functions are immutable, with the parameters' values in a custom plan),
 * or a call of the database's own function.
 */
bool
needs_coordinator_fold(Node *node)
{
	if (node == NULL)
		return false;
	switch (nodeTag(node))
	{
		case T_ArrayCoerceExpr:
			/* its element expression works on CaseTestExpr: the array */
			return !variable_arg_walker((Node *) ((ArrayCoerceExpr *) node)->arg, NULL);
		case T_FuncExpr:
		case T_OpExpr:
		case T_DistinctExpr:
		case T_NullIfExpr:
		case T_ScalarArrayOpExpr:
		case T_BoolExpr:
		case T_RelabelType:
		case T_CoerceViaIO:
		case T_ConvertRowtypeExpr:
		case T_CollateExpr:
		case T_CaseExpr:
		case T_ArrayExpr:
		case T_RowExpr:
		case T_RowCompareExpr:
		case T_CoalesceExpr:
		case T_MinMaxExpr:
		case T_XmlExpr:
		case T_NullTest:
		case T_BooleanTest:
		case T_CoerceToDomain:
		case T_SubscriptingRef:
		case T_FieldSelect:
		case T_FieldStore:
			break;
		default:
			return false;
	}
	return !expression_tree_walker(node, variable_arg_walker, NULL) ||
		calls_own_function(node);
}

/* Is typid one of the reg* types, whose text names an object by search_path? */
bool
is_reg_type(Oid typid)
{
	switch (typid)
	{
		case REGCLASSOID:
		case REGTYPEOID:
		case REGPROCOID:
		case REGPROCEDUREOID:
		case REGOPEROID:
		case REGOPERATOROID:
		case REGCONFIGOID:
		case REGDICTIONARYOID:
		case REGNAMESPACEOID:
		case REGROLEOID:
		case REGCOLLATIONOID:
			return true;
		default:
			return false;
	}
}

static bool
reg_constant_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, Const) && is_reg_type(((Const *) node)->consttype))
		return true;
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, reg_constant_walker, context, 0);
	return expression_tree_walker(node, reg_constant_walker, context);
}

/*
 * A constant of a reg* type left in the query Citus plans (not folded
 * away): Citus writes it as the object's name, which the worker looks up
 * in its own search_path, an application's to set; "(SELECT 'deals'::
 * regclass AS r) s ... s.r = 'public.deals'::regclass" named the role's
 * temporary table on the coordinator and public.deals on a worker (round
 * DM).  Refused (enforce_citus_settings.c).
 */
void
refuse_reg_constants(Query *parse)
{
	if (!query_tree_walker(parse, reg_constant_walker, NULL, 0))
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a constant naming an object (reg* type) in a statement on a distributed table"),
			 errdetail("Citus writes it for the workers as a name, which each node looks up in its own search_path."),
			 errhint("Compare OIDs or names as text, or run the statement as a role exempt from the tenant-scope check.")));
}

static Node *
fold_own_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	check_stack_depth();
	CHECK_FOR_INTERRUPTS();
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, fold_own_mutator,
										   context, 0);
	node = expression_tree_mutator(node, fold_own_mutator, context);
	if (needs_coordinator_fold(node) && !IsA(node, Aggref) &&
		!IsA(node, WindowFunc))
		node = eval_const_expressions((PlannerInfo *) context, node);
	return node;
}

/*
 * The query for the distributed planner: parse with the calls of the
 * database's own functions and the text conversions folded as the shadow
 * plan folds them (see the file header).  names->coordinator_fold says
 * whether there is any.
 */
Query *
fold_own_functions(Query *parse, ParamListInfo boundParams)
{
	PlannerGlobal *glob = makeNode(PlannerGlobal);
	PlannerInfo *root = makeNode(PlannerInfo);

	glob->boundParams = boundParams;
	root->glob = glob;
	root->query_level = 1;
	return query_tree_mutator(parse, fold_own_mutator, root, 0);
}

/* Is funcid the function of pg_catalog named one of names? */
static bool
is_catalog_function(Oid funcid, const char *const *names, int n)
{
	char	   *name;

	if (get_func_namespace(funcid) != PG_CATALOG_NAMESPACE)
		return false;
	name = get_func_name(funcid);
	for (int i = 0; name != NULL && i < n; i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/* Citus' functions that read intermediate results */
static const char *const result_readers[] = {
	"read_intermediate_result", "read_intermediate_results"
};

/*
 * Citus' functions that run a query of the coordinator's, given as text, on
 * the node (a repartition's map task, EXPLAIN ANALYZE of a task, the
 * results of a CTE): that query, run as a statement inside the task, is
 * the task's part of the client's statement
 */
static const char *const query_runners[] = {
	"worker_partition_query_result", "worker_save_query_explain_analyze",
	"create_intermediate_result", "broadcast_intermediate_result"
};

/* Does a node of the plan state tree scan a function of names? */
typedef struct FunctionScanSearch
{
	const char *const *names;
	int			n;
} FunctionScanSearch;

static bool
function_scan_walker(PlanState *ps, void *context)
{
	FunctionScanSearch *search = (FunctionScanSearch *) context;

	if (ps == NULL)
		return false;
	check_stack_depth();
	if (IsA(ps->plan, FunctionScan))
	{
		ListCell   *lc;

		foreach(lc, ((FunctionScan *) ps->plan)->functions)
		{
			Node	   *f = ((RangeTblFunction *) lfirst(lc))->funcexpr;

			if (f != NULL && IsA(f, FuncExpr) &&
				is_catalog_function(((FuncExpr *) f)->funcid, search->names, search->n))
				return true;
		}
	}
	return planstate_tree_walker(ps, function_scan_walker, context);
}

/* Does the statement scan one of the functions names (FROM list)? */
static bool
scans_function_of(QueryDesc *queryDesc, const char *const *names, int n)
{
	ListCell   *lc;
	FunctionScanSearch search = {names, n};

	foreach(lc, queryDesc->plannedstmt->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_FUNCTION)
			return function_scan_walker(queryDesc->planstate, &search);
	return false;
}

/*
 * Is the statement one that only runs a query of the coordinator's, in
 * Citus' form: a scan of one of query_runners with constant arguments,
 * and nothing else in its range table (no table: a client that writes
 * create_intermediate_result() itself beside one of its tables makes a
 * task of that, whose query would otherwise run unmarked)?
 */
static bool
is_runner_task(QueryDesc *queryDesc)
{
	ListCell   *lc;
	PlanState  *ps = queryDesc->planstate;
	bool		found = false;

	foreach(lc, queryDesc->plannedstmt->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind != RTE_FUNCTION)
			return false;
	/* a FunctionScan at the top, under projection or filtering only */
	while (ps != NULL && !IsA(ps->plan, FunctionScan))
	{
		if (!IsA(ps->plan, Result) && !IsA(ps->plan, Sort))
			return false;
		ps = outerPlanState(ps);
	}
	if (ps == NULL)
		return false;
	foreach(lc, ((FunctionScan *) ps->plan)->functions)
	{
		Node	   *f = ((RangeTblFunction *) lfirst(lc))->funcexpr;
		ListCell   *la;

		if (f == NULL || !IsA(f, FuncExpr) ||
			!is_catalog_function(((FuncExpr *) f)->funcid, query_runners,
								 lengthof(query_runners)))
			return false;
		foreach(la, ((FuncExpr *) f)->args)
			if (!IsA(strip_relabel(lfirst(la)), Const))
				return false;
		found = true;
	}
	return found;
}

/*
 * Is the statement a function call Citus delegated to this node: "SELECT
 * f(...)" of a distributed function, a Result with one output column?  Its
 * tenant is its own: the coordinator gave the call a statement of its own
 * (check_distributed_start).
 */
static bool
is_delegated_call(PlannedStmt *stmt)
{
	Plan	   *plan = stmt->planTree;
	TargetEntry *tle;

	ListCell   *lc;

	if (stmt->commandType != CMD_SELECT || plan == NULL || !IsA(plan, Result) ||
		plan->lefttree != NULL || stmt->subplans != NIL ||
		list_length(plan->targetlist) != 1)
		return false;
	tle = linitial_node(TargetEntry, plan->targetlist);
	if (!IsA(tle->expr, FuncExpr))
		return false;

	/*
	 * Citus delegates a call whose arguments it sends as constants; a
	 * subquery among them (a Result that a task of a larger statement
	 * plans to) is no delegated call
	 */
	foreach(lc, ((FuncExpr *) tle->expr)->args)
		if (!IsA(strip_relabel(lfirst(lc)), Const))
			return false;
	return function_is_distributed(((FuncExpr *) tle->expr)->funcid);
}

/*
 * Is this a connection Citus opened (its application_name)?  A client may
 * name itself so: what this allows must be no more than the client could
 * do on its own connection.
 */
bool
citus_connection(void)
{
	return application_name != NULL &&
		strncmp(application_name, CITUS_APPLICATION_NAME,
				strlen(CITUS_APPLICATION_NAME)) == 0;
}

/* Does node call a function of the database's own, anywhere in it? */
static bool
own_function_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (calls_own_function(node))
		return true;
	return expression_tree_walker(node, own_function_walker, context);
}

/*
 * Does a COPY into relid run code of the database's before it checks the
 * tenant of its first row: a statement-level BEFORE INSERT trigger, a
 * column of a domain type (its CHECK runs as the input is read), a default
 * that calls a function of the database's (evaluated as a row is read)?
 */
static bool
copy_runs_code_first(Oid relid)
{
	Relation	rel = RelationIdGetRelation(relid);
	bool		result = false;

	if (!RelationIsValid(rel))
		return true;
	if (rel->trigdesc != NULL && rel->trigdesc->trig_insert_before_statement)
		result = true;
	for (int i = 0; !result && i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);

		if (att->attisdropped)
			continue;
		if (get_typtype(att->atttypid) == TYPTYPE_DOMAIN)
			result = true;
		else if (att->atthasdef &&
				 own_function_walker(build_column_default(rel, att->attnum), NULL))
			result = true;
	}
	RelationClose(rel);
	return result;
}

/*
 * ProcessUtility, before a top-level utility statement on a connection
 * Citus opened: Citus sends the commands of a client's statement that are
 * no query as such (COPY of the rows an INSERT ... SELECT moved through the
 * coordinator, CREATE INDEX, REINDEX, ANALYZE of shards, PREPARE
 * TRANSACTION, which fires deferred triggers), and the role's code they run
 * (triggers, CHECK constraints, index expressions) would reach a tenant the
 * coordinator's statement never judged: such a command stands for a tenant
 * this node does not know, as a task does (mark_distributed_task).  Not a
 * COPY into a tenant table that runs no code of the database's before its
 * first row is checked (copy_runs_code_first): each of its rows is checked
 * and reaches its tenant first (enforce_copy.c).
 */
void
mark_distributed_command(Node *parsetree)
{
	if (NESTING_LEVEL() != 0 || gtm_enforcement == GTM_ENFORCE_OFF ||
		IsParallelWorker() || !citus_connection() || !gtm_installed_here() ||
		role_is_exempt())
		return;
	/* what begins a remote transaction or sets its settings runs no code */
	if (IsA(parsetree, VariableSetStmt) || IsA(parsetree, VariableShowStmt) ||
		(IsA(parsetree, TransactionStmt) &&
		 ((TransactionStmt *) parsetree)->kind != TRANS_STMT_COMMIT &&
		 ((TransactionStmt *) parsetree)->kind != TRANS_STMT_PREPARE))
		return;
	/* a call Citus delegated: its tenant is its own (check_distributed_call) */
	if (IsA(parsetree, CallStmt) && ((CallStmt *) parsetree)->funcexpr != NULL)
	{
		FuncExpr   *call = ((CallStmt *) parsetree)->funcexpr;
		ListCell   *lc;
		bool		constants = true;

		foreach(lc, call->args)
			if (!IsA(strip_relabel(lfirst(lc)), Const))
				constants = false;
		if (constants && function_is_distributed(call->funcid))
			return;
	}
	if (IsA(parsetree, CopyStmt) && ((CopyStmt *) parsetree)->is_from &&
		((CopyStmt *) parsetree)->relation != NULL)
	{
		Oid			relid = RangeVarGetRelid(((CopyStmt *) parsetree)->relation,
											 NoLock, true);

		if (OidIsValid(relid) && rel_facts(relid)->tenant &&
			!copy_runs_code_first(relid))
			return;
	}
	/*
	 * The COMMIT or PREPARE TRANSACTION that ends the transaction of the
	 * tasks fires their deferred triggers: they belong to the tenant the
	 * tasks reached, when it is one.
	 */
	if (IsA(parsetree, TransactionStmt) && transaction_tenant() != NULL)
	{
		statement_scope_check(transaction_tenant(), "0:the transaction's tenant",
							  ENFORCE_ELEVEL());
		return;
	}
	statement_scope_mark_unknown(ENFORCE_ELEVEL());
}

/*
 * A task of Citus started and has not yet found the statement that is its
 * part of the client's statement: the task itself, or the query one of
 * query_runners runs for it.  Set at the task's start, cleared when that
 * statement starts; every task starts it again.
 */
static bool task_part_pending = false;

/*
 * ExecutorStart, after the statement's own pins (run_statement_pins), on a
 * node where Citus is loaded: a task of a client's statement (see the file
 * header) that has reached no tenant by its own pins gets a tenant of its
 * own, so that any tenant a statement it runs reaches is refused.  A task
 * is a top-level statement of a connection whose application_name Citus
 * sets to "citus_internal ..." (a client that names itself so only makes
 * its own statements stricter), or, when it only runs a query of the
 * coordinator's (query_runners), that query; and any statement over
 * intermediate results.  Not a function call Citus delegated (its tenant
 * is its own), nor for exempt roles, nor in parallel workers.
 */
void
mark_distributed_task(QueryDesc *queryDesc, int eflags)
{
	bool		mark;

	if (NESTING_LEVEL() == 0)
		task_part_pending = citus_connection();
	if (gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) || queryDesc->planstate == NULL ||
		statement_scope_tenant() != NULL)
		return;
	if (task_part_pending)
	{
		if (is_runner_task(queryDesc))
			return;				/* its query is the task's part */
		task_part_pending = false;
		mark = !is_delegated_call(queryDesc->plannedstmt);
	}
	else
		mark = scans_function_of(queryDesc, result_readers, lengthof(result_readers));
	if (mark && !role_is_exempt())
		statement_scope_mark_unknown(ENFORCE_ELEVEL());
}

/* ----------------------------------------------------------------
 *		gtm_current_tenant() for the distributed planner
 * ----------------------------------------------------------------
 */

/*
 * Has a plan been made with the session tenant folded in since the plan
 * cache was last reset?  Set by fold_current_tenant, cleared by
 * session_tenant_changing when it resets the cache.
 */
static bool tenant_folded = false;

static Node *
fold_mutator(Node *node, void *context)
{
	if (node == NULL)
		return NULL;
	check_stack_depth();
	if (IsA(node, FuncExpr) && is_current_tenant_fn(((FuncExpr *) node)->funcid))
	{
		FuncExpr   *f = (FuncExpr *) node;
		Const	   *c = makeConst(TEXTOID, -1, f->funccollid, -1,
								  PointerGetDatum(cstring_to_text((char *) context)),
								  false, false);

		c->location = f->location;
		return (Node *) c;
	}
	if (IsA(node, Query))
		return (Node *) query_tree_mutator((Query *) node, fold_mutator,
										   context, 0);
	return expression_tree_mutator(node, fold_mutator, context);
}

/*
 * The query for the distributed planner: parse with gtm_current_tenant()
 * replaced by the session tenant (see the file header), or parse itself
 * when it has no such call or no tenant is set (then the call stays, and
 * reports the missing tenant where it runs, as on a single node).
 * names is what query_names_distributed found in parse.
 */
Query *
fold_current_tenant(Query *parse, QueryNames *names)
{
	if (gtm_session_tenant == NULL || gtm_session_tenant[0] == '\0' ||
		!names->current_tenant)
		return parse;
	tenant_folded = true;
	return query_tree_mutator(parse, fold_mutator, gtm_session_tenant, 0);
}

/* gtm.tenant is about to become newval: drop plans with the old one. */
void
session_tenant_changing(const char *newval)
{
	if (!tenant_folded)
		return;
	if (newval != NULL && gtm_session_tenant != NULL &&
		strcmp(newval, gtm_session_tenant) == 0)
		return;
	tenant_folded = false;
	ResetPlanCache();
}
