// The 2D slice scene: one composed slice image, a crosshair and a parallel-
// projection camera. It is handed a render window, adds its own renderer and
// holds its pipeline; the widget hosting the window asks for a repaint.
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
    // The camera relative to the fitted one (linked views copy it), and back.
    SliceCamera camera() const;
    void setCamera(const SliceCamera& camera);

    // Display coordinates (device pixels, origin bottom-left) of a pixel centre, and back.
    std::array<double, 2> pixelToDisplay(double x, double y) const;
    std::optional<std::array<int, 2>> displayToPixel(double x, double y) const;

    vtkRenderer* renderer() const;

    // Until the first image arrives, a one-pixel image in the background
    // colour is part of the scene: the first (empty) frame then compiles the
    // image shaders, tens of milliseconds per view under software OpenGL,
    // before any data is waiting to be shown. The view ends it after that frame.
    void endWarmUp();

private:
    std::array<double, 3> displayToWorld(double x, double y) const;
    double fittedScale() const;

    vtkSmartPointer<vtkRenderer> renderer_;
    vtkSmartPointer<vtkImageData> image_;
    vtkSmartPointer<vtkImageActor> image_actor_;
    vtkSmartPointer<vtkPolyData> crosshair_;
    vtkSmartPointer<vtkActor> crosshair_actor_;
    vtkSmartPointer<vtkImageActor> warm_up_actor_;
    SliceGeometry geometry_;
    bool has_image_ = false;
};

} // namespace masklens::ui
