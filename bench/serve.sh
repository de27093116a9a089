#!/usr/bin/env bash
# Load test of `wsi-segment serve` (issue 17): 50,000 tile requests, 16 concurrent, from a second process on loopback,
# over a 10,000x12,000 phantom and its overlay; requests/s, p50/p99 latency, the server's peak RSS.
# Extra arguments go to `wsi-segment bench serve` (e.g. --work DIR to keep and reuse the phantom, --json).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
exec "$WSI_SEGMENT" bench serve "$@"
