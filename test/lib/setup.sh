# test/lib/setup.sh -- sourced by test/lib/version_suite.sh, examples/demo.sh and
# bench/*.sh: installs what a fresh Debian 12 machine lacks (libipc-run-perl for
# PostgreSQL's TAP test module, pgbouncer and nodejs for the pool test t/052,
# gdb for the race of t/055),
# then builds and installs gtm_clarity into the system PostgreSQL 15.  Needs root (or sudo).
# GTM_PG_VERSION (default 15) picks another installed major version: test/run.sh
# sets it inside the Debian 13 / unstable roots for PostgreSQL 17 and 18.

export DEBIAN_FRONTEND=noninteractive
SUDO=
if [ "$(id -u)" -ne 0 ]; then SUDO=sudo; fi

gtm_install_packages() {
  local need=() p
  for p in make gcc "postgresql-$GTM_PG_VERSION" "postgresql-server-dev-$GTM_PG_VERSION" \
           "postgresql-$GTM_PG_VERSION-pgtap" \
           libipc-run-perl pgbouncer nodejs gdb "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "== installing: ${need[*]}"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq "${need[@]}" </dev/null
  fi
}

GTM_PG_VERSION=${GTM_PG_VERSION:-15}
PG_CONFIG=/usr/lib/postgresql/$GTM_PG_VERSION/bin/pg_config
export PG_CONFIG PATH="/usr/lib/postgresql/$GTM_PG_VERSION/bin:$PATH"

# Build and install; one build installed at a time on this machine (several
# checkouts may test on it), so the caller keeps file descriptor 9 locked
# for as long as it uses the installed files.
gtm_build_install() {
  local t0=$SECONDS
  exec 9>/tmp/gtm_clarity-test.lock
  flock 9
  if [ $((SECONDS - t0)) -gt 1 ]; then
    echo "== waited $((SECONDS - t0))s for the install lock (another checkout was testing)"
  fi
  echo "== building"
  # with profile feedback (test/lib/profile_build.sh: make profile-install)
  SUDO=$SUDO PG_CONFIG="$PG_CONFIG" bash test/lib/profile_build.sh
  # the test module of the fail-closed tests (not part of the extension)
  make -s -C test/modules/custom_scan_probe clean >/dev/null
  make -s -C test/modules/custom_scan_probe PG_CONFIG="$PG_CONFIG"
  $SUDO make -s -C test/modules/custom_scan_probe install PG_CONFIG="$PG_CONFIG" >/dev/null
}

# bench/*.sh that run inside a throwaway server: the first pass installs,
# builds, and runs SCRIPT again in a pg_virtualenv server that preloads
# gtm_clarity (OPTS: more -o settings); the second pass returns at once.
gtm_bench_reexec() {  # script "opts" script-args...
  local script=$1 opts=$2
  shift 2
  [ -n "${GTM_BENCH_INSIDE:-}" ] && return 0
  gtm_install_packages
  gtm_build_install
  export GTM_BENCH_INSIDE=1
  # shellcheck disable=SC2086
  exec pg_virtualenv -v 15 -o shared_preload_libraries=gtm_clarity $opts bash "$script" "$@"
}

# A fresh database NAME for a bench (dropped at exit); psql_db runs psql in it.
gtm_bench_db() {  # name
  db=$1
  psql -X -q -v ON_ERROR_STOP=1 -d postgres -c "SET client_min_messages = warning" \
    -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  trap 'psql -X -q -d postgres -c "DROP DATABASE IF EXISTS $db" >/dev/null 2>&1 || true' EXIT
}
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -d "$db" "$@"; }
