#!/usr/bin/python3
"""ges-keyframes.py - stylefilter as a GES effect with a keyframed property:
the timeline an editor (Pitivi) builds, made with the GES API, one clip,
the effect on it, a property ramped linearly from the clip's first frame to
its end through a GstInterpolationControlSource (an editor's keyframes),
rendered to WebM at the input's size and frame rate.

    examples/ges-keyframes.py --ramp style-weight=0:1000 IN OUT.webm [STYLE] [property=value ...]

examples/ges-effect.sh runs it for RAMP=...  Each frame's stylefilter-stats
message is printed as one line: frame, stream time, the ramped property's
value in force, milliseconds (--stats FILE writes them as JSON lines too).
Exits 1 with GES's or the element's error text on failure, and removes the
unfinished output.  Needs python3-gi, gir1.2-ges-1.0, gir1.2-gstreamer-1.0
and gir1.2-gst-plugins-base-1.0.
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
BUILD = os.environ.get("BUILD_DIR", os.path.join(HERE, "..", "build"))
if os.path.isdir(os.path.join(BUILD, "gst")):
    path = os.path.abspath(os.path.join(BUILD, "gst"))
    old = os.environ.get("GST_PLUGIN_PATH")
    os.environ["GST_PLUGIN_PATH"] = path + (":" + old if old else "")

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GES", "1.0")
gi.require_version("GstPbutils", "1.0")
gi.require_version("GstController", "1.0")
from gi.repository import GES, GLib, Gst, GstController, GstPbutils  # noqa


def parse_ramp(text):
    name, _, span = text.partition("=")
    lo, _, hi = span.partition(":")
    try:
        return name, float(lo), float(hi)
    except ValueError:
        sys.exit("--ramp: want PROPERTY=FROM:TO, got %r" % text)


def video_caps(asset):
    """The input's size and frame rate as the track's restriction caps."""
    info = asset.get_info()
    streams = info.get_video_streams()
    if not streams:
        raise RuntimeError("%s has no video stream" % info.get_uri())
    v = streams[0]
    caps = "video/x-raw,width=%d,height=%d" % (v.get_width(), v.get_height())
    if v.get_framerate_num() > 0:
        caps += ",framerate=%d/%d" % (v.get_framerate_num(),
                                       v.get_framerate_denom())
    return Gst.Caps.from_string(caps)


def webm_profile():
    container = GstPbutils.EncodingContainerProfile.new(
        "webm", None, Gst.Caps.from_string("video/webm"), None)
    container.add_profile(GstPbutils.EncodingVideoProfile.new(
        Gst.Caps.from_string("video/x-vp8"), None, None, 0))
    return container


def build_timeline(uri, style, props, ramp):
    asset = GES.UriClipAsset.request_sync(uri)
    timeline = GES.Timeline.new()
    track = GES.VideoTrack.new()
    track.set_restriction_caps(video_caps(asset))
    timeline.add_track(track)
    layer = timeline.append_layer()
    clip = layer.add_asset(asset, 0, 0, asset.get_duration(),
                           GES.TrackType.VIDEO)
    effect = GES.Effect.new("stylefilter")
    clip.add(effect)
    if style:
        effect.set_child_property("style-location", os.path.abspath(style))
    for prop in props:
        name, _, value = prop.partition("=")
        found, child, _ = GES.TimelineElement.lookup_child(effect, name)
        if not found:
            raise RuntimeError("stylefilter has no property %r" % name)
        # parsed as gst-launch-1.0 parses it
        Gst.util_set_object_arg(child, name, value)
    name, lo, hi = ramp
    source = GstController.InterpolationControlSource()
    source.props.mode = GstController.InterpolationMode.LINEAR
    source.set(0, lo)
    source.set(asset.get_duration(), hi)
    if not effect.set_control_source(source, name, "direct-absolute"):
        raise RuntimeError("cannot keyframe %r (not controllable?)" % name)
    return timeline, asset.get_duration()


class Render:
    def __init__(self, timeline, output, ramp_name, stats_file):
        self.pipeline = GES.Pipeline()
        self.pipeline.set_timeline(timeline)
        self.pipeline.set_render_settings(Gst.filename_to_uri(output),
                                          webm_profile())
        self.pipeline.set_mode(GES.PipelineFlags.RENDER)
        self.ramp_name = ramp_name
        self.stats = open(stats_file, "w") if stats_file else None
        self.error = None
        self.loop = GLib.MainLoop()
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def on_message(self, bus, msg):
        if msg.type == Gst.MessageType.EOS:
            self.loop.quit()
        elif msg.type == Gst.MessageType.ERROR:
            err, debug = msg.parse_error()
            self.error = "error from %s: %s (%s)" % (
                msg.src.get_name(), err.message, debug)
            self.loop.quit()
        elif msg.type == Gst.MessageType.ELEMENT:
            s = msg.get_structure()
            if s is not None and s.get_name() == "stylefilter-stats":
                self.on_stats(s)

    def on_stats(self, s):
        row = {"frame": s.get_value("frame"),
               "stream-time": s.get_value("stream-time"),
               self.ramp_name: s.get_value(self.ramp_name),
               "stop-reason": s.get_value("stop-reason"),
               "evaluations": s.get_value("evaluations"),
               "milliseconds": s.get_value("milliseconds")}
        print("frame %d at %.3f s: %s %g, %d evaluations (%s), %.0f ms" % (
            row["frame"], row["stream-time"] / 1e9, self.ramp_name,
            row[self.ramp_name], row["evaluations"], row["stop-reason"],
            row["milliseconds"]), file=sys.stderr)
        if self.stats:
            self.stats.write(json.dumps(row) + "\n")
            self.stats.flush()

    def run(self):
        self.pipeline.set_state(Gst.State.PLAYING)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        if self.stats:
            self.stats.close()
        return self.error


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--ramp", required=True, help="PROPERTY=FROM:TO")
    ap.add_argument("--stats", help="write each frame's figures here")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("style", nargs="?", default="")
    ap.add_argument("props", nargs="*", help="property=value")
    args = ap.parse_args()
    Gst.init(None)
    GES.init()
    ramp = parse_ramp(args.ramp)
    try:
        uri = Gst.filename_to_uri(os.path.abspath(args.input))
        timeline, duration = build_timeline(uri, args.style, args.props, ramp)
    except (GLib.Error, RuntimeError) as e:
        print("%s: %s" % (sys.argv[0], getattr(e, "message", e)),
              file=sys.stderr)
        return 1
    print("Rendering %s through GES, %s %g -> %g over %.2f s" % (
        args.input, ramp[0], ramp[1], ramp[2], duration / 1e9),
        file=sys.stderr)
    error = Render(timeline, args.output, ramp[0], args.stats).run()
    if error:
        print(error, file=sys.stderr)
        if os.path.exists(args.output):
            os.remove(args.output)
        return 1
    print("Wrote %s" % args.output, file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
