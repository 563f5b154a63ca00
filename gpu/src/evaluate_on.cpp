// Device dispatch shared by builds with and without the CUDA path.
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"

namespace masklens::gpu {

Evaluation evaluate_on(std::string_view device, const Volume& prediction, const Volume& target,
                       const StatisticsOptions& options)
{
    if (device == "cuda") {
        // The surface distances on the device too (sample_surface_distances_cuda).
        StatisticsOptions on_device = options;
        on_device.surface_distances = [](const std::uint8_t* pred, const std::uint8_t* target_mask,
                                         const MaskGrid& grid, SliceAxis axis,
                                         const SurfaceDistanceOptions& distance) {
            return sample_surface_distances_cuda(pred, target_mask, grid, axis, distance);
        };
        return complete_evaluation(compute_statistics_cuda(prediction, target, on_device), prediction, target,
                                   on_device);
    }
    return evaluate(prediction, target, options);
}

} // namespace masklens::gpu
