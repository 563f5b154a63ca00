// VTK scene builders. Each is handed a render window, adds its own renderer
// and holds its pipeline; none owns a widget. The widget that hosts the window
// asks for a repaint after changing a scene.
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/ui/slice_model.h"

#include <vtkSmartPointer.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

class vtkActor;
class vtkCellArray;
class vtkImageActor;
class vtkImageData;
class vtkPoints;
class vtkPolyData;
class vtkRenderWindow;
class vtkRenderer;

namespace masklens::ui {

// One slice as an RGBA image (composed by compose_slice) shown at its
// physical pixel size, with a crosshair, under a parallel-projection camera.
class SliceScene {
public:
    explicit SliceScene(vtkRenderWindow* window);
    ~SliceScene();
    SliceScene(const SliceScene&) = delete;
    SliceScene& operator=(const SliceScene&) = delete;

    void setImage(const SliceImage& image);
    void clear();
    bool hasImage() const noexcept { return has_image_; }
    const SliceGeometry& geometry() const noexcept { return geometry_; }
    // Crosshair through the centre of pixel (x, y).
    void setCrosshair(std::optional<std::array<int, 2>> pixel);

    // Fits the image into the viewport; zoom (> 1 enlarges) and pan in display pixels.
    void resetCamera();
    void zoom(double factor);
    void pan(double dx, double dy);

    // Display coordinates (device pixels, origin bottom-left) of a pixel centre, and back.
    std::array<double, 2> pixelToDisplay(double x, double y) const;
    std::optional<std::array<int, 2>> displayToPixel(double x, double y) const;

    vtkRenderer* renderer() const;

private:
    std::array<double, 3> displayToWorld(double x, double y) const;

    vtkSmartPointer<vtkRenderer> renderer_;
    vtkSmartPointer<vtkImageData> image_;
    vtkSmartPointer<vtkImageActor> image_actor_;
    vtkSmartPointer<vtkPolyData> crosshair_;
    vtkSmartPointer<vtkActor> crosshair_actor_;
    SliceGeometry geometry_;
    bool has_image_ = false;
};

// Surfaces of one sample in 3D: target (translucent), thresholded prediction,
// false positives and false negatives, plus the crosshair position.
class SurfaceScene {
public:
    explicit SurfaceScene(vtkRenderWindow* window);
    ~SurfaceScene();
    SurfaceScene(const SurfaceScene&) = delete;
    SurfaceScene& operator=(const SurfaceScene&) = delete;

    void setVolumes(const Volume& prediction, const Volume& target, const PairView& view);
    void clear();
    void setCursor(const Voxel& voxel);
    void resetCamera();
    // Visibility of the four surfaces.
    void setVisible(bool target, bool prediction, bool errors);

    vtkRenderer* renderer() const;
    // Triangles of each surface (tests).
    std::array<long long, 3> triangleCounts() const;

private:
    struct Pipeline;
    vtkSmartPointer<vtkRenderer> renderer_;
    std::unique_ptr<Pipeline> pipeline_;
    std::array<double, 3> spacing_{1, 1, 1};
    std::array<std::int64_t, 3> extent_{1, 1, 1}; // w, h, d
};

} // namespace masklens::ui
