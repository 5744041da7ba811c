/*-------------------------------------------------------------------------
 *
 * enforce_recorded.c
 *	  The verdict on a distributed plan from the records of the standard
 *	  planner's first call, without a shadow plan.
 *
 * Unless Citus' fast-path planner takes a statement, Citus first runs the
 * standard planner on the client's query, and the recording hooks see
 * that call like any other (record_this_call, enforce_distributed.c).
 * judge_recorded accepts a distributed plan from those records alone when
 * every tenant table the statement names was recorded, every reference is
 * pinned (not through a unique key, by a value every node computes alike)
 * and the pins denote one tenant: stricter than judge_plan, which judges
 * only the relations the plan reads.  Otherwise gtm_planner judges a
 * shadow plan of the client's query (judge_distributed), for which it
 * keeps a copy of the query tree before Citus' planner rewrites it.
 *
 * That copy costs about as much as the rest of the check of a join that
 * Citus plans again at every execution (a prepared router join: about
 * 28,000 instructions of 51,000 on the coordinator, bench/citus.sh part C).
 * So gtm_planner keeps none where the records decide either way
 * (records_decide): a SELECT whose FROM list is only inner joins of two or
 * more plain tables (no subquery, CTE, sublink, set operation, function or
 * VALUES, no inheritance, no row lock).  For such a statement the standard
 * planner records every relation (set_rel_pathlist_hook is called for each
 * base relation), and the shadow plan, the same standard planner's plan of
 * the same query, scans every one of them unless it proves the statement
 * empty; its verdict on each reference is then the one the records hold:
 * the same conditions, the same equivalence classes.  Where judge_recorded
 * does not accept such a statement, judge_records_alone gives the shadow
 * plan's verdict from the records:
 *	- the statement proved empty (a contradictory WHERE: the scan and join
 *	  relation of the kept call is a dummy one, gtm_create_upper_paths):
 *	  the shadow plan reads nothing and judges nothing, accepted;
 *	- otherwise refused: a reference not pinned, two tenants, a pin through
 *	  a unique key (read on a worker, PR_OPAQUE_NODE), a value each node
 *	  computes (PR_NODE_VALUE), and, failing closed, a tenant table the
 *	  records lack (read through the distributed plan).
 * The messages are the shadow plan's but for one case: a pin by
 * gtm_current_tenant(), which the records see folded into the session
 * tenant (fold_current_tenant), and another tenant's pin are reported as
 * two constants when planned, where the shadow plan, which keeps the call,
 * compared them when the statement started.  bench/citus.sh part C
 * measures the copy saved; t/051 compares these verdicts, message for
 * message, with the shadow plan's.
 *
 * IDENTIFICATION
 *	  src/enforce_recorded.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"

#include "enforce.h"

/*
 * Do the records of the distributed planner's first call of the standard
 * planner decide the verdict on parse, accepted or refused (see the file
 * header)?  Then gtm_planner keeps no copy of it for a shadow plan.  Not
 * for the checker, which always judges a shadow plan; not for a single
 * relation, which Citus' fast-path planner plans without the standard
 * planner (no records), and whose generic plan a prepared statement keeps.
 */
bool
records_decide(Query *parse, QueryNames *names)
{
	ListCell   *lc;
	int			relations = 0;

	if (parse->commandType != CMD_SELECT || parse->utilityStmt != NULL ||
		names->on_conflict || parse->hasSubLinks || parse->hasModifyingCTE ||
		parse->hasRecursive || parse->hasTargetSRFs || parse->cteList != NIL ||
		parse->setOperations != NULL || parse->rowMarks != NIL)
		return false;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN && rte->jointype == JOIN_INNER)
			continue;
		if (rte->rtekind != RTE_RELATION || rte->relkind != RELKIND_RELATION ||
			rte->tablesample != NULL || rel_facts(rte->relid)->has_children)
			return false;
		relations++;
	}
	return relations >= 2;
}

/*
 * Judge every reference recorded (each counts, read or not), its pins
 * sorted into *classes; *judged the references.  A tenant table the
 * statement names that the records lack: with opaque NULL, nothing is
 * judged and false returned; else it is added, refused as read through
 * opaque.
 */
static bool
judge_every_record(EnforceState *st, QueryNames *names, const char *opaque,
				   List **judged, PinClasses *classes)
{
	bool		has_nonconst;
	ListCell   *lc;

	foreach(lc, names->relids)
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));

		if (!f->tenant || f->exempt || relid_recorded(st, f->relid))
			continue;
		if (opaque == NULL)
			return false;
		add_not_analysed(st, f, get_rel_name(f->relid), opaque);
	}
	foreach(lc, st->refs)
		((TenantRef *) lfirst(lc))->judged = true;
	*judged = judged_refs(st);
	judge_one_tenant(*judged, classes, &has_nonconst, st);
	return true;
}

/*
 * A distributed plan accepted from the records of the standard planner's
 * call on the client's query (enforce_distributed.c): every tenant table
 * that the statement names (names->relids, found by query_names_distributed
 * on the client's query tree before planning) was recorded, every reference is pinned, none through a
 * unique key, and the pins denote one tenant; no ON CONFLICT (its
 * arbiters are judged on a plan).  Then the pin classes are
 * attached to dist, as judge_plan does, and the judged references are
 * returned; otherwise NIL (the caller judges a shadow plan).  No plan is
 * walked: all references count, which is stricter than judge_scans.
 */
List *
judge_recorded(EnforceState *st, QueryNames *names, PlannedStmt *dist)
{
	List	   *judged;
	PinClasses	classes;
	ListCell   *lc;

	/*
	 * ON CONFLICT arbiters are judged on a plan (judge_modify_tables), and
	 * so are the sources of a tenant written from a relation that is not a
	 * tenant table (judge_distributed refuses it, round BW)
	 */
	if (st->refs == NIL || names->on_conflict || st->write_pin_sources ||
		!judge_every_record(st, names, NULL, &judged, &classes))
		return NIL;
	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->reason != PR_PINNED || ref->key_lookup != NIL ||
			pin_computed_per_node(ref->values))
			return NIL;
	}
	if (classes.n > 0)
		attach_statement_pins(dist, &classes);
	return judged;
}

/*
 * The verdict on a distributed plan that judge_recorded did not accept,
 * where gtm_planner kept no copy of the client's query (records_decide):
 * the shadow plan's, from the records (see the file header).  Every
 * reference counts; a pin through a unique key and a value each node
 * computes are refused as judge_distributed refuses them; a tenant table
 * the statement names but the records lack is refused as read through the
 * distributed plan.  Returns the judged references: NIL for a statement
 * proved empty (accepted), else at least one of them refused; raises an
 * error (fail closed) if none is.
 */
List *
judge_records_alone(EnforceState *st, QueryNames *names, PlannedStmt *dist)
{
	const char *node;
	List	   *judged;
	PinClasses	classes;
	bool		refused = false;
	ListCell   *lc;

	if (st->proven_empty)
		return NIL;
	node = psprintf("Custom Scan (%s)", distributed_scan_name(dist));
	(void) judge_every_record(st, names, node, &judged, &classes);
	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->reason == PR_PINNED && ref->key_lookup != NIL)
		{
			ref->reason = PR_OPAQUE_NODE;
			ref->node_name = node;
		}
		else if (ref->reason == PR_PINNED && pin_computed_per_node(ref->values))
			ref->reason = PR_NODE_VALUE;
		if (ref->reason != PR_PINNED)
			refused = true;
	}
	if (!refused)
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("the tenant check could not judge a distributed statement"),
				 errdetail("Every reference of it was pinned to one tenant, but the records of its planning did not decide it."),
				 errhint("Report this to the gtm_clarity maintainers, with the statement.")));
	return judged;
}
