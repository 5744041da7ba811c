# Three holes found by trying shapes on a Citus cluster as an ordinary role
# (no superuser, no BYPASSRLS), each checked on the DATA, with a control
# that shows the shape does what the attack needs (doc/scaling-out.md,
# "Statement shapes tried"):
#
#  1. rule 2 of enforce_citus_txn.c (no joining a coordinator's distributed
#     transaction on the coordinator) read Citus' metadata with a query whose
#     "=" and "<>" (and JOIN ... USING) followed the caller's search_path: a
#     role with CREATE on a schema put its own "=" first, and read another
#     session's intermediate results (T2's rows).
#  2. lock_relation_if_exists() was not judged when pg_proc changed between
#     the call's fmgr_info and its start (a function earlier in the target
#     list running CREATE FUNCTION, in pg_temp: no privilege needed): it took
#     ACCESS EXCLUSIVE on "deals".
#  3. a pin by a stable built-in value that differs per node
#     (CASE current_setting('port') ...) was accepted on the coordinator,
#     while Citus evaluates it on each worker: one SELECT read two tenants.
#
# The 3-node cluster of t/051 (t/lib/GtmClarity/Citus.pm); skipped, saying
# why, where Citus 13.2.2 is not installed or on PostgreSQL 17/18.
# (Its first 13 checks are those of the shell test that b142a65 added with the fix.)
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
my $C = $coord->port;
# as the superuser on the coordinator, database gtm
sub cq { return $coord->safe_psql('gtm', $_[0]); }
# a superuser statement expected to fail: its error
sub cq_err
{
	my ($stdout, $stderr);
	$coord->psql('gtm', $_[0], stdout => \$stdout, stderr => \$stderr);
	return $stderr;
}
my $superuser = scalar(getpwuid($<));

cq(<<'SQL');
SET client_min_messages = warning;
CREATE ROLE regress_citus_app LOGIN;
ALTER ROLE regress_citus_app SET gtm.allow_session_tenant = on;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int, PRIMARY KEY (tenant_id, id));
CREATE TABLE arch_by_id (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int);
SELECT create_distributed_table('deals', 'tenant_id');
SELECT create_distributed_table('arch_by_id', 'id');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, arch_by_id TO regress_citus_app;
-- the application's own schema (it owns it, as a role that runs its migrations would)
CREATE SCHEMA appschema AUTHORIZATION regress_citus_app;
SQL
my ($t1, $t2) = gtm_citus_two_tenants($coord, 'deals');
my $p1 = cq("SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = get_shard_id_for_distribution_column('deals', '$t1')");
cq(<<SQL);
INSERT INTO deals SELECT '$t1', g, 'open', g FROM generate_series(1, 5) g;
INSERT INTO deals SELECT '$t2', g, 'open', 10 * g FROM generate_series(1, 5) g;
INSERT INTO arch_by_id SELECT tenant_id, id, stage, amount FROM deals;
SQL

sub app { return gtm_citus_as_role('regress_citus_app', @_); }
sub app_c { return gtm_citus_psql_c('regress_citus_app', $C, @_); }
sub first_line { return (split /\n/, $_[0])[0] // ''; }
sub fingerprint { return cq("SELECT md5(string_agg(format('%s', d), ',' ORDER BY d::text)) FROM deals d"); }
my $before = fingerprint();
my $NOT_PINNED = 'ERROR:  tenant-scoped table "deals" (alias "deals") is not pinned to one tenant';
my $out;

# --- 3. a pin by a value that each node computes
my $pernode = "CASE current_setting('port') WHEN '$p1' THEN '$t1' ELSE '$t2' END";
is(join(' ', sort split /\n/,
		cq("SELECT tenant_id || '|' || count(*) FROM deals WHERE tenant_id = $pernode GROUP BY tenant_id ORDER BY 1")),
	join(' ', sort ("$t1|5", "$t2|5")),
	'control: as the superuser, a SELECT pinned by a per-node value reads both tenants (5 rows each)');
$out = app($C, "SELECT tenant_id || '|' || count(*) FROM deals WHERE tenant_id = $pernode GROUP BY tenant_id");
my $rows_read = grep { /^\Q$t1\E|^\Q$t2\E/ } split /\n/, $out;
is(first_line($out) . '|' . ($rows_read || ''), "$NOT_PINNED|",
	'a SELECT pinned by a value that Citus computes on each worker is rejected; no row read')
  or diag $out;
$out = app($C, "SELECT id FROM deals WHERE tenant_id = ('{\"$p1\": \"$t1\"}'::jsonb ->> current_setting('port'))");
is(first_line($out), $NOT_PINNED, "the same through a jsonb lookup of current_setting('port') is rejected")
  or diag $out;
$out = app($C, "UPDATE deals SET stage = 'lost' WHERE tenant_id = ('{\"$p1\": \"$t1\"}'::jsonb ->> current_setting('port'))");
is(first_line($out) . '|' . fingerprint(), "$NOT_PINNED|$before",
	'an UPDATE pinned by a per-node value is rejected; no row changed')
  or diag $out;
is(join('|', grep { !/^[ft]$/ } split /\n/, app($C, "SELECT count(*) FROM deals WHERE tenant_id = '$t1';
PREPARE p(text) AS SELECT sum(id * 5) FROM deals WHERE tenant_id = \$1;
EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1');
DEALLOCATE p;
SELECT gtm_set_tenant('$t2', false) IS NULL;
SELECT sum(amount) FROM deals WHERE tenant_id = gtm_current_tenant();")),
	'5|75|75|75|75|75|75|75|150',
	'still accepted: a constant pin, a parameter pin (prepared, 7 runs), gtm_current_tenant()');

# --- 2. lock_relation_if_exists after a pg_proc change in the same statement
my $mk = q{CREATE FUNCTION pg_temp.mk() RETURNS int LANGUAGE plpgsql AS $f$BEGIN CREATE OR REPLACE FUNCTION pg_temp.x() RETURNS int LANGUAGE sql AS 'SELECT 1'; RETURN 1; END$f$;};
my $locks = q{SELECT coalesce(string_agg(mode, ','), 'none') FROM pg_locks WHERE relation = 'public.deals'::regclass AND pid = pg_backend_pid();};
is(join("\n", grep { /Lock/ } split /\n/,
		gtm_citus_psql_c($superuser, $C, 'SET client_min_messages = error', $mk, 'BEGIN',
			"SELECT pg_temp.mk(), lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE')", $locks, 'ROLLBACK')),
	'AccessExclusiveLock', 'control: as the superuser, the shape takes ACCESS EXCLUSIVE on deals');
$out = app($C, "SET client_min_messages = error; $mk
BEGIN;
SELECT pg_temp.mk(), lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE');
ROLLBACK;
BEGIN;
SELECT lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE') FROM generate_series(1, 2) WHERE pg_temp.mk() = 1;
$locks
ROLLBACK;");
my @lines = split /\n/, $out;
is(first_line(join("\n", grep { /^ERROR/ } @lines)) . '|'
	  . scalar(grep { /^ERROR:  LOCK TABLE/ } @lines) . '|'
	  . join("\n", grep { /Lock$/ } @lines),
	'ERROR:  LOCK TABLE in ACCESS EXCLUSIVE MODE on tenant-scoped table "deals" is not allowed|2|',
	'lock_relation_if_exists after CREATE FUNCTION in the same statement is judged: rejected, no lock held')
  or diag $out;
is(join('|', split /\n/, app($C, "SET client_min_messages = error; $mk
BEGIN; SELECT lock_relation_if_exists('deals', 'ROW EXCLUSIVE') FROM generate_series(1, 1) WHERE pg_temp.mk() = 1; $locks ROLLBACK;")),
	't|RowExclusiveLock', 'lock_relation_if_exists in ROW EXCLUSIVE mode after the same change still passes');

# --- 1. rule 2 with the caller's own "=" first in its search_path.  The
# victim, a session of the same role pinned to T2, holds its transaction
# open after a CTE whose intermediate result Citus keeps on the coordinator.
my ($victim, undef, $vpid) = gtm_citus_victim($coord, 'regress_citus_app', 60,
	"WITH o AS MATERIALIZED (SELECT id, amount FROM arch_by_id WHERE tenant_id = '$t2') SELECT count(*) FROM o");
my $vtx = app($C, "SELECT transaction_number FROM get_all_active_transactions() WHERE process_id = $vpid");
$vtx = 0 unless $vtx =~ /^\d+$/;
my ($cres) = split /,/, cq(qq{SELECT string_agg(replace(f, '.data', ''), ',') FROM pg_ls_dir('base/pgsql_job_cache') d,
    LATERAL pg_ls_dir('base/pgsql_job_cache/' || d) f WHERE d LIKE format('%s\\_0\\_%s', (SELECT oid FROM pg_roles WHERE rolname = 'regress_citus_app'), '$vtx')});
$cres //= '';
my $t2rows = join(' ', split /\n/, cq("SELECT id || '|' || amount FROM arch_by_id WHERE tenant_id = '$t2' ORDER BY 1"));
# the role's own "=": made by the superuser and given to it (the role may
# not create an operator of an existing name itself, round EZ)
cq("CREATE FUNCTION appschema.fake_eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE OPERATOR appschema.= (LEFTARG = int, RIGHTARG = int, FUNCTION = appschema.fake_eq);
ALTER FUNCTION appschema.fake_eq(int, int) OWNER TO regress_citus_app;
ALTER OPERATOR appschema.= (int, int) OWNER TO regress_citus_app;");
like(app($C, "CREATE OPERATOR appschema.= (LEFTARG = text, RIGHTARG = text, FUNCTION = texteq)"),
	qr/^ERROR:  creating operator "=" outside pg_temp is not allowed for this role/m,
	'the role may not create an operator of an existing name');
is(app_c('SET search_path = appschema, pg_catalog', 'SELECT 0 = 0') . '|' . ($cres ne '' ? 'yes' : ''), 'f|yes',
	"control: with appschema first in search_path, 0 = 0 is false for the role; the victim's result is there");
my $read_coord = "SELECT id || '|' || amount FROM read_intermediate_result('$cres', 'binary') AS r(id int, amount int) ORDER BY 1";
my $join = "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, $vtx, '2026-01-01');";
my $COORD_TXN = 'ERROR:  assign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator';
# the rows id|amount an output holds
sub id_amount_rows { return join(' ', grep { /^[0-9]+\|[0-9]+$/ } split /\n/, $_[0]); }
$out = app_c('SET search_path = appschema, pg_catalog', $join, $read_coord);
is(first_line(join("\n", grep { /^ERROR/ } split /\n/, $out)) . '|' . id_amount_rows($out), "$COORD_TXN|",
	"joining the coordinator's transaction with the role's own \"=\" first in search_path is refused; no row read")
  or diag $out;
$out = app_c('SET search_path = appschema, public, pg_catalog', $join, $read_coord);
is(first_line(join("\n", grep { /^ERROR/ } split /\n/, $out)), $COORD_TXN,
	'the same with public before pg_catalog is refused too')
  or diag $out;
is(id_amount_rows(gtm_citus_psql_c($superuser, $C, $join, 'SET ROLE regress_citus_app', $read_coord)), $t2rows,
	"control: the superuser (exempt) joins it the same way and reads T2's rows");
is(fingerprint(), $before, 'no rejected statement changed a row');

cq("SELECT pg_cancel_backend($vpid)") if $vpid;
$victim->finish;

# --- 4. run_command_on_workers() and the other run_command_on_*() (PUBLIC)
# run SQL text on the workers, each command in a connection of its own:
# one statement read T1 here and T2's rows there, or updated both
my $MRW = 'ERROR:  master_run_on_worker() is not allowed for this role';
$out = app($C, "SELECT d.id, r.result FROM deals d,
  run_command_on_workers(\$c\$SELECT string_agg(id || ':' || amount, ' ') FROM deals WHERE tenant_id = '$t2'\$c\$) r
 WHERE d.tenant_id = '$t1'");
# (T2's amounts, not a port number of a CONTEXT line: "127.0.0.1:17100")
is(first_line($out) . '|' . ((join "\n", grep { !/executing command on|^(CONTEXT|DETAIL|HINT):/ } split /\n/, $out) =~ /10/ ? 'T2 read' : ''), "$MRW|",
	"run_command_on_workers() reading T2 inside a statement pinned to T1 is refused; no T2 row read") or diag $out;
$out = app($C, "WITH u AS (UPDATE deals SET stage = 'hit1' WHERE tenant_id = '$t1' AND id = 1 RETURNING id)
SELECT (SELECT count(*) FROM u), (SELECT string_agg(result, ',') FROM run_command_on_workers(\$c\$UPDATE deals SET stage = 'hit2' WHERE tenant_id = '$t2' AND id = 1\$c\$))");
is(first_line($out) . '|' . cq("SELECT count(*) FROM deals WHERE stage IN ('hit1', 'hit2')"), "$MRW|0",
	'run_command_on_workers() updating T2 in a statement that updates T1 is refused; neither row changed') or diag $out;
is(first_line(app($C, "SELECT result FROM run_command_on_all_nodes('SELECT 1')")), $MRW,
	'run_command_on_all_nodes(), even of a statement on no table, is refused to the role');
is(cq("SELECT result FROM run_command_on_coordinator('SELECT 1')"), '1',
	'control: the superuser (exempt) runs run_command_on_coordinator()');

# --- 5. an IMMUTABLE function of the role's, with a value that differs on
# Citus' own connections (application_name citus_internal...): the
# coordinator's shadow plan folded it to T1, while Citus sent the call to
# the worker, which read T3 (a tenant of T1's shard); now the call is
# folded before Citus plans the query, so the worker gets T1
my $t3 = cq("SELECT v FROM generate_series(1, 100000) g, LATERAL (SELECT 'tenant-' || g AS v) s
  WHERE get_shard_id_for_distribution_column('deals', v) = get_shard_id_for_distribution_column('deals', '$t1')
    AND v <> '$t1' LIMIT 1");
cq("INSERT INTO deals SELECT '$t3', g, 'open', 100 * g FROM generate_series(1, 3) g");
app($C, "CREATE FUNCTION appschema.tidx() RETURNS text LANGUAGE sql IMMUTABLE AS
  \$f\$SELECT CASE WHEN current_setting('application_name') LIKE 'citus_internal%' THEN '$t3' ELSE '$t1' END\$f\$");
# (the superuser runs no function of the role's, round FB: the control
# uses a copy of its own)
cq("CREATE FUNCTION appschema.tidx_su() RETURNS text LANGUAGE sql IMMUTABLE AS
  \$f\$SELECT CASE WHEN current_setting('application_name') LIKE 'citus_internal%' THEN '$t3' ELSE '$t1' END\$f\$");
is(cq("SELECT count(*) FROM deals WHERE tenant_id = appschema.tidx_su()"), '3',
	'control: as the superuser (not folded first), the call reaches the worker, which reads T3 (3 rows)');
like(cq_err("SELECT count(*) FROM deals WHERE tenant_id = appschema.tidx()"),
	qr/a statement of an exempt role cannot use objects of a role the tenant check applies to/,
	"the superuser runs no function of the role's");
$out = app($C, "SELECT tenant_id || '|' || id FROM deals WHERE tenant_id = appschema.tidx() ORDER BY id");
is(join(' ', split /\n/, $out), join(' ', map { "$t1|$_" } 1 .. 5),
	"the role's SELECT pinned by its IMMUTABLE function reads T1's rows only") or diag $out;
$out = app($C, "UPDATE deals SET stage = 'tidx' WHERE tenant_id = appschema.tidx() AND id = 1");
is(cq("SELECT string_agg(tenant_id || ':' || id, ',' ORDER BY tenant_id) FROM deals WHERE stage = 'tidx'"), "$t1:1",
	"... and its UPDATE changes T1's row, not T3's") or diag $out;
$out = app($C, "PREPARE p(int) AS SELECT count(*) FROM deals WHERE tenant_id = appschema.tidx() AND id <= \$1;
EXECUTE p(5); EXECUTE p(5); EXECUTE p(5); EXECUTE p(5); EXECUTE p(5); EXECUTE p(5); EXECUTE p(5);");
is(join(' ', split /\n/, $out), join(' ', ('5') x 7), '... also prepared, run seven times (generic plan)') or diag $out;
is(first_line(app($C, "SELECT * FROM gtm_check_statement('SELECT * FROM deals WHERE tenant_id = appschema.tidx()')")) =~ /\Q$t1\E/ ? 'T1' : 'no',
	'T1', 'gtm_check_statement reports the pin the coordinator sends (T1)');

# --- 6. a procedure the role distributed (create_distributed_function,
# co-located with deals): Citus may run its CALL on a worker as a statement
# of its own, where the tenant that an open cursor or portal reached (T1)
# is not known; refused while another statement is open, run when alone
app($C, "CREATE PROCEDURE appschema.pw(t text) LANGUAGE sql AS
  \$p\$UPDATE deals SET stage = 'by_call' WHERE tenant_id = t AND id = 2\$p\$;
SELECT create_distributed_function('appschema.pw(text)', '\$1', colocate_with := 'deals');");
my $CALL = 'ERROR:  a distributed procedure must be called in a statement of its own';
$out = app($C, "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t1' ORDER BY id;
FETCH 1 FROM c; CALL appschema.pw('$t2'); COMMIT;");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . cq("SELECT count(*) FROM deals WHERE stage = 'by_call'"), "$CALL|0",
	'CALL of a distributed procedure for T2 while a cursor of T1 is open is refused; nothing changed') or diag $out;
$out = app($C, "DO \$d\$ BEGIN PERFORM count(*) FROM deals WHERE tenant_id = '$t1'; CALL appschema.pw('$t2'); END \$d\$");
is(first_line($out) . '|' . cq("SELECT count(*) FROM deals WHERE stage = 'by_call'"), "$CALL|0",
	'... and from a DO block that read T1; nothing changed') or diag $out;
$out = app($C, "CALL appschema.pw('$t2')");
is(cq("SELECT string_agg(tenant_id || ':' || id, ',') FROM deals WHERE stage = 'by_call'"), "$t2:2",
	'the same CALL in a statement of its own runs (T2 row 2 only)') or diag $out;

# --- 7. a CTE pinned to T1 that Citus plans separately, and the rest of the
# statement sent to the worker holding T2's shard over the intermediate
# result and a table of no tenant (the role's own): a function there read
# (or updated) T2's shard, as a worker statement that had reached no
# tenant; now a query over intermediate results stands for a tenant the
# worker does not know
my $t2shard = 'deals_' . cq("SELECT get_shard_id_for_distribution_column('deals', '$t2')");
my $p2 = cq("SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = get_shard_id_for_distribution_column('deals', '$t2')");
app($C, "CREATE TABLE appschema.k (k int PRIMARY KEY);
SELECT create_distributed_table('appschema.k', 'k', colocate_with := 'none');
INSERT INTO appschema.k SELECT generate_series(1, 40);
CREATE FUNCTION appschema.t2read() RETURNS text LANGUAGE plpgsql STABLE AS \$f\$ DECLARE r text; BEGIN
  EXECUTE \$q\$SELECT string_agg(id || ':' || amount, ' ') FROM public.$t2shard WHERE tenant_id = '$t2'\$q\$ INTO r; RETURN r;
  EXCEPTION WHEN undefined_table THEN RETURN 'no shard here'; END \$f\$;
CREATE FUNCTION appschema.t2upd() RETURNS int LANGUAGE plpgsql VOLATILE AS \$f\$ DECLARE n int; BEGIN
  EXECUTE \$q\$UPDATE public.$t2shard SET stage = 'via_worker_fn' WHERE tenant_id = '$t2' AND id = 3\$q\$;
  GET DIAGNOSTICS n = ROW_COUNT; RETURN n; EXCEPTION WHEN undefined_table THEN RETURN -1; END \$f\$;");
# a key of k whose shard is on the worker of T2's shard
my $kk = cq("SELECT k FROM generate_series(1, 40) k WHERE (SELECT nodeport FROM pg_dist_shard_placement
  WHERE shardid = get_shard_id_for_distribution_column('appschema.k', k)) = $p2 LIMIT 1");
$out = app($C, "WITH x AS MATERIALIZED (SELECT string_agg(id || ':' || amount, ' ') s FROM deals WHERE tenant_id = '$t1')
SELECT x.s, appschema.t2read() FROM x, appschema.k WHERE k.k = $kk");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . ($out =~ /:10\b/ ? 'T2 read' : ''), 'ERROR:  statement touches more than one tenant|',
	"a function reading T2 on the worker, in the rest of a statement whose CTE read T1, is refused; no T2 row") or diag $out;
$out = app($C, "WITH x AS MATERIALIZED (SELECT string_agg(id || ':' || amount, ' ') s FROM deals WHERE tenant_id = '$t1')
SELECT x.s, appschema.t2upd() FROM x, appschema.k WHERE k.k = $kk");
is(cq("SELECT count(*) FROM deals WHERE stage = 'via_worker_fn'"), '0',
	'... and one updating T2 changes nothing') or diag $out;
$out = app($C, "WITH x AS MATERIALIZED (SELECT count(*) AS n FROM deals WHERE tenant_id = '$t1')
SELECT x.n, k.k FROM x, appschema.k WHERE k.k = $kk");
is($out, "5|$kk", 'the same statement without the function runs (Citus plans it the same way)') or diag $out;

# --- 8. the same through other tasks of one statement: a UNION ALL branch,
# query_to_xml() (built in: it runs SQL text) in place of the function, the
# source of an INSERT ... SELECT; each task that reaches no tenant by its
# own pins now stands for a tenant the worker does not know
my $T2_ROWS = qr/\b10\b.*\b20\b|:10\b/s;
$out = app($C, "SELECT string_agg(id || ':' || amount, ' ') FROM deals WHERE tenant_id = '$t1'
UNION ALL SELECT appschema.t2read() FROM appschema.k WHERE k.k = $kk");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . ($out =~ $T2_ROWS ? 'T2 read' : ''), 'ERROR:  statement touches more than one tenant|',
	'a UNION ALL branch on the role\'s table calling a function that reads T2, beside a T1 branch, is refused; no T2 row') or diag $out;
$out = app($C, "SELECT string_agg(id || ':' || amount, ' ') FROM deals WHERE tenant_id = '$t1'
UNION ALL SELECT query_to_xml(\$q\$SELECT string_agg(id || ':' || amount, ' ') s FROM public.$t2shard WHERE tenant_id = '$t2'\$q\$, false, false, '')::text
  FROM appschema.k WHERE k.k = $kk");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . ($out =~ $T2_ROWS ? 'T2 read' : ''), 'ERROR:  statement touches more than one tenant|',
	'... and the same with the built-in query_to_xml(); no T2 row') or diag $out;
$out = app($C, "INSERT INTO deals SELECT '$t1', 100 + k, appschema.t2read(), 0 FROM appschema.k WHERE k.k = $kk");
is(cq("SELECT count(*) FROM deals WHERE id >= 100"), '0',
	'an INSERT ... SELECT whose source task reads T2 through the function inserts nothing') or diag $out;
$out = app($C, "SET citus.enable_repartition_joins = on;
SELECT d.id, appschema.t2read() FROM deals d JOIN appschema.k ON k.k = d.amount WHERE d.tenant_id = '$t1' ORDER BY d.id");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . ($out =~ $T2_ROWS ? 'T2 read' : ''), 'refused|',
	'a repartition join pinned to T1 with the function on the other side is refused (here already by its coordinator connection); no T2 row') or diag $out;

# --- 9. an IMMUTABLE function of the role's that answers differently at each
# call (it counts its calls): it was evaluated once for Citus (T2) and again
# for the shadow plan (T1); now once, for both
app($C, "CREATE FUNCTION appschema.flip() RETURNS text LANGUAGE plpgsql IMMUTABLE AS \$f\$
DECLARE n int := coalesce(nullif(current_setting('appschema.n', true), ''), '0')::int + 1;
BEGIN PERFORM set_config('appschema.n', n::text, false);
  RETURN CASE WHEN n = 1 THEN '$t2' ELSE '$t1' END; END \$f\$");
$out = app_c("SELECT set_config('appschema.n', '0', false)",
	"INSERT INTO deals (tenant_id, id, stage, amount) SELECT appschema.flip(), 300 + id, 'from T1 ' || amount, amount FROM arch_by_id WHERE tenant_id = '$t1'");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . cq("SELECT count(*) FROM deals WHERE id >= 300"),
	'ERROR:  statement touches more than one tenant|0',
	"an INSERT ... SELECT of T1's rows written with the function's value (T2) is refused; nothing inserted") or diag $out;
$out = app_c("SELECT set_config('appschema.n', '0', false)",
	"SELECT string_agg(amount::text, ',') FROM deals WHERE tenant_id = '$t1'; SELECT string_agg(amount::text, ',') FROM deals WHERE tenant_id = appschema.flip()");
is((grep { /^ERROR/ } split /\n/, $out)[0] . '|' . ($out =~ /10,20/ ? 'T2 read' : ''), 'ERROR:  statement touches more than one tenant|',
	'a read of T1, then a read pinned by the function in the same message, is refused; no T2 row') or diag $out;

# --- 10. other ways Citus runs the role's code on a worker outside a task's
# pins: a task that plans to a bare Result calling a distributed function
# (no delegation: a subquery among its arguments); a CHECK constraint of the
# role's table evaluated by the COPY that writes an INSERT ... SELECT's rows;
# a deferred constraint trigger fired by PREPARE TRANSACTION; an index
# expression evaluated by CREATE INDEX on the shards.  Each now stands for a
# tenant the worker does not know: refused, nothing of T2 read or changed.
my $t1shard = 'deals_' . cq("SELECT get_shard_id_for_distribution_column('deals', '$t1')");
cq("UPDATE deals SET stage = 'open' WHERE stage <> 'open'");
my $fp = fingerprint();
app($C, "CREATE FUNCTION appschema.rd(x text) RETURNS text LANGUAGE plpgsql AS \$f\$ DECLARE r text; BEGIN
  BEGIN EXECUTE \$q\$SELECT string_agg(id || ':' || amount, ' ') FROM public.$t2shard WHERE tenant_id = '$t2'\$q\$ INTO r;
  EXCEPTION WHEN undefined_table THEN r := 'no shard here'; END; RETURN x || ' ' || coalesce(r, ''); END \$f\$;
CREATE FUNCTION appschema.hit(what text) RETURNS boolean LANGUAGE plpgsql VOLATILE AS \$f\$ BEGIN
  BEGIN EXECUTE format(\$q\$UPDATE public.$t2shard SET stage = %L WHERE tenant_id = '$t2' AND id = 3\$q\$, what);
  EXCEPTION WHEN undefined_table THEN
    EXECUTE format(\$q\$UPDATE public.$t1shard SET stage = %L WHERE tenant_id = '$t1' AND id = 3\$q\$, what); END;
  RETURN true; END \$f\$;
CREATE FUNCTION appschema.ixf(k int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS \$f\$ BEGIN
  RETURN k + (appschema.hit('index')::int) - 1; END \$f\$;
CREATE FUNCTION appschema.dtrg() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN
  PERFORM appschema.hit('deferred'); RETURN NULL; END \$f\$;
CREATE TABLE appschema.k2 (k int, v text, CHECK (appschema.hit('check')));
SELECT create_distributed_table('appschema.k2', 'k', colocate_with := 'none');
CREATE TABLE appschema.k4 (k int, v text);
SELECT create_distributed_table('appschema.k4', 'k', colocate_with := 'none');
CREATE TABLE appschema.k5 (k int, v text);
SELECT create_distributed_table('appschema.k5', 'k', colocate_with := 'none');");
$out = app($C, "WITH a AS MATERIALIZED (SELECT string_agg(id || ':' || amount, ' ') s FROM deals WHERE tenant_id = '$t1'),
  b AS MATERIALIZED (SELECT appschema.rd((SELECT k::text FROM appschema.k WHERE k = $kk)) r FROM (SELECT 1) s)
SELECT a.s, b.r FROM a, b");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . ($out =~ $T2_ROWS ? 'T2 read' : ''), 'refused|',
	'a function with a subquery argument, planned to a bare Result on the worker, is no delegated call: refused, no T2 row') or diag $out;
$out = app($C, "INSERT INTO appschema.k2 SELECT id, stage FROM deals WHERE tenant_id = '$t1' AND id = 1");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . cq("SELECT count(*) FROM deals WHERE stage = 'check'"), 'refused|0',
	"a CHECK constraint of the role's table, evaluated by Citus' COPY of an INSERT ... SELECT of T1, changes no row") or diag $out;
$out = app($C, "SET citus.enable_unsafe_triggers = on;
CREATE CONSTRAINT TRIGGER dt AFTER INSERT ON appschema.k4 DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION appschema.dtrg();
INSERT INTO appschema.k4 SELECT k, 'x' FROM generate_series(1, 8) k;");
is(cq("SELECT count(*) FROM deals WHERE stage = 'deferred'"), '0',
	'a deferred constraint trigger fired at PREPARE TRANSACTION on the workers changes no row') or diag $out;
app($C, "INSERT INTO appschema.k5 SELECT k, 'x' FROM generate_series(1, 8) k");
$out = app($C, "CREATE INDEX k5_ix ON appschema.k5 (appschema.ixf(k))");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . cq("SELECT count(*) FROM deals WHERE stage = 'index'"), 'refused|0',
	'CREATE INDEX on an expression that changes T1 and T2 on the shards is refused; no row changed') or diag $out;
is(fingerprint(), $fp, 'no row of deals changed by any of them');

# --- 11. create_intermediate_result() written by the client beside its own
# table (a task of its own on a worker, not Citus' form of a runner task):
# its query updated T2 while the other branch read T1; and a COPY into a
# tenant table of the role's whose domain CHECK reads T2 before the first
# row is checked (Citus' COPY of an INSERT ... SELECT): both now refused
$out = app($C, "SELECT string_agg(id || ':' || amount, ' ') FROM deals WHERE tenant_id = '$t1'
UNION ALL
SELECT 'updated: ' || x FROM appschema.k, LATERAL create_intermediate_result('r' || k.k,
  \$q\$UPDATE public.$t2shard SET stage = 'via_cir' WHERE tenant_id = '$t2' AND id = 4 RETURNING id\$q\$) x
WHERE k.k = $kk");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . cq("SELECT count(*) FROM deals WHERE stage = 'via_cir'"), 'refused|0',
	"create_intermediate_result() of an UPDATE of T2 beside a T1 branch is refused; T2's row unchanged") or diag $out;
app($C, "CREATE FUNCTION appschema.domchk(v text) RETURNS boolean LANGUAGE plpgsql AS \$f\$ DECLARE r text; BEGIN
  BEGIN EXECUTE \$q\$SELECT string_agg(id || ':' || amount, ' ') FROM public.$t2shard WHERE tenant_id = '$t2'\$q\$ INTO r;
  EXCEPTION WHEN undefined_table THEN RETURN true; END;
  RAISE EXCEPTION 'DOMLEAK[%]', r; END \$f\$;
CREATE DOMAIN appschema.dom AS text CHECK (appschema.domchk(VALUE));
CREATE TABLE appschema.tt2 (id int, v text);
SELECT create_distributed_table('appschema.tt2', 'id', colocate_with := 'none');
ALTER TABLE appschema.tt2 ADD COLUMN tenant_id text;
ALTER TABLE appschema.tt2 ADD COLUMN w appschema.dom;");
$out = app($C, "INSERT INTO appschema.tt2 (id, v, tenant_id, w) SELECT k, stage, tenant_id, 'y' FROM deals, generate_series(1, 8) k WHERE tenant_id = '$t1' AND id = 1");
is(($out =~ /^ERROR:  /m ? 'refused' : 'ran') . '|' . ($out =~ /DOMLEAK\[[^\]]/ ? 'T2 read' : ''), 'refused|',
	"Citus' COPY into the role's tenant table whose domain CHECK reads T2 first is refused; no T2 row in the message") or diag $out;

# --- 12. a deferred trigger the owner put on a tenant table fires at the
# worker's COMMIT of a transaction: it belongs to the tenant the
# transaction's statements reached (not refused as work of no tenant)
cq("SET citus.enable_unsafe_triggers = on;
CREATE TABLE deals_audit (tenant_id text NOT NULL, id int);
SELECT create_distributed_table('deals_audit', 'tenant_id', colocate_with := 'deals');
GRANT SELECT, INSERT ON deals_audit TO regress_citus_app;
CREATE FUNCTION audit_deal() RETURNS trigger LANGUAGE plpgsql AS \$f\$ BEGIN
  INSERT INTO deals_audit VALUES (NEW.tenant_id, NEW.id); RETURN NULL; END \$f\$;
CREATE CONSTRAINT TRIGGER deals_audit_t AFTER INSERT ON deals DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW EXECUTE FUNCTION audit_deal();");
$out = app($C, "BEGIN; INSERT INTO deals VALUES ('$t1', 900, 'audited', 0); COMMIT;");
is(cq("SELECT string_agg(tenant_id || ':' || id, ',') FROM deals_audit"), "$t1:900",
	"the owner's deferred audit trigger runs at the worker's COMMIT for the transaction's tenant") or diag $out;

# --- 13. round BW: a tenant written from the role's own temp table, whose
# partial index (built while its IMMUTABLE function returned T2) now stands
# for "t = T1", through a MATERIALIZED CTE into a distributed table: Citus
# ran the SELECT on the coordinator and sent each shard a COPY of one
# tenant, so T1's deals were copied into T2.  On one server each written
# row is checked (enforce_written_check.c); Citus' plan cannot carry that
# check, so such a write is refused, and the lying index's too
my $before13 = fingerprint();
my $lying = "SET client_min_messages = warning;
CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE plpgsql IMMUTABLE AS \$f\$ BEGIN RETURN current_setting('app.x'); END \$f\$;
CREATE TEMP TABLE xs (t text, k int);
SELECT set_config('app.x', '$t2', false) IS NOT NULL;
CREATE INDEX xs_p ON xs (k) WHERE t = pg_temp.f();
INSERT INTO xs VALUES ('$t2', 1);
SELECT set_config('app.x', '$t1', false) IS NOT NULL;
ALTER INDEX xs_p SET (fillfactor = 90);
SET enable_seqscan = off;
SET enable_bitmapscan = off;";
my $copy13 = "WITH src AS MATERIALIZED (SELECT x.t FROM xs x WHERE x.t = '$t1' AND x.k = 1)
INSERT INTO deals SELECT src.t, 700 + d.id, 'copied', d.amount FROM src, deals d WHERE d.tenant_id = '$t1';";
$out = app($C, "$lying\n$copy13");
is(($out =~ /^ERROR:  tenant-scoped table "deals" \(alias "deals"\) is not pinned to one tenant/m ? 'refused' : 'ran') . '|'
	  . cq("SELECT count(*) FROM deals WHERE stage = 'copied'") . '|' . (fingerprint() eq $before13 ? 'unchanged' : 'changed'),
	'refused|0|unchanged',
	"T1's deals copied through the role's lying partial index into a distributed table: refused, nothing written") or diag $out;
$out = app($C, "SET client_min_messages = warning;
CREATE TEMP TABLE ys (t text, k int);
INSERT INTO ys VALUES ('$t1', 1);
INSERT INTO deals SELECT y.t, 800, 'from temp', 0 FROM ys y WHERE y.t = '$t1' AND y.k = 1;");
like($out, qr/DETAIL:  deals\.tenant_id is given its value from a relation that is not a tenant table, and a distributed planner \(Citus\) plans the write/,
	'a distributed write taking its tenant from a temp table is refused (fail closed: its rows cannot be checked in the plan Citus runs)');
is(cq("SELECT count(*) FROM deals WHERE stage = 'from temp'"), '0', 'and writes nothing');
# round BX: the same through the RETURNING of an UPDATE of the temp table,
# read by a bitmap scan whose condition was only its Recheck Cond
$out = app($C, "$lying
SET enable_indexscan = off;
SET enable_bitmapscan = on;
WITH u AS (UPDATE xs SET k = k WHERE t = '$t1' AND k = 1 RETURNING t)
INSERT INTO deals SELECT u.t, 810, 'update returning', 0 FROM u;");
is(($out =~ /^ERROR:  tenant-scoped table "deals"/m ? 'refused' : 'ran') . '|'
	  . cq("SELECT count(*) FROM deals WHERE stage = 'update returning'"),
	'refused|0', "a tenant from UPDATE ... RETURNING of the role's temp table into a distributed table: refused, nothing written")
  or diag $out;

# --- 14. round CI: a tenant column of a type whose text depends on settings
# (a date): Citus writes the pinned value into the shard query as text in
# the client's DateStyle, and the worker reads it in its own (ISO, MDY):
# under DateStyle SQL, DMY '2000-01-04' was sent as 04/01/2000 and read as
# April 1st, another tenant of the same shard, read, updated and planted by
# statements pinned to January 4th.  Such a column is refused in a
# distributed plan; a text tenant column is not affected
cq("CREATE TABLE ddeals (tenant_id date NOT NULL, id int NOT NULL, stage text);
SELECT create_distributed_table('ddeals', 'tenant_id');
GRANT SELECT, INSERT, UPDATE, DELETE ON ddeals TO regress_citus_app;");
my ($dx, $dy) = split /\|/, cq("SELECT d::text || '|' || s::text FROM (
  SELECT d::date AS d, make_date(2000, extract(day FROM d)::int, extract(month FROM d)::int) AS s
    FROM generate_series('2000-01-01'::date, '2000-12-12', '1 day') d
   WHERE extract(day FROM d) <= 12 AND extract(day FROM d) <> extract(month FROM d)) p
 WHERE get_shard_id_for_distribution_column('ddeals', d) = get_shard_id_for_distribution_column('ddeals', s)
 ORDER BY d LIMIT 1");
cq("INSERT INTO ddeals VALUES ('$dx', 1, 'x-own'), ('$dy', 1, 'y-secret')");
sub dfp { return cq("SELECT string_agg(tenant_id::text || ':' || id || ':' || stage, ',' ORDER BY tenant_id, id) FROM ddeals"); }
my $dbefore = dfp();
my $dmy = "SET datestyle = 'SQL, DMY';";
$out = app($C, "$dmy SELECT stage FROM ddeals WHERE tenant_id = '$dx'::date;");
is(($out =~ /^ERROR:  tenant-scoped table "ddeals" \(alias "ddeals"\) is not pinned to one tenant/m ? 'refused' : 'ran')
	  . '|' . ($out =~ /y-secret/ ? 'read Y' : 'no Y row'),
	'refused|no Y row', "a date tenant pinned under DateStyle DMY on a distributed table: refused, no row of the swapped date read")
  or diag $out;
like($out, qr/DETAIL:  ddeals\.tenant_id is of a type whose text is not its value's alone/,
	'... with the reason: the value would reach the workers as text in the client\'s settings');
$out = app($C, "$dmy PREPARE pd(date) AS SELECT stage FROM ddeals WHERE tenant_id = \$1; EXECUTE pd('$dx');
UPDATE ddeals SET stage = stage || '-changed' WHERE tenant_id = '$dx'::date;
INSERT INTO ddeals VALUES ('$dx', 7, 'planted');");
is(dfp(), $dbefore, 'the prepared read, the UPDATE and the INSERT pinned to that date change nothing, plant nothing')
  or diag $out;
like(app($C, "$dmy SELECT count(*) FROM deals WHERE tenant_id = '$t1';"),
	qr/^ERROR:  "DateStyle" cannot take this value with Citus\n(.*\n)*\Q@{[cq("SELECT count(*) FROM deals WHERE tenant_id = '$t1'")]}\E$/,
	'a text tenant column: the DateStyle is refused (round DM, section 19), the read runs as before');

# --- 15. rounds DF, DG: standard_conforming_strings.  Citus writes a
# string constant into the shard query quoted for the setting of the
# session that writes it, and the worker reads it with its own: with the
# role's default off (ALTER ROLE ... SET, propagated to the workers, where
# Citus' connections then had it off), "\'" ended the string early on the
# worker, and a SELECT judged pinned to T1 returned another tenant's rows, an
# UPDATE pinned to T1 changed another tenant's rows of T1's shard (DF); a
# function of the statement that turned it off after the checks, before
# Citus wrote its text, doubled every backslash (DG).  With Citus loaded, a
# role the rule applies to cannot turn it off (the setting's check hook),
# and no statement runs while it is off (enforce_citus_strings.c)
my $vic = cq("SELECT 'victim' || g FROM generate_series(1, 5000) g
  WHERE get_shard_id_for_distribution_column('deals', 'victim' || g) = get_shard_id_for_distribution_column('deals', '$t1')
  ORDER BY g LIMIT 1");
my $vshard = cq("SELECT shard_name('deals', get_shard_id_for_distribution_column('deals', '$vic'))");
cq("INSERT INTO deals SELECT '$vic', g, 'secret', 1000 + g FROM generate_series(1, 3) g");
sub vic_rows { return cq("SELECT string_agg(id || ':' || stage, ',' ORDER BY id) FROM deals WHERE tenant_id = '$vic'"); }
my $vbefore = vic_rows();
my $inj_select = "SELECT tenant_id, stage FROM deals WHERE tenant_id = '$t1' AND stage <> "
  . "'x\\'' AND false)) UNION ALL SELECT tenant_id, stage FROM $vshard WHERE tenant_id = \$z\$$vic\$z\$ --';";
my $inj_update = "UPDATE deals SET stage = 'y\\'' WHERE tenant_id = \$z\$$vic\$z\$ RETURNING tenant_id, stage --' "
  . "WHERE tenant_id = '$t1' AND id = 2 RETURNING tenant_id, stage;";
my $TURNED = 'ERROR:  standard_conforming_strings cannot be turned off';
my $IS_OFF = 'ERROR:  standard_conforming_strings is off';
sub errors { return join('|', grep { /^(ERROR|FATAL)/ } split /\n/, $_[0]); }
# the control: a superuser with the setting off by default (its own role's
# default, propagated), its coordinator session on: Citus' worker
# connections read the shard query otherwise than it was written
cq("CREATE ROLE regress_citus_su SUPERUSER LOGIN;
ALTER ROLE regress_citus_su SET standard_conforming_strings = off;");
$out = gtm_citus_as_role('regress_citus_su', $C, "SET standard_conforming_strings = on;\n$inj_select");
is(scalar(grep { /^\Q$vic\E\|secret$/ } split /\n/, $out), 3,
	"control: as a superuser whose role has standard_conforming_strings off on the workers, the T1 SELECT returns the other tenant's 3 rows")
  or diag $out;
cq("DROP ROLE regress_citus_su");
# the application role cannot set that default
$out = app($C, "ALTER ROLE regress_citus_app SET standard_conforming_strings = off;");
# (no setting of its own at all since round EZ: ALTER ROLE ... SET is refused
# to a role the check applies to)
is(errors($out) . '|' . cq("SELECT count(*) FROM pg_db_role_setting WHERE setrole = 'regress_citus_app'::regrole AND array_to_string(setconfig, ',') LIKE 'standard_conforming%'"),
	"ERROR:  ALTER ROLE ... SET is not allowed for this role|0", 'the application role cannot set its standard_conforming_strings default to off; nothing stored')
  or diag $out;
like($out, qr/HINT:  Let a role exempt from the tenant-scope check set roles' settings\./, '... with a hint');
# a default set by a superuser (a DBA's mistake) is ignored when a session
# of the role starts, on the coordinator and on Citus' connections
cq("ALTER ROLE regress_citus_app SET standard_conforming_strings = off");
$out = app($C, "SHOW standard_conforming_strings;\n$inj_select");
is(scalar(grep { /^on$/ } split /\n/, $out) . '|' . scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . errors($out),
	'1|0|', "with a superuser's default off for the role: the session runs with it on (a warning), the injected SELECT reads no row of the other tenant")
  or diag $out;
like($out, qr/WARNING:  standard_conforming_strings cannot be turned off/, '... and says so');
$out = app($C, $inj_update);
is(errors($out) . '|' . vic_rows(), "|$vbefore", 'the injected UPDATE changes no row of the other tenant')
  or diag $out;
cq("ALTER ROLE regress_citus_app RESET standard_conforming_strings");
# every other way of turning it off
is(errors(app($C, "SET standard_conforming_strings = off;")), $TURNED, 'SET ... = off: refused');
is(errors(app($C, "SELECT set_config('standard_conforming_strings', 'off', false);")), $TURNED, 'set_config(): refused');
is(errors(app($C, "CREATE FUNCTION pg_temp.s() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS 'SELECT 1';")),
	$TURNED, "a function's SET clause: refused when the function is created");
is(errors(gtm_citus_as_role('regress_citus_app', $C, "SELECT 1;")), '', 'control: the role connects and runs a statement');
{
	local $ENV{PGOPTIONS} = '-c standard_conforming_strings=off';
	like(app($C, "SELECT count(*) FROM deals WHERE tenant_id = '$t1';"),
		qr/FATAL:  standard_conforming_strings cannot be turned off/, 'a connection option: the connection is refused');
}
# a statement prepared with it on, executed in a transaction whose SET
# LOCAL Citus would replay on its connections
$out = app($C, "PREPARE pi(text) AS SELECT tenant_id, stage FROM deals WHERE tenant_id = '$t1' AND stage <> \$1;
EXECUTE pi('a');
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL standard_conforming_strings = off;
EXECUTE pi(\$v\$x\\'' AND false)) UNION ALL SELECT tenant_id, stage FROM $vshard --\$v\$);
ROLLBACK;");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . (split /\|/, errors($out))[0], "0|$TURNED",
	'SET LOCAL ... = off before an EXECUTE: refused, nothing read')
  or diag $out;
# the setting turned off by the statement's own functions, after the
# checks of the statement's start and before Citus writes its text (DG):
# tenants 'sc<g>\5' and 'sc<g>\\5' of one shard
my $g = cq(q{SELECT g FROM generate_series(1, 20000) g
  WHERE get_shard_id_for_distribution_column('deals', 'sc' || g || '\5') =
        get_shard_id_for_distribution_column('deals', 'sc' || g || '\\\\5') ORDER BY g LIMIT 1});
my ($own, $dbl) = ("sc$g\\5", "sc$g\\\\5");
cq("INSERT INTO deals VALUES ('$own', 1, 'own', 1), ('$dbl', 1, 'secret', 999)");
my $flip = q{CREATE FUNCTION pg_temp.f() RETURNS text LANGUAGE sql STABLE AS $f$SELECT left(set_config('standard_conforming_strings', 'off', true), 0)$f$;};
sub dbl_rows { return cq("SELECT string_agg(id || ':' || stage, ',' ORDER BY id) FROM deals WHERE tenant_id = '$dbl'"); }
gtm_citus_psql_c($superuser, $C, $flip, "UPDATE deals SET stage = pg_temp.f() || 'changed' WHERE tenant_id = '$own'");
is(dbl_rows(), '1:changed', "control: as the superuser, an UPDATE pinned to '$own' whose function turns the setting off changes tenant '$dbl'");
cq("UPDATE deals SET stage = 'secret' WHERE tenant_id = '$dbl'");
$out = app($C, "$flip
UPDATE deals SET stage = pg_temp.f() || 'changed' WHERE tenant_id = '$own' RETURNING tenant_id, stage;");
is(errors($out) . '|' . dbl_rows(), "$TURNED|1:secret", 'as the application role: refused, no row of the other tenant changed')
  or diag $out;
$out = app($C, "$flip
INSERT INTO deals VALUES ('$own', 7, pg_temp.f() || 'x', 7);");
is(errors($out) . '|' . dbl_rows(), "$TURNED|1:secret", 'the same in an INSERT: refused, no row planted')
  or diag $out;
$out = app($C, q{CREATE FUNCTION pg_temp.g() RETURNS int LANGUAGE plpgsql AS $f$BEGIN SET LOCAL standard_conforming_strings = off; RETURN 0; END$f$;} . "
SELECT pg_temp.g();");
is(errors($out), $TURNED, 'SET LOCAL in a PL/pgSQL function: refused') or diag $out;
$out = app($C, q{CREATE FUNCTION pg_temp.i() RETURNS int LANGUAGE sql IMMUTABLE AS $f$SELECT length(set_config('standard_conforming_strings', 'off', true)) * 0$f$;} . "
PREPARE s AS SELECT tenant_id, stage FROM deals WHERE tenant_id = '$own' AND pg_temp.i() = 0;
EXECUTE s;");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . (split /\|/, errors($out))[0], "0|$TURNED",
	'an IMMUTABLE function that turns it off while the planner folds it: refused when planned, nothing read')
  or diag $out;
# a server configured with it off (the only way left): every statement of
# the role is refused but the SET that turns it on, alone in its string
for my $n ($coord, $w1, $w2)
{
	$n->safe_psql('gtm', "ALTER SYSTEM SET standard_conforming_strings = off; SELECT pg_reload_conf();");
}
$out = app_c("SELECT count(*) FROM deals WHERE tenant_id = '$t1'");
is(first_line($out), $IS_OFF, 'server configured off: a pinned SELECT of the role is refused');
like($out, qr/HINT:  Run SET standard_conforming_strings = on alone in its query string/, '... with the way out in its hint');
is(first_line(app_c("SET standard_conforming_strings = on; SELECT count(*) FROM deals WHERE tenant_id = '$t1'")), $IS_OFF,
	'the SET followed by a statement in one query string is refused (the string was read with the setting off)');
like(app_c('SET standard_conforming_strings = on', "SELECT count(*) FROM deals WHERE tenant_id = '$t1'"), qr/^\Q$IS_OFF\E/m,
	'the SET alone runs; the SELECT is then refused on the worker, whose connection has the server setting');
is(first_line(gtm_citus_psql_c($superuser, $C, "SELECT count(*) FROM deals WHERE tenant_id = '$t1'")),
	cq("SET standard_conforming_strings = on; SELECT count(*) FROM deals WHERE tenant_id = '$t1'"),
	'the superuser (exempt) runs statements with the setting off');
for my $n ($coord, $w1, $w2)
{
	$n->safe_psql('gtm', "ALTER SYSTEM RESET standard_conforming_strings; SELECT pg_reload_conf();");
}
is(vic_rows() . '|' . dbl_rows(), "$vbefore|1:secret", 'no row of the two other tenants changed by any of it');

# --- 16. round DG: pins made of a text conversion whose output function
# reads a setting (bytea_output, extra_float_digits), which Citus sent
# unevaluated to the workers: bytea_output hex on the coordinator, escape
# on Citus' connections (a replayed SET LOCAL): the coordinator judged
# '\x...' and the worker read the name itself.  Evaluated on the
# coordinator now
my $bt = cq(q{SELECT 'bt' || g FROM generate_series(1, 20000) g
  WHERE get_shard_id_for_distribution_column('deals', 'bt' || g) =
        get_shard_id_for_distribution_column('deals', ('bt' || g)::bytea::text) ORDER BY g LIMIT 1});
cq("INSERT INTO deals VALUES ('$bt', 1, 'secret', 4646), ('$bt', 2, 'secret', 4647)");
my $bytea_attack = "BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL bytea_output = 'escape';
SELECT set_config('bytea_output', 'hex', true);
SELECT tenant_id, stage FROM deals WHERE tenant_id = '$bt'::bytea::text;
COMMIT;";
is(scalar(grep { /^\Q$bt\E\|secret$/ } split /\n/, gtm_citus_as_role($superuser, $C, $bytea_attack)), 2,
	"control: as the superuser (not judged), the SELECT pinned to '$bt'::bytea::text reads tenant $bt on the worker");
$out = app($C, $bytea_attack);
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . (split /\|/, errors($out))[0], '0|ERROR:  "bytea_output" cannot take this value with Citus',
	'as the application role: no row of the other tenant (bytea_output escape is refused since round DM; the conversion is evaluated on the coordinator since DG)')
  or diag $out;
is(scalar(grep { /\|secret$/ } split /\n/, app($C, "SELECT tenant_id, stage FROM deals WHERE tenant_id = '$bt'::bytea::text;")), 0,
	'the same pin without the setting: no row of the other tenant');
$out = app($C, "BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL bytea_output = 'escape';
SELECT set_config('bytea_output', 'hex', true);
UPDATE deals SET stage = 'x' WHERE tenant_id = ('$bt'::bytea)::text;
SELECT array_to_string(ARRAY['$bt'::bytea], ',') AS a;
UPDATE deals SET stage = 'y' WHERE tenant_id = (ARRAY['$bt'::bytea]::text[])[1];
COMMIT;");
is(cq("SELECT string_agg(stage, ',') FROM deals WHERE tenant_id = '$bt'"), 'secret,secret',
	'the same pin in an UPDATE, and through an array conversion, changes no row of the other tenant')
  or diag $out;

# --- 17. round DI: a pin folded to T1 in the shadow plan from constants
# whose text depends on settings (a date under DateStyle, a float under
# extra_float_digits, a regclass under search_path), which Citus wrote into
# the shard query as text in the client's settings and the worker read in
# its own: T1 on the coordinator, the victim tenant of T1's shard on the
# worker.  An INSERT ... SELECT copied the victim's rows into T1, another
# planted T1's rows in the victim; a SELECT read it, an UPDATE changed it.
# Such expressions are now evaluated on the coordinator
cq("CREATE TABLE copies (tenant_id text NOT NULL, id int NOT NULL, body text, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('copies', 'tenant_id', colocate_with => 'deals');
GRANT SELECT, INSERT, UPDATE, DELETE ON copies TO regress_citus_app;");
my $dpin = "(ARRAY['$t1', 'x', 'y', '$vic'])[extract(month FROM date '2000-01-04')::int]";
my $fpin = "(ARRAY['$t1', '$vic'])[(1.0000000000000002::float8 = 1::float8)::int + 1]";
my $rpin = "(ARRAY['$t1', '$vic'])[('deals'::regclass = 'public.deals'::regclass)::int + 1]";
my $dmy2 = "SET datestyle = 'SQL, DMY';";
my $efd = "SET extra_float_digits = -15;";
my $tmp = "SET client_min_messages = error; CREATE TEMP TABLE deals (x int);";
is(scalar(grep { /\|secret$/ } split /\n/,
		gtm_citus_as_role($superuser, $C, "$dmy2 SELECT tenant_id, stage FROM deals WHERE tenant_id = $dpin;")), 3,
	"control: as the superuser (not judged), a SELECT pinned to a date expression that is T1 on the coordinator reads $vic's 3 rows under DateStyle SQL, DMY");
sub copies_of { return cq("SELECT count(*) FROM copies WHERE tenant_id = '$_[0]'") . '/' . cq("SELECT count(*) FROM copies WHERE body LIKE '%secret%'"); }
for my $case ([ 'date, DateStyle', $dmy2, $dpin ], [ 'float8, extra_float_digits', $efd, $fpin ],
	[ 'regclass, search_path', $tmp, $rpin ])
{
	my ($what, $set, $pin) = @$case;
	$out = app($C, "$set SELECT tenant_id, stage FROM deals WHERE tenant_id = $pin;");
	is(scalar(grep { /\|secret$/ } split /\n/, $out), 0, "$what: a SELECT with such a pin reads no row of $vic")
	  or diag $out;
	$out = app($C, "$set INSERT INTO copies SELECT '$t1', 500 + id, 'copied:' || stage FROM public.deals WHERE tenant_id = $pin ON CONFLICT DO NOTHING;");
	is(copies_of($vic), '0/0', "$what: an INSERT ... SELECT with it copies no row of $vic into T1") or diag $out;
	$out = app($C, "$set UPDATE public.deals SET stage = 'changed' WHERE tenant_id = $pin AND id = 1;");
	is(vic_rows(), $vbefore, "$what: an UPDATE with it changes no row of $vic") or diag $out;
}
$out = app($C, "BEGIN;
SELECT gtm_set_tenant('$t1', true) IS NOT NULL;
SET LOCAL datestyle = 'SQL, DMY';
INSERT INTO copies SELECT (ARRAY[gtm_current_tenant(), 'x', 'y', '$vic'])[extract(month FROM date '2000-01-04')::int], 900 + id, 'planted'
  FROM deals WHERE tenant_id = gtm_current_tenant() AND id <= 2;
COMMIT;");
is(copies_of($vic), '0/0', "a written tenant of that form with gtm_current_tenant(): no row planted in $vic") or diag $out;

# --- 18. round DK: a built-in function marked immutable that reads a
# setting: quote_ident() reads quote_all_identifiers, which the role's own
# ALTER ROLE ... SET gives Citus' connections to the workers; its session
# on the coordinator turns it off.  The pin was T1 in the shadow plan and
# the victim on the workers: the victim's rows read, copied into T1, T1's
# planted in the victim.  Every expression over constants is now evaluated
# on the coordinator
my $qpin = "CASE length(quote_ident('a')) WHEN 1 THEN '$t1' ELSE '$vic' END";
is(first_line(app($C, "ALTER ROLE regress_citus_app SET quote_all_identifiers = on;")),
	'ERROR:  ALTER ROLE ... SET is not allowed for this role',
	'the role cannot set its own quote_all_identifiers default (round DM)');
# a default a superuser set (propagated) is ignored when the role's sessions start
cq("ALTER ROLE regress_citus_app SET quote_all_identifiers = on");
$out = app($C, "SET quote_all_identifiers = off;
SELECT tenant_id, stage FROM deals WHERE tenant_id = $qpin;
INSERT INTO copies SELECT '$t1', 700 + id, 'q:' || stage FROM deals WHERE tenant_id = $qpin ON CONFLICT DO NOTHING;
INSERT INTO copies SELECT $qpin, 800 + id, 'planted-q' FROM deals WHERE tenant_id = '$t1' ON CONFLICT DO NOTHING;
UPDATE deals SET stage = 'changed-q' WHERE tenant_id = $qpin AND id = 1;");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . copies_of($vic) . '|' . vic_rows(), "0|0/0|$vbefore",
	"quote_ident() in a pin: no row of $vic read, copied, planted or changed")
  or diag $out;
cq("ALTER ROLE regress_citus_app RESET quote_all_identifiers");

# --- 19. round DM: a pin over a column of a subquery, flattened by the
# planner: "(SELECT date '2000-01-04' AS d) s ... (ARRAY[...])[extract(month
# FROM s.d)::int]" is not an expression over constants where Citus sees it,
# so it is not evaluated on the coordinator; the shadow plan flattened and
# folded it to T1, and Citus wrote the date in the client's DateStyle
# ('SQL, DMY'), which the worker read as April 1st: the victim's rows copied
# into T1, T1's planted in the victim, the victim's row changed.  Now the
# settings with which text is written and read keep values every node
# reads alike (their check hooks), and a reg* constant that reaches Citus
# is refused
my $sub = "(SELECT date '2000-01-04' AS d) s";
my $spin = "(ARRAY['$t1', 'x', 'y', '$vic'])[extract(month FROM s.d)::int]";
my $dm = "SELECT d.tenant_id, d.stage FROM $sub, deals d WHERE d.tenant_id = $spin;
INSERT INTO copies SELECT '$t1', d.id + 600, 'leak:' || d.stage FROM $sub, deals d WHERE d.tenant_id = $spin;
INSERT INTO copies SELECT $spin, d.id + 700, 'planted' FROM $sub, deals d WHERE d.tenant_id = '$t1';
UPDATE deals d SET stage = 'changed-dm' FROM $sub WHERE d.tenant_id = $spin AND d.id = 1;";
is(scalar(grep { /\|secret$/ } split /\n/,
		gtm_citus_as_role($superuser, $C, "SET datestyle = 'SQL, DMY'; SELECT d.tenant_id, d.stage FROM $sub, deals d WHERE d.tenant_id = $spin;")), 3,
	"control: as the superuser (not judged), the SELECT over the flattened subquery reads $vic's 3 rows under DateStyle SQL, DMY");
for my $set ("SET datestyle = 'SQL, DMY';", "SELECT set_config('datestyle', 'SQL, DMY', false);",
	"SET intervalstyle = 'sql_standard';", "SET extra_float_digits = 0;", "SET bytea_output = 'escape';",
	"SET quote_all_identifiers = on;")
{
	like(app($C, $set), qr/^ERROR:  "\w+" cannot take this value with Citus/i, "refused to the role: $set");
}
is(first_line(app($C, "SET datestyle = 'ISO, DMY'; SET extra_float_digits = 3; SET intervalstyle = 'iso_8601'; SHOW datestyle;")),
	'ISO, DMY', 'values every node reads alike are accepted (ISO with either order, extra_float_digits 3 as JDBC sets it, iso_8601)');
$out = app($C, "SET datestyle = 'SQL, DMY';\n$dm");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . copies_of($vic) . '|' . vic_rows() . '|'
	  . cq("SELECT count(*) FROM copies WHERE body LIKE 'leak:secret%'"),
	"0|0/0|$vbefore|0", "the four statements of the attack read, copy, plant and change no row of $vic") or diag $out;
like(app($C, "ALTER ROLE regress_citus_app SET datestyle = 'SQL, DMY';"), qr/^ERROR:  ALTER ROLE \.\.\. SET is not allowed for this role/,
	'refused to the role: its own default DateStyle (ALTER ROLE ... SET)');
cq("ALTER ROLE regress_citus_app RESET datestyle");
# a default a superuser set is ignored: the worker connections too read ISO
cq("ALTER ROLE regress_citus_app SET datestyle = 'SQL, DMY'");
$out = app($C, "SHOW datestyle;\n$dm");
is(scalar(grep { /^ISO, MDY$/ } split /\n/, $out) . '|' . scalar(grep { /\|secret$/ } split /\n/, $out) . '|'
	  . copies_of($vic) . '|' . vic_rows(), "1|0|0/0|$vbefore",
	"with a superuser's default DateStyle for the role: ignored (a warning), no row of $vic reached") or diag $out;
cq("ALTER ROLE regress_citus_app RESET datestyle");
# a server configured so: the role's distributed statements are refused
$coord->safe_psql('gtm', "ALTER SYSTEM SET extra_float_digits = 0; SELECT pg_reload_conf();");
is(first_line(app($C, "SELECT count(*) FROM deals WHERE tenant_id = '$t1';")),
	'ERROR:  a setting of this session is not read alike by the Citus workers',
	'extra_float_digits 0 in the server configuration: the role\'s distributed SELECT is refused');
$coord->safe_psql('gtm', "ALTER SYSTEM RESET extra_float_digits; SELECT pg_reload_conf();");
# a regclass constant over a flattened subquery (search_path: the role's
# temporary table on the coordinator, public.deals on the worker)
$out = app($C, "SET client_min_messages = error; CREATE TEMP TABLE deals (x int);
SELECT d.tenant_id, d.stage FROM (SELECT 'deals'::regclass AS r) s, public.deals d
 WHERE d.tenant_id = (ARRAY['$t1', '$vic'])[(s.r = 'public.deals'::regclass)::int + 1];");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . (split /\|/, errors($out))[0],
	'0|ERROR:  a constant naming an object (reg* type) in a statement on a distributed table',
	'a regclass constant that would reach the workers: refused, nothing read') or diag $out;

# --- 20. round DO: whatever the worker computes again after pulling a
# subquery up: the role's own IMMUTABLE function over a subquery's column
# (it answers by application_name), an array constant read under another
# array_nulls.  The shadow plan pulled the subquery up and folded the pin
# to T1; Citus sent the query as written, and the worker computed the
# victim.  A pin now counts on a distributed plan only where the query
# Citus sends holds it as written (enforce_citus_pins.c)
app($C, "SET client_min_messages = warning;
CREATE FUNCTION appschema.tk(k int) RETURNS text LANGUAGE sql IMMUTABLE
  AS \$f\$SELECT CASE WHEN current_setting('application_name') LIKE 'citus_internal%' THEN '$vic' ELSE '$t1' END\$f\$;");
my $fpin2 = "appschema.tk(s.k)";
# (the control uses a copy of the superuser's: round FB)
cq("CREATE FUNCTION appschema.tk_su(k int) RETURNS text LANGUAGE sql IMMUTABLE
  AS \$f\$SELECT CASE WHEN current_setting('application_name') LIKE 'citus_internal%' THEN '$vic' ELSE '$t1' END\$f\$;");
is(scalar(grep { /\|secret$/ } split /\n/,
		gtm_citus_as_role($superuser, $C, "SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = appschema.tk_su(s.k);")), 3,
	"control: as the superuser (not judged), the role's function over a subquery column reads $vic's 3 rows");
$out = app($C, "SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2;
WITH s AS (SELECT 1 AS k) SELECT d.tenant_id, d.stage FROM s, deals d WHERE d.tenant_id = $fpin2;
UPDATE deals d SET stage = 'fn-pwned' FROM (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2;
INSERT INTO copies SELECT '$t1', d.id + 900, 'fn:' || d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2;
INSERT INTO copies SELECT $fpin2, d.id + 950, 'fn-planted' FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = '$t1';");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . copies_of($vic) . '|' . vic_rows() . '|'
	  . cq("SELECT count(*) FROM copies WHERE body LIKE 'fn:secret%'") . '|'
	  . scalar(grep { /^ERROR:  tenant-scoped table "(deals|copies)" .* is not pinned to one tenant/ } split /\n/, $out),
	"0|0/0|$vbefore|0|5", "the role's function over a subquery column: all five statements refused; nothing read, copied, planted or changed")
  or diag $out;
like($out, qr/DETAIL:  \w+\.tenant_id is pinned only once the planner has pulled a subquery/, '... with the reason');
$out = app($C, "SELECT count(*) FROM deals d, (SELECT '$t1'::text AS t) s WHERE d.tenant_id = s.t;
SELECT count(*) FROM deals d JOIN (VALUES ('$t1')) v(t) ON d.tenant_id = v.t;
WITH c AS (SELECT '$t1' AS t) SELECT count(*) FROM c, deals d WHERE d.tenant_id = c.t;");
is(join(',', grep { /^\d+$/ } split /\n/, $out), join(',', (cq("SELECT count(*) FROM deals WHERE tenant_id = '$t1'")) x 3),
	'still accepted: a tenant equated, as written, with a subquery\'s, a VALUES list\'s or a CTE\'s constant') or diag $out;
# array_nulls, which the role's own default turns off on Citus' connections
$out = app($C, "ALTER ROLE regress_citus_app SET array_nulls = off;");
$out = app($C, "SET array_nulls = on;
SELECT d.tenant_id, d.stage FROM deals d, (SELECT '{NULL,x}'::text[] AS a) s
 WHERE d.tenant_id = CASE WHEN s.a[1] IS NULL THEN '$t1' ELSE '$vic' END;");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . (($out =~ /^ERROR:  tenant-scoped table "deals"/m) ? 'refused' : 'ran'),
	'0|refused', "an array constant read under the workers' array_nulls: refused, nothing read") or diag $out;
cq("ALTER ROLE regress_citus_app RESET array_nulls");
# round DP: the same read inside a sublink of a VALUES list of two rows, and
# of a FROM function's argument, places the walk did not visit
$out = app($C, "INSERT INTO copies (tenant_id, id, body)
SELECT '$t1', 990, v.x FROM (VALUES ((SELECT string_agg(d.tenant_id || ':' || d.stage, ',') FROM deals d, (SELECT 1 AS k) s
  WHERE d.tenant_id = $fpin2)), ('x')) v(x) LIMIT 1;
INSERT INTO copies (tenant_id, id, body)
SELECT '$t1', 990 + g.o::int, g.r FROM unnest((SELECT array_agg(d.tenant_id || ':' || d.stage) FROM deals d, (SELECT 1 AS k) s
  WHERE d.tenant_id = $fpin2)) WITH ORDINALITY g(r, o);");
is(cq("SELECT count(*) FROM copies WHERE body LIKE '%secret%'") . '|'
	  . scalar(grep { /^ERROR:  tenant-scoped table "deals" .* is not pinned to one tenant/ } split /\n/, $out),
	'0|2', "the role's function in a sublink of a two-row VALUES list and of a FROM function's argument: refused, nothing copied")
  or diag $out;
# round DQ: an equality inside a sublink, a LATERAL subquery or a LEFT
# JOIN's ON made the outer (kept) table "pinned as written"; it filters
# nothing there
cq("CREATE TABLE kinds (k text); SELECT create_reference_table('kinds'); GRANT SELECT ON kinds TO regress_citus_app;");
$out = app($C, "SELECT d.tenant_id, d.stage, (SELECT 1 WHERE d.tenant_id = '$t1') FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2;
UPDATE deals d SET stage = 'pwned-dq' FROM (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2 AND EXISTS (SELECT 1 WHERE d.tenant_id = '$t1') IS NOT NULL;
INSERT INTO copies SELECT '$t1', d.id + 800, 'dq:' || d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2 AND EXISTS (SELECT 1 WHERE d.tenant_id = '$t1') IS NOT NULL;
SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s CROSS JOIN deals d LEFT JOIN LATERAL (SELECT 1 AS one WHERE d.tenant_id = '$t1') z ON true WHERE d.tenant_id = $fpin2;
SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s CROSS JOIN deals d LEFT JOIN kinds k ON d.tenant_id = '$t1' WHERE d.tenant_id = $fpin2;");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . vic_rows() . '|' . cq("SELECT count(*) FROM copies WHERE body LIKE 'dq:%'") . '|'
	  . scalar(grep { /^ERROR:  tenant-scoped table "deals" .* is not pinned to one tenant/ } split /\n/, $out),
	"0|$vbefore|0|5", "an equality in a sublink, a LATERAL subquery or a LEFT JOIN's ON pins nothing of the outer table: the five refused, nothing read, changed or copied")
  or diag $out;
# ... while a correlated subquery and a LEFT JOIN's nullable side still get
# the outer table's constant
my $n = cq("SELECT count(*) FROM deals WHERE tenant_id = '$t1'");
$out = app($C, "SELECT count(*) FROM deals d WHERE d.tenant_id = '$t1' AND EXISTS (SELECT 1 FROM copies c WHERE c.tenant_id = d.tenant_id);
SELECT count(*) FROM deals d LEFT JOIN copies c ON c.tenant_id = d.tenant_id AND c.id = d.id WHERE d.tenant_id = '$t1';
SELECT count(*) FROM deals d LEFT JOIN copies c USING (tenant_id, id) WHERE tenant_id = '$t1';");
is(scalar(grep { /^ERROR/ } split /\n/, $out) . '|' . scalar(grep { /^\Q$n\E$/ } split /\n/, $out), '0|2',
	'still accepted: a correlated EXISTS, a LEFT JOIN on the tenant, a JOIN ... USING whose merged column is pinned') or diag $out;
# round DR: a condition on a CTE's or a subquery's output restricts the
# rows its body reads only where the planner and Citus push it down: not
# into a CTE referenced twice or MATERIALIZED, a data-modifying CTE, a
# subquery with LIMIT
my $cte = "WITH c AS (SELECT d.tenant_id, d.id, d.stage FROM deals d, (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2)";
$out = app($C, "$cte SELECT x2.tenant_id, x2.stage FROM c x2 LEFT JOIN c x1 ON x1.tenant_id = '$t1';
$cte INSERT INTO copies SELECT '$t1', x2.id + 600, 'dr:' || x2.stage FROM c x2 LEFT JOIN c x1 ON x1.tenant_id = '$t1';
WITH c AS MATERIALIZED (SELECT d.tenant_id, d.id, d.stage FROM deals d, (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2) SELECT * FROM c WHERE c.tenant_id = '$t1';
WITH u AS (UPDATE deals d SET stage = 'dr-pwned' FROM (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2 RETURNING d.tenant_id, d.id) SELECT * FROM u WHERE u.tenant_id = '$t1';
SELECT count(*) FROM (SELECT d.tenant_id, d.id FROM deals d, (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2 LIMIT 10) x WHERE x.tenant_id = '$t1';");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . vic_rows() . '|' . cq("SELECT count(*) FROM copies WHERE body LIKE 'dr:%'") . '|'
	  . scalar(grep { /^ERROR:  tenant-scoped table "deals" .* is not pinned to one tenant/ } split /\n/, $out),
	"0|$vbefore|0|5", 'a CTE referenced twice, MATERIALIZED or modifying data, a subquery with LIMIT: the condition on its output pins nothing of its body; refused')
  or diag $out;
$out = app($C, "SELECT count(*) FROM (SELECT * FROM deals) x WHERE x.tenant_id = '$t1';");
is(join(',', grep { /^\d+$/ } split /\n/, $out), $n, 'still accepted: a condition on a plain subquery\'s output') or diag $out;
# round DU: a CTE referenced once but holding a volatile function is
# planned on its own; a condition on its output pins nothing of its body
# (nor does one on any CTE's: Citus may plan it apart too)
$out = app($C, "WITH c AS (SELECT d.tenant_id, d.id, random() AS r, (d.tenant_id || ':' || d.stage)::int AS leaked FROM deals d, (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2 AND d.id = 2)
SELECT c.tenant_id FROM c WHERE c.tenant_id = '$t1';
WITH c AS (SELECT * FROM deals) SELECT count(*) FROM c WHERE c.tenant_id = '$t1';");
is((($out =~ /secret/) ? 'leaked' : 'no value') . '|' . scalar(grep { /^ERROR:  tenant-scoped table "deals" .* is not pinned to one tenant/ } split /\n/, $out),
	'no value|2', 'a volatile CTE referenced once: refused, no value of the victim in any message; a plain CTE filtered on its output too (a false rejection kept on Citus)')
  or diag $out;
# round DS: a cast that changes the value ("char", varchar(1), name) on the
# column side made the column look equated with a constant as written
my $first = substr($vic, 0, 1);
$out = app($C, "INSERT INTO copies SELECT '$t1', d.id + 860, 'ds:' || d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2 AND d.tenant_id::varchar(1) = '$first';
INSERT INTO copies SELECT '$t1', d.id + 870, 'ds:' || d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2 AND d.tenant_id::\"char\" = '$first';
SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2 AND d.tenant_id::name = '$vic';");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . cq("SELECT count(*) FROM copies WHERE body LIKE 'ds:%'") . '|'
	  . scalar(grep { /^ERROR:  tenant-scoped table "deals" .* is not pinned to one tenant/ } split /\n/, $out),
	'0|0|3', 'an equality through a cast that changes the value pins nothing as written: refused, nothing read or copied')
  or diag $out;
# round DT: a parameter equated with the tenant beside the role's function:
# the shadow plan pinned T1 (the function folded), the worker the bound
# victim; the values the query holds as written must be the ones judged
$out = app($C, "SET plan_cache_mode = force_generic_plan;
PREPARE pv(text) AS SELECT d.tenant_id, d.stage FROM (SELECT 1 AS k) s, deals d WHERE d.tenant_id = $fpin2 AND d.tenant_id = \$1;
EXECUTE pv('$vic');
PREPARE uv(text) AS UPDATE deals d SET stage = 'dt-pwned' FROM (SELECT 1 AS k) s WHERE d.tenant_id = $fpin2 AND d.tenant_id = \$1 AND d.id = 1;
EXECUTE uv('$vic');
RESET plan_cache_mode;
PREPARE pc(text) AS SELECT count(*) FROM deals d WHERE d.tenant_id = \$1;
EXECUTE pc('$t1'); EXECUTE pc('$t1'); EXECUTE pc('$t1'); EXECUTE pc('$t1'); EXECUTE pc('$t1'); EXECUTE pc('$t1'); EXECUTE pc('$t1');");
is(scalar(grep { /\|secret$/ } split /\n/, $out) . '|' . vic_rows() . '|' . scalar(grep { /^\Q$n\E$/ } split /\n/, $out),
	"0|$vbefore|7", 'a parameter beside the role\'s function: nothing of the victim read or changed; a plain parameter pin runs 7 times (custom, then generic plans)')
  or diag $out;

# round EM: Citus evaluates the functions of a distributed INSERT's VALUES
# (and the STABLE ones of an UPDATE's SET) inside ExecutorStart, after the
# tenant it folded for gtm_current_tenant() was compared with the session
# tenant and before the statement counted as running: gtm_set_tenant(T2)
# was allowed there, and an INSERT pinned by gtm_current_tenant() to T1
# wrote T2's rows, read through query_to_xml(), into a row of T1 (an UPDATE
# likewise into T1's row 2).  No function of the role's own is needed.
my $t1_row2 = cq("SELECT stage FROM deals WHERE tenant_id = '$t1' AND id = 2");
$out = app($C, "BEGIN; SELECT gtm_set_tenant('$t1', true) IS NOT NULL AS set;
INSERT INTO deals VALUES (gtm_current_tenant(), 880, gtm_set_tenant('$t2', true) || query_to_xml('SELECT tenant_id, id, amount FROM deals WHERE tenant_id = gtm_current_tenant()', false, false, '')::text, 1);
COMMIT;
CREATE FUNCTION pg_temp.em_switch_read(t text) RETURNS text STABLE LANGUAGE plpgsql AS \$\$
DECLARE r text; BEGIN PERFORM gtm_set_tenant(t, true);
  SELECT string_agg(tenant_id || ':' || id || ':' || amount, ',') INTO r FROM deals WHERE tenant_id = gtm_current_tenant(); RETURN r; END \$\$;
BEGIN; SELECT gtm_set_tenant('$t1', true) IS NOT NULL AS set;
UPDATE deals SET stage = pg_temp.em_switch_read('$t2') WHERE tenant_id = gtm_current_tenant() AND id = 2 RETURNING stage;
COMMIT;");
is(scalar(grep { /^ERROR:  cannot change the session tenant while a statement on tenant-scoped tables is running/ } split /\n/, $out)
	  . '|' . (($out =~ /\Q$t2\E:/) ? 'read' : 'nothing read')
	  . '|' . cq("SELECT count(*) FROM deals WHERE id = 880 OR stage LIKE '%$t2%'")
	  . '|' . cq("SELECT stage FROM deals WHERE tenant_id = '$t1' AND id = 2"),
	"2|nothing read|0|$t1_row2",
	'gtm_set_tenant() while Citus starts a distributed write folded to T1: refused; nothing of T2 read or written into T1')
  or diag $out;

# rounds EM, EO: calls that any role may make crashed the server through
# Citus 13.2 (a NULL result id read in its planner's cost estimate; a
# CREATE TABLE AS, EXPLAIN or CALL passed to ProcessUtility unanalysed):
# refused, and no server restarted
my %started = map { $_->port => $_->safe_psql('gtm', 'SELECT pg_postmaster_start_time()') } ($coord, $w1, $w2);
my $shard = cq("SELECT get_shard_id_for_distribution_column('deals', '$t1')");
$out = join("\n", map { app($_->port, "SELECT * FROM read_intermediate_result(NULL, 'binary') AS r(id int);
SELECT * FROM read_intermediate_results(NULL, 'binary') AS r(id int);
SELECT worker_apply_shard_ddl_command($shard, 'CREATE TEMP TABLE em_x AS SELECT 1');
SELECT worker_apply_shard_ddl_command($shard, 'EXPLAIN ANALYZE SELECT 1');
SELECT worker_apply_shard_ddl_command($shard, 'CALL pg_temp.nope()');") } ($coord, $w1));
is(scalar(grep { /^ERROR:  read_intermediate_results?\(\) called with a NULL result id$/ } split /\n/, $out) . '|'
	  . scalar(grep { /^ERROR:  cannot run (CREATE TABLE AS|EXPLAIN|CALL) whose query was not analysed$/ } split /\n/, $out) . '|'
	  . join(',', map { $_->safe_psql('gtm', 'SELECT pg_postmaster_start_time()') eq $started{ $_->port } ? 'up' : 'restarted' } ($coord, $w1, $w2)),
	'4|6|up,up,up', 'calls that crashed Citus 13.2 (NULL result id, unanalysed CREATE TABLE AS, EXPLAIN and CALL, rounds EM and EO): refused on the coordinator and a worker; no server restarted')
  or diag $out;

# round EM, secondary: a function in the VALUES of an INSERT pinned by
# gtm_current_tenant() (folded to T1) updated T2's row while Citus started
# the INSERT, outside a transaction block: the INSERT was refused, but
# Citus had committed that UPDATE on its own.  The statement reaches the
# folded tenant when it starts now, so the UPDATE is refused first.
my $t2_row1 = cq("SELECT stage FROM deals WHERE tenant_id = '$t2' AND id = 1");
$out = app($C, "SELECT gtm_set_tenant('$t1', false) IS NOT NULL AS set;
CREATE FUNCTION pg_temp.em_upv(s text) RETURNS text LANGUAGE plpgsql AS \$\$
BEGIN UPDATE deals SET stage = s WHERE tenant_id = '$t2' AND id = 1; RETURN 'u'; END \$\$;
INSERT INTO deals VALUES (gtm_current_tenant(), 881, pg_temp.em_upv('em-autocommit'), 1);");
is(scalar(grep { /^ERROR:  statement touches more than one tenant$/ } split /\n/, $out)
	  . '|' . cq("SELECT stage FROM deals WHERE tenant_id = '$t2' AND id = 1")
	  . '|' . cq("SELECT count(*) FROM deals WHERE id = 881"),
	"1|$t2_row1|0", 'a function updating T2 while Citus starts an INSERT folded to T1, outside a transaction block: refused, T2\'s row unchanged')
  or diag $out;

# round ER: functions of Citus 13.2 that PUBLIC may execute and that crash
# the server on arguments Citus' own calls never pass, one of them also an
# EXPLAIN ANALYZE of any query (its counts pass over other tenants' rows):
# refused to the application role on the coordinator and a worker, and no
# server restarted
$out = join("\n", map { app($_->port, "SELECT * FROM worker_save_query_explain_analyze('SELECT 1', '{}') AS (x text);
SELECT column_to_column_name('deals', '{VAR}');
SELECT worker_split_copy($shard, 'x', ARRAY[]::split_copy_info[]);
SELECT * FROM worker_save_query_explain_analyze(\$q\$SELECT * FROM deals WHERE tenant_id = '$t1' AND amount = 4242\$q\$, '{\"verbose\": false}') AS (x text);") } ($coord, $w1));
is(scalar(grep { /^ERROR:  (worker_save_query_explain_analyze|column_to_column_name|worker_split_copy)\(\) is not allowed for this role$/ } split /\n/, $out) . '|'
	  . (($out =~ /Rows Removed|actual/) ? 'counts shown' : 'no counts') . '|'
	  . join(',', map { $_->safe_psql('gtm', 'SELECT pg_postmaster_start_time()') eq $started{ $_->port } ? 'up' : 'restarted' } ($coord, $w1, $w2)),
	'8|no counts|up,up,up', 'Citus functions that crashed the server or measured a query (round ER): refused on the coordinator and a worker; no server restarted')
  or diag $out;

# round ER: gtm_unexempt_table() on a worker holds that node's shards of
# the table as it holds the table: an unpinned UPDATE of a shard, judged
# with the exemption and waiting on a row lock, ends before the exemption
# is gone (it went on writing every tenant's rows of the shard after the
# unexemption had committed)
{
	my $t2_shard = cq("SELECT get_shard_id_for_distribution_column('deals', '$t2')");
	my $t2_port = cq("SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = $t2_shard");
	my ($wn) = grep { $_->port == $t2_port } ($w1, $w2);
	my $wq = sub { return $wn->safe_psql('gtm', $_[0]); };
	$wq->("SELECT gtm_exempt_table('deals')");
	my ($hin, $hout, $herr) = ("BEGIN;\nUPDATE deals_$t2_shard SET amount = amount WHERE tenant_id = '$t2' AND id = 1;\n\\echo held\n", '', '');
	my $holder = IPC::Run::start([ 'psql', '-X', '-q', '-h', '127.0.0.1', '-p', $t2_port, '-d', 'gtm' ],
		\$hin, \$hout, \$herr, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	IPC::Run::pump($holder) until $hout =~ /held/;
	my ($ain, $aout) = ("UPDATE deals_$t2_shard SET stage = 'er-unexempt' RETURNING 'updated';\n", '');
	my $writer = IPC::Run::start([ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $t2_port, '-U', 'regress_citus_app', '-d', 'gtm' ],
		\$ain, \$aout, \$aout, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	IPC::Run::pump($writer) while length $ain;
	$wn->poll_query_until('gtm', "SELECT count(*) = 1 FROM pg_stat_activity WHERE usename = 'regress_citus_app' AND wait_event_type = 'Lock'")
	  or die 'the unpinned UPDATE did not wait';
	my ($uin, $uout) = ("SELECT gtm_unexempt_table('deals');\n", '');
	my $unexempt = IPC::Run::start([ 'psql', '-X', '-q', '-At', '-h', '127.0.0.1', '-p', $t2_port, '-d', 'gtm' ],
		\$uin, \$uout, \$uout, IPC::Run::timeout($PostgreSQL::Test::Utils::timeout_default));
	IPC::Run::pump($unexempt) while length $uin;
	my $waited = $wn->poll_query_until('gtm', "SELECT count(*) = 1 FROM pg_stat_activity WHERE query LIKE 'SELECT gtm_unexempt_table%' AND wait_event_type = 'Lock'") ? 'waited' : 'did not wait';
	$hin .= "COMMIT;\n";
	IPC::Run::finish($holder);
	IPC::Run::finish($writer);
	IPC::Run::finish($unexempt);
	my $after = app($t2_port, "UPDATE deals_$t2_shard SET stage = 'er-after' RETURNING 'updated';");
	is($waited . '|' . (($aout =~ /updated/) ? 'ran under the exemption' : $aout) . '|'
		  . (($after =~ /^ERROR:  tenant-scoped table "deals_$t2_shard".* is not pinned to one tenant$/m) ? 'refused after' : $after) . '|'
		  . cq("SELECT count(*) FROM deals WHERE stage = 'er-after'"),
		'waited|ran under the exemption|refused after|0',
		'gtm_unexempt_table() on a worker waits for a statement on a shard judged with the exemption; after it, the unpinned UPDATE is refused and changes nothing')
	  or diag "$aout\n$after\n$uout";
	cq("UPDATE deals SET stage = 'open' WHERE stage = 'er-unexempt'");
}

done_testing();
