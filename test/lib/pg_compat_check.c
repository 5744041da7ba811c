/*
 * test/lib/pg_compat_check.c -- uses every macro of include/pg_compat.h, so
 * that "make check-compat" (run by test/lib/version_suite.sh on each
 * PostgreSQL version) proves the header compiles with this server's flags
 * and -Werror.  Never linked into the extension.
 */
#include "postgres.h"

#include "access/genam.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_collation.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "nodes/parsenodes.h"
#include "nodes/primnodes.h"
#include "optimizer/paths.h"

#include "pg_compat.h"

GTM_MODULE_MAGIC;

extern IndexScanDesc gtm_compat_beginscan(Relation heap, Relation index, Snapshot snap);
extern bool gtm_compat_merge(MergeAction *action);
extern bool gtm_compat_rte(RangeTblEntry *rte);
extern int	gtm_compat_ec_members(EquivalenceClass *ec, Relids child_relids);
extern bool gtm_compat_collation(Oid collid);
extern bool gtm_compat_attr(Form_pg_attribute att);
extern bool gtm_compat_attgenerated(char attgenerated);
extern bool gtm_compat_returning(Var *var, Node *node);
extern bool gtm_compat_ExecutorCheckPerms(List *rangeTable GTM_CHECK_PERMS_EXTRA_PARAM,
										  bool ereport_on_violation);
extern GTM_EXECUTOR_START_RESULT gtm_compat_ExecutorStart(QueryDesc *queryDesc, int eflags);
extern void gtm_compat_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
								   uint64 count GTM_EXECUTOR_RUN_EXTRA_PARAM);

IndexScanDesc
gtm_compat_beginscan(Relation heap, Relation index, Snapshot snap)
{
	return gtm_index_beginscan(heap, index, snap, 1, 0);
}

bool
gtm_compat_merge(MergeAction *action)
{
	return GTM_MERGE_MATCHED(action) || GTM_MERGE_NOT_MATCHED_BY_SOURCE(action) ||
		GTM_MERGE_NOT_MATCHED_BY_TARGET(action) || GTM_HAS_MERGE_RETURNING ||
		GTM_HAS_RTEPERMINFO;
}

int
gtm_compat_ec_members(EquivalenceClass *ec, Relids child_relids)
{
	GtmEcMemberIterator it;
	int			n = 0;

	gtm_ec_members_setup(&it, ec, child_relids);
	while (gtm_ec_members_next(&it) != NULL)
		n++;
	return n;
}

bool
gtm_compat_rte(RangeTblEntry *rte)
{
	return GTM_RTE_IS_GROUP(rte) && GTM_RTE_GROUPEXPRS(rte) != NIL;
}

bool
gtm_compat_collation(Oid collid)
{
	return collid == C_COLLATION_OID || collid == POSIX_COLLATION_OID;
}

bool
gtm_compat_attr(Form_pg_attribute att)
{
	return GTM_ATTR_IS_VIRTUAL_GENERATED(att);
}

bool
gtm_compat_attgenerated(char attgenerated)
{
	return GTM_ATTGENERATED_IS_VIRTUAL(attgenerated);
}

bool
gtm_compat_returning(Var *var, Node *node)
{
	return GTM_VAR_RETURNS_OLD(var) || GTM_VAR_RETURNS_NEW(var) ||
		GTM_IS_RETURNING_EXPR(node);
}

static ExecutorStart_hook_type prev_start = NULL;
static ExecutorCheckPerms_hook_type prev_check_perms = NULL;

bool
gtm_compat_ExecutorCheckPerms(List *rangeTable GTM_CHECK_PERMS_EXTRA_PARAM,
							  bool ereport_on_violation)
{
	return prev_check_perms == NULL ||
		prev_check_perms(rangeTable GTM_CHECK_PERMS_EXTRA_ARG, ereport_on_violation);
}

GTM_EXECUTOR_START_RESULT
gtm_compat_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	GTM_EXECUTOR_START_CALL(prev_start, queryDesc, eflags);
}

void
gtm_compat_ExecutorRun(QueryDesc *queryDesc, ScanDirection direction,
					   uint64 count GTM_EXECUTOR_RUN_EXTRA_PARAM)
{
	standard_ExecutorRun(queryDesc, direction, count GTM_EXECUTOR_RUN_EXTRA_ARG);
}
