#!/usr/bin/env bash
# The README's second command: set up, then run the whole test suite. CI (.ci/run) calls exactly this.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/bootstrap.sh"
RESULTS="$(mktemp -d)"
# Slurm (cluster tests): a two-node loopback cluster, stopped by its pid files on exit, also when tests fail.
SLURM_TEST_DIR="$(mktemp -d)"
trap 'bash "$ROOT/scripts/slurm-test-cluster.sh" stop "$SLURM_TEST_DIR" || true; rm -rf "$RESULTS" "$SLURM_TEST_DIR"' EXIT
if timeout 1200 bash "$ROOT/scripts/slurm-test-cluster.sh" start "$SLURM_TEST_DIR"; then
  export WSI_SLURM_TEST_DIR="$SLURM_TEST_DIR" SLURM_CONF="$SLURM_TEST_DIR/slurm.conf"
else
  export WSI_SLURM_START_ERROR="scripts/slurm-test-cluster.sh start $SLURM_TEST_DIR failed (exit $?; its messages are above)"
fi
status=0
dotnet test "$ROOT/Tests/Tests.csproj" -c "$CONFIGURATION" --no-build --nologo \
  --logger "console;verbosity=normal" --logger "trx;LogFileName=tests.trx" --results-directory "$RESULTS" "$@" || status=$?
trx="$RESULTS/tests.trx"
if [[ -f "$trx" ]]; then
  # One plain closing line with the counts, for people and CI alike.
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
  skipped=$(( ${total:-0} - ${executed:-0} ))
  echo "tests: ${passed:-0} passed, ${failed:-0} failed, ${skipped} skipped"
else
  echo "tests: no results were written (build or test host failure)" >&2
  [[ $status -ne 0 ]] || status=1
fi
exit $status
