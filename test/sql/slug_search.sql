--
-- Free derived slugs with many tenants of the same name (issue 17): the
-- search probes exact slugs in tenants_slug_key (doubling the suffix, then
-- bisecting), so it costs at most 2 * log2(n) + 2 index probes for n
-- tenants that share the base, not a read of all n of them.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;

-- 20,000 tenants named "Zorblax": zorblax, zorblax-2, ..., zorblax-20000; and slugs
-- that share the prefix without being suffixes of "zorblax"
INSERT INTO tenants (clerk_org_id, name, slug)
SELECT 'org_slugs' || i, 'Zorblax', CASE WHEN i = 1 THEN 'zorblax' ELSE 'zorblax-' || i END
FROM generate_series(1, 20000) i;
INSERT INTO tenants (clerk_org_id, name, slug)
VALUES ('org_slugsx1', 'Zorblax 20001 X', 'zorblax-20001-x'), ('org_slugsx2', 'Zorblax Inc', 'zorblax-inc'),
       ('org_slugsx3', 'Zorblax 020001', 'zorblax-020001'), ('org_slugsx4', 'Zorblax 200010', 'zorblax-200010');

-- the next one gets zorblax-20001; the index scans of tenants_slug_key in the
-- transaction are the probes plus the INSERT's own uniqueness check
BEGIN;
SELECT pg_stat_get_xact_numscans('tenants_slug_key'::regclass) AS scans_before \gset
SELECT role, tenant_created FROM gtm_sign_in('org_slugsnew1', 'user_1', 'ZORBLAX');
SELECT slug FROM tenants WHERE clerk_org_id = 'org_slugsnew1';
SELECT pg_stat_get_xact_numscans('tenants_slug_key'::regclass) - :scans_before AS index_scans,
       pg_stat_get_xact_numscans('tenants_slug_key'::regclass) - :scans_before
         <= floor(2 * log(2, 20000)) + 2 + 1 AS within_2_log2_n_plus_3;
COMMIT;

-- 20,001 tenants share the base: still about 2 * log2(n) probes
BEGIN;
SELECT pg_stat_get_xact_numscans('tenants_slug_key'::regclass) AS scans_before \gset
SELECT slug FROM gtm_provision_tenant('org_slugsnew2', 'zorblax');
SELECT pg_stat_get_xact_numscans('tenants_slug_key'::regclass) - :scans_before AS index_scans;
COMMIT;

-- gaps: a free suffix whose predecessor is taken is chosen, found by the
-- same doubling and bisecting; a free base or a free "-2" is taken first
DELETE FROM tenants WHERE slug IN ('zorblax-7', 'zorblax-16000');
SELECT slug FROM gtm_provision_tenant('org_slugsnew3', 'Zorblax');
DELETE FROM tenants WHERE slug = 'zorblax-2';
SELECT slug FROM gtm_provision_tenant('org_slugsnew4', 'Zorblax');
DELETE FROM tenants WHERE slug = 'zorblax';
SELECT slug FROM gtm_provision_tenant('org_slugsnew5', 'Zorblax');

-- a base of the longest derived length (90) still fits a suffix
INSERT INTO tenants (clerk_org_id, name, slug)
VALUES ('org_slugslong1', 'long', repeat('x', 90)), ('org_slugslong2', 'long', repeat('x', 90) || '-2');
SELECT length(slug), right(slug, 12) FROM gtm_provision_tenant('org_slugslong3', repeat('x', 120));

-- an explicit slug is used as given, or is an error when taken
SELECT * FROM (SELECT slug FROM gtm_provision_tenant('org_slugsnew6', 'Zorblax', 'zorblax-20001')) s;
SELECT slug FROM gtm_provision_tenant('org_slugsnew6', 'Zorblax', 'zorblax-7');

SELECT count(*) AS zorblax_tenants, count(DISTINCT slug) AS distinct_slugs
FROM tenants WHERE clerk_org_id LIKE 'org_slugs%';
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_slugs%';
