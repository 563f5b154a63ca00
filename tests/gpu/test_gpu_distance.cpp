// The CUDA surface distances (gpu/include/masklens/gpu/cuda_surface_distance.h).
//
// Host tests, run everywhere (no GPU needed):
//   * the shared line solvers (masklens::edt) driven as the kernels drive
//     them (strided lines, scratch interleaved across threads) equal the
//     CPU transform bit for bit, with the rounding the probe detects;
//   * a host emulation of the whole device pipeline, which runs the kernels'
//     own per-thread bodies (surface_kernel_bodies.h) for every thread index
//     of every launch and the host steps of solve() (the pass sequence, the
//     grouped scan order, per-tile and per-group counts, the compaction, the
//     summaries of summarize_device_groups), equals sample_surface_distances
//     bit for bit on random, sphere-like and degenerate masks;
//   * workspace layout, the engine's injection point (StatisticsOptions::
//     surface_distances), the CPU fallback of subvoxel mode and the clean
//     failure of the device entry point without CUDA.
// Device tests (QSKIP without a CUDA build or device): the device against the
// CPU, every metric to 1e-6 relative (NaN and +inf identical, counts exact),
// per sample and per slice along each axis, 2D, anisotropic spacing, empty and
// one-empty masks, and per label through evaluate_on("cuda").
#include "gpu_test_support.h"
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/engine/surface_distance.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"
#include "masklens/gpu/surface_kernel_bodies.h"
#include "masklens/gpu/surface_kernel_math.h"
#include "masklens/gpu/surface_plan.h"

#include <QtTest>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

using namespace masklens;

namespace {

// ---- masks ------------------------------------------------------------------------------------

struct MaskPair {
    MaskGrid grid;
    std::vector<std::uint8_t> pred, target;
};

enum class Pattern { Random, Spheres, OneVoxel, Empty, PredOnly, TargetOnly };

// An ellipsoid of `radius` voxels around (cd, ch, cw), scaled per axis.
void fill_ellipsoid(std::vector<std::uint8_t>& mask, const MaskGrid& grid, double cd, double ch, double cw,
                    double radius, const std::array<double, 3>& scale)
{
    for (std::int64_t d = 0; d < grid.d; ++d) {
        for (std::int64_t h = 0; h < grid.h; ++h) {
            for (std::int64_t w = 0; w < grid.w; ++w) {
                const double x = (static_cast<double>(d) - cd) * scale[0];
                const double y = (static_cast<double>(h) - ch) * scale[1];
                const double z = (static_cast<double>(w) - cw) * scale[2];
                if (x * x + y * y + z * z <= radius * radius) {
                    mask[static_cast<std::size_t>((d * grid.h + h) * grid.w + w)] = 1;
                }
            }
        }
    }
}

MaskPair make_pair(const MaskGrid& grid, Pattern pattern, unsigned seed, double density = 0.3)
{
    MaskPair pair;
    pair.grid = grid;
    const auto voxels = static_cast<std::size_t>(grid.voxels());
    pair.pred.assign(voxels, 0);
    pair.target.assign(voxels, 0);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    switch (pattern) {
    case Pattern::Random:
        for (std::size_t i = 0; i < voxels; ++i) {
            pair.pred[i] = unit(rng) < density ? 1 : 0;
            pair.target[i] = unit(rng) < density ? 1 : 0;
        }
        break;
    case Pattern::Spheres: {
        const auto centre = [&](std::int64_t extent) { return static_cast<double>(extent) * unit(rng); };
        const double radius = 0.3 * static_cast<double>(std::max({grid.d, grid.h, grid.w}));
        fill_ellipsoid(pair.pred, grid, centre(grid.d), centre(grid.h), centre(grid.w), radius,
                       {1.0, 1.1, 0.9});
        fill_ellipsoid(pair.target, grid, centre(grid.d), centre(grid.h), centre(grid.w), radius * 0.8,
                       {1.2, 1.0, 1.0});
        break;
    }
    case Pattern::OneVoxel:
        pair.pred[rng() % voxels] = 1;
        pair.target[rng() % voxels] = 1;
        break;
    case Pattern::Empty: break;
    case Pattern::PredOnly:
        for (std::size_t i = 0; i < voxels; ++i) {
            pair.pred[i] = unit(rng) < density ? 1 : 0;
        }
        break;
    case Pattern::TargetOnly:
        for (std::size_t i = 0; i < voxels; ++i) {
            pair.target[i] = unit(rng) < density ? 1 : 0;
        }
        break;
    }
    return pair;
}

MaskGrid grid_of(std::int64_t d, std::int64_t h, std::int64_t w, int dims = 3)
{
    MaskGrid grid;
    grid.d = d;
    grid.h = h;
    grid.w = w;
    grid.spatial_dims = dims;
    return grid;
}

SurfaceDistanceOptions options_with(const std::array<double, 3>& spacing_xyz,
                                    HausdorffRule rule = HausdorffRule::Max)
{
    SurfaceDistanceOptions options;
    options.spacing_xyz = spacing_xyz;
    options.nsd_tolerance_mm = 1.5;
    options.rule = rule;
    options.threads = 2;
    return options;
}

// ---- comparison -------------------------------------------------------------------------------

// Same value: both NaN, equal (infinities included), or within `tolerance`
// relative to the larger magnitude.
bool same_value(double a, double b, double tolerance)
{
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b);
    }
    if (std::isinf(a) || std::isinf(b)) {
        return a == b;
    }
    return std::abs(a - b) <= tolerance * std::max(std::abs(a), std::abs(b));
}

// Empty when every field agrees, else the first difference.
std::string difference(const SurfaceDistances& cpu, const SurfaceDistances& other, double tolerance)
{
    const std::pair<const char*, double SurfaceDistances::*> fields[] = {
        {"hd", &SurfaceDistances::hd},
        {"hd_percentile", &SurfaceDistances::hd_percentile},
        {"assd", &SurfaceDistances::assd},
        {"nsd", &SurfaceDistances::nsd},
        {"percentile_pred_to_target", &SurfaceDistances::percentile_pred_to_target},
        {"percentile_target_to_pred", &SurfaceDistances::percentile_target_to_pred},
        {"mean_pred_to_target", &SurfaceDistances::mean_pred_to_target},
        {"mean_target_to_pred", &SurfaceDistances::mean_target_to_pred},
    };
    for (const auto& [name, field] : fields) {
        if (!same_value(cpu.*field, other.*field, tolerance)) {
            return std::string(name) + ": CPU " + std::to_string(cpu.*field) + ", other " +
                   std::to_string(other.*field);
        }
    }
    if (cpu.pred_surface_voxels != other.pred_surface_voxels ||
        cpu.target_surface_voxels != other.target_surface_voxels) {
        return "surface voxel counts differ";
    }
    return {};
}

std::string difference(const SampleSurfaceDistances& cpu, const SampleSurfaceDistances& other,
                       double tolerance)
{
    if (std::string why = difference(cpu.whole, other.whole, tolerance); !why.empty()) {
        return "whole sample: " + why;
    }
    if (cpu.slices.size() != other.slices.size()) {
        return "slice count " + std::to_string(cpu.slices.size()) + " vs " +
               std::to_string(other.slices.size());
    }
    for (std::size_t s = 0; s < cpu.slices.size(); ++s) {
        if (std::string why = difference(cpu.slices[s], other.slices[s], tolerance); !why.empty()) {
            return "slice " + std::to_string(s) + ": " + why;
        }
    }
    return {};
}

// ---- the device pipeline, emulated on the host ------------------------------------------------
//
// The kernels' own per-thread bodies (gpu/internal/masklens/gpu/
// surface_kernel_bodies.h) run here for every thread index the launches
// cover, one thread after the other; only the launch plumbing is the test's.
// A serial order gives what the device gives: the threads of a pass write
// disjoint voxels, lines and scratch columns, and the atomicAdds into the
// group counts are integer sums. CUB's block reduction is emulated by a plain
// sum over the block's threads, its block exclusive scan and
// cub::DeviceScan::ExclusiveSum by a serial exclusive scan in thread (tile)
// order: integer sums, so the same values as CUB's tree order.

// atomicAdd on the host: one thread at a time.
const auto host_add = [](gpu::SurfaceCount* at, gpu::SurfaceCount value) { *at += value; };

// The envelope scratch of `bytes` bytes, as the device workspace holds it:
// raw storage (doubles and int64 vertices side by side, as
// envelope_scratch carves it; malloc's storage creates either implicitly).
struct RawScratch {
    explicit RawScratch(std::size_t bytes) : data(static_cast<double*>(std::malloc(bytes > 0 ? bytes : 1))) {}
    RawScratch(const RawScratch&) = delete;
    RawScratch& operator=(const RawScratch&) = delete;
    ~RawScratch() { std::free(data); }
    double* data;
};

// Whether scratch word `word` (8 bytes from `base`) lies in thread t's
// columns: element k of each of the thread's arrays at [k * threads + t]
// (f, g and v hold n elements, z n + 1).
bool own_scratch_word(const gpu::EnvelopeScratch& s, const double* base, std::int64_t n, std::int64_t threads,
                      std::int64_t t, std::int64_t word)
{
    const std::int64_t starts[4] = {s.f - base, s.z - base, s.g - base,
                                    reinterpret_cast<const double*>(s.v) - base};
    const std::int64_t lengths[4] = {n, n + 1, n, n};
    for (int a = 0; a < 4; ++a) {
        const std::int64_t at = word - starts[a];
        if (at >= 0 && at < lengths[a] * threads) {
            return at % threads == t;
        }
    }
    return false;
}

// Passes with at most this many envelope threads check scratch ownership.
constexpr std::int64_t kCheckedThreads = 16;

// transform() of surface_kernels.cu: the binary pass, one thread per line,
// then each envelope pass with envelope_threads threads. On the device these
// threads run at once; one after the other, a thread that wrote into another
// thread's scratch columns would go unnoticed (each line writes its scratch
// before reading it), so with few threads each one starts on a scratch filled
// with a marker and may change only its own columns (else std::logic_error).
template <class MulAdd>
void emulate_transform(const gpu::SurfaceProblem& problem, const std::vector<std::uint8_t>& surface,
                       std::uint8_t bit, std::vector<double>& dist, std::size_t scratch_bytes)
{
    const gpu::PassSequence sequence = gpu::pass_sequence(problem);
    const gpu::LineLayout binary = gpu::line_layout(problem, sequence.binary_axis);
    for (std::int64_t line = 0; line < binary.lines; ++line) {
        gpu::binary_line_body(surface.data(), bit, dist.data(), binary, problem.spacing[sequence.binary_axis],
                              line);
    }
    for (int e = 0; e < sequence.envelope_count; ++e) {
        const int axis = sequence.envelope_axes[e];
        const gpu::LineLayout layout = gpu::line_layout(problem, axis);
        const std::int64_t threads = gpu::envelope_threads(layout, scratch_bytes);
        const std::size_t bytes =
            gpu::envelope_bytes_per_thread(layout.n) * static_cast<std::size_t>(threads);
        const RawScratch scratch(bytes);
        const bool checked = threads <= kCheckedThreads;
        constexpr unsigned char kMarker = 0xA5;
        for (std::int64_t t = 0; t < threads; ++t) {
            if (checked) {
                std::memset(scratch.data, kMarker, bytes);
            }
            gpu::envelope_thread_body<MulAdd>(dist.data(), layout, problem.spacing[axis], scratch.data,
                                              threads, t);
            if (!checked) {
                continue;
            }
            const gpu::EnvelopeScratch s = gpu::envelope_scratch(scratch.data, layout.n, threads);
            const auto* raw = reinterpret_cast<const unsigned char*>(scratch.data);
            for (std::size_t word = 0; word < bytes / 8; ++word) {
                bool changed = false;
                for (std::size_t b = 0; b < 8; ++b) {
                    changed = changed || raw[word * 8 + b] != kMarker;
                }
                if (changed && !own_scratch_word(s, scratch.data, layout.n, threads, t,
                                                 static_cast<std::int64_t>(word))) {
                    throw std::logic_error("envelope thread " + std::to_string(t) + " of " +
                                           std::to_string(threads) + " wrote outside its scratch columns");
                }
            }
        }
    }
}

// Room past the end of each distance array, filled with a poison value: a
// gather that writes past its count changes it.
constexpr std::size_t kSlack = static_cast<std::size_t>(gpu::kSurfaceTile);

bool is_poison(double x)
{
    return std::isnan(x) && std::signbit(x);
}

// One problem (solve() in cuda_surface_distance.cpp with the kernels of
// extract_surfaces and surface_directed_distances emulated). Throws
// std::logic_error where the kernels' results break what the host relies on.
std::vector<SurfaceDistances> emulate_problem(const gpu::CroppedMasks& crop, gpu::SurfaceProblem problem,
                                              std::int64_t grid_groups, const SurfaceDistanceOptions& options,
                                              std::size_t scratch_budget)
{
    problem.inside = crop.inside.data();
    const gpu::SurfaceWorkspace layout = gpu::surface_workspace(problem, 0, scratch_budget);
    const std::int64_t voxels = problem.voxels();
    const std::int64_t tiles = layout.tiles;
    const std::int64_t entries = tiles + 1;
    const std::int64_t groups = layout.groups;

    // extract_surfaces: surface_kernel, one thread per voxel...
    std::vector<std::uint8_t> surface(static_cast<std::size_t>(voxels));
    for (std::int64_t i = 0; i < voxels; ++i) {
        gpu::surface_voxel_body(problem, surface.data(), i);
    }
    // ...count_kernel, one block of kSurfaceBlock threads per tile (counts and
    // groups cleared first, as the memsets do)...
    std::vector<gpu::SurfaceCount> counts(static_cast<std::size_t>(2 * entries), 0);
    std::vector<gpu::SurfaceCount> group_counts(static_cast<std::size_t>(2 * groups), 0);
    for (std::int64_t tile = 0; tile < tiles; ++tile) {
        gpu::SurfaceCounts block;
        for (int thread = 0; thread < gpu::kSurfaceBlock; ++thread) {
            const gpu::SurfaceCounts mine = gpu::count_thread_body(problem, surface.data(), tile, thread,
                                                                   groups, group_counts.data(), host_add);
            block.pred += mine.pred; // cub::BlockReduce::Sum
            block.target += mine.target;
        }
        gpu::count_tile_body(problem, tile, tiles, block, counts.data(), group_counts.data(), host_add);
    }
    // ...and cub::DeviceScan::ExclusiveSum over each side's tiles + 1 counts.
    std::vector<gpu::SurfaceCount> sums(counts.size());
    for (std::int64_t side = 0; side < 2; ++side) {
        gpu::SurfaceCount running = 0;
        for (std::int64_t e = 0; e < entries; ++e) {
            sums[static_cast<std::size_t>(side * entries + e)] = running;
            running += counts[static_cast<std::size_t>(side * entries + e)];
        }
    }

    // The host: totals from the group counts, as solve() reads them.
    std::uint64_t np = 0;
    std::uint64_t nt = 0;
    for (std::int64_t g = 0; g < groups; ++g) {
        np += group_counts[static_cast<std::size_t>(g)];
        nt += group_counts[static_cast<std::size_t>(groups + g)];
    }
    if (sums[static_cast<std::size_t>(tiles)] != np ||
        sums[static_cast<std::size_t>(entries + tiles)] != nt) {
        throw std::logic_error("the tile sums' totals differ from the group counts' totals");
    }
    const bool transform = np > 0 && nt > 0;
    std::vector<double> pred_to_target(np, HUGE_VAL);
    std::vector<double> target_to_pred(nt, HUGE_VAL);
    if (transform) {
        // surface_directed_distances: per side, the transform, then
        // gather_kernel, one block per tile, into poisoned arrays.
        std::vector<double>* out[2] = {&pred_to_target, &target_to_pred};
        std::vector<double> dist(static_cast<std::size_t>(voxels));
        for (int side = 0; side < 2; ++side) {
            const gpu::DirectedSide direction = gpu::directed_side(side);
            if (problem.fused) {
                emulate_transform<edt::FusedMulAdd>(problem, surface, direction.feature, dist,
                                                    layout.scratch_bytes);
            } else {
                emulate_transform<edt::ContractibleMulAdd>(problem, surface, direction.feature, dist,
                                                           layout.scratch_bytes);
            }
            std::vector<double>& values = *out[side];
            const std::size_t count = values.size();
            values.assign(count + kSlack, -std::numeric_limits<double>::quiet_NaN());
            const gpu::SurfaceCount* side_sums = sums.data() + side * entries;
            std::vector<std::int64_t> index(static_cast<std::size_t>(gpu::kSurfaceTile));
            std::vector<gpu::SurfaceCount> mine(static_cast<std::size_t>(gpu::kSurfaceBlock));
            for (std::int64_t tile = 0; tile < tiles; ++tile) {
                for (int thread = 0; thread < gpu::kSurfaceBlock; ++thread) {
                    mine[static_cast<std::size_t>(thread)] =
                        gpu::gather_select_body(problem, surface.data(), direction.read, tile, thread,
                                                index.data() + thread * gpu::kSurfaceItems);
                }
                gpu::SurfaceCount offset = 0; // cub::BlockScan::ExclusiveSum
                for (int thread = 0; thread < gpu::kSurfaceBlock; ++thread) {
                    gpu::gather_write_body(dist.data(), index.data() + thread * gpu::kSurfaceItems, side_sums,
                                           tile, offset, values.data());
                    offset += mine[static_cast<std::size_t>(thread)];
                }
            }
            for (std::size_t k = 0; k < values.size(); ++k) {
                if (is_poison(values[k]) != (k >= count)) {
                    throw std::logic_error(k >= count ? "a gather wrote past its side's count"
                                                      : "a gather left a distance unwritten");
                }
            }
            values.resize(count);
        }
    }
    const std::vector<std::uint64_t> group_counts64(group_counts.begin(), group_counts.end());
    return gpu::summarize_device_groups(crop.box, problem.group_axis, grid_groups, group_counts64,
                                        pred_to_target, target_to_pred, options);
}

// sample_surface_distances_cuda's steps with the kernels emulated; scratch_budget
// bounds the envelope scratch as the device's scratch budget (a share of the
// memory budget) does, so that small budgets make threads share lines.
SampleSurfaceDistances emulate_device(const MaskPair& pair, SliceAxis axis,
                                      const SurfaceDistanceOptions& options, std::size_t scratch_budget)
{
    const MaskGrid& grid = pair.grid;
    const gpu::CroppedMasks crop =
        crop_mask_pair(pair.pred.data(), pair.target.data(), {grid.d, grid.h, grid.w}, options.threads);
    if (crop.box.empty()) {
        return gpu::empty_sample(grid, axis, options);
    }
    const gpu::SamplePlan plan =
        gpu::plan_sample(crop.box, grid, axis, options, gpu::cpu_transform_fuses_multiply_add());
    SampleSurfaceDistances out;
    out.whole = emulate_problem(crop, plan.whole, 1, options, scratch_budget).front();
    out.slices = plan.three_d ? emulate_problem(crop, plan.per_slice, plan.slices, options, scratch_budget)
                              : std::vector<SurfaceDistances>{out.whole};
    return out;
}

// A uint8 label-map pair of shape [n, 1, d, h, w], every value (prediction,
// then target, voxel by voxel) drawn from next().
template <class Next>
std::pair<Volume, Volume> random_label_maps(const std::array<std::int64_t, 4>& ndhw, const Next& next)
{
    Shape shape;
    shape.n = ndhw[0];
    shape.d = ndhw[1];
    shape.h = ndhw[2];
    shape.w = ndhw[3];
    shape.spatial_dims = 3;
    std::pair<Volume, Volume> pair{Volume("pred", ScalarType::UInt8, shape),
                                   Volume("target", ScalarType::UInt8, shape)};
    for (std::int64_t i = 0; i < shape.elements(); ++i) {
        pair.first.data_as<std::uint8_t>()[i] = next();
        pair.second.data_as<std::uint8_t>()[i] = next();
    }
    return pair;
}

// The cases every parity test runs: awkward sizes, all patterns.
struct Case {
    const char* name;
    MaskGrid grid;
    Pattern pattern;
    std::array<double, 3> spacing;
    double density;
};

std::vector<Case> cases()
{
    const std::array<double, 3> iso{1.0, 1.0, 1.0};
    const std::array<double, 3> aniso{0.8, 0.8, 1.5};
    const std::array<double, 3> odd{0.7, 1.3, 2.1};
    return {
        {"1 voxel grid", grid_of(1, 1, 1), Pattern::OneVoxel, iso, 0.5},
        {"one voxel each, 3D", grid_of(7, 11, 13), Pattern::OneVoxel, aniso, 0.5},
        {"random primes", grid_of(13, 17, 19), Pattern::Random, aniso, 0.3},
        {"sparse random primes", grid_of(11, 23, 7), Pattern::Random, odd, 0.03},
        {"spheres 31x29x37", grid_of(31, 29, 37), Pattern::Spheres, aniso, 0.0},
        {"spheres flat 3x41x43", grid_of(3, 41, 43), Pattern::Spheres, odd, 0.0},
        {"3D one slice", grid_of(1, 19, 23), Pattern::Random, aniso, 0.4},
        {"2D random", grid_of(1, 29, 31, 2), Pattern::Random, odd, 0.2},
        {"2D spheres", grid_of(1, 53, 47, 2), Pattern::Spheres, aniso, 0.0},
        {"2D one voxel each", grid_of(1, 5, 3, 2), Pattern::OneVoxel, iso, 0.0},
        {"empty", grid_of(5, 6, 7), Pattern::Empty, aniso, 0.0},
        {"prediction only", grid_of(9, 8, 7), Pattern::PredOnly, aniso, 0.2},
        {"target only", grid_of(6, 5, 11), Pattern::TargetOnly, odd, 0.2},
        {"line 1x1x37", grid_of(1, 1, 37), Pattern::Random, iso, 0.2},
        {"line 37x1x1", grid_of(37, 1, 1), Pattern::Random, odd, 0.2},
    };
}

// Case `index` sliced along `axis` (0 D, 1 H, 2 W), for each Hausdorff rule:
// check(pair, slicing axis, options, the CPU's values). A failed check ends
// its own call (QVERIFY returns from it) and fails the test.
template <class Check> void for_each_rule(int index, int axis, const Check& check)
{
    const Case c = cases()[static_cast<std::size_t>(index)];
    const MaskPair pair = make_pair(c.grid, c.pattern, 100u + static_cast<unsigned>(index), c.density);
    const SliceAxis slice_axis = axis == 0 ? SliceAxis::D : axis == 1 ? SliceAxis::H : SliceAxis::W;
    for (const HausdorffRule rule : {HausdorffRule::Max, HausdorffRule::Pooled, HausdorffRule::Mean}) {
        const SurfaceDistanceOptions options = options_with(c.spacing, rule);
        const SampleSurfaceDistances cpu =
            sample_surface_distances(pair.pred.data(), pair.target.data(), pair.grid, slice_axis, options);
        check(pair, slice_axis, options, cpu);
    }
}

} // namespace

class GpuDistanceTest : public QObject {
    Q_OBJECT

private slots:
    // The line solvers, driven as the kernels drive them, equal the CPU
    // transform (same rounding as the probe found) bit for bit.
    void lineSolversMatchCpuTransform()
    {
        const bool fused = gpu::cpu_transform_fuses_multiply_add();
        std::mt19937 rng(7);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int trial = 0; trial < 200; ++trial) {
            const std::int64_t d = 1 + rng() % 9, h = 1 + rng() % 13, w = 1 + rng() % 17;
            gpu::SurfaceProblem problem;
            problem.extent[0] = d;
            problem.extent[1] = h;
            problem.extent[2] = w;
            for (int a = 0; a < 3; ++a) {
                problem.spacing[a] = 0.3 + 2.0 * unit(rng);
            }
            const int excluded = static_cast<int>(rng() % 4); // 3: none
            for (int a = 0; a < 3; ++a) {
                problem.axes[a] = a != excluded;
            }
            problem.fused = fused;
            std::vector<std::uint8_t> feature(static_cast<std::size_t>(d * h * w));
            const double density = unit(rng) * 0.3;
            for (auto& f : feature) {
                f = unit(rng) < density ? static_cast<std::uint8_t>(1 + rng() % 3) : 0;
            }
            const EdtGrid grid{{d, h, w},
                               {problem.spacing[2], problem.spacing[1], problem.spacing[0]},
                               {problem.axes[0], problem.axes[1], problem.axes[2]}};
            const std::vector<double> cpu = squared_distance_transform(feature.data(), grid, 1, 2);
            std::vector<double> emulated(cpu.size());
            // Few scratch threads: lines are shared between threads as on the device.
            const std::size_t scratch = gpu::envelope_bytes_per_thread(std::max({d, h, w})) * (1 + rng() % 5);
            try {
                if (fused) {
                    emulate_transform<edt::FusedMulAdd>(problem, feature, 2, emulated, scratch);
                } else {
                    emulate_transform<edt::ContractibleMulAdd>(problem, feature, 2, emulated, scratch);
                }
            } catch (const std::logic_error& broken) {
                QFAIL(broken.what());
            }
            QVERIFY2(std::memcmp(cpu.data(), emulated.data(), cpu.size() * sizeof(double)) == 0,
                     qPrintable(QString("trial %1: %2x%3x%4").arg(trial).arg(d).arg(h).arg(w)));
        }
    }

    // The envelope solver's values are the exact minimum up to rounding
    // (brute force), for either rounding.
    void envelopeIsTheLowerEnvelope()
    {
        std::mt19937 rng(11);
        std::uniform_real_distribution<double> unit(0.0, 1.0);
        for (int trial = 0; trial < 300; ++trial) {
            const std::int64_t n = 1 + rng() % 40;
            const double spacing = 0.2 + 3.0 * unit(rng);
            std::vector<double> f(static_cast<std::size_t>(n));
            for (auto& x : f) {
                x = unit(rng) < 0.3 ? HUGE_VAL : 50.0 * unit(rng);
            }
            std::vector<double> out(f.size()), z(f.size() + 1), g(f.size());
            std::vector<std::int64_t> v(f.size());
            edt::envelope_line<edt::FusedMulAdd>([&](std::int64_t q) { return f[q]; }, n, spacing,
                                                 [&](std::int64_t p) -> double& { return out[p]; },
                                                 [&](std::int64_t k) -> std::int64_t& { return v[k]; },
                                                 [&](std::int64_t k) -> double& { return z[k]; },
                                                 [&](std::int64_t k) -> double& { return g[k]; });
            for (std::int64_t p = 0; p < n; ++p) {
                double best = HUGE_VAL;
                for (std::int64_t q = 0; q < n; ++q) {
                    const double step = static_cast<double>(p - q) * spacing;
                    best = std::min(best, step * step + f[q]);
                }
                QVERIFY(same_value(best, out[p], 1e-12));
            }
        }
    }

    void roundingProbeIsStable()
    {
        // Cached, and consistent with what the transform computes for a
        // single feature voxel (checked in lineSolversMatchCpuTransform).
        const bool fused = gpu::cpu_transform_fuses_multiply_add();
        qInfo("the CPU transform rounds a * b + c %s", fused ? "once (FMA)" : "twice (plain)");
        QCOMPARE(gpu::cpu_transform_fuses_multiply_add(), fused);
    }

    void groupedOrderIsScanOrderPerGroup()
    {
        const std::int64_t extent[3] = {3, 4, 5};
        for (int group_axis = -1; group_axis < 3; ++group_axis) {
            std::vector<int> seen(60, 0);
            std::int64_t previous_group = 0;
            std::vector<std::int64_t> last_in_group(5, -1);
            for (std::int64_t k = 0; k < 60; ++k) {
                std::int64_t group = -1;
                const std::int64_t i = gpu::grouped_position_to_index(k, extent, group_axis, &group);
                QVERIFY(i >= 0 && i < 60);
                ++seen[static_cast<std::size_t>(i)];
                const std::int64_t coordinate[3] = {i / 20, (i / 5) % 4, i % 5};
                QCOMPARE(group, group_axis < 0 ? 0 : coordinate[group_axis]);
                QVERIFY(group >= previous_group); // groups contiguous, ascending
                previous_group = group;
                QVERIFY(i > last_in_group[static_cast<std::size_t>(group)]); // scan order within a group
                last_in_group[static_cast<std::size_t>(group)] = i;
            }
            for (const int count : seen) {
                QCOMPARE(count, 1);
            }
        }
    }

    void workspaceLayout()
    {
        gpu::SurfaceProblem problem;
        problem.extent[0] = 17;
        problem.extent[1] = 300;
        problem.extent[2] = 9;
        problem.axes[1] = false;
        problem.group_axis = 1;
        QVERIFY(gpu::valid_surface_problem(problem, false));
        QVERIFY(!gpu::valid_surface_problem(problem, true)); // no device pointer
        const std::size_t budget = 4096;
        const gpu::SurfaceWorkspace layout = gpu::surface_workspace(problem, 1000, budget);
        QCOMPARE(layout.tiles, (problem.voxels() + gpu::kSurfaceTile - 1) / gpu::kSurfaceTile);
        QCOMPARE(layout.groups, std::int64_t{300});
        for (const std::size_t offset :
             {layout.surface_offset, layout.distance_offset, layout.count_offset, layout.sum_offset,
              layout.group_offset, layout.scan_offset, layout.scratch_offset, layout.total_bytes}) {
            QCOMPARE(offset % 256, std::size_t{0});
        }
        QVERIFY(layout.distance_offset >= static_cast<std::size_t>(problem.voxels()));
        QVERIFY(layout.scratch_offset - layout.scan_offset >= 1000);
        QVERIFY(layout.scratch_bytes <= budget);
        // Every envelope pass gets at least one thread and no more than it has lines.
        const gpu::PassSequence sequence = gpu::pass_sequence(problem);
        QCOMPARE(sequence.binary_axis, 2);
        QCOMPARE(sequence.envelope_count, 1);
        QCOMPARE(sequence.envelope_axes[0], 0);
        const gpu::LineLayout lines = gpu::line_layout(problem, 0);
        const std::int64_t threads = gpu::envelope_threads(lines, layout.scratch_bytes);
        QVERIFY(threads >= 1 && threads <= lines.lines);
        QVERIFY(static_cast<std::size_t>(threads) * gpu::envelope_bytes_per_thread(lines.n) <=
                layout.scratch_bytes);
        // Group axis measured, or nothing measured: refused.
        problem.axes[1] = true;
        QVERIFY(!gpu::valid_surface_problem(problem, false));
        problem.group_axis = -1;
        problem.axes[0] = problem.axes[1] = problem.axes[2] = false;
        QVERIFY(!gpu::valid_surface_problem(problem, false));
    }

    // envelope_scratch carves each thread's four arrays out of exactly
    // envelope_bytes_per_thread(n) * threads bytes without overlap (a serial
    // emulation would not notice two threads sharing scratch: each line writes
    // its scratch before reading it).
    void envelopeScratchFitsItsBytes()
    {
        for (const std::int64_t n : {1, 2, 5, 17, 300}) {
            for (const std::int64_t threads : {1, 3, 128}) {
                const std::size_t bytes =
                    gpu::envelope_bytes_per_thread(n) * static_cast<std::size_t>(threads);
                std::vector<double> storage(bytes / sizeof(double));
                QCOMPARE(storage.size() * sizeof(double), bytes);
                double* base = storage.data();
                const gpu::EnvelopeScratch s = gpu::envelope_scratch(base, n, threads);
                const auto at = [base](const void* p) {
                    return static_cast<const char*>(p) - reinterpret_cast<const char*>(base);
                };
                const auto size = [](std::int64_t elements) {
                    return static_cast<std::ptrdiff_t>(elements * 8);
                };
                QCOMPARE(at(s.f), std::ptrdiff_t{0});
                QVERIFY(at(s.z) >= at(s.f) + size(n * threads));
                QVERIFY(at(s.g) >= at(s.z) + size((n + 1) * threads));
                QVERIFY(at(s.v) >= at(s.g) + size(n * threads));
                QVERIFY(at(s.v + n * threads) <= static_cast<std::ptrdiff_t>(bytes));
                QCOMPARE(at(s.v) % static_cast<std::ptrdiff_t>(alignof(std::int64_t)), std::ptrdiff_t{0});
            }
        }
    }

    // The whole device pipeline, emulated with the kernels' own functions,
    // equals the CPU exactly.
    void hostEmulationMatchesCpu_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("axis");
        const auto all = cases();
        for (int i = 0; i < static_cast<int>(all.size()); ++i) {
            for (int axis = 0; axis < 3; ++axis) {
                QTest::newRow(
                    qPrintable(QString("%1, axis %2").arg(all[static_cast<std::size_t>(i)].name).arg(axis)))
                    << i << axis;
            }
        }
    }
    void hostEmulationMatchesCpu()
    {
        QFETCH(int, index);
        QFETCH(int, axis);
        for_each_rule(
            index, axis,
            [](const MaskPair& pair, SliceAxis slice_axis, const SurfaceDistanceOptions& options,
               const SampleSurfaceDistances& cpu) {
                // All lines at once, a few threads sharing the lines, one thread.
                for (const std::size_t scratch : {std::size_t{1} << 20, std::size_t{3000}, std::size_t{1}}) {
                    SampleSurfaceDistances emulated;
                    try {
                        emulated = emulate_device(pair, slice_axis, options, scratch);
                    } catch (const std::logic_error& broken) {
                        QFAIL(broken.what());
                    }
                    const std::string why = difference(cpu, emulated, 0.0);
                    QVERIFY2(why.empty(), why.c_str());
                }
            });
    }

    // The engine calls an injected surface-distance function for every
    // sample and label, and reports what it returns.
    void engineUsesInjectedFunction()
    {
        std::mt19937 rng(3);
        auto [prediction, target] =
            random_label_maps({2, 5, 6, 7}, [&rng] { return static_cast<std::uint8_t>(rng() % 3); });
        StatisticsOptions options;
        options.metrics = {Metric::Dice, Metric::Hd, Metric::Hd95, Metric::Assd, Metric::Nsd};
        options.metric.nsd_tolerance_mm = 1.0;
        const Evaluation cpu = evaluate(prediction, target, options);
        int calls = 0;
        options.surface_distances = [&calls](const std::uint8_t* p, const std::uint8_t* t,
                                             const MaskGrid& grid, SliceAxis axis,
                                             const SurfaceDistanceOptions& distance) {
            ++calls;
            return sample_surface_distances(p, t, grid, axis, distance);
        };
        const Evaluation injected = evaluate(prediction, target, options);
        QCOMPARE(calls, 2 * (1 + 2)); // per sample: overall + labels 1 and 2
        QCOMPARE(injected.samples.size(), cpu.samples.size());
        for (std::size_t s = 0; s < cpu.samples.size(); ++s) {
            for (std::size_t m = 0; m < cpu.metrics.size(); ++m) {
                QVERIFY(same_value(cpu.samples[s].values[m], injected.samples[s].values[m], 0.0));
            }
        }
    }

    // Subvoxel mode never reaches the device: the CPU's values, here too.
    void subvoxelFallsBackToCpu()
    {
        if (!gpu::cuda_path_built()) {
            QSKIP("this build has no CUDA path: the stub refuses every call (see noCudaPathFailsCleanly)");
        }
        const MaskPair pair = make_pair(grid_of(6, 7, 8), Pattern::Spheres, 5);
        SurfaceDistanceOptions options = options_with({0.8, 0.8, 1.5});
        options.surface = SurfaceMode::Subvoxel;
        const SampleSurfaceDistances cpu =
            sample_surface_distances(pair.pred.data(), pair.target.data(), pair.grid, SliceAxis::H, options);
        const SampleSurfaceDistances device = gpu::sample_surface_distances_cuda(
            pair.pred.data(), pair.target.data(), pair.grid, SliceAxis::H, options);
        const std::string why = difference(cpu, device, 0.0);
        QVERIFY2(why.empty(), why.c_str());
    }

    void noCudaPathFailsCleanly()
    {
        if (gpu::cuda_path_built()) {
            QSKIP("this build has the CUDA path (the stub is not linked)");
        }
        const MaskPair pair = make_pair(grid_of(3, 4, 5), Pattern::Random, 1);
        try {
            gpu::sample_surface_distances_cuda(pair.pred.data(), pair.target.data(), pair.grid, SliceAxis::D,
                                               options_with({1, 1, 1}));
            QFAIL("expected Error(Device)");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Device);
            QVERIFY(std::string(error.what()).find("no CUDA path") != std::string::npos);
        }
    }

    void badOptionsAreUsageErrors()
    {
        if (!gpu::cuda_path_built()) {
            QSKIP("this build has no CUDA path");
        }
        const MaskPair pair = make_pair(grid_of(3, 4, 5), Pattern::Random, 1);
        SurfaceDistanceOptions options = options_with({1, 1, 1});
        options.percentile = 101;
        QVERIFY_THROWS_EXCEPTION(Error,
                                 gpu::sample_surface_distances_cuda(pair.pred.data(), pair.target.data(),
                                                                    pair.grid, SliceAxis::D, options));
        try {
            gpu::sample_surface_distances_cuda(pair.pred.data(), pair.target.data(), grid_of(2, 4, 5, 2),
                                               SliceAxis::D, options_with({1, 1, 1}));
            QFAIL("expected Error(Usage)");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Usage);
        }
    }

    // ---- on the device ----------------------------------------------------------------------

    void deviceMatchesCpu_data() { hostEmulationMatchesCpu_data(); }
    void deviceMatchesCpu()
    {
        REQUIRE_GPU();
        QFETCH(int, index);
        QFETCH(int, axis);
        for_each_rule(index, axis,
                      [](const MaskPair& pair, SliceAxis slice_axis, const SurfaceDistanceOptions& options,
                         const SampleSurfaceDistances& cpu) {
                          const SampleSurfaceDistances device = gpu::sample_surface_distances_cuda(
                              pair.pred.data(), pair.target.data(), pair.grid, slice_axis, options);
                          const std::string why = difference(cpu, device, 1e-6);
                          QVERIFY2(why.empty(), why.c_str());
                          // The rounding is the CPU's: expected to agree to the bit.
                          const std::string exact = difference(cpu, device, 0.0);
                          if (!exact.empty()) {
                              qWarning("within 1e-6 but not bit-identical: %s", exact.c_str());
                          }
                      });
    }

    // A larger pair: many tiles, long lines, several blocks per pass.
    void deviceMatchesCpuLarge()
    {
        REQUIRE_GPU();
        const MaskPair pair = make_pair(grid_of(96, 131, 127), Pattern::Spheres, 42);
        const SurfaceDistanceOptions options = options_with({0.8, 0.8, 1.5});
        for (const SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
            const SampleSurfaceDistances cpu =
                sample_surface_distances(pair.pred.data(), pair.target.data(), pair.grid, axis, options);
            const SampleSurfaceDistances device = gpu::sample_surface_distances_cuda(
                pair.pred.data(), pair.target.data(), pair.grid, axis, options);
            const std::string why = difference(cpu, device, 1e-6);
            QVERIFY2(why.empty(), why.c_str());
        }
        const MaskPair noise = make_pair(grid_of(64, 67, 71), Pattern::Random, 43, 0.1);
        const SampleSurfaceDistances cpu = sample_surface_distances(noise.pred.data(), noise.target.data(),
                                                                    noise.grid, SliceAxis::D, options);
        const SampleSurfaceDistances device = gpu::sample_surface_distances_cuda(
            noise.pred.data(), noise.target.data(), noise.grid, SliceAxis::D, options);
        const std::string why = difference(cpu, device, 1e-6);
        QVERIFY2(why.empty(), why.c_str());
    }

    // Per label and per slice through the CLI's entry point.
    void evaluateOnCudaMatchesCpu()
    {
        REQUIRE_GPU();
        std::mt19937 rng(9);
        auto [prediction, target] = random_label_maps(
            {2, 9, 23, 17}, [&rng] { return static_cast<std::uint8_t>(rng() % 4 == 0 ? rng() % 4 : 0); });
        prediction.geometry().spacing = {0.8, 0.8, 1.5};
        target.geometry().spacing = {0.8, 0.8, 1.5};
        for (const SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
            StatisticsOptions options;
            options.metrics = {Metric::Hd, Metric::Hd95, Metric::Assd, Metric::Nsd};
            options.metric.nsd_tolerance_mm = 1.0;
            options.axis = axis;
            const Evaluation cpu = gpu::evaluate_on("cpu", prediction, target, options);
            const Evaluation device = gpu::evaluate_on("cuda", prediction, target, options);
            QCOMPARE(device.samples.size(), cpu.samples.size());
            for (std::size_t m = 0; m < cpu.metrics.size(); ++m) {
                QVERIFY(same_value(cpu.batch[m], device.batch[m], 1e-6));
            }
            for (std::size_t s = 0; s < cpu.samples.size(); ++s) {
                const SampleResult& a = cpu.samples[s];
                const SampleResult& b = device.samples[s];
                QCOMPARE(b.labels.size(), a.labels.size());
                for (std::size_t m = 0; m < cpu.metrics.size(); ++m) {
                    QVERIFY(same_value(a.values[m], b.values[m], 1e-6));
                    for (std::size_t k = 0; k < a.slices.size(); ++k) {
                        QVERIFY(same_value(a.slices[k][m], b.slices[k][m], 1e-6));
                    }
                    for (std::size_t l = 0; l < a.labels.size(); ++l) {
                        QVERIFY(same_value(a.labels[l].values[m], b.labels[l].values[m], 1e-6));
                        for (std::size_t k = 0; k < a.labels[l].slices.size(); ++k) {
                            QVERIFY(same_value(a.labels[l].slices[k][m], b.labels[l].slices[k][m], 1e-6));
                        }
                    }
                }
            }
        }
    }
};

QTEST_GUILESS_MAIN(GpuDistanceTest)
#include "test_gpu_distance.moc"
