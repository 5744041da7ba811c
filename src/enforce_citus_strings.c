/*-------------------------------------------------------------------------
 *
 * enforce_citus_strings.c
 *	  With Citus loaded, statements run only with
 *	  standard_conforming_strings on.
 *
 * Citus sends a statement to the other nodes as SQL text: the shard
 * queries of a distributed plan (deparsed when the statement is planned, or
 * when it starts for a plan whose shard is chosen then), the commands it
 * propagates.  Its deparser writes a string constant, a bound parameter
 * included, quoted for standard_conforming_strings as it is in the session
 * that writes it (ruleutils' simple_quote_literal: a backslash is doubled
 * only when the setting is off), and the node that reads the text parses
 * it with the setting of its own session.  A role may turn the setting off
 * for itself (SET, SET LOCAL that Citus replays on its connections, ALTER
 * ROLE ... SET that Citus propagates, a function's SET clause), so the two
 * can differ, and then a backslash in a value changes the text read:
 *
 *	- written with it on, read with it off: "\'" ends the string early and
 *	  the rest of the value is SQL on the worker (round DF: a SELECT judged
 *	  pinned to T1 returned another tenant's rows, an UPDATE pinned to T1
 *	  changed another tenant's rows of the same shard);
 *	- written with it off, read with it on: every backslash arrives doubled,
 *	  a pin to tenant 'a\5' reads tenant 'a\\5'.
 *
 * The coordinator's verdict is on the statement it parsed, and the worker's
 * check on the text it parses: neither sees the other's reading.  So on a
 * node where Citus is loaded, for a role the tenant rule applies to, the
 * setting must be on wherever text is read or written:
 *
 *	- when a statement is analysed (post_parse_analyze_hook): a query string
 *	  is parsed as a whole with the setting at its start, before any of its
 *	  statements runs, so its first statement is analysed with the setting
 *	  its text was read with, and its refusal ends the string; the one
 *	  statement let through is a SET or RESET of the setting alone in its
 *	  query string (how a session turns it back on);
 *	- when a statement is planned (Citus deparses its shard queries), when
 *	  its executor starts (deferred pruning deparses then; a statement
 *	  parsed earlier and bound by the protocol is analysed no more), and
 *	  when a utility statement runs (Citus deparses the commands it
 *	  propagates), except the SET or RESET of the setting itself.
 *
 * This reads one global variable on every path, and does something only
 * when the setting is off and Citus is loaded.  postgres_fdw needs none of
 * it: it writes a string with a backslash as E'...', read the same way
 * with either setting.
 *
 * IDENTIFICATION
 *	  src/enforce_citus_strings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "parser/parser.h"
#include "parser/scansup.h"

#include "enforce.h"
#include "gtm_clarity.h"

#define SCS_NAME "standard_conforming_strings"

/* Is stmt a SET or RESET of standard_conforming_strings (or RESET ALL)? */
static bool
sets_standard_strings(Node *stmt)
{
	VariableSetStmt *set;

	if (stmt == NULL || !IsA(stmt, VariableSetStmt))
		return false;
	set = (VariableSetStmt *) stmt;
	return set->kind == VAR_RESET_ALL ||
		(set->name != NULL && pg_strcasecmp(set->name, SCS_NAME) == 0);
}

/*
 * Is query the only statement of its query string: nothing after it but
 * blanks and semicolons?  (stmt_len 0 means "to the end of the string".)
 */
static bool
alone_in_string(ParseState *pstate, Query *query)
{
	const char *rest;

	if (query->stmt_location > 0 || pstate->p_sourcetext == NULL)
		return false;
	if (query->stmt_len <= 0)
		return true;
	for (rest = pstate->p_sourcetext + query->stmt_len; *rest; rest++)
		if (*rest != ';' && !scanner_isspace(*rest))
			return false;
	return true;
}

/* The refusal, where the rule applies to the current role */
static void
refuse(const char *when)
{
	if (gtm_enforcement == GTM_ENFORCE_OFF || !IsTransactionState() ||
		role_is_exempt() || !gtm_installed_here())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("standard_conforming_strings is off"),
			 errdetail("Citus sends a statement's values to the other nodes as SQL text quoted for this setting, and a node that reads the text with another setting reads other values; so with Citus loaded a statement is %s only with the setting on.",
					   when),
			 errhint("Run SET standard_conforming_strings = on alone in its query string; a role default that turns it off is removed by a superuser (ALTER ROLE ... RESET standard_conforming_strings), as the workers refuse the role's own.")));
}

/*
 * post_parse_analyze_hook's part: called when the setting is off and Citus
 * is loaded.
 */
void
refuse_nonstandard_strings_analyzed(ParseState *pstate, Query *query)
{
	if (query->commandType == CMD_UTILITY &&
		sets_standard_strings(query->utilityStmt) &&
		alone_in_string(pstate, query))
		return;
	refuse("parsed");
}

/*
 * Planner, executor start and utility: called when the setting is off and
 * Citus is loaded; utility is the utility statement, or NULL.
 */
void
refuse_nonstandard_strings(Node *utility)
{
	if (sets_standard_strings(utility))
		return;
	refuse(utility != NULL ? "run" : "planned or started");
}
