/*-------------------------------------------------------------------------
 *
 * exempt_callers_code.c
 *	  Does using a relation run code a role the check applies to wrote?
 *
 * An exempt role that writes a relation runs what the relation's owner
 * attached to it: rules, triggers, CHECKs, generated columns, defaults,
 * index expressions and predicates; and, whoever owns the table, the
 * CHECKs of the domains of its columns.  Reading a view runs its query.
 * When a role the check applies to wrote that code, it would run with the
 * exempt role's rights (round FA: a DEFAULT query_to_xml(...) copied every
 * tenant's rows into the role's table).  relation_runs_callers_code
 * answers for a relation and what a write reaches below it,
 * callers_domain for a type; exempt_callers.c refuses the statement.
 *
 * IDENTIFICATION
 *	  src/exempt_callers_code.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/transam.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/readfuncs.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * A function an expression of such a role's relation may call when an
 * exempt role writes it: PostgreSQL's own, gtm_current_tenant(), gtm_pin()
 * or uuid-ossp's generators, but none that runs SQL text (query_to_xml() and the other
 * *_to_xml* functions, ts_stat(), ts_rewrite(), dblink) or reads or
 * changes files, settings, large objects or other sessions (pg_*, lo_*,
 * set_config(), current_setting(), setval()), which the exempt role's
 * rights would allow (round FA: query_to_xml() in a DEFAULT copied every
 * tenant's rows into the role's table, and called gtm_exempt_table() as
 * the superuser; round FC: ts_rewrite()).
 */
static bool
harmful_function(Oid funcid, void *context)
{
	HeapTuple	tup;
	Oid			owner;
	char	   *name;

	if (is_current_tenant_fn(funcid) || is_pin_fn(funcid))
		return false;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tup))
		return true;
	owner = ((Form_pg_proc) GETSTRUCT(tup))->proowner;
	name = pstrdup(NameStr(((Form_pg_proc) GETSTRUCT(tup))->proname));
	ReleaseSysCache(tup);

	/*
	 * Beyond PostgreSQL's own, only uuid-ossp's generators: an extension's
	 * function may be an administrator's tool run with the exempt role's
	 * rights (round FD: this extension's gtm_exempt_table() and
	 * gtm_grant_migrator(), in a DEFAULT, exempted a tenant table and made
	 * the role BYPASSRLS)
	 */
	if (funcid >= FirstNormalObjectId)
		return !role_oid_is_exempt(owner) || strncmp(name, "uuid_generate_", 14) != 0;
	return strstr(name, "to_xml") != NULL || strncmp(name, "ts_stat", 7) == 0 ||
		strncmp(name, "ts_rewrite", 10) == 0 ||
		strncmp(name, "dblink", 6) == 0 || strncmp(name, "pg_", 3) == 0 ||
		strncmp(name, "lo_", 3) == 0 || strcmp(name, "set_config") == 0 ||
		strcmp(name, "current_setting") == 0 || strcmp(name, "setval") == 0;
}

/*
 * Is typid, or a type inside it (an array's element, a domain's base, a
 * range's subtype, a composite's attribute), a domain of a role the check
 * applies to, whose CHECK runs where a value is made of it (round FC: a
 * domain of pg_temp as a permanent range type's subtype, or a composite's
 * attribute, in the role's table, ran its CHECK as the superuser that
 * wrote the table)?  depth: the nesting followed.
 */
static bool
callers_domain_at(Oid typid, int depth)
{
	HeapTuple	tup;
	Form_pg_type t;
	bool		result = false;
	Oid			elem;

	check_stack_depth();
	if (typid < FirstNormalObjectId || depth > 8 ||
		!HeapTupleIsValid(tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid))))
		return false;
	t = (Form_pg_type) GETSTRUCT(tup);
	elem = IsTrueArrayType(t) ? t->typelem : InvalidOid;
	if (t->typtype == TYPTYPE_DOMAIN)
		result = !role_oid_is_exempt(t->typowner) || callers_domain_at(t->typbasetype, depth + 1);
	else if (OidIsValid(elem))
		result = callers_domain_at(elem, depth + 1);
	else if (t->typtype == TYPTYPE_RANGE)
		result = callers_domain_at(get_range_subtype(typid), depth + 1);
	else if (t->typtype == TYPTYPE_MULTIRANGE)
		result = callers_domain_at(get_multirange_range(typid), depth + 1);
	else if (t->typtype == TYPTYPE_COMPOSITE && OidIsValid(t->typrelid))
	{
		Relation	rel = relation_open(t->typrelid, AccessShareLock);
		TupleDesc	desc = RelationGetDescr(rel);

		for (int i = 0; i < desc->natts && !result; i++)
			result = !TupleDescAttr(desc, i)->attisdropped &&
				callers_domain_at(TupleDescAttr(desc, i)->atttypid, depth + 1);
		relation_close(rel, AccessShareLock);
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * callers_domain_at from the top; also for the values an exempt role's
 * statement reaches (reaches_callers_walker, exempt_callers.c)
 */
bool
callers_domain(Oid typid)
{
	return callers_domain_at(typid, 0);
}

static bool
harmful_expression_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (IsA(node, NextValueExpr))
		return false;
	if (IsA(node, SubLink))
		return true;
	/*
	 * a cast to such a role's domain runs its CHECK (round FB), and so
	 * does making a value of a range or composite type that holds one
	 * (round FD: ('(' || now() || ')')::comp, jsonb_populate_record())
	 */
	if (IsA(node, CoerceToDomain) && callers_domain(((CoerceToDomain *) node)->resulttype))
		return true;
	if (!IsA(node, List) && callers_domain(exprType(node)))
		return true;
	if (check_functions_in_node(node, harmful_function, context))
		return true;
	return expression_tree_walker(node, harmful_expression_walker, context);
}

/* Any harmful expression in the nodeToString form of a list or expression */
static bool
harmful_stored_expression(const char *text)
{
	return text != NULL && harmful_expression_walker(stringToNode(text), NULL);
}

/*
 * Does writing the one relation relid (perms) run code that a role the
 * check applies to wrote (see relation_runs_callers_code)?
 */
static bool
one_relation_runs_callers_code(Oid relid, AclMode perms)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	bool		owners = !role_oid_is_exempt(rel->rd_rel->relowner);
	bool		result = false;

	/* its rules and triggers, for any write */
	if (owners)
	{
		result = rel->rd_rel->relhasrules;
		if (rel->trigdesc != NULL)
			for (int i = 0; i < rel->trigdesc->numtriggers && !result; i++)
			{
				Trigger    *t = &rel->trigdesc->triggers[i];

				result = !t->tgisinternal &&
					!is_our_c_function(t->tgfoid, "gtm_touch_updated_at");
			}
	}

	/*
	 * What an INSERT or UPDATE computes: its CHECKs, generated columns and
	 * defaults, its index expressions and predicates, and the CHECKs of
	 * such a role's domains of its columns, whoever owns the table (round
	 * FB: an exempt table with a column of the role's domain)
	 */
	if (!result && (perms & (ACL_INSERT | ACL_UPDATE)))
	{
		for (int i = 0; i < desc->natts && !result; i++)
			result = !TupleDescAttr(desc, i)->attisdropped &&
				callers_domain(TupleDescAttr(desc, i)->atttypid);
		if (owners && !result && desc->constr != NULL)
		{
			TupleConstr *constr = desc->constr;

			for (int i = 0; i < constr->num_check && !result; i++)
				result = harmful_stored_expression(constr->check[i].ccbin);
			for (int i = 0; i < constr->num_defval && !result; i++)
				result = harmful_stored_expression(constr->defval[i].adbin);
		}
		if (owners && !result)
		{
			List	   *indexes = RelationGetIndexList(rel);
			ListCell   *lc;

			foreach(lc, indexes)
			{
				Relation	ind = index_open(lfirst_oid(lc), AccessShareLock);

				result = (!heap_attisnull(ind->rd_indextuple, Anum_pg_index_indexprs, NULL) &&
						  harmful_expression_walker((Node *) RelationGetIndexExpressions(ind), NULL)) ||
					(!heap_attisnull(ind->rd_indextuple, Anum_pg_index_indpred, NULL) &&
					 harmful_expression_walker((Node *) RelationGetIndexPredicate(ind), NULL));
				index_close(ind, AccessShareLock);
				if (result)
					break;
			}
		}
	}
	relation_close(rel, AccessShareLock);
	return result;
}

/*
 * Does writing relid (perms: the statement's INSERT, UPDATE, DELETE or
 * TRUNCATE on it), or reading it, run code that a role the check applies
 * to wrote, with the rights of the exempt role that runs the statement?
 * Its view query; the rules and triggers (not a foreign key's, nor the
 * extension's updated_at one) of the relation or of a partition or child
 * the write reaches (round FB); on INSERT and UPDATE, their CHECKs,
 * generated columns, defaults and index expressions that call more than
 * PostgreSQL's own harmless functions, and their columns' domains of such
 * a role (round FA: a migration's trigger writing the application role's
 * audit table ran its DEFAULT query_to_xml(...), which copied every
 * tenant's rows into it, and its CHECK, which called gtm_exempt_table() as
 * the superuser).
 */
bool
relation_runs_callers_code(Oid relid, AclMode perms)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Form_pg_class c;
	bool		view;
	List	   *rels;
	ListCell   *lc;

	if (!HeapTupleIsValid(tup))
		return false;
	c = (Form_pg_class) GETSTRUCT(tup);
	view = c->relkind == RELKIND_VIEW && !role_oid_is_exempt(c->relowner);
	ReleaseSysCache(tup);
	if (view)
		return true;
	if (!(perms & (ACL_INSERT | ACL_UPDATE | ACL_DELETE | ACL_TRUNCATE)))
		return false;
	rels = find_all_inheritors(relid, NoLock, NULL);
	foreach(lc, rels)
	{
		CHECK_FOR_INTERRUPTS();
		if (get_rel_relkind(lfirst_oid(lc)) != RELKIND_FOREIGN_TABLE &&
			one_relation_runs_callers_code(lfirst_oid(lc), perms))
			return true;
	}
	return false;
}
