#!/usr/bin/env python3
"""style-eval.py - how a still looks to evaluators its optimisation did not use.

The stylize CLI matches one network's Gram matrices (the embedded VGG-19
drawn under --seed 0, unless --model says otherwise); a result can match
them with noise that no other network would call the style.  This tool
runs `stylize` for a list of settings on content/style pairs and measures
each result with what the optimisation never saw:

  held-out style / content  the peer's losses (tests/peer/torch_gatys.py,
                            the engine's definition) under other VGG-19s:
                            the engine's own scheme under other seeds
                            (written by `stylize --save-model`, read by the
                            peer's --model) and torchvision's default
                            initialisation under other seeds; the mean over
                            all of them, and per scheme
  colour distance           the 2-Wasserstein distance between Gaussians fitted
                            to the result's and the style image's chroma
                            (BT.601 Cb, Cr, in levels of 255)
  noise                     high-frequency chroma energy (mean square of the
                            4-neighbour Laplacian of Cb and Cr) of the result
                            over the style image's own at the same size: 1 is
                            the painting's own grain, above it colour noise

  detail (--judge only)     fine detail (mean square Laplacian of luminance)
                            over the content's at the same size: below 1 a
                            softer picture than the photograph

--judge measures images made elsewhere (frames of a video from the
element) at their own size instead of running stylize.
It prints one table per size and writes a contact sheet PNG (rows: pairs;
columns: content, style, one result per setting), to look at beside the
numbers.  Example (a few minutes per result on lavapipe at 128 px):

  python3 tests/bench/style-eval.py --size 128 --iterations 80 \\
      --set "" --set "--pooling avg --style-weight 100 --tv-weight 100"

Needs the build (build/examples/stylize) and python3 with numpy, PIL and
torch (with torchvision), as the peer does.
"""
import argparse, os, shlex, subprocess, sys

import numpy as np
from PIL import Image, ImageDraw

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "peer"))


def run_stylize(exe, content, style, size, iters, setting, out):
    cmd = [exe, content, style, "--size", str(size), "--iterations",
           str(iters), "--quiet", "-o", out] + shlex.split(setting)
    subprocess.run(cmd, check=True)


def save_model(exe, seed, path):
    """The engine's random network (--network random) under a seed: the
    held-out evaluators must not share the structured network's fixed
    first layer."""
    if not os.path.exists(path):
        subprocess.run([exe, "--seed", str(seed), "--network", "random",
                        "--save-model", path], check=True)


def ycbcr(img):
    """BT.601 Y, Cb, Cr planes (levels of 255) of an RGB float array."""
    r, g, b = img[..., 0], img[..., 1], img[..., 2]
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = 128 - 0.168736 * r - 0.331264 * g + 0.5 * b
    cr = 128 + 0.5 * r - 0.418688 * g - 0.081312 * b
    return y, cb, cr


def sqrtm_psd(a):
    w, v = np.linalg.eigh(a)
    return (v * np.sqrt(np.clip(w, 0, None))) @ v.T


def colour_distance(a, b):
    """2-Wasserstein distance of the Gaussians fitted to the chroma of a, b."""
    ca = np.stack(ycbcr(a)[1:], -1).reshape(-1, 2)
    cb = np.stack(ycbcr(b)[1:], -1).reshape(-1, 2)
    ma, mb = ca.mean(0), cb.mean(0)
    sa, sb = np.cov(ca.T), np.cov(cb.T)
    rb = sqrtm_psd(sb)
    cross = sqrtm_psd(rb @ sa @ rb)
    d2 = ((ma - mb) ** 2).sum() + np.trace(sa + sb - 2 * cross)
    return float(np.sqrt(max(d2, 0.0)))


def chroma_hf(img):
    e = 0.0
    for p in ycbcr(img)[1:]:
        lap = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
               - 4 * p[1:-1, 1:-1])
        e += float((lap ** 2).mean())
    return e / 2


def luma_hf(img):
    """fine detail: mean square of the 4-neighbour Laplacian of Y"""
    p = ycbcr(img)[0]
    lap = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]
           - 4 * p[1:-1, 1:-1])
    return float((lap ** 2).mean())


def load_rgb(path, size=None):
    im = Image.open(path).convert("RGB")
    if size:
        im = im.resize(size, Image.LANCZOS)
    return np.asarray(im).astype(np.float64)


class Evaluators:
    """The held-out networks, each with its name and scheme."""

    def __init__(self, exe, engine_seeds, torch_seeds, pooling, workdir):
        import torch
        import torch_gatys as tg
        self.tg, self.torch, self.nets = tg, torch, []
        torch.set_num_threads(max(1, os.cpu_count() or 1))
        for s in engine_seeds:
            path = os.path.join(workdir, f"random-seed{s}.safetensors")
            save_model(exe, s, path)
            self.nets.append(("engine", s, tg.build(path, 0, "cpu", pooling)))
        for s in torch_seeds:
            self.nets.append(("torchvision", s,
                              tg.build(None, s, "cpu", pooling)))

    def losses(self, result, content, style, size):
        """{scheme: (mean style, mean content)} and the overall means."""
        tg = self.tg
        x = tg.load_image(result, size, "cpu")
        c = tg.load_image(content, size, "cpu")
        s = tg.load_image(style, size, "cpu")
        per = {}
        with self.torch.no_grad():
            for scheme, _, vgg in self.nets:
                _, parts = tg.Loss(vgg, c, s, 1.0, 1.0, 0.0)(x)
                per.setdefault(scheme, []).append((parts["style"],
                                                   parts["content"]))
        out = {k: tuple(np.mean(v, 0)) for k, v in per.items()}
        allv = [t for v in per.values() for t in v]
        out["all"] = tuple(np.mean(allv, 0))
        return out


def label(im, text, width):
    """im with text under it, wrapped to the width (the default font's
    characters are about 6 px wide)"""
    n = max(1, (width - 4) // 6)
    lines = [text[i:i + n] for i in range(0, max(len(text), 1), n)]
    band = Image.new("RGB", (width, 14 * len(lines)), "white")
    d = ImageDraw.Draw(band)
    for i, line in enumerate(lines):
        d.text((2, 1 + 14 * i), line, fill="black")
    out = Image.new("RGB", (width, im.height + band.height), "white")
    out.paste(im, (0, 0))
    out.paste(band, (0, im.height))
    return out


def contact_sheet(rows, path, size):
    """rows of (image path, caption); each image fitted to size x size"""
    def cell(p, t):
        im = Image.open(p).convert("RGB")
        f = size / max(im.size)
        im = im.resize((max(1, round(im.width * f)),
                        max(1, round(im.height * f))), Image.LANCZOS)
        return label(im, t, im.width)
    cells = [[cell(p, t) for p, t in row] for row in rows]
    cw = max(c.width for row in cells for c in row) + 4
    ch = max(c.height for row in cells for c in row) + 4
    sheet = Image.new("RGB", (cw * max(len(r) for r in cells),
                              ch * len(cells)), "white")
    for j, row in enumerate(cells):
        for i, c in enumerate(row):
            sheet.paste(c, (i * cw, j * ch))
    sheet.save(path)


def judge(items, ev, evm, schemes, outdir):
    """The table for images made elsewhere, each at its own size."""
    head = ["result", "size", "style (all)", "content (all)"]
    head += [f"style ({s})" for s in schemes]
    if evm:
        head += ["style (all, max eval)", "content (all, max eval)"]
    head += ["colour distance", "noise / style's", "detail / content's"]
    print("| " + " | ".join(head) + " |")
    print("| " + " | ".join(["---"] * 2 + ["---:"] * (len(head) - 2)) + " |")
    row = []
    for item in items:
        out, content, style, *name = item.split(":")
        res = load_rgb(out)
        h, w = res.shape[:2]
        sty, con = load_rgb(style, (w, h)), load_rgb(content, (w, h))
        L = ev.losses(out, content, style, max(w, h))
        cells = [name[0] if name else os.path.basename(out), f"{w}x{h}",
                 f"{L['all'][0]:.4f}", f"{L['all'][1]:.4f}"]
        cells += [f"{L[s][0]:.4f}" for s in schemes]
        if evm:
            M = evm.losses(out, content, style, max(w, h))
            cells += [f"{M['all'][0]:.4f}", f"{M['all'][1]:.4f}"]
        cells += [f"{colour_distance(res, sty):.2f}",
                  f"{chroma_hf(res) / max(chroma_hf(sty), 1e-12):.2f}",
                  f"{luma_hf(res) / max(luma_hf(con), 1e-12):.2f}"]
        print("| " + " | ".join(cells) + " |", flush=True)
        row.append((out, name[0] if name else os.path.basename(out)))
    sheet = os.path.join(outdir, "sheet-judged.png")
    contact_sheet([row], sheet, max(load_rgb(p).shape[1] for p, _ in row))
    print(f"\ncontact sheet: {sheet}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pair", action="append", default=None,
                    metavar="CONTENT:STYLE",
                    help="content and style images (repeatable; default "
                    "examples/horses.jpg:examples/scream.jpg and "
                    "examples/dog.jpg:examples/scream.jpg)")
    ap.add_argument("--set", action="append", default=None, dest="sets",
                    metavar="ARGS", help="stylize options of one setting "
                    "(repeatable; default: \"\", the CLI's defaults)")
    ap.add_argument("--size", type=int, action="append", default=None,
                    help="longest side (repeatable; default 128)")
    ap.add_argument("--iterations", type=int, default=80)
    ap.add_argument("--engine-seeds", default="1,2",
                    help="held-out seeds of the engine's own network")
    ap.add_argument("--torch-seeds", default="1,2",
                    help="held-out seeds of torchvision's initialisation")
    ap.add_argument("--eval-pooling", choices=["max", "avg", "both"],
                    default="both", help="pooling of the evaluators; both: "
                    "the avg columns, then style and content under max")
    ap.add_argument("--judge", action="append", default=None,
                    metavar="RESULT:CONTENT:STYLE[:LABEL]",
                    help="measure an image made elsewhere (a frame of a "
                    "video) at its own size instead of running stylize "
                    "(repeatable); adds a column: its fine detail (mean "
                    "square Laplacian of luminance) over the content's")
    ap.add_argument("--stylize", default=os.path.join(SRC, "build",
                                                      "examples", "stylize"))
    ap.add_argument("--out", default=os.path.join("out", "style-eval"))
    a = ap.parse_args()
    ex = lambda n: os.path.join(SRC, "examples", n)
    pairs = [p.split(":") for p in (a.pair or [
        ex("horses.jpg") + ":" + ex("scream.jpg"),
        ex("dog.jpg") + ":" + ex("scream.jpg")])]
    sets = a.sets if a.sets is not None else [""]
    sizes = a.size or [128]
    seeds = lambda s: [int(v) for v in s.split(",") if v.strip()]
    os.makedirs(a.out, exist_ok=True)
    ev = Evaluators(a.stylize, seeds(a.engine_seeds), seeds(a.torch_seeds),
                    "max" if a.eval_pooling == "max" else "avg", a.out)
    evm = (Evaluators(a.stylize, seeds(a.engine_seeds), seeds(a.torch_seeds),
                      "max", a.out) if a.eval_pooling == "both" else None)
    schemes = sorted({n[0] for n in ev.nets})
    if a.judge:
        judge(a.judge, ev, evm, schemes, a.out)
        return
    for size in sizes:
        print(f"\n## {size} px, {a.iterations} iterations; held out: engine "
              f"seeds {a.engine_seeds}, torchvision seeds {a.torch_seeds}, "
              f"{a.eval_pooling} pooling\n")
        head = ["pair", "setting", "style (all)", "content (all)"]
        head += [f"style ({s})" for s in schemes]
        if evm:
            head += ["style (all, max eval)", "content (all, max eval)"]
        head += ["colour distance", "noise / style's"]
        print("| " + " | ".join(head) + " |")
        print("| " + " | ".join(["---"] * 2 + ["---:"] * (len(head) - 2))
              + " |")
        rows = []
        for k, (content, style) in enumerate(pairs):
            row = [(content, "content"), (style, "style")]
            for j, setting in enumerate(sets):
                out = os.path.join(a.out, f"{size}-pair{k}-set{j}.png")
                run_stylize(a.stylize, content, style, size, a.iterations,
                            setting, out)
                res = load_rgb(out)
                h, w = res.shape[:2]
                sty = load_rgb(style, (w, h))
                L = ev.losses(out, content, style, size)
                cells = [os.path.basename(content) + "/"
                         + os.path.basename(style), setting or "(defaults)",
                         f"{L['all'][0]:.4f}", f"{L['all'][1]:.4f}"]
                cells += [f"{L[s][0]:.4f}" for s in schemes]
                if evm:
                    M = evm.losses(out, content, style, size)
                    cells += [f"{M['all'][0]:.4f}", f"{M['all'][1]:.4f}"]
                cells += [f"{colour_distance(res, sty):.2f}",
                          f"{chroma_hf(res) / max(chroma_hf(sty), 1e-12):.2f}"]
                print("| " + " | ".join(cells) + " |", flush=True)
                row.append((out, setting or "(defaults)"))
            rows.append(row)
        sheet = os.path.join(a.out, f"sheet-{size}.png")
        contact_sheet(rows, sheet, size)
        print(f"\ncontact sheet: {sheet}")


if __name__ == "__main__":
    main()
