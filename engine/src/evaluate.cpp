#include "masklens/engine/evaluate.h"

#include "masklens/engine/decision.h"
#include "masklens/engine/distance_transform.h"
#include "masklens/engine/error.h"
#include "masklens/engine/lesions.h"
#include "masklens/engine/parallel.h"
#include "masklens/engine/sample_lesions.h"
#include "masklens/engine/surface_distance.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double mean_of(double sum, std::int64_t count)
{
    return count > 0 ? sum / static_cast<double>(count) : kNaN;
}

// Mean over samples skipping NaN, or the sum for counts (and for every
// metric with BatchReduction::Sum).
void reduce_over_samples(const std::vector<const MetricValues*>& per_sample,
                         const std::vector<Metric>& metrics, MetricValues& values,
                         std::vector<std::int64_t>& valid, BatchReduction reduction)
{
    values.assign(metrics.size(), 0.0);
    valid.assign(metrics.size(), 0);
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        double sum = 0;
        std::int64_t count = 0;
        for (const MetricValues* sample : per_sample) {
            const double value = (*sample)[m];
            if (!std::isnan(value)) {
                sum += value;
                ++count;
            }
        }
        valid[m] = count;
        const bool summed = is_count(metrics[m]) || reduction == BatchReduction::Sum;
        values[m] = summed ? (count > 0 ? sum : kNaN) : mean_of(sum, count);
    }
}

// The batch and per-label batch values of the metrics `which` selects, again
// from the per-sample values: for values filled in after derive_evaluation
// (surface distances, lesion metrics). The same rule as reduce_over_samples.
void reduce_samples_again(Evaluation& evaluation, bool (*which)(Metric) noexcept)
{
    const auto reduce = [&](const auto& values_of, MetricValues& values, std::vector<std::int64_t>& valid) {
        std::vector<const MetricValues*> per_sample;
        for (const SampleResult& sample : evaluation.samples) {
            per_sample.push_back(&values_of(sample));
        }
        MetricValues reduced;
        std::vector<std::int64_t> counted;
        reduce_over_samples(per_sample, evaluation.metrics, reduced, counted,
                            evaluation.options.batch_reduction);
        for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
            if (which(evaluation.metrics[m])) {
                values[m] = reduced[m];
                valid[m] = counted[m];
            }
        }
    };
    reduce([](const SampleResult& s) -> const MetricValues& { return s.values; }, evaluation.batch,
           evaluation.batch_valid);
    for (std::size_t l = 0; l < evaluation.labels.size(); ++l) {
        reduce([l](const SampleResult& s) -> const MetricValues& { return s.labels[l].values; },
               evaluation.labels[l].values, evaluation.labels[l].valid);
    }
}

} // namespace

double metric_value(Metric metric, const RegionStats& s, const MetricOptions& o)
{
    const auto tp = static_cast<double>(s.true_positive);
    const auto fp = static_cast<double>(s.false_positive());
    const auto fn = static_cast<double>(s.false_negative());
    const auto tn = static_cast<double>(s.true_negative());
    switch (metric) {
    case Metric::Bce: return mean_of(s.bce, s.elements);
    case Metric::Mse: return mean_of(s.squared_error, s.elements);
    case Metric::Mae: return mean_of(s.absolute_error, s.elements);
    case Metric::FocalLoss: return mean_of(s.focal, s.elements);
    case Metric::DiceLoss:
        return 1.0 - (2.0 * s.overlap_sum + o.smooth_nr) / (s.pred_sum + s.target_sum + o.smooth_dr);
    case Metric::IouLoss:
        return 1.0 -
               (s.overlap_sum + o.smooth_nr) / (s.pred_sum + s.target_sum - s.overlap_sum + o.smooth_dr);
    case Metric::TverskyLoss: {
        const double false_positive = s.pred_sum - s.overlap_sum;
        const double false_negative = s.target_sum - s.overlap_sum;
        return 1.0 - (s.overlap_sum + o.tversky_smooth_nr) /
                         (s.overlap_sum + o.tversky_alpha * false_positive + o.tversky_beta * false_negative +
                          o.tversky_smooth_dr);
    }
    case Metric::Dice:
        return o.ignore_empty_target && s.target_positive == 0
                   ? kNaN
                   : empty_aware_ratio(2 * tp, 2 * tp + fp + fn, o.empty);
    case Metric::Iou:
        return o.ignore_empty_target && s.target_positive == 0 ? kNaN
                                                               : empty_aware_ratio(tp, tp + fp + fn, o.empty);
    case Metric::Precision: return empty_aware_ratio(tp, tp + fp, o.empty);
    case Metric::Recall: return empty_aware_ratio(tp, tp + fn, o.empty);
    case Metric::Specificity: return empty_aware_ratio(tn, tn + fp, o.empty);
    case Metric::Tp: return tp;
    case Metric::Fp: return fp;
    case Metric::Fn: return fn;
    case Metric::Tn: return tn;
    case Metric::Ce: return s.class_voxels > 0 ? s.cross_entropy / static_cast<double>(s.class_voxels) : kNaN;
    default: return kNaN; // distances (add_surface_distances) and class combinations (class_value)
    }
}

double class_value(Metric metric, const RegionStats& region, const std::vector<RegionStats>& labels,
                   const MetricOptions& o)
{
    const auto sum_over_labels = [&](Metric of) {
        double sum = 0;
        for (const RegionStats& label : labels) {
            sum += metric_value(of, label, o);
        }
        return sum;
    };
    const auto mean_over_labels = [&](Metric of) {
        return sum_over_labels(of) / static_cast<double>(labels.size());
    };
    switch (metric) {
    case Metric::DiceLoss:
    case Metric::IouLoss:
    case Metric::TverskyLoss:
        if (o.class_reduction == ClassReduction::Pooled || labels.empty()) {
            return metric_value(metric, region, o);
        }
        return o.class_reduction == ClassReduction::Sum ? sum_over_labels(metric) : mean_over_labels(metric);
    case Metric::Dice:
    case Metric::Iou:
    case Metric::Precision:
    case Metric::Recall:
    case Metric::Specificity: {
        if (o.class_reduction == ClassReduction::Pooled || labels.empty()) {
            return metric_value(metric, region, o);
        }
        // MONAI's reduction "mean" / "sum" per sample: over the classes whose
        // value is defined (NaN skipped); NaN when none is.
        double sum = 0;
        std::int64_t defined = 0;
        for (const RegionStats& label : labels) {
            const double value = metric_value(metric, label, o);
            if (!std::isnan(value)) {
                sum += value;
                ++defined;
            }
        }
        if (defined == 0) {
            return kNaN;
        }
        return o.class_reduction == ClassReduction::Sum ? sum : sum / static_cast<double>(defined);
    }
    case Metric::DiceCe:
        if (labels.empty()) {
            return kNaN;
        }
        return o.lambda_dice * mean_over_labels(Metric::DiceLoss) +
               o.lambda_ce * metric_value(Metric::Ce, region, o);
    case Metric::GeneralizedDiceLoss: {
        if (labels.empty()) {
            return kNaN;
        }
        // w_c from the class's target sum; a class absent from the target
        // (infinite weight) takes the largest finite weight (MONAI).
        std::vector<double> weights;
        double largest = 0;
        for (const RegionStats& label : labels) {
            const double g = label.target_sum;
            double w = 1.0;
            if (o.gdl_weight != GdlWeight::Uniform) {
                w = g > 0 ? (o.gdl_weight == GdlWeight::Square ? 1.0 / (g * g) : 1.0 / g)
                          : std::numeric_limits<double>::infinity();
            }
            if (std::isfinite(w)) {
                largest = std::max(largest, w);
            }
            weights.push_back(w);
        }
        double numerator = 0, denominator = 0;
        for (std::size_t l = 0; l < labels.size(); ++l) {
            const double w = std::isfinite(weights[l]) ? weights[l] : largest;
            numerator += w * labels[l].overlap_sum;
            denominator += w * (labels[l].pred_sum + labels[l].target_sum);
        }
        return 1.0 - (2.0 * numerator + o.smooth_nr) / (denominator + o.smooth_dr);
    }
    default: return metric_value(metric, region, o);
    }
}

bool label_metric_applies(Metric metric, PairingMode pairing) noexcept
{
    // Channel predictions have real per-class probabilities; label maps only
    // have counts, so elementwise losses are not defined per label there.
    return pairing != PairingMode::LabelMaps || is_label_metric(metric);
}

Evaluation derive_evaluation(BatchStatistics statistics, const std::vector<Metric>& metrics,
                             const MetricOptions& options)
{
    Evaluation result;
    result.metrics = metrics.empty() ? default_metrics() : metrics;
    result.options = options;
    result.statistics = std::move(statistics);
    const BatchStatistics& stats = result.statistics;
    // A label's values, and a sample's or slice's (with its label regions,
    // from which the class combinations are formed).
    const auto label_values_of = [&](const RegionStats& region) {
        MetricValues values(result.metrics.size());
        for (std::size_t m = 0; m < result.metrics.size(); ++m) {
            const Metric metric = result.metrics[m];
            values[m] =
                label_metric_applies(metric, stats.pairing) ? metric_value(metric, region, options) : kNaN;
        }
        return values;
    };
    std::vector<RegionStats> label_regions;
    const auto values_of = [&](const RegionStats& region, const auto& label_region) {
        label_regions.clear();
        for (std::size_t l = 0; l < stats.labels.size(); ++l) {
            label_regions.push_back(label_region(l));
        }
        MetricValues values(result.metrics.size());
        for (std::size_t m = 0; m < result.metrics.size(); ++m) {
            values[m] = class_value(result.metrics[m], region, label_regions, options);
        }
        return values;
    };

    RegionStats batch_total;
    const std::int64_t samples = stats.shape.n;
    result.samples.resize(static_cast<std::size_t>(samples));
    for (std::int64_t n = 0; n < samples; ++n) {
        SampleResult& sample = result.samples[static_cast<std::size_t>(n)];
        sample.index = n;
        const RegionStats total = stats.sample(n);
        batch_total += total;
        sample.values = values_of(total, [&](std::size_t l) { return stats.label_sample(n, l); });
        sample.slices.reserve(static_cast<std::size_t>(stats.slices_per_sample));
        for (std::int64_t s = 0; s < stats.slices_per_sample; ++s) {
            sample.slices.push_back(
                values_of(stats.slice(n, s), [&](std::size_t l) { return stats.label_slice(n, s, l); }));
        }
        for (std::size_t l = 0; l < stats.labels.size(); ++l) {
            LabelResult label;
            label.label = stats.labels[l];
            label.values = label_values_of(stats.label_sample(n, l));
            for (std::int64_t s = 0; s < stats.slices_per_sample; ++s) {
                label.slices.push_back(label_values_of(stats.label_slice(n, s, l)));
            }
            sample.labels.push_back(std::move(label));
        }
    }

    std::vector<const MetricValues*> sample_values;
    for (const auto& sample : result.samples) {
        sample_values.push_back(&sample.values);
    }
    reduce_over_samples(sample_values, result.metrics, result.batch, result.batch_valid,
                        options.batch_reduction);
    // Elementwise losses (and ce) are means over every element of the batch,
    // as PyTorch's mean reduction computes them, or with reduction "sum"
    // their sums over every element.
    for (std::size_t m = 0; m < result.metrics.size(); ++m) {
        const Metric metric = result.metrics[m];
        if (!is_elementwise_mean(metric) && metric != Metric::Ce) {
            continue;
        }
        double& value = result.batch[m];
        value = metric_value(metric, batch_total, options);
        if (options.batch_reduction == BatchReduction::Sum && !std::isnan(value)) {
            value = metric == Metric::Ce ? batch_total.cross_entropy
                                         : value * static_cast<double>(batch_total.elements);
        }
        result.batch_valid[m] = std::isnan(value) ? 0 : samples;
    }
    if (options.pool_batch) {
        // MONAI batch=True: each class's sums over every sample, then the loss.
        std::vector<RegionStats> label_totals(stats.labels.size());
        for (std::int64_t n = 0; n < samples; ++n) {
            for (std::size_t l = 0; l < stats.labels.size(); ++l) {
                label_totals[l] += stats.label_sample(n, l);
            }
        }
        for (std::size_t m = 0; m < result.metrics.size(); ++m) {
            const Metric metric = result.metrics[m];
            if (metric == Metric::DiceLoss || metric == Metric::IouLoss || metric == Metric::TverskyLoss ||
                metric == Metric::GeneralizedDiceLoss) {
                result.batch[m] = class_value(metric, batch_total, label_totals, options);
                result.batch_valid[m] = std::isnan(result.batch[m]) ? 0 : samples;
            }
        }
    }

    for (std::size_t l = 0; l < stats.labels.size(); ++l) {
        BatchLabelResult label;
        label.label = stats.labels[l];
        std::vector<const MetricValues*> per_sample;
        for (const auto& sample : result.samples) {
            per_sample.push_back(&sample.labels[l].values);
        }
        reduce_over_samples(per_sample, result.metrics, label.values, label.valid, options.batch_reduction);
        result.labels.push_back(std::move(label));
    }
    return result;
}

namespace {

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

// Computes the requested surface-distance metrics for every sample, slice and
// label, and their batch means (NaN skipped; +inf, one empty mask, counts).
void add_surface_distances(Evaluation& evaluation, const Volume& prediction, const Volume& target,
                           const StatisticsOptions& statistics_options)
{
    const BatchStatistics& stats = evaluation.statistics;
    const MetricOptions& options = evaluation.options;
    const Shape& shape = stats.shape;
    SurfaceDistanceOptions distance;
    distance.percentile = options.hd_percentile;
    distance.rule = options.hd_rule;
    distance.surface = options.surface;
    distance.nsd_tolerance_mm = options.nsd_tolerance_mm;
    distance.spacing_xyz = options.spacing ? *options.spacing : prediction.geometry().spacing;
    if (options.spacing && (*options.spacing)[2] == 0) {
        if (shape.spatial_dims == 3) {
            throw_usage_error("--spacing X,Y gives no z spacing, but " + prediction.source() +
                              " is 3D: give X,Y,Z");
        }
        distance.spacing_xyz[2] = 1.0; // unused by 2D distances
    }
    distance.cancel = statistics_options.cancel;
    validate(distance);
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
    const auto compute = [&](const SampleMasks& masks, MetricValues& whole,
                             std::vector<MetricValues>& slices) {
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
                                                       stats.axis, distance)
                : sample_surface_distances(masks.prediction.data(), masks.target.data(), box_grid, stats.axis,
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
    for (SampleResult& sample : evaluation.samples) {
        compute(sample_masks(prediction, target, stats.pairing, sample.index, -1, options), sample.values,
                sample.slices);
        for (LabelResult& label : sample.labels) {
            compute(sample_masks(prediction, target, stats.pairing, sample.index, label.label, options),
                    label.values, label.slices);
        }
    }

    // Batch values of the distance metrics: means over samples, NaN skipped.
    reduce_samples_again(evaluation, is_distance_metric);
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
    SurfaceDistanceOptions& distance = lesion.distance;
    distance.percentile = options.hd_percentile;
    distance.rule = options.hd_rule;
    distance.surface = options.surface;
    distance.spacing_xyz = options.spacing ? *options.spacing : prediction.geometry().spacing;
    if (options.spacing && (*options.spacing)[2] == 0) {
        if (spatial_dims == 3) {
            throw_usage_error("--spacing X,Y gives no z spacing, but " + prediction.source() +
                              " is 3D: give X,Y,Z");
        }
        distance.spacing_xyz[2] = 1.0;
    }
    validate(distance);
    return lesion;
}

// Lesion metrics of every sample and label from the connected components of
// the same hard masks (sample_masks: the rules of decision.h), cropped to
// their union's box (components do not reach outside it), widened by the
// dilation for the BraTS rule (dilations stop at the sample's edge, as
// scipy's do at the array's); per-slice values stay NaN. Batch values: sums
// of the counts, means of the rates (NaN skipped), or sums with
// --batch-reduction sum.
void add_lesion_metrics(Evaluation& evaluation, const Volume& prediction, const Volume& target,
                        const StatisticsOptions& statistics_options)
{
    const MetricOptions& options = evaluation.options;
    LesionOptions lesion = lesion_options(evaluation, prediction);
    lesion.distance.threads = statistics_options.threads;
    lesion.distance.cancel = statistics_options.cancel;
    const int spatial_dims = evaluation.statistics.shape.spatial_dims;
    const std::int64_t pad = options.lesion_match == LesionMatch::Brats ? options.lesion_dilation : 0;
    // The table's physical units: the distances' spacing (--spacing or the
    // file's), the file's origin and direction.
    Geometry geometry = prediction.geometry();
    geometry.spacing = lesion.distance.spacing_xyz;
    const double voxel_volume =
        geometry.spacing[0] * geometry.spacing[1] * (spatial_dims == 2 ? 1.0 : geometry.spacing[2]);
    const auto add_rows = [&](std::vector<LesionRecord>& records, const GridBox& box, std::int64_t sample,
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
    const auto compute = [&](const SampleMasks& masks, MetricValues& values, std::int64_t sample,
                             std::int64_t label) {
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
    const PairingMode pairing = evaluation.statistics.pairing;
    for (SampleResult& sample : evaluation.samples) {
        compute(sample_masks(prediction, target, pairing, sample.index, -1, options, pad), sample.values,
                sample.index, -1);
        for (LabelResult& label : sample.labels) {
            compute(sample_masks(prediction, target, pairing, sample.index, label.label, options, pad),
                    label.values, sample.index, label.label);
        }
    }
    // Batch values: sums of the counts, means of the rates (NaN skipped).
    reduce_samples_again(evaluation, is_lesion_metric);
}

} // namespace

Evaluation complete_evaluation(BatchStatistics statistics, const Volume& prediction, const Volume& target,
                               const StatisticsOptions& options)
{
    Evaluation evaluation = derive_evaluation(std::move(statistics), options.metrics, options.metric);
    if (std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), is_distance_metric)) {
        add_surface_distances(evaluation, prediction, target, options);
    }
    if (std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), is_lesion_metric)) {
        add_lesion_metrics(evaluation, prediction, target, options);
    }
    return evaluation;
}

Evaluation evaluate(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    return complete_evaluation(compute_statistics(prediction, target, options), prediction, target, options);
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
