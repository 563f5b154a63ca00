// Connected components and lesion metrics against the committed references
// of tests/generate_lesion_references.py: connected-components-3d's labels
// (equal up to renumbering, every connectivity) and panoptica's lesion
// counts, precision, recall, RQ, SQ and PQ (IoU matching), plus the
// overlap rule written out in NumPy. Tolerances: counts exact, rates within
// 1e-12 (relative to max(1, |x|)): the same ratios of integers, summed in
// another order (panoptica's mean of IoUs).
#include "masklens/engine/components.h"
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/engine/lesions.h"
#include "masklens/io/read_volume.h"
#include "test_volume_helpers.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <random>

using namespace masklens;
using masklens::testing::make_volume;
using masklens::testing::shape2d;
using masklens::testing::shape3d;
using masklens::testing::value_of;

namespace {

constexpr double kTolerance = 1e-12;

QJsonObject references()
{
    QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/references.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot open lesions/references.json");
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

// One array of a case's .npz, as bytes (masks) or 32-bit labels.
template <class T> std::vector<T> read_array(const QString& name, const std::string& key)
{
    io::ReadOptions options;
    options.npz_key = key;
    const Volume volume =
        io::read_volume(std::string(MASKLENS_TEST_DATA "/lesions/") + name.toStdString() + ".npz", options);
    std::vector<T> values(static_cast<std::size_t>(volume.shape().elements()));
    if (volume.byte_size() != values.size() * sizeof(T)) {
        qFatal("unexpected element size in %s", key.c_str());
    }
    std::memcpy(values.data(), volume.data(), volume.byte_size());
    return values;
}

ComponentGrid grid_of(const QJsonArray& shape)
{
    ComponentGrid grid;
    if (shape.size() == 2) {
        grid = {1, shape[0].toInteger(), shape[1].toInteger(), 2};
    } else {
        grid = {shape[0].toInteger(), shape[1].toInteger(), shape[2].toInteger(), 3};
    }
    return grid;
}

// ours and theirs label the same partition: background agrees and the map
// between labels is one-to-one.
bool same_up_to_renumbering(const Components& ours, const std::vector<std::uint32_t>& theirs, QString& why)
{
    std::map<std::uint32_t, std::uint32_t> forward, backward;
    for (std::size_t i = 0; i < theirs.size(); ++i) {
        const std::uint32_t a = ours.labels[i], b = theirs[i];
        if ((a == 0) != (b == 0)) {
            why = QString("voxel %1: ours %2, cc3d %3").arg(i).arg(a).arg(b);
            return false;
        }
        if (a == 0) {
            continue;
        }
        const auto [f, new_f] = forward.emplace(a, b);
        const auto [r, new_r] = backward.emplace(b, a);
        if (f->second != b || r->second != a) {
            why =
                QString("voxel %1: ours %2 -> cc3d %3, but %4 elsewhere").arg(i).arg(a).arg(b).arg(f->second);
            return false;
        }
    }
    if (static_cast<std::int64_t>(forward.size()) != ours.count) {
        why = QString("count %1, %2 labels used").arg(ours.count).arg(forward.size());
        return false;
    }
    return true;
}

double reference_number(const QJsonValue& v)
{
    return v.isString() ? std::numeric_limits<double>::quiet_NaN() : v.toDouble();
}

bool same(double got, double want)
{
    if (std::isnan(want)) {
        return std::isnan(got);
    }
    return std::abs(got - want) <= kTolerance * std::max(1.0, std::abs(want));
}

} // namespace

class TestLesions : public QObject {
    Q_OBJECT

private slots:
    void componentsEqualCc3dUpToRenumbering()
    {
        int compared = 0;
        for (const QJsonValue& entry : references()["cases"].toArray()) {
            const QJsonObject c = entry.toObject();
            const QString name = c["name"].toString();
            const ComponentGrid grid = grid_of(c["shape"].toArray());
            const std::vector<int> connectivities =
                grid.spatial_dims == 2 ? std::vector<int>{4, 8} : std::vector<int>{6, 18, 26};
            for (const char* side : {"pred", "target"}) {
                const auto mask = read_array<std::uint8_t>(name, side);
                for (const int conn : connectivities) {
                    const auto theirs =
                        read_array<std::uint32_t>(name, std::string(side) + "_c" + std::to_string(conn));
                    for (const int threads : {1, 2}) {
                        const Components ours = label_components(mask.data(), grid, conn, threads);
                        QString why;
                        QVERIFY2(
                            same_up_to_renumbering(ours, theirs, why),
                            qPrintable(
                                QString("%1 %2 connectivity %3: %4").arg(name, side).arg(conn).arg(why)));
                        ++compared;
                    }
                }
            }
        }
        QVERIFY(compared >= 15 * 2 * 2 * 2);
    }

    // Labels follow the raster order of each component's first voxel.
    void labelsFollowRasterOrder()
    {
        const std::vector<std::uint8_t> mask = {0, 1, 0, 1, //
                                                1, 1, 0, 0, //
                                                0, 0, 1, 0};
        const Components c = label_components(mask.data(), {1, 3, 4, 2}, 4);
        QCOMPARE(c.count, std::int64_t{3});
        const std::vector<std::uint32_t> expected = {0, 1, 0, 2, 1, 1, 0, 0, 0, 0, 3, 0};
        QVERIFY(std::equal(c.labels.begin(), c.labels.end(), expected.begin(), expected.end()));
        QCOMPARE(label_components(mask.data(), {1, 3, 4, 2}, 8).count, std::int64_t{2});
        QCOMPARE(label_components(mask.data(), {1, 3, 4, 2}, 0).count, std::int64_t{2}); // default 8
    }

    void connectivityMustFitTheGrid()
    {
        const std::vector<std::uint8_t> mask(8, 1);
        for (const auto& [grid, conn] : std::vector<std::pair<ComponentGrid, int>>{{{2, 2, 2, 3}, 4},
                                                                                   {{2, 2, 2, 3}, 8},
                                                                                   {{1, 2, 4, 2}, 26},
                                                                                   {{1, 2, 4, 2}, 6},
                                                                                   {{2, 2, 2, 3}, 10}}) {
            try {
                label_components(mask.data(), grid, conn);
                QFAIL("no error");
            } catch (const Error& error) {
                QCOMPARE(error.kind(), Error::Kind::Usage);
            }
        }
        QCOMPARE(label_components(mask.data(), {2, 2, 2, 3}, 0).count, std::int64_t{1});
        QCOMPARE(resolve_connectivity(0, 3), 26);
        QCOMPARE(resolve_connectivity(0, 2), 8);
    }

    void labelArrayBeyondTheMemoryCapIsRefused()
    {
        const std::vector<std::uint8_t> mask(4096, 1);
        set_memory_cap_bytes(1024);
        bool refused = false;
        try {
            label_components(mask.data(), {16, 16, 16, 3}, 26);
        } catch (const Error& error) {
            refused = error.kind() == Error::Kind::Input;
        }
        set_memory_cap_bytes(0);
        QVERIFY(refused);
    }

    // 512 isolated voxels: the label arrays (16 KiB each) fit a 64 KiB cap,
    // the per-lesion table (1024 rows) does not: a clear Error(Input), and
    // without the table the same masks are counted.
    void lesionTableBeyondTheMemoryCapIsRefused()
    {
        const ComponentGrid grid{16, 16, 16, 3};
        std::vector<std::uint8_t> mask(static_cast<std::size_t>(grid.voxels()), 0);
        for (std::int64_t z = 0; z < 16; z += 2) {
            for (std::int64_t y = 0; y < 16; y += 2) {
                for (std::int64_t x = 0; x < 16; x += 2) {
                    mask[static_cast<std::size_t>((z * 16 + y) * 16 + x)] = 1;
                }
            }
        }
        LesionOptions options;
        options.table = true;
        QVERIFY(512 * 2 * sizeof(LesionRecord) > 64 * 1024);
        set_memory_cap_bytes(64 * 1024);
        QString message;
        try {
            match_lesions(mask.data(), mask.data(), grid, options, 1);
        } catch (const Error& error) {
            message = QString::fromStdString(error.what());
            QCOMPARE(error.kind(), Error::Kind::Input);
        }
        options.table = false;
        const LesionCounts counts = match_lesions(mask.data(), mask.data(), grid, options, 1);
        set_memory_cap_bytes(0);
        QVERIFY2(message.contains("per-lesion table (1024 lesions)"), qPrintable(message));
        QCOMPARE(counts.tp, std::int64_t{512});
    }

    void lesionMetricsEqualPanoptica()
    {
        const std::vector<std::pair<Metric, const char*>> keys = {{Metric::LesionTp, "tp"},
                                                                  {Metric::LesionFp, "fp"},
                                                                  {Metric::LesionFn, "fn"},
                                                                  {Metric::LesionPrecision, "prec"},
                                                                  {Metric::LesionRecall, "rec"},
                                                                  {Metric::LesionF1, "f1"},
                                                                  {Metric::Rq, "rq"},
                                                                  {Metric::Sq, "sq"},
                                                                  {Metric::Pq, "pq"}};
        int compared = 0;
        for (const QJsonValue& entry : references()["cases"].toArray()) {
            const QJsonObject c = entry.toObject();
            const QString name = c["name"].toString();
            const ComponentGrid grid = grid_of(c["shape"].toArray());
            const auto pred = read_array<std::uint8_t>(name, "pred");
            const auto target = read_array<std::uint8_t>(name, "target");
            for (const QJsonValue& config_value : c["configs"].toArray()) {
                const QJsonObject config = config_value.toObject();
                LesionOptions options;
                options.connectivity = config["connectivity"].toInt();
                options.match = config["match"].toString() == "iou" ? LesionMatch::Iou : LesionMatch::Overlap;
                options.iou_threshold = config["iou"].toDouble();
                options.min_size = config["min_size"].toInteger();
                const LesionCounts counts = match_lesions(pred.data(), target.data(), grid, options, 2);
                const QJsonObject values = config["values"].toObject();
                for (const auto& [metric, key] : keys) {
                    if (!values.contains(key)) {
                        continue; // pq, sq, rq: one-to-one rules only
                    }
                    const double got = lesion_metric_value(metric, counts, EmptyPolicy::Nan);
                    const double want = reference_number(values[key]);
                    QVERIFY2(same(got, want),
                             qPrintable(QString("%1 conn %2 %3 iou %4 min %5: %6 = %7, reference %8")
                                            .arg(name)
                                            .arg(options.connectivity)
                                            .arg(config["match"].toString())
                                            .arg(options.iou_threshold)
                                            .arg(options.min_size)
                                            .arg(key)
                                            .arg(got)
                                            .arg(want)));
                    ++compared;
                }
                if (options.match == LesionMatch::Overlap) {
                    for (const Metric metric : {Metric::Pq, Metric::Sq, Metric::Rq}) {
                        QVERIFY(std::isnan(lesion_metric_value(metric, counts, EmptyPolicy::Nan)));
                    }
                }
            }
        }
        QVERIFY(compared > 500);
    }

    // The BraTS 2023 rule against its reference implementation
    // (tests/generate_brats_references.py): WT / TC / ET masks of label maps,
    // three challenges' dilation and volume threshold, anisotropic spacing
    // (float32 NIfTI zooms, as nibabel gives them to BraTS). Counts exact;
    // lesion-wise Dice and HD95 within 1e-9 (HD95: DeepMind's surface
    // distances in the BraTS copy, subvoxel surfaces here).
    void bratsRuleEqualsTheReference()
    {
        QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/brats.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject refs = QJsonDocument::fromJson(file.readAll()).object();
        const QJsonArray dhw = refs["spacing_dhw"].toArray();
        const auto f32 = [](const QJsonValue& v) {
            return static_cast<double>(static_cast<float>(v.toDouble()));
        };
        const std::array<double, 3> spacing_xyz{f32(dhw[2]), f32(dhw[1]), f32(dhw[0])};
        const QJsonObject challenges = refs["challenges"].toObject();
        const std::map<QString, std::vector<std::uint8_t>> tissues = {
            {"WT", {1, 2, 3}}, {"TC", {1, 3}}, {"ET", {3}}};
        const QJsonObject shapes = [] {
            QJsonObject out;
            for (const QJsonValue& entry : references()["cases"].toArray()) {
                out[entry.toObject()["name"].toString()] = entry.toObject()["shape"];
            }
            return out;
        }();
        int compared = 0;
        const QJsonObject cases = refs["cases"].toObject();
        for (auto c = cases.begin(); c != cases.end(); ++c) {
            const ComponentGrid grid = grid_of(shapes[c.key()].toArray());
            const auto pred_labels = read_array<std::uint8_t>(c.key(), "pred_labels");
            const auto target_labels = read_array<std::uint8_t>(c.key(), "target_labels");
            for (auto ch = challenges.begin(); ch != challenges.end(); ++ch) {
                LesionOptions options;
                options.match = LesionMatch::Brats;
                options.connectivity = 26;
                options.dilation = ch.value().toArray()[0].toInt();
                options.volume_threshold = ch.value().toArray()[1].toDouble();
                options.scores = true;
                options.distance.surface = SurfaceMode::Subvoxel;
                options.distance.spacing_xyz = spacing_xyz;
                const QJsonObject by_tissue = c.value().toObject()[ch.key()].toObject();
                for (const auto& [tissue, labels] : tissues) {
                    const auto mask_of = [&](const std::vector<std::uint8_t>& values) {
                        std::vector<std::uint8_t> mask(values.size());
                        for (std::size_t i = 0; i < values.size(); ++i) {
                            mask[i] =
                                std::find(labels.begin(), labels.end(), values[i]) != labels.end() ? 1 : 0;
                        }
                        return mask;
                    };
                    const LesionCounts counts = match_lesions(
                        mask_of(pred_labels).data(), mask_of(target_labels).data(), grid, options, 2);
                    const QJsonObject want = by_tissue[tissue].toObject();
                    const std::vector<std::pair<Metric, const char*>> keys = {
                        {Metric::LesionTp, "Num_TP"},
                        {Metric::LesionFp, "Num_FP"},
                        {Metric::LesionFn, "Num_FN"},
                        {Metric::LesionDice, "LesionWise_Score_Dice"},
                        {Metric::LesionHd95, "LesionWise_Score_HD95"}};
                    for (const auto& [metric, key] : keys) {
                        const double got = lesion_metric_value(metric, counts, EmptyPolicy::Nan);
                        const double expected = want[key].toDouble();
                        QVERIFY2(std::abs(got - expected) <= 1e-9 * std::max(1.0, std::abs(expected)),
                                 qPrintable(QString("%1 %2 %3 %4: %5, reference %6")
                                                .arg(c.key(), ch.key(), tissue, key)
                                                .arg(got, 0, 'g', 17)
                                                .arg(expected, 0, 'g', 17)));
                        ++compared;
                    }
                }
            }
        }
        QVERIFY(compared >= 12 * 3 * 3 * 5);
    }

    // The per-lesion table through evaluate() (masks cropped to their box,
    // rows moved back to the sample's coordinates) against
    // tests/generate_lesion_table_references.py (cc3d's labels, scipy's
    // centroids and boxes, the overlap rule and Dice in NumPy) under an
    // anisotropic, rotated geometry. Ids, sizes, boxes, status and matches
    // exact; volumes, centroids and Dice within 1e-9 (sums in another order).
    void lesionTableEqualsNumpy()
    {
        QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/table.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject refs = QJsonDocument::fromJson(file.readAll()).object();
        const auto triple = [](const QJsonValue& v) {
            const QJsonArray a = v.toArray();
            return std::array<double, 3>{a[0].toDouble(), a[1].toDouble(), a[2].toDouble()};
        };
        Geometry geometry;
        geometry.spacing = triple(refs["spacing_xyz"]);
        geometry.origin = triple(refs["origin"]);
        const QJsonArray direction = refs["direction"].toArray();
        for (std::size_t i = 0; i < 9; ++i) {
            geometry.direction[i] = direction[static_cast<int>(i)].toDouble();
        }
        geometry.known = true;
        const auto close = [](double got, double want) {
            return std::abs(got - want) <= 1e-9 * std::max(1.0, std::abs(want));
        };
        int rows_compared = 0;
        const QJsonObject cases = refs["cases"].toObject();
        for (auto c = cases.begin(); c != cases.end(); ++c) {
            const QJsonArray dims = c.value().toObject()["shape"].toArray();
            const Shape shape = dims.size() == 2 ? shape2d(1, 1, dims[0].toInteger(), dims[1].toInteger())
                                                 : shape3d(1, 1, dims[0].toInteger(), dims[1].toInteger(),
                                                           dims[2].toInteger());
            Volume pred =
                make_volume("pred", ScalarType::UInt8, shape, read_array<std::uint8_t>(c.key(), "pred"));
            Volume target =
                make_volume("target", ScalarType::UInt8, shape, read_array<std::uint8_t>(c.key(), "target"));
            pred.geometry() = geometry;
            target.geometry() = geometry;
            StatisticsOptions options;
            options.metrics = {Metric::LesionTp};
            options.metric.lesion_match = LesionMatch::Overlap;
            const Evaluation e = evaluate(pred, target, options);
            std::vector<LesionRow> rows;
            for (const LesionRow& row : e.lesions) {
                if (row.label < 0) {
                    rows.push_back(row);
                }
            }
            const QJsonArray want = c.value().toObject()["rows"].toArray();
            QCOMPARE(static_cast<qsizetype>(rows.size()), want.size());
            for (std::size_t r = 0; r < rows.size(); ++r) {
                const QJsonObject w = want[static_cast<int>(r)].toObject();
                const LesionRow& row = rows[r];
                const LesionRecord& l = row.lesion;
                const QString where = QString("%1 row %2").arg(c.key()).arg(r);
                QCOMPARE(row.sample, std::int64_t{0});
                QCOMPARE(QString::fromLatin1(lesion_side_name(l.side)), w["side"].toString());
                QCOMPARE(l.id, w["id"].toInteger());
                QCOMPARE(l.voxels, w["voxels"].toInteger());
                QCOMPARE(QString::fromLatin1(lesion_status_name(l.status)), w["status"].toString());
                QVERIFY(l.scored);
                std::vector<std::int64_t> matched;
                for (const QJsonValue& m : w["matched"].toArray()) {
                    matched.push_back(m.toInteger());
                }
                QVERIFY2(l.matched == matched, qPrintable(where));
                QVERIFY2(close(row.volume_mm3, w["volume_mm3"].toDouble()), qPrintable(where));
                const auto centroid = triple(w["centroid_voxel"]);
                const auto world = triple(w["centroid_world"]);
                const auto lo = triple(w["bbox_lo"]);
                const auto hi = triple(w["bbox_hi"]);
                for (std::size_t a = 0; a < 3; ++a) {
                    QVERIFY2(close(l.centroid[a], centroid[a]), qPrintable(where));
                    QVERIFY2(close(row.centroid_world[a], world[a]), qPrintable(where));
                    QCOMPARE(static_cast<double>(l.lo[a]), lo[a]);
                    QCOMPARE(static_cast<double>(l.hi[a]), hi[a]);
                }
                if (w["dice"].isNull()) {
                    QVERIFY2(std::isnan(l.dice), qPrintable(where));
                } else {
                    QVERIFY2(close(l.dice, w["dice"].toDouble()), qPrintable(where));
                }
                QVERIFY(std::isnan(l.hd95)); // no lesion_dice / lesion_hd95 asked for
                ++rows_compared;
            }
        }
        QVERIFY(rows_compared > 300);
    }

    // The table's rows under the BraTS rule against the reference's own
    // per-lesion results (tests/generate_brats_references.py,
    // brats_lesions.json: get_LesionWiseScores' metric_pairs and false
    // lesions), every case, challenge and tissue: the merged target lesions
    // as a multiset of (voxels, matched predicted ids) with their Dice and
    // HD95 (1e-9; lesions under the volume threshold included, as the
    // reference lists them), and the false predicted lesions' ids.
    void bratsLesionRowsEqualTheReference()
    {
        QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/brats_lesions.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonObject refs = QJsonDocument::fromJson(file.readAll()).object();
        const QJsonArray dhw = refs["spacing_dhw"].toArray();
        const auto f32 = [](const QJsonValue& v) {
            return static_cast<double>(static_cast<float>(v.toDouble()));
        };
        const std::array<double, 3> spacing_xyz{f32(dhw[2]), f32(dhw[1]), f32(dhw[0])};
        const std::map<QString, std::pair<int, double>> challenges = {
            {"BraTS-GLI", {3, 50}}, {"BraTS-MEN", {1, 50}}, {"BraTS-MET", {1, 2}}};
        const std::map<QString, std::vector<std::uint8_t>> tissues = {
            {"WT", {1, 2, 3}}, {"TC", {1, 3}}, {"ET", {3}}};
        const QJsonObject shapes = [] {
            QJsonObject out;
            for (const QJsonValue& entry : references()["cases"].toArray()) {
                out[entry.toObject()["name"].toString()] = entry.toObject()["shape"];
            }
            return out;
        }();
        using Key = std::pair<std::int64_t, std::vector<std::int64_t>>;
        int lesions_compared = 0;
        const QJsonObject cases = refs["cases"].toObject();
        for (auto c = cases.begin(); c != cases.end(); ++c) {
            const ComponentGrid grid = grid_of(shapes[c.key()].toArray());
            const auto pred_labels = read_array<std::uint8_t>(c.key(), "pred_labels");
            const auto target_labels = read_array<std::uint8_t>(c.key(), "target_labels");
            for (const auto& [challenge, parameters] : challenges) {
                LesionOptions options;
                options.match = LesionMatch::Brats;
                options.connectivity = 26;
                options.dilation = parameters.first;
                options.volume_threshold = parameters.second;
                options.scores = true;
                options.table = true;
                options.distance.surface = SurfaceMode::Subvoxel;
                options.distance.spacing_xyz = spacing_xyz;
                for (const auto& [tissue, labels] : tissues) {
                    const auto mask_of = [&](const std::vector<std::uint8_t>& values) {
                        std::vector<std::uint8_t> mask(values.size());
                        for (std::size_t i = 0; i < values.size(); ++i) {
                            mask[i] =
                                std::find(labels.begin(), labels.end(), values[i]) != labels.end() ? 1 : 0;
                        }
                        return mask;
                    };
                    const LesionCounts counts = match_lesions(
                        mask_of(pred_labels).data(), mask_of(target_labels).data(), grid, options, 2);
                    const QString where = c.key() + " " + challenge + " " + tissue;
                    std::multimap<Key, std::pair<double, double>> ours;
                    std::vector<std::int64_t> our_false;
                    for (const LesionRecord& r : counts.lesions) {
                        if (r.side == LesionSide::Target) {
                            ours.emplace(Key{r.voxels, r.matched}, std::pair{r.dice, r.hd95});
                            const double volume = static_cast<double>(r.voxels) * spacing_xyz[0] *
                                                  spacing_xyz[1] * spacing_xyz[2];
                            QCOMPARE(r.scored, volume > parameters.second);
                        } else if (r.status == LesionStatus::Fp) {
                            our_false.push_back(r.id);
                        }
                    }
                    const QJsonObject want = c.value().toObject()[challenge].toObject()[tissue].toObject();
                    const QJsonArray rows = want["target"].toArray();
                    QCOMPARE(static_cast<qsizetype>(ours.size()), rows.size());
                    // Each reference lesion takes one of ours with its key and scores.
                    for (const QJsonValue& value : rows) {
                        const QJsonObject w = value.toObject();
                        Key key{w["voxels"].toInteger(), {}};
                        for (const QJsonValue& m : w["matched"].toArray()) {
                            key.second.push_back(m.toInteger());
                        }
                        const double dice = w["dice"].toDouble(), hd = w["hd95"].toDouble();
                        auto [first, last] = ours.equal_range(key);
                        const auto found = std::find_if(first, last, [&](const auto& entry) {
                            return std::abs(entry.second.first - dice) <= 1e-9 &&
                                   std::abs(entry.second.second - hd) <= 1e-9 * std::max(1.0, hd);
                        });
                        QVERIFY2(found != last,
                                 qPrintable(where + QString(": no lesion of %1 voxels with Dice %2, HD95 %3")
                                                        .arg(key.first)
                                                        .arg(dice, 0, 'g', 17)
                                                        .arg(hd, 0, 'g', 17)));
                        ours.erase(found);
                        ++lesions_compared;
                    }
                    std::vector<std::int64_t> want_false;
                    for (const QJsonValue& m : want["false"].toArray()) {
                        want_false.push_back(m.toInteger());
                    }
                    QVERIFY2(our_false == want_false, qPrintable(where + ": false lesions differ"));
                }
            }
        }
        QVERIFY(lesions_compared > 100);
    }

    // --empty applies to precision and recall with no lesion on their side.
    void emptyPolicyAppliesToRates()
    {
        LesionCounts none;
        QVERIFY(std::isnan(lesion_metric_value(Metric::LesionPrecision, none, EmptyPolicy::Nan)));
        QCOMPARE(lesion_metric_value(Metric::LesionPrecision, none, EmptyPolicy::One), 1.0);
        QCOMPARE(lesion_metric_value(Metric::LesionF1, none, EmptyPolicy::Zero), 0.0);
        QVERIFY(std::isnan(lesion_metric_value(Metric::Pq, none, EmptyPolicy::One)));
        LesionCounts missed;
        missed.target = 2;
        QCOMPARE(lesion_metric_value(Metric::LesionF1, missed, EmptyPolicy::One), 0.0);
        QCOMPARE(lesion_metric_value(Metric::LesionRecall, missed, EmptyPolicy::One), 0.0);
        QCOMPARE(lesion_metric_value(Metric::LesionPrecision, missed, EmptyPolicy::One), 1.0);
    }

    // Through evaluate(): the masks come from the decision rule (a
    // probability threshold here), per sample, per label and batch.
    void evaluateGivesLesionMetricsPerSampleLabelAndBatch()
    {
        // Two samples of a 6 x 6 x 6 label map: sample 0 has two label-1
        // lesions, one found; sample 1 one label-2 lesion, found, plus a false one.
        const Shape shape = shape3d(2, 1, 6, 6, 6);
        std::vector<std::uint8_t> target(static_cast<std::size_t>(shape.elements()), 0);
        std::vector<std::uint8_t> pred(target.size(), 0);
        const auto at = [](std::int64_t n, std::int64_t d, std::int64_t h, std::int64_t w) {
            return static_cast<std::size_t>(((n * 6 + d) * 6 + h) * 6 + w);
        };
        for (std::int64_t d = 0; d < 2; ++d) {
            for (std::int64_t h = 0; h < 2; ++h) {
                target[at(0, d, h, 0)] = target[at(0, d, h, 1)] = 1; // lesion A
                pred[at(0, d, h, 0)] = pred[at(0, d, h, 1)] = 1;     // found exactly
                target[at(0, d + 4, h + 4, 4)] = 1;                  // lesion B, missed
                target[at(1, d + 2, h + 2, 2)] = pred[at(1, d + 2, h + 2, 2)] = 2;
            }
        }
        pred[at(1, 5, 0, 5)] = 2; // a false lesion
        StatisticsOptions options;
        options.metrics = lesion_metrics();
        const Evaluation e = evaluate(make_volume("pred", ScalarType::UInt8, shape, pred),
                                      make_volume("target", ScalarType::UInt8, shape, target), options);
        QCOMPARE(value_of(e, e.samples[0].values, Metric::LesionTp), 1.0);
        QCOMPARE(value_of(e, e.samples[0].values, Metric::LesionFn), 1.0);
        QCOMPARE(value_of(e, e.samples[0].values, Metric::LesionFp), 0.0);
        QCOMPARE(value_of(e, e.samples[0].values, Metric::Sq), 1.0);
        QCOMPARE(value_of(e, e.samples[1].values, Metric::LesionFp), 1.0);
        QCOMPARE(value_of(e, e.samples[1].values, Metric::LesionPrecision), 0.5);
        // Batch: counts summed, rates averaged over samples.
        QCOMPARE(value_of(e, e.batch, Metric::LesionTp), 2.0);
        QCOMPARE(value_of(e, e.batch, Metric::LesionFn), 1.0);
        QCOMPARE(value_of(e, e.batch, Metric::LesionRecall), 0.75);
        // Labels: label 1 only in sample 0 (sample 1 has none: recall NaN there).
        QCOMPARE(e.labels.size(), std::size_t{2});
        QCOMPARE(e.labels[0].label, std::int64_t{1});
        QCOMPARE(value_of(e, e.labels[0].values, Metric::LesionRecall), 0.5);
        QCOMPARE(e.labels[0].valid[0 + 4], std::int64_t{1}); // lesion_recall (5th of lesion_metrics())
        QCOMPARE(value_of(e, e.labels[1].values, Metric::LesionFp), 1.0);
        // Per slice: not computed.
        QVERIFY(std::isnan(value_of(e, e.samples[0].slices[0], Metric::LesionTp)));

        // The overlap rule and the minimum size change the counts.
        options.metric.lesion_min_size = 2; // drops sample 1's false lesion
        const Evaluation sized = evaluate(make_volume("pred", ScalarType::UInt8, shape, pred),
                                          make_volume("target", ScalarType::UInt8, shape, target), options);
        QCOMPARE(value_of(sized, sized.samples[1].values, Metric::LesionFp), 0.0);
        options.metric.lesion_match = LesionMatch::Overlap;
        const Evaluation overlap = evaluate(make_volume("pred", ScalarType::UInt8, shape, pred),
                                            make_volume("target", ScalarType::UInt8, shape, target), options);
        QVERIFY(std::isnan(value_of(overlap, overlap.batch, Metric::Pq)));
        QCOMPARE(value_of(overlap, overlap.batch, Metric::LesionTp), 2.0);
    }

    // Distance and lesion metrics asked for together read one extraction of
    // the masks (widened for the BraTS rule's dilation, cropped back for the
    // distances): every value, per sample, label and slice, and the lesion
    // table equal those of two separate evaluations.
    void distancesAndLesionsTogetherEqualApart()
    {
        const Shape shape = shape3d(2, 1, 14, 12, 10);
        std::vector<std::uint8_t> target(static_cast<std::size_t>(shape.elements()), 0);
        std::vector<std::uint8_t> pred(target.size(), 0);
        std::mt19937 random(7);
        std::uniform_int_distribution<int> label(0, 2), coin(0, 9);
        for (std::size_t i = 0; i < target.size(); ++i) {
            // Sparse blobs of labels 1 and 2 (some touch the volume's edge),
            // the prediction a noisy copy.
            target[i] = coin(random) < 2 ? static_cast<std::uint8_t>(label(random)) : 0;
            pred[i] = coin(random) < 8 ? target[i] : static_cast<std::uint8_t>(coin(random) == 0 ? 1 : 0);
        }
        const Volume p = make_volume("pred", ScalarType::UInt8, shape, pred);
        const Volume t = make_volume("target", ScalarType::UInt8, shape, target);
        const std::vector<Metric> distances = {Metric::Hd, Metric::Hd95, Metric::Assd, Metric::Nsd};
        const std::vector<Metric> lesions = {Metric::LesionTp, Metric::LesionFn, Metric::LesionDice,
                                             Metric::LesionHd95};
        for (const auto& [match, surface] : {std::pair{LesionMatch::Brats, SurfaceMode::Voxel},
                                             std::pair{LesionMatch::Brats, SurfaceMode::Subvoxel},
                                             std::pair{LesionMatch::Iou, SurfaceMode::Voxel}}) {
            StatisticsOptions options;
            options.slice_distances = true;
            options.metric.surface = surface;
            options.metric.lesion_match = match;
            options.metric.lesion_dilation = 2;
            options.metrics = distances;
            const Evaluation distance_only = evaluate(p, t, options);
            options.metrics = lesions;
            const Evaluation lesion_only = evaluate(p, t, options);
            options.metrics = distances;
            options.metrics.insert(options.metrics.end(), lesions.begin(), lesions.end());
            const Evaluation both = evaluate(p, t, options);
            const auto same = [&](const Evaluation& apart, const MetricValues& a, const MetricValues& b,
                                  Metric metric) {
                const double x = value_of(apart, a, metric), y = value_of(both, b, metric);
                QVERIFY2((std::isnan(x) && std::isnan(y)) || x == y,
                         qPrintable(QStringLiteral("%1: %2 apart, %3 together")
                                        .arg(QString::fromStdString(std::string(metric_name(metric))))
                                        .arg(x)
                                        .arg(y)));
            };
            for (std::size_t n = 0; n < both.samples.size(); ++n) {
                for (const auto& [apart, metrics] :
                     {std::pair{&distance_only, distances}, std::pair{&lesion_only, lesions}}) {
                    for (const Metric metric : metrics) {
                        same(*apart, apart->samples[n].values, both.samples[n].values, metric);
                        for (std::size_t l = 0; l < both.samples[n].labels.size(); ++l) {
                            same(*apart, apart->samples[n].labels[l].values, both.samples[n].labels[l].values,
                                 metric);
                        }
                        for (std::size_t s = 0; s < both.samples[n].slices.size(); ++s) {
                            same(*apart, apart->samples[n].slices[s], both.samples[n].slices[s], metric);
                        }
                        same(*apart, apart->batch, both.batch, metric);
                    }
                }
            }
            QCOMPARE(both.lesions.size(), lesion_only.lesions.size());
            QVERIFY(!both.lesions.empty());
            for (std::size_t i = 0; i < both.lesions.size(); ++i) {
                QCOMPARE(both.lesions[i].lesion.voxels, lesion_only.lesions[i].lesion.voxels);
                QCOMPARE(both.lesions[i].lesion.lo, lesion_only.lesions[i].lesion.lo);
                QCOMPARE(both.lesions[i].centroid_world, lesion_only.lesions[i].centroid_world);
            }
        }
    }

    // Probabilities are decided by the one rule: p >= threshold.
    void masksFollowTheDecisionRule()
    {
        const Shape shape = shape3d(1, 1, 1, 4, 8);
        std::vector<float> pred(32, 0.0F), target(32, 0.0F);
        target[1] = target[2] = 1.0F;
        target[6] = 1.0F;
        pred[1] = 0.7F;
        pred[2] = 0.4F; // below 0.5, above 0.3
        pred[6] = 0.35F;
        StatisticsOptions options;
        options.metrics = {Metric::LesionTp, Metric::LesionFn};
        options.metric.lesion_connectivity = 26;
        const auto run = [&](double threshold) {
            options.metric.threshold = threshold;
            return evaluate(make_volume("p", ScalarType::Float32, shape, pred),
                            make_volume("t", ScalarType::Float32, shape, target), options);
        };
        const Evaluation half = run(0.5); // pred {1}: IoU 1/2 with {1,2}: matched; {6} missed
        QCOMPARE(half.batch[0], 1.0);
        QCOMPARE(half.batch[1], 1.0);
        const Evaluation low = run(0.3);
        QCOMPARE(low.batch[0], 2.0);
        QCOMPARE(low.batch[1], 0.0);
    }

    // A large random volume: threads agree, and lesions are counted exactly
    // like a plain flood fill.
    void threadsAgreeOnALargeRandomMask()
    {
        const ComponentGrid grid{40, 50, 60, 3};
        std::mt19937 random(5);
        std::bernoulli_distribution on(0.2);
        std::vector<std::uint8_t> mask(static_cast<std::size_t>(grid.voxels()));
        for (auto& v : mask) {
            v = on(random) ? 1 : 0;
        }
        for (const int conn : {6, 18, 26}) {
            const Components one = label_components(mask.data(), grid, conn, 1);
            const Components many = label_components(mask.data(), grid, conn, 4);
            QCOMPARE(one.count, many.count);
            QVERIFY(one.labels == many.labels);
        }
    }
};

QTEST_APPLESS_MAIN(TestLesions)
#include "test_lesions.moc"
