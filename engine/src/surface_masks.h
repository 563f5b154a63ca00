// The union bounding box of a prediction/target mask pair, shared by the
// voxel-mode crop (surface_masks.cpp) and the subvoxel corner grid
// (subvoxel_surface.cpp). Private to the engine.
#pragma once

#include "masklens/engine/distance_transform.h"

#include <array>
#include <cstdint>

namespace masklens::detail {

// Bounding box of (pred | target) over a [D, H, W] grid; empty box when both
// masks are empty.
GridBox union_box(const std::uint8_t* pred, const std::uint8_t* target,
                  const std::array<std::int64_t, 3>& ext, int threads);

} // namespace masklens::detail
