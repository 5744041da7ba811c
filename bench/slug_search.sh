#!/usr/bin/env bash
# bench/slug_search.sh -- a first sign-in against the number of tenants that
# already share its name (issue 17, item 2: the free-slug search).
#
#   bash bench/slug_search.sh [rounds]
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.
#
# One database holds three names side by side, each with its tenants
# already there (slugs "base", "base-2", ..., "base-n"):
#     "Slug Ten"     10,000 tenants
#     "Slug Forty"   40,000 tenants
#     "Slug OneSixty" 160,000 tenants
# and "Slug Fresh <k>", a name no tenant has (the floor: the base is free).
# Each round signs in 20 new organizations of each name, in a new random order
# of the names, one transaction per batch, in one session, and records the
# milliseconds per sign-in and the index scans of tenants_slug_key per
# sign-in.  Printed: the per-round times, then per name the median, its ratio
# to the floor and to "Slug Ten" (flat means ratios near 1 while n grows
# 16-fold), and the index scans (the search makes at most 2*log2(n) + 2
# probes, plus 1 for the INSERT's uniqueness check).
#
# Memory: for each name, a new backend signs in two organizations to warm up,
# resets its peak resident size (writing 5 to /proc/self/clear_refs), signs
# in one more and reads VmHWM and VmRSS from /proc/self/status: the growth of
# the peak during that one sign-in.  The old search read all n slugs into
# SPI memory; this one allocates the same few kB whatever n is.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/slug_search.sh "-o autovacuum=off" "$@"
rounds=${1:-9}
gtm_bench_db gtm_bench_slug

echo "== loading 210,000 tenants (10,000 + 40,000 + 160,000 of three names)"
psql_db <<'SQL'
CREATE EXTENSION gtm_clarity;
CREATE TABLE bench_names (name text PRIMARY KEY, n int, base text);
INSERT INTO bench_names VALUES ('Slug Ten', 10000, 'slug-ten'), ('Slug Forty', 40000, 'slug-forty'),
	('Slug OneSixty', 160000, 'slug-onesixty');
INSERT INTO tenants (clerk_org_id, name, slug)
SELECT 'org_' || replace(b.base, '-', '') || 'x' || i, b.name,
       CASE WHEN i = 1 THEN b.base ELSE b.base || '-' || i END
FROM bench_names b, generate_series(1, b.n) i;
VACUUM ANALYZE tenants;
CREATE SEQUENCE bench_org;
-- k sign-ins of new organizations named name: ms and slug index scans per sign-in
CREATE FUNCTION bench_sign_ins(name text, k int, OUT ms float8, OUT scans float8)
LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	s0 bigint := pg_stat_get_xact_numscans('tenants_slug_key'::regclass);
BEGIN
	t0 := clock_timestamp();
	FOR i IN 1..k LOOP
		PERFORM gtm_sign_in('org_new' || nextval('bench_org'), 'user_1',
							CASE WHEN name = 'Slug Fresh' THEN 'Slug Fresh ' || currval('bench_org') ELSE name END);
	END LOOP;
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000 / k;
	scans := (pg_stat_get_xact_numscans('tenants_slug_key'::regclass) - s0)::float8 / k;
END $$;
CREATE TABLE bench_times (round int, name text, ms float8, scans float8);
SQL

echo "== time: $rounds rounds x 20 sign-ins per name, names in a new random order each round"
for r in $(seq 1 "$rounds"); do
	for name in $(printf '%s\n' "Slug_Fresh" "Slug_Ten" "Slug_Forty" "Slug_OneSixty" | shuf); do
		psql_db -c "INSERT INTO bench_times SELECT $r, '${name/_/ }', ms, scans FROM bench_sign_ins('${name/_/ }', 20)"
	done
	psql_db -At -c "SELECT 'round $r: ' || string_agg(format('%s %s ms', name, to_char(ms, 'FM990.000')), '  ' ORDER BY name)
	                FROM bench_times WHERE round = $r"
done
psql_db -At <<'SQL'
WITH per AS (
	SELECT name, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms, avg(scans) AS scans
	FROM bench_times GROUP BY name),
floor AS (SELECT ms FROM per WHERE name = 'Slug Fresh'),
ten AS (SELECT ms FROM per WHERE name = 'Slug Ten')
SELECT format('%-15s %9s %10s ms %9s %10s %14s', 'name', 'tenants', 'median', 'x floor', 'x 10,000', 'scans/sign-in')
UNION ALL
SELECT * FROM (
	SELECT format('%-15s %9s %10s ms %9s %10s %14s', p.name, coalesce(b.n, 0),
				  to_char(p.ms, 'FM990.000'), to_char(p.ms / f.ms, 'FM990.00'),
				  CASE WHEN b.n IS NULL THEN '-' ELSE to_char(p.ms / t.ms, 'FM990.00') END,
				  to_char(p.scans, 'FM990.0'))
	FROM per p LEFT JOIN bench_names b USING (name), floor f, ten t
	ORDER BY coalesce(b.n, 0)) s;
SELECT format('median of the per-round ratios %s / Slug Ten: %s', x.name,
			  to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY x.ms / y.ms), 'FM990.00'))
FROM bench_times x JOIN bench_times y ON y.round = x.round AND y.name = 'Slug Ten'
WHERE x.name IN ('Slug Forty', 'Slug OneSixty')
GROUP BY x.name ORDER BY x.name DESC;
SQL

echo "== memory: peak growth of a fresh backend during one first sign-in"
for name in "Slug Ten" "Slug Forty" "Slug OneSixty"; do
	psql_db -At <<SQL
CREATE TEMP TABLE m (k text, v bigint);
CREATE FUNCTION pg_temp.status(field text) RETURNS bigint LANGUAGE sql AS
	\$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+)'))[1]::bigint \$\$;
SELECT count(*) FROM (SELECT bench_sign_ins('$name', 2)) s \g /dev/null
INSERT INTO m VALUES ('ctx_before', (SELECT sum(total_bytes) FROM pg_backend_memory_contexts));
COPY (SELECT 5) TO '/proc/self/clear_refs';
INSERT INTO m VALUES ('rss_before', pg_temp.status('VmRSS'));
SELECT count(*) FROM (SELECT bench_sign_ins('$name', 1)) s \g /dev/null
INSERT INTO m VALUES ('hwm_after', pg_temp.status('VmHWM'));
INSERT INTO m VALUES ('ctx_after', (SELECT sum(total_bytes) FROM pg_backend_memory_contexts));
SELECT format('%-15s %7s tenants: peak resident size grew %5s kB during the sign-in; memory contexts %7s bytes before, %7s after',
			  '$name', (SELECT n FROM bench_names WHERE name = '$name'),
			  (SELECT v FROM m WHERE k = 'hwm_after') - (SELECT v FROM m WHERE k = 'rss_before'),
			  (SELECT v FROM m WHERE k = 'ctx_before'), (SELECT v FROM m WHERE k = 'ctx_after'));
SQL
done
