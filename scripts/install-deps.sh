#!/usr/bin/env bash
# Installs facet's build dependencies from Debian packages. Idempotent: does nothing when all are present.
set -euo pipefail
pkgs=(g++ cmake make catch2 libstb-dev libcli11-dev nlohmann-json3-dev libboost-context-dev libopenblas-dev
      clang libclang-rt-14-dev  # clang + libFuzzer (libclang_rt.fuzzer) for scripts/fuzz.sh
      chromium)  # headless, renders `facet report`'s page in its test (137 MB, about 75 s to install)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
