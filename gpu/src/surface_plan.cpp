// Host-side steps of the CUDA surface-distance path (surface_plan.h).
#include "masklens/gpu/surface_plan.h"

#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"
#include "masklens/gpu/cuda_surface_distance.h"

#include <algorithm>

namespace masklens::gpu {

SurfaceProblem surface_problem(const GridBox& box, const std::array<bool, 3>& axes, int group_axis,
                               const SurfaceDistanceOptions& options, bool fused)
{
    SurfaceProblem problem;
    const auto e = box.extent();
    for (std::size_t a = 0; a < 3; ++a) {
        problem.extent[a] = e[a];
        problem.axes[a] = axes[a];
        problem.spacing[a] = options.spacing_xyz[2 - a]; // (x, y, z) = (W, H, D)
    }
    problem.group_axis = group_axis;
    problem.fused = fused;
    return problem;
}

namespace {

int group_axis_of(SliceAxis axis)
{
    return axis == SliceAxis::H ? 1 : axis == SliceAxis::W ? 2 : 0;
}

std::int64_t slices_along(const MaskGrid& grid, int group_axis)
{
    return group_axis == 0 ? grid.d : group_axis == 1 ? grid.h : grid.w;
}

} // namespace

SamplePlan plan_sample(const GridBox& box, const MaskGrid& grid, SliceAxis axis,
                       const SurfaceDistanceOptions& options, bool fused)
{
    SamplePlan plan;
    plan.three_d = grid.spatial_dims == 3;
    plan.group_axis = group_axis_of(axis);
    plan.slices = slices_along(grid, plan.group_axis);
    plan.whole = surface_problem(box, {plan.three_d, true, true}, -1, options, fused);
    std::array<bool, 3> slice_axes{true, true, true};
    slice_axes[static_cast<std::size_t>(plan.group_axis)] = false;
    plan.per_slice = surface_problem(box, slice_axes, plan.group_axis, options, fused);
    return plan;
}

SampleSurfaceDistances empty_sample(const MaskGrid& grid, SliceAxis axis,
                                    const SurfaceDistanceOptions& options)
{
    SampleSurfaceDistances out;
    std::vector<double> none;
    out.whole = summarize_surface_distances(none, none, options);
    const std::int64_t slices = grid.spatial_dims == 3 ? slices_along(grid, group_axis_of(axis)) : 1;
    out.slices.assign(static_cast<std::size_t>(slices), out.whole);
    return out;
}

std::vector<SurfaceDistances>
summarize_device_groups(const GridBox& box, int group_axis, std::int64_t grid_groups,
                        const std::vector<std::uint64_t>& group_counts, std::vector<double>& pred_to_target,
                        std::vector<double>& target_to_pred, const SurfaceDistanceOptions& options)
{
    const auto local_groups = static_cast<std::int64_t>(group_counts.size() / 2);
    std::uint64_t total_p = 0;
    std::uint64_t total_t = 0;
    for (std::int64_t g = 0; g < local_groups; ++g) {
        total_p += group_counts[static_cast<std::size_t>(g)];
        total_t += group_counts[static_cast<std::size_t>(local_groups + g)];
    }
    if (total_p != pred_to_target.size() || total_t != target_to_pred.size()) {
        throw Error(Error::Kind::Device, {},
                    "CUDA surface distances: the device returned " + std::to_string(pred_to_target.size()) +
                        " + " + std::to_string(target_to_pred.size()) + " distances for " +
                        std::to_string(total_p) + " + " + std::to_string(total_t) + " surface voxels");
    }
    const std::int64_t groups = group_axis < 0 ? 1 : grid_groups;
    const std::int64_t first = group_axis < 0 ? 0 : box.lo[static_cast<std::size_t>(group_axis)];
    if (group_axis < 0) {
        return {summarize_surface_distances(pred_to_target, target_to_pred, options)};
    }
    // Each group's slice of the compact arrays, then the summaries in parallel.
    std::vector<std::vector<double>> pt(static_cast<std::size_t>(groups));
    std::vector<std::vector<double>> tp(static_cast<std::size_t>(groups));
    std::size_t p_at = 0;
    std::size_t t_at = 0;
    for (std::int64_t g = 0; g < local_groups; ++g) {
        const auto np = static_cast<std::size_t>(group_counts[static_cast<std::size_t>(g)]);
        const auto nt = static_cast<std::size_t>(group_counts[static_cast<std::size_t>(local_groups + g)]);
        const auto u = static_cast<std::size_t>(first + g);
        pt[u].assign(pred_to_target.begin() + static_cast<std::ptrdiff_t>(p_at),
                     pred_to_target.begin() + static_cast<std::ptrdiff_t>(p_at + np));
        tp[u].assign(target_to_pred.begin() + static_cast<std::ptrdiff_t>(t_at),
                     target_to_pred.begin() + static_cast<std::ptrdiff_t>(t_at + nt));
        p_at += np;
        t_at += nt;
    }
    pred_to_target = {};
    target_to_pred = {};
    std::vector<SurfaceDistances> out(static_cast<std::size_t>(groups));
    const int workers =
        detail::worker_count(options.threads, groups, static_cast<std::int64_t>(total_p + total_t));
    detail::parallel_for(groups, workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t g = begin; g < end; ++g) {
            const auto u = static_cast<std::size_t>(g);
            out[u] = summarize_surface_distances(pt[u], tp[u], options);
        }
    });
    return out;
}

bool cpu_transform_fuses_multiply_add()
{
    // Unknown (neither form matched) counts as plain: parity then holds to
    // rounding, not to the bit.
    return detail::transform_arithmetic() == detail::Arithmetic::Fused;
}

} // namespace masklens::gpu
