// The connected-components kernels (cuda_components.h), in the CUB style of
// the other kernels: an explicit stream and a status return; nothing throws.
// Only available in builds with the CUDA path.
//
//   label_parents(d_mask, d_parents, grid, connectivity, stream)
//     d_mask: grid.voxels() bytes (nonzero = foreground); d_parents:
//     grid.voxels() uint32, written: kNoParent for background, else the
//     raster index of the voxel's root (its component's smallest index).
#pragma once

#include "masklens/engine/components.h"

#include <cuda_runtime_api.h>

#include <cstdint>

namespace masklens::gpu {

cudaError_t label_parents(const std::uint8_t* d_mask, std::uint32_t* d_parents, const ComponentGrid& grid,
                          int connectivity, cudaStream_t stream);

} // namespace masklens::gpu
