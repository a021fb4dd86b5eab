#!/usr/bin/env bash
# The MAGIC plug-in tested in a real GIMP 3 (`make test-gimp`).
#
# What it does:
#   1. makes (once) a Debian root with debootstrap (MAGIC_GIMP_SUITE: trixie
#      gives GIMP 3.0, testing gave 3.2) and installs gimp, python3-zmq and
#      python3-numpy in it; later runs reuse it (MAGIC_GIMP_ROOT, default
#      /var/cache/magic-gimp/<suite>-root);
#   2. mounts /proc, /sys, /dev, /dev/pts and a /dev/shm tmpfs in the root,
#      and always unmounts them again (trap), also on failure;
#   3. starts the real MAGIC server on the host (127.0.0.1, a free port,
#      random ResNet-18 on the CPU) with its runtime file inside the root,
#      at /tmp/magic-test/server.json as the plug-in sees it (the chroot
#      shares the host's network), and a second one as a studio server
#      (--curve, its allowed keys in /tmp/magic-test/allowed-keys.txt, its
#      runtime file at /tmp/magic-test/studio-server.json);
#   4. installs the plug-in into the root's GIMP profile with the installer's
#      plug-in-only mode, as a user would;
#   5. runs gimp-console-3.x headless in the root with tests/gimp/batch_test.py,
#      which calls Filters → MAGIC non-interactively and checks the results;
#   6. stops the server, unmounts, prints the time of each stage.
#
# Requirements: Linux, root (debootstrap, chroot, mount), a reachable Debian
# mirror on the first run (the host's own, see tests/gimp/debian_root.sh),
# about 800 MB of disk for the root, and the repo's .venv (make venv) for
# the server and the installer. Exit code 0 when every check passed.
#
# Environment: MAGIC_GIMP_SUITE, MAGIC_GIMP_ROOT, MAGIC_GIMP_MIRROR (see debian_root.sh),
# PYTHON (default .venv/bin/python), MAGIC_GIMP_KEEP=1 keeps the test folder.

set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$REPO/tests/gimp/debian_root.sh"

PY="${PYTHON:-$REPO/.venv/bin/python}"
TEST_DIR_IN_ROOT=/tmp/magic-test
TEST_DIR="$ROOT$TEST_DIR_IN_ROOT"
GIMP_TIMEOUT_S=600
SERVER_PID=""
STUDIO_PID=""
WORK=""
declare -a TIMINGS=()
STAGE_START=$SECONDS

[[ $EUID -eq 0 ]] || die "this test needs root (debootstrap, chroot and mounts); run it as root or with sudo"
[[ -x "$PY" ]] || die "$PY not found; run 'make venv' first (or set PYTHON)"

stage_done() {  # stage_done NAME: record the time since the previous stage
    TIMINGS+=("$(printf '%5d s  %s' $((SECONDS - STAGE_START)) "$1")")
    log "done: $1 ($((SECONDS - STAGE_START)) s)"
    STAGE_START=$SECONDS
}

stop_pid() {  # stop_pid PID: SIGTERM, then SIGKILL after 10 s
    local pid=$1
    [[ -n "$pid" ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

stop_server() {
    stop_pid "$SERVER_PID"; SERVER_PID=""
    stop_pid "$STUDIO_PID"; STUDIO_PID=""
}

cleanup() {
    local rc=$?
    stop_server
    unmount_root
    if [[ $rc -ne 0 && -n "$WORK" && -f "$WORK/server.log" ]]; then
        log "server log (last lines):"; tail -n 20 "$WORK/server.log" >&2 || true
    fi
    if [[ -n "$WORK" && "${MAGIC_GIMP_KEEP:-0}" != 1 ]]; then rm -rf "$WORK"; fi
    return $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ensure_root
GIMP_CONSOLE="gimp-console-$(gimp_version)"
GIMP_PROFILE_IN_ROOT=$(gimp_profile_in_root)
stage_done "$SUITE root ready ($ROOT, $GIMP_CONSOLE)"

mount_root
rm -rf "$TEST_DIR"
mkdir -p "$TEST_DIR"
WORK="$TEST_DIR"
stage_done "mounts"

log "starting the MAGIC server on the host"
MAGIC_GIMP_HOME="$WORK/home" PYTHONUNBUFFERED=1 "$PY" -m magic_server --endpoint tcp://127.0.0.1:0 \
    --runtime-file "$TEST_DIR/server.json" --spool "$WORK/spool" \
    --classifier random:resnet18 --device cpu >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
log "starting a studio server on the host (--curve)"
: >"$TEST_DIR/allowed-keys.txt"
MAGIC_GIMP_HOME="$WORK/studio-home" PYTHONUNBUFFERED=1 "$PY" -m magic_server --endpoint tcp://127.0.0.1:0 \
    --curve --allow-keys "$TEST_DIR/allowed-keys.txt" \
    --runtime-file "$TEST_DIR/studio-server.json" --spool "$TEST_DIR/studio-spool" \
    --classifier random:resnet18 --device cpu >"$WORK/studio-server.log" 2>&1 &
STUDIO_PID=$!

log "installing the plug-in with the installer (--only plugin)"
# The server command names a Python that does not exist in the root: the
# test's own server is already running, and one failure path checks the
# "server not installed" message.
MAGIC_GIMP_HOME="$WORK/home" "$PY" "$REPO/installer/install.py" --only plugin \
    --gimp-dir "$ROOT$GIMP_PROFILE_IN_ROOT" --runtime-file "$TEST_DIR_IN_ROOT/server.json" \
    --server-command "/opt/magic-gimp-not-installed/bin/python -m magic_server" --no-vendor-zmq \
    >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; die "the installer failed"; }
[[ -x "$ROOT$GIMP_PROFILE_IN_ROOT/plug-ins/magic-gimp/magic-gimp.py" ]] || die "the installer did not install magic-gimp.py"
stage_done "install the plug-in"

wait_ready() {  # wait_ready RUNTIME_FILE PID LOG NAME: until the server has written its runtime file
    for _ in $(seq 1 1200); do
        [[ -s "$1" ]] && return 0
        kill -0 "$2" 2>/dev/null || { cat "$3" >&2; die "the $4 exited while starting"; }
        sleep 0.1
    done
    die "the $4 was not ready within 120 s"
}
wait_ready "$TEST_DIR/server.json" "$SERVER_PID" "$WORK/server.log" server
wait_ready "$TEST_DIR/studio-server.json" "$STUDIO_PID" "$WORK/studio-server.log" "studio server"
stage_done "servers ready"

log "running $GIMP_CONSOLE in the root with tests/gimp/batch_test.py"
set +e
in_root env MAGIC_TEST_DIR="$TEST_DIR_IN_ROOT" timeout "$GIMP_TIMEOUT_S" \
    "$GIMP_CONSOLE" -i --batch-interpreter=python-fu-eval -b - --quit \
    <"$REPO/tests/gimp/batch_test.py" >"$WORK/gimp.log" 2>&1
GIMP_RC=$?
set -e
grep -E '^(OK|TIMING|ALL GIMP)|Error|error|Traceback|assert|magic-gimp' "$WORK/gimp.log" \
    | grep -v -E 'gimp_wire_read|gimp_flush|cannot open display' >&2 || true
stage_done "GIMP run (start, test script, quit)"

if [[ $GIMP_RC -ne 0 ]] || ! grep -q "ALL GIMP TESTS PASSED" "$WORK/gimp.log"; then
    log "GIMP output:"; cat "$WORK/gimp.log" >&2
    case $GIMP_RC in
        64) die "a check in batch_test.py failed (GIMP exit code 64)";;
        124) die "GIMP did not finish within $GIMP_TIMEOUT_S s";;
        *) die "GIMP exited with code $GIMP_RC";;
    esac
fi

stop_server
stage_done "stop the server"
printf '%s\n' "Stage timings:" "${TIMINGS[@]}" >&2
log "real-GIMP tests passed ($GIMP_CONSOLE, Debian $SUITE)"
