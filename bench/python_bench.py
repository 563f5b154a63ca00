#!/usr/bin/env python3
"""Speed of the Python package (figures in docs/benchmarks.md; all ratios
from one run of this script on one machine):

1. per-call overhead: evaluate() on a 64x64 float32 + uint8 slice (Dice),
   median wall time per call, and the same minus the engine's own time;
2. a 256^3 float32 + uint8 pair from numpy: evaluate() wall time against the
   engine's own time for the same metrics (Result.engine_seconds, measured
   around the evaluation inside the extension): the ratio shows hidden copies;
3. against MONAI on CPU (when importable) on the same arrays: Dice + HD95 +
   ASSD, wall time of each and the ratio.

Usage: python3 bench/python_bench.py [--size 256] [--monai-size 128 256] [--repeat 3]
(with masklens importable: the wheel installed, or a development build).
"""

import argparse
import json
import os
import platform
import statistics
import time

import numpy as np

import masklens


def blob_pair(size, seed=0):
    rng = np.random.default_rng(seed)
    z, y, x = np.ogrid[:size, :size, :size]
    c = size / 2
    sphere = ((z - c) ** 2 + (y - c) ** 2 + (x - c * 1.05) ** 2) < (size * 0.3) ** 2
    target = sphere.astype(np.uint8)[None, None]
    shifted = ((z - c * 1.03) ** 2 + (y - c) ** 2 + (x - c) ** 2) < (size * 0.29) ** 2
    prediction = (shifted * 0.8 + rng.random(shifted.shape, dtype=np.float32) * 0.15).astype(np.float32)[None, None]
    return prediction, target


def per_call(repeat):
    rng = np.random.default_rng(1)
    prediction = rng.random((64, 64), dtype=np.float32)
    target = (rng.random((64, 64)) > 0.5).astype(np.uint8)
    for _ in range(200):
        masklens.evaluate(prediction, target, metrics="dice", threads=1)
    walls, engine = [], []
    for _ in range(repeat * 1000):
        start = time.perf_counter()
        result = masklens.evaluate(prediction, target, metrics="dice", threads=1)
        walls.append(time.perf_counter() - start)
        engine.append(result.engine_seconds)
    wall = statistics.median(walls)
    return {"call_us": wall * 1e6, "engine_us": statistics.median(engine) * 1e6,
            "overhead_us": (wall - statistics.median(engine)) * 1e6}


def large(size, repeat, metrics):
    prediction, target = blob_pair(size)
    rows = []
    for _ in range(repeat):
        start = time.perf_counter()
        result = masklens.evaluate(prediction, target, metrics=metrics, per_slice=False)
        wall = time.perf_counter() - start
        rows.append((wall, result.engine_seconds))
    wall = min(r[0] for r in rows)
    engine = min(r[1] for r in rows)
    return {"size": size, "metrics": metrics, "python_s": wall, "engine_s": engine, "ratio": wall / engine,
            "copied": list(result.copied)}


def against_monai(size, repeat):
    try:
        import torch
        from monai.metrics import compute_average_surface_distance, compute_dice, compute_hausdorff_distance
    except ImportError as error:
        return {"skipped": str(error)}
    prediction, target = blob_pair(size)
    hard = (prediction > 0.5).astype(np.uint8)
    masklens_times, single_times, monai_times = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        ours = masklens.evaluate(hard, target, metrics="dice,hd95,assd", per_slice=False)
        masklens_times.append(time.perf_counter() - start)
        # One thread, as MONAI's distance transform (scipy) runs.
        start = time.perf_counter()
        masklens.evaluate(hard, target, metrics="dice,hd95,assd", per_slice=False, threads=1)
        single_times.append(time.perf_counter() - start)
        start = time.perf_counter()
        p = torch.from_numpy(hard).bool()
        t = torch.from_numpy(target).bool()
        dice = compute_dice(p, t, include_background=True)
        hd95 = compute_hausdorff_distance(p, t, include_background=True, percentile=95)
        assd = compute_average_surface_distance(p, t, include_background=True, symmetric=True)
        monai_times.append(time.perf_counter() - start)
    return {"size": size, "masklens_s": min(masklens_times), "masklens_1_thread_s": min(single_times),
            "monai_s": min(monai_times), "ratio_monai_over_masklens": min(monai_times) / min(masklens_times),
            "ratio_monai_over_masklens_1_thread": min(monai_times) / min(single_times),
            "masklens": {k: ours[k] for k in ("dice", "hd95", "assd")},
            "monai": {"dice": float(dice), "hd95": float(hd95), "assd": float(assd)},
            "torch_threads": torch.get_num_threads()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--monai-size", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    report = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "masklens": masklens.__version__,
        "per_call_64x64": per_call(args.repeat),
        "large_dice": large(args.size, args.repeat, "dice,iou"),
        "large_distances": large(args.size, args.repeat, "dice,hd95,assd"),
        "monai": [against_monai(size, args.repeat) for size in args.monai_size],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
