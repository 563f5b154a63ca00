// Tests of the .npy reader against fixtures written by
// tests/generate_reader_fixtures.py, and of its refusals of broken headers.
#include "reader_test_support.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

using namespace masklens;
using masklens::test::expect_input_error;

class NpyReaderTest : public QObject {
    Q_OBJECT

private slots:
    void readsFixtures_data();
    void readsFixtures();
    void layoutOnlyAffectsThreeDimensionalArrays();
    void rejectsBadHeaders_data();
    void rejectsBadHeaders();
    void rejectsBrokenFiles_data();
    void rejectsBrokenFiles();

private:
    QTemporaryDir temp_;
};

void NpyReaderTest::readsFixtures_data()
{
    QTest::addColumn<int>("index");
    const auto fixtures = test::expected_fixtures("npy/");
    QVERIFY(fixtures.size() >= 30);
    for (int i = 0; i < fixtures.size(); ++i) {
        QTest::newRow(test::row_name(fixtures[i]).constData()) << i;
    }
}

void NpyReaderTest::readsFixtures()
{
    QFETCH(int, index);
    const auto fixture = test::expected_fixtures("npy/").at(index);
    const std::string path = test::fixture_path(fixture.file);
    const Volume volume = io::read_npy(path, fixture.options);
    QCOMPARE(volume.source(), path);
    test::compare_with_expected(volume, fixture.json);
    QCOMPARE(volume.geometry().known, false);
    QCOMPARE(volume.geometry().spacing, (std::array<double, 3>{1.0, 1.0, 1.0}));
}

void NpyReaderTest::layoutOnlyAffectsThreeDimensionalArrays()
{
    const io::ReadOptions nhw{io::Layout::NHW, {}};
    const Volume flat = io::read_npy(test::fixture_path("npy/shape_2d_c.npy"), nhw);
    QCOMPARE(flat.shape().to_string(), std::string("[1, 1, 5, 7]"));
    const Volume batch = io::read_npy(test::fixture_path("npy/shape_4d_c.npy"), nhw);
    QCOMPARE(batch.shape().to_string(), std::string("[2, 1, 3, 4]"));
    const Volume volume = io::read_npy(test::fixture_path("npy/shape_5d_f.npy"), nhw);
    QCOMPARE(volume.shape().to_string(), std::string("[1, 2, 3, 4, 5]"));
    QCOMPARE(volume.shape().spatial_dims, 3);
    const Volume slices = io::read_npy(test::fixture_path("npy/shape_3d_c.npy"), nhw);
    QCOMPARE(slices.shape().to_string(), std::string("[3, 1, 4, 5]"));
    QCOMPARE(slices.shape().spatial_dims, 2);
    const Volume auto3d = io::read_npy(test::fixture_path("npy/shape_3d_c.npy"));
    QCOMPARE(auto3d.shape().to_string(), std::string("[1, 1, 3, 4, 5]"));
    QCOMPARE(auto3d.shape().spatial_dims, 3);
}

void NpyReaderTest::rejectsBadHeaders_data()
{
    QTest::addColumn<QByteArray>("dict");
    QTest::addColumn<int>("payload");
    QTest::addColumn<QString>("fragment");
    auto row = [](const char* name, const char* descr, const char* shape, int payload, const char* fragment,
                  const char* fortran = "False") {
        QTest::newRow(name) << QByteArray("{'descr': ") + descr + ", 'fortran_order': " + fortran +
                                   ", 'shape': " + shape + ", }"
                            << payload << QString(fragment);
    };
    row("object", "'|O'", "(2, 2)", 32, "Python objects");
    row("complex64", "'<c8'", "(2, 2)", 32, "complex");
    row("complex128", "'<c16'", "(2, 2)", 64, "complex");
    row("unicode", "'<U5'", "(2, 2)", 80, "strings");
    row("bytes", "'|S3'", "(2, 2)", 12, "strings");
    row("void", "'|V8'", "(2, 2)", 32, "structured");
    row("datetime", "'<M8[ns]'", "(2, 2)", 32, "date/time");
    row("longdouble", "'<f16'", "(2, 2)", 64, "extended-precision");
    row("structured", "[('a', '<i4'), ('b', '<f4')]", "(2, 2)", 32, "structured");
    row("badorder", "'!f4'", "(2, 2)", 16, "byte order");
    row("0d", "'<f4'", "()", 4, "0 dimensions");
    row("1d", "'<f4'", "(4,)", 16, "1 dimensions");
    row("6d", "'<f4'", "(1, 1, 1, 1, 2, 2)", 16, "6 dimensions");
    row("zero extent", "'<f4'", "(0, 4)", 0, "empty");
    row("negative extent", "'<f4'", "(-1, 4)", 16, "negative");
    row("overflowing product", "'<f8'", "(4294967296, 4294967296, 4294967296)", 16, "overflows");
    row("overflowing bytes", "'<f8'", "(4611686018427387904, 4)", 16, "overflows");
    row("extent past int64", "'<u1'", "(99999999999999999999, 4)", 16, "too large");
    row("huge (more than the file)", "'<f4'", "(100000, 100000, 100000)", 16, "truncated");
    row("short data", "'<i2'", "(3, 5)", 29, "truncated");
    row("short fortran data", "'<i2'", "(3, 5)", 29, "truncated", "True");
    row("missing shape", "'<f4'", "(2, 2)", 16, "needs 'descr'");
    QTest::newRow("not a dict") << QByteArray("['descr', '<f4']") << 16 << QString("not a dictionary");
    QTest::newRow("missing key") << QByteArray("{'descr': '<f4', 'fortran_order': False}") << 16
                                 << QString("needs 'descr'");
    QTest::newRow("garbage header") << QByteArray("{'descr': '<f4', 'fortran_order': Fals") << 16
                                    << QString("malformed");
    QTest::newRow("shape not ints") << QByteArray(
                                           "{'descr': '<f4', 'fortran_order': False, 'shape': ('a', 2)}")
                                    << 16 << QString("tuple of integers");
    QTest::newRow("fortran not bool") << QByteArray("{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 2)}")
                                      << 16 << QString("wrong value types");
}

void NpyReaderTest::rejectsBadHeaders()
{
    QFETCH(QByteArray, dict);
    QFETCH(int, payload);
    QFETCH(QString, fragment);
    QVERIFY(temp_.isValid());
    if (QByteArray(QTest::currentDataTag()) == "missing shape") {
        dict.replace("'shape'", "'shap'");
    }
    const std::string path =
        test::write_file(temp_.filePath("bad.npy"), test::npy_bytes(dict, QByteArray(payload, '\x01')));
    QElapsedTimer timer;
    timer.start();
    test::expect_input_error([&] { io::read_npy(path); }, path, fragment);
    // Refused from the header alone: no multi-gigabyte allocation or read.
    QVERIFY(timer.elapsed() < 2000);
}

void NpyReaderTest::rejectsBrokenFiles_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("fragment");
    const QByteArray good = test::read_all(test::readers_dir() + "/npy/dtype_float32_le.npy");
    QVERIFY(!good.isEmpty());
    QTest::newRow("empty") << QByteArray() << "empty";
    QTest::newRow("garbage") << QByteArray("PK\x03\x04 this is not numpy at all") << "bad magic";
    QTest::newRow("short magic") << QByteArray("\x93NUM") << "bad magic";
    QTest::newRow("header cut") << good.left(40) << "truncated";
    QTest::newRow("length cut") << good.left(9) << "truncated";
    QTest::newRow("data cut") << good.left(good.size() - 3) << "truncated";
    QTest::newRow("data missing") << good.left(128) << "truncated";
    QByteArray version = good;
    version[6] = 4;
    QTest::newRow("version 4") << version << "version 4.0";
    QByteArray huge_header = good;
    huge_header[6] = 2;
    QTest::newRow("header length absurd") << huge_header << "1 MiB";
}

void NpyReaderTest::rejectsBrokenFiles()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, fragment);
    const std::string path = test::write_file(temp_.filePath("broken.npy"), bytes);
    test::expect_input_error([&] { io::read_npy(path); }, path, fragment);
    test::expect_input_error([&] { io::read_volume(path); }, path, fragment);
}

QTEST_APPLESS_MAIN(NpyReaderTest)
#include "tst_npy_reader.moc"
