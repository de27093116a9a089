#!/usr/bin/env bash
# wsi-segment against a plain PyTorch script (bench/peer-pytorch.py) on the same slide with the same weights,
# tile, overlap and MPP, run one after the other: both times, the ratio and how far the labels agree.
# Usage: bench/compare.sh [--size 10000x12000] [--work DIR] [--model CKPT] [--tile 1024] [--overlap 128] [--precision fp32|bf16|auto]
# Default model: the bundled demo model (trained weights). Installs python3-torch, python3-openslide,
# python3-numpy and python3-tifffile from Debian when missing (as root).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
size=10000x12000 work="" model="" tile=1024 overlap=128 precision=fp32
while (($#)); do
  case "$1" in
    --size) size=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    --model) model=$2; shift 2 ;;
    --tile) tile=$2; shift 2 ;;
    --overlap) overlap=$2; shift 2 ;;
    --precision) precision=$2; shift 2 ;;
    *) echo "compare.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/bootstrap.sh"
PY=/usr/bin/python3
if ! "$PY" -c 'import torch, openslide, numpy, tifffile' 2>/dev/null; then
  [[ $(id -u) -eq 0 ]] || { echo "compare.sh: run as root, or: sudo apt-get install -y python3-torch python3-openslide python3-numpy python3-tifffile" >&2; exit 1; }
  echo "compare.sh: installing python3-torch python3-openslide python3-numpy python3-tifffile" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o DPkg::Lock::Timeout=600 --no-install-recommends \
    python3-torch python3-openslide python3-numpy python3-tifffile >/dev/null
fi
model=${model:-$(dirname "$WSI_SEGMENT")/models/demo-espnet.safetensors}
if [[ -z "$work" ]]; then work=$(mktemp -d); trap 'rm -rf "$work"' EXIT; fi
mkdir -p "$work"
slide="$work/phantom-7.tif"
[[ -f "$slide" ]] || "$WSI_SEGMENT" synth "$work" --size "$size" --seed 7 --quiet
now() { date +%s.%N; }

rm -rf "$work/ours"
t0=$(now)
"$WSI_SEGMENT" segment "$slide" -o "$work/ours" --model "$model" --tile "$tile" --overlap "$overlap" --precision "$precision" --quiet >"$work/ours.log"
t1=$(now)
# Every core for the script too (Debian's torch starts with one intra-op thread); denormals as PyTorch leaves them.
"$PY" "$ROOT/bench/peer-pytorch.py" "$slide" "$model" "$work/peer.ome.tif" --tile "$tile" --overlap "$overlap" --threads "$(nproc)" > "$work/peer.json"
t2=$(now)

"$PY" - "$work" "$t0" "$t1" "$t2" <<'PY'
import json, sys
import numpy as np, tifffile
work, t0, t1, t2 = sys.argv[1], *map(float, sys.argv[2:])
ours = tifffile.imread(f"{work}/ours/phantom-7.mask.tif", key=0)
peer = tifffile.imread(f"{work}/peer.ome.tif", key=0)
h, w = min(ours.shape[0], peer.shape[0]), min(ours.shape[1], peer.shape[1])
o, p = ours[:h, :w], peer[:h, :w]
tissue = o != 0  # where wsi-segment found tissue and ran the network (it skips background tiles; the script runs all)
report = json.load(open(f"{work}/ours/phantom-7.json"))
peer_report = json.load(open(f"{work}/peer.json"))
ts, tp = t1 - t0, t2 - t1
print(f"slide {report['slide']['width']}x{report['slide']['height']}, analysis {w}x{h} px at {peer_report['mpp']} um/px, "
      f"tiles: wsi-segment {report['patches']['run']} run / {report['patches']['skipped']} skipped, script {peer_report['tiles']}")
print(f"wsi-segment segment (all outputs, process): {ts:6.1f} s  (report {report['totalSeconds']:.1f} s; stages {report['stageSeconds']})")
print(f"PyTorch script (one pyramid, process):     {tp:6.1f} s  ({peer_report['threads']} threads; stages {peer_report['seconds']})")
print(f"speed-up script / wsi-segment: {tp / ts:.2f}x")
print(f"label agreement: {np.mean(o == p) * 100:.3f} % of all pixels, {np.mean(o[tissue] == p[tissue]) * 100:.3f} % where wsi-segment found tissue")
PY
