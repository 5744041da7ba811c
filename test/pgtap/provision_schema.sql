-- pgTAP: the provisioning schema (tables, columns, types, constraints,
-- triggers) and who may execute what.
BEGIN;
CREATE EXTENSION IF NOT EXISTS pgtap;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
SELECT plan(64);

-- tenants, exactly as the product page lists it
SELECT has_table('tenants');
SELECT columns_are('tenants', ARRAY['id', 'clerk_org_id', 'name', 'slug', 'settings', 'created_at', 'updated_at']);
SELECT col_type_is('tenants', 'id', 'text');
SELECT col_type_is('tenants', 'clerk_org_id', 'text');
SELECT col_type_is('tenants', 'name', 'text');
SELECT col_type_is('tenants', 'slug', 'text');
SELECT col_type_is('tenants', 'settings', 'jsonb');
SELECT col_type_is('tenants', 'created_at', 'timestamp with time zone');
SELECT col_type_is('tenants', 'updated_at', 'timestamp with time zone');
SELECT col_not_null('tenants', c, 'tenants.' || c || ' is NOT NULL')
  FROM unnest(ARRAY['id', 'clerk_org_id', 'name', 'slug', 'settings', 'created_at', 'updated_at']) c;
SELECT col_is_pk('tenants', 'id');
SELECT col_default_is('tenants', 'id', '(gen_random_uuid())::text');
SELECT col_default_is('tenants', 'settings', '{}'::jsonb);
SELECT col_is_unique('tenants', 'clerk_org_id');
SELECT col_is_unique('tenants', 'slug');
SELECT is((SELECT collname::text FROM pg_attribute a JOIN pg_collation c ON c.oid = a.attcollation
           WHERE attrelid = 'tenants'::regclass AND attname = 'slug'), 'C', 'tenants.slug uses the C collation');
SELECT col_has_check('tenants', c, 'tenants.' || c || ' has a CHECK constraint')
  FROM unnest(ARRAY['id', 'clerk_org_id', 'name', 'slug', 'settings']) c;

-- tenant_members
SELECT has_table('tenant_members');
SELECT columns_are('tenant_members', ARRAY['tenant_id', 'clerk_user_id', 'role', 'created_at', 'updated_at']);
SELECT has_type('gtm_role');
SELECT enum_has_labels('gtm_role', ARRAY['admin', 'manager', 'viewer']);
SELECT col_type_is('tenant_members', 'role', 'gtm_role');
SELECT col_default_is('tenant_members', 'role', 'viewer');
SELECT col_is_pk('tenant_members', ARRAY['tenant_id', 'clerk_user_id']);
SELECT fk_ok('tenant_members', 'tenant_id', 'tenants', 'id');
SELECT is((SELECT confdeltype::text FROM pg_constraint WHERE conname = 'tenant_members_tenant_id_fkey'),
          'c', 'deleting a tenant cascades to its members');
SELECT has_index('tenant_members', 'tenant_members_clerk_user_id_idx', 'clerk_user_id');
SELECT col_has_check('tenant_members', 'clerk_user_id');

-- triggers written in C
SELECT has_trigger('tenants', 'tenants_touch_updated_at');
SELECT has_trigger('tenant_members', 'tenant_members_touch_updated_at');
SELECT has_trigger('tenant_members', 'tenant_members_guard_last_admin');
SELECT function_lang_is('gtm_touch_updated_at', 'c');
SELECT function_lang_is('gtm_guard_last_admin', 'c');

-- pg_dump keeps the rows
SELECT ok(ARRAY['tenants', 'tenant_members'] <@
          (SELECT array_agg(c::regclass::text) FROM pg_extension, unnest(extconfig) c WHERE extname = 'gtm_clarity'),
          'tenants and tenant_members are configuration tables dumped by pg_dump');

-- functions: writers are SECURITY DEFINER with a pinned search_path, not executable by PUBLIC
SELECT is_definer(f) FROM unnest(ARRAY['gtm_provision_tenant', 'gtm_sign_in_write', 'gtm_set_member_role', 'gtm_remove_member']) f;
-- the repeat-sign-in path runs with the caller's rights and writes nothing itself
SELECT isnt_definer('gtm_sign_in');
SELECT ok(NOT has_function_privilege('public', p.oid, 'EXECUTE'), p.proname || ' is not executable by PUBLIC')
  FROM pg_proc p WHERE p.proname IN ('gtm_provision_tenant', 'gtm_sign_in', 'gtm_sign_in_write', 'gtm_set_member_role', 'gtm_remove_member')
  ORDER BY p.proname;
SELECT is(p.proconfig, ARRAY['search_path=pg_catalog, pg_temp'], p.proname || ' pins search_path')
  FROM pg_proc p WHERE p.prosecdef AND p.pronamespace = (SELECT extnamespace FROM pg_extension WHERE extname = 'gtm_clarity')
  AND p.proname IN ('gtm_provision_tenant', 'gtm_sign_in_write', 'gtm_set_member_role', 'gtm_remove_member', 'gtm_guard_last_admin')
  ORDER BY p.proname;
SELECT volatility_is(f, 'immutable') FROM unnest(ARRAY['gtm_slugify', 'gtm_is_valid_slug', 'gtm_is_valid_clerk_org_id',
  'gtm_is_valid_clerk_user_id', 'gtm_is_valid_tenant_name']) f;

SELECT * FROM finish();
ROLLBACK;
