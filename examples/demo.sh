#!/bin/sh
# demo.sh - a short stylized clip from the build tree, in a few minutes on
# a CPU Vulkan driver (lavapipe).
#
#   examples/demo.sh            (after: meson setup build && ninja -C build)
#
# Makes a slowly panning clip from examples/horses.jpg (videobox crops),
# stylizes it with examples/scream.jpg on the embedded default network and
# writes out/demo.webm and out/demo-last.png (the last frame).
#
# Environment: BUILD_DIR (default ./build), OUT_DIR (default ./out),
# SIZE (processing size, default 96), FRAMES (default 12), FPS (default 6),
# ITERATIONS (per frame, default 3), FIRST_ITERATIONS (default 10),
# DETAIL (the element's detail property, default 0.75: how much of the
# clip's own fine detail goes back into the 96-px result upsampled to
# 320x212; 0 gives the soft upsampling alone), STYLE (default
# examples/scream.jpg).  On lavapipe with 2 cores the defaults took
# 6 min 20 s on a quiet machine, 10 min shared with another job (2 to 3
# minutes on earlier, faster ones; an L-BFGS iteration is one to two loss
# evaluations, and every iteration asked for runs: about 15 evaluations
# for the first frame, 4 to 5 for each later one).
# Time grows about with SIZE squared times the iterations.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$src/build}
out=${OUT_DIR:-$src/out}
size=${SIZE:-96}
frames=${FRAMES:-12}
fps=${FPS:-6}
iterations=${ITERATIONS:-3}
first_iterations=${FIRST_ITERATIONS:-10}
detail=${DETAIL:-0.75}
style=${STYLE:-$here/scream.jpg}

if [ ! -e "$build/gst/libgststylefilter.so" ]; then
  echo "No plugin in $build/gst: build it first with" >&2
  echo "  meson setup build && ninja -C build   (or set BUILD_DIR)" >&2
  exit 1
fi
GST_PLUGIN_PATH="$(cd "$build/gst" && pwd)${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
export GST_PLUGIN_PATH

mkdir -p "$out"
out=$(cd "$out" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. the clip: 360x238 horses, a 320x212 window panning across it
echo "Making a $frames-frame clip from horses.jpg ..."
i=0
while [ "$i" -lt "$frames" ]; do
  # pan 40 px right and 26 px down over the clip
  dx=$(( 40 * i / (frames > 1 ? frames - 1 : 1) ))
  dy=$(( 26 * i / (frames > 1 ? frames - 1 : 1) ))
  gst-launch-1.0 -q filesrc location="$here/horses.jpg" ! jpegdec ! \
    videoconvert ! videoscale ! video/x-raw,width=360,height=238 ! \
    videobox left=$dx right=$((40 - dx)) top=$dy bottom=$((26 - dy)) ! \
    videoconvert ! pngenc ! \
    filesink location="$(printf '%s/frame-%03d.png' "$tmp" "$i")"
  i=$((i + 1))
done

# 2. stylize: WebM for the clip, a PNG of the last frame for a quick look
echo "Stylizing at processing-size=$size ($first_iterations iterations for" \
  "the first frame, $iterations after) ..."
start=$(date +%s)
gst-launch-1.0 -e \
  multifilesrc location="$tmp/frame-%03d.png" index=0 \
    stop-index=$((frames - 1)) caps="image/png,framerate=$fps/1" ! \
  pngdec ! videoconvert ! \
  stylefilter style-location="$style" processing-size="$size" \
    iterations="$iterations" first-iterations="$first_iterations" \
    detail="$detail" ! \
  progressreport update-freq=5 ! tee name=t \
  t. ! queue ! videoconvert ! vp8enc deadline=1 ! webmmux ! \
    filesink location="$out/demo.webm" \
  t. ! queue ! videoconvert ! pngenc ! \
    multifilesink location="$out/demo-last.png"
end=$(date +%s)

echo
echo "Done in $((end - start)) s."
echo "Video:      $out/demo.webm"
echo "Last frame: $out/demo-last.png"
