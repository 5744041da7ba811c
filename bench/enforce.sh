#!/usr/bin/env bash
# bench/enforce.sh -- what tenant-scope enforcement costs, side by side.
#
#   bash bench/enforce.sh     (ROUNDS, SECONDS_PER_RUN, CLIENTS, EPOCHS,
#                              SECONDS_PER_EPOCH, BURSTS, TABLES_SMALL,
#                              TABLES_LARGE may be set; PARTS="C" runs only part C,
#                              default "A B C D")
#
# Installs what is missing (as root or with sudo), builds and installs the
# extension, then starts three throwaway PostgreSQL 15 servers from the same
# binaries with the same settings, holding the same tables and rows (copies
# of one data directory: the same pages and statistics), all used by one
# ordinary role (neither superuser nor BYPASSRLS):
#   (1) plain  -- no library preloaded
#   (2) gtm    -- shared_preload_libraries = gtm_clarity, gtm.enforcement = error
#   (3) rls    -- no library; row-level security policies
#                 tenant_id = current_setting('app.tenant_id') on the tables
# Workloads:
#   point -- SELECT by (tenant_id, id), -M prepared
#   join  -- a 3-way join of one tenant, -M simple (parsed and planned each time)
#
# This machine is a small shared virtual machine, and three things move a
# TPS figure by more than the 1-2% being measured; the bench controls each
# the same way for all three servers:
#   - its speed changes by up to 30% for seconds at a time (other tenants of
#     the host): the variants run in interleaved rounds, in a new random
#     order each round, and part B alternates them transaction by
#     transaction;
#   - a backend, or a whole server, keeps a random 1-5% advantage for its
#     lifetime (where address space randomisation put its memory): part B
#     replaces its connections every few hundred transactions and restarts
#     the servers between epochs, so each figure averages many of both;
#   - with glibc's default 128 kB trim threshold, a statement whose memory
#     peak crosses it pays three brk() calls and fresh page faults every
#     time (it happened here to the join on (1) and (2) and not on (3), a
#     30% difference unrelated to the check): every server runs with
#     GLIBC_TUNABLES=glibc.malloc.trim_threshold=32MB:...top_pad=1MB.
# Servers and clients share one CPU (taskset) so that no transaction waits
# for a wakeup on another CPU.
#
# Part A: pgbench, ROUNDS interleaved rounds of SECONDS_PER_RUN per variant
#         and workload, CLIENTS clients (several backends per run average
#         out the lasting advantage of any one): median TPS and the median
#         of the per-round ratios.
# Part B: bench/interleave.c, EPOCHS epochs (servers restarted before each)
#         of SECONDS_PER_EPOCH per workload, the three variants alternating
#         transaction by transaction: TPS over all epochs and the median of
#         the per-epoch ratios.  BURSTS (default "1") lists how many
#         transactions in a row each server runs in its place of a turn:
#         1 alternates single transactions (the other two servers'
#         transactions run between two of the gtm server's); 16 lets each
#         server run its own statements back to back, with its caches warm.
#         Each length has its table and its verdicts (doc/benchmarks.md,
#         "Does alternation cost the library its caches?").
# Part C: the check alone: the gtm server with gtm.enforcement = off and
#         error, alternating (part B's driver), and the join's planning time.
# Part D: planning cost with TABLES_SMALL vs TABLES_LARGE tenant tables in
#         the database.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_install_packages bc libpq-dev util-linux
gtm_build_install

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$("$PG_CONFIG" --bindir)
ROUNDS=${ROUNDS:-12}
SECS=${SECONDS_PER_RUN:-2}
CLIENTS=${CLIENTS:-4}
EPOCHS=${EPOCHS:-10}
EPOCH_SECS=${SECONDS_PER_EPOCH:-14}
BURSTS=${BURSTS:-1}
TABLES_SMALL=${TABLES_SMALL:-10}
TABLES_LARGE=${TABLES_LARGE:-10000}
PARTS=${PARTS:-A B C D}
part() { case " $PARTS " in *" $1 "*) return 0;; esac; return 1; }
PORT_PLAIN=${PORT_PLAIN:-5591}
PORT_GTM=${PORT_GTM:-5592}
PORT_RLS=${PORT_RLS:-5593}
CPU=$(( $(nproc) - 1 ))
TUNABLES=glibc.malloc.trim_threshold=33554432:glibc.malloc.top_pad=1048576

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
pin() { taskset -c "$CPU" "$@"; }

work=$(mktemp -d /tmp/gtm_bench.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
cleanup() {
  for s in plain gtm rls; do
    [ -d "$work/$s" ] && as_pg "$BIN/pg_ctl" -D "$work/$s" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

port_of() { case $1 in plain) echo "$PORT_PLAIN";; gtm) echo "$PORT_GTM";; rls) echo "$PORT_RLS";; esac; }
db_of() { echo bench; }   # the same database on every server (a copy)

pg_ctl_() {  # server action
  as_pg env GLIBC_TUNABLES=$TUNABLES taskset -c "$CPU" \
    "$BIN/pg_ctl" -D "$work/$1" -l "$work/$1.log" -w "$2" >/dev/null
}

start_server() {  # name
  as_pg "$BIN/initdb" -D "$work/$1" -A trust -U postgres >/dev/null
  cat >> "$work/$1/postgresql.conf" <<CONF
port = $(port_of "$1")
unix_socket_directories = '$work'
listen_addresses = ''
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_locks_per_transaction = 256
jit = off
autovacuum = off
CONF
  pg_ctl_ "$1" start
}

# copy_server from to [preload]: a copy of a stopped server's data directory,
# on its own port: the same catalogs, tables, rows, pages and statistics
copy_server() {
  as_pg cp -a "$work/$1" "$work/$2"
  echo "port = $(port_of "$2")" >> "$work/$2/postgresql.conf"
  [ -n "${3:-}" ] && echo "shared_preload_libraries = '$3'" >> "$work/$2/postgresql.conf"
  pg_ctl_ "$2" start
}

psql_() { "$BIN/psql" -h "$work" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

schema() {  # port db gtm(0/1)
  psql_ -p "$1" -c "CREATE DATABASE $2"
  psql_ -p "$1" -d "$2" <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'bench_app') THEN CREATE ROLE bench_app LOGIN; END IF;
END \$\$;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE INDEX ON contacts (tenant_id, deal_id);
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE INDEX ON activities (tenant_id, contact_id);
INSERT INTO deals SELECT t::text, d, 'open', d FROM generate_series(1, 100) t, generate_series(1, 1000) d;
INSERT INTO contacts SELECT tenant_id, id, id, 'c' || id || '@x' FROM deals;
INSERT INTO activities SELECT tenant_id, id, 'call' FROM contacts;
GRANT SELECT ON deals, contacts, activities TO bench_app;
VACUUM ANALYZE;
SQL
  if [ "$3" = 1 ]; then
    psql_ -p "$1" -d "$2" -c "CREATE EXTENSION gtm_clarity" \
      -c "GRANT SET ON PARAMETER gtm.enforcement TO bench_app"
  fi
}

# One server is made, filled and analyzed; the other two are copies of its
# data directory.  ANALYZE samples 30,000 of each table's 100,000 rows at
# random, so three servers analyzed on their own would each plan the join
# from other statistics (the same plan, but the estimates walk other MCV
# lists and histograms: up to 0.5% of the join's instructions, a different
# bias in every run of this script).  Copies share the statistics and the
# pages; the differences left are the ones measured: the library and its
# extension's objects on (2), the policies on (3).
echo "== servers ($("$BIN/postgres" --version)), pinned to CPU $CPU of $(nproc)"
echo "== schema and data (100 tenants x 1000 deals), made once, analyzed, copied"
start_server plain
schema "$PORT_PLAIN" bench 0
psql_ -p "$PORT_PLAIN" -d postgres -c CHECKPOINT
pg_ctl_ plain stop
copy_server plain gtm gtm_clarity
copy_server plain rls
pg_ctl_ plain start
psql_ -p "$PORT_RLS" -d bench <<'SQL'
ALTER TABLE deals ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON deals USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON contacts USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON activities USING (tenant_id = current_setting('app.tenant_id'));
SQL
psql_ -p "$PORT_GTM" -d bench -c "CREATE EXTENSION gtm_clarity" \
  -c "GRANT SET ON PARAMETER gtm.enforcement TO bench_app"

JOIN_SQL="SELECT d.id, c.email, count(a.*)
  FROM deals d
  JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
  LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id
 WHERE d.tenant_id = '42' AND d.id = :id
 GROUP BY d.id, c.email"
POINT_SQL="SELECT * FROM deals WHERE tenant_id = '42' AND id = :id"
for w in point join; do
  sql=$POINT_SQL; [ $w = join ] && sql=$JOIN_SQL
  printf '\\set id random(1, 1000)\n%s;\n' "$sql" > "$work/$w.pgbench"
  printf '%s\n' "$sql" > "$work/$w.sql"
done
chmod 644 "$work"/*.pgbench "$work"/*.sql

# part B's driver
gcc -O2 -Wall -Wextra -Werror -I"$("$PG_CONFIG" --includedir)" bench/interleave.c \
  -L"$("$PG_CONFIG" --libdir)" -lpq -o "$work/interleave"

# sanity: the three variants give the same answer; enforcement is on
check() {  # server
  PGOPTIONS="-c app.tenant_id=42" psql_ -p "$(port_of "$1")" -d "$(db_of "$1")" -U bench_app -At \
    -c "SELECT count(*) FROM deals WHERE tenant_id = '42'"
}
for s in plain gtm rls; do
  [ "$(check $s)" = 1000 ] || { echo "sanity check failed on $s"; exit 1; }
done
if PGOPTIONS="-c app.tenant_id=42" psql_ -p "$PORT_GTM" -d bench -U bench_app \
     -c "SELECT count(*) FROM deals" >/dev/null 2>&1; then
  echo "enforcement is not active on the gtm server"; exit 1
fi
# the join must be planned the same way on every server (the RLS plan adds
# its policy's one-time filters, which are left out of the comparison)
plan_of() {  # server
  PGOPTIONS="-c app.tenant_id=42" psql_ -p "$(port_of "$1")" -d "$(db_of "$1")" -U bench_app -At \
    -c "EXPLAIN (COSTS OFF) ${JOIN_SQL//:id/7}" | grep -v -e 'Result' -e 'One-Time Filter' | sed 's/^ *//'
}
for s in gtm rls; do
  if [ "$(plan_of plain)" != "$(plan_of $s)" ]; then
    echo "the join is planned differently on the plain and $s servers:"; plan_of plain; plan_of $s
    exit 1
  fi
done
echo "the join has the same plan on the three servers: $(plan_of gtm | tr '\n' ' ' | cut -c1-110)..."

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
declare -A runs
# median over rounds of a/b, where runs[key.a] and runs[key.b] are lists
# of the same length measured round by round
ratios() {  # key a b
  paste -d' ' <(echo ${runs[$1.$2]} | tr ' ' '\n') <(echo ${runs[$1.$3]} | tr ' ' '\n') \
    | awk '{printf "%.6f\n", $1 / $2}' | median
}
pct() {  # key a b p: p-th percentile of the per-round ratios a/b
  paste -d' ' <(echo ${runs[$1.$2]} | tr ' ' '\n') <(echo ${runs[$1.$3]} | tr ' ' '\n') \
    | awk '{printf "%.6f\n", $1 / $2}' | sort -g \
    | awk -v p="$4" '{a[NR]=$1} END {i=int(NR*p+0.5); if (i<1) i=1; print a[i]}'
}
spread() {  # key a b: 10th and 90th percentile of the per-round ratios
  printf "%.3f-%.3f" "$(pct "$1" "$2" "$3" 0.1)" "$(pct "$1" "$2" "$3" 0.9)"
}
med() { echo ${runs[$1]} | tr ' ' '\n' | median; }
mean() { echo ${runs[$1]} | tr ' ' '\n' | awk '{s+=$1} END {print s/NR}'; }
label_of() { [ "$1" = point ] && echo "point select, -M prepared" || echo "3-way join, -M simple"; }
mode_of() { [ "$1" = point ] && echo prepared || echo simple; }
# The table of a part: TPS of each variant by stat (med or mean) of its
# runs, their ratios, the median and the 10th-90th percentile spread of
# the per-run ratios.
summary() {  # part title stat runs-label run-label
  local w p g l
  printf "%-27s %10s %10s %10s %8s %8s %13s %13s\n" "$2" "(1) plain" "(2) gtm" "(3) rls" \
    "(2)/(1)" "(2)/(3)" "$4 (2)/(1)" "$4 (2)/(3)"
  for w in point join; do
    p=$($3 $1$w.plain); g=$($3 $1$w.gtm); l=$($3 $1$w.rls)
    printf "%-27s %10.1f %10.1f %10.1f %8.3f %8.3f %14.3f %14.3f\n" "$(label_of $w)" "$p" "$g" "$l" \
      "$(echo "$g / $p" | bc -l)" "$(echo "$g / $l" | bc -l)" "$(ratios $1$w gtm plain)" "$(ratios $1$w gtm rls)"
  done
  for w in point join; do
    echo "   $w: per-$5 (2)/(1) from $(spread $1$w gtm plain), (2)/(3) from $(spread $1$w gtm rls) (10th-90th percentile)"
  done
}

# ---------------------------------------------------------------- part A
tps() {  # server workload
  PGOPTIONS="-c app.tenant_id=42" pin "$BIN/pgbench" -h "$work" -p "$(port_of "$1")" -U bench_app -n \
    -M "$(mode_of "$2")" -c "$CLIENTS" -j 1 -T "$SECS" -f "$work/$2.pgbench" "$(db_of "$1")" 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
if part A; then
echo
echo "== A. pgbench: $ROUNDS interleaved rounds of ${SECS}s per variant and workload, $CLIENTS clients"
for r in $(seq 1 "$ROUNDS"); do
  line="   round $r:"
  for w in point join; do
    for s in $(printf 'plain\ngtm\nrls\n' | shuf); do
      runs[A$w.$s]="${runs[A$w.$s]:-} $(tps $s $w)"
    done
    line="$line $w$(for s in plain gtm rls; do echo -n " $(echo ${runs[A$w.$s]} | awk '{print $NF}')"; done)"
  done
  echo "$line"
done
echo
summary A "pgbench TPS (median)" med rounds round
fi

# ---------------------------------------------------------------- part B
conninfo() {  # server [extra options]
  echo "host=$work port=$(port_of "$1") dbname=$(db_of "$1") user=bench_app options='-c app.tenant_id=42 ${2:-}'"
}
interleave() {  # workload seconds turns-per-connection conninfo...
  local w=$1 secs=$2 turns=$3
  shift 3
  pin "$work/interleave" -M "$(mode_of "$w")" -T "$secs" -r "$turns" -b "${BURST:-1}" \
    -f "$work/$w.sql" "$@"
}
# the key of part B's runs for burst length $1: B (1), B16, ...
bkey() { [ "$1" = 1 ] && echo B || echo "B$1"; }
turns_of() { [ "$1" = point ] && echo 1000 || echo 200; }
if part B; then
echo
echo "== B. transaction by transaction: $EPOCHS epochs of ${EPOCH_SECS}s per workload and burst length ($BURSTS), servers restarted before each"
for e in $(seq 1 "$EPOCHS"); do
  for s in plain gtm rls; do pg_ctl_ $s restart; done
  line="   epoch $e:"
  for BURST in $BURSTS; do
    k=$(bkey "$BURST")
    [ "$BURST" = 1 ] || line="$line  burst $BURST:"
    for w in point join; do
      # the same number of transactions per connection at every length
      out=$(interleave $w "$EPOCH_SECS" "$(( ($(turns_of $w) + BURST - 1) / BURST ))" \
              "$(conninfo plain)" "$(conninfo gtm)" "$(conninfo rls)")
      i=1
      for s in plain gtm rls; do
        t=$(echo "$out" | awk -v i=$i '$1 == "tps" && $2 == i {print $3}')
        runs[$k$w.$s]="${runs[$k$w.$s]:-} $t"
        i=$((i + 1))
      done
      line="$line $w$(for s in plain gtm rls; do echo -n " $(echo ${runs[$k$w.$s]} | awk '{print $NF}')"; done)"
      line="$line ($(echo "$out" | awk '$1 == "generations" {print $2}') gen.)"
    done
  done
  echo "$line"
done
for BURST in $BURSTS; do
  echo
  summary "$(bkey "$BURST")" "interleaved TPS (mean), burst $BURST" mean epochs epoch
done
unset BURST
fi

# The goals.  A statistic decides a goal only if the measurement can
# resolve it: the 10th-90th percentile spread of its per-round (A) or
# per-epoch (B) ratios (2)/(1) must be narrower than 0.04, i.e. +-2%.
# Otherwise it is reported as inconclusive, with its spread.
verdict() {  # key workload statistic-label (2)/(1) (2)/(3) goal
  local lo hi v
  lo=$(pct "$1" gtm plain 0.1); hi=$(pct "$1" gtm plain 0.9)
  if ! awk -v lo="$lo" -v hi="$hi" 'BEGIN {exit !(hi - lo < 0.04)}'; then
    v="inconclusive: per-run (2)/(1) spread $(printf '%.3f-%.3f' "$lo" "$hi") is wider than +-2%"
  elif awk -v a="$4" -v b="$5" -v g="$6" 'BEGIN {exit !(a >= g && b > 1)}'; then
    v=MET
  else
    v="NOT MET"
  fi
  printf "   %-26s %-27s (2)/(1) %.3f (goal >= %s)  (2)/(3) %.3f (goal > 1)  %s\n" \
    "$(label_of $2)" "$3" "$4" "$6" "$5" "$v"
}
if part A && part B; then
echo
echo "== goals (decided only by statistics whose runs spread less than +-2%)"
for w in point join; do
  goal=0.99; [ $w = join ] && goal=0.98
  verdict A$w $w "A pgbench, median TPS" "$(echo "$(med A$w.gtm) / $(med A$w.plain)" | bc -l)" \
    "$(echo "$(med A$w.gtm) / $(med A$w.rls)" | bc -l)" $goal
  verdict A$w $w "A pgbench, median of rounds" "$(ratios A$w gtm plain)" "$(ratios A$w gtm rls)" $goal
  for BURST in $BURSTS; do
    k=$(bkey "$BURST")
    verdict $k$w $w "B burst $BURST, TPS, all epochs" "$(echo "$(mean $k$w.gtm) / $(mean $k$w.plain)" | bc -l)" \
      "$(echo "$(mean $k$w.gtm) / $(mean $k$w.rls)" | bc -l)" $goal
    verdict $k$w $w "B burst $BURST, median of epochs" "$(ratios $k$w gtm plain)" "$(ratios $k$w gtm rls)" $goal
  done
done
unset BURST
fi

# ---------------------------------------------------------------- part C
# What the check itself costs: one server, the same statement, enforcement
# off and error on two connections alternating (bench_app may set it: PG15
# GRANT SET ON PARAMETER).  And the join's planning time from EXPLAIN's
# summary in one backend, switching between off and error.
if part C; then
echo
echo "== C. the check alone (gtm server): gtm.enforcement = off vs error"
out=$(interleave join "$((EPOCH_SECS * 2))" 200 "$(conninfo gtm '-c gtm.enforcement=off')" "$(conninfo gtm)")
printf "%-48s %10s\n" "join -M simple TPS, off" "$(echo "$out" | awk '$1 == "tps" && $2 == 1 {print $3}')"
printf "%-48s %10s\n" "join -M simple TPS, error" "$(echo "$out" | awk '$1 == "tps" && $2 == 2 {print $3}')"
printf "%-48s %10.3f\n" "ratio error / off" "$(echo "$out" | awk '$1 == "tps" {t[$2] = $3} END {print t[2] / t[1]}')"
printf "%-48s %10s\n" "median of per-generation ratios" "$(echo "$out" | awk '$1 == "ratio" {print $3}')"

# planning_us(runs): median planning time of the join, in microseconds, from
# EXPLAIN's summary (nothing executes).
add_planning_fn() {  # port db
  psql_ -p "$1" -d "$2" <<SQL
CREATE FUNCTION planning_us(runs int) RETURNS float8 LANGUAGE plpgsql AS \$f\$
DECLARE j json; t float8[] := '{}';
BEGIN
  FOR i IN 1..runs LOOP
    EXECUTE \$q\$EXPLAIN (SUMMARY, FORMAT JSON) ${JOIN_SQL//:id/7}\$q\$ INTO j;
    t := t || (j->0->>'Planning Time')::float8;
  END LOOP;
  RETURN 1000 * (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(t) x);
END \$f\$;
SQL
}
# one backend, gtm.enforcement switched between off and error every 20
# plannings: the median planning time of each
psql_ -p "$PORT_GTM" -d bench <<SQL
CREATE FUNCTION planning_ab(blocks int, per int, OUT off_us float8, OUT error_us float8)
LANGUAGE plpgsql AS \$f\$
DECLARE j json; t_off float8[] := '{}'; t_err float8[] := '{}'; m text;
BEGIN
  FOR b IN 1..blocks LOOP
    FOREACH m IN ARRAY CASE WHEN b % 2 = 0 THEN ARRAY['off', 'error'] ELSE ARRAY['error', 'off'] END LOOP
      PERFORM set_config('gtm.enforcement', m, false);
      FOR i IN 1..per LOOP
        EXECUTE \$q\$EXPLAIN (SUMMARY, FORMAT JSON) ${JOIN_SQL//:id/7}\$q\$ INTO j;
        IF m = 'off' THEN t_off := t_off || (j->0->>'Planning Time')::float8;
        ELSE t_err := t_err || (j->0->>'Planning Time')::float8; END IF;
      END LOOP;
    END LOOP;
  END LOOP;
  off_us := 1000 * (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(t_off) x);
  error_us := 1000 * (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(t_err) x);
END \$f\$;
SQL
for r in $(seq 1 "$ROUNDS"); do
  out=$(pin "$BIN/psql" -h "$work" -p "$PORT_GTM" -d bench -U bench_app -X -q -At -F ' ' \
    -c "SELECT * FROM planning_ab(50, 20)")
  runs[C.off]="${runs[C.off]:-} ${out% *}"
  runs[C.error]="${runs[C.error]:-} ${out#* }"
done
printf "%-48s %10.1f\n" "join planning us, off (median, $ROUNDS x 1000)" "$(med C.off)"
printf "%-48s %10.1f\n" "join planning us, error" "$(med C.error)"
printf "%-48s %10.3f\n" "median of per-round ratios error / off" "$(ratios C error off)"
fi

# ---------------------------------------------------------------- part D
part D || exit 0
echo
echo "== D. planning cost: $TABLES_SMALL vs $TABLES_LARGE tenant tables in the database (gtm server)"
for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
  schema "$PORT_GTM" "bench_tables_$n" 1
  psql_ -p "$PORT_GTM" -d "bench_tables_$n" <<SQL
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    EXECUTE format('CREATE TABLE extra_%s (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id))', i);
    IF i % 500 = 0 THEN COMMIT; END IF;
  END LOOP;
END \$\$;
SQL
  add_planning_fn "$PORT_GTM" "bench_tables_$n"
done
tconn() { echo "host=$work port=$PORT_GTM dbname=bench_tables_$1 user=bench_app"; }
out=$(interleave join "$((EPOCH_SECS * 2))" 200 "$(tconn "$TABLES_SMALL")" "$(tconn "$TABLES_LARGE")")
printf "%-48s %10s\n" "join -M simple TPS, $TABLES_SMALL tenant tables" "$(echo "$out" | awk '$1 == "tps" && $2 == 1 {print $3}')"
printf "%-48s %10s\n" "join -M simple TPS, $TABLES_LARGE tenant tables" "$(echo "$out" | awk '$1 == "tps" && $2 == 2 {print $3}')"
printf "%-48s %10.3f\n" "ratio ($TABLES_LARGE / $TABLES_SMALL)" "$(echo "$out" | awk '$1 == "tps" {t[$2] = $3} END {print t[2] / t[1]}')"
for r in $(seq 1 "$((ROUNDS * 2))"); do
  for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
    runs[D.$n]="${runs[D.$n]:-} $(pin "$BIN/psql" -h "$work" -p "$PORT_GTM" -d "bench_tables_$n" -U bench_app -X -q -At \
      -c 'SELECT planning_us(300)')"
  done
done
printf "%-48s %10.1f\n" "join planning us, $TABLES_SMALL tenant tables" "$(med D.$TABLES_SMALL)"
printf "%-48s %10.1f\n" "join planning us, $TABLES_LARGE tenant tables" "$(med D.$TABLES_LARGE)"
printf "%-48s %10.3f\n" "median of per-round ratios ($TABLES_LARGE / $TABLES_SMALL)" "$(ratios D "$TABLES_LARGE" "$TABLES_SMALL")"
