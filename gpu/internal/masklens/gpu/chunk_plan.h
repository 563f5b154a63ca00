// The host side of the CUDA path that needs no GPU: translating the engine's
// options for the kernels, cutting a batch into chunks that fit the device,
// the host ranges each chunk copies, and merging the chunks' results into the
// pass output in chunk order. Plain C++ (no CUDA header), so it is built and
// tested in every configuration.
#pragma once

#include "masklens/engine/pass_output.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/volume.h"
#include "masklens/gpu/kernel_problem.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace masklens::gpu {

// ---- the engine's options, for the kernels ---------------------------------------

ElementType element_type(ScalarType type) noexcept;
KernelPairing kernel_pairing(PairingMode pairing) noexcept;
// `axis` must be resolved (D, H or W).
KernelAxis kernel_axis(SliceAxis axis) noexcept;

// Which sums a pass computes: the CPU pass's rule (statistics.cpp). An empty
// metric list means all metrics; label pairings always need the hard counts
// and overlap sums; the range check applies when bce or focal_loss read
// probabilities (no --logits).
TermNeeds term_needs(const std::vector<Metric>& metrics, const MetricOptions& options, PairingMode pairing);
TermOptions term_options(const MetricOptions& options) noexcept;

// ---- chunks ------------------------------------------------------------------------

// Part of the batch processed in one kernel run: whole samples
// [sample_begin, sample_end) with every depth, or a depth range
// [depth_begin, depth_end) of one sample when a sample does not fit.
struct Chunk {
    std::int64_t sample_begin = 0, sample_end = 1;
    std::int64_t depth_begin = 0, depth_end = 1;

    std::int64_t samples() const noexcept { return sample_end - sample_begin; }
    std::int64_t depth() const noexcept { return depth_end - depth_begin; }
    bool operator==(const Chunk& other) const noexcept = default;
};

struct ChunkProblem {
    Shape shape; // the prediction's
    std::size_t prediction_element_bytes = 4;
    std::size_t target_element_bytes = 1;
    PairingMode pairing = PairingMode::Binary;
    SliceAxis axis = SliceAxis::D; // resolved
    std::size_t budget_bytes = 0;  // device memory the pass may use
};

struct ChunkPlan {
    std::vector<Chunk> chunks; // in (sample, depth) order, covering the batch once
    int buffers = 1;           // device buffer sets: 1, or 2 for double buffering
    // Sizes of one buffer set (the largest chunk's needs).
    std::size_t prediction_bytes = 0, target_bytes = 0, workspace_bytes = 0;

    std::size_t buffer_set_bytes() const noexcept;
    std::size_t device_bytes() const noexcept
    {
        return buffer_set_bytes() * static_cast<std::size_t>(buffers);
    }
};

// The chunk as a kernel problem's extents: n = its samples, d = its depth.
Shape chunk_shape(const Shape& shape, const Chunk& chunk) noexcept;
// Slices of one sample inside the chunk (local regions per sample).
std::int64_t chunk_slices(const Shape& shape, SliceAxis axis, const Chunk& chunk) noexcept;
std::int64_t chunk_regions(const Shape& shape, SliceAxis axis, const Chunk& chunk) noexcept;
// Prediction, target and workspace bytes of one chunk (each 256-byte aligned).
std::size_t chunk_prediction_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept;
std::size_t chunk_target_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept;
std::size_t chunk_workspace_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept;
std::size_t chunk_device_bytes(const ChunkProblem& problem, const Chunk& chunk) noexcept;

// The whole batch as one chunk when it fits the budget; otherwise chunks of
// whole samples, or depth ranges of one sample, each fitting half the budget
// (two buffer sets: one computes while the next is copied in). Throws
// Error(Device) when a single (sample, depth) plane does not fit half the
// budget.
ChunkPlan plan_chunks(const ChunkProblem& problem);

// ---- transfers ------------------------------------------------------------------------

// A contiguous byte range of a host volume; the chunk's device copy is the
// concatenation of its ranges, in order.
struct CopyRange {
    std::size_t source_offset = 0;
    std::size_t length = 0;
    bool operator==(const CopyRange& other) const noexcept = default;
};

// Ranges of a volume with `channels` channels (and the batch's n, d, h, w)
// that make up the chunk, adjacent ranges joined.
std::vector<CopyRange> chunk_copy_ranges(const Shape& shape, std::int64_t channels, std::size_t element_bytes,
                                         const Chunk& chunk);

// ---- merging ----------------------------------------------------------------------------

// The batch region of a chunk's local region (sample-in-chunk x slice-in-chunk).
std::int64_t global_region(const Shape& shape, SliceAxis axis, const Chunk& chunk,
                           std::int64_t local_region) noexcept;
// The batch flat index of a flat index into the chunk's copy of a volume
// with `channels` channels.
std::int64_t global_flat_index(const Shape& shape, std::int64_t channels, const Chunk& chunk,
                               std::int64_t local_index) noexcept;

// A chunk's results, read from a host copy of its workspace.
struct ChunkResults {
    const DeviceRegion* regions = nullptr;         // [local region]
    const DeviceRegion* channel_regions = nullptr; // ChannelOneHot: [local region * c + channel]
    const unsigned long long* histogram = nullptr; // LabelMaps: [local region][kind][label]
    std::int64_t region_count = 0;
    DeviceViolations violations;
};
ChunkResults read_workspace(const void* workspace, const WorkspaceLayout& layout);

// A pass output with every region present and its element counts set (the
// kernels do not count elements: they follow from the shape).
PassOutput start_output(const Shape& shape, const PassPlan& plan);

// Whether the CUDA kernels compute this pass. Not yet for exclusive rules
// (softmax, argmax: their pass runs on the CPU, distances stay on the device)
// or per-channel labels of multi-channel binary pairs,
// nor for label maps at a threshold outside (0, 1] (label 0's counts are
// derived from the binary counts, derive_background_label).
bool kernels_cover(const PassPlan& plan, const MetricOptions& metric) noexcept;

// Adds one chunk's results to `output` (call in chunk order). Violation
// indices become batch indices; a ChannelOneHot label violation's value is
// left for the caller (label_at). Returns false when LabelMaps labels outside
// 0..kHistogramLabels-1 were met: then the pair must be evaluated on the CPU.
bool merge_chunk(const Shape& shape, const PassPlan& plan, const Chunk& chunk, const ChunkResults& results,
                 PassOutput& output);

// The integer value at a flat index of an integer volume.
std::int64_t label_at(const Volume& volume, std::int64_t index);

} // namespace masklens::gpu
