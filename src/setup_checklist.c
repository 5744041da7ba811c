/*-------------------------------------------------------------------------
 *
 * setup_checklist.c
 *	  The initial-configuration checklist of a tenant: the tasks of the
 *	  product page (and the operator's own), each done when marked or when
 *	  its condition holds.
 *
 * The tasks are rows of setup_tasks (seven written by CREATE EXTENSION, more
 * by gtm_register_setup_task); the marks are rows of tenant_setup_progress.
 * A task's condition is one of: none (it is done when marked), a settings
 * path the tenant has overridden with a value that is not empty, a number
 * of members, or a function of the tenant id registered by the operator
 * (called with the caller's rights, after the caller's EXECUTE privilege on
 * it is checked).  A marked task is done whatever its condition says.
 *
 * Reading follows the tenant rule of settings: a request reads only the
 * checklist of its statement's tenant (statement_scope_reach), an exempt
 * role any.
 *
 * IDENTIFICATION
 *	  src/setup_checklist.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/varlena.h"

#include "gtm_clarity.h"
#include "provision.h"

PG_FUNCTION_INFO_V1(gtm_setup_checklist);
PG_FUNCTION_INFO_V1(gtm_tenant_ready);
PG_FUNCTION_INFO_V1(gtm_complete_setup_task);

typedef enum ChecklistQuery
{
	Q_CHECKLIST,
	Q_TASK_KEYS,
	Q_TENANT_EXISTS,
	Q_MARK,
	Q_UNMARK,
	NUM_CHECKLIST_QUERIES
} ChecklistQuery;

static const GtmQueryDef query_defs[NUM_CHECKLIST_QUERIES] = {
	[Q_CHECKLIST] = {
		"SELECT t.key, t.title, t.ui_location, t.level, t.condition::text, "
		"       CASE t.condition WHEN 'settings_path' THEN "
		"         coalesce(ten.settings #> t.settings_path NOT IN "
		"                  ('{}'::jsonb, '[]'::jsonb, '\"\"'::jsonb), false) "
		"       WHEN 'member_count' THEN "
		"         (SELECT count(*) FROM %1$s.tenant_members m WHERE m.tenant_id = $1) "
		"           >= t.min_members END, "
		"       t.condition_function::oid, p.completed_at, p.completed_by "
		"  FROM %1$s.tenants ten "
		"  LEFT JOIN %1$s.setup_tasks t ON true "
		"  LEFT JOIN %1$s.tenant_setup_progress p "
		"    ON p.tenant_id = $1 AND p.task_key = t.key "
		" WHERE ten.id = $1 "
		" ORDER BY t.position, t.key",
		1, {TEXTOID}
	},
	[Q_TASK_KEYS] = {
		"SELECT key, key = $1 FROM %1$s.setup_tasks ORDER BY key",
		1, {TEXTOID}
	},
	[Q_TENANT_EXISTS] = {
		"SELECT 1 FROM %1$s.tenants WHERE id = $1",
		1, {TEXTOID}
	},
	[Q_MARK] = {
		"INSERT INTO %1$s.tenant_setup_progress (tenant_id, task_key, completed_by) "
		"VALUES ($1, $2, $3) ON CONFLICT (tenant_id, task_key) DO NOTHING",
		3, {TEXTOID, TEXTOID, TEXTOID}
	},
	[Q_UNMARK] = {
		"DELETE FROM %1$s.tenant_setup_progress WHERE tenant_id = $1 AND task_key = $2",
		2, {TEXTOID, TEXTOID}
	},
};

static SPIPlanPtr plans[NUM_CHECKLIST_QUERIES];
static GtmQuerySet queries = GTM_QUERY_SET(query_defs, plans);

/* Columns of Q_CHECKLIST */
enum
{
	C_KEY = 1, C_TITLE, C_WHERE, C_LEVEL, C_CONDITION, C_HOLDS, C_FUNCTION,
	C_COMPLETED_AT, C_COMPLETED_BY
};

static void
tenant_not_found(const char *tenant_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_NO_DATA_FOUND),
			 errmsg("tenant %s does not exist", gtm_msg_value(tenant_id, -1, true))));
}

/* Does the operator's condition function hold for the tenant? */
static bool
function_holds(Oid fn, const char *task, const char *tenant_id)
{
	Datum		result;
	LOCAL_FCINFO(fcinfo, 1);
	FmgrInfo	flinfo;

	if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(fn)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("the condition function of setup task %s no longer exists",
						gtm_msg_value(task, -1, true)),
				 errhint("Register the task again with gtm_register_setup_task().")));
	if (get_func_rettype(fn) != BOOLOID || get_func_nargs(fn) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
				 errmsg("the condition function of setup task %s is not a function (text) RETURNS boolean",
						gtm_msg_value(task, -1, true))));
	if (!DatumGetBool(DirectFunctionCall2(has_function_privilege_id,
										  ObjectIdGetDatum(fn),
										  CStringGetTextDatum("EXECUTE"))))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for the condition function %s of setup task %s",
						format_procedure(fn), gtm_msg_value(task, -1, true)),
				 errhint("Grant EXECUTE on it to the roles that read the checklist.")));

	fmgr_info(fn, &flinfo);
	InitFunctionCallInfoData(*fcinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	fcinfo->args[0].value = CStringGetTextDatum(tenant_id);
	fcinfo->args[0].isnull = false;
	result = FunctionCallInvoke(fcinfo);
	return !fcinfo->isnull && DatumGetBool(result);
}

/*
 * Compute the checklist of tenant_id and hand each task to row(); call
 * between SPI_connect and SPI_finish.  Returns the number of tasks.
 */
typedef void (*ChecklistRow) (HeapTuple row, TupleDesc desc, bool done,
							  const char *how, void *arg);

static uint64
compute_checklist(Oid nsp, const char *tenant_id, ChecklistRow found, void *arg)
{
	Datum		args[1];
	SPITupleTable *rows;
	uint64		n;
	uint64		ntasks = 0;

	args[0] = CStringGetTextDatum(tenant_id);
	n = gtm_query_run(&queries, Q_CHECKLIST, nsp, args, true);
	rows = SPI_tuptable;
	if (n == 0)
		tenant_not_found(tenant_id);
	for (uint64 i = 0; i < n; i++)
	{
		HeapTuple	row = rows->vals[i];
		TupleDesc	desc = rows->tupdesc;
		bool		isnull;
		bool		marked;
		bool		holds = false;
		char	   *condition;
		char	   *key;

		CHECK_FOR_INTERRUPTS();
		key = SPI_getvalue(row, desc, C_KEY);
		if (key == NULL)
			break;				/* no tasks at all */
		ntasks++;
		(void) SPI_getbinval(row, desc, C_COMPLETED_AT, &marked);
		marked = !marked;
		condition = SPI_getvalue(row, desc, C_CONDITION);
		if (!marked && strcmp(condition, "function") == 0)
		{
			Datum		fn = SPI_getbinval(row, desc, C_FUNCTION, &isnull);

			holds = !isnull && function_holds(DatumGetObjectId(fn), key, tenant_id);
		}
		else if (!marked)
		{
			Datum		h = SPI_getbinval(row, desc, C_HOLDS, &isnull);

			holds = !isnull && DatumGetBool(h);
		}
		found(row, desc, marked || holds,
			  marked ? "marked" : (holds ? "condition" : NULL), arg);
	}
	return ntasks;
}

static char *
arg_text(FunctionCallInfo fcinfo, int n, const char *name)
{
	gtm_require_arg(fcinfo, n, name, NULL);
	return text_to_cstring(PG_GETARG_TEXT_PP(n));
}

static void
put_row(HeapTuple row, TupleDesc desc, bool done, const char *how, void *arg)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		values[8];
	bool		nulls[8];

	/* task_key, title, ui_location, level, done, completed_at, completed_by, done_by */
	values[0] = SPI_getbinval(row, desc, C_KEY, &nulls[0]);
	values[1] = SPI_getbinval(row, desc, C_TITLE, &nulls[1]);
	values[2] = SPI_getbinval(row, desc, C_WHERE, &nulls[2]);
	values[3] = SPI_getbinval(row, desc, C_LEVEL, &nulls[3]);
	values[4] = BoolGetDatum(done);
	nulls[4] = false;
	values[5] = SPI_getbinval(row, desc, C_COMPLETED_AT, &nulls[5]);
	values[6] = SPI_getbinval(row, desc, C_COMPLETED_BY, &nulls[6]);
	nulls[7] = (how == NULL);
	values[7] = how ? CStringGetTextDatum(how) : (Datum) 0;
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

/*
 * gtm_setup_checklist(tenant_id text) RETURNS TABLE (task_key text,
 *	 title text, ui_location text, level gtm_setup_level, done boolean,
 *	 completed_at timestamptz, completed_by text, done_by text)
 */
Datum
gtm_setup_checklist(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_text(fcinfo, 0, "tenant_id");
	Oid			nsp = gtm_extension_namespace(fcinfo);

	statement_scope_reach(tenant_id, "\"tenant_setup_progress\" (through gtm_setup_checklist())", false);
	InitMaterializedSRF(fcinfo, 0);
	SPI_connect();
	(void) compute_checklist(nsp, tenant_id, put_row, fcinfo->resultinfo);
	SPI_finish();
	return (Datum) 0;
}

typedef struct ReadyState
{
	bool		ready;
} ReadyState;

static void
ready_row(HeapTuple row, TupleDesc desc, bool done, const char *how, void *arg)
{
	ReadyState *st = arg;
	char	   *level = SPI_getvalue(row, desc, C_LEVEL);

	if (!done && strcmp(level, "required") == 0)
		st->ready = false;
}

/*
 * gtm_tenant_ready(tenant_id text) RETURNS boolean: every Required task of
 * the checklist is done.
 */
Datum
gtm_tenant_ready(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_text(fcinfo, 0, "tenant_id");
	Oid			nsp = gtm_extension_namespace(fcinfo);
	ReadyState	st = {true};

	statement_scope_reach(tenant_id, "\"tenant_setup_progress\" (through gtm_tenant_ready())", false);
	SPI_connect();
	(void) compute_checklist(nsp, tenant_id, ready_row, &st);
	SPI_finish();
	PG_RETURN_BOOL(st.ready);
}

/* Error for a task key that is not in setup_tasks, with the nearest one. */
static void
check_task_key(Oid nsp, const char *key)
{
	Datum		args[1];
	uint64		n;
	char	   *best = NULL;
	int			best_d = INT_MAX;
	int			keylen = strlen(key);

	args[0] = CStringGetTextDatum(key);
	n = gtm_query_run(&queries, Q_TASK_KEYS, nsp, args, true);
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		char	   *k = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
		int			kl = strlen(k);
		int			d;

		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull)))
			return;
		if (keylen > 255 || kl > 255)
			continue;
		d = varstr_levenshtein(key, keylen, k, kl, 1, 1, 1, true);
		if (d < best_d && d <= Max(2, Max(keylen, kl) / 3))
		{
			best_d = d;
			best = k;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("unknown setup task %s", gtm_msg_value(key, -1, true)),
			 errdetail("The tasks are the rows of setup_tasks."),
			 best ? errhint("Did you mean %s?", gtm_msg_value(best, -1, true)) : 0));
}

/*
 * gtm_complete_setup_task(tenant_id text, task_key text,
 *	 done boolean DEFAULT true, clerk_user_id text DEFAULT NULL)
 *	 RETURNS boolean
 *
 * Marks the task done for the tenant (by clerk_user_id, else the session
 * user; the first mark is kept), or with done false removes the mark.
 * Returns whether the task is now marked.
 */
Datum
gtm_complete_setup_task(PG_FUNCTION_ARGS)
{
	char	   *tenant_id = arg_text(fcinfo, 0, "tenant_id");
	char	   *key = arg_text(fcinfo, 1, "task_key");
	bool		done;
	char	   *by;
	Oid			nsp = gtm_extension_namespace(fcinfo);
	Datum		args[3];

	gtm_require_arg(fcinfo, 2, "done", "Pass true to mark the task done, false to remove the mark.");
	done = PG_GETARG_BOOL(2);
	if (PG_ARGISNULL(3))
		by = GetUserNameFromId(GetSessionUserId(), false);
	else
		by = arg_clerk_user_id(fcinfo, 3, "clerk_user_id");

	statement_scope_reach(tenant_id, "\"tenant_setup_progress\" (through gtm_complete_setup_task())", true);

	SPI_connect();
	check_task_key(nsp, key);
	args[0] = CStringGetTextDatum(tenant_id);
	if (gtm_query_run(&queries, Q_TENANT_EXISTS, nsp, args, true) != 1)
		tenant_not_found(tenant_id);
	args[1] = CStringGetTextDatum(key);
	args[2] = CStringGetTextDatum(by);
	(void) gtm_query_run(&queries, done ? Q_MARK : Q_UNMARK, nsp, args, false);
	SPI_finish();
	PG_RETURN_BOOL(done);
}
