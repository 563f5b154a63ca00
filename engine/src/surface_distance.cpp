#include "masklens/engine/surface_distance.h"

#include "masklens/engine/distance_transform.h"
#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"
#include "surface_search.h"
#include "value_loading.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
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

void throw_if_cancelled(const SurfaceDistanceOptions& options)
{
    if (options.cancel != nullptr && options.cancel->load()) {
        throw Error(Error::Kind::Cancelled, {}, "surface distances cancelled");
    }
}

// Bounding box of (pred | target) over a [D, H, W] grid; empty box when both
// masks are empty.
GridBox union_box(const std::uint8_t* pred, const std::uint8_t* target, const Extent& ext, int threads)
{
    const std::int64_t h_count = ext[1];
    const std::int64_t w_count = ext[2];
    const int workers = detail::worker_count(threads, ext[0], ext[0] * ext[1] * ext[2]);
    std::vector<GridBox> partial(static_cast<std::size_t>(workers));
    detail::parallel_for(ext[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
        GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < h_count; ++h) {
                const std::int64_t row = (d * h_count + h) * w_count;
                const std::uint8_t* p = pred + row;
                const std::uint8_t* q = target + row;
                std::uint8_t any = 0; // a vectorisable test first: most rows are empty
                for (std::int64_t w = 0; w < w_count; ++w) {
                    any = static_cast<std::uint8_t>(any | p[w] | q[w]);
                }
                if (any == 0) {
                    continue;
                }
                std::int64_t first = 0;
                while (first < w_count && p[first] == 0 && q[first] == 0) {
                    ++first;
                }
                if (first == w_count) {
                    continue;
                }
                std::int64_t last = w_count - 1;
                while (p[last] == 0 && q[last] == 0) {
                    --last;
                }
                box.lo[0] = std::min(box.lo[0], d);
                box.hi[0] = std::max(box.hi[0], d + 1);
                box.lo[1] = std::min(box.lo[1], h);
                box.hi[1] = std::max(box.hi[1], h + 1);
                box.lo[2] = std::min(box.lo[2], first);
                box.hi[2] = std::max(box.hi[2], last + 1);
            }
        }
        partial[static_cast<std::size_t>(t)] = box;
    });
    GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
    for (const auto& part : partial) {
        for (std::size_t a = 0; a < 3; ++a) {
            box.lo[a] = std::min(box.lo[a], part.lo[a]);
            box.hi[a] = std::max(box.hi[a], part.hi[a]);
        }
    }
    return box;
}

// Directed distances of one group (the whole image or one slice).
struct GroupDistances {
    std::vector<double> pred_to_target;
    std::vector<double> target_to_pred;
};

// How voxel-mode distances are found: the EDTs, the search at surface
// voxels, or the search only if a probe of it (rows_are_cheaper) says so.
enum class VoxelMethod { Transform, Search, ProbeSearch };

// Estimated costs (arbitrary units, measured on the benchmark's spheres and
// noise, see docs/benchmarks.md) of the two exact methods: the EDT touches
// every box voxel in each of its passes, twice; the tree search costs per
// surface voxel (building plus querying), growing with the tree's depth.
// Where that model prefers the EDT (surfaces filling much of their box), the
// row search may still be cheaper: it is probed.
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

// What rows_are_cheaper weighs: the two EDTs' work (box voxels times
// measured axes) against the search's queries (surface voxels of both masks).
struct SearchProbe {
    double edt_voxel_axes = 0;
    std::int64_t points = 0;
};

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

// Directed distances by the search at surface voxels (rows, then the k-d
// tree; see surface_search.h): `surface` holds the box's surface bits (1
// prediction, 2 target), in scan order. With a probe, first checks that the
// search is the cheaper method and returns false, computing nothing, when it
// is not (the caller runs the EDTs); returns true once the distances are in
// `result`.
bool nearest_neighbour_distances(const std::vector<std::uint8_t>& surface, const GridBox& box,
                                 const Extent& ext, int group_axis, const SurfaceDistanceOptions& options,
                                 std::vector<GroupDistances>& result, float* pred_map,
                                 const SearchProbe* probe = nullptr)
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

} // namespace

CroppedMaskPair crop_mask_pair(const std::uint8_t* pred, const std::uint8_t* target,
                               const std::array<std::int64_t, 3>& extent_dhw, int threads)
{
    const Extent& ext = extent_dhw;
    CroppedMaskPair crop;
    crop.box = union_box(pred, target, ext, threads);
    if (crop.box.empty()) {
        return crop;
    }
    const GridBox& box = crop.box;
    const Extent e = box.extent();
    const std::int64_t plane = e[1] * e[2];
    const int workers = detail::worker_count(threads, e[0], box.voxels());
    crop.inside.resize(static_cast<std::size_t>(box.voxels()));
    detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t d = begin; d < end; ++d) {
            for (std::int64_t h = 0; h < e[1]; ++h) {
                const std::int64_t src = ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2];
                std::uint8_t* dst = crop.inside.data() + d * plane + h * e[2];
                for (std::int64_t w = 0; w < e[2]; ++w) {
                    dst[w] = static_cast<std::uint8_t>((pred[src + w] != 0 ? 1 : 0) |
                                                       (target[src + w] != 0 ? 2 : 0));
                }
            }
        }
    });
    return crop;
}

namespace {

// The batched core: a cropped mask pair of a [D, H, W] grid; surfaces and
// distances are measured along `axes`; group_axis (-1: none) splits the
// result per slice along an axis that must be excluded from `axes`.
std::vector<GroupDistances> directed_distances(const CroppedMaskPair& crop, const Extent& ext,
                                               const std::array<bool, 3>& axes, int group_axis,
                                               const SurfaceDistanceOptions& options,
                                               float* pred_map = nullptr)
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
                                               float* pred_map = nullptr)
{
    return directed_distances(crop_mask_pair(pred, target, ext, options.threads), ext, axes, group_axis,
                              options, pred_map);
}

std::vector<SurfaceDistances> summarize_groups(std::vector<GroupDistances>& groups,
                                               const SurfaceDistanceOptions& options)
{
    std::vector<SurfaceDistances> out(groups.size());
    std::int64_t cost = 0;
    for (const auto& g : groups) {
        cost += static_cast<std::int64_t>(g.pred_to_target.size() + g.target_to_pred.size());
    }
    const auto count = static_cast<std::int64_t>(groups.size());
    const int workers = detail::worker_count(options.threads, count, cost);
    detail::parallel_for(count, workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t i = begin; i < end; ++i) {
            auto& g = groups[static_cast<std::size_t>(i)];
            out[static_cast<std::size_t>(i)] =
                summarize_surface_distances(g.pred_to_target, g.target_to_pred, options);
        }
    });
    return out;
}

// Neumaier-compensated sum.
double accurate_sum(const std::vector<double>& values)
{
    double sum = 0;
    double compensation = 0;
    for (const double v : values) {
        const double t = sum + v;
        if (std::abs(sum) >= std::abs(v)) {
            compensation += (sum - t) + v;
        } else {
            compensation += (v - t) + sum;
        }
        sum = t;
    }
    return sum + compensation;
}

double half_to_double(std::uint16_t bits)
{
    const int sign = (bits >> 15) & 1;
    const int exponent = (bits >> 10) & 0x1F;
    const int mantissa = bits & 0x3FF;
    double value = 0;
    if (exponent == 0) {
        value = std::ldexp(static_cast<double>(mantissa), -24);
    } else if (exponent == 31) {
        value = mantissa == 0 ? kInf : kNaN;
    } else {
        value = std::ldexp(static_cast<double>(mantissa + 1024), exponent - 25);
    }
    return sign ? -value : value;
}

// Half floats are read as their bit pattern and converted in select_values
// (a tag type keeps them apart from uint16 label maps).
using HalfBits = detail::Half;

template <class T>
void select_values(const T* src, std::int64_t count, const MaskSelector& sel, std::uint8_t* dst)
{
    using Kind = MaskSelector::Kind;
    if constexpr (std::is_integral_v<T>) {
        if (sel.kind == Kind::Auto) {
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = src[i] != 0 ? 1 : 0;
            }
            return;
        }
        if (sel.kind == Kind::Label) {
            if (!std::in_range<T>(sel.label)) {
                std::fill_n(dst, count, std::uint8_t{0});
                return;
            }
            const auto label = static_cast<T>(sel.label);
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = src[i] == label ? 1 : 0;
            }
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            dst[i] = sel.predicate(static_cast<double>(src[i])) ? 1 : 0;
        }
    } else {
        const auto value = [&](std::int64_t i) -> double {
            if constexpr (std::is_same_v<T, HalfBits>) {
                return half_to_double(src[i].bits);
            } else {
                return static_cast<double>(src[i]);
            }
        };
        if (sel.kind == Kind::Auto) {
            for (std::int64_t i = 0; i < count; ++i) {
                const double v = value(i);
                dst[i] = (sel.strict ? v > sel.threshold : v >= sel.threshold) ? 1 : 0;
            }
            return;
        }
        if (sel.kind == Kind::Label) {
            const auto label = static_cast<double>(sel.label);
            for (std::int64_t i = 0; i < count; ++i) {
                dst[i] = value(i) == label ? 1 : 0;
            }
            return;
        }
        for (std::int64_t i = 0; i < count; ++i) {
            dst[i] = sel.predicate(value(i)) ? 1 : 0;
        }
    }
}

// ---- Subvoxel (DeepMind) surfaces ------------------------------------------

// One triangle's area vector in voxel units (exact: multiples of 1/8).
using AreaVector = std::array<double, 3>;

// Marching-cubes triangles of every 2x2x2 neighbourhood code, in voxel units.
std::array<std::vector<AreaVector>, 256> build_cube_triangles()
{
    std::array<std::vector<AreaVector>, 256> table;
    using Point = std::array<int, 3>; // doubled coordinates: 0, 1 (midpoint) or 2
    for (int code = 1; code < 255; ++code) {
        const auto inside = [code](const Point& c) {
            return ((code >> (7 - (4 * c[0] + 2 * c[1] + c[2]))) & 1) != 0;
        };
        int count = 0;
        for (int i = 0; i < 8; ++i) {
            count += (code >> i) & 1;
        }
        // On a face whose diagonal corners agree, the minority side's corners
        // are cut off separately (ties: the inside's), so that a code and its
        // complement get the same surface.
        const bool separate_inside = count <= 4;
        std::vector<std::pair<Point, Point>> segments;
        for (int axis = 0; axis < 3; ++axis) {
            const int o0 = axis == 0 ? 1 : 0;
            const int o1 = axis == 2 ? 1 : 2;
            for (int side = 0; side < 2; ++side) {
                static constexpr int cycle[4][2] = {{0, 0}, {1, 0}, {1, 1}, {0, 1}};
                std::array<Point, 4> corners{};
                for (int i = 0; i < 4; ++i) {
                    corners[i][axis] = side;
                    corners[i][o0] = cycle[i][0];
                    corners[i][o1] = cycle[i][1];
                }
                std::array<Point, 4> mid{};
                int crossings = 0;
                for (int i = 0; i < 4; ++i) {
                    const Point& a = corners[i];
                    const Point& b = corners[(i + 1) % 4];
                    if (inside(a) != inside(b)) {
                        mid[crossings] = {a[0] + b[0], a[1] + b[1], a[2] + b[2]};
                        ++crossings;
                    }
                }
                if (crossings == 2) {
                    segments.emplace_back(mid[0], mid[1]);
                } else if (crossings == 4) {
                    if (inside(corners[0]) == separate_inside) { // cut corners 0 and 2
                        segments.emplace_back(mid[3], mid[0]);
                        segments.emplace_back(mid[1], mid[2]);
                    } else { // cut corners 1 and 3
                        segments.emplace_back(mid[0], mid[1]);
                        segments.emplace_back(mid[2], mid[3]);
                    }
                }
            }
        }
        // Chain the segments into closed polygons; fan each from the vertex
        // that gives the largest area.
        while (!segments.empty()) {
            std::vector<Point> polygon{segments.front().first, segments.front().second};
            segments.erase(segments.begin());
            for (bool extended = true; extended;) {
                extended = false;
                for (auto it = segments.begin(); it != segments.end(); ++it) {
                    if (it->first == polygon.back() || it->second == polygon.back()) {
                        polygon.push_back(it->first == polygon.back() ? it->second : it->first);
                        segments.erase(it);
                        extended = true;
                        break;
                    }
                }
            }
            polygon.pop_back(); // closed: the last vertex repeats the first
            const std::size_t n = polygon.size();
            const auto fan = [&](std::size_t apex) {
                std::vector<AreaVector> triangles;
                const Point& p0 = polygon[apex];
                for (std::size_t i = 1; i + 1 < n; ++i) {
                    const Point& p1 = polygon[(apex + i) % n];
                    const Point& p2 = polygon[(apex + i + 1) % n];
                    const double u[3] = {double(p1[0] - p0[0]), double(p1[1] - p0[1]), double(p1[2] - p0[2])};
                    const double v[3] = {double(p2[0] - p0[0]), double(p2[1] - p0[1]), double(p2[2] - p0[2])};
                    // Doubled coordinates: the cross product is 4x, the area vector 1/8 of it.
                    triangles.push_back({(u[1] * v[2] - u[2] * v[1]) / 8.0, (u[2] * v[0] - u[0] * v[2]) / 8.0,
                                         (u[0] * v[1] - u[1] * v[0]) / 8.0});
                }
                return triangles;
            };
            const auto unit_area = [](const std::vector<AreaVector>& triangles) {
                double sum = 0;
                for (const auto& t : triangles) {
                    sum += std::sqrt(t[0] * t[0] + t[1] * t[1] + t[2] * t[2]);
                }
                return sum;
            };
            auto best = fan(0);
            double best_area = unit_area(best);
            for (std::size_t apex = 1; apex < n; ++apex) {
                auto candidate = fan(apex);
                const double area = unit_area(candidate);
                if (area > best_area + 1e-12) {
                    best = std::move(candidate);
                    best_area = area;
                }
            }
            table[static_cast<std::size_t>(code)].insert(table[static_cast<std::size_t>(code)].end(),
                                                         best.begin(), best.end());
        }
    }
    return table;
}

const std::array<std::vector<AreaVector>, 256>& cube_triangles()
{
    static const auto table = build_cube_triangles();
    return table;
}

// numpy's pairwise summation (float64 add.reduce over a 1-D array).
double numpy_pairwise_sum(const double* a, std::int64_t n)
{
    if (n < 8) {
        double res = 0.0;
        for (std::int64_t i = 0; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    if (n <= 128) {
        double r[8];
        for (int j = 0; j < 8; ++j) {
            r[j] = a[j];
        }
        std::int64_t i = 8;
        for (; i < n - (n % 8); i += 8) {
            for (int j = 0; j < 8; ++j) {
                r[j] += a[i + j];
            }
        }
        double res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for (; i < n; ++i) {
            res += a[i];
        }
        return res;
    }
    std::int64_t n2 = n / 2;
    n2 -= n2 % 8;
    return numpy_pairwise_sum(a, n2) + numpy_pairwise_sum(a + n2, n - n2);
}

struct WeightedDistances {
    std::vector<std::pair<double, double>> pred_to_target; // (distance, area of the pred surfel)
    std::vector<std::pair<double, double>> target_to_pred;
};

// Surfels and their distances for one 2D ([1, H, W], spatial_dims 2) or 3D problem.
WeightedDistances subvoxel_distances(const std::uint8_t* pred, const std::uint8_t* target, const Extent& ext,
                                     int spatial_dims, const SurfaceDistanceOptions& options)
{
    WeightedDistances result;
    const int threads = options.threads;
    const GridBox box = union_box(pred, target, ext, threads);
    if (box.empty()) {
        return result;
    }
    const bool three = spatial_dims == 3;
    const Extent e = box.extent();
    const Extent ce{three ? e[0] + 1 : 1, e[1] + 1, e[2] + 1};
    const std::int64_t corners = ce[0] * ce[1] * ce[2];
    const auto& s = options.spacing_xyz;
    const auto area3 = subvoxel_area_table_3d({s[2], s[1], s[0]});
    const auto area2 = subvoxel_length_table_2d({s[1], s[0]});

    // Per corner: feature bits (1 pred surfel, 2 target surfel) and codes.
    // Corner (cd, ch, cw) touches voxels (cd - 1 + i, ch - 1 + j, cw - 1 + k),
    // i, j, k in {0, 1}; code bit 7 - (4i + 2j + k) (2D: bit 3 - (2j + k)) is
    // that voxel. Each corner row reads four voxel rows, copied first into
    // zero-padded rows (bits 1 pred, 2 target) so the loop over cw has no
    // bounds checks.
    std::vector<std::uint8_t> feature(static_cast<std::size_t>(corners));
    std::vector<std::uint8_t> code_p(static_cast<std::size_t>(corners));
    std::vector<std::uint8_t> code_t(static_cast<std::size_t>(corners));
    const int full = three ? 255 : 15;
    const int workers = detail::worker_count(threads, ce[0] * ce[1], corners);
    const std::int64_t padded = e[2] + 2;
    detail::parallel_for(ce[0] * ce[1], workers, [&](std::int64_t begin, std::int64_t end, int) {
        std::vector<std::uint8_t> rows(static_cast<std::size_t>(4 * padded));
        for (std::int64_t row = begin; row < end; ++row) {
            const std::int64_t cd = row / ce[1];
            const std::int64_t ch = row % ce[1];
            // rows[2i + j]: voxel row (cd - 1 + i, ch - 1 + j) of the box (2D: i = 1, d = 0).
            for (int ij = 0; ij < 4; ++ij) {
                std::uint8_t* r = rows.data() + ij * padded;
                const std::int64_t d = three ? cd - 1 + (ij >> 1) : ((ij >> 1) == 1 ? 0 : -1);
                const std::int64_t h = ch - 1 + (ij & 1);
                std::fill_n(r, padded, std::uint8_t{0});
                if (d < 0 || h < 0 || d >= e[0] || h >= e[1]) {
                    continue;
                }
                const std::int64_t src = ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2];
                for (std::int64_t w = 0; w < e[2]; ++w) {
                    r[w + 1] = static_cast<std::uint8_t>((pred[src + w] != 0 ? 1 : 0) |
                                                         (target[src + w] != 0 ? 2 : 0));
                }
            }
            const std::uint8_t* r00 = rows.data();
            const std::uint8_t* r01 = r00 + padded;
            const std::uint8_t* r10 = r01 + padded;
            const std::uint8_t* r11 = r10 + padded;
            const auto out = static_cast<std::size_t>(row * ce[2]);
            for (std::int64_t cw = 0; cw < ce[2]; ++cw) {
                // Bit b of every voxel: its code, in the corner's bit order.
                const auto code_of = [&](int b) {
                    const auto bit = [&](const std::uint8_t* r, std::int64_t at) {
                        return static_cast<int>((r[at] >> b) & 1);
                    };
                    if (three) {
                        return (bit(r00, cw) << 7) | (bit(r00, cw + 1) << 6) | (bit(r01, cw) << 5) |
                               (bit(r01, cw + 1) << 4) | (bit(r10, cw) << 3) | (bit(r10, cw + 1) << 2) |
                               (bit(r11, cw) << 1) | bit(r11, cw + 1);
                    }
                    return (bit(r10, cw) << 3) | (bit(r10, cw + 1) << 2) | (bit(r11, cw) << 1) |
                           bit(r11, cw + 1);
                };
                const int cp = code_of(0);
                const int ct = code_of(1);
                const auto i = out + static_cast<std::size_t>(cw);
                code_p[i] = static_cast<std::uint8_t>(cp);
                code_t[i] = static_cast<std::uint8_t>(ct);
                feature[i] = static_cast<std::uint8_t>((cp != 0 && cp != full ? 1 : 0) |
                                                       (ct != 0 && ct != full ? 2 : 0));
            }
        }
    });

    // The surfels' distances by k-d tree search when that is cheaper (the
    // corner grid has the voxels' spacing, so the search gives the transform's
    // values, see surface_search.h); they come in the corners' scan order.
    std::int64_t pred_surfels = 0;
    std::int64_t target_surfels = 0;
    for (const std::uint8_t bits : feature) {
        pred_surfels += bits & 1;
        target_surfels += bits >> 1;
    }
    const int measured = (three && ce[0] > 1 ? 1 : 0) + (ce[1] > 1 ? 1 : 0) + 1;
    const VoxelMethod method =
        choose_voxel_method(options.search, corners, pred_surfels, target_surfels, measured);
    std::vector<GroupDistances> groups(1);
    const GridBox corner_box{{0, 0, 0}, ce};
    const SearchProbe probe{static_cast<double>(corners) * measured, pred_surfels + target_surfels};
    if (method != VoxelMethod::Transform &&
        nearest_neighbour_distances(feature, corner_box, ce, -1, options, groups, nullptr,
                                    method == VoxelMethod::ProbeSearch ? &probe : nullptr)) {
        const auto pair_with_areas = [&](std::uint8_t query_bit, const std::vector<std::uint8_t>& codes,
                                         const std::vector<double>& distances,
                                         std::vector<std::pair<double, double>>& out) {
            out.reserve(distances.size());
            std::size_t k = 0;
            for (std::int64_t i = 0; i < corners; ++i) {
                if ((feature[static_cast<std::size_t>(i)] & query_bit) != 0) {
                    const std::uint8_t c = codes[static_cast<std::size_t>(i)];
                    out.emplace_back(distances[k++], three ? area3[c] : area2[c]);
                }
            }
        };
        pair_with_areas(1, code_p, groups.front().pred_to_target, result.pred_to_target);
        pair_with_areas(2, code_t, groups.front().target_to_pred, result.target_to_pred);
        return result;
    }

    const EdtGrid grid{ce, options.spacing_xyz, {three, true, true}};
    std::vector<double> dist(static_cast<std::size_t>(corners));
    const auto gather = [&](std::uint8_t query_bit, const std::vector<std::uint8_t>& codes,
                            std::vector<std::pair<double, double>>& out) {
        for (std::int64_t i = 0; i < corners; ++i) {
            if ((feature[static_cast<std::size_t>(i)] & query_bit) == 0) {
                continue;
            }
            const std::uint8_t c = codes[static_cast<std::size_t>(i)];
            out.emplace_back(std::sqrt(dist[static_cast<std::size_t>(i)]), three ? area3[c] : area2[c]);
        }
    };
    squared_distance_transform(feature.data(), grid, dist.data(), threads, 2);
    gather(1, code_p, result.pred_to_target);
    squared_distance_transform(feature.data(), grid, dist.data(), threads, 1);
    gather(2, code_t, result.target_to_pred);
    return result;
}

SurfaceDistances subvoxel_surface_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                            const Extent& ext, int spatial_dims,
                                            const SurfaceDistanceOptions& options)
{
    auto w = subvoxel_distances(pred, target, ext, spatial_dims, options);
    if (w.pred_to_target.empty() != w.target_to_pred.empty()) {
        // One mask empty: the other's surfels have no counterpart.
        for (auto& v : w.pred_to_target) {
            v.first = kInf;
        }
        for (auto& v : w.target_to_pred) {
            v.first = kInf;
        }
    }
    return summarize_weighted_surface_distances(w.pred_to_target, w.target_to_pred, options);
}

// Slice `index` along `axis` (0 D, 1 H, 2 W) of a [D, H, W] mask as a [1, rows, cols] plane.
std::vector<std::uint8_t> take_slice(const std::uint8_t* mask, const Extent& ext, int axis,
                                     std::int64_t index, Extent& plane)
{
    const int r = axis == 0 ? 1 : 0;
    const int c = axis == 2 ? 1 : 2;
    plane = {1, ext[static_cast<std::size_t>(r)], ext[static_cast<std::size_t>(c)]};
    std::vector<std::uint8_t> out(static_cast<std::size_t>(plane[1] * plane[2]));
    for (std::int64_t i = 0; i < plane[1]; ++i) {
        for (std::int64_t j = 0; j < plane[2]; ++j) {
            Extent p{0, 0, 0};
            p[static_cast<std::size_t>(axis)] = index;
            p[static_cast<std::size_t>(r)] = i;
            p[static_cast<std::size_t>(c)] = j;
            out[static_cast<std::size_t>(i * plane[2] + j)] = mask[(p[0] * ext[1] + p[1]) * ext[2] + p[2]];
        }
    }
    return out;
}

} // namespace

void validate(const SurfaceDistanceOptions& options)
{
    if (!(options.percentile >= 0 && options.percentile <= 100)) {
        throw_usage_error("surface distance: the percentile must lie in [0, 100]");
    }
    for (const double s : options.spacing_xyz) {
        if (!(s > 0) || !std::isfinite(s)) {
            throw_usage_error("surface distance: spacing must be positive and finite");
        }
    }
    if (options.nsd_tolerance_mm &&
        !(*options.nsd_tolerance_mm >= 0 && std::isfinite(*options.nsd_tolerance_mm))) {
        throw_usage_error("surface distance: the NSD tolerance must be a non-negative number of mm");
    }
}

double percentile_linear(std::vector<double>& values, double p)
{
    const auto n = static_cast<std::int64_t>(values.size());
    if (n == 0) {
        return kNaN;
    }
    // numpy.percentile(method="linear"): virtual index (n - 1) q, then lerp.
    const double q = p / 100.0;
    const double position = static_cast<double>(n - 1) * q;
    const auto below = std::clamp<std::int64_t>(static_cast<std::int64_t>(std::floor(position)), 0, n - 1);
    const double t = position - static_cast<double>(below);
    auto nth = values.begin() + below;
    std::nth_element(values.begin(), nth, values.end());
    const double a = *nth;
    if (below + 1 >= n) {
        return a;
    }
    const double b = *std::min_element(nth + 1, values.end());
    const double diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

namespace {

// The values when one or both surfaces are empty (MONAI): both empty -> NaN;
// exactly one -> every distance from the other surface is +inf and nsd 0.
// Returns false when both surfaces have elements.
bool fill_empty_surfaces(std::int64_t n_pt, std::int64_t n_tp, const SurfaceDistanceOptions& options,
                         SurfaceDistances& r)
{
    if (n_pt == 0 && n_tp == 0) {
        r.hd = r.hd_percentile = r.assd = r.nsd = kNaN;
        r.percentile_pred_to_target = r.percentile_target_to_pred = kNaN;
        r.mean_pred_to_target = r.mean_target_to_pred = kNaN;
        r.max_pred_to_target = r.max_target_to_pred = kNaN;
        return true;
    }
    if (n_pt == 0 || n_tp == 0) {
        r.hd = r.hd_percentile = r.assd = kInf;
        r.nsd = options.nsd_tolerance_mm ? 0.0 : kNaN;
        // One surface empty: both directions infinite, as MONAI reports them
        // (hd and assd are too).
        r.percentile_pred_to_target = r.mean_pred_to_target = r.max_pred_to_target = kInf;
        r.percentile_target_to_pred = r.mean_target_to_pred = r.max_target_to_pred = kInf;
        return true;
    }
    return false;
}

} // namespace

// The directed percentiles and hd_percentile by options.rule (Pooled: the
// percentile of both directions together), for plain distances (voxel mode)
// or (distance, area) pairs (subvoxel mode) with the matching `percentile`.
// Selection reorders the vectors.
template <typename Item, typename Percentile>
void apply_percentile_rule(SurfaceDistances& r, std::vector<Item>& pred_to_target,
                           std::vector<Item>& target_to_pred, const SurfaceDistanceOptions& options,
                           Percentile percentile)
{
    if (options.rule == HausdorffRule::Pooled) {
        std::vector<Item> pooled;
        pooled.reserve(pred_to_target.size() + target_to_pred.size());
        pooled.insert(pooled.end(), pred_to_target.begin(), pred_to_target.end());
        pooled.insert(pooled.end(), target_to_pred.begin(), target_to_pred.end());
        r.hd_percentile = percentile(pooled, options.percentile);
    }
    r.percentile_pred_to_target = percentile(pred_to_target, options.percentile);
    r.percentile_target_to_pred = percentile(target_to_pred, options.percentile);
    if (options.rule == HausdorffRule::Max) {
        r.hd_percentile = std::max(r.percentile_pred_to_target, r.percentile_target_to_pred);
    } else if (options.rule == HausdorffRule::Mean) {
        r.hd_percentile = 0.5 * (r.percentile_pred_to_target + r.percentile_target_to_pred);
    }
}

SurfaceDistances summarize_surface_distances(std::vector<double>& pred_to_target,
                                             std::vector<double>& target_to_pred,
                                             const SurfaceDistanceOptions& options)
{
    SurfaceDistances r;
    const auto n_pt = static_cast<std::int64_t>(pred_to_target.size());
    const auto n_tp = static_cast<std::int64_t>(target_to_pred.size());
    r.pred_surface_voxels = n_pt;
    r.target_surface_voxels = n_tp;
    if (fill_empty_surfaces(n_pt, n_tp, options, r)) {
        return r;
    }
    const double max_pt = *std::max_element(pred_to_target.begin(), pred_to_target.end());
    const double max_tp = *std::max_element(target_to_pred.begin(), target_to_pred.end());
    r.hd = std::max(max_pt, max_tp);
    r.max_pred_to_target = max_pt;
    r.max_target_to_pred = max_tp;
    const double sum_pt = accurate_sum(pred_to_target);
    const double sum_tp = accurate_sum(target_to_pred);
    r.mean_pred_to_target = sum_pt / static_cast<double>(n_pt);
    r.mean_target_to_pred = sum_tp / static_cast<double>(n_tp);
    r.assd = (sum_pt + sum_tp) / static_cast<double>(n_pt + n_tp);
    if (options.nsd_tolerance_mm) {
        const double tau = *options.nsd_tolerance_mm;
        const auto within = [tau](const std::vector<double>& v) {
            return std::count_if(v.begin(), v.end(), [tau](double x) { return x <= tau; });
        };
        r.nsd = static_cast<double>(within(pred_to_target) + within(target_to_pred)) /
                static_cast<double>(n_pt + n_tp);
    } else {
        r.nsd = kNaN;
    }
    apply_percentile_rule(r, pred_to_target, target_to_pred, options,
                          [](auto& values, double p) { return percentile_linear(values, p); });
    return r;
}

std::array<double, 256> subvoxel_area_table_3d(const std::array<double, 3>& spacing_dhw)
{
    const auto& triangles = cube_triangles();
    const double s0 = spacing_dhw[0];
    const double s1 = spacing_dhw[1];
    const double s2 = spacing_dhw[2];
    std::array<double, 256> table{};
    for (std::size_t code = 0; code < 256; ++code) {
        double sum = 0;
        for (const auto& n : triangles[code]) {
            const double x = n[0] * s1 * s2;
            const double y = n[1] * s0 * s2;
            const double z = n[2] * s0 * s1;
            sum += std::sqrt(x * x + y * y + z * z);
        }
        table[code] = sum;
    }
    return table;
}

std::array<double, 16> subvoxel_length_table_2d(const std::array<double, 2>& spacing_hw)
{
    // Marching squares through the edge midpoints: a cut corner is half a
    // cell diagonal, a straight cut one cell side.
    const double vertical = spacing_hw[0];
    const double horizontal = spacing_hw[1];
    const double diagonal = 0.5 * std::sqrt(spacing_hw[0] * spacing_hw[0] + spacing_hw[1] * spacing_hw[1]);
    std::array<double, 16> table{};
    for (int code = 1; code < 15; ++code) {
        const int count = (code & 1) + ((code >> 1) & 1) + ((code >> 2) & 1) + ((code >> 3) & 1);
        if (count != 2) {
            table[static_cast<std::size_t>(code)] = diagonal;
        } else if (code == 0b0011 || code == 0b1100) { // one row inside
            table[static_cast<std::size_t>(code)] = horizontal;
        } else if (code == 0b0101 || code == 0b1010) { // one column inside
            table[static_cast<std::size_t>(code)] = vertical;
        } else { // diagonal corners: two cuts
            table[static_cast<std::size_t>(code)] = 2 * diagonal;
        }
    }
    return table;
}

double percentile_weighted(std::vector<std::pair<double, double>>& values, double p)
{
    const auto n = static_cast<std::int64_t>(values.size());
    if (n == 0) {
        return kNaN;
    }
    std::sort(values.begin(), values.end());
    std::vector<double> areas(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        areas[i] = values[i].second;
    }
    const double total = numpy_pairwise_sum(areas.data(), n);
    const double q = p / 100.0;
    double cumulative = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        cumulative += areas[static_cast<std::size_t>(i)];
        if (cumulative / total >= q) {
            return values[static_cast<std::size_t>(i)].first;
        }
    }
    return values.back().first;
}

SurfaceDistances summarize_weighted_surface_distances(std::vector<std::pair<double, double>>& pred_to_target,
                                                      std::vector<std::pair<double, double>>& target_to_pred,
                                                      const SurfaceDistanceOptions& options)
{
    SurfaceDistances r;
    const auto n_pt = static_cast<std::int64_t>(pred_to_target.size());
    const auto n_tp = static_cast<std::int64_t>(target_to_pred.size());
    r.pred_surface_voxels = n_pt;
    r.target_surface_voxels = n_tp;
    const auto area_of = [](const std::vector<std::pair<double, double>>& v) {
        std::vector<double> a(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            a[i] = v[i].second;
        }
        return accurate_sum(a);
    };
    r.pred_surface_area = area_of(pred_to_target);
    r.target_surface_area = area_of(target_to_pred);
    if (fill_empty_surfaces(n_pt, n_tp, options, r)) {
        return r;
    }
    const auto weighted = [](const std::vector<std::pair<double, double>>& v) {
        std::vector<double> products(v.size());
        for (std::size_t i = 0; i < v.size(); ++i) {
            products[i] = v[i].first * v[i].second;
        }
        return accurate_sum(products);
    };
    const auto largest = [](const std::vector<std::pair<double, double>>& v) {
        double value = 0;
        for (const auto& x : v) {
            value = std::max(value, x.first);
        }
        return value;
    };
    r.max_pred_to_target = largest(pred_to_target);
    r.max_target_to_pred = largest(target_to_pred);
    r.hd = std::max(r.max_pred_to_target, r.max_target_to_pred);
    const double sum_pt = weighted(pred_to_target);
    const double sum_tp = weighted(target_to_pred);
    r.mean_pred_to_target = sum_pt / r.pred_surface_area;
    r.mean_target_to_pred = sum_tp / r.target_surface_area;
    r.assd = (sum_pt + sum_tp) / (r.pred_surface_area + r.target_surface_area);
    if (options.nsd_tolerance_mm) {
        const double tau = *options.nsd_tolerance_mm;
        const auto within = [tau](const std::vector<std::pair<double, double>>& v) {
            std::vector<double> a;
            for (const auto& x : v) {
                if (x.first <= tau) {
                    a.push_back(x.second);
                }
            }
            return accurate_sum(a);
        };
        r.nsd =
            (within(pred_to_target) + within(target_to_pred)) / (r.pred_surface_area + r.target_surface_area);
    } else {
        r.nsd = kNaN;
    }
    apply_percentile_rule(r, pred_to_target, target_to_pred, options,
                          [](auto& values, double p) { return percentile_weighted(values, p); });
    return r;
}

SurfaceDistances surface_distances(const std::uint8_t* pred, const std::uint8_t* target, const MaskGrid& grid,
                                   const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    const Extent ext{grid.d, grid.h, grid.w};
    if (options.surface == SurfaceMode::Subvoxel) {
        return subvoxel_surface_distances(pred, target, ext, grid.spatial_dims, options);
    }
    const std::array<bool, 3> axes{grid.spatial_dims == 3, true, true};
    auto groups = directed_distances(pred, target, ext, axes, -1, options);
    throw_if_cancelled(options);
    return summarize_groups(groups, options).front();
}

std::vector<SurfaceDistances> surface_distances_per_slice(const std::uint8_t* pred,
                                                          const std::uint8_t* target, const MaskGrid& grid,
                                                          SliceAxis axis,
                                                          const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    if (grid.spatial_dims == 2) {
        return {surface_distances(pred, target, grid, options)};
    }
    const int group_axis = axis == SliceAxis::H ? 1 : axis == SliceAxis::W ? 2 : 0;
    if (options.surface == SurfaceMode::Subvoxel) {
        // One 2D subvoxel problem per slice (not batched), in-plane spacing.
        const Extent ext{grid.d, grid.h, grid.w};
        const auto& sp = options.spacing_xyz;
        SurfaceDistanceOptions plane_options = options;
        // In-plane (rows, columns) spacing as (x = columns, y = rows).
        plane_options.spacing_xyz = group_axis == 0   ? std::array<double, 3>{sp[0], sp[1], 1.0}
                                    : group_axis == 1 ? std::array<double, 3>{sp[0], sp[2], 1.0}
                                                      : std::array<double, 3>{sp[1], sp[2], 1.0};
        std::vector<SurfaceDistances> out;
        out.reserve(static_cast<std::size_t>(ext[static_cast<std::size_t>(group_axis)]));
        for (std::int64_t i = 0; i < ext[static_cast<std::size_t>(group_axis)]; ++i) {
            Extent plane{};
            const auto p = take_slice(pred, ext, group_axis, i, plane);
            const auto t = take_slice(target, ext, group_axis, i, plane);
            out.push_back(subvoxel_surface_distances(p.data(), t.data(), plane, 2, plane_options));
        }
        return out;
    }
    std::array<bool, 3> axes{true, true, true};
    axes[static_cast<std::size_t>(group_axis)] = false;
    const Extent ext{grid.d, grid.h, grid.w};
    auto groups = directed_distances(pred, target, ext, axes, group_axis, options);
    throw_if_cancelled(options);
    return summarize_groups(groups, options);
}

SampleSurfaceDistances sample_surface_distances(const std::uint8_t* pred, const std::uint8_t* target,
                                                const MaskGrid& grid, SliceAxis axis,
                                                const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    SampleSurfaceDistances out;
    if (grid.spatial_dims == 2 || options.surface == SurfaceMode::Subvoxel) {
        throw_if_cancelled(options);
        out.whole = surface_distances(pred, target, grid, options);
        throw_if_cancelled(options);
        out.slices = grid.spatial_dims == 2 ? std::vector<SurfaceDistances>{out.whole}
                                            : surface_distances_per_slice(pred, target, grid, axis, options);
        return out;
    }
    const Extent ext{grid.d, grid.h, grid.w};
    throw_if_cancelled(options);
    const CroppedMaskPair crop = crop_mask_pair(pred, target, ext, options.threads);
    auto whole = directed_distances(crop, ext, {true, true, true}, -1, options);
    throw_if_cancelled(options);
    out.whole = summarize_groups(whole, options).front();
    const int group_axis = axis == SliceAxis::H ? 1 : axis == SliceAxis::W ? 2 : 0;
    std::array<bool, 3> axes{true, true, true};
    axes[static_cast<std::size_t>(group_axis)] = false;
    auto slices = directed_distances(crop, ext, axes, group_axis, options);
    throw_if_cancelled(options);
    out.slices = summarize_groups(slices, options);
    return out;
}

std::vector<float> surface_distance_map(const std::uint8_t* pred, const std::uint8_t* target,
                                        const MaskGrid& grid, const SurfaceDistanceOptions& options)
{
    validate(options);
    check_mask_grid(grid);
    std::vector<float> map(static_cast<std::size_t>(grid.voxels()), std::numeric_limits<float>::quiet_NaN());
    const Extent ext{grid.d, grid.h, grid.w};
    const std::array<bool, 3> axes{grid.spatial_dims == 3, true, true};
    directed_distances(pred, target, ext, axes, -1, options, map.data());
    return map;
}

void check_mask_grid(const MaskGrid& grid)
{
    if (grid.d <= 0 || grid.h <= 0 || grid.w <= 0) {
        throw_usage_error("surface distance: mask extents must be positive");
    }
    if (grid.spatial_dims != 2 && grid.spatial_dims != 3) {
        throw_usage_error("surface distance: spatial_dims must be 2 or 3");
    }
    if (grid.spatial_dims == 2 && grid.d != 1) {
        throw_usage_error("surface distance: a 2D mask must have d == 1");
    }
}

namespace {

// Checks the sample, channel and selector, then calls body(values) with the
// channel's values typed (const T*, [D, H, W] C order).
template <class Body>
void with_channel(const Volume& volume, std::int64_t sample, const MaskSelector& selector, Body&& body)
{
    const Shape& shape = volume.shape();
    if (sample < 0 || sample >= shape.n) {
        throw_usage_error(volume.source() + ": sample " + std::to_string(sample) +
                          " is out of range (N = " + std::to_string(shape.n) + ")");
    }
    if (selector.channel < 0 || selector.channel >= shape.c) {
        throw_usage_error(volume.source() + ": channel " + std::to_string(selector.channel) +
                          " is out of range (C = " + std::to_string(shape.c) + ")");
    }
    if (selector.kind == MaskSelector::Kind::Predicate && !selector.predicate) {
        throw_usage_error("surface distance: a predicate mask selector needs a predicate");
    }
    const std::int64_t count = shape.voxels_per_channel();
    detail::visit_elements(volume, (sample * shape.c + selector.channel) * count, body);
}

// Worker threads for a pass over `planes` planes of `voxels` voxels in all; a
// user predicate may not be thread-safe and runs on the caller's thread only.
int selection_workers(const MaskSelector& selector, int threads, std::int64_t planes, std::int64_t voxels)
{
    return selector.kind == MaskSelector::Kind::Predicate ? 1 : detail::worker_count(threads, planes, voxels);
}

} // namespace

std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector)
{
    const std::int64_t count = volume.shape().voxels_per_channel();
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(count));
    with_channel(volume, sample, selector,
                 [&](const auto* values) { select_values(values, count, selector, mask.data()); });
    return mask;
}

GridBox mask_bounding_box(const Volume& volume, std::int64_t sample, const MaskSelector& selector,
                          int threads)
{
    const Shape& shape = volume.shape();
    const Extent ext{shape.d, shape.h, shape.w};
    GridBox box{{ext[0], ext[1], ext[2]}, {0, 0, 0}};
    with_channel(volume, sample, selector, [&](const auto* values) {
        const int workers = selection_workers(selector, threads, ext[0], ext[0] * ext[1] * ext[2]);
        std::vector<GridBox> partial(static_cast<std::size_t>(workers), box);
        detail::parallel_for(ext[0], workers, [&](std::int64_t begin, std::int64_t end, int t) {
            std::vector<std::uint8_t> row(static_cast<std::size_t>(ext[2]));
            GridBox& local = partial[static_cast<std::size_t>(t)];
            for (std::int64_t d = begin; d < end; ++d) {
                for (std::int64_t h = 0; h < ext[1]; ++h) {
                    select_values(values + (d * ext[1] + h) * ext[2], ext[2], selector, row.data());
                    std::uint8_t any = 0; // vectorisable: most rows are empty
                    for (const std::uint8_t v : row) {
                        any = static_cast<std::uint8_t>(any | v);
                    }
                    if (any == 0) {
                        continue;
                    }
                    std::int64_t first = 0;
                    while (row[static_cast<std::size_t>(first)] == 0) {
                        ++first;
                    }
                    std::int64_t last = ext[2] - 1;
                    while (row[static_cast<std::size_t>(last)] == 0) {
                        --last;
                    }
                    local.lo = {std::min(local.lo[0], d), std::min(local.lo[1], h),
                                std::min(local.lo[2], first)};
                    local.hi = {std::max(local.hi[0], d + 1), std::max(local.hi[1], h + 1),
                                std::max(local.hi[2], last + 1)};
                }
            }
        });
        for (const GridBox& part : partial) {
            for (std::size_t a = 0; a < 3; ++a) {
                box.lo[a] = std::min(box.lo[a], part.lo[a]);
                box.hi[a] = std::max(box.hi[a], part.hi[a]);
            }
        }
    });
    return box;
}

std::vector<std::uint8_t> extract_mask(const Volume& volume, std::int64_t sample,
                                       const MaskSelector& selector, const GridBox& box, int threads)
{
    const Shape& shape = volume.shape();
    const Extent ext{shape.d, shape.h, shape.w};
    for (std::size_t a = 0; a < 3; ++a) {
        if (box.lo[a] < 0 || box.hi[a] > ext[a] || box.lo[a] > box.hi[a]) {
            throw_usage_error(volume.source() + ": mask box outside the image");
        }
    }
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(box.empty() ? 0 : box.voxels()));
    if (box.empty()) {
        return mask;
    }
    const Extent e = box.extent();
    with_channel(volume, sample, selector, [&](const auto* values) {
        const int workers = selection_workers(selector, threads, e[0], box.voxels());
        detail::parallel_for(e[0], workers, [&](std::int64_t begin, std::int64_t end, int) {
            for (std::int64_t d = begin; d < end; ++d) {
                for (std::int64_t h = 0; h < e[1]; ++h) {
                    select_values(values + ((box.lo[0] + d) * ext[1] + box.lo[1] + h) * ext[2] + box.lo[2],
                                  e[2], selector, mask.data() + (d * e[1] + h) * e[2]);
                }
            }
        });
    });
    return mask;
}

SurfaceDistanceReport compute_surface_distances(const Volume& prediction, const MaskSelector& pred_selector,
                                                const Volume& target, const MaskSelector& target_selector,
                                                const SurfaceDistanceOptions& options, bool per_slice,
                                                SliceAxis axis)
{
    validate(options);
    const Shape& ps = prediction.shape();
    const Shape& ts = target.shape();
    if (ps.n != ts.n || ps.d != ts.d || ps.h != ts.h || ps.w != ts.w || ps.spatial_dims != ts.spatial_dims) {
        throw_input_error(prediction.source(), "shape " + ps.to_string() + " does not match the target's " +
                                                   ts.to_string() + " (surface distances)");
    }
    SurfaceDistanceReport report;
    report.samples = ps.n;
    report.axis = axis == SliceAxis::Default ? SliceAxis::D : axis;
    const std::int64_t voxels = ps.voxels_per_channel();
    if (ps.spatial_dims == 2) {
        // A batch of 2D samples: solved as slices of one [n, H, W] stack, in
        // chunks of at most ~64M voxels.
        report.axis = SliceAxis::D;
        const std::int64_t chunk =
            std::max<std::int64_t>(1, (std::int64_t{1} << 26) / std::max<std::int64_t>(1, voxels));
        for (std::int64_t first = 0; first < ps.n; first += chunk) {
            const std::int64_t count = std::min(chunk, ps.n - first);
            std::vector<std::uint8_t> p(static_cast<std::size_t>(count * voxels));
            std::vector<std::uint8_t> t(static_cast<std::size_t>(count * voxels));
            for (std::int64_t s = 0; s < count; ++s) {
                const auto pm = extract_mask(prediction, first + s, pred_selector);
                const auto tm = extract_mask(target, first + s, target_selector);
                std::memcpy(p.data() + s * voxels, pm.data(), pm.size());
                std::memcpy(t.data() + s * voxels, tm.data(), tm.size());
            }
            const MaskGrid stack{count, ps.h, ps.w, 3};
            auto values = surface_distances_per_slice(p.data(), t.data(), stack, SliceAxis::D, options);
            report.per_sample.insert(report.per_sample.end(), values.begin(), values.end());
        }
        if (per_slice) {
            report.slices_per_sample = 1;
            report.per_slice = report.per_sample;
        }
        return report;
    }
    const MaskGrid grid{ps.d, ps.h, ps.w, 3};
    if (per_slice) {
        report.slices_per_sample = report.axis == SliceAxis::H   ? ps.h
                                   : report.axis == SliceAxis::W ? ps.w
                                                                 : ps.d;
    }
    for (std::int64_t s = 0; s < ps.n; ++s) {
        const auto p = extract_mask(prediction, s, pred_selector);
        const auto t = extract_mask(target, s, target_selector);
        report.per_sample.push_back(surface_distances(p.data(), t.data(), grid, options));
        if (per_slice) {
            auto values = surface_distances_per_slice(p.data(), t.data(), grid, report.axis, options);
            report.per_slice.insert(report.per_slice.end(), values.begin(), values.end());
        }
    }
    return report;
}

} // namespace masklens
