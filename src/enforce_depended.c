/*-------------------------------------------------------------------------
 *
 * enforce_depended.c
 *	  What another owner's tenant table is made of, and what it uses, is
 *	  not the role's to drop or change.
 *
 * A tenant table belongs to its owner (the migration role), but PostgreSQL
 * lets other roles own what it is made of or uses: the schema it is in,
 * the type, domain or collation of a column, the function of a default, a
 * CHECK, a trigger, a policy, an index expression or a rule.  Their owner
 * may drop them, CASCADE dropping the table's part with them, or change
 * them, which changes the table for every tenant: an enum's RENAME VALUE
 * relabels every tenant's rows (round EX: tenant_id of an enum type, t-1's
 * rows became t-2's), ALTER TYPE ... DROP ATTRIBUTE empties a composite
 * column of every row, ALTER DOMAIN ... ADD CONSTRAINT CHECK (f(VALUE))
 * calls the role's function on every tenant's values (an oracle of them,
 * that also locks every tenant's writes while it runs), and CREATE OR
 * REPLACE FUNCTION of a default's, CHECK's or trigger's function makes every
 * tenant's writes run the role's code with their rows.
 *
 * Nor can PostgreSQL say which code a tenant table reaches: a function
 * called by name from a trigger function's body, an index expression's
 * helper, an operator's or aggregate's function are recorded nowhere
 * (round EY).  So, to a role that is not exempt, where the extension is
 * installed:
 *	refuse_tenant_drop		(the object access hook's OAT_DROP) refuses
 *							dropping another owner's tenant table, a part of
 *							one (a column, default, trigger, policy,
 *							constraint, rule or extended statistics), or the
 *							extension;
 *	refuse_depended_change	(OAT_POST_CREATE, OAT_POST_ALTER, OAT_DROP)
 *							refuses replacing, altering or dropping a
 *							function, operator, type, domain, collation,
 *							conversion or text search object outside
 *							pg_temp, once PostgreSQL made the change (an
 *							error rolls it back; nothing ran meanwhile): a
 *							new one is the role's to create;
 *	refuse_owner_ddl		(ProcessUtility, before the standard call)
 *							refuses ALTER DOMAIN outside pg_temp before it
 *							validates anything, CREATE CAST and TRANSFORM
 *							(they have no schema), ALTER OPERATOR FAMILY,
 *							ALTER SCHEMA ... RENAME of a schema holding
 *							another owner's tenant table, and ALTER and DROP
 *							DATABASE, which an owner of the database may
 *							run: ALTER DATABASE ... SET search_path makes
 *							every session of every role, the exempt
 *							migration role's too, resolve names to the
 *							role's objects.
 * The role's own tables, and temporary ones, stay its business.
 *
 * IDENTIFICATION
 *	  src/enforce_depended.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/indexing.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_attrdef.h"
#include "catalog/pg_cast.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_conversion.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_operator.h"
#include "catalog/pg_opfamily.h"
#include "catalog/pg_transform.h"
#include "catalog/pg_ts_config.h"
#include "catalog/pg_ts_dict.h"
#include "catalog/pg_ts_parser.h"
#include "catalog/pg_ts_template.h"
#include "catalog/pg_class.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_policy.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_rewrite.h"
#include "catalog/pg_statistic_ext.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/extension.h"
#include "miscadmin.h"
#include "storage/ipc.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_type.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * The object an ALTER ... OWNER TO about to run changes the owner of
 * (refuse_owner_ddl sets it, each utility statement anew): not judged by
 * the object access hook.  An owner change gives no code another body (the
 * role may give its objects only to roles it is a member of), and Citus
 * runs ALTER ROUTINE ... OWNER TO, as the role, after each function it
 * propagates (round EZ: every CREATE FUNCTION of the role was refused on
 * a Citus cluster).
 */
static ObjectAddress owner_changed = {InvalidOid, InvalidOid, 0};

/* Should the role's DDL be judged here at all? */
bool
owner_ddl_judged(void)
{
	/*
	 * an extension's script changes its own objects; a backend that exits
	 * drops its temporary objects
	 */
	return gtm_enforcement != GTM_ENFORCE_OFF && !creating_extension &&
		!proc_exit_inprogress && gtm_installed_here() && !role_is_exempt();
}

/*
 * The OID column attr of the row of catalog classId whose OID is objectId,
 * read through the catalog's OID index (pg_attrdef has no syscache, nor,
 * before PostgreSQL 16, an entry in objectaddress.c's table).
 */
static Oid
catalog_row_oid(Oid classId, Oid oidIndexId, AttrNumber oidattr, Oid objectId,
				AttrNumber attr)
{
	Relation	rel = table_open(classId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			result = InvalidOid;

	ScanKeyInit(&key, oidattr, BTEqualStrategyNumber, F_OIDEQ, ObjectIdGetDatum(objectId));
	scan = systable_beginscan(rel, oidIndexId, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, attr, RelationGetDescr(rel), &isnull);

		if (!isnull)
			result = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return result;
}

/*
 * The relation that the object (classId, objectId) is a part of: the
 * relation itself, the table of an index, of a default, policy, rule,
 * extended statistics or constraint; a trigger goes with its constraint
 * when it has one (a foreign key's triggers on the referenced table belong
 * to the referencing table: round EX, dropping the role's own table that
 * references tenants was refused).  InvalidOid for anything else.
 */
static Oid
relation_of_part(Oid classId, Oid objectId)
{
	Oid			relid = InvalidOid;
	char		kind;

	if (classId == RelationRelationId)
		relid = objectId;
	else if (classId == AttrDefaultRelationId)
		relid = catalog_row_oid(classId, AttrDefaultOidIndexId, Anum_pg_attrdef_oid,
								 objectId, Anum_pg_attrdef_adrelid);
	else if (classId == TriggerRelationId)
	{
		Oid			constraint = catalog_row_oid(classId, TriggerOidIndexId,
												 Anum_pg_trigger_oid, objectId,
												 Anum_pg_trigger_tgconstraint);

		relid = OidIsValid(constraint) ?
			catalog_row_oid(ConstraintRelationId, ConstraintOidIndexId,
							Anum_pg_constraint_oid, constraint,
							Anum_pg_constraint_conrelid) :
			catalog_row_oid(classId, TriggerOidIndexId, Anum_pg_trigger_oid, objectId,
							Anum_pg_trigger_tgrelid);
	}
	else if (classId == PolicyRelationId)
		relid = catalog_row_oid(classId, PolicyOidIndexId, Anum_pg_policy_oid, objectId,
								Anum_pg_policy_polrelid);
	else if (classId == ConstraintRelationId)
		relid = catalog_row_oid(classId, ConstraintOidIndexId, Anum_pg_constraint_oid,
								objectId, Anum_pg_constraint_conrelid);
	else if (classId == RewriteRelationId)
		relid = catalog_row_oid(classId, RewriteOidIndexId, Anum_pg_rewrite_oid, objectId,
								Anum_pg_rewrite_ev_class);
	else if (classId == StatisticExtRelationId)
		relid = catalog_row_oid(classId, StatisticExtOidIndexId, Anum_pg_statistic_ext_oid,
								objectId, Anum_pg_statistic_ext_stxrelid);
	if (!OidIsValid(relid))
		return InvalidOid;
	kind = get_rel_relkind(relid);
	if (kind == RELKIND_INDEX || kind == RELKIND_PARTITIONED_INDEX)
		return IndexGetRelation(relid, true);
	return relid;
}

/* Does the current role act as the owner of relation relid? */
bool
role_owns_relation(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		return true;			/* gone: nothing to protect */
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return has_privs_of_role(GetUserId(), owner);
}

/* Is relid a tenant table, not temporary, that the role does not own? */
static bool
others_tenant_table(Oid relid)
{
	char		kind;

	if (!OidIsValid(relid))
		return false;
	kind = get_rel_relkind(relid);
	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE &&
		kind != RELKIND_FOREIGN_TABLE && kind != RELKIND_MATVIEW)
		return false;
	return get_rel_persistence(relid) != RELPERSISTENCE_TEMP &&
		rel_facts(relid)->tenant && !role_owns_relation(relid);
}

/*
 * Objects of these classes hold code, or are found by name in place of
 * another: functions, procedures and aggregates, operators and their
 * classes and families, casts, types and domains, collations, conversions,
 * text search objects, transforms.
 */
static bool
code_class(Oid classId)
{
	return classId == ProcedureRelationId || classId == TypeRelationId ||
		classId == OperatorRelationId || classId == OperatorClassRelationId ||
		classId == OperatorFamilyRelationId || classId == CastRelationId ||
		classId == CollationRelationId || classId == ConversionRelationId ||
		classId == TSConfigRelationId || classId == TSDictionaryRelationId ||
		classId == TSParserRelationId || classId == TSTemplateRelationId ||
		classId == TransformRelationId;
}

/*
 * The refusal of what (a description of an object, or of a statement
 * creating one) outside pg_temp.
 */
static void
refuse_code_outside_temp(const char *what)
{
	ereport(ERROR,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 strncmp(what, "creating ", 9) == 0 ?
			 errmsg("%s is not allowed for this role", what) :
			 errmsg("changing or dropping %s outside pg_temp is not allowed for this role", what),
			 errdetail("Functions, aggregates, operators, casts, types, domains, collations, conversions and text search objects outside pg_temp are reached by other sessions' statements, and by the triggers, defaults, constraints, indexes and policies of tenant-scoped tables, which would run the role's code on every tenant's rows."),
			 errhint("Create, replace and alter them as the migration role (exempt from the tenant-scope check); a role the check applies to may change them in pg_temp only.")));
}

/* Is typid a type of a temporary schema (any session's)? */
static bool
type_is_temporary(Oid typid)
{
	HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	result = isAnyTempNamespace(((Form_pg_type) GETSTRUCT(tup))->typnamespace);
	ReleaseSysCache(tup);
	return result;
}

/*
 * Is the object (classId, objectId) one that a role the check applies to
 * may change: in its temporary schema, or a table's row type (or the
 * array type of one: their table's DDL changes them)?  A standalone
 * composite type is judged by its pg_class row.
 */
static bool
code_object_allowed(Oid classId, Oid objectId)
{
	ObjectAddress addr;
	Oid			nsp;

	if (classId == TypeRelationId)
	{
		HeapTuple	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(objectId));
		char		typtype;
		Oid			elem;

		if (!HeapTupleIsValid(tup))
			return true;
		typtype = ((Form_pg_type) GETSTRUCT(tup))->typtype;
		elem = ((Form_pg_type) GETSTRUCT(tup))->typelem;
		nsp = ((Form_pg_type) GETSTRUCT(tup))->typnamespace;
		ReleaseSysCache(tup);
		if (typtype == TYPTYPE_COMPOSITE ||
			(OidIsValid(elem) && get_typtype(elem) == TYPTYPE_COMPOSITE))
			return true;
		return isAnyTempNamespace(nsp);
	}

	/*
	 * A cast or transform has no schema: every session's; one of a
	 * temporary type (a temporary range type's cast to its multirange) goes
	 * with that type (round EZ: DROP TYPE and DISCARD TEMP of such a type
	 * were refused, and so was the cleanup of the session's temporary
	 * schema, at its end and by the next session given it)
	 */
	if (classId == CastRelationId)
		return type_is_temporary(catalog_row_oid(CastRelationId, CastOidIndexId,
												 Anum_pg_cast_oid, objectId,
												 Anum_pg_cast_castsource)) ||
			type_is_temporary(catalog_row_oid(CastRelationId, CastOidIndexId,
											  Anum_pg_cast_oid, objectId,
											  Anum_pg_cast_casttarget));
	if (classId == TransformRelationId)
		return type_is_temporary(catalog_row_oid(TransformRelationId, TransformOidIndexId,
												 Anum_pg_transform_oid, objectId,
												 Anum_pg_transform_trftype));
	ObjectAddressSet(addr, classId, objectId);
	nsp = get_object_namespace(&addr);
	return OidIsValid(nsp) && isAnyTempNamespace(nsp);
}

/*
 * The object access hook's OAT_POST_CREATE and OAT_POST_ALTER
 * (enforce_planning.c), and OAT_DROP (refuse_tenant_drop): an existing
 * function, aggregate, operator, cast, type, domain, collation, conversion
 * or text search object outside pg_temp, replaced (CREATE OR REPLACE),
 * altered (ALTER ... RENAME, SET SCHEMA, OWNER TO, ALTER TYPE ... RENAME
 * VALUE, ALTER FUNCTION) or dropped by a role the check applies to; a
 * standalone composite type's attribute added, altered or dropped.
 * PostgreSQL records no dependency on a function called by name from
 * another's body, so which tenant table reaches which of them cannot be
 * known (round EY: a trigger function's callee, an index expression's, an
 * operator's or an aggregate's function, replaced, relabelled every
 * tenant's rows, stored them in the role's table, or ran as the superuser
 * that analysed the table): once made, none of them outside pg_temp is the
 * role's to change.  A new one is not found in place of an existing one
 * unless a search_path puts its schema first (doc/enforcement.md).
 */
pg_noinline void
refuse_depended_change(ObjectAccessType access, Oid classId, Oid objectId, int subId)
{
	ObjectAddress addr;

	if (classId == RelationRelationId)
	{
		/* ALTER TYPE ... ADD, ALTER, RENAME or DROP ATTRIBUTE, DROP TYPE */
		if ((access == OAT_POST_CREATE && subId == 0) ||
			get_rel_relkind(objectId) != RELKIND_COMPOSITE_TYPE ||
			!owner_ddl_judged() ||
			isAnyTempNamespace(get_rel_namespace(objectId)))
			return;
		refuse_code_outside_temp(psprintf("type %s", format_type_be(get_rel_type_id(objectId))));
	}
	if (!code_class(classId))
		return;

	/*
	 * Created: only a function replaced (its row before the replacement is
	 * still the one visible; a new one's is not yet)
	 */
	if (access == OAT_POST_CREATE &&
		(classId != ProcedureRelationId ||
		 !SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(objectId))))
		return;
	if (access == OAT_POST_ALTER && classId == owner_changed.classId &&
		objectId == owner_changed.objectId)
		return;
	if (!owner_ddl_judged() || code_object_allowed(classId, objectId))
		return;
	ObjectAddressSet(addr, classId, objectId);
	refuse_code_outside_temp(getObjectDescription(&addr, true));
}

/*
 * The object access hook's OAT_DROP, for every object a DROP removes,
 * CASCADE included: another owner's tenant table (or an index of one), a
 * part of one (subId: a column, dropped with the collation, domain, type
 * or function it uses, round EW; a default, trigger, policy, constraint,
 * rule or extended statistics), an attribute of a composite type that one
 * uses, and the extension itself (round EV: an application role owning its
 * database owns the schema public, and DROP SCHEMA public CASCADE dropped
 * every tenant table of other owners in it and gtm_clarity with them,
 * after which nothing was checked).  Its own tables, temporary or not,
 * stay its business, as for TRUNCATE's judgement of ownership by
 * PostgreSQL.
 */
pg_noinline void
refuse_tenant_drop(Oid classId, Oid objectId, int subId)
{
	Oid			relid;
	const char *what;

	if (classId == ExtensionRelationId)
	{
		if (objectId != get_extension_oid("gtm_clarity", true))
			return;
		what = "the extension gtm_clarity";
	}
	else
	{
		if (code_class(classId) ||
			(classId == RelationRelationId &&
			 get_rel_relkind(objectId) == RELKIND_COMPOSITE_TYPE))
		{
			/* DROP FUNCTION, TYPE, ..., ALTER TYPE ... DROP ATTRIBUTE */
			refuse_depended_change(OAT_DROP, classId, objectId, subId);
			return;
		}
		relid = relation_of_part(classId, objectId);
		if (!OidIsValid(relid))
			return;
		if (!others_tenant_table(relid))
			return;
		what = classId == RelationRelationId && subId == 0 ?
			psprintf("tenant-scoped table \"%s\"", get_rel_name(relid)) :
			psprintf("a part of tenant-scoped table \"%s\"", get_rel_name(relid));
	}
	if (!owner_ddl_judged())
		return;
	ereport(ERROR,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("dropping %s is not allowed for this role", what),
			 classId == ExtensionRelationId ?
			 errdetail("It checks every statement on tenant-scoped tables.") :
			 classId == RelationRelationId && subId == 0 ?
			 errdetail("The role does not own it: dropping it removes the rows of every tenant, and dropping one of its indexes locks it for every tenant.") :
			 errdetail("The role does not own the table: dropping one of its columns, defaults, triggers, policies, rules, statistics or constraints changes it for every tenant."),
			 errhint("Run such DDL as a role exempt from the tenant-scope check (the migration role).")));
}

/* The oldest tenant table of another owner in schema nsp, or InvalidOid */
static Oid
others_tenant_table_in(Oid nsp)
{
	Relation	rel = table_open(RelationRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			found = InvalidOid;

	/* no index leads by relnamespace: a heap scan, for a rare command */
	ScanKeyInit(&key, Anum_pg_class_relnamespace, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(nsp));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_class form = (Form_pg_class) GETSTRUCT(tup);

		/* the oldest, whatever the scan's order */
		CHECK_FOR_INTERRUPTS();
		if ((!OidIsValid(found) || form->oid < found) && others_tenant_table(form->oid))
			found = form->oid;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * Does the statement create a cast or transform (they have no schema: every
 * session's expressions use them), or change an operator family, as a role
 * the check applies to?  *what: what, for the message.
 */
static bool
code_statement_refused(Node *parsetree, const char **what)
{
	if (IsA(parsetree, CreateDomainStmt))
	{
		char	   *name;

		/*
		 * a domain's CHECK and DEFAULT run wherever a value is cast to it,
		 * in an exempt role's statements too (round FB: a column of such a
		 * role's domain, in a migration's table or its own, or a cast to
		 * one in a default, made a superuser's write call
		 * gtm_exempt_table())
		 */
		if (!owner_ddl_judged() ||
			isTempOrTempToastNamespace(QualifiedNameGetCreationNamespace(((CreateDomainStmt *) parsetree)->domainname,
																		  &name)))
			return false;
		*what = "creating a domain outside pg_temp";
		return true;
	}
	if (IsA(parsetree, CreateCastStmt))
		*what = "creating a cast";
	else if (IsA(parsetree, CreateTransformStmt))
		*what = "creating a transform";
	else if (IsA(parsetree, AlterOpFamilyStmt))
		*what = "an operator family";
	else
		return false;
	return owner_ddl_judged();
}

/*
 * The code object whose owner an ALTER ... OWNER TO changes, as
 * ExecAlterOwnerStmt finds it (a type's or domain's name is a plain name
 * list there, which get_object_address does not take), or no object.
 */
static ObjectAddress
owner_change_target(AlterOwnerStmt *ao)
{
	ObjectAddress addr = {InvalidOid, InvalidOid, 0};
	Relation	rel = NULL;

	switch (ao->objectType)
	{
		case OBJECT_TYPE:
		case OBJECT_DOMAIN:
			{
				TypeName   *tn = makeTypeNameFromNameList(castNode(List, ao->object));
				Oid			typid = LookupTypeNameOid(NULL, tn, true);

				if (OidIsValid(typid))
					ObjectAddressSet(addr, TypeRelationId, typid);
			}
			break;
		case OBJECT_AGGREGATE:
		case OBJECT_COLLATION:
		case OBJECT_CONVERSION:
		case OBJECT_FUNCTION:
		case OBJECT_OPERATOR:
		case OBJECT_OPCLASS:
		case OBJECT_OPFAMILY:
		case OBJECT_PROCEDURE:
		case OBJECT_ROUTINE:
		case OBJECT_TSDICTIONARY:
		case OBJECT_TSCONFIGURATION:
			addr = get_object_address(ao->objectType, ao->object, &rel, AccessShareLock, true);
			if (rel != NULL)
				relation_close(rel, NoLock);
			break;
		default:
			break;
	}
	return addr;
}

/*
 * ProcessUtility, before the standard call (check_utility_statement):
 * ALTER DOMAIN on a domain another owner's tenant table uses, refused
 * before it validates (a CHECK's function would run on every tenant's
 * values, holding their tables' locks); ALTER SCHEMA ... RENAME of a
 * schema holding one (the application's unqualified names would then find
 * a table of the role's own, of no tenant, in a schema it creates with the
 * old name, and every tenant's requests would write there); ALTER or DROP
 * DATABASE.
 */
void
refuse_owner_ddl(Node *parsetree)
{
	const char *what = NULL;

	/* the utility statements an application runs all the time: none here */
	switch (nodeTag(parsetree))
	{
		case T_ExecuteStmt:
		case T_TransactionStmt:
		case T_VariableSetStmt:
		case T_PrepareStmt:
		case T_DeallocateStmt:
		case T_DeclareCursorStmt:
		case T_FetchStmt:
		case T_ClosePortalStmt:
		case T_CopyStmt:
		case T_DiscardStmt:
			return;
		default:
			break;
	}
	if (IsA(parsetree, AlterDomainStmt))
	{
		TypeName   *tn = makeTypeNameFromNameList(((AlterDomainStmt *) parsetree)->typeName);
		Oid			typid;

		if (!owner_ddl_judged())
			return;
		typid = LookupTypeNameOid(NULL, tn, true);
		if (OidIsValid(typid) && !code_object_allowed(TypeRelationId, typid))
			refuse_code_outside_temp(psprintf("domain %s", format_type_be(typid)));
		return;
	}
	owner_changed.classId = InvalidOid;
	if (IsA(parsetree, AlterOwnerStmt) && owner_ddl_judged())
		owner_changed = owner_change_target((AlterOwnerStmt *) parsetree);
	if (code_statement_refused(parsetree, &what))
		refuse_code_outside_temp(what);
	what = NULL;
	refuse_name_taken(parsetree);
	if (IsA(parsetree, RenameStmt) &&
		((RenameStmt *) parsetree)->renameType == OBJECT_SCHEMA)
	{
		const char *schema = ((RenameStmt *) parsetree)->subname;
		Oid			nsp;
		Oid			relid;

		if (!owner_ddl_judged())
			return;
		nsp = get_namespace_oid(schema, true);
		relid = OidIsValid(nsp) ? others_tenant_table_in(nsp) : InvalidOid;
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("renaming schema \"%s\" is not allowed for this role", schema),
				 OidIsValid(relid) ?
				 errdetail("It holds tenant-scoped table \"%s\", which the role does not own: the application's statements would find its name in another schema, in a table the role may create.",
						   get_rel_name(relid)) :
				 errdetail("Another schema could take its name, and its functions, operators and tables would be found in place of those the application's statements, triggers and defaults name."),
				 errhint("Let a role exempt from the tenant-scope check own and rename schemas."),
				 err_generic_string(PG_DIAG_SCHEMA_NAME, schema),
				 OidIsValid(relid) ? err_generic_string(PG_DIAG_TABLE_NAME, get_rel_name(relid)) : 0));
	}
	if (IsA(parsetree, CreateSchemaStmt))
	{
		CreateSchemaStmt *cs = (CreateSchemaStmt *) parsetree;
		const char *schema = cs->schemaname;

		if (schema == NULL && cs->authrole != NULL)
			schema = get_rolespec_name(cs->authrole);
		if (schema == NULL || !OidIsValid(get_role_oid(schema, true)) || !owner_ddl_judged())
			return;
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("creating schema \"%s\" is not allowed for this role", schema),
				 errdetail("A schema named like a role comes first in that role's default search_path (\"$user\"): that role's statements, a migration's too, would create and find their tables in it (round FC)."),
				 errhint("Name it after no role, or let a role exempt from the tenant-scope check create it.")));
	}
	if (IsA(parsetree, AlterRoleSetStmt))
	{
		if (!owner_ddl_judged())
			return;
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("ALTER ROLE ... SET is not allowed for this role"),
				 errdetail("A role's settings apply to every later session of it, those serving the other tenants too: a search_path put first a schema whose tables and functions the role made."),
				 errhint("Let a role exempt from the tenant-scope check set roles' settings.")));
	}
	if (IsA(parsetree, AlterDatabaseStmt) || IsA(parsetree, AlterDatabaseSetStmt))
		what = "ALTER DATABASE";
	else if (IsA(parsetree, DropdbStmt))
		what = "DROP DATABASE";
	else if (IsA(parsetree, RenameStmt) &&
			 ((RenameStmt *) parsetree)->renameType == OBJECT_DATABASE)
		what = "ALTER DATABASE ... RENAME";
	else if (IsA(parsetree, AlterOwnerStmt) &&
			 ((AlterOwnerStmt *) parsetree)->objectType == OBJECT_DATABASE)
		what = "ALTER DATABASE ... OWNER";
	if (what == NULL || !owner_ddl_judged())
		return;
	ereport(ERROR,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("%s is not allowed for this role", what),
			 errdetail("A database's settings, connection limits and name apply to the sessions of every tenant, and its search_path to those of the migration role too."),
			 errhint("Let a role exempt from the tenant-scope check own the database, and run such commands as it.")));
}
