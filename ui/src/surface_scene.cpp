#include "masklens/ui/surface_scene.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkColorTransferFunction.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkFloatArray.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkPolyDataNormals.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "masklens/engine/surface_distance.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

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

// Discrete flying edges of `value` -> windowed-sinc smoothing (the label
// surfaces are voxel staircases) -> normals. Own filters: safe on any thread.
vtkSmartPointer<vtkPolyData> extract_surface(vtkImageData* image, double value)
{
    vtkNew<vtkDiscreteFlyingEdges3D> surface;
    surface->SetInputData(image);
    surface->SetValue(0, value);
    surface->ComputeNormalsOff();
    surface->ComputeScalarsOff();
    vtkNew<vtkWindowedSincPolyDataFilter> smooth;
    smooth->SetInputConnection(surface->GetOutputPort());
    smooth->SetNumberOfIterations(12);
    smooth->SetPassBand(0.08);
    smooth->NormalizeCoordinatesOn();
    smooth->BoundarySmoothingOff();
    smooth->NonManifoldSmoothingOn();
    vtkNew<vtkPolyDataNormals> normals;
    normals->SetInputConnection(smooth->GetOutputPort());
    normals->SplittingOff();
    normals->ConsistencyOn();
    normals->AutoOrientNormalsOff();
    normals->Update();
    auto result = vtkSmartPointer<vtkPolyData>::New();
    result->ShallowCopy(normals->GetOutput());
    return result;
}

// Per point of `mesh` (physical units), the distance of the nearest voxel
// with a finite value in `map` (the surface distance map, NaN off the surface).
void attach_distances(vtkPolyData* mesh, const std::vector<float>& map,
                      const std::array<std::int64_t, 3>& dims, const std::array<double, 3>& spacing,
                      double& max_distance)
{
    const vtkIdType count = mesh->GetNumberOfPoints();
    vtkNew<vtkFloatArray> values;
    values->SetName("distance_mm");
    values->SetNumberOfTuples(count);
    const auto at = [&](std::int64_t x, std::int64_t y, std::int64_t z) {
        if (x < 0 || y < 0 || z < 0 || x >= dims[0] || y >= dims[1] || z >= dims[2]) {
            return std::numeric_limits<float>::quiet_NaN();
        }
        return map[static_cast<std::size_t>((z * dims[1] + y) * dims[0] + x)];
    };
    max_distance = 0;
    for (vtkIdType i = 0; i < count; ++i) {
        double point[3];
        mesh->GetPoint(i, point);
        const double fx = point[0] / spacing[0];
        const double fy = point[1] / spacing[1];
        const double fz = point[2] / spacing[2];
        float best = std::numeric_limits<float>::quiet_NaN();
        double best_d2 = std::numeric_limits<double>::infinity();
        // Surface points lie between an inside and an outside voxel (smoothing
        // moves them a little): look at the 3x3x3 voxels around the nearest one.
        const auto cx = static_cast<std::int64_t>(std::lround(fx));
        const auto cy = static_cast<std::int64_t>(std::lround(fy));
        const auto cz = static_cast<std::int64_t>(std::lround(fz));
        for (std::int64_t z = cz - 1; z <= cz + 1; ++z) {
            for (std::int64_t y = cy - 1; y <= cy + 1; ++y) {
                for (std::int64_t x = cx - 1; x <= cx + 1; ++x) {
                    const float value = at(x, y, z);
                    if (std::isnan(value)) {
                        continue;
                    }
                    const double ex = (static_cast<double>(x) - fx) * spacing[0];
                    const double ey = (static_cast<double>(y) - fy) * spacing[1];
                    const double ez = (static_cast<double>(z) - fz) * spacing[2];
                    const double d2 = ex * ex + ey * ey + ez * ez;
                    if (d2 < best_d2) {
                        best_d2 = d2;
                        best = value;
                    }
                }
            }
        }
        const float shown = std::isnan(best) ? 0.0F : best;
        values->SetValue(i, shown);
        if (std::isfinite(shown)) {
            max_distance = std::max(max_distance, static_cast<double>(shown));
        }
    }
    mesh->GetPointData()->SetScalars(values);
}

} // namespace

// ---------------------------------------------------------------------------
// SurfaceScene

// ---------------------------------------------------------------------------
// Surfaces

int automatic_surface_step(const Shape& shape)
{
    int step = 1;
    const auto voxels_at = [&](int k) {
        return ((shape.d + k - 1) / k) * ((shape.h + k - 1) / k) * ((shape.w + k - 1) / k);
    };
    while (voxels_at(step) > kSurfaceVoxelBudget) {
        ++step;
    }
    return step;
}

SurfaceMeshes build_surface_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                   const SurfaceBuildOptions& options, const std::atomic<bool>* cancel)
{
    const auto cancelled = [cancel]() { return cancel && cancel->load(); };
    SurfaceMeshes meshes;
    const Shape& shape = prediction.shape();
    const int step = options.step > 0 ? options.step : automatic_surface_step(shape);
    const std::array<std::int64_t, 3> dims{(shape.w + step - 1) / step, (shape.h + step - 1) / step,
                                           (shape.d + step - 1) / step};
    const Geometry& geometry = target.geometry();
    meshes.step = step;
    meshes.extent = {shape.w, shape.h, shape.d};
    meshes.spacing = geometry.spacing;
    const std::array<double, 3> spacing{geometry.spacing[0] * step, geometry.spacing[1] * step,
                                        geometry.spacing[2] * step};

    vtkNew<vtkImageData> target_mask;
    vtkNew<vtkImageData> prediction_mask;
    vtkNew<vtkImageData> classes; // 0 TN, 1 TP, 2 FP, 3 FN
    for (vtkImageData* image :
         {target_mask.GetPointer(), prediction_mask.GetPointer(), classes.GetPointer()}) {
        image->SetDimensions(static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2]));
        image->SetSpacing(spacing[0], spacing[1], spacing[2]);
        image->SetOrigin(0, 0, 0);
        image->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
    }
    auto* target_values = static_cast<unsigned char*>(target_mask->GetScalarPointer());
    auto* prediction_values = static_cast<unsigned char*>(prediction_mask->GetScalarPointer());
    auto* class_values = static_cast<unsigned char*>(classes->GetScalarPointer());
    // Rows of every step-th voxel along W, classified by the engine's rules.
    const PairClassifier classifier(prediction, target, view);
    std::size_t i = 0;
    for (std::int64_t z = 0; z < dims[2]; ++z) {
        if (cancelled()) {
            return {};
        }
        for (std::int64_t y = 0; y < dims[1]; ++y, i += static_cast<std::size_t>(dims[0])) {
            classifier.run((z * step * shape.h + y * step) * shape.w, dims[0], step, prediction_values + i,
                           target_values + i);
            for (std::size_t x = i; x < i + static_cast<std::size_t>(dims[0]); ++x) {
                const bool predicted = prediction_values[x] != 0, hit = target_values[x] != 0;
                class_values[x] = predicted ? (hit ? 1 : 2) : (hit ? 3 : 0);
            }
        }
    }
    if (cancelled()) {
        return {};
    }
    meshes.target = extract_surface(target_mask, 1);
    meshes.prediction = extract_surface(prediction_mask, 1);
    if (cancelled()) {
        return {};
    }
    meshes.false_positive = extract_surface(classes, 2);
    meshes.false_negative = extract_surface(classes, 3);
    if (options.distances && !cancelled()) {
        MaskGrid grid;
        grid.d = dims[2];
        grid.h = dims[1];
        grid.w = dims[0];
        grid.spatial_dims = 3;
        SurfaceDistanceOptions distance;
        distance.spacing_xyz = spacing;
        const std::vector<float> map = surface_distance_map(prediction_values, target_values, grid, distance);
        attach_distances(meshes.prediction, map, dims, spacing, meshes.max_distance);
        meshes.has_distances = true;
    }
    if (cancelled()) {
        return {};
    }
    return meshes;
}

vtkSmartPointer<vtkPolyData> build_prediction_surface(const Volume& prediction, const Volume& target,
                                                      const PairView& view, int step,
                                                      const std::atomic<bool>* cancel)
{
    const auto cancelled = [cancel]() { return cancel && cancel->load(); };
    const Shape& shape = prediction.shape();
    step = step > 0 ? step : automatic_surface_step(shape);
    const std::array<std::int64_t, 3> dims{(shape.w + step - 1) / step, (shape.h + step - 1) / step,
                                           (shape.d + step - 1) / step};
    const Geometry& geometry = target.geometry();
    vtkNew<vtkImageData> mask;
    mask->SetDimensions(static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2]));
    mask->SetSpacing(geometry.spacing[0] * step, geometry.spacing[1] * step, geometry.spacing[2] * step);
    mask->SetOrigin(0, 0, 0);
    mask->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
    auto* values = static_cast<unsigned char*>(mask->GetScalarPointer());
    const PairClassifier classifier(prediction, target, view);
    std::vector<std::uint8_t> hits(static_cast<std::size_t>(dims[0]));
    std::size_t i = 0;
    for (std::int64_t z = 0; z < dims[2]; ++z) {
        if (cancelled()) {
            return nullptr;
        }
        for (std::int64_t y = 0; y < dims[1]; ++y, i += static_cast<std::size_t>(dims[0])) {
            classifier.run((z * step * shape.h + y * step) * shape.w, dims[0], step, values + i, hits.data());
        }
    }
    if (cancelled()) {
        return nullptr;
    }
    return extract_surface(mask, 1);
}

struct SurfaceScene::Pipeline {
    vtkNew<vtkPolyDataMapper> target_mapper;
    vtkNew<vtkPolyDataMapper> prediction_mapper;
    vtkNew<vtkPolyDataMapper> error_mapper;
    vtkNew<vtkPolyDataMapper> fn_mapper;
    vtkNew<vtkActor> target_actor;
    vtkNew<vtkActor> prediction_actor;
    vtkNew<vtkActor> error_actor;
    vtkNew<vtkActor> fn_actor;
    vtkNew<vtkColorTransferFunction> distance_colours;
    vtkNew<vtkScalarBarActor> colour_bar;
    vtkNew<vtkPolyData> cursor;
    vtkNew<vtkPolyDataMapper> cursor_mapper;
    vtkNew<vtkActor> cursor_actor;
    bool has_data = false;
    bool show_target = true, show_prediction = true, show_errors = true;
    std::vector<vtkSmartPointer<vtkActor>> comparison_actors;
};

SurfaceScene::SurfaceScene(vtkRenderWindow* window) : pipeline_(std::make_unique<Pipeline>())
{
    renderer_ = vtkSmartPointer<vtkRenderer>::New();
    renderer_->SetBackground(0.08, 0.08, 0.09);
    window->AddRenderer(renderer_);
    Pipeline& p = *pipeline_;

    const std::pair<vtkActor*, vtkPolyDataMapper*> pairs[] = {{p.target_actor, p.target_mapper},
                                                              {p.prediction_actor, p.prediction_mapper},
                                                              {p.error_actor, p.error_mapper},
                                                              {p.fn_actor, p.fn_mapper}};
    for (const auto& [actor, mapper] : pairs) {
        mapper->ScalarVisibilityOff();
        actor->SetMapper(mapper);
    }
    set_colour(p.target_actor, kTargetColour, 0.2);
    set_colour(p.prediction_actor, kTruePositiveColour, 1.0);
    set_colour(p.error_actor, kFalsePositiveColour, 1.0);
    set_colour(p.fn_actor, kFalseNegativeColour, 1.0);
    // FP/FN surfaces share faces with the prediction surface: draw them in front.
    vtkMapper::SetResolveCoincidentTopologyToPolygonOffset();
    p.error_mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0);
    p.fn_mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(-2.0, -4.0);

    // Distance colours: a perceptually ordered ramp (viridis stops), 0 mm dark blue to far yellow.
    p.prediction_mapper->SetLookupTable(p.distance_colours);
    p.prediction_mapper->SetColorModeToMapScalars();
    p.prediction_mapper->SetScalarModeToUsePointData();
    p.prediction_mapper->UseLookupTableScalarRangeOn();
    p.colour_bar->SetLookupTable(p.distance_colours);
    p.colour_bar->SetTitle("mm to target");
    p.colour_bar->SetNumberOfLabels(5);
    p.colour_bar->SetLabelFormat("%.1f");
    p.colour_bar->SetMaximumWidthInPixels(90);
    p.colour_bar->SetPosition(0.86, 0.1);
    p.colour_bar->SetWidth(0.12);
    p.colour_bar->SetHeight(0.8);
    p.colour_bar->GetTitleTextProperty()->SetFontSize(12);
    p.colour_bar->GetLabelTextProperty()->SetFontSize(11);
    p.colour_bar->VisibilityOff();
    renderer_->AddViewProp(p.colour_bar);

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

void SurfaceScene::setVolumes(const Volume& prediction, const Volume& target, const PairView& view,
                              const SurfaceBuildOptions& options)
{
    setMeshes(build_surface_meshes(prediction, target, view, options));
}

void SurfaceScene::setMeshes(const SurfaceMeshes& meshes)
{
    if (!meshes.target) {
        return; // cancelled build
    }
    Pipeline& p = *pipeline_;
    meshes_ = meshes;
    spacing_ = meshes.spacing;
    extent_ = meshes.extent;
    p.target_mapper->SetInputData(meshes.target);
    p.prediction_mapper->SetInputData(meshes.prediction);
    p.error_mapper->SetInputData(meshes.false_positive);
    p.fn_mapper->SetInputData(meshes.false_negative);
    const bool first = !p.has_data;
    p.has_data = true;
    setVisible(p.show_target, p.show_prediction, p.show_errors);
    p.cursor_actor->VisibilityOn();
    applyDistanceColouring();
    if (first) {
        resetCamera();
    }
}

void SurfaceScene::clear()
{
    Pipeline& p = *pipeline_;
    p.has_data = false;
    meshes_ = {};
    for (vtkActor* actor :
         {p.error_actor.GetPointer(), p.fn_actor.GetPointer(), p.prediction_actor.GetPointer(),
          p.target_actor.GetPointer(), p.cursor_actor.GetPointer()}) {
        actor->VisibilityOff();
    }
    p.colour_bar->VisibilityOff();
    for (const auto& actor : p.comparison_actors) {
        renderer_->RemoveActor(actor);
    }
    p.comparison_actors.clear();
}

void SurfaceScene::setDistanceColouring(bool on)
{
    distance_colouring_ = on;
    applyDistanceColouring();
}

bool SurfaceScene::distanceColourShown() const
{
    return pipeline_->colour_bar->GetVisibility() != 0;
}

void SurfaceScene::applyDistanceColouring()
{
    Pipeline& p = *pipeline_;
    const bool shown =
        distance_colouring_ && p.has_data && meshes_.has_distances && p.comparison_actors.empty();
    p.prediction_mapper->SetScalarVisibility(shown);
    // The FP surface covers the prediction surface where it is off: hide it while colouring.
    p.error_actor->SetVisibility(p.show_errors && p.has_data && !shown && p.comparison_actors.empty());
    p.colour_bar->SetVisibility(shown);
    if (shown) {
        const double top = std::max(meshes_.max_distance, 1.0);
        static constexpr double kStops[][3] = {{0.267, 0.005, 0.329},
                                               {0.230, 0.322, 0.546},
                                               {0.128, 0.567, 0.551},
                                               {0.369, 0.789, 0.383},
                                               {0.993, 0.906, 0.144}};
        p.distance_colours->RemoveAllPoints();
        for (int i = 0; i < 5; ++i) {
            p.distance_colours->AddRGBPoint(top * i / 4.0, kStops[i][0], kStops[i][1], kStops[i][2]);
        }
        p.distance_colours->ClampingOn();
        p.prediction_actor->GetProperty()->SetColor(1, 1, 1);
    } else {
        set_colour(p.prediction_actor, kTruePositiveColour, 1.0);
    }
}

void SurfaceScene::setVisible(bool target, bool prediction, bool errors)
{
    Pipeline& p = *pipeline_;
    p.show_target = target;
    p.show_prediction = prediction;
    p.show_errors = errors;
    const bool own = p.comparison_actors.empty(); // comparison surfaces replace the prediction's
    p.target_actor->SetVisibility(target && p.has_data);
    p.prediction_actor->SetVisibility(prediction && p.has_data && own);
    p.error_actor->SetVisibility(errors && p.has_data && own);
    p.fn_actor->SetVisibility(errors && p.has_data && own);
}

void SurfaceScene::setComparisonSurfaces(const std::vector<ColouredSurface>& surfaces)
{
    Pipeline& p = *pipeline_;
    for (const auto& actor : p.comparison_actors) {
        renderer_->RemoveActor(actor);
    }
    p.comparison_actors.clear();
    for (const ColouredSurface& surface : surfaces) {
        if (!surface.mesh) {
            continue;
        }
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputData(surface.mesh);
        mapper->ScalarVisibilityOff();
        auto actor = vtkSmartPointer<vtkActor>::New();
        actor->SetMapper(mapper);
        // Overlapping surfaces: each a little translucent when several are shown.
        set_colour(actor, surface.colour, surfaces.size() > 1 ? 0.75 : 1.0);
        renderer_->AddActor(actor);
        p.comparison_actors.push_back(actor);
    }
    setVisible(p.show_target, p.show_prediction, p.show_errors);
    applyDistanceColouring();
}

int SurfaceScene::comparisonSurfaceCount() const
{
    return static_cast<int>(pipeline_->comparison_actors.size());
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
    std::array<long long, 3> counts{};
    if (!meshes_.target) {
        return counts;
    }
    counts[0] = meshes_.target->GetNumberOfPolys();
    counts[1] = meshes_.prediction->GetNumberOfPolys();
    counts[2] = meshes_.false_positive->GetNumberOfPolys() + meshes_.false_negative->GetNumberOfPolys();
    return counts;
}

} // namespace masklens::ui
