#!/usr/bin/python3
"""seams.py - the seams of examples/render-segments: the warping error at
segment boundaries inside a shot against the mean over the rest of the
clip, for the ways a segment can start there.

    tests/bench/seams.py [--rows CARRY:WARMUP:BLEND,...] [--jobs 2]
                         [--size 128x96] [--frames A,B] [--max-frames N]
                         [--out DIR] [PROPERTY=VALUE ...]

Makes a synthetic clip (make_clip: shot A pans one pixel a frame across
examples/horses.jpg, then a cut to shot B panning across examples/dog.jpg,
raw RGB in Matroska at 6 fps), and for each row (render-segments --carry,
--warmup and --blend) renders it with --jobs local jobs and --max-frames
(--codec raw: lossless, so the figures are the render's and not a
codec's), joins it, and measures the joined file against the clip with
build/tests/bench/warp-error --stylized: the warping error of every pair
of consecutive frames (Lai et al. 2018, the mean squared difference of
frame t and frame t-1 carried along the input's flow).  Prints per row
the worst pair a boundary inside a shot touches (its own and those of its
cross-fade), the mean over the other pairs (the cut's left out: across a
cut the flow means nothing), their ratio, the worst ratio of a touched
pair to the same pair of the clip rendered whole (one segment a shot,
rendered first), the sharpness of the frames a
boundary mixes over the nearby frames' of its shot (variance of the
Laplacian of the luma, as warp-error's) and the wall time, then a
markdown table.  See tests/bench/README.md.

The PROPERTY=VALUEs go to stylefilter (default: style-location=
examples/scream.jpg iterations=3 first-iterations=10, the demo's).
tests/gst/test-render-segments.py imports make_clip, pair_errors and
seam_figures.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

SRC = os.path.abspath(os.environ.get("STYLEFILTER_SOURCE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", ".."))
BUILD = os.path.abspath(os.environ.get("BUILD_DIR", os.path.join(SRC,
                                                                  "build")))
RENDER = os.path.join(SRC, "examples", "render-segments")
WARP_ERROR = os.path.join(BUILD, "tests", "bench", "warp-error")
FPS = 6
# the warm-up alone (a fresh start), then carried from the shot's first
# frame, then carried and cross-faded
DEFAULT_ROWS = ("none:0:0,none:2:0,none:4:0,none:8:0,shot:0:0,shot:2:0,"
                "shot:4:0,shot:8:0,shot:2:2,shot:4:4,shot:8:8,shot:12:12")


def _gst():
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    Gst.init(None)
    return Gst


def load_image(path, width, height):
    """path decoded and scaled to width x height, an (h, w, 3) uint8
    array."""
    frames = frames_of(path, width, height)
    if not frames:
        raise RuntimeError("cannot decode %s" % path)
    return frames[0]


def pan(image_path, w, h, frames, dx, dy):
    """frames w x h windows moving dx, dy px over an image scaled to
    (w + dx) x (h + dy)."""
    img = load_image(image_path, w + dx, h + dy)
    out = []
    for i in range(frames):
        x = dx * i // max(frames - 1, 1)
        y = dy * i // max(frames - 1, 1)
        out.append(img[y:y + h, x:x + w])
    return out


def make_clip(path, w, h, frames_a, frames_b, audio=False):
    """Shot A (frames_a frames panning across horses.jpg), a cut, shot B
    (frames_b across dog.jpg): raw RGB in Matroska at FPS, lossless; with
    audio, a Vorbis sine as long as the video beside it."""
    Gst = _gst()
    # steps of one pixel across: a pan
    # whose change stays far below scene-threshold, as a cut's is far above
    shots = pan(os.path.join(SRC, "examples", "horses.jpg"), w, h, frames_a,
                frames_a - 1, 0)
    shots += pan(os.path.join(SRC, "examples", "dog.jpg"), w, h, frames_b,
                 frames_b - 1, 0)
    p = Gst.parse_launch(
        "appsrc name=src format=time caps=video/x-raw,format=RGB,width=%d,"
        "height=%d,framerate=%d/1 ! videoconvert ! video/x-raw,format=RGB ! "
        "matroskamux name=mux ! filesink name=sink" % (w, h, FPS)
        + (" audiotestsrc num-buffers=%d samplesperbuffer=%d ! "
           "audio/x-raw,rate=48000,channels=1 ! vorbisenc ! mux."
           % (len(shots), 48000 // FPS) if audio else ""))
    p.get_by_name("sink").set_property("location", path)
    src = p.get_by_name("src")
    p.set_state(Gst.State.PLAYING)
    for i, f in enumerate(shots):
        buf = Gst.Buffer.new_wrapped(f.tobytes())
        buf.pts = i * Gst.SECOND // FPS
        buf.duration = (i + 1) * Gst.SECOND // FPS - buf.pts
        src.emit("push-buffer", buf)
    src.emit("end-of-stream")
    msg = p.get_bus().timed_pop_filtered(
        60 * Gst.SECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
    p.set_state(Gst.State.NULL)
    if msg is None or msg.type != Gst.MessageType.EOS:
        raise RuntimeError("could not write %s" % path)
    return len(shots)


def pair_errors(clip, stylized, size):
    """{t: warping error of output frames t-1, t} from warp-error
    --stylized (the clip measured at size, "WxH")."""
    r = subprocess.run([WARP_ERROR, "--size", size, "--stylized", stylized,
                        clip], capture_output=True, text=True, timeout=600)
    errs = {}
    for line in r.stdout.splitlines():
        m = re.match(r"frames\s+(\d+)-\s*(\d+): output ([0-9.e+-]+)", line)
        if m:
            errs[int(m.group(2))] = float(m.group(3))
    if r.returncode != 0 or not errs:
        raise RuntimeError("warp-error failed (%d):\n%s%s" % (
            r.returncode, r.stdout[-2000:], r.stderr[-2000:]))
    return errs


def seam_figures(plan, errs):
    """({t: error} of the pairs a boundary inside a shot touches: the
    boundary's own, t = its first frame, and those in the cross-fade
    before it; the mean over the other pairs, the cuts' left out)."""
    cuts = set(plan["cuts"])
    touched = set()
    for s in plan["segments"]:
        t = s["first_frame"]
        if t > 0 and t not in cuts:
            touched.update(range(t - s.get("head", 0), t + 1))
    bounds = {t: errs[t] for t in sorted(touched) if t in errs}
    rest = [e for t, e in errs.items() if t not in cuts and t not in bounds]
    return bounds, sum(rest) / max(len(rest), 1)


def frames_of(path, width=0, height=0):
    """The frames of path decoded to RGB (scaled to width x height if
    given), as (h, w, 3) uint8 arrays."""
    import numpy as np
    Gst = _gst()
    scale = "videoscale ! " if width else ""
    size = ",width=%d,height=%d" % (width, height) if width else ""
    p = Gst.parse_launch("filesrc name=src ! decodebin ! videoconvert ! "
                         "%svideo/x-raw,format=RGB%s ! appsink name=sink "
                         "sync=false" % (scale, size))
    p.get_by_name("src").set_property("location", path)
    sink = p.get_by_name("sink")
    p.set_state(Gst.State.PLAYING)
    out = []
    while True:
        sample = sink.emit("try-pull-sample", 30 * Gst.SECOND)
        if sample is None:
            break
        st = sample.get_caps().get_structure(0)
        w, h = st.get_value("width"), st.get_value("height")
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        stride = (3 * w + 3) // 4 * 4
        out.append(np.frombuffer(m.data, np.uint8)[:stride * h].reshape(
            h, stride)[:, :3 * w].reshape(h, w, 3).copy())
        buf.unmap(m)
    p.set_state(Gst.State.NULL)
    return out


def sharpness(frame):
    """Variance of the 4-neighbour Laplacian of the BT.601 luma (0..255)
    over the interior, as warp-error's."""
    y = frame.astype(float) @ [0.299, 0.587, 0.114]
    lap = (y[1:-1, :-2] + y[1:-1, 2:] + y[:-2, 1:-1] + y[2:, 1:-1]
           - 4 * y[1:-1, 1:-1])
    return float(lap.var())


def blend_sharpness(plan, joined):
    """Mean sharpness of the frames a boundary inside a shot mixes (its
    cross-fade and its first frame) over that of the unmixed frames of the
    same shot up to 8 frames either side of them; None without such a
    boundary."""
    sharp = [sharpness(f) for f in frames_of(joined)]
    cuts = sorted(set(plan["cuts"]) | {0, len(sharp)})
    mixed, near = set(), set()
    for s in plan["segments"]:
        t = s["first_frame"]
        if t > 0 and t not in cuts:
            lo, hi = t - s.get("head", 0), t + 1
            shot = [c for c in cuts if c <= lo][-1], \
                [c for c in cuts if c >= hi][0]
            mixed.update(range(lo, hi))
            near.update(range(max(shot[0], lo - 8), min(shot[1], hi + 8)))
    a = [sharp[t] for t in mixed if t < len(sharp)]
    b = [sharp[t] for t in near - mixed if t < len(sharp)]
    return (sum(a) / len(a)) / (sum(b) / len(b)) if a and b else None


def render(clip, out, jobs, row, max_frames, props, workdir):
    """render-segments run; row (carry, warm-up, blend), or None: the clip
    whole (a segment per shot)."""
    carry, warmup, blend = row or ("none", 0, 0)
    if row is None:
        max_frames = 1 << 30
    cmd = [sys.executable, RENDER, "run", clip, "-o", out, "--codec", "raw",
           "--jobs", str(jobs), "--warmup", str(warmup), "--carry", carry,
           "--blend", str(blend),
           "--max-frames",
           str(max_frames), "--dir", workdir] + props
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=3600)
    wall = time.monotonic() - t0
    if r.returncode != 0:
        raise RuntimeError("%s failed (%d):\n%s" % (" ".join(cmd),
                                                    r.returncode,
                                                    r.stderr[-3000:]))
    import json
    with open(os.path.join(workdir, "plan.json")) as f:
        return json.load(f), wall


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", default=DEFAULT_ROWS,
                    help="render-segments --carry:--warmup:--blend per "
                    "row, comma-separated (default %(default)s)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--size", default="128x96")
    ap.add_argument("--frames", default="16,24",
                    help="frames of shot A and shot B")
    ap.add_argument("--max-frames", type=int, default=8)
    ap.add_argument("--out", default=os.path.join(SRC, "out", "seams"))
    ap.add_argument("--whole", help="the clip rendered whole already (an "
                    "earlier run's OUT/joined-whole.mkv, the same clip and "
                    "properties)")
    ap.add_argument("properties", nargs="*")
    a = ap.parse_args(argv[1:])
    props = a.properties or ["style-location=%s" % os.path.join(
        SRC, "examples", "scream.jpg"), "iterations=3", "first-iterations=10"]
    w, h = (int(v) for v in a.size.split("x"))
    fa, fb = (int(v) for v in a.frames.split(","))
    os.makedirs(a.out, exist_ok=True)
    clip = os.path.join(a.out, "clip.mkv")
    make_clip(clip, w, h, fa, fb)
    print("clip %s: %dx%d, shot A %d frames, shot B %d, at most %d per "
          "segment; stylefilter %s" % (clip, w, h, fa, fb, a.max_frames,
                                       " ".join(props)))
    # the clip whole first: the same pairs without a boundary
    whole = a.whole or os.path.join(a.out, "joined-whole.mkv")
    if not a.whole:
        work = tempfile.mkdtemp(prefix="whole-", dir=a.out)
        _, wall = render(clip, whole, a.jobs, None, a.max_frames, props,
                         work)
        print("the clip whole: %.0f s" % wall)
    whole_errs = pair_errors(clip, whole, a.size)
    rows = []
    for spec in a.rows.split(","):
        parts = spec.split(":")
        row = (parts[0],) + tuple(int(v) for v in parts[1:])
        name = "-".join(parts)
        work = tempfile.mkdtemp(prefix=name + "-", dir=a.out)
        out = os.path.join(a.out, "joined-%s.mkv" % name)
        plan, wall = render(clip, out, a.jobs, row, a.max_frames, props, work)
        errs = pair_errors(clip, out, a.size)
        bounds, rest = seam_figures(plan, errs)
        worst = max(bounds.values()) if bounds else 0
        # the worst touched pair against the same pair rendered whole
        vs_whole = max(e / whole_errs[t] for t, e in bounds.items()) \
            if bounds else 0
        sharp = blend_sharpness(plan, out)
        print("%s: worst pair at a boundary %.3g, rest %.3g, worst "
              "against the whole render's %.2f, sharpness there / nearby "
              "%.3f, %.0f s" % (spec, worst, rest, vs_whole, sharp or 0,
                                wall))
        sys.stdout.flush()
        rows.append((spec, worst, rest, vs_whole, sharp or 0, wall))
    print()
    print("| carry:warm-up:blend | worst boundary pair | "
          "rest mean | worst / rest | worst against the whole render | "
          "sharpness there / nearby | wall s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for spec, worst, rest, vs_whole, sharp, wall in rows:
        print("| %s | %.2e | %.2e | %.2f | %.2f | %.3f | %.0f |"
              % (spec, worst, rest, worst / rest if rest else 0, vs_whole,
                 sharp, wall))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
