// Exact nearest-surface-voxel search for the voxel-mode surface distances
// (private to the engine; see directed_distances.cpp).
//
// Distances are needed only at the surface voxels of one mask, to the nearest
// surface voxel of the other. When the surfaces are small against their
// bounding box, searching the other surface at those voxels is far faster
// than two distance transforms over the whole box: RowSearch (rows of packed
// bits around the query) when the answer lies close, the usual case, and a
// k-d tree over the other surface's voxel coordinates (SurfaceTree) when it
// does not.
//
// Same values as the distance transform: squared distances are formed in the
// transform's own arithmetic (distance_transform.cpp). Per axis the length is
// t = (double)|delta| * spacing; the first pass along W squares it, each
// later pass adds t * t to the running value: f = tw * tw, then th * th + f,
// then td * td + that. A compiler may fuse each of those multiply-adds into
// one FMA (GCC does with -march=x86-64-v3 and -O2 or more, not at -O0), which
// rounds differently, so transform_arithmetic() runs the transform once on a
// tiny grid whose value tells the two apart, and the search then uses the
// same form explicitly (std::fma, or plain operations in this file, which is
// compiled with -ffp-contract=off). A zero delta on an axis that is not
// measured (a slice's normal) adds exactly nothing. The search returns the
// exact minimum of those values over the other surface (k-d tree pruning uses
// lower bounds in the same, monotonic, arithmetic), which is what the
// transform's lower envelope computes.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <vector>

namespace masklens::detail {

// Box coordinates (D, H, W) of a surface voxel.
using GridPoint = std::array<std::int32_t, 3>;

// Axis lengths t[a][k] = k * spacing_dhw[a] (mm) for k in [0, extent[a]).
struct AxisLengths {
    std::array<std::vector<double>, 3> t;

    AxisLengths(const std::array<std::int64_t, 3>& extent_dhw, const std::array<double, 3>& spacing_dhw);
};

// Arithmetic and transform_arithmetic(): masklens/engine/distance_transform.h.

// The squared distance in the transform's arithmetic (see above).
template <bool fused> inline double squared_distance(double td, double th, double tw)
{
    const double f = tw * tw;
    if constexpr (fused) {
        return std::fma(td, td, std::fma(th, th, f));
    } else {
        const double g = th * th + f;
        return td * td + g;
    }
}

// The squared distance between two box points, as above.
template <bool fused>
inline double squared_distance(const AxisLengths& lengths, const GridPoint& a, const GridPoint& b)
{
    return squared_distance<fused>(lengths.t[0][static_cast<std::size_t>(std::abs(a[0] - b[0]))],
                                   lengths.t[1][static_cast<std::size_t>(std::abs(a[1] - b[1]))],
                                   lengths.t[2][static_cast<std::size_t>(std::abs(a[2] - b[2]))]);
}

// A k-d tree over surface voxels (median splits on the axis of widest extent
// in mm, small leaves).
class SurfaceTree {
public:
    SurfaceTree(std::vector<GridPoint> points, const AxisLengths& lengths);

    bool empty() const noexcept { return points_.empty(); }

    // The squared distance (mm^2) from q to the nearest point of the tree;
    // `hint` is replaced by that point. With use_hint, `hint` must be a point
    // of the tree (e.g. a neighbouring query's answer) and bounds the search.
    template <bool fused> double nearest(const GridPoint& q, GridPoint& hint, bool use_hint) const;

    const GridPoint& any_point() const { return points_.front(); }

private:
    struct Node {
        std::int32_t axis; // -1: leaf
        std::int32_t split;
        std::int32_t a; // internal: left child; leaf: first point
        std::int32_t b; // internal: right child; leaf: one past the last point
    };

    std::int32_t build(std::int32_t lo, std::int32_t hi);
    template <bool fused>
    void search(std::int32_t node, const GridPoint& q, std::array<std::int32_t, 3>& offset, double& best,
                GridPoint& best_point) const;
    template <bool fused> double distance(const GridPoint& q, const GridPoint& p) const;

    std::vector<GridPoint> points_;
    std::vector<Node> nodes_;
    std::vector<std::array<GridPoint, 2>> boxes_; // per leaf: min and max corner
    std::array<std::vector<double>, 3> coords_;   // points_' coordinates per axis, as doubles
    const double* t_[3];
    std::array<double, 3>
        spacing_; // mm per step (t_[a][1]; 1 on an axis of extent 1, where every delta is 0)
};

// Nearest surface voxel by rows, for surfaces that lie close to each other
// (the common case: a prediction against its target).
//
// Each surface is packed into one bit per voxel, row by row along W. The
// nearest point to q is the minimum, over rows (d, h), of
// squared_distance(t[|d - qd|], t[|h - qh|], t[k]) with k the steps from qw to
// the row's nearest voxel (found with bit scans): within a row the value grows
// with |w - qw| (every step of the arithmetic is monotonic), so that voxel
// gives the row's minimum. Rows are visited outward from q and a row is
// skipped when even w = qw would not be closer than the best so far, so the
// result is the exact minimum, the same value as the transform and the tree.
//
// The work per query grows with the squared distance (the rows inside an
// ellipse of that radius), so callers give each query a row budget and ask the
// tree when the budget runs out.
class RowSearch {
public:
    // Both surfaces of a box at once: `surface` holds bits in scan order over
    // extent (D, H, W) (1 prediction, 2 target). `free` says which of D and H
    // may differ from the query's (a slice's normal may not).
    RowSearch(const std::uint8_t* surface, const std::array<std::int64_t, 3>& extent,
              const AxisLengths& lengths, std::array<bool, 2> free, int threads);

    // Squared distance (mm^2) from q to the nearest voxel of surface `side`
    // (0 prediction, 1 target), found within `budget` rows (decremented by
    // the rows visited, below zero when it ran out): returns true with
    // `best` and `best_point` set. `best` on entry is a bound: +inf, or the
    // value of `best_point`, a point of that surface. Returns false when the
    // budget ran out; `best` and `best_point` then hold the closest point
    // found so far (best is +inf if none).
    template <bool fused>
    bool nearest(int side, const GridPoint& q, double& best, GridPoint& best_point,
                 std::int64_t& budget) const;

    // A first bound for a query without one: the closest voxel of `side` in
    // the rings of rows around q (Chebyshev radius in rows up to max_ring),
    // stopping after the first ring that holds one. Leaves best at +inf when
    // none does.
    template <bool fused>
    void seed(int side, const GridPoint& q, double& best, GridPoint& best_point, std::int64_t max_ring) const;

    // Memory of one row of `width` voxels, both surfaces (bytes).
    static constexpr std::int64_t bytes_per_row(std::int64_t width)
    {
        return 2 * 8 * ((width + 63) / 64 + 2);
    }

    // About how many rows a query whose answer is `squared` mm^2 visits.
    double rows_within(double squared) const;

private:
    // Steps from w to the nearest set bit of a packed row; -1 if none.
    std::int32_t steps_in_row(const std::uint64_t* row, std::int32_t w) const;
    template <bool fused>
    void visit_row(int side, std::int64_t d, std::int64_t h, double td, double th, std::int32_t qw,
                   double& best, GridPoint& best_point) const;

    std::array<std::int64_t, 3> extent_;
    std::int64_t words_;  // 64-bit words of a row's bits
    std::int64_t stride_; // words per packed row: a zero word, the bits, a zero word
    const double* t_[3];
    std::vector<double> w_squared_; // t[2][k] * t[2][k], rounded (the transform's first pass)
    std::array<bool, 2> free_;
    std::array<std::vector<std::uint64_t>, 2> bits_;
};

} // namespace masklens::detail
