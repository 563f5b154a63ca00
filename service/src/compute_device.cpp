// The device policy (compute_device.h): names, notes and the fallback flag.
#include "masklens/service/compute_device.h"

#include "masklens/engine/error.h"

namespace masklens::service {

namespace {

ComputeDevice described(const gpu::ResolvedDevice& resolved, const gpu::DeviceReport& report)
{
    ComputeDevice device;
    device.name = resolved.name;
    device.note = resolved.note;
    if (device.name == "cuda") {
        device.label =
            "GPU: " + (report.device_name.empty() ? std::string("CUDA device 0") : report.device_name);
    } else {
        device.label = "CPU";
    }
    device.summary = !device.note.empty()    ? device.note
                     : device.name == "cuda" ? std::string("Evaluating on the GPU (CUDA).")
                                             : std::string("Evaluating on the CPU.");
    return device;
}

} // namespace

ComputeDevice choose_compute_device(gpu::DeviceChoice choice, const gpu::DeviceReport& report)
{
    ComputeDevice device = described(gpu::choose_device(choice, report), report);
    device.fallback_to_cpu = choice == gpu::DeviceChoice::Auto;
    return device;
}

ComputeDevice resolve_compute_device(gpu::DeviceChoice choice)
{
    return choose_compute_device(choice, choice == gpu::DeviceChoice::Cpu ? gpu::DeviceReport{}
                                                                          : gpu::query_devices());
}

ComputeDevice device_for_request(std::string_view request, const gpu::DeviceReport& report)
{
    const std::string text = request.empty() ? std::string("auto") : std::string(request);
    ComputeDevice device;
    try {
        device = described(gpu::choose_device(gpu::parse_device_choice(text), report), report);
    } catch (const Error& error) {
        device = described({"cpu", ""}, report);
        device.note =
            "MASKLENS_DEVICE=" + text + " cannot be used (" + error.what() + "); evaluating on the CPU.";
        device.summary = device.note;
    }
    device.fallback_to_cpu = true;
    return device;
}

ComputeDevice resolve_device_request(std::string_view request)
{
    return device_for_request(request, request == "cpu" ? gpu::DeviceReport{} : gpu::query_devices());
}

} // namespace masklens::service
