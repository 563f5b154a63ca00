// Host-side steps of the CUDA surface-distance path (surface_plan.h). This
// file is compiled with -ffp-contract=off: the rounding probe below must form
// the plain (twice rounded) multiply-add itself.
#include "masklens/gpu/surface_plan.h"

#include "masklens/engine/error.h"
#include "masklens/gpu/cuda_surface_distance.h"

#include <algorithm>
#include <cmath>

namespace masklens::gpu {

CroppedMasks crop_mask_pair(const std::uint8_t* pred, const std::uint8_t* target,
                            const std::array<std::int64_t, 3>& extent_dhw, int threads)
{
    const auto& ext = extent_dhw;
    // Bounding box of the union, one partial box per worker.
    const int workers = detail::worker_count(threads, ext[0], ext[0] * ext[1] * ext[2]);
    std::vector<GridBox> partial(static_cast<std::size_t>(workers));
    detail::parallel_for(ext[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
        GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < ext[1]; ++h) {
                const std::int64_t row = (d * ext[1] + h) * ext[2];
                const std::uint8_t* p = pred + row;
                const std::uint8_t* q = target + row;
                std::uint8_t any = 0;
                for (std::int64_t w = 0; w < ext[2]; ++w) {
                    any = static_cast<std::uint8_t>(any | p[w] | q[w]);
                }
                if (any == 0) {
                    continue;
                }
                std::int64_t first = 0;
                while (p[first] == 0 && q[first] == 0) {
                    ++first;
                }
                std::int64_t last = ext[2] - 1;
                while (p[last] == 0 && q[last] == 0) {
                    --last;
                }
                box.lo = {std::min(box.lo[0], d), std::min(box.lo[1], h), std::min(box.lo[2], first)};
                box.hi = {std::max(box.hi[0], d + 1), std::max(box.hi[1], h + 1),
                          std::max(box.hi[2], last + 1)};
            }
        }
        partial[static_cast<std::size_t>(t)] = box;
    });
    CroppedMasks crop;
    crop.box = GridBox{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
    for (const GridBox& part : partial) {
        for (std::size_t a = 0; a < 3; ++a) {
            crop.box.lo[a] = std::min(crop.box.lo[a], part.lo[a]);
            crop.box.hi[a] = std::max(crop.box.hi[a], part.hi[a]);
        }
    }
    if (crop.box.empty()) {
        crop.box = GridBox{};
        return crop;
    }
    const GridBox& box = crop.box;
    const auto e = box.extent();
    crop.inside.resize(static_cast<std::size_t>(box.voxels()));
    const int copiers = detail::worker_count(threads, e[0], box.voxels());
    detail::parallel_for(e[0], copiers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                const std::int64_t src = ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2];
                std::uint8_t* dst = crop.inside.data() + (d * e[1] + h) * e[2];
                for (std::int64_t w = 0; w < e[2]; ++w) {
                    dst[w] = static_cast<std::uint8_t>((pred[src + w] != 0 ? 1 : 0) |
                                                       (target[src + w] != 0 ? 2 : 0));
                }
            }
        }
    });
    return crop;
}

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
    static const bool fused = [] {
        // One feature voxel at the origin of a [3, 6, 4] grid with spacing
        // (x, y, z) = (0.7, 0.9, 1.3) mm: every voxel's value is
        // td^2 + (th^2 + tw^2) (one candidate per line), rounded plainly or
        // with FMAs; several voxels tell the two apart.
        const EdtGrid grid{{3, 6, 4}, {0.7, 0.9, 1.3}, {true, true, true}};
        std::vector<std::uint8_t> feature(static_cast<std::size_t>(grid.voxels()), 0);
        feature[0] = 1;
        const std::vector<double> got = squared_distance_transform(feature.data(), grid, 1);
        int fused_matches = 0;
        int differing = 0;
        for (std::int64_t d = 0; d < 3; ++d) {
            for (std::int64_t h = 0; h < 6; ++h) {
                for (std::int64_t w = 0; w < 4; ++w) {
                    const double td = static_cast<double>(d) * 1.3;
                    const double th = static_cast<double>(h) * 0.9;
                    const double tw = static_cast<double>(w) * 0.7;
                    const double f = tw * tw;
                    const double plain_h = th * th + f;
                    const double plain = td * td + plain_h;
                    const double fused_value = std::fma(td, td, std::fma(th, th, f));
                    if (plain == fused_value) {
                        continue;
                    }
                    ++differing;
                    const double value = got[static_cast<std::size_t>((d * 6 + h) * 4 + w)];
                    fused_matches += value == fused_value ? 1 : 0;
                }
            }
        }
        // Neither form throughout (not expected): plain; parity then holds to
        // rounding, not to the bit.
        return differing > 0 && fused_matches == differing;
    }();
    return fused;
}

} // namespace masklens::gpu
