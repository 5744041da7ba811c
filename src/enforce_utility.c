/*-------------------------------------------------------------------------
 *
 * enforce_utility.c
 *	  The verdict on COPY, TRUNCATE and LOCK TABLE.
 *
 * Utility statements are not planned: judge_utility() decides from the
 * catalogs which tenant table a statement would reach, as PostgreSQL
 * itself would find it.
 *	COPY table		reaches every row of it (COPY (query) is planned, and
 *					judged as a query); COPY table FROM is allowed when the
 *					session has a tenant, every row checked against it
 *					(enforce_copy.c);
 *	TRUNCATE		the tables named, their descendants unless ONLY, and with
 *					CASCADE every table referencing them through foreign
 *					keys, to the closure (judge_truncate);
 *	LOCK TABLE		the tables named, their descendants unless ONLY, the
 *					tables of a view's query (judge_lock), in a mode stronger
 *					than the three an application's statements take
 *					(lock_mode_allowed);
 *	VACUUM, ANALYZE, CLUSTER, REINDEX, REFRESH MATERIALIZED VIEW
 *					of a tenant table the role does not own, which the
 *					MAINTAIN privilege allows, or of every table
 *					(judge_maintenance).
 * gtm_ProcessUtility (enforce_utility_hook.c) asks before the standard call
 * and, for TRUNCATE and LOCK TABLE, again after it
 * (check_utility_statement); gtm_check_statement (checker.c) reports the
 * verdict.  Also whether an EXPLAIN only plans (explain_is_plan_only).
 * Messages are enforce_report.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/relation.h"
#include "access/xact.h"
#include "catalog/heap.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "commands/defrem.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "rewrite/rewriteHandler.h"
#include "storage/lockdefs.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "parser/parse_func.h"
#include "enforce.h"
#include "gtm_clarity.h"

/* The first tenant table of relids that is not exempt, or InvalidOid. */
static Oid
first_tenant_table(List *relids)
{
	ListCell   *lc;

	foreach(lc, relids)
	{
		RelFacts   *f = rel_facts(lfirst_oid(lc));

		if (f->tenant && !f->exempt)
			return f->relid;
	}
	return InvalidOid;
}

/*
 * TRUNCATE empties the tables it names, their descendants unless ONLY,
 * and with CASCADE every table that references one of these through a
 * foreign key, to the closure (ExecuteTruncate, heap_truncate_find_FKs).
 * The first tenant table among them goes into v, with the table named
 * that reaches it.
 */
static bool
judge_truncate(TruncateStmt *stmt, UtilityVerdict *v)
{
	ListCell   *lc;

	v->what = "TRUNCATE";
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst(lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		List	   *rels;
		Oid			found;

		if (!OidIsValid(relid))
			continue;
		rels = rv->inh ? find_all_inheritors(relid, NoLock, NULL) :
			list_make1_oid(relid);
		v->named = relid;
		v->cascaded = false;
		if (OidIsValid(found = first_tenant_table(rels)))
		{
			v->relid = found;
			return true;
		}
		if (stmt->behavior != DROP_CASCADE)
			continue;
		for (;;)
		{
			List	   *more = heap_truncate_find_FKs(rels);
			List	   *added = NIL;
			ListCell   *lc2;

			foreach(lc2, more)
				if (!list_member_oid(rels, lfirst_oid(lc2)))
					added = lappend_oid(added, lfirst_oid(lc2));
			if (added == NIL)
				break;
			v->cascaded = true;
			if (OidIsValid(found = first_tenant_table(added)))
			{
				v->relid = found;
				return true;
			}
			rels = list_concat(rels, added);
		}
	}
	return false;
}

/*
 * The lock modes a role that is not exempt may take on a tenant table with
 * LOCK TABLE: those PostgreSQL's own SELECT, SELECT ... FOR UPDATE/SHARE
 * and INSERT/UPDATE/DELETE take, which conflict with none of each other,
 * so no tenant's lock waits for another's statements.  Every stronger mode
 * conflicts with itself (SHARE UPDATE EXCLUSIVE) or with the writes of
 * every tenant (SHARE and above).  README, "LOCK TABLE".
 */
bool
lock_mode_allowed(int lockmode)
{
	return lockmode == AccessShareLock || lockmode == RowShareLock ||
		lockmode == RowExclusiveLock;
}

typedef struct LockReach
{
	List	   *relids;			/* tables and views reached */
} LockReach;

static void lock_reach(Oid relid, bool inh, LockReach *r);

/* The relations of a view's query, as LockViewRecurse_walker finds them. */
static bool
lock_reach_walker(Node *node, LockReach *r)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		foreach(lc, q->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			/* LockViewRecurse_walker locks tables and views only */
			if (rte->rtekind == RTE_RELATION &&
				(rte->relkind == RELKIND_RELATION ||
				 rte->relkind == RELKIND_PARTITIONED_TABLE ||
				 rte->relkind == RELKIND_VIEW))
				lock_reach(rte->relid, rte->inh, r);
		}
		return query_tree_walker(q, lock_reach_walker, r,
								 QTW_IGNORE_JOINALIASES);
	}
	return expression_tree_walker(node, lock_reach_walker, r);
}

/*
 * What LOCK TABLE locks for one relation (LockTableCommand): the relation,
 * its descendants unless ONLY, and for a view the relations of its query,
 * recursively.  A relation reached twice (a view's OLD and NEW entries, a
 * view on itself) is passed over.
 */
static void
lock_reach(Oid relid, bool inh, LockReach *r)
{
	ListCell   *lc;

	if (list_member_oid(r->relids, relid))
		return;
	r->relids = lappend_oid(r->relids, relid);
	if (get_rel_relkind(relid) == RELKIND_VIEW)
	{
		/*
		 * The view is read under ACCESS SHARE, kept to the end of the
		 * transaction: the LOCK TABLE locks it anyway unless rejected.
		 */
		Relation	view = relation_open(relid, AccessShareLock);
		Query	   *q = copyObject(get_view_query(view));

		relation_close(view, NoLock);
		(void) lock_reach_walker((Node *) q, r);
	}
	else if (inh)
	{
		foreach(lc, find_all_inheritors(relid, NoLock, NULL))
			if (!list_member_oid(r->relids, lfirst_oid(lc)))
				r->relids = lappend_oid(r->relids, lfirst_oid(lc));
	}
}

/* LOCK TABLE in a mode not allowed on a tenant table it reaches. */
static bool
judge_lock(LockStmt *stmt, UtilityVerdict *v)
{
	ListCell   *lc;

	v->what = "LOCK TABLE";
	v->lockmode = stmt->mode;
	if (lock_mode_allowed(stmt->mode))
		return false;
	foreach(lc, stmt->relations)
	{
		RangeVar   *rv = lfirst(lc);
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);
		LockReach	r = {NIL};

		if (!OidIsValid(relid))
			continue;
		lock_reach(relid, rv->inh, &r);
		v->named = relid;
		if (OidIsValid(v->relid = first_tenant_table(r.relids)))
			return true;
	}
	return false;
}

/*
 * relid, or, for an index, its table, and their partitions: the first that
 * is a tenant table (not exempt, not temporary) whose owner the current
 * role does not act as, into v.
 */
static bool
maintained_tenant_table(Oid relid, UtilityVerdict *v)
{
	ListCell   *lc;
	char		kind = get_rel_relkind(relid);

	if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
		relid = IndexGetRelation(relid, true);
	if (!OidIsValid(relid) || get_rel_relkind(relid) == '\0')
		return false;
	foreach(lc, find_all_inheritors(relid, NoLock, NULL))
	{
		Oid			oid = lfirst_oid(lc);
		RelFacts   *f = rel_facts(oid);

		if (!f->tenant || f->exempt || get_rel_persistence(oid) == RELPERSISTENCE_TEMP)
			continue;
		if (role_owns_relation(oid))
			continue;
		v->named = relid;
		v->relid = oid;
		return true;
	}
	return false;
}

/*
 * VACUUM, ANALYZE, CLUSTER, REINDEX and REFRESH MATERIALIZED VIEW of a
 * tenant table that the role does not own, which PostgreSQL 17's MAINTAIN
 * privilege (or pg_maintain) allows: each takes a lock that other
 * tenants' statements wait for (ACCESS EXCLUSIVE for VACUUM FULL, CLUSTER
 * and REFRESH; SHARE for REINDEX; SHARE UPDATE EXCLUSIVE, held to the end
 * of the transaction, for ANALYZE), as LOCK TABLE in those modes would,
 * and REFRESH ... WITH NO DATA empties a materialized view of every tenant
 * (round ES).  Refused to roles that are not exempt, as TRUNCATE and LOCK
 * TABLE are.  The role's own tables (temporary ones, a materialized view
 * of its own, which a REFRESH recomputes by a query judged as any) are its
 * business.  The forms that name no table are refused too: they process
 * every table the role may maintain, which is every table of the database
 * for its owner (round ET: an application role owning its database ran
 * VACUUM FULL of every tenant table, and BEGIN; ANALYZE; held them all),
 * every table of a schema for its owner (REINDEX SCHEMA), and where
 * MAINTAIN exists the tables it was granted on.  Judged before the
 * statement and again once it holds its locks (gtm_ProcessUtility).
 */
static bool
judge_maintenance(Node *parsetree, UtilityVerdict *v)
{
	ListCell   *lc;
	RangeVar   *rv = NULL;
	bool		whole = false;

	v->maintenance = true;
	if (IsA(parsetree, VacuumStmt))
	{
		VacuumStmt *vs = (VacuumStmt *) parsetree;

		bool		own_xacts = vs->is_vacuumcmd || !IsInTransactionBlock(true);

		v->what = vs->is_vacuumcmd ? "VACUUM" : "ANALYZE";
		foreach(lc, vs->rels)
		{
			VacuumRelation *vr = lfirst_node(VacuumRelation, lc);
			Oid			relid = OidIsValid(vr->oid) ? vr->oid :
				(vr->relation ? RangeVarGetRelid(vr->relation, NoLock, true) : InvalidOid);

			if (OidIsValid(relid) && maintained_tenant_table(relid, v))
				return true;

			/*
			 * A VACUUM, or an ANALYZE outside a transaction block, commits
			 * each table on its own: judged again once it holds its lock
			 * would be too late, and a table that took the name while it
			 * waited was processed (round EV: VACUUM FULL of a tenant table
			 * by the owner of its database).  Only the role's temporary
			 * tables, whose names no other session can take, are its.
			 */
			if (own_xacts && OidIsValid(relid) &&
				get_rel_persistence(relid) != RELPERSISTENCE_TEMP)
			{
				v->named = v->relid = relid;
				v->commits_alone = true;
				return true;
			}
		}
		whole = vs->rels == NIL;
	}
	else if (IsA(parsetree, ClusterStmt))
	{
		v->what = "CLUSTER";
		rv = ((ClusterStmt *) parsetree)->relation;
		whole = rv == NULL;
	}
	else if (IsA(parsetree, ReindexStmt))
	{
		ReindexStmt *rs = (ReindexStmt *) parsetree;

		v->what = "REINDEX";
		if (rs->kind == REINDEX_OBJECT_INDEX || rs->kind == REINDEX_OBJECT_TABLE)
			rv = rs->relation;
		else
			whole = true;
		foreach(lc, rs->params)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			/*
			 * REINDEX ... CONCURRENTLY commits on its own too (above), and so
			 * does REINDEX of a partitioned table or index, partition by
			 * partition (round EW: a partition of another owner attached
			 * while it waited was reindexed before the second check)
			 */
			if (strcmp(opt->defname, "concurrently") == 0 && defGetBoolean(opt) &&
				rv != NULL)
			{
				Oid			relid = RangeVarGetRelid(rv, NoLock, true);

				if (OidIsValid(relid) && get_rel_persistence(relid) != RELPERSISTENCE_TEMP)
				{
					v->named = v->relid = relid;
					v->commits_alone = true;
					return true;
				}
			}
		}
		if (rv != NULL)
		{
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);
			char		kind = get_rel_relkind(relid);

			if ((kind == RELKIND_PARTITIONED_TABLE || kind == RELKIND_PARTITIONED_INDEX) &&
				get_rel_persistence(relid) != RELPERSISTENCE_TEMP &&
				rel_facts(kind == RELKIND_PARTITIONED_INDEX ?
						  IndexGetRelation(relid, false) : relid)->tenant)
			{
				v->named = v->relid = relid;
				v->commits_alone = true;
				return true;
			}
		}
	}
	else if (IsA(parsetree, RefreshMatViewStmt))
	{
		v->what = "REFRESH MATERIALIZED VIEW";
		rv = ((RefreshMatViewStmt *) parsetree)->relation;
	}
	else
		return false;

	if (rv != NULL)
	{
		Oid			relid = RangeVarGetRelid(rv, NoLock, true);

		return OidIsValid(relid) && maintained_tenant_table(relid, v);
	}
	if (whole)
	{
		v->whole_database = true;
		return true;
	}
	return false;
}

/*
 * The verdict on a COPY, TRUNCATE or LOCK TABLE: true, with v filled in,
 * when it would reach a tenant table; used by gtm_ProcessUtility (before
 * and after the standard call) and by the checker.  COPY table reaches
 * every row of it (COPY (query) is judged by the planner); TRUNCATE see
 * judge_truncate; LOCK TABLE see lock_mode_allowed.
 */
bool
judge_utility(Node *parsetree, UtilityVerdict *v)
{
	memset(v, 0, sizeof(*v));
	if (IsA(parsetree, CopyStmt))
	{
		CopyStmt   *cs = (CopyStmt *) parsetree;

		CopyRefusal why;

		v->what = "COPY";
		if (cs->relation == NULL)
			return false;		/* COPY (query): the planner checks it */
		v->copy_from = cs->is_from;
		v->named = RangeVarGetRelid(cs->relation, NoLock, true);
		if (OidIsValid(v->named))
			v->relid = first_tenant_table(list_make1_oid(v->named));
		if (!OidIsValid(v->relid))
			return false;
		/* COPY FROM with the session's tenant: every row checked */
		if (cs->is_from)
		{
			v->copy_checked = copy_from_allowed(v->relid, &why);
			v->copy_refusal = why;
		}
		return !v->copy_checked;
	}
	if (IsA(parsetree, TruncateStmt))
		return judge_truncate((TruncateStmt *) parsetree, v);
	if (IsA(parsetree, LockStmt))
		return judge_lock((LockStmt *) parsetree, v);
	return judge_maintenance(parsetree, v);
}

/*
 * A plain EXPLAIN executes nothing: its verdicts are shown as warnings.
 * Not for EXPLAIN ANALYZE, nor for EXPLAIN EXECUTE, whose plan goes into
 * the plan cache.
 */
/*
 * Does the EXPLAIN measure what runs while it runs: ANALYZE, or BUFFERS or
 * MEMORY, which count the buffers and memory of the planning too (a
 * function the planner folds or calls to estimate, and the statements it
 * runs)?  Statements on tenant tables run meanwhile are then refused to a
 * role that is not exempt (explain_analyze_depth, enforce_runtime.c).
 */
bool
explain_measures(ExplainStmt *es)
{
	ListCell   *lc;

	foreach(lc, es->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if ((strcmp(opt->defname, "analyze") == 0 ||
			 strcmp(opt->defname, "buffers") == 0 ||
			 strcmp(opt->defname, "memory") == 0) && defGetBoolean(opt))
			return true;
	}
	return false;
}

/* Does the EXPLAIN execute its statement (ANALYZE)? */
bool
explain_analyzes(ExplainStmt *es)
{
	bool		analyze = false;
	ListCell   *lc;

	foreach(lc, es->options)
	{
		DefElem    *opt = lfirst_node(DefElem, lc);

		if (strcmp(opt->defname, "analyze") == 0)
			analyze = defGetBoolean(opt);
	}
	return analyze;
}

bool
explain_is_plan_only(ExplainStmt *es)
{
	Query	   *q = (Query *) es->query;
	bool		analyze = explain_analyzes(es);

	/*
	 * Only a query planned for the EXPLAIN itself: not a utility statement
	 * (EXECUTE, CREATE TABLE AS EXECUTE ...), whose next planner call may be
	 * a plan that is cached, or a function that runs.
	 */
	return !analyze && IsA(q, Query) && q->commandType != CMD_UTILITY;
}

/*
 * Triggers or partitions of a tenant table changed while a statement runs
 * (a function the statement calls, as an ordinary role): the statement was
 * judged on the table's triggers as they were when it was planned (a
 * BEFORE trigger may change the tenant a row is written with, so what the
 * statement's RETURNING, ON CONFLICT or data-modifying CTE says of it is
 * trusted only without one), and PostgreSQL reads a partition's triggers
 * when the first row is routed to it, after that function ran: a trigger
 * created then rewrote the rows' tenant behind the values judged (round
 * BF).  Refused: CREATE TRIGGER, ALTER TABLE ... ENABLE TRIGGER, ATTACH
 * PARTITION and CREATE TABLE ... PARTITION OF on a tenant table, inside a
 * running statement.
 */
static void
refuse_trigger_change_in_statement(Node *parsetree)
{
	RangeVar   *rv = NULL;
	Oid			relid;

	if (IsA(parsetree, CreateTrigStmt))
	{
		CreateTrigStmt *ct = (CreateTrigStmt *) parsetree;
		Oid			fn = LookupFuncName(ct->funcname, 0, NULL, true);

		/* the extension's own updated_at trigger changes no tenant */
		if (OidIsValid(fn) && is_our_c_function(fn, "gtm_touch_updated_at"))
			return;
		rv = ct->relation;
	}
	else if (IsA(parsetree, CreateStmt) && ((CreateStmt *) parsetree)->partbound != NULL &&
			 list_length(((CreateStmt *) parsetree)->inhRelations) == 1)
	{
		/* a new partition: a routing target after the start's check (round BI) */
		rv = linitial_node(RangeVar, ((CreateStmt *) parsetree)->inhRelations);
	}
	else if (IsA(parsetree, AlterTableStmt))
	{
		ListCell   *lc;

		foreach(lc, ((AlterTableStmt *) parsetree)->cmds)
		{
			AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

			if (cmd->subtype == AT_EnableTrig || cmd->subtype == AT_EnableAlwaysTrig ||
				cmd->subtype == AT_EnableReplicaTrig || cmd->subtype == AT_EnableTrigAll ||
				cmd->subtype == AT_EnableTrigUser || cmd->subtype == AT_AttachPartition)
				rv = ((AlterTableStmt *) parsetree)->relation;
		}
	}
	if (rv == NULL || role_is_exempt() || !gtm_installed_here())
		return;
	relid = RangeVarGetRelid(rv, NoLock, true);
	if (!OidIsValid(relid))
		return;
	if (!rel_facts(relid)->tenant)
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("triggers and partitions of table \"%s\" cannot change while a statement runs",
					rv->relname),
			 errdetail("The running statement was judged on the table's triggers as they were when it was planned."),
			 errhint("Create triggers and attach partitions in a statement of their own.")));
}

/*
 * ProcessUtility_hook (enforce_utility_hook.c): judge a COPY, TRUNCATE or
 * LOCK TABLE (judge_utility) and raise or warn.
 * Called before the standard call, so that a rejected statement takes no
 * lock, and for TRUNCATE and LOCK TABLE again after it, when the locks it
 * holds keep the foreign keys, inheritance and views it reached from
 * changing (a change committed in between could have widened its reach;
 * raising then rolls it back).
 */
bool
check_utility_statement(Node *parsetree)
{
	UtilityVerdict v;

	/*
	 * A foreign table of the role's own over a tenant table of a foreign
	 * server (its tenant column renamed or left out) would be no tenant
	 * table here: the server's rows of every tenant, read and written
	 * through it.  Foreign tables are the DBA's to create.
	 */
	if (unlikely(IsA(parsetree, CreateForeignTableStmt) ||
				 IsA(parsetree, ImportForeignSchemaStmt)) &&
		gtm_enforcement != GTM_ENFORCE_OFF && !role_is_exempt() &&
		gtm_installed_here())
	{
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("creating foreign tables is not allowed for this role"),
				 errdetail("A foreign table of its own could read and write another server's rows of every tenant without a tenant column here."),
				 errhint("Create foreign tables as the schema owner, and do not grant USAGE on foreign servers to application roles.")));
		return true;
	}

	if (unlikely(executor_nesting > 0) && gtm_enforcement != GTM_ENFORCE_OFF)
		refuse_trigger_change_in_statement(parsetree);
	refuse_owner_ddl(parsetree);	/* enforce_depended.c */

	if (gtm_enforcement != GTM_ENFORCE_OFF &&
		(IsA(parsetree, CopyStmt) || IsA(parsetree, TruncateStmt) ||
		 IsA(parsetree, LockStmt) || IsA(parsetree, VacuumStmt) ||
		 IsA(parsetree, ClusterStmt) || IsA(parsetree, ReindexStmt) ||
		 IsA(parsetree, RefreshMatViewStmt)) &&
		!role_is_exempt() && gtm_installed_here() &&
		judge_utility(parsetree, &v))
	{
		report_utility_verdict(&v, ENFORCE_ELEVEL());
		return true;			/* warned */
	}
	return false;
}
