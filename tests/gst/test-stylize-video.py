#!/usr/bin/python3
"""test-stylize-video.py - examples/stylize-video.py (and the .sh that runs
it) on a tiny clip, as a user runs them: a whole render gives a WebM with
every input frame; Ctrl-C in the middle of a long first frame gives, within
seconds, a complete file that decodes with every frame; a missing input
exits 1 with the error's text.  TAP output.
"""
import os
import signal
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("STYLEFILTER_SOURCE_DIR", ".")
SCRIPT = os.path.join(SRC, "examples", "stylize-video.sh")
STYLE = os.path.join(SRC, "examples", "scream.jpg")

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as e:
    print("1..0 # SKIP no PyGObject for GStreamer: %s" % e)
    sys.exit(0)

Gst.init(None)
from gsttap import ok, results, run_to_end  # noqa: E402


def make_clip(path, frames):
    p = Gst.parse_launch(
        "videotestsrc pattern=ball num-buffers=%d ! video/x-raw,width=48,"
        "height=36,framerate=10/1 ! videoconvert ! vp8enc deadline=1 ! "
        "webmmux ! filesink location=%s" % (frames, path))
    run_to_end(p)


def count_frames(path):
    """Decoded frames of a file, or -1 if it does not decode to the end."""
    p = Gst.parse_launch("filesrc location=%s ! decodebin ! fakesink "
                         "name=sink signal-handoffs=true" % path)
    n = [0]
    p.get_by_name("sink").connect("handoff", lambda *a: n.__setitem__(
        0, n[0] + 1))
    return n[0] if run_to_end(p) else -1


def main():
    tmp = tempfile.mkdtemp(prefix="stylize-video-")
    clip = os.path.join(tmp, "in.webm")
    make_clip(clip, 12)
    print("# clip: %d frames" % count_frames(clip))

    out = os.path.join(tmp, "out.webm")
    r = subprocess.run(["sh", SCRIPT, clip, STYLE, out, "processing-size=16",
                        "iterations=1", "first-iterations=2"],
                       capture_output=True, text=True, timeout=600)
    frames = count_frames(out)
    print("# whole render: exit %d, %d frames" % (r.returncode, frames))
    ok(r.returncode == 0 and frames == 12, "a whole render has every frame")
    ok("12/12 frames" in r.stderr, "the progress line counts frames of total")

    # Ctrl-C in the middle of a first frame of 5000 iterations
    out = os.path.join(tmp, "interrupted.webm")
    proc = subprocess.Popen(["sh", SCRIPT, clip, STYLE, out,
                             "processing-size=32", "iterations=5000",
                             "first-iterations=5000"],
                            stderr=subprocess.PIPE, text=True)
    time.sleep(8)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=300)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    took = time.monotonic() - t0
    frames = count_frames(out)
    print("# Ctrl-C: exit %d after %.1f s, %d frames decode" %
          (proc.returncode, took, frames))
    ok(proc.returncode == 0, "Ctrl-C exits 0")
    ok(took < 60, "Ctrl-C finishes within a minute (%.1f s)" % took)
    ok(frames == 12, "the interrupted file decodes with every frame")

    r = subprocess.run(["sh", SCRIPT, os.path.join(tmp, "missing.webm"),
                        STYLE, os.path.join(tmp, "x.webm")],
                       capture_output=True, text=True, timeout=120)
    print("# missing input: exit %d: %s" % (r.returncode, r.stderr.strip()))
    ok(r.returncode == 1 and "error from" in r.stderr,
       "a missing input exits 1 with the error's text")
    print("1..%d" % len(results))
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
