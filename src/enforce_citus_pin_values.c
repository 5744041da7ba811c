/*-------------------------------------------------------------------------
 *
 * enforce_citus_pin_values.c
 *	  On a Citus coordinator: the shadow plan's pins compared with the
 *	  values the query Citus sends holds as written.
 *
 * enforce_citus_pins.c collects, before Citus plans a statement, each
 * place a tenant table is named in the query as written and the constants
 * and parameters its tenant column is equated with there (PinPlace).  After
 * the shadow plan's judgement, direct_pins_apply refuses a reference it
 * found pinned unless every place of its table has such values and each
 * value the shadow plan pinned it to is among them: a parameter matches
 * itself or the value bound to it, gtm_current_tenant() the session tenant
 * that replaced it in the query Citus sends, a constant an equal constant
 * (compared by tenant_value_text).  A table the walk never met is refused
 * too (fail closed).
 *
 * IDENTIFICATION
 *	  src/enforce_citus_pin_values.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/partition.h"
#include "nodes/params.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * Is relid, or a table it is a partition of, in the list?  The shadow plan
 * judges a partitioned table's partitions, the query names the table.
 */
static bool
seen_or_ancestor(List *seen, Oid relid)
{
	ListCell   *lc;

	if (list_member_oid(seen, relid))
		return true;
	if (!get_rel_relispartition(relid))
		return false;
	foreach(lc, get_partition_ancestors(relid))
		if (list_member_oid(seen, lfirst_oid(lc)))
			return true;
	return false;
}

/* Does place name relid, or one of its partition ancestors? */
static inline bool
names_table(PinPlace *place, Oid relid, List *ancestors)
{
	return place->relid == relid || list_member_oid(ancestors, place->relid);
}

/* The text of a tenant value as written (a constant, a bound parameter), or NULL */
static char *
written_text(Node *node, ParamListInfo boundParams)
{
	if (IsA(node, Const))
		return ((Const *) node)->constisnull ? NULL :
			tenant_value_text(((Const *) node)->constvalue, ((Const *) node)->consttype);
	if (IsA(node, Param) && ((Param *) node)->paramkind == PARAM_EXTERN &&
		boundParams != NULL && ((Param *) node)->paramid > 0 &&
		((Param *) node)->paramid <= boundParams->numParams)
	{
		ParamExternData prmdata;
		ParamExternData *prm;

		if (boundParams->paramFetch != NULL)
			prm = boundParams->paramFetch(boundParams, ((Param *) node)->paramid,
										  false, &prmdata);
		else
			prm = &boundParams->params[((Param *) node)->paramid - 1];
		if (prm != NULL && !prm->isnull && OidIsValid(prm->ptype))
			return tenant_value_text(prm->value, prm->ptype);
	}
	return NULL;
}

/*
 * Is the shadow plan's pin value among the values its place has as
 * written?  A parameter matches the same parameter, or the value bound to
 * it; gtm_current_tenant() the session tenant (which replaced it in the
 * query Citus sends); a constant an equal constant or bound value.
 */
static bool
value_written(Node *value, List *consts, ParamListInfo boundParams)
{
	ListCell   *lc;
	char	   *text = NULL;

	value = strip_fixed_casts(value);
	if (IsA(value, FuncExpr) && is_current_tenant_fn(((FuncExpr *) value)->funcid))
		text = gtm_session_tenant;
	else if (IsA(value, Const))
		text = written_text(value, NULL);
	foreach(lc, consts)
	{
		Node	   *c = lfirst(lc);

		if (IsA(value, Param) && IsA(c, Param) &&
			((Param *) value)->paramid == ((Param *) c)->paramid &&
			((Param *) value)->paramkind == ((Param *) c)->paramkind)
			return true;
		if (text != NULL)
		{
			char	   *ct = written_text(c, boundParams);

			if (ct != NULL && strcmp(ct, text) == 0)
				return true;
		}
	}
	return false;
}

/*
 * After the shadow plan's judgement: a reference it found pinned is
 * refused unless every place its table is named holds, as written, each
 * value the shadow plan pinned it to (round DT: "d.tenant_id = tk(s.k) AND
 * d.tenant_id = $1" was T1 in the shadow plan, from tk folded, and the
 * bound victim on the worker); so is one of a table the walk never met
 * (fail closed: a place of the query it does not visit).
 */
void
direct_pins_apply(List *judged, DirectPins *dp, ParamListInfo boundParams)
{
	ListCell   *lc;

	foreach(lc, judged)
	{
		TenantRef  *ref = lfirst(lc);
		bool		ok;
		ListCell   *pl;
		List	   *ancestors;

		if (ref->reason != PR_PINNED ||
			(ref->kind != REF_SCAN && ref->kind != REF_INSERT))
			continue;
		/*
		 * every place of its table has values as written, and each value
		 * judged is among those of one of them (which place a reference
		 * stands for is not tracked: two places of two tenants are the
		 * shadow plan's "two tenants" to refuse)
		 */
		ok = seen_or_ancestor(dp->seen, ref->relid);
		/* the places that name its table (or a partitioned table it is in) */
		ancestors = get_rel_relispartition(ref->relid) ?
			get_partition_ancestors(ref->relid) : NIL;
		foreach(pl, dp->places)
		{
			PinPlace   *place = lfirst(pl);

			if (place->insert == (ref->kind == REF_INSERT) &&
				names_table(place, ref->relid, ancestors) && place->consts == NIL)
				ok = false;
		}
		if (ok)
		{
			ListCell   *vl;

			foreach(vl, ref->values)
			{
				bool		found = false;

				foreach(pl, dp->places)
				{
					PinPlace   *place = lfirst(pl);

					if (place->insert == (ref->kind == REF_INSERT) &&
						names_table(place, ref->relid, ancestors) &&
						value_written(lfirst(vl), place->consts, boundParams))
						found = true;
				}
				if (!found)
					ok = false;
			}
		}
		if (!ok)
		{
			ref->reason = PR_NODE_INDIRECT;
			ref->values = NIL;
		}
	}
}
