// SessionPresenter and slice-model tests without a window: the values shown
// are the engine's, and slice / sample / threshold changes update them.
// Long (over 800 lines) on purpose: one flat list of independent cases that
// share the fixtures below; splitting it would only scatter those fixtures.
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/panels.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/slice_model.h"
#include "ui_test_support.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <limits>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

class TestPresenter : public QObject {
    Q_OBJECT
private slots:
    void seed2dMatchesEngine();
    void seed3dMatchesEngineAndSliceChange();
    void sampleChangeUpdatesValues();
    void thresholdChangeReevaluates();
    void asyncEvaluationDelivers();
    void failedLoadKeepsState();
    void missingFileReportsError();
    void openShowsVolumesBeforeNumbers();
    void failureAfterPreviewRestoresState();
    void previewFirstHoldsTheEvaluation();
    void worstSliceRanks();
    void composeSliceColoursClasses();
    void voxelPixelRoundTrip_data();
    void voxelPixelRoundTrip();
    void distancesMatchEngine3d();
    void distancesMatchEngine2d();
    void distancesPendingUntilComputed();
    void distancesAsyncFollowThreshold();
    void distancesDisabled();
    void distancesPerSampleAndLabel();
    void perLabelChartSeries();
    void comparisonMatchesEngine();
    void comparisonFollowsSettingsAndSlice();
    void comparisonPerPredictionActivation();
    void comparisonBestEntries();
    void comparisonDifferMostSlice();
    void comparisonDifferenceCounts();
    void comparisonLinkedNavigation();
    void comparisonAsyncAndErrors();
    void comparisonOpenFiles();
    void comparisonDistancesMatchEngine();
    void comparisonDistancesAsync();
    void comparisonDifferenceCountsAsync();
};

namespace {

// The presenter's distance values (sample, every slice) equal the engine's.
void compare_distances(const SessionPresenter& presenter, const Evaluation& expected, std::int64_t sample)
{
    for (const Metric metric : gui_distance_metrics()) {
        const auto found = std::find(expected.metrics.begin(), expected.metrics.end(), metric);
        QVERIFY(found != expected.metrics.end());
        const auto index = static_cast<std::size_t>(found - expected.metrics.begin());
        const SampleResult& result = expected.samples[static_cast<std::size_t>(sample)];
        QVERIFY2(same_value(presenter.sampleValue(metric), result.values[index]),
                 qPrintable(QStringLiteral("%1: %2 vs %3")
                                .arg(QString::fromUtf8(metric_name(metric).data()))
                                .arg(presenter.sampleValue(metric))
                                .arg(result.values[index])));
        const std::vector<double> series = presenter.sliceSeries(metric);
        QCOMPARE(series.size(), result.slices.size());
        for (std::size_t s = 0; s < series.size(); ++s) {
            QVERIFY(same_value(series[s], result.slices[s][index]));
        }
        QVERIFY(same_value(presenter.sliceValue(metric),
                           result.slices[static_cast<std::size_t>(presenter.currentSlice())][index]));
    }
}

} // namespace

void TestPresenter::distancesMatchEngine3d()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    QVERIFY(!presenter.isPending(Metric::Hd95));
    const Evaluation expected = engine_distance_evaluation(*synthetic_prediction(), *synthetic_target(), 1.0);
    compare_distances(presenter, expected, 0);
    // A 2-voxel shift along W (0.8 mm): the sample's hd95 is positive and finite, in mm.
    const double hd95 = presenter.sampleValue(Metric::Hd95);
    QVERIFY(hd95 > 0 && std::isfinite(hd95));
    // The fast metrics are unchanged by the distance pass.
    const Evaluation fast = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    QVERIFY(same_values(*presenter.sampleValues(), fast.samples[0].values));
    // The shown rows: the evaluation's metrics and, after iou, the distance metrics.
    const std::vector<Metric> shown = presenter.shownMetrics();
    QCOMPARE(shown.size(), gui_metrics().size() + gui_distance_metrics().size());
    const auto iou = std::find(shown.begin(), shown.end(), Metric::Iou);
    QVERIFY(iou != shown.end());
    QCOMPARE(*(iou + 1), Metric::Hd95);

    // Another tolerance: nsd follows (the engine's value at 2 mm).
    QSignalSpy changed(&presenter, &SessionPresenter::distancesChanged);
    presenter.setNsdTolerance(2.0);
    QVERIFY(changed.count() >= 1);
    compare_distances(presenter,
                      engine_distance_evaluation(*synthetic_prediction(), *synthetic_target(), 2.0), 0);
    // Another slice and threshold.
    presenter.setCurrentSlice(4);
    EvaluationSettings settings;
    settings.threshold = 0.3;
    presenter.setThreshold(0.3);
    compare_distances(presenter,
                      engine_distance_evaluation(*synthetic_prediction(), *synthetic_target(), 2.0, settings),
                      0);
}

void TestPresenter::distancesMatchEngine2d()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(seed_2d_prediction(), seed_2d_target());
    const Evaluation expected = engine_distance_evaluation(*seed_2d_prediction(), *seed_2d_target(), 1.0);
    compare_distances(presenter, expected, 0);
    presenter.setSample(1);
    compare_distances(presenter, expected, 1);
}

void TestPresenter::distancesPendingUntilComputed()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    // When the new numbers are announced, the distances of the old ones are gone:
    // the panel shows "…", never a stale distance next to new fast metrics.
    QList<bool> pending;
    connect(&presenter, &SessionPresenter::evaluationChanged, &presenter,
            [&]() { pending.append(presenter.isPending(Metric::Hd95)); });
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    presenter.setThreshold(0.7);
    QCOMPARE(pending, (QList<bool>{true, true}));
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    QVERIFY(std::isnan(SessionPresenter().sampleValue(Metric::Hd95)));
}

void TestPresenter::distancesAsyncFollowThreshold()
{
    SessionPresenter presenter;
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    presenter.waitForIdle();
    presenter.waitForDistances();
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    // Several changes in a row: the last one wins, for the fast and the distance values.
    for (const double threshold : {0.2, 0.4, 0.6}) {
        presenter.setThreshold(threshold);
    }
    presenter.waitForIdle();
    presenter.waitForDistances();
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    EvaluationSettings settings;
    settings.threshold = 0.6;
    compare_distances(presenter,
                      engine_distance_evaluation(*synthetic_prediction(), *synthetic_target(), 1.0, settings),
                      0);
}

void TestPresenter::distancesDisabled()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setDistancesEnabled(false);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    QCOMPARE(presenter.distanceState(), DistanceState::Off);
    QVERIFY(std::isnan(presenter.sampleValue(Metric::Hd95)));
    QCOMPARE(presenter.shownMetrics().size(), gui_metrics().size());
    presenter.setDistancesEnabled(true);
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    QVERIFY(presenter.sampleValue(Metric::Hd95) > 0);
}

void TestPresenter::distancesPerSampleAndLabel()
{
    // Per sample (the sample table): every sample of the seed's 2D batch, not only the current one.
    {
        SessionPresenter presenter;
        presenter.setSynchronous(true);
        presenter.setVolumes(seed_2d_prediction(), seed_2d_target());
        const Evaluation expected = engine_complete_evaluation(*seed_2d_prediction(), *seed_2d_target(), 1.0);
        QVERIFY(expected.samples.size() >= 2);
        for (std::size_t s = 0; s < expected.samples.size(); ++s) {
            for (const Metric metric : gui_distance_metrics()) {
                const double value = expected.samples[s].values[metric_at(expected, metric)];
                QVERIFY2(same_value(presenter.sampleValueOf(static_cast<std::int64_t>(s), metric), value),
                         qPrintable(QStringLiteral("sample %1 %2").arg(s).arg(metric_label(metric))));
            }
            for (const Metric metric : {Metric::Dice, Metric::Fp}) {
                QVERIFY(same_value(presenter.sampleValueOf(static_cast<std::int64_t>(s), metric),
                                   expected.samples[s].values[metric_at(expected, metric)]));
            }
        }
        // The samples differ (a mix-up would show).
        QVERIFY(
            !same_value(presenter.sampleValueOf(0, Metric::Assd), presenter.sampleValueOf(1, Metric::Assd)));
        // The table's metrics carry the distances after iou; pending while the pass runs.
        const std::vector<Metric> columns = table_metrics(presenter, false);
        const auto iou = std::find(columns.begin(), columns.end(), Metric::Iou);
        QVERIFY(iou != columns.end() && iou + 1 != columns.end());
        QCOMPARE(*(iou + 1), Metric::Hd95);
        presenter.setDistancesEnabled(false);
        QVERIFY(std::isnan(presenter.sampleValueOf(0, Metric::Hd95)));
        const std::vector<Metric> without = table_metrics(presenter, false);
        QVERIFY(std::find(without.begin(), without.end(), Metric::Hd95) == without.end());
    }
    // Per label (the label table): a label map with two labels and another tolerance.
    {
        const auto [p, t] = label_map_pair();
        SessionPresenter presenter;
        presenter.setSynchronous(true);
        presenter.setNsdTolerance(0.5);
        presenter.setVolumes(p, t);
        QCOMPARE(presenter.evaluation()->statistics.pairing, PairingMode::LabelMaps);
        const Evaluation expected = engine_complete_evaluation(*p, *t, 0.5);
        const auto& labels = expected.samples[0].labels;
        QVERIFY(labels.size() >= 2);
        for (const LabelResult& label : labels) {
            for (const Metric metric : gui_distance_metrics()) {
                const double value = label.values[metric_at(expected, metric)];
                QVERIFY2(same_value(presenter.labelValueOf(0, label.label, metric), value),
                         qPrintable(QStringLiteral("label %1 %2: %3 vs %4")
                                        .arg(label.label)
                                        .arg(metric_label(metric))
                                        .arg(presenter.labelValueOf(0, label.label, metric))
                                        .arg(value)));
            }
        }
        // Both labels have finite, different, positive hd (the test would see a mix-up).
        const double hd1 = presenter.labelValueOf(0, 1, Metric::Hd);
        const double hd2 = presenter.labelValueOf(0, 2, Metric::Hd);
        QVERIFY(hd1 > 0 && std::isfinite(hd1));
        QVERIFY(hd2 > 0 && std::isfinite(hd2));
        QVERIFY(presenter.labelValueOf(0, 1, Metric::Nsd) != presenter.labelValueOf(0, 2, Metric::Nsd) ||
                presenter.labelValueOf(0, 1, Metric::Assd) != presenter.labelValueOf(0, 2, Metric::Assd));
        QVERIFY(std::isnan(presenter.labelValueOf(0, 99, Metric::Hd)));
        const std::vector<Metric> columns = table_metrics(presenter, true);
        QVERIFY(std::find(columns.begin(), columns.end(), Metric::Nsd) != columns.end());
    }
}

void TestPresenter::seed2dMatchesEngine()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    QSignalSpy dataset(&presenter, &SessionPresenter::datasetChanged);
    presenter.setVolumes(seed_2d_prediction(), seed_2d_target());
    QCOMPARE(dataset.count(), 1);
    QVERIFY(presenter.hasData());
    const Evaluation expected = engine_evaluation(*seed_2d_prediction(), *seed_2d_target());
    QCOMPARE(presenter.sampleCount(), 2);
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
    QVERIFY(same_values(*presenter.sliceValues(), expected.samples[0].slices[0]));
    QVERIFY(same_values(presenter.evaluation()->batch, expected.batch));
    // The seed's DiceLoss over the batch is 0.0625.
    const auto index = presenter.metricIndex(Metric::DiceLoss);
    QVERIFY(index.has_value());
    QVERIFY(std::abs(presenter.evaluation()->batch[*index] - 0.0625) < 1e-5);
    QVERIFY(!presenter.is3d());
}

void TestPresenter::seed3dMatchesEngineAndSliceChange()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(seed_3d_prediction(), seed_3d_target());
    const Evaluation expected = engine_evaluation(*seed_3d_prediction(), *seed_3d_target());
    QVERIFY(std::abs(presenter.sampleValue(Metric::DiceLoss) - 0.0526) < 1e-4);
    QCOMPARE(presenter.sliceCount(), 2);
    QSignalSpy cursor(&presenter, &SessionPresenter::cursorChanged);
    presenter.setCurrentSlice(0);
    QVERIFY(same_values(*presenter.sliceValues(), expected.samples[0].slices[0]));
    presenter.setCurrentSlice(1);
    QCOMPARE(presenter.currentSlice(), 1);
    QVERIFY(cursor.count() >= 1);
    QVERIFY(same_values(*presenter.sliceValues(), expected.samples[0].slices[1]));
    QCOMPARE(presenter.sliceValue(Metric::Dice),
             expected.samples[0].slices[1][*presenter.metricIndex(Metric::Dice)]);
    // Stepping past the end clamps.
    presenter.stepSlice(ViewAxis::Axial, 5);
    QCOMPARE(presenter.currentSlice(), 1);
}

void TestPresenter::sampleChangeUpdatesValues()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(seed_2d_prediction(), seed_2d_target());
    const Evaluation expected = engine_evaluation(*seed_2d_prediction(), *seed_2d_target());
    QSignalSpy sample(&presenter, &SessionPresenter::sampleChanged);
    presenter.setSample(1);
    QCOMPARE(sample.count(), 1);
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[1].values));
    QVERIFY(same_values(*presenter.sliceValues(), expected.samples[1].slices[0]));
    // Sample 0 is a perfect match: dice 1; sample 1 is not.
    QVERIFY(presenter.sampleValue(Metric::Dice) < 1.0);
    presenter.setSample(0);
    QCOMPARE(presenter.sampleValue(Metric::Dice), 1.0);
}

void TestPresenter::thresholdChangeReevaluates()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    const double dice_at_half = presenter.sampleValue(Metric::Dice);
    QSignalSpy evaluation(&presenter, &SessionPresenter::evaluationChanged);
    presenter.setThreshold(0.9);
    QCOMPARE(evaluation.count(), 1);
    EvaluationSettings settings;
    settings.threshold = 0.9;
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target(), settings);
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
    QVERIFY(same_values(*presenter.sliceValues(), expected.samples[0].slices[presenter.currentSlice()]));
    QVERIFY(presenter.sampleValue(Metric::Dice) != dice_at_half);
    // The overlays follow the threshold the numbers were computed at.
    QCOMPARE(presenter.pairView().rule.threshold, 0.9);
}

void TestPresenter::asyncEvaluationDelivers()
{
    SessionPresenter presenter;
    QSignalSpy evaluation(&presenter, &SessionPresenter::evaluationChanged);
    QSignalSpy busy(&presenter, &SessionPresenter::busyChanged);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    QVERIFY(presenter.busy());
    QVERIFY(evaluation.wait(10000));
    QVERIFY(!presenter.busy());
    QVERIFY(busy.count() >= 2);
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
    // Several threshold changes in a row coalesce; the last one wins.
    presenter.setThreshold(0.3);
    presenter.setThreshold(0.6);
    presenter.setThreshold(0.7);
    QTRY_VERIFY_WITH_TIMEOUT(!presenter.busy() && presenter.pairView().rule.threshold == 0.7, 10000);
    EvaluationSettings settings;
    settings.threshold = 0.7;
    const Evaluation at_07 = engine_evaluation(*synthetic_prediction(), *synthetic_target(), settings);
    QVERIFY(same_values(*presenter.sampleValues(), at_07.samples[0].values));
}

void TestPresenter::failedLoadKeepsState()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(seed_3d_prediction(), seed_3d_target());
    const Evaluation* before = presenter.evaluation();
    QSignalSpy error(&presenter, &SessionPresenter::errorOccurred);
    // Shapes differ: the engine refuses the pair.
    presenter.setVolumes(seed_2d_prediction(), seed_3d_target());
    QCOMPARE(error.count(), 1);
    QVERIFY(!error.at(0).at(0).toString().isEmpty());
    QVERIFY(error.at(0).at(1).toString().contains(QStringLiteral("seed_3d_target")) ||
            error.at(0).at(1).toString().contains(QStringLiteral("seed_2d_pred")));
    QCOMPARE(presenter.evaluation(), before);
    QCOMPARE(presenter.shape(), seed_3d_shape());
}

void TestPresenter::missingFileReportsError()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(seed_3d_prediction(), seed_3d_target());
    QTemporaryDir dir;
    const QString bad = dir.filePath(QStringLiteral("bad.npy"));
    {
        std::ofstream out(bad.toStdString(), std::ios::binary);
        out << "this is not a numpy file";
    }
    QSignalSpy error(&presenter, &SessionPresenter::errorOccurred);
    presenter.openFiles(bad, bad);
    QCOMPARE(error.count(), 1);
    QVERIFY(error.at(0).at(1).toString().contains(QStringLiteral("bad.npy")));
    QCOMPARE(presenter.shape(), seed_3d_shape());
}

void TestPresenter::openShowsVolumesBeforeNumbers()
{
    QTemporaryDir dir;
    const auto [prediction_path, target_path] = write_synthetic_pair(dir);
    SessionPresenter presenter;
    // What the views see at each datasetChanged.
    struct Seen {
        bool previewing, has_data, pending_dice, pending_hd95;
        Shape shape;
        std::int64_t slices;
        double dice;
        PairingMode pairing;
    };
    std::vector<Seen> seen;
    connect(&presenter, &SessionPresenter::datasetChanged, &presenter, [&]() {
        seen.push_back({presenter.previewing(), presenter.hasData(), presenter.isPending(Metric::Dice),
                        presenter.isPending(Metric::Hd95), presenter.shape(), presenter.sliceCount(),
                        presenter.sampleValue(Metric::Dice), presenter.pairView().pairing});
    });
    presenter.openFiles(prediction_path, target_path);
    presenter.waitForIdle();
    QCOMPARE(seen.size(), std::size_t{2});
    // First the volumes, no numbers ("…"), with the engine's grid and slicing axis.
    QVERIFY(seen[0].previewing);
    QVERIFY(seen[0].has_data);
    QVERIFY(seen[0].pending_dice && seen[0].pending_hd95);
    QVERIFY(std::isnan(seen[0].dice));
    QCOMPARE(seen[0].shape, synthetic_shape());
    QCOMPARE(seen[0].slices, synthetic_shape().d);
    QCOMPARE(seen[0].pairing, PairingMode::Binary);
    // Then the numbers: the engine's.
    QVERIFY(!seen[1].previewing);
    QVERIFY(!seen[1].pending_dice);
    QVERIFY(!presenter.previewing());
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
    QCOMPARE(seen[1].dice, expected.samples[0].values[metric_at(expected, Metric::Dice)]);
    presenter.waitForDistances();
    // (.npy carries no spacing: the engine on the volumes as read)
    compare_distances(presenter,
                      engine_distance_evaluation(*presenter.prediction(), *presenter.target(), 1.0), 0);
    // Turned off (the comparison does so while predictions are added): no preview.
    seen.clear();
    presenter.setPreviewAllowed(false);
    presenter.openFiles(prediction_path, target_path);
    presenter.waitForIdle();
    QCOMPARE(seen.size(), std::size_t{1});
    QVERIFY(!seen[0].previewing && !seen[0].pending_dice);
    // In-memory volumes are never previewed (the evaluation is all the work).
    seen.clear();
    presenter.setPreviewAllowed(true);
    presenter.setVolumes(seed_3d_prediction(), seed_3d_target());
    presenter.waitForIdle();
    QCOMPARE(seen.size(), std::size_t{1});
    QVERIFY(!seen[0].previewing);
}

void TestPresenter::previewFirstHoldsTheEvaluation()
{
    // With the window's setPreviewFirst, the evaluation of freshly read
    // volumes waits for previewShown() (the first frame), a cancel or the
    // time limit; the numbers are then the engine's, as without it.
    QTemporaryDir dir;
    const auto [prediction_path, target_path] = write_synthetic_pair(dir);
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    SessionPresenter presenter;
    presenter.setDistancesEnabled(false);
    presenter.setPreviewFirst(true, std::chrono::minutes(10));
    QVERIFY(presenter.previewFirst());
    bool released = false;
    presenter.openFiles(prediction_path, target_path);
    QTRY_VERIFY(presenter.previewing());
    // Held: a pair this small is evaluated in milliseconds otherwise.
    QTest::qWait(300);
    QVERIFY(presenter.busy());
    QVERIFY(presenter.previewing());
    QVERIFY(presenter.isPending(Metric::Dice));
    connect(&presenter, &SessionPresenter::evaluationChanged, &presenter, [&]() { released = true; });
    presenter.previewShown();
    QTRY_VERIFY(!presenter.busy());
    QVERIFY(released);
    QVERIFY(!presenter.previewing());
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));

    // A cancel wakes a held evaluation: the previous pair comes back.
    const Evaluation* before = presenter.evaluation();
    presenter.openFiles(prediction_path, target_path);
    QTRY_VERIFY(presenter.previewing());
    QSignalSpy cancelled(&presenter, &SessionPresenter::cancelled);
    presenter.cancel();
    QTRY_VERIFY(!presenter.busy());
    QCOMPARE(cancelled.count(), 1);
    QCOMPARE(presenter.evaluation(), before);

    // No frame at all (a hidden window): the limit starts it. (The preview
    // is seen in its own signal: it may last less than a QTRY step.)
    presenter.setPreviewFirst(true, std::chrono::milliseconds(50));
    bool previewed = false;
    connect(&presenter, &SessionPresenter::datasetChanged, &presenter,
            [&]() { previewed = previewed || presenter.previewing(); });
    presenter.openFiles(prediction_path, target_path);
    QTRY_VERIFY(!presenter.busy());
    QVERIFY(previewed);
    QVERIFY(!presenter.previewing());
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
}

void TestPresenter::failureAfterPreviewRestoresState()
{
    // The pass refuses negative labels after both files were read and checked:
    // the volumes were shown, then everything of the previous pair comes back.
    QTemporaryDir dir;
    const auto [prediction_path, target_path] = write_synthetic_pair(dir);
    SessionPresenter presenter;
    presenter.openFiles(prediction_path, target_path);
    presenter.waitForIdle();
    presenter.waitForDistances();
    presenter.setCursor({3, 4, 5});
    const Evaluation* before = presenter.evaluation();
    const Evaluation* distances_before = presenter.distanceEvaluation();
    const Volume* prediction_before = presenter.prediction();
    QVERIFY(before && distances_before);

    const QString bad_prediction = dir.filePath(QStringLiteral("labels_pred.npy"));
    const QString bad_target = dir.filePath(QStringLiteral("labels_target.npy"));
    {
        // int16 labels with a negative value.
        std::ofstream out(bad_prediction.toStdString(), std::ios::binary);
        std::string header = "{'descr': '<i2', 'fortran_order': False, 'shape': (2, 2, 2), }";
        while ((10 + header.size() + 1) % 64 != 0) {
            header += ' ';
        }
        header += '\n';
        out.write("\x93NUMPY\x01\x00", 8);
        const char length[2] = {static_cast<char>(header.size() & 0xff),
                                static_cast<char>(header.size() >> 8)};
        out.write(length, 2);
        out.write(header.data(), static_cast<std::streamsize>(header.size()));
        const std::int16_t labels[8] = {-3, 1, 0, 1, 0, 1, 0, 1};
        out.write(reinterpret_cast<const char*>(labels), sizeof(labels));
    }
    // Negative labels against an int16 target of the same kind.
    {
        std::ifstream in(bad_prediction.toStdString(), std::ios::binary);
        std::ofstream out(bad_target.toStdString(), std::ios::binary);
        out << in.rdbuf();
    }
    QList<bool> previewing;
    connect(&presenter, &SessionPresenter::datasetChanged, &presenter,
            [&]() { previewing.append(presenter.previewing()); });
    QSignalSpy error(&presenter, &SessionPresenter::errorOccurred);
    presenter.openFiles(bad_prediction, bad_target);
    presenter.waitForIdle();
    QCOMPARE(error.count(), 1);
    // Shown, then restored.
    QCOMPARE(previewing, (QList<bool>{true, false}));
    QVERIFY(!presenter.previewing());
    QCOMPARE(presenter.evaluation(), before);
    QCOMPARE(presenter.prediction(), prediction_before);
    QCOMPARE(presenter.shape(), synthetic_shape());
    QCOMPARE(presenter.cursor(), (Voxel{3, 4, 5}));
    QCOMPARE(presenter.distanceState(), DistanceState::Ready);
    QCOMPARE(presenter.distanceEvaluation(), distances_before);
    QVERIFY(!presenter.isPending(Metric::Dice));
    QCOMPARE(presenter.dataset().prediction_path, prediction_path);
    const Evaluation expected = engine_evaluation(*synthetic_prediction(), *synthetic_target());
    QVERIFY(same_values(*presenter.sampleValues(), expected.samples[0].values));
}

void TestPresenter::worstSliceRanks()
{
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(synthetic_prediction(), synthetic_target());
    const std::vector<double> series = presenter.sliceSeries(Metric::DiceLoss);
    QCOMPARE(static_cast<std::int64_t>(series.size()), presenter.sliceCount());
    const auto worst = presenter.worstSlice(Metric::DiceLoss, 0);
    const auto next = presenter.worstSlice(Metric::DiceLoss, 1);
    QVERIFY(worst && next);
    QVERIFY(*worst != *next);
    for (const double value : series) {
        if (!std::isnan(value)) {
            QVERIFY(value <= series[static_cast<std::size_t>(*worst)]);
        }
    }
    QVERIFY(series[static_cast<std::size_t>(*next)] <= series[static_cast<std::size_t>(*worst)]);
    // Dice: lower is worse.
    const auto worst_dice = presenter.worstSlice(Metric::Dice, 0);
    QVERIFY(worst_dice);
    const std::vector<double> dice = presenter.sliceSeries(Metric::Dice);
    for (const double value : dice) {
        if (!std::isnan(value)) {
            QVERIFY(value >= dice[static_cast<std::size_t>(*worst_dice)]);
        }
    }
}

void TestPresenter::composeSliceColoursClasses()
{
    const auto prediction = synthetic_prediction();
    const auto target = synthetic_target();
    PairView view;
    LayerSettings layers;
    const SliceImage image = compose_slice(*prediction, *target, view, ViewAxis::Axial, 6, layers);
    QCOMPARE(image.geometry.width, 16);
    QCOMPARE(image.geometry.height, 16);
    QCOMPARE(image.geometry.spacing_x, 0.8);
    const auto colour_at = [&](const Voxel& voxel) {
        const auto pixel = voxel_to_pixel(prediction->shape(), ViewAxis::Axial, voxel);
        const std::size_t i =
            (static_cast<std::size_t>(pixel[1]) * 16 + static_cast<std::size_t>(pixel[0])) * 4;
        return Rgb{image.rgba[i], image.rgba[i + 1], image.rgba[i + 2]};
    };
    QVERIFY(colour_at({6, 8, 8}) == kTruePositiveColour);
    QVERIFY(colour_at({6, 8, 13}) == kFalsePositiveColour);
    QVERIFY(colour_at({6, 8, 4}) == kFalseNegativeColour);
    QVERIFY(colour_at({6, 14, 14}) == (Rgb{0, 0, 0}));
    // Coronal slices are D tall with 2.5 mm pixels.
    const SliceImage coronal = compose_slice(*prediction, *target, view, ViewAxis::Coronal, 8, layers);
    QCOMPARE(coronal.geometry.height, 12);
    QCOMPARE(coronal.geometry.spacing_y, 2.5);
}

void TestPresenter::voxelPixelRoundTrip_data()
{
    QTest::addColumn<int>("axis");
    QTest::newRow("axial") << static_cast<int>(ViewAxis::Axial);
    QTest::newRow("coronal") << static_cast<int>(ViewAxis::Coronal);
    QTest::newRow("sagittal") << static_cast<int>(ViewAxis::Sagittal);
}

void TestPresenter::voxelPixelRoundTrip()
{
    QFETCH(int, axis);
    const auto view_axis = static_cast<ViewAxis>(axis);
    const Shape shape = synthetic_shape();
    const Voxel voxel{3, 5, 11};
    const auto pixel = voxel_to_pixel(shape, view_axis, voxel);
    const Voxel back =
        pixel_to_voxel(shape, view_axis, axis_coordinate(voxel, view_axis), pixel[0], pixel[1]);
    QVERIFY(back == voxel);
}

void TestPresenter::perLabelChartSeries()
{
    // Label maps (uint8, labels 0..2) in a 4 x 4 x 4 volume: label 1 in slices 0-1, label 2 in 2-3;
    // the prediction misses label 2 in slice 3.
    Shape shape;
    shape.d = 4;
    shape.h = 4;
    shape.w = 4;
    shape.spatial_dims = 3;
    std::vector<std::uint8_t> target(64, 0), prediction(64, 0);
    for (std::int64_t d = 0; d < 4; ++d) {
        for (std::int64_t i = 5; i <= 6; ++i) {
            const auto at = static_cast<std::size_t>(d * 16 + i);
            target[at] = d < 2 ? 1 : 2;
            prediction[at] = d == 3 ? 0 : target[at];
        }
    }
    SessionPresenter presenter;
    presenter.setSynchronous(true);
    presenter.setVolumes(make_u8("labels_pred", shape, prediction), make_u8("labels_target", shape, target));
    QCOMPARE(presenter.evaluation()->statistics.pairing, PairingMode::LabelMaps);
    const auto& labels = presenter.labels();
    const auto two = std::find(labels.begin(), labels.end(), 2);
    QVERIFY(two != labels.end());
    presenter.setLabelIndex(static_cast<int>(two - labels.begin()));
    QVERIFY(presenter.chartPerLabel()); // the numbers follow the chosen label by default
    presenter.setChartPerLabel(false);
    QSignalSpy chart(&presenter, &SessionPresenter::chartMetricChanged);
    presenter.setChartPerLabel(true);
    QCOMPARE(chart.count(), 1);
    const std::vector<double> series = presenter.chartSeries(Metric::Dice);
    const std::size_t dice = *presenter.metricIndex(Metric::Dice);
    const auto& expected =
        presenter.evaluation()->samples[0].labels[static_cast<std::size_t>(two - labels.begin())];
    QCOMPARE(series.size(), expected.slices.size());
    for (std::size_t s = 0; s < series.size(); ++s) {
        QVERIFY(same_value(series[s], expected.slices[s][dice]));
    }
    QCOMPARE(series[2], 1.0);
    QCOMPARE(series[3], 0.0);
    QCOMPARE(presenter.worstSlice(Metric::Dice), std::optional<std::int64_t>(3));
    // Distance metrics per label come from the distance pass (hd95 of label 2 in slice 3: inf).
    const std::vector<double> hd95 = presenter.chartSeries(Metric::Hd95);
    QCOMPARE(hd95.size(), series.size());
    QVERIFY(std::isinf(hd95[3]));
    // The panel and the sample table follow the label too.
    QVERIFY(same_value(presenter.sampleValue(Metric::Dice), expected.values[dice]));
    QVERIFY(same_value(presenter.sampleValueOf(0, Metric::Dice), expected.values[dice]));
    presenter.setChartPerLabel(false);
    QVERIFY(same_values(presenter.chartSeries(Metric::Dice), presenter.sliceSeries(Metric::Dice)));
    QVERIFY(same_value(presenter.sampleValue(Metric::Dice), presenter.evaluation()->samples[0].values[dice]));
}

// ---------------------------------------------------------------------------
// Several predictions against one target

namespace {

// Three predictions of the synthetic target: the session's (centre w = 10),
// one closer (w = 9) and one farther and smaller (w = 11, radius 3.5).
struct Comparison {
    SessionPresenter session;
    ComparisonPresenter comparison{&session};
    std::vector<std::shared_ptr<Volume>> predictions;
    std::shared_ptr<Volume> target = synthetic_target();
    explicit Comparison(bool synchronous = true)
    {
        session.setSynchronous(synchronous);
        predictions = {synthetic_prediction(), ball_prediction("closer", 9, 4.5),
                       ball_prediction("smaller", 11, 3.5)};
        session.setVolumes(predictions[0], target, QStringLiteral("first.npy"));
        session.waitForIdle();
        comparison.addPredictionVolume(predictions[1], QStringLiteral("closer"));
        comparison.addPredictionVolume(predictions[2], QStringLiteral("smaller"));
        comparison.waitForIdle();
    }
};

// Every metric of every entry (slice and sample) equals evaluate() run on that prediction.
void compare_with_engine(const ComparisonPresenter& comparison,
                         const std::vector<std::shared_ptr<Volume>>& preds, const Volume& target,
                         const EvaluationSettings& settings)
{
    const SessionPresenter& session = *comparison.session();
    QCOMPARE(comparison.count(), static_cast<int>(preds.size()));
    QVERIFY(!comparison.metrics().empty());
    for (int i = 0; i < comparison.count(); ++i) {
        // The fast metrics and the surface distances (at the session's NSD tolerance).
        const Evaluation expected = engine_complete_evaluation(*preds[static_cast<std::size_t>(i)], target,
                                                               session.nsdTolerance(), settings);
        const SampleResult& sample = expected.samples[static_cast<std::size_t>(session.sample())];
        QVERIFY(std::find(comparison.metrics().begin(), comparison.metrics().end(), Metric::Hd95) !=
                comparison.metrics().end());
        for (const Metric metric : comparison.metrics()) {
            const auto found = std::find(expected.metrics.begin(), expected.metrics.end(), metric);
            QVERIFY(found != expected.metrics.end());
            const auto m = static_cast<std::size_t>(found - expected.metrics.begin());
            QVERIFY2(same_value(comparison.sampleValue(i, metric), sample.values[m]),
                     qPrintable(QStringLiteral("entry %1 %2: %3 vs %4")
                                    .arg(i)
                                    .arg(QString::fromUtf8(metric_name(metric).data()))
                                    .arg(comparison.sampleValue(i, metric))
                                    .arg(sample.values[m])));
            const double slice = sample.slices[static_cast<std::size_t>(session.currentSlice())][m];
            QVERIFY2(same_value(comparison.sliceValue(i, metric), slice),
                     qPrintable(QStringLiteral("entry %1 %2 slice %3: %4 vs %5")
                                    .arg(i)
                                    .arg(QString::fromUtf8(metric_name(metric).data()))
                                    .arg(session.currentSlice())
                                    .arg(comparison.sliceValue(i, metric))
                                    .arg(slice)));
        }
    }
}

} // namespace

void TestPresenter::comparisonMatchesEngine()
{
    Comparison c;
    QCOMPARE(c.comparison.count(), 3);
    QCOMPARE(c.comparison.name(0), QStringLiteral("first.npy"));
    QCOMPARE(c.comparison.name(1), QStringLiteral("closer"));
    QCOMPARE(c.comparison.name(2), QStringLiteral("smaller"));
    QVERIFY(!c.comparison.busy());
    compare_with_engine(c.comparison, c.predictions, *c.target, {});
    // The three predictions really differ (the test would not see a mix-up otherwise).
    QVERIFY(c.comparison.sampleValue(0, Metric::Dice) != c.comparison.sampleValue(1, Metric::Dice));
    QVERIFY(c.comparison.sampleValue(1, Metric::Dice) != c.comparison.sampleValue(2, Metric::Dice));
    // A name given twice is told apart.
    c.comparison.addPredictionVolume(ball_prediction("again", 9, 4.5), QStringLiteral("closer"));
    QCOMPARE(c.comparison.name(3), QStringLiteral("closer (2)"));
    c.comparison.removePrediction(3);
    QCOMPARE(c.comparison.count(), 3);
}

void TestPresenter::comparisonFollowsSettingsAndSlice()
{
    Comparison c;
    QSignalSpy entries(&c.comparison, &ComparisonPresenter::entriesChanged);
    c.session.setThreshold(0.8);
    QVERIFY(entries.count() >= 1);
    EvaluationSettings settings;
    settings.threshold = 0.8;
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
    c.session.setEmptyPolicy(EmptyPolicy::Zero);
    c.session.setSmooth(1.0);
    settings.empty = EmptyPolicy::Zero;
    settings.smooth = 1.0;
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
    // Another slice: every entry's slice values follow (the session's cursor).
    c.session.setCurrentSlice(3);
    QCOMPARE(c.session.currentSlice(), std::int64_t{3});
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
    // Another slicing axis (H): slices are rows now, for every entry.
    c.session.setSliceAxis(SliceAxis::H);
    settings.axis = SliceAxis::H;
    QCOMPARE(c.comparison.chartSeries(2, Metric::Dice).size(), std::size_t{16});
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
}

// A logits model compared with a probability model: the added prediction
// holds the logits of the first one; given its own activation (sigmoid) it is
// evaluated, drawn and counted under it, while the first keeps none.
void TestPresenter::comparisonPerPredictionActivation()
{
    SessionPresenter session;
    session.setSynchronous(true);
    ComparisonPresenter comparison(&session);
    const auto probabilities = synthetic_prediction();
    std::vector<float> logits;
    for (std::int64_t i = 0; i < probabilities->shape().elements(); ++i) {
        const double p =
            std::clamp(element_value(*probabilities, static_cast<std::size_t>(i)), 1e-4, 1 - 1e-4);
        logits.push_back(static_cast<float>(std::log(p / (1 - p))));
    }
    auto logit_volume = make_float("logits", synthetic_shape(), logits);
    set_spacing(*logit_volume);
    const auto target = synthetic_target();
    session.setVolumes(probabilities, target, QStringLiteral("probabilities.npy"));
    session.waitForIdle();
    comparison.addPredictionVolume(logit_volume, QStringLiteral("logits"));
    comparison.waitForIdle();
    QCOMPARE(comparison.activation(1), Activation::None);
    QVERIFY(std::isnan(comparison.sampleValue(1, Metric::Bce))); // logits refused as probabilities
    comparison.setActivation(1, Activation::Sigmoid);
    comparison.waitForIdle();
    QCOMPARE(comparison.activation(1), Activation::Sigmoid);
    QCOMPARE(comparison.activation(0), Activation::None);
    QCOMPARE(comparison.pairView(1).rule.activation, Activation::Sigmoid);
    QCOMPARE(comparison.pairView(0).rule.activation, Activation::None);
    EvaluationSettings sigmoid;
    sigmoid.activation = Activation::Sigmoid;
    const Evaluation expected = engine_evaluation(*logit_volume, *target, sigmoid);
    for (const Metric metric : {Metric::Bce, Metric::Dice, Metric::DiceLoss}) {
        const auto m = static_cast<std::size_t>(
            std::find(expected.metrics.begin(), expected.metrics.end(), metric) - expected.metrics.begin());
        QVERIFY(same_value(comparison.sampleValue(1, metric), expected.samples[0].values[m]));
    }
    const Evaluation first = engine_evaluation(*probabilities, *target);
    QVERIFY(same_values(comparison.evaluation(0)->samples[0].values, first.samples[0].values));
    // A session setting change keeps the added prediction's own activation.
    session.setThreshold(0.6);
    session.waitForIdle();
    comparison.waitForIdle();
    QCOMPARE(comparison.evaluation(1)->options.activation, Activation::Sigmoid);
    QCOMPARE(comparison.evaluation(1)->options.threshold, 0.6);
    // A rule this one-channel prediction cannot take (argmax) is refused with
    // the engine's message, and the entry keeps its rule.
    QSignalSpy errors(&comparison, &ComparisonPresenter::errorOccurred);
    comparison.setDecision(1, Decision::Argmax);
    comparison.waitForIdle();
    QCOMPARE(errors.count(), 1);
    QVERIFY(errors.at(0).at(1).toString().contains("C >= 2 channels"));
    QCOMPARE(comparison.count(), 2);
    QCOMPARE(comparison.decision(1), Decision::Threshold);
    QCOMPARE(comparison.activation(1), Activation::Sigmoid);
}

void TestPresenter::comparisonBestEntries()
{
    Comparison c;
    for (const bool slice : {false, true}) {
        for (const Metric metric : {Metric::Dice, Metric::DiceLoss, Metric::Fp, Metric::Fn, Metric::Recall}) {
            // Brute force over the engine's values.
            std::vector<double> values;
            for (const auto& prediction : c.predictions) {
                const Evaluation e = engine_evaluation(*prediction, *c.target);
                const auto m = static_cast<std::size_t>(
                    std::find(e.metrics.begin(), e.metrics.end(), metric) - e.metrics.begin());
                values.push_back(
                    slice ? e.samples[0].slices[static_cast<std::size_t>(c.session.currentSlice())][m]
                          : e.samples[0].values[m]);
            }
            const bool low = higher_is_worse(metric);
            const double best = low ? *std::min_element(values.begin(), values.end())
                                    : *std::max_element(values.begin(), values.end());
            std::vector<int> expected;
            for (std::size_t i = 0; i < values.size(); ++i) {
                if (values[i] == best) {
                    expected.push_back(static_cast<int>(i));
                }
            }
            QCOMPARE(c.comparison.bestEntries(metric, slice), expected);
        }
    }
    // Dice: the closer ball (entry 1) is best over the sample; dice loss: the same entry.
    QCOMPARE(c.comparison.bestEntries(Metric::Dice, false), std::vector<int>{1});
    QCOMPARE(c.comparison.bestEntries(Metric::DiceLoss, false), std::vector<int>{1});
}

void TestPresenter::comparisonDifferMostSlice()
{
    Comparison c;
    for (const Metric metric : {Metric::Dice, Metric::Fp, Metric::Bce}) {
        c.session.setChartMetric(metric);
        for (const auto& [a, b] : {std::pair{0, 2}, std::pair{1, 2}, std::pair{2, 0}}) {
            c.comparison.setPair(a, b);
            QCOMPARE(c.comparison.pairA(), a);
            QCOMPARE(c.comparison.pairB(), b);
            // Brute force over the engine's per-slice values of A and B.
            const Evaluation ea = engine_evaluation(*c.predictions[static_cast<std::size_t>(a)], *c.target);
            const Evaluation eb = engine_evaluation(*c.predictions[static_cast<std::size_t>(b)], *c.target);
            const auto m = static_cast<std::size_t>(std::find(ea.metrics.begin(), ea.metrics.end(), metric) -
                                                    ea.metrics.begin());
            std::vector<double> difference;
            for (std::size_t s = 0; s < ea.samples[0].slices.size(); ++s) {
                difference.push_back(std::abs(ea.samples[0].slices[s][m] - eb.samples[0].slices[s][m]));
            }
            std::int64_t argmax = -1;
            for (std::size_t s = 0; s < difference.size(); ++s) {
                if (!std::isnan(difference[s]) &&
                    (argmax < 0 || difference[s] > difference[static_cast<std::size_t>(argmax)])) {
                    argmax = static_cast<std::int64_t>(s);
                }
            }
            QVERIFY(argmax >= 0);
            QCOMPARE(c.comparison.differMostSlice(0), std::optional<std::int64_t>(argmax));
            // The next one: the largest difference below (or tied after) the first.
            std::int64_t second = -1;
            for (std::size_t s = 0; s < difference.size(); ++s) {
                if (static_cast<std::int64_t>(s) == argmax || std::isnan(difference[s])) {
                    continue;
                }
                if (second < 0 || difference[s] > difference[static_cast<std::size_t>(second)]) {
                    second = static_cast<std::int64_t>(s);
                }
            }
            QCOMPARE(c.comparison.goToDifferMost(false), std::optional<std::int64_t>(argmax));
            QCOMPARE(c.session.currentSlice(), argmax);
            QCOMPARE(c.comparison.goToDifferMost(true), std::optional<std::int64_t>(second));
            QCOMPARE(c.session.currentSlice(), second);
            QCOMPARE(c.comparison.differRank(), 1);
        }
    }
    // Choosing A == B is refused (B moves away).
    c.comparison.setPair(1, 1);
    QVERIFY(c.comparison.pairA() != c.comparison.pairB());
}

void TestPresenter::comparisonDifferenceCounts()
{
    // 2D, one sample, 2 x 4: target, A and B by hand (threshold 0.5).
    Shape shape;
    shape.h = 2;
    shape.w = 4;
    shape.spatial_dims = 2;
    auto target = make_float("t", shape, {1, 1, 0, 0, 1, 0, 1, 0});
    auto a = make_float("a", shape, {0.9f, 0.2f, 0.7f, 0.1f, 0.6f, 0.0f, 0.3f, 0.8f});
    auto b = make_float("b", shape, {0.1f, 0.8f, 0.6f, 0.0f, 0.9f, 0.9f, 0.2f, 0.4f});
    // voxel:   0    1    2    3    4    5    6    7
    // A right: y    n    n    y    y    y    n    n
    // B right: n    y    n    y    y    n    n    y
    //          A    B    --   ok   ok   A    --   B
    SessionPresenter session;
    session.setSynchronous(true);
    ComparisonPresenter comparison(&session);
    session.setVolumes(a, target);
    comparison.addPredictionVolume(b, QStringLiteral("b"));
    QCOMPARE(comparison.count(), 2);
    const DifferenceCounts counts = comparison.differenceCounts();
    QCOMPARE(counts.both_right, std::int64_t{2});
    QCOMPARE(counts.only_a_right, std::int64_t{2});
    QCOMPARE(counts.only_b_right, std::int64_t{2});
    QCOMPARE(counts.both_wrong, std::int64_t{2});
    const PairView view = comparison.pairView(0);
    QCOMPARE(classify_difference(*a, *b, *target, view, view, {0, 0, 0}), DifferenceClass::OnlyARight);
    QCOMPARE(classify_difference(*a, *b, *target, view, view, {0, 0, 1}), DifferenceClass::OnlyBRight);
    QCOMPARE(classify_difference(*a, *b, *target, view, view, {0, 0, 2}), DifferenceClass::BothWrong);
    QCOMPARE(classify_difference(*a, *b, *target, view, view, {0, 0, 3}), DifferenceClass::BothRight);
    // Swapping A and B swaps the classes.
    comparison.setPair(1, 0);
    const DifferenceCounts swapped = comparison.differenceCounts();
    QCOMPARE(swapped.only_a_right, counts.only_b_right);
    // At threshold 0.65, B's voxel 2 (0.6) is right and A's voxel 4 (0.6) is wrong.
    comparison.setPair(0, 1);
    session.setThreshold(0.65);
    const DifferenceCounts at65 = comparison.differenceCounts();
    QCOMPARE(at65.only_a_right, std::int64_t{2}); // voxels 0, 5
    QCOMPARE(at65.only_b_right, std::int64_t{4}); // voxels 1, 2, 4, 7
    QCOMPARE(at65.both_wrong, std::int64_t{1});   // voxel 6
    QCOMPARE(at65.both_right, std::int64_t{1});   // voxel 3
    // The difference image colours them.
    comparison.setDifferenceMode(true);
    QVERIFY(comparison.differenceActive());
    const SliceImage image = compose_difference_slice(*a, *b, *target, comparison.pairView(0),
                                                      comparison.pairView(1), ViewAxis::Axial, 0);
    const auto colour_at = [&](const Voxel& voxel) {
        const auto pixel = voxel_to_pixel(shape, ViewAxis::Axial, voxel);
        const std::size_t i =
            (static_cast<std::size_t>(pixel[1]) * 4 + static_cast<std::size_t>(pixel[0])) * 4;
        return Rgb{image.rgba[i], image.rgba[i + 1], image.rgba[i + 2]};
    };
    QCOMPARE(colour_at({0, 0, 0}), kOnlyARightColour);
    QCOMPARE(colour_at({0, 0, 1}), kOnlyBRightColour);
    QCOMPARE(colour_at({0, 1, 2}), kBothWrongColour);
    QCOMPARE(colour_at({0, 0, 3}), (Rgb{0, 0, 0}));
}

void TestPresenter::comparisonLinkedNavigation()
{
    Comparison c;
    // Every entry reads the session's cursor: one slice for all.
    c.session.setCursor({2, 5, 7});
    for (int i = 0; i < c.comparison.count(); ++i) {
        const Evaluation e = engine_evaluation(*c.predictions[static_cast<std::size_t>(i)], *c.target);
        const auto m = static_cast<std::size_t>(std::find(e.metrics.begin(), e.metrics.end(), Metric::Dice) -
                                                e.metrics.begin());
        QVERIFY(same_value(c.comparison.sliceValue(i, Metric::Dice), e.samples[0].slices[2][m]));
    }
    // Layout state: the shared camera and the orientation.
    QSignalSpy camera(&c.comparison, &ComparisonPresenter::cameraChanged);
    QSignalSpy layout(&c.comparison, &ComparisonPresenter::layoutChanged);
    c.comparison.setComparisonLayout(true);
    QCOMPARE(layout.count(), 1);
    c.comparison.setCamera({2.0, 1.5, -3.0});
    c.comparison.setCamera({2.0, 1.5, -3.0});
    QCOMPARE(camera.count(), 1);
    QCOMPARE(c.comparison.camera().zoom, 2.0);
    c.comparison.setComparisonAxis(ViewAxis::Coronal);
    QCOMPARE(c.comparison.comparisonAxis(), ViewAxis::Coronal);
    QCOMPARE(c.comparison.camera(), SliceCamera{}); // a new orientation starts fitted
    // The 3D chooser: entry 0 by default, any set.
    QCOMPARE(c.comparison.shownIn3dEntries(), std::vector<int>{0});
    c.comparison.setShownIn3d(2, true);
    c.comparison.setShownIn3d(0, false);
    QCOMPARE(c.comparison.shownIn3dEntries(), std::vector<int>{2});
    // Removing entry 1 keeps entry 2's choice (now entry 1).
    c.comparison.removePrediction(1);
    QCOMPARE(c.comparison.shownIn3dEntries(), std::vector<int>{1});
    QCOMPARE(c.comparison.name(1), QStringLiteral("smaller"));
}

void TestPresenter::comparisonAsyncAndErrors()
{
    SessionPresenter session;
    ComparisonPresenter comparison(&session);
    session.setVolumes(synthetic_prediction(), synthetic_target());
    session.waitForIdle();
    comparison.addPredictionVolume(ball_prediction("closer", 9, 4.5), QStringLiteral("closer"));
    QCOMPARE(comparison.count(), 2);
    comparison.waitForIdle();
    QVERIFY(!comparison.pending(1));
    QVERIFY(comparison.evaluation(1) != nullptr);
    const Evaluation expected = engine_evaluation(*ball_prediction("closer", 9, 4.5), *synthetic_target());
    QVERIFY(same_values(comparison.evaluation(1)->samples[0].values, expected.samples[0].values));
    // Several threshold changes: the added prediction ends at the last one.
    for (const double threshold : {0.3, 0.6, 0.9}) {
        session.setThreshold(threshold);
    }
    for (int i = 0; i < 20 && (session.busy() || comparison.busy() ||
                               comparison.evaluation(1)->options.threshold != 0.9);
         ++i) {
        comparison.waitForIdle();
    }
    EvaluationSettings settings;
    settings.threshold = 0.9;
    const Evaluation at09 =
        engine_evaluation(*ball_prediction("closer", 9, 4.5), *synthetic_target(), settings);
    QVERIFY(same_values(comparison.evaluation(1)->samples[0].values, at09.samples[0].values));
    // A prediction on another grid is reported and not kept.
    QSignalSpy error(&comparison, &ComparisonPresenter::errorOccurred);
    comparison.addPredictionVolume(seed_3d_prediction(), QStringLiteral("wrong grid"));
    comparison.waitForIdle();
    QCOMPARE(error.count(), 1);
    QVERIFY(error.at(0).at(1).toString().contains(QStringLiteral("wrong grid")));
    QCOMPARE(comparison.count(), 2);
}

void TestPresenter::comparisonOpenFiles()
{
    QTemporaryDir dir;
    const Shape s = synthetic_shape();
    const std::vector<std::int64_t> dims{s.d, s.h, s.w};
    const QString target = dir.filePath(QStringLiteral("target.npy"));
    const QStringList predictions{dir.filePath(QStringLiteral("p1.npy")),
                                  dir.filePath(QStringLiteral("p2.npy")),
                                  dir.filePath(QStringLiteral("p3.npy"))};
    write_npy_float(target.toStdString(), dims, float_values(*synthetic_target()));
    const std::vector<std::shared_ptr<Volume>> volumes{synthetic_prediction(), ball_prediction("p2", 9, 4.5),
                                                       ball_prediction("p3", 11, 3.5)};
    for (int i = 0; i < 3; ++i) {
        write_npy_float(predictions[i].toStdString(), dims,
                        float_values(*volumes[static_cast<std::size_t>(i)]));
    }
    SessionPresenter session;
    ComparisonPresenter comparison(&session);
    comparison.openComparison(target, predictions);
    comparison.waitForIdle();
    for (int i = 0; i < 20 && comparison.busy(); ++i) {
        comparison.waitForIdle();
    }
    QCOMPARE(comparison.count(), 3);
    QCOMPARE(comparison.name(2), QStringLiteral("p3.npy"));
    QCOMPARE(comparison.path(1), predictions[1]);
    const auto target_volume = synthetic_target();
    for (int i = 0; i < 3; ++i) {
        const Evaluation expected = engine_evaluation(*volumes[static_cast<std::size_t>(i)], *target_volume);
        QVERIFY(comparison.evaluation(i));
        QVERIFY2(same_values(comparison.evaluation(i)->samples[0].values, expected.samples[0].values),
                 qPrintable(QString::number(i)));
    }
    // Opening another pair drops the added predictions.
    comparison.openComparison(target, {predictions[2]});
    comparison.waitForIdle();
    QCOMPARE(comparison.count(), 1);
    QCOMPARE(comparison.name(0), QStringLiteral("p3.npy"));
}

void TestPresenter::comparisonDistancesMatchEngine()
{
    Comparison c; // synchronous: every pass has delivered
    for (int i = 0; i < c.comparison.count(); ++i) {
        QCOMPARE(c.comparison.distanceState(i), DistanceState::Ready);
        QVERIFY(!c.comparison.pending(i, Metric::Hd95));
    }
    compare_with_engine(c.comparison, c.predictions, *c.target, {});
    // Each entry has its own distances (entry 2 is smaller and shifted: a larger hd95).
    QVERIFY(c.comparison.sampleValue(0, Metric::Hd95) != c.comparison.sampleValue(2, Metric::Hd95));
    // The chart series of an added entry carries its distances, slice by slice.
    {
        const Evaluation expected = engine_complete_evaluation(*c.predictions[2], *c.target, 1.0);
        const std::vector<double> series = c.comparison.chartSeries(2, Metric::Assd);
        QCOMPARE(series.size(), expected.samples[0].slices.size());
        for (std::size_t s = 0; s < series.size(); ++s) {
            QVERIFY(same_value(series[s], expected.samples[0].slices[s][metric_at(expected, Metric::Assd)]));
        }
    }
    // The best entries include the distance columns (lowest hd95 best).
    {
        std::vector<int> best;
        double lowest = std::numeric_limits<double>::infinity();
        for (int i = 0; i < 3; ++i) {
            const double value = c.comparison.sampleValue(i, Metric::Hd95);
            if (value < lowest) {
                lowest = value;
                best.assign(1, i);
            } else if (value == lowest) {
                best.push_back(i);
            }
        }
        QCOMPARE(c.comparison.bestEntries(Metric::Hd95, false), best);
    }
    // The session's NSD tolerance and threshold: every entry follows.
    QSignalSpy distances(&c.comparison, &ComparisonPresenter::distancesChanged);
    c.session.setNsdTolerance(2.0);
    QVERIFY(distances.count() >= 1);
    compare_with_engine(c.comparison, c.predictions, *c.target, {});
    c.session.setThreshold(0.3);
    c.session.setCurrentSlice(5);
    EvaluationSettings settings;
    settings.threshold = 0.3;
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
    // Turned off: the columns go, the values are NaN.
    c.session.setDistancesEnabled(false);
    QCOMPARE(c.comparison.distanceState(1), DistanceState::Off);
    QVERIFY(std::isnan(c.comparison.sampleValue(1, Metric::Hd95)));
    const std::vector<Metric> metrics = c.comparison.metrics();
    QVERIFY(std::find(metrics.begin(), metrics.end(), Metric::Hd95) == metrics.end());
    c.session.setDistancesEnabled(true);
    QCOMPARE(c.comparison.distanceState(2), DistanceState::Ready);
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
}

void TestPresenter::comparisonDistancesAsync()
{
    Comparison c(false);
    // Just added: the entry's distances are pending ("…"), never another entry's values.
    c.comparison.addPredictionVolume(ball_prediction("later", 8, 4.0), QStringLiteral("later"));
    QVERIFY(c.comparison.pending(3, Metric::Hd95));
    QVERIFY(std::isnan(c.comparison.sampleValue(3, Metric::Hd95)));
    c.comparison.waitForDistances();
    c.predictions.push_back(ball_prediction("later", 8, 4.0));
    for (int i = 0; i < c.comparison.count(); ++i) {
        QCOMPARE(c.comparison.distanceState(i), DistanceState::Ready);
    }
    compare_with_engine(c.comparison, c.predictions, *c.target, {});
    // Several threshold changes in a row: every entry's distances end at the last one.
    for (const double threshold : {0.2, 0.45, 0.7}) {
        c.session.setThreshold(threshold);
    }
    for (int i = 0; i < 20 && (c.session.busy() || c.comparison.busy()); ++i) {
        c.comparison.waitForIdle();
    }
    c.comparison.waitForDistances();
    EvaluationSettings settings;
    settings.threshold = 0.7;
    for (int i = 0; i < c.comparison.count(); ++i) {
        QCOMPARE(c.comparison.distanceState(i), DistanceState::Ready);
        QCOMPARE(c.comparison.distanceEvaluation(i)->options.threshold, 0.7);
    }
    compare_with_engine(c.comparison, c.predictions, *c.target, settings);
}

namespace {

// Brute force over every voxel of the sample, with the classification the views use.
DifferenceCounts brute_force_counts(const ComparisonPresenter& comparison)
{
    DifferenceCounts counts;
    const Volume& a = *comparison.prediction(comparison.pairA());
    const Volume& b = *comparison.prediction(comparison.pairB());
    const Volume& target = *comparison.session()->target();
    const Shape& shape = a.shape();
    for (std::int64_t d = 0; d < shape.d; ++d) {
        for (std::int64_t h = 0; h < shape.h; ++h) {
            for (std::int64_t w = 0; w < shape.w; ++w) {
                const VoxelClass ca = classify(a, target, comparison.pairView(comparison.pairA()), {d, h, w});
                const VoxelClass cb = classify(b, target, comparison.pairView(comparison.pairB()), {d, h, w});
                const bool a_right = ca.predicted == ca.target_hit;
                const bool b_right = cb.predicted == cb.target_hit;
                (a_right && b_right ? counts.both_right
                 : a_right          ? counts.only_a_right
                 : b_right          ? counts.only_b_right
                                    : counts.both_wrong) += 1;
            }
        }
    }
    return counts;
}

} // namespace

void TestPresenter::comparisonDifferenceCountsAsync()
{
    Comparison c(false);
    QSignalSpy delivered(&c.comparison, &ComparisonPresenter::differenceCountsChanged);
    // Off: nothing is counted.
    QVERIFY(!c.comparison.readyDifferenceCounts());
    c.comparison.setDifferenceMode(true);
    QVERIFY(c.comparison.differenceActive());
    // Counted off the UI thread: not there before the event loop delivers it.
    QVERIFY(!c.comparison.readyDifferenceCounts());
    QVERIFY(delivered.wait(10000));
    QVERIFY(c.comparison.readyDifferenceCounts());
    const DifferenceCounts first = brute_force_counts(c.comparison);
    QCOMPARE(*c.comparison.readyDifferenceCounts(), first);
    QVERIFY(first.only_a_right > 0 && first.only_b_right > 0);
    QCOMPARE(first.both_right + first.only_a_right + first.only_b_right + first.both_wrong,
             synthetic_shape().elements());
    // Another pair: the old counts are never reported for it.
    c.comparison.setPair(1, 2);
    QVERIFY(!c.comparison.readyDifferenceCounts());
    QTRY_VERIFY(c.comparison.readyDifferenceCounts().has_value());
    const DifferenceCounts pair12 = brute_force_counts(c.comparison);
    QCOMPARE(*c.comparison.readyDifferenceCounts(), pair12);
    // Several threshold changes: the counts end at the last threshold, exact.
    for (const double threshold : {0.2, 0.45, 0.75}) {
        c.session.setThreshold(threshold);
    }
    for (int i = 0; i < 20 && (c.session.busy() || c.comparison.busy()); ++i) {
        c.comparison.waitForIdle();
    }
    QCOMPARE(c.comparison.pairView(1).rule.threshold, 0.75);
    QTRY_VERIFY(c.comparison.readyDifferenceCounts().has_value());
    const DifferenceCounts at075 = brute_force_counts(c.comparison);
    QCOMPARE(*c.comparison.readyDifferenceCounts(), at075);
    QCOMPARE(c.comparison.differenceCounts(), at075);
    QVERIFY(!(at075 == pair12)); // the threshold matters here
}

QTEST_GUILESS_MAIN(TestPresenter)
#include "test_presenter.moc"
