/*-------------------------------------------------------------------------
 *
 * tenant_unframed.c
 *	  No statement on tenant tables while a client statement is analysed
 *	  or its parameters are converted.
 *
 * A domain's CHECK runs when a literal of the domain is analysed and when
 * Bind converts a parameter to it, and a temporary domain of the caller's
 * may read or change tenant tables there: itself (a function of its
 * pg_temp), through what that runs in turn (a nested statement, a cursor,
 * CREATE TABLE AS) or through a built-in that runs SQL (query_to_xml()).
 * In the extended protocol that happens in the Parse or Bind message while
 * the statement runs in Execute, a later message, maybe of a later
 * transaction (Parse, Describe, Sync, then Bind, Execute, Sync, as pgx and
 * asyncpg send them), and each message is a top-level statement of its own
 * for the scope (tenant_session.c): one UPDATE changed T2's row at Parse
 * or at Bind and T1's at Execute (rounds CQ, CS, CT).  Nothing an
 * application means runs SQL there, so such a statement is refused.
 *
 * Such code runs "unframed": with no portal active and no frame of ours
 * (executor run, utility statement, planner) -- between a client's
 * statements -- and so does whatever it runs in turn: the caller's pg_temp
 * functions it calls (counted by the function manager hook,
 * enforce_planning.c) and the runs of the executors it starts (counted by
 * tenant_session.c).  The deferred triggers a commit fires (at the Sync
 * that ends an implicit transaction) run unframed too; they belong to the
 * tenant of the statements that queued them (tenant_deferred.c), and are
 * not refused here.
 *
 * IDENTIFICATION
 *	  src/tenant_unframed.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "executor/execdesc.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* Calls of the caller's pg_temp functions entered unframed, running now */
int			unframed_code_depth = 0;

/* Executors started unframed, alive (tenant_session.c counts them) */
int			unframed_executors = 0;

/*
 * statement_scope_executor_started: an executor of a plan on tenant tables
 * starts unframed, for a role the check applies to, with no deferred
 * triggers of the transaction's to fire: refused.
 */
void
refuse_unframed_statement(QueryDesc *queryDesc)
{
	if (deferred_triggers_queued() || role_is_exempt() || !gtm_installed_here())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a statement on tenant-scoped tables cannot run outside the statements of a client message"),
			 errdetail("It runs while a statement is analysed or its parameters are converted (a domain's CHECK on a literal or a parameter), or while a commit fires a trigger of a temporary table: apart from the statement it belongs to, which reaches its own tenant."),
			 errhint("Do not read or write tenant tables in the CHECK of a domain or in a deferred trigger of a temporary table.")));
}
