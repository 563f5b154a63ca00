// The 3D surface scene and the off-thread mesh builders it shows. The scene is
// handed a render window, adds its own renderer and holds its pipeline; the
// widget hosting the window asks for a repaint.
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/ui/slice_model.h"

#include <vtkPolyData.h>
#include <vtkSmartPointer.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
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

// The meshes of one sample (smoothed, with normals), in physical units (index x spacing).
struct SurfaceMeshes {
    vtkSmartPointer<vtkPolyData> target, prediction, false_positive, false_negative;
    std::array<double, 3> spacing{1, 1, 1};      // mm per voxel of the source grid (x, y, z)
    std::array<std::int64_t, 3> extent{1, 1, 1}; // w, h, d of the source grid
    int step = 1;
    bool has_distances = false;
    double max_distance = 0; // largest finite distance on the prediction surface (mm)
};

// Builds the four surfaces from the voxels classified as in the slice views.
// Thread-safe (own VTK objects): run it off the UI thread. Returns an empty
// result (null meshes) when `cancel` is set.
SurfaceMeshes build_surface_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                   const SurfaceBuildOptions& options,
                                   const std::atomic<bool>* cancel = nullptr);

// The surface of the thresholded prediction alone (the comparison's 3D view:
// one per prediction, each in its colour). Thread-safe; null when cancelled.
vtkSmartPointer<vtkPolyData> build_prediction_surface(const Volume& prediction, const Volume& target,
                                                      const PairView& view, int step = 0,
                                                      const std::atomic<bool>* cancel = nullptr);

struct ColouredSurface {
    vtkSmartPointer<vtkPolyData> mesh;
    Rgb colour;
};

// Surfaces of one sample in 3D: target (translucent), thresholded prediction,
// false positives and false negatives, plus the crosshair position. Optionally
// the prediction surface is coloured by its distance to the target surface,
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
    void clear();
    // Colours the prediction surface by distance (when the meshes carry it) and shows the colour bar.
    void setDistanceColouring(bool on);
    bool distanceColouring() const noexcept { return distance_colouring_; }
    bool distanceColourShown() const;
    void setCursor(const Voxel& voxel);
    void resetCamera();
    // Visibility of the four surfaces.
    void setVisible(bool target, bool prediction, bool errors);
    // Several predictions' surfaces, each in its colour, instead of the
    // prediction and error surfaces (empty: back to those).
    void setComparisonSurfaces(const std::vector<ColouredSurface>& surfaces);
    int comparisonSurfaceCount() const;

    vtkRenderer* renderer() const;
    // Triangles of each surface (tests).
    std::array<long long, 3> triangleCounts() const;

private:
    struct Pipeline;
    void applyDistanceColouring();
    vtkSmartPointer<vtkRenderer> renderer_;
    std::unique_ptr<Pipeline> pipeline_;
    SurfaceMeshes meshes_;
    bool distance_colouring_ = false;
    std::array<double, 3> spacing_{1, 1, 1};
    std::array<std::int64_t, 3> extent_{1, 1, 1}; // w, h, d
};

} // namespace masklens::ui
