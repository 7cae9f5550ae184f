#!/bin/sh
# stylize-video.sh - stylizes a video file with the stylefilter element and
# writes it as WebM (VP8), printing progress as it goes.
#
#   examples/stylize-video.sh INPUT STYLE [OUTPUT.webm] [stylefilter options...]
#   examples/stylize-video.sh in.mp4 examples/scream.jpg out.webm processing-size=256 iterations=5
#
# The plugin is taken from the build tree when run from the source tree
# (BUILD_DIR, default ./build); set GST_PLUGIN_PATH yourself otherwise.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 INPUT STYLE [OUTPUT.webm] [stylefilter property=value ...]" >&2
  exit 2
fi
input=$1
style=$2
output=${3:-stylized.webm}
[ $# -ge 3 ] && shift 3 || shift $#

here=$(cd "$(dirname "$0")" && pwd)
build=${BUILD_DIR:-$here/../build}
if [ -d "$build/gst" ]; then
  GST_PLUGIN_PATH="$(cd "$build/gst" && pwd)${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  export GST_PLUGIN_PATH
fi

# -e: on Ctrl-C send EOS so the WebM file is finalised.
# progressreport prints the position every 5 seconds.
exec gst-launch-1.0 -e \
  filesrc location="$input" ! decodebin ! videoconvert ! \
  progressreport update-freq=5 ! \
  stylefilter style-location="$style" "$@" ! \
  videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location="$output"
