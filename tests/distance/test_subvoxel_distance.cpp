// Subvoxel (DeepMind surface-distance) mode: hand-computed cases and references
// from DeepMind's package (tests/generate_distance_references.py). Values are
// compared to a relative tolerance of 1e-10 (sums are accumulated in another
// order than numpy's); surfel counts exactly; lookup tables to 1e-12.
#include "distance_test_support.h"
#include "masklens/engine/surface_distance.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

using namespace masklens;

namespace {

using namespace masklens::distance_test;
// Relative tolerance of CHECK_VALUE against the committed references.
constexpr double kCheckTolerance = 1e-10;

void compare_expected(const SurfaceDistances& got, const QJsonObject& expected, int config_index)
{
    QCOMPARE(got.pred_surface_voxels, expected.value("pred_surfels").toInteger());
    QCOMPARE(got.target_surface_voxels, expected.value("target_surfels").toInteger());
    if (got.pred_surface_voxels > 0) {
        CHECK_VALUE(got.pred_surface_area, json_number(expected.value("pred_area")));
    }
    if (got.target_surface_voxels > 0) {
        CHECK_VALUE(got.target_surface_area, json_number(expected.value("target_area")));
    }
    if (got.pred_surface_voxels > 0 && got.target_surface_voxels > 0) {
        CHECK_VALUE(got.mean_pred_to_target, json_number(expected.value("mean_pred_to_target")));
        CHECK_VALUE(got.mean_target_to_pred, json_number(expected.value("mean_target_to_pred")));
    }
    const QJsonObject v = expected.value("configs").toArray()[config_index].toObject();
    CHECK_VALUE(got.hd, json_number(v.value("hd")));
    CHECK_VALUE(got.hd_percentile, json_number(v.value("hd_percentile")));
    CHECK_VALUE(got.assd, json_number(v.value("assd")));
    CHECK_VALUE(got.nsd, json_number(v.value("nsd")));
}

SurfaceDistanceOptions subvoxel(double x, double y, double z = 1.0)
{
    SurfaceDistanceOptions o;
    o.surface = SurfaceMode::Subvoxel;
    o.spacing_xyz = {x, y, z};
    return o;
}

} // namespace

class TestSubvoxelDistance : public QObject {
    Q_OBJECT
private slots:
    void lookup_tables_match_deepmind();
    void single_voxel_octahedron();
    void two_voxels_apart();
    void single_pixel_2d();
    void weighted_percentile();
    void empty_masks();
    void references_data();
    void references();
    void per_slice_references_data();
    void per_slice_references();
    void tree_search_equals_transform_data();
    void tree_search_equals_transform();
};

void TestSubvoxelDistance::lookup_tables_match_deepmind()
{
    const QJsonArray tables = load_references().value("subvoxel_tables").toArray();
    QVERIFY(tables.size() >= 6);
    for (const auto& t : tables) {
        const QJsonArray s = t.toObject().value("spacing").toArray();
        const QJsonArray want = t.toObject().value("areas").toArray();
        if (s.size() == 3) {
            const auto got = subvoxel_area_table_3d({s[0].toDouble(), s[1].toDouble(), s[2].toDouble()});
            QCOMPARE(want.size(), 256);
            for (int c = 0; c < 256; ++c) {
                QVERIFY2(same(got[static_cast<std::size_t>(c)], want[c].toDouble(), 1e-12),
                         qPrintable(QString("3D code %1").arg(c)));
            }
        } else {
            const auto got = subvoxel_length_table_2d({s[0].toDouble(), s[1].toDouble()});
            QCOMPARE(want.size(), 16);
            for (int c = 0; c < 16; ++c) {
                QVERIFY2(same(got[static_cast<std::size_t>(c)], want[c].toDouble(), 1e-12),
                         qPrintable(QString("2D code %1").arg(c)));
            }
        }
    }
}

void TestSubvoxelDistance::single_voxel_octahedron()
{
    // One voxel: 8 corner surfels, each a triangle of area sqrt(3)/8 (unit
    // spacing): an octahedron of area sqrt(3). Identical masks: all distances 0.
    const MaskGrid grid{3, 3, 3, 3};
    std::vector<std::uint8_t> m(27, 0);
    m[13] = 1;
    const auto r = surface_distances(m.data(), m.data(), grid, subvoxel(1, 1, 1));
    QCOMPARE(r.pred_surface_voxels, 8);
    CHECK_VALUE(r.pred_surface_area, std::sqrt(3.0));
    QCOMPARE(r.hd, 0.0);
    QCOMPARE(r.hd_percentile, 0.0);
    QCOMPARE(r.assd, 0.0);
}

void TestSubvoxelDistance::two_voxels_apart()
{
    // Voxels at w = 0 and w = 3, spacing 2 mm along W: corners at w = 0, 1
    // and 3, 4; four corners per mask at 2 * 2 = 4 mm, four at 6 mm, equal areas.
    const MaskGrid grid{1, 1, 4, 3};
    std::vector<std::uint8_t> p{1, 0, 0, 0};
    std::vector<std::uint8_t> t{0, 0, 0, 1};
    auto o = subvoxel(2, 1, 1);
    o.nsd_tolerance_mm = 4.0;
    const auto r = surface_distances(p.data(), t.data(), grid, o);
    QCOMPARE(r.pred_surface_voxels, 8);
    QCOMPARE(r.hd, 6.0);
    QCOMPARE(r.hd_percentile, 6.0); // cumulative area 7/8 < 0.95 <= 8/8
    CHECK_VALUE(r.assd, 5.0);
    CHECK_VALUE(r.nsd, 0.5);
    o.percentile = 50; // 4/8 >= 0.5: the fourth surfel, 4 mm
    QCOMPARE(surface_distances(p.data(), t.data(), grid, o).hd_percentile, 4.0);
}

void TestSubvoxelDistance::single_pixel_2d()
{
    // One pixel, spacing (x 0.6, y 0.8): four corners, each half a diagonal
    // (0.5 mm), contour 2 mm. Against the pixel two columns right (corner
    // columns 0, 1 against 2, 3): distances 0.6 and 1.2 mm.
    const MaskGrid grid{1, 1, 3, 2};
    std::vector<std::uint8_t> p{1, 0, 0};
    std::vector<std::uint8_t> t{0, 0, 1};
    const auto r = surface_distances(p.data(), t.data(), grid, subvoxel(0.6, 0.8));
    QCOMPARE(r.pred_surface_voxels, 4);
    CHECK_VALUE(r.pred_surface_area, 2.0);
    CHECK_VALUE(r.hd, 1.2);
    CHECK_VALUE(r.assd, 0.9);
}

void TestSubvoxelDistance::weighted_percentile()
{
    std::vector<std::pair<double, double>> v{{3.0, 1.0}, {1.0, 1.0}, {2.0, 2.0}};
    // Sorted: (1, 1) (2, 2) (3, 1); cumulative fractions 0.25, 0.75, 1.
    QCOMPARE(percentile_weighted(v, 25), 1.0);
    QCOMPARE(percentile_weighted(v, 26), 2.0);
    QCOMPARE(percentile_weighted(v, 75), 2.0);
    QCOMPARE(percentile_weighted(v, 95), 3.0);
    QCOMPARE(percentile_weighted(v, 0), 1.0);
    std::vector<std::pair<double, double>> none;
    QVERIFY(std::isnan(percentile_weighted(none, 95)));
}

void TestSubvoxelDistance::empty_masks()
{
    const MaskGrid grid{2, 2, 2, 3};
    std::vector<std::uint8_t> empty(8, 0);
    std::vector<std::uint8_t> one(8, 0);
    one[0] = 1;
    auto o = subvoxel(1, 1, 1);
    o.nsd_tolerance_mm = 1.0;
    auto r = surface_distances(empty.data(), empty.data(), grid, o);
    QVERIFY(std::isnan(r.hd) && std::isnan(r.hd_percentile) && std::isnan(r.assd) && std::isnan(r.nsd));
    r = surface_distances(one.data(), empty.data(), grid, o);
    QCOMPARE(r.hd, kInf);
    QCOMPARE(r.hd_percentile, kInf);
    QCOMPARE(r.assd, kInf);
    QCOMPARE(r.nsd, 0.0);
}

void TestSubvoxelDistance::references_data()
{
    add_reference_rows();
}

void TestSubvoxelDistance::references()
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
                                  c.value("spacing_xyz").toArray(), SurfaceMode::Subvoxel);
    compare_expected(surface_distances(pred.data(), target.data(), grid, o), c.value("subvoxel").toObject(),
                     config_index);
}

void TestSubvoxelDistance::per_slice_references_data()
{
    QTest::addColumn<int>("case_index");
    QTest::addColumn<int>("config_index");
    const QJsonObject refs = load_references();
    const QJsonArray cases = refs.value("cases").toArray();
    for (int c = 0; c < cases.size(); ++c) {
        const QJsonObject obj = cases[c].toObject();
        if (!obj.contains("subvoxel_slices_D")) {
            continue;
        }
        for (int k : {0, 1, 2, 4}) {
            QTest::newRow(qPrintable(obj.value("name").toString() + QString(" config %1").arg(k))) << c << k;
        }
    }
}

void TestSubvoxelDistance::per_slice_references()
{
    QFETCH(int, case_index);
    QFETCH(int, config_index);
    const QJsonObject refs = load_references();
    const QJsonObject c = refs.value("cases").toArray()[case_index].toObject();
    const QJsonArray dims = c.value("dims").toArray();
    const MaskGrid grid{dims[0].toInteger(), dims[1].toInteger(), dims[2].toInteger(), 3};
    const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/distance/");
    const auto pred = read_bits(dir + c.value("pred").toString(), grid.voxels());
    const auto target = read_bits(dir + c.value("target").toString(), grid.voxels());
    const auto o = config_options(refs.value("configs").toArray()[config_index].toObject(),
                                  c.value("spacing_xyz").toArray(), SurfaceMode::Subvoxel);
    const auto got = surface_distances_per_slice(pred.data(), target.data(), grid, SliceAxis::D, o);
    const QJsonArray expected = c.value("subvoxel_slices_D").toArray();
    QCOMPARE(static_cast<qsizetype>(got.size()), expected.size());
    for (std::size_t i = 0; i < got.size(); ++i) {
        compare_expected(got[i], expected[static_cast<qsizetype>(i)].toObject(), config_index);
    }
}

void TestSubvoxelDistance::tree_search_equals_transform_data()
{
    QTest::addColumn<int>("dims");
    QTest::addColumn<int>("shape");
    for (int dims : {2, 3}) {
        for (int shape = 0; shape < 3; ++shape) {
            QTest::addRow("%dD, %s", dims,
                          shape == 0   ? "balls"
                          : shape == 1 ? "noise"
                                       : "one empty")
                << dims << shape;
        }
    }
}

// Subvoxel surfels' distances by k-d tree search equal the two distance
// transforms' exactly (same squared distances, same order), on smooth and
// noisy masks with anisotropic spacing, 2D and 3D.
void TestSubvoxelDistance::tree_search_equals_transform()
{
    QFETCH(int, dims);
    QFETCH(int, shape);
    const MaskGrid grid = dims == 3 ? MaskGrid{23, 29, 26, 3} : MaskGrid{1, 61, 57, 2};
    std::vector<std::uint8_t> pred(static_cast<std::size_t>(grid.voxels()));
    std::vector<std::uint8_t> target(pred.size());
    std::mt19937 rng(static_cast<unsigned>(11 + 3 * dims + shape));
    for (std::int64_t d = 0; d < grid.d; ++d) {
        for (std::int64_t h = 0; h < grid.h; ++h) {
            for (std::int64_t w = 0; w < grid.w; ++w) {
                const auto i = static_cast<std::size_t>((d * grid.h + h) * grid.w + w);
                const double z = dims == 3 ? static_cast<double>(d) - 11.0 : 0.0;
                const double y = static_cast<double>(h) - static_cast<double>(grid.h) / 2.0;
                const double x = static_cast<double>(w) - static_cast<double>(grid.w) / 2.0;
                if (shape == 1) {
                    pred[i] = rng() % 3 == 0 ? 1 : 0;
                    target[i] = rng() % 4 == 0 ? 1 : 0;
                } else {
                    pred[i] = std::hypot(z, y, x) < 8.5 ? 1 : 0;
                    target[i] = shape == 2 ? 0 : std::hypot(z - 1.0, y + 2.0, x - 1.5) < 9.5 ? 1 : 0;
                }
            }
        }
    }
    SurfaceDistanceOptions o = subvoxel(0.8, 0.7, 1.5);
    o.nsd_tolerance_mm = 1.0;
    o.search = SurfaceSearch::DistanceTransform;
    const SurfaceDistances edt = surface_distances(pred.data(), target.data(), grid, o);
    o.search = SurfaceSearch::NearestNeighbour;
    const SurfaceDistances tree = surface_distances(pred.data(), target.data(), grid, o);
    const auto same = [](double a, double b) { return (std::isnan(a) && std::isnan(b)) || a == b; };
    QVERIFY2(same(edt.hd, tree.hd), qPrintable(QStringLiteral("hd %1 / %2").arg(edt.hd).arg(tree.hd)));
    QVERIFY(same(edt.hd_percentile, tree.hd_percentile));
    QVERIFY2(same(edt.assd, tree.assd),
             qPrintable(QStringLiteral("assd %1 / %2").arg(edt.assd, 0, 'g', 17).arg(tree.assd, 0, 'g', 17)));
    QVERIFY(same(edt.nsd, tree.nsd));
    QCOMPARE(tree.pred_surface_voxels, edt.pred_surface_voxels);
    QCOMPARE(tree.target_surface_voxels, edt.target_surface_voxels);
    QVERIFY(same(tree.pred_surface_area, edt.pred_surface_area));
    if (shape == 2) {
        QVERIFY(std::isinf(tree.hd)); // one empty mask
    }
}

QTEST_APPLESS_MAIN(TestSubvoxelDistance)
#include "test_subvoxel_distance.moc"
