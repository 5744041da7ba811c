-- The setup checklist: objects, privileges, pg_dump registration.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(23);

SELECT has_table('setup_tasks');
SELECT has_table('tenant_setup_progress');
SELECT col_is_pk('setup_tasks', 'key');
SELECT col_is_pk('tenant_setup_progress', ARRAY['tenant_id', 'task_key']);
SELECT fk_ok('tenant_setup_progress', 'tenant_id', 'tenants', 'id');
SELECT fk_ok('tenant_setup_progress', 'task_key', 'setup_tasks', 'key');
SELECT has_column('tenant_setup_progress', 'tenant_id', 'marks are tenant-scoped (gtm.tenant_column)');
SELECT hasnt_column('setup_tasks', 'tenant_id', 'tasks are not tenant-scoped');
SELECT enum_has_labels('gtm_setup_level', ARRAY['required', 'recommended', 'optional']);
SELECT is((SELECT count(*)::int FROM setup_tasks WHERE built_in), 7, 'the seven tasks of the product page');
SELECT is((SELECT c.condition FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(tbl, condition)
			WHERE e.extname = 'gtm_clarity' AND c.tbl = 'setup_tasks'::regclass),
		  'WHERE NOT built_in', 'pg_dump keeps the operator''s tasks');
SELECT is((SELECT c.condition FROM pg_extension e, unnest(e.extconfig, e.extcondition) AS c(tbl, condition)
			WHERE e.extname = 'gtm_clarity' AND c.tbl = 'tenant_setup_progress'::regclass),
		  '', 'pg_dump keeps every mark');
SELECT ok(has_table_privilege('public', 'setup_tasks', 'SELECT'), 'PUBLIC may read the tasks');
SELECT ok(NOT has_table_privilege('public', 'setup_tasks', 'INSERT,UPDATE,DELETE'), 'PUBLIC may not change the tasks');
SELECT ok(NOT has_table_privilege('public', 'tenant_setup_progress', 'SELECT,INSERT,UPDATE,DELETE'),
		  'PUBLIC has no right on the marks');

SELECT isnt_definer('gtm_setup_checklist', ARRAY['text']);
SELECT isnt_definer('gtm_tenant_ready', ARRAY['text']);
SELECT is_definer('gtm_complete_setup_task', ARRAY['text', 'text', 'boolean', 'text']);
SELECT is_definer('gtm_register_setup_task', ARRAY['text', 'text', 'text', 'gtm_setup_level',
	'gtm_setup_condition', 'text[]', 'integer', 'regprocedure', 'integer']);
SELECT is(p.proconfig, ARRAY['search_path=pg_catalog, pg_temp'], p.proname || ' pins search_path')
  FROM pg_proc p WHERE p.proname IN ('gtm_complete_setup_task', 'gtm_register_setup_task') ORDER BY p.proname;
SELECT ok(NOT has_function_privilege('public', p.oid, 'EXECUTE'), p.proname || ' is not executable by PUBLIC')
  FROM pg_proc p WHERE p.proname IN ('gtm_complete_setup_task', 'gtm_register_setup_task') ORDER BY p.proname;

SELECT * FROM finish();
ROLLBACK;
