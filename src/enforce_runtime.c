/*-------------------------------------------------------------------------
 *
 * enforce_runtime.c
 *	  The one-tenant comparison of values known only when a statement starts.
 *
 * A statement pinned by several values that are not all constants
 * (parameters $n, stable expressions such as gtm_current_tenant()) is one
 * tenant only if those values are equal when it runs.  judge_plan() hands
 * such a set of values to add_runtime_check(), and ExecutorStart_hook
 * evaluates them with the bound parameters (run_runtime_checks) before the
 * executor reads a row.
 *
 * The generic-plan mechanism: the check must travel with the plan, which
 * the plan cache keeps and re-executes (a prepared statement's generic plan
 * is built once and run with new parameters each time), and PlannedStmt has
 * no field for an extension.  So add_runtime_check() appends to the plan's
 * invalItems a PlanInvalItem whose cacheId is GTM_CHECK_CACHEID, an id no
 * syscache has (so no invalidation ever matches it), and whose hashValue is
 * the number of the check in this backend's registry (runtime_checks).  A
 * registered check is never removed, and an identical set of values (same
 * nodeToString) reuses its number, so the registry grows only with the
 * number of distinct statement shapes that need a check.
 *
 * Messages are enforce_report.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_runtime.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "executor/executor.h"
#include "nodes/nodeFuncs.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "enforce.h"

/* PlanInvalItem.cacheId marking a runtime tenant check (no syscache id). */
#define GTM_CHECK_CACHEID		(-7243)

/* One registered comparison */
typedef struct RuntimeCheck
{
	char	   *key;			/* nodeToString of values, for reuse */
	List	   *values;			/* Expr * */
	List	   *labels;			/* char *: "table (alias)" */
} RuntimeCheck;

/*
 * The registry, in TopMemoryContext: appended to by add_runtime_check()
 * (an error while appending leaves at most an unreferenced allocation),
 * never reset; numbers are list positions from 1.
 */
static List *runtime_checks = NIL;

/* The number of the check of values, registering it if new. */
static int
register_runtime_check(List *values, List *labels)
{
	char	   *key = nodeToString(values);
	ListCell   *lc;
	int			id = 0;
	MemoryContext old;
	RuntimeCheck *rc;

	foreach(lc, runtime_checks)
	{
		id++;
		if (strcmp(((RuntimeCheck *) lfirst(lc))->key, key) == 0)
			return id;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	rc = palloc(sizeof(RuntimeCheck));
	rc->key = pstrdup(key);
	rc->values = copyObject(values);
	fix_opfuncids((Node *) rc->values);
	rc->labels = NIL;
	foreach(lc, labels)
		rc->labels = lappend(rc->labels, pstrdup(lfirst(lc)));
	runtime_checks = lappend(runtime_checks, rc);
	MemoryContextSwitchTo(old);
	return list_length(runtime_checks);
}

/*
 * Attach to stmt the check that values (labelled with the references they
 * pin) are one tenant when the statement starts.
 */
void
add_runtime_check(PlannedStmt *stmt, List *values, List *labels)
{
	PlanInvalItem *item = makeNode(PlanInvalItem);

	item->cacheId = GTM_CHECK_CACHEID;
	item->hashValue = (uint32) register_runtime_check(values, labels);
	stmt->invalItems = lappend(stmt->invalItems, item);
}

/*
 * Evaluate the values of rc with the bound parameters: each must be
 * non-null and all must have the same text.
 */
static void
run_runtime_check(RuntimeCheck *rc, ParamListInfo params)
{
	ExprContext *econtext = CreateStandaloneExprContext();
	ListCell   *lv,
			   *ll;
	char	   *first = NULL;
	const char *first_label = NULL;

	econtext->ecxt_param_list_info = params;
	forboth(lv, rc->values, ll, rc->labels)
	{
		Expr	   *e = lfirst(lv);
		ExprState  *es = ExecInitExprWithParams(e, params);
		bool		isnull;
		Datum		d = ExecEvalExprSwitchContext(es, econtext, &isnull);
		char	   *s;
		Oid			outfn;
		bool		varlena;

		if (isnull)
		{
			report_runtime_null(lfirst(ll), (Node *) e, ENFORCE_ELEVEL());
			break;
		}
		getTypeOutputInfo(exprType((Node *) e), &outfn, &varlena);
		s = OidOutputFunctionCall(outfn, d);
		if (first == NULL)
		{
			first = s;
			first_label = lfirst(ll);
		}
		else if (strcmp(first, s) != 0)
		{
			report_runtime_two_tenants(first_label, first, lfirst(ll), s,
									   ENFORCE_ELEVEL());
			break;
		}
	}
	FreeExprContext(econtext, true);
}

/*
 * ExecutorStart_hook's part, before the executor starts: run the checks
 * attached to the plan.  Not in parallel workers (the leader ran them), nor
 * for EXPLAIN without ANALYZE, nor for exempt roles.
 */
void
run_runtime_checks(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	ListCell   *lc;

	if (stmt->invalItems == NIL || gtm_enforcement == GTM_ENFORCE_OFF ||
		IsParallelWorker() || (eflags & EXEC_FLAG_EXPLAIN_ONLY))
		return;
	foreach(lc, stmt->invalItems)
	{
		PlanInvalItem *item = lfirst(lc);

		if (item->cacheId == GTM_CHECK_CACHEID &&
			item->hashValue >= 1 &&
			item->hashValue <= (uint32) list_length(runtime_checks) &&
			!role_is_exempt())
			run_runtime_check(list_nth(runtime_checks, item->hashValue - 1),
							  queryDesc->params);
	}
}
