#!/usr/bin/env bash
# Runs inside the pg_virtualenv server that preloads gtm_clarity (see run.sh).
# $1: folder for the logs that run.sh tallies; each runner's exit status goes
# to $1/status ("name code" lines), so a runner that dies without printing a
# failed test still counts as a failure.
set -u -o pipefail
log=$1
cd "$(dirname "$0")/.."
: > "$log/status"
step() { local name=$1; shift; "$@"; echo "$name $?" >> "$log/status"; }

echo "-- pg_regress"
step pg_regress bash -o pipefail -c 'make -s installcheck-regress EXISTING_SERVER=1 2>&1 | tee "$0/regress.log"' "$log"
echo "-- isolationtester"
step isolation bash -o pipefail -c 'make -s installcheck-isolation EXISTING_SERVER=1 2>&1 | tee "$0/isolation.log"' "$log"

echo "-- pgTAP"
dropdb --if-exists gtm_tap >/dev/null 2>&1
createdb gtm_tap
step pgtap bash -o pipefail -c 'PGDATABASE=gtm_tap pg_prove --verbose --failures test/pgtap/*.sql 2>&1 | tee "$0/tap.log"' "$log"
echo "-- shell TAP tests"
step shell bash -o pipefail -c 'prove --verbose --exec bash test/shell/*.sh 2>&1 | tee -a "$0/tap.log"' "$log"
echo "SUITE COMPLETE"
