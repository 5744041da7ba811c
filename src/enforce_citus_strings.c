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
 * Those are moments; Citus writes some of its text later, while the
 * statement runs (CitusBeginModifyScan evaluates the role's functions, then
 * rebuilds the shard queries), so a function of the role's that turned the
 * setting off in between (set_config(..., true), SET LOCAL in PL/pgSQL)
 * had the coordinator double every backslash: an UPDATE pinned to 'a\5'
 * changed tenant 'a\\5' (round DG).  So the role may not turn it off at
 * all.  The one place every way of setting it passes (SET, set_config(),
 * a function's SET clause, a role or database default and a connection
 * option when a session starts) is the setting's check hook, which
 * PostgreSQL leaves empty for it: citus_strings_init gives it one (chained
 * to any other), refusing "off" for a role the rule applies to, with Citus
 * loaded, from any source but the server's own configuration.  A role
 * default that turns it off is then ignored, with a warning, when a
 * session starts.  RESET takes the value the session started with without
 * asking the hook: a utility statement after which the setting is off is
 * refused (enforce_utility_hook.c), and the error undoes it.  What remains
 * is a server configured with it off: the moments above refuse every
 * statement but the SET that turns it on.
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
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_node.h"
#include "parser/parser.h"
#include "parser/scansup.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "enforce.h"
#include "gtm_clarity.h"

#define SCS_NAME "standard_conforming_strings"

/* the setting's check hook before ours (PostgreSQL's: none) */
static GucBoolCheckHook prev_scs_check_hook = NULL;


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

/*
 * Does the rule apply to the current role (in a transaction)?  Shared with
 * enforce_citus_settings.c.
 */
bool
citus_rule_applies_to_role(void)
{
	return gtm_enforcement != GTM_ENFORCE_OFF && IsTransactionState() &&
		!role_is_exempt() && gtm_installed_here();
}

/*
 * May a check hook of a setting Citus writes or reads text with refuse a
 * value from source?  Not from the server's configuration (read by the
 * postmaster, with no role: the refusal comes when a statement runs), nor
 * without Citus, nor for a role the rule does not apply to; outside a
 * transaction no role can be judged: refused.
 */
bool
citus_setting_guarded(GucSource source)
{
	if (source < PGC_S_DATABASE || !distributed_planner_loaded() ||
		!IsUnderPostmaster)
		return false;
	return !IsTransactionState() || citus_rule_applies_to_role();
}

/* The refusal, where the rule applies to the current role */
static void
refuse(const char *when)
{
	if (!citus_rule_applies_to_role())
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
 * After a utility statement (RESET): called when the setting is off and
 * Citus is loaded.
 */
void
refuse_standard_strings_turned_off(void)
{
	if (!citus_rule_applies_to_role())
		return;
	ereport(ERROR,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("standard_conforming_strings cannot be turned off"),
			 errdetail("Citus sends a statement's values to the other nodes as SQL text quoted for this setting, and a node that reads the text with another setting reads other values; so with Citus loaded the setting stays on for this role."),
			 errhint("Write strings with backslash escapes as E'...'.")));
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

/*
 * The check hook of standard_conforming_strings (see the file header):
 * "off" is refused to a role the rule applies to, with Citus loaded, from
 * any source but the server's configuration (read by the postmaster, with
 * no role).  Outside a transaction no role can be judged: refused too.
 */
static bool
check_standard_strings(bool *newval, void **extra, GucSource source)
{
	if (prev_scs_check_hook && !prev_scs_check_hook(newval, extra, source))
		return false;
	if (*newval || !citus_setting_guarded(source))
		return true;
	GUC_check_errcode(GTM_ERRCODE_NOT_PINNED);
	GUC_check_errmsg("standard_conforming_strings cannot be turned off");
	GUC_check_errdetail("Citus sends a statement's values to the other nodes as SQL text quoted for this setting, and a node that reads the text with another setting reads other values; so with Citus loaded the setting stays on for this role.");
	GUC_check_errhint("Write strings with backslash escapes as E'...'.");
	return false;
}

/* Called once from gtm_enforce_init, in the postmaster. */
void
citus_strings_init(void)
{
	struct config_generic *gen = gtm_find_guc(SCS_NAME);
	struct config_bool *conf;

	if (gen == NULL || gen->vartype != PGC_BOOL)
		elog(ERROR, "could not find the setting \"%s\"", SCS_NAME);
	conf = (struct config_bool *) gen;
	prev_scs_check_hook = conf->check_hook;
	conf->check_hook = check_standard_strings;
}
