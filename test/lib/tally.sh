# test/lib/tally.sh -- sourced by test/run.sh.  gtm_tally V LOGDIR reads the
# logs test/lib/version_suite.sh left in LOGDIR, prints one block for
# PostgreSQL V and sets tally_passed / tally_failed.

_gtm_pass='\.\.\. ok|^ok [0-9]+ '
_gtm_fail='\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ '
_gtm_count() {
  if [ -f "$2" ]; then grep -cE "$1" "$2" || true; else echo 0; fi
}

gtm_tally() {
  local v=$1 log=$2 reg_ok reg_bad iso_ok iso_bad tap_ok tap_bad compat_ok compat_bad tap_skip
  local completed name code f
  # pg_regress and isolationtester print "name ... ok" up to PostgreSQL 15
  # and TAP-like "ok 1 - name" / "not ok 1 - name" from 16 on.
  reg_ok=$(_gtm_count "$_gtm_pass" "$log/regress.log")
  reg_bad=$(_gtm_count "$_gtm_fail" "$log/regress.log")
  iso_ok=$(_gtm_count "$_gtm_pass" "$log/isolation.log")
  iso_bad=$(_gtm_count "$_gtm_fail" "$log/isolation.log")
  # a skipped TAP test ("ok 3 # skip ...") is neither passed nor failed
  tap_skip=$(_gtm_count '^ok [0-9]+ # ([Ss][Kk][Ii][Pp])' "$log/tap.log")
  tap_ok=$(( $(_gtm_count '^ok ' "$log/tap.log") - tap_skip ))
  tap_bad=$(_gtm_count '^not ok ' "$log/tap.log")
  compat_ok=$(_gtm_count '^ok ' "$log/compat.log")
  compat_bad=$(_gtm_count '^not ok ' "$log/compat.log")
  completed=$(_gtm_count '^SUITE COMPLETE' "$log/suite.log")

  echo
  echo "== summary for PostgreSQL $v"
  echo "pg_regress:     $reg_ok passed, $reg_bad failed"
  echo "isolation:      $iso_ok passed, $iso_bad failed"
  echo "TAP (t/*.pl):   $tap_ok passed, $tap_bad failed ($tap_skip skipped: syntax of a later PostgreSQL)"
  # a whole file skipped says why ("t/051_... skipped: Citus tests run on ...")
  if [ -f "$log/tap.log" ]; then grep -E '^t/.*\.\.+ skipped: ' "$log/tap.log" | sed 's/  */ /; s/^/  /' || true; fi
  echo "pg_compat.h:    $compat_ok passed, $compat_bad failed"
  tally_passed=$((reg_ok + iso_ok + tap_ok + compat_ok))
  tally_failed=$((reg_bad + iso_bad + tap_bad + compat_bad))
  if grep -q '^BUILD FAILED' "$log/run.log" 2>/dev/null; then
    echo "the build failed (see $log/build.log)"
    tally_failed=$((tally_failed + 1))
  elif [ "$completed" -ne 1 ]; then
    echo "the suite did not run to its end (see $log/suite.log)"
    tally_failed=$((tally_failed + 1))
  fi
  # A runner that exited non-zero without reporting a failed test (a pgTAP
  # file that died mid-plan, say) is a failure too.
  while read -r name code; do
    if [ "$code" -ne 0 ]; then
      echo "$name exited with status $code"
      case "$name" in
        pg_regress) [ "$reg_bad" -gt 0 ] || tally_failed=$((tally_failed + 1)) ;;
        isolation)  [ "$iso_bad" -gt 0 ] || tally_failed=$((tally_failed + 1)) ;;
        *)          [ "$tap_bad" -gt 0 ] || tally_failed=$((tally_failed + 1)) ;;
      esac
    fi
  done < <(cat "$log/status" 2>/dev/null)
  for f in "$log"/*regression.diffs; do
    if [ -s "$f" ]; then echo "--- $f"; cat "$f"; fi
  done
  echo "PostgreSQL $v result: $tally_passed passed, $tally_failed failed"
}
