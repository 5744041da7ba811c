--
-- Organization updates and offboarding (issue 10 item 4): gtm_update_tenant,
-- gtm_delete_tenant, gtm_export_tenant.
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;

\i test/lib/expect_error.sql
\pset null '<null>'

INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
	('00000000-0000-4000-8000-00000000a001', 'org_life1', 'Life One', 'life-one'),
	('00000000-0000-4000-8000-00000000a002', 'org_life2', 'Life Two', 'life-two');
INSERT INTO tenant_members (tenant_id, clerk_user_id, role) VALUES
	('00000000-0000-4000-8000-00000000a001', 'user_l1', 'admin'),
	('00000000-0000-4000-8000-00000000a001', 'user_l2', 'viewer'),
	('00000000-0000-4000-8000-00000000a002', 'user_l1', 'admin');

-- gtm_update_tenant: NULL keeps a value; same errors as provisioning.
SELECT name, slug FROM gtm_update_tenant('00000000-0000-4000-8000-00000000a001', 'Life One Renamed');
SELECT name, slug FROM gtm_update_tenant('00000000-0000-4000-8000-00000000a001', NULL, 'life-1');
SELECT updated_at AS before FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a001' \gset
SELECT name, slug FROM gtm_update_tenant('00000000-0000-4000-8000-00000000a001', 'Life One Renamed', 'life-1');
SELECT updated_at = :'before' AS unchanged_row_not_written FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a001';
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant('00000000-0000-4000-8000-00000000a001', NULL, 'life-two')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant('00000000-0000-4000-8000-00000000a001', NULL, 'Life_Two')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant('00000000-0000-4000-8000-00000000a001', '', NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant('00000000-0000-4000-8000-00000000a001', E'a\u202Eb', NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant('no-such-tenant', 'X', NULL)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_update_tenant(NULL, 'X', NULL)$$);
SELECT id, name, slug FROM tenants WHERE clerk_org_id LIKE 'org_life%' ORDER BY id;

-- The application's tables: found by their tenant column, whatever their
-- foreign keys do (cascade, restrict, none), a partitioned table, a uuid
-- tenant column, an inheritance child.
CREATE SCHEMA app;
CREATE TABLE app.accounts (tenant_id text NOT NULL REFERENCES tenants (id), id int,
	name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE app.deals (tenant_id text NOT NULL, id int, account_id int, amount numeric,
	PRIMARY KEY (tenant_id, id),
	FOREIGN KEY (tenant_id, account_id) REFERENCES app.accounts ON DELETE RESTRICT);
CREATE TABLE app.deal_notes (tenant_id text NOT NULL, deal_id int, note text,
	FOREIGN KEY (tenant_id, deal_id) REFERENCES app.deals);	-- NO ACTION
CREATE TABLE app.events (tenant_id text NOT NULL, at int, what text) PARTITION BY RANGE (at);
CREATE TABLE app.events_1 PARTITION OF app.events FOR VALUES FROM (0) TO (100);
CREATE TABLE app.events_2 PARTITION OF app.events FOR VALUES FROM (100) TO (200);
CREATE TABLE app.blobs (tenant_id uuid NOT NULL, payload text);
CREATE TABLE app.audit (tenant_id text, msg text);
CREATE TABLE app.audit_archive (archived_at int) INHERITS (app.audit);
CREATE TABLE app.not_tenant (id int, tenant text);
-- a child with the tenant column under a parent without it; a tenant_id
-- column that cannot hold a tenant id (not a string or uuid)
CREATE TABLE app.base (n int);
CREATE TABLE app.child (tenant_id text NOT NULL) INHERITS (app.base);
CREATE TABLE app.counters (tenant_id integer, n int);

INSERT INTO app.accounts SELECT t, i, 'acct ' || i
	FROM unnest(ARRAY['00000000-0000-4000-8000-00000000a001', '00000000-0000-4000-8000-00000000a002']) t,
		 generate_series(1, 7) i;
INSERT INTO app.deals SELECT tenant_id, id, id, id * 100 FROM app.accounts;
INSERT INTO app.deal_notes SELECT tenant_id, id, 'note' FROM app.deals;
INSERT INTO app.deal_notes SELECT tenant_id, id, 'note 2' FROM app.deals;
INSERT INTO app.events SELECT tenant_id, id * 20, 'e' FROM app.deals;
INSERT INTO app.blobs SELECT t::uuid, 'b' FROM unnest(ARRAY['00000000-0000-4000-8000-00000000a001',
	'00000000-0000-4000-8000-00000000a002']) t, generate_series(1, 3);
INSERT INTO app.audit VALUES ('00000000-0000-4000-8000-00000000a001', 'a'), ('00000000-0000-4000-8000-00000000a002', 'a');
INSERT INTO app.audit_archive VALUES ('00000000-0000-4000-8000-00000000a001', 'old', 1);
INSERT INTO app.not_tenant VALUES (1, '00000000-0000-4000-8000-00000000a001');
INSERT INTO app.child VALUES (1, '00000000-0000-4000-8000-00000000a001'), (2, '00000000-0000-4000-8000-00000000a002');
INSERT INTO app.counters VALUES (1, 1);

-- the order: referencing tables first
SELECT table_name, tenant_column, column_type, delete_order FROM gtm_tenant_tables()
WHERE table_name::text LIKE 'app.%' OR table_name::text LIKE '%tenant_members' ORDER BY delete_order, 1::text;

-- gtm_export_tenant: one document per table, every row of the tenant.
SELECT table_name, part, jsonb_array_length(document->'rows') AS rows, document->>'table' AS doc_table
FROM gtm_export_tenant('00000000-0000-4000-8000-00000000a001')
WHERE table_name::text LIKE 'app.%' OR table_name::text LIKE '%tenant%' ORDER BY 1::text, 2;
-- the rows are the tenant's, all of them, and only them
SELECT bool_and(r->>'tenant_id' = '00000000-0000-4000-8000-00000000a001'
				OR (table_name::text LIKE '%tenants' AND r->>'id' = '00000000-0000-4000-8000-00000000a001')) AS only_its_rows,
	   count(*) AS exported_rows
FROM gtm_export_tenant('00000000-0000-4000-8000-00000000a001'), jsonb_array_elements(document->'rows') r
WHERE table_name::text LIKE 'app.%' OR table_name::text LIKE '%tenant%';
SELECT jsonb_path_query_array(document, '$.rows[*].amount') AS amounts
FROM gtm_export_tenant('00000000-0000-4000-8000-00000000a001') WHERE table_name = 'app.deals'::regclass;
-- streamed in parts of at most rows_per_document rows
SELECT table_name, part, jsonb_array_length(document->'rows') AS rows
FROM gtm_export_tenant('00000000-0000-4000-8000-00000000a001', 5)
WHERE table_name IN ('app.deal_notes'::regclass, 'app.deals'::regclass) ORDER BY 1::text, 2;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_export_tenant('no-such-tenant')$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_export_tenant('00000000-0000-4000-8000-00000000a001', 0)$$);

-- gtm_delete_tenant, interrupted: at most max_rows rows per call, the
-- tenant row last; each call is re-run until it reports nothing.
SELECT * FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a001', 3, 10) ORDER BY 1::text;
SELECT count(*) AS tenant_kept_meanwhile FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a001';
-- its members go in their turn (gtm_tenant_tables' order), not with the
-- tenant row: a former member signing in between two calls would be its
-- first member again (a limit, doc/clerk-lifecycle.md; round GE)
SELECT clerk_user_id, role FROM tenant_members WHERE tenant_id = '00000000-0000-4000-8000-00000000a001' ORDER BY 1;
SELECT * FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a001', 4, 30) ORDER BY 1::text;
SELECT * FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a001', 4) ORDER BY 1::text;
-- re-run after it finished: nothing left, no error
SELECT count(*) AS rerun_rows FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a001');
-- every row of the tenant is gone, the other tenant's rows are all there
SELECT 'accounts' AS t, tenant_id, count(*) FROM app.accounts GROUP BY 2
UNION ALL SELECT 'deals', tenant_id, count(*) FROM app.deals GROUP BY 2
UNION ALL SELECT 'deal_notes', tenant_id, count(*) FROM app.deal_notes GROUP BY 2
UNION ALL SELECT 'events', tenant_id, count(*) FROM app.events GROUP BY 2
UNION ALL SELECT 'child', tenant_id, count(*) FROM app.child GROUP BY 2
UNION ALL SELECT 'counters', tenant_id::text, count(*) FROM app.counters GROUP BY 2
UNION ALL SELECT 'blobs', tenant_id::text, count(*) FROM app.blobs GROUP BY 2
UNION ALL SELECT 'audit', tenant_id, count(*) FROM app.audit GROUP BY 2
UNION ALL SELECT 'tenant_members', tenant_id, count(*) FROM tenant_members WHERE clerk_user_id LIKE 'user_l%' GROUP BY 2
UNION ALL SELECT 'tenants', id, count(*) FROM tenants WHERE clerk_org_id LIKE 'org_life%' GROUP BY 2
ORDER BY 1, 2;
SELECT * FROM app.not_tenant;

-- a foreign key from a table without the tenant column blocks the delete,
-- and nothing is deleted
CREATE TABLE app.outside (acct_tenant text, acct_id int,
	FOREIGN KEY (acct_tenant, acct_id) REFERENCES app.accounts);
INSERT INTO app.outside VALUES ('00000000-0000-4000-8000-00000000a002', 1);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_delete_tenant('00000000-0000-4000-8000-00000000a002')$$);
SELECT count(*) AS accounts_kept FROM app.accounts WHERE tenant_id = '00000000-0000-4000-8000-00000000a002';
SELECT * FROM pg_temp.expect_error($$SELECT gtm_delete_tenant('00000000-0000-4000-8000-00000000a002', 0)$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_delete_tenant(NULL)$$);
-- READ COMMITTED only, as Clerk's events: nothing deleted otherwise
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_delete_tenant('00000000-0000-4000-8000-00000000a002')$$);
ROLLBACK;
SELECT count(*) AS accounts_kept FROM app.accounts WHERE tenant_id = '00000000-0000-4000-8000-00000000a002';

-- No table's code runs with the extension owner's rights: a table owner's
-- trigger fires as that owner when organization.deleted removes the tenant
-- (a foreign key's cascade), and gtm_delete_tenant / gtm_export_tenant run
-- with the caller's rights.
CREATE ROLE lifecycle_owner;
GRANT USAGE, CREATE ON SCHEMA app TO lifecycle_owner;
GRANT REFERENCES ON tenants TO lifecycle_owner;
SET ROLE lifecycle_owner;
CREATE TABLE app.owned (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE, n int);
CREATE FUNCTION app.escalate() RETURNS trigger LANGUAGE plpgsql AS
  $$BEGIN EXECUTE 'ALTER ROLE lifecycle_owner SUPERUSER'; RETURN NULL; END$$;
CREATE TRIGGER escalate AFTER DELETE ON app.owned FOR EACH STATEMENT EXECUTE FUNCTION app.escalate();
RESET ROLE;
SELECT gtm_apply_clerk_event('{"type": "organization.created", "timestamp": 100,
  "data": {"id": "org_lifeEsc", "name": "Esc", "slug": "life-esc", "updated_at": 100}}') ->> 'outcome' AS created;
\set VERBOSITY terse
SELECT gtm_apply_clerk_event('{"type": "organization.deleted", "timestamp": 200, "data": {"id": "org_lifeEsc"}}')
  -> 'changes' -> 0 ->> 'change' AS change;
\set VERBOSITY default
SELECT rolsuper FROM pg_roles WHERE rolname = 'lifecycle_owner';
SELECT count(*) AS still_there FROM tenants WHERE clerk_org_id = 'org_lifeEsc';
SELECT p.proname, p.prosecdef FROM pg_proc p
 WHERE p.proname IN ('gtm_delete_tenant', 'gtm_export_tenant') ORDER BY 1;
DROP TABLE app.owned;
DROP FUNCTION app.escalate();
DELETE FROM tenants WHERE clerk_org_id = 'org_lifeEsc';
REVOKE ALL ON SCHEMA app FROM lifecycle_owner;
REVOKE ALL ON tenants FROM lifecycle_owner;
DROP ROLE lifecycle_owner;

-- A site's own key from tenant_members to its table of teams, and an
-- audit trigger on tenant_members writing into a tenant table (round GF):
-- the teams go after the members (the key's order); the audit rows the
-- members' deletion writes after the audit table was emptied go in the
-- passes that delete every table once more until nothing is left (without
-- them the tenant row could not go: 23503).
INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
	('00000000-0000-4000-8000-00000000a003', 'org_life3', 'Life Three', 'life-three');
CREATE TABLE app.teams (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
CREATE TABLE app.member_audit (tenant_id text NOT NULL REFERENCES tenants (id), who text);
INSERT INTO app.teams VALUES ('00000000-0000-4000-8000-00000000a003', 1), ('00000000-0000-4000-8000-00000000a003', 2);
ALTER TABLE tenant_members ADD COLUMN team_id int,
	ADD FOREIGN KEY (tenant_id, team_id) REFERENCES app.teams ON DELETE CASCADE;
CREATE FUNCTION app.audit_member() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN INSERT INTO app.member_audit VALUES (OLD.tenant_id, OLD.clerk_user_id); RETURN OLD; END $$;
CREATE TRIGGER audit_member AFTER DELETE ON tenant_members FOR EACH ROW EXECUTE FUNCTION app.audit_member();
INSERT INTO tenant_members (tenant_id, clerk_user_id, role, team_id) VALUES
	('00000000-0000-4000-8000-00000000a003', 'user_l3a', 'admin', 1),
	('00000000-0000-4000-8000-00000000a003', 'user_l3b', 'viewer', 2);
INSERT INTO app.deals SELECT '00000000-0000-4000-8000-00000000a003', g, NULL, g FROM generate_series(1, 3) g;
SELECT * FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a003', 1);
SELECT (SELECT count(*) FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a003') AS tenants,
	   (SELECT count(*) FROM tenant_members WHERE tenant_id = '00000000-0000-4000-8000-00000000a003') AS members,
	   (SELECT count(*) FROM app.teams) AS teams, (SELECT count(*) FROM app.member_audit) AS audit,
	   (SELECT count(*) FROM app.deals WHERE tenant_id = '00000000-0000-4000-8000-00000000a003') AS deals;
-- a trigger that writes a row of the tenant for each one deleted: after 8
-- passes the call fails and deletes nothing, never reporting the tenant
-- gone with its rows there (round GH)
INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
	('00000000-0000-4000-8000-00000000a004', 'org_life4', 'Life Four', 'life-four');
CREATE TABLE app.sticky (tenant_id text NOT NULL, n int);
INSERT INTO app.sticky VALUES ('00000000-0000-4000-8000-00000000a004', 1);
CREATE FUNCTION app.stick() RETURNS trigger LANGUAGE plpgsql AS $$
	BEGIN INSERT INTO app.sticky VALUES (OLD.tenant_id, OLD.n + 1); RETURN OLD; END $$;
CREATE TRIGGER stick AFTER DELETE ON app.sticky FOR EACH ROW EXECUTE FUNCTION app.stick();
SELECT * FROM pg_temp.expect_error($$SELECT gtm_delete_tenant('00000000-0000-4000-8000-00000000a004')$$);
SELECT (SELECT count(*) FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a004') AS tenants,
	   (SELECT string_agg(n::text, ',') FROM app.sticky) AS sticky;
DROP TRIGGER stick ON app.sticky;
SELECT * FROM gtm_delete_tenant('00000000-0000-4000-8000-00000000a004');
DROP TABLE app.sticky;
DROP FUNCTION app.stick();
DROP TRIGGER audit_member ON tenant_members;
ALTER TABLE tenant_members DROP COLUMN team_id;
DROP TABLE app.teams, app.member_audit;
DROP FUNCTION app.audit_member();

-- Who may call them: not PUBLIC.
CREATE ROLE lifecycle_app;
SET ROLE lifecycle_app;
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_delete_tenant('00000000-0000-4000-8000-00000000a002')$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_export_tenant('00000000-0000-4000-8000-00000000a002')$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_update_tenant('00000000-0000-4000-8000-00000000a002', 'Hijack')$$);
RESET ROLE;
SELECT name FROM tenants WHERE id = '00000000-0000-4000-8000-00000000a002';
DROP ROLE lifecycle_app;
DROP SCHEMA app CASCADE;
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_life%';
