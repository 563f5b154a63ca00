// Connected components on the device (component_kernels.h): union-find over
// voxels with atomicMin, as in Playne and Hawick's block-free variant
// (written from the description: init, unite with the already-visited
// neighbours, flatten).
#include "masklens/gpu/component_kernels.h"
#include "masklens/gpu/component_plan.h"

namespace masklens::gpu {

namespace {

struct Extents {
    long long d, h, w;
};

__global__ void init_parents(const std::uint8_t* mask, std::uint32_t* parents, long long voxels)
{
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        parents[i] = mask[i] != 0 ? static_cast<std::uint32_t>(i) : kNoParent;
    }
}

// The root of i; parents only ever decrease, so a stale read still leads to
// a root eventually (the loop ends at a self-parent).
__device__ std::uint32_t find_root(const std::uint32_t* parents, std::uint32_t i)
{
    std::uint32_t next = parents[i];
    while (next != i) {
        i = next;
        next = parents[i];
    }
    return i;
}

// Joins the sets of a and b: the larger root is hung under the smaller with
// atomicMin; when another thread changed it first, try again from there.
__device__ void unite(std::uint32_t* parents, std::uint32_t a, std::uint32_t b)
{
    while (true) {
        a = find_root(parents, a);
        b = find_root(parents, b);
        if (a == b) {
            return;
        }
        if (a > b) {
            const std::uint32_t t = a;
            a = b;
            b = t;
        }
        const std::uint32_t old = atomicMin(&parents[b], a);
        if (old == b) {
            return;
        }
        b = old; // b had been hung elsewhere meanwhile
    }
}

__global__ void merge_neighbours(const std::uint8_t* mask, std::uint32_t* parents, Extents e,
                                 int connectivity)
{
    int offsets[13][3];
    const int n = backward_neighbours(connectivity, offsets);
    const long long voxels = e.d * e.h * e.w;
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        if (mask[i] == 0) {
            continue;
        }
        const long long x = i % e.w, y = (i / e.w) % e.h, z = i / (e.w * e.h);
        for (int k = 0; k < n; ++k) {
            const long long nz = z + offsets[k][0], ny = y + offsets[k][1], nx = x + offsets[k][2];
            if (nz < 0 || ny < 0 || ny >= e.h || nx < 0 || nx >= e.w) {
                continue;
            }
            const long long j = (nz * e.h + ny) * e.w + nx;
            if (mask[j] != 0) {
                unite(parents, static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
            }
        }
    }
}

__global__ void flatten(std::uint32_t* parents, long long voxels)
{
    for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < voxels;
         i += static_cast<long long>(gridDim.x) * blockDim.x) {
        if (parents[i] != kNoParent) {
            parents[i] = find_root(parents, static_cast<std::uint32_t>(i));
        }
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
    merge_neighbours<<<blocks, threads, 0, stream>>>(d_mask, d_parents, Extents{grid.d, grid.h, grid.w},
                                                     connectivity);
    flatten<<<blocks, threads, 0, stream>>>(d_parents, voxels);
    return cudaGetLastError();
}

} // namespace masklens::gpu
