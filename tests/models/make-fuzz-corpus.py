#!/usr/bin/env python3
# make-fuzz-corpus.py - writes the seed files of tests/models/corpus/.
#
# The seeds of fuzz-safetensors (the mutation driver and libFuzzer target of
# the safetensors reader) are small files, each a few hundred bytes to a few
# KB: whole VGG-19 files are 26-52 MB, so the VGG-19 seeds here carry the
# full header with truncated data or tiny shapes (the driver builds a whole
# VGG-19 file in memory for --vgg).  One seed per class of malformed header,
# and a few valid safetensors files that are no VGG-19.  The output is
# deterministic; corpus/README says what each seed is.
#
#   python3 tests/models/make-fuzz-corpus.py [OUT_DIR]
import json
import os
import struct
import sys

CONVS = [(0, 3, 64), (2, 64, 64), (5, 64, 128), (7, 128, 128),
         (10, 128, 256), (12, 256, 256), (14, 256, 256), (16, 256, 256),
         (19, 256, 512), (21, 512, 512), (23, 512, 512), (25, 512, 512),
         (28, 512, 512)]
SIZES = {"F32": 4, "F16": 2, "BF16": 2, "U8": 1, "I64": 8, "BOOL": 1}


def raw(header, data=b"", n=None):
    """8-byte little-endian N, the header bytes, the data."""
    if isinstance(header, str):
        header = header.encode("utf-8")
    return struct.pack("<Q", len(header) if n is None else n) + header + data


def tensors(entries, metadata=None, pad=False):
    """entries: (name, dtype, shape); offsets tile the data in this order.
    Returns the header text and the data length."""
    parts = []
    if metadata is not None:
        parts.append('"__metadata__":' + json.dumps(metadata,
                                                     separators=(",", ":")))
    off = 0
    for name, dtype, shape in entries:
        numel = 1
        for d in shape:
            numel *= d
        end = off + numel * SIZES[dtype]
        parts.append('%s:{"dtype":"%s","shape":%s,"data_offsets":[%d,%d]}'
                     % (json.dumps(name), dtype,
                        json.dumps(shape, separators=(",", ":")), off, end))
        off = end
    text = "{" + ",".join(parts) + "}"
    if pad:
        text += " " * ((8 - (8 + len(text)) % 8) % 8)
    return text, off


def pattern(n):
    return bytes((i * 37 + 1) & 0xff for i in range(n))


def vgg_entries(dtypes, tiny_from=None):
    """The 26 tensors; from conv tiny_from on, with shapes [1,1,3,3], [1]."""
    out = []
    for k, (idx, cin, cout) in enumerate(CONVS):
        dt = dtypes[k % len(dtypes)]
        if tiny_from is not None and k >= tiny_from:
            cin, cout = 1, 1
        out.append(("features.%d.weight" % idx, dt, [cout, cin, 3, 3]))
        out.append(("features.%d.bias" % idx, dt, [cout]))
    return out


T4 = '{"dtype":"F32","shape":[1],"data_offsets":[0,4]}'
T4B = '{"dtype":"F32","shape":[1],"data_offsets":[4,8]}'
ONE = struct.pack("<f", 1.0)


def seeds():
    s = {}
    # valid safetensors, no VGG-19 (rejected as MISSING)
    s["valid-minimal"] = raw('{"a":' + T4 + '}', ONE)
    h, n = tensors([("b", "BF16", [2, 2]), ("e", "U8", [0, 3]),
                    ("c", "I64", []), ("m", "BOOL", [3])],
                   metadata={"format": "pt", "k\u00e9": "v\U0001f600"},
                   pad=True)
    s["valid-metadata"] = raw(h, pattern(n))
    s["valid-escapes"] = raw('  {"\\u0061\\ud83d\\ude00\\n":' + T4
                             + ',"caf\u00e9":' + T4B + '}\n\t ', ONE + ONE)
    s["valid-numbers"] = raw('{"a":{"dtype":"F32","shape":[1],"data_offsets":'
                             '[0,4],"x":[0.5e-3,1E+2,-0.0,-1,1e400,'
                             '123456789.125,true,null,{"y":[]}]}}', ONE)
    # VGG-19 headers: full header, data cut short or tiny shapes
    h, n = tensors(vgg_entries(["F32"]), metadata={"format": "pt"},
                   pad=True)
    s["vgg19-f32-no-data"] = raw(h)
    h, n = tensors(vgg_entries(["F16", "BF16", "F32"]))
    s["vgg19-mixed-truncated"] = raw(h, pattern(256))
    h, n = tensors(vgg_entries(["F16", "BF16", "F32"], tiny_from=1))
    s["vgg19-tiny-shapes"] = raw(h, pattern(n))
    h, n = tensors(vgg_entries(["F32"], tiny_from=0)
                   + [("features.30.weight", "BF16", [1, 1, 3, 3]),
                      ("classifier.6.bias", "F32", [4]),
                      ("head.fc.bias", "I64", [2])])
    s["vgg19-tiny-extras"] = raw(h, pattern(n))
    # malformed, one per class
    s["bad-short"] = b"\x02\x00\x00\x00\x00"
    s["bad-empty"] = b""
    s["bad-header-too-long"] = raw("{}", n=100000001)
    s["bad-header-past-end"] = raw('{"a":' + T4 + '}', ONE, n=70)
    s["bad-utf8"] = raw(b'{"a\xff\xc0\xaf":' + T4.encode() + b'}', ONE)
    s["bad-json-syntax"] = raw("{'a':" + T4 + ",/* c */}", ONE)
    s["bad-not-object"] = raw('[{"a":' + T4 + '}]', ONE)
    s["bad-duplicate"] = raw('{"a":' + T4 + ',"\\u0061":' + T4B + '}',
                             ONE + ONE)
    s["bad-surrogate"] = raw('{"\\ud800x":' + T4 + ',"\\u0000":' + T4B + '}',
                             ONE + ONE)
    s["bad-metadata"] = raw('{"__metadata__":{"k":1,"l":{}},"a":' + T4 + '}',
                            ONE)
    s["bad-deep-nesting"] = raw('{"a":{"dtype":"F32","shape":[1],'
                                '"data_offsets":[0,4],"x":' + "[" * 33
                                + "]" * 33 + '}}', ONE)
    s["bad-dtype"] = raw('{"a":{"dtype":"F4","shape":[2],"data_offsets":'
                         '[0,1]},"b":{"dtype":"f32","shape":[1],'
                         '"data_offsets":[1,5]}}', pattern(5))
    s["bad-shape-overflow"] = raw('{"a":{"dtype":"U8","shape":[4294967296,'
                                  '4294967296,0],"data_offsets":[0,0]}}')
    s["bad-int-range"] = raw('{"a":{"dtype":"F32","shape":'
                             '[18446744073709551616],"data_offsets":'
                             '[0,4]}}', ONE)
    s["bad-size-mismatch"] = raw('{"a":{"dtype":"F16","shape":[3],'
                                 '"data_offsets":[0,4]}}', ONE)
    s["bad-offsets-gap"] = raw('{"a":' + T4 + ',"b":{"dtype":"F32","shape":'
                               '[1],"data_offsets":[8,12]}}', pattern(12))
    s["bad-offsets-overlap"] = raw('{"a":{"dtype":"F32","shape":[2],'
                                   '"data_offsets":[0,8]},"b":{"dtype":'
                                   '"F32","shape":[2],"data_offsets":'
                                   '[4,12]}}', pattern(12))
    s["bad-offsets-huge"] = raw('{"a":{"dtype":"F32","shape":[1],'
                                '"data_offsets":[9223372036854775803,'
                                '9223372036854775807]}}', ONE)
    s["bad-trailing-bytes"] = raw('{"a":' + T4 + '}', ONE + b"\x00")
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name + ".safetensors"), "wb") as f:
            f.write(data)
        print("%-28s %6d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
