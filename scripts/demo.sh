#!/usr/bin/env bash
# The README's first command: set up, then run the main job on the bundled sample slides.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
shopt -s nullglob
slides=("$ROOT"/slides/*.svs "$ROOT"/slides/*.tif "$ROOT"/slides/*.tiff "$ROOT"/slides/*.ndpi)
if ((${#slides[@]} == 0)); then
  echo "demo: no sample slides in $ROOT/slides" >&2
  exit 1
fi
"$WSI_SEGMENT" info "${slides[@]}"
