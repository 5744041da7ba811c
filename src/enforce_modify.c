/*-------------------------------------------------------------------------
 *
 * enforce_modify.c
 *	  Step 2 of the verdict: the ModifyTable nodes of the plan.
 *
 * An INSERT ... ON CONFLICT DO UPDATE on a tenant table may update the row
 * it conflicts with: its arbiter index must include the tenant column,
 * compared by identity, so that row is the inserted tenant's.  An UPDATE
 * or DELETE of a foreign tenant table must be sent to the server whole.
 * Called by judge_plan (enforce_judge.c) with the ModifyTable nodes the
 * walk found; a failure is a judged reference of its own.
 *
 * IDENTIFICATION
 *	  src/enforce_modify.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "nodes/plannodes.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "enforce.h"

/* How an arbiter index holds the tenant column */
typedef enum ArbiterTenant
{
	ARBITER_NO_TENANT,			/* not a key column */
	ARBITER_NOT_IDENTITY,		/* a key column whose equality is no identity */
	ARBITER_TENANT				/* a key column compared by identity */
} ArbiterTenant;

/*
 * Does the arbiter index include the tenant column (attnum of relid) as a
 * key column, compared by identity (its opclass's equalimage function says
 * equal values are identical under the index's collation)?  Otherwise a
 * conflicting row may hold a tenant that merely equals the inserted one.
 */
static ArbiterTenant
index_has_column(Oid indexoid, Oid relid, AttrNumber attnum, char **name)
{
	HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
	Form_pg_index idx;
	ArbiterTenant result = ARBITER_NO_TENANT;
	Datum		d;
	bool		isnull;
	oidvector  *classes,
			   *colls;

	*name = get_rel_name(indexoid);
	if (!HeapTupleIsValid(tup))
		return ARBITER_NO_TENANT;
	idx = (Form_pg_index) GETSTRUCT(tup);
	d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indclass, &isnull);
	classes = isnull ? NULL : (oidvector *) DatumGetPointer(d);
	d = SysCacheGetAttr(INDEXRELID, tup, Anum_pg_index_indcollation, &isnull);
	colls = isnull ? NULL : (oidvector *) DatumGetPointer(d);
	for (int i = 0; i < idx->indnkeyatts; i++)
	{
		Oid			type;
		int32		typmod;
		Oid			coll;

		if (idx->indkey.values[i] != attnum)
			continue;
		result = ARBITER_NOT_IDENTITY;
		if (classes == NULL || colls == NULL)
			break;
		get_atttypetypmodcoll(relid, attnum, &type, &typmod, &coll);
		if (opfamily_is_identity(get_opclass_family(classes->values[i]),
								 get_opclass_input_type(classes->values[i]),
								 colls->values[i]) &&
			!unbounded_bpchar(type, typmod) &&
			!bpchar_padding_hides(get_opclass_input_type(classes->values[i]),
								  type, typmod))
		{
			result = ARBITER_TENANT;
			break;
		}
	}
	ReleaseSysCache(tup);
	return result;
}

/*
 * Step 2, for each ModifyTable of the plan:
 *	- ON CONFLICT DO UPDATE arbiters must include the tenant column,
 *	  compared by identity;
 *	- an UPDATE or DELETE of a foreign tenant table must be one the wrapper
 *	  sends to the server whole (fdwDirectModifyPlans): otherwise it fetches
 *	  the rows with the pinned query, then writes each by its ctid, which
 *	  on a partitioned or inherited remote table names a row in every
 *	  partition.
 */
void
judge_modify_tables(EnforceState *st, PlannedStmt *stmt,
					ModifyTable **modifytables, int n_modifytables)
{
	for (int m = 0; m < n_modifytables; m++)
	{
		ModifyTable *mt = modifytables[m];
		RangeTblEntry *rte;
		RelFacts   *f;
		ListCell   *l2;

		if (mt->operation == CMD_UPDATE || mt->operation == CMD_DELETE)
			foreach(l2, mt->resultRelations)
			{
				TenantRef  *ref;

				rte = rt_fetch(lfirst_int(l2), stmt->rtable);
				if (rte->relkind != RELKIND_FOREIGN_TABLE ||
					bms_is_member(foreach_current_index(l2), mt->fdwDirectModifyPlans))
					continue;
				f = rel_facts(rte->relid);
				if (!f->tenant || f->exempt)
					continue;
				ref = new_ref(REF_SET, f, rte->eref->aliasname);
				ref->reason = PR_FOREIGN_ROW_WRITE;
				ref->judged = true;
				st->refs = lappend(st->refs, ref);
			}

		if (mt->onConflictAction != ONCONFLICT_UPDATE)
			continue;
		rte = rt_fetch(mt->nominalRelation, stmt->rtable);
		f = rel_facts(rte->relid);
		if (!f->tenant || f->exempt)
			continue;
		foreach(l2, mt->arbiterIndexes)
		{
			char	   *name;
			ArbiterTenant at = index_has_column(lfirst_oid(l2), f->relid,
												f->attnum, &name);

			if (at != ARBITER_TENANT)
			{
				TenantRef  *ref = new_ref(REF_SET, f, rte->eref->aliasname);

				ref->reason = at == ARBITER_NO_TENANT ? PR_ARBITER :
					PR_ARBITER_IDENTITY;
				ref->index_name = name;
				ref->judged = true;
				st->refs = lappend(st->refs, ref);
			}
		}
	}
}
