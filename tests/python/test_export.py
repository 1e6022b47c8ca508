#!/usr/bin/env python3
"""facet export/import against the reference Python packages (docs/export.md), for each model kind:

  ONNX:         onnx.checker.check_model(full_check) accepts the file (opset 17), and onnxruntime on the 64
                generated faces of `--check 64` gives facet's outputs within 1e-4, every argmax equal;
  safetensors:  the PyPI reader loads facet's file (PyTorch names, layouts, dtypes, __metadata__); the file
                re-written by the PyPI writer (its own layout) imports back into facet, and the re-import exports to
                the same tensors and gives bit-identical outputs.

    python tests/python/test_export.py --facet build/facet --tmp /tmp
Exit 0 pass, 1 fail, 4 skip (a package missing: run scripts/install-deps.sh).
"""
import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from export_util import need, run, train, write_faces  # noqa: E402

TOL = 1e-4


def check_onnx(facet, ckpt, work, kind):
    import numpy as np
    import onnx
    import onnxruntime as ort
    from safetensors.numpy import load_file
    path = os.path.join(work, kind + ".onnx")
    run(facet, "export", "--checkpoint", ckpt, "--format", "onnx", "--out", path, "--check", "64")
    model = onnx.load(path)
    onnx.checker.check_model(model, full_check=True)
    assert any(o.domain in ("", "ai.onnx") and o.version >= 17 for o in model.opset_import), model.opset_import
    meta = {p.key: p.value for p in model.metadata_props}
    assert meta["model_kind"] == kind and "transform" in meta and "scheme" in meta, meta.keys()
    ref = load_file(path + ".check.safetensors")
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(None, {"image": ref["image"]})
    assert ref["image"].shape[0] == 64
    for name, got in zip(names, outs):
        want = ref[name]
        diff = float(np.abs(got - want).max())
        print("  onnx %-12s head %-7s max |ort - facet| %.3g" % (kind, name, diff))
        assert got.shape == want.shape, (name, got.shape, want.shape)
        assert diff <= TOL, (kind, name, diff)
        assert (got.argmax(1) == want.argmax(1)).all(), (kind, name, "argmax differs")


def check_safetensors(facet, ckpt, work, kind):
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
    path = os.path.join(work, kind + ".safetensors")
    run(facet, "export", "--checkpoint", ckpt, "--out", path, "--check", "16")
    tensors = load_file(path)
    with safe_open(path, "np") as f:
        meta = f.metadata()
    assert meta["format"] == "pt" and meta["model_kind"] == kind and meta["facet_version"], meta
    for name, t in tensors.items():
        assert name.startswith(("trunk.", "heads.")), name
        if name.endswith("num_batches_tracked"):
            assert t.dtype == np.int64 and t.shape == (), (name, t.dtype, t.shape)
        else:
            assert t.dtype == np.float32, (name, t.dtype)
    if kind in ("basecnn", "levihassner"):
        assert tensors["trunk.0.weight"].ndim == 4  # conv OIHW
        assert tensors["heads.0.weight"].ndim == 2  # linear (out, in)
    if kind == "basecnn":
        assert {"trunk.1.running_mean", "trunk.1.running_var", "trunk.1.num_batches_tracked"} <= set(tensors)

    # The PyPI writer's own file (reversed insertion order, its layout) back into facet, and out again.
    again = os.path.join(work, kind + ".pypi.safetensors")
    save_file(dict(reversed(list(tensors.items()))), again, metadata=meta)
    ckpt2 = os.path.join(work, kind + ".imported.ckpt")
    run(facet, "import", "--from", again, "--model", kind, "--out", ckpt2)
    path2 = os.path.join(work, kind + ".reexport.safetensors")
    run(facet, "export", "--checkpoint", ckpt2, "--out", path2, "--check", "16")
    tensors2 = load_file(path2)
    assert set(tensors2) == set(tensors)
    for name in tensors:
        assert np.array_equal(tensors[name], tensors2[name]), name
    ref, ref2 = load_file(path + ".check.safetensors"), load_file(path2 + ".check.safetensors")
    for name in ref:
        assert np.array_equal(ref[name], ref2[name]), ("outputs after the round trip differ", kind, name)
    print("  safetensors %-12s %d tensors round-trip through the PyPI package, outputs identical" % (kind, len(tensors)))


def stressed(facet, ckpt, work, kind):
    """The checkpoint with batchnorm statistics far from their initial 0 and 1 and sharper weights (through the
    PyPI writer and `facet import`): a model one epoch from its random init is nearly uniform in its outputs, so
    a wrong epsilon, statistic or layout would move its probabilities by less than the tolerance."""
    import numpy as np
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file
    path = os.path.join(work, kind + ".orig.safetensors")
    run(facet, "export", "--checkpoint", ckpt, "--out", path)
    with safe_open(path, "np") as f:
        meta = f.metadata()
    rng = np.random.default_rng(7)
    t = load_file(path)
    for name, v in t.items():
        if name.endswith("running_var"):
            t[name] = rng.uniform(0.02, 3.0, v.shape).astype(np.float32)
        elif name.endswith("running_mean"):
            t[name] = rng.normal(0, 0.5, v.shape).astype(np.float32)
        elif v.dtype == np.float32:
            t[name] = (v * 2.0 + rng.normal(0, 0.05, v.shape)).astype(np.float32)
    save_file(t, path, metadata=meta)
    out = os.path.join(work, kind + ".stressed.ckpt")
    run(facet, "import", "--from", path, "--model", kind, "--out", out)
    return out


def check_bad_import(facet, work):
    """A truncated file and a forged header: `facet import` exits non-zero naming the file (and the tensor), and
    the checkpoint already at --out is left as it was."""
    import subprocess
    good = os.path.join(work, "basecnn.safetensors")
    out = os.path.join(work, "basecnn.imported.ckpt")
    before = open(out, "rb").read()
    data = open(good, "rb").read()
    n = int.from_bytes(data[:8], "little")
    header = data[8:8 + n].replace(b'"dtype":"F32","shape":[4,3,3,3]', b'"dtype":"F32","shape":[4,3,3,4]')
    assert header != data[8:8 + n]
    cases = {"truncated.safetensors": (data[:-10], "outside"),
             "forged.safetensors": (data[:8] + header + data[8 + n:], "trunk.0.weight")}
    for name, (content, words) in cases.items():
        path = os.path.join(work, name)
        open(path, "wb").write(content)
        r = subprocess.run([facet, "import", "--from", path, "--model", "basecnn", "--out", out],
                           capture_output=True, text=True)
        assert r.returncode != 0 and path in r.stderr and words in r.stderr, (name, r.returncode, r.stderr)
        assert open(out, "rb").read() == before, "a refused import changed " + out
        print("  bad input %-22s refused: %s" % (name, r.stderr.strip()[:150]))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--facet", required=True)
    p.add_argument("--tmp", default=None, help="folder to make the scratch folder in (default: the system's)")
    args = p.parse_args()
    need(["numpy", "safetensors", "onnx", "onnxruntime"])
    work = tempfile.mkdtemp(dir=args.tmp, prefix="facet-export-")
    faces = os.path.join(work, "faces")
    write_faces(faces)
    for kind in ("basecnn", "levihassner", "fcn2hot", "tuple"):
        ckpt = train(args.facet, work, kind, faces)
        check_onnx(args.facet, stressed(args.facet, ckpt, work, kind), work, kind)
        check_safetensors(args.facet, ckpt, work, kind)
    check_bad_import(args.facet, work)
    shutil.rmtree(work)
    print("test_export: 4 model kinds exported, checked and run: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
