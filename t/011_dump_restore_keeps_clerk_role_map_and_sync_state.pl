# pg_dump keeps what the Clerk lifecycle adds as data -- the operator's role
# keys (not the built-in ones, which the extension script writes) and the
# state of the Clerk events applied -- and a restored database goes on
# applying events from where the source stood.
# (Was test/shell/clerk_dump.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('clerk_dump');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($src, $dst) = ('gtm_clerk_dump_src', 'gtm_clerk_dump_dst');
sub sql { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }

# a membership event of organization org_dump1
sub ev
{
	my ($type, $user, $role, $at) = @_;
	return qq({"type": "$type", "timestamp": $at, "data": {"role": "$role", "updated_at": $at,
	  "organization": {"id": "org_dump1", "name": "Dump", "slug": "dump", "updated_at": 10},
	  "public_user_data": {"user_id": "$user"}}});
}

sql('postgres', "CREATE DATABASE $src");
sql($src, 'CREATE EXTENSION gtm_clarity');
sql($src, "INSERT INTO clerk_role_map (clerk_role, role) VALUES ('org:owner', 'admin'), ('org:billing', 'viewer')");
sql($src, "SELECT gtm_apply_clerk_event('" . ev('organizationMembership.created', 'user_owner', 'org:owner', 100) . "')");
sql($src, "SELECT gtm_apply_clerk_event('" . ev('organizationMembership.created', 'user_gone', 'org:billing', 101) . "')");
sql($src, "SELECT gtm_apply_clerk_event('" . ev('organizationMembership.deleted', 'user_gone', 'org:billing', 200) . "')");
sub state
{
	return sql($_[0], q{SELECT string_agg(x, ' ' ORDER BY x) FROM (
  SELECT clerk_role || '=' || role || ':' || builtin AS x FROM clerk_role_map
  UNION ALL SELECT clerk_org_id || '/' || clerk_user_id || '@' || version || ':' || deleted FROM clerk_sync_state
  UNION ALL SELECT m.clerk_user_id || ':' || m.role FROM tenant_members m) s});
}
my $src_state = state($src);
like($src_state, qr/org:owner=admin:false/, "the source has the operator's keys,");
like($src_state, qr{org_dump1/user_gone\@200:true}, '... the applied versions');
like($src_state, qr/user_owner:admin/, '... and the member');

my ($rc1, $o1, $dump_err) = gtm_run([ 'pg_dump', '-Fc', '-f', "$tmp/db.dump", $src ]);
sql('postgres', "CREATE DATABASE $dst");
my ($rc, $out, $err) = gtm_run([ 'pg_restore', '--exit-on-error', '-d', $dst, "$tmp/db.dump" ]);
ok($rc1 == 0 && $rc == 0 && $err eq '' && $dump_err eq '',
	'the dump restores without error (the built-in keys are not restored twice)')
  or diag "$dump_err$err";
is(state($dst), $src_state, 'role map, sync state and members are the same after the restore');
is(sql($dst, 'SELECT count(*) FROM clerk_role_map WHERE builtin'), '8', 'eight built-in keys, once each');
is(sql($dst, "SELECT gtm_apply_clerk_event('"
		  . ev('organizationMembership.created', 'user_gone', 'org:billing', 101) . "')->>'outcome'"),
	'stale', 'a restored database still ignores the late created of a removed member');
is(sql($dst, "SELECT gtm_apply_clerk_event('"
		  . ev('organizationMembership.created', 'user_new', 'org:owner', 300) . "')->'changes'->0->>'role'"),
	'admin', "and maps the operator's custom key for a new member");

$node->stop;
done_testing();
