#!/usr/bin/env python3
"""The peer for facet's BaseCNN bench: the same network in plain PyTorch (CPU), timed the same way.

BaseCNN: 6 x [Conv3x3 pad 1 -> BatchNorm -> LeakyReLU(0.01) -> MaxPool 2x2] with 32,32,64,64,128,128
channels, flatten, dense 256 and 128 (LeakyReLU, dropout 0.5), three heads (age 10, gender 2, race 5),
cross-entropy summed over the heads, Adam lr 1e-3, batch 64. Measures training images/s (forward + loss +
backward + Adam step) and inference images/s (eval mode, no grad) for each input size and memory layout
(NCHW and channels_last), median of --repeats timed samples of --steps steps each, after warmup.
Synthetic seeded inputs: speed does not depend on the values. Prints one line per row and writes JSON.

    python3 bench/peer/torch_basecnn.py --threads 2 --sizes 64,128 --json peer.json
"""
import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads (intra-op threads)")
    p.add_argument("--sizes", default="64,128", help="input sides, comma-separated")
    p.add_argument("--layouts", default="nchw,channels_last", help="memory layouts to time")
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--steps", type=int, default=5, help="steps per timed sample")
    p.add_argument("--repeats", type=int, default=5, help="timed samples (median reported)")
    p.add_argument("--warmup", type=int, default=5, help="untimed steps first")
    p.add_argument("--modes", default="train,infer", help="train, infer or both")
    p.add_argument("--json", default="", help="write results here")
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args()


def build_model(torch, nn):
    class BaseCNN(nn.Module):
        def __init__(self, size):
            super().__init__()
            layers, cin = [], 3
            for cout in (32, 32, 64, 64, 128, 128):
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.LeakyReLU(0.01),
                           nn.MaxPool2d(2)]
                cin = cout
            self.trunk = nn.Sequential(*layers)
            side = size // 64
            self.dense = nn.Sequential(nn.Flatten(), nn.Linear(128 * side * side, 256), nn.LeakyReLU(0.01),
                                       nn.Dropout(0.5), nn.Linear(256, 128), nn.LeakyReLU(0.01), nn.Dropout(0.5))
            self.heads = nn.ModuleList([nn.Linear(128, c) for c in (10, 2, 5)])

        def forward(self, x):
            f = self.dense(self.trunk(x))
            return [h(f) for h in self.heads]

    return BaseCNN


def reset_peak_rss():
    """Resets the kernel's peak-RSS mark (VmHWM) to the current RSS (Linux >= 4.0), so each row's peak is its own
    (memory still held from earlier rows counts, as in facet's bench, which does the same)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_rss_mib():
    """VmHWM of this process in MiB (the peak since the last reset_peak_rss), or None off Linux."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return None


def main():
    args = parse_args()
    try:
        import torch
        import torch.nn as nn
    except ImportError:
        print("torch_basecnn: PyTorch is not installed for %s (apt-get install -y python3-torch, or pip install torch "
              "from the CPU wheel index)" % sys.executable, file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    BaseCNN = build_model(torch, nn)
    results = []
    sizes = [int(s) for s in args.sizes.split(",")]
    layouts = args.layouts.split(",")
    modes = args.modes.split(",")
    for size in sizes:
        for layout in layouts:
            fmt = torch.channels_last if layout == "channels_last" else torch.contiguous_format
            model = BaseCNN(size).to(memory_format=fmt)
            opt = torch.optim.Adam(model.parameters(), lr=1e-3)
            loss_fn = nn.CrossEntropyLoss()
            x = torch.rand(args.batch, 3, size, size).contiguous(memory_format=fmt)
            ys = [torch.randint(0, c, (args.batch,)) for c in (10, 2, 5)]

            def train_step():
                opt.zero_grad(set_to_none=True)
                out = model(x)
                loss = sum(loss_fn(o, y) for o, y in zip(out, ys))
                loss.backward()
                opt.step()

            def infer_step():
                with torch.no_grad():
                    model(x)

            for mode in modes:
                step = train_step if mode == "train" else infer_step
                model.train(mode == "train")
                reset_peak_rss()
                for _ in range(args.warmup):
                    step()
                samples = []
                for _ in range(args.repeats):
                    t0 = time.perf_counter()
                    for _ in range(args.steps):
                        step()
                    samples.append((time.perf_counter() - t0) / args.steps)
                med = statistics.median(samples)
                row = {"size": size, "layout": layout, "mode": mode, "batch": args.batch, "threads": args.threads,
                       "median_step_s": med, "images_per_s": args.batch / med,
                       "samples_s": samples, "peak_rss_mib": peak_rss_mib()}
                results.append(row)
                print("torch %-5s %3dx%-3d %-13s threads=%d  %8.2f ms/step  %7.1f images/s"
                      % (mode, size, size, layout, args.threads, med * 1e3, args.batch / med), flush=True)
    out = {"peer": "pytorch", "torch_version": torch.__version__, "python": sys.version.split()[0],
           "machine": platform.processor() or platform.machine(), "threads": args.threads,
           "mkldnn": bool(torch.backends.mkldnn.is_available()),
           # the rows reset the kernel's mark (which getrusage reports too): the process's peak is the largest
           "peak_rss_mib": max([r["peak_rss_mib"] or 0 for r in results] +
                               [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0]),
           "omp_num_threads_env": os.environ.get("OMP_NUM_THREADS", ""), "rows": results}
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
