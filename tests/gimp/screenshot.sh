#!/usr/bin/env bash
# Screenshots of the two-step workflow in the real GIMP 3 GUI under Xvfb in
# the Debian root (MAGIC_GIMP_SUITE, see debian_root.sh), and a check of the
# interactive path that the batch test cannot reach (tests/gimp/screenshot_scene.py
# is the GIMP side):
#   canvas-two-steps  the remembered object in red, the moved selection as target
#   plugin-dialog     the dialog: both masks, thumbnail, server state, measured times
#   progress          the progress window (its geometry must not change when the
#                     preview arrives); Cancel stops run 1
#   result, result-next  run 2's results, then after Show Next Result
#   result-cutout     the rocket cut out onto a transparent layer, moved: where it
#                     was turns transparent
#   dialog-problem    run 3 without a target: the dialog says so and Run stays off
#   dialog-no-server  run 4 with the server stopped and not startable: the same
#   server-settings   Filters → MAGIC → Server Settings with a studio server chosen,
#                     then after Test Connection (nothing listens there); Cancel
#
# Not part of `make test` (it takes minutes on a CPU: run 2 uses the
# 'preview' preset on the bundled rocket example).
#
# Requirements: as tests/gimp/run_gimp_tests.sh (root, the cached root or a
# Debian mirror, .venv); adds xvfb and xdotool to the root.
# Output: the screens, outcome.log and logs in $MAGIC_SHOT_OUT (default
# /tmp/magic-shot-out); MAGIC_SHOT_DOCS=1 also copies plugin/README.md's pictures
# to docs/images/gimp-*.png.

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

geometry() {  # geometry WINDOW_ID -> "X Y W H" of the window on the screen
    eval "$(x xdotool getwindowgeometry --shell "$1")"
    echo "$X $Y $WIDTH $HEIGHT"
}
shot() { x python3 "$SHOT_IN_ROOT/capture_screen.py" "$SHOT_IN_ROOT/$1"; }
done_with() { touch "$SHOT/$1"; }

refused_in_dialog() {  # refused_in_dialog WAIT_S PICTURE WHAT: the dialog shows WHAT, Run stays off
    local dialog
    dialog=$(wait_window '^MAGIC$' 60)
    sleep "$1"
    shot "$2.png"
    x xdotool windowfocus --sync "$dialog" key alt+r  # Run's mnemonic: does nothing while Run is off
    sleep 3
    [[ -n "$(x xdotool search --onlyvisible --name '^MAGIC$' 2>/dev/null || true)" ]] \
        || die "the dialog ran (or closed) although it showed $3"
    x xdotool windowfocus --sync "$dialog" key Escape
    echo "dialog with $3: alt+r did nothing, Escape cancelled" >>"$SHOT/outcome.log"
}

main=$(wait_window 'GIMP$' 180)
x xdotool windowmove "$main" 0 0 windowsize "$main" $SCREEN_W $SCREEN_H
wait_outcome "canvas ready" 120
x xdotool mousemove $((SCREEN_W - 1)) $((SCREEN_H - 1))  # no tooltip in the picture
sleep 4  # let the canvas draw the red object overlay and the moved selection
shot canvas-two-steps.png
done_with canvas-taken

dialog=$(wait_window '^MAGIC$' 120)
eval "$(x xdotool getwindowgeometry --shell "$dialog")"
x xdotool windowmove "$dialog" $((SCREEN_W - WIDTH - 24)) $(((SCREEN_H - HEIGHT) / 2))  # beside the photo
# The dialog asks the server for its measured times; the first time it measures each preset (seconds each).
for _ in $(seq 1 240); do grep -q "preset paper measured" "$OUT/server.log" 2>/dev/null && break; sleep 0.5; done
sleep 2  # the dialog polls the server every second
shot plugin-dialog.png

log "run 1: Run, then Cancel in the progress window; its layout must not move"
x xdotool windowfocus --sync "$dialog" key Return
progress=$(wait_window '^MAGIC progress$' 60)
center_window "$progress"
sleep 1
before=$(geometry "$progress")
sleep 15  # past the mask network: previews arrive every 2 s once the synthesis runs
shot progress.png
after=$(geometry "$progress")
[[ "$before" == "$after" ]] || die "the progress window moved or grew from $before to $after once the preview came"
echo "progress window geometry $before, unchanged after the preview" >>"$SHOT/outcome.log"
x xdotool windowfocus --sync "$progress" key Escape
wait_outcome "run 1 status" 60

log "run 2: Run and wait for the results (preview preset on a CPU: minutes)"
dialog=$(wait_window '^MAGIC$' 60)
x xdotool windowfocus --sync "$dialog" key Return
wait_outcome "run 2 status" 1800
sleep 3
shot result.png
done_with result-taken
wait_outcome "next shown" 60
sleep 3
shot result-next.png
done_with next-taken

log "cut-out: the rocket on a transparent layer, moved; where it was turns transparent"
dialog=$(wait_window '^MAGIC$' 120)
x xdotool windowfocus --sync "$dialog" key Return
wait_outcome "cutout status" 1800
sleep 3
shot result-cutout.png
done_with cutout-taken

log "run 3: no target, so the dialog says what to fix and Run stays off"
refused_in_dialog 3 dialog-problem "a problem"
wait_outcome "run 3 status" 60

log "run 4: the server stopped and cannot be started, so the dialog says why and Run stays off"
stop_group "$SERVER_PID"; SERVER_PID=""
rm -f "$SHOT/server.json"
done_with server-stopped
refused_in_dialog 8 dialog-no-server "no server"  # 8 s: it tries to start the server (not installed here)
wait_outcome "run 4 status" 60

log "Server Settings: a studio server chosen, Test Connection says what is wrong, Cancel"
settings=$(wait_window '^MAGIC Server$' 60)
center_window "$settings"
sleep 2
shot server-settings.png
x xdotool windowfocus --sync "$settings" key alt+n  # Test Connection: nothing listens at tcp://127.0.0.1:9
sleep 7  # the connection's timeout is 5 s
shot server-settings-test.png
x xdotool windowfocus --sync "$settings" key Escape
wait_outcome "server settings status" 60
wait_outcome "finished" 30
for picture in canvas-two-steps plugin-dialog progress result result-next result-cutout dialog-problem \
               dialog-no-server server-settings server-settings-test; do
    cp "$SHOT/$picture.png" "$OUT/"
done
cp "$SHOT/outcome.log" "$OUT/"
cat "$SHOT/outcome.log"
grep -q "run 1 status cancel" "$SHOT/outcome.log" || die "run 1 was not cancelled"
grep -q "run 2 status success" "$SHOT/outcome.log" || die "run 2 did not succeed"
grep -q "cutout status success" "$SHOT/outcome.log" || die "the cut-out run did not succeed"
grep -q "run 3 status cancel" "$SHOT/outcome.log" || die "run 3 was not held back in the dialog"
grep -q "run 4 status cancel" "$SHOT/outcome.log" || die "run 4 (no server) was not held back in the dialog"
grep -q "server settings status cancel" "$SHOT/outcome.log" || die "Server Settings was not cancelled"
log "screens and logs in $OUT; copy the ones plugin/README.md shows with MAGIC_SHOT_DOCS=1"
if [[ "${MAGIC_SHOT_DOCS:-0}" == 1 ]]; then
    for picture in canvas-two-steps plugin-dialog progress result-next result-cutout dialog-problem \
                   server-settings-test; do
        cp "$SHOT/$picture.png" "$REPO/docs/images/gimp-$picture.png"
    done
fi
