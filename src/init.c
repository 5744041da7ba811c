/*-------------------------------------------------------------------------
 *
 * init.c
 *	  Library entry point of gtm_clarity.
 *
 * gtm_clarity must be loaded through shared_preload_libraries: its planner
 * and utility hooks have to be in place in every backend before the first
 * statement runs, otherwise a session could touch tenant data before the
 * check exists.  Loading it any other way (CREATE EXTENSION, LOAD, calling
 * one of its functions) fails with a hint that says how to fix it.
 *
 * IDENTIFICATION
 *	  src/init.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "gtm_clarity.h"

GTM_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	if (!process_shared_preload_libraries_in_progress)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("gtm_clarity must be loaded via shared_preload_libraries"),
				 errdetail("The library was loaded on demand, so its tenant-scope checks would not be active in every session."),
				 errhint("Add gtm_clarity to shared_preload_libraries in postgresql.conf and restart the server, then run CREATE EXTENSION gtm_clarity.")));

	gtm_extension_init();
	gtm_enforce_init();
	gtm_provision_init();
	gtm_member_init();
	gtm_settings_init();

	MarkGUCPrefixReserved("gtm");
}
