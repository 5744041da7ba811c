-- enforce_cases: the 36 conformance cases of shared/spec/tenant-scope-cases.md,
-- run as an ordinary role (neither superuser nor BYPASSRLS).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_cases;
SET search_path = enforce_cases, public;
CREATE ROLE regress_enforce_app;
GRANT USAGE ON SCHEMA enforce_cases TO regress_enforce_app;

CREATE TABLE deals      (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                         PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts   (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                         PRIMARY KEY (tenant_id, id),
                         FOREIGN KEY (tenant_id, deal_id) REFERENCES deals (tenant_id, id));
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text, at timestamptz DEFAULT now());
CREATE TABLE countries  (code text PRIMARY KEY, name text);   -- global: no tenant_id column
CREATE TABLE notes      (tenant_id text, body text);            -- a nullable tenant column
CREATE VIEW open_deals AS SELECT * FROM deals WHERE stage <> 'closed';
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON deals, contacts, activities, countries, open_deals,
  notes TO regress_enforce_app;

-- T1 and T2 (loaded as superuser, which is exempt)
INSERT INTO deals VALUES
  ('11111111-1111-4111-8111-111111111111', 7, 'open', 100),
  ('11111111-1111-4111-8111-111111111111', 8, 'closed', 50),
  ('22222222-2222-4222-8222-222222222222', 7, 'open', 900);
INSERT INTO contacts VALUES
  ('11111111-1111-4111-8111-111111111111', 3, 7, 'ann@t1.example'),
  ('22222222-2222-4222-8222-222222222222', 3, 7, 'bob@t2.example');
INSERT INTO activities (tenant_id, contact_id, kind) VALUES
  ('11111111-1111-4111-8111-111111111111', 3, 'call'),
  ('22222222-2222-4222-8222-222222222222', 3, 'mail');
INSERT INTO countries VALUES ('open', 'Openland');

CREATE FUNCTION count_deals_of(p_tenant text) RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM deals WHERE tenant_id = p_tenant);
END $$;
CREATE FUNCTION count_all_deals() RETURNS bigint LANGUAGE plpgsql AS $$
BEGIN
  RETURN (SELECT count(*) FROM deals);
END $$;

\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
SET app.tenant_id = '11111111-1111-4111-8111-111111111111';
SET ROLE regress_enforce_app;
SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user;

-- ---------------------------------------------------------------- Accept
\echo A1
SELECT * FROM deals WHERE tenant_id = :T1 ORDER BY id;
\echo A2
SELECT * FROM deals WHERE tenant_id = :T1 AND id = 7;
\echo A3
PREPARE q(text) AS SELECT * FROM deals WHERE tenant_id = $1 ORDER BY id;
EXECUTE q(:T1);
EXECUTE q(:T1);
EXECUTE q(:T1);
EXECUTE q(:T1);
EXECUTE q(:T1);
EXECUTE q(:T1);
EXECUTE q(:T1);
-- the later executions ran the generic plan: $1 survives in it
EXPLAIN (COSTS OFF) EXECUTE q(:T1);
DEALLOCATE q;
\echo A4
SELECT * FROM deals WHERE tenant_id = current_setting('app.tenant_id') ORDER BY id;
\echo A5
SELECT d.id, c.email FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id WHERE d.tenant_id = :T1;
\echo A6
SELECT d.id, count(a.*) FROM deals d LEFT JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id WHERE d.tenant_id = :T1 GROUP BY d.id ORDER BY d.id;
\echo A7
SELECT d.*, k.name FROM deals d LEFT JOIN countries k ON k.code = d.stage WHERE d.tenant_id = :T1 ORDER BY d.id;
\echo A8
WITH w AS (SELECT * FROM deals WHERE tenant_id = :T1) SELECT count(*) FROM w;
\echo A9
SELECT * FROM open_deals WHERE tenant_id = :T1;
\echo A10
UPDATE deals SET stage = 'won' WHERE tenant_id = :T1 AND id = 7;
\echo A11
DELETE FROM activities WHERE tenant_id = :T1 AND contact_id = 3;
\echo A12
INSERT INTO deals (tenant_id, id, stage) VALUES (:T1, 99, 'new');
\echo A13
INSERT INTO deals (tenant_id, id, stage) VALUES (:T1, 7, 'x') ON CONFLICT (tenant_id, id) DO UPDATE SET stage = excluded.stage;
\echo A14
INSERT INTO activities (tenant_id, contact_id, kind) SELECT tenant_id, id, 'import' FROM contacts WHERE tenant_id = :T1;
\echo A15
SELECT * FROM deals WHERE tenant_id = :T1 AND id = 7 FOR UPDATE;
\echo A16
SELECT count(*) FROM countries;
\echo A17
INSERT INTO contacts (tenant_id, id, deal_id) VALUES (:T1, 50, 7);
\echo A18
SELECT count_deals_of(:T1);

-- ---------------------------------------------------------------- Reject
\echo R1
SELECT * FROM deals;
\echo :LAST_ERROR_SQLSTATE
\echo R2
SELECT * FROM deals WHERE id = 7;
\echo :LAST_ERROR_SQLSTATE
\echo R3
SELECT * FROM deals WHERE tenant_id = :T1 OR stage = 'won';
\echo :LAST_ERROR_SQLSTATE
\echo R4
SELECT * FROM deals WHERE tenant_id IN (:T1, :T2);
\echo :LAST_ERROR_SQLSTATE
\echo R5
-- terse: PostgreSQL 17+ drops the always-true clause on a NOT NULL column, so the DETAIL differs
\set VERBOSITY terse
SELECT * FROM deals WHERE tenant_id = tenant_id;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
-- on a nullable tenant column every version keeps "tenant_id IS NOT NULL"
SELECT * FROM notes WHERE tenant_id = tenant_id;
\echo :LAST_ERROR_SQLSTATE
\echo R6
SELECT * FROM deals WHERE tenant_id <> :T2;
\echo :LAST_ERROR_SQLSTATE
\echo R7
SELECT * FROM deals d JOIN contacts c ON c.deal_id = d.id WHERE d.tenant_id = :T1;
\echo :LAST_ERROR_SQLSTATE
\echo R8
SELECT * FROM open_deals;
\echo :LAST_ERROR_SQLSTATE
\echo R9
UPDATE deals SET stage = 'lost' WHERE id = 7;
\echo :LAST_ERROR_SQLSTATE
\echo R10
DELETE FROM activities;
\echo :LAST_ERROR_SQLSTATE
\echo R11
UPDATE deals SET tenant_id = :T2 WHERE tenant_id = :T1 AND id = 7;
\echo :LAST_ERROR_SQLSTATE
\echo R12
INSERT INTO activities (tenant_id, contact_id) SELECT tenant_id, id FROM contacts;
\echo :LAST_ERROR_SQLSTATE
\echo R13
-- no CONTEXT: PostgreSQL 18 says "PL/pgSQL expression", 15 and 17 "SQL expression"
\set SHOW_CONTEXT never
SELECT count_all_deals();
\set SHOW_CONTEXT errors
\echo :LAST_ERROR_SQLSTATE
\echo R14
COPY deals TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
\echo R15
TRUNCATE activities;
\echo :LAST_ERROR_SQLSTATE
\echo R16
EXPLAIN ANALYZE SELECT * FROM deals;
\echo :LAST_ERROR_SQLSTATE
\echo R17
-- terse: the min/max rewrite adds "tenant_id IS NOT NULL", which 17+ drops (see R5)
\set VERBOSITY terse
SELECT * FROM deals WHERE tenant_id = (SELECT max(tenant_id) FROM deals);
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
\echo R18
SELECT * FROM deals WHERE tenant_id = :T1 UNION ALL SELECT * FROM deals;
\echo :LAST_ERROR_SQLSTATE

-- Nothing was written by a rejected statement: only the accepted writes show.
RESET ROLE;
SELECT * FROM deals ORDER BY tenant_id, id;
SELECT tenant_id, contact_id, kind FROM activities ORDER BY tenant_id, kind;
SELECT tenant_id, id, deal_id FROM contacts ORDER BY tenant_id, id;

-- The same verdicts from the checker.
SELECT "table", alias, pinned, reason
  FROM gtm_check_statement('SELECT * FROM deals d JOIN contacts c ON c.deal_id = d.id WHERE d.tenant_id = $1');

RESET app.tenant_id;
DROP SCHEMA enforce_cases CASCADE;
DROP OWNED BY regress_enforce_app;
DROP ROLE regress_enforce_app;
