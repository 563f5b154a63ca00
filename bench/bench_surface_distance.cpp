// Google Benchmark: surface-distance metrics (hd, hd95, assd, nsd) on the CPU.
//   BM_SurfaceDistance3D/N/M   one 3D evaluation of two offset sphere-like masks
//                              on an N^3 grid with spacing (0.8, 0.8, 1.5) mm
//   BM_SurfaceDistanceSlices/N/M  the same pair, per-slice values along D (one pass)
//   BM_SurfaceDistanceNoise/N/M   worst case: random masks (surface ~ the whole volume)
//   BM_DistanceTransform/N     the squared EDT alone on the spheres' bounding box
//   BM_SurfaceDistanceSubvoxel/N/M  the spheres with --surface subvoxel (DeepMind's
//                              area-weighted corner surfels)
// M picks the method (SurfaceDistanceOptions::search): 0 Auto (what
// the CLI does), 1 the two EDTs forced, 2 the k-d tree search forced; the values
// are the same either way.
// Not registered as a test; built with the other benchmarks (bench/CMakeLists.txt).
#include "masklens/engine/distance_transform.h"
#include "masklens/engine/surface_distance.h"

#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <random>
#include <vector>

using namespace masklens;

namespace {

constexpr std::array<double, 3> kSpacing{0.8, 0.8, 1.5};

struct Pair {
    MaskGrid grid;
    std::vector<std::uint8_t> pred, target;
};

Pair spheres(std::int64_t n)
{
    Pair p{MaskGrid{n, n, n, 3}, {}, {}};
    p.pred.resize(static_cast<std::size_t>(n * n * n));
    p.target.resize(p.pred.size());
    const double c = static_cast<double>(n) / 2.0;
    const double r = 0.28 * static_cast<double>(n); // mm
    for (std::int64_t d = 0; d < n; ++d) {
        for (std::int64_t h = 0; h < n; ++h) {
            for (std::int64_t w = 0; w < n; ++w) {
                const double x = (static_cast<double>(w) - c) * kSpacing[0];
                const double y = (static_cast<double>(h) - c) * kSpacing[1];
                const double z = (static_cast<double>(d) - c) * kSpacing[2];
                const double x2 = x - 3 * kSpacing[0];
                const double y2 = y + 2 * kSpacing[1];
                const double z2 = z - kSpacing[2];
                const auto i = static_cast<std::size_t>((d * n + h) * n + w);
                p.pred[i] = x * x + y * y + z * z <= r * r;
                p.target[i] = x2 * x2 + y2 * y2 + z2 * z2 <= 1.1025 * r * r;
            }
        }
    }
    return p;
}

Pair noise(std::int64_t n)
{
    Pair p{MaskGrid{n, n, n, 3}, {}, {}};
    p.pred.resize(static_cast<std::size_t>(n * n * n));
    p.target.resize(p.pred.size());
    std::mt19937 rng(1);
    for (std::size_t i = 0; i < p.pred.size(); ++i) {
        const auto bits = rng();
        p.pred[i] = (bits & 1) != 0;
        p.target[i] = (bits & 2) != 0;
    }
    return p;
}

// Second benchmark argument: 0 Auto, 1 forced EDT, 2 forced k-d tree search.
SurfaceSearch search_of(std::int64_t arg)
{
    return arg == 1   ? SurfaceSearch::DistanceTransform
           : arg == 2 ? SurfaceSearch::NearestNeighbour
                      : SurfaceSearch::Auto;
}

SurfaceDistanceOptions options(std::int64_t search = 0)
{
    SurfaceDistanceOptions o;
    o.search = search_of(search);
    o.spacing_xyz = kSpacing;
    o.nsd_tolerance_mm = 1.0;
    // MASKLENS_BENCH_THREADS=1 measures one thread's cost, steadier than
    // wall time on a machine whose other core is busy.
    if (const char* threads = std::getenv("MASKLENS_BENCH_THREADS")) {
        o.threads = std::atoi(threads);
    }
    return o;
}

void BM_SurfaceDistance3D(benchmark::State& state)
{
    const Pair p = spheres(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            surface_distances(p.pred.data(), p.target.data(), p.grid, options(state.range(1))));
    }
    state.SetItemsProcessed(state.iterations() * p.grid.voxels());
}

void BM_SurfaceDistanceSlices(benchmark::State& state)
{
    const Pair p = spheres(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(surface_distances_per_slice(p.pred.data(), p.target.data(), p.grid,
                                                             SliceAxis::D, options(state.range(1))));
    }
    state.SetItemsProcessed(state.iterations() * p.grid.voxels());
}

void BM_SurfaceDistanceNoise(benchmark::State& state)
{
    const Pair p = noise(state.range(0));
    for (auto _ : state) {
        benchmark::DoNotOptimize(
            surface_distances(p.pred.data(), p.target.data(), p.grid, options(state.range(1))));
    }
    state.SetItemsProcessed(state.iterations() * p.grid.voxels());
}

void BM_DistanceTransform(benchmark::State& state)
{
    const Pair p = spheres(state.range(0));
    EdtGrid grid;
    grid.extent_dhw = {p.grid.d, p.grid.h, p.grid.w};
    grid.spacing_xyz = kSpacing;
    std::vector<double> out(p.pred.size());
    for (auto _ : state) {
        squared_distance_transform(p.target.data(), grid, out.data());
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(state.iterations() * p.grid.voxels());
}

void BM_SurfaceDistanceSubvoxel(benchmark::State& state)
{
    const Pair p = spheres(state.range(0));
    auto o = options(state.range(1));
    o.surface = SurfaceMode::Subvoxel;
    for (auto _ : state) {
        benchmark::DoNotOptimize(surface_distances(p.pred.data(), p.target.data(), p.grid, o));
    }
    state.SetItemsProcessed(state.iterations() * p.grid.voxels());
}

} // namespace

// Arguments: N, then the method (0 Auto, 1 EDT, 2 k-d tree).
BENCHMARK(BM_SurfaceDistance3D)
    ->ArgsProduct({{128, 256, 512}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SurfaceDistanceSlices)
    ->ArgsProduct({{128, 256, 512}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_SurfaceDistanceNoise)
    ->ArgsProduct({{128, 256}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_DistanceTransform)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_SurfaceDistanceSubvoxel)
    ->ArgsProduct({{128, 256}, {0, 1, 2}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

BENCHMARK_MAIN();
