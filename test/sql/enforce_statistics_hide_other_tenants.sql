-- enforce_stats: pg_stats, pg_stats_ext and pg_stats_ext_exprs do not show
-- other tenants' values to ordinary roles once gtm_protect_table() put the
-- table under row-level security (a policy passing every row), and the
-- planner keeps using the statistics: the same plans, for an exempt role and
-- for the ordinary role (issue 8).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_stats;
SET search_path = enforce_stats, public;
CREATE ROLE regress_enforce_stats;
GRANT USAGE ON SCHEMA enforce_stats TO regress_enforce_stats;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''

CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int,
                    PRIMARY KEY (tenant_id, id));
CREATE INDEX ON deals (tenant_id, stage);
INSERT INTO deals
  SELECT :T1, i, CASE WHEN i % 3 = 0 THEN 'one-secret-stage' ELSE 'one-open' END, i % 7 FROM generate_series(1, 300) i;
INSERT INTO deals
  SELECT :T2, i, CASE WHEN i % 2 = 0 THEN 'two-secret-stage' ELSE 'two-lost' END, 1000 + i % 5 FROM generate_series(1, 700) i;
CREATE STATISTICS deals_mcv (mcv, dependencies) ON tenant_id, stage FROM deals;
CREATE STATISTICS deals_expr ON (upper(stage)) FROM deals;
CREATE TABLE plain (id int, stage text);
-- a table the application role owns (as when its migrations create them)
CREATE TABLE owned (tenant_id text NOT NULL, kind text);
INSERT INTO owned SELECT CASE WHEN i % 2 = 0 THEN :T1 ELSE :T2 END, 'kind-' || (i % 4) FROM generate_series(1, 200) i;
INSERT INTO owned SELECT :T2, 'two-secret-kind' FROM generate_series(1, 100);
CREATE STATISTICS owned_mcv (mcv) ON tenant_id, kind FROM owned;
ALTER TABLE owned OWNER TO regress_enforce_stats;
ANALYZE owned;
GRANT SELECT, INSERT ON deals TO regress_enforce_stats;
GRANT SELECT ON plain TO regress_enforce_stats;
ANALYZE deals;

-- plans of a few statements as JSON, for the role running it
CREATE FUNCTION plans() RETURNS text LANGUAGE plpgsql AS $$
DECLARE p json; out text := '';
  q text;
BEGIN
  FOREACH q IN ARRAY ARRAY[
    $q$SELECT * FROM enforce_stats.deals WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND stage = 'one-secret-stage'$q$,
    $q$SELECT * FROM enforce_stats.deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222' AND upper(stage) = 'TWO-LOST'$q$,
    $q$SELECT stage, count(*) FROM enforce_stats.deals WHERE tenant_id = '22222222-2222-4222-8222-222222222222' GROUP BY stage$q$,
    $q$SELECT * FROM enforce_stats.deals a JOIN enforce_stats.deals b ON b.tenant_id = a.tenant_id AND b.amount = a.amount
        WHERE a.tenant_id = '11111111-1111-4111-8111-111111111111' AND a.id < 10$q$]
  LOOP
    EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
    out := out || p::text;
  END LOOP;
  RETURN out;
END $$;
CREATE FUNCTION estimated_rows(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE p json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO p;
  RETURN (p->0->'Plan'->>'Plan Rows')::int;
END $$;
CREATE TEMP TABLE before AS SELECT plans() AS exempt_plans;
GRANT SELECT ON before TO regress_enforce_stats;
SET ROLE regress_enforce_stats;
CREATE TEMP TABLE before_app AS SELECT plans() AS app_plans;
-- before: the ordinary role reads every tenant's values in the statistics
SELECT count(*) > 0 AS sees_rows,
       bool_or(most_common_vals::text LIKE '%two-secret-stage%') AS sees_t2_value
  FROM pg_stats WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT count(*) > 0 AS sees_ext FROM pg_stats_ext WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT count(*) > 0 AS sees_exprs FROM pg_stats_ext_exprs WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
-- (PostgreSQL shows extended statistics to the table's owner only: the
-- role sees those of the table it owns)
SELECT bool_or(most_common_vals::text LIKE '%two-secret-kind%') AS owner_sees_t2_value
  FROM pg_stats WHERE schemaname = 'enforce_stats' AND tablename = 'owned';
SELECT count(*) > 0 AS owner_sees_ext FROM pg_stats_ext WHERE schemaname = 'enforce_stats' AND tablename = 'owned';
-- the ordinary role may not protect a table
SELECT gtm_protect_table('deals');
RESET ROLE;

-- ---------------------------------------------------------------- bad input
\set SHOW_CONTEXT never
SELECT gtm_protect_table(NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_protect_table('plain');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE has_policy (tenant_id text, x int);
CREATE POLICY mine ON has_policy USING (x > 0);
SELECT gtm_protect_table('has_policy');
\echo :LAST_ERROR_SQLSTATE
\set SHOW_CONTEXT errors
SELECT relrowsecurity FROM pg_class WHERE oid = 'has_policy'::regclass;

-- ---------------------------------------------------------------- protect
SELECT gtm_protect_table('deals');
SELECT gtm_protect_table('deals');   -- again: nothing to do
SELECT gtm_protect_table('owned');
SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
 WHERE oid IN ('deals'::regclass, 'owned'::regclass) ORDER BY 1;
SELECT polname, polpermissive, pg_get_expr(polqual, polrelid) AS qual,
       pg_get_expr(polwithcheck, polrelid) AS with_check, polroles::regrole[]
  FROM pg_policy WHERE polrelid = 'deals'::regclass;
-- the exempt role still sees the statistics, and its plans are unchanged
SELECT count(*) > 0 AS exempt_sees_rows FROM pg_stats WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT plans() = exempt_plans AS exempt_plans_unchanged FROM before;
SET ROLE regress_enforce_stats;
-- after: nothing of the table in the three views, no tenant's value at all
SELECT count(*) AS pg_stats_rows FROM pg_stats WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT count(*) AS pg_stats_ext_rows FROM pg_stats_ext WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT count(*) AS pg_stats_ext_exprs_rows FROM pg_stats_ext_exprs WHERE schemaname = 'enforce_stats' AND tablename = 'deals';
SELECT count(*) AS owned_rows_in_views
  FROM (SELECT tablename FROM pg_stats UNION ALL SELECT tablename FROM pg_stats_ext) s
 WHERE tablename = 'owned';
-- the owner's own statements still reach what enforcement allows
SELECT kind, count(*) FROM owned WHERE tenant_id = :T2 GROUP BY kind ORDER BY kind;
SELECT (SELECT count(*) FROM pg_stats s WHERE s::text LIKE '%secret%')
     + (SELECT count(*) FROM pg_stats_ext s WHERE s::text LIKE '%secret%')
     + (SELECT count(*) FROM pg_stats_ext_exprs s WHERE s::text LIKE '%SECRET%' OR s::text LIKE '%secret%')
       AS rows_showing_a_secret;
-- the planner still uses them: the ordinary role's plans are unchanged,
-- and its estimate for T1's secret stage is the count the statistics hold
SELECT plans() = app_plans AS app_plans_unchanged FROM before_app;
SELECT estimated_rows($q$SELECT * FROM enforce_stats.deals
   WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND stage = 'one-secret-stage'$q$) AS estimated,
       (SELECT count(*) FROM deals WHERE tenant_id = :T1 AND stage = 'one-secret-stage') AS actual;
-- the rows the role reaches are what enforcement allows, as before
SELECT stage, count(*) FROM deals WHERE tenant_id = :T1 GROUP BY stage ORDER BY stage;
INSERT INTO deals VALUES (:T1, 1000, 'one-new', 1);
SELECT count(*) FROM deals WHERE tenant_id = :T1 AND id = 1000;
SELECT count(*) FROM deals;
RESET ROLE;
SELECT tenant_id = :T1 AS t1, count(*) FROM deals GROUP BY 1 ORDER BY 1;
-- ... also through a view: PostgreSQL judges a view's statistics for the
-- view's owner, and a superuser or the migration role (BYPASSRLS) is not
-- under row-level security; the role's own operator, whose estimator
-- passes it the most common values and histogram bounds, sees none of
-- them (only T1's rows, when the statement runs), as reading the table
CREATE VIEW deals_by_superuser AS SELECT * FROM deals;
CREATE ROLE regress_enforce_stats_mig BYPASSRLS;
GRANT USAGE ON SCHEMA enforce_stats TO regress_enforce_stats_mig;
GRANT SELECT ON deals TO regress_enforce_stats_mig;
CREATE VIEW deals_by_migrator AS SELECT * FROM deals;
ALTER VIEW deals_by_migrator OWNER TO regress_enforce_stats_mig;
GRANT SELECT ON deals_by_superuser, deals_by_migrator TO regress_enforce_stats;
SET ROLE regress_enforce_stats;
CREATE TEMP TABLE seen (v text);
CREATE FUNCTION pg_temp.spy_eq(a text, b text) RETURNS bool LANGUAGE plpgsql AS
  $f$BEGIN INSERT INTO pg_temp.seen VALUES (a); RETURN a = b; END$f$;
CREATE OPERATOR pg_temp.=== (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.spy_eq, RESTRICT = eqsel);
CREATE FUNCTION pg_temp.spy_lt(a text, b text) RETURNS bool LANGUAGE plpgsql AS
  $f$BEGIN INSERT INTO pg_temp.seen VALUES (a); RETURN a < b; END$f$;
CREATE OPERATOR pg_temp.<<< (LEFTARG = text, RIGHTARG = text, FUNCTION = pg_temp.spy_lt, RESTRICT = scalarltsel);
SELECT count(*) FROM deals_by_superuser WHERE tenant_id = :T1 AND stage OPERATOR(pg_temp.===) 'x';
SELECT count(*) FROM deals_by_migrator WHERE tenant_id = :T1 AND stage OPERATOR(pg_temp.===) 'x';
SELECT count(*) FROM deals_by_migrator WHERE tenant_id = :T1 AND stage OPERATOR(pg_temp.<<<) 'zzz';
-- (statistics on an expression, and the extended MCV list on (tenant_id, stage))
SELECT count(*) FROM deals_by_migrator WHERE tenant_id = :T1 AND upper(stage) OPERATOR(pg_temp.===) 'X';
SELECT count(*) FROM deals_by_superuser WHERE tenant_id = :T1 AND stage OPERATOR(pg_temp.===) 'x'
   AND tenant_id OPERATOR(pg_temp.===) 'y';
SELECT estimated_rows($q$SELECT * FROM enforce_stats.deals_by_migrator
   WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND stage OPERATOR(pg_temp.<<<) 'zzz'$q$) > 0 AS estimated;
SELECT count(*) FILTER (WHERE v ILIKE 'two%' OR v = :T2) AS t2_values_seen,
       count(*) FILTER (WHERE v ILIKE 'one%') > 0 AS t1_rows_seen FROM seen;
-- the leakproof built-in operators still get the statistics: the same
-- estimate through the views as reading the table
SELECT estimated_rows($q$SELECT * FROM enforce_stats.deals_by_migrator
   WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND stage = 'one-secret-stage'$q$)
     = estimated_rows($q$SELECT * FROM enforce_stats.deals
   WHERE tenant_id = '11111111-1111-4111-8111-111111111111' AND stage = 'one-secret-stage'$q$) AS same_estimate;
DROP TABLE seen;
RESET ROLE;
DROP VIEW deals_by_superuser, deals_by_migrator;
REVOKE ALL ON SCHEMA enforce_stats FROM regress_enforce_stats_mig;
REVOKE ALL ON deals FROM regress_enforce_stats_mig;
DROP ROLE regress_enforce_stats_mig;

-- ---------------------------------------------------------------- partitions
CREATE TABLE events (tenant_id text NOT NULL, kind text) PARTITION BY LIST (tenant_id);
CREATE TABLE events_1 PARTITION OF events FOR VALUES IN ('11111111-1111-4111-8111-111111111111');
CREATE TABLE events_2 PARTITION OF events FOR VALUES IN ('22222222-2222-4222-8222-222222222222');
INSERT INTO events SELECT :T2, 'two-secret-kind' FROM generate_series(1, 50);
ANALYZE events;
GRANT SELECT ON events TO regress_enforce_stats;
SELECT t::text FROM gtm_protect_table('events') t ORDER BY 1;
SET ROLE regress_enforce_stats;
SELECT count(*) AS partition_stats_rows FROM pg_stats WHERE schemaname = 'enforce_stats' AND tablename LIKE 'events%';
RESET ROLE;

-- an inheritance child is protected with its parent; a table already under
-- row-level security is forced (its owner would still see the statistics)
CREATE TABLE idx_parent (tenant_id text NOT NULL, secret text);
CREATE TABLE idx_child () INHERITS (idx_parent);
INSERT INTO idx_child SELECT :T2, 'child-secret' FROM generate_series(1, 50);
ANALYZE idx_child;
GRANT SELECT ON idx_child TO regress_enforce_stats;
CREATE TABLE rls_on (tenant_id text NOT NULL, secret text);
ALTER TABLE rls_on ENABLE ROW LEVEL SECURITY;
CREATE POLICY own ON rls_on USING (true);
ALTER TABLE rls_on OWNER TO regress_enforce_stats;
INSERT INTO rls_on SELECT :T2, 'rls-secret' FROM generate_series(1, 50);
ANALYZE rls_on;
SELECT t::text FROM gtm_protect_table('idx_parent') t ORDER BY 1;
SELECT t::text FROM gtm_protect_table('rls_on') t ORDER BY 1;
SET ROLE regress_enforce_stats;
SELECT count(*) AS child_and_rls_stats_rows FROM pg_stats
 WHERE schemaname = 'enforce_stats' AND tablename IN ('idx_child', 'rls_on');
RESET ROLE;
-- the extension's own tenant tables are protected when it is installed
-- (1.1.0): as the application role, pg_stats shows none of their values,
-- while the tenant's own row reads as before
ANALYZE tenants;
ANALYZE tenant_members;
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
  FROM pg_class c WHERE c.oid IN ('tenants'::regclass, 'tenant_members'::regclass) ORDER BY 1;
SELECT count(*) > 0 AS superuser_sees_statistics FROM pg_stats WHERE tablename = 'tenants';
SELECT gtm_grant_app('regress_enforce_stats');
SET ROLE regress_enforce_stats;
SELECT has_table_privilege('tenant_members', 'SELECT') AS may_select,
       count(*) AS statistics_of_tenants_shown FROM pg_stats
 WHERE tablename IN ('tenants', 'tenant_members');
RESET ROLE;
-- gtm_protect_table() forces it (for an application role owning it)
SELECT t::text FROM gtm_protect_table('tenants') t ORDER BY 1;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'tenants'::regclass;
ALTER TABLE tenants NO FORCE ROW LEVEL SECURITY;

-- the cumulative statistics count the rows a scan read, of every tenant:
-- an index scan on another column, the tenant condition a filter, counts
-- the other tenants' rows its range holds (here T2's 350 'two-secret-stage'
-- rows) in the backend's own transaction counters, which a role may read
-- (as under row-level security); the documented hardening revokes the
-- counter functions from PUBLIC, and the role then reads none
CREATE INDEX deals_stage_only ON deals (stage);
ANALYZE deals;
SET ROLE regress_enforce_stats;
BEGIN;
SET LOCAL enable_seqscan = off;
SET LOCAL enable_bitmapscan = off;
SET LOCAL enable_indexonlyscan = off;
SELECT count(*) AS t1_rows FROM deals WHERE tenant_id IS NOT DISTINCT FROM :T1 AND stage >= 'two-secret' AND stage < 'two-secreu';
SELECT sum(pg_stat_get_xact_tuples_returned(indexrelid)) >= 350 AS other_tenants_rows_counted
  FROM pg_index WHERE indrelid = 'deals'::regclass;
COMMIT;
RESET ROLE;
-- the sizes of a tenant table tell a role how much every tenant writes, at
-- once (another tenant's uncommitted rows included): pg_relation_size()
-- and the other size functions are executable by PUBLIC (round FL F2); the
-- hardening revokes them too
SET ROLE regress_enforce_stats;
SELECT pg_relation_size('deals') AS deals_size_before \gset
RESET ROLE;
BEGIN;
INSERT INTO deals SELECT :T2, i, 'two-more', 0 FROM generate_series(10001, 12000) i;
SET LOCAL ROLE regress_enforce_stats;
SELECT pg_relation_size('deals') > :deals_size_before AS other_tenants_writes_seen,
       pg_total_relation_size('deals') > pg_relation_size('deals') AS with_its_indexes;
ROLLBACK;
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'pg_catalog'::regnamespace
              AND (p.proname ~ '^pg_stat_get_((xact_|db_)?(numscans|tuples_|blocks_|live_tuples|dead_tuples|mod_since|ins_since|lastscan|temp_)|(backend_)?(io|wal)$|slru$)'
                   OR p.proname IN ('pg_relation_size', 'pg_table_size', 'pg_indexes_size',
                                    'pg_total_relation_size', 'pg_database_size')) LOOP
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO pg_read_all_stats', f);
  END LOOP;
END $$;
SET ROLE regress_enforce_stats;
\set VERBOSITY terse
SELECT pg_stat_get_xact_tuples_returned('deals_stage_only'::regclass);
SELECT idx_tup_read FROM pg_stat_user_indexes WHERE indexrelname = 'deals_stage_only';
SELECT tup_returned FROM pg_stat_database WHERE datname = current_database();
SELECT pg_relation_size('deals');
SELECT pg_total_relation_size('deals');
SELECT pg_database_size(current_database());
\set VERBOSITY default
-- pg_stat_io (16) and pg_stat_get_backend_io() (18) count the buffers every
-- statement reads, of every tenant (round ES: a pinned query run 200 times
-- read 200 more buffers when another tenant had the value searched)
SELECT count(*) AS io_counters_executable FROM pg_proc
 WHERE proname ~ '^pg_stat_get_(backend_)?io$'
   AND has_function_privilege('regress_enforce_stats', oid, 'EXECUTE');
RESET ROLE;
-- (put back for the other tests of this database)
DO $$
DECLARE f regprocedure;
BEGIN
  FOR f IN SELECT p.oid::regprocedure FROM pg_proc p
            WHERE p.pronamespace = 'pg_catalog'::regnamespace
              AND (p.proname ~ '^pg_stat_get_((xact_|db_)?(numscans|tuples_|blocks_|live_tuples|dead_tuples|mod_since|ins_since|lastscan|temp_)|(backend_)?(io|wal)$|slru$)'
                   OR p.proname IN ('pg_relation_size', 'pg_table_size', 'pg_indexes_size',
                                    'pg_total_relation_size', 'pg_database_size')) LOOP
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO PUBLIC', f);
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM pg_read_all_stats', f);
  END LOOP;
END $$;

-- ---------------------------------------------------------------- cleanup
DROP TABLE pg_temp.before, pg_temp.before_app;
DROP SCHEMA enforce_stats CASCADE;
DROP OWNED BY regress_enforce_stats;
DROP ROLE regress_enforce_stats;
