#!/usr/bin/env bash
# test/run.sh -- the whole gtm_clarity test suite, from a fresh Debian 12 machine.
#
#   bash test/run.sh
#
# As root (or a user with sudo): installs the packages it needs when they are
# missing, builds and installs the extension, then runs every suite against
# throwaway PostgreSQL 15 servers made by pg_virtualenv:
#   - a server WITHOUT the library preloaded (CREATE EXTENSION must refuse),
#   - a server with shared_preload_libraries = gtm_clarity for pg_regress,
#     isolationtester, pgTAP and the dump/restore round trip.
# It ends with one line "N passed, N failed" and exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$(pwd)

. test/lib/setup.sh
gtm_install_packages
gtm_build_install

log=$(mktemp -d /tmp/gtm_clarity-test.XXXXXX)
chmod 755 "$log"

echo "== server without the library preloaded"
pg_virtualenv -v 15 bash "$top/test/not_preloaded.sh" 2>&1 | tee "$log/not_preloaded.log" || true

echo "== server with shared_preload_libraries = gtm_clarity"
pg_virtualenv -v 15 -o shared_preload_libraries=gtm_clarity \
  bash "$top/test/suite.sh" "$log" 2>&1 | tee "$log/suite.log" || true

# Tally what each runner reported.
reg_ok=$(grep -cE '\.\.\. ok' "$log/regress.log" 2>/dev/null || true)
reg_bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log/regress.log" 2>/dev/null || true)
iso_ok=$(grep -cE '\.\.\. ok' "$log/isolation.log" 2>/dev/null || true)
iso_bad=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$log/isolation.log" 2>/dev/null || true)
tap_ok=$(grep -cE '^ok ' "$log/tap.log" 2>/dev/null || true)
tap_bad=$(grep -cE '^not ok ' "$log/tap.log" 2>/dev/null || true)
np_ok=$(grep -cE '^ok ' "$log/not_preloaded.log" 2>/dev/null || true)
np_bad=$(grep -cE '^not ok ' "$log/not_preloaded.log" 2>/dev/null || true)
completed=$(grep -c '^SUITE COMPLETE' "$log/suite.log" || true)

echo
echo "== summary"
echo "pg_regress:     $reg_ok passed, $reg_bad failed"
echo "isolation:      $iso_ok passed, $iso_bad failed"
echo "pgTAP + shell:  $tap_ok passed, $tap_bad failed"
echo "not preloaded:  $np_ok passed, $np_bad failed"
passed=$((reg_ok + iso_ok + tap_ok + np_ok))
failed=$((reg_bad + iso_bad + tap_bad + np_bad))
if [ "$completed" -ne 1 ]; then
  echo "the suite did not run to its end (see $log/suite.log)"
  failed=$((failed + 1))
fi
# A runner that exited non-zero without reporting a failed test (a pgTAP
# file that died mid-plan, say) is a failure too.
while read -r name code; do
  if [ "$code" -ne 0 ]; then
    echo "$name exited with status $code"
    case "$name" in
      pg_regress) [ "$reg_bad" -gt 0 ] || failed=$((failed + 1)) ;;
      isolation)  [ "$iso_bad" -gt 0 ] || failed=$((failed + 1)) ;;
      *)          [ "$tap_bad" -gt 0 ] || failed=$((failed + 1)) ;;
    esac
  fi
done < <(cat "$log/status" 2>/dev/null)
for f in regression.diffs output_iso/regression.diffs; do
  [ -s "$f" ] && { echo "--- $f"; cat "$f"; }
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
