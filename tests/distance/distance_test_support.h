// Shared helpers of the surface-distance tests: tolerant comparison, the
// committed scipy / surface-distance references and their bit-packed masks.
#pragma once

#include "masklens/engine/surface_distance.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace masklens::distance_test {

constexpr double kInf = std::numeric_limits<double>::infinity();

// got == want for NaN and infinities, else within `relative` (against max(1, |want|)).
inline bool same(double got, double want, double relative)
{
    if (std::isnan(want)) {
        return std::isnan(got);
    }
    if (std::isinf(want)) {
        return got == want;
    }
    return std::abs(got - want) <= relative * std::max(1.0, std::abs(want));
}

// Numbers in references.json; "nan", "inf" and "-inf" are strings there.
inline double json_number(const QJsonValue& v)
{
    if (v.isString()) {
        const QString s = v.toString();
        if (s == "nan") {
            return std::numeric_limits<double>::quiet_NaN();
        }
        return s == "inf" ? kInf : -kInf;
    }
    return v.toDouble();
}

// A mask stored as packed bits (numpy.packbits, big-endian bit order).
inline std::vector<std::uint8_t> read_bits(const QString& path, std::int64_t count)
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

inline QJsonObject load_references()
{
    QFile file(QStringLiteral(MASKLENS_TEST_DATA "/distance/references.json"));
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot open references.json");
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

// One case of references.json: its JSON object, grid and the two masks.
struct ReferenceCase {
    QJsonObject json;
    MaskGrid grid;
    std::vector<std::uint8_t> pred, target;
};

inline ReferenceCase load_case(const QJsonObject& refs, int case_index)
{
    ReferenceCase reference;
    reference.json = refs.value("cases").toArray()[case_index].toObject();
    const QJsonArray dims = reference.json.value("dims").toArray();
    reference.grid = MaskGrid{dims[0].toInteger(), dims[1].toInteger(), dims[2].toInteger(),
                              reference.json.value("spatial_dims").toInt()};
    const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/distance/");
    reference.pred = read_bits(dir + reference.json.value("pred").toString(), reference.grid.voxels());
    reference.target = read_bits(dir + reference.json.value("target").toString(), reference.grid.voxels());
    return reference;
}

// Data rows (case_index, config_index) for every case x configuration.
inline void add_reference_rows()
{
    QTest::addColumn<int>("case_index");
    QTest::addColumn<int>("config_index");
    const QJsonObject refs = load_references();
    const QJsonArray cases = refs.value("cases").toArray();
    const QJsonArray configs = refs.value("configs").toArray();
    for (int c = 0; c < cases.size(); ++c) {
        for (int k = 0; k < configs.size(); ++k) {
            const QJsonObject cfg = configs[k].toObject();
            const QString name =
                cases[c].toObject().value("name").toString() +
                QString(" p%1 %2").arg(cfg.value("percentile").toDouble()).arg(cfg.value("rule").toString());
            QTest::newRow(qPrintable(name)) << c << k;
        }
    }
}

// The options of one reference configuration.
inline SurfaceDistanceOptions config_options(const QJsonObject& config, const QJsonArray& spacing_xyz,
                                             SurfaceMode surface)
{
    SurfaceDistanceOptions o;
    o.surface = surface;
    o.percentile = config.value("percentile").toDouble();
    const QString rule = config.value("rule").toString();
    o.rule = rule == "max"      ? HausdorffRule::Max
             : rule == "pooled" ? HausdorffRule::Pooled
                                : HausdorffRule::Mean;
    if (!config.value("tolerance").isNull()) {
        o.nsd_tolerance_mm = config.value("tolerance").toDouble();
    }
    o.spacing_xyz = {spacing_xyz[0].toDouble(), spacing_xyz[1].toDouble(), spacing_xyz[2].toDouble()};
    return o;
}

} // namespace masklens::distance_test

// Compares within the including file's kCheckTolerance, printing both values.
#define CHECK_VALUE(got, want)                                                                               \
    QVERIFY2(                                                                                                \
        masklens::distance_test::same((got), (want), kCheckTolerance),                                       \
        qPrintable(QString("%1 = %2, expected %3").arg(#got).arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)))
