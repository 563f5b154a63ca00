// Voxel-mode directed distances (directed_distances.h): which method runs (a
// cost model, then a probe of the search), the nearest-surface search at
// surface voxels (rows, then a k-d tree) and the two-EDT path.
#include "directed_distances.h"

#include "masklens/engine/parallel.h"
#include "surface_search.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <utility>

namespace masklens {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Cost model of the two voxel-mode methods (choose_voxel_method).
// Measured (CPU time, one thread, 2026-11-29): the EDT costs 80-150 ns per
// box voxel (three axes), the tree search 0.7-1.3 us per surface voxel; the
// crossover on 128^3 noise lies near 10 % foreground (surface ~ 20 % of the
// box), which these constants reproduce.
constexpr double kEdtCostPerAxis = 1.0;
constexpr double kTreeCostBase = 12.0;
constexpr double kTreeCostPerLevel = 1.0;
// Rows a query may visit in the row search before the tree takes over: a tree
// query costs about as much (measured on the benchmark's spheres).
constexpr std::int64_t kRowBudget = 256;
// The probe of the search (rows_are_cheaper): how many queries it samples,
// and the costs it prices them with (ns, one thread, measured 2026-11-29 on
// random 50 % masks and the benchmark's spheres: the EDTs take 44-47 ns per
// box voxel and measured axis, a search query about 90 ns plus 5 ns per row
// visited, a query the tree answers 1-1.5 us).
constexpr std::int64_t kProbeQueries = 512;
constexpr double kEdtNsPerVoxelAxis = 45.0;
constexpr double kQueryNs = 90.0;
constexpr double kRowNs = 5.0;
constexpr double kTreeQueryNs = 1500.0;
// Earlier queries whose answers may serve as a neighbour's bound.
constexpr std::int64_t kRecent = 32;
// Rings of rows searched for a first bound when a query has none.
constexpr std::int64_t kSeedRings = 8;

using Extent = std::array<std::int64_t, 3>;

} // namespace

namespace detail {

VoxelMethod choose_voxel_method(SurfaceSearch search, std::int64_t box_voxels, std::int64_t pred_surface,
                                std::int64_t target_surface, int measured_axes)
{
    if (std::max(pred_surface, target_surface) >= (std::int64_t{1} << 30)) {
        return VoxelMethod::Transform; // the tree indexes its points with 32-bit integers
    }
    if (search != SurfaceSearch::Auto) {
        return search == SurfaceSearch::NearestNeighbour ? VoxelMethod::Search : VoxelMethod::Transform;
    }
    if (detail::transform_arithmetic() == detail::Arithmetic::Unknown) {
        return VoxelMethod::Transform; // the search could not promise the transform's values to the last bit
    }
    const auto points = static_cast<double>(pred_surface + target_surface);
    const double depth = std::log2(2.0 + static_cast<double>(std::max(pred_surface, target_surface)));
    const double tree = points * (kTreeCostBase + kTreeCostPerLevel * depth);
    const double edt = static_cast<double>(box_voxels) * kEdtCostPerAxis * measured_axes;
    return tree < edt ? VoxelMethod::Search : VoxelMethod::ProbeSearch;
}

namespace {

// Whether the search beats the two EDTs: a sample of kProbeQueries surface
// voxels, spread over the box, is searched without a bound, and the rows they
// take (and how many run out of budget, for the tree) price all queries.
bool rows_are_cheaper(const detail::RowSearch& rows, const std::vector<std::uint8_t>& surface,
                      const Extent& e, bool fused, const SearchProbe& probe)
{
    const std::int64_t points = probe.points;
    const std::int64_t stride = std::max<std::int64_t>(1, points / kProbeQueries);
    const std::int64_t plane = e[1] * e[2];
    std::int64_t seen = 0;
    std::int64_t probes = 0;
    std::int64_t rows_used = 0;
    std::int64_t to_tree = 0;
    for (std::int64_t k = 0; k < static_cast<std::int64_t>(surface.size()); ++k) {
        const std::uint8_t bits = surface[static_cast<std::size_t>(k)];
        for (int side = 0; side < 2; ++side) {
            if ((bits & (1 << side)) == 0 || seen++ % stride != 0) {
                continue;
            }
            const detail::GridPoint q{static_cast<std::int32_t>(k / plane),
                                      static_cast<std::int32_t>((k % plane) / e[2]),
                                      static_cast<std::int32_t>(k % e[2])};
            double best = kInf;
            detail::GridPoint point{};
            std::int64_t budget = kRowBudget;
            const int other = 1 - side;
            fused ? rows.seed<true>(other, q, best, point, kSeedRings)
                  : rows.seed<false>(other, q, best, point, kSeedRings);
            const bool found = fused ? rows.nearest<true>(other, q, best, point, budget)
                                     : rows.nearest<false>(other, q, best, point, budget);
            rows_used += kRowBudget - std::max<std::int64_t>(budget, 0);
            to_tree += found ? 0 : 1;
            ++probes;
        }
    }
    if (probes == 0) {
        return false;
    }
    const double per_query = kQueryNs +
                             kRowNs * static_cast<double>(rows_used) / static_cast<double>(probes) +
                             kTreeQueryNs * static_cast<double>(to_tree) / static_cast<double>(probes);
    return static_cast<double>(points) * per_query < kEdtNsPerVoxelAxis * probe.edt_voxel_axes;
}

} // namespace

bool nearest_neighbour_distances(const std::vector<std::uint8_t>& surface, const GridBox& box,
                                 const Extent& ext, int group_axis, const SurfaceDistanceOptions& options,
                                 std::vector<GroupDistances>& result, float* pred_map,
                                 const SearchProbe* probe)
{
    const Extent e = box.extent();
    const bool fused = detail::transform_arithmetic() == detail::Arithmetic::Fused;
    const auto& s = options.spacing_xyz;
    const detail::AxisLengths lengths(e, {s[2], s[1], s[0]});
    // Row searches over the whole box (shared by every group), unless slices
    // run along W (rows along W would then cross them) or the rows are so
    // short (under 6 voxels) that their packed bits, padded to whole words,
    // would take more than the distance transform's 8 bytes per box voxel.
    std::unique_ptr<detail::RowSearch> rows;
    if (group_axis != 2 && detail::RowSearch::bytes_per_row(e[2]) <= 8 * e[2]) {
        const std::array<bool, 2> free{group_axis != 0 && e[0] > 1, group_axis != 1 && e[1] > 1};
        rows = std::make_unique<detail::RowSearch>(surface.data(), e, lengths, free, options.threads);
    }
    if (probe != nullptr && (rows == nullptr || !rows_are_cheaper(*rows, surface, e, fused, *probe))) {
        return false;
    }
    const std::int64_t plane = e[1] * e[2];
    const auto groups = static_cast<std::int64_t>(result.size());
    const auto ga = static_cast<std::size_t>(std::max(group_axis, 0));
    const auto group_of = [&](std::int64_t d, std::int64_t h, std::int64_t w) -> std::int64_t {
        if (group_axis < 0) {
            return 0;
        }
        return box.lo[ga] + (ga == 0 ? d : ga == 1 ? h : w);
    };
    // Visits the surface voxels of scan positions [first, last) in scan
    // order, skipping zero words (surfaces are sparse in their box).
    const auto for_each_surface_voxel = [&](std::int64_t first, std::int64_t last, const auto& fn) {
        const std::uint8_t* bytes = surface.data();
        std::int64_t k = first;
        while (k < last) {
            if (k + 8 <= last) {
                std::uint64_t word = 0;
                std::memcpy(&word, bytes + k, sizeof word);
                if (word == 0) {
                    k += 8;
                    continue;
                }
            }
            const std::int64_t stop = std::min(last, k + 8);
            for (; k < stop; ++k) {
                const std::uint8_t bits = bytes[k];
                if (bits != 0) {
                    const std::int64_t d = k / plane;
                    const std::int64_t h = (k % plane) / e[2];
                    const std::int64_t w = k % e[2];
                    fn(bits, d, h, w);
                }
            }
        }
    };
    // Surface voxels per group (CSR), in scan order within each group:
    // counted, then placed, by workers over consecutive plane ranges (the
    // same ranges both times), each writing after the ranges before it.
    const int collectors = detail::worker_count(options.threads, e[0], box.voxels());
    std::vector<std::vector<std::int64_t>> p_next(
        static_cast<std::size_t>(collectors), std::vector<std::int64_t>(static_cast<std::size_t>(groups), 0));
    std::vector<std::vector<std::int64_t>> t_next = p_next;
    // Runs visit(p_next[t], t_next[t], bits, group, point) at each surface
    // voxel of worker t's planes.
    const auto over_plane_ranges = [&](const auto& visit) {
        detail::parallel_for(e[0], collectors, [&](std::int64_t begin, std::int64_t end, int t) {
            auto& p_row = p_next[static_cast<std::size_t>(t)];
            auto& t_row = t_next[static_cast<std::size_t>(t)];
            for_each_surface_voxel(
                begin * plane, end * plane,
                [&](std::uint8_t bits, std::int64_t d, std::int64_t h, std::int64_t w) {
                    const detail::GridPoint point{static_cast<std::int32_t>(d), static_cast<std::int32_t>(h),
                                                  static_cast<std::int32_t>(w)};
                    visit(p_row, t_row, bits, static_cast<std::size_t>(group_of(d, h, w)), point);
                });
        });
    };
    over_plane_ranges(
        [](auto& p_count, auto& t_count, std::uint8_t bits, std::size_t g, const detail::GridPoint&) {
            p_count[g] += bits & 1;
            t_count[g] += bits >> 1;
        });
    std::vector<std::int64_t> p_start(static_cast<std::size_t>(groups + 1), 0);
    std::vector<std::int64_t> t_start(static_cast<std::size_t>(groups + 1), 0);
    for (std::size_t g = 0; g < static_cast<std::size_t>(groups); ++g) {
        p_start[g + 1] = p_start[g];
        t_start[g + 1] = t_start[g];
        for (std::size_t t = 0; t < static_cast<std::size_t>(collectors); ++t) {
            const std::int64_t p_count = p_next[t][g];
            const std::int64_t t_count = t_next[t][g];
            p_next[t][g] = p_start[g + 1];
            t_next[t][g] = t_start[g + 1];
            p_start[g + 1] += p_count;
            t_start[g + 1] += t_count;
        }
    }
    std::vector<detail::GridPoint> p_points(static_cast<std::size_t>(p_start.back()));
    std::vector<detail::GridPoint> t_points(static_cast<std::size_t>(t_start.back()));
    over_plane_ranges(
        [&](auto& p_at, auto& t_at, std::uint8_t bits, std::size_t g, const detail::GridPoint& point) {
            if ((bits & 1) != 0) {
                p_points[static_cast<std::size_t>(p_at[g]++)] = point;
            }
            if ((bits & 2) != 0) {
                t_points[static_cast<std::size_t>(t_at[g]++)] = point;
            }
        });
    const auto map_index = [&](const detail::GridPoint& p) {
        return ((box.lo[0] + p[0]) * ext[1] + box.lo[1] + p[1]) * ext[2] + box.lo[2] + p[2];
    };
    // The other surface of a query: its side in the row search and its tree,
    // built only when a query first needs it.
    struct Other {
        int side = 0; // 0 prediction, 1 target
        std::function<const detail::SurfaceTree&()> tree;
    };
    // Distances from queries[begin, end) to `other`, into out[begin, end).
    const auto query = [&](const Other& other, const detail::GridPoint* queries, std::int64_t begin,
                           std::int64_t end, double* out, bool pred_side) {
        // The answers of the last kRecent queries: a neighbour among them
        // (usually the previous query, or the one a row back in scan order)
        // bounds this query's search tightly.
        std::array<detail::GridPoint, kRecent> recent{};
        detail::GridPoint answer{};
        for (std::int64_t k = begin; k < end; ++k) {
            const detail::GridPoint& q = queries[k];
            bool near = false;
            for (std::int64_t j = k - 1; j >= std::max(begin, k - kRecent); --j) {
                const detail::GridPoint& p = queries[j];
                if (std::abs(q[0] - p[0]) <= 1 && std::abs(q[1] - p[1]) <= 1 && std::abs(q[2] - p[2]) <= 1) {
                    answer = recent[static_cast<std::size_t>(j % kRecent)];
                    near = true;
                    break;
                }
            }
            // Otherwise the previous answer is a bound all the same (loose).
            double squared = kInf;
            if (k > begin) {
                squared = fused ? detail::squared_distance<true>(lengths, q, answer)
                                : detail::squared_distance<false>(lengths, q, answer);
            }
            // Rows when the answer lies close (within kRowBudget rows); the
            // tree when a neighbour's answer says it does not, or when the
            // rows' budget runs out.
            bool found = false;
            if (rows != nullptr && (!near || rows->rows_within(squared) <= static_cast<double>(kRowBudget))) {
                if (k == begin) {
                    fused ? rows->seed<true>(other.side, q, squared, answer, kSeedRings)
                          : rows->seed<false>(other.side, q, squared, answer, kSeedRings);
                }
                // A loose bound (not a neighbour's answer) may cost more rows
                // before the search finds the answer's neighbourhood.
                std::int64_t budget = near ? kRowBudget : 4 * kRowBudget;
                found = fused ? rows->nearest<true>(other.side, q, squared, answer, budget)
                              : rows->nearest<false>(other.side, q, squared, answer, budget);
            }
            if (!found) {
                const bool bounded = squared != kInf;
                squared = fused ? other.tree().nearest<true>(q, answer, bounded)
                                : other.tree().nearest<false>(q, answer, bounded);
            }
            recent[static_cast<std::size_t>(k % kRecent)] = answer;
            const double distance = std::sqrt(squared);
            out[k] = distance;
            if (pred_side && pred_map != nullptr) {
                pred_map[map_index(q)] = static_cast<float>(distance);
            }
        }
    };
    const auto slice_of = [](const std::vector<detail::GridPoint>& points,
                             const std::vector<std::int64_t>& start, std::int64_t g) {
        const auto* first = points.data() + start[static_cast<std::size_t>(g)];
        return std::vector<detail::GridPoint>(first, points.data() + start[static_cast<std::size_t>(g) + 1]);
    };
    // Fills a group whose other surface is empty: every distance is +inf.
    const auto fill_unmatched = [&](std::int64_t g, GroupDistances& out) {
        std::fill(out.pred_to_target.begin(), out.pred_to_target.end(), kInf);
        std::fill(out.target_to_pred.begin(), out.target_to_pred.end(), kInf);
        if (pred_map != nullptr) {
            for (std::int64_t k = p_start[static_cast<std::size_t>(g)];
                 k < p_start[static_cast<std::size_t>(g) + 1]; ++k) {
                pred_map[map_index(p_points[static_cast<std::size_t>(k)])] =
                    std::numeric_limits<float>::infinity();
            }
        }
    };
    const auto sizes = [&](std::int64_t g) {
        const auto u = static_cast<std::size_t>(g);
        return std::pair<std::int64_t, std::int64_t>{p_start[u + 1] - p_start[u],
                                                     t_start[u + 1] - t_start[u]};
    };

    if (group_axis < 0) {
        // One problem: split the queries over all threads; a tree is built
        // once, by the first query that needs it.
        // Plain variables, not a structured binding: the lambdas below capture
        // them, which clang before 16 refuses for bindings.
        const std::int64_t np = sizes(0).first, nt = sizes(0).second;
        GroupDistances& out = result.front();
        out.pred_to_target.resize(static_cast<std::size_t>(np));
        out.target_to_pred.resize(static_cast<std::size_t>(nt));
        if (np == 0 || nt == 0) {
            fill_unmatched(0, out);
            return true;
        }
        std::array<std::once_flag, 2> once;
        std::array<std::unique_ptr<detail::SurfaceTree>, 2> built;
        const std::array<const std::vector<detail::GridPoint>*, 2> points{&p_points, &t_points};
        const auto lazy_tree = [&](std::size_t side) {
            return [&, side]() -> const detail::SurfaceTree& {
                std::call_once(once[side], [&] {
                    built[side] = std::make_unique<detail::SurfaceTree>(*points[side], lengths);
                });
                return *built[side];
            };
        };
        const Other pred_side{0, lazy_tree(0)};
        const Other target_side{1, lazy_tree(1)};
        constexpr std::int64_t kChunk = 4096;
        const std::int64_t p_chunks = (np + kChunk - 1) / kChunk;
        const std::int64_t t_chunks = (nt + kChunk - 1) / kChunk;
        const int workers = detail::worker_count(options.threads, p_chunks + t_chunks, (np + nt) * 64);
        detail::parallel_dynamic(p_chunks + t_chunks, workers, [&](std::int64_t c) {
            if (options.cancel != nullptr && options.cancel->load()) {
                return; // the caller throws once the workers are done
            }
            if (c < p_chunks) {
                query(target_side, p_points.data(), c * kChunk, std::min(np, (c + 1) * kChunk),
                      out.pred_to_target.data(), true);
            } else {
                const std::int64_t k = c - p_chunks;
                query(pred_side, t_points.data(), k * kChunk, std::min(nt, (k + 1) * kChunk),
                      out.target_to_pred.data(), false);
            }
        });
        return true;
    }
    // Per slice: one small problem per slice, slices spread over the threads.
    const int workers = detail::worker_count(options.threads, groups, (p_start.back() + t_start.back()) * 64);
    detail::parallel_dynamic(groups, workers, [&](std::int64_t g) {
        if (options.cancel != nullptr && options.cancel->load()) {
            return; // the caller throws once the workers are done
        }
        const std::int64_t np = sizes(g).first, nt = sizes(g).second;
        GroupDistances& out = result[static_cast<std::size_t>(g)];
        out.pred_to_target.resize(static_cast<std::size_t>(np));
        out.target_to_pred.resize(static_cast<std::size_t>(nt));
        if (np == 0 && nt == 0) {
            return;
        }
        if (np == 0 || nt == 0) {
            fill_unmatched(g, out);
            return;
        }
        // The slice's trees, built on first use (this thread only).
        std::optional<detail::SurfaceTree> p_tree, t_tree;
        const Other pred_side{0, [&]() -> const detail::SurfaceTree& {
                                  if (!p_tree) {
                                      p_tree.emplace(slice_of(p_points, p_start, g), lengths);
                                  }
                                  return *p_tree;
                              }};
        const Other target_side{1, [&]() -> const detail::SurfaceTree& {
                                    if (!t_tree) {
                                        t_tree.emplace(slice_of(t_points, t_start, g), lengths);
                                    }
                                    return *t_tree;
                                }};
        query(target_side, p_points.data() + p_start[static_cast<std::size_t>(g)], 0, np,
              out.pred_to_target.data(), true);
        query(pred_side, t_points.data() + t_start[static_cast<std::size_t>(g)], 0, nt,
              out.target_to_pred.data(), false);
    });
    return true;
}

std::vector<GroupDistances> directed_distances(const CroppedMaskPair& crop, const Extent& ext,
                                               const std::array<bool, 3>& axes, int group_axis,
                                               const SurfaceDistanceOptions& options, float* pred_map)
{
    const std::int64_t groups = group_axis < 0 ? 1 : ext[static_cast<std::size_t>(group_axis)];
    std::vector<GroupDistances> result(static_cast<std::size_t>(groups));
    const int threads = options.threads;
    const GridBox& box = crop.box;
    if (box.empty()) {
        return result;
    }
    const std::vector<std::uint8_t>& inside = crop.inside;
    const Extent e = box.extent();
    const std::int64_t plane = e[1] * e[2];
    const int workers = detail::worker_count(threads, e[0], box.voxels());

    // Surfaces, same bits: a mask voxel with a face neighbour (along a measured
    // axis) that is background or outside the box. Outside the box is outside
    // the image or outside the union's bounding box: background either way.
    std::vector<std::uint8_t> surface(static_cast<std::size_t>(box.voxels()));
    std::vector<std::array<std::int64_t, 2>> counts(static_cast<std::size_t>(workers), {0, 0});
    detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
        // Row by row, in vectorisable loops: interior bits are those whose
        // neighbours along every measured axis are inside; the box's first and
        // last voxels along a measured axis have none.
        const std::int64_t n = e[2];
        std::vector<std::uint8_t> interior(static_cast<std::size_t>(n));
        std::int64_t np = 0;
        std::int64_t nt = 0;
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                const std::int64_t row = d * plane + h * n;
                const std::uint8_t* v = inside.data() + row;
                std::uint8_t* in = interior.data();
                if (axes[2]) {
                    in[0] = 0;
                    in[n - 1] = 0;
                    for (std::int64_t w = 1; w < n - 1; ++w) {
                        in[w] = static_cast<std::uint8_t>(v[w] & v[w - 1] & v[w + 1]);
                    }
                } else {
                    std::copy_n(v, n, in);
                }
                const auto neighbours = [&](std::size_t a, std::int64_t c, std::int64_t step) {
                    if (!axes[a]) {
                        return;
                    }
                    if (c == 0 || c == e[a] - 1) {
                        std::fill_n(in, n, std::uint8_t{0});
                        return;
                    }
                    const std::uint8_t* lo = v - step;
                    const std::uint8_t* hi = v + step;
                    for (std::int64_t w = 0; w < n; ++w) {
                        in[w] = static_cast<std::uint8_t>(in[w] & lo[w] & hi[w]);
                    }
                };
                neighbours(1, h, n);
                neighbours(0, d, plane);
                std::uint8_t* out = surface.data() + row;
                std::int64_t row_p = 0;
                std::int64_t row_t = 0;
                for (std::int64_t w = 0; w < n; ++w) {
                    const auto bits = static_cast<std::uint8_t>(v[w] & ~in[w]);
                    out[w] = bits;
                    row_p += bits & 1;
                    row_t += bits >> 1;
                }
                np += row_p;
                nt += row_t;
            }
        }
        counts[static_cast<std::size_t>(t)] = {np, nt};
    });
    std::int64_t pred_surface = 0;
    std::int64_t target_surface = 0;
    for (const auto& c : counts) {
        pred_surface += c[0];
        target_surface += c[1];
    }
    const int measured = (axes[0] && e[0] > 1 ? 1 : 0) + (axes[1] && e[1] > 1 ? 1 : 0) + (axes[2] ? 1 : 0);
    const VoxelMethod method =
        choose_voxel_method(options.search, box.voxels(), pred_surface, target_surface, measured);
    const SearchProbe probe{static_cast<double>(box.voxels()) * measured, pred_surface + target_surface};
    if (method != VoxelMethod::Transform &&
        nearest_neighbour_distances(surface, box, ext, group_axis, options, result, pred_map,
                                    method == VoxelMethod::ProbeSearch ? &probe : nullptr)) {
        return result;
    }

    const EdtGrid grid{e, options.spacing_xyz, axes};
    std::vector<double> dist(static_cast<std::size_t>(box.voxels()));
    const auto gather = [&](std::uint8_t query_bit, bool pred_side) {
        for (std::int64_t d = 0; d < e[0]; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                for (std::int64_t w = 0; w < e[2]; ++w) {
                    const std::int64_t i = d * plane + h * e[2] + w;
                    if ((surface[static_cast<std::size_t>(i)] & query_bit) == 0) {
                        continue;
                    }
                    std::int64_t g = 0;
                    if (group_axis >= 0) {
                        const auto ga = static_cast<std::size_t>(group_axis);
                        g = box.lo[ga] + (ga == 0 ? d : ga == 1 ? h : w);
                    }
                    auto& group = result[static_cast<std::size_t>(g)];
                    const double distance = std::sqrt(dist[static_cast<std::size_t>(i)]);
                    (pred_side ? group.pred_to_target : group.target_to_pred).push_back(distance);
                    if (pred_side && pred_map != nullptr) {
                        pred_map[((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2] + w] =
                            static_cast<float>(distance);
                    }
                }
            }
        }
    };
    // Distances to the target's surface, read on the prediction's surface...
    squared_distance_transform(surface.data(), grid, dist.data(), threads, 2);
    gather(1, true);
    // ...and to the prediction's surface, read on the target's.
    squared_distance_transform(surface.data(), grid, dist.data(), threads, 1);
    gather(2, false);
    return result;
}

std::vector<GroupDistances> directed_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                               const Extent& ext, const std::array<bool, 3>& axes,
                                               int group_axis, const SurfaceDistanceOptions& options,
                                               float* pred_map)
{
    return directed_distances(crop_mask_pair(pred, target, ext, options.threads), ext, axes, group_axis,
                              options, pred_map);
}

} // namespace detail

} // namespace masklens
