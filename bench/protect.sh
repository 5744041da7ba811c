#!/usr/bin/env bash
# bench/protect.sh -- what gtm_protect_table() costs a statement (issue 8,
# statistics): row-level security enabled and forced with one policy
# USING (true), so that pg_stats and key details show nothing of other
# tenants to ordinary roles.
#
#   bash bench/protect.sh      (ROUNDS, SECONDS_PER_RUN, CLIENTS may be set)
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv).  One database, two
# tables with the same definition, rows and statistics: deals_plain and
# deals_protected (gtm_protect_table).  One ordinary role runs, in one
# pgbench run, two scripts of equal weight picked at random transaction by
# transaction -- the same statement on either table -- so both share the
# same backends, moment and machine speed; pgbench -r reports each
# statement's average latency, and the ratio protected / plain is printed
# per round with its median.  Two workloads: a point select by (tenant_id,
# id) prepared once (-M prepared: the policy is applied when the plan is
# made, then only executed), and a 2-way join sent as text (-M simple: parsed,
# rewritten with the policy and planned every time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/protect.sh "" "$@"
gtm_bench_db gtm_bench_protect

ROUNDS=${ROUNDS:-6}
SECS=${SECONDS_PER_RUN:-5}
CLIENTS=${CLIENTS:-2}
psql_db <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
DROP ROLE IF EXISTS bench_protect_app;
CREATE ROLE bench_protect_app LOGIN PASSWORD 'bench';
SQL
for t in plain protected; do
  psql_db <<SQL
CREATE TABLE deals_$t (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int,
                       PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts_$t (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                          PRIMARY KEY (tenant_id, id));
INSERT INTO deals_$t SELECT t::text, d, 'open', d FROM generate_series(1, 50) t, generate_series(1, 1000) d;
INSERT INTO contacts_$t SELECT tenant_id, id, id, 'c' || id || '@x' FROM deals_$t;
GRANT SELECT ON deals_$t, contacts_$t TO bench_protect_app;
SQL
done
psql_db -c "SELECT gtm_protect_table('deals_protected'), gtm_protect_table('contacts_protected')" >/dev/null
psql_db -c "VACUUM ANALYZE"
trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" -c "DROP ROLE IF EXISTS bench_protect_app" >/dev/null 2>&1 || true' EXIT

work=$(mktemp -d)
for t in plain protected; do
  cat > "$work/point_$t.sql" <<SQL
\set t random(1, 50)
\set i random(1, 1000)
SELECT stage, amount FROM deals_$t WHERE tenant_id = :t::text AND id = :i;
SQL
  cat > "$work/join_$t.sql" <<SQL
\set t random(1, 50)
\set i random(1, 990)
SELECT d.id, c.email FROM deals_$t d JOIN contacts_$t c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id WHERE d.tenant_id = :t::text AND d.id BETWEEN :i AND :i + 9;
SQL
done

# the same plans on both tables, as the ordinary role
plans=$(PGPASSWORD=bench psql -X -At -h localhost -U bench_protect_app -d "$db" \
  -c "EXPLAIN (COSTS OFF) SELECT d.id, c.email FROM deals_plain d JOIN contacts_plain c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id WHERE d.tenant_id = '7' AND d.id BETWEEN 5 AND 14" \
  -c "EXPLAIN (COSTS OFF) SELECT d.id, c.email FROM deals_protected d JOIN contacts_protected c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id WHERE d.tenant_id = '7' AND d.id BETWEEN 5 AND 14")
half=$(( $(wc -l <<<"$plans") / 2 ))
if [ "$(head -n "$half" <<<"$plans" | sed 's/_plain/_X/g')" = "$(tail -n "$half" <<<"$plans" | sed 's/_protected/_X/g')" ]; then
  echo "the join has the same plan on both tables: $(head -n "$half" <<<"$plans" | tr -s ' ' | tr '\n' ' ' | cut -c1-120)..."
else
  echo "PLANS DIFFER:"; echo "$plans"
fi

# latency of the one SELECT of script N in pgbench -r output
latency() {  # output N
  awk -v n="$2" '/^SQL script /{s++} s==n && /^ +[0-9.]+ +[0-9.]* *SELECT/{print $1; exit}' <<<"$1"
}
median() { sort -g | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else printf "%.4f\n", (a[NR/2]+a[NR/2+1])/2}'; }

echo "== $ROUNDS rounds of ${SECS}s per workload, $CLIENTS clients; protected / plain statement latency"
: > "$work/point.ratios"; : > "$work/join.ratios"
for r in $(seq 1 "$ROUNDS"); do
  line="   round $r:"
  for w in point join; do
    mode=prepared; [ "$w" = join ] && mode=simple
    out=$(PGPASSWORD=bench pgbench -n -h localhost -U bench_protect_app -M "$mode" -r \
            -c "$CLIENTS" -j "$CLIENTS" -T "$SECS" \
            -f "$work/${w}_plain.sql@1" -f "$work/${w}_protected.sql@1" "$db" 2>&1)
    a=$(latency "$out" 1); b=$(latency "$out" 2)
    ratio=$(awk -v a="$a" -v b="$b" 'BEGIN {printf "%.4f", b / a}')
    echo "$ratio" >> "$work/$w.ratios"
    line="$line $w ${a}ms ${b}ms ratio $ratio"
  done
  echo "$line"
done
echo "median latency ratio protected / plain: point (-M prepared) $(median < "$work/point.ratios"), join (-M simple) $(median < "$work/join.ratios")"
rm -rf "$work"
