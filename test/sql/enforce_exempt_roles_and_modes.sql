-- enforce_modes: who is exempt, the modes and their delegation, exempted
-- tables, plans reused across roles, the session tenant and the checker.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_modes;
SET search_path = enforce_modes, public;
CREATE ROLE regress_enforce_owner;          -- owns the tables: not superuser
CREATE ROLE regress_enforce_app;            -- the application
CREATE ROLE regress_enforce_bypass BYPASSRLS;
CREATE ROLE regress_enforce_ops;            -- may change gtm.enforcement (delegated)
GRANT USAGE, CREATE ON SCHEMA enforce_modes TO regress_enforce_owner;
GRANT USAGE ON SCHEMA enforce_modes
  TO regress_enforce_app, regress_enforce_bypass, regress_enforce_ops;

SET ROLE regress_enforce_owner;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int,
                       PRIMARY KEY (tenant_id, id),
                       FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id) ON DELETE CASCADE);
CREATE TABLE activities (tenant_id text NOT NULL, kind text);
CREATE TABLE countries (code text PRIMARY KEY);
CREATE TABLE orgs_things (org_id text, n int);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA enforce_modes
  TO regress_enforce_app, regress_enforce_bypass, regress_enforce_ops;
RESET ROLE;
-- (an exempt role runs no function of a role the check applies to: round EZ)
CREATE FUNCTION count_deals() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT count(*) FROM deals); END $$;
INSERT INTO deals VALUES ('t-1', 1, 'open'), ('t-1', 2, 'open'), ('t-2', 1, 'open');
INSERT INTO contacts VALUES ('t-1', 1, 1), ('t-1', 2, 2), ('t-2', 1, 1);
INSERT INTO activities VALUES ('t-1', 'call'), ('t-2', 'mail');

-- ---------------------------------------------------------------- exempt roles
-- a superuser is exempt (as from row-level security)
SELECT count(*) FROM deals;
COPY (SELECT count(*) FROM activities) TO STDOUT;
-- so is a role with BYPASSRLS
SET ROLE regress_enforce_bypass;
SELECT count(*) FROM deals;
COPY activities TO STDOUT;
RESET ROLE;
-- an ordinary role is not
SET ROLE regress_enforce_app;
SELECT count(*) FROM deals;
RESET ROLE;
-- the answer follows ALTER ROLE at once, within the role's own session
CREATE FUNCTION grant_bypass(b bool) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = pg_catalog AS $$
BEGIN
  EXECUTE format('ALTER ROLE regress_enforce_app %s', CASE WHEN b THEN 'BYPASSRLS' ELSE 'NOBYPASSRLS' END);
END $$;
GRANT EXECUTE ON FUNCTION grant_bypass(bool) TO regress_enforce_app;
SET ROLE regress_enforce_app;
SELECT grant_bypass(true);
SELECT count(*) FROM deals;
SELECT grant_bypass(false);
SELECT count(*) FROM deals;
-- ---------------------------------------------------------------- foreign keys
-- the check's own query (SELECT 1 FROM ONLY deals x WHERE ... FOR KEY SHARE)
INSERT INTO contacts VALUES ('t-1', 3, 2);
INSERT INTO contacts VALUES ('t-1', 4, 99);
-- the cascade's own query (DELETE FROM ONLY contacts WHERE ...)
DELETE FROM deals WHERE tenant_id = 't-1' AND id = 2;
SELECT id, deal_id FROM contacts WHERE tenant_id = 't-1' ORDER BY id;
RESET ROLE;

-- ALTER TABLE's own check of existing rows (run as the current user)
SET ROLE regress_enforce_owner;
CREATE TABLE notes (tenant_id text NOT NULL, deal_id int);
INSERT INTO notes VALUES ('t-1', 1);
ALTER TABLE notes ADD FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id);
ALTER TABLE notes ADD CONSTRAINT notes_deal CHECK (deal_id > 0) NOT VALID;
ALTER TABLE notes VALIDATE CONSTRAINT notes_deal;
-- the aliases are no way out elsewhere
SELECT count(*) FROM notes fk;
-- REFRESH ... CONCURRENTLY: the definition is checked, the internal
-- comparison of old and new contents is not
CREATE MATERIALIZED VIEW deals_t1 AS SELECT * FROM deals WHERE tenant_id = 't-1';
CREATE UNIQUE INDEX ON deals_t1 (tenant_id, id);
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_t1;
SELECT id FROM deals_t1 WHERE tenant_id = 't-1';
RESET ROLE;
CREATE MATERIALIZED VIEW deals_all AS SELECT * FROM deals;
CREATE UNIQUE INDEX ON deals_all (tenant_id, id);
ALTER MATERIALIZED VIEW deals_all OWNER TO regress_enforce_owner;
SET ROLE regress_enforce_owner;
REFRESH MATERIALIZED VIEW CONCURRENTLY deals_all;
REFRESH MATERIALIZED VIEW deals_all;
RESET ROLE;
DROP MATERIALIZED VIEW deals_all;

-- ---------------------------------------------------------------- plans across roles
-- a plan made for an exempt role is not reused for another role
PREPARE all_deals AS SELECT count(*) FROM deals;
EXECUTE all_deals;
SET ROLE regress_enforce_app;
EXECUTE all_deals;
RESET ROLE;
EXECUTE all_deals;
DEALLOCATE all_deals;
-- the same for PL/pgSQL's cached plans
SELECT count_deals();
SET ROLE regress_enforce_app;
-- (no CONTEXT: PostgreSQL 18 says "PL/pgSQL expression", 15 and 17 "SQL expression")
\set SHOW_CONTEXT never
SELECT count_deals();
\set SHOW_CONTEXT errors
RESET ROLE;

-- ---------------------------------------------------------------- modes
SHOW gtm.enforcement;
SELECT context, vartype, enumvals FROM pg_settings WHERE name = 'gtm.enforcement';
SET gtm.enforcement = 'strict';
SET ROLE regress_enforce_app;
SET gtm.enforcement = off;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
-- warn: the statement runs and a WARNING names the table
SET gtm.enforcement = warn;
SET ROLE regress_enforce_app;
SELECT count(*) FROM deals;
UPDATE deals SET stage = 'warned' WHERE id = 1;
SELECT count(*) FROM deals WHERE tenant_id = 't-1';
BEGIN;
TRUNCATE activities;
ROLLBACK;
RESET ROLE;
-- off: nothing is checked
SET gtm.enforcement = off;
SET ROLE regress_enforce_app;
SELECT count(*) FROM deals;
PREPARE unpinned AS SELECT count(*) FROM deals;
EXECUTE unpinned;
RESET ROLE;
-- back to error: the plan cached while off is checked again
SET gtm.enforcement = error;
SET ROLE regress_enforce_app;
EXECUTE unpinned;
DEALLOCATE unpinned;
RESET ROLE;
-- delegation with PostgreSQL 15's GRANT SET ON PARAMETER
GRANT SET ON PARAMETER gtm.enforcement TO regress_enforce_ops;
SET ROLE regress_enforce_ops;
SET gtm.enforcement = warn;
SELECT count(*) FROM deals;
RESET gtm.enforcement;
SHOW gtm.enforcement;
RESET ROLE;
REVOKE SET ON PARAMETER gtm.enforcement FROM regress_enforce_ops;
SET ROLE regress_enforce_ops;
SET gtm.enforcement = warn;
RESET ROLE;
-- gtm.tenant_column names the column (superuser only)
SET ROLE regress_enforce_app;
SET gtm.tenant_column = 'org_id';
RESET ROLE;
SET gtm.tenant_column = '';
SET gtm.tenant_column = 'org_id';
SET ROLE regress_enforce_app;
SELECT count(*) FROM deals;
SELECT count(*) FROM orgs_things;
SELECT count(*) FROM orgs_things WHERE org_id = 'o-1';
RESET ROLE;
RESET gtm.tenant_column;

-- ---------------------------------------------------------------- exempted tables
SET ROLE regress_enforce_app;
SELECT gtm_exempt_table('activities');
RESET ROLE;
SELECT gtm_exempt_table('countries');
SELECT gtm_exempt_table(NULL);
SET ROLE regress_enforce_app;
PREPARE acts AS SELECT count(*) FROM activities;
RESET ROLE;
SELECT gtm_exempt_table('activities');
SELECT gtm_exempt_table('activities');       -- again: no change
SELECT schema_name, table_name, exempted_by FROM gtm_exempt_tables;
SET ROLE regress_enforce_app;
SELECT count(*) FROM activities;
EXECUTE acts;
TRUNCATE activities;
RESET ROLE;
SELECT gtm_unexempt_table('activities');
SELECT count(*) FROM gtm_exempt_tables;
SET ROLE regress_enforce_app;
EXECUTE acts;
DEALLOCATE acts;
RESET ROLE;
INSERT INTO activities VALUES ('t-1', 'call'), ('t-2', 'mail');
-- exempting a partitioned table exempts its partitions
CREATE TABLE calls (tenant_id text NOT NULL, n int) PARTITION BY HASH (n);
CREATE TABLE calls_0 PARTITION OF calls FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE calls_0 PARTITION OF calls FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO calls VALUES ('t-1', 1), ('t-2', 2);
GRANT SELECT ON calls, calls_0, calls_0 TO regress_enforce_app;
SET ROLE regress_enforce_app;
SELECT count(*) FROM calls;
RESET ROLE;
SELECT gtm_exempt_table('calls');
SET ROLE regress_enforce_app;
SELECT count(*) FROM calls;
SELECT count(*) FROM calls_0;
RESET ROLE;
SELECT gtm_unexempt_table('calls');
SET ROLE regress_enforce_app;
SELECT count(*) FROM calls_0;
RESET ROLE;

-- ---------------------------------------------------------------- session tenant
SELECT id AS tenant_a FROM gtm_provision_tenant('org_enforceModesA', 'Enforce A') \gset
SELECT id AS tenant_b FROM gtm_provision_tenant('org_enforceModesB', 'Enforce B') \gset
INSERT INTO deals VALUES (:'tenant_a', 1, 'a1'), (:'tenant_a', 2, 'a2'), (:'tenant_b', 1, 'b1');
-- session scope (is_local false) is allowed here by the superuser setting
-- (enforce_pool tests the default, which refuses it)
SET gtm.allow_session_tenant = on;
SET ROLE regress_enforce_app;
SELECT gtm_current_tenant();
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_tenant('no-such-tenant');
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_set_tenant(NULL);
SELECT gtm_set_tenant(:'tenant_a', NULL);
SELECT gtm_set_tenant(:'tenant_a', false) = :'tenant_a' AS set;
SELECT gtm_current_tenant() = :'tenant_a' AS current;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
SELECT d.stage, c.id FROM deals d LEFT JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
  WHERE d.tenant_id = gtm_current_tenant() ORDER BY d.id;
-- a stable value and a constant: compared when the statement starts
-- (terse: the detail shows the random tenant id)
\set VERBOSITY terse
SELECT count(*) FROM deals d JOIN contacts c ON c.deal_id = d.id
  WHERE d.tenant_id = gtm_current_tenant() AND c.tenant_id = 't-1';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
  WHERE d.tenant_id = gtm_current_tenant() AND c.tenant_id = gtm_current_tenant();
-- transaction scope
BEGIN;
SELECT gtm_set_tenant(:'tenant_b', true) = :'tenant_b' AS set_local;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
COMMIT;
SELECT gtm_current_tenant() = :'tenant_a' AS back_to_session;
-- not while a statement pinned by it runs, nor while a cursor is open
SELECT gtm_set_tenant(:'tenant_b'), stage FROM deals WHERE tenant_id = gtm_current_tenant();
\echo :LAST_ERROR_SQLSTATE
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM c;
SELECT gtm_set_tenant(:'tenant_b');
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM c;
CLOSE c;
SELECT gtm_set_tenant(:'tenant_b') = :'tenant_b' AS set_after_close;
COMMIT;
-- a statement that failed is no longer running: neither a PL/pgSQL
-- exception block nor a rolled-back savepoint leaves it counted
BEGIN;
DO $$
BEGIN
  PERFORM 1 / (stage = 'none')::int FROM deals WHERE tenant_id = gtm_current_tenant();
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught %', SQLERRM;
END $$;
SAVEPOINT s;
SELECT 1 / (stage = 'none')::int FROM deals WHERE tenant_id = gtm_current_tenant();
ROLLBACK TO SAVEPOINT s;
SELECT gtm_set_tenant(:'tenant_b') = :'tenant_b' AS set_after_failures;
COMMIT;
-- a cursor opened in a rolled-back savepoint is gone; one opened before it
-- is still open
BEGIN;
DECLARE outer_c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
SAVEPOINT s;
DECLARE inner_c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM inner_c;
ROLLBACK TO SAVEPOINT s;
FETCH 1 FROM outer_c;
SELECT gtm_set_tenant(:'tenant_b');
ROLLBACK;
BEGIN;
SAVEPOINT s;
DECLARE inner_c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM inner_c;
ROLLBACK TO SAVEPOINT s;
SELECT gtm_set_tenant(:'tenant_b') = :'tenant_b' AS set_after_savepoint_cursor;
COMMIT;
SELECT gtm_set_tenant(:'tenant_a', false) = :'tenant_a' AS set_again;
-- only gtm_set_tenant sets it
SET gtm.tenant = 'anything';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
RESET gtm.tenant;
RESET gtm.allow_session_tenant;

-- ---------------------------------------------------------------- checker
SET ROLE regress_enforce_app;
SELECT * FROM gtm_check_statement('SELECT * FROM deals WHERE tenant_id = ''t-1''');
SELECT * FROM gtm_check_statement($$
  SELECT d.id FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
   WHERE d.tenant_id = gtm_current_tenant();
  SELECT * FROM deals WHERE tenant_id IN ('t-1', 't-2');
  INSERT INTO activities SELECT tenant_id, 'x' FROM contacts;
  INSERT INTO activities VALUES ($1, 'x');
  UPDATE deals SET tenant_id = 't-2' WHERE tenant_id = 't-1';
  COPY deals TO STDOUT;
  TRUNCATE activities;
  EXPLAIN ANALYZE SELECT * FROM deals;
  SELECT count(*) FROM countries;
$$);
-- parameters are compared when the statement starts; the checker says so
SELECT * FROM gtm_check_statement(
  'INSERT INTO deals VALUES ($1, 1) ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_id = $2');
-- it plans but does not execute: nothing was written
SELECT count(*) FROM activities WHERE tenant_id = 't-1';
SELECT * FROM gtm_check_statement('SELEC 1');
SELECT * FROM gtm_check_statement(NULL);
RESET ROLE;
-- verdicts regardless of the caller's exemption and of the mode
SET gtm.enforcement = off;
SELECT "table", pinned FROM gtm_check_statement('DELETE FROM deals');
RESET gtm.enforcement;

-- ---------------------------------------------------------------- views of a role that is not exempt
-- A statement of an exempt role that reaches objects of a role the check
-- applies to (a view or rule of that role over relations it does not own,
-- its temporary views, its functions in pg_temp) is refused, and so is a
-- call of such a function as an exempt role: their code would run with
-- the exempt role's rights (rounds AM, AO, AP).  Here a SECURITY DEFINER
-- function of the BYPASSRLS role reaches a temporary view of the
-- application's that shadows the table on the function's search_path
-- (pg_temp comes first).
CREATE FUNCTION bypass_deals() RETURNS TABLE (tenant_id text, id int, stage text)
  LANGUAGE sql STABLE SECURITY DEFINER SET search_path = enforce_modes
  AS $$ SELECT tenant_id, id, stage FROM deals WHERE tenant_id = 't-1' ORDER BY id $$;
CREATE FUNCTION bypass_set_stage(p_id int, p_stage text) RETURNS bigint
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = enforce_modes AS $$
DECLARE n bigint;
BEGIN
  UPDATE deals SET stage = p_stage WHERE tenant_id = 't-1' AND id = p_id;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END $$;
ALTER FUNCTION bypass_deals() OWNER TO regress_enforce_bypass;
ALTER FUNCTION bypass_set_stage(int, text) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION bypass_deals(), bypass_set_stage(int, text) TO regress_enforce_app;
-- (no CONTEXT lines: PostgreSQL 18 words a SQL function's differently)
\set VERBOSITY terse
SET ROLE regress_enforce_app;
-- a view of the caller's in place of the table: refused
BEGIN;
CREATE TEMP VIEW deals AS
  SELECT 't-1'::text AS tenant_id, id, stage || ' of ' || tenant_id AS stage
    FROM enforce_modes.deals;
GRANT SELECT ON deals TO PUBLIC;
SELECT * FROM bypass_deals();
ROLLBACK;
BEGIN;
CREATE TEMP VIEW deals AS SELECT 't-1'::text AS tenant_id, id, stage FROM enforce_modes.deals;
GRANT SELECT, UPDATE ON deals TO PUBLIC;
SAVEPOINT s;
SELECT bypass_set_stage(1, 'lost');
ROLLBACK TO s;
-- in the same transaction: neither tenant's deal 1 was changed
SELECT tenant_id, stage FROM enforce_modes.deals WHERE tenant_id = 't-1' AND id = 1;
SELECT tenant_id, stage FROM enforce_modes.deals WHERE tenant_id = 't-2' AND id = 1;
ROLLBACK;
-- the functions as written: the table itself, one tenant's rows
SELECT * FROM bypass_deals();
BEGIN;
SELECT bypass_set_stage(1, 'won');
ROLLBACK;
RESET ROLE;
-- nothing changed: t-2's deal 1 kept its stage
SELECT tenant_id, id, stage FROM deals WHERE tenant_id IN ('t-1', 't-2') ORDER BY tenant_id, id;
-- a superuser reading through a view of the application's is refused too
SET ROLE regress_enforce_app;
CREATE TEMP VIEW app_deals AS SELECT tenant_id, id, stage FROM enforce_modes.deals;
GRANT SELECT ON app_deals TO PUBLIC;
RESET ROLE;
SELECT count(*) FROM pg_temp.app_deals;
SELECT count(*) FROM pg_temp.app_deals WHERE tenant_id = 't-2';
-- but not a view of its own; a security_invoker view of the
-- application's reads as the superuser, but it is the application's code:
-- refused too (round AO)
CREATE TEMP VIEW own_deals AS SELECT tenant_id, id FROM enforce_modes.deals;
SELECT count(*) FROM pg_temp.own_deals;
SET ROLE regress_enforce_app;
CREATE TEMP VIEW invoker_deals WITH (security_invoker) AS SELECT tenant_id, id FROM enforce_modes.deals;
GRANT SELECT ON invoker_deals TO PUBLIC;
RESET ROLE;
SELECT count(*) FROM pg_temp.invoker_deals;
-- ... also when only planning brings the view in (round AO): a SQL
-- function in FROM, inlined over it
CREATE FUNCTION pg_temp.app_deals_fn() RETURNS SETOF enforce_modes.deals
  LANGUAGE sql STABLE AS $$ SELECT * FROM pg_temp.app_deals $$;
SELECT count(*) FROM pg_temp.app_deals_fn();
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM pg_temp.app_deals_fn() WHERE tenant_id = 't-2';
CREATE FUNCTION deals_t1() RETURNS SETOF deals LANGUAGE sql STABLE
  AS $$ SELECT * FROM deals WHERE tenant_id = 't-1' $$;
CREATE FUNCTION bypass_inlined() RETURNS SETOF deals LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = enforce_modes AS $$ BEGIN RETURN QUERY SELECT * FROM deals_t1() ORDER BY id; END $$;
ALTER FUNCTION deals_t1() OWNER TO regress_enforce_bypass;
ALTER FUNCTION bypass_inlined() OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION bypass_inlined() TO regress_enforce_app;
SET ROLE regress_enforce_app;
BEGIN;
CREATE TEMP VIEW deals AS
  SELECT 't-1'::text AS tenant_id, id, stage || ' of ' || tenant_id AS stage
    FROM enforce_modes.deals;
GRANT SELECT ON deals TO PUBLIC;
SELECT tenant_id, id, stage FROM bypass_inlined();
ROLLBACK;
-- (as written: one tenant's rows)
SELECT tenant_id, id FROM bypass_inlined();
RESET ROLE;
-- code of the caller's that would run as the exempt role (rounds AO, AP):
-- a security_invoker view, a function in pg_temp, a trigger of its
-- temporary table
CREATE FUNCTION deals_of(rel regclass) RETURNS TABLE (tenant_id text, id int, stage text)
  LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = enforce_modes, pg_temp AS $$
BEGIN
  RETURN QUERY EXECUTE format('SELECT tenant_id, id, stage FROM %s WHERE tenant_id = %L ORDER BY id', rel, 't-1');
END $$;
CREATE FUNCTION log_into(rel regclass, msg text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = enforce_modes, pg_temp AS $$
BEGIN
  EXECUTE format('INSERT INTO %s VALUES (%L, $1)', rel, 't-1') USING msg;
END $$;
CREATE FUNCTION set_stage_of(rel regclass, p_stage text) RETURNS void
  LANGUAGE plpgsql SECURITY DEFINER SET search_path = enforce_modes, pg_temp AS $$
BEGIN
  EXECUTE format('UPDATE %s SET stage = $1 WHERE tenant_id = %L AND id = 1', rel, 't-1') USING p_stage;
END $$;
CREATE FUNCTION stage_sql(p_id int) RETURNS text LANGUAGE sql STABLE SECURITY DEFINER
  SET search_path = enforce_modes
  AS $$ SELECT stage::text FROM deals WHERE tenant_id = 't-1' AND id = p_id $$;
ALTER FUNCTION stage_sql(int) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION stage_sql(int) TO regress_enforce_app;
CREATE FUNCTION clear_of(rel regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp AS $$ BEGIN EXECUTE format('TRUNCATE %s', rel); END $$;
CREATE FUNCTION import_into(rel regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp
  AS $$ BEGIN EXECUTE format('COPY %s FROM PROGRAM %L WITH (FORMAT csv)', rel, 'echo t-1,hello'); END $$;
CREATE FUNCTION copy_like(rel regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp
  AS $$ BEGIN EXECUTE format('CREATE TEMP TABLE stg (LIKE %s INCLUDING ALL)', rel); END $$;
CREATE FUNCTION run_prepared(n text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp AS $$ BEGIN EXECUTE format('EXECUTE %I', n); END $$;
ALTER FUNCTION clear_of(regclass) OWNER TO regress_enforce_bypass;
ALTER FUNCTION copy_like(regclass) OWNER TO regress_enforce_bypass;
ALTER FUNCTION run_prepared(text) OWNER TO regress_enforce_bypass;
CREATE FUNCTION run_prepared_as(n text) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp
  AS $$ BEGIN EXECUTE format('CREATE TEMP TABLE snap AS EXECUTE %I', n); END $$;
ALTER FUNCTION run_prepared_as(text) OWNER TO regress_enforce_bypass;
CREATE FUNCTION run_prepared_explained(n text) RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp
  AS $$ BEGIN RETURN QUERY EXECUTE format('EXPLAIN (ANALYZE, COSTS OFF) CREATE TEMP TABLE snap2 AS EXECUTE %I', n); END $$;
ALTER FUNCTION run_prepared_explained(text) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION run_prepared_explained(text) TO regress_enforce_app;
GRANT EXECUTE ON FUNCTION run_prepared_as(text) TO regress_enforce_app;
-- an exempt role's own prepared statements run, also under a name an
-- ordinary role's failed PREPARE used before
SET ROLE regress_enforce_app;
PREPARE own_z AS SELECT no_such_column;
RESET ROLE;
PREPARE own_z AS SELECT 1 AS one;
EXECUTE own_z;
EXPLAIN (COSTS OFF) EXECUTE own_z;
DEALLOCATE own_z;
GRANT EXECUTE ON FUNCTION clear_of(regclass), import_into(regclass), copy_like(regclass),
  run_prepared(text) TO regress_enforce_app;
-- a cursor a function of the schema's opens as its (ordinary) owner is
-- fetched by a superuser as before
CREATE FUNCTION open_report(c refcursor, t text) RETURNS refcursor LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp
  AS $$ BEGIN OPEN c FOR SELECT id, stage FROM deals WHERE tenant_id = t ORDER BY id; RETURN c; END $$;
ALTER FUNCTION open_report(refcursor, text) OWNER TO regress_enforce_owner;
BEGIN;
SELECT open_report('rep', 't-1');
FETCH ALL FROM rep;
COMMIT;
-- ... also by a superuser that is a member of the function's owner (round AU)
GRANT regress_enforce_owner TO CURRENT_USER;
BEGIN;
SELECT open_report('rep', 't-1');
FETCH ALL FROM rep;
COMMIT;
REVOKE regress_enforce_owner FROM CURRENT_USER;
DROP FUNCTION open_report(refcursor, text);
CREATE FUNCTION parse_as(proto anyelement, j jsonb) RETURNS anyelement LANGUAGE sql
  SECURITY DEFINER SET search_path = pg_catalog, pg_temp
  AS $$ SELECT jsonb_populate_record(proto, j) $$;
ALTER FUNCTION parse_as(anyelement, jsonb) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION parse_as(anyelement, jsonb) TO regress_enforce_app;
CREATE FUNCTION consume(c refcursor) RETURNS SETOF text LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp AS $$
DECLARE r record;
BEGIN LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; RETURN NEXT r::text; END LOOP; END $$;
CREATE FUNCTION lock_of(rel regclass) RETURNS void LANGUAGE plpgsql SECURITY DEFINER
  SET search_path = enforce_modes, pg_temp AS $$
BEGIN EXECUTE format('LOCK TABLE %s IN EXCLUSIVE MODE', rel); END $$;
ALTER FUNCTION consume(refcursor) OWNER TO regress_enforce_bypass;
ALTER FUNCTION lock_of(regclass) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION consume(refcursor), lock_of(regclass) TO regress_enforce_app;
CREATE ROLE regress_enforce_grp;
GRANT regress_enforce_grp TO regress_enforce_app;
GRANT USAGE ON SCHEMA enforce_modes TO regress_enforce_grp;
GRANT EXECUTE ON FUNCTION consume(refcursor) TO regress_enforce_grp;
ALTER FUNCTION deals_of(regclass) OWNER TO regress_enforce_bypass;
ALTER FUNCTION log_into(regclass, text) OWNER TO regress_enforce_bypass;
ALTER FUNCTION set_stage_of(regclass, text) OWNER TO regress_enforce_bypass;
GRANT EXECUTE ON FUNCTION deals_of(regclass), log_into(regclass, text), set_stage_of(regclass, text)
  TO regress_enforce_app;
SET ROLE regress_enforce_app;
-- as meant: one tenant's rows
SELECT * FROM deals_of('enforce_modes.deals');
BEGIN;
CREATE TEMP VIEW inv WITH (security_invoker) AS
  SELECT 't-1'::text AS tenant_id, id, stage || ' of ' || tenant_id AS stage FROM enforce_modes.deals;
GRANT SELECT ON inv TO PUBLIC;
SELECT * FROM deals_of('pg_temp.inv');
ROLLBACK;
BEGIN;
CREATE FUNCTION pg_temp.steal() RETURNS TABLE (tenant_id text, id int, stage text)
  LANGUAGE sql AS $$ SELECT 't-1'::text, id, stage || ' of ' || tenant_id FROM enforce_modes.deals $$;
CREATE TEMP VIEW stolen AS SELECT * FROM pg_temp.steal();
GRANT SELECT ON stolen TO PUBLIC;
SELECT * FROM deals_of('pg_temp.stolen');
ROLLBACK;
BEGIN;
CREATE TEMP TABLE loot (tenant_id text, msg text);
GRANT INSERT ON loot TO PUBLIC;
CREATE FUNCTION pg_temp.grab() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.msg := (SELECT string_agg(tenant_id || ':' || stage, ',' ORDER BY tenant_id) FROM enforce_modes.deals);
  RETURN NEW;
END $$;
CREATE TRIGGER grab BEFORE INSERT ON loot FOR EACH ROW EXECUTE FUNCTION pg_temp.grab();
SAVEPOINT s;
SELECT log_into('pg_temp.loot', 'hi');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK TO s;
SELECT count(*) AS looted FROM loot WHERE tenant_id = 't-1';
ROLLBACK;
BEGIN;
CREATE TEMP VIEW upd AS SELECT 't-1'::text AS tenant_id, 1 AS id, 'x'::text AS stage;
GRANT SELECT, UPDATE ON upd TO PUBLIC;
CREATE FUNCTION pg_temp.upd_all() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN UPDATE enforce_modes.deals SET stage = NEW.stage; RETURN NEW; END $$;
CREATE TRIGGER upd_all INSTEAD OF UPDATE ON upd FOR EACH ROW EXECUTE FUNCTION pg_temp.upd_all();
SELECT set_stage_of('pg_temp.upd', 'pwned');
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
-- a column DEFAULT of the caller's temporary table calling its function
BEGIN;
CREATE FUNCTION pg_temp.leak() RETURNS text LANGUAGE plpgsql AS $$
BEGIN RETURN (SELECT string_agg(tenant_id || ':' || stage, ',') FROM enforce_modes.deals); END $$;
CREATE TEMP TABLE dt (tenant_id text, msg text, g text DEFAULT pg_temp.leak());
GRANT INSERT ON dt TO PUBLIC;
SELECT log_into('pg_temp.dt', 'x');
ROLLBACK;
-- a domain of the caller's shadowing a type name on a definer's path:
-- its CHECK calls the caller's function, as the exempt role
BEGIN;
CREATE FUNCTION pg_temp.chk(v pg_catalog.text) RETURNS bool LANGUAGE plpgsql AS $$
BEGIN PERFORM count(*) FROM enforce_modes.deals; RETURN true; END $$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.chk(VALUE));
SELECT stage_sql(1);
ROLLBACK;
-- a cursor of the caller's fetched by a definer runs the caller's function
-- as the exempt role
BEGIN;
CREATE FUNCTION pg_temp.leakv() RETURNS text LANGUAGE plpgsql VOLATILE AS $$
BEGIN RETURN (SELECT string_agg(tenant_id || ':' || stage, ',') FROM enforce_modes.deals); END $$;
DECLARE c CURSOR FOR SELECT 't-1'::text AS t, pg_temp.leakv() AS v;
SELECT consume('c');
ROLLBACK;
-- ... also when the cursor's plan only calls built-ins, one of which runs
-- SQL text as the current role (round AQ)
BEGIN;
DECLARE c CURSOR FOR
  SELECT 't-1'::text AS t,
         query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text AS v;
SELECT consume('c');
ROLLBACK;
-- a value of the caller's temporary composite type, whose domain's CHECK
-- runs SQL text, handed to a generic definer (round AQ)
BEGIN;
CREATE DOMAIN pg_temp.d AS pg_catalog.text
  CHECK (length(query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text) > 0);
CREATE TYPE pg_temp.comp AS (x pg_temp.d);
SELECT parse_as(NULL::pg_temp.comp, '{"x": "hi"}');
ROLLBACK;
-- utility statements over the caller's temporary table run its code too
-- (round AR): TRUNCATE its triggers, COPY its CHECKs, CREATE TABLE (LIKE
-- it INCLUDING ALL) copies its DEFAULTs; and EXECUTE of its prepared
-- statement runs its expressions
BEGIN;
CREATE TEMP TABLE l1 (tenant_id text, msg text);
GRANT ALL ON l1 TO PUBLIC;
SELECT clear_of('pg_temp.l1');
ROLLBACK;
BEGIN;
CREATE TEMP TABLE it2 (tenant_id text,
  msg text CHECK (length(query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text) > 0));
GRANT ALL ON it2 TO PUBLIC;
SELECT import_into('pg_temp.it2');
ROLLBACK;
BEGIN;
CREATE TEMP TABLE src (tenant_id text,
  loot text DEFAULT query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text);
SELECT copy_like('pg_temp.src');
ROLLBACK;
PREPARE p_loot AS SELECT query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text;
SELECT run_prepared('p_loot');
SELECT run_prepared_as('p_loot');
SELECT run_prepared_explained('p_loot');
DEALLOCATE p_loot;
-- a name an exempt role prepared, freed, and prepared again by the role:
-- the exempt role's record went with its statement's memory (round AT)
RESET ROLE;
PREPARE p_reused AS SELECT 1;
DEALLOCATE p_reused;
SET ROLE regress_enforce_app;
PREPARE p_reused AS SELECT query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text;
SELECT run_prepared('p_reused');
DEALLOCATE p_reused;
-- a cursor the role's own SECURITY DEFINER function in pg_temp opens (round AT)
BEGIN;
CREATE FUNCTION pg_temp.opener() RETURNS refcursor LANGUAGE plpgsql SECURITY DEFINER AS $f$
DECLARE c refcursor := 'c_own';
BEGIN
  OPEN c FOR SELECT 't-1'::text AS t,
    query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text AS v;
  RETURN c;
END $f$;
SELECT consume(pg_temp.opener());
ROLLBACK;
-- ... also when the role hands it on after SET ROLE to a group it is a
-- member of (round AU)
BEGIN;
CREATE FUNCTION pg_temp.opener() RETURNS refcursor LANGUAGE plpgsql SECURITY DEFINER AS $f$
DECLARE c refcursor := 'c_grp';
BEGIN
  OPEN c FOR SELECT 't-1'::text AS t,
    query_to_xml('SELECT count(*) FROM enforce_modes.deals', false, false, '')::text AS v;
  RETURN c;
END $f$;
SET LOCAL ROLE regress_enforce_grp;
SELECT consume(pg_temp.opener());
ROLLBACK;
-- ... and a cursor declared under SET ROLE, fetched after RESET ROLE (round AS)
RESET ROLE;
SET ROLE regress_enforce_app;
BEGIN;
DECLARE c2 CURSOR FOR SELECT 1 AS one;
RESET ROLE;
SELECT consume('c2');
ROLLBACK;
SET ROLE regress_enforce_app;
-- LOCK TABLE of the caller's temporary view locks what the view reads
BEGIN;
CREATE TEMP VIEW lv AS SELECT * FROM enforce_modes.deals;
GRANT SELECT ON lv TO PUBLIC;
SELECT lock_of('pg_temp.lv');
ROLLBACK;
RESET ROLE;
-- the caller's temporary table, used by a superuser: refused too (its
-- DEFAULTs, CHECKs, rules and triggers are the caller's code, round AQ)
SET ROLE regress_enforce_app;
CREATE TEMP TABLE staging (tenant_id text, id int);
GRANT ALL ON staging TO PUBLIC;
RESET ROLE;
INSERT INTO pg_temp.staging VALUES ('t-1', 1), ('t-2', 2);
SELECT count(*) FROM pg_temp.staging;
DROP TABLE pg_temp.staging;
-- nothing was changed
SELECT tenant_id, id, stage FROM deals WHERE tenant_id IN ('t-1', 't-2') ORDER BY tenant_id, id;
DROP FUNCTION deals_of(regclass), log_into(regclass, text), set_stage_of(regclass, text),
  consume(refcursor), lock_of(regclass), stage_sql(int), parse_as(anyelement, jsonb),
  clear_of(regclass), import_into(regclass), copy_like(regclass), run_prepared(text),
  run_prepared_as(text), run_prepared_explained(text);
DROP OWNED BY regress_enforce_grp;
DROP ROLE regress_enforce_grp;
-- the schema owner's own views and rules over its own tables read as
-- their owner, which row-level security leaves out as well; but their
-- expressions, written by a role the check applies to, would run with a
-- superuser's rights (round FA: query_to_xml() in such a rule or view
-- copied every tenant's rows into the role's table): a superuser's
-- statement through them is refused, and changes nothing
SET ROLE regress_enforce_owner;
CREATE TABLE deal_audit (tenant_id text, id int, stage text);
CREATE RULE deals_audit AS ON UPDATE TO deals
  DO ALSO INSERT INTO deal_audit VALUES (OLD.tenant_id, OLD.id, OLD.stage);
CREATE VIEW owner_deals AS SELECT tenant_id, id FROM deals;
RESET ROLE;
UPDATE deals SET stage = stage WHERE id = 1;
SELECT count(*) FROM owner_deals;
SELECT count(*) FROM deal_audit;
DROP RULE deals_audit ON deals;
DROP VIEW owner_deals;
DROP TABLE deal_audit;
DROP FUNCTION pg_temp.app_deals_fn();
DROP VIEW pg_temp.app_deals, pg_temp.own_deals, pg_temp.invoker_deals;
DROP FUNCTION bypass_deals(), bypass_set_stage(int, text), bypass_inlined(), deals_t1();
\set VERBOSITY default

-- ---------------------------------------------------------------- clean up
DELETE FROM tenants WHERE clerk_org_id IN ('org_enforceModesA', 'org_enforceModesB');
DROP SCHEMA enforce_modes CASCADE;
DROP OWNED BY regress_enforce_owner, regress_enforce_app, regress_enforce_bypass, regress_enforce_ops;
DROP ROLE regress_enforce_owner, regress_enforce_app, regress_enforce_bypass, regress_enforce_ops;
