/*-------------------------------------------------------------------------
 *
 * enforce_stats.c
 *	  The statistics of a protected tenant table are no more readable
 *	  through a view than directly.
 *
 * The planner passes a column's statistics (most common values, histogram
 * bounds) to the functions of the operators it estimates, and lets a
 * function that is not leakproof see them only when the user may read
 * every row of the table (examine_variable, statistic_proc_security_check).
 * On a table that gtm_protect_table() put under row-level security, an
 * ordinary role's own statement is refused them (the policy's
 * securityQuals), but through a view the check is made for the view's
 * owner: a view owned by a superuser or by the migration role (BYPASSRLS)
 * handed every tenant's values to an operator of the caller's, in a
 * statement pinned to one tenant (even in a plain EXPLAIN).
 *
 * get_relation_stats_hook and get_index_stats_hook look the statistics up
 * as the planner does, and for a tenant table on which row-level security
 * applies to the current user (who is not exempt) mark them readable by
 * leakproof functions only (acl_ok = false), wherever the table is
 * mentioned: the estimates a statement of the role gets through a view are
 * those it gets reading the table itself.  Extended statistics have no
 * such hook: the planner passes the items of an MCV list, and the values of
 * statistics on expressions, to a function that is not leakproof when all
 * rows are selectable for the view's owner (no securityQuals).  For a
 * table reached so, get_relation_info_hook removes those two kinds from
 * the relation's list (the ndistinct and dependencies kinds hold no
 * value); read directly, PostgreSQL itself keeps them from such
 * functions.
 *
 * IDENTIFICATION
 *	  src/enforce_stats.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_index.h"
#include "catalog/pg_statistic_ext.h"
#include "optimizer/plancat.h"
#include "parser/parse_relation.h"
#include "parser/parsetree.h"
#include "utils/rls.h"
#include "utils/selfuncs.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "pg_compat.h"
#include "gtm_clarity.h"

static get_relation_stats_hook_type prev_get_relation_stats_hook = NULL;
static get_index_stats_hook_type prev_get_index_stats_hook = NULL;
static get_relation_info_hook_type prev_get_relation_info_hook = NULL;

/*
 * Are the statistics of relid to be shown to leakproof functions only:
 * a tenant table under row-level security for the current user?
 */
static bool
stats_for_leakproof_only(Oid relid)
{
	RelFacts   *f;

	/* most tables are not under row-level security: asked first */
	if (gtm_enforcement == GTM_ENFORCE_OFF || !OidIsValid(relid))
		return false;
	f = rel_facts(relid);
	if (!f->row_security || !f->tenant || f->exempt)
		return false;
	return gtm_installed_here() && !role_is_exempt() &&
		check_enable_rls(relid, InvalidOid, true) == RLS_ENABLED;
}

/*
 * Is rte a relation the statement's own role reads (no view's owner
 * between: checkAsUser unset)?  Then PostgreSQL judges the statistics for
 * the current user itself, and row-level security, if it applies, gave the
 * scan securityQuals, which keep them from functions that are not
 * leakproof.  False when it cannot tell (an inheritance child on 16+,
 * which has no permission info of its own).
 */
static inline bool
read_as_current_user(PlannerInfo *root, RangeTblEntry *rte)
{
#if GTM_HAS_RTEPERMINFO
	if (rte->perminfoindex == 0)
		return false;
	return !OidIsValid(getRTEPermissionInfo(root->parse->rteperminfos, rte)->checkAsUser);
#else
	return !OidIsValid(rte->checkAsUser);
#endif
}

/* The pg_statistic row of (relid, attnum, inh), leakproof functions only */
static void
lookup_for_leakproof(Oid relid, AttrNumber attnum, bool inh,
					 VariableStatData *vardata)
{
	vardata->statsTuple = SearchSysCache3(STATRELATTINH,
										  ObjectIdGetDatum(relid),
										  Int16GetDatum(attnum),
										  BoolGetDatum(inh));
	vardata->freefunc = ReleaseSysCache;
	/* as the planner does: no statistics, no leakproofness check */
	vardata->acl_ok = !HeapTupleIsValid(vardata->statsTuple);
}

/*
 * The statistics of rte's column attnum, leakproof functions only, when
 * rte is a protected tenant table read on behalf of a view's owner (see
 * the file header): the rare case, out of the hook's line.
 */
static pg_noinline bool
relation_stats_slow(PlannerInfo *root, RangeTblEntry *rte, AttrNumber attnum,
					VariableStatData *vardata)
{
	if (prev_get_relation_stats_hook &&
		prev_get_relation_stats_hook(root, rte, attnum, vardata))
		return true;
	if (vardata->var == NULL || rte->rtekind != RTE_RELATION ||
		rte->securityQuals != NIL || read_as_current_user(root, rte) ||
		!stats_for_leakproof_only(rte->relid))
		return false;
	lookup_for_leakproof(rte->relid, attnum, rte->inh, vardata);
	return true;
}

/*
 * get_relation_stats_hook.  Not for btcostestimate, which asks with no Var
 * to read an index's correlation, a number; nor where the planner itself
 * requires leakproof functions (securityQuals: row-level security
 * applied), nor for a relation the statement's own role reads: the
 * planner asks this for every column it estimates, so these common
 * answers are given without a call.
 */
static bool
gtm_get_relation_stats(PlannerInfo *root, RangeTblEntry *rte,
					   AttrNumber attnum, VariableStatData *vardata)
{
	if (likely(prev_get_relation_stats_hook == NULL) &&
		(vardata->var == NULL || rte->rtekind != RTE_RELATION ||
		 rte->securityQuals != NIL || read_as_current_user(root, rte)))
		return false;
	return relation_stats_slow(root, rte, attnum, vardata);
}

static bool
gtm_get_index_stats(PlannerInfo *root, Oid indexOid, AttrNumber indexattnum,
					VariableStatData *vardata)
{
	HeapTuple	tup;
	Oid			heap;
	bool		partial;

	if (prev_get_index_stats_hook &&
		prev_get_index_stats_hook(root, indexOid, indexattnum, vardata))
		return true;
	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexOid));
	if (!HeapTupleIsValid(tup))
		return false;
	heap = ((Form_pg_index) GETSTRUCT(tup))->indrelid;
	partial = !heap_attisnull(tup, Anum_pg_index_indpred, NULL);
	ReleaseSysCache(tup);
	if (!stats_for_leakproof_only(heap))
		return false;
	if (partial)
	{
		/* the planner takes no statistics from a partial index either */
		vardata->statsTuple = NULL;
		return true;
	}
	lookup_for_leakproof(indexOid, indexattnum, false, vardata);
	return true;
}

static pg_noinline void
relation_info_slow(PlannerInfo *root, Oid relationObjectId, RelOptInfo *rel)
{
	RangeTblEntry *rte;
	List	   *kept = NIL;
	ListCell   *lc;

	rte = planner_rt_fetch(rel->relid, root);
	if (rte->securityQuals != NIL || read_as_current_user(root, rte) ||
		!stats_for_leakproof_only(relationObjectId))
		return;
	foreach(lc, rel->statlist)
	{
		StatisticExtInfo *info = lfirst_node(StatisticExtInfo, lc);

		if (info->kind != STATS_EXT_MCV && info->kind != STATS_EXT_EXPRESSIONS)
			kept = lappend(kept, info);
	}
	rel->statlist = kept;
}

/*
 * get_relation_info_hook, for every relation the planner opens; the
 * variant that chains to another library's hook is installed only when
 * there is one.
 */
static void
gtm_get_relation_info(PlannerInfo *root, Oid relationObjectId, bool inhparent,
					  RelOptInfo *rel)
{
	if (rel->statlist == NIL)
		return;					/* the common case: no extended statistics */
	relation_info_slow(root, relationObjectId, rel);
}

static void
gtm_get_relation_info_chained(PlannerInfo *root, Oid relationObjectId,
							  bool inhparent, RelOptInfo *rel)
{
	prev_get_relation_info_hook(root, relationObjectId, inhparent, rel);
	gtm_get_relation_info(root, relationObjectId, inhparent, rel);
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
enforce_stats_init(void)
{
	prev_get_relation_stats_hook = get_relation_stats_hook;
	get_relation_stats_hook = gtm_get_relation_stats;
	prev_get_index_stats_hook = get_index_stats_hook;
	get_index_stats_hook = gtm_get_index_stats;
	prev_get_relation_info_hook = get_relation_info_hook;
	get_relation_info_hook = prev_get_relation_info_hook ?
		gtm_get_relation_info_chained : gtm_get_relation_info;
}
