# The library is preloaded server-wide, but the tenant-scope rule applies
# only in databases where CREATE EXTENSION gtm_clarity was run.  A second
# database without the extension reads, copies and updates a table with a
# tenant_id column freely; once the extension is created there (seen by a
# session that was already connected, from another backend) the same
# statements are rejected, cached plans and PL/pgSQL included, and after
# DROP EXTENSION they run again.
# (Was test/shell/enforce_databases.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('enforce_databases');
my ($db, $role) = ('gtm_enforce_noext', 'regress_enforce_noext');
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, qq{
CREATE ROLE $role;
CREATE TABLE deals (tenant_id text NOT NULL, id int, stage text);
INSERT INTO deals VALUES ('T1', 1, 'one'), ('T2', 2, 'two');
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON deals TO $role;});

# One session through all three phases; \! runs CREATE/DROP EXTENSION from
# another backend, so this session learns of it by invalidation.
my ($rc, $out, $err) = gtm_run([ 'psql', '-X', '-q', '-At', '-v', 'VERBOSITY=verbose', '-d', $db ],
	merge => 1, stdin => <<SQL);
SET ROLE $role;
SELECT 'before:' || string_agg(stage, ',' ORDER BY id) FROM deals;
UPDATE deals SET stage = stage WHERE id = 1;
COPY deals TO STDOUT;
PREPARE cached AS SELECT 'cached:' || string_agg(stage, ',' ORDER BY id) FROM deals;
EXECUTE cached;
EXECUTE cached;
CREATE FUNCTION pg_temp.touch_all() RETURNS bigint LANGUAGE plpgsql
  AS \$\$ BEGIN UPDATE deals SET stage = stage || '!'; RETURN 1; END \$\$;
SELECT 'touched:' || pg_temp.touch_all();
UPDATE deals SET stage = rtrim(stage, '!');
\\echo == installing
\\! psql -X -q -d $db -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION gtm_clarity'
EXECUTE cached;
SELECT 'touched again:' || pg_temp.touch_all();
SELECT 'installed:' || string_agg(stage, ',' ORDER BY id) FROM deals;
COPY deals TO STDOUT;
\\echo == dropping
\\! psql -X -q -d $db -c 'DROP EXTENSION gtm_clarity'
SELECT 'dropped:' || string_agg(stage, ',' ORDER BY id) FROM deals;
SQL
# the output (errors included, in order) is read phase by phase
note $out;
my $installing = index($out, "\n== installing\n");
my $dropping = index($out, "\n== dropping\n");
ok($installing > 0 && $dropping > $installing, 'the session ran through its three phases');
my $phase1 = substr($out, 0, $installing);
my $phase2 = substr($out, $installing, $dropping - $installing);
like($phase1, qr/^before:one,two$/m, 'without the extension, a table with tenant_id is read by an ordinary role');
ok($phase1 =~ /^T2\t2\ttwo$/m && $phase1 =~ /^touched:1$/m && $phase1 !~ /ERROR/,
	'... updated and copied, with no error (no rule applies there)');
unlike($phase1, qr/gtm_current_tenant/,
	'... and no message names gtm_current_tenant(), which does not exist there');
ok($out =~ /ERROR:  42501: tenant-scoped table "deals" \(alias "deals"\) is not pinned to one tenant/
	  && $out !~ /^installed:/m,
	"once CREATE EXTENSION ran (another backend), the same session's unpinned SELECT is rejected");
like($out, qr/ERROR:  42501: COPY on tenant-scoped table "deals" is not allowed/, '... and its COPY');
like($out, qr/^dropped:one,two$/m, 'after DROP EXTENSION the rule no longer applies');
my $rejections = () = $phase2 =~ /ERROR:  42501/g;
ok($phase2 !~ /^cached:/m && $rejections >= 3,
	'a statement prepared before CREATE EXTENSION is planned again, and rejected');
ok($phase2 !~ /^touched again:/m && $out =~ /^dropped:one,two$/m,
	"... and so is a PL/pgSQL function's cached UPDATE: no row was changed");

# the database with the extension keeps enforcing while the other does not,
# in sessions running at the same time (the answer is per database)
$node->safe_psql($db, 'SET client_min_messages = warning; CREATE EXTENSION gtm_clarity');
($rc, $out, $err) = $node->psql($db, "SET ROLE $role; SELECT count(*) FROM deals;",
	extra_params => [ '-v', 'VERBOSITY=verbose' ]);
like($err, qr/ERROR:  42501/, 'a database with the extension rejects an unpinned statement');
$node->safe_psql('postgres', "CREATE TABLE gtm_noext_probe (tenant_id text);
	INSERT INTO gtm_noext_probe VALUES ('T1'), ('T2'); GRANT SELECT ON gtm_noext_probe TO $role;");
is($node->safe_psql('postgres', "SET ROLE $role; SELECT count(*) FROM gtm_noext_probe;"), '2',
	'at the same time, a tenant_id table in a database without the extension is read without a pin');
$node->stop;
done_testing();
