// Voxel-mode directed distances between two surfaces in a box: the choice of
// method (cost model and probe) and the two exact methods, the nearest-surface
// search and the EDT (directed_distances.cpp). Private to the engine.
#pragma once

#include "masklens/engine/distance_transform.h"
#include "masklens/engine/surface_distance.h"

#include <array>
#include <cstdint>
#include <vector>

namespace masklens::detail {

// Directed distances of one group (the whole image or one slice).
struct GroupDistances {
    std::vector<double> pred_to_target;
    std::vector<double> target_to_pred;
};

// How voxel-mode distances are found: the EDTs, the search at surface
// voxels, or the search only if a probe of it (rows_are_cheaper) says so.
enum class VoxelMethod { Transform, Search, ProbeSearch };

// Estimated costs (arbitrary units, measured on the benchmark's spheres and
// noise, see docs/benchmarks.md) of the two exact methods: the EDT touches
// every box voxel in each of its passes, twice; the tree search costs per
// surface voxel (building plus querying), growing with the tree's depth.
// Where that model prefers the EDT (surfaces filling much of their box), the
// row search may still be cheaper: it is probed.
VoxelMethod choose_voxel_method(SurfaceSearch search, std::int64_t box_voxels, std::int64_t pred_surface,
                                std::int64_t target_surface, int measured_axes);

// What rows_are_cheaper weighs: the two EDTs' work (box voxels times
// measured axes) against the search's queries (surface voxels of both masks).
struct SearchProbe {
    double edt_voxel_axes = 0;
    std::int64_t points = 0;
};

// Directed distances by the search at surface voxels (rows, then the k-d
// tree; see surface_search.h): `surface` holds the box's surface bits (1
// prediction, 2 target), in scan order. With a probe, first checks that the
// search is the cheaper method and returns false, computing nothing, when it
// is not (the caller runs the EDTs); returns true once the distances are in
// `result`.
bool nearest_neighbour_distances(const std::vector<std::uint8_t>& surface, const GridBox& box,
                                 const std::array<std::int64_t, 3>& ext, int group_axis,
                                 const SurfaceDistanceOptions& options, std::vector<GroupDistances>& result,
                                 float* pred_map, const SearchProbe* probe = nullptr);

// The batched core: a cropped mask pair of a [D, H, W] grid; surfaces and
// distances are measured along `axes`; group_axis (-1: none) splits the
// result per slice along an axis that must be excluded from `axes`.
std::vector<GroupDistances> directed_distances(const CroppedMaskPair& crop,
                                               const std::array<std::int64_t, 3>& ext,
                                               const std::array<bool, 3>& axes, int group_axis,
                                               const SurfaceDistanceOptions& options,
                                               float* pred_map = nullptr);
// The same for a whole mask pair, cropped first (crop_mask_pair).
std::vector<GroupDistances> directed_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                               const std::array<std::int64_t, 3>& ext,
                                               const std::array<bool, 3>& axes, int group_axis,
                                               const SurfaceDistanceOptions& options,
                                               float* pred_map = nullptr);

} // namespace masklens::detail
