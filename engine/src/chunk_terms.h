// The chunk-level machinery of the statistics pass: the sinks a chunk's
// terms go to (one region, or one region per element along W), the hard
// counts, the checks (range, NaN, subnormal) and accumulate_chunk, which
// evaluates the per-element terms of voxel_terms.h on one chunk. Private to
// the engine; statistics.cpp drives it.
#pragma once

#include "masklens/engine/pass_output.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/voxel_terms.h"

#include "chunk_sums.h"
#include "value_loading.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <cstring>

namespace masklens::detail {

inline constexpr std::int64_t kChunk = 2048;
// Chunks are padded to a multiple of this many elements (a 64-byte packet of
// floats), so buffers hold kChunk + kPacketPadding.
inline constexpr std::int64_t kPacketPadding = 16;

// ---- chunk loading ----------------------------------------------------------

inline void load_labels(const Volume& volume, std::int64_t offset, std::int64_t count, std::int64_t* out)
{
    visit_elements(volume, offset, [&]<class T>(const T* in) {
        if constexpr (std::is_same_v<T, std::uint64_t>) {
            // Values above int64's range are clamped so the range check rejects them.
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] = in[i] > static_cast<std::uint64_t>(kMaxLabel) ? kMaxLabel + 1
                                                                       : static_cast<std::int64_t>(in[i]);
            }
        } else if constexpr (std::is_integral_v<T>) {
            convert_labels(in, count, out);
        } // floats are never label maps
    });
}

// ---- sinks: where a chunk's terms go ---------------------------------------

template <class Real> using ArrayR = Eigen::Array<Real, Eigen::Dynamic, 1>;
template <class Real> using MapR = Eigen::Map<const ArrayR<Real>>;

// Sum in double of a float (or double) buffer. Sixteen independent partial
// sums let the compiler convert and add whole vectors at a time; the order is
// fixed, so results are deterministic.
template <class Real> double sum_in_double(const Real* values, std::int64_t count)
{
    constexpr int kLanes = 16;
    double partial[kLanes] = {};
    std::int64_t i = 0;
    for (; i + kLanes <= count; i += kLanes) {
        for (int k = 0; k < kLanes; ++k) {
            partial[k] += static_cast<double>(values[i + k]);
        }
    }
    for (; i < count; ++i) {
        partial[0] += static_cast<double>(values[i]);
    }
    for (int width = kLanes / 2; width > 0; width /= 2) {
        for (int k = 0; k < width; ++k) {
            partial[k] += partial[k + width];
        }
    }
    return partial[0];
}

// 1 for a subnormal number (0 < |v| < the smallest normal), else 0: a test of
// the bits that vectorises. Double's subnormals lie far below bce's clamp
// (log < -708 < -100): never needed there.
template <class Real> std::uint32_t is_subnormal(Real value)
{
    if constexpr (std::is_same_v<Real, float>) {
        std::uint32_t bits = 0;
        std::memcpy(&bits, &value, sizeof bits);
        return static_cast<std::uint32_t>((bits & 0x7F800000u) == 0) &
               static_cast<std::uint32_t>((bits & 0x007FFFFFu) != 0);
    } else {
        (void)value;
        return 0;
    }
}

// The hard counts of a chunk in one loop the compiler vectorises.
struct HardCounts {
    std::int64_t predicted = 0, target = 0, both = 0;
};

// `predicted(i)` is the rule's decision for element i (HardDecision).
template <class Real, class Predicted>
HardCounts count_hard(const Predicted& predicted_at, const Real* t, std::int64_t count)
{
    std::int32_t predicted = 0, target = 0, both = 0; // count <= kChunk
    for (std::int64_t i = 0; i < count; ++i) {
        const bool pp = predicted_at(i);
        const bool tp = terms::target_positive(t[i]);
        predicted += pp;
        target += tp;
        both += pp & tp;
    }
    return {predicted, target, both};
}

// Unsigned one-byte labels (int8 would need its negative labels reported).
inline bool is_unsigned_byte(ScalarType type) noexcept
{
    return type == ScalarType::UInt8 || type == ScalarType::Bool;
}

// Counts of a chunk of two byte label maps: nonzero voxels of each, nonzero
// in both, and whether every value is 0 or 1.
struct ByteCounts {
    std::int32_t predicted = 0, target = 0, both = 0;
    bool binary_only = true;
};

inline ByteCounts count_bytes(const std::uint8_t* p, const std::uint8_t* t, std::int64_t count)
{
    std::int32_t predicted = 0, target = 0, both = 0; // count <= kChunk
    unsigned any_bits = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        const bool pp = p[i] != 0;
        const bool tp = t[i] != 0;
        predicted += pp;
        target += tp;
        both += pp & tp;
        any_bits |= static_cast<unsigned>(p[i] | t[i]);
    }
    return {predicted, target, both, (any_bits & ~1u) == 0};
}

// Sums a chunk into one region (slicing along D or H). Each term expression is
// first evaluated into a scratch buffer, which lets Eigen vectorise it (its
// log and exp included), then summed in double.
template <class Real> struct SumSink {
    static constexpr bool kOneRegion = true; // may take chunk_sums.h's fast path
    RegionStats* stats;
    ArrayR<Real>* scratch;
    std::int64_t valid = 0; // elements of the (padded) chunk that count

    template <class Expr> void add(double RegionStats::*field, const Expr& terms)
    {
        scratch->head(terms.size()) = terms;
        stats->*field += sum_in_double(scratch->data(), valid);
    }
    template <class Predicted> void add_hard(const Predicted& predicted, const Real* t, std::int64_t count)
    {
        const HardCounts counts = count_hard(predicted, t, count);
        stats->pred_positive += counts.predicted;
        stats->target_positive += counts.target;
        stats->true_positive += counts.both;
    }
    void add_elements(std::int64_t count) { stats->elements += count; }
};

// Adds element i of a chunk to region i (slicing along W: each element of a
// row lies in its own slice). A second destination receives the same values
// (the channel's label region) when set.
template <class Real> struct ScatterSink {
    static constexpr bool kOneRegion = false;
    RegionStats* first;
    std::int64_t first_stride;
    RegionStats* second; // may be null
    std::int64_t second_stride;
    ArrayR<Real>* scratch;
    std::int64_t valid = 0; // elements of the (padded) chunk that count

    template <class Expr> void add(double RegionStats::*field, const Expr& terms)
    {
        // Evaluated like SumSink's (vectorised), so every axis sees the same
        // per-element values.
        scratch->head(terms.size()) = terms;
        for (std::int64_t i = 0; i < valid; ++i) {
            const double value = static_cast<double>((*scratch)[i]);
            first[i * first_stride].*field += value;
            if (second) {
                second[i * second_stride].*field += value;
            }
        }
    }
    template <class Predicted> void add_hard(const Predicted& predicted, const Real* t, std::int64_t count)
    {
        for (std::int64_t i = 0; i < count; ++i) {
            const bool pp = predicted(i);
            const bool tp = terms::target_positive(t[i]);
            for (RegionStats* region :
                 {first + i * first_stride, second ? second + i * second_stride : nullptr}) {
                if (region) {
                    region->pred_positive += pp;
                    region->target_positive += tp;
                    region->true_positive += pp & tp;
                }
            }
        }
    }
    void add_elements(std::int64_t count)
    {
        for (std::int64_t i = 0; i < count; ++i) {
            first[i * first_stride].elements += 1;
            if (second) {
                second[i * second_stride].elements += 1;
            }
        }
    }
};

// Counts the NaN values of a chunk (the first at flat index offset + i).
template <class Real>
void note_nan(const Real* values, std::int64_t count, std::int64_t offset, RangeViolation& violation)
{
    std::int32_t numbers = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        numbers += static_cast<std::int32_t>(values[i] == values[i]);
    }
    if (numbers == count) {
        return;
    }
    violation.count += count - numbers;
    if (offset < violation.first_index) {
        for (std::int64_t i = 0; i < count; ++i) {
            if (!(values[i] == values[i])) {
                violation.first_index = std::min(violation.first_index, offset + i);
                break;
            }
        }
    }
}

// Where a chunk's hard decisions come from: the probabilities at the
// threshold, or (exclusive classes) the argmax classes apply_rule chose.
struct HardDecision {
    const std::int32_t* classes = nullptr; // Decision::Argmax: the chunk's classes
    std::int32_t channel = 0;              // the channel being summed
};

// Adds a chunk's hard counts to a sink: the argmax classes' decision where
// `hard` holds them, else the probabilities p at the threshold.
template <class Real, class Sink>
void add_hard_counts(Sink& sink, HardDecision hard, const Real* p, const Real* t, std::int64_t count,
                     Real threshold)
{
    if (hard.classes) {
        const std::int32_t* classes = hard.classes;
        const std::int32_t channel = hard.channel;
        sink.add_hard([=](std::int64_t i) { return classes[i] == channel; }, t, count);
    } else {
        sink.add_hard([=](std::int64_t i) { return terms::predicted_positive(p[i], threshold); }, t, count);
    }
}

// Checks a chunk of probabilities and tells whether any is a float32
// subnormal (bce then needs the exact logarithm). With `check_range`, values
// outside [0, 1] and NaN are noted in `violation` (the first at flat index
// flat_offset + i).
template <class Real>
bool check_probabilities(const Real* p, std::int64_t count, bool check_range, std::int64_t flat_offset,
                         RangeViolation& violation)
{
    std::uint32_t tiny = 0;
    if (!check_range) {
        for (std::int64_t i = 0; i < count; ++i) {
            tiny |= is_subnormal(p[i]);
        }
        return tiny != 0;
    }
    std::int32_t valid = 0;
    for (std::int64_t i = 0; i < count; ++i) {
        valid += terms::in_unit_interval(p[i]);
        tiny |= is_subnormal(p[i]);
    }
    if (valid != count) {
        violation.count += count - valid;
        // Keep the smallest flat index whatever the order chunks come in.
        if (flat_offset < violation.first_index) {
            for (std::int64_t i = 0; i < count; ++i) {
                if (!terms::in_unit_interval(p[i])) {
                    violation.first_index = std::min(violation.first_index, flat_offset + i);
                    break;
                }
            }
        }
    }
    return tiny != 0;
}

// Whether a chunk's terms can be summed in one pass (sum_chunk): any but
// the focal loss.
inline bool sums_in_one_pass(const TermNeeds& needs) noexcept
{
    return !needs.focal;
}

// Adds one chunk of probabilities p and targets t (count elements each, no
// padding needed; neither is written) to one region: the checks, every
// term in one pass (chunk_sums.h) and the hard counts. `logits`: the logits
// p is the sigmoid of (NaN checked, bce taken from them), or null. The fast
// path of accumulate_chunk for sums_in_one_pass chunks.
template <class Real>
void sum_chunk(const Real* logits, const Real* p, const Real* t, std::int64_t count, const TermNeeds& needs,
               const MetricOptions& options, std::int64_t flat_offset, RangeViolation& violation,
               RegionStats& stats, HardDecision hard = {})
{
    stats.elements += count;
    bool subnormal = false;
    if (logits) {
        if (needs.nan_check) {
            // Logits may take any value but NaN (a NaN would make bce NaN, and
            // the report would blame empty masks).
            note_nan(logits, count, flat_offset, violation);
        }
    } else if (needs.range_check || needs.bce) {
        subnormal = check_probabilities(p, count, needs.range_check, flat_offset, violation);
    }
    sum_probability_terms(logits, p, t, count, needs, subnormal, stats);
    if (needs.hard) {
        SumSink<Real> sink{&stats, nullptr};
        add_hard_counts(sink, hard, p, t, count, static_cast<Real>(options.threshold));
    }
}

// Evaluates the per-element terms of one chunk (prediction values x, target
// values t) into a sink. `flat_offset` locates x[0] in the prediction for
// range-violation reports. With Activation::Sigmoid, x holds logits; with
// None, probabilities (softmax chunks arrive here already activated).
template <class Real, class Sink>
void accumulate_chunk(Real* x_data, Real* t_data, std::int64_t count, const TermNeeds& needs,
                      const MetricOptions& options, ArrayR<Real>& probability_buffer,
                      std::int64_t flat_offset, RangeViolation& violation, Sink& sink, HardDecision hard = {})
{
    if constexpr (Sink::kOneRegion) {
        if (sums_in_one_pass(needs)) {
            const Real* logits = nullptr;
            const Real* p = x_data;
            if (options.logits()) {
                std::copy_n(x_data, count, probability_buffer.data());
                Real* rows[] = {probability_buffer.data()};
                apply_rule(DecisionRule{Activation::Sigmoid}, 1, rows, count, nullptr);
                logits = x_data;
                p = probability_buffer.data();
            }
            sum_chunk<Real>(logits, p, t_data, count, needs, options, flat_offset, violation, *sink.stats,
                            hard);
            return;
        }
    }
    // Pad the chunk to whole SIMD packets with harmless values (p = t = 0.5),
    // so every element goes through the same vectorised code path: the value
    // of an element's terms then never depends on where a chunk ends.
    const std::int64_t padded = (count + kPacketPadding - 1) / kPacketPadding * kPacketPadding;
    for (std::int64_t i = count; i < padded; ++i) {
        x_data[i] = options.logits() ? Real(0) : Real(0.5);
        t_data[i] = Real(0.5);
    }
    const MapR<Real> x(x_data, padded), t(t_data, padded);
    sink.valid = count;
    sink.add_elements(count);
    const Real threshold = static_cast<Real>(options.threshold);

    // The probability: x itself, or sigmoid(x) for logits (kept in a buffer
    // because every later term reads it).
    const Real* probability_data = x.data();
    if (options.logits()) {
        probability_buffer.head(padded) = x;
        Real* rows[] = {probability_buffer.data()};
        apply_rule(DecisionRule{Activation::Sigmoid}, 1, rows, count, nullptr);
        probability_data = probability_buffer.data();
    }
    const MapR<Real> p(probability_data, padded);

    // Float32 subnormal probabilities need the slower exact logarithm (most
    // chunks hold none; for normal numbers both logarithms agree bit for bit).
    bool subnormal = false;
    if (needs.range_check) {
        subnormal = check_probabilities(p.data(), count, true, flat_offset, violation);
    } else if (needs.nan_check) {
        // Logits may take any value but NaN (a NaN would make bce NaN, and
        // the report would blame empty masks).
        note_nan(x.data(), count, flat_offset, violation);
    }
    if (!needs.range_check && (needs.bce || needs.focal) && !options.logits()) {
        // Probabilities from softmax: no range to check.
        subnormal = check_probabilities(p.data(), count, false, flat_offset, violation);
    }
    const auto probability_bce = [&](const auto& use) {
        if (needs.binary_target) {
            // The log's argument once, in the (otherwise unused) probability buffer.
            probability_buffer.head(padded) = terms::binary_target_argument(p, t);
            const MapR<Real> u(probability_buffer.data(), padded);
            subnormal ? use(terms::bce_binary_target_of<true>(u, p, t))
                      : use(terms::bce_binary_target_of<false>(u, p, t));
        } else {
            subnormal ? use(terms::bce<true>(p, t)) : use(terms::bce<false>(p, t));
        }
    };
    if (needs.bce) {
        const auto add_bce = [&](const auto& bce_terms) { sink.add(&RegionStats::bce, bce_terms); };
        if (options.logits()) {
            add_bce(terms::bce_with_logits(x, t));
        } else {
            probability_bce(add_bce);
        }
    }
    if (needs.focal) {
        const auto base = terms::focal_base(p, t);
        const Real gamma = static_cast<Real>(options.focal_gamma);
        // gamma == 2 (the default) as a square: exact and much cheaper than pow.
        auto weighted = [&](const auto& bce_terms) {
            if (options.focal_alpha) {
                const Real alpha = static_cast<Real>(*options.focal_alpha);
                if (gamma == Real(2)) {
                    sink.add(&RegionStats::focal,
                             bce_terms * terms::op_square(base) * terms::focal_alpha_weight(t, alpha));
                } else {
                    sink.add(&RegionStats::focal,
                             bce_terms * terms::op_pow(base, gamma) * terms::focal_alpha_weight(t, alpha));
                }
            } else if (gamma == Real(2)) {
                sink.add(&RegionStats::focal, bce_terms * terms::op_square(base));
            } else {
                sink.add(&RegionStats::focal, bce_terms * terms::op_pow(base, gamma));
            }
        };
        if (options.logits()) {
            weighted(terms::bce_with_logits(x, t));
        } else {
            probability_bce(weighted);
        }
    }
    if (needs.squared) {
        sink.add(&RegionStats::squared_error, terms::squared_error(p, t));
    }
    if (needs.absolute) {
        sink.add(&RegionStats::absolute_error, terms::absolute_error(p, t));
    }
    if (needs.overlap) {
        sink.add(&RegionStats::pred_sum, p);
        sink.add(&RegionStats::target_sum, t);
        sink.add(&RegionStats::overlap_sum, p * t);
    }
    if (needs.hard) {
        add_hard_counts(sink, hard, p.data(), t.data(), count, threshold);
    }
}

} // namespace masklens::detail
