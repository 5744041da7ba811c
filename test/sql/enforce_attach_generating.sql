-- enforce_attach_generating: no partition of a tenant table computes the
-- tenant column its parent stores as written.  A row checked as t-1's
-- would become another tenant's where it is routed, and be compared with
-- that tenant's rows by the partition's constraints (rounds EF, EJ, EP,
-- ER).  PostgreSQL 17 and later refuse to attach such a partition
-- themselves (enforce_attach_generating_1.out); on 15 and 16 the extension
-- refuses it, for every role and in every mode.  The data: nothing is
-- attached, and a COPY and an INSERT of t-1 store t-1's rows only.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA attach_gen;
SET search_path = attach_gen, public;
CREATE ROLE regress_attach_gen_app;
GRANT USAGE ON SCHEMA attach_gen TO regress_attach_gen_app;
\set T1 '''11111111-1111-4111-8111-111111111111'''
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_attachgen1', 'Attach Gen One', 'attach-gen-one');
CREATE TABLE items (tenant_id text NOT NULL, owner text NOT NULL, kind text NOT NULL)
  PARTITION BY LIST (kind);
CREATE TABLE items_a PARTITION OF items FOR VALUES IN ('a');
CREATE TABLE items_g (tenant_id text NOT NULL GENERATED ALWAYS AS (owner) STORED,
                      owner text NOT NULL, kind text NOT NULL);
INSERT INTO items_g (owner, kind) VALUES ('t-2', 'g');
-- refused, as the superuser running this file, in every mode
ALTER TABLE items ATTACH PARTITION items_g FOR VALUES IN ('g');
\echo :LAST_ERROR_SQLSTATE
SET gtm.enforcement = warn;
ALTER TABLE items ATTACH PARTITION items_g FOR VALUES IN ('g');
SET gtm.enforcement = off;
ALTER TABLE items ATTACH PARTITION items_g FOR VALUES IN ('g');
RESET gtm.enforcement;
-- the error's fields name the table and column that compute it
DO $$
DECLARE s text; t text; c text; st text;
BEGIN
  ALTER TABLE attach_gen.items ATTACH PARTITION attach_gen.items_g FOR VALUES IN ('g');
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS s = SCHEMA_NAME, t = TABLE_NAME, c = COLUMN_NAME, st = RETURNED_SQLSTATE;
  RAISE NOTICE 'sqlstate %, schema %, table %, column %', st, s, t, c;
END $$;
-- under a partitioned partition: refused there too (its column is plain)
CREATE TABLE items_s (tenant_id text NOT NULL, owner text NOT NULL, kind text NOT NULL)
  PARTITION BY LIST (owner);
CREATE TABLE items_s1 PARTITION OF items_s FOR VALUES IN ('t-1');
ALTER TABLE items_s ATTACH PARTITION items_g FOR VALUES IN ('t-2');
ALTER TABLE items ATTACH PARTITION items_s FOR VALUES IN ('s');
-- a partitioned table that computes it, with its own partition
CREATE TABLE items_gp (tenant_id text NOT NULL GENERATED ALWAYS AS (owner) STORED,
                       owner text NOT NULL, kind text NOT NULL) PARTITION BY LIST (owner);
CREATE TABLE items_gp1 PARTITION OF items_gp FOR VALUES IN ('t-2');
ALTER TABLE items ATTACH PARTITION items_gp FOR VALUES IN ('p');
-- by the application role, on its own temporary tables
GRANT CREATE ON SCHEMA attach_gen TO regress_attach_gen_app;
SET ROLE regress_attach_gen_app;
CREATE TEMP TABLE tparent (tenant_id text NOT NULL, owner text NOT NULL, kind text NOT NULL)
  PARTITION BY LIST (kind);
CREATE TEMP TABLE tgen (tenant_id text NOT NULL GENERATED ALWAYS AS (owner) STORED,
                        owner text NOT NULL, kind text NOT NULL);
\set VERBOSITY terse
ALTER TABLE pg_temp.tparent ATTACH PARTITION pg_temp.tgen FOR VALUES IN ('g');
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS tgen_attached FROM pg_inherits WHERE inhrelid = 'pg_temp.tgen'::regclass;
DISCARD TEMP;
RESET ROLE;
-- the check reads what the ATTACH attached, not its names, which code it
-- runs can change (round ET: an event trigger renaming the partition at
-- the end of the ATTACH made the check find nothing)
CREATE FUNCTION attach_gen.rename_new() RETURNS event_trigger LANGUAGE plpgsql AS $$
BEGIN
  IF to_regclass('attach_gen.items_g2') IS NOT NULL THEN
    ALTER TABLE attach_gen.items_g2 RENAME TO items_g2_renamed;
  END IF;
  PERFORM set_config('search_path', 'pg_catalog', true);
END $$;
CREATE EVENT TRIGGER attach_gen_rename ON ddl_command_end WHEN TAG IN ('ALTER TABLE')
  EXECUTE FUNCTION attach_gen.rename_new();
CREATE TABLE items_g2 (tenant_id text NOT NULL GENERATED ALWAYS AS (owner) STORED,
                       owner text NOT NULL, kind text NOT NULL);
\set VERBOSITY terse
ALTER TABLE items ATTACH PARTITION items_g2 FOR VALUES IN ('g2');
\set VERBOSITY default
DROP EVENT TRIGGER attach_gen_rename;
SET search_path = attach_gen, public;
-- nothing was attached
SELECT c.relname AS partition, p.relname AS parent
  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
 WHERE c.relnamespace = 'attach_gen'::regnamespace ORDER BY 1;
-- a generated column other than the tenant column is PostgreSQL's concern
CREATE TABLE items_o (tenant_id text NOT NULL, owner text NOT NULL,
                      kind text NOT NULL GENERATED ALWAYS AS ('o') STORED);
ALTER TABLE items ATTACH PARTITION items_o FOR VALUES IN ('o');
-- made an ordinary column, the partition is attached; its row stays t-2's
ALTER TABLE items_g ALTER COLUMN tenant_id DROP EXPRESSION;
ALTER TABLE items ATTACH PARTITION items_g FOR VALUES IN ('g');
-- the application role's writes of t-1 store t-1's rows
GRANT SELECT, INSERT ON items TO regress_attach_gen_app;
SET ROLE regress_attach_gen_app;
BEGIN;
SELECT gtm_set_tenant(:T1, true) IS NOT NULL AS set;
COPY items (tenant_id, owner, kind) FROM STDIN;
11111111-1111-4111-8111-111111111111	t-2	g
11111111-1111-4111-8111-111111111111	t-2	a
\.
INSERT INTO items (tenant_id, owner, kind) VALUES (:T1, 't-2', 'g');
COMMIT;
RESET ROLE;
SELECT tableoid::regclass AS part, tenant_id, owner, kind FROM items ORDER BY 1, 2;
SET client_min_messages = warning;
DROP SCHEMA attach_gen CASCADE;
RESET client_min_messages;
DROP OWNED BY regress_attach_gen_app;
DROP ROLE regress_attach_gen_app;
DELETE FROM tenants WHERE clerk_org_id = 'org_attachgen1';
