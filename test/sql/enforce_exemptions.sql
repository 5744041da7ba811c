-- enforce_exemptions: PostgreSQL's own queries (foreign keys, ALTER TABLE ...
-- DETACH PARTITION, REFRESH ... CONCURRENTLY) are exempt; user code that runs
-- inside them (triggers, DEFAULT and CHECK functions, rules, functions of a
-- materialized view, index expressions) is checked like any statement.
-- The tables belong to an owner that is neither superuser nor BYPASSRLS, so
-- the foreign-key queries run as a role that is not exempt either; the
-- application role has only its grants and PUBLIC's TEMP.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE regress_exemptions_owner;
CREATE ROLE regress_exemptions_app;
CREATE SCHEMA enforce_exemptions AUTHORIZATION regress_exemptions_owner;
GRANT USAGE ON SCHEMA enforce_exemptions TO regress_exemptions_app;
SET search_path = enforce_exemptions, public;

SET ROLE regress_exemptions_owner;
CREATE TABLE countries (code text PRIMARY KEY);           -- global
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, uid int UNIQUE, stage text,
                    country text REFERENCES countries ON DELETE SET NULL,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int,
                       PRIMARY KEY (tenant_id, id),
                       FOREIGN KEY (tenant_id, deal_id) REFERENCES deals ON DELETE CASCADE);
CREATE TABLE activities (tenant_id text NOT NULL, kind text);
-- a foreign key without the tenant column: its check reads deals by uid alone
CREATE TABLE notes (tenant_id text NOT NULL, deal_uid int REFERENCES deals (uid));
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_exemptions
  TO regress_exemptions_app;
RESET ROLE;

-- as superuser (exempt): the state after each statement
CREATE FUNCTION data() RETURNS TABLE (t text, deals text, contacts bigint, activities bigint, notes bigint)
LANGUAGE sql AS $$
  SELECT tn,
         (SELECT string_agg(id || ':' || coalesce(stage, '-') || ':' || coalesce(country, '-'), ' ' ORDER BY id)
            FROM enforce_exemptions.deals d WHERE d.tenant_id = tn),
         (SELECT count(*) FROM enforce_exemptions.contacts c WHERE c.tenant_id = tn),
         (SELECT count(*) FROM enforce_exemptions.activities a WHERE a.tenant_id = tn),
         (SELECT count(*) FROM enforce_exemptions.notes n WHERE n.tenant_id = tn)
    FROM (VALUES ('t-1'), ('t-2')) v(tn) ORDER BY tn
$$;
REVOKE EXECUTE ON FUNCTION data() FROM PUBLIC;
CREATE FUNCTION reset_data() RETURNS void LANGUAGE sql AS $$
  DELETE FROM enforce_exemptions.notes; DELETE FROM enforce_exemptions.activities;
  DELETE FROM enforce_exemptions.contacts; DELETE FROM enforce_exemptions.deals;
  DELETE FROM enforce_exemptions.countries;
  INSERT INTO enforce_exemptions.countries VALUES ('fr'), ('de');
  INSERT INTO enforce_exemptions.deals VALUES
    ('t-1', 1, 11, 'open', 'fr'), ('t-1', 2, 12, 'open', 'de'), ('t-2', 1, 21, 'open', 'de');
  INSERT INTO enforce_exemptions.contacts VALUES ('t-1', 1, 1), ('t-1', 2, 2), ('t-2', 1, 1);
  INSERT INTO enforce_exemptions.activities VALUES ('t-1', 'call'), ('t-2', 'mail');
$$;
REVOKE EXECUTE ON FUNCTION reset_data() FROM PUBLIC;
SELECT reset_data();
SELECT * FROM data();

-- ================================================================ foreign keys
-- ---------------------------------------------------------------- the RI machinery's own queries stay exempt
SET ROLE regress_exemptions_app;
-- the check (SELECT 1 FROM ONLY deals x WHERE uid = $1 FOR KEY SHARE OF x)
INSERT INTO notes VALUES ('t-1', 21);
INSERT INTO notes VALUES ('t-1', 99);
\echo :LAST_ERROR_SQLSTATE
-- the cascade (DELETE FROM ONLY contacts WHERE ...)
DELETE FROM deals WHERE tenant_id = 't-1' AND id = 2;
-- ON DELETE SET NULL from a global table reaches every tenant's rows, as it
-- does under row-level security: the schema's own rule
DELETE FROM countries WHERE code = 'de';
RESET ROLE;
SELECT * FROM data();
SELECT reset_data();

-- ---------------------------------------------------------------- a trigger inside a cascade
SET ROLE regress_exemptions_app;
CREATE TEMP TABLE p (id int PRIMARY KEY);
CREATE TEMP TABLE c (pid int REFERENCES p ON DELETE CASCADE ON UPDATE CASCADE);
CREATE FUNCTION pg_temp.c_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE enforce_exemptions.deals SET stage = 'x';
  DELETE FROM enforce_exemptions.activities;
  RETURN OLD;
END $$;
CREATE TRIGGER c_wipe BEFORE DELETE ON c FOR EACH ROW EXECUTE FUNCTION pg_temp.c_wipe();
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (1);
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
-- the same trigger with a pinned statement runs
CREATE OR REPLACE FUNCTION pg_temp.c_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE enforce_exemptions.deals SET stage = 'closed' WHERE tenant_id = 't-1' AND id = 1;
  RETURN OLD;
END $$;
DELETE FROM p;
SELECT count(*) AS c_rows FROM c;
RESET ROLE;
SELECT * FROM data();
SELECT reset_data();

-- ---------------------------------------------------------------- ... a row lock, a cursor opened there
SET ROLE regress_exemptions_app;
INSERT INTO p VALUES (1);
INSERT INTO c VALUES (1);
CREATE OR REPLACE FUNCTION pg_temp.c_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM enforce_exemptions.deals FOR UPDATE;
  RETURN OLD;
END $$;
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
CREATE OR REPLACE FUNCTION pg_temp.c_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE cur refcursor := 'leak';
BEGIN
  OPEN cur FOR SELECT * FROM enforce_exemptions.deals;
  RETURN OLD;
END $$;
BEGIN;
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
FETCH ALL FROM leak;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- an AFTER trigger fires once the cascade's query is done: checked as well
DROP TRIGGER c_wipe ON c;
CREATE OR REPLACE FUNCTION pg_temp.c_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM enforce_exemptions.activities;
  RETURN OLD;
END $$;
CREATE TRIGGER c_wipe AFTER DELETE ON c FOR EACH ROW EXECUTE FUNCTION pg_temp.c_wipe();
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
DROP TRIGGER c_wipe ON c;

-- ---------------------------------------------------------------- rules rewrite the cascade's query
CREATE RULE c_also AS ON DELETE TO c DO ALSO DELETE FROM enforce_exemptions.activities;
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
DROP RULE c_also ON c;
CREATE RULE c_instead AS ON DELETE TO c DO INSTEAD
  UPDATE enforce_exemptions.deals SET stage = 'x';
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
DROP RULE c_instead ON c;
CREATE RULE c_qual AS ON DELETE TO c
  WHERE (SELECT count(*) FROM enforce_exemptions.deals) > 0 DO INSTEAD NOTHING;
DELETE FROM p;
\echo :LAST_ERROR_SQLSTATE
DROP RULE c_qual ON c;
RESET ROLE;
SELECT * FROM data();

-- ---------------------------------------------------------------- a DEFAULT under ON DELETE SET DEFAULT
SET ROLE regress_exemptions_app;
CREATE FUNCTION pg_temp.wipe_default() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM enforce_exemptions.activities;
  RETURN 0;
END $$;
CREATE TEMP TABLE cd (pid int DEFAULT pg_temp.wipe_default() REFERENCES p ON DELETE SET DEFAULT);
INSERT INTO p VALUES (0), (2);
INSERT INTO cd VALUES (2);
DELETE FROM p WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cd;
-- IMMUTABLE: folded into a constant while the cascade's query is planned
CREATE FUNCTION pg_temp.count_default() RETURNS int LANGUAGE sql IMMUTABLE AS
  'SELECT count(*)::int - count(*)::int FROM enforce_exemptions.deals';
CREATE TEMP TABLE ci (pid int DEFAULT pg_temp.count_default() REFERENCES p ON DELETE SET DEFAULT);
INSERT INTO ci VALUES (2);
DELETE FROM p WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ci;

-- ---------------------------------------------------------------- a CHECK under ON UPDATE CASCADE
CREATE FUNCTION pg_temp.wipe_check(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  UPDATE enforce_exemptions.deals SET stage = 'x';
  RETURN true;
END $$;
CREATE FUNCTION pg_temp.read_check(int) RETURNS boolean LANGUAGE sql AS
  'SELECT count(*) >= 0 FROM enforce_exemptions.contacts';
CREATE TEMP TABLE cc (pid int REFERENCES p ON UPDATE CASCADE,
                      CHECK (pg_temp.wipe_check(pid)));
INSERT INTO cc VALUES (2);
\echo :LAST_ERROR_SQLSTATE
-- the CHECK runs on the INSERT already; under the cascade as well
ALTER TABLE cc DROP CONSTRAINT cc_pid_check;
INSERT INTO cc VALUES (2);
ALTER TABLE cc ADD CHECK (pg_temp.wipe_check(pid)) NOT VALID;
UPDATE p SET id = 3 WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE cc DROP CONSTRAINT cc_pid_check;
ALTER TABLE cc ADD CHECK (pg_temp.read_check(pid)) NOT VALID;
UPDATE p SET id = 3 WHERE id = 2;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cc;

-- ---------------------------------------------------------------- more places user code runs in a cascade
-- each function misbehaves only for values > 10, i.e. under the cascade
CREATE FUNCTION pg_temp.count_over(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  IF $1 > 10 THEN RETURN (SELECT count(*) FROM enforce_exemptions.deals); END IF;
  RETURN 0;
END $$;
CREATE FUNCTION pg_temp.wipe_over(int) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  IF $1 > 10 THEN DELETE FROM enforce_exemptions.activities; END IF;
  RETURN true;
END $$;
INSERT INTO p VALUES (4), (5), (6);
-- a stored generated column
CREATE TEMP TABLE cg (pid int REFERENCES p ON UPDATE CASCADE,
                      n int GENERATED ALWAYS AS (pg_temp.count_over(pid)) STORED);
INSERT INTO cg (pid) VALUES (4);
UPDATE p SET id = 14 WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cg;
-- an index expression
CREATE TEMP TABLE cx (pid int REFERENCES p ON UPDATE CASCADE);
CREATE INDEX ON cx (pg_temp.count_over(pid));
INSERT INTO cx VALUES (4);
UPDATE p SET id = 14 WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cx;
-- a domain's CHECK
CREATE DOMAIN pg_temp.guarded AS int CHECK (pg_temp.wipe_over(VALUE));
CREATE TEMP TABLE cdm (pid pg_temp.guarded REFERENCES p ON UPDATE CASCADE);
INSERT INTO cdm VALUES (4);
UPDATE p SET id = 14 WHERE id = 4;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cdm;
-- a statement-level trigger (fires even when the cascade finds no row)
CREATE TEMP TABLE cst (pid int REFERENCES p ON DELETE CASCADE);
CREATE FUNCTION pg_temp.cst_wipe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM enforce_exemptions.activities;
  RETURN NULL;
END $$;
CREATE TRIGGER cst_wipe BEFORE DELETE ON cst FOR EACH STATEMENT EXECUTE FUNCTION pg_temp.cst_wipe();
DELETE FROM p WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE cst;
-- the foreign-key check's own text, written in a trigger of the cascade
CREATE TEMP TABLE ctext (pid int REFERENCES p ON DELETE CASCADE);
CREATE FUNCTION pg_temp.ctext_probe() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM ONLY "enforce_exemptions"."deals" x
   WHERE 21 OPERATOR(pg_catalog.=) "uid" FOR KEY SHARE OF x;
  RETURN OLD;
END $$;
CREATE TRIGGER ctext_probe BEFORE DELETE ON ctext FOR EACH ROW EXECUTE FUNCTION pg_temp.ctext_probe();
INSERT INTO ctext VALUES (5);
DELETE FROM p WHERE id = 5;
\echo :LAST_ERROR_SQLSTATE
DROP TABLE ctext;
-- a rejection caught inside the cascade: the cascade goes on, and the
-- foreign-key queries after it are still exempt
CREATE TEMP TABLE ccaught (pid int REFERENCES p ON DELETE CASCADE);
CREATE FUNCTION pg_temp.ccaught_try() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  BEGIN
    UPDATE enforce_exemptions.deals SET stage = 'x';
  EXCEPTION WHEN insufficient_privilege THEN
    RAISE NOTICE 'rejected inside the cascade: %', SQLSTATE;
  END;
  RETURN OLD;
END $$;
CREATE TRIGGER ccaught_try BEFORE DELETE ON ccaught FOR EACH ROW EXECUTE FUNCTION pg_temp.ccaught_try();
INSERT INTO ccaught VALUES (6);
DELETE FROM p WHERE id = 6;
SELECT count(*) AS ccaught_rows FROM ccaught;
INSERT INTO notes VALUES ('t-2', 11);
DROP TABLE ccaught;
RESET ROLE;
SELECT * FROM data();
SELECT reset_data();
SET ROLE regress_exemptions_app;

-- ---------------------------------------------------------------- a foreign key fired from user code inside a cascade
-- (a known limit: it runs where user code runs, so it is checked like user code)
CREATE OR REPLACE FUNCTION pg_temp.c_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enforce_exemptions.notes VALUES ('t-1', 11);
  RETURN OLD;
END $$;
CREATE TRIGGER c_note BEFORE DELETE ON c FOR EACH ROW EXECUTE FUNCTION pg_temp.c_note();
DELETE FROM p WHERE id = 1;
\echo :LAST_ERROR_SQLSTATE
-- with the tenant in the foreign key, its check is pinned and passes
CREATE OR REPLACE FUNCTION pg_temp.c_note() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO enforce_exemptions.contacts VALUES ('t-1', 9, 1);
  RETURN OLD;
END $$;
DELETE FROM p WHERE id = 1;
RESET ROLE;
SELECT * FROM data();
SELECT reset_data();

-- ================================================================ ALTER TABLE
SET ROLE regress_exemptions_app;
CREATE TEMP TABLE x (n int);
INSERT INTO x VALUES (1);
-- a CHECK function run while ALTER TABLE validates: the aliases are no way out
CREATE FUNCTION pg_temp.f_fk() RETURNS boolean LANGUAGE sql AS
  'SELECT count(*) >= 0 FROM enforce_exemptions.contacts fk';
ALTER TABLE x ADD CONSTRAINT k CHECK (pg_temp.f_fk());
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pg_temp.f_fk_pk() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM fk.id FROM enforce_exemptions.contacts fk
    LEFT JOIN enforce_exemptions.deals pk ON pk.tenant_id = fk.tenant_id AND pk.id = fk.deal_id
   WHERE pk.id IS NULL AND fk.deal_id IS NOT NULL;
  RETURN true;
END $$;
ALTER TABLE x ADD CONSTRAINT k CHECK (pg_temp.f_fk_pk());
\echo :LAST_ERROR_SQLSTATE
-- a row lock or a cursor taken there
CREATE FUNCTION pg_temp.f_lock() RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM enforce_exemptions.deals pk FOR UPDATE;
  RETURN true;
END $$;
ALTER TABLE x ADD CONSTRAINT k CHECK (pg_temp.f_lock());
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pg_temp.f_cursor() RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE cur refcursor := 'leak_fk';
BEGIN
  OPEN cur FOR SELECT * FROM enforce_exemptions.contacts fk;
  RETURN true;
END $$;
BEGIN;
ALTER TABLE x ADD CONSTRAINT k CHECK (pg_temp.f_cursor());
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
FETCH ALL FROM leak_fk;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a DEFAULT evaluated by a rewrite, a USING expression
CREATE FUNCTION pg_temp.f_wipe() RETURNS int LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM enforce_exemptions.activities fk;
  RETURN 1;
END $$;
ALTER TABLE x ADD COLUMN m int DEFAULT pg_temp.f_wipe();
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE x ALTER COLUMN n TYPE bigint USING pg_temp.f_wipe();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM x;
RESET ROLE;
SELECT * FROM data();

-- ---------------------------------------------------------------- the owner's migrations keep working
-- ADD FOREIGN KEY / VALIDATE CONSTRAINT check the existing rows row by row
-- (through the exempt queries of the foreign key), as PostgreSQL does when
-- row-level security is enabled
SET ROLE regress_exemptions_owner;
CREATE TABLE refs (tenant_id text NOT NULL, deal_uid int);
INSERT INTO refs VALUES ('t-1', 11);
INSERT INTO refs VALUES ('t-2', 21);
ALTER TABLE refs ADD CONSTRAINT refs_deal FOREIGN KEY (deal_uid) REFERENCES deals (uid);
INSERT INTO refs VALUES ('t-2', 99);
\echo :LAST_ERROR_SQLSTATE
ALTER TABLE refs DROP CONSTRAINT refs_deal;
INSERT INTO refs VALUES ('t-2', 99);
ALTER TABLE refs ADD CONSTRAINT refs_deal FOREIGN KEY (deal_uid) REFERENCES deals (uid) NOT VALID;
ALTER TABLE refs VALIDATE CONSTRAINT refs_deal;
\echo :LAST_ERROR_SQLSTATE
DELETE FROM refs WHERE tenant_id = 't-2' AND deal_uid = 99;
ALTER TABLE refs VALIDATE CONSTRAINT refs_deal;
-- the aliases of the validation query are no way out afterwards
SELECT count(*) FROM refs fk;
\echo :LAST_ERROR_SQLSTATE
-- DETACH PARTITION checks that no row references the partition
CREATE TABLE regions (code int PRIMARY KEY) PARTITION BY RANGE (code);
CREATE TABLE regions_low PARTITION OF regions FOR VALUES FROM (0) TO (100);
CREATE TABLE regions_high PARTITION OF regions FOR VALUES FROM (100) TO (200);
CREATE TABLE sites (tenant_id text NOT NULL, region int REFERENCES regions);
RESET ROLE;
-- the foreign key's clone for regions_low is named sites_region_fkey1 up to
-- PostgreSQL 17 and sites_region_fkey_1 from 18 on: give it one name
DO $$ BEGIN
  EXECUTE format('ALTER TABLE sites RENAME CONSTRAINT %I TO sites_region_low_fkey',
                 (SELECT conname FROM pg_constraint
                   WHERE conrelid = 'sites'::regclass AND confrelid = 'regions_low'::regclass));
END $$;
INSERT INTO regions VALUES (1), (150);
INSERT INTO sites VALUES ('t-1', 1), ('t-2', 1);
SET ROLE regress_exemptions_owner;
ALTER TABLE regions DETACH PARTITION regions_high;
ALTER TABLE regions DETACH PARTITION regions_low;
\echo :LAST_ERROR_SQLSTATE
-- the same query written by hand is checked
SELECT fk.region FROM sites fk JOIN regions_low pk ON pk.code = fk.region;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT tenant_id, region FROM sites ORDER BY tenant_id;

-- ================================================================ REFRESH ... CONCURRENTLY
-- a function of the definition that reads contacts without a tenant condition
CREATE FUNCTION contacts_seen() RETURNS bigint LANGUAGE sql STABLE AS
  'SELECT count(*) FROM enforce_exemptions.contacts';
CREATE MATERIALIZED VIEW deal_stats AS
  SELECT tenant_id, id, stage, contacts_seen() AS seen FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deal_stats (tenant_id, id);
ALTER MATERIALIZED VIEW deal_stats OWNER TO regress_exemptions_owner;
-- a pinned materialized view
CREATE MATERIALIZED VIEW deals_t1 AS
  SELECT tenant_id, id, stage FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deals_t1 (tenant_id, id);
ALTER MATERIALIZED VIEW deals_t1 OWNER TO regress_exemptions_owner;
UPDATE deals SET stage = 'won' WHERE tenant_id = 't-1' AND id = 1;
INSERT INTO contacts VALUES ('t-2', 5, 1);
SET ROLE regress_exemptions_owner;
REFRESH MATERIALIZED VIEW deal_stats;
\echo :LAST_ERROR_SQLSTATE
REFRESH MATERIALIZED VIEW CONCURRENTLY deal_stats;
\echo :LAST_ERROR_SQLSTATE
SELECT id, stage, seen FROM deal_stats WHERE tenant_id = 't-1' ORDER BY id;
-- the comparison of a pinned view is exempt: the changes arrive
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1;
SELECT id, stage FROM deals_t1 WHERE tenant_id = 't-1' ORDER BY id;
RESET ROLE;
-- an index expression of a view runs while the difference is applied
-- (built by a superuser: an index build runs as the view's owner)
CREATE FUNCTION contacts_seen_of(int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
  'SELECT count(*) + $1 - $1 FROM enforce_exemptions.contacts';
CREATE MATERIALIZED VIEW deals_t1_idx AS
  SELECT tenant_id, id, stage FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deals_t1_idx (tenant_id, id);
CREATE INDEX deals_t1_seen ON deals_t1_idx (contacts_seen_of(id));
ALTER MATERIALIZED VIEW deals_t1_idx OWNER TO regress_exemptions_owner;
UPDATE deals SET stage = 'lost' WHERE tenant_id = 't-1' AND id = 1;
SET ROLE regress_exemptions_owner;
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1_idx;
\echo :LAST_ERROR_SQLSTATE
SELECT id, stage FROM deals_t1_idx WHERE tenant_id = 't-1' ORDER BY id;
-- without it the same refresh applies the change
RESET ROLE;
DROP INDEX deals_t1_seen;
SET ROLE regress_exemptions_owner;
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1_idx;
SELECT id, stage FROM deals_t1_idx WHERE tenant_id = 't-1' ORDER BY id;
RESET ROLE;
-- a function of the definition cannot start the comparison early: the
-- ANALYZE it runs is inside the definition's executor, not the REFRESH's
CREATE FUNCTION analyze_then_read() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  IF current_user = 'regress_exemptions_owner' THEN
    EXECUTE format('ANALYZE %I.%I',
                   (SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()),
                   'pg_temp_' || 'enforce_exemptions.deals_forged'::regclass::oid);
    SELECT count(*) INTO n FROM enforce_exemptions.deals;
    RETURN n;
  END IF;
  RETURN 0;
END $$;
CREATE MATERIALIZED VIEW deals_forged AS
  SELECT tenant_id, id, analyze_then_read() AS n FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deals_forged (tenant_id, id);
ALTER MATERIALIZED VIEW deals_forged OWNER TO regress_exemptions_owner;
SET ROLE regress_exemptions_owner;
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_forged;
\echo :LAST_ERROR_SQLSTATE
SELECT id, n FROM deals_forged WHERE tenant_id = 't-1' ORDER BY id;
-- a REFRESH ... CONCURRENTLY run from a function is recognised at its own level
RESET ROLE;
UPDATE deals SET stage = 'reopened' WHERE tenant_id = 't-1' AND id = 1;
SET ROLE regress_exemptions_owner;
DO $$ BEGIN REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1; END $$;
SELECT id, stage FROM deals_t1 WHERE tenant_id = 't-1' ORDER BY id;
RESET ROLE;
-- the view itself is no way out: a function of the definition reading it is
-- checked (the migration role's function: an exempt role runs none of a role
-- the check applies to, round EZ)
CREATE FUNCTION refresh_reader() RETURNS bigint LANGUAGE sql STABLE AS
  'SELECT count(*) FROM enforce_exemptions.deals_t1';
CREATE MATERIALIZED VIEW deals_t1_n AS
  SELECT tenant_id, id, refresh_reader() AS n FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deals_t1_n (tenant_id, id);
ALTER MATERIALIZED VIEW deals_t1_n OWNER TO regress_exemptions_owner;
SET ROLE regress_exemptions_owner;
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1_n;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ------------------------------------------- exemptions follow their tables
-- A dropped table's exemption row goes with it (sql_drop event trigger): a
-- later table that gets the same OID (OIDs wrap around) is not exempt.
CREATE TABLE enforce_exemptions.dropped_soon (tenant_id text NOT NULL, x int);
SELECT gtm_exempt_table('enforce_exemptions.dropped_soon');
SELECT 'enforce_exemptions.dropped_soon'::regclass::oid AS dropped_oid \gset
SELECT count(*) AS rows_of_it FROM tenant_scope_exemptions WHERE relid::oid = :dropped_oid;
ALTER TABLE enforce_exemptions.dropped_soon OWNER TO regress_exemptions_owner;
SET ROLE regress_exemptions_owner;
DROP TABLE enforce_exemptions.dropped_soon;   -- by its owner, not a superuser
RESET ROLE;
SELECT count(*) AS rows_left FROM tenant_scope_exemptions WHERE relid::oid = :dropped_oid;

-- A temporary table cannot be exempt: ON COMMIT DROP, DISCARD and the end of
-- its session drop it without the event trigger, its row would stay.
CREATE TEMP TABLE tmp_tenant (tenant_id text NOT NULL);
SELECT gtm_exempt_table('tmp_tenant');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_of_temp FROM tenant_scope_exemptions WHERE relid::oid = 'tmp_tenant'::regclass::oid;
DROP TABLE tmp_tenant;
SELECT count(*) AS dangling FROM tenant_scope_exemptions e
 WHERE NOT EXISTS (SELECT FROM pg_class c WHERE c.oid = e.relid);

-- ----------------------------------------- a new backend reads the exemptions
-- A backend reads the exemptions table only when its file has a block (an
-- empty file has no row): each shape of the file, read by a new backend and
-- by one that read it before the change.  The data read is the check.
CREATE TABLE enforce_exemptions.ledger (tenant_id text NOT NULL, amount int);
INSERT INTO enforce_exemptions.ledger VALUES ('t-1', 1), ('t-2', 2);
GRANT SELECT ON enforce_exemptions.ledger TO regress_exemptions_app;
TRUNCATE tenant_scope_exemptions;           -- a new file, no block
SELECT pg_relation_size('tenant_scope_exemptions') AS exemptions_bytes;
\c
SET search_path = enforce_exemptions, public;
\set SHOW_CONTEXT never
SET ROLE regress_exemptions_app;
SELECT sum(amount) AS read_with_no_exemption FROM ledger;          -- rejected
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT gtm_exempt_table('enforce_exemptions.ledger');              -- the first row
SELECT pg_relation_size('tenant_scope_exemptions') > 0 AS exemptions_have_a_block;
SET ROLE regress_exemptions_app;
SELECT sum(amount) AS read_by_same_backend FROM ledger;            -- 3: exempt
RESET ROLE;
\c
SET search_path = enforce_exemptions, public;
\set SHOW_CONTEXT never
SET ROLE regress_exemptions_app;
SELECT sum(amount) AS read_by_new_backend FROM ledger;             -- 3: exempt
RESET ROLE;
SELECT gtm_unexempt_table('enforce_exemptions.ledger');            -- no row, a block
SET ROLE regress_exemptions_app;
SELECT sum(amount) AS read_after_unexempt FROM ledger;             -- rejected
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
\c
SET search_path = enforce_exemptions, public;
\set SHOW_CONTEXT never
SET ROLE regress_exemptions_app;
SELECT sum(amount) AS read_by_new_backend_after_unexempt FROM ledger;  -- rejected
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ---------------------------------------------------------------- clean up
DROP SCHEMA enforce_exemptions CASCADE;
DROP OWNED BY regress_exemptions_app, regress_exemptions_owner;
DROP ROLE regress_exemptions_app;
DROP ROLE regress_exemptions_owner;
