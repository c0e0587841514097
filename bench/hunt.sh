#!/usr/bin/env bash
# bench/hunt.sh: how many runs `deja record --until-fail` takes to catch a thread-order bug,
# with and without --chaos.
#
#   bench/hunt.sh [SAMPLE]   (default heisen_order; env: HUNTS hunts per mode, default 20;
#                             MAX_RUNS per hunt, default 100; SEED first chaos seed, default 1)
#
# Runs HUNTS hunts of samples/target/bin/SAMPLE without chaos and HUNTS with `--chaos --seed S`
# (S = SEED, SEED+1, ...: the hunts differ and the whole table can be repeated), reads the run
# number from deja's summary line, and prints per mode: hunts that found the failure, median and
# mean runs to failure (a hunt that found nothing counts as MAX_RUNS, so the mean is a lower bound),
# and the seconds per hunt. Ends with a markdown table for docs/performance.md.
# Machines here are shared and noisy: read the runs, not the seconds.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SAMPLE=${1:-heisen_order}
HUNTS=${HUNTS:-20}
MAX_RUNS=${MAX_RUNS:-100}
SEED=${SEED:-1}
DEJA=${DEJA:-$ROOT/deja}
PROG=$ROOT/samples/target/bin/$SAMPLE

say() { printf 'hunt: %s\n' "$*" >&2; }
die() { printf 'hunt: error: %s\n' "$*" >&2; exit 1; }

[[ -x $PROG ]] || die "$PROG is missing: build the samples first (mvn -o package -DskipTests)"
[[ $HUNTS =~ ^[1-9][0-9]*$ ]] || die "HUNTS must be a positive integer (got $HUNTS)"
[[ $MAX_RUNS =~ ^[1-9][0-9]*$ ]] || die "MAX_RUNS must be a positive integer (got $MAX_RUNS)"

SCRATCH=$(mktemp -d /tmp/deja-hunt.XXXXXX)
trap 'rm -rf "$SCRATCH"' EXIT
export DEJA_HOME=$SCRATCH/home

# hunt MODE -> prints "runs found seconds" per hunt, one line each (found: 1 when a run failed)
hunt() {
  local mode=$1 i err runs found start end
  for ((i = 0; i < HUNTS; i++)); do
    local chaos=()
    [[ $mode == chaos ]] && chaos=(--chaos --seed $((SEED + i)))
    start=$(date +%s.%N)
    err=$("$DEJA" record --until-fail --max-runs "$MAX_RUNS" "${chaos[@]}" -o "$SCRATCH/rec" -- "$PROG" 2>&1 >/dev/null || true)
    end=$(date +%s.%N)
    rm -rf "$SCRATCH/rec"
    if [[ $err =~ deja:\ run\ ([0-9]+)\ of\ at\ most ]]; then
      runs=${BASH_REMATCH[1]} found=1
    elif [[ $err == *"no run failed"* ]]; then
      runs=$MAX_RUNS found=0
      say "$mode hunt $((i + 1)): no failure in $MAX_RUNS runs"
    else
      die "$mode hunt $((i + 1)): unexpected output: $err"
    fi
    say "$mode hunt $((i + 1)): $runs runs"
    printf '%s %s %s\n' "$runs" "$found" "$(echo "$end - $start" | bc)"
  done
}

# stats FILE MODE -> one markdown row
stats() {
  local file=$1 mode=$2
  sort -n -k1,1 "$file" | awk -v mode="$mode" '
    { runs[NR] = $1; sum += $1; found += $2; secs += $3 }
    END {
      median = (NR % 2) ? runs[(NR + 1) / 2] : (runs[NR / 2] + runs[NR / 2 + 1]) / 2
      printf "| %s | %d of %d | %s | %.1f | %d | %d | %.1f |\n", mode, found, NR, median, sum / NR, runs[1], runs[NR], secs / NR
    }'
}

say "$SAMPLE: $HUNTS hunts per mode, at most $MAX_RUNS runs each"
hunt plain >"$SCRATCH/plain"
hunt chaos >"$SCRATCH/chaos"
echo
echo "| mode | hunts that failed | median runs | mean runs | fewest | most | seconds per hunt |"
echo "|---|---|---|---|---|---|---|"
stats "$SCRATCH/plain" "record --until-fail"
stats "$SCRATCH/chaos" "record --until-fail --chaos"
