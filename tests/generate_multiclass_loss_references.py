#!/work/venv-monai/bin/python
"""Multi-class loss and surface-distance reference data for MaskLens, from MONAI 1.4.0.

Writes tests/data/multiclass_losses/<case>/{pred.npy, target.npy, expected.json}:
per-sample and whole-batch values of DiceLoss, TverskyLoss, GeneralizedDiceLoss,
DiceCELoss, FocalLoss and torch cross entropy on float32 logits, and per
(sample, label) Hausdorff / HD95 / average surface distance / surface dice
(NSD) on blob-shaped segmentations.

Run it with a Python that has torch, numpy, scipy and monai==1.4.0, e.g. a venv
over Debian's interpreter (apt-get install python3-torch python3-numpy python3-scipy):

    /usr/bin/python3 -m venv --system-site-packages /work/venv-monai
    /work/venv-monai/bin/pip install --no-deps monai==1.4.0
    /work/venv-monai/bin/python tests/generate_multiclass_loss_references.py            # into the tree
    /work/venv-monai/bin/python tests/generate_multiclass_loss_references.py --out DIR  # elsewhere

Deterministic: fixed seeds, no timestamps; two runs give byte-identical files.

expected.json layout:
  {"case", "description",
   "pred": {"dtype", "shape"}, "target": {"dtype", "shape"},
   "runs": [{"flags": [MaskLens command-line flags],
             "monai": "the MONAI / PyTorch calls, in words",
             "metrics": {name: {"samples": [value per sample], "batch": value}},
             "labels": {name: {"labels": [class index per column],
                               "values": [[value per column] per sample]}}}]}
"labels" only appears in distance runs (whose "metrics" is {}).
NaN is written as null, +inf as the string "inf", -inf as "-inf"; finite values
are float64 at repr precision.

Precision: the stored arrays are float32; the losses are computed by MONAI on
the float32 values cast to float64 (.double() after reading), so they are
float64 references for MaskLens's float32-input results (MaskLens computes the
per-element terms in float32 and sums in double: compare with ~1e-5 relative
tolerance). Exceptions, where MONAI 1.4.0 does not allow float64:
  * FocalLoss.forward casts its input to float32 (input.float()); the values
    written are MONAI's own softmax_focal_loss() applied to float64 tensors and
    averaged as FocalLoss(reduction="mean") does, checked against the FocalLoss
    module's float32 output.
  * GeneralizedDiceLoss computes its class weights as w_func(ground_o.float()),
    i.e. 1/g^2 or 1/g rounded to float32 (the rest is float64): a ~1e-7
    relative effect, checked against a pure float64 re-implementation.
  * Hausdorff / surface distance / surface dice are computed by MONAI in float32
    (distances cast to float32, torch.quantile in float32); checked against a
    float64 scipy re-implementation to 1e-6 relative.

Semantics of "samples" / "batch":
  * losses that MONAI gives per (sample, class) with reduction="none"
    (DiceLoss, TverskyLoss): samples[b] = mean over classes (runs with
    --class-reduction mean) or sum (--class-reduction sum) of the [b, c] values;
    batch = the same loss with reduction="mean" (or "sum" with
    --batch-reduction sum) on the whole batch.
  * losses that give one value per sample or batch (GeneralizedDiceLoss,
    DiceCELoss, FocalLoss, cross entropy): samples[b] = the loss (reduction
    "mean") on the batch made of sample b alone (x[b:b+1]); batch = the loss
    (reduction "mean") on the whole batch.
"""

import math
import warnings

import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn.functional as F

from reference_cases import assert_unique_max, call, close, run_generator

import monai
from monai.data import set_track_meta
from monai.losses import DiceCELoss, DiceLoss, FocalLoss, GeneralizedDiceLoss, TverskyLoss
from monai.losses.focal_loss import softmax_focal_loss
from monai.metrics import (
    HausdorffDistanceMetric,
    SurfaceDiceMetric,
    SurfaceDistanceMetric,
    compute_average_surface_distance,
    compute_hausdorff_distance,
)
from monai.networks.utils import one_hot
from monai.transforms import Activations, AsDiscrete

assert monai.__version__ == "1.4.0", f"needs monai 1.4.0, found {monai.__version__}"
set_track_meta(False)  # plain torch tensors out of the transforms
# MONAI warns about empty classes (distances) and nothing else we rely on
warnings.filterwarnings("ignore", message=".*is all 0, this may result in nan/inf distance.*")

SMOOTH = 1e-5
SMOOTH_FLAGS = ["--smooth-nr", "1e-5", "--smooth-dr", "1e-5"]


# ---------------------------------------------------------------- helpers











def check_softmax_keeps_argmax(logits):
    sm = torch.softmax(torch.from_numpy(logits), dim=1).numpy()
    assert np.array_equal(np.argmax(sm, axis=1), np.argmax(logits, axis=1))


# ------------------------------------------------------------ loss runs

def per_class_run(cls, kw, x, y, metric, flags, target_words, class_red="mean", batch_red="mean"):
    """Loss given per (sample, class) by reduction='none'."""
    f = cls(**kw, reduction="none")(x, y)
    f = f.reshape(f.shape[0], f.shape[1])  # [B, C'] (DiceLoss keeps singleton spatial dims)
    assert f.dtype == torch.float64
    samples = f.mean(dim=1) if class_red == "mean" else f.sum(dim=1)
    batch = cls(**kw, reduction=batch_red)(x, y)
    assert batch.dtype == torch.float64
    close(batch, f.mean() if batch_red == "mean" else f.sum(), 1e-12, metric)
    words = (f"f = {call(cls.__name__, dict(kw, reduction='none'))}(pred.double(), {target_words}) "
             f"-> [B, C'] per (sample, class); samples[b] = f[b].{class_red}(); batch = "
             f"{call(cls.__name__, dict(kw, reduction=batch_red))}(pred.double(), {target_words})")
    return {"flags": flags, "monai": words,
            "metrics": {metric: {"samples": [float(v) for v in samples], "batch": float(batch)}}}


def per_sample_run(fn, x, y, metric, flags, words, equal_mean=True):
    """Loss with one value per batch: samples[b] = fn(x[b:b+1], y[b:b+1]), batch = fn(x, y)."""
    samples = [float(fn(x[b:b + 1], y[b:b + 1])) for b in range(x.shape[0])]
    batch = float(fn(x, y))
    if equal_mean:  # equal-size samples (not for batch=True, which pools first)
        close(batch, sum(samples) / len(samples), 1e-12, metric)
    words = (f"{words}; samples[b]: the same on pred[b:b+1], target[b:b+1]; "
             f"batch: on the whole batch")
    return {"flags": flags, "monai": words,
            "metrics": {metric: {"samples": samples, "batch": batch}}}


def np_dice_loss(p, t, ib):
    """float64 reference of DiceLoss per (sample, class); p, t: [B, C, ...]."""
    if not ib:
        p, t = p[:, 1:], t[:, 1:]
    ax = tuple(range(2, p.ndim))
    inter = (p * t).sum(ax)
    return 1.0 - (2.0 * inter + SMOOTH) / (p.sum(ax) + t.sum(ax) + SMOOTH)


def np_gdl(p, t, ib, w_type):
    """float64 reference of GeneralizedDiceLoss (batch=False) per sample."""
    if not ib:
        p, t = p[:, 1:], t[:, 1:]
    ax = tuple(range(2, p.ndim))
    inter = (p * t).sum(ax)
    g = t.sum(ax)
    den = g + p.sum(ax)
    with np.errstate(divide="ignore"):
        w = {"square": 1.0 / (g * g), "simple": 1.0 / g, "uniform": np.ones_like(g)}[w_type]
    inf = np.isinf(w)
    w[inf] = 0.0
    w = w + inf * w.max(axis=1, keepdims=True)  # an absent class gets the sample's largest weight
    return 1.0 - (2.0 * (inter * w).sum(1) + SMOOTH) / ((den * w).sum(1) + SMOOTH)


def loss_runs_labelmap(logits, target, c):
    """The runs of case softmax_labelmap_3d; target is a [B, 1, ...] label map."""
    x = torch.from_numpy(logits).double()
    y = torch.from_numpy(target).long()
    tw = "target.long()"
    p64 = torch.softmax(x, 1).numpy()
    t64 = one_hot(y, c, dtype=torch.float64).numpy()
    runs = []

    # a. DiceLoss, class mean / batch mean, with and without background
    for ib in (False, True):
        kw = dict(include_background=ib, to_onehot_y=True, softmax=True,
                  smooth_nr=SMOOTH, smooth_dr=SMOOTH)
        flags = ["--activation", "softmax", "--class-reduction", "mean"] + SMOOTH_FLAGS
        flags += ["--include-background"] if ib else []
        run = per_class_run(DiceLoss, kw, x, y, "dice_loss", flags, tw)
        ref = np_dice_loss(p64, t64, ib).mean(1)
        for got, want in zip(run["metrics"]["dice_loss"]["samples"], ref):
            close(got, want, 1e-12, "dice_loss numpy")
        runs.append(run)

    # b. DiceLoss, class sum / batch sum
    kw = dict(include_background=True, to_onehot_y=True, softmax=True,
              smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    flags = (["--activation", "softmax", "--class-reduction", "sum", "--batch-reduction", "sum"]
             + SMOOTH_FLAGS + ["--include-background"])
    runs.append(per_class_run(DiceLoss, kw, x, y, "dice_loss", flags, tw,
                              class_red="sum", batch_red="sum"))

    # b2. DiceLoss(batch=True) and GeneralizedDiceLoss(batch=True): the batch
    # value from sums over the whole batch per class (samples: each sample
    # alone, where batch=True changes nothing).
    for ib in (False, True):
        kw = dict(include_background=ib, to_onehot_y=True, softmax=True, batch=True,
                  smooth_nr=SMOOTH, smooth_dr=SMOOTH)
        flags = (["--activation", "softmax", "--class-reduction", "mean", "--pool-batch"]
                 + SMOOTH_FLAGS + (["--include-background"] if ib else []))
        words = f"{call('DiceLoss', kw)}(pred.double(), {tw}) (reduction='mean')"
        runs.append(per_sample_run(DiceLoss(**kw), x, y, "dice_loss", flags, words, equal_mean=False))
    kw = dict(include_background=False, to_onehot_y=True, softmax=True, batch=True, w_type="square",
              smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    flags = ["--activation", "softmax", "--gdl-weight", "square", "--pool-batch"] + SMOOTH_FLAGS
    words = f"{call('GeneralizedDiceLoss', kw)}(pred.double(), {tw}) (reduction='mean')"
    runs.append(per_sample_run(GeneralizedDiceLoss(**kw), x, y, "generalized_dice_loss", flags, words,
                               equal_mean=False))

    # c. TverskyLoss
    kw = dict(include_background=False, to_onehot_y=True, softmax=True, alpha=0.3, beta=0.7,
              smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    flags = ["--activation", "softmax", "--class-reduction", "mean", "--alpha", "0.3",
             "--beta", "0.7", "--tversky-smooth", "1e-5"]
    runs.append(per_class_run(TverskyLoss, kw, x, y, "tversky_loss", flags, tw))

    # d. GeneralizedDiceLoss
    for w_type, ib in (("square", False), ("simple", False), ("uniform", False), ("square", True)):
        kw = dict(include_background=ib, to_onehot_y=True, softmax=True, w_type=w_type,
                  smooth_nr=SMOOTH, smooth_dr=SMOOTH)
        gdl = GeneralizedDiceLoss(**kw)  # reduction="mean"
        none = GeneralizedDiceLoss(**kw, reduction="none")(x, y).reshape(-1)
        flags = ["--activation", "softmax", "--gdl-weight", w_type] + SMOOTH_FLAGS
        flags += ["--include-background"] if ib else []
        words = (f"{call('GeneralizedDiceLoss', kw)}(pred.double(), {tw}) (reduction='mean'; "
                 f"class weights w_func(ground_o.float()) in float32, an infinite weight (class "
                 f"absent from the sample's target) replaced by the sample's largest finite "
                 f"weight; samples equal reduction='none' per sample)")
        run = per_sample_run(gdl, x, y, "generalized_dice_loss", flags, words)
        ref = np_gdl(p64, t64, ib, w_type)
        for b, got in enumerate(run["metrics"]["generalized_dice_loss"]["samples"]):
            close(got, none[b], 1e-12, "gdl none")
            close(got, ref[b], 1e-6, "gdl numpy float64 weights")
        runs.append(run)

    # e. cross entropy on class indices
    idx = y[:, 0]
    words = "torch.nn.functional.cross_entropy(pred.double(), target[:, 0].long()) (reduction='mean')"
    runs.append(per_sample_run(lambda a, b: F.cross_entropy(a, b), x, idx, "ce",
                               ["--activation", "softmax"], words))

    # f. DiceCELoss
    kw = dict(include_background=False, to_onehot_y=True, softmax=True, lambda_dice=0.7,
              lambda_ce=0.3, smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    words = (f"{call('DiceCELoss', kw)}(pred.double(), {tw}) (reduction='mean'): "
             f"0.7 * DiceLoss(include_background=False) mean over (sample, class) + 0.3 * "
             f"cross_entropy over all C classes (include_background does not apply to CE)")
    flags = ["--activation", "softmax", "--lambda-dice", "0.7", "--lambda-ce", "0.3"] + SMOOTH_FLAGS
    run = per_sample_run(DiceCELoss(**kw), x, y, "dice_ce", flags, words)
    for b, got in enumerate(run["metrics"]["dice_ce"]["samples"]):
        want = (0.7 * np_dice_loss(p64[b:b + 1], t64[b:b + 1], False).mean()
                + 0.3 * float(F.cross_entropy(x[b:b + 1], idx[b:b + 1])))
        close(got, want, 1e-12, "dice_ce parts")
    runs.append(run)

    # g. FocalLoss (softmax); FocalLoss.forward casts to float32, so the float64 values come
    # from MONAI's softmax_focal_loss on float64 tensors, averaged as reduction="mean" does
    for gamma, alpha in ((2.0, None), (1.5, 0.25)):
        kw = dict(use_softmax=True, to_onehot_y=True, include_background=True, gamma=gamma)
        flags = ["--activation", "softmax", "--include-background"]
        if alpha is not None:
            kw["alpha"] = alpha
            flags += ["--gamma", "1.5", "--focal-alpha", "0.25"]
        module = FocalLoss(**kw)

        def focal64(a, b, gamma=gamma, alpha=alpha):
            t = one_hot(b, c, dtype=torch.float64)
            return softmax_focal_loss(a, t, gamma, alpha).mean()

        words = (f"{call('FocalLoss', kw)}(pred, {tw}) (reduction='mean'), in float64 as "
                 f"softmax_focal_loss(pred.double(), one_hot(target, {c}).double(), {gamma}, "
                 f"{alpha}).mean(): FL = -(1 - p_t)^gamma * log(p_t) at the target class of each "
                 f"voxel, 0 in the other channels, mean over B * C * voxels (all C channels, "
                 f"so the per-voxel sum is divided by C)")
        if alpha is not None:
            words += (f"; with use_softmax alpha is a per-class factor [1 - alpha] + [alpha] * "
                      f"(C - 1): {1 - alpha} on class 0 (background), {alpha} on classes 1..C-1, "
                      f"applied to the target-class term")
        run = per_sample_run(focal64, x, y, "focal_loss", flags, words)
        vals = run["metrics"]["focal_loss"]
        for b, got in enumerate(vals["samples"]):
            close(got, module(x[b:b + 1].float(), y[b:b + 1]), 1e-5, "focal float32 module")
        close(vals["batch"], module(x.float(), y), 1e-5, "focal float32 module")
        runs.append(run)
    return runs


# --------------------------------------------------------------- the cases

def case_softmax_labelmap_3d(rng):
    n, c, shape = 2, 4, (5, 6, 7)
    logits = (rng.standard_normal((n, c) + shape) * 3.0).astype(np.float32)
    assert_unique_max(logits)
    check_softmax_keeps_argmax(logits)
    noisy = logits.astype(np.float64) + rng.standard_normal(logits.shape) * 3.0
    target = np.argmax(noisy, axis=1)[:, None].astype(np.uint8)
    target[1][target[1] == 3] = 0  # class 3 absent from sample 1's target
    assert all(np.any(target[0] == k) for k in range(c))
    assert not np.any(target[1] == 3) and np.any(np.argmax(logits[1], axis=0) == 3)
    runs = loss_runs_labelmap(logits, target, c)
    desc = ("3D float32 logits (N=2, C=4, 5x6x7) vs uint8 label map [2,1,5,6,7]; every class in "
            "sample 0's target; class 3 absent from sample 1's target (but predicted)")
    return "softmax_labelmap_3d", desc, logits, target, runs


def case_softmax_onehot_2d(rng):
    n, c, shape = 3, 3, (12, 10)
    logits = (rng.standard_normal((n, c) + shape) * 3.0).astype(np.float32)
    assert_unique_max(logits)
    check_softmax_keeps_argmax(logits)
    lab = np.argmax(logits.astype(np.float64) + rng.standard_normal(logits.shape) * 3.0, axis=1)
    lab[2][lab[2] == 1] = 2  # sample 2: class 1 absent from the target
    target = np.stack([(lab == k) for k in range(c)], axis=1).astype(np.float32)
    assert np.all(target.sum(axis=1) == 1.0)

    x = torch.from_numpy(logits).double()
    y = torch.from_numpy(target).double()
    kw = dict(include_background=True, softmax=True, smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    flags = (["--activation", "softmax", "--class-reduction", "mean", "--include-background"]
             + SMOOTH_FLAGS)
    dice = per_class_run(DiceLoss, kw, x, y, "dice_loss", flags, "target.double()")
    ref = np_dice_loss(torch.softmax(x, 1).numpy(), target.astype(np.float64), True).mean(1)
    for got, want in zip(dice["metrics"]["dice_loss"]["samples"], ref):
        close(got, want, 1e-12, "dice_loss numpy")

    words = ("torch.nn.functional.cross_entropy(pred.double(), target.double()) with class-"
             "probability targets (reduction='mean': the per-pixel sum over classes of "
             "-target * log_softmax, averaged over B * pixels, not over B * C * pixels)")
    ce = per_sample_run(lambda a, b: F.cross_entropy(a, b), x, y, "ce",
                        ["--activation", "softmax"], words)
    close(ce["metrics"]["ce"]["batch"], F.cross_entropy(x, torch.from_numpy(lab)), 1e-12,
          "ce probabilities == ce indices for a one-hot target")
    desc = ("2D float32 logits (N=3, C=3, 12x10) vs float32 one-hot target (one 1 per pixel); "
            "sample 2: class 1 absent from the target")
    return "softmax_onehot_2d", desc, logits, target, [dice, ce]


def case_sigmoid_multilabel_2d(rng):
    n, c, shape = 2, 3, (12, 10)
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    target = np.zeros((n, c) + shape, dtype=np.uint8)
    for b, (cy, cx, r) in enumerate([(5.0, 4.0, 4.2), (6.5, 5.5, 3.6)]):
        d2 = (yy - cy) ** 2 + (xx - cx) ** 2
        target[b, 0] = d2 <= r * r                     # whole
        target[b, 1] = d2 <= (0.6 * r) ** 2            # core, inside whole
        if b == 0:
            target[b, 2] = (np.abs(yy - cy) <= 1) & (xx >= cx)  # a bar overlapping both
    assert not np.any(target[1, 2])  # sample 1: channel 2 empty
    logits = ((2.0 * target - 1.0) * 1.5 + rng.standard_normal(target.shape) * 1.5).astype(np.float32)

    x = torch.from_numpy(logits).double()
    y = torch.from_numpy(target).double()
    kw = dict(include_background=True, sigmoid=True, smooth_nr=SMOOTH, smooth_dr=SMOOTH)
    flags = (["--activation", "sigmoid", "--class-reduction", "mean", "--include-background"]
             + SMOOTH_FLAGS)
    run = per_class_run(DiceLoss, kw, x, y, "dice_loss", flags, "target.double()")
    ref = np_dice_loss(torch.sigmoid(x).numpy(), target.astype(np.float64), True).mean(1)
    for got, want in zip(run["metrics"]["dice_loss"]["samples"], ref):
        close(got, want, 1e-12, "dice_loss numpy")
    desc = ("2D float32 logits (N=2, C=3, 12x10) vs uint8 multi-label target with overlapping "
            "channels; sample 1: channel 2 empty in the target")
    return "sigmoid_multilabel_2d", desc, logits, target, [run]


# ------------------------------------------------------ distance metrics

def check_directed_direction():
    """MONAI's directed=True measures from y_pred's surface to y's: big square vs small one."""
    big = torch.zeros(1, 1, 20, 20)
    big[0, 0, 2:18, 2:18] = 1
    small = torch.zeros(1, 1, 20, 20)
    small[0, 0, 9:11, 9:11] = 1
    # from the big square's corner (2, 2) to the small square's nearest edge pixel (9, 9): 7*sqrt(2);
    # from any small-square pixel to the big square's outline: 7
    p2t = float(compute_hausdorff_distance(big, small, include_background=True, directed=True))
    t2p = float(compute_hausdorff_distance(small, big, include_background=True, directed=True))
    close(p2t, 7.0 * math.sqrt(2.0), 1e-6, "directed hd: y_pred -> y")
    close(t2p, 7.0, 1e-6, "directed hd swapped")
    sym = float(compute_hausdorff_distance(big, small, include_background=True))
    close(sym, 7.0 * math.sqrt(2.0), 1e-6, "symmetric hd")
    asd = float(compute_average_surface_distance(big, small, include_background=True))
    assert asd > 7.0  # mean over the big square's outline, all >= 7 away


def np_distances(p, t, tol):
    """float64 scipy reference for one binary (pred, target) pair, both non-empty."""
    def edges(m):
        return m ^ ndi.binary_erosion(m)  # outside the image counts as background

    ep, et = edges(p), edges(t)
    d_pt = ndi.distance_transform_edt(~et)[ep]  # pred surface -> target surface
    d_tp = ndi.distance_transform_edt(~ep)[et]
    both = np.concatenate([d_pt, d_tp])
    return {
        "hd": max(d_pt.max(), d_tp.max()),
        "hd95": max(np.percentile(d_pt, 95), np.percentile(d_tp, 95)),
        "hd_p2t": d_pt.max(), "hd95_p2t": np.percentile(d_pt, 95),
        "hd_t2p": d_tp.max(), "hd95_t2p": np.percentile(d_tp, 95),
        "assd": both.mean(), "asd_p2t": d_pt.mean(), "asd_t2p": d_tp.mean(),
        "nsd": float((both <= tol).sum()) / both.size,
    }


def blob_map(shape, blobs):
    """Label map from (label, kind, params) blobs drawn in order (later ones on top)."""
    yy, xx = np.mgrid[0:shape[0], 0:shape[1]]
    lab = np.zeros(shape, dtype=np.uint8)
    for label, kind, prm in blobs:
        if kind == "disc":
            cy, cx, r = prm
            m = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        else:
            y0, y1, x0, x1 = prm
            m = (yy >= y0) & (yy <= y1) & (xx >= x0) & (xx <= x1)
        lab[m] = label
    return lab


def case_distances_2d(rng):
    n, c, shape = 2, 3, (16, 14)
    target_blobs = [
        [(1, "disc", (5.0, 4.0, 3.0)), (2, "rect", (9, 13, 7, 11))],
        [(1, "rect", (3, 10, 2, 7))],                                   # class 2 absent
    ]
    pred_blobs = [
        [(1, "disc", (6.0, 5.0, 3.6)), (2, "rect", (8, 12, 8, 13)), (2, "disc", (14.0, 2.0, 1.5))],
        [(1, "rect", (4, 11, 3, 9)), (1, "disc", (1.0, 11.0, 1.2)), (2, "disc", (12.0, 10.0, 2.2))],
    ]
    target = np.stack([blob_map(shape, bl) for bl in target_blobs])[:, None]
    pred_lab = np.stack([blob_map(shape, bl) for bl in pred_blobs])
    onehot = np.stack([(pred_lab == k) for k in range(c)], axis=1).astype(np.float64)
    logits = (4.0 * onehot + rng.standard_normal(onehot.shape) * 0.6).astype(np.float32)
    assert_unique_max(logits)
    assert np.array_equal(np.argmax(logits, axis=1), pred_lab), "noise changed the prediction"
    check_softmax_keeps_argmax(logits)
    assert not np.any(target[1] == 2) and np.any(pred_lab[1] == 2)
    assert all(np.any(target[b] == k) and np.any(pred_lab[b] == k) for b in range(n) for k in (1,))
    assert np.any(target[0] == 2) and np.any(pred_lab[0] == 2)

    # MONAI post-processing, per sample channel-first (as in generate_multiclass_references.py)
    x = torch.from_numpy(logits)
    yp = torch.stack([torch.as_tensor(AsDiscrete(argmax=True, to_onehot=c)(
        Activations(softmax=True)(x[b]))) for b in range(n)]).float()
    t = torch.from_numpy(target)
    y = torch.stack([torch.as_tensor(AsDiscrete(to_onehot=c)(t[b])) for b in range(n)]).float()
    assert torch.equal(yp, torch.from_numpy(onehot).float())

    check_directed_direction()  # directed=True: from y_pred to y, hence the names *_p2t

    def agg(metric, a, b):
        metric(y_pred=a, y=b)
        out = metric.aggregate()
        assert out.shape == (n, c - 1), out.shape
        return out.double()

    hd_kw = dict(include_background=False, distance_metric="euclidean", reduction="none")
    specs = [  # name, constructor words, value, (y_pred, y) swapped?
        ("hd", call("HausdorffDistanceMetric", dict(hd_kw, percentile=None, directed=False)),
         agg(HausdorffDistanceMetric(**hd_kw, percentile=None, directed=False), yp, y)),
        ("hd95", call("HausdorffDistanceMetric", dict(hd_kw, percentile=95, directed=False)),
         agg(HausdorffDistanceMetric(**hd_kw, percentile=95, directed=False), yp, y)),
        ("hd_p2t", call("HausdorffDistanceMetric", dict(hd_kw, percentile=None, directed=True)),
         agg(HausdorffDistanceMetric(**hd_kw, percentile=None, directed=True), yp, y)),
        ("hd95_p2t", call("HausdorffDistanceMetric", dict(hd_kw, percentile=95, directed=True)),
         agg(HausdorffDistanceMetric(**hd_kw, percentile=95, directed=True), yp, y)),
        ("hd_t2p", call("HausdorffDistanceMetric", dict(hd_kw, percentile=None, directed=True))
         + " with y_pred and y swapped",
         agg(HausdorffDistanceMetric(**hd_kw, percentile=None, directed=True), y, yp)),
        ("hd95_t2p", call("HausdorffDistanceMetric", dict(hd_kw, percentile=95, directed=True))
         + " with y_pred and y swapped",
         agg(HausdorffDistanceMetric(**hd_kw, percentile=95, directed=True), y, yp)),
        ("assd", call("SurfaceDistanceMetric", dict(hd_kw, symmetric=True)),
         agg(SurfaceDistanceMetric(**hd_kw, symmetric=True), yp, y)),
        ("asd_p2t", call("SurfaceDistanceMetric", dict(hd_kw, symmetric=False)),
         agg(SurfaceDistanceMetric(**hd_kw, symmetric=False), yp, y)),
        ("asd_t2p", call("SurfaceDistanceMetric", dict(hd_kw, symmetric=False))
         + " with y_pred and y swapped",
         agg(SurfaceDistanceMetric(**hd_kw, symmetric=False), y, yp)),
        ("nsd", call("SurfaceDiceMetric", dict(class_thresholds=[1.0, 1.0], **hd_kw)),
         agg(SurfaceDiceMetric(class_thresholds=[1.0, 1.0], **hd_kw), yp, y)),
    ]
    values = {name: v for name, _, v in specs}

    # float64 scipy cross-check where both masks are non-empty; MONAI's conventions elsewhere
    for b in range(n):
        for j, k in enumerate((1, 2)):
            p, q = pred_lab[b] == k, target[b, 0] == k
            if p.any() and q.any():
                ref = np_distances(p, q, 1.0)
                for name, v in values.items():
                    close(v[b, j], ref[name], 1e-6, f"{name} scipy [{b},{k}]")
            else:
                assert p.any() and not q.any()  # sample 1, class 2 only
                for name, v in values.items():
                    want = {"hd95": math.nan, "hd95_p2t": math.nan, "hd95_t2p": math.nan,
                            "nsd": 0.0}.get(name, math.inf)
                    got = float(v[b, j])
                    assert (math.isnan(want) and math.isnan(got)) or got == want, (name, got)

    words = ("post-processing: pred per sample Activations(softmax=True) + AsDiscrete(argmax=True, "
             "to_onehot=3), target per sample AsDiscrete(to_onehot=3); spacing None (unity); "
             "each metric called as metric(y_pred=pred, y=target) then .aggregate() -> [B, 2] "
             "(labels 1, 2), unless swapped: " + "; ".join(f"{name}: {w}" for name, w, _ in specs)
             + ". directed=True measures from y_pred's surface to y's (checked: 20x20 square "
             "2..17 as y_pred vs 9..10 as y gives 7*sqrt(2), swapped gives 7). MONAI 1.4.0: HD "
             "symmetric = max of the two directed values (hd95: max of the two directional 95th "
             "percentiles, torch.quantile linear interpolation); assd = mean over the "
             "concatenated distances of both directions; nsd = (#pred-surface points within 1 of "
             "the target surface + #target-surface points within 1 of the pred surface) / "
             "(#pred + #target surface points). Target empty, pred not (sample 1, label 2): "
             "every distance is +inf in both directions, so hd, asd, assd = inf, hd95 = NaN "
             "(torch.quantile of +inf values), nsd = 0")
    run = {"flags": ["--activation", "softmax", "--nsd-tolerance", "1"], "monai": words,
           "metrics": {},
           "labels": {name: {"labels": [1, 2],
                             "values": [[float(v) for v in row] for row in val.numpy()]}
                      for name, _, val in specs}}
    desc = ("2D float32 logits (N=2, C=3, 16x14) = 4 * one-hot(prediction blobs) + noise, vs "
            "uint8 label-map target of discs/rectangles; predictions are shifted/resized blobs "
            "plus stray blobs; class 1 present in target and prediction of both samples; class 2 "
            "absent from sample 1's target but predicted there")
    return "distances_2d", desc, logits, target, [run]


CASES = [
    (case_softmax_labelmap_3d, 1101),
    (case_softmax_onehot_2d, 1202),
    (case_sigmoid_multilabel_2d, 1303),
    (case_distances_2d, 1404),
]


def main():
    run_generator(__doc__, CASES, "multiclass_losses")


if __name__ == "__main__":
    main()
