// The one streaming pass against the cost of merely reading its input.
//
// For cubes of 256^3 and 512^3 voxels (Volume shape [1, 1, D, H, W]) with a
// float32 prediction and a uint8 target, this measures
//   BM_Memcpy            std::memcpy of the prediction and target bytes (one thread): the baseline
//   BM_MemcpyParallel    the same copy split over all hardware threads
//   BM_Statistics_*      masklens::compute_statistics for a metric set (all threads unless "1Thread")
//   BM_Statistics_Logits_1Thread  the default set with the prediction read as logits
//   BM_Evaluate_Default  masklens::evaluate (the pass plus the derived values)
// in one binary and one run, so ratios between them compare like with like.
// Every benchmark reports wall time (UseRealTime: the pass is multithreaded),
// bytes_per_second over the prediction + target bytes and voxels_per_s.
//
// Inputs are deterministic: the target is a union of a few ellipsoidal blobs,
// the prediction a noisy probability map around it (values clamped to [0, 1],
// some of them on the wrong side of the 0.5 threshold).
#include "masklens/engine/evaluate.h"
#include "masklens/engine/metrics.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/volume.h"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace {

using masklens::Metric;

// SplitMix64: a well-mixed 64-bit value for each index.
std::uint64_t mix(std::uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

// Uniform in [0, 1) from the top 24 bits.
float unit_float(std::uint64_t bits)
{
    return static_cast<float>(bits >> 40) * (1.0f / 16777216.0f);
}

struct Blob {
    float cz, cy, cx; // centre, as fractions of the extent
    float rz, ry, rx; // semi-axes, as fractions of the extent
};

constexpr Blob kBlobs[] = {
    {0.30f, 0.35f, 0.40f, 0.16f, 0.12f, 0.14f}, {0.62f, 0.58f, 0.30f, 0.10f, 0.15f, 0.09f},
    {0.50f, 0.25f, 0.72f, 0.12f, 0.08f, 0.11f}, {0.75f, 0.70f, 0.65f, 0.07f, 0.09f, 0.12f},
    {0.20f, 0.78f, 0.22f, 0.06f, 0.06f, 0.06f},
};

struct Inputs {
    masklens::Volume prediction;
    masklens::Volume target;
    std::vector<std::byte> prediction_copy; // memcpy destinations, touched once
    std::vector<std::byte> target_copy;
    std::int64_t voxels = 0;
    std::int64_t bytes = 0; // prediction + target
};

void fill_planes(Inputs& in, std::int64_t edge, std::int64_t begin, std::int64_t end)
{
    auto* p = in.prediction.data_as<float>();
    auto* t = in.target.data_as<std::uint8_t>();
    const auto e = static_cast<float>(edge);
    for (std::int64_t z = begin; z < end; ++z) {
        for (std::int64_t y = 0; y < edge; ++y) {
            for (std::int64_t x = 0; x < edge; ++x) {
                const std::int64_t i = (z * edge + y) * edge + x;
                bool inside = false;
                for (const Blob& b : kBlobs) {
                    const float dz = (static_cast<float>(z) / e - b.cz) / b.rz;
                    const float dy = (static_cast<float>(y) / e - b.cy) / b.ry;
                    const float dx = (static_cast<float>(x) / e - b.cx) / b.rx;
                    inside = inside || dz * dz + dy * dy + dx * dx <= 1.0f;
                }
                const float noise = unit_float(mix(static_cast<std::uint64_t>(i))) - 0.5f;
                const float value = (inside ? 0.75f : 0.2f) + 0.6f * noise;
                p[i] = std::clamp(value, 0.0f, 1.0f);
                t[i] = inside ? 1 : 0;
            }
        }
    }
}

// The inputs of one cube size, built once per process (outside timing).
Inputs& inputs(std::int64_t edge)
{
    static std::map<std::int64_t, std::unique_ptr<Inputs>> cache;
    auto& slot = cache[edge];
    if (!slot) {
        masklens::Shape shape;
        shape.d = shape.h = shape.w = edge;
        shape.spatial_dims = 3;
        slot = std::make_unique<Inputs>();
        Inputs& in = *slot;
        in.prediction = masklens::Volume("bench_prediction", masklens::ScalarType::Float32, shape);
        in.target = masklens::Volume("bench_target", masklens::ScalarType::UInt8, shape);
        in.voxels = shape.elements();
        in.bytes = static_cast<std::int64_t>(in.prediction.byte_size() + in.target.byte_size());
        const std::int64_t workers = std::max(1u, std::thread::hardware_concurrency());
        std::vector<std::thread> threads;
        for (std::int64_t k = 0; k < workers; ++k) {
            threads.emplace_back(fill_planes, std::ref(in), edge, edge * k / workers,
                                 edge * (k + 1) / workers);
        }
        for (auto& thread : threads) {
            thread.join();
        }
        // Zero-filled, so the pages are mapped before any copy is timed.
        in.prediction_copy.assign(in.prediction.byte_size(), std::byte{0});
        in.target_copy.assign(in.target.byte_size(), std::byte{0});
    }
    return *slot;
}

void set_counters(benchmark::State& state, const Inputs& in)
{
    const auto iterations = static_cast<double>(state.iterations());
    state.SetBytesProcessed(state.iterations() * in.bytes);
    state.counters["voxels_per_s"] =
        benchmark::Counter(iterations * static_cast<double>(in.voxels), benchmark::Counter::kIsRate);
}

void BM_Memcpy(benchmark::State& state)
{
    Inputs& in = inputs(state.range(0));
    for (auto _ : state) {
        std::memcpy(in.prediction_copy.data(), in.prediction.data(), in.prediction.byte_size());
        std::memcpy(in.target_copy.data(), in.target.data(), in.target.byte_size());
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
}

// Each thread copies its share of both arrays (threads started per iteration,
// as the pass starts its own per call).
void BM_MemcpyParallel(benchmark::State& state)
{
    Inputs& in = inputs(state.range(0));
    const std::size_t workers = std::max(1u, std::thread::hardware_concurrency());
    auto copy_share = [](std::byte* to, const std::byte* from, std::size_t size, std::size_t k,
                         std::size_t n) {
        const std::size_t begin = size * k / n;
        const std::size_t end = size * (k + 1) / n;
        std::memcpy(to + begin, from + begin, end - begin);
    };
    for (auto _ : state) {
        std::vector<std::thread> threads;
        for (std::size_t k = 0; k + 1 < workers; ++k) {
            threads.emplace_back([&, k] {
                copy_share(in.prediction_copy.data(), in.prediction.data(), in.prediction.byte_size(), k,
                           workers);
                copy_share(in.target_copy.data(), in.target.data(), in.target.byte_size(), k, workers);
            });
        }
        copy_share(in.prediction_copy.data(), in.prediction.data(), in.prediction.byte_size(), workers - 1,
                   workers);
        copy_share(in.target_copy.data(), in.target.data(), in.target.byte_size(), workers - 1, workers);
        for (auto& thread : threads) {
            thread.join();
        }
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
}

masklens::StatisticsOptions options_for(std::vector<Metric> metrics, int threads)
{
    masklens::StatisticsOptions options;
    options.metrics = std::move(metrics);
    options.threads = threads;
    return options;
}

void BM_Statistics(benchmark::State& state, std::vector<Metric> metrics, int threads)
{
    Inputs& in = inputs(state.range(0));
    const masklens::StatisticsOptions options = options_for(std::move(metrics), threads);
    masklens::BatchStatistics result;
    for (auto _ : state) {
        result = masklens::compute_statistics(in.prediction, in.target, options);
        benchmark::DoNotOptimize(result.slices.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
    // Shows that the data is neither empty nor trivial (hard dice of the volume).
    const masklens::RegionStats total = result.sample(0);
    const double dice = 2.0 * static_cast<double>(total.true_positive) /
                        static_cast<double>(total.pred_positive + total.target_positive);
    state.SetLabel("dice=" + std::to_string(dice));
}

// bce against a soft float32 target (t = 0.05 or 0.95): the general
// two-logarithm form, where the uint8 target takes the one-log binary form.
void BM_Statistics_BceSoftTarget(benchmark::State& state)
{
    Inputs& in = inputs(state.range(0));
    static std::map<std::int64_t, masklens::Volume> soft;
    masklens::Volume& target = soft[state.range(0)];
    if (target.byte_size() == 0) {
        target = masklens::Volume("bench_soft_target", masklens::ScalarType::Float32, in.target.shape());
        const auto* hard = in.target.data_as<std::uint8_t>();
        auto* values = target.data_as<float>();
        for (std::int64_t i = 0; i < in.voxels; ++i) {
            values[i] = hard[i] ? 0.95F : 0.05F;
        }
    }
    const masklens::StatisticsOptions options = options_for({Metric::Bce}, 1);
    for (auto _ : state) {
        masklens::BatchStatistics result = masklens::compute_statistics(in.prediction, target, options);
        benchmark::DoNotOptimize(result.slices.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
}

// The default set on the same values read as logits (--logits): sigmoid
// and bce_with_logits instead of the probabilities' logarithm.
void BM_Statistics_Logits(benchmark::State& state)
{
    Inputs& in = inputs(state.range(0));
    masklens::StatisticsOptions options = options_for(masklens::default_metrics(), 1);
    options.metric.activation = masklens::Activation::Sigmoid;
    for (auto _ : state) {
        masklens::BatchStatistics result = masklens::compute_statistics(in.prediction, in.target, options);
        benchmark::DoNotOptimize(result.slices.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
}

void BM_Evaluate_Default(benchmark::State& state)
{
    Inputs& in = inputs(state.range(0));
    const masklens::StatisticsOptions options = options_for(masklens::default_metrics(), 0);
    for (auto _ : state) {
        masklens::Evaluation evaluation = masklens::evaluate(in.prediction, in.target, options);
        benchmark::DoNotOptimize(evaluation.batch.data());
        benchmark::ClobberMemory();
    }
    set_counters(state, in);
}

const std::vector<Metric> kHard = {Metric::Dice, Metric::Iou, Metric::Precision, Metric::Recall};
// The default set without bce, the only metric that takes logarithms.
const std::vector<Metric> kNoBce = {Metric::Mse,  Metric::Mae, Metric::DiceLoss,  Metric::IouLoss,
                                    Metric::Dice, Metric::Iou, Metric::Precision, Metric::Recall};

void sizes(benchmark::internal::Benchmark* b)
{
    b->Arg(256)->Arg(512)->Unit(benchmark::kMillisecond)->UseRealTime();
}

} // namespace

BENCHMARK(BM_Memcpy)->Apply(sizes);
BENCHMARK(BM_MemcpyParallel)->Apply(sizes);
BENCHMARK_CAPTURE(BM_Statistics, Default, masklens::default_metrics(), 0)
    ->Name("BM_Statistics_Default")
    ->Apply(sizes);
BENCHMARK_CAPTURE(BM_Statistics, Default1Thread, masklens::default_metrics(), 1)
    ->Name("BM_Statistics_Default_1Thread")
    ->Apply(sizes);
BENCHMARK_CAPTURE(BM_Statistics, NoBce, kNoBce, 0)->Name("BM_Statistics_NoBce")->Apply(sizes);
// bce alone on one thread: the cost of its logarithms (binary and soft targets).
BENCHMARK_CAPTURE(BM_Statistics, Bce1Thread, std::vector<Metric>{Metric::Bce}, 1)
    ->Name("BM_Statistics_Bce_1Thread")
    ->Apply(sizes);
BENCHMARK(BM_Statistics_BceSoftTarget)->Name("BM_Statistics_BceSoftTarget_1Thread")->Apply(sizes);
BENCHMARK(BM_Statistics_Logits)->Name("BM_Statistics_Logits_1Thread")->Apply(sizes);
BENCHMARK_CAPTURE(BM_Statistics, Hard, kHard, 0)->Name("BM_Statistics_Hard")->Apply(sizes);
BENCHMARK(BM_Evaluate_Default)->Apply(sizes);

BENCHMARK_MAIN();
