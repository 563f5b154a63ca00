// Connected components (components.h) on a CUDA device: the same labels as
// masklens::label_components, bit for bit (0 background, 1..count in raster
// order of each component's first voxel).
//
// What runs where: the device runs a union-find over voxels (every
// foreground voxel starts as its own root; each joins its already-visited
// neighbours under the connectivity with atomicMin on the larger root, so a
// root is always its component's smallest raster index; then every voxel
// points straight at its root). The host copies those root indices back and
// numbers the roots in raster order in one pass (renumber_roots,
// component_plan.h), which is what makes the labels equal the CPU's.
//
// Limits: grids of fewer than 2^32 - 1 voxels (32-bit indices; Error(Input)
// otherwise); device memory 5 bytes per voxel; the host label array is
// checked against the memory cap as on the CPU.
#pragma once

#include "masklens/engine/components.h"
#include "masklens/gpu/cuda_statistics.h"

#include <cstdint>
#include <string>

namespace masklens::gpu {

// label_components on the device: same results, same Error(Usage) for a bad
// connectivity. Work is ordered after what is queued on `stream` and
// finished when this returns. Error(Device) with the CUDA message when the
// device fails, and in builds without the CUDA path.
Components label_components_cuda(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                                 StreamHandle stream = nullptr, const std::string& what = "mask");

} // namespace masklens::gpu
