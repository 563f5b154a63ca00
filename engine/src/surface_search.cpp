#include "surface_search.h"

#include "masklens/engine/distance_transform.h"
#include "masklens/engine/parallel.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <limits>
#include <utility>

// visit_row runs once per row of a query, inside the search's loops; a call
// there costs as much as the row itself.
#if defined(__GNUC__)
#define MASKLENS_ALWAYS_INLINE [[gnu::always_inline]] inline
#else
#define MASKLENS_ALWAYS_INLINE inline
#endif

namespace masklens::detail {

namespace {

// Points per leaf (each leaf also keeps its points' bounding box). Measured
// on the benchmark spheres: 32 visits fewer nodes than 8 or 16 for a few
// more distance evaluations, and is faster.
constexpr std::int32_t kLeafSize = 32;

} // namespace

AxisLengths::AxisLengths(const std::array<std::int64_t, 3>& extent_dhw,
                         const std::array<double, 3>& spacing_dhw)
{
    for (std::size_t a = 0; a < 3; ++a) {
        const auto n = static_cast<std::size_t>(std::max<std::int64_t>(1, extent_dhw[a]));
        t[a].resize(n);
        for (std::size_t k = 0; k < n; ++k) {
            // As the transform forms it: an integer number of steps times the spacing.
            t[a][k] = static_cast<double>(k) * spacing_dhw[a];
        }
    }
}

SurfaceTree::SurfaceTree(std::vector<GridPoint> points, const AxisLengths& lengths)
    : points_(std::move(points)), t_{lengths.t[0].data(), lengths.t[1].data(), lengths.t[2].data()},
      spacing_{lengths.t[0].size() > 1 ? lengths.t[0][1] : 1.0,
               lengths.t[1].size() > 1 ? lengths.t[1][1] : 1.0,
               lengths.t[2].size() > 1 ? lengths.t[2][1] : 1.0}
{
    if (points_.empty()) {
        return;
    }
    nodes_.reserve(static_cast<std::size_t>(4 * (points_.size() / kLeafSize + 1)));
    build(0, static_cast<std::int32_t>(points_.size()));
    for (std::size_t a = 0; a < 3; ++a) {
        coords_[a].resize(points_.size());
        for (std::size_t i = 0; i < points_.size(); ++i) {
            coords_[a][i] = static_cast<double>(points_[i][a]);
        }
    }
}

std::int32_t SurfaceTree::build(std::int32_t lo, std::int32_t hi)
{
    const auto index = static_cast<std::int32_t>(nodes_.size());
    nodes_.push_back(Node{-1, 0, lo, hi});
    const auto make_leaf = [&](const GridPoint& min, const GridPoint& max) {
        // A leaf's split field indexes its points' bounding box.
        nodes_[static_cast<std::size_t>(index)].split = static_cast<std::int32_t>(boxes_.size());
        boxes_.push_back({min, max});
        return index;
    };
    GridPoint min = points_[static_cast<std::size_t>(lo)];
    GridPoint max = min;
    for (std::int32_t i = lo + 1; i < hi; ++i) {
        const GridPoint& p = points_[static_cast<std::size_t>(i)];
        for (std::size_t a = 0; a < 3; ++a) {
            min[a] = std::min(min[a], p[a]);
            max[a] = std::max(max[a], p[a]);
        }
    }
    if (hi - lo <= kLeafSize) {
        return make_leaf(min, max);
    }
    // Split the axis of widest extent in mm.
    std::size_t axis = 0;
    double widest = -1;
    for (std::size_t a = 0; a < 3; ++a) {
        const double extent = t_[a][max[a] - min[a]];
        if (extent > widest) {
            widest = extent;
            axis = a;
        }
    }
    const std::int32_t mid = lo + (hi - lo) / 2;
    std::nth_element(points_.begin() + lo, points_.begin() + mid, points_.begin() + hi,
                     [axis](const GridPoint& x, const GridPoint& y) { return x[axis] < y[axis]; });
    const std::int32_t split = points_[static_cast<std::size_t>(mid)][axis];
    const std::int32_t left = build(lo, mid);
    const std::int32_t right = build(mid, hi);
    Node& node = nodes_[static_cast<std::size_t>(index)];
    node.axis = static_cast<std::int32_t>(axis);
    node.split = split;
    node.a = left;
    node.b = right;
    return index;
}

template <bool fused> double SurfaceTree::distance(const GridPoint& q, const GridPoint& p) const
{
    return squared_distance<fused>(t_[0][std::abs(q[0] - p[0])], t_[1][std::abs(q[1] - p[1])],
                                   t_[2][std::abs(q[2] - p[2])]);
}

template <bool fused>
void SurfaceTree::search(std::int32_t node, const GridPoint& q, std::array<std::int32_t, 3>& offset,
                         double& best, GridPoint& best_point) const
{
    const Node& n = nodes_[static_cast<std::size_t>(node)];
    if (n.axis < 0) {
        // The points' own bounding box prunes better than the cell's planes.
        const auto& box = boxes_[static_cast<std::size_t>(n.split)];
        std::array<std::int32_t, 3> gap{};
        for (std::size_t a = 0; a < 3; ++a) {
            gap[a] = std::max({box[0][a] - q[a], q[a] - box[1][a], 0});
        }
        if (!(squared_distance<fused>(t_[0][gap[0]], t_[1][gap[1]], t_[2][gap[2]]) < best)) {
            return;
        }
        // All of the leaf's distances in one vectorisable loop over its
        // coordinates (as doubles: |q - p| is then exact and times the spacing
        // gives the axis lengths' very values), then the minimum.
        const std::int32_t count = n.b - n.a;
        const double* pd = coords_[0].data() + n.a;
        const double* ph = coords_[1].data() + n.a;
        const double* pw = coords_[2].data() + n.a;
        const auto qd = static_cast<double>(q[0]);
        const auto qh = static_cast<double>(q[1]);
        const auto qw = static_cast<double>(q[2]);
        std::array<double, kLeafSize> values;
        for (std::int32_t i = 0; i < count; ++i) {
            values[static_cast<std::size_t>(i)] = squared_distance<fused>(std::abs(qd - pd[i]) * spacing_[0],
                                                                          std::abs(qh - ph[i]) * spacing_[1],
                                                                          std::abs(qw - pw[i]) * spacing_[2]);
        }
        std::int32_t found = -1;
        for (std::int32_t i = 0; i < count; ++i) {
            if (values[static_cast<std::size_t>(i)] < best) {
                best = values[static_cast<std::size_t>(i)];
                found = i;
            }
        }
        if (found >= 0) {
            best_point = points_[static_cast<std::size_t>(n.a + found)];
        }
        return;
    }
    const auto axis = static_cast<std::size_t>(n.axis);
    const std::int32_t diff = q[axis] - n.split;
    // Left holds coordinates <= split, right >= split.
    const std::int32_t near = diff < 0 ? n.a : n.b;
    const std::int32_t far = diff < 0 ? n.b : n.a;
    search<fused>(near, q, offset, best, best_point);
    const std::int32_t saved = offset[axis];
    offset[axis] = std::abs(diff);
    // A lower bound in the same monotonic arithmetic: every point of `far` is
    // at least offset[a] steps away along each axis.
    const double bound = squared_distance<fused>(t_[0][offset[0]], t_[1][offset[1]], t_[2][offset[2]]);
    if (bound < best) {
        search<fused>(far, q, offset, best, best_point);
    }
    offset[axis] = saved;
}

template <bool fused> double SurfaceTree::nearest(const GridPoint& q, GridPoint& hint, bool use_hint) const
{
    double best = use_hint ? distance<fused>(q, hint) : std::numeric_limits<double>::infinity();
    if (best == 0) {
        return best;
    }
    std::array<std::int32_t, 3> offset{0, 0, 0};
    search<fused>(0, q, offset, best, hint);
    return best;
}

template double SurfaceTree::nearest<false>(const GridPoint&, GridPoint&, bool) const;
template double SurfaceTree::nearest<true>(const GridPoint&, GridPoint&, bool) const;

RowSearch::RowSearch(const std::uint8_t* surface, const std::array<std::int64_t, 3>& extent,
                     const AxisLengths& lengths, std::array<bool, 2> free, int threads)
    : extent_(extent), words_((extent[2] + 63) / 64),
      stride_(words_ + 2), t_{lengths.t[0].data(), lengths.t[1].data(), lengths.t[2].data()}, free_(free)
{
    w_squared_.resize(lengths.t[2].size());
    for (std::size_t k = 0; k < w_squared_.size(); ++k) {
        w_squared_[k] = lengths.t[2][k] * lengths.t[2][k];
    }
    const std::int64_t n = extent_[2];
    const std::int64_t rows = extent_[0] * extent_[1];
    for (auto& bits : bits_) {
        bits.resize(static_cast<std::size_t>(rows * stride_), 0);
    }
    const int workers = worker_count(threads, rows, rows * n);
    parallel_for(rows, workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t row = begin; row < end; ++row) {
            const std::uint8_t* in = surface + row * n;
            std::uint64_t* pred = bits_[0].data() + row * stride_ + 1;
            std::uint64_t* target = bits_[1].data() + row * stride_ + 1;
            for (std::int64_t word = 0; word < words_; ++word) {
                std::uint64_t pred_word = 0;
                std::uint64_t target_word = 0;
                for (std::int64_t byte = 0; byte < 8; ++byte) {
                    // Eight voxels at a time: their bytes as one integer (byte i
                    // at bits 8i), then each surface's bit of every byte
                    // gathered into one byte by a multiply (bit i = byte i).
                    const std::int64_t first = word * 64 + byte * 8;
                    std::uint64_t group = 0;
                    for (std::int64_t i = 0; i < 8 && first + i < n; ++i) {
                        group |= static_cast<std::uint64_t>(in[first + i]) << (8 * i);
                    }
                    constexpr std::uint64_t kLowBits = 0x0101010101010101ULL;
                    constexpr std::uint64_t kGather = 0x0102040810204080ULL;
                    pred_word |= (((group & kLowBits) * kGather) >> 56) << (8 * byte);
                    target_word |= ((((group >> 1) & kLowBits) * kGather) >> 56) << (8 * byte);
                }
                pred[word] = pred_word;
                target[word] = target_word;
            }
        }
    });
}

double RowSearch::rows_within(double squared) const
{
    const double sd = extent_[0] > 1 ? t_[0][1] : 1.0;
    const double sh = extent_[1] > 1 ? t_[1][1] : 1.0;
    const double r = std::sqrt(squared);
    const double along_d = free_[0] && extent_[0] > 1 ? 2 * r / sd + 1 : 1;
    const double along_h = free_[1] && extent_[1] > 1 ? 2 * r / sh + 1 : 1;
    // An ellipse's area against its bounding rectangle: pi / 4.
    return along_d > 1 && along_h > 1 ? 0.7854 * along_d * along_h : along_d * along_h;
}

MASKLENS_ALWAYS_INLINE std::int32_t RowSearch::steps_in_row(const std::uint64_t* row, std::int32_t w) const
{
    // The 64 positions from w on and the 64 before w, as two words (the row's
    // zero words at both ends keep the reads inside it); a nearest voxel
    // within 63 steps, the usual case, then takes no branch.
    const std::int32_t word = (w >> 6) + 1;
    const std::int32_t bit = w & 63;
    const std::uint64_t after = (row[word] >> bit) | ((row[word + 1] << 1) << (63 - bit));
    const std::uint64_t before = ((row[word] << (63 - bit)) << 1) | (row[word - 1] >> bit);
    const std::int32_t right = std::countr_zero(after);     // 64: none within 63
    const std::int32_t left = std::countl_zero(before) + 1; // 65: none within 64
    const std::int32_t steps = std::min(right, left);
    if (steps < 64) {
        return steps;
    }
    // Farther: scan the row's words outward.
    std::int32_t found = -1;
    for (std::int32_t j = word + 1; j <= words_; ++j) {
        if (row[j] != 0) {
            found = (j - 1) * 64 + std::countr_zero(row[j]) - w;
            break;
        }
    }
    for (std::int32_t j = word - 1; j >= 1; --j) {
        if (row[j] != 0) {
            const std::int32_t back = w - ((j - 1) * 64 + 63 - std::countl_zero(row[j]));
            return found < 0 ? back : std::min(found, back);
        }
    }
    return found;
}

template <bool fused>
MASKLENS_ALWAYS_INLINE void RowSearch::visit_row(int side, std::int64_t d, std::int64_t h, double td,
                                                 double th, std::int32_t qw, double& best,
                                                 GridPoint& best_point) const
{
    const std::uint64_t* row = bits_[static_cast<std::size_t>(side)].data() + (d * extent_[1] + h) * stride_;
    const std::int32_t steps = steps_in_row(row, qw);
    if (steps < 0) {
        return;
    }
    // squared_distance(td, th, t[steps]) with the first pass's square taken
    // from the table (the same rounded product).
    const double f = w_squared_[static_cast<std::size_t>(steps)];
    double value = 0;
    if constexpr (fused) {
        value = std::fma(td, td, std::fma(th, th, f));
    } else {
        const double g = th * th + f;
        value = td * td + g;
    }
    if (value < best) {
        best = value;
        // The voxel `steps` from qw, on whichever side holds one.
        const std::int32_t right = qw + steps;
        const bool on_right = right < extent_[2] && ((row[(right >> 6) + 1] >> (right & 63)) & 1) != 0;
        best_point = {static_cast<std::int32_t>(d), static_cast<std::int32_t>(h),
                      on_right ? right : qw - steps};
    }
}

template <bool fused>
bool RowSearch::nearest(int side, const GridPoint& q, double& best, GridPoint& best_point,
                        std::int64_t& budget) const
{
    const std::int64_t qd = q[0];
    const std::int64_t qh = q[1];
    const std::int64_t max_kd = free_[0] ? std::max(qd, extent_[0] - 1 - qd) : 0;
    const std::int64_t max_kh = free_[1] ? std::max(qh, extent_[1] - 1 - qh) : 0;
    for (std::int64_t kd = 0; kd <= max_kd; ++kd) {
        const double td = t_[0][kd];
        if (!(squared_distance<fused>(td, 0.0, 0.0) < best)) {
            break; // every farther plane too
        }
        for (int d_side = 0; d_side < (kd == 0 ? 1 : 2); ++d_side) {
            const std::int64_t d = d_side == 0 ? qd + kd : qd - kd;
            if (d < 0 || d >= extent_[0]) {
                continue;
            }
            for (std::int64_t kh = 0; kh <= max_kh; ++kh) {
                const double th = t_[1][kh];
                if (!(squared_distance<fused>(td, th, 0.0) < best)) {
                    break;
                }
                for (int h_side = 0; h_side < (kh == 0 ? 1 : 2); ++h_side) {
                    const std::int64_t h = h_side == 0 ? qh + kh : qh - kh;
                    if (h < 0 || h >= extent_[1]) {
                        continue;
                    }
                    if (--budget < 0) {
                        return false;
                    }
                    visit_row<fused>(side, d, h, td, th, q[2], best, best_point);
                    if (best == 0) {
                        return true;
                    }
                }
            }
        }
    }
    return true;
}

template <bool fused>
void RowSearch::seed(int side, const GridPoint& q, double& best, GridPoint& best_point,
                     std::int64_t max_ring) const
{
    const std::int64_t rd = free_[0] ? max_ring : 0;
    const std::int64_t rh = free_[1] ? max_ring : 0;
    for (std::int64_t ring = 0; ring <= std::max(rd, rh); ++ring) {
        for (std::int64_t kd = -std::min(ring, rd); kd <= std::min(ring, rd); ++kd) {
            const std::int64_t d = q[0] + kd;
            if (d < 0 || d >= extent_[0]) {
                continue;
            }
            const bool edge = std::abs(kd) == ring;
            if (!edge && rh == 0) {
                continue; // that row belongs to an earlier ring
            }
            // On the ring's edges along D every row; inside, its two ends along H.
            const std::int64_t step = edge ? 1 : 2 * ring;
            for (std::int64_t kh = -std::min(ring, rh); kh <= std::min(ring, rh); kh += step) {
                const std::int64_t h = q[1] + kh;
                if (h < 0 || h >= extent_[1]) {
                    continue;
                }
                visit_row<fused>(side, d, h, t_[0][std::abs(kd)], t_[1][std::abs(kh)], q[2], best,
                                 best_point);
            }
        }
        if (best < std::numeric_limits<double>::infinity()) {
            return;
        }
    }
}

template void RowSearch::seed<false>(int, const GridPoint&, double&, GridPoint&, std::int64_t) const;
template void RowSearch::seed<true>(int, const GridPoint&, double&, GridPoint&, std::int64_t) const;
template bool RowSearch::nearest<false>(int, const GridPoint&, double&, GridPoint&, std::int64_t&) const;
template bool RowSearch::nearest<true>(int, const GridPoint&, double&, GridPoint&, std::int64_t&) const;

Arithmetic transform_arithmetic()
{
    static const Arithmetic detected = [] {
        // One feature voxel at the origin of a [2, 5, 2] grid with spacing
        // (0.8, 0.8, 1.5) mm: at voxel (1, 4, 1) the plain and fused forms of
        // 0.8^2 + 3.2^2 + 1.5^2 differ in the last bit.
        const std::array<double, 3> spacing_xyz{0.8, 0.8, 1.5};
        const EdtGrid grid{{2, 5, 2}, spacing_xyz, {true, true, true}};
        std::vector<std::uint8_t> feature(static_cast<std::size_t>(grid.voxels()), 0);
        feature[0] = 1;
        std::vector<double> out(feature.size());
        squared_distance_transform(feature.data(), grid, out.data(), 1);
        const double got = out.back();
        const double td = 1.0 * spacing_xyz[2];
        const double th = 4.0 * spacing_xyz[1];
        const double tw = 1.0 * spacing_xyz[0];
        const double plain = squared_distance<false>(td, th, tw);
        const double fused = squared_distance<true>(td, th, tw);
        if (plain != fused && got == fused) {
            return Arithmetic::Fused;
        }
        if (plain != fused && got == plain) {
            return Arithmetic::Plain;
        }
        return Arithmetic::Unknown;
    }();
    return detected;
}

} // namespace masklens::detail
