/*-------------------------------------------------------------------------
 *
 * enforce.h
 *	  Declarations shared by the files of tenant-scope enforcement.
 *
 * The check runs in three phases, each in its own file (src/README.md
 * follows one statement through them):
 *
 *	record	(enforce_record.c, with enforce_pin.c)  while the planner runs,
 *			what each reference to a tenant table is pinned to;
 *	judge	(enforce_judge.c)  when the planner returns, the verdict on the
 *			finished plan;
 *	runtime	(enforce_runtime.c)  when the executor starts, the comparison
 *			of values known only then.
 *
 * enforce_hooks.c, enforce_executor.c and enforce_utility_hook.c hold the
 * hook entry points, which only dispatch; enforce_guc.c the GUCs;
 * enforce_report.c every message; relfacts.c the per-relation
 * cache.  The SQL-facing features have a file each: tenant_session.c,
 * checker.c, exemptions.c.
 *
 * IDENTIFICATION
 *	  include/enforce.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef GTM_ENFORCE_H
#define GTM_ENFORCE_H

#include "postgres.h"

#include "catalog/objectaccess.h"
#include "executor/execdesc.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "nodes/params.h"
#include "nodes/pathnodes.h"
#include "nodes/plannodes.h"
#include "port/pg_bitutils.h"
#include "storage/lockdefs.h"
#include "utils/guc.h"

#include "pg_compat.h"

/* The one SQLSTATE of a rejected statement (documented in the README). */
#define GTM_ERRCODE_NOT_PINNED	ERRCODE_INSUFFICIENT_PRIVILEGE

/* ----------------------------------------------------------------
 *		Configuration (enforce_hooks.c)
 * ----------------------------------------------------------------
 */
typedef enum GtmEnforcement
{
	GTM_ENFORCE_OFF,
	GTM_ENFORCE_WARN,
	GTM_ENFORCE_ERROR
} GtmEnforcement;

extern int	gtm_enforcement;		/* gtm.enforcement */
extern char *gtm_tenant_column;		/* gtm.tenant_column */
extern char *gtm_session_tenant;	/* gtm.tenant */
extern bool gtm_allow_session_tenant;	/* gtm.allow_session_tenant */

/* ERROR, or WARNING in warn mode */
#define ENFORCE_ELEVEL() \
	(gtm_enforcement == GTM_ENFORCE_WARN ? WARNING : ERROR)

/* ----------------------------------------------------------------
 *		Control state (enforce_hooks.c)
 * ----------------------------------------------------------------
 */

/*
 * What the caller of the planner asks of the next planner call, and
 * nothing after it: gtm_planner() copies the request and clears it before
 * planning, so statements planned inside (SPI, functions evaluated while
 * estimating) are not affected.  Each setter also clears its flag in a
 * PG_FINALLY block, so an error between setting and planning leaves
 * nothing behind.
 */
typedef struct NextPlanRequest
{
	/*
	 * Set by gtm_ProcessUtility for a plain EXPLAIN (nothing executes):
	 * verdicts are raised as warnings.
	 */
	bool		explain_only;

	/*
	 * Set by gtm_check_statement: judge whatever the mode and role, report
	 * nothing, and leave the references judged in "collected".
	 */
	bool		collect;

	/*
	 * Output of a collecting call (in the planner's memory context); the
	 * checker reads it and sets it back to NIL.
	 */
	List	   *collected;
} NextPlanRequest;

extern NextPlanRequest next_plan;

/*
 * Nesting of the frames that can run user code: planner calls
 * (plan_with_state), executor runs (ExecutorRun and ExecutorFinish, where
 * triggers, defaults, CHECK constraints and called functions run) and
 * utility statements (gtm_ProcessUtility).  Each is incremented on entry
 * and put back on every path out, also on error.  An internal query is
 * recognised at the level its command started at (NESTING_LEVEL below):
 * anything deeper runs inside it and is user code.
 */
extern int	planning_depth;
extern bool innermost_planning;

/* enforce_executor.c: the executor hooks */
extern void enforce_executor_init(void);
extern void refuse_attached_generated_partitions(struct EState *estate, Oid copy_root, int from);
#if PG_VERSION_NUM < 170000
extern void refuse_generating_partition_attached(Node *parsetree);	/* enforce_attach.c */
#endif
extern void planning_reached(const char *tenant);

/* enforce_utility_hook.c: the utility hook */
extern void enforce_utility_hook_init(void);

/* enforce_planning.c: what functions the planner ran reached (plan_with_state) */
typedef struct PlanningFrame
{
	char	   *tenant;			/* the first tenant reached, or NULL */
	MemoryContext cxt;			/* where it is kept: the planner's caller's */
	int			folding;		/* IMMUTABLE functions being folded, running */
} PlanningFrame;
extern PlanningFrame *planning_frame_push(PlanningFrame *frame);
extern void planning_frame_pop(PlanningFrame *enclosing);
extern void plan_carries_tenant(PlannedStmt *result, const char *tenant);
extern void planning_frames_init(void);

/* enforce_function_facts.c: what the check knows of a function */
typedef struct FunctionFacts
{
	bool		found;			/* false: no such function (the rest zero) */
	bool		owner_exempt;	/* its owner is superuser or BYPASSRLS */
	bool		in_temp_schema; /* it lives in a temporary schema */
	bool		security_definer;
	char		provolatile;
	Oid			owner;
	Oid			prolang;
} FunctionFacts;
extern void function_facts(Oid funcid, FunctionFacts *out);
extern void function_facts_init(void);

/* enforce_stats.c: statistics of protected tenant tables through views */
extern void enforce_stats_init(void);
extern ErrorContextCallback *planner_error_context;

/*
 * Is a function running for the planner now: a statement executed while an
 * outer one is planned, or a function the planner called (see
 * planner_error_context)?  What such a function computes from the session
 * could be folded into a plan that a plan cache serves to a later request.
 * (Asked at every executor start: inline, planning_depth first.)
 */
static inline bool
planner_runs_function(void)
{
	return planning_depth > 0 &&
		(!innermost_planning || error_context_stack != planner_error_context);
}
extern int	executor_nesting;
extern int	utility_nesting;
extern int	explain_analyze_depth;

#define NESTING_LEVEL()	(planning_depth + executor_nesting + utility_nesting)

/*
 * Planner and executor frames entered while InNoForceRLSOperation() was
 * already true, i.e. inside a query of ri_triggers.c: the user code a
 * foreign-key action runs (triggers, defaults, CHECK constraints of the
 * rows it changes) sees a value > 0; ri_triggers.c's own next query, 0.
 */
extern int	noforce_depth;

/*
 * REFRESH MATERIALIZED VIEW CONCURRENTLY: its definition query (and all it
 * runs) is checked as usual; the internal queries of refresh_by_match_merge
 * that compare the old contents with the new and apply the difference are
 * not (see exemptions.c, is_refresh_internal).
 */
typedef enum RefreshPhase
{
	REFRESH_NONE = 0,			/* no REFRESH ... CONCURRENTLY at this level */
	REFRESH_DEFINITION,			/* started: nothing is exempt */
	REFRESH_COMPARING			/* the transient table was analysed: the
								 * comparison queries run */
} RefreshPhase;

/*
 * The innermost REFRESH ... CONCURRENTLY and ALTER TABLE ... DETACH
 * PARTITION running, set by gtm_ProcessUtility around the standard call and
 * put back on every path out; the *_level is NESTING_LEVEL() inside that
 * call.  refresh_phase moves to REFRESH_COMPARING (and refresh_transient is
 * set) when gtm_ProcessUtility sees, at that level, the ANALYZE of the
 * transient table with which refresh_by_match_merge() begins.
 */
extern RefreshPhase refresh_phase;
extern Oid	refresh_matview;
extern Oid	refresh_transient;
extern int	refresh_level;
extern Oid	detach_partition;
extern int	detach_level;

/* ----------------------------------------------------------------
 *		Per-relation facts (relfacts.c)
 * ----------------------------------------------------------------
 */
typedef struct RelFacts
{
	Oid			relid;			/* hash key */
	bool		valid;			/* false once invalidated: compute again */
	char		relkind;		/* pg_class.relkind ('\0': no such relation) */
	bool		tenant;			/* has the tenant column, not a system table */
	bool		exempt;			/* recorded by gtm_exempt_table() */
	AttrNumber	attnum;			/* the tenant column, if tenant */
	bool		virtual_tenant; /* it is a virtual generated column (18+) */
	bool		distributed;	/* a Citus table (enforce_distributed.c) */
	bool		tenant_text_fixed;	/* the tenant column's type's text depends
									 * on the value alone (type_text_is_fixed) */
	bool		root;			/* the extension's tenants table: its tenant
								 * column is id */
	bool		generated_tenant;	/* the tenant column is generated */
	bool		has_children;	/* relhassubclass: partitions or children */
	bool		row_security;	/* relrowsecurity (enforce_stats.c) */
	bool		fk_actions_known;	/* fk_actions computed (record_cascades) */
	bool		fk_actions;		/* its triggers include a foreign-key action
								 * that writes referencing rows */
	bool		index_expressions;	/* an index with expression columns */
	bool		index_partial;	/* an index with a predicate */
} RelFacts;

/*
 * The entries of the facts cache found last, by relid modulo RECENT_FACTS,
 * in front of its hash table (relfacts.c): a statement looks its few tables
 * up several times, so the lookup that hits them is inline.  256 entries: a
 * Citus worker's statements each name another shard and its index (relids
 * a few apart, tables of 32 shards or more), which 16 entries kept only
 * half the time.
 */
#define RECENT_FACTS 256
extern RelFacts *recent_facts[RECENT_FACTS];
extern RelFacts *rel_facts_lookup(Oid relid);

/* The facts of relid, from the cache or computed (see relfacts.c). */
static inline RelFacts *
rel_facts(Oid relid)
{
	RelFacts   *f = recent_facts[relid % RECENT_FACTS];

	if (f != NULL && f->relid == relid && f->valid)
		return f;
	return rel_facts_lookup(relid);
}

extern const char *tenant_column_name(Oid relid);
extern void forget_rel_facts(void);
extern void rel_facts_sweep(void);
extern void rel_facts_init(void);

/* ----------------------------------------------------------------
 *		Per-statement state
 * ----------------------------------------------------------------
 */

/*
 * Why a reference is or is not pinned.  enforce_report.c has one table
 * with the message detail and the checker's text of each.
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
	PR_DEFERRED,				/* PARAM_EXEC: resolved after planning */
	PR_SET_RETURNING,			/* a set-returning function: several values */
	PR_MUTABLE,					/* a value that can change during the statement */
	PR_OPAQUE_NODE,				/* read by a plan node the check cannot see into */
	PR_NOT_IDENTITY,			/* equal values need not be identical */
	PR_CROSS_TYPE,				/* an equality of two types, through a
								 * conversion that may read a setting */
	PR_NOT_DISTINCT_NULL,		/* IS NOT DISTINCT FROM a value that may be NULL */
	PR_NULLABLE,				/* written value from an outer join's nullable side */
	PR_CASCADE,					/* a foreign-key action would change the tenant */
	PR_GENERATED,				/* the tenant column is generated from others */
	PR_ARBITER_IDENTITY,		/* arbiter compares the tenant without identity */
	PR_CASCADE_IDENTITY,		/* a foreign key compares the referencing
								 * tenant column without identity */
	PR_KEY_NOT_UNIQUE,			/* equated with a table's column, no unique key */
	PR_KEY_LEAKY,				/* key pin with a condition not leakproof */
	PR_VIRTUAL_GENERATED,		/* the tenant column is virtual (PostgreSQL 18) */
	PR_ROOT_NOT_UNIQUE,			/* tenants: conditions fix no unique key */
	PR_ROOT_LEAKY,				/* tenants: by a unique key, a leaky condition */
	PR_NODE_VALUE,				/* distributed: a value each node computes */
	PR_NODE_INDIRECT,			/* distributed: pinned only once planned */
	PR_REMOTE_CONDITION,		/* a remote server runs a condition before the pin */
	PR_ORDER_BY_FUNCTION,		/* an index scan's ORDER BY runs a user function
								 * before the pin */
	PR_REMOTE_UNPINNED,			/* a foreign server locks or sorts every tenant's
								 * rows: the pin is not sent to it */
	PR_REMOTE_UNSENT,			/* (internal) a plain foreign scan's pin was not
								 * sent: judged with the statement's locks */
	PR_FOREIGN_ROW_WRITE,		/* a foreign table updated row by row (ctid) */
	PR_UNCHECKED_CORRELATION,	/* a correlated value no scan of it checks */
	PR_PARTIAL_INDEX,			/* a partial index's predicate stands for the pin */
	PR_UNTRUSTED_SOURCE,		/* a value from a scan that does not evaluate
								 * its pin on the rows (an index stands for it) */
	PR_DISTRIBUTED_SOURCE,		/* a distributed write taking its tenant from a
								 * relation that is not a tenant table */
	PR_DISTRIBUTED_TYPE,		/* a distributed table's tenant column of a
								 * type whose text depends on settings */

	PR_COUNT					/* number of reasons; keep last */
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
	int			outer_paramid;
	/*
	 * Resolved from an outer column whose rows may reach the subquery
	 * before their own pin runs: the parameter is checked at each value
	 * (walk_plan, check_param_pins)
	 */
	bool		check_param;
	bool		param_checked;	/* a scan of it had the parameter wrapped */
	/* PR_TWO_TENANTS / PR_MOVES_ROW: the other reference and both values */
	struct TenantRef *other;
	Node	   *mine;
	Node	   *theirs;
	char	   *index_name;		/* PR_ARBITER*, PR_CASCADE: index, constraint */
	const char *node_name;		/* PR_OPAQUE_NODE */
	/* pinned through a unique key (enforce_key.c): values is NIL */
	List	   *key_lookup;		/* how to find the key's row at execution */
	char	   *key_label;		/* the column of that row, for the checker */
	bool		judged;
	bool		remote_leaky;	/* a foreign table with a condition besides
								 * the pin that is not leakproof */
	bool		remote_sort_leaky;	/* ... a sort key not leakproof */
	bool		pin_unsent;		/* a foreign table whose pin is no constant
								 * or parameter: not sent to the server */
} TenantRef;

/* A PARAM_EXEC that stands for a Var of an outer query level */
typedef struct OuterParam
{
	int			paramid;
	PlannerInfo *root;			/* the level the Var belongs to */
	Index		varno;
	AttrNumber	varattno;
} OuterParam;

/*
 * The state of one planner call, on gtm_planner()'s stack; the planner
 * hooks reach it through cur_state, everything else takes it as a
 * parameter.
 */
typedef struct EnforceState
{
	bool		collect;		/* gtm_check_statement: report, don't raise */
	List	   *refs;			/* TenantRef * */

	/*
	 * OuterParam *, captured while planning: the outer levels' plan_params
	 * lists are emptied once a subquery is planned, so what they held is
	 * kept here for the end of planning.
	 */
	List	   *outer_params;

	/* the statement being planned (judge_scans reads what it names) */
	Query	   *parse;

	/*
	 * Under a distributed planner (enforce_distributed.c): the standard
	 * planner call whose records are kept (the first; NULL before it), so
	 * that the calls of the distributed planner's own later steps are not
	 * mixed in.  Unused (NULL, false) otherwise.
	 */
	bool		first_call_only;
	struct PlannerGlobal *glob;
	/* and that call proved the statement empty (judge_records_alone) */
	bool		proven_empty;

	/*
	 * Relations whose catalog rows the verdict read beyond those the plan
	 * names (plan_depends_on): the partitions of a table written through
	 * its parent.
	 */
	List	   *depends_on;

	/*
	 * Set by judge_plan: every reference judged is PR_PINNED (nothing to
	 * report), and whether any is pinned through a unique key.
	 */
	bool		all_pinned;
	bool		any_key_lookup;

	/*
	 * The columns through which correlated pins (judge_plan, while
	 * record_pin_columns) and written values (enforce_values.c) were
	 * resolved (PinColumn *): the outer rows reach the subquery, and the
	 * written rows get, those columns' values, so each one's pin equality
	 * must run first in its scan, whatever the relation, and run there at
	 * all, not stood for by an index (walk_plan, pin_columns_trusted).
	 */
	bool		record_pin_columns;
	List	   *pin_columns;
	/*
	 * A written tenant value was taken from a column of a relation that is
	 * not a tenant table: each row's value is checked where it is written
	 * too (check_written_tenants, enforce_written_check.c)
	 */
	bool		write_pin_sources;

	/*
	 * What row_may_differ_from_written answered "no" to (the written rows
	 * of those tables were trusted), as "relid:inh:cmd:upsert:attno" text:
	 * asked again when the statement starts (run_statement_pins), since
	 * a trigger may be created between planning and execution.
	 */
	StringInfo	trusted_writes;
} EnforceState;

/* A column a correlated pin was resolved through: its RTE's eref, attno */
typedef struct PinColumn
{
	Alias	   *eref;
	AttrNumber	attno;
} PinColumn;

extern EnforceState *cur_state;
extern void plan_depends_on(EnforceState *st, List *relids);

/* The references of a statement pinned to one value (enforce_judge.c) */
typedef struct PinClass
{
	TenantRef  *first;			/* the first reference pinned to it */
	Node	   *value;			/* the value */
	bool		written;		/* a reference writes it (INSERT, SET) */
} PinClass;

/*
 * The pin classes of one statement (judge_one_tenant): usually one, so the
 * first few live in the struct itself (on the judging function's stack)
 * and more go to a palloc'd array.
 */
#define PIN_CLASSES_LOCAL 4
typedef struct PinClasses
{
	int			n;
	int			cap;
	PinClass   *items;			/* local, or palloc'd once more are needed */
	PinClass	local[PIN_CLASSES_LOCAL];
} PinClasses;

/* What a relation's restriction clauses pin its tenant column to */
typedef struct PinResult
{
	PinReason	reason;
	Node	   *value;
	RestrictInfo *rinfo;		/* PR_PINNED: the clause that pins */
	PlannerInfo *outer_root;
	Index		outer_varno;
	AttrNumber	outer_attno;
	int			outer_paramid;	/* the PARAM_EXEC that stands for it */
} PinResult;

/* enforce_pin.c: analysing clauses */
extern Node *strip_relabel_slow(Node *n);

/*
 * n without its binary-compatible casts that keep its text (enforce_pin.c,
 * strip_relabel_slow); inline for the common node that has none, as it is
 * asked of every operand the check looks at.
 */
static inline Node *
strip_relabel(Node *n)
{
	if (likely(n == NULL || !IsA(n, RelabelType)))
		return n;
	return strip_relabel_slow(n);
}
extern PinReason classify_value(Node *val);
extern bool mentions_callers_type(Node *val);
extern Oid	expression_value_type(Node *node);
extern void capture_outer_params(EnforceState *st, PlannerInfo *root);
extern void rel_pin(EnforceState *st, PlannerInfo *root, RelOptInfo *rel,
					Index varno, AttrNumber attno, PinResult *res);
extern Var *grouped_column(RangeTblEntry *rte, AttrNumber attno);
extern bool column_not_null(Oid relid, AttrNumber attnum);
extern void enforce_pin_init(void);

/* enforce_our_functions.c: the extension's own functions, by C symbol */
extern void our_functions_init(void);
extern Oid	pin_function_oid(void);
extern bool is_current_tenant_fn(Oid funcid);
extern bool is_pin_fn(Oid funcid);
extern Node *make_pin_call(Node *val, Oid pin_fn);
extern bool is_our_c_function(Oid funcid, const char *symbol);
extern bool builtin_runs_sql(Oid funcid);
extern bool pin_computed_per_node(List *values);
extern bool is_freezable_value(Node *val);

/* enforce_identity.c: which equalities are identities */
extern bool opfamily_is_identity(Oid family, Oid type, Oid collid);
extern bool collation_is_nondeterministic(Oid collid);
extern bool bpchar_padding_hides(Oid compared, Oid coltype, int32 coltypmod);
extern bool cross_type_reads_no_setting(Oid lefttype, Oid righttype);
extern bool equality_is_identity(Oid opno, List *opfamilies, bool col_on_left,
								 Oid collid);
extern bool unbounded_bpchar(Oid type, int32 typmod);
extern bool type_text_is_fixed(Oid typid);
extern char *tenant_value_text(Datum value, Oid typid);
extern Node *strip_fixed_casts(Node *n);
extern Node *strip_value_casts(Node *n);
extern void enforce_identity_init(void);

/* enforce_values.c: the values a column or an expression can hold */
extern List *var_values(EnforceState *st, PlannerInfo *root, Index varno,
						AttrNumber attno, int depth, PinReason *why);
extern List *expr_values(EnforceState *st, PlannerInfo *root, Node *expr,
						 int depth, PinReason *why);
extern List *written_values(EnforceState *st, PlannerInfo *root, Node *expr,
							bool merge_insert, PinReason *why);

/* enforce_written_rows.c: may the rows written differ from the values given? */
extern bool column_generated(EnforceState *st, Oid relid, bool inh, AttrNumber attno);
extern bool written_rows_may_differ_now(Oid relid, bool inh, CmdType cmd, bool upsert,
										AttrNumber attno);
extern bool row_may_differ_from_written(EnforceState *st, Oid relid,
										bool inh, CmdType cmd,
										bool upsert, AttrNumber attno);

/* enforce_freeze.c: one value per statement for stable built-in pins */
extern void freeze_mutable_pins(Query *parse);

/* enforce_record.c: what the planner hooks record */
extern TenantRef *new_ref(RefKind kind, RelFacts *f, const char *alias);
extern void record_scan(EnforceState *st, PlannerInfo *root, RelOptInfo *rel,
						Index rti, RangeTblEntry *rte);
extern void record_writes(EnforceState *st, PlannerInfo *root);

/* enforce_key.c: pins through a unique key of a non-tenant table */
extern PinReason key_pin(PlannerInfo *root, RelOptInfo *rel, Index varno,
						 AttrNumber attno, TenantRef *ref);
extern void attach_key_pins(PlannedStmt *stmt, List *judged);
extern void run_key_pins(QueryDesc *queryDesc, const char *payload);
extern char *lookup_key_row(List *lookup, QueryDesc *queryDesc);
extern char *lookup_key_value(List *lookup, QueryDesc *queryDesc, Oid *typid,
							  Datum *value);

/* enforce_key_filter.c */
extern void restrict_key_pinned_paths(RelOptInfo *rel);
extern void filter_key_pinned_plan(QueryDesc *queryDesc);

/* enforce_cascade.c: tenant values PostgreSQL writes on a statement's behalf */
extern void record_cascades(EnforceState *st, PlannerInfo *root);
extern List *inheritors_in_catalog(Oid relid, LOCKMODE lockmode);
extern bool tenant_column_generated(EnforceState *st, RelFacts *f,
									bool inserting, List *tlist,
									List *colnos, Index target);

/* enforce_judge.c: the verdict */
extern bool plan_touches_tenant_table(EnforceState *st, PlannedStmt *stmt);
extern List *judge_plan(EnforceState *st, PlannedStmt *stmt);
struct QueryNames;
extern void add_not_analysed(EnforceState *st, RelFacts *f, const char *alias,
							 const char *opaque);
extern bool relid_recorded(EnforceState *st, Oid relid);
extern List *judged_refs(EnforceState *st);
extern void judge_one_tenant(List *judged, PinClasses *classes,
							 bool *has_nonconst, EnforceState *st);

/* enforce_recorded.c: a distributed plan judged from the records */
extern bool records_decide(Query *parse, struct QueryNames *names);
extern List *judge_recorded(EnforceState *st, struct QueryNames *names,
							PlannedStmt *dist);
extern List *judge_records_alone(EnforceState *st, struct QueryNames *names,
								 PlannedStmt *dist);

/* enforce_distributed.c */

/*
 * What one walk of a statement's query tree (all levels) finds, for a
 * distributed planner: does it name a tenant table that is a Citus table,
 * call gtm_current_tenant(), hold an ON CONFLICT; and every relation it
 * names.  Filled by query_names_distributed, read by fold_current_tenant
 * and judge_recorded, so that the tree is walked once per planning.
 */
typedef struct QueryNames
{
	bool		distributed;
	bool		current_tenant;
	bool		on_conflict;
	bool		coordinator_fold;	/* needs_coordinator_fold() somewhere */
	bool		reg_constant;	/* a constant of a reg* type */
	List	   *relids;			/* OIDs, each once */
} QueryNames;

extern int	shadow_planning;
extern bool distributed_planner_loaded(void);
extern bool plan_is_distributed(PlannedStmt *stmt);
extern const char *distributed_scan_name(PlannedStmt *stmt);
extern int	shadow_suspend(void);
extern Query *fold_current_tenant(Query *parse, QueryNames *names);

/* citus_metadata.c, enforce_citus_lock.c: CALL of a distributed procedure */
extern bool function_is_distributed(Oid funcid);
extern void check_distributed_call(CallStmt *stmt);

/* enforce_citus_fold.c */
extern bool calls_own_function(Node *node);
extern bool needs_coordinator_fold(Node *node);
extern bool is_reg_type(Oid typid);
extern void refuse_reg_constants(Query *parse);
extern Query *fold_own_functions(Query *parse, ParamListInfo boundParams);
extern void mark_distributed_task(QueryDesc *queryDesc, int eflags);
extern void mark_distributed_command(Node *parsetree);
extern Oid	distributed_table_of_shard(Oid relid);
extern int	distributed_settings_begin(Query *parse);
extern void distributed_settings_end(int level);
extern bool query_may_be_delegated(Query *parse);
extern void mark_delegated_call(PlannedStmt *stmt);
extern void mark_folded_plan(PlannedStmt *stmt, const char *tenant);
extern void check_distributed_start(PlannedStmt *stmt);

/* enforce_citus_lock.c */
extern void citus_lock_init(void);

/* enforce_columns.c: columns of a table and its descendants */
extern AttrNumber parent_attno(Oid relid, AttrNumber attno, Oid parent);
extern Bitmapset *map_columns(Bitmapset *cols, Oid from, Oid to);
extern void add_generated_dependents(Oid relid, Bitmapset **assigned);
extern bool generated_in_any(List *rels, Oid relid, AttrNumber attno);
extern bool generated_from(RelFacts *f, Bitmapset *assigned);

/* enforce_citus_strings.c: standard_conforming_strings on, with Citus */
extern void refuse_nonstandard_strings_analyzed(struct ParseState *pstate, Query *query);
extern void refuse_nonstandard_strings(Node *utility);
extern void refuse_standard_strings_turned_off(void);
extern void citus_strings_init(void);
extern bool citus_rule_applies_to_role(void);
extern bool citus_setting_guarded(GucSource source);

/* enforce_citus_settings.c: settings every Citus node reads text with alike */
extern void refuse_unshared_settings(void);

/* enforce_citus_pins.c: the pins the query Citus sends holds as written */
typedef struct PinPlace
{
	Oid			relid;
	bool		insert;			/* the target of an INSERT (its written tenant) */
	List	   *consts;			/* the constants and parameters its tenant is
								 * equated with as written */
} PinPlace;
typedef struct DirectPins
{
	List	   *places;			/* where each tenant table is named, with the
								 * values its tenant has as written */
	List	   *seen;			/* every relation the walk met */
} DirectPins;
extern void direct_pins_collect(Query *parse, DirectPins *dp);
extern void direct_pins_apply(List *judged, DirectPins *dp,
							  ParamListInfo boundParams);
extern void citus_settings_init(void);

/* enforce_citus_txn.c */
extern void judge_citus_txn_call(FmgrInfo *flinfo);
extern void lock_local_shards(Oid relid, LOCKMODE lockmode);
extern bool relation_is_distributed(Oid relid);
extern bool query_names_distributed(Query *parse, QueryNames *names);
extern bool record_this_call(EnforceState *st, PlannerInfo *root);
extern void session_tenant_changing(const char *newval);
extern void shadow_resume(int depth);
extern List *judge_distributed(EnforceState *st, Query *parse,
							   const char *query_string, int cursorOptions,
							   ParamListInfo boundParams, PlannedStmt *dist);

/* enforce_utility.c: COPY, TRUNCATE, LOCK TABLE */

/*
 * The verdict on a utility statement (judge_utility): the tenant table it
 * would reach, and through what.
 */
typedef struct UtilityVerdict
{
	const char *what;			/* "COPY", "TRUNCATE", "LOCK TABLE", or a
								 * maintenance command ("VACUUM", ...) */
	Oid			relid;			/* the tenant table reached */
	Oid			named;			/* the relation the statement names */
	bool		cascaded;		/* TRUNCATE: reached through a foreign key */
	int			lockmode;		/* LOCK TABLE: the mode asked for */
	bool		copy_from;		/* COPY: FROM (else TO) */
	int			copy_refusal;	/* COPY FROM: a CopyRefusal */
	bool		copy_checked;	/* COPY FROM runs with its rows checked */
	bool		maintenance;	/* VACUUM, ANALYZE, CLUSTER, REINDEX, REFRESH */
	bool		whole_database; /* maintenance of every table it may maintain */
	bool		commits_alone;	/* VACUUM, REINDEX CONCURRENTLY of a table not
								 * temporary: processed before a second check */
} UtilityVerdict;

extern bool explain_analyzes(ExplainStmt *es);
extern bool explain_measures(ExplainStmt *es);
extern bool explain_is_plan_only(ExplainStmt *es);
extern bool check_utility_statement(Node *parsetree);
extern bool judge_utility(Node *parsetree, UtilityVerdict *v);
extern bool lock_mode_allowed(int lockmode);

/* enforce_explain.c: a measuring EXPLAIN refused */
extern void refuse_explain_analyze(PlannedStmt *stmt);
extern void refuse_measured_run(QueryDesc *queryDesc);
extern void refuse_measured_plan(PlannedStmt *stmt);
extern Oid	plan_names_tenant_table(PlannedStmt *stmt);

/* enforce_depended.c: what another owner's tenant table uses */
extern bool role_owns_relation(Oid relid);
extern void refuse_tenant_drop(Oid classId, Oid objectId, int subId);
extern void refuse_depended_change(ObjectAccessType access, Oid classId, Oid objectId,
								   int subId);
extern void refuse_owner_ddl(Node *parsetree);
extern bool owner_ddl_judged(void);

/* enforce_names.c: no new object takes an existing one's name */
extern void refuse_name_taken(Node *parsetree);

/* enforce_copy.c: COPY FROM with every row checked */
typedef enum CopyRefusal
{
	COPY_REFUSED_NONE,
	COPY_REFUSED_NO_TENANT,		/* the session has no tenant */
	COPY_REFUSED_GENERATED,		/* the tenant column is generated */
	COPY_REFUSED_OLD_VERSION	/* the extension's SQL has no check function */
} CopyRefusal;

extern bool copy_from_allowed(Oid relid, CopyRefusal *why);
extern PlannedStmt *copy_from_checked(PlannedStmt *pstmt, Oid *copied);

/* enforce_walk.c: the walk of a finished plan */
/* What walk_plan found in a plan tree (enforce_walk.c) */
typedef struct PlanWalk
{
	List	   *rtable;			/* the plan's flat range table */
	/* flat rtable indexes read by a known scan: below 64, then the others */
	uint64		scanned_low;
	Bitmapset  *scanned_high;
	/* the ModifyTable nodes, in an array of the walk's own (no List to build) */
	ModifyTable **modifytables;
	int			n_modifytables;
	int			max_modifytables;
	ModifyTable *modifytables_local[2];
	const char *opaque;			/* a node the walk cannot see into, or NULL */
	/* scans whose conditions run in an unsafe order: rtable index, reason */
	List	   *unsafe_rti;
	List	   *unsafe_why;
	/* relations read by a join or aggregate a foreign server computes */
	Bitmapset  *pushed_down;
	/* EnforceState.pin_columns, and the plan's appendRelations */
	List	   *pin_columns;
	List	   *appendrels;
	/* the references whose correlated parameter is checked (check_param) */
	List	   *param_checks;
	/* a scan of a pin column that does not evaluate its pin on the rows */
	PinReason	untrusted_source;
} PlanWalk;

extern void walk_plan(Plan *plan, PlanWalk *w);

/* enforce_written_check.c: the written tenant checked on every row */
extern bool check_written_tenants(PlannedStmt *stmt, ModifyTable **modifytables,
								  int n_modifytables);

/* enforce_modify.c: step 2 of the verdict, the ModifyTable nodes */
extern void judge_modify_tables(EnforceState *st, PlannedStmt *stmt,
								ModifyTable **modifytables, int n_modifytables);

/* Was rtable index i read by a known scan? */
static inline bool
is_scanned(PlanWalk *w, int i)
{
	if (i >= 0 && i < 64)
		return (w->scanned_low & (UINT64CONST(1) << i)) != 0;
	return bms_is_member(i, w->scanned_high);
}

/* The next rtable index read by a known scan after i (-1 to start); -2 at the end */
static inline int
next_scanned(PlanWalk *w, int i)
{
	if (i < 63)
	{
		uint64		rest = i < 0 ? w->scanned_low :
			w->scanned_low & ~((UINT64CONST(2) << i) - 1);

		if (rest != 0)
			return pg_rightmost_one_pos64(rest);
		i = 63;
	}
	return bms_next_member(w->scanned_high, i);
}

/*
 * The tenant column as a scan's conditions name it: a column of the scan's
 * relation, or (varno INDEX_VAR) the entries of the scan's own target list
 * that hold it, as a plain column or relabelled: an index-only scan's index
 * columns (the planner names an index expression "tenant_id::text" in a
 * condition that compares that cast), a foreign scan's fdw_scan_tlist.
 */
typedef struct TenantColumn
{
	Index		varno;
	AttrNumber	attnum;			/* varno a relation: the column */
	Bitmapset  *tlist_cols;		/* INDEX_VAR: the resnos that hold it */
} TenantColumn;

/* enforce_order.c: the tenant condition first in every scan */
extern bool is_tenant_equality(Node *clause, const TenantColumn *tc);
extern PinReason tenant_quals_first(Scan *scan, List *rtable);
extern void pin_columns_first(Scan *scan, PlanWalk *w);
extern PinReason pin_columns_trusted(Scan *scan, PlanWalk *w);
extern void check_param_pins(Plan *plan, PlanWalk *w);

/* enforce_index_trust.c: what an index stands for, checked against the rows */
extern PinReason index_trust(Scan *scan, const TenantColumn *tc, AttrNumber attnum);
extern bool partial_indexes_plain(Plan *plan, AttrNumber attnum);
extern bool index_only_stands_for(Scan *scan, AttrNumber attno);

/* enforce_runtime.c: the comparison when the statement starts */
extern void attach_statement_pins(PlannedStmt *stmt, PinClasses *classes);
extern char *raw_label(TenantRef *ref);

/* enforce_payload.c: what a plan carries for that comparison */
#define PAYLOAD_ITEMS(len)		(1 + ((len) + 6) / 7)	/* a header, 7 bytes each */
extern void write_padded_payload(PlannedStmt *stmt, int kind,
								 const unsigned char *padded, int len);
extern void write_plan_payload(PlannedStmt *stmt, int kind, const char *payload,
							   int len);
extern char *read_plan_payload(List *invalItems, int kind, StringInfo buf);
extern void read_plan_payloads(List *invalItems, StringInfo pins, char **pins_out,
							   StringInfo keys, char **keys_out,
							   StringInfo planned, char **planned_out,
							   PlanInvalItem **pinitem, bool *trusted);
extern bool plan_has_key_pins(PlannedStmt *stmt);
extern bool intern_const_pin(const char *tenant, int tlen, Oid relid,
							 const char *alias, uint32 *packed);
extern bool interned_const_pin(uint32 packed, const char **tenant, int *tlen,
							   const char **label, int *llen);
extern bool intern_param_pin(int paramid, Oid paramtype, Oid relid,
							 const char *alias, uint32 *packed);
extern bool interned_param_pin(uint32 packed, int *paramid, Oid *paramtype,
							   const char **label, int *llen);

/* Header ids of the payloads a plan carries in its invalItems */
#define GTM_PINS_CACHEID		(-7243)	/* the statement's pins */
#define GTM_KEYS_CACHEID		(-7245)	/* its unique-key lookups */
#define GTM_DELEGATED_CACHEID	(-7247)	/* a delegated function call (no payload) */
#define GTM_FOLDED_CACHEID		(-7249)	/* the tenant folded into a distributed plan */
#define GTM_KEYS_MARK_CACHEID	(-7251)	/* first item: the plan has key lookups */
#define GTM_PLANNED_CACHEID		(-7253)	/* the tenant functions the planner ran reached */
#define GTM_CONSTPIN_CACHEID	(-7255)	/* one constant pin, interned (no payload) */
#define GTM_TRUSTED_CACHEID		(-7257)	/* the written rows trusted (trusted_writes) */
#define GTM_PARAMPIN_CACHEID	(-7259)	/* one parameter pin, interned (no payload) */
extern void run_statement_pins(QueryDesc *queryDesc, int eflags);

/* enforce_generic.c: a rejected generic plan, refused when it starts */
extern bool defer_generic_rejection(PlannedStmt *stmt, Query *parse,
									ParamListInfo boundParams, List *judged);
extern void raise_deferred_rejection(const char *payload, int len, int elevel);

/* enforce_report.c: messages */
extern int	err_tenant_scope(Oid relid);
extern char *ref_label(TenantRef *ref);
extern char *value_text(Node *value);
extern void report_ref(TenantRef *ref, int elevel);
extern void report_verdicts(List *judged, int elevel);
extern void report_utility(const char *what, Oid relid);
extern void report_utility_verdict(UtilityVerdict *v, int elevel);
extern const char *utility_reason_text(UtilityVerdict *v);
extern void report_runtime_null(const char *label, Node *value, int elevel);
extern void report_runtime_two_tenants(const char *label1, const char *value1,
									   const char *label2, const char *value2,
									   int elevel);
extern void report_deferred_several(const char *label, const char *value, int elevel);
extern void report_deferred_queued(const char *queued, const char *label,
								   const char *value, int elevel);
extern void report_scope_two_tenants(const char *label1, const char *value1,
									 const char *label2, const char *value2,
									 int elevel);
extern const char *reason_text(TenantRef *ref);
extern void enforce_report_init(void);
extern void enforce_guc_init(void);

/* exemptions.c */
extern bool role_is_exempt(void);
extern bool role_exempt_if_known(void);
extern bool statement_is_exempt(Query *parse, RefreshPhase phase,
								bool *recheck_plan);
extern bool role_oid_is_exempt(Oid role);
extern bool refuse_query_reaching_callers(Query *parse, bool *functions);
extern void exempt_plan_reaches_callers(PlannedStmt *stmt);
extern bool callers_temp_function(Oid funcid);
extern void refuse_exempt_run_of_callers_executor(QueryDesc *queryDesc);
extern bool statement_scope_allows_switch(const char *tenant);
extern int	tenant_executors_starting;
extern void refuse_reset_all_under_statement(void);
extern bool scope_set_unframed;
extern void statement_scope_note_parse(struct ParseState *pstate);
extern void refuse_setting_dependent_tenants(List *judged);
extern int	planner_executors;
extern void refuse_run_after_planning(QueryDesc *queryDesc);
extern bool statement_prepared_by_exempt(const char *name);
extern int	callers_code_depth;
extern void note_exempt_prepared(PrepareStmt *stmt);
extern void exempt_utility_reaches_callers(Node *parsetree);
extern bool fk_initial_check_allowed(List *rangeTable);
extern Oid	refresh_transient_analyzed(Node *parsetree);
extern Oid	detach_partition_of(Node *parsetree);
extern bool exemption_recorded(Oid relid);
extern void exempted_tables_init(void);
extern void exemptions_init(void);

/* exempt_callers_code.c: code of a role the check applies to, run by using a relation */
extern bool relation_runs_callers_code(Oid relid, AclMode perms);
extern bool callers_domain(Oid typid);

/* tenant_session.c: the running top-level statement and its tenant */
extern void statement_scope_executor_started(QueryDesc *queryDesc);
extern void refuse_parallel_worker_statement(QueryDesc *queryDesc);
extern void statement_scope_utility_enter(void);
extern void statement_scope_utility_exit(void);
extern void statement_scope_check_n(const char *tenant, size_t tlen,
									const char *label, size_t llen, int elevel);
/* tenant_portal_bind.c */
extern bool message_reach_pending;
extern void scope_reach_message(void);
extern void scope_reach_end(const char *tenant);
extern void message_reach_forget(void);
extern void statement_scope_portal_start(void);
extern void statement_scope_utility_start(void);

extern void statement_scope_check(const char *tenant, const char *label,
								  int elevel);
extern const char *statement_scope_tenant(void);
extern const char *statement_scope_tenant_as_is(void);
extern const char *statement_scope_label(void);
extern bool scope_has_tenant(void);
extern bool transaction_many_tenants(void);
extern void transaction_callback_ensure(void);

/* tenant_deferred.c */
extern void deferred_check_reach(const char *tenant, const char *label, int elevel);
extern void deferred_xact_end(void);
extern bool statement_scope_busy(void);

/* tenant_temp.c */
extern void check_no_earlier_temp_objects(void);
extern void tenant_temp_init(void);
extern void temp_note_object_changed(Oid classId);
extern void note_sql_prepare(PrepareStmt *stmt);
extern void refuse_bound_sql_prepared(void);
extern void note_client_statement(const char *name);
extern void forget_sql_prepared(void);
extern void reserve_client_statements(Node *parsetree);
extern void refuse_nested_deallocate(bool top_level);
extern bool citus_connection(void);
extern const char *transaction_tenant(void);
extern int	statement_scope_deferred_enter(Node *parsetree);
extern void statement_scope_deferred_exit(int saved);
extern void statement_scope_note_deferred(QueryDesc *queryDesc);
extern void statement_scope_note_deferred_copy(Oid relid);
extern void statement_scope_mark_unknown(int elevel);

/* tenant_request_bounds.c: what would outlive a request, refused */
extern void refuse_begin_in_transaction(TransactionStmt *stmt);
extern void refuse_two_phase_commit(TransactionStmt *stmt);
extern const char *two_phase_command(TransactionStmt *stmt);
extern void refuse_held_cursor(DeclareCursorStmt *stmt);

#endif							/* GTM_ENFORCE_H */
