/*-------------------------------------------------------------------------
 *
 * tenant_temp.c
 *	  Temporary objects of an earlier request: gtm_set_tenant() refuses to
 *	  start a request on a connection that keeps them.
 *
 * A connection pool (PgBouncer in transaction mode, an application's own
 * pg.Pool) hands one server connection to request after request, and
 * PostgreSQL keeps a session's temporary tables and views until the
 * session ends or DISCARD TEMP.  A request of tenant T1 could leave a
 * temporary view named like an application table ("deals", searched in
 * pg_temp first), whose query reads T1's rows and shows them as another
 * tenant's: the next request, of T2, pins "tenant_id =
 * gtm_current_tenant()" on the view, reads T1's rows and writes into them;
 * a temporary table named "tenants" answers its lookups.  So a request
 * that sets its tenant on a connection where temporary relations created
 * by an earlier transaction remain, hiding a relation of the same name, is
 * refused (55000), for roles that are not exempt: the application discards
 * them (DISCARD TEMP, or the pool's reset query DISCARD ALL), or does not
 * create them.  (A temporary table of a name of its own hides nothing: the
 * application's own code reads it, as it would any data it kept.)
 *
 * The object access hook notes that a relation was created (temp_dirty);
 * gtm_set_tenant then reads the session's temporary schema, if it has one
 * (one scan of pg_class, only in such a session), for a relation whose
 * row an earlier transaction wrote and whose name hides another relation,
 * and clears the note unless the request created one itself (its own, to
 * be looked at by the next request).  A relation created or altered
 * (renamed: a temporary view renamed to an application table's name; moved
 * to another schema) sets the note again.
 *
 * IDENTIFICATION
 *	  src/tenant_temp.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/objectaccess.h"
#include "catalog/indexing.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"

static object_access_hook_type prev_object_access_hook = NULL;

/*
 * A relation was created or altered since the temporary schema was last
 * read (any relation: when the hook runs, a new pg_class row is not
 * visible to a lookup of its schema yet).  Only a hint to read it again.
 */
static bool temp_dirty = false;

static void
gtm_object_access(ObjectAccessType access, Oid classId, Oid objectId,
				  int subId, void *arg)
{
	if (prev_object_access_hook)
		prev_object_access_hook(access, classId, objectId, subId, arg);
	/* created, renamed or moved to another schema */
	if ((access == OAT_POST_CREATE || access == OAT_POST_ALTER) &&
		(classId == RelationRelationId || classId == TypeRelationId))
		temp_dirty = true;
}

/*
 * The two catalogs whose names PostgreSQL looks up in the temporary schema
 * before any other (even before pg_catalog, when search_path does not name
 * pg_temp): relations and types.  A temporary domain named "text" or
 * "uuid", whose CHECK calls the earlier request's function, runs that
 * function in every later request that writes '...'::text.
 */
typedef struct TempCatalog
{
	Oid			catalog;		/* pg_class or pg_type */
	Oid			name_nsp_index; /* its (name, namespace) index */
	AttrNumber	name_attr;
	AttrNumber	nsp_attr;
} TempCatalog;

static const TempCatalog temp_catalogs[] = {
	{RelationRelationId, ClassNameNspIndexId, Anum_pg_class_relname,
	Anum_pg_class_relnamespace},
	{TypeRelationId, TypeNameNspIndexId, Anum_pg_type_typname,
	Anum_pg_type_typnamespace},
};

/*
 * Is there an object of the catalog named name outside the temporary
 * schema, one that a temporary object of that name hides from an
 * unqualified name?
 */
static bool
shadows_object(const TempCatalog *tc, Relation rel, Datum name,
			   Oid tempNamespace)
{
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		found = false;

	ScanKeyInit(&key, tc->name_attr, BTEqualStrategyNumber, F_NAMEEQ, name);
	scan = systable_beginscan(rel, tc->name_nsp_index, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		nsp = heap_getattr(tup, tc->nsp_attr, RelationGetDescr(rel),
									   &isnull);

		if (!isnull && DatumGetObjectId(nsp) != tempNamespace)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	return found;
}

/*
 * Does the session's temporary schema hold an object of the catalog
 * created by an earlier transaction that hides an object of the same
 * name?  *recheck is set when it holds one this transaction created (to be
 * looked at again).
 */
static bool
earlier_temp_objects(const TempCatalog *tc, Oid tempNamespace, bool *recheck)
{
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	bool		earlier = false;

	rel = table_open(tc->catalog, AccessShareLock);
	ScanKeyInit(&key, tc->nsp_attr, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(tempNamespace));
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		name;

		CHECK_FOR_INTERRUPTS();
		if (TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			*recheck = true;	/* this request's: an earlier one for the next */
			continue;
		}
		name = heap_getattr(tup, tc->name_attr, RelationGetDescr(rel), &isnull);
		if (!isnull && shadows_object(tc, rel, name, tempNamespace))
		{
			earlier = true;
			break;
		}
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return earlier;
}

/*
 * Does the session's temporary schema hold a relation or type created by
 * an earlier transaction that hides one of the same name?
 */
static bool
earlier_temp_relations(bool *recheck)
{
	Oid			tempNamespace;
	Oid			tempToastNamespace;

	*recheck = false;
	GetTempNamespaceState(&tempNamespace, &tempToastNamespace);
	if (!OidIsValid(tempNamespace))
		return false;
	for (int i = 0; i < lengthof(temp_catalogs); i++)
		if (earlier_temp_objects(&temp_catalogs[i], tempNamespace, recheck))
			return true;
	return false;
}

/*
 * gtm_set_tenant: refuse a request on a connection that keeps temporary
 * relations created by an earlier transaction (see the file header).
 */
void
check_no_earlier_temp_objects(void)
{
	Oid			caller = GetOuterUserId();	/* gtm_set_tenant is SECURITY DEFINER */
	bool		recheck;

	if (!temp_dirty || gtm_enforcement == GTM_ENFORCE_OFF ||
		superuser_arg(caller) || has_bypassrls_privilege(caller))
		return;
	if (!earlier_temp_relations(&recheck))
	{
		/* nothing to read again until a relation is created (or this one's) */
		temp_dirty = recheck;
		return;
	}
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the connection keeps temporary objects of an earlier request that hide objects of the same name"),
			 errdetail("Behind a connection pool the next request would find them first: a temporary view named like a table of the application shows it another tenant's rows, and a temporary type or domain named like a type runs the earlier request's code."),
			 errhint("Run DISCARD TEMP before the request (or make DISCARD ALL the pool's reset query), or drop temporary objects before the transaction ends (ON COMMIT DROP).")));
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
tenant_temp_init(void)
{
	prev_object_access_hook = object_access_hook;
	object_access_hook = gtm_object_access;
}
