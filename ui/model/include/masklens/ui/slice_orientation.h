// How a slice view lays the voxel grid on the screen: which in-plane index
// axis runs across, which way each runs, and the anatomical letter at each
// screen edge, all derived from the volume's direction matrix (never fixed
// per view), so the same array saved with an RAS and with an LPS affine
// shows two mirrored patients. Toolkit-free (tested without a window).
//
// Convention (docs/gui.md, ../shared/design/orientation.md): radiological by
// default, as ITK-SNAP and 3D Slicer show it -
//   axial plane:    patient Right on screen left, Anterior up;
//   coronal plane:  Right on screen left, Superior up;
//   sagittal plane: Anterior on screen left, Superior up.
// Neurological mirrors left and right in the axial and coronal planes. Which
// plane a view shows follows from the world axis its fixed index axis points
// along most (a volume stored sagittally shows its sagittal plane in the view
// that fixes D). Oblique grids are shown in the voxel grid, each axis laid
// along its nearest anatomical axis, and flagged `oblique` (the views say so):
// nothing is resampled.
#pragma once

#include "masklens/engine/volume.h"

#include <array>
#include <cstdint>

namespace masklens::ui {

// The three orthogonal views. Axial fixes D (shows H x W), coronal fixes H
// (shows D x W), sagittal fixes W (shows D x H).
enum class ViewAxis { Axial, Coronal, Sagittal };

enum class Convention { Radiological, Neurological };

struct SliceOrientation {
    // The view's in-plane index axes, "first" and "second": axial (W, H),
    // coronal (W, D), sagittal (H, D). Transposed: the second runs across.
    bool transpose = false;
    // After transposing: screen x (y, upwards) runs against the index.
    bool flip_x = false;
    bool flip_y = false;
    // Anatomical letters (L R A P S I) at the screen's left, right, top and
    // bottom edges; '\0' without geometry.
    std::array<char, 4> edges{};
    // The plane the view shows (by its fixed axis' nearest world axis).
    ViewAxis plane = ViewAxis::Axial;
    // A direction column is off its nearest world axis by more than ~2.5 degrees.
    bool oblique = false;
    bool operator==(const SliceOrientation& other) const noexcept = default;
};

// The orientation of `axis` for a volume placed by `geometry`. Without
// geometry (geometry.known false: .npy, PNG) the voxel grid as an image:
// axial rows (H) top to bottom, W left to right; coronal and sagittal with D
// upwards; no letters.
SliceOrientation slice_orientation(const Geometry& geometry, ViewAxis axis,
                                   Convention convention = Convention::Radiological);

// The anatomical letter a world direction (in `frame`) points to most:
// 'L', 'R', 'A', 'P', 'S' or 'I'.
char direction_letter(const std::array<double, 3>& direction, WorldFrame frame);

// Extents of the view's first and second in-plane index axes.
std::array<std::int64_t, 2> in_plane_extents(const Shape& shape, ViewAxis axis);

// Screen pixel (x right, y up) of in-plane indices (first, second), and back,
// for an image of the in-plane extents under `orientation`.
std::array<int, 2> oriented_pixel(const SliceOrientation& orientation,
                                  const std::array<std::int64_t, 2>& extents, std::int64_t first,
                                  std::int64_t second);
std::array<std::int64_t, 2> unoriented_indices(const SliceOrientation& orientation,
                                               const std::array<std::int64_t, 2>& extents, int x, int y);

} // namespace masklens::ui
