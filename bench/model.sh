#!/usr/bin/env bash
# ESPNet forward throughput: 384x384 at batch 1/8/16 and 1x512x1024, folded vs unfolded, fp32 vs bf16.
# Usage: bench/model.sh [extra `wsi-segment bench model` options, e.g. --json --checkpoint CKPT --runs 20]
# Set WSI_SEGMENT_NO_MALLOPT=1 to measure without the allocator tuning.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build Processor -c Release -v quiet -nologo >/dev/null
exec dotnet Processor/bin/Release/net10.0/wsi-segment.dll bench model "$@"
