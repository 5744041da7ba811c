# pg_dump keeps working for exempt roles (superuser, BYPASSRLS) and is
# refused, like COPY, for an ordinary role; the dump restores the rows of
# every tenant and the exemptions.
# (Was test/shell/enforce_dump.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('enforce_dump');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $db = 'gtm_enforce_dump';
$node->safe_psql('postgres', "CREATE DATABASE $db");
$node->safe_psql($db, q{
CREATE EXTENSION gtm_clarity;
CREATE ROLE regress_enforce_dump_app LOGIN;
CREATE ROLE regress_enforce_dump_bypass LOGIN BYPASSRLS;
CREATE TABLE deals (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
INSERT INTO deals VALUES ('t-1', 1), ('t-2', 2);
GRANT SELECT ON deals TO regress_enforce_dump_app, regress_enforce_dump_bypass;
CREATE TABLE audit_log (tenant_id text, what text);
SELECT gtm_exempt_table('deals');
SELECT gtm_unexempt_table('deals');
SELECT gtm_exempt_table('audit_log');});

my ($rc, $out, $err) = gtm_run([ 'pg_dump', '-d', $db ]);
ok($rc == 0 && $out =~ /^t-1\t1$/m && $out =~ /^t-2\t2$/m, "a superuser dumps every tenant's rows")
  or diag $err;
($rc, $out, $err) = gtm_run([ 'pg_dump', '-d', $db, '-U', 'regress_enforce_dump_bypass', '-t', 'deals' ]);
ok($rc == 0 && $out =~ /^t-1\t1$/m && $out =~ /^t-2\t2$/m, 'a BYPASSRLS role dumps a tenant table')
  or diag $err;
($rc, $out, $err) = gtm_run([ 'pg_dump', '-d', $db, '-U', 'regress_enforce_dump_app', '-t', 'deals' ]);
ok($rc != 0 && $err =~ /COPY on tenant-scoped table "deals" is not allowed/,
	'an ordinary role cannot dump a tenant table')
  or diag $err;
unlike($out, qr/^t-\d\t/m, '... and got no row of it');

# restore into a new database: rows, and the extension's own tables
($rc, $out, $err) = gtm_run([ 'pg_dump', '-d', $db, '-Fc', '-f', "$tmp/db.dump" ]);
$node->safe_psql('postgres', "CREATE DATABASE ${db}_restored");
($rc, $out, $err) = gtm_run([ 'pg_restore', '-d', "${db}_restored", "$tmp/db.dump" ]);
is($rc, 0, 'the dump restores') or diag $err;
is($node->safe_psql("${db}_restored", 'SELECT string_agg(tenant_id || \':\' || id, \',\' ORDER BY id) FROM deals'),
	't-1:1,t-2:2', 'restored rows of both tenants');
is($node->safe_psql("${db}_restored", 'SELECT string_agg(table_name, \',\') FROM gtm_exempt_tables'),
	'audit_log', 'exemptions round-trip');

$node->stop;
done_testing();
