// The 3D surface scene and the off-thread mesh builders it shows. The scene is
// handed a render window, adds its own renderer and holds its pipeline; the
// widget hosting the window asks for a repaint.
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/ui/label_colours.h"
#include "masklens/ui/slice_model.h"
#include "masklens/ui/slice_orientation.h"

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

class vtkActor;
class vtkScalarBarActor;
class vtkColorTransferFunction;
class vtkCellArray;
class vtkImageActor;
class vtkImageData;
class vtkPoints;
class vtkPolyData;
class vtkRenderWindow;
class vtkRenderer;

namespace masklens::ui {

struct ColouredSurface {
    vtkSmartPointer<vtkPolyData> mesh;
    Rgb colour;
    std::string name;    // legend text
    double opacity = -1; // 0..1; < 0: opaque alone, 0.75 when several are shown (comparison)
};

// What build_surface_meshes() makes.
struct SurfaceBuildOptions {
    // Colour data: per point of the prediction surface, the distance (mm) from
    // the nearest prediction-surface voxel to the target surface
    // (masklens::surface_distance_map), as the point scalars "distance_mm".
    bool distances = false;
    // Surfaces are built on every step-th voxel (display only). 0: automatic,
    // 1 up to kSurfaceVoxelBudget voxels, then the smallest step under it.
    int step = 0;
};
inline constexpr std::int64_t kSurfaceVoxelBudget = std::int64_t{256} * 256 * 256;
int automatic_surface_step(const Shape& shape);

// The meshes of one sample (smoothed, with normals), in the grid's physical
// frame (index x spacing, mm; the scene places them in the world with the
// volume's origin and direction). The masks are padded by one empty voxel
// before extraction, so a mask touching the volume's edge gives a closed surface.
//
// Coincident surfaces are never drawn twice. The error view draws the outer
// surface of everything predicted or missed (prediction | target), each face
// in the class of the voxel inside it: the disjoint TP, FP and FN patches (a
// missed one-voxel rim lies on top of the prediction's surface: drawing both
// surfaces interleaved them in stripes). The target surface is split by
// which drawn surface each face lies on: target_pieces[kTargetOnTp] (inside TP,
// outside TN: under the TP patch and on the prediction's surface),
// [kTargetOnFn] (inside FN, outside TN: under the FN patch), [kTargetOnFpSide]
// (inside FN, outside FP: on the prediction's surface, inside the hull) and
// [kTargetInside] (inside TP, outside FP: on neither). The scene hides a piece
// while the surface over it is shown, so no two visible faces share a place.
inline constexpr std::size_t kTargetOnTp = 0, kTargetOnFn = 1, kTargetOnFpSide = 2, kTargetInside = 3;
struct SurfaceMeshes {
    // The target's, the prediction's (distance colours: its point data) and
    // prediction | target's surfaces.
    vtkSmartPointer<vtkPolyData> target, prediction, hull;
    vtkSmartPointer<vtkPolyData> true_positive, false_positive, false_negative; // hull patches
    std::array<vtkSmartPointer<vtkPolyData>, 4> target_pieces;
    std::array<double, 3> spacing{1, 1, 1};      // mm per voxel of the source grid (x, y, z)
    std::array<std::int64_t, 3> extent{1, 1, 1}; // w, h, d of the source grid
    int step = 1;
    bool has_distances = false;
    double max_distance = 0; // largest finite distance on the prediction surface (mm)
    double p95_distance = 0; // 95th percentile of the prediction surface's point distances (mm)
    // build_lesion_meshes: the patches are lesions by status (true_positive:
    // found, false_positive: false, false_negative: missed); no target or
    // prediction surface (empty meshes).
    bool lesions = false;
    // build_lesion_meshes with a selected lesion: its own surface (drawn as a
    // white wireframe over the patches); else null.
    vtkSmartPointer<vtkPolyData> selected;
    // build_label_meshes: each label's surface in its colour (shown like the
    // comparison's surfaces, instead of the patches); the target's surface
    // as target_pieces[kTargetInside] (translucent around them).
    std::vector<ColouredSurface> labels;
};

// Builds the surfaces from the voxels classified as in the slice views.
// Thread-safe (own VTK objects): run it off the UI thread. Returns an empty
// result (null meshes) when `cancel` is set.
SurfaceMeshes build_surface_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                   const SurfaceBuildOptions& options,
                                   const std::atomic<bool>* cancel = nullptr);

// The Lesions display mode in 3D: the outer surface of every lesion of the
// overlay (lesion_overlay.h; made for `target`'s shape), each face in the
// status of the voxel inside it (as compose_slice paints it) — disjoint
// patches, so nothing z-fights; the overlay's selected lesion also as its own
// surface (SurfaceMeshes::selected). Thread-safe; an empty result when cancelled.
SurfaceMeshes build_lesion_meshes(const LesionOverlay& lesions, const Volume& target, int step = 0,
                                  const std::atomic<bool>* cancel = nullptr);

// The "All labels" display mode in 3D: the prediction's surface of each
// visible label of `labels` (value > 0; the decisions of view.label = that
// value, as compose_slice draws them) in the label's colour and opacity,
// named by the label, plus the target's foreground surface (view.label
// none) to show translucent around them. One classification pass per label
// (display only: every step-th voxel). Thread-safe; empty when cancelled.
SurfaceMeshes build_label_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                 const std::vector<LabelStyle>& labels, int step = 0,
                                 const std::atomic<bool>* cancel = nullptr);

// The surface of the thresholded prediction alone (the comparison's 3D view:
// one per prediction, each in its colour). Thread-safe; null when cancelled.
vtkSmartPointer<vtkPolyData> build_prediction_surface(const Volume& prediction, const Volume& target,
                                                      const PairView& view, int step = 0,
                                                      const std::atomic<bool>* cancel = nullptr);

// The surfaces one can show, hide and make translucent.
enum class SurfaceLayer { Target, TruePositive, FalsePositive, FalseNegative };
inline constexpr int kSurfaceLayerCount = 4;
struct SurfaceStyle {
    bool visible = true;
    double opacity = 1.0; // 0..1
    bool operator==(const SurfaceStyle& other) const noexcept = default;
};

// The 4x4 row-major matrix taking the meshes' frame (index x spacing, mm) to
// RAS+ mm: origin + direction of the geometry expressed in RAS (in_frame:
// x and y negated for a volume whose reader recorded an LPS world).
std::array<double, 16> ras_from_grid(const Geometry& geometry);

// Surfaces of one sample in 3D, in RAS+ world coordinates (patient right is
// +x, anterior +y, superior +z), seen from the front by default: target
// (translucent), the TP / FP / FN patches, the crosshair, a legend, an
// orientation cube (R/L, A/P, S/I) in the lower-left corner. Optionally the
// prediction patches are coloured by their distance to the target surface,
// with a colour bar.
class SurfaceScene {
public:
    explicit SurfaceScene(vtkRenderWindow* window);
    ~SurfaceScene();
    SurfaceScene(const SurfaceScene&) = delete;
    SurfaceScene& operator=(const SurfaceScene&) = delete;

    // Builds (synchronously) and shows the surfaces.
    void setVolumes(const Volume& prediction, const Volume& target, const PairView& view,
                    const SurfaceBuildOptions& options = {});
    // Shows meshes built elsewhere (e.g. on a worker thread).
    void setMeshes(const SurfaceMeshes& meshes);
    const SurfaceMeshes& meshes() const noexcept { return meshes_; }
    // Where the grid lies in the patient (volume's geometry and its frame).
    void setPlacement(const Geometry& geometry);
    void clear();
    // Colours the prediction patches by distance (when the meshes carry it) and shows the colour bar.
    void setDistanceColouring(bool on);
    bool distanceColouring() const noexcept { return distance_colouring_; }
    bool distanceColourShown() const;
    // Top of the distance colour range in mm; std::nullopt: the meshes' 95th
    // percentile (at least 1 mm). Colours are clamped above it.
    void setDistanceRange(std::optional<double> top_mm);
    double distanceRangeTop() const;
    void setCursor(const Voxel& voxel);
    void resetCamera();
    void setSurfaceStyle(SurfaceLayer layer, const SurfaceStyle& style);
    SurfaceStyle surfaceStyle(SurfaceLayer layer) const;
    // Clips every surface at the crosshair's slice of `plane` (axial: the
    // part at higher D is cut away; coronal: higher H; sagittal: higher W),
    // so the inside shows; nullopt: no clipping.
    void setClipPlane(std::optional<ViewAxis> plane);
    std::optional<ViewAxis> clipPlane() const noexcept { return clip_; }
    // The axial plane on or off (setClipPlane(Axial) / nullopt).
    void setClipAtCursor(bool on) { setClipPlane(on ? std::optional(ViewAxis::Axial) : std::nullopt); }
    bool clipAtCursor() const noexcept { return clip_.has_value(); }
    // Several predictions' surfaces, each in its colour, instead of the
    // prediction and error surfaces (empty: back to those).
    void setComparisonSurfaces(const std::vector<ColouredSurface>& surfaces);
    // Whether the surfaces shown that way are the meshes' label surfaces.
    bool labelSurfacesShown() const noexcept { return label_surfaces_; }
    int comparisonSurfaceCount() const;
    // The legend's entries (visible surfaces, in order) and whether the
    // legend and orientation cube are drawn (tests, screenshots).
    std::vector<std::pair<std::string, Rgb>> legendEntries() const;
    void setDecorationsVisible(bool on);

    vtkRenderer* renderer() const;
    // Triangles of each surface (tests): target, prediction, FP + FN patches.
    std::array<long long, 3> triangleCounts() const;

private:
    struct Pipeline;
    void applyDistanceColouring();
    void applyVisibility();
    void applyCursorClip();
    void updateLegend();
    vtkSmartPointer<vtkRenderer> renderer_;
    std::unique_ptr<Pipeline> pipeline_;
    SurfaceMeshes meshes_;
    bool distance_colouring_ = false;
    std::optional<double> distance_top_;
    std::optional<ViewAxis> clip_;
    bool label_surfaces_ = false; // the comparison surfaces are meshes_.labels
    Voxel cursor_;
    std::array<double, 3> spacing_{1, 1, 1};
    std::array<std::int64_t, 3> extent_{1, 1, 1}; // w, h, d
    std::array<double, 16> placement_{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1};
};

} // namespace masklens::ui
