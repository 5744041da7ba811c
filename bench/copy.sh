#!/usr/bin/env bash
# bench/copy.sh -- bulk import into a tenant table: COPY FROM with every row
# checked against the session tenant, against plain COPY and against the
# staging-table workaround (issue 11, item 4).
#
#   bash bench/copy.sh        (ROWS, ROUNDS may be set)
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway PostgreSQL 15 server that preloads it (pg_virtualenv).
#
# One table, accounts (tenant_id text NOT NULL DEFAULT gtm_current_tenant(),
# id, name, amount, created_at; primary key (tenant_id, id)), emptied before
# every run.  One server file of ROWS rows of one tenant (tenant_id, id,
# name, amount), read by three variants, in a new random order in every one
# of ROUNDS rounds (the machine's speed drifts; each round compares the
# three on the same machine):
#   plain    -- COPY accounts FROM the file by a BYPASSRLS role: exempt, so
#               nothing is checked (PostgreSQL's own COPY on the same table);
#   checked  -- the same COPY by an ordinary role after gtm_set_tenant():
#               every row's tenant_id checked (src/enforce_copy.c);
#   staging  -- the workaround before this: the ordinary role COPYs the file
#               into a temporary table without a tenant column, then
#               INSERT INTO accounts SELECT gtm_current_tenant(), ... FROM it.
# Each run's time is measured inside the server (clock_timestamp() around
# the statements, in a DO block).  Printed: rows per second of each variant
# (median over the rounds) and, for the per-round ratios checked/plain (goal
# >= 0.95), checked/staging and staging/plain, their median and quartiles.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/copy.sh "" "$@"
gtm_bench_db gtm_bench_copy
# the roles of an earlier run (its database is gone)
psql -X -q -d postgres -c "DROP ROLE IF EXISTS bench_copy_app" -c "DROP ROLE IF EXISTS bench_copy_bypass"
ROWS=${ROWS:-200000}
ROUNDS=${ROUNDS:-11}
file=$(psql_db -At -c "SHOW data_directory")/gtm_bench_copy.txt

psql_db -v rows="$ROWS" -v file="$file" <<'SQL'
CREATE EXTENSION gtm_clarity;
CREATE ROLE bench_copy_app;
CREATE ROLE bench_copy_bypass BYPASSRLS;
GRANT pg_read_server_files TO bench_copy_app, bench_copy_bypass;
GRANT USAGE ON SCHEMA public TO bench_copy_app, bench_copy_bypass;
SELECT count(*) FROM gtm_provision_tenant('org_copybench', 'Copy Bench') \g /dev/null
GRANT SELECT (id) ON tenants TO bench_copy_app;
CREATE TABLE accounts (
	tenant_id text NOT NULL DEFAULT gtm_current_tenant(),
	id bigint NOT NULL,
	name text,
	amount int,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (tenant_id, id));
GRANT SELECT, INSERT ON accounts TO bench_copy_app, bench_copy_bypass;
COPY (SELECT (SELECT id FROM tenants WHERE clerk_org_id = 'org_copybench'),
             g, 'account ' || g, g % 1000
        FROM generate_series(1, :rows) g) TO :'file';
CREATE TABLE timings (round int, variant text, seconds float8);
GRANT INSERT ON timings TO bench_copy_app, bench_copy_bypass;
SQL
tenant=$(psql_db -At -c "SELECT id FROM tenants WHERE clerk_org_id = 'org_copybench'")
echo "== $ROWS rows per COPY, $ROUNDS rounds ($(psql_db -At -c 'SELECT version()' | cut -d' ' -f1-2))"

run() {  # round variant
  local body
  case $2 in
    plain) body="SET ROLE bench_copy_bypass;
      DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
        COPY accounts (tenant_id, id, name, amount) FROM '$file';
        INSERT INTO timings VALUES ($1, 'plain', extract(epoch FROM clock_timestamp() - t0)); END \$\$;";;
    checked) body="SET gtm.allow_session_tenant = on; SET ROLE bench_copy_app; SELECT gtm_set_tenant('$tenant', false) \\g /dev/null
      DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
        COPY accounts (tenant_id, id, name, amount) FROM '$file';
        INSERT INTO timings VALUES ($1, 'checked', extract(epoch FROM clock_timestamp() - t0)); END \$\$;";;
    staging) body="SET gtm.allow_session_tenant = on; SET ROLE bench_copy_app; SELECT gtm_set_tenant('$tenant', false) \\g /dev/null
      DO \$\$ DECLARE t0 timestamptz := clock_timestamp(); BEGIN
        CREATE TEMP TABLE stage (tid text, id bigint, name text, amount int) ON COMMIT DROP;
        COPY stage FROM '$file';
        INSERT INTO accounts (tenant_id, id, name, amount)
          SELECT gtm_current_tenant(), id, name, amount FROM stage;
        INSERT INTO timings VALUES ($1, 'staging', extract(epoch FROM clock_timestamp() - t0)); END \$\$;";;
  esac
  psql_db -c "TRUNCATE accounts" -c "CHECKPOINT" >/dev/null
  psql_db <<<"$body" >/dev/null
  [ "$(psql_db -At -c "SELECT count(*) FROM accounts WHERE tenant_id = '$tenant'")" = "$ROWS" ] ||
    { echo "variant $2 did not load $ROWS rows"; exit 1; }
}

# one warm-up run of each, not counted
for v in plain checked staging; do run 0 "$v"; done
for r in $(seq 1 "$ROUNDS"); do
  for v in $(printf '%s\n' plain checked staging | shuf); do run "$r" "$v"; done
done

psql_db -v rows="$ROWS" <<'SQL'
\pset footer off
SELECT variant,
       round((:rows / percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds))::numeric) AS rows_per_s_median
  FROM timings WHERE round > 0 GROUP BY variant ORDER BY variant;
WITH r AS (
  SELECT round,
         max(seconds) FILTER (WHERE variant = 'plain') AS plain,
         max(seconds) FILTER (WHERE variant = 'checked') AS checked,
         max(seconds) FILTER (WHERE variant = 'staging') AS staging
    FROM timings WHERE round > 0 GROUP BY round),
ratios AS (
  SELECT 'checked/plain' AS ratio, plain / checked AS v FROM r
  UNION ALL SELECT 'checked/staging', staging / checked FROM r
  UNION ALL SELECT 'staging/plain', plain / staging FROM r)
SELECT ratio AS "rows/s ratio",
       round(percentile_cont(0.5) WITHIN GROUP (ORDER BY v)::numeric, 3) AS median_of_rounds,
       round(percentile_cont(0.25) WITHIN GROUP (ORDER BY v)::numeric, 3) AS p25,
       round(percentile_cont(0.75) WITHIN GROUP (ORDER BY v)::numeric, 3) AS p75
  FROM ratios GROUP BY ratio ORDER BY ratio;
SQL
rm -f "$file"
