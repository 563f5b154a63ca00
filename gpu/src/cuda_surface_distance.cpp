// Host orchestration of the CUDA surface distances (builds with CUDA): crop
// on the host, upload the box, extract surfaces and count them, allocate the
// compact distance arrays, run the EDTs and gathers, copy the distances back
// and summarise them with the engine's code (cuda_surface_distance.h).
#include "masklens/gpu/cuda_surface_distance.h"

#include "masklens/engine/error.h"
#include "masklens/gpu/surface_kernels.h"
#include "masklens/gpu/surface_plan.h"

#include "cuda_resources.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <vector>

namespace masklens::gpu {

namespace {

using cuda::check;
using cuda::DeviceBuffer;
using cuda::DeviceScope;

// Envelope scratch: an eighth of the memory budget within these bounds (4
// GiB holds one thread per line of a 512^3 box's pass; fewer threads loop
// over the lines, with less latency hidden).
constexpr std::size_t kMinScratch = std::size_t{64} << 20;
constexpr std::size_t kMaxScratch = std::size_t{4} << 30;

// The box resident on the device, and one workspace large enough for every
// problem over it.
class DeviceBox {
public:
    DeviceBox(const CroppedMasks& crop, std::size_t workspace_bytes, cudaStream_t stream)
        : inside_(crop.inside.size()), workspace_(workspace_bytes), stream_(stream)
    {
        check(cudaMemcpyAsync(inside_.data(), crop.inside.data(), crop.inside.size(), cudaMemcpyHostToDevice,
                              stream),
              "cudaMemcpyAsync (masks to the device)");
    }
    ~DeviceBox()
    {
        // Leave no kernel or copy running into memory about to be freed.
        cudaStreamSynchronize(stream_);
    }
    DeviceBox(const DeviceBox&) = delete;
    DeviceBox& operator=(const DeviceBox&) = delete;

    const std::uint8_t* inside() const noexcept
    {
        return reinterpret_cast<const std::uint8_t*>(inside_.data());
    }
    void* workspace() const noexcept { return workspace_.data(); }

private:
    DeviceBuffer inside_;
    DeviceBuffer workspace_;
    cudaStream_t stream_;
};

// Waits for the stream when leaving a scope (also by an exception), so that
// no kernel still writes into the scope's buffers when they are freed.
struct StreamFence {
    cudaStream_t stream;
    explicit StreamFence(cudaStream_t s) : stream(s) {}
    StreamFence(const StreamFence&) = delete;
    StreamFence& operator=(const StreamFence&) = delete;
    ~StreamFence() { cudaStreamSynchronize(stream); }
};

// One problem over the resident box: directed distances per group, summarised.
std::vector<SurfaceDistances> solve(const DeviceBox& device, const CroppedMasks& crop, SurfaceProblem problem,
                                    std::int64_t grid_groups, std::size_t scratch_budget,
                                    const SurfaceDistanceOptions& options, cudaStream_t stream)
{
    problem.inside = device.inside();
    SurfaceWorkspace layout;
    check(surface_workspace_layout(problem, scratch_budget, &layout), "surface workspace query");
    check(extract_surfaces(device.workspace(), layout, problem, stream), "surface kernels");
    std::vector<std::uint64_t> counts(static_cast<std::size_t>(2 * layout.groups));
    check(cudaMemcpyAsync(counts.data(), static_cast<std::byte*>(device.workspace()) + layout.group_offset,
                          counts.size() * sizeof(std::uint64_t), cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync (surface counts to the host)");
    check(cudaStreamSynchronize(stream), "surface kernels");
    std::uint64_t np = 0;
    std::uint64_t nt = 0;
    for (std::int64_t g = 0; g < layout.groups; ++g) {
        np += counts[static_cast<std::size_t>(g)];
        nt += counts[static_cast<std::size_t>(layout.groups + g)];
    }
    // A side whose own surface is empty, or whose other surface is empty,
    // needs no transform: its distances are all +inf (or there are none).
    const bool transform = np > 0 && nt > 0;
    std::vector<double> pred_to_target(np, transform ? 0.0 : HUGE_VAL);
    std::vector<double> target_to_pred(nt, transform ? 0.0 : HUGE_VAL);
    if (transform) {
        const DeviceBuffer pt(np * sizeof(double));
        const DeviceBuffer tp(nt * sizeof(double));
        const StreamFence fence(stream);
        check(surface_directed_distances(device.workspace(), layout, problem,
                                         reinterpret_cast<double*>(pt.data()),
                                         reinterpret_cast<double*>(tp.data()), stream),
              "surface distance kernels");
        check(cudaMemcpyAsync(pred_to_target.data(), pt.data(), pt.bytes(), cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync (distances to the host)");
        check(cudaMemcpyAsync(target_to_pred.data(), tp.data(), tp.bytes(), cudaMemcpyDeviceToHost, stream),
              "cudaMemcpyAsync (distances to the host)");
        check(cudaStreamSynchronize(stream), "surface distance kernels");
    }
    return summarize_device_groups(crop.box, problem.group_axis, grid_groups, counts, pred_to_target,
                                   target_to_pred, options);
}

std::size_t budget_of(const CudaConfig& config)
{
    if (config.memory_budget > 0) {
        return config.memory_budget;
    }
    std::size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    return free_bytes / 10 * 9;
}

} // namespace

SampleSurfaceDistances sample_surface_distances_cuda(const std::uint8_t* pred, const std::uint8_t* target,
                                                     const MaskGrid& grid, SliceAxis axis,
                                                     const SurfaceDistanceOptions& options,
                                                     StreamHandle stream_handle, const CudaConfig& config)
{
    validate(options);
    check_mask_grid(grid); // the CPU's checks and messages
    if (options.surface == SurfaceMode::Subvoxel) {
        return sample_surface_distances(pred, target, grid, axis, options); // the CPU's (see header)
    }
    const auto stream = static_cast<cudaStream_t>(stream_handle);
    CroppedMasks crop = crop_mask_pair(pred, target, {grid.d, grid.h, grid.w}, options.threads);
    if (crop.box.empty()) {
        return empty_sample(grid, axis, options);
    }
    const SamplePlan plan = plan_sample(crop.box, grid, axis, options, cpu_transform_fuses_multiply_add());
    const bool three_d = plan.three_d;
    const SurfaceProblem& whole = plan.whole;
    const SurfaceProblem& per_slice = plan.per_slice;
    SampleSurfaceDistances out;

    DeviceScope scope(config.device);
    const std::size_t budget = budget_of(config);
    const std::size_t scratch_budget = std::clamp(budget / 8, kMinScratch, kMaxScratch);
    SurfaceWorkspace whole_layout;
    SurfaceWorkspace slice_layout;
    check(surface_workspace_layout(whole, scratch_budget, &whole_layout), "surface workspace query");
    check(surface_workspace_layout(per_slice, scratch_budget, &slice_layout), "surface workspace query");
    const std::size_t workspace = std::max(whole_layout.total_bytes, three_d ? slice_layout.total_bytes : 0);
    // The distances come on top: at most 8 bytes per box voxel and side.
    const std::size_t needed = workspace + crop.inside.size() * 17;
    if (needed > budget) {
        crop = CroppedMasks{}; // the CPU crops again: hold one copy at a time
        return sample_surface_distances(pred, target, grid, axis, options); // the CPU's (see header)
    }
    const DeviceBox device(crop, workspace, stream);
    out.whole = solve(device, crop, whole, 1, scratch_budget, options, stream).front();
    if (three_d) {
        out.slices = solve(device, crop, per_slice, plan.slices, scratch_budget, options, stream);
    } else {
        out.slices = {out.whole};
    }
    return out;
}

} // namespace masklens::gpu
