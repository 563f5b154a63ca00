#include "masklens/ui/slice_orientation.h"

#include <algorithm>
#include <cmath>

namespace masklens::ui {

namespace {

using Vector = std::array<double, 3>;

// Column `k` of the row-major direction matrix: the world direction of index axis k.
Vector column(const Geometry& geometry, int k)
{
    const auto c = static_cast<std::size_t>(k);
    return {geometry.direction[c], geometry.direction[3 + c], geometry.direction[6 + c]};
}

double dot(const Vector& a, const Vector& b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

Vector scaled(const Vector& v, double s)
{
    return {v[0] * s, v[1] * s, v[2] * s};
}

// The world axis (0 x, 1 y, 2 z) a direction points along most.
int dominant_axis(const Vector& v)
{
    int best = 0;
    for (int i = 1; i < 3; ++i) {
        if (std::abs(v[static_cast<std::size_t>(i)]) > std::abs(v[static_cast<std::size_t>(best)])) {
            best = i;
        }
    }
    return best;
}

// The view's fixed index axis and its in-plane (first, second) ones; index
// axes are 0 = W (x), 1 = H (y), 2 = D (z).
struct Axes {
    int fixed, first, second;
};

Axes axes_of(ViewAxis axis)
{
    switch (axis) {
    case ViewAxis::Coronal: return {1, 0, 2};
    case ViewAxis::Sagittal: return {0, 1, 2};
    case ViewAxis::Axial: break;
    }
    return {2, 0, 1};
}

// cos(2.5 degrees): a direction column closer than this to its nearest axis is not oblique.
constexpr double kObliqueCosine = 0.999;

} // namespace

char direction_letter(const std::array<double, 3>& direction, WorldFrame frame)
{
    Vector lps = direction;
    if (frame == WorldFrame::RAS) {
        lps[0] = -lps[0];
        lps[1] = -lps[1];
    }
    const int k = dominant_axis(lps);
    const bool positive = lps[static_cast<std::size_t>(k)] > 0;
    switch (k) {
    case 0: return positive ? 'L' : 'R';
    case 1: return positive ? 'P' : 'A';
    default: return positive ? 'S' : 'I';
    }
}

SliceOrientation slice_orientation(const Geometry& geometry, ViewAxis axis, Convention convention)
{
    SliceOrientation result;
    result.plane = axis;
    if (!geometry.known) {
        // The voxel grid as an image: row 0 (H = 0) at the top of the axial view.
        result.flip_y = axis == ViewAxis::Axial;
        return result;
    }
    const Geometry lps = in_frame(geometry, WorldFrame::LPS);
    const Axes axes = axes_of(axis);
    for (int k = 0; k < 3; ++k) {
        const Vector c = column(lps, k);
        if (std::abs(c[static_cast<std::size_t>(dominant_axis(c))]) < kObliqueCosine) {
            result.oblique = true;
        }
    }
    // The plane shown: by the world axis the fixed index axis runs along.
    const int normal = dominant_axis(column(lps, axes.fixed));
    result.plane = normal == 2 ? ViewAxis::Axial : normal == 1 ? ViewAxis::Coronal : ViewAxis::Sagittal;
    // Screen right and screen up as LPS directions (the table in the header).
    const double left_right = convention == Convention::Radiological ? 1.0 : -1.0; // +x: patient Left
    Vector right{left_right, 0, 0};
    Vector up{0, 0, 1};
    if (result.plane == ViewAxis::Axial) {
        up = {0, -1, 0}; // Anterior
    } else if (result.plane == ViewAxis::Sagittal) {
        right = {0, 1, 0}; // Posterior on the right, Anterior on the left
    }
    const Vector first = column(lps, axes.first);
    const Vector second = column(lps, axes.second);
    result.transpose = std::abs(dot(second, right)) > std::abs(dot(first, right));
    const Vector across = result.transpose ? second : first;
    const Vector upwards = result.transpose ? first : second;
    result.flip_x = dot(across, right) < 0;
    result.flip_y = dot(upwards, up) < 0;
    const Vector screen_right = scaled(across, result.flip_x ? -1.0 : 1.0);
    const Vector screen_up = scaled(upwards, result.flip_y ? -1.0 : 1.0);
    result.edges = {direction_letter(scaled(screen_right, -1.0), WorldFrame::LPS),
                    direction_letter(screen_right, WorldFrame::LPS),
                    direction_letter(screen_up, WorldFrame::LPS),
                    direction_letter(scaled(screen_up, -1.0), WorldFrame::LPS)};
    return result;
}

std::array<std::int64_t, 2> in_plane_extents(const Shape& shape, ViewAxis axis)
{
    switch (axis) {
    case ViewAxis::Coronal: return {shape.w, shape.d};
    case ViewAxis::Sagittal: return {shape.h, shape.d};
    case ViewAxis::Axial: break;
    }
    return {shape.w, shape.h};
}

std::array<int, 2> oriented_pixel(const SliceOrientation& orientation,
                                  const std::array<std::int64_t, 2>& extents, std::int64_t first,
                                  std::int64_t second)
{
    std::int64_t x = orientation.transpose ? second : first;
    std::int64_t y = orientation.transpose ? first : second;
    const std::int64_t nx = orientation.transpose ? extents[1] : extents[0];
    const std::int64_t ny = orientation.transpose ? extents[0] : extents[1];
    if (orientation.flip_x) {
        x = nx - 1 - x;
    }
    if (orientation.flip_y) {
        y = ny - 1 - y;
    }
    return {static_cast<int>(x), static_cast<int>(y)};
}

std::array<std::int64_t, 2> unoriented_indices(const SliceOrientation& orientation,
                                               const std::array<std::int64_t, 2>& extents, int x, int y)
{
    const std::int64_t nx = orientation.transpose ? extents[1] : extents[0];
    const std::int64_t ny = orientation.transpose ? extents[0] : extents[1];
    const std::int64_t ux = orientation.flip_x ? nx - 1 - x : x;
    const std::int64_t uy = orientation.flip_y ? ny - 1 - y : y;
    return orientation.transpose ? std::array<std::int64_t, 2>{uy, ux} : std::array<std::int64_t, 2>{ux, uy};
}

} // namespace masklens::ui
