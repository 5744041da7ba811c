#!/usr/bin/env bash
# test/lib/version_suite.sh V LOGDIR -- the whole suite against PostgreSQL V,
# from the source tree this script is in: install the packages, build (with
# -Werror), install into that server's tree, then make installcheck
# (test/suite.sh), which starts its own temporary servers with the library
# preloaded: pg_regress, isolationtester, the TAP tests t/*.pl.
# Logs go to LOGDIR (compat.log, build.log, citus.log, suite.log and the
# files test/suite.sh writes); test/run.sh tallies them.  Run natively by
# test/run.sh for PostgreSQL 15, and inside the Debian 13 / unstable roots
# (test/lib/chroot.sh) for 17 and 18.  As root: the tests themselves run as
# the postgres user (initdb refuses root), from a copy of the tree it owns.
# GTM_PGPORT, when set, is the first port of the temporary servers.
set -euo pipefail
v=$1 log=$2
cd "$(dirname "$0")/../.."
top=$(pwd)
mkdir -p "$log"
chmod 755 "$log"

GTM_PG_VERSION=$v
. test/lib/setup.sh
. test/lib/citus.sh
gtm_install_packages

# include/pg_compat.h, every macro of it, against this server with -Werror.
if make -s check-compat PG_CONFIG="$PG_CONFIG" >"$log/compat.log" 2>&1; then
  echo "ok - include/pg_compat.h compiles with -Werror on PostgreSQL $v" | tee -a "$log/compat.log"
else
  cat "$log/compat.log"
  echo "not ok - include/pg_compat.h compiles with -Werror on PostgreSQL $v" | tee -a "$log/compat.log"
fi

# gtm_build_install takes the install lock (fd 9) and keeps it for as long as
# this script runs, i.e. while the servers below use the installed library.
if ! gtm_build_install >"$log/build.log" 2>&1; then
  cat "$log/build.log"
  echo "BUILD FAILED on PostgreSQL $v"
  exit 1
fi
grep '^== waited' "$log/build.log" || true
echo "== built and installed for PostgreSQL $v ($(pg_config --version))"
# Citus for t/051 and t/053 (PostgreSQL 15): built and installed as root, under the
# install lock; the test says why it skips otherwise.
gtm_citus_ensure >"$log/citus.log" 2>&1 || true
tail -n 1 "$log/citus.log"

# The tests run as postgres, from a copy of the tree (results, temporary
# servers and TAP logs are written there).
src=$(mktemp -d /tmp/gtm_clarity-src.XXXXXX)
trap 'rm -rf "$src"' EXIT
tar -C "$top" --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
    --exclude=./results --exclude=./output_iso --exclude=./log --exclude=./tmp_check \
    --exclude=./tmp_check_iso --exclude=./tmp_check_regress --exclude=./bench/out -cf - . | tar -C "$src" -xf -
chmod 755 "$src"
chown -R postgres: "$src" "$log"
echo "== PostgreSQL $v: make installcheck (temporary servers, library preloaded)"
runuser -u postgres -- env ${GTM_PGPORT:+TEST_PORT=$GTM_PGPORT GTM_TEST_PORT=$((GTM_PGPORT + 10))} \
  bash "$src/test/suite.sh" "$log" 9>&- 2>&1 | tee "$log/suite.log" || true

for f in regression.diffs output_iso/regression.diffs; do
  if [ -s "$src/$f" ]; then cp "$src/$f" "$log/$(echo "$f" | tr / _)"; fi
done
# the servers' logs of the TAP tests that failed (kept by PostgreSQL::Test::Cluster)
if [ -d "$src/tmp_check/log" ]; then cp -r "$src/tmp_check/log" "$log/tap_server_logs"; fi
