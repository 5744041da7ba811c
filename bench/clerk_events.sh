#!/usr/bin/env bash
# bench/clerk_events.sh -- applying Clerk membership webhooks (issue 10):
# events per second of gtm_apply_clerk_event against plain INSERT ... ON
# CONFLICT of the same rows, side by side in one run.
#
#   bash bench/clerk_events.sh [rounds]
#
# Installs what is missing, builds and installs gtm_clarity and runs itself in
# a throwaway server that preloads it (pg_virtualenv); with GTM_BENCH_INSIDE=1
# set it uses the server that PGHOST/PGPORT/PGUSER name instead.
#
# 10,000 organizationMembership.created events (100 organizations of 100
# members, the payloads as Clerk sends them, built once and stored in a
# table, so JSON parsing of the client's text is not measured) are applied,
# one call per event, in one transaction:
#   (a) gtm_apply_clerk_event(event), each event on its own
#   (b) the floor: per event, INSERT INTO tenant_members ... ON CONFLICT
#       (tenant_id, clerk_user_id) DO UPDATE SET role = EXCLUDED.role, with
#       the tenant id and role already resolved (a plain loop in PL/pgSQL)
#   (c) the same rows in one set-based INSERT ... ON CONFLICT statement
# Each round resets the members and the applied versions, then runs the
# three cases in a new random order; printed per round: events per second
# of each and (a)/(b), (a)/(c); at the end the medians and the median of the
# per-round ratios.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/.."
. test/lib/setup.sh
gtm_bench_reexec bench/clerk_events.sh "-o autovacuum=off" "$@"
rounds=${1:-7}
gtm_bench_db bench_clerk_events

psql_db <<'SQL'
CREATE EXTENSION gtm_clarity;
-- 100 organizations, created by their own webhook
SELECT count(gtm_apply_clerk_event(jsonb_build_object('type', 'organization.created', 'timestamp', 1000,
	'data', jsonb_build_object('object', 'organization', 'id', 'org_bench' || o, 'name', 'Bench ' || o,
		'slug', 'bench-' || o, 'created_at', 1000, 'updated_at', 1000))))
FROM generate_series(1, 100) o;
CREATE TABLE evs AS
SELECT row_number() OVER (ORDER BY o, u) AS i, 'org_bench' || o AS org, 'user_b' || o || 'x' || u AS usr,
	   CASE WHEN u = 1 THEN 'org:admin' ELSE 'org:member' END AS clerk_role,
	   jsonb_build_object('object', 'event', 'type', 'organizationMembership.created',
		'timestamp', 2000 + u, 'instance_id', 'ins_bench',
		'data', jsonb_build_object('object', 'organization_membership', 'id', 'orgmem_' || o || 'x' || u,
			'role', CASE WHEN u = 1 THEN 'org:admin' ELSE 'org:member' END,
			'created_at', 2000 + u, 'updated_at', 2000 + u,
			'organization', jsonb_build_object('object', 'organization', 'id', 'org_bench' || o,
				'name', 'Bench ' || o, 'slug', 'bench-' || o, 'created_at', 1000, 'updated_at', 1000),
			'public_user_data', jsonb_build_object('user_id', 'user_b' || o || 'x' || u,
				'identifier', 'u' || u || '@example.com', 'first_name', 'U', 'last_name', 'Ser'))) AS e
FROM generate_series(1, 100) o, generate_series(1, 100) u;
-- the rows of (b) and (c), resolved beforehand
CREATE TABLE plain AS
SELECT evs.i, t.id AS tenant_id, evs.usr, gtm_role_from_clerk(evs.clerk_role) AS role
FROM evs JOIN tenants t ON t.clerk_org_id = evs.org;
VACUUM ANALYZE;

CREATE FUNCTION reset_members() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	SET LOCAL gtm.clerk_sync = on;		-- these tenants may lose their admin
	DELETE FROM tenant_members m USING tenants t
	 WHERE m.tenant_id = t.id AND t.clerk_org_id LIKE 'org_bench%';
	DELETE FROM clerk_sync_state WHERE clerk_user_id <> '';
END $$;
-- milliseconds to run one case; the 10,000 rows must be there after
CREATE FUNCTION run_case(c text) RETURNS numeric LANGUAGE plpgsql AS $$
DECLARE
	t0 timestamptz;
	r record;
	ms numeric;
BEGIN
	t0 := clock_timestamp();
	IF c = 'a' THEN
		FOR r IN SELECT e FROM evs ORDER BY i LOOP
			PERFORM gtm_apply_clerk_event(r.e);
		END LOOP;
	ELSIF c = 'b' THEN
		FOR r IN SELECT * FROM plain ORDER BY i LOOP
			INSERT INTO tenant_members (tenant_id, clerk_user_id, role)
			VALUES (r.tenant_id, r.usr, r.role)
			ON CONFLICT (tenant_id, clerk_user_id) DO UPDATE SET role = EXCLUDED.role;
		END LOOP;
	ELSE
		INSERT INTO tenant_members (tenant_id, clerk_user_id, role)
		SELECT tenant_id, usr, role FROM plain ORDER BY i
		ON CONFLICT (tenant_id, clerk_user_id) DO UPDATE SET role = EXCLUDED.role;
	END IF;
	ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
	IF (SELECT count(*) FROM tenant_members m JOIN plain p
		 ON p.tenant_id = m.tenant_id AND p.usr = m.clerk_user_id AND p.role = m.role) <> 10000 THEN
		RAISE EXCEPTION 'case % did not write the 10,000 members', c;
	END IF;
	RETURN ms;	-- the check above is not timed
END $$;
SQL

work=$(mktemp -d); trap 'rm -rf "$work"; psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
median() { sort -g | awk '{v[NR]=$1} END {print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
eps() { awk -v ms="$1" 'BEGIN{printf "%.0f\n", 10000 / (ms / 1000)}'; }

# a warm-up round, not counted (the first fills caches and the tables' pages)
for c in a b c; do psql_db -c "SELECT reset_members()" -c "SELECT run_case('$c')" >/dev/null; done

echo "10,000 organizationMembership.created events over 100 organizations, one transaction per case;"
echo "${rounds} rounds, the cases in a new random order each round (events per second)"
for r in $(seq 1 "$rounds"); do
  declare -A ms=()
  for c in $(printf 'a\nb\nc\n' | shuf); do
    psql_db -c "SELECT reset_members()" -c "CHECKPOINT" >/dev/null
    ms[$c]=$(psql_db -At -c "SELECT run_case('$c')")
  done
  for c in a b c; do eps "${ms[$c]}" >> "$work/$c"; done
  ab=$(awk -v a="${ms[a]}" -v b="${ms[b]}" 'BEGIN{print b / a}')
  ac=$(awk -v a="${ms[a]}" -v c="${ms[c]}" 'BEGIN{print c / a}')
  echo "$ab" >> "$work/ab"; echo "$ac" >> "$work/ac"
  printf 'round %d: (a) %7s  (b) %7s  (c) %7s events/s   (a)/(b) %.3f  (a)/(c) %.3f\n' "$r" \
    "$(eps "${ms[a]}")" "$(eps "${ms[b]}")" "$(eps "${ms[c]}")" "$ab" "$ac"
done
echo
printf '%-66s %8s events/s\n' "(a) gtm_apply_clerk_event, one call per event" "$(median < "$work/a")"
printf '%-66s %8s events/s\n' "(b) INSERT ... ON CONFLICT per event, tenant and role resolved" "$(median < "$work/b")"
printf '%-66s %8s events/s\n' "(c) one set-based INSERT ... ON CONFLICT of the 10,000 rows" "$(median < "$work/c")"
printf 'ratio (a)/(b) = %.3f   median of the per-round ratios (goal of the issue: (a) >= 10,000 events/s)\n' "$(median < "$work/ab")"
printf 'ratio (a)/(c) = %.3f   median of the per-round ratios\n' "$(median < "$work/ac")"
