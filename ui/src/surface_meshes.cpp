// The 3D surfaces of one sample, built off the UI thread: the classes of the
// sampled voxels (PairClassifier, the engine's rule) in a grid padded by one
// TN voxel, one surface per mask (discrete flying edges, smoothed), then the
// disjoint TP / FP / FN patches and the target pieces they cover (see
// SurfaceMeshes in surface_scene.h for why).
#include "masklens/ui/surface_scene.h"

#include "masklens/ui/lesion_overlay.h"

#include <vtkCellArray.h>
#include <vtkDiscreteFlyingEdges3D.h>
#include <vtkFloatArray.h>
#include <vtkIdList.h>
#include <vtkImageData.h>
#include <vtkNew.h>
#include <vtkPointData.h>
#include <vtkPoints.h>
#include <vtkPolyData.h>
#include <vtkPolyDataNormals.h>
#include <vtkWindowedSincPolyDataFilter.h>

#include "masklens/engine/surface_distance.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <string>

namespace masklens::ui {

namespace {

struct Extracted {
    vtkSmartPointer<vtkPolyData> mesh; // smoothed, with normals
    vtkSmartPointer<vtkPoints> raw;    // the same points before smoothing (on voxel edges)
};

// Discrete flying edges of `value` -> windowed-sinc smoothing (the label
// surfaces are voxel staircases) -> normals. Own filters: safe on any thread.
// Smoothing and normals (splitting off) keep the point and cell order, so
// point i of the mesh is raw point i, which lies midway on the edge between an
// inside and an outside voxel: the patches are decided on those.
Extracted extract_surface(vtkImageData* image, double value)
{
    vtkNew<vtkDiscreteFlyingEdges3D> surface;
    surface->SetInputData(image);
    surface->SetValue(0, value);
    surface->ComputeNormalsOff();
    surface->ComputeScalarsOff();
    surface->ComputeGradientsOff();
    surface->Update();
    Extracted result;
    result.raw = vtkSmartPointer<vtkPoints>::New();
    result.mesh = vtkSmartPointer<vtkPolyData>::New();
    if (surface->GetOutput()->GetNumberOfPolys() == 0) {
        // Nothing to smooth: the filters below would warn on stderr.
        return result;
    }
    result.raw->DeepCopy(surface->GetOutput()->GetPoints());
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
    result.mesh->ShallowCopy(normals->GetOutput());
    return result;
}

// A padded label grid: the classes (0 TN, 1 TP, 2 FP, 3 FN) of the sampled
// voxels with one TN voxel all around, as a VTK image whose origin puts voxel
// (0, 0, 0) of the source grid at 0.
struct PaddedGrid {
    std::array<std::int64_t, 3> dims{}; // padded w, h, d
    std::array<double, 3> spacing{};    // mm per sampled voxel
    std::vector<std::uint8_t> classes;
    std::uint8_t at(std::int64_t x, std::int64_t y, std::int64_t z) const
    {
        if (x < 0 || y < 0 || z < 0 || x >= dims[0] || y >= dims[1] || z >= dims[2]) {
            return 0;
        }
        return classes[static_cast<std::size_t>((z * dims[1] + y) * dims[0] + x)];
    }
    // One mask of the classes in `members` (bit i: class i), as an image.
    vtkSmartPointer<vtkImageData> mask(unsigned members) const
    {
        auto image = vtkSmartPointer<vtkImageData>::New();
        image->SetDimensions(static_cast<int>(dims[0]), static_cast<int>(dims[1]), static_cast<int>(dims[2]));
        image->SetSpacing(spacing.data());
        image->SetOrigin(-spacing[0], -spacing[1], -spacing[2]);
        image->AllocateScalars(VTK_UNSIGNED_CHAR, 1);
        auto* values = static_cast<unsigned char*>(image->GetScalarPointer());
        for (std::size_t i = 0; i < classes.size(); ++i) {
            values[i] = ((members >> classes[i]) & 1U) != 0 ? 1 : 0;
        }
        return image;
    }
};

constexpr unsigned kPredictedClasses = (1U << 1) | (1U << 2);        // TP, FP
constexpr unsigned kTargetClasses = (1U << 1) | (1U << 3);           // TP, FN
constexpr unsigned kHullClasses = (1U << 1) | (1U << 2) | (1U << 3); // TP, FP, FN

// For each raw point (midway between two voxels), the classes of the voxel
// inside the extracted mask and of the one outside it.
std::vector<std::array<std::uint8_t, 2>> point_sides(const PaddedGrid& grid, vtkPoints* raw, unsigned members)
{
    const vtkIdType count = raw->GetNumberOfPoints();
    std::vector<std::array<std::uint8_t, 2>> sides(static_cast<std::size_t>(count));
    for (vtkIdType i = 0; i < count; ++i) {
        double point[3];
        raw->GetPoint(i, point);
        std::array<double, 3> f{};
        int axis = 0;
        double best = 1.0;
        for (int a = 0; a < 3; ++a) {
            f[static_cast<std::size_t>(a)] =
                point[a] / grid.spacing[static_cast<std::size_t>(a)] + 1.0; // padded index
            const double frac = f[static_cast<std::size_t>(a)] - std::floor(f[static_cast<std::size_t>(a)]);
            const double off = std::abs(frac - 0.5);
            if (off < best) {
                best = off;
                axis = a;
            }
        }
        std::array<std::int64_t, 3> low{}, high{};
        for (int a = 0; a < 3; ++a) {
            const auto k = static_cast<std::size_t>(a);
            low[k] = a == axis ? static_cast<std::int64_t>(std::floor(f[k])) : std::llround(f[k]);
            high[k] = a == axis ? low[k] + 1 : low[k];
        }
        const std::uint8_t c0 = grid.at(low[0], low[1], low[2]);
        const std::uint8_t c1 = grid.at(high[0], high[1], high[2]);
        const bool inside0 = ((members >> c0) & 1U) != 0;
        sides[static_cast<std::size_t>(i)] =
            inside0 ? std::array<std::uint8_t, 2>{c0, c1} : std::array<std::uint8_t, 2>{c1, c0};
    }
    return sides;
}

// Per cell, the inside and outside classes most of its points agree on.
std::vector<std::array<std::uint8_t, 2>> cell_sides(vtkPolyData* mesh,
                                                    const std::vector<std::array<std::uint8_t, 2>>& points)
{
    std::vector<std::array<std::uint8_t, 2>> cells;
    vtkCellArray* polys = mesh->GetPolys();
    cells.reserve(static_cast<std::size_t>(polys->GetNumberOfCells()));
    vtkNew<vtkIdList> ids;
    for (polys->InitTraversal(); polys->GetNextCell(ids);) {
        std::array<std::uint8_t, 2> side{};
        for (int s = 0; s < 2; ++s) {
            int votes[4] = {0, 0, 0, 0};
            for (vtkIdType k = 0; k < ids->GetNumberOfIds(); ++k) {
                ++votes[points[static_cast<std::size_t>(ids->GetId(k))][static_cast<std::size_t>(s)] & 3U];
            }
            side[static_cast<std::size_t>(s)] =
                static_cast<std::uint8_t>(std::max_element(votes, votes + 4) - votes);
        }
        cells.push_back(side);
    }
    return cells;
}

// The cells of `mesh` whose tag is `wanted`, sharing its points and point data.
vtkSmartPointer<vtkPolyData> cells_tagged(vtkPolyData* mesh, const std::vector<std::uint8_t>& tags,
                                          std::uint8_t wanted)
{
    auto part = vtkSmartPointer<vtkPolyData>::New();
    if (!mesh->GetPoints()) {
        return part;
    }
    vtkNew<vtkCellArray> polys;
    vtkCellArray* all = mesh->GetPolys();
    vtkNew<vtkIdList> ids;
    std::size_t i = 0;
    for (all->InitTraversal(); all->GetNextCell(ids); ++i) {
        if (tags[i] == wanted) {
            polys->InsertNextCell(ids);
        }
    }
    part->SetPoints(mesh->GetPoints());
    part->GetPointData()->ShallowCopy(mesh->GetPointData());
    part->SetPolys(polys);
    return part;
}

// Per point of `mesh` (physical units), the distance of the nearest voxel
// with a finite value in `map` (the surface distance map, NaN off the surface).
void attach_distances(vtkPolyData* mesh, const std::vector<float>& map,
                      const std::array<std::int64_t, 3>& dims, const std::array<double, 3>& spacing,
                      double& max_distance, double& p95_distance)
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
    std::vector<float> finite;
    finite.reserve(static_cast<std::size_t>(count));
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
            finite.push_back(shown);
        }
    }
    // The colour range's default top: a robust one, so that one far-away blob
    // does not squeeze the organ's few-mm errors into one colour.
    p95_distance = 0;
    if (!finite.empty()) {
        const auto k = static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(finite.size() - 1)));
        std::nth_element(finite.begin(), finite.begin() + static_cast<std::ptrdiff_t>(k), finite.end());
        p95_distance = finite[k];
    }
    mesh->GetPointData()->SetScalars(values);
}

} // namespace

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

namespace {

// Every step-th voxel of the view's sample, classified by the engine's rules
// (PairClassifier), into a grid padded by one TN voxel. False when cancelled.
bool classify_grid(const Volume& prediction, const Volume& target, const PairView& view, int step,
                   const std::atomic<bool>* cancel, PaddedGrid& grid)
{
    const Shape& shape = prediction.shape();
    const std::array<std::int64_t, 3> dims{(shape.w + step - 1) / step, (shape.h + step - 1) / step,
                                           (shape.d + step - 1) / step};
    const Geometry& geometry = target.geometry();
    grid.dims = {dims[0] + 2, dims[1] + 2, dims[2] + 2};
    grid.spacing = {geometry.spacing[0] * step, geometry.spacing[1] * step, geometry.spacing[2] * step};
    grid.classes.assign(static_cast<std::size_t>(grid.dims[0] * grid.dims[1] * grid.dims[2]), 0);
    const PairClassifier classifier(prediction, target, view);
    std::vector<std::uint8_t> predicted(static_cast<std::size_t>(dims[0]));
    std::vector<std::uint8_t> hit(static_cast<std::size_t>(dims[0]));
    for (std::int64_t z = 0; z < dims[2]; ++z) {
        if (cancel && cancel->load()) {
            return false;
        }
        for (std::int64_t y = 0; y < dims[1]; ++y) {
            classifier.run((z * step * shape.h + y * step) * shape.w, dims[0], step, predicted.data(),
                           hit.data());
            std::uint8_t* row = grid.classes.data() +
                                static_cast<std::size_t>(((z + 1) * grid.dims[1] + y + 1) * grid.dims[0] + 1);
            for (std::size_t x = 0; x < predicted.size(); ++x) {
                const bool p = predicted[x] != 0, t = hit[x] != 0;
                row[x] = p ? (t ? 1 : 2) : (t ? 3 : 0);
            }
        }
    }
    return true;
}

// Hull faces: the class 1, 2 or 3 patch (TP, FP, FN; lesions: found,
// false, missed) by the class of the voxel inside.
void split_hull(const PaddedGrid& grid, const Extracted& hull_surface, SurfaceMeshes& meshes)
{
    meshes.hull = hull_surface.mesh;
    std::vector<std::uint8_t> tags;
    for (const auto& side : cell_sides(meshes.hull, point_sides(grid, hull_surface.raw, kHullClasses))) {
        tags.push_back(side[0]);
    }
    meshes.true_positive = cells_tagged(meshes.hull, tags, 1);
    meshes.false_positive = cells_tagged(meshes.hull, tags, 2);
    meshes.false_negative = cells_tagged(meshes.hull, tags, 3);
}

// Every step-th voxel of the overlay's sample by its lesion's status, as
// compose_slice paints it (a false predicted lesion over a target lesion,
// a target lesion over a matched prediction): 1 found (matched target
// lesions and matched predicted lesions), 2 false, 3 missed, 0 none.
bool lesion_grid(const LesionOverlay& lesions, const Shape& shape, const Geometry& geometry, int step,
                 const std::atomic<bool>* cancel, PaddedGrid& grid)
{
    const std::array<std::int64_t, 3> dims{(shape.w + step - 1) / step, (shape.h + step - 1) / step,
                                           (shape.d + step - 1) / step};
    grid.dims = {dims[0] + 2, dims[1] + 2, dims[2] + 2};
    grid.spacing = {geometry.spacing[0] * step, geometry.spacing[1] * step, geometry.spacing[2] * step};
    grid.classes.assign(static_cast<std::size_t>(grid.dims[0] * grid.dims[1] * grid.dims[2]), 0);
    for (std::int64_t z = 0; z < dims[2]; ++z) {
        if (cancel && cancel->load()) {
            return false;
        }
        for (std::int64_t y = 0; y < dims[1]; ++y) {
            std::uint8_t* row = grid.classes.data() +
                                static_cast<std::size_t>(((z + 1) * grid.dims[1] + y + 1) * grid.dims[0] + 1);
            for (std::int64_t x = 0; x < dims[0]; ++x) {
                const Voxel voxel{z * step, y * step, x * step};
                const LesionPaint predicted = lesions.predicted_paint(lesions.predicted_at(voxel));
                const LesionPaint target = lesions.target_paint(lesions.target_at(voxel));
                row[x] = predicted == LesionPaint::FalseLesion                                           ? 2
                         : target == LesionPaint::Missed                                                 ? 3
                         : target == LesionPaint::Matched || predicted == LesionPaint::MatchedPrediction ? 1
                                                                                                         : 0;
            }
        }
    }
    return true;
}

// Empty meshes for a volume of `shape` with the target's spacing, and the
// sampling step (`step`, or the automatic one when 0).
SurfaceMeshes empty_meshes(const Shape& shape, const Volume& target, int step)
{
    SurfaceMeshes meshes;
    meshes.step = step > 0 ? step : automatic_surface_step(shape);
    meshes.extent = {shape.w, shape.h, shape.d};
    meshes.spacing = target.geometry().spacing;
    return meshes;
}

} // namespace

SurfaceMeshes build_lesion_meshes(const LesionOverlay& lesions, const Volume& target, int step,
                                  const std::atomic<bool>* cancel)
{
    const Shape& shape = target.shape();
    SurfaceMeshes meshes = empty_meshes(shape, target, step);
    step = meshes.step;
    meshes.lesions = true;
    PaddedGrid grid;
    if (!lesion_grid(lesions, shape, target.geometry(), step, cancel, grid) || (cancel && cancel->load())) {
        return {};
    }
    split_hull(grid, extract_surface(grid.mask(kHullClasses), 1), meshes);
    if (lesions.selected) {
        // The selected lesion alone (class 1 in a grid of its own).
        const LesionKey key = *lesions.selected;
        PaddedGrid chosen;
        chosen.dims = grid.dims;
        chosen.spacing = grid.spacing;
        chosen.classes.assign(grid.classes.size(), 0);
        for (std::int64_t z = 0; z + 2 < grid.dims[2]; ++z) {
            for (std::int64_t y = 0; y + 2 < grid.dims[1]; ++y) {
                for (std::int64_t x = 0; x + 2 < grid.dims[0]; ++x) {
                    const Voxel voxel{z * step, y * step, x * step};
                    const std::uint32_t id = key.side == LesionSide::Target ? lesions.target_at(voxel)
                                                                            : lesions.predicted_at(voxel);
                    if (id != 0 && static_cast<std::int64_t>(id) == key.id) {
                        chosen.classes[static_cast<std::size_t>(
                            ((z + 1) * grid.dims[1] + y + 1) * grid.dims[0] + x + 1)] = 1;
                    }
                }
            }
        }
        meshes.selected = extract_surface(chosen.mask(1U << 1), 1).mesh;
    }
    // No target or prediction surface of their own: the patches are the lesions.
    meshes.target = vtkSmartPointer<vtkPolyData>::New();
    meshes.prediction = vtkSmartPointer<vtkPolyData>::New();
    for (auto& piece : meshes.target_pieces) {
        piece = vtkSmartPointer<vtkPolyData>::New();
    }
    return meshes;
}

SurfaceMeshes build_label_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                 const std::vector<LabelStyle>& labels, int step,
                                 const std::atomic<bool>* cancel)
{
    const Shape& shape = prediction.shape();
    SurfaceMeshes meshes = empty_meshes(shape, target, step);
    step = meshes.step;
    // The target's foreground, translucent around the labels.
    PairView foreground = view;
    foreground.label.reset();
    PaddedGrid grid;
    if (!classify_grid(prediction, target, foreground, step, cancel, grid)) {
        return {};
    }
    meshes.target = extract_surface(grid.mask(kTargetClasses), 1).mesh;
    for (std::size_t k = 0; k < meshes.target_pieces.size(); ++k) {
        meshes.target_pieces[k] = k == kTargetInside ? meshes.target : vtkSmartPointer<vtkPolyData>::New();
    }
    for (auto* empty : {&meshes.prediction, &meshes.hull, &meshes.true_positive, &meshes.false_positive,
                        &meshes.false_negative}) {
        *empty = vtkSmartPointer<vtkPolyData>::New();
    }
    for (const LabelStyle& style : labels) {
        if (style.value <= 0 || !style.visible) {
            continue;
        }
        PairView label_view = view;
        label_view.label = style.value;
        if (!classify_grid(prediction, target, label_view, step, cancel, grid) ||
            (cancel && cancel->load())) {
            return {};
        }
        meshes.labels.push_back(
            {extract_surface(grid.mask(kPredictedClasses), 1).mesh, style.colour, style.name, style.opacity});
    }
    return meshes;
}

SurfaceMeshes build_surface_meshes(const Volume& prediction, const Volume& target, const PairView& view,
                                   const SurfaceBuildOptions& options, const std::atomic<bool>* cancel)
{
    const auto cancelled = [cancel]() { return cancel && cancel->load(); };
    const Shape& shape = prediction.shape();
    SurfaceMeshes meshes = empty_meshes(shape, target, options.step);
    const int step = meshes.step;
    PaddedGrid grid;
    if (!classify_grid(prediction, target, view, step, cancel, grid)) {
        return {};
    }
    const Extracted target_surface = extract_surface(grid.mask(kTargetClasses), 1);
    if (cancelled()) {
        return {};
    }
    const Extracted prediction_surface = extract_surface(grid.mask(kPredictedClasses), 1);
    if (cancelled()) {
        return {};
    }
    const Extracted hull_surface = extract_surface(grid.mask(kHullClasses), 1);
    meshes.target = target_surface.mesh;
    meshes.prediction = prediction_surface.mesh;
    if (options.distances && !cancelled()) {
        // The distance map on the sampled grid (unpadded), from the same classes.
        const std::array<std::int64_t, 3> dims{grid.dims[0] - 2, grid.dims[1] - 2, grid.dims[2] - 2};
        std::vector<std::uint8_t> predicted(static_cast<std::size_t>(dims[0] * dims[1] * dims[2]));
        std::vector<std::uint8_t> hit(predicted.size());
        std::size_t i = 0;
        for (std::int64_t z = 0; z < dims[2]; ++z) {
            for (std::int64_t y = 0; y < dims[1]; ++y) {
                for (std::int64_t x = 0; x < dims[0]; ++x, ++i) {
                    const std::uint8_t c = grid.at(x + 1, y + 1, z + 1);
                    predicted[i] = c == 1 || c == 2 ? 1 : 0;
                    hit[i] = c == 1 || c == 3 ? 1 : 0;
                }
            }
        }
        MaskGrid mask_grid;
        mask_grid.d = dims[2];
        mask_grid.h = dims[1];
        mask_grid.w = dims[0];
        mask_grid.spatial_dims = 3;
        SurfaceDistanceOptions distance;
        distance.spacing_xyz = grid.spacing;
        const std::vector<float> map =
            surface_distance_map(predicted.data(), hit.data(), mask_grid, distance);
        attach_distances(meshes.prediction, map, dims, grid.spacing, meshes.max_distance,
                         meshes.p95_distance);
        meshes.has_distances = true;
    }
    if (cancelled()) {
        return {};
    }
    split_hull(grid, hull_surface, meshes);
    // Target faces by the surface lying on them (see SurfaceMeshes).
    std::vector<std::uint8_t> tags;
    for (const auto& side :
         cell_sides(meshes.target, point_sides(grid, target_surface.raw, kTargetClasses))) {
        const bool missed = side[0] == 3, outside_fp = side[1] == 2;
        tags.push_back(static_cast<std::uint8_t>(outside_fp ? (missed ? kTargetOnFpSide : kTargetInside)
                                                            : (missed ? kTargetOnFn : kTargetOnTp)));
    }
    for (std::size_t k = 0; k < meshes.target_pieces.size(); ++k) {
        meshes.target_pieces[k] = cells_tagged(meshes.target, tags, static_cast<std::uint8_t>(k));
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
    step = step > 0 ? step : automatic_surface_step(prediction.shape());
    PaddedGrid grid;
    if (!classify_grid(prediction, target, view, step, cancel, grid) || (cancel && cancel->load())) {
        return nullptr;
    }
    return extract_surface(grid.mask(kPredictedClasses), 1).mesh;
}

std::array<double, 16> ras_from_grid(const Geometry& geometry)
{
    const Geometry ras = in_frame(geometry, WorldFrame::RAS);
    std::array<double, 16> m{};
    for (std::size_t r = 0; r < 3; ++r) {
        for (std::size_t c = 0; c < 3; ++c) {
            m[r * 4 + c] = ras.direction[r * 3 + c];
        }
        m[r * 4 + 3] = ras.origin[r];
    }
    m[15] = 1;
    return m;
}

} // namespace masklens::ui
