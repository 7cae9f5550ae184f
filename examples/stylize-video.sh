#!/bin/sh
# stylize-video.sh - stylizes a video file with the stylefilter element and
# writes it as WebM (VP8), printing progress as it goes.
#
#   examples/stylize-video.sh INPUT STYLE [OUTPUT.webm] [stylefilter options...]
#   examples/stylize-video.sh in.mp4 examples/scream.jpg out.webm processing-size=256 iterations=5
#
# Runs examples/stylize-video.py (PyGObject), which finishes the file within
# seconds on Ctrl-C: the element's drain property stops the frame in
# progress and sends the queued frames without iterations, then EOS closes
# the file.  Without python3-gi it falls back to gst-launch-1.0 -e, where
# Ctrl-C still closes the file, but only after every queued frame has been
# optimised in full.
#
# The plugin is taken from the build tree when run from the source tree
# (BUILD_DIR, default ./build); set GST_PLUGIN_PATH yourself otherwise.
set -eu

if [ $# -lt 2 ]; then
  echo "usage: $0 INPUT STYLE [OUTPUT.webm] [stylefilter property=value ...]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)

# Debian's python3 has the bindings; another python3 first on PATH may not
for py in python3 /usr/bin/python3; do
  if "$py" -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null; then
    exec "$py" "$here/stylize-video.py" "$@"
  fi
done

input=$1
style=$2
output=${3:-stylized.webm}
[ $# -ge 3 ] && shift 3 || shift $#

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
