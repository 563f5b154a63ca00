// Metric values derived from the pass's statistics: per slice, per sample,
// per label and for the batch. NaN marks an undefined value (empty masks under
// EmptyPolicy::Nan); batch means skip NaN and count the valid values.
#pragma once

#include "masklens/engine/lesion_table.h"
#include "masklens/engine/statistics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace masklens {

// Values in the order of Evaluation::metrics.
using MetricValues = std::vector<double>;

struct LabelResult {
    std::int64_t label = 0;
    MetricValues values;              // over the whole sample
    std::vector<MetricValues> slices; // per slice
};

struct SampleResult {
    std::int64_t index = 0;
    MetricValues values;
    std::vector<MetricValues> slices;
    std::vector<LabelResult> labels;
};

struct BatchLabelResult {
    std::int64_t label = 0;
    MetricValues values;             // mean over samples (NaN skipped)
    std::vector<std::int64_t> valid; // samples that contributed to each mean
};

struct Evaluation {
    std::vector<Metric> metrics;
    MetricOptions options;
    BatchStatistics statistics;
    MetricValues batch;
    std::vector<std::int64_t> batch_valid; // values contributing to each batch value
    std::vector<SampleResult> samples;
    std::vector<BatchLabelResult> labels;
    // The per-lesion table (lesion_table.h) of every sample (label -1) and
    // label, in that order; empty unless a lesion metric was requested.
    std::vector<LesionRow> lesions;
};

// One metric from region sums (a slice, a sample or a label region).
double metric_value(Metric metric, const RegionStats& stats, const MetricOptions& options);

// A sample's or slice's value of a metric that may combine the classes
// (dice_loss, iou_loss, tversky_loss under a class reduction; dice_ce;
// generalized_dice_loss) from the region and its label regions (in the
// order of BatchStatistics::labels); other metrics as metric_value.
double class_value(Metric metric, const RegionStats& region, const std::vector<RegionStats>& labels,
                   const MetricOptions& options);

// Whether a metric has a per-label value for this pairing (label maps give
// counts only, so elementwise losses are not defined per label for them).
bool label_metric_applies(Metric metric, PairingMode pairing) noexcept;

// Derives every value from the statistics (no pass over the data).
Evaluation derive_evaluation(BatchStatistics statistics, const std::vector<Metric>& metrics,
                             const MetricOptions& options);

// derive_evaluation plus the surface-distance metrics (hd, hd95, assd, nsd),
// which need the volumes themselves: the last step of every backend.
Evaluation complete_evaluation(BatchStatistics statistics, const Volume& prediction, const Volume& target,
                               const StatisticsOptions& options);

// compute_statistics (the CPU pass) + complete_evaluation.
Evaluation evaluate(const Volume& prediction, const Volume& target, const StatisticsOptions& options);

} // namespace masklens
