/*-------------------------------------------------------------------------
 *
 * tenant_request_bounds.c
 *	  What would outlive a request on a pooled connection, refused.
 *
 * Behind a connection pool (PgBouncer in transaction mode, an
 * application's pg.Pool) the next request on a server connection may be
 * another tenant's.  gtm_ProcessUtility refuses, to roles the rule applies
 * to, the statements by which a request's transaction, or what it holds,
 * would reach the next one: BEGIN inside a transaction an earlier client
 * message started (refuse_begin_in_transaction), PREPARE TRANSACTION,
 * COMMIT PREPARED and ROLLBACK PREPARED (refuse_two_phase_commit), and
 * DECLARE ... WITH HOLD (refuse_held_cursor).  gtm_check_statement names
 * the two-phase commit statements with two_phase_command.
 *
 * IDENTIFICATION
 *	  src/tenant_request_bounds.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * gtm_ProcessUtility: BEGIN or START TRANSACTION inside a transaction that
 * an earlier client message started is an error for roles the rule applies
 * to, not PostgreSQL's warning.  Behind a pool, that transaction can be an
 * earlier request's, left open with its tenant (a client released without
 * COMMIT, also after COMMIT AND CHAIN): the request would run in it, and
 * one that forgot to set its tenant would read and write the earlier
 * request's.  A transaction starts with the message that starts it (its
 * start time is that message's), so an implicit block of this message's
 * statements ("SELECT 1; BEGIN; ...") is not refused.
 */
void
refuse_begin_in_transaction(TransactionStmt *stmt)
{
	if (stmt->kind != TRANS_STMT_BEGIN && stmt->kind != TRANS_STMT_START)
		return;
	if (IsTransactionBlock() &&
		GetCurrentTransactionStartTimestamp() != GetCurrentStatementStartTimestamp() &&
		gtm_enforcement != GTM_ENFORCE_OFF && !role_is_exempt() && gtm_installed_here())
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("there is already a transaction in progress"),
				 errdetail("Behind a connection pool it may be an earlier request's, left open with its tenant: this request would run in it."),
				 errhint("End each transaction with COMMIT or ROLLBACK before the connection goes back to the pool.")));
}

/*
 * The name of a two-phase commit statement (PREPARE TRANSACTION, COMMIT
 * PREPARED, ROLLBACK PREPARED), or NULL for any other transaction
 * statement; also for gtm_check_statement's row.
 */
const char *
two_phase_command(TransactionStmt *stmt)
{
	switch (stmt->kind)
	{
		case TRANS_STMT_PREPARE:
			return "PREPARE TRANSACTION";
		case TRANS_STMT_COMMIT_PREPARED:
			return "COMMIT PREPARED";
		case TRANS_STMT_ROLLBACK_PREPARED:
			return "ROLLBACK PREPARED";
		default:
			return NULL;
	}
}

/*
 * gtm_ProcessUtility: PREPARE TRANSACTION, COMMIT PREPARED and ROLLBACK
 * PREPARED by a role the rule applies to.  A prepared transaction outlives
 * the request: any later session of the role may commit or roll it back by
 * its gid, which pg_prepared_xacts shows to everyone, and PostgreSQL
 * checks only the role (round FG: a request of T1, behind the same role,
 * rolled back T2's insert).  Those commands run outside any transaction
 * block, where no tenant of the request is set, so none can be compared.
 * Nor can the transaction's own tenant be known at PREPARE: its deferred
 * triggers and foreign-key actions write after this hook, any tenant's
 * rows (round FH: a deferred trigger's insert of T2, prepared by a
 * transaction that reached no tenant, then committed by a request of T1).
 * Refused, but to Citus.
 */
void
refuse_two_phase_commit(TransactionStmt *stmt)
{
	const char *what = two_phase_command(stmt);

	if (what == NULL)
		return;
	if (gtm_enforcement == GTM_ENFORCE_OFF || role_is_exempt() ||
		!gtm_installed_here())
		return;

	/*
	 * On a Citus node: the coordinator commits its distributed
	 * transactions in two phases over connections of the client's role
	 * (its tasks' writes were judged there, and mark_distributed_command
	 * carries their tenant into this PREPARE's deferred triggers), and
	 * ends or recovers them itself.  (A client may name itself so: keep
	 * clients off the workers, doc/scaling-out.md.)
	 */
	if (distributed_planner_loaded() && citus_connection())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s is not allowed for this role", what),
			 errdetail("A prepared transaction outlives its request: any later session of role \"%s\", whatever its tenant, could commit or roll it back, with the rows of any tenant its triggers and foreign-key actions write.",
					   GetUserNameFromId(GetUserId(), true)),
			 errhint("End the transaction with COMMIT; two-phase commit is left to roles exempt from the check.")));
}

/*
 * gtm_ProcessUtility: DECLARE ... WITH HOLD by a role the rule applies to.
 * A held cursor outlives its transaction: its rows, materialized at
 * commit (also the rows that functions of its query read only then), are
 * fetched by whatever transaction comes next on the connection, another
 * tenant's request behind a pool included, whether or not that request
 * sets its tenant; and PL/pgSQL fetches it through SPI, without a
 * statement this hook sees (round FG).  Refused before it is declared.
 */
void
refuse_held_cursor(DeclareCursorStmt *stmt)
{
	if ((stmt->options & CURSOR_OPT_HOLD) == 0 ||
		gtm_enforcement == GTM_ENFORCE_OFF || role_is_exempt() ||
		!gtm_installed_here())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("WITH HOLD cursors are not allowed for this role"),
			 errdetail("A held cursor outlives its transaction: behind a connection pool the next request on the connection, another tenant's, could fetch its rows."),
			 errhint("Declare the cursor without WITH HOLD and read it inside the transaction that declares it.")));
}
