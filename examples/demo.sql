-- examples/demo.sql -- a guided tour of gtm_clarity, run by examples/demo.sh
-- (psql -X -q -v ON_ERROR_STOP=1 < examples/demo.sql, as a superuser, in a
-- server that preloads the library).  Every statement is echoed before its
-- result; the lines starting with "==" say what comes next.
\pset footer off
\set SHOW_CONTEXT never
\getenv password PGPASSWORD
\set ECHO none

\echo '================================================================'
\echo '== 1. The operator (superuser postgres): install the extension and make two roles:'
\echo '==    app_migrator owns the tables and migrates, app_user serves requests.'
\echo '================================================================'
\set ECHO queries
CREATE EXTENSION gtm_clarity;
CREATE ROLE app_migrator LOGIN;
CREATE ROLE app_user LOGIN;
GRANT CREATE, USAGE ON SCHEMA public TO app_migrator;
SELECT gtm_grant_migrator('app_migrator') \gset
SELECT gtm_grant_app('app_user') \gset
GRANT EXECUTE ON FUNCTION gtm_update_tenant_settings(text, jsonb),
                          gtm_set_member_role(text, text, gtm_role) TO app_user;
GRANT SELECT (settings) ON tenants TO app_user;
\set ECHO none
-- pg_virtualenv's server asks for a password: the two roles get the one it
-- made for the superuser (not echoed: it is different at every run)
\if :{?password}
ALTER ROLE app_migrator PASSWORD :'password';
ALTER ROLE app_user PASSWORD :'password';
\endif

\echo
\echo '================================================================'
\echo '== 2. A migration, as app_migrator: two application tables become tenant-scoped'
\echo '==    (gtm_make_tenant_table adds tenant_id with its default and foreign key).'
\echo '================================================================'
\c - app_migrator
\set ECHO queries
CREATE TABLE deals (id int PRIMARY KEY, stage text, amount numeric);
CREATE TABLE contacts (id int PRIMARY KEY, deal_id int, email text);
SELECT gtm_make_tenant_table('deals', lead_keys => true) AS statement_run;
SELECT gtm_make_tenant_table('contacts', lead_keys => true) AS statement_run;
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, contacts TO app_user;
\set ECHO none

\echo
\echo '================================================================'
\echo '== 3. The application, connected as app_user (not exempt: every statement is checked).'
\echo '================================================================'
\c - app_user
\set ECHO queries
SELECT current_user, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user;
\set ECHO none

\echo
\echo '== Ada signs in first under the new Clerk organization org_2acme: the tenant is created, she is its admin.'
\set ECHO queries
SELECT * FROM gtm_sign_in('org_2acme', 'user_2ada', 'Acme Analytics, Inc.');
\set ECHO none
\echo '== Grace signs in under the same organization with the Clerk role org:member: she joins as viewer.'
\set ECHO queries
SELECT * FROM gtm_sign_in('org_2acme', 'user_2grace', 'Acme Analytics, Inc.', NULL, 'org:member');
\set ECHO none
\echo '== Ada signs in again: the same tenant, nothing written.'
\set ECHO queries
SELECT * FROM gtm_sign_in('org_2acme', 'user_2ada', 'Acme Analytics, Inc.');
\set ECHO none
\echo '== Another organization whose name slugifies the same gets a slug of its own.'
\set ECHO queries
SELECT * FROM gtm_sign_in('org_2other', 'user_2linus', 'ACME analytics inc');
\set ECHO none

\echo
\echo '== The tenants table is tenant-scoped too: a row is read by its id or a unique key (clerk_org_id, slug).'
\set ECHO queries
SELECT id, name, slug FROM tenants WHERE clerk_org_id = 'org_2acme';
SELECT id AS acme FROM tenants WHERE clerk_org_id = 'org_2acme' \gset
SELECT id AS other FROM tenants WHERE slug = 'acme-analytics-inc-2' \gset
\echo acme = :acme, other = :other
SELECT clerk_user_id, role FROM tenant_members WHERE tenant_id = :'acme' ORDER BY created_at;
\set ECHO none
\echo '== A tenant never loses its last admin.'
\set ON_ERROR_STOP 0
\set ECHO queries
SELECT gtm_set_member_role(:'acme', 'user_2ada', 'viewer');
\set ECHO none
\set ON_ERROR_STOP 1

\echo
\echo '== Settings: Acme overrides its time zone and turns on buying groups; the effective settings are the deep merge with the defaults.'
\set ECHO queries
SELECT s -> 'timezone' AS timezone, s -> 'features' AS features
  FROM gtm_update_tenant_settings(:'acme', '{"timezone": "America/New_York", "features": {"buyingGroups": true}}') s;
SELECT settings AS stored_overrides FROM tenants WHERE id = :'acme';
SELECT gtm_feature_enabled(:'acme', 'buyingGroups') AS buying_groups, gtm_tenant_setting(:'acme', '{features,writeback}') AS writeback;
\set ECHO none
\echo '== A broken setting is never stored.'
\set ON_ERROR_STOP 0
\set ECHO queries
SELECT gtm_update_tenant_settings(:'acme', '{"timzone": "Europe/Paris"}');
\set ECHO none
\set ON_ERROR_STOP 1

\echo
\echo '================================================================'
\echo '== 4. One request: the tenant is set for this transaction only, every statement is pinned to it.'
\echo '================================================================'
\set ECHO queries
BEGIN;
SELECT gtm_set_tenant(:'acme', true) IS NOT NULL AS tenant_set;
INSERT INTO deals (id, stage, amount) VALUES (1, 'new', 5000), (2, 'won', 12000);
INSERT INTO contacts (id, deal_id, email) VALUES (1, 2, 'ada@acme.example');
SELECT id, stage, amount FROM deals WHERE tenant_id = gtm_current_tenant() ORDER BY id;
SELECT d.id, d.stage, c.email FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
 WHERE d.tenant_id = gtm_current_tenant();
COMMIT;
\set ECHO none

\echo
\echo '================================================================'
\echo '== 5. A statement not pinned to one tenant is rejected before it reads anything:'
\echo '==    SQLSTATE 42501, a message naming the table, a detail saying why, a hint saying how to fix it.'
\echo '================================================================'
\set ON_ERROR_STOP 0
\set ECHO queries
BEGIN;
SELECT gtm_set_tenant(:'acme', true) IS NOT NULL AS tenant_set;
SELECT id, stage, amount FROM deals WHERE stage = 'won';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
BEGIN;
SELECT gtm_set_tenant(:'acme', true) IS NOT NULL AS tenant_set;
SELECT id, stage FROM deals WHERE tenant_id IN (:'acme', :'other');
\echo SQLSTATE :LAST_ERROR_SQLSTATE
ROLLBACK;
SELECT id, stage FROM deals WHERE tenant_id = :'acme' UNION ALL SELECT id, stage FROM deals WHERE tenant_id = :'other';
\echo SQLSTATE :LAST_ERROR_SQLSTATE
\set ECHO none
\set ON_ERROR_STOP 1

\echo
\echo '== The other tenant sees none of Acme''s rows.'
\set ECHO queries
BEGIN;
SELECT gtm_set_tenant(:'other', true) IS NOT NULL AS tenant_set;
SELECT count(*) AS deals_seen FROM deals WHERE tenant_id = gtm_current_tenant();
COMMIT;
\set ECHO none

\echo
\echo '================================================================'
\echo '== 6. The checker for CI: which references of a statement are pinned, without running it.'
\echo '================================================================'
\set ECHO queries
SELECT * FROM gtm_check_statement($$
  SELECT d.id, c.email FROM deals d JOIN contacts c ON c.deal_id = d.id WHERE d.tenant_id = $1
$$);
SELECT * FROM gtm_check_statement($$
  SELECT d.id, c.email FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id WHERE d.tenant_id = $1
$$);
\set ECHO none
