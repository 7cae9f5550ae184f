#!/usr/bin/env python3
"""net-proto.py - tries variants of the embedded network in PyTorch before
they are built into the engine (issue 12).

Starts from the engine's own default network (written by `stylize --seed 0
--save-model`), changes it as asked, stylizes Horses with The Scream by
torch's L-BFGS (strong Wolfe, as the engine) and prints one markdown row
with the held-out figures of tests/bench/style-eval.py: style and content
under average-pooling evaluators, the same under max-pooling evaluators,
colour distance, noise over the painting's, and the seconds taken.

  --first struct   conv1_1 replaced by 64 fixed filters: a 3x3 binomial
                   blur, first derivatives at 0/45/90/135 degrees and
                   second derivatives (xx, yy, xy), each on luminance and on
                   the two colour-opponent axes (R-G, B-Y), both polarities;
                   plus luminance derivatives at 22.5-degree steps and four
                   blurred hues between the opponent axes
  --norm chan      every conv's output channels scaled to unit standard
                   deviation of their pre-ReLU response on the example
                   photograph and painting (LSUV-like, per channel)
  --norm layer     the same with one scale per layer: with zero biases
                   this leaves the scale-free losses unchanged, so its row
                   shows the run-to-run spread of L-BFGS alone
  --layers 0,1,2,3 style layers (indices into relu1_1..relu5_1)
  --alpha A        with --norm chan: divide by std^A instead (0.5: half way)
  --pool avg       average pooling; --sw, --tv: the style and TV weights

The engine now builds the structured network (stylize --network
structured, the default); this tool starts from the random one and keeps
its variants for comparison.

Needs the build (build/examples/stylize) and python3 with torch and
torchvision.  About two minutes a row at 128 px on 2 cores.
"""
import sys, os, time, argparse, math
HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SRC, "tests", "peer")); sys.path.insert(0, HERE)
import numpy as np, torch, torch.nn as nn
import torch_gatys as tg
import importlib; se = importlib.import_module("style-eval")
torch.set_num_threads(int(os.environ.get("NT", os.cpu_count() or 1)))
H = os.path.join(SRC, "examples", "horses.jpg"); S = os.path.join(SRC, "examples", "scream.jpg")
EXE = os.path.join(SRC, "build", "examples", "stylize")
OUT = os.path.join("out", "net-proto")
ALL = [1, 6, 11, 20, 29]

def convs(vgg): return [m for m in vgg if isinstance(m, nn.Conv2d)]

def first_layer_structured():
    # colour basis in normalised-input space
    L = np.array([1, 1, 1]) / math.sqrt(3); RG = np.array([1, -1, 0]) / math.sqrt(2); BY = np.array([1, 1, -2]) / math.sqrt(6)
    g = np.array([1, 2, 1]) / 4.0; d = np.array([-1, 0, 1]) / 2.0; s2 = np.array([1, -2, 1]) / 4.0
    box = np.outer(g, g)
    dx = np.outer(g, d); dy = np.outer(d, g)
    d45 = (dx + dy) / math.sqrt(2); d135 = (dx - dy) / math.sqrt(2)
    dxx = np.outer(g, s2); dyy = np.outer(s2, g); dxy = np.outer(d, d)
    sp = [box, dx, dy, d45, d135, dxx, dyy, dxy]
    filt = []
    for k in sp:
        for c in (L, RG, BY):
            f = c[:, None, None] * k[None] ; f = f / np.sqrt((f ** 2).sum())
            filt += [f, -f]
    # 16 more: luminance first derivatives at 22.5 deg steps, and extra DC colour hues
    for ang in (22.5, 67.5, 112.5, 157.5):
        a = math.radians(ang); k = math.cos(a) * dx + math.sin(a) * dy
        f = L[:, None, None] * k[None]; f /= np.sqrt((f ** 2).sum()); filt += [f, -f]
    for hue in (45, 135, 225, 315):
        a = math.radians(hue); c = math.cos(a) * RG + math.sin(a) * BY
        f = c[:, None, None] * box[None]; f /= np.sqrt((f ** 2).sum()); filt += [f, -f]
    W = torch.tensor(np.stack(filt), dtype=torch.float32)
    assert W.shape == (64, 3, 3, 3), W.shape
    return W

def calib_images(size):
    return [tg.load_image(p, size, "cpu") for p in [H, S]]

def normalise_channels(vgg, imgs, mode, alpha=1.0):
    # One forward walk over the images, layer by layer: each conv's output
    # channels (mode "chan") or the whole output (mode "layer") scaled to
    # unit std of the pre-ReLU response, over pixels and images, with the
    # convs before it already rescaled.
    mean = torch.tensor(tg.MEAN).view(1, 3, 1, 1); std = torch.tensor(tg.STD).view(1, 3, 1, 1)
    with torch.no_grad():
        xs = [(im - mean) / std for im in imgs]
        for layer in vgg:
            xs = [layer(x) for x in xs]
            if not isinstance(layer, nn.Conv2d):
                continue
            o = torch.cat([x.flatten(2) for x in xs], 2)[0]  # C x N
            s = o.std(1).view(-1, 1, 1, 1) if mode == "chan" else o.std()
            s = s ** alpha
            layer.weight /= s
            xs = [x / s.view(1, -1, 1, 1) if mode == "chan" else x / s for x in xs]

def make(a):
    model = a.model or os.path.join(OUT, "random-seed0.safetensors")
    se.save_model(EXE, 0, model)
    vgg = tg.build(model, 0, "cpu", a.pool)
    if a.first == "struct":
        convs(vgg)[0].weight.data.copy_(first_layer_structured())
    if a.norm != "none":
        normalise_channels(vgg, calib_images(a.size), a.norm, a.alpha)
    return vgg

def stylize(vgg, a):
    c = tg.load_image(H, a.size, "cpu"); s = tg.load_image(S, a.size, "cpu")
    loss = tg.Loss(vgg, c, s, 1.0, a.sw, a.tv, layers=[ALL[int(i)] for i in a.layers.split(",")])
    x = c.clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x], max_iter=a.iters, history_size=100, line_search_fn="strong_wolfe")
    def closure():
        opt.zero_grad(); t, _ = loss(x); t.backward(); return t
    opt.step(closure)
    return x.detach().clamp(0, 1)

ap = argparse.ArgumentParser()
ap.add_argument("--name", required=True); ap.add_argument("--pool", choices=["max", "avg"], default="max")
ap.add_argument("--first", choices=["random", "struct"], default="random")
ap.add_argument("--norm", choices=["none", "chan", "layer"], default="none")
ap.add_argument("--layers", default="0,1,2,3,4"); ap.add_argument("--sw", type=float, default=1e3)
ap.add_argument("--tv", type=float, default=0.0); ap.add_argument("--size", type=int, default=128)
ap.add_argument("--iters", type=int, default=80)
ap.add_argument("--alpha", type=float, default=1.0); ap.add_argument("--model")
a = ap.parse_args()
os.makedirs(OUT, exist_ok=True)
t0 = time.time()
vgg = make(a); x = stylize(vgg, a)
out = os.path.join(OUT, f"{a.name}-{a.size}.png")
from PIL import Image
Image.fromarray((x[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)).save(out)
ev = se.Evaluators(EXE, [1, 2], [1, 2], "avg", OUT)
evm = se.Evaluators(EXE, [1, 2], [1, 2], "max", OUT)
L = ev.losses(out, H, S, a.size); M = evm.losses(out, H, S, a.size)
res = se.load_rgb(out); h, w = res.shape[:2]; sty = se.load_rgb(S, (w, h))
print(f"| {a.name} | {L['all'][0]:.4f} | {L['all'][1]:.3f} | {M['all'][0]:.4f} | {M['all'][1]:.3f} | {se.colour_distance(res, sty):.2f} | {se.chroma_hf(res)/se.chroma_hf(sty):.2f} | {time.time()-t0:.0f}s |", flush=True)
