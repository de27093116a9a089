#!/usr/bin/env bash
# Whole-slide pipeline benchmark (issue 4 targets): end-to-end MP/s vs model-only MP/s for the same tile,
# overlap and batch on a generated all-tissue 10,000x12,000 phantom, the stage breakdown, and peak RSS of a
# 40,000x48,000 phantom against it. Extra arguments go to `wsi-segment bench pipeline` (e.g. --no-big, --tile 512).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
exec "$WSI_SEGMENT" bench pipeline "$@"
