#!/usr/bin/env bash
# facet vs PyTorch on BaseCNN (batch 64, 2 threads), measured side by side in one go: the two benches run
# alternately ROUNDS times and the medians over rounds are compared (run-to-run noise here is +-10-15%, and
# the cores may be shared, so never compare numbers taken at different times).
#
#   bash bench/compare.sh [--sizes 64,128] [--rounds 3] [--threads 2]
#
# facet side: `facet bench --sections model` (training step = forward + loss + backward + Adam; inference =
# eval forward without a graph), from $FACET_BUILD_DIR (default build/; build it with scripts/build.sh).
# Peer side: bench/peer/torch_basecnn.py (plain PyTorch, NCHW and channels_last), run by the first Python that
# imports torch ($PEER_PYTHON, python3, /usr/bin/python3). Install it with `apt-get install -y python3-torch`
# (Debian, for /usr/bin/python3) or `pip install torch --index-url https://download.pytorch.org/whl/cpu`.
# OpenBLAS is not involved here. The last line is exactly
#   ratio train=<facet/peer training images/s> infer=<facet/peer inference images/s>
# for 64x64, batch 64, 2 threads, against the faster of the peer's two layouts.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sizes=64
rounds=3
threads=2
while [ $# -gt 0 ]; do
  case "$1" in
    --sizes) sizes=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --threads) threads=$2; shift 2 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case ",$sizes," in *,64,*) ;; *) sizes="64,$sizes" ;; esac  # the ratio line needs 64x64

build=${FACET_BUILD_DIR:-$root/build}
facet_bin=$build/facet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# What else is running: the cores may be shared with other jobs, which makes every number here noisier.
busy() {
  read -r _ u1 n1 s1 i1 w1 _ < /proc/stat; sleep 1; read -r _ u2 n2 s2 i2 w2 _ < /proc/stat
  local total=$(( (u2+n2+s2+i2+w2) - (u1+n1+s1+i1+w1) ))
  echo $(( 100 * ((u2+n2+s2) - (u1+n1+s1)) / (total > 0 ? total : 1) ))
}
echo "compare.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs; busy before start: $(busy)% (should be ~0)"

peer_py=""
for py in ${PEER_PYTHON:-} python3 /usr/bin/python3; do
  if command -v "$py" >/dev/null 2>&1 && "$py" -c "import torch" >/dev/null 2>&1; then peer_py=$py; break; fi
done
if [ -z "$peer_py" ]; then
  echo "compare.sh: PyTorch is not installed (no python among \$PEER_PYTHON, python3, /usr/bin/python3 imports torch);"
  echo "  install it with 'apt-get install -y python3-torch' or the PyPI CPU wheel, then rerun. No peer numbers."
fi
facet_ok=1
if [ ! -x "$facet_bin" ]; then
  echo "compare.sh: $facet_bin not found: build first (bash scripts/build.sh, or set FACET_BUILD_DIR). No facet numbers."
  facet_ok=0
fi
[ -n "$peer_py" ] && echo "peer: $("$peer_py" -c 'import torch,sys; print("PyTorch", torch.__version__, "on Python", sys.version.split()[0])') ($peer_py)"

for r in $(seq 1 "$rounds"); do
  echo "--- round $r/$rounds"
  if [ $facet_ok = 1 ]; then
    "$facet_bin" bench --sections model --sizes "$sizes" --threads "$threads" --repeats 5 \
      --json "$work/facet_$r.json" | grep -E '^model' || { echo "compare.sh: facet bench failed"; facet_ok=0; }
  fi
  if [ -n "$peer_py" ]; then
    "$peer_py" "$root/bench/peer/torch_basecnn.py" --sizes "$sizes" --threads "$threads" --json "$work/peer_$r.json"
  fi
done

python3 - "$work" "$rounds" "$sizes" "$threads" "$facet_ok" "${peer_py:+1}" <<'EOF'
import json, os, statistics, sys
work, rounds, sizes, threads, facet_ok, peer_ok = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5] == "1", sys.argv[6] == "1"
sizes = [int(s) for s in sizes.split(",")]
def load(prefix):
    out = []
    for r in range(1, rounds + 1):
        p = os.path.join(work, "%s_%d.json" % (prefix, r))
        if os.path.exists(p):
            out.append(json.load(open(p)))
    return out
facet, peer = (load("facet") if facet_ok else []), (load("peer") if peer_ok else [])
def facet_rate(size, mode):
    name = "basecnn@%d %s" % (size, "train step" if mode == "train" else "inference")
    v = [row["items_per_s"] for j in facet for row in j["rows"] if row["name"] == name]
    return statistics.median(v) if v else None
def peer_rate(size, mode, layout):
    v = [row["images_per_s"] for j in peer for row in j["rows"]
         if row["size"] == size and row["mode"] == mode and row["layout"] == layout]
    return statistics.median(v) if v else None
print("--- medians over %d alternating rounds, batch 64, %s threads (images/s)" % (rounds, threads))
ratios = {}
for size in sizes:
    for mode in ("train", "infer"):
        f = facet_rate(size, mode)
        p = {l: peer_rate(size, mode, l) for l in ("nchw", "channels_last")}
        best = max((v for v in p.values() if v), default=None)
        ratio = f / best if f and best else None
        ratios[(size, mode)] = ratio
        fmt = lambda v: "%.1f" % v if v else "n/a"
        print("%3dx%-3d %-5s facet %8s   torch nchw %8s  channels_last %8s   facet/best-torch %s"
              % (size, size, mode, fmt(f), fmt(p["nchw"]), fmt(p["channels_last"]), "%.2f" % ratio if ratio else "n/a"))
# Peak RSS of each training row on its own (both sides reset the kernel's high-water mark before a row), so
# facet's layer-by-layer rows or the peer's other layout do not count against the row that is compared.
def facet_rss(size, mode):
    name = "basecnn@%d %s" % (size, "train step" if mode == "train" else "inference")
    v = [row["peak_rss_mib"] for j in facet for row in j["rows"] if row["name"] == name and row.get("peak_rss_mib")]
    return statistics.median(v) if v else None
def peer_rss(size, mode, layout):
    v = [row["peak_rss_mib"] for j in peer for row in j["rows"]
         if row["size"] == size and row["mode"] == mode and row["layout"] == layout and row.get("peak_rss_mib")]
    return statistics.median(v) if v else None
for size in sizes:
    f = facet_rss(size, "train")
    p = {l: peer_rss(size, "train", l) for l in ("nchw", "channels_last")}
    fmt = lambda v: "%.0f" % v if v else "n/a"
    print("%3dx%-3d train peak RSS (MiB, that row alone): facet %s   torch nchw %s  channels_last %s"
          % (size, size, fmt(f), fmt(p["nchw"]), fmt(p["channels_last"])))
# The whole process: the largest row peak (the per-row resets also reset what getrusage reports).
def process_peak(j):
    return max([row.get("peak_rss_mib") or 0 for row in j["rows"]] + [j.get("peak_rss_mib") or 0])
if facet:
    print("facet peak RSS (model bench process, its largest row: layer by layer): %.0f MiB"
          % statistics.median(process_peak(j) for j in facet))
if peer:
    print("torch peak RSS (peer process, its largest row): %.0f MiB" % statistics.median(process_peak(j) for j in peer))
fmt = lambda v: "%.2f" % v if v else "n/a"
print("ratio train=%s infer=%s" % (fmt(ratios.get((64, "train"))), fmt(ratios.get((64, "infer")))))
EOF
