# Settings survive pg_dump / restore exactly: the defaults' versions (no
# duplicated factory row), the overrides, the effective settings, and the
# tenants whose overrides no longer pass after a defaults change (restored
# as they are, still listed), the schema of each version as it was set,
# the operator's setup tasks and the tenants' marks.  Plain and custom
# formats.
# (Was test/shell/settings_dump_restore.sh.)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::RealBin/lib";
use GtmClarity::Test;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = gtm_node('settings_dump_restore');
my $tmp = PostgreSQL::Test::Utils::tempdir;
my ($src, $dst, $dst2) = ('gtm_settings_dump_src', 'gtm_settings_dump_dst', 'gtm_settings_dump_dst2');
sub sql { my ($db, $sql) = @_; return $node->safe_psql($db, $sql); }

sql('postgres', "CREATE DATABASE $src");
sql($src, <<'SQL');
SET client_min_messages = error;
CREATE EXTENSION gtm_clarity;
SELECT gtm_set_default_settings('{"timezone": "UTC", "defaultScoringVersion": 1, "locale": "en-US",
	"features": {"buyingGroups": false, "writeback": false, "intentSignals": true}}');
SELECT 1 FROM gtm_provision_tenant('org_dumpA', 'Dump A', 'dump-a', '{"locale": "fr-FR", "features": {"intentSignals": false}}');
SELECT 1 FROM gtm_provision_tenant('org_dumpB', 'Dump B', 'dump-b', '{"timezone": "Asia/Tokyo"}');
SELECT 1 FROM gtm_provision_tenant('org_dumpC', 'Dump C', 'dump-c', '{"features": {"writeback": true}}');
-- drop "locale" and "features.writeback": tenants A and C no longer pass
-- with a schema of its own (not the one derived from the defaults)
SELECT gtm_set_default_settings(d, gtm_settings_schema_from(d) || '{"description": "operator schema"}')
FROM (SELECT '{"timezone": "Europe/Berlin", "defaultScoringVersion": 2,
	"features": {"buyingGroups": true, "intentSignals": true}}'::jsonb AS d) s;
SELECT 1 FROM gtm_register_setup_task('kickoff_call', 'Book the kickoff call', 'Onboarding', 'optional');
SELECT gtm_complete_setup_task(id, 'kickoff_call', true, 'user_dumpB1') FROM tenants WHERE clerk_org_id = 'org_dumpB';
SELECT gtm_complete_setup_task(id, 'data_source') FROM tenants WHERE clerk_org_id = 'org_dumpA';
SQL

# everything the settings, schemas and checklist consist of, as read
sub snapshot
{
	return sql($_[0], <<'SQL');
SELECT version, settings, set_at, set_by, schema FROM settings_defaults ORDER BY version;
SELECT key, title, ui_location, level, position, condition, built_in FROM setup_tasks ORDER BY key;
SELECT t.clerk_org_id, p.task_key, p.completed_at, p.completed_by
  FROM tenant_setup_progress p JOIN tenants t ON t.id = p.tenant_id ORDER BY 1, 2;
SELECT t.clerk_org_id, c.task_key, c.done, c.done_by FROM tenants t, gtm_setup_checklist(t.id) c ORDER BY 1, 2;
SELECT t.clerk_org_id, t.settings, t.updated_at, gtm_tenant_settings(t.id) FROM tenants t ORDER BY 1;
SELECT t.clerk_org_id, i.message FROM gtm_invalid_tenant_settings() i JOIN tenants t ON t.id = i.tenant_id ORDER BY 1;
SELECT gtm_default_settings();
SQL
}
my $src_snap = snapshot($src);
is(sql($src, 'SELECT count(*) FROM gtm_invalid_tenant_settings()'), '2',
	'the source has two tenants whose overrides no longer pass');
cmp_ok(length($src_snap), '>', 1000, 'the snapshot compared below is read');

my ($rc, $plain, $err) = gtm_run([ 'pg_dump', '-d', $src ]);
sql('postgres', "CREATE DATABASE $dst");
($rc, my $out, $err) = gtm_run([ 'psql', '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', $dst ], stdin => $plain);
ok($rc == 0 && $err !~ /ERROR/, 'plain dump restores with ON_ERROR_STOP') or diag $err;
is(snapshot($dst), $src_snap, 'defaults, overrides, effective settings and the invalid list are identical');
is(sql($dst, 'SELECT count(*) FROM settings_defaults WHERE version = 0'), '1',
	'exactly one factory row (version 0) after restore');
is(sql($dst, "SELECT string_agg(version::text, ',' ORDER BY version) FROM settings_defaults"), '0,1,2',
	'three versions of the defaults after restore');
is(sql($dst, "SELECT (SELECT schema ->> 'description' FROM settings_defaults WHERE version = 2) || ' ' ||
                     (SELECT count(*) FROM setup_tasks) || ' ' || (SELECT count(*) FROM tenant_setup_progress)"),
	'operator schema 8 2', "the operator's schema, task and marks came back");
is(sql($dst, "SELECT string_agg(t.clerk_org_id, ',' ORDER BY t.clerk_org_id)
                FROM gtm_invalid_tenant_settings() i JOIN tenants t ON t.id = i.tenant_id"),
	'org_dumpA,org_dumpC', 'the invalid tenants are still listed after restore');
($rc, my $plain2, $err) = gtm_run([ 'pg_dump', '-d', $dst ]);
# pg_dump brackets its script with \restrict KEY / \unrestrict KEY, a random key
s/^\\(?:un)?restrict .*\n//mg for $plain, $plain2;
is($plain2, $plain, 'a dump of the restored database equals the original dump');

($rc, $out, $err) = $node->psql($dst,
	qq{UPDATE tenants SET settings = '{"timzone": "UTC"}' WHERE clerk_org_id = 'org_dumpB'});
ok($err =~ /unknown tenant setting "timzone"/ && $err =~ /Did you mean "timezone"\?/,
	'validation is active in the restored database') or diag $err;
($rc, $out, $err) = $node->psql($dst,
	qq{SELECT gtm_update_tenant_settings(id, '{"locale": "de-DE"}') FROM tenants WHERE clerk_org_id = 'org_dumpA'});
like($err, qr/unknown tenant setting "locale"/, 'a restored invalid tenant must be fixed before its settings change');
is(sql($dst, qq{SELECT gtm_update_tenant_settings(id, '{"locale": null}') ->> 'timezone'
                  FROM tenants WHERE clerk_org_id = 'org_dumpA'}),
	'Europe/Berlin', 'a restored invalid tenant is fixed by a patch that removes the stale keys');

($rc, $out, $err) = gtm_run([ 'pg_dump', '-Fc', '-d', $src, '-f', "$tmp/custom.dump" ]);
sql('postgres', "CREATE DATABASE $dst2");
($rc, $out, $err) = gtm_run([ 'pg_restore', '--exit-on-error', '-d', $dst2, "$tmp/custom.dump" ]);
is($rc, 0, 'custom-format dump restores with pg_restore --exit-on-error') or diag $err;
is(snapshot($dst2), $src_snap, 'custom-format restore is identical too');

$node->stop;
done_testing();
