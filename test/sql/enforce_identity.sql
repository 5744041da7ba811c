-- enforce_identity: an equality pins only when "equal" means "identical"
-- for the compared type and collation (issue 16, item 7), and IS NOT
-- DISTINCT FROM pins (item 8); run as an ordinary role.  Each table holds
-- two distinct tenants that compare equal; a statement that reads either
-- must be rejected, and the rows returned show what an accepted one read.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
CREATE EXTENSION IF NOT EXISTS citext;
RESET client_min_messages;
CREATE SCHEMA enforce_identity;
SET search_path = enforce_identity, public;
CREATE ROLE regress_enforce_identity;
GRANT USAGE ON SCHEMA enforce_identity TO regress_enforce_identity;
CREATE COLLATION nocase (provider = icu, locale = 'und-u-ks-level2', deterministic = false);

-- equal but distinct: numeric scale, float zero signs, interval units,
-- case (citext, nondeterministic collation), trailing blanks (bpchar),
-- jsonb numbers, arrays of them
CREATE TABLE by_numeric (tenant_id numeric NOT NULL, v text);
CREATE TABLE by_float (tenant_id float8 NOT NULL, v text);
CREATE TABLE by_interval (tenant_id interval NOT NULL, v text);
CREATE TABLE by_citext (tenant_id citext NOT NULL, v text, UNIQUE (tenant_id, v));
CREATE TABLE by_nocase (tenant_id text COLLATE nocase NOT NULL, v text);
CREATE TABLE by_bpchar (tenant_id bpchar NOT NULL, v text);
CREATE TABLE by_jsonb (tenant_id jsonb NOT NULL, v text);
CREATE TABLE by_array (tenant_id numeric[] NOT NULL, v text);
INSERT INTO by_numeric VALUES (1.0, 'one-point-zero'), (1.00, 'one-point-zero-zero');
INSERT INTO by_float VALUES (0, 'zero'), ('-0', 'minus zero');
INSERT INTO by_interval VALUES ('1 day', 'day'), ('24 hours', 'hours');
INSERT INTO by_citext VALUES ('acme', 'lower'), ('ACME', 'upper');
INSERT INTO by_nocase VALUES ('acme', 'lower'), ('ACME', 'upper');
INSERT INTO by_bpchar VALUES ('t-1', 'bare'), ('t-1 ', 'blank');
INSERT INTO by_jsonb VALUES ('1.0', 'a'), ('1.00', 'b');
INSERT INTO by_array VALUES ('{1.0}', 'a'), ('{1.00}', 'b');
-- identity: text with a deterministic collation (also varchar and domains
-- over it), integers across widths, uuid, enums
CREATE DOMAIN tenant_text AS text;
CREATE TYPE tier AS ENUM ('gold', 'silver');
CREATE TABLE by_text (tenant_id text NOT NULL, v text);
CREATE TABLE by_varchar (tenant_id varchar(40) NOT NULL, v text);
CREATE TABLE by_domain (tenant_id tenant_text NOT NULL, v text);
CREATE TABLE by_int (tenant_id int NOT NULL, v text);
CREATE TABLE by_uuid (tenant_id uuid NOT NULL, v text);
CREATE TABLE by_enum (tenant_id tier NOT NULL, v text);
CREATE TABLE maybe (tenant_id text, v text);                    -- admits NULL
INSERT INTO by_text VALUES ('t-1', 'a'), ('T-1', 'b');
INSERT INTO by_varchar VALUES ('t-1', 'a'), ('t-1 ', 'b');
INSERT INTO by_domain VALUES ('t-1', 'a'), ('t-2', 'b');
INSERT INTO by_int VALUES (1, 'a'), (2, 'b');
INSERT INTO by_uuid VALUES ('11111111-1111-4111-8111-111111111111', 'a'),
                           ('22222222-2222-4222-8222-222222222222', 'b');
INSERT INTO by_enum VALUES ('gold', 'a'), ('silver', 'b');
INSERT INTO maybe VALUES ('t-1', 'a'), (NULL, 'no tenant'), ('t-2', 'b');
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA enforce_identity
  TO regress_enforce_identity;
SET ROLE regress_enforce_identity;

-- ---------------------------------------------------------------- rejected
SELECT v FROM by_numeric WHERE tenant_id = 1.0;
\echo :LAST_ERROR_SQLSTATE
SELECT v FROM by_numeric WHERE tenant_id = 1;
SELECT v FROM by_float WHERE tenant_id = 0;
SELECT v FROM by_interval WHERE tenant_id = '1 day';
SELECT v FROM by_citext WHERE tenant_id = 'acme';
SELECT v FROM by_nocase WHERE tenant_id = 'acme';
SELECT v FROM by_bpchar WHERE tenant_id = 't-1';
SELECT v FROM by_jsonb WHERE tenant_id = '1.0';
SELECT v FROM by_array WHERE tenant_id = '{1.0}';
-- derived through a join: the joined table is pinned without identity too
SELECT a.v, b.v FROM by_numeric a JOIN by_numeric b ON b.tenant_id = a.tenant_id WHERE a.tenant_id = 1.0;
-- parameters, custom and generic plans
PREPARE num(numeric) AS SELECT v FROM by_numeric WHERE tenant_id = $1;
SET plan_cache_mode = force_custom_plan;
EXECUTE num(1.0);
SET plan_cache_mode = force_generic_plan;
EXECUTE num(1.0);
RESET plan_cache_mode;
DEALLOCATE num;
-- writes keyed by such an equality
UPDATE by_citext SET v = v || '!' WHERE tenant_id = 'acme';
DELETE FROM by_numeric WHERE tenant_id = 1;
-- an ON CONFLICT arbiter comparing the tenant without identity: the
-- conflicting row may be another tenant's ('ACME' for 'acme')
INSERT INTO by_citext VALUES ('acme', 'upper') ON CONFLICT (tenant_id, v) DO UPDATE SET v = 'taken';
\echo :LAST_ERROR_SQLSTATE
INSERT INTO by_citext VALUES ('acme', 'upper') ON CONFLICT (tenant_id, v) DO NOTHING;
SELECT * FROM gtm_check_statement($$SELECT v FROM by_numeric WHERE tenant_id = 1.0$$);
SELECT * FROM gtm_check_statement($$INSERT INTO by_citext VALUES ('acme', 'x')
  ON CONFLICT (tenant_id, v) DO UPDATE SET v = 'y'$$);

-- ---------------------------------------------------------------- accepted
SELECT v FROM by_text WHERE tenant_id = 't-1';
SELECT v FROM by_varchar WHERE tenant_id = 't-1';
SELECT v FROM by_domain WHERE tenant_id = 't-1';
SELECT v FROM by_int WHERE tenant_id = 1;
SELECT v FROM by_int WHERE tenant_id = 1::bigint;
SELECT v FROM by_uuid WHERE tenant_id = '11111111-1111-4111-8111-111111111111';
SELECT v FROM by_enum WHERE tenant_id = 'gold';
-- compared as identical text: a binary-compatible cast, an explicit collation
SELECT v FROM by_citext WHERE tenant_id::text = 'acme';
SELECT v FROM by_nocase WHERE tenant_id = 'acme' COLLATE "C";
SELECT v FROM by_nocase WHERE tenant_id COLLATE "C" = 'ACME';
-- ... also with a stable value, frozen (round FF: not frozen with the
-- collation on the column side); under the column's own nondeterministic
-- collation it stays rejected
SELECT set_config('enforce_identity.t', 'ACME', false) IS NOT NULL AS set;
SELECT v FROM by_nocase WHERE tenant_id COLLATE "C" = current_setting('enforce_identity.t');
SELECT v FROM by_nocase WHERE tenant_id = current_setting('enforce_identity.t') COLLATE "C";
SELECT v FROM by_nocase WHERE tenant_id COLLATE nocase = current_setting('enforce_identity.t');

-- ---------------------------------------------------------------- IS NOT DISTINCT FROM
SELECT v FROM by_text WHERE tenant_id IS NOT DISTINCT FROM 't-1';
SELECT v FROM by_text WHERE NOT (tenant_id IS DISTINCT FROM 't-1');
SELECT v FROM maybe WHERE tenant_id IS NOT DISTINCT FROM 't-1';
-- a value that may be NULL: on a NOT NULL column it matches nothing, on a
-- column admitting NULL it would match the rows without a tenant
PREPARE nd_text(text) AS SELECT v FROM by_text WHERE tenant_id IS NOT DISTINCT FROM $1;
PREPARE nd_maybe(text) AS SELECT v FROM maybe WHERE tenant_id IS NOT DISTINCT FROM $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE nd_text('t-1');
EXECUTE nd_maybe(NULL);
\echo :LAST_ERROR_SQLSTATE
SET plan_cache_mode = force_custom_plan;
EXECUTE nd_text('t-1');
EXECUTE nd_maybe(NULL);
EXECUTE nd_maybe('t-1');
RESET plan_cache_mode;
DEALLOCATE nd_text;
DEALLOCATE nd_maybe;
SELECT v FROM maybe WHERE tenant_id IS NOT DISTINCT FROM NULL;
SELECT v FROM maybe WHERE tenant_id IS NOT DISTINCT FROM current_setting('app.no_such', true);
-- rejected as before: IS DISTINCT FROM, and equality without identity
SELECT v FROM by_text WHERE tenant_id IS DISTINCT FROM 't-2';
SELECT v FROM by_numeric WHERE tenant_id IS NOT DISTINCT FROM 1.0;
-- correlated
SELECT t.v, (SELECT count(*) FROM by_domain d WHERE d.tenant_id IS NOT DISTINCT FROM t.tenant_id)
  FROM by_text t WHERE t.tenant_id = 't-1';
-- the planner derives nothing from IS NOT DISTINCT FROM: each table needs its own
SELECT t.v FROM by_text t JOIN by_domain d ON d.tenant_id = t.tenant_id
  WHERE t.tenant_id IS NOT DISTINCT FROM 't-1';
SELECT t.v FROM by_text t JOIN by_domain d ON d.tenant_id = t.tenant_id
  WHERE t.tenant_id IS NOT DISTINCT FROM 't-1' AND d.tenant_id IS NOT DISTINCT FROM 't-1';
UPDATE maybe SET v = v WHERE tenant_id IS NOT DISTINCT FROM 't-1';
SELECT * FROM gtm_check_statement($$SELECT v FROM maybe WHERE tenant_id IS NOT DISTINCT FROM $1$$);
SELECT * FROM gtm_check_statement($$SELECT v FROM by_text WHERE tenant_id IS NOT DISTINCT FROM $1$$);
RESET ROLE;

-- round CC: a cross-type equality of date/time types converts one side
-- with TimeZone on every comparison, which the statement itself changes
-- (set_config, SET LOCAL between two FETCHes): the same value then matches
-- another tenant's instant.  No pin, in a condition, a join, a parameter
-- or IS NOT DISTINCT FROM; the same type on both sides, and the integers
-- across widths, still pin.
CREATE TABLE by_tstz (tenant_id timestamptz NOT NULL, id int, v text);
CREATE TABLE by_date (tenant_id date NOT NULL, id int, v text);
CREATE TABLE by_ts (tenant_id timestamp NOT NULL, id int, v text);
INSERT INTO by_tstz VALUES ('2020-01-01 00:00+00', 1, 'T1 secret'), ('2020-01-01 01:00+00', 2, 'T2 secret');
INSERT INTO by_date VALUES ('2020-01-01', 1, 'T1 secret'), ('2020-01-02', 2, 'T2 secret');
INSERT INTO by_ts VALUES ('2020-01-01 00:00', 1, 'T1 ts');
GRANT SELECT, INSERT, UPDATE, DELETE ON by_tstz, by_date, by_ts TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SET TimeZone = 'UTC';
SELECT id, v, set_config('TimeZone', '-01', true) IS NOT NULL FROM by_tstz
  WHERE tenant_id = '2020-01-01 00:00'::timestamp;
SET TimeZone = 'UTC';
UPDATE by_tstz SET v = 'changed ' || set_config('TimeZone', '-01', true)
  WHERE tenant_id = '2020-01-01 00:00'::timestamp;
SET TimeZone = 'UTC';
SELECT id, v FROM by_date WHERE tenant_id = '2020-01-01 00:00+00'::timestamptz
  AND set_config('TimeZone', '+24', true) IS NOT NULL;
SELECT id, v FROM by_tstz WHERE tenant_id IS NOT DISTINCT FROM '2020-01-01 00:00'::timestamp;
SELECT t.v FROM by_tstz t JOIN by_ts s ON s.tenant_id = t.tenant_id
  WHERE s.tenant_id = '2020-01-01 00:00';
BEGIN;
DECLARE c CURSOR FOR SELECT id, v FROM by_tstz WHERE tenant_id = '2020-01-01 00:00'::timestamp;
ROLLBACK;
PREPARE tz_p(text) AS SELECT id, v FROM by_tstz WHERE tenant_id = $1::timestamp;
EXECUTE tz_p('2020-01-01 00:00');
DEALLOCATE tz_p;
SELECT reason FROM gtm_check_statement($$SELECT v FROM by_tstz WHERE tenant_id = '2020-01-01'::date$$);
-- pinned: the same type on both sides
SELECT id, v FROM by_tstz WHERE tenant_id = '2020-01-01 00:00+00'::timestamptz;
SELECT id, v FROM by_date WHERE tenant_id = '2020-01-01'::date;
RESET TimeZone;
RESET ROLE;
SELECT id, v FROM by_tstz ORDER BY id;

-- round CY: a pin through a unique key of a table of no tenant, under a
-- nondeterministic collation.  The key's row gives 'acme', equal to
-- 'ACME' under nocase; the equivalence class of the join lists
-- text_pattern_ops too, whose equalimage answers yes for any collation.
-- Rejected, and nothing read, updated or deleted; custom and generic
-- plans.  Under a deterministic collation the same shape pins: one
-- tenant's rows ('t-1', not 'T-1').
CREATE TABLE nc_orgs (code text PRIMARY KEY, tid text COLLATE nocase);
INSERT INTO nc_orgs VALUES ('org-one', 'acme');
CREATE TABLE orgs (code text PRIMARY KEY, tid text);
INSERT INTO orgs VALUES ('org-one', 't-1');
GRANT SELECT ON nc_orgs, orgs TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SELECT b.tenant_id, b.v FROM by_nocase b JOIN nc_orgs o ON o.tid = b.tenant_id
  WHERE o.code = 'org-one';
\echo :LAST_ERROR_SQLSTATE
UPDATE by_nocase b SET v = v || ' +upd' FROM nc_orgs o
  WHERE o.tid = b.tenant_id AND o.code = 'org-one';
DELETE FROM by_nocase b USING nc_orgs o
  WHERE o.tid = b.tenant_id AND o.code = 'org-one' RETURNING b.*;
PREPARE nc_key(text) AS SELECT b.tenant_id, b.v FROM by_nocase b
  JOIN nc_orgs o ON o.tid = b.tenant_id WHERE o.code = $1;
SET plan_cache_mode = force_custom_plan;
EXECUTE nc_key('org-one');
SET plan_cache_mode = force_generic_plan;
EXECUTE nc_key('org-one');
RESET plan_cache_mode;
DEALLOCATE nc_key;
SELECT b.tenant_id, b.v FROM by_text b JOIN orgs o ON o.tid = b.tenant_id
  WHERE o.code = 'org-one';
RESET ROLE;
SELECT tenant_id, v FROM by_nocase ORDER BY v;

-- round CZ: another btree family of the same "=" says nothing about the
-- values the column holds.  An operator class a DBA made from a template
-- with the generic btequalimage (for numeric, used by no index; for
-- unbounded bpchar, as PostgreSQL 15's earlier minors answered) must not
-- make 1.0 and 1.00, or 't-1' and 't-1 ', one tenant: rejected, directly
-- and through a unique key, and nothing read, changed or deleted.
CREATE FUNCTION dba_equalimage(oid) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT true';
CREATE OPERATOR CLASS dba_numeric_ops FOR TYPE numeric USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 numeric_cmp(numeric, numeric), FUNCTION 4 btequalimage(oid);
CREATE OPERATOR CLASS dba_bpchar_ops FOR TYPE bpchar USING btree AS
  OPERATOR 1 <, OPERATOR 2 <=, OPERATOR 3 =, OPERATOR 4 >=, OPERATOR 5 >,
  FUNCTION 1 bpcharcmp(bpchar, bpchar), FUNCTION 4 dba_equalimage(oid);
CREATE TABLE bp_orgs (k int PRIMARY KEY, code bpchar);
INSERT INTO bp_orgs VALUES (1, 't-1');
CREATE TABLE num_orgs (k int PRIMARY KEY, code numeric);
INSERT INTO num_orgs VALUES (1, 1.0);
GRANT SELECT ON bp_orgs, num_orgs TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SELECT v FROM by_numeric WHERE tenant_id = 1.0;
DELETE FROM by_numeric WHERE tenant_id = 1.0;
SELECT b.v FROM by_numeric b JOIN num_orgs o ON o.code = b.tenant_id WHERE o.k = 1;
SELECT v FROM by_bpchar WHERE tenant_id = 't-1';
SELECT b.v FROM by_bpchar b JOIN bp_orgs o ON o.code = b.tenant_id WHERE o.k = 1;
UPDATE by_bpchar b SET v = v || '!' FROM bp_orgs o WHERE o.code = b.tenant_id AND o.k = 1;
RESET ROLE;
SELECT tenant_id, v FROM by_numeric ORDER BY v;
SELECT tenant_id || '|' AS tenant, octet_length(tenant_id::bytea) AS bytes, v FROM by_bpchar ORDER BY v;

-- round DA: a family whose equality is an operator of the DBA's, not the
-- type's own "=": a case-insensitive =~= in an operator class that copies
-- text_ops' equalimage function, with a unique index on the tenant column.
-- Neither a pin by that operator nor the index as an ON CONFLICT arbiter
-- makes 't-1' and 'T-1' one tenant: rejected, nothing read or changed.
CREATE FUNCTION ci_cmp(text, text) RETURNS int LANGUAGE plpgsql IMMUTABLE STRICT
  AS 'BEGIN RETURN bttextcmp(lower($1), lower($2)); END';
CREATE FUNCTION ci_eq(text, text) RETURNS bool LANGUAGE plpgsql IMMUTABLE STRICT LEAKPROOF
  AS 'BEGIN RETURN lower($1) = lower($2); END';
CREATE OPERATOR =~= (leftarg = text, rightarg = text, function = ci_eq,
  commutator = OPERATOR(enforce_identity.=~=), merges);
CREATE OPERATOR CLASS ci_ops FOR TYPE text USING btree AS
  OPERATOR 3 =~=, FUNCTION 1 ci_cmp(text, text), FUNCTION 4 btvarstrequalimage(oid);
CREATE TABLE by_ci_index (tenant_id text NOT NULL, id int NOT NULL, v text);
CREATE UNIQUE INDEX by_ci_index_key ON by_ci_index (tenant_id ci_ops, id);
INSERT INTO by_ci_index VALUES ('t-1', 1, 'mine'), ('T-1', 2, 'other tenant');
GRANT SELECT, INSERT, UPDATE ON by_ci_index TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SELECT tenant_id, v FROM by_ci_index WHERE tenant_id OPERATOR(enforce_identity.=~=) 't-1';
UPDATE by_ci_index SET v = 'changed'
  WHERE tenant_id OPERATOR(enforce_identity.=~=) 't-1' AND id = 2;
INSERT INTO by_ci_index VALUES ('t-1', 2, 'mine')
  ON CONFLICT (tenant_id, id) DO UPDATE SET v = by_ci_index.v || ' changed';
-- the type's own "=" on the same table pins
SELECT tenant_id, v FROM by_ci_index WHERE tenant_id = 't-1';
RESET ROLE;
SELECT tenant_id, id, v FROM by_ci_index ORDER BY id;

-- round DB: only PostgreSQL's own classes answer.  A DBA's DEFAULT
-- operator class for its own enum type, whose "=" is true of any two
-- values, becomes the equality of every "tenant_id = 'gold'": no pin.
CREATE TYPE dba_tier AS ENUM ('gold', 'silver');
CREATE FUNCTION dba_tier_eq(dba_tier, dba_tier) RETURNS bool LANGUAGE plpgsql
  IMMUTABLE STRICT LEAKPROOF AS 'BEGIN RETURN true; END';
CREATE FUNCTION dba_tier_cmp(dba_tier, dba_tier) RETURNS int LANGUAGE plpgsql
  IMMUTABLE STRICT AS 'BEGIN RETURN 0; END';
CREATE OPERATOR = (leftarg = dba_tier, rightarg = dba_tier, function = dba_tier_eq,
  commutator = =, merges, restrict = eqsel, join = eqjoinsel);
CREATE OPERATOR CLASS dba_tier_ops DEFAULT FOR TYPE dba_tier USING btree AS
  OPERATOR 3 =, FUNCTION 1 dba_tier_cmp(dba_tier, dba_tier), FUNCTION 4 btequalimage(oid);
CREATE TABLE by_dba_enum (tenant_id dba_tier NOT NULL, v text);
INSERT INTO by_dba_enum VALUES ('gold', 'gold row'), ('silver', 'silver row');
GRANT SELECT, UPDATE ON by_dba_enum TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SELECT v FROM by_dba_enum WHERE tenant_id = 'gold';
UPDATE by_dba_enum SET v = v || ' changed' WHERE tenant_id = 'gold';
PREPARE dba_enum(dba_tier) AS SELECT v FROM by_dba_enum WHERE tenant_id = $1;
SET plan_cache_mode = force_generic_plan;
EXECUTE dba_enum('gold');
RESET plan_cache_mode;
DEALLOCATE dba_enum;
-- an enum of PostgreSQL's own enum_ops still pins
SELECT v FROM by_enum WHERE tenant_id = 'gold';
RESET ROLE;
SELECT tenant_id, v FROM by_dba_enum ORDER BY v;

-- round DC: a unique-key pin proved on the join's equality (COLLATE "C")
-- is filtered at execution with the column's own "=" and collation; on a
-- nondeterministic column that filter lets 'ACME' through to the join,
-- where a condition of the query level still sees it: no pin.  The same
-- join on a column of a deterministic collation pins.
CREATE TABLE c_orgs (code text PRIMARY KEY, tid text COLLATE "C");
INSERT INTO c_orgs VALUES ('org-one', 'acme');
GRANT SELECT ON c_orgs TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
SELECT b.tenant_id, b.v FROM by_nocase b JOIN c_orgs o ON o.tid = b.tenant_id COLLATE "C"
  WHERE o.code = 'org-one';
-- the probe: its sub-select runs only if a row with v = 'upper' (ACME's
-- only) passes the scan; a NOTICE would tell that another tenant has it
CREATE FUNCTION pg_temp.seen() RETURNS text LANGUAGE plpgsql
  AS $$BEGIN RAISE NOTICE 'another tenant''s row reached the scan'; RETURN 'x'; END$$;
SELECT b.tenant_id, b.v FROM by_nocase b JOIN c_orgs o ON o.tid = b.tenant_id COLLATE "C"
  WHERE o.code = 'org-one' AND b.v = 'upper' AND b.v <> (SELECT pg_temp.seen());
SELECT b.tenant_id, b.v FROM by_text b JOIN orgs o ON o.tid = b.tenant_id COLLATE "C"
  WHERE o.code = 'org-one';
RESET ROLE;

-- nothing was changed by the rejected writes
SELECT tenant_id, v FROM by_citext ORDER BY v;
SELECT tenant_id, v FROM by_numeric ORDER BY v;

-- foreign-key actions into a tenant column of a nondeterministic collation
-- (round DJ): PostgreSQL compares the referencing columns under their own
-- collation, so a statement on t-1's deals cascaded into T-1's notes
-- (moved into t-1 by ON UPDATE CASCADE, deleted by ON DELETE CASCADE) and
-- set T-1's tasks' key NULL; refused, nothing changed.  PostgreSQL 18
-- refuses such a foreign key itself (a nondeterministic collation must then
-- be the same on both sides): expected output enforce_identity_1.out
CREATE TABLE fk_deals (tenant_id text NOT NULL, id int NOT NULL, amount int, PRIMARY KEY (tenant_id, id));
CREATE TABLE fk_notes (tenant_id text COLLATE nocase NOT NULL, deal_id int, body text,
  FOREIGN KEY (tenant_id, deal_id) REFERENCES fk_deals (tenant_id, id) ON UPDATE CASCADE ON DELETE CASCADE);
CREATE TABLE fk_tasks (tenant_id text COLLATE nocase NOT NULL, deal_id int, body text,
  FOREIGN KEY (tenant_id, deal_id) REFERENCES fk_deals (tenant_id, id) ON DELETE SET NULL (deal_id));
INSERT INTO fk_deals VALUES ('t-1', 1, 10), ('T-1', 1, 20), ('t-1', 2, 10), ('T-1', 2, 20), ('t-1', 3, 10), ('T-1', 3, 20);
INSERT INTO fk_notes VALUES ('t-1', 1, 't-1 note 1'), ('T-1', 1, 'T-1 note 1'), ('t-1', 2, 't-1 note 2'), ('T-1', 2, 'T-1 note 2');
INSERT INTO fk_tasks VALUES ('t-1', 3, 't-1 task 3'), ('T-1', 3, 'T-1 task 3');
GRANT SELECT, UPDATE, DELETE ON fk_deals, fk_notes, fk_tasks TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
UPDATE fk_deals SET id = 11 WHERE tenant_id = 't-1' AND id = 1;
DELETE FROM fk_deals WHERE tenant_id = 't-1' AND id = 2;
DELETE FROM fk_deals WHERE tenant_id = 't-1' AND id = 3;
-- a write that fires no action still runs
UPDATE fk_deals SET amount = 11 WHERE tenant_id = 't-1' AND id = 1;
RESET ROLE;
SELECT tenant_id, id, amount FROM fk_deals ORDER BY tenant_id COLLATE "C", id;
SELECT tenant_id, deal_id, body FROM fk_notes ORDER BY body;
SELECT tenant_id, deal_id, body FROM fk_tasks ORDER BY body;
-- ... and into a citext tenant column (round DN): citext's equality is no
-- identity either ('acme' = 'ACME')
CREATE TABLE ci_deals (tenant_id citext NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
CREATE TABLE ci_notes (tenant_id citext NOT NULL, deal_id int, body text,
  FOREIGN KEY (tenant_id, deal_id) REFERENCES ci_deals (tenant_id, id) ON UPDATE CASCADE ON DELETE CASCADE);
INSERT INTO ci_deals VALUES ('acme', 5), ('acme', 6);
INSERT INTO ci_notes VALUES ('acme', 5, 'acme note 5'), ('ACME', 5, 'ACME note 5'), ('ACME', 6, 'ACME note 6');
GRANT SELECT, UPDATE, DELETE ON ci_deals, ci_notes TO regress_enforce_identity;
SET ROLE regress_enforce_identity;
DELETE FROM ci_deals WHERE tenant_id::text = 'acme' AND id = 5;
UPDATE ci_deals SET id = 16 WHERE tenant_id::text = 'acme' AND id = 6;
RESET ROLE;
SELECT tenant_id, deal_id, body FROM ci_notes ORDER BY body;

-- ------------------------------------------------ a list of one value
-- "tenant_id = ANY (list)" whose elements are all one non-null constant is
-- that equality (a query builder's inArray of one value, IN ('t-1', 't-1')),
-- then judged like any equality: the identity rules above still apply
SET ROLE regress_enforce_identity;
SELECT v FROM by_text WHERE tenant_id = ANY (ARRAY['t-1']);
SELECT v FROM by_text WHERE tenant_id IN ('t-1', 't-1');
SELECT v FROM by_text WHERE tenant_id = ANY ('{t-1,t-1}'::text[]) AND v <> 'x';
SELECT v FROM by_int WHERE tenant_id = ANY ('{2}'::int[]);
SELECT v FROM by_varchar WHERE tenant_id = ANY (ARRAY['t-1'::varchar]);
SELECT t.v, d.v FROM by_text t JOIN by_domain d ON d.tenant_id = t.tenant_id
  WHERE t.tenant_id = ANY (ARRAY['t-1']);
SELECT * FROM gtm_check_statement($$SELECT v FROM by_uuid WHERE tenant_id IN ('11111111-1111-4111-8111-111111111111', '11111111-1111-4111-8111-111111111111')$$);
-- not one value: two tenants, a NULL, none, ALL, <>, a parameter's array
SELECT v FROM by_text WHERE tenant_id = ANY (ARRAY['t-1', 'T-1']);
\echo :LAST_ERROR_SQLSTATE
SELECT v FROM by_text WHERE tenant_id = ANY (ARRAY['t-1', NULL]);
SELECT v FROM maybe WHERE tenant_id = ANY (ARRAY[NULL::text]);
SELECT v FROM by_text WHERE tenant_id = ANY ('{}'::text[]);
SELECT v FROM by_text WHERE tenant_id = ALL (ARRAY['t-1']);
SELECT v FROM by_text WHERE tenant_id <> ANY (ARRAY['t-1']);
SELECT v FROM by_text WHERE tenant_id = ANY (ARRAY[['t-1']]);
PREPARE any_text(text[]) AS SELECT v FROM by_text WHERE tenant_id = ANY ($1);
EXECUTE any_text('{t-1}');
DEALLOCATE any_text;
-- equal but not identical: rejected as the equality is
SELECT v FROM by_numeric WHERE tenant_id = ANY ('{1.0}'::numeric[]);
SELECT v FROM by_numeric WHERE tenant_id = ANY ('{1.0,1.00}'::numeric[]);
SELECT v FROM by_citext WHERE tenant_id = ANY (ARRAY['acme'::citext]);
SELECT v FROM by_nocase WHERE tenant_id = ANY (ARRAY['acme']);
SELECT v FROM by_text WHERE tenant_id COLLATE nocase = ANY (ARRAY['t-1']);
-- writes: only the one tenant's rows change
UPDATE by_domain SET v = v || '+' WHERE tenant_id = ANY (ARRAY['t-2']);
DELETE FROM by_int WHERE tenant_id IN (1, 1);
UPDATE by_domain SET v = v || '!' WHERE tenant_id = ANY (ARRAY['t-1', 't-2']);
RESET ROLE;
SELECT tenant_id, v FROM by_domain ORDER BY v;
SELECT tenant_id, v FROM by_int ORDER BY v;

SET client_min_messages = warning;
DROP SCHEMA enforce_identity CASCADE;
DROP EXTENSION citext;
DROP OWNED BY regress_enforce_identity;
DROP ROLE regress_enforce_identity;
