#!/usr/bin/env bash
# examples/demo.sh -- gtm_clarity working in a throwaway server.
#
#   bash examples/demo.sh
#
# As root (or with sudo) on Debian 12: installs what is missing, builds and
# installs the extension, starts a throwaway PostgreSQL 15 with the library
# preloaded (pg_virtualenv), and walks through the product page's Step 2:
# the first sign-in of an organization provisions its tenant, a second user
# joins it, and the rows are printed.  Nothing is left running afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
. test/lib/setup.sh
gtm_install_packages
gtm_build_install

pg_virtualenv -v 15 -o shared_preload_libraries=gtm_clarity \
  psql -X -v ON_ERROR_STOP=1 -f examples/demo.sql
