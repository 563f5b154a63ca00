// The surface-distance metrics (hd, hd95, assd, nsd) on a CUDA device:
// masklens::sample_surface_distances with the distances found on the GPU.
//
// What runs where (voxel mode, the default): the host crops the pair to the
// bounding box of (prediction | target), as the CPU does, and uploads that box
// only (one byte per voxel); the device extracts both surfaces, runs the
// exact squared EDT of each surface over the box (the engine's separable
// line solvers, distance_transform.h, one thread per line, double precision)
// and gathers the distances at the other surface's voxels into compact
// per-group arrays: one group for the sample, one per slice for the per-slice
// values (all slices in the same launches). The host copies those distances
// back and summarises them with the engine's summarize_surface_distances, so
// hd, hd95 (percentile and --hd-rule), assd and nsd are the CPU's code on the
// same distances: equal to the CPU's to rounding (the squared distances are
// rounded as the CPU transform rounds them, FMA or not, and sqrt is correctly
// rounded on both).
//
// Falls back to the CPU (sample_surface_distances itself): subvoxel mode
// (options.surface == SurfaceMode::Subvoxel), and a box whose device memory
// (at most 26 bytes per box voxel, plus the EDT scratch: an eighth of
// the budget, 64 MiB to 4 GiB) exceeds CudaConfig::memory_budget (default: 90%
// of the free device memory). Both masks empty: NaN, without a device call.
#pragma once

#include "masklens/engine/surface_distance.h"
#include "masklens/gpu/cuda_statistics.h"

#include <cstdint>

namespace masklens::gpu {

// sample_surface_distances on the device: same results (to rounding), same
// Error(Usage) for bad options or dimensions. Work is ordered after what is
// queued on `stream` and finished when this returns. Throws Error(Device)
// with the CUDA message when the device fails, and in builds without the
// CUDA path ("this build has no CUDA path ...").
SampleSurfaceDistances sample_surface_distances_cuda(const std::uint8_t* pred, const std::uint8_t* target,
                                                     const MaskGrid& grid, SliceAxis axis,
                                                     const SurfaceDistanceOptions& options,
                                                     StreamHandle stream = nullptr,
                                                     const CudaConfig& config = {});

// Whether the CPU transform in this binary rounds a * b + c once (an FMA)
// or twice, found by running it on a tiny grid (cached). The device kernels
// use the same rounding. Plain C++: available in every build.
bool cpu_transform_fuses_multiply_add();

} // namespace masklens::gpu
