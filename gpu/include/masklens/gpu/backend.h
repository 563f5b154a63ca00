// Which compute device evaluates: the CPU pass or the CUDA path.
#pragma once

#include <string>
#include <string_view>

namespace masklens::gpu {

struct DeviceReport {
    bool cuda_built = false; // this binary was compiled with the CUDA path (kernels included)
    int device_count = 0;    // CUDA devices visible now
    std::string device_name; // the first device's name, when there is one
    std::string detail;      // why no device is usable (driver message), if none
    // CUDA versions as the runtime encodes them (1000 * major + 10 * minor,
    // e.g. 13000 for 13.0); 0 when unknown: no CUDA path, or no driver.
    int runtime_version = 0; // the CUDA runtime this binary was linked with
    int driver_version = 0;  // the newest CUDA version the installed driver supports
};

// "13.0" for 13000; "none" for 0.
std::string cuda_version_text(int version);

// Asks the CUDA runtime what is present. Never throws.
DeviceReport query_devices();

enum class DeviceChoice { Auto, Cpu, Cuda };

// "auto" | "cpu" | "cuda"; throws Error(Usage) otherwise.
DeviceChoice parse_device_choice(std::string_view text);

struct ResolvedDevice {
    std::string name; // "cpu" or "cuda"
    std::string note; // one line for stderr saying what `auto` chose and why, else empty
};

// Picks the device from a report (no CUDA call; resolve_device passes
// query_devices()). The CUDA path is usable when the build has it and a
// device is present. `cpu`: the CPU, no note. `cuda`: the GPU, or
// Error(Device) saying whether the build lacks CUDA or no device is present.
// `auto`: the GPU when usable, else the CPU, with a one-line note either way.
ResolvedDevice choose_device(DeviceChoice choice, const DeviceReport& report);

// choose_device(choice, query_devices()) (no query for `cpu`).
ResolvedDevice resolve_device(DeviceChoice choice);

} // namespace masklens::gpu
