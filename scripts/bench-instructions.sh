#!/usr/bin/env bash
# npm run bench:instructions: instructions per commit at 1024 in flight,
# counted by valgrind (callgrind), so two versions of the library can be
# compared to about 2% on a shared machine whose speed varies by tens of
# percent (bench:cluster's wall-clock figures cannot). Needs valgrind
# (apt install valgrind); not part of npm test. About a minute per run.
#
# It bundles scripts/bench-instructions-workload.ts (no TypeScript loader is
# counted), runs it with COMMITS commits and with 1 commit (start-up, election
# and warm-up), and prints the difference per commit. RUNS (default 2) runs of
# each; the figure is their mean. BENCH_SETTING=1024+apply counts the setting
# with a state machine (apply listener and snapshots) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "bench:instructions needs valgrind (apt install valgrind)" >&2; exit 1; }
commits=${COMMITS:-60000}
runs=${RUNS:-2}
bundle=$(mktemp -d)/workload.mjs
npx esbuild scripts/bench-instructions-workload.ts --bundle --platform=node --format=esm --log-level=warning --outfile="$bundle"
count() { # $1 = commits -> instructions of one run
  COMMITS=$1 valgrind --tool=callgrind --callgrind-out-file=/dev/null node --single-threaded "$bundle" 2>&1 \
    | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
total=0
base=0
for run in $(seq 1 "$runs"); do
  echo "run $run/$runs: $commits commits under valgrind..." >&2
  total=$((total + $(count "$commits")))
  echo "run $run/$runs: 1 commit (start-up)..." >&2
  base=$((base + $(count 1)))
done
node -e '
  const [total, base, runs, commits] = process.argv.slice(1).map(Number);
  const perCommit = (total - base) / runs / (commits - 1);
  console.log(`instructions per commit at ${process.env.BENCH_SETTING ?? "1024"} in flight: ${Math.round(perCommit).toLocaleString("en-US")} (${runs} runs of ${commits.toLocaleString("en-US")} commits, start-up subtracted, node ${process.version})`);
' "$total" "$base" "$runs" "$commits"
