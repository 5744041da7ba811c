/*-------------------------------------------------------------------------
 *
 * enforce_our_functions.c
 *	  The extension's own functions as the check knows them.
 *
 * gtm_current_tenant() and gtm_pin() are trusted pins (enforce_pin.c) and
 * the trigger gtm_touch_updated_at() a known writer (enforce_written_rows.c).
 * Their OIDs depend on the installation, so they are recognised by their
 * C symbol and library; the OIDs found are kept until pg_proc changes (the
 * extension dropped and created again), so an OID that comes to name
 * another function is never trusted.
 *
 * IDENTIFICATION
 *	  src/enforce_our_functions.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "enforce.h"
#include "gtm_clarity.h"

/*
 * The OIDs of gtm_current_tenant() and gtm_pin() once recognised; reset by
 * any pg_proc invalidation (the extension dropped and created again), so
 * an OID that comes to name another function is never trusted.
 */
static Oid	current_tenant_fn_oid = InvalidOid;
static Oid	pin_fn_oid = InvalidOid;
static bool pin_fn_looked_up = false;	/* pin_fn_oid is the answer */

static void
our_fn_oids_inval(Datum arg, int cacheid, uint32 hashvalue)
{
	current_tenant_fn_oid = InvalidOid;
	pin_fn_oid = InvalidOid;
	pin_fn_looked_up = false;
}

/*
 * Is funcid the C function "symbol" of this library?  Our functions' OIDs
 * depend on the installation, so they are recognised by their C symbol
 * (pg_proc.prosrc) and library (probin).
 */
bool
is_our_c_function(Oid funcid, const char *symbol)
{
	HeapTuple	tup;
	bool		match = false;

	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (HeapTupleIsValid(tup))
	{
		Form_pg_proc proc = (Form_pg_proc) GETSTRUCT(tup);
		bool		isnull;
		Datum		src = SysCacheGetAttr(PROCOID, tup, Anum_pg_proc_prosrc, &isnull);
		Datum		bin;

		if (proc->prolang == ClanguageId && !isnull &&
			strcmp(TextDatumGetCString(src), symbol) == 0)
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
	return match;
}

/* Is funcid gtm_current_tenant()? */
bool
is_current_tenant_fn(Oid funcid)
{
	if (funcid == current_tenant_fn_oid)
		return true;
	if (funcid < FirstNormalObjectId || !is_our_c_function(funcid, "gtm_current_tenant"))
		return false;
	current_tenant_fn_oid = funcid;
	return true;
}

/* Is funcid gtm_pin()? */
bool
is_pin_fn(Oid funcid)
{
	if (funcid == pin_fn_oid)
		return true;
	if (funcid < FirstNormalObjectId || !is_our_c_function(funcid, "gtm_pin"))
		return false;
	pin_fn_oid = funcid;
	return true;
}

/*
 * The OID of gtm_pin(anyelement) of the installed extension, or InvalidOid
 * (extension not installed here, or still at version 1.0.0).
 */
Oid
pin_function_oid(void)
{
	Oid			nsp;
	Oid			argtype = ANYELEMENTOID;
	Oid			funcid;

	if (pin_fn_looked_up)
		return pin_fn_oid;
	nsp = gtm_installed_namespace();
	funcid = !OidIsValid(nsp) ? InvalidOid :
		GetSysCacheOid3(PROCNAMEARGSNSP, Anum_pg_proc_oid,
						CStringGetDatum("gtm_pin"),
						PointerGetDatum(buildoidvector(&argtype, 1)),
						ObjectIdGetDatum(nsp));
	if (OidIsValid(funcid) && !is_pin_fn(funcid))
		funcid = InvalidOid;

	/*
	 * Keep the answer, also "none", until pg_proc changes (installing or
	 * updating the extension creates functions); the lookups above may have
	 * processed such an invalidation already, so store only now.
	 */
	pin_fn_oid = funcid;
	pin_fn_looked_up = true;
	return funcid;
}

/*
 * gtm_pin(val), of val's type and collation: the call by which the freeze
 * pass, the correlated-parameter check and the per-row check of written
 * tenants each make a value one per statement.
 */
Node *
make_pin_call(Node *val, Oid pin_fn)
{
	return (Node *) makeFuncExpr(pin_fn, exprType(val), list_make1(val),
								 InvalidOid, exprCollation(val),
								 COERCE_EXPLICIT_CALL);
}

/* Called once from _PG_init (through enforce_pin_init). */
void
our_functions_init(void)
{
	CacheRegisterSyscacheCallback(PROCOID, our_fn_oids_inval, (Datum) 0);
}
