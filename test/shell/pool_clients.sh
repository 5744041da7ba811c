#!/usr/bin/env bash
# pool_clients: the product behind connection pools, driven by a Node
# application (node-postgres, test/node/pool_clients.js), issue 8:
#   - PgBouncer (Debian's package, started here on a free port in
#     transaction pooling mode, a pool of 4 server connections for 20
#     clients): 20 clients x 50 requests x 3 tenants, each request a
#     transaction that sets its tenant and reads its rows;
#   - a client that sets a tenant, then a later client on the same server
#     connection (a pool of 1) that sets none: an error, never rows;
#     protocol-level prepared statements, unnamed and named;
#   - the same with a plain pg.Pool and no PgBouncer.
# TAP output.  Runs against the server of the environment (PGHOST, PGPORT,
# PGUSER; t/052 gives it a server of its own, also on 127.0.0.1 with
# password authentication).  PgBouncer listens on the first free port from
# GTM_POOL_PORT (default 5481).  pgbouncer, node and node-postgres are
# installed by test/run.sh (test/lib/setup.sh, test/lib/node.sh).
set -u
cd "$(dirname "$0")/../.."
top=$(pwd)
db=gtm_pool
role=pool_app
pw=pool_app_pw
T1=11111111-1111-4111-8111-111111111111
T2=22222222-2222-4222-8222-222222222222
T3=33333333-3333-4333-8333-333333333333
n=0 failed=0
ok() { n=$((n + 1)); if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; failed=1; fi; }
q() { psql -X -q -At -v ON_ERROR_STOP=1 -d "$db" -c "$1"; }

tmp=$(mktemp -d /tmp/gtm_pool.XXXXXX)
chmod 755 "$tmp"
bouncer_pid=
cleanup() {
  if [ -s "$tmp/pgbouncer.pid" ]; then kill "$(cat "$tmp/pgbouncer.pid")" 2>/dev/null; fi
  if [ -n "$bouncer_pid" ]; then wait "$bouncer_pid" 2>/dev/null; fi
  rm -rf "$tmp"
  dropdb --if-exists "$db" >/dev/null 2>&1
  psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
}
trap cleanup EXIT

# node-postgres: a copy in the tree (the roots of test/run.sh), or the cache
node_modules=
for d in "$top/test/node_modules" "${GTM_NODE_MODULES:-}" /var/cache/gtm_clarity/node/node_modules; do
  if [ -n "$d" ] && [ -f "$d/pg/package.json" ]; then node_modules=$d; break; fi
done
pgbouncer=$(command -v pgbouncer || ls /usr/sbin/pgbouncer 2>/dev/null || true)

echo "1..41"
ok "pgbouncer is installed (Debian package)" '[ -n "$pgbouncer" ]'
ok "node and node-postgres are installed" 'command -v node >/dev/null && [ -n "$node_modules" ]'

dropdb --if-exists "$db" >/dev/null 2>&1
psql -X -q -d postgres -c "DROP ROLE IF EXISTS $role" >/dev/null 2>&1
createdb "$db"
psql -X -q -v ON_ERROR_STOP=1 -d "$db" >/dev/null <<SQL
SET client_min_messages = warning;
CREATE EXTENSION gtm_clarity;
CREATE ROLE $role LOGIN PASSWORD '$pw';
INSERT INTO tenants (id, clerk_org_id, name, slug) VALUES
  ('$T1', 'org_pool1', 'Pool One', 'pool-one'),
  ('$T2', 'org_pool2', 'Pool Two', 'pool-two'),
  ('$T3', 'org_pool3', 'Pool Three', 'pool-three');
CREATE TABLE pool_deals (tenant_id text NOT NULL, id int NOT NULL, label text NOT NULL,
                         PRIMARY KEY (tenant_id, id));
INSERT INTO pool_deals
  SELECT t.id, i, t.label || '-deal-' || i
    FROM (VALUES ('$T1', 'one'), ('$T2', 'two'), ('$T3', 'three')) t(id, label),
         generate_series(1, 5) i;
CREATE TABLE pool_secret (tenant_id text NOT NULL, x int);
GRANT SELECT ON pool_deals TO $role;
SQL

# PgBouncer: transaction pooling, 4 server connections for 20 clients (and
# an alias with 1, so that consecutive clients share one); no reset query,
# so nothing but the extension clears a tenant between clients.
port=
p0=${GTM_POOL_PORT:-5481}   # the first port tried
for p in $(seq "$p0" $((p0 + 9))); do
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
cat > "$tmp/pgbouncer.ini" <<INI
[databases]
$db = host=127.0.0.1 port=$PGPORT dbname=$db pool_size=4
${db}_one = host=127.0.0.1 port=$PGPORT dbname=$db pool_size=1

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $tmp/users.txt
pool_mode = transaction
max_client_conn = 100
default_pool_size = 4
server_reset_query =
server_connect_timeout = 5
query_wait_timeout = 30
ignore_startup_parameters = extra_float_digits
logfile = $tmp/pgbouncer.log
pidfile = $tmp/pgbouncer.pid
INI
echo "\"$role\" \"$pw\"" > "$tmp/users.txt"
if [ "$(id -u)" -eq 0 ]; then
  chown -R postgres "$tmp"        # PgBouncer refuses to run as root
  runuser -u postgres -- "$pgbouncer" "$tmp/pgbouncer.ini" >/dev/null 2>&1 &
else
  "$pgbouncer" "$tmp/pgbouncer.ini" >/dev/null 2>&1 &
fi
bouncer_pid=$!
for _ in $(seq 50); do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
  sleep 0.2
done
ok "PgBouncer runs in transaction pooling mode on port $port" \
  '[ -n "$port" ] && [ "$(PGPASSWORD=$pw timeout 60 psql -X -At -h 127.0.0.1 -p "$port" -U "$role" -d "$db" -c "SELECT 1" 2>/dev/null)" = 1 ]'

conf() { printf '{"host":"127.0.0.1","port":%s,"user":"%s","password":"%s","database":"%s"}' "$1" "$role" "$pw" "$2"; }
tenants="[{\"id\":\"$T1\",\"label\":\"one-\"},{\"id\":\"$T2\",\"label\":\"two-\"},{\"id\":\"$T3\",\"label\":\"three-\"}]"

# Run the Node program; each "check ok|fail ..." line becomes a test.
run_node() {  # mode pooled-conf single-conf
  local out line
  out=$(NODE_PATH=$node_modules timeout 300 node test/node/pool_clients.js "$1" "$2" "$3" "$tenants" 2>&1)
  while IFS= read -r line; do
    case $line in
      "check ok "*) ok "$1: ${line#check ok }" true ;;
      "check fail "*) ok "$1: ${line#check fail }" false ;;
      *) echo "# $line" ;;
    esac
  done <<<"$out"
}

run_node pgbouncer "$(conf "$port" "$db")" "$(conf "$port" "${db}_one")"
servers=$(psql -X -At -d postgres -c "SELECT count(*) FROM pg_stat_activity WHERE usename = '$role'")
ok "PgBouncer served the 20 clients with at most 5 server connections ($servers)" \
  '[ "$servers" -ge 1 ] && [ "$servers" -le 5 ]'
run_node direct "$(conf "$PGPORT" "$db")" "$(conf "$PGPORT" "$db")"

counts=$(q "SELECT string_agg(n::text, ',' ORDER BY t) FROM (SELECT tenant_id t, count(*) n FROM pool_deals GROUP BY 1) s")
ok "the data is unchanged (15 rows, 5 per tenant)" '[ "$counts" = "5,5,5" ]'
exit $failed
