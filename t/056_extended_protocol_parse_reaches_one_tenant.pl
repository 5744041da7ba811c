# One top-level statement, one tenant, also across the messages of the
# extended protocol (round CQ).  A temporary domain's CHECK runs when a
# literal of that domain is analysed: with Parse, Bind and Execute, the
# analysis happens in the Parse message and the statement's pins are
# checked at Bind/Execute, each a message of its own.  An UPDATE pinned to
# T1 whose literal's CHECK updated T2's row at Parse changed both tenants'
# rows (the same text as a simple Query was refused).  The tenant the
# analysis reached now stays the transaction's.  The raw messages come from
# test/node/raw_protocol.js (node's standard library only).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('parse_reach');
my $db = 'gtm_parse_reach';
sub sql { return $node->safe_psql($db, $_[0]); }

ok(system('command -v node >/dev/null') == 0, 'node is installed');

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(<<'SQL');
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE parse_app LOGIN;
CREATE TABLE public.deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
INSERT INTO public.deals VALUES ('T1', 1, 'open'), ('T2', 1, 'open'), ('T2', 2, 'secret');
GRANT SELECT, INSERT, UPDATE, DELETE ON public.deals TO parse_app;
SQL

sub run_script { my ($name, $batches) = @_; return gtm_raw_protocol($node, $db, 'parse_app', $batches); }
sub rows { return sql(q{SELECT string_agg(tenant_id || ':' || id || ':' || stage, ',' ORDER BY tenant_id, id) FROM public.deals}); }

my $setup = q{["Q","CREATE FUNCTION pg_temp.g(t text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN UPDATE public.deals SET stage = 'pwned' WHERE tenant_id = t AND id = 1; RETURN true; END$$; CREATE FUNCTION pg_temp.r(t text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN RAISE NOTICE 'read %', (SELECT string_agg(stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = t); RETURN true; END$$; CREATE DOMAIN pg_temp.d2 AS text CHECK (pg_temp.g(VALUE)); CREATE DOMAIN pg_temp.r2 AS text CHECK (pg_temp.r(VALUE))"]};

# control: the same text as a simple Query is one statement, refused
my $out = run_script('simple', qq{[[["Q","BEGIN"]],[$setup],
 [["Q","UPDATE public.deals SET stage = 'mine' WHERE tenant_id = 'T1' AND id = 1 AND '{T2}'::pg_temp.d2[] IS NOT NULL"]],
 [["Q","ROLLBACK"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'as a simple Query: refused') or diag $out;

# the attack: Parse (its CHECK changes T2's row), Bind and Execute (T1), Sync
$out = run_script('extended', qq{[[$setup],
 [["P","","UPDATE public.deals SET stage = 'mine' WHERE tenant_id = 'T1' AND id = 1 AND '{T2}'::pg_temp.d2[] IS NOT NULL"],["B","",""],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'as Parse, Bind, Execute in one transaction: refused') or diag $out;
is(rows(), 'T1:1:open,T2:1:open,T2:2:secret', "neither tenant's row changed (the transaction rolled back)");

# a read: the CHECK reads T2's stages at Parse, the statement T1's at Execute
$out = run_script('read', qq{[[$setup],
 [["P","","SELECT stage FROM public.deals WHERE tenant_id = 'T1' AND '{T2}'::pg_temp.r2[] IS NOT NULL"],["B","",""],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a read: refused') or diag $out;
unlike($out, qr/ROW \["open"\]/, "... and returns no row of T1") or diag $out;

# a statement of one tenant at both: accepted, its rows only
$out = run_script('one', qq{[[$setup],
 [["P","","UPDATE public.deals SET stage = 'both T2' WHERE tenant_id = 'T2' AND id = 2 AND '{T2}'::pg_temp.r2[] IS NOT NULL"],["B","",""],["E",""],["S"]]]});
like($out, qr/CMD UPDATE 1/, 'a statement whose analysis reaches its own tenant: accepted') or diag $out;
is(rows(), 'T1:1:open,T2:1:open,T2:2:both T2', 'and it changed its own row only');

# the next transaction is free of it
$out = run_script('next', qq{[[$setup],
 [["P","","SELECT count(*) FROM public.deals WHERE '{T2}'::pg_temp.r2[] IS NOT NULL AND tenant_id = 'T2'"],["B","",""],["E",""],["S"]],
 [["P","","SELECT count(*) FROM public.deals WHERE tenant_id = 'T1'"],["B","",""],["E",""],["S"]]]});
like($out, qr/ROW \["1"\]/, 'a later transaction reads another tenant as before') or diag $out;

# round DL: the planner calls a STABLE function to estimate a condition
# while it plans the portal in the Bind message; the executor starts in
# Execute, another message.  The function read T2's stages into a setting
# at Bind, and the UPDATE pinned to T1 wrote them into T1's row at Execute.
# The plan now carries the tenant its planning reached, reached again when
# it starts
my $est = q{["Q","CREATE FUNCTION pg_temp.w() RETURNS int LANGUAGE plpgsql VOLATILE AS $$BEGIN PERFORM set_config('my.loot', (SELECT string_agg(stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T2'), false); RETURN 100; END$$; CREATE FUNCTION pg_temp.s() RETURNS int LANGUAGE plpgsql STABLE AS $$BEGIN IF current_setting('my.done', true) IS DISTINCT FROM '1' THEN PERFORM set_config('my.done', '1', false); RETURN pg_temp.w(); END IF; RETURN 100; END$$"]};
sql("UPDATE public.deals SET stage = 'open' WHERE tenant_id = 'T1'");
my $before = rows();
$out = run_script('simple-estimate', qq{[[["Q","BEGIN"]],[$est],
 [["Q","UPDATE public.deals SET stage = current_setting('my.loot', true) WHERE tenant_id = 'T1' AND id < pg_temp.s() RETURNING stage"]],
 [["Q","ROLLBACK"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a function called to estimate, as a simple Query: refused') or diag $out;
$out = run_script('bind-estimate', qq{[[$est],
 [["P","","UPDATE public.deals SET stage = current_setting('my.loot', true) WHERE tenant_id = \$1 AND id < pg_temp.s() RETURNING stage"],["B","","",["T1"]],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'planned at Bind, started at Execute: refused') or diag $out;
unlike($out, qr/ROW/, '... and returns no row') or diag $out;
is(rows(), $before, "T1's row does not hold T2's stages; nothing changed");
# a DELETE whose estimate changes T2's row at Bind
$out = run_script('bind-delete', qq{[[["Q","CREATE FUNCTION pg_temp.w2() RETURNS int LANGUAGE plpgsql VOLATILE AS \$\$BEGIN UPDATE public.deals SET stage = 'planted' WHERE tenant_id = 'T2' AND id = 1; RETURN 100; END\$\$; CREATE FUNCTION pg_temp.s2() RETURNS int LANGUAGE plpgsql STABLE AS \$\$BEGIN IF current_setting('my.done2', true) IS DISTINCT FROM '1' THEN PERFORM set_config('my.done2', '1', false); RETURN pg_temp.w2(); END IF; RETURN 100; END\$\$"]],
 [["P","","DELETE FROM public.deals WHERE tenant_id = \$1 AND id = 1 AND id < pg_temp.s2() RETURNING id"],["B","","",["T1"]],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a DELETE whose estimate writes T2 at Bind: refused') or diag $out;
is(rows(), $before, 'neither T1 deleted nor T2 planted');
# one tenant at both: accepted
$out = run_script('bind-one', qq{[[$est],
 [["P","","UPDATE public.deals SET stage = 'seen' WHERE tenant_id = \$1 AND id = 2 AND id < pg_temp.s() RETURNING stage"],["B","","",["T2"]],["E",""],["S"]]]});
like($out, qr/CMD UPDATE 1/, 'an estimate that reaches the statement\'s own tenant: accepted') or diag $out;

# round FY: the same across Bind.  Bind converts the parameters, and a
# parameter of a temporary domain runs its CHECK there, outside any
# portal; a write's portal starts at Execute, a message of its own.  The
# CHECK read T2's stages into a setting and changed T2's row, and the
# INSERT (UPDATE, DELETE) pinned to T1 by that parameter wrote them into
# T1's row, all committed.  The tenant Bind reached now stays the
# transaction's, as Parse's does
my $bind = q{["Q","CREATE FUNCTION pg_temp.b(v text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('my.bound', (SELECT string_agg(stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T2'), false); IF v = 'T1' THEN UPDATE public.deals SET stage = 'bound' WHERE tenant_id = 'T2' AND id = 1; END IF; RETURN true; END$$; CREATE DOMAIN pg_temp.bd AS text CHECK (pg_temp.b(VALUE))"]};
# the function's plans are cached first (a call of T2 alone, rolled back)
my $warm = q{["Q","BEGIN"]],[["Q","SELECT pg_temp.b('T1')"]],[["Q","ROLLBACK"]};
sql("UPDATE public.deals SET stage = 'open'; DELETE FROM public.deals WHERE id > 2");
$before = rows();
for my $write (
	["an INSERT", q{INSERT INTO public.deals (tenant_id, id, stage) VALUES ($1::pg_temp.bd, 9, current_setting('my.bound', true)) RETURNING stage}],
	["an UPDATE", q{UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = $1::pg_temp.bd AND id = 1 RETURNING stage}],
	["a DELETE", q{DELETE FROM public.deals WHERE tenant_id = $1::pg_temp.bd AND id = 1 RETURNING stage}])
{
	my ($what, $text) = @$write;
	$out = run_script('bind-domain', qq{[[$bind],[$warm],
 [["P","","$text"],["B","","",["T1"]],["E",""],["S"]],
 [["Q","SELECT count(*) FROM public.deals WHERE tenant_id = 'T2' AND stage = 'bound'"]]]});
	like($out, qr/ERROR statement touches more than one tenant/, "$what pinned to T1 whose parameter's CHECK reached T2 at Bind: refused") or diag $out;
	unlike($out, qr/ROW \["open/, '... and returns no row') or diag $out;
	is(rows(), $before, "... nothing written: no row of T1 holds T2's stages, T2's row unchanged");
}
# the CHECK reaches the statement's own tenant: accepted, its rows only
$out = run_script('bind-domain-one', qq{[[$bind],[$warm],
 [["P","","UPDATE public.deals SET stage = 'own' WHERE tenant_id = \$1::pg_temp.bd AND id = 2 RETURNING stage"],["B","","",["T2"]],["E",""],["S"]]]});
like($out, qr/CMD UPDATE 1/, 'a parameter whose CHECK reaches the statement\'s own tenant: accepted') or diag $out;
is(rows(), 'T1:1:open,T2:1:open,T2:2:own', '... and it changed its own row only');

# round FZ: the CHECK reaches T2 one call down (a function it calls per
# row), and a portal bound with it is executed after another portal's
# Bind and Execute: what its Bind reached is found by the portal's start
my $nest = q{["Q","CREATE FUNCTION pg_temp.inner(v text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN PERFORM set_config('my.nested', (SELECT string_agg(stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T2'), false); IF v = 'T1' THEN UPDATE public.deals SET stage = 'nested' WHERE tenant_id = 'T2' AND id = 1; END IF; RETURN true; END$$; CREATE FUNCTION pg_temp.outer(v text) RETURNS bool LANGUAGE plpgsql AS $$BEGIN PERFORM 1 FROM generate_series(1, 1) g WHERE pg_temp.inner(v); RETURN true; END$$; CREATE DOMAIN pg_temp.nd AS text CHECK (pg_temp.outer(VALUE))"]};
my $nwarm = q{["Q","BEGIN"]],[["Q","SELECT pg_temp.outer('T1')"]],[["Q","ROLLBACK"]};
$before = rows();
$out = run_script('bind-nested', qq{[[$nest],[$nwarm],
 [["P","","INSERT INTO public.deals (tenant_id, id, stage) VALUES (\$1::pg_temp.nd, 9, current_setting('my.nested', true)) RETURNING stage"],["B","","",["T1"]],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a CHECK that reaches T2 through a function it calls: refused') or diag $out;
is(rows(), $before, '... nothing written or changed');
$out = run_script('bind-interleaved', qq{[[$nest],[$nwarm],[["Q","BEGIN"]],
 [["P","w","UPDATE public.deals SET stage = current_setting('my.nested', true) WHERE tenant_id = \$1::pg_temp.nd AND id = 1 RETURNING stage"],["B","pw","w",["T1"]],
  ["P","","SELECT count(*) FROM public.deals WHERE tenant_id = 'T1'"],["B","",""],["E",""],["E","pw"],["S"]],
 [["Q","COMMIT"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a named portal bound with it, executed after another statement: refused') or diag $out;
is(rows(), $before, '... nothing written or changed');
# statements of two tenants, each bound and executed, in one transaction
# with no such CHECK: accepted, as before
$out = run_script('two-tenants', qq{[[["Q","BEGIN"]],
 [["P","","UPDATE public.deals SET stage = 'one' WHERE tenant_id = \$1 AND id = 1"],["B","","",["T1"]],["E",""],
  ["P","","UPDATE public.deals SET stage = 'two' WHERE tenant_id = \$1 AND id = 2"],["B","","",["T2"]],["E",""],["S"]],
 [["Q","ROLLBACK"]]]});
unlike($out, qr/ERROR/, 'two tenants in one transaction, one per statement: accepted') or diag $out;
like($out, qr/CMD UPDATE 1.*CMD UPDATE 1/s, '... both rows updated') or diag $out;

# round GA: what the Bind reached is found however the portal starts:
# after a cursor that stayed open across the Bind (its statement spanned
# the Bind's message); when the first statement on a tenant table is one
# a function runs in a cursor of its own (FOR ... IN UPDATE) while the
# portal's statement writes a table of no tenant; when the portal is a
# CALL whose procedure commits first
sql(q{CREATE TABLE public.audit (v text); GRANT SELECT, INSERT ON public.audit TO parse_app});
my $ga = q{["Q","CREATE FUNCTION pg_temp.w_for(t text) RETURNS text LANGUAGE plpgsql AS $$DECLARE r record; BEGIN FOR r IN UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = t AND id = 1 RETURNING stage LOOP END LOOP; RETURN 'x'; END$$; CREATE PROCEDURE pg_temp.p_commit(t text) LANGUAGE plpgsql AS $$BEGIN COMMIT; UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = t AND id = 1; END$$"]};
$before = rows();
$out = run_script('bind-cursor-open', qq{[[$bind],[$ga],[$warm],[["Q","BEGIN"]],[["Q","DECLARE hold CURSOR FOR SELECT g FROM generate_series(1, 3) g"]],
 [["P","su","UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = \$1::pg_temp.bd AND id = 1 RETURNING stage"],["B","pu","su",["T1"]],
  ["P","","CLOSE hold"],["B","",""],["E",""],["E","pu"],["S"]],
 [["Q","COMMIT"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'Bind while a cursor of no tenant is open, Execute after it closed: refused') or diag $out;
is(rows(), $before, '... nothing written or changed');
$out = run_script('bind-for-cursor', qq{[[$bind],[$ga],[$warm],
 [["P","","INSERT INTO public.audit SELECT pg_temp.w_for(\$1::pg_temp.bd)"],["B","","",["T1"]],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a statement of no tenant whose function writes T1 in a cursor of its own: refused') or diag $out;
is(rows(), $before, '... nothing written or changed');
is(sql('SELECT count(*) FROM public.audit'), '0', '... nothing inserted');
$out = run_script('bind-call-commit', qq{[[$bind],[$ga],[$warm],
 [["P","","CALL pg_temp.p_commit(\$1::pg_temp.bd)"],["B","","",["T1"]],["E",""],["S"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'a CALL whose procedure commits, then writes T1: refused') or diag $out;
# (the CHECK's own change of T2's row, a statement of T2 alone at Bind, is
# what the procedure's COMMIT committed; T1's row holds nothing of T2's)
is(sql(q{SELECT string_agg(id || ':' || stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T1'}), '1:open', "... T1's row unchanged");
sql(q{UPDATE public.deals SET stage = 'open' WHERE tenant_id = 'T2' AND id = 1});
# a portal of no such CHECK, executed after many statements: accepted
my $many = join(',', map { q{[["Q","SELECT count(*) FROM public.deals WHERE tenant_id = 'T1'"]]} } 1 .. 12);
$out = run_script('bind-late', qq{[[["Q","BEGIN"]],
 [["P","sl","UPDATE public.deals SET stage = 'late' WHERE tenant_id = \$1 AND id = 2"],["B","pl","sl",["T2"]],["S"]],
 $many,
 [["E","pl"],["S"]],[["Q","ROLLBACK"]]]});
unlike($out, qr/ERROR/, 'a portal executed after twelve statements of another tenant: accepted') or diag $out;
like($out, qr/CMD UPDATE 1/, '... and it updated its row') or diag $out;

# round GB: the Bind's statement ended in a failed subtransaction (a
# cursor of T2 kept it open across SAVEPOINT, an error, ROLLBACK TO): what
# it reached is kept all the same, and the portal executed after is
# refused
$out = run_script('bind-failed-savepoint', qq{[[$bind],[$warm],[["Q","BEGIN"]],
 [["Q","DECLARE hold CURSOR FOR SELECT id FROM public.deals WHERE tenant_id = 'T2'"]],
 [["P","sf","UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = \$1::pg_temp.bd AND id = 1 RETURNING stage"],["B","pf","sf",["T1"]],["S"]],
 [["Q","SAVEPOINT sp"]],[["Q","CLOSE hold"]],[["Q","SELEC 1"]],[["Q","ROLLBACK TO SAVEPOINT sp"]],
 [["E","pf"],["S"]],[["Q","COMMIT"]]]});
like($out, qr/ERROR statement touches more than one tenant/, 'Bind noted although its statement ended in a failed subtransaction: refused') or diag $out;
is(sql(q{SELECT string_agg(id || ':' || stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T1'}), '1:open', "... T1's row unchanged");
sql(q{UPDATE public.deals SET stage = 'open' WHERE tenant_id = 'T2' AND id = 1});

# round GB: the tenants noted in one transaction are bounded in bytes (3
# tenants of 60 kB in turn, 300 statements: 18 MB were copied)
my $big = join("\n", map { my $t = chr(65 + $_ % 3) x 60000; "SELECT count(*) FROM public.deals WHERE tenant_id = '$t';" } 1 .. 300);
my $bytes = sql("BEGIN;\nSET ROLE parse_app;\n$big\nRESET ROLE;\nSELECT sum(total_bytes) FROM pg_backend_memory_contexts WHERE name = 'TopTransactionContext';\nCOMMIT;");
$bytes =~ s/.*\n//s;
cmp_ok($bytes, '<', 4 * 1024 * 1024, "300 statements of three 60 kB tenants in turn: TopTransactionContext under 4 MB ($bytes bytes)");

# ... and past that bound, a portal bound before what is kept fails closed
# (round GC: bound with the CHECK, then 18 statements of three 60 kB
# tenants in turn, then executed)
my $turns = join(',', map { my $t = chr(65 + $_ % 3) x 60000; qq{[["Q","SELECT count(*) FROM public.deals WHERE tenant_id = '$t'"]]} } 1 .. 18);
$out = run_script('bind-lost', qq{[[$bind],[$warm],[["Q","BEGIN"]],
 [["P","sx","UPDATE public.deals SET stage = current_setting('my.bound', true) WHERE tenant_id = \$1::pg_temp.bd AND id = 1 RETURNING stage"],["B","px","sx",["T1"]],["S"]],
 $turns,
 [["E","px"],["S"]],[["Q","COMMIT"]]]});
like($out, qr/ERROR the tenant that this statement's portal reached when it was bound is no longer known/, 'a portal bound before the tenants kept: fails closed') or diag $out;
is(sql(q{SELECT string_agg(id || ':' || stage, ',' ORDER BY id) FROM public.deals WHERE tenant_id = 'T1'}), '1:open', "... T1's row unchanged");

done_testing();
