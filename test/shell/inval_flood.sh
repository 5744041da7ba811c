#!/usr/bin/env bash
# TAP: invalidations flooding in while the check plans and looks up its
# per-relation facts.  One session plans statements on tenant tables it has
# never seen (partitions of new partitioned tables) while a stable function
# of the statement sleeps at planning time; another session commits
# thousands of CREATE/DROP TEMP TABLE meanwhile, so the first one's
# invalidation queue overflows and it processes a cache reset in the middle
# of planning.  The backend must survive, and every verdict stay right.
set -u
db=gtm_inval_flood; n=0; failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d $db "$@"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
rounds=${FLOOD_ROUNDS:-12}
echo "1..3"

dropdb --if-exists $db 2>/dev/null; createdb $db
q -c "CREATE EXTENSION gtm_clarity" \
  -c "DO \$\$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'regress_flood_app') THEN CREATE ROLE regress_flood_app; END IF; END \$\$" \
  -c "GRANT CREATE, USAGE ON SCHEMA public TO regress_flood_app" \
  -c "CREATE FUNCTION slow(x int) RETURNS int LANGUAGE plpgsql STABLE AS \$\$ BEGIN PERFORM pg_sleep(0.4); RETURN x; END \$\$"

# the flood: small catalog changes, each committed, until cancelled
psql -X -q -d $db -c "SET application_name = 'gtm_flood'" -c "
DO \$\$ BEGIN
  FOR i IN 1..10000000 LOOP
    CREATE TEMP TABLE flood (x int); DROP TABLE flood; COMMIT;
  END LOOP;
END \$\$" >"$tmp/flood.out" 2>&1 &
flood=$!
sleep 1

good=0; bad=0
for r in $(seq 1 "$rounds"); do
  out=$(q -c "SET ROLE regress_flood_app" \
          -c "CREATE TABLE ev$r (tenant_id text NOT NULL, id int NOT NULL) PARTITION BY RANGE (id)" \
          -c "CREATE TABLE ev${r}_a PARTITION OF ev$r FOR VALUES FROM (0) TO (100)" \
          -c "CREATE TABLE ev${r}_b PARTITION OF ev$r FOR VALUES FROM (100) TO (200)" \
          -c "INSERT INTO ev$r VALUES ('t1', 1)" -c "INSERT INTO ev$r VALUES ('t2', 150)" \
          -c "SELECT count(*) FROM ev$r WHERE tenant_id = 't1' AND id <> slow(-1)" 2>&1)
  rejected=$(q -c "SET ROLE regress_flood_app" -c "SELECT count(*) FROM ev$r WHERE id <> slow(-1)" 2>&1)
  if [ "$out" = 1 ] && echo "$rejected" | grep -q "is not pinned to one tenant"; then
    good=$((good + 1))
  else
    bad=$((bad + 1)); echo "# round $r: $out / $rejected"
  fi
done
flood_alive=0; kill -0 $flood 2>/dev/null && flood_alive=1
q -c "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'gtm_flood'" >/dev/null
wait $flood 2>/dev/null

# a backend that dies takes every session down with it, the flood's too
ok "the flooding session survived every round" '[ $flood_alive = 1 ]'
ok "every pinned statement answered, every unpinned one was rejected ($good of $rounds rounds)" '[ $bad = 0 ]'
ok "the server is up" '[ "$(q -c "SELECT 1")" = 1 ]'
dropdb --if-exists $db 2>/dev/null
exit $failed
