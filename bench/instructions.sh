#!/usr/bin/env bash
# bench/instructions.sh -- what enforcement costs, in instructions.
#
#   bash bench/instructions.sh [repeats]
#
# Instruction counts, unlike TPS, repeat to about 0.01% on a noisy machine.
# A single-user backend (postgres --single) runs under valgrind
# --tool=callgrind as an ordinary role, reading statements from stdin, in
# three variants over the same data (one cluster, one database each):
#   (1) plain -- no library preloaded
#   (2) gtm   -- shared_preload_libraries = gtm_clarity, gtm.enforcement = error
#   (3) rls   -- no library; row-level security policies
#                tenant_id = current_setting('app.tenant_id') on the tables
# and two workloads, each statement pinned by a literal and run `repeats`
# times (default 100):
#   mixed -- point select, 3-way join, UPDATE by key, single-row INSERT, and
#            an ORM-style query with a correlated json_agg subquery
#   reads -- the point select, the join and the ORM query
#   prepared -- EXECUTE of a prepared point select, 10 x repeats times (its
#            generic plan after the fifth run: the executor's side of the
#            check alone)
# Each count has the startup subtracted (the same variant run with no
# statement), and is divided by the number of statements.  Goal: (2)/(1)
# <= 1.010 on the mixed workload.
#
# FOOTPRINT=1 also prints the code one round of the workload's statements
# runs (each of them once: code run at least `repeats` times more than at
# startup), in distinct
# 64-byte lines and 4 kB pages of postgres and of gtm_clarity.so
# (bench/code_footprint.pl over callgrind --dump-instr=yes): every line a
# statement runs is one the CPU may have to fetch again when it comes back
# to this backend, so a TPS ratio follows the lines more than the
# instructions (doc/benchmarks.md).  WORKLOADS (default "mixed reads
# prepared") picks workloads; "join" and "point" run one statement each.
set -euo pipefail
repeats=${1:-100}
cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_install_packages valgrind
gtm_build_install

BIN=$("$PG_CONFIG" --bindir)
work=$(mktemp -d /tmp/gtm_instr.XXXXXX)
chmod 755 "$work"
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
trap 'as_pg "$BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true; [ -n "${KEEP_CALLGRIND:-}" ] && cp "$work"/cg.gtm.* /tmp/ ; rm -rf "$work"' EXIT

as_pg "$BIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$work'
fsync = off
autovacuum = off
jit = off
CONF
as_pg "$BIN/pg_ctl" -D "$work/data" -l "$work/log" -w -o "-c shared_preload_libraries=gtm_clarity" start >/dev/null
psql_() { "$BIN/psql" -h "$work" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -c "CREATE ROLE bench_app"
for db in plain gtm rls; do
  psql_ -c "CREATE DATABASE bench_$db"
  psql_ -d "bench_$db" <<'SQL'
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE INDEX ON contacts (tenant_id, deal_id);
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE INDEX ON activities (tenant_id, contact_id);
INSERT INTO deals SELECT t::text, d, 'open', d FROM generate_series(1, 20) t, generate_series(1, 500) d;
INSERT INTO contacts SELECT tenant_id, id, id, 'c' || id || '@x' FROM deals;
INSERT INTO activities SELECT tenant_id, id, 'call' FROM contacts;
GRANT SELECT, INSERT, UPDATE ON deals, contacts, activities TO bench_app;
VACUUM ANALYZE;
SQL
done
# the rule applies where the extension is installed (the library alone,
# preloaded, checks nothing in a database without it)
psql_ -d bench_gtm -c "CREATE EXTENSION gtm_clarity"
psql_ -d bench_rls <<'SQL'
ALTER TABLE deals ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON deals USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON contacts USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON activities USING (tenant_id = current_setting('app.tenant_id'));
SQL
as_pg "$BIN/pg_ctl" -D "$work/data" -m fast stop >/dev/null

POINT="SELECT * FROM deals WHERE tenant_id = '7' AND id = 42;"
JOIN="SELECT d.id, c.email, count(a.*) FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id WHERE d.tenant_id = '7' AND d.id = 42 GROUP BY d.id, c.email;"
UPDATE="UPDATE deals SET amount = amount + 1 WHERE tenant_id = '7' AND id = 42;"
INSERT="INSERT INTO activities (tenant_id, contact_id, kind) VALUES ('7', 42, 'mail');"
ORM="SELECT d.id, d.stage, (SELECT json_agg(json_build_object('id', c.id, 'email', c.email)) FROM contacts c WHERE c.tenant_id = d.tenant_id AND c.deal_id = d.id) AS contacts FROM deals d WHERE d.tenant_id = '7' AND d.id BETWEEN 40 AND 44 ORDER BY d.id;"

script() {  # workload repeats
  echo "SET ROLE bench_app;"
  echo "SET app.tenant_id = '7';"
  [ "$1" = prepared ] && echo "PREPARE point(text, int) AS SELECT * FROM deals WHERE tenant_id = \$1 AND id = \$2;"
  for i in $(seq 1 "$2"); do
    case $1 in
      mixed) printf '%s\n' "$POINT" "$JOIN" "$UPDATE" "$INSERT" "$ORM" ;;
      reads) printf '%s\n' "$POINT" "$JOIN" "$ORM" ;;
      join) printf '%s\n' "$JOIN" ;;
      point) printf '%s\n' "$POINT" ;;
      prepared) echo "EXECUTE point('7', $(( i % 500 + 1 )));" ;;
    esac
  done
}
# instructions (Ir) of one single-user run of variant with the script
instructions() {  # variant workload repeats
  local preload="" out="$work/cg.$1.$2.$3"
  [ "$1" = gtm ] && preload="-c shared_preload_libraries=gtm_clarity -c gtm.enforcement=error"
  script "$2" "$3" > "$work/in.sql"
  chmod 644 "$work/in.sql"
  as_pg valgrind --tool=callgrind ${FOOTPRINT:+--dump-instr=yes} --callgrind-out-file="$out" \
    "$BIN/postgres" --single -D "$work/data" $preload -c jit=off "bench_$1" \
    < "$work/in.sql" > "$work/out.$1.$2.$3" 2>"$work/err.$1.$2.$3"
  if grep -q "ERROR" "$work/out.$1.$2.$3"; then
    echo "variant $1 workload $2: a statement failed:" >&2; grep -m3 ERROR "$work/out.$1.$2.$3" >&2; exit 1
  fi
  sed -n 's/^totals: \([0-9]*\).*/\1/p; s/^summary: \([0-9]*\).*/\1/p' "$out" | head -1
}
echo "== instructions per statement (callgrind, single-user backend, startup subtracted), $repeats repeats"
printf "%-8s %14s %14s %14s %9s %9s\n" workload "(1) plain" "(2) gtm" "(3) rls" "(2)/(1)" "(3)/(1)"
for w in ${WORKLOADS:-mixed reads prepared}; do
  per=5; [ $w = reads ] && per=3; [ $w = prepared ] || [ $w = join ] || [ $w = point ] && per=1
  declare -A c
  n=$repeats; [ $w = prepared ] && n=$((repeats * 10))  # the first runs plan: spread them
  for v in plain gtm rls; do
    base=$(instructions $v $w 0)
    full=$(instructions $v $w "$n")
    c[$v]=$(( (full - base) / (n * per) ))
  done
  printf "%-8s %14d %14d %14d %9.4f %9.4f\n" $w "${c[plain]}" "${c[gtm]}" "${c[rls]}" \
    "$(echo "${c[gtm]} / ${c[plain]}" | bc -l)" "$(echo "${c[rls]} / ${c[plain]}" | bc -l)"
  if [ -n "${FOOTPRINT:-}" ]; then
    for v in plain gtm rls; do
      perl bench/code_footprint.pl "$work/cg.$v.$w.$n" "$work/cg.$v.$w.0" "$n" \
        bin/postgres gtm_clarity.so > "$work/fp.$v"
    done
    lp() { awk -v o="$2" '$1 == o { printf "%d lines %d pages", $3, $5 }' "$work/fp.$1"; }
    echo "   code of one round, postgres:        (1) $(lp plain bin/postgres), (2) $(lp gtm bin/postgres), (3) $(lp rls bin/postgres)"
    echo "   code of one round, gtm_clarity.so:  (2) $(lp gtm gtm_clarity.so)"
  fi
done
