/*-------------------------------------------------------------------------
 *
 * pg_compat.h
 *	  Differences between the PostgreSQL major versions gtm_clarity builds
 *	  against (15, 17 and 18; 16 falls between and is covered by the same
 *	  thresholds), in one place.  The rest of the code calls the names below
 *	  and never tests PG_VERSION_NUM itself.
 *
 * Include it after "postgres.h" and after the PostgreSQL headers whose
 * symbols it wraps (access/genam.h, nodes/primnodes.h, executor/executor.h,
 * catalog/pg_collation.h), e.g. from gtm_clarity.h.  Each block names the
 * PostgreSQL change it absorbs; doc/pg-versions-porting.md says where in
 * src/ each one is needed and why.
 *
 * IDENTIFICATION
 *	  include/pg_compat.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_PG_COMPAT_H
#define GTM_PG_COMPAT_H

#if PG_VERSION_NUM < 150000 || PG_VERSION_NUM >= 190000
#error "gtm_clarity supports PostgreSQL 15, 17 and 18"
#endif

/*
 * index_beginscan() gained an IndexScanInstrumentation * argument (4th) in
 * PostgreSQL 18 (commit 0fbceae84, "Show index search count in EXPLAIN
 * ANALYZE"; access/genam.h).  NULL means "no instrumentation", which is what
 * a scan outside EXPLAIN ANALYZE wants.
 */
#if PG_VERSION_NUM >= 180000
#define gtm_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), NULL, (nkeys), (norderbys))
#else
#define gtm_index_beginscan(heap, index, snapshot, nkeys, norderbys) \
	index_beginscan((heap), (index), (snapshot), (nkeys), (norderbys))
#endif

/*
 * POSIX_COLLATION_OID: PostgreSQL 18's pg_collation.dat no longer gives the
 * "POSIX" collation an oid_symbol, so catalog/pg_collation_d.h stops
 * defining the macro.  The collation itself is unchanged and keeps the
 * fixed OID 951 (pg_collation.dat).  Defined here only for 18, with the
 * same tokens as before, so the order of includes does not matter.
 */
#if PG_VERSION_NUM >= 180000 && !defined(POSIX_COLLATION_OID)
#define POSIX_COLLATION_OID 951
#endif

/*
 * MERGE actions: PostgreSQL 17 (commit 0294df2f1, "Add support for MERGE ...
 * WHEN NOT MATCHED BY SOURCE"; nodes/primnodes.h) replaced
 * MergeAction.matched (bool) with MergeAction.matchKind, which adds a third
 * kind: NOT MATCHED BY SOURCE, an UPDATE or DELETE of target rows that no
 * source row joins.  Before 17 that kind does not exist.
 */
#if PG_VERSION_NUM >= 170000
#define GTM_MERGE_MATCHED(action) \
	((action)->matchKind == MERGE_WHEN_MATCHED)
#define GTM_MERGE_NOT_MATCHED_BY_SOURCE(action) \
	((action)->matchKind == MERGE_WHEN_NOT_MATCHED_BY_SOURCE)
#define GTM_MERGE_NOT_MATCHED_BY_TARGET(action) \
	((action)->matchKind == MERGE_WHEN_NOT_MATCHED_BY_TARGET)
#else
#define GTM_MERGE_MATCHED(action)				((action)->matched)
#define GTM_MERGE_NOT_MATCHED_BY_SOURCE(action)	((void) (action), false)
#define GTM_MERGE_NOT_MATCHED_BY_TARGET(action)	(!(action)->matched)
#endif

/*
 * MERGE ... RETURNING (PostgreSQL 17, commit c649fa24a): Query.returningList
 * and ModifyTable.returningLists may now be set for CMD_MERGE, and the
 * merge_action() function may appear in them.
 */
#define GTM_HAS_MERGE_RETURNING (PG_VERSION_NUM >= 170000)


/*
 * RTE_GROUP (PostgreSQL 18, commit 247dea89f, "Introduce an RTE for the
 * grouping step"; nodes/parsenodes.h): a parse tree with GROUP BY has one
 * more range-table entry, and Vars above the grouping step point at it
 * until the planner flattens them (flatten_group_exprs).  Code that walks
 * a Query's rtable or resolves Vars before planning must skip it or, like
 * is_tenant_column() (enforce_freeze.c), follow such a Var to the grouped
 * expression: GTM_RTE_GROUPEXPRS(rte) is RTE_GROUP's groupexprs (varattno
 * N is its Nth member), NIL for any other entry and before 18.
 */
#if PG_VERSION_NUM >= 180000
#define GTM_RTE_IS_GROUP(rte)	((rte)->rtekind == RTE_GROUP)
#define GTM_RTE_GROUPEXPRS(rte) \
	((rte)->rtekind == RTE_GROUP ? (rte)->groupexprs : NIL)
#else
#define GTM_RTE_IS_GROUP(rte)	((void) (rte), false)
#define GTM_RTE_GROUPEXPRS(rte)	((void) (rte), (List *) NIL)
#endif

/*
 * RETURNING old / new (PostgreSQL 18, commit 80feb727c; nodes/primnodes.h):
 * a Var of the result relation in RETURNING may name the old row
 * (varreturningtype VAR_RETURNING_OLD) or the new one (VAR_RETURNING_NEW),
 * and a view's column that is no plain column comes back wrapped in a
 * ReturningExpr.  The old row of an INSERT (without a conflict) and the
 * new row of a DELETE do not exist: such a value is NULL.  Before 18 every
 * Var is VAR_RETURNING_DEFAULT and there is no ReturningExpr.
 */
#if PG_VERSION_NUM >= 180000
#define GTM_VAR_RETURNS_OLD(var)	((var)->varreturningtype == VAR_RETURNING_OLD)
#define GTM_VAR_RETURNS_NEW(var)	((var)->varreturningtype == VAR_RETURNING_NEW)
#define GTM_IS_RETURNING_EXPR(node)	IsA((node), ReturningExpr)
#else
#define GTM_VAR_RETURNS_OLD(var)	((void) (var), false)
#define GTM_VAR_RETURNS_NEW(var)	((void) (var), false)
#define GTM_IS_RETURNING_EXPR(node)	((void) (node), false)
#endif

/*
 * Virtual generated columns (PostgreSQL 18, commits 83ea6c540 and 1e4351af3;
 * catalog/pg_attribute.h ATTRIBUTE_GENERATED_VIRTUAL, the default kind of
 * GENERATED column from 18 on).  The planner replaces such a column by its
 * expression before set_rel_pathlist_hook, so a tenant column that is
 * virtual can never be pinned; compute_rel_facts() (relfacts.c) tells with
 * GTM_ATTGENERATED_IS_VIRTUAL(get_attgenerated(relid, attnum)), and every
 * reference to such a table is rejected with its own reason
 * (PR_VIRTUAL_GENERATED).  Always false before 18.
 */
#if PG_VERSION_NUM >= 180000
#define GTM_ATTGENERATED_IS_VIRTUAL(attgenerated) \
	((attgenerated) == ATTRIBUTE_GENERATED_VIRTUAL)
#else
#define GTM_ATTGENERATED_IS_VIRTUAL(attgenerated)	((void) (attgenerated), false)
#endif
#define GTM_ATTR_IS_VIRTUAL_GENERATED(att) \
	GTM_ATTGENERATED_IS_VIRTUAL((att)->attgenerated)

/*
 * ExecutorStart_hook: void in 15, 17 and 18.  PostgreSQL 18 development
 * briefly made it return bool (commit 525392d57, "Don't lock partitions
 * pruned by initial pruning": false meant "the cached plan went stale, replan
 * it"), but that was reverted before 18.0 (commit 1722d5eb0); 18.x
 * executor/executor.h declares
 *	typedef void (*ExecutorStart_hook_type) (QueryDesc *queryDesc, int eflags);
 * The names below keep one spelling in the hook should a later version
 * bring the bool back: write
 *	static GTM_EXECUTOR_START_RESULT
 *	gtm_ExecutorStart(QueryDesc *queryDesc, int eflags)
 *	{ ...; GTM_EXECUTOR_START_CALL(prev_ExecutorStart_hook, queryDesc, eflags); }
 */
#define GTM_EXECUTOR_START_RESULT void
#define GTM_EXECUTOR_START_CALL(prev, queryDesc, eflags) \
	do { \
		if (prev) \
			(prev) ((queryDesc), (eflags)); \
		else \
			standard_ExecutorStart((queryDesc), (eflags)); \
	} while (0)

/*
 * ExecutorRun_hook lost its "execute_once" argument in PostgreSQL 18 (commit
 * 3eea7a0c9; executor/executor.h).  gtm_ExecutorRun (enforce_executor.c) is
 * written with these names, so it compiles on every version:
 *	static void gtm_ExecutorRun(QueryDesc *qd, ScanDirection dir, uint64 count
 *								GTM_EXECUTOR_RUN_EXTRA_PARAM)
 *	{ ... standard_ExecutorRun(qd, dir, count GTM_EXECUTOR_RUN_EXTRA_ARG); }
 */
#if PG_VERSION_NUM >= 180000
#define GTM_EXECUTOR_RUN_EXTRA_PARAM
#define GTM_EXECUTOR_RUN_EXTRA_ARG
#define GTM_EXECUTOR_RUN_EXTRA_UNUSED
#else
#define GTM_EXECUTOR_RUN_EXTRA_PARAM	, bool execute_once
#define GTM_EXECUTOR_RUN_EXTRA_ARG		, execute_once
#define GTM_EXECUTOR_RUN_EXTRA_UNUSED	, false		/* where no run is made */
#endif

/*
 * ExecutorCheckPerms_hook (PostgreSQL 16, commit a61b1f748, RTEPermissionInfo):
 * (List *rangeTable, bool ereport) became (List *rangeTable, List
 * *rtePermInfos, bool ereport); RangeTblEntry lost requiredPerms,
 * checkAsUser, selectedCols, insertedCols and updatedCols, which moved to
 * RTEPermissionInfo (PlannedStmt.permInfos, Query.rteperminfos).  The range
 * table still lists the relations checked (RI_Initial_Check passes its two
 * RTE_RELATION entries on every version), which is all gtm_ExecutorCheckPerms
 * reads; the permission infos are only passed on to the previous hook:
 *	static bool gtm_ExecutorCheckPerms(List *rangeTable
 *									   GTM_CHECK_PERMS_EXTRA_PARAM, bool ereport)
 *	{ ... prev(rangeTable GTM_CHECK_PERMS_EXTRA_ARG, ereport) ... }
 */
#if PG_VERSION_NUM >= 160000
#define GTM_HAS_RTEPERMINFO 1
#define GTM_CHECK_PERMS_EXTRA_PARAM		, List *rtePermInfos
#define GTM_CHECK_PERMS_EXTRA_ARG		, rtePermInfos
#else
#define GTM_HAS_RTEPERMINFO 0
#define GTM_CHECK_PERMS_EXTRA_PARAM
#define GTM_CHECK_PERMS_EXTRA_ARG
#endif

/*
 * The storage manager names a relation's file by a RelFileLocator since
 * PostgreSQL 16 (was a RelFileNode; storage/relfilelocator.h), and
 * smgropen() takes a ProcNumber since 17 (was a BackendId;
 * storage/procnumber.h).  gtm_smgropen_permanent(spc, db, rel) opens
 * a permanent relation's file set; needs storage/smgr.h.
 */
#if PG_VERSION_NUM >= 170000
#define gtm_smgropen_permanent(spc, db, rel) \
	smgropen((RelFileLocator) {(spc), (db), (rel)}, INVALID_PROC_NUMBER)
#elif PG_VERSION_NUM >= 160000
#define gtm_smgropen_permanent(spc, db, rel) \
	smgropen((RelFileLocator) {(spc), (db), (rel)}, InvalidBackendId)
#else
#define gtm_smgropen_permanent(spc, db, rel) \
	smgropen((RelFileNode) {(spc), (db), (rel)}, InvalidBackendId)
#endif

/*
 * Module magic: PostgreSQL 18 adds PG_MODULE_MAGIC_EXT (commit 9324c8c58),
 * which records the library's name and version for pg_get_loaded_modules().
 * Use GTM_MODULE_MAGIC in place of PG_MODULE_MAGIC (src/init.c).  The
 * Makefile passes GTM_CLARITY_VERSION, the control file's default_version.
 * Needs fmgr.h included before this header.
 */
#ifndef GTM_CLARITY_VERSION
#define GTM_CLARITY_VERSION "unknown"
#endif
#ifdef PG_MODULE_MAGIC_EXT
#define GTM_MODULE_MAGIC \
	PG_MODULE_MAGIC_EXT(.name = "gtm_clarity", .version = GTM_CLARITY_VERSION)
#else
#define GTM_MODULE_MAGIC PG_MODULE_MAGIC
#endif

/*
 * The record of a GUC by name (utils/guc_tables.h): PostgreSQL 16 keeps
 * them in a hash table and exports find_option(); 15 has only the array
 * get_guc_variables() returns (sorted by name, but searched here by a
 * plain loop: called once, at load).  Only where the including file has
 * included utils/guc_tables.h.
 */
#ifdef GUC_TABLES_H				/* for the files that include utils/guc_tables.h */
#if PG_VERSION_NUM >= 160000
#define gtm_find_guc(name) find_option((name), false, true, ERROR)
#else
static inline struct config_generic *
gtm_find_guc(const char *name)
{
	struct config_generic **vars = get_guc_variables();
	int			n = GetNumConfigOptions();

	for (int i = 0; i < n; i++)
		if (strcmp(vars[i]->name, name) == 0)
			return vars[i];
	return NULL;
}
#endif
#endif							/* GUC_TABLES_H */

/*
 * PostgreSQL 18 keeps the equivalence members of child relations
 * (partitions, inheritance children, UNION ALL branches) out of
 * ec_members, in ec_childmembers, which an EquivalenceMemberIterator visits
 * for the child relids it is given (commit d69d45a5a, "Speedup child
 * EquivalenceMember lookup in planner"; nodes/pathnodes.h).  Before 18,
 * ec_members holds them all.  gtm_ec_members_setup/gtm_ec_members_next
 * visit a class's parent members and the child members of child_relids on
 * every version.  Only where the including file has included
 * optimizer/paths.h.
 */
#ifdef PATHS_H					/* for the files that include optimizer/paths.h */
#if PG_VERSION_NUM >= 180000
typedef EquivalenceMemberIterator GtmEcMemberIterator;
#define gtm_ec_members_setup(it, ec, child_relids) \
	setup_eclass_member_iterator((it), (ec), (child_relids))
#define gtm_ec_members_next(it) eclass_member_iterator_next(it)
#else
typedef struct GtmEcMemberIterator
{
	List	   *members;
	int			next;
} GtmEcMemberIterator;

static inline void
gtm_ec_members_setup(GtmEcMemberIterator *it, EquivalenceClass *ec,
					 Relids child_relids)
{
	(void) child_relids;		/* ec_members has the children's too */
	it->members = ec->ec_members;
	it->next = 0;
}

static inline EquivalenceMember *
gtm_ec_members_next(GtmEcMemberIterator *it)
{
	if (it->next >= list_length(it->members))
		return NULL;
	return (EquivalenceMember *) list_nth(it->members, it->next++);
}
#endif
#endif							/* PATHS_H */

#endif							/* GTM_PG_COMPAT_H */
