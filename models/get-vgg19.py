#!/usr/bin/env python3
"""Writes pretrained VGG-19 feature weights as a safetensors file for stylefilter.

get-vgg19.py - fetches ImageNet-trained VGG-19 (needs internet the first
time) and keeps its feature extractor (features.0 .. features.34: the
sixteen 3x3 convolutions), written as F32 safetensors with torchvision's key
names, keys sorted, data aligned to 8 bytes. Only numpy, json and struct
are used for the file, so the safetensors package is not needed.

  python3 models/get-vgg19.py                      # torchvision, vgg19.safetensors
  python3 models/get-vgg19.py -o ~/vgg19.safetensors
  python3 models/get-vgg19.py --source timm        # timm's 'vgg19.tv_in1k'

Sources (the same ImageNet weights, the same key names):
  torchvision  torchvision.models.vgg19(weights="IMAGENET1K_V1")
  timm         timm.create_model("vgg19.tv_in1k", pretrained=True)
With --weights none the torchvision network is left at its random
initialisation (no download): only useful to check this script offline.

The project's tests never run this script (they have no network).
"""
import argparse
import json
import os
import struct
import sys

# (torchvision features index, in channels, out channels) of the 13
# convolutions stylefilter uses, conv1_1 .. conv5_1.
NEEDED = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128),
          (10, 128, 256), (12, 256, 256), (14, 256, 256), (16, 256, 256),
          (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512),
          (28, 512, 512)]


def state_dict_torchvision(weights):
    import torchvision
    w = None if weights == "none" else weights
    return torchvision.models.vgg19(weights=w).state_dict()


def state_dict_timm(weights):
    import timm
    return timm.create_model("vgg19.tv_in1k",
                             pretrained=(weights != "none")).state_dict()


def feature_arrays(state_dict):
    """features.* tensors as C-contiguous little-endian float32 arrays."""
    import numpy as np
    out = {}
    for name, t in state_dict.items():
        if name.startswith("features."):
            a = t.detach().cpu().float().numpy()
            out[name] = np.ascontiguousarray(a, dtype="<f4")
    for i, cin, cout in NEEDED:
        for part, shape in (("weight", (cout, cin, 3, 3)), ("bias", (cout,))):
            key = "features.%d.%s" % (i, part)
            if key not in out:
                sys.exit("get-vgg19: %s missing: not VGG-19?" % key)
            if tuple(out[key].shape) != shape:
                sys.exit("get-vgg19: %s has shape %s, expected %s"
                         % (key, tuple(out[key].shape), shape))
    return out


def write_safetensors(path, arrays, metadata):
    """F32 safetensors, keys sorted, 8 + N a multiple of 8, atomic rename."""
    header = {"__metadata__": metadata}
    offset = 0
    names = sorted(arrays)
    for name in names:
        a = arrays[name]
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-(8 + len(text)) % 8)
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for name in names:
            f.write(arrays[name].tobytes())
    os.replace(tmp, path)
    return 8 + len(text) + offset


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default="vgg19.safetensors")
    p.add_argument("--source", choices=["torchvision", "timm"],
                   default="torchvision")
    p.add_argument("--weights", default="IMAGENET1K_V1",
                   help="torchvision weights name, or 'none' (random, offline)")
    args = p.parse_args()

    if args.source == "timm":
        sd = state_dict_timm(args.weights)
        origin = "timm vgg19.tv_in1k"
    else:
        sd = state_dict_torchvision(args.weights)
        origin = "torchvision vgg19 " + args.weights
    arrays = feature_arrays(sd)
    size = write_safetensors(args.output, arrays,
                             {"format": "pt", "source": origin})
    print("wrote %s: %d tensors, %d bytes (%s)"
          % (args.output, len(arrays), size, origin))


if __name__ == "__main__":
    main()
