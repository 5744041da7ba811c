#!/usr/bin/env bash
# bench/enforce.sh -- what tenant-scope enforcement costs, side by side.
#
#   bash bench/enforce.sh            (ROUNDS, SECONDS_PER_RUN, CLIENTS,
#                                     TABLES_SMALL, TABLES_LARGE may be set)
#
# Installs what is missing (as root or with sudo), builds and installs the
# extension, then:
# Two throwaway PostgreSQL 15 servers from the same binaries and settings:
#   plain  -- no library preloaded
#   gtm    -- shared_preload_libraries = gtm_clarity, gtm.enforcement = error
# and three variants of the same schema, data and statements, all run by one
# ordinary role (neither superuser nor BYPASSRLS):
#   (1) plain PostgreSQL
#   (2) gtm_clarity enforcing
#   (3) plain PostgreSQL with row-level security policies
#       tenant_id = current_setting('app.tenant_id') on the same tables
# Workloads (pgbench, interleaved rounds, the median TPS of each):
#   point -- SELECT by (tenant_id, id), -M prepared
#   join  -- a 3-way join of one tenant, -M simple (planned every time)
# Then planning cost with 10 vs 10,000 tenant tables in the database (the
# join, -M simple, on the gtm server).  Prints the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_install_packages bc
gtm_build_install

PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BIN=$("$PG_CONFIG" --bindir)
ROUNDS=${ROUNDS:-9}
SECS=${SECONDS_PER_RUN:-6}
CLIENTS=${CLIENTS:-1}
TABLES_SMALL=${TABLES_SMALL:-10}
TABLES_LARGE=${TABLES_LARGE:-10000}
PORT_PLAIN=${PORT_PLAIN:-5591}
PORT_GTM=${PORT_GTM:-5592}

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

work=$(mktemp -d /tmp/gtm_bench.XXXXXX)
chmod 755 "$work"
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
cleanup() {
  for s in plain gtm; do
    [ -d "$work/$s" ] && as_pg "$BIN/pg_ctl" -D "$work/$s" -m immediate stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

start_server() {  # name port preload
  as_pg "$BIN/initdb" -D "$work/$1" -A trust -U postgres >/dev/null
  cat >> "$work/$1/postgresql.conf" <<CONF
port = $2
unix_socket_directories = '$work'
listen_addresses = ''
shared_buffers = 128MB
fsync = off
synchronous_commit = off
full_page_writes = off
max_locks_per_transaction = 256
jit = off
CONF
  [ -n "$3" ] && echo "shared_preload_libraries = '$3'" >> "$work/$1/postgresql.conf"
  as_pg "$BIN/pg_ctl" -D "$work/$1" -l "$work/$1.log" -w start >/dev/null
}

psql_() { "$BIN/psql" -h "$work" -U postgres -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "== servers ($("$BIN/postgres" --version))"
start_server plain "$PORT_PLAIN" ""
start_server gtm "$PORT_GTM" "gtm_clarity"

schema() {  # port db rls(0/1) gtm(0/1)
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
    psql_ -p "$1" -d "$2" <<'SQL'
ALTER TABLE deals ENABLE ROW LEVEL SECURITY;
ALTER TABLE contacts ENABLE ROW LEVEL SECURITY;
ALTER TABLE activities ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON deals USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON contacts USING (tenant_id = current_setting('app.tenant_id'));
CREATE POLICY tenant ON activities USING (tenant_id = current_setting('app.tenant_id'));
SQL
  fi
  if [ "$4" = 1 ]; then
    psql_ -p "$1" -d "$2" -c "CREATE EXTENSION gtm_clarity"
  fi
}

echo "== schema and data (100 tenants x 1000 deals)"
schema "$PORT_PLAIN" bench_plain 0 0
schema "$PORT_PLAIN" bench_rls 1 0
schema "$PORT_GTM" bench_gtm 0 1

cat > "$work/point.sql" <<'SQL'
\set t 42
\set id random(1, 1000)
SELECT * FROM deals WHERE tenant_id = :t AND id = :id;
SQL
cat > "$work/join.sql" <<'SQL'
\set id random(1, 1000)
SELECT d.id, c.email, count(a.*)
  FROM deals d
  JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
  LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id
 WHERE d.tenant_id = '42' AND d.id = :id
 GROUP BY d.id, c.email;
SQL

# sanity: the three variants give the same answer; enforcement is on
check() {  # port db
  PGOPTIONS="-c app.tenant_id=42" psql_ -p "$1" -d "$2" -U bench_app -At \
    -c "SELECT count(*) FROM deals WHERE tenant_id = '42'"
}
[ "$(check $PORT_PLAIN bench_plain)" = 1000 ] && [ "$(check $PORT_PLAIN bench_rls)" = 1000 ] \
  && [ "$(check $PORT_GTM bench_gtm)" = 1000 ] || { echo "sanity check failed"; exit 1; }
# the join must be planned the same on the plain and the gtm server
plan_of() {  # port db
  psql_ -p "$1" -d "$2" -At -c "EXPLAIN (COSTS OFF)
    SELECT d.id, c.email, count(a.*) FROM deals d
      JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
      LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id
     WHERE d.tenant_id = '42' AND d.id = 7 GROUP BY d.id, c.email"
}
for try in 1 2 3 4 5; do   # ANALYZE samples at random: retry until the plans agree
  [ "$(plan_of $PORT_PLAIN bench_plain)" = "$(plan_of $PORT_GTM bench_gtm)" ] && break
  psql_ -p "$PORT_GTM" -d bench_gtm -c "ANALYZE"
done
if [ "$(plan_of $PORT_PLAIN bench_plain)" != "$(plan_of $PORT_GTM bench_gtm)" ]; then
  echo "the join is planned differently on the two servers:"; plan_of $PORT_PLAIN bench_plain; plan_of $PORT_GTM bench_gtm
  exit 1
fi
echo "the join has the same plan on both servers: $(plan_of $PORT_GTM bench_gtm | head -1 | sed 's/^ *//')"
if PGOPTIONS="-c app.tenant_id=42" psql_ -p "$PORT_GTM" -d bench_gtm -U bench_app \
     -c "SELECT count(*) FROM deals" >/dev/null 2>&1; then
  echo "enforcement is not active on the gtm server"; exit 1
fi

tps() {  # port db script mode
  PGOPTIONS="-c app.tenant_id=42" "$BIN/pgbench" -h "$work" -p "$1" -U bench_app -n \
    -M "$4" -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" -f "$3" "$2" 2>&1 \
    | sed -n 's/^tps = \([0-9.]*\) .*/\1/p'
}
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

declare -A runs
echo "== $ROUNDS interleaved rounds of ${SECS}s, $CLIENTS clients"
for r in $(seq 1 "$ROUNDS"); do
  for w in point join; do
    mode=prepared; [ $w = join ] && mode=simple
    # rotate the order so no variant always runs first
    case $(( (r + ${#w}) % 3 )) in
      0) order="plain gtm rls";; 1) order="gtm rls plain";; *) order="rls plain gtm";;
    esac
    for v in $order; do
      case $v in
        plain) t=$(tps "$PORT_PLAIN" bench_plain "$work/$w.sql" $mode);;
        gtm)   t=$(tps "$PORT_GTM" bench_gtm "$work/$w.sql" $mode);;
        rls)   t=$(tps "$PORT_PLAIN" bench_rls "$work/$w.sql" $mode);;
      esac
      runs[$w.$v]="${runs[$w.$v]:-} $t"
    done
  done
  echo "   round $r: point plain/gtm/rls =$(for v in plain gtm rls; do echo -n " $(echo ${runs[point.$v]} | awk '{print $NF}')"; done)" \
       "  join =$(for v in plain gtm rls; do echo -n " $(echo ${runs[join.$v]} | awk '{print $NF}')"; done)"
done

# per-round ratios (each round's runs are seconds apart, so a change in the
# machine's load moves both sides of a ratio)
ratios() {  # workload a b
  paste -d' ' <(echo ${runs[$1.$2]} | tr ' ' '\n') <(echo ${runs[$1.$3]} | tr ' ' '\n') \
    | awk '{printf "%.6f\n", $1 / $2}' | median
}

echo
echo "== median TPS (higher is better) and median of the per-round ratios"
printf "%-28s %11s %11s %11s %9s %9s %14s %14s\n" workload "(1) plain" "(2) gtm" "(3) rls" \
  "(2)/(1)" "(2)/(3)" "rounds (2)/(1)" "rounds (2)/(3)"
for w in point join; do
  p=$(echo ${runs[$w.plain]} | tr ' ' '\n' | median)
  g=$(echo ${runs[$w.gtm]} | tr ' ' '\n' | median)
  l=$(echo ${runs[$w.rls]} | tr ' ' '\n' | median)
  label="point select, -M prepared"; [ $w = join ] && label="3-way join, -M simple"
  printf "%-28s %11.1f %11.1f %11.1f %9.3f %9.3f %14.3f %14.3f\n" "$label" "$p" "$g" "$l" \
    "$(echo "$g / $p" | bc -l)" "$(echo "$g / $l" | bc -l)" \
    "$(ratios $w gtm plain)" "$(ratios $w gtm rls)"
done
echo "goals: (2)/(1) >= 0.99 point, >= 0.98 join; (2)/(3) > 1 on both"

# The same two statements timed inside one backend (no client round trips,
# so less exposed to the scheduler on a busy machine): microseconds per
# statement, the join planned every time (EXECUTE), the point select from
# PL/pgSQL's cached plan.  Lower is better; the ratios are inverted so that,
# as above, > 1 means (2) is faster.
for db in "$PORT_PLAIN bench_plain" "$PORT_PLAIN bench_rls" "$PORT_GTM bench_gtm"; do
  set -- $db
  psql_ -p "$1" -d "$2" <<'SQL'
CREATE FUNCTION us_per_stmt(workload text, runs int) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE t0 timestamptz; n numeric; tid text := '42';
BEGIN
  t0 := clock_timestamp();
  FOR i IN 1..runs LOOP
    IF workload = 'point' THEN
      SELECT amount INTO n FROM deals WHERE tenant_id = tid AND id = 1 + i % 1000;
    ELSE
      EXECUTE format($q$SELECT count(*) FROM (SELECT d.id, c.email, count(a.*) FROM deals d
        JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
        LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id
       WHERE d.tenant_id = '42' AND d.id = %s GROUP BY d.id, c.email) s$q$, 1 + i % 1000) INTO n;
    END IF;
  END LOOP;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1e6 / runs;
END $f$;
SQL
done
us() {  # port db workload runs
  PGOPTIONS="-c app.tenant_id=42" psql_ -p "$1" -d "$2" -U bench_app -At -c "SELECT us_per_stmt('$3', $4)"
}
for r in $(seq 1 "$ROUNDS"); do
  for w in point join; do
    n=20000; [ $w = join ] && n=2000
    for v in plain gtm rls; do
      case $v in
        plain) t=$(us "$PORT_PLAIN" bench_plain $w $n);;
        gtm)   t=$(us "$PORT_GTM" bench_gtm $w $n);;
        rls)   t=$(us "$PORT_PLAIN" bench_rls $w $n);;
      esac
      runs[us$w.$v]="${runs[us$w.$v]:-} $t"
    done
  done
done
echo
echo "== in one backend: median microseconds per statement (lower is better)"
printf "%-28s %11s %11s %11s %9s %9s %14s %14s\n" workload "(1) plain" "(2) gtm" "(3) rls" \
  "(1)/(2)" "(3)/(2)" "rounds (1)/(2)" "rounds (3)/(2)"
for w in point join; do
  p=$(echo ${runs[us$w.plain]} | tr ' ' '\n' | median)
  g=$(echo ${runs[us$w.gtm]} | tr ' ' '\n' | median)
  l=$(echo ${runs[us$w.rls]} | tr ' ' '\n' | median)
  label="point select, cached plan"; [ $w = join ] && label="3-way join, planned each time"
  printf "%-28s %11.2f %11.2f %11.2f %9.3f %9.3f %14.3f %14.3f\n" "$label" "$p" "$g" "$l" \
    "$(echo "$p / $g" | bc -l)" "$(echo "$l / $g" | bc -l)" \
    "$(ratios us$w plain gtm)" "$(ratios us$w rls gtm)"
done

# What the check itself costs the planner: the same join planned in one
# backend of the gtm server with gtm.enforcement off and error, alternately
# (bench_app may set it: PG15 GRANT SET ON PARAMETER).
# planning_us(runs): median planning time of the join, in microseconds, from
# EXPLAIN's summary (nothing executes).  Created in each database that needs it.
add_planning_fn() {  # port db
  psql_ -p "$1" -d "$2" <<'SQL'
CREATE FUNCTION planning_us(runs int) RETURNS float8 LANGUAGE plpgsql AS $f$
DECLARE j json; t float8[] := '{}';
BEGIN
  FOR i IN 1..runs LOOP
    EXECUTE $q$EXPLAIN (SUMMARY, FORMAT JSON)
      SELECT d.id, c.email, count(a.*) FROM deals d
        JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id
        LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id
       WHERE d.tenant_id = '42' AND d.id = 7 GROUP BY d.id, c.email$q$ INTO j;
    t := t || (j->0->>'Planning Time')::float8;
  END LOOP;
  RETURN 1000 * (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(t) x);
END $f$;
SQL
}
psql_ -p "$PORT_GTM" -d bench_gtm -c "GRANT SET ON PARAMETER gtm.enforcement TO bench_app"
add_planning_fn "$PORT_GTM" bench_gtm
for r in $(seq 1 "$ROUNDS"); do
  for mode in off error; do
    runs[ab.$mode]="${runs[ab.$mode]:-} $(psql_ -p "$PORT_GTM" -d bench_gtm -U bench_app -At \
      -c "SET gtm.enforcement = $mode" -c "SELECT planning_us(1000)")"
  done
done
o=$(echo ${runs[ab.off]} | tr ' ' '\n' | median)
e=$(echo ${runs[ab.error]} | tr ' ' '\n' | median)
echo
echo "== the check's own planning cost (gtm server, one backend, median of 1000 plannings x $ROUNDS rounds)"
printf "%-44s %12.1f\n" "join planning us, gtm.enforcement = off" "$o"
printf "%-44s %12.1f\n" "join planning us, gtm.enforcement = error" "$e"
printf "%-44s %12.3f\n" "ratio off / error" "$(echo "$o / $e" | bc -l)"
printf "%-44s %12.3f\n" "median of per-round ratios" "$(ratios ab off error)"

echo
echo "== planning cost: $TABLES_SMALL vs $TABLES_LARGE tenant tables in the database (gtm server)"
for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
  schema "$PORT_GTM" "bench_tables_$n" 0 1
  psql_ -p "$PORT_GTM" -d "bench_tables_$n" <<SQL
DO \$\$ BEGIN
  FOR i IN 1..$n LOOP
    EXECUTE format('CREATE TABLE extra_%s (tenant_id text NOT NULL, id int, PRIMARY KEY (tenant_id, id))', i);
    IF i % 500 = 0 THEN COMMIT; END IF;
  END LOOP;
END \$\$;
SQL
done
for r in $(seq 1 "$ROUNDS"); do
  for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
    runs[plan.$n]="${runs[plan.$n]:-} $(tps "$PORT_GTM" "bench_tables_$n" "$work/join.sql" simple)"
  done
done
s=$(echo ${runs[plan.$TABLES_SMALL]} | tr ' ' '\n' | median)
l=$(echo ${runs[plan.$TABLES_LARGE]} | tr ' ' '\n' | median)
printf "%-44s %12.1f\n" "join -M simple TPS, $TABLES_SMALL tenant tables" "$s"
printf "%-44s %12.1f\n" "join -M simple TPS, $TABLES_LARGE tenant tables" "$l"
printf "%-44s %12.3f\n" "ratio ($TABLES_LARGE / $TABLES_SMALL)" "$(echo "$l / $s" | bc -l)"
printf "%-44s %12.3f\n" "median of per-round ratios" "$(ratios plan $TABLES_LARGE $TABLES_SMALL)"
# planning time itself, from EXPLAIN's summary: median of 500 plannings
for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
  add_planning_fn "$PORT_GTM" "bench_tables_$n"
done
for r in $(seq 1 "$ROUNDS"); do
  for n in "$TABLES_SMALL" "$TABLES_LARGE"; do
    runs[ms.$n]="${runs[ms.$n]:-} $(psql_ -p "$PORT_GTM" -d "bench_tables_$n" -U bench_app -At -c 'SELECT planning_us(500) / 1000')"
  done
done
s=$(echo ${runs[ms.$TABLES_SMALL]} | tr ' ' '\n' | median)
l=$(echo ${runs[ms.$TABLES_LARGE]} | tr ' ' '\n' | median)
printf "%-44s %12.4f\n" "join planning time ms, $TABLES_SMALL tenant tables" "$s"
printf "%-44s %12.4f\n" "join planning time ms, $TABLES_LARGE tenant tables" "$l"
printf "%-44s %12.3f\n" "ratio ($TABLES_LARGE / $TABLES_SMALL)" "$(echo "$l / $s" | bc -l)"
