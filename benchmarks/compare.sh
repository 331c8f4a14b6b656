#!/usr/bin/env bash
# Runs our Fashion-MNIST benchmark and the numpy peer alternately on the same workload and prints the ratio of their
# median seconds per epoch (ours / numpy: below 1 means we are faster). The machines are shared and noisy, so the
# two are interleaved round by round and each side's figure is the median over rounds. Round r runs both with seed r,
# and the test accuracies are averaged over the rounds: one seed's accuracy varies by about ±0.015 on this workload,
# more than any difference between the two implementations.
#
# usage: benchmarks/compare.sh [--hidden 128] [--batch 64] [--epochs 3] [--threads 2] [--rounds 3] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

hidden=128 batch=64 epochs=3 threads=2 rounds=3 data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --hidden) hidden=$2 ;; --batch) batch=$2 ;; --epochs) epochs=$2 ;;
    --threads) threads=$2 ;; --rounds) rounds=$2 ;; --data) data=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

peer=../shared/peers/mlp_numpy.py
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
echo "numpy peer: $kernel"

dotnet build -c Release benchmarks/Backprop.Benchmarks >/dev/null
ours=() theirs=() ours_acc=() theirs_acc=()
for round in $(seq "$rounds"); do
  o=$(dotnet run -c Release --no-build --project benchmarks/Backprop.Benchmarks -- train \
        --hidden "$hidden" --batch "$batch" --epochs "$epochs" --threads "$threads" --data "$data" --seed "$round" | tail -n 1)
  n=$(peer_env FMNIST_DIR="$data" OPENBLAS_NUM_THREADS="$threads" /usr/bin/python3 "$peer" \
        --hidden "$hidden" --batch "$batch" --epochs "$epochs" --seed "$round" | tail -n 1)
  # The same run with the runtime's default JIT settings (tiered compilation on, as in every application): its first
  # epochs show the warm-up an application pays, which the mode above hides.
  d=$(dotnet run -c Release --no-build --project benchmarks/Backprop.Benchmarks -- train --jit default \
        --hidden "$hidden" --batch "$batch" --epochs "$epochs" --threads "$threads" --data "$data" --seed "$round" | tail -n 1)
  echo "round $round: ours  $o"
  echo "round $round: ours, default JIT $d"
  echo "round $round: numpy $n"
  for r in "$o" "$d"; do
    echo "${r#RESULT }" | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin); print("  JIT %s: epochs %s, warm-up tax %.3f s (first six epochs over the median), first batch after %s s" % (r["jit"], r["epoch_seconds"], r["warmup_tax_seconds"], r["fit_start_seconds"]))'
  done
  ours+=("$(echo "${o#RESULT }" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["seconds_per_epoch"])')")
  theirs+=("$(echo "${n#RESULT }" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["median_epoch_s"])')")
  ours_acc+=("$(echo "${o#RESULT }" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["test_accuracy"])')")
  theirs_acc+=("$(echo "${n#RESULT }" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["test_acc"])')")
done

/usr/bin/python3 - "${ours[*]}" "${theirs[*]}" "$hidden" "$batch" "$threads" "${ours_acc[*]}" "${theirs_acc[*]}" <<'PY'
import statistics, sys
ours = [float(v) for v in sys.argv[1].split()]
theirs = [float(v) for v in sys.argv[2].split()]
ours_acc = [float(v) for v in sys.argv[6].split()]
theirs_acc = [float(v) for v in sys.argv[7].split()]
o, t = statistics.median(ours), statistics.median(theirs)
print(f"hidden {sys.argv[3]}, batch {sys.argv[4]}, {sys.argv[5]} thread(s): ours {o:.3f} s/epoch, numpy {t:.3f} s/epoch, "
      f"ratio ours/numpy = {o / t:.2f} (median of {len(ours)} alternating rounds)")
print(f"test accuracy after {len(ours)} seeds: ours mean {statistics.mean(ours_acc):.4f} (min {min(ours_acc):.4f}), "
      f"numpy mean {statistics.mean(theirs_acc):.4f} (min {min(theirs_acc):.4f})")
PY
