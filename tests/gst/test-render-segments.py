#!/usr/bin/python3
"""test-render-segments.py - examples/render-segments as a user runs it, on
a synthetic clip (tests/bench/seams.py's make_clip: 8 frames panning
across horses.jpg, a cut, 32 frames across dog.jpg, raw RGB at 6 fps, with
a Vorbis sine beside it):

- plan puts a boundary at the cut and splits the long second shot, whose
  second half starts from the shot's first frame, carried, then warms up;
- run --jobs 2 renders and joins it: the joined file has the input's frame
  count and duration and its audio, every pair of frames the boundary
  inside the shot touches (its own and the cross-fade's) has a warping
  error within 1.5x of the mean over the clip's other pairs (the cut's
  pair left out), and the frames equal those of a 1-job render, whose wall
  time is printed beside the 2-job one; the same boundary started afresh
  is above 10x (the measure sees a seam);
- --codec vp8 joins WebM segments without re-encoding;
- a missing input, a segment index out of range, a failed segment and a
  segment from another plan are refused with their own message, and
  neither a failed nor an interrupted render leaves a segment file, nor a
  refused join an output.

TAP output.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("STYLEFILTER_SOURCE_DIR", ".")
BUILD = os.environ.get("STYLEFILTER_BUILD_DIR", os.path.join(SRC, "build"))
RENDER = os.path.join(SRC, "examples", "render-segments")
STYLE = os.path.join(SRC, "examples", "scream.jpg")
sys.path.insert(0, os.path.join(SRC, "tests", "bench"))
sys.path.insert(0, os.path.join(SRC, "examples"))
os.environ.setdefault("BUILD_DIR", BUILD)

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
    import numpy  # noqa: F401
except (ImportError, ValueError) as e:
    print("1..0 # SKIP no PyGObject for GStreamer or numpy: %s" % e)
    sys.exit(0)

Gst.init(None)
from gsttap import ok, results  # noqa: E402
import seams  # noqa: E402
from rendersegments.common import (  # noqa: E402
    DEFAULT_BLEND, DEFAULT_WARMUP, count_streams)

SIZE = (64, 48)
# the second shot split in two, its second half far enough into the shot
# that the default warm-up does not reach back to the shot's first frame
SHOTS = (8, 32)
MAX = ("--max-frames", 16)
PROPS = ["style-location=%s" % STYLE, "iterations=3", "first-iterations=10"]
CHEAP = ["style-location=%s" % STYLE, "iterations=1", "first-iterations=1",
         "processing-size=16"]


def render_segments(*args, timeout=900):
    t0 = time.monotonic()
    r = subprocess.run([sys.executable, RENDER] + [str(a) for a in args],
                       capture_output=True, text=True, timeout=timeout)
    r.wall = time.monotonic() - t0
    if r.returncode != 0:
        print("# %s: exit %d: %s" % (args[0], r.returncode,
                                     r.stderr.strip().splitlines()[-1:]))
    return r


def decoded(path):
    """The frames of path as RGB bytes (seams.frames_of), and the duration
    its container gives (ns; -1 without)."""
    frames = [f.tobytes() for f in seams.frames_of(path)]
    p = Gst.parse_launch("filesrc name=src ! matroskademux ! fakesink")
    p.get_by_name("src").set_property("location", path)
    p.set_state(Gst.State.PAUSED)
    p.get_state(30 * Gst.SECOND)
    okd, dur = p.query_duration(Gst.Format.TIME)
    p.set_state(Gst.State.NULL)
    return frames, dur if okd else -1


def test_plan(tmp, clip):
    r = render_segments("plan", clip, *MAX, "--codec", "raw",
                        "--dir", os.path.join(tmp, "plan"), *PROPS)
    ok(r.returncode == 0, "plan exits 0")
    with open(os.path.join(tmp, "plan", "plan.json")) as f:
        plan = json.load(f)
    segs = [(s["first_frame"], s["end_frame"], s["warmup_frame"],
             s["root_frame"]) for s in plan["segments"]]
    print("# cuts %s (change %s), segments (first, end, warm-up, root) %s"
          % (plan["cuts"], plan["cut_changes"], segs))
    ok(plan["cuts"] == [8], "plan finds the cut at frame 8")
    w, b = DEFAULT_WARMUP, min(DEFAULT_BLEND, DEFAULT_WARMUP, 15)
    ok(segs == [(0, 8, 0, 0), (8, 24, 8, 8), (24, 40, 24 - w, 8)]
       and 24 - w > 8 and [s["head"] for s in plan["segments"]] == [0, 0, b],
       "plan: the first shot whole, the second split in two, its second "
       "half rooted at the shot's first frame with a %d-frame warm-up "
       "after the carried frames, %d of them cross-faded" % (w, b))


def test_run(tmp, clip, n_in, dur_in):
    out2 = os.path.join(tmp, "two.mkv")
    r2 = render_segments("run", clip, "-o", out2, "--jobs", 2, *MAX,
                         "--codec", "raw", "--dir",
                         os.path.join(tmp, "two"), *PROPS)
    ok(r2.returncode == 0, "run --jobs 2 exits 0")
    frames2, dur2 = decoded(out2)
    print("# joined: %d frames, %.3f s; input %d frames, %.3f s"
          % (len(frames2), dur2 / 1e9, n_in, dur_in / 1e9))
    ok(len(frames2) == n_in, "the joined file has the input's frame count")
    ok(abs(dur2 - dur_in) <= Gst.MSECOND,
       "the joined file has the input's duration (to Matroska's 1 ms)")
    a_in = count_streams(clip, "matroskademux").get("audio")
    a_out = count_streams(out2, "matroskademux").get("audio")
    print("# audio (buffers, end ns): input %s, joined %s" % (a_in, a_out))
    ok(a_in and a_out == a_in, "the joined file has the input's audio, "
       "every buffer to the same end")

    with open(os.path.join(tmp, "two", "plan.json")) as f:
        plan = json.load(f)
    errs = seams.pair_errors(clip, out2, "%dx%d" % SIZE)
    bounds, rest = seams.seam_figures(plan, errs)
    for t, e in sorted(bounds.items()):
        print("# frames %d-%d (the boundary at 24 or its cross-fade): "
              "warping error %.3g, %.2f x the mean %.3g of the clip's other "
              "pairs" % (t - 1, t, e, e / rest, rest))
    ok(bounds and all(e <= 1.5 * rest for e in bounds.values()),
       "every pair the boundary inside the shot touches within 1.5x of the "
       "clip's mean warping error")

    # the measure sees a seam: the same split started afresh at frame 24
    out0 = os.path.join(tmp, "fresh.mkv")
    r0 = render_segments("run", clip, "-o", out0, "--jobs", 2, *MAX,
                         "--codec", "raw", "--carry", "none", "--warmup", 0,
                         "--blend", 0, "--dir", os.path.join(tmp, "fresh"),
                         *PROPS)
    with open(os.path.join(tmp, "fresh", "plan.json")) as f:
        plan0 = json.load(f)
    b0, rest0 = seams.seam_figures(plan0, seams.pair_errors(
        clip, out0, "%dx%d" % SIZE))
    print("# started afresh at frame 24: warping error %.3g, %.1f x the "
          "mean %.3g" % (b0.get(24, 0), b0.get(24, 0) / rest0, rest0))
    ok(r0.returncode == 0 and b0.get(24, 0) > 10 * rest0,
       "the same boundary started afresh (no carry, no warm-up, no "
       "cross-fade) is a seam above 10x the clip's mean")

    out1 = os.path.join(tmp, "one.mkv")
    r1 = render_segments("run", clip, "-o", out1, "--jobs", 1, *MAX,
                         "--codec", "raw", "--dir",
                         os.path.join(tmp, "one"), *PROPS)
    frames1, _ = decoded(out1)
    print("# wall time: 1 job %.1f s, 2 jobs %.1f s (1 job / 2 jobs "
          "%.2f)" % (r1.wall, r2.wall, r1.wall / r2.wall))
    ok(r1.returncode == 0 and frames1 == frames2,
       "a 1-job render gives the same frames as the 2-job one")


def test_vp8(tmp, clip, n_in, dur_in):
    out = os.path.join(tmp, "cheap.webm")
    r = render_segments("run", clip, "-o", out, "--jobs", 2, *MAX,
                        "--dir", os.path.join(tmp, "vp8"), *CHEAP)
    frames, dur = decoded(out)
    print("# vp8: %d frames, %.3f s" % (len(frames), dur / 1e9))
    ok(r.returncode == 0 and len(frames) == n_in
       and abs(dur - dur_in) <= Gst.MSECOND,
       "--codec vp8: the WebM segments join with the input's frames and "
       "duration")


def test_bad_input(tmp, clip):
    r = render_segments("plan", os.path.join(tmp, "nope.mkv"))
    ok(r.returncode == 1 and "no such file" in r.stderr,
       "plan of a missing file: exit 1, 'no such file'")
    d = os.path.join(tmp, "bad")
    r = render_segments("plan", clip, *MAX, "--dir", d, *CHEAP)
    plan = os.path.join(d, "plan.json")
    r = render_segments("render", plan, 3)
    ok(r.returncode == 2 and "out of range" in r.stderr
       and "3 segments" in r.stderr,
       "render of index 3 of 3 segments: exit 2, 'out of range'")

    for i in (0, 2):
        render_segments("render", plan, i)
    r = render_segments("render", plan, 1, "--device", "no-such-device")
    seg1 = os.path.join(d, "seg-0001.webm")
    ok(r.returncode == 1 and os.path.exists(os.path.join(
        d, "seg-0001.failed")) and not os.path.exists(seg1)
       and not os.path.exists(seg1 + ".part"),
       "a failed render leaves seg-0001.failed and no segment file")
    out = os.path.join(tmp, "bad.webm")
    r = render_segments("join", plan, "-o", out)
    print("# %s" % r.stderr.strip())
    ok(r.returncode == 1 and "segment 1 failed" in r.stderr
       and "segment 0" not in r.stderr and not os.path.exists(out)
       and not os.path.exists(out + ".part"),
       "join refuses, naming the failed segment 1, and writes nothing")

    # interrupted (as a pod is evicted): SIGTERM after the first frame
    p = subprocess.Popen([sys.executable, RENDER, "render", plan, "1"],
                         stderr=subprocess.PIPE, text=True)
    for line in p.stderr:
        if "frame 1 of" in line:
            p.send_signal(signal.SIGTERM)
            break
    p.stderr.read()
    rc = p.wait(timeout=120)
    with open(os.path.join(d, "seg-0001.failed")) as f:
        why = json.load(f)["error"]
    ok(rc == 130 and "interrupted" in why and not os.path.exists(seg1)
       and not os.path.exists(seg1 + ".part"),
       "an interrupted render exits 130 and leaves no segment file")

    render_segments("render", plan, 1)
    render_segments("plan", clip, *MAX, "--dir", d, *(CHEAP + ["seed=7"]))
    r = render_segments("join", plan, "-o", out)
    ok(r.returncode == 1 and "rendered for another plan" in r.stderr
       and not os.path.exists(out),
       "after planning again with other properties, join refuses the old "
       "segments")
    r = render_segments("status", plan)
    ok(r.returncode == 1 and r.stdout.count("another plan") == 3,
       "status lists the three stale segments")


def main():
    tmp = tempfile.mkdtemp(prefix="render-segments-")
    clip = os.path.join(tmp, "clip.mkv")
    seams.make_clip(clip, SIZE[0], SIZE[1], SHOTS[0], SHOTS[1], audio=True)
    frames_in, dur_in = decoded(clip)
    print("# clip: %d frames, %.3f s" % (len(frames_in), dur_in / 1e9))
    test_plan(tmp, clip)
    test_run(tmp, clip, len(frames_in), dur_in)
    test_vp8(tmp, clip, len(frames_in), dur_in)
    test_bad_input(tmp, clip)
    print("1..%d" % len(results))
    if all(results):
        shutil.rmtree(tmp, ignore_errors=True)
        return 0
    print("# kept for a look: %s" % tmp)
    return 1


if __name__ == "__main__":
    sys.exit(main())
