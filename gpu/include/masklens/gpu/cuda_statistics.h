// The engine's statistics on a CUDA device, for the CLI and the GUI. This
// header needs no CUDA header: streams travel as an opaque handle.
//
// Results are the CPU pass's: the kernels fill a masklens::PassOutput that
// assemble_statistics validates and lays out, as compute_statistics does.
// Label maps with labels beyond 255 (or out of range) are evaluated on the
// CPU instead, so their results and errors are the CPU pass's too.
//
//     // CLI
//     const gpu::ResolvedDevice device = gpu::resolve_device(choice);
//     const Evaluation evaluation = gpu::evaluate_on(device.name, prediction, target, options);
//
//     // GUI: upload once, recompute on every threshold or option change
//     gpu::DeviceSession session(prediction, target); // keeps references to both
//     BatchStatistics statistics = session.compute(options);
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/volume.h"

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace masklens::gpu {

// A cudaStream_t (nullptr: the default stream).
using StreamHandle = void*;

struct CudaConfig {
    int device = 0; // CUDA device ordinal
    // Device memory the pass may use; 0: 90% of what is free. A batch that
    // does not fit is streamed through the device in chunks.
    std::size_t memory_budget = 0;
    // Size of each of the two pinned host buffers that stage transfers.
    std::size_t staging_bytes = std::size_t{64} << 20;
};

// This binary has the CUDA kernels.
bool cuda_path_built() noexcept;
// The kernels are built and the runtime sees at least one device.
bool cuda_path_available();

// compute_statistics on the device: same checks, same results (to rounding,
// see docs), same errors. Inputs are copied chunk by chunk through pinned
// buffers, the next chunk's copy overlapping the current chunk's kernels;
// work is ordered after what is already queued on `stream` and finished when
// this returns. Throws Error(Device) with the CUDA message when the device
// fails or a single (sample, depth) plane does not fit, Error(Input/Usage) as
// the CPU pass does, Error(Cancelled) when options.cancel becomes true
// (checked between chunks). options.progress is called after each chunk.
BatchStatistics compute_statistics_cuda(const Volume& prediction, const Volume& target,
                                        const StatisticsOptions& options, StreamHandle stream = nullptr,
                                        const CudaConfig& config = {});

// Evaluation on "cuda" (compute_statistics_cuda) or anything else (the CPU
// pass), as named by resolve_device.
Evaluation evaluate_on(std::string_view device, const Volume& prediction, const Volume& target,
                       const StatisticsOptions& options);

// `options` with the surface distances computed on the device
// (sample_surface_distances_cuda) by complete_evaluation.
StatisticsOptions with_device_surface_distances(StatisticsOptions options);

// The pair resident on the device: uploaded once by the constructor, then
// evaluated any number of times (threshold, metrics, axis, logits...) without
// copying the inputs again. Keeps references to `prediction` and `target`,
// which must outlive the session and stay unchanged. Throws Error(Device)
// when the build has no CUDA path, no device is present or the pair does not
// fit in device memory (use compute_statistics_cuda, which streams chunks),
// and Error(Input) when the pair cannot be evaluated at all.
class DeviceSession {
public:
    DeviceSession(const Volume& prediction, const Volume& target, const CudaConfig& config = {});
    ~DeviceSession();
    DeviceSession(DeviceSession&&) noexcept;
    DeviceSession& operator=(DeviceSession&&) noexcept;
    DeviceSession(const DeviceSession&) = delete;
    DeviceSession& operator=(const DeviceSession&) = delete;

    BatchStatistics compute(const StatisticsOptions& options);
    // compute() plus the surface distances (on the device): what evaluate_on gives.
    Evaluation evaluate(const StatisticsOptions& options);

    const std::string& device_name() const noexcept; // e.g. "NVIDIA H200", for the status bar
    std::size_t device_bytes() const noexcept;       // device memory held by the session

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

} // namespace masklens::gpu
