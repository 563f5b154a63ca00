// The Lesions display mode (ui/model lesion_overlay.h, compose_slice; the
// slice views) on a pair whose lesions are known independently:
// tests/generate_lesion_view_fixture.py labels them with scipy.ndimage.label
// (26-connectivity), matches them with numpy (one-to-one IoU >= 0.5) and
// picks probe voxels (tests/data/lesion_view/expected.json). Checked:
//   - the table's rows (the engine's) have scipy's ids, sizes and statuses;
//   - the overlay's labels (engine sample_lesions) give each row's lesion
//     exactly its size and box, and the probe voxels their ids;
//   - each status's colour at its place: matched target lesion TP, missed
//     FN, false predicted lesion FP (compose_slice, then the rendered view
//     under Xvfb), background black;
//   - the lesion clicked in the Lesions tab is outlined in white;
//   - in 3D each status's surface patch lies on its lesions' boxes and is
//     drawn in its status colour, named in the legend.
#include "masklens/engine/evaluate.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/lesion_overlay.h"
#include "masklens/ui/lesion_panel.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <QApplication>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStandardPaths>
#include <QtTest>

#include <vtkCellArray.h>
#include <vtkIdList.h>
#include <vtkNew.h>

#include <cmath>

using namespace masklens;
using namespace masklens::ui;

namespace {

const QString kData = QStringLiteral(MASKLENS_TEST_DATA "/lesion_view/");

struct Expected {
    LesionSide side = LesionSide::Target;
    std::int64_t id = 0;
    LesionStatus status = LesionStatus::Fn;
    std::int64_t voxels = 0;
    std::optional<Voxel> inside, corner;
};

std::optional<Voxel> voxel_of(const QJsonValue& value)
{
    if (!value.isArray()) {
        return std::nullopt;
    }
    const QJsonArray a = value.toArray();
    return Voxel{a[0].toInteger(), a[1].toInteger(), a[2].toInteger()};
}

std::vector<Expected> expected_lesions()
{
    QFile file(kData + QStringLiteral("expected.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    std::vector<Expected> out;
    for (const QJsonValue& v :
         QJsonDocument::fromJson(file.readAll()).object()[QStringLiteral("lesions")].toArray()) {
        const QJsonObject o = v.toObject();
        Expected e;
        e.side = o[QStringLiteral("side")].toString() == QStringLiteral("target") ? LesionSide::Target
                                                                                  : LesionSide::Prediction;
        e.id = o[QStringLiteral("id")].toInteger();
        const QString status = o[QStringLiteral("status")].toString();
        e.status = status == QStringLiteral("tp")   ? LesionStatus::Tp
                   : status == QStringLiteral("fn") ? LesionStatus::Fn
                                                    : LesionStatus::Fp;
        e.voxels = o[QStringLiteral("voxels")].toInteger();
        e.inside = voxel_of(o[QStringLiteral("inside")]);
        e.corner = voxel_of(o[QStringLiteral("corner")]);
        out.push_back(e);
    }
    return out;
}

std::shared_ptr<const Volume> read(const char* name)
{
    return std::make_shared<Volume>(io::read_volume((kData + QString::fromLatin1(name)).toStdString()));
}

// The colour a status takes (the Errors mode's, the one home of status colours).
Rgb status_colour(LesionStatus status)
{
    switch (status) {
    case LesionStatus::Tp: return kTruePositiveColour;
    case LesionStatus::Fn: return kFalseNegativeColour;
    case LesionStatus::Fp: return kFalsePositiveColour;
    }
    return {};
}

QString text(const Rgb& c)
{
    return QStringLiteral("rgb(%1, %2, %3)").arg(c.r).arg(c.g).arg(c.b);
}

const LesionRow* row_of(const LesionList& list, LesionSide side, std::int64_t id)
{
    for (const LesionRow& row : list.allRows()) {
        if (row.lesion.side == side && row.lesion.id == id) {
            return &row;
        }
    }
    return nullptr;
}

// A row's lesion as the overlay holds it: its voxel count and box [d, h, w].
struct OverlayExtent {
    std::int64_t voxels = 0;
    std::array<std::int64_t, 3> lo{}, hi{};
};

OverlayExtent extent_in_overlay(const LesionOverlay& overlay, const LesionRow& row, const Shape& s)
{
    OverlayExtent e;
    e.lo = {s.d, s.h, s.w};
    for (std::int64_t d = 0; d < s.d; ++d) {
        for (std::int64_t h = 0; h < s.h; ++h) {
            for (std::int64_t w = 0; w < s.w; ++w) {
                const Voxel v{d, h, w};
                const std::uint32_t id =
                    row.lesion.side == LesionSide::Target ? overlay.target_at(v) : overlay.predicted_at(v);
                if (static_cast<std::int64_t>(id) != row.lesion.id) {
                    continue;
                }
                ++e.voxels;
                const std::array<std::int64_t, 3> at{d, h, w};
                for (std::size_t a = 0; a < 3; ++a) {
                    e.lo[a] = std::min(e.lo[a], at[a]);
                    e.hi[a] = std::max(e.hi[a], at[a] + 1);
                }
            }
        }
    }
    return e;
}

} // namespace

class TestLesionView : public QObject {
    Q_OBJECT
private slots:
    void init()
    {
        presenter_ = std::make_unique<SessionPresenter>();
        presenter_->setSynchronous(true);
        presenter_->setVolumes(read("pred.npy"), read("target.npy"));
        QVERIFY(presenter_->hasData());
        panel_ = std::make_unique<LesionPanel>(presenter_.get());
        expected_ = expected_lesions();
        QCOMPARE(expected_.size(), std::size_t{5});
    }
    void cleanup()
    {
        panel_.reset();
        presenter_.reset();
    }

    // Choosing the mode finds the lesions; rows and labels agree with scipy.
    void overlayFollowsTheTable()
    {
        QVERIFY(presenter_->lesionOverlay() == nullptr);
        LayerSettings layers = presenter_->layers();
        layers.mode = DisplayMode::Lesions;
        presenter_->setLayers(layers);
        const LesionOverlay* overlay = presenter_->lesionOverlay();
        QVERIFY(overlay != nullptr && overlay->lesions != nullptr);
        QCOMPARE(panel_->list()->allRows().size(), expected_.size());
        for (const Expected& e : expected_) {
            const LesionRow* row = row_of(*panel_->list(), e.side, e.id);
            QVERIFY(row != nullptr);
            QCOMPARE(row->lesion.status, e.status);
            QCOMPARE(row->lesion.voxels, e.voxels);
            if (e.inside) {
                const std::uint32_t id = e.side == LesionSide::Target ? overlay->target_at(*e.inside)
                                                                      : overlay->predicted_at(*e.inside);
                QCOMPARE(static_cast<std::int64_t>(id), e.id);
            }
        }
        // Every row's lesion in the overlay: exactly its size and box.
        const Shape s = presenter_->shape();
        for (const LesionRow& row : panel_->list()->allRows()) {
            const OverlayExtent e = extent_in_overlay(*overlay, row, s);
            QCOMPARE(e.voxels, row.lesion.voxels);
            QCOMPARE(e.lo, row.lesion.lo);
            QCOMPARE(e.hi, row.lesion.hi);
        }
    }

    // Under every rule the overlay's labels are the table's: each row's
    // lesion has exactly its size and box (minimum sizes renumber, BraTS
    // merges target lesions whose dilations touch; 6-connectivity splits).
    void overlayFollowsEveryRule()
    {
        const auto& pred = *presenter_->prediction();
        const auto& target = *presenter_->target();
        const Shape s = pred.shape();
        struct Rule {
            LesionMatch match;
            std::int64_t min_size;
            int connectivity;
            int dilation;
        };
        for (const Rule rule : {Rule{LesionMatch::Iou, 0, 6, 1}, Rule{LesionMatch::Overlap, 20, 0, 1},
                                Rule{LesionMatch::Brats, 0, 0, 3}, Rule{LesionMatch::Brats, 20, 18, 8}}) {
            StatisticsOptions options;
            options.metrics = {Metric::LesionTp};
            options.metric.lesion_match = rule.match;
            options.metric.lesion_min_size = rule.min_size;
            options.metric.lesion_connectivity = rule.connectivity;
            options.metric.lesion_dilation = rule.dilation;
            const Evaluation evaluation = evaluate(pred, target, options);
            const auto overlay = make_lesion_overlay(evaluation, pred, target, 0, std::nullopt);
            QVERIFY(overlay->lesions != nullptr);
            const std::vector<LesionRow> rows = lesion_rows_of(evaluation, 0, std::nullopt);
            QVERIFY(!rows.empty());
            QCOMPARE(static_cast<std::size_t>(overlay->lesions->labels.target.count +
                                              overlay->lesions->labels.predicted.count),
                     rows.size());
            for (const LesionRow& row : rows) {
                const OverlayExtent e = extent_in_overlay(*overlay, row, s);
                QCOMPARE(e.voxels, row.lesion.voxels);
                QCOMPARE(e.lo, row.lesion.lo);
                QCOMPARE(e.hi, row.lesion.hi);
            }
            if (rule.match == LesionMatch::Brats) {
                // The two target lesions lie 8 empty rows apart in h: dilated 8
                // times they touch (one merged lesion), 3 times they do not.
                QCOMPARE(overlay->lesions->labels.target.count, std::int64_t{rule.dilation == 8 ? 1 : 2});
            }
        }
    }

    // The app's path: the pass and the labelling in the background; the
    // overlay arrives on the UI thread, for the sample shown.
    void overlayArrivesInTheBackground()
    {
        presenter_->setSynchronous(false);
        LayerSettings layers = presenter_->layers();
        layers.mode = DisplayMode::Lesions;
        presenter_->setLayers(layers);
        QTRY_VERIFY_WITH_TIMEOUT(presenter_->lesionOverlay() != nullptr, 20000);
        QCOMPARE(presenter_->lesionOverlay()->sample, std::int64_t{0});
        QCOMPARE(panel_->list()->allRows().size(), expected_.size());
        // New numbers: the overlay goes, and (the mode still on) comes back.
        presenter_->setSynchronous(true);
        presenter_->setThreshold(0.6);
        QVERIFY(presenter_->lesionOverlay() != nullptr);
    }

    // compose_slice: each status's colour at its lesion's inner voxel.
    void composedColours()
    {
        LayerSettings layers = presenter_->layers();
        layers.mode = DisplayMode::Lesions;
        presenter_->setLayers(layers);
        QVERIFY(presenter_->lesionOverlay() != nullptr);
        const std::int64_t slice = 6;
        const SliceImage image =
            compose_slice(*presenter_->prediction(), *presenter_->target(), presenter_->pairView(),
                          ViewAxis::Axial, slice, layers, nullptr, nullptr, presenter_->lesionOverlay());
        const auto pixel = [&](const Voxel& v) {
            const auto xy =
                voxel_to_pixel(presenter_->shape(), ViewAxis::Axial, image.geometry.orientation, v);
            const std::uint8_t* p =
                &image
                     .rgba[(static_cast<std::size_t>(xy[1]) * static_cast<std::size_t>(image.geometry.width) +
                            static_cast<std::size_t>(xy[0])) *
                           4];
            return Rgb{p[0], p[1], p[2]};
        };
        int probed = 0;
        for (const Expected& e : expected_) {
            if (e.inside) {
                QVERIFY2(pixel(*e.inside) == status_colour(e.status), qPrintable(text(pixel(*e.inside))));
                ++probed;
            }
        }
        QCOMPARE(probed, 4); // the second false lesion lies off the slice
        QCOMPARE(pixel(Voxel{slice, 30, 30}), (Rgb{0, 0, 0}));
        // Without an overlay (or one for another sample) the mode draws the errors.
        const SliceImage errors = compose_slice(*presenter_->prediction(), *presenter_->target(),
                                                presenter_->pairView(), ViewAxis::Axial, slice, layers);
        const auto xy =
            voxel_to_pixel(presenter_->shape(), ViewAxis::Axial, errors.geometry.orientation,
                           Voxel{slice, 12, 5}); // prediction only: FP voxel of the matched lesion
        const std::uint8_t* p =
            &errors.rgba[(static_cast<std::size_t>(xy[1]) * static_cast<std::size_t>(errors.geometry.width) +
                          static_cast<std::size_t>(xy[0])) *
                         4];
        QCOMPARE((Rgb{p[0], p[1], p[2]}), kFalsePositiveColour);
        QCOMPARE(pixel(Voxel{slice, 12, 5}), kTruePositiveColour); // the matched prediction's outline
    }

    // The rendered view under Xvfb, then a click on the missed lesion's row.
    void renderedColoursAndSelection()
    {
        presenter_->setCursor({6, 0, 0}); // crosshair along the edges
        LayerSettings layers = presenter_->layers();
        layers.mode = DisplayMode::Lesions;
        presenter_->setLayers(layers);
        SliceView view(presenter_.get(), ViewAxis::Axial);
        view.resize(400, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        const auto probe = [&](const Voxel& v) {
            view.requestRender();
            QCoreApplication::processEvents();
            const QImage image = view.grabFramebuffer();
            const QPointF at = view.voxelToWidget(v) * view.devicePixelRatioF();
            const QRgb rgb =
                image.pixel(static_cast<int>(std::lround(at.x())), static_cast<int>(std::lround(at.y())));
            return Rgb{static_cast<std::uint8_t>(qRed(rgb)), static_cast<std::uint8_t>(qGreen(rgb)),
                       static_cast<std::uint8_t>(qBlue(rgb))};
        };
        const auto near = [](const Rgb& a, const Rgb& b) {
            return std::abs(a.r - b.r) <= 2 && std::abs(a.g - b.g) <= 2 && std::abs(a.b - b.b) <= 2;
        };
        const Expected* missed = nullptr;
        for (const Expected& e : expected_) {
            if (e.inside) {
                const Rgb got = probe(*e.inside);
                QVERIFY2(near(got, status_colour(e.status)), qPrintable(text(got)));
            }
            missed = e.status == LesionStatus::Fn ? &e : missed;
        }
        QVERIFY(missed != nullptr && missed->corner);
        QVERIFY2(near(probe(*missed->corner), kFalseNegativeColour),
                 qPrintable(text(probe(*missed->corner))));
        // Select the missed lesion in the tab: the cursor moves to it and its
        // outline turns white; its inside keeps its status colour.
        panel_->list()->setFilter(LesionFilter::Missed);
        QCOMPARE(panel_->list()->rowCount(), 1);
        panel_->centreOn(0);
        QVERIFY(presenter_->lesionOverlay()->selected.has_value());
        Voxel corner = *missed->corner;
        corner.d = presenter_->cursor().d; // the slice the cursor moved to
        QVERIFY2(near(probe(corner), kSelectedLesionColour), qPrintable(text(probe(corner))));
        QVERIFY2(near(probe(Voxel{corner.d, corner.h + 2, corner.w + 1}), kFalseNegativeColour),
                 qPrintable(text(probe(Voxel{corner.d, corner.h + 2, corner.w + 1}))));
    }

    // 3D: the lesions' surfaces by status (build_lesion_meshes), each patch
    // where its lesion is and drawn in its status colour, with a legend.
    void surfacesByStatus()
    {
        presenter_->setCursor({0, 0, 0});
        LayerSettings layers = presenter_->layers();
        layers.mode = DisplayMode::Lesions;
        presenter_->setLayers(layers);
        SurfaceView view(presenter_.get());
        view.resize(400, 400);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        view.waitForSurfaces();
        const SurfaceMeshes& meshes = view.scene().meshes();
        QVERIFY(meshes.lesions);
        QCOMPARE(meshes.true_positive->GetNumberOfPolys() + meshes.false_positive->GetNumberOfPolys() +
                     meshes.false_negative->GetNumberOfPolys(),
                 meshes.hull->GetNumberOfPolys());
        // Each patch lies on its lesions' boxes (mesh frame: x = w, y = h, z = d
        // in voxels at spacing 1; faces midway between voxels, smoothed inwards).
        const auto within = [&](vtkPolyData* patch, LesionStatus status) {
            // Bounds over the cells' points (a patch shares the hull's points).
            double b[6] = {1e9, -1e9, 1e9, -1e9, 1e9, -1e9};
            vtkNew<vtkIdList> ids;
            vtkCellArray* polys = patch->GetPolys();
            for (polys->InitTraversal(); polys->GetNextCell(ids);) {
                for (vtkIdType k = 0; k < ids->GetNumberOfIds(); ++k) {
                    double point[3];
                    patch->GetPoint(ids->GetId(k), point);
                    for (int a = 0; a < 3; ++a) {
                        b[2 * a] = std::min(b[2 * a], point[a]);
                        b[2 * a + 1] = std::max(b[2 * a + 1], point[a]);
                    }
                }
            }
            std::array<double, 3> lo{1e9, 1e9, 1e9}, hi{-1e9, -1e9, -1e9}; // x, y, z
            for (const LesionRow& row : panel_->list()->allRows()) {
                const bool wanted = status == LesionStatus::Tp ? row.lesion.status == LesionStatus::Tp
                                                               : row.lesion.status == status;
                if (!wanted) {
                    continue;
                }
                for (std::size_t a = 0; a < 3; ++a) { // row boxes are [d, h, w]
                    lo[2 - a] = std::min(lo[2 - a], static_cast<double>(row.lesion.lo[a]));
                    hi[2 - a] = std::max(hi[2 - a], static_cast<double>(row.lesion.hi[a]));
                }
            }
            bool ok = patch->GetNumberOfPolys() > 0;
            for (std::size_t a = 0; a < 3; ++a) {
                ok = ok && b[2 * a] >= lo[a] - 0.75 && b[2 * a + 1] <= hi[a] - 0.25 &&
                     b[2 * a + 1] - b[2 * a] >= (hi[a] - lo[a]) - 2.0;
            }
            return ok;
        };
        QVERIFY(within(meshes.true_positive, LesionStatus::Tp));
        QVERIFY(within(meshes.false_positive, LesionStatus::Fp));
        QVERIFY(within(meshes.false_negative, LesionStatus::Fn));

        view.scene().setDecorationsVisible(true);
        std::vector<std::string> names;
        for (const auto& [name, colour] : view.scene().legendEntries()) {
            names.push_back(name);
        }
        QCOMPARE(names, (std::vector<std::string>{"Found lesion", "False lesion", "Missed lesion"}));
        view.scene().setDecorationsVisible(false);

        // One patch at a time: its pixels take its status colour's hue, no other.
        const std::array<SurfaceLayer, 3> patches{SurfaceLayer::TruePositive, SurfaceLayer::FalsePositive,
                                                  SurfaceLayer::FalseNegative};
        for (std::size_t k = 0; k < patches.size(); ++k) {
            for (std::size_t j = 0; j < patches.size(); ++j) {
                view.scene().setSurfaceStyle(patches[j], SurfaceStyle{j == k, 1.0});
            }
            view.requestRender();
            QCoreApplication::processEvents();
            const QImage image = view.grabFramebuffer().convertToFormat(QImage::Format_RGB32);
            std::array<int, 3> hues{0, 0, 0};
            for (int y = 0; y < image.height(); ++y) {
                for (int x = 0; x < image.width(); ++x) {
                    const QRgb p = image.pixel(x, y);
                    const int high = std::max({qRed(p), qGreen(p), qBlue(p)});
                    const int low = std::min({qRed(p), qGreen(p), qBlue(p)});
                    if (high < 45 || high - low < 25) {
                        continue; // background, unlit or grey (crosshair)
                    }
                    // TP green (0, 158, 115), FP orange (213, 94, 0), FN sky blue (86, 180, 233).
                    if (qRed(p) <= 30 && qGreen(p) >= qBlue(p) && qGreen(p) > 40) {
                        ++hues[0];
                    } else if (qRed(p) > qGreen(p) + 30 && qRed(p) > 60) {
                        ++hues[1];
                    } else if (qBlue(p) > qGreen(p) + 15 && qBlue(p) > 60) {
                        ++hues[2];
                    }
                }
            }
            const QString counts =
                QStringLiteral("patch %1: %2 %3 %4").arg(k).arg(hues[0]).arg(hues[1]).arg(hues[2]);
            QVERIFY2(hues[k] >= 100, qPrintable(counts));
            QVERIFY2(hues[(k + 1) % 3] == 0 && hues[(k + 2) % 3] == 0, qPrintable(counts));
        }
        QVERIFY(!meshes.selected);
        // Select the missed lesion: its own surface, on its box, in white wireframe.
        panel_->list()->setFilter(LesionFilter::Missed);
        panel_->centreOn(0);
        view.waitForSurfaces();
        const SurfaceMeshes& chosen = view.scene().meshes();
        QVERIFY(chosen.selected && chosen.selected->GetNumberOfPolys() > 0);
        const LesionRow* missed = panel_->list()->lesionAt(0);
        QVERIFY(missed != nullptr);
        double b[6];
        chosen.selected->GetBounds(b); // its own points only
        for (std::size_t a = 0; a < 3; ++a) {
            const auto lo = static_cast<double>(missed->lesion.lo[2 - a]);
            const auto hi = static_cast<double>(missed->lesion.hi[2 - a]);
            QVERIFY2(b[2 * a] >= lo - 0.75 && b[2 * a + 1] <= hi - 0.25 &&
                         b[2 * a + 1] - b[2 * a] >= hi - lo - 2.0,
                     qPrintable(QStringLiteral("axis %1: %2..%3 for %4..%5")
                                    .arg(a)
                                    .arg(b[2 * a])
                                    .arg(b[2 * a + 1])
                                    .arg(lo)
                                    .arg(hi)));
        }
    }

private:
    std::unique_ptr<SessionPresenter> presenter_;
    std::unique_ptr<LesionPanel> panel_;
    std::vector<Expected> expected_;
};

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestLesionView test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_lesion_view.moc"
