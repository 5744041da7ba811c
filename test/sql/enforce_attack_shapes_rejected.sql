-- enforce_attacks: shapes found by attacking the rule (issue 16), each
-- run as an ordinary role with the data checked as superuser afterwards.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set VERBOSITY terse
CREATE SCHEMA enforce_attacks;
SET search_path = enforce_attacks, public;
CREATE ROLE regress_enforce_attacks;
GRANT USAGE, CREATE ON SCHEMA enforce_attacks TO regress_enforce_attacks;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE TABLE notes (tenant_id text NOT NULL, body text);
INSERT INTO deals VALUES (:T1, 1, 'a1'), (:T2, 1, 'b1-secret');
INSERT INTO activities VALUES (:T1, 1, 'call'), (:T2, 1, 'mail-secret');
CREATE INDEX activities_kind ON activities (kind);
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, activities, notes TO regress_enforce_attacks;
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_attacks1', 'Attacks One', 'attacks-one'), (:T2, 'org_attacks2', 'Attacks Two', 'attacks-two');
GRANT SELECT ON tenants TO regress_enforce_attacks;
SET ROLE regress_enforce_attacks;

-- the settings functions reach the tenant they are given, for their caller:
-- one statement may not read two tenants' settings, nor one tenant's rows
-- and another's settings
SELECT gtm_tenant_settings(:T2) ->> 'timezone' AS one_tenant_is_fine;
SELECT gtm_tenant_settings(:T1) ->> 'timezone', gtm_tenant_settings(:T2) ->> 'timezone';
SELECT gtm_feature_enabled(id, 'writeback') FROM (VALUES (:T1), (:T2)) AS v(id);
SELECT count(*), gtm_tenant_setting(:T2, ARRAY['timezone']) FROM deals WHERE tenant_id = :T1;

-- a function that runs while the planner works (IMMUTABLE, folded) may not
-- reach two tenants in one top-level statement
CREATE FUNCTION both_imm() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
  RETURN (SELECT string_agg(stage, ',') FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111')
      || ' | ' || (SELECT string_agg(stage, ',') FROM deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222');
END $$;
SELECT both_imm();
-- nor a rule that runs two statements for one
CREATE TEMP TABLE trig (x int);
CREATE RULE r_also AS ON INSERT TO trig DO ALSO
  INSERT INTO notes SELECT tenant_id, 'via rule ' || stage FROM deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
INSERT INTO trig SELECT 1 FROM deals WHERE tenant_id = :T1;
DROP RULE r_also ON trig;
-- nor a deferred constraint trigger, which fires at COMMIT
CREATE FUNCTION copy_both() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO notes SELECT tenant_id, 'deferred ' || stage FROM deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
  INSERT INTO notes SELECT tenant_id, 'deferred ' || stage FROM deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER later AFTER INSERT ON trig INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION copy_both();
INSERT INTO trig VALUES (1);
DROP TRIGGER later ON trig;

-- a statement executed while another is planned (an IMMUTABLE function
-- folded) is checked as execution: its frozen setting may not move
CREATE FUNCTION flip() RETURNS bool LANGUAGE plpgsql COST 10000 AS $$
BEGIN PERFORM set_config('app.t', '22222222-2222-4222-8222-222222222222', false); RETURN true; END $$;
CREATE FUNCTION one_stmt() RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE r text;
BEGIN
  SELECT string_agg(kind, ',') INTO r FROM activities WHERE tenant_id = current_setting('app.t') AND flip();
  RETURN r;
END $$;
SET app.t = :T1;
SET enable_indexscan = off;
SELECT one_stmt();
RESET enable_indexscan;

-- a statement that a PARALLEL SAFE function runs inside a parallel worker
-- cannot be checked there: refused
CREATE FUNCTION stages_of(t text) RETURNS text LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
BEGIN RETURN (SELECT string_agg(stage, ',') FROM deals WHERE tenant_id = t); END $$;
SELECT count(*) > 0 AS parallel_forced FROM (
  SELECT set_config(name, 'on', false) FROM pg_settings
   WHERE name IN ('force_parallel_mode', 'debug_parallel_query')) s;
SELECT t, stages_of(t) FROM (VALUES (:T1), (:T2)) v(t);
SELECT stages_of(:T1);
-- ... also while the worker's part of the plan starts: partition pruning at
-- start-up calls the caller's STABLE function there, whose statements were
-- taken for that part (round BM); refused, and no worker sends a row of
-- any tenant (the function says what it read)
RESET ROLE;
CREATE TABLE deals_p (tenant_id text NOT NULL, id int NOT NULL, stage text) PARTITION BY RANGE (id);
CREATE TABLE deals_p1 PARTITION OF deals_p FOR VALUES FROM (1) TO (100);
CREATE TABLE deals_p2 PARTITION OF deals_p FOR VALUES FROM (100) TO (200);
INSERT INTO deals_p VALUES (:T1, 1, 'p-a1'), (:T1, 150, 'p-a2'), (:T2, 2, 'p-b1-secret');
GRANT SELECT ON deals_p TO regress_enforce_attacks;
ANALYZE deals_p;
SET ROLE regress_enforce_attacks;
SELECT set_config('attacks.leader', pg_backend_pid()::text, false) IS NOT NULL AS leader_noted;
CREATE FUNCTION read_in_workers() RETURNS int LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE r text; t text;
BEGIN
  IF pg_backend_pid()::text <> current_setting('attacks.leader') THEN
    FOREACH t IN ARRAY ARRAY['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'] LOOP
      SELECT string_agg(stage, ',') INTO r FROM deals WHERE tenant_id = t;
      RAISE NOTICE 'a worker read %', r;
    END LOOP;
  END IF;
  RETURN 1;
END $$;
SET max_parallel_workers_per_gather = 1;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
EXPLAIN (COSTS OFF) SELECT * FROM deals_p WHERE tenant_id = :T1 AND id = read_in_workers();
SELECT * FROM deals_p WHERE tenant_id = :T1 AND id = read_in_workers();
RESET max_parallel_workers_per_gather;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
SELECT count(*) > 0 AS parallel_reset FROM (
  SELECT set_config(name, 'off', false) FROM pg_settings
   WHERE name IN ('force_parallel_mode', 'debug_parallel_query')) s;

-- EXPLAIN of a utility statement is not "plan only": the prepared plan it
-- makes is cached and runs later
PREPARE q2(int) AS SELECT tenant_id, stage FROM deals WHERE id = $1;
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) CREATE TEMP TABLE x2 AS EXECUTE q2(1);
EXECUTE q2(1);
RESET plan_cache_mode;
DEALLOCATE q2;

-- a built-in that runs SQL (table_to_xml) is no pin (it would run the
-- caller's view for every row compared): rejected, no crash
CREATE TEMP VIEW vnull AS SELECT stage FROM deals WHERE tenant_id = current_setting('app.none', true);
SELECT d.stage, (SELECT count(*) FROM activities a
                  WHERE a.tenant_id = table_to_xml('vnull', false, false, '')::text)
  FROM deals d WHERE d.tenant_id = :T2;
SELECT 1 AS still_connected;

-- a BEFORE trigger of the caller's own table changes the tenant column:
-- its RETURNING does not vouch for a write into a tenant table
CREATE TEMP TABLE mine (tenant_id text, n int);
CREATE FUNCTION to_t2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.tenant_id := '22222222-2222-4222-8222-222222222222'; RETURN NEW; END $$;
CREATE TRIGGER t BEFORE INSERT ON mine FOR EACH ROW EXECUTE FUNCTION to_t2();
WITH i AS (INSERT INTO mine VALUES (:T1, 1) RETURNING tenant_id)
INSERT INTO activities (tenant_id, contact_id, kind) SELECT tenant_id, 3, 'planted' FROM i;

-- a unique key through an expression index over a lying IMMUTABLE
-- function is not a key pin
CREATE TABLE k (x int, t text);
CREATE FUNCTION lie(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN RETURN x * current_setting('app.m')::int; END $$;
SET app.m = 1;
INSERT INTO k VALUES (1, :T1), (2, :T2);
CREATE UNIQUE INDEX k_lie ON k (lie(x));
SET app.m = 0;
SELECT a.tenant_id, a.kind FROM activities a JOIN k ON k.t = a.tenant_id WHERE lie(k.x) = 0;

-- the tenant condition is evaluated first in every scan: a cheaper
-- condition of the caller's own never sees another tenant's row
CREATE FUNCTION peek(t text, v text) RETURNS bool LANGUAGE plpgsql COST 0.0000001
  AS $$ BEGIN RAISE NOTICE 'peek saw % %', t, v; RETURN true; END $$;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT count(*) FROM deals WHERE tenant_id = :T1 AND peek(tenant_id, stage);
SELECT count(*) FROM activities WHERE tenant_id = :T1 AND peek(tenant_id, kind);
SELECT count(*) FROM activities WHERE tenant_id = current_setting('app.none', true) AND peek(tenant_id, kind);
SELECT count(*) FROM activities WHERE peek(tenant_id, kind) AND tenant_id = :T1 AND peek(kind, tenant_id);
-- nor does a built-in that would quote the value in its error
SELECT count(*) FROM activities WHERE tenant_id = :T1 AND kind::int > 0;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- also through an index scan whose condition is not the tenant's
SET enable_seqscan = off;
SELECT count(*) FROM activities WHERE tenant_id = :T1 AND kind > '' AND peek(tenant_id, kind);
RESET enable_seqscan;

-- a tenant value of many kilobytes is not a tenant id
SELECT count(*) FROM deals WHERE tenant_id = repeat('x', 70000);

-- a temporary domain's CHECK is the caller's code, run for every row a
-- scan tests when the pin value is coerced to it: counting the calls over
-- an index range of another column would count other tenants' rows.  A
-- value of a type of the session's own is no pin (also inside a frozen
-- built-in), and the CHECK is never called for another tenant's row
CREATE TEMP TABLE hits (n int);
CREATE FUNCTION pg_temp.cnt(text) RETURNS bool LANGUAGE plpgsql AS
  $f$BEGIN INSERT INTO pg_temp.hits VALUES (1); RETURN true; END$f$;
CREATE DOMAIN pg_temp.dom AS text CHECK (pg_temp.cnt(VALUE));
CREATE TYPE pg_temp.wrapped AS (f pg_temp.dom);
SET enable_seqscan = off;
SELECT count(*) FROM activities WHERE tenant_id = :T1::pg_temp.dom COLLATE "C" AND kind >= 'mail' AND kind < 'mailz';
SELECT count(*) FROM activities
 WHERE tenant_id = (json_populate_record(NULL::pg_temp.wrapped, '{"f": "11111111-1111-4111-8111-111111111111"}')).f COLLATE "C"
   AND kind >= 'mail' AND kind < 'mailz';
-- (also when the type comes in as an OID, to a built-in type input)
SELECT count(*) FROM activities
 WHERE tenant_id = (record_in('(11111111-1111-4111-8111-111111111111)', 'pg_temp.wrapped'::regtype::oid, -1)::text) COLLATE "C"
   AND kind >= 'mail' AND kind < 'mailz';
RESET enable_seqscan;
SELECT count(*) AS check_calls FROM hits;

-- currtid2() (PUBLIC) follows the update chain of any row the table holds,
-- another tenant's too: refused, however it is called
SELECT currtid2('deals', '(0,1)'::tid);
SELECT t FROM (VALUES ('(0,1)'::tid)) v(x), LATERAL currtid2('deals', x) t;
DO $$ BEGIN PERFORM currtid2('deals', '(0,1)'::tid); END $$;

-- round AV: a correlated pin resolved through a column of a relation that is
-- not a tenant table (the caller's temporary table under its own row-level
-- security, an exempt table, VALUES) or through a tenant table's other
-- column: the subquery it feeds, in that relation's Filter, ran for every
-- row before the pin's equality, with every tenant's id, reading and
-- locking their rows.  The equality now runs first: only T1's rows are seen.
RESET ROLE;
CREATE TABLE tenant_domains (tenant_id text NOT NULL, domain text PRIMARY KEY);
INSERT INTO tenant_domains VALUES (:T1, 'one.example.com'), (:T2, 'two.example.com');
SELECT gtm_exempt_table('enforce_attacks.tenant_domains');
CREATE TABLE deal_links (tenant_id text NOT NULL, id int NOT NULL, other text,
                         PRIMARY KEY (tenant_id, id));
INSERT INTO deal_links VALUES (:T1, 1, :T1), (:T1, 2, :T2);
CREATE TABLE parted_domains (t text, n int) PARTITION BY LIST (n);
CREATE TABLE parted_domains_1 PARTITION OF parted_domains FOR VALUES IN (1);
INSERT INTO parted_domains VALUES (:T2, 1), (:T1, 1);
GRANT SELECT ON tenant_domains, deal_links, parted_domains TO regress_enforce_attacks;
SET ROLE regress_enforce_attacks;
CREATE TEMP TABLE td AS SELECT tenant_id AS t FROM tenant_domains ORDER BY tenant_id DESC;
ALTER TABLE td ENABLE ROW LEVEL SECURITY;
ALTER TABLE td FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON td USING (set_config('app.loot', coalesce(current_setting('app.loot', true), '') || ' ' ||
  coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = td.t), ''), false) IS NOT NULL);
SELECT count(*) FROM td WHERE t = gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(
  gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(gtm_pin(:T1::text)))))))))))))));
SELECT current_setting('app.loot') AS read_through_policy;
SET seq_page_cost = 0;
SET cpu_tuple_cost = 0;
SET cpu_operator_cost = 0;
SELECT domain FROM tenant_domains td
 WHERE set_config('app.loot2', coalesce(current_setting('app.loot2', true), '') || ' ' ||
         coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = td.tenant_id), ''), false) IS NOT NULL
   AND td.tenant_id = :T1;
SELECT current_setting('app.loot2') AS read_through_exempt_table;
SELECT v.t = :T1 AS t1 FROM (VALUES (:T2), (:T1)) v(t)
 WHERE (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = v.t)::int > 0 AND v.t = :T1;
SELECT l.id FROM deal_links l
 WHERE set_config('app.loot3', coalesce(current_setting('app.loot3', true), '') || ' ' ||
         coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = l.other), ''), false) IS NOT NULL
   AND l.tenant_id = :T1 AND l.other = :T1;
SELECT current_setting('app.loot3') AS read_through_other_column;
SELECT count(*) FROM parted_domains p
 WHERE set_config('app.loot4', coalesce(current_setting('app.loot4', true), '') || ' ' ||
         coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = p.t), ''), false) IS NOT NULL
   AND p.t = :T1;
SELECT current_setting('app.loot4') AS read_through_partition;
-- round AX: where the outer relation's pin cannot be put first (a second
-- level of correlation, a UNION ALL arm, an UPDATE's own target), the
-- correlated value is checked when each outer row sets it (gtm_pin):
-- another tenant's value is refused before the subquery reads a row
SELECT count(*) FROM deals a WHERE a.tenant_id = :T1 AND
 (SELECT count(*) FROM (VALUES (:T2), (:T1)) o(t)
   WHERE (SELECT stage FROM deals d WHERE d.tenant_id = o.t)::int > 0 AND o.t = a.tenant_id) > 0;
SELECT set_config('app.loot5', '', false) AS reset;
CREATE TEMP TABLE td2 AS SELECT 0 AS x, tenant_id AS t FROM tenant_domains ORDER BY 2 DESC;
SELECT count(*) FROM (SELECT t FROM td UNION ALL SELECT t FROM td2) u
 WHERE set_config('app.loot5', coalesce(current_setting('app.loot5', true), '') || ' ' ||
         coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = u.t), ''), false) IS NOT NULL
   AND u.t = :T1;
SELECT current_setting('app.loot5') AS read_through_union_arm;
-- (an UPDATE's own target: since round BX its pin is put first as well,
-- ahead of its policy, a leakproof equality may; only T1's rows reach the
-- policy's subquery, which reads T1's stages and nothing of T2)
ALTER TABLE td ADD COLUMN n int DEFAULT 0;
SELECT set_config('app.loot', '', false) AS reset;
UPDATE td SET n = 1 WHERE td.t = :T1;
SELECT current_setting('app.loot') AS read_through_update_target_policy;
-- round AY: the check is made on the finished plan, where the parameter is
-- what the executor evaluates: a collation, a CTE or an SQL function the
-- planner inlines does not hide it (refused, nothing read) ...
CREATE TEMP TABLE td3 (t text);
INSERT INTO td3 VALUES (:T2), (:T1);
CREATE TEMP VIEW deals_cte AS WITH x AS (SELECT * FROM deals) SELECT * FROM x;
CREATE FUNCTION pg_temp.deals_of(x text) RETURNS SETOF enforce_attacks.deals LANGUAGE sql STABLE
  AS 'SELECT * FROM enforce_attacks.deals WHERE tenant_id = x';
SELECT set_config('app.loot6', '', false) AS reset;
SELECT count(*) FROM (SELECT :T1 AS t UNION ALL SELECT t || '' FROM td3) u
 WHERE set_config('app.loot6', current_setting('app.loot6') || ' ' ||
   coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = u.t COLLATE "C"), ''), false) IS NOT NULL
   AND u.t = :T1;
SELECT count(*) FROM td3 o
 WHERE set_config('app.loot6', current_setting('app.loot6') || ' ' ||
   coalesce((WITH x AS (SELECT * FROM deals) SELECT string_agg(stage, ',') FROM x WHERE x.tenant_id = o.t), ''), false) IS NOT NULL
   AND o.t = :T1;
SELECT count(*) FROM td3 o
 WHERE set_config('app.loot6', current_setting('app.loot6') || ' ' ||
   coalesce((SELECT string_agg(stage, ',') FROM deals_cte v WHERE v.tenant_id = o.t), ''), false) IS NOT NULL
   AND o.t = :T1;
SELECT count(*) FROM td3 o
 WHERE set_config('app.loot6', current_setting('app.loot6') || ' ' ||
   coalesce((SELECT string_agg(stage, ',') FROM pg_temp.deals_of(o.t)), ''), false) IS NOT NULL
   AND o.t = :T1;
SELECT count(*) FROM deals a WHERE a.tenant_id = :T1 AND a.id = 1 AND
 (SELECT count(*) FROM (VALUES (:T2), (:T1)) o(t)
   WHERE set_config('app.loot6', current_setting('app.loot6') || ' ' ||
     coalesce((SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = o.t COLLATE "C"), ''), false) IS NOT NULL
   AND o.t = a.tenant_id) > 0;
SELECT current_setting('app.loot6') AS read_through_planner_shapes;
BEGIN;
SELECT count(*) FROM (SELECT :T1 AS t UNION ALL SELECT t || '' FROM td3) u
 WHERE EXISTS (SELECT 1 FROM deals d WHERE d.tenant_id = u.t COLLATE "C" FOR UPDATE) AND u.t = :T1;
ROLLBACK;
RESET seq_page_cost;
RESET cpu_tuple_cost;
RESET cpu_operator_cost;
-- a partition whose bound compares under a nondeterministic collation holds
-- 'T1' and 't1' alike: its bound is no pin (round AY)
CREATE COLLATION pg_temp.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TEMP TABLE mp (tenant_id text COLLATE pg_temp.ci, n int) PARTITION BY LIST (tenant_id);
CREATE TEMP TABLE mp1 PARTITION OF mp FOR VALUES IN ('t1');
INSERT INTO mp VALUES ('T1', 1);
SELECT tenant_id FROM mp1;
-- round BB: a partial index whose predicate implies the tenant condition
-- makes the planner leave the condition out of the scan; an IMMUTABLE
-- function of the caller's that reads a setting filled the index with T2's
-- row under a predicate the planner now reads as T1: refused (the scan
-- would return T2's row, and its tenant feed the subquery)
CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE plpgsql IMMUTABLE
  AS $$ BEGIN RETURN current_setting('app.x'); END $$;
CREATE TEMP TABLE xx (tenant_id text NOT NULL, id int NOT NULL);
SELECT set_config('app.x', :T2, false) IS NOT NULL AS set_t2;
CREATE INDEX xx_p ON xx (id) WHERE tenant_id = pg_temp.f();
INSERT INTO xx VALUES (:T2, 1);
SELECT set_config('app.x', :T1, false) IS NOT NULL AS set_t1;
ALTER INDEX xx_p SET (fillfactor = 90);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xx x WHERE x.tenant_id = :T1 AND x.id = 1;
-- a partial index whose predicate is the tenant compared with a constant
-- holds what it says: read through it, accepted
CREATE TEMP TABLE yy (tenant_id text NOT NULL, id int NOT NULL);
CREATE INDEX yy_p ON yy (id) WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
INSERT INTO yy VALUES (:T1, 1);
INSERT INTO yy VALUES (:T2, 1);
EXPLAIN (COSTS OFF) SELECT y.tenant_id FROM yy y WHERE y.tenant_id = :T1 AND y.id = 1;
SELECT y.tenant_id = :T1 AS is_t1 FROM yy y WHERE y.tenant_id = :T1 AND y.id = 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- round BC: an expression index of the caller's that computed 'T1' for
-- T2's row when it was inserted, and now simplifies to the bare column: its
-- index condition tenant_id = T1 returned T2's row, whose tenant fed the
-- subquery.  The tenant condition is compared again with the row (Filter):
-- T2's row is not returned, nothing of T2 read
CREATE FUNCTION pg_temp.idf(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '11111111-1111-4111-8111-111111111111'::text $$;
CREATE TEMP TABLE xe (tenant_id text NOT NULL, id int NOT NULL);
CREATE INDEX xe_e ON xe ((pg_temp.idf(tenant_id)));
INSERT INTO xe VALUES (:T2, 1);
CREATE OR REPLACE FUNCTION pg_temp.idf(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT $1 $$;
ALTER INDEX xe_e SET (fillfactor = 90);
SET enable_seqscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xe x WHERE x.tenant_id = :T1;
SET enable_indexscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xe x WHERE x.tenant_id = :T1;
RESET enable_indexscan;
-- an index on the tenant column and an expression (case-insensitive email
-- per tenant) still serves index-only scans
CREATE TEMP TABLE ye (tenant_id text NOT NULL, email text NOT NULL);
CREATE UNIQUE INDEX ye_u ON ye (tenant_id, lower(email));
INSERT INTO ye VALUES (:T1, 'A@x');
VACUUM ye;
SELECT count(*) FROM ye WHERE tenant_id = :T1 AND lower(email) = 'a@x';
RESET enable_seqscan;
-- round BD: an index-only scan takes the tenant column from an index
-- column that only now reads as it (stored 'T2' for a T1 row under
-- bytea_output = escape): refused; and a bitmap scan of the lying partial
-- index of round BB compares the row's tenant again: nothing of T2 read
CREATE TEMP TABLE xo (tenant_id text NOT NULL, id int NOT NULL);
SET bytea_output = 'escape';
CREATE INDEX xo_e ON xo ((CASE WHEN ('\x41'::bytea)::text = '\x41' THEN tenant_id ELSE '22222222-2222-4222-8222-222222222222' END) COLLATE "C", tenant_id);
INSERT INTO xo VALUES (:T1, 1);
RESET bytea_output;
ALTER INDEX xo_e SET (fillfactor = 90);
VACUUM xo;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xo x WHERE x.tenant_id = :T1;
RESET enable_bitmapscan;
SET enable_indexscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xx x WHERE x.tenant_id = :T1 AND x.id = 1;
RESET enable_indexscan;
-- round BE: a boolean expression column (tenant_id = f()) stands in for
-- the whole tenant condition, "(tenant_id = T1) = true" in the index: the
-- scan must compare the row's tenant column itself -- refused
CREATE FUNCTION pg_temp.fb() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '22222222-2222-4222-8222-222222222222'::text $$;
CREATE TEMP TABLE xb (tenant_id text NOT NULL, id int NOT NULL);
CREATE INDEX xb_b ON xb ((tenant_id = pg_temp.fb()));
INSERT INTO xb VALUES (:T2, 5);
CREATE OR REPLACE FUNCTION pg_temp.fb() RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT '11111111-1111-4111-8111-111111111111'::text $$;
ALTER INDEX xb_b SET (fillfactor = 90);
SET enable_bitmapscan = off;
SELECT x.tenant_id = :T2 AS is_t2, (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = x.tenant_id) AS via_x
  FROM xb x WHERE x.tenant_id = :T1;
RESET enable_bitmapscan;
-- round BP: the same lying partial index on a table of the caller's that
-- is not tenant-scoped (its column is "t"): a value written into a tenant
-- column from it counted as pinned to T1, so T1's deals were copied into
-- T2, T2's row was found and changed by ON CONFLICT, and a T1 row moved to
-- T2.  The scan a written value is taken from must compare it on the rows
-- itself: refused, nothing written
SELECT set_config('app.x', :T2, false) IS NOT NULL AS set_t2;
CREATE TEMP TABLE xs (t text, k int);
CREATE INDEX xs_p ON xs (k) WHERE t = pg_temp.f();
INSERT INTO xs VALUES (:T2, 1);
SELECT set_config('app.x', :T1, false) IS NOT NULL AS set_t1;
ALTER INDEX xs_p SET (fillfactor = 90);
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT x.t FROM xs x WHERE x.t = :T1 AND x.k = 1;
INSERT INTO deals SELECT x.t, 100 + d.id, 'copied ' || d.stage
  FROM xs x, deals d WHERE x.t = :T1 AND x.k = 1 AND d.tenant_id = x.t;
INSERT INTO deals SELECT x.t, 1, 'x' FROM xs x WHERE x.t = :T1 AND x.k = 1
  ON CONFLICT (tenant_id, id) DO UPDATE SET stage = deals.stage || ' seen' RETURNING deals.*;
WITH s AS MATERIALIZED (SELECT x.t FROM xs x WHERE x.t = :T1 AND x.k = 1)
UPDATE deals d SET tenant_id = s.t, id = 50 FROM s WHERE d.tenant_id = :T1 AND d.id = 1 RETURNING d.*;
SELECT * FROM gtm_check_statement($$INSERT INTO notes SELECT x.t, 'n' FROM xs x WHERE x.t = '11111111-1111-4111-8111-111111111111' AND x.k = 1$$);
-- ... also when the written value is pinned through a correlated column
-- whose own pin comes from that scan (round BR)
CREATE TEMP TABLE ys (t text);
INSERT INTO ys VALUES (:T1), (:T2);
INSERT INTO notes SELECT y.t, 'lateral'
  FROM xs x, LATERAL (SELECT y.t FROM ys y WHERE y.t = x.t OFFSET 0) y
 WHERE x.t = :T1 AND x.k = 1;
-- ... and when the pin is on a UNION ALL (or a subquery) whose condition
-- the planner pushes down to the branch that reads the table (round BS)
INSERT INTO notes SELECT s.t, 'union all'
  FROM (SELECT x.t FROM xs x WHERE x.k = 1 UNION ALL SELECT :T1) s WHERE s.t = :T1;
UPDATE activities a SET tenant_id = s.t
  FROM (SELECT x.t FROM xs x WHERE x.k = 1 UNION ALL SELECT :T1 WHERE false) s
 WHERE a.tenant_id = :T1 AND s.t = :T1;
-- ... and through UPDATE ... RETURNING of the caller's table, read by a
-- bitmap scan whose condition was only its Recheck Cond (round BX): the
-- condition is compared on each row, T2's row is not returned
SET enable_indexscan = off;
SET enable_bitmapscan = on;
WITH u AS (UPDATE xs SET k = k WHERE t = :T1 AND k = 1 RETURNING t)
INSERT INTO notes SELECT u.t, 'update returning' FROM u;
RESET enable_indexscan;
SET enable_bitmapscan = off;
-- a subquery's output that is an expression, not a column, cannot be
-- followed to the scan its condition may be pushed to: no pin for a write
INSERT INTO notes SELECT s.t, 'computed'
  FROM (SELECT x.t || '' AS t FROM xs x WHERE x.k = 1 OFFSET 0) s WHERE s.t = :T1;
-- read through an index without a predicate, the value is compared on the
-- rows: accepted, and only the T1 row is written
DROP INDEX xs_p;
CREATE INDEX xs_k ON xs (k);
INSERT INTO xs VALUES (:T1, 1);
INSERT INTO notes SELECT x.t, 'from xs' FROM xs x WHERE x.t = :T1 AND x.k = 1;
RESET enable_seqscan;
RESET enable_bitmapscan;
-- and a tenant written from a relation that is not a tenant table is also
-- checked on every row written (gtm_pin() on the written value; a Result
-- above a subplan that does not project): the rows of T1 are written
RESET ROLE;
CREATE TABLE src (t text, k int);
INSERT INTO src VALUES (:T1, 1), (:T1, 2);
GRANT SELECT ON src TO regress_enforce_attacks;
SET ROLE regress_enforce_attacks;
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO notes SELECT s.t, 'from src' FROM src s WHERE s.t = :T1;
EXPLAIN (COSTS OFF) INSERT INTO notes SELECT s.t, 'sorted' FROM src s WHERE s.t = :T1 ORDER BY s.k;
EXPLAIN (VERBOSE, COSTS OFF) INSERT INTO notes SELECT u.t, 'union all'
  FROM (SELECT t FROM src UNION ALL SELECT t FROM src) u WHERE u.t = :T1;
INSERT INTO notes SELECT s.t, 'from src' FROM src s WHERE s.t = :T1;
INSERT INTO notes SELECT s.t, 'sorted' FROM src s WHERE s.t = :T1 ORDER BY s.k;
INSERT INTO notes SELECT u.t, 'union all src'
  FROM (SELECT t FROM src UNION ALL SELECT t FROM src) u WHERE u.t = :T1;
UPDATE activities a SET tenant_id = s.t FROM src s WHERE a.tenant_id = :T1 AND s.t = :T1 AND s.k = 1;
-- ON CONFLICT DO UPDATE SET tenant_id = excluded.<another column> is
-- checked on each row too (round BY): the value is T1's, the row stays T1's
RESET ROLE;
INSERT INTO deals VALUES (:T1, 502, 'to update');
SET ROLE regress_enforce_attacks;
INSERT INTO deals SELECT :T1, 502, s.t FROM src s WHERE s.t = :T1 AND s.k = 1
  ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_id = excluded.stage;
RESET ROLE;
SELECT tenant_id, id FROM deals WHERE id = 502;
DELETE FROM deals WHERE id = 502;
SET ROLE regress_enforce_attacks;
-- a MERGE's INSERT into a partitioned table is numbered in the columns of
-- the table named, not of the partition (whose tenant column is the third
-- here): its tenant is the value checked (round BT)
RESET ROLE;
CREATE TABLE pdeals (tenant_id text NOT NULL, id int NOT NULL, stage text) PARTITION BY LIST (id);
CREATE TABLE pdeals_a (stage text, id int NOT NULL, tenant_id text NOT NULL);
ALTER TABLE pdeals ATTACH PARTITION pdeals_a FOR VALUES IN (3);
GRANT SELECT, INSERT, UPDATE ON pdeals TO regress_enforce_attacks;
SET ROLE regress_enforce_attacks;
MERGE INTO pdeals p USING (SELECT s.t, s.k FROM src s WHERE s.t = :T1 AND s.k = 1) s
   ON p.tenant_id = :T1 AND p.id = 3
 WHEN NOT MATCHED THEN INSERT VALUES (s.t, 3, 'merged ' || s.k);
RESET ROLE;
SELECT tenant_id, id, stage FROM pdeals;
SELECT tenant_id, body, count(*) FROM notes WHERE body IN ('from src', 'sorted', 'union all src') GROUP BY 1, 2 ORDER BY 2;
DELETE FROM notes WHERE body IN ('from src', 'sorted', 'union all src');
SELECT tenant_id, id, stage FROM deals ORDER BY 1, 2;
SELECT tenant_id, body FROM notes WHERE body IN ('from xs', 'lateral', 'union all', 'update returning');
SELECT tenant_id, kind FROM activities ORDER BY 1, 2;
DELETE FROM notes WHERE body = 'from xs';
SET ROLE regress_enforce_attacks;
-- round BF: a BEFORE INSERT trigger created, while the statement runs, on
-- a partition PostgreSQL opens only when the first row is routed to it,
-- rewrote the row's tenant behind the value RETURNING was judged on:
-- refused, nothing written
CREATE TEMP TABLE xq (tenant_id text NOT NULL, id int NOT NULL) PARTITION BY RANGE (id);
CREATE TEMP TABLE xq1 PARTITION OF xq FOR VALUES FROM (0) TO (100);
CREATE FUNCTION pg_temp.swap() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN NEW.tenant_id := '22222222-2222-4222-8222-222222222222'; RETURN NEW; END $$;
CREATE FUNCTION pg_temp.arm() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  CREATE TRIGGER sw BEFORE INSERT ON pg_temp.xq1 FOR EACH ROW EXECUTE FUNCTION pg_temp.swap();
  RETURN 1;
END $$;
INSERT INTO xq SELECT :T1, pg_temp.arm()
  RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = xq.tenant_id) AS via_xq;
SELECT count(*) AS xq_rows, (SELECT count(*) FROM pg_trigger WHERE tgname = 'sw') AS triggers FROM xq WHERE tenant_id = :T1;
-- round BG: the trigger created between planning and execution -- by a
-- function partition pruning calls when the executor starts, or between a
-- cursor's OPEN and its first FETCH -- is seen when the statement starts:
-- refused, nothing of T2 read
CREATE TEMP TABLE xg (tenant_id text NOT NULL, id int NOT NULL);
CREATE TEMP TABLE pz (k int) PARTITION BY LIST (k);
CREATE TEMP TABLE pz1 PARTITION OF pz FOR VALUES IN (1);
CREATE TEMP TABLE pz2 PARTITION OF pz FOR VALUES IN (2);
INSERT INTO pz VALUES (1);
CREATE FUNCTION pg_temp.armv() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
DECLARE n int := coalesce(nullif(current_setting('my.n', true), ''), '0')::int + 1;
BEGIN
  PERFORM set_config('my.n', n::text, false);
  IF n = 3 THEN
    CREATE TRIGGER swg BEFORE INSERT ON pg_temp.xg FOR EACH ROW EXECUTE FUNCTION pg_temp.swap();
  END IF;
  RETURN 1;
END $$;
CREATE FUNCTION pg_temp.stab() RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN RETURN pg_temp.armv(); END $$;
SET my.n = 0;
INSERT INTO xg SELECT :T1, (SELECT count(*)::int FROM pz WHERE k = pg_temp.stab())
  RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = xg.tenant_id) AS via_xg;
DROP TRIGGER IF EXISTS swg ON pg_temp.xg;
DO $$
DECLARE c refcursor; r record;
BEGIN
  OPEN c FOR INSERT INTO xg VALUES ('11111111-1111-4111-8111-111111111111', 1)
    RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = xg.tenant_id) AS via_xg;
  CREATE TRIGGER swg BEFORE INSERT ON pg_temp.xg FOR EACH ROW EXECUTE FUNCTION pg_temp.swap();
  FETCH c INTO r;
  RAISE NOTICE 'fetched %', r;
END $$;
SELECT count(*) AS xg_rows FROM xg WHERE tenant_id = :T1;
-- round BH: a partition that generates the tenant column, attached between
-- a cursor's OPEN and its first FETCH: the ATTACH is refused (by the
-- extension on PostgreSQL 15 and 16, round ER; by PostgreSQL 17 and later
-- itself: enforce_attack_shapes_rejected_1.out)
CREATE TEMP TABLE xh (tenant_id text NOT NULL, id int NOT NULL) PARTITION BY RANGE (id);
CREATE TEMP TABLE xh1 PARTITION OF xh FOR VALUES FROM (0) TO (10);
CREATE TEMP TABLE xh2 (id int NOT NULL,
                       tenant_id text NOT NULL GENERATED ALWAYS AS ('22222222-2222-4222-8222-222222222222') STORED);
DO $$
DECLARE c refcursor; r record;
BEGIN
  OPEN c FOR INSERT INTO xh VALUES ('11111111-1111-4111-8111-111111111111', 50)
    RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = xh.tenant_id) AS via_xh;
  ALTER TABLE pg_temp.xh ATTACH PARTITION pg_temp.xh2 FOR VALUES FROM (10) TO (100);
  FETCH c INTO r;
  RAISE NOTICE 'fetched %', r;
END $$;
SELECT count(*) AS xh_rows FROM xh WHERE tenant_id = :T1;
-- round BI: a partition created while a statement runs, and the statements
-- of a SQL procedure, planned together before the first runs (the second's
-- trusted writes asked again when it starts; PostgreSQL 18 plans each when
-- it is reached, and refuses the second while planning:
-- enforce_attack_shapes_rejected_2.out)
CREATE FUNCTION pg_temp.addpart() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  CREATE TEMP TABLE xh3 PARTITION OF pg_temp.xh FOR VALUES FROM (100) TO (200);
  RETURN 1;
END $$;
INSERT INTO xh SELECT :T1, pg_temp.addpart();
CREATE PROCEDURE pg_temp.twostep() LANGUAGE sql AS $$
  CREATE TRIGGER swp BEFORE INSERT ON pg_temp.xg FOR EACH ROW EXECUTE FUNCTION pg_temp.swap();
  WITH w AS (INSERT INTO pg_temp.xg VALUES ('11111111-1111-4111-8111-111111111111', 9) RETURNING tenant_id)
  INSERT INTO enforce_attacks.notes SELECT w.tenant_id, 'twostep' FROM w;
$$;
CALL pg_temp.twostep();
SELECT count(*) AS twostep_notes_t2 FROM notes WHERE tenant_id = :T2 AND body = 'twostep';
SELECT count(*) AS twostep_notes_t1 FROM notes WHERE tenant_id = :T1 AND body = 'twostep';
-- a (tenant_id, lower(email)) index covering email serves index-only scans
CREATE TEMP TABLE ze (tenant_id text NOT NULL, email text NOT NULL);
CREATE INDEX ze_i ON ze (tenant_id, lower(email)) INCLUDE (email);
INSERT INTO ze VALUES (:T1, 'A@x');
VACUUM ze;
SET enable_bitmapscan = off;
SELECT email FROM ze WHERE tenant_id = :T1 AND lower(email) = 'a@x';
RESET enable_bitmapscan;
RESET enable_seqscan;
-- ... and a sublink the planner flattens into a join needs no check: these
-- ordinary statements over a pinned relation that is not a plain tenant
-- table run (they were refused while the check was made before planning)
CREATE TEMP VIEW deals_v AS SELECT * FROM deals;
SELECT count(*) FROM deals_v v WHERE v.tenant_id = :T1 AND EXISTS (SELECT 1 FROM activities a WHERE a.tenant_id = v.tenant_id);
SELECT count(*) FROM (SELECT * FROM deals WHERE tenant_id = :T1) v
 WHERE NOT EXISTS (SELECT 1 FROM activities a WHERE a.tenant_id = v.tenant_id AND a.kind = 'none');
SELECT v.id, l.kind FROM deals_v v LEFT JOIN LATERAL (SELECT kind FROM activities a WHERE a.tenant_id = v.tenant_id) l ON true
 WHERE v.tenant_id = :T1;
SELECT count(*) FROM tenant_domains k WHERE k.tenant_id = :T1 AND EXISTS (SELECT 1 FROM deals d WHERE d.tenant_id = k.tenant_id);
SELECT v.id, (SELECT json_agg(a.kind) FROM activities a WHERE a.tenant_id = v.tenant_id) AS kinds
  FROM deals_v v WHERE v.tenant_id = :T1;
SET seq_page_cost = 0;
SET cpu_tuple_cost = 0;
SET cpu_operator_cost = 0;
BEGIN;
SELECT domain FROM tenant_domains td
 WHERE EXISTS (SELECT 1 FROM deals d WHERE d.tenant_id = td.tenant_id FOR UPDATE) AND td.tenant_id = :T1;
RESET ROLE;
SELECT tenant_id, xmax::text = (txid_current() % 4294967296)::text AS locked_here
  FROM deals ORDER BY 1;
ROLLBACK;
RESET seq_page_cost;
RESET cpu_tuple_cost;
RESET cpu_operator_cost;
SET ROLE regress_enforce_attacks;

RESET ROLE;
-- (an exempt role keeps it)
SELECT currtid2('enforce_attacks.deals', '(0,1)'::tid) IS NOT NULL AS exempt_may;
SELECT tenant_id, body FROM notes ORDER BY 1, 2;
SELECT tenant_id, kind FROM activities ORDER BY 1, 2;
SELECT tenant_id, stage FROM deals ORDER BY 1, 2;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_attacks%';
DROP SCHEMA enforce_attacks CASCADE;
DROP OWNED BY regress_enforce_attacks;
DROP ROLE regress_enforce_attacks;
