#!/usr/bin/python3
"""stylize-video.py - stylizes a video file with the stylefilter element
and writes it as WebM (VP8), with a progress line: frames done of the
total, milliseconds per frame, the losses of the last frame and the time
left.

    examples/stylize-video.py INPUT STYLE [OUTPUT.webm] [property=value ...]
    examples/stylize-video.py in.mp4 examples/scream.jpg out.webm processing-size=256

STYLE may be "" for the element's built-in style.  Ctrl-C finishes the
file: the element's drain property stops the frame in progress at its next
loss evaluation and sends the frames still queued as their warm starts (no
iterations), an EOS closes the WebM file, and the script exits 0 with a
complete, playable file.  A second Ctrl-C aborts.  On an error the
element's own message is printed and the exit status is 1.

The plugin is taken from the build tree when run from the source tree
(BUILD_DIR, default ./build); set GST_PLUGIN_PATH yourself otherwise.
Needs python3-gi, gir1.2-gstreamer-1.0 and gir1.2-gst-plugins-base-1.0.
"""
import os
import signal
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BUILD_DIR", os.path.join(HERE, "..", "build"))
if os.path.isdir(os.path.join(BUILD, "gst")):
    path = os.path.abspath(os.path.join(BUILD, "gst"))
    old = os.environ.get("GST_PLUGIN_PATH")
    os.environ["GST_PLUGIN_PATH"] = path + (":" + old if old else "")

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

PIPELINE = ("filesrc name=src ! decodebin ! videoconvert ! "
            "stylefilter name=sf ! videoconvert ! vp8enc deadline=1 ! "
            "webmmux ! filesink name=sink")


def fmt_time(seconds):
    seconds = int(max(seconds, 0))
    return "%d:%02d:%02d" % (seconds // 3600, seconds // 60 % 60, seconds % 60)


class Render:
    """One render: the pipeline, its progress and its exit status."""

    def __init__(self, input_path, style, output, props):
        self.pipeline = Gst.parse_launch(PIPELINE)
        self.sf = self.pipeline.get_by_name("sf")
        self.pipeline.get_by_name("src").set_property("location", input_path)
        self.pipeline.get_by_name("sink").set_property("location", output)
        if style:
            self.sf.set_property("style-location", style)
        for prop in props:
            name, _, value = prop.partition("=")
            if self.sf.find_property(name) is None:
                raise SystemExit("stylize-video: stylefilter has no property "
                                 "%r" % name)
            Gst.util_set_object_arg(self.sf, name, value)
        self.loop = GLib.MainLoop()
        self.status = 0
        self.frames = 0
        self.total = None
        self.ms = []
        self.last = {}
        self.interrupted = 0
        self.started = time.monotonic()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def total_frames(self):
        if self.total is None:
            ok, duration = self.pipeline.query_duration(Gst.Format.TIME)
            caps = self.sf.get_static_pad("sink").get_current_caps()
            if ok and duration > 0 and caps:
                ok, num, den = caps.get_structure(0).get_fraction("framerate")
                if ok and num > 0:
                    self.total = round(duration * num / (den * Gst.SECOND))
        return self.total

    def progress(self):
        total = self.total_frames()
        mean = sum(self.ms[-8:]) / max(len(self.ms[-8:]), 1)
        bar, left = "", ""
        if total:
            done = min(self.frames / total, 1.0)
            bar = "[%-20s] " % ("#" * int(done * 20))
            left = "  left %s" % fmt_time((total - self.frames) * mean / 1000)
        line = "%s%d/%s frames  %.0f ms/frame  style %.3g content %.3g%s" % (
            bar, self.frames, total or "?", mean,
            self.last.get("style-loss", 0), self.last.get("content-loss", 0),
            left)
        sys.stderr.write("\r" + line + " " * 4)
        sys.stderr.flush()

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.ELEMENT and msg.src == self.sf:
            st = msg.get_structure()
            if st.get_name() == "stylefilter-stats":
                self.frames += 1
                self.ms.append(st.get_value("milliseconds"))
                for key in ("style-loss", "content-loss"):
                    self.last[key] = st.get_value(key)
                self.progress()
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            sys.stderr.write("\nstylize-video: error from %s: %s\n" %
                             (msg.src.get_name(), err.message))
            if os.environ.get("STYLIZE_VERBOSE"):
                sys.stderr.write("  %s\n" % debug)
            self.status = 1
            self.loop.quit()
        elif msg.type == Gst.MessageType.WARNING:
            err, _ = msg.parse_warning()
            sys.stderr.write("\nstylize-video: warning: %s\n" % err.message)
        elif msg.type == Gst.MessageType.EOS:
            self.loop.quit()

    def on_interrupt(self):
        self.interrupted += 1
        if self.interrupted == 1:
            sys.stderr.write("\nstylize-video: interrupted: finishing the "
                             "file (Ctrl-C again to abort)\n")
            self.sf.set_property("drain", True)
            self.pipeline.send_event(Gst.Event.new_eos())
            return GLib.SOURCE_CONTINUE
        sys.stderr.write("stylize-video: aborted; the file is incomplete\n")
        self.status = 130
        self.loop.quit()
        return GLib.SOURCE_REMOVE

    def run(self):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT,
                             self.on_interrupt)
        if self.pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            # the error message is on the bus
            self.loop.run()
            self.status = self.status or 1
        else:
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        sys.stderr.write("\n")
        if self.status == 0:
            sys.stderr.write("stylize-video: %d frames in %s%s\n" % (
                self.frames, fmt_time(time.monotonic() - self.started),
                " (finished early on Ctrl-C)" if self.interrupted else ""))
        return self.status


def main(argv):
    if len(argv) < 3:
        sys.stderr.write("usage: %s INPUT STYLE [OUTPUT.webm] "
                         "[stylefilter property=value ...]\n" % argv[0])
        return 2
    output = argv[3] if len(argv) > 3 else "stylized.webm"
    Gst.init(None)
    if Gst.ElementFactory.find("stylefilter") is None:
        sys.stderr.write("stylize-video: no stylefilter element; build the "
                         "plugin or set GST_PLUGIN_PATH\n")
        return 1
    try:
        render = Render(argv[1], argv[2], output, argv[4:])
    except GLib.Error as e:
        sys.stderr.write("stylize-video: %s\n" % e.message)
        return 1
    return render.run()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
