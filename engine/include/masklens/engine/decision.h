// The one rule that turns prediction values into class probabilities and
// hard class decisions. Every consumer takes its decisions from here: the
// statistics pass (apply_rule on each chunk), the surface-distance masks and
// the app's overlays, 3D surfaces and difference counts (ClassDecider, which
// runs the same apply_rule on rows). Re-implementing the rule anywhere else
// makes the picture and the numbers drift apart; tests/engine/
// test_decision_consumers.cpp compares every consumer voxel by voxel.
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/engine/voxel_terms.h"

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace masklens {

// How prediction and target are read against each other (the class layout;
// check_pair in statistics.h chooses it).
enum class PairingMode {
    Binary,        // same shape; values (or v != 0 for integer arrays) compared elementwise
    LabelMaps,     // both integer label maps [N,1,...]; per label one-vs-rest
    ChannelOneHot, // prediction [N,C,...] probabilities, target [N,1,...] labels 0..C-1
    OneHotTarget,  // prediction [N,C,...], target [N,C,...] one-hot (exclusive rules: softmax / argmax)
};

// What turns a prediction value into a probability.
enum class Activation {
    None,    // the values are probabilities (or label maps)
    Sigmoid, // per channel: 1 / (1 + exp(-x)) (--logits)
    Softmax, // over the channel axis: exp(x_c - max) / sum_j exp(x_j - max)
};

// What turns probabilities into hard classes.
enum class Decision {
    Threshold, // per channel: p >= threshold (channels may overlap)
    Argmax,    // one class per voxel: the first channel of largest probability
};

struct DecisionRule {
    Activation activation = Activation::None;
    Decision decision = Decision::Threshold;
    double threshold = 0.5; // Decision::Threshold only

    bool operator==(const DecisionRule& other) const noexcept = default;
    // Softmax or argmax: the channels are exclusive classes (one per voxel).
    bool exclusive_classes() const noexcept
    {
        return activation == Activation::Softmax || decision == Decision::Argmax;
    }
};

std::string_view activation_name(Activation activation) noexcept;
std::string_view decision_name(Decision decision) noexcept;
// Parse "none|sigmoid|softmax" and "threshold|argmax"; Error(Usage) otherwise.
Activation parse_activation(std::string_view text);
Decision parse_decision(std::string_view text);

// The arithmetic type of the rule (and of the statistics pass): double when
// either input is float64, float otherwise. One function, so the pass and the
// masks decide a voxel in the same precision.
bool decides_in_double(ScalarType prediction, ScalarType target) noexcept;

// The rule on one chunk of `count` voxels of C channels, in place:
// values[c][i] holds channel c's value of voxel i on entry and its
// probability on return (sigmoid or softmax applied; unchanged for None).
// With Decision::Argmax, classes[i] receives the winning channel (ties: the
// lowest channel, as torch.argmax); classes may be null for Threshold.
// Real is float or double. Each values[c] must hold count rounded up to a
// multiple of 16 elements of finite padding and start at an Eigen-aligned
// address (EIGEN_MAX_ALIGN_BYTES; std::invalid_argument otherwise), so that
// every element goes through the same vectorised arithmetic wherever a chunk
// or a buffer starts and ends.
// With Activation::Softmax and log_normaliser set, log_normaliser[i]
// receives max_c x_c + log(sum_c exp(x_c - max)), so that log p_c = x_c -
// log_normaliser exactly as log_softmax computes it (cross-entropy).
template <class Real>
void apply_rule(const DecisionRule& rule, std::int64_t channels, Real* const* values, std::int64_t count,
                std::int32_t* classes, Real* log_normaliser = nullptr);

// Whether voxel i is decided as channel c after apply_rule.
template <class Real>
inline bool decided(const DecisionRule& rule, const Real* const* probabilities, const std::int32_t* classes,
                    std::int64_t c, std::int64_t i)
{
    return rule.decision == Decision::Argmax
               ? classes[i] == c
               : terms::predicted_positive(probabilities[c][i], static_cast<Real>(rule.threshold));
}

// Reads one prediction's decisions voxel run by voxel run, for the consumers
// that do not stream (masks for surface distances, slice overlays, meshes).
// Integer predictions are label maps (or binary masks): class = value, and
// the rule must be the default one. Floating predictions are C channels.
class ClassDecider {
public:
    // `target_type` selects the arithmetic (decides_in_double).
    ClassDecider(const Volume& prediction, ScalarType target_type, const DecisionRule& rule);

    // Which of the prediction's classes a voxel run belongs to.
    //   label >= 0: voxels decided as `label` (label-map value == label;
    //     one channel: label 1 = p decided positive, label 0 = not;
    //     C channels: channel `label` decided).
    //   label < 0: the foreground: label-map value != 0; one channel: p
    //     decided positive; C channels: any channel >= 1 decided.
    // Writes count bytes (0/1) for the voxels voxel + i * stride of sample n
    // (voxel = flat index over [D, H, W]; stride 1: a row along W).
    void mask(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label, std::uint8_t* out,
              std::int64_t stride = 1) const;
    // The probability of `label` for the colormap (label < 0: the largest of
    // channels >= 1, or the one channel); label maps give 1 where the mask holds.
    void probability(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label, float* out,
                     std::int64_t stride = 1) const;

    const DecisionRule& rule() const noexcept { return rule_; }
    bool label_map() const noexcept { return label_map_; }

private:
    // Applies the rule to a run and calls use(rows) with the C rows of
    // probabilities (const Real* const*, row c at rows[c]) in the rule's
    // precision (classes_ holds the argmax classes).
    template <class Use>
    void decide(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t stride, Use&& use) const;
    template <class Real>
    const Real* const* decide_in(std::int64_t n, std::int64_t voxel, std::int64_t count,
                                 std::int64_t stride) const;

    const Volume& prediction_;
    DecisionRule rule_;
    bool label_map_ = false;
    bool in_double_ = false;
    // Scratch for one run (per call; a decider is used by one thread at a time).
    // Eigen-aligned, as apply_rule requires.
    template <class T> using AlignedVector = std::vector<T, Eigen::aligned_allocator<T>>;
    mutable AlignedVector<float> float_values_;
    mutable AlignedVector<double> double_values_;
    mutable std::vector<float*> float_rows_;
    mutable std::vector<double*> double_rows_;
    mutable std::vector<std::int32_t> classes_;
    mutable std::int64_t stride_ = 0;
};

// The target's classes, as the statistics pass reads them: a label map's
// values (label maps and C-channel predictions against labels), a one-hot or
// multi-label target's channels at t > 0.5 (terms::target_positive), a
// single channel at t > 0.5 (integer masks: v != 0).
class TargetClasses {
public:
    TargetClasses(const Volume& target, PairingMode pairing);

    // label >= 0: voxels of class `label`; label < 0: the foreground (label
    // value != 0, any channel >= 1 of several, or the one channel). Same
    // layout as ClassDecider::mask.
    void mask(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label, std::uint8_t* out,
              std::int64_t stride = 1) const;

private:
    const Volume& target_;
    bool label_map_ = false;
    mutable std::vector<double> values_; // exact for every target type
};

// Validates a rule against a prediction: Error(Usage) for softmax/argmax on
// one channel or a label map, sigmoid on integers, argmax with a threshold.
void check_rule(const DecisionRule& rule, const Volume& prediction);

} // namespace masklens
