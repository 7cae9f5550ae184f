#!/usr/bin/env bash
# cpu-table.sh - the project's benchmark on a CPU Vulkan device (lavapipe)
# and the PyTorch peer on the same CPU, run in one go and printed as one
# markdown table: what issue 16 measures ("at least as fast as PyTorch on
# the same cores").
#
#   bash tests/bench/cpu-table.sh                  # 64x64 128x128 256x256
#   SIZES=64x64 ROUNDS=1 REPEATS=5 bash tests/bench/cpu-table.sh   # quick
#
# Runs, in ROUNDS rounds, for each size in turn (so that the two sides of
# a ratio are measured within a minute of each other on a machine whose
# speed drifts), showing each one's output as it comes:
#   1. build/tests/bench/bench --evaluations-only --repeats $REPEATS SIZE
#      (ms per loss evaluation: forward, input gradient and all losses;
#      the wall clock)
#   2. $PYTHON tests/peer/torch_gatys.py time --device cpu --sizes SIZE
#      --reps $REPEATS   (the same evaluation in PyTorch, fp32, with
#      torch.set_num_threads(the machine's cores))
# then the table of medians over the rounds:
#   | size | engine ms/eval | peer ms/eval | engine / peer | engine GFLOP/s
#   | peer GFLOP/s |
# where engine / peer is the median of the rounds' ratios and GFLOP/s
# divide bench's FLOP count of one evaluation (the same work for both) by
# the median times.  Without torch the peer columns are "-" and a line
# "peer: not run (why)" follows the table.
#
# Environment: SIZES (space- or comma-separated, default "64x64 128x128
# 256x256"), ROUNDS (default 3), REPEATS (default 10: bench prints a
# warning below 20, expected here: an evaluation at 256x256 takes
# seconds), BUILD_DIR (default ./build), PYTHON (default python3),
# BENCH_ARGS, PEER_ARGS.
# Exit status: 0 when every bench run succeeded; the peer does not count.
# See tests/bench/README.md.
set -u

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
build=${BUILD_DIR:-$src/build}
python=${PYTHON:-python3}
bench=$build/tests/bench/bench
peer=$src/tests/peer/torch_gatys.py
sizes=$(echo "${SIZES:-64x64 128x128 256x256}" | tr ',' ' ' | xargs)
repeats=${REPEATS:-10}

if [ ! -x "$bench" ]; then
  echo "cpu-table.sh: no $bench; build first: meson setup build && ninja -C build" >&2
  exit 1
fi

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT

rounds=${ROUNDS:-3}
bench_status=0
peer_why=""
if ! "$python" -c "import torch, torchvision" 2>"$tmp/import.txt"; then
  peer_why="no torch/torchvision for $python"
fi
for round in $(seq 1 "$rounds"); do
  for s in $sizes; do
    echo "== round $round, bench: $bench --evaluations-only --repeats $repeats ${BENCH_ARGS:+$BENCH_ARGS }$s"
    # shellcheck disable=SC2086  # BENCH_ARGS is a word list
    "$bench" --evaluations-only --repeats "$repeats" ${BENCH_ARGS:-} "$s" 2>&1 \
        | tee "$tmp/bench.txt"
    [ "${PIPESTATUS[0]}" -eq 0 ] || bench_status=1
    grep "^bench size=$s " "$tmp/bench.txt" \
        | sed -n 's/.* flop=\([0-9]*\) .* eval_wall_ms=\([0-9.]*\) .*/\1 \2/p' \
        >> "$tmp/engine-$s.txt"
    grep -m1 '^device:' "$tmp/bench.txt" > "$tmp/device.txt"
    [ -z "$peer_why" ] || continue
    echo "== round $round, peer: $python $peer time --device cpu --sizes $s --reps $repeats ${PEER_ARGS:-}"
    # shellcheck disable=SC2086
    "$python" "$peer" time --device cpu --sizes "$s" --reps "$repeats" \
        ${PEER_ARGS:-} 2>&1 | tee "$tmp/peer.txt"
    if [ "${PIPESTATUS[0]}" -ne 0 ]; then
      peer_why="the peer failed (its output is above)"
      continue
    fi
    head -n1 "$tmp/peer.txt" > "$tmp/peer-head.txt"
    sed -n "s/^peer $s fp32: \([0-9.]*\) ms.*/\1/p" "$tmp/peer.txt" \
        >> "$tmp/peer-$s.txt"
  done
done

echo
echo "| size | engine ms/eval | peer ms/eval | engine / peer | engine GFLOP/s | peer GFLOP/s |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for s in $sizes; do
  # the rounds' engine and peer figures side by side, one round a line
  paste -d ' ' "$tmp/engine-$s.txt" "$tmp/peer-$s.txt" 2>/dev/null | awk -v s="$s" '
    function median (a, n,   i, j, t) {
      for (i = 2; i <= n; i++)
        for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
          t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
        }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { f = $1; e[++ne] = $2; if (NF >= 3) { p[++np] = $3; r[++nr] = $2 / $3 } }
    END {
      em = ne ? median (e, ne) : 0; pm = np ? median (p, np) : 0;
      printf "| %s | %s | %s | %s | %s | %s |\n", s,
        ne ? sprintf ("%.0f", em) : "-", np ? sprintf ("%.0f", pm) : "-",
        nr ? sprintf ("%.2fx", median (r, nr)) : "-",
        ne ? sprintf ("%.1f", f / em / 1e6) : "-",
        np ? sprintf ("%.1f", f / pm / 1e6) : "-" }'
done
[ -n "$peer_why" ] && echo && echo "peer: not run ($peer_why)"
echo
echo "engine: $(sed 's/^device: //' "$tmp/device.txt" 2>/dev/null); peer: $(cat "$tmp/peer-head.txt" 2>/dev/null); $(nproc) cores; medians of $rounds rounds of $repeats"
exit "$bench_status"
