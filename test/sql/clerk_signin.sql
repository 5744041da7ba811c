--
-- Clerk sign-in inputs (issue 10 items 2 and 3): the role map as data, a
-- repeat sign-in that never fails on the inputs it ignores, Clerk slugs
-- normalised, names in NFC before slugifying.
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;

\i test/lib/expect_error.sql
\pset null '<null>'

SELECT pg_catalog.getdatabaseencoding();

-- NFC before slugify: precomposed and decomposed spellings give one slug.
SELECT gtm_slugify('Café Müller') AS nfc,
       gtm_slugify(normalize('Café Müller', NFD)) AS nfd,
       normalize('Café Müller', NFD) <> 'Café Müller' AS nfd_differs;
SELECT n, gtm_slugify(normalize(n, NFD)) = gtm_slugify(normalize(n, NFC)) AS same,
       gtm_slugify(normalize(n, NFD)) AS slug
FROM unnest(ARRAY['Ærø Fiskeri', 'Señor Niño', 'Åsa & Öland', 'Crème Brûlée', 'Zoë', 'ÇA']) n;
-- a first sign-in with an NFD name derives the NFC slug
SELECT role, tenant_created FROM gtm_sign_in('org_nfd1', 'user_nfd1', normalize('Café Müller', NFD));
SELECT slug, name = normalize('Café Müller', NFD) AS name_as_given FROM tenants WHERE clerk_org_id = 'org_nfd1';

-- A Clerk slug our rule rejects is normalised on the first sign-in.
SELECT role, tenant_created FROM gtm_sign_in('org_slug1', 'user_s1', 'Acme X', 'Acme_X');
SELECT role, tenant_created FROM gtm_sign_in('org_slug2', 'user_s2', 'Acme Again', 'acme--x');
SELECT role, tenant_created FROM gtm_sign_in('org_slug3', 'user_s3', 'Third', '-Acme_X-');
SELECT role, tenant_created FROM gtm_sign_in('org_slug4', 'user_s4', 'Nothing Usable', '___');
SELECT role, tenant_created FROM gtm_sign_in('org_slug5', 'user_s5', 'Long', repeat('Ab_', 60));
SELECT role, tenant_created FROM gtm_sign_in('org_slug6', 'user_s6', 'Empty slug', '');
SELECT clerk_org_id, slug, gtm_is_valid_slug(slug) AS valid
FROM tenants WHERE clerk_org_id LIKE 'org_slug%' ORDER BY clerk_org_id;
-- a valid Clerk slug held by another tenant gives a free slug derived from it
SELECT role, tenant_created FROM gtm_sign_in('org_slug7', 'user_s7', 'Seven', 'acme-x');
SELECT slug FROM tenants WHERE clerk_org_id = 'org_slug7';
-- gtm_provision_tenant keeps its strict rule (an explicit slug)
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_strict', 'Strict', 'Acme_X')$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_provision_tenant('org_strict', 'Strict', 'acme-x')$$);
SELECT count(*) AS strict_tenants FROM tenants WHERE clerk_org_id = 'org_strict';

-- A repeat sign-in never fails on what it ignores: name, slug, role key.
SELECT role, tenant_created, member_created
FROM gtm_sign_in('org_slug1', 'user_s1', '', 'Bad Slug!', 'org:owner');
SELECT role, tenant_created, member_created
FROM gtm_sign_in('org_slug1', 'user_s1', E'\u202Eevil', repeat('x', 500), repeat('r', 100000));
SELECT role, tenant_created, member_created
FROM gtm_sign_in('org_slug1', 'user_s1', NULL, NULL, NULL);
-- ... and it changed nothing
SELECT name, slug FROM tenants WHERE clerk_org_id = 'org_slug1';
SELECT clerk_user_id, role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
WHERE t.clerk_org_id = 'org_slug1';
-- A new member of an existing organization: name and slug are ignored too,
SELECT role, tenant_created, member_created
FROM gtm_sign_in('org_slug1', 'user_s1b', '', 'Bad Slug!', 'org:member');
-- but the role key is used: an unknown key names itself and how to map it.
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_slug1', 'user_s1c', '', NULL, 'org:owner')$$);
SELECT count(*) AS not_added FROM tenant_members WHERE clerk_user_id = 'user_s1c';
-- The first sign-in of an organization still needs a name it can use.
SELECT state, message, detail FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_noname', 'user_nn', '')$$);
SELECT count(*) AS not_created FROM tenants WHERE clerk_org_id = 'org_noname';

-- The role map is a table; the operator maps custom Clerk roles.
SELECT clerk_role, role FROM clerk_role_map ORDER BY clerk_role;
INSERT INTO clerk_role_map (clerk_role, role) VALUES ('org:owner', 'admin'), ('org:billing', 'viewer');
SELECT role, member_created FROM gtm_sign_in('org_slug1', 'user_s1c', '', NULL, 'org:owner');
SELECT role, member_created FROM gtm_sign_in('org_slug1', 'user_s1d', '', NULL, 'org:billing');
SELECT gtm_role_from_clerk('org:owner'), gtm_role_from_clerk('org:billing');
SELECT * FROM pg_temp.expect_error($$SELECT gtm_role_from_clerk('org:nobody')$$);
-- a removed mapping is unknown again
DELETE FROM clerk_role_map WHERE clerk_role = 'org:billing';
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_slug1', 'user_s1e', '', NULL, 'org:billing')$$);
-- the extension's own keys cannot be changed or removed (they are not dumped)
SELECT * FROM pg_temp.expect_error($$UPDATE clerk_role_map SET role = 'admin' WHERE clerk_role = 'org:member'$$);
SELECT * FROM pg_temp.expect_error($$DELETE FROM clerk_role_map WHERE clerk_role = 'org:admin'$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO clerk_role_map (clerk_role, role, builtin) VALUES ('org:x', 'admin', true)$$);
SELECT state, message FROM pg_temp.expect_error($$INSERT INTO clerk_role_map (clerk_role, role) VALUES ('', 'admin')$$);
SELECT clerk_role, role FROM clerk_role_map WHERE builtin AND clerk_role IN ('org:member', 'org:admin') ORDER BY 1;
-- only the operator's rows are dumped
SELECT extcondition[array_position(extconfig, 'clerk_role_map'::regclass)] AS dumped_rows
FROM pg_extension WHERE extname = 'gtm_clarity';
