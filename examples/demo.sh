#!/usr/bin/env bash
# examples/demo.sh -- a guided tour of gtm_clarity in a throwaway server.
#
#   bash examples/demo.sh
#
# As root (or with sudo) on Debian 12: installs what is missing, builds and
# installs the extension, starts a throwaway PostgreSQL 15 with the library
# preloaded (pg_virtualenv) and runs examples/demo.sql in it.  The tour, each
# statement echoed before its result:
#   1. the operator installs the extension and makes two roles (app_migrator,
#      app_user) with gtm_grant_migrator / gtm_grant_app;
#   2. a migration, as app_migrator, makes two tables tenant-scoped
#      (gtm_make_tenant_table);
#   3. the application, connected as app_user (not a superuser, not exempt):
#      sign-ins provision a tenant and its members, settings are merged and
#      validated;
#   4. one request: BEGIN; SELECT gtm_set_tenant(tenant, true); ...; COMMIT;
#   5. statements not pinned to one tenant rejected, with SQLSTATE, detail and
#      hint;
#   6. the checker (gtm_check_statement) reporting an unpinned reference.
# The build and the server's own messages go to a log that is printed only if
# something fails.  Nothing is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh

log=$(mktemp /tmp/gtm_clarity-demo.XXXXXX)
trap 'rm -f "$log"' EXIT
fail() { echo "examples/demo.sh: $1 failed; its output:" >&2; cat "$log" >&2; exit 1; }

echo "== gtm_clarity demo: building and installing, then a throwaway PostgreSQL 15 (pg_virtualenv)"
{ gtm_install_packages && gtm_build_install; } >"$log" 2>&1 || fail "the build"
grep -h "^== waited" "$log" || true

# psql writes to the terminal (fd 3); pg_virtualenv's messages go to the log.
PGOPTIONS="-c client_min_messages=warning" \
  pg_virtualenv -v 15 -o shared_preload_libraries=gtm_clarity \
  sh -c 'exec psql -X -q -v ON_ERROR_STOP=1 <examples/demo.sql >&3 2>&1' \
  3>&1 >>"$log" 2>&1 || fail "the demo"
