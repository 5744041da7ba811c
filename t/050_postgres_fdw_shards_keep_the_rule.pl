# The tenant rule on native sharding with postgres_fdw: a table
# hash-partitioned by tenant_id whose partitions are foreign tables on two
# shard databases (doc/scaling-out.md).  The coordinator and the two shards
# are three databases of one server, reached by postgres_fdw through its
# socket as postgres_fdw's own tests do.  The shards are queried as the role
# of the user mapping, which they trust (BYPASSRLS: exempt there); the
# ordinary application role works on the coordinator.  Each rejected
# statement is checked to have made no connection to a shard (rejected while
# planning, before any remote call) and to have changed nothing there.
# (Was test/shell/fdw_shards.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('fdw_shards');
my ($co, $s1, $s2) = ('gtm_fdw_coord', 'gtm_fdw_shard1', 'gtm_fdw_shard2');
my ($app, $shard_role, $pw) = ('regress_fdw_app', 'regress_fdw_shard', 'gtm-fdw-shards');
sub sql { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }

$node->safe_psql('postgres', "CREATE DATABASE $_") for ($co, $s1, $s2);
sql('postgres', "CREATE ROLE $app LOGIN PASSWORD '$pw';
CREATE ROLE $shard_role LOGIN BYPASSRLS PASSWORD '$pw';
ALTER ROLE $app SET gtm.allow_session_tenant = on;");
# The shards: plain tables, owned by the trusted role of the user mapping.
sql($_, "CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
ALTER TABLE deals OWNER TO $shard_role;") for ($s1, $s2);
my ($sock, $port) = ($node->host, $node->port);
sql($co, <<SQL);
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE EXTENSION postgres_fdw;
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$sock', port '$port', dbname '$s1');
CREATE SERVER shard2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$sock', port '$port', dbname '$s2');
-- the shards trust the coordinator: its connections come as $shard_role
-- (password_required 'false': a development server may trust its socket)
CREATE USER MAPPING FOR $app SERVER shard1 OPTIONS (user '$shard_role', password '$pw', password_required 'false');
CREATE USER MAPPING FOR $app SERVER shard2 OPTIONS (user '$shard_role', password '$pw', password_required 'false');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (user '$shard_role', password '$pw');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard2 OPTIONS (user '$shard_role', password '$pw');
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text) PARTITION BY HASH (tenant_id);
CREATE FOREIGN TABLE deals_s1 PARTITION OF deals FOR VALUES WITH (MODULUS 2, REMAINDER 0)
  SERVER shard1 OPTIONS (table_name 'deals');
CREATE FOREIGN TABLE deals_s2 PARTITION OF deals FOR VALUES WITH (MODULUS 2, REMAINDER 1)
  SERVER shard2 OPTIONS (table_name 'deals');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals TO $app;
SQL

# two tenants, one on each shard
my $t1 = sql($co, "SELECT id FROM gtm_provision_tenant('org_fdwShardOne', 'One')");
my $t2;
for my $i (2 .. 40)
{
	my $t = sql($co, "SELECT id FROM gtm_provision_tenant('org_fdwShard$i', 'T$i')");
	if (sql($co, "SELECT satisfies_hash_partition('deals'::regclass, 2, 0, '$t1'::text)
	               <> satisfies_hash_partition('deals'::regclass, 2, 0, '$t'::text)") eq 't')
	{
		$t2 = $t;
		last;
	}
}
BAIL_OUT('no two tenants on different shards') unless defined $t2;
sql($co, "INSERT INTO deals SELECT '$t1', g, 'open' FROM generate_series(1, 4) g;
INSERT INTO deals SELECT '$t2', g, 'open' FROM generate_series(1, 3) g;");
sub shard_of { return sql($co, "SELECT DISTINCT tableoid::regclass FROM deals WHERE tenant_id = '$_[0]'"); }
my ($sh1, $sh2) = (shard_of($t1), shard_of($t2));
# the rows as the shards hold them
sub rows
{
	return join '|', map {
		sql($_, q{SELECT string_agg(tenant_id || ':' || id || ':' || stage, ',' ORDER BY tenant_id, id) FROM deals})
	} ($s1, $s2);
}
my $before = rows();

# app SQL: as the application role, statements sent one by one; then the
# number of connections to the shards (backends of the mapped role: this
# session's, which postgres_fdw keeps open until the session ends).
# Returns the output lines, errors included, in order.
sub app
{
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-At', '-d', $co, '-U', $app, '-f', '-' ], merge => 1,
		stdin => "$_[0]\n;\nSELECT 'remote=' || count(*) FROM pg_stat_activity WHERE usename = '$shard_role';\n");
	$out =~ s/^psql:<stdin>:\d+: //mg;
	return split /\n/, $out;
}
sub first_last { my @l = @_; return "$l[0]|$l[-1]"; }

is(join(' ', sort($sh1, $sh2)), 'deals_s1 deals_s2', 'the two tenants live on different shards');
is(first_last(app('SELECT count(*) FROM deals')),
	'ERROR:  tenant-scoped table "deals_s1" (alias "deals") is not pinned to one tenant|remote=0',
	'unpinned SELECT: rejected on the coordinator, no shard contacted');
is(first_last(app("UPDATE deals SET stage = 'lost'")),
	'ERROR:  tenant-scoped table "deals_s1" (alias "deals") is not pinned to one tenant|remote=0',
	'unpinned UPDATE: rejected, no shard contacted');
is(first_last(app("INSERT INTO deals VALUES ('$t1', 90, 'x'), ('$t2', 90, 'x')")),
	'ERROR:  statement touches more than one tenant|remote=0', 'INSERT of two tenants: rejected, no shard contacted');
is(first_last(app("SELECT id FROM deals WHERE tenant_id = '$t1' UNION ALL SELECT id FROM deals WHERE tenant_id = '$t2'")),
	'ERROR:  statement touches more than one tenant|remote=0', 'UNION ALL of two tenants: rejected, no shard contacted');
is(rows(), $before, "the shards' rows are unchanged");

is(join('|', app("SELECT count(*) FROM deals WHERE tenant_id = '$t1'")), '4|remote=1',
	'pinned SELECT: accepted, right rows, one shard contacted');
is(join('|', map { /(Foreign Scan on .*)/ ? $1 : () } app("EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM deals WHERE tenant_id = '$t2'")),
	"Foreign Scan on public.$sh2 deals", "pinned SELECT is pruned to the tenant's shard");
is(join('|', app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT count(*) FROM deals WHERE tenant_id = gtm_current_tenant(); COMMIT;")),
	't|3|remote=1', 'gtm_current_tenant() pins it (evaluated on the coordinator): right rows, one shard');
is(join('|', map { /(Subplans Removed: \d+)/ ? $1 : () } app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
EXPLAIN (COSTS OFF) SELECT * FROM deals WHERE tenant_id = gtm_current_tenant(); COMMIT;")),
	'Subplans Removed: 1', 'gtm_current_tenant(): the other shard is pruned when the statement starts');
app("UPDATE deals SET stage = 'won' WHERE tenant_id = '$t2' AND id = 2");
(my $after = $before) =~ s/\Q$t2\E:2:open/$t2:2:won/;
isnt($after, $before, '(the expected rows differ from the rows before)');
is(rows(), $after, 'pinned UPDATE changes that row only, on its shard');
is(join('|', grep { !/remote/ } app("PREPARE p(text) AS SELECT count(*) FROM deals WHERE tenant_id = \$1;
EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t2');")),
	'4|4|4|4|4|4|3', 'prepared statement (generic plan after 5 runs)');
is(sql($co, q{SELECT string_agg("table" || ':' || pinned, ',' ORDER BY "table") FROM gtm_check_statement('SELECT * FROM deals')}),
	'deals_s1:false,deals_s2:false', 'gtm_check_statement on the foreign partitions');

# a foreign table's Filter (the conditions the remote server is not sent,
# gtm_current_tenant() among them) has the tenant condition first: a cheap
# function of the caller's sees no row of another tenant on that server
my ($srv2, $db2) = $sh2 eq 'deals_s2' ? ('shard2', $s2) : ('shard1', $s1);	# T2's server
sql($db2, "INSERT INTO deals VALUES ('$t1', 77, 'secret-of-t1')");
sql($co, "CREATE FOREIGN TABLE fdeals (tenant_id text NOT NULL, id int NOT NULL, stage text)
  SERVER $srv2 OPTIONS (table_name 'deals'); GRANT SELECT, UPDATE, DELETE ON fdeals TO $app;");
my @leak = app("CREATE FUNCTION pg_temp.leak(text) RETURNS bool LANGUAGE plpgsql COST 0.0001
  AS \$\$ BEGIN RAISE NOTICE 'leak %', \$1; RETURN true; END \$\$;
BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT count(*) FROM fdeals WHERE tenant_id = gtm_current_tenant() AND pg_temp.leak(stage); COMMIT;");
ok(!(grep { /secret-of-t1/ } @leak) && (grep { /^3$/ } @leak),
	"foreign table pinned by gtm_current_tenant(): the tenant condition runs before the caller's cheap function, which sees no row of the other tenant")
  or diag join "\n", @leak;

# A correlated pin into a foreign table, from an outer relation whose rows
# reach the subquery before their own pin (round AZ: the caller's temporary
# table with a row-level security policy, cheapest first): the parameter
# postgres_fdw sends the server is computed here, through gtm_pin(), so
# another tenant's value is refused before any remote call; a join pushed
# to the server, where it could not be checked, is refused while planning.
sql($db2, "INSERT INTO deals VALUES ('$t2', 88, 'secret-of-t2')");
sql($co, "CREATE TABLE local_deals (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO local_deals VALUES ('$t1', 1), ('$t2', 1); GRANT SELECT ON local_deals TO $app;");
for my $inner ('fdeals d', 'fdeals d JOIN fdeals d2 ON d2.tenant_id = d.tenant_id AND d2.id = d.id')
{
	my @corr = app("SET seq_page_cost = 0; SET cpu_tuple_cost = 0; SET cpu_operator_cost = 0;
CREATE TEMP TABLE td (t text); INSERT INTO td VALUES ('$t2'), ('$t1');
ALTER TABLE td ENABLE ROW LEVEL SECURITY; ALTER TABLE td FORCE ROW LEVEL SECURITY;
CREATE POLICY p ON td USING (set_config('app.loot', coalesce(current_setting('app.loot', true), '') || ' ' ||
  coalesce((SELECT string_agg(d.stage, ',') FROM $inner WHERE d.tenant_id = td.t), ''), false) IS NOT NULL);
SELECT a.id, (SELECT count(*) FROM td o WHERE o.t = a.tenant_id) FROM local_deals a WHERE a.tenant_id = '$t1';
SELECT 'loot=' || coalesce(current_setting('app.loot', true), '');");
	ok((grep { /ERROR:  (statement touches more than one tenant|tenant-scoped table "fdeals" \(alias "d"\) is not pinned)/ } @corr)
	   && !(grep { /secret-of-t2/ } @corr),
		"a correlated value sent to a foreign server ($inner) is checked first: refused, no row of the other tenant read")
	  or diag join "\n", @corr;
}
sql($db2, "DELETE FROM deals WHERE id = 88");

# The conditions postgres_fdw sends run on the server, on its rows of every
# tenant, in the order its planner picks and through its indexes: besides
# the pin, only leakproof conditions may be sent, whether the pin is sent
# (a constant) or not (gtm_current_tenant()), in a plain foreign scan and in
# an aggregate pushed down.  The server scans sequentially here (its role's
# settings), as a shard without a useful index does.  The condition below
# fails on the other tenant's row only.
sql('postgres', "ALTER ROLE $shard_role SET enable_indexscan = off; ALTER ROLE $shard_role SET enable_bitmapscan = off;");
my $fails_on_secret = q{(CASE WHEN stage LIKE 'secret%' THEN pg_size_bytes(stage) ELSE 0 END) IS NULL};
my $not_pinned = qr/ERROR:  tenant-scoped table "fdeals" \(alias "fdeals"\) is not pinned to one tenant/;
for my $shape (["SELECT id FROM fdeals WHERE tenant_id = '$t2' AND $fails_on_secret", 'a constant pin, a plain foreign scan'],
	["SELECT count(*) FROM fdeals WHERE tenant_id = '$t2' AND $fails_on_secret", 'a constant pin, an aggregate pushed down'],
	["UPDATE fdeals SET stage = stage WHERE tenant_id = '$t2' AND $fails_on_secret", 'an UPDATE sent to the server whole'],
	["DELETE FROM fdeals WHERE tenant_id = '$t2' AND $fails_on_secret", 'a DELETE sent to the server whole'],
	["BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT id FROM fdeals WHERE tenant_id = gtm_current_tenant() AND $fails_on_secret; COMMIT;", 'gtm_current_tenant(), not sent'])
{
	my @out = app($shape->[0]);
	ok((grep { /$not_pinned/ } @out) && !(grep { /secret-of-t1/ } @out) && (grep { /^remote=0$/ } @out),
		"$shape->[1], with a condition that is not leakproof sent to the server: rejected before any remote call, nothing quoted")
	  or diag join "\n", @out;
}
is(join('|', app("SELECT count(*) FROM (SELECT stage FROM fdeals WHERE tenant_id = '$t2' OFFSET 0) s WHERE $fails_on_secret")),
	'0|remote=1', "... the same condition on the rows the pinned scan returns (OFFSET 0): accepted, no error");
is(join('|', app("SELECT count(*) FROM fdeals WHERE tenant_id = '$t2' AND id > 0 AND stage <> 'x'")), '3|remote=1',
	'leakproof conditions sent beside the pin are fine');
# ... but not beside a pin the wrapper cannot send: the server would send
# here the rows of other tenants that match them (how long that takes tells
# how many; round AF)
my @beside = app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT count(*) FROM fdeals WHERE tenant_id = gtm_current_tenant() AND stage = 'secret-of-t1'; COMMIT;");
ok((grep { /ERROR:  tenant-scoped table "fdeals" \(alias "fdeals"\) is not pinned to one tenant/ } @beside) && (grep { /^remote=0$/ } @beside),
	'a leakproof condition sent beside a pin that is not: rejected before any remote call') or diag join "\n", @beside;
is(join('|', grep { !/^(t|COMMIT|BEGIN)$/ } app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT count(*) FROM fdeals WHERE tenant_id = gtm_current_tenant(); COMMIT;")), '3|remote=1',
	'gtm_current_tenant() alone on a foreign table: accepted (the coordinator filters)');
# A pin the wrapper cannot send (gtm_current_tenant()) leaves the server
# reading every tenant's rows: the coordinator filters them, but a lock
# (FOR UPDATE, UPDATE, DELETE) or a sort by an expression that is not
# leakproof would reach them all there.  Rejected; with a constant, fine.
my $remote_unpinned = qr/ERROR:  tenant-scoped table "fdeals" \(alias "\w+"\) is not pinned to one tenant/;
for my $shape (["SELECT id FROM fdeals WHERE tenant_id = gtm_current_tenant() ORDER BY pg_size_bytes(stage) LIMIT 1", 'a sort by pg_size_bytes()'],
	["SELECT id FROM fdeals WHERE tenant_id = gtm_current_tenant() AND id = 77 FOR UPDATE", 'FOR UPDATE'],
	["DELETE FROM fdeals WHERE tenant_id = gtm_current_tenant() AND id = 77", 'a DELETE'],
	["UPDATE fdeals SET stage = stage WHERE tenant_id = gtm_current_tenant()", 'an UPDATE'],
	["SET LOCAL enable_sort = off; SELECT d.id FROM fdeals d JOIN generate_series(0, 0) g
  ON g = CASE WHEN d.stage LIKE 'secret%' THEN pg_size_bytes(d.stage) ELSE 0 END
 WHERE d.tenant_id = gtm_current_tenant() ORDER BY g", 'a sort by a value a join equates with an expression of the table'])
{
	my @out = app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL; $shape->[0]; COMMIT;");
	ok((grep { /$remote_unpinned/ } @out) && !(grep { /secret-of-t1/ } @out) && (grep { /^remote=0$/ } @out),
		"a pin not sent to the server, with $shape->[1]: rejected before any remote call")
	  or diag join "\n", @out;
}
# The same through the partitioned table, whose foreign partitions are
# child relations: PostgreSQL 18 keeps their members of an equivalence
# class (the sort key a join equates with an expression of the partition)
# apart from the parent's (round FJ F0: accepted on 18, and the shard
# sorted every tenant's rows by it; its error quoted the other tenant's
# value)
sql($co, "CREATE TABLE nums (k int PRIMARY KEY); INSERT INTO nums SELECT generate_series(0, 100);
ANALYZE nums; GRANT SELECT ON nums TO $app;");
for my $shape (["SELECT d.id FROM deals d JOIN nums n
  ON n.k = CASE WHEN d.stage LIKE 'secret%' THEN pg_size_bytes(d.stage) ELSE 0 END
 WHERE d.tenant_id = gtm_current_tenant() ORDER BY n.k LIMIT 1", 'a sort a join equates with an expression of a foreign partition'],
	["SELECT d.id FROM deals d WHERE d.tenant_id = gtm_current_tenant() ORDER BY pg_size_bytes(d.stage) LIMIT 1", 'a sort by pg_size_bytes() of a foreign partition'],
	["SET LOCAL enable_sort = off; SET LOCAL enable_hashjoin = off; SET LOCAL enable_nestloop = off;
SELECT d.id FROM deals d JOIN nums n ON n.k = CASE WHEN d.stage LIKE 'secret%' THEN pg_size_bytes(d.stage) ELSE 0 END
 WHERE d.tenant_id = gtm_current_tenant()", 'a merge join key of a foreign partition'])
{
	my @out = app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL; $shape->[0]; COMMIT;");
	ok((grep { /ERROR:  tenant-scoped table "deals_s[12]" \(alias "d"\) is not pinned to one tenant/ } @out)
	   && !(grep { /secret-of-t1|invalid|pg_size_bytes/ } @out) && (grep { /^remote=0$/ } @out),
		"a pin not sent to the server, with $shape->[1]: rejected before any remote call")
	  or diag join "\n", @out;
}
is(join('|', grep { !/^(t|COMMIT|BEGIN)$/ } app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT d.id FROM deals d JOIN nums n ON n.k = d.id WHERE d.tenant_id = gtm_current_tenant() ORDER BY n.k LIMIT 1; COMMIT;")),
	'1|remote=1', '... a sort by a column of the partition: accepted');
is(join('|', grep { !/^(t|COMMIT|BEGIN)$/ } app("BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
DELETE FROM fdeals WHERE tenant_id = '$t2' AND id = 999; SELECT id FROM fdeals WHERE tenant_id = '$t2' AND id = 1 FOR UPDATE; COMMIT;")),
	'1|remote=1', '... the same with the tenant a constant, which is sent: accepted');
# An UPDATE or DELETE the wrapper cannot send whole (a value it does not
# send: now()) fetches the rows, then writes each by its ctid, which on a
# partitioned shard table names a row in every partition: rejected
my $rows_before = rows();
for my $shape (["UPDATE fdeals SET stage = stage || now()::text WHERE tenant_id = '$t2' AND id = 1", 'an UPDATE'],
	["DELETE FROM fdeals WHERE tenant_id = '$t2' AND id = 1 AND now() IS NOT NULL RETURNING clock_timestamp()", 'a DELETE'])
{
	my @out = app($shape->[0]);
	ok((grep { /ERROR:  tenant-scoped table "fdeals" \(alias "fdeals"\) is not pinned to one tenant/ } @out) && (grep { /^remote=0$/ } @out),
		"$shape->[1] of a foreign table written row by row (by ctid): rejected before any remote call")
	  or diag join "\n", @out;
}
is(rows(), $rows_before, "... nothing changed on the shards");
sql('postgres', "ALTER ROLE $shard_role RESET ALL;");

# A foreign table of the application role's own over a shard's table (its
# tenant column renamed away) would be no tenant table on the coordinator:
# refused (the role has no USAGE on the servers, which it does not need for
# the DBA's foreign tables, and must not have: dblink would reach a shard
# with it)
my @own = app("CREATE FOREIGN TABLE pg_temp.raw (tid text OPTIONS (column_name 'tenant_id'), id int, stage text)
  SERVER $srv2 OPTIONS (schema_name 'public', table_name 'deals');
SELECT count(*) FROM pg_temp.raw;");
ok((grep { /ERROR:  creating foreign tables is not allowed for this role/ } @own) && !(grep { /^\d+$/ } @own),
	"the application role's own foreign table over a shard: refused, nothing read")
  or diag join "\n", @own;
my @imported = app("CREATE SCHEMA IF NOT EXISTS pg_temp; IMPORT FOREIGN SCHEMA public LIMIT TO (deals) FROM SERVER $srv2 INTO pg_temp;");
ok((grep { /creating foreign tables is not allowed for this role|permission denied/ } @imported),
	'IMPORT FOREIGN SCHEMA by the application role: refused') or diag join "\n", @imported;

# Statistics (round FM F1: gtm_protect_table failed here, "deals_s1 is not
# a table", and the parent's statistics stayed readable): the parent is put
# under row-level security; a foreign partition cannot take a policy and is
# left out, its statistics shown only to roles with a privilege on it
is(sql($co, "SELECT string_agg(t::text, ',' ORDER BY t::text) FROM gtm_protect_table('deals') t"), 'deals',
	'gtm_protect_table on a table of foreign partitions protects the parent, not the foreign partitions');
sql($co, 'ANALYZE deals; ANALYZE deals_s1; ANALYZE deals_s2');
ok(sql($co, "SELECT count(*) FROM pg_stats WHERE tablename IN ('deals', 'deals_s1', 'deals_s2') AND attname = 'tenant_id'") >= 2,
	'the parent and its foreign partitions have statistics');
is(join('|', app("SELECT count(*) FROM pg_stats WHERE tablename IN ('deals', 'deals_s1', 'deals_s2')")), '0|remote=0',
	'the application role reads none of them');
is(join('|', app("SELECT count(*) FROM deals WHERE tenant_id = '$t1'")), '4|remote=1',
	'a pinned SELECT under the policy: its tenant\'s rows');

$node->stop;
done_testing();
