#!/usr/bin/env bash
# Regenerates generated/ from proto/ with ts-proto driven by buf (local plugin, offline).
# Usage: scripts/gen.sh [OUTDIR]   (default: generated)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-generated}"
rm -rf "$out"
template=$(sed "s#out: generated#out: $out#" buf.gen.yaml)
npx buf generate --template "$template"
echo "generated: $(find "$out" -name '*.ts' | wc -l) files in $out/"
