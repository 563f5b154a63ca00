// Subvoxel (DeepMind surface-distance) surfaces: area-weighted surface
// elements on voxel corners and their distances (subvoxel_surface.cpp).
// Private to the engine.
#pragma once

#include "masklens/engine/surface_distance.h"

#include <array>
#include <cstdint>

namespace masklens::detail {

// The subvoxel surface distances of one 2D ([1, H, W], spatial_dims 2) or 3D
// mask pair; one empty mask leaves the other's surfels at +inf.
SurfaceDistances subvoxel_surface_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                            const std::array<std::int64_t, 3>& ext, int spatial_dims,
                                            const SurfaceDistanceOptions& options);

} // namespace masklens::detail
