-- enforce_tenant_row: a tenant's own row of tenants (its name, slug,
-- settings) is that tenant's data.  tenants is tenant-scoped with id as its
-- tenant column: pinned by id, or found by one of its unique keys
-- (clerk_org_id, slug); issue 16, item 11.  Run as an ordinary role; rows
-- read and changed are checked.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_tenant_row;
SET search_path = enforce_tenant_row, public;
\set A '''00000000-0000-4000-8000-0000000000e1'''
\set B '''00000000-0000-4000-8000-0000000000e2'''
CREATE ROLE regress_tenant_row;
GRANT USAGE ON SCHEMA enforce_tenant_row TO regress_tenant_row;
GRANT SELECT, UPDATE, DELETE ON tenants, tenant_members TO regress_tenant_row;
INSERT INTO tenants (id, clerk_org_id, name, slug, settings) VALUES
  (:A, 'org_rowA', 'Row A', 'row-a', '{"timezone": "Europe/Oslo"}'),
  (:B, 'org_rowB', 'Row B', 'row-b', '{"timezone": "Asia/Tokyo"}');
INSERT INTO tenant_members VALUES (:A, 'user_rowann', 'admin'), (:B, 'user_rowbob', 'admin');
CREATE TABLE deals (tenant_id text NOT NULL, id int, stage text);
INSERT INTO deals VALUES (:A, 1, 'a1'), (:B, 2, 'b2');
GRANT SELECT ON deals TO regress_tenant_row;
-- a partitioned tenant table (by id) and an inheritance child: the key's
-- pin reaches their partitions and children (round FJ F8: not on 18, whose
-- child equivalence members are kept apart)
CREATE TABLE pdeals (tenant_id text NOT NULL, id int NOT NULL, stage text) PARTITION BY HASH (id);
CREATE TABLE pdeals_0 PARTITION OF pdeals FOR VALUES WITH (MODULUS 2, REMAINDER 0);
CREATE TABLE pdeals_1 PARTITION OF pdeals FOR VALUES WITH (MODULUS 2, REMAINDER 1);
INSERT INTO pdeals SELECT t, g, t || g FROM (VALUES (:A), (:B)) v(t), generate_series(1, 4) g;
CREATE TABLE ideals (tenant_id text NOT NULL, id int, stage text);
CREATE TABLE ideals_child () INHERITS (ideals);
INSERT INTO ideals VALUES (:A, 1, 'ia'), (:B, 2, 'ib');
INSERT INTO ideals_child VALUES (:A, 3, 'ica'), (:B, 4, 'icb');
GRANT SELECT ON pdeals, ideals TO regress_tenant_row;
CREATE TABLE one (n int);
INSERT INTO one VALUES (1);
GRANT SELECT ON one TO regress_tenant_row;
-- shows every value it is given (not leakproof)
CREATE FUNCTION shows(text) RETURNS bool LANGUAGE plpgsql COST 0.0001
  AS $$ BEGIN RAISE NOTICE 'shows %', $1; RETURN true; END $$;
SET ROLE regress_tenant_row;

-- ---------------------------------------------------------------- accepted
-- by id, by each unique key, by the session tenant
SELECT name, slug, settings FROM tenants WHERE id = :A;
SELECT name FROM tenants WHERE clerk_org_id = 'org_rowB';
SELECT name FROM tenants t WHERE t.slug = 'row-a';
BEGIN;
SELECT gtm_set_tenant(:B, true) IS NOT NULL AS set;
SELECT name FROM tenants WHERE id = gtm_current_tenant();
COMMIT;
-- a prepared statement by key: custom and generic plans, each execution
-- its own tenant
PREPARE by_org(text) AS SELECT name FROM tenants WHERE clerk_org_id = $1;
EXECUTE by_org('org_rowA');
EXECUTE by_org('org_rowA');
EXECUTE by_org('org_rowA');
EXECUTE by_org('org_rowA');
EXECUTE by_org('org_rowA');
EXECUTE by_org('org_rowB');
EXECUTE by_org('org_rowB');
EXECUTE by_org('org_none');
DEALLOCATE by_org;
-- joined by id: the tenant row and its rows
SELECT t.name, d.stage FROM tenants t JOIN deals d ON d.tenant_id = t.id WHERE t.slug = 'row-b';
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.slug = 'row-a';
SELECT d.stage FROM deals d WHERE d.tenant_id IN (SELECT id FROM tenants WHERE slug = 'row-b');
SELECT d.tenant_id = :A AS tenant_a, count(*) FROM pdeals d JOIN tenants t ON t.id = d.tenant_id
  WHERE t.slug = 'row-a' GROUP BY 1;
SELECT d.tenant_id = :B AS tenant_b, string_agg(d.stage, ',' ORDER BY d.id) FROM ideals d
  JOIN tenants t ON t.id = d.tenant_id WHERE t.clerk_org_id = 'org_rowB' GROUP BY 1;
-- ... with a condition that is not leakproof on the partition: rejected,
-- no NOTICE
SELECT count(*) FROM pdeals d JOIN tenants t ON t.id = d.tenant_id
  WHERE t.slug = 'row-a' AND shows(d.stage);
-- an update of one tenant's row, found by its key
UPDATE tenants SET name = 'Row B renamed' WHERE slug = 'row-b';
SELECT * FROM gtm_check_statement($$SELECT name FROM tenants WHERE slug = 'row-a'$$);
-- a further condition on the tenant column only takes rows away from the
-- key's one row (round FG: "is this slug taken by another organization?"
-- was rejected)
SELECT count(*) AS taken_by_other FROM tenants WHERE slug = 'row-b' AND id <> :A;
SELECT count(*) AS taken_by_other FROM tenants WHERE slug = 'row-a' AND id <> :A;
SELECT name FROM tenants WHERE clerk_org_id = 'org_rowB' AND id IS NOT NULL;
SELECT name FROM tenants WHERE clerk_org_id = 'org_rowB' AND id NOT IN (:A);
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.slug = 'row-a' AND m.tenant_id <> :B;
PREPARE taken(text, text) AS SELECT count(*) AS taken FROM tenants WHERE slug = $1 AND id <> $2;
EXECUTE taken('row-b', :A);
EXECUTE taken('row-b', :A);
EXECUTE taken('row-b', :A);
EXECUTE taken('row-b', :A);
EXECUTE taken('row-b', :A);
EXECUTE taken('row-b', :B);
EXECUTE taken('row-a', :B);
DEALLOCATE taken;

-- ---------------------------------------------------------------- rejected
-- every tenant's row, or rows matched by a non-unique condition
SELECT name, slug, settings FROM tenants;
SELECT name FROM tenants WHERE name = 'Row A';
SELECT name FROM tenants WHERE slug IN ('row-a', 'row-b');
SELECT name FROM tenants WHERE slug = 'row-a' OR slug = 'row-b';
SELECT name FROM tenants WHERE slug LIKE 'row-%';
-- ... also with a condition on the tenant column that pins nothing
SELECT name FROM tenants WHERE id <> :A;
SELECT name FROM tenants WHERE name = 'Row A' AND id <> :B;
-- ... and a key's row whose tenant column a condition that is not
-- leakproof would see first, every tenant's (no NOTICE)
SELECT name FROM tenants WHERE slug = 'row-a' AND shows(id);
SELECT m.clerk_user_id FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.slug = 'row-a' AND shows(m.tenant_id);
SELECT count(*) FROM tenants;
-- a condition that is not leakproof would see every tenant's row first:
-- rejected before it runs (no NOTICE)
SELECT name FROM tenants WHERE slug = 'row-a' AND shows(name);
-- the key's row is one tenant, a literal another
SELECT t.name, (SELECT count(*) FROM deals WHERE tenant_id = :A) FROM tenants t
  WHERE t.slug = 'row-b';
-- through a key, every tenant's rows reach the join with the key's row:
-- nothing that is not leakproof may be computed from them before it, not
-- only conditions (no error message and no NOTICE shows tenant B's data)
SET join_collapse_limit = 1;
SELECT t2.name FROM tenants t2
  JOIN one ON one.n = CASE WHEN t2.slug <> 'row-a' THEN (t2.name || ' ' || t2.slug)::int ELSE 1 END
  JOIN tenants t ON t.id = t2.id
 WHERE t.slug = 'row-a';
SELECT d.stage FROM deals d
  JOIN one ON one.n = CASE WHEN d.tenant_id <> :A THEN d.stage::int ELSE 1 END
  JOIN tenants t ON t.id = d.tenant_id
 WHERE t.slug = 'row-a';
RESET join_collapse_limit;
SET enable_nestloop = off;
SET enable_mergejoin = off;
SELECT u.n FROM tenants t
  JOIN (SELECT id, CASE WHEN slug <> 'row-a' THEN (name || ' ' || slug)::int END AS n FROM tenants
        UNION ALL SELECT tenant_id, 0 FROM tenant_members) u ON u.id = t.id
 WHERE t.slug = 'row-a';
SELECT u.g FROM tenants t
  JOIN (SELECT id, shows(name) AS g FROM tenants
        UNION ALL SELECT tenant_id, shows(clerk_user_id) FROM tenant_members) u ON u.id = t.id
 WHERE t.slug = 'row-a';
SET enable_indexscan = off;
SET enable_bitmapscan = off;
SELECT ss.name, ss.n FROM (SELECT 1) d LEFT JOIN
  (tenants t JOIN (SELECT x.*, CASE WHEN x.slug <> 'row-a' THEN x.name::int END AS n FROM tenants x) ss
     ON ss.id = t.id AND t.slug = 'row-a') ON true;
-- the same shapes computing only columns are accepted, and read tenant A
SELECT u.id = :A AS tenant_a, count(*) FROM tenants t
  JOIN (SELECT id FROM tenants UNION ALL SELECT tenant_id FROM tenant_members) u ON u.id = t.id
 WHERE t.slug = 'row-a' GROUP BY 1;
RESET enable_nestloop;
RESET enable_mergejoin;
RESET enable_indexscan;
RESET enable_bitmapscan;
SELECT * FROM gtm_check_statement($$SELECT d.stage FROM deals d
  JOIN one ON one.n = CASE WHEN d.tenant_id <> 'x' THEN d.stage::int ELSE 1 END
  JOIN tenants t ON t.id = d.tenant_id WHERE t.slug = 'row-a'$$);
-- writes of every row, a non-unique condition, a change of the tenant column
UPDATE tenants SET name = 'Taken';
UPDATE tenants SET settings = '{}' WHERE name LIKE 'Row%';
UPDATE tenants SET id = '00000000-0000-4000-8000-0000000000e3' WHERE slug = 'row-b';
DELETE FROM tenants WHERE name = 'Row A';
DELETE FROM tenant_members;
-- utility statements
COPY tenants TO STDOUT;
TRUNCATE tenants;
LOCK TABLE tenants IN ACCESS EXCLUSIVE MODE;
BEGIN;
DECLARE every_tenant CURSOR FOR SELECT name FROM tenants;
ROLLBACK;
-- the checker says why
SELECT * FROM gtm_check_statement($$SELECT * FROM tenants WHERE name = 'x'$$);
SELECT * FROM gtm_check_statement($$SELECT * FROM tenants$$);
-- checking every tenant's settings is an operator's task (an exempt role)
SELECT count(*) FROM gtm_invalid_tenant_settings();
RESET ROLE;

-- ---------------------------------------------------------------- the data
SELECT id, clerk_org_id, name, slug, settings FROM tenants WHERE clerk_org_id LIKE 'org_row%'
  ORDER BY id;
SELECT tenant_id, clerk_user_id, role FROM tenant_members WHERE clerk_user_id LIKE 'user_row%'
  ORDER BY 1;

-- the extension's own provisioning still works for the application role
GRANT EXECUTE ON FUNCTION gtm_sign_in(text, text, text, text, text) TO regress_tenant_row;
SET ROLE regress_tenant_row;
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_rowC', 'user_rowcat', 'Row C', 'row-c', 'org:admin');
SELECT role, tenant_created, member_created FROM gtm_sign_in('org_rowA', 'user_rowdan', 'Row A', 'row-a', 'org:member');
RESET ROLE;
SELECT t.clerk_org_id, m.clerk_user_id, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
  WHERE t.clerk_org_id LIKE 'org_row%' ORDER BY 1, 2;

-- clean up
DELETE FROM tenants WHERE clerk_org_id LIKE 'org_row%';
DROP SCHEMA enforce_tenant_row CASCADE;
DROP OWNED BY regress_tenant_row;
DROP ROLE regress_tenant_row;
