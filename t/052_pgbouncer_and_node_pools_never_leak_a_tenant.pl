# The product behind connection pools, driven by a Node application
# (node-postgres, test/node/pool_clients.js):
#   - PgBouncer (Debian's package, started here on a free port in
#     transaction pooling mode, a pool of 4 server connections for 20
#     clients): 20 clients x 50 requests x 3 tenants, each request a
#     transaction that sets its tenant and reads its rows;
#   - a client that sets a tenant, then a later client on the same server
#     connection (a pool of 1) that sets none: an error, never rows;
#     protocol-level prepared statements, unnamed and named;
#   - the same with a plain pg.Pool and no PgBouncer.
# The server also listens on 127.0.0.1 (password authentication), for
# PgBouncer and node-postgres.  PgBouncer listens on the first free port
# from GTM_POOL_PORT (default 5481).  pgbouncer, node and node-postgres are
# installed by test/run.sh (test/lib/setup.sh, test/lib/node.sh).
# (Was test/shell/pool_clients.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use IO::Socket::INET;
use Test::More;

my $node = gtm_node('pool_clients', tcp => 1);
my ($db, $role, $pw) = ('gtm_pool', 'pool_app', 'pool_app_pw');
my $T1 = '11111111-1111-4111-8111-111111111111';
my $T2 = '22222222-2222-4222-8222-222222222222';
my $T3 = '33333333-3333-4333-8333-333333333333';
my $top = gtm_top();
my $tmp = PostgreSQL::Test::Utils::tempdir;
sub sql { return $node->safe_psql($db, $_[0]); }
sub listening
{
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $_[0], Proto => 'tcp');
	return defined $s;
}

# node-postgres: a copy in the tree (the roots of test/run.sh), or the cache
my ($node_modules) = grep { $_ ne '' && -f "$_/pg/package.json" }
  ("$top/test/node_modules", $ENV{GTM_NODE_MODULES} || '', '/var/cache/gtm_clarity/node/node_modules');
my ($pgbouncer) = grep { -x $_ } ((map { "$_/pgbouncer" } split /:/, $ENV{PATH}), '/usr/sbin/pgbouncer');
ok(defined $pgbouncer, 'pgbouncer is installed (Debian package)');
ok(system('command -v node >/dev/null') == 0 && defined $node_modules, 'node and node-postgres are installed');

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(<<SQL);
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE $role LOGIN PASSWORD '$pw';
INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
  ('$T1', 'org_pool1', 'Pool One', 'pool-one'),
  ('$T2', 'org_pool2', 'Pool Two', 'pool-two'),
  ('$T3', 'org_pool3', 'Pool Three', 'pool-three');
CREATE TABLE pool_deals (tenant_id text NOT NULL, id int NOT NULL, label text NOT NULL,
                         PRIMARY KEY (tenant_id, id));
INSERT INTO pool_deals
  SELECT t.id, i, t.label || '-deal-' || i
    FROM (VALUES ('$T1', 'one'), ('$T2', 'two'), ('$T3', 'three')) t(id, label),
         generate_series(1, 5) i;
CREATE TABLE pool_secret (tenant_id text NOT NULL, x int);
GRANT SELECT ON pool_deals TO $role;
SQL

# PgBouncer: transaction pooling, 4 server connections for 20 clients (and
# an alias with 1, so that consecutive clients share one); no reset query,
# so nothing but the extension clears a tenant between clients.
my $p0 = $ENV{GTM_POOL_PORT} || 5481;
my ($port) = grep { !listening($_) } ($p0 .. $p0 + 9);
my $pgport = $node->port;
PostgreSQL::Test::Utils::append_to_file("$tmp/pgbouncer.ini", <<INI);
[databases]
$db = host=127.0.0.1 port=$pgport dbname=$db pool_size=4
${db}_one = host=127.0.0.1 port=$pgport dbname=$db pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $tmp/users.txt
pool_mode = transaction
max_client_conn = 100
default_pool_size = 4
server_reset_query =
server_connect_timeout = 5
query_wait_timeout = 30
ignore_startup_parameters = extra_float_digits
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
INI
PostgreSQL::Test::Utils::append_to_file("$tmp/users.txt", qq{"$role" "$pw"\n});
my $bouncer = IPC::Run::start([ $pgbouncer || 'pgbouncer', "$tmp/pgbouncer.ini" ],
	'<', \undef, '>', '/dev/null', '2>', '/dev/null');
for (1 .. 50)
{
	last if listening($port);
	select(undef, undef, undef, 0.2);
}
{
	local $ENV{PGPASSWORD} = $pw;
	my ($rc, $out) = gtm_run([ 'timeout', '60', 'psql', '-X', '-At', '-h', '127.0.0.1', '-p', $port,
		'-U', $role, '-d', $db, '-c', 'SELECT 1' ]);
	is($out, "1\n", "PgBouncer runs in transaction pooling mode on port $port");
}

sub conf
{
	my ($p, $d) = @_;
	return qq({"host":"127.0.0.1","port":$p,"user":"$role","password":"$pw","database":"$d"});
}
my $tenants = qq([{"id":"$T1","label":"one-"},{"id":"$T2","label":"two-"},{"id":"$T3","label":"three-"}]);

# Run the Node program; each "check ok|fail ..." line becomes a test.
sub run_node
{
	my ($mode, $pooled, $single) = @_;
	local $ENV{NODE_PATH} = $node_modules || '';
	my ($rc, $out) = gtm_run([ 'timeout', '300', 'node', "$top/test/node/pool_clients.js",
		$mode, $pooled, $single, $tenants ], merge => 1);
	my $checks = 0;
	for my $line (split /\n/, $out)
	{
		if ($line =~ /^check (ok|fail) (.*)$/)
		{
			ok($1 eq 'ok', "$mode: $2");
			$checks++;
		}
		else
		{
			note $line;
		}
	}
	ok($rc == 0 && $checks > 0, "$mode: the Node program ran to its end ($checks checks)") or diag $out;
	return;
}

run_node('pgbouncer', conf($port, $db), conf($port, "${db}_one"));
my $servers = $node->safe_psql('postgres', "SELECT count(*) FROM pg_stat_activity WHERE usename = '$role'");
ok($servers >= 1 && $servers <= 5, "PgBouncer served the 20 clients with at most 5 server connections ($servers)");
run_node('direct', conf($pgport, $db), conf($pgport, $db));

# Run a Node program of test/node that prints "check ok|fail <what>"
# lines: each becomes a test, and the program must print $expected of them
sub node_checks
{
	my ($label, $script, $expected, @args) = @_;
	local $ENV{NODE_PATH} = $node_modules || '';
	my ($rc, $out) = gtm_run([ 'timeout', '300', 'node', "$top/test/node/$script", @args ],
		merge => 1);
	my $checks = 0;
	for my $line (split /\n/, $out)
	{
		if ($line =~ /^check (ok|fail) (.*)$/)
		{
			ok($1 eq 'ok', "$label: $2");
			$checks++;
		}
	}
	ok($rc == 0 && $checks == $expected, "$label: $script ran to its end") or diag $out;
	return;
}

# A client's named statements replaced by an earlier request's SQL PREPARE
# (test/node/replaced_statement.js): refused when the next request binds
# them, directly and through PgBouncer (one server connection)
node_checks('direct', 'replaced_statement.js', 9, conf($pgport, $db), $T1, $T2, 'direct');
node_checks('pgbouncer', 'replaced_statement.js', 9, conf($port, "${db}_one"), $T1, $T2, 'pgbouncer');

# The names of a client's named statements are kept for at most 1,024 of
# them (test/node/many_statement_names.js; round FG: a million names grew
# the backend by 87 MB, for good); the role reads its backend's memory
# contexts for the check
sql("GRANT pg_read_all_stats TO $role");
node_checks('many names', 'many_statement_names.js', 6, conf($pgport, $db));
sql("REVOKE pg_read_all_stats FROM $role");

is(sql("SELECT string_agg(n::text, ',' ORDER BY t) FROM (SELECT tenant_id t, count(*) n FROM pool_deals GROUP BY 1) s"),
	'5,5,5', 'the data is unchanged (15 rows, 5 per tenant)');

$bouncer->kill_kill;
$node->stop;
done_testing();
