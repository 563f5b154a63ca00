// RAII for CUDA resources and the error convention of the CUDA path (a
// failing call becomes Error(Device) with the CUDA message). Internal to
// masklens_gpu; builds with CUDA only.
#pragma once

#include "masklens/engine/error.h"

#include <cuda_runtime_api.h>

#include <cstddef>
#include <string>
#include <utility>

namespace masklens::gpu::cuda {

[[noreturn]] inline void throw_cuda(cudaError_t status, const std::string& what)
{
    throw Error(Error::Kind::Device, {},
                "CUDA " + what + " failed: " + cudaGetErrorName(status) + " (" + cudaGetErrorString(status) +
                    ")");
}

inline void check(cudaError_t status, const char* what)
{
    if (status != cudaSuccess) {
        throw_cuda(status, what);
    }
}

// Owns memory from cudaMalloc (device) or cudaMallocHost (pinned host, for
// transfers that overlap with compute).
enum class MemoryKind { Device, PinnedHost };

template <MemoryKind Kind> class CudaBuffer {
public:
    CudaBuffer() = default;
    explicit CudaBuffer(std::size_t bytes) : bytes_(bytes)
    {
        if (bytes == 0) {
            return;
        }
        if constexpr (Kind == MemoryKind::Device) {
            check(cudaMalloc(&data_, bytes), ("cudaMalloc of " + std::to_string(bytes) + " bytes").c_str());
        } else {
            check(cudaMallocHost(&data_, bytes), "cudaMallocHost (pinned host memory)");
        }
    }
    ~CudaBuffer()
    {
        if (data_ == nullptr) {
            return;
        }
        if constexpr (Kind == MemoryKind::Device) {
            cudaFree(data_);
        } else {
            cudaFreeHost(data_);
        }
    }
    CudaBuffer(CudaBuffer&& other) noexcept
        : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0))
    {}
    CudaBuffer& operator=(CudaBuffer&& other) noexcept
    {
        std::swap(data_, other.data_);
        std::swap(bytes_, other.bytes_);
        return *this;
    }
    std::byte* data() const noexcept { return static_cast<std::byte*>(data_); }
    std::size_t bytes() const noexcept { return bytes_; }

private:
    void* data_ = nullptr;
    std::size_t bytes_ = 0;
};

using DeviceBuffer = CudaBuffer<MemoryKind::Device>;
using PinnedBuffer = CudaBuffer<MemoryKind::PinnedHost>;

class Stream {
public:
    Stream() { check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), "cudaStreamCreate"); }
    ~Stream() { cudaStreamDestroy(stream_); }
    Stream(const Stream&) = delete;
    Stream& operator=(const Stream&) = delete;
    cudaStream_t get() const noexcept { return stream_; }

private:
    cudaStream_t stream_ = nullptr;
};

class Event {
public:
    Event() { check(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming), "cudaEventCreate"); }
    ~Event() { cudaEventDestroy(event_); }
    Event(const Event&) = delete;
    Event& operator=(const Event&) = delete;
    cudaEvent_t get() const noexcept { return event_; }

private:
    cudaEvent_t event_ = nullptr;
};

// Makes `device` current for the scope, restoring the previous one.
class DeviceScope {
public:
    explicit DeviceScope(int device)
    {
        check(cudaGetDevice(&previous_), "cudaGetDevice");
        check(cudaSetDevice(device), ("cudaSetDevice(" + std::to_string(device) + ")").c_str());
    }
    ~DeviceScope() { cudaSetDevice(previous_); }
    DeviceScope(const DeviceScope&) = delete;
    DeviceScope& operator=(const DeviceScope&) = delete;

private:
    int previous_ = 0;
};

} // namespace masklens::gpu::cuda
