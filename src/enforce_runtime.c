/*-------------------------------------------------------------------------
 *
 * enforce_runtime.c
 *	  The tenant of a statement, checked when it starts.
 *
 * judge_plan() sorts the pins of an accepted statement into classes of
 * equal values (PinClass).  Constants were compared at planning; the
 * values known only when the statement starts (parameters $n,
 * gtm_current_tenant(), gtm_pin(...)) are compared here, with the bound
 * parameters, before the executor reads a row: all must be one tenant.  The
 * tenant found is then checked against the tenant of the running top-level
 * statement (statement_scope_check, tenant_session.c), so functions,
 * triggers and cursors cannot make one top-level statement span tenants.
 *
 * How the values travel with the plan: the plan cache keeps plans and runs
 * them again with new parameters (a generic plan is built once), and
 * PlannedStmt has no field for an extension.  attach_statement_pins()
 * writes them as a payload into the plan's invalItems: PlanInvalItems whose
 * cacheId no syscache has (so no invalidation ever matches them), the first
 * carrying the payload's length in its hashValue and the next ones four
 * bytes of it each.  The payload is copied and freed with the plan, so
 * nothing is kept per statement in this backend, and nothing else changes
 * (the range table, and so EXPLAIN, stays as it was).  Its form:
 *	"C" tenant NUL label NUL   one class, a constant: no parsing at all;
 *	"N" nodeToString(list(values, labels, written))   otherwise, where a
 *	  value is a String (a constant's text) or an expression.
 *
 * A NULL value is a pin that matches no row: a scan pinned to it reads
 * nothing, as it does when a custom plan folds the NULL parameter, while a
 * NULL written into the tenant column is rejected.
 *
 * Messages are enforce_report.c's.
 *
 * IDENTIFICATION
 *	  src/enforce_runtime.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/parallel.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "executor/executor.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "lib/stringinfo.h"
#include "nodes/readfuncs.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "enforce.h"

/* PlanInvalItem.cacheIds of the payload (no syscache has them). */
#define GTM_PINS_CACHEID		(-7243)	/* hashValue: payload length */
#define GTM_PINS_DATA_CACHEID	(-7244)	/* hashValue: 4 bytes of payload */

/* The text a constant is compared by */
static char *
const_text(Const *c)
{
	Oid			outfn;
	bool		varlena;

	getTypeOutputInfo(c->consttype, &outfn, &varlena);
	return OidOutputFunctionCall(outfn, c->constvalue);
}

/* Append payload (len bytes, NUL included) to the plan's invalItems. */
static void
write_payload(PlannedStmt *stmt, const char *payload, int len)
{
	PlanInvalItem *item = makeNode(PlanInvalItem);

	item->cacheId = GTM_PINS_CACHEID;
	item->hashValue = (uint32) len;
	stmt->invalItems = lappend(stmt->invalItems, item);
	for (int i = 0; i < len; i += 4)
	{
		uint32		word = 0;

		memcpy(&word, payload + i, Min(4, len - i));
		item = makeNode(PlanInvalItem);
		item->cacheId = GTM_PINS_DATA_CACHEID;
		item->hashValue = word;
		stmt->invalItems = lappend(stmt->invalItems, item);
	}
}

/*
 * Attach the pin classes of an accepted statement to its plan (see the
 * file header): values, labels, and whether each is written.
 */
void
attach_statement_pins(PlannedStmt *stmt, List *classes)
{
	PinClass   *pc = linitial(classes);
	List	   *values = NIL;
	List	   *labels = NIL;
	List	   *written = NIL;
	ListCell   *lc;
	StringInfoData buf;

	initStringInfo(&buf);
	if (list_length(classes) == 1 && IsA(pc->value, Const))
	{
		appendStringInfoChar(&buf, 'C');
		appendStringInfoString(&buf, const_text((Const *) pc->value));
		appendStringInfoChar(&buf, '\0');
		appendStringInfoString(&buf, ref_label(pc->first));
		write_payload(stmt, buf.data, buf.len + 1);
		return;
	}
	foreach(lc, classes)
	{
		Node	   *v;

		pc = lfirst(lc);
		if (IsA(pc->value, Const))
			v = (Node *) makeString(const_text((Const *) pc->value));
		else
		{
			v = (Node *) copyObject(pc->value);
			fix_opfuncids(v);
		}
		values = lappend(values, v);
		labels = lappend(labels, makeString(ref_label(pc->first)));
		written = lappend(written, makeInteger(pc->written ? 1 : 0));
	}
	appendStringInfoChar(&buf, 'N');
	appendStringInfoString(&buf, nodeToString(list_make3(values, labels, written)));
	write_payload(stmt, buf.data, buf.len + 1);
}

/*
 * The payload of a plan, gathered from its invalItems into "into" (at least
 * its length), or NULL when it has none.
 */
static char *
read_payload(List *invalItems, StringInfo into)
{
	ListCell   *lc;
	int			len = -1;

	foreach(lc, invalItems)
	{
		PlanInvalItem *item = lfirst(lc);

		if (item->cacheId == GTM_PINS_CACHEID)
		{
			len = (int) item->hashValue;
			resetStringInfo(into);
		}
		else if (item->cacheId == GTM_PINS_DATA_CACHEID && len > into->len)
		{
			uint32		word = item->hashValue;

			appendBinaryStringInfo(into, (char *) &word, Min(4, len - into->len));
		}
	}
	if (len <= 1 || into->len != len || into->data[len - 1] != '\0')
		return NULL;
	return into->data;
}

/*
 * The last "N" payload parsed, and its pins, in their own context under
 * TopMemoryContext, reset when another payload replaces them; compared
 * byte for byte, so a generic plan run again is not parsed again.  Nothing
 * between parsing and the end of check_statement_pins() can run another
 * statement's check, so replacing them never pulls pins from under a user.
 */
static MemoryContext pins_cxt = NULL;
static char *parsed_payload = NULL;
static List *parsed_pins = NIL;

/* The pins of an "N" payload: list(values, labels, written). */
static List *
payload_pins(const char *payload)
{
	MemoryContext old;

	if (parsed_payload != NULL && strcmp(parsed_payload, payload) == 0)
		return parsed_pins;
	if (pins_cxt == NULL)
		pins_cxt = AllocSetContextCreate(TopMemoryContext,
										 "gtm_clarity statement pins",
										 ALLOCSET_SMALL_SIZES);
	MemoryContextReset(pins_cxt);
	parsed_payload = NULL;
	old = MemoryContextSwitchTo(pins_cxt);
	parsed_pins = (List *) stringToNode(payload + 1);
	parsed_payload = pstrdup(payload);
	MemoryContextSwitchTo(old);
	return parsed_pins;
}

/* The text of one pin value, evaluated with the bound parameters. */
static char *
pin_value_text(Node *value, ParamListInfo params, ExprContext **econtext)
{
	ExprState  *es;
	bool		isnull;
	Datum		d;
	Oid			outfn;
	bool		varlena;

	if (IsA(value, String))		/* a constant, turned into text */
		return strVal(value);
	if (*econtext == NULL)
	{
		*econtext = CreateStandaloneExprContext();
		(*econtext)->ecxt_param_list_info = params;
	}
	es = ExecInitExprWithParams((Expr *) value, params);
	d = ExecEvalExprSwitchContext(es, *econtext, &isnull);
	if (isnull)
		return NULL;
	getTypeOutputInfo(exprType(value), &outfn, &varlena);
	return OidOutputFunctionCall(outfn, d);
}

/*
 * Compare the pins of one statement: each non-null, all the same; then the
 * tenant found against the running top-level statement.
 */
static void
check_statement_pins(List *pins, ParamListInfo params)
{
	ExprContext *econtext = NULL;
	ListCell   *lv,
			   *ll,
			   *lw;
	char	   *first = NULL;
	const char *first_label = NULL;
	int			elevel = ENFORCE_ELEVEL();

	forthree(lv, linitial(pins), ll, lsecond(pins), lw, lthird(pins))
	{
		Node	   *value = lfirst(lv);
		char	   *label = strVal(lfirst(ll));
		bool		written = intVal(lfirst(lw)) != 0;
		char	   *s = pin_value_text(value, params, &econtext);

		if (s == NULL)
		{
			if (written)
			{
				report_runtime_null(label, value, elevel);
				break;
			}
			continue;			/* the scan matches no row */
		}
		if (first == NULL)
		{
			first = s;
			first_label = label;
		}
		else if (strcmp(first, s) != 0)
		{
			report_runtime_two_tenants(first_label, first, label, s, elevel);
			break;
		}
	}
	if (econtext != NULL)
		FreeExprContext(econtext, true);
	if (first != NULL)
		statement_scope_check(first, first_label, elevel);
}

/*
 * The buffer payloads are read into, in TopMemoryContext: a payload is
 * consumed (copied or parsed) before another statement can start.
 */
static StringInfoData payload_buf = {NULL, 0, 0, 0};

/*
 * ExecutorStart_hook's part, once the executor has started: check the pins
 * attached to the plan.  Not in parallel workers (the leader did), nor for
 * EXPLAIN without ANALYZE, nor for exempt roles.
 */
void
run_statement_pins(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	char	   *payload;

	if (stmt->invalItems == NIL || gtm_enforcement == GTM_ENFORCE_OFF ||
		IsParallelWorker() || (eflags & EXEC_FLAG_EXPLAIN_ONLY))
		return;
	if (payload_buf.data == NULL)
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&payload_buf);
		MemoryContextSwitchTo(old);
	}
	payload = read_payload(stmt->invalItems, &payload_buf);
	if (payload == NULL || role_is_exempt())
		return;
	if (payload[0] == 'C')
		statement_scope_check(payload + 1, payload + strlen(payload) + 1,
							  ENFORCE_ELEVEL());
	else if (payload[0] == 'N')
		check_statement_pins(payload_pins(payload), queryDesc->params);
}
