// The streaming pass. Work is split into (sample, depth) planes, statically
// across threads so results do not depend on scheduling. Each plane is read in
// chunks of at most kChunk elements that are converted to float (double for
// float64 inputs) into small per-thread buffers; the per-element terms from
// voxel_terms.h are evaluated on those buffers with Eigen and summed in double.
#include "masklens/engine/statistics.h"

#include "masklens/engine/pass_output.h"

#include "masklens/engine/error.h"
#include "masklens/engine/voxel_terms.h"

#include "chunk_terms.h"

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

using namespace detail;

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
                    // Several binary channels (multi-label): each channel is also its label.
                    RegionStats* channel =
                        channel_labels_ > 0 ? channel_labels + region * shape_.c + c : nullptr;
                    if (axis_ == SliceAxis::W) {
                        load_values<Real>(prediction_, offset, count, values.data());
                        load_values<Real>(target_, offset, count, targets.data());
                        ScatterSink<Real> sink{slices + region, 1, channel, shape_.c, &scratch};
                        accumulate_chunk<Real>(values.data(), targets.data(), count, needs_, options_.metric,
                                               probabilities, offset, state.range, sink);
                        if (pairing_ == PairingMode::LabelMaps) {
                            count_labels_per_element(state, sparse, region, offset, count, target_labels,
                                                     pred_labels);
                        }
                        continue;
                    }
                    RegionStats local;
                    if (!options_.metric.logits() && sums_in_one_pass(needs_)) {
                        // The one-pass sums read a float prediction where it lies.
                        const Real* p = values_in_place<Real>(prediction_, offset);
                        if (!p) {
                            load_values<Real>(prediction_, offset, count, values.data());
                            p = values.data();
                        }
                        load_values<Real>(target_, offset, count, targets.data());
                        sum_chunk<Real>(nullptr, p, targets.data(), count, needs_, options_.metric, offset,
                                        state.range, local);
                    } else {
                        load_values<Real>(prediction_, offset, count, values.data());
                        load_values<Real>(target_, offset, count, targets.data());
                        SumSink<Real> sink{&local, &scratch};
                        accumulate_chunk<Real>(values.data(), targets.data(), count, needs_, options_.metric,
                                               probabilities, offset, state.range, sink);
                    }
                    slices[region] += local;
                    if (channel) {
                        *channel += local;
                    }
                    if (pairing_ == PairingMode::LabelMaps) {
                        count_labels(state, sparse, region, offset, count, local, target_labels, pred_labels);
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

BatchStatistics compute_statistics(const Volume& prediction, const Volume& target,
                                   const StatisticsOptions& options)
{
    const PassPlan plan = plan_pass(prediction, target, options);
    Pass pass(prediction, target, options, plan);
    return pass.run();
}

} // namespace masklens
