// The public surface-distance entry points (surface_distance.h): checks, the
// voxel or subvoxel path per problem, slices and samples, and summaries.
#include "masklens/engine/surface_distance.h"

#include "directed_distances.h"
#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"
#include "subvoxel_surface.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace masklens {

namespace {

using Extent = std::array<std::int64_t, 3>;

void throw_if_cancelled(const SurfaceDistanceOptions& options)
{
    if (options.cancel != nullptr && options.cancel->load()) {
        throw Error(Error::Kind::Cancelled, {}, "surface distances cancelled");
    }
}

std::vector<SurfaceDistances> summarize_groups(std::vector<detail::GroupDistances>& groups,
                                               const SurfaceDistanceOptions& options)
{
    std::vector<SurfaceDistances> out(groups.size());
    std::int64_t cost = 0;
    for (const auto& g : groups) {
        cost += static_cast<std::int64_t>(g.pred_to_target.size() + g.target_to_pred.size());
    }
    const auto count = static_cast<std::int64_t>(groups.size());
    const int workers = detail::worker_count(options.threads, count, cost);
    detail::parallel_for(count, workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t i = begin; i < end; ++i) {
            auto& g = groups[static_cast<std::size_t>(i)];
            out[static_cast<std::size_t>(i)] =
                summarize_surface_distances(g.pred_to_target, g.target_to_pred, options);
        }
    });
    return out;
}

// Slice `index` along `axis` (0 D, 1 H, 2 W) of a [D, H, W] mask as a [1, rows, cols] plane.
std::vector<std::uint8_t> take_slice(const std::uint8_t* mask, const Extent& ext, int axis,
                                     std::int64_t index, Extent& plane)
{
    const int r = axis == 0 ? 1 : 0;
    const int c = axis == 2 ? 1 : 2;
    plane = {1, ext[static_cast<std::size_t>(r)], ext[static_cast<std::size_t>(c)]};
    std::vector<std::uint8_t> out(static_cast<std::size_t>(plane[1] * plane[2]));
    for (std::int64_t i = 0; i < plane[1]; ++i) {
        for (std::int64_t j = 0; j < plane[2]; ++j) {
            Extent p{0, 0, 0};
            p[static_cast<std::size_t>(axis)] = index;
            p[static_cast<std::size_t>(r)] = i;
            p[static_cast<std::size_t>(c)] = j;
            out[static_cast<std::size_t>(i * plane[2] + j)] = mask[(p[0] * ext[1] + p[1]) * ext[2] + p[2]];
        }
    }
    return out;
}

} // namespace

void validate(const SurfaceDistanceOptions& options)
{
    if (!(options.percentile >= 0 && options.percentile <= 100)) {
        throw_usage_error("surface distance: the percentile must lie in [0, 100]");
    }
    for (const double s : options.spacing_xyz) {
        if (!(s > 0) || !std::isfinite(s)) {
            throw_usage_error("surface distance: spacing must be positive and finite");
        }
    }
    if (options.nsd_tolerance_mm &&
        !(*options.nsd_tolerance_mm >= 0 && std::isfinite(*options.nsd_tolerance_mm))) {
        throw_usage_error("surface distance: the NSD tolerance must be a non-negative number of mm");
    }
}

SurfaceDistances surface_distances(const std::uint8_t* pred, const std::uint8_t* target, const MaskGrid& grid,
                                   const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    const Extent ext{grid.d, grid.h, grid.w};
    if (options.surface == SurfaceMode::Subvoxel) {
        return detail::subvoxel_surface_distances(pred, target, ext, grid.spatial_dims, options);
    }
    const std::array<bool, 3> axes{grid.spatial_dims == 3, true, true};
    auto groups = detail::directed_distances(pred, target, ext, axes, -1, options);
    throw_if_cancelled(options);
    return summarize_groups(groups, options).front();
}

std::vector<SurfaceDistances> surface_distances_per_slice(const std::uint8_t* pred,
                                                          const std::uint8_t* target, const MaskGrid& grid,
                                                          SliceAxis axis,
                                                          const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    if (grid.spatial_dims == 2) {
        return {surface_distances(pred, target, grid, options)};
    }
    const int group_axis = axis == SliceAxis::H ? 1 : axis == SliceAxis::W ? 2 : 0;
    if (options.surface == SurfaceMode::Subvoxel) {
        // One 2D subvoxel problem per slice (not batched), in-plane spacing.
        const Extent ext{grid.d, grid.h, grid.w};
        const auto& sp = options.spacing_xyz;
        SurfaceDistanceOptions plane_options = options;
        // In-plane (rows, columns) spacing as (x = columns, y = rows).
        plane_options.spacing_xyz = group_axis == 0   ? std::array<double, 3>{sp[0], sp[1], 1.0}
                                    : group_axis == 1 ? std::array<double, 3>{sp[0], sp[2], 1.0}
                                                      : std::array<double, 3>{sp[1], sp[2], 1.0};
        std::vector<SurfaceDistances> out;
        out.reserve(static_cast<std::size_t>(ext[static_cast<std::size_t>(group_axis)]));
        for (std::int64_t i = 0; i < ext[static_cast<std::size_t>(group_axis)]; ++i) {
            Extent plane{};
            const auto p = take_slice(pred, ext, group_axis, i, plane);
            const auto t = take_slice(target, ext, group_axis, i, plane);
            out.push_back(detail::subvoxel_surface_distances(p.data(), t.data(), plane, 2, plane_options));
        }
        return out;
    }
    std::array<bool, 3> axes{true, true, true};
    axes[static_cast<std::size_t>(group_axis)] = false;
    const Extent ext{grid.d, grid.h, grid.w};
    auto groups = detail::directed_distances(pred, target, ext, axes, group_axis, options);
    throw_if_cancelled(options);
    return summarize_groups(groups, options);
}

SampleSurfaceDistances sample_surface_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                                const MaskGrid& grid, SliceAxis axis,
                                                const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    SampleSurfaceDistances out;
    if (grid.spatial_dims == 2 || options.surface == SurfaceMode::Subvoxel) {
        throw_if_cancelled(options);
        out.whole = surface_distances(pred, target, grid, options);
        throw_if_cancelled(options);
        out.slices = grid.spatial_dims == 2 ? std::vector<SurfaceDistances>{out.whole}
                                            : surface_distances_per_slice(pred, target, grid, axis, options);
        return out;
    }
    const Extent ext{grid.d, grid.h, grid.w};
    throw_if_cancelled(options);
    const CroppedMaskPair crop = crop_mask_pair(pred, target, ext, options.threads);
    auto whole = detail::directed_distances(crop, ext, {true, true, true}, -1, options);
    throw_if_cancelled(options);
    out.whole = summarize_groups(whole, options).front();
    const int group_axis = axis == SliceAxis::H ? 1 : axis == SliceAxis::W ? 2 : 0;
    std::array<bool, 3> axes{true, true, true};
    axes[static_cast<std::size_t>(group_axis)] = false;
    auto slices = detail::directed_distances(crop, ext, axes, group_axis, options);
    throw_if_cancelled(options);
    out.slices = summarize_groups(slices, options);
    return out;
}

std::vector<float> surface_distance_map(const std::uint8_t* pred, const std::uint8_t* target,
                                        const MaskGrid& grid, const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    std::vector<float> map(static_cast<std::size_t>(grid.voxels()), std::numeric_limits<float>::quiet_NaN());
    const Extent ext{grid.d, grid.h, grid.w};
    const std::array<bool, 3> axes{grid.spatial_dims == 3, true, true};
    detail::directed_distances(pred, target, ext, axes, -1, options, map.data());
    return map;
}

void check_mask_grid(const MaskGrid& grid)
{
    if (grid.d <= 0 || grid.h <= 0 || grid.w <= 0) {
        throw_usage_error("surface distance: mask extents must be positive");
    }
    if (grid.spatial_dims != 2 && grid.spatial_dims != 3) {
        throw_usage_error("surface distance: spatial_dims must be 2 or 3");
    }
    if (grid.spatial_dims == 2 && grid.d != 1) {
        throw_usage_error("surface distance: a 2D mask must have d == 1");
    }
}

SurfaceDistanceReport compute_surface_distances(const Volume& prediction, const MaskSelector& pred_selector,
                                                const Volume& target, const MaskSelector& target_selector,
                                                const SurfaceDistanceOptions& options, bool per_slice,
                                                SliceAxis axis)
{
    validate(options);
    const Shape& ps = prediction.shape();
    const Shape& ts = target.shape();
    if (ps.n != ts.n || ps.d != ts.d || ps.h != ts.h || ps.w != ts.w || ps.spatial_dims != ts.spatial_dims) {
        throw_input_error(prediction.source(), "shape " + ps.to_string() + " does not match the target's " +
                                                   ts.to_string() + " (surface distances)");
    }
    SurfaceDistanceReport report;
    report.samples = ps.n;
    report.axis = axis == SliceAxis::Default ? SliceAxis::D : axis;
    const std::int64_t voxels = ps.voxels_per_channel();
    if (ps.spatial_dims == 2) {
        // A batch of 2D samples: solved as slices of one [n, H, W] stack, in
        // chunks of at most ~64M voxels.
        report.axis = SliceAxis::D;
        const std::int64_t chunk =
            std::max<std::int64_t>(1, (std::int64_t{1} << 26) / std::max<std::int64_t>(1, voxels));
        for (std::int64_t first = 0; first < ps.n; first += chunk) {
            const std::int64_t count = std::min(chunk, ps.n - first);
            std::vector<std::uint8_t> p(static_cast<std::size_t>(count * voxels));
            std::vector<std::uint8_t> t(static_cast<std::size_t>(count * voxels));
            for (std::int64_t s = 0; s < count; ++s) {
                const auto pm = extract_mask(prediction, first + s, pred_selector);
                const auto tm = extract_mask(target, first + s, target_selector);
                std::memcpy(p.data() + s * voxels, pm.data(), pm.size());
                std::memcpy(t.data() + s * voxels, tm.data(), tm.size());
            }
            const MaskGrid stack{count, ps.h, ps.w, 3};
            auto values = surface_distances_per_slice(p.data(), t.data(), stack, SliceAxis::D, options);
            report.per_sample.insert(report.per_sample.end(), values.begin(), values.end());
        }
        if (per_slice) {
            report.slices_per_sample = 1;
            report.per_slice = report.per_sample;
        }
        return report;
    }
    const MaskGrid grid{ps.d, ps.h, ps.w, 3};
    if (per_slice) {
        report.slices_per_sample = report.axis == SliceAxis::H   ? ps.h
                                   : report.axis == SliceAxis::W ? ps.w
                                                                 : ps.d;
    }
    for (std::int64_t s = 0; s < ps.n; ++s) {
        const auto p = extract_mask(prediction, s, pred_selector);
        const auto t = extract_mask(target, s, target_selector);
        report.per_sample.push_back(surface_distances(p.data(), t.data(), grid, options));
        if (per_slice) {
            auto values = surface_distances_per_slice(p.data(), t.data(), grid, report.axis, options);
            report.per_slice.insert(report.per_slice.end(), values.begin(), values.end());
        }
    }
    return report;
}

} // namespace masklens
