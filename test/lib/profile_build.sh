#!/usr/bin/env bash
# test/lib/profile_build.sh -- build and install gtm_clarity with GCC's
# profile feedback (make profile-install; test/lib/setup.sh's
# gtm_build_install, so the test suite and the benchmarks run this build).
#
#   PG_CONFIG=... [SUDO=sudo] bash test/lib/profile_build.sh
#
# from the source tree, as root or as a user who may install into
# PG_CONFIG's directories (or with SUDO=sudo); the training server runs as
# postgres when this runs as root (initdb refuses root).
#
# The check runs on every statement, and what it costs there is mostly
# where its code lies, not how much of it runs: the common statements run
# a few hundred instructions of it, spread over the rare branches of the
# same functions (doc/benchmarks.md, "code footprint").  Only a profile
# tells the compiler which branches are rare.  A profile belongs to one
# state of the source and one compiler, so none is shipped: it is made
# here, from the source being built, by the compiler building it:
#   1. the per-statement files (GTM_HOT_OBJS) are built instrumented
#      (GTM_PROFILE=generate) and installed;
#   2. a throwaway server (initdb in a temporary directory, on
#      GTM_PROFILE_PORT, default 5598) preloads that build and runs a
#      training workload of application statements as an ordinary role:
#      point selects, a join, an ORM-style aggregate, updates, inserts and
#      deletes by key, each pinned by a literal, a parameter or
#      gtm_current_tenant(), over the simple, extended and prepared
#      protocols; its backends write their counts when they exit;
#   3. the library is built again with those counts (GTM_PROFILE=use:
#      -fprofile-use -fprofile-partial-training, so that a function the
#      training did not run is optimised as without a profile) and
#      installed.
# A profile changes where the compiler puts code and what it inlines, not
# what the code does.  Without GCC (GTM_OPTIMIZE=no) this is a plain build.
set -euo pipefail
PG_CONFIG=${PG_CONFIG:-pg_config}
BIN=$("$PG_CONFIG" --bindir)
port=${GTM_PROFILE_PORT:-5598}
SUDO=${SUDO:-}

if [ "$(make -s -f Makefile PG_CONFIG="$PG_CONFIG" print-gtm-optimize 2>/dev/null)" != yes ]; then
  make -s clean >/dev/null
  make -s PG_CONFIG="$PG_CONFIG"
  $SUDO make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
  exit 0
fi

as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
work=$(mktemp -d /tmp/gtm_profile.XXXXXX)
chmod 755 "$work"
mkdir "$work/counts"
chmod 777 "$work/counts"		# the server's backends write there
[ "$(id -u)" -eq 0 ] && chown postgres "$work"
stop() { as_pg "$BIN/pg_ctl" -D "$work/data" -m fast stop >/dev/null 2>&1 || true; }
trap 'stop; rm -rf "$work"' EXIT
prof=(GTM_PROFILE_DIR="$work/counts" PG_CONFIG="$PG_CONFIG")

echo "== profile-guided build: 1. instrumented"
make -s clean >/dev/null
make -s GTM_PROFILE=generate "${prof[@]}"
$SUDO make -s install GTM_PROFILE=generate "${prof[@]}" >/dev/null

echo "== profile-guided build: 2. training"
as_pg "$BIN/initdb" -D "$work/data" -A trust -U postgres >/dev/null
cat >> "$work/data/postgresql.conf" <<CONF
port = $port
listen_addresses = ''
unix_socket_directories = '$work'
shared_preload_libraries = 'gtm_clarity'
fsync = off
autovacuum = off
jit = off
CONF
as_pg "$BIN/pg_ctl" -D "$work/data" -l "$work/log" -w start >/dev/null 9>&-
psql_() { "$BIN/psql" -h "$work" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
psql_ -U postgres -d postgres -c "CREATE ROLE train_app LOGIN" -c "CREATE DATABASE train"
psql_ -U postgres -d train <<'SQL'
CREATE EXTENSION gtm_clarity;
CREATE TABLE deals (tenant_id text NOT NULL, id int NOT NULL, stage text, amount numeric,
                    PRIMARY KEY (tenant_id, id));
CREATE TABLE contacts (tenant_id text NOT NULL, id int NOT NULL, deal_id int, email text,
                       PRIMARY KEY (tenant_id, id));
CREATE INDEX ON contacts (tenant_id, deal_id);
CREATE TABLE activities (tenant_id text NOT NULL, contact_id int, kind text);
CREATE INDEX ON activities (tenant_id, contact_id);
INSERT INTO deals SELECT t::text, d, 'open', d FROM generate_series(1, 20) t, generate_series(1, 500) d;
INSERT INTO contacts SELECT tenant_id, id, id, 'c' || id || '@x' FROM deals;
INSERT INTO activities SELECT tenant_id, id, 'call' FROM contacts;
GRANT SELECT, INSERT, UPDATE, DELETE ON deals, contacts, activities TO train_app;
VACUUM ANALYZE;
SQL
# the tenants gtm_set_tenant() accepts
psql_ -U postgres -d train -c \
  "SELECT count(gtm_sign_in('org_train' || t, 'user_train' || t, 'Train ' || t)) FROM generate_series(1, 3) t" >/dev/null
tenant=$(psql_ -U postgres -d train -At -c "SELECT id FROM tenants ORDER BY id LIMIT 1")
cat > "$work/point.sql" <<'SQL'
\set id random(1, 500)
\set t random(1, 20)
SELECT * FROM deals WHERE tenant_id = '7' AND id = :id;
SELECT * FROM deals WHERE tenant_id = (:t)::text AND id = :id;
SQL
cat > "$work/mixed.sql" <<'SQL'
\set id random(1, 500)
SELECT d.id, c.email, count(a.*) FROM deals d JOIN contacts c ON c.tenant_id = d.tenant_id AND c.deal_id = d.id LEFT JOIN activities a ON a.tenant_id = c.tenant_id AND a.contact_id = c.id WHERE d.tenant_id = '7' AND d.id = :id GROUP BY d.id, c.email;
SELECT d.id, d.stage, (SELECT json_agg(json_build_object('id', c.id, 'email', c.email)) FROM contacts c WHERE c.tenant_id = d.tenant_id AND c.deal_id = d.id) AS contacts FROM deals d WHERE d.tenant_id = '7' AND d.id BETWEEN :id AND :id + 4 ORDER BY d.id;
UPDATE deals SET amount = amount + 1 WHERE tenant_id = '7' AND id = :id;
INSERT INTO activities (tenant_id, contact_id, kind) VALUES ('7', :id, 'mail');
DELETE FROM activities WHERE tenant_id = '7' AND contact_id = :id AND kind = 'mail';
SQL
cat > "$work/context.sql" <<SQL
\set id random(1, 500)
BEGIN;
SELECT gtm_set_tenant('$tenant');
SELECT * FROM deals WHERE tenant_id = gtm_current_tenant() AND id = :id;
SELECT count(*) FROM contacts WHERE tenant_id = gtm_current_tenant() AND deal_id = :id;
COMMIT;
SQL
chmod 644 "$work"/*.sql
bench() {  # protocol transactions script
  "$BIN/pgbench" -h "$work" -p "$port" -U train_app -n -M "$1" -c 2 -t "$2" -f "$work/$3" train \
    > "$work/pgbench.log" 2>&1 || { cat "$work/pgbench.log" >&2; exit 1; }
}
bench prepared 8000 point.sql
bench simple 8000 point.sql
bench simple 1500 mixed.sql
bench extended 1500 mixed.sql
bench prepared 1500 mixed.sql
bench prepared 1500 context.sql
bench simple 1500 context.sql
stop			# the backends have written their counts as they exited
[ -n "$(ls "$work/counts")" ] || { echo "the training left no profile" >&2; exit 1; }

echo "== profile-guided build: 3. with the profile"
make -s clean >/dev/null
make -s GTM_PROFILE=use "${prof[@]}"
$SUDO make -s install GTM_PROFILE=use "${prof[@]}" >/dev/null
