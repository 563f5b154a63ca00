// The surface-distance kernels (see surface_kernels.h). Thin loops over the
// per-thread bodies of surface_kernel_bodies.h (which the host test runs for
// every thread index), the shared logic of surface_kernel_math.h and the
// engine's line solvers (masklens::edt, distance_transform.h): one thread per voxel for the
// surfaces, one block per tile of the grouped scan order for counting and
// gathering (CUB block reductions and scans keep the CPU's order), one thread
// per line for the EDT passes. Compiled with -fmad=false: a * b + c is either
// rounded twice (plain) or once through an explicit fma (problem.fused), as
// the CPU transform rounds it.
#include "masklens/gpu/surface_kernels.h"

#include "masklens/gpu/surface_kernel_bodies.h"

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
    const i64 total = p.voxels();
    for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < total;
         i += static_cast<i64>(gridDim.x) * blockDim.x) {
        surface_voxel_body(p, surface, i);
    }
}

// Per tile: the prediction's and the target's surface voxels (counts[tile],
// counts[tiles + 1 + tile]); per group: the same into groups[g], groups[G + g].
__global__ void __launch_bounds__(kSurfaceBlock)
    count_kernel(SurfaceProblem p, const u8* surface, i64 tiles, i64 group_count, u64* counts, u64* groups)
{
    using Reduce = cub::BlockReduce<u64, kSurfaceBlock>;
    __shared__ typename Reduce::TempStorage storage;
    const auto add = [](u64* at, u64 value) { atomicAdd(at, value); };
    const i64 tile = blockIdx.x;
    const SurfaceCounts mine =
        count_thread_body(p, surface, tile, static_cast<int>(threadIdx.x), group_count, groups, add);
    SurfaceCounts sums;
    sums.pred = Reduce(storage).Sum(mine.pred);
    __syncthreads();
    sums.target = Reduce(storage).Sum(mine.target);
    if (threadIdx.x == 0) {
        count_tile_body(p, tile, tiles, sums, counts, groups, add);
    }
}

// The binary two-sweep pass: squared distance along each line to the nearest
// voxel carrying `bit`.
__global__ void __launch_bounds__(kLineBlock)
    binary_pass_kernel(const u8* surface, u8 bit, double* dist, LineLayout layout, double spacing)
{
    for (i64 line = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; line < layout.lines;
         line += static_cast<i64>(gridDim.x) * blockDim.x) {
        binary_line_body(surface, bit, dist, layout, spacing, line);
    }
}

// An envelope pass in place: each of `threads` threads copies its lines to its
// scratch (interleaved with the other threads') and solves them into `dist`.
template <class MulAdd>
__global__ void __launch_bounds__(kLineBlock)
    envelope_pass_kernel(double* dist, LineLayout layout, double spacing, double* scratch, i64 threads)
{
    const i64 t = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x;
    if (t < threads) {
        envelope_thread_body<MulAdd>(dist, layout, spacing, scratch, threads, t);
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
    const i64 tile = blockIdx.x;
    i64 index[kSurfaceItems];
    const u64 mine = gather_select_body(p, surface, bit, tile, static_cast<int>(threadIdx.x), index);
    u64 offset = 0;
    Scan(storage).ExclusiveSum(mine, offset);
    gather_write_body(dist, index, sums, tile, offset, out);
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
    // Distances to the target's surface, read on the prediction's surface,
    // then to the prediction's surface, read on the target's.
    double* const out[2] = {d_pred_to_target, d_target_to_pred};
    for (int side = 0; side < 2; ++side) {
        if (out[side] == nullptr) {
            continue;
        }
        const DirectedSide direction = directed_side(side);
        if (const cudaError_t status =
                transform<MulAdd>(workspace, layout, problem, direction.feature, stream);
            status != cudaSuccess) {
            return status;
        }
        gather_kernel<<<tiles, kSurfaceBlock, 0, stream>>>(problem, surface, direction.read, dist,
                                                           sums + side * (layout.tiles + 1), out[side]);
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
