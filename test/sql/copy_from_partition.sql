-- copy_from_partition: a partition that computes its tenant column under a
-- parent whose column is plain (PostgreSQL 15 and 16 allow it; 17 refuses
-- the ATTACH: test/expected/copy_from_partition_1.out).  A COPY or INSERT
-- through the parent could store a tenant no row gave: refused before any
-- row is read, and nothing is stored.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA copy_from_partition;
SET search_path = copy_from_partition, public;
CREATE ROLE regress_copy_part_app;
GRANT USAGE ON SCHEMA copy_from_partition TO regress_copy_part_app;
\set T1 '''11111111-1111-4111-8111-111111111111'''
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_copypart1', 'Copy Part One', 'copy-part-one');
-- a partition that computes its tenant column under a parent whose column
-- is plain: a COPY (or INSERT) through the parent could store a tenant no
-- row gave, so it is refused before any row is read
CREATE TABLE mixed (n int, tenant_id text NOT NULL) PARTITION BY RANGE (n);
CREATE TABLE mixed_plain PARTITION OF mixed FOR VALUES FROM (0) TO (100);
CREATE TABLE mixed_gen (n int, tenant_id text NOT NULL
  GENERATED ALWAYS AS ('22222222-2222-4222-8222-222222222222') STORED);
-- (attached while gtm.tenant_column names another column: the extension
-- refuses to attach a partition computing the tenant column, as PostgreSQL
-- 17 does; such a partition stands for one attached before the extension
-- was created)
SET gtm.tenant_column = 'none'; ALTER TABLE mixed ATTACH PARTITION mixed_gen FOR VALUES FROM (100) TO (200); RESET gtm.tenant_column;
GRANT SELECT, INSERT ON mixed TO regress_copy_part_app;
SET ROLE regress_copy_part_app;
BEGIN;
SELECT gtm_set_tenant(:T1, true) IS NOT NULL AS set;
COPY mixed (n, tenant_id) FROM STDIN;
50	11111111-1111-4111-8111-111111111111
160	11111111-1111-4111-8111-111111111111
\.
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T1, true) IS NOT NULL AS set;
INSERT INTO mixed VALUES (151, :T1);
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET ROLE;
-- a DELETE through the parent routes no row: accepted (round EN)
INSERT INTO mixed VALUES (7, :T1);
GRANT DELETE ON mixed TO regress_copy_part_app;
SET ROLE regress_copy_part_app;
DELETE FROM mixed WHERE tenant_id = :T1 AND n = 7;
RESET ROLE;
SELECT tableoid::regclass, n, tenant_id FROM mixed ORDER BY n;
SET client_min_messages = warning;
DROP SCHEMA copy_from_partition CASCADE;
RESET client_min_messages;
DROP OWNED BY regress_copy_part_app;
DROP ROLE regress_copy_part_app;
DELETE FROM tenants WHERE clerk_org_id = 'org_copypart1';
