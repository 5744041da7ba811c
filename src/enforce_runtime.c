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
 * carrying the payload's length in its hashValue and the next ones seven
 * bytes of it each.  The payload is copied and freed with the plan, so
 * nothing is kept per statement in this backend, and nothing else changes
 * (the range table, and so EXPLAIN, stays as it was).  One class, a
 * constant -- most statements -- carries no payload: its tenant and label
 * are interned once per backend (enforce_payload.c) and one item
 * (GTM_CONSTPIN_CACHEID) holds their indexes; one class, a bound parameter
 * only read (generic plans, the common prepared statement), likewise: one
 * item (GTM_PARAMPIN_CACHEID) holds its number, its type and its label's
 * index.  Past those sets' bounds, and otherwise, the payload's form is:
 *	"C" tenant NUL label NUL   one class, a constant: no parsing at all
 *	  (a label is "relid:alias", made readable only for a message);
 *	"P" paramid ":" typeoid NUL label NUL   one class, a bound parameter
 *	  only read (generic plans): fetched as the executor fetches it;
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

#include "access/htup_details.h"
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
#include "gtm_clarity.h"


/*
 * The label of a reference as the payload keeps it, "relid:alias"; turned
 * into "table" (alias "alias") only for a message (enforce_report.c,
 * label_text), so planning pays no catalog lookup for it.
 */
char *
raw_label(TenantRef *ref)
{
	return psprintf("%u:%s", ref->relid, ref->alias);
}


/* The one item of an interned pin (enforce_payload.c), appended to stmt */
static void
append_pin_item(PlannedStmt *stmt, int cacheId, uint32 packed)
{
	/* every field set: no zeroing (makeNode) on this path */
	PlanInvalItem *item = palloc(sizeof(PlanInvalItem));

	NodeSetTag(item, T_PlanInvalItem);
	item->cacheId = cacheId;
	item->hashValue = packed;
	stmt->invalItems = lappend(stmt->invalItems, item);
}

/*
 * Attach the pin classes of an accepted statement to its plan (see the
 * file header): values, labels, and whether each is written.
 */
void
attach_statement_pins(PlannedStmt *stmt, PinClasses *classes)
{
	PinClass   *pc = &classes->items[0];
	List	   *values = NIL;
	List	   *labels = NIL;
	List	   *written = NIL;
	StringInfoData buf;
	char	   *payload_str;

	if (classes->n == 1 && IsA(pc->value, Param) &&
		((Param *) pc->value)->paramkind == PARAM_EXTERN && !pc->written)
	{
		/* one parameter ($n), as generic plans have: "P" n:type NUL label */
		Param	   *prm = (Param *) pc->value;
		char	   *label;
		int			head;
		uint32		packed;

		/* interned: one item, no payload (enforce_payload.c) */
		if (intern_param_pin(prm->paramid, prm->paramtype, pc->first->relid,
							 pc->first->alias, &packed))
		{
			append_pin_item(stmt, GTM_PARAMPIN_CACHEID, packed);
			return;
		}
		label = raw_label(pc->first);
		payload_str = psprintf("P%d:%u%c%s", prm->paramid, prm->paramtype, '\0', label);
		head = strlen(payload_str);
		write_plan_payload(stmt, GTM_PINS_CACHEID, payload_str,
						   head + 1 + strlen(label) + 1);
		return;
	}
	if (classes->n == 1 && IsA(pc->value, Const))
	{
		/*
		 * The common case, built without a StringInfo; a text constant is
		 * read in place, up to a NUL byte as its C string would be.
		 */
		Const	   *c = (Const *) pc->value;
		const char *tenant;
		char		relid[12];
		int			tlen;
		int			rlen;
		int			alen;
		uint32		packed;
		int			len;
		int			padded_len;
		char		stackbuf[128];
		char	   *payload;
		char	   *p;

		if (c->consttype == TEXTOID)
		{
			text	   *t = DatumGetTextPP(c->constvalue);

			tenant = VARDATA_ANY(t);
			tlen = strnlen(tenant, VARSIZE_ANY_EXHDR(t));
		}
		else
		{
			tenant = tenant_value_text(c->constvalue, c->consttype);
			tlen = strlen(tenant);
		}
		/* interned: one item, no payload (enforce_payload.c) */
		if (intern_const_pin(tenant, tlen, pc->first->relid, pc->first->alias,
							 &packed))
		{
			append_pin_item(stmt, GTM_CONSTPIN_CACHEID, packed);
			return;
		}
		rlen = pg_ultoa_n(pc->first->relid, relid);
		alen = strlen(pc->first->alias);
		len = 1 + tlen + 1 + rlen + 1 + alen + 1;
		padded_len = 7 * (PAYLOAD_ITEMS(len) - 1);
		payload = padded_len <= (int) sizeof(stackbuf) ? stackbuf :
			palloc(padded_len);
		p = payload;
		*p++ = 'C';
		memcpy(p, tenant, tlen);
		p += tlen;
		*p++ = '\0';
		memcpy(p, relid, rlen);
		p += rlen;
		*p++ = ':';
		memcpy(p, pc->first->alias, alen + 1);
		for (p += alen + 1; p < payload + padded_len; p++)
			*p = '\0';
		write_padded_payload(stmt, GTM_PINS_CACHEID, (unsigned char *) payload,
							 len);
		return;
	}
	initStringInfo(&buf);
	for (int i = 0; i < classes->n; i++)
	{
		Node	   *v;

		pc = &classes->items[i];
		if (IsA(pc->value, Const))
			v = (Node *) makeString(tenant_value_text(((Const *) pc->value)->constvalue,
													   ((Const *) pc->value)->consttype));
		else
		{
			v = (Node *) copyObject(pc->value);
			fix_opfuncids(v);
		}
		values = lappend(values, v);
		labels = lappend(labels, makeString(raw_label(pc->first)));
		written = lappend(written, makeInteger(pc->written ? 1 : 0));
	}
	appendStringInfoChar(&buf, 'N');
	appendStringInfoString(&buf, nodeToString(list_make3(values, labels, written)));
	write_plan_payload(stmt, GTM_PINS_CACHEID, buf.data, buf.len + 1);
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

/*
 * > 0 while check_statement_pins() iterates the cached pins: evaluating a
 * pin value can run a statement (a built-in such as table_to_xml runs
 * SQL), whose own check must then not replace the cache under it.
 */
static int	pins_in_use = 0;

/* The pins of an "N" payload: list(values, labels, written). */
static List *
payload_pins(const char *payload)
{
	MemoryContext old;

	if (parsed_payload != NULL && strcmp(parsed_payload, payload) == 0)
		return parsed_pins;
	if (pins_in_use > 0)
		return (List *) stringToNode(payload + 1);	/* nested: not cached */
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

/*
 * The text of bound parameter paramid of type typid, fetched as
 * ExecEvalParamExtern does; NULL when it is NULL.  *found is false when
 * there is no such parameter of that type (the caller evaluates then).
 */
static char *
param_text(ParamListInfo params, int paramid, Oid typid, bool *found,
		   char *buf, int bufsize)
{
	ParamExternData prmdata;
	ParamExternData *prm;

	*found = false;
	if (unlikely(params == NULL || paramid <= 0 || paramid > params->numParams))
		return NULL;
	if (unlikely(params->paramFetch != NULL))
		prm = params->paramFetch(params, paramid, false, &prmdata);
	else
		prm = &params->params[paramid - 1];
	if (unlikely(prm->ptype != typid))
		return NULL;
	*found = true;
	if (prm->isnull)
		return NULL;
	if (likely(typid == TEXTOID && buf != NULL))
	{
		/* a short text into the caller's buffer, without a palloc */
		text	   *t = DatumGetTextPP(prm->value);
		int			len = VARSIZE_ANY_EXHDR(t);

		if (len < bufsize)
		{
			memcpy(buf, VARDATA_ANY(t), len);
			buf[len] = '\0';
			return buf;
		}
	}
	return tenant_value_text(prm->value, typid);
}

/* The text of one pin value, evaluated with the bound parameters. */
static char *
pin_value_text(Node *value, ParamListInfo params, ExprContext **econtext)
{
	ExprState  *es;
	bool		isnull;
	Datum		d;

	if (IsA(value, String))		/* a constant, turned into text */
		return strVal(value);
	if (IsA(value, Param) && ((Param *) value)->paramkind == PARAM_EXTERN)
	{
		bool		found;
		char	   *s = param_text(params, ((Param *) value)->paramid,
								   ((Param *) value)->paramtype, &found,
								   NULL, 0);

		if (found)
			return s;
	}
	if (*econtext == NULL)
	{
		*econtext = CreateStandaloneExprContext();
		(*econtext)->ecxt_param_list_info = params;
	}
	es = ExecInitExprWithParams((Expr *) value, params);
	d = ExecEvalExprSwitchContext(es, *econtext, &isnull);
	if (isnull)
		return NULL;
	return tenant_value_text(d, exprType(value));
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
 * Check the pins of an "N" payload, the cached list held while in use.
 * Rare (several pins, not all constants): kept out of run_statement_pins,
 * whose common path stays short in the instruction cache.
 */
static pg_noinline pg_attribute_cold void
check_payload_pins(const char *payload, ParamListInfo params)
{
	List	   *pins = payload_pins(payload);

	pins_in_use++;
	PG_TRY();
	{
		check_statement_pins(pins, params);
	}
	PG_FINALLY();
	{
		pins_in_use--;
	}
	PG_END_TRY();
}

/*
 * The buffer payloads are read into, in TopMemoryContext: a payload is
 * consumed (copied or parsed) before another statement can start.
 */
static StringInfoData payload_buf GTM_HOT_DATA = {NULL, 0, 0, 0};

/*
 * The decimal number (an optional '-', digits) at *p, as written by
 * attach_statement_pins; *p is left after it.  Cheaper than strtol.
 */
static int64
parse_decimal(const char **p)
{
	bool		neg = (**p == '-');
	int64		v = 0;

	if (neg)
		(*p)++;
	while (**p >= '0' && **p <= '9' && v < PG_INT32_MAX * (int64) 10)
		v = v * 10 + (*(*p)++ - '0');
	return neg ? -v : v;
}

/*
 * The statement's verdict trusted what some tables' written rows would hold
 * (no BEFORE row trigger could change them: row_may_differ_from_written),
 * as their triggers were when it was planned.  A trigger created since --
 * between a Bind and its Execute, between a cursor's OPEN and its first
 * FETCH, by a function the executor's start calls (partition pruning) --
 * would change them behind the values judged (round BG): asked again now,
 * after the executor has started (opened its result relations); refused
 * if the answer changed.  (Triggers created while it runs are refused
 * outright: refuse_trigger_change_in_statement.)
 */
static pg_noinline void
recheck_trusted_writes(PlannedStmt *stmt)
{
	StringInfoData buf = {NULL, 0, 0, 0};
	char	   *p = read_plan_payload(stmt->invalItems, GTM_TRUSTED_CACHEID, &buf);

	while (p != NULL && *p != '\0')
	{
		unsigned int relid;
		int			inh,
					cmd,
					upsert,
					attno,
					n = 0;

		if (sscanf(p, "%u:%d:%d:%d:%d;%n", &relid, &inh, &cmd, &upsert, &attno, &n) != 5 ||
			n == 0)
			elog(ERROR, "gtm_clarity: malformed payload of trusted writes in the plan");
		p += n;
		if (get_rel_relkind(relid) == '\0' ||	/* dropped since */
			written_rows_may_differ_now(relid, inh != 0, (CmdType) cmd,
										upsert != 0, (AttrNumber) attno))
			ereport(ENFORCE_ELEVEL(),
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("the triggers or partitions of table \"%s\" changed since the statement was planned",
							get_rel_name(relid) ? get_rel_name(relid) : "?"),
					 errdetail("The statement was judged on the rows it writes there as they were written, without a trigger or a generated column that could change their tenant."),
					 errhint("Plan and run the statement again.")));
	}
}

/*
 * A pin by one bound parameter, $paramid of type typid, of the reference
 * label (llen bytes): its value compared with the running statement's
 * tenant.
 */
static void
check_param_pin(ParamListInfo params, int paramid, Oid typid,
				const char *label, size_t llen)
{
	bool		found;
	char		buf[NAMEDATALEN * 2];
	char	   *tenant = param_text(params, paramid, typid, &found, buf,
									sizeof(buf));

	/* fail closed on a parameter that cannot be read as planned */
	if (unlikely(!found))
		elog(ERROR, "gtm_clarity: parameter $%d of the tenant pin is not bound as type %u",
			 paramid, typid);
	/* a NULL parameter matches no row */
	if (tenant != NULL)
		statement_scope_check_n(tenant, strlen(tenant), label, llen,
								ENFORCE_ELEVEL());
}

/*
 * ExecutorStart_hook's part, once the executor has started: check the pins
 * attached to the plan, then look up the rows of its unique-key pins
 * (run_key_pins, enforce_key.c); both payloads are read in one pass.  Not
 * in parallel workers (the leader did), nor for EXPLAIN without ANALYZE,
 * nor for exempt roles.
 */
void
run_statement_pins(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;
	char	   *payload;
	StringInfoData keys_buf;
	char	   *keys;
	StringInfoData planned_buf;
	char	   *planned;
	PlanInvalItem *pinitem = NULL;
	bool		trusted = false;

	if (stmt->invalItems == NIL || gtm_enforcement == GTM_ENFORCE_OFF ||
		IsParallelWorker())
		return;
	if (unlikely(payload_buf.data == NULL))
	{
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		initStringInfo(&payload_buf);
		MemoryContextSwitchTo(old);
	}
	keys_buf.data = NULL;
	planned_buf.data = NULL;
	if (likely(list_length(stmt->invalItems) == 1) &&
		(((PlanInvalItem *) linitial(stmt->invalItems))->cacheId == GTM_CONSTPIN_CACHEID ||
		 ((PlanInvalItem *) linitial(stmt->invalItems))->cacheId == GTM_PARAMPIN_CACHEID))
	{
		/* the common plan: one interned pin and nothing else */
		pinitem = linitial(stmt->invalItems);
		payload = keys = planned = NULL;
	}
	else
		read_plan_payloads(stmt->invalItems, &payload_buf, &payload,
						   &keys_buf, &keys, &planned_buf, &planned, &pinitem,
						   &trusted);
	if (unlikely(trusted) && !role_is_exempt() &&
		(eflags & EXEC_FLAG_EXPLAIN_ONLY) == 0)
		recheck_trusted_writes(stmt);
	if (payload == NULL && keys == NULL && planned == NULL && pinitem == NULL)
		return;

	/*
	 * An exempt role's plan carries pins only when it was judged: it reads
	 * through a view of a role that is not exempt (statement_is_exempt).
	 * Those are checked; the tenant functions the planner ran for it are
	 * not.
	 */
	if (role_is_exempt())
	{
		if (payload == NULL && keys == NULL && pinitem == NULL)
			return;
		planned = NULL;
	}
	/* a generic plan rejected when planned (enforce_generic.c), also for EXPLAIN */
	if (unlikely(payload != NULL && payload[0] == 'R'))
		raise_deferred_rejection(payload, payload_buf.len, ENFORCE_ELEVEL());
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	/*
	 * Functions the planner ran reached a tenant, whose data the plan may
	 * carry (a folded constant): executing it reaches that tenant again.
	 */
	if (unlikely(planned != NULL))
		statement_scope_check(planned, "0:a function the planner ran",
							  ENFORCE_ELEVEL());
	/*
	 * Under EXPLAIN ANALYZE: the statement explained, and any statement on
	 * tenant tables that a function it calls runs, whose buffers and time
	 * the explained plan's top node counts (round ES: EXPLAIN (ANALYZE)
	 * SELECT query_to_xml('<a query pinned to T1>', ...) showed one more
	 * buffer hit when another tenant had a deal of the stage searched).
	 */
	if (unlikely(explain_analyze_depth > 0))
		refuse_explain_analyze(stmt);
	if (pinitem != NULL && pinitem->cacheId == GTM_CONSTPIN_CACHEID)
	{
		/* one constant, interned (enforce_payload.c) */
		const char *tenant;
		const char *label;
		int			tlen;
		int			llen;

		if (unlikely(!interned_const_pin(pinitem->hashValue, &tenant, &tlen,
										 &label, &llen)))
			elog(ERROR, "gtm_clarity: plan names no interned tenant pin");
		statement_scope_check_n(tenant, tlen, label, llen, ENFORCE_ELEVEL());
	}
	else if (pinitem != NULL)
	{
		/* one parameter, interned (enforce_payload.c) */
		int			paramid;
		Oid			typid;
		const char *label;
		int			llen;

		if (unlikely(!interned_param_pin(pinitem->hashValue, &paramid, &typid,
										 &label, &llen)))
			elog(ERROR, "gtm_clarity: plan names no interned parameter pin");
		check_param_pin(queryDesc->params, paramid, typid, label, llen);
	}
	else if (payload == NULL)
		;						/* only unique-key pins */
	else if (payload[0] == 'C')
	{
		/* "C" tenant NUL label NUL: payload_buf.len counts the last NUL */
		size_t		tlen = strlen(payload + 1);

		if (unlikely(tlen + 3 > (size_t) payload_buf.len))
			elog(ERROR, "gtm_clarity: malformed pins payload in the plan");
		statement_scope_check_n(payload + 1, tlen, payload + tlen + 2,
								payload_buf.len - tlen - 3, ENFORCE_ELEVEL());
	}
	else if (payload[0] == 'P')
	{
		const char *p = payload + 1;
		int			paramid = parse_decimal(&p);
		Oid			typid = (Oid) (*p == ':' ? (p++, parse_decimal(&p)) : 0);
		const char *label = payload + strlen(payload) + 1;

		check_param_pin(queryDesc->params, paramid, typid, label, strlen(label));
	}
	else if (payload[0] == 'N')
		check_payload_pins(payload, queryDesc->params);
	if (keys != NULL)
		run_key_pins(queryDesc, keys);	/* then the unique-key pins */
}
