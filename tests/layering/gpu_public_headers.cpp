// Must compile as plain C++ with no CUDA include path: the GPU layer's
// public headers are what the service, the CLI and the app include.
#include "masklens/gpu/backend.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"
int gpu_public_headers_probe()
{
    return masklens::gpu::cuda_path_built() ? 1 : 0;
}
