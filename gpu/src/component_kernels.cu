// Connected components on the device (component_kernels.h): union-find over
// voxels with atomicMin, as in Playne and Hawick's block-free variant
// (written from the description: init, unite with the already-visited
// neighbours, flatten). Grid-stride loops over the per-voxel bodies of
// component_kernel_bodies.h, which the host emulation runs too.
#include "masklens/gpu/component_kernel_bodies.h"
#include "masklens/gpu/component_kernels.h"
#include "masklens/gpu/component_plan.h"

namespace masklens::gpu {

namespace {

__global__ void init_parents(const std::uint8_t* mask, std::uint32_t* parents, long long voxels)
{
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        init_parent_body(mask, parents, i);
    }
}

__global__ void merge_neighbours(const std::uint8_t* mask, std::uint32_t* parents, ComponentExtents e,
                                 int connectivity)
{
    const auto atomic_min = [](std::uint32_t* at, std::uint32_t value) { return atomicMin(at, value); };
    int offsets[13][3];
    const int n = backward_neighbours(connectivity, offsets);
    const long long voxels = e.d * e.h * e.w;
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        merge_voxel_body(mask, parents, e, offsets, n, i, atomic_min);
    }
}

__global__ void flatten(std::uint32_t* parents, long long voxels)
{
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        flatten_body(parents, i);
    }
}

} // namespace

cudaError_t label_parents(const std::uint8_t* d_mask, std::uint32_t* d_parents, const ComponentGrid& grid,
                          int connectivity, cudaStream_t stream)
{
    const long long voxels = grid.voxels();
    if (voxels <= 0 || voxels >= static_cast<long long>(kNoParent) || d_mask == nullptr ||
        d_parents == nullptr) {
        return cudaErrorInvalidValue;
    }
    constexpr int threads = 256;
    const long long wanted = (voxels + threads - 1) / threads;
    const int blocks = static_cast<int>(wanted < 65535 * 8 ? wanted : 65535 * 8);
    init_parents<<<blocks, threads, 0, stream>>>(d_mask, d_parents, voxels);
    merge_neighbours<<<blocks, threads, 0, stream>>>(d_mask, d_parents,
                                                     ComponentExtents{grid.d, grid.h, grid.w}, connectivity);
    flatten<<<blocks, threads, 0, stream>>>(d_parents, voxels);
    return cudaGetLastError();
}

} // namespace masklens::gpu
