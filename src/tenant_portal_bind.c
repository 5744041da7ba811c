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
 * the statements of the transaction reached, by the start times of the
 * messages each spans, so that the start of a portal bound by an earlier
 * message can find what its Bind reached (portal->creation_time) and reach
 * it again (statement_scope_portal_start: at an executor's or a utility
 * statement's start in that portal, whatever it touches).
 *
 * IDENTIFICATION
 *	  src/tenant_portal_bind.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "access/xact.h"
#include "tcop/pquery.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * What the ended top-level statements of the running transaction reached,
 * by the start times of the client messages in which they reached it (a
 * statement whose executor stays open, a cursor, spans the messages sent
 * meanwhile: the Bind of another portal among them, round GA), as ranges
 * in time order, in TopTransactionContext (consecutive ones of one tenant
 * share its copy); forgotten when the transaction ends.  Round FY: an INSERT pinned to T1 wrote into
 * T1's row what its parameter's domain CHECK read from T2 at Bind, and the
 * CHECK changed T2's row; round FZ: also one call down.  At most
 * MESSAGE_REACH_MAX ranges: past that the older half is dropped, and a
 * portal bound before lost_before fails closed (only after so many
 * statements that reached a tenant, in one transaction).
 */
#define MESSAGE_REACH_MAX 65536
#define MESSAGE_REACH_BYTES (1024 * 1024)	/* of tenants' copies */
typedef struct MessageReach
{
	TimestampTz first;
	TimestampTz last;
	char	   *tenant;
} MessageReach;

static MessageReach *reaches = NULL;
static int	nreaches = 0;
static int	maxreaches = 0;
static Size reach_bytes = 0;
static TimestampTz lost_before = 0;

/* Is any noted (or lost)?  Read at every executor start */
bool		message_reach_pending GTM_HOT_DATA = false;

/* A statement reached tenant in the messages started from first to last */
static void
message_reach_note(TimestampTz first, TimestampTz last, const char *tenant)
{
	MessageReach *m;
	char	   *copy = NULL;

	/*
	 * (Also in a failed transaction or subtransaction, whose top transaction
	 * runs on, and may execute the portal after ROLLBACK TO: round GB.)
	 */
	if (TopTransactionContext == NULL)
		return;
	/* the copy of one of the last two ranges (tenants that alternate) */
	for (int i = nreaches - 1; i >= 0 && i >= nreaches - 2; i--)
		if (strcmp(reaches[i].tenant, tenant) == 0)
			copy = reaches[i].tenant;
	if (reaches == NULL)
	{
		maxreaches = 16;
		reaches = MemoryContextAlloc(TopTransactionContext,
									 maxreaches * sizeof(MessageReach));
	}
	else if (nreaches == maxreaches && maxreaches < MESSAGE_REACH_MAX)
	{
		maxreaches *= 2;
		reaches = repalloc(reaches, maxreaches * sizeof(MessageReach));
	}
	if (nreaches == maxreaches ||
		(copy == NULL && reach_bytes + strlen(tenant) + 1 > MESSAGE_REACH_BYTES && nreaches > 1))
	{
		int			half = Max(nreaches / 2, 1);

		/*
		 * The older half dropped.  A copy is shared by a chain of ranges
		 * each within two of the one before (see above): it is freed at
		 * its last range, one with no other holder among the next two.
		 */
		for (int i = 0; i < half; i++)
		{
			char	   *t = reaches[i].tenant;

			if ((i + 1 < nreaches && reaches[i + 1].tenant == t) ||
				(i + 2 < nreaches && reaches[i + 2].tenant == t))
				continue;
			reach_bytes -= strlen(t) + 1;
			pfree(t);
		}
		lost_before = reaches[half].first;
		memmove(reaches, reaches + half, (nreaches - half) * sizeof(MessageReach));
		nreaches -= half;
		if (copy != NULL)
		{
			/* (its range may have been dropped with it: copied again) */
			bool		kept = false;

			for (int i = Max(nreaches - 2, 0); i < nreaches; i++)
				kept |= reaches[i].tenant == copy;
			if (!kept)
				copy = NULL;
		}
	}
	if (copy == NULL)
	{
		copy = MemoryContextStrdup(TopTransactionContext, tenant);
		reach_bytes += strlen(tenant) + 1;
	}
	m = &reaches[nreaches++];
	m->first = first;
	m->last = last;
	m->tenant = copy;
	message_reach_pending = true;
}

/*
 * The client messages in which the running statement reached its tenant
 * (their start times: a statement whose executor stays open spans the
 * messages sent meanwhile), noted when it ends (tenant_portal_bind.c); past
 * SCOPE_REACH_MAX of them, all from the first to the last.
 */
#define SCOPE_REACH_MAX 8
static TimestampTz scope_reach_at[SCOPE_REACH_MAX];
static int	scope_reach_n GTM_HOT_DATA = 0;

/* A message of the running statement reaches its tenant (again) */
void
scope_reach_message(void)
{
	TimestampTz now = GetCurrentStatementStartTimestamp();

	if (likely(scope_reach_n > 0 && scope_reach_at[Min(scope_reach_n, SCOPE_REACH_MAX) - 1] == now))
		return;
	if (scope_reach_n < SCOPE_REACH_MAX)
		scope_reach_at[scope_reach_n] = now;
	else
		scope_reach_at[SCOPE_REACH_MAX - 1] = now; /* (the last; all between) */
	scope_reach_n++;
}

/*
 * The running statement ends, having reached tenant (NULL: none, or not
 * to be noted: another transaction's): note in which messages.
 */
void
scope_reach_end(const char *tenant)
{
	if (tenant != NULL && scope_reach_n > SCOPE_REACH_MAX)
		message_reach_note(scope_reach_at[0], scope_reach_at[SCOPE_REACH_MAX - 1],
						   tenant);
	else if (tenant != NULL)
		for (int i = 0; i < scope_reach_n; i++)
			message_reach_note(scope_reach_at[i], scope_reach_at[i], tenant);
	scope_reach_n = 0;
}

/* The transaction ends: forget them (their memory goes with it) */
void
message_reach_forget(void)
{
	reaches = NULL;
	nreaches = 0;
	maxreaches = 0;
	reach_bytes = 0;
	lost_before = 0;
	message_reach_pending = false;
}

/*
 * Something starts in a portal bound by an earlier message of the
 * transaction (created at bound): what the statement that spanned that
 * message reached is reached by the running statement too.
 */
static void
portal_bind_reach(TimestampTz bound)
{
	int			lo = 0;
	int			hi = nreaches - 1;

	while (lo <= hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (reaches[mid].last < bound)
			lo = mid + 1;
		else if (reaches[mid].first > bound)
			hi = mid - 1;
		else
		{
			statement_scope_check(reaches[mid].tenant,
								  "0:the Bind of this statement's portal",
								  ENFORCE_ELEVEL());
			return;
		}
	}
	if (bound < lost_before)
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("the tenant that this statement's portal reached when it was bound is no longer known"),
				 errdetail("The statements of the transaction since the Bind of the portal reached more tenants than are kept (%d statements, %d kB of tenant values).",
						   MESSAGE_REACH_MAX / 2, MESSAGE_REACH_BYTES / 1024),
				 err_tenant_scope(InvalidOid),
				 errhint("Execute a portal right after its Bind.")));
}

/*
 * An executor or a utility statement starts (whatever it touches: the
 * first statement on a tenant table may be one a function runs in a
 * cursor of its own, round GA): in a portal bound by an earlier message,
 * what its Bind reached is reached now.  Cheap when nothing is noted (a
 * transaction's first statement, every autocommitted one).
 */
void
statement_scope_portal_start(void)
{
	if (likely(!message_reach_pending) || ActivePortal == NULL ||
		ActivePortal->creation_time == GetCurrentStatementStartTimestamp() ||
		gtm_enforcement == GTM_ENFORCE_OFF || IsParallelWorker() ||
		role_is_exempt())
		return;
	portal_bind_reach(ActivePortal->creation_time);
}
