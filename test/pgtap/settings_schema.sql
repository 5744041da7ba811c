-- Settings: schema objects, function properties, privileges, pg_dump registration.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(54);

-- defaults table
SELECT has_table('settings_defaults');
SELECT columns_are('settings_defaults', ARRAY['version', 'settings', 'set_at', 'set_by', 'schema']);
SELECT col_type_is('settings_defaults', 'schema', 'jsonb');
SELECT col_not_null('settings_defaults', 'schema');
SELECT hasnt_column('settings_defaults', 'tenant_id', 'settings_defaults is not tenant-scoped');
SELECT col_is_pk('settings_defaults', 'version');
SELECT col_type_is('settings_defaults', 'settings', 'jsonb');
SELECT ok(
	(SELECT settings FROM settings_defaults WHERE version = 0) @>
	'{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}}'::jsonb,
	'factory defaults keep the ones the issue gives');
SELECT is(gtm_check_settings('{"timezone": "America/New_York", "defaultScoringVersion": 1, "features": {"buyingGroups": true, "writeback": false}}'),
	'{"timezone": "America/New_York", "defaultScoringVersion": 1, "features": {"buyingGroups": true, "writeback": false}}'::jsonb,
	'the product page example passes the factory schema');
SELECT is((SELECT schema -> 'properties' ?& ARRAY['timezone', 'defaultScoringVersion', 'features', 'scoring',
		'connectors', 'fieldMappings', 'buyingGroups'] FROM settings_defaults WHERE version = 0),
	true, 'the factory schema covers the sections of the checklist');
SELECT is(
	(SELECT c.condition FROM pg_extension e,
		unnest(e.extconfig, e.extcondition) AS c(tbl, condition)
	 WHERE e.extname = 'gtm_clarity' AND c.tbl = 'settings_defaults'::regclass),
	'WHERE version OPERATOR(pg_catalog.>) 0',
	'pg_dump keeps the versions after the factory defaults only');
SELECT ok(has_table_privilege('public', 'settings_defaults', 'SELECT'), 'PUBLIC may read the defaults');
SELECT ok(NOT has_table_privilege('public', 'settings_defaults', 'INSERT'), 'PUBLIC may not insert defaults');
SELECT ok(NOT has_table_privilege('public', 'settings_defaults', 'UPDATE'), 'PUBLIC may not update defaults');
SELECT ok(NOT has_table_privilege('public', 'settings_defaults', 'DELETE'), 'PUBLIC may not delete defaults');

-- trigger on tenants
SELECT has_trigger('tenants', 'tenants_settings_validate');
SELECT trigger_is('tenants', 'tenants_settings_validate', 'gtm_validate_tenant_settings');
SELECT is(
	(SELECT tgtype::int FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname = 'tenants_settings_validate'),
	1 | 4 | 16,
	'validation trigger: ROW, AFTER (it sees the row as stored, after every BEFORE trigger), INSERT and UPDATE');
SELECT is(
	(SELECT pg_catalog.cardinality(t.tgattr::int2[]) FROM pg_trigger t
	 WHERE t.tgrelid = 'tenants'::regclass AND t.tgname = 'tenants_settings_validate'),
	0,
	'every UPDATE fires it (a BEFORE trigger may write settings on an UPDATE that does not assign them)');
SELECT is(
	(SELECT tgenabled FROM pg_trigger WHERE tgrelid = 'tenants'::regclass AND tgname = 'tenants_settings_validate'),
	'O', 'enabled in origin mode');

-- gtm_jsonb_merge
SELECT has_function('gtm_jsonb_merge', ARRAY['jsonb', 'jsonb']);
SELECT function_returns('gtm_jsonb_merge', ARRAY['jsonb', 'jsonb'], 'jsonb');
SELECT function_lang_is('gtm_jsonb_merge', ARRAY['jsonb', 'jsonb'], 'c');
SELECT volatility_is('gtm_jsonb_merge', ARRAY['jsonb', 'jsonb'], 'immutable');
SELECT isnt_strict('gtm_jsonb_merge', ARRAY['jsonb', 'jsonb'], 'not strict: a NULL patch returns base');
SELECT is((SELECT proparallel FROM pg_proc WHERE oid = 'gtm_jsonb_merge(jsonb,jsonb)'::regprocedure),
		  's', 'gtm_jsonb_merge is PARALLEL SAFE');
SELECT ok(has_function_privilege('public', 'gtm_jsonb_merge(jsonb,jsonb)', 'EXECUTE'), 'anyone may merge');

-- readers: caller's rights, callable by anyone (table privileges apply)
SELECT isnt_definer('gtm_default_settings', ARRAY[]::text[]);
SELECT isnt_definer('gtm_tenant_settings', ARRAY['text']);
SELECT isnt_definer('gtm_tenant_setting', ARRAY['text', 'text[]']);
SELECT isnt_definer('gtm_feature_enabled', ARRAY['text', 'text']);
SELECT isnt_definer('gtm_invalid_tenant_settings', ARRAY[]::text[]);
SELECT volatility_is('gtm_tenant_settings', ARRAY['text'], 'stable');
SELECT function_returns('gtm_feature_enabled', ARRAY['text', 'text'], 'boolean');

-- writers: SECURITY DEFINER with a safe search_path, not executable by PUBLIC
SELECT is_definer('gtm_set_default_settings', ARRAY['jsonb', 'jsonb']);
SELECT is_definer('gtm_update_tenant_settings', ARRAY['text', 'jsonb']);
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'gtm_set_default_settings(jsonb,jsonb)'::regprocedure),
		  ARRAY['search_path=pg_catalog, pg_temp'], 'gtm_set_default_settings pins search_path');
SELECT is((SELECT proconfig FROM pg_proc WHERE oid = 'gtm_update_tenant_settings(text,jsonb)'::regprocedure),
		  ARRAY['search_path=pg_catalog, pg_temp'], 'gtm_update_tenant_settings pins search_path');
SELECT ok(NOT has_function_privilege('public', 'gtm_set_default_settings(jsonb,jsonb)', 'EXECUTE'),
		  'PUBLIC may not change the defaults');
SELECT ok(NOT has_function_privilege('public', 'gtm_update_tenant_settings(text,jsonb)', 'EXECUTE'),
		  'PUBLIC may not patch tenant settings');
SELECT ok(NOT has_function_privilege('public', 'gtm_validate_tenant_settings()', 'EXECUTE'),
		  'PUBLIC may not call the trigger function');
SELECT volatility_is('gtm_update_tenant_settings', ARRAY['text', 'jsonb'], 'volatile');
SELECT isnt_definer('gtm_validate_tenant_settings', ARRAY[]::text[]);

-- the schema: readers and the check for anyone, triggers on settings_defaults
SELECT isnt_definer('gtm_settings_schema', ARRAY[]::text[]);
SELECT isnt_definer('gtm_check_settings', ARRAY['jsonb']);
SELECT volatility_is('gtm_settings_schema_from', ARRAY['jsonb'], 'immutable');
SELECT ok(has_function_privilege('public', 'gtm_check_settings(jsonb)', 'EXECUTE'), 'anyone may check overrides');
SELECT ok(NOT has_function_privilege('public', 'gtm_settings_defaults_row()', 'EXECUTE')
		  AND NOT has_function_privilege('public', 'gtm_settings_defaults_changed()', 'EXECUTE'),
		  'PUBLIC may not call the triggers of settings_defaults');
SELECT trigger_is('settings_defaults', 'settings_defaults_check', 'gtm_settings_defaults_row');
SELECT trigger_is('settings_defaults', 'settings_defaults_changed', 'gtm_settings_defaults_changed');
SELECT is((SELECT pg_catalog.count(*)::int FROM pg_proc p WHERE p.proname = 'gtm_set_default_settings'),
		  1, 'one gtm_set_default_settings (the 1.0.0 signature is gone)');

-- every object of this section belongs to the extension
SELECT is(
	(SELECT count(*)::int FROM pg_depend d JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
	 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
	   AND p.proname IN ('gtm_jsonb_merge', 'gtm_default_settings', 'gtm_set_default_settings',
						 'gtm_validate_tenant_settings', 'gtm_tenant_settings', 'gtm_tenant_setting',
						 'gtm_feature_enabled', 'gtm_update_tenant_settings', 'gtm_invalid_tenant_settings',
						 'gtm_settings_schema', 'gtm_settings_schema_from', 'gtm_check_settings',
						 'gtm_settings_defaults_row', 'gtm_settings_defaults_changed')),
	14, 'the fourteen settings functions are members of the extension');
SELECT ok(EXISTS (SELECT 1 FROM pg_depend
				  WHERE classid = 'pg_class'::regclass AND objid = 'settings_defaults'::regclass
					AND refclassid = 'pg_extension'::regclass AND deptype = 'e'),
		  'settings_defaults is a member of the extension');
SELECT is(
	(SELECT count(*)::int FROM information_schema.columns
	 WHERE table_schema = 'public' AND table_name = 'settings_defaults' AND column_name = 'tenant_id'),
	0, 'no tenant_id column for the tenant-scope check to trip on');

SELECT * FROM finish();
ROLLBACK;
