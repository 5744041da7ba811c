/*-------------------------------------------------------------------------
 *
 * custom_scan_probe.c
 *	  Test module: a Custom Scan that gtm_clarity's plan walk cannot see into.
 *
 * Loaded by the enforcement tests (LOAD 'custom_scan_probe' as superuser),
 * it replaces the paths of every table whose name starts with "probe_" by
 * a Custom Scan "CustomScanProbe" over the cheapest of them.  The node
 * returns its child's rows unchanged, so results stay correct; what it
 * stands for is a plan node of another extension, through which the tenant
 * check must fail closed.  Not installed by the extension itself.
 *
 * IDENTIFICATION
 *	  test/modules/custom_scan_probe/custom_scan_probe.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/extensible.h"
#include "optimizer/pathnode.h"
#include "optimizer/paths.h"
#include "utils/lsyscache.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;

static Plan *probe_plan(PlannerInfo *root, RelOptInfo *rel,
						struct CustomPath *best_path, List *tlist,
						List *clauses, List *custom_plans);
static Node *probe_create_state(CustomScan *cscan);
static void probe_begin(CustomScanState *node, EState *estate, int eflags);
static TupleTableSlot *probe_exec(CustomScanState *node);
static void probe_end(CustomScanState *node);
static void probe_rescan(CustomScanState *node);

static const CustomPathMethods path_methods = {
	.CustomName = "CustomScanProbe",
	.PlanCustomPath = probe_plan,
};
static const CustomScanMethods scan_methods = {
	.CustomName = "CustomScanProbe",
	.CreateCustomScanState = probe_create_state,
};
static const CustomExecMethods exec_methods = {
	.CustomName = "CustomScanProbe",
	.BeginCustomScan = probe_begin,
	.ExecCustomScan = probe_exec,
	.EndCustomScan = probe_end,
	.ReScanCustomScan = probe_rescan,
};

/* Replace the paths of a probe_ table by one Custom Scan over the cheapest. */
static void
probe_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					   RangeTblEntry *rte)
{
	CustomPath *cp;
	Path	   *child;
	char	   *relname;
	ListCell   *lc;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);
	if (rte->rtekind != RTE_RELATION || rel->reloptkind != RELOPT_BASEREL ||
		rel->pathlist == NIL || IS_DUMMY_REL(rel))
		return;
	relname = get_rel_name(rte->relid);
	if (relname == NULL || strncmp(relname, "probe_", 6) != 0)
		return;

	/* the cheapest unparameterized path (set_cheapest has not run yet) */
	child = NULL;
	foreach(lc, rel->pathlist)
	{
		Path	   *p = lfirst(lc);

		if (p->param_info == NULL && (child == NULL || p->total_cost < child->total_cost))
			child = p;
	}
	if (child == NULL)
		return;
	cp = makeNode(CustomPath);
	cp->path.pathtype = T_CustomScan;
	cp->path.parent = rel;
	cp->path.pathtarget = rel->reltarget;
	cp->path.param_info = child->param_info;
	cp->path.parallel_aware = false;
	cp->path.parallel_safe = false;
	cp->path.rows = child->rows;
	cp->path.startup_cost = 0;
	cp->path.total_cost = 0;
	cp->custom_paths = list_make1(child);
	cp->methods = &path_methods;
	rel->pathlist = list_make1(cp);
	rel->partial_pathlist = NIL;
}

static Plan *
probe_plan(PlannerInfo *root, RelOptInfo *rel, struct CustomPath *best_path,
		   List *tlist, List *clauses, List *custom_plans)
{
	CustomScan *cs = makeNode(CustomScan);

	/* the child applies the relation's quals itself */
	cs->scan.plan.targetlist = tlist;
	cs->scan.scanrelid = rel->relid;
	cs->custom_plans = custom_plans;
	cs->methods = &scan_methods;
	return &cs->scan.plan;
}

static Node *
probe_create_state(CustomScan *cscan)
{
	CustomScanState *css = palloc0(sizeof(CustomScanState));

	NodeSetTag(css, T_CustomScanState);
	css->methods = &exec_methods;
	return (Node *) css;
}

static void
probe_begin(CustomScanState *node, EState *estate, int eflags)
{
	CustomScan *cs = (CustomScan *) node->ss.ps.plan;

	node->custom_ps = list_make1(ExecInitNode(linitial(cs->custom_plans),
											  estate, eflags));
}

static TupleTableSlot *
probe_exec(CustomScanState *node)
{
	return ExecProcNode(linitial(node->custom_ps));
}

static void
probe_end(CustomScanState *node)
{
	ExecEndNode(linitial(node->custom_ps));
}

static void
probe_rescan(CustomScanState *node)
{
	ExecReScan(linitial(node->custom_ps));
}

void
_PG_init(void)
{
	RegisterCustomScanMethods(&scan_methods);
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = probe_set_rel_pathlist;
}
