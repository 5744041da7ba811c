# gtm.clerk_sync (the last-admin rule steps aside while it is on) cannot be
# turned on for good: a value stored with ALTER ROLE / ALTER DATABASE is
# ignored when a session starts, and that session still cannot remove a
# tenant's last admin.
# (Was test/shell/clerk_guc.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('clerk_guc');
my $db = 'gtm_clerk_guc';
sub sql { return $node->safe_psql($db, $_[0]); }
$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(q{CREATE EXTENSION gtm_clarity;
CREATE ROLE regress_clerk_guc LOGIN;
SELECT gtm_sign_in('org_guc1', 'user_admin1', 'Guc One');
GRANT EXECUTE ON FUNCTION gtm_remove_member(text, text) TO regress_clerk_guc;});
my $tid = sql("SELECT id FROM tenants WHERE clerk_org_id = 'org_guc1'");
is(sql("SELECT count(*) FROM tenant_members WHERE tenant_id = '$tid' AND role = 'admin'"), '1',
	'the tenant has one admin');

$node->psql($db, 'ALTER ROLE regress_clerk_guc SET gtm.clerk_sync = on');
$node->psql($db, "ALTER DATABASE $db SET gtm.clerk_sync = on");
is(sql("SELECT count(*) FROM pg_db_role_setting WHERE 'gtm.clerk_sync=on' = ANY (setconfig)"), '2',
	'ALTER ROLE / ALTER DATABASE store the value (checked when applied)');
my ($rc, $out, $err) = gtm_run([ 'psql', '-X', '-At', '-U', 'regress_clerk_guc', '-d', $db,
	'-c', 'SHOW gtm.clerk_sync' ]);
is($out, "off\n", 'a session of that role and database starts with it off');
like($err, qr/gtm.clerk_sync may only be set for a session or a function call/,
	'with a WARNING naming the rule');
($rc, $out, $err) = gtm_run([ 'psql', '-X', '-At', '-U', 'regress_clerk_guc', '-d', $db,
	'-c', "SELECT gtm_remove_member('$tid', 'user_admin1')" ]);
like($err, qr/must keep at least one admin/, 'that session cannot remove the last admin');
is(sql("SELECT role FROM tenant_members WHERE tenant_id = '$tid'"), 'admin', 'the admin is still there');

$node->stop;
done_testing();
