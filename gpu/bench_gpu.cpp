// GPU benchmark of the statistics kernels (run by gpu/check.sh).
//
//   1. device-to-device cudaMemcpy bandwidth, measured in this run:
//      (bytes read + bytes written) / time, the copy's own traffic;
//   2. the fused kernel on device-resident 512^3 float32 + uint8, all metrics:
//      bytes read / time, as a fraction of (1)            (goal >= 0.80);
//   3. a batch of 64 x 128^3 in one launch: time against bytes / (1)
//                                                         (goal <= 1.3x);
//   4. end to end from host memory (compute_statistics_cuda, including the
//      host-to-device copies) against the CPU pass (compute_statistics);
//   5. surface distances (hd, hd95, assd: sample_surface_distances_cuda
//      against the CPU's sample_surface_distances, a sample's value and its
//      per-slice values along D, as the CLI computes them) on a pair of
//      offset spheres of 256^3 and 512^3 voxels (quick: 128^3 and 256^3),
//      spacing (0.8, 0.8, 1.5) mm, from host memory.
// Prints a short table last. Times are medians over repetitions (cudaEvent
// timing on the device, steady_clock for end-to-end runs).
#include "masklens/engine/error.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/surface_distance.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"
#include "masklens/gpu/region_kernels.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

using namespace masklens;

namespace {

void check(cudaError_t status, const char* what)
{
    if (status != cudaSuccess) {
        throw std::runtime_error(std::string(what) + ": " + cudaGetErrorString(status));
    }
}

double median(std::vector<double> values)
{
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

// Median milliseconds of `work` queued on `stream`, after one warm-up run.
double time_device(cudaStream_t stream, int repetitions, const std::function<void()>& work)
{
    cudaEvent_t start = nullptr, stop = nullptr;
    check(cudaEventCreate(&start), "cudaEventCreate");
    check(cudaEventCreate(&stop), "cudaEventCreate");
    work();
    check(cudaStreamSynchronize(stream), "warm-up");
    std::vector<double> times;
    for (int r = 0; r < repetitions; ++r) {
        check(cudaEventRecord(start, stream), "cudaEventRecord");
        work();
        check(cudaEventRecord(stop, stream), "cudaEventRecord");
        check(cudaEventSynchronize(stop), "cudaEventSynchronize");
        float ms = 0;
        check(cudaEventElapsedTime(&ms, start, stop), "cudaEventElapsedTime");
        times.push_back(ms);
    }
    cudaEventDestroy(start);
    cudaEventDestroy(stop);
    return median(times);
}

double time_host(int repetitions, const std::function<void()>& work)
{
    std::vector<double> times;
    for (int r = 0; r < repetitions; ++r) {
        const auto begin = std::chrono::steady_clock::now();
        work();
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - begin).count());
    }
    return median(times);
}

// Probabilities in [0, 1) and a uint8 mask, from a fast generator.
void fill(Volume& prediction, Volume& target)
{
    std::uint64_t state = 0x9e3779b97f4a7c15ull;
    const auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    auto* p = prediction.data_as<float>();
    auto* t = target.data_as<std::uint8_t>();
    const std::int64_t count = prediction.shape().elements();
    for (std::int64_t i = 0; i < count; ++i) {
        const std::uint64_t bits = next();
        p[i] = static_cast<float>(bits >> 40) / static_cast<float>(1ull << 24);
        t[i] = static_cast<std::uint8_t>((bits >> 8) & 1u);
    }
}

Shape cube(std::int64_t n, std::int64_t side)
{
    Shape shape;
    shape.n = n;
    shape.d = shape.h = shape.w = side;
    shape.spatial_dims = 3;
    return shape;
}

struct Resident {
    void* prediction = nullptr;
    void* target = nullptr;
    void* workspace = nullptr;
    std::size_t workspace_bytes = 0;
    gpu::KernelProblem problem;
};

Resident upload(const Volume& prediction, const Volume& target, cudaStream_t stream)
{
    Resident resident;
    check(cudaMalloc(&resident.prediction, prediction.byte_size()), "cudaMalloc prediction");
    check(cudaMalloc(&resident.target, target.byte_size()), "cudaMalloc target");
    check(cudaMemcpy(resident.prediction, prediction.data(), prediction.byte_size(), cudaMemcpyHostToDevice),
          "upload prediction");
    check(cudaMemcpy(resident.target, target.data(), target.byte_size(), cudaMemcpyHostToDevice),
          "upload target");
    gpu::KernelProblem& problem = resident.problem;
    const Shape& shape = prediction.shape();
    problem.prediction = resident.prediction;
    problem.prediction_type = gpu::ElementType::Float32;
    problem.target = resident.target;
    problem.target_type = gpu::ElementType::UInt8;
    problem.n = shape.n;
    problem.c = shape.c;
    problem.d = shape.d;
    problem.h = shape.h;
    problem.w = shape.w;
    problem.needs = gpu::TermNeeds{true, true, true, true, true, true, true}; // every metric
    check(gpu::region_statistics(nullptr, &resident.workspace_bytes, problem, stream), "workspace query");
    check(cudaMalloc(&resident.workspace, resident.workspace_bytes), "cudaMalloc workspace");
    return resident;
}

void release(Resident& resident)
{
    cudaFree(resident.prediction);
    cudaFree(resident.target);
    cudaFree(resident.workspace);
}

double kernel_ms(Resident& resident, cudaStream_t stream, int repetitions)
{
    return time_device(stream, repetitions, [&] {
        check(gpu::region_statistics(resident.workspace, &resident.workspace_bytes, resident.problem, stream),
              "region_statistics");
    });
}

// Two offset balls in mm (spacing (0.8, 0.8, 1.5)) on a side^3 grid.
void fill_spheres(std::int64_t side, std::vector<std::uint8_t>& pred, std::vector<std::uint8_t>& target)
{
    const auto voxels = static_cast<std::size_t>(side * side * side);
    pred.assign(voxels, 0);
    target.assign(voxels, 0);
    const double in_plane = 0.8 * static_cast<double>(side);
    const double radius_p = 0.30 * in_plane;
    const double radius_t = 0.28 * in_plane;
    const double centre = 0.5 * in_plane;
    const double centre_z = 0.5 * 1.5 * static_cast<double>(side);
    for (std::int64_t d = 0; d < side; ++d) {
        const double z = static_cast<double>(d) * 1.5 - centre_z;
        for (std::int64_t h = 0; h < side; ++h) {
            const double y = static_cast<double>(h) * 0.8 - centre;
            for (std::int64_t w = 0; w < side; ++w) {
                const double x = static_cast<double>(w) * 0.8 - centre;
                const auto i = static_cast<std::size_t>((d * side + h) * side + w);
                pred[i] = x * x + y * y + z * z <= radius_p * radius_p ? 1 : 0;
                const double xs = x - 0.03 * in_plane;
                const double zs = z + 2.5;
                target[i] = xs * xs + y * y * 1.1 + zs * zs <= radius_t * radius_t ? 1 : 0;
            }
        }
    }
}

struct DistanceTiming {
    std::int64_t side = 0;
    double gpu_ms = 0, cpu_ms = 0, worst = 0;
};

double relative(double a, double b)
{
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b) ? 0.0 : 1.0;
    }
    if (std::isinf(a) || std::isinf(b)) {
        return a == b ? 0.0 : 1.0;
    }
    return std::abs(a - b) / std::max({std::abs(a), std::abs(b), 1e-300});
}

double distance_difference(const SurfaceDistances& a, const SurfaceDistances& b)
{
    return std::max({relative(a.hd, b.hd), relative(a.hd_percentile, b.hd_percentile),
                     relative(a.assd, b.assd), a.pred_surface_voxels == b.pred_surface_voxels ? 0.0 : 1.0,
                     a.target_surface_voxels == b.target_surface_voxels ? 0.0 : 1.0});
}

DistanceTiming time_distances(std::int64_t side, int repetitions)
{
    std::vector<std::uint8_t> pred, target;
    fill_spheres(side, pred, target);
    const MaskGrid grid{side, side, side, 3};
    SurfaceDistanceOptions options; // hd, hd95 (Max rule), assd; nsd needs no extra work
    options.spacing_xyz = {0.8, 0.8, 1.5};
    SampleSurfaceDistances gpu_result, cpu_result;
    DistanceTiming timing;
    timing.side = side;
    gpu_result = gpu::sample_surface_distances_cuda(pred.data(), target.data(), grid, SliceAxis::D, options);
    timing.gpu_ms = time_host(repetitions, [&] {
        gpu_result =
            gpu::sample_surface_distances_cuda(pred.data(), target.data(), grid, SliceAxis::D, options);
    });
    timing.cpu_ms = time_host(repetitions, [&] {
        cpu_result = sample_surface_distances(pred.data(), target.data(), grid, SliceAxis::D, options);
    });
    timing.worst = distance_difference(cpu_result.whole, gpu_result.whole);
    if (cpu_result.slices.size() != gpu_result.slices.size()) {
        timing.worst = 1.0;
    } else {
        for (std::size_t s = 0; s < cpu_result.slices.size(); ++s) {
            timing.worst =
                std::max(timing.worst, distance_difference(cpu_result.slices[s], gpu_result.slices[s]));
        }
    }
    return timing;
}

} // namespace

int main(int argc, char** argv)
{
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int repetitions = quick ? 3 : 10;
    try {
        int count = 0;
        if (cudaGetDeviceCount(&count) != cudaSuccess || count == 0) {
            std::fprintf(stderr, "masklens_bench_gpu: no CUDA device\n");
            return 1;
        }
        cudaDeviceProp properties{};
        check(cudaGetDeviceProperties(&properties, 0), "cudaGetDeviceProperties");
        cudaStream_t stream = nullptr;
        check(cudaStreamCreate(&stream), "cudaStreamCreate");
        std::printf("device: %s (sm_%d%d, %d SMs, %.1f GiB)\n", properties.name, properties.major,
                    properties.minor, properties.multiProcessorCount,
                    static_cast<double>(properties.totalGlobalMem) / (1024.0 * 1024.0 * 1024.0));

        // Inputs: 512^3 and 64 x 128^3 have the same element count.
        const std::int64_t side = quick ? 256 : 512;
        Volume prediction("bench_prediction", ScalarType::Float32, cube(1, side));
        Volume target("bench_target", ScalarType::UInt8, cube(1, side));
        fill(prediction, target);
        const double bytes = static_cast<double>(prediction.byte_size() + target.byte_size());

        // 1. Device-to-device copy of the same number of bytes.
        void* source = nullptr;
        void* destination = nullptr;
        const auto copy_bytes = static_cast<std::size_t>(bytes);
        check(cudaMalloc(&source, copy_bytes), "cudaMalloc copy source");
        check(cudaMalloc(&destination, copy_bytes), "cudaMalloc copy destination");
        check(cudaMemset(source, 1, copy_bytes), "cudaMemset");
        const double copy_ms = time_device(stream, repetitions, [&] {
            check(cudaMemcpyAsync(destination, source, copy_bytes, cudaMemcpyDeviceToDevice, stream), "copy");
        });
        cudaFree(source);
        cudaFree(destination);
        const double copy_bandwidth = 2.0 * bytes / (copy_ms * 1e-3); // read + write

        // 2. The fused kernel, device resident.
        Resident single = upload(prediction, target, stream);
        const double single_ms = kernel_ms(single, stream, repetitions);
        release(single);
        const double single_bandwidth = bytes / (single_ms * 1e-3);

        // 3. A batch of 64 x 128^3 (quick: 8 x 128^3) in one launch.
        const std::int64_t batch = quick ? 8 : 64;
        Volume batch_prediction("bench_batch_prediction", ScalarType::Float32, cube(batch, 128));
        Volume batch_target("bench_batch_target", ScalarType::UInt8, cube(batch, 128));
        fill(batch_prediction, batch_target);
        const double batch_bytes =
            static_cast<double>(batch_prediction.byte_size() + batch_target.byte_size());
        Resident batched = upload(batch_prediction, batch_target, stream);
        const double batch_ms = kernel_ms(batched, stream, repetitions);
        release(batched);
        const double batch_ideal_ms = batch_bytes / copy_bandwidth * 1e3;

        // 4. End to end from host memory against the CPU pass.
        StatisticsOptions options; // every metric
        BatchStatistics gpu_result, cpu_result;
        const double end_to_end_ms = time_host(
            quick ? 2 : 3, [&] { gpu_result = gpu::compute_statistics_cuda(prediction, target, options); });
        const double cpu_ms =
            time_host(quick ? 1 : 3, [&] { cpu_result = compute_statistics(prediction, target, options); });
        double worst = 0;
        for (std::size_t i = 0; i < cpu_result.slices.size(); ++i) {
            const RegionStats& a = cpu_result.slices[i];
            const RegionStats& b = gpu_result.slices[i];
            for (const auto field : {&RegionStats::squared_error, &RegionStats::pred_sum,
                                     &RegionStats::overlap_sum, &RegionStats::bce}) {
                worst = std::max(worst, std::abs(a.*field - b.*field) / std::max(1.0, std::abs(a.*field)));
            }
            if (a.true_positive != b.true_positive || a.pred_positive != b.pred_positive) {
                worst = std::max(worst, 1.0);
            }
        }
        cudaStreamDestroy(stream);

        // 5. Surface distances on two sphere pairs.
        std::vector<DistanceTiming> distances;
        for (const std::int64_t distance_side : {quick ? 128 : 256, quick ? 256 : 512}) {
            distances.push_back(time_distances(distance_side, distance_side >= 512 ? 2 : 3));
        }
        double worst_distance = 0;
        for (const DistanceTiming& timing : distances) {
            worst_distance = std::max(worst_distance, timing.worst);
        }

        const double gib = 1024.0 * 1024.0 * 1024.0;
        std::printf("\n");
        std::printf("| measure (%s) | value | goal |\n", properties.name);
        std::printf("|---|---|---|\n");
        std::printf("| device-to-device copy, %.0f MiB (read+write) | %.1f GiB/s | - |\n",
                    bytes / (1024.0 * 1024.0), copy_bandwidth / gib);
        std::printf(
            "| fused kernel %lld^3 f32+u8, all metrics | %.3f ms, %.1f GiB/s = %.2f of copy | >= 0.80 |\n",
            static_cast<long long>(side), single_ms, single_bandwidth / gib,
            single_bandwidth / copy_bandwidth);
        std::printf(
            "| batch %lld x 128^3 in one launch | %.3f ms = %.2fx bytes/bandwidth (%.3f ms) | <= 1.30x |\n",
            static_cast<long long>(batch), batch_ms, batch_ms / batch_ideal_ms, batch_ideal_ms);
        std::printf("| end to end %lld^3 incl. host-to-device | GPU %.1f ms vs CPU %.1f ms (%.1fx) | - |\n",
                    static_cast<long long>(side), end_to_end_ms, cpu_ms, cpu_ms / end_to_end_ms);
        std::printf("| largest CPU-GPU relative difference (sums) | %.2e | < 1e-6 |\n", worst);
        for (const DistanceTiming& timing : distances) {
            std::printf(
                "| surface distances hd+hd95+assd, sphere pair %lld^3, spacing (0.8,0.8,1.5), sample + "
                "per-slice (D), incl. host-to-device | GPU %.1f ms vs CPU %.1f ms (%.1fx) | - |\n",
                static_cast<long long>(timing.side), timing.gpu_ms, timing.cpu_ms,
                timing.cpu_ms / timing.gpu_ms);
        }
        std::printf("| largest CPU-GPU relative difference (surface distances) | %.2e | < 1e-6 |\n",
                    worst_distance);
        return worst < 1e-6 && worst_distance < 1e-6 ? 0 : 1;
    } catch (const std::exception& error) {
        std::fprintf(stderr, "masklens_bench_gpu: %s\n", error.what());
        return 1;
    }
}
