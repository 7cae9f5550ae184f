#!/bin/sh
# make-blend-strip.sh - the README's two-style blend: horses.jpg stylized
# with The Scream and the giraffe's coat (examples/giraffe.jpg) at blend
# weights 1:0, 1:1 and 0:1, side by side in docs/blend-strip.jpg.
#
#   sh docs/make-blend-strip.sh      (after bash .ci/setup.sh; about
#                                     5 minutes on lavapipe, 2 cores)
#
# Environment: BUILD_DIR (default ./build), SIZE (default 128),
# ITERATIONS (default 80), STYLE_WEIGHT (default 1000).  The defaults of
# stylize otherwise (the structured embedded network, seed 0).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/.." && pwd)
build=${BUILD_DIR:-$src/build}
size=${SIZE:-128}
iterations=${ITERATIONS:-80}
# the committed strip was made at style weight 1e3, the default then
style_weight=${STYLE_WEIGHT:-1000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM

for w in 1,0 1,1 0,1; do
  "$build/examples/stylize" "$src/examples/horses.jpg" \
    "$src/examples/scream.jpg,$src/examples/giraffe.jpg" \
    --style-blend-weights "$w" --size "$size" --iterations "$iterations" \
    --style-weight "$style_weight" \
    -q -o "$tmp/blend-$w.png"
done
/usr/bin/python3 - "$tmp" "$here/blend-strip.jpg" <<'PY'
import sys
from PIL import Image, ImageDraw
tmp, out = sys.argv[1], sys.argv[2]
ims = [Image.open(f"{tmp}/blend-{w}.png").convert("RGB") for w in ("1,0", "1,1", "0,1")]
labels = ["The Scream", "half and half", "giraffe"]
w, h = ims[0].size
sheet = Image.new("RGB", (3 * w + 8, h + 16), "white")
d = ImageDraw.Draw(sheet)
for i, (im, t) in enumerate(zip(ims, labels)):
    sheet.paste(im, (i * (w + 4), 0))
    d.text((i * (w + 4) + 2, h + 2), t, fill="black")
sheet.save(out, quality=90)
PY
echo "wrote $here/blend-strip.jpg"
