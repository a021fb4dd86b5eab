#!/usr/bin/env bash
# Screenshot of the MAGIC dialog for the README (docs/images/plugin-dialog.png),
# taken from the real GIMP 3 GUI under Xvfb in the Debian root (MAGIC_GIMP_SUITE,
# see debian_root.sh), and a check of the interactive path that the batch test
# cannot reach: the dialog, the progress window's Cancel button, a run left to
# finish, and an error shown to the user.
#
# Not part of `make test` (it takes minutes on a CPU: the second run uses
# the 'preview' preset on the bundled rocket example).
#
# Requirements: as tests/gimp/run_gimp_tests.sh (root, the cached root or a
# Debian mirror, .venv); adds xvfb and xdotool to the root.
# MAGIC_SHOT_QUICK=1 stops after the screenshot.
# Output: docs/images/plugin-dialog.png; the progress and result screens and
# logs stay in $MAGIC_SHOT_OUT (default /tmp/magic-shot-out).

set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
source "$REPO/tests/gimp/debian_root.sh"

PY="${PYTHON:-$REPO/.venv/bin/python}"
OUT="${MAGIC_SHOT_OUT:-/tmp/magic-shot-out}"
SHOT_IN_ROOT=/tmp/magic-shot
SHOT="$ROOT$SHOT_IN_ROOT"
DISPLAY_NUM=:77
SCREEN_W=1600 SCREEN_H=900
SERVER_PID="" XVFB_PID="" GIMP_PID=""

[[ $EUID -eq 0 ]] || die "needs root (chroot and mounts)"

stop_group() {  # stop_group PID: TERM, then KILL, the process group we started with setsid
    local pid="$1"
    [[ -n "$pid" ]] || return 0
    kill -TERM -- "-$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    stop_group "$GIMP_PID"; stop_group "$XVFB_PID"; stop_group "$SERVER_PID"
    unmount_root
}
trap cleanup EXIT
trap 'exit 130' INT TERM

x() { in_root env DISPLAY=$DISPLAY_NUM "$@"; }

wait_window() {  # wait_window REGEX TIMEOUT_S -> prints the id of the newest matching window
    local id=""
    for _ in $(seq 1 $(($2 * 2))); do
        id=$(x xdotool search --onlyvisible --name "$1" 2>/dev/null | tail -n 1 || true)
        [[ -n "$id" ]] && { echo "$id"; return 0; }
        sleep 0.5
    done
    die "no window named $1 after $2 s (GIMP log: $OUT/gimp.log)"
}

center_window() {
    local id="$1" w h
    eval "$(x xdotool getwindowgeometry --shell "$id")"
    x xdotool windowmove "$id" $(((SCREEN_W - WIDTH) / 2)) $(((SCREEN_H - HEIGHT) / 2))
}

wait_outcome() {  # wait_outcome TEXT TIMEOUT_S
    for _ in $(seq 1 $(($2 * 2))); do
        grep -q "$1" "$SHOT/outcome.log" 2>/dev/null && return 0
        sleep 0.5
    done
    die "'$1' did not appear in outcome.log within $2 s"
}

ensure_root xvfb xdotool
mount_root
rm -rf "$SHOT" "$OUT"; mkdir -p "$SHOT/case" "$OUT"
cp "$REPO"/examples/cases/demo-rocket-move/{image.jpg,source.png,target.png} "$SHOT/case/"
cp "$REPO/tests/gimp/capture_screen.py" "$SHOT/"

log "starting the MAGIC server on the host"
setsid env MAGIC_GIMP_HOME="$OUT/home" "$PY" -m magic_server --endpoint tcp://127.0.0.1:0 \
    --runtime-file "$SHOT/server.json" --spool "$OUT/spool" --classifier random:resnet18 --device cpu \
    >"$OUT/server.log" 2>&1 &
SERVER_PID=$!
MAGIC_GIMP_HOME="$OUT/home" "$PY" "$REPO/installer/install.py" --only plugin \
    --gimp-dir "$ROOT$(gimp_profile_in_root)" --runtime-file "$SHOT_IN_ROOT/server.json" \
    --server-command "/opt/magic-gimp-not-installed/bin/python -m magic_server" --no-vendor-zmq >"$OUT/install.log"

log "starting Xvfb and GIMP"
setsid chroot "$ROOT" env -i HOME=/root PATH=/usr/bin:/bin Xvfb $DISPLAY_NUM -screen 0 ${SCREEN_W}x${SCREEN_H}x24 \
    -nolisten tcp >"$OUT/xvfb.log" 2>&1 &
XVFB_PID=$!
sleep 2
setsid chroot "$ROOT" env -i HOME=/root PATH=/usr/bin:/bin LANG=C.UTF-8 DISPLAY=$DISPLAY_NUM \
    MAGIC_SHOT_DIR=$SHOT_IN_ROOT "gimp-$(gimp_version)" --no-splash --batch-interpreter=python-fu-eval -b - \
    <"$REPO/tests/gimp/screenshot_scene.py" >"$OUT/gimp.log" 2>&1 &
GIMP_PID=$!

dialog=$(wait_window '^MAGIC$' 180)
main=$(wait_window 'GIMP$' 10)
x xdotool windowmove "$main" 0 0 windowsize "$main" $SCREEN_W $SCREEN_H
eval "$(x xdotool getwindowgeometry --shell "$dialog")"
x xdotool windowmove "$dialog" $((SCREEN_W - WIDTH - 24)) $(((SCREEN_H - HEIGHT) / 2))  # beside the photo
x xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1))  # no tooltip in the picture
sleep 3  # let it draw
x python3 "$SHOT_IN_ROOT/capture_screen.py" "$SHOT_IN_ROOT/plugin-dialog.png"
cp "$SHOT/plugin-dialog.png" "$REPO/docs/images/plugin-dialog.png"
log "saved docs/images/plugin-dialog.png"
[[ "${MAGIC_SHOT_QUICK:-0}" == 1 ]] && exit 0

log "run 1: Run, then Cancel in the progress window"
x xdotool windowfocus --sync "$dialog" key Return
progress=$(wait_window '^MAGIC progress$' 60)
center_window "$progress"
sleep 6
x python3 "$SHOT_IN_ROOT/capture_screen.py" "$SHOT_IN_ROOT/progress.png"
x xdotool windowfocus --sync "$progress" key Escape
wait_outcome "run 1 status" 60

log "run 2: Run and wait for the results (preview preset on a CPU: minutes)"
dialog=$(wait_window '^MAGIC$' 60)
x xdotool windowfocus --sync "$dialog" key Return
wait_outcome "run 2 status" 1800
sleep 3
x python3 "$SHOT_IN_ROOT/capture_screen.py" "$SHOT_IN_ROOT/result.png"

log "run 3: no selection, so an error message and no new layers"
dialog=$(wait_window '^MAGIC$' 60)
x xdotool windowfocus --sync "$dialog" key Return
wait_outcome "run 3 status" 60
sleep 3
x python3 "$SHOT_IN_ROOT/capture_screen.py" "$SHOT_IN_ROOT/error.png"
cp "$SHOT"/*.png "$SHOT/outcome.log" "$OUT/"
cat "$SHOT/outcome.log"
log "screens and logs in $OUT"
