// Orientation, image underlay and status readout of the slice views:
// - an asymmetric phantom saved with an RAS affine, an LPS-like affine and as
//   LPS NRRD (tests/generate_orientation_fixtures.py; the expected screen
//   sides follow from the affines by nibabel.aff2axcodes) is drawn with its
//   markers on the expected screen side and the expected edge letters, and
//   mirrored by the neurological convention;
// - the image underneath is drawn in the grey its window / level give
//   (expected greys derived by hand below);
// - the orientation model for permuted and oblique grids, check_image's
//   errors, value_percentiles;
// - the status bar readout follows key steps; replacing the prediction keeps
//   the slice.
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/image_underlay.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/slice_view.h"
#include "ui_test_support.h"

#include <QApplication>
#include <QCursor>
#include <QFile>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMouseEvent>
#include <QStandardPaths>
#include <QtTest>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

bool near(QRgb pixel, const Rgb& colour, int tolerance = 12)
{
    return std::abs(qRed(pixel) - colour.r) <= tolerance && std::abs(qGreen(pixel) - colour.g) <= tolerance &&
           std::abs(qBlue(pixel) - colour.b) <= tolerance;
}

QString describe(QRgb pixel)
{
    return QStringLiteral("rgb(%1, %2, %3)").arg(qRed(pixel)).arg(qGreen(pixel)).arg(qBlue(pixel));
}

QString edges_text(const std::array<char, 4>& edges)
{
    QString text;
    for (const char c : edges) {
        text += c ? QChar(c) : QChar('-');
    }
    return text;
}

QJsonObject expected_sides()
{
    QFile file(QStringLiteral(MASKLENS_TEST_DATA "/orientation/expected.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

std::shared_ptr<Volume> read(const QString& name)
{
    return std::make_shared<Volume>(
        io::read_volume((QStringLiteral(MASKLENS_TEST_DATA "/orientation/") + name).toStdString()));
}

Geometry geometry_with_columns(const std::array<std::array<double, 3>, 3>& columns)
{
    Geometry geometry;
    geometry.known = true;
    for (std::size_t k = 0; k < 3; ++k) {
        for (std::size_t row = 0; row < 3; ++row) {
            geometry.direction[row * 3 + k] = columns[k][row];
        }
    }
    return geometry;
}

} // namespace

class TestOrientation : public QObject {
    Q_OBJECT
private slots:
    void phantomSides_data();
    void phantomSides();
    void underlayFollowsWindowLevel();
    void permutedAndObliqueGrids();
    void imageChecks();
    void percentiles();
    void statusFollowsKeySteps();
    void replacingPredictionKeepsSlice();

private:
    // Two frames: the first may still be rendered with the camera fitted before
    // the render window took the widget's size (graphicsResized refits it).
    QImage grab(VtkHostWidget* view)
    {
        for (int i = 0; i < 2; ++i) {
            view->requestRender();
            QCoreApplication::processEvents();
            view->grabFramebuffer();
        }
        return view->grabFramebuffer();
    }
    QRgb probe(SliceView* view, const QImage& image, const Voxel& voxel, QPointF* where = nullptr)
    {
        const QPointF point = view->voxelToWidget(voxel) * view->devicePixelRatioF();
        if (where) {
            *where = point;
        }
        return image.pixel(static_cast<int>(std::lround(point.x())),
                           static_cast<int>(std::lround(point.y())));
    }
};

void TestOrientation::phantomSides_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("prediction");
    QTest::addColumn<QString>("target");
    QTest::newRow("nifti RAS identity") << "phantom_ras"
                                        << "phantom_ras_pred.nii.gz"
                                        << "phantom_ras_target.nii.gz";
    QTest::newRow("nifti diag(-1,-1,1)") << "phantom_lps"
                                         << "phantom_lps_pred.nii.gz"
                                         << "phantom_lps_target.nii.gz";
    QTest::newRow("nrrd LPS") << "phantom_nrrd"
                              << "phantom_nrrd_pred.nrrd"
                              << "phantom_nrrd_target.nrrd";
}

void TestOrientation::phantomSides()
{
    QFETCH(QString, name);
    QFETCH(QString, prediction);
    QFETCH(QString, target);
    const QJsonObject expected = expected_sides().value(name).toObject();
    QVERIFY2(!expected.isEmpty(), "tests/data/orientation/expected.json");

    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(read(prediction), read(target));
    QVERIFY(presenter.hasData());
    presenter.setCursor({3, 5, 3}); // crosshair off the probed voxels
    SliceView view(&presenter, ViewAxis::Axial);
    view.resize(400, 400);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    for (const Convention convention : {Convention::Radiological, Convention::Neurological}) {
        LayerSettings layers = presenter.layers();
        layers.convention = convention;
        presenter.setLayers(layers);
        const QImage image = grab(&view);
        const bool neurological = convention == Convention::Neurological;
        // TP marker: x index 0 (W), any y; FN marker: y index 0 (H), x index 6.
        QPointF tp_at;
        QPointF fn_at;
        const QRgb tp = probe(&view, image, {1, 3, 0}, &tp_at);
        const QRgb fn = probe(&view, image, {1, 0, 6}, &fn_at);
        if (!near(tp, kTruePositiveColour) || !near(fn, kFalseNegativeColour)) {
            image.save(QStringLiteral(MASKLENS_BINARY_DIR "/orientation_") + name + QStringLiteral(".png"));
        }
        QVERIFY2(near(tp, kTruePositiveColour),
                 qPrintable(describe(tp) + QStringLiteral(" at %1, %2").arg(tp_at.x()).arg(tp_at.y())));
        QVERIFY2(near(fn, kFalseNegativeColour),
                 qPrintable(describe(fn) + QStringLiteral(" at %1, %2").arg(fn_at.x()).arg(fn_at.y())));
        QString side = expected.value(QStringLiteral("tp_screen_side")).toString();
        if (neurological) {
            side = side == QStringLiteral("left") ? QStringLiteral("right") : QStringLiteral("left");
        }
        const double middle_x = image.width() / 2.0;
        QCOMPARE(tp_at.x() < middle_x ? QStringLiteral("left") : QStringLiteral("right"), side);
        const QString half = expected.value(QStringLiteral("fn_screen_half")).toString();
        QCOMPARE(fn_at.y() < image.height() / 2.0 ? QStringLiteral("top") : QStringLiteral("bottom"), half);
        // The mirrored column holds no TP colour: the picture is not symmetric by accident.
        const int mirrored = static_cast<int>(std::lround(image.width() - 1 - tp_at.x()));
        QVERIFY(!near(image.pixel(mirrored, static_cast<int>(std::lround(tp_at.y()))), kTruePositiveColour));

        QString edges = expected.value(QStringLiteral("axial_edges")).toString();
        if (neurological) {
            std::swap(edges[0], edges[1]);
        }
        QCOMPARE(edges_text(view.annotations().edges()), edges);
        QVERIFY2(view.annotations().cornerText().find(neurological ? "neurological" : "radiological") !=
                     std::string::npos,
                 view.annotations().cornerText().c_str());
        QVERIFY(view.annotations().scaleBarMillimetres() > 0);
    }
    // The other planes' letters (radiological; neurological mirrors coronal only).
    LayerSettings layers = presenter.layers();
    layers.convention = Convention::Radiological;
    presenter.setLayers(layers);
    for (const auto& [axis, key] :
         {std::pair{ViewAxis::Coronal, "coronal_edges"}, std::pair{ViewAxis::Sagittal, "sagittal_edges"}}) {
        SliceView other(&presenter, axis);
        other.resize(300, 300);
        other.show();
        QVERIFY(QTest::qWaitForWindowExposed(&other));
        grab(&other);
        QCOMPARE(edges_text(other.annotations().edges()), expected.value(QLatin1String(key)).toString());
    }
}

void TestOrientation::underlayFollowsWindowLevel()
{
    // An image under an empty pair: its values are 10 * w - 100 (HU-like), so
    // column w holds 10 w - 100; every pixel shows the image.
    const Shape shape{1, 1, 4, 6, 12, 3};
    std::vector<std::uint8_t> zeros(static_cast<std::size_t>(shape.elements()), 0);
    std::vector<float> values;
    for (std::int64_t d = 0; d < shape.d; ++d) {
        for (std::int64_t h = 0; h < shape.h; ++h) {
            for (std::int64_t w = 0; w < shape.w; ++w) {
                values.push_back(static_cast<float>(10 * w - 100));
            }
        }
    }
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(make_u8("empty_pred", shape, zeros), make_u8("empty_target", shape, zeros));
    presenter.setImage(make_float("image", shape, values));
    QVERIFY(presenter.image());
    presenter.setCursor({1, 5, 11});
    SliceView view(&presenter, ViewAxis::Axial);
    view.resize(400, 300);
    view.show();
    QVERIFY(QTest::qWaitForWindowExposed(&view));

    struct Case {
        double window, level;
        int w;    // column probed (value 10 w - 100)
        int grey; // by hand: clamp((v - (level - window / 2)) / window, 0, 1) * 255, rounded
    };
    const Case cases[] = {
        {100.0, -50.0, 5, 128},  // v = -50: (-50 - -100) / 100 = 0.5 -> 127.5 -> 128
        {100.0, -50.0, 2, 51},   // v = -80: 20 / 100 = 0.2 -> 51
        {100.0, -50.0, 0, 0},    // v = -100: at the bottom of the window -> 0
        {100.0, -50.0, 10, 255}, // v = 0: above the window -> 255
        {40.0, 0.0, 9, 64},      // v = -10: (-10 - -20) / 40 = 0.25 -> 63.75 -> 64
    };
    for (const Case& c : cases) {
        presenter.setWindowLevel(c.window, c.level);
        const QImage image = grab(&view);
        const QRgb pixel = probe(&view, image, {1, 2, c.w});
        const int expected = c.grey;
        QVERIFY2(std::abs(qRed(pixel) - expected) <= 1 && qRed(pixel) == qGreen(pixel) &&
                     qGreen(pixel) == qBlue(pixel),
                 qPrintable(QStringLiteral("w %1, W %2 L %3: %4, expected grey %5")
                                .arg(c.w)
                                .arg(c.window)
                                .arg(c.level)
                                .arg(describe(pixel))
                                .arg(expected)));
    }
    // The bone preset: W 1800, L 400 -> v = -50 at (-50 - -500) / 1800 = 0.25 -> 63.75 -> 64.
    presenter.applyWindowPreset(WindowPreset::Bone);
    QCOMPARE(presenter.layers().window, 1800.0);
    const QRgb bone = probe(&view, grab(&view), {1, 2, 5});
    QVERIFY2(std::abs(qRed(bone) - 64) <= 1, qPrintable(describe(bone)));

    // Shift + left drag: 64 pixels right and 32 up. The image's 1st / 99th
    // percentiles are -100 and 10 (nearest rank over its 288 values: ranks 3
    // and 284), one step is 110 / 256 per pixel: window + 27.5, level + 13.75.
    QCOMPARE(presenter.imagePercentiles()[0], -100.0);
    QCOMPARE(presenter.imagePercentiles()[1], 10.0);
    const Voxel cursor = presenter.cursor();
    const QPoint start(200, 150);
    QTest::mousePress(&view, Qt::LeftButton, Qt::ShiftModifier, start);
    QMouseEvent move(QEvent::MouseMove, QPointF(start + QPoint(64, -32)),
                     view.mapToGlobal(QPointF(start + QPoint(64, -32))), Qt::NoButton, Qt::LeftButton,
                     Qt::ShiftModifier);
    QApplication::sendEvent(&view, &move);
    QTest::mouseRelease(&view, Qt::LeftButton, Qt::ShiftModifier, start + QPoint(64, -32));
    QCOMPARE(presenter.layers().window, 1800.0 + 27.5);
    QCOMPARE(presenter.layers().level, 400.0 + 13.75);
    QCOMPARE(presenter.cursor(), cursor); // the drag adjusted the grey ramp, not the crosshair
}

void TestOrientation::permutedAndObliqueGrids()
{
    // Stored sagittally (LPS): W runs Posterior, H Inferior, D Left -> the view
    // fixing D shows the sagittal plane: A on the left, S at the top.
    const Geometry sagittal = geometry_with_columns({{{0, 1, 0}, {0, 0, -1}, {1, 0, 0}}});
    SliceOrientation o = slice_orientation(sagittal, ViewAxis::Axial);
    QCOMPARE(o.plane, ViewAxis::Sagittal);
    QCOMPARE(edges_text(o.edges), QStringLiteral("APSI"));
    QVERIFY(!o.transpose); // W (Posterior) runs across
    QVERIFY(!o.flip_x);    // +W is Posterior, shown on the right
    QVERIFY(o.flip_y);     // +H is Inferior, shown downwards
    QVERIFY(!o.oblique);

    // Axial data whose W runs Anterior and H Left (RAS frame): transposed.
    Geometry swapped = geometry_with_columns({{{0, 1, 0}, {-1, 0, 0}, {0, 0, 1}}});
    swapped.frame = WorldFrame::RAS;
    o = slice_orientation(swapped, ViewAxis::Axial);
    QCOMPARE(o.plane, ViewAxis::Axial);
    QVERIFY(o.transpose);
    QCOMPARE(edges_text(o.edges), QStringLiteral("RLAP"));
    // Every voxel maps to a distinct pixel and back.
    const Shape shape{1, 1, 3, 4, 5, 3};
    const SliceGeometry g = slice_geometry(shape, swapped, ViewAxis::Axial);
    QCOMPARE(g.width, 4); // H across
    QCOMPARE(g.height, 5);
    for (std::int64_t h = 0; h < shape.h; ++h) {
        for (std::int64_t w = 0; w < shape.w; ++w) {
            const Voxel voxel{1, h, w};
            const auto pixel = voxel_to_pixel(shape, ViewAxis::Axial, o, voxel);
            QVERIFY(pixel[0] >= 0 && pixel[0] < g.width && pixel[1] >= 0 && pixel[1] < g.height);
            QCOMPARE(pixel_to_voxel(shape, ViewAxis::Axial, o, 1, pixel[0], pixel[1]), voxel);
        }
    }
    // +W is Anterior: W = 0 is the most posterior column -> bottom row (y = 0).
    QCOMPARE(voxel_to_pixel(shape, ViewAxis::Axial, o, {1, 0, 0})[1], 0);
    // +H is the patient's Left (RAS -x): H = 0 is the rightmost patient side -> screen left.
    QCOMPARE(voxel_to_pixel(shape, ViewAxis::Axial, o, {1, 0, 0})[0], 0);

    // 20 degrees about z: oblique, letters by the dominant axis.
    const double c = std::cos(20.0 * M_PI / 180.0);
    const double s = std::sin(20.0 * M_PI / 180.0);
    o = slice_orientation(geometry_with_columns({{{c, s, 0}, {-s, c, 0}, {0, 0, 1}}}), ViewAxis::Axial);
    QVERIFY(o.oblique);
    QCOMPARE(edges_text(o.edges), QStringLiteral("RLAP"));
    // No geometry: the grid as an image, no letters.
    o = slice_orientation(Geometry{}, ViewAxis::Axial);
    QCOMPARE(edges_text(o.edges), QStringLiteral("----"));
    QVERIFY(o.flip_y);
}

void TestOrientation::imageChecks()
{
    const Shape shape{1, 1, 4, 6, 8, 3};
    std::vector<std::uint8_t> zeros(static_cast<std::size_t>(shape.elements()), 0);
    auto target = make_u8("target.nii", shape, zeros);
    target->geometry().known = true;
    const auto expect_error = [&](const Volume& image, const char* words) {
        try {
            check_image(image, *target);
        } catch (const Error& error) {
            const std::string what = error.what();
            QVERIFY2(what.find(image.source()) != std::string::npos, what.c_str());
            QVERIFY2(what.find(words) != std::string::npos, what.c_str());
            return;
        }
        QFAIL(words);
    };
    const Shape smaller{1, 1, 4, 6, 7, 3};
    expect_error(*make_u8("small.nii", smaller, std::vector<std::uint8_t>(smaller.elements())),
                 "differs from");
    const Shape channels{1, 2, 4, 6, 8, 3};
    expect_error(*make_u8("two.nii", channels, std::vector<std::uint8_t>(channels.elements())),
                 "one channel");
    auto moved = make_u8("moved.nii", shape, zeros);
    moved->geometry().known = true;
    moved->geometry().origin = {0, 0, 5};
    expect_error(*moved, "origin");
    // The same placement written in the other frame is the same geometry.
    auto ras = make_u8("ras.nii", shape, zeros);
    ras->geometry() = in_frame(target->geometry(), WorldFrame::RAS);
    check_image(*ras, *target);

    // Through the presenter: an error, and the previous state kept.
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(make_u8("p", shape, zeros), target);
    QSignalSpy errors(&presenter, &SessionPresenter::errorOccurred);
    presenter.setImage(moved, QStringLiteral("moved.nii"));
    QCOMPARE(errors.count(), 1);
    QVERIFY(!presenter.image());
    presenter.openImage(QStringLiteral("/nonexistent/ct.nii.gz"));
    QCOMPARE(errors.count(), 2);
    QVERIFY(errors.last().at(1).toString().contains(QStringLiteral("/nonexistent/ct.nii.gz")));
}

void TestOrientation::percentiles()
{
    // Values 0..99 (shuffled order) and one NaN: nearest rank over the 100
    // finite values, rank round(0.01 * 99) = 1 -> 1 and round(0.99 * 99) = 98 -> 98.
    std::vector<float> values;
    for (int i = 0; i < 100; ++i) {
        values.push_back(static_cast<float>((i * 37) % 100));
    }
    values.push_back(std::nanf(""));
    auto image = make_float("v", Shape{1, 1, 1, 1, 101, 2}, values);
    const auto p = value_percentiles(*image, 0.01, 0.99);
    QCOMPARE(p[0], 1.0);
    QCOMPARE(p[1], 98.0);
    QCOMPARE(default_preset(p), WindowPreset::Percentile);
    QCOMPARE(preset_window(WindowPreset::Percentile, p)[0], 97.0);
    QCOMPARE(preset_window(WindowPreset::Percentile, p)[1], 49.5);
    QCOMPARE(default_preset({-1000.0, 300.0}), WindowPreset::SoftTissue);
}

void TestOrientation::statusFollowsKeySteps()
{
    QCursor::setPos(1599, 1199); // the mouse off the window: the readout shows the cursor
    MainWindow window;
    window.presenter()->setSynchronous(true);
    window.presenter()->setVolumes(synthetic_prediction(), synthetic_target());
    window.resize(1280, 800);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.presenter()->setCursor({6, 8, 8});
    auto* label = window.findChild<QLabel*>(QStringLiteral("hoverLabel"));
    QVERIFY(label);
    QVERIFY2(label->text().contains(QStringLiteral("voxel (d 6, h 8, w 8)")), qPrintable(label->text()));
    SliceView* axial = window.sliceView(ViewAxis::Axial);
    axial->setFocus();
    QTest::keyClick(axial, Qt::Key_Up);
    QTest::keyClick(axial, Qt::Key_Up);
    QCOMPARE(window.presenter()->cursor().d, 8);
    // The readout describes the voxel shown now (the cursor, the mouse being elsewhere).
    QVERIFY2(label->text().contains(QStringLiteral("voxel (d 8, h 8, w 8)")), qPrintable(label->text()));
    // (8, 8, 8) lies 2 voxels from the target ball's centre (6, 8, 8), radius 4.5: inside.
    QVERIFY2(label->text().contains(QStringLiteral("target 1")), qPrintable(label->text()));
    QVERIFY2(label->text().contains(QStringLiteral("LPS")), qPrintable(label->text()));
}

void TestOrientation::replacingPredictionKeepsSlice()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    presenter.setCursor({2, 3, 4});
    presenter.setSample(0);
    presenter.setVolumes(ball_prediction("other", 6.0, 3.0), synthetic_target());
    QCOMPARE(presenter.cursor(), (Voxel{2, 3, 4}));
    // Another grid: the cursor goes to its centre.
    presenter.setVolumes(seed_3d_prediction(), seed_3d_target());
    const Shape s = presenter.shape();
    QCOMPARE(presenter.cursor(), (Voxel{s.d / 2, s.h / 2, s.w / 2}));
}

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestOrientation test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_orientation.moc"
