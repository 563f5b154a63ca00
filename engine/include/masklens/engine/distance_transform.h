// Exact squared Euclidean distance transform on 2D and 3D grids.
//
// Separable lower-envelope algorithm (Felzenszwalb & Huttenlocher, "Distance
// Transforms of Sampled Functions", 2012): one pass per axis, each line solved
// exactly in linear time, anisotropic spacing supported. The first pass (along
// the innermost transformed axis) reads the binary feature grid directly with
// two sweeps; the others compute the lower envelope of parabolas. Lines are
// processed in parallel on all hardware threads; strided axes are handled in
// blocks of adjacent lines so that memory is read in whole cache lines.
//
// Grids are C-ordered [D, H, W] (W fastest), like one channel of a Volume;
// spacing is given in the Geometry's (x, y, z) = (W, H, D) order, in mm.
// Results are squared distances in mm^2 between voxel centres; +inf where no
// feature voxel exists (in the whole grid, or in the voxel's slice when an axis
// is excluded).
//
// The 1-D line solvers (namespace masklens::edt below) are the one copy of the
// math shared with the CUDA path (gpu/src/surface_kernels.cu): header-only,
// C++17, __host__ __device__ under nvcc, reading and writing through accessors
// so that each caller keeps its own memory layout.
#pragma once

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#if defined(__CUDACC__)
#define MASKLENS_EDT_HD __host__ __device__
#else
#define MASKLENS_EDT_HD
#endif

namespace masklens {

namespace edt {

// How a * b + c is rounded in the line solvers. Contractible: as written, so
// the compiler may fuse it into one FMA (GCC does for the CPU transform at
// -march=x86-64-v3 -O2; nvcc does not with -fmad=false). Fused: always one
// rounding. The CUDA path picks the one that reproduces the CPU transform.
struct ContractibleMulAdd {
    MASKLENS_EDT_HD static double apply(double a, double b, double c) { return a * b + c; }
};
struct FusedMulAdd {
    MASKLENS_EDT_HD static double apply(double a, double b, double c)
    {
#if defined(__CUDA_ARCH__)
        return ::fma(a, b, c);
#else
        return std::fma(a, b, c);
#endif
    }
};

// The two-sweep pass on a binary line: out(i) = (spacing * steps)^2, steps to
// the nearest i' with feature(i') on the line, +inf when there is none.
// feature(i) -> bool; out(i) -> double& (written, then read back).
template <class Feature, class Out>
MASKLENS_EDT_HD void binary_line(const Feature& feature, std::int64_t n, double spacing, const Out& out)
{
    std::int64_t last = -1;
    for (std::int64_t i = 0; i < n; ++i) {
        if (feature(i)) {
            last = i;
        }
        out(i) = last >= 0 ? static_cast<double>(i - last) : HUGE_VAL;
    }
    std::int64_t next = -1;
    for (std::int64_t i = n - 1; i >= 0; --i) {
        if (feature(i)) {
            next = i;
        }
        double steps = out(i);
        if (next >= 0) {
            const auto ahead = static_cast<double>(next - i);
            steps = ahead < steps ? ahead : steps;
        }
        const double d = steps * spacing;
        out(i) = d * d;
    }
}

// One line of the envelope pass: out(p) = min_q (spacing (p - q))^2 + f(q),
// exactly, as the lower envelope of parabolas. f(q) -> double (may be +inf;
// must not alias out); out(p) -> double&; v(k) -> an integer& and z(k), g(k)
// -> double& are scratch of n, n + 1 and n elements.
template <class MulAdd, class Input, class Out, class Vertex, class Bound, class Key>
MASKLENS_EDT_HD void envelope_line(const Input& f, std::int64_t n, double spacing, const Out& out,
                                   const Vertex& v, const Bound& z, const Key& g)
{
    // Parabola q, in index units: y(p) = w (p - q)^2 + f(q), w = spacing^2. With
    // g_q = f(q) / w + q^2, parabolas r < q intersect at (g_q - g_r) / (2 (q - r)).
    // z holds the envelope's boundaries (k + 2 values), g the keys of the
    // envelope's parabolas v(0..k).
    const double w = spacing * spacing;
    std::int64_t k = -1;
    for (std::int64_t q = 0; q < n; ++q) {
        const double fq = f(q);
        if (fq == HUGE_VAL) {
            continue;
        }
        const auto qd = static_cast<double>(q);
        const double gq = MulAdd::apply(qd, qd, fq / w);
        if (k < 0) {
            k = 0;
            v(0) = q;
            g(0) = gq;
            z(0) = -HUGE_VAL;
            z(1) = HUGE_VAL;
            continue;
        }
        // z(0) = -inf ends the loop at k == 0 at the latest (s is finite).
        double s = (gq - g(k)) / (2.0 * (qd - static_cast<double>(v(k))));
        while (s <= z(k)) {
            --k;
            s = (gq - g(k)) / (2.0 * (qd - static_cast<double>(v(k))));
        }
        ++k;
        v(k) = q;
        g(k) = gq;
        z(k) = s;
        z(k + 1) = HUGE_VAL;
    }
    if (k < 0) {
        for (std::int64_t p = 0; p < n; ++p) {
            out(p) = HUGE_VAL;
        }
        return;
    }
    std::int64_t j = 0;
    for (std::int64_t p = 0; p < n; ++p) {
        const auto pd = static_cast<double>(p);
        while (z(j + 1) < pd) {
            ++j;
        }
        const std::int64_t q = v(j);
        const double d = static_cast<double>(p - q) * spacing;
        out(p) = MulAdd::apply(d, d, f(q));
    }
}

} // namespace edt

struct EdtGrid {
    std::array<std::int64_t, 3> extent_dhw{1, 1, 1};
    std::array<double, 3> spacing_xyz{1.0, 1.0, 1.0};
    // Axes (D, H, W) along which distances are measured. Excluding an axis makes
    // its slices independent problems solved in the same pass: {false, true,
    // true} is a batch of 2D transforms, one per D slice.
    std::array<bool, 3> axes_dhw{true, true, true};

    std::int64_t voxels() const noexcept { return extent_dhw[0] * extent_dhw[1] * extent_dhw[2]; }
};

// A half-open sub-box [lo, hi) of a grid, per axis in (D, H, W) order.
struct GridBox {
    std::array<std::int64_t, 3> lo{0, 0, 0};
    std::array<std::int64_t, 3> hi{0, 0, 0};

    std::array<std::int64_t, 3> extent() const noexcept
    {
        return {hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]};
    }
    std::int64_t voxels() const noexcept
    {
        const auto e = extent();
        return e[0] * e[1] * e[2];
    }
    bool empty() const noexcept { return hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]; }
};

// For every voxel, the squared distance (mm^2) to the nearest voxel whose
// feature byte has any bit of `feature_bits` set. `out` holds grid.voxels()
// values and may not alias `feature`. threads <= 0: all hardware threads.
// Throws Error(Usage) for non-positive extents or spacing.
void squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid, double* out,
                                int threads = 0, std::uint8_t feature_bits = 0xFF);
std::vector<double> squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid,
                                               int threads = 0, std::uint8_t feature_bits = 0xFF);

// The same transform restricted to `box`: only feature voxels inside the box
// are considered, and distances are computed for the box's voxels only. `out`
// holds box.voxels() values, C-ordered over the box. Exact whenever every
// feature voxel lies inside the box.
void squared_distance_transform_box(const std::uint8_t* feature, const EdtGrid& grid, const GridBox& box,
                                    double* out, int threads = 0, std::uint8_t feature_bits = 0xFF);

namespace detail {

// One line of the envelope pass: out[p] = min_q (s (p - q))^2 + f[q].
// v and z are scratch of n and 2 n + 1 elements. f may hold +inf.
void envelope_1d(const double* f, std::int64_t n, double spacing, double* out, std::int64_t* v, double* z);

// How this build's transform rounds its squared distances, per axis length t
// (mm): f = tw * tw, then th * th + f, then td * td + that, each multiply-add
// either rounded twice (Plain) or fused into an FMA (Fused; the compiler's
// choice). Detected once per process by running the transform on a tiny grid
// whose value tells the two apart; Unknown if it matches neither. Other
// searches (the k-d tree, the CUDA path) round the same way to give the
// transform's values to the bit.
enum class Arithmetic { Plain, Fused, Unknown };
Arithmetic transform_arithmetic();

} // namespace detail

} // namespace masklens
