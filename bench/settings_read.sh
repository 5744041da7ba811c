#!/usr/bin/env bash
# bench/settings_read.sh -- settings at request speed (issue 12, item 3).
#
#   bash bench/settings_read.sh [rounds] [reads per round] [rows]
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.
#
# Two comparisons, each against its floor, in one session, interleaved: every
# round runs each of the four measurements once, in a new random order, and
# the figure printed is the median over the rounds of the per-round ratio
# (so a drift of the machine's speed between rounds cancels out).
#
#  A. Reading the effective settings of the session tenant inside a request
#     (an application role, gtm.enforcement = error, gtm_set_tenant done):
#        floor:  SELECT settings FROM tenants WHERE id = $1
#        ours:   SELECT gtm_tenant_settings($1)
#     each READS times in a PL/pgSQL loop (both statements prepared once by
#     PL/pgSQL, as an application's prepared statements are), over 1,000
#     tenants whose overrides are the product page's example plus a scoring
#     section (about 0.5 kB).  Goal: floor time / our time >= 0.8.
#
#  B. Validating a 2 kB override against the factory schema:
#        floor:  SELECT sum(pg_column_size(d || o)) FROM overrides
#        ours:   SELECT sum(pg_column_size(gtm_check_settings(o))) FROM overrides
#     over ROWS stored overrides (about 1.9 kB each as jsonb: scoring versions,
#     an ICP profile, engagement weights, connectors, field mappings, role
#     templates), d being the defaults; the ratio printed is our time / floor.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/settings_read.sh "" "$@"
rounds=${1:-15}
reads=${2:-20000}
rows=${3:-5000}
gtm_bench_db gtm_bench_settings_read

psql_db <<'SQL' >/dev/null
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
-- 1,000 tenants, each with the page's example and a scoring section
INSERT INTO tenants (clerk_org_id, name, slug, settings)
SELECT 'org_bench' || i, 'Bench ' || i, 'bench-' || i,
	'{"timezone": "America/New_York", "defaultScoringVersion": 1,
	  "features": {"buyingGroups": true, "writeback": false},
	  "scoring": {"versions": [{"version": 1, "name": "Default", "weights": {"fit": 0.6, "engagement": 0.4}}],
				  "fit": {"industries": ["Software", "Fintech"], "regions": ["US", "CA"]},
				  "engagement": {"halfLifeDays": 21}}}'
FROM generate_series(1, 1000) i;
VACUUM ANALYZE tenants;
DROP ROLE IF EXISTS bench_app;
CREATE ROLE bench_app;
GRANT SELECT ON tenants TO bench_app;
-- 2 kB overrides, valid against the factory schema, all different
CREATE TABLE overrides AS
SELECT jsonb_build_object(
	'timezone', (ARRAY['Europe/Paris', 'America/Chicago', 'Asia/Tokyo'])[1 + i % 3],
	'features', jsonb_build_object('buyingGroups', i % 2 = 0, 'writeback', true),
	'scoring', jsonb_build_object(
		'versions', jsonb_build_array(
			jsonb_build_object('version', 1, 'name', 'Default ' || i, 'weights', '{"fit": 0.5, "engagement": 0.5}'::jsonb),
			jsonb_build_object('version', 2, 'name', 'Pipeline ' || i, 'weights', '{"fit": 0.7, "engagement": 0.3}'::jsonb, 'mqlThreshold', 60)),
		'fit', jsonb_build_object(
			'industries', jsonb_build_array('Software', 'Fintech', 'Healthcare', 'Logistics ' || i),
			'companySize', '{"minEmployees": 50, "maxEmployees": 5000}'::jsonb,
			'regions', '["US", "CA", "GB", "FR", "DE"]'::jsonb,
			'jobTitles', jsonb_build_array('VP Sales', 'Head of Growth', 'CRO', 'Director RevOps ' || i)),
		'engagement', jsonb_build_object('halfLifeDays', 14 + i % 30, 'lookbackDays', 180,
			'signalWeights', '{"webinar": 5, "pricing_page": 20, "demo_request": 40, "email_click": 2, "g2_visit": 15}'::jsonb)),
	'connectors', jsonb_build_object(
		'crm', '{"type": "hubspot", "enabled": true, "syncIntervalMinutes": 60}'::jsonb,
		'events', '{"type": "segment", "enabled": true, "syncIntervalMinutes": 15}'::jsonb),
	'fieldMappings', jsonb_build_object(
		'crm', (SELECT jsonb_object_agg('hubspot.company.field_' || k, 'gtm.account.attribute_' || k || '_' || i)
				FROM generate_series(1, 6) k),
		'events', '{"traits.email": "person.email", "traits.company": "account.name"}'::jsonb),
	'buyingGroups', jsonb_build_object('roleTemplates', jsonb_build_array(
		'{"role": "economic_buyer", "titlePatterns": ["^CFO", "^CEO", "VP Finance"], "required": true}'::jsonb,
		'{"role": "champion", "titlePatterns": ["^VP Sales", "Head of Sales"]}'::jsonb,
		'{"role": "user", "titlePatterns": ["SDR", "AE", "Account Executive"]}'::jsonb))) AS o
FROM generate_series(1, 1) i;
SQL
psql_db -c "INSERT INTO overrides SELECT jsonb_set(o, '{scoring,engagement,halfLifeDays}', to_jsonb(1 + i % 3000)) FROM overrides, generate_series(2, $rows) i" >/dev/null
psql_db -c "VACUUM ANALYZE overrides" >/dev/null

echo "== data"
psql_db -At -c "SELECT count(*) || ' tenants, overrides ' || round(avg(pg_column_size(settings))) || ' bytes' FROM tenants"
psql_db -At -c "SELECT count(*) || ' overrides, ' || round(avg(pg_column_size(o::text::jsonb))) || ' bytes as jsonb (' || round(avg(octet_length(o::text))) || ' bytes as text) on average; all valid: ' || bool_and(gtm_check_settings(o) = o) FROM overrides"
echo "== $rounds interleaved rounds: A $reads reads each, B $rows overrides each"
psql_db -At -F ' ' <<SQL
GRANT SELECT ON overrides TO bench_app;
CREATE TEMP TABLE timing (round int, method text, ms float8);
GRANT ALL ON timing TO bench_app;
CREATE FUNCTION pg_temp.time_it(method text, n int) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE
	t0 timestamptz;
	s jsonb;
	k bigint;
	tid text := gtm_current_tenant();
	d jsonb := gtm_default_settings();
BEGIN
	t0 := clock_timestamp();
	IF method = 'A floor: SELECT settings FROM tenants WHERE id = \$1' THEN
		FOR i IN 1..n LOOP
			SELECT settings INTO s FROM tenants WHERE id = tid;
		END LOOP;
	ELSIF method = 'A ours: SELECT gtm_tenant_settings(\$1)' THEN
		FOR i IN 1..n LOOP
			SELECT gtm_tenant_settings(tid) INTO s;
		END LOOP;
	ELSIF method = 'B floor: d || o' THEN
		SELECT sum(pg_column_size(d || o)) INTO k FROM overrides;
	ELSE
		SELECT sum(pg_column_size(gtm_check_settings(o))) INTO k FROM overrides;
	END IF;
	RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
SET ROLE bench_app;
SELECT gtm_set_tenant(id) IS NOT NULL FROM tenants WHERE clerk_org_id = 'org_bench500' \g /dev/null
SHOW gtm.enforcement;
-- warm-up
SELECT pg_temp.time_it(m, 100) FROM unnest(ARRAY['A floor: SELECT settings FROM tenants WHERE id = \$1',
	'A ours: SELECT gtm_tenant_settings(\$1)', 'B floor: d || o', 'B ours: gtm_check_settings(o)']) m \g /dev/null
DO \$\$
DECLARE
	m text;
BEGIN
	FOR r IN 1..$rounds LOOP
		FOR m IN SELECT x FROM unnest(ARRAY['A floor: SELECT settings FROM tenants WHERE id = \$1',
				'A ours: SELECT gtm_tenant_settings(\$1)', 'B floor: d || o',
				'B ours: gtm_check_settings(o)']) x ORDER BY random()
		LOOP
			INSERT INTO timing VALUES (r, m, pg_temp.time_it(m, $reads));
		END LOOP;
	END LOOP;
END \$\$;
SELECT format('%-52s median %8s ms per round', method, to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms), 'FM99990.0'))
FROM timing GROUP BY method ORDER BY method;
WITH r AS (
	SELECT round,
		   max(ms) FILTER (WHERE method LIKE 'A floor%') / max(ms) FILTER (WHERE method LIKE 'A ours%') AS a,
		   max(ms) FILTER (WHERE method LIKE 'B ours%') / max(ms) FILTER (WHERE method LIKE 'B floor%') AS b
	FROM timing GROUP BY round)
SELECT format('A: floor time / gtm_tenant_settings time = %s (median of %s rounds; min %s, max %s); goal >= 0.8: %s',
			  to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY a), 'FM990.00'), count(*),
			  to_char(min(a), 'FM990.00'), to_char(max(a), 'FM990.00'),
			  CASE WHEN percentile_cont(0.5) WITHIN GROUP (ORDER BY a) >= 0.8 THEN 'MET' ELSE 'NOT MET' END)
	   || E'\n' ||
	   format('B: gtm_check_settings time / (d || o) time = %s (median of %s rounds; min %s, max %s)',
			  to_char(percentile_cont(0.5) WITHIN GROUP (ORDER BY b), 'FM9990.00'), count(*),
			  to_char(min(b), 'FM9990.00'), to_char(max(b), 'FM9990.00'))
FROM r;
RESET ROLE;
SQL
