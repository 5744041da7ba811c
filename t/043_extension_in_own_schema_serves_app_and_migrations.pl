# The extension installed into its own schema (CREATE EXTENSION gtm_clarity
# SCHEMA gtm, as doc/roles.md recommends for drizzle-kit), used the way
# doc/roles.md describes: a migration role creates a tenant table with
# gtm_make_tenant_table and backfills it, an application role (search_path
# without gtm) serves requests and imports with COPY FROM; the lint of the
# application's schema is clean.  Data checked as the superuser.
# (Was test/shell/app_schema.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('app_schema');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my $db = 'gtm_app_schema';
sub sql { return $node->safe_psql($db, $_[0]); }
# as a role: returns exit status, stdout and stderr
sub as
{
	my ($role, $sql) = @_;
	return gtm_run([ 'psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-U', $role, '-d', $db ],
		stdin => $sql);
}
# the requests below keep a session tenant across statements (allowed only
# where a superuser sets gtm.allow_session_tenant)
my $T1 = '11111111-1111-4111-8111-111111111111';
my $T2 = '22222222-2222-4222-8222-222222222222';

$node->safe_psql('postgres', "CREATE DATABASE $db");
sql(<<SQL);
CREATE SCHEMA gtm;
CREATE EXTENSION gtm_clarity SCHEMA gtm;
CREATE ROLE regress_app_schema_mig LOGIN;
CREATE ROLE regress_app_schema_app LOGIN;
ALTER ROLE regress_app_schema_app SET gtm.allow_session_tenant = on;
GRANT CREATE, USAGE ON SCHEMA public TO regress_app_schema_mig;
GRANT USAGE ON SCHEMA public TO regress_app_schema_app;
SELECT gtm.gtm_grant_migrator('regress_app_schema_mig');
SELECT gtm.gtm_grant_app('regress_app_schema_app');
ALTER DEFAULT PRIVILEGES FOR ROLE regress_app_schema_mig IN SCHEMA public
  GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO regress_app_schema_app;
INSERT INTO gtm.tenants (id, clerk_org_id, name, slug)
  VALUES ('$T1', 'org_appschema1', 'One', 'one'), ('$T2', 'org_appschema2', 'Two', 'two');
SQL
# (the COPY row check is in pg_catalog by design: doc/app-toolkit.md)
is(sql(q{SELECT count(*) FROM pg_proc WHERE proname LIKE 'gtm\_%'
           AND pronamespace <> 'gtm'::regnamespace AND proname <> 'gtm_copy_check_row'}),
	'0', "the extension's objects are in schema gtm");

# the migration: a table with rows, made a tenant table, then a backfill
# touching every tenant (the migration role is exempt: BYPASSRLS)
my ($rc, $out, $err) = as('regress_app_schema_mig', <<SQL);
CREATE TABLE public.accounts (id int PRIMARY KEY, name text);
INSERT INTO public.accounts VALUES (1, 'a'), (2, 'b');
SELECT gtm.gtm_make_tenant_table('public.accounts', lead_keys => true, backfill_tenant => '$T1');
UPDATE public.accounts SET name = upper(name);
INSERT INTO public.accounts (tenant_id, id, name) VALUES ('$T2', 1, 'Z');
SQL
diag $err if $rc;
is(sql(q{SELECT string_agg(tenant_id || ':' || id || ':' || name, ',' ORDER BY tenant_id, id) FROM accounts}),
	"$T1:1:A,$T1:2:B,$T2:1:Z", 'the migration role made and backfilled the table');
is(sql(q{SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'accounts'::regclass AND contype = 'p'}),
	'PRIMARY KEY (tenant_id, id)', 'the primary key leads with tenant_id');
is(sql(q{SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'accounts'::regclass
           AND adnum = (SELECT attnum FROM pg_attribute WHERE attrelid = 'accounts'::regclass AND attname = 'tenant_id')}),
	'gtm.gtm_current_tenant()', 'the default names the function in schema gtm');

# requests: the application role, gtm not in its search_path
($rc, $out, $err) = as('regress_app_schema_app',
	"SELECT gtm.gtm_set_tenant('$T1', false);\nSELECT count(*) FROM accounts WHERE tenant_id = gtm.gtm_current_tenant();");
is((split /\n/, $out)[-1], '2', "the application role reads its tenant's rows");
($rc, $out, $err) = as('regress_app_schema_app', 'SELECT count(*) FROM accounts');
like($err, qr/is not pinned to one tenant/, 'the application role is checked');
($rc, $out, $err) = as('regress_app_schema_app', "UPDATE accounts SET name = 'x'");
like($err, qr/is not pinned to one tenant/, 'an unpinned UPDATE by the application role is refused');

# bulk import: COPY FROM with the tenant column left out, then a wrong row
PostgreSQL::Test::Utils::append_to_file("$tmp/rows1", "10\tten\n11\televen\n");
($rc, $out, $err) = as('regress_app_schema_app',
	"SELECT gtm.gtm_set_tenant('$T2', false);\n\\copy accounts (id, name) FROM '$tmp/rows1'\n");
diag $err if $rc;
is(sql(q{SELECT string_agg(tenant_id || ':' || id, ',' ORDER BY id) FROM accounts WHERE id >= 10}),
	"$T2:10,$T2:11", 'COPY FROM fills the session tenant');
PostgreSQL::Test::Utils::append_to_file("$tmp/rows2", "$T2\t12\ttwelve\n$T1\t13\tthirteen\n");
($rc, $out, $err) = as('regress_app_schema_app',
	"SELECT gtm.gtm_set_tenant('$T2', false);\n\\copy accounts (tenant_id, id, name) FROM '$tmp/rows2'\n");
like($err, qr/line 2 belongs to another tenant/, 'a wrong row is refused, naming its line');
is(sql('SELECT count(*) FROM accounts WHERE id >= 12'), '0', 'nothing of that COPY was written');

is(sql(q{SELECT gtm.gtm_schema_is_clean('{regress_app_schema_app}', '{public}')}), 't',
	"the lint of the application's schema is clean");
$node->stop;
done_testing();
