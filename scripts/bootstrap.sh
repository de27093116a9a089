#!/usr/bin/env bash
# Installs what WsiSegment needs on Debian 12 (system libvips + OpenSlide + third-party readers), restores
# NuGet packages and builds; the build itself applies the libLibTorchSharp GLIBCXX fix (build/TorchSharpNativeFix.targets).
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again (does only what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${CONFIGURATION:-Release}"

# apt_install WHAT REQUIRED PKG...: as root, installs the packages (waiting for the dpkg lock if another install
# holds it); otherwise prints the apt-get line to run and, when REQUIRED is yes, stops.
apt_install() {
  local what=$1 required=$2
  shift 2
  (($#)) || return 0
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing $* ($what) with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "$@" >/dev/null
  else
    echo "bootstrap: missing $* ($what): run as root, or: sudo apt-get install -y $*" >&2
    [[ $required == no ]] || exit 1
  fi
}

need_pkgs=()
for pkg in libvips42 libvips-tools openslide-tools libtiff-tools; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$pkg")
done
apt_install "slide reading and third-party readers" yes "${need_pkgs[@]}"

if ! command -v dotnet >/dev/null 2>&1; then
  echo "bootstrap: the .NET 10 SDK is not installed (https://learn.microsoft.com/dotnet/core/install/linux-debian)" >&2
  exit 1
fi
if ! dotnet --list-sdks | grep -q '^10\.'; then
  echo "bootstrap: found dotnet, but no .NET 10 SDK (dotnet --list-sdks)" >&2
  exit 1
fi

# --- serve (issue 17): Debian's chromium for the browser tests, npm for OpenSeadragon (Processor/Web) ---
web_pkgs=()
command -v chromium >/dev/null 2>&1 || web_pkgs+=(chromium)
{ command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; } || web_pkgs+=(npm)
# Without chromium the browser tests are skipped outside CI; npm is needed for the build.
apt_install "browser tests, OpenSeadragon" "$(command -v npm >/dev/null 2>&1 && echo no || echo yes)" "${web_pkgs[@]}"
# The build copies node_modules/openseadragon into the output's wwwroot; npm ci only when the lock file changed.
web="$ROOT/Processor/Web"
if [[ ! -f "$web/node_modules/.package-lock.json" || "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
  (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# --- end serve ---

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
dotnet restore "$ROOT/WsiSegment.sln" --nologo -v quiet
dotnet build "$ROOT/WsiSegment.sln" -c "$CONFIGURATION" --no-restore --nologo -v quiet -clp:ErrorsOnly
WSI_SEGMENT="$ROOT/Processor/bin/$CONFIGURATION/net10.0/wsi-segment"
export WSI_SEGMENT
