// What the statistics kernels are asked to do, and where they leave the
// result: plain C++17 structs shared by the CUDA sources (compiled as C++17 by
// nvcc), the host orchestration and the host-logic tests. No CUDA header and
// no engine type (volume.h is C++20) is needed to use this file.
//
// A kernel problem is one chunk of the batch: a [n, c, d, h, w] prediction
// (and a [n, c or 1, d, h, w] target) laid out contiguously on the device. The
// result of a run is a workspace of per-region accumulators ("local" regions:
// sample-in-chunk x slice-in-chunk), which the host merges into the pass's
// output in chunk order (chunk_plan.h).
#pragma once

#include <cstddef>
#include <cstdint>

namespace masklens::gpu {

// Element types, in the order of masklens::ScalarType (checked where both
// are visible, in chunk_plan.cpp).
enum class ElementType : std::uint8_t {
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float16,
    Float32,
    Float64,
};

inline constexpr bool is_floating_element(ElementType type) noexcept
{
    return type == ElementType::Float16 || type == ElementType::Float32 || type == ElementType::Float64;
}

inline constexpr std::size_t element_bytes(ElementType type) noexcept
{
    switch (type) {
    case ElementType::Bool:
    case ElementType::Int8:
    case ElementType::UInt8: return 1;
    case ElementType::Int16:
    case ElementType::UInt16:
    case ElementType::Float16: return 2;
    case ElementType::Int32:
    case ElementType::UInt32:
    case ElementType::Float32: return 4;
    default: return 8;
    }
}

// Mirrors masklens::PairingMode.
enum class KernelPairing : std::uint8_t { Binary, LabelMaps, ChannelOneHot };
// Mirrors a resolved masklens::SliceAxis.
enum class KernelAxis : std::uint8_t { D, H, W };

// Which sums a run computes (the CPU pass's needs; sums not needed stay 0).
struct TermNeeds {
    bool bce = false, focal = false, squared = false, absolute = false, overlap = false, hard = false;
    bool range_check = false; // count predictions outside [0, 1] (or NaN)
};

// The metric options the per-element terms read.
struct TermOptions {
    bool logits = false;
    double threshold = 0.5;
    double focal_gamma = 2.0;
    bool has_focal_alpha = false;
    double focal_alpha = 0.25;
};

struct KernelProblem {
    const void* prediction = nullptr; // device pointer, [n, c, d, h, w]
    ElementType prediction_type = ElementType::Float32;
    const void* target = nullptr; // device pointer, [n, c, d, h, w] or [n, 1, d, h, w] (ChannelOneHot)
    ElementType target_type = ElementType::UInt8;
    std::int64_t n = 1, c = 1, d = 1, h = 1, w = 1; // the prediction's extents in this chunk
    KernelPairing pairing = KernelPairing::Binary;
    KernelAxis axis = KernelAxis::D;
    TermNeeds needs;
    TermOptions options;

    std::int64_t elements() const noexcept { return n * c * d * h * w; }
    std::int64_t target_channels() const noexcept { return pairing == KernelPairing::ChannelOneHot ? 1 : c; }
    std::int64_t slices() const noexcept { return axis == KernelAxis::D ? d : axis == KernelAxis::H ? h : w; }
    std::int64_t regions() const noexcept { return n * slices(); }
};

// Whether a problem is well formed: positive extents, device pointers when
// `need_pointers`, and element types that fit the pairing (LabelMaps: two
// single-channel integer arrays; ChannelOneHot: a floating prediction and an
// integer target).
inline bool valid_problem(const KernelProblem& problem, bool need_pointers) noexcept
{
    if (problem.n < 1 || problem.c < 1 || problem.d < 1 || problem.h < 1 || problem.w < 1) {
        return false;
    }
    if (need_pointers && (problem.prediction == nullptr || problem.target == nullptr)) {
        return false;
    }
    switch (problem.pairing) {
    case KernelPairing::Binary: return true;
    case KernelPairing::LabelMaps:
        return problem.c == 1 && !is_floating_element(problem.prediction_type) &&
               !is_floating_element(problem.target_type);
    case KernelPairing::ChannelOneHot:
        return is_floating_element(problem.prediction_type) && !is_floating_element(problem.target_type);
    }
    return false;
}

// The largest label a label map may hold (masklens::kMaxLabel; checked in
// chunk_plan.cpp).
inline constexpr std::int64_t kMaxLabelValue = 65535;

// Label values counted on the device for LabelMaps (0..kHistogramLabels-1);
// a larger or negative label sets DeviceViolations::label_overflow and the
// host evaluates the pair on the CPU instead.
inline constexpr int kHistogramLabels = 256;
// Histogram kinds per region: [region][kind][label].
inline constexpr int kHistogramPredicted = 0, kHistogramTarget = 1, kHistogramBoth = 2, kHistogramKinds = 3;

// One region's sums as the kernels accumulate them (elements are known from
// the shape and filled in on the host).
struct DeviceRegion {
    double bce = 0, focal = 0, squared_error = 0, absolute_error = 0;
    double pred_sum = 0, target_sum = 0, overlap_sum = 0;
    unsigned long long pred_positive = 0, target_positive = 0, true_positive = 0;
};

// Violations found in a run. Indices are flat indices into the chunk's
// prediction (range) or target (ChannelOneHot labels); ~0 when none.
struct DeviceViolations {
    unsigned long long range_first = ~0ull;
    unsigned long long label_first = ~0ull;
    unsigned long long range_count = 0;
    unsigned long long label_count = 0;
    unsigned int label_overflow = 0; // LabelMaps: a label outside 0..kHistogramLabels-1 was met
    unsigned int reserved = 0;
};

// Where a run's results lie in its workspace. Every part starts on a
// 256-byte boundary.
struct WorkspaceLayout {
    std::int64_t regions = 0;           // DeviceRegion per local region
    std::int64_t channel_regions = 0;   // ChannelOneHot: regions x c, [region * c + channel]
    std::int64_t histogram_regions = 0; // LabelMaps: regions, each kHistogramKinds x kHistogramLabels counts
    std::size_t regions_offset = 0;
    std::size_t channel_offset = 0;
    std::size_t histogram_offset = 0;
    std::size_t violations_offset = 0;
    std::size_t total_bytes = 0;
};

inline constexpr std::size_t kWorkspaceAlignment = 256;

inline constexpr std::size_t align_workspace(std::size_t bytes) noexcept
{
    return (bytes + kWorkspaceAlignment - 1) / kWorkspaceAlignment * kWorkspaceAlignment;
}

// The layout for `regions` local regions of a pairing with `channels`
// prediction channels.
inline WorkspaceLayout workspace_layout(std::int64_t regions, std::int64_t channels,
                                        KernelPairing pairing) noexcept
{
    WorkspaceLayout layout;
    layout.regions = regions;
    layout.channel_regions = pairing == KernelPairing::ChannelOneHot ? regions * channels : 0;
    layout.histogram_regions = pairing == KernelPairing::LabelMaps ? regions : 0;
    std::size_t offset = 0;
    layout.regions_offset = offset;
    offset += align_workspace(static_cast<std::size_t>(layout.regions) * sizeof(DeviceRegion));
    layout.channel_offset = offset;
    offset += align_workspace(static_cast<std::size_t>(layout.channel_regions) * sizeof(DeviceRegion));
    layout.histogram_offset = offset;
    offset += align_workspace(static_cast<std::size_t>(layout.histogram_regions) * kHistogramKinds *
                              kHistogramLabels * sizeof(unsigned long long));
    layout.violations_offset = offset;
    offset += align_workspace(sizeof(DeviceViolations));
    layout.total_bytes = offset;
    return layout;
}

inline WorkspaceLayout workspace_layout(const KernelProblem& problem) noexcept
{
    return workspace_layout(problem.regions(), problem.c, problem.pairing);
}

} // namespace masklens::gpu
