"""rendersegments/render.py - `render-segments render PLAN INDEX`: one
segment through stylefilter, its frames to its own file and the frames to
cross-fade to a lossless side file, each renamed from .part only once the
frame counts are checked; a failure (or SIGTERM, as a pod is evicted)
leaves seg-NNNN.failed and no segment file."""
import json
import os
import signal
import threading
import time

from .common import (CODECS, Failure, Gst, check_input, check_properties,
                     count_streams, load_plan, remove, run_pipeline, say,
                     seg_paths, segment_of, write_atomic)


class SegmentRender:
    """One segment through decodebin ! stylefilter ! tee, with the
    segment's own frames to the encoder and muxer, and the frames the join
    cross-fades (the last `head` warm-up frames, the last `tail` own ones)
    losslessly to a side file.

    The pipeline starts with every frame held before stylefilter; the first
    decoded frame asks for a flushing, accurate seek to the root (stop at
    the segment's end), and the frames after it go through: the root
    stylized afresh, the frames up to the warm-up carried with no
    iterations (drain), then the warm-up and the segment.  Pad offsets make
    each file start at running time 0."""

    def __init__(self, plan, seg, device, part, side_part):
        self.plan, self.seg = plan, seg
        self.has_side = seg["head"] + seg["tail"] > 0
        self.p = self.pipeline(part, side_part, device)
        num, den = plan["framerate"]
        # half a frame: the slack of the timestamp comparisons
        self.tol = (Gst.SECOND * den // (2 * num)) if num > 0 \
            else Gst.MSECOND
        self.want_seek = threading.Event()
        self.flush_started = threading.Event()
        self.stopping = False
        self.seek_sent = False
        self.flushed = False
        self.draining = False
        self.kept = self.side = self.lead = 0
        self.lock = threading.Lock()
        self.add_probes()
        self.started = time.monotonic()

    def pipeline(self, part, side_part, device):
        desc = ("filesrc name=src ! decodebin ! videoconvert ! "
                "stylefilter name=sf ! tee name=t t. ! identity name=main ! "
                "%s ! filesink name=sink async=false"
                % CODECS[self.plan["codec"]][1])
        if self.has_side:
            desc += (" t. ! identity name=side ! %s ! filesink name=sidesink "
                     "async=false" % CODECS["raw"][1])
        p = Gst.parse_launch(desc)
        p.get_by_name("src").set_property("location", self.plan["input"])
        p.get_by_name("sink").set_property("location", part)
        if self.has_side:
            p.get_by_name("sidesink").set_property("location", side_part)
        self.sf = p.get_by_name("sf")
        for name, value in self.plan["properties"]:
            Gst.util_set_object_arg(self.sf, name, value)
        if device is not None:
            self.sf.set_property("device", str(device))
        return p

    def add_probes(self):
        seg = self.seg
        sink = self.sf.get_static_pad("sink")
        sink.add_probe(Gst.PadProbeType.BUFFER, self.before)
        sink.add_probe(Gst.PadProbeType.EVENT_FLUSH, self.on_flush)
        src = self.sf.get_static_pad("src")
        src.add_probe(Gst.PadProbeType.BUFFER, self.after)
        # nothing went past stylefilter before the seek, so its flush has
        # nothing to flush there (and vp8enc, flushed, encodes no frame)
        src.add_probe(Gst.PadProbeType.EVENT_FLUSH,
                      lambda pad, info: Gst.PadProbeReturn.DROP)
        main = self.p.get_by_name("main")
        main.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER,
                                              self.to_main)
        main.get_static_pad("src").set_offset(
            -(seg["start"] - seg["root_start"]))
        if self.has_side:
            side = self.p.get_by_name("side")
            side.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER,
                                                  self.to_side)
            first = seg["head_start"] if seg["head"] else seg["main_end"]
            side.get_static_pad("src").set_offset(
                -(first - seg["root_start"]))

    def is_main(self, t):
        return self.seg["start"] <= t + self.tol < self.seg["main_end"]

    def is_side(self, t):
        return (self.seg["head"] and self.seg["head_start"] <= t + self.tol
                < self.seg["start"]) or (self.seg["tail"] and
                                         self.seg["main_end"] <= t + self.tol)

    def to_main(self, pad, info):
        return Gst.PadProbeReturn.OK if self.is_main(info.get_buffer().pts) \
            else Gst.PadProbeReturn.DROP

    def to_side(self, pad, info):
        if not self.is_side(info.get_buffer().pts):
            return Gst.PadProbeReturn.DROP
        self.side += 1
        return Gst.PadProbeReturn.OK

    def before(self, pad, info):
        with self.lock:
            flushed = self.flushed
        if not flushed:
            # hold the streaming thread (no frame runs ahead to EOS) until
            # the seek's flush reaches this pad, then drop the frame
            self.want_seek.set()
            while not self.flush_started.wait(1.0):
                if self.stopping:
                    break
            return Gst.PadProbeReturn.DROP
        t = info.get_buffer().pts
        if t + self.tol < self.seg["root_start"] or \
                t + self.tol >= self.seg["end"]:
            return Gst.PadProbeReturn.DROP
        # the frames between the root and the warm-up are carried only
        # (one iteration each instead was no steadier: README)
        carry = t > self.seg["root_start"] + self.tol and \
            t + self.tol < self.seg["warmup_start"]
        if carry != self.draining:
            self.sf.set_property("drain", carry)
            self.draining = carry
        return Gst.PadProbeReturn.OK

    def on_flush(self, pad, info):
        with self.lock:
            if info.get_event().type == Gst.EventType.FLUSH_START \
                    and self.seek_sent:
                self.flush_started.set()
            elif info.get_event().type == Gst.EventType.FLUSH_STOP:
                self.flushed = self.seek_sent
        return Gst.PadProbeReturn.OK

    def after(self, pad, info):
        t = info.get_buffer().pts
        total = self.seg["end_frame"] - self.seg["first_frame"]
        if t + self.tol < self.seg["start"]:
            self.lead += 1
            say("segment %d: lead-in frame %d of %d" % (
                self.seg["index"], self.lead,
                self.seg["first_frame"] - self.seg["root_frame"]))
            return Gst.PadProbeReturn.OK if self.is_side(t) \
                else Gst.PadProbeReturn.DROP
        self.kept += 1
        dt = time.monotonic() - self.started
        say("segment %d: frame %d of %d (%.1f s so far)"
            % (self.seg["index"], self.kept, total, dt))
        return Gst.PadProbeReturn.OK

    def poll(self):
        if self.want_seek.is_set() and not self.seek_sent:
            with self.lock:
                self.seek_sent = True
            last = self.seg["end_frame"] >= self.plan["frames"]
            # upstream from stylefilter: the pipeline is still prerolling
            seek = Gst.Event.new_seek(
                1.0, Gst.Format.TIME,
                Gst.SeekFlags.FLUSH | Gst.SeekFlags.ACCURATE,
                Gst.SeekType.SET, self.seg["root_start"],
                Gst.SeekType.NONE if last else Gst.SeekType.SET,
                -1 if last else self.seg["end"])
            ok = self.sf.get_static_pad("sink").push_event(seek)
            if not ok:
                raise Failure("the input cannot seek to %.3f s"
                              % (self.seg["root_start"] / Gst.SECOND))

    def run(self):
        try:
            run_pipeline(self.p, "segment %d" % self.seg["index"], self.poll)
        finally:
            self.stopping = True
        return self.kept


def on_term(signum, frame):
    raise KeyboardInterrupt


def cmd_render(args):
    plan = load_plan(args.plan)
    seg = segment_of(plan, args.index)
    path, done, failed, side = seg_paths(plan, seg)
    part, side_part = path + ".part", side + ".part"
    for p in (path, done, failed, part, side, side_part):
        remove(p)
    signal.signal(signal.SIGTERM, on_term)
    try:
        if check_input(plan["input"]) != plan["input_stamp"]:
            raise Failure("%s changed since it was planned (plan again)"
                          % plan["input"])
        check_properties(plan["properties"])
        want = seg["end_frame"] - seg["first_frame"]
        t0 = time.monotonic()
        r = SegmentRender(plan, seg, args.device, part, side_part)
        kept = r.run()
        # what the files hold, not what went in: an encoder may drop
        main = count_streams(part, CODECS[plan["codec"]][2]) \
            .get("video", (0, 0))[0]
        side_n = count_streams(side_part, "matroskademux").get(
            "video", (0, 0))[0] if r.has_side else 0
        sides = seg["head"] + seg["tail"]
        if kept != want or main != want - seg["tail"] or side_n != sides:
            raise Failure("segment %d: %d frames came out, %d in its file "
                          "and %d in its side file; the plan has %d, %d and "
                          "%d" % (seg["index"], kept, main, side_n, want,
                                  want - seg["tail"], sides))
        if r.has_side:
            os.replace(side_part, side)
        os.replace(part, path)
        write_atomic(done, json.dumps({
            "plan": plan["id"], "index": seg["index"], "frames": kept,
            "seconds": round(time.monotonic() - t0, 2),
            "device": args.device}) + "\n")
        say("segment %d: %d frames in %.1f s: %s" % (
            seg["index"], kept, time.monotonic() - t0, path))
        return 0
    except BaseException as e:     # noqa: BLE001 - recorded, re-raised
        remove(part)
        remove(side_part)
        if isinstance(e, KeyboardInterrupt):
            text = "segment %d: interrupted" % seg["index"]
        elif isinstance(e, Failure):
            text = str(e)
        else:
            text = "segment %d: %s: %s" % (seg["index"], type(e).__name__, e)
        write_atomic(failed, json.dumps({"plan": plan["id"],
                                         "error": text}) + "\n")
        if isinstance(e, Failure):
            raise
        raise Failure(text, 130 if isinstance(e, KeyboardInterrupt) else 1)


