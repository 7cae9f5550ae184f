#!/bin/sh
# compare.sh - the project's benchmark beside the PyTorch peer's, in one run
# on one machine, as one table: ms per optimisation iteration (forward,
# gradient and all losses) of the engine (tests/bench/bench) and of
# tests/peer/torch_gatys.py in fp32, tf32 and fp16 autocast.
#
#   tests/bench/compare.sh [WxH ...]        (default 256x256 512x512 1280x720)
#
# Environment: BUILD_DIR (default ./build), PYTHON (default python3),
# BENCH_ARGS (extra arguments to bench, e.g. "--iterations 20 --device 0"),
# PEER_ARGS (extra arguments to the peer's `time`, e.g. "--reps 50").
# The peer's `time` needs CUDA (and torch, torchvision, numpy); without them
# the project's figures are printed alone with a note.  Exit status: that of
# bench.  See tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$src/build}
python=${PYTHON:-python3}
bench=$build/tests/bench/bench
peer=$src/tests/peer/torch_gatys.py

if [ "$#" -gt 0 ]; then
  sizes=$*
else
  sizes="256x256 512x512 1280x720"
fi
peer_sizes=$(echo "$sizes" | tr -s ' ' ',')

if [ ! -x "$bench" ]; then
  echo "compare.sh: no $bench; build first: meson setup build && ninja -C build" >&2
  exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# 1. the project (its output is shown as it comes: it can take a while)
echo "== project: $bench $sizes"
# shellcheck disable=SC2086  # BENCH_ARGS and sizes are word lists
"$bench" ${BENCH_ARGS:-} $sizes > "$tmp/bench.txt" 2> "$tmp/bench.err"
bench_status=$?
cat "$tmp/bench.txt"
if [ "$bench_status" -ne 0 ]; then
  cat "$tmp/bench.err" >&2
  echo "compare.sh: bench failed (exit $bench_status)" >&2
  exit "$bench_status"
fi

# 2. the peer
echo
echo "== peer: $python $peer time --sizes $peer_sizes"
# shellcheck disable=SC2086
"$python" "$peer" time --sizes "$peer_sizes" ${PEER_ARGS:-} \
  > "$tmp/peer.txt" 2> "$tmp/peer.err"
peer_status=$?
cat "$tmp/peer.txt"
if [ "$peer_status" -ne 0 ]; then
  reason=$(grep -v '^[[:space:]]' "$tmp/peer.err" | tail -n 1)
  echo "The peer did not run: its \`time\` needs CUDA and PyTorch (torch," \
    "torchvision, numpy) on an NVIDIA GPU."
  [ -n "$reason" ] && echo "  peer: $reason"
fi

# 3. one table: project lines "bench size=WxH eval_ms=.. iter_ms=..",
# peer lines "peer WxH MODE: X ms/iter (median of N)".
echo
echo "== ms per iteration (medians)"
echo "project: $(sed -n 's/^device: //p' "$tmp/bench.txt")"
[ "$peer_status" -eq 0 ] && echo "peer:    $(grep -m 1 '^torch ' "$tmp/peer.txt")"
awk -v peer_ok="$peer_status" '
  FNR == 1 { file++ }
  file == 1 && $1 == "bench" {
    for (i = 2; i <= NF; i++) {
      split($i, kv, "=")
      v[kv[1]] = kv[2]
    }
    order[++n] = v["size"]
    iter[v["size"]] = v["iter_ms"]
    eval[v["size"]] = v["eval_ms"]
  }
  file == 2 && $1 == "peer" {
    mode = $3
    sub(":", "", mode)
    peer[$2 "," mode] = $4
  }
  function cell(key) { return (key in peer) ? peer[key] : "-" }
  END {
    printf "%-11s %14s %14s %12s %12s %12s\n", "size", "project iter",
      "project eval", "peer fp32", "peer tf32", "peer fp16"
    for (i = 1; i <= n; i++) {
      s = order[i]
      printf "%-11s %14.2f %14.2f %12s %12s %12s\n", s, iter[s], eval[s],
        cell(s ",fp32"), cell(s ",tf32"), cell(s ",fp16")
    }
    if (peer_ok != 0)
      print "(peer: not run, needs CUDA)"
  }
' "$tmp/bench.txt" "$tmp/peer.txt"
exit 0
