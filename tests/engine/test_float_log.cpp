// FloatLog (float_log.h), the vectorised logarithm of the bce terms, against
// the exact logarithm (long double std::log): every tested normal float
// within 1.1 units in the last place, log(0) = -inf, the element-at-a-time
// value equal to the packet value bit for bit, and the loss terms that use
// it (bce of certain, wrong and subnormal predictions) at their exact values.
#include "masklens/engine/float_log.h"
#include "masklens/engine/voxel_terms.h"

#include <QtTest>

#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

using masklens::terms::float_log;

namespace {

using Array = Eigen::Array<float, Eigen::Dynamic, 1>;

// Distance from the exact value in units of the float spacing at that value.
double ulps(float got, long double exact)
{
    const float rounded = static_cast<float>(exact);
    const float spacing =
        std::nextafter(std::fabs(rounded), std::numeric_limits<float>::infinity()) - std::fabs(rounded);
    return static_cast<double>(std::fabs(static_cast<long double>(got) - exact) / spacing);
}

class FloatLogTest : public QObject {
    Q_OBJECT

private slots:
    // Every 97th float from the smallest normal to 4, plus the neighbours
    // of 1 and of sqrt(1/2) (where the reduction switches), through a
    // vectorised Eigen expression (whole packets and a scalar tail).
    void within_one_ulp_of_the_exact_log()
    {
        std::vector<float> values;
        const auto first = std::bit_cast<std::uint32_t>(std::numeric_limits<float>::min());
        const auto last = std::bit_cast<std::uint32_t>(4.0f);
        for (std::uint32_t bits = first; bits <= last; bits += 97) {
            values.push_back(std::bit_cast<float>(bits));
        }
        for (const float centre : {1.0f, 0.70710678f, 0.5f, 2.0f}) {
            float below = centre, above = centre;
            for (int k = 0; k < 2000; ++k) {
                values.push_back(below = std::nextafter(below, 0.0f));
                values.push_back(above = std::nextafter(above, 8.0f));
            }
        }
        values.push_back(1.0f);
        values.push_back(std::nextafter(1.0f, 0.0f));
        const Eigen::Map<const Array> x(values.data(), static_cast<Eigen::Index>(values.size()));
        const Array logs = float_log(x);
        double worst = 0;
        float worst_at = 0;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const long double exact = std::log(static_cast<long double>(values[i]));
            const double error = exact == 0 ? std::fabs(logs[static_cast<Eigen::Index>(i)])
                                            : ulps(logs[static_cast<Eigen::Index>(i)], exact);
            if (error > worst) {
                worst = error;
                worst_at = values[i];
            }
        }
        QVERIFY2(worst <= 1.1,
                 qPrintable(QStringLiteral("%1 ulp at %2").arg(worst).arg(double(worst_at), 0, 'g', 9)));
        QCOMPARE(logs[static_cast<Eigen::Index>(values.size() - 2)], 0.0f); // log(1) exactly 0
    }

    // log1p over (0, 1] (bce_with_logits' arguments, exp(-|x|)), tiny
    // arguments included, where log(1 + x) alone would lose every digit:
    // within 2.5 ulp (2.39 measured).
    void log1p_within_two_and_a_half_ulp()
    {
        std::vector<float> values;
        const auto first = std::bit_cast<std::uint32_t>(1e-30f);
        const auto last = std::bit_cast<std::uint32_t>(1.0f);
        for (std::uint32_t bits = first; bits <= last; bits += 89) {
            values.push_back(std::bit_cast<float>(bits));
        }
        const Eigen::Map<const Array> x(values.data(), static_cast<Eigen::Index>(values.size()));
        const Array logs = masklens::terms::float_log1p(x);
        double worst = 0;
        float worst_at = 0;
        for (std::size_t i = 0; i < values.size(); ++i) {
            const long double exact = std::log1p(static_cast<long double>(values[i]));
            const double error = ulps(logs[static_cast<Eigen::Index>(i)], exact);
            if (error > worst) {
                worst = error;
                worst_at = values[i];
            }
        }
        QVERIFY2(worst <= 2.5, // the log's 0.85 ulp plus the quotient's and the product's roundings
                 qPrintable(QStringLiteral("%1 ulp at %2").arg(worst).arg(double(worst_at), 0, 'g', 9)));
        const masklens::terms::FloatLog1p op;
        for (std::size_t i = 0; i < values.size(); i += 101) {
            QCOMPARE(std::bit_cast<std::uint32_t>(op(values[i])),
                     std::bit_cast<std::uint32_t>(logs[static_cast<Eigen::Index>(i)]));
        }
    }

    void zero_gives_minus_infinity()
    {
        Array x = Array::Zero(19);
        x[3] = 0.25f;
        const Array logs = float_log(x);
        for (Eigen::Index i = 0; i < x.size(); ++i) {
            if (i == 3) {
                QCOMPARE(logs[i], std::log(0.25f));
            } else {
                QVERIFY(std::isinf(logs[i]) && logs[i] < 0);
            }
        }
    }

    // Eigen evaluates unaligned heads and tails one element at a time: that
    // value must be the packet's, bit for bit.
    void element_equals_packet()
    {
        std::vector<float> values(1037);
        for (std::size_t i = 0; i < values.size(); ++i) {
            values[i] = static_cast<float>(i + 1) / 1031.0f;
        }
        const Eigen::Map<const Array> x(values.data(), static_cast<Eigen::Index>(values.size()));
        const Array logs = float_log(x);
        const masklens::terms::FloatLog op;
        for (std::size_t i = 0; i < values.size(); ++i) {
            QCOMPARE(std::bit_cast<std::uint32_t>(op(values[i])),
                     std::bit_cast<std::uint32_t>(logs[static_cast<Eigen::Index>(i)]));
        }
    }

    // The loss terms on arrays: a certain, wrong prediction costs exactly
    // 100 (PyTorch's clamp), subnormal ones included when the exact path is
    // asked for; a subnormal p against t = 0 costs p.
    void bce_terms_at_the_clamp_and_below_the_normal_range()
    {
        Array p(4), t(4);
        p << 0.0f, 1e-45f, 1e-40f, 0.5f;
        t << 1.0f, 1.0f, 0.0f, 1.0f;
        const Array exact = masklens::terms::bce<true>(p, t);
        QCOMPARE(exact[0], 100.0f);
        QCOMPARE(exact[1], 100.0f);
        QCOMPARE(exact[2], 1e-40f);
        QVERIFY(std::fabs(exact[3] - std::log(2.0f)) <= 1e-7f);
        const Array one_log = masklens::terms::bce_binary_target<true>(p, t);
        for (Eigen::Index i = 0; i < p.size(); ++i) {
            QCOMPARE(one_log[i], exact[i]);
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(FloatLogTest)
#include "test_float_log.moc"
