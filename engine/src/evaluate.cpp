#include "masklens/engine/evaluate.h"

#include "masklens/engine/decision.h"
#include "masklens/engine/distance_transform.h"
#include "masklens/engine/error.h"
#include "masklens/engine/lesions.h"
#include "masklens/engine/parallel.h"
#include "masklens/engine/surface_distance.h"

#include "mask_metrics.h"

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

Evaluation complete_evaluation(BatchStatistics statistics, const Volume& prediction, const Volume& target,
                               const StatisticsOptions& options)
{
    Evaluation evaluation = derive_evaluation(std::move(statistics), options.metrics, options.metric);
    const auto asks_for = [&](bool (*which)(Metric) noexcept) {
        return std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), which);
    };
    if (asks_for(is_distance_metric) || asks_for(is_lesion_metric)) {
        add_mask_metrics(evaluation, prediction, target, options);
        // Batch values: distance means; lesion count sums and rate means
        // (NaN skipped), or sums with --batch-reduction sum.
        for (const auto which : {&is_distance_metric, &is_lesion_metric}) {
            if (asks_for(which)) {
                reduce_samples_again(evaluation, which);
            }
        }
    }
    return evaluation;
}

Evaluation evaluate(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    return complete_evaluation(compute_statistics(prediction, target, options), prediction, target, options);
}

} // namespace masklens
