# Shared by run_gimp_tests.sh and screenshot.sh (source it, do not run it).
#
# A cached Debian root with GIMP 3, made with debootstrap, plus mount/unmount
# helpers. Needs root, debootstrap (installed with apt-get when missing) and a
# reachable Debian mirror.
#
#   MAGIC_GIMP_SUITE   Debian suite (default trixie: GIMP 3.0.4; testing had
#                      GIMP 3.2.6 in November 2026)
#   MAGIC_GIMP_ROOT    where the root lives (default /var/cache/magic-gimp/<suite>-root)
#   MAGIC_GIMP_MIRROR  Debian mirror (default: the host's deb.debian.org-style
#                      mirror from /etc/apt, else http://deb.debian.org/debian)

SUITE="${MAGIC_GIMP_SUITE:-trixie}"
ROOT="${MAGIC_GIMP_ROOT:-/var/cache/magic-gimp/$SUITE-root}"
ROOT_PACKAGES="gimp python3-zmq python3-numpy"
ROOT_STAMP="$ROOT/.magic-gimp-root-ready"
MOUNTED=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "FAILED: $*"; exit 1; }

# The host's own Debian mirror (it is known to be reachable from here).
debian_mirror() {
    if [[ -n "${MAGIC_GIMP_MIRROR:-}" ]]; then echo "$MAGIC_GIMP_MIRROR"; return; fi
    local uri
    uri=$(grep -hoE '(URIs:|deb)[[:space:]]+https?://[^[:space:]]+/debian/?([[:space:]]|$)' \
              /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null \
          | grep -oE 'https?://[^[:space:]]+' | grep -v -- '-security' | head -n 1)
    echo "${uri:-http://deb.debian.org/debian}"
}

_mount() {  # _mount TARGET ARGS... ; remembers TARGET for unmount_root
    local target="$1"; shift
    mkdir -p "$target"
    if ! mountpoint -q "$target"; then
        mount "$@" "$target" || die "mount $* $target"
    fi
    MOUNTED+=("$target")  # also a mount left by a killed run: we hold the lock, so it is ours to remove
}

# One run at a time per root (they share its mounts and /tmp).
lock_root() {
    mkdir -p "$(dirname "$ROOT")"
    exec 9>"$ROOT.lock"
    flock -n 9 || die "another run is using $ROOT (lock $ROOT.lock)"
}

mounts_under_root() { awk -v r="$ROOT/" 'index($2 "/", r) == 1 {print $2}' /proc/self/mounts; }

mount_root() {
    _mount "$ROOT/proc" -t proc proc
    _mount "$ROOT/sys" -t sysfs sysfs
    _mount "$ROOT/dev" --bind /dev
    _mount "$ROOT/dev/pts" --bind /dev/pts
    _mount "$ROOT/dev/shm" -t tmpfs -o mode=1777 tmpfs  # GIMP's shared-memory tiles
}

# Unmount everything mount_root mounted, newest first; safe to call twice.
unmount_root() {
    local i
    for ((i = ${#MOUNTED[@]} - 1; i >= 0; i--)); do
        umount "${MOUNTED[i]}" 2>/dev/null || umount -l "${MOUNTED[i]}" 2>/dev/null || true
    done
    MOUNTED=()
    for target in "$ROOT/dev/shm" "$ROOT/dev/pts" "$ROOT/dev" "$ROOT/sys" "$ROOT/proc"; do
        if mountpoint -q "$target" 2>/dev/null; then log "WARNING: $target is still mounted"; fi
    done
}

in_root() { chroot "$ROOT" env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

# The root's GIMP version (3.0, 3.2...), from its gimp-console-3.x; it also
# names the user folder GIMP reads plug-ins from.
gimp_version() {
    local found
    found=$(cd "$ROOT/usr/bin" && ls gimp-console-3.* 2>/dev/null | sort -V | tail -n 1)
    [[ -n "$found" ]] || die "no gimp-console-3.x in $ROOT/usr/bin"
    echo "${found#gimp-console-}"
}
gimp_profile_in_root() { echo "/root/.config/GIMP/$(gimp_version)"; }

root_has_packages() {  # the stamp lists installed packages, one a line
    local package
    for package in "$@"; do grep -qxF "$package" "$ROOT_STAMP" 2>/dev/null || return 1; done
}

# Make the root once (debootstrap + apt), then only add missing packages.
# Extra packages (e.g. for the screenshot) are passed as arguments.
ensure_root() {
    lock_root
    local wanted="$ROOT_PACKAGES $*"
    # shellcheck disable=SC2086
    if root_has_packages $wanted; then
        log "reusing the cached $SUITE root $ROOT"
        return 0
    fi
    command -v debootstrap >/dev/null || {
        log "installing debootstrap on the host"
        apt-get install -y debootstrap >/dev/null || die "apt-get install debootstrap"
    }
    local mirror; mirror=$(debian_mirror)
    if [[ ! -x "$ROOT/usr/bin/apt-get" || ! -f "$ROOT/.debootstrap-done" ]]; then
        log "creating a Debian $SUITE root in $ROOT from $mirror (debootstrap, a few minutes)"
        [[ -z "$(mounts_under_root)" ]] || die "refusing to delete $ROOT: something is mounted in it: $(mounts_under_root)"
        rm -rf "$ROOT"
        mkdir -p "$(dirname "$ROOT")"
        debootstrap --variant=minbase "$SUITE" "$ROOT" "$mirror" >"$ROOT.debootstrap.log" 2>&1 \
            || die "debootstrap failed; see $ROOT.debootstrap.log (and $ROOT/debootstrap/debootstrap.log)"
        touch "$ROOT/.debootstrap-done"
    fi
    cp /etc/resolv.conf "$ROOT/etc/resolv.conf" 2>/dev/null || true
    printf '#!/bin/sh\nexit 101\n' >"$ROOT/usr/sbin/policy-rc.d"  # no daemons start in the root
    chmod +x "$ROOT/usr/sbin/policy-rc.d"
    mount_root
    log "installing $wanted in the root (apt-get)"
    # A mirror that lags behind leaves testing's Release file past its
    # Valid-Until date; the packages are still signed and verified.
    in_root apt-get -o Acquire::Check-Valid-Until=false update -q >"$ROOT.apt.log" 2>&1 \
        || die "apt-get update in the root; see $ROOT.apt.log"
    in_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $wanted \
        >>"$ROOT.apt.log" 2>&1 || die "apt-get install in the root; see $ROOT.apt.log"
    in_root apt-get clean
    { cat "$ROOT_STAMP" 2>/dev/null || true; printf '%s\n' $wanted; } | sort -u >"$ROOT_STAMP.new"
    mv "$ROOT_STAMP.new" "$ROOT_STAMP"
    unmount_root
}
