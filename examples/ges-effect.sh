#!/bin/sh
# ges-effect.sh - stylefilter as an effect in GStreamer Editing Services,
# the way an editor built on GES (Pitivi) applies it: one clip, the effect
# on it, rendered to WebM by ges-launch-1.0 (Debian: ges1.0-tools).
#
#   examples/ges-effect.sh INPUT OUTPUT.webm [STYLE] [property=value ...]
#   examples/ges-effect.sh in.webm out.webm examples/scream.jpg processing-size=64
#   RAMP=style-weight=0:1000 examples/ges-effect.sh in.webm out.webm
#
# The output keeps the input's size and frame rate (ges-launch's own default
# track is 1280x720 at 30 fps): the video track's restriction caps are read
# off the input first.  STYLE "" (or left out) paints in the built-in style.
#
# RAMP=PROPERTY=FROM:TO animates one controllable property linearly over
# the clip, as an editor's keyframes do.  ges-launch-1.0 1.22's own
# "+keyframes" cannot do it (it passes the keyframe values as strings and
# fails with "Could not convert keyframe 0.000000 value 0 to double", for
# any element), so RAMP renders through examples/ges-keyframes.py, the
# same timeline built with the GES API and a GstInterpolationControlSource;
# it prints each frame's stylefilter-stats (STATS=FILE: as JSON lines too).
#
# The plugin is taken from the build tree when run from the source tree
# (BUILD_DIR, default ./build); set GST_PLUGIN_PATH yourself otherwise.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 INPUT OUTPUT.webm [STYLE] [property=value ...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
input=$1
output=$2
shift 2
style=""
if [ $# -gt 0 ]; then
  style=$1
  shift
fi

build=${BUILD_DIR:-$here/../build}
if [ -e "$build/gst/libgststylefilter.so" ]; then
  GST_PLUGIN_PATH="$(cd "$build/gst" && pwd)${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  export GST_PLUGIN_PATH
fi

abspath() {
  case $1 in
    /*) echo "$1" ;;
    *) echo "$(pwd)/$1" ;;
  esac
}

if [ ! -r "$input" ]; then
  echo "$0: cannot read $input" >&2
  exit 1
fi

if [ -n "${RAMP:-}" ]; then
  for py in python3 /usr/bin/python3; do
    if "$py" -c 'import gi; gi.require_version("GES", "1.0")' 2>/dev/null; then
      exec "$py" "$here/ges-keyframes.py" --ramp "$RAMP" \
        ${STATS:+--stats "$STATS"} "$input" "$output" "$style" "$@"
    fi
  done
  echo "$0: RAMP needs python3-gi and gir1.2-ges-1.0" >&2
  exit 1
fi

if ! command -v ges-launch-1.0 >/dev/null 2>&1; then
  echo "$0: no ges-launch-1.0 (Debian: apt install ges1.0-tools)" >&2
  exit 1
fi

# the input's size and frame rate, from its decoded caps
caps=$(gst-launch-1.0 -v filesrc location="$input" ! decodebin ! \
  fakesink num-buffers=1 2>&1 | grep -m1 "fakesink0.GstPad:sink: caps") || {
  echo "$0: $input has no video stream GStreamer can decode" >&2
  exit 1
}
width=$(echo "$caps" | sed -n 's/.*width=(int)\([0-9]*\).*/\1/p')
height=$(echo "$caps" | sed -n 's/.*height=(int)\([0-9]*\).*/\1/p')
rate=$(echo "$caps" | sed -n 's/.*framerate=(fraction)\([0-9]*\/[0-9]*\).*/\1/p')
restriction="video/x-raw,width=$width,height=$height${rate:+,framerate=$rate}"

effect="stylefilter"
if [ -n "$style" ]; then
  effect="$effect style-location=$(abspath "$style")"
fi
for prop in "$@"; do
  effect="$effect $prop"
done

echo "Rendering $input through GES ($restriction): $effect" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT INT TERM
status=0
ges-launch-1.0 --no-interactive -t video --video-caps "$restriction" \
  +clip "file://$(abspath "$input")" +effect "$effect" \
  -o "file://$(abspath "$output")" >"$log" 2>&1 || status=$?
# ges-launch reports its progress on one line with carriage returns, and
# exits 0 on some errors: its "ERROR" lines decide
if [ "$status" -ne 0 ] || grep -q "ERROR" "$log"; then
  tr '\r' '\n' <"$log" | sed 's/\x1b\[[0-9;]*m//g' |
    grep -v "^<position" | grep -v "^$" >&2
  rm -f "$output"
  exit 1
fi
echo "Wrote $output" >&2
