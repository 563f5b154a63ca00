// The readers' limits against hostile headers (issue 7):
//  * detached data files (NRRD "data file", MetaImage ElementDataFile) are
//    read only from the header's folder or below: absolute paths and ".."
//    are refused before anything is opened;
//  * a compressed stream that cannot hold the size its header declares
//    (deflate expands at most 1032:1) is refused before allocating;
//  * a NIfTI header whose data runs past the end of the (inflated) file is
//    refused before VTK allocates the image.
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QTest>

#include <zlib.h>

#include <cstdint>
#include <cstring>
#include <string>

using namespace masklens;

namespace {

QByteArray read_all(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return file.readAll();
}

bool write_all(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

QByteArray gzip(const QByteArray& data)
{
    z_stream stream{};
    deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(static_cast<int>(deflateBound(&stream, static_cast<uLong>(data.size()))), '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.constData()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(static_cast<int>(stream.total_out));
    deflateEnd(&stream);
    return out;
}

QString fixture(const char* relative)
{
    return QStringLiteral(MASKLENS_TEST_DATA "/readers/") + QString::fromUtf8(relative);
}

// Reads `path` and expects Error(Input) whose message contains `expected`.
void expect_error(const QString& path, const char* expected)
{
    try {
        io::read_volume(path.toStdString());
        QFAIL(qPrintable("read succeeded: " + path));
    } catch (const Error& error) {
        QCOMPARE(error.kind(), Error::Kind::Input);
        QVERIFY2(std::string(error.what()).find(expected) != std::string::npos, error.what());
    }
}

QByteArray nrrd_header(const QByteArray& data_file)
{
    return "NRRD0004\ntype: uchar\ndimension: 2\nsizes: 4 3\nencoding: raw\ndata file: " + data_file + "\n\n";
}

QByteArray mhd_header(const QByteArray& data_file)
{
    return "ObjectType = Image\nNDims = 2\nDimSize = 4 3\nElementType = MET_UCHAR\nElementDataFile = " +
           data_file + "\n";
}

void put_le32(QByteArray& bytes, qsizetype offset, std::uint32_t value)
{
    for (int i = 0; i < 4; ++i) {
        bytes[offset + i] = static_cast<char>((value >> (8 * i)) & 0xff);
    }
}

} // namespace

class ReaderLimitsTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void detachedDataFile_data();
    void detachedDataFile();
    void detachedDataFileOutsideWhenAllowed();
    void compressedSizeBound_data();
    void compressedSizeBound();
    void npzDeclaredSizeBound();
    void niftiDataPastTheEnd_data();
    void niftiDataPastTheEnd();

private:
    QTemporaryDir temp_;
    QString dir_;   // temp_/work: the headers' folder
    QString outer_; // a data file outside it
};

void ReaderLimitsTest::initTestCase()
{
    QVERIFY(temp_.isValid());
    dir_ = temp_.path() + "/work";
    QVERIFY(QDir().mkpath(dir_ + "/sub"));
    const QByteArray raw(12, '\x01');
    outer_ = temp_.path() + "/outside.raw";
    QVERIFY(write_all(outer_, raw));
    QVERIFY(write_all(dir_ + "/data.raw", raw));
    QVERIFY(write_all(dir_ + "/sub/data.raw", raw));
}

void ReaderLimitsTest::detachedDataFile_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("header");
    QTest::addColumn<QString>("expected"); // empty: the read succeeds
    const QByteArray absolute = outer_.toUtf8();
    for (const char* extension : {".nhdr", ".mhd"}) {
        const bool nrrd = std::strcmp(extension, ".nhdr") == 0;
        auto header = [&](const QByteArray& file) { return nrrd ? nrrd_header(file) : mhd_header(file); };
        auto row = [&](const char* label) { return QByteArray(extension + 1) + " " + label; };
        const QString base = QStringLiteral("h") + extension;
        QTest::newRow(row("same folder")) << base << header("data.raw") << QString();
        QTest::newRow(row("subfolder")) << base << header("sub/data.raw") << QString();
        QTest::newRow(row("dot folder")) << base << header("./sub/data.raw") << QString();
        QTest::newRow(row("absolute")) << base << header(absolute) << "absolute path";
        QTest::newRow(row("dotdot")) << base << header("../outside.raw") << "leaves the header's folder";
        QTest::newRow(row("dotdot inside"))
            << base << header("sub/../../outside.raw") << "leaves the header's folder";
        QTest::newRow(row("dotdot back in"))
            << base << header("sub/../data.raw") << "leaves the header's folder";
        QTest::newRow(row("system file")) << base << header("/etc/passwd") << "absolute path";
    }
}

void ReaderLimitsTest::detachedDataFile()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, header);
    QFETCH(QString, expected);
    const QString path = dir_ + "/" + name;
    QVERIFY(write_all(path, header));
    if (expected.isEmpty()) {
        const Volume volume = io::read_volume(path.toStdString());
        QCOMPARE(volume.byte_size(), std::size_t{12});
        QCOMPARE(static_cast<int>(volume.data_as<std::uint8_t>()[0]), 1);
    } else {
        expect_error(path, expected.toUtf8().constData());
    }
}

// The opt-in (--allow-outside-data, MASKLENS_ALLOW_OUTSIDE_DATA=1) reads the
// files the default refuses; the environment variable alone is enough.
void ReaderLimitsTest::detachedDataFileOutsideWhenAllowed()
{
    // The outside file differs from data.raw, so reading the wrong one shows.
    QVERIFY(write_all(outer_, QByteArray(12, '\x07')));
    const QString nhdr = dir_ + "/out.nhdr";
    const QString mhd = dir_ + "/out.mhd";
    QVERIFY(write_all(nhdr, nrrd_header("../outside.raw")));
    QVERIFY(write_all(mhd, mhd_header(outer_.toUtf8())));
    QVERIFY(!io::outside_data_allowed());
    expect_error(nhdr, "--allow-outside-data");
    io::set_outside_data_allowed(true);
    for (const QString& path : {nhdr, mhd}) {
        const Volume volume = io::read_volume(path.toStdString());
        QCOMPARE(static_cast<int>(volume.data_as<std::uint8_t>()[0]), 7);
    }
    io::set_outside_data_allowed(false);
    expect_error(mhd, "absolute path");
    qputenv("MASKLENS_ALLOW_OUTSIDE_DATA", "1");
    QVERIFY(io::outside_data_allowed());
    QCOMPARE(static_cast<int>(io::read_volume(nhdr.toStdString()).data_as<std::uint8_t>()[0]), 7);
    qputenv("MASKLENS_ALLOW_OUTSIDE_DATA", "0");
    expect_error(nhdr, "leaves the header's folder");
    qunsetenv("MASKLENS_ALLOW_OUTSIDE_DATA");
    QVERIFY(write_all(outer_, QByteArray(12, '\x01')));
}

void ReaderLimitsTest::compressedSizeBound_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray small = gzip(QByteArray(64, '\0'));
    // 256 MiB declared (under the memory cap), a few dozen compressed bytes present.
    QTest::newRow("nrrd attached")
        << "bomb.nrrd"
        << QByteArray("NRRD0004\ntype: uchar\ndimension: 3\nsizes: 1024 1024 256\nencoding: gzip\n\n") +
               small;
    QTest::newRow("mha local")
        << "bomb.mha"
        << QByteArray("ObjectType = Image\nNDims = 3\nDimSize = 1024 1024 256\nElementType = MET_UCHAR\n"
                      "CompressedData = True\nElementDataFile = LOCAL\n") +
               small;
    // A size the machine could allocate (4 MiB) but 64 compressed bytes cannot hold.
    QTest::newRow("nrrd 4 MiB")
        << "mid.nrrd"
        << QByteArray("NRRD0004\ntype: uchar\ndimension: 2\nsizes: 2048 2048\nencoding: gzip\n\n") + small;
}

void ReaderLimitsTest::compressedSizeBound()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    const QString path = dir_ + "/" + name;
    QVERIFY(write_all(path, bytes));
    expect_error(path, "cannot hold");
}

void ReaderLimitsTest::npzDeclaredSizeBound()
{
    // Raise the central directory's uncompressed size of a deflated entry.
    QByteArray npz = read_all(fixture("npz/single_deflated.npz"));
    QVERIFY(!npz.isEmpty());
    const qsizetype central = npz.indexOf(QByteArray("PK\x01\x02", 4));
    QVERIFY(central > 0);
    put_le32(npz, central + 24, 0x7fffffffu);
    const QString path = dir_ + "/bomb.npz";
    QVERIFY(write_all(path, npz));
    expect_error(path, "cannot hold");
}

void ReaderLimitsTest::niftiDataPastTheEnd_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("compressed");
    QTest::newRow("nii") << "big.nii" << false;
    QTest::newRow("nii.gz") << "big.nii.gz" << true;
}

void ReaderLimitsTest::niftiDataPastTheEnd()
{
    QFETCH(QString, name);
    QFETCH(bool, compressed);
    // A NIfTI-1 header claiming 4096 x 4096 voxels with only the original
    // few bytes of data after it.
    QByteArray nii = read_all(fixture("nifti/nifti1_2d.nii"));
    QVERIFY(nii.size() > 352);
    auto put_le16 = [&](int offset, int value) {
        nii[offset] = static_cast<char>(value & 0xff);
        nii[offset + 1] = static_cast<char>((value >> 8) & 0xff);
    };
    put_le16(40 + 2, 4096); // dim[1]
    put_le16(40 + 4, 4096); // dim[2]
    const QString path = dir_ + "/" + name;
    QVERIFY(write_all(path, compressed ? gzip(nii) : nii));
    expect_error(path, "NIfTI data is truncated");
}

QTEST_GUILESS_MAIN(ReaderLimitsTest)
#include "tst_reader_limits.moc"
