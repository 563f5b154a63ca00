// The per-element and per-line logic of the surface-distance kernels, as
// plain C++17 that nvcc compiles for the device and the host tests run on the
// CPU (no CUDA header, no C++20 engine header). The kernels' per-thread
// bodies (surface_kernel_bodies.h) are built on these functions; the line
// solvers themselves are the engine's (masklens::edt in distance_transform.h).
//
// A problem is the cropped mask pair of one sample: the bounding box of
// (prediction | target), one byte per box voxel (bit 0 prediction, bit 1
// target), C order [D, H, W]. The CPU (engine/src/directed_distances.cpp)
// works on the same box, so both see the same surfaces and the same distances.
#pragma once

#include "masklens/engine/distance_transform.h"

#include <cstddef>
#include <cstdint>

namespace masklens::gpu {

struct SurfaceProblem {
    const std::uint8_t* inside = nullptr; // device pointer (a run), box voxels
    std::int64_t extent[3] = {1, 1, 1};   // box extents (D, H, W)
    bool axes[3] = {true, true, true};    // axes along which surfaces and distances are measured
    double spacing[3] = {1, 1, 1};        // mm per (D, H, W) step
    int group_axis = -1;                  // -1: one group; else per-slice groups along this (unmeasured) axis
    bool fused = false; // a * b + c rounded once (FMA), as the CPU transform does when fused

    MASKLENS_EDT_HD std::int64_t voxels() const noexcept { return extent[0] * extent[1] * extent[2]; }
    std::int64_t groups() const noexcept { return group_axis < 0 ? 1 : extent[group_axis]; }
};

// A problem the kernels accept: positive extents, a group axis that is not
// measured, at least one measured axis, positive spacing on measured axes.
inline bool valid_surface_problem(const SurfaceProblem& problem, bool need_pointer) noexcept
{
    if (problem.extent[0] < 1 || problem.extent[1] < 1 || problem.extent[2] < 1) {
        return false;
    }
    if (need_pointer && problem.inside == nullptr) {
        return false;
    }
    if (problem.group_axis >= 3 || (problem.group_axis >= 0 && problem.axes[problem.group_axis])) {
        return false;
    }
    if (!problem.axes[0] && !problem.axes[1] && !problem.axes[2]) {
        return false;
    }
    for (int a = 0; a < 3; ++a) {
        if (problem.axes[a] && !(problem.spacing[a] > 0)) {
            return false;
        }
    }
    return true;
}

// Surface bits of box voxel (d, h, w): its mask bits unless every face
// neighbour along a measured axis lies in the box and carries the bit too
// (outside the box is background: the box holds both masks).
MASKLENS_EDT_HD inline std::uint8_t surface_bits(const std::uint8_t* inside, const std::int64_t extent[3],
                                                 const bool axes[3], std::int64_t d, std::int64_t h,
                                                 std::int64_t w)
{
    const std::int64_t plane = extent[1] * extent[2];
    const std::int64_t i = d * plane + h * extent[2] + w;
    const std::uint8_t v = inside[i];
    if (v == 0) {
        return 0;
    }
    std::uint8_t interior = v;
    const std::int64_t coordinate[3] = {d, h, w};
    const std::int64_t step[3] = {plane, extent[2], 1};
    for (int a = 0; a < 3; ++a) {
        if (!axes[a]) {
            continue;
        }
        if (coordinate[a] == 0 || coordinate[a] == extent[a] - 1) {
            return v;
        }
        interior = static_cast<std::uint8_t>(interior & inside[i - step[a]] & inside[i + step[a]]);
    }
    return static_cast<std::uint8_t>(v & ~interior);
}

// Grouped scan order: position k of the box in the order with the group axis
// slowest and the other two in C order (with no group axis, or group axis D:
// plain C order). Within a group it is the CPU's scan order, so each group's
// distances come out in the CPU's order. Returns the C-order index; *group
// receives the box-local group (0 without a group axis).
MASKLENS_EDT_HD inline std::int64_t grouped_position_to_index(std::int64_t k, const std::int64_t extent[3],
                                                              int group_axis, std::int64_t* group)
{
    if (group_axis < 0) {
        *group = 0;
        return k;
    }
    // The group axis g slowest, then the other two (a before b) in C order.
    const int g = group_axis;
    const int a = g == 0 ? 1 : 0;
    const int b = g == 2 ? 1 : 2;
    std::int64_t at[3];
    at[g] = k / (extent[a] * extent[b]);
    const std::int64_t rest = k - at[g] * (extent[a] * extent[b]);
    at[a] = rest / extent[b];
    at[b] = rest - at[a] * extent[b];
    *group = at[g];
    return (at[0] * extent[1] + at[1]) * extent[2] + at[2];
}

// The EDT's passes in the CPU's order: the binary two-sweep pass along the
// innermost measured axis, then envelope passes along the other measured
// axes from W to D, skipping axes of extent 1.
struct PassSequence {
    int binary_axis = -1;
    int envelope_count = 0;
    int envelope_axes[2] = {-1, -1};
};

inline PassSequence pass_sequence(const SurfaceProblem& problem) noexcept
{
    PassSequence sequence;
    for (int a = 2; a >= 0; --a) {
        if (problem.axes[a]) {
            sequence.binary_axis = a;
            break;
        }
    }
    for (int a = 2; a >= 0; --a) {
        if (a == sequence.binary_axis || !problem.axes[a] || problem.extent[a] == 1) {
            continue;
        }
        sequence.envelope_axes[sequence.envelope_count++] = a;
    }
    return sequence;
}

// The lines of a pass along `axis`: `lines` lines of `n` elements; line L
// starts at base(L) and steps by `stride` (consecutive lines are adjacent in
// memory for D and H, so a warp's loads coalesce).
struct LineLayout {
    std::int64_t n = 1;
    std::int64_t stride = 1;
    std::int64_t lines = 1;

    MASKLENS_EDT_HD std::int64_t base(std::int64_t line) const
    {
        const std::int64_t outer = line / stride;
        return outer * n * stride + (line - outer * stride);
    }
};

inline LineLayout line_layout(const SurfaceProblem& problem, int axis) noexcept
{
    LineLayout layout;
    layout.n = problem.extent[axis];
    layout.stride = 1;
    for (int a = axis + 1; a < 3; ++a) {
        layout.stride *= problem.extent[a];
    }
    layout.lines = problem.voxels() / layout.n;
    return layout;
}

// Envelope scratch per thread: the line's input (n), boundaries (n + 1), keys
// (n) and vertices (n, int64), interleaved across threads.
inline std::size_t envelope_bytes_per_thread(std::int64_t n) noexcept
{
    return static_cast<std::size_t>(4 * n + 1) * sizeof(double);
}

// Threads of an envelope pass: one per line, at most what `scratch_bytes`
// holds (they then loop over lines), at least one.
inline std::int64_t envelope_threads(const LineLayout& layout, std::size_t scratch_bytes) noexcept
{
    const auto fit = static_cast<std::int64_t>(scratch_bytes / envelope_bytes_per_thread(layout.n));
    const std::int64_t threads = fit < layout.lines ? fit : layout.lines;
    return threads < 1 ? 1 : threads;
}

// Positions handled by one block of the counting and gathering kernels.
inline constexpr int kSurfaceBlock = 256;
inline constexpr int kSurfaceItems = 8;
inline constexpr std::int64_t kSurfaceTile = kSurfaceBlock * kSurfaceItems;

// Where the kernels keep their state in the workspace; every part starts on
// a 256-byte boundary.
struct SurfaceWorkspace {
    std::int64_t tiles = 0;
    std::int64_t groups = 0;
    std::size_t surface_offset = 0;  // uint8 per box voxel: surface bits
    std::size_t distance_offset = 0; // double per box voxel: squared distances
    std::size_t count_offset = 0;    // uint64 [2][tiles + 1]: surface voxels per tile (pred, target), last 0
    std::size_t sum_offset = 0;      // uint64 [2][tiles + 1]: their exclusive sums (last: the total)
    std::size_t group_offset = 0;    // uint64 [2][groups]: surface voxels per group (pred, target)
    std::size_t scan_offset = 0;     // CUB scan temporary storage
    std::size_t scratch_offset = 0;  // envelope scratch
    std::size_t scratch_bytes = 0;
    std::size_t total_bytes = 0;
};

inline constexpr std::size_t align_surface_workspace(std::size_t bytes) noexcept
{
    return (bytes + 255) / 256 * 256;
}

// Envelope scratch: one line per thread for every line, or at most
// `scratch_budget` bytes (but always room for one thread of the longest line).
inline SurfaceWorkspace surface_workspace(const SurfaceProblem& problem, std::size_t scan_bytes,
                                          std::size_t scratch_budget) noexcept
{
    SurfaceWorkspace layout;
    const auto voxels = static_cast<std::size_t>(problem.voxels());
    layout.tiles = (problem.voxels() + kSurfaceTile - 1) / kSurfaceTile;
    layout.groups = problem.groups();
    std::size_t scratch = 0;
    const PassSequence sequence = pass_sequence(problem);
    for (int i = 0; i < sequence.envelope_count; ++i) {
        const LineLayout lines = line_layout(problem, sequence.envelope_axes[i]);
        const std::size_t per_thread = envelope_bytes_per_thread(lines.n);
        const std::size_t all = per_thread * static_cast<std::size_t>(lines.lines);
        const std::size_t want = all < scratch_budget ? all : scratch_budget;
        const std::size_t need = want > per_thread ? want : per_thread;
        scratch = scratch > need ? scratch : need;
    }
    std::size_t offset = 0;
    layout.surface_offset = offset;
    offset += align_surface_workspace(voxels);
    layout.distance_offset = offset;
    offset += align_surface_workspace(voxels * sizeof(double));
    const std::size_t tile_bytes = 2 * static_cast<std::size_t>(layout.tiles + 1) * sizeof(std::uint64_t);
    layout.count_offset = offset;
    offset += align_surface_workspace(tile_bytes);
    layout.sum_offset = offset;
    offset += align_surface_workspace(tile_bytes);
    layout.group_offset = offset;
    offset += align_surface_workspace(2 * static_cast<std::size_t>(layout.groups) * sizeof(std::uint64_t));
    layout.scan_offset = offset;
    offset += align_surface_workspace(scan_bytes);
    layout.scratch_offset = offset;
    layout.scratch_bytes = scratch;
    offset += align_surface_workspace(scratch);
    layout.total_bytes = offset;
    return layout;
}

} // namespace masklens::gpu
