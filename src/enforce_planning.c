/*-------------------------------------------------------------------------
 *
 * enforce_planning.c
 *	  What functions the planner runs reach: the tenant a folded plan carries.
 *
 * The planner runs user code itself: it folds an IMMUTABLE function whose
 * arguments are constants into a constant of the plan, and calls STABLE
 * ones to estimate.  A folded function that reads a tenant's rows puts them
 * into the plan, which the plan cache or a later message may execute for
 * another request.  plan_with_state (enforce_hooks.c) pushes a frame for
 * each planning; fmgr_hook counts the IMMUTABLE functions of the database's
 * that the planner is running (folding); a statement they run that reaches
 * a tenant (statement_scope_check, tenant_session.c) notes it in the frame,
 * as does a statement of a STABLE function it calls to estimate,
 * and the finished plan carries it (GTM_PLANNED_CACHEID), reached again when
 * the plan starts (run_statement_pins, enforce_runtime.c).
 *
 * IDENTIFICATION
 *	  src/enforce_planning.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/objectaccess.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/fmgroids.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * The tenant that statements run by functions the planner ran (a folded
 * IMMUTABLE function reading a tenant's rows) reached while the innermost
 * plan_with_state() planned, kept in the memory context that called the
 * planner.  What they read is in the plan (a folded constant), which a
 * cache or a later message may execute for another request: the plan
 * carries that tenant (GTM_PLANNED_CACHEID), and its executor start
 * reaches it again (run_statement_pins).
 */
static PlanningFrame *planning_frame GTM_HOT_DATA = NULL;

/* plan_with_state: frame is the planning's; returns the enclosing one */
PlanningFrame *
planning_frame_push(PlanningFrame *frame)
{
	PlanningFrame *enclosing = planning_frame;

	planning_frame = frame;
	return enclosing;
}

void
planning_frame_pop(PlanningFrame *enclosing)
{
	planning_frame = enclosing;
}

/*
 * A plan planned while functions the planner ran reached tenant: it
 * carries the tenant (GTM_PLANNED_CACHEID), reached again at its executor
 * start, and so does the plan being planned around it, if any (a function
 * folded while folding another).  PL/pgSQL evaluates a plan that is a bare
 * Result as a "simple expression" without an executor start, as long as
 * its session lasts, but never a plan that depends on the role
 * (CachedPlanAllowsSimpleValidityCheck): marked so, it is executed.
 */
void
plan_carries_tenant(PlannedStmt *result, const char *tenant)
{
	write_plan_payload(result, GTM_PLANNED_CACHEID, tenant, strlen(tenant) + 1);
	result->dependsOnRole = true;
	planning_reached(tenant);	/* the enclosing planning's frame */
}

/*
 * statement_scope_check, while planning: note the tenant reached, by an
 * IMMUTABLE function the planner folds into the plan or by a STABLE one it
 * calls to estimate.  The estimate's result stays out of the plan, but not
 * what the function did: the planning belongs to the statement, and the
 * extended protocol plans a portal in its Bind message and starts it in
 * Execute, another message, where the statement's scope starts anew.  An
 * UPDATE pinned to T1 whose condition's function, called to estimate at
 * Bind, read T2's rows into a setting, wrote them into T1 at Execute
 * (round DL; as a simple Query it was refused).  So the plan carries the
 * tenant either way, and its executor start reaches it again.
 */
void
planning_reached(const char *tenant)
{
	if (planning_frame != NULL &&
		planning_frame->tenant == NULL && !distributed_planner_loaded())
		planning_frame->tenant = MemoryContextStrdup(planning_frame->cxt, tenant);
}

/*
 * IMMUTABLE functions of the database's that the planner calls itself (not
 * through an executor of a function it runs) to fold them go through
 * fmgr_hook, which counts them, running, in the innermost planning frame
 * (STABLE ones it calls only to estimate).  Each counted call is kept on a
 * stack with its FmgrInfo for its END or ABORT (calls nest, and
 * fmgr_security_definer reports every end).  fmgr_hook also sees every
 * SECURITY DEFINER or SET-clause function outside planning: those are not
 * kept, so that their recursion has no limit of ours.
 */
#define MAX_FOLDING_CALLS 256
typedef struct FoldingCall
{
	FmgrInfo   *flinfo;
	PlanningFrame *frame;
} FoldingCall;
static FoldingCall folding_calls[MAX_FOLDING_CALLS];
static int	folding_depth = 0;
static needs_fmgr_hook_type prev_needs_fmgr_hook = NULL;
static fmgr_hook_type prev_fmgr_hook = NULL;

/*
 * A function the planner itself calls that it would fold: of the
 * database's and IMMUTABLE.  A SQL-language one only when it is evaluated
 * (sql_evaluated): the planner inlines such a function instead where its
 * arguments are not all constants, and does not inline one that needs the
 * hook, so asking for the hook there would change plans.
 */
static bool
folded_function(Oid fn_oid, bool sql_evaluated)
{
	FunctionFacts f;

	if (planning_frame == NULL || !innermost_planning ||
		fn_oid < FirstNormalObjectId)
		return false;
	function_facts(fn_oid, &f);
	return f.found && f.provolatile == PROVOLATILE_IMMUTABLE &&
		(f.prolang != SQLlanguageId || sql_evaluated);
}

/*
 * The function whose execution the executor announced last
 * (InvokeFunctionExecuteHook), before it looks the function up
 * (fmgr_info, which asks needs_fmgr_hook): the planner evaluating a
 * function goes through the executor (evaluate_expr), while its
 * inline_function asks needs_fmgr_hook with no announcement.  Consumed by
 * the next question.
 */
static Oid	announced_fn_oid GTM_HOT_DATA = InvalidOid;
static object_access_hook_type prev_object_access_hook = NULL;

/*
 * A call of currtid2(relname, tid) is set up (PostgreSQL's, executable by
 * PUBLIC, for the ODBC driver's updatable cursors): it follows the update
 * chain of any row of a table the caller may read, another tenant's too,
 * and its errors tell the table's size; no condition on tenant_id stops
 * it.  Refused to roles that are not exempt.  A built-in function is
 * looked up without fmgr's hooks, but the executor announces every
 * function it sets up to call.
 */
static void
refuse_currtid_call(void)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here() ||
		role_is_exempt())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("currtid2() is not allowed for this role"),
			 errdetail("It follows the update chain of any row of a table, another tenant's too."),
			 errhint("Read rows by their keys, with a condition on the tenant column.")));
}

/*
 * The library's one object access hook: the executor's announcements of
 * the functions it sets up (above), and objects created or altered, which
 * may be temporary ones (tenant_temp.c).
 */
static void
gtm_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (access == OAT_FUNCTION_EXECUTE)
	{
		announced_fn_oid = objectId;
		if (unlikely(objectId == F_CURRTID2))
			refuse_currtid_call();
	}
	else if (access == OAT_POST_CREATE || access == OAT_POST_ALTER)
	{
		temp_note_object_changed(classId);
		refuse_depended_change(access, classId, objectId, subId);	/* enforce_depended.c */
	}
	else if (access == OAT_DROP)
		refuse_tenant_drop(classId, objectId, subId);	/* enforce_depended.c */
}

/*
 * The hook installed when another library's was there first: it, then
 * ours.  (Without one, gtm_object_access itself is installed: the executor
 * calls the hook for every function it sets up, and a call it need not
 * make is saved.)
 */
static void
gtm_object_access_chained(ObjectAccessType access, Oid classId, Oid objectId,
						  int subId, void *arg)
{
	prev_object_access_hook(access, classId, objectId, subId, arg);
	gtm_object_access(access, classId, objectId, subId, arg);
}

/* Is fn_oid a function of a role the check applies to? */
static inline bool
function_of_checked_role(Oid fn_oid)
{
	FunctionFacts f;

	function_facts(fn_oid, &f);
	return f.found && !f.owner_exempt;
}

/*
 * A function owned by a role the check applies to, called as an exempt
 * role (gtm_fmgr_hook: a trigger, default, index expression or view
 * of that role's reached by a migration, ANALYZE or a SECURITY DEFINER
 * function): its code would run with the exempt role's rights (round EZ:
 * the application role's view, read by a superuser's trigger, and its
 * trigger on its own table, written by one, ran its function as the
 * superuser, which made the role BYPASSRLS).  Refused, as for its
 * functions in pg_temp (refuse_callers_function_as_exempt, at each call).
 */
static pg_noinline void
refuse_function_of_checked_role(Oid fn_oid)
{
	FunctionFacts f;
	Oid			owner;

	if (gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	function_facts(fn_oid, &f);
	owner = f.owner;
	if (!f.found || owner == GetUserId() || f.owner_exempt)
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a function of a role the tenant check applies to cannot run as an exempt role"),
			 errdetail("Function \"%s\" of role \"%s\" would run with the rights of role \"%s\".",
					   format_procedure(fn_oid), GetUserNameFromId(owner, true),
					   GetUserNameFromId(GetUserId(), true)),
			 errhint("Let the migration role own the functions that triggers, defaults, indexes and views call, and let application roles own none.")));
}

static bool
gtm_needs_fmgr_hook(Oid fn_oid)
{
	bool		announced = (fn_oid == announced_fn_oid);

	announced_fn_oid = InvalidOid;
	if (prev_needs_fmgr_hook && prev_needs_fmgr_hook(fn_oid))
		return true;
	if (unlikely(planning_frame != NULL) && folded_function(fn_oid, announced))
		return true;

	/*
	 * A function of the caller's in pg_temp: each call is looked at
	 * (gtm_fmgr_hook), whoever runs it by then (a cursor declared by the
	 * caller is fetched by another role).  Nor is it inlined (which asks
	 * here too, unannounced) outside the planner proper (the type cache
	 * keeps a domain's inlined CHECK for later statements of other roles)
	 * or while an exempt role plans; the role's own statements still
	 * inline it (a pin through its SQL helper in pg_temp; one outside
	 * pg_temp is never inlined, below).
	 */
	if (fn_oid < FirstNormalObjectId || !gtm_installed_known_here())
		return false;
	if (!announced && innermost_planning && !role_is_exempt())
		return !callers_temp_function(fn_oid) && function_of_checked_role(fn_oid);

	/*
	 * A function of a role the check applies to, anywhere: each call is
	 * looked at too, since a function's lookup, or a plan that inlined
	 * it, is kept for later calls under another role (round FB: a
	 * PL/pgSQL function's call of it, looked up in the role's own session,
	 * ran it as the superuser when a SECURITY DEFINER function of the
	 * superuser's called that function later in the transaction); nor is
	 * one outside pg_temp inlined (above), even in the role's own plans.
	 * An exempt role is refused its call (gtm_fmgr_hook), not its lookup:
	 * planning a read of a table whose index expression calls it looks it
	 * up without calling it (round FC: refused wrongly)
	 */
	return callers_temp_function(fn_oid) || function_of_checked_role(fn_oid);
}

/*
 * A function of a role the check applies to, in pg_temp, called as an
 * exempt role: what it runs (its queries, the triggers and defaults it
 * reaches) would run with the exempt role's rights, led there by the
 * caller (a SECURITY DEFINER function of a migration role given a
 * relation or cursor of the caller's, a domain or trigger of the caller's
 * reached by it, a planner folding it): refused.
 */
static void
refuse_callers_function_as_exempt(Oid fn_oid)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !callers_temp_function(fn_oid) ||
		!role_is_exempt())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a function of a role the tenant check applies to cannot run as an exempt role"),
			 errdetail("Function \"%s\" of a temporary schema would run with the rights of role \"%s\".",
					   format_procedure(fn_oid), GetUserNameFromId(GetUserId(), true)),
			 errhint("Let no SECURITY DEFINER function of an exempt role reach its caller's objects: set search_path = ..., pg_temp and take no relation, function or cursor from the caller.")));
}

/*
 * Calls of a function of the caller's in pg_temp running now (counted by
 * gtm_fmgr_hook: up at the start, down at the end or on error).  An
 * executor started inside one runs the caller's code (a cursor its
 * SECURITY DEFINER function in pg_temp opened): see tenant_session.c.
 */
int			callers_code_depth GTM_HOT_DATA = 0;

static void
gtm_fmgr_hook(FmgrHookEventType event, FmgrInfo *flinfo, Datum *private)
{
	if (prev_fmgr_hook)
		(*prev_fmgr_hook) (event, flinfo, private);
	if (unlikely(flinfo->fn_oid >= FirstNormalObjectId) && event != FHET_START &&
		callers_code_depth > 0 && callers_temp_function(flinfo->fn_oid))
		callers_code_depth--;
	if (event == FHET_START)
	{
		if (unlikely(flinfo->fn_oid >= FirstNormalObjectId))
		{
			refuse_callers_function_as_exempt(flinfo->fn_oid);
			if (unlikely(role_is_exempt()))
				refuse_function_of_checked_role(flinfo->fn_oid);
			if (callers_temp_function(flinfo->fn_oid))
				callers_code_depth++;
		}
		if (planning_frame == NULL || !folded_function(flinfo->fn_oid, true))
			return;
		if (folding_depth >= MAX_FOLDING_CALLS)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("functions the planner folds are nested too deeply"),
					 errdetail("More than %d IMMUTABLE functions are being folded, one inside another.",
							   MAX_FOLDING_CALLS)));
		planning_frame->folding++;
		folding_calls[folding_depth].flinfo = flinfo;
		folding_calls[folding_depth].frame = planning_frame;
		folding_depth++;
	}
	else if (folding_depth > 0 && folding_calls[folding_depth - 1].flinfo == flinfo)
	{
		PlanningFrame *f = folding_calls[--folding_depth].frame;

		if (f->folding > 0)
			f->folding--;
	}
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
planning_frames_init(void)
{
	prev_needs_fmgr_hook = needs_fmgr_hook;
	needs_fmgr_hook = gtm_needs_fmgr_hook;
	prev_fmgr_hook = fmgr_hook;
	fmgr_hook = gtm_fmgr_hook;
	prev_object_access_hook = object_access_hook;
	object_access_hook = prev_object_access_hook ? gtm_object_access_chained :
		gtm_object_access;
}
