#!/usr/bin/env python3
"""PyTorch-trained weights in facet, and facet's in PyTorch (docs/export.md), on a tiny BaseCNN:

  torch -> facet:  bench/peer/torch_train.py's BaseCNN (seeded random init, a few SGD steps in train mode on random
                   data, so the batchnorm running statistics move off 0 and 1), saved with its save_safetensors,
                   `facet import`ed; facet's probabilities on 64 generated faces (`facet export --check 64`) equal
                   PyTorch's within 1e-4, every argmax equal (bench/peer/torch_check.py);
  facet -> torch:  a facet-trained checkpoint exported as safetensors loads into the same PyTorch module with
                   load_state_dict(strict=True) and gives facet's probabilities.

Exit 0 pass, 1 fail, 4 skip (torch, safetensors or numpy missing: Debian's python3-torch and the venv of
scripts/install-deps.sh).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
from export_util import need, run, train, write_faces  # noqa: E402

peer = os.path.join(here, "..", "..", "bench", "peer")


def torch_check(weights, check):
    r = subprocess.run([sys.executable, os.path.join(peer, "torch_check.py"), "--weights", weights, "--check", check],
                       capture_output=True, text=True)
    print(r.stdout + r.stderr, end="")
    assert r.returncode == 0, "torch_check.py exited %d" % r.returncode


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--facet", required=True)
    p.add_argument("--tmp", default=None, help="folder to make the scratch folder in (default: the system's)")
    args = p.parse_args()
    need(["numpy", "safetensors", "torch"])
    import torch
    import torch.nn as nn
    sys.path.insert(0, peer)
    from torch_train import activation, make_basecnn, save_safetensors

    work = tempfile.mkdtemp(dir=args.tmp, prefix="facet-torch-")
    faces = os.path.join(work, "faces")
    write_faces(faces)
    ckpt = train(args.facet, work, "basecnn", faces)  # also gives the run's config.json (model, labels, transform)
    cfg = json.load(open(os.path.join(work, "run_basecnn", "config.json")))
    m = cfg["spec"]["model"]

    torch.manual_seed(0)
    torch.set_num_threads(1)
    heads = [h["classes"] for h in m["heads"]]
    model = make_basecnn(nn, m["channels"], m["size"], m["conv_channels"], m["dense"], heads, activation(nn, m),
                         m.get("bn_eps", 1e-5), m.get("bn_momentum", 0.1))
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    model.train()
    for _ in range(5):
        x = torch.randn(16, m["channels"], m["size"], m["size"]) * 2 + 0.5
        loss = sum(nn.functional.cross_entropy(o, torch.randint(0, c, (16,))) for o, c in zip(model(x), heads))
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()
    # Statistics far from 0 and 1 and sharper weights: outputs near uniform would hide a wrong epsilon or layout
    # under the tolerance (a batchnorm epsilon of 1e-3 instead of 1e-5 then moves them by more than 1e-4).
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, nn.BatchNorm2d):
                mod.running_var.copy_(torch.rand(mod.running_var.shape, generator=gen) * 0.3 + 0.001)
                mod.running_mean.normal_(0, 0.5, generator=gen)
            elif isinstance(mod, (nn.Conv2d, nn.Linear)):
                mod.weight.mul_(2.0)
    torch_file = os.path.join(work, "torch.safetensors")
    save_safetensors(model, torch_file, cfg)

    imported = os.path.join(work, "imported.ckpt")
    run(args.facet, "import", "--from", torch_file, "--model", "basecnn", "--out", imported)
    out = os.path.join(work, "imported.safetensors")
    run(args.facet, "export", "--checkpoint", imported, "--out", out, "--check", "64")
    print("torch -> facet:")
    torch_check(torch_file, out + ".check.safetensors")

    facet_file = os.path.join(work, "facet.safetensors")
    run(args.facet, "export", "--checkpoint", ckpt, "--out", facet_file, "--check", "64")
    print("facet -> torch:")
    torch_check(facet_file, facet_file + ".check.safetensors")
    shutil.rmtree(work)
    print("test_torch_import: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
