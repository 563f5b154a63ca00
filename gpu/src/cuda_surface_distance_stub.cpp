// The CUDA surface distances in builds without CUDA: the entry point says so
// with Error(Device), as the statistics stub does.
#include "masklens/engine/error.h"
#include "masklens/gpu/cuda_surface_distance.h"

namespace masklens::gpu {

SampleSurfaceDistances sample_surface_distances_cuda(const std::uint8_t*, const std::uint8_t*,
                                                     const MaskGrid&, SliceAxis,
                                                     const SurfaceDistanceOptions&, StreamHandle,
                                                     const CudaConfig&)
{
    throw Error(Error::Kind::Device, {},
                "this build has no CUDA path (configured without nvcc or with MASKLENS_CUDA=OFF)");
}

} // namespace masklens::gpu
