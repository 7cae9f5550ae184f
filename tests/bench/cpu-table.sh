#!/usr/bin/env bash
# cpu-table.sh - the project's benchmark on a CPU Vulkan device (lavapipe)
# and the PyTorch peer on the same CPU, run in one go and printed as one
# markdown table: what issue 16 measures ("at least as fast as PyTorch on
# the same cores").
#
#   bash tests/bench/cpu-table.sh                  # 64x64 128x128 256x256
#   SIZES=64x64 REPEATS=5 bash tests/bench/cpu-table.sh   # a quick run
#
# Runs, showing each one's output as it comes:
#   1. build/tests/bench/bench --repeats $REPEATS $SIZES   (ms per loss
#      evaluation: forward, input gradient and all losses; the wall clock)
#   2. $PYTHON tests/peer/torch_gatys.py time --device cpu --sizes ...
#      --reps $REPEATS   (the same evaluation in PyTorch, fp32, with
#      torch.set_num_threads(the machine's cores))
# then the table:
#   | size | engine ms/eval | peer ms/eval | engine / peer | engine GFLOP/s
#   | peer GFLOP/s |
# GFLOP/s divide bench's FLOP count of one evaluation (the same work for
# both) by each one's time.  Without torch the peer columns are "-" and a
# line "peer: not run (why)" follows the table.
#
# Environment: SIZES (space- or comma-separated, default "64x64 128x128
# 256x256"), REPEATS (default 10: bench prints a warning below 20, which
# is expected here: an evaluation at 256x256 takes seconds), BUILD_DIR
# (default ./build), PYTHON (default python3), BENCH_ARGS, PEER_ARGS.
# Exit status: 0 when bench succeeded; the peer does not count.
# Figures on a shared machine drift from run to run: compare the columns
# of one run, as ratios.  See tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$src/build}
python=${PYTHON:-python3}
bench=$build/tests/bench/bench
peer=$src/tests/peer/torch_gatys.py
sizes=$(echo "${SIZES:-64x64 128x128 256x256}" | tr ',' ' ' | xargs)
peer_sizes=$(echo "$sizes" | tr ' ' ',')
repeats=${REPEATS:-10}

if [ ! -x "$bench" ]; then
  echo "cpu-table.sh: no $bench; build first: meson setup build && ninja -C build" >&2
  exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

echo "== bench: $bench --repeats $repeats ${BENCH_ARGS:+$BENCH_ARGS }$sizes"
# shellcheck disable=SC2086  # BENCH_ARGS and sizes are word lists
"$bench" --repeats "$repeats" ${BENCH_ARGS:-} $sizes 2>&1 | tee "$tmp/bench.txt"
bench_status=${PIPESTATUS[0]}

peer_why=""
if ! "$python" -c "import torch, torchvision" 2>"$tmp/import.txt"; then
  peer_why="no torch/torchvision for $python"
else
  echo "== peer: $python $peer time --device cpu --sizes $peer_sizes --reps $repeats ${PEER_ARGS:-}"
  # shellcheck disable=SC2086
  "$python" "$peer" time --device cpu --sizes "$peer_sizes" --reps "$repeats" \
      ${PEER_ARGS:-} 2>&1 | tee "$tmp/peer.txt"
  [ "${PIPESTATUS[0]}" -eq 0 ] || peer_why="the peer failed (its output is above)"
fi

echo
echo "| size | engine ms/eval | peer ms/eval | engine / peer | engine GFLOP/s | peer GFLOP/s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for s in $sizes; do
  line=$(grep "^bench size=$s " "$tmp/bench.txt")
  flop=$(echo "$line" | sed -n 's/.* flop=\([0-9]*\).*/\1/p')
  ems=$(echo "$line" | sed -n 's/.* eval_wall_ms=\([0-9.]*\).*/\1/p')
  pms=$(sed -n "s/^peer $s fp32: \([0-9.]*\) ms.*/\1/p" "$tmp/peer.txt" 2>/dev/null)
  awk -v s="$s" -v f="${flop:-0}" -v e="${ems:-}" -v p="${pms:-}" 'BEGIN {
    es = e == "" ? "-" : sprintf ("%.0f", e);
    ps = p == "" ? "-" : sprintf ("%.0f", p);
    r = (e == "" || p == "") ? "-" : sprintf ("%.2fx", e / p);
    eg = (e == "" || f == 0) ? "-" : sprintf ("%.1f", f / e / 1e6);
    pg = (p == "" || f == 0) ? "-" : sprintf ("%.1f", f / p / 1e6);
    printf "| %s | %s | %s | %s | %s | %s |\n", s, es, ps, r, eg, pg }'
done
[ -n "$peer_why" ] && echo && echo "peer: not run ($peer_why)"
echo
echo "engine: $(grep -m1 '^device:' "$tmp/bench.txt" | sed 's/^device: //'); peer: $(head -n1 "$tmp/peer.txt" 2>/dev/null); $(nproc) cores"
exit "$bench_status"
