// Shared by the GPU tests: why the device tests cannot run here, and the
// QSKIP that says so.
#pragma once

#include "masklens/gpu/backend.h"
#include "masklens/gpu/cuda_statistics.h"

#include <QtTest>

#include <string>

namespace masklens::gpu::test {

// Why the device tests cannot run here, or empty when they can.
inline std::string why_no_gpu()
{
    if (!cuda_path_built()) {
        return "this build has no CUDA path (MASKLENS_CUDA=OFF or no nvcc)";
    }
    const DeviceReport report = query_devices();
    if (report.device_count == 0) {
        return report.detail.empty() ? std::string("the CUDA runtime reports none") : report.detail;
    }
    return {};
}

} // namespace masklens::gpu::test

// Skips the calling test function with the reason when no device is usable.
#define REQUIRE_GPU()                                                                                        \
    do {                                                                                                     \
        const std::string why = masklens::gpu::test::why_no_gpu();                                           \
        if (!why.empty()) {                                                                                  \
            QSKIP(("no CUDA device: " + why).c_str());                                                       \
        }                                                                                                    \
    } while (false)
