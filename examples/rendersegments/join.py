"""rendersegments/join.py - `render-segments join PLAN`: the segments
checked (present, complete, of this plan), the cross-fades made from the
side files, all concatenated without re-encoding into one file whose frame
count and duration are checked against the input's before it is renamed
from .part."""
import json
import os

from .common import (CODECS, JOIN_MUXER, Failure, Gst, add_demuxed,
                     count_streams, load_plan, remove, run_pipeline, say,
                     seg_paths)


def segment_problems(plan):
    """(index, why) of every segment that is not ready to join."""
    out = []
    for seg in plan["segments"]:
        path, done, failed, side = seg_paths(plan, seg)
        why = None
        if os.path.exists(failed):
            try:
                with open(failed) as f:
                    why = "failed: " + json.load(f).get("error", "?")
            except (OSError, ValueError):
                why = "failed"
        elif not os.path.exists(path) or not os.path.exists(done) or \
                (seg["head"] + seg["tail"] and not os.path.exists(side)):
            why = "missing (not rendered, or still rendering)"
        else:
            try:
                with open(done) as f:
                    rec = json.load(f)
            except (OSError, ValueError):
                rec = {}
            want = seg["end_frame"] - seg["first_frame"]
            if rec.get("plan") != plan["id"]:
                why = "rendered for another plan"
            elif rec.get("frames") != want:
                why = "has %s frames, the plan %d" % (rec.get("frames"), want)
        if why:
            out.append((seg["index"], why))
    return out


def input_audio(path, muxer):
    """The caps of the input's first audio stream, parsed (not decoded),
    when muxer takes them; None without audio.  The second value says why
    an audio stream is left out."""
    from gi.repository import GstPbutils
    try:
        info = GstPbutils.Discoverer.new(30 * Gst.SECOND).discover_uri(
            Gst.filename_to_uri(path))
    except Exception as e:  # noqa: BLE001 - GLib.Error and friends
        return None, "the input could not be read for its audio: %s" % e
    streams = info.get_audio_streams()
    if not streams:
        return None, None
    caps = streams[0].get_caps()
    factory = Gst.ElementFactory.find(muxer)
    if not factory.can_sink_any_caps(caps):
        return None, ("the input's audio (%s) cannot go into %s without "
                      "re-encoding: the joined file has none"
                      % (caps.get_structure(0).get_name(), muxer))
    return caps, None


def add_audio(p, path, mux, caps):
    """The input's first audio stream of these caps, parsed, into the
    muxer: filesrc ! parsebin ! queue ! mux (its other streams to
    fakesinks)."""
    src = Gst.ElementFactory.make("filesrc", None)
    parse = Gst.ElementFactory.make("parsebin", None)
    queue = Gst.ElementFactory.make("queue", None)
    src.set_property("location", path)
    for e in (src, parse, queue):
        p.add(e)
    src.link(parse)
    target = mux.request_pad_simple("audio_%u")
    queue.get_static_pad("src").link(target)

    def on_pad(d, pad):
        pc = pad.get_current_caps() or pad.query_caps(None)
        if pc.can_intersect(caps) and not queue.get_static_pad(
                "sink").is_linked():
            pad.link(queue.get_static_pad("sink"))
            return
        sink = Gst.ElementFactory.make("fakesink", None)
        sink.set_property("sync", False)
        sink.set_property("async", False)  # no preroll: one thread feeds all
        p.add(sink)
        sink.sync_state_with_parent()
        pad.link(sink.get_static_pad("sink"))
    parse.connect("pad-added", on_pad)


def join_pipeline(files, demux, muxer, part, audio=None):
    """concat ! muxer ! filesink part, with each file (path, start time)
    demuxed and linked to its own concat pad, requested in order (concat
    plays its pads in the order they were requested; linking as the
    demuxers' pads appear would order them by a race); audio = (input,
    caps): its audio stream too."""
    p = Gst.parse_launch("concat name=c ! %s name=mux ! filesink name=sink"
                         % muxer)
    p.get_by_name("sink").set_property("location", part)
    if audio:
        add_audio(p, audio[0], p.get_by_name("mux"), audio[1])
    concat = p.get_by_name("c")
    # each piece at its own time in the input, not where the previous one
    # ended: the frames' times are whole milliseconds in Matroska, and the
    # rounding would add up piece by piece
    concat.set_property("adjust-base", False)
    for path, offset in files:
        dmx = add_demuxed(p, path, demux)
        pad = concat.request_pad_simple("sink_%u")

        def on_pad(d, new, target=pad, offset=offset):
            if new.get_direction() == Gst.PadDirection.SRC and \
                    not target.is_linked():
                new.set_offset(offset)
                new.link(target)
        dmx.connect("pad-added", on_pad)
    return p


def raw_frames(path):
    """The frames of a side file, as RGB bytes, and their caps."""
    p = Gst.parse_launch("filesrc name=src ! matroskademux ! videoconvert ! "
                         "video/x-raw,format=RGB ! appsink name=sink "
                         "sync=false")
    p.get_by_name("src").set_property("location", path)
    frames, caps = [], []

    def on_sample(sink):
        sample = sink.emit("pull-sample")
        if not caps:
            caps.append(sample.get_caps())
        buf = sample.get_buffer()
        ok, m = buf.map(Gst.MapFlags.READ)
        frames.append(bytes(m.data))
        buf.unmap(m)
        return Gst.FlowReturn.OK

    sink = p.get_by_name("sink")
    sink.set_property("emit-signals", True)
    sink.connect("new-sample", on_sample)
    run_pipeline(p, "reading %s" % path)
    return frames, caps[0] if caps else None


def make_blend(plan, k, path):
    """The cross-fade at the boundary before segment k into path, encoded
    as the segments are: frame i of the segment k-1's last `head` frames
    and of segment k's last `head` warm-up frames (the same frames of the
    clip, from the two renders) mixed with weight (i + 1) / (head + 1) for
    segment k's."""
    import numpy as np

    seg, prev = plan["segments"][k], plan["segments"][k - 1]
    h = seg["head"]
    tail, _ = raw_frames(seg_paths(plan, prev)[3])
    head, caps = raw_frames(seg_paths(plan, seg)[3])
    tail, head = tail[-h:], head[:h]
    if len(tail) != h or len(head) != h:
        raise Failure("segment %d or %d: the side file has too few frames "
                      "to blend (render them again)" % (k - 1, k))
    # the side file's caps (colorimetry included) make the same encoder
    # input as the segments', so that the muxer sees no caps change
    p = Gst.parse_launch("appsrc name=src format=time ! %s ! filesink "
                         "name=sink" % CODECS[plan["codec"]][1])
    p.get_by_name("sink").set_property("location", path)
    src = p.get_by_name("src")
    src.set_property("caps", caps)
    times = seg["blend_pts"]

    def feed():
        for i in range(h):
            a = (i + 1) / (h + 1)
            mix = (np.frombuffer(tail[i], np.uint8) * (1 - a)
                   + np.frombuffer(head[i], np.uint8) * a)
            buf = Gst.Buffer.new_wrapped(
                np.rint(mix).astype(np.uint8).tobytes())
            buf.pts = times[i]
            buf.duration = times[i + 1] - times[i]
            src.emit("push-buffer", buf)
        src.emit("end-of-stream")

    fed = []

    def poll():
        if not fed:
            fed.append(True)
            feed()
    run_pipeline(p, "blending before segment %d" % k, poll)


def cmd_join(args):
    plan = load_plan(args.plan)
    output = os.path.abspath(args.output or plan["output"] or os.path.join(
        plan["dir"], "joined" + CODECS[plan["codec"]][0]))
    bad = segment_problems(plan)
    if bad:
        raise Failure("cannot join: " + "; ".join(
            "segment %d %s" % b for b in bad))
    codec = plan["codec"]
    demux = CODECS[codec][2]
    part = output + ".part"
    remove(part)
    # (path, start): each piece at its frames' times in the input, so
    # that the input's audio keeps its place beside them
    files, blends = [], []
    try:
        for k, seg in enumerate(plan["segments"]):
            if seg["head"]:
                blends.append(os.path.join(plan["dir"], "blend-%04d%s" % (
                    k, CODECS[codec][0])))
                make_blend(plan, k, blends[-1])
                files.append((blends[-1], seg["head_start"]))
            files.append((seg_paths(plan, seg)[0], seg["start"]))
        caps, why = input_audio(plan["input"], JOIN_MUXER[codec])
        if why:
            say(why)
        run_pipeline(join_pipeline(files, demux, JOIN_MUXER[codec], part,
                                   (plan["input"], caps) if caps else None),
                     "joining")
        n, end = count_streams(part, demux).get("video", (0, 0))
        # Matroska keeps timestamps in milliseconds
        if n != plan["frames"] or abs(end - plan["end"]) > Gst.MSECOND:
            raise Failure("the joined file has %d frames ending at %.3f s; "
                          "the input has %d frames ending at %.3f s" % (
                              n, end / Gst.SECOND, plan["frames"],
                              plan["end"] / Gst.SECOND))
        os.replace(part, output)
    except BaseException:
        remove(part)
        raise
    finally:
        for b in blends:
            remove(b)
    print(output)
    say("joined %d segments: %d frames, %.3f s: %s" % (
        len(plan["segments"]), n, end / Gst.SECOND, output))
    return 0


