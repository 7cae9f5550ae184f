#!/usr/bin/env python3
"""pan-regions.py - where a stylized pan keeps its texture.

video-quality.sh's pan moves a 320x212 window 40 px right and 26 px down
over horses.jpg in 12 frames, so the last frame shows, at the measuring
size, the first frame's content shifted by (dx, dy) = (40, 26) scaled, and
two strips on the right and at the bottom that frame 0 never showed.  For
the first and last output frames (DIR/I-first.png, DIR/I-last.png, as
warp-error --png-dir writes them), prints the variance of the 4-neighbour
Laplacian of the BT.601 luma (0..255), warp-error's sharpness measure,
over the whole frame, over the content common to both frames (the same
places in the picture), and over the revealed strips of the last frame
against the same strips of frame 0 (places in the frame): a strip that
stays photograph shows here when the whole-frame figure hides it.

  python3 tests/bench/pan-regions.py out/video-quality/pan [I]

I: the row index of the --set (default 0).  Needs numpy and PIL.
"""
import sys

import numpy as np
from PIL import Image


def luma(path):
    a = np.asarray(Image.open(path).convert("RGB")).astype(np.float64)
    return 0.299 * a[..., 0] + 0.587 * a[..., 1] + 0.114 * a[..., 2]


def lapvar(y):
    lap = (y[:-2, 1:-1] + y[2:, 1:-1] + y[1:-1, :-2] + y[1:-1, 2:]
           - 4 * y[1:-1, 1:-1])
    return lap.var()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    d, i = sys.argv[1], sys.argv[2] if len(sys.argv) == 3 else "0"
    first, last = luma(f"{d}/{i}-first.png"), luma(f"{d}/{i}-last.png")
    h, w = first.shape
    dx, dy = round(40 * w / 320), round(26 * h / 212)
    rows = [
        ("whole frame", first, last),
        ("common content", first[dy:, dx:], last[:h - dy, :w - dx]),
        ("right strip", first[:, w - dx:], last[:, w - dx:]),
        ("bottom strip", first[h - dy:, :], last[h - dy:, :]),
    ]
    print(f"{d} row {i}: {w}x{h}, pan ({dx}, {dy}) px")
    for name, a, b in rows:
        fa, fb = lapvar(a), lapvar(b)
        print(f"  {name:15s} frame 0 {fa:8.1f}  last {fb:8.1f}  "
              f"last/frame 0 {fb / fa:.2f}")


if __name__ == "__main__":
    main()
