/*-------------------------------------------------------------------------
 *
 * enforce_attach.c
 *	  No partition of a tenant table computes the tenant column its parent
 *	  stores as written (PostgreSQL 15 and 16).
 *
 * A row written through a partitioned tenant table is judged by the tenant
 * the statement writes into the parent's column.  A partition that
 * computes that column (GENERATED ALWAYS AS ... STORED) stores another:
 * the row checked as t-1's becomes t-2's when it is routed there, is
 * compared with t-2's rows by the partition's unique and exclusion
 * constraints (whose errors print them), and stays t-2's.  PostgreSQL 17
 * refuses to attach such a partition; 15 and 16 accept it, and ATTACH
 * PARTITION takes a lock no write conflicts with, so a migration could
 * attach one while a write runs, after the write was judged (rounds EF, EJ,
 * EP: INSERT, UPDATE, MERGE, ON CONFLICT and COPY FROM, each pinned to
 * t-1, wrote or showed t-2's rows).  Fixing, when a write starts, the
 * partitions it may route to, and locking a COPY's partitioned partitions
 * against ATTACH, closed some of the ways but not all (round ER: COPY FROM
 * reached one under a partitioned partition attached while it waited for
 * its locks), and made writes wait for, and deadlock with, migrations and
 * two tenants' imports wait for each other.
 *
 * So, where the extension is installed, ALTER TABLE ... ATTACH PARTITION
 * is refused, as on PostgreSQL 17, when the table attached, or any table
 * under it, computes the tenant column that the table it is attached to
 * does not: for every role and in every mode, since it protects the
 * statements of other sessions.  (CREATE TABLE ... PARTITION OF cannot
 * give a partition a generation expression on 15 and 16.)  A partition
 * attached before the extension was created is still judged by the checks
 * that remain: the planner's (tenant_column_generated) and the executor's.
 *
 * IDENTIFICATION
 *	  src/enforce_attach.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_inherits.h"
#include "catalog/indexing.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/relcache.h"

#include "enforce.h"
#include "gtm_clarity.h"

#if PG_VERSION_NUM < 170000

/*
 * The table attached, partid, or one under it whose column colname is
 * generated: the first found, InvalidOid if none.  The ATTACH holds all of
 * them in ACCESS EXCLUSIVE mode until the transaction ends.
 */
static Oid
generating_table_under(Oid partid, const char *colname, AttrNumber *attnum)
{
	ListCell   *lc;

	foreach(lc, find_all_inheritors(partid, NoLock, NULL))
	{
		Oid			relid = lfirst_oid(lc);
		AttrNumber	a = get_attnum(relid, colname);

		CHECK_FOR_INTERRUPTS();
		if (a != InvalidAttrNumber && get_attgenerated(relid, a) != '\0')
		{
			*attnum = a;
			return relid;
		}
	}
	return InvalidOid;
}

/*
 * The partitions attached in this transaction: pg_inherits rows it wrote,
 * as (parent, partition) pairs in two lists.  Read from the catalog rather
 * than from the statement's names, which code run by the ATTACH can make
 * denote other tables by the time it ends (round ET: a function in the
 * partition bound or a ddl_command_end event trigger that changed
 * search_path, an event trigger that renamed the partition: the check
 * looked the names up again, found nothing, and let a partition computing
 * tenant_id through).  pg_inherits is read without an index: DDL only.
 */
static void
attached_in_this_transaction(List **parents, List **partitions)
{
	Relation	rel;
	SysScanDesc scan;
	HeapTuple	tup;

	rel = table_open(InheritsRelationId, AccessShareLock);
	scan = systable_beginscan(rel, InvalidOid, false, NULL, 0, NULL);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_inherits inh = (Form_pg_inherits) GETSTRUCT(tup);

		CHECK_FOR_INTERRUPTS();
		/* partitions only: ALTER TABLE ... INHERIT routes no row (round EV) */
		if (inh->inhdetachpending ||
			!TransactionIdIsCurrentTransactionId(HeapTupleHeaderGetXmin(tup->t_data)) ||
			!get_rel_relispartition(inh->inhrelid))
			continue;
		*parents = lappend_oid(*parents, inh->inhparent);
		*partitions = lappend_oid(*partitions, inh->inhrelid);
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/*
 * Called by gtm_ProcessUtility after the standard call of a utility
 * statement: an ALTER TABLE ... ATTACH PARTITION that left, among the
 * partitions attached in this transaction, one computing the tenant column
 * of the table it is attached to, is refused, which rolls it back.  Those
 * attached by earlier statements of the transaction were judged then, and
 * pass again.
 */
void
refuse_generating_partition_attached(Node *parsetree)
{
	AlterTableStmt *stmt;
	ListCell   *lc;
	ListCell   *lc2;
	bool		attaches = false;
	List	   *parents = NIL;
	List	   *partitions = NIL;
	const char *colname = gtm_tenant_column;

	if (!IsA(parsetree, AlterTableStmt))
		return;
	stmt = (AlterTableStmt *) parsetree;
	foreach(lc, stmt->cmds)
		if (lfirst_node(AlterTableCmd, lc)->subtype == AT_AttachPartition)
			attaches = true;
	if (!attaches || !gtm_installed_here())
		return;

	attached_in_this_transaction(&parents, &partitions);
	forboth(lc, parents, lc2, partitions)
	{
		Oid			parentid = lfirst_oid(lc);
		Oid			partid = lfirst_oid(lc2);
		Oid			generating;
		AttrNumber	parent_attnum;
		AttrNumber	attnum = InvalidAttrNumber;
		Relation	rel;

		parent_attnum = get_attnum(parentid, colname);
		if (parent_attnum == InvalidAttrNumber ||
			get_attgenerated(parentid, parent_attnum) != '\0')
			continue;			/* no tenant table, or computed in it too */
		generating = generating_table_under(partid, colname, &attnum);
		if (!OidIsValid(generating))
			continue;

		rel = relation_open(generating, NoLock);
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("cannot attach partition \"%s\" to tenant-scoped table \"%s\"",
						get_rel_name(partid), get_rel_name(parentid)),
				 errdetail("Column \"%s\" of \"%s\" is generated, while \"%s\" stores it as written: a row routed there would be stored with a tenant other than the one it was checked for.",
						   colname, RelationGetRelationName(rel),
						   get_rel_name(parentid)),
				 errhint("Make \"%s\" an ordinary column first (ALTER TABLE %s ALTER COLUMN %s DROP EXPRESSION). PostgreSQL 17 and later refuse such a partition too.",
						 colname,
						 quote_qualified_identifier(get_namespace_name(RelationGetNamespace(rel)),
													RelationGetRelationName(rel)),
						 quote_identifier(colname)),
				 errtablecol(rel, attnum)));
	}
}

#endif							/* PG_VERSION_NUM < 170000 */
