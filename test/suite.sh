#!/usr/bin/env bash
# Runs inside the pg_virtualenv server that preloads gtm_clarity (see run.sh).
# $1: folder for the logs that run.sh tallies.
set -u
log=$1
cd "$(dirname "$0")/.."

echo "-- pg_regress"
make -s installcheck-regress 2>&1 | tee "$log/regress.log"
echo "-- isolationtester"
make -s installcheck-isolation 2>&1 | tee "$log/isolation.log"

echo "-- pgTAP and shell tests"
dropdb --if-exists gtm_tap >/dev/null 2>&1
createdb gtm_tap
PGDATABASE=gtm_tap pg_prove --verbose --failures test/pgtap/*.sql 2>&1 | tee "$log/tap.log"
prove --verbose --exec bash test/shell/*.sh 2>&1 | tee -a "$log/tap.log"
echo "SUITE COMPLETE"
