#!/usr/bin/env bash
# TAP: pg_dump of a database keeps every tenant and member row, and a restore
# into a fresh database (custom and plain format) works and behaves the same.
set -u
src=gtm_dump_src; n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..12"

for db in $src gtm_dump_custom gtm_dump_plain; do dropdb --if-exists "$db" 2>/dev/null; done
createdb $src
q $src "CREATE EXTENSION gtm_clarity" >/dev/null
q $src "
  SELECT count(*) FROM (
    SELECT gtm_sign_in('org_dump' || i, 'user_' || j, 'Dump Co ' || i, NULL, CASE WHEN j = 2 THEN 'org:manager' END)
    FROM generate_series(1, 30) i, generate_series(1, 3) j) s;
  SELECT gtm_provision_tenant('org_dumpempty', 'Café Ørsted', 'cafe', '{\"timezone\": \"UTC\"}');" >/dev/null
rows() { q "$1" "SELECT t.*, m.clerk_user_id, m.role, m.created_at, m.updated_at
                 FROM tenants t LEFT JOIN tenant_members m ON m.tenant_id = t.id ORDER BY t.id, m.clerk_user_id"; }
rows $src > "$tmp/src.rows"
ok "source has 31 tenants and 90 members" \
  '[ "$(q $src "SELECT count(*) FROM tenants")/$(q $src "SELECT count(*) FROM tenant_members")" = "31/90" ]'

pg_dump -Fc -f "$tmp/db.dump" $src 2>"$tmp/dump.err"
ok "pg_dump (custom format) succeeds" '[ -s "$tmp/db.dump" ] && [ ! -s "$tmp/dump.err" ]'
createdb gtm_dump_custom
pg_restore --exit-on-error -d gtm_dump_custom "$tmp/db.dump" 2>"$tmp/restore.err"
ok "pg_restore into a fresh database succeeds" '[ $? -eq 0 ] && [ ! -s "$tmp/restore.err" ]'
rows gtm_dump_custom > "$tmp/custom.rows"
ok "every tenant and member row survives the custom-format round trip" 'cmp -s "$tmp/src.rows" "$tmp/custom.rows"'

pg_dump -Fp $src > "$tmp/db.sql" 2>"$tmp/dump.err"
createdb gtm_dump_plain
psql -X -q -v ON_ERROR_STOP=1 -d gtm_dump_plain -f "$tmp/db.sql" >/dev/null 2>"$tmp/plain.err"
ok "a plain-format dump restores with psql without error" '[ $? -eq 0 ] && [ ! -s "$tmp/plain.err" ]'
rows gtm_dump_plain > "$tmp/plain.rows"
ok "every tenant and member row survives the plain-format round trip" 'cmp -s "$tmp/src.rows" "$tmp/plain.rows"'

ok "the dump carries the rows, not a second copy of the schema" \
  '[ "$(grep -c "CREATE TABLE" "$tmp/db.sql")" = 0 ] && grep -q "COPY public.tenants " "$tmp/db.sql"'

# The restored database behaves: repeat sign-in returns the stored tenant, no write.
before=$(q gtm_dump_custom "SELECT id FROM tenants WHERE clerk_org_id = 'org_dump7'")
after=$(q gtm_dump_custom "SELECT tenant_id || ' ' || role || ' ' || tenant_created || ' ' || member_created
                           FROM gtm_sign_in('org_dump7', 'user_2', 'Dump Co 7')")
ok "a repeat sign-in after restore returns the same tenant and stored role" '[ "$after" = "$before manager false false" ]'
q gtm_dump_custom "SELECT gtm_sign_in('org_dumpnew', 'user_9', 'Dump Co 7')" >/dev/null
ok "a new sign-in after restore gets the next free slug" \
  '[ "$(q gtm_dump_custom "SELECT slug FROM tenants WHERE clerk_org_id = '"'"'org_dumpnew'"'"'")" = "dump-co-7-2" ]'
ok "the restored triggers work (updated_at moves)" \
  '[ "$(q gtm_dump_custom "UPDATE tenants SET name = '"'"'Renamed'"'"' WHERE clerk_org_id = '"'"'org_dump1'"'"' RETURNING updated_at > created_at")" = t ]'
ok "the restored last-admin rule works" \
  '! q gtm_dump_custom "DELETE FROM tenant_members m USING tenants t WHERE t.id = m.tenant_id AND t.clerk_org_id = '"'"'org_dump3'"'"' AND m.role = '"'"'admin'"'"'" 2>/dev/null'
ok "restored ids are the original ids" \
  '[ "$(q gtm_dump_plain "SELECT string_agg(id, '"'"','"'"' ORDER BY id) FROM tenants")" = "$(q $src "SELECT string_agg(id, '"'"','"'"' ORDER BY id) FROM tenants")" ]'

for db in $src gtm_dump_custom gtm_dump_plain; do dropdb --if-exists "$db" 2>/dev/null; done
exit $failed
