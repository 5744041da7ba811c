# t/lib/GtmClarity/Citus.pm -- the 3-node Citus cluster of the TAP tests
# t/051 and t/053 (doc/scaling-out.md).
#
#   gtm_citus_require();                  skip_all unless this is PostgreSQL 15
#                                         with Citus 13.2.2 installed
#   my ($coord, $w1, $w2) = gtm_citus_cluster();
#                                         a coordinator and two workers on
#                                         127.0.0.1, preloading
#                                         'citus,gtm_clarity', database gtm with
#                                         citus on each, the workers added,
#                                         gtm_clarity created on the coordinator
#   my ($t1, $t2) = gtm_citus_two_tenants($coord, 'deals');
#                                         two tenants provisioned whose shards
#                                         of the distributed table are on
#                                         different workers (bails out if none)
#   gtm_citus_as_role($role, $port, $sql) psql -f - as ROLE over TCP
#   gtm_citus_psql_c($role, $port, @cmds) psql -c ... -c ... as ROLE over TCP
#
# Citus is not packaged in Debian: test/lib/version_suite.sh builds it from
# the unmodified release tarball (test/lib/citus.sh) and installs it as root
# into the installation under test.
package GtmClarity::Citus;

use strict;
use warnings;
use Exporter 'import';
use GtmClarity::Test;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(gtm_citus_require gtm_citus_cluster gtm_citus_two_tenants
  gtm_citus_as_role gtm_citus_psql_c gtm_citus_victim);

my $citus_version = '13.2.2';

# Without Citus in the installation under test, or on PostgreSQL 17/18
# (Citus runs here on 15 only), the test says why and skips; it never
# passes silently.
sub gtm_citus_require
{
	my $probe = PostgreSQL::Test::Cluster->new('citus_probe');
	my ($major) = $probe->config_data('--version') =~ /PostgreSQL (\d+)/;
	plan skip_all => "Citus tests run on PostgreSQL 15 only (this is $major); see doc/scaling-out.md"
	  if $major != 15;
	my ($lib, $share) = ($probe->config_data('--pkglibdir'), $probe->config_data('--sharedir'));
	my $so = -f "$lib/citus.so" ? slurp_file("$lib/citus.so") : '';
	plan skip_all => "Citus $citus_version is not installed in $lib (test/lib/version_suite.sh installs it"
	  . ' as root with test/lib/citus.sh, from the release tarball)'
	  unless index($so, "Citus $citus_version") >= 0 && -f "$share/extension/citus.control";
	return;
}

sub gtm_citus_cluster
{
	my @conf = ('shared_buffers = 32MB', 'max_worker_processes = 16',
		'citus.max_background_task_executors_per_node = 1', 'citus.log_distributed_deadlock_detection = off');
	my ($coord, $w1, $w2) = map {
		gtm_node("citus_$_", preload => 'citus,gtm_clarity', tcp => 'trust', conf => \@conf)
	} qw(coordinator worker1 worker2);
	my ($C, $W1, $W2) = map { $_->port } ($coord, $w1, $w2);
	for my $n ($coord, $w1, $w2)
	{
		$n->safe_psql('postgres', 'CREATE DATABASE gtm');
		$n->safe_psql('gtm', 'SET client_min_messages = warning; CREATE EXTENSION citus');
	}
	$coord->safe_psql('gtm', "SELECT citus_set_coordinator_host('127.0.0.1', $C);
SELECT citus_add_node('127.0.0.1', $W1);
SELECT citus_add_node('127.0.0.1', $W2);
CREATE EXTENSION gtm_clarity;");
	return ($coord, $w1, $w2);
}

# Two tenants whose rows of $table (distributed by tenant_id) live on
# different workers: T1, then the first of T2..T40 placed elsewhere.
sub gtm_citus_two_tenants
{
	my ($coord, $table) = @_;
	my $cq = sub { return $coord->safe_psql('gtm', $_[0]); };
	my $t1 = $cq->("SELECT id FROM gtm_provision_tenant('org_citusTenantOne', 'One')");
	for my $i (2 .. 40)
	{
		my $t = $cq->("SELECT id FROM gtm_provision_tenant('org_citusTenant$i', 'T$i')");
		return ($t1, $t)
		  if $cq->("SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement
	         WHERE shardid IN (get_shard_id_for_distribution_column('$table', '$t1'),
	                           get_shard_id_for_distribution_column('$table', '$t'))") eq '2';
	}
	BAIL_OUT('no two tenants on different workers');
}

# psql as ROLE on the node of PORT over TCP, each statement sent on its own
# (one top-level statement each); stdout and stderr together, in order,
# without the last newline
sub gtm_citus_as_role
{
	my ($role, $port, $sql) = @_;
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $port, '-U', $role,
		'-d', 'gtm', '-f', '-' ], stdin => $sql, merge => 1);
	$out =~ s/^psql:<stdin>:\d+: //mg;
	$out =~ s/\n+\z//;
	return $out;
}

# psql as ROLE on the node of PORT over TCP, one -c per COMMAND (a command
# with several statements is one query string); stdout and stderr together
sub gtm_citus_psql_c
{
	my ($role, $port, @commands) = @_;
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $port, '-U', $role,
		'-d', 'gtm', map { ('-c', $_) } @commands ], merge => 1);
	$out =~ s/\n+\z//;
	return $out;
}

# A "victim": a session of ROLE on the coordinator COORD (its node) that runs
# BEGIN, the STATEMENTS, then pg_sleep(SECONDS) inside the open transaction
# (its application_name is gtm_victim).  Returns once it sleeps: the
# IPC::Run handle, a reference to its output, and its pid (0 if not found).
sub gtm_citus_victim
{
	my ($coord, $role, $seconds, @statements) = @_;
	my $out = '';
	my $h;
	{
		local $ENV{PGAPPNAME} = 'gtm_victim';
		$h = IPC::Run::start(
			[ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $coord->port, '-U', $role, '-d', 'gtm',
				'-c', 'BEGIN', (map { ('-c', $_) } @statements),
				'-c', "SELECT pg_sleep($seconds)", '-c', 'COMMIT' ],
			'<', \undef, '>&', \$out);
	}
	$coord->poll_query_until('gtm',
		q{SELECT count(*) = 1 FROM pg_stat_activity WHERE application_name = 'gtm_victim' AND query LIKE 'SELECT pg_sleep%'})
	  or diag 'the victim did not reach its pg_sleep';
	my $pid = $coord->safe_psql('gtm',
		q{SELECT pid FROM pg_stat_activity WHERE application_name = 'gtm_victim'}) || 0;
	return ($h, \$out, $pid);
}

1;
