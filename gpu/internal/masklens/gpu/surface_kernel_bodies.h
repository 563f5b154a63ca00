// The per-thread (and per-tile) bodies of the surface-distance kernels
// (surface_kernels.cu), __host__ __device__ under nvcc and plain C++17
// elsewhere. Each kernel keeps only its thread index, its grid-stride loop
// and its CUB block reduction or scan, and calls the function here for the
// rest: index arithmetic, the scratch layout, the "all +inf stays +inf" skip,
// which positions a tile's threads own and where a gather writes. The host
// test (tests/gpu/test_gpu_distance.cpp) calls the same functions for every
// thread index, so a bug in these bodies fails it without a GPU.
//
// Counts are unsigned long long (64-bit; the type CUDA's atomicAdd takes).
// Where the device adds atomically, the body takes an `add(counter*, value)`
// callable: atomicAdd in the kernel, a plain += on the host.
#pragma once

#include "masklens/engine/distance_transform.h"
#include "masklens/gpu/surface_kernel_math.h"

#include <cmath>
#include <cstdint>

namespace masklens::gpu {

using SurfaceCount = unsigned long long;

// ---- surface_kernel: one thread per box voxel ----------------------------------------------

// Writes the surface bits (surface_bits) of box voxel `i` (C order) to surface[i].
MASKLENS_EDT_HD inline void surface_voxel_body(const SurfaceProblem& p, std::uint8_t* surface, std::int64_t i)
{
    const std::int64_t plane = p.extent[1] * p.extent[2];
    const std::int64_t d = i / plane;
    const std::int64_t rest = i - d * plane;
    const std::int64_t h = rest / p.extent[2];
    const std::int64_t w = rest - h * p.extent[2];
    surface[i] = surface_bits(p.inside, p.extent, p.axes, d, h, w);
}

// ---- count_kernel and gather_kernel: one block per tile of the grouped scan order -----------

// Grouped scan position of item j (0 <= j < kSurfaceItems) of thread
// `thread` (0 <= thread < kSurfaceBlock) of `tile`: a tile's threads own
// consecutive runs of kSurfaceItems positions, in thread order.
MASKLENS_EDT_HD inline std::int64_t tile_position(std::int64_t tile, int thread, int j)
{
    return tile * kSurfaceTile + static_cast<std::int64_t>(thread) * kSurfaceItems + j;
}

struct SurfaceCounts {
    SurfaceCount pred = 0;
    SurfaceCount target = 0;
};

// One thread of count_kernel: its items' prediction and target surface
// voxels, returned for the block reduction. With a group axis it also adds
// each surface voxel to its group (groups[g] prediction, groups[group_count +
// g] target) through add.
template <class Add>
MASKLENS_EDT_HD SurfaceCounts count_thread_body(const SurfaceProblem& p, const std::uint8_t* surface,
                                                std::int64_t tile, int thread, std::int64_t group_count,
                                                SurfaceCount* groups, const Add& add)
{
    const std::int64_t total = p.voxels();
    SurfaceCounts mine;
    for (int j = 0; j < kSurfaceItems; ++j) {
        const std::int64_t k = tile_position(tile, thread, j);
        if (k >= total) {
            break;
        }
        std::int64_t group = 0;
        const std::uint8_t bits = surface[grouped_position_to_index(k, p.extent, p.group_axis, &group)];
        mine.pred += bits & 1u;
        mine.target += bits >> 1;
        if (p.group_axis >= 0 && bits != 0) {
            if ((bits & 1u) != 0) {
                add(groups + group, SurfaceCount{1});
            }
            if ((bits & 2u) != 0) {
                add(groups + group_count + group, SurfaceCount{1});
            }
        }
    }
    return mine;
}

// Thread 0 of count_kernel, after the block reductions: the tile's sums into
// counts[tile] (prediction) and counts[tiles + 1 + tile] (target); without a
// group axis also into the one group (groups[0], groups[1]) through add.
template <class Add>
MASKLENS_EDT_HD void count_tile_body(const SurfaceProblem& p, std::int64_t tile, std::int64_t tiles,
                                     SurfaceCounts tile_sums, SurfaceCount* counts, SurfaceCount* groups,
                                     const Add& add)
{
    counts[tile] = tile_sums.pred;
    counts[tiles + 1 + tile] = tile_sums.target;
    if (p.group_axis < 0) {
        add(groups, tile_sums.pred);
        add(groups + 1, tile_sums.target);
    }
}

// One thread of gather_kernel, before the block scan: the C-order indices of
// its items that carry `bit`, in item order, into index[0..] (-1 for the
// others); returns how many there are (the scan's input).
MASKLENS_EDT_HD inline SurfaceCount gather_select_body(const SurfaceProblem& p, const std::uint8_t* surface,
                                                       std::uint8_t bit, std::int64_t tile, int thread,
                                                       std::int64_t index[kSurfaceItems])
{
    const std::int64_t total = p.voxels();
    SurfaceCount mine = 0;
    for (int j = 0; j < kSurfaceItems; ++j) {
        index[j] = -1;
        const std::int64_t k = tile_position(tile, thread, j);
        if (k < total) {
            std::int64_t group = 0;
            const std::int64_t i = grouped_position_to_index(k, p.extent, p.group_axis, &group);
            if ((surface[i] & bit) != 0) {
                index[j] = i;
                ++mine;
            }
        }
    }
    return mine;
}

// The same thread after the scan: sqrt(dist) of its selected voxels, in item
// order, from out[sums[tile] + offset] on (sums: the exclusive sums of the
// tiles' counts; offset: the exclusive sum of the tile's earlier threads).
MASKLENS_EDT_HD inline void gather_write_body(const double* dist, const std::int64_t index[kSurfaceItems],
                                              const SurfaceCount* sums, std::int64_t tile,
                                              SurfaceCount offset, double* out)
{
    SurfaceCount position = sums[tile] + offset;
    for (int j = 0; j < kSurfaceItems; ++j) {
        if (index[j] >= 0) {
#if defined(__CUDA_ARCH__)
            out[position++] = ::sqrt(dist[index[j]]);
#else
            out[position++] = std::sqrt(dist[index[j]]);
#endif
        }
    }
}

// ---- the EDT passes: one thread per line ---------------------------------------------------

// binary_pass_kernel: line `line` of `layout`, squared distance along it to
// the nearest voxel carrying `bit`.
MASKLENS_EDT_HD inline void binary_line_body(const std::uint8_t* surface, std::uint8_t bit, double* dist,
                                             const LineLayout& layout, double spacing, std::int64_t line)
{
    const std::int64_t base = layout.base(line);
    const std::int64_t stride = layout.stride;
    edt::binary_line([&](std::int64_t i) { return (surface[base + i * stride] & bit) != 0; }, layout.n,
                     spacing, [&](std::int64_t i) -> double& { return dist[base + i * stride]; });
}

// The envelope scratch of `threads` threads for lines of n elements
// (envelope_bytes_per_thread(n) * threads bytes from `scratch`, 8-byte
// aligned): element k of thread t's array sits at [k * threads + t], so a
// warp's accesses coalesce.
struct EnvelopeScratch {
    double* f;       // the line's input, n per thread
    double* z;       // boundaries, n + 1 per thread
    double* g;       // keys, n per thread
    std::int64_t* v; // vertices, n per thread
};

MASKLENS_EDT_HD inline EnvelopeScratch envelope_scratch(double* scratch, std::int64_t n, std::int64_t threads)
{
    EnvelopeScratch s;
    s.f = scratch;
    s.z = s.f + n * threads;
    s.g = s.z + (n + 1) * threads;
    s.v = reinterpret_cast<std::int64_t*>(s.g + n * threads);
    return s;
}

// envelope_pass_kernel: thread t of `threads` solves lines t, t + threads, ...
// of `layout` in place: each line is copied to the thread's scratch and the
// envelope written back into dist; a line with no finite value is left as it
// is (all +inf stays all +inf).
template <class MulAdd>
MASKLENS_EDT_HD void envelope_thread_body(double* dist, const LineLayout& layout, double spacing,
                                          double* scratch, std::int64_t threads, std::int64_t t)
{
    const std::int64_t n = layout.n;
    const EnvelopeScratch s = envelope_scratch(scratch, n, threads);
    for (std::int64_t line = t; line < layout.lines; line += threads) {
        const std::int64_t base = layout.base(line);
        const std::int64_t stride = layout.stride;
        bool any_finite = false;
        for (std::int64_t i = 0; i < n; ++i) {
            const double value = dist[base + i * stride];
            s.f[i * threads + t] = value;
            any_finite = any_finite || value != HUGE_VAL;
        }
        if (!any_finite) {
            continue;
        }
        edt::envelope_line<MulAdd>([&](std::int64_t q) { return s.f[q * threads + t]; }, n, spacing,
                                   [&](std::int64_t q) -> double& { return dist[base + q * stride]; },
                                   [&](std::int64_t k) -> std::int64_t& { return s.v[k * threads + t]; },
                                   [&](std::int64_t k) -> double& { return s.z[k * threads + t]; },
                                   [&](std::int64_t k) -> double& { return s.g[k * threads + t]; });
    }
}

// ---- surface_directed_distances: the two directions ----------------------------------------

// Direction `side` (0: prediction to target, 1: target to prediction): the
// EDT of the voxels carrying `feature`, read at the voxels carrying `read`,
// placed by the exclusive sums of side `side` (sums + side * (tiles + 1)).
struct DirectedSide {
    std::uint8_t feature;
    std::uint8_t read;
};
MASKLENS_EDT_HD inline DirectedSide directed_side(int side)
{
    return side == 0 ? DirectedSide{2, 1} : DirectedSide{1, 2};
}

} // namespace masklens::gpu
