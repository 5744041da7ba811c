/*-------------------------------------------------------------------------
 *
 * tenant_deferred.c
 *	  Deferred triggers belong to the tenant of the statements that queued
 *	  them.
 *
 * A trigger that fires deferred (INITIALLY DEFERRED, or DEFERRABLE after
 * SET CONSTRAINTS ... DEFERRED) runs when the transaction ends or at SET
 * CONSTRAINTS ... IMMEDIATE, with the rows a statement wrote, after the
 * request may have switched its tenant: an audit trigger logging NEW under
 * gtm_current_tenant() would log one tenant's row under another.  So once
 * a statement of the transaction queued such triggers (noted at its
 * executor's finish, or after COPY FROM, which fires triggers without an
 * executor), no statement of the transaction may reach another tenant, and
 * the statements COMMIT, PREPARE TRANSACTION and SET CONSTRAINTS run in
 * that tenant's top-level statement.  A transaction whose statements
 * reached several tenants before (without queuing) fires its deferred
 * triggers for none (doc/tenant-context.md).
 *
 * IDENTIFICATION
 *	  src/tenant_deferred.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_inherits.h"
#include "executor/executor.h"
#include "nodes/parsenodes.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * Deferred triggers are firing for statements that reached several
 * tenants: every tenant is refused (statement_scope_deferred_enter).  For
 * SET CONSTRAINTS, while it runs; for COMMIT and PREPARE TRANSACTION, which
 * fire them once the statement has returned, until the transaction ends.
 */
static int	deferred_several GTM_HOT_DATA = 0;
static bool deferred_several_at_end GTM_HOT_DATA = false;

/*
 * The tenant of the statements of the running transaction that wrote rows
 * of a table with deferrable constraint triggers of the database's
 * (deferred_tenant): the triggers may fire at the transaction's end,
 * wherever it ends (COMMIT, the Sync of an extended-protocol pipeline, a
 * procedure's COMMIT), with the rows those statements wrote.  No statement
 * of the transaction may reach another tenant after one queued them, and
 * the end of the transaction belongs to that tenant.
 */
static char *deferred_tenant GTM_HOT_DATA = NULL;	/* in TopMemoryContext */
static int	deferred_level = 0;	/* the (sub)transaction that noted it */
static bool subxact_callback_registered = false;

/* SET CONSTRAINTS ... DEFERRED ran in the transaction: any deferrable may be */
static bool constraints_deferred GTM_HOT_DATA = false;


static bool trigdesc_defers(TriggerDesc *td);

/*
 * Has a result relation of the executor triggers of its own that fire
 * deferred: INITIALLY DEFERRED ones, or any DEFERRABLE one once SET
 * CONSTRAINTS ... DEFERRED ran in the transaction?
 */
static bool
queues_deferred(List *result_rels)
{
	ListCell   *lc;

	foreach(lc, result_rels)
	{
		if (trigdesc_defers(((ResultRelInfo *) lfirst(lc))->ri_TrigDesc))
			return true;
	}
	return false;
}

/* Has the trigger descriptor a trigger of its own that fires deferred? */
static bool
trigdesc_defers(TriggerDesc *td)
{
	for (int i = 0; td != NULL && i < td->numtriggers; i++)
		if (!td->triggers[i].tgisinternal &&
			(td->triggers[i].tginitdeferred ||
			 (td->triggers[i].tgdeferrable && constraints_deferred)))
			return true;
	return false;
}

/*
 * A subtransaction ends.  Rolled back (ROLLBACK TO SAVEPOINT, an exception
 * block), PostgreSQL discards the deferred triggers its statements queued:
 * when the tenant was noted there, no statement left queued any, and the
 * transaction may reach another tenant again.  Committed, what it noted
 * belongs to its parent.
 */
static void
deferred_subxact_end(SubXactEvent event, SubTransactionId mySubid,
					 SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (deferred_tenant == NULL || deferred_level < level)
		return;
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		pfree(deferred_tenant);
		deferred_tenant = NULL;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
		deferred_level = level - 1;
}

/* Note that the running top-level statement queued deferred triggers. */
static void
note_deferred(void)
{
	const char *tenant = statement_scope_tenant();

	if (tenant == NULL)
		return;
	if (deferred_tenant == NULL)
	{
		if (!subxact_callback_registered)
		{
			RegisterSubXactCallback(deferred_subxact_end, NULL);
			subxact_callback_registered = true;
		}
		deferred_tenant = MemoryContextStrdup(TopMemoryContext, tenant);
		deferred_level = GetCurrentTransactionNestLevel();
	}
	else if (strcmp(deferred_tenant, tenant) != 0)
		report_deferred_queued(deferred_tenant, statement_scope_label(), tenant,
							   ENFORCE_ELEVEL());
}

/*
 * COPY ... FROM, which fires its table's triggers without an executor:
 * rows written into relid (or its partitions) queued its deferred
 * triggers for the running top-level statement's tenant.
 */
void
statement_scope_note_deferred_copy(Oid relid)
{
	List	   *rels;
	ListCell   *lc;

	if (gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		!scope_has_tenant() || !OidIsValid(relid))
		return;
	rels = get_rel_relkind(relid) == RELKIND_PARTITIONED_TABLE ?
		find_all_inheritors(relid, AccessShareLock, NULL) : list_make1_oid(relid);
	foreach(lc, rels)
	{
		Relation	rel = table_open(lfirst_oid(lc), AccessShareLock);
		bool		defers = trigdesc_defers(rel->trigdesc);

		table_close(rel, AccessShareLock);
		if (defers)
		{
			note_deferred();
			return;
		}
	}
}

/*
 * ExecutorFinish (its AFTER triggers queued): a statement that wrote rows
 * of a table with deferrable triggers (its partitions', the tables its
 * foreign-key actions wrote) queued them for the transaction's tenant
 * (deferred_tenant).
 */
void
statement_scope_note_deferred(QueryDesc *queryDesc)
{
	EState	   *estate = queryDesc->estate;

	/*
	 * Whoever runs this executor: a foreign-key action runs as the owner
	 * of the table it writes (maybe exempt) for a statement of the running
	 * top-level statement's tenant (scope_tenant, set only by the pins of
	 * roles the rule applies to).
	 */
	/*
	 * (scope_has_tenant() only where deferred triggers are queued: asking
	 * it here, at the end of every executor, would keep the top-level
	 * statement alive into the next client message when a portal of the
	 * last one finishes in it.)
	 */
	if (estate == NULL || gtm_enforcement == GTM_ENFORCE_OFF ||
		IsParallelWorker() ||
		!(queues_deferred(estate->es_opened_result_relations) ||
		  queues_deferred(estate->es_tuple_routing_result_relations)) ||
		!scope_has_tenant())
		return;
	note_deferred();
}

/*
 * COMMIT, PREPARE TRANSACTION and SET CONSTRAINTS fire the deferred
 * triggers that the transaction's statements queued (COMMIT in a client
 * message of its own, a top-level statement of its own, and the triggers
 * fire when it has returned, still in that message): what they run
 * belongs to the tenant those statements reached, and to none when they
 * reached several, not to whatever session tenant the transaction ends
 * with.  Returns what to pass to statement_scope_deferred_exit.
 */
int
statement_scope_deferred_enter(Node *parsetree)
{
	int			saved = deferred_several;

	if (IsA(parsetree, TransactionStmt))
	{
		TransactionStmtKind kind = ((TransactionStmt *) parsetree)->kind;

		if (kind != TRANS_STMT_COMMIT && kind != TRANS_STMT_PREPARE)
			return saved;
	}
	else if (IsA(parsetree, ConstraintsSetStmt))
	{
		if (((ConstraintsSetStmt *) parsetree)->deferred)
		{
			constraints_deferred = true;	/* until the transaction ends */
			transaction_callback_ensure();
			return saved;
		}
	}
	else
		return saved;
	if (gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		(transaction_tenant() == NULL && !transaction_many_tenants()) ||
		role_is_exempt())
		return saved;
	if (deferred_tenant != NULL)
		statement_scope_check(deferred_tenant, "0:the deferred triggers of the transaction's statements",
							  ENFORCE_ELEVEL());
	else if (transaction_many_tenants() && IsA(parsetree, TransactionStmt))
		deferred_several_at_end = true;
	else if (transaction_many_tenants())
		deferred_several++;
	else
		statement_scope_check(transaction_tenant(), "0:the deferred triggers of the transaction's statements",
							  ENFORCE_ELEVEL());
	return saved;
}

void
statement_scope_deferred_exit(int saved)
{
	deferred_several = saved;
}

/* statement_scope_check: a statement reaches tenant (label: its table) */
void
deferred_check_reach(const char *tenant, const char *label, int elevel)
{
	if (unlikely(deferred_tenant != NULL) && strcmp(deferred_tenant, tenant) != 0)
		report_deferred_queued(deferred_tenant, label, tenant, elevel);
	if (unlikely(deferred_several > 0 || deferred_several_at_end))
		report_deferred_several(label, tenant, elevel);
}

/* The transaction ends (scope_xact_end): forget what it queued. */
void
deferred_xact_end(void)
{
	deferred_several_at_end = false;
	if (deferred_tenant != NULL)
		pfree(deferred_tenant);
	deferred_tenant = NULL;
	constraints_deferred = false;
}
