# test/lib/chroot.sh -- sourced by test/run.sh: Debian root filesystems that
# carry a PostgreSQL major version Debian 12 does not ship (17 from Debian 13
# "trixie", 18 from Debian unstable "sid"), made with debootstrap and cached
# between runs under $GTM_CHROOT_CACHE (/var/cache/gtm_clarity/chroots).
# Needs root.  Everything here is idempotent:
#
#   gtm_chroot_ensure 17     creates (first time) or reuses the root for PG 17
#   gtm_chroot_exec 17 CMD   runs CMD inside it, in a private mount namespace
#                            (/proc, /dev, /dev/pts, /dev/shm, /sys mounted
#                            there only; they vanish when CMD ends)
#
# Knobs (environment):
#   GTM_CHROOT_CACHE     where the roots live (default /var/cache/gtm_clarity/chroots)
#   GTM_CHROOT_MIRROR    Debian mirror (default: the one apt uses on this machine)
#   GTM_CHROOT_REFRESH=1 apt-get update + upgrade a cached root before use

: "${GTM_CHROOT_CACHE:=/var/cache/gtm_clarity/chroots}"
# debootstrap and chroot live in /usr/sbin, which a non-login root shell may
# not have on its PATH.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH=$PATH:/usr/sbin:/sbin ;; esac

# Which Debian suite carries which PostgreSQL major version.
gtm_chroot_suite() {
  case $1 in
    17) echo trixie ;;
    18) echo sid ;;
    *) echo "gtm_chroot_suite: no Debian suite known for PostgreSQL $1" >&2; return 1 ;;
  esac
}

gtm_chroot_root() { echo "$GTM_CHROOT_CACHE/pg$1-$(gtm_chroot_suite "$1")"; }

# The packages a root needs for the whole suite on PostgreSQL $1.
# tzdata-legacy: Debian 13 moved the System V zone names (EST5EDT, ...) out
# of tzdata; Debian 12's tzdata, which the expected outputs assume, has them.
gtm_chroot_packages() {
  echo "make gcc libc6-dev perl iproute2 tzdata-legacy postgresql-$1 postgresql-server-dev-$1" \
       "postgresql-$1-pgtap libtap-parser-sourcehandler-pgtap-perl"
}

# The Debian archive this machine's apt uses (deb822 .sources or one-line
# .list files), so the roots come from the same, reachable, mirror.  The
# security archive is skipped: it has no trixie/sid main suites we need.
gtm_chroot_mirror() {
  if [ -n "${GTM_CHROOT_MIRROR:-}" ]; then echo "$GTM_CHROOT_MIRROR"; return; fi
  local f uri
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [ -r "$f" ] || continue
    case $f in
      *.sources)
        uri=$(awk 'tolower($1) == "uris:" { for (i = 2; i <= NF; i++) print $i }' "$f") ;;
      *)
        uri=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i !~ /^\[/ && $i !~ /\]$/ && $i !~ /=/) { print $i; break } }' "$f") ;;
    esac
    uri=$(printf '%s\n' $uri | grep -E '^(https?|file)://.*/debian/?$' | grep -v -- '-security' | head -n1 || true)
    if [ -n "$uri" ]; then echo "${uri%/}"; return; fi
  done
  echo http://deb.debian.org/debian
}

# Run a command inside root $1 (a directory), in a private mount namespace
# so that nothing stays mounted after it, whatever happens to it.
_gtm_chroot_in() {
  local root=$1; shift
  unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys" 2>/dev/null || true
    mount --rbind /dev "$root/dev"
    mkdir -p "$root/dev/shm" && mount -t tmpfs -o mode=1777 shm "$root/dev/shm"
    exec chroot "$root" /usr/bin/env -i \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      HOME=/root USER=root LOGNAME=root LANG=C.UTF-8 TERM=dumb \
      DEBIAN_FRONTEND=noninteractive CI="${CI:-}" "$@"
  ' gtm-chroot "$root" "$@" </dev/null
}

gtm_chroot_exec() { local v=$1; shift; _gtm_chroot_in "$(gtm_chroot_root "$v")" "$@"; }

# Create (or reuse) the root for PostgreSQL $1.  Concurrent runs wait on a
# lock (file descriptor 8), which stays held on success so that the caller
# owns the root (its /etc/postgresql) until it closes fd 8.  A half-made root
# (interrupted debootstrap or apt-get) is never used: the root is built under
# NAME.new and renamed when complete.
gtm_chroot_ensure() {
  local v=$1 suite root mirror pkgs want have t0
  suite=$(gtm_chroot_suite "$v")
  root=$(gtm_chroot_root "$v")
  pkgs=$(gtm_chroot_packages "$v")
  mkdir -p "$GTM_CHROOT_CACHE"
  exec 8>"$GTM_CHROOT_CACHE/.pg$v.lock"
  flock 8
  want="$suite: $pkgs"
  have=$(cat "$root/.gtm_clarity-ready" 2>/dev/null || true)
  if [ "$have" = "$want" ] && [ -z "${GTM_CHROOT_REFRESH:-}" ]; then
    echo "== PostgreSQL $v: cached Debian $suite root $root"
    return 0
  fi
  t0=$(date +%s)
  if [ ! -f "$root/.gtm_clarity-ready" ]; then
    mirror=$(gtm_chroot_mirror)
    command -v debootstrap >/dev/null || {
      echo "== installing: debootstrap"
      apt-get update -qq && apt-get install -y -qq debootstrap </dev/null
    }
    echo "== PostgreSQL $v: debootstrap Debian $suite from $mirror into $root (first run only)"
    # two tries: a mirror hiccup should not cost a CI run
    if ! { rm -rf "$root.new"
           debootstrap --variant=minbase --components=main "$suite" "$root.new" "$mirror" \
             >"$GTM_CHROOT_CACHE/debootstrap-pg$v.log" 2>&1 ||
           { sleep 5; rm -rf "$root.new"
             debootstrap --variant=minbase --components=main "$suite" "$root.new" "$mirror" \
               >"$GTM_CHROOT_CACHE/debootstrap-pg$v.log" 2>&1; }; }; then
      echo "debootstrap failed; last lines of $GTM_CHROOT_CACHE/debootstrap-pg$v.log:" >&2
      tail -n 30 "$GTM_CHROOT_CACHE/debootstrap-pg$v.log" >&2
      exec 8>&-
      return 1
    fi
    # No daemon may start while packages install (no init in a chroot, and
    # the host owns the ports), and postgresql-common must not make a "main"
    # cluster: make installcheck makes its own temporary servers.
    printf '#!/bin/sh\nexit 101\n' > "$root.new/usr/sbin/policy-rc.d"
    chmod 755 "$root.new/usr/sbin/policy-rc.d"
    mkdir -p "$root.new/etc/postgresql-common/createcluster.d"
    echo "create_main_cluster = false" > "$root.new/etc/postgresql-common/createcluster.d/gtm_clarity.conf"
    # Debian unstable's Release file is valid for a week only; a mirror that
    # lags (or a snapshot) would make apt refuse it.  Signatures are still
    # checked.
    printf '%s\n' 'APT::Install-Recommends "false";' 'APT::Install-Suggests "false";' \
      'Acquire::Check-Valid-Until "false";' 'Acquire::Retries "3";' \
      > "$root.new/etc/apt/apt.conf.d/90gtm_clarity"
    cp -L /etc/resolv.conf "$root.new/etc/resolv.conf" 2>/dev/null || true
    echo "== PostgreSQL $v: debootstrap took $(( $(date +%s) - t0 ))s"
  else
    mv "$root" "$root.new"   # package list changed or refresh asked: update in place
  fi
  echo "== PostgreSQL $v: apt-get install $pkgs"
  if ! _gtm_chroot_in "$root.new" /bin/sh -ec "
         apt-get update -qq
         ${GTM_CHROOT_REFRESH:+apt-get -y -qq upgrade}
         apt-get install -y -qq $pkgs
         apt-get clean" >"$GTM_CHROOT_CACHE/apt-pg$v.log" 2>&1; then
    echo "apt-get in the PostgreSQL $v root failed; last lines of $GTM_CHROOT_CACHE/apt-pg$v.log:" >&2
    tail -n 30 "$GTM_CHROOT_CACHE/apt-pg$v.log" >&2
    exec 8>&-
    return 1
  fi
  echo "$want" > "$root.new/.gtm_clarity-ready"
  mv "$root.new" "$root"
  echo "== PostgreSQL $v: root ready in $(( $(date +%s) - t0 ))s ($(du -sh "$root" | cut -f1))"
}
