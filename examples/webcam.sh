#!/bin/sh
# webcam.sh - live style transfer of a webcam (V4L2) to a window.
#
#   examples/webcam.sh [STYLE] [DEVICE] [stylefilter options...]
#   examples/webcam.sh examples/scream.jpg /dev/video0 iterations=3
#
# A small processing size and a time budget per frame keep it live
# (max-frame-time=200: each frame gets as many iterations as fit in
# 200 ms, at most `iterations`; pass max-frame-time=... to change it); QoS
# drops the frames the filter cannot keep up with.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
style=${1:-$here/scream.jpg}
device=${2:-/dev/video0}
[ $# -ge 2 ] && shift 2 || shift $#

build=${BUILD_DIR:-$here/../build}
if [ -d "$build/gst" ]; then
  GST_PLUGIN_PATH="$(cd "$build/gst" && pwd)${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  export GST_PLUGIN_PATH
fi

exec gst-launch-1.0 \
  v4l2src device="$device" ! videoconvert ! \
  stylefilter style-location="$style" processing-size=256 \
    max-frame-time=200 "$@" ! \
  videoconvert ! autovideosink
