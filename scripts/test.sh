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
step "unit, API and simulation tests (vitest)"
npx vitest run
step "cross-language interop (npm run test:interop)"
npm run --silent test:interop
