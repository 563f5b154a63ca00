// The surface-distance kernels (voxel mode), in the CUB style: an explicit
// stream, a status return and an explicit workspace laid out by
// surface_workspace_layout. Only available in builds with the CUDA path.
//
//     SurfaceWorkspace layout;
//     surface_workspace_layout(problem, scratch_budget, &layout); // size query
//     ... allocate layout.total_bytes of device memory ...
//     extract_surfaces(workspace, layout, problem, stream);
//     ... read the per-group counts at layout.group_offset (uint64 [2][groups])
//         and allocate the two distance arrays ...
//     surface_directed_distances(workspace, layout, problem, d_pt, d_tp, stream);
//
// extract_surfaces marks the surface voxels (surface_bits) and counts them
// per tile and per group. surface_directed_distances runs the exact squared
// EDT of the target's surface over the box (separable passes, one thread per
// line, the engine's line solvers) and writes sqrt of it at the prediction's
// surface voxels to d_pt, then the same the other way round to d_tp; both in
// grouped scan order (grouped_position_to_index), so group g's distances
// follow group g - 1's. Every CUDA call and launch is checked and the first
// error returned; nothing throws.
#pragma once

#include "masklens/gpu/surface_kernel_math.h"

#include <cuda_runtime_api.h>

#include <cstddef>

namespace masklens::gpu {

// cudaErrorInvalidValue for a malformed problem or a null `layout`.
cudaError_t surface_workspace_layout(const SurfaceProblem& problem, std::size_t scratch_budget,
                                     SurfaceWorkspace* layout);

cudaError_t extract_surfaces(void* workspace, const SurfaceWorkspace& layout, const SurfaceProblem& problem,
                             cudaStream_t stream);

// d_pred_to_target and d_target_to_pred hold the totals extract_surfaces
// counted (either may be null when its count is 0).
cudaError_t surface_directed_distances(void* workspace, const SurfaceWorkspace& layout,
                                       const SurfaceProblem& problem, double* d_pred_to_target,
                                       double* d_target_to_pred, cudaStream_t stream);

} // namespace masklens::gpu
