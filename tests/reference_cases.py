"""What the multi-class reference generators share: the case folder layout
(pred.npy, target.npy, expected.json with strict JSON: NaN as null, +-inf as
"inf"/"-inf"), a few checks, and the command-line runner.

Used by tests/generate_multiclass_references.py and
tests/generate_multiclass_loss_references.py (run from any folder: Python puts
the script's own folder first on sys.path).
"""

import argparse
import json
import math
import pathlib
import shutil

import numpy as np
import torch


def clean(obj):
    """NaN -> None, +-inf -> "inf"/"-inf", numpy/torch scalars -> Python numbers."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, torch.Tensor):
        assert obj.numel() == 1
        obj = float(obj.item())
    if isinstance(obj, (np.floating, float)):
        v = float(obj) + 0.0  # -0.0 -> 0.0
        if math.isnan(v):
            return None
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(obj, (np.integer,)):
        return int(obj)
    return obj


def write_case(root, name, description, pred, target, runs):
    d = root / name
    d.mkdir(parents=True)
    np.save(d / "pred.npy", np.ascontiguousarray(pred))
    np.save(d / "target.npy", np.ascontiguousarray(target))
    body = {
        "case": name,
        "description": description,
        "pred": {"dtype": str(pred.dtype), "shape": list(pred.shape)},
        "target": {"dtype": str(target.dtype), "shape": list(target.shape)},
        "runs": runs,
    }
    text = json.dumps(clean(body), indent=1, allow_nan=False)
    (d / "expected.json").write_text(text + "\n")


def call(name, kw):
    """A constructor call as text, e.g. DiceLoss(softmax=True, reduction='none')."""
    return f"{name}(" + ", ".join(f"{k}={v!r}" for k, v in kw.items()) + ")"


def close(a, b, rel, what):
    a, b = float(a), float(b)
    assert abs(a - b) <= rel * max(abs(a), abs(b), 1e-300), (what, a, b)


def assert_unique_max(x, axis=1):
    """No exact ties along the class axis (so argmax is unambiguous)."""
    s = np.sort(x, axis=axis)
    assert np.all(np.take(s, -1, axis=axis) > np.take(s, -2, axis=axis)), "tie in argmax"


def run_generator(doc, cases, default_folder):
    """Writes every case (make(rng) -> name, description, pred, target, runs)
    into tests/data/<default_folder> or --out, replacing the folder whole."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    here = pathlib.Path(__file__).resolve().parent
    ap.add_argument("--out", type=pathlib.Path, default=here / "data" / default_folder,
                    help=f"output folder (default: tests/data/{default_folder}); replaced whole")
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)
    root = args.out
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for make, seed in cases:
        name, desc, pred, target, runs = make(np.random.default_rng(seed))
        write_case(root, name, desc, pred, target, runs)
        print(f"{name}: {len(runs)} run(s)")
