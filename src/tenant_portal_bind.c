/*-------------------------------------------------------------------------
 *
 * tenant_portal_bind.c
 *	  One statement, one tenant across the messages of the extended
 *	  protocol: what a portal's Bind reached is reached by its Execute.
 *
 * The library counts a top-level statement per client message (the
 * statement start time PostgreSQL sets for each), and the extended
 * protocol runs one SQL statement in several: Bind converts the
 * parameters and plans, and a write's executor starts in Execute.  Code
 * that runs at Bind (a domain's CHECK on a parameter, at any depth of
 * calls) reaches tenants in a statement of its own; this file keeps what
 * each statement of the transaction reached, by its start, so that a
 * portal's start can find its Bind's (portal->creation_time) and reach it
 * again (tenant_session.c: statement_scope_executor_started).
 *
 * IDENTIFICATION
 *	  src/tenant_portal_bind.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * The tenants that the top-level statements of the running transaction
 * reached, by their start: the last MESSAGE_REACH_MAX, for the portals
 * that the extended protocol binds in one message and executes in a later
 * one.  Bind converts the parameters (a domain's CHECK, the caller's code,
 * at any depth of calls) and plans, outside the portal; a write's
 * executor starts at Execute, a top-level statement of its own: what the
 * Bind reached is the statement's, and its Execute may not reach another
 * (round FY: an INSERT pinned to T1 wrote into T1's row what its
 * parameter's CHECK read from T2 at Bind, and the CHECK changed T2's row;
 * round FZ: also when the CHECK reached T2 through a function it called
 * per row).  message_reach_lost is the start of the latest statement whose
 * tenant was dropped from the ring: a portal bound then or before, whose
 * Bind is not found, fails closed.  Kept in TopTransactionContext,
 * forgotten when the transaction ends (scope_xact_end).
 */
#define MESSAGE_REACH_MAX 8
typedef struct MessageReach
{
	TimestampTz started;
	char	   *tenant;
} MessageReach;

static MessageReach message_reach[MESSAGE_REACH_MAX];
static int	message_reach_count = 0;
static int	message_reach_next = 0;
static TimestampTz message_reach_lost = 0;

/* Is any noted (or lost)?  Read at every executor start */
bool		message_reach_pending GTM_HOT_DATA = false;

/* The statement that ends (started at started) reached tenant: note it */
void
message_reach_note(TimestampTz started, const char *tenant)
{
	MessageReach *m = &message_reach[message_reach_next];

	if (!IsTransactionState())
		return;
	if (message_reach_count == MESSAGE_REACH_MAX)
	{
		if (m->started > message_reach_lost)
			message_reach_lost = m->started;
		pfree(m->tenant);
	}
	else
		message_reach_count++;
	m->started = started;
	m->tenant = MemoryContextStrdup(TopTransactionContext, tenant);
	message_reach_next = (message_reach_next + 1) % MESSAGE_REACH_MAX;
	message_reach_pending = true;
}

/* The transaction ends: forget them (their memory goes with it) */
void
message_reach_forget(void)
{
	message_reach_count = 0;
	message_reach_next = 0;
	message_reach_lost = 0;
	message_reach_pending = false;
}

/*
 * A tenant executor starts in a portal bound by an earlier message of the
 * transaction (created at bound): what that message reached is reached by
 * the running statement too.
 */
void
portal_bind_reach(TimestampTz bound)
{
	for (int i = 0; i < message_reach_count; i++)
		if (message_reach[i].started == bound)
		{
			statement_scope_check(message_reach[i].tenant,
								  "0:the Bind of this statement's portal",
								  ENFORCE_ELEVEL());
			return;
		}
	if (bound <= message_reach_lost)
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("the tenant that this statement's portal reached when it was bound is no longer known"),
				 errdetail("More than %d statements of the transaction reached a tenant since the Bind of the portal.",
						   MESSAGE_REACH_MAX),
				 err_tenant_scope(InvalidOid),
				 errhint("Execute a portal right after its Bind.")));
}
