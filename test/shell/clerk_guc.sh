#!/usr/bin/env bash
# TAP: gtm.clerk_sync (the last-admin rule steps aside while it is on) cannot
# be turned on for good: a value stored with ALTER ROLE / ALTER DATABASE is
# ignored when a session starts, and that session still cannot remove a
# tenant's last admin.
set -u
db=gtm_clerk_guc; n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "1..5"

dropdb --if-exists "$db" 2>/dev/null; createdb "$db"
psql -X -q -d postgres -c "DROP ROLE IF EXISTS regress_clerk_guc" 2>/dev/null
q -c "CREATE EXTENSION gtm_clarity" -c "CREATE ROLE regress_clerk_guc LOGIN PASSWORD 'clerk-guc'" \
  -c "SELECT gtm_sign_in('org_guc1', 'user_admin1', 'Guc One')" \
  -c "GRANT EXECUTE ON FUNCTION gtm_remove_member(text, text) TO regress_clerk_guc" >/dev/null
tid=$(q -c "SELECT id FROM tenants WHERE clerk_org_id = 'org_guc1'")

q -c "ALTER ROLE regress_clerk_guc SET gtm.clerk_sync = on" 2>/dev/null
q -c "ALTER DATABASE $db SET gtm.clerk_sync = on" 2>/dev/null
ok "ALTER ROLE / ALTER DATABASE store the value (checked when applied)" \
  '[ "$(q -c "SELECT count(*) FROM pg_db_role_setting WHERE '"'"'gtm.clerk_sync=on'"'"' = ANY (setconfig)")" = 2 ]'
out=$(PGPASSWORD=clerk-guc psql -X -At -U regress_clerk_guc -d "$db" -c "SHOW gtm.clerk_sync" 2>"$tmp/warn")
ok "a session of that role and database starts with it off" '[ "$out" = off ]'
ok "with a WARNING naming the rule" 'grep -q "gtm.clerk_sync may only be set for a session or a function call" "$tmp/warn"'
PGPASSWORD=clerk-guc psql -X -At -U regress_clerk_guc -d "$db" -c "SELECT gtm_remove_member('$tid', 'user_admin1')" >/dev/null 2>"$tmp/err"
ok "that session cannot remove the last admin" 'grep -q "must keep at least one admin" "$tmp/err"'
ok "the admin is still there" '[ "$(q -c "SELECT role FROM tenant_members WHERE tenant_id = '"'$tid'"'")" = admin ]'

q -c "ALTER ROLE regress_clerk_guc RESET ALL" -c "ALTER DATABASE $db RESET ALL" >/dev/null 2>&1
dropdb "$db"
psql -X -q -d postgres -c "DROP ROLE regress_clerk_guc"
exit $failed
