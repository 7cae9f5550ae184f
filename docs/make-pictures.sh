#!/bin/sh
# make-pictures.sh - the pictures at the top of the README, on the
# embedded network (no weights downloaded), from the example images:
#
#   docs/still.jpg       examples/horses.jpg | examples/scream.jpg | the
#                        result of build/examples/stylize at --size 256,
#                        --iterations 100, --style-weight 1000, every
#                        other setting its default
#   docs/demo-strip.jpg  four frames (first, two middle, last) of
#                        out/demo.webm as examples/demo.sh makes it with
#                        its defaults
#
#   sh docs/make-pictures.sh     (after bash .ci/setup.sh; about an hour
#                                 on lavapipe with 2 cores: the still ~55
#                                 minutes, the demo ~7)
#
# Environment: BUILD_DIR (default ./build), SIZE (default 256),
# ITERATIONS (default 100), STILL_STYLE_WEIGHT (default 1000), DEMO_DIR
# (keep the demo's out/ files there), SKIP_STILL=1 or SKIP_DEMO=1 to remake
# one picture only.  Needs python3-pil.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$src/build}
size=${SIZE:-256}
iterations=${ITERATIONS:-100}
# the committed still was made at style weight 1e3, the default before
# it became 100 (README "The built-in network"); STILL_STYLE_WEIGHT=100
# remakes it at today's default (another hour)
still_style_weight=${STILL_STYLE_WEIGHT:-1000}
demo_dir=${DEMO_DIR:-}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

if [ "${SKIP_STILL:-0}" != 1 ]; then
  echo "stylizing examples/horses.jpg at $size px, $iterations iterations ..."
  "$build/examples/stylize" "$src/examples/horses.jpg" \
    "$src/examples/scream.jpg" --size "$size" --iterations "$iterations" \
    --style-weight "$still_style_weight" --progress-every 20 \
    -o "$tmp/still.png"
  /usr/bin/python3 - "$src" "$tmp/still.png" "$here/still.jpg" <<'PY'
import sys
from PIL import Image, ImageDraw
src, result, out = sys.argv[1:4]
res = Image.open(result).convert("RGB")
h = res.height
def at_height(path):
    im = Image.open(path).convert("RGB")
    return im.resize((round(im.width * h / im.height), h), Image.LANCZOS)
ims = [at_height(f"{src}/examples/horses.jpg"),
       at_height(f"{src}/examples/scream.jpg"), res]
labels = ["content: horses.jpg", "style: scream.jpg",
          "stylefilter, built-in network"]
width = sum(im.width for im in ims) + 4 * (len(ims) - 1)
sheet = Image.new("RGB", (width, h + 14), "white")
d = ImageDraw.Draw(sheet)
x = 0
for im, t in zip(ims, labels):
    sheet.paste(im, (x, 0))
    d.text((x + 2, h + 1), t, fill="black")
    x += im.width + 4
sheet.save(out, quality=88, optimize=True)
PY
  echo "wrote $here/still.jpg"
fi

if [ "${SKIP_DEMO:-0}" != 1 ]; then
  demo_dir=${demo_dir:-$tmp/demo}
  OUT_DIR="$demo_dir" BUILD_DIR="$build" sh "$src/examples/demo.sh"
  mkdir "$tmp/frames"
  gst-launch-1.0 -q filesrc location="$demo_dir/demo.webm" ! decodebin ! \
    videoconvert ! pngenc ! \
    multifilesink location="$tmp/frames/f-%03d.png"
  /usr/bin/python3 - "$tmp/frames" "$here/demo-strip.jpg" <<'PY'
import glob, sys
from PIL import Image, ImageDraw
frames, out = sys.argv[1:3]
paths = sorted(glob.glob(f"{frames}/f-*.png"))
n = len(paths)
pick = sorted({0, n // 3, 2 * n // 3, n - 1})
ims = [Image.open(paths[i]).convert("RGB") for i in pick]
w, h = ims[0].size
sheet = Image.new("RGB", (len(ims) * (w + 4) - 4, h + 14), "white")
d = ImageDraw.Draw(sheet)
for k, (i, im) in enumerate(zip(pick, ims)):
    sheet.paste(im, (k * (w + 4), 0))
    d.text((k * (w + 4) + 2, h + 1), f"frame {i + 1} of {n}", fill="black")
sheet.save(out, quality=88, optimize=True)
PY
  echo "wrote $here/demo-strip.jpg"
fi
