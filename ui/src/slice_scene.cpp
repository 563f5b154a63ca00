#include "masklens/ui/slice_scene.h"

#include "scene_lines.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace masklens::ui {

// ---------------------------------------------------------------------------
// SliceScene

namespace {
// Side of the warm-up image (pixels).
constexpr int kWarmUpPixels = 16;
} // namespace

SliceScene::SliceScene(vtkRenderWindow* window)
{
    renderer_ = vtkSmartPointer<vtkRenderer>::New();
    renderer_->SetBackground(0.08, 0.08, 0.09);
    renderer_->SetBackgroundAlpha(1.0); // opaque frames (VtkHostWidget::setOpaqueScene)
    renderer_->GetActiveCamera()->ParallelProjectionOn();
    window->AddRenderer(renderer_);

    image_ = vtkSmartPointer<vtkImageData>::New();
    image_actor_ = vtkSmartPointer<vtkImageActor>::New();
    image_actor_->GetMapper()->SetInputData(image_);
    // Whole edge pixels: without the border VTK draws the image from the first to
    // the last pixel centre, so the outermost row and column of voxels showed at
    // half their size (a mask touching the edge looked thinner there).
    image_actor_->GetMapper()->BorderOn();
    image_actor_->InterpolateOff();
    image_actor_->ForceOpaqueOn();
    // RGBA unsigned char is shown as colours; window/level 255/127.5 is the identity.
    image_actor_->GetProperty()->SetColorWindow(255.0);
    image_actor_->GetProperty()->SetColorLevel(127.5);
    image_actor_->VisibilityOff();
    renderer_->AddViewProp(image_actor_);

    crosshair_ = vtkSmartPointer<vtkPolyData>::New();
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->SetInputData(crosshair_);
    crosshair_actor_ = vtkSmartPointer<vtkActor>::New();
    crosshair_actor_->SetMapper(mapper);
    crosshair_actor_->GetProperty()->SetColor(0.95, 0.95, 0.95);
    crosshair_actor_->GetProperty()->SetLineWidth(1.0);
    crosshair_actor_->GetProperty()->LightingOff();
    crosshair_actor_->PickableOff();
    crosshair_actor_->VisibilityOff();
    renderer_->AddActor(crosshair_actor_);

    // The same pipeline as image_actor_ (RGB bytes, no interpolation), one
    // pixel in the background colour (0.08, 0.08, 0.09 -> 20, 20, 23).
    vtkNew<vtkImageData> pixel;
    pixel->SetDimensions(kWarmUpPixels, kWarmUpPixels, 1);
    pixel->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
    auto* rgb = static_cast<unsigned char*>(pixel->GetScalarPointer());
    for (int i = 0; i < kWarmUpPixels * kWarmUpPixels; ++i) {
        rgb[3 * i] = 20;
        rgb[3 * i + 1] = 20;
        rgb[3 * i + 2] = 23;
    }
    warm_up_actor_ = vtkSmartPointer<vtkImageActor>::New();
    warm_up_actor_->GetMapper()->SetInputData(pixel);
    warm_up_actor_->InterpolateOff();
    warm_up_actor_->GetProperty()->SetColorWindow(255.0);
    warm_up_actor_->GetProperty()->SetColorLevel(127.5);
    warm_up_actor_->PickableOff();
    renderer_->AddViewProp(warm_up_actor_);
}

void SliceScene::endWarmUp()
{
    warm_up_actor_->VisibilityOff();
}

SliceScene::~SliceScene() = default;

vtkRenderer* SliceScene::renderer() const
{
    return renderer_;
}

void SliceScene::setImage(const SliceImage& image)
{
    const bool resized =
        !has_image_ || image.geometry.width != geometry_.width || image.geometry.height != geometry_.height ||
        image.geometry.spacing_x != geometry_.spacing_x || image.geometry.spacing_y != geometry_.spacing_y;
    geometry_ = image.geometry;
    if (resized) {
        image_->SetDimensions(geometry_.width, geometry_.height, 1);
        image_->SetSpacing(geometry_.spacing_x, geometry_.spacing_y, 1.0);
        image_->SetOrigin(0, 0, 0);
        // RGB: the composed slices are opaque, and without an alpha channel the
        // image is drawn in the opaque pass (no blending) from a smaller texture.
        image_->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
    }
    // Updated in place (same array, same size): only the texture upload follows.
    auto* scalars = vtkUnsignedCharArray::SafeDownCast(image_->GetPointData()->GetScalars());
    unsigned char* rgb = scalars->GetPointer(0);
    const std::size_t pixels = std::min<std::size_t>(
        image.rgba.size() / 4, static_cast<std::size_t>(scalars->GetNumberOfValues()) / 3);
    const std::uint8_t* rgba = image.rgba.data();
    for (std::size_t i = 0; i < pixels; ++i) {
        rgb[i * 3] = rgba[i * 4];
        rgb[i * 3 + 1] = rgba[i * 4 + 1];
        rgb[i * 3 + 2] = rgba[i * 4 + 2];
    }
    scalars->Modified();
    image_->Modified();
    image_actor_->SetDisplayExtent(0, geometry_.width - 1, 0, geometry_.height - 1, 0, 0);
    image_actor_->VisibilityOn();
    warm_up_actor_->VisibilityOff();
    has_image_ = true;
    if (resized) {
        resetCamera();
    }
}

void SliceScene::clear()
{
    has_image_ = false;
    image_actor_->VisibilityOff();
    crosshair_actor_->VisibilityOff();
}

void SliceScene::setCrosshair(std::optional<std::array<int, 2>> pixel)
{
    if (!pixel || !has_image_) {
        crosshair_actor_->VisibilityOff();
        return;
    }
    const double x = (*pixel)[0] * geometry_.spacing_x;
    const double y = (*pixel)[1] * geometry_.spacing_y;
    const double x0 = -0.5 * geometry_.spacing_x;
    const double x1 = (geometry_.width - 0.5) * geometry_.spacing_x;
    const double y0 = -0.5 * geometry_.spacing_y;
    const double y1 = (geometry_.height - 0.5) * geometry_.spacing_y;
    set_lines(crosshair_, {{x0, y, 0.5}, {x1, y, 0.5}, {x, y0, 0.5}, {x, y1, 0.5}});
    crosshair_actor_->VisibilityOn();
}

double SliceScene::fittedScale() const
{
    const double width = geometry_.width * geometry_.spacing_x;
    const double height = geometry_.height * geometry_.spacing_y;
    const int* size = renderer_->GetRenderWindow() ? renderer_->GetRenderWindow()->GetSize() : nullptr;
    const double aspect = size && size[0] > 0 && size[1] > 0 ? static_cast<double>(size[0]) / size[1] : 1.0;
    return std::max(height * 0.5, width * 0.5 / aspect) * 1.04;
}

SliceCamera SliceScene::camera() const
{
    SliceCamera result;
    if (!has_image_) {
        return result;
    }
    vtkCamera* camera = renderer_->GetActiveCamera();
    result.zoom = fittedScale() / std::max(camera->GetParallelScale(), 1e-9);
    double focal[3];
    camera->GetFocalPoint(focal);
    result.pan_x = focal[0] - (geometry_.width - 1) * 0.5 * geometry_.spacing_x;
    result.pan_y = focal[1] - (geometry_.height - 1) * 0.5 * geometry_.spacing_y;
    return result;
}

void SliceScene::setCamera(const SliceCamera& state)
{
    if (!has_image_) {
        return;
    }
    resetCamera();
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetParallelScale(fittedScale() / std::max(state.zoom, 1e-3));
    const double fx = (geometry_.width - 1) * 0.5 * geometry_.spacing_x + state.pan_x;
    const double fy = (geometry_.height - 1) * 0.5 * geometry_.spacing_y + state.pan_y;
    camera->SetFocalPoint(fx, fy, 0.0);
    camera->SetPosition(fx, fy, 1000.0);
}

void SliceScene::resetCamera()
{
    if (!has_image_) {
        return;
    }
    const double cx = (geometry_.width - 1) * 0.5 * geometry_.spacing_x;
    const double cy = (geometry_.height - 1) * 0.5 * geometry_.spacing_y;
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetFocalPoint(cx, cy, 0.0);
    camera->SetPosition(cx, cy, 1000.0);
    camera->SetViewUp(0, 1, 0);
    camera->SetClippingRange(1.0, 2000.0);
    camera->SetParallelScale(fittedScale());
}

void SliceScene::zoom(double factor)
{
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetParallelScale(camera->GetParallelScale() / std::max(factor, 1e-3));
}

void SliceScene::pan(double dx, double dy)
{
    const auto origin = displayToWorld(0, 0);
    const auto moved = displayToWorld(dx, dy);
    vtkCamera* camera = renderer_->GetActiveCamera();
    double focal[3];
    double position[3];
    camera->GetFocalPoint(focal);
    camera->GetPosition(position);
    for (int i = 0; i < 2; ++i) {
        const double delta = moved[static_cast<std::size_t>(i)] - origin[static_cast<std::size_t>(i)];
        focal[i] -= delta;
        position[i] -= delta;
    }
    camera->SetFocalPoint(focal);
    camera->SetPosition(position);
}

std::array<double, 3> SliceScene::displayToWorld(double x, double y) const
{
    renderer_->SetDisplayPoint(x, y, 0.0);
    renderer_->DisplayToWorld();
    double world[4];
    renderer_->GetWorldPoint(world);
    if (world[3] != 0.0) {
        return {world[0] / world[3], world[1] / world[3], world[2] / world[3]};
    }
    return {world[0], world[1], world[2]};
}

std::array<double, 2> SliceScene::pixelToDisplay(double x, double y) const
{
    renderer_->SetWorldPoint(x * geometry_.spacing_x, y * geometry_.spacing_y, 0.0, 1.0);
    renderer_->WorldToDisplay();
    double display[3];
    renderer_->GetDisplayPoint(display);
    return {display[0], display[1]};
}

std::optional<std::array<int, 2>> SliceScene::displayToPixel(double x, double y) const
{
    if (!has_image_) {
        return std::nullopt;
    }
    const auto world = displayToWorld(x, y);
    const int px = static_cast<int>(std::floor(world[0] / geometry_.spacing_x + 0.5));
    const int py = static_cast<int>(std::floor(world[1] / geometry_.spacing_y + 0.5));
    if (px < 0 || py < 0 || px >= geometry_.width || py >= geometry_.height) {
        return std::nullopt;
    }
    return std::array<int, 2>{px, py};
}

} // namespace masklens::ui
