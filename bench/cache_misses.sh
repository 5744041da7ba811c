#!/usr/bin/env bash
# bench/cache_misses.sh -- why a TPS ratio can be worse than the
# instruction ratio: the backend's instructions and simulated cache misses
# per transaction, client and server, side by side.
#
#   bash bench/cache_misses.sh [transactions]     (default 1000)
#
# bench/instructions.sh counts a single-user backend's instructions; part B
# of bench/enforce.sh measures TPS over the wire.  This script sits between
# them: a real server runs under valgrind --tool=callgrind --cache-sim=yes
# (its backends followed across fork), and pgbench sends it, over one
# connection, the workloads of bench/enforce.sh part B as the ordinary role
# bench_app:
#   point -- SELECT by (tenant_id, id), -M prepared (Bind/Execute: the
#            executor's side of the check alone, once the plan is generic)
#   join  -- a 3-way join of one tenant, -M simple (parsed and planned)
# in two variants over the same data: (1) plain, no library preloaded;
# (2) gtm, shared_preload_libraries = gtm_clarity, gtm.enforcement = error.
# Each figure is the backend's count for `transactions` + 100 transactions
# minus its count for 100 (connection start-up and cache warm-up removed),
# divided by `transactions`:
#   Ir    instructions
#   I1mr  first-level instruction cache misses
#   D1m   first-level data cache misses (reads + writes)
#   LLm   last-level misses (instructions + data)
# and a cycle estimate, Ir + 10 x (I1mr + D1m) + 100 x LLm (valgrind's
# cache model: the figures are relative, for the ratio, not a prediction).
# Counts, unlike times, repeat on a noisy machine.
set -euo pipefail
n=${1:-1000}
cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_install_packages valgrind
gtm_build_install

BIN=$("$PG_CONFIG" --bindir)
work=$(mktemp -d /tmp/gtm_cache.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
port=${BENCH_PORT:-5597}
trap 'as_pg "$BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

as_pg "$BIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
port = $port
fsync = off
autovacuum = off
jit = off
CONF
as_pg "$BIN/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-c shared_preload_libraries=gtm_clarity" start >/dev/null 9>&-
psql_() { "$BIN/psql" -h "$work" -p "$port" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -c "CREATE ROLE bench_app LOGIN"
for v in plain gtm; do
  psql_ -c "CREATE DATABASE bench_$v"
  psql_ -d "bench_$v" <<'SQL'
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE INDEX ON contacts (tenant_id, deal_id);
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE INDEX ON activities (tenant_id, contact_id);
INSERT INTO deals SELECT t::text, d, 'open', d FROM generate_series(1, 50) t, generate_series(1, 1000) d;
INSERT INTO contacts SELECT tenant_id, id, id, 'c' || id || '@x' FROM deals;
INSERT INTO activities SELECT tenant_id, id, 'call' FROM contacts;
GRANT SELECT ON deals, contacts, activities TO bench_app;
VACUUM ANALYZE;
SQL
done
psql_ -d bench_gtm -c "CREATE EXTENSION gtm_clarity"
as_pg "$BIN/pg_ctl" -D "$work/data" -m fast stop >/dev/null

cat > "$work/point.sql" <<'SQL'
\set id random(1, 1000)
SELECT * FROM deals WHERE tenant_id = '42' AND id = :id;
SQL
cat > "$work/join.sql" <<'SQL'
\set id random(1, 1000)
SELECT d.id, c.email, count(a.*) FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id WHERE d.tenant_id = '42' AND d.id = :id GROUP BY d.id, c.email;
SQL
chmod 644 "$work"/*.sql

# the events of the backend that served pgbench: the callgrind file holding
# with the most instructions among those that ran a portal
events() {  # file -> "Ir I1mr D1mr D1mw ILmr DLmr DLmw"
  sed -n 's/^summary: //p; s/^totals: //p' "$1" | head -1 | awk '{print $1, $4, $5, $6, $7, $8, $9}'
}
run() {  # variant workload transactions -> events of its backend
  local v=$1 w=$2 t=$3 pre="" best=0 f ir out=""
  [ "$v" = gtm ] && pre="-c shared_preload_libraries=gtm_clarity -c gtm.enforcement=error"
  rm -f "$work"/cg.*
  as_pg valgrind --tool=callgrind --cache-sim=yes --trace-children=yes \
    --callgrind-out-file="$work/cg.%p" "$BIN/postgres" -D "$work/data" $pre \
    > "$work/valgrind.log" 2>&1 9>&- &
  for _ in $(seq 1 120); do "$BIN/pg_isready" -h "$work" -p "$port" -q && break; sleep 1; done
  local mode=prepared; [ "$w" = join ] && mode=simple
  "$BIN/pgbench" -h "$work" -p "$port" -U bench_app -n -M $mode -c 1 -t "$t" --random-seed=42 \
    -f "$work/$w.sql" "bench_$v" > "$work/pgbench.log" 2>&1 ||
    { echo "pgbench failed:" >&2; cat "$work/pgbench.log" >&2; exit 1; }
  as_pg "$BIN/pg_ctl" -D "$work/data" -m fast stop >/dev/null
  wait || true
  for f in "$work"/cg.*; do
    grep -q "PortalStart" "$f" || continue
    ir=$(events "$f" | awk '{print $1}')
    if [ "$ir" -gt "$best" ]; then best=$ir; out=$(events "$f"); fi
  done
  echo "$out"
}
per_txn() {  # "events at t0" "events at t1" transactions -> per-transaction figures
  awk -v n="$3" -v a="$1" -v b="$2" 'BEGIN {
    split(a, x, " "); split(b, y, " ");
    ir = (y[1] - x[1]) / n; i1 = (y[2] - x[2]) / n; d1 = (y[3] + y[4] - x[3] - x[4]) / n;
    ll = (y[5] + y[6] + y[7] - x[5] - x[6] - x[7]) / n;
    printf "%.0f %.1f %.1f %.2f %.0f\n", ir, i1, d1, ll, ir + 10 * (i1 + d1) + 100 * ll }'
}
echo "== per transaction, backend of a real server (callgrind --cache-sim), $n transactions after 100"
printf "%-6s %-6s %10s %8s %8s %7s %12s\n" workload var Ir I1mr D1m LLm cycles~
for w in point join; do
  declare -A r
  for v in plain gtm; do
    a=$(run $v $w 100)
    b=$(run $v $w $((n + 100)))
    r[$v]=$(per_txn "$a" "$b" "$n")
    printf "%-6s %-6s %10s %8s %8s %7s %12s\n" $w $v ${r[$v]}
  done
  printf "%-6s %-6s %10.4f %8.4f %8.4f %7.4f %12.4f\n" $w "(2)/(1)" $(paste -d' ' <(echo ${r[gtm]} | tr ' ' '\n') <(echo ${r[plain]} | tr ' ' '\n') | awk '{printf "%s ", ($2 > 0 ? $1 / $2 : 0)}')
done
