#!/usr/bin/env bash
# bench/timezone_cache.sh -- backend memory against the number of distinct
# rejected time-zone strings (issue 17, item 4).
#
#   bash bench/timezone_cache.sh
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.
#
# For 1,000, 4,000 and 16,000 distinct strings, each in a fresh backend:
# gtm_update_tenant_settings(t, {"timezone": s}) for every s, each in a
# subtransaction that catches the 22023 it raises.  The strings cycle through
# POSIX specifications ("QBCD7", "<ZBCD>-7", "UtcBCD+7", "eBCD7edt",
# "GMTBCD-7:30") and names without a digit that are no zone ("Nowhere/BCD").
# Printed: microseconds per call, and the growth of PostgreSQL's time-zone
# cache (the "Timezones" memory context), of all memory contexts together,
# and of the backend's resident size: its peak (VmHWM after resetting it)
# and, at the end, its private part (RssAnon) and the shared memory it has
# touched (RssShmem: WAL buffers, SLRU pages of the subtransactions).  Flat
# means the same growth of the cache and the contexts, 0 for the cache, at
# every count.
#
# Side by side, the same strings given to set_config('timezone', s, true),
# i.e. SET LOCAL TIME ZONE, which calls pg_tzset() as the check used to: each
# POSIX string stays in the cache, about 24 kB (what 10,000 patches cost
# before: 240 MB).  SET is PostgreSQL's own behaviour, shown as the reference.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/timezone_cache.sh "" "$@"
gtm_bench_db gtm_bench_tz

psql_db <<'SQL'
CREATE EXTENSION gtm_clarity;
SELECT count(*) FROM gtm_provision_tenant('org_tzbench', 'TZ Bench') \g /dev/null
-- distinct strings: letters spell i (ABC for 012), offsets stay in range
CREATE FUNCTION tz_string(i int) RETURNS text LANGUAGE sql AS $$
	SELECT CASE i % 6
		WHEN 0 THEN 'Q' || l || (i % 24)
		WHEN 1 THEN '<Z' || l || '>-' || (i % 24)
		WHEN 2 THEN 'Utc' || l || '+' || (i % 12)
		WHEN 3 THEN 'e' || l || (i % 12) || 'edt'
		WHEN 4 THEN 'GMT' || l || '-' || (i % 14) || ':30'
		ELSE 'Nowhere/' || l
	END
	FROM translate(i::text, '0123456789', 'ABCDEFGHIJ') l
$$;
-- n strings through the check (how = 'check') or through SET LOCAL (how = 'set')
CREATE FUNCTION run(how text, n int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	t text := (SELECT id FROM tenants WHERE clerk_org_id = 'org_tzbench');
	tz0 bigint := (SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'Timezones');
	ctx0 bigint := (SELECT sum(total_bytes) FROM pg_backend_memory_contexts);
	rss0 bigint;
	anon0 bigint;
	shmem0 bigint;
	t0 timestamptz;
	rejected int := 0;
	status text;
BEGIN
	COPY (SELECT 5) TO '/proc/self/clear_refs';
	status := pg_read_file('/proc/self/status');
	rss0 := (regexp_match(status, 'VmRSS:\s+(\d+)'))[1]::bigint;
	anon0 := (regexp_match(status, 'RssAnon:\s+(\d+)'))[1]::bigint;
	shmem0 := (regexp_match(status, 'RssShmem:\s+(\d+)'))[1]::bigint;
	t0 := clock_timestamp();
	FOR i IN 1..n LOOP
		BEGIN
			IF how = 'check' THEN
				PERFORM gtm_update_tenant_settings(t, jsonb_build_object('timezone', tz_string(i)));
			ELSE
				PERFORM set_config('timezone', tz_string(i), true);
			END IF;
		EXCEPTION WHEN invalid_parameter_value THEN
			rejected := rejected + 1;
		END;
	END LOOP;
	status := pg_read_file('/proc/self/status');
	RETURN format('%-31s %6s strings (%6s rejected): %6s us/call; Timezones cache +%7s kB, all contexts +%7s kB; peak RSS +%7s kB (now: private +%7s kB, shared memory +%5s kB)',
				  CASE how WHEN 'check' THEN 'gtm_update_tenant_settings' ELSE 'reference: SET LOCAL TIME ZONE' END,
				  n, rejected,
				  to_char(extract(epoch FROM clock_timestamp() - t0) * 1e6 / n, 'FM99990.0'),
				  ((SELECT total_bytes FROM pg_backend_memory_contexts WHERE name = 'Timezones') - tz0) / 1024,
				  ((SELECT sum(total_bytes) FROM pg_backend_memory_contexts) - ctx0)::bigint / 1024,
				  (regexp_match(status, 'VmHWM:\s+(\d+)'))[1]::bigint - rss0,
				  (regexp_match(status, 'RssAnon:\s+(\d+)'))[1]::bigint - anon0,
				  (regexp_match(status, 'RssShmem:\s+(\d+)'))[1]::bigint - shmem0);
END $$;
SQL

echo "== one fresh backend per run; the check and the reference alternate"
for n in 1000 4000 16000; do
	for how in check set; do
		psql_db -At -c "BEGIN" -c "SELECT run('$how', $n)" -c "ROLLBACK"
	done
done
