// Shared helpers for the reader tests: the expected values written by
// tests/generate_reader_fixtures.py, comparison of a Volume with them, and
// helpers for writing broken files into a temporary directory.
#pragma once

#include "masklens/engine/error.h"
#include "masklens/engine/volume.h"
#include "masklens/io/read_volume.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>
#include <QTest>

#include <cmath>
#include <cstring>
#include <functional>
#include <string>

namespace masklens::test {

inline QString readers_dir()
{
    return QStringLiteral(MASKLENS_TEST_DATA "/readers");
}

inline std::string fixture_path(const QString& relative)
{
    return (readers_dir() + "/" + relative).toStdString();
}

struct ExpectedFixture {
    QString file;
    io::ReadOptions options;
    QJsonObject json;
};

// All fixtures whose file starts with `prefix` (e.g. "npy/"), in file order,
// from `dir`/expected.json (default: tests/data/readers).
inline QList<ExpectedFixture> expected_fixtures(const QString& prefix, const QString& dir = readers_dir())
{
    QFile file(dir + "/expected.json");
    if (!file.open(QIODevice::ReadOnly)) {
        qFatal("cannot open %s; see the generator named in its folder's tests (tests/generate_*.py)",
               qPrintable(file.fileName()));
    }
    const QJsonDocument document = QJsonDocument::fromJson(file.readAll());
    QList<ExpectedFixture> result;
    for (const QJsonValue& value : document.object().value("fixtures").toArray()) {
        const QJsonObject object = value.toObject();
        const QString name = object.value("file").toString();
        if (!name.startsWith(prefix)) {
            continue;
        }
        ExpectedFixture fixture;
        fixture.file = name;
        fixture.json = object;
        fixture.options.layout =
            object.value("layout").toString() == "nhw" ? io::Layout::NHW : io::Layout::Auto;
        fixture.options.npz_key = object.value("key").toString().toStdString();
        result.push_back(fixture);
    }
    return result;
}

// Row names for data tables: "npz/multi.npz[pred]".
inline QByteArray row_name(const ExpectedFixture& fixture)
{
    QString name = fixture.file;
    if (!fixture.options.npz_key.empty()) {
        name += "[" + QString::fromStdString(fixture.options.npz_key) + "]";
    }
    if (fixture.options.layout == io::Layout::NHW) {
        name += "(NHW)";
    }
    return name.toUtf8();
}

inline float half_to_float(std::uint16_t bits)
{
    const std::uint32_t sign = (bits >> 15) & 1u;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    const std::uint32_t mantissa = bits & 0x3ffu;
    float value;
    if (exponent == 0) {
        value = std::ldexp(static_cast<float>(mantissa), -24);
    } else if (exponent == 31) {
        value = mantissa ? std::nanf("") : INFINITY;
    } else {
        value = std::ldexp(static_cast<float>(mantissa | 0x400u), static_cast<int>(exponent) - 25);
    }
    return sign ? -value : value;
}

// Element i of `volume` rendered the way the generator writes values, so the
// comparison is exact for every type (64-bit integers included).
inline QString element_text(const Volume& volume, std::size_t i)
{
    switch (volume.type()) {
    case ScalarType::Bool: return QString::number(volume.data_as<std::uint8_t>()[i]);
    case ScalarType::Int8: return QString::number(volume.data_as<std::int8_t>()[i]);
    case ScalarType::UInt8: return QString::number(volume.data_as<std::uint8_t>()[i]);
    case ScalarType::Int16: return QString::number(volume.data_as<std::int16_t>()[i]);
    case ScalarType::UInt16: return QString::number(volume.data_as<std::uint16_t>()[i]);
    case ScalarType::Int32: return QString::number(volume.data_as<std::int32_t>()[i]);
    case ScalarType::UInt32: return QString::number(volume.data_as<std::uint32_t>()[i]);
    case ScalarType::Int64: return QString::number(static_cast<qlonglong>(volume.data_as<std::int64_t>()[i]));
    case ScalarType::UInt64:
        return QString::number(static_cast<qulonglong>(volume.data_as<std::uint64_t>()[i]));
    default: return {};
    }
}

inline double element_double(const Volume& volume, std::size_t i)
{
    switch (volume.type()) {
    case ScalarType::Float16: return half_to_float(volume.data_as<std::uint16_t>()[i]);
    case ScalarType::Float32: return volume.data_as<float>()[i];
    case ScalarType::Float64: return volume.data_as<double>()[i];
    default: return std::nan("");
    }
}

// Compares shape, type, every element and the geometry. Use with
// `if (QTest::currentTestFailed()) return;` after it when more checks follow.
inline void compare_with_expected(const Volume& volume, const QJsonObject& expected)
{
    QVector<qint64> shape;
    for (const QJsonValue& extent : expected.value("shape").toArray()) {
        shape.push_back(extent.toInteger());
    }
    const auto torch = volume.shape().torch_shape();
    QCOMPARE(QVector<qint64>(torch.begin(), torch.end()), shape);
    QCOMPARE(volume.shape().spatial_dims, expected.value("spatial_dims").toInt());
    QCOMPARE(QString(scalar_name(volume.type())), expected.value("dtype").toString());
    const QJsonArray values = expected.value("values").toArray();
    QCOMPARE(static_cast<qsizetype>(volume.shape().elements()), values.size());
    QCOMPARE(volume.byte_size(), static_cast<std::size_t>(values.size()) * scalar_size(volume.type()));
    for (qsizetype i = 0; i < values.size(); ++i) {
        const QString want = values[i].toString();
        if (is_floating(volume.type())) {
            const double got = element_double(volume, static_cast<std::size_t>(i));
            if (got != want.toDouble()) {
                QFAIL(qPrintable(
                    QString("element %1: got %2, expected %3").arg(i).arg(got, 0, 'g', 17).arg(want)));
            }
        } else {
            const QString got = element_text(volume, static_cast<std::size_t>(i));
            if (got != want) {
                QFAIL(qPrintable(QString("element %1: got %2, expected %3").arg(i).arg(got, want)));
            }
        }
    }
    const QJsonObject geometry = expected.value("geometry").toObject();
    QCOMPARE(volume.geometry().known, geometry.value("known").toBool());
    if (!volume.geometry().known) {
        return;
    }
    auto compare_list = [](const char* what, const double* got, const QJsonArray& want) {
        for (qsizetype i = 0; i < want.size(); ++i) {
            if (std::abs(got[i] - want[i].toDouble()) > 1e-5) {
                QFAIL(qPrintable(QString("%1[%2]: got %3, expected %4")
                                     .arg(what)
                                     .arg(i)
                                     .arg(got[i], 0, 'g', 12)
                                     .arg(want[i].toDouble(), 0, 'g', 12)));
            }
        }
    };
    compare_list("spacing", volume.geometry().spacing.data(), geometry.value("spacing").toArray());
    if (QTest::currentTestFailed()) {
        return;
    }
    compare_list("origin", volume.geometry().origin.data(), geometry.value("origin").toArray());
    if (QTest::currentTestFailed()) {
        return;
    }
    compare_list("direction", volume.geometry().direction.data(), geometry.value("direction").toArray());
}

// Runs `read` and checks it throws Error(Input) for `path` with a message
// containing `fragment` (case-insensitive). Returns the message.
inline QString expect_input_error(const std::function<void()>& read, const std::string& path,
                                  const QString& fragment)
{
    try {
        read();
    } catch (const Error& error) {
        const QString message = QString::fromStdString(error.message());
        if (error.kind() != Error::Kind::Input) {
            QTest::qFail(qPrintable("wrong error kind for: " + message), __FILE__, __LINE__);
        } else if (error.file() != path) {
            QTest::qFail(
                qPrintable(QString("error names '%1' instead of '%2'")
                               .arg(QString::fromStdString(error.file()), QString::fromStdString(path))),
                __FILE__, __LINE__);
        } else if (!message.contains(fragment, Qt::CaseInsensitive)) {
            QTest::qFail(qPrintable(QString("message '%1' does not mention '%2'").arg(message, fragment)),
                         __FILE__, __LINE__);
        }
        return message;
    } catch (const std::exception& other) {
        QTest::qFail(qPrintable(QString("threw something other than masklens::Error: ") + other.what()),
                     __FILE__, __LINE__);
        return {};
    }
    QTest::qFail(qPrintable("no error for " + QString::fromStdString(path)), __FILE__, __LINE__);
    return {};
}

inline QByteArray read_all(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return file.readAll();
}

inline std::string write_file(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate)) {
        qFatal("cannot write %s", qPrintable(path));
    }
    file.write(bytes);
    return path.toStdString();
}

// A version 1.0 .npy file with the given header dict and payload.
inline QByteArray npy_bytes(const QByteArray& dict, const QByteArray& payload)
{
    QByteArray header = dict;
    const int preamble = 10;
    while ((preamble + header.size() + 1) % 64 != 0) {
        header += ' ';
    }
    header += '\n';
    QByteArray bytes("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>((header.size() >> 8) & 0xff);
    return bytes + header + payload;
}

} // namespace masklens::test
