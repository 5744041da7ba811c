/*-------------------------------------------------------------------------
 *
 * enforce_names.c
 *	  A role the check applies to creates nothing, outside pg_temp, under
 *	  a name that something else has.
 *
 * PostgreSQL finds functions, operators, types and relations by name: an
 * unqualified name in the first schema of the search_path that has one,
 * and among a function's or operator's overloads, in every schema of the
 * path, the one whose argument types match best.  A new object of an
 * existing name is then found in place of the existing one: an overload of
 * a trigger's callee with the exact argument types, in its own schema
 * (round EZ: t-2's rows were written as t-1's, and their values stored in
 * the role's table); a table named like the application's in a schema
 * found first (the role's own schema "$user", first in the default
 * search_path: every tenant's INSERT INTO deals went into the role's
 * table).  What the role's statements, and every other session's, and the
 * triggers and defaults of tenant tables name would then run the role's
 * code or reach the role's table, with every tenant's rows.  A name of its
 * own is found by nothing that exists.
 *
 * So, to a role that is not exempt, where the extension is installed,
 * refuse_name_taken (ProcessUtility, before the standard call) refuses
 * CREATE FUNCTION, PROCEDURE, AGGREGATE, OPERATOR, TYPE and DOMAIN, CREATE
 * TABLE, VIEW, MATERIALIZED VIEW, TABLE AS and SEQUENCE, and ALTER ...
 * RENAME and SET SCHEMA of a relation, outside pg_temp, when an object of
 * that kind and name exists outside the temporary schemas (CREATE OR
 * REPLACE of an existing one included: enforce_depended.c).
 *
 * IDENTIFICATION
 *	  src/enforce_names.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/catcache.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * Is nsp a schema whose objects a new one does not take the place of: a
 * temporary one (the session's own only finds its relations), or
 * information_schema, which no application's search_path names (round
 * FA: CREATE TABLE domains was refused for information_schema.domains)?
 */
static bool
name_space_ignored(Oid nsp)
{
	static Oid	information_schema = InvalidOid;

	if (!OidIsValid(information_schema))
		information_schema = get_namespace_oid("information_schema", true);
	return isAnyTempNamespace(nsp) || nsp == information_schema;
}

/*
 * A function, operator, type or relation (cacheid: PROCNAMEARGSNSP,
 * OPERNAMENSP, TYPENAMENSP or RELNAMENSP) named name outside the temporary
 * schemas, other than except, described; or NULL.
 */
static char *
name_taken(int cacheid, const char *name, Oid except)
{
	CatCList   *list = SearchSysCacheList1(cacheid, CStringGetDatum(name));
	char	   *found = NULL;

	for (int i = 0; i < list->n_members && found == NULL; i++)
	{
		HeapTuple	tup = &list->members[i]->tuple;

		if (cacheid == PROCNAMEARGSNSP)
		{
			Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);

			if (!name_space_ignored(proc->pronamespace))
				found = psprintf("function %s", format_procedure_qualified(proc->oid));
		}
		else if (cacheid == OPERNAMENSP)
		{
			Form_pg_operator oper = (Form_pg_operator) GETSTRUCT(tup);

			if (!name_space_ignored(oper->oprnamespace))
				found = psprintf("operator %s", format_operator_qualified(oper->oid));
		}
		else if (cacheid == TYPENAMENSP)
		{
			Form_pg_type type = (Form_pg_type) GETSTRUCT(tup);

			if (!name_space_ignored(type->typnamespace))
				found = psprintf("type %s", format_type_be_qualified(type->oid));
		}
		else
		{
			Form_pg_class rel = (Form_pg_class) GETSTRUCT(tup);

			if (rel->oid != except && !name_space_ignored(rel->relnamespace) &&
				rel->relkind != RELKIND_INDEX && rel->relkind != RELKIND_PARTITIONED_INDEX &&
				rel->relkind != RELKIND_TOASTVALUE)
				found = psprintf("relation %s.%s", get_namespace_name(rel->relnamespace),
								 NameStr(rel->relname));
		}
	}
	ReleaseSysCacheList(list);
	return found;
}

/* The name list of a RangeVar */
static List *
range_var_names(RangeVar *rv)
{
	return rv->schemaname != NULL ?
		list_make2(makeString(rv->schemaname), makeString(rv->relname)) :
		list_make1(makeString(rv->relname));
}

/* What a statement names, and where */
typedef struct NewName
{
	const char *kind;			/* for the message */
	List	   *names;			/* the (qualified) name it creates, or */
	RangeVar   *relation;		/* the relation it creates, or */
	Oid			existing;		/* the relation it renames or moves */
	const char *newname;		/* and its new name */
	int			cacheids[2];	/* the catalogs whose names it may take */
} NewName;

/* The name a relation statement creates, renames or moves to, into n */
static bool
relation_name_of(Node *parsetree, NewName *n)
{
	n->kind = "relation";
	n->cacheids[0] = RELNAMENSP;
	switch (nodeTag(parsetree))
	{
		case T_CreateStmt:
			n->relation = ((CreateStmt *) parsetree)->relation;
			return true;
		case T_ViewStmt:
			n->relation = ((ViewStmt *) parsetree)->view;
			return true;
		case T_CreateTableAsStmt:
			n->relation = ((CreateTableAsStmt *) parsetree)->into->rel;
			return true;
		case T_CreateSeqStmt:
			n->relation = ((CreateSeqStmt *) parsetree)->sequence;
			return true;
		case T_RenameStmt:
			{
				RenameStmt *rs = (RenameStmt *) parsetree;

				char		kind;

				/*
				 * ALTER INDEX ... RENAME renames any relation (round FA: a
				 * table took a taken name that way): judged by what it names
				 */
				if (rs->relation == NULL || rs->subname != NULL ||
					(rs->renameType != OBJECT_TABLE && rs->renameType != OBJECT_VIEW &&
					 rs->renameType != OBJECT_MATVIEW && rs->renameType != OBJECT_SEQUENCE &&
					 rs->renameType != OBJECT_FOREIGN_TABLE && rs->renameType != OBJECT_INDEX))
					return false;
				n->existing = RangeVarGetRelid(rs->relation, NoLock, true);
				n->newname = rs->newname;
				kind = get_rel_relkind(n->existing);
				return OidIsValid(n->existing) && kind != RELKIND_INDEX &&
					kind != RELKIND_PARTITIONED_INDEX;
			}
		case T_AlterObjectSchemaStmt:
			{
				AlterObjectSchemaStmt *as = (AlterObjectSchemaStmt *) parsetree;

				if (as->relation == NULL)
					return false;
				n->existing = RangeVarGetRelid(as->relation, NoLock, true);
				n->newname = as->relation->relname;
				return OidIsValid(n->existing) && !isAnyTempNamespace(get_namespace_oid(as->newschema, true));
			}
		default:
			return false;
	}
}

/* The name a function, operator or type statement creates, into n */
static bool
code_name_of(Node *parsetree, NewName *n)
{
	switch (nodeTag(parsetree))
	{
		case T_CreateFunctionStmt:
			n->names = ((CreateFunctionStmt *) parsetree)->funcname;
			n->cacheids[0] = PROCNAMEARGSNSP;
			n->kind = ((CreateFunctionStmt *) parsetree)->is_procedure ? "procedure" : "function";
			return true;
		case T_DefineStmt:
			n->names = ((DefineStmt *) parsetree)->defnames;
			switch (((DefineStmt *) parsetree)->kind)
			{
				case OBJECT_AGGREGATE:
					n->cacheids[0] = PROCNAMEARGSNSP;
					n->kind = "aggregate";
					return true;
				case OBJECT_OPERATOR:
					n->cacheids[0] = OPERNAMENSP;
					n->kind = "operator";
					return true;
				case OBJECT_TYPE:
					n->cacheids[0] = TYPENAMENSP;
					n->kind = "type";
					return true;
				default:
					return false;
			}
		case T_CreateEnumStmt:
			n->names = ((CreateEnumStmt *) parsetree)->typeName;
			n->cacheids[0] = TYPENAMENSP;
			n->kind = "type";
			return true;
		case T_CreateRangeStmt:
			/*
			 * and its constructor functions, of the type's name; its
			 * multirange type's name is judged apart (range_multirange_name)
			 */
			n->names = ((CreateRangeStmt *) parsetree)->typeName;
			n->cacheids[0] = TYPENAMENSP;
			n->cacheids[1] = PROCNAMEARGSNSP;
			n->kind = "type";
			return true;
		case T_CreateDomainStmt:
			n->names = ((CreateDomainStmt *) parsetree)->domainname;
			n->cacheids[0] = TYPENAMENSP;
			n->kind = "domain";
			return true;
		case T_CompositeTypeStmt:
			n->names = range_var_names(((CompositeTypeStmt *) parsetree)->typevar);
			n->cacheids[0] = TYPENAMENSP;
			n->kind = "type";
			return true;
		default:
			return false;
	}
}

/* Does the statement create its relation only IF NOT EXISTS? */
static bool
creates_if_not_exists(Node *parsetree)
{
	if (IsA(parsetree, CreateStmt))
		return ((CreateStmt *) parsetree)->if_not_exists;
	if (IsA(parsetree, CreateSeqStmt))
		return ((CreateSeqStmt *) parsetree)->if_not_exists;
	if (IsA(parsetree, CreateTableAsStmt))
		return ((CreateTableAsStmt *) parsetree)->if_not_exists;
	return false;
}

/*
 * The name of the multirange type a CREATE TYPE ... AS RANGE makes: its
 * multirange_type_name, or the one PostgreSQL derives (round FA: a
 * multirange named like a function a trigger calls made constructor
 * functions of that name, which took its calls).
 */
static const char *
range_multirange_name(CreateRangeStmt *stmt, List *names)
{
	ListCell   *lc;
	char	   *rangename;
	Oid			nsp = QualifiedNameGetCreationNamespace(names, &rangename);

	foreach(lc, stmt->params)
	{
		DefElem    *d = lfirst_node(DefElem, lc);

		if (strcmp(d->defname, "multirange_type_name") == 0)
		{
			char	   *name;

			(void) QualifiedNameGetCreationNamespace(defGetQualifiedName(d), &name);
			return name;
		}
	}
	return makeMultirangeTypeName(rangename, nsp);
}

/*
 * ProcessUtility, before the standard call (refuse_owner_ddl,
 * enforce_depended.c): the statement's new name, outside pg_temp, taken
 * by another function, operator, type or relation.
 */
void
refuse_name_taken(Node *parsetree)
{
	NewName		n = {NULL, NIL, NULL, InvalidOid, NULL, {-1, -1}};
	const char *objname;
	char	   *taken = NULL;

	if (!code_name_of(parsetree, &n) && !relation_name_of(parsetree, &n))
		return;
	if (!owner_ddl_judged())
		return;
	if (n.relation != NULL)
	{
		Oid			nsp;

		if (n.relation->relpersistence == RELPERSISTENCE_TEMP ||
			isTempOrTempToastNamespace(nsp = RangeVarGetCreationNamespace(n.relation)))
			return;
		objname = n.relation->relname;
		/* IF NOT EXISTS of one that exists creates nothing (round FA) */
		if (creates_if_not_exists(parsetree) &&
			OidIsValid(get_relname_relid(objname, nsp)))
			return;
	}
	else if (OidIsValid(n.existing))
	{
		if (isAnyTempNamespace(get_rel_namespace(n.existing)))
			return;
		objname = n.newname;
	}
	else
	{
		char	   *name;

		if (isTempOrTempToastNamespace(QualifiedNameGetCreationNamespace(n.names, &name)))
			return;
		objname = name;
	}
	for (int i = 0; i < 2 && taken == NULL; i++)
		if (n.cacheids[i] >= 0)
			taken = name_taken(n.cacheids[i], objname, n.existing);
	if (taken == NULL && IsA(parsetree, CreateRangeStmt))
	{
		/* the multirange type, and its constructor functions of its name */
		objname = range_multirange_name((CreateRangeStmt *) parsetree, n.names);
		taken = name_taken(TYPENAMENSP, objname, InvalidOid);
		if (taken == NULL)
			taken = name_taken(PROCNAMEARGSNSP, objname, InvalidOid);
	}
	if (taken == NULL)
		return;
	ereport(ERROR,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("creating %s \"%s\" outside pg_temp is not allowed for this role",
					n.kind, objname),
			 errdetail("There is %s: a new one of that name, by its argument types or by its schema's place in a search_path, could be used in place of it by every tenant's statements and by the triggers and defaults of tenant-scoped tables.",
					   taken),
			 errhint("Give it a name of its own, or create it in pg_temp; the migration role (exempt from the tenant-scope check) creates and replaces shared objects.")));
}
