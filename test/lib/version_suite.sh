#!/usr/bin/env bash
# test/lib/version_suite.sh V LOGDIR -- the whole suite against PostgreSQL V,
# from the source tree this script is in: build (with -Werror), install into
# that server's tree, then throwaway pg_virtualenv servers:
#   - one WITHOUT the library preloaded (test/not_preloaded.sh),
#   - one with shared_preload_libraries = gtm_clarity (test/suite.sh).
# Logs go to LOGDIR (build.log, compat.log, not_preloaded.log, suite.log and
# the files test/suite.sh writes); test/run.sh tallies them.  Run natively by test/run.sh
# for PostgreSQL 15, and inside the Debian 13 / unstable roots
# (test/lib/chroot.sh) for 17 and 18.  GTM_PGPORT, when set, is the port of
# the throwaway servers (the roots share the host's network).
set -euo pipefail
v=$1 log=$2
cd "$(dirname "$0")/../.."
top=$(pwd)
mkdir -p "$log"
chmod 755 "$log"

GTM_PG_VERSION=$v
. test/lib/setup.sh
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
# A run killed before pg_virtualenv cleaned up leaves its cluster behind, and
# pg_virtualenv then refuses to start ("Cluster 15/regress exists").  This
# run holds the install lock, so it owns the version's throwaway cluster:
# drop a leftover one (the roots of 17 and 18 do the same in test/run.sh).
if [ -d "/etc/postgresql/$v/regress" ]; then
  echo "== PostgreSQL $v: dropping a cluster left by an interrupted run"
  pg_ctlcluster --mode immediate "$v" regress stop 2>/dev/null || true
  pg_dropcluster "$v" regress || true
fi
echo "== built and installed for PostgreSQL $v ($(pg_config --version))"
if [ -n "${GTM_PGPORT:-}" ]; then export PGPORT=$GTM_PGPORT; fi

echo "== PostgreSQL $v: server without the library preloaded"
pg_virtualenv -v "$v" bash "$top/test/not_preloaded.sh" 2>&1 | tee "$log/not_preloaded.log" || true

echo "== PostgreSQL $v: server with shared_preload_libraries = gtm_clarity"
pg_virtualenv -v "$v" -o shared_preload_libraries=gtm_clarity \
  bash "$top/test/suite.sh" "$log" 2>&1 | tee "$log/suite.log" || true

for f in regression.diffs output_iso/regression.diffs; do
  if [ -s "$f" ]; then cp "$f" "$log/$(echo "$f" | tr / _)"; fi
done
