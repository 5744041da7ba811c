/*-------------------------------------------------------------------------
 *
 * tenant_parse.c
 *	  The tenant that the analysis of a client statement reaches, carried
 *	  to the statement's execution in later protocol messages.
 *
 * A temporary domain's CHECK runs when a literal of that domain is
 * analysed, and it may read or change a tenant table (itself, or through
 * statements it runs in turn, a cursor, query_to_xml()).  In a simple Query
 * the analysis and the execution share one client message, one top-level
 * statement for the scope (tenant_session.c).  In the extended protocol the
 * analysis runs in the Parse message and the statement in Bind and Execute,
 * later messages, maybe of a later transaction (Parse, Describe, Sync, then
 * Bind, Execute, Sync, as pgx and asyncpg send them): one UPDATE changed
 * T2's row at Parse and T1's at Execute (rounds CQ, CS).  So the tenant a
 * statement's analysis reached is kept with the statement's text, and the
 * statement reaches it again each time its executor starts: another
 * tenant of the statement's own is then refused ("statement touches more
 * than one tenant").
 *
 * Code outside the statements of a client message runs "unframed": with
 * no portal active and no frame of ours (executor run, utility statement,
 * planner) -- the analysis of a client statement, the conversion of Bind's
 * parameters, the deferred triggers a commit fires -- and so does whatever
 * it runs in turn: the caller's pg_temp functions it calls (counted by the
 * function manager hook, enforce_planning.c) and the executors it starts
 * (counted by tenant_session.c).  A tenant the running statement reached
 * first there, in the message a client statement's analysis ends in, is
 * that analysis's.
 *
 * The texts are kept in TopMemoryContext, at most PARSE_REACH_MAX; a text
 * analysed again without reaching a tenant is forgotten, and one more when
 * the set is full is refused (fail closed).
 *
 * IDENTIFICATION
 *	  src/tenant_parse.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "parser/parse_node.h"
#include "tcop/pquery.h"
#include "utils/memutils.h"

#include "enforce.h"
#include "gtm_clarity.h"

#define PARSE_REACH_MAX 256

/* Calls of the caller's pg_temp functions entered unframed, running now */
int			unframed_code_depth = 0;

/* Executors started unframed, alive (tenant_session.c counts them) */
int			unframed_executors = 0;

/* Statement texts whose analysis reached a tenant */
int			parse_reach_count = 0;

typedef struct ParseReach
{
	uint32		hash;
	char	   *text;
	char	   *tenant;
} ParseReach;

static ParseReach parse_reaches[PARSE_REACH_MAX];

/* No portal active and no frame of ours: between a client's statements */
bool
message_unframed(void)
{
	return ActivePortal == NULL && executor_nesting == 0 &&
		utility_nesting == 0 && planning_depth == 0;
}

/* Does code run now unframed, or for something that did (see the header)? */
bool
statement_unframed(void)
{
	if (message_unframed() || unframed_code_depth > 0)
		return true;
	if (unframed_executors == 0)
		return false;
	/*
	 * Inside the run of an executor started unframed; not the start of a
	 * client's portal, with a cursor such code opened still alive.
	 */
	return executor_nesting > 0 || utility_nesting > 0 || planning_depth > 0;
}

static ParseReach *
find_reach(const char *text, uint32 hash)
{
	for (int i = 0; i < parse_reach_count; i++)
		if (parse_reaches[i].hash == hash && strcmp(parse_reaches[i].text, text) == 0)
			return &parse_reaches[i];
	return NULL;
}

/*
 * post_parse_analyze_hook (tenant_temp.c), at the end of an analysis: for
 * a client statement's (outermost, unframed: not a statement that code
 * run by it analyses), keep the tenant it reached with its text, or forget
 * the text when it reached none.
 */
void
statement_scope_note_parse(struct ParseState *pstate)
{
	const char *text = pstate->p_sourcetext;
	const char *tenant;
	uint32		hash;
	ParseReach *r;

	if (text == NULL || pstate->parentParseState != NULL ||
		!message_unframed() || unframed_code_depth > 0 ||
		gtm_enforcement == GTM_ENFORCE_OFF)
		return;
	tenant = statement_scope_unframed_tenant();
	if (tenant == NULL && parse_reach_count == 0)
		return;					/* the common case */
	hash = hash_bytes((const unsigned char *) text, strlen(text));
	r = find_reach(text, hash);
	if (tenant == NULL)
	{
		if (r != NULL)
		{
			pfree(r->text);
			pfree(r->tenant);
			*r = parse_reaches[--parse_reach_count];
		}
		return;
	}
	if (r != NULL)
	{
		if (strcmp(r->tenant, tenant) != 0)
		{
			pfree(r->tenant);
			r->tenant = MemoryContextStrdup(TopMemoryContext, tenant);
		}
		return;
	}
	if (parse_reach_count >= PARSE_REACH_MAX)
		ereport(ERROR,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("too many statements of this session reach a tenant while they are analysed"),
				 errdetail("The analysis of %d statements ran code that reached a tenant table (a domain's CHECK on a literal).",
						   PARSE_REACH_MAX),
				 errhint("Do not read tenant tables in the CHECK of a domain.")));
	r = &parse_reaches[parse_reach_count];
	r->hash = hash;
	r->text = MemoryContextStrdup(TopMemoryContext, text);
	r->tenant = MemoryContextStrdup(TopMemoryContext, tenant);
	parse_reach_count++;
}

/*
 * statement_scope_executor_started: the executor of a client statement
 * (started in a portal, no frame of ours) reaches again the tenant its
 * text's analysis reached, before its own pins are compared.
 */
void
carry_parse_reach(void)
{
	Portal		portal = ActivePortal;
	ParseReach *r;

	if (portal == NULL || portal->sourceText == NULL || executor_nesting != 0 ||
		utility_nesting != 0 || planning_depth != 0 || unframed_code_depth > 0 ||
		role_is_exempt())
		return;
	r = find_reach(portal->sourceText,
				   hash_bytes((const unsigned char *) portal->sourceText,
							  strlen(portal->sourceText)));
	if (r != NULL)
		statement_scope_check(r->tenant, "0:the analysis of the statement (a domain's CHECK on a literal)",
							  ENFORCE_ELEVEL());
}
