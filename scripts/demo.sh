#!/usr/bin/env bash
# The README's first command: set up, then the main job — segment the bundled sample slides with the bundled
# demo model (per-class area table for each), and score each against its ground truth where one is bundled.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
OUT="${OUT:-$ROOT/out/demo}"
shopt -s nullglob
slides=()
for f in "$ROOT"/slides/*.{svs,ndpi,mrxs,tif,tiff}; do
  [[ "$f" == *.labels.tif ]] || slides+=("$f")
done
if ((${#slides[@]} == 0)); then
  echo "demo: no sample slides in $ROOT/slides" >&2
  exit 1
fi
"$WSI_SEGMENT" info "${slides[@]}"
"$WSI_SEGMENT" segment "${slides[@]}" -o "$OUT"
for slide in "${slides[@]}"; do
  stem="$(basename "${slide%.*}")"
  truth="${slide%.*}.labels.tif"
  if [[ -f "$truth" ]]; then
    echo "demo: $stem against its ground truth ($truth)"
    "$WSI_SEGMENT" eval --pred "$OUT/$stem.mask.tif" --truth "$truth" --resample --json "$OUT/$stem.eval.json"
  fi
done
echo "demo: outputs in $OUT (open $OUT/*.mask.tif or *.overlay.tif in QuPath/ASAP; *.thumb.png for a quick look)"
