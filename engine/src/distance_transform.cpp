#include "masklens/engine/distance_transform.h"

#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Adjacent lines of a strided axis processed together (one gather reads
// kBlock consecutive values of each row).
constexpr std::int64_t kBlock = 16;

struct PassLayout {
    std::int64_t n = 1;     // line length
    std::int64_t inner = 1; // stride between consecutive line elements
    std::int64_t outer = 1; // number of line groups
    std::int64_t chunks_per_outer = 1;
    std::int64_t block = 1;

    std::int64_t work_items() const noexcept { return outer * chunks_per_outer; }
};

PassLayout layout_for(const std::array<std::int64_t, 3>& extent, int axis)
{
    PassLayout layout;
    layout.n = extent[static_cast<std::size_t>(axis)];
    layout.inner = 1;
    for (int a = axis + 1; a < 3; ++a) {
        layout.inner *= extent[static_cast<std::size_t>(a)];
    }
    layout.outer = extent[0] * extent[1] * extent[2] / (layout.n * layout.inner);
    layout.block = std::min(kBlock, layout.inner);
    layout.chunks_per_outer = (layout.inner + layout.block - 1) / layout.block;
    return layout;
}

// The two-sweep pass on the binary feature (in[i] == 0: a feature voxel):
// distance along the line to the nearest feature voxel of the same line.
void binary_line(const double* g, std::int64_t n, double spacing, double* out)
{
    edt::binary_line([g](std::int64_t i) { return g[i] == 0.0; }, n, spacing,
                     [out](std::int64_t i) -> double& { return out[i]; });
}

enum class PassKind { Binary, Envelope };

// Per-thread scratch of one pass.
struct Scratch {
    std::vector<double> in, res, z;
    std::vector<std::int64_t> v;

    Scratch(std::int64_t n, std::int64_t block)
        : in(static_cast<std::size_t>(block * n)), res(static_cast<std::size_t>(block * n)),
          z(static_cast<std::size_t>(2 * n + 1)), v(static_cast<std::size_t>(n))
    {}
};

template <PassKind kind>
void solve_line(const double* line, std::int64_t n, double spacing, double* result, Scratch& scratch)
{
    if constexpr (kind == PassKind::Binary) {
        binary_line(line, n, spacing, result);
    } else {
        detail::envelope_1d(line, n, spacing, result, scratch.v.data(), scratch.z.data());
    }
}

template <PassKind kind>
void run_pass(const std::uint8_t* feature, std::uint8_t bits, double* data,
              const std::array<std::int64_t, 3>& extent, int axis, double spacing, int threads)
{
    const PassLayout layout = layout_for(extent, axis);
    const std::int64_t total = extent[0] * extent[1] * extent[2];
    const int workers = detail::worker_count(threads, layout.work_items(), total);
    const std::int64_t n = layout.n;
    if (layout.inner == 1) {
        // Contiguous lines: no gather, no scatter.
        detail::parallel_for(layout.outer, workers, [&](std::int64_t begin, std::int64_t end, int) {
            Scratch scratch(n, 1);
            for (std::int64_t line = begin; line < end; ++line) {
                double* dst = data + line * n;
                bool any_finite = false;
                for (std::int64_t i = 0; i < n; ++i) {
                    double value = 0;
                    if constexpr (kind == PassKind::Binary) {
                        value = (feature[line * n + i] & bits) != 0 ? 0.0 : kInf;
                    } else {
                        value = dst[i];
                    }
                    any_finite = any_finite || value != kInf;
                    scratch.in[static_cast<std::size_t>(i)] = value;
                }
                if (!any_finite) {
                    std::fill_n(dst, n, kInf);
                    continue;
                }
                solve_line<kind>(scratch.in.data(), n, spacing, dst, scratch);
            }
        });
        return;
    }
    detail::parallel_for(layout.work_items(), workers, [&](std::int64_t begin, std::int64_t end, int) {
        Scratch scratch(n, layout.block);
        for (std::int64_t item = begin; item < end; ++item) {
            const std::int64_t o = item / layout.chunks_per_outer;
            const std::int64_t first = (item % layout.chunks_per_outer) * layout.block;
            const std::int64_t count = std::min(layout.block, layout.inner - first);
            const std::int64_t base = o * n * layout.inner + first;
            // Gather: line b of the block goes to in[b * n, (b + 1) * n).
            bool any_finite = false;
            for (std::int64_t i = 0; i < n; ++i) {
                const std::int64_t row = base + i * layout.inner;
                for (std::int64_t b = 0; b < count; ++b) {
                    double value = 0;
                    if constexpr (kind == PassKind::Binary) {
                        value = (feature[row + b] & bits) != 0 ? 0.0 : kInf;
                    } else {
                        value = data[row + b];
                    }
                    any_finite = any_finite || value != kInf;
                    scratch.in[static_cast<std::size_t>(b * n + i)] = value;
                }
            }
            if (!any_finite) {
                if constexpr (kind == PassKind::Binary) {
                    for (std::int64_t i = 0; i < n; ++i) {
                        std::fill_n(data + base + i * layout.inner, count, kInf);
                    }
                }
                continue; // an envelope pass leaves an all-infinite block as it is
            }
            for (std::int64_t b = 0; b < count; ++b) {
                solve_line<kind>(scratch.in.data() + b * n, n, spacing, scratch.res.data() + b * n, scratch);
            }
            for (std::int64_t i = 0; i < n; ++i) {
                const std::int64_t row = base + i * layout.inner;
                for (std::int64_t b = 0; b < count; ++b) {
                    data[row + b] = scratch.res[static_cast<std::size_t>(b * n + i)];
                }
            }
        }
    });
}

void check_grid(const EdtGrid& grid)
{
    for (const auto e : grid.extent_dhw) {
        if (e <= 0) {
            throw_usage_error("distance transform: grid extents must be positive");
        }
    }
    for (const auto s : grid.spacing_xyz) {
        if (!(s > 0) || !std::isfinite(s)) {
            throw_usage_error("distance transform: spacing must be positive and finite");
        }
    }
}

} // namespace

namespace detail {

void envelope_1d(const double* f, std::int64_t n, double spacing, double* out, std::int64_t* v, double* z)
{
    // z holds the envelope's boundaries (n + 1 values) followed by the keys of
    // its parabolas (n values).
    double* g = z + n + 1;
    edt::envelope_line<edt::ContractibleMulAdd>(
        [f](std::int64_t q) { return f[q]; }, n, spacing, [out](std::int64_t p) -> double& { return out[p]; },
        [v](std::int64_t k) -> std::int64_t& { return v[k]; },
        [z](std::int64_t k) -> double& { return z[k]; }, [g](std::int64_t k) -> double& { return g[k]; });
}

} // namespace detail

void squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid, double* out, int threads,
                                std::uint8_t feature_bits)
{
    check_grid(grid);
    const auto& extent = grid.extent_dhw;
    // Spacing per (D, H, W) axis.
    const std::array<double, 3> spacing{grid.spacing_xyz[2], grid.spacing_xyz[1], grid.spacing_xyz[0]};
    int first = -1;
    for (int a = 2; a >= 0; --a) {
        if (grid.axes_dhw[static_cast<std::size_t>(a)]) {
            first = a;
            break;
        }
    }
    if (first < 0) {
        // No axis measured: distance 0 on features, +inf elsewhere.
        const std::int64_t total = grid.voxels();
        for (std::int64_t i = 0; i < total; ++i) {
            out[i] = (feature[i] & feature_bits) != 0 ? 0.0 : kInf;
        }
        return;
    }
    run_pass<PassKind::Binary>(feature, feature_bits, out, extent, first,
                               spacing[static_cast<std::size_t>(first)], threads);
    for (int a = 2; a >= 0; --a) {
        const auto ua = static_cast<std::size_t>(a);
        if (a == first || !grid.axes_dhw[ua] || extent[ua] == 1) {
            continue;
        }
        run_pass<PassKind::Envelope>(nullptr, 0, out, extent, a, spacing[ua], threads);
    }
}

std::vector<double> squared_distance_transform(const std::uint8_t* feature, const EdtGrid& grid, int threads,
                                               std::uint8_t feature_bits)
{
    check_grid(grid);
    std::vector<double> out(static_cast<std::size_t>(grid.voxels()));
    squared_distance_transform(feature, grid, out.data(), threads, feature_bits);
    return out;
}

void squared_distance_transform_box(const std::uint8_t* feature, const EdtGrid& grid, const GridBox& box,
                                    double* out, int threads, std::uint8_t feature_bits)
{
    check_grid(grid);
    for (std::size_t a = 0; a < 3; ++a) {
        if (box.lo[a] < 0 || box.hi[a] > grid.extent_dhw[a] || box.hi[a] <= box.lo[a]) {
            throw_usage_error("distance transform: the box must be a non-empty part of the grid");
        }
    }
    const auto e = box.extent();
    std::vector<std::uint8_t> local(static_cast<std::size_t>(box.voxels()));
    const std::int64_t gh = grid.extent_dhw[1];
    const std::int64_t gw = grid.extent_dhw[2];
    for (std::int64_t d = 0; d < e[0]; ++d) {
        for (std::int64_t h = 0; h < e[1]; ++h) {
            const std::uint8_t* src = feature + ((box.lo[0] + d) * gh + box.lo[1] + h) * gw + box.lo[2];
            std::copy_n(src, e[2], local.data() + (d * e[1] + h) * e[2]);
        }
    }
    EdtGrid sub = grid;
    sub.extent_dhw = e;
    squared_distance_transform(local.data(), sub, out, threads, feature_bits);
}

} // namespace masklens
