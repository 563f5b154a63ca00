// Lesion matching and lesion metrics (lesions.h).
#include "masklens/engine/lesions.h"

#include "masklens/engine/volume.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <tuple>
#include <unordered_map>
#include <vector>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Voxels per label (index 0: background).
std::vector<std::int64_t> label_sizes(const Components& components)
{
    std::vector<std::int64_t> sizes(static_cast<std::size_t>(components.count) + 1, 0);
    for (const std::uint32_t label : components.labels) {
        ++sizes[label];
    }
    return sizes;
}

struct Overlap {
    std::uint32_t target, predicted;
    std::int64_t voxels;
};

// Every pair of kept lesions sharing at least one voxel, with its shared voxels.
std::vector<Overlap> overlaps(const Components& target, const Components& predicted,
                              const std::vector<bool>& keep_target, const std::vector<bool>& keep_predicted)
{
    std::unordered_map<std::uint64_t, std::int64_t> shared;
    const std::size_t voxels = target.labels.size();
    std::size_t i = 0;
    while (i < voxels) {
        const std::uint32_t t = target.labels[i], p = predicted.labels[i];
        std::size_t j = i + 1;
        while (j < voxels && target.labels[j] == t && predicted.labels[j] == p) {
            ++j;
        }
        if (t != 0 && p != 0 && keep_target[t] && keep_predicted[p]) {
            shared[(static_cast<std::uint64_t>(t) << 32) | p] += static_cast<std::int64_t>(j - i);
        }
        i = j;
    }
    std::vector<Overlap> pairs;
    pairs.reserve(shared.size());
    for (const auto& [key, count] : shared) {
        pairs.push_back(
            {static_cast<std::uint32_t>(key >> 32), static_cast<std::uint32_t>(key & 0xFFFFFFFFU), count});
    }
    std::sort(pairs.begin(), pairs.end(), [](const Overlap& a, const Overlap& b) {
        return std::tie(a.target, a.predicted) < std::tie(b.target, b.predicted);
    });
    return pairs;
}

// Drops the components under min_size voxels or min_volume mm^3 and
// numbers the rest again (raster order kept).
void drop_small(Components& components, std::vector<std::int64_t>& sizes, std::int64_t min_size,
                double min_volume, double voxel_volume)
{
    if (min_size <= 1 && min_volume <= 0) {
        return;
    }
    std::vector<std::uint32_t> renumber(sizes.size(), 0);
    std::vector<std::int64_t> kept_sizes(1, 0);
    for (std::size_t l = 1; l < sizes.size(); ++l) {
        if (sizes[l] >= min_size && static_cast<double>(sizes[l]) * voxel_volume >= min_volume) {
            renumber[l] = static_cast<std::uint32_t>(kept_sizes.size());
            kept_sizes.push_back(sizes[l]);
        }
    }
    for (std::uint32_t& label : components.labels) {
        label = renumber[label];
    }
    components.count = static_cast<std::int64_t>(kept_sizes.size()) - 1;
    sizes = std::move(kept_sizes);
}

using Box = std::array<std::int64_t, 6>; // lo d, h, w, hi d, h, w (half-open)

// Size, coordinate sums and bounding box of every label (index 0 unused):
// what a per-lesion table row needs.
struct LabelExtent {
    std::int64_t voxels = 0;
    std::array<double, 3> sum{};
    Box box{std::numeric_limits<std::int64_t>::max(),
            std::numeric_limits<std::int64_t>::max(),
            std::numeric_limits<std::int64_t>::max(),
            0,
            0,
            0};
};

std::vector<LabelExtent> label_extents(const Components& components, const ComponentGrid& grid)
{
    std::vector<LabelExtent> extents(static_cast<std::size_t>(components.count) + 1);
    std::size_t i = 0;
    for (std::int64_t z = 0; z < grid.d; ++z) {
        for (std::int64_t y = 0; y < grid.h; ++y) {
            for (std::int64_t x = 0; x < grid.w; ++x, ++i) {
                const std::uint32_t label = components.labels[i];
                if (label == 0) {
                    continue;
                }
                LabelExtent& e = extents[label];
                ++e.voxels;
                e.sum[0] += static_cast<double>(z);
                e.sum[1] += static_cast<double>(y);
                e.sum[2] += static_cast<double>(x);
                Box& b = e.box;
                b = {std::min(b[0], z),     std::min(b[1], y),     std::min(b[2], x),
                     std::max(b[3], z + 1), std::max(b[4], y + 1), std::max(b[5], x + 1)};
            }
        }
    }
    return extents;
}

// Bounding box of every label (index 0 unused); empty boxes have lo > hi.
std::vector<Box> label_boxes(const Components& components, const ComponentGrid& grid)
{
    const std::vector<LabelExtent> extents = label_extents(components, grid);
    std::vector<Box> boxes(extents.size());
    for (std::size_t i = 0; i < extents.size(); ++i) {
        boxes[i] = extents[i].box;
    }
    return boxes;
}

LesionRecord record_of(LesionSide side, std::size_t id, const LabelExtent& e)
{
    LesionRecord r;
    r.side = side;
    r.id = static_cast<std::int64_t>(id);
    r.voxels = e.voxels;
    for (std::size_t a = 0; a < 3; ++a) {
        r.centroid[a] = e.voxels > 0 ? e.sum[a] / static_cast<double>(e.voxels) : 0.0;
        r.lo[a] = e.box[a];
        r.hi[a] = e.box[a + 3];
    }
    return r;
}

Box joined(const Box& a, const Box& b)
{
    return {std::min(a[0], b[0]), std::min(a[1], b[1]), std::min(a[2], b[2]),
            std::max(a[3], b[3]), std::max(a[4], b[4]), std::max(a[5], b[5])};
}

// `box` widened by `by` voxels on every side, within the grid (2D grids: in plane).
Box widened(const Box& box, std::int64_t by, const ComponentGrid& grid)
{
    const std::int64_t bz = grid.spatial_dims == 2 ? 0 : by;
    return {std::max<std::int64_t>(0, box[0] - bz), std::max<std::int64_t>(0, box[1] - by),
            std::max<std::int64_t>(0, box[2] - by), std::min(grid.d, box[3] + bz),
            std::min(grid.h, box[4] + by),          std::min(grid.w, box[5] + by)};
}

// `iterations` binary dilations by the 18-neighbourhood (scipy's
// generate_binary_structure(3, 2); in a 2D grid its plane, the 8-neighbourhood)
// of a mask over extents e; outside the extents counts as background and
// is not written, as scipy.ndimage.binary_dilation's border_value=0.
std::vector<std::uint8_t> dilate18(std::vector<std::uint8_t> mask, const std::array<std::int64_t, 3>& e,
                                   int iterations)
{
    std::vector<std::array<std::int64_t, 3>> offsets;
    for (std::int64_t dz = -1; dz <= 1; ++dz) {
        for (std::int64_t dy = -1; dy <= 1; ++dy) {
            for (std::int64_t dx = -1; dx <= 1; ++dx) {
                const auto nonzero = (dz != 0) + (dy != 0) + (dx != 0);
                if (nonzero == 1 || nonzero == 2) {
                    offsets.push_back({dz, dy, dx});
                }
            }
        }
    }
    for (int it = 0; it < iterations; ++it) {
        std::vector<std::uint8_t> out = mask;
        std::size_t i = 0;
        for (std::int64_t z = 0; z < e[0]; ++z) {
            for (std::int64_t y = 0; y < e[1]; ++y) {
                for (std::int64_t x = 0; x < e[2]; ++x, ++i) {
                    if (mask[i] == 0) {
                        continue;
                    }
                    for (const auto& o : offsets) {
                        const std::int64_t nz = z + o[0], ny = y + o[1], nx = x + o[2];
                        if (nz >= 0 && nz < e[0] && ny >= 0 && ny < e[1] && nx >= 0 && nx < e[2]) {
                            out[static_cast<std::size_t>((nz * e[1] + ny) * e[2] + nx)] = 1;
                        }
                    }
                }
            }
        }
        mask = std::move(out);
    }
    return mask;
}

template <class F> void for_box(const Box& b, const ComponentGrid& grid, F&& f)
{
    for (std::int64_t z = b[0]; z < b[3]; ++z) {
        for (std::int64_t y = b[1]; y < b[4]; ++y) {
            for (std::int64_t x = b[2]; x < b[5]; ++x) {
                f(static_cast<std::size_t>((z * grid.h + y) * grid.w + x));
            }
        }
    }
}

std::array<std::int64_t, 3> extent_of(const Box& b)
{
    return {b[3] - b[0], b[4] - b[1], b[5] - b[2]};
}

// The table's rows: target lesions with their matches, Dice and HD, then
// predicted lesions (matched: tp without scores of their own; false: Dice 0
// and the penalty).
void add_records(LesionCounts& counts, const Components& lesions, const Components& predicted,
                 const ComponentGrid& grid, const std::vector<std::vector<std::uint32_t>>& matched,
                 const std::vector<bool>& counted, const std::vector<double>& dice,
                 const std::vector<double>& hd, double false_hd)
{
    const std::vector<LabelExtent> target_extent = label_extents(lesions, grid);
    const std::vector<LabelExtent> predicted_extent = label_extents(predicted, grid);
    std::vector<std::vector<std::int64_t>> matched_by(predicted_extent.size());
    // A speckled mask can hold millions of lesions: the rows must fit the
    // memory cap like any array (Error(Input) otherwise, not an exhausted machine).
    const std::size_t rows = target_extent.size() + predicted_extent.size() - 2;
    check_allocation("per-lesion table (" + std::to_string(rows) + " lesions)",
                     static_cast<std::uint64_t>(rows) * sizeof(LesionRecord), ScalarType::UInt8);
    counts.lesions.reserve(rows);
    for (std::size_t g = 1; g < target_extent.size(); ++g) {
        LesionRecord r = record_of(LesionSide::Target, g, target_extent[g]);
        r.status = matched[g].empty() ? LesionStatus::Fn : LesionStatus::Tp;
        r.scored = counted[g];
        for (const std::uint32_t p : matched[g]) {
            r.matched.push_back(p);
            matched_by[p].push_back(static_cast<std::int64_t>(g));
        }
        r.dice = dice[g];
        r.hd95 = hd[g];
        counts.lesions.push_back(std::move(r));
    }
    for (std::size_t p = 1; p < predicted_extent.size(); ++p) {
        LesionRecord r = record_of(LesionSide::Prediction, p, predicted_extent[p]);
        r.matched = std::move(matched_by[p]);
        r.status = r.matched.empty() ? LesionStatus::Fp : LesionStatus::Tp;
        if (r.matched.empty()) {
            r.dice = 0;
            r.hd95 = false_hd;
        }
        counts.lesions.push_back(std::move(r));
    }
}

} // namespace

std::string_view lesion_match_name(LesionMatch match) noexcept
{
    switch (match) {
    case LesionMatch::Iou: return "iou";
    case LesionMatch::Overlap: return "overlap";
    case LesionMatch::Brats: return "brats";
    }
    return "iou";
}

LesionLabels label_lesions(const std::uint8_t* prediction, const std::uint8_t* target,
                           const ComponentGrid& grid, const LesionOptions& options, int threads)
{
    LesionLabels out;
    out.target = label_components(target, grid, options.connectivity, threads, "target");
    out.predicted = label_components(prediction, grid, options.connectivity, threads, "prediction");
    out.target_size = label_sizes(out.target);
    out.predicted_size = label_sizes(out.predicted);
    const auto& spacing = options.distance.spacing_xyz;
    const double voxel_volume = spacing[0] * spacing[1] * (grid.spatial_dims == 2 ? 1.0 : spacing[2]);
    drop_small(out.target, out.target_size, options.min_size, options.min_volume, voxel_volume);
    drop_small(out.predicted, out.predicted_size, options.min_size, options.min_volume, voxel_volume);
    if (options.match == LesionMatch::Brats) {
        // Target lesions whose dilations touch are one lesion.
        const std::array<std::int64_t, 3> e{grid.d, grid.h, grid.w};
        std::vector<std::uint8_t> foreground(out.target.labels.size());
        for (std::size_t i = 0; i < foreground.size(); ++i) {
            foreground[i] = out.target.labels[i] != 0 ? 1 : 0;
        }
        const std::vector<std::uint8_t> dilated = dilate18(foreground, e, options.dilation);
        out.target = label_components(dilated.data(), grid, options.connectivity, threads, "target");
        for (std::size_t i = 0; i < foreground.size(); ++i) {
            out.target.labels[i] = foreground[i] != 0 ? out.target.labels[i] : 0;
        }
        out.target_size = label_sizes(out.target);
    }
    return out;
}

LesionCounts match_lesions(const std::uint8_t* prediction, const std::uint8_t* target,
                           const ComponentGrid& grid, const LesionOptions& options, int threads)
{
    LesionLabels labelled = label_lesions(prediction, target, grid, options, threads);
    // The target lesions (labels over the grid) and each one's matched
    // predicted lesions.
    const Components& lesions = labelled.target;
    const Components& predicted_cc = labelled.predicted;
    const std::vector<std::int64_t>& lesion_size = labelled.target_size;
    const std::vector<std::int64_t>& predicted_size = labelled.predicted_size;
    const auto& spacing = options.distance.spacing_xyz;
    const double voxel_volume = spacing[0] * spacing[1] * (grid.spatial_dims == 2 ? 1.0 : spacing[2]);

    LesionCounts counts;
    counts.predicted = predicted_cc.count;
    counts.one_to_one = options.match == LesionMatch::Iou;
    counts.brats = options.match == LesionMatch::Brats;
    counts.hd_penalty_mm = options.hd_penalty_mm;

    std::vector<std::vector<std::uint32_t>> matched;
    std::vector<Box> predicted_box;
    if (options.match != LesionMatch::Brats) {
        const std::vector<bool> all_target(lesion_size.size(), true),
            all_predicted(predicted_size.size(), true);
        const std::vector<Overlap> pairs = overlaps(lesions, predicted_cc, all_target, all_predicted);
        matched.resize(lesion_size.size());
        if (options.match == LesionMatch::Overlap) {
            for (const Overlap& pair : pairs) {
                matched[pair.target].push_back(pair.predicted);
            }
        } else {
            const auto iou = [&](const Overlap& pair) {
                const auto shared = static_cast<double>(pair.voxels);
                return shared /
                       (static_cast<double>(lesion_size[pair.target] + predicted_size[pair.predicted]) -
                        shared);
            };
            std::vector<std::pair<double, std::size_t>> order;
            order.reserve(pairs.size());
            for (std::size_t k = 0; k < pairs.size(); ++k) {
                order.emplace_back(iou(pairs[k]), k);
            }
            // Decreasing IoU; equal IoU keeps the (target, prediction) order.
            std::stable_sort(order.begin(), order.end(),
                             [](const auto& a, const auto& b) { return a.first > b.first; });
            std::vector<bool> predicted_taken(predicted_size.size(), false);
            for (const auto& [value, k] : order) {
                const Overlap& pair = pairs[k];
                if (value < options.iou_threshold || !matched[pair.target].empty() ||
                    predicted_taken[pair.predicted]) {
                    continue;
                }
                matched[pair.target].push_back(pair.predicted);
                predicted_taken[pair.predicted] = true;
                counts.iou_sum += value;
            }
        }
    } else {
        // Each (merged) target lesion's own dilation meets its matched predicted lesions.
        const std::vector<Box> boxes = label_boxes(lesions, grid);
        matched.resize(lesion_size.size());
        for (std::size_t g = 1; g < lesion_size.size(); ++g) {
            const Box box = widened(boxes[g], options.dilation, grid);
            const auto be = extent_of(box);
            std::vector<std::uint8_t> local;
            local.reserve(static_cast<std::size_t>(be[0] * be[1] * be[2]));
            for_box(box, grid, [&](std::size_t i) { local.push_back(lesions.labels[i] == g ? 1 : 0); });
            local = dilate18(std::move(local), be, options.dilation);
            std::size_t k = 0;
            for_box(box, grid, [&](std::size_t i) {
                if (local[k++] != 0 && predicted_cc.labels[i] != 0) {
                    matched[g].push_back(predicted_cc.labels[i]);
                }
            });
            std::sort(matched[g].begin(), matched[g].end());
            matched[g].erase(std::unique(matched[g].begin(), matched[g].end()), matched[g].end());
        }
    }

    // Which target lesions count: all, or (BraTS) those above the volume threshold.
    std::vector<bool> counted(lesion_size.size(), false), predicted_matched(predicted_size.size(), false);
    for (std::size_t g = 1; g < lesion_size.size(); ++g) {
        counted[g] =
            !counts.brats || static_cast<double>(lesion_size[g]) * voxel_volume > options.volume_threshold;
        for (const std::uint32_t p : matched[g]) {
            predicted_matched[p] = true;
        }
        counts.target += counted[g] ? 1 : 0;
        counts.tp += counted[g] && !matched[g].empty() ? 1 : 0;
    }
    counts.matched_predicted = std::count(predicted_matched.begin(), predicted_matched.end(), true);
    if (!options.scores && !options.table) {
        return counts;
    }
    // Each lesion's Dice and HD (NaN: not scored), for the table.
    std::vector<double> lesion_dice(lesion_size.size(), kNaN), lesion_hd(lesion_size.size(), kNaN);

    // Lesion scores: Dice and percentile Hausdorff distance of each counted
    // target lesion against the union of its matched predicted lesions.
    for (auto& list : matched) {
        std::sort(list.begin(), list.end());
    }
    std::vector<std::int64_t> shared(lesion_size.size(), 0);
    for (std::size_t i = 0; i < lesions.labels.size(); ++i) {
        const std::uint32_t g = lesions.labels[i], p = predicted_cc.labels[i];
        if (g != 0 && p != 0 && std::binary_search(matched[g].begin(), matched[g].end(), p)) {
            ++shared[g];
        }
    }
    const std::vector<Box> lesion_boxes = label_boxes(lesions, grid);
    predicted_box = label_boxes(predicted_cc, grid);
    for (std::size_t g = 1; g < lesion_size.size(); ++g) {
        // Lesions left out of the counts (BraTS volume threshold) get their
        // table row's scores but add nothing to the sums.
        if (!counted[g] && !options.table) {
            continue;
        }
        const double in_sums = counted[g] ? 1.0 : 0.0;
        if (matched[g].empty()) {
            counts.hd_sum += in_sums * options.hd_penalty_mm; // Dice 0
            lesion_dice[g] = 0;
            lesion_hd[g] = options.scores ? options.hd_penalty_mm : kNaN;
            continue;
        }
        std::int64_t predicted_voxels = 0;
        Box box = lesion_boxes[g];
        for (const std::uint32_t p : matched[g]) {
            predicted_voxels += predicted_size[p];
            box = joined(box, predicted_box[p]);
        }
        lesion_dice[g] =
            2.0 * static_cast<double>(shared[g]) / static_cast<double>(lesion_size[g] + predicted_voxels);
        counts.dice_sum += in_sums * lesion_dice[g];
        if (!options.scores) {
            continue; // the table alone: Dice is cheap, distances are not
        }
        const auto be = extent_of(box);
        std::vector<std::uint8_t> lesion_mask, predicted_mask;
        lesion_mask.reserve(static_cast<std::size_t>(be[0] * be[1] * be[2]));
        predicted_mask.reserve(lesion_mask.capacity());
        for_box(box, grid, [&](std::size_t i) {
            lesion_mask.push_back(lesions.labels[i] == g ? 1 : 0);
            const std::uint32_t p = predicted_cc.labels[i];
            predicted_mask.push_back(
                p != 0 && std::binary_search(matched[g].begin(), matched[g].end(), p) ? 1 : 0);
        });
        const MaskGrid box_grid{be[0], be[1], be[2], grid.spatial_dims};
        const double hd =
            surface_distances(predicted_mask.data(), lesion_mask.data(), box_grid, options.distance)
                .hd_percentile;
        lesion_hd[g] = std::isfinite(hd) ? hd : options.hd_penalty_mm;
        counts.hd_sum += in_sums * lesion_hd[g];
    }
    if (options.table) {
        add_records(counts, lesions, predicted_cc, grid, matched, counted, lesion_dice, lesion_hd,
                    options.scores ? options.hd_penalty_mm : kNaN);
    }
    return counts;
}

double lesion_metric_value(Metric metric, const LesionCounts& c, EmptyPolicy empty)
{
    const auto tp = static_cast<double>(c.tp);
    const auto matched = static_cast<double>(c.matched_predicted);
    const auto target = static_cast<double>(c.target);
    const auto predicted = static_cast<double>(c.predicted);
    switch (metric) {
    case Metric::LesionTp: return tp;
    case Metric::LesionFp: return static_cast<double>(c.fp());
    case Metric::LesionFn: return static_cast<double>(c.fn());
    case Metric::LesionPrecision: return empty_aware_ratio(matched, predicted, empty);
    case Metric::LesionRecall: return empty_aware_ratio(tp, target, empty);
    case Metric::LesionF1:
        if (target == 0 && predicted == 0) {
            return empty_aware_ratio(0, 0, empty);
        }
        if (target == 0 || predicted == 0 || matched + tp == 0) {
            return 0.0;
        }
        // 2 P R / (P + R) with P = matched / predicted, R = tp / target.
        return 2 * matched * tp / (matched * target + tp * predicted);
    case Metric::Rq:
    case Metric::Sq:
    case Metric::Pq: {
        if (!c.one_to_one || (target == 0 && predicted == 0)) {
            return kNaN;
        }
        const double rq =
            c.tp == 0 ? 0.0
                      : tp / (tp + 0.5 * static_cast<double>(c.fp()) + 0.5 * static_cast<double>(c.fn()));
        const double sq = c.tp == 0 ? 0.0 : c.iou_sum / tp;
        if (metric == Metric::Rq) {
            return rq;
        }
        if (metric == Metric::Sq) {
            return sq;
        }
        return c.tp == 0 ? 0.0 : sq * rq;
    }
    case Metric::LesionDice:
    case Metric::LesionHd95: {
        const double scored = target + static_cast<double>(c.fp());
        if (scored == 0) {
            if (c.brats) {
                return metric == Metric::LesionDice ? 1.0 : 0.0;
            }
            return metric == Metric::LesionDice ? empty_aware_ratio(0, 0, empty) : kNaN;
        }
        return metric == Metric::LesionDice
                   ? c.dice_sum / scored
                   : (c.hd_sum + static_cast<double>(c.fp()) * c.hd_penalty_mm) / scored;
    }
    default: return kNaN;
    }
}

} // namespace masklens
