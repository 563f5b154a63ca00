// The streaming pass. Work is split into (sample, depth) planes, statically
// across threads so results do not depend on scheduling. Each plane is read in
// chunks of at most kChunk elements that are converted to float (double for
// float64 inputs) into small per-thread buffers; the per-element terms from
// voxel_terms.h are evaluated on those buffers with Eigen and summed in double.
#include "masklens/engine/statistics.h"

#include "masklens/engine/pass_output.h"

#include "masklens/engine/error.h"
#include "masklens/engine/voxel_terms.h"

#include "value_loading.h"

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

namespace masklens {

RegionStats& RegionStats::operator+=(const RegionStats& other) noexcept
{
    elements += other.elements;
    bce += other.bce;
    focal += other.focal;
    squared_error += other.squared_error;
    absolute_error += other.absolute_error;
    pred_sum += other.pred_sum;
    target_sum += other.target_sum;
    overlap_sum += other.overlap_sum;
    cross_entropy += other.cross_entropy;
    class_voxels += other.class_voxels;
    pred_positive += other.pred_positive;
    target_positive += other.target_positive;
    true_positive += other.true_positive;
    return *this;
}

RegionStats BatchStatistics::sample(std::int64_t index) const
{
    RegionStats total;
    for (std::int64_t s = 0; s < slices_per_sample; ++s) {
        total += slice(index, s);
    }
    return total;
}

RegionStats BatchStatistics::label_sample(std::int64_t index, std::size_t label_index) const
{
    RegionStats total;
    for (std::int64_t s = 0; s < slices_per_sample; ++s) {
        total += label_slice(index, s, label_index);
    }
    return total;
}

namespace {

using detail::convert_labels;
using detail::load_values;

constexpr std::int64_t kChunk = 2048;
// Chunks are padded to a multiple of this many elements (a 64-byte packet of
// floats), so buffers hold kChunk + kPacketPadding.
constexpr std::int64_t kPacketPadding = 16;

// ---- chunk loading ----------------------------------------------------------

void load_labels(const Volume& volume, std::int64_t offset, std::int64_t count, std::int64_t* out)
{
    const std::byte* base = volume.data() + static_cast<std::size_t>(offset) * scalar_size(volume.type());
    switch (volume.type()) {
    case ScalarType::Bool:
    case ScalarType::UInt8: convert_labels(reinterpret_cast<const std::uint8_t*>(base), count, out); break;
    case ScalarType::Int8: convert_labels(reinterpret_cast<const std::int8_t*>(base), count, out); break;
    case ScalarType::Int16: convert_labels(reinterpret_cast<const std::int16_t*>(base), count, out); break;
    case ScalarType::UInt16: convert_labels(reinterpret_cast<const std::uint16_t*>(base), count, out); break;
    case ScalarType::Int32: convert_labels(reinterpret_cast<const std::int32_t*>(base), count, out); break;
    case ScalarType::UInt32: convert_labels(reinterpret_cast<const std::uint32_t*>(base), count, out); break;
    case ScalarType::Int64: convert_labels(reinterpret_cast<const std::int64_t*>(base), count, out); break;
    case ScalarType::UInt64: {
        // Values above int64's range are clamped so the range check rejects them.
        const auto* in = reinterpret_cast<const std::uint64_t*>(base);
        for (std::int64_t i = 0; i < count; ++i) {
            out[i] = in[i] > static_cast<std::uint64_t>(kMaxLabel) ? kMaxLabel + 1
                                                                   : static_cast<std::int64_t>(in[i]);
        }
        break;
    }
    default: break; // not reached: floats are never label maps
    }
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

// Evaluates the per-element terms of one chunk (prediction values x, target
// values t) into a sink. `flat_offset` locates x[0] in the prediction for
// range-violation reports. With Activation::Sigmoid, x holds logits; with
// None, probabilities (softmax chunks arrive here already activated).
template <class Real, class Sink>
void accumulate_chunk(Real* x_data, Real* t_data, std::int64_t count, const TermNeeds& needs,
                      const MetricOptions& options, ArrayR<Real>& probability_buffer,
                      std::int64_t flat_offset, RangeViolation& violation, Sink& sink, HardDecision hard = {})
{
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
        std::int32_t valid = 0;
        std::uint32_t tiny = 0;
        for (Eigen::Index i = 0; i < count; ++i) {
            valid += terms::in_unit_interval(p[i]);
            tiny |= is_subnormal(p[i]);
        }
        subnormal = tiny != 0;
        if (valid != count) {
            violation.count += count - valid;
            // Keep the smallest flat index whatever the order chunks come in.
            if (flat_offset < violation.first_index) {
                for (Eigen::Index i = 0; i < count; ++i) {
                    if (!terms::in_unit_interval(p[i])) {
                        violation.first_index = std::min(violation.first_index, flat_offset + i);
                        break;
                    }
                }
            }
        }
    } else if (needs.nan_check) {
        // Logits may take any value but NaN (a NaN would make bce NaN, and
        // the report would blame empty masks).
        note_nan(x.data(), count, flat_offset, violation);
    }
    if (!needs.range_check && (needs.bce || needs.focal) && !options.logits()) {
        std::uint32_t tiny = 0; // probabilities from softmax: no range to check
        for (Eigen::Index i = 0; i < count; ++i) {
            tiny |= is_subnormal(p[i]);
        }
        subnormal = tiny != 0;
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
        const Real* probability = p.data();
        if (hard.classes) {
            const std::int32_t* classes = hard.classes;
            const std::int32_t channel = hard.channel;
            sink.add_hard([=](std::int64_t i) { return classes[i] == channel; }, t.data(), count);
        } else {
            sink.add_hard(
                [=](std::int64_t i) { return terms::predicted_positive(probability[i], threshold); },
                t.data(), count);
        }
    }
}

// ---- the plan ----------------------------------------------------------------

struct ThreadState {
    // Accumulators owned by this thread (only used when slices can be shared
    // between planes: slicing along H or W).
    std::vector<RegionStats> slices;
    std::vector<RegionStats> channel_labels; // ChannelOneHot: [region * C + c]
    std::vector<SparseLabels> sparse_labels; // LabelMaps: [region]
    RangeViolation range;
    LabelViolation labels;
};

std::string position_string(const Shape& shape, std::int64_t flat)
{
    const std::int64_t w = flat % shape.w;
    flat /= shape.w;
    const std::int64_t h = flat % shape.h;
    flat /= shape.h;
    const std::int64_t d = flat % shape.d;
    flat /= shape.d;
    const std::int64_t c = flat % shape.c;
    const std::int64_t n = flat / shape.c;
    std::ostringstream text;
    if (shape.spatial_dims == 2) {
        text << "[n=" << n << ", c=" << c << ", h=" << h << ", w=" << w << "]";
    } else {
        text << "[n=" << n << ", c=" << c << ", d=" << d << ", h=" << h << ", w=" << w << "]";
    }
    return text.str();
}

double value_at(const Volume& volume, std::int64_t flat)
{
    double value = 0;
    load_values<double>(volume, flat, 1, &value);
    if (is_label_type(volume.type())) {
        std::int64_t label = 0;
        load_labels(volume, flat, 1, &label);
        value = static_cast<double>(label);
    }
    return value;
}

// A worker's chunk buffers (kChunk elements plus packet padding each).
template <class Real> struct ChunkBuffers {
    static constexpr std::int64_t capacity = kChunk + kPacketPadding;
    ArrayR<Real> values{capacity}, targets{capacity}, probabilities{capacity}, scratch{capacity};
    std::vector<std::int64_t> target_labels = std::vector<std::int64_t>(static_cast<std::size_t>(kChunk));
    std::vector<std::int64_t> pred_labels = std::vector<std::int64_t>(static_cast<std::size_t>(kChunk));
    // One-hot targets: one channel's values, exact.
    std::vector<std::int64_t> class_values = std::vector<std::int64_t>(static_cast<std::size_t>(kChunk));
    std::vector<double> exact_values = std::vector<double>(static_cast<std::size_t>(kChunk));
    // Exclusive rules: every channel of a chunk, and the argmax classes.
    std::int64_t stride = capacity;
    ArrayR<Real> channel_values;
    std::vector<Real*> channel_rows;
    std::vector<std::int32_t> classes = std::vector<std::int32_t>(static_cast<std::size_t>(capacity));
    // Per voxel: the loss of its class, and softmax's log-normaliser.
    ArrayR<Real> class_loss{capacity}, log_normaliser{capacity};

    explicit ChunkBuffers(std::int64_t channels) : channel_values(channels * capacity)
    {
        for (std::int64_t c = 0; c < channels; ++c) {
            channel_rows.push_back(channel_values.data() + c * capacity);
        }
    }
};

class Pass {
public:
    Pass(const Volume& prediction, const Volume& target, const StatisticsOptions& options,
         const PassPlan& plan)
        : prediction_(prediction), target_(target), options_(options), plan_(plan), pairing_(plan.pairing),
          shape_(prediction.shape()),
          needs_(term_needs(options.metrics, options.metric, plan.pairing, is_label_type(target.type()))),
          axis_(plan.axis), slices_per_sample_(plan.slices_per_sample), regions_(plan.regions),
          channel_labels_(plan.channel_labels),
          byte_labels_(pairing_ == PairingMode::LabelMaps && axis_ != SliceAxis::W &&
                       is_unsigned_byte(prediction.type()) && is_unsigned_byte(target.type()) &&
                       !needs_.bce && !needs_.focal && !needs_.range_check),
          exclusive_(channel_labels_ > 0 && options.metric.rule().exclusive_classes())
    {
        activated_options_ = options.metric;
        activated_options_.activation = Activation::None;
    }

    BatchStatistics run()
    {
        const std::int64_t planes = shape_.n * shape_.d;
        unsigned hardware = options_.threads > 0 ? static_cast<unsigned>(options_.threads)
                                                 : std::max(1u, std::thread::hardware_concurrency());
        const auto thread_count = static_cast<std::int64_t>(std::min<std::int64_t>(hardware, planes));

        // Slicing along D: each plane is one region, so threads write the
        // shared result directly. Along H or W, threads keep their own.
        shared_regions_ = axis_ == SliceAxis::D;
        slices_.assign(static_cast<std::size_t>(regions_), RegionStats{});
        channel_label_slices_.assign(static_cast<std::size_t>(regions_ * channel_labels_), RegionStats{});
        if (pairing_ == PairingMode::LabelMaps) {
            sparse_labels_.assign(static_cast<std::size_t>(regions_), SparseLabels{});
        }
        states_.resize(static_cast<std::size_t>(thread_count));
        for (auto& state : states_) {
            if (!shared_regions_) {
                state.slices.assign(static_cast<std::size_t>(regions_), RegionStats{});
                state.channel_labels.assign(static_cast<std::size_t>(regions_ * channel_labels_),
                                            RegionStats{});
                if (pairing_ == PairingMode::LabelMaps) {
                    state.sparse_labels.assign(static_cast<std::size_t>(regions_), SparseLabels{});
                }
            }
        }
        progress_step_ = std::max<std::int64_t>(1, planes / 100);

        std::vector<std::thread> workers;
        std::exception_ptr failure;
        std::mutex failure_mutex;
        for (std::int64_t t = 0; t < thread_count; ++t) {
            const std::int64_t begin = planes * t / thread_count;
            const std::int64_t end = planes * (t + 1) / thread_count;
            auto work = [&, t, begin, end] {
                try {
                    // Float64 inputs are evaluated in double, everything else in float.
                    if (prediction_.type() == ScalarType::Float64 || target_.type() == ScalarType::Float64) {
                        run_planes<double>(states_[static_cast<std::size_t>(t)], begin, end);
                    } else {
                        run_planes<float>(states_[static_cast<std::size_t>(t)], begin, end);
                    }
                } catch (...) {
                    const std::lock_guard lock(failure_mutex);
                    if (!failure) {
                        failure = std::current_exception();
                    }
                    stop_.store(true);
                }
            };
            if (t + 1 == thread_count) {
                work(); // the calling thread takes the last share
            } else {
                workers.emplace_back(work);
            }
        }
        for (auto& worker : workers) {
            worker.join();
        }
        if (failure) {
            std::rethrow_exception(failure);
        }
        if (options_.cancel && options_.cancel->load()) {
            throw Error(Error::Kind::Cancelled, {}, "evaluation cancelled");
        }
        return finish();
    }

private:
    template <class Real> void run_planes(ThreadState& state, std::int64_t begin, std::int64_t end)
    {
        ChunkBuffers<Real> buffers(exclusive_ ? shape_.c : 0);
        for (std::int64_t plane = begin; plane < end; ++plane) {
            if (stop_.load(std::memory_order_relaxed) || (options_.cancel && options_.cancel->load())) {
                return;
            }
            const std::int64_t n = plane / shape_.d;
            const std::int64_t d = plane % shape_.d;
            run_plane<Real>(state, n, d, buffers);
            const std::int64_t done = planes_done_.fetch_add(1) + 1;
            if (options_.progress && done % progress_step_ == 0) {
                options_.progress(static_cast<double>(done) / static_cast<double>(shape_.n * shape_.d));
            }
        }
    }

    // One (sample, depth) plane: every channel, every row.
    template <class Real>
    void run_plane(ThreadState& state, std::int64_t n, std::int64_t d, ChunkBuffers<Real>& buffers)
    {
        ArrayR<Real>& values = buffers.values;
        ArrayR<Real>& targets = buffers.targets;
        ArrayR<Real>& probabilities = buffers.probabilities;
        ArrayR<Real>& scratch = buffers.scratch;
        std::vector<std::int64_t>& target_labels = buffers.target_labels;
        std::vector<std::int64_t>& pred_labels = buffers.pred_labels;
        const std::int64_t plane_size = shape_.h * shape_.w;
        RegionStats* slices = shared_regions_ ? slices_.data() : state.slices.data();
        RegionStats* channel_labels =
            shared_regions_ ? channel_label_slices_.data() : state.channel_labels.data();
        SparseLabels* sparse = shared_regions_ ? sparse_labels_.data() : state.sparse_labels.data();
        const std::int64_t sample_region = n * slices_per_sample_;

        // Segments of the plane that map to one region (D: any run of the
        // plane; H: one row) or to one region per element (W: one row).
        const std::int64_t segment = axis_ == SliceAxis::D ? plane_size : shape_.w;
        for (std::int64_t start = 0; start < plane_size; start += segment) {
            for (std::int64_t chunk = start; chunk < start + segment; chunk += kChunk) {
                const std::int64_t count = std::min(kChunk, start + segment - chunk);
                const std::int64_t h = chunk / shape_.w;
                const std::int64_t w0 = chunk % shape_.w;
                // Region of the chunk's first element.
                const std::int64_t region = sample_region + (axis_ == SliceAxis::D   ? d
                                                             : axis_ == SliceAxis::H ? h
                                                                                     : w0);
                if (channel_labels_ > 0 && pairing_ != PairingMode::Binary) {
                    run_channel_chunk<Real>(state, n, d, chunk, count, region, slices, channel_labels,
                                            buffers);
                    continue;
                }
                if (byte_labels_) {
                    // Label maps have one channel.
                    const std::int64_t offset = (n * shape_.d + d) * plane_size + chunk;
                    run_byte_chunk(state, sparse, slices, region, offset, count);
                    continue;
                }
                for (std::int64_t c = 0; c < shape_.c; ++c) {
                    const std::int64_t offset = ((n * shape_.c + c) * shape_.d + d) * plane_size + chunk;
                    load_values<Real>(prediction_, offset, count, values.data());
                    load_values<Real>(target_, offset, count, targets.data());
                    // Several binary channels (multi-label): each channel is also its label.
                    RegionStats* channel =
                        channel_labels_ > 0 ? channel_labels + region * shape_.c + c : nullptr;
                    if (axis_ == SliceAxis::W) {
                        ScatterSink<Real> sink{slices + region, 1, channel, shape_.c, &scratch};
                        accumulate_chunk<Real>(values.data(), targets.data(), count, needs_, options_.metric,
                                               probabilities, offset, state.range, sink);
                    } else {
                        RegionStats local;
                        SumSink<Real> sink{&local, &scratch};
                        accumulate_chunk<Real>(values.data(), targets.data(), count, needs_, options_.metric,
                                               probabilities, offset, state.range, sink);
                        slices[region] += local;
                        if (channel) {
                            *channel += local;
                        }
                        if (pairing_ == PairingMode::LabelMaps) {
                            count_labels(state, sparse, region, offset, count, local, target_labels,
                                         pred_labels);
                        }
                    }
                    if (pairing_ == PairingMode::LabelMaps && axis_ == SliceAxis::W) {
                        count_labels_per_element(state, sparse, region, offset, count, target_labels,
                                                 pred_labels);
                    }
                }
            }
        }
    }

    // One chunk of a C-channel prediction against a label map or a one-hot
    // target: the target's classes first, then every channel's terms against
    // "class == c". Exclusive rules (softmax, argmax) see all channels of the
    // chunk at once through apply_rule; the others read one channel at a time.
    template <class Real>
    void run_channel_chunk(ThreadState& state, std::int64_t n, std::int64_t d, std::int64_t chunk,
                           std::int64_t count, std::int64_t region, RegionStats* slices,
                           RegionStats* channel_labels, ChunkBuffers<Real>& buffers)
    {
        const std::int64_t plane_size = shape_.h * shape_.w;
        const std::int64_t channels = shape_.c;
        const auto offset_of = [&](std::int64_t c) {
            return ((n * channels + c) * shape_.d + d) * plane_size + chunk;
        };
        load_target_classes(state, n, d, chunk, count, buffers);
        const std::vector<std::int64_t>& labels = buffers.target_labels;
        HardDecision hard;
        const MetricOptions* options = &options_.metric;
        TermNeeds needs = needs_;
        const bool softmax = options_.metric.activation == Activation::Softmax;
        // Per voxel: -log p of its class (ce), for ce and the softmax focal loss.
        const bool class_terms =
            (needs_.cross_entropy && options_.metric.activation != Activation::Sigmoid) ||
            (softmax && needs_.focal);
        Real* class_loss = buffers.class_loss.data();
        if (exclusive_) {
            std::vector<Real*>& rows = buffers.channel_rows;
            for (std::int64_t c = 0; c < channels; ++c) {
                Real* row = rows[static_cast<std::size_t>(c)];
                load_values<Real>(prediction_, offset_of(c), count, row);
                std::fill(row + count, row + buffers.stride, Real(0)); // finite padding
            }
            if (class_terms && softmax) {
                for (std::int64_t i = 0; i < count; ++i) { // the class's logit, before the rule
                    const std::int64_t label = labels[static_cast<std::size_t>(i)];
                    class_loss[i] = label >= 0 ? rows[static_cast<std::size_t>(label)][i] : Real(0);
                }
            }
            if (is_label_type(prediction_.type())) {
                check_one_hot_prediction(state, n, d, chunk, count, buffers);
            }
            if (needs.nan_check) {
                // NaN logits, found where they are (softmax spreads a NaN over
                // the voxel's channels); the probabilities need no check then.
                for (std::int64_t c = 0; c < channels; ++c) {
                    note_nan(rows[static_cast<std::size_t>(c)], count, offset_of(c), state.range);
                }
                needs.nan_check = false;
            }
            apply_rule(options_.metric.rule(), channels, rows.data(), count, buffers.classes.data(),
                       softmax ? buffers.log_normaliser.data() : nullptr);
            if (class_terms && softmax) {
                for (std::int64_t i = 0; i < count; ++i) { // log_softmax: -(x_class - logsumexp)
                    class_loss[i] = buffers.log_normaliser[i] - class_loss[i];
                }
            }
            needs.focal = needs.focal && !softmax; // the softmax focal loss comes from class_loss
            if (options_.metric.decision == Decision::Argmax) {
                hard.classes = buffers.classes.data();
            }
            options = &activated_options_; // the rows hold probabilities now
        }
        for (std::int64_t c = 0; c < channels; ++c) {
            const std::int64_t offset = offset_of(c);
            Real* values = buffers.values.data();
            if (exclusive_) {
                values = buffers.channel_rows[static_cast<std::size_t>(c)];
            } else {
                load_values<Real>(prediction_, offset, count, values);
            }
            for (std::int64_t i = 0; i < count; ++i) {
                buffers.targets[i] = labels[static_cast<std::size_t>(i)] == c ? Real(1) : Real(0);
            }
            if (class_terms && !softmax) { // probabilities: -log p of the class, clamped at -100
                for (std::int64_t i = 0; i < count; ++i) {
                    if (labels[static_cast<std::size_t>(i)] == c) {
                        class_loss[i] = -terms::clamped_log(values[i]);
                    }
                }
            }
            hard.channel = static_cast<std::int32_t>(c);
            if (axis_ == SliceAxis::W) {
                ScatterSink<Real> sink{slices + region, 1, channel_labels + region * channels + c, channels,
                                       &buffers.scratch};
                accumulate_chunk<Real>(values, buffers.targets.data(), count, needs, *options,
                                       buffers.probabilities, offset, state.range, sink, hard);
            } else {
                RegionStats local;
                SumSink<Real> sink{&local, &buffers.scratch};
                accumulate_chunk<Real>(values, buffers.targets.data(), count, needs, *options,
                                       buffers.probabilities, offset, state.range, sink, hard);
                slices[region] += local;
                channel_labels[region * channels + c] += local;
            }
        }
        if (class_terms) {
            add_class_terms(class_loss, labels, count, region, slices, channel_labels);
        }
    }

    // Adds a chunk's per-voxel class losses (-log p of each voxel's class) to
    // its regions: the cross-entropy sums, and with softmax the focal loss
    // (MONAI FocalLoss(use_softmax=True): (1 - p)^gamma (-log p), alpha for
    // the classes >= 1 and 1 - alpha for class 0), to the region and to its
    // class's label region.
    template <class Real>
    void add_class_terms(const Real* class_loss, const std::vector<std::int64_t>& labels, std::int64_t count,
                         std::int64_t region, RegionStats* slices, RegionStats* channel_labels) const
    {
        const MetricOptions& metric = options_.metric;
        const bool focal = needs_.focal && metric.activation == Activation::Softmax;
        for (std::int64_t i = 0; i < count; ++i) {
            const std::int64_t label = labels[static_cast<std::size_t>(i)];
            if (label < 0) {
                continue; // reported as a label violation
            }
            const std::int64_t at = axis_ == SliceAxis::W ? region + i : region;
            const auto loss = static_cast<double>(class_loss[i]);
            if (needs_.cross_entropy) {
                slices[at].cross_entropy += loss;
                slices[at].class_voxels += 1;
            }
            if (focal) {
                const double p = std::exp(-loss);
                double term = std::pow(1.0 - p, metric.focal_gamma) * loss;
                if (metric.focal_alpha) {
                    term *= label == 0 ? 1.0 - *metric.focal_alpha : *metric.focal_alpha;
                }
                slices[at].focal += term;
                channel_labels[at * shape_.c + label].focal += term;
            }
        }
    }

    // An integer C-channel prediction must be one-hot: exactly one channel
    // nonzero per voxel (the rows hold 0/1 after loading). Violations are
    // noted like a one-hot target's, in the prediction.
    template <class Real>
    void check_one_hot_prediction(ThreadState& state, std::int64_t n, std::int64_t d, std::int64_t chunk,
                                  std::int64_t count, ChunkBuffers<Real>& buffers) const
    {
        const std::int64_t plane_size = shape_.h * shape_.w;
        const std::int64_t voxel0 = (n * shape_.c * shape_.d + d) * plane_size + chunk; // channel 0's index
        for (std::int64_t i = 0; i < count; ++i) {
            Real hot = 0;
            for (std::int64_t c = 0; c < shape_.c; ++c) {
                hot += buffers.channel_rows[static_cast<std::size_t>(c)][i];
            }
            if (hot != Real(1)) {
                state.labels.note(voxel0 + i, static_cast<std::int64_t>(hot), true);
            }
        }
    }

    // The target's class of each voxel of a chunk into buffers.target_labels:
    // a label map's value (0..C-1), or a one-hot target's one channel holding
    // 1. Violations (labels outside 0..C-1; not exactly one 1 per voxel, or a
    // value other than 0 and 1) are noted with the voxel's flat index.
    template <class Real>
    void load_target_classes(ThreadState& state, std::int64_t n, std::int64_t d, std::int64_t chunk,
                             std::int64_t count, ChunkBuffers<Real>& buffers)
    {
        const std::int64_t plane_size = shape_.h * shape_.w;
        std::vector<std::int64_t>& labels = buffers.target_labels;
        if (pairing_ == PairingMode::ChannelOneHot) {
            const std::int64_t target_offset = (n * shape_.d + d) * plane_size + chunk;
            load_labels(target_, target_offset, count, labels.data());
            for (std::int64_t i = 0; i < count; ++i) {
                const std::int64_t label = labels[static_cast<std::size_t>(i)];
                if (label < 0 || label >= shape_.c) {
                    state.labels.note(target_offset + i, label, false);
                }
            }
            return;
        }
        // One-hot: count the ones per voxel; -1 marks a value other than 0/1.
        std::vector<std::int64_t>& ones = buffers.pred_labels;
        std::fill_n(ones.begin(), count, 0);
        std::fill_n(labels.begin(), count, 0);
        const bool integer = is_label_type(target_.type());
        for (std::int64_t c = 0; c < shape_.c; ++c) {
            const std::int64_t offset = ((n * shape_.c + c) * shape_.d + d) * plane_size + chunk;
            if (integer) {
                load_labels(target_, offset, count, buffers.class_values.data());
            } else {
                load_values<double>(target_, offset, count, buffers.exact_values.data());
            }
            for (std::int64_t i = 0; i < count; ++i) {
                const double v = integer
                                     ? static_cast<double>(buffers.class_values[static_cast<std::size_t>(i)])
                                     : buffers.exact_values[static_cast<std::size_t>(i)];
                auto& seen = ones[static_cast<std::size_t>(i)];
                if (v == 1) {
                    labels[static_cast<std::size_t>(i)] = c;
                    seen = seen < 0 ? seen : seen + 1;
                } else if (v != 0) {
                    seen = -1;
                }
            }
        }
        const std::int64_t voxel0 = (n * shape_.c * shape_.d + d) * plane_size + chunk; // channel 0's index
        for (std::int64_t i = 0; i < count; ++i) {
            const std::int64_t seen = ones[static_cast<std::size_t>(i)];
            if (seen != 1) {
                state.labels.note(voxel0 + i, seen, false);
                labels[static_cast<std::size_t>(i)] = -1;
            }
        }
    }

    // One chunk of byte label maps (byte_labels_): the float path's terms
    // from four counts. Mask values enter as 0 or 1, so sum p, sum t and
    // sum p t are the nonzero counts, (p - t)^2 and |p - t| are 1 exactly
    // where one of the two is nonzero, and each hard decision is the same
    // for every voxel of a value.
    void run_byte_chunk(ThreadState& state, SparseLabels* sparse, RegionStats* slices, std::int64_t region,
                        std::int64_t offset, std::int64_t count)
    {
        const auto* p = reinterpret_cast<const std::uint8_t*>(prediction_.data()) + offset;
        const auto* t = reinterpret_cast<const std::uint8_t*>(target_.data()) + offset;
        const ByteCounts counts = count_bytes(p, t, count);
        const std::int64_t predicted = counts.predicted, target = counts.target, both = counts.both;
        RegionStats local;
        local.elements = count;
        if (needs_.overlap) {
            local.pred_sum = static_cast<double>(predicted);
            local.target_sum = static_cast<double>(target);
            local.overlap_sum = static_cast<double>(both);
        }
        const auto differing = static_cast<double>(predicted + target - 2 * both);
        if (needs_.squared) {
            local.squared_error = differing;
        }
        if (needs_.absolute) {
            local.absolute_error = differing;
        }
        if (needs_.hard) {
            // The float path's decisions, evaluated once per value (in float:
            // byte inputs are evaluated in float).
            const float threshold = static_cast<float>(options_.metric.threshold);
            const bool one_positive = terms::predicted_positive(1.0F, threshold);
            const bool zero_positive = terms::predicted_positive(0.0F, threshold);
            const bool one_target = terms::target_positive(1.0F);
            const bool zero_target = terms::target_positive(0.0F);
            const std::int64_t only_predicted = predicted - both, only_target = target - both;
            const std::int64_t neither = count - predicted - target + both;
            local.pred_positive = (one_positive ? predicted : 0) + (zero_positive ? count - predicted : 0);
            local.target_positive = (one_target ? target : 0) + (zero_target ? count - target : 0);
            local.true_positive = (one_positive && one_target ? both : 0) +
                                  (one_positive && zero_target ? only_predicted : 0) +
                                  (zero_positive && one_target ? only_target : 0) +
                                  (zero_positive && zero_target ? neither : 0);
        }
        slices[region] += local;
        if (add_binary_chunk(sparse[region], counts.binary_only, local)) {
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            count_label_voxel(state, sparse[region], offset + i, p[i], t[i]);
        }
    }

    // Label maps: a chunk whose labels are all 0 or 1 has label 1's counts in
    // its hard counts, which are label counts only when the threshold
    // separates 0 from 1. Returns false when the chunk must be counted voxel
    // by voxel instead.
    bool add_binary_chunk(SparseLabels& labels, bool binary_only, const RegionStats& binary) const
    {
        const double threshold = options_.metric.threshold;
        if (!binary_only || !(threshold > 0 && threshold <= 1)) {
            return false;
        }
        if (binary.pred_positive > 0 || binary.target_positive > 0) {
            LabelCounts& one = labels.at(1);
            one.predicted += binary.pred_positive;
            one.target += binary.target_positive;
            one.both += binary.true_positive;
        }
        // Label 0: the rest (the chunk's voxels not predicted / not target 1).
        if (binary.elements > binary.pred_positive || binary.elements > binary.target_positive) {
            LabelCounts& zero = labels.at(0);
            zero.predicted += binary.elements - binary.pred_positive;
            zero.target += binary.elements - binary.target_positive;
            zero.both += binary.true_negative();
        }
        return true;
    }

    // Label maps, one region: the binary counts of a chunk whose labels are
    // all 0 or 1 are label 1's counts; other chunks are counted voxel by voxel.
    void count_labels(ThreadState& state, SparseLabels* sparse, std::int64_t region, std::int64_t offset,
                      std::int64_t count, const RegionStats& binary, std::vector<std::int64_t>& target_labels,
                      std::vector<std::int64_t>& pred_labels)
    {
        load_labels(target_, offset, count, target_labels.data());
        load_labels(prediction_, offset, count, pred_labels.data());
        bool binary_only = true;
        for (std::int64_t i = 0; i < count; ++i) {
            const auto lt = target_labels[static_cast<std::size_t>(i)];
            const auto lp = pred_labels[static_cast<std::size_t>(i)];
            binary_only = binary_only && (lt == 0 || lt == 1) && (lp == 0 || lp == 1);
        }
        if (add_binary_chunk(sparse[region], binary_only, binary)) {
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            count_label_voxel(state, sparse[region], offset + i, pred_labels[static_cast<std::size_t>(i)],
                              target_labels[static_cast<std::size_t>(i)]);
        }
    }

    void count_labels_per_element(ThreadState& state, SparseLabels* sparse, std::int64_t region,
                                  std::int64_t offset, std::int64_t count,
                                  std::vector<std::int64_t>& target_labels,
                                  std::vector<std::int64_t>& pred_labels)
    {
        load_labels(target_, offset, count, target_labels.data());
        load_labels(prediction_, offset, count, pred_labels.data());
        for (std::int64_t i = 0; i < count; ++i) {
            count_label_voxel(state, sparse[region + i], offset + i, pred_labels[static_cast<std::size_t>(i)],
                              target_labels[static_cast<std::size_t>(i)]);
        }
    }

    static void count_label_voxel(ThreadState& state, SparseLabels& labels, std::int64_t index,
                                  std::int64_t predicted, std::int64_t actual)
    {
        bool valid = true;
        if (predicted < 0 || predicted > kMaxLabel) {
            state.labels.note(index, predicted, true);
            valid = false;
        }
        if (actual < 0 || actual > kMaxLabel) {
            state.labels.note(index, actual, false);
            valid = false;
        }
        if (!valid) {
            return;
        }
        // Label 0 is counted like any other label: it is reported with
        // --include-background or --labels 0.
        if (predicted == actual) {
            LabelCounts& counts = labels.at(predicted);
            ++counts.predicted;
            ++counts.target;
            ++counts.both;
            return;
        }
        ++labels.at(predicted).predicted;
        ++labels.at(actual).target;
    }

    BatchStatistics finish()
    {
        PassOutput output;
        for (auto& state : states_) {
            output.range.merge(state.range);
            output.labels.merge(state.labels);
            if (!shared_regions_) {
                for (std::size_t i = 0; i < slices_.size(); ++i) {
                    slices_[i] += state.slices[i];
                }
                for (std::size_t i = 0; i < channel_label_slices_.size(); ++i) {
                    channel_label_slices_[i] += state.channel_labels[i];
                }
                for (std::size_t i = 0; i < state.sparse_labels.size(); ++i) {
                    sparse_labels_[i].merge(state.sparse_labels[i]);
                }
            }
        }
        output.slices = std::move(slices_);
        output.channel_label_slices = std::move(channel_label_slices_);
        output.sparse_labels = std::move(sparse_labels_);
        return assemble_statistics(prediction_, target_, options_, plan_, std::move(output));
    }

    const Volume& prediction_;
    const Volume& target_;
    const StatisticsOptions& options_;
    PassPlan plan_;
    PairingMode pairing_;
    Shape shape_;
    TermNeeds needs_;
    SliceAxis axis_;
    std::int64_t slices_per_sample_;
    std::int64_t regions_;
    std::int64_t channel_labels_;
    // Byte label maps (the usual mask files) whose requested terms are all
    // counts: a chunk's values are 0 or 1 after the mask conversion, so its
    // sums are counts and the bytes are counted directly (run_byte_chunk),
    // with results identical to the float path.
    bool byte_labels_ = false;
    // Softmax or argmax over C channels: a chunk's channels are decided
    // together (run_channel_chunk), and its terms then read probabilities
    // (activated_options_: the metric options with the activation applied).
    bool exclusive_ = false;
    MetricOptions activated_options_;
    bool shared_regions_ = true;
    std::vector<RegionStats> slices_;
    std::vector<RegionStats> channel_label_slices_;
    std::vector<SparseLabels> sparse_labels_;
    std::vector<ThreadState> states_;
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> planes_done_{0};
    std::int64_t progress_step_ = 1;
};

} // namespace

const char* pairing_mode_name(PairingMode pairing) noexcept
{
    switch (pairing) {
    case PairingMode::Binary: return "binary";
    case PairingMode::LabelMaps: return "label_maps";
    case PairingMode::ChannelOneHot: return "channel_one_hot";
    case PairingMode::OneHotTarget: return "one_hot_target";
    }
    return "binary";
}

std::optional<PairingMode> parse_pairing_mode(const std::string& name) noexcept
{
    for (const PairingMode mode : {PairingMode::Binary, PairingMode::LabelMaps, PairingMode::ChannelOneHot,
                                   PairingMode::OneHotTarget}) {
        if (name == pairing_mode_name(mode)) {
            return mode;
        }
    }
    return std::nullopt;
}

PairingMode check_pair(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    const Shape& p = prediction.shape();
    const Shape& t = target.shape();
    const bool spatial_equal =
        p.n == t.n && p.d == t.d && p.h == t.h && p.w == t.w && p.spatial_dims == t.spatial_dims;
    PairingMode pairing = PairingMode::Binary;
    check_rule(options.metric.rule(), prediction);
    if (spatial_equal && p.c == t.c) {
        if (p.c == 1 && is_label_type(prediction.type()) && is_label_type(target.type())) {
            pairing = PairingMode::LabelMaps;
        } else if (p.c > 1 && options.metric.rule().exclusive_classes()) {
            pairing = PairingMode::OneHotTarget; // exclusive classes: the target must be one-hot
        }
    } else if (spatial_equal && t.c == 1 && p.c > 1 &&
               (is_floating(prediction.type()) || options.metric.rule().exclusive_classes()) &&
               is_label_type(target.type())) {
        // (An integer C-channel prediction is a one-hot prediction: argmax.)
        pairing = PairingMode::ChannelOneHot;
    } else {
        throw_input_error(target.source(), "shape " + t.to_string() + " does not match the prediction's " +
                                               p.to_string() + " (" + prediction.source() +
                                               "); shapes must be equal, or the prediction [N,C,...] with "
                                               "C channels and the target an integer label map [N,1,...]");
    }
    if (!options.labels.empty()) {
        if (pairing == PairingMode::Binary) {
            throw_usage_error("--labels needs label maps (integer prediction and target) or a C-channel "
                              "prediction with an integer target");
        }
        for (std::int64_t label : options.labels) {
            const bool channels =
                pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
            if (label < 0 || label > kMaxLabel || (channels && label >= p.c)) {
                throw_usage_error("--labels: label " + std::to_string(label) + " is out of range" +
                                  (channels ? " (the prediction has " + std::to_string(p.c) + " channels)"
                                            : std::string()));
            }
        }
    }
    return pairing;
}

TermNeeds term_needs(const std::vector<Metric>& requested, const MetricOptions& options, PairingMode pairing,
                     bool integer_target)
{
    TermNeeds needs;
    for (Metric metric : requested.empty() ? all_metrics() : requested) {
        switch (metric) {
        case Metric::Bce: needs.bce = true; break;
        case Metric::FocalLoss: needs.focal = true; break;
        case Metric::Mse: needs.squared = true; break;
        case Metric::Mae: needs.absolute = true; break;
        case Metric::DiceLoss:
        case Metric::IouLoss:
        case Metric::TverskyLoss: needs.overlap = true; break;
        case Metric::GeneralizedDiceLoss: needs.overlap = true; break;
        case Metric::DiceCe: needs.overlap = needs.cross_entropy = true; break;
        case Metric::Ce: needs.cross_entropy = true; break;
        default:
            if (is_distance_metric(metric)) {
                break; // from the masks, after the pass (surface_distance.h)
            }
            needs.hard = true;
            break;
        }
    }
    // Label statistics are built from the hard counts and overlap sums.
    if (pairing != PairingMode::Binary) {
        needs.hard = true;
        needs.overlap = true;
    }
    const bool classes = pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
    needs.cross_entropy = needs.cross_entropy && classes;
    const bool probability_logs = needs.bce || needs.focal || needs.cross_entropy;
    needs.range_check = probability_logs && options.activation == Activation::None;
    needs.nan_check = probability_logs && options.activation != Activation::None;
    needs.binary_target =
        integer_target || pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
    return needs;
}

PassPlan plan_pass(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    PassPlan plan;
    plan.pairing = check_pair(prediction, target, options);
    const Shape& shape = prediction.shape();
    plan.axis = options.axis == SliceAxis::Default ? SliceAxis::D : options.axis;
    plan.slices_per_sample = plan.axis == SliceAxis::D   ? shape.d
                             : plan.axis == SliceAxis::H ? shape.h
                                                         : shape.w;
    plan.regions = shape.n * plan.slices_per_sample;
    // Channel labels: a C-channel prediction against classes, or several
    // binary channels (multi-label, e.g. BraTS's overlapping regions).
    plan.channel_labels = plan.pairing != PairingMode::LabelMaps && shape.c > 1 ? shape.c : 0;
    return plan;
}

namespace {

StatisticsOptions normalised(const StatisticsOptions& options)
{
    StatisticsOptions resolved = options;
    std::sort(resolved.labels.begin(), resolved.labels.end());
    resolved.labels.erase(std::unique(resolved.labels.begin(), resolved.labels.end()), resolved.labels.end());
    return resolved;
}

std::vector<std::int64_t> choose_labels(const StatisticsOptions& options, const PassPlan& plan,
                                        const PassOutput& output)
{
    if (!options.labels.empty()) {
        return options.labels; // validated by check_pair
    }
    std::vector<std::int64_t> labels;
    const std::int64_t first = options.include_background ? 0 : 1;
    if (plan.channel_labels > 0) {
        for (std::int64_t c = first; c < plan.channel_labels; ++c) {
            labels.push_back(c);
        }
    } else if (plan.pairing == PairingMode::LabelMaps) {
        std::set<std::int64_t> seen;
        for (const auto& region : output.sparse_labels) {
            for (const auto& [label, counts] : region.entries) {
                if (label >= first && (counts.predicted > 0 || counts.target > 0)) {
                    seen.insert(label);
                }
            }
        }
        // Binary masks ({0, 1}) have no per-label table unless the
        // background is asked for.
        if (!seen.empty() && (*seen.rbegin() > 1 || options.include_background)) {
            labels.assign(seen.begin(), seen.end());
        }
    }
    return labels;
}

} // namespace

void derive_background_label(PassOutput& output)
{
    for (std::size_t region = 0; region < output.sparse_labels.size(); ++region) {
        const RegionStats& binary = output.slices[region];
        LabelCounts& zero = output.sparse_labels[region].at(0);
        zero.predicted = binary.elements - binary.pred_positive;
        zero.target = binary.elements - binary.target_positive;
        zero.both = binary.true_negative();
    }
}

BatchStatistics assemble_statistics(const Volume& prediction, const Volume& target,
                                    const StatisticsOptions& options, const PassPlan& plan,
                                    PassOutput&& output)
{
    const Shape& shape = prediction.shape();
    const RangeViolation& range = output.range;
    if (range.count > 0) {
        std::ostringstream text;
        if (options.metric.activation != Activation::None) {
            text << range.count << " prediction value" << (range.count == 1 ? " is" : "s are")
                 << " NaN, first at " << position_string(shape, range.first_index)
                 << "; bce, focal_loss and ce need numbers";
        } else {
            text << range.count << " prediction value" << (range.count == 1 ? " is" : "s are")
                 << " outside [0, 1] or NaN, first at " << position_string(shape, range.first_index) << " = "
                 << value_at(prediction, range.first_index)
                 << "; bce, focal_loss and ce need probabilities (pass --logits or --activation softmax if "
                    "these are logits)";
        }
        throw_input_error(prediction.source(), text.str());
    }
    const LabelViolation& label_violation = output.labels;
    if (label_violation.count > 0) {
        const Volume& file = label_violation.in_prediction ? prediction : target;
        std::ostringstream text;
        text << label_violation.count << " label value" << (label_violation.count == 1 ? " is" : "s are")
             << " out of range, first " << label_violation.first_value << " at "
             << position_string(file.shape(), label_violation.first_index);
        if (plan.pairing == PairingMode::OneHotTarget ||
            (plan.pairing == PairingMode::ChannelOneHot && label_violation.in_prediction)) {
            // first_value: how many channels hold 1 there (-1: a value other than 0 and 1).
            std::ostringstream one_hot;
            one_hot << label_violation.count << " voxel" << (label_violation.count == 1 ? " is" : "s are")
                    << " not one-hot, first at " << position_string(file.shape(), label_violation.first_index)
                    << ": "
                    << (label_violation.first_value < 0
                            ? std::string("a value other than 0 and 1")
                            : std::to_string(label_violation.first_value) + " channels hold 1")
                    << "; with --activation softmax or --decision argmax a C-channel target, and an integer "
                       "C-channel prediction, must be one-hot (exactly one 1 per voxel, the rest 0)";
            throw_input_error(file.source(), one_hot.str());
        }
        if (plan.pairing == PairingMode::ChannelOneHot) {
            text << "; target labels must be 0.." << shape.c - 1 << " (one per prediction channel)";
        } else {
            text << "; labels must be 0.." << kMaxLabel;
        }
        throw_input_error(file.source(), text.str());
    }

    const StatisticsOptions resolved = normalised(options);
    BatchStatistics result;
    result.shape = shape;
    result.pairing = plan.pairing;
    result.axis = plan.axis;
    result.slices_per_sample = plan.slices_per_sample;
    result.labels = choose_labels(resolved, plan, output);
    result.slices = std::move(output.slices);
    const std::size_t label_count = result.labels.size();
    result.label_slices.assign(static_cast<std::size_t>(plan.regions) * label_count, RegionStats{});
    const std::int64_t region_voxels = shape.voxels_per_channel() / plan.slices_per_sample;
    for (std::int64_t region = 0; region < plan.regions; ++region) {
        for (std::size_t l = 0; l < label_count; ++l) {
            RegionStats& out = result.label_slices[static_cast<std::size_t>(region) * label_count + l];
            const std::int64_t label = result.labels[l];
            if (plan.channel_labels > 0) {
                out = output.channel_label_slices[static_cast<std::size_t>(region * shape.c + label)];
            } else {
                const LabelCounts counts = output.sparse_labels[static_cast<std::size_t>(region)].at(label);
                out.elements = region_voxels;
                out.pred_positive = counts.predicted;
                out.target_positive = counts.target;
                out.true_positive = counts.both;
                out.pred_sum = static_cast<double>(counts.predicted);
                out.target_sum = static_cast<double>(counts.target);
                out.overlap_sum = static_cast<double>(counts.both);
            }
        }
    }
    return result;
}

BatchStatistics compute_statistics(const Volume& prediction, const Volume& target,
                                   const StatisticsOptions& options)
{
    const PassPlan plan = plan_pass(prediction, target, options);
    Pass pass(prediction, target, options, plan);
    return pass.run();
}

} // namespace masklens
