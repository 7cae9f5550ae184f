#!/usr/bin/env bash
# gpu-table.sh - the project's benchmark, the element's frame rate and the
# PyTorch peer, run in one go on one machine and printed as one markdown
# table: what to run on a GPU machine to compare the engine with PyTorch.
#
#   bash tests/bench/gpu-table.sh                 # 512x512 1280x720 1920x1080
#   SIZES=32x32 FPS_SIZE=64x64 FPS_FRAMES=6 BENCH_ARGS="--repeats 3" \
#     bash tests/bench/gpu-table.sh               # a quick run on lavapipe
#
# Runs, showing each one's output as it comes:
#   1. build/tests/bench/bench $SIZES           (ms per evaluation on the
#      GPU's timestamps and the wall clock, TFLOP/s, peak device memory)
#   2. build/tests/bench/element-fps --size $FPS_SIZE --frames $FPS_FRAMES
#      --iterations 4                            (stylefilter's frames/s)
#   3. $PYTHON tests/peer/torch_gatys.py time --sizes W1xH1,W2xH2,...
#      (ms per iteration in fp32, tf32 and fp16 autocast; needs CUDA)
# then the table:
#   | size | project ms/iter (GPU) | project ms/iter (wall) | TFLOP/s |
#   | peak MiB | peer fp32 | peer tf32 | peer fp16 |
# and the element's frames/s.  The project's "iter" here is one loss
# evaluation (forward, input gradient, all losses), the same work as one
# of the peer's timed iterations.  Without torch or CUDA the peer columns
# are "-" and a line "peer: not run (why)" follows the table; without
# GPU timestamps the GPU column is "na".
#
# Environment: SIZES (space- or comma-separated, default
# "512x512 1280x720 1920x1080"), FPS_SIZE (default 1280x720; empty skips
# the element), FPS_FRAMES (default 30), BUILD_DIR (default ./build),
# PYTHON (default python3), BENCH_ARGS (e.g. "--repeats 50 --device 0"),
# FPS_ARGS (e.g. "processing-size=512"), PEER_ARGS (e.g. "--reps 50").
# Exit status: 0 when bench (and element-fps, if run) succeeded; the peer
# does not count.  See tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$src/build}
python=${PYTHON:-python3}
bench=$build/tests/bench/bench
fps=$build/tests/bench/element-fps
peer=$src/tests/peer/torch_gatys.py
sizes=$(echo "${SIZES:-512x512 1280x720 1920x1080}" | tr ',' ' ' | xargs)
peer_sizes=$(echo "$sizes" | tr ' ' ',')
fps_size=${FPS_SIZE-1280x720}
fps_frames=${FPS_FRAMES:-30}

if [ ! -x "$bench" ]; then
  echo "gpu-table.sh: no $bench; build first: meson setup build && ninja -C build" >&2
  exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
status=0

# 1. the engine
echo "== bench: $bench ${BENCH_ARGS:+$BENCH_ARGS }$sizes"
# shellcheck disable=SC2086  # BENCH_ARGS and sizes are word lists
"$bench" ${BENCH_ARGS:-} $sizes | tee "$tmp/bench.txt"
bench_status=${PIPESTATUS[0]}
if [ "$bench_status" -ne 0 ]; then
  echo "gpu-table.sh: bench failed (exit $bench_status)" >&2
  status=$bench_status
fi

# 2. the element
fps_note=""
if [ -z "$fps_size" ]; then
  fps_note="element: not run (FPS_SIZE is empty)"
elif [ ! -x "$fps" ]; then
  fps_note="element: not run (no $fps: the plugin was not built)"
else
  echo
  # paths from this checkout, not the ones compiled in: on a GPU machine the
  # build directory arrives at another path (../shared/gpu/README.md)
  export GST_PLUGIN_PATH="$build/gst${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"
  echo "== element: $fps --size $fps_size --frames $fps_frames --iterations 4${FPS_ARGS:+ $FPS_ARGS}"
  # shellcheck disable=SC2086
  "$fps" --size "$fps_size" --frames "$fps_frames" --iterations 4 \
    --style "$src/examples/scream.jpg" ${FPS_ARGS:-} 2>&1 | tee "$tmp/fps.txt"
  fps_status=${PIPESTATUS[0]}
  if [ "$fps_status" -ne 0 ]; then
    fps_note="element: failed (exit $fps_status): $(grep '^element-fps: ' "$tmp/fps.txt" | tail -n 1)"
    [ "$status" -eq 0 ] && status=$fps_status
  fi
fi

# 3. the peer: only where torch sees CUDA
echo
peer_note=""
check=$("$python" -c 'import sys
try:
    import torch, torchvision, numpy
except Exception as e:
    print("%s: %s" % (type(e).__name__, e)); sys.exit(1)
if not torch.cuda.is_available():
    print("torch %s sees no CUDA device" % torch.__version__); sys.exit(1)' 2>&1)
if [ $? -ne 0 ]; then
  peer_note="peer: not run (${check:-$python did not run}; its \`time\` needs PyTorch with CUDA)"
  echo "== $peer_note"
  : > "$tmp/peer.txt"
else
  echo "== peer: $python $peer time --sizes $peer_sizes ${PEER_ARGS:-}"
  # shellcheck disable=SC2086
  "$python" "$peer" time --sizes "$peer_sizes" ${PEER_ARGS:-} \
    2> "$tmp/peer.err" | tee "$tmp/peer.txt"
  if [ "${PIPESTATUS[0]}" -ne 0 ]; then
    reason=$(grep -v '^[[:space:]]' "$tmp/peer.err" | tail -n 1)
    peer_note="peer: failed (${reason:-no message})"
  fi
fi

# 4. one table.  bench lines: "bench size=WxH key=value ..."; peer lines:
# "peer WxH MODE: X ms/iter (median of N)".
echo
echo "== one loss evaluation (forward + input gradient + losses), median ms"
echo
echo "project: $(sed -n 's/^device: //p' "$tmp/bench.txt" | head -n 1)," \
  "$(sed -n 's/^gpu time: //p' "$tmp/bench.txt" | head -n 1)"
peer_dev=$(grep -m 1 '^torch ' "$tmp/peer.txt")
[ -n "$peer_dev" ] && echo "peer: $peer_dev"
echo
awk '
  FNR == 1 { file++ }
  file == 1 && $1 == "bench" {
    delete v
    for (i = 2; i <= NF; i++) {
      eq = index($i, "=")
      v[substr($i, 1, eq - 1)] = substr($i, eq + 1)
    }
    s = v["size"]
    order[++n] = s
    gpu[s] = v["eval_gpu_ms"]; wall[s] = v["eval_wall_ms"]
    tf[s] = v["tflops"]; mib[s] = v["peak_mib"]
  }
  file == 2 && $1 == "peer" {
    mode = $3
    sub(":", "", mode)
    peer[$2 "," mode] = $4
  }
  function cell(key) { return (key in peer) ? peer[key] : "-" }
  function num(x, f) { return (x == "" || x == "na") ? "na" : sprintf(f, x) }
  END {
    print "| size | project ms/iter (GPU timestamps) | project ms/iter (wall) | TFLOP/s | peak MiB | peer fp32 | peer tf32 | peer fp16 |"
    print "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
    for (i = 1; i <= n; i++) {
      s = order[i]
      printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", s,
        num(gpu[s], "%.2f"), num(wall[s], "%.2f"), num(tf[s], "%.3f"),
        num(mib[s], "%.0f"), cell(s ",fp32"), cell(s ",tf32"),
        cell(s ",fp16")
    }
    if (n == 0)
      print "| (bench gave no results) | | | | | | | |"
  }
' "$tmp/bench.txt" "$tmp/peer.txt"
echo
[ -n "$peer_note" ] && echo "$peer_note"
if [ -n "$fps_note" ]; then
  echo "$fps_note"
else
  awk '$1 == "element-fps" {
    for (i = 2; i <= NF; i++) {
      eq = index($i, "=")
      v[substr($i, 1, eq - 1)] = substr($i, eq + 1)
    }
    printf "element: stylefilter at %s, iterations=4 (%s ran per frame), processing-size %s: %s frames/s (%s ms/frame over %s frames after the first)\n",
      v["size"], v["iters_per_frame"], v["processing-size"] == 0 ? "= frame" : v["processing-size"],
      v["fps"], v["ms_per_frame"], v["measured"]
  }' "$tmp/fps.txt"
fi
exit "$status"
