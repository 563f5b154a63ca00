// Widget tests on the real main window (QTest under Xvfb): keys change the
// slice and the panel and chart follow, the chart and the sample table are
// clickable, the threshold slider changes Dice, a bad file shows the error
// dialog and keeps the previous state.
#include "masklens/ui/main_window.h"
#include "masklens/ui/panels.h"
#include "masklens/ui/views.h"
#include "ui_test_support.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QMessageBox>
#include <QPushButton>
#include <QSlider>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

class TestWidgets : public QObject {
    Q_OBJECT
private slots:
    void init();
    void cleanup();
    void keyPressChangesSlice();
    void chartClickMovesSlice();
    void worstButtonJumps();
    void thresholdSliderChangesDice();
    void tableRowChangesSample();
    void badFileShowsDialogAndKeepsState();
    void layout2dShowsOneView();
    void exportCsvWritesFile();
    void lossPanelShowsDistances();

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
        !window_->presenter()->busy() && window_->presenter()->pairView().threshold == 0.9, 10000);
    EvaluationSettings settings;
    settings.threshold = 0.9;
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target(), settings);
    const double dice = expected.samples[0].values[*window_->presenter()->metricIndex(Metric::Dice)];
    QCOMPARE(window_->lossPanel()->sampleText(Metric::Dice), format_value(Metric::Dice, dice));
    QVERIFY(window_->lossPanel()->sampleText(Metric::Dice) != before);
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

int main(int argc, char** argv)
{
    VtkHostWidget::setDefaultSurfaceFormat();
    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true);
    TestWidgets test;
    return QTest::qExec(&test, argc, argv);
}

#include "test_widgets.moc"
