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
};

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

QTEST_GUILESS_MAIN(TestPresenter)
#include "test_presenter.moc"
