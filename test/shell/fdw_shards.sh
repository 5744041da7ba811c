#!/usr/bin/env bash
# fdw_shards: the tenant rule on native sharding with postgres_fdw: a table
# hash-partitioned by tenant_id whose partitions are foreign tables on two
# shard databases (doc/scaling-out.md).  TAP output.
#
# Runs against the server of the environment (PGHOST/PGPORT/PGUSER, the
# suite's pg_virtualenv server): the coordinator and the two shards are
# three databases of it, reached by postgres_fdw through the server's socket
# as postgres_fdw's own tests do.  The shards are queried as the role of the
# user mapping, which they trust (BYPASSRLS: exempt there); the ordinary
# application role works on the coordinator.  Each rejected statement is
# checked to have made no connection to a shard (rejected while planning,
# before any remote call) and to have changed nothing there.
set -u
co=gtm_fdw_coord s1=gtm_fdw_shard1 s2=gtm_fdw_shard2
app=regress_fdw_app shard_role=regress_fdw_shard
q() { psql -X -q -v ON_ERROR_STOP=1 "$@"; }
n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() {  # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else nok "$1"; echo "#   expected: $2"; echo "#   got:      $3" | head -20; fi
}

cleanup() {
  for d in $co $s1 $s2; do dropdb --if-exists "$d" >/dev/null 2>&1; done
  q -d postgres -c "DROP ROLE IF EXISTS $app" -c "DROP ROLE IF EXISTS $shard_role" >/dev/null 2>&1
}
cleanup
trap cleanup EXIT
for d in $co $s1 $s2; do createdb "$d" || { echo "Bail out! createdb $d"; exit 1; }; done
# pg_virtualenv's server asks TCP clients for a password: PGPASSWORD (also
# the mapped role's, given in the user mapping)
export PGPASSWORD=${PGPASSWORD:-gtm-fdw-shards}
q -d postgres -c "CREATE ROLE $app LOGIN PASSWORD '$PGPASSWORD'" \
  -c "CREATE ROLE $shard_role LOGIN BYPASSRLS PASSWORD '$PGPASSWORD'" \
  -c "ALTER ROLE $app SET gtm.allow_session_tenant = on" >/dev/null

# The shards: plain tables, owned by the trusted role of the user mapping.
for d in $s1 $s2; do
  q -d "$d" >/dev/null <<SQL || { echo "Bail out! shard $d"; exit 1; }
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
ALTER TABLE deals OWNER TO $shard_role;
SQL
done

sock=${PGHOST:-/var/run/postgresql}  # a socket directory or a host name
port=${PGPORT:-5432}
q -d $co >/dev/null <<SQL || { echo "Bail out! coordinator"; exit 1; }
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE EXTENSION postgres_fdw;
CREATE SERVER shard1 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$sock', port '$port', dbname '$s1');
CREATE SERVER shard2 FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '$sock', port '$port', dbname '$s2');
-- the shards trust the coordinator: its connections come as $shard_role
-- (password_required 'false': a development server may trust its socket)
CREATE USER MAPPING FOR $app SERVER shard1 OPTIONS (user '$shard_role', password '$PGPASSWORD', password_required 'false');
CREATE USER MAPPING FOR $app SERVER shard2 OPTIONS (user '$shard_role', password '$PGPASSWORD', password_required 'false');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard1 OPTIONS (user '$shard_role', password '$PGPASSWORD');
CREATE USER MAPPING FOR CURRENT_USER SERVER shard2 OPTIONS (user '$shard_role', password '$PGPASSWORD');
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text) PARTITION BY HASH (tenant_id);
CREATE FOREIGN TABLE deals_s1 PARTITION OF deals FOR VALUES WITH (MODULUS 2, REMAINDER 0)
  SERVER shard1 OPTIONS (table_name 'deals');
CREATE FOREIGN TABLE deals_s2 PARTITION OF deals FOR VALUES WITH (MODULUS 2, REMAINDER 1)
  SERVER shard2 OPTIONS (table_name 'deals');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals TO $app;
GRANT USAGE ON FOREIGN SERVER shard1, shard2 TO $app;
SQL

# two tenants, one on each shard
t1=$(q -d $co -At -c "SELECT id FROM gtm_provision_tenant('org_fdwShardOne', 'One')")
t2=
for i in $(seq 2 40); do
  t=$(q -d $co -At -c "SELECT id FROM gtm_provision_tenant('org_fdwShard$i', 'T$i')")
  if [ "$(q -d $co -At -c "SELECT satisfies_hash_partition('deals'::regclass, 2, 0, '$t1'::text)
                           <> satisfies_hash_partition('deals'::regclass, 2, 0, '$t'::text)")" = t ]; then
    t2=$t; break
  fi
done
[ -n "$t2" ] || { echo "Bail out! no two tenants on different shards"; exit 1; }
q -d $co -c "INSERT INTO deals SELECT '$t1', g, 'open' FROM generate_series(1, 4) g" \
  -c "INSERT INTO deals SELECT '$t2', g, 'open' FROM generate_series(1, 3) g" >/dev/null
shard_of() { q -d $co -At -c "SELECT DISTINCT tableoid::regclass FROM deals WHERE tenant_id = '$1'"; }
sh1=$(shard_of "$t1") sh2=$(shard_of "$t2")
# the rows as the shards hold them
rows() { for d in $s1 $s2; do q -d "$d" -At -c "SELECT string_agg(tenant_id || ':' || id || ':' || stage, ',' ORDER BY tenant_id, id) FROM deals"; done | paste -sd'|'; }
before=$(rows)

# app SQL: as the application role, statements sent one by one; then the
# number of connections to the shards (backends of the mapped role: this
# session's, which postgres_fdw keeps open until the session ends)
app() {
  psql -X -q -At -d $co -U $app -f - 2>&1 <<SQL | sed 's/^psql:<stdin>:[0-9]*: //'
$1
;
SELECT 'remote=' || count(*) FROM pg_stat_activity WHERE usename = '$shard_role';
SQL
}

echo "1..13"
check "the two tenants live on different shards" "deals_s1 deals_s2" "$(echo "$sh1 $sh2" | tr ' ' '\n' | sort | paste -sd' ')"

out=$(app "SELECT count(*) FROM deals")
check "unpinned SELECT: rejected on the coordinator, no shard contacted" \
  "ERROR:  tenant-scoped table \"deals_s1\" (alias \"deals\") is not pinned to one tenant|remote=0" \
  "$(echo "$out" | sed -n '1p;$p' | paste -sd'|')"
out=$(app "UPDATE deals SET stage = 'lost'")
check "unpinned UPDATE: rejected, no shard contacted" \
  "ERROR:  tenant-scoped table \"deals_s1\" (alias \"deals\") is not pinned to one tenant|remote=0" \
  "$(echo "$out" | sed -n '1p;$p' | paste -sd'|')"
out=$(app "INSERT INTO deals VALUES ('$t1', 90, 'x'), ('$t2', 90, 'x')")
check "INSERT of two tenants: rejected, no shard contacted" \
  "ERROR:  statement touches more than one tenant|remote=0" "$(echo "$out" | sed -n '1p;$p' | paste -sd'|')"
out=$(app "SELECT id FROM deals WHERE tenant_id = '$t1' UNION ALL SELECT id FROM deals WHERE tenant_id = '$t2'")
check "UNION ALL of two tenants: rejected, no shard contacted" \
  "ERROR:  statement touches more than one tenant|remote=0" "$(echo "$out" | sed -n '1p;$p' | paste -sd'|')"
check "the shards' rows are unchanged" "$before" "$(rows)"

out=$(app "SELECT count(*) FROM deals WHERE tenant_id = '$t1'")
check "pinned SELECT: accepted, right rows, one shard contacted" "4|remote=1" "$(echo "$out" | paste -sd'|')"
check "pinned SELECT is pruned to the tenant's shard" "Foreign Scan on public.$sh2 deals" \
  "$(app "EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM deals WHERE tenant_id = '$t2'" | grep -o 'Foreign Scan on .*' | paste -sd'|')"
out=$(app "BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
SELECT count(*) FROM deals WHERE tenant_id = gtm_current_tenant(); COMMIT;")
check "gtm_current_tenant() pins it (evaluated on the coordinator): right rows, one shard" "t|3|remote=1" \
  "$(echo "$out" | paste -sd'|')"
check "gtm_current_tenant(): the other shard is pruned when the statement starts" "Subplans Removed: 1" \
  "$(app "BEGIN; SELECT gtm_set_tenant('$t2') IS NOT NULL;
EXPLAIN (COSTS OFF) SELECT * FROM deals WHERE tenant_id = gtm_current_tenant(); COMMIT;" | grep -o 'Subplans Removed: [0-9]*')"
out=$(app "UPDATE deals SET stage = 'won' WHERE tenant_id = '$t2' AND id = 2")
check "pinned UPDATE changes that row only, on its shard" "$(echo "$before" | sed "s/$t2:2:open/$t2:2:won/")" "$(rows)"
out=$(app "PREPARE p(text) AS SELECT count(*) FROM deals WHERE tenant_id = \$1;
EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t2');")
check "prepared statement (generic plan after 5 runs)" "4|4|4|4|4|4|3" "$(echo "$out" | grep -v remote | paste -sd'|')"
check "gtm_check_statement on the foreign partitions" "deals_s1:false,deals_s2:false" \
  "$(q -d $co -At -c "SELECT string_agg(\"table\" || ':' || pinned, ',' ORDER BY \"table\") FROM gtm_check_statement('SELECT * FROM deals')")"

[ "$n" = 13 ] || echo "# ran $n tests, planned 13"
exit $((failed > 0))
