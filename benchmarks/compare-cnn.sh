#!/usr/bin/env bash
# Runs our convolutional benchmark (`train-cnn`) and the PyTorch peer (../shared/peers/cnn_torch.py) alternately on
# the same workload and prints the ratio of our median seconds per epoch to the peer's faster thread setting (below 1
# means we are faster; issue 13's target is 0.5 or less). The peer runs at 1 and at 2 threads in every round, because
# on 2 cores its second thread may make it slower; we run at --threads. Round r runs every side with seed r, and the
# test accuracies after --epochs epochs are averaged over the rounds.
#
# usage: benchmarks/compare-cnn.sh [--epochs 2] [--threads 2] [--rounds 2] [--data DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

epochs=2 threads=2 rounds=2 data=/usr/share/datasets/fashion-mnist
while [ $# -gt 0 ]; do
  case "$1" in
    --epochs) epochs=$2 ;; --threads) threads=$2 ;; --rounds) rounds=$2 ;; --data) data=$2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
  shift 2
done

peer=../shared/peers/cnn_torch.py
[ -f "$peer" ] || { echo "PyTorch peer not found at $peer (it lives in the shared folder beside the repository)" >&2; exit 1; }
/usr/bin/python3 -c "import torch" 2>/dev/null || { echo "PyTorch missing: apt-get install -y python3-torch" >&2; exit 1; }
[ -f "$data/train-images-idx3-ubyte.gz" ] || { echo "Fashion-MNIST not found in $data: apt-get install -y dataset-fashion-mnist" >&2; exit 1; }
echo "peer: PyTorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__, "with", torch.backends.mkldnn.is_available() and "oneDNN" or "no oneDNN")')"

field() { echo "${1#RESULT }" | /usr/bin/python3 -c "import json,sys; print(json.load(sys.stdin)[\"$2\"])"; }

dotnet build -c Release benchmarks/Backprop.Benchmarks >/dev/null
ours=() peer1=() peer2=() ours_acc=() peer_acc=()
for round in $(seq "$rounds"); do
  o=$(dotnet run -c Release --no-build --project benchmarks/Backprop.Benchmarks -- train-cnn \
        --epochs "$epochs" --threads "$threads" --data "$data" --seed "$round" | tail -n 1)
  echo "round $round: ours        $o"
  ours+=("$(field "$o" seconds_per_epoch)"); ours_acc+=("$(field "$o" test_accuracy)")
  for t in 1 2; do
    p=$(FMNIST_DIR="$data" /usr/bin/python3 "$peer" --threads "$t" --epochs "$epochs" --seed "$round" | tail -n 1)
    echo "round $round: pytorch x$t $p"
    if [ "$t" -eq 1 ]; then peer1+=("$(field "$p" median_epoch_s)"); else peer2+=("$(field "$p" median_epoch_s)"); fi
    peer_acc+=("$(field "$p" test_acc)")
  done
done

/usr/bin/python3 - "${ours[*]}" "${peer1[*]}" "${peer2[*]}" "${ours_acc[*]}" "${peer_acc[*]}" "$threads" "$epochs" <<'PY'
import statistics, sys
ours, p1, p2, oa, pa = ([float(v) for v in a.split()] for a in sys.argv[1:6])
threads, epochs = sys.argv[6], sys.argv[7]
o, t1, t2 = statistics.median(ours), statistics.median(p1), statistics.median(p2)
best, setting = (t1, 1) if t1 <= t2 else (t2, 2)
print(f"pytorch: {t1:.2f} s/epoch on 1 thread, {t2:.2f} s/epoch on 2 threads; faster setting {setting} thread(s)")
print(f"ours on {threads} thread(s): {o:.2f} s/epoch; ratio ours/pytorch-best = {o / best:.2f} "
      f"(target <= 0.50; medians of {len(ours)} alternating rounds)")
print(f"test accuracy after {epochs} epoch(s): ours mean {statistics.mean(oa):.4f} (min {min(oa):.4f}), "
      f"pytorch mean {statistics.mean(pa):.4f} (min {min(pa):.4f}); target ours >= pytorch - 0.01")
PY
