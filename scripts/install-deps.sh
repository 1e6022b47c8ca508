#!/usr/bin/env bash
# Installs facet's build dependencies from Debian packages. Idempotent: does nothing when all are present.
set -euo pipefail
pkgs=(g++ cmake make catch2 libstb-dev libcli11-dev nlohmann-json3-dev libboost-context-dev libopenblas-dev
      clang libclang-rt-14-dev  # clang + libFuzzer (libclang_rt.fuzzer) for scripts/fuzz.sh
      chromium)  # headless, renders `facet report`'s page in its test (137 MB, about 75 s to install)
# The export tests (docs/export.md): Debian's python3 with venv, and PyTorch (python3-torch, about 2.5 min to
# install on a fresh machine) for the weight-import test; FACET_NO_TORCH=1 leaves it out (that test then skips).
pkgs+=(python3 python3-venv)
[ "${FACET_NO_TORCH:-0}" = 1 ] || pkgs+=(python3-torch python3-pil)  # PIL: torch_train.py decodes faces
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#pkgs[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The venv of the Python tests (.venv, git-ignored): Debian's python3 with its site packages (python3-torch), plus
# PyPI's safetensors, onnx and onnxruntime. numpy < 2: Debian's torch 1.13 is built against numpy 1.x. Idempotent
# (nothing is fetched when all import); a failure (no PyPI) is reported, not fatal: those tests then skip.
root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.venv"
py_mods="import numpy, safetensors, onnx, onnxruntime"
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$py_mods" 2>/dev/null; then
  echo "install-deps: $venv has numpy, safetensors, onnx, onnxruntime"
else
  echo "install-deps: making $venv (numpy<2, safetensors, onnx, onnxruntime from PyPI)"
  if /usr/bin/python3 -m venv --system-site-packages "$venv" &&
     "$venv/bin/pip" install -q --disable-pip-version-check "numpy<2" safetensors onnx onnxruntime; then
    echo "install-deps: $venv ready"
  else
    echo "install-deps: WARNING: could not make $venv; the Python export tests will skip"
  fi
fi
