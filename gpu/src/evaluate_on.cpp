// Device dispatch shared by builds with and without the CUDA path.
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"

namespace masklens::gpu {

StatisticsOptions with_device_surface_distances(StatisticsOptions options)
{
    options.surface_distances = [](const std::uint8_t* pred, const std::uint8_t* target_mask,
                                   const MaskGrid& grid, SliceAxis axis,
                                   const SurfaceDistanceOptions& distance) {
        return sample_surface_distances_cuda(pred, target_mask, grid, axis, distance);
    };
    return options;
}

Evaluation evaluate_on(std::string_view device, const Volume& prediction, const Volume& target,
                       const StatisticsOptions& options)
{
    if (device == "cuda") {
        // The surface distances on the device too (sample_surface_distances_cuda).
        const StatisticsOptions on_device = with_device_surface_distances(options);
        return complete_evaluation(compute_statistics_cuda(prediction, target, on_device), prediction, target,
                                   on_device);
    }
    return evaluate(prediction, target, options);
}

} // namespace masklens::gpu
