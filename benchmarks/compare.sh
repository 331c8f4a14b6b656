#!/usr/bin/env bash
# Runs our Fashion-MNIST benchmark and the numpy peer alternately on the same workloads, each at 1 and 2 threads, and
# prints each side's median seconds per epoch and the ratio of ours to numpy's faster setting (below 1 means we are
# faster), and our 2-thread epoch over our 1-thread one. The machines are shared and noisy, so within a round every
# setting of both sides runs once, interleaved, and each figure is the median over rounds. Round r runs everything
# with seed r, and the test accuracies are averaged over the rounds: one seed's accuracy varies by about ±0.015 on this
# workload, more than any difference between the two implementations.
#
# Workloads (--workload, default big; all runs the four):
#   big      MLP 784-128-10, batch 64, float32          tiny   784-32-10, batch 16, float32
#   float64  784-128-10, batch 64, float64              wide   784-1024-1024-10, batch 128, float32
# --hidden/--batch set a custom 784-H-10 float32 workload instead. float64 and wide need a peer with --dtype and
# --layers options; ../shared/peers/mlp_numpy.py has neither, so they run benchmarks/mlp_numpy_deep.py, the same
# textbook program with those two options (with --layers 128 in float32 it draws the same numbers and reaches the
# same accuracy as the shared peer). PEER=path overrides the peer script for every workload. The train workloads (big, tiny, custom) also run ours with the runtime's default
# JIT settings (`train --jit default`) and print every epoch, the warm-up tax and the time to the first batch of both modes.
#
# usage: benchmarks/compare.sh [--workload big|tiny|float64|wide|all] [--hidden 128] [--batch 64] [--epochs 3]
#                              [--threads "1 2"] [--rounds 3] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

workload=big hidden= batch= epochs=3 threads="1 2" rounds=3 data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --workload) workload=$2 ;; --hidden) hidden=$2 ;; --batch) batch=$2 ;; --epochs) epochs=$2 ;;
    --threads) threads=$2 ;; --rounds) rounds=$2 ;; --data) data=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

peer=${PEER:-../shared/peers/mlp_numpy.py}
deep_peer=benchmarks/mlp_numpy_deep.py
[ -f "$peer" ] || { echo "numpy peer not found at $peer (it lives in the shared folder beside the repository)" >&2; exit 1; }
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "numpy missing: apt-get install -y python3-numpy libopenblas0" >&2; exit 1; }

# These machines set OPENBLAS_CORETYPE=Haswell (and OPENBLAS_L2_SIZE), which pins OpenBLAS to its AVX2 kernels and
# halves numpy's speed on AVX-512: the peer runs without them (its command only; see ../shared/peers/README.md).
peer_env() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$@"; }
kernel=$(peer_env /usr/bin/python3 - <<'PY'
try:
    import numpy, threadpoolctl
    blas = [i for i in threadpoolctl.threadpool_info() if i.get("internal_api") == "openblas"]
    print(", ".join(f"OpenBLAS {i.get('version')}, kernel {i.get('architecture')}" for i in blas) or "no OpenBLAS loaded: numpy runs another BLAS (apt-get install -y libopenblas0)")
except ImportError:
    print("kernel unknown: apt-get install -y python3-threadpoolctl")
PY
)
echo "numpy peer: $kernel; threads set with OPENBLAS_NUM_THREADS"

# Whether the peer script accepts an option (its argparse definition names it).
peer_supports() { grep -q -- "\"$1\"" "$peer"; }

json() { echo "${1#RESULT }" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])"; }

# One line on a train RESULT's warm-up: every epoch, the tax over the first six, and the time to the first batch.
jit_line() {
  echo "${1#RESULT }" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("   JIT %s: epochs %s, warm-up tax %.3f s (first six epochs over the median), first batch after %s s" % (r["jit"], r["epoch_seconds"], r["warmup_tax_seconds"], r["fit_start_seconds"]))'
}

# compare_workload NAME OURS_ARGS PEER_ARGS: alternating rounds of ours and the peer at every thread count; PEER_ARGS
# empty runs ours only.
compare_workload() {
  local name=$1 ours_args=$2 peer_args=$3 round t o n
  local -A ours=() theirs=() ours_acc=() theirs_acc=()
  local cores=""
  for round in $(seq "$rounds"); do
    for t in $threads; do
      # shellcheck disable=SC2086
      o=$(dotnet benchmarks/Backprop.Benchmarks/bin/Release/net10.0/Backprop.Benchmarks.dll $ours_args \
            --epochs "$epochs" --threads "$t" --data "$data" --seed "$round" | tail -n 1)
      echo "$name round $round, $t thread(s): ours  $o"
      ours[$t]+="$(json "$o" seconds_per_epoch) "; ours_acc[$t]+="$(json "$o" test_accuracy) "; cores+="$(json "$o" two_core_fma_ratio)/$(json "$o" two_core_cache_ratio) "
      if [ "${ours_args%% *}" = train ]; then
        # The same run with the runtime's default JIT settings (tiered compilation on, as in every application): its
        # first epochs show the warm-up an application pays, which the mode above hides.
        # shellcheck disable=SC2086
        d=$(dotnet benchmarks/Backprop.Benchmarks/bin/Release/net10.0/Backprop.Benchmarks.dll $ours_args --jit default \
              --epochs "$epochs" --threads "$t" --data "$data" --seed "$round" | tail -n 1)
        echo "$name round $round, $t thread(s): ours, default JIT $d"
        for r in "$o" "$d"; do jit_line "$r"; done
      fi
      if [ -n "$peer_args" ]; then
        # shellcheck disable=SC2086
        n=$(peer_env FMNIST_DIR="$data" OPENBLAS_NUM_THREADS="$t" OMP_NUM_THREADS="$t" /usr/bin/python3 "$peer" \
              $peer_args --epochs "$epochs" --seed "$round" | tail -n 1)
        echo "$name round $round, $t thread(s): numpy ($(basename "$peer")) $n"
        theirs[$t]+="$(json "$n" median_epoch_s) "; theirs_acc[$t]+="$(json "$n" test_acc) "
      fi
    done
  done
  local spec="" t2
  for t2 in $threads; do spec+="$t2:${ours[$t2]}:${theirs[$t2]-}:${ours_acc[$t2]}:${theirs_acc[$t2]-};"; done
  /usr/bin/python3 - "$name" "$spec" "$(uptime)" "$cores" <<'PY'
import statistics, sys
name, spec, load, cores = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split()
rows = {}
for part in filter(None, spec.split(";")):
    t, o, n, oa, na = part.split(":")
    rows[int(t)] = ([float(v) for v in o.split()], [float(v) for v in n.split()], [float(v) for v in oa.split()], [float(v) for v in na.split()])
med = {t: (statistics.median(o), statistics.median(n) if n else None) for t, (o, n, _, _) in rows.items()}
peer = {t: n for t, (_, n) in med.items() if n is not None}
best = min(peer, key=peer.get) if peer else None
print(f"== {name} (median of {len(next(iter(rows.values()))[0])} alternating rounds; load at the end: {load.split('load average: ')[-1]})")
for t, (o, n) in sorted(med.items()):
    line = f"   {t} thread(s): ours {o:.3f} s/epoch"
    if n is not None:
        line += f", numpy {n:.3f} s/epoch"
    if best is not None:
        line += f", ours/numpy-best ({best} thread(s)) = {o / peer[best]:.2f}"
    print(line)
if 1 in med and 2 in med:
    print(f"   ours 2 threads / ours 1 thread = {med[2][0] / med[1][0]:.2f}")
if cores:
    print(f"   two-core check after each of our runs, FMA/cache (FMA loop on 2 threads at once over 1 thread: 2 on two free cores, 1 on one core's time; two threads reading their L2 at once over one alone: 1 when they do not slow each other down): {' '.join(cores)}")
acc = [a for (_, _, oa, _) in rows.values() for a in oa]
nacc = [a for (_, _, _, na) in rows.values() for a in na]
print(f"   test accuracy: ours mean {statistics.mean(acc):.4f} (min {min(acc):.4f})"
      + (f", numpy mean {statistics.mean(nacc):.4f} (min {min(nacc):.4f})" if nacc else ", numpy not run"))
PY
}

# The peer for a workload that needs OPTION: the chosen one when it has the option, else the deep peer.
peer_for() {
  if peer_supports "$1"; then echo "$peer"; else echo "$deep_peer"; fi
}

dotnet build -c Release benchmarks/Backprop.Benchmarks >/dev/null
if [ -n "$hidden$batch" ]; then
  hidden=${hidden:-128} batch=${batch:-64}
  compare_workload "784-$hidden-10, batch $batch, float32" "train --hidden $hidden --batch $batch" "--hidden $hidden --batch $batch"
  exit 0
fi
for w in $([ "$workload" = all ] && echo "big tiny float64 wide" || echo "$workload"); do
  case "$w" in
    big) compare_workload "big: 784-128-10, batch 64, float32" "train --hidden 128 --batch 64" "--hidden 128 --batch 64" ;;
    tiny) compare_workload "tiny: 784-32-10, batch 16, float32" "train --hidden 32 --batch 16" "--hidden 32 --batch 16" ;;
    float64) peer=$(peer_for --dtype) compare_workload "float64: 784-128-10, batch 64, float64" \
               "train-mlp --dtype float64 --hidden 128 --batch 64" "--dtype float64 --hidden 128 --batch 64" ;;
    wide) peer=$(peer_for --layers) compare_workload "wide: 784-1024-1024-10, batch 128, float32" \
            "train-mlp --layers 1024,1024 --batch 128" "--layers 1024,1024 --batch 128" ;;
    *) echo "unknown workload $w (big, tiny, float64, wide, all)" >&2; exit 2 ;;
  esac
done
