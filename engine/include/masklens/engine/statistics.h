// The one streaming pass: per-slice sufficient statistics in double precision.
//
// Every reported value (slice, sample, label, batch) is a function of these
// sums, so prediction and target are read exactly once. The pass runs on all
// cores, converts small chunks to float (double for float64 inputs) on the
// fly and allocates nothing of the size of the inputs.
#pragma once

#include "masklens/engine/metrics.h"
#include "masklens/engine/surface_distance.h"
#include "masklens/engine/volume.h"

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace masklens {

// Sums over a region (one slice, one sample, the batch). For label regions the
// soft sums count the label's voxels (pred_sum = voxels predicted as the label).
struct RegionStats {
    std::int64_t elements = 0; // values summed over (voxels x channels)
    double bce = 0;            // sum of per-element binary cross-entropy
    double focal = 0;          // sum of per-element focal loss
    double squared_error = 0;  // sum (p - t)^2
    double absolute_error = 0; // sum |p - t|
    double pred_sum = 0;       // sum p
    double target_sum = 0;     // sum t
    double overlap_sum = 0;    // sum p t
    // C-channel predictions against classes: sum over voxels of -log p of
    // the voxel's class (log-softmax of logits with softmax), and how many
    // voxels have a class.
    double cross_entropy = 0;
    std::int64_t class_voxels = 0;
    std::int64_t pred_positive = 0;   // count p >= threshold
    std::int64_t target_positive = 0; // count t > 0.5
    std::int64_t true_positive = 0;   // count of both

    std::int64_t false_positive() const noexcept { return pred_positive - true_positive; }
    std::int64_t false_negative() const noexcept { return target_positive - true_positive; }
    std::int64_t true_negative() const noexcept
    {
        return elements - pred_positive - target_positive + true_positive;
    }
    RegionStats& operator+=(const RegionStats& other) noexcept;
};

struct LabelStats {
    std::int64_t label = 0;
    RegionStats stats;
};

// The pairing's name in reports ("binary", "label_maps", "channel_one_hot",
// "one_hot_target") and back (std::nullopt for an unknown name).
const char* pairing_mode_name(PairingMode pairing) noexcept;
std::optional<PairingMode> parse_pairing_mode(const std::string& name) noexcept;

struct StatisticsOptions {
    MetricOptions metric;
    std::vector<Metric> metrics; // which sums are needed (empty: all)
    SliceAxis axis = SliceAxis::Default;
    std::vector<std::int64_t> labels; // explicit labels to report; empty: automatic
    // Automatic labels include label / channel 0 (MONAI include_background).
    bool include_background = false;
    int threads = 0; // 0: all hardware threads
    // Called from worker threads with the fraction done (0..1).
    std::function<void(double)> progress;
    // When set and becoming true, the pass stops with Error(Cancelled).
    const std::atomic<bool>* cancel = nullptr;
    // Surface-distance metrics per slice too (the default). When false they
    // are computed per sample and label only (half the work) and their
    // per-slice values stay NaN: for reports without per-slice values.
    bool slice_distances = true;
    // When set, computes each sample's (and label's) surface distances in
    // place of sample_surface_distances, with the same contract: another
    // device (gpu::evaluate_on sets it for "cuda"). Empty: the CPU.
    std::function<SampleSurfaceDistances(const std::uint8_t* pred, const std::uint8_t* target,
                                         const MaskGrid& grid, SliceAxis axis,
                                         const SurfaceDistanceOptions& options)>
        surface_distances;
};

struct BatchStatistics {
    Shape shape;
    PairingMode pairing = PairingMode::Binary;
    SliceAxis axis = SliceAxis::D; // resolved axis
    std::int64_t slices_per_sample = 1;
    std::vector<RegionStats> slices;       // [sample * slices_per_sample + slice]
    std::vector<std::int64_t> labels;      // reported labels, ascending (may be empty)
    std::vector<RegionStats> label_slices; // [(sample * slices_per_sample + slice) * labels.size() + l]

    const RegionStats& slice(std::int64_t sample, std::int64_t index) const
    {
        return slices[static_cast<std::size_t>(sample * slices_per_sample + index)];
    }
    const RegionStats& label_slice(std::int64_t sample, std::int64_t index, std::size_t label_index) const
    {
        return label_slices[static_cast<std::size_t>(sample * slices_per_sample + index) * labels.size() +
                            label_index];
    }
    RegionStats sample(std::int64_t sample) const;
    RegionStats label_sample(std::int64_t sample, std::size_t label_index) const;
};

// Checks that the pair can be evaluated (shapes, dtypes, options) and returns
// the pairing; throws Error(Input) naming the offending file otherwise.
PairingMode check_pair(const Volume& prediction, const Volume& target, const StatisticsOptions& options);

// The streaming pass. Throws Error(Input) naming the prediction file when a
// probability metric meets a value outside [0, 1] or NaN (with the count and
// the first position), Error(Cancelled) when cancelled.
BatchStatistics compute_statistics(const Volume& prediction, const Volume& target,
                                   const StatisticsOptions& options);

} // namespace masklens
