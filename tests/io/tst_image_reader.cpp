// Tests of the VTK-backed readers (NIfTI, NRRD, MetaImage, PNG, TIFF):
// values and geometry against tests/generate_reader_fixtures.py, and refusals
// of corrupt, truncated and oversized files.
#include "reader_test_support.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <limits>

#include <zlib.h>

using namespace masklens;

namespace {

QByteArray gzip(const QByteArray& data)
{
    z_stream stream{};
    deflateInit2(&stream, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
    QByteArray out(static_cast<qsizetype>(deflateBound(&stream, static_cast<uLong>(data.size()))) + 64, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.constData()));
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = reinterpret_cast<Bytef*>(out.data());
    stream.avail_out = static_cast<uInt>(out.size());
    deflate(&stream, Z_FINISH);
    out.resize(static_cast<qsizetype>(stream.total_out));
    deflateEnd(&stream);
    return out;
}

void put_le16(QByteArray& bytes, qsizetype at, std::int16_t value)
{
    bytes[at] = static_cast<char>(value & 0xff);
    bytes[at + 1] = static_cast<char>((value >> 8) & 0xff);
}

// Sets the inline value of `tag` in the first directory of a little-endian
// classic TIFF (the fixtures' SHORT/LONG fields); returns false if absent.
bool patch_tiff_tag(QByteArray& bytes, std::uint16_t tag, std::uint32_t value)
{
    auto u16 = [&](qsizetype at) {
        return static_cast<std::uint16_t>(static_cast<unsigned char>(bytes[at]) |
                                          (static_cast<unsigned char>(bytes[at + 1]) << 8));
    };
    const qsizetype ifd = static_cast<unsigned char>(bytes[4]) | (static_cast<unsigned char>(bytes[5]) << 8);
    for (int i = 0; i < u16(ifd); ++i) {
        const qsizetype entry = ifd + 2 + 12 * i;
        if (u16(entry) == tag) {
            for (int b = 0; b < 4; ++b) {
                bytes[entry + 8 + b] = static_cast<char>((value >> (8 * b)) & 0xff);
            }
            return true;
        }
    }
    return false;
}

// A PNG chunk with its length and CRC.
QByteArray png_chunk(const char* type, const QByteArray& data)
{
    QByteArray body = QByteArray(type, 4) + data;
    const uLong crc =
        crc32(0L, reinterpret_cast<const Bytef*>(body.constData()), static_cast<uInt>(body.size()));
    QByteArray out;
    for (const std::uint32_t value : {static_cast<std::uint32_t>(data.size())}) {
        for (int b = 3; b >= 0; --b) {
            out += static_cast<char>((value >> (8 * b)) & 0xff);
        }
    }
    out += body;
    for (int b = 3; b >= 0; --b) {
        out += static_cast<char>((crc >> (8 * b)) & 0xff);
    }
    return out;
}

void put_le32(QByteArray& bytes, qsizetype at, std::uint32_t value)
{
    for (int b = 0; b < 4; ++b) {
        bytes[at + b] = static_cast<char>((value >> (8 * b)) & 0xff);
    }
}

// One gzip member of `data` whose header carries FHCRC, the CRC-16 of the
// header (zlib checks it; the reader's libdeflate path leaves such files to zlib).
QByteArray gzip_with_header_crc(const QByteArray& data)
{
    const QByteArray plain = gzip(data); // 10-byte header, no optional fields
    QByteArray header = plain.left(10);
    header[3] = static_cast<char>(header[3] | 0x02);
    const uLong crc = crc32(0L, reinterpret_cast<const Bytef*>(header.constData()), 10);
    header += static_cast<char>(crc & 0xff);
    header += static_cast<char>((crc >> 8) & 0xff);
    return header + plain.mid(10);
}

// The inflated bytes of the gzip member(s) in `data`.
QByteArray gunzip(const QByteArray& data)
{
    z_stream stream{};
    inflateInit2(&stream, 15 + 16);
    QByteArray out;
    QByteArray buffer(1 << 16, '\0');
    stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.constData()));
    stream.avail_in = static_cast<uInt>(data.size());
    int status = Z_OK;
    while (status == Z_OK) {
        stream.next_out = reinterpret_cast<Bytef*>(buffer.data());
        stream.avail_out = static_cast<uInt>(buffer.size());
        status = inflate(&stream, Z_NO_FLUSH);
        out += buffer.left(buffer.size() - static_cast<qsizetype>(stream.avail_out));
    }
    inflateEnd(&stream);
    return out;
}

void compare_volumes(const Volume& actual, const Volume& expected)
{
    QCOMPARE(actual.type(), expected.type());
    QCOMPARE(actual.shape(), expected.shape());
    QCOMPARE(actual.byte_size(), expected.byte_size());
    QVERIFY(std::memcmp(actual.data(), expected.data(), expected.byte_size()) == 0);
    QCOMPARE(actual.geometry().spacing, expected.geometry().spacing);
    QCOMPARE(actual.geometry().origin, expected.geometry().origin);
    QCOMPARE(actual.geometry().direction, expected.geometry().direction);
}

} // namespace

class ImageReaderTest : public QObject {
    Q_OBJECT

private slots:
    void readsFixtures_data();
    void readsFixtures();
    void niftiFlipKeepsFileSliceOrder();
    void rejectsBrokenImages_data();
    void rejectsBrokenImages();
    void rejectsMissingCompanionFile();
    void gzipLayoutsReadAsBefore_data();
    void gzipLayoutsReadAsBefore();
    void externalTiffs_data();
    void externalTiffs();

private:
    QTemporaryDir temp_;
};

void ImageReaderTest::readsFixtures_data()
{
    QTest::addColumn<QString>("prefix");
    QTest::addColumn<int>("index");
    int total = 0;
    for (const QString prefix : {"nifti/", "nrrd/", "metaimage/", "image2d/", "tiff/"}) {
        const auto fixtures = test::expected_fixtures(prefix);
        for (int i = 0; i < fixtures.size(); ++i) {
            QTest::newRow(test::row_name(fixtures[i]).constData()) << prefix << i;
        }
        total += static_cast<int>(fixtures.size());
    }
    QVERIFY(total >= 20);
}

void ImageReaderTest::readsFixtures()
{
    QFETCH(QString, prefix);
    QFETCH(int, index);
    const auto fixture = test::expected_fixtures(prefix).at(index);
    const std::string path = test::fixture_path(fixture.file);
    const Volume volume = io::read_image(path);
    QCOMPARE(volume.source(), path);
    test::compare_with_expected(volume, fixture.json);
}

void ImageReaderTest::niftiFlipKeepsFileSliceOrder()
{
    // The qform of this file has qfac = -1, for which VTK reverses the slices;
    // the reader must give them in file order, identical for .nii and .nii.gz.
    const Volume plain = io::read_image(test::fixture_path("nifti/nifti1_qform_flip_int16.nii"));
    const Volume packed = io::read_image(test::fixture_path("nifti/nifti1_qform_flip_int16.nii.gz"));
    QCOMPARE(plain.byte_size(), packed.byte_size());
    QVERIFY(std::memcmp(plain.data(), packed.data(), plain.byte_size()) == 0);
    QVERIFY(plain.geometry().known);
    // det(direction) < 0: the flip is in the reported geometry, not the data.
    const auto& m = plain.geometry().direction;
    const double det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6]) +
                       m[2] * (m[3] * m[7] - m[4] * m[6]);
    QVERIFY2(det < -0.99, qPrintable(QString::number(det)));
}

void ImageReaderTest::rejectsBrokenImages_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("fragment");
    const QString dir = test::readers_dir();
    const QByteArray nii = test::read_all(dir + "/nifti/nifti1_sform_uint8.nii");
    const QByteArray niigz = test::read_all(dir + "/nifti/nifti1_sform_uint8.nii.gz");
    const QByteArray nrrd = test::read_all(dir + "/nrrd/nrrd_raw_int16.nrrd");
    const QByteArray nrrdgz = test::read_all(dir + "/nrrd/nrrd_gzip_float32.nrrd");
    const QByteArray mha = test::read_all(dir + "/metaimage/local_float32.mha");
    const QByteArray png = test::read_all(dir + "/image2d/gray8.png");
    const QByteArray tif = test::read_all(dir + "/image2d/gray16.tif");
    QVERIFY(!nii.isEmpty() && !niigz.isEmpty() && !nrrd.isEmpty() && !mha.isEmpty() && !png.isEmpty() &&
            !tif.isEmpty());
    const QByteArray garbage = QByteArray("this is not an image\n").repeated(40);

    QTest::newRow("nii empty") << "e.nii" << QByteArray() << "empty";
    QTest::newRow("nii garbage") << "g.nii" << garbage << "not a valid NIfTI";
    QTest::newRow("nii.gz garbage") << "g.nii.gz" << garbage << "not gzip-compressed";
    QTest::newRow("nii.gz plain nii") << "p.nii.gz" << nii << "not gzip-compressed";
    QTest::newRow("nii.gz of garbage") << "gg.nii.gz" << gzip(garbage) << "not a valid NIfTI";
    QByteArray flipped = niigz;
    for (qsizetype i = 40; i < 60; ++i) {
        flipped[i] = static_cast<char>(~flipped[i]);
    }
    QTest::newRow("nii.gz corrupt stream") << "c.nii.gz" << flipped << "corrupt";
    QTest::newRow("nii.gz garbage tail")
        << "gt.nii.gz" << niigz.left(niigz.size() / 2) + garbage << "gzip data";
    QTest::newRow("nii.gz truncated") << "t.nii.gz" << niigz.left(niigz.size() - 20) << "truncated";
    QTest::newRow("nii.gz crc") << "crc.nii.gz"
                                << niigz.left(niigz.size() - 8) + QByteArray(4, '\0') + niigz.right(4)
                                << "corrupt";
    QTest::newRow("nii truncated header") << "h.nii" << nii.left(200) << "";
    QTest::newRow("nii truncated data") << "d.nii" << nii.left(nii.size() - 20) << "truncated";
    QByteArray huge = nii;
    for (int axis = 1; axis <= 3; ++axis) {
        put_le16(huge, 40 + 2 * axis, 30000); // dim[1..3]
    }
    QTest::newRow("nii huge dims") << "huge.nii" << huge << "memory";
    QByteArray negative = nii;
    put_le16(negative, 42, -5);
    QTest::newRow("nii negative dim") << "neg.nii" << negative << "negative";
    // Header fields checked by MaskLens's own NIfTI parser (nifti_reader.cpp).
    auto nii_with = [&](qsizetype at, QByteArray patch) {
        QByteArray bytes = nii;
        bytes.replace(at, patch.size(), patch);
        return bytes;
    };
    auto le16 = [](std::int16_t value) {
        QByteArray bytes(2, '\0');
        put_le16(bytes, 0, value);
        return bytes;
    };
    auto le32f = [](float value) {
        QByteArray bytes(4, '\0');
        std::memcpy(bytes.data(), &value, 4);
        return bytes;
    };
    QTest::newRow("nii sizeof_hdr") << "s.nii" << nii_with(0, le16(349)) << "sizeof_hdr is 349";
    QTest::newRow("nii magic") << "m.nii" << nii_with(344, QByteArray("n+3", 3)) << "magic";
    QTest::newRow("nii pair magic") << "p.nii" << nii_with(344, QByteArray("ni1", 3)) << "separate .img";
    QTest::newRow("nii rank 0") << "r0.nii" << nii_with(40, le16(0)) << "not 1 to 7";
    QTest::newRow("nii rank 8") << "r8.nii" << nii_with(40, le16(8)) << "not 1 to 7";
    QTest::newRow("nii zero dim") << "z.nii" << nii_with(44, le16(0)) << "zero or negative";
    QTest::newRow("nii rgb") << "rgb.nii" << nii_with(70, le16(128)) << "3 components";
    QTest::newRow("nii unknown datatype") << "u.nii" << nii_with(70, le16(4000)) << "not a NIfTI datatype";
    QTest::newRow("nii vox_offset in header") << "v.nii" << nii_with(108, le32f(100.0f)) << "vox_offset";
    QTest::newRow("nii vox_offset nan")
        << "vn.nii" << nii_with(108, le32f(std::numeric_limits<float>::quiet_NaN())) << "vox_offset";
    QTest::newRow("nii sform inf") << "si.nii" << nii_with(280, le32f(std::numeric_limits<float>::infinity()))
                                   << "non-finite";
    QTest::newRow("nii time series") << "ts.nii" << test::read_all(dir + "/nifti/nifti1_4d_time.nii")
                                     << "a mask must be 2D or 3D";

    QTest::newRow("nrrd garbage") << "g.nrrd" << garbage << "not a valid NRRD";
    QTest::newRow("nrrd truncated data") << "t.nrrd" << nrrd.left(nrrd.size() - 10) << "truncated";
    QTest::newRow("nrrd gzip corrupt") << "c.nrrd" << nrrdgz.left(nrrdgz.size() - 30) + garbage << "corrupt";
    QTest::newRow("nrrd gzip truncated") << "tg.nrrd" << nrrdgz.left(nrrdgz.size() - 30) << "truncated";
    QByteArray nrrd_huge = nrrd;
    nrrd_huge.replace("sizes: 5 4 3", "sizes: 50000 40000 30000");
    QTest::newRow("nrrd huge sizes") << "h.nrrd" << nrrd_huge << "truncated";
    QByteArray nrrdgz_huge = nrrdgz;
    nrrdgz_huge.replace("sizes: 5 4 3", "sizes: 50000 40000 30000");
    QTest::newRow("nrrd gzip huge sizes") << "hg.nrrd" << nrrdgz_huge << "memory";
    QByteArray nrrd_overflow = nrrd;
    nrrd_overflow.replace("sizes: 5 4 3", "sizes: 5000000000000 4000000000000 3");
    QTest::newRow("nrrd overflowing sizes") << "o.nrrd" << nrrd_overflow << "overflow";
    QByteArray nrrd_negative = nrrd;
    nrrd_negative.replace("sizes: 5 4 3", "sizes: 5 -4 3");
    QTest::newRow("nrrd negative size") << "n.nrrd" << nrrd_negative << "negative";
    QByteArray nrrd_vector = nrrd;
    nrrd_vector.replace("kinds: domain domain domain", "kinds: RGB-color domain domain");
    QTest::newRow("nrrd vector axis") << "v.nrrd" << nrrd_vector << "5 components";
    QByteArray nrrd_type = nrrd;
    nrrd_type.replace("type: short", "type: block");
    QTest::newRow("nrrd bad type") << "b.nrrd" << nrrd_type << "unsupported NRRD type";
    QByteArray nrrd_encoding = nrrd;
    nrrd_encoding.replace("encoding: raw", "encoding: hex");
    QTest::newRow("nrrd hex") << "x.nrrd" << nrrd_encoding << "unsupported NRRD encoding";

    QTest::newRow("mha garbage") << "g.mha" << garbage << "not a valid MetaImage";
    QTest::newRow("mha truncated data") << "t.mha" << mha.left(mha.size() - 10) << "truncated";
    QByteArray mha_huge = mha;
    mha_huge.replace("DimSize = 6 5 4", "DimSize = 60000 50000 40000");
    QTest::newRow("mha huge sizes") << "h.mha" << mha_huge << "truncated";
    const QByteArray mhaz = test::read_all(dir + "/metaimage/local_zlib_int16.mha");
    QByteArray mhaz_huge = mhaz;
    mhaz_huge.replace("DimSize = 6 5 4", "DimSize = 60000 50000 40000");
    QTest::newRow("mha zlib huge sizes") << "hz.mha" << mhaz_huge << "memory";
    QTest::newRow("mha zlib truncated") << "tz.mha" << mhaz.left(mhaz.size() - 30) << "truncated";
    QByteArray mha_rgb = mha;
    mha_rgb.replace("ElementType = MET_FLOAT", "ElementNumberOfChannels = 3\nElementType = MET_FLOAT");
    QTest::newRow("mha channels") << "c.mha" << mha_rgb << "3 components";
    QByteArray mha_type = mha;
    mha_type.replace("MET_FLOAT", "MET_STRING");
    QTest::newRow("mha bad type") << "b.mha" << mha_type << "unsupported MetaImage ElementType";
    QByteArray mha_nodata = mha;
    mha_nodata.replace("ElementDataFile", "ElementDataFil");
    QTest::newRow("mha no data line") << "n.mha" << mha_nodata << "no ElementDataFile";

    QTest::newRow("tif truncated") << "t.tif" << tif.left(tif.size() - 10) << "truncated";
    QTest::newRow("tif header only") << "h.tif" << tif.left(60) << "";
    QTest::newRow("png garbage") << "g.png" << garbage << "not a valid PNG";
    QTest::newRow("png truncated") << "t.png" << png.left(png.size() - 30) << "truncated";
    QTest::newRow("png no IEND") << "e.png" << png.left(png.size() - 12) << "truncated";
    QByteArray png_crc = png;
    png_crc[40] = static_cast<char>(png_crc[40] ^ 0x20);
    QTest::newRow("png crc") << "c.png" << png_crc << "CRC mismatch";
    // Structural faults on which libpng stops with an error (33 = signature + IHDR).
    const QByteArray ihdr = png.mid(8, 25);
    QTest::newRow("png second IHDR") << "i.png" << png.left(33) + ihdr + png.mid(33) << "second IHDR";
    QTest::newRow("png palette") << "pl.png"
                                 << png.left(33) + png_chunk("PLTE", QByteArray(3, '\0')) + png.mid(33)
                                 << "palette";
    QTest::newRow("png unknown critical")
        << "u.png" << png.left(33) + png_chunk("ABCD", QByteArray("x")) + png.mid(33)
        << "unknown critical chunk";
    QTest::newRow("png bad chunk name")
        << "n.png" << png.left(33) + png_chunk("a1cd", QByteArray("x")) + png.mid(33) << "invalid chunk name";
    {
        // The gray8 fixture is 7 x 5, one IDAT: rebuild it with filter type 9 on row 2.
        QByteArray rows;
        for (int y = 0; y < 5; ++y) {
            rows += static_cast<char>(y == 2 ? 9 : 0);
            rows += QByteArray(7, static_cast<char>(y * 10));
        }
        const QByteArray idat = png_chunk("IDAT", qCompress(rows).mid(4)); // qCompress: 4-byte size + zlib
        QTest::newRow("png filter type")
            << "f.png" << png.left(33) + idat + png_chunk("IEND", QByteArray()) << "filter type 9";
        QByteArray split = qCompress(rows).mid(4);
        QTest::newRow("png IDAT run broken")
            << "r.png"
            << png.left(33) + png_chunk("IDAT", split.left(5)) + png_chunk("tEXt", QByteArray("a\0b", 3)) +
                   png_chunk("IDAT", split.mid(5)) + png_chunk("IEND", QByteArray())
            << "not consecutive";
    }
    QTest::newRow("png rgb") << "rgb.png" << test::read_all(dir + "/image2d/rgb.png") << "3 components";
    QTest::newRow("tif garbage") << "g.tif" << garbage << "not a valid TIFF";
    // TIFF structure checks (tiff_check.cpp), made from the 8-bit fixture.
    const QByteArray tif8 = test::read_all(dir + "/image2d/gray8.tif");
    auto tiff_with = [&](std::uint16_t tag, std::uint32_t value) {
        QByteArray bytes = tif8;
        if (!patch_tiff_tag(bytes, tag, value)) {
            qFatal("fixture gray8.tif lacks tag %u", tag);
        }
        return bytes;
    };
    QTest::newRow("tif jpeg") << "j.tif" << tiff_with(259, 7) << "compression 7";
    QTest::newRow("tif palette") << "p.tif" << tiff_with(262, 3) << "palette";
    QTest::newRow("tif rgb") << "rgb.tif" << tiff_with(277, 3) << "3 components";
    QTest::newRow("tif 1-bit") << "b.tif" << tiff_with(258, 1) << "1-bit samples";
    QTest::newRow("tif strip past end") << "s.tif" << tiff_with(273, 100000) << "past the end";
    QTest::newRow("tif strip count") << "c.tif" << tiff_with(278, 1) << "strips";
    // 35 bytes of "LZW data" declaring 60000 x 60000 pixels: refused by the
    // codec's expansion bound before anything is allocated.
    QByteArray bomb = tiff_with(259, 5);
    patch_tiff_tag(bomb, 256, 60000);
    patch_tiff_tag(bomb, 257, 60000);
    patch_tiff_tag(bomb, 278, 60000);
    QTest::newRow("tif lzw bomb") << "z.tif" << bomb << "cannot hold";
    QByteArray loop = tif8;
    const qsizetype ifd = static_cast<unsigned char>(tif8[4]);
    const int entries = static_cast<unsigned char>(tif8[ifd]);
    put_le32(loop, ifd + 2 + 12 * entries, static_cast<std::uint32_t>(ifd)); // next IFD = itself
    QTest::newRow("tif directory loop") << "l.tif" << loop << "loop";
    QTest::newRow("tif tiled") << "t16.tif" << test::read_all(dir + "/tiff/tiled_deflate_float32.tif")
                               << "tiled";
}

void ImageReaderTest::rejectsBrokenImages()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, fragment);
    const std::string path = test::write_file(temp_.filePath(name), bytes);
    QElapsedTimer timer;
    timer.start();
    const QString message = test::expect_input_error([&] { io::read_image(path); }, path, fragment);
    qInfo("%s: %s", qPrintable(name), qPrintable(message));
    QVERIFY(!message.isEmpty());
    QVERIFY(timer.elapsed() < 5000);
}

void ImageReaderTest::rejectsMissingCompanionFile()
{
    const QString dir = test::readers_dir();
    const std::string nhdr =
        test::write_file(temp_.filePath("alone.nhdr"), test::read_all(dir + "/nrrd/nhdr_raw_uint8.nhdr"));
    test::expect_input_error([&] { io::read_image(nhdr); }, nhdr, "");
    const std::string mhd =
        test::write_file(temp_.filePath("alone.mhd"), test::read_all(dir + "/metaimage/separate_int16.mhd"));
    test::expect_input_error([&] { io::read_image(mhd); }, mhd, "");
}

// TIFFs written by tifffile + imagecodecs (tests/generate_tiff_external.py):
// LZW with the horizontal predictor, big-endian Deflate floats, a PackBits
// stack, uncompressed; each must equal the .npy written from the same array.
// gzip files that the libdeflate path reads (one member, a tail after the
// voxels) and those it leaves to zlib (bytes after the member, a second
// member, a header CRC): the same volume as the uncompressed file. A second
// member holding part of the voxels stays refused as truncated (.nii.gz reads
// the first member only, as before); NRRD follows all members, as before.
void ImageReaderTest::gzipLayoutsReadAsBefore_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("same_as");
    QTest::addColumn<QString>("fragment"); // empty: reads like same_as
    const QString dir = test::readers_dir();
    for (const char* stem : {"nifti1_sform_uint8", "nifti2_float32"}) {
        const QString nii_name = QString("nifti/%1.nii").arg(stem);
        const QByteArray nii = test::read_all(dir + "/" + nii_name);
        QVERIFY(!nii.isEmpty());
        const QString row = QString(stem) + " ";
        QTest::newRow(qPrintable(row + "one member")) << "one.nii.gz" << gzip(nii) << nii_name << "";
        QTest::newRow(qPrintable(row + "tail after the voxels"))
            << "tail.nii.gz" << gzip(nii + QByteArray(5000, 'x')) << nii_name << "";
        QTest::newRow(qPrintable(row + "bytes after the member"))
            << "after.nii.gz" << gzip(nii) + QByteArray("not gzip at all") << nii_name << "";
        QTest::newRow(qPrintable(row + "second member after the image"))
            << "second.nii.gz" << gzip(nii) + gzip("more") << nii_name << "";
        QTest::newRow(qPrintable(row + "header crc"))
            << "hcrc.nii.gz" << gzip_with_header_crc(nii) << nii_name << "";
        QTest::newRow(qPrintable(row + "voxels split over two members"))
            << "split.nii.gz" << gzip(nii.left(nii.size() - 7)) + gzip(nii.right(7)) << nii_name
            << "truncated";
        QByteArray wrong_isize = gzip(nii);
        put_le32(wrong_isize, wrong_isize.size() - 4, static_cast<std::uint32_t>(nii.size() + 1));
        QTest::newRow(qPrintable(row + "wrong isize"))
            << "isize.nii.gz" << wrong_isize << nii_name << "corrupt";
    }
    const QByteArray nrrd = test::read_all(dir + "/nrrd/nrrd_gzip_float32.nrrd");
    const qsizetype data_at = nrrd.indexOf("\n\n") + 2;
    QVERIFY(data_at > 2);
    const QByteArray raw = gunzip(nrrd.mid(data_at));
    QVERIFY(raw.size() > 8);
    QTest::newRow("nrrd one member") << "one.nrrd" << nrrd.left(data_at) + gzip(raw)
                                     << "nrrd/nrrd_gzip_float32.nrrd"
                                     << "";
    QTest::newRow("nrrd two members")
        << "two.nrrd" << nrrd.left(data_at) + gzip(raw.left(raw.size() / 2)) + gzip(raw.mid(raw.size() / 2))
        << "nrrd/nrrd_gzip_float32.nrrd"
        << "";
    QTest::newRow("nrrd header crc") << "hcrc.nrrd" << nrrd.left(data_at) + gzip_with_header_crc(raw)
                                     << "nrrd/nrrd_gzip_float32.nrrd"
                                     << "";
    QTest::newRow("nrrd longer stream")
        << "long.nrrd" << nrrd.left(data_at) + gzip(raw + QByteArray(100, 'x'))
        << "nrrd/nrrd_gzip_float32.nrrd"
        << "";
}

void ImageReaderTest::gzipLayoutsReadAsBefore()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    QFETCH(QString, same_as);
    QFETCH(QString, fragment);
    const std::string path = test::write_file(temp_.filePath(name), bytes);
    if (!fragment.isEmpty()) {
        test::expect_input_error([&] { io::read_image(path); }, path, fragment);
        return;
    }
    const Volume expected = io::read_image(test::fixture_path(same_as));
    compare_volumes(io::read_image(path), expected);
}

void ImageReaderTest::externalTiffs_data()
{
    QTest::addColumn<QString>("stem");
    const QDir dir(QStringLiteral(MASKLENS_TEST_DATA "/tiff_external"));
    const QStringList files = dir.entryList({QStringLiteral("*.tif")}, QDir::Files, QDir::Name);
    QVERIFY(files.size() >= 4);
    for (const QString& file : files) {
        QTest::newRow(qPrintable(file)) << dir.filePath(file.chopped(4));
    }
}

void ImageReaderTest::externalTiffs()
{
    QFETCH(QString, stem);
    const Volume tiff = io::read_image((stem + ".tif").toStdString());
    const Volume npy = io::read_volume((stem + ".npy").toStdString());
    QCOMPARE(tiff.type(), npy.type());
    QCOMPARE(tiff.shape().torch_shape(), npy.shape().torch_shape());
    QCOMPARE(tiff.byte_size(), npy.byte_size());
    QVERIFY(std::memcmp(tiff.data(), npy.data(), tiff.byte_size()) == 0);
}

QTEST_APPLESS_MAIN(ImageReaderTest)
#include "tst_image_reader.moc"
