-- enforce_keys: a tenant column equated with a column of a non-tenant
-- table whose unique key the statement fixes is pinned to that one row's
-- value ("the members of organization X", issue 16, item 8), run as an
-- ordinary role; rows read and changed are checked.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\i test/lib/expect_error.sql
CREATE SCHEMA enforce_keys;
SET search_path = enforce_keys, public;
CREATE ROLE regress_enforce_keys;
GRANT USAGE ON SCHEMA enforce_keys TO regress_enforce_keys;
GRANT SELECT ON tenants, tenant_members TO regress_enforce_keys;

-- the extension's tables: two organizations, three members
INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'org_keysA', 'Keys A', 'keys-a'),
  ('00000000-0000-4000-8000-00000000000b', 'org_keysB', 'Keys B', 'keys-b');
INSERT INTO tenant_members (tenant_id, clerk_user_id, role) VALUES
  ('00000000-0000-4000-8000-00000000000a', 'user_ann', 'admin'),
  ('00000000-0000-4000-8000-00000000000b', 'user_bob', 'admin'),
  ('00000000-0000-4000-8000-00000000000b', 'user_cid', 'viewer');
-- an application's own lookup table: global, unique on two columns
CREATE TABLE workspaces (region text NOT NULL, handle text NOT NULL, tenant_id_of text NOT NULL,
                         label text, UNIQUE (region, handle));
CREATE TABLE projects (tenant_id text NOT NULL, name text);
CREATE TABLE tasks (tenant_id text NOT NULL, title text);
INSERT INTO workspaces VALUES ('eu', 'acme', 't-1', 'A'), ('eu', 'bolt', 't-2', 'B'), ('us', 'acme', 't-2', 'C');
INSERT INTO projects VALUES ('t-1', 'p1'), ('t-2', 'p2'), ('t-2', 'p3');
INSERT INTO tasks VALUES ('t-1', 'x1'), ('t-2', 'x2');
CREATE TYPE tn AS ENUM ('t-1', 't-2');
CREATE TABLE etasks (tenant_id tn NOT NULL, title text);
CREATE TABLE eworkspaces (handle text UNIQUE, tenant_of tn NOT NULL);
INSERT INTO etasks VALUES ('t-1', 'e1'), ('t-2', 'e2');
INSERT INTO eworkspaces VALUES ('acme', 't-1');
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_keys TO regress_enforce_keys;
-- shows every value it is given
CREATE FUNCTION shows(text) RETURNS bool LANGUAGE plpgsql COST 0.0001
  AS $$ BEGIN RAISE NOTICE 'shows %', $1; RETURN true; END $$;
-- the members of an organization, as a function called per row
CREATE FUNCTION member_count(org text) RETURNS bigint LANGUAGE sql STABLE
  AS $$ SELECT count(*) FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
        WHERE t.clerk_org_id = org $$;
SET ROLE regress_enforce_keys;

-- ---------------------------------------------------------------- accepted
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = 'org_keysB' ORDER BY 1;
PREPARE members_of(text) AS
  SELECT m.clerk_user_id, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = $1 ORDER BY 1;
SET plan_cache_mode = force_custom_plan;
EXECUTE members_of('org_keysB');
SET plan_cache_mode = force_generic_plan;
EXECUTE members_of('org_keysB');
EXECUTE members_of('org_keysA');
EXECUTE members_of('org_none');
RESET plan_cache_mode;
DEALLOCATE members_of;
-- IN and EXISTS (semijoins), and the slug, another unique key
SELECT clerk_user_id FROM tenant_members
  WHERE tenant_id IN (SELECT id FROM tenants WHERE clerk_org_id = 'org_keysB') ORDER BY 1;
SELECT clerk_user_id FROM tenant_members m
  WHERE EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id AND t.slug = 'keys-a');
-- a key of two columns; two tables through the same row
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
  WHERE w.region = 'us' AND w.handle = 'acme' ORDER BY 1;
SELECT p.name, k.title FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
  JOIN tasks k ON k.tenant_id = p.tenant_id
  WHERE w.region = 'eu' AND w.handle = 'acme' ORDER BY 1;
-- writes keyed the same way change that tenant's rows only
UPDATE projects p SET name = name || '*' FROM workspaces w
  WHERE w.tenant_id_of = p.tenant_id AND w.region = 'eu' AND w.handle = 'bolt';
DELETE FROM tasks k USING workspaces w
  WHERE w.tenant_id_of = k.tenant_id AND w.region = 'eu' AND w.handle = 'acme';
SELECT * FROM gtm_check_statement($$SELECT m.* FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = $1$$);

-- ---------------------------------------------------------------- rejected
-- not a unique key: name, one column of a two-column key
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.name = 'Keys B';
\echo :LAST_ERROR_SQLSTATE
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id WHERE w.handle = 'acme';
-- the key's value is not fixed before execution: an OR, a correlated value
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = 'org_keysB' OR t.slug = 'keys-a';
SELECT o.c, (SELECT count(*) FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.clerk_org_id = o.c)
  FROM (VALUES ('org_keysA'), ('org_keysB')) o(c);
-- outer and anti joins equate nothing
SELECT m.clerk_user_id FROM tenant_members m
  LEFT JOIN tenants t ON t.id = m.tenant_id AND t.clerk_org_id = 'org_keysB';
SELECT m.clerk_user_id FROM tenant_members m
  WHERE NOT EXISTS (SELECT 1 FROM tenants t WHERE t.id = m.tenant_id AND t.clerk_org_id = 'org_keysB');
-- the scan of m reads every tenant's rows before the join: a condition on
-- it that is not leakproof would see them (no NOTICE for user_ann below)
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = 'org_keysB' AND shows(m.clerk_user_id);
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  JOIN workspaces w ON shows(w.label || m.clerk_user_id)
  WHERE t.clerk_org_id = 'org_keysB';
-- leakproof conditions are fine (text equality is; enum equality is not)
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = 'org_keysB' AND m.clerk_user_id = 'user_cid';
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id = 'org_keysB' AND m.role = 'viewer';
-- the row's tenant is found when the statement starts and compared with
-- the statement's other pins and the running top-level statement's tenant
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id, tasks k
  WHERE w.region = 'eu' AND w.handle = 'acme' AND k.tenant_id = 't-2';
\echo :LAST_ERROR_SQLSTATE
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id,
       tasks k JOIN workspaces w2 ON w2.tenant_id_of = k.tenant_id
  WHERE w.region = 'eu' AND w.handle = 'acme' AND w2.region = 'eu' AND w2.handle = 'bolt';
PREPARE key_and_value(text, text) AS
  SELECT p.name, k.title FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id, tasks k
  WHERE w.region = 'eu' AND w.handle = $1 AND k.tenant_id = $2 ORDER BY 1;
SET plan_cache_mode = force_generic_plan;
EXECUTE key_and_value('bolt', 't-2');
EXECUTE key_and_value('bolt', 't-1');
SET plan_cache_mode = force_custom_plan;
EXECUTE key_and_value('bolt', 't-1');
EXECUTE key_and_value('nothing', 't-1');
RESET plan_cache_mode;
DEALLOCATE key_and_value;
-- one top-level statement, one tenant: a function run for every row
SELECT member_count('org_keysB');
SELECT o.org, member_count(o.org) FROM (VALUES ('org_keysA'), ('org_keysB')) AS o(org)
  ORDER BY 1;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_check_statement($$SELECT m.* FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.name = $1$$);
-- a key value is a constant or a parameter, as the whole value: an
-- expression is evaluated again for every row (NULL when the statement
-- starts, the key of another tenant's row later; or a built-in marked
-- IMMUTABLE that reads a setting the statement changes); no t-2 row comes back
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT set_config('app.k', 'none', false) IS NOT NULL AS set;
SELECT p.name, set_config('app.k', 'acme', false) AS flip FROM projects p WHERE p.tenant_id = 't-1'
UNION ALL
SELECT p.name, NULL FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'us' AND w.handle = gtm_pin(nullif(current_setting('app.k'), 'none'));
\echo :LAST_ERROR_SQLSTATE
SET bytea_output = 'hex';
SET plan_cache_mode = force_generic_plan;
PREPARE key_flip(text) AS
  SELECT p.name, set_config('bytea_output', 'escape', false) AS flip
    FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
   WHERE w.region = 'eu' AND w.handle = CASE WHEN ($1::bytea)::text = $1 THEN 'bolt' ELSE 'acme' END;
EXECUTE key_flip('acme');
\echo :LAST_ERROR_SQLSTATE
DEALLOCATE key_flip;
RESET plan_cache_mode;
RESET bytea_output;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- EXPLAIN ANALYZE of a unique-key pin: the scan of projects reads every
-- tenant's rows before the join keeps t-1's, so its counts ("actual rows",
-- "Rows Removed by Filter") would answer a search on the values of t-2's
-- rows (p2, p3): refused to the ordinary role, plain and from PL/pgSQL,
-- and no count is shown
SELECT * FROM pg_temp.expect_error($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
  SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
   WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p2'$$);
DO $$
DECLARE ln text;
BEGIN
  FOR ln IN EXECUTE $q$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
    SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
     WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p3'$q$ LOOP
    RAISE NOTICE '%', ln;
  END LOOP;
END $$;
\echo :LAST_ERROR_SQLSTATE
-- trace_sort (any role may set it, also inside the statement) reports the
-- sorts of every tenant's rows that a merge join sorts before the key keeps
-- t-1's: LOG and DEBUG messages are not sent to the ordinary role's client
-- (no "begin tuple sort" line below); the statement runs
SET client_min_messages = log;
SET enable_hashjoin = off;
SET enable_nestloop = off;
SET trace_sort = on;
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p';
RESET trace_sort;
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p'
   AND set_config('trace_sort', 'on', true) IS NOT NULL;
RESET trace_sort;
-- ... also after an invalidation in the statement (the role's own CREATE
-- OR REPLACE FUNCTION), which empties the caches the withholding reads
CREATE FUNCTION pg_temp.invalidate() RETURNS void LANGUAGE sql
  AS $$ CREATE OR REPLACE FUNCTION pg_temp.zz() RETURNS int LANGUAGE sql AS 'SELECT 1' $$;
SET trace_sort = on;
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p'
UNION ALL SELECT pg_temp.invalidate()::text;
RESET trace_sort;
RESET client_min_messages;
RESET enable_hashjoin;
RESET enable_nestloop;
-- a condition of another table joined to the key-pinned one first, in a
-- nested loop whose inner scan it drives with every tenant's rows, would
-- see values found through them (a function of the caller's that shows
-- its argument; 1 / (x.a - 2) raises division by zero for a row of 2):
-- refused as not leakproof, and no value shown
CREATE TEMP TABLE probe (a text PRIMARY KEY);
INSERT INTO probe VALUES ('p1'), ('p2'), ('p3');
SET join_collapse_limit = 1;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT p.name FROM (projects p JOIN probe x ON x.a = p.name AND enforce_keys.shows(x.a))
  JOIN workspaces w ON w.tenant_id_of = p.tenant_id WHERE w.region = 'eu' AND w.handle = 'acme';
\echo :LAST_ERROR_SQLSTATE
RESET join_collapse_limit;
RESET enable_hashjoin;
RESET enable_mergejoin;
-- an array of arrays of different sizes errs: under a CASE on a guess it
-- would tell whether some row of any tenant matches; refused too
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND (CASE WHEN p.name = 'p3' THEN ARRAY[ARRAY[p.name], ARRAY['a', 'b']] END) IS NULL;
\echo :LAST_ERROR_SQLSTATE
SELECT t.name FROM tenants t WHERE t.slug = 'keys-a'
  AND (CASE WHEN t.name > 'Keys B' THEN ARRAY[ARRAY[t.name], ARRAY['a', 'b']] END) IS NULL;
\echo :LAST_ERROR_SQLSTATE
-- a subquery under a CASE runs only when a row reaches it: the key's
-- tenant (t-1) filters the scan of projects first, so rows of t-2 (p2, p3)
-- never reach the CASE, and no NOTICE shows that one matched
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND CASE WHEN p.name > 'p1' THEN (SELECT enforce_keys.shows('a row of another tenant')) ELSE true END;
SET enable_nestloop = off;
SET enable_hashjoin = off;
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND (p.name = 'p1' OR (SELECT enforce_keys.shows('a row of another tenant')));
RESET enable_nestloop;
RESET enable_hashjoin;
-- a key that finds no row: the scans read nothing
SELECT count(*) AS rows_of_no_row FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'nobody'
   AND CASE WHEN p.name > '' THEN (SELECT enforce_keys.shows('a row of some tenant')) ELSE true END;
-- the filter takes the key's value itself: a tenant column of an enum
-- type pins the same way
SELECT e.title FROM etasks e JOIN eworkspaces w ON w.tenant_of = e.tenant_id WHERE w.handle = 'acme';
-- an index-only scan (the only path the planner kept) becomes an index
-- scan, which the filter can take: the tenants row found by its slug
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SELECT 1 AS found FROM tenants WHERE slug = 'keys-a';
RESET enable_seqscan;
RESET enable_bitmapscan;
-- the statement itself runs
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme' AND p.name >= 'p';
RESET ROLE;
-- (control: for the superuser, who is exempt and unfiltered, the CASE's
-- subquery runs: a row of another tenant reached it)
SELECT p.name FROM projects p JOIN workspaces w ON w.tenant_id_of = p.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND CASE WHEN p.name > 'p1' THEN (SELECT enforce_keys.shows('a row of another tenant')) ELSE true END;
SELECT tenant_id, name FROM projects ORDER BY 1, 2;
SELECT tenant_id, title FROM tasks ORDER BY 1, 2;

-- ---------------------------------------------------------------- the tenant condition first, also in rechecks
-- Rows an index returns are rechecked (a lossy GIN or BRIN match) before
-- the Filter; the tenant equality goes first there too, so a function of
-- the recheck runs as often whatever another tenant's rows hold.  T2 keeps
-- a secret that matches "12"; a query of T1 probes it by prefix.
CREATE TABLE docs (tenant_id text NOT NULL, id int, data jsonb, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON docs USING gin (data);
INSERT INTO docs SELECT CASE WHEN i % 2 = 0 THEN 't-1' ELSE 't-2' END, i, jsonb_build_object('n', i)
  FROM generate_series(1, 2000) i;
INSERT INTO docs VALUES ('t-2', 9999, '{"ssn": "123-45-6789"}');
CREATE TABLE events (tenant_id text NOT NULL, at timestamptz NOT NULL, what text);
CREATE INDEX ON events USING brin (at);
INSERT INTO events SELECT CASE WHEN i % 2 = 0 THEN 't-1' ELSE 't-2' END,
  '2020-01-01'::timestamptz + i * interval '1 minute', 'e' FROM generate_series(1, 5000) i;
INSERT INTO events VALUES ('t-2', '2031-05-17 13:37+00', 'secret');
ANALYZE docs, events;
GRANT SELECT ON docs, events TO regress_enforce_keys;
-- say when they run
CREATE FUNCTION probe_key() RETURNS text LANGUAGE plpgsql STABLE
  AS $$ BEGIN RAISE NOTICE 'probe'; RETURN 'ssn'; END $$;
CREATE FUNCTION probe_time() RETURNS timestamptz LANGUAGE plpgsql STABLE
  AS $$ BEGIN RAISE NOTICE 'probe'; RETURN 'infinity'; END $$;
SET ROLE regress_enforce_keys;
SET enable_seqscan = off;
SET enable_indexscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM docs WHERE tenant_id = 't-1' AND data ? 'ssn'
  AND data @? '$.ssn ? (@ starts with "12")' AND data ? probe_key();
-- T2's row matches "12": as many probes as for "13", which matches nothing
SELECT id FROM docs WHERE tenant_id = 't-1' AND data ? 'ssn'
  AND data @? '$.ssn ? (@ starts with "12")' AND data ? probe_key();
SELECT id FROM docs WHERE tenant_id = 't-1' AND data ? 'ssn'
  AND data @? '$.ssn ? (@ starts with "13")' AND data ? probe_key();
-- the pin written IS NOT DISTINCT FROM goes first in the Filter as well
SELECT name FROM projects WHERE tenant_id IS NOT DISTINCT FROM 't-1' AND shows(name);
-- a unique-key pin: the key's tenant filters the BRIN scan's recheck too
SELECT count(*) FROM events e JOIN workspaces w ON w.tenant_id_of = e.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND e.at >= '2031-05-17' AND e.at < '2031-05-18' AND e.at < probe_time();
-- (the day after: no row of any tenant; as many probes)
SELECT count(*) FROM events e JOIN workspaces w ON w.tenant_id_of = e.tenant_id
 WHERE w.region = 'eu' AND w.handle = 'acme'
   AND e.at >= '2031-05-18' AND e.at < '2031-05-19' AND e.at < probe_time();
-- an index-only scan's Filter names the index's columns: the tenant
-- condition goes first there too
RESET ROLE;
CREATE TABLE labels (tenant_id text NOT NULL, id int, label text);
CREATE INDEX ON labels (label) INCLUDE (tenant_id);
INSERT INTO labels SELECT CASE WHEN i % 2 = 0 THEN 't-1' ELSE 't-2' END, i, 'label ' || i
  FROM generate_series(1, 2000) i;
INSERT INTO labels VALUES ('t-2', 9999, 'secret of t-2');
VACUUM ANALYZE labels;
GRANT SELECT ON labels TO regress_enforce_keys;
SET ROLE regress_enforce_keys;
RESET enable_indexscan;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT label FROM labels WHERE tenant_id = 't-1' AND label >= 'secret' AND shows(label);
SELECT label FROM labels WHERE tenant_id = 't-1' AND label >= 'secret' AND shows(label);
RESET enable_bitmapscan;
-- a cheap function of the caller's compared with the tenant column is no
-- pin: the pin runs before it (it would count the rows of every tenant)
CREATE FUNCTION pg_temp.probe() RETURNS text LANGUAGE plpgsql COST 0.0001
  AS $$ BEGIN RAISE NOTICE 'probe'; RETURN 't-1'; END $$;
SELECT count(*) FROM projects WHERE tenant_id = 't-1' AND tenant_id = pg_temp.probe();
SELECT count(*) FROM projects WHERE tenant_id IS NOT DISTINCT FROM 't-1' AND tenant_id IS DISTINCT FROM pg_temp.probe();
-- ... nor an equality operator of the caller's, however cheap
CREATE FUNCTION pg_temp.probe_eq(text, text) RETURNS bool LANGUAGE plpgsql COST 0.0001
  AS $$ BEGIN RAISE NOTICE 'probe_eq %', $1; RETURN $1 = $2; END $$;
CREATE OPERATOR pg_temp.=== (leftarg = text, rightarg = text, function = pg_temp.probe_eq);
SELECT count(*) FROM projects WHERE tenant_id = 't-1' AND tenant_id OPERATOR(pg_temp.===) 't-1';
-- ... nor a built-in that runs the caller's SQL (table_to_xml() of a view
-- whose query calls the probe would run it for every row it compares)
CREATE TEMP VIEW probed AS SELECT 't-1'::text AS x WHERE pg_temp.probe() IS NOT NULL;
SELECT count(*) FROM projects
 WHERE tenant_id = (xpath('//x/text()', table_to_xml('pg_temp.probed', false, false, '')))[1]::text;
DROP VIEW probed;
-- ... nor a built-in operator that is no equality: LIKE with a trailing
-- escape fails only on a value that has the pattern's prefix, so run before
-- the pin it would test the ids of other tenants' rows (t-20 starts with t-2)
RESET ROLE;
CREATE TABLE tagged (tenant_id text NOT NULL, id int);
INSERT INTO tagged VALUES ('t-1', 1), ('t-20', 2);
GRANT SELECT ON tagged TO regress_enforce_keys;
SET ROLE regress_enforce_keys;
SET enable_seqscan = on;
EXPLAIN (COSTS OFF) SELECT count(*) FROM tagged WHERE tenant_id LIKE 't-2\' AND tenant_id = 't-1';
SELECT count(*) FROM tagged WHERE tenant_id LIKE 't-2\' AND tenant_id = 't-1';
SET enable_seqscan = off;
-- an index-only scan of an index that holds the tenant column also as an
-- expression: a domain's (or varchar's) comparison is on "tenant_id::text",
-- which the planner reads from the expression's index column; the pin is
-- still found, and first
RESET ROLE;
CREATE DOMAIN tenant_ref AS text;
CREATE TABLE ledger (tenant_id tenant_ref NOT NULL, id int NOT NULL, n int, secret text,
                     PRIMARY KEY (tenant_id, id));
INSERT INTO ledger SELECT CASE WHEN i % 2 = 0 THEN 't-1' ELSE 't-2' END, i, i, 'secret ' || i
  FROM generate_series(1, 3000) i;
CREATE INDEX ledger_n ON ledger (n, (tenant_id::text)) INCLUDE (tenant_id, secret);
VACUUM ANALYZE ledger;
GRANT SELECT ON ledger TO regress_enforce_keys;
SET ROLE regress_enforce_keys;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF) SELECT n FROM ledger WHERE n < 6 AND tenant_id IS NOT DISTINCT FROM 't-1' AND shows(secret);
-- only t-1's secrets are shown (2 and 4)
SELECT n FROM ledger WHERE n < 6 AND tenant_id IS NOT DISTINCT FROM 't-1' AND shows(secret);
SELECT n FROM ledger WHERE n < 6 AND tenant_id = 't-1' AND shows(secret);
-- an index scan ordered by a lossy distance (GiST polygons) computes the
-- ORDER BY value for every row the index returns, before its Filter: a
-- function of the caller's there would count other tenants' rows (round Z2)
RESET ROLE;
CREATE TABLE sites (tenant_id text NOT NULL, id int, loc polygon);
CREATE INDEX sites_loc ON sites USING gist (loc);
INSERT INTO sites VALUES ('t-1', 1, polygon(circle(point(0, 0), 1)));
INSERT INTO sites SELECT 't-2', 100 + g, polygon(circle(point(10 + g * 0.1, 10), 1)) FROM generate_series(1, 5) g;
VACUUM ANALYZE sites;
GRANT SELECT ON sites TO regress_enforce_keys;
SET ROLE regress_enforce_keys;
CREATE FUNCTION pg_temp.at(x float8, y float8) RETURNS point LANGUAGE plpgsql STABLE
  AS $$ BEGIN RAISE NOTICE 'at'; RETURN point(x, y); END $$;
SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> pg_temp.at(10, 10) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
-- built-in distances too (round AL): the distance of a point to a polygon
-- overflows for a point far enough, depending on the polygon's edges, so a
-- search over the point would read t-2's geometry from the error
RESET ROLE;
INSERT INTO sites VALUES ('t-2', 200, '((0,0),(7.25,1),(1,9))');
SET ROLE regress_enforce_keys;
EXPLAIN (COSTS OFF) SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(10, 10) LIMIT 1;
SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(10, 10) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
-- the probe gets the rejection (42501) for either point, never t-2's overflow (22003)
SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(2.4e307, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(2.5e307, 0);
\echo :LAST_ERROR_SQLSTATE
-- sorted after the tenant condition instead, the distances are t-1's only
SET enable_indexscan = off;
SET enable_seqscan = on;
EXPLAIN (COSTS OFF) SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(10, 10) LIMIT 1;
SELECT id FROM sites WHERE tenant_id = 't-1' ORDER BY loc <-> point(10, 10) LIMIT 1;
-- an index-only scan computes its distances in the index, on the entries
-- of every tenant (round AO): t-2's point far out overflows the distance
-- of a point far enough the other way; the same rule
RESET ROLE;
CREATE TABLE pts (tenant_id text NOT NULL, id int, p point);
INSERT INTO pts SELECT 't-1', g, point(g, g) FROM generate_series(1, 2000) g;
INSERT INTO pts VALUES ('t-2', 9999, point(-1.5e308, 0));
CREATE INDEX pts_p ON pts USING gist (p) INCLUDE (tenant_id);
VACUUM ANALYZE pts;
GRANT SELECT ON pts TO regress_enforce_keys;
SET ROLE regress_enforce_keys;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
SET enable_indexscan = on;
EXPLAIN (COSTS OFF) SELECT p FROM pts WHERE tenant_id = 't-1' ORDER BY p <-> point(0.4e308, 0) LIMIT 1;
SELECT p FROM pts WHERE tenant_id = 't-1' ORDER BY p <-> point(0.2e308, 0) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
SELECT p FROM pts WHERE tenant_id = 't-1' ORDER BY p <-> point(0.4e308, 0) LIMIT 1;
\echo :LAST_ERROR_SQLSTATE
RESET enable_bitmapscan;
RESET enable_seqscan;
RESET enable_indexscan;
RESET ROLE;

SET client_min_messages = warning;
DELETE FROM tenants WHERE clerk_org_id IN ('org_keysA', 'org_keysB');
DROP SCHEMA enforce_keys CASCADE;
DROP OWNED BY regress_enforce_keys;
DROP ROLE regress_enforce_keys;
