#!/work/venv-monai/bin/python
"""Multi-class reference data for the MaskLens engine, computed with MONAI 1.4.0.

Writes tests/data/multiclass/<case>/{pred.npy, target.npy, expected.json}: for
each case, per (sample, label) dice, iou, precision, recall, specificity and the
confusion counts tp, fp, fn, tn, as MONAI 1.4.0 computes them after MONAI's own
post-processing transforms; plus bce_precision/, per-element binary cross
entropy of extreme float32 probabilities as torch computes it in float64.

Run it with a Python that has torch, numpy and monai==1.4.0, e.g. a venv over
Debian's interpreter (apt-get install python3-torch python3-numpy python3-scipy):

    /usr/bin/python3 -m venv --system-site-packages /work/venv-monai
    /work/venv-monai/bin/pip install --no-deps monai==1.4.0
    /work/venv-monai/bin/python tests/generate_multiclass_references.py            # into the tree
    /work/venv-monai/bin/python tests/generate_multiclass_references.py --out DIR  # elsewhere

Deterministic: fixed seeds, no timestamps; two runs give byte-identical files.

expected.json layout:
  {"case", "description",
   "pred": {"dtype", "shape"}, "target": {"dtype", "shape"},
   "runs": [{"flags": [MaskLens command-line flags],
             "monai": "the MONAI calls, in words",
             "labels": [class index of each column],
             "values": {metric: [[value per column] per sample]}}]}
NaN is written as null. MONAI semantics reproduced here (1.4.0):
  * DiceMetric / MeanIoU, reduction="none": a [B, C'] tensor, C' = C without
    channel 0 when include_background=False. ignore_empty=True: NaN where the
    target channel is empty; ignore_empty=False: 1 where target and prediction
    are both empty, 0 where only the target is.
  * ConfusionMatrixMetric(compute_sample=True, reduction="none").aggregate()
    returns one [B, C'] tensor per metric name (in the order given); NaN where
    the denominator is 0. get_confusion_matrix() always returns float32
    (.float()), so MONAI's ratios are float32; the values written here are the
    same MONAI function (compute_confusion_matrix_metric) applied to the
    confusion matrix cast to float64, checked against the float32 class output.
  * get_confusion_matrix() orders its last axis [tp, fp, tn, fn].
"""


import numpy as np
import torch
import torch.nn.functional as F

from reference_cases import assert_unique_max, run_generator

import monai
from monai.data import set_track_meta
from monai.metrics import (
    ConfusionMatrixMetric,
    DiceMetric,
    MeanIoU,
    compute_confusion_matrix_metric,
    get_confusion_matrix,
)
from monai.transforms import Activations, AsDiscrete

assert monai.__version__ == "1.4.0", f"needs monai 1.4.0, found {monai.__version__}"
set_track_meta(False)  # plain torch tensors out of the transforms

METRICS = ["dice", "iou", "precision", "recall", "specificity", "tp", "fp", "fn", "tn"]


# ---------------------------------------------------------------- helpers



def rows(t):
    """A [B, C] tensor as nested lists of float64 Python floats."""
    return [[float(v) for v in r] for r in t.detach().to(torch.float64).cpu().numpy()]




# ------------------------------------------------- MONAI post-processing

def post_pred(pred, mode, c):
    """Per sample, channel-first: the binarised one-hot prediction [B, C, ...] float64."""
    x = torch.from_numpy(np.ascontiguousarray(pred))
    out = []
    for b in range(x.shape[0]):
        s = x[b]
        if mode == "softmax":
            s = Activations(softmax=True)(s)
            s = AsDiscrete(argmax=True, to_onehot=c)(s)
        elif mode == "argmax":
            s = AsDiscrete(argmax=True, to_onehot=c)(s)
        elif mode == "sigmoid":
            s = Activations(sigmoid=True)(s)
            s = AsDiscrete(threshold=0.5)(s)
        elif mode == "labelmap":
            s = AsDiscrete(to_onehot=c)(s)
        else:
            raise ValueError(mode)
        out.append(torch.as_tensor(s).to(torch.float64))
    return torch.stack(out)


def post_target(target, mode, c):
    x = torch.from_numpy(np.ascontiguousarray(target))
    if mode == "labelmap":
        return torch.stack([torch.as_tensor(AsDiscrete(to_onehot=c)(x[b])).to(torch.float64)
                            for b in range(x.shape[0])])
    return x.to(torch.float64)  # one-hot / multi-label, used as given


PRED_WORDS = {
    "softmax": "Activations(softmax=True) + AsDiscrete(argmax=True, to_onehot={c})",
    "argmax": "AsDiscrete(argmax=True, to_onehot={c}) on the raw values",
    "sigmoid": "Activations(sigmoid=True) + AsDiscrete(threshold=0.5)",
    "labelmap": "AsDiscrete(to_onehot={c})",
}
TARGET_WORDS = {
    "labelmap": "AsDiscrete(to_onehot={c})",
    "onehot": "as given (one-hot)",
    "multilabel": "as given (multi-label 0/1 channels)",
}


def monai_run(yp, y, ib, ie, flags, pred_mode, target_mode, c):
    """One run: every metric per (sample, column) with MONAI 1.4.0."""
    dm = DiceMetric(include_background=ib, reduction="none", ignore_empty=ie)
    dm(y_pred=yp, y=y)
    dice = dm.aggregate()

    im = MeanIoU(include_background=ib, reduction="none", ignore_empty=ie)
    im(y_pred=yp, y=y)
    iou = im.aggregate()

    names = ["precision", "sensitivity", "specificity"]
    cm_metric = ConfusionMatrixMetric(include_background=ib, metric_name=names,
                                      compute_sample=True, reduction="none")
    cm_metric(y_pred=yp, y=y)
    f32 = cm_metric.aggregate()  # list, one [B, C'] float32 tensor per name

    cm = get_confusion_matrix(yp, y, include_background=ib)  # [B, C', 4]: tp, fp, tn, fn
    assert cm.dtype == torch.float32
    ratios = {}
    for name, got in zip(names, f32):
        ref = compute_confusion_matrix_metric(name, cm.to(torch.float64))
        assert got.shape == ref.shape == cm.shape[:2], (got.shape, ref.shape)
        assert torch.equal(torch.isnan(got), torch.isnan(ref))
        ok = ~torch.isnan(ref)
        assert torch.allclose(got[ok].double(), ref[ok], rtol=1e-6, atol=0), name
        ratios[name] = ref

    assert dice.shape == iou.shape == cm.shape[:2]
    first = 0 if ib else 1
    labels = list(range(first, c))
    assert len(labels) == cm.shape[1]
    values = {
        "dice": rows(dice), "iou": rows(iou),
        "precision": rows(ratios["precision"]), "recall": rows(ratios["sensitivity"]),
        "specificity": rows(ratios["specificity"]),
        "tp": rows(cm[..., 0]), "fp": rows(cm[..., 1]), "fn": rows(cm[..., 3]), "tn": rows(cm[..., 2]),
    }
    words = (f"DiceMetric(include_background={ib}, reduction='none', ignore_empty={ie}); "
             f"MeanIoU(include_background={ib}, reduction='none', ignore_empty={ie}); "
             f"ConfusionMatrixMetric(include_background={ib}, metric_name=['precision', 'sensitivity', "
             f"'specificity'], compute_sample=True, reduction='none') (values: "
             f"compute_confusion_matrix_metric on get_confusion_matrix(...).double()); "
             f"tp/fp/fn/tn: get_confusion_matrix(y_pred, y, include_background={ib}); "
             f"pred: {PRED_WORDS[pred_mode].format(c=c)} per sample; "
             f"target: {TARGET_WORDS[target_mode].format(c=c)}")
    return {"flags": flags, "monai": words, "labels": labels, "values": values}


def runs_for(pred, target, pred_mode, target_mode, c, base, ibs=(False, True), ies=(True, False)):
    yp = post_pred(pred, pred_mode, c)
    y = post_target(target, target_mode, c)
    assert yp.shape == y.shape, (yp.shape, y.shape)
    out = []
    for ib in ibs:
        for ie in ies:
            flags = list(base)
            if ib:
                flags.append("--include-background")
            flags += ["--ignore-empty-target"] if ie else ["--empty", "one"]
            out.append(monai_run(yp, y, ib, ie, flags, pred_mode, target_mode, c))
    return out, yp, y




# --------------------------------------------------------------- the cases

def case_softmax_labelmap_3d(rng):
    n, c, shape = 2, 4, (6, 8, 7)
    logits = (rng.standard_normal((n, c) + shape) * 3.0).astype(np.float32)
    logits[0, 2] = -30.0  # class 2 never predicted in sample 0
    assert_unique_max(logits)
    noisy = logits.astype(np.float64) + rng.standard_normal(logits.shape) * 3.0
    noisy[0, 2] = -1e9
    target = np.argmax(noisy, axis=1)[:, None].astype(np.uint8)
    target[0][target[0] == 2] = 1  # class 2 absent from sample 0 target (and prediction)
    target[1][target[1] == 3] = 0  # class 3 absent from sample 1 target
    am = np.argmax(logits, axis=1)
    assert not np.any(am[0] == 2) and not np.any(target[0] == 2)
    assert np.any(am[1] == 3) and not np.any(target[1] == 3)
    # softmax in float32 must keep the argmax of the logits
    sm = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    assert np.array_equal(np.argmax(sm, axis=1), am)
    runs, yp, y = runs_for(logits, target, "softmax", "labelmap", c, ["--activation", "softmax"])
    desc = ("3D softmax logits (N=2, C=4) vs uint8 label map; sample 0: class 2 absent from "
            "target and prediction; sample 1: class 3 absent from target but predicted")
    return "softmax_labelmap_3d", desc, logits, target, runs


def case_softmax_onehot_2d(rng):
    n, c, shape = 3, 3, (12, 10)
    logits = (rng.standard_normal((n, c) + shape) * 2.0).astype(np.float32)
    assert_unique_max(logits)
    lab = np.argmax(logits.astype(np.float64) + rng.standard_normal(logits.shape) * 2.0, axis=1)
    lab[2][lab[2] == 1] = 2  # sample 2: class 1 absent from the target
    target = np.zeros((n, c) + shape, dtype=np.float32)
    for k in range(c):
        target[:, k] = (lab == k)
    assert np.all(target.sum(axis=1) == 1.0)
    sm = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    assert np.array_equal(np.argmax(sm, axis=1), np.argmax(logits, axis=1))
    runs, _, _ = runs_for(logits, target, "softmax", "onehot", c, ["--activation", "softmax"])
    desc = ("2D softmax logits (N=3, C=3) vs float32 one-hot target (one 1 per pixel); "
            "sample 2: class 1 absent from the target")
    return "softmax_onehot_2d", desc, logits, target, runs


def case_argmax_raw_2d(rng):
    n, c, shape = 2, 3, (12, 10)
    z = rng.standard_normal((n, c) + shape) * 1.5
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    probs = probs.astype(np.float32)
    assert_unique_max(probs)
    target = np.argmax(np.log(probs.astype(np.float64)) + rng.standard_normal(probs.shape), axis=1)
    target = target[:, None].astype(np.int64)
    runs, _, _ = runs_for(probs, target, "argmax", "labelmap", c, ["--decision", "argmax"])
    desc = ("2D softmax-normalised probabilities (N=2, C=3, not logits), argmax with no "
            "activation, vs int64 label map")
    return "argmax_raw_2d", desc, probs, target, runs


def case_labelmaps_label0_3d(rng):
    n, c, shape = 2, 3, (6, 8, 7)
    target = rng.integers(0, c, size=(n, 1) + shape).astype(np.uint8)
    target[1][target[1] == 0] = 1  # sample 1: label 0 absent from the target
    pred = target.copy()
    flip = rng.random(pred.shape) < 0.3
    pred[flip] = rng.integers(0, c, size=int(flip.sum())).astype(np.uint8)
    assert np.any(pred[1] == 0) and not np.any(target[1] == 0)
    runs, _, _ = runs_for(pred, target, "labelmap", "labelmap", c, [])
    desc = ("3D uint8 label maps for both prediction and target (values 0..2, C=3); "
            "sample 1: label 0 absent from the target but predicted")
    return "labelmaps_label0_3d", desc, pred, target, runs


def case_sigmoid_multilabel_2d(rng):
    n, c, shape = 2, 3, (12, 10)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w]
    target = np.zeros((n, c) + shape, dtype=np.uint8)
    for b, (cy, cx) in enumerate([(5.5, 4.5), (6.0, 5.0)]):
        r2 = (yy - cy) ** 2 + (xx - cx) ** 2
        wt = r2 <= 16.0
        tc = r2 <= 7.0
        et = (r2 <= 7.0) & (r2 >= 2.0) if b == 0 else np.zeros_like(wt)  # sample 1: no ET
        target[b, 0], target[b, 1], target[b, 2] = tc, wt, et
    logits = ((2.0 * target - 1.0) * 1.2 + rng.standard_normal(target.shape) * 1.5).astype(np.float32)
    assert np.all(np.abs(logits) > 1e-3), "a logit too close to the 0.5 threshold"
    sig = torch.sigmoid(torch.from_numpy(logits)).numpy()
    assert np.array_equal(sig >= 0.5, logits > 0)
    assert np.any((sig[1, 2] >= 0.5))  # ET predicted in sample 1 although absent
    runs, _, _ = runs_for(logits, target, "sigmoid", "multilabel", c,
                          ["--activation", "sigmoid"], ibs=(True,))
    desc = ("2D sigmoid logits (N=2, C=3) vs uint8 multi-label target, overlapping channels "
            "TC/WT/ET (ET in TC in WT); sample 1: ET absent from the target but predicted")
    return "sigmoid_multilabel_2d", desc, logits, target, runs


def case_tie_argmax_2d(rng):
    del rng
    c = 3
    pred = np.zeros((1, c, 4, 4), dtype=np.float32)
    # unique maxima
    grid = [
        [(0.7, 0.2, 0.1), (0.1, 0.8, 0.1), (0.1, 0.2, 0.7), (0.0, 0.0, 0.0)],
        [(0.2, 0.4, 0.4), (0.5, 0.2, 0.5), (0.3, 0.3, 0.1), (0.6, 0.3, 0.1)],
        [(0.1, 0.3, 0.6), (0.25, 0.25, 0.25), (0.2, 0.6, 0.2), (0.05, 0.9, 0.05)],
        [(0.4, 0.1, 0.5), (0.1, 0.45, 0.45), (0.8, 0.1, 0.1), (0.2, 0.2, 0.6)],
    ]
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            pred[0, :, i, j] = v
    ties = [(0, 3), (1, 0), (1, 1), (1, 2), (2, 1), (3, 1)]
    first_max = {(0, 3): 0, (1, 0): 1, (1, 1): 0, (1, 2): 0, (2, 1): 0, (3, 1): 1}
    am = torch.argmax(torch.from_numpy(pred), dim=1)[0].numpy()
    for (i, j) in ties:
        col = pred[0, :, i, j]
        assert np.sum(col == col.max()) >= 2, (i, j)
        assert am[i, j] == first_max[(i, j)], "torch.argmax did not return the first maximal index"
        assert am[i, j] == int(np.argmax(col))
    target = np.array([[[0, 1, 2, 0],
                        [1, 2, 0, 0],
                        [2, 0, 1, 1],
                        [2, 1, 0, 2]]], dtype=np.uint8)[None]
    runs, yp, _ = runs_for(pred, target, "argmax", "labelmap", c, ["--decision", "argmax"],
                           ibs=(True,), ies=(False,))
    # the MONAI one-hot prediction follows torch.argmax's first-index rule at the ties
    for (i, j) in ties:
        assert yp[0, first_max[(i, j)], i, j] == 1.0
    desc = ("hand-made 4x4 (N=1, C=3) raw scores, argmax with exact ties (row, col): (0,3) "
            "0/0/0 -> 0, (1,0) 0.2/0.4/0.4 -> 1, (1,1) 0.5/0.2/0.5 -> 0, (1,2) 0.3/0.3/0.1 -> 0, "
            "(2,1) 0.25/0.25/0.25 -> 0, (3,1) 0.1/0.45/0.45 -> 1: torch.argmax returns the "
            "first maximal index (asserted), so a tie goes to the lowest tied class")
    return "tie_argmax_2d", desc, pred, target, runs


def case_bce_precision(rng):
    vals = [1e-45, 1e-40, 1e-38, 1e-6, 3e-7, 1e-3, 0.5, 1.0 - 1e-6, 0.999, 0.0, 1.0]
    special = np.array(vals, dtype=np.float32)
    assert special[0] > 0 and special[0] < np.finfo(np.float32).tiny  # 1e-45 is a float32 denormal
    n_el = 64
    p = np.empty(n_el, dtype=np.float32)
    t = np.empty(n_el, dtype=np.uint8)
    k = 0
    for v in special:  # each special value with t=0 and t=1
        for tv in (0, 1):
            p[k], t[k] = v, tv
            k += 1
    p[k:] = rng.uniform(0.0, 1.0, n_el - k).astype(np.float32)
    t[k:] = (rng.random(n_el - k) < 0.5).astype(np.uint8)
    pred = p.reshape(1, 1, 4, 16)
    target = t.reshape(1, 1, 4, 16)

    pd = torch.from_numpy(pred.astype(np.float64))
    td = torch.from_numpy(target.astype(np.float64))
    elems = F.binary_cross_entropy(pd, td, reduction="none").numpy()
    mean = float(F.binary_cross_entropy(pd, td))

    p64, t64 = pred.astype(np.float64), target.astype(np.float64)
    with np.errstate(divide="ignore"):
        lp = np.maximum(np.log(p64), -100.0)
        lq = np.maximum(np.log1p(-p64), -100.0)
    ref = -(t64 * lp + (1.0 - t64) * lq)
    # torch 1.13's CPU kernel takes log(1 - p), not log1p(-p): where 1 - p rounds to 1 in
    # float64 (p < 2^-53: the 1e-45, 1e-40, 1e-38 elements with t=0) torch gives 0 and the
    # log1p formula gives ~p; everywhere else they agree to 1e-12 relative.
    tiny = (p64 < 2.0 ** -53) & (t64 == 0)
    rel = np.abs(elems - ref) / np.maximum(np.abs(ref), 1e-300)
    assert np.all(rel[~tiny] <= 1e-12), rel[~tiny].max()
    assert np.all(np.abs(elems - ref)[tiny] <= 1e-37)
    assert abs(mean - ref.mean()) <= 1e-12 * abs(ref.mean())
    assert abs(mean - elems.mean()) <= 1e-12 * abs(mean)

    runs = [{
        "flags": ["--metrics", "bce"],
        "torch": ("torch.nn.functional.binary_cross_entropy(p.double(), t.double()) on the stored "
                  "float32 values (log clamped at -100); elements: reduction='none'"),
        "values": {"bce": [[mean]]},
        "slices": {"bce": [mean]},
        "elements": {"bce": [float(v) for v in elems.reshape(-1)]},
    }]
    desc = ("float32 probabilities [1,1,4,16] with 1e-45 (denormal), 1e-40, 1e-38, 1e-6, 3e-7, "
            "1e-3, 0.5, 1-1e-6, 0.999, 0, 1 each at t=0 and t=1 (first 22 elements, C order), "
            "then random; bce in float64; elements in C order. torch uses log(1-p): for "
            "p < 2^-53 with t=0 it gives 0 where log1p(-p) gives ~p")
    return "bce_precision", desc, pred, target, runs


CASES = [
    (case_softmax_labelmap_3d, 101),
    (case_softmax_onehot_2d, 202),
    (case_argmax_raw_2d, 303),
    (case_labelmaps_label0_3d, 404),
    (case_sigmoid_multilabel_2d, 505),
    (case_tie_argmax_2d, 606),
    (case_bce_precision, 707),
]


def main():
    run_generator(__doc__, CASES, "multiclass")


if __name__ == "__main__":
    main()
