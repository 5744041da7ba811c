# test/lib/citus.sh -- sourced by test/lib/version_suite.sh (for t/051, t/053) and bench/citus.sh (after setup.sh):
# makes sure Citus 13.2.2 is installed into the system PostgreSQL 15.
#
# Citus is not packaged in Debian.  Its unmodified 13.2.2 source is the
# release tarball of github.com/citusdata/citus (tag v13.2.2; the same file a
# user downloads from Citus' GitHub releases page).  The tarball is taken from
# $GTM_CITUS_TARBALL, else ../shared/vendor/citus-13.2.2.tar.gz beside the
# checkout (this repository's CI).  The build (about 6 minutes on 2 cores) is
# cached in /var/cache/gtm_clarity/citus-13.2.2-pg15 like the chroots of
# test/lib/chroot.sh; nothing is built when the installed Citus is 13.2.2.
#
# gtm_citus_ensure returns 0 when Citus is ready, or prints a "SKIP:" reason
# and returns 2 (the callers print a TAP skip with that reason; they never
# pass silently).  Needs root and the install lock held on fd 9
# (gtm_build_install of setup.sh takes it), since other checkouts test
# against the same install directory.

GTM_CITUS_VERSION=13.2.2
GTM_CITUS_SHA256=dd2453caec20a830e5e63f1def5c5a98cb6f57ae510407cdcd800916fcdab430
GTM_CITUS_CACHE=/var/cache/gtm_clarity/citus-$GTM_CITUS_VERSION-pg${GTM_PG_VERSION:-15}

# Citus 13.2.2 installed in the PostgreSQL that $PG_CONFIG names?
gtm_citus_installed() {
  local lib share
  lib=$("$PG_CONFIG" --pkglibdir) share=$("$PG_CONFIG" --sharedir)
  [ -f "$lib/citus.so" ] && [ -f "$share/extension/citus.control" ] &&
    grep -aq "Citus $GTM_CITUS_VERSION" "$lib/citus.so"
}

gtm_citus_ensure() {
  local tarball src
  if [ "${GTM_PG_VERSION:-15}" != 15 ]; then
    echo "SKIP: Citus tests run on PostgreSQL 15 only (this is ${GTM_PG_VERSION}); see doc/scaling-out.md"
    return 2
  fi
  if gtm_citus_installed; then return 0; fi
  tarball=${GTM_CITUS_TARBALL:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/shared/vendor/citus-$GTM_CITUS_VERSION.tar.gz}
  if [ ! -f "$tarball" ]; then
    echo "SKIP: Citus $GTM_CITUS_VERSION is not installed and no source tarball at $tarball" \
         "(set GTM_CITUS_TARBALL to citus-$GTM_CITUS_VERSION.tar.gz from github.com/citusdata/citus/releases)"
    return 2
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: Citus $GTM_CITUS_VERSION must be built and installed as root (run the suite as root)"
    return 2
  fi
  if ! echo "$GTM_CITUS_SHA256  $tarball" | sha256sum -c --status; then
    echo "Bail out! $tarball is not the Citus $GTM_CITUS_VERSION release (sha256 differs)"
    return 1
  fi
  gtm_install_packages liblz4-dev libzstd-dev libkrb5-dev libssl-dev libselinux1-dev \
    libxml2-dev libxslt1-dev libpam0g-dev libreadline-dev zlib1g-dev libicu-dev \
    autoconf flex bison >&2
  src=$GTM_CITUS_CACHE/citus-$GTM_CITUS_VERSION
  if [ ! -f "$GTM_CITUS_CACHE/built" ]; then
    echo "== building Citus $GTM_CITUS_VERSION into $GTM_CITUS_CACHE (about 6 minutes, once)" >&2
    rm -rf "$GTM_CITUS_CACHE"
    mkdir -p "$GTM_CITUS_CACHE"
    tar -C "$GTM_CITUS_CACHE" -xzf "$tarball"
    # PostgreSQL 15.20 exports have_createdb_privilege() (commands/dbcommands.h);
    # Citus 13.2.2's compatibility header still defines its own static copy
    # for 15.  Drop that copy, in this build copy only.
    perl -0pi -e 's/(static inline bool\s+have_createdb_privilege\(void\)\s*\{.*?\n\})/#if 0 \/* exported by PostgreSQL 15.20 *\/\n$1\n#endif/s' \
      "$src/src/include/pg_version_compat.h"
    ( cd "$src" && ./configure --without-libcurl PG_CONFIG="$PG_CONFIG" >"$GTM_CITUS_CACHE/configure.log" 2>&1 &&
      make -j"$(nproc)" >"$GTM_CITUS_CACHE/make.log" 2>&1 ) || {
      echo "Bail out! the Citus build failed: see $GTM_CITUS_CACHE/*.log"; return 1; }
    touch "$GTM_CITUS_CACHE/built"
  fi
  make -s -C "$src" install >"$GTM_CITUS_CACHE/install.log" 2>&1 || {
    echo "Bail out! make install of Citus failed: see $GTM_CITUS_CACHE/install.log"; return 1; }
  gtm_citus_installed || { echo "Bail out! Citus $GTM_CITUS_VERSION not found after install"; return 1; }
}

# ----------------------------------------------------------------------
# A Citus cluster on this machine: a coordinator and workers, each its own
# initdb cluster owned by the postgres user, listening on 127.0.0.1 only.
#   gtm_cluster_start DIR "LIBS" N   -- N+1 nodes in DIR, shared_preload_libraries
#                                      = LIBS ("citus,gtm_clarity" or "citus");
#                                      sets cluster_ports (coordinator first)
#   gtm_cluster_stop DIR              -- stops them (called from an EXIT trap)
#   cq PORT [psql args]               -- psql as postgres on a node
# Ports: the first free ones from $GTM_CLUSTER_PORT (default 5511).
# ----------------------------------------------------------------------
cluster_ports=()

gtm_free_port() {  # first port >= $1 where nothing listens
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || [ -e "/tmp/.s.PGSQL.$p" ]; do p=$((p + 1)); done
  echo "$p"
}

gtm_cluster_start() {  # dir libs nworkers
  local dir=$1 libs=$2 nw=$3 i p=${GTM_CLUSTER_PORT:-5511} bin
  bin=$("$PG_CONFIG" --bindir)
  mkdir -p "$dir"
  chown postgres: "$dir"
  cluster_ports=()
  for i in $(seq 0 "$nw"); do
    p=$(gtm_free_port "$p")
    cluster_ports+=("$p")
    runuser -u postgres -- "$bin/initdb" -D "$dir/n$i" -A trust -U postgres --no-sync >"$dir/initdb$i.log" 2>&1 ||
      { cat "$dir/initdb$i.log"; return 1; }
    cat >>"$dir/n$i/postgresql.conf" <<CONF
port = $p
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
shared_preload_libraries = '$libs'
fsync = off
synchronous_commit = off
full_page_writes = off
shared_buffers = 32MB
max_connections = 60
max_worker_processes = 16
citus.max_background_task_executors_per_node = 1
citus.log_distributed_deadlock_detection = off
lc_messages = 'C'
CONF
    setsid runuser -u postgres -- "$bin/pg_ctl" -D "$dir/n$i" -l "$dir/n$i.log" -w start >/dev/null </dev/null ||
      { cat "$dir/n$i.log"; return 1; }
    p=$((p + 1))
  done
}

gtm_cluster_stop() {  # dir
  local dir=$1 d bin
  bin=$("$PG_CONFIG" --bindir)
  for d in "$dir"/n*/; do
    [ -f "$d/postmaster.pid" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$d" -m immediate stop >/dev/null 2>&1
  done
  rm -rf "$dir"
}

cq() {  # port [psql args...]: psql as postgres on that node, database gtm
  local port=$1
  shift
  psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d "${CLUSTER_DB:-gtm}" "$@"
}
