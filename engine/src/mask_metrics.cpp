// The metrics computed from each sample's hard masks: surface distances and
// lesion metrics. Both read the same masks, extracted once per sample and
// label (sample_masks: the rules of decision.h, cropped to the masks' box).
#include "mask_metrics.h"

#include "masklens/engine/decision.h"
#include "masklens/engine/error.h"
#include "masklens/engine/lesions.h"
#include "masklens/engine/parallel.h"
#include "masklens/engine/sample_lesions.h"
#include "masklens/engine/surface_distance.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <memory>
#include <optional>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double distance_value(Metric metric, const SurfaceDistances& distances)
{
    switch (metric) {
    case Metric::Hd: return distances.hd;
    case Metric::Hd95: return distances.hd_percentile;
    case Metric::Assd: return distances.assd;
    case Metric::Nsd: return distances.nsd;
    case Metric::HdP2t: return distances.max_pred_to_target;
    case Metric::HdT2p: return distances.max_target_to_pred;
    case Metric::Hd95P2t: return distances.percentile_pred_to_target;
    case Metric::Hd95T2p: return distances.percentile_target_to_pred;
    case Metric::AsdP2t: return distances.mean_pred_to_target;
    case Metric::AsdT2p: return distances.mean_target_to_pred;
    default: return kNaN;
    }
}

void fill_distances(MetricValues& values, const std::vector<Metric>& metrics,
                    const SurfaceDistances& distances)
{
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        if (is_distance_metric(metrics[m])) {
            values[m] = distance_value(metrics[m], distances);
        }
    }
}

// Hard masks of one sample for the overall (label < 0) or one label's
// distance metrics, following the pairing's conventions, cropped to the
// bounding box of both (no full-size buffers; distances need nothing outside
// it, see extract_mask).
struct SampleMasks {
    GridBox box;                                  // over the sample's [D, H, W]; empty when both masks are
    GridBox core;                                 // the masks' union box, before any padding
    std::vector<std::uint8_t> prediction, target; // box.voxels() bytes each
};

// Masks of one class in one sample, row by row from a mask source made once
// per worker (ClassDecider for the prediction, TargetClasses for the target:
// the rules of decision.h). `make_source()` returns a callable
// (voxel, count, out) writing count bytes (0/1) of a row.
template <class MakeSource> GridBox class_box(const Shape& shape, const MakeSource& make_source)
{
    GridBox box{{shape.d, shape.h, shape.w}, {0, 0, 0}};
    const int workers = detail::worker_count(0, shape.d, shape.voxels_per_channel());
    std::vector<GridBox> partial(static_cast<std::size_t>(workers), box);
    detail::parallel_for(shape.d, workers, [&](std::int64_t begin, std::int64_t end, int t) {
        const auto source = make_source();
        std::vector<std::uint8_t> row(static_cast<std::size_t>(shape.w));
        GridBox& local = partial[static_cast<std::size_t>(t)];
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < shape.h; ++h) {
                source((d * shape.h + h) * shape.w, shape.w, row.data());
                const auto first = std::find(row.begin(), row.end(), std::uint8_t{1});
                if (first == row.end()) {
                    continue;
                }
                const auto last = std::find(row.rbegin(), row.rend(), std::uint8_t{1});
                const std::int64_t lo = first - row.begin(), hi = row.rend() - last;
                local.lo = {std::min(local.lo[0], d), std::min(local.lo[1], h), std::min(local.lo[2], lo)};
                local.hi = {std::max(local.hi[0], d + 1), std::max(local.hi[1], h + 1),
                            std::max(local.hi[2], hi)};
            }
        }
    });
    for (const GridBox& part : partial) {
        for (std::size_t a = 0; a < 3; ++a) {
            box.lo[a] = std::min(box.lo[a], part.lo[a]);
            box.hi[a] = std::max(box.hi[a], part.hi[a]);
        }
    }
    return box;
}

// The class's mask inside `box` (box.voxels() bytes, C order over the box).
template <class MakeSource>
std::vector<std::uint8_t> class_mask(const Shape& shape, const GridBox& box, const MakeSource& make_source)
{
    const auto e = box.extent();
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(box.voxels()));
    const int workers = detail::worker_count(0, e[0], box.voxels());
    detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int) {
        const auto source = make_source();
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                const std::int64_t voxel = ((box.lo[0] + d) * shape.h + box.lo[1] + h) * shape.w + box.lo[2];
                source(voxel, e[2], mask.data() + (d * e[1] + h) * e[2]);
            }
        }
    });
    return mask;
}

SampleMasks sample_masks(const Volume& prediction, const Volume& target, PairingMode pairing,
                         std::int64_t sample, std::int64_t label, const MetricOptions& options,
                         std::int64_t pad = 0)
{
    // Both sides from the rules of decision.h, the ones the statistics pass
    // applies: label >= 0 one class, label < 0 the foreground.
    const DecisionRule rule = options.rule();
    const auto predicted = [&] {
        return [decider = std::make_shared<ClassDecider>(prediction, target.type(), rule), sample,
                label](std::int64_t voxel, std::int64_t count, std::uint8_t* out) {
            decider->mask(sample, voxel, count, label, out);
        };
    };
    const auto actual = [&] {
        return [classes = std::make_shared<TargetClasses>(target, pairing), sample,
                label](std::int64_t voxel, std::int64_t count, std::uint8_t* out) {
            classes->mask(sample, voxel, count, label, out);
        };
    };
    const Shape& shape = prediction.shape();
    SampleMasks masks;
    masks.box = class_box(shape, predicted);
    const GridBox target_box = class_box(shape, actual);
    for (std::size_t a = 0; a < 3; ++a) {
        masks.box.lo[a] = std::min(masks.box.lo[a], target_box.lo[a]);
        masks.box.hi[a] = std::max(masks.box.hi[a], target_box.hi[a]);
    }
    masks.core = masks.box;
    if (masks.box.empty()) {
        return masks;
    }
    // Widened by `pad` voxels within the sample (in plane for 2D data): room
    // for the BraTS rule's dilations.
    const std::array<std::int64_t, 3> size{shape.d, shape.h, shape.w};
    for (std::size_t a = shape.spatial_dims == 2 ? 1 : 0; a < 3; ++a) {
        masks.box.lo[a] = std::max<std::int64_t>(0, masks.box.lo[a] - pad);
        masks.box.hi[a] = std::min(size[a], masks.box.hi[a] + pad);
    }
    masks.prediction = class_mask(shape, masks.box, predicted);
    masks.target = class_mask(shape, masks.box, actual);
    return masks;
}

// The masks cropped back to their union box (`core`), without the padding.
SampleMasks without_padding(const SampleMasks& padded)
{
    if (padded.box.empty() || (padded.core.lo == padded.box.lo && padded.core.hi == padded.box.hi)) {
        return padded;
    }
    SampleMasks core;
    core.box = padded.core;
    core.core = padded.core;
    const auto outer = padded.box.extent();
    const auto inner = core.box.extent();
    const auto offset = [&](std::size_t a) { return core.box.lo[a] - padded.box.lo[a]; };
    core.prediction.resize(static_cast<std::size_t>(core.box.voxels()));
    core.target.resize(core.prediction.size());
    for (std::int64_t d = 0; d < inner[0]; ++d) {
        for (std::int64_t h = 0; h < inner[1]; ++h) {
            const std::int64_t from = ((d + offset(0)) * outer[1] + h + offset(1)) * outer[2] + offset(2);
            const std::int64_t to = (d * inner[1] + h) * inner[2];
            std::copy_n(padded.prediction.begin() + from, inner[2], core.prediction.begin() + to);
            std::copy_n(padded.target.begin() + from, inner[2], core.target.begin() + to);
        }
    }
    return core;
}

// The surface-distance options of an evaluation, validated (spacing:
// --spacing or the file's; two values only for 2D data). The distance
// metrics and the per-lesion distances use the same.
SurfaceDistanceOptions distance_options(const Evaluation& evaluation, const Volume& prediction)
{
    const MetricOptions& options = evaluation.options;
    SurfaceDistanceOptions distance;
    distance.percentile = options.hd_percentile;
    distance.rule = options.hd_rule;
    distance.surface = options.surface;
    distance.nsd_tolerance_mm = options.nsd_tolerance_mm;
    distance.spacing_xyz = options.spacing ? *options.spacing : prediction.geometry().spacing;
    if (options.spacing && (*options.spacing)[2] == 0) {
        if (evaluation.statistics.shape.spatial_dims == 3) {
            throw_usage_error("--spacing X,Y gives no z spacing, but " + prediction.source() +
                              " is 3D: give X,Y,Z");
        }
        distance.spacing_xyz[2] = 1.0; // unused by 2D distances
    }
    validate(distance);
    return distance;
}

// The surface-distance metrics of one sample's or label's masks, and of its
// slices (+inf, one empty mask, counts: surface_distance.h).
using DistanceStage = std::function<void(const SampleMasks&, MetricValues&, std::vector<MetricValues>&)>;

DistanceStage distance_stage(Evaluation& evaluation, const Volume& prediction,
                             const StatisticsOptions& statistics_options)
{
    const BatchStatistics& stats = evaluation.statistics;
    const Shape& shape = stats.shape;
    SurfaceDistanceOptions distance = distance_options(evaluation, prediction);
    distance.cancel = statistics_options.cancel;
    MaskGrid grid;
    grid.d = shape.d;
    grid.h = shape.h;
    grid.w = shape.w;
    grid.spatial_dims = shape.spatial_dims;

    // Slices outside the masks' box hold two empty masks.
    std::vector<double> none;
    const SurfaceDistances both_empty = summarize_surface_distances(none, none, distance);
    const auto axis_index = static_cast<std::size_t>(stats.axis == SliceAxis::H   ? 1
                                                     : stats.axis == SliceAxis::W ? 2
                                                                                  : 0);
    return [&evaluation, &statistics_options, distance, grid, both_empty,
            axis_index](const SampleMasks& masks, MetricValues& whole, std::vector<MetricValues>& slices) {
        const SliceAxis axis = evaluation.statistics.axis;
        if (masks.box.empty()) {
            fill_distances(whole, evaluation.metrics, both_empty);
            for (MetricValues& slice : slices) {
                if (statistics_options.slice_distances) {
                    fill_distances(slice, evaluation.metrics, both_empty);
                }
            }
            return;
        }
        const auto e = masks.box.extent();
        const MaskGrid box_grid{e[0], e[1], e[2], grid.spatial_dims};
        if (!statistics_options.slice_distances && !statistics_options.surface_distances) {
            fill_distances(
                whole, evaluation.metrics,
                surface_distances(masks.prediction.data(), masks.target.data(), box_grid, distance));
            return; // per-slice values stay NaN
        }
        const SampleSurfaceDistances values =
            statistics_options.surface_distances
                ? statistics_options.surface_distances(masks.prediction.data(), masks.target.data(), box_grid,
                                                       axis, distance)
                : sample_surface_distances(masks.prediction.data(), masks.target.data(), box_grid, axis,
                                           distance);
        fill_distances(whole, evaluation.metrics, values.whole);
        if (!statistics_options.slice_distances) {
            return;
        }
        if (grid.spatial_dims == 2) {
            for (MetricValues& slice : slices) { // a 2D sample is its one slice
                fill_distances(slice, evaluation.metrics, values.whole);
            }
            return;
        }
        const std::int64_t first = masks.box.lo[axis_index];
        for (std::size_t s = 0; s < slices.size(); ++s) {
            const std::int64_t in_box = static_cast<std::int64_t>(s) - first;
            const bool inside = in_box >= 0 && in_box < static_cast<std::int64_t>(values.slices.size());
            fill_distances(slices[s], evaluation.metrics,
                           inside ? values.slices[static_cast<std::size_t>(in_box)] : both_empty);
        }
    };
}

// The lesion options of an evaluation's MetricOptions (spacing: --spacing
// or the file's; the per-lesion distances use the surface-distance options).
LesionOptions lesion_options(const Evaluation& evaluation, const Volume& prediction)
{
    const MetricOptions& options = evaluation.options;
    LesionOptions lesion;
    lesion.connectivity = options.lesion_connectivity;
    lesion.match = options.lesion_match;
    lesion.iou_threshold = options.lesion_iou;
    lesion.min_size = options.lesion_min_size;
    lesion.min_volume = options.lesion_min_volume;
    lesion.dilation = options.lesion_dilation;
    lesion.volume_threshold = options.lesion_volume_threshold;
    lesion.hd_penalty_mm = options.lesion_hd_penalty;
    lesion.scores = std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(),
                                [](Metric m) { return m == Metric::LesionDice || m == Metric::LesionHd95; });
    lesion.table = true;
    const int spatial_dims = evaluation.statistics.shape.spatial_dims;
    resolve_connectivity(lesion.connectivity, spatial_dims); // a usage error before any work
    // Per-lesion distances and the voxel volume: the surface-distance options.
    lesion.distance = distance_options(evaluation, prediction);
    return lesion;
}

// Lesion metrics of one sample's or label's masks from their connected
// components (the masks are widened by the dilation for the BraTS rule:
// dilations stop at the sample's edge, as scipy's do at the array's), and
// the lesions' table rows; per-slice values stay NaN.
using LesionStage =
    std::function<void(const SampleMasks&, MetricValues&, std::int64_t sample, std::int64_t label)>;

LesionStage lesion_stage(Evaluation& evaluation, const Volume& prediction,
                         const StatisticsOptions& statistics_options)
{
    LesionOptions lesion = lesion_options(evaluation, prediction);
    lesion.distance.threads = statistics_options.threads;
    lesion.distance.cancel = statistics_options.cancel;
    const int spatial_dims = evaluation.statistics.shape.spatial_dims;
    // The table's physical units: the distances' spacing (--spacing or the
    // file's), the file's origin and direction.
    Geometry geometry = prediction.geometry();
    geometry.spacing = lesion.distance.spacing_xyz;
    const double voxel_volume =
        geometry.spacing[0] * geometry.spacing[1] * (spatial_dims == 2 ? 1.0 : geometry.spacing[2]);
    const auto add_rows = [&evaluation, geometry, voxel_volume](std::vector<LesionRecord>& records,
                                                                const GridBox& box, std::int64_t sample,
                                                                std::int64_t label) {
        for (LesionRecord& record : records) {
            LesionRow row;
            row.sample = sample;
            row.label = label;
            for (std::size_t a = 0; a < 3; ++a) {
                record.centroid[a] += static_cast<double>(box.lo[a]);
                record.lo[a] += box.lo[a];
                record.hi[a] += box.lo[a];
            }
            row.volume_mm3 = static_cast<double>(record.voxels) * voxel_volume;
            row.centroid_world = physical_position(geometry, record.centroid);
            row.lesion = std::move(record);
            evaluation.lesions.push_back(std::move(row));
        }
    };
    return [&evaluation, &statistics_options, lesion, spatial_dims, add_rows](
               const SampleMasks& masks, MetricValues& values, std::int64_t sample, std::int64_t label) {
        const MetricOptions& options = evaluation.options;
        if (statistics_options.cancel && statistics_options.cancel->load()) {
            throw Error(Error::Kind::Cancelled, {}, "lesion metrics cancelled");
        }
        LesionCounts counts;
        if (!masks.box.empty()) {
            const auto e = masks.box.extent();
            const ComponentGrid grid{e[0], e[1], e[2], spatial_dims};
            counts = match_lesions(masks.prediction.data(), masks.target.data(), grid, lesion,
                                   statistics_options.threads);
            add_rows(counts.lesions, masks.box, sample, label);
        }
        counts.one_to_one = options.lesion_match == LesionMatch::Iou;
        counts.brats = options.lesion_match == LesionMatch::Brats;
        counts.hd_penalty_mm = options.lesion_hd_penalty;
        for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
            if (is_lesion_metric(evaluation.metrics[m])) {
                values[m] = lesion_metric_value(evaluation.metrics[m], counts, options.empty);
            }
        }
    };
}

} // namespace

void add_mask_metrics(Evaluation& evaluation, const Volume& prediction, const Volume& target,
                      const StatisticsOptions& options)
{
    const auto asks_for = [&](bool (*which)(Metric) noexcept) {
        return std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), which);
    };
    // Both stages check their options before any mask is extracted.
    std::optional<DistanceStage> distances;
    std::optional<LesionStage> lesions;
    if (asks_for(is_distance_metric)) {
        distances = distance_stage(evaluation, prediction, options);
    }
    if (asks_for(is_lesion_metric)) {
        lesions = lesion_stage(evaluation, prediction, options);
    }
    const MetricOptions& metric = evaluation.options;
    // The BraTS rule dilates within the masks' box: widen it for the lesions;
    // the distances take the unwidened masks.
    const std::int64_t pad =
        lesions && metric.lesion_match == LesionMatch::Brats ? metric.lesion_dilation : 0;
    const PairingMode pairing = evaluation.statistics.pairing;
    const auto compute = [&](std::int64_t sample, std::int64_t label, MetricValues& values,
                             std::vector<MetricValues>& slices) {
        const SampleMasks masks = sample_masks(prediction, target, pairing, sample, label, metric, pad);
        if (distances && pad > 0) {
            (*distances)(without_padding(masks), values, slices);
        } else if (distances) {
            (*distances)(masks, values, slices); // (a conditional expression would copy the masks)
        }
        if (lesions) {
            (*lesions)(masks, values, sample, label);
        }
    };
    for (SampleResult& sample : evaluation.samples) {
        compute(sample.index, -1, sample.values, sample.slices);
        for (LabelResult& label : sample.labels) {
            compute(sample.index, label.label, label.values, label.slices);
        }
    }
}

std::uint32_t SampleLesions::target_at(std::int64_t d, std::int64_t h, std::int64_t w) const noexcept
{
    if (d < lo[0] || d >= hi[0] || h < lo[1] || h >= hi[1] || w < lo[2] || w >= hi[2]) {
        return 0;
    }
    return labels.target.labels[static_cast<std::size_t>(
        ((d - lo[0]) * (hi[1] - lo[1]) + h - lo[1]) * (hi[2] - lo[2]) + w - lo[2])];
}

std::uint32_t SampleLesions::predicted_at(std::int64_t d, std::int64_t h, std::int64_t w) const noexcept
{
    if (d < lo[0] || d >= hi[0] || h < lo[1] || h >= hi[1] || w < lo[2] || w >= hi[2]) {
        return 0;
    }
    return labels.predicted.labels[static_cast<std::size_t>(
        ((d - lo[0]) * (hi[1] - lo[1]) + h - lo[1]) * (hi[2] - lo[2]) + w - lo[2])];
}

SampleLesions sample_lesions(const Evaluation& evaluation, const Volume& prediction, const Volume& target,
                             std::int64_t sample, std::int64_t label, int threads)
{
    // The masks and options add_lesion_metrics gives match_lesions, so the
    // labels are the table's.
    const MetricOptions& options = evaluation.options;
    const LesionOptions lesion = lesion_options(evaluation, prediction);
    const std::int64_t pad = options.lesion_match == LesionMatch::Brats ? options.lesion_dilation : 0;
    const SampleMasks masks =
        sample_masks(prediction, target, evaluation.statistics.pairing, sample, label, options, pad);
    SampleLesions out;
    if (masks.box.empty()) {
        return out;
    }
    out.lo = masks.box.lo;
    out.hi = masks.box.hi;
    const auto e = masks.box.extent();
    const ComponentGrid grid{e[0], e[1], e[2], evaluation.statistics.shape.spatial_dims};
    out.labels = label_lesions(masks.prediction.data(), masks.target.data(), grid, lesion, threads);
    return out;
}

} // namespace masklens
