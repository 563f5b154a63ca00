// Exact squared Euclidean distance transform: brute force and scipy references.
#include "masklens/engine/distance_transform.h"
#include "masklens/engine/error.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

using namespace masklens;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

using Extent = std::array<std::int64_t, 3>;

std::vector<std::uint8_t> random_features(const Extent& e, double density, unsigned seed)
{
    std::mt19937 rng(seed);
    std::bernoulli_distribution on(density);
    std::vector<std::uint8_t> f(static_cast<std::size_t>(e[0] * e[1] * e[2]));
    for (auto& v : f) {
        v = on(rng) ? 1 : 0;
    }
    return f;
}

// O(N^2): every voxel against every feature voxel in its slice of the
// unmeasured axes.
std::vector<double> brute_force(const std::vector<std::uint8_t>& f, const EdtGrid& grid)
{
    const Extent& e = grid.extent_dhw;
    const std::array<double, 3> s{grid.spacing_xyz[2], grid.spacing_xyz[1], grid.spacing_xyz[0]};
    std::vector<double> out(f.size(), kInf);
    std::vector<Extent> features;
    for (std::int64_t d = 0; d < e[0]; ++d) {
        for (std::int64_t h = 0; h < e[1]; ++h) {
            for (std::int64_t w = 0; w < e[2]; ++w) {
                if (f[static_cast<std::size_t>((d * e[1] + h) * e[2] + w)] != 0) {
                    features.push_back({d, h, w});
                }
            }
        }
    }
    for (std::int64_t d = 0; d < e[0]; ++d) {
        for (std::int64_t h = 0; h < e[1]; ++h) {
            for (std::int64_t w = 0; w < e[2]; ++w) {
                const Extent c{d, h, w};
                double best = kInf;
                for (const auto& q : features) {
                    double sum = 0;
                    bool same_slice = true;
                    for (std::size_t a = 0; a < 3; ++a) {
                        const double delta = static_cast<double>(c[a] - q[a]) * s[a];
                        if (grid.axes_dhw[a]) {
                            sum += delta * delta;
                        } else if (c[a] != q[a]) {
                            same_slice = false;
                        }
                    }
                    if (same_slice) {
                        best = std::min(best, sum);
                    }
                }
                out[static_cast<std::size_t>((d * e[1] + h) * e[2] + w)] = best;
            }
        }
    }
    return out;
}

bool close(double a, double b, double rel)
{
    if (std::isinf(a) || std::isinf(b)) {
        return a == b;
    }
    return std::abs(a - b) <= rel * std::max(1.0, std::abs(b));
}

std::vector<std::uint8_t> read_bits(const QString& path, std::int64_t count)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot open %s", qPrintable(path));
    }
    const QByteArray bytes = file.readAll();
    std::vector<std::uint8_t> out(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
        const auto byte = static_cast<std::uint8_t>(bytes.at(static_cast<qsizetype>(i / 8)));
        out[static_cast<std::size_t>(i)] = (byte >> (7 - i % 8)) & 1;
    }
    return out;
}

} // namespace

class TestDistanceTransform : public QObject {
    Q_OBJECT

private slots:
    void envelope_matches_brute_force();
    void brute_force_random_data();
    void brute_force_random();
    void box_matches_full_grid();
    void no_features_is_infinite();
    void single_feature_exact();
    void thread_count_does_not_change_results();
    void scipy_reference();
    void rejects_bad_grids();
};

void TestDistanceTransform::envelope_matches_brute_force()
{
    std::mt19937 rng(7);
    std::uniform_real_distribution<double> value(0.0, 40.0);
    std::bernoulli_distribution infinite(0.4);
    for (int trial = 0; trial < 300; ++trial) {
        const std::int64_t n = 1 + trial % 37;
        const double spacing = 0.3 + 0.01 * trial;
        std::vector<double> f(static_cast<std::size_t>(n));
        for (auto& x : f) {
            // Quantised values make ties between parabolas common.
            x = infinite(rng) ? kInf : std::floor(value(rng));
        }
        std::vector<double> out(f.size());
        std::vector<std::int64_t> v(f.size());
        std::vector<double> z(2 * f.size() + 1);
        detail::envelope_1d(f.data(), n, spacing, out.data(), v.data(), z.data());
        for (std::int64_t p = 0; p < n; ++p) {
            double best = kInf;
            for (std::int64_t q = 0; q < n; ++q) {
                const double d = static_cast<double>(p - q) * spacing;
                best = std::min(best, d * d + f[static_cast<std::size_t>(q)]);
            }
            QVERIFY2(close(out[static_cast<std::size_t>(p)], best, 1e-12),
                     qPrintable(QString("n=%1 p=%2: %3 vs %4").arg(n).arg(p).arg(out[p]).arg(best)));
        }
    }
}

void TestDistanceTransform::brute_force_random_data()
{
    QTest::addColumn<int>("d");
    QTest::addColumn<int>("h");
    QTest::addColumn<int>("w");
    QTest::addColumn<double>("sx");
    QTest::addColumn<double>("sy");
    QTest::addColumn<double>("sz");
    QTest::addColumn<double>("density");
    QTest::addColumn<int>("axes"); // bit 0: D, 1: H, 2: W
    QTest::addColumn<unsigned>("seed");

    QTest::newRow("3d aniso sparse") << 9 << 11 << 13 << 0.8 << 0.8 << 1.5 << 0.01 << 7 << 1u;
    QTest::newRow("3d aniso dense") << 8 << 10 << 7 << 0.3 << 1.7 << 2.9 << 0.3 << 7 << 2u;
    QTest::newRow("3d one feature") << 10 << 9 << 8 << 1.1 << 0.6 << 0.9 << 0.0015 << 7 << 3u;
    QTest::newRow("3d long W") << 3 << 4 << 61 << 0.5 << 2.0 << 3.0 << 0.02 << 7 << 4u;
    QTest::newRow("3d long D") << 47 << 3 << 5 << 0.5 << 2.0 << 0.25 << 0.02 << 7 << 5u;
    QTest::newRow("2d") << 1 << 23 << 31 << 0.7 << 1.3 << 1.0 << 0.02 << 6 << 6u;
    QTest::newRow("slices along D") << 6 << 12 << 14 << 0.9 << 1.4 << 5.0 << 0.02 << 6 << 7u;
    QTest::newRow("slices along H") << 12 << 5 << 14 << 0.9 << 1.4 << 0.6 << 0.02 << 5 << 8u;
    QTest::newRow("slices along W") << 12 << 14 << 5 << 0.9 << 1.4 << 0.6 << 0.02 << 3 << 9u;
    QTest::newRow("lines along W only") << 4 << 5 << 17 << 0.9 << 1.4 << 0.6 << 0.1 << 4 << 10u;
    QTest::newRow("lines along D only") << 17 << 5 << 4 << 0.9 << 1.4 << 0.6 << 0.1 << 1 << 11u;
    QTest::newRow("no axis") << 3 << 4 << 5 << 1.0 << 1.0 << 1.0 << 0.3 << 0 << 12u;
    QTest::newRow("single voxel grid") << 1 << 1 << 1 << 1.0 << 1.0 << 1.0 << 1.0 << 7 << 13u;
}

void TestDistanceTransform::brute_force_random()
{
    QFETCH(int, d);
    QFETCH(int, h);
    QFETCH(int, w);
    QFETCH(double, sx);
    QFETCH(double, sy);
    QFETCH(double, sz);
    QFETCH(double, density);
    QFETCH(int, axes);
    QFETCH(unsigned, seed);
    EdtGrid grid;
    grid.extent_dhw = {d, h, w};
    grid.spacing_xyz = {sx, sy, sz};
    grid.axes_dhw = {(axes & 1) != 0, (axes & 2) != 0, (axes & 4) != 0};
    const auto f = random_features(grid.extent_dhw, density, seed);
    const auto expected = brute_force(f, grid);
    for (int threads : {1, 2, 0}) {
        const auto got = squared_distance_transform(f.data(), grid, threads);
        QCOMPARE(got.size(), expected.size());
        for (std::size_t i = 0; i < got.size(); ++i) {
            QVERIFY2(close(got[i], expected[i], 1e-12),
                     qPrintable(QString("voxel %1: %2 vs %3").arg(i).arg(got[i]).arg(expected[i])));
        }
    }
}

void TestDistanceTransform::box_matches_full_grid()
{
    EdtGrid grid;
    grid.extent_dhw = {14, 17, 19};
    grid.spacing_xyz = {0.6, 1.1, 2.3};
    std::vector<std::uint8_t> f(static_cast<std::size_t>(grid.voxels()), 0);
    const GridBox box{{2, 3, 4}, {11, 15, 16}};
    // Features inside the box only, with feature bits: bit 1 counts, bit 0 does not.
    std::mt19937 rng(3);
    std::bernoulli_distribution on(0.03);
    for (std::int64_t d = box.lo[0]; d < box.hi[0]; ++d) {
        for (std::int64_t h = box.lo[1]; h < box.hi[1]; ++h) {
            for (std::int64_t w = box.lo[2]; w < box.hi[2]; ++w) {
                f[static_cast<std::size_t>((d * 17 + h) * 19 + w)] =
                    static_cast<std::uint8_t>(on(rng) ? 2 : 1);
            }
        }
    }
    std::vector<std::uint8_t> only(f.size());
    for (std::size_t i = 0; i < f.size(); ++i) {
        only[i] = (f[i] & 2) != 0;
    }
    const auto full = brute_force(only, grid);
    std::vector<double> sub(static_cast<std::size_t>(box.voxels()));
    squared_distance_transform_box(f.data(), grid, box, sub.data(), 0, 2);
    const auto e = box.extent();
    for (std::int64_t d = 0; d < e[0]; ++d) {
        for (std::int64_t h = 0; h < e[1]; ++h) {
            for (std::int64_t w = 0; w < e[2]; ++w) {
                const double got = sub[static_cast<std::size_t>((d * e[1] + h) * e[2] + w)];
                const double want = full[static_cast<std::size_t>(((d + 2) * 17 + h + 3) * 19 + w + 4)];
                QVERIFY(close(got, want, 1e-12));
            }
        }
    }
}

void TestDistanceTransform::no_features_is_infinite()
{
    EdtGrid grid;
    grid.extent_dhw = {5, 6, 7};
    std::vector<std::uint8_t> f(static_cast<std::size_t>(grid.voxels()), 0);
    for (const double v : squared_distance_transform(f.data(), grid)) {
        QCOMPARE(v, kInf);
    }
    // Per-slice: only the slice holding the feature gets finite values.
    grid.axes_dhw = {false, true, true};
    f[static_cast<std::size_t>((2 * 6 + 3) * 7 + 4)] = 1;
    const auto out = squared_distance_transform(f.data(), grid);
    for (std::int64_t i = 0; i < grid.voxels(); ++i) {
        QCOMPARE(std::isfinite(out[static_cast<std::size_t>(i)]), i / 42 == 2);
    }
}

void TestDistanceTransform::single_feature_exact()
{
    // Voxel (d, h, w) = (1, 2, 3) with spacing x = 0.5, y = 2, z = 3: distance to
    // (4, 0, 0) is (3*3)^2 + (2*2)^2 + (3*0.5)^2 = 81 + 16 + 2.25.
    EdtGrid grid;
    grid.extent_dhw = {5, 4, 6};
    grid.spacing_xyz = {0.5, 2.0, 3.0};
    std::vector<std::uint8_t> f(static_cast<std::size_t>(grid.voxels()), 0);
    f[static_cast<std::size_t>((1 * 4 + 2) * 6 + 3)] = 1;
    const auto out = squared_distance_transform(f.data(), grid);
    QCOMPARE(out[static_cast<std::size_t>((4 * 4 + 0) * 6 + 0)], 99.25);
    QCOMPARE(out[static_cast<std::size_t>((1 * 4 + 2) * 6 + 3)], 0.0);
}

void TestDistanceTransform::thread_count_does_not_change_results()
{
    EdtGrid grid;
    grid.extent_dhw = {40, 50, 45};
    grid.spacing_xyz = {0.8, 0.8, 1.5};
    const auto f = random_features(grid.extent_dhw, 0.001, 42);
    const auto one = squared_distance_transform(f.data(), grid, 1);
    const auto many = squared_distance_transform(f.data(), grid, 7);
    QVERIFY(std::memcmp(one.data(), many.data(), one.size() * sizeof(double)) == 0);
}

void TestDistanceTransform::scipy_reference()
{
    const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/distance/");
    QFile file(dir + "references.json");
    QVERIFY(file.open(QIODevice::ReadOnly));
    const QJsonObject edt = QJsonDocument::fromJson(file.readAll()).object().value("edt").toObject();
    const QJsonArray dims = edt.value("dims").toArray();
    const QJsonArray spacing = edt.value("spacing_xyz").toArray();
    EdtGrid grid;
    grid.extent_dhw = {dims[0].toInteger(), dims[1].toInteger(), dims[2].toInteger()};
    grid.spacing_xyz = {spacing[0].toDouble(), spacing[1].toDouble(), spacing[2].toDouble()};
    const auto f = read_bits(dir + edt.value("features").toString(), grid.voxels());
    QFile expected_file(dir + edt.value("expected").toString());
    QVERIFY(expected_file.open(QIODevice::ReadOnly));
    const QByteArray raw = expected_file.readAll();
    QCOMPARE(raw.size(), static_cast<qsizetype>(grid.voxels() * 8));
    std::vector<double> expected(static_cast<std::size_t>(grid.voxels()));
    std::memcpy(expected.data(), raw.constData(), static_cast<std::size_t>(raw.size())); // little-endian host
    const auto got = squared_distance_transform(f.data(), grid);
    for (std::size_t i = 0; i < got.size(); ++i) {
        QVERIFY2(close(got[i], expected[i], 1e-9),
                 qPrintable(QString("voxel %1: %2 vs %3").arg(i).arg(got[i]).arg(expected[i])));
    }
}

void TestDistanceTransform::rejects_bad_grids()
{
    std::vector<std::uint8_t> f(8, 0);
    std::vector<double> out(8);
    EdtGrid grid;
    grid.extent_dhw = {2, 0, 4};
    QVERIFY_THROWS_EXCEPTION(Error, squared_distance_transform(f.data(), grid, out.data()));
    grid.extent_dhw = {2, 2, 2};
    grid.spacing_xyz = {1.0, -1.0, 1.0};
    QVERIFY_THROWS_EXCEPTION(Error, squared_distance_transform(f.data(), grid, out.data()));
    grid.spacing_xyz = {1.0, 1.0, std::numeric_limits<double>::quiet_NaN()};
    QVERIFY_THROWS_EXCEPTION(Error, squared_distance_transform(f.data(), grid, out.data()));
    grid.spacing_xyz = {1.0, 1.0, 1.0};
    QVERIFY_THROWS_EXCEPTION(
        Error, squared_distance_transform_box(f.data(), grid, GridBox{{0, 0, 0}, {3, 2, 2}}, out.data()));
}

QTEST_APPLESS_MAIN(TestDistanceTransform)
#include "test_distance_transform.moc"
