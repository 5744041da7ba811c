#!/usr/bin/env bash
# Runs inside a pg_virtualenv server that does NOT preload gtm_clarity:
# CREATE EXTENSION must fail with SQLSTATE 55000 and a hint, creating nothing.
set -u
out=$(psql -X -q -v ON_ERROR_STOP=1 -v VERBOSITY=verbose \
        -c 'SET client_min_messages = error' \
        -c '\set VERBOSITY verbose' \
        -c 'CREATE EXTENSION gtm_clarity' 2>&1)
echo "$out" | sed 's/^/# /'
check() { if eval "$2"; then echo "ok - $1"; else echo "not ok - $1"; fi; }
check "CREATE EXTENSION fails with SQLSTATE 55000" \
  'grep -q "ERROR:  55000: gtm_clarity must be loaded via shared_preload_libraries" <<<"$out"'
check "the error carries the hint" \
  'grep -q "HINT:  Add gtm_clarity to shared_preload_libraries in postgresql.conf and restart the server" <<<"$out"'
n=$(psql -X -Atc "SELECT count(*) FROM pg_extension WHERE extname = 'gtm_clarity'")
check "nothing was created" '[ "$n" = 0 ]'
