// Connected components of a binary mask (lesions): exact labelling with one
// union-find over the mask's runs (maximal stretches of foreground along W).
//
// Grid: a C-order array [D, H, W] of bytes, nonzero = foreground; 2D data is
// one plane (D = 1). Units: voxels (no spacing is involved: connectivity is a
// property of the grid, not of the geometry).
//
// Connectivity (which neighbours join a voxel to a component), as
// connected-components-3d (cc3d) and scipy.ndimage.label define it:
//   3D:  6  faces only;  18  faces and edges;  26  faces, edges and corners
//   2D:  4  edges only;   8  edges and corners (within the plane)
//   0    the default: 26 for 3D grids, 8 for 2D grids.
// A 2D connectivity on a 3D grid (or 3D on 2D) is Error(Usage).
//
// Labels: 0 background, 1..count for the components, numbered in the order
// of their first voxel in C (raster) order. Equal to cc3d's labels up to
// renumbering (tests/engine/test_components.cpp checks exactly that).
//
// Limits: at most kMaxComponents components (labels are 32-bit); the label
// array (4 bytes per voxel) is checked against the memory cap
// (volume.h memory_cap_bytes) before it is allocated: Error(Input) otherwise.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace masklens {

inline constexpr std::int64_t kMaxComponents = 0xFFFFFFFE;

struct ComponentGrid {
    std::int64_t d = 1, h = 1, w = 1;
    int spatial_dims = 3; // 2: one plane (d must be 1)

    std::int64_t voxels() const noexcept { return d * h * w; }
};

// An allocator that leaves new elements uninitialised (labelling writes
// every voxel once; zeroing first would touch the memory twice).
template <class T> struct UninitialisedAllocator : std::allocator<T> {
    template <class U> struct rebind {
        using other = UninitialisedAllocator<U>;
    };
    UninitialisedAllocator() = default;
    template <class U> UninitialisedAllocator(const UninitialisedAllocator<U>&) noexcept {}
    template <class U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <class U, class... Args> void construct(U* p, Args&&... args)
    {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
};
using LabelVector = std::vector<std::uint32_t, UninitialisedAllocator<std::uint32_t>>;

struct Components {
    LabelVector labels;     // grid.voxels() entries, C order
    std::int64_t count = 0; // components (labels 1..count)
};

// 26 for 3D grids, 8 for 2D grids when `connectivity` is 0; otherwise checks
// it against the grid (Error(Usage) for anything else) and returns it.
int resolve_connectivity(int connectivity, int spatial_dims);

// Labels the components of `mask` (grid.voxels() bytes). threads <= 0: all
// hardware threads. `what` names the data in errors (a file or "prediction").
Components label_components(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                            int threads = 0, const std::string& what = "mask");

} // namespace masklens
