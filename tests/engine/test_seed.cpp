// The seed notebook's examples (../shared/seed/), built in memory: the values
// the notebook printed (dice_loss 0.0625 and 0.0526) and hand-derived
// per-sample, per-slice and bce/mse/mae values.
#include "masklens/engine/evaluate.h"
#include "test_volume_helpers.h"

#include <QtTest>

#include <cmath>

using namespace masklens;
using masklens::testing::make_volume;
using masklens::testing::shape2d;
using masklens::testing::shape3d;
using masklens::testing::value_of;
using masklens::testing::with_metrics;

namespace {

class SeedTest : public QObject {
    Q_OBJECT

private slots:
    void dice_loss_2d_batch()
    {
        // [2, 1, 4, 4]: sample 0 is predicted perfectly; sample 1 has one
        // false positive and one false negative.
        const std::vector<float> prediction = {0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0,
                                               0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0};
        const std::vector<float> target = {0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0,
                                           1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0};
        const Volume p = make_volume("pred", ScalarType::Float32, shape2d(2, 1, 4, 4), prediction);
        const Volume t = make_volume("target", ScalarType::Float32, shape2d(2, 1, 4, 4), target);
        const Evaluation result = evaluate(
            p, t,
            with_metrics({Metric::Bce, Metric::DiceLoss, Metric::Tp, Metric::Fp, Metric::Fn, Metric::Tn}));
        // Sample 1: sum p = 8, sum t = 8, overlap 7 -> 1 - (14 + s)/(16 + s) = 0.125;
        // the notebook printed the batch mean 0.0625.
        QVERIFY(std::abs(value_of(result, result.batch, Metric::DiceLoss) - 0.0625) < 1e-7);
        QVERIFY(std::abs(value_of(result, result.samples[0].values, Metric::DiceLoss) - 0.0) < 1e-12);
        QVERIFY(std::abs(value_of(result, result.samples[1].values, Metric::DiceLoss) - 0.125) < 1e-7);
        // 2D samples have exactly one slice, equal to the sample.
        QCOMPARE(result.samples[1].slices.size(), std::size_t{1});
        QCOMPARE(value_of(result, result.samples[1].slices[0], Metric::DiceLoss),
                 value_of(result, result.samples[1].values, Metric::DiceLoss));
        // Hard counts of sample 1: tp 7, fp 1, fn 1 (hand-counted above).
        QCOMPARE(value_of(result, result.samples[1].values, Metric::Tp), 7.0);
        QCOMPARE(value_of(result, result.samples[1].values, Metric::Fp), 1.0);
        QCOMPARE(value_of(result, result.samples[1].values, Metric::Fn), 1.0);
        QCOMPARE(value_of(result, result.samples[1].values, Metric::Tn), 7.0);
        // Batch counts are sums over samples.
        QCOMPARE(value_of(result, result.batch, Metric::Tp), 15.0); // 8 + 7
        // A wrong binary prediction costs exactly 100 in bce (log clamped at -100):
        // sample 1 has 2 wrong voxels out of 16, the batch 2 out of 32.
        QCOMPARE(value_of(result, result.samples[1].values, Metric::Bce), 200.0 / 16.0);
        QCOMPARE(value_of(result, result.batch, Metric::Bce), 200.0 / 32.0);
    }

    void dice_loss_3d_per_slice()
    {
        // [1, 1, 2, 3, 3]: slice 0 identical, slice 1 has one miss.
        const std::vector<float> prediction = {0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1};
        const std::vector<float> target = {0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1};
        const Volume p = make_volume("pred", ScalarType::Float32, shape3d(1, 1, 2, 3, 3), prediction);
        const Volume t = make_volume("target", ScalarType::Float32, shape3d(1, 1, 2, 3, 3), target);
        const Evaluation result = evaluate(p, t, with_metrics({Metric::DiceLoss, Metric::Dice}));
        const double s = 1e-6;
        // Whole sample: overlap 9, sum p 9, sum t 10 -> 1 - (18 + s)/(19 + s) = 0.05263...
        QVERIFY(std::abs(value_of(result, result.batch, Metric::DiceLoss) - (1 - (18 + s) / (19 + s))) <
                1e-12);
        QVERIFY(std::abs(value_of(result, result.batch, Metric::DiceLoss) - 0.0526) < 5e-5);
        QCOMPARE(result.samples[0].slices.size(), std::size_t{2});
        QVERIFY(std::abs(value_of(result, result.samples[0].slices[0], Metric::DiceLoss)) < 1e-12);
        // Slice 1: overlap 5, sum p 5, sum t 6 -> 1 - (10 + s)/(11 + s) = 0.0909...
        QVERIFY(std::abs(value_of(result, result.samples[0].slices[1], Metric::DiceLoss) -
                         (1 - (10 + s) / (11 + s))) < 1e-12);
    }

    void probability_example()
    {
        // [0.1, 0.9, 0.8, 0.3] against [0, 1, 1, 1].
        const Volume p = make_volume("pred", ScalarType::Float32, shape2d(1, 1, 1, 4),
                                     std::vector<float>{0.1f, 0.9f, 0.8f, 0.3f});
        const Volume t =
            make_volume("target", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{0, 1, 1, 1});
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Bce, Metric::Mse, Metric::Mae}));
        const double p0 = 0.1f, p1 = 0.9f, p2 = 0.8f, p3 = 0.3f; // float32 values, as torch sees them
        const double bce = -(std::log(1 - p0) + std::log(p1) + std::log(p2) + std::log(p3)) / 4;
        const double mse = (p0 * p0 + (1 - p1) * (1 - p1) + (1 - p2) * (1 - p2) + (1 - p3) * (1 - p3)) / 4;
        const double mae = (p0 + (1 - p1) + (1 - p2) + (1 - p3)) / 4;
        // torch.nn.functional.binary_cross_entropy gives 0.40946 (float32).
        QVERIFY(std::abs(value_of(result, result.batch, Metric::Bce) - bce) < 1e-6 * bce);
        QVERIFY(std::abs(value_of(result, result.batch, Metric::Bce) - 0.409459) < 1e-6);
        QVERIFY(std::abs(value_of(result, result.batch, Metric::Mse) - mse) < 1e-6 * mse);
        QVERIFY(std::abs(value_of(result, result.batch, Metric::Mae) - mae) < 1e-6 * mae);
    }
};

} // namespace

QTEST_APPLESS_MAIN(SeedTest)
#include "test_seed.moc"
