// Subvoxel (DeepMind) surfaces: the marching-cubes / marching-squares tables of
// surface element areas and lengths, and the surfels' distances on the corner
// grid (by the voxel-mode methods of directed_distances.h).
#include "subvoxel_surface.h"

#include "directed_distances.h"
#include "masklens/engine/parallel.h"
#include "surface_masks.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>
#include <vector>

namespace masklens {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using Extent = std::array<std::int64_t, 3>;

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
    const GridBox box = detail::union_box(pred, target, ext, threads);
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
    const detail::VoxelMethod method =
        detail::choose_voxel_method(options.search, corners, pred_surfels, target_surfels, measured);
    std::vector<detail::GroupDistances> groups(1);
    const GridBox corner_box{{0, 0, 0}, ce};
    const detail::SearchProbe probe{static_cast<double>(corners) * measured, pred_surfels + target_surfels};
    if (method != detail::VoxelMethod::Transform &&
        detail::nearest_neighbour_distances(feature, corner_box, ce, -1, options, groups, nullptr,
                                            method == detail::VoxelMethod::ProbeSearch ? &probe : nullptr)) {
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

} // namespace

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

namespace detail {

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

} // namespace detail

} // namespace masklens
