// GUI speed measurements (issue 3 "Speed"), a Qt Test benchmark run by hand
// under Xvfb (not part of `ctest -L ui`; see docs/benchmarks.md (desktop app section)):
//
//   sliceChange512  512^3 float32 prediction + uint8 target generated in
//                   memory; one axial slice step in the real MainWindow until
//                   the window's next frame is on screen (slice composition,
//                   loss panel, chart marker, every view's repaint).
//   composeSlice512 compose_slice alone for one 512 x 512 axial slice.
//   openNiftiGz256  a 256^3 .nii.gz pair written to a temporary folder:
//                   MainWindow::openFiles until the axial view's first frame
//                   with data, against zlib just inflating the same two files
//                   and against libdeflate inflating them from memory into
//                   touched memory (issue 18's reference);
//   openNiftiGz512  the same for the 512^3 pair (issue 18: <= 1.2x libdeflate);
//                   cold and warm window with the slices shown before the
//                   numbers (the app's default), and warm with that preview
//                   off (the previous behaviour), interleaved under the same load.
//
// Timings are printed as "RESULT name: min / median / max ms (n runs)" next to
// the QBENCHMARK figures. Environment: MASKLENS_BENCH_RUNS (default 15),
// MASKLENS_BENCH_DISTANCES=1 keeps the surface-distance pass on for the 512^3 case.
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/panels.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <QApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <random>
#include <vector>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

int runs()
{
    const int value = qEnvironmentVariableIntValue("MASKLENS_BENCH_RUNS");
    return value > 0 ? value : 15;
}

void report(const char* name, std::vector<double> ms)
{
    std::sort(ms.begin(), ms.end());
    std::printf("RESULT %s: min %.2f / median %.2f / max %.2f ms (%zu runs)\n", name, ms.front(),
                ms[ms.size() / 2], ms.back(), ms.size());
    std::fflush(stdout);
}

// A soft, imperfect prediction of an organ-like ellipsoid (float32) and its
// target (uint8), n^3 voxels, spacing 0.8 x 0.8 x 1.5 mm.
std::pair<std::shared_ptr<Volume>, std::shared_ptr<Volume>> organ_pair(std::int64_t n)
{
    Shape shape;
    shape.d = n;
    shape.h = n;
    shape.w = n;
    shape.spatial_dims = 3;
    auto prediction = std::make_shared<Volume>("bench_pred", ScalarType::Float32, shape);
    auto target = std::make_shared<Volume>("bench_target", ScalarType::UInt8, shape);
    auto* p = reinterpret_cast<float*>(prediction->data());
    auto* t = reinterpret_cast<std::uint8_t*>(target->data());
    const double c = (static_cast<double>(n) - 1) / 2;
    const double r = 0.35 * static_cast<double>(n);
    std::mt19937 random(7);
    std::uniform_real_distribution<float> noise(-0.05F, 0.05F);
    std::size_t i = 0;
    for (std::int64_t d = 0; d < n; ++d) {
        for (std::int64_t h = 0; h < n; ++h) {
            for (std::int64_t w = 0; w < n; ++w, ++i) {
                const double z = (static_cast<double>(d) - c) / r;
                const double y = (static_cast<double>(h) - c) / (0.8 * r);
                const double x = (static_cast<double>(w) - c) / (0.9 * r);
                const double rho = std::sqrt(x * x + y * y + z * z);
                t[i] = rho <= 1.0 ? 1 : 0;
                const double xs = (static_cast<double>(w) - c - 0.04 * r) / (0.9 * r);
                const double rho_p = std::sqrt(xs * xs + y * y + z * z);
                const double soft = 1.0 / (1.0 + std::exp((rho_p - 1.0) * 12.0));
                p[i] = std::clamp(static_cast<float>(soft) + noise(random), 0.0F, 1.0F);
            }
        }
    }
    for (Volume* volume : {prediction.get(), target.get()}) {
        volume->geometry().spacing = {0.8, 0.8, 1.5};
        volume->geometry().known = true;
    }
    return {prediction, target};
}

// Minimal single-file NIfTI-1 (.nii.gz), gzip level 6 like nibabel's default.
void write_nifti_gz(const QString& path, const Volume& volume, short datatype, short bitpix)
{
    unsigned char header[352] = {};
    const auto put_i32 = [&](int offset, std::int32_t v) { std::memcpy(header + offset, &v, 4); };
    const auto put_i16 = [&](int offset, std::int16_t v) { std::memcpy(header + offset, &v, 2); };
    const auto put_f32 = [&](int offset, float v) { std::memcpy(header + offset, &v, 4); };
    const Shape& s = volume.shape();
    put_i32(0, 348);
    put_i16(40, 3);
    put_i16(42, static_cast<std::int16_t>(s.w));
    put_i16(44, static_cast<std::int16_t>(s.h));
    put_i16(46, static_cast<std::int16_t>(s.d));
    put_i16(48, 1);
    put_i16(70, datatype);
    put_i16(72, bitpix);
    put_f32(76, 1.0F); // qfac
    put_f32(80, static_cast<float>(volume.geometry().spacing[0]));
    put_f32(84, static_cast<float>(volume.geometry().spacing[1]));
    put_f32(88, static_cast<float>(volume.geometry().spacing[2]));
    put_f32(108, 352.0F); // vox_offset
    put_f32(112, 1.0F);   // scl_slope
    header[123] = 2;      // mm
    put_i16(252, 1);      // qform_code: scanner, identity rotation
    std::memcpy(header + 344, "n+1\0", 4);
    gzFile file = gzopen(path.toLocal8Bit().constData(), "wb6");
    QVERIFY(file != nullptr);
    QCOMPARE(gzwrite(file, header, sizeof header), static_cast<int>(sizeof header));
    const auto* bytes = reinterpret_cast<const unsigned char*>(volume.data());
    std::size_t left = volume.byte_size();
    while (left > 0) {
        const auto chunk = static_cast<unsigned>(std::min<std::size_t>(left, 1U << 26));
        QCOMPARE(gzwrite(file, bytes, chunk), static_cast<int>(chunk));
        bytes += chunk;
        left -= chunk;
    }
    QCOMPARE(gzclose(file), Z_OK);
}

// Inflates a gzip file completely (zlib, 1 MiB reads), returns the byte count.
std::uint64_t inflate_file(const QString& path)
{
    gzFile file = gzopen(path.toLocal8Bit().constData(), "rb");
    if (!file) {
        return 0;
    }
    gzbuffer(file, 1 << 20);
    std::vector<unsigned char> buffer(1 << 22);
    std::uint64_t total = 0;
    int got = 0;
    while ((got = gzread(file, buffer.data(), static_cast<unsigned>(buffer.size()))) > 0) {
        total += static_cast<std::uint64_t>(got);
    }
    gzclose(file);
    return total;
}

// Inflates both gzip files with libdeflate, each read into memory first and
// into an output buffer touched beforehand (not timed): the time of the
// inflation alone, in ms, as masklens_bench_read measures its reference.
double libdeflate_inflate_ms(const QStringList& paths)
{
    std::vector<QByteArray> inputs;
    std::vector<std::vector<unsigned char>> outputs;
    for (const QString& path : paths) {
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly)) {
            return -1;
        }
        inputs.push_back(file.readAll());
        const QByteArray& in = inputs.back();
        std::uint32_t size = 0; // ISIZE: the member's inflated size mod 2^32 (< 4 GiB here)
        std::memcpy(&size, in.constData() + in.size() - 4, 4);
        outputs.emplace_back(size, 1); // touched
    }
    libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
    QElapsedTimer timer;
    timer.start();
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        std::size_t got = 0;
        if (libdeflate_gzip_decompress(decompressor, inputs[i].constData(),
                                       static_cast<std::size_t>(inputs[i].size()), outputs[i].data(),
                                       outputs[i].size(), &got) != LIBDEFLATE_SUCCESS ||
            got != outputs[i].size()) {
            libdeflate_free_decompressor(decompressor);
            return -1;
        }
    }
    const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    libdeflate_free_decompressor(decompressor);
    return ms;
}

// Runs the event loop until `flag` is set (blocking waits: a spinning loop
// would take one of the two cores from the work being measured).
bool wait_for(const bool& flag, int timeout_ms = 120000)
{
    QElapsedTimer timer;
    timer.start();
    QTimer wake; // bounds each blocking wait (the timeout check)
    wake.start(50);
    while (!flag && timer.elapsed() < timeout_ms) {
        // Blocks until an event arrives (the overload with a time limit would spin).
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return flag;
}

} // namespace

class BenchUi : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void composeSlice512();
    void sliceChange512();
    void sliceChange512Maximised();
    void openNiftiGz256();
    void openNiftiGz512();

private:
    void openNiftiGz(const Volume& prediction, const Volume& target);
    double stepAndWait(MainWindow& window, SliceView* view, std::int64_t delta);
    void reportRepaintFloor(SliceView* view, const char* name);
    std::shared_ptr<Volume> prediction_;
    std::shared_ptr<Volume> target_;
};

void BenchUi::initTestCase()
{
    QElapsedTimer timer;
    timer.start();
    std::tie(prediction_, target_) = organ_pair(512);
    std::printf("INFO generated 512^3 pair in %.1f s\n", static_cast<double>(timer.elapsed()) / 1000.0);
}

void BenchUi::composeSlice512()
{
    PairView view;
    view.rule.threshold = 0.5;
    std::int64_t slice = 200;
    std::vector<double> times;
    for (int i = 0; i < runs(); ++i) {
        QElapsedTimer timer;
        timer.start();
        const SliceImage image =
            compose_slice(*prediction_, *target_, view, ViewAxis::Axial, slice + i % 2, LayerSettings{});
        times.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        QVERIFY(image.geometry.width == 512);
    }
    static bool reported = false; // QBENCHMARK runs the function several times
    if (!reported) {
        report("compose_slice 512x512 axial (errors mode)", times);
        reported = true;
    }
    QBENCHMARK
    {
        compose_slice(*prediction_, *target_, view, ViewAxis::Axial, slice, LayerSettings{});
    }
}

double BenchUi::stepAndWait(MainWindow& window, SliceView* view, std::int64_t delta)
{
    bool swapped = false;
    const auto connection =
        connect(view, &VtkHostWidget::frameSwapped, this, [&swapped]() { swapped = true; });
    QElapsedTimer timer;
    timer.start();
    window.presenter()->stepSlice(ViewAxis::Axial, delta);
    if (qEnvironmentVariableIsSet("MASKLENS_TRACE_PAINT")) {
        std::fprintf(stderr, "TRACE step handlers %.2f ms\n",
                     static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    wait_for(swapped, 10000);
    const double ms = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    disconnect(connection);
    return ms;
}

// The same view repainted with nothing changed, until its next frame: what
// rendering the view and composing the window cost on this GL (llvmpipe
// here) without any of MaskLens's slice work. A step's time minus this floor
// is the work a slice change adds.
void BenchUi::reportRepaintFloor(SliceView* view, const char* name)
{
    // runs() times: trigger(), then the time until the view's next frame (ms).
    const auto time_frames = [this, view](int count, const auto& trigger) {
        std::vector<double> times;
        for (int i = 0; i < count; ++i) {
            bool swapped = false;
            const auto connection =
                connect(view, &VtkHostWidget::frameSwapped, this, [&swapped]() { swapped = true; });
            QElapsedTimer timer;
            timer.start();
            trigger();
            wait_for(swapped, 10000);
            times.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
            disconnect(connection);
        }
        return times;
    };
    report(name, time_frames(runs(), [view] { view->requestRender(); }));
    // The window composed again after a repaint of a plain widget only (the
    // status bar): Qt composes every QOpenGLWidget's last frame into the
    // window each time (frameSwapped follows), so this is the composition's
    // share of the floor.
    QWidget* bar = view->window()->findChild<QStatusBar*>();
    if (VtkHostWidget::presentation() != VtkHostWidget::Presentation::Composited) {
        return; // a raster window: nothing is composed, no view frame follows
    }
    const std::vector<double> times = time_frames(bar != nullptr ? runs() : 0, [bar] { bar->repaint(); });
    if (!times.empty()) {
        report("  of which composing the window (status-bar repaint only)", times);
    }
}

void BenchUi::sliceChange512()
{
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    const bool distances = qEnvironmentVariableIntValue("MASKLENS_BENCH_DISTANCES") == 1;
    window.presenter()->setDistancesEnabled(distances);
    QElapsedTimer load;
    load.start();
    window.presenter()->setVolumes(prediction_, target_);
    window.presenter()->waitForIdle();
    std::printf("INFO evaluation of 512^3 in %.2f s\n", static_cast<double>(load.elapsed()) / 1000.0);
    window.surfaceView()->waitForSurfaces();
    std::printf("INFO evaluation + 3D surfaces ready after %.2f s (step %d, %lld + %lld triangles)\n",
                static_cast<double>(load.elapsed()) / 1000.0, window.surfaceView()->scene().meshes().step,
                window.surfaceView()->scene().triangleCounts()[0],
                window.surfaceView()->scene().triangleCounts()[1]);
    window.presenter()->waitForDistances();
    std::printf("INFO settled after %.2f s (distances %s)\n", static_cast<double>(load.elapsed()) / 1000.0,
                distances ? "on" : "off");
    QTest::qWait(300);
    SliceView* axial = window.sliceView(ViewAxis::Axial);
    std::vector<double> times;
    for (int i = 0; i < runs(); ++i) {
        times.push_back(stepAndWait(window, axial, i % 2 == 0 ? 1 : -1));
    }
    QCOMPARE(window.lossPanel()->sliceText(Metric::Dice),
             format_value(Metric::Dice, window.presenter()->sliceValue(Metric::Dice)));
    report("slice change 512^3, 2x2 window 1400x900, until next frame", times);
    reportRepaintFloor(axial, "repaint only (no change), 2x2 window 1400x900, until next frame");
}

void BenchUi::sliceChange512Maximised()
{
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.presenter()->setDistancesEnabled(false);
    window.presenter()->setVolumes(prediction_, target_);
    window.presenter()->waitForIdle();
    window.surfaceView()->waitForSurfaces();
    SliceView* axial = window.sliceView(ViewAxis::Axial);
    window.toggleMaximised(axial);
    QTest::qWait(300);
    std::vector<double> times;
    for (int i = 0; i < runs(); ++i) {
        times.push_back(stepAndWait(window, axial, i % 2 == 0 ? 1 : -1));
    }
    report("slice change 512^3, axial view maximised, until next frame", times);
    reportRepaintFloor(axial, "repaint only (no change), axial view maximised, until next frame");
}

void BenchUi::openNiftiGz256()
{
    const auto [prediction, target] = organ_pair(256);
    openNiftiGz(*prediction, *target);
}

void BenchUi::openNiftiGz512()
{
    openNiftiGz(*prediction_, *target_);
}

void BenchUi::openNiftiGz(const Volume& prediction_volume, const Volume& target_volume)
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const Volume* prediction = &prediction_volume;
    const Volume* target = &target_volume;
    const std::int64_t edge = prediction->shape().d;
    const QString pred_path = dir.filePath(QStringLiteral("pred.nii.gz"));
    const QString target_path = dir.filePath(QStringLiteral("target.nii.gz"));
    write_nifti_gz(pred_path, *prediction, 16, 32);
    write_nifti_gz(target_path, *target, 2, 8);
    std::printf("INFO files: %lld + %lld bytes compressed\n", QFileInfo(pred_path).size(),
                QFileInfo(target_path).size());

    const int n = std::max(3, runs() / 5);
    std::vector<double> inflate_ms, libdeflate_ms, read_ms, open_ms, presenter_ms, cold_ms, no_preview_ms,
        numbers_ms;
    for (int i = 0; i < 3 * n; ++i) {
        libdeflate_ms.push_back(libdeflate_inflate_ms({pred_path, target_path}));
        QVERIFY(libdeflate_ms.back() > 0);
        const bool warm = i % 3 != 0;
        const bool preview = i % 3 != 2;
        QElapsedTimer timer;
        timer.start();
        const std::uint64_t bytes = inflate_file(pred_path) + inflate_file(target_path);
        inflate_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        QCOMPARE(bytes, static_cast<std::uint64_t>(prediction->byte_size() + target->byte_size() + 2 * 352));

        timer.restart();
        const Volume p = io::read_volume(pred_path.toStdString());
        const Volume t = io::read_volume(target_path.toStdString());
        read_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        QCOMPARE(p.shape().d, edge);

        {
            SessionPresenter presenter;
            presenter.setDistancesEnabled(false);
            timer.restart();
            presenter.openFiles(pred_path, target_path);
            presenter.waitForIdle();
            presenter_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
            QVERIFY(presenter.hasData());
        }

        MainWindow window;
        window.resize(1400, 900);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // Cold: files opened right after the window is shown (app start; the
        // views' first OpenGL frames, shader compilation in llvmpipe, overlap
        // the read). Warm: the window has drawn its first frames (File > Open).
        QTest::qWait(warm ? 2000 : 50);
        window.presenter()->setPreviewAllowed(preview);
        SliceView* axial = window.sliceView(ViewAxis::Axial);
        bool shown = false;
        connect(axial, &VtkHostWidget::frameSwapped, &window, [&shown, axial]() {
            if (axial->scene().hasImage()) {
                shown = true;
            }
        });
        timer.restart();
        if (qEnvironmentVariableIsSet("MASKLENS_TRACE_TIMING")) {
            std::fprintf(stderr, "TRACE openFiles at %lld\n",
                         static_cast<long long>(QDateTime::currentMSecsSinceEpoch() % 1000000));
        }
        window.openFiles(pred_path, target_path);
        QVERIFY(wait_for(shown));
        if (qEnvironmentVariableIsSet("MASKLENS_TRACE_TIMING")) {
            std::fprintf(stderr, "TRACE shown at %lld\n",
                         static_cast<long long>(QDateTime::currentMSecsSinceEpoch() % 1000000));
        }
        (!preview ? no_preview_ms
         : warm   ? open_ms
                  : cold_ms)
            .push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        window.presenter()->waitForIdle();
        if (preview && warm) {
            numbers_ms.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
        }
        window.surfaceView()->waitForSurfaces();
        const double surfaces = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        window.presenter()->waitForDistances();
        std::printf("INFO %s window%s: 3D surfaces shown after %.0f ms, surface distances after %.0f ms\n",
                    warm ? "warm" : "cold", preview ? "" : " (no preview)", surfaces,
                    static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    std::printf("INFO %lld^3 pair\n", static_cast<long long>(edge));
    report("inflate both .nii.gz files (zlib gzread, sequential)", inflate_ms);
    report("inflate both .nii.gz files (libdeflate, from memory into touched memory, sequential)",
           libdeflate_ms);
    report("io::read_volume both files (sequential)", read_ms);
    report("SessionPresenter::openFiles (read both in parallel + evaluate), no window", presenter_ms);
    report("masklens openFiles until first slice frame, cold window (just shown)", cold_ms);
    report("masklens openFiles until first slice frame, warm window", open_ms);
    report("masklens openFiles until first slice frame, warm window, preview off (numbers first)",
           no_preview_ms);
    report("masklens openFiles until the numbers (evaluation delivered), warm window", numbers_ms);
    const auto median = [](std::vector<double> values) {
        std::sort(values.begin(), values.end());
        return values[values.size() / 2];
    };
    std::printf("RESULT open / inflate (medians): warm %.2f, cold %.2f, warm without preview %.2f; "
                "read_volume / inflate %.2f\n",
                median(open_ms) / median(inflate_ms), median(cold_ms) / median(inflate_ms),
                median(no_preview_ms) / median(inflate_ms), median(read_ms) / median(inflate_ms));
    std::printf(
        "RESULT open / libdeflate inflate (medians): warm %.2f, cold %.2f, warm without preview %.2f; "
        "read_volume / libdeflate %.2f\n",
        median(open_ms) / median(libdeflate_ms), median(cold_ms) / median(libdeflate_ms),
        median(no_preview_ms) / median(libdeflate_ms), median(read_ms) / median(libdeflate_ms));
}

int main(int argc, char** argv)
{
    // As the app reads (app/gui/main.cpp); MASKLENS_BENCH_NO_MAPPING=1 for
    // the copies of the app before 2026-12-07.
    io::set_file_mapping(qEnvironmentVariableIsSet("MASKLENS_BENCH_NO_MAPPING")
                             ? io::FileMapping::Off
                             : io::FileMapping::CompressedInputs);
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    BenchUi bench;
    return QTest::qExec(&bench, argc, argv);
}

#include "bench_ui.moc"
