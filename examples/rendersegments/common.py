"""rendersegments/common.py - what plan, render and join share: the
plan file (load, id, segment paths), the codecs, pipelines run to EOS,
files written whole, and the errors the command prints.  See
examples/render-segments for the command line."""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("BUILD_DIR", os.path.join(HERE, "..", "build"))
if os.path.isdir(os.path.join(BUILD, "gst")):
    _path = os.path.abspath(os.path.join(BUILD, "gst"))
    _old = os.environ.get("GST_PLUGIN_PATH")
    if _path not in (_old or "").split(":"):
        os.environ["GST_PLUGIN_PATH"] = _path + (":" + _old if _old else "")

import gi  # noqa: E402

gi.require_version("Gst", "1.0")
gi.require_version("GstVideo", "1.0")
gi.require_version("GstPbutils", "1.0")
from gi.repository import GLib, Gst, GstVideo  # noqa: E402

PROG = "render-segments"
PLAN_VERSION = 1
DEFAULT_WARMUP = 12
DEFAULT_BLEND = 12
DEFAULT_MAX_FRAMES = 240
DEFAULT_THRESHOLD = 0.1         # stylefilter's scene-threshold default
CODECS = {
    # name: (extension, encoder and muxer, demuxer)
    "vp8": (".webm", "videoconvert ! vp8enc deadline=1 ! webmmux",
            "matroskademux"),
    "raw": (".mkv", "videoconvert ! video/x-raw,format=RGB ! matroskamux",
            "matroskademux"),
}
JOIN_MUXER = {"vp8": "webmmux", "raw": "matroskamux"}
PIPELINE_TIMEOUT = 3600         # s without a bus message that ends a run


class Failure(Exception):
    """An error to print (exit status 1, or 2 for bad arguments)."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


def say(msg):
    sys.stderr.write("%s: %s\n" % (PROG, msg))
    sys.stderr.flush()


def write_atomic(path, text):
    """Writes text to path through path.part and a rename: a reader never
    sees half a file under the final name."""
    part = path + ".part"
    with open(part, "w") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(part, path)


def remove(path):
    try:
        os.remove(path)
    except FileNotFoundError:
        pass


def check_input(path):
    if not os.path.isfile(path):
        raise Failure("no such file: %s" % path)
    st = os.stat(path)
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def bus_wait(pipeline, what, poll=None):
    """Runs pipeline until EOS; raises Failure with the error's own text.
    poll(), if given, is called about every 100 ms from this thread."""
    bus = pipeline.get_bus()
    idle = 0.0
    while True:
        msg = bus.timed_pop_filtered(
            100 * Gst.MSECOND, Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if poll:
            poll()
        if msg is None:
            idle += 0.1
            if idle > PIPELINE_TIMEOUT:
                raise Failure("%s: nothing happened in %d s"
                              % (what, PIPELINE_TIMEOUT))
            continue
        if msg.type == Gst.MessageType.EOS:
            return
        err, debug = msg.parse_error()
        if os.environ.get("RENDER_SEGMENTS_VERBOSE"):
            say("  %s" % debug)
        raise Failure("%s: error from %s: %s"
                      % (what, msg.src.get_name(), err.message))


def run_pipeline(pipeline, what, poll=None):
    try:
        if pipeline.set_state(Gst.State.PLAYING) == \
                Gst.StateChangeReturn.FAILURE:
            bus_wait(pipeline, what)    # the error is on the bus
            raise Failure("%s: the pipeline did not start" % what)
        bus_wait(pipeline, what, poll)
    finally:
        pipeline.set_state(Gst.State.NULL)



FILE_PROPERTIES = ("style-location", "model-location")


def absolute_file(name, path):
    """path made absolute (a render may run in another directory, or on
    another machine with the same shared paths); it must exist."""
    if not path or Gst.uri_is_valid(path):
        return path
    full = os.path.abspath(path)
    if not os.path.isfile(full):
        raise Failure("%s: no such file: %s" % (name, path), 2)
    return full


def parse_properties(props):
    """[name, value] pairs of PROPERTY=VALUE words, the files named made
    absolute and checked."""
    out = []
    for prop in props:
        name, eq, value = prop.partition("=")
        if not eq or not name:
            raise Failure("not a PROPERTY=VALUE: %r" % prop, 2)
        if name in FILE_PROPERTIES:
            value = absolute_file(name, value)
        elif name == "style-locations" and value.startswith("<") \
                and value.endswith(">"):
            value = "<%s>" % ",".join(absolute_file(name, v.strip())
                                      for v in value[1:-1].split(",")
                                      if v.strip())
        out.append([name, value])
    return out


def check_properties(props):
    """Refuses properties stylefilter does not have, or that a segment
    cannot share (device: each job's own)."""
    sf = Gst.ElementFactory.make("stylefilter", None)
    if sf is None:
        raise Failure("no stylefilter element; build the plugin or set "
                      "GST_PLUGIN_PATH")
    for name, value in props:
        if name == "device":
            raise Failure("device= is per job: give it to render "
                          "(--device) or run (--devices)", 2)
        if sf.find_property(name) is None:
            raise Failure("stylefilter has no property %r" % name, 2)
        # as gst-launch-1.0 takes it: the parser refuses a value that does
        # not convert, where util_set_object_arg only logs a warning
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        try:
            Gst.parse_launch('stylefilter %s="%s"' % (name, quoted))
        except GLib.Error as e:
            raise Failure("bad value for %s: %r (%s)" % (name, value,
                                                         e.message), 2)
    return sf


def plan_id(plan):
    body = {k: v for k, v in plan.items() if k != "id"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode()) \
        .hexdigest()[:16]


def load_plan(path):
    try:
        with open(path) as f:
            plan = json.load(f)
    except FileNotFoundError:
        raise Failure("no such plan: %s" % path)
    except (OSError, ValueError) as e:
        raise Failure("%s is not a plan: %s" % (path, e))
    if not isinstance(plan, dict) or plan.get("version") != PLAN_VERSION \
            or plan.get("id") != plan_id(plan):
        raise Failure("%s is not a plan of this version, or was edited "
                      "(plan again)" % path)
    plan["dir"] = os.path.dirname(os.path.abspath(path))
    return plan


def seg_paths(plan, seg):
    """The segment's file, its done record, its failure record and its
    side file (the frames to cross-fade, raw)."""
    base = os.path.join(plan["dir"], seg["file"])
    stem = os.path.splitext(base)[0]
    return base, stem + ".json", stem + ".failed", stem + ".side.mkv"


def segment_of(plan, index):
    n = len(plan["segments"])
    if index < 0 or index >= n:
        raise Failure("segment index %d out of range: the plan has %d "
                      "segment%s (0-%d)" % (index, n, "" if n == 1 else "s",
                                            n - 1), 2)
    return plan["segments"][index]


def add_demuxed(p, path, demuxer):
    """filesrc location=path ! demuxer added to pipeline p; the demuxer."""
    src = Gst.ElementFactory.make("filesrc", None)
    dmx = Gst.ElementFactory.make(demuxer, None)
    src.set_property("location", path)
    p.add(src)
    p.add(dmx)
    src.link(dmx)
    return dmx


def count_streams(path, demuxer):
    """{"video": (buffers, end), "audio": ...} of path demuxed without
    decoding: each stream's buffer count and the end time of its last
    buffer (ns, the file's running time)."""
    p = Gst.Pipeline.new(None)
    dmx = add_demuxed(p, path, demuxer)
    st = {}

    def handoff(sink, buf, pad, kind):
        n, end = st.get(kind, (0, 0))
        t = buf.pts if buf.pts != Gst.CLOCK_TIME_NONE else buf.dts
        d = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
        if t != Gst.CLOCK_TIME_NONE:    # codec headers have no time
            end = max(end, t + d)
        st[kind] = (n + 1, end)

    def on_pad(d, pad):
        caps = pad.get_current_caps() or pad.query_caps(None)
        kind = caps.get_structure(0).get_name().split("/")[0]
        sink = Gst.ElementFactory.make("fakesink", None)
        sink.set_property("sync", False)
        sink.set_property("async", False)  # no preroll: one thread feeds all
        sink.set_property("signal-handoffs", True)
        sink.connect("handoff", handoff, kind)
        p.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))

    dmx.connect("pad-added", on_pad)
    run_pipeline(p, "reading %s" % path)
    return st
