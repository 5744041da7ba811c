#!/usr/bin/env bash
# TAP: "install 1.0.0, then ALTER EXTENSION UPDATE" gives the same catalog as
# a fresh install of the current version, and a dump taken at 1.0.0
# restores into a server that has the current version.
set -u
n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..14"

current=$(q postgres "SELECT default_version FROM pg_available_extensions WHERE name = 'gtm_clarity'")
for db in gtm_up_old gtm_up_new gtm_up_restored; do dropdb --if-exists "$db" 2>/dev/null; done
createdb gtm_up_old; createdb gtm_up_new

q gtm_up_old "CREATE EXTENSION gtm_clarity VERSION '1.0.0'" >/dev/null
ok "1.0.0 installs" '[ "$(q gtm_up_old "SELECT extversion FROM pg_extension WHERE extname = '"'gtm_clarity'"'")" = 1.0.0 ]'
q gtm_up_old "SELECT gtm_sign_in('org_upgrade' || i, 'user_up' || i, 'Upgrade Co ' || i) FROM generate_series(1, 5) i" >/dev/null
q gtm_up_old "SELECT gtm_set_default_settings('{\"timezone\": \"Europe/Paris\", \"defaultScoringVersion\": 1, \"features\": {\"buyingGroups\": true, \"writeback\": false}}')" >/dev/null
# overrides valid under 1.0.0, on every key of the defaults in force
q gtm_up_old "UPDATE tenants SET settings = '{\"timezone\": \"Asia/Tokyo\", \"defaultScoringVersion\": 2, \"features\": {\"writeback\": true}}' WHERE clerk_org_id = 'org_upgrade1'" >/dev/null
pg_dump -Fc -f "$tmp/old.dump" gtm_up_old 2>"$tmp/dump.err"
ok "a dump of the 1.0.0 database is taken" '[ -s "$tmp/old.dump" ] && [ ! -s "$tmp/dump.err" ]'

q gtm_up_old "ALTER EXTENSION gtm_clarity UPDATE" >/dev/null 2>"$tmp/update.err"
ok "ALTER EXTENSION gtm_clarity UPDATE reaches $current" \
  '[ ! -s "$tmp/update.err" ] && [ "$(q gtm_up_old "SELECT extversion FROM pg_extension WHERE extname = '"'gtm_clarity'"'")" = "$current" ]'
q gtm_up_new "CREATE EXTENSION gtm_clarity" >/dev/null

# the settings after the update: every version got the schema equivalent
# to the 1.0.0 rules of its defaults, the factory row the factory schema;
# the overrides stored under 1.0.0 still pass, and what 1.0.0 refused is
# still refused
ok "the overrides stored under 1.0.0 still pass" \
  '[ "$(q gtm_up_old "SELECT count(*) FROM gtm_invalid_tenant_settings()")" = 0 ] && [ "$(q gtm_up_old "SELECT gtm_tenant_setting(id, '"'{timezone}'"') FROM tenants WHERE clerk_org_id = '"'org_upgrade1'"'")" = "\"Asia/Tokyo\"" ]'
ok "the operator's 1.0.0 defaults carry the equivalent schema" \
  '[ "$(q gtm_up_old "SELECT schema = gtm_settings_schema_from(settings) AND schema = gtm_settings_schema() FROM settings_defaults WHERE version = 1")" = t ]'
ok "the factory row carries the factory schema of a fresh install" \
  '[ "$(q gtm_up_old "SELECT schema::text FROM settings_defaults WHERE version = 0")" = "$(q gtm_up_new "SELECT schema::text FROM settings_defaults WHERE version = 0")" ]'
refused() { psql -X -q -At -d gtm_up_old -c "SELECT gtm_check_settings('$1')" 2>&1 | grep -c "ERROR:  $2"; }
ok "what 1.0.0 refused is refused: unknown key, type, time zone, scoring version" \
  '[ "$(refused "{\"timzone\": \"UTC\"}" "unknown tenant setting \"timzone\"")$(refused "{\"features\": {\"writeback\": 1}}" "tenant setting \"features.writeback\" must be a JSON boolean, not a JSON number")$(refused "{\"timezone\": \"EST5\"}" "invalid time zone \"EST5\"")$(refused "{\"defaultScoringVersion\": 0}" "tenant setting \"defaultScoringVersion\" must be at least 1")" = 1111 ]'

# Every member object of the extension, described with what defines it:
# functions (signature, result, language, volatility, security, settings,
# parallel safety, body, privileges, comment), relations (columns,
# constraints, privileges, comment), views, types, and the dump config.
catalog() {
  q "$1" "
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
SELECT 'config ' || e.extconfig::regclass[]::text || ' ' || coalesce(e.extcondition::text, '')
  FROM pg_extension e WHERE e.extname = 'gtm_clarity'
ORDER BY 1"
}
catalog gtm_up_old > "$tmp/updated.cat"
catalog gtm_up_new > "$tmp/fresh.cat"
ok "the updated catalog lists objects" '[ "$(wc -l < "$tmp/updated.cat")" -gt 50 ]'
ok "updated and fresh installs have the same catalog" 'diff -u "$tmp/fresh.cat" "$tmp/updated.cat" >&2'

createdb gtm_up_restored
pg_restore --exit-on-error -d gtm_up_restored "$tmp/old.dump" 2>"$tmp/restore.err"
ok "the 1.0.0 dump restores into the current version" \
  '[ $? -eq 0 ] && [ ! -s "$tmp/restore.err" ] && [ "$(q gtm_up_restored "SELECT extversion FROM pg_extension WHERE extname = '"'gtm_clarity'"'")" = "$current" ]'
ok "its tenants and members came back" \
  '[ "$(q gtm_up_restored "SELECT count(*) FROM tenants WHERE clerk_org_id LIKE '"'org_upgrade%'"'")/$(q gtm_up_restored "SELECT count(*) FROM tenant_members")" = "5/5" ]'
ok "its default settings came back" \
  '[ "$(q gtm_up_restored "SELECT settings->>'"'timezone'"' FROM settings_defaults ORDER BY version DESC LIMIT 1")" = Europe/Paris ]'
ok "its defaults (dumped without a schema) got the equivalent schema; its overrides pass" \
  '[ "$(q gtm_up_restored "SELECT schema = gtm_settings_schema_from(settings) FROM settings_defaults WHERE version = 1")/$(q gtm_up_restored "SELECT count(*) FROM gtm_invalid_tenant_settings()")" = "t/0" ]'
ok "the restored database pins current_setting() through gtm_pin()" \
  '[ "$(q gtm_up_restored "SELECT reason FROM gtm_check_statement(\$\$SELECT * FROM tenant_members WHERE tenant_id = current_setting('"'app.t'"', true)\$\$)")" = "pinned to gtm_pin(current_setting('"'app.t'"'::text, true))" ]'

for db in gtm_up_old gtm_up_new gtm_up_restored; do dropdb --if-exists "$db" 2>/dev/null; done
exit $failed
