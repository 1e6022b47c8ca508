#!/usr/bin/env python3
"""Checks that PyTorch and facet compute the same BaseCNN from the same safetensors weights (docs/export.md).

--weights: a BaseCNN in safetensors with facet's __metadata__ (written by `facet export --format safetensors` or by
bench/peer/torch_train.py --save-safetensors). --check: `facet export ... --check N [--check-images DIR]`'s
<out>.check.safetensors: "image" (N, C, H, W), the network input before normalization, and facet's softmax
probabilities per head. The weights are loaded into torch_train.py's BaseCNN with load_state_dict(strict=True),
run in eval mode on the same inputs (normalized with the metadata's mean/std), and compared head by head:

    python3 bench/peer/torch_check.py --weights torch.safetensors --check facet.safetensors.check.safetensors

Exit 0: every probability within --tol and every argmax equal; 1: not; 4: torch/safetensors/numpy missing.
"""
import argparse
import json
import os
import sys


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--weights", required=True)
    p.add_argument("--check", required=True)
    p.add_argument("--tol", type=float, default=1e-4)
    args = p.parse_args()
    try:
        import numpy as np
        import torch
        import torch.nn as nn
        from safetensors import safe_open
        from safetensors.numpy import load_file
        from safetensors.torch import load_file as load_torch
    except ImportError as e:
        print("torch_check: SKIP: %s for %s (scripts/install-deps.sh installs python3-torch and a venv with "
              "safetensors)" % (e, sys.executable))
        return 4
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from torch_train import activation, make_basecnn

    with safe_open(args.weights, "np") as f:
        meta = f.metadata() or {}
    cfg = json.loads(meta["model"])
    tf = json.loads(meta["transform"])
    if cfg.get("kind") != "basecnn":
        raise SystemExit("torch_check: %s holds a %s model; the PyTorch mirror covers basecnn" % (args.weights,
                                                                                                cfg.get("kind")))
    heads = [h["name"] for h in cfg["heads"]]
    model = make_basecnn(nn, cfg["channels"], cfg["size"], cfg["conv_channels"], cfg["dense"],
                         [h["classes"] for h in cfg["heads"]], activation(nn, cfg), cfg.get("bn_eps", 1e-5))
    model.load_state_dict(load_torch(args.weights), strict=True)
    model.eval()

    check = load_file(args.check)
    x = check["image"].astype(np.float32)
    c = x.shape[1]
    norm = tf.get("normalization", {})
    if norm.get("mean"):
        x = (x - np.array(norm["mean"], np.float32).reshape(1, -1, 1, 1)) / np.array(norm["std"], np.float32).reshape(1, -1, 1, 1)
    assert x.shape[1] == c
    with torch.no_grad():
        outs = [torch.softmax(o, 1).numpy() for o in model(torch.from_numpy(np.ascontiguousarray(x)))]
    ok = True
    for name, got in zip(heads, outs):
        want = check[name]
        diff = float(np.abs(got - want).max())
        same = int((got.argmax(1) == want.argmax(1)).sum())
        good = diff <= args.tol and same == len(want)
        ok &= good
        print("torch_check: head %-7s %d faces: max |p_torch - p_facet| = %.3g, argmax equal %d/%d %s" % (
            name, len(want), diff, same, len(want), "ok" if good else "FAILED"))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
