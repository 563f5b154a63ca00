// Exact nearest-surface-voxel search for the voxel-mode surface distances
// (private to the engine; see surface_distance.cpp).
//
// Distances are needed only at the surface voxels of one mask, to the nearest
// surface voxel of the other. When the surfaces are small against their
// bounding box, a k-d tree over the other surface's voxel coordinates answers
// those queries far faster than two distance transforms over the whole box.
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

} // namespace masklens::detail
