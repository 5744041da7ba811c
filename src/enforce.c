/*-------------------------------------------------------------------------
 *
 * enforce.c
 *	  Tenant-scope enforcement: no statement touches a tenant-scoped table
 *	  unless the planner can prove it is pinned to one tenant.
 *
 * A table is tenant-scoped when it has a column named by gtm.tenant_column
 * (default tenant_id) and lives outside the system schemas.  A reference to
 * such a table is pinned when its restriction clauses, as the planner holds
 * them after equivalence-class derivation (rel->baserestrictinfo), contain
 * a btree equality "tenant_col = v" with v fixed before execution: a
 * non-null constant, a bound parameter, or a stable expression without
 * column references.  Correlated subqueries see the outer column as a
 * PARAM_EXEC parameter; its outer Var is resolved through the outer level's
 * plan_params and must itself be pinned.
 *
 * Where the check happens:
 *	- set_rel_pathlist_hook records, for each base relation of a tenant
 *	  table at every query level, what its restriction clauses pin.
 *	- create_upper_paths_hook (UPPERREL_FINAL) records the tenant values an
 *	  INSERT, UPDATE SET, ON CONFLICT DO UPDATE SET or MERGE action writes.
 *	- planner_hook, after the standard planner, decides: every tenant table
 *	  the finished plan scans must have been seen and pinned; all pins must
 *	  denote one tenant (constants compared now, parameters and stable
 *	  expressions by ExecutorStart_hook with the bound values); ON CONFLICT
 *	  DO UPDATE arbiters must include the tenant column.  Plans touching a
 *	  tenant table are marked dependsOnRole, as row-level security does.
 *	- ProcessUtility_hook rejects COPY to/from a tenant table and TRUNCATE.
 *
 * A stable value is trusted only when built from built-in functions and
 * gtm_current_tenant(): a user-defined function marked STABLE could return
 * another tenant for the next row a scan filters.
 *
 * Exempt, as from row-level security: superusers, BYPASSRLS roles and the
 * internal queries of foreign-key checks (InNoForceRLSOperation()); also
 * the validation query of ALTER TABLE ... FOREIGN KEY (run as the current
 * user) and the internal comparison of REFRESH MATERIALIZED VIEW
 * CONCURRENTLY (whose definition query is checked); and tables recorded
 * with gtm_exempt_table().
 *
 * Per-relation facts live in a backend-local hash keyed by OID and
 * invalidated by a relcache callback, so a statement costs one hash probe
 * per relation it names and nothing else when it touches no tenant table.
 *
 * IDENTIFICATION
 *	  src/enforce.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/parallel.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/xact.h"
#include "catalog/catalog.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_index.h"
#include "catalog/partition.h"
#include "catalog/pg_inherits.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "commands/copy.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "optimizer/optimizer.h"
#include "optimizer/paths.h"
#include "optimizer/planner.h"
#include "parser/parsetree.h"
#include "rewrite/rewriteHandler.h"
#include "tcop/tcopprot.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/plancache.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "gtm_clarity.h"

PG_FUNCTION_INFO_V1(gtm_set_tenant);
PG_FUNCTION_INFO_V1(gtm_current_tenant);
PG_FUNCTION_INFO_V1(gtm_check_statement);
PG_FUNCTION_INFO_V1(gtm_exempt_table);
PG_FUNCTION_INFO_V1(gtm_unexempt_table);

/* The one SQLSTATE of a rejected statement (documented in the README). */
#define GTM_ERRCODE_NOT_PINNED	ERRCODE_INSUFFICIENT_PRIVILEGE

/* PlanInvalItem.cacheId marking a runtime tenant check (no syscache id). */
#define GTM_CHECK_CACHEID		(-7243)

#define EXEMPTIONS_TABLE		"tenant_scope_exemptions"

/* ----------------------------------------------------------------
 *		Configuration
 * ----------------------------------------------------------------
 */
typedef enum GtmEnforcement
{
	GTM_ENFORCE_OFF,
	GTM_ENFORCE_WARN,
	GTM_ENFORCE_ERROR
} GtmEnforcement;

static const struct config_enum_entry enforcement_options[] = {
	{"error", GTM_ENFORCE_ERROR, false},
	{"warn", GTM_ENFORCE_WARN, false},
	{"off", GTM_ENFORCE_OFF, false},
	{NULL, 0, false}
};

static int	gtm_enforcement = GTM_ENFORCE_ERROR;
static char *gtm_tenant_column = NULL;
static char *gtm_session_tenant = NULL;

/* ----------------------------------------------------------------
 *		Per-relation facts
 * ----------------------------------------------------------------
 */
typedef struct RelFacts
{
	Oid			relid;			/* hash key */
	bool		tenant;			/* has the tenant column, not a system table */
	bool		exempt;			/* recorded by gtm_exempt_table() */
	AttrNumber	attnum;			/* the tenant column, if tenant */
} RelFacts;

static HTAB *rel_facts_hash = NULL;

/*
 * The entries found last, by relid modulo RECENT_FACTS, in front of the
 * hash table: a statement looks its few tables up several times.  Cleared
 * whenever an entry leaves the hash table.
 */
#define RECENT_FACTS 16
static RelFacts *recent_facts[RECENT_FACTS];

/* ----------------------------------------------------------------
 *		Per-statement state
 * ----------------------------------------------------------------
 */
typedef enum PinReason
{
	PR_PINNED,
	PR_NO_CONDITION,
	PR_OR,
	PR_LIST,
	PR_NOT_EQUALITY,
	PR_FUNCTION_OF_COLUMN,
	PR_TAUTOLOGY,
	PR_VOLATILE,
	PR_USER_FUNCTION,
	PR_OTHER_COLUMN,
	PR_SUBQUERY_VALUE,
	PR_NULL,
	PR_NONDETERMINISTIC,
	PR_NOT_ANALYSED,
	PR_INSERT_NO_VALUE,
	PR_INSERT_UNPINNED,
	PR_SET_UNPINNED,
	PR_TWO_TENANTS,
	PR_MOVES_ROW,
	PR_ARBITER,
	PR_AT_START,				/* checker: values compared at execution */
	PR_DEFERRED					/* PARAM_EXEC: resolved after planning */
} PinReason;

typedef enum RefKind
{
	REF_SCAN,					/* a base relation the plan reads */
	REF_INSERT,					/* the tenant value an INSERT writes */
	REF_SET						/* a new tenant value of UPDATE / DO UPDATE */
} RefKind;

typedef struct TenantRef
{
	RefKind		kind;
	Oid			relid;
	AttrNumber	attnum;
	const char *alias;
	Alias	   *eref;			/* identifies a REF_SCAN in the flat rtable */
	PinReason	reason;
	List	   *values;			/* pinned: the value expression(s) */
	/* PR_DEFERRED: the outer Var the PARAM_EXEC stands for */
	PlannerInfo *outer_root;
	Index		outer_varno;
	AttrNumber	outer_attno;
	/* PR_TWO_TENANTS / PR_MOVES_ROW: the other reference and both values */
	struct TenantRef *other;
	Node	   *mine;
	Node	   *theirs;
	char	   *index_name;		/* PR_ARBITER */
	bool		judged;
} TenantRef;

/* A PARAM_EXEC that stands for a Var of an outer query level */
typedef struct OuterParam
{
	int			paramid;
	PlannerInfo *root;			/* the level the Var belongs to */
	Index		varno;
	AttrNumber	varattno;
} OuterParam;

typedef struct EnforceState
{
	bool		collect;		/* gtm_check_statement: report, don't raise */
	List	   *refs;			/* TenantRef * */
	List	   *outer_params;	/* OuterParam *, captured while planning */
} EnforceState;

/*
 * The state rel_pin() records outer parameters into and looks them up in:
 * the outer levels' plan_params lists are emptied once a subquery is
 * planned, so what they held is kept here for the end of planning.
 */
static EnforceState *pin_state = NULL;

static EnforceState *cur_state = NULL;

/* > 0 while the planner runs (it evaluates stable functions to estimate) */
static int	planning_depth = 0;

/*
 * Executors started, and not yet ended, for plans touching a tenant table
 * (dependsOnRole).  gtm_set_tenant() refuses while any is running, so a
 * statement or open cursor pinned by gtm_current_tenant() keeps one tenant.
 * An executor is counted off when its memory (es_query_cxt) goes away: at
 * ExecutorEnd, or when an aborted (sub)transaction releases it, since an
 * aborted portal never reaches ExecutorEnd.  This needs no ExecutorEnd hook
 * or transaction callback, so a statement on no tenant table pays for one
 * hook call only.
 */
static int	tenant_executors = 0;

/*
 * REFRESH MATERIALIZED VIEW CONCURRENTLY: 1 while its definition query is
 * yet to be planned (checked as usual), 2 afterwards, while its internal
 * SPI queries compare the old contents with the new (not checked: both come
 * from the definition query, like the internal queries of foreign keys).
 */
static int	refresh_state = 0;

/* > 0 while ALTER TABLE runs (see is_alter_table_fk_check) */
static int	alter_table_depth = 0;

/* Set by ProcessUtility for the planner call of a plain EXPLAIN. */
static bool explain_only_next = false;

/* Set by gtm_check_statement for the planner call it makes. */
static bool collect_next_plan = false;
static List *collected_refs = NIL;

/* Runtime checks (one-tenant comparison of non-constant pins). */
typedef struct RuntimeCheck
{
	char	   *key;			/* nodeToString of values, for reuse */
	List	   *values;			/* Expr * */
	List	   *labels;			/* char *: "table (alias)" */
} RuntimeCheck;

static List *runtime_checks = NIL;	/* in TopMemoryContext */

/* Saved hook values */
static planner_hook_type prev_planner_hook = NULL;
static set_rel_pathlist_hook_type prev_set_rel_pathlist_hook = NULL;
static create_upper_paths_hook_type prev_create_upper_paths_hook = NULL;
static ExecutorStart_hook_type prev_ExecutorStart_hook = NULL;
static ProcessUtility_hook_type prev_ProcessUtility_hook = NULL;

/* ----------------------------------------------------------------
 *		GUC hooks
 * ----------------------------------------------------------------
 */
static bool
check_tenant_column(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("gtm.tenant_column must name a column.");
		return false;
	}
	if (strlen(*newval) >= NAMEDATALEN)
	{
		GUC_check_errdetail("A column name has at most %d bytes.", NAMEDATALEN - 1);
		return false;
	}
	return true;
}

static void
forget_rel_facts(void)
{
	memset(recent_facts, 0, sizeof(recent_facts));
	if (rel_facts_hash != NULL)
	{
		hash_destroy(rel_facts_hash);
		rel_facts_hash = NULL;
	}
}

/*
 * A change of mode or column changes verdicts: cached plans must be
 * re-checked, so drop them (they are rebuilt on next use).
 */
static void
assign_tenant_column(const char *newval, void *extra)
{
	forget_rel_facts();
	ResetPlanCache();
}

static void
assign_enforcement(int newval, void *extra)
{
	if (newval != gtm_enforcement)
		ResetPlanCache();
}

static bool
check_enforcement(int *newval, void **extra, GucSource source)
{
	/* Parallel workers take the leader's value; nothing else to refuse. */
	return *newval == GTM_ENFORCE_OFF || *newval == GTM_ENFORCE_WARN ||
		*newval == GTM_ENFORCE_ERROR;
}

static bool
check_session_tenant(char **newval, void **extra, GucSource source)
{
	if (*newval != NULL && strlen(*newval) > 128)
	{
		GUC_check_errdetail("A tenant id has at most 128 bytes.");
		return false;
	}
	return true;
}

/* ----------------------------------------------------------------
 *		Relation facts
 * ----------------------------------------------------------------
 */
static void
rel_facts_inval(Datum arg, Oid relid)
{
	if (rel_facts_hash == NULL)
		return;
	if (!OidIsValid(relid))
		forget_rel_facts();
	else
	{
		memset(recent_facts, 0, sizeof(recent_facts));
		hash_search(rel_facts_hash, &relid, HASH_REMOVE, NULL);
	}
}

/* Schema of an extension (extension.c keeps its own lookup static). */
static Oid
extension_schema(Oid extoid)
{
	Relation	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	Oid			nsp = InvalidOid;

	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber,
				F_OIDEQ, ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		nsp = ((Form_pg_extension) GETSTRUCT(tup))->extnamespace;
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return nsp;
}

/* Is relid recorded in the extension's exemptions table? */
static bool
lookup_exemption(Oid relid)
{
	Oid			extoid = get_extension_oid("gtm_clarity", true);
	Oid			nsp;
	Oid			tableoid;
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;
	Snapshot	snap;
	bool		found = false;

	if (!OidIsValid(extoid))
		return false;
	nsp = extension_schema(extoid);
	tableoid = get_relname_relid(EXEMPTIONS_TABLE, nsp);
	if (!OidIsValid(tableoid))
		return false;

	rel = table_open(tableoid, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, InvalidOid, false, snap, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);

		if (!isnull && DatumGetObjectId(d) == relid)
		{
			found = true;
			break;
		}
	}
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

static RelFacts *
rel_facts(Oid relid)
{
	RelFacts   *f = recent_facts[relid % RECENT_FACTS];
	bool		found;

	if (f != NULL && f->relid == relid)
		return f;
	if (rel_facts_hash == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(RelFacts);
		ctl.hcxt = TopMemoryContext;
		rel_facts_hash = hash_create("gtm_clarity relation facts", 256, &ctl,
									 HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	}
	f = hash_search(rel_facts_hash, &relid, HASH_FIND, NULL);
	if (f)
	{
		recent_facts[relid % RECENT_FACTS] = f;
		return f;
	}

	{
		RelFacts	tmp;
		char		relkind = get_rel_relkind(relid);
		Oid			nsp = get_rel_namespace(relid);

		tmp.relid = relid;
		tmp.tenant = false;
		tmp.exempt = false;
		tmp.attnum = InvalidAttrNumber;
		if ((relkind == RELKIND_RELATION || relkind == RELKIND_PARTITIONED_TABLE ||
			 relkind == RELKIND_FOREIGN_TABLE || relkind == RELKIND_MATVIEW) &&
			OidIsValid(nsp) && !IsCatalogNamespace(nsp) && !IsToastNamespace(nsp) &&
			strcmp(get_namespace_name(nsp), "information_schema") != 0)
		{
			tmp.attnum = get_attnum(relid, gtm_tenant_column);
			if (tmp.attnum > 0)
			{
				tmp.tenant = true;
				tmp.exempt = lookup_exemption(relid);
				/* a partition is exempt with its partitioned ancestors */
				if (!tmp.exempt && get_rel_relispartition(relid))
				{
					ListCell   *lc;

					foreach(lc, get_partition_ancestors(relid))
						if (lookup_exemption(lfirst_oid(lc)))
							tmp.exempt = true;
				}
			}
			else
				tmp.attnum = InvalidAttrNumber;
		}
		/* the lookups above may have run invalidations: insert afterwards */
		f = hash_search(rel_facts_hash, &relid, HASH_ENTER, &found);
		*f = tmp;
		recent_facts[relid % RECENT_FACTS] = f;
	}
	return f;
}

/*
 * Exempt like row-level security: superuser, BYPASSRLS, RI checks.  The
 * answer for the last role asked is kept until pg_authid changes.
 */
static Oid	exempt_cache_role = InvalidOid;
static bool exempt_cache_value = false;

static void
exempt_cache_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	exempt_cache_role = InvalidOid;
}

static bool
role_is_exempt(void)
{
	Oid			role = GetUserId();

	if (InNoForceRLSOperation())
		return true;
	if (role != exempt_cache_role)
	{
		exempt_cache_value = superuser_arg(role) || has_bypassrls_privilege(role);
		exempt_cache_role = role;
	}
	return exempt_cache_value;
}

/* ----------------------------------------------------------------
 *		Analysing clauses
 * ----------------------------------------------------------------
 */
static Node *
strip_relabel(Node *n)
{
	while (n && IsA(n, RelabelType))
		n = (Node *) ((RelabelType *) n)->arg;
	return n;
}

static bool
is_the_var(Node *n, Index varno, AttrNumber attno)
{
	n = strip_relabel(n);
	return n && IsA(n, Var) && ((Var *) n)->varno == varno &&
		((Var *) n)->varattno == attno && ((Var *) n)->varlevelsup == 0;
}

typedef struct MentionCtx
{
	Index		varno;
	AttrNumber	attno;
} MentionCtx;

static bool
mentions_var_walker(Node *node, MentionCtx *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var))
	{
		Var		   *v = (Var *) node;

		return v->varno == ctx->varno && v->varlevelsup == 0 &&
			(v->varattno == ctx->attno || v->varattno == 0);
	}
	return expression_tree_walker(node, mentions_var_walker, (void *) ctx);
}

/* True for nodes that make a value depend on more than the statement. */
static bool
unfixed_walker(Node *node, void *ctx)
{
	if (node == NULL)
		return false;
	if (IsA(node, Var) || IsA(node, PlaceHolderVar) || IsA(node, SubLink) ||
		IsA(node, SubPlan) || IsA(node, AlternativeSubPlan) ||
		IsA(node, Aggref) || IsA(node, WindowFunc) || IsA(node, GroupingFunc) ||
		IsA(node, CurrentOfExpr) || IsA(node, NextValueExpr))
		return true;
	if (IsA(node, Param) && ((Param *) node)->paramkind != PARAM_EXTERN)
		return true;
	return expression_tree_walker(node, unfixed_walker, ctx);
}

/*
 * Is funcid gtm_current_tenant()?  Its OID depends on the installation, so
 * it is recognised by its C symbol and cached.
 */
static Oid	current_tenant_fn_oid = InvalidOid;

static bool
is_current_tenant_fn(Oid funcid)
{
	HeapTuple	tup;
	bool		match = false;

	if (funcid == current_tenant_fn_oid)
		return true;
	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		Datum		bin;

		if (proc->prolang == ClanguageId && !isnull &&
			strcmp(TextDatumGetCString(src), "gtm_current_tenant") == 0)
		{
			bin = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_probin, &isnull);
			if (!isnull)
			{
				char	   *b = TextDatumGetCString(bin);
				size_t		len = strlen(b);

				match = len >= 11 && strcmp(b + len - 11, "gtm_clarity") == 0;
			}
		}
		ReleaseSysCache(tup);
	}
	if (match)
		current_tenant_fn_oid = funcid;
	return match;
}

/*
 * A stable value is evaluated once when the statement starts but may be
 * evaluated again for every row a scan filters.  Only functions whose
 * stability is known (built-in ones and gtm_current_tenant()) are trusted
 * to give the same value each time: a user-defined function could be
 * marked STABLE and return another tenant on the next row.
 */
static bool
untrusted_function(Oid funcid, void *context)
{
	return funcid >= FirstNormalObjectId && !is_current_tenant_fn(funcid);
}

static bool
untrusted_walker(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, untrusted_function, context))
		return true;
	return expression_tree_walker(node, untrusted_walker, context);
}

/*
 * Classify a value compared with the tenant column.  Returns PR_PINNED for
 * a value fixed before execution (constant, parameter, stable expression).
 */
static PinReason
classify_value(Node *val)
{
	val = strip_relabel(val);
	if (IsA(val, Const))
		return ((Const *) val)->constisnull ? PR_NULL : PR_PINNED;
	if (IsA(val, Param))
	{
		Param	   *p = (Param *) val;

		return p->paramkind == PARAM_EXTERN ? PR_PINNED : PR_SUBQUERY_VALUE;
	}
	if (contain_volatile_functions(val))
		return PR_VOLATILE;
	if (contain_var_clause(val))
		return PR_OTHER_COLUMN;
	if (unfixed_walker(val, NULL))
		return PR_SUBQUERY_VALUE;
	if (untrusted_walker(val, NULL))
		return PR_USER_FUNCTION;
	return PR_PINNED;
}

/* Rank of a failure reason: the most telling one is reported. */
static int
reason_rank(PinReason r)
{
	switch (r)
	{
		case PR_PINNED:
			return 100;
		case PR_DEFERRED:
			return 90;
		case PR_NO_CONDITION:
			return 0;
		default:
			return 10;
	}
}

static OuterParam *find_outer_param(PlannerInfo *root, int paramid);

typedef struct PinResult
{
	PinReason	reason;
	Node	   *value;
	PlannerInfo *outer_root;
	Index		outer_varno;
	AttrNumber	outer_attno;
} PinResult;

/*
 * Keep the outer Vars the PARAM_EXECs of root's level stand for (from the
 * outer levels' plan_params, live while root is being planned).
 */
static void
capture_outer_params(PlannerInfo *root)
{
	PlannerInfo *pr;

	if (pin_state == NULL)
		return;
	for (pr = root->parent_root; pr; pr = pr->parent_root)
	{
		ListCell   *lc;

		foreach(lc, pr->plan_params)
		{
			PlannerParamItem *item = lfirst(lc);
			ListCell   *lc2;
			bool		known = false;
			OuterParam *op;

			if (!IsA(item->item, Var))
				continue;
			foreach(lc2, pin_state->outer_params)
				if (((OuterParam *) lfirst(lc2))->paramid == item->paramId)
					known = true;
			if (known)
				continue;
			op = palloc(sizeof(OuterParam));
			op->paramid = item->paramId;
			op->root = pr;
			op->varno = ((Var *) item->item)->varno;
			op->varattno = ((Var *) item->item)->varattno;
			pin_state->outer_params = lappend(pin_state->outer_params, op);
		}
	}
}

static OuterParam *
find_outer_param(PlannerInfo *root, int paramid)
{
	ListCell   *lc;

	capture_outer_params(root);
	if (pin_state == NULL)
		return NULL;
	foreach(lc, pin_state->outer_params)
	{
		OuterParam *op = lfirst(lc);

		if (op->paramid == paramid)
			return op;
	}
	return NULL;
}

/*
 * What do rel's restriction clauses pin the column (varno, attno) to?
 */
static void
rel_pin(PlannerInfo *root, RelOptInfo *rel, Index varno, AttrNumber attno,
		PinResult *res)
{
	ListCell   *lc;
	MentionCtx	mctx;

	mctx.varno = varno;
	mctx.attno = attno;
	memset(res, 0, sizeof(PinResult));
	res->reason = PR_NO_CONDITION;

	foreach(lc, rel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Node	   *clause = (Node *) rinfo->clause;
		PinReason	r;
		Node	   *other = NULL;

		if (!mentions_var_walker(clause, &mctx))
			continue;

		if (IsA(clause, OpExpr) && list_length(((OpExpr *) clause)->args) == 2)
		{
			OpExpr	   *op = (OpExpr *) clause;
			Node	   *l = linitial(op->args);
			Node	   *rt = lsecond(op->args);

			if (is_the_var(l, varno, attno) && !mentions_var_walker(rt, &mctx))
				other = rt;
			else if (is_the_var(rt, varno, attno) && !mentions_var_walker(l, &mctx))
				other = l;

			if (other == NULL)
				r = PR_FUNCTION_OF_COLUMN;
			else if (contain_volatile_functions(other))
				r = PR_VOLATILE;
			else if (rinfo->mergeopfamilies == NIL &&
					 !(op_mergejoinable(op->opno, exprType(l)) &&
					   get_mergejoin_opfamilies(op->opno) != NIL))
				r = PR_NOT_EQUALITY;	/* (child rels' clauses lack the cache) */
			else if (OidIsValid(op->inputcollid) &&
					 op->inputcollid != DEFAULT_COLLATION_OID &&
					 op->inputcollid != C_COLLATION_OID &&
					 op->inputcollid != POSIX_COLLATION_OID &&
					 !get_collation_isdeterministic(op->inputcollid))
				r = PR_NONDETERMINISTIC;
			else
			{
				Node	   *sv = strip_relabel(other);

				r = classify_value(other);
				if (IsA(sv, Param) && ((Param *) sv)->paramkind == PARAM_EXEC)
				{
					/* correlated / LATERAL: find the outer Var it stands for */
					OuterParam *op = find_outer_param(root, ((Param *) sv)->paramid);

					if (op != NULL)
					{
						if (reason_rank(res->reason) < reason_rank(PR_DEFERRED))
						{
							res->reason = PR_DEFERRED;
							res->outer_root = op->root;
							res->outer_varno = op->varno;
							res->outer_attno = op->varattno;
						}
						continue;
					}
				}
				if (r == PR_PINNED)
				{
					res->reason = PR_PINNED;
					res->value = sv;
					return;
				}
			}
		}
		else if (IsA(clause, NullTest) &&
				 ((NullTest *) clause)->nulltesttype == IS_NOT_NULL &&
				 is_the_var((Node *) ((NullTest *) clause)->arg, varno, attno))
			r = PR_TAUTOLOGY;
		else if (is_orclause(clause))
			r = PR_OR;
		else if (IsA(clause, ScalarArrayOpExpr))
			r = PR_LIST;
		else
			r = PR_NOT_EQUALITY;

		if (reason_rank(r) > reason_rank(res->reason))
			res->reason = r;
	}
}

static List *expr_values(PlannerInfo *root, Node *expr, int depth, PinReason *why);

/*
 * The tenant values a column (varno, attno) of root can hold, or NIL with
 * *why set.  Used for outer Vars of correlated subqueries and for the
 * source of inserted values.
 */
static List *
var_values(PlannerInfo *root, Index varno, AttrNumber attno, int depth,
		   PinReason *why)
{
	RelOptInfo *rel;
	RangeTblEntry *rte;
	PinResult	pr;

	check_stack_depth();
	*why = PR_OTHER_COLUMN;
	if (depth > 16 || varno < 1 || varno >= root->simple_rel_array_size ||
		attno <= 0)
		return NIL;
	rel = root->simple_rel_array[varno];
	rte = root->simple_rte_array[varno];
	if (rel == NULL || rte == NULL)
		return NIL;

	rel_pin(root, rel, varno, attno, &pr);
	if (pr.reason == PR_PINNED)
		return list_make1(pr.value);
	if (pr.reason == PR_DEFERRED)
		return var_values(pr.outer_root, pr.outer_varno, pr.outer_attno,
						  depth + 1, why);

	if (rte->rtekind == RTE_SUBQUERY && rel->subroot != NULL)
	{
		ListCell   *lc;

		foreach(lc, rel->subroot->processed_tlist)
		{
			TargetEntry *tle = lfirst_node(TargetEntry, lc);

			if (tle->resno == attno && !tle->resjunk)
				return expr_values(rel->subroot, (Node *) tle->expr, depth + 1, why);
		}
	}
	else if (rte->rtekind == RTE_CTE && !rte->self_reference)
	{
		/* the column of the CTE's own (already planned) query */
		PlannerInfo *cteroot = root;
		Index		levelsup = rte->ctelevelsup;
		int			ndx = 0;
		ListCell   *lc;

		while (levelsup-- > 0 && cteroot)
			cteroot = cteroot->parent_root;
		if (cteroot == NULL)
			return NIL;
		foreach(lc, cteroot->parse->cteList)
		{
			if (strcmp(((CommonTableExpr *) lfirst(lc))->ctename, rte->ctename) == 0)
				break;
			ndx++;
		}
		if (lc != NULL && ndx < list_length(cteroot->cte_plan_ids))
		{
			int			plan_id = list_nth_int(cteroot->cte_plan_ids, ndx);
			PlannerInfo *subroot;

			if (plan_id <= 0 || plan_id > list_length(root->glob->subroots))
				return NIL;
			subroot = list_nth(root->glob->subroots, plan_id - 1);
			foreach(lc, subroot->processed_tlist)
			{
				TargetEntry *tle = lfirst_node(TargetEntry, lc);

				if (tle->resno == attno && !tle->resjunk)
					return expr_values(subroot, (Node *) tle->expr, depth + 1, why);
			}
		}
	}
	else if (rte->rtekind == RTE_VALUES)
	{
		List	   *result = NIL;
		ListCell   *lc;

		foreach(lc, rte->values_lists)
		{
			List	   *row = lfirst(lc);
			List	   *v;

			if (attno > list_length(row))
				return NIL;
			v = expr_values(root, list_nth(row, attno - 1), depth + 1, why);
			if (v == NIL)
				return NIL;
			result = list_concat(result, v);
		}
		return result;
	}
	return NIL;
}

static List *
expr_values(PlannerInfo *root, Node *expr, int depth, PinReason *why)
{
	Node	   *e = strip_relabel(expr);
	PinReason	r;

	if (e == NULL)
	{
		*why = PR_NULL;
		return NIL;
	}
	if (IsA(e, Var) && ((Var *) e)->varlevelsup == 0)
		return var_values(root, ((Var *) e)->varno, ((Var *) e)->varattno,
						  depth, why);
	r = classify_value(e);
	if (r == PR_PINNED)
		return list_make1(e);
	*why = r;
	return NIL;
}

/* ----------------------------------------------------------------
 *		Recording references while planning
 * ----------------------------------------------------------------
 */
static TenantRef *
new_ref(RefKind kind, RelFacts *f, const char *alias)
{
	TenantRef  *ref = palloc0(sizeof(TenantRef));

	ref->kind = kind;
	ref->relid = f->relid;
	ref->attnum = f->attnum;
	ref->alias = alias;
	return ref;
}

static void
gtm_set_rel_pathlist(PlannerInfo *root, RelOptInfo *rel, Index rti,
					 RangeTblEntry *rte)
{
	EnforceState *st = cur_state;
	RelFacts   *f;
	TenantRef  *ref;
	PinResult	pr;

	if (prev_set_rel_pathlist_hook)
		prev_set_rel_pathlist_hook(root, rel, rti, rte);

	if (st == NULL)
		return;
	pin_state = st;
	if (root->parent_root != NULL)
		capture_outer_params(root);
	if (rte->rtekind != RTE_RELATION)
		return;
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return;

	ref = new_ref(REF_SCAN, f, rte->eref->aliasname);
	ref->eref = rte->eref;
	rel_pin(root, rel, rti, f->attnum, &pr);
	ref->reason = pr.reason;
	if (pr.reason == PR_PINNED)
		ref->values = list_make1(pr.value);
	ref->outer_root = pr.outer_root;
	ref->outer_varno = pr.outer_varno;
	ref->outer_attno = pr.outer_attno;
	st->refs = lappend(st->refs, ref);
}

/* Record the tenant value(s) a write puts into the tenant column. */
static void
record_value(EnforceState *st, RefKind kind, RelFacts *f, const char *alias,
			 PlannerInfo *root, Node *expr)
{
	TenantRef  *ref = new_ref(kind, f, alias);
	PinReason	why = PR_NULL;

	if (expr == NULL)
		ref->reason = PR_INSERT_NO_VALUE;
	else
	{
		ref->values = expr_values(root, expr, 0, &why);
		ref->reason = ref->values != NIL ? PR_PINNED :
			(kind == REF_INSERT ? PR_INSERT_UNPINNED : PR_SET_UNPINNED);
	}
	st->refs = lappend(st->refs, ref);
}

/* An UPDATE-style assignment to the tenant column: record unless a no-op. */
static void
record_assignment(EnforceState *st, RelFacts *f, const char *alias,
				  PlannerInfo *root, Index target, Index excluded, Node *expr)
{
	Node	   *e = strip_relabel(expr);

	if (e && IsA(e, Var) && ((Var *) e)->varlevelsup == 0 &&
		((Var *) e)->varattno == f->attnum &&
		(((Var *) e)->varno == target ||
		 (excluded > 0 && ((Var *) e)->varno == excluded)))
		return;					/* unchanged, or the inserted (pinned) value */
	record_value(st, REF_SET, f, alias, root, expr);
}

static TargetEntry *
tlist_member_resno(List *tlist, AttrNumber resno)
{
	ListCell   *lc;

	foreach(lc, tlist)
	{
		TargetEntry *tle = lfirst_node(TargetEntry, lc);

		if (tle->resno == resno && !tle->resjunk)
			return tle;
	}
	return NULL;
}

static void
gtm_create_upper_paths(PlannerInfo *root, UpperRelationKind stage,
					   RelOptInfo *input_rel, RelOptInfo *output_rel,
					   void *extra)
{
	EnforceState *st = cur_state;
	Query	   *parse = root->parse;
	RangeTblEntry *rte;
	RelFacts   *f;
	const char *alias;

	if (prev_create_upper_paths_hook)
		prev_create_upper_paths_hook(root, stage, input_rel, output_rel, extra);

	if (st == NULL || stage != UPPERREL_FINAL || parse->resultRelation <= 0)
		return;
	pin_state = st;
	rte = rt_fetch(parse->resultRelation, parse->rtable);
	if (rte->rtekind != RTE_RELATION)
		return;
	f = rel_facts(rte->relid);
	if (!f->tenant || f->exempt)
		return;
	alias = rte->eref->aliasname;

	if (parse->commandType == CMD_INSERT)
	{
		TargetEntry *tle = tlist_member_resno(root->processed_tlist, f->attnum);
		Node	   *e = tle ? strip_relabel((Node *) tle->expr) : NULL;

		if (e && IsA(e, Const) && ((Const *) e)->constisnull)
			e = NULL;			/* no value and no default */
		record_value(st, REF_INSERT, f, alias, root, e);

		if (parse->onConflict && parse->onConflict->action == ONCONFLICT_UPDATE)
		{
			ListCell   *lc;

			foreach(lc, parse->onConflict->onConflictSet)
			{
				TargetEntry *t = lfirst_node(TargetEntry, lc);

				if (t->resno == f->attnum && !t->resjunk)
					record_assignment(st, f, alias, root, parse->resultRelation,
									  parse->onConflict->exclRelIndex,
									  (Node *) t->expr);
			}
		}
	}
	else if (parse->commandType == CMD_UPDATE)
	{
		ListCell   *lc1,
				   *lc2;

		forboth(lc1, root->processed_tlist, lc2, root->update_colnos)
		{
			TargetEntry *t = lfirst_node(TargetEntry, lc1);

			if (lfirst_int(lc2) == f->attnum)
				record_assignment(st, f, alias, root, parse->resultRelation, 0,
								  (Node *) t->expr);
		}
	}
	else if (parse->commandType == CMD_MERGE)
	{
		ListCell   *lc;

		foreach(lc, parse->mergeActionList)
		{
			MergeAction *action = lfirst_node(MergeAction, lc);

			if (action->commandType == CMD_INSERT)
			{
				TargetEntry *t = tlist_member_resno(action->targetList, f->attnum);
				Node	   *e = t ? strip_relabel((Node *) t->expr) : NULL;

				if (e && IsA(e, Const) && ((Const *) e)->constisnull)
					e = NULL;
				record_value(st, REF_INSERT, f, alias, root, e);
			}
			else if (action->commandType == CMD_UPDATE)
			{
				ListCell   *lc1,
						   *lc2;

				/* resnos were renumbered; updateColnos holds the columns */
				forboth(lc1, action->targetList, lc2, action->updateColnos)
				{
					TargetEntry *t = lfirst_node(TargetEntry, lc1);

					if (lfirst_int(lc2) == f->attnum)
						record_assignment(st, f, alias, root,
										  parse->resultRelation, 0,
										  (Node *) t->expr);
				}
			}
		}
	}
}

/* ----------------------------------------------------------------
 *		Judging a finished plan
 * ----------------------------------------------------------------
 */
typedef struct PlanWalk
{
	Bitmapset  *scanned;		/* flat rtable indexes read by a scan */
	List	   *modifytables;
} PlanWalk;

static void
walk_plan(Plan *plan, PlanWalk *w)
{
	ListCell   *lc;

	if (plan == NULL)
		return;
	check_stack_depth();

	switch (nodeTag(plan))
	{
		case T_SeqScan:
		case T_SampleScan:
		case T_IndexScan:
		case T_IndexOnlyScan:
		case T_BitmapHeapScan:
		case T_TidScan:
		case T_TidRangeScan:
			w->scanned = bms_add_member(w->scanned, ((Scan *) plan)->scanrelid);
			break;
		case T_ForeignScan:
			{
				ForeignScan *fs = (ForeignScan *) plan;

				if (fs->scan.scanrelid > 0)
					w->scanned = bms_add_member(w->scanned, fs->scan.scanrelid);
				w->scanned = bms_add_members(w->scanned, fs->fs_relids);
			}
			break;
		case T_CustomScan:
			{
				CustomScan *cs = (CustomScan *) plan;

				if (cs->scan.scanrelid > 0)
					w->scanned = bms_add_member(w->scanned, cs->scan.scanrelid);
				w->scanned = bms_add_members(w->scanned, cs->custom_relids);
				foreach(lc, cs->custom_plans)
					walk_plan(lfirst(lc), w);
			}
			break;
		case T_Append:
			foreach(lc, ((Append *) plan)->appendplans)
				walk_plan(lfirst(lc), w);
			break;
		case T_MergeAppend:
			foreach(lc, ((MergeAppend *) plan)->mergeplans)
				walk_plan(lfirst(lc), w);
			break;
		case T_BitmapAnd:
			foreach(lc, ((BitmapAnd *) plan)->bitmapplans)
				walk_plan(lfirst(lc), w);
			break;
		case T_BitmapOr:
			foreach(lc, ((BitmapOr *) plan)->bitmapplans)
				walk_plan(lfirst(lc), w);
			break;
		case T_SubqueryScan:
			walk_plan(((SubqueryScan *) plan)->subplan, w);
			break;
		case T_ModifyTable:
			w->modifytables = lappend(w->modifytables, plan);
			break;
		default:
			break;
	}
	walk_plan(plan->lefttree, w);
	walk_plan(plan->righttree, w);
}

static char *
ref_label(TenantRef *ref)
{
	char	   *relname = get_rel_name(ref->relid);

	return psprintf("\"%s\" (alias \"%s\")", relname ? relname : "?", ref->alias);
}

static char *
value_text(Node *value)
{
	return deparse_expression(value, NIL, false, false);
}

/* Are two constant pins the same tenant?  Compared as text. */
static bool
consts_equal(Const *a, Const *b)
{
	Oid			fa,
				fb;
	bool		va,
				vb;
	char	   *sa,
			   *sb;

	if (a->consttype == b->consttype &&
		datumIsEqual(a->constvalue, b->constvalue, a->constbyval, a->constlen))
		return true;
	getTypeOutputInfo(a->consttype, &fa, &va);
	getTypeOutputInfo(b->consttype, &fb, &vb);
	sa = OidOutputFunctionCall(fa, a->constvalue);
	sb = OidOutputFunctionCall(fb, b->constvalue);
	return strcmp(sa, sb) == 0;
}

static const char *
column_label(TenantRef *ref)
{
	return psprintf("%s.%s", quote_identifier(ref->alias),
					quote_identifier(gtm_tenant_column));
}

static int
report_detail(TenantRef *ref)
{
	const char *col = column_label(ref);

	switch (ref->reason)
	{
		case PR_NO_CONDITION:
			errdetail("No condition of the statement restricts %s to one value.", col);
			break;
		case PR_OR:
			errdetail("The condition on %s is part of an OR, which lets rows of other tenants in.", col);
			break;
		case PR_LIST:
			errdetail("%s is compared with a list or array of values, not with one value.", col);
			break;
		case PR_NOT_EQUALITY:
			errdetail("%s is compared with an operator that is not an equality.", col);
			break;
		case PR_FUNCTION_OF_COLUMN:
			errdetail("The condition applies a function or operator to %s instead of comparing the column itself.", col);
			break;
		case PR_TAUTOLOGY:
			errdetail("%s is only required to equal itself or to be non-null, which every row satisfies.", col);
			break;
		case PR_VOLATILE:
			errdetail("%s is compared with a volatile expression, whose value is not fixed before the statement runs.", col);
			break;
		case PR_USER_FUNCTION:
			errdetail("%s is compared with a value computed by a user-defined function, which the check cannot trust to give the same tenant for every row.", col);
			break;
		case PR_OTHER_COLUMN:
			errdetail("%s is compared with a column that is not itself pinned to one tenant.", col);
			break;
		case PR_SUBQUERY_VALUE:
			errdetail("%s is compared with the result of a subquery, which is not fixed before the statement runs.", col);
			break;
		case PR_NULL:
			errdetail("%s is compared with NULL.", col);
			break;
		case PR_NONDETERMINISTIC:
			errdetail("%s is compared under a nondeterministic collation, which can match several tenants.", col);
			break;
		case PR_NOT_ANALYSED:
			errdetail("The plan reads %s without the tenant check having seen its conditions.", col);
			break;
		case PR_INSERT_NO_VALUE:
			errdetail("The statement inserts rows without a value for %s.", col);
			break;
		case PR_INSERT_UNPINNED:
			errdetail("The value inserted into %s is neither a constant, a parameter or a stable expression, nor a column pinned to one tenant.", col);
			break;
		case PR_SET_UNPINNED:
			errdetail("The statement assigns %s a value that is not pinned to one tenant.", col);
			break;
		case PR_ARBITER:
			errdetail("The ON CONFLICT arbiter index \"%s\" does not include %s, so the conflicting row may belong to another tenant.",
					  ref->index_name, col);
			break;
		case PR_DEFERRED:
			errdetail("%s is equated with a column of an outer query that is not itself pinned to one tenant.", col);
			break;
		default:
			break;
	}
	return 0;
}

static void
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
					 errhint("The tenant of an existing row cannot change; insert a copy for the other tenant instead.")));
		else
			ereport(elevel,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("statement touches more than one tenant"),
					 errdetail("Table %s is pinned to %s and table %s to %s.",
							   ref_label(o), v1, ref_label(ref), v2),
					 errhint("Use one tenant value per statement.")));
		return;
	}

	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("tenant-scoped table %s is not pinned to one tenant",
					ref_label(ref)),
			 report_detail(ref),
			 ref->reason == PR_ARBITER ?
			 errhint("Name a unique index or constraint that includes %s in ON CONFLICT.",
					 quote_identifier(gtm_tenant_column)) :
			 (ref->kind == REF_SCAN ?
			  errhint("Add \"%s = <value>\" to the statement, where <value> is a constant, a parameter or gtm_current_tenant(), or join it on %s to a reference that has one.",
					  col, quote_identifier(gtm_tenant_column)) :
			  errhint("Write a constant, a parameter or gtm_current_tenant() into %s, or select it from a table pinned to one tenant.",
					  quote_identifier(gtm_tenant_column)))));
}

/* Does the arbiter index include the tenant column as a key column? */
static bool
index_has_column(Oid indexoid, AttrNumber attnum, char **name)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index idx;
	bool		found = false;

	*name = get_rel_name(indexoid);
	if (!HeapTupleIsValid(tup))
		return false;
	idx = (Form_pg_index) GETSTRUCT(tup);
	for (int i = 0; i < idx->indnkeyatts; i++)
		if (idx->indkey.values[i] == attnum)
			found = true;
	ReleaseSysCache(tup);
	return found;
}

static int	register_runtime_check(List *values, List *labels);

/*
 * Decide the verdict of a planned statement.  Returns the references
 * judged (for the checker); raises or warns in enforcing modes.
 */
static List *
judge_plan(EnforceState *st, PlannedStmt *stmt)
{
	PlanWalk	w = {NULL, NIL};
	ListCell   *lc;
	List	   *judged = NIL;
	List	   *classes = NIL;	/* first TenantRef of each pin class */
	List	   *class_values = NIL; /* its value */
	bool		has_nonconst = false;
	int			i;

	pin_state = st;
	walk_plan(stmt->planTree, &w);
	foreach(lc, stmt->subplans)
		walk_plan((Plan *) lfirst(lc), &w);

	/* every tenant table the plan scans must have a recorded verdict */
	i = -1;
	while ((i = bms_next_member(w.scanned, i)) >= 0)
	{
		RangeTblEntry *rte;
		RelFacts   *f;
		TenantRef  *found = NULL;

		if (i < 1 || i > list_length(stmt->rtable))
			continue;
		rte = rt_fetch(i, stmt->rtable);
		if (rte->rtekind != RTE_RELATION)
			continue;
		foreach(lc, st->refs)
		{
			TenantRef  *ref = lfirst(lc);

			if (ref->kind == REF_SCAN && ref->eref == rte->eref)
			{
				found = ref;
				break;
			}
		}
		if (found == NULL)
		{
			f = rel_facts(rte->relid);
			if (!f->tenant || f->exempt)
				continue;
			found = new_ref(REF_SCAN, f, rte->eref->aliasname);
			found->reason = PR_NOT_ANALYSED;
			st->refs = lappend(st->refs, found);
		}
		found->judged = true;
	}

	/* arbiters of ON CONFLICT DO UPDATE */
	foreach(lc, w.modifytables)
	{
		ModifyTable *mt = lfirst(lc);
		RangeTblEntry *rte;
		RelFacts   *f;
		ListCell   *lc2;

		if (mt->onConflictAction != ONCONFLICT_UPDATE)
			continue;
		rte = rt_fetch(mt->nominalRelation, stmt->rtable);
		f = rel_facts(rte->relid);
		if (!f->tenant || f->exempt)
			continue;
		foreach(lc2, mt->arbiterIndexes)
		{
			char	   *name;

			if (!index_has_column(lfirst_oid(lc2), f->attnum, &name))
			{
				TenantRef  *ref = new_ref(REF_SET, f, rte->eref->aliasname);

				ref->reason = PR_ARBITER;
				ref->index_name = name;
				ref->judged = true;
				st->refs = lappend(st->refs, ref);
			}
		}
	}

	foreach(lc, st->refs)
	{
		TenantRef  *ref = lfirst(lc);

		if (ref->kind != REF_SCAN)
			ref->judged = true;
		if (!ref->judged)
			continue;
		if (ref->reason == PR_DEFERRED)
		{
			PinReason	why;
			List	   *v = var_values(ref->outer_root, ref->outer_varno,
									   ref->outer_attno, 0, &why);

			if (v != NIL)
			{
				ref->values = v;
				ref->reason = PR_PINNED;
			}
		}
		judged = lappend(judged, ref);
	}

	/* one statement, one tenant */
	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);
		ListCell   *lv;

		if (ref->reason != PR_PINNED)
			continue;
		foreach(lv, ref->values)
		{
			Node	   *v = lfirst(lv);
			ListCell   *lc3,
					   *lc4;
			bool		same = false;

			forboth(lc3, classes, lc4, class_values)
			{
				Node	   *cv = lfirst(lc4);
				TenantRef  *cref = lfirst(lc3);

				if (equal(v, cv))
				{
					same = true;
					break;
				}
				if (IsA(v, Const) && IsA(cv, Const))
				{
					if (consts_equal((Const *) v, (Const *) cv))
					{
						same = true;
						break;
					}
					/* two different constants: rejected now */
					ref->reason = (ref->kind == REF_SET || cref->kind == REF_SET) ?
						PR_MOVES_ROW : PR_TWO_TENANTS;
					ref->other = cref;
					ref->mine = v;
					ref->theirs = cv;
					same = true;
					break;
				}
			}
			if (ref->reason != PR_PINNED)
				break;
			if (!same)
			{
				classes = lappend(classes, ref);
				class_values = lappend(class_values, v);
				if (!IsA(v, Const))
					has_nonconst = true;
			}
		}
	}

	if (st->collect && list_length(classes) > 1 && has_nonconst)
	{
		/* tell the checker which values will be compared */
		TenantRef  *last = llast(classes);
		TenantRef  *ref = new_ref(last->kind, rel_facts(last->relid), last->alias);

		ref->reason = PR_AT_START;
		ref->values = class_values;
		judged = lappend(judged, ref);
	}
	else if (list_length(classes) > 1 && has_nonconst)
	{
		/* compare with the bound values when the statement starts */
		List	   *labels = NIL;
		PlanInvalItem *item = makeNode(PlanInvalItem);

		foreach(lc, classes)
		{
			TenantRef  *ref = lfirst(lc);

			labels = lappend(labels, ref_label(ref));
		}
		item->cacheId = GTM_CHECK_CACHEID;
		item->hashValue = (uint32) register_runtime_check(class_values, labels);
		stmt->invalItems = lappend(stmt->invalItems, item);
	}
	return judged;
}

/* ----------------------------------------------------------------
 *		Runtime one-tenant check
 * ----------------------------------------------------------------
 */
static int
register_runtime_check(List *values, List *labels)
{
	char	   *key = nodeToString(values);
	ListCell   *lc;
	int			id = 0;
	MemoryContext old;
	RuntimeCheck *rc;

	foreach(lc, runtime_checks)
	{
		id++;
		if (strcmp(((RuntimeCheck *) lfirst(lc))->key, key) == 0)
			return id;
	}
	old = MemoryContextSwitchTo(TopMemoryContext);
	rc = palloc(sizeof(RuntimeCheck));
	rc->key = pstrdup(key);
	rc->values = copyObject(values);
	fix_opfuncids((Node *) rc->values);
	rc->labels = NIL;
	foreach(lc, labels)
		rc->labels = lappend(rc->labels, pstrdup(lfirst(lc)));
	runtime_checks = lappend(runtime_checks, rc);
	MemoryContextSwitchTo(old);
	return list_length(runtime_checks);
}

static void
run_runtime_check(RuntimeCheck *rc, ParamListInfo params)
{
	ExprContext *econtext = CreateStandaloneExprContext();
	ListCell   *lv,
			   *ll;
	char	   *first = NULL;
	const char *first_label = NULL;

	econtext->ecxt_param_list_info = params;
	forboth(lv, rc->values, ll, rc->labels)
	{
		Expr	   *e = lfirst(lv);
		ExprState  *es = ExecInitExprWithParams(e, params);
		bool		isnull;
		Datum		d = ExecEvalExprSwitchContext(es, econtext, &isnull);
		char	   *s;
		Oid			outfn;
		bool		varlena;
		int			elevel = gtm_enforcement == GTM_ENFORCE_WARN ? WARNING : ERROR;

		if (isnull)
		{
			ereport(elevel,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("tenant-scoped table %s is not pinned to one tenant",
							(char *) lfirst(ll)),
					 errdetail("Its tenant value %s is NULL when the statement starts.",
							   deparse_expression((Node *) e, NIL, false, false)),
					 errhint("Bind a tenant id, or call gtm_set_tenant() first.")));
			break;
		}
		getTypeOutputInfo(exprType((Node *) e), &outfn, &varlena);
		s = OidOutputFunctionCall(outfn, d);
		if (first == NULL)
		{
			first = s;
			first_label = lfirst(ll);
		}
		else if (strcmp(first, s) != 0)
		{
			ereport(elevel,
					(errcode(GTM_ERRCODE_NOT_PINNED),
					 errmsg("statement touches more than one tenant"),
					 errdetail("Table %s is pinned to '%s' and table %s to '%s' when the statement starts.",
							   first_label, first, (char *) lfirst(ll), s),
					 errhint("Use one tenant value per statement.")));
			break;
		}
	}
	FreeExprContext(econtext, true);
}

/* The memory of a counted executor is going away: count it off. */
static void
tenant_executor_done(void *arg)
{
	if (tenant_executors > 0)
		tenant_executors--;
}

static void
gtm_ExecutorStart(QueryDesc *queryDesc, int eflags)
{
	PlannedStmt *stmt = queryDesc->plannedstmt;

	if (stmt->invalItems != NIL && gtm_enforcement != GTM_ENFORCE_OFF &&
		!IsParallelWorker() && !(eflags & EXEC_FLAG_EXPLAIN_ONLY))
	{
		ListCell   *lc;

		foreach(lc, stmt->invalItems)
		{
			PlanInvalItem *item = lfirst(lc);

			if (item->cacheId == GTM_CHECK_CACHEID &&
				item->hashValue >= 1 &&
				item->hashValue <= (uint32) list_length(runtime_checks) &&
				!role_is_exempt())
				run_runtime_check(list_nth(runtime_checks, item->hashValue - 1),
								  queryDesc->params);
		}
	}

	if (prev_ExecutorStart_hook)
		prev_ExecutorStart_hook(queryDesc, eflags);
	else
		standard_ExecutorStart(queryDesc, eflags);

	if (stmt->dependsOnRole && !IsParallelWorker())
	{
		MemoryContext cxt = queryDesc->estate->es_query_cxt;
		MemoryContextCallback *cb = MemoryContextAlloc(cxt, sizeof(MemoryContextCallback));

		cb->func = tenant_executor_done;
		cb->arg = NULL;
		MemoryContextRegisterResetCallback(cxt, cb);
		tenant_executors++;
	}
}

/* ----------------------------------------------------------------
 *		planner_hook
 * ----------------------------------------------------------------
 */
/* Run the next planner with st as the current state; restore on error. */
static PlannedStmt *
plan_with_state(EnforceState *st, int rstate, Query *parse,
				const char *query_string, int cursorOptions,
				ParamListInfo boundParams)
{
	EnforceState *saved = cur_state;
	PlannedStmt *result;

	cur_state = st;
	if (rstate == 1)
		refresh_state = 3;		/* planning the definition query */
	planning_depth++;
	PG_TRY();
	{
		if (prev_planner_hook)
			result = prev_planner_hook(parse, query_string, cursorOptions,
									   boundParams);
		else
			result = standard_planner(parse, query_string, cursorOptions,
									  boundParams);
	}
	PG_FINALLY();
	{
		cur_state = saved;
		planning_depth--;
		if (rstate == 1)
			refresh_state = 2;
	}
	PG_END_TRY();
	return result;
}

/*
 * The foreign-key check ALTER TABLE runs when it adds or validates a
 * constraint (RI_Initial_Check, RI_PartitionRemove_Check) runs as the
 * current user, not under SECURITY_NOFORCE_RLS like the per-row checks.
 * Recognise it: during ALTER TABLE, a query whose relations are exactly
 * the "fk" and "pk" aliases that ri_triggers.c writes.
 */
static bool
is_alter_table_fk_check(Query *parse)
{
	ListCell   *lc;
	bool		fk = false;

	if (alter_table_depth == 0 || parse->commandType != CMD_SELECT)
		return false;
	foreach(lc, parse->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_JOIN)
			continue;
		if (rte->rtekind != RTE_RELATION || rte->alias == NULL)
			return false;
		if (strcmp(rte->alias->aliasname, "fk") == 0)
			fk = true;
		else if (strcmp(rte->alias->aliasname, "pk") != 0)
			return false;
	}
	return fk;
}

static PlannedStmt *gtm_planner_checked(Query *parse, const char *query_string,
										int cursorOptions,
										ParamListInfo boundParams);

/*
 * planner_hook.  pin_state points into the frame of the innermost planner
 * call; it is set again by every hook before use, and put back here.
 */
static PlannedStmt *
gtm_planner(Query *parse, const char *query_string, int cursorOptions,
			ParamListInfo boundParams)
{
	EnforceState *saved_pin = pin_state;
	PlannedStmt *result;

	result = gtm_planner_checked(parse, query_string, cursorOptions, boundParams);
	pin_state = saved_pin;
	return result;
}

static PlannedStmt *
gtm_planner_checked(Query *parse, const char *query_string, int cursorOptions,
					ParamListInfo boundParams)
{
	EnforceState st;
	PlannedStmt *result;
	ListCell   *lc;
	bool		touches = false;
	bool		judge;
	bool		explain_only = explain_only_next;
	int			rstate = refresh_state;

	st.collect = collect_next_plan;
	st.refs = NIL;
	st.outer_params = NIL;
	collect_next_plan = false;
	explain_only_next = false;

	/*
	 * Analyse only a statement that will be judged: the checker's, or one
	 * enforced for a role that is not exempt (decided before planning, so
	 * that exempt sessions such as migrations and pg_dump skip the work).
	 */
	judge = st.collect ||
		(gtm_enforcement != GTM_ENFORCE_OFF && rstate != 2 &&
		 !role_is_exempt() && !is_alter_table_fk_check(parse));

	result = plan_with_state(judge ? &st : NULL, rstate, parse, query_string,
							 cursorOptions, boundParams);

	/* leave at once when the statement names no tenant table */
	touches = st.refs != NIL;
	foreach(lc, touches ? NIL : result->rtable)
	{
		RangeTblEntry *rte = lfirst(lc);

		if (rte->rtekind == RTE_RELATION && rel_facts(rte->relid)->tenant)
		{
			touches = true;
			break;
		}
	}
	if (!touches)
		return result;

	/* a plan made for an exempt role must not serve another role */
	result->dependsOnRole = true;

	if (st.collect)
	{
		collected_refs = judge_plan(&st, result);
		return result;
	}
	if (!judge)
		return result;

	{
		List	   *judged = judge_plan(&st, result);
		int			elevel = (gtm_enforcement == GTM_ENFORCE_WARN || explain_only) ?
			WARNING : ERROR;

		foreach(lc, judged)
		{
			TenantRef  *ref = lfirst(lc);

			if (ref->reason != PR_PINNED)
				report_ref(ref, elevel);
		}
	}
	return result;
}

/* ----------------------------------------------------------------
 *		ProcessUtility_hook: COPY and TRUNCATE
 * ----------------------------------------------------------------
 */
static void
reject_utility(const char *what, Oid relid)
{
	int			elevel = gtm_enforcement == GTM_ENFORCE_WARN ? WARNING : ERROR;

	ereport(elevel,
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("%s on tenant-scoped table \"%s\" is not allowed",
					what, get_rel_name(relid)),
			 errdetail("%s reaches the rows of every tenant.", what),
			 strcmp(what, "COPY") == 0 ?
			 errhint("Use COPY (SELECT ... WHERE %s = <value>) TO, or run it as a role with BYPASSRLS.",
					 quote_identifier(gtm_tenant_column)) :
			 errhint("Use DELETE ... WHERE %s = <value>, or run it as a role with BYPASSRLS.",
					 quote_identifier(gtm_tenant_column))));
}

/* The tenant table a COPY or TRUNCATE would reach, or InvalidOid. */
static Oid
utility_tenant_table(Node *parsetree, const char **what)
{
	if (IsA(parsetree, CopyStmt))
	{
		CopyStmt   *cs = (CopyStmt *) parsetree;
		Oid			relid;

		*what = "COPY";
		if (cs->relation == NULL)
			return InvalidOid;	/* COPY (query): the planner checks it */
		relid = RangeVarGetRelid(cs->relation, NoLock, true);
		if (OidIsValid(relid) && rel_facts(relid)->tenant && !rel_facts(relid)->exempt)
			return relid;
	}
	else if (IsA(parsetree, TruncateStmt))
	{
		ListCell   *lc;

		*what = "TRUNCATE";
		foreach(lc, ((TruncateStmt *) parsetree)->relations)
		{
			RangeVar   *rv = lfirst(lc);
			Oid			relid = RangeVarGetRelid(rv, NoLock, true);
			List	   *rels;
			ListCell   *lc2;

			if (!OidIsValid(relid))
				continue;
			rels = rv->inh ? find_all_inheritors(relid, NoLock, NULL) :
				list_make1_oid(relid);
			foreach(lc2, rels)
			{
				RelFacts   *f = rel_facts(lfirst_oid(lc2));

				if (f->tenant && !f->exempt)
					return f->relid;
			}
		}
	}
	return InvalidOid;
}

static void
gtm_ProcessUtility(PlannedStmt *pstmt, const char *queryString,
				   bool readOnlyTree, ProcessUtilityContext context,
				   ParamListInfo params, QueryEnvironment *queryEnv,
				   DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *parsetree = pstmt->utilityStmt;
	int			saved_refresh;
	int			saved_alter;

	if (gtm_enforcement != GTM_ENFORCE_OFF &&
		(IsA(parsetree, CopyStmt) || IsA(parsetree, TruncateStmt)) &&
		!role_is_exempt())
	{
		const char *what = NULL;
		Oid			relid = utility_tenant_table(parsetree, &what);

		if (OidIsValid(relid))
			reject_utility(what, relid);
	}

	/*
	 * A plain EXPLAIN executes nothing: its verdicts are shown as warnings.
	 * Not for EXPLAIN EXECUTE, whose plan goes into the plan cache.
	 */
	if (IsA(parsetree, ExplainStmt) && gtm_enforcement != GTM_ENFORCE_OFF)
	{
		ExplainStmt *es = (ExplainStmt *) parsetree;
		Query	   *q = (Query *) es->query;
		bool		analyze = false;
		ListCell   *lc;

		foreach(lc, es->options)
		{
			DefElem    *opt = lfirst_node(DefElem, lc);

			if (strcmp(opt->defname, "analyze") == 0)
				analyze = defGetBoolean(opt);
		}
		explain_only_next = !analyze && IsA(q, Query) &&
			!(q->commandType == CMD_UTILITY && IsA(q->utilityStmt, ExecuteStmt));
	}

	saved_refresh = refresh_state;
	saved_alter = alter_table_depth;
	if (IsA(parsetree, RefreshMatViewStmt) &&
		((RefreshMatViewStmt *) parsetree)->concurrent)
		refresh_state = 1;
	if (IsA(parsetree, AlterTableStmt))
		alter_table_depth++;

	PG_TRY();
	{
		if (prev_ProcessUtility_hook)
			prev_ProcessUtility_hook(pstmt, queryString, readOnlyTree, context,
									 params, queryEnv, dest, qc);
		else
			standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
									params, queryEnv, dest, qc);
	}
	PG_FINALLY();
	{
		explain_only_next = false;
		refresh_state = saved_refresh;
		alter_table_depth = saved_alter;
	}
	PG_END_TRY();
}

/* ----------------------------------------------------------------
 *		Session tenant
 * ----------------------------------------------------------------
 */

/*
 * gtm_set_tenant(tenant_id text, is_local boolean DEFAULT false) RETURNS text
 *
 * SECURITY DEFINER: checks the tenant exists, then sets gtm.tenant (which
 * only superusers may SET directly) for the session or the transaction.
 */
Datum
gtm_set_tenant(PG_FUNCTION_ARGS)
{
	char	   *tenant;
	bool		is_local;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	char	   *sql;
	Oid			argtypes[1] = {TEXTOID};
	Datum		values[1];
	int			rc;
	bool		exists;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("tenant id must not be null"),
				 errhint("Pass the id of a row of tenants.")));
	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("is_local must not be null"),
				 errhint("Pass true for the current transaction, false for the session.")));
	tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	is_local = PG_GETARG_BOOL(1);

	if (tenant_executors > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot change the session tenant while a statement on tenant-scoped tables is running"),
				 errdetail("A running statement or an open cursor may be pinned by gtm_current_tenant()."),
				 errhint("Call gtm_set_tenant() in a statement of its own, after closing open cursors.")));

	values[0] = PG_GETARG_DATUM(0);
	sql = psprintf("SELECT 1 FROM %s.tenants WHERE id OPERATOR(pg_catalog.=) $1",
				   quote_identifier(get_namespace_name(nsp)));
	SPI_connect();
	rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	exists = SPI_processed > 0;
	SPI_finish();

	if (!exists)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("tenant \"%s\" does not exist", tenant),
				 errhint("Pass the id of a row of tenants (gtm_sign_in returns it).")));

	(void) set_config_option("gtm.tenant", tenant, PGC_SUSET, PGC_S_SESSION,
							 is_local ? GUC_ACTION_LOCAL : GUC_ACTION_SET,
							 true, 0, false);
	PG_RETURN_TEXT_P(cstring_to_text(tenant));
}

/* gtm_current_tenant() RETURNS text STABLE */
Datum
gtm_current_tenant(PG_FUNCTION_ARGS)
{
	if (gtm_session_tenant == NULL || gtm_session_tenant[0] == '\0')
	{
		/*
		 * The planner evaluates stable functions to estimate selectivity;
		 * only the execution of the statement reports the missing tenant.
		 */
		if (planning_depth > 0)
			PG_RETURN_NULL();
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("no tenant is set in this session"),
				 errhint("Call gtm_set_tenant(tenant_id) first.")));
	}
	PG_RETURN_TEXT_P(cstring_to_text(gtm_session_tenant));
}

/* ----------------------------------------------------------------
 *		Checker
 * ----------------------------------------------------------------
 */
static const char *
reason_text(TenantRef *ref)
{
	switch (ref->reason)
	{
		case PR_PINNED:
			if (ref->values == NIL)
				return "pinned";
			return psprintf("pinned to %s", value_text(linitial(ref->values)));
		case PR_NO_CONDITION:
			return "no condition on the tenant column";
		case PR_OR:
			return "the tenant condition is part of an OR";
		case PR_LIST:
			return "compared with a list of values";
		case PR_NOT_EQUALITY:
			return "not an equality";
		case PR_FUNCTION_OF_COLUMN:
			return "a function of the tenant column";
		case PR_TAUTOLOGY:
			return "compared with itself";
		case PR_VOLATILE:
			return "compared with a volatile value";
		case PR_USER_FUNCTION:
			return "compared with a user-defined function's value";
		case PR_OTHER_COLUMN:
			return "compared with an unpinned column";
		case PR_SUBQUERY_VALUE:
			return "compared with a subquery result";
		case PR_NULL:
			return "compared with NULL";
		case PR_NONDETERMINISTIC:
			return "nondeterministic collation";
		case PR_NOT_ANALYSED:
			return "read without being analysed";
		case PR_INSERT_NO_VALUE:
			return "insert without a tenant value";
		case PR_INSERT_UNPINNED:
			return "inserted tenant value not pinned";
		case PR_SET_UNPINNED:
			return "assigned tenant value not pinned";
		case PR_TWO_TENANTS:
			return psprintf("two tenants: %s and %s",
							value_text(ref->theirs), value_text(ref->mine));
		case PR_MOVES_ROW:
			return psprintf("moves rows from %s to %s",
							value_text(ref->theirs), value_text(ref->mine));
		case PR_ARBITER:
			return psprintf("arbiter index \"%s\" lacks the tenant column",
							ref->index_name);
		case PR_AT_START:
			{
				StringInfoData buf;
				ListCell   *lc;

				initStringInfo(&buf);
				appendStringInfoString(&buf, "must be one tenant when the statement starts:");
				foreach(lc, ref->values)
					appendStringInfo(&buf, "%s %s", lc == list_head(ref->values) ? "" : ",",
									 value_text(lfirst(lc)));
				return buf.data;
			}
		case PR_DEFERRED:
			return "equated with an unpinned outer column";
	}
	return "unknown";
}

static void
checker_row(ReturnSetInfo *rsinfo, Oid relid, const char *alias, bool pinned,
			const char *reason)
{
	Datum		values[4];
	bool		nulls[4] = {false, false, false, false};

	values[0] = ObjectIdGetDatum(relid);
	values[1] = CStringGetTextDatum(alias);
	values[2] = BoolGetDatum(pinned);
	values[3] = CStringGetTextDatum(reason);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
}

static void
check_one_query(ReturnSetInfo *rsinfo, Query *query, const char *sql)
{
	ListCell   *lc;

	if (query->commandType == CMD_UTILITY)
	{
		const char *what = NULL;
		Oid			relid;

		if (!IsA(query->utilityStmt, CopyStmt) && !IsA(query->utilityStmt, TruncateStmt))
			return;
		relid = utility_tenant_table(query->utilityStmt, &what);
		if (OidIsValid(relid))
			checker_row(rsinfo, relid, get_rel_name(relid), false,
						psprintf("%s reaches every tenant", what));
		return;
	}

	collected_refs = NIL;
	collect_next_plan = true;
	PG_TRY();
	{
		(void) pg_plan_query(query, sql, CURSOR_OPT_PARALLEL_OK, NULL);
	}
	PG_FINALLY();
	{
		collect_next_plan = false;
	}
	PG_END_TRY();

	foreach(lc, collected_refs)
	{
		TenantRef  *ref = lfirst(lc);

		checker_row(rsinfo, ref->relid, ref->alias,
					ref->reason == PR_PINNED || ref->reason == PR_AT_START,
					reason_text(ref));
	}
	collected_refs = NIL;
}

/*
 * gtm_check_statement(sql text)
 *	 RETURNS TABLE("table" regclass, alias text, pinned boolean, reason text)
 *
 * Plans each statement of sql without executing it, with the verdicts of
 * enforcement whatever the mode and the role.  $n parameters are allowed.
 */
Datum
gtm_check_statement(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	char	   *sql;
	List	   *raw;
	ListCell   *lc;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("statement must not be null")));
	sql = text_to_cstring(PG_GETARG_TEXT_PP(0));
	InitMaterializedSRF(fcinfo, 0);

	raw = pg_parse_query(sql);
	foreach(lc, raw)
	{
		RawStmt    *rs = lfirst_node(RawStmt, lc);
		Oid		   *ptypes = NULL;
		int			nparams = 0;
		List	   *queries;
		ListCell   *lc2;

		if (IsA(rs->stmt, TransactionStmt))
			continue;
		queries = pg_analyze_and_rewrite_varparams(rs, sql, &ptypes, &nparams, NULL);
		foreach(lc2, queries)
		{
			Query	   *q = lfirst_node(Query, lc2);

			/* look inside EXPLAIN, CREATE TABLE AS, DECLARE CURSOR */
			if (q->commandType == CMD_UTILITY)
			{
				Node	   *u = q->utilityStmt;
				Node	   *inner = NULL;

				if (IsA(u, ExplainStmt))
					inner = ((ExplainStmt *) u)->query;
				else if (IsA(u, CreateTableAsStmt))
					inner = ((CreateTableAsStmt *) u)->query;
				else if (IsA(u, DeclareCursorStmt))
					inner = ((DeclareCursorStmt *) u)->query;
				if (inner && IsA(inner, Query))
				{
					List	   *rw = QueryRewrite(copyObject((Query *) inner));
					ListCell   *lc3;

					foreach(lc3, rw)
						check_one_query(rsinfo, lfirst_node(Query, lc3), sql);
					continue;
				}
			}
			check_one_query(rsinfo, q, sql);
		}
	}
	return (Datum) 0;
}

/* ----------------------------------------------------------------
 *		Exemptions
 * ----------------------------------------------------------------
 */
static void
change_exemption(FunctionCallInfo fcinfo, bool exempt)
{
	Oid			relid;
	Oid			nsp = get_func_namespace(fcinfo->flinfo->fn_oid);
	const char *nspname;
	char	   *sql;
	Oid			argtypes[1] = {OIDOID};
	Datum		values[1];
	int			rc;
	char		relkind;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("table must not be null")));
	relid = PG_GETARG_OID(0);
	relkind = get_rel_relkind(relid);
	if (relkind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (exempt && !rel_facts(relid)->tenant)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a tenant-scoped table", get_rel_name(relid)),
				 errdetail("Only tables with a column %s are checked.",
						   quote_identifier(gtm_tenant_column))));

	nspname = quote_identifier(get_namespace_name(nsp));
	if (exempt)
		sql = psprintf("INSERT INTO %s.%s (relid) VALUES ($1) ON CONFLICT DO NOTHING",
					   nspname, EXEMPTIONS_TABLE);
	else
		sql = psprintf("DELETE FROM %s.%s WHERE relid OPERATOR(pg_catalog.=) $1",
					   nspname, EXEMPTIONS_TABLE);
	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	rc = SPI_execute_with_args(sql, 1, argtypes, values, NULL, false, 0);
	if (rc != SPI_OK_INSERT && rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	SPI_finish();

	/*
	 * Every backend forgets the facts and cached plans of that table and of
	 * its partitions (which follow their partitioned ancestors).
	 */
	{
		ListCell   *lc;

		foreach(lc, find_all_inheritors(relid, NoLock, NULL))
			CacheInvalidateRelcacheByRelid(lfirst_oid(lc));
	}
}

Datum
gtm_exempt_table(PG_FUNCTION_ARGS)
{
	change_exemption(fcinfo, true);
	PG_RETURN_VOID();
}

Datum
gtm_unexempt_table(PG_FUNCTION_ARGS)
{
	change_exemption(fcinfo, false);
	PG_RETURN_VOID();
}

/* ----------------------------------------------------------------
 *		Initialisation
 * ----------------------------------------------------------------
 */
void
gtm_enforce_init(void)
{
	DefineCustomEnumVariable("gtm.enforcement",
							 "What to do with a statement not pinned to one tenant.",
							 "error rejects it, warn runs it with a WARNING, off does not check.",
							 &gtm_enforcement,
							 GTM_ENFORCE_ERROR,
							 enforcement_options,
							 PGC_SUSET,
							 0,
							 check_enforcement, assign_enforcement, NULL);
	DefineCustomStringVariable("gtm.tenant_column",
							   "Name of the column that makes a table tenant-scoped.",
							   NULL,
							   &gtm_tenant_column,
							   "tenant_id",
							   PGC_SUSET,
							   0,
							   check_tenant_column, assign_tenant_column, NULL);
	DefineCustomStringVariable("gtm.tenant",
							   "Tenant of the session, set by gtm_set_tenant().",
							   NULL,
							   &gtm_session_tenant,
							   "",
							   PGC_SUSET,
							   GUC_NOT_IN_SAMPLE,
							   check_session_tenant, NULL, NULL);

	CacheRegisterRelcacheCallback(rel_facts_inval, (Datum) 0);
	CacheRegisterSyscacheCallback(AUTHOID, exempt_cache_inval, (Datum) 0);

	prev_planner_hook = planner_hook;
	planner_hook = gtm_planner;
	prev_set_rel_pathlist_hook = set_rel_pathlist_hook;
	set_rel_pathlist_hook = gtm_set_rel_pathlist;
	prev_create_upper_paths_hook = create_upper_paths_hook;
	create_upper_paths_hook = gtm_create_upper_paths;
	prev_ExecutorStart_hook = ExecutorStart_hook;
	ExecutorStart_hook = gtm_ExecutorStart;
	prev_ProcessUtility_hook = ProcessUtility_hook;
	ProcessUtility_hook = gtm_ProcessUtility;
}
