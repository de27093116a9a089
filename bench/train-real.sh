#!/usr/bin/env bash
# Training on real tissue and on phantoms: from scratch vs fine-tuned (--init) from the authors' Cityscapes ESPNet,
# with and without stain normalisation, and a 4-class subset. Prints per-class IoU/Dice, mIoU, epochs, minutes and
# the curve PNG of every run.
#
#   real:     ../shared/real-annotations/cryonuseg (2 real H&E patches, 512² at 0.25 µm/px, nucleus outlines; 2 classes).
#             Two images cannot give a train/val/test split by source, so each half is a source: the pancreas' left
#             half trains, its right half validates (picks best.safetensors), and the thyroid's annotated region
#             (x 0-311, y 200-499: its README says the upper half has no labels) is the held-out test, segmented
#             and scored with eval against its mask. Native 0.25 µm/px, 128² patches.
#   phantoms: synthetic slides (train/val) and a held-out one; 8 classes, and 4 (background, tumour, stroma, normal)
#             by merging classes at extraction.
#   Every configuration: from scratch (ESPNet-C then ESPNet) and --init from the authors' Cityscapes ESPNet (imported
#   with its own input convention, BGR + Cityscapes mean/std / 255, which the fine-tuned model keeps), with and
#   without stain normalisation on the real set.
#
# Usage: bench/train-real.sh [--work DIR] [--epochs N] [--encoder-epochs N] [--phantom-epochs N] [--phantom-encoder-epochs N]
#                            [--phantom-size WxH] [--phantom-classes "8 4"] [--only "NAME ..."] [--no-phantoms] [--no-real]
#        (defaults: 30 epochs, 10 encoder epochs, phantoms the same, 3000x3000 phantoms: about an hour on 2 cores)
#        --only runs just the named configurations (real-scratch, real-scratch-macenko, real-init, real-init-macenko,
#        real-init-reinhard, phantom8-scratch, phantom8-init, phantom4-scratch, phantom4-init).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
WORK=$(mktemp -d /tmp/train-real.XXXX)
EPOCHS=30 ENC_EPOCHS=10 P_EPOCHS= P_ENC_EPOCHS= PSIZE=3000x3000 PHANTOMS=1 REAL=1 PCLASSES="8 4" ONLY=
while (($#)); do
  case "$1" in
    --work) WORK=$2; shift 2 ;;
    --epochs) EPOCHS=$2; shift 2 ;;
    --encoder-epochs) ENC_EPOCHS=$2; shift 2 ;;
    --phantom-epochs) P_EPOCHS=$2; shift 2 ;;
    --phantom-encoder-epochs) P_ENC_EPOCHS=$2; shift 2 ;;
    --phantom-classes) PCLASSES=$2; shift 2 ;;
    --only) ONLY=" $2 "; shift 2 ;;
    --phantom-size) PSIZE=$2; shift 2 ;;
    --no-phantoms) PHANTOMS=0; shift ;;
    --no-real) REAL=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
P_EPOCHS=${P_EPOCHS:-$EPOCHS} P_ENC_EPOCHS=${P_ENC_EPOCHS:-$ENC_EPOCHS}
SHARED=${WSI_SEGMENT_SHARED:-$ROOT/../shared}
REALDIR=$SHARED/real-annotations/cryonuseg
CITY=$SHARED/espnet-reference/espnet_p2q8_c20.safetensors
mkdir -p "$WORK"
dotnet build Processor -c Release -v quiet -nologo >/dev/null
W="dotnet $ROOT/Processor/bin/Release/net10.0/wsi-segment.dll"
LOG=$WORK/log.txt
echo "work folder: $WORK (logs in $LOG)"

$W model import "$CITY" --arch espnet --classes 20 -o "$WORK/cityscapes.safetensors" 2>>"$LOG"

# score NAME MINUTES EPOCHS RUN_DIR SCORES_JSON: one result line per class and the summary.
score() {
  python3 - "$@" <<'PY'
import json, sys
name, minutes, epochs, run, path = sys.argv[1:6]
s = json.load(open(path))
f = lambda v: "-" if v is None else f"{v:.3f}"
print(f"== {name}: mIoU {f(s['meanIoU'])}, mean Dice {f(s['meanDice'])}, pixel acc {f(s['pixelAccuracy'])}, "
      f"{epochs} epochs, {float(minutes):.1f} min, curve {run}/metrics.png")
for c in s["classes"]:
    if c["truthPixels"] or c["predictedPixels"]:
        print(f"   {c['name']:<22} IoU {f(c['ioU'])}  Dice {f(c['dice'])}  precision {f(c.get('precision'))}  recall {f(c.get('recall'))}")
PY
}

# train_and_score NAME DATASET TEST_IMAGE TEST_TRUTH NAMES SEGMENT_OPTS -- TRAIN_OPTS...
train_and_score() {
  local name=$1 ds=$2 image=$3 truth=$4 names=$5 segopts=$6; shift 7
  [[ -z $ONLY || $ONLY == *" $name "* ]] || return 0
  local run=$WORK/runs/$name start end
  start=$(date +%s)
  $W train --patches "$ds" -o "$run" --device cpu "$@" >>"$LOG" 2>&1
  end=$(date +%s)
  local epochs
  epochs=$(($(wc -l <"$run/metrics.csv") - 1))
  [[ -f $run/encoder/metrics.csv ]] && epochs="$(($(wc -l <"$run/encoder/metrics.csv") - 1)) encoder + $epochs full"
  # shellcheck disable=SC2086
  $W segment "$image" -o "$WORK/seg/$name" --model "$run/best.safetensors" --no-tissue-mask --device cpu $segopts >>"$LOG" 2>&1
  local stem
  stem=$(basename "$image"); stem=${stem%.*}
  $W eval --pred "$WORK/seg/$name/$stem.mask.tif" --truth "$truth" --resample --names "$names" --json "$WORK/seg/$name.json" >>"$LOG" 2>&1
  score "$name" "$(echo "($end - $start) / 60" | bc -l)" "$epochs" "$run" "$WORK/seg/$name.json"
}

if ((REAL)); then
  echo "## real H&E (CryoNuSeg pilot patches): pancreas left half trains, right half validates, thyroid's annotated region is the test; 0.25 µm/px, 128² patches"
  mkdir -p "$WORK/real-src"
  P=Pancreas_TCGA-S4-A8RO TH=ThyroidGland_TCGA-DE-A4MA
  for ext in tif png; do
    dir=images; [[ $ext == png ]] && dir=masks
    vips crop "$REALDIR/$dir/$P.$ext" "$WORK/real-src/${P}_left.$ext" 0 0 256 512
    vips crop "$REALDIR/$dir/$P.$ext" "$WORK/real-src/${P}_right.$ext" 256 0 256 512
    vips crop "$REALDIR/$dir/$TH.$ext" "$WORK/real-src/${TH}_annotated.$ext" 0 200 312 300
  done
  printf 'image\tsplit\n%s_left\ttrain\n%s_right\tval\n' "$P" "$P" >"$WORK/real-split.tsv"
  $W extract "$WORK/real" "$WORK/real-src/${P}"_{left,right}.tif --annotations "$WORK/real-src/${P}"_{left,right}.png \
    --names "$REALDIR/classes.txt" --slide-mpp 0.2525 --mpp 0.25 --patch 128 --overlap 32 --split "$WORK/real-split.tsv" >>"$LOG" 2>&1
  T=(--classes 2 --batch 4 --crop 128)
  TEST=("$WORK/real-src/${TH}_annotated.tif" "$WORK/real-src/${TH}_annotated.png" "$REALDIR/classes.txt" "--tile 256 --overlap 64")
  STAIN=(--stain-reference "$REALDIR/images/$P.tif")
  INIT=(--stage full --init "$WORK/cityscapes.safetensors" --freeze-encoder-epochs 2 --epochs "$EPOCHS")
  train_and_score real-scratch "$WORK/real" "${TEST[@]}" -- "${T[@]}" --epochs "$EPOCHS" --encoder-epochs "$ENC_EPOCHS"
  train_and_score real-scratch-macenko "$WORK/real" "${TEST[@]}" -- "${T[@]}" --epochs "$EPOCHS" --encoder-epochs "$ENC_EPOCHS" \
    --stain-normalise macenko "${STAIN[@]}"
  train_and_score real-init "$WORK/real" "${TEST[@]}" -- "${T[@]}" "${INIT[@]}"
  train_and_score real-init-macenko "$WORK/real" "${TEST[@]}" -- "${T[@]}" "${INIT[@]}" --stain-normalise macenko "${STAIN[@]}"
  train_and_score real-init-reinhard "$WORK/real" "${TEST[@]}" -- "${T[@]}" "${INIT[@]}" --stain-normalise reinhard "${STAIN[@]}"
fi

if ((PHANTOMS)); then
  echo "## phantoms ($PSIZE at 0.5 µm/px): seeds 1-3 train/val, seed 5 held out; 2 µm/px, 128² patches; classes: $PCLASSES"
  for s in 1 2 3 5; do [[ -f $WORK/phantoms/phantom-$s.tif ]] || $W synth "$WORK/phantoms" --size "$PSIZE" --seed "$s" >>"$LOG" 2>&1; done
  $W extract "$WORK/ph8" "$WORK"/phantoms/phantom-{1,2,3}.tif --mpp 2 --patch 128 --overlap 32 --val-fraction 0.34 --seed 0 >>"$LOG" 2>&1
  printf 'background\ntumour\nstroma\nnormal\n' >"$WORK/four.txt"
  MAP=(--class-map 2=1 3=2 4=2 1=3 5=ignore 6=ignore 7=ignore)
  $W extract "$WORK/ph4" "$WORK"/phantoms/phantom-{1,2,3}.tif --mpp 2 --patch 128 --overlap 32 --val-fraction 0.34 --seed 0 \
    --names "$WORK/four.txt" "${MAP[@]}" >>"$LOG" 2>&1
  # The held-out phantom's truth in the 4 classes: one whole-slide "patch" of its labels, mapped the same way.
  $W extract "$WORK/ph4-test" "$WORK/phantoms/phantom-5.tif" --mpp 0.5 --patch "${PSIZE%x*}" --overlap 0 --names "$WORK/four.txt" "${MAP[@]}" \
    --keep-background 1 >>"$LOG" 2>&1
  TRUTH4=$(ls "$WORK"/ph4-test/labels/*.png | head -1)
  P8=("$WORK/phantoms/phantom-5.tif" "$WORK/phantoms/phantom-5.labels.tif" /dev/null "--tile 512 --overlap 64")
  printf 'background\nbenign epithelium\nmalignant epithelium\nnormal stroma\ndesmoplastic stroma\nsecretion\nblood\nnecrosis\n' >"$WORK/eight.txt"
  P8[2]=$WORK/eight.txt
  P4=("$WORK/phantoms/phantom-5.tif" "$TRUTH4" "$WORK/four.txt" "--tile 512 --overlap 64")
  T=(--batch 8 --crop 128)
  PINIT=(--stage full --init "$WORK/cityscapes.safetensors" --freeze-encoder-epochs 2 --epochs "$P_EPOCHS")
  for k in $PCLASSES; do
    if ((k == 8)); then PT=("${P8[@]}"); else PT=("${P4[@]}"); fi
    train_and_score "phantom$k-scratch" "$WORK/ph$k" "${PT[@]}" -- "${T[@]}" --classes "$k" --epochs "$P_EPOCHS" --encoder-epochs "$P_ENC_EPOCHS"
    train_and_score "phantom$k-init" "$WORK/ph$k" "${PT[@]}" -- "${T[@]}" --classes "$k" "${PINIT[@]}"
  done
fi
echo "done; runs, curves and scores in $WORK"
