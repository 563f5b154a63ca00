// Host orchestration of the CUDA path (builds with CUDA): device buffers,
// pinned staging, two streams, chunk by chunk; the kernels themselves are in
// region_kernels.cu and the planning and merging in chunk_plan.cpp.
#include "masklens/gpu/cuda_statistics.h"

#include "masklens/engine/error.h"
#include "masklens/engine/pass_output.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/chunk_plan.h"
#include "masklens/gpu/region_kernels.h"

#include "cuda_resources.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace masklens::gpu {

namespace {

using cuda::check;
using cuda::DeviceBuffer;
using cuda::DeviceScope;
using cuda::Event;
using cuda::PinnedBuffer;
using cuda::Stream;

// memcpy on a few threads for large pieces (pageable -> pinned is otherwise
// the slowest step of a host-to-device transfer).
void parallel_copy(std::byte* destination, const std::byte* source, std::size_t bytes)
{
    constexpr std::size_t kPerThread = std::size_t{8} << 20;
    const std::size_t hardware = std::max(1u, std::thread::hardware_concurrency());
    const std::size_t parts = std::min<std::size_t>({std::size_t{8}, std::max<std::size_t>(1, hardware / 2),
                                                     std::max<std::size_t>(1, bytes / kPerThread)});
    if (parts <= 1) {
        std::memcpy(destination, source, bytes);
        return;
    }
    std::vector<std::thread> threads;
    for (std::size_t part = 1; part < parts; ++part) {
        const std::size_t begin = bytes * part / parts, end = bytes * (part + 1) / parts;
        threads.emplace_back([=] { std::memcpy(destination + begin, source + begin, end - begin); });
    }
    std::memcpy(destination, source, bytes / parts);
    for (auto& thread : threads) {
        thread.join();
    }
}

// Copies host ranges to the device through two pinned staging buffers: the
// host fills one while the other is being transferred.
class Uploader {
public:
    explicit Uploader(std::size_t staging_bytes)
        : buffers_{PinnedBuffer(staging_bytes), PinnedBuffer(staging_bytes)}
    {}

    void upload(const std::byte* host, const std::vector<CopyRange>& ranges, std::byte* device,
                cudaStream_t stream)
    {
        const std::size_t piece_limit = buffers_[0].bytes();
        std::size_t device_offset = 0;
        for (const CopyRange& range : ranges) {
            for (std::size_t done = 0; done < range.length;) {
                const std::size_t piece = std::min(piece_limit, range.length - done);
                const int slot = next_;
                next_ ^= 1;
                if (used_[slot]) {
                    check(cudaEventSynchronize(done_[slot].get()), "host-to-device copy");
                }
                parallel_copy(buffers_[slot].data(), host + range.source_offset + done, piece);
                check(cudaMemcpyAsync(device + device_offset, buffers_[slot].data(), piece,
                                      cudaMemcpyHostToDevice, stream),
                      "cudaMemcpyAsync (host to device)");
                check(cudaEventRecord(done_[slot].get(), stream), "cudaEventRecord");
                used_[slot] = true;
                done += piece;
                device_offset += piece;
            }
        }
    }

private:
    std::array<PinnedBuffer, 2> buffers_;
    std::array<Event, 2> done_;
    std::array<bool, 2> used_{false, false};
    int next_ = 0;
};

std::size_t default_budget()
{
    std::size_t free_bytes = 0, total_bytes = 0;
    check(cudaMemGetInfo(&free_bytes, &total_bytes), "cudaMemGetInfo");
    return free_bytes / 10 * 9;
}

std::string device_name_of(int device)
{
    cudaDeviceProp properties{};
    check(cudaGetDeviceProperties(&properties, device), "cudaGetDeviceProperties");
    return properties.name;
}

KernelProblem kernel_problem(const Volume& prediction, const Volume& target, const StatisticsOptions& options,
                             const PassPlan& plan, const Chunk& chunk)
{
    KernelProblem problem;
    const Shape shape = chunk_shape(prediction.shape(), chunk);
    problem.prediction_type = element_type(prediction.type());
    problem.target_type = element_type(target.type());
    problem.n = shape.n;
    problem.c = shape.c;
    problem.d = shape.d;
    problem.h = shape.h;
    problem.w = shape.w;
    problem.pairing = kernel_pairing(plan.pairing);
    problem.axis = kernel_axis(plan.axis);
    problem.needs = term_needs(options.metrics, options.metric, plan.pairing);
    problem.options = term_options(options.metric);
    return problem;
}

ChunkProblem chunk_problem(const Volume& prediction, const Volume& target, const PassPlan& plan,
                           std::size_t budget)
{
    ChunkProblem problem;
    problem.shape = prediction.shape();
    problem.prediction_element_bytes = scalar_size(prediction.type());
    problem.target_element_bytes = scalar_size(target.type());
    problem.pairing = plan.pairing;
    problem.axis = plan.axis;
    problem.budget_bytes = budget;
    return problem;
}

// Validation and layout shared by both entry points, after all chunks merged.
BatchStatistics finish(const Volume& prediction, const Volume& target, const StatisticsOptions& options,
                       const PassPlan& plan, PassOutput&& output)
{
    if (output.labels.count > 0) {
        output.labels.first_value = label_at(target, output.labels.first_index);
    }
    if (plan.pairing == PairingMode::LabelMaps) {
        derive_background_label(output);
    }
    return assemble_statistics(prediction, target, options, plan, std::move(output));
}

// One set of device buffers and the pinned copy of its results.
struct BufferSet {
    DeviceBuffer prediction, target, workspace;
    PinnedBuffer results;
    std::int64_t chunk = -1; // index of the chunk in flight, -1 when idle
};

} // namespace

bool cuda_path_built() noexcept
{
    return true;
}

bool cuda_path_available()
{
    const DeviceReport report = query_devices();
    return report.cuda_built && report.device_count > 0;
}

BatchStatistics compute_statistics_cuda(const Volume& prediction, const Volume& target,
                                        const StatisticsOptions& options, StreamHandle stream_handle,
                                        const CudaConfig& config)
{
    const PassPlan plan = plan_pass(prediction, target, options);
    if (!kernels_cover(plan, options.metric)) {
        return compute_statistics(prediction, target, options);
    }
    DeviceScope scope(config.device);
    const auto user_stream = static_cast<cudaStream_t>(stream_handle);
    const ChunkProblem problem = chunk_problem(
        prediction, target, plan, config.memory_budget > 0 ? config.memory_budget : default_budget());
    const ChunkPlan chunks = plan_chunks(problem);
    const Shape& shape = prediction.shape();
    const std::int64_t target_channels = plan.pairing == PairingMode::ChannelOneHot ? 1 : shape.c;

    // Buffer set 0 works on the caller's stream; set 1 on a stream of its own
    // that starts after what the caller had queued.
    std::vector<BufferSet> sets(static_cast<std::size_t>(chunks.buffers));
    for (BufferSet& set : sets) {
        set.prediction = DeviceBuffer(chunks.prediction_bytes);
        set.target = DeviceBuffer(chunks.target_bytes);
        set.workspace = DeviceBuffer(chunks.workspace_bytes);
        set.results = PinnedBuffer(chunks.workspace_bytes);
    }
    std::unique_ptr<Stream> second_stream;
    if (chunks.buffers > 1) {
        second_stream = std::make_unique<Stream>();
        Event queued;
        check(cudaEventRecord(queued.get(), user_stream), "cudaEventRecord");
        check(cudaStreamWaitEvent(second_stream->get(), queued.get(), 0), "cudaStreamWaitEvent");
    }
    const auto stream_of = [&](std::size_t set) { return set == 0 ? user_stream : second_stream->get(); };

    std::size_t largest_transfer = 0;
    for (const Chunk& chunk : chunks.chunks) {
        largest_transfer = std::max(
            {largest_transfer, chunk_prediction_bytes(problem, chunk), chunk_target_bytes(problem, chunk)});
    }
    Uploader uploader(std::max<std::size_t>(1, std::min(config.staging_bytes, largest_transfer)));

    PassOutput output = start_output(shape, plan);
    bool labels_fit = true;
    std::int64_t planes_done = 0;
    const std::int64_t planes = shape.n * shape.d;
    // Waits for the chunk in flight on `set` and merges it.
    const auto retire = [&](std::size_t index) {
        BufferSet& set = sets[index];
        if (set.chunk < 0) {
            return;
        }
        check(cudaStreamSynchronize(stream_of(index)), "statistics kernels");
        const Chunk& chunk = chunks.chunks[static_cast<std::size_t>(set.chunk)];
        const WorkspaceLayout layout =
            workspace_layout(chunk_regions(shape, plan.axis, chunk), shape.c, kernel_pairing(plan.pairing));
        labels_fit =
            merge_chunk(shape, plan, chunk, read_workspace(set.results.data(), layout), output) && labels_fit;
        set.chunk = -1;
        planes_done += chunk.samples() * chunk.depth();
        if (options.progress) {
            options.progress(static_cast<double>(planes_done) / static_cast<double>(planes));
        }
    };

    try {
        for (std::size_t k = 0; k < chunks.chunks.size(); ++k) {
            const std::size_t index = k % sets.size();
            retire(index); // chunk k - 2: merges stay in chunk order
            if (options.cancel && options.cancel->load()) {
                throw Error(Error::Kind::Cancelled, {}, "evaluation cancelled");
            }
            BufferSet& set = sets[index];
            const Chunk& chunk = chunks.chunks[k];
            const cudaStream_t stream = stream_of(index);
            uploader.upload(prediction.data(),
                            chunk_copy_ranges(shape, shape.c, problem.prediction_element_bytes, chunk),
                            set.prediction.data(), stream);
            uploader.upload(target.data(),
                            chunk_copy_ranges(shape, target_channels, problem.target_element_bytes, chunk),
                            set.target.data(), stream);
            KernelProblem kernel = kernel_problem(prediction, target, options, plan, chunk);
            kernel.prediction = set.prediction.data();
            kernel.target = set.target.data();
            std::size_t workspace_bytes = set.workspace.bytes();
            check(region_statistics(set.workspace.data(), &workspace_bytes, kernel, stream),
                  "statistics kernel launch");
            const std::size_t result_bytes = workspace_layout(kernel).total_bytes;
            check(cudaMemcpyAsync(set.results.data(), set.workspace.data(), result_bytes,
                                  cudaMemcpyDeviceToHost, stream),
                  "cudaMemcpyAsync (device to host)");
            set.chunk = static_cast<std::int64_t>(k);
        }
        // The last chunks, oldest first.
        std::vector<std::size_t> order(sets.size());
        for (std::size_t i = 0; i < order.size(); ++i) {
            order[i] = i;
        }
        std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
            return static_cast<std::uint64_t>(sets[a].chunk) < static_cast<std::uint64_t>(sets[b].chunk);
        });
        for (std::size_t index : order) {
            retire(index);
        }
    } catch (...) {
        // Leave no copy or kernel running into buffers about to be freed.
        cudaStreamSynchronize(user_stream);
        if (second_stream) {
            cudaStreamSynchronize(second_stream->get());
        }
        throw;
    }
    if (!labels_fit) {
        return compute_statistics(prediction, target, options); // labels beyond the device histogram
    }
    return finish(prediction, target, options, plan, std::move(output));
}

// ---- the device-resident session ----------------------------------------------------------------

struct DeviceSession::Impl {
    const Volume& prediction;
    const Volume& target;
    CudaConfig config;
    std::string name;
    DeviceBuffer prediction_data, target_data, workspace;
    PinnedBuffer results;
    std::unique_ptr<Stream> stream;

    Impl(const Volume& prediction_volume, const Volume& target_volume, const CudaConfig& cuda_config)
        : prediction(prediction_volume), target(target_volume), config(cuda_config)
    {}
};

DeviceSession::DeviceSession(const Volume& prediction, const Volume& target, const CudaConfig& config)
    : impl_(std::make_unique<Impl>(prediction, target, config))
{
    (void)check_pair(prediction, target, StatisticsOptions{}); // Input errors before any upload
    const DeviceReport report = query_devices();
    if (report.device_count == 0) {
        throw Error(Error::Kind::Device, {}, "no CUDA device is present (" + report.detail + ")");
    }
    DeviceScope scope(config.device);
    impl_->name = device_name_of(config.device);
    const Shape& shape = prediction.shape();
    const PassPlan plan = plan_pass(prediction, target, StatisticsOptions{});
    ChunkProblem problem = chunk_problem(prediction, target, plan,
                                         config.memory_budget > 0 ? config.memory_budget : default_budget());
    const Chunk whole{0, shape.n, 0, shape.d};
    // Room for the inputs and the largest workspace any axis needs.
    std::size_t needed = chunk_prediction_bytes(problem, whole) + chunk_target_bytes(problem, whole);
    std::size_t workspace = 0;
    for (SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
        problem.axis = axis;
        workspace = std::max(workspace, chunk_workspace_bytes(problem, whole));
    }
    needed += workspace;
    if (needed > problem.budget_bytes) {
        throw Error(Error::Kind::Device, {},
                    prediction.source() + " and " + target.source() + " do not fit on " + impl_->name + " (" +
                        std::to_string(needed >> 20) + " MiB needed, " +
                        std::to_string(problem.budget_bytes >> 20) +
                        " MiB available); evaluate them with compute_statistics_cuda, which streams chunks");
    }
    impl_->stream = std::make_unique<Stream>();
    impl_->prediction_data = DeviceBuffer(chunk_prediction_bytes(problem, whole));
    impl_->target_data = DeviceBuffer(chunk_target_bytes(problem, whole));
    impl_->workspace = DeviceBuffer(workspace);
    impl_->results = PinnedBuffer(workspace);
    const std::int64_t target_channels = plan.pairing == PairingMode::ChannelOneHot ? 1 : shape.c;
    const std::size_t largest = std::max(prediction.byte_size(), target.byte_size());
    Uploader uploader(std::max<std::size_t>(1, std::min(config.staging_bytes, largest)));
    const cudaStream_t stream = impl_->stream->get();
    uploader.upload(prediction.data(),
                    chunk_copy_ranges(shape, shape.c, problem.prediction_element_bytes, whole),
                    impl_->prediction_data.data(), stream);
    uploader.upload(target.data(),
                    chunk_copy_ranges(shape, target_channels, problem.target_element_bytes, whole),
                    impl_->target_data.data(), stream);
    check(cudaStreamSynchronize(stream), "upload to the device");
}

DeviceSession::~DeviceSession() = default;
DeviceSession::DeviceSession(DeviceSession&&) noexcept = default;
DeviceSession& DeviceSession::operator=(DeviceSession&&) noexcept = default;

BatchStatistics DeviceSession::compute(const StatisticsOptions& options)
{
    Impl& impl = *impl_;
    const PassPlan plan = plan_pass(impl.prediction, impl.target, options);
    if (!kernels_cover(plan, options.metric)) {
        return compute_statistics(impl.prediction, impl.target, options);
    }
    DeviceScope scope(impl.config.device);
    const Shape& shape = impl.prediction.shape();
    const Chunk whole{0, shape.n, 0, shape.d};
    KernelProblem kernel = kernel_problem(impl.prediction, impl.target, options, plan, whole);
    kernel.prediction = impl.prediction_data.data();
    kernel.target = impl.target_data.data();
    const cudaStream_t stream = impl.stream->get();
    std::size_t workspace_bytes = impl.workspace.bytes();
    check(region_statistics(impl.workspace.data(), &workspace_bytes, kernel, stream),
          "statistics kernel launch");
    const WorkspaceLayout layout = workspace_layout(kernel);
    check(cudaMemcpyAsync(impl.results.data(), impl.workspace.data(), layout.total_bytes,
                          cudaMemcpyDeviceToHost, stream),
          "cudaMemcpyAsync (device to host)");
    check(cudaStreamSynchronize(stream), "statistics kernels");
    PassOutput output = start_output(shape, plan);
    if (!merge_chunk(shape, plan, whole, read_workspace(impl.results.data(), layout), output)) {
        return compute_statistics(impl.prediction, impl.target, options);
    }
    if (options.progress) {
        options.progress(1.0);
    }
    return finish(impl.prediction, impl.target, options, plan, std::move(output));
}

Evaluation DeviceSession::evaluate(const StatisticsOptions& options)
{
    // Surface distances too, on the device (as evaluate_on): the same
    // values as the CPU's evaluate.
    const StatisticsOptions on_device = with_device_surface_distances(options);
    return complete_evaluation(compute(on_device), impl_->prediction, impl_->target, on_device);
}

const std::string& DeviceSession::device_name() const noexcept
{
    return impl_->name;
}

std::size_t DeviceSession::device_bytes() const noexcept
{
    return impl_->prediction_data.bytes() + impl_->target_data.bytes() + impl_->workspace.bytes();
}

} // namespace masklens::gpu
