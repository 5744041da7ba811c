-- enforce_writes: what a write puts into a tenant column (issue 16, items 3,
-- 6 and 8), run as an ordinary role; the data is checked as superuser after
-- each group.  T1 = 't-1', T2 = 't-2'.
--   1. values followed through data-modifying CTEs to their RETURNING list
--   2. every path by which a write can change tenant_id
--   3. a written tenant is never NULL
--   4. ON CONFLICT DO UPDATE reading EXCLUDED and the conflicting row
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_writes;
SET search_path = enforce_writes, public;
CREATE ROLE regress_enforce_writes;
GRANT USAGE ON SCHEMA enforce_writes TO regress_enforce_writes;

CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE deals_archive (LIKE deals);
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE TABLE countries (code text PRIMARY KEY, name text);       -- global
CREATE TABLE notes (tenant_id text, body text);                  -- tenant_id admits NULL
CREATE TABLE stamped (tenant_id text NOT NULL, id int, stage text);
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.stage := 't-2'; RETURN NEW; END $$;
CREATE TRIGGER stamped_stamp BEFORE INSERT OR UPDATE ON stamped
  FOR EACH ROW EXECUTE FUNCTION stamp();
INSERT INTO deals VALUES ('t-1', 7, 'open', 100), ('t-1', 8, 'closed', 50),
                         ('t-1', 10, 'old', 1), ('t-2', 7, 'open', 900);
INSERT INTO contacts VALUES ('t-1', 3, 7, 'ann@t1'), ('t-2', 3, 7, 'bob@t2');
INSERT INTO activities VALUES ('t-1', 3, 'call'), ('t-2', 3, 'mail');
INSERT INTO countries VALUES ('open', 'Openland'), ('zz', 'ann@t1'), ('yy', 'nobody');

\set T1 '''t-1'''
\set T2 '''t-2'''
-- the rows of each tenant in the tables written below
CREATE VIEW census AS
  SELECT 'deals' AS tab, tenant_id, count(*) FROM deals GROUP BY tenant_id
  UNION ALL SELECT 'deals_archive', tenant_id, count(*) FROM deals_archive GROUP BY tenant_id
  UNION ALL SELECT 'contacts', tenant_id, count(*) FROM contacts GROUP BY tenant_id
  UNION ALL SELECT 'activities', tenant_id, count(*) FROM activities GROUP BY tenant_id
  UNION ALL SELECT 'notes', tenant_id, count(*) FROM notes GROUP BY tenant_id
  ORDER BY 1, 2;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_writes
  TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user;

-- ================================================================ 1. RETURNING
-- the inserted row's stage is 't-2': the activity would belong to T2
WITH i AS (INSERT INTO deals (tenant_id, id, stage) VALUES (:T1, 900, :T2) RETURNING stage)
  INSERT INTO activities (tenant_id, contact_id, kind) SELECT stage, 1, 'x' FROM i;
\echo :LAST_ERROR_SQLSTATE
-- the same with a stage of T1 is one tenant
WITH i AS (INSERT INTO deals (tenant_id, id, stage) VALUES (:T1, 901, :T1) RETURNING stage)
  INSERT INTO activities (tenant_id, contact_id, kind) SELECT stage, 1, 'cte-stage' FROM i;
-- the RETURNING list's own columns, not the table's (was "pinned to 903")
WITH i AS (INSERT INTO deals (tenant_id, id, stage) VALUES (:T1, 903, 'n') RETURNING id, tenant_id)
  INSERT INTO contacts (tenant_id, id, deal_id) SELECT tenant_id, 903, id FROM i;
-- archiving: DELETE ... RETURNING * gives the deleted rows' own values
WITH m AS (DELETE FROM deals WHERE tenant_id = :T1 AND id = 10 RETURNING *)
  INSERT INTO deals_archive SELECT * FROM m;
WITH m AS (DELETE FROM deals WHERE id = 10 RETURNING *) INSERT INTO deals_archive SELECT * FROM m;
\echo :LAST_ERROR_SQLSTATE
-- a deleted row's other column is not pinned
WITH m AS (DELETE FROM deals WHERE tenant_id = :T1 AND id = 8 RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'deleted stage' FROM m;
-- UPDATE ... RETURNING: the new value of an assigned column, the pin of another
WITH u AS (UPDATE deals SET stage = :T2 WHERE tenant_id = :T1 AND id = 7 RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'u' FROM u;
WITH u AS (UPDATE deals SET amount = 1 WHERE tenant_id = :T1 AND stage = :T2 RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'u' FROM u;
WITH u AS (UPDATE deals SET amount = 2 WHERE tenant_id = :T1 AND id = 8 RETURNING tenant_id, id)
  INSERT INTO activities (tenant_id, contact_id, kind) SELECT tenant_id, id, 'cte-update' FROM u;
-- nested data-modifying CTEs
WITH i AS (INSERT INTO deals VALUES (:T1, 950, 'n') RETURNING *),
     j AS (INSERT INTO contacts (tenant_id, id, deal_id) SELECT tenant_id, 950, id FROM i RETURNING tenant_id)
  INSERT INTO activities (tenant_id, kind) SELECT tenant_id, 'cte-nested' FROM j;
-- INSERT ... SELECT inside the CTE
WITH i AS (INSERT INTO deals SELECT tenant_id, 960, email FROM contacts WHERE tenant_id = :T1 AND id = 3
           RETURNING tenant_id)
  INSERT INTO activities (tenant_id, kind) SELECT tenant_id, 'cte-insert-select' FROM i;
-- an expression of the RETURNING list is not followed
WITH i AS (INSERT INTO deals VALUES (:T1, 961, 'x') RETURNING lower(tenant_id) AS t)
  INSERT INTO activities (tenant_id, kind) SELECT t, 'expr' FROM i;
-- a BEFORE trigger may change the row returned: its other columns are not trusted
WITH i AS (INSERT INTO stamped VALUES (:T1, 1, :T1) RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'trigger' FROM i;
-- ON CONFLICT DO UPDATE may return the conflicting row: its tenant is the
-- inserted one (the arbiter includes it), its other columns are unknown
WITH i AS (INSERT INTO deals VALUES (:T1, 7, :T1) ON CONFLICT (tenant_id, id) DO UPDATE SET amount = 5
           RETURNING tenant_id)
  INSERT INTO activities (tenant_id, kind) SELECT tenant_id, 'cte-upsert' FROM i;
WITH i AS (INSERT INTO deals VALUES (:T1, 7, :T1) ON CONFLICT (tenant_id, id) DO UPDATE SET amount = 5
           RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'upsert stage' FROM i;
-- parameters: compared when the statement starts
PREPARE cte_param(text, text) AS
  WITH i AS (INSERT INTO deals VALUES ($1, 962, $2) RETURNING stage)
  INSERT INTO activities (tenant_id, kind) SELECT stage, 'cte-param' FROM i;
EXECUTE cte_param(:T1, :T2);
EXECUTE cte_param(:T1, :T1);
DEALLOCATE cte_param;
-- an exempt table's new tenant is what RETURNING shows (nothing compares it)
RESET ROLE;
CREATE TABLE audit_log (tenant_id text NOT NULL, what text);
INSERT INTO audit_log VALUES (:T1, 'x');
SELECT gtm_exempt_table('audit_log');
GRANT SELECT, INSERT, UPDATE, DELETE ON audit_log TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
WITH u AS (UPDATE audit_log SET tenant_id = :T2 WHERE tenant_id = :T1 RETURNING tenant_id)
  INSERT INTO activities (tenant_id, kind) SELECT tenant_id, 'from exempt' FROM u
  RETURNING tenant_id;
-- a correlated subquery in RETURNING sees the new value as well as the old
UPDATE deals SET stage = :T2 WHERE tenant_id = :T1 AND stage = :T1
  RETURNING (SELECT count(*) FROM contacts c WHERE c.tenant_id = deals.stage);
SELECT * FROM gtm_check_statement($$
  WITH i AS (INSERT INTO deals (tenant_id, id, stage) VALUES ('t-1', 900, 't-2') RETURNING stage)
  INSERT INTO activities (tenant_id, contact_id, kind) SELECT stage, 1, 'x' FROM i$$);
SELECT * FROM gtm_check_statement($$
  WITH m AS (DELETE FROM deals WHERE tenant_id = $1 AND id = 10 RETURNING *)
  INSERT INTO deals_archive SELECT * FROM m$$);
RESET ROLE;
SELECT * FROM census;
SELECT tenant_id, id, stage FROM deals ORDER BY 1, 2;
SELECT tenant_id, kind FROM activities ORDER BY 1, 2;
SELECT tenant_id, id FROM deals_archive;

-- ================================================================ 2. tenant changes
-- Every way a write changes a tenant column:
--   a. UPDATE SET tenant_id (a value, DEFAULT, a multiple assignment, through
--      an updatable view that renames it, through a rule);
--   b. ON CONFLICT DO UPDATE SET tenant_id, and an arbiter without the tenant
--      column (enforce_shapes; an arbiter comparing it without identity:
--      enforce_identity);
--   c. MERGE ... UPDATE SET tenant_id (enforce_shapes);
--   d. a partitioned table's row moving to another partition (an UPDATE
--      of tenant_id, as in a);
--   e. foreign-key actions: ON UPDATE CASCADE, ON UPDATE/DELETE SET NULL and
--      SET DEFAULT write the referencing columns;
--   f. a generated tenant column recomputed from the columns it depends on;
--   g. a BEFORE row trigger assigning NEW.tenant_id (written by the table's
--      owner: README, known limits).
CREATE TABLE events (tenant_id text NOT NULL, id int) PARTITION BY LIST (tenant_id);
CREATE TABLE events_t1 PARTITION OF events FOR VALUES IN ('t-1');
CREATE TABLE events_t2 PARTITION OF events FOR VALUES IN ('t-2');
INSERT INTO events VALUES ('t-1', 1), ('t-2', 2);
CREATE VIEW deals_by_org AS SELECT tenant_id AS org, id, stage FROM deals;
CREATE VIEW deals_rule AS SELECT tenant_id, id, stage FROM deals;
CREATE RULE deals_rule_upd AS ON UPDATE TO deals_rule DO INSTEAD
  UPDATE deals SET tenant_id = NEW.stage WHERE tenant_id = OLD.tenant_id AND id = OLD.id;
CREATE TABLE defaulted (tenant_id text NOT NULL DEFAULT 't-2', v int);
INSERT INTO defaulted VALUES ('t-1', 1), ('t-2', 1);
-- e: a global table referenced by tenant columns
CREATE TABLE regions (code text PRIMARY KEY);
INSERT INTO regions VALUES ('t-1'), ('t-2'), ('none');
CREATE TABLE reg_cascade (tenant_id text NOT NULL REFERENCES regions ON UPDATE CASCADE, v int);
CREATE TABLE reg_setnull (tenant_id text REFERENCES regions ON DELETE SET NULL ON UPDATE SET NULL, v int);
CREATE TABLE reg_setnull_nn (tenant_id text NOT NULL REFERENCES regions ON DELETE SET NULL, v int);
CREATE TABLE zones (code text PRIMARY KEY);
INSERT INTO zones VALUES ('t-2'), ('none');
CREATE TABLE zone_default (tenant_id text NOT NULL DEFAULT 't-2'
                           REFERENCES zones ON DELETE SET DEFAULT, v int);
INSERT INTO reg_cascade VALUES ('t-1', 1), ('t-2', 2);
INSERT INTO reg_setnull VALUES ('none', 3);
INSERT INTO zone_default VALUES ('none', 4);
-- e: a tenant table referenced on its tenant column and key
CREATE TABLE parents (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE children (tenant_id text NOT NULL, pid int,
                       FOREIGN KEY (tenant_id, pid) REFERENCES parents ON UPDATE CASCADE);
CREATE TABLE orphans (tenant_id text NOT NULL, pid int,
                      FOREIGN KEY (tenant_id, pid) REFERENCES parents ON DELETE SET NULL (pid));
INSERT INTO parents VALUES ('t-1', 1), ('t-1', 2), ('t-2', 1);
INSERT INTO children VALUES ('t-1', 1), ('t-2', 1);
INSERT INTO orphans VALUES ('t-1', 2);
-- f
CREATE TABLE generated (org text NOT NULL, tenant_id text GENERATED ALWAYS AS ('t-' || org) STORED, v int);
INSERT INTO generated (org, v) VALUES ('1', 1), ('2', 2);
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_writes
  TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
-- a
UPDATE deals SET tenant_id = :T2 WHERE tenant_id = :T1 AND id = 7;
\echo :LAST_ERROR_SQLSTATE
UPDATE defaulted SET tenant_id = DEFAULT WHERE tenant_id = :T1;
UPDATE defaulted SET tenant_id = DEFAULT, v = 2 WHERE tenant_id = :T2;
UPDATE deals SET (tenant_id, stage) = (SELECT :T2, 'multi') WHERE tenant_id = :T1 AND id = 7;
UPDATE deals SET (tenant_id, stage) = (SELECT tenant_id, 'multi' FROM contacts WHERE tenant_id = :T2 AND id = 3)
  WHERE tenant_id = :T1 AND id = 7;
UPDATE deals_by_org SET org = :T2 WHERE org = :T1 AND id = 7;
UPDATE deals_rule SET stage = :T2 WHERE tenant_id = :T1 AND id = 7;
-- d
UPDATE events SET tenant_id = :T2 WHERE tenant_id = :T1;
-- e: ON UPDATE CASCADE from a global key would move reg_cascade's rows to T9
UPDATE regions SET code = 't-9' WHERE code = :T1;
\echo :LAST_ERROR_SQLSTATE
UPDATE regions SET code = code WHERE code = :T1;
-- ON DELETE / UPDATE SET NULL into a column admitting NULL (a NOT NULL one
-- fails by itself: reg_setnull_nn is not reported)
DELETE FROM regions WHERE code = 'none';
SELECT * FROM gtm_check_statement($$UPDATE regions SET code = 'nothing' WHERE code = 'none'$$);
-- SET DEFAULT writes the default tenant
DELETE FROM zones WHERE code = 'none';
-- ON UPDATE CASCADE from a tenant table: its key (same tenant) is fine, its
-- tenant column only to the rows' own tenant
UPDATE parents SET id = 5 WHERE tenant_id = :T1 AND id = 1;
UPDATE parents SET tenant_id = :T1 WHERE tenant_id = :T1 AND id = 5;
UPDATE parents SET tenant_id = :T2 WHERE tenant_id = :T1 AND id = 5;
-- ON DELETE SET NULL (pid): the tenant column is not written
DELETE FROM parents WHERE tenant_id = :T1 AND id = 2;
-- ON CONFLICT DO UPDATE and MERGE fire the same actions
INSERT INTO regions VALUES (:T1) ON CONFLICT (code) DO UPDATE SET code = 't-9';
MERGE INTO regions r USING (VALUES ('t-2')) s(c) ON r.code = s.c
  WHEN MATCHED THEN UPDATE SET code = 't-9';
MERGE INTO regions r USING (VALUES ('none')) s(c) ON r.code = s.c
  WHEN MATCHED THEN DELETE;
-- f
INSERT INTO generated (org, v) VALUES ('1', 3);
UPDATE generated SET org = '2' WHERE tenant_id = :T1;
UPDATE generated SET v = 10 WHERE tenant_id = :T1;
SELECT * FROM gtm_check_statement($$UPDATE regions SET code = 't-9' WHERE code = 't-1'$$);
SELECT * FROM gtm_check_statement($$UPDATE generated SET org = '2' WHERE tenant_id = 't-1'$$);
RESET ROLE;
SELECT tenant_id, id, stage FROM deals ORDER BY 1, 2;
SELECT tenant_id, v FROM defaulted ORDER BY 1;
SELECT tenant_id, id FROM events ORDER BY 1;
SELECT code FROM regions ORDER BY 1;
SELECT tenant_id, v FROM reg_cascade ORDER BY v;
SELECT tenant_id, v FROM reg_setnull ORDER BY v;
SELECT code FROM zones ORDER BY 1;
SELECT tenant_id, v FROM zone_default ORDER BY v;
SELECT tenant_id, id FROM parents ORDER BY 1, 2;
SELECT tenant_id, pid FROM children ORDER BY 1, 2;
SELECT tenant_id, pid FROM orphans ORDER BY 1, 2;
SELECT org, tenant_id, v FROM generated ORDER BY v;

-- ================================================================ 3. never NULL
SET ROLE regress_enforce_writes;
-- the nullable side of an outer join: c.tenant_id is NULL for unmatched rows
INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'left'
  FROM countries k LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name;
\echo :LAST_ERROR_SQLSTATE
INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'right'
  FROM contacts c RIGHT JOIN countries k ON c.tenant_id = :T1 AND c.email = k.name;
INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'full'
  FROM countries k FULL JOIN (SELECT * FROM contacts WHERE tenant_id = :T1) c ON c.email = k.name;
INSERT INTO notes (tenant_id, body) SELECT s.t, 'pulled-up subquery'
  FROM countries k LEFT JOIN (SELECT 't-1'::text AS t) s ON k.name = 'zz';
INSERT INTO notes (tenant_id, body) SELECT s.t, 'subquery'
  FROM countries k LEFT JOIN (SELECT tenant_id AS t FROM contacts WHERE tenant_id = :T1 LIMIT 1) s ON k.code = 'yy';
WITH s AS (SELECT c.tenant_id FROM countries k LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name)
  INSERT INTO notes SELECT tenant_id, 'cte' FROM s;
UPDATE notes n SET tenant_id = c.tenant_id
  FROM countries k LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name WHERE n.tenant_id = :T1;
MERGE INTO notes n
  USING (SELECT k.name, c.tenant_id FROM countries k LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name) s
  ON n.tenant_id = :T1 AND n.body = s.name
  WHEN NOT MATCHED THEN INSERT VALUES (s.tenant_id, 'merge');
-- grouping sets: the grand total row has a NULL tenant_id
INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'rollup'
  FROM contacts WHERE tenant_id = :T1 GROUP BY ROLLUP (tenant_id);
-- accepted: an inner join, or an outer join the WHERE clause makes inner
INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'inner'
  FROM countries k JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name;
INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'left, not null'
  FROM countries k LEFT JOIN contacts c ON c.tenant_id = :T1 AND c.email = k.name
  WHERE c.tenant_id IS NOT NULL;
-- a NULL value, written or bound (custom and generic plans)
INSERT INTO notes VALUES ('t-1', 'values'), (NULL, 'values');
SET plan_cache_mode = force_custom_plan;
PREPARE ins_note(text) AS INSERT INTO notes VALUES ($1, 'param');
EXECUTE ins_note(NULL);
SET plan_cache_mode = force_generic_plan;
EXECUTE ins_note(NULL);
EXECUTE ins_note(:T1);
DEALLOCATE ins_note;
RESET plan_cache_mode;
SELECT * FROM gtm_check_statement($$INSERT INTO notes (tenant_id, body) SELECT c.tenant_id, 'x'
  FROM countries k LEFT JOIN contacts c ON c.tenant_id = 't-1' AND c.email = k.name$$);
SELECT * FROM gtm_check_statement('INSERT INTO notes VALUES ($1, ''x'')');
RESET ROLE;
SELECT tenant_id, body FROM notes ORDER BY 1, 2;
SELECT count(*) AS notes_without_tenant FROM notes WHERE tenant_id IS NULL;

-- ================================================================ 4. ON CONFLICT
SET ROLE regress_enforce_writes;
-- EXCLUDED and the conflicting row have the inserted tenant: the arbiter
-- includes tenant_id (issue 16, item 8)
INSERT INTO deals VALUES (:T1, 7) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email FROM contacts c WHERE c.tenant_id = excluded.tenant_id AND c.id = 3);
INSERT INTO deals VALUES (:T1, 8) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email || '!' FROM contacts c WHERE c.tenant_id = deals.tenant_id AND c.id = 3);
INSERT INTO deals VALUES (:T1, 7) ON CONFLICT (tenant_id, id) DO UPDATE SET amount = 0
  WHERE EXISTS (SELECT 1 FROM contacts c WHERE c.tenant_id = deals.tenant_id);
INSERT INTO deals VALUES (:T1, 970) RETURNING (SELECT count(*) FROM contacts c WHERE c.tenant_id = deals.tenant_id);
-- other columns are not the tenant
INSERT INTO deals VALUES (:T1, 7, :T2) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email FROM contacts c WHERE c.tenant_id = excluded.stage);
INSERT INTO deals VALUES (:T1, 7) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email FROM contacts c WHERE c.tenant_id = deals.stage);
-- parameters, custom and generic plans
PREPARE upsert(text) AS INSERT INTO deals VALUES ($1, 7) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email FROM contacts c WHERE c.tenant_id = excluded.tenant_id AND c.id = 3);
SET plan_cache_mode = force_custom_plan;
EXECUTE upsert(:T2);
SET plan_cache_mode = force_generic_plan;
EXECUTE upsert(:T2);
RESET plan_cache_mode;
DEALLOCATE upsert;
SELECT * FROM gtm_check_statement($$INSERT INTO deals VALUES ('t-1', 7) ON CONFLICT (tenant_id, id) DO UPDATE
  SET stage = (SELECT c.email FROM contacts c WHERE c.tenant_id = excluded.tenant_id AND c.id = 3)$$);
RESET ROLE;
SELECT tenant_id, id, stage, amount FROM deals ORDER BY 1, 2;

-- 4b. a UNION ALL whose branches are each pinned: the written value is
-- each branch's (round BS); two tenants, or a branch without a pin, are not
SET ROLE regress_enforce_writes;
INSERT INTO notes SELECT s.t, 'from both'
  FROM (SELECT c.tenant_id AS t FROM contacts c WHERE c.tenant_id = :T1
        UNION ALL SELECT a.tenant_id FROM activities a WHERE a.tenant_id = :T1) s;
INSERT INTO notes SELECT s.t, 'two tenants'
  FROM (SELECT c.tenant_id AS t FROM contacts c WHERE c.tenant_id = :T1
        UNION ALL SELECT a.tenant_id FROM activities a WHERE a.tenant_id = :T2) s;
INSERT INTO notes SELECT s.t, 'one unpinned'
  FROM (SELECT c.tenant_id AS t FROM contacts c WHERE c.tenant_id = :T1
        UNION ALL SELECT a.tenant_id FROM activities a) s;
RESET ROLE;
SELECT tenant_id, body, count(*) FROM notes WHERE body IN ('from both', 'two tenants', 'one unpinned')
 GROUP BY 1, 2 ORDER BY 1, 2;
DELETE FROM notes WHERE body IN ('from both', 'two tenants', 'one unpinned');

-- 5. a written tenant value may wear casts between types whose text no
-- setting changes ($1::uuid of a text parameter, a PL/pgSQL text variable
-- cast to uuid): the same outcome with custom and generic plans
CREATE TABLE ledger (tenant_id uuid NOT NULL, n int);
GRANT SELECT, INSERT ON ledger TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
PREPARE put(text, int) AS INSERT INTO ledger VALUES ($1::uuid, $2);
EXECUTE put('11111111-1111-4111-8111-111111111111', 1);
EXECUTE put('11111111-1111-4111-8111-111111111111', 2);
EXECUTE put('11111111-1111-4111-8111-111111111111', 3);
EXECUTE put('11111111-1111-4111-8111-111111111111', 4);
EXECUTE put('11111111-1111-4111-8111-111111111111', 5);
EXECUTE put('11111111-1111-4111-8111-111111111111', 6);
SET plan_cache_mode = force_generic_plan;
EXECUTE put('11111111-1111-4111-8111-111111111111', 7);
PREPARE count_of(text) AS SELECT count(*) FROM ledger WHERE tenant_id = $1::uuid;
EXECUTE count_of('11111111-1111-4111-8111-111111111111');
RESET plan_cache_mode;
DEALLOCATE put;
DEALLOCATE count_of;
CREATE FUNCTION pg_temp.put_as(t text, k int) RETURNS void LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO enforce_writes.ledger VALUES (t::uuid, k); END $$;
SELECT pg_temp.put_as('22222222-2222-4222-8222-222222222222', k) FROM generate_series(8, 14) k;
-- a cast that reads a setting is no such cast: text to date reads DateStyle
CREATE TEMP TABLE dated_notes (tenant_id date NOT NULL, body text);
PREPARE put_dated(text) AS INSERT INTO dated_notes VALUES ($1::date, 'x');
SET plan_cache_mode = force_generic_plan;
EXECUTE put_dated('2020-01-02');
\echo :LAST_ERROR_SQLSTATE
RESET plan_cache_mode;
DEALLOCATE put_dated;
-- a literal of a domain with a CHECK is a pin, read and written
RESET ROLE;
CREATE DOMAIN checked_id AS text CHECK (VALUE ~ '^t-');
CREATE TABLE checked (tenant_id checked_id NOT NULL, body text);
INSERT INTO checked VALUES ('t-2', 'theirs');
GRANT SELECT, INSERT ON checked TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
INSERT INTO checked VALUES ('t-1', 'mine');
SELECT tenant_id, body FROM checked WHERE tenant_id = 't-1'::checked_id;
-- a pinned column written through a cast that keeps its text (uuid as
-- text, an integer widened, a domain's checks) is followed; one that cuts
-- it (varchar(2)) is not a pin
RESET ROLE;
CREATE TABLE ledger_text (tenant_id text NOT NULL, n int8);
CREATE TABLE ledger_checked (tenant_id checked_id NOT NULL, n int);
GRANT SELECT, INSERT ON ledger_text, ledger_checked TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
PREPARE copy_text(uuid) AS INSERT INTO ledger_text SELECT tenant_id, n FROM ledger WHERE tenant_id = $1 AND n = 1;
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
EXECUTE copy_text('11111111-1111-4111-8111-111111111111');
DEALLOCATE copy_text;
INSERT INTO ledger_checked SELECT tenant_id, 1 FROM checked WHERE tenant_id = 't-1';
INSERT INTO ledger_text SELECT tenant_id::varchar(2), 2 FROM checked WHERE tenant_id = 't-1';
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT tenant_id, count(*) FROM ledger_text GROUP BY 1 ORDER BY 1;
SELECT tenant_id, count(*) FROM ledger_checked GROUP BY 1 ORDER BY 1;
SET ROLE regress_enforce_writes;
RESET ROLE;
SELECT tenant_id, count(*), min(n), max(n) FROM ledger GROUP BY 1 ORDER BY 1;

-- ================================================================ 5. rows RETURNING shows that differ from what the statement wrote
-- (a) a STORED generated column is computed anew from the columns an UPDATE
-- sets, not the value its condition pinned
RESET ROLE;
CREATE TABLE gen_labels (tenant_id text NOT NULL, id int NOT NULL, label text,
                         label_copy text GENERATED ALWAYS AS (label) STORED,
                         PRIMARY KEY (tenant_id, id));
INSERT INTO gen_labels (tenant_id, id, label) VALUES ('t-1', 1, 't-1');
-- (b) an UPDATE that moves a row into another partition inserts it there,
-- and that partition's BEFORE INSERT trigger rewrites it
CREATE TABLE moved (tenant_id text NOT NULL, id int NOT NULL, label text, origin text)
  PARTITION BY RANGE (id);
CREATE TABLE moved_live PARTITION OF moved FOR VALUES FROM (0) TO (1000);
CREATE TABLE moved_archive PARTITION OF moved FOR VALUES FROM (1000) TO (MAXVALUE);
CREATE FUNCTION moved_archive_label() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.label := NEW.origin; RETURN NEW; END $$;
CREATE TRIGGER moved_archive_label BEFORE INSERT ON moved_archive
  FOR EACH ROW EXECUTE FUNCTION moved_archive_label();
INSERT INTO moved VALUES ('t-1', 1, 'x', 't-2');
GRANT SELECT, INSERT, UPDATE, DELETE ON gen_labels, moved TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
WITH u AS (UPDATE gen_labels SET label = 't-2' WHERE tenant_id = 't-1' AND id = 1
             AND label_copy = tenant_id RETURNING label_copy)
INSERT INTO deals (tenant_id, id, stage) SELECT label_copy, 666, 'planted' FROM u;
UPDATE gen_labels SET label = 't-2' WHERE tenant_id = 't-1' AND id = 1 AND label_copy = tenant_id
  RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = gen_labels.label_copy);
WITH u AS (UPDATE moved SET id = 1001, label = 't-1' WHERE tenant_id = 't-1' AND id = 1 RETURNING label)
INSERT INTO deals (tenant_id, id, stage) SELECT label, 667, 'planted' FROM u;
-- the column the UPDATE sets itself is still followed to the value set
WITH u AS (UPDATE gen_labels SET label = 't-1' WHERE tenant_id = 't-1' AND id = 1 RETURNING label)
INSERT INTO deals (tenant_id, id, stage) SELECT label, 668, 'kept' FROM u;
-- (c) a BEFORE trigger on the caller's own table changes the tenant of the
-- row a subquery of RETURNING is correlated with
CREATE TEMP TABLE switched (tenant_id text NOT NULL, id int);
CREATE FUNCTION pg_temp.to_t2() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.tenant_id := 't-2'; RETURN NEW; END $$;
CREATE TRIGGER to_t2 BEFORE INSERT OR UPDATE ON switched
  FOR EACH ROW EXECUTE FUNCTION pg_temp.to_t2();
INSERT INTO switched VALUES ('t-1', 3)
  RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = switched.tenant_id);
UPDATE switched SET id = 4 WHERE tenant_id = 't-1'
  RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = switched.tenant_id);
-- (the row the trigger stores for ('t-1', 3), written by the role itself:
-- an exempt role may not use its temporary table, whose trigger is its code)
INSERT INTO switched VALUES ('t-2', 3);
-- a view's CHECK OPTION (or a policy's WITH CHECK) sees the row written
-- too: its subquery is not pinned by the value the statement gave
CREATE TEMP VIEW switched_checked AS SELECT * FROM switched s
 WHERE EXISTS (SELECT 1 FROM deals d WHERE d.tenant_id = s.tenant_id AND d.id = 7) WITH CASCADED CHECK OPTION;
INSERT INTO switched_checked VALUES ('t-1', 6);
DROP VIEW switched_checked;
-- ON CONFLICT DO UPDATE: EXCLUDED and the conflicting row are what the
-- BEFORE INSERT trigger made of the row (t-2)
CREATE TEMP TABLE switched_keyed (tenant_id text NOT NULL, id int, note text, PRIMARY KEY (tenant_id, id));
CREATE TRIGGER to_t2 BEFORE INSERT ON switched_keyed FOR EACH ROW EXECUTE FUNCTION pg_temp.to_t2();
INSERT INTO switched_keyed VALUES ('t-2', 1, NULL);
INSERT INTO switched_keyed VALUES ('t-1', 1) ON CONFLICT (tenant_id, id) DO UPDATE
  SET note = (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = excluded.tenant_id);
INSERT INTO switched_keyed VALUES ('t-1', 1) ON CONFLICT (tenant_id, id) DO UPDATE
  SET note = (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = switched_keyed.tenant_id);
SELECT tenant_id, id, note FROM switched_keyed WHERE tenant_id = 't-2';
-- a subquery of its WHERE list sees the row as read: accepted
UPDATE switched SET id = 5 WHERE tenant_id = 't-2'
  AND EXISTS (SELECT 1 FROM deals d WHERE d.tenant_id = switched.tenant_id AND d.id = 7);
SELECT tenant_id, id FROM switched WHERE tenant_id = 't-2';
-- (d) the extension's own updated_at trigger (gtm_make_tenant_table) changes
-- no other column: a RETURNING subquery correlated with the tenant column
-- of such a table is still pinned by the statement's condition
RESET ROLE;
CREATE TABLE touched (tenant_id text NOT NULL, id int NOT NULL, stage text,
                      updated_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (tenant_id, id));
CREATE TRIGGER touched_touch BEFORE UPDATE ON touched FOR EACH ROW EXECUTE FUNCTION gtm_touch_updated_at();
INSERT INTO touched VALUES ('t-1', 1, 'new'), ('t-2', 1, 'new');
GRANT SELECT, UPDATE ON touched TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE touched SET stage = 'won' WHERE tenant_id = 't-1' AND id = 1
  RETURNING id, (SELECT email FROM contacts c WHERE c.tenant_id = touched.tenant_id AND c.id = 3) AS email;
RESET ROLE;
-- nothing planted (668 is the accepted write of t-1); the rejected UPDATEs changed nothing
SELECT tenant_id, id, stage FROM deals WHERE id >= 600 ORDER BY 1, 2;
SELECT tenant_id, id, label, label_copy FROM gen_labels;
SELECT tenant_id, id, label FROM moved;

-- ---------------------------------------------------------------- a trigger created on one partition after PREPARE
-- A write through a partitioned parent was judged on its partitions'
-- triggers, but the plan named only the parent: a cached plan kept its
-- verdict after a migration gave one partition a BEFORE trigger that sets
-- the tenant, and its RETURNING subquery read t-2's deal.  The partitions
-- are now dependencies of the plan: it is planned, and judged, again.
CREATE TABLE retenanted (tenant_id text NOT NULL, id int NOT NULL, v text) PARTITION BY RANGE (id);
CREATE TABLE retenanted_a PARTITION OF retenanted FOR VALUES FROM (0) TO (100);
CREATE TABLE retenanted_b PARTITION OF retenanted FOR VALUES FROM (100) TO (1000);
INSERT INTO retenanted VALUES ('t-1', 5, NULL);
GRANT SELECT, INSERT, UPDATE ON retenanted TO regress_enforce_writes;
CREATE FUNCTION retenant() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN IF NEW.v IS NOT NULL THEN NEW.tenant_id := NEW.v; END IF; RETURN NEW; END $$;
SET ROLE regress_enforce_writes;
SET plan_cache_mode = force_generic_plan;
PREPARE ins_ret(text, int, text) AS INSERT INTO retenanted VALUES ($1, $2, $3)
  RETURNING tenant_id, (SELECT string_agg(stage, ',' ORDER BY id) FROM deals d WHERE d.tenant_id = retenanted.tenant_id) AS stages;
PREPARE move_ret(text, text) AS UPDATE retenanted SET id = id + 100, v = $2
  WHERE tenant_id = $1 AND id = 5
  RETURNING tenant_id, (SELECT string_agg(stage, ',' ORDER BY id) FROM deals d WHERE d.tenant_id = retenanted.tenant_id) AS stages;
EXECUTE ins_ret('t-1', 150, NULL);
EXECUTE move_ret('t-0', NULL);                -- planned now, moves nothing
RESET ROLE;
CREATE TRIGGER retenant BEFORE INSERT ON retenanted_b FOR EACH ROW EXECUTE FUNCTION retenant();
SET ROLE regress_enforce_writes;
EXECUTE ins_ret('t-1', 151, 't-2');
\echo :LAST_ERROR_SQLSTATE
EXECUTE move_ret('t-1', 't-2');
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE ins_ret;
DEALLOCATE move_ret;
RESET plan_cache_mode;
RESET ROLE;
-- only t-1's rows: the row inserted before the trigger, and the one not moved
SELECT tenant_id, id, v FROM retenanted ORDER BY id;

-- ... and through a table of no tenant column whose column a RETURNING
-- subquery equates with a tenant table's: its partitions are read when that
-- correlated pin is resolved, after planning (round Z1), and count as well
SET ROLE regress_enforce_writes;
SET plan_cache_mode = force_generic_plan;
CREATE TEMP TABLE tp (org text NOT NULL, id int NOT NULL, note text) PARTITION BY RANGE (id);
CREATE TEMP TABLE tp_a PARTITION OF tp FOR VALUES FROM (0) TO (100);
CREATE TEMP TABLE tp_b PARTITION OF tp FOR VALUES FROM (100) TO (1000);
CREATE FUNCTION pg_temp.reorg() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN IF NEW.note IS NOT NULL THEN NEW.org := NEW.note; END IF; RETURN NEW; END $$;
PREPARE ins_tp(text, int, text) AS INSERT INTO tp VALUES ($1, $2, $3)
  RETURNING org, (SELECT string_agg(stage, ',' ORDER BY id) FROM deals d WHERE d.tenant_id = tp.org) AS stages;
EXECUTE ins_tp('t-1', 150, NULL);
CREATE TRIGGER reorg BEFORE INSERT ON tp_b FOR EACH ROW EXECUTE FUNCTION pg_temp.reorg();
EXECUTE ins_tp('t-1', 151, 't-2');
DEALLOCATE ins_tp;
RESET plan_cache_mode;
SELECT org, id FROM tp ORDER BY id;
DROP TABLE tp;
RESET ROLE;

-- ---------------------------------------------------------------- actions that fire actions (round Z1)
-- A foreign-key action's write fires the actions of the table it writes:
-- regions3 -> mid (ON UPDATE CASCADE, ON DELETE CASCADE) -> leaf's tenant
-- column (ON UPDATE CASCADE, ON DELETE SET NULL); mid has no tenant column.
CREATE TABLE regions3 (code text PRIMARY KEY);
INSERT INTO regions3 VALUES ('t-1'), ('t-2');
CREATE TABLE mid (code text PRIMARY KEY REFERENCES regions3 ON UPDATE CASCADE ON DELETE CASCADE);
INSERT INTO mid VALUES ('t-1'), ('t-2');
CREATE TABLE leaf (tenant_id text REFERENCES mid ON UPDATE CASCADE ON DELETE SET NULL, v int);
INSERT INTO leaf VALUES ('t-1', 1), ('t-2', 2);
-- an action writing a column a generated tenant column is computed from
CREATE TABLE regions6 (code text PRIMARY KEY);
INSERT INTO regions6 VALUES ('1'), ('2');
CREATE TABLE gchild (region text NOT NULL REFERENCES regions6 ON UPDATE CASCADE,
                     tenant_id text GENERATED ALWAYS AS ('t-' || region) STORED, v int);
INSERT INTO gchild (region, v) VALUES ('1', 1), ('2', 2);
-- the referencing table's NOT NULL, read by a cached plan's verdict
CREATE TABLE regions7 (code text PRIMARY KEY);
INSERT INTO regions7 VALUES ('t-1'), ('t-2');
CREATE TABLE reg_nn7 (tenant_id text NOT NULL REFERENCES regions7 ON UPDATE SET NULL, v int);
INSERT INTO reg_nn7 VALUES ('t-1', 1), ('t-2', 2);
GRANT SELECT, UPDATE, DELETE ON regions3, mid, leaf, regions6, gchild, regions7, reg_nn7
  TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE regions3 SET code = 't-9' WHERE code = 't-2';
DELETE FROM regions3 WHERE code = 't-2';
UPDATE regions6 SET code = '9' WHERE code = '2';
SET plan_cache_mode = force_generic_plan;
PREPARE up7(text, text) AS UPDATE regions7 SET code = $2 WHERE code = $1;
EXECUTE up7('nothing', 'x');
RESET ROLE;
ALTER TABLE reg_nn7 ALTER COLUMN tenant_id DROP NOT NULL;
SET ROLE regress_enforce_writes;
EXECUTE up7('t-2', 't-9');
DEALLOCATE up7;
RESET plan_cache_mode;
RESET ROLE;
-- a referenced key that is a generated column changes with the column it
-- is computed from, and fires its actions (round AA)
RESET ROLE;
CREATE TABLE gregions (name text, code text GENERATED ALWAYS AS (lower(name)) STORED UNIQUE);
INSERT INTO gregions (name) VALUES ('T-1');
CREATE TABLE gleaf (tenant_id text REFERENCES gregions (code) ON UPDATE CASCADE, v int);
INSERT INTO gleaf VALUES ('t-1', 1);
-- a tree of a tenant table (comments answering comments), and one of no
-- tenant, deleted through self-referencing ON DELETE CASCADE: fine
CREATE TABLE comments (tenant_id text NOT NULL, id int NOT NULL, parent_id int,
                       PRIMARY KEY (tenant_id, id),
                       FOREIGN KEY (tenant_id, parent_id) REFERENCES comments ON DELETE CASCADE);
INSERT INTO comments VALUES ('t-1', 1, NULL), ('t-1', 2, 1), ('t-1', 3, 2), ('t-2', 1, NULL);
CREATE TABLE cat (id int PRIMARY KEY, parent int REFERENCES cat ON DELETE CASCADE);
INSERT INTO cat VALUES (1, NULL), (2, 1), (3, 2);
-- nine self-referencing foreign keys: judged once per table and write, at once
CREATE TABLE tk (tenant_id text NOT NULL, id int, p1 int, p2 int, p3 int, p4 int, p5 int,
                 p6 int, p7 int, p8 int, p9 int, PRIMARY KEY (tenant_id, id));
SELECT format('ALTER TABLE tk ADD FOREIGN KEY (tenant_id, p%s) REFERENCES tk ON DELETE CASCADE', n)
  FROM generate_series(1, 9) n \gexec
INSERT INTO tk (tenant_id, id) VALUES ('t-1', 1), ('t-2', 1);
GRANT SELECT, UPDATE, DELETE ON gregions, gleaf, comments, cat, tk
  TO regress_enforce_writes;
-- a BEFORE trigger of a table without a tenant column in the middle of a
-- chain, or of a partition a row moves into, changes a key the action
-- copies into a tenant column (round AG)
CREATE TABLE p3 (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
CREATE TABLE mid3 (t text, pid int, mid_id int, UNIQUE (t, mid_id),
                   FOREIGN KEY (t, pid) REFERENCES p3 (tenant_id, id) ON DELETE SET NULL (pid));
CREATE FUNCTION mid3_trg() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN IF NEW.pid IS NULL THEN NEW.t := 't-2'; END IF; RETURN NEW; END $$;
CREATE TRIGGER mid3_b BEFORE UPDATE ON mid3 FOR EACH ROW EXECUTE FUNCTION mid3_trg();
CREATE TABLE leaf3 (tenant_id text, mid_id int, v text,
                    FOREIGN KEY (tenant_id, mid_id) REFERENCES mid3 (t, mid_id) ON UPDATE CASCADE);
INSERT INTO p3 VALUES ('t-1', 1), ('t-2', 1);
INSERT INTO mid3 VALUES ('t-1', 1, 7);
INSERT INTO leaf3 VALUES ('t-1', 7, 't1-row');
CREATE TABLE g9 (code text, v int, UNIQUE (code, v)) PARTITION BY LIST (v);
CREATE TABLE g9a PARTITION OF g9 FOR VALUES IN (1);
CREATE TABLE g9b PARTITION OF g9 FOR VALUES IN (2);
CREATE FUNCTION g9b_trg() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN NEW.code := 't-2'; RETURN NEW; END $$;
CREATE TRIGGER g9b_b BEFORE INSERT ON g9b FOR EACH ROW EXECUTE FUNCTION g9b_trg();
CREATE TABLE l9 (tenant_id text, v int, w text,
                 FOREIGN KEY (tenant_id, v) REFERENCES g9 (code, v) ON UPDATE CASCADE);
INSERT INTO g9 VALUES ('t-1', 1);
INSERT INTO l9 VALUES ('t-1', 1, 't1-row');
GRANT SELECT, UPDATE, DELETE ON p3, mid3, leaf3, g9, l9 TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
DELETE FROM p3 WHERE tenant_id = 't-1' AND id = 1;
UPDATE mid3 SET pid = NULL WHERE mid_id = 7;
UPDATE g9 SET v = 2 WHERE code = 't-1' AND v = 1;
RESET ROLE;
SELECT tenant_id, mid_id, v FROM leaf3;
SELECT tenant_id, v, w FROM l9;
-- ... also when the statement assigns a column its own value (round AH),
-- and for an exempt table's trigger; a tenant table's trigger changing a
-- key that ON UPDATE SET NULL copies, with the tenant column, into another
-- table; while an ordinary touch trigger on a tenant table with an
-- ON UPDATE CASCADE of (tenant_id, id) stays fine
CREATE TABLE gk (code text PRIMARY KEY, name text, pending text);
CREATE FUNCTION gk_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  IF NEW.pending IS NOT NULL THEN NEW.code := NEW.pending; NEW.pending := NULL; END IF; RETURN NEW; END $$;
CREATE TRIGGER gk_b BEFORE UPDATE ON gk FOR EACH ROW EXECUTE FUNCTION gk_trg();
CREATE TABLE gkleaf (tenant_id text, v text, FOREIGN KEY (tenant_id) REFERENCES gk (code) ON UPDATE CASCADE);
INSERT INTO gk VALUES ('t-1', 'one', NULL), ('t-2', 'two', 't-2x');
INSERT INTO gkleaf VALUES ('t-1', 't1'), ('t-2', 't2');
CREATE TABLE tt (tenant_id text NOT NULL, slug text NOT NULL, name text, UNIQUE (tenant_id, slug));
CREATE FUNCTION tt_trg() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN
  NEW.slug := lower(NEW.slug); RETURN NEW; END $$;
CREATE TRIGGER tt_b BEFORE UPDATE ON tt FOR EACH ROW EXECUTE FUNCTION tt_trg();
CREATE TABLE tl (tenant_id text, slug text, FOREIGN KEY (tenant_id, slug) REFERENCES tt (tenant_id, slug) ON UPDATE SET NULL);
CREATE TABLE tc (tenant_id text, slug text, FOREIGN KEY (tenant_id, slug) REFERENCES tt (tenant_id, slug) ON UPDATE CASCADE);
INSERT INTO tt VALUES ('t-1', 'A', 'a');
INSERT INTO tl VALUES ('t-1', 'A');
GRANT SELECT, INSERT, UPDATE, DELETE ON gk, gkleaf, tt, tl, tc TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE gk SET name = name WHERE code = 't-2';
INSERT INTO gk AS x VALUES ('t-2', 'z', NULL) ON CONFLICT (code) DO UPDATE SET name = x.name;
MERGE INTO gk x USING (VALUES ('t-2')) s(c) ON x.code = s.c WHEN MATCHED THEN UPDATE SET name = x.name;
UPDATE tt SET name = 'b' WHERE tenant_id = 't-1';
RESET ROLE;
DROP TABLE tl;
SET ROLE regress_enforce_writes;
UPDATE tt SET name = 'c' WHERE tenant_id = 't-1';
RESET ROLE;
SELECT tenant_id, v FROM gkleaf ORDER BY v;
SELECT tenant_id, slug, name FROM tt;
-- the toolkit's touch trigger sets updated_at only: a tree of folders that
-- references itself ON UPDATE CASCADE is updated and renumbered (round AI)
CREATE TABLE folders (tenant_id text NOT NULL, id bigint NOT NULL, parent_id bigint, name text,
                      updated_at timestamptz, PRIMARY KEY (tenant_id, id),
                      FOREIGN KEY (tenant_id, parent_id) REFERENCES folders (tenant_id, id)
                        ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TRIGGER folders_touch BEFORE UPDATE ON folders FOR EACH ROW EXECUTE FUNCTION gtm_touch_updated_at();
INSERT INTO folders (tenant_id, id, parent_id, name) VALUES ('t-1', 1, NULL, 'r'), ('t-1', 2, 1, 'c'), ('t-2', 1, NULL, 'r2');
GRANT SELECT, UPDATE, DELETE ON folders TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE folders SET name = 'x' WHERE tenant_id = 't-1' AND id = 1;
UPDATE folders SET id = 7 WHERE tenant_id = 't-1' AND id = 1;
RESET ROLE;
SELECT tenant_id, id, parent_id, name, updated_at IS NOT NULL AS touched FROM folders ORDER BY 1, 2;
-- ... but a touch trigger of an inheritance child on a column its parent
-- lacks counts as any trigger (round AJ)
CREATE TABLE gpar (id int, note text);
CREATE TABLE gchi (code text NOT NULL, ts timestamptz NOT NULL, UNIQUE (code, ts)) INHERITS (gpar);
CREATE TRIGGER gchi_touch BEFORE UPDATE ON gchi FOR EACH ROW EXECUTE FUNCTION gtm_touch_updated_at('ts');
CREATE TABLE gref (tenant_id text DEFAULT 't-1', id int, ts timestamptz,
                   FOREIGN KEY (tenant_id, ts) REFERENCES gchi (code, ts) ON UPDATE SET DEFAULT);
INSERT INTO gchi VALUES (1, 'n', 't-2', '2020-01-01');
INSERT INTO gref VALUES ('t-2', 1, '2020-01-01');
GRANT SELECT, UPDATE ON gpar, gchi, gref TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE gchi SET note = 'x' WHERE id = 1;
UPDATE gpar SET note = 'x' WHERE id = 1;
RESET ROLE;
SELECT tenant_id, id, ts IS NULL AS ts_null FROM gref;
-- a plan made for an exempt role is not reused by another role
SET plan_cache_mode = force_generic_plan;
PREPARE exempt_up(text, text) AS UPDATE regions7 SET code = $2 WHERE code = $1;
EXECUTE exempt_up('nothing', 'x');
SET ROLE regress_enforce_writes;
UPDATE gregions SET name = 'T-2' WHERE name = 'T-1';
DELETE FROM comments WHERE tenant_id = 't-1' AND id = 2;
DELETE FROM cat WHERE id = 2;
SET statement_timeout = '60s';
DELETE FROM tk WHERE tenant_id = 't-1' AND id = 1;
RESET statement_timeout;
EXECUTE exempt_up('t-1', 't-9');
RESET ROLE;
DEALLOCATE exempt_up;
RESET plan_cache_mode;
SELECT tenant_id, v FROM gleaf ORDER BY v;
SELECT tenant_id, id FROM comments ORDER BY 1, 2;
SELECT id FROM cat ORDER BY 1;
SELECT tenant_id, id FROM tk ORDER BY 1, 2;
-- a BEFORE trigger of the owner's moves a row out of the partition that
-- foreign keys reference ON DELETE SET NULL / SET DEFAULT, when the
-- statement assigns a column its own value: those actions fire as the row
-- is deleted from the partition, writing NULL, or the default (the session
-- tenant), into a tenant column (round DH)
CREATE TABLE pdeals (tenant_id text NOT NULL, id int NOT NULL, stage text NOT NULL, amount int)
  PARTITION BY LIST (stage);
CREATE TABLE pdeals_open PARTITION OF pdeals FOR VALUES IN ('open');
CREATE TABLE pdeals_closed PARTITION OF pdeals FOR VALUES IN ('closed');
ALTER TABLE pdeals_open ADD UNIQUE (tenant_id, id);
CREATE FUNCTION pdeals_autoclose() RETURNS trigger LANGUAGE plpgsql AS
  $$ BEGIN IF NEW.amount = 0 THEN NEW.stage := 'closed'; END IF; RETURN NEW; END $$;
CREATE TRIGGER pdeals_b BEFORE UPDATE ON pdeals FOR EACH ROW EXECUTE FUNCTION pdeals_autoclose();
CREATE TABLE pnotes (tenant_id text, deal_id int, body text,
  FOREIGN KEY (tenant_id, deal_id) REFERENCES pdeals_open (tenant_id, id) ON DELETE SET NULL);
CREATE TABLE ptasks (tenant_id text DEFAULT 't-2', deal_id int, body text,
  FOREIGN KEY (tenant_id, deal_id) REFERENCES pdeals_open (tenant_id, id) ON DELETE SET DEFAULT);
INSERT INTO pdeals VALUES ('t-1', 1, 'open', 0), ('t-1', 2, 'open', 0), ('t-2', 1, 'open', 5);
INSERT INTO pnotes VALUES ('t-1', 1, 't1 note');
INSERT INTO ptasks VALUES ('t-1', 2, 't1 task');
GRANT SELECT, UPDATE, DELETE ON pdeals, pnotes, ptasks TO regress_enforce_writes;
SET ROLE regress_enforce_writes;
UPDATE pdeals SET amount = amount WHERE tenant_id = 't-1' AND id = 1;
UPDATE pdeals SET amount = amount WHERE tenant_id = 't-1' AND id = 2;
MERGE INTO pdeals d USING (VALUES (1)) s(i) ON d.tenant_id = 't-1' AND d.id = s.i
  WHEN MATCHED THEN UPDATE SET amount = d.amount;
-- the verdict is the statement's: the same on a row the trigger would
-- leave in place is refused too
UPDATE pdeals SET amount = amount WHERE tenant_id = 't-2' AND id = 1;
RESET ROLE;
SELECT tableoid::regclass AS part, tenant_id, id, stage FROM pdeals ORDER BY 2, 3;
SELECT tenant_id, deal_id, body FROM pnotes;
SELECT tenant_id, deal_id, body FROM ptasks;
-- every row keeps its tenant
SELECT code FROM regions3 ORDER BY 1;
SELECT tenant_id, v FROM leaf ORDER BY v;
SELECT tenant_id, v FROM gchild ORDER BY v;
SELECT tenant_id, v FROM reg_nn7 ORDER BY v;

-- ---------------------------------------- 5. a VALUES list of one tenant
-- a VALUES list in FROM, USING or WITH whose tenant column holds one
-- constant in every row is that constant (as for a list of one row): a
-- bulk update, a MERGE, a join of one tenant's keys
SET ROLE regress_enforce_writes;
UPDATE deals d SET stage = v.s
  FROM (VALUES ('t-1', 7, 'bulk-7'), ('t-1', 8, 'bulk-8')) v(t, id, s)
  WHERE d.tenant_id = v.t AND d.id = v.id;
MERGE INTO deals d USING (VALUES ('t-1', 8, 'merged'), ('t-1', 11, 'new')) v(t, id, s)
  ON d.tenant_id = v.t AND d.id = v.id
  WHEN MATCHED THEN UPDATE SET stage = v.s
  WHEN NOT MATCHED THEN INSERT (tenant_id, id, stage) VALUES (v.t, v.id, v.s);
WITH v(t, id) AS (VALUES ('t-1', 7), ('t-1', 11))
  SELECT d.id, d.stage FROM deals d JOIN v ON d.tenant_id = v.t AND d.id = v.id ORDER BY 1;
SELECT d.id, d.stage FROM (VALUES ('t-1'), ('t-1')) v(t) LEFT JOIN deals d ON d.tenant_id = v.t AND d.id = 7;
INSERT INTO notes (tenant_id, body) SELECT v.t, v.b FROM (VALUES ('t-1', 'bulk a'), ('t-1', 'bulk b')) v(t, b);
SELECT d.id, d.stage FROM deals d WHERE (d.tenant_id, d.id) IN (VALUES ('t-1', 7), ('t-1', 8)) ORDER BY 1;
DELETE FROM deals d WHERE (d.tenant_id, d.id) IN (VALUES ('t-1', 11), ('t-1', 12)) RETURNING tenant_id, id;
-- not one tenant: two, a NULL, the side of an outer join that goes NULL,
-- parameters (their values are not looked into)
UPDATE deals d SET stage = 'two' FROM (VALUES ('t-1', 7), ('t-2', 7)) v(t, id)
  WHERE d.tenant_id = v.t AND d.id = v.id;
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM deals WHERE (tenant_id, id) IN (VALUES ('t-2', 7), ('t-1', 7));
UPDATE deals d SET stage = 'null' FROM (VALUES ('t-1', 7), (NULL, 7)) v(t, id)
  WHERE d.tenant_id = v.t AND d.id = v.id;
MERGE INTO deals d USING (VALUES ('t-2', 7, 'merged'), ('t-1', 7, 'merged')) v(t, id, s)
  ON d.tenant_id = v.t AND d.id = v.id WHEN MATCHED THEN UPDATE SET stage = v.s;
SELECT d.id FROM deals d LEFT JOIN (VALUES ('t-1'), ('t-1')) v(t) ON v.t = d.tenant_id;
INSERT INTO notes (tenant_id, body)
  SELECT v.t, 'outer' FROM deals d LEFT JOIN (VALUES ('t-1'), ('t-1')) v(t) ON false
  WHERE d.tenant_id = 't-1';
PREPARE bulk(text, text) AS UPDATE deals d SET stage = 'param' FROM (VALUES ($1, 7), ($2, 8)) v(t, id)
  WHERE d.tenant_id = v.t AND d.id = v.id;
EXECUTE bulk('t-1', 't-1');
DEALLOCATE bulk;
RESET ROLE;
SELECT tenant_id, id, stage FROM deals ORDER BY 1, 2;
SELECT tenant_id, body FROM notes WHERE body LIKE 'bulk%' OR body = 'outer' ORDER BY 2;

SET client_min_messages = warning;
SELECT gtm_unexempt_table('audit_log');
DROP SCHEMA enforce_writes CASCADE;
DROP OWNED BY regress_enforce_writes;
DROP ROLE regress_enforce_writes;
