-- pgTAP: the objects of issue 10 (Clerk lifecycle, offboarding, the acting
-- member): who may execute what, SECURITY DEFINER with a pinned
-- search_path, comments, and what pg_dump keeps.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(37);

CREATE ROLE regress_clerk_tap;

-- functions an application role may not call (they write, or read any tenant)
SELECT ok(NOT has_function_privilege('regress_clerk_tap', f, 'EXECUTE'), f || ' is not granted to PUBLIC')
  FROM unnest(ARRAY[
	'gtm_apply_clerk_event(jsonb)',
	'gtm_update_tenant(text, text, text)',
	'gtm_delete_tenant(text, integer, bigint)',
	'gtm_export_tenant(text, integer)',
	'gtm_clerk_tenant(text, text, text)',
	'gtm_clerk_reach(text)',
	'gtm_clerk_apply_org(text, jsonb, text[], text)',
	'gtm_tenant_tables()']) f;
-- functions any role may call (they check, or act for the caller's own member)
SELECT ok(has_function_privilege('regress_clerk_tap', f, 'EXECUTE'), f || ' may be called by any role')
  FROM unnest(ARRAY[
	'gtm_set_tenant(text, boolean, text)',
	'gtm_current_member_role()',
	'gtm_require_role(gtm_role)']) f;

-- SECURITY DEFINER, with search_path pinned
SELECT is_definer(f, a) FROM (VALUES
	('gtm_apply_clerk_event', ARRAY['jsonb']),
	('gtm_update_tenant', ARRAY['text', 'text', 'text']),
	('gtm_clerk_tenant', ARRAY['text', 'text', 'text']),
	('gtm_set_tenant', ARRAY['text', 'boolean', 'text'])) v(f, a);
-- delete and export run with the caller's rights: they reach tables whose
-- triggers, rules and domain checks are written by others
SELECT isnt_definer('gtm_delete_tenant', ARRAY['text', 'integer', 'bigint']);
SELECT isnt_definer('gtm_export_tenant', ARRAY['text', 'integer']);
SELECT is((SELECT count(*)::int FROM pg_proc
            WHERE proname IN ('gtm_apply_clerk_event', 'gtm_update_tenant', 'gtm_delete_tenant',
                              'gtm_export_tenant', 'gtm_clerk_tenant')
              AND 'search_path=pg_catalog, pg_temp' = ANY (proconfig)),
          5, 'the functions of issue 10 pin search_path');
SELECT isnt_definer('gtm_current_member_role', ARRAY[]::text[]);
SELECT isnt_definer('gtm_require_role', ARRAY['gtm_role']);
-- the last-admin rule steps aside only inside these two calls
SELECT is((SELECT array_agg(proname::text ORDER BY proname) FROM pg_proc
            WHERE 'gtm.clerk_sync=on' = ANY (proconfig)),
          ARRAY['gtm_apply_clerk_event', 'gtm_delete_tenant'],
          'only gtm_apply_clerk_event and gtm_delete_tenant turn gtm.clerk_sync on');

-- every function of the extension has a comment
SELECT is((SELECT array_agg(p.oid::regprocedure::text ORDER BY 1) FROM pg_proc p
            JOIN pg_depend d ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e'
            JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'gtm_clarity'
           WHERE obj_description(p.oid, 'pg_proc') IS NULL
             AND p.proname IN ('gtm_apply_clerk_event', 'gtm_update_tenant', 'gtm_delete_tenant',
                               'gtm_export_tenant', 'gtm_clerk_tenant', 'gtm_clerk_reach', 'gtm_tenant_tables',
                               'gtm_current_member_role', 'gtm_require_role', 'gtm_set_tenant',
                               'gtm_role_from_clerk', 'gtm_clerk_apply_org', 'gtm_clerk_event_field',
                               'gtm_clerk_event_id', 'gtm_clerk_event_ms')
             AND p.oid <> 'gtm_set_tenant(text, boolean)'::regprocedure),
          NULL, 'every function of issue 10 has a comment');
SELECT volatility_is('gtm_role_from_clerk', ARRAY['text'], 'stable');

-- the role map and the sync state
SELECT has_table('clerk_role_map');
SELECT col_is_pk('clerk_role_map', 'clerk_role');
SELECT col_type_is('clerk_role_map', 'role', 'gtm_role');
SELECT has_trigger('clerk_role_map', 'clerk_role_map_guard_builtin');
SELECT ok(has_table_privilege('regress_clerk_tap', 'clerk_role_map', 'SELECT'), 'anyone may read the role map');
SELECT ok(NOT has_table_privilege('regress_clerk_tap', 'clerk_role_map', 'INSERT'), 'only its owner may extend the role map');
SELECT has_table('clerk_sync_state');
SELECT col_is_pk('clerk_sync_state', ARRAY['clerk_org_id', 'clerk_user_id']);
SELECT ok(NOT has_table_privilege('regress_clerk_tap', 'clerk_sync_state', 'SELECT'), 'the sync state is not readable by PUBLIC');
SELECT is((SELECT extcondition[array_position(extconfig, 'clerk_role_map'::regclass)] FROM pg_extension WHERE extname = 'gtm_clarity'),
          'WHERE NOT builtin', 'pg_dump keeps the operator''s role keys, not the built-in ones');
SELECT is((SELECT extcondition[array_position(extconfig, 'clerk_sync_state'::regclass)] FROM pg_extension WHERE extname = 'gtm_clarity'),
          '', 'pg_dump keeps the sync state');
SELECT is((SELECT count(*)::int FROM clerk_role_map WHERE builtin), 8, 'eight built-in role keys');

-- the GUCs
SELECT is(current_setting('gtm.clerk_sync'), 'off', 'gtm.clerk_sync is off outside the calls');
SELECT is(current_setting('gtm.member'), '', 'no acting member by default');

SELECT * FROM finish();
ROLLBACK;
