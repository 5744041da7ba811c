#!/usr/bin/env bash
# bench/statements.sh -- memory and time of enforcement over many distinct
# statements, in one backend.
#
#   bash bench/statements.sh [statements] [block]
#
# Installs what is missing, builds and installs gtm_clarity, starts a
# throwaway server with it preloaded (pg_virtualenv), and runs, as an
# ordinary role in one backend, N distinct statements (default 100,000)
# whose pins mix a parameter and a constant (the shape that needs a check
# when the statement starts), then the same number pinned by one constant.
# After each block of statements (default 10,000) it prints the block's
# time and the backend's memory: the sum of pg_backend_memory_contexts
# (bytes PostgreSQL has allocated) and VmRSS of the process.  Goal: memory
# flat and time per block the same from the first block to the last (the
# ratios last / first are printed; noise on this machine is a few %).
set -euo pipefail
n=${1:-100000}
block=${2:-10000}

cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_bench_reexec bench/statements.sh "-o autovacuum=off" "$@"

psql -X -q -v ON_ERROR_STOP=1 <<'SQL'
CREATE EXTENSION IF NOT EXISTS gtm_clarity;
CREATE ROLE bench_stmt;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, PRIMARY KEY (tenant_id, id));
INSERT INTO deals SELECT 't' || t, d, 'open' FROM generate_series(1, 10) t, generate_series(1, 100) d;
INSERT INTO contacts SELECT tenant_id, id, id FROM deals;
GRANT SELECT ON deals, contacts TO bench_stmt;
GRANT SELECT ON pg_backend_memory_contexts TO bench_stmt;
GRANT EXECUTE ON FUNCTION pg_get_backend_memory_contexts() TO bench_stmt;
GRANT EXECUTE ON FUNCTION pg_read_file(text) TO bench_stmt;
GRANT pg_read_server_files TO bench_stmt;
VACUUM ANALYZE;
SQL

# One backend: blocks of distinct statements (a literal makes each one new),
# memory read after each block from the backend itself.
psql -X -q -At -F ' ' -v ON_ERROR_STOP=1 <<SQL
SET ROLE bench_stmt;
CREATE TEMP TABLE res (shape text, blk int, ms float8, alloc_kb bigint, rss_kb bigint);
DO \$\$
DECLARE
  t0 timestamptz; c bigint; shape text;
BEGIN
  FOREACH shape IN ARRAY ARRAY['param+const', 'const'] LOOP
    FOR b IN 1..($n / $block) LOOP
      t0 := clock_timestamp();
      FOR i IN 1..$block LOOP
        IF shape = 'param+const' THEN
          EXECUTE format('SELECT count(*) FROM deals d JOIN contacts c ON c.deal_id = d.id'
                         ' AND c.tenant_id = \$1 WHERE d.tenant_id = %L AND d.id <> %s', 't3', b * $block + i)
            INTO c USING 't3';
        ELSE
          EXECUTE format('SELECT count(*) FROM deals d WHERE d.tenant_id = %L AND d.id <> %s', 't3', b * $block + i)
            INTO c;
        END IF;
      END LOOP;
      INSERT INTO res VALUES (shape, b,
        1000 * extract(epoch FROM clock_timestamp() - t0),
        (SELECT sum(total_bytes) / 1024 FROM pg_backend_memory_contexts),
        (SELECT substring(pg_read_file('/proc/' || pg_backend_pid() || '/status')
                          FROM 'VmRSS:\s+(\d+)')::bigint));
    END LOOP;
  END LOOP;
END \$\$;
\echo shape        block  ms/block  palloc_kB  VmRSS_kB
SELECT rpad(shape, 12), lpad(blk::text, 5), lpad(round(ms)::text, 9), lpad(alloc_kb::text, 10), lpad(rss_kb::text, 9)
  FROM res ORDER BY shape DESC, blk;
\echo
\echo last block / first block, per shape (time; PostgreSQL-allocated memory; RSS)
SELECT rpad(shape, 12),
       round(((SELECT ms FROM res r2 WHERE r2.shape = r.shape ORDER BY blk DESC LIMIT 1) /
              (SELECT ms FROM res r2 WHERE r2.shape = r.shape ORDER BY blk LIMIT 1))::numeric, 3) AS time_ratio,
       round((SELECT alloc_kb FROM res r2 WHERE r2.shape = r.shape ORDER BY blk DESC LIMIT 1)::numeric /
             (SELECT alloc_kb FROM res r2 WHERE r2.shape = r.shape ORDER BY blk LIMIT 1), 3) AS alloc_ratio,
       round((SELECT rss_kb FROM res r2 WHERE r2.shape = r.shape ORDER BY blk DESC LIMIT 1)::numeric /
             (SELECT rss_kb FROM res r2 WHERE r2.shape = r.shape ORDER BY blk LIMIT 1), 3) AS rss_ratio
  FROM (SELECT DISTINCT shape FROM res) r ORDER BY shape DESC;
SQL
