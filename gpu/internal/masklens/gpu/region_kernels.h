// The statistics kernels, in the CUB style: an explicit stream, a status
// return and an explicit workspace.
//
//     std::size_t bytes = 0;
//     region_statistics(nullptr, &bytes, problem, stream);   // size query
//     ... allocate `bytes` of device memory ...
//     region_statistics(workspace, &bytes, problem, stream); // run
//
// A run clears the workspace, launches the kernels on `stream` and returns;
// the results (workspace_layout(problem)) are ready when the stream is. Every
// CUDA call and launch is checked and the first error is returned; nothing
// throws. Only available in builds with the CUDA path (MASKLENS_HAVE_CUDA).
#pragma once

#include "masklens/gpu/kernel_problem.h"

#include <cuda_runtime_api.h>

#include <cstddef>

namespace masklens::gpu {

// cudaErrorInvalidValue when `workspace_bytes` is null, the problem is
// malformed (empty extents, a null device pointer for a run, types that do
// not fit the pairing) or the workspace is smaller than the size query said.
cudaError_t region_statistics(void* workspace, std::size_t* workspace_bytes, const KernelProblem& problem,
                              cudaStream_t stream);

} // namespace masklens::gpu
