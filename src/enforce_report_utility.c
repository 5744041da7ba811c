/*-------------------------------------------------------------------------
 *
 * enforce_report_utility.c
 *	  The messages of utility statements on tenant tables: COPY, TRUNCATE
 *	  and LOCK TABLE, and the checker's reason for each.
 *
 * Same SQLSTATE (42501, GTM_ERRCODE_NOT_PINNED) and error fields
 * (err_tenant_scope) as every rejection of the tenant check
 * (enforce_report.c).
 *
 * IDENTIFICATION
 *	  src/enforce_report_utility.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "storage/lockdefs.h"
#include "utils/builtins.h"
#include "utils/elog.h"
#include "utils/lsyscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/* COPY to/from a tenant table, or TRUNCATE of one (what names which). */
void
report_utility(const char *what, Oid relid)
{
	ereport(ENFORCE_ELEVEL(),
			(errcode(GTM_ERRCODE_NOT_PINNED),
			 errmsg("%s on tenant-scoped table \"%s\" is not allowed",
					what, get_rel_name(relid)),
			 errdetail("%s reaches the rows of every tenant.", what),
			 err_tenant_scope(relid),
			 strcmp(what, "COPY") == 0 ?
			 errhint("Use COPY (SELECT ... WHERE %s = <value>) TO, or run it as a role with BYPASSRLS.",
					 quote_identifier(tenant_column_name(relid))) :
			 errhint("Use DELETE ... WHERE %s = <value>, or run it as a role with BYPASSRLS.",
					 quote_identifier(tenant_column_name(relid)))));
}

/* The SQL name of a lock mode, as LOCK TABLE writes it. */
static const char *
lock_mode_sql(int mode)
{
	static const char *const names[] = {
		[AccessShareLock] = "ACCESS SHARE",
		[RowShareLock] = "ROW SHARE",
		[RowExclusiveLock] = "ROW EXCLUSIVE",
		[ShareUpdateExclusiveLock] = "SHARE UPDATE EXCLUSIVE",
		[ShareLock] = "SHARE",
		[ShareRowExclusiveLock] = "SHARE ROW EXCLUSIVE",
		[ExclusiveLock] = "EXCLUSIVE",
		[AccessExclusiveLock] = "ACCESS EXCLUSIVE",
	};

	if (mode < AccessShareLock || mode > AccessExclusiveLock)
		return "?";
	return names[mode];
}

/* What a lock mode not allowed would block (see lock_mode_allowed). */
static const char *
lock_mode_blocks(int mode)
{
	switch (mode)
	{
		case ShareUpdateExclusiveLock:
			return "conflicts with itself, so one tenant's session would wait for another's";
		case ShareLock:
		case ShareRowExclusiveLock:
			return "blocks the INSERT, UPDATE and DELETE of every tenant";
		case ExclusiveLock:
			return "blocks the INSERT, UPDATE, DELETE and SELECT ... FOR UPDATE of every tenant";
		default:
			return "blocks every statement of every tenant on it";
	}
}

/*
 * Reject (or warn about) a utility statement judge_utility found reaching
 * a tenant table: COPY, TRUNCATE (also through CASCADE or a parent),
 * LOCK TABLE in a mode that would block other tenants, and maintenance of
 * a tenant table the role does not own.
 */
void
report_utility_verdict(UtilityVerdict *v, int elevel)
{
	const char *rel = get_rel_name(v->relid);
	const char *named = get_rel_name(v->named);
	const char *col = quote_identifier(tenant_column_name(v->relid));

	if (rel == NULL)
		rel = "?";
	if (named == NULL)
		named = "?";
	if (strcmp(v->what, "LOCK TABLE") == 0)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("LOCK TABLE in %s MODE on tenant-scoped table \"%s\" is not allowed",
						lock_mode_sql(v->lockmode), rel),
				 v->named != v->relid ?
				 errdetail("Locking \"%s\" locks \"%s\", and a lock in %s MODE %s.",
						   named, rel, lock_mode_sql(v->lockmode),
						   lock_mode_blocks(v->lockmode)) :
				 errdetail("A lock in %s MODE %s.",
						   lock_mode_sql(v->lockmode),
						   lock_mode_blocks(v->lockmode)),
				 err_tenant_scope(v->relid),
				 errhint("Lock one tenant's rows with SELECT ... WHERE %s = <value> FOR UPDATE, use ACCESS SHARE, ROW SHARE or ROW EXCLUSIVE MODE, or run it as a role with BYPASSRLS.",
						 col)));
	else if (strcmp(v->what, "TRUNCATE") == 0 && v->cascaded)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("TRUNCATE on tenant-scoped table \"%s\" is not allowed", rel),
				 errdetail("TRUNCATE \"%s\" CASCADE reaches \"%s\" through foreign keys, and empties it for every tenant.",
						   named, rel),
				 err_tenant_scope(v->relid),
				 errhint("Use DELETE ... WHERE %s = <value>, or run it as a role with BYPASSRLS.",
						 col)));
	else if (strcmp(v->what, "COPY") == 0 && v->copy_from)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 v->copy_refusal == COPY_REFUSED_NO_TENANT ?
				 errmsg("COPY FROM into tenant-scoped table \"%s\" needs a session tenant", rel) :
				 errmsg("COPY FROM into tenant-scoped table \"%s\" is not allowed", rel),
				 v->copy_refusal == COPY_REFUSED_NO_TENANT ?
				 errdetail("Every row's %s is checked against the session tenant, and none is set.", col) :
				 v->copy_refusal == COPY_REFUSED_GENERATED ?
				 errdetail("Its %s is a generated column, computed after the rows are checked.", col) :
				 errdetail("The installed version of gtm_clarity does not check the rows of COPY FROM."),
				 v->copy_refusal == COPY_REFUSED_NO_TENANT ?
				 errhint("Call gtm_set_tenant(tenant_id) first, or run it as a role with BYPASSRLS.") :
				 v->copy_refusal == COPY_REFUSED_GENERATED ?
				 errhint("Run it as a role with BYPASSRLS.") :
				 errhint("Run ALTER EXTENSION gtm_clarity UPDATE.")));
	else if (v->maintenance && v->commits_alone)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("%s of table \"%s\" is not allowed for this role", v->what, rel),
				 errdetail("%s commits each table on its own, so a table that takes the name while it waits for its lock would be processed unchecked; this role may run it on its temporary tables only.", v->what),
				 errhint("Leave the maintenance of tables to autovacuum and a role exempt from the tenant-scope check.")));
	else if (v->maintenance && v->whole_database)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("%s of every table is not allowed for this role", v->what),
				 errdetail("It processes every table the role may maintain (all of the database for its owner, all of a schema for its owner, those the MAINTAIN privilege gives), tenant-scoped tables of other owners among them, and locks each for every tenant."),
				 errhint("Name the role's own tables, and leave the maintenance of tenant tables to autovacuum and a role exempt from the tenant-scope check.")));
	else if (v->maintenance)
		ereport(elevel,
				(errcode(GTM_ERRCODE_NOT_PINNED),
				 errmsg("%s of tenant-scoped table \"%s\" is not allowed for this role", v->what, rel),
				 errdetail("The role does not own it (the MAINTAIN privilege allows it): %s locks it for every tenant and processes the rows of every tenant.", v->what),
				 err_tenant_scope(v->relid),
				 errhint("Leave the maintenance of tenant tables to autovacuum and a role exempt from the tenant-scope check; do not grant MAINTAIN or pg_maintain to application roles.")));
	else
		report_utility(v->what, v->relid);
}

/* The "reason" column of gtm_check_statement() for a utility verdict. */
const char *
utility_reason_text(UtilityVerdict *v)
{
	if (strcmp(v->what, "LOCK TABLE") == 0)
		return psprintf("LOCK TABLE in %s MODE blocks other tenants",
						lock_mode_sql(v->lockmode));
	if (v->cascaded)
	{
		const char *named = get_rel_name(v->named);

		return psprintf("TRUNCATE ... CASCADE reaches every tenant (from \"%s\")",
						named ? named : "?");
	}
	if (v->copy_checked)
		return psprintf(gtm_session_tenant != NULL && gtm_session_tenant[0] != '\0' ?
						"every row's %s checked against the session tenant" :
						"every row's %s checked against the statement's tenant (a Citus shard)",
						quote_identifier(tenant_column_name(v->relid)));
	if (v->maintenance && v->commits_alone)
		return psprintf("%s of a table that is not temporary commits before a second check", v->what);
	if (v->maintenance)
		return v->whole_database ?
			psprintf("%s of every table reaches tables of other owners", v->what) :
			psprintf("%s of a table the role does not own blocks every tenant", v->what);
	if (v->copy_refusal == COPY_REFUSED_NO_TENANT)
		return "COPY FROM needs a session tenant";
	if (v->copy_refusal != COPY_REFUSED_NONE)
		return "COPY FROM of this table is not checked";
	return psprintf("%s reaches every tenant", v->what);
}
