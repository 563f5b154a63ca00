// The 3D view read at a glance, the chart's scales and markers, and the side
// panel's smaller items: pixel probes of coincident and error surfaces, closed
// surfaces at the volume edge, RAS / LPS placement, 1-2-5 ticks (hand-derived
// values and properties), infinite / undefined chart markers, the per-sample
// chart, the typed threshold, sample stepping, the CSV export (parsed and
// compared with the engine's own evaluations), no toolkit warnings while the
// threshold changes, and a layout check at 1280x800 and 1400x925.
#include "masklens/ui/chart_axis.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/slice_chart.h"
#include "masklens/ui/surface_controls.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <vtkCamera.h>
#include <vtkDataArray.h>
#include <vtkFeatureEdges.h>
#include <vtkNew.h>
#include <vtkOutputWindow.h>
#include <vtkPointData.h>
#include <vtkPolyData.h>
#include <vtkRenderer.h>
#include <vtkStringOutputWindow.h>

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QSettings>
#include <QSlider>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

// The synthetic target as a float prediction: target and prediction coincide.
std::shared_ptr<Volume> target_as_prediction(const Volume& target, const std::string& name)
{
    std::vector<float> values(static_cast<std::size_t>(target.shape().elements()));
    for (std::size_t i = 0; i < values.size(); ++i) {
        values[i] = static_cast<float>(element_value(target, i));
    }
    auto volume = make_float(name, target.shape(), values);
    volume->geometry() = target.geometry();
    return volume;
}

// A block that fills a 6^3 grid: every face touches the volume's edge.
std::shared_ptr<Volume> full_block(const std::string& name)
{
    Shape shape;
    shape.d = shape.h = shape.w = 6;
    shape.spatial_dims = 3;
    return make_u8(name, shape, std::vector<std::uint8_t>(216, 1));
}

// An off-centre blob on the synthetic grid (w in 11..14), nothing else.
std::shared_ptr<Volume> side_blob(const std::string& name)
{
    const Shape s = synthetic_shape();
    std::vector<std::uint8_t> values;
    for (std::int64_t d = 0; d < s.d; ++d) {
        for (std::int64_t h = 0; h < s.h; ++h) {
            for (std::int64_t w = 0; w < s.w; ++w) {
                values.push_back(d >= 3 && d <= 8 && h >= 5 && h <= 10 && w >= 11 && w <= 14 ? 1 : 0);
            }
        }
    }
    auto volume = make_u8(name, s, values);
    set_spacing(*volume);
    return volume;
}

bool is_background(QRgb p)
{
    // The scene's background is (20, 20, 23).
    return std::abs(qRed(p) - 20) <= 6 && std::abs(qGreen(p) - 20) <= 6 && std::abs(qBlue(p) - 23) <= 6;
}

// Hue classes of a shaded pixel (diffuse shading scales the colour; edges mix
// with the background): TP green (0, 158, 115), FP orange (213, 94, 0), FN
// sky blue (86, 180, 233), target yellow (240, 228, 66).
bool tp_like(QRgb p)
{
    return qRed(p) <= 30 && qGreen(p) >= qBlue(p) && qGreen(p) > 40;
}
bool fp_like(QRgb p)
{
    return qRed(p) > qGreen(p) + 30 && qRed(p) > 60;
}
bool fn_like(QRgb p)
{
    return qBlue(p) > qGreen(p) + 15 && qBlue(p) > 60;
}
bool yellow_like(QRgb p)
{
    return qRed(p) > 80 && qGreen(p) > 80 && qBlue(p) < qRed(p) / 2;
}

struct PixelCounts {
    int tp = 0, fp = 0, fn = 0, yellow = 0, other = 0, grey = 0;
    double sum_x = 0;
    int object = 0;
};

PixelCounts count_pixels(const QImage& image)
{
    PixelCounts counts;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QRgb p = image.pixel(x, y);
            if (is_background(p)) {
                continue;
            }
            ++counts.object;
            counts.sum_x += x;
            const int high = std::max({qRed(p), qGreen(p), qBlue(p)});
            const int low = std::min({qRed(p), qGreen(p), qBlue(p)});
            if (high < 45 || high - low < 25) {
                ++counts.grey; // unlit or grey: shading's dark side, the crosshair, edges
            } else if (tp_like(p)) {
                ++counts.tp;
            } else if (fp_like(p)) {
                ++counts.fp;
            } else if (fn_like(p)) {
                ++counts.fn;
            } else if (yellow_like(p)) {
                ++counts.yellow;
            } else {
                ++counts.other;
            }
        }
    }
    return counts;
}

QString describe(const PixelCounts& c)
{
    return QStringLiteral("tp %1 fp %2 fn %3 yellow %4 other %5")
        .arg(c.tp)
        .arg(c.fp)
        .arg(c.fn)
        .arg(c.yellow)
        .arg(c.other);
}

QString failure_dir()
{
    const QString dir = QStringLiteral(MASKLENS_BINARY_DIR "/ui_render_failures");
    QDir().mkpath(dir);
    return dir;
}

// A CSV line split at commas (the export quotes nothing: numbers and names).
QStringList cells(const QString& line)
{
    return line.split(QLatin1Char(','));
}

} // namespace

class TestView3d : public QObject {
    Q_OBJECT
private slots:
    void cleanup();
    void niceStepsByHand();
    void niceScaleProperties();
    void metricRangesFromTable();
    void coincidentSurfacesShowOnlyTp();
    void errorSurfacesInTheirColours();
    void closedSurfaceAtVolumeEdge();
    void rasAndLpsMirrorIn3d();
    void distanceRangeDefaultsToP95();
    void clipAtCursorCutsAway();
    void comparisonPaletteIsItsOwn();
    void comparisonLegendNamesPredictions();
    void chartMarksInfiniteAndUndefined();
    void chartDiceAxisIsUnitInterval();
    void perSampleChartFor2d();
    void typedThreshold();
    void sampleStepping();
    void recentPairsNamedByFolder();
    void csvCarriesDistancesAndSettings();
    void noWarningsOnThresholdChange();
    void layoutNothingCut();

private:
    QImage renderSurfaces(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target,
                          SurfaceView** view_out = nullptr);
    void openWindow(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target, QSize size);
    std::unique_ptr<SessionPresenter> presenter_;
    std::unique_ptr<QWidget> host_;
    std::unique_ptr<MainWindow> window_;
};

void TestView3d::cleanup()
{
    window_.reset();
    host_.reset();
    presenter_.reset();
}

QImage TestView3d::renderSurfaces(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target,
                                  SurfaceView** view_out)
{
    host_.reset();
    presenter_ = std::make_unique<SessionPresenter>();
    presenter_->setSynchronous(true);
    presenter_->setVolumes(std::move(prediction), std::move(target));
    auto* view = new SurfaceView(presenter_.get());
    host_.reset(view);
    view->scene().setDecorationsVisible(false); // probes see the surfaces only
    view->resize(400, 400);
    view->show();
    if (!QTest::qWaitForWindowExposed(view)) {
        return {};
    }
    // Crosshair lines off the probed area's colours: hide them by moving the
    // cursor to a corner (they are thin and white-grey, not TP/FP/FN-like).
    presenter_->setCursor({0, 0, 0});
    view->waitForSurfaces();
    if (view_out) {
        *view_out = view;
    }
    view->requestRender();
    QCoreApplication::processEvents();
    return view->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
}

void TestView3d::niceStepsByHand()
{
    // span / max intervals, rounded up to 1, 2 or 5 x 10^k.
    QCOMPARE(nice_step(1.0, 5), 0.2);
    QCOMPARE(nice_step(17.4, 5), 5.0);     // 3.48 -> 5
    QCOMPARE(nice_step(100.0, 5), 20.0);   // 20
    QCOMPARE(nice_step(0.0162, 5), 0.005); // 0.00324 -> 0.005
    QCOMPARE(nice_step(0.3, 3), 0.1);      // exactly 3 intervals
    QCOMPARE(nice_step(7.0, 1), 10.0);
    QCOMPARE(nice_step(0.0, 5), 1.0);
    QCOMPARE(nice_step(std::nan(""), 5), 1.0);
    // The odd ticks: a Dice near 1 gets 0..1 in steps of 0.2.
    const AxisScale dice = nice_scale(0.9845, 1.0, ValueRange::UnitInterval, 5);
    QCOMPARE(dice.low, 0.0);
    QCOMPARE(dice.high, 1.0);
    QVERIFY(std::abs(dice.step - 0.2) < 1e-12);
    QCOMPARE(dice.decimals, 1);
    // Distances 2.4 .. 19.8 mm: 0, 5, 10, 15, 20.
    const AxisScale hd = nice_scale(2.4, 19.8, ValueRange::NonNegative, 5);
    QCOMPARE(hd.low, 0.0);
    QCOMPARE(hd.high, 20.0);
    QCOMPARE(hd.step, 5.0);
    QCOMPARE(hd.decimals, 0);
    QCOMPARE(hd.ticks(), (std::vector<double>{0, 5, 10, 15, 20}));
    // A negative value widens a non-negative range: [-0.3, 0.7] with step 0.2
    // would need 6 intervals (-0.4 .. 0.8), so the step grows to 0.5.
    const AxisScale mixed = nice_scale(-0.3, 0.7, ValueRange::NonNegative, 5);
    QCOMPARE(mixed.step, 0.5);
    QCOMPARE(mixed.low, -0.5);
    QCOMPARE(mixed.high, 1.0);
    QCOMPARE(mixed.decimals, 1);
    // No data: 0..1.
    const AxisScale empty = nice_scale(std::nan(""), std::nan(""), ValueRange::NonNegative, 5);
    QCOMPARE(empty.low, 0.0);
    QCOMPARE(empty.high, 1.0);
}

void TestView3d::niceScaleProperties()
{
    // Over many ranges: the step is 1, 2 or 5 x 10^k, low and high are
    // multiples of it, the data lie inside, at most 5 intervals.
    std::uint32_t state = 12345;
    const auto next = [&state]() {
        state = state * 1664525U + 1013904223U;
        return static_cast<double>(state >> 8) / static_cast<double>(1U << 24);
    };
    for (int i = 0; i < 2000; ++i) {
        const double scale = std::pow(10.0, std::floor(next() * 12) - 6);
        double a = (next() - 0.3) * scale, b = (next() - 0.3) * scale;
        if (a > b) {
            std::swap(a, b);
        }
        const ValueRange range = i % 2 ? ValueRange::UnitInterval : ValueRange::NonNegative;
        const AxisScale s = nice_scale(a, b, range, 5);
        const double exponent = std::floor(std::log10(s.step) + 1e-9);
        const double mantissa = s.step / std::pow(10.0, exponent);
        QVERIFY2(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 ||
                     std::abs(mantissa - 5) < 1e-9,
                 qPrintable(QString::number(s.step)));
        QVERIFY(s.low <= a + 1e-12 * scale && s.high >= b - 1e-12 * scale);
        QVERIFY(std::abs(s.low / s.step - std::round(s.low / s.step)) < 1e-6);
        QVERIFY(std::abs(s.high / s.step - std::round(s.high / s.step)) < 1e-6);
        QVERIFY2(
            (s.high - s.low) / s.step <= 5 + 1e-6,
            qPrintable(QStringLiteral("%1 %2 -> %3 %4 %5").arg(a).arg(b).arg(s.low).arg(s.high).arg(s.step)));
        if (range == ValueRange::UnitInterval) {
            QVERIFY(s.low <= 0 && s.high >= 1);
        }
    }
}

void TestView3d::metricRangesFromTable()
{
    // The metric table's range column: overlap scores and their losses are
    // fractions; distances, counts and per-element losses are not.
    for (const Metric metric :
         {Metric::Dice, Metric::Iou, Metric::DiceLoss, Metric::Precision, Metric::Recall, Metric::Nsd}) {
        QVERIFY2(metric_info(metric).range == ValueRange::UnitInterval,
                 qPrintable(QString::fromStdString(std::string(metric_name(metric)))));
    }
    for (const Metric metric :
         {Metric::Hd, Metric::Hd95, Metric::Assd, Metric::Bce, Metric::Tp, Metric::Fp}) {
        QVERIFY(metric_info(metric).range == ValueRange::NonNegative);
    }
    // The values the engine computes for the synthetic pair lie in the ranges.
    const Evaluation evaluation = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        const double value = evaluation.batch[m];
        if (std::isnan(value)) {
            continue;
        }
        QVERIFY(value >= 0);
        if (metric_info(evaluation.metrics[m]).range == ValueRange::UnitInterval) {
            QVERIFY2(value <= 1,
                     qPrintable(QString::fromStdString(std::string(metric_name(evaluation.metrics[m])))));
        }
    }
}

void TestView3d::coincidentSurfacesShowOnlyTp()
{
    auto target = synthetic_target();
    SurfaceView* view = nullptr;
    const QImage image = renderSurfaces(target_as_prediction(*target, "same_as_target"), target, &view);
    QVERIFY(!image.isNull() && view);
    const SurfaceMeshes& meshes = view->scene().meshes();
    // The target's faces all lie under the TP patch: none is drawn while it shows.
    QVERIFY(meshes.target_pieces[kTargetOnTp]->GetNumberOfPolys() > 0);
    QCOMPARE(meshes.target_pieces[kTargetOnTp]->GetNumberOfPolys(), meshes.target->GetNumberOfPolys());
    QCOMPARE(meshes.false_positive->GetNumberOfPolys(), 0);
    QCOMPARE(meshes.false_negative->GetNumberOfPolys(), 0);
    const PixelCounts counts = count_pixels(image);
    if (counts.tp < 500 || counts.fp + counts.fn + counts.yellow + counts.other > 0) {
        image.save(failure_dir() + QStringLiteral("/coincident_3d.png"));
    }
    QVERIFY2(counts.tp >= 500, qPrintable(describe(counts)));
    QVERIFY2(counts.fp == 0 && counts.fn == 0 && counts.yellow == 0, qPrintable(describe(counts)));
    QVERIFY2(counts.other <= 20, qPrintable(describe(counts)));

    // Hide the TP patch: the target (translucent yellow) shows in its place.
    view->scene().setSurfaceStyle(SurfaceLayer::TruePositive, SurfaceStyle{false, 1.0});
    view->scene().setSurfaceStyle(SurfaceLayer::Target, SurfaceStyle{true, 1.0});
    view->requestRender();
    QCoreApplication::processEvents();
    const PixelCounts target_only =
        count_pixels(view->grabFramebuffer().convertToFormat(QImage::Format_RGB32));
    QVERIFY2(target_only.yellow >= 500 && target_only.tp == 0, qPrintable(describe(target_only)));
}

void TestView3d::errorSurfacesInTheirColours()
{
    SurfaceView* view = nullptr;
    const QImage image = renderSurfaces(synthetic_prediction(), synthetic_target(), &view);
    QVERIFY(!image.isNull() && view);
    PixelCounts counts = count_pixels(image);
    if (counts.tp < 100 || counts.fp < 100) {
        image.save(failure_dir() + QStringLiteral("/errors_3d.png"));
    }
    QVERIFY2(counts.tp >= 100 && counts.fp >= 100, qPrintable(describe(counts)));
    // The missed voxels lie on the far side (low W, the patient's left): turn round.
    view->scene().renderer()->GetActiveCamera()->Azimuth(180);
    view->requestRender();
    QCoreApplication::processEvents();
    const QImage back = view->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
    counts = count_pixels(back);
    if (counts.fn < 100) {
        back.save(failure_dir() + QStringLiteral("/errors_3d_back.png"));
    }
    QVERIFY2(counts.fn >= 100, qPrintable(describe(counts)));
    // The patches partition the hull (prediction | target), the pieces the target.
    const SurfaceMeshes& meshes = view->scene().meshes();
    QCOMPARE(meshes.true_positive->GetNumberOfPolys() + meshes.false_positive->GetNumberOfPolys() +
                 meshes.false_negative->GetNumberOfPolys(),
             meshes.hull->GetNumberOfPolys());
    vtkIdType pieces = 0;
    for (const auto& piece : meshes.target_pieces) {
        pieces += piece->GetNumberOfPolys();
    }
    QCOMPARE(pieces, meshes.target->GetNumberOfPolys());
    // The legend names what is drawn.
    view->scene().setDecorationsVisible(true);
    std::vector<std::string> names;
    for (const auto& [name, colour] : view->scene().legendEntries()) {
        names.push_back(name);
    }
    QCOMPARE(names,
             (std::vector<std::string>{"Target", "True positive", "False positive", "False negative"}));
    view->scene().setSurfaceStyle(SurfaceLayer::FalsePositive, SurfaceStyle{false, 1.0});
    QCOMPARE(view->scene().legendEntries().size(), std::size_t{3});
}

void TestView3d::closedSurfaceAtVolumeEdge()
{
    // A mask filling the whole grid: without padding its surface would be
    // open (no faces on the volume's sides); padded, it is closed.
    auto block = full_block("block");
    const PairView view = [&]() {
        SessionPresenter presenter;
        presenter.setSynchronous(true);
        presenter.setVolumes(target_as_prediction(*block, "block_pred"), full_block("block_target"));
        return presenter.pairView();
    }();
    const SurfaceMeshes meshes = build_surface_meshes(*target_as_prediction(*block, "block_pred"), *block,
                                                      view, SurfaceBuildOptions{});
    QVERIFY(meshes.target && meshes.target->GetNumberOfPolys() > 0);
    for (vtkPolyData* mesh : {meshes.target.GetPointer(), meshes.prediction.GetPointer()}) {
        vtkNew<vtkFeatureEdges> edges;
        edges->SetInputData(mesh);
        edges->BoundaryEdgesOn();
        edges->FeatureEdgesOff();
        edges->NonManifoldEdgesOff();
        edges->ManifoldEdgesOff();
        edges->Update();
        QCOMPARE(edges->GetOutput()->GetNumberOfLines(), vtkIdType{0});
    }
    // The surface reaches the grid's sides: its bounds span the 6 voxels (0 .. 5 along each axis).
    double bounds[6];
    meshes.target->GetBounds(bounds);
    QVERIFY2(bounds[0] < 0.5 && bounds[1] > 4.5,
             qPrintable(QStringLiteral("%1 %2").arg(bounds[0]).arg(bounds[1])));
}

void TestView3d::rasAndLpsMirrorIn3d()
{
    // The blob sits at high W. RAS (NIfTI): +W is the patient's right, which
    // the default front view shows on the screen's left. LPS (NRRD): +W is
    // the patient's left, on the screen's right.
    // The frame is the one the reader recorded (Geometry::frame), not a guess.
    Geometry geometry;
    geometry.origin = {10, 20, 30};
    geometry.frame = WorldFrame::LPS;
    const auto lps = ras_from_grid(geometry);
    QCOMPARE(lps[0], -1.0);
    QCOMPARE(lps[5], -1.0);
    QCOMPARE(lps[10], 1.0);
    QCOMPARE(lps[3], -10.0);
    QCOMPARE(lps[7], -20.0);
    QCOMPARE(lps[11], 30.0);

    const auto centre_x = [this](WorldFrame frame) {
        auto blob = side_blob("blob_target");
        blob->geometry().frame = frame;
        auto prediction = target_as_prediction(*blob, "blob_pred");
        prediction->geometry().frame = frame;
        const QImage image = renderSurfaces(prediction, blob);
        const PixelCounts counts = count_pixels(image);
        return counts.object > 0 ? counts.sum_x / counts.object / image.width() : 0.5;
    };
    const double ras = centre_x(WorldFrame::RAS);
    const double lps_x = centre_x(WorldFrame::LPS);
    QVERIFY2(ras < 0.45, qPrintable(QString::number(ras)));
    QVERIFY2(lps_x > 0.55, qPrintable(QString::number(lps_x)));
}

void TestView3d::distanceRangeDefaultsToP95()
{
    SurfaceView* view = nullptr;
    QVERIFY(!renderSurfaces(synthetic_prediction(), synthetic_target(), &view).isNull());
    view->setDistanceColouring(true);
    view->waitForSurfaces();
    const SurfaceMeshes& meshes = view->scene().meshes();
    QVERIFY(meshes.has_distances);
    // The 95th percentile of the point distances, computed here independently.
    auto* values = meshes.prediction->GetPointData()->GetScalars();
    std::vector<double> sorted;
    for (vtkIdType i = 0; i < values->GetNumberOfTuples(); ++i) {
        sorted.push_back(values->GetTuple1(i));
    }
    std::sort(sorted.begin(), sorted.end());
    const double p95 =
        sorted[static_cast<std::size_t>(std::ceil(0.95 * static_cast<double>(sorted.size() - 1)))];
    QVERIFY(std::abs(meshes.p95_distance - p95) < 1e-6);
    QCOMPARE(view->scene().distanceRangeTop(), std::max(p95, 1.0));
    view->scene().setDistanceRange(0.5);
    QCOMPARE(view->scene().distanceRangeTop(), 0.5);
    view->scene().setDistanceRange(std::nullopt);
    QCOMPARE(view->scene().distanceRangeTop(), std::max(p95, 1.0));
}

void TestView3d::clipAtCursorCutsAway()
{
    // Clipping at the crosshair's axial slice removes the part at higher D:
    // with the cursor at the ball's centre roughly half the surface goes, and
    // at the last slice nothing does.
    SurfaceView* view = nullptr;
    QVERIFY(!renderSurfaces(synthetic_prediction(), synthetic_target(), &view).isNull());
    const auto object_pixels = [view]() {
        view->requestRender();
        QCoreApplication::processEvents();
        const PixelCounts counts =
            count_pixels(view->grabFramebuffer().convertToFormat(QImage::Format_RGB32));
        return counts.tp + counts.fp + counts.fn;
    };
    const int whole = object_pixels();
    presenter_->setCursor({6, 0, 0});
    view->scene().setCursor(presenter_->cursor());
    view->scene().setClipAtCursor(true);
    const int clipped = object_pixels();
    QVERIFY2(clipped < 0.8 * whole && clipped > 0.2 * whole,
             qPrintable(QStringLiteral("%1 of %2").arg(clipped).arg(whole)));
    presenter_->setCursor({11, 0, 0});
    view->scene().setCursor(presenter_->cursor());
    const int at_end = object_pixels();
    QVERIFY2(std::abs(at_end - whole) <= whole / 50,
             qPrintable(QStringLiteral("%1 of %2").arg(at_end).arg(whole)));
    view->scene().setClipAtCursor(false);
    QCOMPARE(view->scene().clipAtCursor(), false);

    // The coronal and sagittal planes through the 3D tab's combo: at the
    // ball's centre about half goes, at the last row / column nothing, and
    // each plane cuts a different half (cutting along H keeps other pixels
    // than cutting along W).
    SurfaceControls controls(view);
    // Seen along D (from above), so that a cut along H or W changes the
    // silhouette (from the default camera a cut along the view direction
    // would only remove what lies behind).
    vtkCamera* camera = view->scene().renderer()->GetActiveCamera();
    double focal[3];
    camera->GetFocalPoint(focal);
    const double distance = camera->GetDistance();
    camera->SetPosition(focal[0], focal[1], focal[2] + distance);
    camera->SetViewUp(0, 1, 0);
    const int from_above = object_pixels();
    const auto clipped_image = [&](int plane, const Voxel& cursor) {
        presenter_->setCursor(cursor);
        view->scene().setCursor(presenter_->cursor());
        controls.clipCombo()->setCurrentIndex(plane);
        view->requestRender();
        QCoreApplication::processEvents();
        return view->grabFramebuffer().convertToFormat(QImage::Format_RGB32);
    };
    const Shape shape = synthetic_shape();
    const Voxel centre{6, 8, 9}; // between the target's (w 8) and the prediction's (w 10) centres
    QImage cut[2];
    for (int plane : {2, 3}) {
        QCOMPARE(view->scene().clipPlane(), std::optional<ViewAxis>{});
        const QImage image = clipped_image(plane, centre);
        QCOMPARE(view->scene().clipPlane(), plane == 2 ? ViewAxis::Coronal : ViewAxis::Sagittal);
        const PixelCounts counts = count_pixels(image);
        const int half = counts.tp + counts.fp + counts.fn;
        QVERIFY2(half < 0.8 * from_above && half > 0.2 * from_above,
                 qPrintable(QStringLiteral("plane %1: %2 of %3").arg(plane).arg(half).arg(from_above)));
        cut[plane - 2] = image;
        const Voxel last{centre.d, plane == 2 ? shape.h - 1 : centre.h, plane == 3 ? shape.w - 1 : centre.w};
        const PixelCounts end = count_pixels(clipped_image(plane, last));
        QVERIFY2(std::abs(end.tp + end.fp + end.fn - from_above) <= from_above / 50,
                 qPrintable(QStringLiteral("plane %1 at its end: %2 of %3")
                                .arg(plane)
                                .arg(end.tp + end.fp + end.fn)
                                .arg(from_above)));
        controls.clipCombo()->setCurrentIndex(0);
    }
    int differing = 0;
    for (int y = 0; y < cut[0].height(); ++y) {
        for (int x = 0; x < cut[0].width(); ++x) {
            differing += cut[0].pixel(x, y) != cut[1].pixel(x, y);
        }
    }
    QVERIFY2(differing > from_above / 10, qPrintable(QString::number(differing)));
}

void TestView3d::comparisonPaletteIsItsOwn()
{
    const Rgb reserved[] = {kTruePositiveColour, kFalsePositiveColour, kFalseNegativeColour,
                            kTargetColour,       kPredictionColour,    kOnlyARightColour,
                            kOnlyBRightColour,   kBothWrongColour};
    for (int i = 0; i < 7; ++i) {
        const Rgb c = comparison_colour(i);
        for (const Rgb& r : reserved) {
            const int distance = std::abs(c.r - r.r) + std::abs(c.g - r.g) + std::abs(c.b - r.b);
            QVERIFY2(distance >= 60,
                     qPrintable(QStringLiteral("entry %1 too close to a reserved colour").arg(i)));
        }
        for (int j = 0; j < i; ++j) {
            QVERIFY(!(comparison_colour(j) == c));
        }
    }
}

void TestView3d::comparisonLegendNamesPredictions()
{
    openWindow(synthetic_prediction(), synthetic_target(), QSize(1300, 900));
    ComparisonPresenter* comparison = window_->comparison();
    comparison->addPredictionVolume(ball_prediction("wider", 9.0, 5.5), QStringLiteral("wider"));
    QTRY_VERIFY(!comparison->busy());
    comparison->setShownIn3d(1, true);
    window_->surfaceView()->waitForSurfaces();
    QTRY_COMPARE(window_->surfaceView()->scene().comparisonSurfaceCount(), 2);
    const auto entries = window_->surfaceView()->scene().legendEntries();
    QCOMPARE(entries.size(), std::size_t{3}); // the target and the two predictions
    QCOMPARE(entries[0].first, std::string("Target"));
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(QString::fromStdString(entries[static_cast<std::size_t>(i + 1)].first), comparison->name(i));
        QVERIFY(entries[static_cast<std::size_t>(i + 1)].second == comparison_colour(i));
    }
}

void TestView3d::chartMarksInfiniteAndUndefined()
{
    // Target: the synthetic ball (slices d = 2..10). Prediction: the same
    // without slice 4, so hd is infinite at d = 4 (one mask empty) and
    // undefined at d = 0, 1, 11 (both empty).
    auto target = synthetic_target();
    auto prediction = target_as_prediction(*target, "holed");
    const Shape s = synthetic_shape();
    auto* values = reinterpret_cast<float*>(prediction->data());
    for (std::int64_t i = 4 * s.h * s.w; i < 5 * s.h * s.w; ++i) {
        values[i] = 0;
    }
    presenter_ = std::make_unique<SessionPresenter>();
    presenter_->setSynchronous(true);
    presenter_->setVolumes(prediction, target);
    presenter_->waitForDistances();
    auto* chart = new SliceChart(presenter_.get());
    host_.reset(chart);
    chart->resize(500, 300);
    chart->show();
    QVERIFY(QTest::qWaitForWindowExposed(chart));
    presenter_->setChartMetric(Metric::Hd);
    presenter_->waitForDistances();
    QTRY_VERIFY(!presenter_->isPending(Metric::Hd));
    const std::vector<double> series = presenter_->chartSeries(Metric::Hd);
    QCOMPARE(static_cast<std::int64_t>(series.size()), s.d);
    QVERIFY(std::isinf(series[4]));
    QVERIFY(std::isnan(series[0]) && std::isnan(series[1]) && std::isnan(series[11]));
    const QList<QPointF> infinite = chart->infinitePoints();
    QCOMPARE(infinite.size(), 1);
    QCOMPARE(infinite[0].x(), 4.0);
    QCOMPARE(infinite[0].y(), chart->axisMax()); // the worst edge: the top for a distance
    const QList<QPointF> undefined = chart->undefinedPoints();
    QCOMPARE(undefined.size(), 3);
    for (const QPointF& point : undefined) {
        QCOMPARE(point.y(), chart->axisMin());
    }
    // The line holds only the finite values, and the axis starts at 0 on a round step.
    QCOMPARE(chart->pointCount(), static_cast<int>(s.d) - 4);
    QCOMPARE(chart->axisMin(), 0.0);
    const double step = chart->tickInterval();
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    QVERIFY(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 || std::abs(mantissa - 5) < 1e-9);
    // The current-slice marker of the infinite slice is drawn at the top, not the bottom.
    presenter_->setCurrentSlice(4);
    const auto top = chart->pointPosition(4);
    const auto finite = chart->pointPosition(6);
    QVERIFY(top && finite);
    QVERIFY2(top->y() < finite->y(), qPrintable(QStringLiteral("%1 %2").arg(top->y()).arg(finite->y())));
    QCOMPARE(chart->markerSlice(), 4);
}

void TestView3d::chartDiceAxisIsUnitInterval()
{
    presenter_ = std::make_unique<SessionPresenter>();
    presenter_->setSynchronous(true);
    presenter_->setVolumes(synthetic_prediction(), synthetic_target());
    auto* chart = new SliceChart(presenter_.get());
    host_.reset(chart);
    presenter_->setChartMetric(Metric::Dice);
    QCOMPARE(chart->axisMin(), 0.0);
    QCOMPARE(chart->axisMax(), 1.0);
    QVERIFY(std::abs(chart->tickInterval() - 0.2) < 1e-12);
}

void TestView3d::perSampleChartFor2d()
{
    presenter_ = std::make_unique<SessionPresenter>();
    presenter_->setSynchronous(true);
    presenter_->setVolumes(seed_2d_prediction(), seed_2d_target());
    auto* chart = new SliceChart(presenter_.get());
    host_.reset(chart);
    chart->resize(500, 300);
    chart->show();
    QVERIFY(QTest::qWaitForWindowExposed(chart));
    presenter_->setChartMetric(Metric::Dice);
    QVERIFY(chart->perSampleMode());
    QCOMPARE(chart->pointCount(), 2);
    // The points are the engine's per-sample values.
    const Evaluation expected = engine_evaluation(*presenter_->prediction(), *presenter_->target());
    const std::size_t dice = metric_at(expected, Metric::Dice);
    const QList<QPointF> points = chart->curvePoints(0);
    QCOMPARE(points.size(), 2);
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(points[i].x(), static_cast<double>(i));
        QVERIFY(std::abs(points[i].y() - expected.samples[static_cast<std::size_t>(i)].values[dice]) < 1e-12);
    }
    QCOMPARE(chart->markerSlice(), std::int64_t{0});
    // A click on the second point chooses that sample.
    const auto position = chart->pointPosition(1);
    QVERIFY(position);
    QTest::mouseClick(chart->viewport(), Qt::LeftButton, {}, position->toPoint());
    QCOMPARE(presenter_->sample(), std::int64_t{1});
    QCOMPARE(chart->markerSlice(), std::int64_t{1});
}

void TestView3d::openWindow(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target, QSize size)
{
    window_ = std::make_unique<MainWindow>();
    window_->resize(size);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
    QSignalSpy spy(window_->presenter(), &SessionPresenter::datasetChanged);
    window_->presenter()->setVolumes(std::move(prediction), std::move(target));
    QVERIFY(spy.wait(10000));
    QTRY_VERIFY(!window_->presenter()->busy());
}

void TestView3d::typedThreshold()
{
    openWindow(synthetic_prediction(), synthetic_target(), QSize(1300, 900));
    QDoubleSpinBox* spin = window_->thresholdSpin();
    QVERIFY(spin);
    spin->setFocus();
    spin->selectAll();
    QTest::keyClicks(spin, QStringLiteral("0.375"));
    QTest::keyClick(spin, Qt::Key_Return);
    QTRY_VERIFY(!window_->presenter()->busy());
    QCOMPARE(window_->presenter()->settings().threshold, 0.375);
    QCOMPARE(window_->thresholdSlider()->value(), 38); // the slider follows, rounded
    EvaluationSettings settings;
    settings.threshold = 0.375;
    const Evaluation expected =
        engine_evaluation(*window_->presenter()->prediction(), *window_->presenter()->target(), settings);
    const std::size_t dice = metric_at(expected, Metric::Dice);
    QTRY_VERIFY(std::abs(window_->presenter()->sampleValue(Metric::Dice) - expected.samples[0].values[dice]) <
                1e-12);
    // Dragging the slider updates the typed value.
    window_->thresholdSlider()->setValue(70);
    QCOMPARE(spin->value(), 0.7);
    QTRY_COMPARE(window_->presenter()->settings().threshold, 0.7);
}

void TestView3d::sampleStepping()
{
    openWindow(seed_2d_prediction(), seed_2d_target(), QSize(1300, 900));
    auto* next = window_->findChild<QAction*>(QStringLiteral("nextSampleAction"));
    auto* previous = window_->findChild<QAction*>(QStringLiteral("previousSampleAction"));
    QVERIFY(next && previous);
    QVERIFY(!next->shortcut().isEmpty() && !previous->shortcut().isEmpty());
    QCOMPARE(window_->presenter()->sample(), std::int64_t{0});
    next->trigger();
    QCOMPARE(window_->presenter()->sample(), std::int64_t{1});
    next->trigger(); // clamped at the last sample
    QCOMPARE(window_->presenter()->sample(), std::int64_t{1});
    previous->trigger();
    QCOMPARE(window_->presenter()->sample(), std::int64_t{0});
    // The keys (a key press needs an active window, which Xvfb without a
    // window manager does not give): Ctrl+] and Ctrl+[, in the window's menus.
    QCOMPARE(next->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_BracketRight));
    QCOMPARE(previous->shortcut(), QKeySequence(Qt::CTRL | Qt::Key_BracketLeft));
    QCOMPARE(next->shortcutContext(), Qt::WindowShortcut);
}

void TestView3d::recentPairsNamedByFolder()
{
    // Two cases whose files share names ("case_01 + case_01" before): the
    // menu names their folders, the tooltip gives the full paths.
    QSettings settings;
    const QVariant saved = settings.value(QStringLiteral("recentPairs"));
    settings.setValue(QStringLiteral("recentPairs"),
                      QStringList{QStringLiteral("/data/case_01/pred.nii.gz\n/data/case_01/target.nii.gz"),
                                  QStringLiteral("/runs/a/case.nii.gz\n/labels/b/case.nii.gz")});
    MainWindow window;
    QMenu* recent = nullptr;
    for (QMenu* menu : window.findChildren<QMenu*>()) {
        if (menu->title() == QStringLiteral("Open Recent")) {
            recent = menu;
        }
    }
    QVERIFY(recent);
    const QList<QAction*> actions = recent->actions();
    QCOMPARE(actions.size(), 2);
    QCOMPARE(actions[0]->text(), QStringLiteral("case_01: pred.nii.gz + target.nii.gz"));
    QCOMPARE(actions[1]->text(), QStringLiteral("a/case.nii.gz + b/case.nii.gz"));
    QCOMPARE(actions[1]->toolTip(), QStringLiteral("/runs/a/case.nii.gz\n/labels/b/case.nii.gz"));
    if (saved.isValid()) {
        settings.setValue(QStringLiteral("recentPairs"), saved);
    } else {
        settings.remove(QStringLiteral("recentPairs"));
    }
}

void TestView3d::csvCarriesDistancesAndSettings()
{
    openWindow(synthetic_prediction(), synthetic_target(), QSize(1300, 900));
    SessionPresenter* presenter = window_->presenter();
    presenter->waitForDistances();
    QTRY_VERIFY(presenter->distanceState() == DistanceState::Ready);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("out.csv"));
    QVERIFY(window_->exportCsv(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QStringList lines = QString::fromUtf8(file.readAll()).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(lines.size() > 2);
    const QStringList header = cells(lines[0]);
    // The engine's evaluations of the same pair: the pass's metrics and the distances.
    const Evaluation main = engine_evaluation(*presenter->prediction(), *presenter->target());
    const Evaluation distances =
        engine_distance_evaluation(*presenter->prediction(), *presenter->target(), presenter->nsdTolerance());
    const QStringList batch = cells(lines[1]); // sample, label, slice empty: the batch row
    QCOMPARE(batch.size(), header.size());
    QCOMPARE(batch[0], QString());
    const auto check = [&](const Evaluation& evaluation, Metric metric) {
        const QString name = QString::fromStdString(std::string(metric_name(metric)));
        const auto column = header.indexOf(name);
        QVERIFY2(column >= 0, qPrintable(name + QStringLiteral(" missing")));
        const double expected = evaluation.batch[metric_at(evaluation, metric)];
        if (std::isnan(expected)) {
            QVERIFY2(batch[column].isEmpty() || batch[column] == QStringLiteral("nan"), qPrintable(name));
            return;
        }
        bool ok = false;
        const double value = batch[column].toDouble(&ok);
        QVERIFY2(ok, qPrintable(name + QStringLiteral(": ") + batch[column]));
        QVERIFY2(std::abs(value - expected) <= 1e-9 * std::max(1.0, std::abs(expected)),
                 qPrintable(QStringLiteral("%1 %2 vs %3").arg(name).arg(value).arg(expected)));
    };
    for (const Metric metric : main.metrics) {
        check(main, metric);
    }
    for (const Metric metric : {Metric::Hd, Metric::Hd95, Metric::Assd, Metric::Nsd}) {
        check(distances, metric);
    }
    // The settings, on every row.
    const auto setting = [&](const QString& name) {
        const auto column = header.indexOf(name);
        return column >= 0 ? batch[column] : QStringLiteral("<missing %1>").arg(name);
    };
    QCOMPARE(setting(QStringLiteral("threshold")), QStringLiteral("0.5"));
    QCOMPARE(setting(QStringLiteral("activation")), QStringLiteral("none"));
    QCOMPARE(setting(QStringLiteral("empty")), QStringLiteral("nan"));
    QCOMPARE(setting(QStringLiteral("spacing_x_mm")), QStringLiteral("0.8"));
    QCOMPARE(setting(QStringLiteral("spacing_z_mm")), QStringLiteral("2.5"));
    QVERIFY(setting(QStringLiteral("masklens_version")).startsWith(QStringLiteral("0.")));
    for (const QString& line : lines) {
        QCOMPARE(cells(line).size(), header.size());
    }
}

void TestView3d::noWarningsOnThresholdChange()
{
    openWindow(synthetic_prediction(), synthetic_target(), QSize(1300, 900));
    window_->surfaceView()->waitForSurfaces();
    static QStringList messages;
    messages.clear();
    const QtMessageHandler previous =
        qInstallMessageHandler([](QtMsgType type, const QMessageLogContext&, const QString& text) {
            if (type != QtDebugMsg && type != QtInfoMsg) {
                messages << text;
            }
        });
    vtkNew<vtkStringOutputWindow> vtk_output;
    vtkOutputWindow* previous_vtk = vtkOutputWindow::GetInstance();
    previous_vtk->Register(nullptr);
    vtkOutputWindow::SetInstance(vtk_output);
    // Thresholds that empty the FP patch, then the whole prediction, then back.
    for (const int value : {97, 100, 5, 50}) {
        window_->thresholdSlider()->setValue(value);
        QTRY_VERIFY(!window_->presenter()->busy());
        window_->surfaceView()->waitForSurfaces();
        window_->surfaceView()->requestRender();
        QCoreApplication::processEvents();
    }
    vtkOutputWindow::SetInstance(previous_vtk);
    previous_vtk->UnRegister(nullptr);
    qInstallMessageHandler(previous);
    QVERIFY2(messages.isEmpty(), qPrintable(messages.join(QLatin1Char('\n'))));
    const std::string vtk_text = vtk_output->GetOutput();
    QVERIFY2(vtk_text.empty(), vtk_text.c_str());
}

void TestView3d::layoutNothingCut()
{
    for (const QSize size : {QSize(1280, 800), QSize(1400, 925)}) {
        openWindow(synthetic_prediction(), synthetic_target(), size);
        window_->presenter()->waitForDistances();
        QTRY_VERIFY(window_->isSettled());
        QCoreApplication::processEvents();
        QStringList problems;
        const auto visible = [this](const QWidget* widget) {
            return widget->isVisibleTo(window_.get()) && widget->width() > 0;
        };
        for (QComboBox* combo : window_->findChildren<QComboBox*>()) {
            if (!visible(combo)) {
                continue;
            }
            const QSize hint = combo->sizeHint();
            const int text = combo->fontMetrics().horizontalAdvance(combo->currentText());
            if (combo->height() < combo->minimumSizeHint().height() || combo->width() < text + 20) {
                problems << QStringLiteral("combo %1 %2x%3 (hint %4x%5)")
                                .arg(combo->objectName())
                                .arg(combo->width())
                                .arg(combo->height())
                                .arg(hint.width())
                                .arg(hint.height());
            }
        }
        for (QAbstractButton* button : window_->findChildren<QAbstractButton*>()) {
            if (!visible(button) || button->text().isEmpty() || button->inherits("QToolButton")) {
                continue;
            }
            const QSize hint = button->sizeHint();
            if (button->width() < hint.width() || button->height() < button->minimumSizeHint().height()) {
                problems << QStringLiteral("button '%1' %2x%3 (hint %4x%5)")
                                .arg(button->text())
                                .arg(button->width())
                                .arg(button->height())
                                .arg(hint.width())
                                .arg(hint.height());
            }
        }
        for (QLabel* label : window_->findChildren<QLabel*>()) {
            if (!visible(label) || label->text().isEmpty() || !label->pixmap().isNull()) {
                continue;
            }
            const QSize hint = label->sizeHint();
            const bool wraps = label->wordWrap();
            if ((!wraps && label->width() < hint.width()) ||
                label->height() < label->minimumSizeHint().height()) {
                problems << QStringLiteral("label '%1' %2x%3 (hint %4x%5)")
                                .arg(label->text().left(40))
                                .arg(label->width())
                                .arg(label->height())
                                .arg(hint.width())
                                .arg(hint.height());
            }
        }
        for (QTableView* table : window_->findChildren<QTableView*>()) {
            if (!visible(table) || !table->model()) {
                continue;
            }
            QHeaderView* header = table->horizontalHeader();
            for (int column = 0; column < table->model()->columnCount(); ++column) {
                if (header->isSectionHidden(column)) {
                    continue;
                }
                const QString text = table->model()->headerData(column, Qt::Horizontal).toString();
                const int needed = header->fontMetrics().horizontalAdvance(text) + 8;
                if (header->sectionSize(column) < needed) {
                    problems << QStringLiteral("header '%1' %2 < %3")
                                    .arg(text)
                                    .arg(header->sectionSize(column))
                                    .arg(needed);
                }
            }
        }
        if (!problems.isEmpty()) {
            window_->grab().save(failure_dir() +
                                 QStringLiteral("/layout_%1x%2.png").arg(size.width()).arg(size.height()));
        }
        QVERIFY2(problems.isEmpty(),
                 qPrintable(QStringLiteral("%1x%2: ").arg(size.width()).arg(size.height()) +
                            problems.join(QStringLiteral("; "))));
        window_.reset();
    }
}

QTEST_MAIN(TestView3d)
#include "test_view3d.moc"
