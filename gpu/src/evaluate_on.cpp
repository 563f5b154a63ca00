// Device dispatch shared by builds with and without the CUDA path.
#include "masklens/gpu/cuda_statistics.h"

namespace masklens::gpu {

Evaluation evaluate_on(std::string_view device, const Volume& prediction, const Volume& target,
                       const StatisticsOptions& options)
{
    if (device == "cuda") {
        return complete_evaluation(compute_statistics_cuda(prediction, target, options), prediction, target,
                                   options);
    }
    return evaluate(prediction, target, options);
}

} // namespace masklens::gpu
