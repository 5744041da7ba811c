-- enforce_writes_partition_generated: foreign-key actions into partitions
-- that generate a column their parent keeps plain (rounds AA, AC).
-- PostgreSQL 15 lets a partition generate a column its parent keeps plain;
-- 16 and later refuse that schema, so there is nothing to check there
-- (expected output enforce_writes_partition_generated_1.out).
-- Run as an ordinary role; the rows are checked as superuser.
SELECT current_setting('server_version_num')::int >= 160000 AS pg16_or_later \gset
\if :pg16_or_later
\echo PostgreSQL 16 and later refuse a partition that generates a column its parent keeps plain: nothing to check
\quit
\endif
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_pgen;
SET search_path = enforce_pgen, public;
CREATE ROLE regress_enforce_pgen;
GRANT USAGE ON SCHEMA enforce_pgen TO regress_enforce_pgen;

-- 1. a partition computes its tenant from the referencing column, its
--    columns in another order than its parent's (judged in its own numbers)
CREATE TABLE regions (code text PRIMARY KEY);
INSERT INTO regions VALUES ('1');
CREATE TABLE gp (region text NOT NULL REFERENCES regions ON UPDATE CASCADE, tenant_id text, v int)
  PARTITION BY LIST (v);
CREATE TABLE gp1 (junk int, v int, tenant_id text GENERATED ALWAYS AS ('t-' || region) STORED,
                  region text NOT NULL);
ALTER TABLE gp1 DROP COLUMN junk;
-- (attached while gtm.tenant_column names another column: the extension
-- refuses to attach a partition computing the tenant column, as PostgreSQL
-- 17 does; such a partition stands for one attached before the extension
-- was created)
SET gtm.tenant_column = 'none'; ALTER TABLE gp ATTACH PARTITION gp1 FOR VALUES IN (1); RESET gtm.tenant_column;
INSERT INTO gp (region, v) VALUES ('1', 1);
-- 2. a key only a partition generates, from the column the UPDATE writes
CREATE TABLE keyed (p int NOT NULL, name text, code text, UNIQUE (p, code)) PARTITION BY LIST (p);
CREATE TABLE keyed1 (p int NOT NULL, name text, code text GENERATED ALWAYS AS (lower(name)) STORED);
ALTER TABLE keyed ATTACH PARTITION keyed1 FOR VALUES IN (1);
INSERT INTO keyed (p, name) VALUES (1, 'T-1');
CREATE TABLE kleaf (p int, tenant_id text, v int,
                    FOREIGN KEY (p, tenant_id) REFERENCES keyed (p, code) ON UPDATE CASCADE);
INSERT INTO kleaf VALUES (1, 't-1', 1);
-- 3. a row moved into the partition that generates the key
CREATE TABLE moved (p int NOT NULL, name text, code text, UNIQUE (p, code)) PARTITION BY LIST (p);
CREATE TABLE moved1 PARTITION OF moved FOR VALUES IN (1);
CREATE TABLE moved2 (p int NOT NULL, name text, code text GENERATED ALWAYS AS (lower(name)) STORED);
ALTER TABLE moved ATTACH PARTITION moved2 FOR VALUES IN (2);
INSERT INTO moved (p, name, code) VALUES (1, 'T-2', 't-1');
CREATE TABLE mleaf (p int, tenant_id text, v int,
                    FOREIGN KEY (p, tenant_id) REFERENCES moved (p, code) ON UPDATE CASCADE);
INSERT INTO mleaf VALUES (1, 't-1', 1);
-- 4. ON DELETE SET NULL into a parent's NOT NULL tenant column, which a
--    partition generates (the action does not fail there)
CREATE TABLE deals (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
INSERT INTO deals VALUES ('t-1', 1), ('t-2', 1);
CREATE TABLE notes (tenant_id text NOT NULL, deal_id int, v int,
                    FOREIGN KEY (tenant_id, deal_id) REFERENCES deals ON DELETE SET NULL)
  PARTITION BY LIST (v);
CREATE TABLE notes1 (v int, deal_id int,
                     tenant_id text NOT NULL GENERATED ALWAYS AS
                       (CASE WHEN deal_id IS NULL THEN 't-2' ELSE 't-1' END) STORED);
SET gtm.tenant_column = 'none'; ALTER TABLE notes ATTACH PARTITION notes1 FOR VALUES IN (1); RESET gtm.tenant_column;
INSERT INTO notes (deal_id, v) VALUES (1, 1);
-- 5. an action writing the partition key moves a row into a partition that
--    generates its tenant (round AD)
CREATE TABLE kinds (tenant_id text NOT NULL, kind text NOT NULL, PRIMARY KEY (tenant_id, kind));
CREATE TABLE items (tenant_id text NOT NULL, kind text NOT NULL, owner text, id int) PARTITION BY LIST (kind);
CREATE TABLE items_x PARTITION OF items FOR VALUES IN ('x');
CREATE TABLE items_y (tenant_id text NOT NULL GENERATED ALWAYS AS (owner) STORED, kind text NOT NULL,
                      owner text, id int);
SET gtm.tenant_column = 'none'; ALTER TABLE items ATTACH PARTITION items_y FOR VALUES IN ('y'); RESET gtm.tenant_column;
ALTER TABLE items ADD FOREIGN KEY (tenant_id, kind) REFERENCES kinds (tenant_id, kind) ON UPDATE CASCADE;
INSERT INTO kinds VALUES ('t-2', 'x'), ('t-1', 'y');
INSERT INTO items (tenant_id, kind, owner, id) VALUES ('t-2', 'x', 't-1', 1);
GRANT SELECT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_pgen TO regress_enforce_pgen;

SET ROLE regress_enforce_pgen;
UPDATE regions SET code = '2' WHERE code = '1';
UPDATE keyed SET name = 'T-2' WHERE p = 1;
UPDATE moved SET p = 2 WHERE p = 1;
DELETE FROM deals WHERE tenant_id = 't-1' AND id = 1;
UPDATE kinds SET kind = 'y' WHERE tenant_id = 't-2' AND kind = 'x';
RESET ROLE;
-- every row keeps its tenant
SELECT region, tenant_id, v FROM gp ORDER BY v;
SELECT p, tenant_id, v FROM kleaf ORDER BY v;
SELECT p, tenant_id, v FROM mleaf ORDER BY v;
SELECT tenant_id, deal_id, v FROM notes ORDER BY v;
SELECT tableoid::regclass AS part, tenant_id, kind, owner, id FROM items ORDER BY id;

SET client_min_messages = warning;
DROP SCHEMA enforce_pgen CASCADE;
DROP OWNED BY regress_enforce_pgen;
DROP ROLE regress_enforce_pgen;
