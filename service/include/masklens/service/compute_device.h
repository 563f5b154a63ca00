// Which device evaluates, chosen once per run, and what a device failure
// during an evaluation does: the one policy of masklens-cli and the app.
//
//   --device cpu     the CPU.
//   --device cuda    the GPU; Error(Device) when the build lacks the CUDA
//                    path or no device is present, and a device failure
//                    during an evaluation is an error too (no silent CPU).
//   --device auto    the GPU when usable, else the CPU (with a note); a
//                    device failure during an evaluation is retried on the CPU.
//   The app (MASKLENS_DEVICE, resolve_device_request) never refuses: a
//   request it cannot honour gives the CPU, and the note says why.
#pragma once

#include "masklens/gpu/backend.h"

#include <string>
#include <string_view>

namespace masklens::service {

struct ComputeDevice {
    std::string name;             // "cpu" or "cuda" (gpu::evaluate_on's names)
    std::string label;            // status bar: "CPU" or "GPU: <device name>"
    std::string note;             // one line for stderr on what `auto` chose and why; may be empty
    std::string summary;          // never empty: the note, or what was chosen (tooltips)
    bool fallback_to_cpu = false; // a device failure during an evaluation is retried on the CPU
};

// The choice against a device report (no CUDA call). Throws Error(Device)
// for `cuda` when the CUDA path is not usable.
ComputeDevice choose_compute_device(gpu::DeviceChoice choice, const gpu::DeviceReport& report);

// choose_compute_device with gpu::query_devices() (no query for `cpu`).
ComputeDevice resolve_compute_device(gpu::DeviceChoice choice);

// The app's request text ("auto", "cpu", "cuda"; empty = auto), against a
// report. Never throws: an unknown or unusable request gives the CPU, with
// a note naming the request and the reason. Falls back to the CPU on device
// failures whatever was requested: the app always shows numbers.
ComputeDevice device_for_request(std::string_view request, const gpu::DeviceReport& report);
ComputeDevice resolve_device_request(std::string_view request);

} // namespace masklens::service
