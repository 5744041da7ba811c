/*-------------------------------------------------------------------------
 *
 * enforce_citus_fold.c
 *	  The database's own IMMUTABLE functions, evaluated once on the Citus
 *	  coordinator.
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
 * IDENTIFICATION
 *	  src/enforce_citus_fold.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/transam.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "optimizer/optimizer.h"

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
