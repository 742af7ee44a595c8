#!/usr/bin/env bash
# Fails when generated/ differs from what scripts/gen.sh produces from proto/.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/gen.sh "$tmp/generated" >/dev/null
if ! diff -ru "$tmp/generated" generated; then
  echo "check:gen: generated/ is stale or was edited by hand; run 'npm run gen' and commit the result." >&2
  exit 1
fi
echo "check:gen: generated/ matches proto/"
