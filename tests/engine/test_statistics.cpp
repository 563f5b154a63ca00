// The streaming pass against hand-derived values and an independent naive
// double-precision reference written here (one loop per voxel, no chunks,
// no threads), plus its errors, options and invariants.
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "test_volume_helpers.h"

#include <QtTest>

#include <cmath>
#include <random>

using namespace masklens;
using masklens::testing::make_volume;
using masklens::testing::shape2d;
using masklens::testing::shape3d;
using masklens::testing::value_of;
using masklens::testing::with_metrics;

namespace {

// Every metric the pass computes for same-shape pairs (surface distances are
// tested in tests/distance, the class combinations in tests/cli's multi-class tests).
std::vector<Metric> pass_metrics()
{
    std::vector<Metric> metrics;
    for (Metric metric : all_metrics()) {
        if (!is_distance_metric(metric) && !is_class_combination(metric)) {
            metrics.push_back(metric);
        }
    }
    return metrics;
}

bool close(double a, double b, double relative)
{
    return std::abs(a - b) <= relative * std::max(1.0, std::abs(b));
}

// Naive reference: sums over the elements of one slice along an axis.
struct NaiveSums {
    double n = 0, bce = 0, se = 0, ae = 0, p = 0, t = 0, pt = 0, tp = 0, pp = 0, tpos = 0;
};

NaiveSums naive_slice(const std::vector<float>& pred, const std::vector<float>& target, const Shape& shape,
                      std::int64_t sample, SliceAxis axis, std::int64_t slice)
{
    NaiveSums sums;
    for (std::int64_t c = 0; c < shape.c; ++c) {
        for (std::int64_t d = 0; d < shape.d; ++d) {
            for (std::int64_t h = 0; h < shape.h; ++h) {
                for (std::int64_t w = 0; w < shape.w; ++w) {
                    const std::int64_t position = axis == SliceAxis::D ? d : axis == SliceAxis::H ? h : w;
                    if (position != slice) {
                        continue;
                    }
                    const auto i = static_cast<std::size_t>(
                        (((sample * shape.c + c) * shape.d + d) * shape.h + h) * shape.w + w);
                    const double p = pred[i], t = target[i];
                    sums.n += 1;
                    sums.bce +=
                        -(t * std::max(std::log(p), -100.0) + (1 - t) * std::max(std::log(1 - p), -100.0));
                    sums.se += (p - t) * (p - t);
                    sums.ae += std::abs(p - t);
                    sums.p += p;
                    sums.t += t;
                    sums.pt += p * t;
                    sums.pp += p >= 0.5 ? 1 : 0;
                    sums.tpos += t > 0.5 ? 1 : 0;
                    sums.tp += (p >= 0.5 && t > 0.5) ? 1 : 0;
                }
            }
        }
    }
    return sums;
}

std::vector<float> random_values(std::size_t count, unsigned seed, bool binary)
{
    std::mt19937 generator(seed);
    std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
    std::vector<float> values(count);
    for (auto& value : values) {
        value = binary ? (uniform(generator) < 0.4f ? 1.0f : 0.0f) : uniform(generator);
    }
    return values;
}

// Every field equal, bit for bit.
bool same_region(const RegionStats& a, const RegionStats& b)
{
    return a.elements == b.elements && a.bce == b.bce && a.focal == b.focal &&
           a.squared_error == b.squared_error && a.absolute_error == b.absolute_error &&
           a.pred_sum == b.pred_sum && a.target_sum == b.target_sum && a.overlap_sum == b.overlap_sum &&
           a.pred_positive == b.pred_positive && a.target_positive == b.target_positive &&
           a.true_positive == b.true_positive;
}

class StatisticsTest : public QObject {
    Q_OBJECT

private slots:
    void matches_naive_reference_on_every_axis_data()
    {
        QTest::addColumn<int>("axis");
        QTest::addColumn<int>("threads");
        QTest::newRow("d, 1 thread") << int(SliceAxis::D) << 1;
        QTest::newRow("d, 3 threads") << int(SliceAxis::D) << 3;
        QTest::newRow("h, 1 thread") << int(SliceAxis::H) << 1;
        QTest::newRow("h, 3 threads") << int(SliceAxis::H) << 3;
        QTest::newRow("w, 1 thread") << int(SliceAxis::W) << 1;
        QTest::newRow("w, 3 threads") << int(SliceAxis::W) << 3;
    }

    void matches_naive_reference_on_every_axis()
    {
        QFETCH(int, axis);
        QFETCH(int, threads);
        // Prime extents so chunks, rows and planes never line up; W > chunk size.
        const Shape shape = shape3d(2, 2, 3, 5, 2053);
        const auto count = static_cast<std::size_t>(shape.elements());
        const auto pred = random_values(count, 7, false);
        const auto target = random_values(count, 11, true);
        const Volume p = make_volume("pred", ScalarType::Float32, shape, pred);
        const Volume t = make_volume("target", ScalarType::Float32, shape, target);
        StatisticsOptions options = with_metrics(pass_metrics());
        options.axis = static_cast<SliceAxis>(axis);
        options.threads = threads;
        const Evaluation result = evaluate(p, t, options);
        const std::int64_t slices = axis == int(SliceAxis::D)   ? shape.d
                                    : axis == int(SliceAxis::H) ? shape.h
                                                                : shape.w;
        QCOMPARE(result.statistics.slices_per_sample, slices);
        for (std::int64_t n = 0; n < shape.n; ++n) {
            for (std::int64_t s = 0; s < slices; s += (s < 3 ? 1 : 97)) {
                const NaiveSums ref = naive_slice(pred, target, shape, n, static_cast<SliceAxis>(axis), s);
                const MetricValues& values =
                    result.samples[static_cast<std::size_t>(n)].slices[static_cast<std::size_t>(s)];
                QVERIFY(close(value_of(result, values, Metric::Bce), ref.bce / ref.n, 1e-5));
                QVERIFY(close(value_of(result, values, Metric::Mse), ref.se / ref.n, 1e-5));
                QVERIFY(close(value_of(result, values, Metric::Mae), ref.ae / ref.n, 1e-5));
                QVERIFY(close(value_of(result, values, Metric::DiceLoss),
                              1 - (2 * ref.pt + 1e-6) / (ref.p + ref.t + 1e-6), 1e-5));
                QCOMPARE(value_of(result, values, Metric::Tp), ref.tp);
                QCOMPARE(value_of(result, values, Metric::Fp), ref.pp - ref.tp);
                QCOMPARE(value_of(result, values, Metric::Fn), ref.tpos - ref.tp);
                QCOMPARE(value_of(result, values, Metric::Tn), ref.n - ref.pp - ref.tpos + ref.tp);
            }
        }
        // Whatever the axis, a sample's values are the same.
        StatisticsOptions along_d = options;
        along_d.axis = SliceAxis::D;
        const Evaluation reference = evaluate(p, t, along_d);
        for (std::size_t m = 0; m < result.metrics.size(); ++m) {
            QVERIFY(close(result.batch[m], reference.batch[m], 1e-12));
        }
    }

    void result_does_not_depend_on_thread_count()
    {
        const Shape shape = shape3d(3, 1, 17, 13, 11);
        const auto count = static_cast<std::size_t>(shape.elements());
        const Volume p = make_volume("pred", ScalarType::Float32, shape, random_values(count, 1, false));
        const Volume t = make_volume("target", ScalarType::Float32, shape, random_values(count, 2, true));
        StatisticsOptions one = with_metrics(pass_metrics());
        one.threads = 1;
        StatisticsOptions many = one;
        many.threads = 5;
        const Evaluation a = evaluate(p, t, one);
        const Evaluation b = evaluate(p, t, many);
        // Slicing along D gives each slice to exactly one thread: bitwise equal.
        for (std::size_t n = 0; n < a.samples.size(); ++n) {
            for (std::size_t s = 0; s < a.samples[n].slices.size(); ++s) {
                QVERIFY(a.samples[n].slices[s] == b.samples[n].slices[s]);
            }
        }
    }

    void wrong_certain_prediction_costs_exactly_100()
    {
        const Volume p =
            make_volume("pred", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{0, 1, 1, 0});
        const Volume t =
            make_volume("target", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{1, 1, 0, 0});
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Bce}));
        QCOMPARE(result.batch[0], 200.0 / 4.0);
    }

    void out_of_range_prediction_is_an_error_naming_count_and_position()
    {
        const float nan = std::nanf("");
        const Volume p = make_volume("pred.npy", ScalarType::Float32, shape2d(1, 1, 2, 3),
                                     std::vector<float>{0.5f, 0.2f, 1.5f, 0.1f, nan, -0.25f});
        const Volume t = make_volume("target.npy", ScalarType::Float32, shape2d(1, 1, 2, 3),
                                     std::vector<float>{0, 1, 0, 1, 0, 1});
        try {
            evaluate(p, t, with_metrics({Metric::Bce, Metric::Dice}));
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Input);
            QCOMPARE(error.file(), std::string("pred.npy"));
            const QString message = QString::fromStdString(error.message());
            QVERIFY2(message.startsWith("3 prediction values are outside [0, 1] or NaN"),
                     qPrintable(message));
            QVERIFY2(message.contains("first at [n=0, c=0, h=0, w=2] = 1.5"), qPrintable(message));
        }
        // Without a log-based metric the same values are fine.
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Dice}));
        QVERIFY(!std::isnan(result.batch[0]));
    }

    void logits_use_the_stable_form_and_sigmoid()
    {
        const Volume x = make_volume("logits", ScalarType::Float32, shape2d(1, 1, 1, 4),
                                     std::vector<float>{100.0f, -100.0f, 0.0f, 2.0f});
        const Volume t =
            make_volume("target", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{0, 0, 1, 1});
        StatisticsOptions options = with_metrics({Metric::Bce, Metric::Mae, Metric::Tp});
        options.metric.activation = Activation::Sigmoid;
        const Evaluation result = evaluate(x, t, options);
        // max(x,0) - x t + log1p(exp(-|x|)): 100, ~0, log 2, log1p(exp(-2)).
        const double expected =
            (100.0 + std::log1p(std::exp(-100.0)) + std::log(2.0) + std::log1p(std::exp(-2.0))) / 4;
        QVERIFY(close(result.batch[0], expected, 1e-6));
        const double sig2 = 1 / (1 + std::exp(-2.0));
        QVERIFY(close(result.batch[1], (1.0 + 0.0 + 0.5 + (1 - sig2)) / 4, 1e-6));
        QCOMPARE(result.batch[2], 2.0); // sigmoid(0) = 0.5 >= 0.5 and sigmoid(2)
    }

    void focal_with_gamma_zero_is_bce()
    {
        const Shape shape = shape2d(2, 1, 9, 7);
        const auto count = static_cast<std::size_t>(shape.elements());
        const Volume p = make_volume("pred", ScalarType::Float32, shape, random_values(count, 3, false));
        const Volume t = make_volume("target", ScalarType::Float32, shape, random_values(count, 4, true));
        StatisticsOptions options = with_metrics({Metric::Bce, Metric::FocalLoss});
        options.metric.focal_gamma = 0;
        const Evaluation result = evaluate(p, t, options);
        QVERIFY(close(result.batch[1], result.batch[0], 1e-6));
        options.metric.focal_gamma = 2;
        const Evaluation focused = evaluate(p, t, options);
        QVERIFY(focused.batch[1] < focused.batch[0]);
    }

    void empty_masks_follow_the_policy_data()
    {
        QTest::addColumn<int>("policy");
        QTest::addColumn<double>("expected");
        QTest::newRow("nan") << int(EmptyPolicy::Nan) << std::nan("");
        QTest::newRow("zero") << int(EmptyPolicy::Zero) << 0.0;
        QTest::newRow("one") << int(EmptyPolicy::One) << 1.0;
    }

    void empty_masks_follow_the_policy()
    {
        QFETCH(int, policy);
        QFETCH(double, expected);
        // Sample 0 empty in both, sample 1 perfect.
        const Volume p =
            make_volume("pred", ScalarType::Float32, shape2d(2, 1, 1, 2), std::vector<float>{0, 0, 1, 0});
        const Volume t = make_volume("target", ScalarType::UInt8, shape2d(2, 1, 1, 2),
                                     std::vector<std::uint8_t>{0, 0, 1, 0});
        StatisticsOptions options = with_metrics({Metric::Dice, Metric::DiceLoss});
        options.metric.empty = static_cast<EmptyPolicy>(policy);
        const Evaluation result = evaluate(p, t, options);
        const double dice0 = result.samples[0].values[0];
        QVERIFY(std::isnan(expected) ? std::isnan(dice0) : dice0 == expected);
        QCOMPARE(result.samples[1].values[0], 1.0);
        QCOMPARE(result.batch_valid[0], std::int64_t{std::isnan(expected) ? 1 : 2});
        QCOMPARE(result.batch[0], std::isnan(expected) ? 1.0 : (expected + 1.0) / 2);
        QCOMPARE(result.samples[0].values[1], 0.0); // smoothing makes empty dice_loss 0
    }

    void integer_masks_count_nonzero_as_foreground()
    {
        const Volume p =
            make_volume("pred", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{1, 0, 1, 0});
        const Volume t = make_volume("target", ScalarType::UInt8, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint8_t>{255, 255, 0, 0});
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Mse, Metric::Tp}));
        QCOMPARE(result.batch[0], 0.5);
        QCOMPARE(result.batch[1], 1.0);
        QVERIFY(result.labels.empty());
    }

    // The hard decisions at their boundaries (README: P = p >= threshold,
    // T = t > 0.5): a prediction exactly at the threshold is positive, a soft
    // target of exactly 0.5 is negative. Hand-counted over p = {0.5, 0.5, 1,
    // 0.25, 0.75, 0} and t = {0.5, 1, 0.5, 0.5, 0.5000001, 0}: P = {1, 1, 1,
    // 0, 1, 0}, T = {0, 1, 0, 0, 1, 0}.
    void hard_decisions_at_the_threshold_and_at_target_one_half()
    {
        const Volume p = make_volume("pred", ScalarType::Float32, shape2d(1, 1, 1, 6),
                                     std::vector<float>{0.5F, 0.5F, 1.0F, 0.25F, 0.75F, 0.0F});
        const Volume t = make_volume("target", ScalarType::Float32, shape2d(1, 1, 1, 6),
                                     std::vector<float>{0.5F, 1.0F, 0.5F, 0.5F, 0.5000001F, 0.0F});
        const Evaluation result =
            evaluate(p, t, with_metrics({Metric::Tp, Metric::Fp, Metric::Fn, Metric::Tn, Metric::Dice}));
        QCOMPARE(result.batch[0], 2.0); // tp: elements 1 and 4
        QCOMPARE(result.batch[1], 2.0); // fp: elements 0 and 2
        QCOMPARE(result.batch[2], 0.0); // fn
        QCOMPARE(result.batch[3], 2.0); // tn: elements 3 and 5
        QCOMPARE(result.batch[4], 4.0 / 6.0);
        // The same with a float64 target (another loading path).
        const Volume t64 = make_volume("target", ScalarType::Float64, shape2d(1, 1, 1, 6),
                                       std::vector<double>{0.5, 1.0, 0.5, 0.5, 0.5000001, 0.0});
        const Evaluation exact = evaluate(p, t64, with_metrics({Metric::Tp, Metric::Fp, Metric::Fn}));
        QCOMPARE(exact.batch[0], 2.0);
        QCOMPARE(exact.batch[1], 2.0);
        QCOMPARE(exact.batch[2], 0.0);
    }

    // The distance masks use the same rule: a prediction exactly at the
    // threshold is foreground. In a 1 x 6 row the prediction's voxels 0 and 5
    // (at the threshold) against the target's voxel 0: hd = 5 (voxel 5 to 0),
    // where an exclusive rule would leave the prediction empty (hd = +inf).
    void distance_masks_include_the_threshold()
    {
        for (const float threshold : {0.5F, 0.25F}) {
            const Volume p = make_volume("pred", ScalarType::Float32, shape2d(1, 1, 1, 6),
                                         std::vector<float>{threshold, 0, 0, 0, 0.1F, threshold});
            const Volume t = make_volume("target", ScalarType::UInt8, shape2d(1, 1, 1, 6),
                                         std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0});
            StatisticsOptions options = with_metrics({Metric::Tp, Metric::Hd, Metric::Assd});
            options.metric.threshold = threshold;
            const Evaluation result = evaluate(p, t, options);
            QCOMPARE(result.batch[0], 1.0);
            QCOMPARE(result.batch[1], 5.0);
            QCOMPARE(result.batch[2], 5.0 / 3.0); // distances 0, 5 and 0
        }
    }

    void float16_predictions_are_decoded()
    {
        // 0.5, 1.0, 0.0, 0.25 as IEEE half.
        const Volume p = make_volume("pred", ScalarType::Float16, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint16_t>{0x3800, 0x3C00, 0x0000, 0x3400});
        const Volume t =
            make_volume("target", ScalarType::Float32, shape2d(1, 1, 1, 4), std::vector<float>{1, 1, 0, 0});
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Mae}));
        QCOMPARE(result.batch[0], (0.5 + 0.0 + 0.0 + 0.25) / 4);
    }

    void label_maps_give_one_vs_rest_counts()
    {
        // Labels 0..3 in a 1x6 row: hand-counted per label.
        const Volume p = make_volume("pred", ScalarType::Int64, shape2d(1, 1, 1, 6),
                                     std::vector<std::int64_t>{0, 1, 2, 2, 3, 1});
        const Volume t = make_volume("target", ScalarType::UInt8, shape2d(1, 1, 1, 6),
                                     std::vector<std::uint8_t>{0, 1, 2, 3, 3, 0});
        const Evaluation result =
            evaluate(p, t, with_metrics({Metric::Dice, Metric::Tp, Metric::Fp, Metric::Fn, Metric::Mse}));
        QCOMPARE(result.statistics.pairing, PairingMode::LabelMaps);
        QCOMPARE(result.labels.size(), std::size_t{3});
        // label 1: tp 1, fp 1, fn 0; label 2: tp 1, fp 1, fn 0; label 3: tp 1, fp 0, fn 1.
        const auto& label1 = result.samples[0].labels[0].values;
        const auto& label3 = result.samples[0].labels[2].values;
        QCOMPARE(label1[1], 1.0);
        QCOMPARE(label1[2], 1.0);
        QCOMPARE(label1[3], 0.0);
        QCOMPARE(label1[0], 2.0 / 3.0);
        QCOMPARE(label3[1], 1.0);
        QCOMPARE(label3[3], 1.0);
        QVERIFY(std::isnan(label1[4])); // mse has no per-label value for label maps
        // Overall: foreground = label != 0.
        QCOMPARE(result.batch[1], 4.0);
    }

    void explicit_labels_select_the_table()
    {
        const Volume p = make_volume("pred", ScalarType::UInt8, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint8_t>{1, 1, 4, 0});
        const Volume t = make_volume("target", ScalarType::UInt8, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint8_t>{1, 0, 4, 4});
        StatisticsOptions options = with_metrics({Metric::Dice});
        options.labels = {4, 1, 4};
        const Evaluation result = evaluate(p, t, options);
        QCOMPARE(result.labels.size(), std::size_t{2});
        QCOMPARE(result.labels[0].label, std::int64_t{1});
        QCOMPARE(result.labels[1].label, std::int64_t{4});
        QCOMPARE(result.labels[1].values[0], 2.0 / 3.0);
    }

    void negative_label_is_an_error()
    {
        const Volume p =
            make_volume("pred", ScalarType::Int16, shape2d(1, 1, 1, 3), std::vector<std::int16_t>{0, 1, 2});
        const Volume t = make_volume("target.nii", ScalarType::Int16, shape2d(1, 1, 1, 3),
                                     std::vector<std::int16_t>{0, -1, 2});
        try {
            evaluate(p, t, with_metrics({Metric::Dice}));
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.file(), std::string("target.nii"));
            QVERIFY2(QString::fromStdString(error.message()).contains("first -1 at [n=0, c=0, h=0, w=1]"),
                     error.what());
        }
    }

    // uint64 labels above the supported range (here 70000 and 2^64 - 1) are
    // refused like negative ones, never read as some other label.
    void uint64_labels_out_of_range_are_an_error()
    {
        const Volume p = make_volume("pred", ScalarType::UInt64, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint64_t>{0, 1, 2, 1});
        for (const std::uint64_t big : {std::uint64_t{70000}, ~std::uint64_t{0}}) {
            const Volume t = make_volume("target.npy", ScalarType::UInt64, shape2d(1, 1, 1, 4),
                                         std::vector<std::uint64_t>{0, 1, big, 1});
            try {
                const Evaluation result = evaluate(p, t, with_metrics({Metric::Dice, Metric::Tp}));
                QFAIL(qPrintable(QString("no error; labels reported: %1").arg(result.labels.size())));
            } catch (const Error& error) {
                QCOMPARE(error.file(), std::string("target.npy"));
                QVERIFY2(QString::fromStdString(error.message()).contains("65535"), error.what());
            }
        }
    }

    void channel_prediction_against_label_map()
    {
        // C = 3 probabilities over 4 pixels; target labels 0..2.
        const std::vector<float> probabilities = {
            0.8f, 0.1f, 0.2f, 0.1f, // channel 0
            0.1f, 0.7f, 0.2f, 0.1f, // channel 1
            0.1f, 0.2f, 0.6f, 0.8f, // channel 2
        };
        const Volume p = make_volume("pred", ScalarType::Float32, shape2d(1, 3, 1, 4), probabilities);
        const Volume t = make_volume("target", ScalarType::UInt8, shape2d(1, 1, 1, 4),
                                     std::vector<std::uint8_t>{0, 1, 1, 2});
        const Evaluation result = evaluate(p, t, with_metrics({Metric::Dice, Metric::Mse, Metric::Tp}));
        QCOMPARE(result.statistics.pairing, PairingMode::ChannelOneHot);
        QCOMPARE(result.labels.size(), std::size_t{2});
        // label 1 (channel 1 >= 0.5): predicted {1}, target {1, 2}: dice 2/3.
        QCOMPARE(result.samples[0].labels[0].values[0], 2.0 / 3.0);
        // label 2: predicted {2, 3}, target {3}: dice 2/3.
        QCOMPARE(result.samples[0].labels[1].values[0], 2.0 / 3.0);
        // Overall mse against the implicit one-hot target over 12 elements.
        double se = 0;
        const int labels[4] = {0, 1, 1, 2};
        for (int c = 0; c < 3; ++c) {
            for (int i = 0; i < 4; ++i) {
                const double diff =
                    double(probabilities[static_cast<std::size_t>(c * 4 + i)]) - (labels[i] == c ? 1 : 0);
                se += diff * diff;
            }
        }
        QVERIFY(close(result.batch[1], se / 12, 1e-6));
        // A target label without a channel is an error.
        const Volume bad = make_volume("bad_target", ScalarType::UInt8, shape2d(1, 1, 1, 4),
                                       std::vector<std::uint8_t>{0, 3, 1, 2});
        QVERIFY_THROWS_EXCEPTION(Error, evaluate(p, bad, with_metrics({Metric::Dice})));
    }

    void shape_mismatch_names_both_shapes()
    {
        const Volume p =
            make_volume("pred.npy", ScalarType::Float32, shape2d(1, 1, 2, 3), std::vector<float>(6, 0.0f));
        const Volume t =
            make_volume("target.npy", ScalarType::Float32, shape2d(1, 1, 3, 2), std::vector<float>(6, 0.0f));
        try {
            evaluate(p, t, with_metrics({Metric::Dice}));
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.file(), std::string("target.npy"));
            QVERIFY2(
                QString(error.what()).contains("[1, 1, 3, 2] does not match the prediction's [1, 1, 2, 3]"),
                error.what());
        }
    }

    void geometry_mismatch_shows_both()
    {
        Volume p =
            make_volume("pred.nii", ScalarType::Float32, shape3d(1, 1, 1, 1, 2), std::vector<float>(2, 0.0f));
        Volume t = make_volume("target.nii", ScalarType::Float32, shape3d(1, 1, 1, 1, 2),
                               std::vector<float>(2, 0.0f));
        p.geometry().known = t.geometry().known = true;
        p.geometry().spacing = {0.8, 0.8, 2.5};
        t.geometry().spacing = {0.8, 0.8, 2.5 * (1 + 5e-5)};
        check_same_geometry(p, t); // within 1e-4 relative
        t.geometry().spacing = {0.8, 0.8, 3.0};
        try {
            check_same_geometry(p, t);
            QFAIL("no error");
        } catch (const Error& error) {
            QVERIFY2(QString(error.what())
                         .contains("spacing (0.8, 0.8, 3) differs from the prediction's (0.8, 0.8, 2.5)"),
                     error.what());
        }
    }

    void byte_label_maps_equal_the_float_path_data()
    {
        QTest::addColumn<double>("threshold");
        QTest::addColumn<int>("axis");
        for (double threshold : {0.5, 0.0, 1.0, 1.5}) {
            for (SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
                QTest::addRow("threshold %g, axis %d", threshold, static_cast<int>(axis))
                    << threshold << static_cast<int>(axis);
            }
        }
    }

    void byte_label_maps_equal_the_float_path()
    {
        // uint8 label maps are counted straight from the bytes; the same maps
        // as uint16 go through the float path. Every region and label count
        // must agree exactly. Planes of 50 x 90 split into chunks; the first
        // half of each volume holds only 0/1 (the binary shortcut), the second
        // also labels 2 and 3.
        QFETCH(double, threshold);
        QFETCH(int, axis);
        const Shape shape = shape3d(2, 1, 6, 50, 90);
        const auto count = static_cast<std::size_t>(shape.elements());
        std::mt19937 generator(5);
        std::uniform_int_distribution<int> label(0, 3);
        std::vector<std::uint8_t> pred8(count), target8(count);
        for (std::size_t i = 0; i < count; ++i) {
            const int top = i < count / 2 ? 1 : 3;
            pred8[i] = static_cast<std::uint8_t>(std::min(label(generator), top));
            target8[i] = static_cast<std::uint8_t>(std::min(label(generator), top));
        }
        const std::vector<std::uint16_t> pred16(pred8.begin(), pred8.end());
        const std::vector<std::uint16_t> target16(target8.begin(), target8.end());
        StatisticsOptions options = with_metrics({Metric::Dice, Metric::Mse, Metric::Mae, Metric::DiceLoss,
                                                  Metric::Tp, Metric::Fp, Metric::Fn, Metric::Tn});
        options.metric.threshold = threshold;
        options.axis = static_cast<SliceAxis>(axis);
        const Evaluation bytes = evaluate(make_volume("pred", ScalarType::UInt8, shape, pred8),
                                          make_volume("target", ScalarType::UInt8, shape, target8), options);
        const Evaluation wide = evaluate(make_volume("pred", ScalarType::UInt16, shape, pred16),
                                         make_volume("target", ScalarType::UInt16, shape, target16), options);
        QCOMPARE(bytes.statistics.pairing, PairingMode::LabelMaps);
        QCOMPARE(bytes.statistics.labels, wide.statistics.labels);
        QCOMPARE(bytes.statistics.slices.size(), wide.statistics.slices.size());
        for (std::size_t i = 0; i < bytes.statistics.slices.size(); ++i) {
            QVERIFY2(same_region(bytes.statistics.slices[i], wide.statistics.slices[i]),
                     qPrintable(QString::number(i)));
        }
        QCOMPARE(bytes.statistics.label_slices.size(), wide.statistics.label_slices.size());
        for (std::size_t i = 0; i < bytes.statistics.label_slices.size(); ++i) {
            QVERIFY2(same_region(bytes.statistics.label_slices[i], wide.statistics.label_slices[i]),
                     qPrintable(QString::number(i)));
        }
        // And the counts are the counts: a hand loop over the bytes.
        std::int64_t predicted = 0, both = 0;
        for (std::size_t i = 0; i < count; ++i) {
            const bool p = static_cast<double>(pred8[i] != 0) >= threshold;
            predicted += p;
            both += p && target8[i] != 0;
        }
        std::int64_t pass_predicted = 0, pass_both = 0;
        for (const RegionStats& region : bytes.statistics.slices) {
            pass_predicted += region.pred_positive;
            pass_both += region.true_positive;
        }
        QCOMPARE(pass_predicted, predicted);
        QCOMPARE(pass_both, both);
        // Each label's one-vs-rest counts by a hand loop: label maps are
        // compared by value, whatever the threshold (the byte and the wide
        // path share the binary-chunk shortcut, so comparing them with each
        // other cannot show a shortcut taken at the wrong threshold).
        QCOMPARE(bytes.labels.size(), std::size_t{3});
        for (const BatchLabelResult& result : bytes.labels) {
            double tp = 0, fp = 0, fn = 0;
            for (std::size_t i = 0; i < count; ++i) {
                const bool p = pred8[i] == result.label;
                const bool t = target8[i] == result.label;
                tp += p && t;
                fp += p && !t;
                fn += !p && t;
            }
            const QString where = QString("label %1").arg(result.label);
            QVERIFY2(result.values[4] == tp, qPrintable(where + " tp"));
            QVERIFY2(result.values[5] == fp, qPrintable(where + " fp"));
            QVERIFY2(result.values[6] == fn, qPrintable(where + " fn"));
        }
    }

    void cancel_and_progress()
    {
        const Shape shape = shape3d(1, 1, 40, 8, 8);
        const auto count = static_cast<std::size_t>(shape.elements());
        const Volume p = make_volume("pred", ScalarType::Float32, shape, random_values(count, 5, false));
        const Volume t = make_volume("target", ScalarType::Float32, shape, random_values(count, 6, true));
        StatisticsOptions options = with_metrics({Metric::Dice});
        std::atomic<double> last{0};
        options.progress = [&](double fraction) { last = std::max(last.load(), fraction); };
        evaluate(p, t, options);
        QCOMPARE(last.load(), 1.0);
        std::atomic<bool> cancel{true};
        options.cancel = &cancel;
        try {
            evaluate(p, t, options);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Cancelled);
        }
    }

    void unknown_metric_names_are_usage_errors()
    {
        QCOMPARE(parse_metric_list("dice,bce,dice").size(), std::size_t{2});
        // 'all' leaves out the lesion metrics; 'lesion' names them all.
        QCOMPARE(parse_metric_list("all").size(), std::size_t(kMetricCount) - lesion_metrics().size());
        QCOMPARE(parse_metric_list("lesion").size(), std::size_t{11});
        QCOMPARE(parse_metric_list("all,lesion").size(), std::size_t(kMetricCount));
        try {
            parse_metric_list("dice,hausdorf");
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Usage);
            QVERIFY(QString(error.what()).contains("unknown metric 'hausdorf'"));
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(StatisticsTest)
#include "test_statistics.moc"
