# "Install 1.0.0, then ALTER EXTENSION UPDATE" gives the same catalog as a
# fresh install of the current version (every member object with what
# defines it); the settings stored under 1.0.0 still pass and what 1.0.0
# refused is still refused; a dump taken at 1.0.0 restores into a server
# that has the current version.
# (Was test/shell/upgrade.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('upgrade');
my $tmp = PostgreSQL::Test::Utils::tempdir;
sub sql { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }
my $extversion = "SELECT extversion FROM pg_extension WHERE extname = 'gtm_clarity'";

my $current = sql('postgres', "SELECT default_version FROM pg_available_extensions WHERE name = 'gtm_clarity'");
sql('postgres', 'CREATE DATABASE gtm_up_old');
sql('postgres', 'CREATE DATABASE gtm_up_new');
sql('gtm_up_old', "CREATE EXTENSION gtm_clarity VERSION '1.0.0'");
is(sql('gtm_up_old', $extversion), '1.0.0', '1.0.0 installs');
sql('gtm_up_old', q{
SELECT gtm_sign_in('org_upgrade' || i, 'user_up' || i, 'Upgrade Co ' || i) FROM generate_series(1, 5) i;
SELECT gtm_set_default_settings('{"timezone": "Europe/Paris", "defaultScoringVersion": 1, "features": {"buyingGroups": true, "writeback": false}}');
-- overrides valid under 1.0.0, on every key of the defaults in force
UPDATE tenants SET settings = '{"timezone": "Asia/Tokyo", "defaultScoringVersion": 2, "features": {"writeback": true}}'
 WHERE clerk_org_id = 'org_upgrade1';});
my ($rc, $out, $err) = gtm_run([ 'pg_dump', '-Fc', '-f', "$tmp/old.dump", 'gtm_up_old' ]);
# 1.0.0 kept the exemption of a dropped table (its OID could come back);
# made after the dump, so the restore below does not carry it
sql('gtm_up_old', q{CREATE TABLE up_dropped (tenant_id text NOT NULL);
SELECT gtm_exempt_table('up_dropped');
DROP TABLE up_dropped;});
is(sql('gtm_up_old', 'SELECT count(*) FROM tenant_scope_exemptions'), '1',
	'1.0.0 keeps the exemption row of a dropped table');
ok($rc == 0 && -s "$tmp/old.dump" && $err eq '', 'a dump of the 1.0.0 database is taken') or diag $err;

($rc, $out, $err) = $node->psql('gtm_up_old', 'ALTER EXTENSION gtm_clarity UPDATE');
ok($rc == 0 && $err eq '' && sql('gtm_up_old', $extversion) eq $current,
	"ALTER EXTENSION gtm_clarity UPDATE reaches $current") or diag $err;
is(sql('gtm_up_old', 'SELECT count(*) FROM tenant_scope_exemptions'), '0',
	'the update deletes the exemption rows of dropped tables');
sql('gtm_up_new', 'CREATE EXTENSION gtm_clarity');

# the settings after the update: every version got the schema equivalent
# to the 1.0.0 rules of its defaults, the factory row the factory schema;
# the overrides stored under 1.0.0 still pass, and what 1.0.0 refused is
# still refused
is(sql('gtm_up_old', 'SELECT count(*) FROM gtm_invalid_tenant_settings()') . ' '
	  . sql('gtm_up_old', "SELECT gtm_tenant_setting(id, '{timezone}') FROM tenants WHERE clerk_org_id = 'org_upgrade1'"),
	'0 "Asia/Tokyo"', 'the overrides stored under 1.0.0 still pass');
is(sql('gtm_up_old', 'SELECT schema = gtm_settings_schema_from(settings) AND schema = gtm_settings_schema()
                        FROM settings_defaults WHERE version = 1'),
	't', "the operator's 1.0.0 defaults carry the equivalent schema");
is(sql('gtm_up_old', 'SELECT schema::text FROM settings_defaults WHERE version = 0'),
	sql('gtm_up_new', 'SELECT schema::text FROM settings_defaults WHERE version = 0'),
	'the factory row carries the factory schema of a fresh install');
my @refused = (
	[ '{"timzone": "UTC"}', 'unknown tenant setting "timzone"' ],
	[ '{"features": {"writeback": 1}}',
		'tenant setting "features.writeback" must be a JSON boolean, not a JSON number' ],
	[ '{"timezone": "EST5"}', 'invalid time zone "EST5"' ],
	[ '{"defaultScoringVersion": 0}', 'tenant setting "defaultScoringVersion" must be at least 1' ]);
my $refused = 0;
for my $r (@refused)
{
	my ($rc1, $o1, $e1) = $node->psql('gtm_up_old', "SELECT gtm_check_settings('$r->[0]')");
	$refused++ if $rc1 != 0 && index($e1, "ERROR:  $r->[1]") >= 0;
}
is($refused, 4, 'what 1.0.0 refused is refused: unknown key, type, time zone, scoring version');

# Every member object of the extension, described with what defines it:
# functions (signature, result, language, volatility, security, settings,
# parallel safety, body, privileges, comment), relations (columns,
# constraints, privileges, comment), views, types, and the dump config.
my $catalog = <<'SQL';
WITH ext AS (SELECT oid, extnamespace FROM pg_extension WHERE extname = 'gtm_clarity'),
members AS (
  SELECT d.classid, d.objid FROM pg_depend d, ext
   WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = ext.oid AND d.deptype = 'e')
SELECT 'member ' || pg_describe_object(classid, objid, 0) FROM members
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' -> ' || pg_get_function_result(p.oid)
       || ' ' || p.provolatile::text || p.proparallel::text || p.prosecdef::text || coalesce(p.proconfig::text, '')
       || ' ' || md5(p.prosrc) || ' ' || coalesce(p.proacl::text, 'default')
       || ' ' || coalesce(obj_description(p.oid, 'pg_proc'), '-')
  FROM pg_proc p, members m WHERE m.classid = 'pg_proc'::regclass AND m.objid = p.oid
UNION ALL
SELECT 'relation ' || c.oid::regclass || ' ' || c.relkind::text || ' ' || coalesce(c.relacl::text, 'default')
       || ' ' || coalesce(obj_description(c.oid, 'pg_class'), '-')
       || ' ' || coalesce(pg_get_viewdef(c.oid), '')
  FROM pg_class c, members m WHERE m.classid = 'pg_class'::regclass AND m.objid = c.oid
UNION ALL
SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || ' ' || a.attnotnull || ' ' || coalesce(pg_get_expr(ad.adbin, ad.adrelid), '')
       || ' ' || coalesce(a.attacl::text, '')
  FROM pg_attribute a JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = a.attrelid
  LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
 WHERE a.attnum > 0 AND NOT a.attisdropped
UNION ALL
SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_get_constraintdef(co.oid)
  FROM pg_constraint co JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = co.conrelid
UNION ALL
SELECT 'index ' || pg_get_indexdef(i.indexrelid)
  FROM pg_index i JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = i.indrelid
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN members m ON m.classid = 'pg_class'::regclass AND m.objid = t.tgrelid
 WHERE NOT t.tgisinternal
UNION ALL
SELECT 'event trigger ' || et.evtname || ' ' || et.evtevent || ' ' || et.evtfoid::regprocedure
       || ' ' || et.evtenabled::text || ' ' || coalesce(et.evttags::text, '')
  FROM pg_event_trigger et JOIN members m ON m.classid = 'pg_event_trigger'::regclass AND m.objid = et.oid
UNION ALL
SELECT 'config ' || e.extconfig::regclass[]::text || ' ' || coalesce(e.extcondition::text, '')
  FROM pg_extension e WHERE e.extname = 'gtm_clarity'
ORDER BY 1
SQL
my $updated = sql('gtm_up_old', $catalog);
my $fresh = sql('gtm_up_new', $catalog);
cmp_ok(scalar(my @l = split /\n/, $updated), '>', 50, 'the updated catalog lists objects');
is($updated, $fresh, 'updated and fresh installs have the same catalog');

sql('postgres', 'CREATE DATABASE gtm_up_restored');
($rc, $out, $err) = gtm_run([ 'pg_restore', '--exit-on-error', '-d', 'gtm_up_restored', "$tmp/old.dump" ]);
ok($rc == 0 && $err eq '' && sql('gtm_up_restored', $extversion) eq $current,
	'the 1.0.0 dump restores into the current version') or diag $err;
is(sql('gtm_up_restored', "SELECT count(*) FROM tenants WHERE clerk_org_id LIKE 'org_upgrade%'") . '/'
	  . sql('gtm_up_restored', 'SELECT count(*) FROM tenant_members'),
	'5/5', 'its tenants and members came back');
is(sql('gtm_up_restored', "SELECT settings->>'timezone' FROM settings_defaults ORDER BY version DESC LIMIT 1"),
	'Europe/Paris', 'its default settings came back');
is(sql('gtm_up_restored', 'SELECT schema = gtm_settings_schema_from(settings) FROM settings_defaults WHERE version = 1')
	  . '/' . sql('gtm_up_restored', 'SELECT count(*) FROM gtm_invalid_tenant_settings()'),
	't/0', 'its defaults (dumped without a schema) got the equivalent schema; its overrides pass');
is(sql('gtm_up_restored', q{SELECT reason FROM gtm_check_statement($$SELECT * FROM tenant_members WHERE tenant_id = current_setting('app.t', true)$$)}),
	q{pinned to gtm_pin(current_setting('app.t'::text, true))},
	'the restored database pins current_setting() through gtm_pin()');

# An empty key that 1.0.0 stored, in an operator's defaults and in a
# tenant's overrides, still passes after the update: the equivalent schema
# declares it (round FP: the update failed with "default setting "labels"
# has an empty key"); only a map's keys, which a tenant chooses, are never
# empty
sql('postgres', 'CREATE DATABASE gtm_up_empty_key');
sql('gtm_up_empty_key', q{CREATE EXTENSION gtm_clarity VERSION '1.0.0';
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}, "labels": {"": "none", "a": "A"}}');
SELECT gtm_sign_in('org_upemptykey', 'user_upemptykey', 'Empty Key Co');
UPDATE tenants SET settings = '{"labels": {"": "empty label"}}' WHERE clerk_org_id = 'org_upemptykey';});
($rc, $out, $err) = $node->psql('gtm_up_empty_key', 'ALTER EXTENSION gtm_clarity UPDATE');
ok($rc == 0 && sql('gtm_up_empty_key', $extversion) eq $current,
	'ALTER EXTENSION UPDATE of a 1.0.0 database whose settings have an empty key') or diag $err;
is(sql('gtm_up_empty_key', 'SELECT count(*) FROM gtm_invalid_tenant_settings()') . '/'
	  . sql('gtm_up_empty_key', q{SELECT gtm_tenant_settings(id) #>> '{labels,""}' FROM tenants WHERE clerk_org_id = 'org_upemptykey'}),
	'0/empty label', '... its overrides still pass, with their value');

# A number that 1.0.0 stored and a JSON reader's double cannot hold (1e400,
# 1e-400), in an operator's defaults (a version no longer in force) and in
# a tenant's overrides: the update runs, the overrides still pass, and the
# tenant's settings can still be changed (round FR: the update failed with
# "default setting "limits.x" is too large for a JSON reader", or the
# overrides stopped passing and every later change of them was refused).
# The equivalent schema says "x-gtm-rules": "1.0.0".
sql('postgres', 'CREATE DATABASE gtm_up_big_number');
sql('gtm_up_big_number', q{CREATE EXTENSION gtm_clarity VERSION '1.0.0';
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}, "limits": {"x": 1e400}}');
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "features": {"buyingGroups": false, "writeback": false}, "limits": {"x": 1, "y": 2}}');
SELECT gtm_sign_in('org_upbignumber', 'user_upbignumber', 'Big Number Co');
SELECT gtm_update_tenant_settings(id, '{"limits": {"x": 1e-400, "y": -1e400}}') IS NOT NULL FROM tenants WHERE clerk_org_id = 'org_upbignumber';});
($rc, $out, $err) = $node->psql('gtm_up_big_number', 'ALTER EXTENSION gtm_clarity UPDATE');
ok($rc == 0 && sql('gtm_up_big_number', $extversion) eq $current,
	'ALTER EXTENSION UPDATE of a 1.0.0 database whose settings hold numbers beyond a double') or diag $err;
is(sql('gtm_up_big_number', 'SELECT count(*) FROM gtm_invalid_tenant_settings()') . '/'
	  . sql('gtm_up_big_number', q{SELECT gtm_tenant_settings(id) #>> '{limits,y}' FROM tenants WHERE clerk_org_id = 'org_upbignumber'}) . '/'
	  . sql('gtm_up_big_number', q{SELECT gtm_update_tenant_settings(id, '{"timezone": "Europe/Paris"}') #>> '{timezone}' FROM tenants WHERE clerk_org_id = 'org_upbignumber'}) . '/'
	  . sql('gtm_up_big_number', q{SELECT settings #>> '{limits,x}' FROM tenants WHERE clerk_org_id = 'org_upbignumber'}),
	'0/-1' . ('0' x 400) . '/Europe/Paris/0.' . ('0' x 399) . '1',
	'... its overrides still pass, with their values, and can still be changed');
is(sql('gtm_up_big_number', q{SELECT string_agg(version || ':' || (schema ->> 'x-gtm-rules'), ',' ORDER BY version) FROM settings_defaults WHERE version > 0}),
	'1:1.0.0,2:1.0.0', '... its versions carry the schema of the 1.0.0 rules');

$node->stop;
done_testing();
