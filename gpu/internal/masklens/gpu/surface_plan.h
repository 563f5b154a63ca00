// Host-side steps of the CUDA surface-distance path, plain C++ built in every
// configuration (and tested without a device): describing the device problems, and turning the compact
// distances the device returns into the engine's per-group summaries.
#pragma once

#include "masklens/engine/distance_transform.h"
#include "masklens/engine/surface_distance.h"
#include "masklens/gpu/surface_kernel_math.h"

#include <array>
#include <cstdint>
#include <vector>

namespace masklens::gpu {

// The pair cropped as the CPU path crops it (engine crop_mask_pair).
using CroppedMasks = CroppedMaskPair;

// The device problem over a non-empty crop: surfaces and distances along
// `axes` (D, H, W), per-slice groups along group_axis (-1: none), spacing
// from options.spacing_xyz; `inside` is left null (the device copy's).
SurfaceProblem surface_problem(const GridBox& box, const std::array<bool, 3>& axes, int group_axis,
                               const SurfaceDistanceOptions& options, bool fused);

// The device problems of one sample (sample_surface_distances_cuda) over a
// non-empty crop: `whole` (3D, or the 2D image) and `per_slice` (groups along
// the slicing axis, `slices` of them over the grid; only for 3D samples).
struct SamplePlan {
    bool three_d = true;
    int group_axis = 0;      // the slicing axis: 0 D, 1 H, 2 W
    std::int64_t slices = 1; // slices along it in the whole grid
    SurfaceProblem whole;
    SurfaceProblem per_slice;
};
SamplePlan plan_sample(const GridBox& box, const MaskGrid& grid, SliceAxis axis,
                       const SurfaceDistanceOptions& options, bool fused);

// A sample whose masks are both empty: no surfaces anywhere (every summary
// NaN), one per slice along `axis` (one for a 2D image), as the CPU gives.
SampleSurfaceDistances empty_sample(const MaskGrid& grid, SliceAxis axis,
                                    const SurfaceDistanceOptions& options);

// Summaries of the device's compact distances: group_counts holds uint64
// [2][problem.groups()] (prediction, target surface voxels per box-local
// group), pred_to_target and target_to_pred the distances in grouped scan
// order. Returns one summary per group of the whole grid: `grid_groups`
// groups (a slice's index along group_axis; box-local group g is grid group
// box.lo[group_axis] + g), or one when group_axis < 0. Groups outside the box
// have no surface (NaN). The vectors are consumed.
std::vector<SurfaceDistances>
summarize_device_groups(const GridBox& box, int group_axis, std::int64_t grid_groups,
                        const std::vector<std::uint64_t>& group_counts, std::vector<double>& pred_to_target,
                        std::vector<double>& target_to_pred, const SurfaceDistanceOptions& options);

} // namespace masklens::gpu
