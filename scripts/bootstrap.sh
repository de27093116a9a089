#!/usr/bin/env bash
# Installs what WsiSegment needs on Debian 12 (system libvips + OpenSlide + third-party readers), restores
# NuGet packages and builds; the build itself applies the libLibTorchSharp GLIBCXX fix (build/TorchSharpNativeFix.targets).
# Sourced by scripts/demo.sh and scripts/test.sh; safe to run again (does only what is missing).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CONFIGURATION="${CONFIGURATION:-Release}"

need_pkgs=()
for pkg in libvips42 libvips-tools openslide-tools libtiff-tools; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need_pkgs+=("$pkg")
done
if ((${#need_pkgs[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing ${need_pkgs[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
  else
    echo "bootstrap: missing system packages: ${need_pkgs[*]}" >&2
    echo "bootstrap: run as root, or: sudo apt-get install -y ${need_pkgs[*]}" >&2
    exit 1
  fi
fi

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
if ((${#web_pkgs[@]})); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "bootstrap: installing ${web_pkgs[*]} with apt-get (waiting for the dpkg lock if another install holds it)" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get -o DPkg::Lock::Timeout=900 update -qq
    apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${web_pkgs[@]}" >/dev/null
  else
    echo "bootstrap: missing ${web_pkgs[*]}: run as root, or: sudo apt-get install -y ${web_pkgs[*]}" >&2
    command -v npm >/dev/null 2>&1 || exit 1
  fi
fi
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
