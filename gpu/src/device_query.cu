// Asks the CUDA runtime which devices are present.
#include "masklens/gpu/backend.h"

#include <cuda_runtime.h>

namespace masklens::gpu {

DeviceReport query_cuda_devices()
{
    DeviceReport report;
    report.cuda_built = true;
    // Both answer without a device; a failure leaves the version 0 (unknown).
    if (cudaRuntimeGetVersion(&report.runtime_version) != cudaSuccess) {
        report.runtime_version = 0;
    }
    if (cudaDriverGetVersion(&report.driver_version) != cudaSuccess) {
        report.driver_version = 0;
    }
    int count = 0;
    const cudaError_t status = cudaGetDeviceCount(&count);
    if (status != cudaSuccess) {
        report.detail = cudaGetErrorString(status);
        return report;
    }
    report.device_count = count;
    if (count > 0) {
        cudaDeviceProp properties{};
        if (cudaGetDeviceProperties(&properties, 0) == cudaSuccess) {
            report.device_name = properties.name;
        }
    } else {
        report.detail = "the CUDA runtime reports 0 devices";
    }
    return report;
}

} // namespace masklens::gpu
