#!/usr/bin/python3
"""PyTorch CPU reference for the fused pass (run with Debian's /usr/bin/python3,
which has torch and numpy).

Builds a float32 prediction and a uint8 blob target of 256^3 and 512^3 voxels
(like bench/engine_bench.cpp; not bit-identical data), times PyTorch computing
bce + mse + mae + the seed's dice loss with torch.set_num_threads(os.cpu_count()),
then runs masklens_bench_engine's BM_Statistics_Default (the full default metric
set, one pass) on the same sizes in this same script run and prints the speed-up
(goal: >= 30x). The target is converted to float32 once, outside the timed
region, which favours PyTorch.

    /usr/bin/python3 bench/torch_reference.py [--bench BINARY] [--sizes 256 512] [--runs 5] [--runs-large 2]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_BENCH = os.path.join(HERE, "..", "build", "bench", "bench", "masklens_bench_engine")

# (centre z, y, x, semi-axis z, y, x) as fractions of the edge, as in engine_bench.cpp.
BLOBS = [
    (0.30, 0.35, 0.40, 0.16, 0.12, 0.14),
    (0.62, 0.58, 0.30, 0.10, 0.15, 0.09),
    (0.50, 0.25, 0.72, 0.12, 0.08, 0.11),
    (0.75, 0.70, 0.65, 0.07, 0.09, 0.12),
    (0.20, 0.78, 0.22, 0.06, 0.06, 0.06),
]


def make_inputs(edge, seed=0):
    """Prediction [1,1,D,H,W] float32 in [0,1] and target uint8 {0,1}."""
    axis = np.arange(edge, dtype=np.float32) / np.float32(edge)
    z, y, x = axis[:, None, None], axis[None, :, None], axis[None, None, :]
    inside = np.zeros((edge, edge, edge), dtype=bool)
    for cz, cy, cx, rz, ry, rx in BLOBS:
        inside |= ((z - cz) / rz) ** 2 + ((y - cy) / ry) ** 2 + ((x - cx) / rx) ** 2 <= 1.0
    rng = np.random.default_rng(seed)
    noise = rng.random((edge, edge, edge), dtype=np.float32) - np.float32(0.5)
    prediction = np.where(inside, np.float32(0.75), np.float32(0.2)) + np.float32(0.6) * noise
    np.clip(prediction, 0.0, 1.0, out=prediction)
    target = inside.astype(np.uint8)
    shape = (1, 1, edge, edge, edge)
    return prediction.reshape(shape), target.reshape(shape)


def torch_losses(p, t, smooth_nr=1e-6, smooth_dr=1e-6):
    """bce, mse, mae and the seed's dice loss (per sample, then the mean)."""
    bce = F.binary_cross_entropy(p, t)
    mse = F.mse_loss(p, t)
    mae = F.l1_loss(p, t)
    dims = tuple(range(1, p.dim()))
    overlap = (p * t).sum(dim=dims)
    dice_loss = (1 - (2 * overlap + smooth_nr) / (p.sum(dim=dims) + t.sum(dim=dims) + smooth_dr)).mean()
    return bce.item(), mse.item(), mae.item(), dice_loss.item()


def time_torch(edge, runs):
    prediction, target = make_inputs(edge)
    p = torch.from_numpy(prediction)
    t = torch.from_numpy(target).float()  # outside the timed region
    if runs > 1:
        torch_losses(p, t)  # warm-up
    times = []
    values = None
    with torch.no_grad():
        for _ in range(runs):
            start = time.perf_counter()
            values = torch_losses(p, t)
            times.append(time.perf_counter() - start)
    return statistics.median(times), times, values


def time_masklens(binary, sizes, repetitions):
    pattern = "^BM_Statistics_Default/(" + "|".join(str(s) for s in sizes) + ")/"
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [binary, "--benchmark_filter=" + pattern, f"--benchmark_repetitions={repetitions}",
                   "--benchmark_out=" + out.name, "--benchmark_out_format=json"]
        print("running:", " ".join(command), flush=True)
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
        report = json.load(open(out.name))
    runs = {}
    for run in report["benchmarks"]:
        if run.get("run_type") == "aggregate":
            continue
        size = int(run["run_name"].split("/")[1])
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[run["time_unit"]]
        runs.setdefault(size, []).append(run["real_time"] * scale)
    return {size: statistics.median(times) for size, times in runs.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bench", default=DEFAULT_BENCH, help="masklens_bench_engine binary")
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--runs", type=int, default=5, help="timed PyTorch runs below 512^3")
    parser.add_argument("--runs-large", type=int, default=2, help="timed PyTorch runs at 512^3 and above")
    parser.add_argument("--repetitions", type=int, default=3, help="masklens benchmark repetitions")
    args = parser.parse_args()

    threads = os.cpu_count() or 1
    torch.set_num_threads(threads)
    print(f"torch {torch.__version__}, numpy {np.__version__}, torch threads {torch.get_num_threads()}")

    torch_times = {}
    for edge in args.sizes:
        runs = args.runs_large if edge >= 512 else args.runs
        median, times, values = time_torch(edge, runs)
        torch_times[edge] = median
        print(f"torch {edge}^3: median {median * 1e3:.1f} ms over {runs} run(s) "
              f"[{', '.join(f'{t * 1e3:.1f}' for t in times)}] "
              f"bce={values[0]:.6f} mse={values[1]:.6f} mae={values[2]:.6f} dice_loss={values[3]:.6f}",
              flush=True)

    masklens_times = time_masklens(os.path.abspath(args.bench), args.sizes, args.repetitions)
    for edge in args.sizes:
        ours = masklens_times[edge]
        speedup = torch_times[edge] / ours
        verdict = "meets" if speedup >= 30 else "does NOT meet"
        print(f"{edge}^3: torch {torch_times[edge] * 1e3:.1f} ms, masklens default set {ours * 1e3:.1f} ms, "
              f"speed-up {speedup:.2f}x ({verdict} the >= 30x goal)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
