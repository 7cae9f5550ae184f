#!/usr/bin/python3
"""test-ges.py - stylefilter as a GStreamer Editing Services effect, through
examples/ges-effect.sh as a user runs it: ges-launch-1.0 renders a short
clip with the effect to a file with the input's frame count and duration,
every frame stylized (far from the same timeline rendered without the
effect); GES's preroll-then-seek does not optimise the first frame twice;
a keyframed style-weight (RAMP=, the GES API with a control source) is in
force frame by frame, and the first frame, at weight 0, stays near the
photograph while the last does not; a missing style image fails with exit
1 and leaves no output.  TAP output; skipped without ges-launch-1.0 or
PyGObject's GES.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("STYLEFILTER_SOURCE_DIR", ".")
SCRIPT = os.path.join(SRC, "examples", "ges-effect.sh")
STYLE = os.path.join(SRC, "examples", "scream.jpg")
W, H, FPS, FRAMES = 64, 48, 6, 12
FAST = ["processing-size=32", "iterations=1", "first-iterations=4"]

try:
    import gi
    gi.require_version("Gst", "1.0")
    gi.require_version("GES", "1.0")
    gi.require_version("GstPbutils", "1.0")
    from gi.repository import Gst, GstPbutils
except (ImportError, ValueError) as e:
    print("1..0 # SKIP no PyGObject for GES: %s" % e)
    sys.exit(0)
if shutil.which("ges-launch-1.0") is None:
    print("1..0 # SKIP no ges-launch-1.0 (ges1.0-tools)")
    sys.exit(0)

Gst.init(None)
from gsttap import ok, results, run_to_end  # noqa: E402


def make_clip(path):
    """A ball over a gradient and stripes, moving: 12 frames at 6 fps."""
    p = Gst.parse_launch(
        "videotestsrc pattern=ball background-color=0xff307090 "
        "num-buffers=%d ! video/x-raw,width=%d,height=%d,framerate=%d/1 ! "
        "videoconvert ! vp8enc deadline=1 ! webmmux ! filesink location=%s"
        % (FRAMES, W, H, FPS, path))
    assert run_to_end(p)


def frames_of(path):
    """The decoded RGB frames of a file (bytes each), [] if it fails."""
    p = Gst.parse_launch(
        "filesrc location=%s ! decodebin ! videoconvert ! "
        "video/x-raw,format=RGB ! appsink name=sink sync=false "
        "emit-signals=false" % path)
    sink = p.get_by_name("sink")
    p.set_state(Gst.State.PLAYING)
    out = []
    while True:
        sample = sink.emit("try-pull-sample", 60 * Gst.SECOND)
        if sample is None:
            break
        buf = sample.get_buffer()
        out.append(buf.extract_dup(0, buf.get_size()))
    p.set_state(Gst.State.NULL)
    return out


def duration_of(path):
    info = GstPbutils.Discoverer.new(30 * Gst.SECOND).discover_uri(
        Gst.filename_to_uri(path))
    return info.get_duration() / 1e9


def mad(a, b):
    """Mean absolute difference of two RGB frames, 0..255."""
    n = min(len(a), len(b))
    return sum(abs(x - y) for x, y in zip(a[:n], b[:n])) / max(n, 1)


def ges_plain(clip, out):
    """The same timeline without the effect."""
    subprocess.run(["ges-launch-1.0", "--no-interactive", "-t", "video",
                    "--video-caps", "video/x-raw,width=%d,height=%d,"
                    "framerate=%d/1" % (W, H, FPS),
                    "+clip", Gst.filename_to_uri(clip),
                    "-o", Gst.filename_to_uri(out)],
                   capture_output=True, timeout=300, check=True)


def main():
    tmp = tempfile.mkdtemp(prefix="ges-")
    clip = os.path.join(tmp, "in.webm")
    make_clip(clip)
    base = os.path.join(tmp, "plain.webm")
    ges_plain(clip, base)
    plain = frames_of(base)
    print("# clip: %d frames, %.3f s; plain GES render %d frames" % (
        len(frames_of(clip)), duration_of(clip), len(plain)))

    out = os.path.join(tmp, "styled.webm")
    r = subprocess.run(["sh", SCRIPT, clip, out, STYLE] + FAST,
                       capture_output=True, text=True, timeout=900)
    styled = frames_of(out) if r.returncode == 0 else []
    print("# ges-effect.sh: exit %d, %d frames, %s" % (
        r.returncode, len(styled), r.stderr.strip().splitlines()[-1:]))
    ok(r.returncode == 0 and len(styled) == FRAMES,
       "GES renders every frame (%d of %d)" % (len(styled), FRAMES))
    d = duration_of(out) if r.returncode == 0 else -1
    ok(abs(d - duration_of(clip)) < 0.001,
       "the render lasts as long as the input (%.3f s)" % d)
    diffs = [mad(a, b) for a, b in zip(styled, plain)]
    print("# per-frame difference from the plain render: %s" %
          " ".join("%.1f" % x for x in diffs))
    ok(len(diffs) == FRAMES and min(diffs) > 15,
       "every frame is stylized (least difference %.1f of 255 > 15)" %
       (min(diffs) if diffs else -1))

    # keyframes: style-weight 0 -> 1000 over the clip, through the GES API
    out = os.path.join(tmp, "ramp.webm")
    stats = os.path.join(tmp, "ramp.jsonl")
    env = dict(os.environ, RAMP="style-weight=0:1000", STATS=stats)
    # without the TV term, weight 0 leaves only the content loss: the
    # first frame stays the photograph
    r = subprocess.run(["sh", SCRIPT, clip, out, STYLE] + FAST +
                       ["tv-weight=0"],
                       capture_output=True, text=True, timeout=900, env=env)
    ramp = frames_of(out) if r.returncode == 0 else []
    recs = []
    if r.returncode == 0:
        with open(stats) as f:
            recs = [json.loads(x) for x in f]
    print("# RAMP: exit %d, %d frames, %d stats messages" % (
        r.returncode, len(ramp), len(recs)))
    ok(r.returncode == 0 and len(ramp) == FRAMES,
       "the keyframed render has every frame")
    optimised = [x for x in recs if x["stop-reason"] != "repeat"]
    repeats = [x for x in recs if x["stop-reason"] == "repeat"]
    print("# stats: %d messages, %d optimised, %d sent again (%s)" % (
        len(recs), len(optimised), len(repeats),
        ", ".join("%.0f ms" % x["milliseconds"] for x in repeats)))
    ok(len(optimised) == FRAMES and
       all(x["evaluations"] == 0 for x in repeats),
       "GES's seek after the preroll does not optimise a frame twice "
       "(%d optimised for %d frames)" % (len(optimised), FRAMES))
    dur = duration_of(clip)
    worst = max((abs(x["style-weight"] - 1000.0 * x["stream-time"] / 1e9 /
                     dur) for x in recs), default=1e9)
    print("# style-weight against the ramp: worst %.2e" % worst)
    ok(len(recs) > 0 and worst < 1e-6,
       "the keyframed style-weight is in force frame by frame "
       "(worst %.1e)" % worst)
    if len(ramp) == FRAMES:
        d0, d1 = mad(ramp[0], plain[0]), mad(ramp[-1], plain[-1])
        print("# ramp: first frame %.1f, last frame %.1f from the plain "
              "render" % (d0, d1))
        ok(d0 < 8 and d1 > 2 * d0,
           "weight 0 keeps the photograph, the end of the ramp paints "
           "(%.1f, %.1f)" % (d0, d1))
    else:
        ok(False, "weight 0 keeps the photograph, the end paints")

    out = os.path.join(tmp, "missing.webm")
    r = subprocess.run(["sh", SCRIPT, clip, out,
                        os.path.join(tmp, "nonexistent.jpg")] + FAST,
                       capture_output=True, text=True, timeout=300)
    print("# missing style: exit %d: %s" % (
        r.returncode, r.stderr.strip().splitlines()[-1:]))
    ok(r.returncode == 1 and not os.path.exists(out),
       "a missing style image exits 1 and leaves no file")
    print("1..%d" % len(results))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
