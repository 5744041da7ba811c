# Statement shapes PostgreSQL 17 and 18 added, against the tenant-scope check
# (doc/pg-versions-porting.md, "New statement shapes"), as an ordinary role.
# The 17 checks are skipped on 15, the 18 checks on 15 and 17, since those
# statements do not parse there.
# (Was test/shell/enforce_new_shapes.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use Test::More;

my $node = gtm_node('enforce_new_shapes');
my ($db, $role) = ('gtm_enforce_new_shapes', 'regress_enforce_new_shapes');
my $T1 = '11111111-1111-4111-8111-111111111111';
my $T2 = '22222222-2222-4222-8222-222222222222';
# run SQL as the ordinary role; returns the output (errors with their
# SQLSTATE, in order), without its last newline
sub as_app
{
	my ($rc, $out) = gtm_run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-v', 'VERBOSITY=verbose',
		'-d', $db, '-c', "SET ROLE $role", '-c', $_[0] ], merge => 1);
	$out =~ s/\n+\z//;
	return $out;
}
sub rejected { return $_[0] =~ /ERROR:  42501: tenant-scoped table/; }
sub sql { return $node->safe_psql($db, $_[0]); }
my $ver = $node->safe_psql('postgres', 'SHOW server_version_num');

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(qq{
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE $role;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text,
                    PRIMARY KEY (tenant_id, id));
CREATE VIEW open_deals AS SELECT * FROM deals WHERE stage <> 'closed';
CREATE VIEW t1_deals AS SELECT * FROM deals WHERE tenant_id = '$T1';
INSERT INTO deals VALUES ('$T1', 7, 'open'), ('$T1', 8, 'closed'), ('$T2', 7, 'open');
-- a label is any text a tenant chooses, here another tenant's id
CREATE TABLE labels (tenant_id text NOT NULL, id int NOT NULL, label text,
                     PRIMARY KEY (tenant_id, id));
INSERT INTO labels VALUES ('$T1', 1, '$T2');
CREATE TABLE notes (tenant_id text, body text);
GRANT SELECT, INSERT, UPDATE, DELETE ON labels, notes TO $role;
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, open_deals, t1_deals TO $role;
CREATE FUNCTION sql_count(t text) RETURNS bigint LANGUAGE sql
  AS \$\$ SELECT count(*) FROM deals WHERE tenant_id = t \$\$;});
my $out;

# ---------------------------------------------------------------- PostgreSQL 17
SKIP:
{
	skip "PostgreSQL 17 syntax (server is $ver)", 30 if $ver < 170000;
	# a SQL/JSON expression of constants, which planning does not fold:
	# frozen like a stable value (round AN), so a pin, of that tenant's rows
	$out = as_app(qq{SELECT count(*) FROM deals WHERE tenant_id = JSON_VALUE('{"t": "$T1"}', '\$.t')});
	is($out, '2', 'a JSON_VALUE of constants pins the tenant it names');
	$out = as_app(qq{SELECT count(*) FROM deals WHERE tenant_id = JSON_VALUE('{"t": "$T2"}', '\$.t')
                AND EXISTS (SELECT 1 FROM labels l WHERE l.tenant_id = '$T1')});
	like($out, qr/ERROR:  42501: statement touches more than one tenant/,
		'... and is one tenant with the statement\'s other pins') or diag $out;
	$out = as_app(qq{MERGE INTO deals d USING (VALUES (7, 'x')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING merge_action(), d.id});
	is($out, 'UPDATE|7', 'MERGE ... RETURNING pinned in ON runs and returns its row');
	$out = as_app(qq{MERGE INTO deals d USING (VALUES (7, 'x')) s(i, st) ON d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING merge_action(), d.*});
	ok(rejected($out), 'MERGE ... RETURNING without a pin is rejected') or diag $out;
	$out = as_app(qq{MERGE INTO deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.tenant_id = '$T1' AND d.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE});
	ok(rejected($out), 'MERGE ... WHEN NOT MATCHED BY SOURCE with the pin only in ON is rejected') or diag $out;
	is(sql("SELECT count(*) FROM deals WHERE tenant_id = '$T2'"), '1',
		"... and the other tenant's rows are all still there");
	$out = as_app(qq{MERGE INTO deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.tenant_id = '$T1' AND d.id = s.id
                WHEN NOT MATCHED BY SOURCE AND d.tenant_id = '$T1' THEN DELETE});
	ok(rejected($out), 'MERGE ... WHEN NOT MATCHED BY SOURCE AND <pin> is rejected (an action condition is no scan pin)')
	  or diag $out;
	$out = as_app(qq{MERGE INTO open_deals d USING (VALUES (7, 'y')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING d.tenant_id});
	is($out, $T1, 'MERGE into an updatable view, pinned, runs');
	$out = as_app(qq{MERGE INTO open_deals d USING (VALUES (7, 'z')) s(i, st) ON d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st});
	ok(rejected($out), 'MERGE into an updatable view without a pin is rejected') or diag $out;
	# NOT MATCHED BY SOURCE through a view whose definition pins the tenant:
	# the pin restricts the target scan itself, so only T1's rows are visited
	$out = as_app(qq{BEGIN; MERGE INTO t1_deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.id = s.id WHEN NOT MATCHED BY SOURCE THEN DELETE RETURNING d.tenant_id, d.id;
                SELECT count(*) FROM deals WHERE tenant_id = '$T1'; ROLLBACK});
	is($out, "$T1|8\n1",
		"MERGE ... WHEN NOT MATCHED BY SOURCE into a view pinned by its definition deletes only that tenant's unmatched row");
	$out = as_app(qq{MERGE INTO t1_deals d USING (SELECT * FROM deals WHERE tenant_id = '$T1' AND id = 7) s
                ON d.id = s.id WHEN NOT MATCHED BY SOURCE THEN UPDATE SET tenant_id = '$T2'});
	like($out, qr/ERROR:  42501: statement would move rows/,
		'MERGE ... WHEN NOT MATCHED BY SOURCE moving the unmatched rows to another tenant is rejected');
	# both kinds of NOT MATCHED make MERGE's join FULL, but an INSERT action
	# runs for a source row that met no target row: the source's tenant is
	# a real row's, written as it is (round FJ F6: was rejected as a
	# nullable side's; only the BY SOURCE actions and RETURNING see NULL)
	my $both = qq{WHEN NOT MATCHED BY SOURCE THEN UPDATE SET stage = 'gone'
                WHEN NOT MATCHED THEN INSERT (tenant_id, id, stage) VALUES (s.tenant_id, s.id, s.stage)};
	my $rows = q{SELECT string_agg(tenant_id || ':' || id || ':' || stage, ',' ORDER BY tenant_id, id) FROM deals};
	my $before = sql($rows);
	sql('CREATE TABLE deals_saved AS SELECT * FROM deals');
	$out = as_app(qq{MERGE INTO t1_deals d USING (SELECT tenant_id, id + 100 AS id, stage FROM deals
                WHERE tenant_id = '$T1' AND id = 7) s ON d.id = s.id $both});
	my ($stage7) = sql(qq{SELECT stage FROM deals_saved WHERE tenant_id = '$T1' AND id = 7});
	is(sql($rows), "$T1:7:gone,$T1:8:gone,$T1:107:$stage7,$T2:7:open",
		"MERGE with both kinds of NOT MATCHED writing the source's pinned tenant runs, on that tenant's rows only")
	  or diag $out;
	sql('DELETE FROM deals; INSERT INTO deals SELECT * FROM deals_saved');
	# a VALUES list whose tenant column is one constant is that constant,
	# but under the FULL join of both kinds of NOT MATCHED the planner keeps
	# it a value that goes NULL (a PlaceHolderVar): its INSERT is refused as
	# a nullable side's, where a table's column is a real row's (a false
	# reject on the safe side, doc/enforcement.md)
	$out = as_app(qq{MERGE INTO t1_deals d USING (VALUES ('$T1', 107, 'v'), ('$T1', 108, 'w')) s(tenant_id, id, stage)
                ON d.id = s.id $both});
	ok($out =~ /ERROR:  42501: / && $out =~ /nullable side of an outer join/ && sql($rows) eq $before,
		'... from a VALUES list of one tenant: refused as a nullable side, no row changed') or diag $out;
	sql('DROP TABLE deals_saved');
	$out = as_app(qq{MERGE INTO deals d USING (VALUES ('$T1', 7), ('$T1', 8)) s(t, i) ON d.tenant_id = s.t AND d.id = s.i
                WHEN NOT MATCHED BY SOURCE THEN DELETE});
	ok(rejected($out), 'MERGE ... WHEN NOT MATCHED BY SOURCE from a VALUES list of one tenant, its pin only in ON, is rejected')
	  or diag $out;
	$out = as_app(qq{MERGE INTO t1_deals d USING (SELECT tenant_id, id + 100 AS id, stage FROM deals
                WHERE tenant_id = '$T2' AND id = 7) s ON d.id = s.id $both});
	like($out, qr/ERROR:  42501: statement touches more than one tenant/,
		'... and with a source of another tenant than the view is rejected');
	$out = as_app(qq{MERGE INTO t1_deals d USING (SELECT x.tenant_id, k.id, 'z' AS stage FROM (VALUES (107)) k(id)
                LEFT JOIN deals x ON x.tenant_id = '$T1' AND x.id = k.id) s ON d.id = s.id $both});
	ok($out =~ /ERROR:  42501: tenant-scoped table "deals"/ && $out =~ /nullable side of an outer join/,
		"... and with the source's tenant from an outer join's nullable side inside the source is rejected") or diag $out;
	$out = as_app(qq{WITH m AS (MERGE INTO t1_deals d USING (SELECT tenant_id, id + 100 AS id, stage FROM deals
                WHERE tenant_id = '$T1' AND id = 7) s ON d.id = s.id $both RETURNING s.tenant_id)
                INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'by-source' FROM m});
	ok(rejected($out), "... and its RETURNING of the source's tenant (NULL for a BY SOURCE row) is no value to write")
	  or diag $out;
	is(sql($rows) . '/' . sql(q{SELECT count(*) FROM notes WHERE body = 'by-source'}),
		"$before/0", 'the rejected MERGEs changed no row and wrote no note');
	$out = as_app(q{SELECT count(*) FROM deals d, JSON_TABLE(to_jsonb(d), '$' COLUMNS (t text PATH '$.tenant_id')) jt});
	ok(rejected($out), 'JSON_TABLE over an unpinned tenant table is rejected') or diag $out;
	$out = as_app(qq{SELECT string_agg(jt.t, ',') FROM deals d,
                JSON_TABLE(to_jsonb(d), '\$' COLUMNS (t text PATH '\$.tenant_id')) jt WHERE d.tenant_id = '$T1'});
	is($out, "$T1,$T1", "JSON_TABLE over a pinned tenant table returns only that tenant's rows");
	# EXPLAIN (MEMORY) without ANALYZE shows what the planning used, which
	# read statistics and index endpoints of every tenant: refused, pinned
	# or not, after the verdict's warnings (round FI)
	$out = as_app('EXPLAIN (MEMORY, COSTS OFF) SELECT * FROM deals');
	ok($out =~ /WARNING:  42501: tenant-scoped table/
		  && $out =~ /ERROR:  42501: EXPLAIN ANALYZE, BUFFERS or MEMORY of a statement on tenant-scoped tables is not allowed/
		  && $out !~ /Seq Scan|Memory:/,
		'EXPLAIN (MEMORY) of an unpinned statement: its verdict warned, then refused, no plan shown') or diag $out;
	$out = as_app(qq{EXPLAIN (MEMORY, COSTS OFF) SELECT * FROM deals WHERE tenant_id = '$T1'});
	ok($out =~ /ERROR:  42501: EXPLAIN ANALYZE, BUFFERS or MEMORY/ && $out !~ /Memory:/,
		'EXPLAIN (MEMORY) of a pinned statement: refused, no planning memory shown') or diag $out;
	like(sql('EXPLAIN (MEMORY, COSTS OFF) SELECT * FROM deals'), qr/Memory: used=/,
		'EXPLAIN (MEMORY) by an exempt role (the superuser) shows the planning memory');
	$out = as_app('EXPLAIN (ANALYZE, SERIALIZE, COSTS OFF) SELECT * FROM deals');
	ok(rejected($out), 'EXPLAIN (ANALYZE, SERIALIZE) of an unpinned statement is rejected') or diag $out;
	# MERGE ... RETURNING in a data-modifying CTE whose rows are written
	# elsewhere: a column an action updates returns its new value, not the
	# one the ON clause pinned (labels row 1 of T1 holds T2's id as its label)
	$out = as_app(qq{WITH m AS (MERGE INTO labels l USING (VALUES (1)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i AND l.label = '$T1'
                WHEN MATCHED THEN UPDATE SET label = 'x' RETURNING l.label)
                INSERT INTO notes (tenant_id, body) SELECT label, 'merge' FROM m});
	ok(rejected($out), "a MERGE's RETURNING of a column it updates is no tenant value for a write (rejected)")
	  or diag $out;
	$out = as_app(qq{WITH m AS (MERGE INTO labels l USING (VALUES (1)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i
                WHEN MATCHED THEN UPDATE SET label = l.label RETURNING l.tenant_id)
                INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'merge' FROM m RETURNING tenant_id});
	is($out, $T1, "a MERGE's RETURNING of its pinned tenant column may be written (its tenant)");
	# a row a NOT MATCHED action inserted: RETURNING sees the inserted row,
	# whose tenant is the one the write was judged on (round AN F3: was
	# rejected, the target being the nullable side of MERGE's join)
	$out = as_app(qq{WITH m AS (MERGE INTO deals d USING (VALUES ('$T1', 9999)) s(t, i) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN NOT MATCHED THEN INSERT (tenant_id, id, stage) VALUES (s.t, s.i, 'n') RETURNING d.tenant_id)
                INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'merged' FROM m RETURNING tenant_id});
	is($out, $T1, "a MERGE's RETURNING of the tenant of a row it inserted may be written");
	$out = as_app(qq{WITH m AS (MERGE INTO deals d USING (VALUES ('$T2', 9998)) s(t, i) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN NOT MATCHED THEN INSERT (tenant_id, id, stage) VALUES (s.t, s.i, 'n') RETURNING d.tenant_id)
                INSERT INTO notes (tenant_id, body) SELECT tenant_id, 'merged' FROM m RETURNING tenant_id});
	like($out, qr/ERROR:  42501: statement touches more than one tenant/,
		"a MERGE inserting another tenant than its ON clause pins is rejected, RETURNING or not");
	is(sql(qq{SELECT string_agg(d.tenant_id || ':' || d.id || '/' || coalesce(n.tenant_id, '-'), ',')
              FROM deals d LEFT JOIN notes n ON n.tenant_id = d.tenant_id AND n.body = 'merged' WHERE d.id >= 9998}),
		"$T1:9999/$T1", 'only the accepted MERGE inserted its deal and its note');
	sql(qq{DELETE FROM deals WHERE id >= 9998; DELETE FROM notes WHERE body = 'merged'});
	# a subquery of MERGE's RETURNING correlated with a column an action
	# wrote (a NOT MATCHED row never met the ON clause; a MATCHED one was
	# updated): the ON clause's value is not the one it sees
	$out = as_app(qq{BEGIN; MERGE INTO labels l USING (VALUES (5)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i AND l.label = '$T1'
                WHEN NOT MATCHED THEN INSERT VALUES ('$T1', 5, '$T2')
                RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = l.label); ROLLBACK});
	ok(rejected($out) && $out !~ /open/, "MERGE ... RETURNING a subquery pinned by an inserted column is rejected, no row of T2 shown")
	  or diag $out;
	sql(qq{UPDATE labels SET label = '$T1' WHERE tenant_id = '$T1' AND id = 1});
	$out = as_app(qq{BEGIN; MERGE INTO labels l USING (VALUES (1)) s(i) ON l.tenant_id = '$T1' AND l.id = s.i AND l.label = '$T1'
                WHEN MATCHED THEN UPDATE SET label = '$T2'
                RETURNING (SELECT string_agg(stage, ',') FROM deals d WHERE d.tenant_id = l.label); ROLLBACK});
	ok(rejected($out) && $out !~ /open/, "MERGE ... RETURNING a subquery pinned by an updated column is rejected, no row of T2 shown")
	  or diag $out;
	sql(qq{UPDATE labels SET label = '$T2' WHERE tenant_id = '$T1' AND id = 1});
	is(sql(qq{SELECT count(*) FROM labels}), '1', 'the rejected MERGEs left no row behind');
}

# ---------------------------------------------------------------- PostgreSQL 18
SKIP:
{
	skip "PostgreSQL 18 syntax (server is $ver)", 26 if $ver < 180000;
	$out = as_app(qq{UPDATE deals SET stage = 'w' WHERE tenant_id = '$T1' AND id = 8 RETURNING old.stage, new.stage});
	is($out, 'closed|w', 'UPDATE ... RETURNING old/new, pinned, runs');
	$out = as_app(qq{UPDATE deals SET tenant_id = '$T2' WHERE tenant_id = '$T1' AND id = 8
                RETURNING old.tenant_id, new.tenant_id});
	like($out, qr/ERROR:  42501: statement would move rows/,
		'UPDATE moving a row to another tenant with RETURNING old/new is rejected');
	$out = as_app('DELETE FROM deals WHERE id = 8 RETURNING old.*');
	ok(rejected($out), 'DELETE ... RETURNING old.* without a pin is rejected') or diag $out;
	$out = as_app(qq{SELECT string_agg(a.id::text, ',' ORDER BY a.id) FROM deals a
                JOIN deals b ON a.tenant_id = b.tenant_id AND a.id = b.id WHERE a.tenant_id = '$T1'});
	is($out, '7,8', 'a self-join on the key (self-join elimination) pinned on one side runs');
	$out = as_app(qq{SELECT count(*) FROM deals a JOIN deals b ON a.tenant_id = b.tenant_id AND a.id = b.id
                WHERE a.tenant_id = '$T1' AND b.tenant_id = '$T2'});
	ok($out eq '0' || rejected($out) || $out =~ /ERROR:  42501/, 'a self-join pinned to two tenants returns nothing')
	  or diag $out;
	$out = as_app(qq{SELECT count(*) FROM deals WHERE tenant_id IN (VALUES ('$T1'), ('$T2'))});
	ok(rejected($out), 'IN (VALUES two tenants), now = ANY, is rejected') or diag $out;
	$out = as_app(qq{SELECT * FROM (SELECT tenant_id, count(*) FROM deals GROUP BY tenant_id) s WHERE s.tenant_id = '$T1'});
	is($out, "$T1|2", 'a grouped subquery pinned from outside (RTE_GROUP) returns one tenant');
	# SQL functions go through the plan cache from 18 on: each call is still
	# checked, and a statement may reach one tenant (statement scope)
	$out = as_app("SELECT sql_count('$T1')") . "\n" . as_app("SELECT sql_count('$T2')");
	is($out, "2\n1", 'a SQL function (plan cache) pinned by its argument counts each tenant');
	$out = as_app("SELECT sql_count('$T1'), sql_count('$T2')");
	like($out, qr/ERROR:  42501: statement touches more than one tenant/,
		'a SQL function (plan cache) called for two tenants in one statement is rejected');
	$out = as_app(qq{MERGE INTO deals d USING (VALUES (7, 'v')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN MATCHED THEN UPDATE SET stage = s.st RETURNING old.stage, new.stage});
	is($out, 'y|v', 'MERGE ... RETURNING old/new, pinned, runs');
	$out = as_app(qq{MERGE INTO deals d USING (VALUES (9, 'n')) s(i, st) ON d.tenant_id = '$T1' AND d.id = s.i
                WHEN NOT MATCHED THEN INSERT VALUES ('$T2', s.i, s.st) RETURNING new.*});
	like($out, qr/ERROR:  42501: statement touches more than one tenant/,
		'MERGE pinned to one tenant inserting a row of another, RETURNING new.*, is rejected');
	# a virtual generated tenant column: the planner replaces it by its
	# expression before the check runs, so it is refused with its own reason
	sql(qq{CREATE TABLE vg (k text NOT NULL, tenant_id text GENERATED ALWAYS AS (split_part(k, ':', 1)) VIRTUAL, v int);
INSERT INTO vg (k, v) VALUES ('$T1:1', 1), ('$T2:1', 2);
GRANT SELECT, INSERT, UPDATE ON vg TO $role;});
	my $virtual = sub { return rejected($_[0]) && $_[0] =~ /DETAIL:  vg.tenant_id is a virtual generated column/; };
	$out = as_app("SELECT string_agg(v::text, ',') FROM vg WHERE tenant_id = '$T1'");
	ok($virtual->($out), 'a virtual generated tenant column, compared with a tenant, is refused as virtual') or diag $out;
	$out = as_app('SELECT count(*) FROM vg');
	ok($virtual->($out), 'a table with a virtual generated tenant column, unpinned, is refused as virtual') or diag $out;
	$out = as_app("UPDATE vg SET v = 5 WHERE tenant_id = '$T1'");
	ok($virtual->($out), 'an UPDATE of a table with a virtual generated tenant column is refused as virtual') or diag $out;
	$out = as_app("INSERT INTO vg (k, v) VALUES ('$T1:2', 3)");
	ok(rejected($out) && $out =~ /DETAIL:  vg.tenant_id is a generated column/,
		'an INSERT into a table with a virtual generated tenant column is rejected (generated)') or diag $out;
	$out = as_app("SELECT reason FROM gtm_check_statement('SELECT v FROM vg WHERE tenant_id = ''$T1''')");
	is($out, 'the tenant column is a virtual generated column', 'gtm_check_statement gives the reason');
	# RETURNING old/new in a data-modifying CTE whose rows are written elsewhere
	$out = as_app(qq{WITH u AS (UPDATE labels SET label = '$T1' WHERE tenant_id = '$T1' AND id = 1 RETURNING old.label AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'old' FROM u});
	ok(rejected($out), "an UPDATE's RETURNING old.col is the row as read, not the value set (rejected)") or diag $out;
	$out = as_app(qq{WITH u AS (UPDATE labels SET label = label WHERE tenant_id = '$T1' AND id = 1 RETURNING old.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'old' FROM u RETURNING tenant_id});
	is($out, $T1, "an UPDATE's RETURNING old.tenant_id may be written (its tenant)");
	$out = as_app(qq{WITH i AS (INSERT INTO labels VALUES ('$T1', 2, 'y') RETURNING old.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'ins-old' FROM i});
	ok(rejected($out) && $out =~ /DETAIL:  .* can be NULL/,
		"an INSERT's RETURNING old.tenant_id (NULL) is no tenant value (rejected)") or diag $out;
	$out = as_app(qq{WITH d AS (DELETE FROM labels WHERE tenant_id = '$T1' AND id = 1 RETURNING new.tenant_id AS t)
                INSERT INTO notes (tenant_id, body) SELECT t, 'del-new' FROM d});
	ok(rejected($out), "a DELETE's RETURNING new.tenant_id (NULL) is no tenant value (rejected)") or diag $out;
	is(sql(q{SELECT string_agg(coalesce(tenant_id, 'NULL') || ':' || body, ',' ORDER BY body) FROM notes}),
		"$T1:merge,$T1:old", '... and no note was written by any of them but the two allowed');
	# NOT NULL ... NOT VALID sets attnotnull while NULL rows remain (the
	# first step of a NOT NULL migration): a value that may be NULL (the
	# nullable side of an outer join) does not pin "IS NOT DISTINCT FROM"
	# there, and gtm_lint_schema reports the column as nullable
	sql(qq{CREATE TABLE nv (tenant_id text, id int, body text);
INSERT INTO nv VALUES (NULL, 1, 'orphan-secret'), ('$T1', 2, 't1');
ALTER TABLE nv ADD CONSTRAINT nv_nn NOT NULL tenant_id NOT VALID;
GRANT SELECT, INSERT, UPDATE, DELETE ON nv TO $role;});
	my $nv_read = qq{SELECT d.id, (SELECT string_agg(body, ',') FROM nv WHERE nv.tenant_id IS NOT DISTINCT FROM l.tenant_id)
                FROM deals d LEFT JOIN labels l ON l.tenant_id = d.tenant_id AND l.id = 99 WHERE d.tenant_id = '$T1' ORDER BY d.id};
	$out = as_app($nv_read);
	ok($out =~ /ERROR:  42501/ && $out !~ /orphan-secret/,
		'IS NOT DISTINCT FROM a nullable value, over NOT NULL NOT VALID, is rejected (no NULL-tenant row read)') or diag $out;
	is(sql(q{SELECT count(*) FROM gtm_lint_schema() WHERE "table" = 'nv'::regclass AND problem = 'tenant column nullable'}),
		'1', 'gtm_lint_schema reports a NOT NULL NOT VALID tenant column as nullable');
	sql('DELETE FROM nv WHERE tenant_id IS NULL; ALTER TABLE nv VALIDATE CONSTRAINT nv_nn');
	$out = as_app($nv_read);
	ok($out !~ /ERROR/ && $out !~ /orphan-secret/, '... once validated, the same statement runs') or diag $out;
	# temporal foreign keys (WITHOUT OVERLAPS / PERIOD): PostgreSQL's own
	# checks of them run as usual for an ordinary role (btree_gist, from contrib)
	my ($rc) = $node->psql($db, 'CREATE EXTENSION IF NOT EXISTS btree_gist');
	skip 'btree_gist is not available', 2 if $rc != 0;
	sql(qq{CREATE TABLE rooms (tenant_id text NOT NULL, id int NOT NULL, valid daterange NOT NULL,
                    PRIMARY KEY (tenant_id, id, valid WITHOUT OVERLAPS));
CREATE TABLE bookings (tenant_id text NOT NULL, room int NOT NULL, valid daterange NOT NULL,
                       FOREIGN KEY (tenant_id, room, PERIOD valid) REFERENCES rooms (tenant_id, id, PERIOD valid));
INSERT INTO rooms VALUES ('$T1', 1, '[2026-01-01,2027-01-01)'), ('$T2', 1, '[2026-01-01,2027-01-01)');
GRANT SELECT, INSERT, UPDATE, DELETE ON rooms, bookings TO $role;});
	$out = as_app("INSERT INTO bookings VALUES ('$T1', 1, '[2026-02-01,2026-03-01)')") . "\n"
	  . as_app("INSERT INTO bookings VALUES ('$T1', 1, '[2027-02-01,2027-03-01)')");
	ok($out =~ /ERROR:  23503: insert or update on table "bookings"/ && $out !~ /42501/,
		'a temporal foreign key is checked for an ordinary role (23503, not 42501)') or diag $out;
	$out = as_app("DELETE FROM rooms WHERE tenant_id = '$T1' AND id = 1");
	like($out, qr/ERROR:  23503: update or delete on table "rooms"/, '... and so is deleting a row it references');
}

$node->stop;
done_testing();
