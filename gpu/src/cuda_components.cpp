// Connected components on the device (cuda_components.h): upload, the
// union-find kernels, download of the root indices, renumbering on the host.
#include "masklens/gpu/cuda_components.h"

#include "cuda_resources.h"
#include "masklens/engine/error.h"
#include "masklens/engine/volume.h"
#include "masklens/gpu/component_kernels.h"
#include "masklens/gpu/component_plan.h"

namespace masklens::gpu {

using cuda::check;
using cuda::DeviceBuffer;

Components label_components_cuda(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                                 StreamHandle stream_handle, const std::string& what)
{
    if (grid.spatial_dims == 2 && grid.d != 1) {
        throw_usage_error("a 2D component grid has one plane (d = 1)");
    }
    const int conn = resolve_connectivity(connectivity, grid.spatial_dims);
    if (grid.voxels() >= static_cast<std::int64_t>(kNoParent)) {
        throw_input_error(what, "CUDA labelling takes fewer than 2^32 - 1 voxels");
    }
    check_allocation(what, static_cast<std::uint64_t>(grid.voxels()), ScalarType::UInt32);
    Components result;
    result.labels.resize(static_cast<std::size_t>(grid.voxels()));
    if (grid.voxels() == 0) {
        return result;
    }
    auto stream = static_cast<cudaStream_t>(stream_handle);
    const auto voxels = static_cast<std::size_t>(grid.voxels());
    const DeviceBuffer d_mask(voxels);
    const DeviceBuffer d_parents(voxels * sizeof(std::uint32_t));
    // Buffers are freed only after the stream is idle (also on an error).
    struct Fence {
        cudaStream_t s;
        ~Fence() { cudaStreamSynchronize(s); }
    } fence{stream};
    check(cudaMemcpyAsync(d_mask.data(), mask, voxels, cudaMemcpyHostToDevice, stream),
          "cudaMemcpyAsync (mask to the device)");
    check(label_parents(reinterpret_cast<const std::uint8_t*>(d_mask.data()),
                        reinterpret_cast<std::uint32_t*>(d_parents.data()), grid, conn, stream),
          "component kernels");
    check(cudaMemcpyAsync(result.labels.data(), d_parents.data(), d_parents.bytes(), cudaMemcpyDeviceToHost,
                          stream),
          "cudaMemcpyAsync (labels to the host)");
    check(cudaStreamSynchronize(stream), "component kernels");
    result.count = renumber_roots(result.labels.data(), grid.voxels(), what);
    return result;
}

} // namespace masklens::gpu
