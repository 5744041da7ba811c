# Invalidations flooding in while the check plans and looks up its
# per-relation facts.  One session plans statements on tenant tables it has
# never seen (partitions of new partitioned tables) while a stable function
# of the statement sleeps at planning time; another session commits
# thousands of CREATE/DROP TEMP TABLE meanwhile, so the first one's
# invalidation queue overflows and it processes a cache reset in the middle
# of planning.  The backend must survive, and every verdict stay right.
# FLOOD_ROUNDS: the number of rounds (default 12).
# (Was test/shell/inval_flood.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('inval_flood');
my $db = 'gtm_inval_flood';
my $rounds = $ENV{FLOOD_ROUNDS} || 12;
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, q{
CREATE EXTENSION gtm_clarity;
CREATE ROLE regress_flood_app;
GRANT CREATE, USAGE ON SCHEMA public TO regress_flood_app;
CREATE FUNCTION slow(x int) RETURNS int LANGUAGE plpgsql STABLE AS $$ BEGIN PERFORM pg_sleep(0.4); RETURN x; END $$;});

# the flood: small catalog changes, each committed, until cancelled
my ($fin, $fout, $ferr) = ('', '', '');
my $flood = IPC::Run::start(
	[ 'psql', '-X', '-q', '-d', $db, '-c', "SET application_name = 'gtm_flood'", '-c', q{
DO $$ BEGIN
  FOR i IN 1..10000000 LOOP
    CREATE TEMP TABLE flood (x int); DROP TABLE flood; COMMIT;
  END LOOP;
END $$} ],
	'<', \$fin, '>', \$fout, '2>', \$ferr);
$node->poll_query_until($db,
	"SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'gtm_flood' AND state = 'active'")
  or die 'the flood did not start';
sleep 1;

my ($good, $bad) = (0, 0);
for my $r (1 .. $rounds)
{
	my ($rc, $out, $err) = $node->psql($db, qq{
SET ROLE regress_flood_app;
CREATE TABLE ev$r (tenant_id text NOT NULL, id int NOT NULL) PARTITION BY RANGE (id);
CREATE TABLE ev${r}_a PARTITION OF ev$r FOR VALUES FROM (0) TO (100);
CREATE TABLE ev${r}_b PARTITION OF ev$r FOR VALUES FROM (100) TO (200);
INSERT INTO ev$r VALUES ('t1', 1);
INSERT INTO ev$r VALUES ('t2', 150);
SELECT count(*) FROM ev$r WHERE tenant_id = 't1' AND id <> slow(-1);});
	my ($rc2, $out2, $err2) = $node->psql($db,
		"SET ROLE regress_flood_app; SELECT count(*) FROM ev$r WHERE id <> slow(-1);");
	if ($rc == 0 && $out eq '1' && $rc2 != 0 && $err2 =~ /is not pinned to one tenant/)
	{
		$good++;
	}
	else
	{
		$bad++;
		note "round $r: $out $err / $out2 $err2";
	}
}
my $flood_alive = $flood->pumpable ? 1 : 0;
$node->safe_psql($db,
	"SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gtm_flood'");
$flood->finish;

# a backend that dies takes every session down with it, the flood's too
ok($flood_alive, 'the flooding session survived every round');
like($ferr, qr/canceling statement due to user request/, '... until it was cancelled');
is($bad, 0, "every pinned statement answered, every unpinned one was rejected ($good of $rounds rounds)");
is($node->safe_psql('postgres', 'SELECT 1'), '1', 'the server is up');
$node->stop;
done_testing();
