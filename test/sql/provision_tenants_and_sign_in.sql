--
-- Provisioning: tenants, slugs, gtm_provision_tenant, gtm_sign_in
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;

\i test/lib/expect_error.sql
\pset null '<null>'
\x auto

-- Slugs derived from display names.
SELECT left(name, 24) AS name, gtm_slugify(name) AS slug
FROM (VALUES ('Acme Inc.'), ('  --Hello   World--  '), ('Café Müller'),
             ('ÆSIR Straße Ølen'), ('A_B/C.D'), ('株式会社'), ('2024 Q1 — Plan'),
             ('!!!'), (repeat('abc ', 40))) AS t(name);
SELECT length(gtm_slugify(repeat('abc ', 40))) AS derived_max;

-- A new organization: a row with a UUID id, the derived slug, empty settings.
SELECT clerk_org_id, name, slug, settings,
       id ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' AS id_is_uuid,
       created_at = updated_at AS fresh
FROM gtm_provision_tenant('org_acme1', 'Acme Inc.');

-- Idempotent: the same organization again is returned unchanged (same id,
-- original name), and the row is not written (same xmin).
CREATE TEMP TABLE before AS SELECT id, xmin::text AS row_version FROM tenants WHERE clerk_org_id = 'org_acme1';
SELECT p.id = b.id AS same_id, p.name, p.slug,
       (SELECT xmin::text FROM tenants WHERE clerk_org_id = 'org_acme1') = b.row_version AS not_written
FROM gtm_provision_tenant('org_acme1', 'Acme Renamed', 'other-slug', '{}') p, before b;

-- Slugs taken by other organizations get deterministic suffixes.
SELECT slug FROM gtm_provision_tenant('org_acme2', 'ACME inc');
SELECT slug FROM gtm_provision_tenant('org_acme3', 'acme, inc!');
SELECT slug FROM gtm_provision_tenant('org_acme4', 'Acme Inc');
-- the smallest free suffix is reused
DELETE FROM tenants WHERE clerk_org_id = 'org_acme2';
SELECT slug FROM gtm_provision_tenant('org_acme5', 'Acme Inc');
-- "acme-inc-2" in use does not confuse a base that merely shares a prefix
SELECT slug FROM gtm_provision_tenant('org_acme6', 'Acme Inc 2');
-- explicit slug, settings
SELECT slug, settings FROM gtm_provision_tenant('org_globex', 'Globex', 'globex-corp', '{"timezone": "UTC"}');
-- a name without a usable character: the slug comes from the organization id
SELECT slug FROM gtm_provision_tenant('org_XyZ9', '株式会社');

-- Bad input: a clear error with its SQLSTATE, and nothing written.
CREATE TEMP TABLE n AS SELECT count(*) AS tenants FROM tenants;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant(NULL, 'x')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', NULL, NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_', 'New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org-abc', 'New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_ab-c', 'New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_' || repeat('a', 125), 'New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', '')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', '    ')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', U&'\00A0\3000')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', repeat('é', 257))$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', E'Acme\nInc')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', U&'Acme\0085Inc')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', 'Acme')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', 'acme--inc')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', '-acme')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', 'acme_inc')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', '')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', repeat('a', 101))$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', 'acme-inc')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', NULL, '[]')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', NULL, '"x"')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_new1', 'New', NULL, 'null')$$);
SELECT (SELECT count(*) FROM tenants) = n.tenants AS nothing_written FROM n;
-- 256 characters is the limit, not an error
SELECT char_length(name) FROM gtm_provision_tenant('org_long', repeat('é', 256));

-- The table's constraints hold for direct writes too.
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('org_d1', 'D', 'Bad Slug')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('user_d1', 'D', 'd1')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('org_d1', ' ', 'd1')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES ('42', 'org_d1', 'D', 'd1')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug, settings) VALUES ('org_d1', 'D', 'd1', '[1]')$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO tenants (clerk_org_id, name, slug) VALUES ('org_acme1', 'D', 'd1')$$);
SELECT state, message FROM pg_temp.expect_error($$UPDATE tenants SET slug = 'globex-corp' WHERE clerk_org_id = 'org_acme1'$$);
SELECT state, message FROM pg_temp.expect_error($$UPDATE tenants SET name = NULL WHERE clerk_org_id = 'org_acme1'$$);

-- updated_at is maintained on every UPDATE, whatever it is set to.
BEGIN;
UPDATE tenants SET updated_at = '2000-01-01', created_at = now() - interval '1 day'
WHERE clerk_org_id = 'org_globex';
SELECT updated_at = now() AS touched, updated_at > created_at AS after_creation
FROM tenants WHERE clerk_org_id = 'org_globex';
COMMIT;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_touch_updated_at()$$);

-- gtm_sign_in: Step 2 of the product page in one call.
SELECT tenant_id IS NOT NULL AS has_tenant, role, tenant_created, member_created
FROM gtm_sign_in('org_initech', 'user_peter', 'Initech');
SELECT t.name, t.slug, m.clerk_user_id, m.role
FROM tenants t JOIN tenant_members m ON m.tenant_id = t.id WHERE t.clerk_org_id = 'org_initech';
-- the first member is admin; later ones get their mapped Clerk role (viewer when none)
SELECT u AS clerk_user_id, r AS clerk_role, s.role, s.tenant_created, s.member_created
FROM (VALUES ('user_bill', NULL), ('user_michael', 'org:manager'), ('user_samir', 'basic_member'),
             ('user_joanna', 'org:admin'), ('user_milton', 'org:member')) AS v(u, r),
     LATERAL gtm_sign_in('org_initech', u, 'Initech', NULL, r) s;
-- every caller of one organization gets the same tenant id
SELECT count(DISTINCT s.tenant_id) AS tenants
FROM (VALUES ('user_peter'), ('user_bill'), ('user_new')) AS v(u),
     LATERAL gtm_sign_in('org_initech', u, 'Initech') s;
-- a repeat sign-in returns the stored role, ignores a new Clerk role, and writes nothing
CREATE TEMP TABLE m_before AS
	SELECT m.clerk_user_id, m.xmin::text AS row_version FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
	WHERE t.clerk_org_id = 'org_initech';
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_initech', 'user_bill', 'Initech Renamed', NULL, 'org:admin');
SELECT count(*) AS rewritten FROM m_before b JOIN tenant_members m USING (clerk_user_id) WHERE m.xmin::text <> b.row_version;
SELECT name FROM tenants WHERE clerk_org_id = 'org_initech';
-- a tenant provisioned without members: its first signed-in user is admin whatever Clerk says
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_globex', 'user_hank', 'Globex', NULL, 'org:member');
-- an explicit Clerk slug is used for a new tenant
SELECT tenant_created FROM gtm_sign_in('org_hooli', 'user_gavin', 'Hooli', 'hooli-xyz');
SELECT slug FROM tenants WHERE clerk_org_id = 'org_hooli';

-- Clerk role keys.
SELECT k, gtm_role_from_clerk(k)
FROM unnest(ARRAY['org:admin', 'admin', 'org:manager', 'manager', 'org:member',
                  'basic_member', 'org:viewer', 'viewer']) AS k;

-- Bad sign-in input: error, and neither tenant nor member written.
CREATE TEMP TABLE n2 AS SELECT (SELECT count(*) FROM tenants) AS t, (SELECT count(*) FROM tenant_members) AS m;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_1', 'Brand New', NULL, 'org:owner')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_1', 'Brand New', NULL, '')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', NULL, 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'usr_1', 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_1!', 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_', 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org brandnew', 'user_1', 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in(NULL, 'user_1', 'Brand New')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_1', NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_brandnew', 'user_1', E'Brand\u0007New')$$);
-- (a Clerk slug our rule rejects, or one another tenant holds, is no error
-- on sign-in: it is normalised, see clerk_signin)
SELECT * FROM pg_temp.expect_error($$SELECT gtm_role_from_clerk('owner')$$);
SELECT (SELECT count(*) FROM tenants) = n2.t AS no_tenant, (SELECT count(*) FROM tenant_members) = n2.m AS no_member FROM n2;
