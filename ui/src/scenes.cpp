#include "masklens/ui/scenes.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkImageActor.h>
#include <vtkImageData.h>
#include <vtkImageMapper3D.h>
#include <vtkImageProperty.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include <algorithm>
#include <cmath>
#include <cstring>

namespace masklens::ui {

namespace {

void set_lines(vtkPolyData* poly, const std::vector<std::array<double, 3>>& ends)
{
    vtkNew<vtkPoints> points;
    vtkNew<vtkCellArray> lines;
    for (std::size_t i = 0; i + 1 < ends.size(); i += 2) {
        const vtkIdType a = points->InsertNextPoint(ends[i].data());
        const vtkIdType b = points->InsertNextPoint(ends[i + 1].data());
        const vtkIdType ids[2] = {a, b};
        lines->InsertNextCell(2, ids);
    }
    poly->SetPoints(points);
    poly->SetLines(lines);
    poly->Modified();
}

void set_colour(vtkActor* actor, const Rgb& colour, double opacity)
{
    actor->GetProperty()->SetColor(colour.r / 255.0, colour.g / 255.0, colour.b / 255.0);
    actor->GetProperty()->SetOpacity(opacity);
}

void connect_surface(vtkDiscreteFlyingEdges3D* surface, vtkWindowedSincPolyDataFilter* smooth,
                     vtkPolyDataNormals* normals, vtkPolyDataMapper* mapper)
{
    smooth->SetInputConnection(surface->GetOutputPort());
    smooth->SetNumberOfIterations(12);
    smooth->SetPassBand(0.08);
    smooth->NormalizeCoordinatesOn();
    smooth->BoundarySmoothingOff();
    smooth->NonManifoldSmoothingOn();
    normals->SetInputConnection(smooth->GetOutputPort());
    normals->SplittingOff();
    normals->ConsistencyOn();
    normals->AutoOrientNormalsOff();
    mapper->SetInputConnection(normals->GetOutputPort());
}

} // namespace

// ---------------------------------------------------------------------------
// SliceScene

SliceScene::SliceScene(vtkRenderWindow* window)
{
    renderer_ = vtkSmartPointer<vtkRenderer>::New();
    renderer_->SetBackground(0.08, 0.08, 0.09);
    renderer_->GetActiveCamera()->ParallelProjectionOn();
    window->AddRenderer(renderer_);

    image_ = vtkSmartPointer<vtkImageData>::New();
    image_actor_ = vtkSmartPointer<vtkImageActor>::New();
    image_actor_->GetMapper()->SetInputData(image_);
    image_actor_->InterpolateOff();
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
        image_->AllocateScalars(VTK_UNSIGNED_CHAR, 4);
    }
    auto* scalars = vtkUnsignedCharArray::SafeDownCast(image_->GetPointData()->GetScalars());
    std::memcpy(
        scalars->GetPointer(0), image.rgba.data(),
        std::min<std::size_t>(image.rgba.size(), static_cast<std::size_t>(scalars->GetNumberOfValues())));
    scalars->Modified();
    image_->Modified();
    image_actor_->SetDisplayExtent(0, geometry_.width - 1, 0, geometry_.height - 1, 0, 0);
    image_actor_->VisibilityOn();
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

void SliceScene::resetCamera()
{
    if (!has_image_) {
        return;
    }
    const double width = geometry_.width * geometry_.spacing_x;
    const double height = geometry_.height * geometry_.spacing_y;
    const double cx = (geometry_.width - 1) * 0.5 * geometry_.spacing_x;
    const double cy = (geometry_.height - 1) * 0.5 * geometry_.spacing_y;
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetFocalPoint(cx, cy, 0.0);
    camera->SetPosition(cx, cy, 1000.0);
    camera->SetViewUp(0, 1, 0);
    camera->SetClippingRange(1.0, 2000.0);
    const int* size = renderer_->GetRenderWindow() ? renderer_->GetRenderWindow()->GetSize() : nullptr;
    const double aspect = size && size[0] > 0 && size[1] > 0 ? static_cast<double>(size[0]) / size[1] : 1.0;
    camera->SetParallelScale(std::max(height * 0.5, width * 0.5 / aspect) * 1.04);
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

// ---------------------------------------------------------------------------
// SurfaceScene

struct SurfaceScene::Pipeline {
    vtkNew<vtkImageData> target_mask;
    vtkNew<vtkImageData> prediction_mask;
    vtkNew<vtkImageData> classes; // 0 TN, 1 TP, 2 FP, 3 FN
    vtkNew<vtkDiscreteFlyingEdges3D> target_surface;
    vtkNew<vtkDiscreteFlyingEdges3D> prediction_surface;
    vtkNew<vtkDiscreteFlyingEdges3D> error_surface;
    // Per surface: smoothing (the label surfaces are voxel staircases) and normals.
    vtkNew<vtkWindowedSincPolyDataFilter> target_smooth;
    vtkNew<vtkWindowedSincPolyDataFilter> prediction_smooth;
    vtkNew<vtkWindowedSincPolyDataFilter> error_smooth;
    vtkNew<vtkPolyDataNormals> target_normals;
    vtkNew<vtkPolyDataNormals> prediction_normals;
    vtkNew<vtkPolyDataNormals> error_normals;
    vtkNew<vtkPolyDataMapper> target_mapper;
    vtkNew<vtkPolyDataMapper> prediction_mapper;
    vtkNew<vtkPolyDataMapper> error_mapper;
    vtkNew<vtkActor> target_actor;
    vtkNew<vtkActor> prediction_actor;
    vtkNew<vtkActor> error_actor;
    vtkNew<vtkDiscreteFlyingEdges3D> fn_surface;
    vtkNew<vtkWindowedSincPolyDataFilter> fn_smooth;
    vtkNew<vtkPolyDataNormals> fn_normals;
    vtkNew<vtkPolyDataMapper> fn_mapper;
    vtkNew<vtkActor> fn_actor;
    vtkNew<vtkPolyData> cursor;
    vtkNew<vtkPolyDataMapper> cursor_mapper;
    vtkNew<vtkActor> cursor_actor;
    bool has_data = false;
};

SurfaceScene::SurfaceScene(vtkRenderWindow* window) : pipeline_(std::make_unique<Pipeline>())
{
    renderer_ = vtkSmartPointer<vtkRenderer>::New();
    renderer_->SetBackground(0.08, 0.08, 0.09);
    window->AddRenderer(renderer_);
    Pipeline& p = *pipeline_;

    p.target_surface->SetInputData(p.target_mask);
    p.target_surface->SetValue(0, 1);
    p.target_surface->ComputeNormalsOff();
    p.target_surface->ComputeScalarsOff();
    connect_surface(p.target_surface, p.target_smooth, p.target_normals, p.target_mapper);
    p.target_mapper->ScalarVisibilityOff();
    p.target_actor->SetMapper(p.target_mapper);
    set_colour(p.target_actor, kTargetColour, 0.2);

    p.prediction_surface->SetInputData(p.prediction_mask);
    p.prediction_surface->SetValue(0, 1);
    p.prediction_surface->ComputeNormalsOff();
    p.prediction_surface->ComputeScalarsOff();
    connect_surface(p.prediction_surface, p.prediction_smooth, p.prediction_normals, p.prediction_mapper);
    p.prediction_mapper->ScalarVisibilityOff();
    p.prediction_actor->SetMapper(p.prediction_mapper);
    set_colour(p.prediction_actor, kTruePositiveColour, 1.0);

    p.error_surface->SetInputData(p.classes);
    p.error_surface->SetValue(0, 2); // false positives
    p.error_surface->ComputeNormalsOff();
    p.error_surface->ComputeScalarsOff();
    connect_surface(p.error_surface, p.error_smooth, p.error_normals, p.error_mapper);
    p.error_mapper->ScalarVisibilityOff();
    p.error_actor->SetMapper(p.error_mapper);
    set_colour(p.error_actor, kFalsePositiveColour, 1.0);

    p.fn_surface->SetInputData(p.classes);
    p.fn_surface->SetValue(0, 3); // false negatives
    p.fn_surface->ComputeNormalsOff();
    p.fn_surface->ComputeScalarsOff();
    connect_surface(p.fn_surface, p.fn_smooth, p.fn_normals, p.fn_mapper);
    p.fn_mapper->ScalarVisibilityOff();
    p.fn_actor->SetMapper(p.fn_mapper);
    set_colour(p.fn_actor, kFalseNegativeColour, 1.0);
    // FP/FN surfaces share faces with the prediction surface: draw them in front.
    vtkMapper::SetResolveCoincidentTopologyToPolygonOffset();
    p.error_mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0);
    p.fn_mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0);

    p.cursor_mapper->SetInputData(p.cursor);
    p.cursor_actor->SetMapper(p.cursor_mapper);
    p.cursor_actor->GetProperty()->SetColor(0.95, 0.95, 0.95);
    p.cursor_actor->GetProperty()->LightingOff();

    for (vtkActor* actor :
         {p.error_actor.GetPointer(), p.fn_actor.GetPointer(), p.prediction_actor.GetPointer(),
          p.target_actor.GetPointer(), p.cursor_actor.GetPointer()}) {
        actor->VisibilityOff();
        renderer_->AddActor(actor);
    }
}

SurfaceScene::~SurfaceScene() = default;

vtkRenderer* SurfaceScene::renderer() const
{
    return renderer_;
}

void SurfaceScene::setVolumes(const Volume& prediction, const Volume& target, const PairView& view)
{
    Pipeline& p = *pipeline_;
    const Shape& shape = prediction.shape();
    const Geometry& geometry = target.geometry();
    spacing_ = geometry.spacing;
    extent_ = {shape.w, shape.h, shape.d};
    const int dims[3] = {static_cast<int>(shape.w), static_cast<int>(shape.h), static_cast<int>(shape.d)};
    for (vtkImageData* image :
         {p.target_mask.GetPointer(), p.prediction_mask.GetPointer(), p.classes.GetPointer()}) {
        image->SetDimensions(dims[0], dims[1], dims[2]);
        image->SetSpacing(spacing_[0], spacing_[1], spacing_[2]);
        image->SetOrigin(0, 0, 0);
        image->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
    }
    auto* target_values = static_cast<unsigned char*>(p.target_mask->GetScalarPointer());
    auto* prediction_values = static_cast<unsigned char*>(p.prediction_mask->GetScalarPointer());
    auto* class_values = static_cast<unsigned char*>(p.classes->GetScalarPointer());
    std::size_t i = 0;
    for (std::int64_t d = 0; d < shape.d; ++d) {
        for (std::int64_t h = 0; h < shape.h; ++h) {
            for (std::int64_t w = 0; w < shape.w; ++w, ++i) {
                const VoxelClass c = classify(prediction, target, view, {d, h, w});
                target_values[i] = c.target_hit ? 1 : 0;
                prediction_values[i] = c.predicted ? 1 : 0;
                class_values[i] = c.predicted ? (c.target_hit ? 1 : 2) : (c.target_hit ? 3 : 0);
            }
        }
    }
    for (vtkImageData* image :
         {p.target_mask.GetPointer(), p.prediction_mask.GetPointer(), p.classes.GetPointer()}) {
        image->Modified();
    }
    const bool first = !p.has_data;
    p.has_data = true;
    for (vtkActor* actor :
         {p.error_actor.GetPointer(), p.fn_actor.GetPointer(), p.prediction_actor.GetPointer(),
          p.target_actor.GetPointer(), p.cursor_actor.GetPointer()}) {
        actor->VisibilityOn();
    }
    if (first) {
        resetCamera();
    }
}

void SurfaceScene::clear()
{
    Pipeline& p = *pipeline_;
    p.has_data = false;
    for (vtkActor* actor :
         {p.error_actor.GetPointer(), p.fn_actor.GetPointer(), p.prediction_actor.GetPointer(),
          p.target_actor.GetPointer(), p.cursor_actor.GetPointer()}) {
        actor->VisibilityOff();
    }
}

void SurfaceScene::setVisible(bool target, bool prediction, bool errors)
{
    Pipeline& p = *pipeline_;
    p.target_actor->SetVisibility(target && p.has_data);
    p.prediction_actor->SetVisibility(prediction && p.has_data);
    p.error_actor->SetVisibility(errors && p.has_data);
    p.fn_actor->SetVisibility(errors && p.has_data);
}

void SurfaceScene::setCursor(const Voxel& voxel)
{
    const double x = static_cast<double>(voxel.w) * spacing_[0];
    const double y = static_cast<double>(voxel.h) * spacing_[1];
    const double z = static_cast<double>(voxel.d) * spacing_[2];
    const double x1 = static_cast<double>(extent_[0] - 1) * spacing_[0];
    const double y1 = static_cast<double>(extent_[1] - 1) * spacing_[1];
    const double z1 = static_cast<double>(extent_[2] - 1) * spacing_[2];
    set_lines(pipeline_->cursor, {{0, y, z}, {x1, y, z}, {x, 0, z}, {x, y1, z}, {x, y, 0}, {x, y, z1}});
}

void SurfaceScene::resetCamera()
{
    const double x1 = static_cast<double>(extent_[0] - 1) * spacing_[0];
    const double y1 = static_cast<double>(extent_[1] - 1) * spacing_[1];
    const double z1 = static_cast<double>(extent_[2] - 1) * spacing_[2];
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetFocalPoint(x1 / 2, y1 / 2, z1 / 2);
    // Looking from the front (-y), head (+z) up, slightly from the side.
    camera->SetPosition(x1 / 2 + 0.6 * x1, y1 / 2 - 2.5 * std::max({x1, y1, z1}), z1 / 2 + 0.4 * z1);
    camera->SetViewUp(0, 0, 1);
    const double bounds[6] = {0, x1, 0, y1, 0, z1};
    renderer_->ResetCamera(bounds);
    camera->Zoom(1.4);
}

std::array<long long, 3> SurfaceScene::triangleCounts() const
{
    Pipeline& p = *pipeline_;
    std::array<long long, 3> counts{};
    p.target_surface->Update();
    p.prediction_surface->Update();
    p.error_surface->Update();
    p.fn_surface->Update();
    counts[0] = p.target_surface->GetOutput()->GetNumberOfPolys();
    counts[1] = p.prediction_surface->GetOutput()->GetNumberOfPolys();
    counts[2] =
        p.error_surface->GetOutput()->GetNumberOfPolys() + p.fn_surface->GetOutput()->GetNumberOfPolys();
    return counts;
}

} // namespace masklens::ui
