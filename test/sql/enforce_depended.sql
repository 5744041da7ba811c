-- enforce_depended: a role the check applies to may create functions,
-- types, operators... but, outside pg_temp, not replace, alter or drop
-- them once made: what another owner's tenant table uses (a type, domain,
-- composite type or function of the role's, round EX), also by name from
-- a function's body, through an operator, an aggregate or an index
-- expression, which PostgreSQL records nowhere (round EY); nor create a
-- cast; nor drop what a tenant table is made of (a rule, extended
-- statistics); nor rename its schema, nor alter or drop the database.
-- The data: every tenant's rows as they were, the role's function never
-- ran on them, nothing stored.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
\set VERBOSITY default
CREATE ROLE regress_dep_owner;
CREATE SCHEMA dep AUTHORIZATION regress_dep_owner;
GRANT CREATE ON SCHEMA dep TO regress_dep_owner;
-- the role's own new type and table
SET ROLE regress_dep_owner;
CREATE TYPE dep.mine AS ENUM ('a', 'b');
CREATE TABLE dep.own (tenant_id text, m dep.mine);
RESET ROLE;
-- what the tenant tables below use, made by the migration role and given to
-- the role once they are in use (an exempt role runs no code of a role the
-- check applies to, round EZ)
CREATE TYPE dep.org AS ENUM ('t-1', 't-2');
CREATE TYPE dep.stage AS ENUM ('open', 'won');
CREATE TYPE dep.addr AS (city text, zip text);
CREATE DOMAIN dep.tenant_key AS text;
CREATE TABLE dep.peeked (v text);
CREATE FUNCTION dep.peek_at(v text) RETURNS boolean LANGUAGE plpgsql AS
$$BEGIN RAISE NOTICE 'peeked %', v; INSERT INTO dep.peeked VALUES (v); RETURN true; END$$;
CREATE FUNCTION dep.norm(v text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(v)';
CREATE FUNCTION dep.okay(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT v <> ''''';
CREATE FUNCTION dep.touch_row() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END';
-- called by name from a trigger function's body, by an index expression's
-- function, by an operator and an aggregate (round EY)
CREATE FUNCTION dep.canon(v text) RETURNS text LANGUAGE sql AS 'SELECT v';
CREATE FUNCTION dep.relabel() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN NEW.tenant_id := dep.canon(NEW.tenant_id); RETURN NEW; END$$;
CREATE FUNCTION dep.inner_upper(v text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN upper(v); END';
CREATE FUNCTION dep.outer_upper(v text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT dep.inner_upper(v)';
CREATE FUNCTION dep.unlike(a text, b text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT a <> b';
CREATE OPERATOR dep.<~> (FUNCTION = dep.unlike, LEFTARG = text, RIGHTARG = text);
CREATE FUNCTION dep.longest_step(s text, v text) RETURNS text LANGUAGE sql IMMUTABLE AS
  'SELECT CASE WHEN length(v) > length(coalesce(s, '''')) THEN v ELSE s END';
CREATE AGGREGATE dep.longest_agg(text) (SFUNC = dep.longest_step, STYPE = text);
CREATE TEXT SEARCH CONFIGURATION dep.words (COPY = pg_catalog.simple);
-- the migration role's tenant tables, in the role's schema, using them
CREATE DOMAIN dep.checked_tid AS text CHECK (dep.okay(VALUE));
CREATE TABLE dep.by_enum (tenant_id dep.org NOT NULL, v int);
CREATE TABLE dep.by_array (tenant_id text NOT NULL, stages dep.stage[]);
CREATE TABLE dep.by_composite (tenant_id text NOT NULL, a dep.addr);
CREATE TABLE dep.by_domain (tenant_id dep.tenant_key NOT NULL, v int);
CREATE TABLE dep.by_checked_domain (tenant_id dep.checked_tid NOT NULL, v int);
CREATE TABLE dep.by_function (tenant_id text NOT NULL, v text DEFAULT dep.norm('X') CHECK (dep.norm(v) = v));
CREATE TABLE dep.by_trigger (tenant_id text NOT NULL, v int);
CREATE TRIGGER touch BEFORE UPDATE ON dep.by_trigger FOR EACH ROW EXECUTE FUNCTION dep.touch_row();
CREATE TABLE dep.with_rule (tenant_id text NOT NULL, v int);
CREATE RULE audit AS ON UPDATE TO dep.with_rule DO ALSO SELECT dep.okay(NEW.tenant_id);
CREATE TABLE dep.by_callee (tenant_id text NOT NULL, secret text);
CREATE TRIGGER relabel BEFORE INSERT OR UPDATE ON dep.by_callee FOR EACH ROW EXECUTE FUNCTION dep.relabel();
CREATE TABLE dep.by_index (tenant_id text NOT NULL, secret text);
CREATE INDEX ON dep.by_index (dep.outer_upper(secret));
CREATE TABLE dep.by_operator (tenant_id text NOT NULL, secret text CHECK (secret OPERATOR(dep.<~>) ''));
CREATE TABLE dep.by_words (tenant_id text NOT NULL, body text,
  words tsvector GENERATED ALWAYS AS (to_tsvector('dep.words', body)) STORED);
CREATE VIEW dep.longest_secret AS SELECT tenant_id, dep.longest_agg(secret) FROM dep.by_index GROUP BY tenant_id;
CREATE TABLE dep.with_stats (tenant_id text NOT NULL, v int);
CREATE STATISTICS dep.with_stats_nd (ndistinct) ON tenant_id, v FROM dep.with_stats;
INSERT INTO dep.by_enum VALUES ('t-1', 1), ('t-2', 2);
INSERT INTO dep.by_array VALUES ('t-1', '{open}'), ('t-2', '{won}');
INSERT INTO dep.by_composite VALUES ('t-1', ('Oslo', '0150')), ('t-2', ('Bergen', '5003'));
INSERT INTO dep.by_domain VALUES ('t-1', 1), ('t-2', 2);
INSERT INTO dep.by_function VALUES ('t-1', 'a'), ('t-2', 'b');
INSERT INTO dep.by_trigger VALUES ('t-1', 1), ('t-2', 2);
INSERT INTO dep.by_callee VALUES ('t-1', 'one'), ('t-2', 'two');
INSERT INTO dep.by_index VALUES ('t-1', 'one'), ('t-2', 'two');
INSERT INTO dep.by_words VALUES ('t-1', 'one word'), ('t-2', 'two words');
GRANT SELECT, INSERT, UPDATE ON ALL TABLES IN SCHEMA dep TO regress_dep_owner;
ALTER TYPE dep.org OWNER TO regress_dep_owner;
ALTER TYPE dep.stage OWNER TO regress_dep_owner;
ALTER TYPE dep.addr OWNER TO regress_dep_owner;
ALTER DOMAIN dep.tenant_key OWNER TO regress_dep_owner;
ALTER TABLE dep.peeked OWNER TO regress_dep_owner;
ALTER FUNCTION dep.peek_at(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.norm(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.okay(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.touch_row() OWNER TO regress_dep_owner;
ALTER FUNCTION dep.canon(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.relabel() OWNER TO regress_dep_owner;
ALTER FUNCTION dep.inner_upper(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.outer_upper(text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.unlike(text, text) OWNER TO regress_dep_owner;
ALTER OPERATOR dep.<~> (text, text) OWNER TO regress_dep_owner;
ALTER FUNCTION dep.longest_step(text, text) OWNER TO regress_dep_owner;
ALTER AGGREGATE dep.longest_agg(text) OWNER TO regress_dep_owner;
ALTER TEXT SEARCH CONFIGURATION dep.words OWNER TO regress_dep_owner;
SET ROLE regress_dep_owner;
-- an enum's label renamed would relabel every tenant's rows: t-1's become t-2's
ALTER TYPE dep.org RENAME VALUE 't-1' TO 't-0';
ALTER TYPE dep.org ADD VALUE 't-3';
-- through an array of it
ALTER TYPE dep.stage RENAME VALUE 'won' TO 'open2';
-- a composite column of every tenant's rows emptied or renamed
ALTER TYPE dep.addr DROP ATTRIBUTE zip;
ALTER TYPE dep.addr DROP ATTRIBUTE zip CASCADE;
ALTER TYPE dep.addr RENAME ATTRIBUTE zip TO postcode;
ALTER TYPE dep.addr ADD ATTRIBUTE country text;
ALTER TYPE dep.addr ALTER ATTRIBUTE zip TYPE varchar(3);
ALTER TYPE dep.addr OWNER TO CURRENT_USER;
-- a domain CHECK calling the role's function on every tenant's values:
-- refused before it runs (no notice, nothing stored)
ALTER DOMAIN dep.tenant_key ADD CONSTRAINT peeks CHECK (dep.peek_at(VALUE));
ALTER DOMAIN dep.tenant_key ADD CONSTRAINT peeks CHECK (dep.peek_at(VALUE)) NOT VALID;
ALTER DOMAIN dep.tenant_key SET DEFAULT 't-2';
ALTER DOMAIN dep.tenant_key SET NOT NULL;
ALTER DOMAIN dep.tenant_key RENAME TO tid2;
-- a function of a default and a CHECK, of a trigger, of a domain's CHECK
CREATE OR REPLACE FUNCTION dep.norm(v text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT v';
ALTER FUNCTION dep.norm(text) SET search_path = dep;
ALTER FUNCTION dep.norm(text) VOLATILE;
CREATE OR REPLACE FUNCTION dep.touch_row() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN NEW.tenant_id := 't-2'; RETURN NEW; END$$;
CREATE OR REPLACE FUNCTION dep.okay(v text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT dep.peek_at(v)';
-- a function called by name from the trigger function's body (relabelling
-- t-2's rows as t-1's), by an index expression's function (run by the
-- superuser's ANALYZE on every tenant's rows), by an operator or an
-- aggregate: PostgreSQL records no such dependency, so none of the role's
-- functions outside pg_temp may be replaced, renamed, moved or dropped
CREATE OR REPLACE FUNCTION dep.canon(v text) RETURNS text LANGUAGE sql AS $$SELECT 't-1'$$;
ALTER FUNCTION dep.canon(text) RENAME TO canon_old;
ALTER FUNCTION dep.canon(text) SET SCHEMA public;
DROP FUNCTION dep.canon(text);
CREATE OR REPLACE FUNCTION dep.inner_upper(v text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT dep.peek_at(v)::text';
CREATE OR REPLACE FUNCTION dep.unlike(a text, b text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT dep.peek_at(a)';
ALTER OPERATOR dep.<~> (text, text) SET (RESTRICT = eqsel);
CREATE OR REPLACE FUNCTION dep.longest_step(s text, v text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT NULL::text';
ALTER TEXT SEARCH CONFIGURATION dep.words DROP MAPPING FOR asciiword;
-- a cast has no schema: every session's expressions would use it
CREATE FUNCTION dep.to_org(v text) RETURNS dep.org LANGUAGE sql AS $$SELECT 't-1'::dep.org$$;
CREATE CAST (text AS dep.org) WITH FUNCTION dep.to_org(text) AS ASSIGNMENT;
-- a new one of an existing name: an overload that matches better, or one
-- found first by a search_path (round EZ)
CREATE FUNCTION dep.lower(v varchar) RETURNS text LANGUAGE sql AS 'SELECT dep.peek_at(v)::text';
CREATE FUNCTION dep.canon(v varchar) RETURNS text LANGUAGE sql AS $$SELECT 't-1'$$;
CREATE OPERATOR dep.= (FUNCTION = dep.unlike, LEFTARG = text, RIGHTARG = text);
CREATE TYPE dep.text AS ENUM ('x');
CREATE DOMAIN dep.int4 AS integer;
-- new ones, and its code in pg_temp, stay its business
CREATE FUNCTION dep.fresh() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE FUNCTION pg_temp.lower(v text) RETURNS text LANGUAGE sql AS 'SELECT v';
CREATE TYPE dep.fresh_kind AS ENUM ('x');
CREATE FUNCTION pg_temp.scratch() RETURNS int LANGUAGE sql AS 'SELECT 1';
CREATE OR REPLACE FUNCTION pg_temp.scratch() RETURNS int LANGUAGE sql AS 'SELECT 2';
ALTER FUNCTION pg_temp.scratch() COST 5;
SELECT pg_temp.scratch();
DROP FUNCTION pg_temp.scratch();
CREATE TYPE pg_temp.kind AS ENUM ('a');
ALTER TYPE pg_temp.kind ADD VALUE 'b';
DROP TYPE pg_temp.kind;
-- a temporary range type's cast to its multirange goes with it, and
-- DISCARD TEMP drops it all (round EZ: refused, which also failed the
-- session's end and the next session given its temporary schema)
CREATE TYPE pg_temp.span AS RANGE (subtype = int4);
DROP TYPE pg_temp.span;
CREATE TYPE pg_temp.span AS RANGE (subtype = int4);
CREATE FUNCTION pg_temp.keep() RETURNS int LANGUAGE sql AS 'SELECT 1';
DISCARD TEMP;
-- a relation of an existing name: found first by a search_path that puts
-- its schema first ("$user", or ALTER ROLE ... SET), every tenant's writes
-- would go into it (round EZ); renaming and moving alike, and replacing its
-- own view, which an exempt role's code may read
CREATE TABLE dep.tenants (id text);
ALTER TABLE dep.own RENAME TO tenants;
CREATE VIEW dep.labels AS SELECT 1 AS n;
CREATE OR REPLACE VIEW dep.labels AS SELECT 2 AS n;
CREATE TEMP TABLE tenants (id text);
DROP TABLE pg_temp.tenants;
ALTER ROLE CURRENT_USER SET search_path = dep, public;
ALTER ROLE CURRENT_USER IN DATABASE regression SET search_path = dep, public;
-- ALTER INDEX ... RENAME renames a table too; a multirange type named like
-- an existing function makes functions of that name (round FA)
ALTER INDEX dep.own RENAME TO tenants;
CREATE TYPE dep.fresh_span AS RANGE (subtype = int4, multirange_type_name = gtm_current_tenant);
-- still its business: IF NOT EXISTS of its own relation, a name only
-- information_schema has
CREATE TABLE IF NOT EXISTS dep.own (tenant_id text, m dep.mine);
CREATE TABLE dep.domains (id int);
-- its table's DEFAULT and CHECK, and its view, would run as an exempt role
-- that writes or reads them (round FA: a migration's trigger writing its
-- audit table copied every tenant's rows into it by query_to_xml(), and
-- made the superuser call gtm_exempt_table())
CREATE TABLE dep.audit (tenant_id text, note text DEFAULT
  query_to_xml('SELECT string_agg(tenant_id || ''='' || secret, '','') AS s FROM dep.by_callee', false, true, '')::text);
CREATE TABLE dep.audit_check (tenant_id text, CHECK (query_to_xml('SELECT gtm_exempt_table(''dep.by_callee'')', false, true, '') IS NOT NULL));
CREATE VIEW dep.audit_view AS SELECT query_to_xml('SELECT string_agg(secret, '','') AS s FROM dep.by_callee', false, true, '')::text AS x;
-- a domain: its CHECK runs wherever a value is cast to it, in an exempt
-- role's statements too (round FB); in pg_temp it stays the role's business
CREATE DOMAIN dep.note_t AS text CHECK (VALUE <> '');
CREATE DOMAIN pg_temp.note_t AS text CHECK (VALUE <> '');
-- a partition of its table, with a CHECK of its own (round FB)
CREATE TABLE dep.paud (note text) PARTITION BY LIST (note);
CREATE TABLE dep.paud_all PARTITION OF dep.paud DEFAULT;
ALTER TABLE dep.paud_all ADD CHECK (query_to_xml('SELECT gtm_exempt_table(''dep.by_callee'')', false, true, '') IS NOT NULL);
-- ordinary defaults and checks of its own table (also of PostgreSQL's
-- functions named like query, which run no SQL text)
CREATE TABLE dep.plain_log (at timestamp DEFAULT now(), n int CHECK (n > 0), id uuid DEFAULT gen_random_uuid(),
  first_a jsonb DEFAULT jsonb_path_query_first('{"a": 1}', '$.a'), q tsquery DEFAULT to_tsquery('simple', 'a'));
-- a schema named like a role, first in its default search_path (round FC)
CREATE SCHEMA postgres;
CREATE SCHEMA AUTHORIZATION regress_dep_owner;
-- a domain of pg_temp inside its permanent range type, a DEFAULT calling
-- ts_rewrite(), which runs SQL text (round FC); an expression index on its
-- own helper, and a default calling a function of an exempt role: nothing
-- of its runs when an exempt role reads or writes them
CREATE DOMAIN pg_temp.wrapped AS text CHECK (query_to_xml('SELECT gtm_exempt_table(''dep.by_callee'')', false, true, '') IS NOT NULL);
CREATE TYPE dep.wrapped_span AS RANGE (subtype = pg_temp.wrapped);
CREATE TABLE dep.spans (r dep.wrapped_span);
CREATE TABLE dep.rewritten (note text DEFAULT ts_rewrite('a'::tsquery,
  'SELECT ''a''::tsquery, ''b''::tsquery FROM (SELECT gtm_exempt_table(''dep.by_callee'')) s')::text);
CREATE FUNCTION dep.trimmed(t text) RETURNS text LANGUAGE sql IMMUTABLE AS $$SELECT lower(trim(t))$$;
CREATE TABLE dep.indexed (id int, name text);
CREATE INDEX ON dep.indexed (dep.trimmed(name));
-- a schema renamed, and another made with its name, would put another
-- function where a trigger calls one by its schema (round EZ)
ALTER SCHEMA dep RENAME TO dep_old;
-- a rule and extended statistics of another owner's tenant table, dropped
-- by the schema's owner or with its function
DROP FUNCTION dep.okay(text) CASCADE;
DROP STATISTICS dep.with_stats_nd;
-- the schema renamed: the application's names would find the role's own
-- table, of no tenant, in a schema it makes with the old name
ALTER SCHEMA dep RENAME TO dep_moved;
-- its own type, used by its own table only, once made, and its own function
ALTER TYPE dep.mine RENAME VALUE 'b' TO 'c';
CREATE OR REPLACE FUNCTION dep.peek_at(v text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
RESET ROLE;
-- another tenant's session of the role runs its code as it was: t-2's rows
-- stay t-2's, no value stored in the role's table
SET ROLE regress_dep_owner;
INSERT INTO dep.by_callee VALUES ('t-2', 'three');
INSERT INTO dep.by_operator VALUES ('t-2', 'kept');
INSERT INTO dep.by_words VALUES ('t-2', 'three words');
SELECT tenant_id, longest_agg FROM dep.longest_secret WHERE tenant_id = 't-2';
UPDATE dep.by_trigger SET v = v + 10 WHERE tenant_id = 't-1';
RESET ROLE;
SELECT tenant_id, secret FROM dep.by_callee ORDER BY secret;
SELECT tenant_id, secret FROM dep.by_operator;
SELECT tenant_id, words FROM dep.by_words ORDER BY body;
-- nor its expressions: a migration's trigger writing its tables, a read of
-- its view
CREATE FUNCTION dep.audit_it() RETURNS trigger LANGUAGE plpgsql AS
$$BEGIN INSERT INTO dep.audit (tenant_id) VALUES (NEW.tenant_id);
  INSERT INTO dep.audit_check VALUES (NEW.tenant_id); RETURN NEW; END$$;
CREATE TRIGGER audit AFTER UPDATE ON dep.by_words FOR EACH ROW EXECUTE FUNCTION dep.audit_it();
UPDATE dep.by_words SET body = body WHERE tenant_id = 't-2';
SELECT * FROM dep.audit_view;
DROP TRIGGER audit ON dep.by_words;
INSERT INTO dep.paud VALUES ('x');
-- a column of its domain in the migration role's own table (round FB)
INSERT INTO dep.by_domain VALUES ('t-1', 3);
INSERT INTO dep.spans VALUES ('[a,b)');
INSERT INTO dep.rewritten DEFAULT VALUES;
-- what runs nothing of its: a read and a DELETE of a table whose index
-- calls its function
SELECT count(*) AS indexed FROM dep.indexed;
DELETE FROM dep.indexed WHERE id = 99;
-- the extension's functions, an aggregate of its own over one of
-- PostgreSQL's, a value of its domain, a composite of a pg_temp domain
-- made in a DEFAULT (round FD: each made the superuser exempt a tenant
-- table or the role BYPASSRLS)
SET ROLE regress_dep_owner;
CREATE TABLE dep.granting (note text DEFAULT gtm_exempt_table('dep.by_callee')::text);
CREATE AGGREGATE dep.rewrite_all(text) (SFUNC = ts_rewrite, STYPE = tsquery, INITCOND = 'a');
CREATE DOMAIN pg_temp.hidden AS text CHECK (query_to_xml('SELECT gtm_exempt_table(''dep.by_callee'')', false, true, '') IS NOT NULL);
CREATE TYPE dep.holder AS (n pg_temp.hidden);
CREATE TABLE dep.made (note text DEFAULT (('(' || now()::text || ')')::dep.holder)::text);
RESET ROLE;
INSERT INTO dep.granting DEFAULT VALUES;
SELECT dep.rewrite_all(q) FROM (VALUES ('SELECT ''a''::tsquery, ''b''::tsquery')) v(q);
SELECT 'x'::dep.tenant_key;
INSERT INTO dep.made DEFAULT VALUES;
SELECT count(*) AS exempted FROM tenant_scope_exemptions WHERE relid = 'dep.by_callee'::regclass;
-- nor a function of the migration role's, or of an extension, in a
-- DEFAULT of its table (an administrator's tool), but uuid-ossp's
CREATE FUNCTION dep.su_uuid() RETURNS uuid LANGUAGE sql AS 'SELECT gen_random_uuid()';
ALTER TABLE dep.plain_log ADD COLUMN ref uuid DEFAULT dep.su_uuid();
-- what runs nothing of its: a DELETE, plain defaults and checks
DELETE FROM dep.audit WHERE tenant_id = 'none';
INSERT INTO dep.plain_log (n) VALUES (1);
ALTER TABLE dep.plain_log ALTER COLUMN ref SET DEFAULT gen_random_uuid();
INSERT INTO dep.plain_log (n) VALUES (1);
SELECT count(*) AS logged FROM dep.plain_log;
-- its function, looked up in its own session, is looked at again when a
-- SECURITY DEFINER function of the superuser's calls it later in the
-- transaction (round FB: it ran as the superuser)
CREATE FUNCTION dep.helper(v text) RETURNS text LANGUAGE plpgsql AS $$BEGIN RETURN dep.canon(v); END$$;
CREATE FUNCTION dep.sd_helper(v text) RETURNS text LANGUAGE plpgsql SECURITY DEFINER AS $$BEGIN RETURN dep.helper(v); END$$;
SET ROLE regress_dep_owner;
BEGIN;
SELECT dep.helper('warm');
SELECT dep.sd_helper('x');
ROLLBACK;
RESET ROLE;
SELECT count(*) AS audited FROM dep.audit;
SELECT count(*) AS exempted FROM tenant_scope_exemptions WHERE relid = 'dep.by_callee'::regclass;
-- and an exempt role runs none of it: the superuser's ANALYZE of the table
-- whose index expression calls the role's function (which, replaced, made
-- the role BYPASSRLS, round EY), its write through the role's trigger
ANALYZE dep.by_index;
INSERT INTO dep.by_callee VALUES ('t-1', 'four');
SELECT count(*) AS peeked FROM dep.peeked;
SELECT count(*) AS casts FROM pg_cast WHERE casttarget = 'dep.org'::regtype;
SELECT proname FROM pg_proc WHERE pronamespace = 'dep'::regnamespace AND proname LIKE 'canon%';
-- every tenant's rows as they were, the role's function never ran
SELECT tenant_id, v FROM dep.by_enum ORDER BY 1;
SELECT enumlabel FROM pg_enum WHERE enumtypid = 'dep.org'::regtype ORDER BY enumsortorder;
SELECT tenant_id, stages FROM dep.by_array ORDER BY 1;
SELECT tenant_id, a FROM dep.by_composite ORDER BY 1;
SELECT attname FROM pg_attribute WHERE attrelid = 'dep.addr'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SELECT count(*) AS peeked FROM dep.peeked;
SELECT conname FROM pg_constraint WHERE contypid IN ('dep.tenant_key'::regtype, 'dep.checked_tid'::regtype) ORDER BY 1;
SELECT typname, typdefault, typnotnull FROM pg_type WHERE oid = 'dep.tenant_key'::regtype;
SELECT p.proname, p.prosrc, p.provolatile, p.proconfig FROM pg_proc p
 WHERE p.pronamespace = 'dep'::regnamespace
   AND p.proname IN ('norm', 'touch_row', 'okay', 'peek_at', 'canon', 'inner_upper', 'unlike', 'longest_step') ORDER BY 1;
SELECT rulename FROM pg_rewrite WHERE ev_class = 'dep.with_rule'::regclass;
SELECT stxname FROM pg_statistic_ext WHERE stxrelid = 'dep.with_stats'::regclass;
SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dep%' ORDER BY 1;
SELECT count(*) AS role_settings FROM pg_db_role_setting WHERE setrole = 'regress_dep_owner'::regrole;
SELECT relname FROM pg_class WHERE relnamespace = 'dep'::regnamespace AND relname IN ('tenants', 'own', 'labels') ORDER BY 1;
SELECT tenant_id, v FROM dep.by_trigger ORDER BY 1;
-- a role exempt from the check (here the superuser) may change them
ALTER TYPE dep.org ADD VALUE 't-3';
ALTER FUNCTION dep.norm(text) COST 2;
-- the database: by its owner, ALTER DATABASE ... SET search_path would make
-- every role's sessions, the migration role's too, resolve names to the
-- role's objects; its connection limit and name are every tenant's
SELECT current_database() AS db \gset
ALTER DATABASE :"db" OWNER TO regress_dep_owner;
SET ROLE regress_dep_owner;
ALTER DATABASE :"db" SET search_path = dep, public;
ALTER DATABASE :"db" CONNECTION LIMIT 0;
ALTER DATABASE :"db" RESET ALL;
ALTER DATABASE :"db" OWNER TO regress_dep_owner;
RESET ROLE;
SELECT count(*) AS search_path_set FROM pg_db_role_setting s
  JOIN pg_database d ON d.oid = s.setdatabase, unnest(s.setconfig) c
 WHERE d.datname = current_database() AND c LIKE 'search_path=%';
SELECT datconnlimit FROM pg_database WHERE datname = current_database();
ALTER DATABASE :"db" OWNER TO CURRENT_USER;
CREATE DATABASE regress_dep_other OWNER regress_dep_owner;
SET ROLE regress_dep_owner;
DROP DATABASE regress_dep_other;
RESET ROLE;
SELECT count(*) AS other_kept FROM pg_database WHERE datname = 'regress_dep_other';
DROP DATABASE regress_dep_other;
-- what the check knows of a function follows it within one session
-- (enforce_function_facts.c): its owner, and whether that owner is exempt
CREATE TABLE dep.flip_log (who text);
GRANT INSERT ON dep.flip_log TO regress_dep_owner;
CREATE FUNCTION dep.flip() RETURNS text LANGUAGE plpgsql
  AS $$BEGIN INSERT INTO dep.flip_log VALUES (current_user); RETURN current_user; END$$;
SELECT dep.flip();
ALTER FUNCTION dep.flip() OWNER TO regress_dep_owner;
SELECT dep.flip();
ALTER ROLE regress_dep_owner BYPASSRLS;
SELECT dep.flip();
ALTER ROLE regress_dep_owner NOBYPASSRLS;
SELECT dep.flip();
ALTER FUNCTION dep.flip() OWNER TO CURRENT_USER;
SELECT dep.flip();
SELECT who, count(*) FROM dep.flip_log GROUP BY who;
SET client_min_messages = warning;
DROP SCHEMA dep CASCADE;
DROP OWNED BY regress_dep_owner;
DROP ROLE regress_dep_owner;
