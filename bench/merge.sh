#!/usr/bin/env bash
# bench/merge.sh -- gtm_jsonb_merge against the alternatives, side by side.
#
#   bash bench/merge.sh [rounds]
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.  Creates (and drops) the database gtm_bench_merge, loads 20,000 realistic
# pairs (bench/merge_reference.sql), checks that gtm_jsonb_merge agrees with
# the SQL and PL/pgSQL references on every pair, then times, in one session,
# interleaved, best of N rounds:
#     SELECT sum(pg_column_size(<expr>)) FROM bench_pairs
# for  a || b  (shallow, the floor), the SQL reference, the PL/pgSQL
# reference and gtm_jsonb_merge(a, b), plus the scan alone.  Prints times
# and ratios to ||; the goal is gtm_jsonb_merge <= 1.5x ||.
#
# Then the memory check: 1,000,000 pairs merged in one statement while the
# backend's private memory (RssAnon in /proc/<pid>/status, which excludes
# shared buffers) is sampled every 0.1 s; flat means the 1,000,000-pair
# peak equals the 100,000-pair peak.  Needs the server on this machine.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/merge.sh "" "$@"
rounds=${1:-7}
gtm_bench_db gtm_bench_merge
psql_db -c "CREATE EXTENSION gtm_clarity" -f "$here/merge_reference.sql" >/dev/null

echo "== pairs"
psql_db -At -F ' ' -c "
	SELECT count(*) || ' pairs; base ' || round(avg((SELECT count(*) FROM jsonb_object_keys(a)))) ||
	       ' top-level keys, ' || round(avg(pg_column_size(a))) || ' bytes; patch ' ||
	       min((SELECT count(*) FROM jsonb_object_keys(b))) || '-' ||
	       max((SELECT count(*) FROM jsonb_object_keys(b))) || ' keys, ' ||
	       round(avg(pg_column_size(b))) || ' bytes; ' ||
	       count(*) FILTER (WHERE b::text LIKE '%null%') || ' patches with nulls, ' ||
	       count(*) FILTER (WHERE b::text ~ ': \{') || ' with nested objects'
	FROM bench_pairs"

echo "== agreement (must be 0 and 0)"
bad=$(psql_db -At -F ' ' -c "
	SELECT count(*) FILTER (WHERE gtm_jsonb_merge(a, b) IS DISTINCT FROM bench_merge_sql(a, b)),
	       count(*) FILTER (WHERE gtm_jsonb_merge(a, b) IS DISTINCT FROM bench_merge_plpgsql(a, b))
	FROM bench_pairs")
echo "pairs where gtm_jsonb_merge differs from SQL reference, PL/pgSQL reference: $bad"
if [ "$bad" != "0 0" ]; then echo "DISAGREEMENT: no timings"; exit 1; fi

echo "== time (best of $rounds rounds for the C functions, 2 for the references; same session, interleaved)"
psql_db -At -F ' ' <<SQL
CREATE TEMP TABLE timing (method text, ms float8);
CREATE FUNCTION pg_temp.time_it(expr text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz; dummy bigint;
BEGIN
	t0 := clock_timestamp();
	EXECUTE 'SELECT sum(pg_column_size(' || expr || ')) FROM bench_pairs' INTO dummy;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SELECT sum(pg_column_size(a) + pg_column_size(b)) FROM bench_pairs \g /dev/null
DO \$\$
DECLARE
	m record;
BEGIN
	FOR r IN 1..$rounds LOOP
		FOR m IN SELECT * FROM (VALUES
				('scan only (no merge)', 'a) + pg_column_size(b', 1),
				('a || b', 'a || b', 1),
				('gtm_jsonb_merge(a, b)', 'gtm_jsonb_merge(a, b)', 1),
				('SQL recursive reference', 'bench_merge_sql(a, b)', 2),
				('PL/pgSQL reference', 'bench_merge_plpgsql(a, b)', 2)) v(name, expr, kind)
		LOOP
			IF m.kind = 1 OR r <= 2 THEN
				INSERT INTO timing VALUES (m.name, pg_temp.time_it(m.expr));
			END IF;
		END LOOP;
	END LOOP;
END \$\$;
WITH best AS (SELECT method, min(ms) AS ms FROM timing GROUP BY method),
	 floor AS (SELECT ms FROM best WHERE method = 'a || b'),
	 scan AS (SELECT ms FROM best WHERE method = 'scan only (no merge)')
SELECT format('%-26s %9s ms   %7s x ||   %7s x || net of scan', b.method,
			  to_char(b.ms, 'FM99990.0'),
			  to_char(b.ms / f.ms, 'FM9990.00'),
			  CASE WHEN b.method = 'scan only (no merge)' THEN '-'
				   ELSE to_char((b.ms - s.ms) / (f.ms - s.ms), 'FM9990.00') END)
FROM best b, floor f, scan s
ORDER BY b.ms;
WITH best AS (SELECT method, min(ms) AS ms FROM timing GROUP BY method)
SELECT format('goal gtm_jsonb_merge <= 1.5 x ||: %s (%s x)',
			  CASE WHEN g.ms <= 1.5 * f.ms THEN 'MET' ELSE 'NOT MET' END,
			  to_char(g.ms / f.ms, 'FM9990.00'))
FROM best g, best f WHERE g.method = 'gtm_jsonb_merge(a, b)' AND f.method = 'a || b';
SQL

echo "== memory: backend RssAnon while merging in one statement"
peak_rss() {	# $1: number of pairs (a multiple of 20,000); $2: expression
	local reps=$(( $1 / 20000 )) out pid peak=0 first=0 n=0 v
	out=$(mktemp)
	psql_db -At -c "SELECT pg_backend_pid()" \
		-c "SELECT sum(pg_column_size($2)) FROM bench_pairs, generate_series(1, $reps)" >"$out" &
	local job=$!
	while [ ! -s "$out" ]; do sleep 0.02; done
	pid=$(head -1 "$out")
	while kill -0 "$job" 2>/dev/null; do
		v=$(awk '/^RssAnon/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
		if [ -n "$v" ]; then
			[ "$first" = 0 ] && first=$v
			[ "$v" -gt "$peak" ] && peak=$v
			n=$((n + 1))
		fi
		sleep 0.1
	done
	wait "$job"
	rm -f "$out"
	printf '%-22s %8d pairs: RssAnon first sample %6d kB, peak %6d kB (%d samples)\n' \
		"$2" "$1" "$first" "$peak" "$n"
}
if [ -r /proc/self/status ]; then
	peak_rss 100000 'gtm_jsonb_merge(a, b)'
	peak_rss 1000000 'gtm_jsonb_merge(a, b)'
	peak_rss 1000000 'a || b'
else
	echo "no /proc: memory check skipped"
fi
