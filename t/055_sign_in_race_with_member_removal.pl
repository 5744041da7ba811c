# gtm_sign_in of a member that another sign-in of the same user has just
# added, while a removal deletes it (round AW F1: two browser tabs signing
# in while an admin removes the user, or gtm_delete_tenant runs).  The
# second sign-in's INSERT ... ON CONFLICT DO NOTHING collides with the first
# one's committed row; the removal, which takes no lock the sign-in holds,
# deletes that row before the sign-in reads it back.  The read-back found
# no row and gtm_sign_in read row 0 of an empty result: signal 11, every
# session of the server dropped.  Now it is refused with 40001, to be
# retried.  The window is a few instructions wide: gdb stops the second
# sign-in's backend at that read-back (gtm_query_run of Q_FIND_MEMBER) and
# runs the removal there.  gdb is installed by test/lib/setup.sh; without
# it (or without the library's debug symbols) the test says so and skips.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

if (system('command -v gdb >/dev/null 2>&1') != 0)
{
	plan skip_all => 'gdb is not installed (test/lib/setup.sh installs it)';
}

my $node = gtm_node('sign_in_race');
my $db = 'gtm_sign_in_race';
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($host, $port) = ($node->host, $node->port);
my $bindir = $node->config_data('--bindir');
sub sql { return $node->safe_psql($db, $_[0]); }

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(<<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE race_app LOGIN;
SELECT gtm_grant_app('race_app');
SELECT gtm_sign_in('org_race', 'user_owner', 'Race');
SQL

my $libdir = $node->config_data('--pkglibdir');
my $sections = `readelf -S --wide $libdir/gtm_clarity.so 2>/dev/null`;
if ($sections !~ /\.debug_info/)
{
	plan skip_all => "$libdir/gtm_clarity.so has no debug symbols for gdb's breakpoint";
}

my @psql = ("$bindir/psql", '-X', '-q', '-h', $host, '-p', $port, '-d', $db);

# first sign-in of user_x: holds the organization's lock, its member row
# not yet committed, for 8 s
my ($o1, $o2) = ('', '');
my $s1 = IPC::Run::start([ @psql, '-U', 'race_app', '-c', 'BEGIN',
	'-c', "SELECT role FROM gtm_sign_in('org_race', 'user_x', 'Race')",
	'-c', 'SELECT pg_sleep(8)', '-c', 'COMMIT' ], '>&', \$o1);
# the second tab: its backend's pid, 4 s for gdb to attach, then the same
# sign-in, which waits for the first one's lock, collides with its row,
# and reads the row back
my $s2 = IPC::Run::start([ @psql, '-U', 'race_app', '-At', '-v', 'VERBOSITY=verbose',
	'-c', "SELECT pg_backend_pid()", '-c', 'SELECT pg_sleep(4)',
	'-c', "SELECT role FROM gtm_sign_in('org_race', 'user_x', 'Race')",
	'-c', '\echo sqlstate :LAST_ERROR_SQLSTATE' ], '>&', \$o2);
my $pid;
for (1 .. 100)
{
	$s2->pump_nb;
	if ($o2 =~ /^(\d+)$/m) { $pid = $1; last; }
	select(undef, undef, undef, 0.05);
}
ok(defined $pid, 'the second sign-in runs in backend ' . ($pid // '?'));

# at the read-back, the removal commits (the psql of gdb's shell command)
my $remove = join(' ', @psql, '-At', '-U', 'postgres', '-c',
	"\"DELETE FROM tenant_members WHERE clerk_user_id = 'user_x' RETURNING 'deleted ' || clerk_user_id\"");
open(my $fh, '>', "$tmp/gdb.cmds") or die "$tmp/gdb.cmds: $!";
print $fh <<GDB;
set pagination off
set breakpoint pending on
break gtm_query_run if q == Q_FIND_MEMBER
commands
  silent
  shell $remove > $tmp/removal.out 2>&1
  detach
  quit
end
continue
GDB
close($fh);
my ($rc, $gdb_out) = gtm_run([ 'gdb', '-p', $pid, '-batch', '-x', "$tmp/gdb.cmds" ], merge => 1);
$s1->finish;
$s2->finish;
note "gdb: $gdb_out";
like(slurp_file("$tmp/removal.out"), qr/^deleted user_x$/m, 'the removal deleted the member row at the read-back');

like($o2, qr/ERROR:  40001: membership of user "user_x" in organization "org_race" was removed during sign-in/,
	'the second sign-in is refused with serialization_failure');
like($o2, qr/sqlstate 40001/, 'its SQLSTATE is 40001');
like($o1, qr/viewer/, 'the first sign-in made user_x a viewer');
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server did not restart');
unlike(slurp_file($node->logfile), qr/terminated by signal/, 'no backend was terminated by a signal');

# retried, the sign-in makes the user a member again
is(sql("SELECT role || '/' || member_created FROM gtm_sign_in('org_race', 'user_x', 'Race')"),
	'viewer/true', 'the retried sign-in adds the member again');
is(sql("SELECT string_agg(clerk_user_id || ':' || role, ',' ORDER BY clerk_user_id) FROM tenant_members"),
	'user_owner:admin,user_x:viewer', 'one admin, one viewer');

done_testing();
