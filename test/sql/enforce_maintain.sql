-- enforce_maintain: maintenance of a tenant table by a role that does not
-- own it, which PostgreSQL 17's MAINTAIN privilege (or pg_maintain) allows,
-- is refused to a role that is not exempt (round ES): VACUUM FULL and
-- CLUSTER lock the table for every tenant while they run, REINDEX,
-- ANALYZE and REFRESH keep their locks to the end of a transaction, and
-- REFRESH ... WITH NO DATA empties a materialized view of every tenant.
-- The data: every tenant's rows are still there.  The role's own
-- temporary tables stay its business.  The forms that name no table reach
-- every table of the database for its owner, of a schema for its owner
-- (round ET), and what MAINTAIN gives: refused on every version.
-- PostgreSQL 15 and 16 have no MAINTAIN: nothing more to check there
-- (enforce_maintain.out).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE ROLE regress_maintain_owner;
CREATE SCHEMA enforce_maintain_owned AUTHORIZATION regress_maintain_owner;
-- a tenant table of another owner in the role's schema (round EV)
CREATE TABLE enforce_maintain_owned.kept (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
INSERT INTO enforce_maintain_owned.kept VALUES ('t-1', 1), ('t-2', 1);
CREATE INDEX kept_id ON enforce_maintain_owned.kept (id);
CREATE TABLE enforce_maintain_owned.plain (id int);
GRANT SELECT ON enforce_maintain_owned.kept TO regress_maintain_owner;
SET ROLE regress_maintain_owner;
VACUUM;
ANALYZE;
CLUSTER;
REINDEX SCHEMA enforce_maintain_owned;
-- VACUUM commits each table on its own, before any second check: only the
-- role's temporary tables (round EV: a name taken while it waited)
VACUUM enforce_maintain_owned.plain;
CREATE TEMP TABLE scratch (id int);
VACUUM scratch;
ANALYZE scratch;
BEGIN;
ANALYZE scratch;
COMMIT;
DISCARD TEMP;
-- a schema's owner may drop what is in it, but not another owner's tenant
-- table, nor lock it by dropping its index (round EV)
DROP TABLE enforce_maintain_owned.kept;
DROP INDEX enforce_maintain_owned.kept_id;
DROP SCHEMA enforce_maintain_owned CASCADE;
DROP TABLE enforce_maintain_owned.plain;
RESET ROLE;
-- nor a part of it through CASCADE: a column whose collation, domain or
-- type it owns (round EW: tenant_id dropped, the table was no longer
-- tenant-scoped), a default or a constraint of its functions
CREATE COLLATION enforce_maintain_owned.coll (provider = libc, locale = 'C');
ALTER COLLATION enforce_maintain_owned.coll OWNER TO regress_maintain_owner;
CREATE TABLE enforce_maintain_owned.keyless (tenant_id text COLLATE enforce_maintain_owned.coll NOT NULL, v int);
INSERT INTO enforce_maintain_owned.keyless VALUES ('t-1', 1), ('t-2', 2);
CREATE FUNCTION enforce_maintain_owned.one() RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT 1';
ALTER FUNCTION enforce_maintain_owned.one() OWNER TO regress_maintain_owner;
ALTER TABLE enforce_maintain_owned.keyless ALTER COLUMN v SET DEFAULT enforce_maintain_owned.one();
SET ROLE regress_maintain_owner;
DROP COLLATION enforce_maintain_owned.coll CASCADE;
DROP FUNCTION enforce_maintain_owned.one() CASCADE;
RESET ROLE;
SELECT tenant_id, v FROM enforce_maintain_owned.keyless ORDER BY 1;
SELECT pg_get_expr(adbin, adrelid) AS v_default FROM pg_attrdef
 WHERE adrelid = 'enforce_maintain_owned.keyless'::regclass;
-- its own tables stay its business: one referencing tenants (whose foreign
-- key's triggers on tenants go with it), a partitioned one of no tenant
-- (round EX: both refused wrongly)
GRANT REFERENCES ON tenants TO regress_maintain_owner;
SET ROLE regress_maintain_owner;
CREATE TABLE enforce_maintain_owned.mine (org text REFERENCES tenants (id), n int);
DROP TABLE enforce_maintain_owned.mine;
CREATE TABLE enforce_maintain_owned.ownp (id int) PARTITION BY RANGE (id);
CREATE TABLE enforce_maintain_owned.ownp1 PARTITION OF enforce_maintain_owned.ownp FOR VALUES FROM (0) TO (10);
CREATE INDEX ON enforce_maintain_owned.ownp (id);
REINDEX TABLE enforce_maintain_owned.ownp;
RESET ROLE;
REVOKE REFERENCES ON tenants FROM regress_maintain_owner;
SELECT tenant_id, id FROM enforce_maintain_owned.kept ORDER BY 1;
DROP SCHEMA enforce_maintain_owned CASCADE;
DROP OWNED BY regress_maintain_owner;
DROP ROLE regress_maintain_owner;
SELECT current_setting('server_version_num')::int >= 170000 AS pg17_or_later \gset
\if :pg17_or_later
\else
\echo PostgreSQL before 17 has no MAINTAIN privilege: nothing more to check
\quit
\endif
CREATE SCHEMA enforce_maintain;
SET search_path = enforce_maintain, public;
CREATE ROLE regress_maintain_app;
GRANT USAGE ON SCHEMA enforce_maintain TO regress_maintain_app;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
INSERT INTO deals VALUES ('t-1', 1, 'open'), ('t-2', 1, 'won');
CREATE MATERIALIZED VIEW mv_deals AS SELECT tenant_id, id, stage FROM deals;
CREATE UNIQUE INDEX ON mv_deals (tenant_id, id);
GRANT SELECT ON deals, mv_deals TO regress_maintain_app;
GRANT MAINTAIN ON deals, mv_deals TO regress_maintain_app;
SET ROLE regress_maintain_app;
VACUUM FULL deals;
VACUUM deals;
ANALYZE deals;
VACUUM (VERBOSE) deals;
CLUSTER deals USING deals_pkey;
REINDEX TABLE deals;
REINDEX INDEX deals_pkey;
REFRESH MATERIALIZED VIEW mv_deals WITH NO DATA;
REFRESH MATERIALIZED VIEW CONCURRENTLY mv_deals;
BEGIN;
ANALYZE deals;
ROLLBACK;
-- the forms that name no table process every table the role may maintain
VACUUM;
ANALYZE;
-- the role's own temporary table
CREATE TEMP TABLE mine (tenant_id text NOT NULL, id int);
VACUUM mine;
ANALYZE mine;
DISCARD TEMP;
RESET ROLE;
-- every tenant's rows are still there, the view still populated
SELECT tenant_id, id, stage FROM deals ORDER BY 1;
SELECT tenant_id, id, stage FROM mv_deals ORDER BY 1;
-- an exempt role (the superuser here) maintains them
REFRESH MATERIALIZED VIEW mv_deals;
VACUUM deals;
SET client_min_messages = warning;
DROP SCHEMA enforce_maintain CASCADE;
RESET client_min_messages;
DROP OWNED BY regress_maintain_app;
DROP ROLE regress_maintain_app;
