/*-------------------------------------------------------------------------
 *
 * enforce_explain.c
 *	  A measuring EXPLAIN (ANALYZE, BUFFERS, MEMORY) of a statement on
 *	  tenant tables, refused to a role the check applies to.
 *
 * Its counts (rows, rows removed by a filter, buffers, time, memory)
 * include what a scan reads of other tenants before it keeps its own
 * tenant's rows, and what planning read; the refusal is made when such a
 * plan is made (gtm_planner), when it starts (run_statement_pins) and when
 * a cursor started earlier is read under it (executor_frame_call).  Which
 * EXPLAIN is running is tracked by enforce_utility_hook.c
 * (explain_analyze_depth).
 *
 * IDENTIFICATION
 *	  src/enforce_explain.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/execdesc.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * EXPLAIN ANALYZE of a statement on tenant tables, by a role that is not
 * exempt: its per-node counts ("actual rows", "Rows Removed by Filter")
 * include rows of other tenants that a scan reads before the rows of its
 * own tenant are kept (a unique-key pin, which the join applies; an index
 * on another column, with the tenant condition as a filter), so a search
 * on the values of a condition would read other tenants' values from the
 * counts.  Refused, as any cross-tenant read (warned in mode warn), and
 * so is a statement on tenant tables that the explained statement runs in
 * turn (a function's), whose buffers and time the plan's top node counts.
 * (The
 * same counts in LOG and DEBUG messages, trace_sort's, are withheld from
 * the client: gtm_emit_log_hook.)
 */
pg_noinline pg_attribute_cold void
refuse_explain_analyze(PlannedStmt *stmt)
{
	Oid			relid = plan_names_tenant_table(stmt);

	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("EXPLAIN ANALYZE, BUFFERS or MEMORY of a statement on tenant-scoped tables is not allowed for this role"),
			 errdetail("Its row and buffer counts include rows of other tenants that the plan reads before it keeps the rows of its tenant."),
			 err_tenant_scope(relid),
			 errhint("Use EXPLAIN without ANALYZE, BUFFERS and MEMORY, or run it as a role exempt from the tenant-scope check.")));
}

/*
 * A statement that started before a measuring EXPLAIN (a cursor declared
 * earlier) runs under it: a FETCH by a function of the explained statement
 * (cursor_to_xml, PL/pgSQL) shows its buffers in the explained plan (round
 * ET, EU: 16 against 2 buffer hits told whether another tenant had the
 * value a pinned cursor searched).  Refused as at the start, when it reads
 * tenant tables, to a role that is not exempt.
 */
void
refuse_measured_run(QueryDesc *queryDesc)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here() ||
		role_is_exempt())
		return;
	refuse_measured_plan(queryDesc->plannedstmt);
}

/*
 * A plan on tenant tables made under a measuring EXPLAIN (gtm_planner, for
 * a statement it judged): refused when it is made, not only when it runs.
 * EXPLAIN (BUFFERS) or (MEMORY) without ANALYZE runs nothing of the
 * statement, but shows what its planning read (round FI: the planning's
 * buffer counts of a plan-only EXPLAIN (BUFFERS) were shown); its index
 * endpoint probes (get_actual_variable_range) read the entries of every
 * tenant.
 */
void
refuse_measured_plan(PlannedStmt *stmt)
{
	if (OidIsValid(plan_names_tenant_table(stmt)))
		refuse_explain_analyze(stmt);
}

/*
 * The first tenant table of stmt's range table (also one whose scan the
 * planner removed: planning looked at it), or InvalidOid.
 */
Oid
plan_names_tenant_table(PlannedStmt *stmt)
{
	ListCell   *lc;

	foreach(lc, stmt->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rel_facts(rte->relid)->tenant)
			return rte->relid;
	}
	return InvalidOid;
}
