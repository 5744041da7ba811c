#!/usr/bin/env bash
# bench/citus.sh -- what the tenant check costs on a Citus cluster, side by side.
#
#   bash bench/citus.sh     (ROUNDS, SECONDS_PER_RUN, CLIENTS, TENANTS may be set)
#
# Installs what is missing (as root), builds and installs gtm_clarity and
# Citus 13.2.2 (test/lib/citus.sh: from the release tarball, cached), then
# starts two 3-node Citus clusters on this machine (coordinator + 2 workers
# each) from the same binaries with the same settings, tables and rows, used
# by one ordinary role:
#   gtm   -- shared_preload_libraries = 'citus,gtm_clarity' on every node,
#            gtm.enforcement = error (the topology of doc/scaling-out.md)
#   plain -- shared_preload_libraries = 'citus'
# Tables companies, deals, notes distributed by tenant_id and co-located;
# TENANTS tenants of 20 deals and 20 notes each.  Workloads, pgbench -M
# prepared (Citus' fast-path router planner on, its default):
#   point -- SELECT of one deal by (tenant_id, id)            (fast path)
#   join  -- a 3-way join companies-deals-notes of one tenant (router)
# ROUNDS interleaved rounds; in each, both workloads on both clusters, in a
# new random order, SECONDS_PER_RUN each.  Prints each run's TPS, then per
# workload the median TPS of each cluster and the median of the per-round
# ratios gtm/plain (goal >= 0.98).  Never an absolute time alone.
set -euo pipefail
cd "$(dirname "$0")/.."
GTM_PG_VERSION=15
. test/lib/setup.sh
. test/lib/citus.sh
if [ -z "${GTM_CLUSTER_PG_CONFIG:-}" ]; then
  gtm_install_packages
  gtm_build_install               # holds the install lock (fd 9) until exit
  gtm_citus_ensure || exit 1
else
  PG_CONFIG=$GTM_CLUSTER_PG_CONFIG  # a private installation tree (development)
fi
BIN=$("$PG_CONFIG" --bindir)
ROUNDS=${ROUNDS:-6}
SECS=${SECONDS_PER_RUN:-8}
CLIENTS=${CLIENTS:-4}
TENANTS=${TENANTS:-200}

work=$(mktemp -d /tmp/gtm_bench_citus.XXXXXX)
chmod 755 "$work"
trap 'gtm_cluster_stop "$work/gtm"; gtm_cluster_stop "$work/plain"; rm -rf "$work"' EXIT

declare -A coord
setup() {  # name libs
  local name=$1 p
  GTM_CLUSTER_PORT=${CLUSTER_PORT:-5501} gtm_cluster_start "$work/$name" "$2" 2
  coord[$name]=${cluster_ports[0]}
  for p in "${cluster_ports[@]}"; do
    CLUSTER_DB=postgres cq "$p" -c "CREATE DATABASE gtm"
    cq "$p" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus"
  done
  cq "${cluster_ports[0]}" -o /dev/null -c "SELECT citus_set_coordinator_host('127.0.0.1', ${cluster_ports[0]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${cluster_ports[1]})" -c "SELECT citus_add_node('127.0.0.1', ${cluster_ports[2]})"
  if [ "$name" = gtm ]; then cq "${cluster_ports[0]}" -c "CREATE EXTENSION gtm_clarity"; fi
  cq "${cluster_ports[0]}" -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE ROLE bench_app LOGIN;
CREATE TABLE companies (tenant_id text NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, company_id int, stage text, amount int,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE notes (tenant_id text NOT NULL, id int NOT NULL, deal_id int, body text, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON notes (tenant_id, deal_id);
SELECT create_distributed_table('companies', 'tenant_id');
SELECT create_distributed_table('deals', 'tenant_id', colocate_with => 'companies');
SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'companies');
INSERT INTO companies SELECT t::text, 1, 'c' || t FROM generate_series(1, $TENANTS) t;
INSERT INTO deals SELECT t::text, d, 1, 'open', d FROM generate_series(1, $TENANTS) t, generate_series(1, 20) d;
INSERT INTO notes SELECT t::text, d, d, 'n' FROM generate_series(1, $TENANTS) t, generate_series(1, 20) d;
GRANT SELECT ON companies, deals, notes TO bench_app;
SQL
  cq "${cluster_ports[0]}" -c "VACUUM ANALYZE"
}

echo "== two 3-node Citus clusters ($("$BIN/postgres" --version))"
setup gtm "citus,gtm_clarity"
setup plain "citus"

cat > "$work/point.sql" <<'SQL'
\set t random(1, :tenants)
\set d random(1, 20)
SELECT stage, amount FROM deals WHERE tenant_id = :t AND id = :d;
SQL
cat > "$work/join.sql" <<'SQL'
\set t random(1, :tenants)
\set d random(1, 20)
SELECT c.name, d.amount, count(n.id)
  FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
  JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id
 WHERE c.tenant_id = :t AND d.id = :d
 GROUP BY c.name, d.amount;
SQL

run() {  # cluster workload -> tps
  "$BIN/pgbench" -n -M prepared -T "$SECS" -c "$CLIENTS" -j "$CLIENTS" -D tenants="$TENANTS" \
    -h 127.0.0.1 -p "${coord[$1]}" -U bench_app -f "$work/$2.sql" gtm 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}

# warm-up (connections, caches), one short run each, not counted
for c in gtm plain; do for w in point join; do SECS=2 run "$c" "$w" >/dev/null; done; done

echo "== $ROUNDS rounds, $SECS s per run, $CLIENTS clients, pgbench -M prepared"
declare -A tps
for r in $(seq 1 "$ROUNDS"); do
  for pair in $(printf '%s\n' gtm:point plain:point gtm:join plain:join | shuf); do
    c=${pair%%:*} w=${pair##*:}
    tps[$r:$c:$w]=$(run "$c" "$w")
    echo "round $r  $w  $c  tps ${tps[$r:$c:$w]}"
  done
done

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
echo
echo "== medians over $ROUNDS interleaved rounds (goal: ratio >= 0.98)"
for w in point join; do
  g=$(for r in $(seq 1 "$ROUNDS"); do echo "${tps[$r:gtm:$w]}"; done | median)
  p=$(for r in $(seq 1 "$ROUNDS"); do echo "${tps[$r:plain:$w]}"; done | median)
  ratio=$(for r in $(seq 1 "$ROUNDS"); do awk -v a="${tps[$r:gtm:$w]}" -v b="${tps[$r:plain:$w]}" 'BEGIN { printf "%.4f\n", a / b }'; done | median)
  printf '%-6s gtm %10.1f tps   plain %10.1f tps   median ratio gtm/plain %s\n' "$w" "$g" "$p" "$ratio"
done
