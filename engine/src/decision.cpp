#include "masklens/engine/decision.h"

#include "masklens/engine/error.h"
#include "masklens/engine/voxel_terms.h"

#include "value_loading.h"

#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <tuple>

namespace masklens {

namespace {

// Chunks are padded to whole 64-byte packets (statistics.cpp pads the same).
constexpr std::int64_t kPacket = 16;

std::int64_t padded_count(std::int64_t count)
{
    return (count + kPacket - 1) / kPacket * kPacket;
}

template <class Real> using ArrayR = Eigen::Array<Real, Eigen::Dynamic, 1>;
// Aligned maps: Eigen then runs every element through the same packet code.
// (An unaligned destination makes it peel a few leading elements into scalar
// code, whose exp differs from the packet exp in the last bit: decisions at
// the threshold would then depend on where a buffer happens to start.)
template <class Real> using MapR = Eigen::Map<ArrayR<Real>, Eigen::AlignedMax>;

template <class Real> void check_aligned(const Real* row)
{
    if (reinterpret_cast<std::uintptr_t>(row) % EIGEN_MAX_ALIGN_BYTES != 0) {
        throw std::invalid_argument("apply_rule: a row is not aligned to EIGEN_MAX_ALIGN_BYTES");
    }
}

// Per-thread scratch of the softmax (its running max and sum) and argmax.
template <class Real> ArrayR<Real>& scratch(std::size_t which, std::int64_t size)
{
    thread_local ArrayR<Real> buffers[2];
    ArrayR<Real>& buffer = buffers[which];
    if (buffer.size() < size) {
        buffer.resize(size);
    }
    return buffer;
}

// Integer values of a run, exact (label maps).
template <class Emit>
void visit_labels(const Volume& volume, std::int64_t offset, std::int64_t count, std::int64_t stride,
                  Emit&& emit)
{
    detail::visit_elements(volume, offset, [&]<class T>(const T* values) {
        for (std::int64_t i = 0; i < count; ++i) {
            if constexpr (std::is_integral_v<T>) {
                const T v = values[i * stride];
                // Negative or huge values match no label (the pass rejects them).
                emit(i, v >= T(0) && static_cast<std::uint64_t>(v) <= (std::uint64_t{1} << 62)
                            ? static_cast<std::int64_t>(v)
                            : std::int64_t{-1});
            } else {
                emit(i, std::int64_t{-1}); // not reached: floats are no label maps
            }
        }
    });
}

} // namespace

std::string_view activation_name(Activation activation) noexcept
{
    switch (activation) {
    case Activation::None: return "none";
    case Activation::Sigmoid: return "sigmoid";
    case Activation::Softmax: return "softmax";
    }
    return "none";
}

std::string_view decision_name(Decision decision) noexcept
{
    return decision == Decision::Argmax ? "argmax" : "threshold";
}

Activation parse_activation(std::string_view text)
{
    for (const Activation a : {Activation::None, Activation::Sigmoid, Activation::Softmax}) {
        if (text == activation_name(a)) {
            return a;
        }
    }
    throw_usage_error("--activation must be none, sigmoid or softmax, not '" + std::string(text) + "'");
}

Decision parse_decision(std::string_view text)
{
    for (const Decision d : {Decision::Threshold, Decision::Argmax}) {
        if (text == decision_name(d)) {
            return d;
        }
    }
    throw_usage_error("--decision must be threshold or argmax, not '" + std::string(text) + "'");
}

bool decides_in_double(ScalarType prediction, ScalarType target) noexcept
{
    return prediction == ScalarType::Float64 || target == ScalarType::Float64;
}

template <class Real>
void apply_rule(const DecisionRule& rule, std::int64_t channels, Real* const* values, std::int64_t count,
                std::int32_t* classes, Real* log_normaliser)
{
    const std::int64_t padded = padded_count(count);
    if (rule.activation != Activation::None) {
        for (std::int64_t c = 0; c < channels; ++c) {
            check_aligned(values[c]);
        }
    }
    switch (rule.activation) {
    case Activation::None: break;
    case Activation::Sigmoid:
        for (std::int64_t c = 0; c < channels; ++c) {
            MapR<Real> v(values[c], padded);
            v = terms::sigmoid(v);
        }
        break;
    case Activation::Softmax: {
        // exp(x_c - max) / sum: the max keeps exp from overflowing, and the
        // channels are summed in a fixed order (deterministic).
        MapR<Real> top(scratch<Real>(0, padded).data(), padded);
        MapR<Real> sum(scratch<Real>(1, padded).data(), padded);
        top = MapR<Real>(values[0], padded);
        for (std::int64_t c = 1; c < channels; ++c) {
            top = top.max(MapR<Real>(values[c], padded));
        }
        sum.setZero();
        for (std::int64_t c = 0; c < channels; ++c) {
            MapR<Real> v(values[c], padded);
            v = (v - top).exp();
            sum += v;
        }
        for (std::int64_t c = 0; c < channels; ++c) {
            MapR<Real> v(values[c], padded);
            v /= sum;
        }
        if (log_normaliser) {
            for (std::int64_t i = 0; i < count; ++i) {
                log_normaliser[i] = top[i] + std::log(sum[i]);
            }
        }
        break;
    }
    }
    if (rule.decision == Decision::Argmax && classes != nullptr) {
        Real* best = scratch<Real>(0, padded).data();
        std::copy_n(values[0], count, best);
        std::fill_n(classes, count, 0);
        for (std::int64_t c = 1; c < channels; ++c) {
            const Real* v = values[c];
            for (std::int64_t i = 0; i < count; ++i) {
                // Strictly greater: ties keep the lower channel (torch.argmax).
                const bool wins = v[i] > best[i];
                best[i] = wins ? v[i] : best[i];
                classes[i] = wins ? static_cast<std::int32_t>(c) : classes[i];
            }
        }
    }
}

template void apply_rule<float>(const DecisionRule&, std::int64_t, float* const*, std::int64_t, std::int32_t*,
                                float*);
template void apply_rule<double>(const DecisionRule&, std::int64_t, double* const*, std::int64_t,
                                 std::int32_t*, double*);

void check_rule(const DecisionRule& rule, const Volume& prediction)
{
    const bool integer = is_label_type(prediction.type());
    const std::int64_t channels = prediction.shape().c;
    if (rule.activation != Activation::None && integer) {
        throw_usage_error(std::string("--activation ") + std::string(activation_name(rule.activation)) +
                          " needs a floating-point prediction; " + prediction.source() + " holds " +
                          scalar_name(prediction.type()) + " values");
    }
    if (rule.exclusive_classes() && channels < 2) {
        throw_usage_error(std::string(rule.activation == Activation::Softmax ? "--activation softmax"
                                                                             : "--decision argmax") +
                          " needs a prediction with C >= 2 channels [N,C,...]; " + prediction.source() +
                          " has one channel");
    }
    if (!(rule.threshold == rule.threshold)) {
        throw_usage_error("--threshold must be a number");
    }
}

ClassDecider::ClassDecider(const Volume& prediction, ScalarType target_type, const DecisionRule& rule)
    : prediction_(prediction), rule_(rule),
      label_map_(is_label_type(prediction.type()) &&
                 prediction.shape().c == 1), // C integer channels: one-hot
      in_double_(decides_in_double(prediction.type(), target_type))
{
    check_rule(rule, prediction);
}

template <class Real>
const Real* const* ClassDecider::decide_in(std::int64_t n, std::int64_t voxel, std::int64_t count,
                                           std::int64_t stride) const
{
    const Shape& shape = prediction_.shape();
    const std::int64_t channels = shape.c;
    stride_ = padded_count(count);
    auto [values, rows] = [&]() {
        if constexpr (std::is_same_v<Real, double>) {
            return std::tie(double_values_, double_rows_);
        } else {
            return std::tie(float_values_, float_rows_);
        }
    }();
    values.assign(static_cast<std::size_t>(stride_ * channels), Real(0)); // capacity kept between runs
    rows.resize(static_cast<std::size_t>(channels));
    for (std::int64_t c = 0; c < channels; ++c) {
        rows[static_cast<std::size_t>(c)] = values.data() + c * stride_;
        const std::int64_t offset = (n * channels + c) * shape.voxels_per_channel() + voxel;
        detail::load_values<Real>(prediction_, offset, count, rows[static_cast<std::size_t>(c)], stride);
    }
    classes_.resize(static_cast<std::size_t>(stride_));
    apply_rule<Real>(rule_, channels, rows.data(), count, classes_.data());
    return rows.data();
}

template <class Use>
void ClassDecider::decide(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t stride,
                          Use&& use) const
{
    if (in_double_) {
        use(decide_in<double>(n, voxel, count, stride));
    } else {
        use(decide_in<float>(n, voxel, count, stride));
    }
}

void ClassDecider::mask(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label,
                        std::uint8_t* out, std::int64_t stride) const
{
    const Shape& shape = prediction_.shape();
    if (label_map_ && label >= 0) {
        // Exact label values (statistics.cpp counts label maps the same way).
        const std::int64_t offset = n * shape.c * shape.voxels_per_channel() + voxel;
        visit_labels(prediction_, offset, count, stride,
                     [&](std::int64_t i, std::int64_t value) { out[i] = value == label ? 1 : 0; });
        return;
    }
    decide(n, voxel, count, stride, [&]<class Real>(const Real* const* p) {
        if (shape.c == 1 || label_map_) {
            // One channel (or an integer mask as 0/1): label 1 and the
            // foreground are the channel decided positive, label 0 the rest.
            if (label > 1) {
                std::fill_n(out, count, std::uint8_t{0});
                return;
            }
            const bool wanted = label != 0;
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] = (decided(rule_, p, classes_.data(), 0, i) == wanted) ? 1 : 0;
            }
            return;
        }
        if (label >= 0) {
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] = label < shape.c && decided(rule_, p, classes_.data(), label, i) ? 1 : 0;
            }
            return;
        }
        std::fill_n(out, count, std::uint8_t{0});
        for (std::int64_t c = 1; c < shape.c; ++c) {
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] =
                    static_cast<std::uint8_t>(out[i] | (decided(rule_, p, classes_.data(), c, i) ? 1 : 0));
            }
        }
    });
}

void ClassDecider::probability(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label,
                               float* out, std::int64_t stride) const
{
    const Shape& shape = prediction_.shape();
    if (label_map_) {
        std::vector<std::uint8_t> hits(static_cast<std::size_t>(count));
        mask(n, voxel, count, label, hits.data(), stride);
        for (std::int64_t i = 0; i < count; ++i) {
            out[i] = hits[static_cast<std::size_t>(i)] ? 1.0F : 0.0F;
        }
        return;
    }
    // label < 0 with several channels: the largest foreground probability.
    const std::int64_t first =
        shape.c == 1 ? 0 : std::clamp<std::int64_t>(label < 0 ? 1 : label, 0, shape.c - 1);
    const std::int64_t last = label < 0 ? shape.c - 1 : first;
    decide(n, voxel, count, stride, [&]<class Real>(const Real* const* p) {
        for (std::int64_t i = 0; i < count; ++i) {
            Real best = p[first][i];
            for (std::int64_t c = first + 1; c <= last; ++c) {
                best = std::max(best, p[c][i]);
            }
            out[i] = static_cast<float>(best);
        }
    });
}

TargetClasses::TargetClasses(const Volume& target, PairingMode pairing)
    : target_(target),
      label_map_(is_label_type(target.type()) && target.shape().c == 1 &&
                 (pairing == PairingMode::LabelMaps || pairing == PairingMode::ChannelOneHot))
{}

void TargetClasses::mask(std::int64_t n, std::int64_t voxel, std::int64_t count, std::int64_t label,
                         std::uint8_t* out, std::int64_t stride) const
{
    const Shape& shape = target_.shape();
    const std::int64_t per_channel = shape.voxels_per_channel();
    if (label_map_) {
        visit_labels(target_, n * per_channel + voxel, count, stride,
                     [&](std::int64_t i, std::int64_t value) {
                         out[i] = (label < 0 ? value != 0 : value == label) ? 1 : 0;
                     });
        return;
    }
    values_.resize(static_cast<std::size_t>(count));
    const auto channel = [&](std::int64_t c, bool merge) {
        detail::load_values<double>(target_, (n * shape.c + c) * per_channel + voxel, count, values_.data(),
                                    stride);
        for (std::int64_t i = 0; i < count; ++i) {
            const bool hit = terms::target_positive(values_[static_cast<std::size_t>(i)]);
            out[i] = static_cast<std::uint8_t>((merge ? out[i] : 0) | (hit ? 1 : 0));
        }
    };
    if (shape.c == 1) {
        // One channel: label 1 and the foreground are t > 0.5, label 0 the rest.
        channel(0, false);
        if (label == 0 || label > 1) {
            for (std::int64_t i = 0; i < count; ++i) {
                out[i] = label == 0 ? static_cast<std::uint8_t>(1 - out[i]) : 0;
            }
        }
        return;
    }
    if (label >= 0) {
        if (label < shape.c) {
            channel(label, false);
        } else {
            std::fill_n(out, count, std::uint8_t{0});
        }
        return;
    }
    std::fill_n(out, count, std::uint8_t{0});
    for (std::int64_t c = 1; c < shape.c; ++c) {
        channel(c, true);
    }
}

} // namespace masklens
