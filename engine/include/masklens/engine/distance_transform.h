// Exact squared Euclidean distance transform on 2D and 3D grids.
//
// Separable lower-envelope algorithm (Felzenszwalb & Huttenlocher, "Distance
// Transforms of Sampled Functions", 2012): one pass per axis, each line solved
// exactly in linear time, anisotropic spacing supported. The first pass (along
// the innermost transformed axis) reads the binary feature grid directly with
// two sweeps; the others compute the lower envelope of parabolas. Lines are
// processed in parallel on all hardware threads; strided axes are handled in
// blocks of adjacent lines so that memory is read in whole cache lines.
//
// Grids are C-ordered [D, H, W] (W fastest), like one channel of a Volume;
// spacing is given in the Geometry's (x, y, z) = (W, H, D) order, in mm.
// Results are squared distances in mm^2 between voxel centres; +inf where no
// feature voxel exists (in the whole grid, or in the voxel's slice when an axis
// is excluded).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

namespace masklens {

struct EdtGrid {
    std::array<std::int64_t, 3> extent_dhw{1, 1, 1};
    std::array<double, 3> spacing_xyz{1.0, 1.0, 1.0};
    // Axes (D, H, W) along which distances are measured. Excluding an axis makes
    // its slices independent problems solved in the same pass: {false, true,
    // true} is a batch of 2D transforms, one per D slice.
    std::array<bool, 3> axes_dhw{true, true, true};

    std::int64_t voxels() const noexcept { return extent_dhw[0] * extent_dhw[1] * extent_dhw[2]; }
};

// A half-open sub-box [lo, hi) of a grid, per axis in (D, H, W) order.
struct GridBox {
    std::array<std::int64_t, 3> lo{0, 0, 0};
    std::array<std::int64_t, 3> hi{0, 0, 0};

    std::array<std::int64_t, 3> extent() const noexcept
    {
        return {hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2]};
    }
    std::int64_t voxels() const noexcept
    {
        const auto e = extent();
        return e[0] * e[1] * e[2];
    }
    bool empty() const noexcept { return hi[0] <= lo[0] || hi[1] <= lo[1] || hi[2] <= lo[2]; }
};

// For every voxel, the squared distance (mm^2) to the nearest voxel whose
// feature byte has any bit of `feature_bits` set. `out` holds grid.voxels()
// values and may not alias `feature`. threads <= 0: all hardware threads.
// Throws Error(Usage) for non-positive extents or spacing.
void squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid, double* out,
                                int threads = 0, std::uint8_t feature_bits = 0xFF);
std::vector<double> squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid,
                                               int threads = 0, std::uint8_t feature_bits = 0xFF);

// The same transform restricted to `box`: only feature voxels inside the box
// are considered, and distances are computed for the box's voxels only. `out`
// holds box.voxels() values, C-ordered over the box. Exact whenever every
// feature voxel lies inside the box.
void squared_distance_transform_box(const std::uint8_t* feature, const EdtGrid& grid, const GridBox& box,
                                    double* out, int threads = 0, std::uint8_t feature_bits = 0xFF);

namespace detail {

// Number of worker threads for `work` items of roughly `cost` voxels each.
int worker_count(int requested, std::int64_t work_items, std::int64_t total_cost);

// Runs fn(begin, end, thread_index) over [0, count) split into contiguous
// ranges, one per thread, on `threads` std::threads (inline when 1).
// Exceptions thrown by fn are rethrown in the caller.
void parallel_for(std::int64_t count, int threads,
                  const std::function<void(std::int64_t, std::int64_t, int)>& fn);

// One line of the envelope pass: out[p] = min_q (s (p - q))^2 + f[q].
// v and z are scratch of n and 2 n + 1 elements. f may hold +inf.
void envelope_1d(const double* f, std::int64_t n, double spacing, double* out, std::int64_t* v, double* z);

} // namespace detail

} // namespace masklens
