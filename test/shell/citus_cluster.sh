#!/usr/bin/env bash
# citus_cluster: the tenant rule on a Citus cluster sharded by tenant_id.
# TAP output.
#
# Builds a 3-node Citus 13.2.2 cluster on this machine (a coordinator and two
# workers, each its own initdb cluster on 127.0.0.1, shared_preload_libraries
# = 'citus,gtm_clarity' on every node: doc/scaling-out.md) and runs, as an
# ordinary role, the statement shapes of the issue on distributed and
# reference tables: each rejected statement is checked to have changed or
# inserted nothing, each accepted one to return or write the right rows.
#
# Citus is not packaged in Debian.  test/lib/citus.sh builds it from the
# unmodified release tarball (github.com/citusdata/citus, tag v13.2.2, the
# file of Citus' GitHub releases page), taken from $GTM_CITUS_TARBALL or
# ../shared/vendor/citus-13.2.2.tar.gz, and caches the build in
# /var/cache/gtm_clarity.  With neither a tarball nor an installed Citus, or
# on PostgreSQL 17/18 (Citus runs here on 15 only), the test says why and
# skips; it never passes silently.
set -u
cd "$(dirname "$0")/../.."
pgv=$(pg_config --version | sed -E 's/^PostgreSQL ([0-9]+).*/\1/')
GTM_PG_VERSION=$pgv
. test/lib/setup.sh
. test/lib/citus.sh
# GTM_CLUSTER_PG_CONFIG: the pg_config of another installation tree of the
# same PostgreSQL (a private copy for development; the suite uses the system's)
PG_CONFIG=${GTM_CLUSTER_PG_CONFIG:-$PG_CONFIG}

why=$(gtm_citus_ensure 2>&1 | tail -n 1)
if ! gtm_citus_installed || [ "$pgv" != 15 ]; then
  case $why in
    SKIP:*) echo "1..0 # ${why}"; exit 0 ;;
    *) echo "# $why"; echo "Bail out! Citus could not be made ready"; exit 1 ;;
  esac
fi

n=0 failed=0
ok()  { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; }
check() {  # name expected actual
  if [ "$2" = "$3" ]; then ok "$1"; else nok "$1"; echo "#   expected: $2"; echo "#   got:      $3"; fi
}

dir=$(mktemp -d /tmp/gtm_citus.XXXXXX)
trap 'gtm_cluster_stop "$dir"' EXIT
gtm_cluster_start "$dir" "citus,gtm_clarity" 2 || { echo "Bail out! the cluster did not start"; exit 1; }
C=${cluster_ports[0]} W1=${cluster_ports[1]} W2=${cluster_ports[2]}
for p in "$C" "$W1" "$W2"; do
  CLUSTER_DB=postgres cq "$p" -c "CREATE DATABASE gtm" || { echo "Bail out! createdb"; exit 1; }
  cq "$p" -c "SET client_min_messages = warning" -c "CREATE EXTENSION citus" || { echo "Bail out! citus"; exit 1; }
done
cq "$C" -o /dev/null -c "SELECT citus_set_coordinator_host('127.0.0.1', $C)" \
  -c "SELECT citus_add_node('127.0.0.1', $W1)" -c "SELECT citus_add_node('127.0.0.1', $W2)" \
  -c "CREATE EXTENSION gtm_clarity" || { echo "Bail out! cluster set-up"; exit 1; }

# The schema: three tables distributed by tenant_id and co-located, a
# reference table without a tenant column and one with it.
cq "$C" -o /dev/null <<'SQL' || { echo "Bail out! schema"; exit 1; }
SET client_min_messages = warning;
CREATE ROLE regress_citus_app LOGIN;
-- the tests set a session tenant (gtm_set_tenant(t, false)), which needs this
ALTER ROLE regress_citus_app SET gtm.allow_session_tenant = on;
CREATE TABLE companies (tenant_id text NOT NULL, id int NOT NULL, name text, PRIMARY KEY (tenant_id, id));
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, company_id int, stage text, amount int,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE notes (tenant_id text NOT NULL, id int NOT NULL, deal_id int, body text, PRIMARY KEY (tenant_id, id));
CREATE TABLE stages (name text PRIMARY KEY);
CREATE TABLE tenant_labels (tenant_id text NOT NULL, label text NOT NULL, PRIMARY KEY (tenant_id, label));
SELECT create_distributed_table('companies', 'tenant_id');
SELECT create_distributed_table('deals', 'tenant_id', colocate_with => 'companies');
SELECT create_distributed_table('notes', 'tenant_id', colocate_with => 'companies');
SELECT create_reference_table('stages');
SELECT create_reference_table('tenant_labels');
INSERT INTO stages VALUES ('open'), ('won'), ('lost');
GRANT SELECT, INSERT, UPDATE, DELETE ON companies, deals, notes, stages, tenant_labels TO regress_citus_app;
SQL

# Two tenants whose rows live on different workers.
t1=$(cq "$C" -At -c "SELECT id FROM gtm_provision_tenant('org_citusTenantOne', 'One')")
t2=
for i in $(seq 2 40); do
  t=$(cq "$C" -At -c "SELECT id FROM gtm_provision_tenant('org_citusTenant$i', 'T$i')")
  if [ "$(cq "$C" -At -c "SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement
        WHERE shardid IN (get_shard_id_for_distribution_column('deals', '$t1'),
                          get_shard_id_for_distribution_column('deals', '$t'))")" = 2 ]; then
    t2=$t; break
  fi
done
[ -n "$t2" ] || { echo "Bail out! no two tenants on different workers"; exit 1; }
cq "$C" -o /dev/null <<SQL || { echo "Bail out! rows"; exit 1; }
INSERT INTO companies VALUES ('$t1', 1, 'c1'), ('$t2', 1, 'c2');
INSERT INTO deals SELECT '$t1', g, 1, 'open', g FROM generate_series(1, 5) g;
INSERT INTO deals SELECT '$t2', g, 1, 'open', 10 * g FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t1', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO notes SELECT '$t2', g, g, 'n' FROM generate_series(1, 5) g;
INSERT INTO tenant_labels VALUES ('$t1', 'vip'), ('$t2', 'trial');
SQL

# app NODE SQL: psql as the ordinary role, each statement sent on its own
# (one top-level statement each); stdout and stderr together
app() { psql -X -q -At -h 127.0.0.1 -p "$1" -U regress_citus_app -d gtm -f - <<<"$2" 2>&1 | sed 's/^psql:<stdin>:[0-9]*: //'; }
NOT_PINNED='is not pinned to one tenant'
TWO='statement touches more than one tenant'
# rejected NAME MESSAGE SQL: the last statement of SQL fails with MESSAGE
rejected() {
  local out
  out=$(app "$C" "$3")
  if echo "$out" | grep -q "^ERROR: .*$2" && ! echo "$out" | grep -qv '^ERROR\|^DETAIL\|^HINT\|^CONTEXT\|^PL/pgSQL function \|^while executing command on \|^[0-9a-z]*$'; then
    ok "$1"
  else
    nok "$1"; echo "$out" | sed 's/^/#   /'
  fi
}
# the data, as the superuser: a fingerprint of every row of every table
fingerprint() {
  cq "$C" -At -c "SELECT md5(string_agg(x, ',' ORDER BY x)) FROM (
    SELECT format('d%s', d) x FROM deals d UNION ALL SELECT format('n%s', n) FROM notes n
    UNION ALL SELECT format('c%s', c) FROM companies c UNION ALL SELECT format('l%s', l) FROM tenant_labels l) s"
}
before=$(fingerprint)

echo "1..108"

# --- fail closed and the rule on the coordinator: statements that cross tenants
rejected "unpinned UPDATE of a distributed table is rejected" "$NOT_PINNED" "UPDATE deals SET stage = 'lost'"
rejected "unpinned DELETE is rejected" "$NOT_PINNED" "DELETE FROM deals WHERE amount > 0"
rejected "unpinned SELECT is rejected" "$NOT_PINNED" "SELECT count(*) FROM deals"
rejected "multi-row INSERT of two tenants on different shards is rejected" "$TWO" \
  "INSERT INTO deals VALUES ('$t1', 100, 1, 'open', 1), ('$t2', 100, 1, 'open', 1)"
rejected "UNION ALL of two tenants' pinned queries is rejected" "$TWO" \
  "SELECT id FROM deals WHERE tenant_id = '$t1' UNION ALL SELECT id FROM deals WHERE tenant_id = '$t2'"
rejected "a CTE pinned to another tenant is rejected" "$TWO" \
  "WITH o AS MATERIALIZED (SELECT id FROM deals WHERE tenant_id = '$t2') SELECT d.id FROM deals d JOIN o ON o.id = d.id WHERE d.tenant_id = '$t1'"
rejected "a scalar subquery pinned to another tenant is rejected" "$TWO" \
  "SELECT id, (SELECT max(amount) FROM deals WHERE tenant_id = '$t2') FROM deals WHERE tenant_id = '$t1'"
rejected "a repartition join of two tenants is rejected" "$TWO" \
  "SET citus.enable_repartition_joins = on; SELECT count(*) FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = '$t1' AND n.tenant_id = '$t2'"
rejected "INSERT ... SELECT writing one tenant's rows into another is rejected" "$TWO" \
  "INSERT INTO deals (tenant_id, id, company_id, stage, amount) SELECT '$t2', id + 100, company_id, stage, amount FROM deals WHERE tenant_id = '$t1'"
rejected "UPDATE moving a row to another tenant is rejected (by Citus, before the check)" \
  "modifying the partition value of rows is not allowed" "UPDATE deals SET tenant_id = '$t2' WHERE tenant_id = '$t1' AND id = 1"
rejected "unpinned SELECT of a reference table with a tenant column is rejected" "$NOT_PINNED" \
  "SELECT * FROM tenant_labels"
rejected "a join pinned on one side only through a non-key column is rejected" "$NOT_PINNED" \
  "SET citus.enable_repartition_joins = on; SELECT count(*) FROM deals d JOIN notes n ON n.deal_id = d.id WHERE d.tenant_id = '$t1'"
rejected "a prepared statement of two tenants is rejected when it starts (7 runs)" "$TWO" \
  "PREPARE two(text, text) AS SELECT id FROM deals WHERE tenant_id = \$1 UNION ALL SELECT id FROM deals WHERE tenant_id = \$2;
   EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1');
   EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t1'); EXECUTE two('$t1', '$t2')"
check "no rejected statement changed or inserted a row" "$before" "$(fingerprint)"

# --- accepted: the same verdicts as one node, right rows
check "pinned point SELECT (fast path)" "open|3" \
  "$(app "$C" "SELECT stage, amount FROM deals WHERE tenant_id = '$t1' AND id = 3")"
check "pinned SELECT of the other tenant on the other worker" "30" \
  "$(app "$C" "SELECT amount FROM deals WHERE tenant_id = '$t2' AND id = 3")"
check "pinned 3-way join (router)" "5" \
  "$(app "$C" "SELECT count(*) FROM companies c JOIN deals d ON d.tenant_id = c.tenant_id AND d.company_id = c.id
               JOIN notes n ON n.tenant_id = d.tenant_id AND n.deal_id = d.id WHERE c.tenant_id = '$t2'")"
check "pinned join with a reference table" "5" \
  "$(app "$C" "SELECT count(*) FROM deals d JOIN stages s ON s.name = d.stage WHERE d.tenant_id = '$t1'")"
check "pinned reference table with a tenant column" "vip" \
  "$(app "$C" "SELECT label FROM tenant_labels WHERE tenant_id = '$t1'")"
check "prepared statement, deferred pruning, 7 runs" "$(printf '15\n15\n15\n15\n15\n15\n150')" \
  "$(app "$C" "PREPARE s(text) AS SELECT sum(amount) FROM deals WHERE tenant_id = \$1;
   EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t1'); EXECUTE s('$t2')")"
check "pinned UPDATE changes that tenant's rows only" "UPDATE 5|lost:5,open:5" \
  "$(app "$C" "UPDATE deals SET stage = 'lost' WHERE tenant_id = '$t1'" >/dev/null;
     echo "UPDATE $(cq "$C" -At -c "SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND stage = 'lost'")|$(
       cq "$C" -At -c "SELECT string_agg(stage || ':' || n, ',' ORDER BY stage) FROM (SELECT stage, count(*) n FROM deals GROUP BY stage) s")")"
check "pinned multi-row INSERT of one tenant" "2" \
  "$(app "$C" "INSERT INTO deals VALUES ('$t2', 200, 1, 'open', 1), ('$t2', 201, 1, 'open', 1)" >/dev/null;
     cq "$C" -At -c "SELECT count(*) FROM deals WHERE id >= 200 AND tenant_id = '$t2'")"
check "pinned INSERT ... SELECT of one tenant (pushdown)" "5" \
  "$(app "$C" "INSERT INTO notes (tenant_id, id, deal_id, body) SELECT tenant_id, id + 100, id, 'copy' FROM deals WHERE tenant_id = '$t1' AND id < 100" >/dev/null;
     cq "$C" -At -c "SELECT count(*) FROM notes WHERE body = 'copy' AND tenant_id = '$t1'")"
check "pinned INSERT ... SELECT of one tenant (via the coordinator)" "2" \
  "$(app "$C" "INSERT INTO notes (tenant_id, id, deal_id, body) SELECT tenant_id, id + 300, id, 'coord' FROM deals WHERE tenant_id = '$t1' ORDER BY id LIMIT 2";
     cq "$C" -At -c "SELECT count(*) FROM notes WHERE body = 'coord' AND tenant_id = '$t1'")"
check "pinned CTE and subquery of one tenant" "5|5" \
  "$(app "$C" "WITH o AS MATERIALIZED (SELECT id FROM deals WHERE tenant_id = '$t2' AND id < 100)
               SELECT count(*), (SELECT count(*) FROM notes WHERE tenant_id = '$t2' AND id < 100) FROM o")"
check "gtm_current_tenant() pins a SELECT" "5" \
  "$(app "$C" "BEGIN; SELECT gtm_set_tenant('$t1') IS NOT NULL; SELECT count(*) FROM deals WHERE tenant_id = gtm_current_tenant() AND id < 100; COMMIT;" | tail -n 1)"
check "gtm_current_tenant() follows gtm_set_tenant in a prepared statement" "15|150" \
  "$(app "$C" "SELECT gtm_set_tenant('$t1', false) IS NOT NULL;
     PREPARE c AS SELECT sum(amount) FROM deals WHERE tenant_id = gtm_current_tenant() AND id < 100;
     EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; EXECUTE c; SELECT gtm_set_tenant('$t2', false) IS NOT NULL; EXECUTE c" |
     sed -n '2p;$p' | paste -sd'|')"

# a portal bound under one tenant, executed after gtm_set_tenant() changed it
# (extended protocol, node-postgres: test/node/bound_portal.js)
node_modules=
for d in test/node_modules "${GTM_NODE_MODULES:-}" /var/cache/gtm_clarity/node/node_modules; do
  if [ -n "$d" ] && [ -f "$d/pg/package.json" ]; then node_modules=$d; break; fi
done
bound() { NODE_PATH=$node_modules timeout 60 node test/node/bound_portal.js "$C" regress_citus_app "$1" "$2" \
  "UPDATE deals SET amount = amount + 1000 WHERE tenant_id = gtm_current_tenant() AND id = 4 RETURNING tenant_id, id" 2>&1; }
if command -v node >/dev/null && [ -n "$node_modules" ]; then
  before=$(fingerprint)
  out=$(bound "$t1" "$t2")
  check "a portal pinned by gtm_current_tenant(), bound under T1, executed after gtm_set_tenant(T2): rejected, nothing changed" \
    "yes|$before" "$(echo "$out" | grep -q "^execute: ERROR the distributed plan of this statement was made for tenant '$t1', and the session tenant is now '$t2'" && echo yes)|$(fingerprint)"
  check "the same portal executed under the tenant it was bound for: that tenant's row" "execute: $t1|4|1004" \
    "$(bound "$t1" "$t1" | grep '^execute:')|$(cq "$C" -At -c "SELECT amount FROM deals WHERE tenant_id = '$t1' AND id = 4")"
  cq "$C" -c "UPDATE deals SET amount = 4 WHERE tenant_id = '$t1' AND id = 4" >/dev/null
else
  nok "a portal bound under T1, executed under T2 (needs node and node-postgres: test/lib/node.sh)"
  nok "the same portal executed under its tenant (needs node and node-postgres)"
fi

# --- gtm_check_statement on distributed tables
check "gtm_check_statement: unpinned on a distributed table" "deals|false" \
  "$(app "$C" "SELECT \"table\" || '|' || pinned FROM gtm_check_statement('UPDATE deals SET stage = ''x''')")"
check "gtm_check_statement: pinned on a distributed table" "deals|true" \
  "$(app "$C" "SELECT \"table\" || '|' || pinned FROM gtm_check_statement('SELECT * FROM deals WHERE tenant_id = ''$t1''')")"

# --- a client connected to a worker directly
shard=$(cq "$W1" -At -c "SELECT shard_name('deals', shardid) FROM pg_dist_shard JOIN pg_dist_placement USING (shardid)
          WHERE logicalrelid = 'deals'::regclass AND groupid = (SELECT groupid FROM pg_dist_local_group) LIMIT 1")
before=$(fingerprint)
out=$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "UPDATE $shard SET stage = 'gone'" 2>&1)
case $out in *"is not pinned to one tenant"*) ok "worker: unpinned UPDATE of a shard is rejected" ;;
  *) nok "worker: unpinned UPDATE of a shard is rejected"; echo "# $out" ;; esac
out=$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "UPDATE deals SET stage = 'gone'" 2>&1)
case $out in *"is not pinned to one tenant"*) ok "worker: unpinned UPDATE of the distributed table is rejected" ;;
  *) nok "worker: unpinned UPDATE of the distributed table is rejected"; echo "# $out" ;; esac
out=$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "COPY $shard TO STDOUT" 2>&1)
case $out in *"COPY on tenant-scoped table"*) ok "worker: COPY of a shard is rejected" ;;
  *) nok "worker: COPY of a shard is rejected"; echo "# $out" ;; esac
check "nothing changed through the workers" "$before" "$(fingerprint)"
check "worker: pinned SELECT of the distributed table" "50" \
  "$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "SELECT amount FROM deals WHERE tenant_id = '$t2' AND id = 5" 2>&1)"

# on a worker: Citus' COPY into a shard carries no session tenant; every row
# is checked against the statement's tenant (the first row fixes it)
copy_shard() { printf "$2" | psql -X -q -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "COPY $1 FROM STDIN" 2>&1; }
before=$(fingerprint)
case $(copy_shard "$shard" "$t1\t700\t1\topen\t1\n$t2\t701\t1\topen\t1\n") in *"$TWO"*) ok "worker: COPY into a shard of two tenants' rows is rejected" ;;
  *) nok "worker: COPY into a shard of two tenants' rows is rejected" ;; esac
case $(copy_shard "$shard" "$t1\t702\t1\topen\t1\n\\\\N\t703\t1\topen\t1\n") in *"has no tenant"*) ok "worker: COPY into a shard with a NULL tenant is rejected" ;;
  *) nok "worker: COPY into a shard with a NULL tenant is rejected" ;; esac
out=$(PGAPPNAME='citus_internal gpid=10000000001' psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "DELETE FROM $shard" 2>&1)
case $out in *"$NOT_PINNED"*) ok "worker: a client calling itself citus_internal is checked" ;;
  *) nok "worker: a client calling itself citus_internal is checked"; echo "# $out" ;; esac
out=$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "BEGIN" -c "SELECT lock_relation_if_exists('$shard', 'EXCLUSIVE')" 2>&1)
case $out in *"LOCK TABLE in EXCLUSIVE MODE on tenant-scoped table \"$shard\" is not allowed"*) ok "worker: lock_relation_if_exists of a shard in EXCLUSIVE mode is rejected" ;;
  *) nok "worker: lock_relation_if_exists of a shard in EXCLUSIVE mode is rejected"; echo "# $out" ;; esac
out=$(psql -X -q -At -h 127.0.0.1 -p "$W1" -U regress_citus_app -d gtm -c "SET citus.enable_manual_changes_to_shards = on" -c "DELETE FROM $shard" 2>&1)
case $out in *"$NOT_PINNED"*) ok "worker: citus.enable_manual_changes_to_shards does not bypass the check" ;;
  *) nok "worker: citus.enable_manual_changes_to_shards does not bypass the check"; echo "# $out" ;; esac
check "nothing changed through the workers' COPY" "$before" "$(fingerprint)"

# --- more statement shapes (doc/scaling-out.md, "Statement shapes tried")
cq "$C" -o /dev/null <<'SQL' || { echo "Bail out! more schema"; exit 1; }
SET client_min_messages = warning;
-- not co-located with deals (5 shards), and a table distributed by another column
CREATE TABLE arch (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int, PRIMARY KEY (tenant_id, id));
SELECT create_distributed_table('arch', 'tenant_id', shard_count := 5, colocate_with := 'none');
CREATE TABLE arch_by_id (tenant_id text NOT NULL, id int NOT NULL, stage text, amount int);
SELECT create_distributed_table('arch_by_id', 'id');
INSERT INTO arch_by_id SELECT tenant_id, id, stage, amount FROM deals;
GRANT SELECT, INSERT, UPDATE, DELETE ON arch, arch_by_id TO regress_citus_app;
CREATE FUNCTION amount_of(t text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT sum(amount) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('amount_of(text)', 't', colocate_with := 'deals');
-- delegated to a worker even inside a transaction block
CREATE FUNCTION amount_forced(t text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN RETURN (SELECT sum(amount) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('amount_forced(text)', 't', colocate_with := 'deals', force_delegation := true);
SQL
arch() { cq "$C" -At -c "SELECT coalesce(string_agg(format('%s:%s:%s', t, n, s), ',' ORDER BY t), '-')
                          FROM (SELECT CASE tenant_id WHEN '$t1' THEN 't1' WHEN '$t2' THEN 't2' END t, count(*) n, sum(amount) s
                                FROM arch GROUP BY tenant_id) a"; }
before=$(fingerprint)
rejected "a prepared IN list of parameters is rejected" "$NOT_PINNED" \
  "PREPARE q(text, text) AS SELECT count(*) FROM deals WHERE tenant_id IN (\$1, \$2); EXECUTE q('$t1', '$t1')"
rejected "multi-shard UPDATE ... RETURNING through an OR is rejected" "$NOT_PINNED" \
  "UPDATE deals SET stage = 'x' WHERE tenant_id = '$t1' OR tenant_id = '$t2' RETURNING tenant_id, id"
rejected "DELETE ... RETURNING pinned, with a subquery of another tenant, is rejected" "$TWO" \
  "DELETE FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM notes WHERE tenant_id = '$t2') RETURNING *"
rejected "unpinned MERGE is rejected" "$NOT_PINNED" \
  "MERGE INTO deals d USING notes s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'merged'"
rejected "MERGE of another tenant's source (repartitioned) is rejected" "$TWO" \
  "MERGE INTO deals d USING (SELECT '$t1'::text AS t, deal_id FROM notes WHERE tenant_id = '$t2') s ON d.tenant_id = s.t AND d.id = s.deal_id WHEN MATCHED THEN UPDATE SET stage = 'merged'"
rejected "a data-modifying CTE of another tenant is rejected" "$TWO" \
  "WITH u AS (UPDATE deals SET stage = 'cte' WHERE tenant_id = '$t2' RETURNING id) SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM u)"
rejected "a distributed function called per row for two tenants is rejected" "$TWO" \
  "SELECT x, amount_of(x) FROM (VALUES ('$t1'), ('$t2')) v(x)"
rejected "a function of another tenant in a pinned query (run on the worker) is rejected" "$TWO" \
  "SELECT id, amount_of('$t2') FROM deals WHERE tenant_id = '$t1' AND id = 1"
rejected "a delegated function call while a cursor of another tenant is open is rejected" "$TWO" \
  "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t1' ORDER BY id; FETCH 1 FROM c; SELECT amount_forced('$t2')"
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "SELECT count(*) FROM deals WHERE tenant_id = '$t1'; SELECT amount_forced('$t2')" 2>&1)
check "a delegated function call after a pinned statement of the same query string is rejected" "5|ERROR:  $TWO" "$(echo "$out" | head -n 2 | paste -sd'|')"
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "SELECT amount_forced('$t2'); SELECT count(*) FROM deals WHERE tenant_id = '$t2'" 2>&1)
check "a pinned statement after a delegated function call of the same query string is rejected" "150|ERROR:  $TWO" "$(echo "$out" | head -n 2 | paste -sd'|')"
rejected "an unpinned cursor is rejected" "$NOT_PINNED" "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals; FETCH 2 FROM c; COMMIT"
rejected "a statement of another tenant while a cursor is open is rejected" "$TWO" \
  "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t1' ORDER BY id; FETCH 1 FROM c; SELECT count(*) FROM deals WHERE tenant_id = '$t2'"
rejected "router and fast-path planners off (SET by the role): unpinned UPDATE is rejected" "$NOT_PINNED" \
  "SET citus.enable_router_execution = off; SET citus.enable_fast_path_router_planner = off; SET citus.task_assignment_policy = 'round-robin'; UPDATE deals SET stage = 'x'"
rejected "a subquery of another tenant sent as an intermediate result is rejected" "$TWO" \
  "SELECT count(*) FROM deals WHERE tenant_id = '$t1' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')"
rejected "INSERT of two tenants' rows into a reference table is rejected" "$TWO" \
  "INSERT INTO tenant_labels VALUES ('$t1', 'a'), ('$t2', 'b')"
rejected "LOCK ... IN ACCESS EXCLUSIVE MODE is rejected" "not allowed" "BEGIN; LOCK deals IN ACCESS EXCLUSIVE MODE"
rejected "lock_relation_if_exists (Citus, PUBLIC) in ACCESS EXCLUSIVE mode is judged as LOCK TABLE: rejected" "LOCK TABLE in ACCESS EXCLUSIVE MODE on tenant-scoped table \"deals\" is not allowed" \
  "BEGIN; SELECT lock_relation_if_exists('deals', 'ACCESS EXCLUSIVE')"
rejected "lock_relation_if_exists with arguments read from a table is refused" "must be called with constant arguments" \
  "BEGIN; SELECT lock_relation_if_exists(name, 'EXCLUSIVE') FROM stages"
rejected "run_command_on_shards as the role: every shard query is checked" "$NOT_PINNED" \
  "SELECT result FROM run_command_on_shards('deals', 'UPDATE %s SET stage = ''x''') LIMIT 1"
rejected "COPY FROM into a distributed table with a session tenant: Citus refuses the checked COPY" "Citus does not support COPY FROM with WHERE" \
  "SELECT gtm_set_tenant('$t2', false) IS NOT NULL; COPY deals FROM STDIN"
check "no rejected statement changed or inserted a row" "$before" "$(fingerprint)"
check "prepared fast-path UPDATE ... RETURNING, 6 runs then the other tenant: only those rows" \
  "$(printf 't1|1\nt1|1\nt1|1\nt1|1\nt1|1\nt1|1\nt2|2')" \
  "$(app "$C" "PREPARE u(text, int) AS UPDATE deals SET amount = amount WHERE tenant_id = \$1 AND id = \$2 RETURNING tenant_id, id;
     EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t1', 1); EXECUTE u('$t2', 2)" |
     sed "s/^$t1|/t1|/; s/^$t2|/t2|/")"
check "gtm_current_tenant() in a prepared UPDATE, tenant set per transaction, switched after 6 runs" \
  "$(printf 't1\nt1\nt1\nt1\nt1\nt1\nt2')" \
  "$(app "$C" "PREPARE cu AS UPDATE deals SET amount = amount WHERE tenant_id = gtm_current_tenant() AND id = 1 RETURNING tenant_id;
     $(for i in 1 2 3 4 5 6; do echo "BEGIN; SELECT gtm_set_tenant('$t1') IS NULL; EXECUTE cu; COMMIT;"; done)
     BEGIN; SELECT gtm_set_tenant('$t2') IS NULL; EXECUTE cu; COMMIT;" | grep -v '^f$' | sed "s/^$t1$/t1/; s/^$t2$/t2/")"
check "pinned MERGE changes that tenant's matched rows only" "t2:merged:2" \
  "$(app "$C" "MERGE INTO deals d USING (SELECT tenant_id, id FROM notes WHERE tenant_id = '$t2' AND id < 3) s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'merged'";
     cq "$C" -At -c "SELECT string_agg(CASE tenant_id WHEN '$t2' THEN 't2' ELSE 't1' END || ':' || stage || ':' || n, ',') FROM (SELECT tenant_id, stage, count(*) n FROM deals WHERE stage = 'merged' GROUP BY 1, 2) s")"
before=$(fingerprint)
rejected "MERGE from a source distributed differently (repartitioned), target pinned only through the join: the workers reject it" "$NOT_PINNED" \
  "MERGE INTO deals d USING (SELECT tenant_id, id FROM arch_by_id WHERE tenant_id = '$t1') s ON d.tenant_id = s.tenant_id AND d.id = s.id WHEN MATCHED THEN UPDATE SET stage = 'm2'"
check "... and changed nothing" "$before" "$(fingerprint)"
check "the same MERGE with the target pinned in ON: that tenant's matched rows only" "t1:m2:5" \
  "$(app "$C" "MERGE INTO deals d USING (SELECT tenant_id, id FROM arch_by_id WHERE tenant_id = '$t1') s ON d.tenant_id = s.tenant_id AND d.id = s.id AND d.tenant_id = '$t1' WHEN MATCHED THEN UPDATE SET stage = 'm2'";
     cq "$C" -At -c "SELECT string_agg(CASE tenant_id WHEN '$t1' THEN 't1' ELSE 't2' END || ':' || stage || ':' || n, ',') FROM (SELECT tenant_id, stage, count(*) n FROM deals WHERE stage = 'm2' GROUP BY 1, 2) s")"
check "a delegated distributed function call, pinned by its argument" "150|150|15" \
  "$(app "$C" "SELECT amount_of('$t2'); SELECT amount_forced('$t2'); BEGIN; SELECT amount_forced('$t1'); COMMIT" | paste -sd'|')"
check "router and fast-path planners off: pinned SELECT gives that tenant's rows" "150" \
  "$(app "$C" "SET citus.enable_router_execution = off; SET citus.enable_fast_path_router_planner = off; SELECT sum(amount) FROM deals WHERE tenant_id = '$t2' AND id < 100")"
check "LOCK TABLE in ROW EXCLUSIVE MODE (Citus sends lock_relation_if_exists to the workers), then a pinned SELECT" "5" \
  "$(app "$C" "BEGIN; LOCK deals IN ROW EXCLUSIVE MODE; SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id < 100; COMMIT")"
check "pinned UPDATE of a reference table with a tenant column: that tenant's row, on every placement" "gold:1,trial:1|gold:1,trial:1|gold:1,trial:1" \
  "$(app "$C" "UPDATE tenant_labels SET label = 'gold' WHERE tenant_id = '$t1'"
     for p in "$C" "$W1" "$W2"; do cq "$p" -At -c "SELECT string_agg(l, ',' ORDER BY l) FROM (SELECT format('%s:%s', label, count(*)) l FROM tenant_labels GROUP BY label) s"; done | paste -sd'|')"
cq "$C" -c "UPDATE tenant_labels SET label = 'vip' WHERE tenant_id = '$t1'" >/dev/null
check "pinned cursor: FETCH returns that tenant's rows" "$(printf '1\n2')" \
  "$(app "$C" "BEGIN; DECLARE c CURSOR FOR SELECT id FROM deals WHERE tenant_id = '$t2' ORDER BY id; FETCH 2 FROM c; COMMIT")"

# INSERT ... SELECT between differently distributed tables
check "INSERT ... SELECT into a table distributed differently (would repartition), pinned: that tenant's rows" "t1:5:15" \
  "$(app "$C" "INSERT INTO arch SELECT tenant_id, id, stage, amount FROM arch_by_id WHERE tenant_id = '$t1'"; arch)"
check "INSERT ... SELECT into a non-co-located table (via the coordinator), pinned: that tenant's rows" "t1:5:15,t2:7:152" \
  "$(app "$C" "INSERT INTO arch SELECT tenant_id, id, stage, amount FROM deals WHERE tenant_id = '$t2'"; arch)" 
check "prepared repartition INSERT ... SELECT, pinned by a parameter, 6 runs" "t1:11:21,t2:7:152" \
  "$(app "$C" "PREPARE ri(text, int) AS INSERT INTO arch SELECT tenant_id, id + \$2, stage, amount FROM arch_by_id WHERE tenant_id = \$1 AND id = 1;
     $(for i in 1 2 3 4 5 6; do echo "EXECUTE ri('$t1', $((1000 + i)));"; done)"; arch)"
before=$(arch)
rejected "repartition INSERT ... SELECT of one tenant's rows as another's is rejected" "$TWO" \
  "INSERT INTO arch SELECT '$t2', id + 2000, stage, amount FROM arch_by_id WHERE tenant_id = '$t1'"
rejected "repartition INSERT ... SELECT of every tenant is rejected" "$NOT_PINNED" \
  "INSERT INTO arch SELECT tenant_id, id + 3000, stage, amount FROM arch_by_id"
rejected "the same, prepared, after 6 runs of one tenant, with two" "$TWO" \
  "PREPARE r2(text, text, int) AS INSERT INTO arch SELECT \$2, id + \$3, stage, amount FROM arch_by_id WHERE tenant_id = \$1 AND id = 2;
   $(for i in 1 2 3 4 5 6; do echo "EXECUTE r2('$t1', '$t1', $((4000 + i)));"; done) EXECUTE r2('$t1', '$t2', 4100)" 
cq "$C" -c "DELETE FROM arch WHERE id > 4000" >/dev/null
rejected "INSERT ... SELECT via the coordinator with ON CONFLICT: the workers cannot judge it (fail closed)" "$NOT_PINNED" \
  "INSERT INTO arch SELECT tenant_id, id, stage, amount FROM deals WHERE tenant_id = '$t2' ON CONFLICT (tenant_id, id) DO UPDATE SET stage = 'conflict'"
check "no rejected INSERT ... SELECT wrote a row" "$before" "$(arch)"

# --- intermediate results of another session's distributed transaction
# (doc/scaling-out.md, "Intermediate results of another session").  The
# victim, a session of the same role pinned to T2, holds its transaction open
# after two statements whose intermediate results Citus keeps until it ends:
# a CTE it plans separately (kept on the coordinator) and a subquery it
# broadcasts to the worker of T2's shard.  A second session of the role tries
# to join that transaction with assign_distributed_transaction_id() (the
# running ids are listed by get_all_active_transactions()) and read them.
PGAPPNAME=gtm_victim psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm -c "BEGIN" \
  -c "WITH o AS MATERIALIZED (SELECT id, amount FROM arch_by_id WHERE tenant_id = '$t2') SELECT count(*) FROM o" \
  -c "SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')" \
  -c "SELECT pg_sleep(120)" -c "COMMIT" >"$dir/victim.out" 2>&1 &
victim=$!
for i in $(seq 1 100); do
  [ "$(cq "$C" -At -c "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gtm_victim' AND query LIKE 'SELECT pg_sleep%'")" = 1 ] && break
  sleep 0.2
done
vpid=$(cq "$C" -At -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'gtm_victim'")
# what the attacker sees, as the role
vtx=$(app "$C" "SELECT transaction_number || '|' || transaction_stamp FROM get_all_active_transactions() WHERE process_id = ${vpid:-0}")
vstamp=${vtx#*|} vtx=${vtx%%|*}
# where the victim's results are (as the superuser, for the test only)
results() {  # port: the victim's result ids on that node
  cq "$1" -At -c "SELECT string_agg(replace(f, '.data', ''), ',' ORDER BY f) FROM pg_ls_dir('base/pgsql_job_cache') d,
    LATERAL pg_ls_dir('base/pgsql_job_cache/' || d) f WHERE d LIKE format('%s\_0\_%s', (SELECT oid FROM pg_roles WHERE rolname = 'regress_citus_app'), '$vtx')"; }
cres=$(results "$C") cres=${cres%%,*}
wport= wres=
for p in "$W1" "$W2"; do r=$(results "$p"); if [ -n "$r" ]; then wport=$p wres=$r; fi; done
t2rows=$(cq "$C" -At -c "SELECT id || '|' || amount FROM arch_by_id WHERE tenant_id = '$t2' ORDER BY 1")
t2ids=$(cq "$C" -At -c "SELECT string_agg(id::text, ',' ORDER BY id) FROM arch_by_id WHERE tenant_id = '$t2'")
read_coord="SELECT id || '|' || amount FROM read_intermediate_result('$cres', 'binary') AS r(id int, amount int) ORDER BY 1"
read_worker="SELECT string_agg(id::text, ',' ORDER BY id) FROM read_intermediate_result('$wres', 'binary') AS r(id int)"
# on_worker SQL: run_command_on_workers as the role, the result of the worker holding the victim's subquery result
on_worker() { app "$C" "SELECT success || '|' || coalesce(result, '') FROM run_command_on_workers(\$cmd\$$1\$cmd\$) WHERE nodeport = ${wport:-0}"; }
TXN='assign_distributed_transaction_id() may be called only as Citus calls it'
out=$(app "$C" "BEGIN; SELECT assign_distributed_transaction_id(0, ${vtx:-0}, now()); $read_coord; COMMIT")
check "coordinator: joining another session's distributed transaction (assign_distributed_transaction_id) is refused; no row of it is read" \
  "yes|" "$(echo "$out" | grep -q "^ERROR:  $TXN" && [ -n "$cres" ] && echo yes)|$(echo "$out" | grep -E '^[0-9]+\|[0-9]+$')"
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_app -d gtm \
  -c "BEGIN TRANSACTION ISOLATION LEVEL READ COMMITTED;SELECT assign_distributed_transaction_id(0, ${vtx:-0}, '$vstamp');" -c "$read_coord" 2>&1)
check "coordinator: the same in Citus' own form, then a read: refused (a transaction of the coordinator); no row" \
  "yes|" "$(echo "$out" | grep -q "^ERROR:  assign_distributed_transaction_id() of a transaction of the coordinator is not allowed on the coordinator" && echo yes)|$(echo "$out" | grep -E '^[0-9]+\|[0-9]+$')"
check "worker, through run_command_on_workers: assign_distributed_transaction_id in a FROM list is refused; no row" \
  "false|ERROR:  $TXN" "$(on_worker "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT assign_distributed_transaction_id(0, ${vtx:-0}, now())) a, LATERAL read_intermediate_result('$wres', 'binary') AS r(id int)")"
check "worker, through run_command_on_workers: assign_distributed_transaction_id followed by a read in the same string is refused" \
  "false|ERROR:  $TXN" "$(on_worker "SELECT assign_distributed_transaction_id(0, ${vtx:-0}, '$vstamp'); $read_worker")"
# the same attacks with the check off for the role: they read the victim's rows
# (what the refusals above keep from it)
cq "$C" -c "ALTER ROLE regress_citus_app SET gtm.enforcement = off" >/dev/null
out=$(app "$C" "BEGIN; SELECT assign_distributed_transaction_id(0, ${vtx:-0}, now()); $read_coord; COMMIT" | grep -E '^[0-9]+\|[0-9]+$')
check "control, gtm.enforcement off for the role: the same attacks read T2's rows on the coordinator and on the worker" \
  "$t2rows|true|$t2ids" "$out|$(on_worker "SELECT string_agg(id::text, ',' ORDER BY id) FROM (SELECT assign_distributed_transaction_id(0, ${vtx:-0}, now())) a, LATERAL read_intermediate_result('$wres', 'binary') AS r(id int)")"
cq "$C" -c "ALTER ROLE regress_citus_app RESET gtm.enforcement" >/dev/null
cq "$C" -c "SELECT pg_cancel_backend(${vpid:-0})" >/dev/null
wait "$victim"
check "the victim's own statements read their intermediate results (Citus' own use)" \
  "$(echo "$t2rows" | wc -l)|$(cq "$C" -At -c "SELECT count(*) FROM deals WHERE tenant_id = '$t2' AND id IN (SELECT id FROM arch_by_id WHERE tenant_id = '$t2')")" \
  "$(grep -E '^[0-9]+$' "$dir/victim.out" | paste -sd'|')"
check "an exempt role (superuser) may call assign_distributed_transaction_id" "987654" \
  "$(cq "$C" -At -c "BEGIN" -c "SELECT assign_distributed_transaction_id(0, 987654, now())" -c "SELECT transaction_number FROM get_current_transaction_id()" -c "ROLLBACK" | grep -v '^$')"
# Citus joins a worker's transaction on the coordinator: a delegated function
# that writes a reference table (the coordinator holds a placement of it)
cq "$C" -o /dev/null <<'SQL' || { echo "Bail out! label function"; exit 1; }
CREATE FUNCTION add_label(t text, l text) RETURNS bigint LANGUAGE plpgsql AS
  $$ BEGIN INSERT INTO tenant_labels VALUES (t, l); RETURN (SELECT count(*) FROM deals WHERE tenant_id = t AND id < 100); END $$;
SELECT create_distributed_function('add_label(text,text)', 't', colocate_with := 'deals');
SQL
check "a delegated function writing a reference table (Citus calls assign_distributed_transaction_id on the coordinator for the worker's transaction): its row on every placement" \
  "5|1|1|1" "$(app "$C" "SELECT add_label('$t2', 'delegated')")|$(for p in "$C" "$W1" "$W2"; do
     cq "$p" -At -c "SELECT count(*) FROM tenant_labels WHERE tenant_id = '$t2' AND label = 'delegated'"; done | paste -sd'|')"
cq "$C" -c "DELETE FROM tenant_labels WHERE label = 'delegated'" >/dev/null
out=$(app "$C" "SET citus.enable_local_execution = off; BEGIN; INSERT INTO tenant_labels VALUES ('$t2', 'nolocal'); COMMIT")
check "citus.enable_local_execution off: Citus' connection to the coordinator itself is refused (fail closed), nothing written" \
  "yes|0" "$(echo "$out" | grep -q "^ERROR:  assign_distributed_transaction_id() of a transaction of the coordinator" && echo yes)|$(cq "$C" -At -c "SELECT count(*) FROM tenant_labels WHERE label = 'nolocal'")"

# --- modes and exemptions on the coordinator
cq "$C" -c "ALTER ROLE regress_citus_app SET gtm.enforcement = warn" >/dev/null
out=$(app "$C" "SELECT sum(amount) FROM deals WHERE id < 6")
cq "$C" -c "ALTER ROLE regress_citus_app RESET gtm.enforcement" >/dev/null
check "warn mode (ALTER ROLE, propagated): the unpinned SELECT runs, with the warning" "165|yes" \
  "$(echo "$out" | tail -n 1)|$(echo "$out" | grep -q "^WARNING:  tenant-scoped table \"deals\" (alias \"deals\") $NOT_PINNED" && echo yes)"
check "superuser is exempt on the cluster" "12" \
  "$(cq "$C" -At -c "SELECT count(*) FROM deals")"
out=$(cq "$C" -c "SELECT gtm_exempt_table('deals')" 2>&1 >/dev/null)
check "gtm_exempt_table of a Citus table says it is exempt on this node only" "yes" \
  "$(echo "$out" | grep -q '^NOTICE:  "deals" is exempt on this node only' && echo yes)"
check "exempted on the coordinator only: the workers still check the shard queries" "yes" \
  "$(app "$C" "SELECT count(*) FROM deals WHERE amount >= 0" | grep -q "^ERROR:  tenant-scoped table \"deals_[0-9]*\" (alias \"deals\") $NOT_PINNED" && echo yes)"
cq "$C" -c "SELECT run_command_on_workers(\$\$SELECT gtm_exempt_table('deals')\$\$)" >/dev/null
check "exempted on every node: not checked, shards follow their table" "12" \
  "$(app "$C" "SELECT count(*) FROM deals WHERE amount >= 0")"
cq "$C" -c "SELECT run_command_on_all_nodes(\$\$SELECT gtm_unexempt_table('deals')\$\$)" >/dev/null
rejected "unexempted on every node: checked again" "$NOT_PINNED" "SELECT count(*) FROM deals WHERE amount >= 0"

# SET LOCAL of gtm.* with citus.propagate_set_commands = 'local': Citus
# replays it on the workers' connections, as the connecting role; gtm.* may be
# set by superusers only, so it reaches the workers for a superuser and fails
# (the statement with it) for an ordinary role
check "SET LOCAL gtm.enforcement, propagated (citus.propagate_set_commands = local), reaches the workers" "warn|$(cq "$C" -At -c "SELECT nodeport FROM pg_dist_shard_placement WHERE shardid = get_shard_id_for_distribution_column('deals', '$t1')")" \
  "$(cq "$C" -At -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL gtm.enforcement = 'warn'" \
       -c "SELECT current_setting('gtm.enforcement'), current_setting('port') FROM deals WHERE tenant_id = '$t1' LIMIT 1" -c "COMMIT")"
before=$(fingerprint)
out=$(psql -X -q -At -h 127.0.0.1 -p "$C" -U postgres -d gtm -c "BEGIN" -c "SET LOCAL citus.propagate_set_commands = 'local'" -c "SET LOCAL gtm.enforcement = 'warn'" \
       -c "SET LOCAL ROLE regress_citus_app" -c "UPDATE deals SET stage = 'warned'" -c "COMMIT" 2>&1)
check "propagated to a connection of an ordinary role: the workers refuse it, nothing changed" "yes|$before" \
  "$(echo "$out" | grep -q 'permission denied to set parameter "gtm.enforcement"' && echo yes)|$(fingerprint)"

# --- the table owner and Citus' table-management functions
cq "$C" -o /dev/null -c "CREATE ROLE regress_citus_owner LOGIN" -c "GRANT CREATE ON SCHEMA public TO regress_citus_owner"
owner() { psql -X -q -At -h 127.0.0.1 -p "$C" -U regress_citus_owner -d gtm -f - <<<"$1" 2>&1 | sed 's/^psql:<stdin>:[0-9]*: //'; }
owner "CREATE TABLE owned (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));" >/dev/null
cq "$C" -c "INSERT INTO owned VALUES ('$t1', 1), ('$t2', 2)" >/dev/null
out=$(owner "SELECT create_distributed_table('owned', 'tenant_id');")
check "an owner that is not exempt cannot distribute a table with rows (Citus' own query is checked); it stays local" \
  "ERROR:  tenant-scoped table \"owned\" (alias \"owned\") $NOT_PINNED|0" \
  "$(echo "$out" | head -n 1)|$(cq "$C" -At -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'owned'::regclass")"
cq "$C" -c "ALTER ROLE regress_citus_owner BYPASSRLS" >/dev/null
check "a BYPASSRLS owner distributes and undistributes a table with rows" "|2||2" \
  "$(owner "CREATE TABLE owned2 (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO owned2 VALUES ('$t1', 1), ('$t2', 2);
SELECT create_distributed_table('owned2', 'tenant_id');
SELECT count(*) FROM owned2;
SELECT undistribute_table('owned2');
SELECT count(*) FROM owned2;" | grep -v '^NOTICE\|^DETAIL\|^HINT' | paste -sd'|')"

check "a BYPASSRLS owner changes the shard count of a distributed table with rows (alter_distributed_table)" "4|2" \
  "$(owner "CREATE TABLE owned3 (tenant_id text NOT NULL, id int NOT NULL, PRIMARY KEY (tenant_id, id));
INSERT INTO owned3 VALUES ('$t1', 1), ('$t2', 2);
SELECT create_distributed_table('owned3', 'tenant_id', colocate_with := 'none');
SELECT alter_distributed_table('owned3', shard_count := 4);" >/dev/null
     cq "$C" -At -c "SELECT shard_count FROM citus_tables WHERE table_name = 'owned3'::regclass" -c "SELECT count(*) FROM owned3" | paste -sd'|')"
cq "$C" -c "ALTER ROLE regress_citus_owner NOBYPASSRLS" >/dev/null
out=$(owner "SELECT alter_distributed_table('owned3', shard_count := 6);")
check "an owner that is not exempt cannot alter_distributed_table (Citus' own query is checked); the table stays as it was" \
  "yes|4|2" "$(echo "$out" | grep -q "^ERROR:  tenant-scoped table .*$NOT_PINNED" && echo yes)|$(
     cq "$C" -At -c "SELECT shard_count FROM citus_tables WHERE table_name = 'owned3'::regclass" -c "SELECT count(*) FROM owned3" | paste -sd'|')"
out=$(owner "SELECT undistribute_table('owned3');")
check "an owner that is not exempt cannot undistribute_table; the table stays distributed, with its rows" \
  "yes|1|2" "$(echo "$out" | grep -q "^ERROR:  tenant-scoped table .*$NOT_PINNED" && echo yes)|$(
     cq "$C" -At -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'owned3'::regclass" -c "SELECT count(*) FROM owned3" | paste -sd'|')"
cq "$C" -c "SELECT run_command_on_all_nodes(\$\$SELECT gtm_exempt_table('owned3')\$\$)" >/dev/null
out=$(owner "SELECT undistribute_table('owned3');")
check "exempting the table on every node does not let such an owner undistribute it (Citus writes through new tables)" \
  "yes|1|2" "$(echo "$out" | grep -q "^ERROR:  tenant-scoped table .*$NOT_PINNED" && echo yes)|$(
     cq "$C" -At -c "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid = 'owned3'::regclass" -c "SELECT count(*) FROM owned3" | paste -sd'|')"

# --- the workers accept the application role only from the cluster's nodes
# (pg_hba.conf; doc/scaling-out.md, Topology): a client connected to a worker
# could send assign_distributed_transaction_id() in Citus' own form and read
# in its next statement, which the worker cannot tell from Citus'
# connection.  Every node here is on 127.0.0.1, where Citus connects from;
# the worker's Unix socket stands for any other address.
{ echo "local gtm regress_citus_app reject"; cat "$dir/n1/pg_hba.conf"; } >"$dir/hba" && cat "$dir/hba" >"$dir/n1/pg_hba.conf"
cq "$W1" -c "SELECT pg_reload_conf()" >/dev/null
out=$(psql -X -q -At -h "$dir" -p "$W1" -U regress_citus_app -d gtm -c "SELECT 1" 2>&1)
check "worker with the pg_hba.conf rule: the role connecting from another address is refused" "yes" \
  "$(echo "$out" | grep -q 'pg_hba.conf rejects connection' && echo yes)"
check "... while Citus, connecting as the role from the nodes' address, still runs a distributed transaction on both workers" \
  "$(cq "$C" -At -c "SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement WHERE shardid IN (get_shard_id_for_distribution_column('deals', '$t1'), get_shard_id_for_distribution_column('deals', '$t2'))")|1|1" \
  "2|$(app "$C" "BEGIN; UPDATE deals SET amount = amount WHERE tenant_id = '$t1' AND id = 1 RETURNING id; UPDATE deals SET amount = amount WHERE tenant_id = '$t2' AND id = 1 RETURNING id; COMMIT" | paste -sd'|')"

[ "$n" = 108 ] || echo "# ran $n tests, planned 108"
exit $((failed > 0))
