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
#      training workload of application statements as an ordinary role, on
#      tables of its own (accounts, people, scores: not the benchmarks'):
#      point selects, a 3-way join, an ORM-style json_agg, updates, inserts
#      and deletes by key, pinned by a literal, an expression or
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
# On any failure after the instrumented build was installed, a plain build
# replaces it: an instrumented library is never left installed.
instrumented=
finish() {
  local rc=$?
  stop
  rm -rf "$work"
  if [ "$rc" -ne 0 ] && [ -n "$instrumented" ]; then
    echo "profile-guided build failed: installing a plain build instead" >&2
    make -s clean >/dev/null
    make -s PG_CONFIG="$PG_CONFIG" && $SUDO make -s install PG_CONFIG="$PG_CONFIG" >/dev/null
  fi
  exit "$rc"
}
trap finish EXIT
# a signal exits with its status, so that finish sees the failure (round
# FS: killed during the training, the instrumented library stayed)
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
prof=(GTM_PROFILE_DIR="$work/counts" PG_CONFIG="$PG_CONFIG")

echo "== profile-guided build: 1. instrumented"
make -s clean >/dev/null
make -s GTM_PROFILE=generate "${prof[@]}"
instrumented=yes
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
# A schema of the product's own kind (accounts, people, scores), not the
# benchmarks' tables: the training teaches the shapes of statements, and a
# benchmark measures statements it did not train on.
psql_ -U postgres -d train <<'SQL'
CREATE EXTENSION gtm_clarity;
CREATE TABLE accounts (tenant_id text NOT NULL, id bigint NOT NULL, name text, domain text,
                       owner_id bigint, PRIMARY KEY (tenant_id, id));
CREATE TABLE people (tenant_id text NOT NULL, id bigint NOT NULL, account_id bigint NOT NULL,
                     email text, title text, PRIMARY KEY (tenant_id, id));
CREATE INDEX ON people (tenant_id, account_id);
CREATE TABLE scores (tenant_id text NOT NULL, person_id bigint NOT NULL, model text NOT NULL,
                     value real, scored_at timestamptz DEFAULT now());
CREATE INDEX ON scores (tenant_id, person_id);
INSERT INTO accounts SELECT 'tenant-' || t, a, 'Account ' || a, 'a' || a || '.example', a % 17
  FROM generate_series(1, 12) t, generate_series(1, 400) a;
INSERT INTO people SELECT tenant_id, id * 3 + k, id, 'p' || (id * 3 + k) || '@' || domain, 'VP'
  FROM accounts, generate_series(0, 2) k;
INSERT INTO scores (tenant_id, person_id, model, value) SELECT tenant_id, id, 'fit', (id % 100) / 100.0 FROM people;
GRANT SELECT, INSERT, UPDATE, DELETE ON accounts, people, scores TO train_app;
VACUUM ANALYZE;
SQL
# the tenants gtm_set_tenant() accepts
psql_ -U postgres -d train -c \
  "SELECT count(gtm_sign_in('org_train' || t, 'user_train' || t, 'Train ' || t)) FROM generate_series(1, 3) t" >/dev/null
tenant=$(psql_ -U postgres -d train -At -c "SELECT id FROM tenants ORDER BY id LIMIT 1")
cat > "$work/point.sql" <<'SQL'
\set id random(1, 400)
\set t random(1, 12)
SELECT id, name, domain FROM accounts WHERE tenant_id = 'tenant-3' AND id = :id;
SELECT * FROM people WHERE tenant_id = 'tenant-' || :t AND id = :id * 3;
SQL
# pinned by a parameter (node-postgres, Drizzle): the generic plan's pin
cat > "$work/param.sql" <<'SQL'
\set id random(1, 400)
SELECT id, name, domain FROM accounts WHERE tenant_id = :tenant AND id = :id;
SQL
cat > "$work/mixed.sql" <<'SQL'
\set id random(1, 400)
SELECT a.name, p.email, avg(s.value) FROM accounts a JOIN people p ON p.tenant_id = a.tenant_id AND p.account_id = a.id LEFT JOIN scores s ON s.tenant_id = p.tenant_id AND s.person_id = p.id WHERE a.tenant_id = 'tenant-5' AND a.id = :id GROUP BY a.name, p.email;
SELECT a.id, a.name, (SELECT json_agg(json_build_object('id', p.id, 'email', p.email) ORDER BY p.id) FROM people p WHERE p.tenant_id = a.tenant_id AND p.account_id = a.id) AS people FROM accounts a WHERE a.tenant_id = 'tenant-5' AND a.id BETWEEN :id AND :id + 9 ORDER BY a.id;
UPDATE people SET title = 'CTO' WHERE tenant_id = 'tenant-5' AND id = :id * 3 + 1;
INSERT INTO scores (tenant_id, person_id, model, value) VALUES ('tenant-5', :id * 3, 'intent', 0.5);
DELETE FROM scores WHERE tenant_id = 'tenant-5' AND person_id = :id * 3 AND model = 'intent';
SQL
cat > "$work/context.sql" <<SQL
\set id random(1, 400)
BEGIN;
SELECT gtm_set_tenant('$tenant');
SELECT * FROM accounts WHERE tenant_id = gtm_current_tenant() AND id = :id;
SELECT count(*) FROM people WHERE tenant_id = gtm_current_tenant() AND account_id = :id;
COMMIT;
SQL
chmod 644 "$work"/*.sql
bench() {  # protocol transactions script
  "$BIN/pgbench" -h "$work" -p "$port" -U train_app -n -M "$1" -c 2 -t "$2" -f "$work/$3" \
    -D tenant=tenant-4 train \
    > "$work/pgbench.log" 2>&1 || { cat "$work/pgbench.log" >&2; exit 1; }
}
bench prepared 8000 point.sql
bench simple 8000 point.sql
bench prepared 4000 param.sql
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
instrumented=
