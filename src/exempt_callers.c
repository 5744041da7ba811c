/*-------------------------------------------------------------------------
 *
 * exempt_callers.c
 *	  An exempt role may not run the code of a role the check applies to.
 *
 * A SECURITY DEFINER function owned by a BYPASSRLS migration role can be
 * led by its caller (an ordinary role) to the caller's objects: a
 * temporary view that shadows a table on the function's search_path, a
 * view or cursor passed as an argument, a temporary table whose column
 * DEFAULT, domain or trigger calls a function of the caller's in pg_temp.
 * Their code would run with the exempt role's rights and read or change
 * every tenant's rows for the caller (row-level security has the same
 * hazard).  So an exempt role's statement that reaches such an object is
 * refused (statement_is_exempt, exemptions.c, asks
 * refuse_query_reaching_callers before planning; gtm_planner asks
 * exempt_plan_reaches_callers of the finished plan when planning may have
 * inlined a function; ProcessUtility asks exempt_utility_reaches_callers
 * of LOCK, TRUNCATE, COPY, CREATE TABLE (LIKE) and EXECUTE), and
 * enforce_planning.c's function manager hook refuses any call of such a
 * function as an exempt role (callers_temp_function).  The cursors and
 * prepared statements of such a role are refused to an exempt one by
 * tenant_session.c and tenant_temp.c.
 *
 * An ordinary role can create objects in its temporary schema only: what
 * is there and owned by it is its code (its temporary tables too: their
 * DEFAULTs, CHECKs, rules and triggers).  Elsewhere its objects are
 * recognised by the relations they read as it (checkAsUser: its views and
 * rules), which are checked, as row-level security applies such a view's
 * relations as its owner; unless it owns those relations, as row-level
 * security leaves a table's owner out.  What using a relation runs of such
 * a role's code (its rules, triggers, defaults, domains) is
 * exempt_callers_code.c's.
 *
 * IDENTIFICATION
 *	  src/exempt_callers.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "utils/rel.h"
#include "optimizer/optimizer.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * What an exempt role's statement reaches that belongs to a role the check
 * applies to (see statement_is_exempt): the object, its kind and its role.
 */
typedef struct CallersObject
{
	const char *kind;			/* "relation", "function", "type" */
	Oid			objid;
	Oid			role;
	bool		functions;		/* the query has a function in FROM */
	bool		judge;			/* it reads a relation as an ordinary role */
} CallersObject;

/* The owner of relation relid */
static Oid
relation_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner = InvalidOid;

	if (HeapTupleIsValid(tup))
	{
		owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
		ReleaseSysCache(tup);
	}
	return owner;
}

/*
 * Is relation relid read as role "as" (checkAsUser) read as a role the
 * check applies to?  Not when "as" is unset (the current role), exempt, or
 * the relation's owner: row-level security, which applies a view's or a
 * rule's relations as its owner, leaves a table's owner out as well
 * (unless forced).
 */
static bool
read_as_unexempt(Oid relid, Oid as)
{
	if (!OidIsValid(as) || role_oid_is_exempt(as))
		return false;
	return relation_owner(relid) != as;		/* (InvalidOid: gone) */
}

/*
 * Is the object of namespace nsp and owner owner one of the caller's
 * temporary objects: in a temporary schema and owned by a role the check
 * applies to?  Such a role can create objects there only (its temporary
 * views and tables, their triggers and rules, functions and types in
 * pg_temp), and whatever they compute runs with the identity of the
 * statement that reaches them.
 */
static bool
callers_temp_object(Oid nsp, Oid owner)
{
	return isAnyTempNamespace(nsp) && !role_oid_is_exempt(owner);
}

/*
 * Is relid a temporary relation of a role the check applies to (a table,
 * whose DEFAULTs, CHECKs, rules and triggers are that role's code, or a
 * view, whose query is; a security_invoker one reads as whoever uses it)?
 */
static bool
relation_is_callers_temp(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class c;
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	c = (Form_pg_class) GETSTRUCT(tup);
	result = callers_temp_object(c->relnamespace, c->relowner);
	ReleaseSysCache(tup);
	return result;
}

/*
 * Is typid a temporary type of a role the check applies to (a domain,
 * whose CHECK and DEFAULT are that role's code, a composite or enum type),
 * or an array of one?
 */
static bool
callers_temp_type(Oid typid)
{
	HeapTuple	tup;
	Form_pg_type t;
	bool		result;
	Oid			elem;

	if (typid < FirstNormalObjectId)
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (!HeapTupleIsValid(tup))
		return false;
	t = (Form_pg_type) GETSTRUCT(tup);
	result = callers_temp_object(t->typnamespace, t->typowner);
	elem = t->typelem;
	ReleaseSysCache(tup);
	return result || (OidIsValid(elem) && elem != typid && callers_temp_type(elem));
}

/*
 * callers_temp_type of a value of type typid and typmod typmod: an
 * anonymous record (ROW(NULL::pg_temp.d), typmod >= 0) carries its
 * columns' types, which are looked at too.
 */
static bool
callers_temp_value(Oid typid, int32 typmod, int depth)
{
	TupleDesc	desc;
	bool		result = false;

	if (typid != RECORDOID)
		return callers_temp_type(typid);
	if (typmod < 0 || depth > 8)
		return false;
	desc = lookup_rowtype_tupdesc_noerror(RECORDOID, typmod, true);
	if (desc == NULL)
		return false;
	for (int i = 0; i < desc->natts && !result; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped)
			result = callers_temp_value(att->atttypid, att->atttypmod, depth + 1);
	}
	ReleaseTupleDesc(desc);
	return result;
}
/* Is funcid a function in pg_temp of a role the check applies to? */
bool
callers_temp_function(Oid funcid)
{
	FunctionFacts f;

	if (funcid < FirstNormalObjectId)
		return false;
	function_facts(funcid, &f);
	return f.found && f.in_temp_schema && !f.owner_exempt;
}


/*
 * Does a range table (or, from PostgreSQL 16 on, a list of
 * RTEPermissionInfos) name a temporary relation of a role the check
 * applies to (true: refused)?  One read as such a role that it does not
 * own (a view or rule of that role's, permanent) sets found->judge: the
 * statement is then checked as that role's would be, as row-level
 * security applies such a view's relations as its owner.
 */
static bool
range_reaches_callers(List *entries, CallersObject *found)
{
	ListCell   *lc;

	foreach(lc, entries)
	{
#if GTM_HAS_RTEPERMINFO
		RTEPermissionInfo *p = lfirst(lc);
		Oid			relid = p->relid;
		Oid			as = p->checkAsUser;
#define PERMS_OF_ENTRY p->requiredPerms
#else
		RangeTblEntry *rte = lfirst(lc);
		Oid			relid = rte->relid;
		Oid			as = rte->checkAsUser;
#define PERMS_OF_ENTRY rte->requiredPerms

		if (rte->rtekind != RTE_RELATION)
			continue;
#endif
		if (relation_is_callers_temp(relid) ||
			relation_runs_callers_code(relid, PERMS_OF_ENTRY))
		{
			found->kind = "relation";
			found->objid = relid;
			found->role = relation_owner(relid);
			return true;
		}
		if (!found->judge && read_as_unexempt(relid, as))
		{
			found->judge = true;
			found->kind = "relation";
			found->objid = relid;
			found->role = as;
		}
	}
	return false;
}
/* The owner of function funcid if it is not exempt, or InvalidOid */
static Oid
callers_function_owner(Oid funcid)
{
	FunctionFacts f;

	if (funcid < FirstNormalObjectId)
		return InvalidOid;
	function_facts(funcid, &f);
	/* a SECURITY DEFINER one runs as that role, not as its caller */
	if (!f.found || f.security_definer || f.owner_exempt)
		return InvalidOid;
	return f.owner;
}

/*
 * Is funcid a function (an aggregate, a window function) of the caller's:
 * in pg_temp, or of a role the check applies to anywhere (round FD: such a
 * role's aggregate over ts_rewrite(), a function of PostgreSQL's, ran SQL
 * text as the superuser that called it; the call of PostgreSQL's function
 * alone is no function of the role's)?  Fills *found.
 */
static bool
function_reaches_callers(Oid funcid, CallersObject *found)
{
	Oid			owner = InvalidOid;

	if (!callers_temp_function(funcid) &&
		!OidIsValid(owner = callers_function_owner(funcid)))
		return false;
	found->kind = "function";
	found->objid = funcid;
	found->role = owner;
	return true;
}

/* The same for an operator of such a role, whatever its function */
static bool
operator_reaches_callers(Oid opno, CallersObject *found)
{
	HeapTuple	tup;
	Oid			owner;

	if (opno < FirstNormalObjectId)
		return false;
	if (function_reaches_callers(get_opcode(opno), found))
		return true;
	if (!HeapTupleIsValid(tup = SearchSysCache1(OPEROID, ObjectIdGetDatum(opno))))
		return false;
	owner = ((Form_pg_operator) GETSTRUCT(tup))->oprowner;
	ReleaseSysCache(tup);
	if (role_oid_is_exempt(owner))
		return false;
	found->kind = "function";
	found->objid = get_opcode(opno);
	found->role = owner;
	return true;
}

/*
 * Does the query, at any level (subqueries, CTEs, sublinks), reach an
 * object of a role the check applies to: a relation read as that role
 * (checkAsUser: a view or rule of its own over a relation it does not
 * own), a temporary view of its own, or a function of its own in pg_temp?
 * found->functions is set when the query has a function in FROM, which
 * planning may inline (exempt_plan_reaches_callers).
 */
static bool
reaches_callers_walker(Node *node, CallersObject *found)
{
	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		Query	   *q = (Query *) node;
		ListCell   *lc;

		check_stack_depth();
#if GTM_HAS_RTEPERMINFO
		if (range_reaches_callers(q->rteperminfos, found))
			return true;
#else
		if (range_reaches_callers(q->rtable, found))
			return true;
#endif
		foreach(lc, q->rtable)
			if (((RangeTblEntry *) lfirst(lc))->rtekind == RTE_FUNCTION)
				found->functions = true;
		return query_tree_walker(q, reaches_callers_walker, found, 0);
	}
	if ((IsA(node, FuncExpr) &&
		 function_reaches_callers(((FuncExpr *) node)->funcid, found)) ||
		((IsA(node, OpExpr) || IsA(node, DistinctExpr) || IsA(node, NullIfExpr)) &&
		 operator_reaches_callers(((OpExpr *) node)->opno, found)) ||
		(IsA(node, ScalarArrayOpExpr) &&
		 operator_reaches_callers(((ScalarArrayOpExpr *) node)->opno, found)) ||
		(IsA(node, Aggref) &&
		 function_reaches_callers(((Aggref *) node)->aggfnoid, found)) ||
		(IsA(node, WindowFunc) &&
		 function_reaches_callers(((WindowFunc *) node)->winfnoid, found)))
		return true;

	/*
	 * A value of a type of the caller's in pg_temp: casting to a domain
	 * runs its CHECK, and a composite or array of one brings it to
	 * functions that build its values (jsonb_populate_record).  So does a
	 * value of a domain of a role the check applies to, anywhere, also
	 * inside a range or composite type (round FD: 'x'::app_domain as the
	 * superuser made the role BYPASSRLS).
	 */
	if ((IsA(node, Const) || IsA(node, Var) || IsA(node, Param) ||
		 IsA(node, FuncExpr) || IsA(node, CoerceToDomain) ||
		 IsA(node, CoerceViaIO) || IsA(node, RelabelType) ||
		 IsA(node, ArrayCoerceExpr) || IsA(node, RowExpr) ||
		 IsA(node, ArrayExpr) || IsA(node, FieldSelect)) &&
		(callers_temp_value(exprType(node), exprTypmod(node), 0) ||
		 callers_domain(exprType(node))))
	{
		found->kind = "type";
		found->objid = exprType(node);
		found->role = InvalidOid;
		return true;
	}
	return expression_tree_walker(node, reaches_callers_walker, found);
}

/*
 * Refuse an exempt role's statement that reaches found (reported at
 * ENFORCE_ELEVEL: a warning in warn mode, after which it runs exempt).
 * Row-level security would apply such a view's relations as its owner,
 * but its code, and the caller's functions, would still run with the
 * exempt role's rights (a security_invoker view, a function in pg_temp,
 * the triggers and defaults they bring): a SECURITY DEFINER function of
 * an exempt role, led to them by its caller, read and changed every
 * tenant's rows for the caller.  So the statement does not run.
 */
static void
refuse_callers_object(CallersObject *found)
{
	const char *name = strcmp(found->kind, "function") == 0 ?
		format_procedure(found->objid) :
		strcmp(found->kind, "type") == 0 ?
		format_type_be(found->objid) : get_rel_name(found->objid);
	const char *role = OidIsValid(found->role) ?
		GetUserNameFromId(found->role, true) : NULL;

	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a statement of an exempt role cannot use objects of a role the tenant check applies to"),
			 role ?
			 errdetail("It reaches %s \"%s\" of role \"%s\", whose code would run, and whose relations would be read, with the exempt role's rights.",
					   found->kind, name ? name : "?", role) :
			 errdetail("It reaches %s \"%s\" of a temporary schema, whose code would run with the exempt role's rights.",
					   found->kind, name ? name : "?"),
			 errhint("Let no SECURITY DEFINER function of an exempt role reach its caller's objects: set search_path = ..., pg_temp and take no relation or function name from the caller; or run the statement as a role the check applies to.")));
}

/*
 * After planning an exempt statement that had a function in FROM: does the
 * finished plan reach such an object (a SQL function inlined over a view
 * of the caller's)?  Refused then (refuse_callers_object).
 */
void
exempt_plan_reaches_callers(PlannedStmt *stmt)
{
	CallersObject found = {NULL, InvalidOid, InvalidOid, false, false};

#if GTM_HAS_RTEPERMINFO
	if (range_reaches_callers(stmt->permInfos, &found) || found.judge)
#else
	if (range_reaches_callers(stmt->rtable, &found) || found.judge)
#endif
		refuse_callers_object(&found);
}

/*
 * refuse_callers_object for relation rv, if it is a caller's temporary one,
 * or one whose code a write (perms) or read runs
 */
static void
refuse_callers_temp_rangevar(RangeVar *rv, AclMode perms)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (OidIsValid(relid) &&
		(relation_is_callers_temp(relid) || relation_runs_callers_code(relid, perms)))
	{
		CallersObject found = {"relation", relid, relation_owner(relid), false, false};

		refuse_callers_object(&found);
	}
}

/*
 * ProcessUtility, as an exempt role: the utility statements that run code
 * of a temporary relation of a role the check applies to without planning
 * a query over it are refused like a query reaching it: LOCK TABLE of its
 * view (which locks what the view reads), TRUNCATE (its triggers), COPY
 * (its DEFAULTs, CHECKs and triggers), CREATE TABLE ... (LIKE it) (which
 * copies its DEFAULTs and CHECKs into the exempt role's table).  And
 * EXECUTE of a statement such a role prepared: its expressions are its
 * code (a query_to_xml() in it runs SQL text as the exempt role).
 */
void
exempt_utility_reaches_callers(Node *parsetree)
{
	ListCell   *lc;
	List	   *rels = NIL;

	if (!(IsA(parsetree, LockStmt) || IsA(parsetree, TruncateStmt) ||
		  IsA(parsetree, CopyStmt) || IsA(parsetree, CreateStmt) ||
		  IsA(parsetree, ExecuteStmt) || IsA(parsetree, CreateTableAsStmt) ||
		  IsA(parsetree, ExplainStmt)) ||
		gtm_enforcement == GTM_ENFORCE_OFF || !role_is_exempt() ||
		!gtm_installed_here())
		return;
	/*
	 * CREATE TABLE ... AS EXECUTE, EXPLAIN [ANALYZE] EXECUTE run it too
	 * (their query, once analysed, is a utility Query over the EXECUTE)
	 */
	if (IsA(parsetree, CreateTableAsStmt) || IsA(parsetree, ExplainStmt))
	{
		/* EXPLAIN ANALYZE CREATE TABLE AS EXECUTE too: unwrap each level */
		while (parsetree != NULL &&
			   (IsA(parsetree, CreateTableAsStmt) || IsA(parsetree, ExplainStmt)))
		{
			Node	   *q = IsA(parsetree, CreateTableAsStmt) ?
				((CreateTableAsStmt *) parsetree)->query :
				((ExplainStmt *) parsetree)->query;

			if (q != NULL && IsA(q, Query) &&
				((Query *) q)->commandType == CMD_UTILITY)
				q = ((Query *) q)->utilityStmt;
			parsetree = q;
		}
		if (parsetree == NULL || !IsA(parsetree, ExecuteStmt))
			return;
	}
	if (IsA(parsetree, ExecuteStmt))
	{
		const char *name = ((ExecuteStmt *) parsetree)->name;

		if (!statement_prepared_by_exempt(name))
			ereport(ENFORCE_ELEVEL(),
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("an exempt role cannot run a statement of a role the tenant check applies to"),
					 errdetail("Prepared statement \"%s\" was not prepared by an exempt role; its expressions would run with the rights of role \"%s\".",
							   name, GetUserNameFromId(GetUserId(), true)),
					 errhint("Let no SECURITY DEFINER function of an exempt role execute a statement its caller prepared.")));
		return;
	}
	if (IsA(parsetree, LockStmt))
		rels = ((LockStmt *) parsetree)->relations;
	else if (IsA(parsetree, TruncateStmt))
		rels = ((TruncateStmt *) parsetree)->relations;
	else if (IsA(parsetree, CopyStmt))
	{
		if (((CopyStmt *) parsetree)->relation != NULL)
			refuse_callers_temp_rangevar(((CopyStmt *) parsetree)->relation,
										 ((CopyStmt *) parsetree)->is_from ? ACL_INSERT : ACL_SELECT);
		return;
	}
	else
	{
		foreach(lc, ((CreateStmt *) parsetree)->tableElts)
			if (IsA(lfirst(lc), TableLikeClause))
				refuse_callers_temp_rangevar(((TableLikeClause *) lfirst(lc))->relation,
											 ACL_INSERT);	/* its DEFAULTs and CHECKs, copied */
		return;
	}
	foreach(lc, rels)
		refuse_callers_temp_rangevar(lfirst_node(RangeVar, lc),
									 IsA(parsetree, TruncateStmt) ? ACL_TRUNCATE : ACL_SELECT);
}

/*
 * Before planning an exempt role's statement: refuse it if it reaches a
 * temporary object of a role the check applies to; true when it reads a
 * relation as such a role (then it is checked); *functions tells whether it
 * has a function in FROM, which planning may inline
 * (exempt_plan_reaches_callers).
 */
bool
refuse_query_reaching_callers(Query *parse, bool *functions)
{
	CallersObject found = {NULL, InvalidOid, InvalidOid, false, false};

	if (reaches_callers_walker((Node *) parse, &found))
		refuse_callers_object(&found);
	*functions = found.functions;
	return found.judge;
}
