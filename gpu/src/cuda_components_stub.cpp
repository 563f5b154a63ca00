// CUDA labelling in builds without CUDA: the entry point says so with
// Error(Device), as the other stubs do.
#include "masklens/engine/error.h"
#include "masklens/gpu/cuda_components.h"

namespace masklens::gpu {

Components label_components_cuda(const std::uint8_t*, const ComponentGrid&, int, StreamHandle,
                                 const std::string&)
{
    throw Error(Error::Kind::Device, {},
                "this build has no CUDA path (configured without nvcc or with MASKLENS_CUDA=OFF)");
}

} // namespace masklens::gpu
