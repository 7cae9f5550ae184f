"""rendersegments/plan.py - `render-segments plan`: the scene-cut pass over
the input (the change measure stylefilter uses, at the size it processes
at) and the segment list: whole shots packed up to a maximum length, a
longer shot split evenly, each segment's root, warm-up and cross-fade."""
import json
import os

from .common import (CODECS, DEFAULT_THRESHOLD, PLAN_VERSION, Failure, Gst,
                     GstVideo, check_input, check_properties,
                     parse_properties, plan_id, run_pipeline, say,
                     write_atomic)


def scan(path, width):
    """Decodes path at width px wide (RGB); returns the frames'
    timestamps and ends (ns), the mean absolute change of each frame from
    the one before (values 0..1, as stylefilter measures it; None for
    frame 0), the input's size and framerate."""
    import numpy as np

    p = Gst.parse_launch(
        "filesrc name=src ! decodebin ! videoconvert name=conv ! videoscale "
        "! video/x-raw,format=RGB,width=%d,pixel-aspect-ratio=1/1 ! "
        "appsink name=sink sync=false" % width)
    p.get_by_name("src").set_property("location", path)
    sink = p.get_by_name("sink")
    pts, ends, change = [], [], []
    prev = [None]
    info = {}

    def on_sample(s):
        sample = s.emit("pull-sample")
        buf = sample.get_buffer()
        if not info:
            caps = p.get_by_name("conv").get_static_pad("sink") \
                .get_current_caps().get_structure(0)
            info["width"] = caps.get_value("width")
            info["height"] = caps.get_value("height")
            ok, num, den = caps.get_fraction("framerate")
            info["framerate"] = [num, den] if ok else [0, 1]
            info["vinfo"] = GstVideo.VideoInfo.new_from_caps(
                sample.get_caps())
        vi = info["vinfo"]
        ok, m = buf.map(Gst.MapFlags.READ)
        if not ok:
            return Gst.FlowReturn.ERROR
        rows = np.frombuffer(m.data, np.uint8)[:vi.stride[0] * vi.height]
        frame = rows.reshape(vi.height, vi.stride[0])[:, :3 * vi.width] \
            .astype(np.int16)
        buf.unmap(m)
        change.append(None if prev[0] is None else
                      float(np.abs(frame - prev[0]).mean()) / 255.0)
        prev[0] = frame
        t = buf.pts
        pts.append(t)
        dur = buf.duration if buf.duration != Gst.CLOCK_TIME_NONE else 0
        ends.append(t + dur)
        return Gst.FlowReturn.OK

    sink.set_property("emit-signals", True)
    sink.connect("new-sample", on_sample)
    run_pipeline(p, "scanning %s" % path)
    if not pts:
        raise Failure("%s has no video frames" % path)
    if any(t == Gst.CLOCK_TIME_NONE for t in pts) or \
            any(b <= a for a, b in zip(pts, pts[1:])):
        raise Failure("%s: frames without increasing timestamps" % path)
    del info["vinfo"]
    return pts, ends, change, info


def split_shot(first, end, max_frames):
    """[first, end) in equal parts of at most max_frames frames."""
    n = end - first
    parts = -(-n // max_frames)
    bounds = [first + (n * i) // parts for i in range(parts + 1)]
    return list(zip(bounds, bounds[1:]))


def make_segments(n_frames, cuts, max_frames):
    """Segments [start, end) covering the frames: whole shots packed up to
    max_frames, a longer shot split evenly.  Returns (start, end,
    shot_start of end's shot... ) triples (start, end, shot_first) where
    shot_first is the first frame of the shot that start lies in."""
    shots = list(zip([0] + cuts, cuts + [n_frames]))
    segs, cur = [], None
    for a, b in shots:
        if cur and (b - cur[0] > max_frames):
            segs.append(cur)
            cur = None
        if b - a > max_frames:
            for s, e in split_shot(a, b, max_frames):
                segs.append((s, e, a))
        elif cur:
            cur = (cur[0], b, cur[2])
        else:
            cur = (a, b, a)
    if cur:
        segs.append(cur)
    return segs


def measure_width(path, props):
    """The width stylefilter will measure a frame's change at: the frame
    scaled to processing-size (512 unless given; 0 = the frame size),
    never up unless upscale=true."""
    p = Gst.parse_launch("filesrc name=src ! decodebin ! fakesink name=sink")
    p.get_by_name("src").set_property("location", path)
    p.set_state(Gst.State.PAUSED)
    p.get_state(30 * Gst.SECOND)
    caps = p.get_by_name("sink").get_static_pad("sink").get_current_caps()
    p.set_state(Gst.State.NULL)
    if caps is None:
        raise Failure("%s: no video to decode" % path)
    st = caps.get_structure(0)
    w, h = st.get_value("width"), st.get_value("height")
    size = dict(props).get("processing-size", "512")
    up = dict(props).get("upscale", "false").lower() in ("true", "1", "yes")
    size = int(size) if size.isdigit() else 512
    if size == 0 or (size >= max(w, h) and not up):
        return w
    return max(16, round(w * size / max(w, h)))


def cmd_plan(args):
    inp = os.path.abspath(args.input)
    stamp = check_input(inp)
    props = parse_properties(args.properties)
    check_properties(props)
    threshold = DEFAULT_THRESHOLD
    for name, value in props:
        if name == "scene-threshold":
            threshold = float(value)
    pts, ends, change, info = scan(inp, args.measure_size
                                  or measure_width(inp, props))
    n = len(pts)
    cuts = [t for t in range(1, n) if change[t] > threshold]
    max_frames = args.max_frames
    if args.max_seconds:
        num, den = info["framerate"]
        if num <= 0:
            raise Failure("%s has no framerate: give --max-frames" % inp, 2)
        max_frames = max(1, int(args.max_seconds * num / den))
    segs = make_segments(n, cuts, max_frames)
    out_dir = os.path.abspath(args.dir or os.path.splitext(
        os.path.abspath(args.output or inp))[0] + ".segments")
    os.makedirs(out_dir, exist_ok=True)
    ext = CODECS[args.codec][0]
    segments = []
    for i, (s, e, shot) in enumerate(segs):
        w = max(shot, s - args.warmup)
        root = shot if args.carry == "shot" else w
        # the last `head` warm-up frames cross-fade into the previous
        # segment's last frames (which keeps at least one of its own)
        head = 0 if s == shot else min(args.blend, s - w,
                                       s - segs[i - 1][0] - 1)
        if i > 0:
            segments[-1]["tail"] = head
            segments[-1]["main_end"] = pts[s - head]
        end = pts[e] if e < n else ends[-1]
        segments.append({
            "index": i, "first_frame": s, "end_frame": e, "warmup_frame": w,
            "root_frame": root, "head": head, "tail": 0, "start": pts[s],
            "end": end, "warmup_start": pts[w], "root_start": pts[root],
            "head_start": pts[s - head], "main_end": end,
            "file": "seg-%04d%s" % (i, ext)})
        # the blend's frame times, from 0, and its end
        segments[-1]["blend_pts"] = [pts[t] - pts[s - head]
                                     for t in range(s - head, s + 1)]
    plan = {
        "version": PLAN_VERSION, "input": inp, "input_stamp": stamp,
        "frames": n, "duration": ends[-1] - pts[0],
        "end": ends[-1],
        "width": info["width"], "height": info["height"],
        "framerate": info["framerate"], "codec": args.codec,
        "warmup": args.warmup, "carry": args.carry, "blend": args.blend,
        "max_frames": max_frames,
        "scene_threshold": threshold,
        "cuts": cuts, "cut_changes": [round(change[t], 4) for t in cuts],
        "properties": props, "segments": segments,
        "output": os.path.abspath(args.output) if args.output else None,
    }
    plan["id"] = plan_id(plan)
    path = os.path.join(out_dir, "plan.json")
    write_atomic(path, json.dumps(plan, indent=1) + "\n")
    print(path)
    say("%d frames, %d scene cut%s, %d segment%s (at most %d frames, "
        "warm-up %d): %s" % (n, len(cuts), "" if len(cuts) == 1 else "s",
                             len(segments), "" if len(segments) == 1 else "s",
                             max_frames, args.warmup, path))
    return path


