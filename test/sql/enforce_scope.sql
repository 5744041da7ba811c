-- enforce_scope: a pin is one value for the whole statement, and one
-- top-level statement (with the functions, triggers, DO blocks and cursors
-- it runs) reaches one tenant.  Run as an ordinary role; every case checks
-- the rows read, written or left, as the superuser, not only the error.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_scope;
SET search_path = enforce_scope, public;
CREATE ROLE regress_enforce_scope;
GRANT USAGE, CREATE ON SCHEMA enforce_scope TO regress_enforce_scope;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''

CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE TABLE notes (tenant_id text NOT NULL, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, activities, notes TO regress_enforce_scope;
INSERT INTO deals VALUES (:T1, 1, 'a1'), (:T1, 2, 'a2'), (:T2, 1, 'b1'), (:T2, 2, 'b2');
INSERT INTO activities VALUES (:T1, 1, 'call'), (:T2, 1, 'mail');
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_scope1', 'Scope One', 'scope-one'), (:T2, 'org_scope2', 'Scope Two', 'scope-two');
GRANT SELECT (id, clerk_org_id) ON tenants TO regress_enforce_scope;
-- the caller may create functions and temp tables, as any role
SET ROLE regress_enforce_scope;
CREATE TEMP TABLE log (x int);
CREATE FUNCTION f_writes() RETURNS bool LANGUAGE plpgsql COST 10000
  AS $$ BEGIN INSERT INTO log VALUES (1); RETURN true; END $$;
CREATE FUNCTION stages_of(t text) RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = t $$;
CREATE FUNCTION my_stages() RETURNS text LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT string_agg(stage, ',' ORDER BY id) FROM deals
                      WHERE tenant_id = gtm_current_tenant()); END $$;
CREATE FUNCTION count_of(t text) RETURNS bigint LANGUAGE plpgsql
  AS $$ BEGIN RETURN (SELECT count(*) FROM deals WHERE tenant_id = t); END $$;
CREATE FUNCTION note_for(t text) RETURNS void LANGUAGE plpgsql
  AS $$ BEGIN INSERT INTO notes VALUES (t, 'from a function'); END $$;
SET enable_indexscan = off;
SET enable_bitmapscan = off;

-- ---------------------------------------------------------------- 1. one value
-- a built-in whose value changes during the statement: the first value
-- fixes the statement's tenant, the second is rejected (no T2 row comes back)
SELECT tenant_id, kind FROM activities
 WHERE tenant_id = CASE WHEN txid_current_if_assigned() IS NULL THEN :T1 ELSE :T2 END
   AND f_writes();
-- current_setting() is frozen: set_config() in the same statement
SET app.tenant_id = :T1;
SELECT tenant_id, kind FROM activities
 WHERE tenant_id = current_setting('app.tenant_id')
   AND set_config('app.tenant_id', :T2, false) IS NOT NULL;
SET app.tenant_id = :T1;
EXPLAIN (COSTS OFF) SELECT * FROM deals WHERE tenant_id = current_setting('app.tenant_id');
SELECT stage FROM deals WHERE tenant_id = current_setting('app.tenant_id') ORDER BY id;
SELECT * FROM gtm_check_statement($$SELECT * FROM deals WHERE tenant_id = current_setting('app.tenant_id')$$);
-- ... also written IS NOT DISTINCT FROM (on a NOT NULL column): frozen,
-- pinned, and it cannot move either
SELECT stage FROM deals WHERE tenant_id IS NOT DISTINCT FROM current_setting('app.tenant_id') ORDER BY id;
SELECT stage FROM deals WHERE tenant_id IS NOT DISTINCT FROM current_setting('app.tenant_id')
   AND set_config('app.tenant_id', :T2, false) IS NOT NULL;
SET app.tenant_id = :T1;
-- ... and between the FETCHes of a cursor
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = current_setting('app.tenant_id');
FETCH 1 FROM c;
SELECT set_config('app.tenant_id', :T2, false) IS NOT NULL AS changed;
FETCH 1 FROM c;
ROLLBACK;
SET app.tenant_id = :T1;
-- ... and in the ON of a MERGE, a field of its own from PostgreSQL 17 on
-- (round AN): frozen and accepted there too; T1's deals merged, T2's not
BEGIN;
MERGE INTO deals d USING (VALUES (1)) s(i)
   ON d.tenant_id = current_setting('app.tenant_id') AND d.id = s.i
 WHEN MATCHED THEN UPDATE SET stage = 'merged';
MERGE INTO deals d USING (VALUES (2)) s(i)
   ON d.tenant_id = current_setting('app.tenant_id') AND d.id = s.i
  AND EXISTS (SELECT 1 FROM activities a WHERE a.tenant_id = current_setting('app.tenant_id'))
 WHEN MATCHED THEN UPDATE SET stage = 'merged';
SELECT id, stage FROM deals WHERE tenant_id = :T1 ORDER BY id;
SELECT id, stage FROM deals WHERE tenant_id = :T2 ORDER BY id;
ROLLBACK;
-- gtm_pin() keeps only its own result: as a part of the value compared it
-- is frozen again as a whole (a NULL let through, or the statement's tenant
-- mapped to another, cannot reach a second tenant); no T2 row comes back
SELECT set_config('app.tenant_id', :T1, false) IS NOT NULL AS set;
SELECT tenant_id, stage FROM deals
 WHERE tenant_id = coalesce(gtm_pin(nullif(current_setting('app.tenant_id'), 'x')), :T2)
   AND set_config('app.tenant_id', 'x', false) IS NOT NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('app.tenant_id', :T1, false) IS NOT NULL AS set;
UPDATE deals SET stage = stage || '!' || set_config('app.tenant_id', 'x', false)
 WHERE tenant_id = coalesce(gtm_pin(nullif(current_setting('app.tenant_id'), 'x')), :T2);
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('app.tenant_id', :T1, false) IS NOT NULL AS set;
SELECT tenant_id, stage FROM deals
 WHERE tenant_id = CASE gtm_pin(current_setting('app.tenant_id')) WHEN :T1 THEN :T2 ELSE :T1 END
   AND set_config('app.tenant_id', :T2, false) IS NOT NULL;
\echo :LAST_ERROR_SQLSTATE
SET app.tenant_id = :T1;
INSERT INTO notes SELECT coalesce(gtm_pin(nullif(current_setting('app.tenant_id'), 'x')), :T2), 'n' || i
  FROM generate_series(1, 2) i WHERE set_config('app.tenant_id', 'x', false) IS NOT NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_check_statement($$SELECT * FROM deals WHERE tenant_id = coalesce(gtm_pin(current_setting('app.tenant_id')), 'b')$$);
-- gtm_pin() as the whole value is a pin (NULL matches no row)
SELECT stage FROM deals WHERE tenant_id = gtm_pin(current_setting('app.tenant_id')) ORDER BY id;
SELECT count(*) AS rows_of_null FROM deals WHERE tenant_id = gtm_pin(current_setting('app.no_such', true));
-- only conditions are frozen: a setting given as the argument of a SQL
-- function in FROM that the planner inlines into "tenant_id = t" is no pin
-- (the argument need not be a tenant at all); a constant or a parameter
-- there is (round BJ)
CREATE FUNCTION deals_of(t text) RETURNS SETOF deals LANGUAGE sql STABLE
  AS $$ SELECT * FROM deals WHERE tenant_id = t $$;
SELECT count(*) FROM deals_of(current_setting('app.tenant_id'));
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS t1_deals FROM deals_of(:T1);
PREPARE deals_of_param(text) AS SELECT count(*) AS t1_deals FROM deals_of($1);
EXECUTE deals_of_param(:T1);
DEALLOCATE deals_of_param;
RESET ROLE;
-- (its functions outside pg_temp are the migration role's to drop: round EY)
DROP FUNCTION deals_of(text);
SELECT tenant_id, stage FROM deals ORDER BY 1, 2;
SELECT count(*) AS notes_written FROM notes;
SET ROLE regress_enforce_scope;
SET app.tenant_id = :T1;
-- built-ins marked IMMUTABLE that read a setting (byteaout: bytea_output;
-- float8out: extra_float_digits; timezone(text, timestamp):
-- timezone_abbreviations) make an expression of a parameter or of
-- gtm_current_tenant() change half-way: it is frozen as a whole, and its
-- second value is rejected (generic plan, custom plan, cursor); a written
-- value of that kind is no pin
SET bytea_output = 'hex';
SET plan_cache_mode = force_generic_plan;
PREPARE flip(text) AS
  SELECT tenant_id, stage, set_config('bytea_output', 'escape', false) AS flip FROM deals
   WHERE tenant_id = CASE WHEN ($1::bytea)::text = $1 THEN :T2 ELSE :T1 END;
EXECUTE flip('x');
\echo :LAST_ERROR_SQLSTATE
SET bytea_output = 'hex';
PREPARE flip_update(text) AS
  UPDATE deals SET stage = stage || '!' || set_config('bytea_output', 'escape', false)
   WHERE tenant_id = CASE WHEN ($1::bytea)::text = $1 THEN :T2 ELSE :T1 END;
EXECUTE flip_update('x');
\echo :LAST_ERROR_SQLSTATE
SET bytea_output = 'hex';
PREPARE flip_insert(text) AS
  INSERT INTO notes VALUES (CASE WHEN ($1::bytea)::text = $1 THEN :T2 ELSE :T1 END, 'planted');
EXECUTE flip_insert('x');
\echo :LAST_ERROR_SQLSTATE
RESET plan_cache_mode;
DEALLOCATE flip;
DEALLOCATE flip_update;
DEALLOCATE flip_insert;
SET extra_float_digits = 0;
SELECT tenant_id, stage, set_config('extra_float_digits', '1', false) AS flip FROM deals
 WHERE tenant_id = CASE WHEN (length(current_setting('app.tenant_id'))::float8 / 360 + 0.2)::text = '0.3'
                        THEN :T1 ELSE :T2 END;
\echo :LAST_ERROR_SQLSTATE
RESET extra_float_digits;
SET bytea_output = 'hex';
BEGIN;
DECLARE flip_cursor CURSOR FOR SELECT tenant_id, stage FROM deals
 WHERE tenant_id = CASE WHEN (current_setting('app.tenant_id')::bytea)::text = current_setting('app.tenant_id')
                        THEN :T2 ELSE :T1 END;
FETCH 1 FROM flip_cursor;
SET LOCAL bytea_output = 'escape';
FETCH ALL FROM flip_cursor;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
RESET bytea_output;
SET app.tenant_id = :T1;
RESET ROLE;
SELECT tenant_id, stage FROM deals ORDER BY 1, 2;
SELECT count(*) AS notes_written FROM notes;
SET ROLE regress_enforce_scope;
SET app.tenant_id = :T1;
-- tenants compared as text: a type whose text depends on a setting (two
-- dates print alike under two DateStyles, two instants under two TimeZones)
-- is compared by its binary form; no second tenant comes back or is changed
RESET ROLE;
CREATE TABLE dated (tenant_id date NOT NULL, secret text);
CREATE TABLE instants (tenant_id timestamptz NOT NULL, secret text);
INSERT INTO dated VALUES ('2020-02-01', 'first'), ('2020-01-02', 'second');
INSERT INTO instants VALUES ('2020-01-01 00:00:00+00', 'first'), ('2020-01-01 01:00:00+00', 'second');
GRANT SELECT, UPDATE ON dated, instants TO regress_enforce_scope;
SET ROLE regress_enforce_scope;
CREATE FUNCTION pg_temp.secret_of(d date) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT string_agg(secret, ',') FROM enforce_scope.dated WHERE tenant_id = d); END $$;
CREATE FUNCTION pg_temp.touch(d date) RETURNS int LANGUAGE plpgsql AS
  $$ BEGIN UPDATE enforce_scope.dated SET secret = secret || '!' WHERE tenant_id = d; RETURN 1; END $$;
CREATE FUNCTION pg_temp.secret_at(t timestamptz) RETURNS text LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT string_agg(secret, ',') FROM enforce_scope.instants WHERE tenant_id = t); END $$;
\set SHOW_CONTEXT never
SELECT set_config('datestyle', s, false) AS style, pg_temp.secret_of(d)
  FROM (VALUES ('SQL, DMY', date '2020-02-01'), ('SQL, MDY', date '2020-01-02')) v(s, d);
\echo :LAST_ERROR_SQLSTATE
SELECT set_config('datestyle', s, false) AS style, pg_temp.touch(d)
  FROM (VALUES ('SQL, DMY', date '2020-02-01'), ('SQL, MDY', date '2020-01-02')) v(s, d);
\echo :LAST_ERROR_SQLSTATE
SET datestyle = 'SQL, DMY';
SET plan_cache_mode = force_generic_plan;
PREPARE two_dates(text) AS SELECT a.secret, b.secret FROM dated a, dated b
  WHERE a.tenant_id = '2020-02-01' AND b.tenant_id = $1::date;
SET datestyle = 'SQL, MDY';
EXECUTE two_dates('01/02/2020');
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE two_dates;
RESET plan_cache_mode;
SET datestyle = 'SQL';
SELECT set_config('timezone', z, false) AS zone, pg_temp.secret_at(t)
  FROM (VALUES ('ABC0', timestamptz '2020-01-01 00:00:00+00'),
               ('ABC-1', timestamptz '2020-01-01 01:00:00+00')) v(z, t);
\echo :LAST_ERROR_SQLSTATE
RESET datestyle;
RESET timezone;
\set SHOW_CONTEXT errors
-- an enum's text is its label, which its owner may rename while a
-- statement runs: a cast of it is frozen, and an enum tenant is its value
-- (a type of the session's own, as here, is no pin at all: its code would
-- run for every row tested, enforce_attack_shapes_rejected)
CREATE TYPE pg_temp.code AS ENUM ('one', 'two');
BEGIN;
DECLARE renamed CURSOR FOR SELECT tenant_id, secret FROM dated
 WHERE tenant_id = CASE ('one'::pg_temp.code)::text WHEN 'one' THEN date '2020-02-01' ELSE date '2020-01-02' END;
FETCH 1 FROM renamed;
ALTER TYPE pg_temp.code RENAME VALUE 'one' TO 'uno';
FETCH ALL FROM renamed;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
DROP TYPE pg_temp.code;
RESET ROLE;
SELECT tenant_id, secret FROM dated ORDER BY 1;
SET ROLE regress_enforce_scope;
SET app.tenant_id = :T1;
-- a binary-compatible cast that changes the text (int4 -1 is oid
-- 4294967295) is no cast of the pin: no row of the second tenant comes back
RESET ROLE;
CREATE TABLE numbered (tenant_id int4 NOT NULL, secret text);
CREATE TABLE named (tenant_id text NOT NULL, secret text);
INSERT INTO numbered VALUES (-1, 'minus one');
INSERT INTO named VALUES ('4294967295', 'big');
GRANT SELECT ON numbered, named TO regress_enforce_scope;
SET ROLE regress_enforce_scope;
SELECT secret FROM numbered WHERE tenant_id::oid = 4294967295
UNION ALL SELECT secret FROM named WHERE tenant_id = '4294967295';
\echo :LAST_ERROR_SQLSTATE
SET plan_cache_mode = force_generic_plan;
PREPARE as_oid(oid) AS SELECT secret FROM numbered WHERE tenant_id = $1::int4
  UNION ALL SELECT secret FROM named WHERE tenant_id = '4294967295';
EXECUTE as_oid(4294967295);
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE as_oid;
RESET plan_cache_mode;
SET app.tenant_id = :T1;
-- a setting compared in an output column is no pin and fixes nothing
SELECT tenant_id = current_setting('app.tenant_id') AS mine, stage
  FROM deals WHERE tenant_id = :T1 ORDER BY id;
-- a grouped subquery pinned from outside by a setting: frozen through the
-- grouping step (its own range-table entry, RTE_GROUP, from PostgreSQL 18 on)
SELECT * FROM (SELECT tenant_id, count(*) FROM deals GROUP BY tenant_id) s
 WHERE s.tenant_id = current_setting('app.tenant_id');
-- ... and in HAVING on the grouped column, which the planner moves into
-- WHERE (round FF: rejected, not frozen); set_config() cannot move it
SELECT tenant_id = :T1 AS t1, count(*) FROM deals GROUP BY tenant_id
HAVING tenant_id = current_setting('app.tenant_id');
SELECT tenant_id = :T1 AS t1, count(*) FROM deals GROUP BY tenant_id
HAVING tenant_id = current_setting('app.tenant_id')
   AND set_config('app.tenant_id', :T2, false) IS NOT NULL;
SET app.tenant_id = :T1;
-- a correlated subquery on a grouped column, in the output, HAVING and
-- ORDER BY: pinned by the grouped table's pin (PostgreSQL 18 plans it
-- before the grouping step's Vars are replaced; round FJ F1 rejected it
-- there); with a grouping set, the total row's NULL matches no deal
SELECT a.tenant_id = :T1 AS t1, count(*) AS n,
       (SELECT string_agg(d.stage, ',' ORDER BY d.id) FROM deals d WHERE d.tenant_id = a.tenant_id) AS stages
  FROM activities a WHERE a.tenant_id = :T1 GROUP BY a.tenant_id
HAVING (SELECT count(*) FROM deals d WHERE d.tenant_id = a.tenant_id) > 0
 ORDER BY (SELECT min(d.id) FROM deals d WHERE d.tenant_id = a.tenant_id);
SELECT a.tenant_id = :T1 AS t1, count(*) AS n,
       (SELECT count(*) FROM deals d WHERE d.tenant_id = a.tenant_id) AS deals
  FROM activities a WHERE a.tenant_id = :T1 GROUP BY ROLLUP (a.tenant_id) ORDER BY 1;
-- an EXISTS in the output list, its inner table pinned with the same value:
-- accepted whether the planner hashes it or not (doc/enforcement.md; round
-- FI F3: correlated on the tenant column only, the hashed form reads every
-- tenant and is rejected)
SELECT d.id, EXISTS (SELECT 1 FROM activities a WHERE a.tenant_id = :T1
                        AND a.tenant_id = d.tenant_id AND a.contact_id = d.id) AS has_activity
  FROM deals d WHERE d.tenant_id = :T1 ORDER BY d.id;
-- ... and still rejected when the grouped table is not pinned
SELECT count(*), (SELECT count(*) FROM deals d WHERE d.tenant_id = a.tenant_id)
  FROM activities a GROUP BY a.tenant_id;
-- a subquery's value is not a pin, even a setting's
SELECT count(*) FROM deals WHERE tenant_id = (SELECT current_setting('app.tenant_id'));
-- a set-returning function is never a pin: nothing is written
INSERT INTO activities (tenant_id, kind) SELECT unnest(ARRAY[:T1, :T2]), 'x';
SELECT * FROM gtm_check_statement($$INSERT INTO activities (tenant_id, kind) SELECT unnest(ARRAY['a', 'b']), 'x'$$);
SELECT count(*) FROM deals d WHERE d.tenant_id = :T1
   AND d.tenant_id IN (SELECT unnest(ARRAY[:T1, :T2]));
SELECT count(*) AS writes_logged FROM pg_temp.log;
RESET ROLE;
SELECT tenant_id, kind FROM activities ORDER BY 1, 2;
SET ROLE regress_enforce_scope;
-- (no temporary table of an earlier request may remain where requests
-- set their tenant below)
DROP TABLE pg_temp.log;

-- ---------------------------------------------------------------- 2. one top-level statement
-- a function called per row reads a second tenant (the tenant ids from a
-- list: the tenants table itself is tenant-scoped, enforce_tenant_row)
SELECT id, stages_of(id) FROM (VALUES (:T1), (:T2)) AS v(id) ORDER BY id;
SELECT id, stages_of(id) FROM tenants
 WHERE clerk_org_id IN ('org_scope1', 'org_scope2') ORDER BY clerk_org_id;
-- (no CONTEXT here and below: PostgreSQL 18 says "PL/pgSQL expression"
-- where 15 and 17 say "SQL expression")
\set SHOW_CONTEXT never
SELECT count_of(:T1), count_of(:T2);
\set SHOW_CONTEXT errors
SELECT count_of(:T1), count_of(:T1);
-- in a DO block
DO $$ BEGIN
  PERFORM count(*) FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
  PERFORM count(*) FROM deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
END $$;
-- writes through functions: the first tenant's row would be written, the
-- second rejected, so the statement changes nothing
SELECT note_for(t) FROM (VALUES (:T1), (:T2)) v(t);
-- a statement pinned to T1 whose function writes for T2
SELECT count(*), note_for(:T2) FROM deals WHERE tenant_id = :T1;
-- two top-level statements, one tenant each: accepted
SELECT count_of(:T1);
SELECT count_of(:T2);
SELECT note_for(:T1);
RESET ROLE;
SELECT tenant_id, body FROM notes ORDER BY 1, 2;
SET gtm.allow_session_tenant = on;
SET ROLE regress_enforce_scope;

-- ---------------------------------------------------------------- 3. cursors and the session tenant
SELECT gtm_set_tenant(:T1, false) = :T1 AS set;
BEGIN;
DECLARE c CURSOR FOR SELECT i, my_stages() FROM generate_series(1, 4) i;
FETCH 2 FROM c;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
-- the tenant changed by a rolled-back savepoint: the cursor's next rows
-- would belong to another tenant
BEGIN;
DECLARE c CURSOR FOR SELECT i, my_stages() FROM generate_series(1, 4) i;
SAVEPOINT s;
SELECT gtm_set_tenant(:T2, true) = :T2 AS set_in_savepoint;
FETCH 2 FROM c;
ROLLBACK TO s;
\set SHOW_CONTEXT never
FETCH 2 FROM c;
\set SHOW_CONTEXT errors
ROLLBACK;
-- a cursor over another tenant's rows keeps the statement open: a second
-- tenant in between is rejected, the same tenant is fine
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = :T1 ORDER BY id;
FETCH 1 FROM c;
SELECT count(*) FROM deals WHERE tenant_id = :T1;
SELECT count(*) FROM deals WHERE tenant_id = :T2;
ROLLBACK;
-- once the cursor is closed, the next statement may reach another tenant
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = :T1 ORDER BY id;
FETCH 1 FROM c;
CLOSE c;
SELECT count(*) FROM deals WHERE tenant_id = :T2;
COMMIT;
-- ... but not within the client message that closes it: a statement that
-- reaches into a message lasts to its end, whatever ends the cursor half-way
-- (CLOSE, COMMIT, ROLLBACK TO); each message below is sent as one (\;)
BEGIN;
DECLARE c CURSOR FOR SELECT 1;
SELECT stage FROM deals WHERE tenant_id = :T1 ORDER BY id \; CLOSE c \; SELECT stage FROM deals WHERE tenant_id = :T2 ORDER BY id;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
DECLARE c CURSOR FOR SELECT 1;
SELECT stage FROM deals WHERE tenant_id = :T1 ORDER BY id \; COMMIT \; UPDATE deals SET stage = 'bridged' WHERE tenant_id = :T2 RETURNING stage;
\echo :LAST_ERROR_SQLSTATE
BEGIN;
SAVEPOINT s;
DECLARE c CURSOR FOR SELECT 1;
SELECT stage FROM deals WHERE tenant_id = :T1 ORDER BY id \; ROLLBACK TO s \; INSERT INTO notes VALUES (:T2, 'bridged') RETURNING body;
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT gtm_set_tenant(:T1, false) = :T1 AS set;
BEGIN;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH ALL FROM c \; CLOSE c \; SELECT gtm_set_tenant(:T2) \; SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
\echo :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT gtm_current_tenant() = :T1 AS still_t1;
RESET ROLE;
SELECT tenant_id, stage FROM deals ORDER BY 1, 2;
SELECT count(*) AS bridged_notes FROM notes WHERE body = 'bridged';
SET ROLE regress_enforce_scope;
-- gtm_set_tenant() reaches the tenant it sets, even when it fails and is
-- caught: the statement cannot go on to another tenant
DO $$
BEGIN
  BEGIN
    PERFORM gtm_set_tenant('22222222-2222-4222-8222-222222222222', true, 'user_nobody');
  EXCEPTION WHEN insufficient_privilege THEN NULL;
  END;
  PERFORM count(*) FROM enforce_scope.deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
  RAISE NOTICE 'read the other tenant';
END $$;
\echo :LAST_ERROR_SQLSTATE
-- an IMMUTABLE wrapper of gtm_current_tenant() is folded by the planner:
-- it gets NULL then, so no tenant is baked into a plan that a later
-- request of another tenant executes from the plan cache
-- (SQL and PL/pgSQL wrappers, and current_setting('gtm.tenant'), which
-- shows no tenant there)
CREATE FUNCTION pg_temp.ct() RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT gtm_current_tenant()';
CREATE FUNCTION pg_temp.ct_pl() RETURNS text IMMUTABLE LANGUAGE plpgsql AS 'BEGIN RETURN gtm_current_tenant(); END';
CREATE FUNCTION pg_temp.ct_setting() RETURNS text IMMUTABLE LANGUAGE sql AS $$SELECT current_setting('gtm.tenant')$$;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
-- (prepared as a pool client's protocol-level statement would be, by no
-- request: a SQL PREPARE of the application role left for a later request
-- is refused there, enforce_tenant_context_under_pools)
RESET ROLE;
PREPARE folded AS SELECT stage FROM deals WHERE tenant_id = pg_temp.ct() ORDER BY id;
PREPARE folded_pl AS SELECT stage FROM deals WHERE tenant_id = pg_temp.ct_pl() ORDER BY id;
PREPARE folded_setting AS SELECT stage FROM deals WHERE tenant_id = pg_temp.ct_setting() ORDER BY id;
SET ROLE regress_enforce_scope;
EXECUTE folded;
CREATE TEMP TABLE r1_pl ON COMMIT DROP AS EXECUTE folded_pl;
CREATE TEMP TABLE r1_setting ON COMMIT DROP AS EXECUTE folded_setting;
SELECT current_setting('gtm.tenant') = :T1 AS shown_outside_planning;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
EXECUTE folded;
CREATE TEMP TABLE r2_pl ON COMMIT DROP AS EXECUTE folded_pl;
CREATE TEMP TABLE r2_setting ON COMMIT DROP AS EXECUTE folded_setting;
-- the second request reads no row of the first request's tenant
SELECT (SELECT count(*) FROM r2_pl) = 0 AND (SELECT count(*) FROM r2_setting) = 0
       AS second_request_reads_nothing_of_first;
COMMIT;
DEALLOCATE folded;
DEALLOCATE folded_pl;
DEALLOCATE folded_setting;
DROP FUNCTION pg_temp.ct();
DROP FUNCTION pg_temp.ct_pl();
DROP FUNCTION pg_temp.ct_setting();
-- what a function the planner folds reads is in the plan: a generic plan
-- built while it read T1's rows carries them, and its later executions,
-- for T2's parameter or in another message, reach T1 again (rejected)
CREATE FUNCTION pg_temp.folded_stages() RETURNS text IMMUTABLE LANGUAGE plpgsql AS $f$
BEGIN
  RETURN (SELECT string_agg(stage, ',' ORDER BY id) FROM deals
           WHERE tenant_id = '11111111-1111-4111-8111-111111111111');
END $f$;
SET plan_cache_mode = force_generic_plan;
PREPARE carried(text) AS SELECT id, pg_temp.folded_stages() AS t1_stages FROM deals
  WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried(:T1);
EXECUTE carried(:T2);
EXECUTE carried(:T2);
PREPARE carried_write(text) AS UPDATE deals SET stage = stage WHERE tenant_id = $1 AND id = 1
  RETURNING id, pg_temp.folded_stages() AS t1_stages;
EXECUTE carried_write(:T2);
-- ... also through PL/pgSQL, which keeps a bare expression's plan for the
-- session and evaluates it without an executor start, and through a fold
-- inside a fold (an IMMUTABLE wrapper)
CREATE FUNCTION pg_temp.stages_plpgsql() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN RETURN pg_temp.folded_stages(); END $f$;
SELECT pg_temp.stages_plpgsql() IS NOT NULL AS read_for_t1;
\set SHOW_CONTEXT never
SELECT pg_temp.stages_plpgsql() AS t1_stages, stage FROM deals WHERE tenant_id = :T2 ORDER BY id;
UPDATE deals SET stage = pg_temp.stages_plpgsql() WHERE tenant_id = :T2 AND id = 2;
\set SHOW_CONTEXT errors
CREATE FUNCTION pg_temp.stages_wrapped() RETURNS text IMMUTABLE LANGUAGE plpgsql AS $f$
BEGIN RETURN pg_temp.folded_stages(); END $f$;
PREPARE carried_nested(text) AS SELECT id, pg_temp.stages_wrapped() AS t1_stages FROM deals
  WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried_nested(:T1);
EXECUTE carried_nested(:T2);
-- ... also through a SQL-language layer anywhere in the chain: the planner
-- evaluates an IMMUTABLE SQL function whose arguments are constants (it
-- inlines one only otherwise)
CREATE FUNCTION pg_temp.sql_wrap() RETURNS text IMMUTABLE LANGUAGE sql AS
  'SELECT pg_temp.folded_stages()';
CREATE FUNCTION pg_temp.sql_reader() RETURNS text IMMUTABLE LANGUAGE sql AS
  $f$SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111'$f$;
CREATE FUNCTION pg_temp.pl_wrap() RETURNS text IMMUTABLE LANGUAGE plpgsql AS $f$
BEGIN RETURN pg_temp.sql_reader(); END $f$;
PREPARE carried_sql(text) AS SELECT id, pg_temp.sql_wrap() AS t1_stages FROM deals
  WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried_sql(:T1);
EXECUTE carried_sql(:T2);
PREPARE carried_sql_write(text) AS UPDATE deals SET stage = pg_temp.sql_wrap()
  WHERE tenant_id = $1 AND id = 2;
-- (which of the two reaches comes first differs between versions)
\set VERBOSITY terse
EXECUTE carried_sql_write(:T2);
\set VERBOSITY default
PREPARE carried_pl_sql(text) AS SELECT id, pg_temp.pl_wrap() AS t1_stages FROM deals
  WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried_pl_sql(:T1);
EXECUTE carried_pl_sql(:T2);
CREATE FUNCTION pg_temp.pl_volatile() RETURNS text LANGUAGE plpgsql AS $f$
BEGIN RETURN pg_temp.pl_wrap(); END $f$;
SELECT pg_temp.pl_volatile() IS NOT NULL AS read_for_t1;
\set SHOW_CONTEXT never
UPDATE deals SET stage = pg_temp.pl_volatile() WHERE tenant_id = :T2 AND id = 1;
\set SHOW_CONTEXT errors
-- ... a SQL function of several statements (never inlined) passing its
-- constant argument on to the reader, run by its own executor
CREATE FUNCTION pg_temp.stages_of(t text) RETURNS text IMMUTABLE LANGUAGE plpgsql AS $f$
BEGIN RETURN (SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = t); END $f$;
CREATE FUNCTION pg_temp.sql_two(t text) RETURNS text IMMUTABLE LANGUAGE sql AS
  'SELECT 1; SELECT pg_temp.stages_of(t)';
PREPARE carried_sql_two(text) AS SELECT id, pg_temp.sql_two('11111111-1111-4111-8111-111111111111') AS t1_stages
  FROM deals WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried_sql_two(:T1);
EXECUTE carried_sql_two(:T2);
DEALLOCATE carried_sql_two;
DROP FUNCTION pg_temp.sql_two(text);
DROP FUNCTION pg_temp.stages_of(text);
DEALLOCATE carried_sql;
DEALLOCATE carried_sql_write;
DEALLOCATE carried_pl_sql;
-- an IMMUTABLE SQL function of a column is still inlined (so an index on
-- its expression serves it), also the role's own in pg_temp (which is not
-- inlined while an exempt role plans, round AQ); so is a STABLE helper
-- that gives the session tenant, a pin (round AS)
CREATE FUNCTION pg_temp.norm(s text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT lower(s)';
EXPLAIN (COSTS OFF) SELECT id FROM deals WHERE tenant_id = :T1 AND pg_temp.norm(stage) = 'won';
CREATE FUNCTION enforce_scope.norm(s text) RETURNS text IMMUTABLE LANGUAGE sql AS 'SELECT lower(s)';
EXPLAIN (COSTS OFF) SELECT id FROM deals WHERE tenant_id = :T1 AND enforce_scope.norm(stage) = 'won';
-- dropping it is not the role's (round EY)
DROP FUNCTION enforce_scope.norm(text);
DROP FUNCTION pg_temp.norm(text);
CREATE FUNCTION pg_temp.cur() RETURNS text LANGUAGE sql STABLE AS $$ SELECT gtm_current_tenant() $$;
EXPLAIN (COSTS OFF) SELECT count(*) FROM deals WHERE tenant_id = pg_temp.cur();
DROP FUNCTION pg_temp.cur();
DROP FUNCTION pg_temp.pl_volatile();
DROP FUNCTION pg_temp.pl_wrap();
DROP FUNCTION pg_temp.sql_reader();
DROP FUNCTION pg_temp.sql_wrap();
-- ... also rows a folded function FETCHes from a cursor open on T1's rows
CREATE FUNCTION pg_temp.fetched() RETURNS text IMMUTABLE LANGUAGE plpgsql AS $f$
DECLARE c refcursor := 'open_t1'; r text; BEGIN FETCH c INTO r; RETURN r; END $f$;
BEGIN;
DECLARE open_t1 CURSOR FOR SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = :T1;
PREPARE carried_fetch(text) AS SELECT id, pg_temp.fetched() AS t1_stages FROM deals WHERE tenant_id = $1 ORDER BY id;
EXECUTE carried_fetch(:T1);
CLOSE open_t1;
COMMIT;
EXECUTE carried_fetch(:T2);
DEALLOCATE carried_fetch;
DROP FUNCTION pg_temp.fetched();
-- a STABLE function the planner calls only to estimate a condition leaves
-- nothing of its tenant in the plan: the generic plan serves the next one
CREATE FUNCTION pg_temp.stage_of(t text) RETURNS text STABLE LANGUAGE plpgsql AS $f$
BEGIN RETURN (SELECT min(stage) FROM deals WHERE tenant_id = t); END $f$;
PREPARE estimated(text) AS SELECT count(*) FROM deals WHERE tenant_id = $1 AND stage >= pg_temp.stage_of($1);
EXECUTE estimated(:T1);
EXECUTE estimated(:T2);
DEALLOCATE estimated;
DROP FUNCTION pg_temp.stage_of(text);
RESET plan_cache_mode;
DEALLOCATE carried;
DEALLOCATE carried_write;
DEALLOCATE carried_nested;
DROP FUNCTION pg_temp.stages_plpgsql();
DROP FUNCTION pg_temp.stages_wrapped();
DROP FUNCTION pg_temp.folded_stages();
-- the functions the planner folds are counted, not every SECURITY DEFINER
-- or SET-clause function: such a function recurses as deep as
-- max_stack_depth lets it
CREATE FUNCTION pg_temp.depth(n int) RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog AS $f$
BEGIN IF n <= 0 THEN RETURN 0; END IF; RETURN 1 + pg_temp.depth(n - 1); END $f$;
SELECT pg_temp.depth(600);
DROP FUNCTION pg_temp.depth(int);
-- an error in the middle leaves nothing behind
SELECT count_of(:T1), 1 / 0;
SELECT count_of(:T2);

-- ---------------------------------------------------------------- generic plans a custom plan replaces
-- An ORM's compound-key OR gives each arm its own parameters: a custom plan
-- with equal tenants factors the tenant out of the OR (pinned), the generic
-- plan cannot (two parameters).  The plan cache's generic plan, rejected,
-- is costed above any custom plan, so the statement keeps its custom plans
-- past the fifth execution; two different tenants stay rejected
PREPARE compound(text, int, text, int) AS
  SELECT count(*) FROM deals WHERE (tenant_id = $1 AND id = $2) OR (tenant_id = $3 AND id = $4);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 1, :T1, 2);
EXECUTE compound(:T1, 2, :T1, 2);
EXECUTE compound(:T1, 1, :T2, 2);
SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE name = 'compound';
-- forced, the generic plan is refused when it starts (also a plain
-- EXPLAIN), with the message of its verdict; it reads nothing
SET plan_cache_mode = force_generic_plan;
EXECUTE compound(:T1, 1, :T1, 2);
EXPLAIN (COSTS OFF) EXECUTE compound(:T1, 1, :T1, 2);
PREPARE compound_write(text, int, text, int) AS
  UPDATE deals SET stage = 'written' WHERE (tenant_id = $1 AND id = $2) OR (tenant_id = $3 AND id = $4);
EXECUTE compound_write(:T1, 1, :T2, 1);
RESET plan_cache_mode;
EXECUTE compound_write(:T1, 1, :T2, 1);
DEALLOCATE compound;
DEALLOCATE compound_write;
RESET ROLE;
DROP FUNCTION enforce_scope.norm(text);
SELECT count(*) AS rows_written FROM deals WHERE stage = 'written';
SET ROLE regress_enforce_scope;

-- a generic plan pinned by one parameter carries it as one interned item
-- (its number, its type, the reference's label), a parameter numbered
-- past 4095 as a payload: each run reads its tenant's rows only, and the
-- tenant bound is compared with the statement's, message for message
SET plan_cache_mode = force_generic_plan;
PREPARE by_param(text) AS SELECT string_agg(d.stage, ',' ORDER BY d.id) AS stages FROM deals d WHERE d.tenant_id = $1;
EXECUTE by_param(:T1);
EXECUTE by_param(:T2);
EXECUTE by_param(NULL);
-- (by_far: 4096 text parameters, the last one pinning d.tenant_id)
\set ECHO none
SELECT format('PREPARE by_far(%s) AS SELECT string_agg(d.stage, '','' ORDER BY d.id) AS stages FROM deals d WHERE d.tenant_id = $4096',
              string_agg('text', ', ')) FROM generate_series(1, 4096) \gexec
SELECT format('EXECUTE by_far(%s)', string_agg(CASE WHEN g = 4096 THEN quote_literal(:T1) ELSE 'NULL' END, ', ' ORDER BY g))
  FROM generate_series(1, 4096) g \gexec
\set ECHO all
-- one top-level statement: T1 read first, each plan's pin then compared
CREATE FUNCTION pg_temp.t1_then(p text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r text; BEGIN
  PERFORM count(*) FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
  EXECUTE p INTO r; RETURN r; END $f$;
SELECT pg_temp.t1_then(format('EXECUTE by_param(%L)', :T1)) AS t1_stages;
\set SHOW_CONTEXT never
SELECT pg_temp.t1_then(format('EXECUTE by_param(%L)', :T2)) AS t2_stages;
SELECT pg_temp.t1_then(format('EXECUTE by_far(%s)', (SELECT string_agg(CASE WHEN g = 4096 THEN quote_literal(:T2) ELSE 'NULL' END, ', ' ORDER BY g)
  FROM generate_series(1, 4096) g))) AS t2_stages;
\set SHOW_CONTEXT errors
SELECT name, generic_plans FROM pg_prepared_statements WHERE name IN ('by_param', 'by_far') ORDER BY name;
DEALLOCATE by_param;
DEALLOCATE by_far;
DROP FUNCTION pg_temp.t1_then(text);
RESET plan_cache_mode;

-- ---------------------------------------------------------------- 4. NULL tenant values
-- a scan pinned to NULL reads nothing, in custom and generic plans alike
PREPARE two(text, text) AS
  SELECT d.id, a.kind FROM deals d JOIN activities a ON a.contact_id = d.id
   WHERE d.tenant_id = $1 AND a.tenant_id = $2;
SET plan_cache_mode = force_custom_plan;
EXECUTE two(:T1, NULL);
EXECUTE two(:T1, :T1);
SET plan_cache_mode = force_generic_plan;
EXECUTE two(:T1, NULL);
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T2);
DEALLOCATE two;
-- a NULL written into the tenant column is rejected, custom or generic
PREPARE ins(text, text) AS
  INSERT INTO notes SELECT $2, 'copy of ' || stage FROM deals WHERE tenant_id = $1 AND id = 1;
SET plan_cache_mode = force_custom_plan;
EXECUTE ins(:T1, NULL);
SET plan_cache_mode = force_generic_plan;
EXECUTE ins(:T1, NULL);
EXECUTE ins(:T1, :T2);
EXECUTE ins(:T1, :T1);
DEALLOCATE ins;
RESET plan_cache_mode;
RESET ROLE;
SELECT tenant_id, body FROM notes ORDER BY 1, 2;

-- ---------------------------------------------------------------- 4b. many tables, many values
-- a plan whose range table holds more than 64 entries: a scan far down it
-- is judged like the first (70 pinned branches of a UNION ALL read 140 of
-- T1's rows; an unpinned branch, last or first, rejects the statement)
SET ROLE regress_enforce_scope;
\set ECHO none
SELECT 'SELECT count(*) AS t1_rows FROM (' ||
       string_agg(format('SELECT stage FROM deals WHERE tenant_id = %L', :T1), ' UNION ALL ') ||
       ') s' FROM generate_series(1, 70) \gexec
SELECT 'SELECT count(*) AS all_rows FROM (' ||
       string_agg(format('SELECT stage FROM deals WHERE tenant_id = %L', :T1), ' UNION ALL ') ||
       ' UNION ALL SELECT stage FROM deals) s' FROM generate_series(1, 70) \gexec
SELECT 'SELECT count(*) AS all_rows FROM (SELECT stage FROM deals UNION ALL ' ||
       string_agg(format('SELECT stage FROM deals WHERE tenant_id = %L', :T1), ' UNION ALL ') ||
       ') s' FROM generate_series(1, 70) \gexec
\echo -- ... and a second tenant far down it
SELECT 'SELECT count(*) AS two_tenants FROM (' ||
       string_agg(format('SELECT stage FROM deals WHERE tenant_id = %L', :T1), ' UNION ALL ') ||
       format(' UNION ALL SELECT stage FROM deals WHERE tenant_id = %L', :T2) ||
       ') s' FROM generate_series(1, 70) \gexec
\set ECHO all
-- more pin values than the judge keeps in place: five parameters of a
-- generic plan, compared when it starts (32 = 2^5 rows of T1 joined)
PREPARE five(text, text, text, text, text) AS
  SELECT count(*) AS joined FROM deals a, deals b, deals c, deals d, deals e
   WHERE a.tenant_id = $1 AND b.tenant_id = $2 AND c.tenant_id = $3
     AND d.tenant_id = $4 AND e.tenant_id = $5;
SET plan_cache_mode = force_generic_plan;
EXECUTE five(:T1, :T1, :T1, :T1, :T1);
EXECUTE five(:T1, :T1, :T1, :T1, :T2);
\echo :LAST_ERROR_SQLSTATE
EXECUTE five(:T2, :T1, :T1, :T1, :T1);
\echo :LAST_ERROR_SQLSTATE
SET plan_cache_mode = force_custom_plan;
EXECUTE five(:T1, :T1, :T1, :T1, :T2);
\echo :LAST_ERROR_SQLSTATE
RESET plan_cache_mode;
DEALLOCATE five;
-- five INSERTed rows whose tenants are five parameters: all one tenant, or
-- nothing written
PREPARE ins5(text, text, text, text, text) AS
  INSERT INTO notes VALUES ($1, 'five'), ($2, 'five'), ($3, 'five'), ($4, 'five'), ($5, 'five');
SET plan_cache_mode = force_generic_plan;
EXECUTE ins5(:T1, :T1, :T1, :T1, :T2);
\echo :LAST_ERROR_SQLSTATE
EXECUTE ins5(:T2, :T2, :T2, :T2, :T2);
RESET plan_cache_mode;
DEALLOCATE ins5;
RESET ROLE;
SELECT tenant_id, count(*) AS five_notes FROM notes WHERE body = 'five' GROUP BY 1 ORDER BY 1;

-- round CF: a cursor that a function the planner runs opened (an
-- IMMUTABLE function it folds, a STABLE one it calls to estimate, also
-- under plain EXPLAIN) and left open was compared when it started, where
-- gtm_current_tenant() has no value; read after planning, its rows would
-- be the session tenant's, compared with nothing: one statement read T2 and
-- then T1, or wrote T1's stages into T2's rows.  Refused when read.  (Each
-- request makes its temporary functions and rolls them back.)
SET ROLE regress_enforce_scope;
\set SHOW_CONTEXT never
\set imm_open 'CREATE FUNCTION pg_temp.imm_open(n int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$ DECLARE c refcursor := $$c$$; BEGIN OPEN c FOR SELECT tenant_id, stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id; RETURN $$opened$$; END $f$'
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
:imm_open;
SELECT pg_temp.imm_open(1);
SELECT stage FROM deals WHERE tenant_id = :T2 ORDER BY id;
FETCH ALL FROM c;
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
:imm_open;
CREATE FUNCTION pg_temp.copy_t1_into_t2() RETURNS text LANGUAGE plpgsql AS $f$
DECLARE r record; x text; c refcursor := 'c'; acc text := '';
BEGIN
  EXECUTE 'SELECT pg_temp.imm_open(1)' INTO x;
  LOOP FETCH c INTO r; EXIT WHEN NOT FOUND; acc := acc || r.stage || ';'; END LOOP;
  UPDATE deals SET stage = 'copied: ' || acc WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
  RETURN acc;
END $f$;
SELECT pg_temp.copy_t1_into_t2();
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE FUNCTION pg_temp.stab_open() RETURNS int LANGUAGE plpgsql STABLE AS $f$
DECLARE c refcursor := 'c';
BEGIN
  OPEN c FOR SELECT tenant_id, stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
  RETURN 1;
END $f$;
CREATE TEMP TABLE loc (k int) ON COMMIT DROP;
EXPLAIN (COSTS OFF) SELECT * FROM loc WHERE k = pg_temp.stab_open();
FETCH ALL FROM c;
ROLLBACK;
-- round CO: a statement a folded function runs gets no parallel workers,
-- which copy gtm.tenant but not the planner's state: the worker read T2's
-- rows (the session tenant) where the leader saw no tenant, and one
-- statement returned T2's rows beside T1's, or wrote them into T1's row
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
CREATE FUNCTION pg_temp.leak() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $f$
DECLARE r text;
BEGIN
  EXECUTE 'SELECT string_agg(tenant_id || '':'' || stage, '','') FROM deals WHERE tenant_id = gtm_current_tenant()' INTO r;
  RETURN r;
END $f$;
SET LOCAL parallel_setup_cost = 0;
SET LOCAL parallel_tuple_cost = 0;
SET LOCAL min_parallel_table_scan_size = 0;
SET LOCAL parallel_leader_participation = off;
EXPLAIN (COSTS OFF) SELECT string_agg(tenant_id, ',') FROM deals WHERE tenant_id = gtm_current_tenant();
SELECT pg_temp.leak() AS t2_rows_via_worker,
       (SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = :T1) AS t1_stages;
UPDATE deals SET stage = coalesce(pg_temp.leak(), stage) WHERE tenant_id = :T1 AND id = 2;
SELECT stage FROM deals WHERE tenant_id = :T1 AND id = 2;
ROLLBACK;
-- a cursor opened outside planning is read as before; RESET ALL, which
-- would reset gtm.tenant under it, is refused while it is open (round CK)
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM c;
RESET ALL;
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
DECLARE c CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH ALL FROM c;
CLOSE c;
RESET ALL;
SELECT current_setting('gtm.tenant') = '' AS reset_after_close;
COMMIT;
-- (what RESET ALL reset, the test sets again)
SET search_path = enforce_scope, public;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SET ROLE regress_enforce_scope;
\set SHOW_CONTEXT errors
RESET ROLE;
SELECT stage FROM deals WHERE tenant_id = :T2 ORDER BY id;

-- ---------------------------------------------------------------- 5. exempt roles are unaffected
-- but run no function of a role the check applies to (round EZ: its code
-- would run with their rights)
SELECT count_of(:T1);
ALTER FUNCTION count_of(text) OWNER TO CURRENT_USER;
SELECT count_of(:T1), count_of(:T2);
DO $$ BEGIN
  PERFORM count(*) FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
  PERFORM count(*) FROM deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
END $$;

-- ---------------------------------------------------------------- 6. constant pins kept once per backend, bounded
-- A statement pinned by one constant carries it interned (enforce_payload.c):
-- 5,000 top-level statements pinned to distinct tenants fill the set past its
-- bound (4,096 tenants); a statement pinned to a tenant interned before the
-- bound, or to one after it (written into the plan as before), still makes
-- its function's write to another tenant fail, with nothing written.
-- (the 5,000 statements, neither echoed nor shown:)
-- SELECT format('SELECT count(*) FROM deals WHERE tenant_id = %L', 'tenant-' || i)
--   FROM generate_series(1, 5000) i \gexec
SET ROLE regress_enforce_scope;
\set ECHO none
\o /dev/null
SELECT format('SELECT count(*) FROM deals WHERE tenant_id = %L', 'tenant-' || i)
  FROM generate_series(1, 5000) i \gexec
\o
\set ECHO all
SELECT (SELECT count(*) FROM deals WHERE tenant_id = 'tenant-5') AS n, note_for(:T1);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM deals WHERE tenant_id = 'tenant-4999') AS n, note_for(:T1);
\echo :LAST_ERROR_SQLSTATE
SELECT (SELECT count(*) FROM deals WHERE tenant_id = :T1) AS n, note_for(:T1);
RESET ROLE;
SELECT tenant_id, count(*) AS notes_from_function FROM notes WHERE body = 'from a function' GROUP BY 1 ORDER BY 1;
SELECT count(*) AS contexts, sum(total_bytes) < 1024 * 1024 AS under_1_mb
  FROM pg_backend_memory_contexts WHERE name = 'gtm_clarity interned pins';

-- round EM: a function that changes the session tenant where partitions
-- are pruned (the planner calls it to estimate, the executor when it
-- starts, before the statement counts as running; Citus evaluates a
-- distributed write's functions there too, t/053): refused
CREATE TABLE sw_parted (tenant_id text NOT NULL, kind text NOT NULL, v text) PARTITION BY LIST (kind);
CREATE TABLE sw_parted_a PARTITION OF sw_parted FOR VALUES IN ('a');
CREATE TABLE sw_parted_b PARTITION OF sw_parted FOR VALUES IN ('b');
INSERT INTO sw_parted VALUES (:T1, 'a', 't1 a'), (:T2, 'a', 't2 a'), (:T2, 'b', 't2 b');
GRANT SELECT ON sw_parted TO regress_enforce_scope;
SET ROLE regress_enforce_scope;
CREATE FUNCTION pg_temp.kind_after_switch(t text) RETURNS text STABLE LANGUAGE plpgsql
  AS $$ BEGIN PERFORM gtm_set_tenant(t, true); RETURN 'a'; END $$;
BEGIN;
SELECT gtm_set_tenant(:T1) IS NOT NULL AS set;
\set SHOW_CONTEXT never
SELECT v FROM sw_parted WHERE tenant_id = gtm_current_tenant() AND kind = pg_temp.kind_after_switch(:T2);
\set SHOW_CONTEXT errors
ROLLBACK;
-- the same pruning without the switch: T1's row
CREATE FUNCTION pg_temp.kind_a() RETURNS text STABLE LANGUAGE plpgsql AS $$ BEGIN RETURN 'a'; END $$;
BEGIN;
SELECT gtm_set_tenant(:T1) IS NOT NULL AS set;
EXPLAIN (COSTS OFF) SELECT v FROM sw_parted WHERE tenant_id = gtm_current_tenant() AND kind = pg_temp.kind_a();
SELECT v FROM sw_parted WHERE tenant_id = gtm_current_tenant() AND kind = pg_temp.kind_a();
ROLLBACK;
RESET ROLE;

RESET enable_indexscan;
RESET enable_bitmapscan;
DROP SCHEMA enforce_scope CASCADE;
DROP OWNED BY regress_enforce_scope;
DROP ROLE regress_enforce_scope;
DELETE FROM tenants WHERE clerk_org_id IN ('org_scope1', 'org_scope2');
