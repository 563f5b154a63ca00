// The CUDA labelling's shared pieces (cuda_components.h): the neighbours a
// voxel joins (used by the kernel and by the host emulation the tests run)
// and the host's renumbering of roots. Plain C++ (the neighbour table is
// also __host__ __device__ under nvcc).
#pragma once

#include "masklens/engine/components.h"

#include <cstdint>
#include <string>

#if defined(__CUDACC__)
#define MASKLENS_CC_HD __host__ __device__
#else
#define MASKLENS_CC_HD
#endif

namespace masklens::gpu {

// Marks a background voxel in the parent array.
inline constexpr std::uint32_t kNoParent = 0xFFFFFFFFU;

// The already-visited neighbours (smaller raster index) of a voxel for a
// connectivity: 6 -> 3, 18 -> 9, 26 -> 13, 4 -> 2, 8 -> 4 offsets. Writes
// (dz, dy, dx) triples into `out` (room for 13) and returns their count.
// A 2D connectivity uses dz = 0 only.
MASKLENS_CC_HD inline int backward_neighbours(int connectivity, int out[13][3])
{
    int n = 0;
    for (int dz = -1; dz <= 0; ++dz) {
        for (int dy = -1; dy <= 1; ++dy) {
            for (int dx = -1; dx <= 1; ++dx) {
                // Only offsets that come earlier in raster order.
                if (dz == 0 && (dy > 0 || (dy == 0 && dx >= 0))) {
                    continue;
                }
                const int nonzero = (dz != 0) + (dy != 0) + (dx != 0);
                const bool planar = connectivity == 4 || connectivity == 8;
                if (planar && dz != 0) {
                    continue;
                }
                const int reach = connectivity == 6 || connectivity == 4 ? 1 : connectivity == 18 ? 2 : 3;
                if (nonzero > reach) {
                    continue;
                }
                out[n][0] = dz;
                out[n][1] = dy;
                out[n][2] = dx;
                ++n;
            }
        }
    }
    return n;
}

// parents[i]: kNoParent for background, else the raster index of i's root,
// a root being its own parent and the smallest index of its component.
// Rewrites the array in place into labels (0 background, 1..count in raster
// order of the roots) and returns count. Error(Input) naming `what` beyond
// kMaxComponents; Error(Device) for a parent that is not a root at a smaller
// index (a broken device result, never silently relabelled).
std::int64_t renumber_roots(std::uint32_t* parents, std::int64_t voxels, const std::string& what);

// The device algorithm run on the host, sequentially (tests): the kernels'
// own per-voxel bodies (component_kernel_bodies.h) for every voxel, giving
// the parent array the kernels would produce for `mask`.
void union_find_parents_on_host(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                                std::uint32_t* parents);

} // namespace masklens::gpu
