// Volume::view: a Volume over the caller's memory (the Python package's
// zero-copy input). The engine must read that memory itself (data() is the
// caller's pointer, and changing the memory changes the result), keep the
// owner alive exactly as long as the Volume or its moves, and refuse what
// it cannot describe.
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "test_volume_helpers.h"

#include <QtTest>

#include <memory>
#include <vector>

using namespace masklens;
using masklens::testing::make_volume;
using masklens::testing::shape2d;
using masklens::testing::value_of;
using masklens::testing::with_metrics;

namespace {

const std::byte* bytes(const std::vector<float>& values)
{
    return reinterpret_cast<const std::byte*>(values.data());
}

class VolumeViewTest : public QObject {
    Q_OBJECT

private slots:
    void reads_the_callers_memory()
    {
        std::vector<float> prediction = {0, 1, 1, 0, 1, 1, 0, 0};
        const std::vector<float> target = {0, 1, 0, 0, 1, 1, 0, 1};
        const Volume view =
            Volume::view("pred", ScalarType::Float32, shape2d(1, 1, 2, 4), bytes(prediction), {});
        QVERIFY(view.is_view());
        QCOMPARE(static_cast<const void*>(view.data()), static_cast<const void*>(prediction.data()));
        QCOMPARE(view.byte_size(), prediction.size() * sizeof(float));
        const Volume t = make_volume("target", ScalarType::Float32, shape2d(1, 1, 2, 4), target);
        QVERIFY(!t.is_view());
        const auto options = with_metrics({Metric::Tp, Metric::Fp, Metric::Fn});
        // Hand-counted: tp 3 (positions 1, 4, 5), fp 1 (2), fn 1 (7).
        const Evaluation first = evaluate(view, t, options);
        QCOMPARE(value_of(first, first.batch, Metric::Tp), 3.0);
        QCOMPARE(value_of(first, first.batch, Metric::Fp), 1.0);
        QCOMPARE(value_of(first, first.batch, Metric::Fn), 1.0);
        // A copy would not see this change; the view does.
        prediction[7] = 1;
        const Evaluation second = evaluate(view, t, options);
        QCOMPARE(value_of(second, second.batch, Metric::Tp), 4.0);
        QCOMPARE(value_of(second, second.batch, Metric::Fn), 0.0);
    }

    void keeps_its_owner_alive_across_moves()
    {
        auto owner = std::make_shared<std::vector<float>>(16, 0.5f);
        std::weak_ptr<std::vector<float>> watch = owner;
        const std::byte* data = bytes(*owner);
        {
            Volume view = Volume::view("pred", ScalarType::Float32, shape2d(1, 1, 4, 4), data, owner);
            owner.reset();
            QVERIFY(!watch.expired());
            Volume moved = std::move(view);
            QCOMPARE(static_cast<const void*>(moved.data()), static_cast<const void*>(data));
            Volume assigned;
            assigned = std::move(moved);
            QVERIFY(assigned.is_view());
            QVERIFY(!watch.expired());
        }
        QVERIFY(watch.expired());
    }

    void refuses_null_and_empty()
    {
        const std::vector<float> values(4, 0.f);
        try {
            (void)Volume::view("pred", ScalarType::Float32, shape2d(1, 1, 2, 2), nullptr, {});
            QFAIL("null data accepted");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Input);
            QCOMPARE(QString::fromStdString(error.what()), QStringLiteral("pred: no data"));
        }
        try {
            (void)Volume::view("pred", ScalarType::Float32, shape2d(1, 1, 0, 2), bytes(values), {});
            QFAIL("empty shape accepted");
        } catch (const Error& error) {
            QVERIFY(std::string(error.what()).find("empty or negative extent") != std::string::npos);
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(VolumeViewTest)
#include "test_volume_view.moc"
