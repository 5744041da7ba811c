# The tenant rule on a Citus cluster sharded by tenant_id: a 3-node Citus
# 13.2.2 cluster (a coordinator and two workers, each a server of its own on
# 127.0.0.1, shared_preload_libraries = 'citus,gtm_clarity' on every node:
# doc/scaling-out.md) and, as an ordinary role, the statement shapes of the
# issue on distributed and reference tables: each rejected statement is
# checked to have changed or inserted nothing, each accepted one to return
# or write the right rows.
#
# Citus is not packaged in Debian: test/lib/version_suite.sh builds it from
# the unmodified release tarball (test/lib/citus.sh) and installs it as root
# into the installation under test.  Without it there, or on PostgreSQL
# 17/18 (Citus runs here on 15 only), the test says why and skips; it never
# passes silently.
# (Was test/shell/citus_cluster.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Cluster;
use Test::More;

my $citus_version = '13.2.2';
{
	my $probe = PostgreSQL::Test::Cluster->new('citus_probe');
	my ($major) = $probe->config_data('--version') =~ /PostgreSQL (\d+)/;
	plan skip_all => "Citus tests run on PostgreSQL 15 only (this is $major); see doc/scaling-out.md"
	  if $major != 15;
	my ($lib, $share) = ($probe->config_data('--pkglibdir'), $probe->config_data('--sharedir'));
	my $so = -f "$lib/citus.so" ? PostgreSQL::Test::Utils::slurp_file("$lib/citus.so") : '';
	plan skip_all => "Citus $citus_version is not installed in $lib (test/lib/version_suite.sh installs it"
	  . ' as root with test/lib/citus.sh, from the release tarball)'
	  unless index($so, "Citus $citus_version") >= 0 && -f "$share/extension/citus.control";
}

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
# as the superuser on the coordinator, database gtm
sub cq { return $coord->safe_psql('gtm', $_[0]); }
cq("SELECT citus_set_coordinator_host('127.0.0.1', $C);
SELECT citus_add_node('127.0.0.1', $W1);
SELECT citus_add_node('127.0.0.1', $W2);
CREATE EXTENSION gtm_clarity;");

# The schema: three tables distributed by tenant_id and co-located, a
# reference table without a tenant column and one with it.
cq(<<'SQL');
SET client_min_messages = warning;
CREATE ROLE regress_citus_app LOGIN;
-- the tests set a session tenant (gtm_set_tenant(t, false)), which needs this
ALTER ROLE regress_citus_app SET gtm.allow_session_tenant = on;
CREATE TABLE companies (tenant_id text NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, company_id int, stage text, amount int,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE notes (tenant_id text NOT NULL, id int NOT NULL, deal_id int, body text, PRIMARY KEY (tenant_id, id));
CREATE TABLE stages (name text PRIMARY KEY);
CREATE TABLE tenant_labels (tenant_id text NOT NULL, label text NOT NULL, PRIMARY KEY (tenant_id, label));
SELECT create_distributed_table('companies', 'tenant_id');
SELECT create_distributed_table('deals', 'tenant_id', colocate_with => 'companies');
SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'companies');
SELECT create_reference_table('stages');
SELECT create_reference_table('tenant_labels');
INSERT INTO stages VALUES ('open'), ('won'), ('lost');
GRANT SELECT, INSERT, UPDATE, DELETE ON companies, deals, notes, stages, tenant_labels TO regress_citus_app;
SQL

# Two tenants whose rows live on different workers.
my $t1 = cq("SELECT id FROM gtm_provision_tenant('org_citusTenantOne', 'One')");
my $t2;
for my $i (2 .. 40)
{
	my $t = cq("SELECT id FROM gtm_provision_tenant('org_citusTenant$i', 'T$i')");
	if (cq("SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement
	         WHERE shardid IN (get_shard_id_for_distribution_column('deals', '$t1'),
	                           get_shard_id_for_distribution_column('deals', '$t'))") eq '2')
	{
		$t2 = $t;
		last;
	}
}
BAIL_OUT('no two tenants on different workers') unless defined $t2;
cq(<<SQL);
INSERT INTO companies VALUES ('$t1', 1, 'c1'), ('$t2', 1, 'c2');
INSERT INTO deals SELECT '$t1', g, 1, 'open', g FROM generate_series(1, 5) g;
INSERT INTO deals SELECT '$t2', g, 1, 'open', 10 * g FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t1', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t2', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO tenant_labels VALUES ('$t1', 'vip'), ('$t2', 'trial');
SQL

# psql as ROLE on the node of PORT over TCP, each statement sent on its own
# (one top-level statement each); stdout and stderr together, in order,
# without the last newline
sub as_role
{
	my ($role, $port, $sql) = @_;
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $port, '-U', $role,
		'-d', 'gtm', '-f', '-' ], stdin => $sql, merge => 1);
	$out =~ s/^psql:<stdin>:\d+: //mg;
	$out =~ s/\n+\z//;
	return $out;
}
sub app { return as_role('regress_citus_app', @_); }
sub owner { return as_role('regress_citus_owner', $C, $_[0]); }
my $NOT_PINNED = 'is not pinned to one tenant';
my $TWO = 'statement touches more than one tenant';
# rejected NAME MESSAGE SQL: the last statement of SQL fails with MESSAGE,
# and nothing but the error and its fields was printed
sub rejected
{
	my ($name, $msg, $sql) = @_;
	my $out = app($C, $sql);
	my @lines = split /\n/, $out, -1;
	ok((grep { /^ERROR: .*\Q$msg\E/ } @lines)
		  && !(grep { !/^ERROR|^DETAIL|^HINT|^CONTEXT|^[0-9a-z]*$/ } @lines), $name)
	  or diag $out;
}
# the data, as the superuser: a fingerprint of every row of every table
sub fingerprint
{
	return cq(q{SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
    SELECT format('d%s', d) x FROM deals d UNION ALL SELECT format('n%s', n) FROM notes n
    UNION ALL SELECT format('c%s', c) FROM companies c UNION ALL SELECT format('l%s', l) FROM tenant_labels l) s});
}
my $before = fingerprint();
like($before, qr/^[0-9a-f]{32}$/, 'the fingerprint of the data is taken');

# --- fail closed and the rule on the coordinator: statements that cross tenants
rejected('unpinned UPDATE of a distributed table is rejected', $NOT_PINNED, "UPDATE deals SET stage = 'lost'");
rejected('unpinned DELETE is rejected', $NOT_PINNED, 'DELETE FROM deals WHERE amount > 0');
rejected('unpinned SELECT is rejected', $NOT_PINNED, 'SELECT count(*) FROM deals');
rejected('multi-row INSERT of two tenants on different shards is rejected', $TWO,
	"INSERT INTO deals VALUES ('$t1', 100, 1, 'open', 1), ('$t2', 100, 1, 'open', 1)");
rejected("UNION ALL of two tenants' pinned queries is rejected", $TWO,
	"SELECT id FROM deals WHERE tenant_id = '$t1' UNION ALL SELECT id FROM deals WHERE tenant_id = '$t2'");
rejected('a CTE pinned to another tenant is rejected', $TWO,
	"WITH o AS MATERIALIZED (SELECT id FROM deals WHERE tenant_id = '$t2') SELECT d.id FROM deals d JOIN o ON o.id = d.id WHERE d.tenant_id = '$t1'");
rejected('a scalar subquery pinned to another tenant is rejected', $TWO,
	"SELECT id, (SELECT max(amount) FROM deals WHERE tenant_id = '$t2') FROM deals WHERE tenant_id = '$t1'");
rejected('a repartition join of two tenants is rejected', $TWO,
	"SET citus.enable_repartition_joins = on; SELECT count(*) FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = '$t1' AND n.tenant_id = '$t2'");
rejected("INSERT ... SELECT writing one tenant's rows into another is rejected", $TWO,
	"INSERT INTO deals (tenant_id, id, company_id, stage, amount) SELECT '$t2', id + 100, company_id, stage, amount FROM deals WHERE tenant_id = '$t1'");
rejected('UPDATE moving a row to another tenant is rejected (by Citus, before the check)',
	'modifying the partition value of rows is not allowed', "UPDATE deals SET tenant_id = '$t2' WHERE tenant_id = '$t1' AND id = 1");
rejected('unpinned SELECT of a reference table with a tenant column is rejected', $NOT_PINNED,
	'SELECT * FROM tenant_labels');
rejected('a join pinned on one side only through a non-key column is rejected', $NOT_PINNED,
	"SET citus.enable_repartition_joins = on; SELECT count(*) FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = '$t1'");
rejected('a prepared statement of two tenants is rejected when it starts (7 runs)', $TWO,
	"PREPARE two(text, text) AS SELECT id FROM deals WHERE tenant_id = \$1 UNION ALL SELECT id FROM deals WHERE tenant_id = \$2;
   EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1');
   EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t2')");
is(fingerprint(), $before, 'no rejected statement changed or inserted a row');

# --- accepted: the same verdicts as one node, right rows
is(app($C, "SELECT stage, amount FROM deals WHERE tenant_id = '$t1' AND id = 3"), 'open|3',
	'pinned point SELECT (fast path)');
is(app($C, "SELECT amount FROM deals WHERE tenant_id = '$t2' AND id = 3"), '30',
	'pinned SELECT of the other tenant on the other worker');
is(app($C, "SELECT count(*) FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
               JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE c.tenant_id = '$t2'"),
	'5', 'pinned 3-way join (router)');
is(app($C, "SELECT count(*) FROM deals d JOIN stages s ON s.name = d.stage WHERE d.tenant_id = '$t1'"), '5',
	'pinned join with a reference table');
is(app($C, "SELECT label FROM tenant_labels WHERE tenant_id = '$t1'"), 'vip',
	'pinned reference table with a tenant column');
is(app($C, "PREPARE s(text) AS SELECT sum(amount) FROM deals WHERE tenant_id = \$1;
   EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t2')"),
	"15\n15\n15\n15\n15\n15\n150", 'prepared statement, deferred pruning, 7 runs');
app($C, "UPDATE deals SET stage = 'lost' WHERE tenant_id = '$t1'");
is('UPDATE ' . cq("SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND stage = 'lost'") . '|'
	  . cq("SELECT string_agg(stage || ':' || n, ',' ORDER BY stage) FROM (SELECT stage, count(*) n FROM deals GROUP BY stage) s"),
	'UPDATE 5|lost:5,open:5', "pinned UPDATE changes that tenant's rows only");
app($C, "INSERT INTO deals VALUES ('$t2', 200, 1, 'open', 1), ('$t2', 201, 1, 'open', 1)");
is(cq("SELECT count(*) FROM deals WHERE id >= 200 AND tenant_id = '$t2'"), '2', 'pinned multi-row INSERT of one tenant');
app($C, "INSERT INTO notes (tenant_id, id, deal_id, body) SELECT tenant_id, id + 100, id, 'copy' FROM deals WHERE tenant_id = '$t1' AND id < 100");
is(cq("SELECT count(*) FROM notes WHERE body = 'copy' AND tenant_id = '$t1'"), '5',
	'pinned INSERT ... SELECT of one tenant (pushdown)');
my $out = app($C, "INSERT INTO notes (tenant_id, id, deal_id, body) SELECT tenant_id, id + 300, id, 'coord' FROM deals WHERE tenant_id = '$t1' ORDER BY id LIMIT 2");
is(($out ne '' ? "$out\n" : '') . cq("SELECT count(*) FROM notes WHERE body = 'coord' AND tenant_id = '$t1'"), '2',
	'pinned INSERT ... SELECT of one tenant (via the coordinator)');
is(app($C, "WITH o AS MATERIALIZED (SELECT id FROM deals WHERE tenant_id = '$t2' AND id < 100)
               SELECT count(*), (SELECT count(*) FROM notes WHERE tenant_id = '$t2' AND id < 100) FROM o"),
	'5|5', 'pinned CTE and subquery of one tenant');
is((split /\n/, app($C, "BEGIN; SELECT gtm_set_tenant('$t1') IS NOT NULL; SELECT count(*) FROM deals WHERE tenant_id = gtm_current_tenant() AND id < 100; COMMIT;"))[-1],
	'5', 'gtm_current_tenant() pins a SELECT');
my @l = split /\n/, app($C, "SELECT gtm_set_tenant('$t1', false) IS NOT NULL;
     PREPARE c AS SELECT sum(amount) FROM deals WHERE tenant_id = gtm_current_tenant() AND id < 100;
     EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; SELECT gtm_set_tenant('$t2', false) IS NOT NULL; EXECUTE c");
is("$l[1]|$l[-1]", '15|150', 'gtm_current_tenant() follows gtm_set_tenant in a prepared statement');

# --- gtm_check_statement on distributed tables
is(app($C, q{SELECT "table" || '|' || pinned FROM gtm_check_statement('UPDATE deals SET stage = ''x''')}),
	'deals|false', 'gtm_check_statement: unpinned on a distributed table');
is(app($C, qq{SELECT "table" || '|' || pinned FROM gtm_check_statement('SELECT * FROM deals WHERE tenant_id = ''$t1''')}),
	'deals|true', 'gtm_check_statement: pinned on a distributed table');

# --- a client connected to a worker directly
my $shard = $w1->safe_psql('gtm', q{SELECT shard_name('deals', shardid) FROM pg_dist_shard JOIN pg_dist_placement USING (shardid)
          WHERE logicalrelid = 'deals'::regclass AND groupid = (SELECT groupid FROM pg_dist_local_group) LIMIT 1});
$before = fingerprint();
like(app($W1, "UPDATE $shard SET stage = 'gone'"), qr/is not pinned to one tenant/,
	'worker: unpinned UPDATE of a shard is rejected');
like(app($W1, "UPDATE deals SET stage = 'gone'"), qr/is not pinned to one tenant/,
	'worker: unpinned UPDATE of the distributed table is rejected');
like(app($W1, "COPY $shard TO STDOUT"), qr/COPY on tenant-scoped table/, 'worker: COPY of a shard is rejected');
is(fingerprint(), $before, 'nothing changed through the workers');
is(app($W1, "SELECT amount FROM deals WHERE tenant_id = '$t2' AND id = 5"), '50',
	'worker: pinned SELECT of the distributed table');

# --- modes and exemptions on the coordinator
cq('ALTER ROLE regress_citus_app SET gtm.enforcement = warn');
$out = app($C, 'SELECT sum(amount) FROM deals WHERE id < 6');
cq('ALTER ROLE regress_citus_app RESET gtm.enforcement');
is((split /\n/, $out)[-1] . '|'
	  . ($out =~ /^WARNING:  tenant-scoped table "deals" \(alias "deals"\) \Q$NOT_PINNED\E/m ? 'yes' : ''),
	'165|yes', 'warn mode (ALTER ROLE, propagated): the unpinned SELECT runs, with the warning');
is(cq('SELECT count(*) FROM deals'), '12', 'superuser is exempt on the cluster');
cq("SELECT gtm_exempt_table('deals')");
like(app($C, 'SELECT count(*) FROM deals WHERE amount >= 0'),
	qr/^ERROR:  tenant-scoped table "deals_[0-9]*" \(alias "deals"\) \Q$NOT_PINNED\E/m,
	'exempted on the coordinator only: the workers still check the shard queries');
cq(q{SELECT run_command_on_workers($$SELECT gtm_exempt_table('deals')$$)});
is(app($C, 'SELECT count(*) FROM deals WHERE amount >= 0'), '12',
	'exempted on every node: not checked, shards follow their table');
cq(q{SELECT run_command_on_all_nodes($$SELECT gtm_unexempt_table('deals')$$)});
rejected('unexempted on every node: checked again', $NOT_PINNED, 'SELECT count(*) FROM deals WHERE amount >= 0');

# --- the table owner and Citus' table-management functions
cq('CREATE ROLE regress_citus_owner LOGIN; GRANT CREATE ON SCHEMA public TO regress_citus_owner;');
owner('CREATE TABLE owned (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));');
cq("INSERT INTO owned VALUES ('$t1', 1), ('$t2', 2)");
$out = owner("SELECT create_distributed_table('owned', 'tenant_id');");
is((split /\n/, $out)[0] . '|' . cq(q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'owned'::regclass}),
	qq{ERROR:  tenant-scoped table "owned" (alias "owned") $NOT_PINNED|0},
	"an owner that is not exempt cannot distribute a table with rows (Citus' own query is checked); it stays local");
cq('ALTER ROLE regress_citus_owner BYPASSRLS');
$out = owner("CREATE TABLE owned2 (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO owned2 VALUES ('$t1', 1), ('$t2', 2);
SELECT create_distributed_table('owned2', 'tenant_id');
SELECT count(*) FROM owned2;
SELECT undistribute_table('owned2');
SELECT count(*) FROM owned2;");
is(join('|', grep { !/^NOTICE|^DETAIL|^HINT/ } split(/\n/, $out, -1)), '|2||2',
	'a BYPASSRLS owner distributes and undistributes a table with rows');

$_->stop for ($w2, $w1, $coord);
done_testing();
