/*-------------------------------------------------------------------------
 *
 * enforce_trust.c
 *	  Which values run the caller's code: built-ins that run SQL or type
 *	  input, and types of the session's own.
 *
 * A pin value is evaluated when the statement starts, and may be evaluated
 * again for every row a scan tests, of every tenant.  A value that runs
 * code of the caller's each time (a view a built-in runs, a temporary
 * domain's CHECK) would see or count other tenants' rows, whatever the
 * value is: such values are no pins (classify_value, enforce_pin.c; the
 * ordering of enforce_order.c; the key values of enforce_key.c).
 *
 * IDENTIFICATION
 *	  src/enforce_trust.c
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/transam.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "nodes/nodeFuncs.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "enforce.h"

/*
 * Is funcid a built-in function that runs SQL text or a cursor given to it
 * (query_to_xml(), table_to_xml() and the like, ts_stat(), ts_rewrite()),
 * or the input of a value of a type named by its OID (record_in(),
 * array_in(), domain_in() and the like, whose type may be a temporary one
 * with a domain's CHECK)?  Such a "stable built-in" runs the caller's code
 * (a view's, a function's, a CHECK's) every time it is evaluated.
 */
bool
builtin_runs_sql(Oid funcid)
{
	static const char *const names[] = {
		"query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema",
		"cursor_to_xml", "cursor_to_xmlschema",
		"table_to_xml", "table_to_xmlschema", "table_to_xml_and_xmlschema",
		"schema_to_xml", "schema_to_xmlschema", "schema_to_xml_and_xmlschema",
		"database_to_xml", "database_to_xmlschema", "database_to_xml_and_xmlschema",
		"ts_stat", "ts_rewrite",
		"record_in", "record_recv", "array_in", "array_recv",
		"range_in", "range_recv", "multirange_in", "multirange_recv",
		"domain_in", "domain_recv", "enum_in", "enum_recv",
		"pg_input_is_valid", "pg_input_error_info"
	};
	char	   *name;

	if (funcid >= FirstNormalObjectId || (name = get_func_name(funcid)) == NULL)
		return false;
	for (int i = 0; i < lengthof(names); i++)
		if (strcmp(name, names[i]) == 0)
			return true;
	return false;
}

/*
 * Is typid a type of the session's own, in a temporary schema (the only
 * kind an application role can create): its input function or a domain's
 * CHECK runs that role's code, and the executor evaluates a value of the
 * statement's conditions again for every row it tests, of every tenant.
 */
static bool
callers_type(Oid typid)
{
	HeapTuple	tup;
	bool		result = false;

	if (typid < FirstNormalObjectId)
		return false;
	tup = SearchSysCache1(TYPEOID, ObjectIdGetDatum(typid));
	if (HeapTupleIsValid(tup))
	{
		result = isAnyTempNamespace(((Form_pg_type) GETSTRUCT(tup))->typnamespace);
		ReleaseSysCache(tup);
	}
	return result;
}

/*
 * The type of the value node computes, for the nodes that bring a type of
 * their own into an expression (a constant, a parameter, a coercion, a
 * function's result, a row, a field, a conditional); InvalidOid for the
 * others, whose type is one of their inputs'.  Shared with tenant_temp.c.
 */
Oid
expression_value_type(Node *node)
{
	switch (nodeTag(node))
	{
		case T_Const:
		case T_Param:
		case T_CoerceToDomain:
		case T_CoerceViaIO:
		case T_ArrayCoerceExpr:
		case T_RelabelType:
		case T_FuncExpr:
		case T_RowExpr:
		case T_FieldSelect:
		case T_ConvertRowtypeExpr:
		case T_CaseExpr:
		case T_CoalesceExpr:
		case T_ArrayExpr:
#if PG_VERSION_NUM >= 170000
		case T_JsonExpr:
#endif
			return exprType(node);
		default:
			return InvalidOid;
	}
}

static bool
callers_type_walker(Node *node, void *context)
{
	Oid			typid;

	if (node == NULL || IsA(node, Query))
		return false;
	typid = expression_value_type(node);
	if (OidIsValid(typid) && callers_type(typid))
		return true;
	return expression_tree_walker(node, callers_type_walker, context);
}

/*
 * Does the value (not a bare constant or parameter) involve a type of the
 * session's own?  Then it is no pin: its code would run for every row a
 * scan tests (a domain's CHECK counting them), whatever the value is.
 */
bool
mentions_callers_type(Node *val)
{
	if (val == NULL || IsA(val, Const) || IsA(val, Param))
		return false;
	return callers_type_walker(val, NULL);
}
