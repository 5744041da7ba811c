-- enforce_schema: objects, privileges and settings of tenant-scope enforcement.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(46);

CREATE ROLE regress_enforce_tap;

SELECT has_function('gtm_set_tenant', ARRAY['text', 'boolean']);
SELECT has_function('gtm_current_tenant', ARRAY[]::text[]);
SELECT has_function('gtm_check_statement', ARRAY['text']);
SELECT has_function('gtm_exempt_table', ARRAY['regclass']);
SELECT has_function('gtm_unexempt_table', ARRAY['regclass']);

SELECT is_definer('gtm_set_tenant', ARRAY['text', 'boolean']);
SELECT is_definer('gtm_exempt_table', ARRAY['regclass']);
SELECT is_definer('gtm_unexempt_table', ARRAY['regclass']);
SELECT isnt_definer('gtm_current_tenant', ARRAY[]::text[]);
SELECT isnt_definer('gtm_check_statement', ARRAY['text']);
SELECT volatility_is('gtm_current_tenant', ARRAY[]::text[], 'stable');
SELECT has_function('gtm_pin', ARRAY['anyelement']);
SELECT isnt_definer('gtm_pin', ARRAY['anyelement']);
SELECT volatility_is('gtm_pin', ARRAY['anyelement'], 'stable');
SELECT is((SELECT proparallel::text FROM pg_proc WHERE proname = 'gtm_pin'), 'r',
          'gtm_pin is parallel restricted (the leader holds the statement''s tenant)');
SELECT ok(has_function_privilege('regress_enforce_tap', 'gtm_pin(anyelement)', 'EXECUTE'),
          'any role may call gtm_pin (it only checks)');

SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('gtm_set_tenant', 'gtm_exempt_table', 'gtm_unexempt_table')
              AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)),
          (SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('gtm_set_tenant', 'gtm_exempt_table', 'gtm_unexempt_table')),
          'SECURITY DEFINER functions pin search_path (both gtm_set_tenant overloads)');

SELECT ok(has_function_privilege('regress_enforce_tap', 'gtm_set_tenant(text, boolean)', 'EXECUTE'),
          'any role may set its session tenant');
SELECT ok(has_function_privilege('regress_enforce_tap', 'gtm_check_statement(text)', 'EXECUTE'),
          'any role may check a statement');
SELECT ok(NOT has_function_privilege('regress_enforce_tap', 'gtm_exempt_table(regclass)', 'EXECUTE'),
          'exempting a table is not granted to PUBLIC');
SELECT ok(NOT has_function_privilege('regress_enforce_tap', 'gtm_unexempt_table(regclass)', 'EXECUTE'),
          'unexempting a table is not granted to PUBLIC');

SELECT has_function('gtm_forget_dropped_exemptions', ARRAY[]::text[]);
SELECT is_definer('gtm_forget_dropped_exemptions', ARRAY[]::text[]);
SELECT ok((SELECT evtevent = 'sql_drop' AND evtenabled = 'O'
             AND evtfoid = 'gtm_forget_dropped_exemptions()'::regprocedure
             FROM pg_event_trigger WHERE evtname = 'gtm_clarity_forget_dropped_exemptions'),
          'a dropped table''s exemption is deleted with it (sql_drop event trigger, enabled)');
SELECT has_table('tenant_scope_exemptions');
SELECT has_view('gtm_exempt_tables');
SELECT col_is_pk('tenant_scope_exemptions', 'relid');
SELECT ok(NOT has_table_privilege('regress_enforce_tap', 'tenant_scope_exemptions', 'INSERT'),
          'the exemptions table is written only through the functions');
SELECT ok(has_table_privilege('regress_enforce_tap', 'gtm_exempt_tables', 'SELECT'),
          'anyone may list the exemptions');
SELECT ok((SELECT 'tenant_scope_exemptions'::regclass::oid = ANY (extconfig)
             FROM pg_extension WHERE extname = 'gtm_clarity'),
          'exemptions are dumped by pg_dump');

SELECT results_eq(
  $$SELECT name, context, boot_val FROM pg_settings
     WHERE name IN ('gtm.enforcement', 'gtm.tenant_column', 'gtm.tenant') ORDER BY name$$,
  $$VALUES ('gtm.enforcement'::text, 'superuser'::text, 'error'::text),
           ('gtm.tenant', 'superuser', ''),
           ('gtm.tenant_column', 'superuser', 'tenant_id')$$,
  'settings: superuser context, error by default');
SELECT is((SELECT enumvals FROM pg_settings WHERE name = 'gtm.enforcement'),
          ARRAY['error', 'warn', 'off'], 'gtm.enforcement modes');

SELECT throws_ok($$SET gtm.enforcement = 'sometimes'$$, '22023', NULL, 'an unknown mode is refused');
SELECT throws_ok($$SET gtm.tenant_column = ''$$, '22023', NULL, 'an empty tenant column is refused');

SET ROLE regress_enforce_tap;
SELECT throws_ok($$SET gtm.enforcement = off$$, '42501', NULL,
                 'an ordinary role cannot turn enforcement off');
SELECT throws_ok($$SET gtm.allow_session_tenant = on$$, '42501', NULL,
                 'an ordinary role cannot allow itself a session tenant');
RESET ROLE;

-- issue 8: the tenant context under pools, statistics, key details
SELECT is((SELECT pg_get_function_arguments('gtm_set_tenant(text, boolean)'::regprocedure)),
          'tenant text, is_local boolean DEFAULT true',
          'gtm_set_tenant(tenant, is_local DEFAULT true): transaction scope by default');
SELECT results_eq(
  $$SELECT context, boot_val, vartype FROM pg_settings WHERE name = 'gtm.allow_session_tenant'$$,
  $$VALUES ('superuser'::text, 'off'::text, 'bool'::text)$$,
  'gtm.allow_session_tenant: superuser only, off by default');
SELECT has_function('gtm_protect_table', ARRAY['regclass']);
SELECT isnt_definer('gtm_protect_table', ARRAY['regclass']);
SELECT ok(NOT has_function_privilege('regress_enforce_tap', 'gtm_protect_table(regclass)', 'EXECUTE'),
          'protecting a table is not granted to PUBLIC');
SELECT ok((SELECT 'search_path=pg_catalog, pg_temp' = ANY (proconfig) FROM pg_proc
            WHERE oid = 'gtm_protect_table(regclass)'::regprocedure),
          'gtm_protect_table pins search_path');
SELECT has_view('gtm_key_detail_leaks');
SELECT columns_are('gtm_key_detail_leaks',
                   ARRAY['table', 'index', 'constraint', 'kind', 'definition', 'protected']);
SELECT ok(has_table_privilege('regress_enforce_tap', 'gtm_key_detail_leaks', 'SELECT'),
          'anyone may list the constraints whose DETAIL can show another tenant''s key');
SELECT isnt(obj_description('gtm_set_tenant(text, boolean)'::regprocedure, 'pg_proc'), NULL,
            'gtm_set_tenant has a comment');

SELECT * FROM finish();
ROLLBACK;
