// The 3D scene: the surfaces SurfaceMeshes holds, placed in the RAS world,
// with their styles, the legend, the orientation cube, the distance colours,
// the crosshair and the clipping plane.
#include "masklens/ui/surface_scene.h"

#include "masklens/ui/lesion_overlay.h"

#include "scene_lines.h"

#include <vtkActor.h>
#include <vtkAnnotatedCubeActor.h>
#include <vtkCallbackCommand.h>
#include <vtkCamera.h>
#include <vtkCellArray.h>
#include <vtkColorTransferFunction.h>
#include <vtkCommand.h>
#include <vtkLegendBoxActor.h>
#include <vtkMatrix4x4.h>
#include <vtkNew.h>
#include <vtkPlane.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkScalarBarActor.h>
#include <vtkTextProperty.h>
#include <vtkUnsignedCharArray.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <limits>
#include <string>

namespace masklens::ui {

namespace {

void set_colour(vtkActor* actor, const Rgb& colour, double opacity)
{
    actor->GetProperty()->SetColor(colour.r / 255.0, colour.g / 255.0, colour.b / 255.0);
    actor->GetProperty()->SetOpacity(opacity);
}

} // namespace

namespace {

struct Layer {
    vtkNew<vtkPolyDataMapper> mapper;
    vtkNew<vtkActor> actor;
};

// Legend colours and names of the surfaces.
constexpr Rgb kLayerColours[kSurfaceLayerCount] = {kTargetColour, kTruePositiveColour, kFalsePositiveColour,
                                                   kFalseNegativeColour};
constexpr const char* kLayerNames[kSurfaceLayerCount] = {"Target", "True positive", "False positive",
                                                         "False negative"};
// The same patches in the Lesions mode (build_lesion_meshes): lesions by status.
constexpr const char* kLesionLayerNames[kSurfaceLayerCount] = {"Target", "Found lesion", "False lesion",
                                                               "Missed lesion"};

vtkSmartPointer<vtkPolyData> legend_square()
{
    auto square = vtkSmartPointer<vtkPolyData>::New();
    vtkNew<vtkPoints> points;
    points->InsertNextPoint(0, 0, 0);
    points->InsertNextPoint(1, 0, 0);
    points->InsertNextPoint(1, 1, 0);
    points->InsertNextPoint(0, 1, 0);
    vtkNew<vtkCellArray> polys;
    const vtkIdType ids[4] = {0, 1, 2, 3};
    polys->InsertNextCell(4, ids);
    square->SetPoints(points);
    square->SetPolys(polys);
    return square;
}

} // namespace

struct SurfaceScene::Pipeline {
    // TP, FP, FN patches of the hull (indices 1..3 of SurfaceLayer), the
    // prediction's own surface (distance colours), the target's pieces.
    std::array<Layer, 3> patches;
    Layer prediction;
    std::array<Layer, 4> target_pieces;
    Layer selection; // the Lesions mode's selected lesion (white wireframe)
    std::array<SurfaceStyle, kSurfaceLayerCount> styles{SurfaceStyle{true, 0.25}, SurfaceStyle{},
                                                        SurfaceStyle{}, SurfaceStyle{}};
    vtkNew<vtkColorTransferFunction> distance_colours;
    vtkNew<vtkScalarBarActor> colour_bar;
    vtkNew<vtkPolyData> cursor;
    vtkNew<vtkPolyDataMapper> cursor_mapper;
    vtkNew<vtkActor> cursor_actor;
    vtkNew<vtkLegendBoxActor> legend;
    vtkSmartPointer<vtkPolyData> square = legend_square();
    std::vector<std::pair<std::string, Rgb>> legend_entries;
    vtkNew<vtkMatrix4x4> placement;
    vtkNew<vtkPlane> clip_plane;
    // The orientation cube: its own renderer in the lower-left corner, turned with the main camera.
    vtkNew<vtkRenderer> marker_renderer;
    vtkNew<vtkAnnotatedCubeActor> marker;
    vtkNew<vtkCallbackCommand> follow_camera;
    bool decorations = true;
    bool has_data = false;
    std::vector<vtkSmartPointer<vtkActor>> comparison_actors;
    std::vector<std::pair<std::string, Rgb>> comparison_names;

    std::vector<vtkActor*> surfaceActors()
    {
        std::vector<vtkActor*> actors;
        for (Layer* layer : {&patches[0], &patches[1], &patches[2], &prediction, &target_pieces[0],
                             &target_pieces[1], &target_pieces[2], &target_pieces[3], &selection}) {
            actors.push_back(layer->actor);
        }
        for (const auto& actor : comparison_actors) {
            actors.push_back(actor);
        }
        return actors;
    }
};

SurfaceScene::SurfaceScene(vtkRenderWindow* window) : pipeline_(std::make_unique<Pipeline>())
{
    renderer_ = vtkSmartPointer<vtkRenderer>::New();
    renderer_->SetBackground(0.08, 0.08, 0.09);
    window->AddRenderer(renderer_);
    Pipeline& p = *pipeline_;

    // Translucent target faces that coincide with a comparison surface are
    // pushed a little behind it (the own surfaces never coincide with a shown piece).
    vtkMapper::SetResolveCoincidentTopologyToPolygonOffset();
    for (Layer& piece : p.target_pieces) {
        piece.mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(2.0, 4.0);
    }
    for (Layer* layer : {&p.patches[0], &p.patches[1], &p.patches[2], &p.prediction, &p.target_pieces[0],
                         &p.target_pieces[1], &p.target_pieces[2], &p.target_pieces[3], &p.selection}) {
        layer->mapper->ScalarVisibilityOff();
        layer->actor->SetMapper(layer->mapper);
        layer->actor->SetUserMatrix(p.placement);
        layer->actor->VisibilityOff();
        renderer_->AddActor(layer->actor);
    }
    // Distance colours: a perceptually ordered ramp (viridis stops), 0 mm dark blue to far yellow.
    p.prediction.mapper->SetLookupTable(p.distance_colours);
    p.prediction.mapper->SetColorModeToMapScalars();
    p.prediction.mapper->SetScalarModeToUsePointData();
    p.prediction.mapper->UseLookupTableScalarRangeOn();
    p.prediction.mapper->ScalarVisibilityOn();
    p.prediction.actor->GetProperty()->SetColor(1, 1, 1);
    for (std::size_t k = 0; k < 3; ++k) {
        const Rgb c = kLayerColours[k + 1];
        p.patches[k].actor->GetProperty()->SetColor(c.r / 255.0, c.g / 255.0, c.b / 255.0);
    }
    for (Layer& piece : p.target_pieces) {
        piece.actor->GetProperty()->SetColor(kTargetColour.r / 255.0, kTargetColour.g / 255.0,
                                             kTargetColour.b / 255.0);
    }
    // Lines over the patch faces they lie on: polygons are offset behind lines.
    p.selection.actor->GetProperty()->SetColor(
        kSelectedLesionColour.r / 255.0, kSelectedLesionColour.g / 255.0, kSelectedLesionColour.b / 255.0);
    p.selection.actor->GetProperty()->SetRepresentationToWireframe();
    p.selection.actor->GetProperty()->LightingOff();
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
    p.cursor_actor->SetUserMatrix(p.placement);
    p.cursor_actor->GetProperty()->SetColor(0.95, 0.95, 0.95);
    p.cursor_actor->GetProperty()->LightingOff();
    p.cursor_actor->VisibilityOff();
    renderer_->AddActor(p.cursor_actor);

    // Legend: upper left, a swatch and a name per visible surface.
    p.legend->SetPosition(0.01, 0.80);
    p.legend->SetPosition2(0.30, 0.19);
    p.legend->BorderOff();
    p.legend->SetPadding(2);
    p.legend->GetEntryTextProperty()->SetFontSize(12);
    p.legend->GetEntryTextProperty()->SetColor(0.92, 0.92, 0.92);
    p.legend->VisibilityOff();
    renderer_->AddViewProp(p.legend);

    // Orientation cube in RAS: the scene's world is RAS+ (setPlacement).
    p.marker->SetXPlusFaceText("R");
    p.marker->SetXMinusFaceText("L");
    p.marker->SetYPlusFaceText("A");
    p.marker->SetYMinusFaceText("P");
    p.marker->SetZPlusFaceText("S");
    p.marker->SetZMinusFaceText("I");
    p.marker->SetFaceTextScale(0.65);
    p.marker->GetCubeProperty()->SetColor(0.35, 0.35, 0.4);
    p.marker->GetTextEdgesProperty()->SetColor(0.9, 0.9, 0.9);
    p.marker->GetTextEdgesProperty()->SetLineWidth(1);
    for (vtkProperty* face : {p.marker->GetXPlusFaceProperty(), p.marker->GetXMinusFaceProperty(),
                              p.marker->GetYPlusFaceProperty(), p.marker->GetYMinusFaceProperty(),
                              p.marker->GetZPlusFaceProperty(), p.marker->GetZMinusFaceProperty()}) {
        face->SetColor(1, 1, 1);
    }
    p.marker_renderer->AddViewProp(p.marker);
    p.marker_renderer->SetViewport(0.0, 0.0, 0.16, 0.16);
    p.marker_renderer->SetLayer(1);
    p.marker_renderer->InteractiveOff();
    window->SetNumberOfLayers(std::max(2, window->GetNumberOfLayers()));
    window->AddRenderer(p.marker_renderer);
    p.follow_camera->SetClientData(this);
    p.follow_camera->SetCallback([](vtkObject*, unsigned long, void* client, void*) {
        auto* scene = static_cast<SurfaceScene*>(client);
        vtkCamera* main = scene->renderer_->GetActiveCamera();
        vtkCamera* camera = scene->pipeline_->marker_renderer->GetActiveCamera();
        double direction[3];
        main->GetDirectionOfProjection(direction);
        camera->SetFocalPoint(0, 0, 0);
        camera->SetPosition(-direction[0] * 5, -direction[1] * 5, -direction[2] * 5);
        camera->SetViewUp(main->GetViewUp());
        scene->pipeline_->marker_renderer->ResetCamera();
    });
    renderer_->AddObserver(vtkCommand::StartEvent, p.follow_camera);
}

SurfaceScene::~SurfaceScene()
{
    renderer_->RemoveObserver(pipeline_->follow_camera);
}

vtkRenderer* SurfaceScene::renderer() const
{
    return renderer_;
}

void SurfaceScene::setVolumes(const Volume& prediction, const Volume& target, const PairView& view,
                              const SurfaceBuildOptions& options)
{
    setPlacement(target.geometry());
    setMeshes(build_surface_meshes(prediction, target, view, options));
}

void SurfaceScene::setPlacement(const Geometry& geometry)
{
    pipeline_->placement->DeepCopy(ras_from_grid(geometry).data());
    applyCursorClip();
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
    p.patches[0].mapper->SetInputData(meshes.true_positive);
    p.patches[1].mapper->SetInputData(meshes.false_positive);
    p.patches[2].mapper->SetInputData(meshes.false_negative);
    p.prediction.mapper->SetInputData(meshes.prediction);
    for (std::size_t k = 0; k < p.target_pieces.size(); ++k) {
        p.target_pieces[k].mapper->SetInputData(meshes.target_pieces[k]);
    }
    p.selection.mapper->SetInputData(meshes.selected ? meshes.selected : vtkSmartPointer<vtkPolyData>::New());
    const bool first = !p.has_data;
    p.has_data = true;
    p.cursor_actor->VisibilityOn();
    // "All labels": the label surfaces take the comparison's place (and leave
    // it when the meshes have none; a comparison's own surfaces are kept).
    if (!meshes.labels.empty() || label_surfaces_) {
        setComparisonSurfaces(meshes.labels);
        label_surfaces_ = !meshes.labels.empty();
    }
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
    for (const auto& actor : p.comparison_actors) {
        renderer_->RemoveActor(actor);
    }
    p.comparison_actors.clear();
    p.comparison_names.clear();
    label_surfaces_ = false;
    p.cursor_actor->VisibilityOff();
    applyDistanceColouring();
}

void SurfaceScene::setDistanceColouring(bool on)
{
    distance_colouring_ = on;
    applyDistanceColouring();
}

void SurfaceScene::setDistanceRange(std::optional<double> top_mm)
{
    distance_top_ = top_mm && std::isfinite(*top_mm) && *top_mm > 0 ? top_mm : std::nullopt;
    applyDistanceColouring();
}

double SurfaceScene::distanceRangeTop() const
{
    if (distance_top_) {
        return *distance_top_;
    }
    return std::max(meshes_.p95_distance, 1.0);
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
    p.colour_bar->SetVisibility(shown);
    if (shown) {
        const double top = distanceRangeTop();
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
        p.colour_bar->SetTitle(meshes_.max_distance > top ? "mm to target (clamped)" : "mm to target");
    }
    applyVisibility();
}

void SurfaceScene::setSurfaceStyle(SurfaceLayer layer, const SurfaceStyle& style)
{
    SurfaceStyle clean = style;
    clean.opacity = std::clamp(style.opacity, 0.0, 1.0);
    pipeline_->styles[static_cast<std::size_t>(layer)] = clean;
    applyVisibility();
}

SurfaceStyle SurfaceScene::surfaceStyle(SurfaceLayer layer) const
{
    return pipeline_->styles[static_cast<std::size_t>(layer)];
}

void SurfaceScene::applyVisibility()
{
    Pipeline& p = *pipeline_;
    const bool own = p.comparison_actors.empty(); // comparison surfaces replace the patches
    const bool distances = distanceColourShown(); // the prediction's surface replaces TP and FP
    const SurfaceStyle& target = p.styles[0];
    std::array<bool, 3> patch_shown{};
    for (std::size_t k = 0; k < 3; ++k) {
        const SurfaceStyle& style = p.styles[k + 1];
        patch_shown[k] = p.has_data && own && style.visible && !distances;
        p.patches[k].actor->SetVisibility(patch_shown[k]);
        p.patches[k].actor->GetProperty()->SetOpacity(style.opacity);
    }
    const SurfaceStyle& tp = p.styles[1];
    const bool prediction_shown = p.has_data && own && distances && tp.visible;
    p.prediction.actor->SetVisibility(prediction_shown);
    p.prediction.actor->GetProperty()->SetOpacity(tp.opacity);
    // A target piece is drawn only where no shown surface lies on it (no z-fighting).
    const bool target_shown = p.has_data && target.visible;
    const std::array<bool, 4> covered{patch_shown[0] || prediction_shown, patch_shown[2], prediction_shown,
                                      false};
    for (std::size_t k = 0; k < p.target_pieces.size(); ++k) {
        p.target_pieces[k].actor->SetVisibility(target_shown && !covered[k]);
        p.target_pieces[k].actor->GetProperty()->SetOpacity(target.opacity);
    }
    p.selection.actor->SetVisibility(p.has_data && own && meshes_.lesions && meshes_.selected &&
                                     meshes_.selected->GetNumberOfPolys() > 0);
    updateLegend();
}

void SurfaceScene::updateLegend()
{
    Pipeline& p = *pipeline_;
    p.legend_entries.clear();
    if (p.has_data) {
        if (p.styles[0].visible && meshes_.target && meshes_.target->GetNumberOfPolys() > 0) {
            p.legend_entries.emplace_back(kLayerNames[0], kLayerColours[0]);
        }
        if (!p.comparison_actors.empty()) {
            for (const auto& entry : p.comparison_names) {
                p.legend_entries.push_back(entry);
            }
        } else {
            const vtkSmartPointer<vtkPolyData> parts[3] = {meshes_.true_positive, meshes_.false_positive,
                                                           meshes_.false_negative};
            if (distanceColourShown()) {
                if (p.styles[1].visible) {
                    // Coloured by distance: the colour bar gives the colours.
                    p.legend_entries.emplace_back("Prediction: mm to target", Rgb{0x80, 0x80, 0x80});
                }
            } else {
                for (std::size_t k = 0; k < 3; ++k) {
                    if (p.styles[k + 1].visible && parts[k] && parts[k]->GetNumberOfPolys() > 0) {
                        p.legend_entries.emplace_back(
                            (meshes_.lesions ? kLesionLayerNames : kLayerNames)[k + 1], kLayerColours[k + 1]);
                    }
                }
            }
        }
    }
    p.legend->SetNumberOfEntries(static_cast<int>(p.legend_entries.size()));
    for (std::size_t i = 0; i < p.legend_entries.size(); ++i) {
        const Rgb& c = p.legend_entries[i].second;
        double colour[3] = {c.r / 255.0, c.g / 255.0, c.b / 255.0};
        p.legend->SetEntry(static_cast<int>(i), p.square, p.legend_entries[i].first.c_str(), colour);
    }
    // Height follows the entries, so the text keeps one size.
    const double height = std::min(0.06 * static_cast<double>(p.legend_entries.size()), 0.5);
    p.legend->SetPosition(0.01, 0.99 - height);
    p.legend->SetPosition2(0.32, height);
    p.legend->SetVisibility(p.decorations && !p.legend_entries.empty());
    p.marker_renderer->SetDraw(p.decorations);
}

std::vector<std::pair<std::string, Rgb>> SurfaceScene::legendEntries() const
{
    return pipeline_->legend_entries;
}

void SurfaceScene::setDecorationsVisible(bool on)
{
    pipeline_->decorations = on;
    updateLegend();
}

void SurfaceScene::setComparisonSurfaces(const std::vector<ColouredSurface>& surfaces)
{
    Pipeline& p = *pipeline_;
    label_surfaces_ = false; // setMeshes marks its own
    for (const auto& actor : p.comparison_actors) {
        renderer_->RemoveActor(actor);
    }
    p.comparison_actors.clear();
    p.comparison_names.clear();
    int index = 0;
    for (const ColouredSurface& surface : surfaces) {
        if (!surface.mesh) {
            continue;
        }
        vtkNew<vtkPolyDataMapper> mapper;
        mapper->SetInputData(surface.mesh);
        mapper->ScalarVisibilityOff();
        // Where predictions agree their surfaces coincide: a fixed depth offset
        // per entry makes the later entry win everywhere instead of stripes.
        mapper->SetRelativeCoincidentTopologyPolygonOffsetParameters(0.0, -4.0 * index);
        auto actor = vtkSmartPointer<vtkActor>::New();
        actor->SetMapper(mapper);
        actor->SetUserMatrix(p.placement);
        // Overlapping surfaces: each a little translucent when several are shown.
        set_colour(actor, surface.colour,
                   surface.opacity >= 0  ? std::min(surface.opacity, 1.0)
                   : surfaces.size() > 1 ? 0.75
                                         : 1.0);
        if (clip_) {
            mapper->AddClippingPlane(p.clip_plane);
        }
        renderer_->AddActor(actor);
        p.comparison_actors.push_back(actor);
        p.comparison_names.emplace_back(surface.name, surface.colour);
        ++index;
    }
    applyDistanceColouring();
}

int SurfaceScene::comparisonSurfaceCount() const
{
    return static_cast<int>(pipeline_->comparison_actors.size());
}

void SurfaceScene::setCursor(const Voxel& voxel)
{
    cursor_ = voxel;
    const double x = static_cast<double>(voxel.w) * spacing_[0];
    const double y = static_cast<double>(voxel.h) * spacing_[1];
    const double z = static_cast<double>(voxel.d) * spacing_[2];
    const double x1 = static_cast<double>(extent_[0] - 1) * spacing_[0];
    const double y1 = static_cast<double>(extent_[1] - 1) * spacing_[1];
    const double z1 = static_cast<double>(extent_[2] - 1) * spacing_[2];
    set_lines(pipeline_->cursor, {{0, y, z}, {x1, y, z}, {x, 0, z}, {x, y1, z}, {x, y, 0}, {x, y, z1}});
    if (clip_) {
        applyCursorClip();
    }
}

void SurfaceScene::setClipPlane(std::optional<ViewAxis> plane)
{
    clip_ = plane;
    applyCursorClip();
}

void SurfaceScene::applyCursorClip()
{
    Pipeline& p = *pipeline_;
    // The plane of the cursor's slice, in the world: half a voxel past the
    // crosshair's voxel, facing back along the plane's grid axis (the part
    // at lower index is kept). Grid axes in the scene's local frame: x = W,
    // y = H, z = D.
    const int axis = !clip_ || *clip_ == ViewAxis::Axial ? 2 : *clip_ == ViewAxis::Coronal ? 1 : 0;
    const std::int64_t index = axis == 2 ? cursor_.d : axis == 1 ? cursor_.h : cursor_.w;
    double local[4] = {0, 0, 0, 1};
    local[axis] = (static_cast<double>(index) + 0.5) * spacing_[static_cast<std::size_t>(axis)];
    double world[4];
    p.placement->MultiplyPoint(local, world);
    double normal[3] = {-p.placement->GetElement(0, axis), -p.placement->GetElement(1, axis),
                        -p.placement->GetElement(2, axis)};
    p.clip_plane->SetOrigin(world[0], world[1], world[2]);
    p.clip_plane->SetNormal(normal);
    for (vtkActor* actor : p.surfaceActors()) {
        vtkMapper* mapper = actor->GetMapper();
        mapper->RemoveAllClippingPlanes();
        if (clip_) {
            mapper->AddClippingPlane(p.clip_plane);
        }
    }
}

void SurfaceScene::resetCamera()
{
    // The grid's corners in the (RAS) world.
    const double x1 = static_cast<double>(extent_[0] - 1) * spacing_[0];
    const double y1 = static_cast<double>(extent_[1] - 1) * spacing_[1];
    const double z1 = static_cast<double>(extent_[2] - 1) * spacing_[2];
    double bounds[6] = {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                        std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity()};
    for (int corner = 0; corner < 8; ++corner) {
        const double local[4] = {(corner & 1) ? x1 : 0, (corner & 2) ? y1 : 0, (corner & 4) ? z1 : 0, 1};
        double world[4];
        pipeline_->placement->MultiplyPoint(local, world);
        for (int a = 0; a < 3; ++a) {
            bounds[2 * a] = std::min(bounds[2 * a], world[a]);
            bounds[2 * a + 1] = std::max(bounds[2 * a + 1], world[a]);
        }
    }
    const double cx = (bounds[0] + bounds[1]) / 2, cy = (bounds[2] + bounds[3]) / 2,
                 cz = (bounds[4] + bounds[5]) / 2;
    const double size = std::max({bounds[1] - bounds[0], bounds[3] - bounds[2], bounds[5] - bounds[4], 1e-6});
    vtkCamera* camera = renderer_->GetActiveCamera();
    camera->SetFocalPoint(cx, cy, cz);
    // From the front (anterior, +y in RAS), head (+z) up, a little from the
    // patient's right and above: the patient's right is on the screen's left.
    camera->SetPosition(cx + 0.6 * size, cy + 2.5 * size, cz + 0.4 * size);
    camera->SetViewUp(0, 0, 1);
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
