--
-- gtm_apply_clerk_event (issue 10 item 1): Clerk webhook payloads applied
-- exactly, idempotently and in any order; unknown types ignored and
-- reported; malformed payloads 22023 with nothing written.
--
CREATE EXTENSION IF NOT EXISTS gtm_clarity;

\i test/lib/expect_error.sql
\pset null '<null>'

-- Payloads shaped as Clerk sends them (Svix message id added by the caller).
CREATE FUNCTION pg_temp.org_event(type text, org text, name text, slug text, updated bigint,
								  ts bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('object', 'event', 'type', type, 'instance_id', 'ins_test',
		'timestamp', coalesce(ts, updated), 'svix_id', 'msg_' || type || '_' || coalesce(ts, updated),
		'data', CASE WHEN type = 'organization.deleted'
					 THEN jsonb_build_object('object', 'organization', 'id', org, 'deleted', true)
					 ELSE jsonb_build_object('object', 'organization', 'id', org, 'name', name,
						'slug', slug, 'created_at', 1000, 'updated_at', updated, 'members_count', 1) END)
$$;
CREATE FUNCTION pg_temp.mem_event(type text, org text, usr text, role text, updated bigint,
								  org_name text DEFAULT 'Beta', org_updated bigint DEFAULT 900,
								  ts bigint DEFAULT NULL) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', coalesce(ts, updated),
		'data', jsonb_build_object('object', 'organization_membership',
			'id', 'orgmem_' || usr, 'role', role, 'created_at', 900, 'updated_at', updated,
			'organization', jsonb_build_object('object', 'organization', 'id', org,
				'name', org_name, 'slug', lower(org_name), 'created_at', 900, 'updated_at', org_updated),
			'public_user_data', jsonb_build_object('user_id', usr, 'identifier', usr || '@example.com')))
$$;
-- The result without the tenant ids (random), checked once below.
CREATE FUNCTION pg_temp.apply(e jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_set(r, '{changes}', coalesce((SELECT jsonb_agg(c - 'tenant_id')
		FROM jsonb_array_elements(r->'changes') c), '[]'))
	FROM (SELECT gtm_apply_clerk_event(e) AS r) s
$$;
CREATE VIEW pg_temp.state AS
	SELECT t.clerk_org_id, t.name, t.slug, m.clerk_user_id, m.role
	FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id
	WHERE t.clerk_org_id LIKE 'org_ev%' ORDER BY 1, 4;

-- The reported fault: the invited viewer's membership arrives before the
-- creator's.  The viewer stays a viewer (no first-member rule here), the
-- creator is admin: the roles Clerk sends.
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_viewer', 'org:member', 1002));
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_creator', 'org:admin', 1001));
SELECT * FROM pg_temp.state;
-- the changes name the tenant they changed
SELECT r->'changes'->0->>'tenant_id' = (SELECT id FROM tenants WHERE clerk_org_id = 'org_ev1') AS names_tenant
FROM gtm_apply_clerk_event(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_late', 'org:member', 1003)) r;
-- organization.created arrives last: older than the snapshot the
-- memberships carried?  No: same version, nothing to change.
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev1', 'Beta', 'beta', 900))->>'outcome' AS outcome;

-- Idempotent: the same event again changes nothing (not even updated_at).
SELECT updated_at AS before FROM tenant_members WHERE clerk_user_id = 'user_creator' \gset
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_creator', 'org:admin', 1001));
SELECT updated_at = :'before' AS untouched FROM tenant_members WHERE clerk_user_id = 'user_creator';

-- A role change, then a late, older update: the older one is stale.
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_ev1', 'user_viewer', 'org:admin', 1010))->'changes';
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_ev1', 'user_viewer', 'org:member', 1005))->>'outcome' AS outcome;
SELECT * FROM pg_temp.state;

-- The last-admin rule does not hold Clerk back: Clerk demotes the creator
-- and removes the other admin (in that order here), leaving no admin for a
-- while; a later event brings one.
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_ev1', 'user_creator', 'org:member', 1020))->'changes';
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.deleted', 'org_ev1', 'user_viewer', 'org:admin', 1010, ts => 1021))->'changes';
SELECT * FROM pg_temp.state;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_ev1', 'user_creator', 'org:admin', 1030))->'changes';
-- every other path still keeps the rule
SELECT state, message = format('tenant "%s" must keep at least one admin', (SELECT id FROM tenants WHERE clerk_org_id = 'org_ev1')) AS last_admin_error
FROM pg_temp.expect_error($$SELECT gtm_remove_member((SELECT id FROM tenants WHERE clerk_org_id = 'org_ev1'), 'user_creator')$$);
SELECT count(*) AS creator_kept FROM tenant_members WHERE clerk_user_id = 'user_creator';
SELECT current_setting('gtm.clerk_sync') AS clerk_sync_outside;

-- A removed member's late created event does not resurrect it; a newer one
-- (invited again) does.
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_viewer', 'org:member', 1002))->>'outcome' AS outcome;
SELECT count(*) AS viewer_rows FROM tenant_members WHERE clerk_user_id = 'user_viewer';
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_viewer', 'org:member', 1100))->'changes';

-- Rename and slug change (a slug our rule rejects is normalised), and an
-- older rename arriving late.
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev1', 'Beta Corp', 'Beta_Corp', 1200))->'changes';
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev1', 'Beta Old', 'beta-old', 1150))->>'outcome' AS outcome;
-- a membership carrying an older snapshot of the organization leaves it
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_third', 'org:member', 1201, 'Beta', 900))->'changes';
SELECT DISTINCT name, slug FROM pg_temp.state;

-- Deleted: the tenant and its rows go, and it stays deleted.
SELECT pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev1', NULL, NULL, NULL, ts => 1300))->'changes';
SELECT count(*) AS tenants_left FROM tenants WHERE clerk_org_id = 'org_ev1';
SELECT count(*) AS members_left FROM tenant_members m WHERE clerk_user_id IN ('user_creator', 'user_viewer', 'user_third');
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev1', 'Zombie', 'zombie', 9999));
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev1', 'user_zombie', 'org:admin', 9999))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev1', NULL, NULL, NULL, ts => 1300))->>'outcome' AS outcome;
SELECT count(*) AS still_deleted FROM tenants WHERE clerk_org_id = 'org_ev1';

-- Unknown event types are ignored and reported, whatever their data.
SELECT gtm_apply_clerk_event('{"type": "user.created", "data": {"id": "user_new"}, "timestamp": 1}');
SELECT gtm_apply_clerk_event('{"type": "organizationInvitation.accepted", "svix_id": "msg_1"}');
SELECT gtm_apply_clerk_event('{"type": "session.created", "data": 42}')->>'outcome' AS outcome;

-- Malformed payloads: 22023 naming what is wrong, nothing written.
SELECT count(*) AS tenants_before FROM tenants \gset
SELECT count(*) AS members_before FROM tenant_members \gset
SELECT count(*) AS states_before FROM clerk_sync_state \gset
SELECT e AS event, (pg_temp.expect_error(format('SELECT gtm_apply_clerk_event(%L)', e))).*
FROM unnest(ARRAY[
	NULL,
	'[]',
	'"organization.created"',
	'{}',
	'{"type": 1}',
	'{"type": "organization.created"}',
	'{"type": "organization.created", "data": [], "timestamp": 1}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": "m", "updated_at": 5}}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": "m", "updated_at": 5}, "timestamp": "5"}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": "m", "updated_at": 5}, "timestamp": -5}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": "m", "updated_at": 5.5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "user_m1", "name": "M", "slug": "m", "updated_at": 5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "org_m-1", "name": "M", "slug": "m", "updated_at": 5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "org_m1", "slug": "m", "updated_at": 5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "", "slug": "m", "updated_at": 5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": 7, "updated_at": 5}, "timestamp": 5}',
	'{"type": "organization.created", "data": {"id": "org_m1", "name": "M", "slug": "m"}, "timestamp": 5}',
	'{"type": "organization.deleted", "data": {"id": null}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"role": "org:admin", "updated_at": 5, "public_user_data": {"user_id": "user_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"role": "org:admin", "updated_at": 5, "organization": {"id": "org_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"role": "org:admin", "updated_at": 5, "organization": {"id": "org_m1"}, "public_user_data": {"user_id": "usr_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"updated_at": 5, "organization": {"id": "org_m1"}, "public_user_data": {"user_id": "user_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"role": "org:ghost", "updated_at": 5, "organization": {"id": "org_m1", "name": "M", "updated_at": 5}, "public_user_data": {"user_id": "user_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.created", "data": {"role": "org:admin", "updated_at": 5, "organization": {"id": "org_m1"}, "public_user_data": {"user_id": "user_m1"}}, "timestamp": 5}',
	'{"type": "organizationMembership.updated", "data": {"role": "org:admin", "organization": {"id": "org_m1", "name": "M", "updated_at": 5}, "public_user_data": {"user_id": "user_m1"}}, "timestamp": 5}'
]::jsonb[]) e;
SELECT (SELECT count(*) FROM tenants) = :tenants_before AS no_tenant_written,
       (SELECT count(*) FROM tenant_members) = :members_before AS no_member_written,
       (SELECT count(*) FROM clerk_sync_state) = :states_before AS no_state_written;

-- A membership of an organization never seen, without the organization's
-- name, is malformed; its deletion is recorded (a late created stays out).
SELECT pg_temp.apply('{"type": "organizationMembership.deleted", "timestamp": 50, "data": {"organization": {"id": "org_ev9"}, "public_user_data": {"user_id": "user_ev9"}}}')->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev9', 'user_ev9', 'org:admin', 40, 'Nine', 40))->'changes';
SELECT * FROM pg_temp.state WHERE clerk_org_id = 'org_ev9';

-- A slug held by another tenant: a free one derived from Clerk's.
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev10', 'Ten', 'nine', 60))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev10', 'Ten', 'nine', 61))->'changes' AS unchanged_slug;
-- A membership created and updated in the same millisecond (one
-- updated_at): the events' own timestamps order them, so either order of
-- delivery ends with the role of the later one
SELECT pg_temp.apply(pg_temp.org_event('organization.created', o, 'Tie', o, 50))->>'outcome' AS org
  FROM (VALUES ('org_tie1'), ('org_tie2')) v(o);
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_tie1', 'user_tie', 'org:member', 1000, 'Tie', 50, ts => 1000))->>'outcome' AS first,
       pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_tie1', 'user_tie', 'org:admin', 1000, 'Tie', 50, ts => 1001))->>'outcome' AS second;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_tie2', 'user_tie', 'org:admin', 1000, 'Tie', 50, ts => 1001))->>'outcome' AS first,
       pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_tie2', 'user_tie', 'org:member', 1000, 'Tie', 50, ts => 1000))->>'outcome' AS second;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_tie2', 'user_tie', 'org:admin', 1000, 'Tie', 50, ts => 1001))->>'outcome' AS redelivered;
SELECT t.clerk_org_id, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
 WHERE m.clerk_user_id = 'user_tie' ORDER BY 1;
-- A Clerk slug of the form <slug>-<digits> is Clerk's own, not one derived
-- here: changed to the free slug it names, it takes it
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev13', 'Team', 'team-2024', 60))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev13', 'Team', 'team', 61))->'changes'->0->>'slug' AS slug;
SELECT slug FROM tenants WHERE clerk_org_id = 'org_ev13';

-- An event is applied in READ COMMITTED: an older snapshot could miss what
-- a sign-in committed while the event waited for the organization's lock.
BEGIN ISOLATION LEVEL REPEATABLE READ;
SELECT state, message, hint FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(pg_temp.org_event('organization.updated', 'org_ev10', 'Ten RR', 'ten-rr', 70))$$);
COMMIT;
SELECT name FROM tenants WHERE clerk_org_id = 'org_ev10';

-- An organization renamed in Clerk to a name our rule refuses: its own
-- event fails (22023, retried until an operator acts), but a membership
-- event carrying that name is applied all the same, so a removal is not held up.
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev12', 'user_ev12', 'org:member', 100, 'Twelve', 100))->>'outcome' AS outcome;
SELECT state, message FROM pg_temp.expect_error(format($$SELECT gtm_apply_clerk_event(pg_temp.org_event('organization.updated', 'org_ev12', %L, 'twelve', 110))$$, 'Twelve' || chr(8238)));
SELECT (r->>'outcome') AS outcome, (SELECT string_agg(c->>'change', ',') FROM jsonb_array_elements(r->'changes') c) AS changes
  FROM pg_temp.apply(pg_temp.mem_event('organizationMembership.deleted', 'org_ev12', 'user_ev12', 'org:member', 120,
                                       'Twelve' || chr(8238), 110, ts => 120)) r;
SELECT count(*) AS ev12_members, (SELECT name FROM tenants WHERE clerk_org_id = 'org_ev12') AS name
  FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.clerk_org_id = 'org_ev12';

-- Who may call it: not PUBLIC.
CREATE ROLE clerk_app_role;
SET ROLE clerk_app_role;
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event('{"type": "user.created"}')$$);
-- nor can it turn the last-admin rule off itself
SELECT state, message FROM pg_temp.expect_error($$SET gtm.clerk_sync = on$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT set_config('gtm.clerk_sync', 'on', true)$$);
RESET ROLE;
-- the webhook handler's role, granted EXECUTE, applies events as the owner:
-- the guard steps aside for it too, and the rows change
GRANT EXECUTE ON FUNCTION gtm_apply_clerk_event(jsonb) TO clerk_app_role;
SET ROLE clerk_app_role;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.updated', 'org_ev9', 'user_ev9', 'org:admin', 60, 'Nine', 40))->'changes';
RESET ROLE;
SELECT m.role AS ev9_role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.clerk_org_id = 'org_ev9';
SET ROLE clerk_app_role;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.deleted', 'org_ev9', 'user_ev9', 'org:admin', 60, 'Nine', 40, ts => 70))->'changes';
SELECT has_table_privilege('tenant_members', 'SELECT') AS app_reads_members_directly;
RESET ROLE;
SELECT count(*) AS ev9_members FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.clerk_org_id = 'org_ev9';
-- a sign-in with a token issued before the organization was deleted does
-- not create it again (the tombstone of org_ev1, deleted above)
GRANT EXECUTE ON FUNCTION gtm_sign_in(text, text, text, text, text) TO clerk_app_role;
SET ROLE clerk_app_role;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_ev1', 'user_zombie', 'Back Again', 'back-again', 'org:member')$$);
RESET ROLE;
SELECT count(*) AS ev1_tenants FROM tenants WHERE clerk_org_id = 'org_ev1';
-- nor does a member Clerk removed (user_ev9, deleted at 70) join again by
-- signing in, nor anyone an organization whose tenant was kept for its data
SET ROLE clerk_app_role;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_ev9', 'user_ev9', 'Nine', NULL, 'org:member')$$);
RESET ROLE;
SELECT count(*) AS ev9_members_after_removed_sign_in FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
 WHERE t.clerk_org_id = 'org_ev9';
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev11', 'Eleven', 'eleven', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_kept_ref (tenant_id text REFERENCES tenants (id) ON DELETE SET NULL);
INSERT INTO clerk_kept_ref SELECT id FROM tenants WHERE clerk_org_id = 'org_ev11';
SET client_min_messages = error;
SELECT c->>'change' AS change FROM jsonb_array_elements(
  pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev11', NULL, NULL, NULL, ts => 90))->'changes') c
 WHERE c->>'change' = 'tenant_kept';
RESET client_min_messages;
SET ROLE clerk_app_role;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_ev11', 'user_late', 'Eleven', NULL, 'org:admin')$$);
RESET ROLE;
SELECT count(*) AS ev11_members, (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev11') AS ev11_tenant_kept
  FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id WHERE t.clerk_org_id = 'org_ev11';
DROP TABLE clerk_kept_ref;
-- a NO ACTION key (drizzle's .references() default) would make the
-- deletion fail, for ever at each of Clerk's retries: the tenant is kept,
-- its members go, the tombstone is written (a stale token cannot sign in)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev21', 'TwentyOne', 'twenty-one', 80))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev21', 'user_ev21', 'org:admin', 81))->>'outcome' AS outcome;
CREATE TABLE clerk_noaction_ref (tenant_id text NOT NULL REFERENCES tenants (id), body text);
INSERT INTO clerk_noaction_ref SELECT id, 'note' FROM tenants WHERE clerk_org_id = 'org_ev21';
SET client_min_messages = error;
SELECT r->>'outcome' AS outcome,
       (SELECT string_agg(c->>'change', ', ' ORDER BY c->>'change') FROM jsonb_array_elements(r->'changes') c) AS changes
  FROM pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev21', NULL, NULL, NULL, ts => 90)) r;
RESET client_min_messages;
SET ROLE clerk_app_role;
SELECT * FROM pg_temp.expect_error($$SELECT gtm_sign_in('org_ev21', 'user_ev21', 'TwentyOne', NULL, 'org:admin')$$);
RESET ROLE;
SELECT (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev21') AS ev21_tenant_kept,
       (SELECT count(*) FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
         WHERE t.clerk_org_id = 'org_ev21') AS ev21_members,
       (SELECT count(*) FROM clerk_noaction_ref) AS ev21_rows_kept;
DROP TABLE clerk_noaction_ref;
-- ... also a DEFERRABLE INITIALLY DEFERRED one, which PostgreSQL checks at
-- the commit: checked at once, so the tenant is kept rather than the whole
-- event failing at every commit
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev28', 'user_ev28', 'org:admin', 81, 'TwentyEight', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_deferred_ref (tenant_id text NOT NULL REFERENCES tenants (id) DEFERRABLE INITIALLY DEFERRED);
INSERT INTO clerk_deferred_ref SELECT id FROM tenants WHERE clerk_org_id = 'org_ev28';
BEGIN;
SET LOCAL client_min_messages = error;
SELECT r->>'outcome' AS outcome,
       (SELECT string_agg(c->>'change', ', ' ORDER BY c->>'change') FROM jsonb_array_elements(r->'changes') c) AS changes
  FROM pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev28', NULL, NULL, NULL, ts => 90)) r;
COMMIT;
SELECT (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev28') AS ev28_tenant_kept,
       (SELECT count(*) FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
         WHERE t.clerk_org_id = 'org_ev28') AS ev28_members,
       (SELECT count(*) FROM clerk_sync_state WHERE clerk_org_id = 'org_ev28' AND deleted) AS ev28_tombstones;
DROP TABLE clerk_deferred_ref;
-- ... but a constraint trigger named like such a key, with events pending
-- in the webhook's transaction, would fire with the extension owner's
-- rights if the key were checked by that name: the tenant is kept instead
-- (its members go), and the trigger fires at the caller's COMMIT, as the
-- caller
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev29', 'user_ev29', 'org:admin', 81, 'TwentyNine', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_named_ref (tenant_id text NOT NULL,
  CONSTRAINT clerk_boom FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE DEFERRABLE);
INSERT INTO clerk_named_ref SELECT id FROM tenants WHERE clerk_org_id = 'org_ev29';
CREATE TABLE clerk_webhook_log (msg text);
CREATE TABLE clerk_fired_as (who name);
GRANT INSERT ON clerk_webhook_log, clerk_fired_as TO clerk_app_role;
CREATE FUNCTION clerk_note_user() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO clerk_fired_as VALUES (current_user); RETURN NULL; END $$;
CREATE CONSTRAINT TRIGGER clerk_boom AFTER INSERT ON clerk_webhook_log
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION clerk_note_user();
SET ROLE clerk_app_role;
BEGIN;
INSERT INTO clerk_webhook_log VALUES ('msg_29');
SET LOCAL client_min_messages = error;
SELECT r->>'outcome' AS outcome,
       (SELECT string_agg(c->>'change', ', ' ORDER BY c->>'change') FROM jsonb_array_elements(r->'changes') c) AS changes,
       (SELECT c->>'reason' FROM jsonb_array_elements(r->'changes') c WHERE c->>'change' = 'tenant_kept') AS reason
  FROM gtm_apply_clerk_event(pg_temp.org_event('organization.deleted', 'org_ev29', NULL, NULL, NULL, ts => 90)) r;
COMMIT;
RESET ROLE;
SELECT who FROM clerk_fired_as;
SELECT (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev29') AS ev29_tenant_kept,
       (SELECT count(*) FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
         WHERE t.clerk_org_id = 'org_ev29') AS ev29_members;
DROP TABLE clerk_named_ref, clerk_webhook_log, clerk_fired_as;
DROP FUNCTION clerk_note_user();
-- ... likewise a deferrable UNIQUE constraint of that name (its recheck
-- would run index functions with those rights)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev30', 'Thirty', 'thirty', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_named_ref (tenant_id text NOT NULL,
  CONSTRAINT clerk_bang FOREIGN KEY (tenant_id) REFERENCES tenants (id) ON DELETE CASCADE DEFERRABLE);
CREATE TABLE clerk_uniq (v int, CONSTRAINT clerk_bang UNIQUE (v) DEFERRABLE INITIALLY DEFERRED);
SET client_min_messages = error;
SELECT (SELECT c->>'reason' FROM jsonb_array_elements(r->'changes') c WHERE c->>'change' = 'tenant_kept') AS reason
  FROM pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev30', NULL, NULL, NULL, ts => 90)) r;
RESET client_min_messages;
SELECT count(*) AS ev30_tenant_kept FROM tenants WHERE clerk_org_id = 'org_ev30';
DROP TABLE clerk_named_ref, clerk_uniq;
-- a cascading table whose triggers fire only on UPDATE (gtm_make_tenant_table's
-- updated_at trigger): a cascade fires none of them, the tenant goes
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev22', 'TwentyTwo', 'twenty-two', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_touched_ref (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
                                updated_at timestamptz);
CREATE TRIGGER clerk_touched_ref_touch BEFORE UPDATE ON clerk_touched_ref
  FOR EACH ROW EXECUTE FUNCTION gtm_touch_updated_at();
INSERT INTO clerk_touched_ref SELECT id, now() FROM tenants WHERE clerk_org_id = 'org_ev22';
SELECT r->>'outcome' AS outcome,
       (SELECT string_agg(c->>'change', ', ' ORDER BY c->>'change') FROM jsonb_array_elements(r->'changes') c) AS changes
  FROM pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev22', NULL, NULL, NULL, ts => 90)) r;
SELECT (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev22') AS ev22_tenants,
       (SELECT count(*) FROM clerk_touched_ref) AS ev22_rows;
DROP TABLE clerk_touched_ref;
-- the members go in any case, or nothing is applied: a NO ACTION key to
-- tenant_members whose rows reference the member, or a cascade from it into
-- a table with a DELETE trigger (which would run with the extension
-- owner's rights), refuses the removal with 55000 (Clerk retries); without
-- referencing rows the NO ACTION key is no obstacle
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev25', 'user_ev25a', 'org:admin', 81, 'TwentyFive', 80))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_ev25', 'user_ev25b', 'org:admin', 82, 'TwentyFive', 80))->>'outcome' AS outcome;
CREATE TABLE clerk_assignments (tenant_id text NOT NULL, clerk_user_id text COLLATE "C" NOT NULL,
  FOREIGN KEY (tenant_id, clerk_user_id) REFERENCES tenant_members (tenant_id, clerk_user_id));
INSERT INTO clerk_assignments SELECT id, 'user_ev25a' FROM tenants WHERE clerk_org_id = 'org_ev25';
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(pg_temp.mem_event('organizationMembership.deleted', 'org_ev25', 'user_ev25a', 'org:admin', 90, 'TwentyFive', 80))$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(pg_temp.org_event('organization.deleted', 'org_ev25', NULL, NULL, NULL, ts => 95))$$);
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.deleted', 'org_ev25', 'user_ev25b', 'org:admin', 91, 'TwentyFive', 80))->'changes'->0->>'change' AS change;
CREATE TABLE clerk_member_prefs (tenant_id text NOT NULL, clerk_user_id text COLLATE "C" NOT NULL,
  FOREIGN KEY (tenant_id, clerk_user_id) REFERENCES tenant_members ON DELETE CASCADE);
CREATE TABLE clerk_prefs_log (who name);
CREATE FUNCTION pg_temp.prefs_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO clerk_prefs_log VALUES (current_user); RETURN OLD; END $$;
CREATE TRIGGER prefs_deleted AFTER DELETE ON clerk_member_prefs FOR EACH ROW EXECUTE FUNCTION pg_temp.prefs_deleted();
DELETE FROM clerk_assignments;
INSERT INTO clerk_member_prefs SELECT id, 'user_ev25a' FROM tenants WHERE clerk_org_id = 'org_ev25';
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(pg_temp.org_event('organization.deleted', 'org_ev25', NULL, NULL, NULL, ts => 95))$$);
SELECT (SELECT count(*) FROM tenants WHERE clerk_org_id = 'org_ev25') AS ev25_tenants,
       (SELECT string_agg(m.clerk_user_id, ',') FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id
         WHERE t.clerk_org_id = 'org_ev25') AS ev25_members,
       (SELECT count(*) FROM clerk_prefs_log) AS triggers_run,
       (SELECT count(*) FROM clerk_sync_state WHERE clerk_org_id = 'org_ev25' AND deleted AND clerk_user_id = '') AS tombstones;
DROP TABLE clerk_member_prefs, clerk_prefs_log, clerk_assignments;
SELECT pg_temp.apply(pg_temp.org_event('organization.deleted', 'org_ev25', NULL, NULL, NULL, ts => 95))->>'outcome' AS outcome;
-- a table of another extension is no table of this one's
CREATE EXTENSION IF NOT EXISTS isn;
CREATE TABLE clerk_ext_notes (tenant_id text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE);
CREATE TRIGGER ext_notes_deleted AFTER DELETE ON clerk_ext_notes FOR EACH ROW EXECUTE FUNCTION pg_temp.prefs_deleted();
ALTER EXTENSION isn ADD TABLE clerk_ext_notes;
SELECT gtm_clerk_guarded('tenants') AS guarded;
ALTER EXTENSION isn DROP TABLE clerk_ext_notes;
DROP TABLE clerk_ext_notes;
DROP EXTENSION isn;
-- a newest version without a slug over a slug of the form base-N: the
-- name's base when it is free, in either order
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev26', 'Epsilon 2', NULL, 10))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev26', 'Epsilon', NULL, 20))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev27', 'Zeta', 'zeta-2024', 10))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev27', 'Zeta', NULL, 20))->'changes'->0->>'slug' AS slug;
-- an organization whose newest version has no slug: the tenant's is the one
-- derived from its name, in either delivery order (in order, the older
-- version's slug was kept; reversed, the name's)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev23', 'Delta One', 'delta-x', 10))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev23', 'Delta One', NULL, 20))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev24', 'Delta Two', NULL, 20))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_ev24', 'Delta Two', 'delta-y', 10))->>'outcome' AS outcome;
-- a rename without a slug follows the name; the same name again keeps it
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev24', 'Delta Three', NULL, 30))->'changes'->0->>'slug' AS slug;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_ev24', 'Delta Three', NULL, 40))->'changes' AS changes;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id IN ('org_ev23', 'org_ev24') ORDER BY 1;
-- a sign-in reaches its organization's tenant: one statement cannot read
-- one tenant's members and sign in to another (42501), nothing written
SET ROLE clerk_app_role;
SELECT state, message FROM pg_temp.expect_error($$SELECT s.role FROM (VALUES ('org_ev10'), ('org_ev2')) v(o),
  LATERAL gtm_sign_in(v.o, 'user_both', 'X', NULL, 'org:member') s$$);
RESET ROLE;
SELECT count(*) AS user_both_memberships FROM tenant_members WHERE clerk_user_id = 'user_both';
-- ... also from a trigger a foreign-key cascade fires (user code there is
-- checked like anywhere)
SET ROLE clerk_app_role;
CREATE TEMP TABLE cproj (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
CREATE TEMP TABLE ctask (tenant_id text NOT NULL, id int, proj_id int,
  FOREIGN KEY (tenant_id, proj_id) REFERENCES cproj ON DELETE CASCADE);
CREATE FUNCTION pg_temp.ctask_bd() RETURNS trigger LANGUAGE plpgsql
  AS $$ BEGIN PERFORM gtm_sign_in('org_ev10', 'user_cascade', 'Ten', NULL, 'org:member'); RETURN OLD; END $$;
CREATE TRIGGER ctask_bd BEFORE DELETE ON ctask FOR EACH ROW EXECUTE FUNCTION pg_temp.ctask_bd();
INSERT INTO cproj VALUES ('t-own', 1);
INSERT INTO ctask VALUES ('t-own', 1, 1);
SELECT state, message FROM pg_temp.expect_error($$DELETE FROM cproj WHERE tenant_id = 't-own' AND id = 1$$);
RESET ROLE;
DROP TABLE pg_temp.ctask, pg_temp.cproj;
DROP FUNCTION pg_temp.ctask_bd();
SELECT count(*) AS cascade_memberships FROM tenant_members WHERE clerk_user_id = 'user_cascade';
-- ... also when the planner runs it: an IMMUTABLE wrapper it folds
SET ROLE clerk_app_role;
CREATE FUNCTION pg_temp.fold_sign_in(u text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE r record;
BEGIN
  r := gtm_sign_in('org_ev10', u, 'Ten', NULL, 'org:admin');
  RETURN r.role;
END $$;
SELECT state, message FROM pg_temp.expect_error($$SELECT s.role, pg_temp.fold_sign_in('user_folded')
  FROM gtm_sign_in('org_ev2', 'user_plain', 'X', NULL, 'org:member') s$$);
RESET ROLE;
DROP FUNCTION pg_temp.fold_sign_in(text);
SELECT count(*) AS folded_memberships FROM tenant_members WHERE clerk_user_id IN ('user_folded', 'user_plain');

-- the member and tenant functions reach the tenant they read or change, as
-- the settings functions and a sign-in do: one statement cannot change two
-- tenants' members or names, or apply two organizations' events, or read
-- one tenant and change another (42501); nothing is written
SELECT pg_temp.apply(pg_temp.org_event('organization.created', o, n, lower(n), 10))->>'outcome' AS created
  FROM (VALUES ('org_rs1', 'Reach One'), ('org_rs2', 'Reach Two')) v(o, n);
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', o, u, 'org:member', 20, n, 10))->>'outcome' AS added
  FROM (VALUES ('org_rs1', 'user_rs1', 'Reach One'), ('org_rs2', 'user_rs2', 'Reach Two')) v(o, u, n);
SELECT id AS rs1_id FROM tenants WHERE clerk_org_id = 'org_rs1' \gset
SELECT id AS rs2_id FROM tenants WHERE clerk_org_id = 'org_rs2' \gset
GRANT EXECUTE ON FUNCTION gtm_set_member_role(text, text, gtm_role), gtm_remove_member(text, text),
  gtm_update_tenant(text, text, text), gtm_provision_tenant(text, text, text, jsonb) TO clerk_app_role;
SET ROLE clerk_app_role;
SELECT state, message FROM pg_temp.expect_error(format($$SELECT gtm_set_member_role(%L, 'user_rs1', 'manager'),
  gtm_set_member_role(%L, 'user_rs2', 'manager')$$, :'rs1_id', :'rs2_id'));
SELECT state, message FROM pg_temp.expect_error(format($$SELECT s.role, gtm_remove_member(%L, 'user_rs2')
  FROM gtm_sign_in('org_rs1', 'user_rs1', 'Reach One', NULL, 'org:member') s$$, :'rs2_id'));
SELECT state, message FROM pg_temp.expect_error(format($$SELECT gtm_update_tenant(%L, 'Renamed One'),
  gtm_update_tenant(%L, 'Renamed Two')$$, :'rs1_id', :'rs2_id'));
SELECT state, message FROM pg_temp.expect_error($$SELECT s.role, (gtm_provision_tenant('org_rs2', 'Reach Two')).name
  FROM gtm_sign_in('org_rs1', 'user_rs1', 'Reach One', NULL, 'org:member') s$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(pg_temp.mem_event('organizationMembership.updated', o, u, 'org:admin', 30, n, 10))
  FROM (VALUES ('org_rs1', 'user_rs1', 'Reach One'), ('org_rs2', 'user_rs2', 'Reach Two')) v(o, u, n)$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT s.role, gtm_apply_clerk_event(pg_temp.org_event('organization.updated', 'org_rs2', 'Renamed Two', 'renamed-two', 40))
  FROM gtm_sign_in('org_rs1', 'user_rs1', 'Reach One', NULL, 'org:member') s$$);
SELECT state, message FROM pg_temp.expect_error($$SELECT s.role, gtm_apply_clerk_event(pg_temp.org_event('organization.deleted', 'org_rs2', NULL, NULL, 50))
  FROM gtm_sign_in('org_rs1', 'user_rs1', 'Reach One', NULL, 'org:member') s$$);
-- each alone, and two calls for the same tenant, are accepted
SELECT (gtm_set_member_role(:'rs1_id', 'user_rs1', 'manager')).role AS one_tenant_role,
       (gtm_update_tenant(:'rs1_id', 'Reach One')).name AS one_tenant_name;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION gtm_set_member_role(text, text, gtm_role), gtm_remove_member(text, text),
  gtm_update_tenant(text, text, text), gtm_provision_tenant(text, text, text, jsonb) FROM clerk_app_role;
SELECT t.clerk_org_id, t.name, t.slug, m.clerk_user_id, m.role
  FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id
 WHERE t.clerk_org_id LIKE 'org_rs%' ORDER BY 1, 4;
-- ... and the tenant a sign-in returns may be set in the same statement
-- (one round trip), another tenant may not
SELECT id AS ev9_id FROM tenants WHERE clerk_org_id = 'org_ev9' \gset
GRANT EXECUTE ON FUNCTION gtm_set_tenant(text, boolean) TO clerk_app_role;
SET ROLE clerk_app_role;
-- nor does a request work in a tenant kept for its rows after Clerk deleted
-- its organization (round CG): no gtm_set_tenant() reaches them
RESET ROLE;
SELECT id AS ev21_id FROM tenants WHERE clerk_org_id = 'org_ev21' \gset
SET ROLE clerk_app_role;
BEGIN;
SELECT state, replace(message, :'ev21_id', '<id>') AS message, replace(hint, :'ev21_id', '<id>') AS hint
  FROM pg_temp.expect_error(format('SELECT gtm_set_tenant(%L)', :'ev21_id'));
ROLLBACK;
RESET ROLE;
-- round CG: one version of an organization (updated_at) seen by two events
-- (created and updated in the same millisecond) is the later event's, in
-- either order of delivery
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evh1', 'Renamed', 'h1-renamed', 1000, ts => 2001))->>'outcome' AS updated_first;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evh1', 'Original', 'h1-original', 1000, ts => 2000))->>'outcome' AS created_second;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evh2', 'Original', 'h2-original', 1000, ts => 2000))->>'outcome' AS created_first;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evh2', 'Renamed', 'h2-renamed', 1000, ts => 2001))->>'outcome' AS updated_second;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id IN ('org_evh1', 'org_evh2') ORDER BY 1;
-- a membership event whose organization has no slug key keeps the slug
-- (a null slug is Clerk's "no slug": derived from the name)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evz1', 'Zeta Co', 'zeta-custom', 1000))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evz1', 'user_z1', 'org:admin', 2000, 'Zeta Co', 2000) #- '{data,organization,slug}')->'changes';
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id = 'org_evz1';
-- ... and claims no timestamp (round CJ): the organization's own event of
-- the same version, delivered later, still applies its slug (a new slug; a
-- rename of an organization without one; a membership first of all)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evm3', 'Gamma', 'gamma', 100))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evm3', 'user_m3', 'org:member', 2005, 'Gamma', 2000) #- '{data,organization,slug}')->'changes';
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evm3', 'Gamma', 'gamma-new', 2000, ts => 2001))->>'outcome' AS slug_event_after_membership;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evm4', 'Alpha Four', NULL, 100))->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evm4', 'user_m4', 'org:member', 2005, 'Omega Four', 2000) #- '{data,organization,slug}')->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evm4', 'Omega Four', NULL, 2000, ts => 2001))->>'outcome' AS rename_event_after_membership;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evm1', 'user_m1', 'org:admin', 1005, 'Acme Inc', 1000) #- '{data,organization,slug}')->>'outcome' AS outcome;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evm1', 'Acme Inc', 'acme-custom', 1000, ts => 1002))->>'outcome' AS created_after_membership;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id IN ('org_evm1', 'org_evm3', 'org_evm4') ORDER BY 1;
-- (round CM) only a membership's copy is partial: the organization's own
-- event without a slug key claims its timestamp, and the later one wins;
-- the same event again is unchanged.  Its name wins; the slug is the
-- created event's, the one snapshot that had one (round FR: in the other
-- order the slug was original-six too)
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evm6', 'Renamed Six', 'x', 1000, ts => 2001) #- '{data,slug}')->>'outcome' AS updated_no_slug_first;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evm6', 'Original Six', 'original-six', 1000, ts => 2000))->>'outcome' AS created_second;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evm6', 'Renamed Six', 'x', 1000, ts => 2001) #- '{data,slug}')->>'outcome' AS updated_again;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id = 'org_evm6';
-- an organization's updated_at that is no time is 22023 whatever was
-- applied before (its snapshot older or not)
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(jsonb_set(pg_temp.mem_event('organizationMembership.created', 'org_evz1', 'user_z2', 'org:member', 2500, 'Zeta Co', 1), '{data,organization,updated_at}', '-5'))$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(jsonb_set(pg_temp.mem_event('organizationMembership.created', 'org_evz1', 'user_z2', 'org:member', 2500, 'Zeta Co', 1), '{data,organization,updated_at}', '2.5'))$$);
SELECT * FROM pg_temp.expect_error($$SELECT gtm_apply_clerk_event(jsonb_set(pg_temp.mem_event('organizationMembership.created', 'org_evz1', 'user_z2', 'org:member', 2500, 'Zeta Co', 1), '{data,organization,updated_at}', '"1e3"'))$$);
SELECT count(*) AS z2_members FROM pg_temp.state WHERE clerk_user_id = 'user_z2';
SET ROLE clerk_app_role;
-- gtm_delete_tenant of an organization Clerk still has (round AW F3): what
-- its events said goes with the tenant, so that after a sign-in creates it
-- again (its first user an admin), Clerk's redelivered events apply again
-- instead of being answered "unchanged"; a tombstone would stay.
RESET ROLE;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evdel', 'user_admindel', 'org:admin', 1001, 'Offboarded'))->>'outcome' AS admin_event;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evdel', 'user_viewdel', 'org:member', 1002, 'Offboarded'))->>'outcome' AS viewer_event;
SELECT count(*) AS tables_emptied FROM gtm_delete_tenant((SELECT id FROM tenants WHERE clerk_org_id = 'org_evdel'));
SELECT count(*) AS clerk_state_left FROM clerk_sync_state WHERE clerk_org_id = 'org_evdel';
SELECT role, tenant_created FROM gtm_sign_in('org_evdel', 'user_viewdel', 'Offboarded', NULL, 'org:member');
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evdel', 'user_viewdel', 'org:member', 1002, 'Offboarded'))->>'outcome' AS viewer_redelivered;
SELECT pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evdel', 'user_admindel', 'org:admin', 1001, 'Offboarded'))->>'outcome' AS admin_redelivered;
SELECT clerk_user_id, role FROM pg_temp.state WHERE clerk_org_id = 'org_evdel';
SET ROLE clerk_app_role;
BEGIN;
SELECT gtm_set_tenant(s.tenant_id) = s.tenant_id AS set_to_signed_in
  FROM gtm_sign_in('org_ev10', 'user_onetrip', 'Ten', NULL, 'org:member') s;
SELECT gtm_current_tenant() = s.tenant_id AS current_is_signed_in
  FROM gtm_sign_in('org_ev10', 'user_onetrip', 'Ten', NULL, 'org:member') s;
ROLLBACK;
BEGIN;
SELECT state, message FROM pg_temp.expect_error(format($f$SELECT gtm_set_tenant(%L)
  FROM gtm_sign_in('org_ev10', 'user_onetrip', 'Ten', NULL, 'org:member') s$f$, :'ev9_id'));
ROLLBACK;
RESET ROLE;
REVOKE EXECUTE ON FUNCTION gtm_set_tenant(text, boolean) FROM clerk_app_role;
REVOKE EXECUTE ON FUNCTION gtm_sign_in(text, text, text, text, text) FROM clerk_app_role;
REVOKE EXECUTE ON FUNCTION gtm_apply_clerk_event(jsonb) FROM clerk_app_role;
DROP ROLE clerk_app_role;

-- A Clerk slug over 90 characters that another organization holds (round
-- FN): the tenant's slug is derived from it cut to 90 characters (the cut
-- itself while free), and every later event keeps that slug, in whichever
-- order the events come: created then updated, or updated then created,
-- end alike (each in a world of its own: slugs of b's and of c's); more
-- events, and a sign-in's tenant, change nothing; Clerk's slug coming free
-- is taken.
CREATE FUNCTION pg_temp.slug_changes(r jsonb) RETURNS jsonb LANGUAGE sql AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('change', c->'change', 'name', c->'name',
		'slug_length', length(c->>'slug'), 'old_slug_length', length(c->>'old_slug'))), '[]')
	FROM jsonb_array_elements(r->'changes') c
$$;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongb0', 'Holder', repeat('b', 100), 1000))->>'outcome' AS holder_b,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongc0', 'Holder', repeat('c', 100), 1000))->>'outcome' AS holder_c;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongb1', 'Long', repeat('b', 100), 2001))->>'outcome' AS in_order_created;
SELECT pg_temp.slug_changes(pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongb1', 'Long', repeat('b', 100), 2002))) AS in_order_updated;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongc1', 'Long', repeat('c', 100), 2002))->>'outcome' AS reverse_updated;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongc1', 'Long', repeat('c', 100), 2001))->>'outcome' AS reverse_created;
SELECT pg_temp.slug_changes(pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongb1', 'Longer', repeat('b', 100), 2003))) AS renamed;
SELECT pg_temp.slug_changes(pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongb1', 'Longer', repeat('b', 100), 2004))) AS again;
SELECT role, tenant_created FROM gtm_sign_in('org_evlongb2', 'user_longb2', 'Long Two', repeat('b', 100), 'org:admin');
SELECT pg_temp.slug_changes(pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongb2', 'Long Two', repeat('b', 100), 3001))) AS after_sign_in;
SELECT clerk_org_id, name, length(slug) AS len, replace(replace(slug, repeat('b', 90), '<b90>'), repeat('c', 90), '<c90>') AS slug
  FROM tenants WHERE clerk_org_id LIKE 'org_evlong%' ORDER BY 1;
SELECT count(*) AS holder_b_deleted FROM gtm_delete_tenant((SELECT id FROM tenants WHERE clerk_org_id = 'org_evlongb0'));
SELECT pg_temp.slug_changes(pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongb1', 'Longer', repeat('b', 100), 2005))) AS slug_free;
SELECT length(slug) AS len FROM tenants WHERE clerk_org_id = 'org_evlongb1';
-- A Clerk slug of the form base-N that the tenant had as Clerk's own, then
-- one that another tenant holds (round FP): the tenant takes the first
-- slug derived from it that is free (its own counts as free), in either
-- order; it kept base-N in one order only.  Short slugs and over 90
-- characters, each order in a world of its own.
SELECT gtm_provision_tenant('org_evlongh1', 'Holder', 'acmesfx') IS NOT NULL AS h1,
       gtm_provision_tenant('org_evlongh2', 'Holder', 'betasfx') IS NOT NULL AS h2,
       gtm_provision_tenant('org_evlongh3', 'Holder', ('fpworldd' || repeat('d', 82)) || '-zzzz') IS NOT NULL AS h3,
       gtm_provision_tenant('org_evlongh4', 'Holder', ('fpworlde' || repeat('e', 82)) || '-zzzz') IS NOT NULL AS h4;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs1', 'Acme', 'acmesfx-7', 1001))->>'outcome' AS short_in_order_1,
       pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs1', 'Acme', 'acmesfx', 1002))->>'outcome' AS short_in_order_2;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs2', 'Beta', 'betasfx', 1002))->>'outcome' AS short_reversed_1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs2', 'Beta', 'betasfx-7', 1001))->>'outcome' AS short_reversed_2;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs3', 'D', ('fpworldd' || repeat('d', 82)) || '-2024', 1001))->>'outcome' AS long_in_order_1,
       pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs3', 'D', ('fpworldd' || repeat('d', 82)) || '-zzzz', 1002))->>'outcome' AS long_in_order_2;
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs4', 'E', ('fpworlde' || repeat('e', 82)) || '-zzzz', 1002))->>'outcome' AS long_reversed_1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs4', 'E', ('fpworlde' || repeat('e', 82)) || '-2024', 1001))->>'outcome' AS long_reversed_2;
SELECT clerk_org_id, replace(replace(slug, ('fpworldd' || repeat('d', 82)), '<d>'), ('fpworlde' || repeat('e', 82)), '<e>') AS slug
  FROM tenants WHERE clerk_org_id LIKE 'org_evlongs%' ORDER BY 1;
-- ... also when the derived slugs taken have a gap (round FQ: others hold
-- gapsfx, gapsfx-2 and gapsfx-4 to -7; acme-3 was kept in one order, and
-- the search, which does not look at every suffix, gave gapsfx-8 in the
-- other)
SELECT count(gtm_provision_tenant('org_evlonggap' || n, 'Holder', 'gapsfx' || CASE WHEN n = 1 THEN '' ELSE '-' || n END)) AS gap_holders
  FROM unnest(ARRAY[1, 2, 4, 5, 6, 7]) n;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs5', 'Gap', 'gapsfx-3', 1001))->>'outcome' AS gap_in_order_1,
       pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs5', 'Gap', 'gapsfx', 1002))->>'outcome' AS gap_in_order_2;
SELECT slug AS gap_in_order FROM tenants WHERE clerk_org_id = 'org_evlongs5';
SELECT count(*) AS gap_world_reset FROM tenants t CROSS JOIN LATERAL gtm_delete_tenant(t.id) d WHERE t.clerk_org_id = 'org_evlongs5';
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evlongs6', 'Gap', 'gapsfx', 1002))->>'outcome' AS gap_reversed_1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evlongs6', 'Gap', 'gapsfx-3', 1001))->>'outcome' AS gap_reversed_2;
SELECT slug AS gap_reversed FROM tenants WHERE clerk_org_id = 'org_evlongs6';
-- (gone again, for the tests after this one)
SELECT count(DISTINCT t.id) AS long_slug_tenants_deleted
  FROM tenants t CROSS JOIN LATERAL gtm_delete_tenant(t.id) d WHERE t.clerk_org_id LIKE 'org_evlong%';
SELECT count(*) AS long_slug_state_left FROM clerk_sync_state WHERE clerk_org_id LIKE 'org_evlong%';
-- A membership's copy of its organization without a slug key, newer than
-- the organization's own event (round FR): the slug is Clerk's as of the
-- newest snapshot that had one, in either order of delivery.  (a) Clerk's
-- slug frslugone / frslugtwo: the copy first ended on the slug derived from
-- the name, the organization's event being older; (b) Clerk has no slug
-- (null) and the copy renames: the slug follows the new name (in order, it
-- kept the slug derived from the old one).  Each order in a world of its own.
CREATE FUNCTION pg_temp.mem_noslug(org text, usr text, org_name text, org_updated bigint)
RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('object', 'event', 'type', 'organizationMembership.created',
		'timestamp', org_updated + 5,
		'data', jsonb_build_object('object', 'organization_membership', 'id', 'orgmem_' || usr,
			'role', 'org:admin', 'created_at', 900, 'updated_at', org_updated + 5,
			'organization', jsonb_build_object('object', 'organization', 'id', org,
				'name', org_name, 'created_at', 900, 'updated_at', org_updated),
			'public_user_data', jsonb_build_object('user_id', usr)))
$$;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr1', 'Fr One', 'frslugone', 1000))->>'outcome' AS a_in_order_1,
       pg_temp.apply(pg_temp.mem_noslug('org_evfr1', 'user_fr1', 'Fr One', 2000))->>'outcome' AS a_in_order_2;
SELECT pg_temp.apply(pg_temp.mem_noslug('org_evfr2', 'user_fr2', 'Fr Two', 2000))->'changes' AS a_reversed_1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr2', 'Fr Two', 'frslugtwo', 1000))->'changes' AS a_reversed_2;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr3', 'Frgamma', NULL, 1000))->>'outcome' AS b_in_order_1,
       pg_temp.apply(pg_temp.mem_noslug('org_evfr3', 'user_fr3', 'Frdelta', 2000))->'changes' AS b_in_order_2;
SELECT pg_temp.apply(pg_temp.mem_noslug('org_evfr4', 'user_fr4', 'Frbeta', 2000))->>'outcome' AS b_reversed_1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr4', 'Fralpha', NULL, 1000))->>'outcome' AS b_reversed_2;
-- a later copy, and the organization's events again, change nothing
SELECT pg_temp.apply(pg_temp.mem_noslug('org_evfr2', 'user_fr2', 'Fr Two', 2001))->'changes' AS later_copy,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr2', 'Fr Two', 'frslugtwo', 1000))->>'outcome' AS redelivered,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr4', 'Fralpha', NULL, 1000))->>'outcome' AS redelivered_null;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id LIKE 'org_evfr%' ORDER BY 1;
SELECT clerk_org_id, version, slug_version, clerk_slug FROM clerk_sync_state
 WHERE clerk_org_id LIKE 'org_evfr%' AND clerk_user_id = '' ORDER BY 1;
-- A slug that comes free goes to the organization whose Clerk slug it is
-- at its next event, a redelivery of its last one or a stale one included
-- (round FR: in Clerk, org 5 renamed itself away from frslugacme, then org
-- 6 took it; delivered with the rename last, org 6 kept frslugacme-2
-- through every redelivery of its own event)
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr5', 'Acme', 'frslugacme', 1000))->>'outcome' AS r1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr6', 'Acme', 'frslugacme', 3000))->'changes'->0->>'slug' AS r2,
       pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evfr5', 'Acme Old', 'frslugold', 2000))->'changes'->0->>'slug' AS r3;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr6', 'Acme', 'frslugacme', 3000))->'changes' AS redelivered;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr6', 'Acme', 'frslugacme', 3000))->>'outcome' AS again,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr5', 'Acme', 'frslugacme', 1000))->>'outcome' AS stale_of_the_other;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id IN ('org_evfr5', 'org_evfr6') ORDER BY 1;
-- ... also a Clerk slug longer than the derived slugs' base (90
-- characters): org 8 got the base itself, then the whole slug once org 7
-- renamed itself away from it (which slug an event applied is recorded:
-- applied_slug)
SELECT 'frlong' || repeat('-x', 47) AS long_slug \gset
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr7', 'Long', :'long_slug', 1000))->>'outcome' AS l1,
       length(pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr8', 'Long', :'long_slug', 3000))->'changes'->0->>'slug') AS l2_base_length,
       pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evfr7', 'Long Old', 'frlongold', 2000))->'changes'->0->>'slug' AS l3;
SELECT c->>'change' AS change, length(c->>'old_slug') AS old_length, c->>'slug' = :'long_slug' AS clerks
  FROM jsonb_array_elements(pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr8', 'Long', :'long_slug', 3000))->'changes') c;
SELECT clerk_org_id, slug = :'long_slug' AS clerks, length(slug) FROM tenants WHERE clerk_org_id IN ('org_evfr7', 'org_evfr8') ORDER BY 1;
-- ... and a slug an operator set stays, whatever its form: one of the
-- form base-N of Clerk's, or the base of a Clerk slug over 90 characters
-- (round FV: both were taken for derived slugs and undone)
SELECT 'frnine' || repeat('-y', 47) AS nine_slug \gset
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr9', 'Nine', :'nine_slug', 1000))->>'outcome' AS n1,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr10', 'Ten', 'frslugten', 1000))->>'outcome' AS n2;
SELECT (gtm_update_tenant(id, slug => left(:'nine_slug', 90))).slug = left(:'nine_slug', 90) AS nine_by_hand
  FROM tenants WHERE clerk_org_id = 'org_evfr9';
SELECT (gtm_update_tenant(id, slug => 'frslugten-7')).slug AS ten_by_hand FROM tenants WHERE clerk_org_id = 'org_evfr10';
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr9', 'Nine', :'nine_slug', 1000))->'changes' AS nine_redelivered,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr10', 'Ten', 'frslugten', 1000))->'changes' AS ten_redelivered,
       pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evfr10', 'user_fr10', 'org:member', 1100, 'Ten', 999))->'changes' AS ten_stale_copy;
SELECT clerk_org_id, length(slug), slug = left(:'nine_slug', 90) AS nine_base, slug = 'frslugten-7' AS ten_hand
  FROM tenants WHERE clerk_org_id IN ('org_evfr9', 'org_evfr10') ORDER BY 1;
-- ... but a slug an operator set (gtm_update_tenant) stays through
-- redeliveries and copies of versions already applied; only a newer
-- snapshot replaces it (round FS: they undid it)
SELECT (gtm_update_tenant(id, slug => 'frslughand')).slug AS by_hand FROM tenants WHERE clerk_org_id = 'org_evfr6';
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfr6', 'Acme', 'frslugacme', 3000))->>'outcome' AS redelivered_after_hand,
       pg_temp.apply(pg_temp.mem_noslug('org_evfr6', 'user_fr6', 'Acme', 3000))->'changes' AS copy_after_hand,
       pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evfr6', 'user_fr7', 'org:member', 3100, 'Acme', 2999))->'changes' AS copy_with_slug_after_hand;
SELECT (gtm_update_tenant(id, name => 'Hand Named', slug => 'frslughand2')).slug AS by_hand_null FROM tenants WHERE clerk_org_id = 'org_evfr4';
SELECT pg_temp.apply(pg_temp.mem_noslug('org_evfr4', 'user_fr8', 'Frbeta', 2000))->'changes' AS null_slug_copy_after_hand;
SELECT clerk_org_id, name, slug FROM tenants WHERE clerk_org_id IN ('org_evfr4', 'org_evfr6') ORDER BY 1;
-- A slug an operator changes is the operator's, even back to the one the
-- events applied: a redelivery leaves it, a newer snapshot replaces it
-- (round FW: it was taken for the events' and replaced by Clerk's at a
-- redelivery once that came free); the slug sent back unchanged (a form
-- that always sends it) changes nothing
SELECT (gtm_provision_tenant('org_evfwh', 'Fw Holder', 'fwslug')).slug AS holder;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw1', 'Fw One', 'fwslug', 1000))->'changes'->0->>'slug' AS derived;
SELECT (gtm_update_tenant(id, name => 'Fw One', slug => 'fwslug-2')).slug AS sent_back,
       (SELECT applied_slug FROM clerk_sync_state WHERE clerk_org_id = 'org_evfw1' AND clerk_user_id = '') AS still_the_events
  FROM tenants WHERE clerk_org_id = 'org_evfw1';
SELECT (gtm_update_tenant(id, slug => 'fwslug-hand')).slug AS changed FROM tenants WHERE clerk_org_id = 'org_evfw1';
SELECT (gtm_update_tenant(id, slug => 'fwslug-2')).slug AS changed_back FROM tenants WHERE clerk_org_id = 'org_evfw1';
SELECT (gtm_update_tenant(id, slug => 'fwholder')).slug AS freed FROM tenants WHERE clerk_org_id = 'org_evfwh';
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw1', 'Fw One', 'fwslug', 1000))->>'outcome' AS redelivered,
       pg_temp.apply(pg_temp.mem_event('organizationMembership.created', 'org_evfw1', 'user_fw1', 'org:member', 1100, 'Fw One', 999))->'changes' AS stale_copy;
SELECT slug AS kept, (SELECT applied_slug FROM clerk_sync_state WHERE clerk_org_id = 'org_evfw1' AND clerk_user_id = '') AS applied
  FROM tenants WHERE clerk_org_id = 'org_evfw1';
SELECT pg_temp.apply(pg_temp.org_event('organization.updated', 'org_evfw1', 'Fw One', 'fwslug', 2000))->'changes'->0->>'slug' AS newer_snapshot;
-- A tenant created again, after a gtm_delete_tenant by a role that may
-- not delete what the events said (WARNING, kept), records its own slug:
-- from a sign-in it is Clerk's (a redelivery gives it Clerk's slug once
-- that comes free), from gtm_provision_tenant the operator's (round FW:
-- the deleted tenant's stayed recorded, and decided both wrongly)
CREATE ROLE fw_deleter;
GRANT EXECUTE ON FUNCTION gtm_delete_tenant(text, integer, bigint), gtm_tenant_tables() TO fw_deleter;
GRANT SET ON PARAMETER gtm.clerk_sync TO fw_deleter;
SELECT DISTINCT format('GRANT USAGE ON SCHEMA %I TO fw_deleter', c.relnamespace::regnamespace)
  FROM gtm_tenant_tables() t JOIN pg_class c ON c.oid = t.table_name \gexec
SELECT format('GRANT SELECT, DELETE ON %s TO fw_deleter', table_name) FROM gtm_tenant_tables() \gexec
GRANT SELECT, DELETE ON tenants TO fw_deleter;
SELECT (gtm_provision_tenant('org_evfwh2', 'Fw Holder Two', 'fwtwo')).slug AS holder_two;
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw2', 'Fw Two', 'fwtwo', 1000))->'changes'->0->>'slug' AS two,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw3', 'Fw Three', 'fwtwo', 1000))->'changes'->0->>'slug' AS three,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw4', 'Fw Four', 'fwfour', 1000))->'changes'->0->>'slug' AS four;
SET ROLE fw_deleter;
SELECT count(*) AS two_deleted FROM gtm_delete_tenant((SELECT id FROM tenants WHERE clerk_org_id = 'org_evfw2'));
SELECT count(*) AS three_deleted FROM gtm_delete_tenant((SELECT id FROM tenants WHERE clerk_org_id = 'org_evfw3'));
SELECT count(*) AS four_deleted FROM gtm_delete_tenant((SELECT id FROM tenants WHERE clerk_org_id = 'org_evfw4'));
RESET ROLE;
SELECT clerk_org_id, applied_slug AS kept_applied FROM clerk_sync_state
 WHERE clerk_org_id IN ('org_evfw2', 'org_evfw3', 'org_evfw4') AND clerk_user_id = '' ORDER BY 1;
SELECT (gtm_provision_tenant('org_evfwh3', 'Fw Holder Three', 'fwtwo-2')).slug AS takes_the_old_slug;
SELECT (gtm_provision_tenant('org_evfw3', 'Fw Three', 'fwtwo-3')).slug AS three_by_operator;
SELECT tenant_created FROM gtm_sign_in('org_evfw2', 'user_fw2', 'Fw Two', 'fwtwo', 'org:admin');
SELECT slug AS two_signed_in FROM tenants WHERE clerk_org_id = 'org_evfw2';
-- a sign-in whose token holds a slug newer than the state's (Clerk's
-- rename of the organization not delivered yet): not the events' (round
-- FX: a redelivery of the older event moved it back)
SELECT tenant_created FROM gtm_sign_in('org_evfw4', 'user_fw4', 'Fw Four', 'fwfour-new', 'org:admin');
SELECT clerk_org_id, applied_slug AS recorded FROM clerk_sync_state
 WHERE clerk_org_id IN ('org_evfw2', 'org_evfw3', 'org_evfw4') AND clerk_user_id = '' ORDER BY 1;
SELECT (gtm_update_tenant(id, slug => 'fwholdertwo')).slug AS freed FROM tenants WHERE clerk_org_id = 'org_evfwh2';
SELECT pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw2', 'Fw Two', 'fwtwo', 1000))->'changes' AS two_redelivered,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw3', 'Fw Three', 'fwtwo', 1000))->'changes' AS three_redelivered,
       pg_temp.apply(pg_temp.org_event('organization.created', 'org_evfw4', 'Fw Four', 'fwfour', 1000))->'changes' AS four_redelivered;
SELECT clerk_org_id, slug FROM tenants WHERE clerk_org_id LIKE 'org_evfw%' ORDER BY 1;
SELECT count(DISTINCT t.id) AS fw_tenants_deleted
  FROM tenants t CROSS JOIN LATERAL gtm_delete_tenant(t.id) d WHERE t.clerk_org_id LIKE 'org_evfw%';
DROP OWNED BY fw_deleter;
DROP ROLE fw_deleter;
SELECT count(DISTINCT t.id) AS fr_tenants_deleted
  FROM tenants t CROSS JOIN LATERAL gtm_delete_tenant(t.id) d WHERE t.clerk_org_id LIKE 'org_evfr%';
