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

std::string cuda_version_text(int version)
{
    if (version <= 0) {
        return "none";
    }
    return std::to_string(version / 1000) + "." + std::to_string(version % 1000 / 10);
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

ResolvedDevice choose_device(DeviceChoice choice, const DeviceReport& report)
{
    if (choice == DeviceChoice::Cpu) {
        return {"cpu", ""};
    }
    if (report.cuda_built && report.device_count > 0) {
        const std::string name =
            report.device_name.empty() ? std::string("CUDA device 0") : report.device_name;
        return {"cuda", choice == DeviceChoice::Auto
                            ? "note: evaluating on the GPU (" + name + "); --device cpu for the CPU"
                            : std::string()};
    }
    const std::string problem =
        !report.cuda_built ? report.detail : "no CUDA device is present (" + report.detail + ")";
    if (choice == DeviceChoice::Cuda) {
        throw Error(Error::Kind::Device, {}, "--device cuda: " + problem);
    }
    return {"cpu", "note: evaluating on the CPU: " + problem};
}

ResolvedDevice resolve_device(DeviceChoice choice)
{
    if (choice == DeviceChoice::Cpu) {
        return {"cpu", ""};
    }
    return choose_device(choice, query_devices());
}

} // namespace masklens::gpu
