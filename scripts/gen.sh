#!/usr/bin/env bash
# Regenerates generated/ from proto/: ts-proto output driven by buf (local
# plugin, offline), and the core's message types and the codecs' wire tables
# made by scripts/gen-wire.ts from `buf build` descriptors.
# Usage: scripts/gen.sh [OUTDIR]   (default: generated)
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-generated}"
rm -rf "$out"
template=$(sed "s#out: generated#out: $out#" buf.gen.yaml)
npx buf generate --template "$template"
descriptors=$(mktemp)
trap 'rm -f "$descriptors"' EXIT
npx buf build --as-file-descriptor-set -o "$descriptors#format=binpb"
npx tsx scripts/gen-wire.ts "$descriptors" "$out"
echo "generated: $(find "$out" -name '*.ts' | wc -l) files in $out/"
