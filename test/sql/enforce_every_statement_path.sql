-- enforce_shapes: the rule on every statement path the issue names, run as
-- an ordinary role.  T1 = 'aaaaaaaa-...', T2 = 'bbbbbbbb-...'.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_shapes;
SET search_path = enforce_shapes, public;
CREATE ROLE regress_enforce_shapes;
GRANT USAGE, CREATE ON SCHEMA enforce_shapes TO regress_enforce_shapes;

CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE TABLE audit (tenant_id text NOT NULL, what text);
CREATE TABLE codes (tenant_id text NOT NULL, code int NOT NULL, CONSTRAINT codes_code_key UNIQUE (code));
CREATE TABLE notes (tenant_id text NOT NULL DEFAULT gtm_current_tenant(), body text);
CREATE TABLE events (tenant_id text NOT NULL, id int) PARTITION BY LIST (tenant_id);
CREATE TABLE events_t1 PARTITION OF events FOR VALUES IN ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
CREATE TABLE events_t2 PARTITION OF events FOR VALUES IN ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb');
CREATE TABLE things (id int);                       -- no tenant column
CREATE TABLE things_of_tenant (tenant_id text) INHERITS (things);
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON ALL TABLES IN SCHEMA enforce_shapes
  TO regress_enforce_shapes;
INSERT INTO deals VALUES ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 1, 'open'),
                         ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 2, 'won'),
                         ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 1, 'open');
INSERT INTO contacts VALUES ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 1, 1, 'a@t1'),
                            ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 1, 1, 'b@t2');
INSERT INTO events VALUES ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa', 1), ('bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb', 2);

-- functions and triggers (created by the owner; they run as the caller)
CREATE FUNCTION deals_of(p text) RETURNS SETOF deals LANGUAGE sql STABLE
  AS $$ SELECT * FROM deals WHERE tenant_id = p $$;                      -- inlined
CREATE FUNCTION all_deals() RETURNS SETOF deals LANGUAGE sql STABLE
  AS $$ SELECT * FROM deals $$;                                          -- inlined
CREATE FUNCTION deals_count_vol(p text) RETURNS bigint LANGUAGE sql VOLATILE
  AS $$ SELECT count(*) FROM deals WHERE tenant_id = p $$;               -- not inlined
CREATE FUNCTION deals_count_vol_all() RETURNS bigint LANGUAGE sql VOLATILE
  AS $$ SELECT count(*) FROM deals $$;                                   -- not inlined
CREATE FUNCTION dyn_count(p text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE 'SELECT count(*) FROM deals WHERE tenant_id = $1' INTO n USING p; RETURN n; END $$;
CREATE FUNCTION dyn_count_all() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN EXECUTE 'SELECT count(*) FROM deals' INTO n; RETURN n; END $$;
CREATE FUNCTION audit_ok() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit SELECT NEW.tenant_id, 'contacts: ' || count(*) FROM contacts WHERE tenant_id = NEW.tenant_id;
  RETURN NEW;
END $$;
CREATE FUNCTION audit_bad() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO audit SELECT NEW.tenant_id, 'contacts: ' || count(*) FROM contacts;
  RETURN NEW;
END $$;
CREATE TRIGGER deals_audit AFTER INSERT ON deals FOR EACH ROW EXECUTE FUNCTION audit_ok();
CREATE RULE contacts_log AS ON UPDATE TO contacts
  DO ALSO INSERT INTO audit VALUES (NEW.tenant_id, 'contact ' || NEW.id);

\set T1 '''aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'''
\set T2 '''bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb'''
SET ROLE regress_enforce_shapes;

-- ---------------------------------------------------------------- CTEs
WITH w AS MATERIALIZED (SELECT * FROM deals WHERE tenant_id = :T1) SELECT count(*) FROM w;
WITH w AS NOT MATERIALIZED (SELECT * FROM deals) SELECT count(*) FROM w WHERE tenant_id = :T1;
WITH w AS MATERIALIZED (SELECT * FROM deals) SELECT count(*) FROM w WHERE tenant_id = :T1;
WITH u AS (UPDATE deals SET stage = 'open' WHERE tenant_id = :T1 AND id = 1 RETURNING id)
  SELECT count(*) FROM u;
WITH u AS (UPDATE deals SET stage = 'open' WHERE id = 1 RETURNING id) SELECT count(*) FROM u;
WITH i AS (INSERT INTO audit VALUES (:T1, 'cte') RETURNING *) SELECT what FROM i;
WITH i AS (INSERT INTO audit VALUES (:T2, 'cte') RETURNING *) SELECT * FROM deals WHERE tenant_id = :T1;

-- ---------------------------------------------------------------- subqueries
SELECT count(*) FROM (SELECT * FROM deals WHERE tenant_id = :T1 LIMIT 10) s;
SELECT count(*) FROM (SELECT * FROM deals LIMIT 10) s WHERE tenant_id = :T1;
SELECT d.id, (SELECT count(*) FROM contacts c WHERE c.tenant_id = d.tenant_id AND c.deal_id = d.id)
  FROM deals d WHERE d.tenant_id = :T1 ORDER BY d.id;
SELECT d.id, (SELECT count(*) FROM contacts c WHERE c.tenant_id = d.tenant_id) FROM deals d;
SELECT d.id, (SELECT count(*) FROM contacts c WHERE c.deal_id = d.id) FROM deals d WHERE d.tenant_id = :T1;
SELECT id FROM deals d WHERE d.tenant_id = :T1
  AND EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = d.tenant_id AND c.deal_id = d.id);
-- two levels of correlation: audit is pinned through contacts, through deals
SELECT d.id, (SELECT (SELECT count(*) FROM audit a WHERE a.tenant_id = c.tenant_id)
                FROM contacts c WHERE c.tenant_id = d.tenant_id ORDER BY c.id LIMIT 1)
  FROM deals d WHERE d.tenant_id = :T1 ORDER BY d.id;
SELECT d.id, (SELECT (SELECT count(*) FROM audit a WHERE a.tenant_id = c.tenant_id)
                FROM contacts c WHERE c.deal_id = d.id ORDER BY c.id LIMIT 1)
  FROM deals d WHERE d.tenant_id = :T1 ORDER BY d.id;
SELECT id FROM deals d WHERE d.tenant_id = :T1
  AND EXISTS (SELECT 1 FROM contacts c WHERE c.deal_id = d.id);
SELECT id FROM deals d WHERE d.tenant_id = :T1
  AND d.id IN (SELECT deal_id FROM contacts c WHERE c.tenant_id = d.tenant_id);
SELECT id FROM deals d WHERE d.tenant_id = :T1
  AND d.id NOT IN (SELECT deal_id FROM contacts c WHERE c.tenant_id = :T1 AND deal_id IS NOT NULL);
SELECT d.id, x.n FROM deals d,
  LATERAL (SELECT count(*) AS n FROM contacts c WHERE c.tenant_id = d.tenant_id AND c.deal_id = d.id) x
  WHERE d.tenant_id = :T1 ORDER BY d.id;
SELECT d.id, x.email FROM deals d,
  LATERAL (SELECT email FROM contacts c WHERE c.tenant_id = d.tenant_id ORDER BY c.id LIMIT 1) x
  WHERE d.tenant_id = :T1 ORDER BY d.id;
SELECT d.id, x.email FROM deals d,
  LATERAL (SELECT email FROM contacts c WHERE c.tenant_id = d.tenant_id ORDER BY c.id LIMIT 1) x;
SELECT * FROM deals WHERE tenant_id = (SELECT :T1::text);

-- ---------------------------------------------------------------- set operations
SELECT id FROM deals WHERE tenant_id = :T1 UNION SELECT id FROM contacts WHERE tenant_id = :T1 ORDER BY 1;
SELECT id FROM deals WHERE tenant_id = :T1 UNION SELECT id FROM deals WHERE tenant_id = :T2;
SELECT id FROM deals WHERE tenant_id = :T1 INTERSECT SELECT id FROM contacts;

-- ---------------------------------------------------------------- functions
SELECT count(*) FROM deals_of(:T1);
SELECT count(*) FROM all_deals();
SELECT deals_count_vol(:T1);
-- (no CONTEXT: SQL functions go through the plan cache from PostgreSQL 18 on,
-- which reports "statement 1" where 15 and 17 say "during startup")
\set SHOW_CONTEXT never
SELECT deals_count_vol_all();
\set SHOW_CONTEXT errors
SELECT dyn_count(:T1);
SELECT dyn_count_all();
DO $$ BEGIN PERFORM count(*) FROM deals; END $$;

-- ---------------------------------------------------------------- triggers and rules
INSERT INTO deals VALUES (:T1, 3, 'new');
SELECT what FROM audit WHERE tenant_id = :T1 ORDER BY what;
RESET ROLE;
CREATE OR REPLACE TRIGGER deals_audit AFTER INSERT ON deals FOR EACH ROW EXECUTE FUNCTION audit_bad();
SET ROLE regress_enforce_shapes;
INSERT INTO deals VALUES (:T1, 4, 'new');
SELECT count(*) FROM deals WHERE tenant_id = :T1 AND id = 4;
UPDATE contacts SET email = 'a2@t1' WHERE tenant_id = :T1 AND id = 1;
SELECT what FROM audit WHERE tenant_id = :T1 ORDER BY what;

-- ---------------------------------------------------------------- cursors, prepared statements
BEGIN;
DECLARE c1 CURSOR FOR SELECT id FROM deals WHERE tenant_id = :T1 ORDER BY id;
FETCH 2 FROM c1;
DECLARE c2 CURSOR FOR SELECT id FROM deals;
ROLLBACK;
-- two parameters: checked with the bound values, custom and generic plans
PREPARE two(text, text) AS
  SELECT d.id, c.email FROM deals d JOIN contacts c ON c.deal_id = d.id
   WHERE d.tenant_id = $1 AND c.tenant_id = $2;
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T2);
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T1);
EXPLAIN (COSTS OFF) EXECUTE two(:T1, :T1);
EXECUTE two(:T1, :T2);
EXECUTE two(:T1, NULL);
DEALLOCATE two;
-- the same in PL/pgSQL: its variables are parameters of a cached plan
RESET ROLE;
CREATE FUNCTION explain_analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE ln text;
BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
    CONTINUE WHEN ln ~ '^\s*(Index Searches|Buffers|Planning):';
    RETURN NEXT regexp_replace(ln, 'rows=(\d+)\.00 ', 'rows=\1 ');
  END LOOP;
END $f$;
CREATE FUNCTION explain_buffers(q text) RETURNS SETOF text LANGUAGE plpgsql AS $f$
DECLARE ln text;
BEGIN
  FOR ln IN EXECUTE 'EXPLAIN (BUFFERS, COSTS OFF, SUMMARY OFF) ' || q LOOP
    CONTINUE WHEN ln ~ '^\s*(Buffers|Planning):';
    RETURN NEXT ln;
  END LOOP;
END $f$;
CREATE FUNCTION t1_deal_count() RETURNS bigint IMMUTABLE LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM deals WHERE tenant_id = 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
END $$;
CREATE FUNCTION emails_of(t1 text, t2 text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM deals d JOIN contacts c ON c.deal_id = d.id
           WHERE d.tenant_id = t1 AND c.tenant_id = t2);
END $$;
SET ROLE regress_enforce_shapes;
SELECT emails_of(:T1, :T1) FROM generate_series(1, 7);
-- (no CONTEXT: PostgreSQL 18 says "PL/pgSQL expression", 15 and 17 "SQL expression")
\set SHOW_CONTEXT never
SELECT emails_of(:T1, :T2);
\set SHOW_CONTEXT errors
PREPARE one(text) AS SELECT count(*) FROM deals WHERE tenant_id = $1;
EXECUTE one(NULL);

-- ---------------------------------------------------------------- EXPLAIN, CTAS, matviews
-- EXPLAIN ANALYZE of a tenant table is refused to an ordinary role (its
-- counts can include rows of other tenants the plan reads, enforce_keys),
-- also pinned; an exempt role gets it
-- (explain_analyze: the plan without what PostgreSQL 18 adds to EXPLAIN ANALYZE)
SELECT explain_analyze($$SELECT * FROM deals WHERE tenant_id = $$ || quote_literal(:T1) || $$ AND id = 1$$);
-- so is the statement on tenant tables that a function of the explained
-- statement runs: the top node counts its buffers and time (round ES: a
-- pinned count's buffer hits told whether another tenant had a value)
\set SHOW_CONTEXT never
SELECT explain_analyze($$SELECT emails_of($$ || quote_literal(:T1) || $$, $$ || quote_literal(:T1) || $$)$$);
SELECT explain_analyze(format($$SELECT query_to_xml(%L, false, false, '')$$,
                              'SELECT count(*) FROM deals WHERE tenant_id = ' || quote_literal(:T1)));
-- and a cursor declared before, fetched under it (rounds ET, EU: a pinned
-- cursor's buffers told whether another tenant had the value searched),
-- and what the planner runs under EXPLAIN (BUFFERS), which counts the
-- planning's buffers without ANALYZE (a function it folds)
BEGIN;
DECLARE early CURSOR FOR SELECT count(*) FROM deals WHERE tenant_id = :T1;
SELECT explain_analyze($$SELECT cursor_to_xml('early', 1, false, false, '')$$);
ROLLBACK;
EXPLAIN (BUFFERS, COSTS OFF) SELECT t1_deal_count();
-- EXPLAIN (BUFFERS) without ANALYZE of a statement on tenant tables, pinned
-- or not: its planning's buffer counts (index endpoint probes read every
-- tenant's entries) are not shown (round FI); through PL/pgSQL too
EXPLAIN (BUFFERS, COSTS OFF) SELECT * FROM deals WHERE tenant_id = :T1 AND id = 1;
EXPLAIN (BUFFERS FALSE, COSTS OFF) SELECT * FROM deals WHERE tenant_id = :T1 AND id = 1;
SELECT explain_buffers($$SELECT * FROM deals WHERE tenant_id = $$ || quote_literal(:T1));
SELECT explain_buffers('SELECT * FROM deals');
-- a statement on no tenant table is explained with its buffers
SELECT explain_buffers('SELECT 1');
-- without BUFFERS nothing is measured: the function is folded, and runs
EXPLAIN (COSTS OFF) SELECT t1_deal_count();
\set SHOW_CONTEXT errors
RESET ROLE;
SELECT explain_analyze($$SELECT * FROM deals WHERE tenant_id = $$ || quote_literal(:T1) || $$ AND id = 1$$);
SELECT explain_buffers('SELECT * FROM deals');
SET ROLE regress_enforce_shapes;
-- plain EXPLAIN executes nothing: the verdict comes as a warning
EXPLAIN (COSTS OFF) SELECT * FROM deals;
-- EXPLAIN EXECUTE plans into the plan cache: checked like EXECUTE
PREPARE unpinned AS SELECT * FROM deals;
EXPLAIN (COSTS OFF) EXECUTE unpinned;
EXECUTE unpinned;
CREATE TABLE t1_deals AS SELECT * FROM deals WHERE tenant_id = :T1;
CREATE TABLE all_deals_copy AS SELECT * FROM deals;
SELECT * INTO all_deals_copy FROM deals;
CREATE MATERIALIZED VIEW mv_all AS SELECT * FROM deals;
CREATE MATERIALIZED VIEW mv_t1 AS SELECT * FROM deals WHERE tenant_id = :T1;
REFRESH MATERIALIZED VIEW mv_t1;
SELECT count(*) FROM mv_t1;
SELECT count(*) FROM mv_t1 WHERE tenant_id = :T1;
DROP MATERIALIZED VIEW mv_t1;
DROP TABLE t1_deals;

-- ---------------------------------------------------------------- locking
SELECT id FROM deals WHERE tenant_id = :T1 AND id = 1 FOR SHARE;
SELECT id FROM deals WHERE id = 1 FOR UPDATE;
SELECT d.id FROM deals d JOIN contacts c ON c.deal_id = d.id
  WHERE d.tenant_id = :T1 AND c.tenant_id = d.tenant_id FOR UPDATE OF d;

-- ---------------------------------------------------------------- partitions and inheritance
SELECT count(*) FROM events WHERE tenant_id = :T1;
SELECT count(*) FROM events;
SELECT count(*) FROM events_t2;
SELECT count(*) FROM events_t2 WHERE tenant_id = :T2;
-- a partition for one tenant is not pinned by its bound (round BA): an
-- older snapshot still sees the rows deleted just before ATTACH checked the
-- bound.  Here one statement deletes another tenant's row, attaches the
-- table as the first tenant's partition, and a STABLE function of the same
-- statement (its snapshot) reads the table and, through it, the deals of
-- the other tenant: refused, nothing read.
\set VERBOSITY terse
BEGIN;
CREATE TEMP TABLE xp (tenant_id text NOT NULL, id int) PARTITION BY LIST (tenant_id);
CREATE TEMP TABLE xx (tid text NOT NULL, id int);
INSERT INTO xx VALUES (:T2, 1);
CREATE FUNCTION pg_temp.prep() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  DELETE FROM xx;
  ALTER TABLE xx RENAME COLUMN tid TO tenant_id;
  ALTER TABLE xp ATTACH PARTITION xx FOR VALUES IN ('aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa');
  RETURN 1;
END $$;
CREATE FUNCTION pg_temp.rd() RETURNS text LANGUAGE plpgsql STABLE AS $$
DECLARE r text;
BEGIN
  SELECT string_agg(x.tenant_id || ' -> ' || coalesce((SELECT string_agg(stage, ',') FROM deals d
         WHERE d.tenant_id = x.tenant_id), ''), '; ') INTO r FROM pg_temp.xx x;
  RETURN r;
END $$;
SELECT (SELECT count(*) FROM deals WHERE tenant_id = :T1) AS t1_deals, pg_temp.prep(), pg_temp.rd();
ROLLBACK;
\set VERBOSITY default
INSERT INTO events VALUES (:T1, 10);
UPDATE events SET id = 11 WHERE tenant_id = :T1 AND id = 10;
UPDATE events SET tenant_id = :T2 WHERE tenant_id = :T1 AND id = 11;
DELETE FROM events WHERE tenant_id = :T1 AND id = 11;
SELECT count(*) FROM things;
SELECT count(*) FROM ONLY things;
SELECT count(*) FROM things_of_tenant WHERE tenant_id = :T1;
-- foreign tables
RESET ROLE;
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS file_fdw;
RESET client_min_messages;
CREATE SERVER enforce_files FOREIGN DATA WRAPPER file_fdw;
CREATE FOREIGN TABLE imported (tenant_id text, n int) SERVER enforce_files
  OPTIONS (filename '/dev/null', format 'csv');
GRANT SELECT ON imported TO regress_enforce_shapes;
SET ROLE regress_enforce_shapes;
SELECT count(*) FROM imported;
SELECT count(*) FROM imported WHERE tenant_id = :T1;
RESET ROLE;
DROP SERVER enforce_files CASCADE;
SET ROLE regress_enforce_shapes;

-- ---------------------------------------------------------------- the value
SELECT count(*) FROM deals WHERE tenant_id = current_setting('app.missing', true);
SELECT count(*) FROM deals WHERE NOT (tenant_id <> :T1);
SELECT count(*) FROM deals WHERE tenant_id = :T1 AND tenant_id = :T2;
SELECT count(*) FROM deals d JOIN contacts c ON c.deal_id = d.id WHERE d.tenant_id = :T1 AND c.tenant_id = :T2;
SELECT count(*) FROM deals WHERE tenant_id = random()::text;
SELECT count(*) FROM deals WHERE lower(tenant_id) = :T1;
SELECT count(*) FROM deals WHERE tenant_id = stage;
SELECT count(*) FROM deals WHERE tenant_id = ANY (ARRAY[:T1, :T2]);
SELECT count(*) FROM deals WHERE tenant_id = ANY (ARRAY[:T1]);    -- one value: T1's rows
SELECT count(*) FROM deals WHERE tenant_id = :T1;
SELECT count(*) FROM deals WHERE tenant_id LIKE 'aaaa%';
SELECT count(*) FROM deals WHERE tenant_id = NULL;
SELECT count(*) FROM deals d LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.deal_id = d.id;
SELECT count(*) FROM deals d FULL JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
  WHERE d.tenant_id = :T1;

-- values from functions: a user-defined function could return another
-- tenant on the next row; an inlined SQL function is judged by its body
-- (here a setting, which can change while the statement runs: rejected)
RESET ROLE;
CREATE FUNCTION sql_tenant() RETURNS text LANGUAGE sql STABLE
  AS $$ SELECT current_setting('app.tenant', true) $$;
CREATE FUNCTION plpgsql_tenant() RETURNS text LANGUAGE plpgsql STABLE
  AS $$ BEGIN RETURN 'aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa'; END $$;
CREATE COLLATION case_insensitive (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SET ROLE regress_enforce_shapes;
SELECT count(*) FROM deals WHERE tenant_id = sql_tenant();
SELECT count(*) FROM deals WHERE tenant_id = plpgsql_tenant();
SELECT count(*) FROM deals WHERE tenant_id = :T1 COLLATE case_insensitive;
INSERT INTO audit VALUES (plpgsql_tenant(), 'user function');

-- ---------------------------------------------------------------- writes
INSERT INTO audit VALUES (:T1, 'a'), (:T1, 'b');
INSERT INTO audit VALUES (:T1, 'a'), (:T2, 'b');
INSERT INTO audit (what) VALUES ('no tenant');
INSERT INTO audit VALUES (lower(:T1), 'stable expression');
INSERT INTO audit VALUES (random()::text, 'volatile');
INSERT INTO audit SELECT tenant_id, 'grouped ' || count(*) FROM contacts WHERE tenant_id = :T1 GROUP BY tenant_id;
INSERT INTO audit SELECT tenant_id, 'all' FROM contacts GROUP BY tenant_id;
INSERT INTO audit SELECT :T2, email FROM contacts WHERE tenant_id = :T1;
INSERT INTO audit SELECT c.tenant_id, d.stage FROM contacts c JOIN deals d ON d.tenant_id = c.tenant_id AND d.id = c.deal_id
  WHERE c.tenant_id = :T1;
WITH src AS MATERIALIZED (SELECT tenant_id, email FROM contacts WHERE tenant_id = :T1)
  INSERT INTO audit SELECT tenant_id, 'from cte ' || email FROM src;
WITH src AS MATERIALIZED (SELECT tenant_id, email FROM contacts WHERE tenant_id = :T1)
  INSERT INTO audit SELECT :T2, 'from cte ' || email FROM src;
INSERT INTO notes (body) VALUES ('uses the default');
INSERT INTO codes VALUES (:T1, 1) ON CONFLICT (code) DO UPDATE SET tenant_id = excluded.tenant_id;
INSERT INTO codes VALUES (:T1, 1) ON CONFLICT ON CONSTRAINT codes_code_key DO UPDATE SET code = 2;
INSERT INTO codes VALUES (:T1, 1) ON CONFLICT DO NOTHING;
INSERT INTO deals VALUES (:T1, 1) ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_id = :T2;
INSERT INTO deals VALUES (:T1, 1) ON CONFLICT (tenant_id, id) DO UPDATE SET tenant_id = excluded.tenant_id;
UPDATE deals SET tenant_id = tenant_id WHERE tenant_id = :T1 AND id = 1;
UPDATE deals SET tenant_id = upper(tenant_id) WHERE tenant_id = :T1 AND id = 1;
UPDATE deals SET tenant_id = :T1 WHERE tenant_id = :T1 AND id = 1;
UPDATE deals d SET stage = c.email FROM contacts c WHERE d.tenant_id = :T1 AND c.deal_id = d.id;
UPDATE deals d SET stage = 'x' FROM contacts c
  WHERE d.tenant_id = :T1 AND c.tenant_id = d.tenant_id AND c.deal_id = d.id;
DELETE FROM contacts c USING deals d WHERE c.tenant_id = :T1 AND d.id = c.deal_id AND d.stage = 'none';
DELETE FROM contacts c USING deals d
  WHERE c.tenant_id = :T1 AND d.tenant_id = c.tenant_id AND d.id = c.deal_id AND d.stage = 'none';
MERGE INTO deals d USING (VALUES (1, 'merged')) s(i, st) ON d.tenant_id = :T1 AND d.id = s.i
  WHEN MATCHED THEN UPDATE SET stage = s.st
  WHEN NOT MATCHED THEN INSERT VALUES (:T1, s.i, s.st);
MERGE INTO deals d USING (VALUES (1, 'merged')) s(i, st) ON d.id = s.i
  WHEN MATCHED THEN UPDATE SET stage = s.st;
MERGE INTO deals d USING (VALUES (9, 'merged')) s(i, st) ON d.tenant_id = :T1 AND d.id = s.i
  WHEN NOT MATCHED THEN INSERT VALUES (:T2, s.i, s.st);
MERGE INTO deals d USING contacts c ON d.tenant_id = :T1 AND d.id = c.deal_id
  WHEN MATCHED THEN UPDATE SET stage = 'x';
MERGE INTO deals d USING (VALUES (1, 'merged')) s(i, st) ON d.tenant_id = :T1 AND d.id = s.i
  WHEN MATCHED THEN UPDATE SET tenant_id = :T2;

-- ---------------------------------------------------------------- COPY and TRUNCATE
COPY deals FROM PROGRAM 'true';
COPY (SELECT id FROM deals WHERE tenant_id = :T1 ORDER BY id) TO STDOUT;
COPY (SELECT id FROM deals) TO STDOUT;
COPY things TO STDOUT;
TRUNCATE ONLY things;
TRUNCATE things;
TRUNCATE events;

-- ---------------------------------------------------------------- no tenant table: not checked
SELECT 1 + 1;
SELECT count(*) FROM ONLY things;
SELECT count(*) FROM pg_class WHERE relname = 'deals';

-- nothing written by the rejected statements above
RESET ROLE;
SELECT tenant_id = :T1 AS t1, id, stage FROM deals ORDER BY tenant_id, id;
SELECT tenant_id = :T1 AS t1, what FROM audit ORDER BY 1 DESC, 2;
SELECT tenant_id = :T1 AS t1, code FROM codes;
SELECT count(*) FROM events;

DROP SCHEMA enforce_shapes CASCADE;
DROP OWNED BY regress_enforce_shapes;
DROP ROLE regress_enforce_shapes;
