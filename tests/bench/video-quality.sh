#!/bin/bash
# video-quality.sh - warp-error's video-quality table (losses, sharpness,
# warping error, evaluations and time per frame) for warm-start=none,
# previous and flow on two made-up clips, losslessly stored:
#
#   pan:  examples/horses.jpg scaled to 360x238, a 320x212 window panning
#         40 px right and 26 down in 12 frames at 6 fps (as examples/demo.sh
#         makes it); measured at 160x106, processing-size=96
#   ball: videotestsrc pattern=ball, 8 frames of 160x120 at 10 fps;
#         measured at 128x96, processing-size=64
#
# both with style-location=examples/scream.jpg iterations=3
# first-iterations=10.
#
#   bash tests/bench/video-quality.sh [WARP-ERROR ARGUMENT ...]
#
# The arguments go to both warp-error runs after the defaults: more rows
# with --set "PROP=VAL ...", e.g.
#
#   bash tests/bench/video-quality.sh \
#     --set "warm-start=flow temporal-weight=1e4"
#
# (or common PROPERTY=VALUEs, which apply to every row).  Environment:
# BUILD_DIR (./build), OUT_DIR (./out/video-quality: the clips and each
# row's first and last output frame, OUT_DIR/CLIP/I-first.png and
# I-last.png), CLIPS ("pan ball"), SETS (the default rows, separated by
# ";": "warm-start=none;warm-start=previous;warm-start=flow"), EXTRA_SETS
# (more rows, the same way), FRAMES (stop each clip after this many).
# On lavapipe with 2 cores a pan row takes about 75 s, a ball row about
# 40 s, on an idle machine; with a load average of 6 to 10 from other work
# they took 23 and 9 minutes.  Prints the commands it runs, each run's
# per-pair lines and table as they come, then both tables; the exit status
# is warp-error's worst.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=$(cd "${BUILD_DIR:-$src/build}" && pwd)
out=${OUT_DIR:-$src/out/video-quality}
clips=${CLIPS:-pan ball}
sets=${SETS:-warm-start=none;warm-start=previous;warm-start=flow}
extra_sets=${EXTRA_SETS:-}
style=$src/examples/scream.jpg
warp_error=$build/tests/bench/warp-error

if [ ! -e "$build/gst/libgststylefilter.so" ] || [ ! -x "$warp_error" ]; then
  echo "No plugin or warp-error in $build: build it first with" >&2
  echo "  meson setup build && ninja -C build   (or set BUILD_DIR)" >&2
  exit 1
fi
GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_PLUGIN_PATH
mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# prints a command line (a word with other characters than these in single
# quotes), then runs it
show_run ()
{
  local w line='$'
  for w in "$@"; do
    if [[ $w =~ ^(!|[][A-Za-z0-9_./=:,%+@-]+)$ ]]; then
      line+=" $w"
    else
      line+=" '${w//\'/\'\\\'\'}'"
    fi
  done
  printf '%s\n' "$line"
  "$@"
}

# the pan, as examples/demo.sh makes it, into matroska (raw RGB: lossless)
make_pan ()
{
  local frames=12 i=0 dx dy
  while [ "$i" -lt "$frames" ]; do
    dx=$(( 40 * i / (frames - 1) ))
    dy=$(( 26 * i / (frames - 1) ))
    gst-launch-1.0 -q filesrc location="$src/examples/horses.jpg" ! \
      jpegdec ! videoconvert ! videoscale ! \
      video/x-raw,width=360,height=238 ! \
      videobox left=$dx right=$((40 - dx)) top=$dy bottom=$((26 - dy)) ! \
      videoconvert ! pngenc ! \
      filesink location="$(printf '%s/frame-%03d.png' "$tmp" "$i")"
    i=$((i + 1))
  done
  show_run gst-launch-1.0 -q multifilesrc location="$tmp/frame-%03d.png" \
    index=0 stop-index=$((frames - 1)) caps="image/png,framerate=6/1" ! \
    pngdec ! videoconvert ! video/x-raw,format=RGB ! matroskamux ! \
    filesink location="$out/pan.mkv"
}

make_ball ()
{
  show_run gst-launch-1.0 -q videotestsrc pattern=ball num-buffers=8 ! \
    video/x-raw,width=160,height=120,framerate=10/1 ! videoconvert ! \
    video/x-raw,format=RGB ! matroskamux ! filesink location="$out/ball.mkv"
}

# --set arguments of a ";"-separated list
set_args=()
IFS=';' read -r -a list <<< "$sets${extra_sets:+;$extra_sets}"
for s in "${list[@]}"; do
  [ -n "${s// /}" ] && set_args+=(--set "$s")
done

status=0
for clip in $clips; do
  case $clip in
    pan) size=160x106; psize=96 ;;
    ball) size=128x96; psize=64 ;;
    *) echo "video-quality.sh: unknown clip $clip (pan, ball)" >&2; exit 2 ;;
  esac
  echo "== $clip: making $out/$clip.mkv"
  "make_$clip"
  frames_arg=()
  [ -n "${FRAMES:-}" ] && frames_arg=(--frames "$FRAMES")
  echo "== $clip: the report"
  show_run "$warp_error" --size "$size" "${frames_arg[@]}" \
    --png-dir "$out/$clip" "${set_args[@]}" "$out/$clip.mkv" \
    style-location="$style" processing-size=$psize iterations=3 \
    first-iterations=10 "$@" | tee "$tmp/$clip.txt"
  rc=${PIPESTATUS[0]}
  [ "$rc" -gt "$status" ] && status=$rc
  echo
done

echo "== tables"
for clip in $clips; do
  # the table and its notes: from the "... and per row:" line on
  sed -n '/ and per row:$/,$p' "$tmp/$clip.txt"
  echo
done
exit "$status"
