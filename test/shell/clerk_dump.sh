#!/usr/bin/env bash
# TAP: pg_dump keeps what issue 10 adds as data -- the operator's role keys
# (not the built-in ones, which the extension script writes) and the state of
# the Clerk events applied -- and a restored database goes on applying
# events from where the source stood.
set -u
src=gtm_clerk_dump_src dst=gtm_clerk_dump_dst; n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..6"

for db in $src $dst; do dropdb --if-exists "$db" 2>/dev/null; done
createdb $src
q $src "CREATE EXTENSION gtm_clarity" >/dev/null
q $src "INSERT INTO clerk_role_map (clerk_role, role) VALUES ('org:owner', 'admin'), ('org:billing', 'viewer')"
ev() {  # type user role updated_at
  echo "{\"type\": \"$1\", \"timestamp\": $4, \"data\": {\"role\": \"$3\", \"updated_at\": $4,
         \"organization\": {\"id\": \"org_dump1\", \"name\": \"Dump\", \"slug\": \"dump\", \"updated_at\": 10},
         \"public_user_data\": {\"user_id\": \"$2\"}}}"
}
q $src "SELECT gtm_apply_clerk_event('$(ev organizationMembership.created user_owner org:owner 100)')" >/dev/null
q $src "SELECT gtm_apply_clerk_event('$(ev organizationMembership.created user_gone org:billing 101)')" >/dev/null
q $src "SELECT gtm_apply_clerk_event('$(ev organizationMembership.deleted user_gone org:billing 200)')" >/dev/null
state() { q "$1" "SELECT string_agg(x, ' ' ORDER BY x) FROM (
  SELECT clerk_role || '=' || role || ':' || builtin AS x FROM clerk_role_map
  UNION ALL SELECT clerk_org_id || '/' || clerk_user_id || '@' || version || ':' || deleted FROM clerk_sync_state
  UNION ALL SELECT m.clerk_user_id || ':' || m.role FROM tenant_members m) s"; }
state $src > "$tmp/src.state"
ok "the source has the operator's keys, the applied versions and the member" \
  'grep -q "org:owner=admin:false" "$tmp/src.state" && grep -q "org_dump1/user_gone@200:true" "$tmp/src.state" && grep -q "user_owner:admin" "$tmp/src.state"'

pg_dump -Fc -f "$tmp/db.dump" $src 2>"$tmp/dump.err"
createdb $dst
pg_restore --exit-on-error -d $dst "$tmp/db.dump" 2>"$tmp/restore.err"
ok "the dump restores without error (the built-in keys are not restored twice)" '[ $? -eq 0 ] && [ ! -s "$tmp/restore.err" ] && [ ! -s "$tmp/dump.err" ]'
state $dst > "$tmp/dst.state"
ok "role map, sync state and members are the same after the restore" 'cmp -s "$tmp/src.state" "$tmp/dst.state" || diff "$tmp/src.state" "$tmp/dst.state" >&2'
ok "eight built-in keys, once each" '[ "$(q $dst "SELECT count(*) FROM clerk_role_map WHERE builtin")" = 8 ]'
ok "a restored database still ignores the late created of a removed member" \
  '[ "$(q $dst "SELECT gtm_apply_clerk_event('"'"'$(ev organizationMembership.created user_gone org:billing 101)'"'"')->>'"'"'outcome'"'"'")" = stale ]'
ok "and maps the operator's custom key for a new member" \
  '[ "$(q $dst "SELECT gtm_apply_clerk_event('"'"'$(ev organizationMembership.created user_new org:owner 300)'"'"')->'"'"'changes'"'"'->0->>'"'"'role'"'"'")" = admin ]'

for db in $src $dst; do dropdb "$db"; done
exit $failed
