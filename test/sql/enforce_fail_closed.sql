-- enforce_fail_closed: a tenant table read through a plan node the check
-- cannot see into (here the Custom Scan of the test module
-- custom_scan_probe, standing for another extension's) is rejected, never
-- accepted.  Run as an ordinary role; the data is checked as superuser.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
RESET client_min_messages;
CREATE SCHEMA enforce_fail_closed;
SET search_path = enforce_fail_closed, public;
CREATE ROLE regress_enforce_fail_closed;
GRANT USAGE ON SCHEMA enforce_fail_closed TO regress_enforce_fail_closed;
\set T1 '''11111111-1111-4111-8111-111111111111'''
\set T2 '''22222222-2222-4222-8222-222222222222'''
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
CREATE TABLE probe_deals (tenant_id text NOT NULL, id int NOT NULL, stage text);
CREATE TABLE probe_countries (code text, name text);      -- no tenant column
INSERT INTO deals VALUES (:T1, 1, 'a1'), (:T2, 1, 'b1');
INSERT INTO probe_deals VALUES (:T1, 1, 'a1'), (:T2, 1, 'b1');
INSERT INTO probe_countries VALUES ('fr', 'France');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, probe_deals, probe_countries
  TO regress_enforce_fail_closed;
LOAD 'custom_scan_probe';
SET ROLE regress_enforce_fail_closed;

-- the plan reads probe_deals through the Custom Scan: rejected, even pinned
EXPLAIN (COSTS OFF) SELECT * FROM probe_deals WHERE tenant_id = :T1;
SELECT * FROM probe_deals WHERE tenant_id = :T1;
SELECT d.stage FROM deals d JOIN probe_deals p ON p.tenant_id = d.tenant_id AND p.id = d.id
 WHERE d.tenant_id = :T1;
UPDATE probe_deals SET stage = 'x' WHERE tenant_id = :T1;
DELETE FROM probe_deals WHERE tenant_id = :T1;
SELECT * FROM gtm_check_statement($$SELECT * FROM probe_deals WHERE tenant_id = 't'$$);
-- a table without tenant column behind the node: nothing to protect
SELECT name FROM probe_countries;
-- a tenant table read by a known scan next to the opaque node: its own pin
SELECT d.stage, c.name FROM deals d, probe_countries c WHERE d.tenant_id = :T1;
SELECT d.stage, c.name FROM deals d, probe_countries c;
-- an exempt role is not checked
RESET ROLE;
SELECT tenant_id, stage FROM probe_deals ORDER BY 1;

DROP SCHEMA enforce_fail_closed CASCADE;
DROP ROLE regress_enforce_fail_closed;
