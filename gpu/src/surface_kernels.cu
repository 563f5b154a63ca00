// The surface-distance kernels (see surface_kernels.h). Thin loops over the
// shared logic of surface_kernel_math.h and the engine's line solvers
// (masklens::edt, distance_transform.h): one thread per voxel for the
// surfaces, one block per tile of the grouped scan order for counting and
// gathering (CUB block reductions and scans keep the CPU's order), one thread
// per line for the EDT passes. Compiled with -fmad=false: a * b + c is either
// rounded twice (plain) or once through an explicit fma (problem.fused), as
// the CPU transform rounds it.
#include "masklens/gpu/surface_kernels.h"

#include <cub/block/block_reduce.cuh>
#include <cub/block/block_scan.cuh>
#include <cub/device/device_scan.cuh>
#include <cuda_runtime.h>

#include <cstdint>

namespace masklens::gpu {
namespace {

using i64 = std::int64_t;
using u64 = unsigned long long;
using u8 = std::uint8_t;

static_assert(sizeof(u64) == sizeof(std::uint64_t), "the workspace counts are 64-bit");

constexpr int kLineBlock = 128;
constexpr i64 kMaxBlocks = i64{1} << 20;

i64 blocks_for(i64 items, int block)
{
    const i64 blocks = (items + block - 1) / block;
    return blocks < 1 ? 1 : blocks > kMaxBlocks ? kMaxBlocks : blocks;
}

__global__ void __launch_bounds__(kSurfaceBlock) surface_kernel(SurfaceProblem p, u8* surface)
{
    const i64 plane = p.extent[1] * p.extent[2];
    const i64 total = p.extent[0] * plane;
    for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<i64>(gridDim.x) * blockDim.x) {
        const i64 d = i / plane;
        const i64 rest = i - d * plane;
        const i64 h = rest / p.extent[2];
        const i64 w = rest - h * p.extent[2];
        surface[i] = surface_bits(p.inside, p.extent, p.axes, d, h, w);
    }
}

// Per tile: the prediction's and the target's surface voxels (counts[tile],
// counts[tiles + 1 + tile]); per group: the same into groups[g], groups[G + g].
__global__ void __launch_bounds__(kSurfaceBlock)
    count_kernel(SurfaceProblem p, const u8* surface, i64 tiles, i64 group_count, u64* counts, u64* groups)
{
    using Reduce = cub::BlockReduce<u64, kSurfaceBlock>;
    __shared__ typename Reduce::TempStorage storage;
    const i64 total = p.extent[0] * p.extent[1] * p.extent[2];
    const i64 tile = blockIdx.x;
    u64 np = 0;
    u64 nt = 0;
    for (int j = 0; j < kSurfaceItems; ++j) {
        const i64 k = tile * kSurfaceTile + static_cast<i64>(threadIdx.x) * kSurfaceItems + j;
        if (k >= total) {
            break;
        }
        i64 group = 0;
        const u8 bits = surface[grouped_position_to_index(k, p.extent, p.group_axis, &group)];
        np += bits & 1u;
        nt += bits >> 1;
        if (p.group_axis >= 0 && bits != 0) {
            if ((bits & 1u) != 0) {
                atomicAdd(groups + group, u64{1});
            }
            if ((bits & 2u) != 0) {
                atomicAdd(groups + group_count + group, u64{1});
            }
        }
    }
    const u64 tile_p = Reduce(storage).Sum(np);
    __syncthreads();
    const u64 tile_t = Reduce(storage).Sum(nt);
    if (threadIdx.x == 0) {
        counts[tile] = tile_p;
        counts[tiles + 1 + tile] = tile_t;
        if (p.group_axis < 0) {
            atomicAdd(groups, tile_p);
            atomicAdd(groups + 1, tile_t);
        }
    }
}

// The binary two-sweep pass: squared distance along each line to the nearest
// voxel carrying `bit`.
__global__ void __launch_bounds__(kLineBlock)
    binary_pass_kernel(const u8* surface, u8 bit, double* dist, LineLayout layout, double spacing)
{
    for (i64 line = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; line < layout.lines;
         line += static_cast<i64>(gridDim.x) * blockDim.x) {
        const i64 base = layout.base(line);
        const i64 stride = layout.stride;
        edt::binary_line([&](i64 i) { return (surface[base + i * stride] & bit) != 0; }, layout.n, spacing,
                         [&](i64 i) -> double& { return dist[base + i * stride]; });
    }
}

// An envelope pass in place: each of `threads` threads copies its line to its
// scratch (interleaved with the other threads') and solves it into `dist`.
template <class MulAdd>
__global__ void __launch_bounds__(kLineBlock)
    envelope_pass_kernel(double* dist, LineLayout layout, double spacing, double* scratch, i64 threads)
{
    const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
    if (t >= threads) {
        return;
    }
    const i64 n = layout.n;
    double* f = scratch;
    double* z = f + n * threads;
    double* g = z + (n + 1) * threads;
    i64* v = reinterpret_cast<i64*>(g + n * threads);
    for (i64 line = t; line < layout.lines; line += threads) {
        const i64 base = layout.base(line);
        const i64 stride = layout.stride;
        bool any_finite = false;
        for (i64 i = 0; i < n; ++i) {
            const double value = dist[base + i * stride];
            f[i * threads + t] = value;
            any_finite = any_finite || value != HUGE_VAL;
        }
        if (!any_finite) {
            continue; // all +inf stays all +inf
        }
        edt::envelope_line<MulAdd>([&](i64 q) { return f[q * threads + t]; }, n, spacing,
                                   [&](i64 p) -> double& { return dist[base + p * stride]; },
                                   [&](i64 k) -> i64& { return v[k * threads + t]; },
                                   [&](i64 k) -> double& { return z[k * threads + t]; },
                                   [&](i64 k) -> double& { return g[k * threads + t]; });
    }
}

// Writes sqrt(dist) at the voxels carrying `bit`, compacted in grouped scan
// order: tile `blockIdx.x` starts at sums[tile], its threads in order (block
// scan), each thread's items in order.
__global__ void __launch_bounds__(kSurfaceBlock)
    gather_kernel(SurfaceProblem p, const u8* surface, u8 bit, const double* dist, const u64* sums,
                  double* out)
{
    using Scan = cub::BlockScan<u64, kSurfaceBlock>;
    __shared__ typename Scan::TempStorage storage;
    const i64 total = p.extent[0] * p.extent[1] * p.extent[2];
    const i64 tile = blockIdx.x;
    i64 index[kSurfaceItems];
    u64 mine = 0;
    for (int j = 0; j < kSurfaceItems; ++j) {
        index[j] = -1;
        const i64 k = tile * kSurfaceTile + static_cast<i64>(threadIdx.x) * kSurfaceItems + j;
        if (k < total) {
            i64 group = 0;
            const i64 i = grouped_position_to_index(k, p.extent, p.group_axis, &group);
            if ((surface[i] & bit) != 0) {
                index[j] = i;
                ++mine;
            }
        }
    }
    u64 offset = 0;
    Scan(storage).ExclusiveSum(mine, offset);
    u64 position = sums[tile] + offset;
    for (int j = 0; j < kSurfaceItems; ++j) {
        if (index[j] >= 0) {
            out[position++] = sqrt(dist[index[j]]);
        }
    }
}

std::byte* part(void* workspace, std::size_t offset)
{
    return static_cast<std::byte*>(workspace) + offset;
}

cudaError_t launched()
{
    return cudaGetLastError();
}

// The squared EDT of the voxels carrying `bit` into the workspace's distances.
template <class MulAdd>
cudaError_t transform(void* workspace, const SurfaceWorkspace& layout, const SurfaceProblem& problem, u8 bit,
                      cudaStream_t stream)
{
    const auto* surface = reinterpret_cast<const u8*>(part(workspace, layout.surface_offset));
    auto* dist = reinterpret_cast<double*>(part(workspace, layout.distance_offset));
    auto* scratch = reinterpret_cast<double*>(part(workspace, layout.scratch_offset));
    const PassSequence sequence = pass_sequence(problem);
    {
        const LineLayout lines = line_layout(problem, sequence.binary_axis);
        binary_pass_kernel<<<static_cast<unsigned>(blocks_for(lines.lines, kLineBlock)), kLineBlock, 0,
                             stream>>>(surface, bit, dist, lines, problem.spacing[sequence.binary_axis]);
        if (const cudaError_t status = launched(); status != cudaSuccess) {
            return status;
        }
    }
    for (int i = 0; i < sequence.envelope_count; ++i) {
        const int axis = sequence.envelope_axes[i];
        const LineLayout lines = line_layout(problem, axis);
        const i64 threads = envelope_threads(lines, layout.scratch_bytes);
        const i64 blocks = (threads + kLineBlock - 1) / kLineBlock;
        envelope_pass_kernel<MulAdd><<<static_cast<unsigned>(blocks), kLineBlock, 0, stream>>>(
            dist, lines, problem.spacing[axis], scratch, threads);
        if (const cudaError_t status = launched(); status != cudaSuccess) {
            return status;
        }
    }
    return cudaSuccess;
}

template <class MulAdd>
cudaError_t directed(void* workspace, const SurfaceWorkspace& layout, const SurfaceProblem& problem,
                     double* d_pred_to_target, double* d_target_to_pred, cudaStream_t stream)
{
    const auto* surface = reinterpret_cast<const u8*>(part(workspace, layout.surface_offset));
    const auto* dist = reinterpret_cast<const double*>(part(workspace, layout.distance_offset));
    const auto* sums = reinterpret_cast<const u64*>(part(workspace, layout.sum_offset));
    const auto tiles = static_cast<unsigned>(layout.tiles);
    // Distances to the target's surface, read on the prediction's surface...
    if (d_pred_to_target != nullptr) {
        if (const cudaError_t status = transform<MulAdd>(workspace, layout, problem, 2, stream);
            status != cudaSuccess) {
            return status;
        }
        gather_kernel<<<tiles, kSurfaceBlock, 0, stream>>>(problem, surface, 1, dist, sums, d_pred_to_target);
        if (const cudaError_t status = launched(); status != cudaSuccess) {
            return status;
        }
    }
    // ...and to the prediction's surface, read on the target's.
    if (d_target_to_pred != nullptr) {
        if (const cudaError_t status = transform<MulAdd>(workspace, layout, problem, 1, stream);
            status != cudaSuccess) {
            return status;
        }
        gather_kernel<<<tiles, kSurfaceBlock, 0, stream>>>(problem, surface, 2, dist, sums + layout.tiles + 1,
                                                           d_target_to_pred);
        if (const cudaError_t status = launched(); status != cudaSuccess) {
            return status;
        }
    }
    return cudaSuccess;
}

} // namespace

cudaError_t surface_workspace_layout(const SurfaceProblem& problem, std::size_t scratch_budget,
                                     SurfaceWorkspace* layout)
{
    if (layout == nullptr || !valid_surface_problem(problem, false)) {
        return cudaErrorInvalidValue;
    }
    const i64 tiles = (problem.voxels() + kSurfaceTile - 1) / kSurfaceTile;
    std::size_t scan_bytes = 0;
    const cudaError_t status = cub::DeviceScan::ExclusiveSum(
        nullptr, scan_bytes, static_cast<const u64*>(nullptr), static_cast<u64*>(nullptr), tiles + 1);
    if (status != cudaSuccess) {
        return status;
    }
    *layout = surface_workspace(problem, scan_bytes, scratch_budget);
    return cudaSuccess;
}

cudaError_t extract_surfaces(void* workspace, const SurfaceWorkspace& layout, const SurfaceProblem& problem,
                             cudaStream_t stream)
{
    if (workspace == nullptr || !valid_surface_problem(problem, true) ||
        layout.tiles != (problem.voxels() + kSurfaceTile - 1) / kSurfaceTile ||
        layout.groups != problem.groups()) {
        return cudaErrorInvalidValue;
    }
    auto* surface = reinterpret_cast<u8*>(part(workspace, layout.surface_offset));
    auto* counts = reinterpret_cast<u64*>(part(workspace, layout.count_offset));
    auto* sums = reinterpret_cast<u64*>(part(workspace, layout.sum_offset));
    auto* groups = reinterpret_cast<u64*>(part(workspace, layout.group_offset));
    const i64 entries = layout.tiles + 1;
    cudaError_t status =
        cudaMemsetAsync(counts, 0, 2 * static_cast<std::size_t>(entries) * sizeof(u64), stream);
    if (status == cudaSuccess) {
        status =
            cudaMemsetAsync(groups, 0, 2 * static_cast<std::size_t>(layout.groups) * sizeof(u64), stream);
    }
    if (status != cudaSuccess) {
        return status;
    }
    surface_kernel<<<static_cast<unsigned>(blocks_for(problem.voxels(), kSurfaceBlock)), kSurfaceBlock, 0,
                     stream>>>(problem, surface);
    if ((status = launched()) != cudaSuccess) {
        return status;
    }
    count_kernel<<<static_cast<unsigned>(layout.tiles), kSurfaceBlock, 0, stream>>>(
        problem, surface, layout.tiles, layout.groups, counts, groups);
    if ((status = launched()) != cudaSuccess) {
        return status;
    }
    void* scan = part(workspace, layout.scan_offset);
    for (int side = 0; side < 2; ++side) {
        std::size_t scan_bytes = layout.scratch_offset - layout.scan_offset;
        status = cub::DeviceScan::ExclusiveSum(scan, scan_bytes, counts + side * entries,
                                               sums + side * entries, entries, stream);
        if (status != cudaSuccess) {
            return status;
        }
    }
    return cudaSuccess;
}

cudaError_t surface_directed_distances(void* workspace, const SurfaceWorkspace& layout,
                                       const SurfaceProblem& problem, double* d_pred_to_target,
                                       double* d_target_to_pred, cudaStream_t stream)
{
    if (workspace == nullptr || !valid_surface_problem(problem, true) ||
        layout.tiles != (problem.voxels() + kSurfaceTile - 1) / kSurfaceTile) {
        return cudaErrorInvalidValue;
    }
    return problem.fused ? directed<edt::FusedMulAdd>(workspace, layout, problem, d_pred_to_target,
                                                      d_target_to_pred, stream)
                         : directed<edt::ContractibleMulAdd>(workspace, layout, problem, d_pred_to_target,
                                                             d_target_to_pred, stream);
}

} // namespace masklens::gpu
