# test/lib/node.sh -- sourced by test/run.sh: node-postgres (the npm package
# "pg") for test/node/pool_clients.js, installed with npm into a cache
# directory shared by the runs on this machine (GTM_NODE_CACHE, default
# /var/cache/gtm_clarity/node), once.  The roots of PostgreSQL 17 and 18 get
# a copy in their tree (test/node_modules): they have Debian's nodejs but no
# npm.  GTM_NODE_MODULES is exported for the native run.
: "${GTM_NODE_CACHE:=/var/cache/gtm_clarity/node}"
GTM_NODE_PG_VERSION=8.23.1

gtm_node_modules() {
  local want="pg@$GTM_NODE_PG_VERSION" have
  mkdir -p "$GTM_NODE_CACHE"
  (
    flock 7
    have=$(cat "$GTM_NODE_CACHE/.ready" 2>/dev/null || true)
    if [ "$have" != "$want" ] || [ ! -f "$GTM_NODE_CACHE/node_modules/pg/package.json" ]; then
      if ! command -v npm >/dev/null; then
        echo "== installing: npm"
        apt-get update -qq && apt-get install -y -qq npm </dev/null >/dev/null
      fi
      echo "== npm install $want into $GTM_NODE_CACHE"
      npm install --no-audit --no-fund --loglevel=error --prefix "$GTM_NODE_CACHE" "$want" >/dev/null &&
        echo "$want" > "$GTM_NODE_CACHE/.ready"
    fi
  ) 7>"$GTM_NODE_CACHE/.lock"
  export GTM_NODE_MODULES="$GTM_NODE_CACHE/node_modules"
}
