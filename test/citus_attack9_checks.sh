#!/usr/bin/env bash
# citus_attack9_checks: three holes found by trying shapes on a Citus
# cluster as an ordinary role (no superuser, no BYPASSRLS), each checked on
# the DATA, with a control that shows the shape does what the attack needs.
# TAP output.
#
#  1. rule 2 of enforce_citus_txn.c (no joining a coordinator's distributed
#     transaction on the coordinator) read Citus' metadata with a query whose
#     "=" and "<>" (and JOIN ... USING) followed the caller's search_path: a
#     role with CREATE on a schema put its own "=" first, and read another
#     session's intermediate results (T2's rows).
#  2. lock_relation_if_exists() was not judged when pg_proc changed between
#     the call's fmgr_info and its start (a function earlier in the target
#     list running CREATE FUNCTION, in pg_temp: no privilege needed): it took
#     ACCESS EXCLUSIVE on "deals".
#  3. a pin by a stable built-in value that differs per node
#     (CASE current_setting('port') ...) was accepted on the coordinator,
#     while Citus evaluates it on each worker: one SELECT read two tenants.
#
# Builds its own 3-node cluster like test/shell/citus_cluster.sh (Citus must
# be installed in the tree of $GTM_CLUSTER_PG_CONFIG or pg_config; ports from
# $GTM_CLUSTER_PORT).  It does not build or install anything itself.
set -u
cd "$(dirname "$0")/.."
GTM_PG_VERSION=15
. test/lib/setup.sh
. test/lib/citus.sh
PG_CONFIG=${GTM_CLUSTER_PG_CONFIG:-$(command -v pg_config)}
if ! [ -f "$("$PG_CONFIG" --pkglibdir)/citus.so" ]; then echo "1..0 # SKIP Citus is not installed in $("$PG_CONFIG" --pkglibdir)"; exit 0; fi

n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() {  # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else nok "$1"; echo "#   expected: $2"; echo "#   got:      $3" | head -5; fi
}

dir=$(mktemp -d /tmp/gtm_citus9.XXXXXX)
victim=
trap '[ -n "$victim" ] && kill "$victim" 2>/dev/null; gtm_cluster_stop "$dir"' EXIT
gtm_cluster_start "$dir" "citus,gtm_clarity" 2 9>&- || { echo "Bail out! the cluster did not start"; exit 1; }
C=${cluster_ports[0]} W1=${cluster_ports[1]} W2=${cluster_ports[2]}
for p in "$C" "$W1" "$W2"; do
  CLUSTER_DB=postgres cq "$p" -c "CREATE DATABASE gtm" || { echo "Bail out! createdb"; exit 1; }
  cq "$p" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" || { echo "Bail out! citus"; exit 1; }
done
cq "$C" -o /dev/null -c "SELECT citus_set_coordinator_host('127.0.0.1', $C)" \
  -c "SELECT citus_add_node('127.0.0.1', $W1)" -c "SELECT citus_add_node('127.0.0.1', $W2)" \
  -c "CREATE EXTENSION gtm_clarity" || { echo "Bail out! cluster set-up"; exit 1; }
cq "$C" -o /dev/null <<'SQL' || { echo "Bail out! schema"; exit 1; }
SET client_min_messages = warning;
CREATE ROLE regress_citus_app LOGIN;
ALTER ROLE regress_citus_app SET gtm.allow_session_tenant = on;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int, PRIMARY KEY (tenant_id, id));
CREATE TABLE arch_by_id (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int);
SELECT create_distributed_table('deals', 'tenant_id');
SELECT create_distributed_table('arch_by_id', 'id');
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, arch_by_id TO regress_citus_app;
-- the application's own schema (it owns it, as a role that runs its migrations would)
CREATE SCHEMA appschema AUTHORIZATION regress_citus_app;
SQL
t1=$(cq "$C" -At -c "SELECT id FROM gtm_provision_tenant('org_citusTenantOne', 'One')")
t2=
for i in $(seq 2 40); do
  t=$(cq "$C" -At -c "SELECT id FROM gtm_provision_tenant('org_citusTenant$i', 'T$i')")
  if [ "$(cq "$C" -At -c "SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement
        WHERE shardid IN (get_shard_id_for_distribution_column('deals', '$t1'),
                          get_shard_id_for_distribution_column('deals', '$t'))")" = 2 ]; then
    t2=$t; break
  fi
done
[ -n "$t2" ] || { echo "Bail out! no two tenants on different workers"; exit 1; }
p1=$(cq "$C" -At -c "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = get_shard_id_for_distribution_column('deals', '$t1')")
cq "$C" -o /dev/null <<SQL || { echo "Bail out! rows"; exit 1; }
INSERT INTO deals SELECT '$t1', g, 'open', g FROM generate_series(1, 5) g;
INSERT INTO deals SELECT '$t2', g, 'open', 10 * g FROM generate_series(1, 5) g;
INSERT INTO arch_by_id SELECT tenant_id, id, stage, amount FROM deals;
SQL

app() { psql -X -q -At -h 127.0.0.1 -p "$1" -U regress_citus_app -d gtm -f - <<<"$2" 2>&1 | sed 's/^psql:<stdin>:[0-9]*: //'; }
fingerprint() { cq "$C" -At -c "SELECT md5(string_agg(format('%s', d), ',' ORDER BY d::text)) FROM deals d"; }
before=$(fingerprint)

echo "1..13"

# --- 3. a pin by a value that each node computes
pernode="CASE current_setting('port') WHEN '$p1' THEN '$t1' ELSE '$t2' END"
check "control: as the superuser, a SELECT pinned by a per-node value reads both tenants (5 rows each)" \
  "$(printf '%s|5\n%s|5\n' "$t1" "$t2" | sort | paste -sd' ')" "$(cq "$C" -At -c "SELECT tenant_id || '|' || count(*) FROM deals WHERE tenant_id = $pernode GROUP BY tenant_id ORDER BY 1" | sort | paste -sd' ')"
out=$(app "$C" "SELECT tenant_id || '|' || count(*) FROM deals WHERE tenant_id = $pernode GROUP BY tenant_id")
check "a SELECT pinned by a value that Citus computes on each worker is rejected; no row read" \
  "ERROR:  tenant-scoped table \"deals\" (alias \"deals\") is not pinned to one tenant|" \
  "$(echo "$out" | head -1)|$(echo "$out" | grep -c "^$t1\|^$t2" | grep -v '^0$')"
out=$(app "$C" "SELECT id FROM deals WHERE tenant_id = ('{\"$p1\": \"$t1\"}'::jsonb ->> current_setting('port'))")
check "the same through a jsonb lookup of current_setting('port') is rejected" \
  "ERROR:  tenant-scoped table \"deals\" (alias \"deals\") is not pinned to one tenant" "$(echo "$out" | head -1)"
rejected_update=$(app "$C" "UPDATE deals SET stage = 'lost' WHERE tenant_id = ('{\"$p1\": \"$t1\"}'::jsonb ->> current_setting('port'))")
check "an UPDATE pinned by a per-node value is rejected; no row changed" \
  "ERROR:  tenant-scoped table \"deals\" (alias \"deals\") is not pinned to one tenant|$before" \
  "$(echo "$rejected_update" | head -1)|$(fingerprint)"
check "still accepted: a constant pin, a parameter pin (prepared, 7 runs), gtm_current_tenant()" \
  "5|75|75|75|75|75|75|75|150" \
  "$(app "$C" "SELECT count(*) FROM deals WHERE tenant_id = '$t1';
PREPARE p(text) AS SELECT sum(id * 5) FROM deals WHERE tenant_id = \$1;
EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1'); EXECUTE p('$t1');
SELECT gtm_set_tenant('$t2', false) IS NULL;
SELECT sum(amount) FROM deals WHERE tenant_id = gtm_current_tenant();" | grep -v '^f$\|^t$' | paste -sd'|')"

# --- 2. lock_relation_if_exists after a pg_proc change in the same statement
mk="CREATE FUNCTION pg_temp.mk() RETURNS int LANGUAGE plpgsql AS \$f\$BEGIN CREATE OR REPLACE FUNCTION pg_temp.x() RETURNS int LANGUAGE sql AS 'SELECT 1'; RETURN 1; END\$f\$;"
locks="SELECT coalesce(string_agg(mode, ','), 'none') FROM pg_locks WHERE relation = 'public.deals'::regclass AND pid = pg_backend_pid();"
check "control: as the superuser, the shape takes ACCESS EXCLUSIVE on deals" \
  "AccessExclusiveLock" \
  "$(cq "$C" -At -c "SET client_min_messages = error" -c "$mk" -c "BEGIN" -c "SELECT pg_temp.mk(), lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE')" -c "$locks" -c "ROLLBACK" | grep Lock)"
out=$(app "$C" "SET client_min_messages = error; $mk
BEGIN;
SELECT pg_temp.mk(), lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE');
ROLLBACK;
BEGIN;
SELECT lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE') FROM generate_series(1, 2) WHERE pg_temp.mk() = 1;
$locks
ROLLBACK;")
check "lock_relation_if_exists after CREATE FUNCTION in the same statement is judged: rejected, no lock held" \
  "ERROR:  LOCK TABLE in ACCESS EXCLUSIVE MODE on tenant-scoped table \"deals\" is not allowed|2|" \
  "$(echo "$out" | grep '^ERROR' | head -1)|$(echo "$out" | grep -c '^ERROR:  LOCK TABLE')|$(echo "$out" | grep 'Lock$')"
check "lock_relation_if_exists in ROW EXCLUSIVE mode after the same change still passes" "t|RowExclusiveLock" \
  "$(app "$C" "SET client_min_messages = error; $mk
BEGIN; SELECT lock_relation_if_exists('deals', 'ROW EXCLUSIVE') FROM generate_series(1, 1) WHERE pg_temp.mk() = 1; $locks ROLLBACK;" | paste -sd'|')"

# --- 1. rule 2 with the caller's own "=" first in its search_path
PGAPPNAME=gtm_victim psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "BEGIN" \
  -c "WITH o AS MATERIALIZED (SELECT id, amount FROM arch_by_id WHERE tenant_id = '$t2') SELECT count(*) FROM o" \
  -c "SELECT pg_sleep(60)" -c "COMMIT" >"$dir/victim.out" 2>&1 9>&- &
victim=$!
for i in $(seq 1 100); do
  [ "$(cq "$C" -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gtm_victim' AND query LIKE 'SELECT pg_sleep%'")" = 1 ] && break
  sleep 0.2
done
vpid=$(cq "$C" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'gtm_victim'")
vtx=$(app "$C" "SELECT transaction_number FROM get_all_active_transactions() WHERE process_id = ${vpid:-0}")
cres=$(cq "$C" -At -c "SELECT string_agg(replace(f, '.data', ''), ',') FROM pg_ls_dir('base/pgsql_job_cache') d,
    LATERAL pg_ls_dir('base/pgsql_job_cache/' || d) f WHERE d LIKE format('%s\_0\_%s', (SELECT oid FROM pg_roles WHERE rolname = 'regress_citus_app'), '$vtx')")
cres=${cres%%,*}
t2rows=$(cq "$C" -At -c "SELECT id || '|' || amount FROM arch_by_id WHERE tenant_id = '$t2' ORDER BY 1" | paste -sd' ')
app "$C" "CREATE FUNCTION appschema.fake_eq(int, int) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT false';
CREATE OPERATOR appschema.= (LEFTARG = int, RIGHTARG = int, FUNCTION = appschema.fake_eq);" >/dev/null
check "control: with appschema first in search_path, 0 = 0 is false for the role; the victim's result is there" \
  "f|yes" "$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "SET search_path = appschema, pg_catalog" -c "SELECT 0 = 0")|$([ -n "$cres" ] && echo yes)"
read_coord="SELECT id || '|' || amount FROM read_intermediate_result('$cres', 'binary') AS r(id int, amount int) ORDER BY 1"
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "SET search_path = appschema, pg_catalog" \
  -c "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, ${vtx:-0}, '2026-01-01');" -c "$read_coord" 2>&1)
check "joining the coordinator's transaction with the role's own \"=\" first in search_path is refused; no row read" \
  "ERROR:  assign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator|" \
  "$(echo "$out" | grep '^ERROR' | head -1)|$(echo "$out" | grep -E '^[0-9]+\|[0-9]+$' | paste -sd' ')"
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "SET search_path = appschema, public, pg_catalog" \
  -c "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, ${vtx:-0}, '2026-01-01');" -c "$read_coord" 2>&1)
check "the same with public before pg_catalog is refused too" \
  "ERROR:  assign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator" \
  "$(echo "$out" | grep '^ERROR' | head -1)"
check "control: the superuser (exempt) joins it the same way and reads T2's rows" "$t2rows" \
  "$(cq "$C" -At -c "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, ${vtx:-0}, '2026-01-01');" -c "SET ROLE regress_citus_app" -c "$read_coord" 2>&1 | grep -E '^[0-9]+\|[0-9]+$' | paste -sd' ')"
check "no rejected statement changed a row" "$before" "$(fingerprint)"

[ "$failed" = 0 ]
