// The metric table (metrics.h) against what the engine computes: each
// column is checked by evaluating pairs where the answer is known, not by
// reading the table back. A wrong direction, unit, per-label flag or
// probability requirement in a row fails here.
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "test_volume_helpers.h"

#include <QtTest>

#include <cmath>
#include <random>
#include <set>

using namespace masklens;
using masklens::testing::make_volume;
using masklens::testing::shape3d;
using masklens::testing::value_of;

namespace {

constexpr std::int64_t kSide = 12;

// A ball-shaped binary target, [1,1,12,12,12].
std::vector<float> ball_target()
{
    std::vector<float> values(kSide * kSide * kSide);
    for (std::int64_t z = 0; z < kSide; ++z) {
        for (std::int64_t y = 0; y < kSide; ++y) {
            for (std::int64_t x = 0; x < kSide; ++x) {
                const double r2 = (z - 5.5) * (z - 5.5) + (y - 5.5) * (y - 5.5) + (x - 5.5) * (x - 5.5);
                values[static_cast<std::size_t>((z * kSide + y) * kSide + x)] = r2 < 16.0 ? 1.0F : 0.0F;
            }
        }
    }
    return values;
}

// Probabilities that agree with the target (perfect: exactly the target) or
// carry errors both ways: missed voxels, false voxels and soft values.
std::vector<float> prediction_of(const std::vector<float>& target, bool perfect)
{
    if (perfect) {
        return target;
    }
    std::mt19937 random(7);
    std::uniform_real_distribution<float> unit(0.0F, 1.0F);
    std::vector<float> values(target.size());
    for (std::size_t i = 0; i < target.size(); ++i) {
        const float u = unit(random);
        const bool flip = u < 0.15F;
        const bool on = (target[i] > 0.5F) != flip;
        values[i] = on ? 0.6F + 0.4F * unit(random) : 0.4F * unit(random);
    }
    // A far false voxel, so that the distances grow clearly.
    values[0] = 1.0F;
    return values;
}

StatisticsOptions options_for(std::vector<Metric> metrics)
{
    StatisticsOptions options;
    options.metrics = std::move(metrics);
    options.metric.nsd_tolerance_mm = 1.0;
    return options;
}

std::vector<Metric> binary_metrics()
{
    std::vector<Metric> metrics;
    for (const MetricInfo& info : metric_table()) {
        if (!info.combines_classes) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

std::vector<Metric> class_metrics()
{
    std::vector<Metric> metrics;
    for (const MetricInfo& info : metric_table()) {
        if (info.combines_classes) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

Evaluation evaluate_binary(const std::vector<float>& pred, const std::vector<float>& target,
                           const std::vector<Metric>& metrics, double spacing = 1.0)
{
    StatisticsOptions options = options_for(metrics);
    // lesion_hd95's penalty for missed and false lesions is a length too.
    options.metric.lesion_hd_penalty *= spacing;
    const Shape shape = shape3d(1, 1, kSide, kSide, kSide);
    Volume p = make_volume("pred", ScalarType::Float32, shape, pred);
    Volume t = make_volume("target", ScalarType::Float32, shape, target);
    p.geometry().spacing = {spacing, spacing, spacing};
    t.geometry().spacing = {spacing, spacing, spacing};
    return evaluate(p, t, options);
}

// Two-channel softmax probabilities against a label map (0 / 1).
Evaluation evaluate_classes(const std::vector<float>& foreground, const std::vector<float>& target)
{
    const std::int64_t voxels = kSide * kSide * kSide;
    std::vector<float> channels(static_cast<std::size_t>(2 * voxels));
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(voxels));
    for (std::int64_t i = 0; i < voxels; ++i) {
        const auto v = static_cast<std::size_t>(i);
        channels[v] = 1.0F - foreground[v];
        channels[static_cast<std::size_t>(voxels) + v] = foreground[v];
        labels[v] = target[v] > 0.5F ? 1 : 0;
    }
    const Volume p = make_volume("pred", ScalarType::Float32, shape3d(1, 2, kSide, kSide, kSide), channels);
    const Volume t = make_volume("target", ScalarType::UInt8, shape3d(1, 1, kSide, kSide, kSide), labels);
    return evaluate(p, t, options_for(class_metrics()));
}

} // namespace

class TestMetricTable : public QObject {
    Q_OBJECT

private slots:
    void rowsFollowTheEnumAndNamesParse()
    {
        QCOMPARE(static_cast<int>(metric_table().size()), kMetricCount);
        std::set<std::string_view> names;
        for (std::size_t i = 0; i < metric_table().size(); ++i) {
            const MetricInfo& info = metric_table()[i];
            QCOMPARE(static_cast<std::size_t>(info.metric), i);
            QVERIFY2(names.insert(info.name).second, info.name.data());
            QCOMPARE(parse_metric(info.name), std::optional<Metric>(info.metric));
            QVERIFY2(!info.summary.empty(), info.name.data());
            QVERIFY2(info.nan_reason.rfind("undefined", 0) == 0, info.name.data());
        }
    }

    void defaultSetIsTheDocumentedOne()
    {
        // README "Metrics": the default --metrics set.
        std::vector<std::string_view> names;
        for (const Metric metric : default_metrics()) {
            names.push_back(metric_name(metric));
        }
        const std::vector<std::string_view> expected = {"bce",  "mse", "mae",       "dice_loss", "iou_loss",
                                                        "dice", "iou", "precision", "recall"};
        QCOMPARE(names, expected);
    }

    // higher_is_worse: a perfect prediction must score better than a wrong
    // one on every metric whose two values differ.
    void directionMatchesPerfectAgainstWrong()
    {
        const std::vector<float> target = ball_target();
        // Lesion metrics: their own pair below (lesionDirectionMatchesPerfectAgainstWrong).
        std::vector<Metric> metrics = binary_metrics();
        std::erase_if(metrics, is_lesion_metric);
        const Evaluation perfect = evaluate_binary(prediction_of(target, true), target, metrics);
        const Evaluation wrong = evaluate_binary(prediction_of(target, false), target, metrics);
        int compared = 0;
        for (const Metric metric : metrics) {
            const double good = value_of(perfect, perfect.batch, metric);
            const double bad = value_of(wrong, wrong.batch, metric);
            QVERIFY2(std::isfinite(good) && std::isfinite(bad), metric_name(metric).data());
            if (metric == Metric::Tp) {
                // More true positives is better; the wrong prediction misses some.
                QVERIFY(bad < good);
            }
            if (good == bad) {
                continue;
            }
            ++compared;
            QVERIFY2((bad > good) == higher_is_worse(metric), metric_name(metric).data());
        }
        // Every binary metric but tn (ties are possible there) must differ.
        QVERIFY2(compared >= static_cast<int>(metrics.size()) - 1, std::to_string(compared).c_str());

        const std::vector<float> exact = prediction_of(target, true);
        const Evaluation perfect_classes = evaluate_classes(exact, target);
        const Evaluation wrong_classes = evaluate_classes(prediction_of(target, false), target);
        for (const Metric metric : class_metrics()) {
            const double good = value_of(perfect_classes, perfect_classes.batch, metric);
            const double bad = value_of(wrong_classes, wrong_classes.batch, metric);
            QVERIFY2(std::isfinite(good) && std::isfinite(bad) && good != bad, metric_name(metric).data());
            QVERIFY2((bad > good) == higher_is_worse(metric), metric_name(metric).data());
        }
    }

    // The lesion rows: three target lesions; the wrong prediction finds one
    // exactly, one in part (IoU 2/3), misses one and adds a false one, so
    // that every lesion metric differs.
    void lesionDirectionMatchesPerfectAgainstWrong()
    {
        std::vector<float> target(kSide * kSide * kSide, 0.0F), wrong(target.size(), 0.0F);
        const auto cube = [](std::vector<float>& v, std::int64_t z, std::int64_t y, std::int64_t x,
                             std::int64_t w) {
            for (std::int64_t d = 0; d < 3; ++d) {
                for (std::int64_t h = 0; h < 3; ++h) {
                    for (std::int64_t i = 0; i < w; ++i) {
                        v[static_cast<std::size_t>(((z + d) * kSide + y + h) * kSide + x + i)] = 1.0F;
                    }
                }
            }
        };
        cube(target, 0, 0, 0, 3);
        cube(target, 6, 6, 6, 3);
        cube(target, 0, 8, 0, 3);
        cube(wrong, 0, 0, 0, 3);
        cube(wrong, 6, 6, 6, 2);
        cube(wrong, 8, 0, 8, 2);
        const std::vector<Metric> metrics = lesion_metrics();
        const Evaluation perfect = evaluate_binary(target, target, metrics);
        const Evaluation bad = evaluate_binary(wrong, target, metrics);
        for (const Metric metric : metrics) {
            const double good_value = value_of(perfect, perfect.batch, metric);
            const double bad_value = value_of(bad, bad.batch, metric);
            QVERIFY2(std::isfinite(good_value) && std::isfinite(bad_value) && good_value != bad_value,
                     metric_name(metric).data());
            QVERIFY2((bad_value > good_value) == higher_is_worse(metric), metric_name(metric).data());
        }
        QCOMPARE(value_of(bad, bad.batch, Metric::LesionTp), 2.0);
        QCOMPARE(value_of(bad, bad.batch, Metric::Sq), (1.0 + 2.0 / 3.0) / 2);
    }

    // unit "mm": doubling the spacing doubles the value; unitless metrics
    // other than nsd (whose tolerance is in mm) keep theirs.
    void unitsScaleWithSpacing()
    {
        const std::vector<float> target = ball_target();
        const std::vector<float> pred = prediction_of(target, false);
        const std::vector<Metric> metrics = binary_metrics();
        const Evaluation one = evaluate_binary(pred, target, metrics, 1.0);
        const Evaluation two = evaluate_binary(pred, target, metrics, 2.0);
        for (const Metric metric : metrics) {
            const double a = value_of(one, one.batch, metric);
            const double b = value_of(two, two.batch, metric);
            if (metric_unit(metric) == "mm") {
                QVERIFY2(a > 0 && std::abs(b - 2 * a) <= 1e-12 * b, metric_name(metric).data());
            } else if (metric != Metric::Nsd) {
                QVERIFY2(a == b, metric_name(metric).data());
            }
        }
    }

    // per_label: label maps report a per-label value exactly for these
    // metrics (C-channel pairs give every metric per channel).
    void perLabelValuesExistWhereTheTableSays()
    {
        const std::vector<float> ball = ball_target();
        const std::vector<float> noisy = prediction_of(ball, false);
        std::vector<std::uint8_t> target(ball.size());
        std::vector<std::uint8_t> pred(ball.size());
        for (std::size_t i = 0; i < ball.size(); ++i) {
            // Label 2 in one half of the ball, label 1 in the other.
            const std::uint8_t label = i % kSide < kSide / 2 ? 1 : 2;
            target[i] = ball[i] > 0.5F ? label : 0;
            pred[i] = noisy[i] > 0.5F ? label : 0;
        }
        const Shape shape = shape3d(1, 1, kSide, kSide, kSide);
        const Evaluation evaluation =
            evaluate(make_volume("pred", ScalarType::UInt8, shape, pred),
                     make_volume("target", ScalarType::UInt8, shape, target), options_for(binary_metrics()));
        // README "Labels": label maps give counts only, so the elementwise
        // losses and the class combinations have no per-label value.
        const std::set<std::string_view> without_labels = {
            "bce", "mse", "mae", "focal_loss", "ce", "dice_ce", "generalized_dice_loss"};
        for (const MetricInfo& info : metric_table()) {
            QVERIFY2(info.per_label == !without_labels.contains(info.name), info.name.data());
        }
        QCOMPARE(evaluation.statistics.pairing, PairingMode::LabelMaps);
        QCOMPARE(evaluation.labels.size(), std::size_t{2});
        for (const BatchLabelResult& label : evaluation.labels) {
            for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
                const Metric metric = evaluation.metrics[m];
                QVERIFY2(std::isfinite(label.values[m]) == is_label_metric(metric),
                         metric_name(metric).data());
            }
        }
    }

    // needs_probabilities: a value above 1 is refused by exactly these metrics.
    void probabilityMetricsRefuseValuesAboveOne()
    {
        const std::vector<float> target = ball_target();
        std::vector<float> pred = prediction_of(target, false);
        pred[1] = 1.5F;
        for (const Metric metric : binary_metrics()) {
            bool refused = false;
            try {
                evaluate_binary(pred, target, {metric});
            } catch (const Error&) {
                refused = true;
            }
            QVERIFY2(refused == needs_probabilities(metric), metric_name(metric).data());
        }
    }

    // The NaN reasons: the row's reason names the metric's own cause.
    void nanReasonsNameTheirCause()
    {
        QVERIFY(metric_info(Metric::Nsd).nan_reason.find("--nsd-tolerance") != std::string_view::npos);
        QVERIFY(metric_info(Metric::Dice).nan_reason.find("--ignore-empty-target") != std::string_view::npos);
        for (const Metric metric : class_metrics()) {
            QVERIFY(metric_info(metric).nan_reason.find("C-channel") != std::string_view::npos);
        }
        // Binary data leaves the class combinations undefined: the reason applies.
        const std::vector<float> target = ball_target();
        const Evaluation evaluation = evaluate_binary(target, target, class_metrics());
        for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
            QVERIFY(std::isnan(evaluation.batch[m]));
        }
    }
};

QTEST_APPLESS_MAIN(TestMetricTable)
#include "test_metric_table.moc"
