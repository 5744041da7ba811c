-- app_toolkit: gtm_make_tenant_table (new and existing tables, idempotent),
-- gtm_lint_schema / gtm_schema_is_clean (a schema with one instance of
-- every problem, and a clean one), gtm_grant_app / gtm_grant_migrator.
-- The migration role runs the DDL, the application role the requests; the
-- data and catalogs are checked as the superuser.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
SET gtm.allow_session_tenant = on;   -- the tests below use session tenants (issue 8)
\set SHOW_CONTEXT never
CREATE ROLE regress_tk_migrator;
CREATE ROLE regress_tk_app;
CREATE ROLE regress_tk_other;
CREATE SCHEMA tk AUTHORIZATION regress_tk_migrator;
GRANT USAGE ON SCHEMA tk TO regress_tk_app;
SET search_path = tk, public;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_tk1', 'Toolkit One', 'tk-one'), (:T2, 'org_tk2', 'Toolkit Two', 'tk-two');

-- ================================================================ grants
-- not callable by PUBLIC
SET ROLE regress_tk_app;
SELECT gtm_grant_app('regress_tk_app');
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;
SELECT gtm_grant_migrator('regress_tk_migrator');
SELECT gtm_grant_app('regress_tk_app');
-- twice is the same
SELECT gtm_grant_migrator('regress_tk_migrator');
SELECT gtm_grant_app('regress_tk_app');
-- the setup checklist of the role's tenant reads with its rights (round DH)
SET ROLE regress_tk_app;
SELECT count(*) > 0 AS has_tasks FROM gtm_setup_checklist(:T1);
SELECT gtm_tenant_ready(:T1) IS NOT NULL AS answered;
RESET ROLE;
-- (the WARNING above: PUBLIC may create temporary objects here; without
-- TEMPORARY there is none, and the role's temporary objects are refused)
REVOKE TEMPORARY ON DATABASE :"DBNAME" FROM PUBLIC;
SELECT gtm_grant_app('regress_tk_app');
SET ROLE regress_tk_app;
CREATE TEMP TABLE tk_no_temp (x int);
RESET ROLE;
GRANT TEMPORARY ON DATABASE :"DBNAME" TO PUBLIC;
SELECT rolname, rolbypassrls FROM pg_roles WHERE rolname LIKE 'regress_tk_%' ORDER BY 1;
SELECT r.rolname, f.fn,
       has_function_privilege(r.rolname, f.fn, 'EXECUTE') AS execute
  FROM (VALUES ('regress_tk_migrator'), ('regress_tk_app')) r(rolname),
       (VALUES ('gtm_set_tenant(text, boolean)'), ('gtm_current_tenant()'), ('gtm_sign_in(text, text, text, text, text)'),
               ('gtm_tenant_settings(text)'), ('gtm_provision_tenant(text, text, text, jsonb)'),
               ('gtm_update_tenant_settings(text, jsonb)'), ('gtm_make_tenant_table(regclass, boolean, text)'),
               ('gtm_touch_updated_at()'), ('gtm_exempt_table(regclass)'), ('gtm_grant_app(regrole)')) f(fn)
 ORDER BY 1, 2;
SELECT r.rolname, c.col,
       has_column_privilege(r.rolname, 'tenants', c.col, 'SELECT') AS sel,
       has_column_privilege(r.rolname, 'tenants', c.col, 'REFERENCES') AS refs,
       has_column_privilege(r.rolname, 'tenants', c.col, 'UPDATE') AS upd
  FROM (VALUES ('regress_tk_migrator'), ('regress_tk_app')) r(rolname),
       (VALUES ('id'), ('name'), ('settings')) c(col)
 ORDER BY 1, 2;
-- an exempt role is refused as the application role
CREATE ROLE regress_tk_bypass BYPASSRLS;
SELECT gtm_grant_app('regress_tk_bypass');
\echo :LAST_ERROR_SQLSTATE
-- a migration role another role can act as is refused
CREATE ROLE regress_tk_mig2;
GRANT regress_tk_mig2 TO regress_tk_other;
SELECT gtm_grant_migrator('regress_tk_mig2');
\echo :LAST_ERROR_SQLSTATE
SELECT rolbypassrls FROM pg_roles WHERE rolname = 'regress_tk_mig2';
SELECT gtm_grant_app(NULL);
\echo :LAST_ERROR_SQLSTATE

-- ================================================================ gtm_make_tenant_table
SET ROLE regress_tk_migrator;
-- a new, empty table, keys led by tenant_id
CREATE TABLE deals (id int PRIMARY KEY, code text UNIQUE, stage text);
SELECT * FROM gtm_make_tenant_table('deals', lead_keys => true);
-- idempotent: nothing left to do
SELECT * FROM gtm_make_tenant_table('deals', lead_keys => true);
-- an existing table with rows: refused without the tenant of its rows
CREATE TABLE notes (id int PRIMARY KEY, body text);
INSERT INTO notes VALUES (1, 'a'), (2, 'b'), (3, 'c');
SELECT * FROM gtm_make_tenant_table('notes');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_make_tenant_table('notes', backfill_tenant => 'no-such-tenant');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_make_tenant_table('notes', backfill_tenant => :T1);
SELECT count(*) FROM gtm_make_tenant_table('notes');
-- a table with a partial tenant column: completed
CREATE TABLE tasks (tenant_id text, id int, title text, created_at timestamptz);
SELECT * FROM gtm_make_tenant_table('tasks');
SELECT count(*) FROM gtm_make_tenant_table('tasks');
-- NULL tenants in it: SET NOT NULL fails, nothing changed
CREATE TABLE loose (tenant_id text, id int);
INSERT INTO loose VALUES (NULL, 1);
SELECT * FROM gtm_make_tenant_table('loose');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_make_tenant_table(NULL);
\echo :LAST_ERROR_SQLSTATE
-- refused: another type, a generated column, a view, a key others reference
CREATE TABLE typed (tenant_id uuid NOT NULL, id int);
SELECT * FROM gtm_make_tenant_table('typed');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE gen (code text, tenant_id text GENERATED ALWAYS AS (split_part(code, '/', 1)) STORED);
SELECT * FROM gtm_make_tenant_table('gen');
\echo :LAST_ERROR_SQLSTATE
CREATE VIEW deal_view AS SELECT * FROM deals;
SELECT * FROM gtm_make_tenant_table('deal_view');
\echo :LAST_ERROR_SQLSTATE
CREATE TABLE parents (id int PRIMARY KEY);
CREATE TABLE children (id int, parent_id int REFERENCES parents);
SELECT * FROM gtm_make_tenant_table('parents', lead_keys => true);
\echo :LAST_ERROR_SQLSTATE
SELECT attname FROM pg_attribute WHERE attrelid = 'parents'::regclass AND attnum > 0 ORDER BY attnum;
-- a partitioned table
CREATE TABLE events (id int, day date) PARTITION BY RANGE (day);
CREATE TABLE events_2026 PARTITION OF events FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
SELECT * FROM gtm_make_tenant_table('events');
RESET ROLE;
-- what it made, as the catalog says
SELECT c.relname, a.attname, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull,
       pg_get_expr(d.adbin, d.adrelid) AS def
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relname IN ('deals', 'notes', 'tasks', 'events_2026') AND c.relnamespace = 'tk'::regnamespace
 ORDER BY c.relname, a.attnum;
SELECT conrelid::regclass, conname, pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace = 'tk'::regnamespace AND contype <> 'n'  -- NOT NULL: 18+
 ORDER BY conrelid::regclass::text, conname;
SELECT tgrelid::regclass, tgname, tgfoid::regproc FROM pg_trigger
 WHERE tgrelid IN ('deals'::regclass, 'notes'::regclass, 'tasks'::regclass, 'events'::regclass) AND NOT tgisinternal
 ORDER BY 1, 2;
-- the existing rows got the backfill tenant
SELECT tenant_id = :T1 AS t1, count(*) FROM notes GROUP BY 1;
-- the tables work for the application role: the session tenant fills tenant_id
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA tk TO regress_tk_app;
SET ROLE regress_tk_app;
SELECT gtm_set_tenant(:T2, false) IS NOT NULL AS set;
INSERT INTO deals (id, code, stage) VALUES (1, 'd1', 'open');
-- notes kept its primary key (id): another tenant's id 1 collides, and the
-- message shows the key (the lint reports it below)
INSERT INTO notes (id, body) VALUES (1, 'same id, other tenant');
-- the touch trigger: updated_at moves on UPDATE
UPDATE deals SET stage = 'won', updated_at = '2000-01-01' WHERE tenant_id = gtm_current_tenant() AND id = 1;
SELECT stage, updated_at > '2001-01-01' AS touched FROM deals WHERE tenant_id = gtm_current_tenant();
RESET ROLE;
RESET gtm.tenant;
SELECT tenant_id = :T2 AS t2, id, body FROM notes ORDER BY id, body;
-- ON DELETE CASCADE from tenants
DELETE FROM tenants WHERE id = :T2;
SELECT count(*) AS t2_rows FROM notes WHERE tenant_id = :T2;

-- ================================================================ lint
-- the tables above: what is left to fix
SELECT * FROM gtm_lint_schema('{regress_tk_app}', '{tk}');
SELECT gtm_schema_is_clean('{regress_tk_app}', '{tk}') AS clean;
-- fixed: the refused tables dropped, keys led by tenant_id
DROP TABLE loose, typed, gen, parents, children CASCADE;
SET ROLE regress_tk_migrator;
SELECT * FROM gtm_make_tenant_table('notes', lead_keys => true);
ALTER TABLE tasks ADD PRIMARY KEY (tenant_id, id);
ALTER TABLE events ADD PRIMARY KEY (tenant_id, id, day);
RESET ROLE;
-- a clean schema
SELECT * FROM gtm_lint_schema('{regress_tk_app}', '{tk}');
SELECT gtm_schema_is_clean('{regress_tk_app}', '{tk}') AS clean;
-- a schema with one instance of every problem
CREATE SCHEMA lint_bad;
SET search_path = lint_bad, public;
CREATE TABLE accounts (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants ON DELETE CASCADE,
                       id int NOT NULL, email text, PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants ON DELETE CASCADE,
                       id int NOT NULL, account_id int, PRIMARY KEY (tenant_id, id),
                       UNIQUE (tenant_id, account_id));
CREATE UNIQUE INDEX accounts_id_key ON accounts (id);
ALTER TABLE contacts ADD CONSTRAINT contacts_account_fkey FOREIGN KEY (account_id) REFERENCES accounts (id);
ALTER TABLE accounts ADD CONSTRAINT accounts_email_key UNIQUE (email);
CREATE TABLE nullable (tenant_id text DEFAULT gtm_current_tenant() REFERENCES tenants, id int,
                       UNIQUE (tenant_id, id));
CREATE TABLE no_fk (tenant_id text NOT NULL DEFAULT gtm_current_tenant(), id int, UNIQUE (tenant_id, id));
CREATE TABLE other_type (tenant_id uuid NOT NULL, id int, UNIQUE (tenant_id, id));
CREATE TABLE other_coll (tenant_id text COLLATE "C" NOT NULL REFERENCES tenants (id), id int, UNIQUE (tenant_id, id));
CREATE TABLE generated (code text NOT NULL, id int,
                        tenant_id text GENERATED ALWAYS AS (split_part(code, '/', 1)) STORED REFERENCES tenants,
                        UNIQUE (tenant_id, id));
ALTER TABLE generated ALTER COLUMN tenant_id SET NOT NULL;
CREATE TABLE bad_default (tenant_id text NOT NULL DEFAULT current_setting('app.tenant') REFERENCES tenants,
                          id int, UNIQUE (tenant_id, id));
CREATE TABLE const_default (tenant_id text NOT NULL DEFAULT '11111111-1111-4111-8111-111111111111' REFERENCES tenants,
                            id int, UNIQUE (tenant_id, id));
CREATE TABLE excl (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants, id int,
                   during tstzrange, UNIQUE (tenant_id, id), EXCLUDE USING gist (during WITH &&));
CREATE TABLE no_upsert (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants, id int);
CREATE TABLE app_triggers (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants, id int,
                           UNIQUE (tenant_id, id));
GRANT TRIGGER, TRUNCATE ON app_triggers TO regress_tk_app;
CREATE TABLE app_owned (tenant_id text NOT NULL DEFAULT gtm_current_tenant() REFERENCES tenants, id int,
                        UNIQUE (tenant_id, id));
ALTER TABLE app_owned OWNER TO regress_tk_app;
-- its functions and types: it may not change them, exempt roles do not run
-- them (rounds EY-FA)
CREATE FUNCTION app_fn() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE DOMAIN app_dom AS int;
ALTER FUNCTION app_fn() OWNER TO regress_tk_app;
ALTER DOMAIN app_dom OWNER TO regress_tk_app;
CREATE TABLE global_table (code text PRIMARY KEY);      -- not a tenant table: nothing to say
-- ... unless it references a tenant table: tenant data outside the rule,
-- whose foreign-key checks lock rows of any tenant (round DH)
CREATE TABLE account_events (org text NOT NULL, account_id int NOT NULL, what text,
                             FOREIGN KEY (org, account_id) REFERENCES accounts (tenant_id, id));
CREATE TABLE account_refs (account_id int REFERENCES accounts (id));
-- ... unless the role may put a trigger on it: its WHEN clause would run as
-- whoever writes the table, an exempt role included (round AR)
CREATE TABLE audit_log (at timestamptz DEFAULT now(), msg text);
GRANT INSERT, TRIGGER ON audit_log TO regress_tk_app;
-- a SECURITY DEFINER function of an exempt role the application may call,
-- whose search_path leaves pg_temp first, or which takes a cursor: listed;
-- one with pg_temp last and plain arguments: not (rounds AQ-AS)
CREATE FUNCTION definer_shadowed(m text) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = lint_bad AS $$ INSERT INTO audit_log (msg) VALUES (m) $$;
CREATE FUNCTION definer_cursor(c refcursor) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = lint_bad, pg_temp AS $$ SELECT 1 $$;
CREATE FUNCTION definer_fine(m text) RETURNS void LANGUAGE sql SECURITY DEFINER
  SET search_path = lint_bad, pg_temp AS $$ INSERT INTO audit_log (msg) VALUES (m) $$;
REVOKE EXECUTE ON FUNCTION definer_shadowed(text), definer_cursor(refcursor), definer_fine(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION definer_shadowed(text), definer_cursor(refcursor), definer_fine(text) TO regress_tk_app;
SELECT "table", problem, detail FROM gtm_lint_schema('{regress_tk_app}', '{lint_bad}');
SELECT "table", problem, fix FROM gtm_lint_schema('{regress_tk_app}', '{lint_bad}');
SELECT gtm_schema_is_clean('{regress_tk_app}', '{lint_bad}') AS clean;
-- the roles are only checked when named
SELECT count(*) FROM gtm_lint_schema('{}', '{lint_bad}') WHERE problem = 'application role may change the table';
-- the fixes are SQL that clears the problems they are given for
DO $$
DECLARE f text;
BEGIN
  FOR f IN SELECT l.fix FROM gtm_lint_schema('{regress_tk_app}', '{lint_bad}') l
            WHERE l."table" IN ('lint_bad.accounts'::regclass, 'lint_bad.nullable'::regclass,
                                'lint_bad.no_fk'::regclass, 'lint_bad.other_coll'::regclass,
                                'lint_bad.bad_default'::regclass, 'lint_bad.app_triggers'::regclass,
                                'lint_bad.generated'::regclass, 'lint_bad.audit_log'::regclass)
              AND l.problem <> 'unique index without tenant column'
  LOOP
    EXECUTE f;
  END LOOP;
END $$;
SELECT "table", problem FROM gtm_lint_schema('{regress_tk_app}', '{lint_bad}');

-- names and predicates written by a table's owner cannot carry SQL into
-- the fixes (which an administrator runs): each key column and predicate is
-- deparsed by PostgreSQL, and no name's line break ends a comment
CREATE SCHEMA lint_names;
CREATE TABLE lint_names.evil (tenant_id text NOT NULL, a int,
  "x(a); GRANT ALL ON lint_bad.accounts TO regress_tk_other; --" int);
CREATE UNIQUE INDEX evil_u ON lint_names.evil ("x(a); GRANT ALL ON lint_bad.accounts TO regress_tk_other; --");
CREATE TABLE lint_names.evil3 (tenant_id text NOT NULL, a int, name text);
CREATE UNIQUE INDEX evil3_u ON lint_names.evil3 (a)
  WHERE name <> '(a); GRANT DELETE ON lint_bad.accounts TO regress_tk_other; --';
CREATE TABLE lint_names.evil2 (tenant_id text NOT NULL, n int, CONSTRAINT "x
GRANT TRUNCATE ON lint_bad.accounts TO regress_tk_other;
--" EXCLUDE USING btree (n WITH =));
SELECT problem, fix FROM gtm_lint_schema('{}', '{lint_names}')
 WHERE problem IN ('unique index without tenant column', 'unique constraint without tenant column')
 ORDER BY 1, 2;
DO $$
DECLARE f text;
BEGIN
  FOR f IN SELECT l.fix FROM gtm_lint_schema('{}', '{lint_names}') l
            WHERE l.problem IN ('unique index without tenant column', 'unique constraint without tenant column')
  LOOP
    EXECUTE f;
  END LOOP;
END $$;
SELECT has_table_privilege('regress_tk_other', 'lint_bad.accounts', 'UPDATE') AS upd,
       has_table_privilege('regress_tk_other', 'lint_bad.accounts', 'DELETE') AS del,
       has_table_privilege('regress_tk_other', 'lint_bad.accounts', 'TRUNCATE') AS trunc;
SELECT indexrelid::regclass, pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid IN ('lint_names.evil'::regclass, 'lint_names.evil3'::regclass) ORDER BY 1;
SET client_min_messages = warning;
DROP SCHEMA lint_names CASCADE;
RESET client_min_messages;

-- more that the lint reports: a partition the application role owns (its
-- owner's DDL reads every tenant's rows of it); a foreign key to tenants
-- that is NOT VALID (old rows of no tenant may stay); an ON DELETE CASCADE
-- from a table of no tenant (one global row's deletion reaches every
-- tenant); an application role that may SET ROLE to a BYPASSRLS role, also
-- without INHERIT (gtm_grant_app refuses it)
CREATE SCHEMA lint_more;
CREATE TABLE lint_more.parted (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id int,
  PRIMARY KEY (tenant_id, id)) PARTITION BY HASH (tenant_id);
CREATE TABLE lint_more.parted_0 PARTITION OF lint_more.parted FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE lint_more.parted_1 PARTITION OF lint_more.parted FOR VALUES WITH (MODULUS 2, REMAINDER 1);
ALTER TABLE lint_more.parted_1 OWNER TO regress_tk_app;
CREATE TABLE lint_more.nvfk (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
ALTER TABLE lint_more.nvfk ADD FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE NOT VALID;
CREATE TABLE lint_more.stages (id int PRIMARY KEY);
CREATE TABLE lint_more.opps (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id int,
  stage int REFERENCES lint_more.stages ON DELETE CASCADE, PRIMARY KEY (tenant_id, id));
CREATE TABLE lint_more.gl (id int PRIMARY KEY);
CREATE TABLE lint_more.events (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id int,
  PRIMARY KEY (tenant_id, id)) PARTITION BY LIST (tenant_id);
CREATE TABLE lint_more.events_a PARTITION OF lint_more.events FOR VALUES IN ('a');
ALTER TABLE lint_more.events_a ADD FOREIGN KEY (id) REFERENCES lint_more.gl ON DELETE CASCADE;
CREATE TABLE lint_more.byslug (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, id int,
  slug text REFERENCES tenants (slug) ON UPDATE CASCADE, PRIMARY KEY (tenant_id, id));
CREATE ROLE regress_tk_member NOINHERIT;
GRANT regress_tk_bypass TO regress_tk_member;
CREATE ROLE regress_tk_creator CREATEROLE;
GRANT CREATE ON SCHEMA lint_more TO regress_tk_app;
SELECT "table", problem, detail FROM gtm_lint_schema('{regress_tk_app,regress_tk_member,regress_tk_creator}', '{lint_more}');
SELECT gtm_schema_is_clean('{regress_tk_app}', '{lint_more}') AS clean;
SELECT gtm_grant_app('regress_tk_member');
SELECT gtm_grant_app('regress_tk_creator');
SET client_min_messages = warning;
DROP SCHEMA lint_more CASCADE;
RESET client_min_messages;
DROP ROLE regress_tk_member, regress_tk_creator;

-- ---------------------------------------------------------------- clean up
RESET search_path;
DROP SCHEMA tk CASCADE;
DROP SCHEMA lint_bad CASCADE;
DROP OWNED BY regress_tk_migrator, regress_tk_app, regress_tk_other, regress_tk_bypass, regress_tk_mig2;
DROP ROLE regress_tk_migrator, regress_tk_app, regress_tk_other, regress_tk_bypass, regress_tk_mig2;
DELETE FROM tenants WHERE clerk_org_id IN ('org_tk1', 'org_tk2');
