// The statistics kernels: one pass over a chunk's prediction and target,
// per-slice sums accumulated in double.
//
// A chunk [n, c, d, h, w] is read as [n, c, outer, slices, inner], where
// `slices` is the slicing axis and `inner` the contiguous run of elements
// that lies in one slice:
//   axis D: outer = 1,   slices = d, inner = h*w
//   axis H: outer = d,   slices = h, inner = w
//   axis W: outer = d*h, slices = w, inner = 1
// Long runs (inner >= kTileMinInner) go to the tile kernel: a block sums a
// tile of one region (n, slice) with a CUB block reduction and one atomicAdd
// per sum. Short runs go to the column kernel: a thread owns one position of
// the [slices, inner] plane across a range of `outer`, the warp reduces the
// threads of one region (segmented shuffle reduction) and the first thread
// of each region adds it. Per-element terms come from voxel_terms.h; this
// file is compiled with -fmad=false so that the float terms are rounded as on
// the CPU (no contraction into fused multiply-adds).
#include "masklens/gpu/region_kernels.h"

#include "masklens/engine/voxel_terms.h"

#include <cub/block/block_reduce.cuh>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace masklens::gpu {
namespace {

using i64 = std::int64_t;
using u64 = unsigned long long;

constexpr int kBlock = 256;
constexpr int kWarp = 32;
constexpr unsigned kFullMask = 0xffffffffu;
constexpr i64 kTileMinInner = 128;
constexpr int kHistogramBins = kHistogramKinds * kHistogramLabels;
constexpr i64 kNoSlice = 0x7fffffffffffffffLL; // key of idle threads in the column kernel

__device__ __forceinline__ i64 lesser(i64 a, i64 b)
{
    return a < b ? a : b;
}

// How a prediction or target is loaded as a continuous value. Integer arrays
// (masks, label maps) share one kind: their value is (v != 0) whatever their
// width, read through a switch on the element type.
enum class Kind { Float32, Float64, Float16, Integer };

// ---- loading ------------------------------------------------------------------

__device__ __forceinline__ bool integer_nonzero(const void* base, i64 index, ElementType type)
{
    switch (type) {
    case ElementType::Int16:
    case ElementType::UInt16: return static_cast<const unsigned short*>(base)[index] != 0;
    case ElementType::Int32:
    case ElementType::UInt32: return static_cast<const unsigned int*>(base)[index] != 0;
    case ElementType::Int64:
    case ElementType::UInt64: return static_cast<const u64*>(base)[index] != 0;
    default: return static_cast<const unsigned char*>(base)[index] != 0;
    }
}

// A label as int64; uint64 values beyond kMaxLabelValue read as
// kMaxLabelValue + 1, as the CPU pass does, so range checks reject them.
__device__ __forceinline__ i64 integer_label(const void* base, i64 index, ElementType type)
{
    switch (type) {
    case ElementType::Int8: return static_cast<const signed char*>(base)[index];
    case ElementType::Int16: return static_cast<const short*>(base)[index];
    case ElementType::UInt16: return static_cast<const unsigned short*>(base)[index];
    case ElementType::Int32: return static_cast<const int*>(base)[index];
    case ElementType::UInt32: return static_cast<const unsigned int*>(base)[index];
    case ElementType::Int64: return static_cast<const long long*>(base)[index];
    case ElementType::UInt64: {
        const u64 value = static_cast<const u64*>(base)[index];
        return value > static_cast<u64>(kMaxLabelValue) ? kMaxLabelValue + 1 : static_cast<i64>(value);
    }
    default: return static_cast<const unsigned char*>(base)[index]; // Bool, UInt8
    }
}

template <class Real, Kind kKind>
__device__ __forceinline__ Real load_value(const void* base, i64 index, ElementType type)
{
    if constexpr (kKind == Kind::Float32) {
        return static_cast<Real>(static_cast<const float*>(base)[index]);
    } else if constexpr (kKind == Kind::Float64) {
        return static_cast<Real>(static_cast<const double*>(base)[index]);
    } else if constexpr (kKind == Kind::Float16) {
        const unsigned short bits = static_cast<const unsigned short*>(base)[index];
        return static_cast<Real>(__half2float(__ushort_as_half(bits)));
    } else {
        return integer_nonzero(base, index, type) ? Real(1) : Real(0);
    }
}

// ---- per-thread accumulation -----------------------------------------------------

// A thread's (and after reduction a unit's) sums. The counts are 32-bit: a
// unit holds at most 65536 elements (see launch), and 64-bit additions would
// cost two instructions per element.
struct Partial {
    double bce, focal, squared_error, absolute_error, pred_sum, target_sum, overlap_sum;
    unsigned int pred_positive, target_positive, true_positive;
};

__device__ __forceinline__ Partial add(const Partial& a, const Partial& b)
{
    Partial sum;
    sum.bce = a.bce + b.bce;
    sum.focal = a.focal + b.focal;
    sum.squared_error = a.squared_error + b.squared_error;
    sum.absolute_error = a.absolute_error + b.absolute_error;
    sum.pred_sum = a.pred_sum + b.pred_sum;
    sum.target_sum = a.target_sum + b.target_sum;
    sum.overlap_sum = a.overlap_sum + b.overlap_sum;
    sum.pred_positive = a.pred_positive + b.pred_positive;
    sum.target_positive = a.target_positive + b.target_positive;
    sum.true_positive = a.true_positive + b.true_positive;
    return sum;
}

struct PartialSum {
    __device__ __forceinline__ Partial operator()(const Partial& a, const Partial& b) const
    {
        return add(a, b);
    }
};

// A count and the smallest flat index among what was counted.
struct FirstCount {
    u64 count = 0;
    u64 first = ~0ull;
    __device__ __forceinline__ void note(i64 index)
    {
        ++count;
        first = static_cast<u64>(index) < first ? static_cast<u64>(index) : first;
    }
};

// The metric options in the working precision.
template <class Real> struct Terms {
    TermNeeds needs;
    bool logits;
    Real threshold;
    Real gamma;
    bool gamma_is_two;
    bool has_alpha;
    Real alpha;
};

// One element: prediction value x (a logit when options.logits), target t.
// The same terms, in the same order, as accumulate_chunk in statistics.cpp.
template <class Real>
__device__ __forceinline__ void accumulate(Partial& sums, FirstCount& range, const Terms<Real>& k, Real x,
                                           Real t, i64 flat)
{
    const Real p = k.logits ? terms::sigmoid(x) : x;
    if (k.needs.range_check && !terms::in_unit_interval(p)) {
        range.note(flat);
    }
    if (k.needs.bce || k.needs.focal) {
        const Real loss = k.logits ? terms::bce_with_logits(x, t) : terms::bce(p, t);
        if (k.needs.bce) {
            sums.bce += static_cast<double>(loss);
        }
        if (k.needs.focal) {
            const Real base = terms::focal_base(p, t);
            Real focal = loss * (k.gamma_is_two ? terms::op_square(base) : terms::op_pow(base, k.gamma));
            if (k.has_alpha) {
                focal = focal * terms::focal_alpha_weight(t, k.alpha);
            }
            sums.focal += static_cast<double>(focal);
        }
    }
    if (k.needs.squared) {
        sums.squared_error += static_cast<double>(terms::squared_error(p, t));
    }
    if (k.needs.absolute) {
        sums.absolute_error += static_cast<double>(terms::absolute_error(p, t));
    }
    if (k.needs.overlap) {
        sums.pred_sum += static_cast<double>(p);
        sums.target_sum += static_cast<double>(t);
        sums.overlap_sum += static_cast<double>(p * t);
    }
    if (k.needs.hard) {
        const bool predicted = terms::predicted_positive(p, k.threshold);
        const bool actual = terms::target_positive(t);
        sums.pred_positive += predicted ? 1u : 0u;
        sums.target_positive += actual ? 1u : 0u;
        sums.true_positive += (predicted && actual) ? 1u : 0u;
    }
}

// ---- label histograms (LabelMaps) --------------------------------------------

// Counts in shared memory (tile kernel; flushed per region).
struct SharedHistogram {
    unsigned int* bins;
    __device__ __forceinline__ void add(int kind, i64 label) const
    {
        atomicAdd(&bins[kind * kHistogramLabels + label], 1u);
    }
};

// Counts straight into the region's global histogram (column kernel).
struct GlobalHistogram {
    u64* bins;
    __device__ __forceinline__ void add(int kind, i64 label) const
    {
        atomicAdd(&bins[kind * kHistogramLabels + label], 1ull);
    }
};

// One voxel of two label maps, as count_label_voxel in statistics.cpp does:
// label 0 is background and not counted. Labels beyond the histogram set
// `overflow` (the host then evaluates the pair on the CPU).
template <class Histogram>
__device__ __forceinline__ void count_labels(const Histogram& histogram, i64 predicted, i64 actual,
                                             bool& overflow)
{
    if (predicted < 0 || predicted >= kHistogramLabels || actual < 0 || actual >= kHistogramLabels) {
        overflow = true;
        return;
    }
    if (predicted == actual) {
        if (predicted != 0) {
            histogram.add(kHistogramPredicted, predicted);
            histogram.add(kHistogramTarget, predicted);
            histogram.add(kHistogramBoth, predicted);
        }
        return;
    }
    if (predicted != 0) {
        histogram.add(kHistogramPredicted, predicted);
    }
    if (actual != 0) {
        histogram.add(kHistogramTarget, actual);
    }
}

// ---- kernel arguments -------------------------------------------------------------

struct Inputs {
    const void* prediction;
    const void* target;
    ElementType prediction_type;
    ElementType target_type;
};

// The [n, c, outer, slices, inner] view of the chunk.
struct View {
    i64 n, c, outer, slices, inner;
};

struct Outputs {
    DeviceRegion* regions;
    DeviceRegion* channel_regions;
    u64* histogram;
    DeviceViolations* violations;
};

// One element at prediction index `pi` and target index `ti` of channel `c`.
template <class Real, Kind kPred, Kind kTarget, KernelPairing kPairing, class Histogram>
__device__ __forceinline__ void element(const Inputs& in, const Terms<Real>& k, i64 c, i64 channels, i64 pi,
                                        i64 ti, Partial& sums, FirstCount& range, FirstCount& labels,
                                        bool& overflow, const Histogram& histogram)
{
    if constexpr (kPairing == KernelPairing::ChannelOneHot) {
        const i64 label = integer_label(in.target, ti, in.target_type);
        if (c == 0 && (label < 0 || label >= channels)) {
            labels.note(ti); // each target voxel is checked once, with channel 0
        }
        const Real x = load_value<Real, kPred>(in.prediction, pi, in.prediction_type);
        accumulate<Real>(sums, range, k, x, label == c ? Real(1) : Real(0), pi);
    } else if constexpr (kPairing == KernelPairing::LabelMaps) {
        const i64 predicted = integer_label(in.prediction, pi, in.prediction_type);
        const i64 actual = integer_label(in.target, ti, in.target_type);
        count_labels(histogram, predicted, actual, overflow);
        accumulate<Real>(sums, range, k, predicted != 0 ? Real(1) : Real(0), actual != 0 ? Real(1) : Real(0),
                         pi);
    } else {
        const Real x = load_value<Real, kPred>(in.prediction, pi, in.prediction_type);
        const Real t = load_value<Real, kTarget>(in.target, ti, in.target_type);
        accumulate<Real>(sums, range, k, x, t, pi);
    }
}

__device__ __forceinline__ void atomic_add_nonzero(double* destination, double value)
{
    if (value != 0.0) { // NaN is added
        atomicAdd(destination, value);
    }
}

__device__ __forceinline__ void atomic_add_nonzero(u64* destination, u64 value)
{
    if (value != 0) {
        atomicAdd(destination, value);
    }
}

__device__ __forceinline__ void flush_region(DeviceRegion& region, const Partial& sums)
{
    atomic_add_nonzero(&region.bce, sums.bce);
    atomic_add_nonzero(&region.focal, sums.focal);
    atomic_add_nonzero(&region.squared_error, sums.squared_error);
    atomic_add_nonzero(&region.absolute_error, sums.absolute_error);
    atomic_add_nonzero(&region.pred_sum, sums.pred_sum);
    atomic_add_nonzero(&region.target_sum, sums.target_sum);
    atomic_add_nonzero(&region.overlap_sum, sums.overlap_sum);
    atomic_add_nonzero(&region.pred_positive, static_cast<u64>(sums.pred_positive));
    atomic_add_nonzero(&region.target_positive, static_cast<u64>(sums.target_positive));
    atomic_add_nonzero(&region.true_positive, static_cast<u64>(sums.true_positive));
}

__device__ __forceinline__ void flush_violations(DeviceViolations* violations, const FirstCount& range,
                                                 const FirstCount& labels, bool overflow)
{
    if (range.count > 0) {
        atomicAdd(&violations->range_count, range.count);
        atomicMin(&violations->range_first, range.first);
    }
    if (labels.count > 0) {
        atomicAdd(&violations->label_count, labels.count);
        atomicMin(&violations->label_first, labels.first);
    }
    if (overflow) {
        atomicOr(&violations->label_overflow, 1u);
    }
}

// ---- the tile kernel (long contiguous runs) -------------------------------------

// A unit of work: region (n, slice) of channel c, outer range x inner range.
struct TileUnits {
    i64 outer_per_unit, inner_per_unit, outer_units, inner_units, total;
};

template <class Real, Kind kPred, Kind kTarget, KernelPairing kPairing>
__global__ void __launch_bounds__(kBlock)
    tile_kernel(Inputs in, View view, TileUnits units, Terms<Real> k, Outputs out)
{
    using Reduce = cub::BlockReduce<Partial, kBlock>;
    constexpr bool kLabels = kPairing == KernelPairing::LabelMaps;
    __shared__ typename Reduce::TempStorage reduce_storage;
    __shared__ unsigned int histogram_bins[kLabels ? kHistogramBins : 1];
    const SharedHistogram histogram{histogram_bins};

    FirstCount range, labels;
    bool overflow = false;
    for (i64 unit = blockIdx.x; unit < units.total; unit += gridDim.x) {
        const i64 inner_unit = unit % units.inner_units;
        i64 rest = unit / units.inner_units;
        const i64 outer_unit = rest % units.outer_units;
        rest /= units.outer_units;
        const i64 slice = rest % view.slices;
        rest /= view.slices;
        const i64 c = rest % view.c;
        const i64 n = rest / view.c;
        const i64 outer_begin = outer_unit * units.outer_per_unit;
        const i64 outer_end = lesser(view.outer, outer_begin + units.outer_per_unit);
        const i64 inner_begin = inner_unit * units.inner_per_unit;
        const i64 inner_end = lesser(view.inner, inner_begin + units.inner_per_unit);
        const i64 region = n * view.slices + slice;

        if constexpr (kLabels) {
            for (int bin = threadIdx.x; bin < kHistogramBins; bin += kBlock) {
                histogram_bins[bin] = 0;
            }
            __syncthreads();
        }
        Partial sums{};
        for (i64 o = outer_begin; o < outer_end; ++o) {
            const i64 pred_base = (((n * view.c + c) * view.outer + o) * view.slices + slice) * view.inner;
            const i64 target_base = kPairing == KernelPairing::ChannelOneHot
                                        ? ((n * view.outer + o) * view.slices + slice) * view.inner
                                        : pred_base;
#pragma unroll 4
            for (i64 i = inner_begin + threadIdx.x; i < inner_end; i += kBlock) {
                element<Real, kPred, kTarget, kPairing>(in, k, c, view.c, pred_base + i, target_base + i,
                                                        sums, range, labels, overflow, histogram);
            }
        }
        const Partial total = Reduce(reduce_storage).Reduce(sums, PartialSum());
        if (threadIdx.x == 0) {
            flush_region(out.regions[region], total);
            if constexpr (kPairing == KernelPairing::ChannelOneHot) {
                flush_region(out.channel_regions[region * view.c + c], total);
            }
        }
        if constexpr (kLabels) {
            __syncthreads();
            u64* destination = out.histogram + region * kHistogramBins;
            for (int bin = threadIdx.x; bin < kHistogramBins; bin += kBlock) {
                if (histogram_bins[bin] != 0) {
                    atomicAdd(&destination[bin], static_cast<u64>(histogram_bins[bin]));
                }
            }
        }
        __syncthreads(); // reduce_storage and the histogram are reused by the next unit
    }
    flush_violations(out.violations, range, labels, overflow);
}

// ---- the column kernel (short runs) -------------------------------------------------

// A unit of work: kBlock consecutive positions of the [slices, inner] plane
// of channel c of sample n, over an outer range.
struct ColumnUnits {
    i64 position_blocks, outer_per_unit, outer_units, total;
};

__device__ __forceinline__ Partial shuffle_down(const Partial& value, int offset)
{
    Partial other;
    other.bce = __shfl_down_sync(kFullMask, value.bce, offset);
    other.focal = __shfl_down_sync(kFullMask, value.focal, offset);
    other.squared_error = __shfl_down_sync(kFullMask, value.squared_error, offset);
    other.absolute_error = __shfl_down_sync(kFullMask, value.absolute_error, offset);
    other.pred_sum = __shfl_down_sync(kFullMask, value.pred_sum, offset);
    other.target_sum = __shfl_down_sync(kFullMask, value.target_sum, offset);
    other.overlap_sum = __shfl_down_sync(kFullMask, value.overlap_sum, offset);
    other.pred_positive = __shfl_down_sync(kFullMask, value.pred_positive, offset);
    other.target_positive = __shfl_down_sync(kFullMask, value.target_positive, offset);
    other.true_positive = __shfl_down_sync(kFullMask, value.true_positive, offset);
    return other;
}

// Sums `value` over the lanes holding the same key. Keys form contiguous
// runs across the warp; the first lane of each run receives its run's sum
// and `head` is true there. Every lane of the warp must call this.
__device__ __forceinline__ Partial segmented_warp_sum(Partial value, i64 key, bool& head)
{
    const int lane = static_cast<int>(threadIdx.x) & (kWarp - 1);
    for (int offset = 1; offset < kWarp; offset <<= 1) {
        const i64 other_key = __shfl_down_sync(kFullMask, key, offset);
        const Partial other = shuffle_down(value, offset);
        if (lane + offset < kWarp && other_key == key) {
            value = add(value, other);
        }
    }
    const i64 previous_key = __shfl_up_sync(kFullMask, key, 1);
    head = lane == 0 || previous_key != key;
    return value;
}

template <class Real, Kind kPred, Kind kTarget, KernelPairing kPairing>
__global__ void __launch_bounds__(kBlock)
    column_kernel(Inputs in, View view, ColumnUnits units, Terms<Real> k, Outputs out)
{
    const i64 plane = view.slices * view.inner;
    FirstCount range, labels;
    bool overflow = false;
    for (i64 unit = blockIdx.x; unit < units.total; unit += gridDim.x) {
        const i64 position_block = unit % units.position_blocks;
        i64 rest = unit / units.position_blocks;
        const i64 outer_unit = rest % units.outer_units;
        rest /= units.outer_units;
        const i64 c = rest % view.c;
        const i64 n = rest / view.c;
        const i64 position = position_block * kBlock + threadIdx.x;
        const bool active = position < plane;
        const i64 slice = active ? position / view.inner : kNoSlice;
        const i64 region = n * view.slices + slice;

        Partial sums{};
        if (active) {
            const i64 outer_begin = outer_unit * units.outer_per_unit;
            const i64 outer_end = lesser(view.outer, outer_begin + units.outer_per_unit);
            const GlobalHistogram histogram{out.histogram ? out.histogram + region * kHistogramBins
                                                          : nullptr};
            for (i64 o = outer_begin; o < outer_end; ++o) {
                const i64 pi = ((n * view.c + c) * view.outer + o) * plane + position;
                const i64 ti =
                    kPairing == KernelPairing::ChannelOneHot ? (n * view.outer + o) * plane + position : pi;
                element<Real, kPred, kTarget, kPairing>(in, k, c, view.c, pi, ti, sums, range, labels,
                                                        overflow, histogram);
            }
        }
        bool head = false;
        const Partial total = segmented_warp_sum(sums, slice, head);
        if (active && head) {
            flush_region(out.regions[region], total);
            if constexpr (kPairing == KernelPairing::ChannelOneHot) {
                flush_region(out.channel_regions[region * view.c + c], total);
            }
        }
    }
    flush_violations(out.violations, range, labels, overflow);
}

// ---- launching -----------------------------------------------------------------------

i64 ceil_div(i64 a, i64 b)
{
    return (a + b - 1) / b;
}

View view_of(const KernelProblem& problem)
{
    switch (problem.axis) {
    case KernelAxis::D: return {problem.n, problem.c, 1, problem.d, problem.h * problem.w};
    case KernelAxis::H: return {problem.n, problem.c, problem.d, problem.h, problem.w};
    case KernelAxis::W: break;
    }
    return {problem.n, problem.c, problem.d * problem.h, problem.w, 1};
}

template <class Real> Terms<Real> terms_of(const KernelProblem& problem)
{
    Terms<Real> k;
    k.needs = problem.needs;
    k.logits = problem.options.logits;
    k.threshold = static_cast<Real>(problem.options.threshold);
    k.gamma = static_cast<Real>(problem.options.focal_gamma);
    k.gamma_is_two = k.gamma == Real(2);
    k.has_alpha = problem.options.has_focal_alpha;
    k.alpha = static_cast<Real>(problem.options.focal_alpha);
    return k;
}

// Blocks that fit on the device at once for `kernel` (at least one).
template <class Kernel> cudaError_t resident_blocks(Kernel kernel, i64& blocks)
{
    int device = 0;
    cudaError_t status = cudaGetDevice(&device);
    if (status != cudaSuccess) {
        return status;
    }
    int processors = 0;
    status = cudaDeviceGetAttribute(&processors, cudaDevAttrMultiProcessorCount, device);
    if (status != cudaSuccess) {
        return status;
    }
    int per_processor = 0;
    status = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_processor, kernel, kBlock, 0);
    if (status != cudaSuccess) {
        return status;
    }
    blocks = static_cast<i64>(std::max(processors, 1)) * std::max(per_processor, 1);
    return cudaSuccess;
}

int grid_size(i64 units, i64 resident)
{
    const i64 grid = std::min<i64>({units, resident, std::numeric_limits<int>::max()});
    return static_cast<int>(std::max<i64>(grid, 1));
}

template <class Real, Kind kPred, Kind kTarget, KernelPairing kPairing>
cudaError_t launch(const KernelProblem& problem, const Outputs& out, cudaStream_t stream)
{
    const Inputs in{problem.prediction, problem.target, problem.prediction_type, problem.target_type};
    const View view = view_of(problem);
    const Terms<Real> k = terms_of<Real>(problem);
    const i64 elements = problem.elements();
    if (view.inner >= kTileMinInner) {
        auto* kernel = tile_kernel<Real, kPred, kTarget, kPairing>;
        i64 resident = 1;
        if (const cudaError_t status = resident_blocks(kernel, resident); status != cudaSuccess) {
            return status;
        }
        // About 16 units per resident block, each 2K..64K elements (never
        // more: Partial counts are 32-bit).
        const i64 target = std::clamp<i64>(elements / (resident * 16), 2048, 65536);
        TileUnits units{};
        if (view.inner >= target) {
            units.inner_per_unit = ceil_div(target, kBlock) * kBlock;
            units.outer_per_unit = 1;
        } else {
            units.inner_per_unit = view.inner;
            units.outer_per_unit = std::clamp<i64>(target / view.inner, 1, view.outer);
        }
        units.inner_units = ceil_div(view.inner, units.inner_per_unit);
        units.outer_units = ceil_div(view.outer, units.outer_per_unit);
        units.total = view.n * view.c * view.slices * units.outer_units * units.inner_units;
        kernel<<<grid_size(units.total, resident), kBlock, 0, stream>>>(in, view, units, k, out);
    } else {
        auto* kernel = column_kernel<Real, kPred, kTarget, kPairing>;
        i64 resident = 1;
        if (const cudaError_t status = resident_blocks(kernel, resident); status != cudaSuccess) {
            return status;
        }
        ColumnUnits units{};
        units.position_blocks = ceil_div(view.slices * view.inner, kBlock);
        // 16..256 elements per thread, fewer when the chunk is small.
        const i64 per_thread = std::clamp<i64>(elements / (resident * kBlock * 4), 16, 256);
        units.outer_per_unit = std::min(view.outer, per_thread);
        units.outer_units = ceil_div(view.outer, units.outer_per_unit);
        units.total = view.n * view.c * units.outer_units * units.position_blocks;
        kernel<<<grid_size(units.total, resident), kBlock, 0, stream>>>(in, view, units, k, out);
    }
    return cudaGetLastError();
}

Kind kind_of(ElementType type)
{
    switch (type) {
    case ElementType::Float32: return Kind::Float32;
    case ElementType::Float64: return Kind::Float64;
    case ElementType::Float16: return Kind::Float16;
    default: return Kind::Integer;
    }
}

// Real is double when either input is float64, as on the CPU.
template <Kind kPred, Kind kTarget, KernelPairing kPairing>
cudaError_t launch_real(const KernelProblem& problem, const Outputs& out, cudaStream_t stream)
{
    if constexpr (kPred == Kind::Float64 || kTarget == Kind::Float64) {
        return launch<double, kPred, kTarget, kPairing>(problem, out, stream);
    } else {
        return launch<float, kPred, kTarget, kPairing>(problem, out, stream);
    }
}

template <Kind kPred>
cudaError_t launch_binary(Kind target, const KernelProblem& problem, const Outputs& out, cudaStream_t stream)
{
    constexpr KernelPairing kBinary = KernelPairing::Binary;
    switch (target) {
    case Kind::Float32: return launch_real<kPred, Kind::Float32, kBinary>(problem, out, stream);
    case Kind::Float64: return launch_real<kPred, Kind::Float64, kBinary>(problem, out, stream);
    case Kind::Float16: return launch_real<kPred, Kind::Float16, kBinary>(problem, out, stream);
    case Kind::Integer: break;
    }
    return launch_real<kPred, Kind::Integer, kBinary>(problem, out, stream);
}

cudaError_t dispatch(const KernelProblem& problem, const Outputs& out, cudaStream_t stream)
{
    const Kind pred = kind_of(problem.prediction_type);
    const Kind target = kind_of(problem.target_type);
    constexpr KernelPairing kOneHot = KernelPairing::ChannelOneHot;
    switch (problem.pairing) {
    case KernelPairing::LabelMaps:
        return launch_real<Kind::Integer, Kind::Integer, KernelPairing::LabelMaps>(problem, out, stream);
    case KernelPairing::ChannelOneHot:
        switch (pred) {
        case Kind::Float64: return launch_real<Kind::Float64, Kind::Integer, kOneHot>(problem, out, stream);
        case Kind::Float16: return launch_real<Kind::Float16, Kind::Integer, kOneHot>(problem, out, stream);
        default: return launch_real<Kind::Float32, Kind::Integer, kOneHot>(problem, out, stream);
        }
    case KernelPairing::Binary: break;
    }
    switch (pred) {
    case Kind::Float32: return launch_binary<Kind::Float32>(target, problem, out, stream);
    case Kind::Float64: return launch_binary<Kind::Float64>(target, problem, out, stream);
    case Kind::Float16: return launch_binary<Kind::Float16>(target, problem, out, stream);
    case Kind::Integer: break;
    }
    return launch_binary<Kind::Integer>(target, problem, out, stream);
}

} // namespace

cudaError_t region_statistics(void* workspace, std::size_t* workspace_bytes, const KernelProblem& problem,
                              cudaStream_t stream)
{
    if (workspace_bytes == nullptr || !valid_problem(problem, workspace != nullptr)) {
        return cudaErrorInvalidValue;
    }
    const WorkspaceLayout layout = workspace_layout(problem);
    if (workspace == nullptr) {
        *workspace_bytes = layout.total_bytes;
        return cudaSuccess;
    }
    if (*workspace_bytes < layout.total_bytes) {
        return cudaErrorInvalidValue;
    }
    auto* base = static_cast<unsigned char*>(workspace);
    // Zero every sum, then set the two "first index" fields to ~0.
    cudaError_t status = cudaMemsetAsync(base, 0, layout.total_bytes, stream);
    if (status != cudaSuccess) {
        return status;
    }
    static_assert(offsetof(DeviceViolations, range_first) == 0 &&
                  offsetof(DeviceViolations, label_first) == 8);
    status = cudaMemsetAsync(base + layout.violations_offset, 0xff, 2 * sizeof(u64), stream);
    if (status != cudaSuccess) {
        return status;
    }
    Outputs out{};
    out.regions = reinterpret_cast<DeviceRegion*>(base + layout.regions_offset);
    out.channel_regions =
        layout.channel_regions > 0 ? reinterpret_cast<DeviceRegion*>(base + layout.channel_offset) : nullptr;
    out.histogram =
        layout.histogram_regions > 0 ? reinterpret_cast<u64*>(base + layout.histogram_offset) : nullptr;
    out.violations = reinterpret_cast<DeviceViolations*>(base + layout.violations_offset);
    return dispatch(problem, out, stream);
}

} // namespace masklens::gpu
