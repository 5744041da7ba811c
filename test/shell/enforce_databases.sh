#!/usr/bin/env bash
# enforce_databases: the library is preloaded server-wide, but the
# tenant-scope rule applies only in databases where CREATE EXTENSION
# gtm_clarity was run (issue 8).  A second database without the extension
# reads, copies and truncates a table with a tenant_id column freely; once
# the extension is created there (seen by a session that was already
# connected, from another backend) the same statements are rejected, and
# after DROP EXTENSION they run again.  TAP output.
set -u
db=gtm_enforce_noext
role=regress_enforce_noext
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
cleanup() {
  dropdb --if-exists "$db" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
}
trap cleanup EXIT
echo "1..10"
cleanup
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
CREATE ROLE $role;
CREATE TABLE deals (tenant_id text NOT NULL, id int, stage text);
INSERT INTO deals VALUES ('T1', 1, 'one'), ('T2', 2, 'two');
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON deals TO $role;
SQL

# One session through all three phases; \! runs CREATE/DROP EXTENSION from
# another backend, so this session learns of it by invalidation.
out=$(psql -X -q -At -v VERBOSITY=verbose -d "$db" 2>&1 <<SQL
SET ROLE $role;
SELECT 'before:' || string_agg(stage, ',' ORDER BY id) FROM deals;
UPDATE deals SET stage = stage WHERE id = 1;
COPY deals TO STDOUT;
PREPARE cached AS SELECT 'cached:' || string_agg(stage, ',' ORDER BY id) FROM deals;
EXECUTE cached;
EXECUTE cached;
CREATE FUNCTION pg_temp.touch_all() RETURNS bigint LANGUAGE plpgsql
  AS \$\$ BEGIN UPDATE deals SET stage = stage || '!'; RETURN 1; END \$\$;
SELECT 'touched:' || pg_temp.touch_all();
UPDATE deals SET stage = rtrim(stage, '!');
\echo == installing
\! psql -X -q -d $db -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION gtm_clarity'
EXECUTE cached;
SELECT 'touched again:' || pg_temp.touch_all();
SELECT 'installed:' || string_agg(stage, ',' ORDER BY id) FROM deals;
COPY deals TO STDOUT;
\echo == dropping
\! psql -X -q -d $db -c 'DROP EXTENSION gtm_clarity'
SELECT 'dropped:' || string_agg(stage, ',' ORDER BY id) FROM deals;
SQL
)
echo "$out" | sed 's/^/# /'
phase1=$(sed -n '1,/^== installing/p' <<<"$out")
ok "without the extension, a table with tenant_id is read by an ordinary role" \
  'grep -qx "before:one,two" <<<"$phase1"'
ok "... updated and copied, with no error (no rule applies there)" \
  'grep -qx "T2	2	two" <<<"$phase1" && ! grep -q "ERROR" <<<"$phase1"'
ok "... and no message names gtm_current_tenant(), which does not exist there" \
  '! grep -q "gtm_current_tenant" <<<"$phase1"'
ok "once CREATE EXTENSION ran (another backend), the same session's unpinned SELECT is rejected" \
  'grep -q "ERROR:  42501: tenant-scoped table \"deals\" (alias \"deals\") is not pinned to one tenant" <<<"$out" && ! grep -q "^installed:" <<<"$out"'
ok "... and its COPY" \
  'grep -q "ERROR:  42501: COPY on tenant-scoped table \"deals\" is not allowed" <<<"$out"'
ok "after DROP EXTENSION the rule no longer applies" 'grep -qx "dropped:one,two" <<<"$out"'
phase2=$(sed -n '/^== installing/,/^== dropping/p' <<<"$out")
ok "a statement prepared before CREATE EXTENSION is planned again, and rejected" \
  '! grep -q "^cached:" <<<"$phase2" && [ "$(grep -c "ERROR:  42501" <<<"$phase2")" -ge 3 ]'
ok "... and so is a PL/pgSQL function's cached UPDATE: no row was changed" \
  '! grep -q "^touched again:" <<<"$phase2" && grep -qx "dropped:one,two" <<<"$out"'

# the database with the extension keeps enforcing while the other does not,
# in sessions running at the same time (the answer is per database)
psql -X -q -d "$db" -c "SET client_min_messages = warning" -c "CREATE EXTENSION gtm_clarity" >/dev/null
here=$(psql -X -q -At -v VERBOSITY=verbose -d "$db" -c "SET ROLE $role" -c "SELECT count(*) FROM deals" 2>&1)
ok "a database with the extension rejects an unpinned statement" 'grep -q "ERROR:  42501" <<<"$here"'
psql -X -q -d postgres -c "CREATE TABLE gtm_noext_probe (tenant_id text)" \
  -c "INSERT INTO gtm_noext_probe VALUES ('T1'), ('T2')" -c "GRANT SELECT ON gtm_noext_probe TO $role" >/dev/null
noext=$(psql -X -q -At -d postgres -c "SET ROLE $role" -c "SELECT count(*) FROM gtm_noext_probe" 2>&1)
psql -X -q -d postgres -c "DROP TABLE gtm_noext_probe" >/dev/null
ok "at the same time, a tenant_id table in a database without the extension is read without a pin" '[ "$noext" = 2 ]'
exit $failed
