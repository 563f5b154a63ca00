// Surface-distance metrics: hand-computed cases, scipy/numpy references
// (tests/generate_distance_references.py), per-slice batching and the Volume API.
// Long (over 800 lines) on purpose: one flat list of independent cases that
// share the reference loader and helpers of distance_test_support.h.
#include "distance_test_support.h"
#include "masklens/engine/error.h"
#include "masklens/engine/surface_distance.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>
#include <vector>

using namespace masklens;

namespace {

using namespace masklens::distance_test;
// Relative tolerance of CHECK_VALUE against the committed references.
constexpr double kCheckTolerance = 1e-9;

// A mask builder: grid plus set voxels.
struct Masks {
    MaskGrid grid;
    std::vector<std::uint8_t> pred, target;

    explicit Masks(MaskGrid g)
        : grid(g), pred(static_cast<std::size_t>(g.voxels()), 0),
          target(static_cast<std::size_t>(g.voxels()), 0)
    {}
    std::size_t at(std::int64_t d, std::int64_t h, std::int64_t w) const
    {
        return static_cast<std::size_t>((d * grid.h + h) * grid.w + w);
    }
    SurfaceDistances run(const SurfaceDistanceOptions& o) const
    {
        return surface_distances(pred.data(), target.data(), grid, o);
    }
};

SurfaceDistanceOptions spacing(double x, double y, double z = 1.0)
{
    SurfaceDistanceOptions o;
    o.spacing_xyz = {x, y, z};
    return o;
}

void compare_expected(const SurfaceDistances& got, const QJsonObject& expected, int config_index)
{
    QCOMPARE(got.pred_surface_voxels, expected.value("pred_surface").toInteger());
    QCOMPARE(got.target_surface_voxels, expected.value("target_surface").toInteger());
    const QJsonObject v = expected.value("configs").toArray()[config_index].toObject();
    CHECK_VALUE(got.hd, json_number(v.value("hd")));
    CHECK_VALUE(got.hd_percentile, json_number(v.value("hd_percentile")));
    CHECK_VALUE(got.assd, json_number(v.value("assd")));
    CHECK_VALUE(got.nsd, json_number(v.value("nsd")));
}

// Slice i of a [D, H, W] mask along axis a, as a 2D [1, rows, cols] mask.
std::vector<std::uint8_t> take_slice(const std::vector<std::uint8_t>& m, const MaskGrid& g, int axis,
                                     std::int64_t i, MaskGrid& out)
{
    const std::array<std::int64_t, 3> e{g.d, g.h, g.w};
    std::array<int, 2> keep{};
    int k = 0;
    for (int a = 0; a < 3; ++a) {
        if (a != axis) {
            keep[static_cast<std::size_t>(k++)] = a;
        }
    }
    out = MaskGrid{1, e[static_cast<std::size_t>(keep[0])], e[static_cast<std::size_t>(keep[1])], 2};
    std::vector<std::uint8_t> s(static_cast<std::size_t>(out.voxels()));
    for (std::int64_t r = 0; r < out.h; ++r) {
        for (std::int64_t c = 0; c < out.w; ++c) {
            std::array<std::int64_t, 3> idx{};
            idx[static_cast<std::size_t>(axis)] = i;
            idx[static_cast<std::size_t>(keep[0])] = r;
            idx[static_cast<std::size_t>(keep[1])] = c;
            s[static_cast<std::size_t>(r * out.w + c)] =
                m[static_cast<std::size_t>((idx[0] * g.h + idx[1]) * g.w + idx[2])];
        }
    }
    return s;
}

// In-plane spacing (x, y) of a slice along axis: columns are the last kept axis.
SurfaceDistanceOptions slice_options(SurfaceDistanceOptions o, int axis)
{
    const std::array<double, 3> dhw{o.spacing_xyz[2], o.spacing_xyz[1], o.spacing_xyz[0]};
    std::array<double, 2> kept{};
    int k = 0;
    for (int a = 0; a < 3; ++a) {
        if (a != axis) {
            kept[static_cast<std::size_t>(k++)] = dhw[static_cast<std::size_t>(a)];
        }
    }
    o.spacing_xyz = {kept[1], kept[0], 1.0};
    return o;
}

Volume make_volume(const std::string& name, ScalarType type, const Shape& shape)
{
    Volume v(name, type, shape);
    std::memset(v.data(), 0, v.byte_size());
    return v;
}

} // namespace

class TestSurfaceDistance : public QObject {
    Q_OBJECT

private slots:
    void single_voxels_data();
    void single_voxels();
    void line_against_point();
    void distances_to_the_other_surface_not_its_interior();
    void identical_masks();
    void image_border_is_background();
    void thin_3d_image_is_all_surface();
    void empty_masks();
    void percentile_matches_numpy();
    void references_data();
    void references();
    void per_slice_references_data();
    void per_slice_references();
    void per_slice_equals_2d_per_slice_data();
    void per_slice_equals_2d_per_slice();
    void threads_do_not_change_results();
    void sample_pass_equals_separate_calls_data();
    void sample_pass_equals_separate_calls();
    void cancel_stops_with_cancelled_error();
    void distance_map();
    void volume_api_3d();
    void volume_api_2d_batch();
    void volume_api_dtypes_and_selectors();
    void mask_box_and_cropped_masks();
    void rejects_bad_input();
};

void TestSurfaceDistance::single_voxels_data()
{
    QTest::addColumn<int>("dims");
    QTest::addColumn<double>("sx");
    QTest::addColumn<double>("sy");
    QTest::addColumn<double>("sz");
    QTest::addColumn<double>("expected");
    // 2D: pred (h, w) = (2, 3), target (5, 7): rows differ by 3 (y), columns by 4 (x).
    QTest::newRow("2d unit") << 2 << 1.0 << 1.0 << 1.0 << 5.0;
    QTest::newRow("2d aniso") << 2 << 0.5 << 2.0 << 1.0 << std::sqrt(2.0 * 2.0 + 6.0 * 6.0);
    // 3D: pred (d, h, w) = (1, 2, 3), target (3, 5, 7): 2 slices, 3 rows, 4 columns.
    QTest::newRow("3d unit") << 3 << 1.0 << 1.0 << 1.0 << std::sqrt(4.0 + 9.0 + 16.0);
    QTest::newRow("3d aniso") << 3 << 0.5 << 2.0 << 3.0 << std::sqrt(2.0 * 2.0 + 6.0 * 6.0 + 6.0 * 6.0);
}

void TestSurfaceDistance::single_voxels()
{
    QFETCH(int, dims);
    QFETCH(double, sx);
    QFETCH(double, sy);
    QFETCH(double, sz);
    QFETCH(double, expected);
    Masks m(dims == 2 ? MaskGrid{1, 10, 10, 2} : MaskGrid{6, 10, 10, 3});
    if (dims == 2) {
        m.pred[m.at(0, 2, 3)] = 1;
        m.target[m.at(0, 5, 7)] = 1;
    } else {
        m.pred[m.at(1, 2, 3)] = 1;
        m.target[m.at(3, 5, 7)] = 1;
    }
    auto o = spacing(sx, sy, sz);
    o.nsd_tolerance_mm = expected;
    auto r = m.run(o);
    CHECK_VALUE(r.hd, expected);
    CHECK_VALUE(r.hd_percentile, expected);
    CHECK_VALUE(r.assd, expected);
    CHECK_VALUE(r.nsd, 1.0); // d <= tau counts
    QCOMPARE(r.pred_surface_voxels, 1);
    QCOMPARE(r.target_surface_voxels, 1);
    o.nsd_tolerance_mm = expected * (1 - 1e-9);
    r = m.run(o);
    CHECK_VALUE(r.nsd, 0.0);
}

void TestSurfaceDistance::line_against_point()
{
    // Pred: row 0, columns 0..4; target: (0, 0). D_PT = {0, 1, 2, 3, 4}, D_TP = {0}.
    Masks m(MaskGrid{1, 3, 8, 2});
    for (int w = 0; w < 5; ++w) {
        m.pred[m.at(0, 0, w)] = 1;
    }
    m.target[m.at(0, 0, 0)] = 1;
    auto o = spacing(1.0, 1.0);
    o.nsd_tolerance_mm = 1.0;
    auto r = m.run(o);
    CHECK_VALUE(r.hd, 4.0);
    CHECK_VALUE(r.hd_percentile, 3.8); // numpy: position 0.95 * 4
    CHECK_VALUE(r.percentile_pred_to_target, 3.8);
    CHECK_VALUE(r.percentile_target_to_pred, 0.0);
    CHECK_VALUE(r.assd, 10.0 / 6.0);
    CHECK_VALUE(r.mean_pred_to_target, 2.0);
    CHECK_VALUE(r.nsd, 3.0 / 6.0);
    o.rule = HausdorffRule::Pooled; // {0, 0, 1, 2, 3, 4}: position 4.75
    CHECK_VALUE(m.run(o).hd_percentile, 3.75);
    o.rule = HausdorffRule::Mean;
    CHECK_VALUE(m.run(o).hd_percentile, 1.9);
    // x spacing 0.5 halves every distance; rows do not matter here.
    o = spacing(0.5, 7.0);
    r = m.run(o);
    CHECK_VALUE(r.hd, 2.0);
    CHECK_VALUE(r.hd_percentile, 1.9);
    CHECK_VALUE(r.assd, 5.0 / 6.0);
    QVERIFY(std::isnan(r.nsd)); // no tolerance
    // The same line as a 3D mask along D with z spacing 3.
    Masks m3(MaskGrid{8, 3, 3, 3});
    for (int d = 0; d < 5; ++d) {
        m3.pred[m3.at(d, 1, 1)] = 1;
    }
    m3.target[m3.at(0, 1, 1)] = 1;
    r = m3.run(spacing(1.0, 1.0, 3.0));
    CHECK_VALUE(r.hd, 12.0);
    CHECK_VALUE(r.hd_percentile, 11.4);
}

void TestSurfaceDistance::distances_to_the_other_surface_not_its_interior()
{
    // Pred: 5x5 square; target: the 3x3 square at its centre. S(T) is the 8-voxel
    // ring (the centre is interior). D_PT: 4 x sqrt(2) (corners) and 12 x 1;
    // D_TP: 8 x 1 (each ring voxel is one step from the outer ring), not 0 as a
    // distance to the prediction's mask would give.
    Masks m(MaskGrid{1, 9, 9, 2});
    for (int h = 2; h < 7; ++h) {
        for (int w = 2; w < 7; ++w) {
            m.pred[m.at(0, h, w)] = 1;
            if (h >= 3 && h <= 5 && w >= 3 && w <= 5) {
                m.target[m.at(0, h, w)] = 1;
            }
        }
    }
    auto o = spacing(1.0, 1.0);
    o.nsd_tolerance_mm = 1.0;
    const auto r = m.run(o);
    QCOMPARE(r.pred_surface_voxels, 16);
    QCOMPARE(r.target_surface_voxels, 8);
    CHECK_VALUE(r.hd, std::sqrt(2.0));
    CHECK_VALUE(r.mean_target_to_pred, 1.0);
    CHECK_VALUE(r.percentile_target_to_pred, 1.0);
    CHECK_VALUE(r.assd, (4 * std::sqrt(2.0) + 20) / 24);
    CHECK_VALUE(r.nsd, 20.0 / 24.0);
}

void TestSurfaceDistance::identical_masks()
{
    Masks m(MaskGrid{5, 5, 5, 3});
    for (int d = 1; d < 4; ++d) {
        for (int h = 1; h < 4; ++h) {
            for (int w = 1; w < 4; ++w) {
                m.pred[m.at(d, h, w)] = m.target[m.at(d, h, w)] = 1;
            }
        }
    }
    auto o = spacing(0.3, 0.7, 1.9);
    o.nsd_tolerance_mm = 0.0;
    const auto r = m.run(o);
    QCOMPARE(r.pred_surface_voxels, 26); // 3x3x3 cube less its centre
    CHECK_VALUE(r.hd, 0.0);
    CHECK_VALUE(r.hd_percentile, 0.0);
    CHECK_VALUE(r.assd, 0.0);
    CHECK_VALUE(r.nsd, 1.0);
}

void TestSurfaceDistance::image_border_is_background()
{
    // A mask filling a 3x3 image: without the outside counting as background it
    // would have no surface; with it, all but the centre is surface.
    Masks m(MaskGrid{1, 3, 3, 2});
    std::fill(m.pred.begin(), m.pred.end(), 1);
    m.target[m.at(0, 1, 1)] = 1;
    const auto r = m.run(spacing(1.0, 1.0));
    QCOMPARE(r.pred_surface_voxels, 8);
    QCOMPARE(r.target_surface_voxels, 1);
    CHECK_VALUE(r.hd, std::sqrt(2.0));
    CHECK_VALUE(r.mean_target_to_pred, 1.0);
}

void TestSurfaceDistance::thin_3d_image_is_all_surface()
{
    // The same 3x3 block: as a 2D image its centre is interior, as a 3D image one
    // slice thick it is surface (its D neighbours lie outside the image).
    Masks m2(MaskGrid{1, 5, 5, 2});
    for (int h = 1; h < 4; ++h) {
        for (int w = 1; w < 4; ++w) {
            m2.pred[m2.at(0, h, w)] = 1;
        }
    }
    m2.target[m2.at(0, 2, 2)] = 1;
    Masks m3(MaskGrid{1, 5, 5, 3});
    m3.pred = m2.pred;
    m3.target = m2.target;
    QCOMPARE(m2.run(spacing(1, 1)).pred_surface_voxels, 8);
    QCOMPARE(m3.run(spacing(1, 1)).pred_surface_voxels, 9);
    CHECK_VALUE(m2.run(spacing(1, 1)).mean_target_to_pred, 1.0);
    CHECK_VALUE(m3.run(spacing(1, 1)).mean_target_to_pred, 0.0);
}

void TestSurfaceDistance::empty_masks()
{
    Masks m(MaskGrid{4, 5, 6, 3});
    auto o = spacing(1, 1, 1);
    auto r = m.run(o);
    QVERIFY(std::isnan(r.hd) && std::isnan(r.hd_percentile) && std::isnan(r.assd) && std::isnan(r.nsd));
    o.nsd_tolerance_mm = 2.0;
    QVERIFY(std::isnan(m.run(o).nsd));
    m.pred[m.at(1, 2, 3)] = 1;
    r = m.run(o);
    QCOMPARE(r.hd, kInf);
    QCOMPARE(r.hd_percentile, kInf);
    QCOMPARE(r.assd, kInf);
    QCOMPARE(r.nsd, 0.0);
    // Both directions are +inf when one surface is empty (MONAI's directed
    // HausdorffDistanceMetric and SurfaceDistanceMetric give inf either way).
    QCOMPARE(r.percentile_pred_to_target, kInf);
    QCOMPARE(r.percentile_target_to_pred, kInf);
    QCOMPARE(r.max_pred_to_target, kInf);
    QCOMPARE(r.max_target_to_pred, kInf);
    QCOMPARE(r.mean_target_to_pred, kInf);
    std::swap(m.pred, m.target);
    r = m.run(o);
    QCOMPARE(r.hd, kInf);
    QCOMPARE(r.assd, kInf);
    QCOMPARE(r.nsd, 0.0);
    o.nsd_tolerance_mm.reset();
    QVERIFY(std::isnan(m.run(o).nsd));
}

void TestSurfaceDistance::percentile_matches_numpy()
{
    // numpy.percentile([4, 1, 3, 2], q)
    const std::vector<std::pair<double, double>> cases{{95, 3.85}, {50, 2.5},  {0, 1},
                                                       {100, 4},   {25, 1.75}, {90, 3.7}};
    for (const auto& [q, want] : cases) {
        std::vector<double> v{4, 1, 3, 2};
        CHECK_VALUE(percentile_linear(v, q), want);
    }
    std::vector<double> one{7.5};
    CHECK_VALUE(percentile_linear(one, 95), 7.5);
    std::vector<double> none;
    QVERIFY(std::isnan(percentile_linear(none, 95)));
    // Many ties.
    std::vector<double> ties(1000, 2.0);
    ties[999] = 3.0;
    CHECK_VALUE(percentile_linear(ties, 99.95), 2.5005); // position 998.5005
    // Bit for bit: numpy interpolates as b - (b - a)(1 - t) when t >= 0.5 (its
    // _lerp), which differs from a + (b - a) t in the last bit for these inputs
    // (t = 4 * (q / 100) - floor of it; results printed by numpy 1.24, repr),
    // whether or not the compiler fuses the multiply-add (-march=x86-64-v3
    // has FMA and GCC contracts by default): chosen so that both forms agree
    // with numpy's only when written as numpy writes them.
    const std::vector<std::tuple<std::vector<double>, double, double>> exact{
        {{1.381, 1.903, 0.913, 6.382, 0.262}, 90, 4.590400000000001},
        {{1.731, 3.996, 9.501, 0.56, 1.117}, 70, 3.5429999999999997},
        {{1.165, 8.407, 6.103, 1.826, 0.265}, 70, 5.247599999999999},
    };
    for (const auto& [values, q, want] : exact) {
        std::vector<double> v = values;
        const double got = percentile_linear(v, q);
        QVERIFY2(got == want,
                 qPrintable(QString("got %1, numpy %2").arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
    }
}

void TestSurfaceDistance::references_data()
{
    add_reference_rows();
}

void TestSurfaceDistance::references()
{
    QFETCH(int, case_index);
    QFETCH(int, config_index);
    const QJsonObject refs = load_references();
    const ReferenceCase reference = load_case(refs, case_index);
    const QJsonObject& c = reference.json;
    const MaskGrid& grid = reference.grid;
    const auto& pred = reference.pred;
    const auto& target = reference.target;
    const auto o = config_options(refs.value("configs").toArray()[config_index].toObject(),
                                  c.value("spacing_xyz").toArray(), SurfaceMode::Voxel);
    compare_expected(surface_distances(pred.data(), target.data(), grid, o), c.value("expected").toObject(),
                     config_index);
}

void TestSurfaceDistance::per_slice_references_data()
{
    QTest::addColumn<int>("case_index");
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("config_index");
    const QJsonObject refs = load_references();
    const QJsonArray cases = refs.value("cases").toArray();
    for (int c = 0; c < cases.size(); ++c) {
        const QJsonObject obj = cases[c].toObject();
        if (!obj.contains("slices")) {
            continue;
        }
        for (int axis = 0; axis < 3; ++axis) {
            for (int k : {0, 1, 2}) {
                QTest::newRow(qPrintable(obj.value("name").toString() +
                                         QString(" axis %1 config %2").arg("DHW"[axis]).arg(k)))
                    << c << axis << k;
            }
        }
    }
}

void TestSurfaceDistance::per_slice_references()
{
    QFETCH(int, case_index);
    QFETCH(int, axis);
    QFETCH(int, config_index);
    const QJsonObject refs = load_references();
    const QJsonObject c = refs.value("cases").toArray()[case_index].toObject();
    const QJsonArray dims = c.value("dims").toArray();
    const MaskGrid grid{dims[0].toInteger(), dims[1].toInteger(), dims[2].toInteger(), 3};
    const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/distance/");
    const auto pred = read_bits(dir + c.value("pred").toString(), grid.voxels());
    const auto target = read_bits(dir + c.value("target").toString(), grid.voxels());
    const auto o = config_options(refs.value("configs").toArray()[config_index].toObject(),
                                  c.value("spacing_xyz").toArray(), SurfaceMode::Voxel);
    const SliceAxis slice_axis = axis == 0 ? SliceAxis::D : axis == 1 ? SliceAxis::H : SliceAxis::W;
    const auto got = surface_distances_per_slice(pred.data(), target.data(), grid, slice_axis, o);
    const QJsonArray expected = c.value("slices").toObject().value(QString("DHW"[axis])).toArray();
    QCOMPARE(static_cast<qsizetype>(got.size()), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        compare_expected(got[i], expected[static_cast<qsizetype>(i)].toObject(), config_index);
    }
}

void TestSurfaceDistance::per_slice_equals_2d_per_slice_data()
{
    QTest::addColumn<int>("axis");
    QTest::addColumn<double>("density");
    QTest::newRow("D sparse") << 0 << 0.05;
    QTest::newRow("H sparse") << 1 << 0.05;
    QTest::newRow("W sparse") << 2 << 0.05;
    QTest::newRow("D dense") << 0 << 0.5;
    QTest::newRow("H dense") << 1 << 0.5;
    QTest::newRow("W dense") << 2 << 0.5;
}

void TestSurfaceDistance::per_slice_equals_2d_per_slice()
{
    QFETCH(int, axis);
    QFETCH(double, density);
    // Random masks on part of the grid, so that some slices are empty in one or both.
    const MaskGrid grid{13, 17, 19, 3};
    Masks m(grid);
    std::mt19937 rng(static_cast<unsigned>(axis * 100 + density * 10));
    std::bernoulli_distribution on(density);
    for (std::int64_t d = 0; d < grid.d; ++d) {
        for (std::int64_t h = 0; h < grid.h; ++h) {
            for (std::int64_t w = 0; w < grid.w; ++w) {
                if (d < 10 && h < 14) {
                    m.pred[m.at(d, h, w)] = on(rng) ? 1 : 0;
                }
                if (d > 2 && w > 3) {
                    m.target[m.at(d, h, w)] = on(rng) ? 1 : 0;
                }
            }
        }
    }
    SurfaceDistanceOptions o = spacing(0.7, 1.1, 2.3);
    o.nsd_tolerance_mm = 1.2;
    const SliceAxis slice_axis = axis == 0 ? SliceAxis::D : axis == 1 ? SliceAxis::H : SliceAxis::W;
    const auto batched = surface_distances_per_slice(m.pred.data(), m.target.data(), grid, slice_axis, o);
    const std::array<std::int64_t, 3> e{grid.d, grid.h, grid.w};
    QCOMPARE(static_cast<std::int64_t>(batched.size()), e[static_cast<std::size_t>(axis)]);
    const auto so = slice_options(o, axis);
    for (std::int64_t i = 0; i < e[static_cast<std::size_t>(axis)]; ++i) {
        MaskGrid sg;
        const auto p = take_slice(m.pred, grid, axis, i, sg);
        const auto t = take_slice(m.target, grid, axis, i, sg);
        const auto single = surface_distances(p.data(), t.data(), sg, so);
        const auto& b = batched[static_cast<std::size_t>(i)];
        QCOMPARE(b.pred_surface_voxels, single.pred_surface_voxels);
        QCOMPARE(b.target_surface_voxels, single.target_surface_voxels);
        QVERIFY(same(b.hd, single.hd, 1e-12));
        QVERIFY(same(b.hd_percentile, single.hd_percentile, 1e-12));
        QVERIFY(same(b.assd, single.assd, 1e-12));
        QVERIFY(same(b.nsd, single.nsd, 1e-12));
    }
}

void TestSurfaceDistance::threads_do_not_change_results()
{
    const MaskGrid grid{40, 48, 44, 3};
    Masks m(grid);
    for (std::int64_t d = 0; d < grid.d; ++d) {
        for (std::int64_t h = 0; h < grid.h; ++h) {
            for (std::int64_t w = 0; w < grid.w; ++w) {
                const auto x = static_cast<double>(w);
                const auto y = static_cast<double>(h);
                const auto z = static_cast<double>(d);
                const double r1 = std::hypot(z - 20.0, y - 22.0, x - 20.0);
                const double r2 = std::hypot(z - 18.0, y - 25.0, x - 21.0);
                m.pred[m.at(d, h, w)] = r1 < 14 ? 1 : 0;
                m.target[m.at(d, h, w)] = r2 < 15.5 ? 1 : 0;
            }
        }
    }
    SurfaceDistanceOptions o = spacing(0.8, 0.8, 1.5);
    o.nsd_tolerance_mm = 1.0;
    o.threads = 1;
    const auto one = m.run(o);
    o.threads = 5;
    const auto many = m.run(o);
    QCOMPARE(one.hd, many.hd);
    QCOMPARE(one.hd_percentile, many.hd_percentile);
    QCOMPARE(one.assd, many.assd);
    QCOMPARE(one.nsd, many.nsd);
}

namespace {

// Two offset balls plus sparse noise on a [30, 34, 32] grid (spacing 0.8 x 0.8 x 1.5 mm).
Masks balls_and_noise()
{
    Masks m(MaskGrid{30, 34, 32, 3});
    std::mt19937 rng(7);
    for (std::int64_t d = 0; d < 30; ++d) {
        for (std::int64_t h = 0; h < 34; ++h) {
            for (std::int64_t w = 0; w < 32; ++w) {
                const auto x = static_cast<double>(w);
                const auto y = static_cast<double>(h);
                const auto z = static_cast<double>(d);
                const bool speck = rng() % 97 == 0;
                m.pred[m.at(d, h, w)] = std::hypot(z - 14.0, y - 16.0, x - 15.0) < 10 || speck ? 1 : 0;
                m.target[m.at(d, h, w)] = std::hypot(z - 13.0, y - 18.0, x - 16.0) < 11.5 ? 1 : 0;
            }
        }
    }
    return m;
}

void compare_exactly(const SurfaceDistances& a, const SurfaceDistances& b, const QString& where)
{
    const auto same = [](double x, double y) { return (std::isnan(x) && std::isnan(y)) || x == y; };
    QVERIFY2(same(a.hd, b.hd) && same(a.hd_percentile, b.hd_percentile) && same(a.assd, b.assd) &&
                 same(a.nsd, b.nsd) && a.pred_surface_voxels == b.pred_surface_voxels &&
                 a.target_surface_voxels == b.target_surface_voxels,
             qPrintable(where + QStringLiteral(": hd %1 / %2, assd %3 / %4")
                                    .arg(a.hd, 0, 'g', 17)
                                    .arg(b.hd, 0, 'g', 17)
                                    .arg(a.assd, 0, 'g', 17)
                                    .arg(b.assd, 0, 'g', 17)));
}

} // namespace

void TestSurfaceDistance::sample_pass_equals_separate_calls_data()
{
    QTest::addColumn<int>("axis");
    QTest::addColumn<int>("search");
    for (int axis = 0; axis < 3; ++axis) {
        for (int search = 0; search < 3; ++search) {
            QTest::addRow("axis %d, search %d", axis, search) << axis << search;
        }
    }
}

// One crop for both passes (sample_surface_distances) gives exactly what the
// two separate calls give, for every slicing axis and search method.
void TestSurfaceDistance::sample_pass_equals_separate_calls()
{
    QFETCH(int, axis);
    QFETCH(int, search);
    const Masks m = balls_and_noise();
    SurfaceDistanceOptions o = spacing(0.8, 0.8, 1.5);
    o.nsd_tolerance_mm = 1.0;
    o.search = search == 0   ? SurfaceSearch::Auto
               : search == 1 ? SurfaceSearch::DistanceTransform
                             : SurfaceSearch::NearestNeighbour;
    const SliceAxis slice_axis = axis == 0 ? SliceAxis::D : axis == 1 ? SliceAxis::H : SliceAxis::W;
    const SampleSurfaceDistances both =
        sample_surface_distances(m.pred.data(), m.target.data(), m.grid, slice_axis, o);
    compare_exactly(both.whole, surface_distances(m.pred.data(), m.target.data(), m.grid, o),
                    QStringLiteral("whole"));
    const auto slices = surface_distances_per_slice(m.pred.data(), m.target.data(), m.grid, slice_axis, o);
    QCOMPARE(both.slices.size(), slices.size());
    for (std::size_t i = 0; i < slices.size(); ++i) {
        compare_exactly(both.slices[i], slices[i], QStringLiteral("slice %1").arg(i));
    }
}

// A set cancel flag stops every entry point with Error(Cancelled); a clear
// one changes nothing.
void TestSurfaceDistance::cancel_stops_with_cancelled_error()
{
    const Masks m = balls_and_noise();
    for (const SurfaceSearch search : {SurfaceSearch::DistanceTransform, SurfaceSearch::NearestNeighbour}) {
        SurfaceDistanceOptions o = spacing(0.8, 0.8, 1.5);
        o.search = search;
        const SampleSurfaceDistances plain =
            sample_surface_distances(m.pred.data(), m.target.data(), m.grid, SliceAxis::D, o);
        std::atomic<bool> flag{false};
        o.cancel = &flag;
        const SampleSurfaceDistances unset =
            sample_surface_distances(m.pred.data(), m.target.data(), m.grid, SliceAxis::D, o);
        compare_exactly(unset.whole, plain.whole, QStringLiteral("flag clear"));
        flag = true;
        const auto expect_cancelled = [](const auto& call) {
            try {
                call();
            } catch (const Error& error) {
                return error.kind() == Error::Kind::Cancelled;
            }
            return false;
        };
        QVERIFY(expect_cancelled(
            [&] { sample_surface_distances(m.pred.data(), m.target.data(), m.grid, SliceAxis::D, o); }));
        QVERIFY(expect_cancelled([&] { surface_distances(m.pred.data(), m.target.data(), m.grid, o); }));
        QVERIFY(expect_cancelled(
            [&] { surface_distances_per_slice(m.pred.data(), m.target.data(), m.grid, SliceAxis::H, o); }));
    }
}

void TestSurfaceDistance::distance_map()
{
    // Line against point (see line_against_point), placed away from the origin.
    Masks m(MaskGrid{1, 4, 9, 2});
    for (int w = 2; w < 7; ++w) {
        m.pred[m.at(0, 1, w)] = 1;
    }
    m.target[m.at(0, 1, 2)] = 1;
    const auto map = surface_distance_map(m.pred.data(), m.target.data(), m.grid, spacing(0.5, 1.0));
    QCOMPARE(map.size(), m.pred.size());
    for (std::int64_t h = 0; h < 4; ++h) {
        for (std::int64_t w = 0; w < 9; ++w) {
            const float v = map[m.at(0, h, w)];
            if (h == 1 && w >= 2 && w < 7) {
                QCOMPARE(v, 0.5f * static_cast<float>(w - 2));
            } else {
                QVERIFY(std::isnan(v));
            }
        }
    }
    // An empty target: +inf on the prediction's surface.
    std::vector<std::uint8_t> none(m.pred.size(), 0);
    const auto inf_map = surface_distance_map(m.pred.data(), none.data(), m.grid, spacing(1, 1));
    QCOMPARE(inf_map[m.at(0, 1, 4)], std::numeric_limits<float>::infinity());
    QVERIFY(std::isnan(inf_map[m.at(0, 0, 0)]));
}

void TestSurfaceDistance::volume_api_3d()
{
    // [2, 2, 6, 7, 8] float32 prediction (channel 1 used), [2, 1, 6, 7, 8] uint8 labels.
    Shape ps{2, 2, 6, 7, 8, 3};
    Shape ts{2, 1, 6, 7, 8, 3};
    Volume pred = make_volume("pred.npy", ScalarType::Float32, ps);
    Volume target = make_volume("target.npy", ScalarType::UInt8, ts);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(0.0f, 1.0f);
    auto* p = pred.data_as<float>();
    auto* t = target.data_as<std::uint8_t>();
    for (std::int64_t i = 0; i < ps.elements(); ++i) {
        p[i] = u(rng);
    }
    for (std::int64_t i = 0; i < ts.elements(); ++i) {
        t[i] = static_cast<std::uint8_t>(rng() % 3);
    }
    SurfaceDistanceOptions o = spacing(0.9, 1.2, 2.5);
    o.nsd_tolerance_mm = 1.5;
    MaskSelector ps_sel = MaskSelector::prediction(0.6);
    ps_sel.channel = 1;
    const MaskSelector ts_sel = MaskSelector::for_label(2);
    for (SliceAxis axis : {SliceAxis::Default, SliceAxis::H, SliceAxis::W}) {
        const auto report = compute_surface_distances(pred, ps_sel, target, ts_sel, o, true, axis);
        QCOMPARE(report.samples, 2);
        const std::int64_t expected_slices = axis == SliceAxis::H ? 7 : axis == SliceAxis::W ? 8 : 6;
        QCOMPARE(report.slices_per_sample, expected_slices);
        QCOMPARE(report.axis, axis == SliceAxis::Default ? SliceAxis::D : axis);
        const std::int64_t voxels = 6 * 7 * 8;
        for (std::int64_t s = 0; s < 2; ++s) {
            std::vector<std::uint8_t> pm(static_cast<std::size_t>(voxels)),
                tm(static_cast<std::size_t>(voxels));
            for (std::int64_t i = 0; i < voxels; ++i) {
                pm[static_cast<std::size_t>(i)] = p[(s * 2 + 1) * voxels + i] >= 0.6f;
                tm[static_cast<std::size_t>(i)] = t[s * voxels + i] == 2;
            }
            const MaskGrid grid{6, 7, 8, 3};
            const auto whole = surface_distances(pm.data(), tm.data(), grid, o);
            QCOMPARE(report.per_sample[static_cast<std::size_t>(s)].hd, whole.hd);
            QCOMPARE(report.per_sample[static_cast<std::size_t>(s)].assd, whole.assd);
            const auto slices = surface_distances_per_slice(pm.data(), tm.data(), grid, report.axis, o);
            for (std::int64_t i = 0; i < report.slices_per_sample; ++i) {
                QVERIFY(same(report.slice(s, i).hd_percentile,
                             slices[static_cast<std::size_t>(i)].hd_percentile, 0));
                QVERIFY(same(report.slice(s, i).nsd, slices[static_cast<std::size_t>(i)].nsd, 0));
            }
        }
    }
    // Without per-slice values.
    const auto report = compute_surface_distances(pred, ps_sel, target, ts_sel, o);
    QCOMPARE(report.slices_per_sample, 0);
    QVERIFY(report.per_slice.empty());
    QCOMPARE(report.per_sample.size(), std::size_t{2});
}

void TestSurfaceDistance::volume_api_2d_batch()
{
    // Five 2D samples, one of them empty in both, one empty in the prediction.
    Shape shape{5, 1, 1, 9, 11, 2};
    Volume pred = make_volume("p.png", ScalarType::Bool, shape);
    Volume target = make_volume("t.png", ScalarType::Int32, shape);
    std::mt19937 rng(5);
    auto* p = pred.data_as<std::uint8_t>();
    auto* t = target.data_as<std::int32_t>();
    const std::int64_t voxels = 9 * 11;
    for (std::int64_t s = 0; s < 5; ++s) {
        for (std::int64_t i = 0; i < voxels; ++i) {
            if (s != 1 && s != 3) {
                p[s * voxels + i] = rng() % 3 == 0;
            }
            if (s != 1) {
                t[s * voxels + i] = static_cast<std::int32_t>(rng() % 2) * 7;
            }
        }
    }
    SurfaceDistanceOptions o = spacing(0.5, 1.5, 99.0); // z spacing is unused for 2D data
    o.nsd_tolerance_mm = 1.0;
    const auto report =
        compute_surface_distances(pred, MaskSelector::prediction(), target, MaskSelector::target(), o, true);
    QCOMPARE(report.slices_per_sample, 1);
    QCOMPARE(report.per_sample.size(), std::size_t{5});
    QCOMPARE(report.per_slice.size(), std::size_t{5});
    QVERIFY(std::isnan(report.per_sample[1].hd));
    QCOMPARE(report.per_sample[3].hd, kInf);
    QCOMPARE(report.per_sample[3].nsd, 0.0);
    for (std::int64_t s = 0; s < 5; ++s) {
        std::vector<std::uint8_t> pm(p + s * voxels, p + (s + 1) * voxels);
        std::vector<std::uint8_t> tm(static_cast<std::size_t>(voxels));
        for (std::int64_t i = 0; i < voxels; ++i) {
            tm[static_cast<std::size_t>(i)] = t[s * voxels + i] != 0;
        }
        const auto single = surface_distances(pm.data(), tm.data(), MaskGrid{1, 9, 11, 2}, o);
        const auto& got = report.per_sample[static_cast<std::size_t>(s)];
        QVERIFY(same(got.hd, single.hd, 1e-12));
        QVERIFY(same(got.hd_percentile, single.hd_percentile, 1e-12));
        QVERIFY(same(got.assd, single.assd, 1e-12));
        QVERIFY(same(got.nsd, single.nsd, 1e-12));
        QVERIFY(same(report.slice(s, 0).assd, single.assd, 1e-12));
    }
}

// mask_bounding_box is the bounding box of extract_mask's full mask, and the
// box-restricted extract_mask is that mask cropped; on several samples,
// channels, dtypes and selectors.
void TestSurfaceDistance::mask_box_and_cropped_masks()
{
    const Shape shape{2, 2, 9, 11, 13, 3}; // N, C, D, H, W, spatial dims
    Volume probs = make_volume("p.npy", ScalarType::Float32, shape);
    Volume labels = make_volume("l.nii", ScalarType::UInt16, shape);
    std::mt19937 rng(5);
    auto* p = reinterpret_cast<float*>(probs.data());
    auto* l = reinterpret_cast<std::uint16_t*>(labels.data());
    const std::int64_t count = shape.n * shape.c * shape.voxels_per_channel();
    for (std::int64_t i = 0; i < count; ++i) {
        // Sparse: most voxels below 0.5 and label 0.
        p[i] = rng() % 40 == 0 ? 0.9f : 0.1f;
        l[i] = static_cast<std::uint16_t>(rng() % 60 == 0 ? 1 + rng() % 3 : 0);
    }
    const auto brute_box = [&](const std::vector<std::uint8_t>& mask) {
        GridBox box{{shape.d, shape.h, shape.w}, {0, 0, 0}};
        for (std::int64_t d = 0; d < shape.d; ++d) {
            for (std::int64_t h = 0; h < shape.h; ++h) {
                for (std::int64_t w = 0; w < shape.w; ++w) {
                    if (mask[static_cast<std::size_t>((d * shape.h + h) * shape.w + w)] != 0) {
                        box.lo = {std::min(box.lo[0], d), std::min(box.lo[1], h), std::min(box.lo[2], w)};
                        box.hi = {std::max(box.hi[0], d + 1), std::max(box.hi[1], h + 1),
                                  std::max(box.hi[2], w + 1)};
                    }
                }
            }
        }
        return box;
    };
    struct Case {
        const Volume* volume;
        MaskSelector selector;
    };
    std::vector<Case> cases;
    for (std::int64_t c = 0; c < 2; ++c) {
        MaskSelector s = MaskSelector::prediction(0.5);
        s.channel = c;
        cases.push_back({&probs, s});
        cases.push_back({&labels, MaskSelector::for_label(2, c)});
    }
    cases.push_back({&labels, MaskSelector::for_label(9)}); // picks nothing
    for (std::int64_t sample = 0; sample < 2; ++sample) {
        for (const Case& c : cases) {
            const auto full = extract_mask(*c.volume, sample, c.selector);
            const GridBox want = brute_box(full);
            for (const int threads : {1, 3}) {
                const GridBox got = mask_bounding_box(*c.volume, sample, c.selector, threads);
                QCOMPARE(got.empty(), want.empty());
                if (want.empty()) {
                    continue;
                }
                QCOMPARE(got.lo, want.lo);
                QCOMPARE(got.hi, want.hi);
                const auto cropped = extract_mask(*c.volume, sample, c.selector, got, threads);
                const auto e = got.extent();
                QCOMPARE(static_cast<std::int64_t>(cropped.size()), got.voxels());
                for (std::int64_t d = 0; d < e[0]; ++d) {
                    for (std::int64_t h = 0; h < e[1]; ++h) {
                        for (std::int64_t w = 0; w < e[2]; ++w) {
                            const auto at_full = static_cast<std::size_t>(
                                ((got.lo[0] + d) * shape.h + got.lo[1] + h) * shape.w + got.lo[2] + w);
                            QCOMPARE(cropped[static_cast<std::size_t>((d * e[1] + h) * e[2] + w)],
                                     full[at_full]);
                        }
                    }
                }
            }
        }
    }
    // A box reaching outside the image is refused.
    GridBox outside{{0, 0, 0}, {shape.d + 1, 1, 1}};
    QVERIFY_THROWS_EXCEPTION(Error, extract_mask(probs, 0, MaskSelector::prediction(), outside));
}

void TestSurfaceDistance::volume_api_dtypes_and_selectors()
{
    const Shape shape{1, 1, 1, 1, 6, 2};
    // float16 values 0, 0.25, 0.5, 0.75, 1, 0.5 (IEEE half bit patterns).
    Volume half = make_volume("h.npy", ScalarType::Float16, shape);
    const std::uint16_t bits[6] = {0x0000, 0x3400, 0x3800, 0x3A00, 0x3C00, 0x3800};
    std::memcpy(half.data(), bits, sizeof bits);
    auto mask = extract_mask(half, 0, MaskSelector::prediction());
    QCOMPARE(mask, (std::vector<std::uint8_t>{0, 0, 1, 1, 1, 1}));
    mask = extract_mask(half, 0, MaskSelector::target()); // t > 0.5
    QCOMPARE(mask, (std::vector<std::uint8_t>{0, 0, 0, 1, 1, 0}));
    MaskSelector custom;
    custom.kind = MaskSelector::Kind::Predicate;
    custom.predicate = [](double v) { return v > 0.1 && v < 0.6; };
    QCOMPARE(extract_mask(half, 0, custom), (std::vector<std::uint8_t>{0, 1, 1, 0, 0, 1}));
    // float16 edge cases, decoded exactly: the smallest and largest subnormals
    // (2^-24, 1023 * 2^-24), -0, +inf, -inf and a NaN.
    Volume edge = make_volume("e.npy", ScalarType::Float16, shape);
    const std::uint16_t edge_bits[6] = {0x0001, 0x03FF, 0x8000, 0x7C00, 0xFC00, 0x7E01};
    std::memcpy(edge.data(), edge_bits, sizeof edge_bits);
    QCOMPARE(extract_mask(edge, 0, MaskSelector::prediction(std::ldexp(1.0, -24))),
             (std::vector<std::uint8_t>{1, 1, 0, 1, 0, 0}));
    QCOMPARE(extract_mask(edge, 0, MaskSelector::prediction(std::ldexp(1023.0, -24))),
             (std::vector<std::uint8_t>{0, 1, 0, 1, 0, 0}));
    custom.predicate = [](double v) { return std::isnan(v) || std::isinf(v) || (v == 0 && std::signbit(v)); };
    QCOMPARE(extract_mask(edge, 0, custom), (std::vector<std::uint8_t>{0, 0, 1, 1, 1, 1}));

    Volume f64 = make_volume("d.npy", ScalarType::Float64, shape);
    const double values[6] = {0.5, 0.4999, 2.0, -1.0, std::numeric_limits<double>::quiet_NaN(), 1.0};
    std::memcpy(f64.data(), values, sizeof values);
    QCOMPARE(extract_mask(f64, 0, MaskSelector::prediction()), (std::vector<std::uint8_t>{1, 0, 1, 0, 0, 1}));
    QCOMPARE(extract_mask(f64, 0, MaskSelector::for_label(2)), (std::vector<std::uint8_t>{0, 0, 1, 0, 0, 0}));

    Volume i16 = make_volume("l.nii", ScalarType::Int16, shape);
    const std::int16_t labels[6] = {0, -3, 4, 4, 1, 0};
    std::memcpy(i16.data(), labels, sizeof labels);
    QCOMPARE(extract_mask(i16, 0, MaskSelector::prediction(0.9)),
             (std::vector<std::uint8_t>{0, 1, 1, 1, 1, 0}));
    QCOMPARE(extract_mask(i16, 0, MaskSelector::for_label(4)), (std::vector<std::uint8_t>{0, 0, 1, 1, 0, 0}));
    QCOMPARE(extract_mask(i16, 0, MaskSelector::for_label(-3)),
             (std::vector<std::uint8_t>{0, 1, 0, 0, 0, 0}));
    QCOMPARE(extract_mask(i16, 0, MaskSelector::for_label(70000)), (std::vector<std::uint8_t>(6, 0)));

    Volume u64 = make_volume("u.npy", ScalarType::UInt64, shape);
    const std::uint64_t big[6] = {0, 1, 2, 3, 1, 0};
    std::memcpy(u64.data(), big, sizeof big);
    QCOMPARE(extract_mask(u64, 0, MaskSelector::for_label(1)), (std::vector<std::uint8_t>{0, 1, 0, 0, 1, 0}));
    QCOMPARE(extract_mask(u64, 0, MaskSelector::for_label(-1)), (std::vector<std::uint8_t>(6, 0)));
}

void TestSurfaceDistance::rejects_bad_input()
{
    Masks m(MaskGrid{2, 3, 4, 3});
    SurfaceDistanceOptions o;
    o.percentile = 101;
    QVERIFY_THROWS_EXCEPTION(Error, m.run(o));
    o.percentile = std::numeric_limits<double>::quiet_NaN();
    QVERIFY_THROWS_EXCEPTION(Error, m.run(o));
    o = SurfaceDistanceOptions{};
    o.spacing_xyz = {1.0, 0.0, 1.0};
    QVERIFY_THROWS_EXCEPTION(Error, m.run(o));
    o = SurfaceDistanceOptions{};
    o.nsd_tolerance_mm = -1.0;
    QVERIFY_THROWS_EXCEPTION(Error, m.run(o));
    o = SurfaceDistanceOptions{};
    QVERIFY_THROWS_EXCEPTION(Error,
                             surface_distances(m.pred.data(), m.target.data(), MaskGrid{2, 3, 4, 2}, o));
    QVERIFY_THROWS_EXCEPTION(Error,
                             surface_distances(m.pred.data(), m.target.data(), MaskGrid{2, 0, 4, 3}, o));

    Volume a = make_volume("a.npy", ScalarType::UInt8, Shape{1, 1, 2, 3, 4, 3});
    Volume b = make_volume("b.npy", ScalarType::UInt8, Shape{1, 1, 2, 3, 5, 3});
    try {
        compute_surface_distances(a, MaskSelector{}, b, MaskSelector{}, o);
        QFAIL("no error for mismatched shapes");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::Input);
        QCOMPARE(e.file(), std::string("a.npy"));
    }
    MaskSelector channel;
    channel.channel = 1;
    try {
        extract_mask(a, 0, channel);
        QFAIL("no error for a missing channel");
    } catch (const Error& e) {
        QCOMPARE(e.kind(), Error::Kind::Usage);
    }
    QVERIFY_THROWS_EXCEPTION(Error, extract_mask(a, 1, MaskSelector{}));
}

QTEST_APPLESS_MAIN(TestSurfaceDistance)
#include "test_surface_distance.moc"
