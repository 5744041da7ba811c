/*-------------------------------------------------------------------------
 *
 * enforce_citus_txn.c
 *	  Citus' assign_distributed_transaction_id(): who may join a
 *	  distributed transaction.
 *
 * Citus 13 keeps the intermediate results of a distributed transaction
 * (CTEs and subqueries it plans separately, rows it moves through the
 * coordinator) in files of base/pgsql_job_cache/<user>_<initiator>_<number>,
 * named by the role and the distributed transaction id of the session that
 * reads or writes them (IntermediateResultsDirectory() in Citus'
 * intermediate_results.c).  A session gets that id either by starting a
 * distributed transaction (a new number, from this node) or by calling
 * pg_catalog.assign_distributed_transaction_id(initiator, number, stamp),
 * executable by PUBLIC, which sets any id it is given (backend_data.c).
 * Citus calls it on each of its own connections, as the connecting role,
 * in exactly one form, the last statement of the string that begins the
 * remote transaction (StartRemoteTransactionBegin() in remote_transaction.c):
 *
 *	 BEGIN TRANSACTION ISOLATION LEVEL ...;[SET LOCAL ...;SAVEPOINT ...;]
 *	 SELECT assign_distributed_transaction_id(<int>, <int>, '<stamp>');
 *
 * A client of the same role that calls it with the id of another session's
 * running transaction (get_all_active_transactions() lists them) reads that
 * session's intermediate results with read_intermediate_result(), rows of
 * the tenant the other session's statement was pinned to, in a statement
 * on no tenant table.  The other functions around intermediate results
 * (read_intermediate_result(s), fetch_intermediate_results,
 * create_/broadcast_intermediate_result, COPY ... WITH (format result),
 * worker_partition_query_result) and get_current_transaction_id() act on the
 * session's own id only, and Citus calls read_intermediate_result in its own
 * plans; they are left alone.
 *
 * So a call of assign_distributed_transaction_id by a role that is not
 * exempt is judged when it starts (function manager hooks, installed by
 * enforce_citus_lock.c):
 *
 * 1. On every node, it must be in Citus' form: the top-level statement,
 *	  at executor level one, "SELECT assign_distributed_transaction_id(<int>,
 *	  <int>, '<text>');" with nothing after it in the query string.  Through
 *	  Citus (run_command_on_workers() and the like, which open a connection,
 *	  send one string and close it) a role can then join a transaction but
 *	  run nothing in it; a call in a function, a FROM list or followed by
 *	  another statement is refused.
 *
 * 2. On the coordinator (the node of Citus' group 0), when it holds no
 *	  shard of a distributed table (shouldhaveshards false, the topology of
 *	  doc/scaling-out.md: only placements of reference tables and of Citus
 *	  local tables, which have one shard each), a call whose initiator is the
 *	  coordinator itself is refused, whatever its form.  Transactions with
 *	  that initiator are started only by the coordinator's backends
 *	  (AssignDistributedTransactionId() uses the local group), and Citus
 *	  sends them to the coordinator only on a connection to a placement of
 *	  its own: for those placements, only when local execution is
 *	  off (citus.enable_local_execution) or disabled by such a connection
 *	  earlier in the transaction (ShouldExecuteTasksLocally() in
 *	  local_executor.c runs a single task that touches this node locally, and
 *	  a multi-task list uses connections only for tasks on shards of
 *	  distributed tables), or from a worker's nested distributed execution
 *	  (refused by Citus unless citus.allow_nested_distributed_execution).
 *	  Clients connect to the coordinator, and a client can send rule 1's form
 *	  and then read: this rule closes that.  Calls with a worker as
 *	  initiator (a delegated function that writes a reference table) pass.
 *
 * On a worker, clients of the application role must not connect directly
 * (pg_hba.conf: that role from the cluster's nodes only): a direct client could
 * send rule 1's form and read in its next statement, and the worker cannot
 * tell it from Citus' connection.
 *
 * IDENTIFICATION
 *	  src/enforce_citus_txn.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <ctype.h>

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/primnodes.h"
#include "parser/parse_func.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* Citus' group of the coordinator (COORDINATOR_GROUP_ID) */
#define CITUS_COORDINATOR_GROUP 0

/* Skip an optional sign and digits; NULL if there are none */
static const char *
skip_integer(const char *p)
{
	const char *start;

	if (*p == '-')
		p++;
	start = p;
	while (*p >= '0' && *p <= '9')
		p++;
	return p > start ? p : NULL;
}

/*
 * Is the call in Citus' form: the top-level statement, at executor level
 * one, "SELECT assign_distributed_transaction_id(<int>, <int>, '<text>');"
 * ending the query string?  The call's location is an offset into the text
 * of the statement it was parsed from; at the top level that is
 * debug_query_string.
 */
static bool
call_in_citus_form(FuncExpr *call)
{
	static const char name[] = "assign_distributed_transaction_id(";
	const char *q = debug_query_string;
	const char *p;

	if (executor_nesting != 1 || planning_depth != 0 || utility_nesting != 0 ||
		q == NULL || call->location < 7 || call->location >= (int) strlen(q))
		return false;
	p = q + call->location;
	if (strncmp(p - 7, "SELECT ", 7) != 0 ||
		(call->location > 7 && p[-8] != ';'))
		return false;
	p += strlen(name);
	if ((p = skip_integer(p)) == NULL || strncmp(p, ", ", 2) != 0 ||
		(p = skip_integer(p + 2)) == NULL || strncmp(p, ", '", 3) != 0)
		return false;
	p = strchr(p + 3, '\'');
	if (p == NULL || strncmp(p, "');", 3) != 0)
		return false;
	for (p += 3; *p != '\0'; p++)
		if (!isspace((unsigned char) *p))
			return false;
	return true;
}

/* The n-th argument, if it is a constant of type typid */
static bool
const_arg_of(FuncExpr *call, int n, Oid typid, Datum *value)
{
	Node	   *arg = list_length(call->args) > n ?
		strip_relabel(list_nth(call->args, n)) : NULL;

	if (arg == NULL || !IsA(arg, Const) || ((Const *) arg)->constisnull ||
		((Const *) arg)->consttype != typid)
		return false;
	*value = ((Const *) arg)->constvalue;
	return true;
}

/*
 * Is this node Citus' coordinator (group 0) holding no shard of a
 * distributed table, i.e. no placement of a table whose partmethod is not
 * 'n' (rule 2)?  Read from Citus' metadata, which every role may read.
 */
static bool
coordinator_without_shards(void)
{
	bool		result = false;
	bool		isnull;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/*
	 * Every operator is qualified (and no JOIN ... USING, which looks "="
	 * up): the query runs with the caller's search_path, where a role with
	 * CREATE on a schema could put an "=" of its own before pg_catalog and
	 * turn this check off.
	 */
	ret = SPI_execute("SELECT g.groupid OPERATOR(pg_catalog.=) "
					  CppAsString2(CITUS_COORDINATOR_GROUP)
					  " AND NOT EXISTS (SELECT FROM pg_catalog.pg_dist_placement p"
					  " JOIN pg_catalog.pg_dist_shard s"
					  " ON s.shardid OPERATOR(pg_catalog.=) p.shardid"
					  " JOIN pg_catalog.pg_dist_partition t"
					  " ON t.logicalrelid OPERATOR(pg_catalog.=) s.logicalrelid"
					  " WHERE p.groupid OPERATOR(pg_catalog.=) g.groupid"
					  " AND t.partmethod OPERATOR(pg_catalog.<>) 'n')"
					  " FROM pg_catalog.pg_dist_local_group g",
					  true, 1);
	if (ret == SPI_OK_SELECT && SPI_processed == 1)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0],
									  SPI_tuptable->tupdesc, 1, &isnull);

		result = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	return result;
}

/* A call of assign_distributed_transaction_id starts: judge it */
void
judge_citus_txn_call(FmgrInfo *flinfo)
{
	FuncExpr   *call = (FuncExpr *) flinfo->fn_expr;
	Datum		initiator = Int32GetDatum(-1);
	Datum		number = Int64GetDatum(0);
	bool		citus_form;

	if (gtm_enforcement == GTM_ENFORCE_OFF || !gtm_installed_here() ||
		role_is_exempt())
		return;
	citus_form = call != NULL && IsA(call, FuncExpr) &&
		const_arg_of(call, 0, INT4OID, &initiator) &&
		const_arg_of(call, 1, INT8OID, &number) && call_in_citus_form(call);
	if (!citus_form)
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("assign_distributed_transaction_id() may be called only as Citus calls it"),
				 errdetail("It makes this session join a running distributed transaction, whose intermediate results hold rows of the tenant its statements were pinned to; Citus calls it as the last statement of the command that begins a transaction on its connection, \"SELECT assign_distributed_transaction_id(<int>, <int>, '<timestamp>');\"."),
				 errhint("Do not call Citus' internal functions; run the statement as a role with BYPASSRLS if it must.")));
	else if (DatumGetInt32(initiator) == CITUS_COORDINATOR_GROUP &&
			 coordinator_without_shards())
		ereport(ENFORCE_ELEVEL(),
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("assign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator"),
				 errdetail("It makes this session join distributed transaction %d:%lld of another session of this node, whose intermediate results hold rows of the tenant its statements were pinned to.",
						   DatumGetInt32(initiator), (long long) DatumGetInt64(number)),
				 errhint("Do not call Citus' internal functions.  If this is Citus' own connection to the coordinator, keep citus.enable_local_execution on (its default) and citus.allow_nested_distributed_execution off.")));
}
