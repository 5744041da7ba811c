#!/usr/bin/env bash
# enforce_dump: pg_dump keeps working for exempt roles (superuser, BYPASSRLS)
# and is refused, like COPY, for an ordinary role.  TAP output.
# Runs against the server of the environment (PGHOST/PGPORT/PGUSER).
set -u
db=gtm_enforce_dump
echo "1..6"
n=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }

dropdb --if-exists "$db" >/dev/null 2>&1
q -d postgres -c "DROP ROLE IF EXISTS regress_enforce_dump_app" -c "DROP ROLE IF EXISTS regress_enforce_dump_bypass" >/dev/null 2>&1
createdb "$db"
q -d "$db" >/dev/null <<'SQL'
CREATE EXTENSION gtm_clarity;
CREATE ROLE regress_enforce_dump_app LOGIN PASSWORD 'enforce-dump';
CREATE ROLE regress_enforce_dump_bypass LOGIN BYPASSRLS PASSWORD 'enforce-dump';
CREATE TABLE deals (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id));
INSERT INTO deals VALUES ('t-1', 1), ('t-2', 2);
GRANT SELECT ON deals TO regress_enforce_dump_app, regress_enforce_dump_bypass;
CREATE TABLE audit_log (tenant_id text, what text);
SELECT gtm_exempt_table('deals');
SELECT gtm_unexempt_table('deals');
SELECT gtm_exempt_table('audit_log');
SQL

out=$(mktemp)
if pg_dump -d "$db" > "$out" 2>/dev/null && grep -q "^t-2	2" "$out"; then
  ok "a superuser dumps every tenant's rows"
else
  nok "a superuser dumps every tenant's rows"
fi
if PGPASSWORD=enforce-dump pg_dump -d "$db" -U regress_enforce_dump_bypass -t deals > "$out" 2>/dev/null && grep -q "^t-1	1" "$out"; then
  ok "a BYPASSRLS role dumps a tenant table"
else
  nok "a BYPASSRLS role dumps a tenant table"
fi
if err=$(PGPASSWORD=enforce-dump pg_dump -d "$db" -U regress_enforce_dump_app -t deals 2>&1 >/dev/null); then
  nok "an ordinary role cannot dump a tenant table"
else
  echo "$err" | grep -q 'COPY on tenant-scoped table "deals" is not allowed' \
    && ok "an ordinary role cannot dump a tenant table" \
    || { nok "an ordinary role cannot dump a tenant table"; echo "# $err"; }
fi

# restore into a new database: rows, and the extension's own tables
pg_dump -d "$db" -Fc > "$out.dump"
dropdb --if-exists "${db}_restored" >/dev/null 2>&1
createdb "${db}_restored"
if pg_restore -d "${db}_restored" "$out.dump" 2>/dev/null; then
  ok "the dump restores"
else
  nok "the dump restores"
fi
[ "$(q -d "${db}_restored" -At -c "SELECT count(*) FROM deals")" = 2 ] \
  && ok "restored rows of both tenants" || nok "restored rows of both tenants"
[ "$(q -d "${db}_restored" -At -c "SELECT string_agg(table_name, ',') FROM gtm_exempt_tables")" = audit_log ] \
  && ok "exemptions round-trip" || nok "exemptions round-trip"

rm -f "$out" "$out.dump"
dropdb "${db}_restored"
dropdb "$db"
q -d postgres -c "DROP ROLE regress_enforce_dump_app" -c "DROP ROLE regress_enforce_dump_bypass" >/dev/null
