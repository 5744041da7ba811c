#!/usr/bin/env bash
# test/run.sh -- the whole gtm_clarity test suite, from a fresh Debian 12 machine.
#
#   bash test/run.sh                      every version in PG_VERSIONS (default below)
#   PG_VERSIONS=15 bash test/run.sh       one version, for a quick local run
#   PG_VERSIONS="15 17 18" bash test/run.sh
#
# As root (or a user with sudo).  For each PostgreSQL major version,
# test/lib/version_suite.sh installs the packages, builds the extension with
# -Werror, installs it and runs make installcheck as the postgres user:
# pg_regress (test/sql), isolationtester (test/specs) and the TAP tests
# (t/*.pl), each on temporary servers of its own with the library preloaded
# (test/suite.sh).  This script only picks where that runs:
# PostgreSQL 15 is Debian 12's own and runs natively (installing the packages
# it lacks).  17 and 18 run inside Debian 13 "trixie" and Debian unstable
# "sid" root filesystems, made with debootstrap from the Debian mirror apt uses
# here on the first run and cached in /var/cache/gtm_clarity/chroots
# (test/lib/chroot.sh); the source tree is copied into them, so nothing is
# installed into the host's PostgreSQL for them.
# Each version's result is printed on its own; the last line is the total
# "N passed, N failed" over all versions, and the exit status is non-zero on
# any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

# Versions run when PG_VERSIONS is not set (CI runs this): every version
# gtm_clarity supports and this script can get (doc/pg-versions-porting.md).
PG_VERSIONS_DEFAULT="15 17 18"
PG_VERSIONS=${PG_VERSIONS:-$PG_VERSIONS_DEFAULT}

. test/lib/tally.sh
. test/lib/chroot.sh
. test/lib/node.sh

log=$(mktemp -d /tmp/gtm_clarity-test.XXXXXX)
chmod 755 "$log"
t_start=$(date +%s)
passed=0 failed=0 results=()
# node-postgres for t/052 (every version uses this copy)
gtm_node_modules

# The source tree as a chroot sees it: a copy, without build products.
copy_tree() {
  local dest=$1
  rm -rf "$dest"
  mkdir -p "$dest"
  tar -C "$top" --exclude=./.git --exclude='*.o' --exclude='*.so' --exclude='*.bc' \
      --exclude=./test/node_modules \
      --exclude=./results --exclude=./output_iso --exclude=./log --exclude=./bench/out \
      --exclude=./tmp_check --exclude=./tmp_check_iso --exclude=./tmp_check_regress \
      --exclude=./regression.diffs --exclude=./regression.out -cf - . | tar -C "$dest" -xf -
}

run_version() {
  local v=$1 vlog=$log/pg$1 root rc=0
  mkdir -p "$vlog"
  case $v in
    15)
      bash test/lib/version_suite.sh "$v" "$vlog" 2>&1 | tee "$vlog/run.log" || rc=$?
      ;;
    17|18)
      # gtm_chroot_ensure keeps fd 8 locked: this run owns the root until
      # the subshell ends (another checkout testing the same version waits).
      (
        if [ "$(id -u)" -ne 0 ]; then
          echo "PostgreSQL $v runs in a debootstrap root: run test/run.sh as root"
          exit 1
        fi
        gtm_chroot_ensure "$v" || exit 1
        root=$(gtm_chroot_root "$v")
        copy_tree "$root/build/gtm_clarity"
        cp -r "$GTM_NODE_MODULES" "$root/build/gtm_clarity/test/node_modules"
        rm -rf "$root/build/log"
        gtm_chroot_exec "$v" /usr/bin/env GTM_PGPORT="57$v" \
          bash /build/gtm_clarity/test/lib/version_suite.sh "$v" /build/log || true
        cp -r "$root/build/log/." "$vlog/"
      ) 2>&1 | tee "$vlog/run.log" || rc=$?
      ;;
    *)
      echo "PostgreSQL $v: not supported by test/run.sh (15, 17 and 18 are)" | tee "$vlog/run.log"
      rc=1
      ;;
  esac
  gtm_tally "$v" "$vlog"
  if [ "$rc" -ne 0 ]; then echo "PostgreSQL $v: the run exited with status $rc"; fi
  passed=$((passed + tally_passed))
  failed=$((failed + tally_failed))
  results+=("PostgreSQL $v (total of its runners) - $tally_passed passed, $tally_failed failed")
}

for v in $PG_VERSIONS; do
  t0=$(date +%s)
  echo "==== PostgreSQL $v"
  run_version "$v"
  echo "==== PostgreSQL $v took $(( $(date +%s) - t0 ))s"
done

echo
echo "== all versions ($(( $(date +%s) - t_start ))s, logs in $log)"
for r in "${results[@]}"; do echo "$r"; done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
