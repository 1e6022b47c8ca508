"""Shared by the export tests (tests/python/*.py, run by ctest with the venv's python; docs/export.md):
a scratch folder of generated UTKFace-named faces, and running the facet binary."""
import os
import subprocess
import sys

SKIP = 4  # ctest's SKIP_RETURN_CODE for these tests


def need(modules):
    """Imports the named modules or exits with SKIP, saying which is missing and how to get it."""
    for m in modules:
        try:
            __import__(m)
        except ImportError as e:
            print("SKIP: %s is not importable by %s (%s); scripts/install-deps.sh makes the venv .venv with "
                  "numpy, safetensors, onnx, onnxruntime (and Debian's python3-torch)" % (m, sys.executable, e))
            sys.exit(SKIP)


def run(facet, *args):
    """Runs `facet args...`; fails the test with its output when it exits non-zero."""
    r = subprocess.run([facet] + list(args), capture_output=True, text=True)
    if r.returncode != 0:
        raise AssertionError("facet %s exited %d:\n%s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r.stdout


def write_faces(folder, count=48, side=24):
    """`count` binary PPM faces named like UTKFace (age_gender_race_time.jpg.chip.jpg; the decoder reads the
    bytes, not the name), seeded: noise with a centred square whose brightness carries the age."""
    import numpy as np
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(1)
    ages = [1, 5, 15, 26, 40, 70, 3, 50]
    for i in range(count):
        age, gender = ages[i % len(ages)], i % 2
        img = rng.integers(0, 256, (side, side, 3), dtype=np.uint8)
        img[side // 4:3 * side // 4, side // 4:3 * side // 4, :] = 40 + 2 * age
        img[:, :, 0 if gender else 2] //= 2
        name = "%d_%d_%d_2017%04d.jpg.chip.jpg" % (age, gender, i % 5, i)
        with open(os.path.join(folder, name), "wb") as f:
            f.write(b"P6\n%d %d\n255\n" % (side, side) + img.tobytes())


# The four model kinds, as tiny `facet train` recipes (one epoch on the generated faces: well under a second).
TRAIN = {
    "basecnn": ["--labels", "intuition+gender", "--size", "16", "--conv-channels", "4,8", "--dense", "16"],
    "levihassner": ["--labels", "intuition+gender", "--size", "64"],
    "fcn2hot": ["--labels", "2hot", "--size", "16"],
    "tuple": ["--labels", "tuple", "--size", "16"],
}


def train(facet, work, kind, faces):
    run(facet, "train", "--model", kind, "--data", faces, "--out", os.path.join(work, "run_" + kind), "--epochs", "1",
        "--batch", "16", "--workers", "0", "--threads", "2", *TRAIN[kind])
    return os.path.join(work, "run_" + kind, "best.ckpt")
