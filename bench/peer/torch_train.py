#!/usr/bin/env python3
"""The PyTorch peer of facet's BaseCNN training recipe, on the same faces, split and preprocessing.

It reads a facet run directory (`facet train ... --out runs/NAME`): config.json gives the label scheme (age edges,
heads), the input size, flips, and the per-channel normalization facet measured on the training split; split.txt
gives the train / val / test faces. So both frameworks train on exactly the same images with the same labels:

    facet train --model basecnn --data ../shared/data/utkface --labels groups10+gender+race --size 64 --flip \
        --epochs 20 --batch 64 --lr 1e-3 --optimizer adam --seed 1 --out runs/parity64
    /usr/bin/python3 bench/peer/torch_train.py --run runs/parity64 --data ../shared/data/utkface --epochs 20

Model (as facet's BaseCNN): 6 x [Conv3x3 pad 1 -> BatchNorm -> LeakyReLU(0.01) -> MaxPool 2x2] with 32, 32, 64,
64, 128, 128 channels, flatten, dense 256 and 128 (LeakyReLU, dropout 0.5), one linear head per task;
loss = sum of the heads' cross-entropies; Adam (PyTorch defaults) at --lr; random horizontal flips; PyTorch's
default initialisation (facet uses the same uniform bounds). Faces are decoded once with PIL and shrunk with
box (area) filtering, as facet's loader does. The best epoch is picked by mean validation accuracy over the
heads (facet's default) and scored on the test split: accuracy per head, one-off for the age head.
Prints one line per epoch and writes JSON (--json). --save-safetensors writes the best model for `facet import`
(docs/export.md), so facet can evaluate the PyTorch-trained weights; bench/peer/torch_check.py compares the two
frameworks' probabilities on the same inputs.
"""
import argparse
import json
import os
import platform
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="facet run directory (config.json, split.txt)")
    p.add_argument("--data", default="", help="UTKFace folder (default: the run's data path)")
    p.add_argument("--epochs", type=int, default=20)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", default="", help="write the results here (default: <run>/torch_peer.json)")
    p.add_argument("--save-safetensors", default="",
                   help="also save the best model here as safetensors, for `facet import` (docs/export.md); needs "
                        "the PyPI safetensors package")
    return p.parse_args()


def activation(nn, model_cfg):
    """The activation layer factory of a facet model config (LeakyReLU(leaky_alpha) or ReLU)."""
    alpha = model_cfg.get("leaky_alpha", 0.01)
    return (lambda: nn.LeakyReLU(alpha)) if model_cfg.get("activation", "leakyrelu") == "leakyrelu" else nn.ReLU


def make_basecnn(nn, channels, size, conv, dense, heads, act, bn_eps=1e-5, bn_momentum=0.1):
    """facet's BaseCNN in PyTorch. The module names are what `facet import` reads (docs/export.md): self.trunk is
    one nn.Sequential holding facet's trunk layers in facet's order (conv, bn, act, pool per cycle, flatten, then
    linear, act, dropout per dense layer), so trunk.<i> is facet's trunk layer i; self.heads[h] is head h."""

    class BaseCNN(nn.Module):
        def __init__(self):
            super().__init__()
            layers, cin, side = [], channels, size
            for cout in conv:
                layers += [nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout, eps=bn_eps, momentum=bn_momentum),
                           act(), nn.MaxPool2d(2)]
                cin, side = cout, side // 2
            layers.append(nn.Flatten())
            feats = cin * side * side
            for d in dense:
                layers += [nn.Linear(feats, d), act(), nn.Dropout(0.5)]
                feats = d
            self.trunk = nn.Sequential(*layers)
            self.heads = nn.ModuleList([nn.Linear(feats, c) for c in heads])

        def forward(self, x):
            f = self.trunk(x)
            return [h(f) for h in self.heads]

    return BaseCNN()


def save_safetensors(model, path, cfg):
    """Writes the model's state_dict as safetensors with the __metadata__ `facet import` reads: the facet run's
    model config, label scheme and transform (cfg is the run's config.json), so the file alone rebuilds the model."""
    from safetensors.torch import save_file
    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    meta = {"format": "pt", "model": json.dumps(cfg["spec"]["model"]), "scheme": json.dumps(cfg["scheme"]),
            "transform": json.dumps(cfg["transform"]), "model_kind": "basecnn",
            "producer": "bench/peer/torch_train.py"}
    save_file(state, path, metadata=meta)


def utk_labels(name, scheme):
    """Classes of one UTKFace file name under facet's saved scheme (edges / gender / race tasks)."""
    parts = name.split("_")
    try:
        age, gender, race = int(parts[0]), int(parts[1]), int(parts[2].split(".")[0])
    except (ValueError, IndexError):
        return None
    out = []
    for task in scheme["tasks"]:
        if task["name"] == "age":
            edges = scheme["age_edges"]
            if age < edges[0]:
                return None
            out.append(max(i for i, e in enumerate(edges) if age >= e))
        elif task["name"] == "gender":
            out.append(gender)
        elif task["name"] == "race":
            out.append(race)
        else:
            raise SystemExit("torch_train: task %s is not supported by the peer" % task["name"])
    return out


def main():
    args = parse_args()
    try:
        import numpy as np
        import torch
        import torch.nn as nn
        from PIL import Image
    except ImportError as e:
        print("torch_train: %s for %s (Debian: apt-get install -y python3-torch python3-pil; run it with "
              "/usr/bin/python3)" % (e, sys.executable), file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    cfg = json.load(open(os.path.join(args.run, "config.json")))
    spec, scheme, tf = cfg["spec"], cfg["scheme"], cfg["transform"]
    if spec["model"]["kind"] != "basecnn" or scheme["target_kind"]:
        raise SystemExit("torch_train: the peer covers the basecnn classification recipe only")
    data_dir = args.data or spec["data"]["path"]
    size, channels = tf["width"], tf["channels"]
    mean = np.array(tf["normalization"]["mean"] or [0.0] * channels, dtype=np.float32).reshape(1, channels, 1, 1)
    std = np.array(tf["normalization"]["std"] or [1.0] * channels, dtype=np.float32).reshape(1, channels, 1, 1)
    flip = tf["random_flip"]
    heads = [len(t["classes"]) for t in scheme["tasks"]]
    conv = spec["model"].get("conv_channels", [32, 32, 64, 64, 128, 128])
    dense = spec["model"].get("dense", [256, 128])
    act = activation(nn, spec["model"])

    sets = {"train": [], "val": [], "test": []}
    with open(os.path.join(args.run, "split.txt"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            which, name = line.rstrip("\n").split("\t", 1)
            sets[which].append(name)

    t0 = time.time()

    def load(names):
        xs, ys = [], []
        for n in names:
            y = utk_labels(n, scheme)
            if y is None:
                continue
            img = Image.open(os.path.join(data_dir, n)).convert("RGB" if channels == 3 else "L")
            img = img.resize((size, size), Image.BOX)
            a = np.asarray(img, dtype=np.uint8)
            xs.append(a.reshape(size, size, channels).transpose(2, 0, 1))
            ys.append(y)
        return np.stack(xs), np.array(ys, dtype=np.int64)

    data = {k: load(v) for k, v in sets.items()}
    decode_s = time.time() - t0
    print("decoded train %d, val %d, test %d faces in %.1f s" % (len(data["train"][0]), len(data["val"][0]),
                                                                 len(data["test"][0]), decode_s), flush=True)

    def tensor(x):
        return torch.from_numpy((x.astype(np.float32) / 255.0 - mean) / std)

    model = make_basecnn(nn, channels, size, conv, dense, heads, act, spec["model"].get("bn_eps", 1e-5),
                         spec["model"].get("bn_momentum", 0.1))
    opt = torch.optim.Adam(model.parameters(), lr=args.lr)
    ce = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(args.seed)
    age = next((i for i, t in enumerate(scheme["tasks"]) if t["name"] == "age"), -1)

    def evaluate(which):
        x, y = data[which]
        model.eval()
        correct, one_off = np.zeros(len(heads)), 0
        with torch.no_grad():
            for i in range(0, len(x), 256):
                outs = model(tensor(x[i:i + 256]))
                yy = torch.from_numpy(y[i:i + 256])
                for h, o in enumerate(outs):
                    p = o.argmax(1)
                    correct[h] += (p == yy[:, h]).sum().item()
                    if h == age:
                        one_off += ((p - yy[:, h]).abs() <= 1).sum().item()
        return correct / len(x), one_off / len(x)

    history, best, best_state = [], -1.0, None
    xtr, ytr = data["train"]
    t_train = time.time()
    for epoch in range(args.epochs):
        model.train()
        te = time.time()
        perm = torch.randperm(len(xtr), generator=gen).numpy()
        loss_sum, seen = 0.0, 0
        for i in range(0, len(perm), args.batch):
            idx = perm[i:i + args.batch]
            xb = xtr[idx]
            if flip:
                m = torch.rand(len(idx), generator=gen).numpy() < 0.5
                xb = xb.copy()
                xb[m] = xb[m][:, :, :, ::-1]
            outs = model(tensor(xb))
            yb = torch.from_numpy(ytr[idx])
            loss = sum(ce(o, yb[:, h]) for h, o in enumerate(outs))
            opt.zero_grad()
            loss.backward()
            opt.step()
            loss_sum += loss.item() * len(idx)
            seen += len(idx)
        secs = time.time() - te
        acc, oo = evaluate("val")
        rec = {"epoch": epoch + 1, "train_loss": loss_sum / seen, "seconds": secs, "images_per_s": seen / secs,
               "val": dict(zip([t["name"] for t in scheme["tasks"]], acc.tolist())), "val_age_one_off": oo}
        history.append(rec)
        print("epoch %d/%d %.0f img/s loss %.4f val %s one-off %.2f%%" % (
            epoch + 1, args.epochs, rec["images_per_s"], rec["train_loss"],
            " ".join("%s %.2f%%" % (k, 100 * v) for k, v in rec["val"].items()), 100 * oo), flush=True)
        if acc.mean() > best:
            best, best_epoch = acc.mean(), epoch + 1
            best_state = {k: v.clone() for k, v in model.state_dict().items()}
    train_s = time.time() - t_train
    model.load_state_dict(best_state)
    if args.save_safetensors:
        model.eval()
        save_safetensors(model, args.save_safetensors, cfg)
        print("wrote %s (facet import --from %s --model basecnn --out model.ckpt)" % (args.save_safetensors,
                                                                                     args.save_safetensors))
    acc, oo = evaluate("test")
    test = dict(zip([t["name"] for t in scheme["tasks"]], acc.tolist()))
    print("test (best epoch %d, %d faces): %s, age one-off %.2f%%; training %.1f s" % (
        best_epoch, len(data["test"][0]), " ".join("%s %.2f%%" % (k, 100 * v) for k, v in test.items()), 100 * oo,
        train_s), flush=True)
    out = {"run": args.run, "torch": torch.__version__, "threads": args.threads, "seed": args.seed,
           "machine": platform.processor() or platform.machine(), "cpus": os.cpu_count(), "epochs": args.epochs,
           "decode_seconds": decode_s, "train_seconds": train_s, "best_epoch": best_epoch, "test": test,
           "test_age_one_off": oo, "history": history}
    path = args.json or os.path.join(args.run, "torch_peer.json")
    with open(path, "w") as f:
        json.dump(out, f, indent=2)
    print("wrote " + path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
