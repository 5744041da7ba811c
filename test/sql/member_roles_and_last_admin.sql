--
-- Members: roles, the last-admin rule, removal, privileges
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;

\i test/lib/expect_error.sql
\pset null '<null>'
\x auto

-- a known id keeps the messages below stable
INSERT INTO tenants (id, clerk_org_id, name, slug)
VALUES ('00000000-0000-4000-8000-000000000001', 'org_umbrella', 'Umbrella', 'umbrella');
SELECT role FROM gtm_sign_in('org_umbrella', 'user_alice', 'Umbrella');
SELECT role FROM gtm_sign_in('org_umbrella', 'user_bob', 'Umbrella');
SELECT role FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella', NULL, 'manager');
SELECT id AS tid FROM tenants WHERE clerk_org_id = 'org_umbrella' \gset

-- The role type users see.
SELECT enum_range(NULL::gtm_role);

-- Roles change; updated_at moves, created_at does not.
UPDATE tenant_members SET created_at = now() - interval '1 hour'
WHERE tenant_id = :'tid';
BEGIN;
SELECT clerk_user_id, role, updated_at = now() AS touched, created_at < now() AS kept
FROM gtm_set_member_role(:'tid', 'user_bob', 'manager');
COMMIT;
SELECT clerk_user_id, role FROM gtm_set_member_role(:'tid', 'user_bob', 'admin');

-- Two admins: either may step down, not both.
SELECT clerk_user_id, role FROM gtm_set_member_role(:'tid', 'user_alice', 'viewer');
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_set_member_role(%L, 'user_bob', 'viewer')$$, :'tid'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_remove_member(%L, 'user_bob')$$, :'tid'));
-- the rule holds for plain UPDATE / DELETE too
SELECT * FROM pg_temp.expect_error(format($$UPDATE tenant_members SET role = 'manager' WHERE tenant_id = %L$$, :'tid'));
SELECT * FROM pg_temp.expect_error(format($$DELETE FROM tenant_members WHERE tenant_id = %L AND role = 'admin'$$, :'tid'));
SELECT clerk_user_id, role FROM tenant_members WHERE tenant_id = :'tid' ORDER BY clerk_user_id;

-- A repeat sign-in reads the indexes (index-only when VACUUM has marked the
-- pages all-visible): it sees every committed change either way.
VACUUM tenants, tenant_members;
SELECT role, member_created FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella');
SELECT role FROM gtm_set_member_role(:'tid', 'user_carol', 'viewer');
SELECT role, member_created FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella');
VACUUM tenants, tenant_members;
SELECT role, member_created FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella');
SELECT role FROM gtm_set_member_role(:'tid', 'user_carol', 'manager');
SELECT role, member_created FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella');

-- Removing members: returns the removed row.
SELECT clerk_user_id, role FROM gtm_remove_member(:'tid', 'user_carol');
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_remove_member(%L, 'user_carol')$$, :'tid'));
-- a removed member who signs in again is a new member (no stale index read)
SELECT role, member_created FROM gtm_sign_in('org_umbrella', 'user_carol', 'Umbrella');
SELECT clerk_user_id FROM gtm_remove_member(:'tid', 'user_carol');
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_set_member_role(%L, 'user_nobody', 'viewer')$$, :'tid'));
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_member_role('no-such-tenant', 'user_bob', 'viewer')$$);
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_set_member_role(%L, 'user_bob', 'owner')$$, :'tid'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_set_member_role(%L, 'user_bob', NULL)$$, :'tid'));
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_member_role(NULL, 'user_bob', 'viewer')$$);
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_remove_member(%L, NULL)$$, :'tid'));
SELECT * FROM pg_temp.expect_error(format($$SELECT gtm_remove_member(%L, 'bob')$$, :'tid'));
-- direct writes obey the member constraints
SELECT state, message FROM pg_temp.expect_error(format($$INSERT INTO tenant_members VALUES (%L, 'bob')$$, :'tid'));
SELECT * FROM pg_temp.expect_error($$INSERT INTO tenant_members VALUES ('no-such-tenant', 'user_x')$$);
SELECT * FROM pg_temp.expect_error(format($$INSERT INTO tenant_members VALUES (%L, 'user_bob')$$, :'tid'));

-- Deleting a tenant removes its members (the last-admin rule stands aside).
DELETE FROM tenants WHERE id = :'tid';
SELECT count(*) AS members_left FROM tenant_members WHERE tenant_id = :'tid';

-- Privileges: writers are not executable by PUBLIC; the README's GRANTs suffice.
CREATE ROLE gtm_regress_app LOGIN;
SET ROLE gtm_regress_app;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_priv', 'user_1', 'Priv')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_priv', 'Priv')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in_write('org_priv', 'user_1', 'Priv')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_set_member_role('x', 'user_1', 'admin')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_remove_member('x', 'user_1')$$);
-- (a statement on one tenant: the privilege, not the tenant rule, refuses it)
SELECT * FROM pg_temp.expect_error($$SELECT count(*) FROM tenants WHERE id = '00000000-0000-4000-8000-000000000001'$$);
SELECT gtm_slugify('Open To All'), gtm_is_valid_slug('open-to-all');
RESET ROLE;
GRANT SELECT ON tenants, tenant_members TO gtm_regress_app;
GRANT EXECUTE ON FUNCTION gtm_sign_in(text, text, text, text, text),
                          gtm_set_member_role(text, text, gtm_role),
                          gtm_remove_member(text, text) TO gtm_regress_app;
SET ROLE gtm_regress_app;
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_priv', 'user_1', 'Priv');
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_priv', 'user_2', 'Priv');
SELECT clerk_user_id, role FROM gtm_remove_member((SELECT id FROM tenants WHERE clerk_org_id = 'org_priv'), 'user_2');
-- gtm_sign_in's writing half stays out of reach when called directly
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in_write('org_priv', 'user_3', 'Priv')$$);
-- still no direct writes
SELECT * FROM pg_temp.expect_error($$DELETE FROM tenants WHERE clerk_org_id = 'org_priv'$$);
RESET ROLE;
DELETE FROM tenants WHERE clerk_org_id = 'org_priv';
REVOKE ALL ON tenants, tenant_members FROM gtm_regress_app;
REVOKE ALL ON FUNCTION gtm_sign_in(text, text, text, text, text),
                       gtm_set_member_role(text, text, gtm_role),
                       gtm_remove_member(text, text) FROM gtm_regress_app;
DROP ROLE gtm_regress_app;

-- tenant_members is tenant-scoped like an application table, and a join on
-- tenant_id carries the pin to it (same collation as application columns).
CREATE TABLE members_probe (tenant_id text NOT NULL, note text);
SELECT "table", alias, pinned, reason FROM gtm_check_statement($$
  SELECT * FROM members_probe p JOIN tenant_members m ON m.tenant_id = p.tenant_id
   WHERE p.tenant_id = $1$$);
SELECT "table", alias, pinned, reason FROM gtm_check_statement($$
  SELECT m.role FROM tenants t JOIN tenant_members m ON m.tenant_id = t.id
   WHERE m.tenant_id = $1 AND m.clerk_user_id = $2$$);
DROP TABLE members_probe;
