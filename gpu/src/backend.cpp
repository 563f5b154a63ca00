#include "masklens/gpu/backend.h"

#include "masklens/engine/error.h"

namespace masklens::gpu {

#if defined(MASKLENS_WITH_CUDA)
DeviceReport query_cuda_devices(); // device_query.cu
#endif

DeviceReport query_devices()
{
#if defined(MASKLENS_WITH_CUDA)
    return query_cuda_devices();
#else
    DeviceReport report;
    report.detail = "this build has no CUDA path (configured without nvcc or with MASKLENS_CUDA=OFF)";
    return report;
#endif
}

DeviceChoice parse_device_choice(std::string_view text)
{
    if (text == "auto") {
        return DeviceChoice::Auto;
    }
    if (text == "cpu") {
        return DeviceChoice::Cpu;
    }
    if (text == "cuda") {
        return DeviceChoice::Cuda;
    }
    throw_usage_error("--device must be auto, cpu or cuda, not '" + std::string(text) + "'");
}

ResolvedDevice resolve_device(DeviceChoice choice)
{
    if (choice == DeviceChoice::Cpu) {
        return {"cpu", ""};
    }
    const DeviceReport report = query_devices();
    // The statistics kernels arrive with the CUDA issue; until then a present
    // device cannot be used either.
    std::string problem;
    if (!report.cuda_built) {
        problem = report.detail;
    } else if (report.device_count == 0) {
        problem = "no CUDA device is present (" + report.detail + ")";
    } else {
        problem = "CUDA device '" + report.device_name +
                  "' found, but this build's CUDA statistics kernels are not implemented yet";
    }
    if (choice == DeviceChoice::Cuda) {
        throw Error(Error::Kind::Device, {}, "--device cuda: " + problem);
    }
    return {"cpu", report.device_count > 0 ? "note: " + problem + "; using the CPU" : ""};
}

} // namespace masklens::gpu
