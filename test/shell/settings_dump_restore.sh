#!/usr/bin/env bash
# Settings survive pg_dump / restore exactly: the defaults' versions (no
# duplicated factory row), the overrides, the effective settings, and the
# tenants whose overrides no longer pass after a defaults change (restored
# as they are, still listed), the schema of each version as it was set,
# the operator's setup tasks and the tenants' marks.  Plain and custom
# formats.  TAP output.
# Runs against the server in PGHOST/PGPORT (test/suite.sh: pg_virtualenv).
set -u
src=gtm_settings_dump_src
dst=gtm_settings_dump_dst
dst2=gtm_settings_dump_dst2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; for d in $src $dst $dst2; do dropdb --if-exists "$d" >/dev/null 2>&1; done' EXIT
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$@"; }
n=0
check() {	# $1 description, $2 command
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
echo "1..13"

for d in $src $dst $dst2; do dropdb --if-exists "$d" >/dev/null 2>&1; done
createdb "$src"
q "$src" <<'SQL' >/dev/null
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

snapshot() {	# $1 database -> file $tmp/$1.snap
	q "$1" >"$tmp/$1.snap" <<'SQL'
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
snapshot "$src"
check "the source has two tenants whose overrides no longer pass" \
	'[ "$(q $src -c "SELECT count(*) FROM gtm_invalid_tenant_settings()")" = 2 ]'

pg_dump -d "$src" -f "$tmp/plain.sql"
createdb "$dst"
check "plain dump restores with ON_ERROR_STOP" \
	'psql -X -q -v ON_ERROR_STOP=1 -d $dst -f $tmp/plain.sql >$tmp/restore.log 2>&1'
grep -q ERROR "$tmp/restore.log" && sed 's/^/# /' "$tmp/restore.log" | head -20
snapshot "$dst"
check "defaults, overrides, effective settings and the invalid list are identical" \
	'diff -u $tmp/$src.snap $tmp/$dst.snap >&2'
check "exactly one factory row (version 0) after restore" \
	'[ "$(q $dst -c "SELECT count(*) FROM settings_defaults WHERE version = 0")" = 1 ]'
versions=$(q "$dst" -c "SELECT string_agg(version::text, ',' ORDER BY version) FROM settings_defaults")
check "three versions of the defaults after restore" '[ "$versions" = "0,1,2" ]'
check "the operator's schema, task and marks came back" \
	'[ "$(q $dst -c "SELECT (SELECT schema ->> '"'description'"' FROM settings_defaults WHERE version = 2) || '"' '"' || (SELECT count(*) FROM setup_tasks) || '"' '"' || (SELECT count(*) FROM tenant_setup_progress)")" = "operator schema 8 2" ]'
invalid=$(q "$dst" -c "SELECT string_agg(t.clerk_org_id, ',' ORDER BY t.clerk_org_id) FROM gtm_invalid_tenant_settings() i JOIN tenants t ON t.id = i.tenant_id")
check "the invalid tenants are still listed after restore" '[ "$invalid" = "org_dumpA,org_dumpC" ]'
pg_dump -d "$dst" -f "$tmp/plain2.sql"
# pg_dump brackets its script with \restrict KEY / \unrestrict KEY, a random key
for f in plain plain2; do grep -Ev '^.(un)?restrict ' "$tmp/$f.sql" >"$tmp/$f.cmp"; done
check "a dump of the restored database equals the original dump" \
	'diff -u $tmp/plain.cmp $tmp/plain2.cmp >&2'

out=$(psql -X -q -v VERBOSITY=default -d "$dst" -c "UPDATE tenants SET settings = '{\"timzone\": \"UTC\"}' WHERE clerk_org_id = 'org_dumpB'" 2>&1)
check "validation is active in the restored database" \
	'grep -q "unknown tenant setting \"timzone\"" <<<"$out" && grep -q "Did you mean \"timezone\"?" <<<"$out"'
out=$(psql -X -q -d "$dst" -c "SELECT gtm_update_tenant_settings(id, '{\"locale\": \"de-DE\"}') FROM tenants WHERE clerk_org_id = 'org_dumpA'" 2>&1)
check "a restored invalid tenant must be fixed before its settings change" \
	'grep -q "unknown tenant setting \"locale\"" <<<"$out"'
fixed=$(q "$dst" -c "SELECT gtm_update_tenant_settings(id, '{\"locale\": null}') ->> 'timezone' FROM tenants WHERE clerk_org_id = 'org_dumpA'")
check "a restored invalid tenant is fixed by a patch that removes the stale keys" '[ "$fixed" = "Europe/Berlin" ]'

pg_dump -Fc -d "$src" -f "$tmp/custom.dump"
createdb "$dst2"
check "custom-format dump restores with pg_restore --exit-on-error" \
	'pg_restore --exit-on-error -d $dst2 $tmp/custom.dump >$tmp/restore2.log 2>&1'
snapshot "$dst2"
check "custom-format restore is identical too" \
	'diff -u $tmp/$src.snap $tmp/$dst2.snap >&2'
