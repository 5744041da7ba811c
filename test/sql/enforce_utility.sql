-- enforce_utility: TRUNCATE (with what CASCADE reaches), LOCK TABLE (the
-- modes an application role may take on a tenant table), COPY, and the
-- checker's verdicts on COPY (query), PREPARE, EXECUTE, TRUNCATE ... CASCADE
-- and LOCK TABLE.  Run as an ordinary role; the data is checked afterwards.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA enforce_utility;
SET search_path = enforce_utility, public;
CREATE ROLE regress_utility_app;
CREATE ROLE regress_utility_bypass BYPASSRLS;
GRANT USAGE ON SCHEMA enforce_utility TO regress_utility_app, regress_utility_bypass;

CREATE TABLE countries (code text PRIMARY KEY);                      -- global
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    country text REFERENCES countries,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int,
                       PRIMARY KEY (tenant_id, id),
                       FOREIGN KEY (tenant_id, deal_id) REFERENCES deals);
CREATE TABLE activities (tenant_id text NOT NULL, kind text);
-- global tables referencing each other only, then a chain that ends in a
-- tenant table two foreign keys away
CREATE TABLE currencies (code text PRIMARY KEY);
CREATE TABLE rates (currency text REFERENCES currencies, rate numeric);
CREATE TABLE zones (code text PRIMARY KEY);
CREATE TABLE zone_codes (code text PRIMARY KEY, zone text REFERENCES zones);
CREATE TABLE shipments (tenant_id text NOT NULL, zone_code text REFERENCES zone_codes);
-- a global parent with a tenant child (inheritance), a view over deals
CREATE TABLE things (n int);
CREATE TABLE tenant_things (tenant_id text NOT NULL) INHERITS (things);
CREATE VIEW open_deals AS SELECT * FROM deals WHERE stage = 'open';
CREATE VIEW open_deals_of_t1 AS SELECT * FROM open_deals WHERE tenant_id = 't-1';
-- a tenant table partitioned by tenant
CREATE TABLE events (tenant_id text NOT NULL, n int) PARTITION BY LIST (tenant_id);
CREATE TABLE events_t1 PARTITION OF events FOR VALUES IN ('t-1');
CREATE TABLE events_t2 PARTITION OF events FOR VALUES IN ('t-2');
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA enforce_utility
  TO regress_utility_app, regress_utility_bypass;

INSERT INTO countries VALUES ('fr'), ('de');
INSERT INTO deals VALUES ('t-1', 1, 'open', 'fr'), ('t-2', 1, 'open', 'de');
INSERT INTO contacts VALUES ('t-1', 1, 1), ('t-2', 1, 1);
INSERT INTO activities VALUES ('t-1', 'call'), ('t-2', 'mail');
INSERT INTO currencies VALUES ('EUR');
INSERT INTO rates VALUES ('EUR', 1);
INSERT INTO zones VALUES ('z');
INSERT INTO zone_codes VALUES ('z1', 'z');
INSERT INTO shipments VALUES ('t-1', 'z1'), ('t-2', 'z1');
INSERT INTO things VALUES (1);
INSERT INTO tenant_things VALUES (2, 't-1'), (3, 't-2');
INSERT INTO events VALUES ('t-1', 1), ('t-2', 2);

-- as superuser: rows per table and tenant
CREATE FUNCTION data() RETURNS TABLE (tbl text, t1 bigint, t2 bigint, global bigint)
LANGUAGE sql AS $$
  SELECT 'countries', NULL, NULL, (SELECT count(*) FROM enforce_utility.countries)
  UNION ALL SELECT 'deals', count(*) FILTER (WHERE tenant_id = 't-1'), count(*) FILTER (WHERE tenant_id = 't-2'), NULL FROM enforce_utility.deals
  UNION ALL SELECT 'contacts', count(*) FILTER (WHERE tenant_id = 't-1'), count(*) FILTER (WHERE tenant_id = 't-2'), NULL FROM enforce_utility.contacts
  UNION ALL SELECT 'activities', count(*) FILTER (WHERE tenant_id = 't-1'), count(*) FILTER (WHERE tenant_id = 't-2'), NULL FROM enforce_utility.activities
  UNION ALL SELECT 'zones', NULL, NULL, (SELECT count(*) FROM enforce_utility.zones)
  UNION ALL SELECT 'zone_codes', NULL, NULL, (SELECT count(*) FROM enforce_utility.zone_codes)
  UNION ALL SELECT 'shipments', count(*) FILTER (WHERE tenant_id = 't-1'), count(*) FILTER (WHERE tenant_id = 't-2'), NULL FROM enforce_utility.shipments
  UNION ALL SELECT 'currencies', NULL, NULL, (SELECT count(*) FROM enforce_utility.currencies)
  UNION ALL SELECT 'rates', NULL, NULL, (SELECT count(*) FROM enforce_utility.rates)
  UNION ALL SELECT 'tenant_things', count(*) FILTER (WHERE tenant_id = 't-1'), count(*) FILTER (WHERE tenant_id = 't-2'), NULL FROM enforce_utility.tenant_things
$$;
REVOKE EXECUTE ON FUNCTION data() FROM PUBLIC;

-- ================================================================ TRUNCATE ... CASCADE
SET ROLE regress_utility_app;
-- a global table referenced by tenant tables
TRUNCATE countries CASCADE;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE ONLY countries CASCADE;
\echo :LAST_ERROR_SQLSTATE
TRUNCATE currencies, countries CASCADE;
\echo :LAST_ERROR_SQLSTATE
-- two foreign keys away
TRUNCATE zones CASCADE;
\echo :LAST_ERROR_SQLSTATE
-- from a function
CREATE FUNCTION pg_temp.wipe(t text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN EXECUTE format('TRUNCATE %I CASCADE', t); END $$;
SELECT pg_temp.wipe('countries');
\echo :LAST_ERROR_SQLSTATE
-- without CASCADE PostgreSQL refuses by itself
TRUNCATE countries;
\echo :LAST_ERROR_SQLSTATE
-- a cascade that reaches only global tables runs
TRUNCATE currencies CASCADE;
RESET ROLE;
SELECT * FROM data();
-- a role with BYPASSRLS may
BEGIN;
SET LOCAL ROLE regress_utility_bypass;
TRUNCATE countries CASCADE;
RESET ROLE;
SELECT tbl, t1, t2, global FROM data() WHERE tbl IN ('countries', 'deals', 'contacts');
ROLLBACK;
-- warn mode: a WARNING, and the statement runs
BEGIN;
SET LOCAL gtm.enforcement = warn;
SET LOCAL ROLE regress_utility_app;
TRUNCATE zones CASCADE;
RESET ROLE;
SELECT tbl, t1, t2, global FROM data() WHERE tbl IN ('zones', 'zone_codes', 'shipments');
ROLLBACK;

-- ================================================================ LOCK TABLE
-- Allowed on a tenant table: ACCESS SHARE, ROW SHARE, ROW EXCLUSIVE (what
-- SELECT, SELECT ... FOR UPDATE and INSERT/UPDATE/DELETE take themselves);
-- rejected: every stronger mode.
SET ROLE regress_utility_app;
CREATE FUNCTION pg_temp.held() RETURNS SETOF text LANGUAGE sql AS $$
  SELECT c.relname || ' ' || l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation
   WHERE l.pid = pg_backend_pid() AND l.locktype = 'relation' AND l.mode <> 'AccessShareLock'
     AND c.relnamespace = 'enforce_utility'::regnamespace
   ORDER BY 1
$$;
BEGIN;
LOCK TABLE deals IN ACCESS SHARE MODE;
SELECT l.mode FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.relation = 'deals'::regclass;
COMMIT;
BEGIN;
LOCK TABLE deals IN ROW SHARE MODE;
SELECT pg_temp.held();
COMMIT;
BEGIN;
LOCK TABLE deals IN ROW EXCLUSIVE MODE;
SELECT pg_temp.held();
COMMIT;
BEGIN;
LOCK TABLE deals IN SHARE UPDATE EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals IN SHARE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals IN SHARE ROW EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals IN EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals IN ACCESS EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals;                       -- ACCESS EXCLUSIVE by default
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE deals IN ACCESS EXCLUSIVE MODE NOWAIT;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- through a view (LOCK TABLE locks the view's tables), two views deep
BEGIN;
LOCK TABLE open_deals_of_t1 IN EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE open_deals IN ROW EXCLUSIVE MODE;
SELECT pg_temp.held();
COMMIT;
-- through inheritance and partitions; ONLY stops at the parent
BEGIN;
LOCK TABLE things IN SHARE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE ONLY things IN SHARE MODE;
SELECT pg_temp.held();
COMMIT;
BEGIN;
LOCK TABLE events IN SHARE ROW EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
LOCK TABLE events_t2 IN ACCESS EXCLUSIVE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a list: one tenant table is enough
BEGIN;
LOCK TABLE countries, activities IN SHARE MODE;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- global tables: any mode
BEGIN;
LOCK TABLE countries IN ACCESS EXCLUSIVE MODE;
SELECT pg_temp.held();
COMMIT;
-- from a function
CREATE FUNCTION pg_temp.lock_all() RETURNS void LANGUAGE plpgsql AS $$
BEGIN LOCK TABLE enforce_utility.activities IN EXCLUSIVE MODE; END $$;
BEGIN;
SELECT pg_temp.lock_all();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET ROLE;
-- a role with BYPASSRLS may take any mode
BEGIN;
SET LOCAL ROLE regress_utility_bypass;
LOCK TABLE deals IN ACCESS EXCLUSIVE MODE;
SELECT l.mode FROM pg_locks l WHERE l.pid = pg_backend_pid() AND l.relation = 'deals'::regclass;
COMMIT;

-- ================================================================ COPY
SET ROLE regress_utility_app;
COPY deals TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
COPY (SELECT id, stage FROM deals WHERE tenant_id = 't-1') TO STDOUT;
COPY (SELECT id, stage FROM deals) TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
COPY (DELETE FROM activities RETURNING kind) TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
COPY (DELETE FROM activities WHERE tenant_id = 't-2' AND kind = 'none' RETURNING kind) TO STDOUT;
RESET ROLE;
SELECT * FROM data();

-- ================================================================ the checker
SET ROLE regress_utility_app;
-- TRUNCATE ... CASCADE, as enforcement judges it
SELECT * FROM gtm_check_statement('TRUNCATE countries CASCADE');
SELECT * FROM gtm_check_statement('TRUNCATE zones CASCADE');
SELECT * FROM gtm_check_statement('TRUNCATE currencies CASCADE');
SELECT * FROM gtm_check_statement('TRUNCATE things');
-- LOCK TABLE
SELECT * FROM gtm_check_statement($$
  LOCK TABLE deals IN ROW EXCLUSIVE MODE;
  LOCK TABLE deals IN SHARE MODE;
  LOCK TABLE open_deals;
  LOCK TABLE countries IN ACCESS EXCLUSIVE MODE;
$$);
-- COPY (query) TO, and COPY table
SELECT * FROM gtm_check_statement($$
  COPY (SELECT id FROM deals WHERE tenant_id = 't-1') TO STDOUT;
  COPY (SELECT d.id FROM deals d JOIN contacts c ON c.deal_id = d.id WHERE d.tenant_id = $1) TO STDOUT;
  COPY (DELETE FROM activities RETURNING kind) TO STDOUT;
  COPY deals FROM STDIN;
$$);
-- PREPARE and EXECUTE: the prepared statement's query
SELECT * FROM gtm_check_statement($$
  PREPARE by_tenant(text) AS SELECT * FROM deals WHERE tenant_id = $1;
  PREPARE everything AS SELECT * FROM deals;
  PREPARE two(text, text) AS SELECT * FROM deals d, contacts c
    WHERE d.tenant_id = $1 AND c.tenant_id = $2;
  EXECUTE by_tenant('t-1');
  EXECUTE everything;
  EXPLAIN EXECUTE two('t-1', 't-2');
$$);
-- a DEALLOCATE of the text is followed
SELECT * FROM gtm_check_statement('PREPARE gone AS SELECT * FROM deals; DEALLOCATE gone; EXECUTE gone');
\echo :LAST_ERROR_SQLSTATE
-- nothing was prepared by the checker
SELECT name FROM pg_prepared_statements;
-- the session's prepared statements
PREPARE sess_all AS SELECT count(*) FROM activities;
PREPARE sess_one(text) AS UPDATE activities SET kind = 'x' WHERE tenant_id = $1;
SELECT * FROM gtm_check_statement('EXECUTE sess_all; EXECUTE sess_one(''t-1'')');
SELECT * FROM gtm_check_statement('CREATE TABLE copied AS EXECUTE sess_all');
SELECT * FROM gtm_check_statement('EXECUTE no_such_statement');
\echo :LAST_ERROR_SQLSTATE
-- and enforcement agrees
EXECUTE sess_all;
\echo :LAST_ERROR_SQLSTATE
EXECUTE sess_one('t-1');
DEALLOCATE ALL;
-- maintenance of the whole database, two-phase commit, WITH HOLD and a
-- measuring EXPLAIN get the verdicts enforcement gives them (round FI: a
-- maintenance command naming no table crashed the backend of the checker;
-- these had no row or a "pinned" one)
SELECT * FROM gtm_check_statement('VACUUM');
SELECT * FROM gtm_check_statement('ANALYZE; VACUUM (ANALYZE); VACUUM FULL; CLUSTER; REINDEX SCHEMA enforce_utility');
SELECT * FROM gtm_check_statement($$
  BEGIN; PREPARE TRANSACTION 'x'; COMMIT PREPARED 'x'; ROLLBACK PREPARED 'y'; COMMIT; SAVEPOINT s;
$$);
SELECT * FROM gtm_check_statement($$DECLARE kept CURSOR WITH HOLD FOR SELECT * FROM deals WHERE tenant_id = 't-1'$$);
SELECT * FROM gtm_check_statement($$DECLARE open_one CURSOR FOR SELECT * FROM deals WHERE tenant_id = 't-1'$$);
SELECT * FROM gtm_check_statement($$
  EXPLAIN (ANALYZE) SELECT * FROM deals WHERE tenant_id = 't-1';
  EXPLAIN (BUFFERS) SELECT * FROM deals WHERE tenant_id = 't-1';
  EXPLAIN SELECT * FROM deals WHERE tenant_id = 't-1';
  EXPLAIN (ANALYZE) SELECT 1;
  PREPARE p1 AS SELECT * FROM deals WHERE tenant_id = 't-1';
  EXPLAIN (ANALYZE) EXECUTE p1;
$$);
-- ... also when planning removes the tenant table's scan (round FK F2)
SELECT * FROM gtm_check_statement($$
  EXPLAIN (BUFFERS) SELECT * FROM deals WHERE false;
  EXPLAIN (ANALYZE) SELECT 1 FROM countries c LEFT JOIN deals d ON false;
$$);
-- the checker's own planning, measured by an EXPLAIN of a query that calls
-- it, is refused too (round FK F1: its buffers counted the index endpoint
-- probes of every tenant's entries)
EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT * FROM gtm_check_statement($$SELECT * FROM deals WHERE tenant_id = 't-1'$$);
\echo :LAST_ERROR_SQLSTATE
DO $$DECLARE ln text; BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM gtm_check_statement(''SELECT 1 FROM deals'')' LOOP
    RAISE NOTICE '%', ln;
  END LOOP;
END$$;
\echo :LAST_ERROR_SQLSTATE
-- an exempt role measures it
RESET ROLE;
DO $$DECLARE n int := 0; ln text; BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (ANALYZE, BUFFERS) SELECT * FROM gtm_check_statement(''SELECT 1 FROM deals'')' LOOP
    n := n + 1;
  END LOOP;
  RAISE NOTICE 'explained: %', n > 0;
END$$;
SET ROLE regress_utility_app;
-- and enforcement agrees
VACUUM;
\echo :LAST_ERROR_SQLSTATE
EXPLAIN (BUFFERS, COSTS OFF) SELECT * FROM deals WHERE tenant_id = 't-1';
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DECLARE kept CURSOR WITH HOLD FOR SELECT * FROM deals WHERE tenant_id = 't-1';
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a function the planner runs while it plans (an IMMUTABLE one it folds, a
-- STABLE one it calls to estimate) reaches a tenant: the checker compares
-- it with the statement's pins, as the statement's start does (round FL F1:
-- the checker said "pinned to 't-1'" of statements that enforcement
-- rejected, and nothing of a measuring EXPLAIN whose planning read deals)
CREATE FUNCTION pg_temp.t2_count() RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$BEGIN RETURN (SELECT count(*) FROM enforce_utility.deals WHERE tenant_id = 't-2'); END$$;
CREATE FUNCTION pg_temp.t1_count() RETURNS int LANGUAGE plpgsql IMMUTABLE AS
  $$BEGIN RETURN (SELECT count(*) FROM enforce_utility.deals WHERE tenant_id = 't-1'); END$$;
CREATE FUNCTION pg_temp.t2_stage() RETURNS text LANGUAGE plpgsql STABLE AS
  $$BEGIN RETURN (SELECT max(stage) FROM enforce_utility.deals WHERE tenant_id = 't-2'); END$$;
-- (what the functions read is the checker's own statement's: one call per
-- tenant reached)
SELECT * FROM gtm_check_statement($$
  SELECT * FROM deals WHERE tenant_id = 't-1' AND id = pg_temp.t2_count();
  SELECT * FROM deals WHERE tenant_id = 't-1' AND stage < pg_temp.t2_stage();
  SELECT * FROM deals WHERE tenant_id = $1 AND id = pg_temp.t2_count();
  SELECT pg_temp.t2_count();
  EXPLAIN (BUFFERS) SELECT * FROM countries WHERE code < pg_temp.t2_stage();
  EXPLAIN SELECT * FROM countries WHERE code < pg_temp.t2_stage();
$$);
SELECT * FROM gtm_check_statement($$
  SELECT * FROM deals WHERE tenant_id = 't-1' AND id = pg_temp.t1_count();
$$);
-- and enforcement: t-1's deal 1 would tell that t-2 has one deal
SELECT * FROM deals WHERE tenant_id = 't-1' AND id = pg_temp.t2_count();
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM deals WHERE tenant_id = 't-1' AND stage < pg_temp.t2_stage();
\echo :LAST_ERROR_SQLSTATE
PREPARE t2_counted(text) AS SELECT * FROM deals WHERE tenant_id = $1 AND id = pg_temp.t2_count();
EXECUTE t2_counted('t-1');
\echo :LAST_ERROR_SQLSTATE
EXECUTE t2_counted('t-2');
DEALLOCATE t2_counted;
SELECT tenant_id, id FROM deals WHERE tenant_id = 't-1' AND id = pg_temp.t1_count();
SELECT pg_temp.t2_count();
EXPLAIN (BUFFERS, COSTS OFF) SELECT * FROM countries WHERE code < pg_temp.t2_stage();
\echo :LAST_ERROR_SQLSTATE
-- the checker executes nothing: the data is unchanged, the table not created
RESET ROLE;
SELECT * FROM data();
SELECT to_regclass('copied') IS NULL AS not_created;
-- but planning folds IMMUTABLE functions with constant arguments: the
-- statements they run are checked, and enforced, like any other
CREATE FUNCTION deal_count(text) RETURNS bigint LANGUAGE sql IMMUTABLE AS
  'SELECT count(*) FROM enforce_utility.deals WHERE stage IS DISTINCT FROM $1';
SET ROLE regress_utility_app;
SELECT * FROM gtm_check_statement($$SELECT * FROM countries WHERE length(code) < deal_count('x')$$);
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- ---------------------------------------------------------------- clean up
DROP SCHEMA enforce_utility CASCADE;
DROP OWNED BY regress_utility_app, regress_utility_bypass;
DROP ROLE regress_utility_app;
DROP ROLE regress_utility_bypass;
