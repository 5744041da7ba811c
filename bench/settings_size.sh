#!/usr/bin/env bash
# bench/settings_size.sh -- settings checks and merge against document size
# (issue 17, item 3).
#
#   bash bench/settings_size.sh [rounds]
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.
#
# Documents, built once and stored in a table (so JSON parsing is not
# measured), at three sizes each:
#   deep    32 nested objects (the depth limit) whose keys grow with the size:
#           the shape that was quadratic (every level rebuilt the dotted path)
#   wide    one object of many keys
#   arrays  one key holding an array of many strings (the null check walks it)
# For the checks the sizes are 256 kB, 512 kB and 1 MB (the size limit):
#   defaults   gtm_set_default_settings(doc) (check and write of a version)
#   overrides  gtm_invalid_tenant_settings() over one tenant holding doc as
#              overrides, checked against defaults of the same shape
# For the merge, which has no limit: gtm_jsonb_merge(doc, doc) at 1, 4 and
# 16 MB, including 3,000 levels deep (keys of 333, 1,333 and 5,333 characters).
# Each round runs every case once, in a new random order, in one session;
# printed: median ms, ms per MB, the ratio to the smallest size of the same
# shape (linear means the ratio follows the size: 1, 2, 4 or 1, 4, 16), and
# the median of the per-round ratios.
#
# Memory: each case once more in a fresh backend, which resets its peak
# resident size (5 to /proc/self/clear_refs) first and reads VmHWM and VmRSS
# from /proc/self/status after: the growth of the peak during the call.
#
# Then the issue's shape, 3,000 levels of long keys (1,000 characters: 2.9 MB,
# 11.3 s and 4.4 GB before), given to gtm_set_default_settings: refused, by
# its size, or for 300-character keys (0.9 MB) by its depth.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/settings_size.sh "-o autovacuum=off" "$@"
rounds=${1:-7}
gtm_bench_db gtm_bench_settings

psql_db <<'SQL'
CREATE EXTENSION gtm_clarity;
-- documents of about bytes bytes as jsonb
CREATE FUNCTION doc(shape text, bytes int, levels int DEFAULT 32) RETURNS jsonb LANGUAGE sql AS $$
	SELECT CASE shape
		WHEN 'deep' THEN (repeat('{"' || repeat('k', bytes / levels) || '": ', levels - 1) ||
						  '"v"' || repeat('}', levels - 1))::jsonb
		WHEN 'wide' THEN (SELECT jsonb_object_agg('key' || lpad(i::text, 8, '0'), i)
						  FROM generate_series(1, bytes / 31) i)
		WHEN 'arrays' THEN jsonb_build_object('tags',
						  (SELECT jsonb_agg('tag' || lpad(i::text, 8, '0')) FROM generate_series(1, bytes / 16) i))
	END
$$;
CREATE TABLE cases (id serial PRIMARY KEY, what text, shape text, size_label text, kb int, doc jsonb, defs jsonb);
ALTER TABLE cases ALTER doc SET STORAGE EXTERNAL, ALTER defs SET STORAGE EXTERNAL;
INSERT INTO cases (what, shape, size_label, kb, doc)
SELECT w, s, z.label, z.kb, doc(s, z.kb * 1024 - 2048)
FROM unnest(ARRAY['defaults', 'overrides']) w, unnest(ARRAY['deep', 'wide', 'arrays']) s,
	 (VALUES ('256 kB', 256), ('512 kB', 512), ('1 MB', 1024)) z(label, kb);
INSERT INTO cases (what, shape, size_label, kb, doc)
SELECT 'merge', s, z.label, z.kb, doc(s, z.kb * 1024)
FROM unnest(ARRAY['deep', 'wide', 'arrays']) s, (VALUES ('1 MB', 1024), ('4 MB', 4096), ('16 MB', 16384)) z(label, kb);
INSERT INTO cases (what, shape, size_label, kb, doc)
SELECT 'merge', '3000 deep', z.label, z.kb, doc('deep', z.kb * 1024, 3000)
FROM (VALUES ('1 MB', 1024), ('4 MB', 4096), ('16 MB', 16384)) z(label, kb);
-- the defaults that overrides are checked against: the document itself
UPDATE cases SET defs = doc WHERE what = 'overrides';
-- one tenant; its overrides are set (bypassing the trigger) by run_case
SELECT count(*) FROM gtm_provision_tenant('org_bench1', 'Bench') \g /dev/null
-- puts the defaults and overrides of an overrides case in place (not timed)
CREATE FUNCTION prepare_case(c int) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	r cases;
BEGIN
	SELECT * INTO r FROM cases WHERE id = c;
	DELETE FROM settings_defaults WHERE version > 0;
	IF r.what = 'overrides' THEN
		INSERT INTO settings_defaults (version, settings) VALUES (1, r.defs);
		ALTER TABLE tenants DISABLE TRIGGER tenants_settings_validate;
		UPDATE tenants SET settings = r.doc WHERE clerk_org_id = 'org_bench1';
		ALTER TABLE tenants ENABLE TRIGGER tenants_settings_validate;
	ELSE
		-- no overrides for gtm_set_default_settings to check
		UPDATE tenants SET settings = '{}' WHERE clerk_org_id = 'org_bench1' AND settings <> '{}';
	END IF;
END $$;
-- the timed call of a case, in ms
CREATE FUNCTION run_case(c int) RETURNS float8 LANGUAGE plpgsql AS $$
DECLARE
	r cases;
	t0 timestamptz;
	dummy bigint;
BEGIN
	SELECT * INTO r FROM cases WHERE id = c;
	t0 := clock_timestamp();
	IF r.what = 'defaults' THEN
		dummy := pg_column_size(gtm_set_default_settings(r.doc));
	ELSIF r.what = 'overrides' THEN
		SELECT count(*) INTO dummy FROM gtm_invalid_tenant_settings();
		IF dummy <> 0 THEN RAISE EXCEPTION 'case % did not pass', c; END IF;
	ELSE
		dummy := pg_column_size(gtm_jsonb_merge(r.doc, r.doc));
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END $$;
CREATE TABLE times (round int, id int, ms float8);
SQL

ids=$(psql_db -At -c "SELECT id FROM cases ORDER BY id")
echo "== time: $rounds rounds, every case once per round in a new random order, one session"
psql_db -At -c "SELECT format('documents: %s', string_agg(DISTINCT format('%s %s %s = %s bytes', what, shape, size_label, pg_column_size(doc)), '; '))
                FROM cases WHERE size_label IN ('1 MB')" | fold -w 160 -s
{
	echo "SET client_min_messages = warning;"
	for r in $(seq 1 "$rounds"); do
		for c in $(shuf -e $ids); do
			echo "SELECT prepare_case($c) \\g /dev/null"
			echo "INSERT INTO times VALUES ($r, $c, run_case($c));"
		done
	done
} | psql_db
psql_db -At <<'SQL'
WITH per AS (
	SELECT c.id, c.what, c.shape, c.size_label, c.kb, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms) AS ms
	FROM cases c JOIN times t USING (id) GROUP BY c.id),
small AS (SELECT DISTINCT ON (what, shape) what, shape, kb, ms FROM per ORDER BY what, shape, kb),
ratios AS (	-- per round, against the smallest size of the same shape in that round
	SELECT c.id, percentile_cont(0.5) WITHIN GROUP (ORDER BY t.ms / t0.ms) AS r
	FROM cases c JOIN times t USING (id)
	JOIN cases c0 ON c0.what = c.what AND c0.shape = c.shape
		 AND c0.kb = (SELECT min(kb) FROM cases x WHERE x.what = c.what AND x.shape = c.shape)
	JOIN times t0 ON t0.id = c0.id AND t0.round = t.round
	GROUP BY c.id)
SELECT format('%-10s %-10s %7s %10s ms %9s ms/MB %7s x size %8s x time %10s x time (median of rounds)',
			  'what', 'shape', 'size', 'median', '', '', '', '')
UNION ALL
SELECT * FROM (
	SELECT format('%-10s %-10s %7s %10s ms %9s ms/MB %7s x size %8s x time %10s x time',
				  p.what, p.shape, p.size_label, to_char(p.ms, 'FM99990.00'),
				  to_char(p.ms / (p.kb / 1024.0), 'FM99990.00'),
				  to_char(p.kb::float8 / s.kb, 'FM990.0'), to_char(p.ms / s.ms, 'FM990.00'),
				  to_char(r.r, 'FM990.00'))
	FROM per p JOIN small s USING (what, shape) JOIN ratios r USING (id)
	ORDER BY p.what, p.shape, p.kb) x;
SQL

echo "== memory: peak growth of a fresh backend during one call"
for c in $ids; do
	psql_db -At <<SQL
SET client_min_messages = warning;
CREATE FUNCTION pg_temp.status(field text) RETURNS bigint LANGUAGE sql AS
	\$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+)'))[1]::bigint \$\$;
CREATE TEMP TABLE m AS SELECT 0::bigint AS rss;
-- warm up the same code path on the smallest document of the case's kind
SELECT prepare_case(min(id)), run_case(min(id))
FROM cases x WHERE (x.what, x.shape) = (SELECT what, shape FROM cases WHERE id = $c) \g /dev/null
SELECT prepare_case($c) \g /dev/null
COPY (SELECT 5) TO '/proc/self/clear_refs';
UPDATE m SET rss = pg_temp.status('VmRSS');
SELECT run_case($c) \g /dev/null
SELECT format('%-10s %-10s %7s: peak resident size grew %7s kB (%s x the document)', what, shape, size_label,
			  pg_temp.status('VmHWM') - (SELECT rss FROM m),
			  to_char((pg_temp.status('VmHWM') - (SELECT rss FROM m))::float8 / kb, 'FM990.0'))
FROM cases WHERE id = $c;
SQL
done

echo "== the issue's shape: 3,000 levels of long keys, given to gtm_set_default_settings"
for keylen in 1000 300; do
	psql_db -At <<SQL
CREATE FUNCTION pg_temp.status(field text) RETURNS bigint LANGUAGE sql AS
	\$\$ SELECT (regexp_match(pg_read_file('/proc/self/status'), field || ':\s+(\d+)'))[1]::bigint \$\$;
CREATE TEMP TABLE d AS SELECT (repeat('{"' || repeat('k', $keylen) || '": ', 3000) || '1' || repeat('}', 3000))::jsonb AS doc;
CREATE TEMP TABLE m AS SELECT 0::bigint AS rss, clock_timestamp() AS t0, ''::text AS error;
COPY (SELECT 5) TO '/proc/self/clear_refs';
UPDATE m SET rss = pg_temp.status('VmRSS'), t0 = clock_timestamp();
DO \$\$
BEGIN
	PERFORM gtm_set_default_settings((SELECT doc FROM d));
EXCEPTION WHEN program_limit_exceeded THEN
	UPDATE m SET error = SQLERRM;
END \$\$;
SELECT format('keys of %s characters, %s bytes of JSON text: "%s" after %s ms, peak resident size grew %s kB',
			  $keylen, (SELECT octet_length(doc::text) FROM d), error,
			  to_char(extract(epoch FROM clock_timestamp() - t0) * 1000, 'FM99990.0'),
			  pg_temp.status('VmHWM') - rss)
FROM m;
SQL
done
