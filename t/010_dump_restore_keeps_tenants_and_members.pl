# pg_dump of a database keeps every tenant and member row, and a restore
# into a fresh database (custom and plain format) works and behaves the
# same: repeat and new sign-ins, triggers, the last-admin rule, the ids.
# (Was test/shell/dump_restore.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('dump_restore');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $src = 'gtm_dump_src';
sub sql { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }

$node->safe_psql('postgres', "CREATE DATABASE $src");
sql($src, 'CREATE EXTENSION gtm_clarity');
sql($src, q{
  SELECT count(*) FROM (
    SELECT gtm_sign_in('org_dump' || i, 'user_' || j, 'Dump Co ' || i, NULL,
                       CASE WHEN j = 2 THEN 'org:manager' END)
    FROM generate_series(1, 30) i, generate_series(1, 3) j) s;
  SELECT gtm_provision_tenant('org_dumpempty', 'Café Ørsted', 'cafe', '{"timezone": "UTC"}');});
sub rows
{
	return sql($_[0], q{
  SELECT t.*, m.clerk_user_id, m.role, m.created_at, m.updated_at
    FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id
   ORDER BY t.id, m.clerk_user_id});
}
my $src_rows = rows($src);
is(scalar(my @l = split /\n/, $src_rows), 91,
	'the rows compared are read: 90 member rows and the tenant without members');
is(sql($src, 'SELECT count(*) FROM tenants') . '/' . sql($src, 'SELECT count(*) FROM tenant_members'),
	'31/90', 'source has 31 tenants and 90 members');

my ($rc, $out, $err) = gtm_run([ 'pg_dump', '-Fc', '-f', "$tmp/db.dump", $src ]);
ok($rc == 0 && -s "$tmp/db.dump" && $err eq '', 'pg_dump (custom format) succeeds');
$node->safe_psql('postgres', 'CREATE DATABASE gtm_dump_custom');
($rc, $out, $err) = gtm_run([ 'pg_restore', '--exit-on-error', '-d', 'gtm_dump_custom', "$tmp/db.dump" ]);
ok($rc == 0 && $err eq '', 'pg_restore into a fresh database succeeds') or diag $err;
is(rows('gtm_dump_custom'), $src_rows,
	'every tenant and member row survives the custom-format round trip');

($rc, my $plain, $err) = gtm_run([ 'pg_dump', '-Fp', $src ]);
$node->safe_psql('postgres', 'CREATE DATABASE gtm_dump_plain');
($rc, $out, $err) = gtm_run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'gtm_dump_plain' ],
	stdin => $plain);
ok($rc == 0 && $err eq '', 'a plain-format dump restores with psql without error') or diag $err;
is(rows('gtm_dump_plain'), $src_rows,
	'every tenant and member row survives the plain-format round trip');
ok($plain !~ /CREATE TABLE/ && $plain =~ /^COPY public\.tenants /m,
	'the dump carries the rows, not a second copy of the schema');

# The restored database behaves: repeat sign-in returns the stored tenant, no write.
my $before = sql('gtm_dump_custom', "SELECT id FROM tenants WHERE clerk_org_id = 'org_dump7'");
is(sql('gtm_dump_custom', "SELECT tenant_id || ' ' || role || ' ' || tenant_created || ' ' || member_created
                           FROM gtm_sign_in('org_dump7', 'user_2', 'Dump Co 7')"),
	"$before manager false false",
	'a repeat sign-in after restore returns the same tenant and stored role');
sql('gtm_dump_custom', "SELECT gtm_sign_in('org_dumpnew', 'user_9', 'Dump Co 7')");
is(sql('gtm_dump_custom', "SELECT slug FROM tenants WHERE clerk_org_id = 'org_dumpnew'"),
	'dump-co-7-2', 'a new sign-in after restore gets the next free slug');
is(sql('gtm_dump_custom', "UPDATE tenants SET name = 'Renamed' WHERE clerk_org_id = 'org_dump1'
                         RETURNING updated_at > created_at"),
	't', 'the restored triggers work (updated_at moves)');
($rc, $out, $err) = $node->psql('gtm_dump_custom',
	"DELETE FROM tenant_members m USING tenants t WHERE t.id = m.tenant_id
	   AND t.clerk_org_id = 'org_dump3' AND m.role = 'admin'");
ok($rc != 0 && $err =~ /must keep at least one admin/, 'the restored last-admin rule works')
  or diag $err;
is(sql('gtm_dump_plain', "SELECT string_agg(id, ',' ORDER BY id) FROM tenants"),
	sql($src, "SELECT string_agg(id, ',' ORDER BY id) FROM tenants"),
	'restored ids are the original ids');

$node->stop;
done_testing();
