#!/usr/bin/env bash
# Fails when generated/ differs from what scripts/gen.sh produces from proto/.
# Usage: scripts/check-gen.sh [DIR]   (DIR defaults to generated; tests pass a copy)
set -euo pipefail
cd "$(dirname "$0")/.."
target="${1:-generated}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
bash scripts/gen.sh "$tmp/generated" >/dev/null
if ! diff -ru "$tmp/generated" "$target"; then
  echo "check:gen: $target/ is stale or was edited by hand; run 'npm run gen' and commit the result." >&2
  exit 1
fi
echo "check:gen: $target/ matches proto/"
