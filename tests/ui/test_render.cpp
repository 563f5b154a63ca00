// Rendering tests through grabFramebuffer(): pixel probes (known TP / FP / FN
// voxels drawn in their colours), physical spacing, the 3D surfaces, and a
// baseline image compared with a tolerance (a failing run saves its image).
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <vtkDataArray.h>
#include <vtkPointData.h>
#include <vtkProp.h>
#include <vtkPropCollection.h>
#include <vtkRenderer.h>

#include <QApplication>
#include <QDir>
#include <QHBoxLayout>
#include <QImage>
#include <QOffscreenSurface>
#include <QOpenGLContext>
#include <QOpenGLFunctions>
#include <QStandardPaths>
#include <QtTest>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

QString failure_dir()
{
    const QString dir = QStringLiteral(MASKLENS_BINARY_DIR "/ui_render_failures");
    QDir().mkpath(dir);
    return dir;
}

bool near(QRgb pixel, const Rgb& colour, int tolerance = 12)
{
    return std::abs(qRed(pixel) - colour.r) <= tolerance && std::abs(qGreen(pixel) - colour.g) <= tolerance &&
           std::abs(qBlue(pixel) - colour.b) <= tolerance;
}

QString describe(QRgb pixel)
{
    return QStringLiteral("rgb(%1, %2, %3)").arg(qRed(pixel)).arg(qGreen(pixel)).arg(qBlue(pixel));
}

} // namespace

class TestRender : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void errorColoursAtKnownVoxels();
    void spacingRespected();
    void surfacesRendered();
    void distanceColouredSurface();
    void baselineAxial();
    void differenceColoursAtKnownVoxels();
    void presentationAsAsked();
    void emptyViewShowsOnlyBackground();
    void frameSignalFollowsRender();

private:
    QImage grab(VtkHostWidget* view);
    QRgb probe(SliceView* view, const QImage& image, const Voxel& voxel);
    std::unique_ptr<SessionPresenter> presenter_;
    std::unique_ptr<QWidget> host_;
};

void TestRender::init()
{
    presenter_ = std::make_unique<SessionPresenter>();
    presenter_->setSynchronous(true);
    presenter_->setVolumes(synthetic_prediction(), synthetic_target());
    // Crosshair away from the probed voxels (row h = 1, column w = 1).
    presenter_->setCursor({6, 1, 1});
}

void TestRender::cleanup()
{
    host_.reset();
    presenter_.reset();
}

QImage TestRender::grab(VtkHostWidget* view)
{
    view->requestRender();
    QCoreApplication::processEvents();
    return view->grabFramebuffer();
}

QRgb TestRender::probe(SliceView* view, const QImage& image, const Voxel& voxel)
{
    const QPointF point = view->voxelToWidget(voxel) * view->devicePixelRatioF();
    return image.pixel(static_cast<int>(std::lround(point.x())), static_cast<int>(std::lround(point.y())));
}

void TestRender::errorColoursAtKnownVoxels()
{
    auto* view = new SliceView(presenter_.get(), ViewAxis::Axial);
    host_.reset(view);
    view->resize(400, 400);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    const QImage image = grab(view);
    QVERIFY(!image.isNull());
    QVERIFY(view->renderCount() > 0);
    const QRgb tp = probe(view, image, {6, 8, 8});
    const QRgb fp = probe(view, image, {6, 8, 13});
    const QRgb fn = probe(view, image, {6, 8, 4});
    const bool ok =
        near(tp, kTruePositiveColour) && near(fp, kFalsePositiveColour) && near(fn, kFalseNegativeColour);
    if (!ok) {
        image.save(failure_dir() + QStringLiteral("/error_colours.png"));
    }
    QVERIFY2(near(tp, kTruePositiveColour), qPrintable(QStringLiteral("TP pixel ") + describe(tp)));
    QVERIFY2(near(fp, kFalsePositiveColour), qPrintable(QStringLiteral("FP pixel ") + describe(fp)));
    QVERIFY2(near(fn, kFalseNegativeColour), qPrintable(QStringLiteral("FN pixel ") + describe(fn)));

    // Clicking a voxel moves the crosshair there, and the FP pixel stays orange.
    const QPoint click = view->voxelToWidget({6, 10, 6}).toPoint();
    QTest::mouseClick(view, Qt::LeftButton, {}, click);
    QCOMPARE(presenter_->cursor(), (Voxel{6, 10, 6}));
    // A higher threshold turns the soft FP voxel (p = 0.95) into a TN.
    presenter_->setThreshold(0.97);
    const QImage after = grab(view);
    QVERIFY2(!near(probe(view, after, {6, 8, 13}), kFalsePositiveColour),
             qPrintable(describe(probe(view, after, {6, 8, 13}))));
}

void TestRender::spacingRespected()
{
    auto* view = new SliceView(presenter_.get(), ViewAxis::Coronal);
    host_.reset(view);
    view->resize(400, 400);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    grab(view);
    // One step in D (2.5 mm) is 2.5 / 0.8 times one step in W (0.8 mm) on screen.
    const QPointF a = view->voxelToWidget({2, 8, 4});
    const QPointF b = view->voxelToWidget({3, 8, 4});
    const QPointF c = view->voxelToWidget({2, 8, 5});
    const double vertical = std::abs(b.y() - a.y());
    const double horizontal = std::abs(c.x() - a.x());
    QVERIFY(horizontal > 0);
    QVERIFY2(std::abs(vertical / horizontal - 2.5 / 0.8) < 0.05,
             qPrintable(QStringLiteral("%1 / %2").arg(vertical).arg(horizontal)));
    // Coronal: D grows upwards.
    QVERIFY(b.y() < a.y());
}

void TestRender::surfacesRendered()
{
    auto* view = new SurfaceView(presenter_.get());
    host_.reset(view);
    view->resize(400, 400);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    const auto triangles = view->scene().triangleCounts();
    QVERIFY(triangles[0] > 0); // target
    QVERIFY(triangles[1] > 0); // prediction
    QVERIFY(triangles[2] > 0); // FP + FN
    const QImage image = grab(view);
    int coloured = 0;
    for (int y = 0; y < image.height(); y += 4) {
        for (int x = 0; x < image.width(); x += 4) {
            const QRgb p = image.pixel(x, y);
            if (std::abs(qRed(p) - 20) > 20 || std::abs(qGreen(p) - 20) > 20 ||
                std::abs(qBlue(p) - 23) > 20) {
                ++coloured;
            }
        }
    }
    if (coloured < 50) {
        image.save(failure_dir() + QStringLiteral("/surfaces.png"));
    }
    QVERIFY2(coloured >= 50, qPrintable(QString::number(coloured)));
}

void TestRender::distanceColouredSurface()
{
    auto* view = new SurfaceView(presenter_.get());
    host_.reset(view);
    view->resize(400, 400);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    const QImage plain = grab(view);
    QVERIFY(!view->scene().distanceColourShown());

    view->setDistanceColouring(true);
    const SurfaceMeshes& meshes = view->scene().meshes();
    QVERIFY(meshes.has_distances);
    QVERIFY(view->scene().distanceColourShown());
    // Every point of the prediction surface has a distance in [0, max]; the
    // balls are 2 voxels (1.6 mm) apart along W, so the largest is > 0.
    auto* values = meshes.prediction->GetPointData()->GetScalars();
    QVERIFY(values && values->GetNumberOfTuples() == meshes.prediction->GetNumberOfPoints());
    QVERIFY(meshes.max_distance > 0);
    double range[2];
    values->GetRange(range);
    QVERIFY(range[0] >= 0 && range[1] <= meshes.max_distance + 1e-6);

    const QImage coloured = grab(view);
    QCOMPARE(coloured.size(), plain.size());
    long long differing = 0;
    for (int y = 0; y < plain.height(); y += 2) {
        for (int x = 0; x < plain.width(); x += 2) {
            const QRgb a = plain.pixel(x, y);
            const QRgb b = coloured.pixel(x, y);
            if (std::abs(qRed(a) - qRed(b)) + std::abs(qGreen(a) - qGreen(b)) +
                    std::abs(qBlue(a) - qBlue(b)) >
                60) {
                ++differing;
            }
        }
    }
    if (differing < 200) {
        coloured.save(failure_dir() + QStringLiteral("/surfaces_distance.png"));
    }
    QVERIFY2(differing >= 200, qPrintable(QString::number(differing)));
}

void TestRender::baselineAxial()
{
    auto* view = new SliceView(presenter_.get(), ViewAxis::Axial);
    host_.reset(view);
    view->resize(320, 320);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    QImage image = grab(view).convertToFormat(QImage::Format_RGB32);
    const QString baseline_path = QStringLiteral(MASKLENS_TEST_DATA "/ui/axial_errors.png");
    QImage baseline(baseline_path);
    if (qEnvironmentVariableIsSet("MASKLENS_UPDATE_BASELINES")) {
        QVERIFY(image.save(baseline_path));
        QSKIP("baseline written");
    }
    QVERIFY2(!baseline.isNull(), qPrintable(baseline_path + QStringLiteral(" is missing")));
    baseline = baseline.convertToFormat(QImage::Format_RGB32);
    if (image.size() != baseline.size()) {
        image.save(failure_dir() + QStringLiteral("/axial_errors.png"));
        QFAIL(qPrintable(QStringLiteral("size %1x%2, baseline %3x%4")
                             .arg(image.width())
                             .arg(image.height())
                             .arg(baseline.width())
                             .arg(baseline.height())));
    }
    // Tolerance: at most 1% of pixels may differ by more than 40 in a channel.
    long long differing = 0;
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            const QRgb a = image.pixel(x, y);
            const QRgb b = baseline.pixel(x, y);
            if (std::abs(qRed(a) - qRed(b)) > 40 || std::abs(qGreen(a) - qGreen(b)) > 40 ||
                std::abs(qBlue(a) - qBlue(b)) > 40) {
                ++differing;
            }
        }
    }
    const double fraction = static_cast<double>(differing) / (image.width() * image.height());
    if (fraction > 0.01) {
        image.save(failure_dir() + QStringLiteral("/axial_errors.png"));
    }
    QVERIFY2(fraction <= 0.01, qPrintable(QStringLiteral("%1% of pixels differ; image saved in %2")
                                              .arg(fraction * 100)
                                              .arg(failure_dir())));
}

void TestRender::differenceColoursAtKnownVoxels()
{
    // A: the synthetic prediction (ball at w = 10, radius 4.5); B: a smaller
    // ball at w = 10 (radius 3.5); target: ball at w = 8. On row (d 6, h 8):
    //   w = 6:  target, A yes, B no   -> only A right (#0072B2)
    //   w = 14: no target, A yes, B no -> only B right (#E69F00)
    //   w = 13: no target, A and B yes -> both wrong (#CC79A7)
    //   w = 8:  target, A and B yes    -> both right (uncoloured)
    ComparisonPresenter comparison(presenter_.get());
    comparison.addPredictionVolume(ball_prediction("smaller", 10, 3.5), QStringLiteral("smaller"));
    QCOMPARE(comparison.count(), 2);
    const PairView view = comparison.pairView(0);
    QCOMPARE(classify_difference(*comparison.prediction(0), *comparison.prediction(1), *presenter_->target(),
                                 view, view, {6, 8, 6}),
             DifferenceClass::OnlyARight);

    auto* host = new QWidget;
    host_.reset(host);
    auto* layout = new QHBoxLayout(host);
    auto* difference = new SliceView(presenter_.get(), ViewAxis::Axial);
    difference->bindComparison(&comparison, SliceView::kDifference);
    auto* session_view = new SliceView(presenter_.get(), ViewAxis::Axial);
    session_view->bindComparison(&comparison, SliceView::kSession);
    layout->addWidget(difference);
    layout->addWidget(session_view);
    host->resize(820, 420);
    host->show();
    QVERIFY(QTest::qWaitForWindowExposed(host));

    // Difference mode off: the session's view shows its TP colour, the difference view nothing.
    QImage plain = grab(session_view);
    QVERIFY2(near(probe(session_view, plain, {6, 8, 8}), kTruePositiveColour),
             qPrintable(describe(probe(session_view, plain, {6, 8, 8}))));
    QVERIFY(!difference->scene().hasImage());

    comparison.setDifferenceMode(true);
    QVERIFY(difference->showsDifference());
    QVERIFY(session_view->showsDifference());
    for (SliceView* shown : {difference, session_view}) {
        const QImage image = grab(shown);
        const QRgb only_a = probe(shown, image, {6, 8, 6});
        const QRgb only_b = probe(shown, image, {6, 8, 14});
        const QRgb both_wrong = probe(shown, image, {6, 8, 13});
        const QRgb both_right = probe(shown, image, {6, 8, 8});
        const bool ok = near(only_a, kOnlyARightColour) && near(only_b, kOnlyBRightColour) &&
                        near(both_wrong, kBothWrongColour) && near(both_right, Rgb{0, 0, 0});
        if (!ok) {
            image.save(failure_dir() + QStringLiteral("/difference.png"));
        }
        QVERIFY2(near(only_a, kOnlyARightColour), qPrintable(QStringLiteral("only A ") + describe(only_a)));
        QVERIFY2(near(only_b, kOnlyBRightColour), qPrintable(QStringLiteral("only B ") + describe(only_b)));
        QVERIFY2(near(both_wrong, kBothWrongColour),
                 qPrintable(QStringLiteral("both wrong ") + describe(both_wrong)));
        QVERIFY2(near(both_right, Rgb{0, 0, 0}),
                 qPrintable(QStringLiteral("both right ") + describe(both_right)));
    }
    // Swapping A and B swaps the two colours.
    comparison.setPair(1, 0);
    const QImage swapped = grab(difference);
    QVERIFY2(near(probe(difference, swapped, {6, 8, 6}), kOnlyBRightColour),
             qPrintable(describe(probe(difference, swapped, {6, 8, 6}))));
    QVERIFY2(near(probe(difference, swapped, {6, 8, 14}), kOnlyARightColour),
             qPrintable(describe(probe(difference, swapped, {6, 8, 14}))));
    host_.reset(); // the views go before the comparison presenter
}

// MASKLENS_VIEW_PRESENTATION forces the mode (ctest runs this file once with
// "composited"); unset, Xvfb's llvmpipe must give Readback.
void TestRender::presentationAsAsked()
{
    const QByteArray forced = qgetenv("MASKLENS_VIEW_PRESENTATION");
    const auto chosen = VtkHostWidget::presentation();
    if (forced == "composited") {
        QCOMPARE(chosen, VtkHostWidget::Presentation::Composited);
    } else if (forced == "readback") {
        QCOMPARE(chosen, VtkHostWidget::Presentation::Readback);
    } else {
        // What the GL implementation calls itself, asked independently.
        QOpenGLContext context;
        QOffscreenSurface surface;
        surface.create();
        QVERIFY(context.create() && context.makeCurrent(&surface));
        const QByteArray renderer =
            QByteArray(reinterpret_cast<const char*>(context.functions()->glGetString(GL_RENDERER)));
        context.doneCurrent();
        if (!renderer.contains("llvmpipe")) {
            QSKIP(qPrintable("not llvmpipe (" + renderer + "): the auto choice is checked under Xvfb"));
        }
        QCOMPARE(chosen, VtkHostWidget::Presentation::Readback);
    }
}

// Before any data a slice view draws only its background: the one-pixel
// image that compiles the image shaders (SliceScene warm-up) is invisible,
// and it is gone from the scene after that first frame.
void TestRender::emptyViewShowsOnlyBackground()
{
    SessionPresenter empty;
    auto* view = new SliceView(&empty, ViewAxis::Axial);
    host_.reset(view);
    view->resize(200, 160);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    const QImage image = grab(view);
    QVERIFY(!image.isNull());
    const Rgb background{20, 20, 23}; // SliceScene's 0.08, 0.08, 0.09
    for (int y = 0; y < image.height(); ++y) {
        for (int x = 0; x < image.width(); ++x) {
            if (!near(image.pixel(x, y), background)) {
                image.save(failure_dir() + QStringLiteral("/empty_view.png"));
                QFAIL(qPrintable(QStringLiteral("pixel (%1, %2) is ").arg(x).arg(y) +
                                 describe(image.pixel(x, y))));
            }
        }
    }
    int visible_props = 0;
    vtkPropCollection* props = view->scene().renderer()->GetViewProps();
    props->InitTraversal();
    while (vtkProp* prop = props->GetNextProp()) {
        visible_props += prop->GetVisibility();
    }
    QCOMPARE(visible_props, 0);
}

// frameSwapped follows every render request, in either presentation.
void TestRender::frameSignalFollowsRender()
{
    auto* view = new SliceView(presenter_.get(), ViewAxis::Axial);
    host_.reset(view);
    view->resize(300, 300);
    view->show();
    QVERIFY(QTest::qWaitForWindowExposed(view));
    grab(view);
    const int renders = view->renderCount();
    int renders_at_frame = -1;
    connect(view, &VtkHostWidget::frameSwapped, view,
            [&renders_at_frame, view]() { renders_at_frame = view->renderCount(); });
    presenter_->setCursor({7, 2, 2}); // another slice: a new image
    QTRY_VERIFY_WITH_TIMEOUT(renders_at_frame > renders, 5000);
}

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestRender test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_render.moc"
