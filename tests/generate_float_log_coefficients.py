#!/usr/bin/python3
"""Fits the polynomial of FloatLog (engine/include/masklens/engine/float_log.h).

For m in [sqrt(1/2), sqrt(2)) and t = m - 1, log(m) = t - t^2/2 + t^3 P(t).
P (degree 8) is fitted here by weighted least squares at 20000 Chebyshev
nodes of that interval, in float64, with weights t^3 / log1p(t) (the error of
P matters relative to log(m)). The script prints the coefficients, highest
degree first, as float32 literals, then emulates the kernel in float32
(without fused multiply-add) over 5 million arguments and prints its worst
error in units in the last place against numpy's float64 log.

    /usr/bin/python3 tests/generate_float_log_coefficients.py

The header uses the printed literals; test_float_log checks the C++ kernel
itself (worst 0.85 ulp there, with fused multiply-add).
"""
import numpy as np

LOW, HIGH = np.sqrt(0.5) - 1, np.sqrt(2) - 1


def fit(degree=8, nodes=20000):
    k = np.arange(nodes)
    t = (LOW + HIGH) / 2 + (HIGH - LOW) / 2 * np.cos((2 * k + 1) * np.pi / (2 * nodes))
    t = t[np.abs(t) > 1e-4]  # P's target below is 0/0 at t = 0
    target = (np.log1p(t) - t + t * t / 2) / t**3
    weight = np.abs(t**3 / np.log1p(t))
    vander = np.vander(t, degree + 1)
    coefficients, *_ = np.linalg.lstsq(vander * weight[:, None], target * weight, rcond=None)
    return coefficients.astype(np.float32)


def kernel(x, c):
    """FloatLog's steps in float32 (Horner's rule in one piece)."""
    x = np.asarray(x, np.float32)
    bits = x.view(np.uint32)
    e = (bits >> 23).astype(np.float32) - np.float32(126)
    m = ((bits & 0x007FFFFF) | 0x3F000000).view(np.float32)
    low = m < np.float32(0.70710678)
    t = (m - np.float32(1)) + np.where(low, m, np.float32(0))
    e = e - low.astype(np.float32)
    t2 = t * t
    t3 = t2 * t
    poly = np.full_like(t, c[0])
    for coefficient in c[1:]:
        poly = poly * t + coefficient
    return e * np.float32(0.69314718) + (t + (np.float32(-0.5) * t2 + poly * t3))


def main():
    c = fit()
    print("P, highest degree first:", ", ".join(f"{v!r}f" for v in c.tolist()))
    rng = np.random.default_rng(1)
    x = np.concatenate([
        rng.uniform(0, 1, 2_000_000).astype(np.float32),
        (np.float32(2.0) ** rng.uniform(-125, 2, 2_000_000)).astype(np.float32),
        (1 - rng.uniform(0, 1e-3, 1_000_000)).astype(np.float32),
    ])
    x = x[x >= np.finfo(np.float32).tiny]
    exact = np.log(x.astype(np.float64))
    got = kernel(x, c).astype(np.float64)
    spacing = np.spacing(np.abs(exact).astype(np.float32)).astype(np.float64)
    ulps = np.where(exact == 0, 0, np.abs(got - exact) / spacing)
    print(f"worst error over {x.size} arguments: {ulps.max():.3f} ulp")


if __name__ == "__main__":
    main()
