-- copy_from: COPY table FROM into tenant tables by an application role.
-- With a session tenant, every row's tenant_id is checked against it (or
-- filled by DEFAULT gtm_current_tenant() when the column is left out), and
-- one wrong row aborts the whole COPY with 42501 naming the line.  Every
-- case checks the rows left in the tables, as the superuser.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
\set SHOW_CONTEXT never
CREATE SCHEMA copy_from;
SET search_path = copy_from, public;
SET gtm.allow_session_tenant = on;   -- the tests below use session tenants (issue 8)
CREATE ROLE regress_copy_app;
CREATE ROLE regress_copy_bypass BYPASSRLS;
-- COPY FROM a server file needs pg_read_server_files (binary input, big files)
GRANT pg_read_server_files TO regress_copy_app;
GRANT USAGE, CREATE ON SCHEMA copy_from TO regress_copy_app, regress_copy_bypass;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
INSERT INTO tenants (id, clerk_org_id, name, slug)
  VALUES (:T1, 'org_copy1', 'Copy One', 'copy-one'), (:T2, 'org_copy2', 'Copy Two', 'copy-two');

-- accounts: tenant_id with DEFAULT gtm_current_tenant() (as gtm_make_tenant_table makes it)
CREATE TABLE accounts (tenant_id text NOT NULL DEFAULT gtm_current_tenant(),
                       id int NOT NULL, name text, amount int,
                       PRIMARY KEY (tenant_id, id));
-- contacts: tenant_id without a default
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, email text);
-- ledger: a uuid tenant column
CREATE TABLE ledger (tenant_id uuid NOT NULL, n int);
-- events: partitioned by tenant
CREATE TABLE events (tenant_id text NOT NULL, n int) PARTITION BY LIST (tenant_id);
CREATE TABLE events_t1 PARTITION OF events FOR VALUES IN ('11111111-1111-4111-8111-111111111111');
CREATE TABLE events_t2 PARTITION OF events FOR VALUES IN ('22222222-2222-4222-8222-222222222222');
-- audit, written by a trigger of accounts_trig
CREATE TABLE audit (tenant_id text NOT NULL, what text);
CREATE TABLE accounts_trig (tenant_id text NOT NULL, id int, name text);
CREATE FUNCTION audit_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO copy_from.audit VALUES (NEW.tenant_id, 'copied ' || NEW.id);
  IF NEW.name = 'peek' THEN   -- reads another tenant's rows
    PERFORM count(*) FROM copy_from.audit WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
  ELSIF NEW.name = 'switch' THEN   -- moves the session to another tenant
    PERFORM gtm_set_tenant('22222222-2222-4222-8222-222222222222', false);
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER accounts_trig_audit BEFORE INSERT ON accounts_trig
  FOR EACH ROW EXECUTE FUNCTION audit_row();
-- a generated tenant column
CREATE TABLE derived (code text NOT NULL,
                      tenant_id text GENERATED ALWAYS AS (split_part(code, '/', 1)) STORED);
-- a view with an INSTEAD OF trigger writing into contacts
CREATE VIEW contact_import AS SELECT tenant_id, id, email FROM contacts;
CREATE FUNCTION contact_import_ins() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO copy_from.contacts VALUES (NEW.tenant_id, NEW.id, NEW.email);
  RETURN NEW;
END $$;
CREATE TRIGGER contact_import_ins INSTEAD OF INSERT ON contact_import
  FOR EACH ROW EXECUTE FUNCTION contact_import_ins();
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA copy_from TO regress_copy_app, regress_copy_bypass;
GRANT SELECT (id) ON tenants TO regress_copy_app;

INSERT INTO accounts VALUES (:T2, 1, 'other tenant', 5);

-- as superuser: rows per table and tenant
CREATE FUNCTION data() RETURNS TABLE (tbl text, t1 bigint, t2 bigint)
LANGUAGE sql AS $$
  SELECT 'accounts', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.accounts
  UNION ALL SELECT 'contacts', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.contacts
  UNION ALL SELECT 'ledger', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.ledger
  UNION ALL SELECT 'events_t1', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.events_t1
  UNION ALL SELECT 'events_t2', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.events_t2
  UNION ALL SELECT 'audit', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.audit
  UNION ALL SELECT 'accounts_trig', count(*) FILTER (WHERE tenant_id = '11111111-1111-4111-8111-111111111111'),
         count(*) FILTER (WHERE tenant_id = '22222222-2222-4222-8222-222222222222') FROM copy_from.accounts_trig
$$;

-- ================================================================ no tenant set
SET ROLE regress_copy_app;
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111	1	a	10
\.
-- COPY TO stays refused (use COPY (SELECT ... WHERE tenant_id = ...) TO)
COPY accounts TO STDOUT;
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM gtm_check_statement('COPY accounts FROM STDIN');

-- ================================================================ tenant T1
SELECT gtm_set_tenant(:T1, false) IS NOT NULL AS set;
-- text format, every column: accepted
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111	1	a	10
11111111-1111-4111-8111-111111111111	2	b	20
11111111-1111-4111-8111-111111111111	3	c	30
\.
SELECT * FROM gtm_check_statement('COPY accounts FROM STDIN');
-- a wrong row in the middle: the whole COPY is aborted, the line named
\set SHOW_CONTEXT errors
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111	4	d	40
22222222-2222-4222-8222-222222222222	5	e	50
11111111-1111-4111-8111-111111111111	6	f	60
\.
\set SHOW_CONTEXT never
-- a tenant that differs only in case, or by a trailing blank, is another
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111	4	d	40
11111111-1111-4111-8111-11111111111A	5	e	50
\.
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111 	4	d	40
\.
-- a NULL tenant
COPY accounts FROM STDIN;
11111111-1111-4111-8111-111111111111	4	d	40
11111111-1111-4111-8111-111111111111	5	e	50
\N	6	f	60
\.
RESET ROLE;
SELECT * FROM data();
SET ROLE regress_copy_app;

-- the tenant column left out: filled by its DEFAULT gtm_current_tenant()
COPY accounts (id, name, amount) FROM STDIN;
7	g	70
8	h	80
\.
-- in another order, with the tenant column given
COPY accounts (name, tenant_id, id) FROM STDIN;
i	11111111-1111-4111-8111-111111111111	9
j	22222222-2222-4222-8222-222222222222	10
\.
-- left out of a table without that default: NULL, rejected at the first line
COPY contacts (id, email) FROM STDIN;
1	a@example.com
\.
-- CSV with a header line: the line numbers count it
COPY contacts FROM STDIN WITH (FORMAT csv, HEADER true);
tenant_id,id,email
11111111-1111-4111-8111-111111111111,1,a@example.com
22222222-2222-4222-8222-222222222222,2,"b@example.com"
\.
COPY contacts FROM STDIN WITH (FORMAT csv, HEADER true);
tenant_id,id,email
11111111-1111-4111-8111-111111111111,1,a@example.com
"11111111-1111-4111-8111-111111111111",2,"b@
example.com"
\.
-- the caller's WHERE clause: a wrong row is rejected even where it would
-- filter the row out (the check comes first)
COPY accounts FROM STDIN WHERE amount > 100;
11111111-1111-4111-8111-111111111111	11	k	110
22222222-2222-4222-8222-222222222222	12	l	5
\.
COPY accounts FROM STDIN WHERE amount > 100;
11111111-1111-4111-8111-111111111111	11	k	110
11111111-1111-4111-8111-111111111111	12	l	5
\.
-- the caller's WHERE cannot widen what is accepted
COPY accounts FROM STDIN WHERE tenant_id = '22222222-2222-4222-8222-222222222222' OR true;
22222222-2222-4222-8222-222222222222	13	m	130
\.
RESET ROLE;
SELECT * FROM data();
SELECT id, name FROM accounts WHERE tenant_id = :T1 ORDER BY id;
SELECT * FROM contacts ORDER BY id;
SET ROLE regress_copy_app;

-- ================================================================ partitions
COPY events FROM STDIN;
11111111-1111-4111-8111-111111111111	1
11111111-1111-4111-8111-111111111111	2
\.
-- a row routed to another tenant's partition
COPY events FROM STDIN;
11111111-1111-4111-8111-111111111111	3
22222222-2222-4222-8222-222222222222	4
\.
-- a partition named directly
COPY events_t2 FROM STDIN;
22222222-2222-4222-8222-222222222222	5
\.
-- ================================================================ uuid tenant column
-- compared as the uuid's text: the same uuid written otherwise is the same tenant
COPY ledger FROM STDIN;
11111111-1111-4111-8111-111111111111	1
11111111-1111-4111-8111-111111111111	2
{11111111111141118111111111111111}	3
\.
COPY ledger FROM STDIN;
11111111-1111-4111-8111-111111111111	3
22222222-2222-4222-8222-222222222222	4
\.
RESET ROLE;
SELECT * FROM data();
SET ROLE regress_copy_app;

-- ================================================================ triggers
-- a BEFORE trigger writing the row's tenant elsewhere: one tenant, accepted
COPY accounts_trig FROM STDIN;
11111111-1111-4111-8111-111111111111	1	x
11111111-1111-4111-8111-111111111111	2	y
\.
-- a trigger reading another tenant's rows: the COPY reached T1
COPY accounts_trig FROM STDIN;
11111111-1111-4111-8111-111111111111	3	x
11111111-1111-4111-8111-111111111111	4	peek
\.
-- a trigger changing the session tenant while the COPY runs
COPY accounts_trig FROM STDIN;
11111111-1111-4111-8111-111111111111	5	switch
11111111-1111-4111-8111-111111111111	6	y
\.
SELECT gtm_current_tenant() = :T1 AS still_t1;
-- a view's INSTEAD OF trigger: the view is not a tenant table, its
-- trigger's statements are checked, one tenant for the whole COPY
COPY contact_import FROM STDIN;
11111111-1111-4111-8111-111111111111	20	v@example.com
22222222-2222-4222-8222-222222222222	21	w@example.com
\.
RESET ROLE;
SELECT * FROM data();
SET ROLE regress_copy_app;

-- ================================================================ generated tenant column
COPY derived (code) FROM STDIN;
11111111-1111-4111-8111-111111111111/1
\.

-- ================================================================ FREEZE
-- a table created in the transaction, COPY ... FREEZE: checked the same
BEGIN;
CREATE TABLE frozen (tenant_id text NOT NULL, n int);
COPY frozen FROM STDIN WITH (FREEZE);
11111111-1111-4111-8111-111111111111	1
\.
SELECT count(*) FROM frozen WHERE tenant_id = gtm_current_tenant();
ROLLBACK;
BEGIN;
CREATE TABLE frozen (tenant_id text NOT NULL, n int);
COPY frozen FROM STDIN WITH (FREEZE);
11111111-1111-4111-8111-111111111111	1
22222222-2222-4222-8222-222222222222	2
\.
ROLLBACK;
RESET ROLE;

-- ================================================================ files, binary, many rows
-- written by the superuser into the data directory
SELECT d || 'ok.bin' AS f_ok, d || 'bad.bin' AS f_bad, d || 'many.txt' AS f_many,
       d || 'many_ok.txt' AS f_many_ok
  FROM (SELECT current_setting('data_directory') || '/copy_from_' AS d) s \gset
COPY (SELECT :T1::text, 100 + g, 'bin', g FROM generate_series(1, 3) g)
  TO :'f_ok' WITH (FORMAT binary);
COPY (SELECT :T1::text, 200 + g, 'bin', g FROM generate_series(1, 3) g
      UNION ALL SELECT :T2::text, 204, 'bin', 4)
  TO :'f_bad' WITH (FORMAT binary);
-- 2500 rows, the 1500th of T2: past the first multi-insert buffer (1000 rows)
COPY (SELECT CASE WHEN g = 1500 THEN :T2 ELSE :T1 END, 1000 + g, 'many', g
        FROM generate_series(1, 2500) g)
  TO :'f_many';
COPY (SELECT :T1::text, 5000 + g, 'many', g FROM generate_series(1, 2500) g)
  TO :'f_many_ok';
SET ROLE regress_copy_app;
COPY accounts FROM :'f_ok' WITH (FORMAT binary);
COPY accounts FROM :'f_bad' WITH (FORMAT binary);
COPY accounts FROM :'f_many';
COPY accounts FROM :'f_many_ok';
RESET ROLE;
SELECT * FROM data();
SELECT name, count(*) FROM accounts GROUP BY name HAVING count(*) > 1 ORDER BY name;

-- the SQLSTATE of a rejected row, and nothing written (psql before 17 does
-- not keep the SQLSTATE of an error raised while COPY data is sent, so it is
-- caught here, in a DO block, for every version)
SET ROLE regress_copy_app;
SELECT set_config('copy_from.bad', :'f_bad', false) IS NOT NULL AS set;
DO $$
BEGIN
  EXECUTE format('COPY copy_from.accounts FROM %L WITH (FORMAT binary)', current_setting('copy_from.bad'));
EXCEPTION WHEN OTHERS THEN
  RAISE NOTICE 'caught % %', SQLSTATE, SQLERRM;
END $$;
RESET ROLE;
SELECT count(*) FROM accounts WHERE id BETWEEN 200 AND 299;

-- ================================================================ one top-level statement
-- a COPY run by a statement that already reached another tenant
COPY (SELECT :T1::text, 100 + g, 'c' || g FROM generate_series(1, 3) g) TO :'f_ok';
SET ROLE regress_copy_app;
SELECT set_config('copy_from.file', :'f_ok', false) IS NOT NULL AS set;
DO $$
BEGIN
  PERFORM count(*) FROM copy_from.accounts WHERE tenant_id = '22222222-2222-4222-8222-222222222222';
  EXECUTE format('COPY copy_from.contacts FROM %L', current_setting('copy_from.file'));
END $$;
\echo :LAST_ERROR_SQLSTATE
-- the same COPY alone is accepted
DO $$
BEGIN
  EXECUTE format('COPY copy_from.contacts FROM %L', current_setting('copy_from.file'));
END $$;
RESET ROLE;
SELECT tenant_id = :T1 AS t1, count(*) FROM contacts WHERE id > 100 GROUP BY 1;

-- ================================================================ exempt table
-- a table exempted with gtm_exempt_table: not checked
SELECT gtm_exempt_table('copy_from.audit');
SET ROLE regress_copy_app;
COPY audit FROM STDIN;
11111111-1111-4111-8111-111111111111	exempt 1
22222222-2222-4222-8222-222222222222	exempt 2
\.
RESET ROLE;
SELECT gtm_unexempt_table('copy_from.audit');
SELECT * FROM data() WHERE tbl = 'audit';

-- ================================================================ warn mode
-- the COPY runs; one warning for the first wrong row
SET gtm.enforcement = warn;
SET ROLE regress_copy_app;
COPY contacts FROM STDIN;
11111111-1111-4111-8111-111111111111	30	x@example.com
22222222-2222-4222-8222-222222222222	31	y@example.com
22222222-2222-4222-8222-222222222222	32	z@example.com
\.
RESET ROLE;
RESET gtm.enforcement;
SELECT id FROM contacts WHERE id BETWEEN 30 AND 39 ORDER BY id;

-- ================================================================ exempt role
-- BYPASSRLS: not checked, any tenant
SET ROLE regress_copy_bypass;
COPY contacts FROM STDIN;
22222222-2222-4222-8222-222222222222	40	t2@example.com
\.
RESET ROLE;
SELECT tenant_id = :T2 AS t2 FROM contacts WHERE id = 40;

-- ================================================================ attacks on the row check
-- an overload of the row check with the column's exact types, in a schema
-- the role may create in (here the extension's own, public): the COPY names
-- pg_catalog.gtm_copy_check_row, which no such overload can shadow
GRANT CREATE ON SCHEMA public TO regress_copy_app;
SET ROLE regress_copy_app;
-- the role may not create one (a function of an existing name, round EZ)
CREATE FUNCTION public.gtm_copy_check_row(value text, tenant text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
RESET ROLE;
-- made before: given to the role
CREATE FUNCTION public.gtm_copy_check_row(value text, tenant text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE FUNCTION copy_from.gtm_copy_check_row(value text, tenant text) RETURNS boolean
  LANGUAGE sql IMMUTABLE AS 'SELECT true';
ALTER FUNCTION public.gtm_copy_check_row(text, text) OWNER TO regress_copy_app;
ALTER FUNCTION copy_from.gtm_copy_check_row(text, text) OWNER TO regress_copy_app;
SET ROLE regress_copy_app;
SELECT gtm_set_tenant(:T1, false) IS NOT NULL AS set;
SET search_path = copy_from, public, pg_catalog;
COPY accounts (tenant_id, id, name) FROM STDIN;
22222222-2222-4222-8222-222222222222	60	t2 row through a shadowed check
\.
\echo :LAST_ERROR_SQLSTATE
SET search_path = copy_from, public;
RESET ROLE;
-- (dropped by the migration role: the role's functions outside pg_temp are
-- not its to drop, round EY)
DROP FUNCTION public.gtm_copy_check_row(text, text);
DROP FUNCTION copy_from.gtm_copy_check_row(text, text);
REVOKE CREATE ON SCHEMA public FROM regress_copy_app;
SELECT count(*) AS rows_60 FROM accounts WHERE id = 60;

-- ================================================================ the row check called directly
SELECT gtm_copy_check_row('11111111-1111-4111-8111-111111111111'::text, :T1) AS same;
SELECT gtm_copy_check_row('11111111-1111-4111-8111-111111111111'::uuid, :T1) AS same_uuid;
SELECT gtm_copy_check_row(:T2::text, :T1);
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_copy_check_row(NULL::text, :T1);
\echo :LAST_ERROR_SQLSTATE
SELECT gtm_copy_check_row(:T1::text, NULL);
\echo :LAST_ERROR_SQLSTATE

-- ---------------------------------------------------------------- clean up
SELECT gtm_set_tenant(:T1, false) IS NOT NULL AS set;
RESET gtm.tenant;
DROP SCHEMA copy_from CASCADE;
DROP OWNED BY regress_copy_app, regress_copy_bypass;
DROP ROLE regress_copy_app;
DROP ROLE regress_copy_bypass;
DELETE FROM tenants WHERE clerk_org_id IN ('org_copy1', 'org_copy2');
