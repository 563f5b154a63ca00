// One decision rule behind every number and every pixel: over random volumes
// with exact boundary values, for every pairing x activation x decision x
// threshold, each consumer must decide every voxel the same way:
//   the statistics pass      per-label hard counts of one-voxel slices,
//   the surface distances    hd of one-voxel slices (0: both hit, NaN:
//                            neither, inf: exactly one),
//   the app's overlay        compose_slice's TP / FP / FN / TN colour,
//   the rule itself          ClassDecider / TargetClasses.
// Slicing a [1, C, D, 1, 1] volume along D makes every slice one voxel, so
// per-slice values are per-voxel decisions. A consumer with its own copy of
// the rule (a sigmoid in double, a threshold compared in double, channel 1
// for "the foreground") disagrees at the boundary values and fails here.
#include "masklens/engine/decision.h"
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/ui/slice_model.h"

#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

using namespace masklens;
using namespace masklens::ui;

namespace {

constexpr std::int64_t kVoxels = 240;

enum class Layout { Binary, MultiLabel, ChannelLabels, ChannelOneHot, LabelMaps };

const char* layout_name(Layout layout)
{
    switch (layout) {
    case Layout::Binary: return "binary";
    case Layout::MultiLabel: return "multi-label";
    case Layout::ChannelLabels: return "channels-vs-labels";
    case Layout::ChannelOneHot: return "channels-vs-one-hot";
    case Layout::LabelMaps: return "label-maps";
    }
    return "?";
}

Shape column(std::int64_t channels)
{
    Shape shape;
    shape.n = 1;
    shape.c = channels;
    shape.d = kVoxels;
    shape.h = 1;
    shape.w = 1;
    shape.spatial_dims = 3;
    return shape;
}

template <class T>
Volume make(const std::string& name, ScalarType type, const Shape& shape, const std::vector<T>& values)
{
    Volume volume(name, type, shape);
    std::memcpy(volume.data(), values.data(), values.size() * sizeof(T));
    return volume;
}

// Prediction values of one channel: random, with the rule's boundary values
// (the float threshold and its neighbours, its logit and neighbours, ties).
std::vector<float> channel_values(std::mt19937& random, const DecisionRule& rule)
{
    std::uniform_real_distribution<float> uniform(0.0F, 1.0F), logits(-4.0F, 4.0F);
    const bool activated = rule.activation != Activation::None;
    const auto t = static_cast<float>(rule.threshold);
    const auto logit = static_cast<float>(std::log(rule.threshold / (1 - rule.threshold)));
    std::vector<float> values(static_cast<std::size_t>(kVoxels));
    for (std::int64_t i = 0; i < kVoxels; ++i) {
        float v = activated ? logits(random) : uniform(random);
        switch (i % 8) {
        case 0: v = activated ? logit : t; break;
        case 1: v = std::nextafter(activated ? logit : t, 10.0F); break;
        case 2: v = std::nextafter(activated ? logit : t, -10.0F); break;
        case 3: v = 0.25F; break; // the same in every channel: a tie
        default: break;
        }
        values[static_cast<std::size_t>(i)] = v;
    }
    return values;
}

struct Pair {
    Volume prediction, target;
    PairingMode pairing;
};

Pair make_pair(Layout layout, const DecisionRule& rule, std::mt19937& random)
{
    constexpr std::int64_t kClasses = 4;
    std::uniform_int_distribution<int> label(0, kClasses - 1), bit(0, 1);
    std::vector<std::uint8_t> labels(static_cast<std::size_t>(kVoxels));
    for (auto& value : labels) {
        value = static_cast<std::uint8_t>(label(random));
    }
    const auto channels = [&](std::int64_t count) {
        std::vector<float> values;
        for (std::int64_t c = 0; c < count; ++c) {
            const auto channel = channel_values(random, rule);
            values.insert(values.end(), channel.begin(), channel.end());
        }
        return values;
    };
    switch (layout) {
    case Layout::Binary: {
        std::vector<float> target(labels.size());
        for (std::size_t i = 0; i < target.size(); ++i) {
            target[i] = i % 5 == 0 ? 0.5F : static_cast<float>(bit(random)); // 0.5: not a hit (t > 0.5)
        }
        return {make("pred", ScalarType::Float32, column(1), channels(1)),
                make("target", ScalarType::Float32, column(1), target), PairingMode::Binary};
    }
    case Layout::MultiLabel: {
        std::vector<std::uint8_t> bits(static_cast<std::size_t>(3 * kVoxels));
        for (auto& value : bits) {
            value = static_cast<std::uint8_t>(bit(random));
        }
        return {make("pred", ScalarType::Float32, column(3), channels(3)),
                make("target", ScalarType::UInt8, column(3), bits), PairingMode::Binary};
    }
    case Layout::ChannelLabels:
        return {make("pred", ScalarType::Float32, column(kClasses), channels(kClasses)),
                make("target", ScalarType::UInt8, column(1), labels), PairingMode::ChannelOneHot};
    case Layout::ChannelOneHot: {
        std::vector<float> one_hot(static_cast<std::size_t>(kClasses * kVoxels), 0.0F);
        for (std::int64_t i = 0; i < kVoxels; ++i) {
            one_hot[static_cast<std::size_t>(labels[static_cast<std::size_t>(i)] * kVoxels + i)] = 1.0F;
        }
        return {make("pred", ScalarType::Float32, column(kClasses), channels(kClasses)),
                make("target", ScalarType::Float32, column(kClasses), one_hot), PairingMode::OneHotTarget};
    }
    case Layout::LabelMaps: {
        std::vector<std::int16_t> predicted(static_cast<std::size_t>(kVoxels));
        for (auto& value : predicted) {
            value = static_cast<std::int16_t>(label(random));
        }
        return {make("pred", ScalarType::Int16, column(1), predicted),
                make("target", ScalarType::UInt8, column(1), labels), PairingMode::LabelMaps};
    }
    }
    return {};
}

// What compose_slice shows at one voxel: (predicted, hit).
std::pair<bool, bool> overlay_at(const Pair& pair, const PairView& view, std::int64_t d)
{
    LayerSettings layers;
    layers.prediction_style = LayerStyle::Hidden; // TN stays black
    const SliceImage image = compose_slice(pair.prediction, pair.target, view, ViewAxis::Axial, d, layers);
    const Rgb colour{image.rgba[0], image.rgba[1], image.rgba[2]};
    if (colour == layers.true_positive) {
        return {true, true};
    }
    if (colour == layers.false_positive) {
        return {true, false};
    }
    if (colour == layers.false_negative) {
        return {false, true};
    }
    return {false, false};
}

} // namespace

class DecisionConsumersTest : public QObject {
    Q_OBJECT

private slots:
    void every_consumer_decides_every_voxel_alike_data()
    {
        QTest::addColumn<int>("layout");
        QTest::addColumn<int>("activation");
        QTest::addColumn<int>("decision");
        QTest::addColumn<double>("threshold");
        for (const Layout layout : {Layout::Binary, Layout::MultiLabel, Layout::ChannelLabels,
                                    Layout::ChannelOneHot, Layout::LabelMaps}) {
            for (const Activation activation : {Activation::None, Activation::Sigmoid, Activation::Softmax}) {
                for (const Decision decision : {Decision::Threshold, Decision::Argmax}) {
                    for (const double threshold : {0.5, 0.3, 0.7, 0.1}) {
                        if (decision == Decision::Argmax && threshold != 0.5) {
                            continue; // argmax takes no threshold
                        }
                        QTest::newRow(
                            qPrintable(QString("%1 %2 %3 %4")
                                           .arg(layout_name(layout))
                                           .arg(QString::fromUtf8(activation_name(activation).data()))
                                           .arg(QString::fromUtf8(decision_name(decision).data()))
                                           .arg(threshold)))
                            << static_cast<int>(layout) << static_cast<int>(activation)
                            << static_cast<int>(decision) << threshold;
                    }
                }
            }
        }
    }

    void every_consumer_decides_every_voxel_alike()
    {
        QFETCH(int, layout);
        QFETCH(int, activation);
        QFETCH(int, decision);
        QFETCH(double, threshold);
        const DecisionRule rule{static_cast<Activation>(activation), static_cast<Decision>(decision),
                                threshold};
        std::mt19937 random(static_cast<unsigned>(layout * 100 + activation * 10 + decision) +
                            static_cast<unsigned>(threshold * 1000));
        const Pair pair = make_pair(static_cast<Layout>(layout), rule, random);
        StatisticsOptions options;
        options.metric.activation = rule.activation;
        options.metric.decision = rule.decision;
        options.metric.threshold = rule.threshold;
        options.metrics = {Metric::Tp, Metric::Hd};
        options.include_background = true;
        try {
            check_rule(rule, pair.prediction);
        } catch (const Error&) {
            // Not a valid combination (softmax on one channel, sigmoid on
            // integers): every entry point refuses it the same way.
            QVERIFY_THROWS_EXCEPTION(Error, evaluate(pair.prediction, pair.target, options));
            return;
        }
        // Same-shape C-channel pairs are one-hot classes under exclusive rules
        // (softmax, argmax) and independent channels otherwise.
        PairingMode expected = pair.pairing;
        if (static_cast<Layout>(layout) == Layout::ChannelOneHot && !rule.exclusive_classes()) {
            expected = PairingMode::Binary;
        }
        if (static_cast<Layout>(layout) == Layout::MultiLabel && rule.exclusive_classes()) {
            // A multi-label target is no one-hot target: an input error.
            QVERIFY_THROWS_EXCEPTION(Error, evaluate(pair.prediction, pair.target, options));
            return;
        }
        const Evaluation evaluation = evaluate(pair.prediction, pair.target, options);
        QCOMPARE(evaluation.statistics.pairing, expected);
        const std::size_t hd = 1;
        const ClassDecider decider(pair.prediction, pair.target.type(), rule);
        const TargetClasses classes(pair.target, expected);

        // Every reported label, and the foreground (-1: what the distances
        // and the overlay show when no label is chosen). The pass's overall
        // row is the foreground only for one channel (C channels pool their
        // sums): there the overall distances and overlay meet the rule.
        std::vector<std::int64_t> labels = evaluation.statistics.labels;
        labels.push_back(-1);
        const bool overall_is_foreground = pair.prediction.shape().c == 1;
        QVERIFY(!labels.empty());
        int checked = 0;
        for (std::size_t l = 0; l < labels.size(); ++l) {
            const std::int64_t label = labels[l];
            PairView view;
            view.pairing = expected;
            view.rule = rule;
            if (label >= 0) {
                view.label = label;
            }
            for (std::int64_t d = 0; d < kVoxels; ++d) {
                std::uint8_t rule_predicted = 0, rule_hit = 0;
                decider.mask(0, d, 1, label, &rule_predicted);
                classes.mask(0, d, 1, label, &rule_hit);
                RegionStats stats = label < 0 ? evaluation.statistics.slice(0, d)
                                              : evaluation.statistics.label_slice(0, d, l);
                if (label < 0 && !overall_is_foreground) {
                    stats.pred_positive = rule_predicted; // pooled channels: the rule stands in
                    stats.target_positive = rule_hit;
                }
                const auto [overlay_predicted, overlay_hit] = overlay_at(pair, view, d);
                const double distance =
                    label < 0 ? evaluation.samples[0].slices[static_cast<std::size_t>(d)][hd]
                              : evaluation.samples[0].labels[l].slices[static_cast<std::size_t>(d)][hd];
                const bool pass_predicted = stats.pred_positive == 1, pass_hit = stats.target_positive == 1;
                const auto where = QString("label %1, voxel %2").arg(label).arg(d);
                QVERIFY2(stats.pred_positive == rule_predicted,
                         qPrintable("pass vs rule, prediction: " + where));
                QVERIFY2(stats.target_positive == rule_hit, qPrintable("pass vs rule, target: " + where));
                QVERIFY2(overlay_predicted == pass_predicted && overlay_hit == pass_hit,
                         qPrintable("overlay vs pass: " + where));
                const bool both = pass_predicted && pass_hit, neither = !pass_predicted && !pass_hit;
                QVERIFY2(both      ? distance == 0
                         : neither ? std::isnan(distance)
                                   : std::isinf(distance),
                         qPrintable(QString("distances vs pass: %1 (hd %2)").arg(where).arg(distance)));
                ++checked;
            }
        }
        QCOMPARE(checked, static_cast<int>(labels.size()) * static_cast<int>(kVoxels));
    }
};

QTEST_GUILESS_MAIN(DecisionConsumersTest)
#include "test_decision_consumers.moc"
