// What a statistics pass produces before it becomes BatchStatistics: the
// common ground of the CPU pass and the CUDA path. Both fill a PassOutput
// and hand it to assemble_statistics, which validates it (range and label
// violations become errors), chooses the reported labels and lays out the
// per-label regions.
#pragma once

#include "masklens/engine/statistics.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

namespace masklens {

// Largest label value a label map may hold.
inline constexpr std::int64_t kMaxLabel = 65535;

// How the pass is laid out, from the shapes and options alone.
struct PassPlan {
    PairingMode pairing = PairingMode::Binary;
    SliceAxis axis = SliceAxis::D;      // resolved (never Default)
    std::int64_t slices_per_sample = 1; // extent along axis
    std::int64_t regions = 0;           // samples x slices_per_sample
    std::int64_t channel_labels = 0;    // C for ChannelOneHot, else 0
};

// Validates the pair (check_pair) and lays out the pass.
PassPlan plan_pass(const Volume& prediction, const Volume& target, const StatisticsOptions& options);

// Which per-element terms a pass must sum for the requested metrics.
struct TermNeeds {
    bool bce = false, focal = false, squared = false, absolute = false, overlap = false, hard = false;
    bool range_check = false;   // count predictions outside [0, 1] (or NaN)
    bool nan_check = false;     // count NaN predictions (logits: any other value is fine)
    bool binary_target = false; // every target value is 0 or 1 (integer targets, one-hot)
    bool cross_entropy = false; // ce per voxel (C-channel predictions against classes)
};

// `requested` empty means all metrics. Label pairings always need the hard
// counts and overlap sums (the per-label values are built from them).
TermNeeds term_needs(const std::vector<Metric>& requested, const MetricOptions& options, PairingMode pairing,
                     bool integer_target);

// Counts of one label in one region of two label maps.
struct LabelCounts {
    std::int64_t predicted = 0, target = 0, both = 0;
};

// A region's label counts, sorted by label (label maps hold few labels).
struct SparseLabels {
    std::vector<std::pair<std::int64_t, LabelCounts>> entries;

    LabelCounts& at(std::int64_t label)
    {
        auto it = std::lower_bound(entries.begin(), entries.end(), label,
                                   [](const auto& entry, std::int64_t value) { return entry.first < value; });
        if (it == entries.end() || it->first != label) {
            it = entries.insert(it, {label, LabelCounts{}});
        }
        return it->second;
    }
    void merge(const SparseLabels& other)
    {
        for (const auto& [label, counts] : other.entries) {
            LabelCounts& mine = at(label);
            mine.predicted += counts.predicted;
            mine.target += counts.target;
            mine.both += counts.both;
        }
    }
};

// Prediction values outside [0, 1] (or NaN) met by a probability metric.
struct RangeViolation {
    std::int64_t count = 0;
    std::int64_t first_index = std::numeric_limits<std::int64_t>::max(); // flat index in the prediction

    void merge(const RangeViolation& other)
    {
        count += other.count;
        first_index = std::min(first_index, other.first_index);
    }
};

// Label values outside the allowed range.
struct LabelViolation {
    std::int64_t count = 0;
    std::int64_t first_index = std::numeric_limits<std::int64_t>::max(); // flat index in its file
    std::int64_t first_value = 0;
    bool in_prediction = false;

    void note(std::int64_t index, std::int64_t value, bool prediction)
    {
        ++count;
        if (index < first_index) {
            first_index = index;
            first_value = value;
            in_prediction = prediction;
        }
    }
    void merge(const LabelViolation& other)
    {
        count += other.count;
        if (other.count > 0 && other.first_index < first_index) {
            first_index = other.first_index;
            first_value = other.first_value;
            in_prediction = other.in_prediction;
        }
    }
};

struct PassOutput {
    std::vector<RegionStats> slices;               // [region]
    std::vector<RegionStats> channel_label_slices; // ChannelOneHot: [region * C + c]
    std::vector<SparseLabels> sparse_labels;       // LabelMaps: [region]
    RangeViolation range;
    LabelViolation labels;
};

// Label maps: label 0's counts in every region from the region's binary
// counts (not predicted / not target / neither), for passes that count the
// labels >= 1 only (the CUDA histogram). Exact when the threshold lies in
// (0, 1], where the binary decisions are "label != 0".
void derive_background_label(PassOutput& output);

// Turns a pass's output into BatchStatistics. Throws Error(Input) naming the
// prediction for range violations, or the offending file for label violations.
BatchStatistics assemble_statistics(const Volume& prediction, const Volume& target,
                                    const StatisticsOptions& options, const PassPlan& plan,
                                    PassOutput&& output);

} // namespace masklens
