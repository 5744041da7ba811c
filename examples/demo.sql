\pset footer off
\echo '== CREATE EXTENSION gtm_clarity'
CREATE EXTENSION gtm_clarity;

\echo '== Ada signs in first under the new Clerk organization org_2acme: tenant created, she is admin'
SELECT * FROM gtm_sign_in('org_2acme', 'user_2ada', 'Acme Analytics, Inc.');

\echo '== Grace signs in under the same organization with Clerk role org:member: she joins as viewer'
SELECT * FROM gtm_sign_in('org_2acme', 'user_2grace', 'Acme Analytics, Inc.', NULL, 'org:member');

\echo '== Ada signs in again: same tenant, nothing written'
SELECT * FROM gtm_sign_in('org_2acme', 'user_2ada', 'Acme Analytics, Inc.');

\echo '== Another organization with a name that slugifies the same gets its own slug'
SELECT * FROM gtm_sign_in('org_2other', 'user_2linus', 'ACME analytics inc');

\echo '== tenants'
SELECT id, clerk_org_id, name, slug, settings, created_at FROM tenants ORDER BY created_at, slug;
\echo '== tenant_members'
SELECT t.slug, m.clerk_user_id, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
ORDER BY t.slug, m.created_at, m.clerk_user_id;

\echo '== A tenant never loses its last admin'
\set ON_ERROR_STOP 0
SELECT gtm_set_member_role(id, 'user_2ada', 'viewer') FROM tenants WHERE clerk_org_id = 'org_2acme';
\set ON_ERROR_STOP 1

SELECT id AS acme FROM tenants WHERE clerk_org_id = 'org_2acme' \gset
\echo '== Settings: the system defaults'
SELECT gtm_default_settings();
\echo '== Acme overrides its time zone and turns on buying groups; the effective settings are the deep merge'
SELECT gtm_update_tenant_settings(:'acme', '{"timezone": "America/New_York", "features": {"buyingGroups": true}}');
SELECT settings AS stored_overrides FROM tenants WHERE id = :'acme';
SELECT gtm_feature_enabled(:'acme', 'buyingGroups') AS buying_groups,
       gtm_tenant_setting(:'acme', '{features,writeback}') AS writeback;
\echo '== A broken setting is never stored'
\set ON_ERROR_STOP 0
SELECT gtm_update_tenant_settings(:'acme', '{"timzone": "Europe/Paris"}');
UPDATE tenants SET settings = '{"timezone": "UTC+5"}' WHERE id = :'acme';
\set ON_ERROR_STOP 1

\echo '== Enforcement: an application table with a tenant_id column is tenant-scoped'
CREATE TABLE deals (tenant_id text NOT NULL REFERENCES tenants (id), id int NOT NULL,
                    stage text, amount numeric, PRIMARY KEY (tenant_id, id));
CREATE ROLE demo_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON deals TO demo_app;
GRANT SELECT ON tenants, tenant_members TO demo_app;
GRANT EXECUTE ON FUNCTION gtm_sign_in(text, text, text, text, text) TO demo_app;
SET ROLE demo_app;
-- one request: a transaction that sets its tenant (gone at COMMIT, so a
-- pooled connection carries nothing to the next request)
BEGIN;
SELECT gtm_set_tenant(:'acme') IS NOT NULL AS tenant_set;
INSERT INTO deals VALUES (gtm_current_tenant(), 1, 'new', 5000), (gtm_current_tenant(), 2, 'won', 12000);
SELECT id, stage, amount FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
COMMIT;
\echo '== ... and a statement not pinned to one tenant is rejected before it reads anything'
\set ON_ERROR_STOP 0
SELECT id, stage, amount FROM deals WHERE stage = 'won';
UPDATE deals SET stage = 'lost' WHERE id = 1;
\set ON_ERROR_STOP 1
\echo '== The checker tells CI which references are pinned, without running anything'
SELECT * FROM gtm_check_statement($$SELECT * FROM deals d JOIN tenant_members m ON m.tenant_id = d.tenant_id WHERE d.tenant_id = $1$$);
RESET ROLE;
