/*-------------------------------------------------------------------------
 *
 * enforce_citus_settings.c
 *	  With Citus loaded, the settings with which text is written and read
 *	  keep values every node reads alike.
 *
 * Citus writes a statement for a worker as SQL text: each constant through
 * its type's output function, in the session's settings, and the worker
 * reads it in its own, then plans and evaluates the statement there.  The
 * coordinator judges its own reading (the shadow plan, which folds
 * expressions over constants and flattens subqueries: enforce_distributed.c).
 * A role may set these settings for its session, for Citus' connections
 * (ALTER ROLE ... SET, which Citus propagates; SET LOCAL, which it replays
 * with citus.propagate_set_commands = 'local'), or for one of them only
 * (citus.enable_alter_role_set_propagation is the role's to turn off), and
 * a setting that differs changes the text or what an immutable function
 * computes from it:
 *
 *	- DateStyle: a date constant written '04/01/2000' under 'SQL, DMY' is
 *	  April 1st to a worker reading MDY; "(SELECT date '2000-01-04' AS d) s
 *	  ... tenant_id = (ARRAY[T1, 'x', 'y', T9])[extract(month FROM s.d)::int]"
 *	  was T1 on the coordinator (the subquery flattened, the pin folded) and
 *	  T9 on the worker: an INSERT ... SELECT copied T9's rows into T1 and
 *	  planted T1's in T9 (round DM);
 *	- IntervalStyle sql_standard: an interval's text is read otherwise;
 *	- extra_float_digits below 1: a float is written rounded; float8out,
 *	  marked immutable, computes another text on a worker;
 *	- bytea_output escape: byteaout, marked immutable, likewise (round DG);
 *	- quote_all_identifiers: quote_ident(), marked immutable, likewise
 *	  (round DK).
 *
 * Evaluating expressions on the coordinator (enforce_citus_fold.c) does not
 * reach an expression over a column of a subquery that the worker flattens
 * again.  So for a role the rule applies to, with Citus loaded, each of
 * these settings keeps a value whose text every node reads alike and whose
 * immutable functions compute alike: DateStyle's output ISO (the order of
 * day and month is free: ISO is read alike), IntervalStyle other than
 * sql_standard, extra_float_digits 1 or more (the shortest exact text),
 * bytea_output hex, quote_all_identifiers off.  As for
 * standard_conforming_strings (enforce_citus_strings.c), each setting's
 * check hook refuses another value from any source but the server's
 * configuration (SET, SET LOCAL, set_config(), a function's SET clause,
 * ALTER ROLE ... SET; a default a superuser set is ignored, with a warning,
 * when a session starts, on the coordinator and on Citus' connections), and
 * a server configured otherwise gets every distributed statement refused
 * when it is planned and when it starts (refuse_unshared_settings).
 * search_path cannot be held so (applications set it): a constant of a
 * reg* type that reaches Citus is refused instead (enforce_citus_fold.c).
 *
 * IDENTIFICATION
 *	  src/enforce_citus_settings.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/bytea.h"
#include "utils/float.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"

#include "enforce.h"
#include "gtm_clarity.h"

static GucStringCheckHook prev_datestyle_check = NULL;
static GucEnumCheckHook prev_intervalstyle_check = NULL;
static GucIntCheckHook prev_float_digits_check = NULL;
static GucEnumCheckHook prev_bytea_output_check = NULL;
static GucBoolCheckHook prev_quote_all_check = NULL;

#define SHARED_SETTINGS_DETAIL \
	"Citus writes a statement's constants for the workers as text in the session's settings, and a worker reads and evaluates them in its own; a value judged as one tenant on the coordinator could be another on a worker."
#define SHARED_SETTINGS_HINT \
	"With Citus, keep DateStyle's output ISO, IntervalStyle other than sql_standard, extra_float_digits at 1 or more, bytea_output hex and quote_all_identifiers off."

/*
 * May a value that every node does not read alike be set from source
 * (citus_setting_guarded, enforce_citus_strings.c)?  If not, the check
 * hook's error.
 */
static bool
unshared_value_refused(const char *name, GucSource source)
{
	if (!citus_setting_guarded(source))
		return false;
	GUC_check_errcode(GTM_ERRCODE_NOT_PINNED);
	GUC_check_errmsg("\"%s\" cannot take this value with Citus", name);
	GUC_check_errdetail(SHARED_SETTINGS_DETAIL);
	GUC_check_errhint(SHARED_SETTINGS_HINT);
	return true;
}

static bool
check_datestyle_shared(char **newval, void **extra, GucSource source)
{
	if (prev_datestyle_check && !prev_datestyle_check(newval, extra, source))
		return false;
	/* check_datestyle's extra: the output style, then the field order */
	if (*extra != NULL && ((int *) *extra)[0] != USE_ISO_DATES &&
		unshared_value_refused("DateStyle", source))
		return false;
	return true;
}

static bool
check_intervalstyle_shared(int *newval, void **extra, GucSource source)
{
	if (prev_intervalstyle_check && !prev_intervalstyle_check(newval, extra, source))
		return false;
	return *newval != INTSTYLE_SQL_STANDARD ||
		!unshared_value_refused("IntervalStyle", source);
}

static bool
check_float_digits_shared(int *newval, void **extra, GucSource source)
{
	if (prev_float_digits_check && !prev_float_digits_check(newval, extra, source))
		return false;
	return *newval >= 1 || !unshared_value_refused("extra_float_digits", source);
}

static bool
check_bytea_output_shared(int *newval, void **extra, GucSource source)
{
	if (prev_bytea_output_check && !prev_bytea_output_check(newval, extra, source))
		return false;
	return *newval == BYTEA_OUTPUT_HEX ||
		!unshared_value_refused("bytea_output", source);
}

static bool
check_quote_all_shared(bool *newval, void **extra, GucSource source)
{
	if (prev_quote_all_check && !prev_quote_all_check(newval, extra, source))
		return false;
	return !*newval || !unshared_value_refused("quote_all_identifiers", source);
}

/*
 * Planner and executor start, with Citus loaded: a server configured with
 * a value the nodes do not read alike refuses the role's statements.
 */
void
refuse_unshared_settings(void)
{
	if (likely(DateStyle == USE_ISO_DATES &&
			   IntervalStyle != INTSTYLE_SQL_STANDARD &&
			   extra_float_digits >= 1 && bytea_output == BYTEA_OUTPUT_HEX &&
			   !quote_all_identifiers))
		return;
	if (!citus_rule_applies_to_role())
		return;
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("a setting of this session is not read alike by the Citus workers"),
			 errdetail(SHARED_SETTINGS_DETAIL),
			 errhint(SHARED_SETTINGS_HINT)));
}

/* The record of setting name, of vartype */
static struct config_generic *
setting_record(const char *name, enum config_type vartype)
{
	struct config_generic *gen = gtm_find_guc(name);

	if (gen == NULL || gen->vartype != vartype)
		elog(ERROR, "could not find the setting \"%s\"", name);
	return gen;
}

/* Called once from gtm_enforce_init, in the postmaster. */
void
citus_settings_init(void)
{
	struct config_string *ds = (struct config_string *) setting_record("DateStyle", PGC_STRING);
	struct config_enum *is = (struct config_enum *) setting_record("IntervalStyle", PGC_ENUM);
	struct config_int *efd = (struct config_int *) setting_record("extra_float_digits", PGC_INT);
	struct config_enum *bo = (struct config_enum *) setting_record("bytea_output", PGC_ENUM);
	struct config_bool *qa = (struct config_bool *) setting_record("quote_all_identifiers", PGC_BOOL);

	prev_datestyle_check = ds->check_hook;
	ds->check_hook = check_datestyle_shared;
	prev_intervalstyle_check = is->check_hook;
	is->check_hook = check_intervalstyle_shared;
	prev_float_digits_check = efd->check_hook;
	efd->check_hook = check_float_digits_shared;
	prev_bytea_output_check = bo->check_hook;
	bo->check_hook = check_bytea_output_shared;
	prev_quote_all_check = qa->check_hook;
	qa->check_hook = check_quote_all_shared;
}
