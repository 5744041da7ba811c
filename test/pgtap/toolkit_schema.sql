-- pgTAP: the application toolkit of issue 11 -- functions, security,
-- privileges and comments.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(29);
CREATE ROLE regress_toolkit_tap;

SELECT has_function('gtm_make_tenant_table', ARRAY['regclass', 'boolean', 'text']);
SELECT has_function('gtm_lint_schema', ARRAY['regrole[]', 'name[]']);
SELECT has_function('gtm_schema_is_clean', ARRAY['regrole[]', 'name[]']);
SELECT has_function('gtm_grant_app', ARRAY['regrole']);
SELECT has_function('gtm_grant_migrator', ARRAY['regrole', 'boolean']);
SELECT has_function('gtm_copy_check_row', ARRAY['anyelement', 'text']);
-- the grants change roles: SECURITY DEFINER, not callable by PUBLIC
SELECT is_definer('gtm_grant_app', ARRAY['regrole']);
SELECT is_definer('gtm_grant_migrator', ARRAY['regrole', 'boolean']);
SELECT ok(NOT has_function_privilege('regress_toolkit_tap', 'gtm_grant_app(regrole)', 'EXECUTE'),
          'PUBLIC cannot call gtm_grant_app');
SELECT ok(NOT has_function_privilege('regress_toolkit_tap', 'gtm_grant_migrator(regrole, boolean)', 'EXECUTE'),
          'PUBLIC cannot call gtm_grant_migrator');
-- make_tenant_table runs the caller's DDL with the caller's rights
SELECT isnt_definer('gtm_make_tenant_table', ARRAY['regclass', 'boolean', 'text']);
SELECT ok(NOT has_function_privilege('regress_toolkit_tap', 'gtm_make_tenant_table(regclass, boolean, text)', 'EXECUTE'),
          'PUBLIC cannot call gtm_make_tenant_table');
-- read-only helpers and the row check: anyone
SELECT volatility_is('gtm_lint_schema', ARRAY['regrole[]', 'name[]'], 'stable');
SELECT volatility_is('gtm_schema_is_clean', ARRAY['regrole[]', 'name[]'], 'stable');
SELECT volatility_is('gtm_copy_check_row', ARRAY['anyelement', 'text'], 'stable');
SELECT ok(has_function_privilege('regress_toolkit_tap', 'gtm_lint_schema(regrole[], name[])', 'EXECUTE'),
          'any role may lint');
SELECT ok(has_function_privilege('regress_toolkit_tap', 'gtm_copy_check_row(anyelement, text)', 'EXECUTE'),
          'any role may run the COPY row check (it reads and writes nothing)');
SELECT ok(has_function_privilege('regress_toolkit_tap', 'gtm_touch_updated_at()', 'EXECUTE'),
          'any table owner may attach the touch trigger');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE proname = 'gtm_copy_check_row'), 'r',
          'gtm_copy_check_row is parallel restricted');
-- every toolkit function pins its search_path and has a comment
SELECT is(p.proconfig, ARRAY['search_path=pg_catalog, pg_temp'], p.proname || ' pins search_path')
  FROM pg_proc p
 WHERE p.proname IN ('gtm_make_tenant_table', 'gtm_lint_schema', 'gtm_schema_is_clean', 'gtm_grant_app', 'gtm_grant_migrator')
 ORDER BY p.proname;
SELECT ok(obj_description(p.oid, 'pg_proc') IS NOT NULL, p.proname || ' has a comment')
  FROM pg_proc p
 WHERE p.proname IN ('gtm_make_tenant_table', 'gtm_lint_schema', 'gtm_grant_app', 'gtm_copy_check_row', 'gtm_touch_updated_at')
 ORDER BY p.proname;

SELECT * FROM finish();
ROLLBACK;
