/*-------------------------------------------------------------------------
 *
 * tenant_temp.c
 *	  Temporary objects of an earlier request: gtm_set_tenant() refuses to
 *	  start a request on a connection that keeps them.
 *
 * A connection pool (PgBouncer in transaction mode, an application's own
 * pg.Pool) hands one server connection to request after request, and
 * PostgreSQL keeps a session's temporary objects until the session ends or
 * DISCARD TEMP.  A request of tenant T1 could leave a temporary view named
 * like an application table ("deals", searched in pg_temp first), whose
 * query reads T1's rows and shows them as another tenant's: the next
 * request, of T2, pins "tenant_id = gtm_current_tenant()" on the view,
 * reads T1's rows and writes into them.  Objects of names of their own
 * carry code just as well: a temporary domain (types are searched in
 * pg_temp first too, even before pg_catalog) whose CHECK runs T1's
 * function, or a temporary table that the next request's honest CREATE
 * TEMP TABLE IF NOT EXISTS finds, whose trigger or default runs T1's code
 * inside T2's request (and may create objects there that then count as
 * that request's own).  So a request that sets its tenant on a connection
 * where temporary relations or types of a role that is not exempt remain
 * is refused (55000): the application discards them (DISCARD TEMP, or the
 * pool's reset query DISCARD ALL), drops them before its transaction ends
 * (ON COMMIT DROP), or does not create them.  Also ones this transaction
 * wrote before the tenant was set: the earlier request's code may run in
 * the new request before its gtm_set_tenant() (a domain's CHECK while the
 * first statement is parsed) and rewrite its objects' rows (a rename there
 * and back); a request creates its own after setting its tenant.
 *
 * The object access hook (enforce_planning.c's) notes that a relation or
 * type was created or altered (temp_dirty); gtm_set_tenant then reads the
 * session's temporary schema, if it has one (a scan of pg_class and
 * pg_type, only in such a session), for an object owned by a role that is
 * not exempt (an exempt role's objects run its own code, trusted as it
 * is), and clears the note when there is none.  A rollback of a transaction or subtransaction notes
 * it again: it brings back what it dropped, which that read did not see.
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
#include "commands/prepare.h"
#include "executor/spi.h"
#include "tcop/pquery.h"
#include "utils/portal.h"
#include "miscadmin.h"
#include "utils/syscache.h"
#include "nodes/nodeFuncs.h"
#include "parser/analyze.h"
#include "parser/parser.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"
#include "gtm_clarity.h"


/*
 * A relation was created or altered since the temporary schema was last
 * read (any relation: when the hook runs, a new pg_class row is not
 * visible to a lookup of its schema yet).  Only a hint to read it again.
 */
static bool temp_dirty GTM_HOT_DATA = false;

/*
 * The names of the statements a role the rule applies to prepared with SQL
 * PREPARE (in TopMemoryContext), until gtm_set_tenant finds them gone;
 * prepared_dirty while there are any.
 */
static List *sql_prepared_names = NIL;
static bool prepared_dirty = false;

/* the client's statement names (note_client_statement) */
static HTAB *client_statements GTM_HOT_DATA = NULL;

/*
 * Names kept at most.  A client that binds more (pgjdbc's re-prepared
 * statements, PgBouncer's PGBOUNCER_<n> names, over a pooled connection's
 * life) would grow the backend by ~90 bytes a name, for good (round FG):
 * past this many the names are dropped, and any named SQL PREPARE of a
 * role the rule applies to is refused for the rest of the session, since
 * any name could then be one of the client's.
 */
#define CLIENT_STATEMENTS_MAX 1024
static bool client_statements_overflowed GTM_HOT_DATA = false;

/*
 * The name noted last, as kept there (never removed from it): a client
 * that binds the same statement again is not looked up again.
 */
static char last_client_statement[NAMEDATALEN] GTM_HOT_BUF;

/*
 * Has a SQL PREPARE run in this session, as any role?  Until one has, no
 * prepared statement of the session is from SQL, and a Bind needs no
 * lookup of its statement (refuse_bound_sql_prepared).
 */
static bool sql_prepare_ran GTM_HOT_DATA = false;

/*
 * gtm_ProcessUtility: a DEALLOCATE that is not a top-level statement (run
 * by a function, a domain's CHECK, PL/pgSQL's EXECUTE) is refused to roles
 * the rule applies to: run while the client's Bind plans a statement (or
 * converts its parameters), it freed that very statement, so that no check
 * found it when it started (and PostgreSQL went on with freed memory).
 */
void
refuse_nested_deallocate(bool top_level)
{
	if (top_level || gtm_enforcement == GTM_ENFORCE_OFF || role_is_exempt() ||
		!gtm_installed_here())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("DEALLOCATE is allowed only as a statement of its own for this role"),
			 errdetail("Run inside another statement, it can free the statement being bound or planned."),
			 errhint("Send DEALLOCATE as a statement of its own.")));
}

/* gtm_ProcessUtility: a SQL PREPARE (EXECUTE'd SQL included) starts */
void
note_sql_prepare(PrepareStmt *stmt)
{
	MemoryContext old;

	sql_prepare_ran = true;
	if (stmt->name == NULL || stmt->name[0] == '\0' || role_is_exempt())
		return;
	if (client_statements_overflowed && gtm_enforcement != GTM_ENFORCE_OFF &&
		gtm_installed_here())
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("SQL PREPARE is not allowed on this connection"),
				 errdetail("Clients bound more than %d named statements on this connection, whose names are no longer kept: any name could be one a later request binds.",
						   CLIENT_STATEMENTS_MAX),
				 errhint("Use the protocol's named statements (Parse) instead of SQL PREPARE, or open a new connection.")));
	if (client_statements != NULL && gtm_enforcement != GTM_ENFORCE_OFF)
	{
		char		key[NAMEDATALEN];

		strlcpy(key, stmt->name, NAMEDATALEN);
		if (hash_search(client_statements, key, HASH_FIND, NULL) != NULL &&
			gtm_installed_here())
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("prepared statement name \"%s\" belongs to a statement the client prepared on this connection",
							stmt->name),
					 errdetail("Behind a connection pool a later request binds that name with its own parameters."),
					 errhint("Choose another name for SQL PREPARE.")));
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	sql_prepared_names = lappend(sql_prepared_names, pstrdup(stmt->name));
	MemoryContextSwitchTo(old);
	prepared_dirty = true;
}

/*
 * The names of the statements the client prepared with the protocol (Parse)
 * and ran on this connection, cut as the server keeps them: a SQL PREPARE
 * of such a name by a role the rule applies to is refused.  Replaced under
 * that name (DEALLOCATE, then PREPARE), a statement would take the client's
 * parameters in a later request: converted by types of the earlier
 * request's (a temporary domain's CHECK receives them) while Bind runs,
 * before any check, into a statement that a rule rewrites to nothing.
 */
void
note_client_statement(const char *name)
{
	char		key[NAMEDATALEN];

	if (client_statements_overflowed ||
		(last_client_statement[0] != '\0' &&
		 strncmp(name, last_client_statement, NAMEDATALEN - 1) == 0))
		return;
	if (unlikely(client_statements == NULL))
	{
		HASHCTL		ctl;

		ctl.keysize = NAMEDATALEN;
		ctl.entrysize = NAMEDATALEN;
		client_statements = hash_create("gtm_clarity client statements", 64, &ctl,
										HASH_ELEM | HASH_STRINGS);
	}
	strlcpy(key, name, NAMEDATALEN);
	if (hash_get_num_entries(client_statements) >= CLIENT_STATEMENTS_MAX &&
		hash_search(client_statements, key, HASH_FIND, NULL) == NULL)
	{
		/* every name counts from now on (note_sql_prepare) */
		client_statements_overflowed = true;
		hash_destroy(client_statements);
		client_statements = NULL;
		last_client_statement[0] = '\0';
		return;
	}
	(void) hash_search(client_statements, key, HASH_ENTER, NULL);
	memcpy(last_client_statement, key, NAMEDATALEN);
}

/*
 * gtm_ProcessUtility, before a DEALLOCATE (of a name, or ALL) or DISCARD
 * ALL: the client's protocol-level statements it removes keep their names
 * reserved.  A client goes on binding a statement it believes prepared
 * (also one whose first Bind failed, so that it never ran): replaced under
 * its name, its parameters would reach the earlier request's functions
 * while the replacement is planned at Bind, before any check refuses it.
 */
void
reserve_client_statements(Node *parsetree)
{
	if (IsA(parsetree, DeallocateStmt) && ((DeallocateStmt *) parsetree)->name != NULL)
	{
		PreparedStatement *ps = FetchPreparedStatement(((DeallocateStmt *) parsetree)->name, false);

		if (ps != NULL && !ps->from_sql)
			note_client_statement(((DeallocateStmt *) parsetree)->name);
		return;
	}
	/* DEALLOCATE ALL, DISCARD ALL: every statement of the protocol's */
	SPI_connect();
	if (SPI_execute("SELECT name FROM pg_catalog.pg_prepared_statement() WHERE NOT from_sql",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the session's prepared statements");
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		char	   *name = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);

		if (name != NULL)
			note_client_statement(name);
	}
	SPI_finish();
}

/*
 * ExecutorStart: a statement that SQL PREPARE made for a role the rule
 * applies to is not run through the protocol's Bind (a portal that names
 * its prepared statement; SQL EXECUTE names none).  A client Binds the
 * statements it prepared with Parse, under their names, in any later
 * request on the connection: one that an earlier request replaced with its
 * own query (DEALLOCATE, then PREPARE under the same name) would run for
 * the later request, with its parameters, whether or not that request
 * calls gtm_set_tenant (a named "SELECT gtm_set_tenant($1)" replaced too).
 */
void
refuse_bound_sql_prepared(void)
{
	Portal		portal = ActivePortal;
	PreparedStatement *ps;

	if (portal == NULL || portal->prepStmtName == NULL)
		return;					/* SQL, EXECUTE, or an unnamed statement */
	note_client_statement(portal->prepStmtName);
	if (gtm_enforcement == GTM_ENFORCE_OFF || likely(!sql_prepare_ran))
		return;
	/* looked up as Bind did (a name is cut to NAMEDATALEN - 1 bytes) */
	ps = FetchPreparedStatement(portal->prepStmtName, false);
	if (ps == NULL || !ps->from_sql || role_is_exempt())
		return;
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("prepared statement \"%s\" was made by SQL PREPARE and cannot be bound by the protocol",
					portal->prepStmtName),
			 errdetail("Behind a connection pool an earlier request can replace a statement the client prepared with its own query under the same name."),
			 errhint("Run DEALLOCATE ALL or DISCARD ALL and prepare the statement again; do not mix SQL PREPARE with a client's named statements.")));
}

/*
 * Does the session hold a statement that SQL PREPARE made for a role the
 * rule applies to?  Names are forgotten only when DEALLOCATE or DISCARD
 * ALL removes statements (forget_sql_prepared), never here: a PREPARE
 * whose analysis runs this check (a domain's CHECK calling
 * gtm_set_tenant) would otherwise have its own name forgotten before its
 * statement exists.
 */
static bool
sql_prepared_statements(void)
{
	ListCell   *lc;

	foreach(lc, sql_prepared_names)
	{
		PreparedStatement *ps = FetchPreparedStatement((char *) lfirst(lc), false);

		if (ps != NULL && ps->from_sql)
			return true;
	}
	return false;
}

/*
 * The statements an exempt role prepared with SQL PREPARE, by name and
 * CachedPlanSource (a statement prepared again under the same name is
 * another one); recorded after the PREPARE completed, forgotten with the
 * statement.  EXECUTE by an exempt role of any other statement (one the
 * session's ordinary role prepared, with SQL or the protocol) is refused
 * (exempt_callers.c): its expressions are that role's code.
 */
typedef struct ExemptPrepared
{
	char		name[NAMEDATALEN];
	CachedPlanSource *plansource;
	MemoryContextCallback cb;	/* in the plan source's memory: forgets it */
} ExemptPrepared;

static List *exempt_prepared = NIL;

/*
 * The memory of a recorded statement's plan source goes away (DEALLOCATE,
 * DISCARD ALL, or the protocol's Close, which no hook sees): forget it
 * before another statement can be made at the same address.
 */
static void
exempt_prepared_gone(void *arg)
{
	ExemptPrepared *ep = (ExemptPrepared *) arg;

	exempt_prepared = list_delete_ptr(exempt_prepared, ep);
	pfree(ep);
}

/* gtm_ProcessUtility, after a PREPARE completed as an exempt role */
void
note_exempt_prepared(PrepareStmt *stmt)
{
	PreparedStatement *ps;
	ExemptPrepared *ep;
	MemoryContext old;

	if (stmt->name == NULL || stmt->name[0] == '\0' ||
		(ps = FetchPreparedStatement(stmt->name, false)) == NULL)
		return;
	old = MemoryContextSwitchTo(TopMemoryContext);
	ep = palloc(sizeof(ExemptPrepared));
	strlcpy(ep->name, stmt->name, NAMEDATALEN);
	ep->plansource = ps->plansource;
	exempt_prepared = lappend(exempt_prepared, ep);
	MemoryContextSwitchTo(old);
	ep->cb.func = exempt_prepared_gone;
	ep->cb.arg = ep;
	MemoryContextRegisterResetCallback(ps->plansource->context, &ep->cb);
}

/* Was the prepared statement "name" prepared by an exempt role? */
bool
statement_prepared_by_exempt(const char *name)
{
	PreparedStatement *ps;
	ListCell   *lc;

	if (name == NULL || (ps = FetchPreparedStatement(name, false)) == NULL)
		return true;			/* none: EXECUTE raises by itself */
	foreach(lc, exempt_prepared)
	{
		ExemptPrepared *ep = lfirst(lc);

		if (ep->plansource == ps->plansource && strcmp(ep->name, name) == 0)
			return true;
	}
	return false;
}


/*
 * gtm_ProcessUtility, after a DEALLOCATE (name NULL: ALL) or DISCARD ALL
 * completed: forget the names whose statements are gone.
 */
void
forget_sql_prepared(void)
{
	List	   *kept = NIL;
	ListCell   *lc;
	MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

	foreach(lc, sql_prepared_names)
	{
		char	   *name = lfirst(lc);

		if (FetchPreparedStatement(name, false) != NULL)
			kept = lappend(kept, name);
		else
			pfree(name);
	}
	list_free(sql_prepared_names);
	sql_prepared_names = kept;
	prepared_dirty = kept != NIL;
	MemoryContextSwitchTo(old);
}

/*
 * An object was created or altered (OAT_POST_CREATE, OAT_POST_ALTER: made,
 * renamed or moved to another schema); called by the object access hook
 * (gtm_object_access, enforce_planning.c).
 */
void
temp_note_object_changed(Oid classId)
{
	if (classId == RelationRelationId || classId == TypeRelationId)
		temp_dirty = true;
}

/*
 * A rollback brings back what its (sub)transaction dropped, which a read
 * inside it did not see: read again.
 */
static void
temp_xact_abort(XactEvent event, void *arg)
{
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
		temp_dirty = true;
}

static void
temp_subxact_abort(SubXactEvent event, SubTransactionId mySubid,
				   SubTransactionId parentSubid, void *arg)
{
	if (event == SUBXACT_EVENT_ABORT_SUB)
		temp_dirty = true;
}

/*
 * The two catalogs of the temporary objects whose use runs code of theirs:
 * relations (a view's query, a table's triggers, rules, defaults, checks,
 * index expressions) and types (a domain's CHECK).  PostgreSQL also looks
 * up relation and type names in the temporary schema before any other.
 */
typedef struct TempCatalog
{
	Oid			catalog;		/* pg_class or pg_type */
	AttrNumber	nsp_attr;		/* its namespace column */
	AttrNumber	owner_attr;		/* its owner column */
} TempCatalog;

static const TempCatalog temp_catalogs[] = {
	{RelationRelationId, Anum_pg_class_relnamespace, Anum_pg_class_relowner},
	{TypeRelationId, Anum_pg_type_typnamespace, Anum_pg_type_typowner},
};

/*
 * Does the session's temporary schema hold an object of the catalog that a
 * role the rule applies to owns?
 */
static bool
temp_objects_of(const TempCatalog *tc, Oid tempNamespace)
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
		Datum		owner;

		CHECK_FOR_INTERRUPTS();
		owner = heap_getattr(tup, tc->owner_attr, RelationGetDescr(rel), &isnull);

		/*
		 * An object of an exempt role (superuser, BYPASSRLS) runs code that
		 * role wrote, which could read every tenant anyway: not the earlier
		 * request's of a role the rule applies to.
		 */
		if (isnull || superuser_arg(DatumGetObjectId(owner)) ||
			has_bypassrls_privilege(DatumGetObjectId(owner)))
			continue;

		/*
		 * Also one this transaction wrote: the earlier request's code may
		 * have run in this one before gtm_set_tenant() (a domain's CHECK
		 * while the request's first statement is parsed) and written the
		 * rows of its objects anew (a rename there and back).  A request
		 * creates its temporary objects after setting its tenant.
		 */
		earlier = true;
		break;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return earlier;
}

/*
 * Does the session's temporary schema hold a relation or type that a role
 * the rule applies to owns?
 */
static bool
temp_objects(void)
{
	Oid			tempNamespace;
	Oid			tempToastNamespace;

	GetTempNamespaceState(&tempNamespace, &tempToastNamespace);
	if (!OidIsValid(tempNamespace))
		return false;
	for (int i = 0; i < lengthof(temp_catalogs); i++)
		if (temp_objects_of(&temp_catalogs[i], tempNamespace))
			return true;
	return false;
}

/*
 * The statements sent before a request sets its tenant (a sign-in, a
 * session lookup) run before gtm_set_tenant() looks: a temporary type of an
 * earlier request named like a built-in one ("text", "uuid"; PostgreSQL
 * looks type names up in pg_temp first) would receive their parameters
 * ("$1::text", converted at Bind through its CHECK), and a temporary view
 * named like a table their reads.  So while temporary objects may exist
 * (temp_dirty), post_parse_analyze_hook refuses, for a role the rule
 * applies to, a statement that names a temporary relation or type an
 * earlier transaction created and that hides one of the same name of
 * another schema, before it is bound or run.
 */
static post_parse_analyze_hook_type prev_post_parse_analyze_hook = NULL;

/*
 * Is (catalog, oid) a temporary relation or type that an earlier
 * transaction wrote and whose name another schema of the search path also
 * has, which it hides (a view "deals", a domain "text")?
 */
static bool
earlier_temp_object(int cacheid, Oid oid, AttrNumber nsp_attr, AttrNumber name_attr)
{
	HeapTuple	tup = SearchSysCache1(cacheid, ObjectIdGetDatum(oid));
	bool		hides = false;

	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		nsp = SysCacheGetAttr(cacheid, tup, nsp_attr, &isnull);

		if (!isnull && isTempNamespace(DatumGetObjectId(nsp)) &&
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)))
		{
			char	   *name = NameStr(*DatumGetName(SysCacheGetAttr(cacheid, tup, name_attr, &isnull)));
			List	   *path = fetch_search_path(true);
			ListCell   *lc;

			foreach(lc, path)
			{
				Oid			other = lfirst_oid(lc);

				if (other == DatumGetObjectId(nsp) || isAnyTempNamespace(other))
					continue;
				if (cacheid == RELOID ? OidIsValid(get_relname_relid(name, other)) :
					OidIsValid(GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
											   CStringGetDatum(name),
											   ObjectIdGetDatum(other))))
				{
					hides = true;
					break;
				}
			}
			list_free(path);
		}
		ReleaseSysCache(tup);
	}
	return hides;
}

static bool
earlier_temp_walker(Node *node, void *context)
{
	Oid			typid;

	if (node == NULL)
		return false;
	if (IsA(node, Query))
	{
		ListCell   *lc;

		foreach(lc, ((Query *) node)->rtable)
		{
			RangeTblEntry *rte = lfirst(lc);

			if (rte->rtekind == RTE_RELATION && rte->relid >= FirstNormalObjectId &&
				earlier_temp_object(RELOID, rte->relid, Anum_pg_class_relnamespace, Anum_pg_class_relname))
				return true;
		}
		return query_tree_walker((Query *) node, earlier_temp_walker, context, 0);
	}
	typid = expression_value_type(node);
	if (typid >= FirstNormalObjectId &&
		earlier_temp_object(TYPEOID, typid, Anum_pg_type_typnamespace, Anum_pg_type_typname))
		return true;
	return expression_tree_walker(node, earlier_temp_walker, context);
}

static void
gtm_temp_post_parse_analyze(ParseState *pstate, Query *query, JumbleState *jstate)
{
	Oid			tempNamespace;
	Oid			tempToastNamespace;

	if (prev_post_parse_analyze_hook)
		prev_post_parse_analyze_hook(pstate, query, jstate);
	/* text read with the setting Citus may have written it for */
	if (unlikely(!standard_conforming_strings) && distributed_planner_loaded())
		refuse_nonstandard_strings_analyzed(pstate, query);
	/* a tenant this analysis reached (tenant_session.c): rare */
	if (unlikely(scope_set_unframed))
		statement_scope_note_parse(pstate);
	/*
	 * Not in a failed transaction, where only ROLLBACK and the like are
	 * analysed (they name no object) and no catalog may be read: its
	 * resource owner is released (PostgreSQL 17 refuses the lookup).
	 */
	if (likely(!temp_dirty) || gtm_enforcement == GTM_ENFORCE_OFF ||
		!IsTransactionState())
		return;
	GetTempNamespaceState(&tempNamespace, &tempToastNamespace);
	if (!OidIsValid(tempNamespace) || role_is_exempt() || !gtm_installed_here())
		return;
	if (earlier_temp_walker((Node *) query, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the statement names a temporary object of an earlier request"),
				 errdetail("Behind a connection pool a temporary type or view named like the application's runs the earlier request's code with this request's values."),
				 errhint("Run DISCARD TEMP before the request (or make DISCARD ALL the pool's reset query), or drop temporary objects before the transaction ends (ON COMMIT DROP).")));
}

/*
 * gtm_set_tenant: refuse a request on a connection that keeps temporary
 * relations or types of a role the rule applies to (see the file header):
 * an earlier request's, or ones whose rows this transaction wrote before
 * the request set its tenant (the earlier request's code may have run in
 * it, rewriting them).  A request creates its own after setting its tenant
 * and drops them before its transaction ends.
 */
void
check_no_earlier_temp_objects(void)
{
	Oid			caller = GetOuterUserId();	/* gtm_set_tenant is SECURITY DEFINER */

	if ((!temp_dirty && !prepared_dirty) || gtm_enforcement == GTM_ENFORCE_OFF ||
		superuser_arg(caller) || has_bypassrls_privilege(caller))
		return;
	if (prepared_dirty && sql_prepared_statements())
		ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("the connection keeps prepared statements made by SQL PREPARE"),
					 errdetail("Behind a connection pool an earlier request's PREPARE replaces a statement the next request's client prepared under the same name, and runs that request's parameters through the earlier request's query."),
					 errhint("Run DEALLOCATE ALL before the request (or make DISCARD ALL the pool's reset query), or DEALLOCATE what a request prepares before its transaction ends; a client's protocol-level named statements are not affected.")));
	if (!temp_dirty)
		return;
	if (!temp_objects())
	{
		temp_dirty = false;		/* nothing to read again until one is created */
		return;
	}
	/* switching tenants inside one transaction: the objects are the first's */
	if (gtm_session_tenant != NULL && gtm_session_tenant[0] != '\0')
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the connection keeps temporary objects created for tenant '%s'",
						gtm_msg_value(gtm_session_tenant, -1, false)),
				 errdetail("Temporary views, domains and tables run their creator's code in the next tenant's statements."),
				 errhint("Drop them before switching the tenant (DROP ..., or DISCARD TEMP), or run each tenant's work in a transaction of its own with ON COMMIT DROP.")));
	ereport(ERROR,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("the connection keeps temporary objects of an earlier request"),
			 errdetail("Behind a connection pool they run the earlier request's code in this one: a temporary view named like a table of the application shows it another tenant's rows, a temporary domain's CHECK or a temporary table's trigger runs with this request's tenant."),
			 errhint("Run DISCARD TEMP before the request (or make DISCARD ALL the pool's reset query), or drop temporary objects before the transaction ends (ON COMMIT DROP).")));
}

/* Called once from _PG_init (through gtm_enforce_init). */
void
tenant_temp_init(void)
{
	prev_post_parse_analyze_hook = post_parse_analyze_hook;
	post_parse_analyze_hook = gtm_temp_post_parse_analyze;
	RegisterXactCallback(temp_xact_abort, NULL);
	RegisterSubXactCallback(temp_subxact_abort, NULL);
}
