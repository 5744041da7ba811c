# t/lib/GtmClarity/Test.pm -- what the TAP tests t/*.pl share.
#
#   my $node = gtm_node('name');                 a temporary server that preloads
#                                                gtm_clarity, started
#   my $node = gtm_node('name', preload => '');  one that does not
#   my $node = gtm_node('name', tcp => 1);       also listening on 127.0.0.1
#                                                (tcp => 'trust': without password)
#   gtm_pgtap($node, 'db', 'test/pgtap/x.sql');  runs a pgTAP file in database db
#   my ($rc, $out, $err) = gtm_run('pg_dump', ...); a client program, with the
#                                                libpq environment of the last node
#
# gtm_node sets PGHOST, PGPORT, PGUSER and PATH (bin directory of the
# installation under test first) for the client programs a test runs.
#
# The servers are PostgreSQL::Test::Cluster nodes (PostgreSQL's own test
# module, from the PGXS tree of PG_CONFIG), made under tmp_check and removed
# when the test passes.  GTM_TEST_PORT, when set, is the first port tried
# (the module picks free ports above it); without tcp a node listens on a
# Unix socket in a directory of its own only.
package GtmClarity::Test;

use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

our @EXPORT = qw(gtm_node gtm_pgtap gtm_top gtm_run gtm_raw_protocol);

# the source tree (t/lib/GtmClarity/ is three levels below it)
my $top = abs_path(dirname(__FILE__) . '/../../..');
sub gtm_top { return $top; }

if (defined $ENV{GTM_TEST_PORT} && $ENV{GTM_TEST_PORT} =~ /^\d+$/)
{
	$PostgreSQL::Test::Cluster::last_port_assigned = $ENV{GTM_TEST_PORT} - 1;
}

sub gtm_node
{
	my ($name, %opt) = @_;
	my $preload = exists $opt{preload} ? $opt{preload} : 'gtm_clarity';
	my $node = PostgreSQL::Test::Cluster->new($name);
	$node->init;
	$node->append_conf('postgresql.conf', join("\n",
		"shared_preload_libraries = '$preload'",
		"lc_messages = 'C'",
		"max_connections = 60",
		@{ $opt{conf} || [] }) . "\n");
	if ($opt{tcp})
	{
		# a node of PostgreSQL::Test::Cluster listens on its Unix socket
		# only; a client that needs TCP (PgBouncer, node-postgres) gets
		# 127.0.0.1 too, with password authentication like pg_virtualenv
		# ('trust': the nodes of a cluster connect to each other there)
		my $method = $opt{tcp} eq 'trust' ? 'trust' : 'scram-sha-256';
		$node->append_conf('postgresql.conf', "listen_addresses = '127.0.0.1'\n");
		$node->append_conf('pg_hba.conf', "host all all 127.0.0.1/32 $method\n");
	}
	$node->start;
	# the clients the test runs (pg_dump, psql...) reach this node
	my %env = _client_env($node);
	@ENV{ keys %env } = values %env;
	return $node;
}

# Parse the TAP a program printed ($out: the pgTAP output psql printed)
# and assert each line again here,
# under the same description: "ok", "not ok", "ok N # SKIP why", "1..N"
# (also "1..0 # SKIP why": the whole file skips).  Then assert that it
# exited with status 0 and ran as many tests as it planned.
sub _reassert
{
	my ($what, $out, $rc) = @_;
	my ($plan, $ran) = (undef, 0);
	for my $line (split /\n/, $out)
	{
		if ($line =~ /^1\.\.0\s*#\s*(?:SKIP|skip)\S*\s*(.*)$/)
		{
			plan skip_all => "$what: $1";
		}
		elsif ($line =~ /^1\.\.(\d+)/)
		{
			$plan = $1;
		}
		elsif ($line =~ /^(not )?ok\s+\d+\s*(.*)$/)
		{
			my ($bad, $rest) = ($1, $2);
			$ran++;
		  SKIP:
			{
				if ($rest =~ /^#\s*SKIP\S*\s*(.*)$/i)
				{
					skip $1, 1;
				}
				$rest =~ s/^-\s*//;
				ok(!$bad, $rest);
			}
		}
		elsif ($line =~ /^\s*#/)
		{
			note $line;
		}
		elsif ($line =~ /^Bail out!/)
		{
			diag "$what: $line";
		}
		elsif ($line ne '')
		{
			note "$what: $line";
		}
	}
	ok($rc == 0 && defined $plan && $plan == $ran,
		"$what ran to its end: exit status 0, "
		  . (defined $plan ? $plan : 'no plan')
		  . " planned, $ran ran")
	  or diag "exit status $rc";
	return;
}

# The environment of a client of $node: libpq's variables, the bin
# directory of the installation under test first in PATH.
sub _client_env
{
	my ($node) = @_;
	my $bindir = $node->config_data('--bindir');
	return (
		PGHOST     => $node->host,
		PGPORT     => $node->port,
		PGUSER     => scalar(getpwuid($<)),
		PGDATABASE => 'postgres',
		PATH       => "$bindir:$ENV{PATH}");
}

# Run a client program; returns its exit status, stdout and stderr.
# gtm_run([cmd...], stdin => $text) feeds it $text; merge => 1 returns
# stdout and stderr as one text, in the order they were written.
sub gtm_run
{
	my ($cmd, %opt) = @_;
	my ($out, $err) = ('', '');
	my $in = $opt{stdin};
	if ($opt{merge})
	{
		IPC::Run::run($cmd, '<', \$in, '>&', \$out);
	}
	else
	{
		IPC::Run::run($cmd, '<', \$in, '>', \$out, '2>', \$err);
	}
	return ($? >> 8, $out, $err);
}

# Send raw protocol messages to database $db of $node as $user with
# test/node/raw_protocol.js (its header gives the JSON form of $batches);
# returns what it printed, stdout and stderr in order.
sub gtm_raw_protocol
{
	my ($node, $db, $user, $batches) = @_;
	my $file = PostgreSQL::Test::Utils::tempdir() . '/script.json';
	open(my $fh, '>', $file) or die "$file: $!";
	print $fh $batches;
	close($fh);
	my $sock = $node->host . '/.s.PGSQL.' . $node->port;
	my ($rc, $out) = gtm_run([ 'node', "$top/test/node/raw_protocol.js", $sock, $db, $user, $file ],
		merge => 1);
	return $out;
}

# Run a pgTAP file the way pg_prove does (psql, unaligned tuples only,
# ON_ERROR_STOP) in database $db of $node.
sub gtm_pgtap
{
	my ($node, $db, $file) = @_;
	local %ENV = (%ENV, _client_env($node));
	my ($out, $err) = ('', '');
	IPC::Run::run(
		[
			'psql', '-X', '--no-align', '--quiet', '--pset', 'pager=off',
			'--pset', 'tuples_only=true', '--set', 'ON_ERROR_STOP=1',
			'-d', $db, '-f', "$top/$file"
		],
		'<', \undef, '>', \$out, '2>', \$err);
	my $rc = $? >> 8;
	diag "$file: $_" for split /\n/, $err;
	_reassert($file, $out, $rc);
	return;
}

1;
