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
 * A CTE or subquery that Citus plans separately (pinned to T1) runs first;
 * the rest of the statement goes to a worker as a query of its own over
 * read_intermediate_result() and, say, a table of no tenant.  The worker
 * checks it as a top-level statement that reached no tenant, so a function
 * in it that reads T2 (dynamic SQL on a shard) was allowed there, while
 * the client's statement had reached T1 on the coordinator.  A query that
 * reads intermediate results and has reached no tenant by itself
 * (mark_intermediate_results, at executor start) therefore stands for a
 * tenant this node does not know: any statement it runs that reaches a
 * tenant is refused ("statement touches more than one tenant").
 *
 * IDENTIFICATION
 *	  src/enforce_citus_fold.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/transam.h"
#include "catalog/pg_namespace.h"
#include "executor/execdesc.h"
#include "nodes/execnodes.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"

#include "enforce.h"

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
	if (calls_own_function(node) && !IsA(node, Aggref) &&
		!IsA(node, WindowFunc))
		node = eval_const_expressions((PlannerInfo *) context, node);
	return node;
}

/*
 * The query for the distributed planner: parse with the calls of the
 * database's own functions folded as the shadow plan folds them (see the
 * file header).  names->own_function says whether there is any.
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

/* Is funcid Citus' read_intermediate_result() or read_intermediate_results()? */
static bool
reads_intermediate_results(Oid funcid)
{
	char	   *name;

	if (get_func_namespace(funcid) != PG_CATALOG_NAMESPACE)
		return false;
	name = get_func_name(funcid);
	return name != NULL && (strcmp(name, "read_intermediate_result") == 0 ||
							strcmp(name, "read_intermediate_results") == 0);
}

/* Does a node of the plan state tree scan read_intermediate_result(s)? */
static bool
intermediate_results_walker(PlanState *ps, void *context)
{
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
				reads_intermediate_results(((FuncExpr *) f)->funcid))
				return true;
		}
	}
	return planstate_tree_walker(ps, intermediate_results_walker, context);
}

/*
 * ExecutorStart, after the statement's own pins (run_statement_pins), on a
 * node where Citus is loaded: a statement over intermediate results that
 * has reached no tenant stands for one this node does not know (see the
 * file header).  Not for exempt roles, nor in parallel workers, nor for a
 * statement with no function scan (the range table says).
 */
void
mark_intermediate_results(QueryDesc *queryDesc, int eflags)
{
	ListCell   *lc;
	bool		scans_function = false;

	if (gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) || queryDesc->planstate == NULL ||
		statement_scope_tenant() != NULL)
		return;
	foreach(lc, queryDesc->plannedstmt->rtable)
		if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_FUNCTION)
			scans_function = true;
	if (scans_function &&
		intermediate_results_walker(queryDesc->planstate, NULL) &&
		!role_is_exempt())
		statement_scope_check("(intermediate results of a distributed statement)",
							  "0:intermediate results of a distributed statement",
							  ENFORCE_ELEVEL());
}
