#!/usr/bin/env bash
# test/suite.sh LOGDIR -- make installcheck in its three parts, each logged
# apart for test/lib/tally.sh: pg_regress (regress.log), isolationtester
# (isolation.log) and the TAP tests t/*.pl (tap.log, every assertion).
# Each part starts its own temporary servers with the library preloaded, so
# this runs as a user who may run initdb (test/lib/version_suite.sh runs it
# as postgres, from a copy of the tree).  Each part's exit status goes to
# LOGDIR/status ("name code" lines): a part that dies without printing a
# failed test still counts as a failure.  TEST_PORT and GTM_TEST_PORT, when
# set, are the first ports tried (Makefile, t/lib/GtmClarity/Test.pm).
set -u -o pipefail
log=$1
cd "$(dirname "$0")/.."
: > "$log/status"
step() { local name=$1 file=$2; shift 2
  "$@" 2>&1 | tee "$log/$file"; echo "$name $?" >> "$log/status"; }
make_opts=(PG_CONFIG="${PG_CONFIG:-pg_config}" ${TEST_PORT:+TEST_PORT=$TEST_PORT})

echo "-- pg_regress"
step pg_regress regress.log make -s installcheck-regress "${make_opts[@]}"
echo "-- isolationtester"
step isolation isolation.log make -s installcheck-isolation "${make_opts[@]}"
echo "-- TAP tests (t/*.pl)"
step tap tap.log make -s installcheck-tap "${make_opts[@]}" PROVE_FLAGS=--verbose
echo "SUITE COMPLETE"
