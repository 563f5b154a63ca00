#include "masklens/gpu/chunk_plan.h"

#include "masklens/engine/error.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace masklens::gpu {

static_assert(kMaxLabelValue == kMaxLabel,
              "kernel_problem.h and pass_output.h disagree on the largest label");
static_assert(static_cast<int>(ElementType::Float64) == static_cast<int>(ScalarType::Float64) &&
                  static_cast<int>(ElementType::Float16) == static_cast<int>(ScalarType::Float16) &&
                  static_cast<int>(ElementType::UInt64) == static_cast<int>(ScalarType::UInt64) &&
                  static_cast<int>(ElementType::Bool) == static_cast<int>(ScalarType::Bool),
              "ElementType must follow ScalarType");

ElementType element_type(ScalarType type) noexcept
{
    return static_cast<ElementType>(static_cast<std::uint8_t>(type));
}

KernelPairing kernel_pairing(PairingMode pairing) noexcept
{
    switch (pairing) {
    case PairingMode::LabelMaps: return KernelPairing::LabelMaps;
    case PairingMode::ChannelOneHot: return KernelPairing::ChannelOneHot;
    case PairingMode::OneHotTarget: // not on the device (kernels_cover)
    case PairingMode::Binary: break;
    }
    return KernelPairing::Binary;
}

KernelAxis kernel_axis(SliceAxis axis) noexcept
{
    switch (axis) {
    case SliceAxis::H: return KernelAxis::H;
    case SliceAxis::W: return KernelAxis::W;
    default: return KernelAxis::D;
    }
}

TermNeeds term_needs(const std::vector<Metric>& metrics, const MetricOptions& options, PairingMode pairing)
{
    // The engine's rule (pass_output.h), in the kernels' plain struct.
    const masklens::TermNeeds engine = masklens::term_needs(metrics, options, pairing, false);
    TermNeeds needs;
    needs.bce = engine.bce;
    needs.focal = engine.focal;
    needs.squared = engine.squared;
    needs.absolute = engine.absolute;
    needs.overlap = engine.overlap;
    needs.hard = engine.hard;
    needs.range_check = engine.range_check;
    return needs;
}

TermOptions term_options(const MetricOptions& options) noexcept
{
    TermOptions result;
    result.logits = options.logits();
    result.threshold = options.threshold;
    result.focal_gamma = options.focal_gamma;
    result.has_focal_alpha = options.focal_alpha.has_value();
    result.focal_alpha = options.focal_alpha.value_or(0.25);
    return result;
}

// ---- chunks ----------------------------------------------------------------------------

namespace {

std::size_t as_size(std::int64_t value) noexcept
{
    return static_cast<std::size_t>(value);
}

std::int64_t target_channels(const ChunkProblem& problem) noexcept
{
    return problem.pairing == PairingMode::ChannelOneHot ? 1 : problem.shape.c;
}

std::string mebibytes(std::size_t bytes)
{
    std::ostringstream text;
    text.precision(1);
    text << std::fixed << static_cast<double>(bytes) / (1024.0 * 1024.0) << " MiB";
    return text.str();
}

// The largest k in [1, limit] with fits(k), or 0 when fits(1) is false.
template <class Fits> std::int64_t largest_fitting(std::int64_t limit, Fits fits)
{
    if (!fits(1)) {
        return 0;
    }
    std::int64_t low = 1, high = limit; // fits(low) holds
    while (low < high) {
        const std::int64_t middle = low + (high - low + 1) / 2;
        if (fits(middle)) {
            low = middle;
        } else {
            high = middle - 1;
        }
    }
    return low;
}

} // namespace

std::size_t ChunkPlan::buffer_set_bytes() const noexcept
{
    return prediction_bytes + target_bytes + workspace_bytes;
}

Shape chunk_shape(const Shape& shape, const Chunk& chunk) noexcept
{
    Shape result = shape;
    result.n = chunk.samples();
    result.d = chunk.depth();
    return result;
}

std::int64_t chunk_slices(const Shape& shape, SliceAxis axis, const Chunk& chunk) noexcept
{
    switch (axis) {
    case SliceAxis::H: return shape.h;
    case SliceAxis::W: return shape.w;
    default: return chunk.depth();
    }
}

std::int64_t chunk_regions(const Shape& shape, SliceAxis axis, const Chunk& chunk) noexcept
{
    return chunk.samples() * chunk_slices(shape, axis, chunk);
}

std::size_t chunk_prediction_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept
{
    const Shape& s = problem.shape;
    return align_workspace(as_size(chunk.samples() * s.c * chunk.depth() * s.h * s.w) *
                           problem.prediction_element_bytes);
}

std::size_t chunk_target_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept
{
    const Shape& s = problem.shape;
    return align_workspace(as_size(chunk.samples() * target_channels(problem) * chunk.depth() * s.h * s.w) *
                           problem.target_element_bytes);
}

std::size_t chunk_workspace_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept
{
    return workspace_layout(chunk_regions(problem.shape, problem.axis, chunk), problem.shape.c,
                            kernel_pairing(problem.pairing))
        .total_bytes;
}

std::size_t chunk_device_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept
{
    return chunk_prediction_bytes(problem, chunk) + chunk_target_bytes(problem, chunk) +
           chunk_workspace_bytes(problem, chunk);
}

ChunkPlan plan_chunks(const ChunkProblem& problem)
{
    const Shape& shape = problem.shape;
    ChunkPlan plan;
    const Chunk whole{0, shape.n, 0, shape.d};
    if (chunk_device_bytes(problem, whole) <= problem.budget_bytes) {
        plan.chunks.push_back(whole);
    } else {
        const std::size_t half = problem.budget_bytes / 2;
        const auto samples_fit = [&](std::int64_t k) {
            return chunk_device_bytes(problem, Chunk{0, k, 0, shape.d}) <= half;
        };
        const std::int64_t samples = largest_fitting(shape.n, samples_fit);
        if (samples > 0) {
            for (std::int64_t n = 0; n < shape.n; n += samples) {
                plan.chunks.push_back(Chunk{n, std::min(shape.n, n + samples), 0, shape.d});
            }
        } else {
            const auto depth_fits = [&](std::int64_t k) {
                return chunk_device_bytes(problem, Chunk{0, 1, 0, k}) <= half;
            };
            const std::int64_t depth = largest_fitting(shape.d, depth_fits);
            if (depth == 0) {
                const std::size_t needed = chunk_device_bytes(problem, Chunk{0, 1, 0, 1});
                throw Error(Error::Kind::Device, {},
                            "one (sample, depth) plane of " + shape.to_string() + " needs " +
                                mebibytes(needed) + " of device memory, more than half of the " +
                                mebibytes(problem.budget_bytes) +
                                " the CUDA pass may use (two buffers); evaluate it with --device cpu");
            }
            for (std::int64_t n = 0; n < shape.n; ++n) {
                for (std::int64_t d = 0; d < shape.d; d += depth) {
                    plan.chunks.push_back(Chunk{n, n + 1, d, std::min(shape.d, d + depth)});
                }
            }
        }
    }
    plan.buffers = plan.chunks.size() > 1 ? 2 : 1;
    for (const Chunk& chunk : plan.chunks) {
        plan.prediction_bytes = std::max(plan.prediction_bytes, chunk_prediction_bytes(problem, chunk));
        plan.target_bytes = std::max(plan.target_bytes, chunk_target_bytes(problem, chunk));
        plan.workspace_bytes = std::max(plan.workspace_bytes, chunk_workspace_bytes(problem, chunk));
    }
    return plan;
}

// ---- transfers ----------------------------------------------------------------------------

std::vector<CopyRange> chunk_copy_ranges(const Shape& shape, std::int64_t channels, std::size_t element_bytes,
                                         const Chunk& chunk)
{
    std::vector<CopyRange> ranges;
    const std::int64_t plane = shape.h * shape.w;
    const std::size_t length = as_size(chunk.depth() * plane) * element_bytes;
    for (std::int64_t n = chunk.sample_begin; n < chunk.sample_end; ++n) {
        for (std::int64_t c = 0; c < channels; ++c) {
            const std::size_t offset =
                as_size(((n * channels + c) * shape.d + chunk.depth_begin) * plane) * element_bytes;
            if (!ranges.empty() && ranges.back().source_offset + ranges.back().length == offset) {
                ranges.back().length += length;
            } else {
                ranges.push_back(CopyRange{offset, length});
            }
        }
    }
    return ranges;
}

// ---- merging ------------------------------------------------------------------------------

std::int64_t global_region(const Shape& shape, SliceAxis axis, const Chunk& chunk,
                           std::int64_t local_region) noexcept
{
    const std::int64_t local_slices = chunk_slices(shape, axis, chunk);
    const std::int64_t sample = chunk.sample_begin + local_region / local_slices;
    const std::int64_t slice = local_region % local_slices;
    switch (axis) {
    case SliceAxis::H: return sample * shape.h + slice;
    case SliceAxis::W: return sample * shape.w + slice;
    default: return sample * shape.d + chunk.depth_begin + slice;
    }
}

std::int64_t global_flat_index(const Shape& shape, std::int64_t channels, const Chunk& chunk,
                               std::int64_t local_index) noexcept
{
    const std::int64_t plane = shape.h * shape.w;
    const std::int64_t within = local_index % plane;
    std::int64_t rest = local_index / plane;
    const std::int64_t depth = rest % chunk.depth();
    rest /= chunk.depth();
    const std::int64_t channel = rest % channels;
    const std::int64_t sample = chunk.sample_begin + rest / channels;
    return ((sample * channels + channel) * shape.d + chunk.depth_begin + depth) * plane + within;
}

ChunkResults read_workspace(const void* workspace, const WorkspaceLayout& layout)
{
    const auto* base = static_cast<const std::byte*>(workspace);
    ChunkResults results;
    results.region_count = layout.regions;
    results.regions = reinterpret_cast<const DeviceRegion*>(base + layout.regions_offset);
    if (layout.channel_regions > 0) {
        results.channel_regions = reinterpret_cast<const DeviceRegion*>(base + layout.channel_offset);
    }
    if (layout.histogram_regions > 0) {
        results.histogram = reinterpret_cast<const unsigned long long*>(base + layout.histogram_offset);
    }
    std::memcpy(&results.violations, base + layout.violations_offset, sizeof results.violations);
    return results;
}

PassOutput start_output(const Shape& shape, const PassPlan& plan)
{
    PassOutput output;
    const std::int64_t region_voxels = shape.voxels_per_channel() / plan.slices_per_sample;
    RegionStats empty;
    empty.elements = shape.c * region_voxels;
    output.slices.assign(as_size(plan.regions), empty);
    if (plan.pairing == PairingMode::ChannelOneHot) {
        RegionStats channel_empty;
        channel_empty.elements = region_voxels;
        output.channel_label_slices.assign(as_size(plan.regions * plan.channel_labels), channel_empty);
    }
    if (plan.pairing == PairingMode::LabelMaps) {
        output.sparse_labels.assign(as_size(plan.regions), SparseLabels{});
    }
    return output;
}

namespace {

void add_region(RegionStats& stats, const DeviceRegion& region) noexcept
{
    stats.bce += region.bce;
    stats.focal += region.focal;
    stats.squared_error += region.squared_error;
    stats.absolute_error += region.absolute_error;
    stats.pred_sum += region.pred_sum;
    stats.target_sum += region.target_sum;
    stats.overlap_sum += region.overlap_sum;
    stats.pred_positive += static_cast<std::int64_t>(region.pred_positive);
    stats.target_positive += static_cast<std::int64_t>(region.target_positive);
    stats.true_positive += static_cast<std::int64_t>(region.true_positive);
}

} // namespace

bool kernels_cover(const PassPlan& plan, const MetricOptions& metric) noexcept
{
    if (metric.rule().exclusive_classes() || plan.pairing == PairingMode::OneHotTarget ||
        (plan.pairing == PairingMode::Binary && plan.channel_labels > 0)) {
        return false;
    }
    return plan.pairing != PairingMode::LabelMaps || (metric.threshold > 0 && metric.threshold <= 1);
}

bool merge_chunk(const Shape& shape, const PassPlan& plan, const Chunk& chunk, const ChunkResults& results,
                 PassOutput& output)
{
    const std::int64_t channels = shape.c;
    for (std::int64_t local = 0; local < results.region_count; ++local) {
        const std::int64_t region = global_region(shape, plan.axis, chunk, local);
        add_region(output.slices[as_size(region)], results.regions[local]);
        if (plan.pairing == PairingMode::ChannelOneHot && results.channel_regions != nullptr) {
            for (std::int64_t c = 0; c < channels; ++c) {
                add_region(output.channel_label_slices[as_size(region * channels + c)],
                           results.channel_regions[local * channels + c]);
            }
        }
        if (plan.pairing == PairingMode::LabelMaps && results.histogram != nullptr) {
            const unsigned long long* bins = results.histogram + local * kHistogramKinds * kHistogramLabels;
            for (int label = 1; label < kHistogramLabels; ++label) {
                const auto predicted = bins[kHistogramPredicted * kHistogramLabels + label];
                const auto actual = bins[kHistogramTarget * kHistogramLabels + label];
                const auto both = bins[kHistogramBoth * kHistogramLabels + label];
                if (predicted == 0 && actual == 0 && both == 0) {
                    continue;
                }
                LabelCounts& counts = output.sparse_labels[as_size(region)].at(label);
                counts.predicted += static_cast<std::int64_t>(predicted);
                counts.target += static_cast<std::int64_t>(actual);
                counts.both += static_cast<std::int64_t>(both);
            }
        }
    }
    const DeviceViolations& violations = results.violations;
    if (violations.range_count > 0) {
        RangeViolation range;
        range.count = static_cast<std::int64_t>(violations.range_count);
        range.first_index =
            global_flat_index(shape, channels, chunk, static_cast<std::int64_t>(violations.range_first));
        output.range.merge(range);
    }
    if (violations.label_count > 0) {
        LabelViolation labels;
        labels.count = static_cast<std::int64_t>(violations.label_count);
        labels.first_index =
            global_flat_index(shape, 1, chunk, static_cast<std::int64_t>(violations.label_first));
        labels.in_prediction = false;
        output.labels.merge(labels);
    }
    return violations.label_overflow == 0;
}

std::int64_t label_at(const Volume& volume, std::int64_t index)
{
    const std::byte* base = volume.data() + static_cast<std::size_t>(index) * scalar_size(volume.type());
    const auto read = [base](auto value) {
        std::memcpy(&value, base, sizeof value);
        return value;
    };
    switch (volume.type()) {
    case ScalarType::Int8: return read(std::int8_t{});
    case ScalarType::Int16: return read(std::int16_t{});
    case ScalarType::UInt16: return read(std::uint16_t{});
    case ScalarType::Int32: return read(std::int32_t{});
    case ScalarType::UInt32: return read(std::uint32_t{});
    case ScalarType::Int64: return read(std::int64_t{});
    case ScalarType::UInt64: {
        const std::uint64_t value = read(std::uint64_t{});
        return value > static_cast<std::uint64_t>(kMaxLabel) ? kMaxLabel + 1
                                                             : static_cast<std::int64_t>(value);
    }
    case ScalarType::Bool:
    case ScalarType::UInt8: return read(std::uint8_t{});
    default: return 0; // floating volumes hold no labels
    }
}

} // namespace masklens::gpu
