#!/usr/bin/env bash
# bench/citus.sh -- what the tenant check costs on a Citus cluster, side by side.
#
#   bash bench/citus.sh     (ROUNDS, SECONDS_PER_RUN, CLIENTS, TENANTS, EPOCHS,
#                            SECONDS_PER_EPOCH, TXNS may be set; PARTS="B C"
#                            runs only those parts, default "A B C")
#
# Installs what is missing (as root), builds and installs gtm_clarity and
# Citus 13.2.2 (test/lib/citus.sh: from the release tarball, cached), then
# starts two 3-node Citus clusters on this machine (coordinator + 2 workers
# each) from the same binaries with the same settings, tables and rows, used
# by one ordinary role:
#   gtm   -- shared_preload_libraries = 'citus,gtm_clarity' on every node,
#            gtm.enforcement = error (the topology of doc/scaling-out.md)
#   plain -- shared_preload_libraries = 'citus'
# Tables companies, deals, notes distributed by tenant_id (an integer) and
# co-located; TENANTS tenants (default 1000) of 20 deals and 20 notes each.
# Workloads, prepared statements (Citus' fast-path router planner on, its
# default), the tenant a bound parameter:
#   point -- SELECT of one deal by (tenant_id, id)            (fast path)
#   join  -- a 3-way join companies-deals-notes of one tenant (router; Citus
#            plans it again at every execution)
#
# This is a 2-vCPU shared machine whose speed drifts by 10-30% for seconds
# at a time, and a backend or a server keeps a random few-% advantage for
# its lifetime; six servers and the client share the cores.  So, as in
# bench/enforce.sh:
# Part A: pgbench -M prepared, ROUNDS interleaved rounds (both workloads on
#         both clusters in a new random order each round), SECONDS_PER_RUN
#         each, CLIENTS clients: each run's TPS, the median TPS and the
#         median of the per-round ratios gtm/plain.
# Part B: bench/interleave.c: one connection per cluster, the two clusters
#         alternating transaction by transaction (new random order every
#         turn, connections replaced every few hundred turns), EPOCHS epochs
#         of SECONDS_PER_EPOCH per workload with all six servers restarted
#         before each epoch; servers and client on one CPU (taskset), glibc's
#         trim threshold raised on every server (see bench/enforce.sh).
#         Prints each epoch's ratio and the median of the per-epoch ratios.
# Part C: instructions per transaction (valgrind --tool=callgrind; they
#         repeat to about 0.3% between server starts, the nodes' TLS
#         included, where TPS does not): each cluster's three
#         servers restarted under callgrind, a warm-up run, then TXNS and
#         2 x TXNS transactions of each workload on one connection (pgbench -t, a fixed random
#         seed, so the second run repeats the first and continues); the
#         difference, divided by TXNS, summed over the coordinator's
#         backend and the worker backends that served it (found through
#         their application_name, which carries the coordinator's process
#         id), per node and in total.  The per-transaction figure counts
#         everything the servers do for the transaction (protocol, parse,
#         plan, execution, the shard queries on the workers), not the
#         client's side nor the kernel's.
# Goal: gtm/plain >= 0.98 in TPS; part C says what a TPS ratio below 1 is
# made of.  Never an absolute time alone.
set -euo pipefail
cd "$(dirname "$0")/.."
GTM_PG_VERSION=15
. test/lib/setup.sh
. test/lib/citus.sh
CLIENT_PG_CONFIG=$PG_CONFIG         # the system's: libpq-dev, for interleave.c
if [ -z "${GTM_CLUSTER_PG_CONFIG:-}" ]; then
  gtm_install_packages valgrind libpq-dev util-linux
  gtm_build_install               # holds the install lock (fd 9) until exit
  gtm_citus_ensure || exit 1
else
  PG_CONFIG=$GTM_CLUSTER_PG_CONFIG  # a private installation tree (development)
fi
BIN=$("$PG_CONFIG" --bindir)
ROUNDS=${ROUNDS:-6}
SECS=${SECONDS_PER_RUN:-5}
CLIENTS=${CLIENTS:-4}
TENANTS=${TENANTS:-1000}
EPOCHS=${EPOCHS:-8}
EPOCH_SECS=${SECONDS_PER_EPOCH:-10}
TXNS=${TXNS:-200}
PARTS=${PARTS:-A B C}
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
CPU=$(( $(nproc) - 1 ))
TUNABLES=glibc.malloc.trim_threshold=33554432:glibc.malloc.top_pad=1048576

work=$(mktemp -d /tmp/gtm_bench_citus.XXXXXX)
chmod 755 "$work"
trap 'gtm_cluster_stop "$work/gtm"; gtm_cluster_stop "$work/plain"; rm -rf "$work"' EXIT

declare -A coord ports
setup() {  # name libs
  local name=$1 p i
  GTM_CLUSTER_PORT=${CLUSTER_PORT:-${GTM_CLUSTER_PORT:-5501}} gtm_cluster_start "$work/$name" "$2" 2
  coord[$name]=${cluster_ports[0]}
  ports[$name]="${cluster_ports[*]}"
  for i in 0 1 2; do
    p=${cluster_ports[$i]}
    CLUSTER_DB=postgres cq "$p" -c "CREATE DATABASE gtm"
    cq "$p" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus"
    # part C finds a coordinator backend's worker backends in the log
    printf "log_disconnections = on\nlog_line_prefix = '%%p %%a '\n" >> "$work/$name/n$i/postgresql.conf"
  done
  cq "${cluster_ports[0]}" -o /dev/null -c "SELECT citus_set_coordinator_host('127.0.0.1', ${cluster_ports[0]})" \
    -c "SELECT citus_add_node('127.0.0.1', ${cluster_ports[1]})" -c "SELECT citus_add_node('127.0.0.1', ${cluster_ports[2]})"
  if [ "$name" = gtm ]; then cq "${cluster_ports[0]}" -c "CREATE EXTENSION gtm_clarity"; fi
  cq "${cluster_ports[0]}" -o /dev/null <<SQL
SET client_min_messages = warning;
CREATE ROLE bench_app LOGIN;
CREATE TABLE companies (tenant_id int NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE deals (tenant_id int NOT NULL, id int NOT NULL, company_id int, stage text, amount int,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE notes (tenant_id int NOT NULL, id int NOT NULL, deal_id int, body text, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON notes (tenant_id, deal_id);
SELECT create_distributed_table('companies', 'tenant_id');
SELECT create_distributed_table('deals', 'tenant_id', colocate_with => 'companies');
SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'companies');
INSERT INTO companies SELECT t, 1, 'c' || t FROM generate_series(1, $TENANTS) t;
INSERT INTO deals SELECT t, d, 1, 'open', d FROM generate_series(1, $TENANTS) t, generate_series(1, 20) d;
INSERT INTO notes SELECT t, d, d, 'n' FROM generate_series(1, $TENANTS) t, generate_series(1, 20) d;
GRANT SELECT ON companies, deals, notes TO bench_app;
SQL
  cq "${cluster_ports[0]}" -c "VACUUM ANALYZE"
}

# restart (or start) all nodes of a cluster: on one CPU, glibc tunables
restart() {  # name [stop|start|restart]
  local i
  for i in 0 1 2; do
    runuser -u postgres -- env GLIBC_TUNABLES=$TUNABLES taskset -c "$CPU" \
      "$BIN/pg_ctl" -D "$work/$1/n$i" -l "$work/$1/n$i.log" -m fast -w "${2:-restart}" >/dev/null </dev/null 9>&-
  done
}

echo "== two 3-node Citus clusters ($("$BIN/postgres" --version)), $TENANTS tenants"
setup gtm "citus,gtm_clarity"
setup plain "citus"
restart gtm; restart plain

# pgbench's form (part A, C) and interleave's (part B: :id, one parameter)
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
cat > "$work/point.i.sql" <<'SQL'
SELECT stage, amount FROM deals WHERE tenant_id = :id AND id = 1 + :id % 20
SQL
cat > "$work/join.i.sql" <<'SQL'
SELECT c.name, d.amount, count(n.id)
  FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
  JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id
 WHERE c.tenant_id = :id AND d.id = 1 + :id % 20
 GROUP BY c.name, d.amount
SQL

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.4f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---------------------------------------------------------------- part A
run() {  # cluster workload -> tps
  "$BIN/pgbench" -n -M prepared -T "$SECS" -c "$CLIENTS" -j "$CLIENTS" -D tenants="$TENANTS" \
    -h 127.0.0.1 -p "${coord[$1]}" -U bench_app -f "$work/$2.sql" gtm 2>&1 |
    sed -n 's/^tps = \([0-9.]*\) (without initial connection time)/\1/p'
}
if part A; then
  for c in gtm plain; do for w in point join; do SECS=2 run "$c" "$w" >/dev/null; done; done
  echo
  echo "== A. pgbench -M prepared: $ROUNDS rounds, $SECS s per run, $CLIENTS clients"
  declare -A tps
  for r in $(seq 1 "$ROUNDS"); do
    for pair in $(printf '%s\n' gtm:point plain:point gtm:join plain:join | shuf); do
      c=${pair%%:*} w=${pair##*:}
      tps[$r:$c:$w]=$(run "$c" "$w")
      echo "round $r  $w  $c  tps ${tps[$r:$c:$w]}"
    done
  done
  echo "-- A. medians over $ROUNDS interleaved rounds"
  for w in point join; do
    g=$(for r in $(seq 1 "$ROUNDS"); do echo "${tps[$r:gtm:$w]}"; done | median)
    p=$(for r in $(seq 1 "$ROUNDS"); do echo "${tps[$r:plain:$w]}"; done | median)
    ratio=$(for r in $(seq 1 "$ROUNDS"); do awk -v a="${tps[$r:gtm:$w]}" -v b="${tps[$r:plain:$w]}" 'BEGIN { printf "%.4f\n", a / b }'; done | median)
    printf 'A %-6s gtm %10.1f tps   plain %10.1f tps   median ratio gtm/plain %s\n' "$w" "$g" "$p" "$ratio"
  done
fi

# ---------------------------------------------------------------- part B
if part B; then
  gcc -O2 -Wall -Wextra -Werror -I"$("$CLIENT_PG_CONFIG" --includedir)" bench/interleave.c \
    -L"$("$CLIENT_PG_CONFIG" --libdir)" -lpq -o "$work/interleave"
  conninfo() { echo "host=127.0.0.1 port=${coord[$1]} dbname=gtm user=bench_app"; }
  echo
  echo "== B. transaction by transaction: $EPOCHS epochs of ${EPOCH_SECS}s per workload, servers restarted before each"
  declare -A bratio btps
  for e in $(seq 1 "$EPOCHS"); do
    restart gtm; restart plain
    line="epoch $e:"
    for w in point join; do
      turns=500; [ "$w" = join ] && turns=200
      # first target plain, second gtm: "ratio 2" is gtm/plain
      out=$(taskset -c "$CPU" "$work/interleave" -M prepared -T "$EPOCH_SECS" -r "$turns" -f "$work/$w.i.sql" \
            "$(conninfo plain)" "$(conninfo gtm)")
      bratio[$e:$w]=$(echo "$out" | awk '$1 == "ratio" && $2 == 2 {print $3}')
      btps[$e:$w:plain]=$(echo "$out" | awk '$1 == "tps" && $2 == 1 {print $3}')
      btps[$e:$w:gtm]=$(echo "$out" | awk '$1 == "tps" && $2 == 2 {print $3}')
      line="$line  $w plain ${btps[$e:$w:plain]} gtm ${btps[$e:$w:gtm]} ratio ${bratio[$e:$w]}"
    done
    echo "$line"
  done
  echo "-- B. medians over $EPOCHS epochs"
  for w in point join; do
    g=$(for e in $(seq 1 "$EPOCHS"); do echo "${btps[$e:$w:gtm]}"; done | median)
    p=$(for e in $(seq 1 "$EPOCHS"); do echo "${btps[$e:$w:plain]}"; done | median)
    ratio=$(for e in $(seq 1 "$EPOCHS"); do echo "${bratio[$e:$w]}"; done | median)
    lo=$(for e in $(seq 1 "$EPOCHS"); do echo "${bratio[$e:$w]}"; done | sort -g | head -1)
    hi=$(for e in $(seq 1 "$EPOCHS"); do echo "${bratio[$e:$w]}"; done | sort -g | tail -1)
    printf 'B %-6s gtm %10.1f tps   plain %10.1f tps   median ratio gtm/plain %s (epochs %s .. %s)\n' \
      "$w" "$g" "$p" "$ratio" "$lo" "$hi"
  done
fi

# ---------------------------------------------------------------- part C
# instructions of one process (its callgrind file), or 0
instr() { [ -f "$1" ] && grep -m1 '^summary:' "$1" | awk '{print $2}' || echo 0; }
measure() {  # cluster -> lines "workload n0 n1 n2" of per-transaction instructions
  local c=$1 i w n cp s wp a b out=$work/cg.$1
  local -a p=(${ports[$c]})
  restart "$c" stop
  for i in 0 1 2; do
    mkdir -p "$out/n$i"
    chown -R postgres "$out"
    setsid runuser -u postgres -- valgrind --tool=callgrind --callgrind-out-file="$out/n$i/%p.cg" \
      "$BIN/postgres" -D "$work/$c/n$i" >"$out/n$i.log" 2>&1 </dev/null 9>&- &
  done
  for i in 0 1 2; do until "$BIN/pg_isready" -q -h 127.0.0.1 -p "${p[$i]}"; do sleep 1; done; done
  for w in point join; do
    declare -A r=()
    # warm-up, not counted: the first backends of a new server fill its caches
    "$BIN/pgbench" -n -M prepared -t "$TXNS" -c 1 --random-seed=3 -D tenants="$TENANTS" \
      -h 127.0.0.1 -p "${p[0]}" -U bench_app -f "$work/$w.sql" gtm >/dev/null 2>&1
    for n in "$TXNS" "$((2 * TXNS))"; do
      PGAPPNAME=b_${w}_$n "$BIN/pgbench" -n -M prepared -t "$n" -c 1 --random-seed=7 -D tenants="$TENANTS" \
        -h 127.0.0.1 -p "${p[0]}" -U bench_app -f "$work/$w.sql" gtm >/dev/null 2>&1
      # pgbench's two connections (a first one to look at the server, then
      # the client's) dump their counts when they exit: the client's is the
      # larger
      for _ in $(seq 1 60); do
        [ "$(grep -c "^[0-9]* b_${w}_$n LOG:  disconnection" "$out/n0.log")" -ge 2 ] && break
        sleep 1
      done
      sleep 5
      cp=$(for s in $(grep "^[0-9]* b_${w}_$n LOG:  disconnection" "$out/n0.log" | cut -d' ' -f1); do
             echo "$(instr "$out/n0/$s.cg") $s"; done | sort -n | tail -n 1 | cut -d' ' -f2)
      r[$n:0]=$(instr "$out/n0/$cp.cg")
      for i in 1 2; do
        s=0
        for wp in $(grep -E "gpid=[1-9]0*$cp LOG:  disconnection" "$out/n$i.log" | cut -d' ' -f1); do
          s=$((s + $(instr "$out/n$i/$wp.cg")))
        done
        r[$n:$i]=$s
      done
    done
    echo "$w $(for i in 0 1 2; do a=${r[$((2 * TXNS)):$i]} b=${r[$TXNS:$i]}; echo -n "$(( (a - b) / TXNS )) "; done)"
  done
  for i in 0 1 2; do runuser -u postgres -- "$BIN/pg_ctl" -D "$work/$c/n$i" -m immediate -w stop >/dev/null 2>&1 || true; done
  restart "$c" start
}
if part C; then
  echo
  echo "== C. instructions per transaction (callgrind; pgbench -t $TXNS and $((2 * TXNS)), one connection, seed 7)"
  measure gtm > "$work/c.gtm" &
  measure plain > "$work/c.plain"
  wait
  [ -n "${KEEP_CALLGRIND:-}" ] && cp -r "$work"/cg.* "$work"/c.* "$KEEP_CALLGRIND"/
  for w in point join; do
    read -r _ g0 g1 g2 < <(grep "^$w " "$work/c.gtm")
    read -r _ p0 p1 p2 < <(grep "^$w " "$work/c.plain")
    awk -v w="$w" -v g0="$g0" -v g1="$g1" -v g2="$g2" -v p0="$p0" -v p1="$p1" -v p2="$p2" 'BEGIN {
      printf "C %-6s coordinator gtm %8d plain %8d (%.4f)   workers gtm %8d plain %8d (%.4f)   total gtm %8d plain %8d  ratio plain/gtm %.4f\n",
        w, g0, p0, g0 / p0, g1 + g2, p1 + p2, (g1 + g2) / (p1 + p2), g0 + g1 + g2, p0 + p1 + p2, (p0 + p1 + p2) / (g0 + g1 + g2) }'
  done
  echo "   (ratio plain/gtm: the TPS ratio gtm/plain that the instruction counts alone would give)"
fi
