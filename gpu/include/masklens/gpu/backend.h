// Which compute device evaluates: the CPU pass or the CUDA path.
#pragma once

#include <string>
#include <string_view>

namespace masklens::gpu {

struct DeviceReport {
    bool cuda_built = false;   // this binary was compiled with the CUDA path
    int device_count = 0;      // CUDA devices visible now
    std::string device_name;   // the first device's name, when there is one
    std::string detail;        // why no device is usable (driver message), if none
};

// Asks the CUDA runtime what is present. Never throws.
DeviceReport query_devices();

enum class DeviceChoice { Auto, Cpu, Cuda };

// "auto" | "cpu" | "cuda"; throws Error(Usage) otherwise.
DeviceChoice parse_device_choice(std::string_view text);

struct ResolvedDevice {
    std::string name; // "cpu" or "cuda"
    std::string note; // one line for stderr when auto made a choice worth telling, else empty
};

// Picks the device. `cuda` without a usable CUDA path is Error(Device) saying
// whether the build lacks CUDA, no device is present, or the kernels are
// missing; `auto` falls back to the CPU.
ResolvedDevice resolve_device(DeviceChoice choice);

} // namespace masklens::gpu
