/*-------------------------------------------------------------------------
 *
 * enforce_report.c
 *	  Every message of tenant-scope enforcement, and the checker's reasons.
 *
 * pin_reasons[] is the one table of pin reasons: for each PinReason, the
 * errdetail of a rejected statement and the text of the "reason" column of
 * gtm_check_statement().  A reason that is not a failure (PR_PINNED,
 * PR_AT_START) has no detail.  To add a reason: a value in enum PinReason
 * (enforce.h), a row here (the table is checked against the enum when the
 * library loads), the code that sets it (enforce_pin.c, enforce_record.c or
 * enforce_judge.c), a regression test, and a line in the README's list.
 *
 * The three shapes of a rejection share SQLSTATE 42501
 * (GTM_ERRCODE_NOT_PINNED): "tenant-scoped table ... is not pinned to one
 * tenant" (report_ref, report_runtime_null), "statement touches more than
 * one tenant" (PR_TWO_TENANTS, report_runtime_two_tenants) and "statement
 * would move rows ... to another tenant" (PR_MOVES_ROW); COPY, TRUNCATE and
 * LOCK TABLE have their own (enforce_report_utility.c).
 *
 * Every rejection fills the error's column field with the tenant column
 * and, when it is about a table, the schema and table fields with that
 * table (err_tenant_scope): an application tells a tenant-scope rejection
 * from an ordinary "permission denied" (also 42501) by the column field,
 * which PostgreSQL's own permission errors leave empty.
 *
 * IDENTIFICATION
 *	  src/enforce_report.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"

#include "lib/stringinfo.h"
#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"

#include "enforce.h"
#include "gtm_clarity.h"

typedef struct PinReasonInfo
{
	PinReason	reason;

	/*
	 * errdetail: %1$s is the column ("alias"."tenant_id"), %2$s the arbiter
	 * index (PR_ARBITER); NULL for reasons reported otherwise.
	 */
	const char *detail;

	/*
	 * The checker's text; a format whose %s are the values (see
	 * reason_text) for the reasons that carry values.
	 */
	const char *checker;
} PinReasonInfo;

static const PinReasonInfo pin_reasons[PR_COUNT] = {
	{PR_PINNED, NULL,
	"pinned to %s"},
	{PR_NO_CONDITION,
		"No condition of the statement restricts %1$s to one value.",
	"no condition on the tenant column"},
	{PR_OR,
		"The condition on %1$s is part of an OR, which lets rows of other tenants in.",
	"the tenant condition is part of an OR"},
	{PR_LIST,
		"%1$s is compared with a list or array of values, not with one value.",
	"compared with a list of values"},
	{PR_NOT_EQUALITY,
		"%1$s is compared with an operator that is not an equality.",
	"not an equality"},
	{PR_FUNCTION_OF_COLUMN,
		"The condition applies a function or operator to %1$s instead of comparing the column itself.",
	"a function of the tenant column"},
	{PR_TAUTOLOGY,
		"%1$s is only required to equal itself or to be non-null, which every row satisfies.",
	"compared with itself"},
	{PR_VOLATILE,
		"%1$s is compared with a volatile expression, whose value is not fixed before the statement runs.",
	"compared with a volatile value"},
	{PR_USER_FUNCTION,
		"%1$s is compared with a value computed by a user-defined function, which the check cannot trust to give the same tenant for every row.",
	"compared with a user-defined function's value"},
	{PR_OTHER_COLUMN,
		"%1$s is compared with a column that is not itself pinned to one tenant.",
	"compared with an unpinned column"},
	{PR_SUBQUERY_VALUE,
		"%1$s is compared with the result of a subquery, which is not fixed before the statement runs.",
	"compared with a subquery result"},
	{PR_NULL,
		"%1$s is compared with NULL.",
	"compared with NULL"},
	{PR_NONDETERMINISTIC,
		"%1$s is compared under a nondeterministic collation, which can match several tenants.",
	"nondeterministic collation"},
	{PR_NOT_ANALYSED,
		"The plan reads %1$s without the tenant check having seen its conditions.",
	"read without being analysed"},
	{PR_INSERT_NO_VALUE,
		"The statement inserts rows without a value for %1$s.",
	"insert without a tenant value"},
	{PR_INSERT_UNPINNED,
		"The value inserted into %1$s is neither a constant, a parameter nor gtm_current_tenant(), nor a column pinned to one tenant.",
	"inserted tenant value not pinned"},
	{PR_SET_UNPINNED,
		"The statement assigns %1$s a value that is not pinned to one tenant.",
	"assigned tenant value not pinned"},
	{PR_TWO_TENANTS, NULL,
	"two tenants: %s and %s"},
	{PR_MOVES_ROW, NULL,
	"moves rows from %s to %s"},
	{PR_ARBITER,
		"The ON CONFLICT arbiter index \"%2$s\" does not include %1$s, so the conflicting row may belong to another tenant.",
	"arbiter index \"%s\" lacks the tenant column"},
	{PR_AT_START, NULL,
	"must be one tenant when the statement starts:"},
	{PR_DEFERRED,
		"%1$s is equated with a column of an outer query that is not itself pinned to one tenant.",
	"equated with an unpinned outer column"},
	{PR_SET_RETURNING,
		"%1$s is compared with a set-returning function, which yields several values.",
	"compared with a set-returning function"},
	{PR_MUTABLE,
		"%1$s is compared with a value that can change while the statement runs.",
	"compared with a value that can change during the statement"},
	{PR_OPAQUE_NODE,
		"The plan reads %1$s through %2$s, which the tenant check cannot see into.",
	"read through %s"},
	{PR_NOT_IDENTITY,
		"%1$s is compared with an equality under which distinct values are equal (such as numeric 1.0 and 1.00, float -0 and 0, or case-insensitive text), which can match several tenants.",
	"equality is not identity"},
	{PR_CROSS_TYPE,
		"%1$s is compared with a value of another type, which the comparison converts on every row: between date, timestamp and timestamptz the conversion reads TimeZone, which the statement itself can change between two rows, so that one value matches instants of several tenants (only the integers, and text and name, are compared across types).",
	"compared with a value of another type"},
	{PR_NOT_DISTINCT_NULL,
		"%1$s is compared with IS NOT DISTINCT FROM a value that may be NULL, which would match the rows without a tenant.",
	"IS NOT DISTINCT FROM a value that may be NULL"},
	{PR_NULLABLE,
		"The value written into %1$s comes from the nullable side of an outer join or from a grouping set, so it can be NULL.",
	"written tenant value can be NULL (outer join)"},
	{PR_CASCADE,
		"The foreign key \"%2$s\" would change %1$s of the rows that reference the rows the statement updates or deletes (ON UPDATE CASCADE, SET NULL or SET DEFAULT).",
	"foreign key \"%s\" would change the tenant of referencing rows"},
	{PR_GENERATED,
		"%1$s is a generated column: the statement writes a tenant computed from other columns, which the check cannot pin.",
	"the tenant column is generated"},
	{PR_ARBITER_IDENTITY,
		"The ON CONFLICT arbiter index \"%2$s\" compares %1$s with an equality under which distinct values are equal, so the conflicting row may belong to another tenant.",
	"arbiter index \"%s\" does not compare the tenant column by identity"},
	{PR_CASCADE_IDENTITY,
		"The foreign key \"%2$s\" compares %1$s by an equality under which distinct values are equal (a nondeterministic collation, citext): PostgreSQL's check or action for the rows the statement updates or deletes reaches the referencing rows of other tenants too.",
	"foreign key \"%s\" does not compare the tenant column by identity"},
	{PR_KEY_NOT_UNIQUE,
		"%1$s is equated with a column of another table whose conditions do not fix one row of it before the statement runs (no unique key has all its columns equated with fixed values), so %1$s can hold several tenants.",
	"equated with a column of a table not fixed to one row by a unique key"},
	{PR_KEY_LEAKY,
		"%1$s is pinned only by joining the row a unique key of another table finds, and a condition on it, or an expression computed from its rows before that join (a join key, an output of a subquery or UNION ALL branch), is not leakproof: it could see the rows of other tenants first.",
	"pinned by a unique key, with a condition that is not leakproof"},
	{PR_VIRTUAL_GENERATED,
		"%1$s is a virtual generated column: its value is computed from other columns when a row is read, and the planner replaces the column by that expression before the check sees the statement's conditions, so no condition can pin it.",
	"the tenant column is a virtual generated column"},
	{PR_ROOT_NOT_UNIQUE,
		"No condition restricts %1$s to one value, and the conditions on the tenants table do not give every column of one of its unique keys (id, clerk_org_id, slug) a fixed value, so they can match several tenants.",
	"conditions fix no unique key of tenants"},
	{PR_ROOT_LEAKY,
		"The tenants table is found by a unique key, and a condition on it that is not leakproof could see the rows of other tenants before that key restricts the scan.",
	"found by a unique key, with a condition that is not leakproof"},
	{PR_NODE_VALUE,
		"%1$s is compared with a value computed by a function that is not immutable, which Citus may evaluate on each worker, where it can yield another tenant on each node, rather than once on the coordinator.",
	"compared with a value each Citus node computes"},
	{PR_NODE_INDIRECT,
		"%1$s is pinned only once the planner has pulled a subquery, a CTE or a VALUES list into the statement and folded what it brought: Citus sends the statement as written, and each worker pulls it up and computes it again, with its own settings and catalogs, possibly as another tenant.",
	"pinned only through what the planner pulled up (distributed)"},
	{PR_REMOTE_CONDITION,
		"A condition of the statement that is not leakproof is sent to the foreign server with %1$s, where it runs on the rows of every tenant: the server's planner may evaluate it before the tenant condition (through an index), or without one (a value such as gtm_current_tenant() is not sent).",
	"a condition that is not leakproof is sent to the foreign server"},
	{PR_ORDER_BY_FUNCTION,
		"An index scan that reads %1$s orders its rows by a distance computed with a function that is not leakproof, which runs for the rows of every tenant the index returns before the tenant condition (not a condition of that index scan).",
	"ordered by a distance that is not leakproof, before the tenant condition"},
	{PR_REMOTE_UNPINNED,
		"The tenant condition on %1$s is not sent to the foreign server (a value such as gtm_current_tenant() is evaluated here), and the statement makes the server filter, lock, change or sort by an expression that is not leakproof the rows of every tenant it holds.",
	"the foreign server would work on every tenant's rows"},
	{PR_REMOTE_UNSENT, NULL,
	"the tenant condition is not sent to the foreign server"},
	{PR_FOREIGN_ROW_WRITE,
		"The statement updates or deletes the rows of %1$s on the foreign server one by one, by their ctid, which identifies a row only within one table there: on a partitioned or inherited remote table it reaches rows of other tenants too.",
	"a foreign table written row by row"},
	{PR_UNCHECKED_CORRELATION,
		"%1$s is pinned to a column of an outer query whose rows can reach the subquery before their own condition restricts them, and the plan reads %1$s where the value cannot be checked when each row sets it (a join or aggregate a foreign server computes, a scan of another extension).",
	"pinned to an outer column whose value cannot be checked where it is read"},
	{PR_PARTIAL_INDEX,
		"%1$s is read through an index that stands for the tenant condition -- a partial index whose predicate implies it (not a plain comparison of the column with a constant), or an index-only scan comparing it with an expression column -- and the index holds what its predicate or expression computed when the rows were inserted, which can differ from what the planner reads now (a function of the caller's, a built-in that reads a setting): the index can hold rows of another tenant.",
	"read through an index that stands for the tenant condition"},
	{PR_UNTRUSTED_SOURCE,
		"%1$s is given its value from a column of another relation whose own condition the plan does not evaluate on the rows it reads: an index stands for it (a partial index whose predicate implies it, not a plain comparison of the column with a constant), and the index holds what its predicate computed when the rows were inserted, which can differ from what the planner reads now (a function of the caller's): the rows can hold another tenant.",
	"given a value through an index that stands for its condition"},
	{PR_DISTRIBUTED_SOURCE,
		"%1$s is given its value from a relation that is not a tenant table, and a distributed planner (Citus) plans the write: the check of every row written, which stands behind such a value on one server, cannot be carried into its plan.",
	"a distributed write given a value from a relation that is not a tenant table"},
	{PR_DISTRIBUTED_TYPE,
		"%1$s is of a type whose text is not its value's alone (a date or a timestamp: DateStyle, TimeZone; an enum: its labels can be renamed), and a distributed planner (Citus) sends its value to the workers as text written in the client's settings, which a worker reads in its own: another value, possibly another tenant of the same shard.",
	"a distributed table whose tenant column's text is not its value's alone"},
};

/* The table row of reason (rows are in enum order, checked at load). */
static const PinReasonInfo *
reason_info(PinReason reason)
{
	Assert(reason >= 0 && reason < PR_COUNT);
	return &pin_reasons[reason];
}

/* Called once from _PG_init: the table must follow the enum. */
static emit_log_hook_type prev_emit_log_hook = NULL;

/*
 * emit_log_hook: LOG and DEBUG messages are not sent to the client of a
 * role that is not exempt, where the extension is installed and the check
 * is on (they still go to the server log, as configured).  Settings any
 * role may change make the executor report what it did to the client
 * (trace_sort: "begin tuple sort", the disk blocks of an external sort;
 * client_min_messages = debug5), and a scan pinned by a unique key, or an
 * index scan on another column, sorts or reads rows of other tenants
 * before the rows of its tenant are kept: their number, which depends on
 * the values of a condition, would answer a search on other tenants'
 * values.  A setting turned on inside the statement (set_config(), a
 * function's SET clause) reaches no check at executor start, so the
 * messages themselves are withheld.  PostgreSQL calls this hook only for
 * messages that also go to the server log (DEBUG lines below
 * log_min_messages reach the client unseen; statements pinned through a
 * unique key keep other tenants' rows out of their scans anyway,
 * enforce_key_filter.c).  Only cached facts are read here: a hook called
 * while a message is emitted may not read the catalogs.
 */
static void
gtm_emit_log_hook(ErrorData *edata)
{
	if (edata->elevel <= LOG && edata->output_to_client &&
		gtm_enforcement != GTM_ENFORCE_OFF && IsTransactionState() &&
		gtm_installed_known_here() && !role_exempt_if_known())
		edata->output_to_client = false;
	if (prev_emit_log_hook)
		prev_emit_log_hook(edata);
}

void
enforce_report_init(void)
{
	for (int i = 0; i < PR_COUNT; i++)
		if (pin_reasons[i].reason != (PinReason) i)
			elog(FATAL, "gtm_clarity: pin reason table out of order at %d", i);
	prev_emit_log_hook = emit_log_hook;
	emit_log_hook = gtm_emit_log_hook;
}

/*
 * The error fields of a tenant-scope rejection: schema and table of relid
 * (when it names one) and the tenant column.  For use inside ereport().
 */
int
err_tenant_scope(Oid relid)
{
	char	   *relname = OidIsValid(relid) ? get_rel_name(relid) : NULL;

	if (relname != NULL)
	{
		char	   *nspname = get_namespace_name(get_rel_namespace(relid));

		if (nspname != NULL)
			err_generic_string(PG_DIAG_SCHEMA_NAME, nspname);
		err_generic_string(PG_DIAG_TABLE_NAME, relname);
	}
	return err_generic_string(PG_DIAG_COLUMN_NAME,
							  relname != NULL ? tenant_column_name(relid) : gtm_tenant_column);
}

/* The relation of a "relid:alias" label (InvalidOid for none) */
static Oid
label_relid(const char *raw)
{
	return raw ? (Oid) strtoul(raw, NULL, 10) : InvalidOid;
}

/* "table" (alias "alias") */
char *
ref_label(TenantRef *ref)
{
	char	   *relname = get_rel_name(ref->relid);

	return psprintf("\"%s\" (alias \"%s\")", relname ? relname : "?", ref->alias);
}

/*
 * "table" (alias "alias") from the "relid:alias" form the plan's payload
 * keeps (enforce_runtime.c).
 */
static char *
label_text(const char *raw)
{
	Oid			relid = (Oid) strtoul(raw, NULL, 10);
	const char *colon = strchr(raw, ':');
	char	   *relname;

	/* relid 0: an access that is not a scan, described in full */
	if (relid == InvalidOid && colon != NULL)
		return pstrdup(colon + 1);
	relname = get_rel_name(relid);

	return psprintf("\"%s\" (alias \"%s\")", relname ? relname : "?",
					colon ? colon + 1 : "?");
}

/* A pin value as SQL text. */
char *
value_text(Node *value)
{
	return deparse_expression(value, NIL, false, false);
}

/* "alias"."tenant_id" */
static const char *
column_label(TenantRef *ref)
{
	return psprintf("%s.%s", quote_identifier(ref->alias),
					quote_identifier(tenant_column_name(ref->relid)));
}

/* errdetail of a reference not pinned (see pin_reasons) */
static int
report_detail(TenantRef *ref)
{
	const char *fmt = reason_info(ref->reason)->detail;

	if (fmt != NULL)
		errdetail(fmt, column_label(ref),
				  ref->index_name ? ref->index_name :
				  ref->node_name ? ref->node_name : "");
	return 0;
}

/* errhint of a reference not pinned */
static int
report_hint(TenantRef *ref, const char *col)
{
	const char *tc = quote_identifier(tenant_column_name(ref->relid));

	switch (ref->reason)
	{
		case PR_ARBITER:
			return errhint("Name a unique index or constraint that includes %s in ON CONFLICT.",
						   tc);
		case PR_ARBITER_IDENTITY:
			return errhint("Name a unique index or constraint whose %s column has a type and collation under which equal values are identical (text with a deterministic collation, uuid, integers).",
						   tc);
		case PR_CROSS_TYPE:
			return errhint("Compare %s with a value of its own type (cast the value, not the column).",
						   tc);
		case PR_NOT_IDENTITY:
		case PR_CASCADE_IDENTITY:
			return errhint("Give %s a type and collation under which equal values are identical (text with a deterministic collation, uuid, integers), or compare it under such a collation (COLLATE \"C\").",
						   tc);
		case PR_CASCADE:
			return errhint("The tenant of an existing row cannot change: do not change the referenced key, or make the foreign key ON UPDATE/DELETE RESTRICT or NO ACTION, or SET NULL (columns) without %s.",
						   tc);
		case PR_GENERATED:
			return errhint("Make %s an ordinary column and write the tenant into it.",
						   tc);
		case PR_VIRTUAL_GENERATED:
			return errhint("Make %s an ordinary column (or a STORED generated column) of table \"%s\".",
						   tc, get_rel_name(ref->relid));
		case PR_KEY_NOT_UNIQUE:
			return errhint("Give every column of a unique key of the joined table a value, or add \"%s = <value>\".",
						   col);
		case PR_NODE_VALUE:
		case PR_NODE_INDIRECT:
			return errhint("On a distributed table, compare %s with a constant, a parameter or gtm_current_tenant().",
						   col);
		case PR_PARTIAL_INDEX:
			return errhint("Give the partial index a predicate that compares %s with a constant, or use an index without a predicate.",
						   col);
		case PR_DISTRIBUTED_TYPE:
			return errhint("Give the tenant column of a distributed table a type whose text no setting changes: text, uuid or an integer.");
		case PR_DISTRIBUTED_SOURCE:
			return errhint("Write a constant, a parameter or gtm_current_tenant() into %s, or take it from a tenant table pinned to one tenant.",
						   col);
		case PR_UNTRUSTED_SOURCE:
			return errhint("Write a constant, a parameter or gtm_current_tenant() into %s, or read its source through an index without a predicate.",
						   col);
		case PR_UNCHECKED_CORRELATION:
			return errhint("Compare %s with a constant, a parameter or gtm_current_tenant() in the subquery, or read it from a table of this server.",
						   col);
		case PR_FOREIGN_ROW_WRITE:
			return errhint("Write a foreign table with an UPDATE or DELETE the foreign data wrapper sends to the server whole: conditions and values it can send (constants, parameters, immutable built-ins), no local trigger, no RETURNING of local expressions.");
		case PR_REMOTE_UNPINNED:
			return errhint("On a foreign table, compare %s with a constant or a parameter, which the foreign data wrapper sends to the server.",
						   col);
		case PR_REMOTE_CONDITION:
			return errhint("On a foreign table, send only leakproof conditions besides \"%s = <value>\": evaluate the others on the rows it returns (SELECT ... FROM (SELECT ... WHERE %s = <value> OFFSET 0) s WHERE ...).",
						   col, col);
		case PR_ORDER_BY_FUNCTION:
			return errhint("Use an index whose first column is %s (btree_gist), so that the tenant condition is a condition of the index scan.",
						   tc);
		case PR_KEY_LEAKY:
		case PR_ROOT_LEAKY:
			return errhint("Add \"%s = <value>\", or use only leakproof functions in the conditions on it.",
						   col);
		case PR_ROOT_NOT_UNIQUE:
			return errhint("Add \"%s = <value>\", or find the tenant by its clerk_org_id or slug (\"= <value>\").",
						   col);
		case PR_NULLABLE:
			return errhint("Take %s from a table that is not on the nullable side of an outer join, or use an inner join.",
						   tc);
		default:
			break;
	}
	if (ref->kind == REF_SCAN)
		return errhint("Add \"%s = <value>\" to the statement, where <value> is a constant, a parameter or gtm_current_tenant(), or join it on %s to a reference that has one.",
					   col, tc);
	return errhint("Write a constant, a parameter or gtm_current_tenant() into %s, or select it from a table pinned to one tenant.",
				   tc);
}

/*
 * Raise (or warn about) one reference whose reason is not PR_PINNED: the
 * table is not pinned to one tenant, or (PR_TWO_TENANTS, PR_MOVES_ROW) two
 * of the statement's pins differ.
 */
void
report_ref(TenantRef *ref, int elevel)
{
	char	   *col = (char *) column_label(ref);

	if (ref->reason == PR_TWO_TENANTS || ref->reason == PR_MOVES_ROW)
	{
		TenantRef  *o = ref->other;
		char	   *v1 = value_text(ref->theirs);
		char	   *v2 = value_text(ref->mine);

		if (ref->reason == PR_MOVES_ROW)
			ereport(elevel,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("statement would move rows of tenant-scoped table %s to another tenant",
							ref_label(ref)),
					 errdetail("The rows are pinned to %s and %s is set to %s.",
							   v1, col, v2),
					 err_tenant_scope(ref->relid),
					 errhint("The tenant of an existing row cannot change; insert a copy for the other tenant instead.")));
		else
			ereport(elevel,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("statement touches more than one tenant"),
					 errdetail("Table %s is pinned to %s and table %s to %s.",
							   ref_label(o), v1, ref_label(ref), v2),
					 err_tenant_scope(ref->relid),
					 errhint("Use one tenant value per statement.")));
		return;
	}

	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("tenant-scoped table %s is not pinned to one tenant",
					ref_label(ref)),
			 report_detail(ref),
			 err_tenant_scope(ref->relid),
			 report_hint(ref, col)));
}

/* Report every judged reference that is not pinned, in order. */
void
report_verdicts(List *judged, int elevel)
{
	ListCell   *lc;

	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->reason != PR_PINNED)
			report_ref(ref, elevel);
	}
}

/* A runtime check's value is NULL when the statement starts. */
void
report_runtime_null(const char *label, Node *value, int elevel)
{
	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("tenant-scoped table %s is not pinned to one tenant",
					label_text(label)),
			 errdetail("Its tenant value %s is NULL when the statement starts.",
					   value_text(value)),
			 err_tenant_scope(label_relid(label)),
			 errhint("Bind a tenant id, or set the tenant in the statement's transaction with gtm_set_tenant().")));
}

/* Two of a runtime check's values differ when the statement starts. */
void
report_runtime_two_tenants(const char *label1, const char *value1,
						   const char *label2, const char *value2, int elevel)
{
	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("statement touches more than one tenant"),
			 errdetail("Table %s is pinned to '%s' and table %s to '%s' when the statement starts.",
					   label_text(label1), value1, label_text(label2), value2),
			 err_tenant_scope(label_relid(label2)),
			 errhint("Use one tenant value per statement.")));
}

/*
 * A statement run by the running top-level statement (a function, trigger,
 * cursor or DO block) is pinned to another tenant than the one it reached
 * first.  label2 is NULL for a value of gtm_pin().
 */
void
report_scope_two_tenants(const char *label1, const char *value1,
						 const char *label2, const char *value2, int elevel)
{
	if (label2 == NULL)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("statement touches more than one tenant"),
				 errdetail("The running statement reached tenant '%s' (table %s), and a pin value is now '%s'.",
						   value1, label1 ? label_text(label1) : "?", value2),
				 err_tenant_scope(label_relid(label1)),
				 errhint("Do not change the value a statement is pinned to while it runs.")));
	else
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("statement touches more than one tenant"),
				 errdetail("The running statement reached tenant '%s' (table %s), and table %s is pinned to '%s'.",
						   value1, label1 ? label_text(label1) : "?", label_text(label2), value2),
				 err_tenant_scope(label_relid(label2)),
				 errhint("A statement, with the functions, triggers and cursors it runs, may reach one tenant: run each tenant's work in a statement of its own.")));
}

/*
 * A deferred trigger of a transaction whose statements reached several
 * tenants (statement_scope_deferred_enter) reaches tenant value (label: its
 * table, or NULL).
 */
void
report_deferred_several(const char *label, const char *value, int elevel)
{
	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("statement touches more than one tenant"),
			 errdetail("A deferred trigger reached tenant '%s'%s%s, and the statements of the transaction that queued the deferred triggers reached several tenants.",
					   value, label ? " through table " : "", label ? label_text(label) : ""),
			 err_tenant_scope(label ? label_relid(label) : InvalidOid),
			 errhint("End the transaction of one tenant before the statements of another, or make the trigger immediate.")));
}

/*
 * A statement reaches tenant value (label: its table, or NULL) in a
 * transaction whose statements queued deferred triggers for another,
 * queued (statement_scope_note_deferred).
 */
void
report_deferred_queued(const char *queued, const char *label,
					   const char *value, int elevel)
{
	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("statement touches more than one tenant"),
			 errdetail("The transaction queued deferred triggers for rows of tenant '%s', which fire when it ends; %s%s is pinned to '%s'.",
					   queued, label ? "table " : "a statement", label ? label_text(label) : "", value),
			 err_tenant_scope(label ? label_relid(label) : InvalidOid),
			 errhint("End the transaction of one tenant before the statements of another, or make the trigger immediate.")));
}

/* The "reason" column of gtm_check_statement() for ref. */
const char *
reason_text(TenantRef *ref)
{
	const char *fmt = reason_info(ref->reason)->checker;

	switch (ref->reason)
	{
		case PR_PINNED:
			if (ref->key_label != NULL)
				return psprintf(fmt, ref->key_label);
			if (ref->values == NIL)
				return "pinned";
			return psprintf(fmt, value_text(linitial(ref->values)));
		case PR_TWO_TENANTS:
		case PR_MOVES_ROW:
			return psprintf(fmt, value_text(ref->theirs), value_text(ref->mine));
		case PR_ARBITER:
		case PR_ARBITER_IDENTITY:
		case PR_CASCADE:
		case PR_CASCADE_IDENTITY:
			return psprintf(fmt, ref->index_name);
		case PR_OPAQUE_NODE:
			return psprintf(fmt, ref->node_name);
		case PR_AT_START:
			{
				StringInfoData buf;
				ListCell   *lc;

				initStringInfo(&buf);
				appendStringInfoString(&buf, fmt);
				foreach(lc, ref->values)
					appendStringInfo(&buf, "%s %s", lc == list_head(ref->values) ? "" : ",",
									 value_text(lfirst(lc)));
				return buf.data;
			}
		default:
			return fmt;
	}
}
