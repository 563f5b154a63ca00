// SessionPresenter and slice-model tests without a window: the values shown
// are the engine's, and slice / sample / threshold changes update them.
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/slice_model.h"
#include "ui_test_support.h"

#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

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
    void worstSliceRanks();
    void composeSliceColoursClasses();
    void voxelPixelRoundTrip_data();
    void voxelPixelRoundTrip();
    void distancesMatchEngine3d();
    void distancesMatchEngine2d();
    void distancesPendingUntilComputed();
    void distancesAsyncFollowThreshold();
    void distancesDisabled();
    void perLabelChartSeries();
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
    QCOMPARE(presenter.pairView().threshold, 0.9);
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
    QTRY_VERIFY_WITH_TIMEOUT(!presenter.busy() && presenter.pairView().threshold == 0.7, 10000);
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
    presenter.setChartPerLabel(false);
    QVERIFY(same_values(presenter.chartSeries(Metric::Dice), presenter.sliceSeries(Metric::Dice)));
}

QTEST_GUILESS_MAIN(TestPresenter)
#include "test_presenter.moc"
