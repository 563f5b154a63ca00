// Widget tests on the real main window (QTest under Xvfb): keys change the
// slice and the panel and chart follow, the chart and the sample table are
// clickable, the threshold slider changes Dice, a bad file shows the error
// dialog and keeps the previous state.
#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/io/read_volume.h"
#include "masklens/ui/about.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/main_window.h"
#include "masklens/ui/panels.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"
#include "ui_test_support.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileInfo>
#include <QFrame>
#include <QImageReader>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>
#include <QSlider>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QValueAxis>
#include <QWheelEvent>
#include <QtTest>

#include <cmath>
#include <fstream>
#include <limits>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

class TestWidgets : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void aboutNamesVersionsAndBuild();
    void screenshotCarriesVersionAndBuild();
    void keyPressChangesSlice();
    void chartClickMovesSlice();
    void worstButtonJumps();
    void thresholdSliderChangesDice();
    void logitsWarningOffersSigmoid();
    void tableRowChangesSample();
    void badFileShowsDialogAndKeepsState();
    void firstFrameStartsTheEvaluation();
    void layout2dShowsOneView();
    void exportCsvWritesFile();
    void statusBarShowsDevice();
    void lossPanelShowsDistances();
    void tablesShowDistances();
    void addPredictionAddsRowAndView();
    void comparisonTableHighlightsBest();
    void comparisonViewsLinked();
    void differMostAndDifferenceMode();
    void settingsPersistAcrossRuns();
    void panelShowsGoldenNumbers();

private:
    void load(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target);
    std::unique_ptr<MainWindow> window_;
};

void TestWidgets::init()
{
    window_ = std::make_unique<MainWindow>();
    window_->resize(1300, 900);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
}

void TestWidgets::cleanup()
{
    window_.reset();
}

void TestWidgets::load(std::shared_ptr<Volume> prediction, std::shared_ptr<Volume> target)
{
    QSignalSpy spy(window_->presenter(), &SessionPresenter::datasetChanged);
    window_->presenter()->setVolumes(std::move(prediction), std::move(target));
    QVERIFY(spy.wait(10000));
    QTRY_VERIFY(!window_->presenter()->busy());
}

void TestWidgets::aboutNamesVersionsAndBuild()
{
    const QString text = about_text();
    // The versions come from the running libraries and the build, not from a
    // copy: Qt's runtime version, VTK's, and the CUDA path's presence.
    QVERIFY2(text.contains(QString::fromLatin1(qVersion())), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("VTK 9.")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Eigen 3.")), qPrintable(text));
    QVERIFY2(text.startsWith(QStringLiteral("MaskLens 0.")), qPrintable(text));
    QVERIFY2(text.contains(gpu::cuda_path_built() ? QStringLiteral("CUDA path built")
                                                  : QStringLiteral("CUDA path not built")),
             qPrintable(text));
    // With the CUDA path, the runtime's version as the runtime reports it
    // (cudaRuntimeGetVersion), e.g. "CUDA runtime 13.0"; the driver's is
    // "none" where no driver is installed.
    if (gpu::cuda_path_built()) {
        const int runtime = gpu::query_devices().runtime_version;
        QVERIFY(runtime > 0);
        QVERIFY2(
            text.contains(QStringLiteral("CUDA runtime %1.%2").arg(runtime / 1000).arg(runtime % 1000 / 10)),
            qPrintable(text));
    } else {
        QVERIFY2(!text.contains(QStringLiteral("CUDA runtime")), qPrintable(text));
    }
    QVERIFY(window_->findChild<QAction*>(QStringLiteral("aboutAction")) != nullptr);
    QVERIFY(window_->findChild<QAction*>(QStringLiteral("resetSettingsAction")) != nullptr);
}

void TestWidgets::screenshotCarriesVersionAndBuild()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("shot.png"));
    QVERIFY(window_->saveScreenshot(path));
    QImageReader reader(path); // Qt's PNG decoder reads the text chunks back
    const QString version = QString::fromStdString(std::string(build_info().version));
    QVERIFY(!version.isEmpty());
    QCOMPARE(reader.text(QStringLiteral("Software")), QStringLiteral("MaskLens ") + version);
    const QString build = reader.text(QStringLiteral("Comment"));
    QVERIFY2(build.startsWith(version + QStringLiteral(" (CUDA path built: ")), qPrintable(build));
    QVERIFY2(build.contains(QStringLiteral("SIMD: ")), qPrintable(build));
    QVERIFY(!reader.read().isNull());
}

void TestWidgets::keyPressChangesSlice()
{
    load(synthetic_prediction(), synthetic_target());
    SessionPresenter* presenter = window_->presenter();
    SliceView* axial = window_->sliceView(ViewAxis::Axial);
    QCOMPARE(presenter->metricAxis(), ViewAxis::Axial);
    const std::int64_t start = presenter->currentSlice();
    axial->setFocus();
    QTest::keyClick(axial, Qt::Key_Up);
    QCOMPARE(presenter->currentSlice(), start + 1);
    QCOMPARE(axial->sliceIndex(), start + 1);
    const Evaluation expected = engine_evaluation(*presenter->prediction(), *presenter->target());
    const std::size_t dice = *presenter->metricIndex(Metric::Dice);
    const double value = expected.samples[0].slices[static_cast<std::size_t>(start + 1)][dice];
    QCOMPARE(window_->lossPanel()->sliceText(Metric::Dice), format_value(Metric::Dice, value));
    QCOMPARE(window_->chart()->markerSlice(), start + 1);
    QTest::keyClick(axial, Qt::Key_PageDown);
    QCOMPARE(presenter->currentSlice(), std::max<std::int64_t>(0, start + 1 - 10));
    QCOMPARE(window_->chart()->markerSlice(), presenter->currentSlice());
    // The other views follow the crosshair: the coronal view shows the cursor's row.
    QCOMPARE(window_->sliceView(ViewAxis::Coronal)->sliceIndex(), presenter->cursor().h);
}

void TestWidgets::chartClickMovesSlice()
{
    load(synthetic_prediction(), synthetic_target());
    SliceChart* chart = window_->chart();
    QTRY_VERIFY(chart->pointCount() > 0);
    const auto position = chart->pointPosition(3);
    QVERIFY(position.has_value());
    QTest::mouseClick(chart->viewport(), Qt::LeftButton, {}, position->toPoint());
    QCOMPARE(window_->presenter()->currentSlice(), 3);
    QCOMPARE(chart->markerSlice(), 3);
    // The slice axis labels whole slice numbers: ticks from 0 at a whole step.
    const auto axes = chart->chart()->axes(Qt::Horizontal);
    QCOMPARE(axes.size(), 1);
    const auto* x = qobject_cast<const QValueAxis*>(axes.front());
    QVERIFY(x != nullptr);
    QCOMPARE(x->tickType(), QValueAxis::TicksDynamic);
    QCOMPARE(x->tickAnchor(), 0.0);
    QVERIFY(x->tickInterval() >= 1.0 && x->tickInterval() == std::floor(x->tickInterval()));
    QVERIFY(x->max() / x->tickInterval() <= 6.0);
}

void TestWidgets::worstButtonJumps()
{
    load(synthetic_prediction(), synthetic_target());
    auto* worst = window_->findChild<QPushButton*>(QStringLiteral("worstButton"));
    QVERIFY(worst);
    QTest::mouseClick(worst, Qt::LeftButton);
    const auto expected = window_->presenter()->worstSlice(window_->presenter()->chartMetric(), 0);
    QVERIFY(expected);
    QCOMPARE(window_->presenter()->currentSlice(), *expected);
    auto* next = window_->findChild<QPushButton*>(QStringLiteral("nextWorstButton"));
    QTest::mouseClick(next, Qt::LeftButton);
    QCOMPARE(window_->presenter()->currentSlice(),
             *window_->presenter()->worstSlice(window_->presenter()->chartMetric(), 1));
}

void TestWidgets::thresholdSliderChangesDice()
{
    load(synthetic_prediction(), synthetic_target());
    const QString before = window_->lossPanel()->sampleText(Metric::Dice);
    QSignalSpy evaluation(window_->presenter(), &SessionPresenter::evaluationChanged);
    window_->thresholdSlider()->setValue(90);
    QTRY_VERIFY_WITH_TIMEOUT(
        !window_->presenter()->busy() && window_->presenter()->pairView().rule.threshold == 0.9, 10000);
    EvaluationSettings settings;
    settings.threshold = 0.9;
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target(), settings);
    const double dice = expected.samples[0].values[*window_->presenter()->metricIndex(Metric::Dice)];
    QCOMPARE(window_->lossPanel()->sampleText(Metric::Dice), format_value(Metric::Dice, dice));
    QVERIFY(window_->lossPanel()->sampleText(Metric::Dice) != before);
}

// Logits opened as probabilities: the hard metrics are shown, and a visible
// warning gives the CLI's error and one click to apply the sigmoid, after
// which bce is back with the engine's value.
void TestWidgets::logitsWarningOffersSigmoid()
{
    const auto probabilities = synthetic_prediction();
    std::vector<float> logits;
    for (std::int64_t i = 0; i < probabilities->shape().elements(); ++i) {
        const auto p = static_cast<float>(element_value(*probabilities, static_cast<std::size_t>(i)));
        logits.push_back(std::log(std::max(p, 1e-3F) / std::max(1.0F - p, 1e-3F)));
    }
    auto prediction = make_float("logits", synthetic_shape(), logits);
    set_spacing(*prediction);
    load(prediction, synthetic_target());
    auto* warning = window_->findChild<QFrame*>(QStringLiteral("probabilityWarning"));
    QVERIFY(warning && warning->isVisible());
    const QString text = window_->presenter()->probabilityWarning();
    QVERIFY2(text.contains("outside [0, 1] or NaN") && text.contains("--logits"), qPrintable(text));
    // The CLI says the same (the engine's message).
    StatisticsOptions options = engine_options({});
    try {
        evaluate(*prediction, *synthetic_target(), options);
        QFAIL("the engine accepted logits as probabilities");
    } catch (const Error& error) {
        QCOMPARE(text, QString::fromStdString(error.what()));
    }
    QVERIFY(std::isnan(window_->presenter()->sampleValue(Metric::Bce)));
    QVERIFY(!std::isnan(window_->presenter()->sampleValue(Metric::Dice)));
    auto* button = window_->findChild<QPushButton*>(QStringLiteral("treatAsLogits"));
    QVERIFY(button);
    QTest::mouseClick(button, Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!window_->presenter()->busy() &&
                                 window_->presenter()->settings().activation == Activation::Sigmoid,
                             10000);
    QTRY_VERIFY(!warning->isVisible());
    QVERIFY(window_->presenter()->probabilityWarning().isEmpty());
    EvaluationSettings settings;
    settings.activation = Activation::Sigmoid;
    const Evaluation expected = engine_evaluation(*prediction, *synthetic_target(), settings);
    QCOMPARE(window_->presenter()->sampleValue(Metric::Bce),
             expected.samples[0].values[*window_->presenter()->metricIndex(Metric::Bce)]);
    // A NaN logit: the warning comes back with the CLI's NaN error.
    logits[7] = std::numeric_limits<float>::quiet_NaN();
    auto with_nan = make_float("nan_logits", synthetic_shape(), logits);
    set_spacing(*with_nan);
    load(with_nan, synthetic_target());
    QTRY_VERIFY(warning->isVisible());
    try {
        evaluate(*with_nan, *synthetic_target(), engine_options(settings));
        QFAIL("the engine accepted a NaN logit");
    } catch (const Error& error) {
        QCOMPARE(window_->presenter()->probabilityWarning(), QString::fromStdString(error.what()));
        QVERIFY(window_->presenter()->probabilityWarning().contains("NaN"));
    }
}

void TestWidgets::tableRowChangesSample()
{
    load(seed_2d_prediction(), seed_2d_target());
    SampleTable* table = window_->sampleTable();
    auto* tabs = qobject_cast<QTabWidget*>(table->parentWidget()->parentWidget());
    if (tabs) {
        tabs->setCurrentWidget(table);
    }
    QTRY_VERIFY(table->isVisible());
    QCOMPARE(table->rowCount(), 2);
    const int row = table->rowOfSample(1);
    QVERIFY(row >= 0);
    const QRect rect = table->visualRect(table->model()->index(row, 1));
    QTest::mouseClick(table->viewport(), Qt::LeftButton, {}, rect.center());
    QCOMPARE(window_->presenter()->sample(), 1);
    const Evaluation expected = engine_evaluation(*seed_2d_prediction(), *seed_2d_target());
    const double dice = expected.samples[1].values[*window_->presenter()->metricIndex(Metric::Dice)];
    QCOMPARE(window_->lossPanel()->sampleText(Metric::Dice), format_value(Metric::Dice, dice));
}

void TestWidgets::badFileShowsDialogAndKeepsState()
{
    load(seed_3d_prediction(), seed_3d_target());
    const Evaluation* before = window_->presenter()->evaluation();
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("broken.nii.gz"));
    {
        std::ofstream out(bad.toStdString(), std::ios::binary);
        out << "not a nifti file at all";
    }
    window_->openFiles(bad, bad);
    QMessageBox* box = nullptr;
    QTRY_VERIFY_WITH_TIMEOUT(
        (box = window_->findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr, 10000);
    QVERIFY(box->isVisible());
    QVERIFY(!box->text().isEmpty());
    QVERIFY(box->detailedText().contains(QStringLiteral("broken.nii.gz")));
    box->close();
    QTRY_VERIFY(window_->findChild<QMessageBox*>(QStringLiteral("errorDialog")) == nullptr);
    QCOMPARE(window_->presenter()->evaluation(), before);
    QCOMPARE(window_->presenter()->shape(), seed_3d_shape());
}

void TestWidgets::layout2dShowsOneView()
{
    load(seed_2d_prediction(), seed_2d_target());
    QVERIFY(window_->sliceView(ViewAxis::Axial)->isVisible());
    QVERIFY(!window_->sliceView(ViewAxis::Coronal)->isVisible());
    QVERIFY(!window_->surfaceView()->isVisible());
    load(synthetic_prediction(), synthetic_target());
    QVERIFY(window_->sliceView(ViewAxis::Coronal)->isVisible());
    QVERIFY(window_->surfaceView()->isVisible());
    window_->toggleMaximised(window_->sliceView(ViewAxis::Sagittal));
    QVERIFY(!window_->sliceView(ViewAxis::Axial)->isVisible());
    QVERIFY(window_->sliceView(ViewAxis::Sagittal)->isVisible());
    window_->toggleMaximised(window_->sliceView(ViewAxis::Sagittal));
    QVERIFY(window_->sliceView(ViewAxis::Axial)->isVisible());
}

// The status bar names the compute device; the choice follows the CUDA
// runtime's report (asked independently here) and an impossible request
// falls back to the CPU with the reason.
void TestWidgets::statusBarShowsDevice()
{
    auto* label = window_->findChild<QLabel*>(QStringLiteral("deviceLabel"));
    QVERIFY(label != nullptr);
    const gpu::DeviceReport report = gpu::query_devices();
    const bool gpu_usable = report.cuda_built && report.device_count > 0;
    if (qEnvironmentVariableIsEmpty("MASKLENS_DEVICE")) {
        QCOMPARE(label->text(),
                 gpu_usable ? QStringLiteral("GPU: %1").arg(QString::fromStdString(report.device_name))
                            : QStringLiteral("CPU"));
        QVERIFY(!label->toolTip().isEmpty());
    }
    // The device policy itself is tested in tests/service; here: the app's
    // status bar shows it and the numbers are the engine's.
    load(synthetic_prediction(), synthetic_target());
    const Evaluation reference = evaluate(*synthetic_prediction(), *synthetic_target(),
                                          statistics_options(EvaluationSettings{}, gui_metrics()));
    service::PairEvaluator evaluator(synthetic_prediction(), synthetic_target(), compute_device());
    const Evaluation on_device = evaluator.evaluate(statistics_options(EvaluationSettings{}, gui_metrics()));
    QCOMPARE(on_device.samples.size(), reference.samples.size());
    for (std::size_t m = 0; m < reference.metrics.size(); ++m) {
        const double a = reference.samples[0].values[m];
        const double b = on_device.samples[0].values[m];
        QVERIFY2((std::isnan(a) && std::isnan(b)) || std::abs(a - b) <= 1e-6 * std::max(1.0, std::abs(a)),
                 qPrintable(QStringLiteral("%1: %2 vs %3").arg(m).arg(a).arg(b)));
    }
}

void TestWidgets::exportCsvWritesFile()
{
    load(seed_2d_prediction(), seed_2d_target());
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("out.csv"));
    QVERIFY(window_->exportCsv(path));
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.size() > 0);
}

void TestWidgets::lossPanelShowsDistances()
{
    load(synthetic_prediction(), synthetic_target());
    SessionPresenter* presenter = window_->presenter();
    presenter->waitForDistances();
    QCOMPARE(presenter->distanceState(), DistanceState::Ready);
    const Evaluation expected =
        engine_distance_evaluation(*presenter->prediction(), *presenter->target(), 1.0);
    const auto index = static_cast<std::size_t>(
        std::find(expected.metrics.begin(), expected.metrics.end(), Metric::Hd95) - expected.metrics.begin());
    const double hd95 = expected.samples[0].values[index];
    QVERIFY(std::isfinite(hd95) && hd95 > 0);
    LossPanel* panel = window_->lossPanel();
    QCOMPARE(panel->sampleText(Metric::Hd95), format_value(Metric::Hd95, hd95));
    QVERIFY(!panel->sampleText(Metric::Assd).isEmpty());
    QVERIFY(panel->sampleText(Metric::Assd) != QString::fromUtf8(kPendingText));
    // The slice column follows the slice.
    const double slice_hd95 =
        expected.samples[0].slices[static_cast<std::size_t>(presenter->currentSlice())][index];
    QCOMPARE(panel->sliceText(Metric::Hd95), format_value(Metric::Hd95, slice_hd95));

    // The tolerance control re-computes nsd.
    panel->nsdToleranceBox()->setValue(3.0);
    QCOMPARE(presenter->nsdTolerance(), 3.0);
    presenter->waitForDistances();
    const Evaluation at3 = engine_distance_evaluation(*presenter->prediction(), *presenter->target(), 3.0);
    const auto nsd = static_cast<std::size_t>(std::find(at3.metrics.begin(), at3.metrics.end(), Metric::Nsd) -
                                              at3.metrics.begin());
    QCOMPARE(panel->sampleText(Metric::Nsd), format_value(Metric::Nsd, at3.samples[0].values[nsd]));

    // HD95 is selectable in the chart.
    auto* combo = window_->findChild<QComboBox*>(QStringLiteral("metricCombo"));
    QVERIFY(combo);
    combo->setCurrentIndex(combo->findData(static_cast<int>(Metric::Hd95)));
    QCOMPARE(presenter->chartMetric(), Metric::Hd95);
    QVERIFY(window_->chart()->pointCount() > 0);

    // The 3D option colours the prediction surface by distance, with the colour bar.
    window_->distanceColourCheck()->setChecked(true);
    window_->surfaceView()->waitForSurfaces();
    QVERIFY(window_->surfaceView()->scene().meshes().has_distances);
    QVERIFY(window_->surfaceView()->scene().distanceColourShown());
    window_->distanceColourCheck()->setChecked(false);
    QVERIFY(!window_->surfaceView()->scene().distanceColourShown());
}

namespace {

// The text of a table's cell under the column headed `header`.
QString cell_text(const QTableWidget* table, int row, const QString& header)
{
    for (int column = 0; column < table->columnCount(); ++column) {
        if (table->horizontalHeaderItem(column) && table->horizontalHeaderItem(column)->text() == header) {
            return table->item(row, column) ? table->item(row, column)->text() : QString();
        }
    }
    return QStringLiteral("<no column %1>").arg(header);
}

} // namespace

void TestWidgets::tablesShowDistances()
{
    // Sample table: every sample's distances, "…" until the pass delivers.
    load(seed_2d_prediction(), seed_2d_target());
    SessionPresenter* presenter = window_->presenter();
    SampleTable* samples = window_->sampleTable();
    if (presenter->distanceState() == DistanceState::Pending) {
        QCOMPARE(cell_text(samples, samples->rowOfSample(0), metric_label(Metric::Hd95)),
                 QString::fromUtf8(kPendingText));
    }
    presenter->waitForDistances();
    const Evaluation expected = engine_complete_evaluation(*seed_2d_prediction(), *seed_2d_target(), 1.0);
    for (std::int64_t s = 0; s < 2; ++s) {
        const int row = samples->rowOfSample(s);
        QVERIFY(row >= 0);
        for (const Metric metric : gui_distance_metrics()) {
            const double value =
                expected.samples[static_cast<std::size_t>(s)].values[metric_at(expected, metric)];
            QCOMPARE(cell_text(samples, row, metric_label(metric)), format_value(metric, value));
        }
    }

    // Label table: each label's distances.
    const auto [p, t] = label_map_pair();
    load(p, t);
    presenter->waitForDistances();
    const Evaluation labels = engine_complete_evaluation(*p, *t, 1.0);
    LabelTable* table = window_->labelTable();
    QCOMPARE(table->rowCount(), static_cast<int>(labels.samples[0].labels.size()));
    for (int row = 0; row < table->rowCount(); ++row) {
        const LabelResult& label = labels.samples[0].labels[static_cast<std::size_t>(row)];
        // "1 · label 1": the value, then the name (the default name without a label file).
        QCOMPARE(table->item(row, 0)->text(), QStringLiteral("%1 · label %1").arg(label.label));
        for (const Metric metric : gui_distance_metrics()) {
            QCOMPARE(cell_text(table, row, metric_label(metric)),
                     format_value(metric, label.values[metric_at(labels, metric)]));
        }
    }

    // Comparison table: every prediction's distances.
    load(synthetic_prediction(), synthetic_target());
    ComparisonPresenter* comparison = window_->comparison();
    const auto smaller = ball_prediction("smaller", 11, 3.5);
    comparison->addPredictionVolume(smaller, QStringLiteral("smaller"));
    ComparisonTable* compared = window_->comparisonPanel()->table();
    const int hd95 = compared->columnOf(Metric::Hd95, false);
    QVERIFY(hd95 > 0);
    QCOMPARE(compared->item(1, hd95)->text(), QString::fromUtf8(kPendingText)); // not evaluated yet
    comparison->waitForDistances();
    QCOMPARE(comparison->distanceState(1), DistanceState::Ready);
    const Evaluation first = engine_complete_evaluation(*synthetic_prediction(), *synthetic_target(), 1.0);
    const Evaluation second = engine_complete_evaluation(*smaller, *synthetic_target(), 1.0);
    const std::int64_t slice = presenter->currentSlice();
    for (const Metric metric : gui_distance_metrics()) {
        const std::size_t m = metric_at(second, metric);
        QCOMPARE(compared->item(0, compared->columnOf(metric, false))->text(),
                 format_value(metric, first.samples[0].values[m]));
        QCOMPARE(compared->item(1, compared->columnOf(metric, false))->text(),
                 format_value(metric, second.samples[0].values[m]));
        QCOMPARE(compared->item(1, compared->columnOf(metric, true))->text(),
                 format_value(metric, second.samples[0].slices[static_cast<std::size_t>(slice)][m]));
    }
    QVERIFY(compared->item(0, hd95)->text() != compared->item(1, hd95)->text());
}

namespace {

double engine_sample_value(const Volume& prediction, const Volume& target, Metric metric)
{
    const Evaluation e = engine_evaluation(prediction, target);
    const auto m =
        static_cast<std::size_t>(std::find(e.metrics.begin(), e.metrics.end(), metric) - e.metrics.begin());
    return e.samples[0].values[m];
}

} // namespace

void TestWidgets::addPredictionAddsRowAndView()
{
    load(synthetic_prediction(), synthetic_target());
    ComparisonPresenter* comparison = window_->comparison();
    ComparisonTable* table = window_->comparisonPanel()->table();
    QCOMPARE(table->rowCount(), 1);
    QVERIFY(window_->comparisonViews().empty());
    QVERIFY(!window_->comparisonLayoutShown());
    QVERIFY(window_->findChild<QAction*>(QStringLiteral("addPredictionAction")));

    // A prediction from a file, as File → Add Prediction… adds it.
    QTemporaryDir dir;
    const Shape s = synthetic_shape();
    const QString path = dir.filePath(QStringLiteral("closer.npy"));
    const auto closer = ball_prediction("closer", 9, 4.5);
    write_npy_float(path.toStdString(), {s.d, s.h, s.w}, float_values(*closer));
    window_->addPrediction(path);
    QTRY_VERIFY(comparison->count() == 2 && !comparison->busy());
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(table->item(1, ComparisonTable::kNameColumn)->text(), QStringLiteral("closer.npy"));
    QCOMPARE(window_->comparisonViews().size(), std::size_t{2});
    QVERIFY(window_->comparisonLayoutShown());
    QCOMPARE(window_->comparisonCaption(1)->text(), QStringLiteral("closer.npy"));
    QCOMPARE(window_->comparisonViews()[1]->entry(), 1);
    // The row holds the engine's values for that prediction.
    const int dice_column = table->columnOf(Metric::Dice, false);
    QVERIFY(dice_column > 0);
    QCOMPARE(table->item(1, dice_column)->text(),
             format_value(Metric::Dice, engine_sample_value(*closer, *synthetic_target(), Metric::Dice)));
    QCOMPARE(table->item(0, dice_column)->text(),
             format_value(Metric::Dice,
                          engine_sample_value(*synthetic_prediction(), *synthetic_target(), Metric::Dice)));
    // The chart overlays one curve per prediction, named.
    QCOMPARE(window_->chart()->curveCount(), 2);
    QCOMPARE(window_->chart()->curveNames().at(1), QStringLiteral("closer.npy"));
    QVERIFY(!window_->chart()->curvePoints(1).isEmpty());

    // A third one adds a third row and view.
    comparison->addPredictionVolume(ball_prediction("smaller", 11, 3.5), QStringLiteral("smaller"));
    QTRY_VERIFY(comparison->count() == 3 && !comparison->busy());
    QCOMPARE(table->rowCount(), 3);
    QCOMPARE(window_->comparisonViews().size(), std::size_t{3});
    QCOMPARE(window_->chart()->curveCount(), 3);

    // The 3D chooser: checking row 2 shows two predictions' surfaces.
    table->item(2, ComparisonTable::kShownColumn)->setCheckState(Qt::Checked);
    QCOMPARE(comparison->shownIn3dEntries(), (std::vector<int>{0, 2}));
    window_->toggleMaximised(window_->surfaceView());
    window_->comparison()->setComparisonLayout(false);
    window_->surfaceView()->waitForSurfaces();
    QTRY_COMPARE(window_->surfaceView()->scene().comparisonSurfaceCount(), 2);

    // Removing a prediction removes its row and view.
    comparison->removePrediction(1);
    QCOMPARE(table->rowCount(), 2);
    QCOMPARE(window_->comparisonViews().size(), std::size_t{2});
    QCOMPARE(window_->comparisonCaption(1)->text(), QStringLiteral("smaller"));

    // Opening another pair (as File → Open, recent pairs, drops) drops the added predictions.
    const QString target_path = dir.filePath(QStringLiteral("target.npy"));
    write_npy_float(target_path.toStdString(), {s.d, s.h, s.w}, float_values(*synthetic_target()));
    window_->openFiles(path, target_path);
    QTRY_VERIFY(!window_->presenter()->busy() && window_->presenter()->dataset().target_path == target_path);
    QCOMPARE(comparison->count(), 1);
    QCOMPARE(table->rowCount(), 1);
    QVERIFY(window_->comparisonViews().empty());
    QVERIFY(!window_->comparisonLayoutShown());
}

void TestWidgets::comparisonTableHighlightsBest()
{
    load(synthetic_prediction(), synthetic_target());
    ComparisonPresenter* comparison = window_->comparison();
    const std::vector<std::shared_ptr<Volume>> predictions{
        synthetic_prediction(), ball_prediction("closer", 9, 4.5), ball_prediction("smaller", 11, 3.5)};
    comparison->addPredictionVolume(predictions[1], QStringLiteral("closer"));
    comparison->addPredictionVolume(predictions[2], QStringLiteral("smaller"));
    QTRY_VERIFY(comparison->count() == 3 && !comparison->busy());
    ComparisonTable* table = window_->comparisonPanel()->table();
    for (const Metric metric : {Metric::Dice, Metric::DiceLoss, Metric::Fp, Metric::Fn}) {
        std::vector<double> values;
        for (const auto& prediction : predictions) {
            values.push_back(engine_sample_value(*prediction, *synthetic_target(), metric));
        }
        const double best = higher_is_worse(metric) ? *std::min_element(values.begin(), values.end())
                                                    : *std::max_element(values.begin(), values.end());
        const int column = table->columnOf(metric, false);
        QVERIFY(column > 0);
        for (int row = 0; row < 3; ++row) {
            QCOMPARE(table->item(row, column)->text(),
                     format_value(metric, values[static_cast<std::size_t>(row)]));
            QVERIFY2(table->isBest(row, column) == (values[static_cast<std::size_t>(row)] == best),
                     qPrintable(QStringLiteral("%1 row %2").arg(metric_label(metric)).arg(row)));
            QCOMPARE(table->item(row, column)->font().bold(), table->isBest(row, column));
        }
    }
    // The slice columns follow the slice.
    window_->presenter()->setCurrentSlice(2);
    const int slice_column = table->columnOf(Metric::Fn, true);
    const Evaluation e = engine_evaluation(*predictions[2], *synthetic_target());
    const auto m = static_cast<std::size_t>(std::find(e.metrics.begin(), e.metrics.end(), Metric::Fn) -
                                            e.metrics.begin());
    QCOMPARE(table->item(2, slice_column)->text(), format_value(Metric::Fn, e.samples[0].slices[2][m]));
}

void TestWidgets::comparisonViewsLinked()
{
    load(synthetic_prediction(), synthetic_target());
    ComparisonPresenter* comparison = window_->comparison();
    comparison->addPredictionVolume(ball_prediction("closer", 9, 4.5), QStringLiteral("closer"));
    QTRY_VERIFY(comparison->count() == 2 && !comparison->busy());
    QVERIFY(window_->comparisonLayoutShown());
    const auto views = window_->comparisonViews();
    QCOMPARE(views.size(), std::size_t{2});
    QVERIFY(QTest::qWaitForWindowExposed(views[1]));
    QCOMPARE(views[0]->axis(), ViewAxis::Axial);
    // Same slice: a key in the first view moves the second.
    const std::int64_t start = views[1]->sliceIndex();
    views[0]->setFocus();
    QTest::keyClick(views[0], Qt::Key_Up);
    QCOMPARE(views[1]->sliceIndex(), start + 1);
    // Same crosshair: a click in the second view moves the cursor for both.
    const QPoint click = views[1]->voxelToWidget({start + 1, 10, 6}).toPoint();
    QTest::mouseClick(views[1], Qt::LeftButton, {}, click);
    QCOMPARE(window_->presenter()->cursor(), (Voxel{start + 1, 10, 6}));
    // Same zoom and pan: Ctrl+wheel in the first view zooms the second.
    const QPoint centre(views[0]->width() / 2, views[0]->height() / 2);
    QWheelEvent wheel(centre, views[0]->mapToGlobal(centre), QPoint(), QPoint(0, 240), Qt::NoButton,
                      Qt::ControlModifier, Qt::NoScrollPhase, false);
    QApplication::sendEvent(views[0], &wheel);
    const SliceCamera zoomed = views[0]->scene().camera();
    QVERIFY(zoomed.zoom > 1.2);
    QCOMPARE(comparison->camera().zoom, zoomed.zoom);
    QVERIFY(std::abs(views[1]->scene().camera().zoom - zoomed.zoom) < 1e-6);
    // The same voxel lands on the same widget position in both views.
    const QPointF a = views[0]->voxelToWidget({start + 1, 8, 8});
    const QPointF b = views[1]->voxelToWidget({start + 1, 8, 8});
    QVERIFY2((a - b).manhattanLength() < 1.5,
             qPrintable(QStringLiteral("%1,%2 vs %3,%4").arg(a.x()).arg(a.y()).arg(b.x()).arg(b.y())));
    // R resets both.
    QTest::keyClick(views[1], Qt::Key_R);
    QVERIFY(std::abs(views[0]->scene().camera().zoom - 1.0) < 1e-6);
    // The layout switch goes back to the 2x2 views and on again.
    window_->comparisonPanel()->layoutCheck()->setChecked(false);
    QVERIFY(!window_->comparisonLayoutShown());
    window_->comparisonPanel()->layoutCheck()->setChecked(true);
    QVERIFY(window_->comparisonLayoutShown());
}

void TestWidgets::differMostAndDifferenceMode()
{
    load(synthetic_prediction(), synthetic_target());
    ComparisonPresenter* comparison = window_->comparison();
    comparison->addPredictionVolume(ball_prediction("smaller", 11, 3.5), QStringLiteral("smaller"));
    QTRY_VERIFY(comparison->count() == 2 && !comparison->busy());
    ComparisonPanel* panel = window_->comparisonPanel();
    QVERIFY(panel->differMostButton()->isEnabled());
    QTest::mouseClick(panel->differMostButton(), Qt::LeftButton);
    QCOMPARE(std::optional<std::int64_t>(window_->presenter()->currentSlice()),
             comparison->differMostSlice(0));
    QTest::mouseClick(panel->nextDifferButton(), Qt::LeftButton);
    QCOMPARE(std::optional<std::int64_t>(window_->presenter()->currentSlice()),
             comparison->differMostSlice(1));
    // Difference mode: a difference view joins the comparison layout, the
    // 2x2 slice views switch to the difference colours, the counts are shown.
    panel->differenceCheck()->setChecked(true);
    QVERIFY(comparison->differenceActive());
    QCOMPARE(window_->comparisonViews().size(), std::size_t{3});
    QCOMPARE(window_->comparisonViews()[2]->entry(), SliceView::kDifference);
    QVERIFY(window_->sliceView(ViewAxis::Axial)->showsDifference());
    const DifferenceCounts counts = comparison->differenceCounts();
    QVERIFY(counts.only_a_right + counts.only_b_right + counts.both_wrong > 0);
    // Counted off the UI thread: the label shows them once they arrive.
    QTRY_VERIFY(comparison->readyDifferenceCounts().has_value());
    QCOMPARE(*comparison->readyDifferenceCounts(), counts);
    QVERIFY(panel->countsLabel()->text().contains(QString::number(counts.only_b_right)));
    // B chooser: choosing the first prediction as B makes A the other one.
    panel->bCombo()->setCurrentIndex(0);
    QCOMPARE(comparison->pairB(), 0);
    QVERIFY(comparison->pairA() != 0);
    panel->differenceCheck()->setChecked(false);
    QCOMPARE(window_->comparisonViews().size(), std::size_t{2});
    QVERIFY(!window_->sliceView(ViewAxis::Axial)->showsDifference());
}

// A window remembers geometry, display controls, the view convention and the
// last folders when it closes; the next window starts with them; Reset
// Settings forgets them. (CTest gives each UI test its own XDG_CONFIG_HOME.)
void TestWidgets::settingsPersistAcrossRuns()
{
    window_.reset();
    QSettings().clear();
    QTemporaryDir folder;
    QVERIFY(folder.isValid());
    const auto combo = [](MainWindow& w, const char* name) {
        return w.findChild<QComboBox*>(QString::fromLatin1(name));
    };
    const auto slider = [](MainWindow& w, const char* name) {
        return w.findChild<QSlider*>(QString::fromLatin1(name));
    };
    const auto neurological = [](MainWindow& w) {
        return w.findChild<QAction*>(QStringLiteral("neurologicalAction"));
    };
    int default_mode = 0;
    int default_opacity = 0;
    {
        MainWindow first;
        first.resize(1111, 777);
        first.show();
        QVERIFY(QTest::qWaitForWindowExposed(&first));
        QVERIFY(combo(first, "modeCombo") && slider(first, "targetOpacity") && neurological(first));
        default_mode = combo(first, "modeCombo")->currentIndex();
        default_opacity = slider(first, "targetOpacity")->value();
        QVERIFY(first.lastFolder(MainWindow::Folder::Open).isEmpty());
        combo(first, "modeCombo")->setCurrentIndex(default_mode == 1 ? 0 : 1);
        slider(first, "targetOpacity")->setValue(default_opacity == 30 ? 40 : 30);
        neurological(first)->setChecked(!neurological(first)->isChecked());
        first.rememberFolder(MainWindow::Folder::Open, folder.filePath(QStringLiteral("case.nii.gz")));
        QVERIFY(first.close());
    }
    {
        MainWindow second;
        // Not the constructor's 1400 x 900: the saved size (the height within a
        // title bar's worth: Xvfb has no window manager to report frames).
        QCOMPARE(second.width(), 1111);
        QVERIFY2(std::abs(second.height() - 777) < 40, qPrintable(QString::number(second.height())));
        QCOMPARE(combo(second, "modeCombo")->currentIndex(), default_mode == 1 ? 0 : 1);
        QCOMPARE(slider(second, "targetOpacity")->value(), default_opacity == 30 ? 40 : 30);
        QVERIFY(neurological(second)->isChecked());
        QCOMPARE(second.lastFolder(MainWindow::Folder::Open), QFileInfo(folder.path()).absoluteFilePath());
        QVERIFY(second.lastFolder(MainWindow::Folder::Export).isEmpty());
        second.findChild<QAction*>(QStringLiteral("resetSettingsAction"))->trigger();
    }
    {
        MainWindow third;
        QCOMPARE(combo(third, "modeCombo")->currentIndex(), default_mode);
        QCOMPARE(slider(third, "targetOpacity")->value(), default_opacity);
        QVERIFY(!neurological(third)->isChecked());
        QVERIFY(third.lastFolder(MainWindow::Folder::Open).isEmpty());
    }
    QSettings().clear();
}

// The loss panel's texts, read back as numbers, equal the golden generator's
// PyTorch values (tests/generate_golden.py -> tests/data/golden/binary_3d) to
// the six significant digits they show, for both samples and their current
// slice; an undefined value (null in the file: NaN) shows the em dash. The
// case's options are the app's defaults (threshold 0.5, smoothing 1e-6,
// empty masks NaN, slicing along D), checked first.
void TestWidgets::panelShowsGoldenNumbers()
{
    const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/golden/binary_3d/");
    QFile file(dir + QStringLiteral("expected.json"));
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject golden = QJsonDocument::fromJson(file.readAll()).object();
    const QJsonObject options = golden.value(QStringLiteral("options")).toObject();
    QCOMPARE(options.value(QStringLiteral("threshold")).toDouble(), 0.5);
    QCOMPARE(options.value(QStringLiteral("smooth")).toDouble(), 1e-6);
    QCOMPARE(options.value(QStringLiteral("empty")).toString(), QStringLiteral("nan"));
    QCOMPARE(options.value(QStringLiteral("axis")).toString(), QStringLiteral("d"));
    const auto read = [&](const char* name) {
        return std::make_shared<Volume>(io::read_volume((dir + QLatin1String(name)).toStdString()));
    };
    load(read("pred.npy"), read("target.npy"));
    SessionPresenter* presenter = window_->presenter();
    LossPanel* panel = window_->lossPanel();
    int compared = 0;
    const auto check = [&](const QString& text, const QJsonValue& expected, const QString& where) {
        if (expected.isNull()) {
            ++compared;
            if (text != QStringLiteral("—")) {
                qWarning().noquote() << where << "shows" << text << "expected —";
                return false;
            }
            return true;
        }
        bool ok = false;
        const double shown = text.toDouble(&ok);
        const double value = expected.toDouble();
        // Six significant digits: off by at most half a unit in the sixth.
        const bool close = ok && std::abs(shown - value) <= 5e-6 * std::abs(value) + 1e-12;
        if (!close) {
            qWarning().noquote() << where << "shows" << text << "expected" << QString::number(value, 'g', 17);
        }
        ++compared;
        return close;
    };
    const QJsonArray samples = golden.value(QStringLiteral("samples")).toArray();
    QCOMPARE(samples.size(), 2);
    for (int n = 0; n < samples.size(); ++n) {
        presenter->setSample(n);
        QTRY_VERIFY(!presenter->busy());
        const QJsonObject sample = samples[n].toObject();
        const std::int64_t slice = presenter->currentSlice();
        QJsonObject slice_values;
        for (const QJsonValue entry : sample.value(QStringLiteral("slices")).toArray()) {
            if (entry.toObject().value(QStringLiteral("index")).toInt() == slice) {
                slice_values = entry.toObject().value(QStringLiteral("values")).toObject();
            }
        }
        QVERIFY(!slice_values.isEmpty());
        const QJsonObject values = sample.value(QStringLiteral("values")).toObject();
        for (auto it = values.begin(); it != values.end(); ++it) {
            const auto metric = parse_metric(it.key().toStdString());
            QVERIFY2(metric, qPrintable(it.key()));
            const QString where = QStringLiteral("sample %1 %2").arg(n).arg(it.key());
            QVERIFY(check(panel->sampleText(*metric), it.value(), where));
            QVERIFY(check(panel->sliceText(*metric), slice_values.value(it.key()),
                          where + QStringLiteral(" slice %1").arg(slice)));
        }
    }
    QCOMPARE(compared, 2 * 2 * 16);
}

void TestWidgets::firstFrameStartsTheEvaluation()
{
    // The window holds a fresh pair's evaluation until the axial view has
    // drawn it (SessionPresenter::setPreviewFirst); with a limit no test
    // reaches, only that frame can start the numbers.
    load(seed_3d_prediction(), seed_3d_target());
    QVERIFY(window_->presenter()->previewFirst());
    window_->presenter()->setPreviewFirst(true, std::chrono::minutes(10));
    QTemporaryDir dir;
    const auto [prediction_path, target_path] = write_synthetic_pair(dir);
    bool drawn_while_previewing = false;
    SliceView* axial = window_->sliceView(ViewAxis::Axial);
    const QObject scope; // disconnects the lambda (it refers to locals) however the test ends
    connect(axial, &VtkHostWidget::frameSwapped, &scope,
            [&]() { drawn_while_previewing = drawn_while_previewing || window_->presenter()->previewing(); });
    window_->openFiles(prediction_path, target_path);
    QTRY_VERIFY_WITH_TIMEOUT(!window_->presenter()->busy(), 20000);
    QVERIFY(drawn_while_previewing);
    QCOMPARE(window_->presenter()->dataset().target_path, target_path);
    QVERIFY(!window_->presenter()->isPending(Metric::Dice));
    QCOMPARE(window_->presenter()->sampleValue(Metric::Dice),
             engine_sample_value(*synthetic_prediction(), *synthetic_target(), Metric::Dice));
}

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestWidgets test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_widgets.moc"
