#!/usr/bin/env bash
# Alternating A/B of two builds of the harness on one training workload: the machines here are shared and noisy, so
# compare medians and per-pair ratios of runs that alternate, never single times.
#
# usage: benchmarks/ab.sh OLD.dll NEW.dll PAIRS HARNESS-ARGS...
#   e.g. git worktree add /tmp/old HEAD~1 && dotnet build -c Release /tmp/old/benchmarks/Backprop.Benchmarks
#        benchmarks/ab.sh /tmp/old/benchmarks/Backprop.Benchmarks/bin/Release/net10.0/Backprop.Benchmarks.dll \
#          benchmarks/Backprop.Benchmarks/bin/Release/net10.0/Backprop.Benchmarks.dll 15 train --threads 1 --epochs 3
# Each pair runs OLD then NEW and reads "seconds_per_epoch" from each RESULT line; prints both medians, the median and
# quartiles of NEW/OLD, and in how many pairs NEW was faster.
set -euo pipefail
if [ $# -lt 4 ]; then
    sed -n '2,10p' "$0"
    exit 2
fi
old=$1; new=$2; pairs=$3; shift 3
results=$(mktemp)
trap 'rm -f "$results"' EXIT
epoch() { dotnet "$1" "${@:2}" 2>&1 | grep -o '"seconds_per_epoch":[0-9.]*' | cut -d: -f2; }
for _ in $(seq "$pairs"); do
    echo "$(epoch "$old" "$@") $(epoch "$new" "$@")" >> "$results"
done
python3 - "$results" <<'PY'
import statistics, sys
pairs = [tuple(map(float, line.split())) for line in open(sys.argv[1]) if len(line.split()) == 2]
if not pairs:
    sys.exit("no RESULT lines with seconds_per_epoch")
ratios = sorted(n / o for o, n in pairs)
quartile = lambda p: ratios[int(p * (len(ratios) - 1))]
print(f"pairs {len(pairs)}: old median {statistics.median(o for o, _ in pairs):.4f} s, new median "
      f"{statistics.median(n for _, n in pairs):.4f} s, new/old median {statistics.median(ratios):.3f} "
      f"(quartiles {quartile(0.25):.3f}-{quartile(0.75):.3f}), new faster in {sum(n < o for o, n in pairs)}")
PY
