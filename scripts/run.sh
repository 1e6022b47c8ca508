#!/usr/bin/env bash
# The README's main command: installs the Debian packages facet needs, builds it, and trains the base model
# (BaseCNN, 64x64 colour, ten age groups + gender + race, the parity recipe) on UTKFace, printing progress per
# epoch and the test accuracies at the end. UTKFace is looked for in $FACET_DATA/utkface, $FACET_DATA, then
# ../shared/data/utkface beside the repository. Extra arguments go to `facet train` (e.g. --epochs 5).
#   FACET_RUN=runs/NAME    run directory (default runs/basecnn64-<date>-<time>)
#   FACET_BUILD_DIR=DIR    build directory (default build/)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

has_faces() { [ -d "$1" ] && compgen -G "$1/*.jpg" >/dev/null; }
data=""
candidates=()
if [ -n "${FACET_DATA:-}" ]; then candidates+=("$FACET_DATA/utkface" "$FACET_DATA"); fi
candidates+=("$root/../shared/data/utkface")
for c in "${candidates[@]}"; do
  if has_faces "$c"; then data=$(cd "$c" && pwd); break; fi
done
if [ -z "$data" ]; then
  {
    echo "run.sh: no UTKFace images found. Looked in: ${candidates[*]}"
    echo "Get UTKFace's \"Aligned&Cropped Faces\" (UTKFace.tar.gz, https://susanqq.github.io/UTKFace/), unpack it"
    echo "so that its *.jpg.chip.jpg files lie directly in one folder, e.g. \$FACET_DATA/utkface, then run"
    echo "    FACET_DATA=/path/to/data bash scripts/run.sh"
  } >&2
  exit 2
fi

"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
build=${FACET_BUILD_DIR:-$root/build}
out=${FACET_RUN:-$root/runs/basecnn64-$(date +%Y%m%d-%H%M%S)}
echo "run.sh: training on $data -> $out"
exec "$build/facet" train --model basecnn --data "$data" --labels groups10+gender+race --size 64 --flip \
  --epochs 20 --batch 64 --lr 1e-3 --optimizer adam --seed 1 --out "$out" "$@"
