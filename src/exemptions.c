/*-------------------------------------------------------------------------
 *
 * exemptions.c
 *	  What tenant-scope enforcement does not check, and why.
 *
 * Exempt, as from row-level security:
 *	- superusers and roles with BYPASSRLS (role_is_exempt; the answer for the
 *	  last role asked is kept until pg_authid changes); a statement of
 *	  theirs that reaches objects of a role the check applies to (its
 *	  views, its temporary objects, its functions in pg_temp) is refused
 *	  (statement_is_exempt, exempt_callers.c), and so is a call of such a
 *	  function as an exempt role (enforce_planning.c's function manager
 *	  hook).
 * Exempt because they are PostgreSQL's own queries, which only relate rows
 * the statement reached to rows of the same constraint or view; each is
 * recognised as the query itself, never as a context, so that user code
 * running inside it (a trigger, a DEFAULT, a CHECK constraint, a function
 * the query calls) is checked like any statement:
 *	- the queries of ri_triggers.c that check and enforce foreign keys row
 *	  by row (is_ri_query);
 *	- the check of ALTER TABLE ... DETACH PARTITION that no row references
 *	  the partition (is_detach_check);
 *	- the comparison queries of REFRESH MATERIALIZED VIEW CONCURRENTLY (its
 *	  definition query is checked; is_refresh_internal).
 * The check of existing rows when ALTER TABLE adds or validates a foreign
 * key (RI_Initial_Check) is not exempt: fk_initial_check_allowed makes
 * PostgreSQL validate row by row instead, through the exempt queries of
 * ri_triggers.c, as it does when row-level security is enabled.
 * And tables recorded in the extension's table tenant_scope_exemptions by
 * gtm_exempt_table() (exemptions_table.c).
 *
 * statement_is_exempt() is the one decision the planner hook asks before
 * planning: a statement it exempts is not analysed at all.
 *
 * IDENTIFICATION
 *	  src/exemptions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"


/*
 * The role whose exemption was computed last, and the answer; reset by a
 * pg_authid invalidation (a role gains or loses SUPERUSER or BYPASSRLS),
 * which also counts in exempt_cache_invals: an answer during whose lookup
 * one arrived is used once, not kept.
 */
static Oid	exempt_cache_role GTM_HOT_DATA = InvalidOid;
static bool exempt_cache_value GTM_HOT_DATA = false;
static uint64 exempt_cache_invals GTM_HOT_DATA = 0;

static void
exempt_cache_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	exempt_cache_role = InvalidOid;
	exempt_cache_invals++;
}

/*
 * Exempt like row-level security: superuser, BYPASSRLS.  Only the role:
 * inside a foreign-key action (InNoForceRLSOperation) the role is the
 * table owner's, and what runs there is judged by statement_is_exempt.
 */
bool
role_is_exempt(void)
{
	Oid			role = GetUserId();

	if (role != exempt_cache_role)
	{
		uint64		invals = exempt_cache_invals;
		bool		exempt = superuser_arg(role) || has_bypassrls_privilege(role);

		exempt_cache_value = exempt;
		exempt_cache_role = invals == exempt_cache_invals ? role : InvalidOid;
		return exempt;
	}
	return exempt_cache_value;
}

/*
 * Is the current role known to be exempt (no catalog access: for hooks
 * that may not read the catalogs)?  False when unknown: an invalidation
 * in the middle of a statement (the role's own CREATE OR REPLACE of a
 * function, ALTER ROLE) must not make a role that is not exempt look
 * exempt.
 */
bool
role_exempt_if_known(void)
{
	return GetUserId() == exempt_cache_role && exempt_cache_value;
}

/* Has the relation rules (its queries are rewritten)? */
static bool
relation_has_rules(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	bool		result;

	if (!HeapTupleIsValid(tup))
		return true;			/* gone: not the query we know */
	result = ((Form_pg_class) GETSTRUCT(tup))->relhasrules;
	ReleaseSysCache(tup);
	return result;
}

/*
 * Is the query one statement as written, not a product or a rewrite of a
 * rule, without subqueries, CTEs or set operations?  The internal queries
 * below are all of this form.
 */
static bool
is_plain_original(Query *parse)
{
	return parse->querySource == QSRC_ORIGINAL && parse->canSetTag &&
		parse->utilityStmt == NULL && !parse->hasSubLinks &&
		parse->cteList == NIL && parse->setOperations == NULL &&
		!parse->hasModifyingCTE;
}

/*
 * A query of ri_triggers.c checking or enforcing a foreign key for one row
 * (ri_PlanCheck, ri_PerformCheck):
 *	SELECT 1 FROM [ONLY] pk x WHERE ... FOR KEY SHARE OF x
 *	SELECT 1 FROM [ONLY] fk x WHERE ... FOR KEY SHARE OF x
 *	DELETE FROM [ONLY] fk WHERE ...
 *	UPDATE [ONLY] fk SET ... WHERE ...
 *
 * Three facts together, none of which user code can bring about:
 *	- SECURITY_NOFORCE_RLS is set: only ri_triggers.c sets it, around the
 *	  planning and execution of these queries, and it stays set for all
 *	  they run (nothing can clear it);
 *	- noforce_depth is 0: no planner call or executor run was entered
 *	  while it was set.  The triggers, DEFAULT expressions, CHECK
 *	  constraints, generated columns and index expressions of the rows a
 *	  cascade changes run inside the executor run of its query, and the
 *	  functions folded while planning it inside that planner call, so all
 *	  they plan sees noforce_depth > 0 and is checked.  (Its ExecutorStart
 *	  runs no user code: the query has no stable expression to prune
 *	  with.  Its AFTER triggers are queued for the statement that fired
 *	  the cascade and run there, once SECURITY_NOFORCE_RLS is cleared.);
 *	- the query is the plain statement ri_triggers.c wrote: one relation,
 *	  without rules (which would rewrite it into the rule's actions or add
 *	  the rule's condition) and without row-level security quals.
 * A foreign-key query fired by a statement that user code runs inside a
 * cascade sees noforce_depth > 0 and is checked like that statement.
 */
static bool
is_ri_query(Query *parse)
{
	RangeTblEntry *rte;

	if (!InNoForceRLSOperation() || noforce_depth > 0)
		return false;
	if (parse->commandType != CMD_SELECT && parse->commandType != CMD_UPDATE &&
		parse->commandType != CMD_DELETE)
		return false;
	if (!is_plain_original(parse) || list_length(parse->rtable) != 1)
		return false;
	rte = linitial_node(RangeTblEntry, parse->rtable);
	if (rte->rtekind != RTE_RELATION || rte->securityQuals != NIL)
		return false;
	return !relation_has_rules(rte->relid);
}

/* Has fkrelid a foreign key referencing pkrelid?  (Both locked.) */
static bool
references(Oid fkrelid, Oid pkrelid)
{
	Relation	rel = relation_open(fkrelid, NoLock);
	ListCell   *lc;
	bool		found = false;

	foreach(lc, RelationGetFKeyList(rel))
	{
		ForeignKeyCacheInfo *fk = lfirst_node(ForeignKeyCacheInfo, lc);

		if (fk->confrelid == pkrelid)
		{
			found = true;
			break;
		}
	}
	relation_close(rel, NoLock);
	return found;
}

/*
 * The query RI_PartitionRemove_Check builds while ALTER TABLE ... DETACH
 * PARTITION runs, one per foreign key referencing the partition:
 *	SELECT fk.cols FROM [ONLY] fk_table fk JOIN partition pk ON ...
 *	 WHERE (partition constraint) AND ...
 * Planned by the DETACH itself, at its level (a query planned inside
 * another query's planner or executor is deeper), a plain statement whose
 * two relations are the partition detached, as "pk", and a table with a
 * foreign key referencing it, as "fk".
 */
static bool
is_detach_check(Query *parse)
{
	ListCell   *lc;
	Oid			fk = InvalidOid;
	Oid			pk = InvalidOid;

	if (!OidIsValid(detach_partition) || NESTING_LEVEL() != detach_level ||
		parse->commandType != CMD_SELECT || !is_plain_original(parse))
		return false;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION || rte->alias == NULL)
			return false;
		if (strcmp(rte->alias->aliasname, "fk") == 0 && !OidIsValid(fk))
			fk = rte->relid;
		else if (strcmp(rte->alias->aliasname, "pk") == 0 && !OidIsValid(pk))
			pk = rte->relid;
		else
			return false;
	}
	return OidIsValid(fk) && pk == detach_partition && references(fk, pk);
}

/* What the relations of a REFRESH comparison query may be */
typedef struct RefreshRels
{
	Oid			diff;			/* the "diff" table, once created */
	int			internal;		/* references to the two temp tables */
	bool		other;			/* anything else */
} RefreshRels;

/*
 * Sort the relations a query names, at every level, into the REFRESH's
 * own temporary tables and anything else.
 */
static bool
refresh_rels_walker(Node *node, RefreshRels *r)
{
	if (node == NULL)
		return false;
	if (IsA(node, RangeTblEntry))
	{
		RangeTblEntry *rte = (RangeTblEntry *) node;

		if (rte->rtekind == RTE_RELATION)
		{
			if (rte->relid == refresh_transient ||
				(OidIsValid(r->diff) && rte->relid == r->diff))
				r->internal++;
			else if (rte->relid != refresh_matview)
				r->other = true;
		}
		else if (rte->rtekind != RTE_JOIN && rte->rtekind != RTE_SUBQUERY)
			r->other = true;	/* a subquery's own RTEs are walked too */
		return false;
	}
	if (IsA(node, Query))
		return query_tree_walker((Query *) node, refresh_rels_walker, r,
								 QTW_EXAMINE_RTES_BEFORE);
	return expression_tree_walker(node, refresh_rels_walker, r);
}

/*
 * The queries refresh_by_match_merge() (matview.c) runs once the new
 * contents are in the transient table pg_temp_<matview oid>: the check for
 * duplicate rows, the INSERT into the "diff" table pg_temp_<oid>_2 from
 * the old contents FULL JOIN the new, and the DELETE and INSERT that apply
 * the difference to the materialized view.  Recognised by:
 *	- the phase: after gtm_ProcessUtility saw, at the level of the REFRESH,
 *	  the ANALYZE of the transient table that begins the comparison (the
 *	  definition query and all it runs come before);
 *	- the level: planned by the REFRESH itself, not inside a query's
 *	  planner or executor (where index expressions of the materialized
 *	  view and functions run) nor inside another utility statement (where
 *	  event triggers run);
 *	- the relations: only the materialized view and the two temp tables,
 *	  at least one of which.  User code cannot create them: the REFRESH
 *	  runs as a security-restricted operation, where temp tables cannot be
 *	  created, and the names would collide with the REFRESH's own.
 */
static bool
is_refresh_internal(Query *parse, RefreshPhase phase)
{
	RefreshRels r;
	char	   *diffname;

	if (phase != REFRESH_COMPARING || NESTING_LEVEL() != refresh_level ||
		!OidIsValid(refresh_transient) || parse->utilityStmt != NULL)
		return false;
	diffname = psprintf("pg_temp_%u_2", refresh_matview);
	r.diff = get_relname_relid(diffname, get_rel_namespace(refresh_transient));
	r.internal = 0;
	r.other = false;
	(void) query_tree_walker(parse, refresh_rels_walker, &r,
							 QTW_EXAMINE_RTES_BEFORE);
	return !r.other && r.internal > 0;
}

/*
 * Called by gtm_ProcessUtility for every utility statement, before its
 * own frame: is it the ANALYZE of the transient table with which
 * refresh_by_match_merge() starts comparing, run by the REFRESH itself?
 * Returns the transient table, or InvalidOid.
 */
Oid
refresh_transient_analyzed(Node *parsetree)
{
	VacuumStmt *vs;
	VacuumRelation *vr;
	Oid			relid;
	char	   *name;

	if (!IsA(parsetree, VacuumStmt) || refresh_phase != REFRESH_DEFINITION ||
		NESTING_LEVEL() != refresh_level)
		return InvalidOid;
	vs = (VacuumStmt *) parsetree;
	if (vs->is_vacuumcmd || list_length(vs->rels) != 1)
		return InvalidOid;
	vr = linitial_node(VacuumRelation, vs->rels);
	if (vr->relation == NULL || vr->va_cols != NIL)
		return InvalidOid;
	relid = RangeVarGetRelid(vr->relation, NoLock, true);
	if (!OidIsValid(relid) || !isTempNamespace(get_rel_namespace(relid)))
		return InvalidOid;
	name = get_rel_name(relid);
	if (name == NULL ||
		strcmp(name, psprintf("pg_temp_%u", refresh_matview)) != 0)
		return InvalidOid;
	return relid;
}

/*
 * The partition an ALTER TABLE ... DETACH PARTITION detaches (a command of
 * its own in the grammar), or InvalidOid for any other statement.
 */
Oid
detach_partition_of(Node *parsetree)
{
	AlterTableStmt *ats;
	AlterTableCmd *cmd;

	if (!IsA(parsetree, AlterTableStmt))
		return InvalidOid;
	ats = (AlterTableStmt *) parsetree;
	if (list_length(ats->cmds) != 1)
		return InvalidOid;
	cmd = linitial_node(AlterTableCmd, ats->cmds);
	if (cmd->subtype != AT_DetachPartition || cmd->def == NULL ||
		!IsA(cmd->def, PartitionCmd))
		return InvalidOid;
	return RangeVarGetRelid(((PartitionCmd *) cmd->def)->name, NoLock, true);
}

/*
 * ExecutorCheckPerms_hook's part.  RI_Initial_Check, which ALTER TABLE
 * calls to validate a foreign key on existing rows with one join of the
 * two tables, asks ExecCheckRTPerms without raising (the only caller
 * that does) and validates row by row through ri_triggers.c when refused,
 * as when row-level security is enabled on either table.  Refuse it when
 * the join would read a tenant table for a role that is not exempt: the
 * row-by-row queries are exempt (is_ri_query), the join would not be.
 */
bool
fk_initial_check_allowed(List *rangeTable)
{
	ListCell   *lc;

	if (gtm_enforcement == GTM_ENFORCE_OFF || role_is_exempt())
		return true;
	foreach(lc, rangeTable)
	{
		RangeTblEntry *rte = lfirst(lc);
		RelFacts   *f;

		if (rte->rtekind != RTE_RELATION)
			continue;
		f = rel_facts(rte->relid);
		if (f->tenant && !f->exempt)
			return false;
	}
	return true;
}

/* Is role (not necessarily the current one) exempt? */
bool
role_oid_is_exempt(Oid role)
{
	if (role == exempt_cache_role)
		return exempt_cache_value;
	return superuser_arg(role) || has_bypassrls_privilege(role);
}

/*
 * Is the statement about to be planned exempt from the check?  Decided
 * before planning, so that exempt sessions such as migrations and pg_dump
 * skip the analysis.  phase is the REFRESH phase when planning began.  An
 * exempt role's statement that reaches an object of a role the check
 * applies to is refused (exempt_callers.c); *recheck_plan asks the caller
 * to look at the finished plan as well (exempt_plan_reaches_callers),
 * where planning may have inlined a function over such an object.
 */
bool
statement_is_exempt(Query *parse, RefreshPhase phase, bool *recheck_plan)
{
	*recheck_plan = false;
	if (is_ri_query(parse) || is_detach_check(parse) ||
		is_refresh_internal(parse, phase))
		return true;
	if (!role_is_exempt())
		return false;
	if (refuse_query_reaching_callers(parse, recheck_plan))
	{
		*recheck_plan = false;	/* checked: what planning inlines too */
		return false;
	}
	return true;
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
exemptions_init(void)
{
	CacheRegisterSyscacheCallback(AUTHOID, exempt_cache_inval, (Datum) 0);
	exempted_tables_init();
}
