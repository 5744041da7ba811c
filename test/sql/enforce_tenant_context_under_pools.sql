-- enforce_pool: the tenant context under connection pools (issue 8).
-- gtm_set_tenant is transaction-scoped by default; session scope needs an
-- explicit argument and a superuser setting; a request that sets no tenant
-- gets an error, never rows; rejections carry schema, table and column
-- fields; a unique violation's DETAIL does not show another tenant's key.
-- Run as an ordinary role; rows read are checked, not only errors.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_pool;
SET search_path = enforce_pool, public;
CREATE ROLE regress_enforce_pool;
GRANT USAGE ON SCHEMA enforce_pool TO regress_enforce_pool;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_pool1', 'Pool One', 'pool-one'), (:T2, 'org_pool2', 'Pool Two', 'pool-two');
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    PRIMARY KEY (tenant_id, id));
INSERT INTO deals VALUES (:T1, 1, 'one-a'), (:T1, 2, 'one-b'), (:T2, 1, 'two-secret');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals TO regress_enforce_pool;
SET ROLE regress_enforce_pool;

-- ---------------------------------------------------------------- 1. transaction scope by default
-- one request: a transaction that sets its tenant and reads its rows
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
COMMIT;
-- the next request on the same connection set no tenant: an error, no rows
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
SELECT current_setting('gtm.tenant') = '' AS nothing_left;
-- the same after ROLLBACK, and after an error that aborted the transaction
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
ROLLBACK;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
SELECT 1 / 0;
COMMIT;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- a savepoint rolled back takes its tenant with it
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
SAVEPOINT s;
SELECT gtm_set_tenant(:T2) = :T2 AS set_in_savepoint;
ROLLBACK TO SAVEPOINT s;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
COMMIT;
-- a prepared statement planned in one request and executed in the next
-- (a generic plan, as a pooled connection reuses it) finds no tenant
SET plan_cache_mode = force_generic_plan;
-- (prepared as a pool client's protocol-level statement would be, by no
-- request: a SQL PREPARE of the application role left for a later request
-- is refused there, enforce_tenant_context_under_pools)
RESET ROLE;
PREPARE mine AS SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
SET ROLE regress_enforce_pool;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
EXECUTE mine;
COMMIT;
EXECUTE mine;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
EXECUTE mine;
COMMIT;
DEALLOCATE mine;
RESET plan_cache_mode;

-- ---------------------------------------------------------------- 2. outside a transaction block
-- a statement of its own: a warning with the transaction form, and no
-- lasting effect
SELECT gtm_set_tenant(:T1) = :T1 AS set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- explicitly local: the same
SELECT gtm_set_tenant(:T1, true) = :T1 AS set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- statements sent in one message share an implicit transaction: no warning
SELECT gtm_set_tenant(:T1) = :T1 AS set \; SELECT string_agg(stage, ',' ORDER BY id) FROM deals WHERE tenant_id = gtm_current_tenant();
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- a DO block that sets its tenant and uses it: no warning, and gone after
DO $$
DECLARE n int;
BEGIN
  PERFORM gtm_set_tenant('22222222-2222-4222-8222-222222222222');
  SELECT count(*) INTO n FROM enforce_pool.deals WHERE tenant_id = gtm_current_tenant();
  RAISE NOTICE 'rows of the tenant: %', n;
END $$;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- a function that sets its tenant and reads with it, called by a statement
-- outside a transaction block: no warning (its own statements use it)
CREATE FUNCTION pg_temp.handler(t text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
  PERFORM gtm_set_tenant(t);
  RETURN (SELECT string_agg(stage, ',' ORDER BY id) FROM enforce_pool.deals
           WHERE tenant_id = gtm_current_tenant());
END $$;
SELECT pg_temp.handler('11111111-1111-4111-8111-111111111111');
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
DROP FUNCTION pg_temp.handler(text);

-- ---------------------------------------------------------------- 3. session scope
-- refused by default, with nothing set
SELECT gtm_set_tenant(:T1, false);
\echo :LAST_ERROR_SQLSTATE
SELECT current_setting('gtm.tenant') = '' AS nothing_set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
-- refused inside a transaction block too
BEGIN;
SELECT gtm_set_tenant(:T1, false);
ROLLBACK;
-- only a superuser may allow it
SET gtm.allow_session_tenant = on;
\echo :LAST_ERROR_SQLSTATE
SHOW gtm.allow_session_tenant;
RESET ROLE;
ALTER ROLE regress_enforce_pool SET gtm.allow_session_tenant = on;
SET gtm.allow_session_tenant = on;
SET ROLE regress_enforce_pool;
SELECT gtm_set_tenant(:T1, false) = :T1 AS session_set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
-- a transaction's tenant inside a session tenant: back to the session's after
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set_local;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
COMMIT;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
RESET ROLE;
ALTER ROLE regress_enforce_pool RESET gtm.allow_session_tenant;
RESET gtm.allow_session_tenant;
RESET gtm.tenant;
SET ROLE regress_enforce_pool;
-- named arguments as documented
BEGIN;
SELECT gtm_set_tenant(tenant => :T2, is_local => true) = :T2 AS named;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
COMMIT;

-- ---------------------------------------------------------------- 4. the error's fields
-- a tenant-scope rejection names schema, table and the tenant column ...
SELECT stage FROM deals WHERE stage = 'two-secret';
\echo :LAST_ERROR_SQLSTATE
CREATE FUNCTION pg_temp.fields(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; sch text; tbl text; col text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, sch = SCHEMA_NAME,
    tbl = TABLE_NAME, col = COLUMN_NAME;
  RETURN format('%s schema=%s table=%s column=%s', s, sch, tbl, col);
END $$;
SELECT pg_temp.fields($$SELECT * FROM enforce_pool.deals$$);
SELECT pg_temp.fields($$UPDATE enforce_pool.deals SET stage = 'x' WHERE id = 1$$);
SELECT pg_temp.fields($$INSERT INTO enforce_pool.deals (id) VALUES (9)$$);
SELECT pg_temp.fields($$SELECT * FROM enforce_pool.deals a JOIN enforce_pool.deals b ON b.id = a.id
                        WHERE a.tenant_id = '11111111-1111-4111-8111-111111111111'
                          AND b.tenant_id = '22222222-2222-4222-8222-222222222222'$$);
SELECT pg_temp.fields($$COPY enforce_pool.deals TO '/dev/null'$$);
SELECT pg_temp.fields($$LOCK TABLE enforce_pool.deals IN SHARE MODE$$);
-- generic plans: the values are compared when the statement starts
SET plan_cache_mode = force_generic_plan;
PREPARE two(text, text) AS SELECT * FROM enforce_pool.deals a JOIN enforce_pool.deals b ON b.id = a.id
  WHERE a.tenant_id = $1 AND b.tenant_id = $2;
SELECT pg_temp.fields($$EXECUTE two('11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222')$$);
PREPARE ins(text) AS INSERT INTO enforce_pool.deals (tenant_id, id) VALUES ($1, 50);
SELECT pg_temp.fields($$EXECUTE ins(NULL)$$);
DEALLOCATE two;
DEALLOCATE ins;
RESET plan_cache_mode;
-- ... and an ordinary "permission denied" (same SQLSTATE) has no column
RESET ROLE;
CREATE TABLE enforce_pool.secret (tenant_id text, x int);
SET ROLE regress_enforce_pool;
SELECT pg_temp.fields($$SELECT * FROM enforce_pool.secret WHERE tenant_id = 'x'$$);
SELECT pg_temp.fields($$SELECT gtm_exempt_table('enforce_pool.deals')$$);

-- ---------------------------------------------------------------- 5. key details of other tenants
-- An exclusion (or unique) constraint without the tenant column compares
-- the rows of every tenant; its violation DETAIL shows the conflicting key.
-- gtm_key_detail_leaks lists such indexes; row-level security on the table
-- makes PostgreSQL omit the keys (also from an exception handler).
RESET ROLE;
CREATE TABLE bookings (tenant_id text NOT NULL, room int, during int4range,
                       EXCLUDE USING gist (during WITH &&));
CREATE TABLE codes (tenant_id text NOT NULL, code text UNIQUE);
CREATE TABLE safe_codes (tenant_id text NOT NULL, code text, UNIQUE (tenant_id, code));
CREATE TABLE plain_codes (code text UNIQUE);
-- the tenant column in an exclusion constraint, but compared by <> (a
-- booking conflicts with other tenants' bookings): listed; by =: not
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS btree_gist SCHEMA public;
RESET client_min_messages;
CREATE TABLE cross_bookings (tenant_id text NOT NULL, during int4range,
                             EXCLUDE USING gist (tenant_id WITH <>, during WITH &&));
CREATE TABLE own_bookings (tenant_id text NOT NULL, during int4range,
                           EXCLUDE USING gist (tenant_id WITH =, during WITH &&));
INSERT INTO bookings VALUES (:T2, 1, '[10,20)');
INSERT INTO codes VALUES (:T2, 'two-code');
GRANT SELECT, INSERT ON bookings, codes, safe_codes TO regress_enforce_pool;
SELECT "table", "index", "constraint", kind, protected
  FROM gtm_key_detail_leaks
 WHERE "table"::oid IN (SELECT oid FROM pg_class WHERE relnamespace = 'enforce_pool'::regnamespace)
 ORDER BY "table"::text;
SET ROLE regress_enforce_pool;
CREATE FUNCTION pg_temp.detail(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE s text; d text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = RETURNED_SQLSTATE, d = PG_EXCEPTION_DETAIL;
  RETURN s || ' detail: ' || coalesce(nullif(d, ''), '(none)');
END $$;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
-- without protection: T2's booking range is in the DETAIL
SELECT pg_temp.detail($$INSERT INTO enforce_pool.bookings VALUES (gtm_current_tenant(), 2, '[15,16)')$$);
COMMIT;
RESET ROLE;
SELECT * FROM gtm_protect_table('bookings');
SELECT * FROM gtm_protect_table('codes');
SELECT "table", protected FROM gtm_key_detail_leaks
 WHERE "table"::oid IN (SELECT oid FROM pg_class WHERE relnamespace = 'enforce_pool'::regnamespace)
 ORDER BY "table"::text;
SET ROLE regress_enforce_pool;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
-- protected: no key in the DETAIL, in the error or in a handler
INSERT INTO bookings VALUES (gtm_current_tenant(), 2, '[15,16)');
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
SELECT pg_temp.detail($$INSERT INTO enforce_pool.bookings VALUES (gtm_current_tenant(), 2, '[15,16)')$$);
SELECT pg_temp.detail($$INSERT INTO enforce_pool.codes VALUES (gtm_current_tenant(), 'two-code')$$);
-- the tenant's own rows are read as before (the policy passes every row)
INSERT INTO bookings VALUES (gtm_current_tenant(), 2, '[30,31)');
SELECT room, during FROM bookings WHERE tenant_id = gtm_current_tenant();
COMMIT;
RESET ROLE;
-- an exempt role sees the DETAIL, and T2's rows are as they were
INSERT INTO bookings VALUES (:T1, 3, '[12,13)');
SELECT tenant_id = :T2 AS t2, room, during FROM bookings ORDER BY during;
SET ROLE regress_enforce_pool;
DROP FUNCTION pg_temp.detail(text);

-- ---------------------------------------------------------------- temporary objects of an earlier request
-- a request of T1 leaves a temporary view named like the application's
-- table (pg_temp is searched first), showing T1's rows as T2's: the next
-- request on the connection, of T2, would read and update T1's rows
-- through it.  Its gtm_set_tenant() is refused while such objects remain
-- (and a statement that names it, as a request pinned by a parameter
-- without gtm_set_tenant() would, is refused before it runs: a temporary
-- object of an earlier transaction that hides one of the same name);
-- after DISCARD TEMP the request reads its own rows
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP VIEW deals AS SELECT :T2::text AS tenant_id, id, stage
  FROM enforce_pool.deals WHERE tenant_id = :T1;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
SELECT stage FROM deals WHERE tenant_id = :T2 ORDER BY id;
DISCARD TEMP;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
COMMIT;
-- ... also a temporary view of a name of its own (it could be renamed to
-- the application table's name later, or carry code)
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP VIEW stash AS SELECT :T2::text AS tenant_id, id, stage
  FROM enforce_pool.deals WHERE tenant_id = :T1;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set_with_a_view_of_its_own_name;
ROLLBACK;
DISCARD TEMP;
-- ... and a temporary table of a name of its own whose trigger an honest
-- later request runs (CREATE TEMP TABLE IF NOT EXISTS finds it): the
-- trigger would create the shadowing view inside that request
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP TABLE scratch (x int);
CREATE FUNCTION pg_temp.plant() RETURNS trigger LANGUAGE plpgsql AS $f$
BEGIN
  EXECUTE format('CREATE TEMP VIEW deals AS SELECT %L::text AS tenant_id, id, stage
                  FROM enforce_pool.deals WHERE tenant_id = %L', gtm_current_tenant(), '11111111-1111-4111-8111-111111111111');
  RETURN NEW;
END $f$;
CREATE TRIGGER plant BEFORE INSERT ON scratch FOR EACH ROW EXECUTE FUNCTION pg_temp.plant();
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
DISCARD TEMP;
-- a temporary table dropped at commit leaves nothing: the next request sets
-- its tenant
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP TABLE scratch ON COMMIT DROP AS SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant();
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
COMMIT;

-- ... and a temporary type: types, like relations, are looked up in
-- pg_temp first (even before pg_catalog), so a temporary domain named
-- "text" or "uuid" runs its CHECK, the earlier request's function, in the
-- next request wherever it writes '...'::text or $1::uuid
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP TABLE loot (tenant_id pg_catalog.text, id int, stage pg_catalog.text);
CREATE FUNCTION pg_temp.grab(v pg_catalog.text) RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
  INSERT INTO pg_temp.loot SELECT tenant_id, id, stage FROM enforce_pool.deals
    WHERE tenant_id = gtm_current_tenant();
  UPDATE enforce_pool.deals SET stage = 'changed by T1' WHERE tenant_id = gtm_current_tenant();
  RETURN true;
EXCEPTION WHEN OTHERS THEN RETURN true;
END $f$;
CREATE DOMAIN pg_temp.uuid AS pg_catalog.text CHECK (pg_temp.grab(VALUE));
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
-- ... also when the earlier request's code, run in the next request before
-- its gtm_set_tenant() (the domain's CHECK, as the request's first
-- statement is parsed), rewrote its objects' rows to look the request's own
DISCARD TEMP;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE FUNCTION pg_temp.refresh(v pg_catalog.text) RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
  ALTER DOMAIN pg_temp.text RENAME TO text_x;
  ALTER DOMAIN pg_temp.text_x RENAME TO text;
  RETURN true;
END $f$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.refresh(VALUE));
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2::text);
ROLLBACK;
-- ... and a statement sent before the request sets its tenant (a
-- sign-in) that would convert a value through such a domain is refused
-- when parsed: the earlier request's CHECK never sees the value
DISCARD TEMP;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP TABLE loot (v pg_catalog.text);
CREATE FUNCTION pg_temp.keep(v pg_catalog.text) RETURNS bool LANGUAGE plpgsql AS
  $f$BEGIN INSERT INTO pg_temp.loot VALUES (v); RETURN true; END$f$;
CREATE DOMAIN pg_temp.text AS pg_catalog.text CHECK (pg_temp.keep(VALUE));
COMMIT;
SELECT 1 AS signed_in WHERE 'bob-secret-password'::text = 'bob-secret-password';
SELECT count(*) AS values_captured FROM pg_temp.loot;
-- ... also a type of a name of its own
DISCARD TEMP;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TYPE pg_temp.mood AS ENUM ('x');
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set_with_a_type_of_its_own_name;
ROLLBACK;
DISCARD TEMP;
-- ... also when a check inside the earlier request saw it dropped, and the
-- drop was rolled back (a savepoint; a whole transaction): the view is
-- back, and the next request, of T2, is refused before it reads through it
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP VIEW deals AS SELECT :T2::text AS tenant_id, id, stage
  FROM enforce_pool.deals WHERE tenant_id = :T1;
SAVEPOINT s;
DROP VIEW pg_temp.deals;
SELECT gtm_set_tenant(:T1) = :T1 AS set_with_the_view_dropped;
ROLLBACK TO s;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
BEGIN;
DROP VIEW pg_temp.deals;
SELECT gtm_set_tenant(:T1) = :T1 AS set_with_the_view_dropped;
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
SELECT count(*) AS views_left FROM pg_class WHERE relnamespace = pg_my_temp_schema();
DISCARD TEMP;
-- ---------------------------------------------------------------- prepared statements of an earlier request
-- SQL PREPARE shares its names with the statements a client prepared with
-- the protocol (node-postgres' named queries), which the client runs again
-- without preparing them: a request of T1 replaces such a statement with a
-- query pinned to T1, and the next request, of T2, would read and update
-- T1's rows as its own.  Its gtm_set_tenant() is refused while a statement
-- the application role prepared with SQL remains; DEALLOCATE ALL (or
-- DISCARD ALL) lets it start
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
PREPARE getdeal(int) AS SELECT gtm_current_tenant() = :T2 AS shown_as_t2, id, stage
  FROM deals WHERE tenant_id = :T1 AND id = $1;
PREPARE setstage(text, int) AS UPDATE deals SET stage = $1 WHERE tenant_id = :T1 AND id = $2;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
EXECUTE getdeal(1);
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:T2);
EXECUTE setstage('T2 confidential', 2);
ROLLBACK;
DEALLOCATE ALL;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set_after_deallocate;
COMMIT;
-- ... a request that deallocates what it prepares leaves nothing behind
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
PREPARE own(int) AS SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() AND id = $1;
EXECUTE own(1);
DEALLOCATE own;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
COMMIT;
RESET ROLE;
SELECT count(*) AS t2_rows_written_into_t1 FROM deals WHERE stage = 'T2 confidential';
SET ROLE regress_enforce_pool;
-- ... also when the PREPARE's own analysis runs the check (a temporary
-- domain's CHECK calling gtm_set_tenant(), its error caught) before the
-- statement exists: its name is not forgotten
CREATE FUNCTION pg_temp.prune() RETURNS bool LANGUAGE plpgsql AS $f$
BEGIN
  BEGIN PERFORM gtm_set_tenant(gtm_current_tenant()); EXCEPTION WHEN others THEN NULL; END;
  RETURN true;
END $f$;
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE DOMAIN pg_temp.pd AS text CHECK (pg_temp.prune());
CREATE TYPE pg_temp.pc AS (f pg_temp.pd);
PREPARE set_stage(int, text) AS UPDATE deals SET stage = $2 WHERE tenant_id = :T1 AND id = $1
   AND pg_typeof('(x)'::pg_temp.pc) IS NOT NULL;
DROP TYPE pg_temp.pc;
DROP DOMAIN pg_temp.pd;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2);
ROLLBACK;
DEALLOCATE set_stage;
DROP FUNCTION pg_temp.prune();
RESET ROLE;
SELECT count(*) AS t2_rows_written_into_t1 FROM deals WHERE stage LIKE 'T2%';
SET ROLE regress_enforce_pool;
-- ... nor can a replacement free itself while the next request binds it
-- (a DEALLOCATE run by its own functions, planning or converting the
-- parameters, so that no check found it when it started): DEALLOCATE is a
-- statement of its own for the application role
CREATE FUNCTION pg_temp.drop_me(n text) RETURNS int LANGUAGE plpgsql AS
  $f$BEGIN EXECUTE format('DEALLOCATE %I', n); RETURN 0; END$f$;
PREPARE self_freeing AS SELECT 1;
\set SHOW_CONTEXT never
SELECT pg_temp.drop_me('self_freeing');
DO $$ BEGIN EXECUTE 'DEALLOCATE ALL'; END $$;
\set SHOW_CONTEXT errors
SELECT count(*) AS still_prepared FROM pg_prepared_statements WHERE name = 'self_freeing';
DEALLOCATE self_freeing;
DROP FUNCTION pg_temp.drop_me(text);
-- an earlier request that left its transaction open (a pool client
-- released without COMMIT) passes it on with its tenant: the next
-- request's BEGIN is an error, not PostgreSQL's warning, so it does not
-- run in it; a BEGIN after other statements of one query is not refused
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
BEGIN;
SELECT gtm_current_tenant();
ROLLBACK;
-- ... also one COMMIT AND CHAIN left open (no BEGIN started it)
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
COMMIT AND CHAIN;
BEGIN;
ROLLBACK;
SELECT 1 AS one\; BEGIN\; SELECT gtm_set_tenant(:T2) = :T2 AS set\; COMMIT;
-- a batch switching tenants inside one transaction is told which tenant's
-- temporary objects remain (it drops them, or uses a transaction per tenant)
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
CREATE TEMP TABLE staging (id int);
SELECT gtm_set_tenant(:T2);
ROLLBACK;
RESET ROLE;
-- T2's rows were neither copied nor changed
SELECT tenant_id = :T2 AS t2, id, stage FROM deals ORDER BY 1, 2;
SET ROLE regress_enforce_pool;


-- ---------------------------------------------------------------- deferred triggers belong to the statements that queued them
-- A deferred trigger fires at COMMIT (or SET CONSTRAINTS ... IMMEDIATE),
-- after the request may have switched its tenant: what it runs belongs to
-- the tenant the transaction's statements reached, and to none when they
-- reached several.  The DBA's audit trigger logs under the session tenant.
RESET ROLE;
CREATE TABLE deal_log (tenant_id text NOT NULL DEFAULT gtm_current_tenant(), deal_id int, stage text);
GRANT SELECT, INSERT ON deal_log TO regress_enforce_pool;
CREATE FUNCTION log_deal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO enforce_pool.deal_log (deal_id, stage) VALUES (NEW.id, NEW.stage); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER deals_log AFTER UPDATE ON deals
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_deal();
SET ROLE regress_enforce_pool;
-- T2's row updated (a deferred trigger queued), then the tenant switched to
-- T1 before COMMIT: the switch is refused (also in an extended-protocol
-- pipeline that ends at Sync, with no COMMIT statement)
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
UPDATE deals SET stage = stage WHERE tenant_id = gtm_current_tenant() AND id = 1;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
COMMIT;
-- T1 set, T2's row updated by a constant pin: the trigger, logging under
-- T1, is refused at SET CONSTRAINTS
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
UPDATE deals SET stage = stage WHERE tenant_id = :T2 AND id = 1;
SET CONSTRAINTS ALL IMMEDIATE;
ROLLBACK;
-- a request of one tenant: its row logged under it at COMMIT
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
UPDATE deals SET stage = stage WHERE tenant_id = gtm_current_tenant() AND id = 1;
COMMIT;
-- triggers queued in a savepoint rolled back are discarded: the switch to
-- T1 is allowed then, and only T1's row is logged at COMMIT; queued in a
-- savepoint released, they stay the transaction's
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
SAVEPOINT s;
UPDATE deals SET stage = stage WHERE tenant_id = gtm_current_tenant() AND id = 2;
ROLLBACK TO s;
SELECT gtm_set_tenant(:T1) = :T1 AS set_after_rollback_to;
UPDATE deals SET stage = stage WHERE tenant_id = gtm_current_tenant() AND id = 1;
COMMIT;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
SAVEPOINT s;
UPDATE deals SET stage = stage WHERE tenant_id = gtm_current_tenant() AND id = 2;
RELEASE s;
SELECT gtm_set_tenant(:T1) = :T1 AS set_after_release;
ROLLBACK;
-- rows a foreign-key action writes, as the (exempt) owner of the table it
-- writes, queue that table's deferred triggers for the statement's tenant
RESET ROLE;
CREATE TABLE accounts (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE account_contacts (tenant_id text NOT NULL, account_id int NOT NULL, email text,
  FOREIGN KEY (tenant_id, account_id) REFERENCES accounts ON UPDATE CASCADE);
CREATE FUNCTION log_contact() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO enforce_pool.deal_log (deal_id, stage) VALUES (NEW.account_id, NEW.email); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER account_contacts_log AFTER UPDATE ON account_contacts
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION log_contact();
INSERT INTO accounts VALUES (:T2, 1);
INSERT INTO account_contacts VALUES (:T2, 1, 'secret@two');
GRANT SELECT, UPDATE ON accounts TO regress_enforce_pool;
SET ROLE regress_enforce_pool;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
UPDATE accounts SET id = id + 10 WHERE tenant_id = gtm_current_tenant();
SELECT gtm_set_tenant(:T1) = :T1 AS set;
ROLLBACK;
RESET ROLE;
SELECT tenant_id = :T2 AS t2, deal_id, stage FROM deal_log;
DROP TABLE account_contacts, accounts;
DROP FUNCTION log_contact();
DROP TRIGGER deals_log ON deals;
DROP TABLE deal_log;
DROP FUNCTION log_deal();
SET ROLE regress_enforce_pool;

-- ---------------------------------------------------------------- two-phase commit
-- A prepared transaction outlives the request: any later session of the
-- role, another tenant's request or one that set none, may commit or roll
-- it back (round FG: T2's insert rolled back by a request of T1), with
-- whatever its deferred triggers wrote at PREPARE (round FH: a deferred
-- trigger of a table of no tenant wrote T2's row).  Not prepared for this
-- role; nothing is written.
RESET ROLE;
CREATE TABLE pool_keys (k text, tenant text);
GRANT INSERT ON pool_keys TO regress_enforce_pool;
CREATE FUNCTION pool_keys_deal() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN INSERT INTO deals VALUES (NEW.tenant, 8006, 'deferred'); RETURN NULL; END$$;
CREATE CONSTRAINT TRIGGER pool_keys_deal AFTER INSERT ON pool_keys
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION pool_keys_deal();
SET ROLE regress_enforce_pool;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
INSERT INTO deals VALUES (gtm_current_tenant(), 8002, '2pc');
PREPARE TRANSACTION 'regress_pool_2pc_t2';
ROLLBACK;
BEGIN;
INSERT INTO deals VALUES (:T1, 8003, '2pc'), (:T1, 8004, '2pc');
PREPARE TRANSACTION 'regress_pool_2pc_t1';
ROLLBACK;
BEGIN;
INSERT INTO pool_keys VALUES ('k', :T2);
PREPARE TRANSACTION 'regress_pool_2pc_deferred';
ROLLBACK;
BEGIN;
SELECT count(*) AS tenants_named FROM pg_class WHERE relname = 'deals';
PREPARE TRANSACTION 'regress_pool_2pc_none';
ROLLBACK;
SELECT count(*) AS prepared FROM pg_prepared_xacts WHERE gid LIKE 'regress_pool_2pc%';
-- nor ends one: a migration's, prepared under this role's name (as Citus'
-- are on its workers)
RESET ROLE;
SET gtm.enforcement = off;
SET SESSION AUTHORIZATION regress_enforce_pool;
BEGIN;
INSERT INTO deals VALUES (:T2, 8007, '2pc-left');
PREPARE TRANSACTION 'regress_pool_2pc_left';
RESET SESSION AUTHORIZATION;
RESET gtm.enforcement;
SET ROLE regress_enforce_pool;
ROLLBACK PREPARED 'regress_pool_2pc_left';
COMMIT PREPARED 'regress_pool_2pc_left';
RESET ROLE;
SELECT count(*) AS still_prepared FROM pg_prepared_xacts WHERE gid = 'regress_pool_2pc_left';
COMMIT PREPARED 'regress_pool_2pc_left';
SELECT count(*) AS written FROM deals WHERE id IN (8002, 8003, 8004, 8006);
SELECT count(*) AS keys_written FROM pool_keys;
-- an exempt role may prepare its transaction over tenant rows
BEGIN;
INSERT INTO deals VALUES (:T2, 8005, '2pc-migration');
PREPARE TRANSACTION 'regress_pool_2pc_exempt';
COMMIT PREPARED 'regress_pool_2pc_exempt';
SELECT tenant_id = :T2 AS t2, stage FROM deals WHERE id IN (8005, 8007) ORDER BY id;
DELETE FROM deals WHERE id IN (8005, 8007);
DROP TABLE pool_keys;
DROP FUNCTION pool_keys_deal();
SET ROLE regress_enforce_pool;

-- ---------------------------------------------------------------- held cursors
-- A WITH HOLD cursor outlives its transaction: the next request on the
-- connection, another tenant's, could fetch the rows it materialized at
-- commit, also through PL/pgSQL (round FG).  Not declared for this role,
-- directly or through EXECUTE; a cursor read in its own transaction is.
BEGIN;
SELECT gtm_set_tenant(:T1) = :T1 AS set;
DECLARE held CURSOR WITH HOLD FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
ROLLBACK;
DO $$BEGIN EXECUTE 'DECLARE held2 CURSOR WITH HOLD FOR SELECT stage FROM deals WHERE tenant_id = ''11111111-1111-4111-8111-111111111111'''; END$$;
SELECT count(*) AS held_cursors FROM pg_cursors;
BEGIN;
SELECT gtm_set_tenant(:T2) = :T2 AS set;
DECLARE inside CURSOR FOR SELECT stage FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
FETCH 1 FROM inside;
COMMIT;
-- an exempt role may hold one
RESET ROLE;
DECLARE exempt_held CURSOR WITH HOLD FOR SELECT count(*) AS n FROM deals;
FETCH 1 FROM exempt_held;
CLOSE exempt_held;
SET ROLE regress_enforce_pool;

-- ---------------------------------------------------------------- cleanup
RESET ROLE;
DROP FUNCTION IF EXISTS pg_temp.fields(text);  -- gone with DISCARD TEMP above
DROP SCHEMA enforce_pool CASCADE;
DROP EXTENSION btree_gist;
DELETE FROM tenants WHERE clerk_org_id IN ('org_pool1', 'org_pool2');
DROP ROLE regress_enforce_pool;
