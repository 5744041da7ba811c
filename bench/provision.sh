#!/usr/bin/env bash
# bench/provision.sh -- sign-in throughput, side by side in one run.
#
#   bash bench/provision.sh [seconds-per-run] [rounds]
#
# Installs what is missing, builds and installs gtm_clarity, starts a throwaway
# server with it preloaded (pg_virtualenv) and runs pgbench with 16 clients,
# -M prepared, on three workloads, interleaved
# round by round, reporting the median TPS of each (autovacuum is off; each
# round ends with VACUUM and CHECKPOINT so that (a)'s inserts do not tax the
# next round's reads):
#   (a) first sign-ins of distinct new organizations (creates tenant + member)
#   (b) repeat sign-ins of existing organizations (must not write or lock)
#   (c) the floor: SELECT * FROM tenants WHERE clerk_org_id = $1
# Goal: (b) >= 0.8 x (c).
# First, a correctness burst: 16 clients sign users in to 20 brand-new
# organizations at once (random choice, so each organization's first
# sign-ins race); it must give 20 tenants, exactly one admin each, one
# membership per user, and no error.
set -euo pipefail
secs=${1:-5}
rounds=${2:-5}

cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_bench_reexec bench/provision.sh "-o max_connections=50 -o autovacuum=off" "$@"

work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
# (a) runs in a database of its own, so that the tenants it creates do not
# change the tables that (b) and (c) read from round to round.
createdb bench_new
psql -X -q -v ON_ERROR_STOP=1 -d bench_new -c "CREATE EXTENSION gtm_clarity" -c "CREATE SEQUENCE bench_new_org"
psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION gtm_clarity;
-- 10,000 existing organizations with one member each
SELECT count(*) FROM (SELECT gtm_sign_in('org_b' || i, 'user_' || i, 'Existing Org ' || i)
                      FROM generate_series(1, 10000) i) s;
VACUUM ANALYZE tenants, tenant_members;
SQL

cat > "$work/a.sql" <<'SQL'
\set u random(1, 1000000)
SELECT * FROM gtm_sign_in('org_a' || nextval('bench_new_org'), 'user_' || :u, 'New Org ' || currval('bench_new_org'));
SQL
cat > "$work/b.sql" <<'SQL'
\set r random(1, 10000)
SELECT * FROM gtm_sign_in('org_b' || :r, 'user_' || :r, 'Existing Org ' || :r);
SQL
cat > "$work/c.sql" <<'SQL'
\set r random(1, 10000)
SELECT * FROM tenants WHERE clerk_org_id = 'org_b' || :r;
SQL

cat > "$work/burst.sql" <<'SQL'
\set o random(1, 20)
\set u random(1, 1000000000)
SELECT * FROM gtm_sign_in('org_burst' || :o, 'user_' || :u, 'Burst Org');
SQL
burst=$(pgbench -n -M prepared -c 16 -j 2 -t 40 -f "$work/burst.sql" 2>&1)
echo "burst: 16 clients x 40 first/repeat sign-ins over 20 new organizations"
echo "$burst" | grep -E "processed|failed|aborted" | sed 's/^/  pgbench: /'
psql -X -At -F ' ' -c "
  SELECT 'tenants: ' || count(DISTINCT t.id) || ', members: ' || count(m.*) ||
         ', tenants with exactly one admin: ' ||
         count(DISTINCT t.id) FILTER (WHERE (SELECT count(*) FROM tenant_members a
                                             WHERE a.tenant_id = t.id AND a.role = 'admin') = 1) ||
         ', distinct slugs: ' || count(DISTINCT t.slug)
  FROM tenants t JOIN tenant_members m ON m.tenant_id = t.id
  WHERE t.clerk_org_id LIKE 'org_burst%'" | sed 's/^/  /'
echo

tps() { pgbench -n -M prepared -c 16 -j 2 -T "$secs" -f "$work/$1.sql" ${2:-} 2>&1 |
        sed -n 's/^tps = \([0-9.]*\) .*/\1/p'; }
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
writes() { psql -X -At -c "SELECT n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_xact_user_tables WHERE false
                           UNION ALL SELECT sum(n_tup_ins + n_tup_upd + n_tup_del + n_tup_hot_upd)::bigint
                           FROM pg_stat_user_tables WHERE relname IN ('tenants', 'tenant_members')"; }

echo "pgbench: 16 clients, -M prepared, ${secs}s per run, ${rounds} interleaved rounds"
: > "$work/a.tps"; : > "$work/b.tps"; : > "$work/c.tps"; : > "$work/bc.ratio"; wb=0
for r in $(seq 1 "$rounds"); do
  # (b) and (c) take turns going first; (a) goes last and is cleaned up
  # after (VACUUM, CHECKPOINT), so its inserts do not tax the next reads.
  if [ $((r % 2)) -eq 1 ]; then
    w0=$(writes); tb=$(tps b); sleep 1; w1=$(writes); tc=$(tps c)
  else
    tc=$(tps c); w0=$(writes); tb=$(tps b); sleep 1; w1=$(writes)
  fi
  wb=$((wb + w1 - w0))
  ta=$(tps a bench_new)
  psql -X -q -d bench_new -c "VACUUM ANALYZE tenants, tenant_members" -c "CHECKPOINT"
  echo "$ta" >> "$work/a.tps"; echo "$tb" >> "$work/b.tps"; echo "$tc" >> "$work/c.tps"
  awk -v a="$tb" -v b="$tc" 'BEGIN{print a/b}' >> "$work/bc.ratio"
  printf 'round %d: (a) %10.0f  (b) %10.0f  (c) %10.0f tps   (b)/(c) %.3f\n' "$r" "$ta" "$tb" "$tc" \
    "$(awk -v a="$tb" -v b="$tc" 'BEGIN{print a/b}')"
done
ma=$(median < "$work/a.tps"); mb=$(median < "$work/b.tps"); mc=$(median < "$work/c.tps")
echo
printf '%-52s %10.0f tps\n' "(a) first sign-in, distinct new organizations" "$ma"
printf '%-52s %10.0f tps\n' "(b) repeat sign-in, existing organizations" "$mb"
printf '%-52s %10.0f tps\n' "(c) floor: SELECT ... WHERE clerk_org_id = \$1" "$mc"
printf 'ratio (b)/(c) = %.3f   median of the per-round ratios (b and c measured side by side; goal >= 0.8)\n' "$(median < "$work/bc.ratio")"
printf 'ratio (b)/(c) = %.3f   ratio of the medians\n' "$(awk -v a="$mb" -v b="$mc" 'BEGIN{print a/b}')"
printf 'ratio (a)/(c) = %.3f\n' "$(awk -v a="$ma" -v b="$mc" 'BEGIN{print a/b}')"
echo "rows written to tenants/tenant_members during all (b) runs: $wb"
psql -X -At -d bench_new -c "SELECT '(a) created ' || count(*) || ' tenants, distinct slugs: ' || count(DISTINCT slug) FROM tenants"
