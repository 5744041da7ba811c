# gtm_apply_clerk_event is order-independent.  A realistic sequence of Clerk
# webhooks -- organization created, three memberships (the creator as admin,
# two members), a member promoted to admin, the creator removed, a rename
# with a new slug, the organization deleted -- is applied in every
# permutation, each to an organization of its own, and every permutation
# must end in the state of delivery in order.  The sequence without the
# deletion (7 events, 5,040 orders) checks the tenant and member rows; the
# full one (8 events, 40,320 orders) checks that nothing is resurrected.
# Orders that remove the only admin before another is promoted pass through
# a tenant without admin: they must not fail (doc/clerk-lifecycle.md).
# (Was test/shell/clerk_permutations.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

# one commit per order: no need to wait for each to reach the disk
my $node = gtm_node('clerk_permutations', conf => [ 'synchronous_commit = off' ]);
my $db = 'gtm_clerk_perm';
sub sql { return $node->safe_psql($db, $_[0]); }
$node->safe_psql('postgres', "CREATE DATABASE $db");
sql('CREATE EXTENSION gtm_clarity');
sql(<<'SQL');
CREATE FUNCTION org_ev(type text, name text, slug text, ms bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', ms,
		'data', CASE WHEN type = 'organization.deleted'
					 THEN jsonb_build_object('object', 'organization', 'id', 'org_perm', 'deleted', true)
					 ELSE jsonb_build_object('object', 'organization', 'id', 'org_perm', 'name', name,
						'slug', slug, 'created_at', 1000, 'updated_at', ms) END)
$$;
CREATE FUNCTION mem_ev(type text, usr text, role text, updated bigint, ms bigint) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object('object', 'event', 'type', type, 'timestamp', ms,
		'data', jsonb_build_object('object', 'organization_membership', 'id', 'orgmem_' || usr,
			'role', role, 'created_at', updated, 'updated_at', updated,
			'organization', jsonb_build_object('object', 'organization', 'id', 'org_perm',
				'name', 'Acme', 'slug', 'acme', 'created_at', 1000, 'updated_at', 1000),
			'public_user_data', jsonb_build_object('user_id', usr)))
$$;
CREATE TABLE ev (k int PRIMARY KEY, e text);
INSERT INTO ev VALUES
	(1, org_ev('organization.created', 'Acme', 'acme', 1000)),
	(2, mem_ev('organizationMembership.created', 'user_alice', 'org:admin', 1001, 1001)),
	(3, mem_ev('organizationMembership.created', 'user_bob', 'org:member', 1002, 1002)),
	(4, mem_ev('organizationMembership.created', 'user_carol', 'org:member', 1003, 1003)),
	(5, mem_ev('organizationMembership.updated', 'user_bob', 'org:admin', 1004, 1004)),
	(6, mem_ev('organizationMembership.deleted', 'user_alice', 'org:admin', 1001, 1005)),
	(7, org_ev('organization.updated', 'Acme Corp', 'acme_Corp', 1006)),	-- normalised to acme-corp
	(8, org_ev('organization.deleted', NULL, NULL, 1007));

-- every permutation of the first m events, numbered from base (1: in order)
CREATE TABLE perm (n int PRIMARY KEY, m int, a int[]);
CREATE PROCEDURE make_perms(m int, base int) LANGUAGE sql AS $$
	INSERT INTO perm
	WITH RECURSIVE p(a) AS (
		SELECT ARRAY[k] FROM ev WHERE k <= m
		UNION ALL
		SELECT p.a || ev.k FROM p, ev WHERE ev.k <= m AND ev.k <> ALL (p.a))
	SELECT base + row_number() OVER (ORDER BY a) - 1, m, a FROM p WHERE cardinality(a) = m
$$;
CALL make_perms(7, 1);
CALL make_perms(8, 100001);

-- apply permutation n to organization org_p<n> (slug acme<n>), committing
-- after each permutation
CREATE PROCEDURE apply_perms(lo int, hi int) LANGUAGE plpgsql AS $$
DECLARE
	r record;
	i int;
BEGIN
	FOR r IN SELECT * FROM perm WHERE n BETWEEN lo AND hi ORDER BY n LOOP
		FOREACH i IN ARRAY r.a LOOP
			PERFORM gtm_apply_clerk_event(replace(replace((SELECT e FROM ev WHERE ev.k = i),
				'org_perm', 'org_p' || r.n), '"acme', '"acme' || r.n)::jsonb);
		END LOOP;
		COMMIT;
	END LOOP;
END $$;

-- the state of permutation n, without what is its own (org id, slug suffix)
CREATE FUNCTION state_of(n int) RETURNS jsonb LANGUAGE sql AS $$
	SELECT jsonb_build_object(
		'tenant', (SELECT jsonb_build_object('name', t.name, 'slug', replace(t.slug, 'acme' || n, 'acme'),
			'members', (SELECT jsonb_object_agg(m.clerk_user_id, m.role) FROM tenant_members m
						 WHERE m.tenant_id = t.id))
			FROM tenants t WHERE t.clerk_org_id = 'org_p' || n),
		'sync', (SELECT jsonb_object_agg(s.clerk_user_id, jsonb_build_array(s.version, s.deleted))
				 FROM clerk_sync_state s WHERE s.clerk_org_id = 'org_p' || n))
$$;
SQL

is(sql(q{SELECT count(*) FILTER (WHERE m = 7) || '/' || count(*) FILTER (WHERE m = 8) FROM perm}),
	'5040/40320', '5,040 orders of the 7 events and 40,320 of the 8 are listed');
is(sql('SELECT a FROM perm WHERE n = 1') . ' ' . sql('SELECT a FROM perm WHERE n = 100001'),
	'{1,2,3,4,5,6,7} {1,2,3,4,5,6,7,8}', 'permutation 1 of each is delivery in order');

my ($rc, $out, $err) = $node->psql($db, 'CALL apply_perms(1, 5040)');
ok($rc == 0 && $err eq '', 'every order of the 7 events applies without error') or diag $err;
is(sql(q{SELECT state_of(1)->'tenant'}),
	'{"name": "Acme Corp", "slug": "acme-corp", "members": {"user_bob": "admin", "user_carol": "viewer"}}',
	'delivery in order ends as Clerk describes: renamed, bob admin, carol viewer, alice gone');
is(sql('SELECT count(*) FROM perm WHERE m = 7 AND state_of(n) IS DISTINCT FROM state_of(1)'), '0',
	'every one of the 5,040 orders ends in that state (tenant, members, applied versions)');
cmp_ok(sql('SELECT count(*) FROM perm WHERE m = 7 AND array_position(a, 6) < array_position(a, 5)'), '>', 0,
	'some orders passed through a tenant without admin (alice removed before bob promoted)');

($rc, $out, $err) = $node->psql($db, 'CALL apply_perms(100001, 140320)');
ok($rc == 0 && $err eq '', 'every order of the 8 events applies without error') or diag $err;
is(sql(q{SELECT count(*) FROM tenants WHERE clerk_org_id ~ '^org_p1[0-9]{5}$'}), '0',
	'no order of the 8 events leaves a tenant or a member: a deleted organization stays deleted');
ok(sql('SELECT count(*) FROM perm WHERE m = 8 AND state_of(n) IS DISTINCT FROM state_of(100001)') eq '0'
	  && sql('SELECT state_of(100001)') eq '{"sync": {"": [1007, true]}, "tenant": null}',
	'every order of the 8 events ends with the same tombstone and nothing else');

$node->stop;
done_testing();
