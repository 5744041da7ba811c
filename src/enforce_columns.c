/*-------------------------------------------------------------------------
 *
 * enforce_columns.c
 *	  Columns of a table and of its partitions and inheritance children:
 *	  mapped by name, and the stored generated columns computed from them.
 *
 * The foreign-key actions a write fires (enforce_cascade.c) are triggers of
 * the written table and of each of its descendants, which number their
 * columns each their own way and may generate a column their parent keeps
 * plain (PostgreSQL 15): what a write assigns is mapped to each by name,
 * and a generated column counts as assigned when a column it is computed
 * from is.
 *
 * IDENTIFICATION
 *	  src/enforce_columns.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/sysattr.h"
#include "access/table.h"
#include "nodes/bitmapset.h"
#include "optimizer/optimizer.h"
#include "rewrite/rewriteHandler.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "enforce.h"

/* Column attno of relid, as a column number of the relation parent. */
AttrNumber
parent_attno(Oid relid, AttrNumber attno, Oid parent)
{
	char	   *name;

	if (relid == parent)
		return attno;
	name = get_attname(relid, attno, true);
	return name ? get_attnum(parent, name) : InvalidAttrNumber;
}

/* cols, column numbers of relation from, as column numbers of to (by name) */
Bitmapset *
map_columns(Bitmapset *cols, Oid from, Oid to)
{
	Bitmapset  *result = NULL;
	int			col = -1;

	if (from == to)
		return bms_copy(cols);	/* the caller may add to it */
	while ((col = bms_next_member(cols, col)) >= 0)
	{
		char	   *name = get_attname(from, (AttrNumber) col, true);
		AttrNumber	attno = name ? get_attnum(to, name) : InvalidAttrNumber;

		if (attno > 0)
			result = bms_add_member(result, attno);
	}
	return result;
}

/*
 * Add to *assigned the stored generated columns of relid computed from a
 * column in it: they change with it (a generated key referenced by a
 * foreign key whose action then fires).
 */
void
add_generated_dependents(Oid relid, Bitmapset **assigned)
{
	Relation	rel;
	TupleDesc	desc;
	Bitmapset  *more = NULL;

	if (*assigned == NULL)
		return;
	rel = table_open(relid, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; desc->constr != NULL && desc->constr->has_generated_stored &&
		 i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Bitmapset  *deps = NULL;
		Node	   *expr;
		int			col = -1;

		if (att->attisdropped || att->attgenerated != ATTRIBUTE_GENERATED_STORED)
			continue;
		expr = build_column_default(rel, att->attnum);
		if (expr == NULL)
			continue;
		pull_varattnos(expr, 1, &deps);
		while ((col = bms_next_member(*assigned, col)) >= 0)
			if (bms_is_member(col - FirstLowInvalidHeapAttributeNumber, deps))
			{
				more = bms_add_member(more, att->attnum);
				break;
			}
	}
	table_close(rel, AccessShareLock);
	*assigned = bms_add_members(*assigned, more);
}

/* Is column attno of relid a stored generated column in any of rels? */
bool
generated_in_any(List *rels, Oid relid, AttrNumber attno)
{
	char	   *name = get_attname(relid, attno, true);
	ListCell   *lc;

	if (name == NULL)
		return false;
	foreach(lc, rels)
	{
		AttrNumber	a = get_attnum(lfirst_oid(lc), name);

		if (a > 0 && get_attgenerated(lfirst_oid(lc), a) == ATTRIBUTE_GENERATED_STORED)
			return true;
	}
	return false;
}

/* Does assigning any of the columns assigned of f compute its tenant? */
bool
generated_from(RelFacts *f, Bitmapset *assigned)
{
	Relation	rel;
	Node	   *expr;
	Bitmapset  *deps = NULL;
	int			col = -1;

	rel = table_open(f->relid, AccessShareLock);
	expr = build_column_default(rel, f->attnum);
	table_close(rel, AccessShareLock);
	if (expr == NULL)
		return true;
	pull_varattnos(expr, 1, &deps);
	while ((col = bms_next_member(assigned, col)) >= 0)
		if (bms_is_member(col - FirstLowInvalidHeapAttributeNumber, deps))
			return true;
	return false;
}
