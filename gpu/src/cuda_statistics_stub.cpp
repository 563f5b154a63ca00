// The CUDA path's API in builds without CUDA: nothing is available and every
// entry point says so with Error(Device).
#include "masklens/gpu/cuda_statistics.h"

#include "masklens/engine/error.h"

namespace masklens::gpu {

namespace {

[[noreturn]] void no_cuda()
{
    throw Error(Error::Kind::Device, {},
                "this build has no CUDA path (configured without nvcc or with MASKLENS_CUDA=OFF)");
}

} // namespace

bool cuda_path_built() noexcept
{
    return false;
}

bool cuda_path_available()
{
    return false;
}

BatchStatistics compute_statistics_cuda(const Volume&, const Volume&, const StatisticsOptions&, StreamHandle,
                                        const CudaConfig&)
{
    no_cuda();
}

struct DeviceSession::Impl {
    std::string name;
};

DeviceSession::DeviceSession(const Volume&, const Volume&, const CudaConfig&)
{
    no_cuda();
}
DeviceSession::~DeviceSession() = default;
DeviceSession::DeviceSession(DeviceSession&&) noexcept = default;
DeviceSession& DeviceSession::operator=(DeviceSession&&) noexcept = default;

BatchStatistics DeviceSession::compute(const StatisticsOptions&)
{
    no_cuda();
}
Evaluation DeviceSession::evaluate(const StatisticsOptions&)
{
    no_cuda();
}
const std::string& DeviceSession::device_name() const noexcept
{
    return impl_->name;
}
std::size_t DeviceSession::device_bytes() const noexcept
{
    return 0;
}

} // namespace masklens::gpu
