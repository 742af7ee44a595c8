#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it. Each step prints a header so a
# failure names its stage.
set -euo pipefail
cd "$(dirname "$0")/.."
step() { printf '\n== %s\n' "$*"; }
step "generated/ is up to date (npm run check:gen)"
npm run --silent check:gen
step "buf lint"
npx buf lint
step "buf breaking against test/proto-baseline.binpb"
npx buf breaking --against test/proto-baseline.binpb
step "typecheck"
npm run --silent typecheck
step "build (tsup)"
npm run --silent build >/dev/null
results=$(mktemp -d)
trap 'rm -rf "$results"' EXIT
step "unit, API, simulation, storage, browser and example tests (vitest)"
npx vitest run --reporter=default --reporter=json --outputFile.json="$results/main.json"
step "cross-language interop (npm run test:interop)"
npm run --silent test:interop -- --reporter=default --reporter=json --outputFile.json="$results/interop.json"
# One closing line for both runs (reached only when every step passed).
node -e '
  let passed = 0, failed = 0, skipped = 0;
  for (const file of process.argv.slice(1)) {
    const r = JSON.parse(require("fs").readFileSync(file, "utf8"));
    passed += r.numPassedTests; failed += r.numFailedTests; skipped += r.numPendingTests + r.numTodoTests;
  }
  console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
' "$results/main.json" "$results/interop.json"
