// Reader fixtures written by outside libraries (pynrrd, SimpleITK, nibabel,
// tifffile, numpy), little- and big-endian, for every dtype each reader
// accepts: tests/data/readers_external, written by
// tests/generate_external_fixtures.py with the expected values, shapes and
// geometry taken from the numpy arrays and affines given to the writers.
#include "reader_test_support.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QSet>
#include <QtTest>

#include <map>

using namespace masklens;

namespace {

QString external_dir()
{
    return QStringLiteral(MASKLENS_TEST_DATA "/readers_external");
}

QJsonObject expected_document()
{
    const QByteArray bytes = test::read_all(external_dir() + "/expected.json");
    return QJsonDocument::fromJson(bytes).object();
}

} // namespace

class TestExternalFixtures : public QObject {
    Q_OBJECT

private slots:
    void everyFixtureReadsAsItsWriterWroteIt_data();
    void everyFixtureReadsAsItsWriterWroteIt();
    void everyAcceptedDtypeInBothByteOrders();
    void bigEndianInt16NrrdLabels256And512();
};

void TestExternalFixtures::everyFixtureReadsAsItsWriterWroteIt_data()
{
    QTest::addColumn<int>("index");
    const auto fixtures = test::expected_fixtures(QString(), external_dir());
    QVERIFY(fixtures.size() >= 100);
    for (int i = 0; i < fixtures.size(); ++i) {
        QTest::newRow(test::row_name(fixtures[i]).constData()) << i;
    }
}

void TestExternalFixtures::everyFixtureReadsAsItsWriterWroteIt()
{
    QFETCH(int, index);
    const auto fixture = test::expected_fixtures(QString(), external_dir()).at(index);
    const std::string path = (external_dir() + "/" + fixture.file).toStdString();
    Volume volume;
    try {
        volume = io::read_volume(path, fixture.options);
    } catch (const Error& error) {
        QFAIL(qPrintable("read_volume failed: " + QString::fromStdString(error.what())));
    }
    test::compare_with_expected(volume, fixture.json);
}

// The formats and dtypes the readers accept (engine/io/src/*_reader.cpp),
// written here independently of the generator: a generator that silently
// dropped a type or a byte order fails this test.
void TestExternalFixtures::everyAcceptedDtypeInBothByteOrders()
{
    const QStringList ints = {"int8", "uint8", "int16", "uint16", "int32", "uint32", "int64", "uint64"};
    const QStringList floats = {"float32", "float64"};
    std::map<QString, QStringList> accepted;
    for (const char* format : {"nrrd", "nhdr", "mha", "mhd", "nii", "tif"}) {
        accepted[format] = ints + floats;
    }
    accepted["npy"] = QStringList{"bool"} + ints + QStringList{"float16"} + floats;

    QSet<QString> present;
    const QJsonArray fixtures = expected_document().value("fixtures").toArray();
    for (const QJsonValue& value : fixtures) {
        const QJsonObject object = value.toObject();
        const QString file = object.value("file").toString();
        QVERIFY2(QFileInfo::exists(external_dir() + "/" + file), qPrintable(file));
        present.insert(object.value("format").toString() + "/" + object.value("dtype").toString() + "/" +
                       object.value("byte_order").toString());
        // The writer is named, and it is not MaskLens's own generator code.
        QVERIFY2(!object.value("writer").toString().isEmpty(), qPrintable(file));
    }
    int combinations = 0;
    for (const auto& [format, dtypes] : accepted) {
        for (const QString& dtype : dtypes) {
            const bool one_byte = dtype == "bool" || dtype == "int8" || dtype == "uint8";
            for (const char* order : {"le", "be"}) {
                if (one_byte && QString(order) == "be") {
                    continue;
                }
                const QString key = format + "/" + dtype + "/" + order;
                QVERIFY2(present.contains(key), qPrintable("no external fixture for " + key));
                ++combinations;
            }
        }
    }
    // Six image formats x (2 one-byte types + 8 wider types in both orders),
    // npy: 3 one-byte types + 9 wider ones in both orders.
    QCOMPARE(combinations, 6 * (2 + 8 * 2) + (3 + 9 * 2));
}

// Issue 20: with 16-bit items not byte-swapped, labels 256 and 512 of a
// big-endian NRRD read as 1 and 2 and no test failed. The label map (written
// by pynrrd, 'endian: big') is [Z=2, Y=3, X=4]: 256 at z=0, y=1, x=1..2;
// 512 at z=1, x=2..3 (every y); 1 at z=1, y=0, x=0; 0 elsewhere.
void TestExternalFixtures::bigEndianInt16NrrdLabels256And512()
{
    const std::string path = (external_dir() + "/nrrd/labels_256_512_int16_be.nrrd").toStdString();
    QVERIFY(test::read_all(QString::fromStdString(path)).contains("endian: big"));
    const Volume volume = io::read_volume(path);
    QCOMPARE(volume.type(), ScalarType::Int16);
    QCOMPARE(volume.shape().torch_shape(), (std::vector<std::int64_t>{1, 1, 2, 3, 4}));
    const std::int16_t* labels = volume.data_as<std::int16_t>();
    std::map<int, int> counts;
    for (std::int64_t i = 0; i < volume.shape().elements(); ++i) {
        ++counts[labels[i]];
    }
    QCOMPARE(counts, (std::map<int, int>{{0, 15}, {1, 1}, {256, 2}, {512, 6}}));
    auto at = [&](int z, int y, int x) { return labels[(z * 3 + y) * 4 + x]; };
    QCOMPARE(at(0, 1, 1), std::int16_t{256});
    QCOMPARE(at(0, 1, 2), std::int16_t{256});
    QCOMPARE(at(1, 2, 3), std::int16_t{512});
    QCOMPARE(at(1, 0, 0), std::int16_t{1});
    QCOMPARE(at(0, 0, 0), std::int16_t{0});
    QCOMPARE(volume.geometry().spacing[2], 2.5);
}

QTEST_GUILESS_MAIN(TestExternalFixtures)
#include "tst_external_fixtures.moc"
