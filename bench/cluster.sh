#!/usr/bin/env bash
# Slurm scheduler + dispatch overhead (issue 16): 24 phantom slides through `wsi-segment cluster submit` on the
# two-node loopback test cluster (scripts/slurm-test-cluster.sh; 1 CPU per virtual node), 8 slides per task, against
# the same slides through one local `wsi-segment segment` process (all cores).
#   bash bench/cluster.sh [--work DIR] [--slides 24] [--per-task 8] [--size 4000x4000]
# Overhead per slide: on each node, the time from submission (or from that node's previous output) to each slide's
# published report, minus that slide's own segment time (SLIDE.json totalSeconds), summed and divided by the slides:
# scheduling, array-task start, process start, model load, the skip checks, publication.
# Uses SLURM_CONF if set (a running cluster); otherwise starts one in WORK/cluster (port SLURM_TEST_PORT, default
# 17200) and stops it at the end. Needs python3 for the arithmetic.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="" SLIDES=24 PER=8 SIZE=4000x4000
while (($#)); do
  case "$1" in
    --work) WORK="$2"; shift 2 ;;
    --slides) SLIDES="$2"; shift 2 ;;
    --per-task) PER="$2"; shift 2 ;;
    --size) SIZE="$2"; shift 2 ;;
    *) echo "bench/cluster.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
source "$ROOT/scripts/bootstrap.sh"
WORK="${WORK:-$(mktemp -d)}"; mkdir -p "$WORK"; WORK="$(cd "$WORK" && pwd)"
own_cluster=0
if [[ -z "${SLURM_CONF:-}" ]]; then
  SLURM_TEST_PORT="${SLURM_TEST_PORT:-17200}" bash "$ROOT/scripts/slurm-test-cluster.sh" start "$WORK/cluster"
  export SLURM_CONF="$WORK/cluster/slurm.conf"; own_cluster=1
fi
trap '((own_cluster)) && bash "$ROOT/scripts/slurm-test-cluster.sh" stop "$WORK/cluster"' EXIT

mkdir -p "$WORK/slides"
for ((i = 1; i <= SLIDES; i++)); do
  [[ -f "$WORK/slides/phantom-$i.tif" ]] || "$WSI_SEGMENT" synth "$WORK/slides" --size "$SIZE" --seed "$i" >/dev/null 2>&1
done
rm -f "$WORK"/slides/*.labels.tif
mapfile -t slides < <(ls "$WORK"/slides/phantom-*.tif | sort -V)

echo "== local: one segment process, ${#slides[@]} slides =="
rm -rf "$WORK/local"
t0=$(date +%s.%N)
"$WSI_SEGMENT" segment "${slides[@]}" -o "$WORK/local" >/dev/null 2>"$WORK/local.log"
t1=$(date +%s.%N)

echo "== cluster: ${#slides[@]} slides, $PER per task, 2 nodes =="
rm -rf "$WORK/cluster-out"
t2=$(date +%s.%N)
job=$("$WSI_SEGMENT" cluster submit "${slides[@]}" -o "$WORK/cluster-out" --slides-per-task "$PER" --job-name bench 2>/dev/null)
NO_COLOR=1 "$WSI_SEGMENT" cluster status "$job" --wait --interval 0.5 -o "$WORK/cluster-out" >/dev/null
t3=$(date +%s.%N)

echo "== cluster again: everything already done (skipped by hash) =="
t4=$(date +%s.%N)
job2=$("$WSI_SEGMENT" cluster submit --manifest "$WORK/cluster-out/.cluster/bench/manifest.txt" -o "$WORK/cluster-out" \
  --slides-per-task "$PER" --job-name "bench-again-$(date +%s)" 2>/dev/null)
NO_COLOR=1 "$WSI_SEGMENT" cluster status "$job2" --wait --interval 0.5 -o "$WORK/cluster-out" >/dev/null
t5=$(date +%s.%N)

python3 - "$WORK" "$t0" "$t1" "$t2" "$t3" "$t4" "$t5" <<'EOF'
import glob, json, os, sys
work = sys.argv[1]; t0, t1, t2, t3, t4, t5 = map(float, sys.argv[2:])
local = [json.load(open(p)) for p in glob.glob(f"{work}/local/*.json")]
reports = []
for p in glob.glob(f"{work}/cluster-out/*.json"):
    r = json.load(open(p))
    reports.append((os.stat(p).st_mtime, r["totalSeconds"], r["slurm"]["node"], r["slurm"]["arrayTaskId"]))
n = len(reports)
overhead = 0.0
for node in sorted({r[2] for r in reports}):
    prev = t2
    for published, seg, _, _ in sorted(r for r in reports if r[2] == node):
        overhead += (published - prev) - seg
        prev = published
seg_cluster = sum(r[1] for r in reports)
seg_local = sum(r["totalSeconds"] for r in local)
print(f"slides: {n} on the cluster, {len(local)} locally")
print(f"local segment (one process, all cores): {t1 - t0:.1f} s wall, {seg_local:.1f} s in slides")
print(f"cluster (2 nodes x 1 CPU): {t3 - t2:.1f} s submit -> all done, {seg_cluster:.1f} s in slides")
print(f"scheduler + dispatch overhead per slide: {overhead / max(1, n):.3f} s")
print(f"re-submission, all skipped: {t5 - t4:.1f} s")
EOF
