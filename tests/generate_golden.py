#!/usr/bin/python3
"""Golden reference data for the MaskLens engine, computed with PyTorch.

Writes
  tests/data/seed/seed_{2d,3d,prob}_{pred,target}.npy   the seed notebook's examples
  tests/data/golden/<case>/pred.npy, target.npy, expected.json

Every value is computed in float64 from the stored arrays with torch; the
elementwise losses (bce, mse, mae) are additionally checked against torch's own
functions on the original dtype, and dice_loss against the seed's DiceLoss.
Deterministic: fixed seeds, no timestamps. Run with Debian's interpreter:

    /usr/bin/python3 tests/generate_golden.py            # writes into the tree
    /usr/bin/python3 tests/generate_golden.py --out DIR  # writes elsewhere

expected.json layout:
  {"case", "description", "pairing", "pred": {dtype, shape}, "target": {...},
   "options": {threshold, logits, smooth, alpha, beta, gamma, focal_alpha,
               empty, axis, metrics},
   "batch": {metric: value}, "batch_valid": {metric: count},
   "samples": [{"index", "values", "slices": [{"index", "values"}],
                "labels": [{"label", "values", "slices": [...]}]}],
   "labels": [{"label", "values", "valid"}]}
NaN and infinities are written as null.
"""

import argparse
import json
import math
import pathlib
import shutil

import numpy as np
import scipy.ndimage as ndi
import torch
import torch.nn as nn
import torch.nn.functional as F

ALL_METRICS = [
    "bce", "mse", "mae", "focal_loss", "dice_loss", "iou_loss", "tversky_loss",
    "dice", "iou", "precision", "recall", "specificity", "tp", "fp", "fn", "tn",
]
ELEMENTWISE = {"bce", "mse", "mae", "focal_loss"}
COUNTS = {"tp", "fp", "fn", "tn"}
# Metrics reported per label: for label maps the region metrics (not the
# elementwise losses, which need real probabilities); for channel predictions
# every metric (channel l's probabilities against target == l).
LABEL_MAP_METRICS = ["dice_loss", "iou_loss", "tversky_loss", "dice", "iou", "precision",
                     "recall", "specificity", "tp", "fp", "fn", "tn"]
TVERSKY_SMOOTH = 1e-5

DEFAULT_OPTIONS = {
    "threshold": 0.5,
    "logits": False,
    "smooth": 1e-6,
    "alpha": 0.5,        # tversky: weight of false positives
    "beta": 0.5,         # tversky: weight of false negatives
    "gamma": 2.0,        # focal
    "focal_alpha": None,
    "empty": "nan",
    "axis": "d",
    "metrics": ALL_METRICS,
}

# ---------------------------------------------------------------------------
# The seed notebook's examples.

SEED_2D_PRED = [[[[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]],
                [[[0, 1, 1, 0], [1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]]]]
SEED_2D_TARGET = [[[[0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 1, 0]]],
                  [[[1, 1, 1, 0], [1, 0, 0, 1], [0, 1, 0, 0], [1, 1, 0, 0]]]]
SEED_3D_PRED = [[[[[0, 1, 1], [1, 0, 0], [0, 1, 0]],
                  [[1, 1, 0], [0, 1, 0], [1, 0, 1]]]]]
SEED_3D_TARGET = [[[[[0, 1, 1], [1, 0, 0], [0, 1, 0]],
                    [[1, 1, 0], [1, 1, 0], [1, 0, 1]]]]]
SEED_PROB_PRED = [[[[0.1, 0.9, 0.8, 0.3]]]]
SEED_PROB_TARGET = [[[[0, 1, 1, 1]]]]


def seed_arrays():
    f32 = np.float32
    return {
        "seed_2d": (np.array(SEED_2D_PRED, f32), np.array(SEED_2D_TARGET, f32)),
        "seed_3d": (np.array(SEED_3D_PRED, f32), np.array(SEED_3D_TARGET, f32)),
        "seed_prob": (np.array(SEED_PROB_PRED, f32), np.array(SEED_PROB_TARGET, f32)),
    }


class SeedDiceLoss(nn.Module):
    """The seed notebook's DiceLoss (reference for the dice_loss batch value)."""

    def __init__(self, smooth=1e-6):
        super().__init__()
        self.smooth = smooth

    def forward(self, preds, targets):
        num = preds.size(0)
        preds = preds.contiguous().view(num, -1)
        targets = targets.contiguous().view(num, -1)
        intersection = (preds * targets).sum(dim=1)
        dice = (2.0 * intersection + self.smooth) / (preds.sum(dim=1) + targets.sum(dim=1) + self.smooth)
        return (1 - dice).mean()


# ---------------------------------------------------------------------------
# Metric definitions, in float64.

def as_continuous(a):
    """float64 tensor of an array: floats as they are, integers as (v != 0)."""
    if np.issubdtype(a.dtype, np.floating):
        return torch.from_numpy(a.astype(np.float64))
    return torch.from_numpy((a != 0).astype(np.float64))


def ratio(num, den, empty):
    if den == 0:
        return {"nan": math.nan, "zero": 0.0, "one": 1.0}[empty]
    return num / den


def region_values(metrics, opts, p, t, P, T, x=None):
    """Values of `metrics` over one region.

    p, t: float64 tensors (probabilities, continuous target); P, T: bool
    tensors (hard prediction and target); x: logits (when opts["logits"]).
    """
    p = p.reshape(-1)
    t = t.reshape(-1)
    P = P.reshape(-1)
    T = T.reshape(-1)
    out = {}
    n = p.numel()
    need_elem = any(m in ELEMENTWISE for m in metrics)
    if need_elem:
        if opts["logits"]:
            bce_elem = F.binary_cross_entropy_with_logits(x.reshape(-1), t, reduction="none")
        else:
            bce_elem = F.binary_cross_entropy(p, t, reduction="none")
        p_t = p * t + (1 - p) * (1 - t)
        focal_elem = bce_elem * (1 - p_t) ** opts["gamma"]
        if opts["focal_alpha"] is not None:
            a = opts["focal_alpha"]
            focal_elem = focal_elem * (a * t + (1 - a) * (1 - t))
    s = opts["smooth"]
    sp = p.sum().item()
    st = t.sum().item()
    spt = (p * t).sum().item()
    tp = int((P & T).sum().item())
    fp = int((P & ~T).sum().item())
    fn = int((~P & T).sum().item())
    tn = int((~P & ~T).sum().item())
    assert tp + fp + fn + tn == n
    empty = opts["empty"]
    for m in metrics:
        if m == "bce":
            v = bce_elem.mean().item()
        elif m == "mse":
            v = ((p - t) ** 2).mean().item()
        elif m == "mae":
            v = (p - t).abs().mean().item()
        elif m == "focal_loss":
            v = focal_elem.mean().item()
        elif m == "dice_loss":
            v = 1 - (2 * spt + s) / (sp + st + s)
        elif m == "iou_loss":
            v = 1 - (spt + s) / (sp + st - spt + s)
        elif m == "tversky_loss":
            fp_soft = (p * (1 - t)).sum().item()
            fn_soft = ((1 - p) * t).sum().item()
            assert math.isclose(fp_soft, sp - spt, rel_tol=1e-9, abs_tol=1e-9)
            assert math.isclose(fn_soft, st - spt, rel_tol=1e-9, abs_tol=1e-9)
            v = 1 - (spt + TVERSKY_SMOOTH) / (
                spt + opts["alpha"] * fp_soft + opts["beta"] * fn_soft + TVERSKY_SMOOTH)
        elif m == "dice":
            v = ratio(2 * tp, 2 * tp + fp + fn, empty)
        elif m == "iou":
            v = ratio(tp, tp + fp + fn, empty)
        elif m == "precision":
            v = ratio(tp, tp + fp, empty)
        elif m == "recall":
            v = ratio(tp, tp + fn, empty)
        elif m == "specificity":
            v = ratio(tn, tn + fp, empty)
        elif m == "tp":
            v = tp
        elif m == "fp":
            v = fp
        elif m == "fn":
            v = fn
        elif m == "tn":
            v = tn
        else:
            raise ValueError(m)
        out[m] = v
    return out


def slice_views(sample, axis):
    """Slices of one sample [C, D, H, W] along axis d/h/w (channels pooled)."""
    dim = {"d": 1, "h": 2, "w": 3}[axis]
    return [sample.select(dim, s) for s in range(sample.shape[dim])]


def batch_aggregate(metrics, sample_values):
    """Means over samples skipping NaN (counts: sums); valid counts."""
    values, valid = {}, {}
    for m in metrics:
        col = [sv[m] for sv in sample_values]
        if m in COUNTS:
            values[m] = int(sum(col))
            valid[m] = len(col)
        else:
            ok = [v for v in col if not math.isnan(v)]
            values[m] = sum(ok) / len(ok) if ok else math.nan
            valid[m] = len(ok)
    return values, valid


# ---------------------------------------------------------------------------
# Evaluation of one case.

def to5d(t):
    return t.unsqueeze(2) if t.dim() == 4 else t


def evaluate(pred, target, opts, pairing):
    """Returns the expected.json body (without case/description)."""
    metrics = opts["metrics"]
    thr = opts["threshold"]
    x = None
    if pairing == "binary":
        assert pred.shape == target.shape
        pv = as_continuous(pred)
        if opts["logits"]:
            x = pv
            pv = torch.sigmoid(x)
        tv = as_continuous(target)
    elif pairing == "label_maps":
        assert not opts["logits"]
        pv = as_continuous(pred)
        tv = as_continuous(target)
    elif pairing == "channel_one_hot":
        assert target.shape[1] == 1 and target.shape[0] == pred.shape[0]
        assert target.shape[2:] == pred.shape[2:]
        pv = torch.from_numpy(pred.astype(np.float64))
        if opts["logits"]:
            x = pv
            pv = torch.sigmoid(x)
        c = pred.shape[1]
        lab = torch.from_numpy(target.astype(np.int64))[:, 0]
        tv = F.one_hot(lab, c).movedim(-1, 1).to(torch.float64)
    else:
        raise ValueError(pairing)
    PV = pv >= thr
    TV = tv > 0.5

    pv5, tv5, PV5, TV5 = to5d(pv), to5d(tv), to5d(PV), to5d(TV)
    x5 = to5d(x) if x is not None else None
    n = pv5.shape[0]

    # Labels.
    labels = []
    if pairing == "label_maps":
        lp = to5d(torch.from_numpy(pred.astype(np.int64)))
        lt = to5d(torch.from_numpy(target.astype(np.int64)))
        present = sorted(set(torch.unique(lp).tolist()) | set(torch.unique(lt).tolist()))
        labels = [l for l in present if l >= 1]

        def label_tensors(l):
            P = lp == l
            T = lt == l
            return P.to(torch.float64), T.to(torch.float64), P, T
    elif pairing == "channel_one_hot":
        lt = to5d(torch.from_numpy(target.astype(np.int64)))
        labels = list(range(1, pred.shape[1]))

        def label_tensors(l):
            p = pv5[:, l:l + 1]
            T = lt == l
            return p, T.to(torch.float64), p >= thr, T
    elif pred.ndim >= 4 and pred.shape[1] > 1:
        # Several binary channels (multi-label): channel l is label l, its
        # own probabilities against its own target (channel 0 is MONAI's
        # background, reported with --include-background only).
        labels = list(range(1, pred.shape[1]))

        def label_tensors(l):
            return pv5[:, l:l + 1], tv5[:, l:l + 1], PV5[:, l:l + 1], TV5[:, l:l + 1]
    if pairing == "label_maps":
        label_metrics = [m for m in metrics if m in LABEL_MAP_METRICS]
    else:
        label_metrics = list(metrics)

    samples = []
    sample_vals = []
    label_sample_vals = {l: [] for l in labels}
    for i in range(n):
        args = (pv5[i], tv5[i], PV5[i], TV5[i], x5[i] if x5 is not None else None)
        values = region_values(metrics, opts, *args)
        sample_vals.append(values)
        slices = []
        views = [slice_views(a, opts["axis"]) if a is not None else None for a in args]
        for s in range(len(views[0])):
            sv = region_values(metrics, opts, *(v[s] if v is not None else None for v in views))
            slices.append({"index": s, "values": sv})
        label_entries = []
        for l in labels:
            lts = [a[i] for a in label_tensors(l)]
            lv = region_values(label_metrics, opts, *lts)
            label_sample_vals[l].append(lv)
            lviews = [slice_views(a, opts["axis"]) for a in lts]
            lslices = [{"index": s, "values": region_values(label_metrics, opts, *(v[s] for v in lviews))}
                       for s in range(len(lviews[0]))]
            label_entries.append({"label": l, "values": lv, "slices": lslices})
        samples.append({"index": i, "values": values, "slices": slices, "labels": label_entries})

    batch, batch_valid = batch_aggregate(metrics, sample_vals)
    whole = region_values([m for m in metrics if m in ELEMENTWISE], opts, pv5, tv5, PV5, TV5, x5)
    for m, v in whole.items():
        batch[m] = v  # mean over all elements of the batch
    top_labels = []
    for l in labels:
        lv, lvalid = batch_aggregate(label_metrics, label_sample_vals[l])
        top_labels.append({"label": l, "values": lv, "valid": lvalid})

    check_against_torch(pred, target, opts, pairing, metrics, batch, sample_vals, pv5, tv5, n)
    return {"batch": batch, "batch_valid": batch_valid, "samples": samples, "labels": top_labels}


def check_against_torch(pred, target, opts, pairing, metrics, batch, sample_vals, pv5, tv5, n):
    """Cross-checks against torch's own functions on the original dtype."""
    if pairing == "label_maps":
        ref_p = torch.from_numpy((pred != 0).astype(np.float32))
        ref_t = torch.from_numpy((target != 0).astype(np.float32))
    else:
        ref_p = torch.from_numpy(pred)
        if pairing == "channel_one_hot":
            lab = torch.from_numpy(target.astype(np.int64))[:, 0]
            ref_t = F.one_hot(lab, pred.shape[1]).movedim(-1, 1).to(ref_p.dtype)
        else:
            ref_t = torch.from_numpy(target.astype(np.float64) if not np.issubdtype(target.dtype, np.floating)
                                     else target)
            if not np.issubdtype(target.dtype, np.floating):
                ref_t = (ref_t != 0).to(ref_p.dtype)
            ref_t = ref_t.to(ref_p.dtype)
    tol = 1e-12 if ref_p.dtype == torch.float64 else 2e-6
    if opts["logits"]:
        x = ref_p
        ref_p = torch.sigmoid(x)
    # Continuous metrics on the original dtype.
    for m in metrics:
        if m == "bce":
            r = (F.binary_cross_entropy_with_logits(x, ref_t) if opts["logits"]
                 else F.binary_cross_entropy(ref_p, ref_t)).item()
        elif m == "mse":
            r = F.mse_loss(ref_p, ref_t).item()
        elif m == "mae":
            r = F.l1_loss(ref_p, ref_t).item()
        elif m == "focal_loss":
            # torchvision's sigmoid_focal_loss, written out (on probabilities
            # or on logits), in the original dtype.
            ce = (F.binary_cross_entropy_with_logits(x, ref_t, reduction="none") if opts["logits"]
                  else F.binary_cross_entropy(ref_p, ref_t, reduction="none"))
            p_t = ref_p * ref_t + (1 - ref_p) * (1 - ref_t)
            loss = ce * ((1 - p_t) ** opts["gamma"])
            if opts["focal_alpha"] is not None:
                a = opts["focal_alpha"]
                loss = (a * ref_t + (1 - a) * (1 - ref_t)) * loss
            r = loss.mean().item()
        else:
            continue
        v = batch[m]
        assert math.isclose(v, r, rel_tol=tol, abs_tol=tol * 10), (m, v, r)
    # dice_loss against the seed's DiceLoss (float64 and original dtype).
    if "dice_loss" in metrics:
        seed64 = SeedDiceLoss(opts["smooth"])(pv5, tv5).item()
        assert math.isclose(seed64, batch["dice_loss"], rel_tol=1e-12, abs_tol=1e-15), (seed64, batch["dice_loss"])
        seed_orig = SeedDiceLoss(opts["smooth"])(ref_p, ref_t).item()
        assert math.isclose(seed_orig, batch["dice_loss"], rel_tol=1e-5, abs_tol=1e-6)
    # Hard counts by an independent numpy path.
    P = (pv5.numpy() >= opts["threshold"])
    T = (tv5.numpy() > 0.5)
    for i in range(n):
        sv = sample_vals[i]
        if "tp" in sv:
            assert sv["tp"] == int(np.count_nonzero(P[i] & T[i]))
        if "tn" in sv:
            assert sv["tn"] == int(np.count_nonzero(~P[i] & ~T[i]))


# ---------------------------------------------------------------------------
# Deterministic data.

def blob_mask(rng, shape, sigma=1.5, frac=0.4):
    """Smooth random binary mask of `shape` (the last dims are spatial)."""
    noise = rng.standard_normal(shape)
    sig = [0] * (len(shape) - 2) + [sigma] * 2 if len(shape) >= 2 else sigma
    smooth = ndi.gaussian_filter(noise, sigma=sig, mode="wrap")
    # Threshold each sample at its own quantile, so no sample is accidentally empty.
    flat = smooth.reshape(shape[0], -1)
    cut = np.quantile(flat, 1 - frac, axis=1)
    return (flat > cut[:, None]).reshape(shape)


def probs_for(rng, mask, strength=2.5, noise=1.5, threshold=0.5):
    """float32 probabilities correlated with mask, kept away from threshold."""
    logit = strength * (2 * mask.astype(np.float64) - 1) + noise * rng.standard_normal(mask.shape)
    p = (1 / (1 + np.exp(-logit))).astype(np.float32)
    return away_from(p, threshold)


def away_from(p, threshold, margin=1e-3):
    p = p.copy()
    near = np.abs(p.astype(np.float64) - threshold) < margin
    p[near] = np.where(p[near] >= threshold, threshold + 2 * margin, threshold - 2 * margin).astype(p.dtype)
    return p


def case_list():
    cases = []

    def add(name, description, pred, target, pairing="binary", **opt):
        opts = dict(DEFAULT_OPTIONS)
        opts.update(opt)
        cases.append((name, description, pred, target, pairing, opts))

    seeds = seed_arrays()
    add("seed_2d", "The seed notebook's 2D example [2,1,4,4] (DiceLoss = 0.0625); wrong binary "
        "predictions cost exactly 100 in bce (log clamp).", *seeds["seed_2d"])
    add("seed_3d", "The seed notebook's 3D example [1,1,2,3,3] (DiceLoss ~ 0.0526).", *seeds["seed_3d"])
    add("seed_prob", "The seed's probability example [0.1,0.9,0.8,0.3] vs [0,1,1,1] as [1,1,1,4].",
        *seeds["seed_prob"])

    rng = np.random.default_rng(1001)
    t = blob_mask(rng, (4, 1, 16, 16))
    add("binary_2d", "2D [4,1,16,16] float32 probabilities vs float32 binary target.",
        probs_for(rng, t), t.astype(np.float32))

    rng = np.random.default_rng(1002)
    t = blob_mask(rng, (3, 2, 8, 12))
    add("multichannel_2d", "2D [3,2,8,12] (C=2), same-shape target; channels pooled per sample, "
        "channel 1 also as label 1.",
        probs_for(rng, t), t.astype(np.float32))

    rng = np.random.default_rng(1003)
    t = blob_mask(rng, (2, 1, 5, 7, 6), frac=0.35)
    t[1, 0, 0] = False  # an empty target slice
    p = probs_for(rng, t)
    p[1, 0, 0] = np.float32(0.05)  # and nothing predicted there: hard dice NaN for slice 0
    add("binary_3d", "3D [2,1,5,7,6]; sample 1 slice 0 empty in both (NaN slice dice).", p, t.astype(np.float32))

    rng = np.random.default_rng(1004)
    t = blob_mask(rng, (1, 3, 4, 5, 6))
    add("multichannel_3d", "3D [1,3,4,5,6] (C=3); slices along D pool the channels; channels 1 and 2 "
        "also as labels.",
        probs_for(rng, t), t.astype(np.float32))

    rng = np.random.default_rng(1005)
    t = blob_mask(rng, (2, 1, 10, 9))
    p = probs_for(rng, t).astype(np.float64)
    p = np.clip(p + rng.uniform(-1e-4, 1e-4, p.shape), 1e-6, 1 - 1e-6)  # full float64 precision
    p = away_from(p, 0.5)
    add("float64_pred", "2D [2,1,10,9] float64 prediction vs float32 target.", p, t.astype(np.float32))

    rng = np.random.default_rng(1006)
    t = blob_mask(rng, (3, 1, 9, 11))
    add("uint8_target", "2D [3,1,9,11] float32 prediction vs uint8 0/1 target.",
        probs_for(rng, t), t.astype(np.uint8))

    rng = np.random.default_rng(1007)
    t = blob_mask(rng, (2, 1, 6, 8)).astype(np.float32)
    p = probs_for(rng, t > 0.5)
    flat_p, flat_t = p.reshape(-1), t.reshape(-1)
    idx = rng.permutation(flat_p.size)
    k = 0
    for right in (True, False):
        for val in (0.0, 1.0):
            for _ in range(4):
                j = idx[k]
                k += 1
                flat_p[j] = val
                # right: target equals the value; wrong: the opposite.
                flat_t[j] = val if right else 1.0 - val
    flat_p[idx[k]] = 0.5  # exactly at the threshold: counts as positive
    add("exact_01", "2D [2,1,6,8]: exact 0.0 and 1.0 predictions, right and wrong (a wrong one costs "
        "exactly 100 in bce, the -100 log clamp) and one value exactly 0.5 (>= threshold).", p, t)

    rng = np.random.default_rng(1008)
    t = blob_mask(rng, (2, 1, 4, 6, 5))
    x = (rng.standard_normal(t.shape) * 3).astype(np.float32)
    x[np.abs(x) < 1e-3] = np.float32(0.01)  # keep sigmoid(x) clear of the threshold
    add("logits", "3D [2,1,4,6,5] float32 logits (randn*3); bce is binary_cross_entropy_with_logits, "
        "everything else uses sigmoid(x).", x, t.astype(np.float32), logits=True)

    rng = np.random.default_rng(1009)
    t = blob_mask(rng, (2, 1, 10, 10))
    soft = np.clip(ndi.gaussian_filter(t.astype(np.float64), sigma=(0, 0, 1, 1)) +
                   rng.uniform(-0.05, 0.05, t.shape), 0, 1).astype(np.float32)
    soft = away_from(soft, 0.5)
    add("soft_target", "2D [2,1,10,10] soft float targets in [0,1] (hard target: t > 0.5).",
        probs_for(rng, t), soft)

    rng = np.random.default_rng(1010)
    t = blob_mask(rng, (3, 1, 12, 12))
    p = probs_for(rng, t)
    t[1] = False
    p[1] = 0.0
    add("empty_sample", "2D [3,1,12,12]; sample 1 has target and prediction all zero: hard dice/iou/"
        "precision/recall NaN there, batch means skip it (batch_valid).", p, t.astype(np.float32))
    add("empty_policy_one", "Same data as empty_sample with --empty one: zero denominators give 1.",
        p, t.astype(np.float32), empty="one")

    rng = np.random.default_rng(1011)
    t = blob_mask(rng, (2, 1, 8, 8))
    p = probs_for(rng, t, threshold=0.3)
    p[0, 0, 0, 0] = np.float32(0.3)  # float32(0.3) > 0.3: positive at threshold 0.3
    add("threshold_0_3", "2D [2,1,8,8] with --threshold 0.3 (one value is float32(0.3)).",
        p, t.astype(np.float32), threshold=0.3)

    rng = np.random.default_rng(1012)
    t = blob_mask(rng, (2, 1, 9, 9))
    add("focal_alpha", "2D [2,1,9,9] with focal alpha 0.25 (alpha_t = a t + (1-a)(1-t)).",
        probs_for(rng, t), t.astype(np.float32), focal_alpha=0.25)

    rng = np.random.default_rng(1013)
    t = blob_mask(rng, (2, 1, 9, 9))
    add("tversky_weights", "2D [2,1,9,9] with tversky alpha 0.3, beta 0.7 and focal gamma 1.5.",
        probs_for(rng, t), t.astype(np.float32), alpha=0.3, beta=0.7, gamma=1.5)

    # Label maps [2,1,4,6,7], labels 0..3.
    rng = np.random.default_rng(1014)
    lt = np.zeros((2, 1, 4, 6, 7), np.uint8)
    for lab in (1, 2, 3):
        m = blob_mask(rng, lt.shape, sigma=1.0, frac=0.25)
        lt[m] = lab
    lt[1][lt[1] == 2] = 1    # label 2 absent from sample 1 (target) ...
    lt[1][lt[1] == 3] = 0    # ... and label 3 absent from sample 1's target
    lp = lt.astype(np.int64)
    flip = rng.random(lp.shape) < 0.2
    lp[flip] = rng.integers(0, 4, size=int(flip.sum()))
    lp[1][lp[1] == 2] = 0    # label 2 absent from sample 1 in both: NaN per-label dice
    lp[1, 0, 1, 2, 3] = 3    # label 3 predicted in sample 1 only: a false positive
    lp[0, 0, 2] = 0          # slice 2 of sample 0 predicted empty
    add("label_maps", "Label maps: int64 prediction vs uint8 target [2,1,4,6,7], labels 0..3; overall "
        "metrics on (v != 0), per label one-vs-rest (labels present in either, >= 1). Label 2 is "
        "absent from sample 1 in both, label 3 is only predicted in sample 1.", lp, lt,
        pairing="label_maps",
        metrics=["mse", "mae", "dice_loss", "dice", "iou", "precision", "recall", "tp", "fp", "fn", "tn"])

    # Channel probabilities vs label target ("implicit one-hot").
    rng = np.random.default_rng(1015)
    lab = np.zeros((2, 1, 5, 6), np.int64)
    for l in (1, 2, 3):
        lab[blob_mask(rng, lab.shape, sigma=1.0, frac=0.3)] = l
    logit = 3.0 * np.moveaxis(np.eye(4)[lab[:, 0]], -1, 1) + 1.2 * rng.standard_normal((2, 4, 5, 6))
    prob = torch.softmax(torch.from_numpy(logit), dim=1).numpy().astype(np.float32)
    prob = away_from(prob, 0.5)
    add("channel_onehot", "float32 softmax probabilities [2,4,5,6] (C=4) vs uint8 labels [2,1,5,6]: overall "
        "metrics against one_hot(target), per label c (1..3) channel c vs target == c (every metric).",
        prob, lab.astype(np.uint8), pairing="channel_one_hot")

    rng = np.random.default_rng(1016)
    t = blob_mask(rng, (2, 1, 5, 7, 6))
    p = probs_for(rng, t)
    add("axis_h", "3D [2,1,5,7,6] sliced along H (--axis h): slice s = x[n,:,:,s,:].",
        p, t.astype(np.float32), axis="h")
    add("axis_w", "Same data as axis_h sliced along W (--axis w): slice s = x[n,:,:,:,s].",
        p, t.astype(np.float32), axis="w")
    return cases


# ---------------------------------------------------------------------------
# Output.

def clean(obj):
    """NaN/inf -> None, numpy scalars -> Python."""
    if isinstance(obj, dict):
        return {k: clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [clean(v) for v in obj]
    if isinstance(obj, (bool, type(None), str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        v = float(obj)
        return v if math.isfinite(v) else None
    raise TypeError(type(obj))


def write_json(path, body):
    text = json.dumps(clean(body), indent=1, allow_nan=False)
    path.write_text(text + "\n")


def check_seed(out_root):
    seeds = seed_arrays()
    d = SeedDiceLoss()
    v2 = d(torch.from_numpy(seeds["seed_2d"][0]), torch.from_numpy(seeds["seed_2d"][1])).item()
    v3 = d(torch.from_numpy(seeds["seed_3d"][0]), torch.from_numpy(seeds["seed_3d"][1])).item()
    assert abs(v2 - 0.0625) < 1e-4 and abs(v3 - 0.0526) < 1e-4, (v2, v3)
    seed_dir = out_root / "seed"
    seed_dir.mkdir(parents=True, exist_ok=True)
    for name, (p, t) in seeds.items():
        np.save(seed_dir / f"{name}_pred.npy", p)
        np.save(seed_dir / f"{name}_target.npy", t)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = pathlib.Path(__file__).resolve().parent
    ap.add_argument("--out", type=pathlib.Path, default=here / "data",
                    help="data folder (default: tests/data); writes seed/ and golden/ in it")
    args = ap.parse_args()
    torch.use_deterministic_algorithms(True)

    check_seed(args.out)
    golden = args.out / "golden"
    if golden.exists():
        shutil.rmtree(golden)
    golden.mkdir(parents=True)
    for name, description, pred, target, pairing, opts in case_list():
        body = {
            "case": name,
            "description": description,
            "pairing": pairing,
            "pred": {"dtype": str(pred.dtype), "shape": list(pred.shape)},
            "target": {"dtype": str(target.dtype), "shape": list(target.shape)},
            "options": opts,
        }
        body.update(evaluate(pred, target, opts, pairing))
        d = golden / name
        d.mkdir()
        np.save(d / "pred.npy", np.ascontiguousarray(pred))
        np.save(d / "target.npy", np.ascontiguousarray(target))
        write_json(d / "expected.json", body)
        print(f"{name:18s} pred {str(pred.dtype):8s} {list(pred.shape)} target {str(target.dtype):8s} "
              f"{list(target.shape)}")


if __name__ == "__main__":
    main()
