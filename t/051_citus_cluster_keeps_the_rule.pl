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
# passes silently.  Two checks drive a bound portal with node-postgres
# (test/node/bound_portal.js; test/lib/node.sh installs it): without node
# and node-postgres they fail, saying what is missing.
# (Was test/shell/citus_cluster.sh: its 97 checks of fd19528 and the 11
# that issue9b added up to 8015aae, with its C code, merged in 36f8e4b.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use GtmClarity::Citus;
use PostgreSQL::Test::Cluster;
use Test::More;

gtm_citus_require();
my ($coord, $w1, $w2) = gtm_citus_cluster();
my ($C, $W1, $W2) = map { $_->port } ($coord, $w1, $w2);
# as the superuser on the coordinator, database gtm
sub cq { return $coord->safe_psql('gtm', $_[0]); }

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
my ($t1, $t2) = gtm_citus_two_tenants($coord, 'deals');
cq(<<SQL);
INSERT INTO companies VALUES ('$t1', 1, 'c1'), ('$t2', 1, 'c2');
INSERT INTO deals SELECT '$t1', g, 1, 'open', g FROM generate_series(1, 5) g;
INSERT INTO deals SELECT '$t2', g, 1, 'open', 10 * g FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t1', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t2', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO tenant_labels VALUES ('$t1', 'vip'), ('$t2', 'trial');
SQL

# psql as a role over TCP (t/lib/GtmClarity/Citus.pm)
sub as_role { return gtm_citus_as_role(@_); }
sub app { return as_role('regress_citus_app', @_); }
sub owner { return as_role('regress_citus_owner', $C, $_[0]); }
sub psql_c { return gtm_citus_psql_c(@_); }
# the output of a statement that prints nothing when it works, then MORE
sub and_then
{
	my ($out, $more) = @_;
	return ($out ne '' ? "$out\n" : '') . $more;
}
my $NOT_PINNED = 'is not pinned to one tenant';
my $TWO = 'statement touches more than one tenant';
# rejected NAME MESSAGE SQL: the last statement of SQL fails with MESSAGE,
# and nothing but the error and its fields (with the lines of a CONTEXT:
# PL/pgSQL, a worker's command) was printed
sub rejected
{
	my ($name, $msg, $sql) = @_;
	my $out = app($C, $sql);
	my @lines = split /\n/, $out, -1;
	ok((grep { /^ERROR: .*\Q$msg\E/ } @lines)
		  && !(grep { !/^ERROR|^DETAIL|^HINT|^CONTEXT|^PL\/pgSQL function |^while executing command on |^[0-9a-z]*$/ } @lines),
		$name)
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
# joins of more columns than enforce_citus_pins.c searches (it hashes them)
is(app($C, "SELECT count(*), sum(d2.amount) FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
               JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id
               JOIN deals d2 ON d2.tenant_id = n.tenant_id AND d2.id = n.id WHERE c.tenant_id = '$t2'"),
	'5|150', 'pinned 4-way join of 17 columns and their join columns: that tenant only');
is(app($C, "SELECT count(*), sum(amount) FROM deals d JOIN notes n USING (tenant_id, id) JOIN companies c USING (tenant_id)
               WHERE tenant_id = '$t2'"),
	'5|150', 'pinned through the column of a chain of JOIN ... USING: that tenant only');
# JOIN ... USING of varchar and text: the merged column is the left input's
# relabeled, a column of the join itself, which stands for that input column
cq(<<SQL);
CREATE TABLE labels_vc (tenant_id varchar(64) NOT NULL, label text NOT NULL, PRIMARY KEY (tenant_id, label));
SELECT create_reference_table('labels_vc');
INSERT INTO labels_vc VALUES ('$t1', 'a'), ('$t2', 'b');
GRANT SELECT ON labels_vc TO regress_citus_app;
SQL
is(app($C, "SELECT count(*), sum(d.amount) FROM labels_vc l JOIN deals d USING (tenant_id) WHERE tenant_id = '$t2'"),
	'5|150', 'pinned through the merged column of JOIN ... USING over a relabeled input: that tenant only');
# a distributed table partitioned by another column: the shadow plan's
# references are its partitions, the query names the partitioned table
cq(<<SQL);
CREATE TABLE events (tenant_id text NOT NULL, id int NOT NULL, at int NOT NULL, PRIMARY KEY (tenant_id, id, at))
  PARTITION BY RANGE (at);
CREATE TABLE events_a PARTITION OF events FOR VALUES FROM (0) TO (100);
CREATE TABLE events_b PARTITION OF events FOR VALUES FROM (100) TO (200);
SELECT create_distributed_table('events', 'tenant_id', colocate_with => 'companies');
INSERT INTO events SELECT t, g, g * 40 FROM unnest(ARRAY['$t1', '$t2']) t, generate_series(1, 4) g;
GRANT SELECT ON events TO regress_citus_app;
SQL
is(app($C, "SELECT count(*), sum(at) FROM events WHERE tenant_id = '$t1'"), '4|400',
	'pinned SELECT of a partitioned distributed table (both partitions): that tenant only');
is(app($C, "SELECT count(*) FROM events e JOIN deals d ON d.tenant_id = e.tenant_id AND d.id = e.id WHERE e.tenant_id = '$t2' AND e.at >= 100"),
	'2', 'pinned join of one partition with a distributed table: that tenant only');
rejected('unpinned SELECT of a partitioned distributed table is rejected', $NOT_PINNED,
	'SELECT count(*) FROM events WHERE id = 1');
rejected('the same 4-way join with no tenant condition is rejected (multi-shard)', $NOT_PINNED,
	"SELECT count(*), sum(d2.amount) FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
               JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id
               JOIN deals d2 ON d2.tenant_id = n.tenant_id AND d2.id = n.id WHERE c.id = 1");
rejected('... and with the pin on a column that is no join column of the chain of USING', $NOT_PINNED,
	"SELECT count(*), sum(amount) FROM deals d JOIN notes n USING (tenant_id, id) JOIN companies c USING (tenant_id)
               WHERE c.name = 'c2'");
is(app($C, "SELECT count(*) FROM deals d JOIN stages s ON s.name = d.stage WHERE d.tenant_id = '$t1'"), '5',
	'pinned join with a reference table');

# --- a join that Citus plans with the standard planner is judged from the
# records of that call, without a copy of the query for a shadow plan
# (src/enforce_recorded.c): the verdicts, message for message, are the ones
# the shadow plan gave before (the outputs below were taken from it)
my $unpinned_d = qq{ERROR:  tenant-scoped table "deals" (alias "d") is not pinned to one tenant
DETAIL:  No condition of the statement restricts d.tenant_id to one value.
HINT:  Add "d.tenant_id = <value>" to the statement, where <value> is a constant, a parameter or gtm_current_tenant(), or join it on tenant_id to a reference that has one.};
is(app($C, "SELECT count(*) FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE d.amount > 0"),
	$unpinned_d, 'a join of two distributed tables with no tenant condition: rejected, as by the shadow plan');
is(app($C, "SELECT count(*) FROM deals d JOIN stages s ON s.name = d.stage WHERE s.name = 'open'"),
	$unpinned_d, 'a join with a reference table, the tenant table unpinned: rejected, as by the shadow plan');
is(app($C, "SET app.t = '$t1'; SELECT count(*) FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE d.tenant_id = current_setting('app.t')"),
	qq{ERROR:  tenant-scoped table "deals" (alias "d") is not pinned to one tenant
DETAIL:  d.tenant_id is compared with a value computed by a function that is not immutable, which Citus may evaluate on each worker, where it can yield another tenant on each node, rather than once on the coordinator.
HINT:  On a distributed table, compare d.tenant_id with a constant, a parameter or gtm_current_tenant().},
	'a join pinned by a value each node computes: rejected, as by the shadow plan');
is(app($C, "SET citus.enable_repartition_joins = on; SELECT count(*) FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = '$t1' AND n.tenant_id = '$t2'"),
	qq{ERROR:  statement touches more than one tenant
DETAIL:  Table "deals" (alias "d") is pinned to '$t1'::text and table "notes" (alias "n") to '$t2'::text.
HINT:  Use one tenant value per statement.},
	'a repartition join of two tenants: rejected, as by the shadow plan');
# (one message differs: gtm_current_tenant() is folded into the query Citus
# plans, so the records compare its value with the other pin when planned,
# where the shadow plan of the unfolded query compared them at the start)
is(app($C, "SELECT gtm_set_tenant('$t1', false) IS NOT NULL; SET citus.enable_repartition_joins = on;
   SELECT d.id FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = gtm_current_tenant() AND n.tenant_id = '$t2'"),
	qq{t
ERROR:  statement touches more than one tenant
DETAIL:  Table "deals" (alias "d") is pinned to '$t1'::text and table "notes" (alias "n") to '$t2'::text.
HINT:  Use one tenant value per statement.},
	'a repartition join pinned by the session tenant and by another tenant: rejected');
is(app($C, "SELECT count(*) FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE d.tenant_id = '$t1' AND n.tenant_id = '$t2'"),
	'0', 'a co-located join whose sides are pinned to two tenants: proved empty, reads nothing');
is(app($C, "SELECT count(*) FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE false"),
	'0', 'a join with no tenant condition that the planner proves empty reads nothing: accepted, as by the shadow plan');
is(app($C, "SELECT d.id FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE d.amount > 0 AND 1 = 2"),
	'', '... also without an aggregate');
is(app($C, "PREPARE j(text) AS SELECT count(*), sum(d.amount) FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
               JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE c.tenant_id = \$1;
   EXECUTE j('$t1'); EXECUTE j('$t1'); EXECUTE j('$t1'); EXECUTE j('$t1'); EXECUTE j('$t1'); EXECUTE j('$t1'); EXECUTE j('$t2')"),
	join("\n", ('5|15') x 6, '5|150'), 'a prepared 3-way join, planned again at each of 7 executions: each tenant\'s rows only');
is(app($C, "PREPARE k(int) AS SELECT count(*) FROM deals d JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE d.id = \$1;
   EXECUTE k(1); EXECUTE k(1); EXECUTE k(1); EXECUTE k(1); EXECUTE k(1); EXECUTE k(1); EXECUTE k(1)"),
	join("\n", ($unpinned_d) x 7), 'a prepared join with no tenant condition: rejected at each of 7 executions');
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
# (a PL/pgSQL function's cached plan: a statement the role prepared with
# SQL PREPARE keeps gtm_set_tenant() from starting another request)
my @l = split /\n/, app($C, "SELECT gtm_set_tenant('$t1', false) IS NOT NULL;
     SET client_min_messages = error;  -- (Citus: a pg_temp function is created locally)
     CREATE FUNCTION pg_temp.c() RETURNS bigint LANGUAGE plpgsql AS \$f\$BEGIN
       RETURN (SELECT sum(amount) FROM deals WHERE tenant_id = gtm_current_tenant() AND id < 100); END\$f\$;
     SELECT pg_temp.c(); SELECT pg_temp.c(); SELECT pg_temp.c(); SELECT pg_temp.c(); SELECT pg_temp.c(); SELECT pg_temp.c();
     SELECT gtm_set_tenant('$t2', false) IS NOT NULL; SELECT pg_temp.c()");
is("$l[1]|$l[-1]", '15|150', 'gtm_current_tenant() follows gtm_set_tenant in a cached plan');

# a portal bound under one tenant, executed after gtm_set_tenant() changed it
# (extended protocol, node-postgres: test/node/bound_portal.js)
my ($node_modules) = grep { $_ ne '' && -f "$_/pg/package.json" }
  (gtm_top() . '/test/node_modules', $ENV{GTM_NODE_MODULES} || '', '/var/cache/gtm_clarity/node/node_modules');
# bound A B: the UPDATE bound under tenant A, executed under tenant B
sub bound
{
	my ($bound_under, $run_under) = @_;
	local $ENV{NODE_PATH} = $node_modules;
	my ($rc, $out) = gtm_run([ 'timeout', '60', 'node', gtm_top() . '/test/node/bound_portal.js', $C,
		'regress_citus_app', $bound_under, $run_under,
		'UPDATE deals SET amount = amount + 1000 WHERE tenant_id = gtm_current_tenant() AND id = 4 RETURNING tenant_id, id' ],
		merge => 1);
	return $out;
}
if (system('command -v node >/dev/null') == 0 && defined $node_modules)
{
	$before = fingerprint();
	$out = bound($t1, $t2);
	is(($out =~ /^execute: ERROR \Qthe distributed plan of this statement was made for tenant '$t1', and the session tenant is now '$t2'\E/m ? 'yes' : $out)
		  . '|' . fingerprint(),
		"yes|$before",
		'a portal pinned by gtm_current_tenant(), bound under T1, executed after gtm_set_tenant(T2): rejected, nothing changed');
	is(join('|', (grep { /^execute:/ } split /\n/, bound($t1, $t1)),
			cq("SELECT amount FROM deals WHERE tenant_id = '$t1' AND id = 4")),
		"execute: $t1|4|1004", 'the same portal executed under the tenant it was bound for: that tenant\'s row');
	cq("UPDATE deals SET amount = 4 WHERE tenant_id = '$t1' AND id = 4");
}
else
{
	fail('a portal bound under T1, executed under T2 (needs node and node-postgres: test/lib/node.sh)');
	fail('the same portal executed under its tenant (needs node and node-postgres)');
}

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

# on a worker: Citus' COPY into a shard carries no session tenant; every row
# is checked against the statement's tenant (the first row fixes it)
sub copy_shard
{
	my ($table, $rows) = @_;
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-h', '127.0.0.1', '-p', $W1, '-U', 'regress_citus_app', '-d', 'gtm',
		'-c', "COPY $table FROM STDIN" ], stdin => $rows, merge => 1);
	return $out;
}
$before = fingerprint();
like(copy_shard($shard, "$t1\t700\t1\topen\t1\n$t2\t701\t1\topen\t1\n"), qr/\Q$TWO\E/,
	"worker: COPY into a shard of two tenants' rows is rejected");
like(copy_shard($shard, "$t1\t702\t1\topen\t1\n\\N\t703\t1\topen\t1\n"), qr/has no tenant/,
	'worker: COPY into a shard with a NULL tenant is rejected');
{
	local $ENV{PGAPPNAME} = 'citus_internal gpid=10000000001';
	like(psql_c('regress_citus_app', $W1, "DELETE FROM $shard"), qr/\Q$NOT_PINNED\E/,
		'worker: a client calling itself citus_internal is checked');
}
like(psql_c('regress_citus_app', $W1, 'BEGIN', "SELECT lock_relation_if_exists('$shard', 'EXCLUSIVE')"),
	qr/\QLOCK TABLE in EXCLUSIVE MODE on tenant-scoped table "$shard" is not allowed\E/,
	'worker: lock_relation_if_exists of a shard in EXCLUSIVE mode is rejected');
like(psql_c('regress_citus_app', $W1, 'SET citus.enable_manual_changes_to_shards = on', "DELETE FROM $shard"),
	qr/\Q$NOT_PINNED\E/, 'worker: citus.enable_manual_changes_to_shards does not bypass the check');
is(fingerprint(), $before, "nothing changed through the workers' COPY");

# --- more statement shapes (doc/scaling-out.md, "Statement shapes tried")
cq(<<'SQL');
SET client_min_messages = warning;
-- not co-located with deals (5 shards), and a table distributed by another column
CREATE TABLE arch (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('arch', 'tenant_id', shard_count := 5, colocate_with := 'none');
CREATE TABLE arch_by_id (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int);
SELECT create_distributed_table('arch_by_id', 'id');
INSERT INTO arch_by_id SELECT tenant_id, id, stage, amount FROM deals;
GRANT SELECT, INSERT, UPDATE, DELETE ON arch, arch_by_id TO regress_citus_app;
CREATE FUNCTION amount_of(t text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT sum(amount) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('amount_of(text)', 't', colocate_with := 'deals');
-- delegated to a worker even inside a transaction block
CREATE FUNCTION amount_forced(t text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT sum(amount) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('amount_forced(text)', 't', colocate_with := 'deals', force_delegation := true);
SQL
# the rows of arch per tenant, as the superuser: t1:count:sum,t2:count:sum
sub arch
{
	return cq("SELECT coalesce(string_agg(format('%s:%s:%s', t, n, s), ',' ORDER BY t), '-')
	             FROM (SELECT CASE tenant_id WHEN '$t1' THEN 't1' WHEN '$t2' THEN 't2' END t, count(*) n, sum(amount) s
	                   FROM arch GROUP BY tenant_id) a");
}
# T1 and T2 written t1 and t2, in each line of an output
sub short_tenants
{
	my ($text) = @_;
	my %short = ($t1 => 't1', $t2 => 't2');
	return join("\n", map { my ($first, $rest) = /^([^|]*)(.*)$/; ($short{$first} // $first) . $rest } split /\n/, $text, -1);
}
$before = fingerprint();
rejected('a prepared IN list of parameters is rejected', $NOT_PINNED,
	"PREPARE q(text, text) AS SELECT count(*) FROM deals WHERE tenant_id IN (\$1, \$2); EXECUTE q('$t1', '$t1')");
rejected('multi-shard UPDATE ... RETURNING through an OR is rejected', $NOT_PINNED,
	"UPDATE deals SET stage = 'x' WHERE tenant_id = '$t1' OR tenant_id = '$t2' RETURNING tenant_id, id");
rejected('DELETE ... RETURNING pinned, with a subquery of another tenant, is rejected', $TWO,
	"DELETE FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM notes WHERE tenant_id = '$t2') RETURNING *");
rejected('unpinned MERGE is rejected', $NOT_PINNED,
	"MERGE INTO deals d USING notes s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'merged'");
rejected("MERGE of another tenant's source (repartitioned) is rejected", $TWO,
	"MERGE INTO deals d USING (SELECT '$t1'::text AS t, deal_id FROM notes WHERE tenant_id = '$t2') s ON d.tenant_id = s.t AND d.id = s.deal_id WHEN MATCHED THEN UPDATE SET stage = 'merged'");
rejected('a data-modifying CTE of another tenant is rejected', $TWO,
	"WITH u AS (UPDATE deals SET stage = 'cte' WHERE tenant_id = '$t2' RETURNING id) SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM u)");
rejected('a distributed function called per row for two tenants is rejected', $TWO,
	"SELECT x, amount_of(x) FROM (VALUES ('$t1'), ('$t2')) v(x)");
rejected('a function of another tenant in a pinned query (run on the worker) is rejected', $TWO,
	"SELECT id, amount_of('$t2') FROM deals WHERE tenant_id = '$t1' AND id = 1");
rejected('a delegated function call while a cursor of another tenant is open is rejected', $TWO,
	"BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t1' ORDER BY id; FETCH 1 FROM c; SELECT amount_forced('$t2')");
is(join('|', grep { defined } (split /\n/, psql_c('regress_citus_app', $C,
				"SELECT count(*) FROM deals WHERE tenant_id = '$t1'; SELECT amount_forced('$t2')"))[0 .. 1]),
	"5|ERROR:  $TWO", 'a delegated function call after a pinned statement of the same query string is rejected');
is(join('|', grep { defined } (split /\n/, psql_c('regress_citus_app', $C,
				"SELECT amount_forced('$t2'); SELECT count(*) FROM deals WHERE tenant_id = '$t2'"))[0 .. 1]),
	"150|ERROR:  $TWO", 'a pinned statement after a delegated function call of the same query string is rejected');
rejected('an unpinned cursor is rejected', $NOT_PINNED, 'BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals; FETCH 2 FROM c; COMMIT');
rejected('a statement of another tenant while a cursor is open is rejected', $TWO,
	"BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t1' ORDER BY id; FETCH 1 FROM c; SELECT count(*) FROM deals WHERE tenant_id = '$t2'");
rejected('router and fast-path planners off (SET by the role): unpinned UPDATE is rejected', $NOT_PINNED,
	"SET citus.enable_router_execution = off; SET citus.enable_fast_path_router_planner = off; SET citus.task_assignment_policy = 'round-robin'; UPDATE deals SET stage = 'x'");
rejected('a subquery of another tenant sent as an intermediate result is rejected', $TWO,
	"SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')");
rejected("INSERT of two tenants' rows into a reference table is rejected", $TWO,
	"INSERT INTO tenant_labels VALUES ('$t1', 'a'), ('$t2', 'b')");
rejected('LOCK ... IN ACCESS EXCLUSIVE MODE is rejected', 'not allowed', 'BEGIN; LOCK deals IN ACCESS EXCLUSIVE MODE');
rejected('lock_relation_if_exists (Citus, PUBLIC) in ACCESS EXCLUSIVE mode is judged as LOCK TABLE: rejected',
	'LOCK TABLE in ACCESS EXCLUSIVE MODE on tenant-scoped table "deals" is not allowed',
	"BEGIN; SELECT lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE')");
rejected('lock_relation_if_exists with arguments read from a table is refused', 'must be called with constant arguments',
	"BEGIN; SELECT lock_relation_if_exists(name, 'EXCLUSIVE') FROM stages");
is((split /\n/, app($C, "SELECT result FROM run_command_on_shards('deals', 'UPDATE %s SET stage = ''x''') LIMIT 1"))[0],
	'ERROR:  master_run_on_worker() is not allowed for this role',
	'run_command_on_shards as the role is refused (it calls master_run_on_worker)');
rejected('COPY FROM into a distributed table with a session tenant: Citus refuses the checked COPY',
	'Citus does not support COPY FROM with WHERE', "SELECT gtm_set_tenant('$t2', false) IS NOT NULL; COPY deals FROM STDIN");
is(fingerprint(), $before, 'no rejected statement changed or inserted a row');
is(short_tenants(app($C, "PREPARE u(text, int) AS UPDATE deals SET amount = amount WHERE tenant_id = \$1 AND id = \$2 RETURNING tenant_id, id;
     EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t2', 2)")),
	join("\n", ('t1|1') x 6, 't2|2'), 'prepared fast-path UPDATE ... RETURNING, 6 runs then the other tenant: only those rows');
is(short_tenants(join("\n", grep { $_ ne 'f' } split /\n/,
			app($C, "SET client_min_messages = error;\n"
				  . "CREATE FUNCTION pg_temp.cu() RETURNS SETOF text LANGUAGE plpgsql AS \$f\$BEGIN RETURN QUERY
			           UPDATE deals SET amount = amount WHERE tenant_id = gtm_current_tenant() AND id = 1 RETURNING tenant_id; END\$f\$;\n"
				  . "BEGIN; SELECT gtm_set_tenant('$t1') IS NULL; SELECT pg_temp.cu(); COMMIT;\n" x 6
				  . "BEGIN; SELECT gtm_set_tenant('$t2') IS NULL; SELECT pg_temp.cu(); COMMIT;"))),
	join("\n", ('t1') x 6, 't2'), 'gtm_current_tenant() in a cached UPDATE, tenant set per transaction, switched after 6 runs');
is(and_then(app($C, "MERGE INTO deals d USING (SELECT tenant_id, id FROM notes WHERE tenant_id = '$t2' AND id < 3) s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'merged'"),
		cq("SELECT string_agg(CASE tenant_id WHEN '$t2' THEN 't2' ELSE 't1' END || ':' || stage || ':' || n, ',') FROM (SELECT tenant_id, stage, count(*) n FROM deals WHERE stage = 'merged' GROUP BY 1, 2) s")),
	't2:merged:2', "pinned MERGE changes that tenant's matched rows only");
$before = fingerprint();
rejected('MERGE from a source distributed differently (repartitioned), target pinned only through the join: the workers reject it',
	$NOT_PINNED,
	"MERGE INTO deals d USING (SELECT tenant_id, id FROM arch_by_id WHERE tenant_id = '$t1') s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'm2'");
is(fingerprint(), $before, '... and changed nothing');
is(and_then(app($C, "MERGE INTO deals d USING (SELECT tenant_id, id FROM arch_by_id WHERE tenant_id = '$t1') s ON d.tenant_id = s.tenant_id AND d.id = s.id AND d.tenant_id = '$t1' WHEN MATCHED THEN UPDATE SET stage = 'm2'"),
		cq("SELECT string_agg(CASE tenant_id WHEN '$t1' THEN 't1' ELSE 't2' END || ':' || stage || ':' || n, ',') FROM (SELECT tenant_id, stage, count(*) n FROM deals WHERE stage = 'm2' GROUP BY 1, 2) s")),
	't1:m2:5', "the same MERGE with the target pinned in ON: that tenant's matched rows only");
# a repartition join pinned on both sides is refused all the same (round
# EB): Citus joins the coordinator's distributed transaction through a
# connection back to the coordinator, which a client could imitate
# (doc/scaling-out.md, "Distributed transaction ids", rule 2); no row read
rejected('a repartition join pinned on both sides to one tenant is refused (fail closed), no row read',
	'of a transaction of the coordinator is not allowed on the coordinator',
	"SET citus.enable_repartition_joins = on; SELECT d.id, a.id FROM deals d JOIN arch_by_id a ON a.id = d.id WHERE d.tenant_id = '$t1' AND a.tenant_id = '$t1'");
is(join('|', split /\n/, app($C, "SELECT amount_of('$t2'); SELECT amount_forced('$t2'); BEGIN; SELECT amount_forced('$t1'); COMMIT")),
	'150|150|15', 'a delegated distributed function call, pinned by its argument');
is(app($C, "SET citus.enable_router_execution = off; SET citus.enable_fast_path_router_planner = off; SELECT sum(amount) FROM deals WHERE tenant_id = '$t2' AND id < 100"),
	'150', "router and fast-path planners off: pinned SELECT gives that tenant's rows");
is(app($C, "BEGIN; LOCK deals IN ROW EXCLUSIVE MODE; SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id < 100; COMMIT"),
	'5', 'LOCK TABLE in ROW EXCLUSIVE MODE (Citus sends lock_relation_if_exists to the workers), then a pinned SELECT');
is(and_then(app($C, "UPDATE tenant_labels SET label = 'gold' WHERE tenant_id = '$t1'"),
		join('|', map { $_->safe_psql('gtm', q{SELECT string_agg(l, ',' ORDER BY l) FROM (SELECT format('%s:%s', label, count(*)) l FROM tenant_labels GROUP BY label) s}) }
			  ($coord, $w1, $w2))),
	'gold:1,trial:1|gold:1,trial:1|gold:1,trial:1',
	"pinned UPDATE of a reference table with a tenant column: that tenant's row, on every placement");
cq("UPDATE tenant_labels SET label = 'vip' WHERE tenant_id = '$t1'");
is(app($C, "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t2' ORDER BY id; FETCH 2 FROM c; COMMIT"),
	"1\n2", "pinned cursor: FETCH returns that tenant's rows");

# INSERT ... SELECT between differently distributed tables
is(and_then(app($C, "INSERT INTO arch SELECT tenant_id, id, stage, amount FROM arch_by_id WHERE tenant_id = '$t1'"), arch()),
	't1:5:15', "INSERT ... SELECT into a table distributed differently (would repartition), pinned: that tenant's rows");
is(and_then(app($C, "INSERT INTO arch SELECT tenant_id, id, stage, amount FROM deals WHERE tenant_id = '$t2'"), arch()),
	't1:5:15,t2:7:152', "INSERT ... SELECT into a non-co-located table (via the coordinator), pinned: that tenant's rows");
is(and_then(app($C, "PREPARE ri(text, int) AS INSERT INTO arch SELECT tenant_id, id + \$2, stage, amount FROM arch_by_id WHERE tenant_id = \$1 AND id = 1;\n"
			  . join('', map { "EXECUTE ri('$t1', " . (1000 + $_) . ");\n" } 1 .. 6)), arch()),
	't1:11:21,t2:7:152', 'prepared repartition INSERT ... SELECT, pinned by a parameter, 6 runs');
$before = arch();
rejected("repartition INSERT ... SELECT of one tenant's rows as another's is rejected", $TWO,
	"INSERT INTO arch SELECT '$t2', id + 2000, stage, amount FROM arch_by_id WHERE tenant_id = '$t1'");
rejected('repartition INSERT ... SELECT of every tenant is rejected', $NOT_PINNED,
	'INSERT INTO arch SELECT tenant_id, id + 3000, stage, amount FROM arch_by_id');
rejected('the same, prepared, after 6 runs of one tenant, with two', $TWO,
	"PREPARE r2(text, text, int) AS INSERT INTO arch SELECT \$2, id + \$3, stage, amount FROM arch_by_id WHERE tenant_id = \$1 AND id = 2;\n"
	  . join('', map { "EXECUTE r2('$t1', '$t1', " . (4000 + $_) . ");\n" } 1 .. 6) . "EXECUTE r2('$t1', '$t2', 4100)");
cq('DELETE FROM arch WHERE id > 4000');
rejected('INSERT ... SELECT via the coordinator with ON CONFLICT: the workers cannot judge it (fail closed)', $NOT_PINNED,
	"INSERT INTO arch SELECT tenant_id, id, stage, amount FROM deals WHERE tenant_id = '$t2' ON CONFLICT (tenant_id, id) DO UPDATE SET stage = 'conflict'");
is(arch(), $before, 'no rejected INSERT ... SELECT wrote a row');

# --- intermediate results of another session's distributed transaction
# (doc/scaling-out.md, "Intermediate results of another session").  The
# victim, a session of the same role pinned to T2, holds its transaction open
# after two statements whose intermediate results Citus keeps until it ends:
# a CTE it plans separately (kept on the coordinator) and a subquery it
# broadcasts to the worker of T2's shard.  A second session of the role tries
# to join that transaction with assign_distributed_transaction_id() (the
# running ids are listed by get_all_active_transactions()) and read them.
my ($victim, $victim_out_ref, $vpid) = gtm_citus_victim($coord, 'regress_citus_app', 120,
	"WITH o AS MATERIALIZED (SELECT id, amount FROM arch_by_id WHERE tenant_id = '$t2') SELECT count(*) FROM o",
	"SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')");
# what the attacker sees, as the role
my ($vtx, $vstamp) = split /\|/,
  app($C, "SELECT transaction_number || '|' || transaction_stamp FROM get_all_active_transactions() WHERE process_id = $vpid"), 2;
$vtx = 0 unless defined $vtx && $vtx =~ /^\d+$/;
$vstamp //= '';
# where the victim's results are (as the superuser, for the test only): its
# result ids on the node N
sub victim_results
{
	my ($n) = @_;
	return $n->safe_psql('gtm', qq{SELECT string_agg(replace(f, '.data', ''), ',' ORDER BY f) FROM pg_ls_dir('base/pgsql_job_cache') d,
    LATERAL pg_ls_dir('base/pgsql_job_cache/' || d) f WHERE d LIKE format('%s\\_0\\_%s', (SELECT oid FROM pg_roles WHERE rolname = 'regress_citus_app'), '$vtx')});
}
my ($cres) = split /,/, victim_results($coord);
$cres //= '';
my ($wport, $wres) = (0, '');
for my $n ($w1, $w2)
{
	my $r = victim_results($n);
	($wport, $wres) = ($n->port, $r) if $r ne '';
}
my $t2rows = cq("SELECT id || '|' || amount FROM arch_by_id WHERE tenant_id = '$t2' ORDER BY 1");
my $t2ids = cq("SELECT string_agg(id::text, ',' ORDER BY id) FROM arch_by_id WHERE tenant_id = '$t2'");
my $read_coord = "SELECT id || '|' || amount FROM read_intermediate_result('$cres', 'binary') AS r(id int, amount int) ORDER BY 1";
my $read_worker = "SELECT string_agg(id::text, ',' ORDER BY id) FROM read_intermediate_result('$wres', 'binary') AS r(id int)";
# one query string sent to the worker holding the victim's subquery result,
# by the role connected to it directly (run_command_on_workers, which did
# this from the coordinator, is refused to the role: below): "false|" and
# the error, or "true|" and the result
sub on_worker
{
	my $out = psql_c('regress_citus_app', $wport, $_[0]);
	my ($err) = grep { /^ERROR:/ } split /\n/, $out;
	return defined $err ? "false|$err" : "true|$out";
}
# the rows id|amount an output holds
sub id_amount_rows { return join("\n", grep { /^[0-9]+\|[0-9]+$/ } split /\n/, $_[0]); }
my $TXN = 'assign_distributed_transaction_id() may be called only as Citus calls it';
my $join_and_read_worker = "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT assign_distributed_transaction_id(0, $vtx, now())) a, LATERAL read_intermediate_result('$wres', 'binary') AS r(id int)";
$out = app($C, "BEGIN; SELECT assign_distributed_transaction_id(0, $vtx, now()); $read_coord; COMMIT");
is(($out =~ /^ERROR:  \Q$TXN\E/m && $cres ne '' ? 'yes' : $out) . '|' . id_amount_rows($out), 'yes|',
	"coordinator: joining another session's distributed transaction (assign_distributed_transaction_id) is refused; no row of it is read");
$out = psql_c('regress_citus_app', $C,
	"BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, $vtx, '$vstamp');", $read_coord);
is(($out =~ /^ERROR:  \Qassign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator\E/m ? 'yes' : $out)
	  . '|' . id_amount_rows($out), 'yes|',
	"coordinator: the same in Citus' own form, then a read: refused (a transaction of the coordinator); no row");
is(on_worker($join_and_read_worker), "false|ERROR:  $TXN",
	'worker, connected directly: assign_distributed_transaction_id in a FROM list is refused; no row');
is(on_worker("SELECT assign_distributed_transaction_id(0, $vtx, '$vstamp'); $read_worker"), "false|ERROR:  $TXN",
	'worker, connected directly: assign_distributed_transaction_id followed by a read in the same string is refused');
# the same attacks with the check off for the role: they read the victim's
# rows (what the refusals above keep from it)
cq('ALTER ROLE regress_citus_app SET gtm.enforcement = off');
$out = id_amount_rows(app($C, "BEGIN; SELECT assign_distributed_transaction_id(0, $vtx, now()); $read_coord; COMMIT"));
is("$out|" . on_worker($join_and_read_worker), "$t2rows|true|$t2ids",
	"control, gtm.enforcement off for the role: the same attacks read T2's rows on the coordinator and on the worker");
cq('ALTER ROLE regress_citus_app RESET gtm.enforcement');
cq("SELECT pg_cancel_backend($vpid)");
$victim->finish;
is(join('|', grep { /^[0-9]+$/ } split /\n/, $$victim_out_ref),
	scalar(my @t2rows = split /\n/, $t2rows) . '|'
	  . cq("SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')"),
	"the victim's own statements read their intermediate results (Citus' own use)");
is(join("\n", grep { $_ ne '' } split /\n/,
		cq('BEGIN; SELECT assign_distributed_transaction_id(0, 987654, now()); SELECT transaction_number FROM get_current_transaction_id(); ROLLBACK')),
	'987654', 'an exempt role (superuser) may call assign_distributed_transaction_id');
# Citus joins a worker's transaction on the coordinator: a delegated function
# that writes a reference table (the coordinator holds a placement of it)
cq(<<'SQL');
CREATE FUNCTION add_label(t text, l text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO tenant_labels VALUES (t, l); RETURN (SELECT count(*) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('add_label(text,text)', 't', colocate_with := 'deals');
SQL
is(join('|', app($C, "SELECT add_label('$t2', 'delegated')"),
		map { $_->safe_psql('gtm', "SELECT count(*) FROM tenant_labels WHERE tenant_id = '$t2' AND label = 'delegated'") } ($coord, $w1, $w2)),
	'5|1|1|1',
	"a delegated function writing a reference table (Citus calls assign_distributed_transaction_id on the coordinator for the worker's transaction): its row on every placement");
cq(q{DELETE FROM tenant_labels WHERE label = 'delegated'});
$out = app($C, "SET citus.enable_local_execution = off; BEGIN; INSERT INTO tenant_labels VALUES ('$t2', 'nolocal'); COMMIT");
is(($out =~ /^ERROR:  \Qassign_distributed_transaction_id() of a transaction of the coordinator\E/m ? 'yes' : $out) . '|'
	  . cq(q{SELECT count(*) FROM tenant_labels WHERE label = 'nolocal'}),
	'yes|0', "citus.enable_local_execution off: Citus' connection to the coordinator itself is refused (fail closed), nothing written");

# --- modes and exemptions on the coordinator
cq('ALTER ROLE regress_citus_app SET gtm.enforcement = warn');
$out = app($C, 'SELECT sum(amount) FROM deals WHERE id < 6');
cq('ALTER ROLE regress_citus_app RESET gtm.enforcement');
is((split /\n/, $out)[-1] . '|'
	  . ($out =~ /^WARNING:  tenant-scoped table "deals" \(alias "deals"\) \Q$NOT_PINNED\E/m ? 'yes' : ''),
	'165|yes', 'warn mode (ALTER ROLE, propagated): the unpinned SELECT runs, with the warning');
is(cq('SELECT count(*) FROM deals'), '12', 'superuser is exempt on the cluster');
{
	my ($stdout, $stderr);
	$coord->psql('gtm', "SELECT gtm_exempt_table('deals')", stdout => \$stdout, stderr => \$stderr, on_error_die => 1);
	like($stderr, qr/^(?:psql:<stdin>:\d+: )?NOTICE:  "deals" is exempt on this node only/m,
		'gtm_exempt_table of a Citus table says it is exempt on this node only');
}
like(app($C, 'SELECT count(*) FROM deals WHERE amount >= 0'),
	qr/^ERROR:  tenant-scoped table "deals_[0-9]*" \(alias "deals"\) \Q$NOT_PINNED\E/m,
	'exempted on the coordinator only: the workers still check the shard queries');
cq(q{SELECT run_command_on_workers($$SELECT gtm_exempt_table('deals')$$)});
is(app($C, 'SELECT count(*) FROM deals WHERE amount >= 0'), '12',
	'exempted on every node: not checked, shards follow their table');
cq(q{SELECT run_command_on_all_nodes($$SELECT gtm_unexempt_table('deals')$$)});
rejected('unexempted on every node: checked again', $NOT_PINNED, 'SELECT count(*) FROM deals WHERE amount >= 0');

# a table whose name is long enough that Citus hashes its shards' names
# (round EX: such shards were not known as shards, and not exempt with it)
my $long = 'deals_with_a_name_long_enough_for_citus_to_hash_shard_names_x';
cq(qq{CREATE TABLE $long (tenant_id text NOT NULL, id int, amount int, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('$long', 'tenant_id', colocate_with => 'deals');
INSERT INTO $long SELECT tenant_id, id, amount FROM deals;
GRANT SELECT ON $long TO regress_citus_app;});
like(app($C, "SELECT count(*) FROM $long WHERE amount >= 0"),
	qr/^ERROR:  .*\Q$NOT_PINNED\E/m, 'a long-named distributed table is checked');
cq(qq{SELECT run_command_on_all_nodes(\$\$SELECT gtm_exempt_table('$long')\$\$)});
is(app($C, "SELECT count(*) FROM $long WHERE amount >= 0"), '12',
	'exempted on every node: its shards, whose names Citus hashed, follow it');
cq(qq{SELECT run_command_on_all_nodes(\$\$SELECT gtm_unexempt_table('$long')\$\$)});
like(app($C, "SELECT count(*) FROM $long WHERE amount >= 0"),
	qr/^ERROR:  .*\Q$NOT_PINNED\E/m, 'unexempted on every node: checked again');

# SET LOCAL of gtm.* with citus.propagate_set_commands = 'local': Citus
# replays it on the workers' connections, as the connecting role; gtm.* may be
# set by superusers only, so it reaches the workers for a superuser and fails
# (the statement with it) for an ordinary role
is(cq("BEGIN; SET LOCAL citus.propagate_set_commands = 'local'; SET LOCAL gtm.enforcement = 'warn';
SELECT current_setting('gtm.enforcement'), current_setting('port') FROM deals WHERE tenant_id = '$t1' LIMIT 1;
COMMIT;"),
	'warn|' . cq("SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = get_shard_id_for_distribution_column('deals', '$t1')"),
	'SET LOCAL gtm.enforcement, propagated (citus.propagate_set_commands = local), reaches the workers');
$before = fingerprint();
$out = psql_c($ENV{PGUSER}, $C, 'BEGIN', "SET LOCAL citus.propagate_set_commands = 'local'", "SET LOCAL gtm.enforcement = 'warn'",
	'SET LOCAL ROLE regress_citus_app', "UPDATE deals SET stage = 'warned'", 'COMMIT');
is(($out =~ /permission denied to set parameter "gtm.enforcement"/ ? 'yes' : $out) . '|' . fingerprint(), "yes|$before",
	'propagated to a connection of an ordinary role: the workers refuse it, nothing changed');

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
# the shard count of owned3 and its rows, as the superuser
sub owned3
{
	return cq(q{SELECT shard_count FROM citus_tables WHERE table_name = 'owned3'::regclass}) . '|'
	  . cq('SELECT count(*) FROM owned3');
}
# whether the owner's OUT is an error of the check on a tenant-scoped table
sub owner_refused
{
	my ($out) = @_;
	return $out =~ /^ERROR:  tenant-scoped table .*\Q$NOT_PINNED\E/m ? 'yes' : $out;
}
owner("CREATE TABLE owned3 (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO owned3 VALUES ('$t1', 1), ('$t2', 2);
SELECT create_distributed_table('owned3', 'tenant_id', colocate_with := 'none');
SELECT alter_distributed_table('owned3', shard_count := 4);");
is(owned3(), '4|2', 'a BYPASSRLS owner changes the shard count of a distributed table with rows (alter_distributed_table)');
cq('ALTER ROLE regress_citus_owner NOBYPASSRLS');
is(owner_refused(owner("SELECT alter_distributed_table('owned3', shard_count := 6);")) . '|' . owned3(), 'yes|4|2',
	"an owner that is not exempt cannot alter_distributed_table (Citus' own query is checked); the table stays as it was");
my $distributed = q{SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'owned3'::regclass};
is(owner_refused(owner("SELECT undistribute_table('owned3');")) . '|' . cq($distributed) . '|' . cq('SELECT count(*) FROM owned3'),
	'yes|1|2', 'an owner that is not exempt cannot undistribute_table; the table stays distributed, with its rows');
cq(q{SELECT run_command_on_all_nodes($$SELECT gtm_exempt_table('owned3')$$)});
is(owner_refused(owner("SELECT undistribute_table('owned3');")) . '|' . cq($distributed) . '|' . cq('SELECT count(*) FROM owned3'),
	'yes|1|2', 'exempting the table on every node does not let such an owner undistribute it (Citus writes through new tables)');

# --- the workers accept the application role only from the cluster's nodes
# (pg_hba.conf; doc/scaling-out.md, Topology): a client connected to a worker
# could send assign_distributed_transaction_id() in Citus' own form and read
# in its next statement, which the worker cannot tell from Citus'
# connection.  Every node here is on 127.0.0.1, where Citus connects from;
# the worker's Unix socket stands for any other address.
{
	my $hba = $w1->data_dir . '/pg_hba.conf';
	my $rules = PostgreSQL::Test::Utils::slurp_file($hba);
	open my $fh, '>', $hba or die "$hba: $!";
	print $fh "local gtm regress_citus_app reject\n$rules";
	close $fh;
	$w1->reload;
}
my ($rc_hba, $out_hba) = gtm_run([ 'psql', '-X', '-q', '-At', '-h', $w1->host, '-p', $W1, '-U', 'regress_citus_app',
	'-d', 'gtm', '-c', 'SELECT 1' ], merge => 1);
like($out_hba, qr/pg_hba\.conf rejects connection/,
	'worker with the pg_hba.conf rule: the role connecting from another address is refused');
is('2|' . join('|', split /\n/, app($C, "BEGIN; UPDATE deals SET amount = amount WHERE tenant_id = '$t1' AND id = 1 RETURNING id; UPDATE deals SET amount = amount WHERE tenant_id = '$t2' AND id = 1 RETURNING id; COMMIT")),
	cq("SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement WHERE shardid IN (get_shard_id_for_distribution_column('deals', '$t1'), get_shard_id_for_distribution_column('deals', '$t2'))") . '|1|1',
	"... while Citus, connecting as the role from the nodes' address, still runs a distributed transaction on both workers");

$_->stop for ($w2, $w1, $coord);
done_testing();
