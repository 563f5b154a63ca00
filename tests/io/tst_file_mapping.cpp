// Memory-mapped reading (masklens/io/file_mapping.h): which files are mapped,
// that a mapped volume holds the file's values, and that a file shrinking or
// changing under its mapping gives a clear error, never a crash (SIGBUS).
// The values are the test's own pattern, written into each file here.
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"
#include "reader_test_support.h"

#include <QFileInfo>
#include <QTemporaryDir>
#include <QTest>

#include <cstdint>
#include <cstring>
#include <vector>

#include <csignal>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

using namespace masklens;

namespace {

// [32, 256, 256] float32: 8 MiB, over the 4 MiB mapping threshold.
constexpr int kD = 32, kH = 256, kW = 256;
constexpr std::size_t kCount = std::size_t{kD} * kH * kW;

QByteArray float_pattern(std::size_t count)
{
    QByteArray bytes(static_cast<qsizetype>(count * 4), Qt::Uninitialized);
    for (std::size_t i = 0; i < count; ++i) {
        const float value = static_cast<float>(i % 1000) / 1000.0f;
        std::memcpy(bytes.data() + i * 4, &value, 4);
    }
    return bytes;
}

// A NIfTI-1 single file (.nii): 348-byte header, 4 extension bytes, then
// float32 voxels X = kW, Y = kH, Z = kD.
QByteArray nifti_bytes(const QByteArray& payload)
{
    QByteArray header(352, '\0');
    auto put16 = [&](int at, std::int16_t v) { std::memcpy(header.data() + at, &v, 2); };
    auto put32 = [&](int at, std::int32_t v) { std::memcpy(header.data() + at, &v, 4); };
    auto putf = [&](int at, float v) { std::memcpy(header.data() + at, &v, 4); };
    put32(0, 348);
    const std::int16_t dims[8] = {3, kW, kH, kD, 1, 1, 1, 1};
    for (int i = 0; i < 8; ++i) {
        put16(40 + 2 * i, dims[i]);
    }
    put16(70, 16); // float32
    put16(72, 32);
    for (int i = 0; i < 8; ++i) {
        putf(76 + 4 * i, 1.0f);
    }
    putf(108, 352.0f);
    std::memcpy(header.data() + 344, "n+1\0", 4);
    return header + payload;
}

// `header` + spaces + `end` + payload, the spaces chosen so that the payload
// starts at a multiple of 4 bytes (float32 elements must be aligned to be
// mapped) or, with `misalign`, one byte after one.
QByteArray padded(QByteArray header, const QByteArray& end, const QByteArray& payload, bool misalign = false)
{
    while ((header.size() + end.size()) % 4 != (misalign ? 1 : 0)) {
        header += ' ';
    }
    return header + end + payload;
}

QByteArray nrrd_bytes(const QByteArray& payload, const char* endian, bool misalign = false)
{
    const QByteArray header = QByteArray("NRRD0004\ntype: float\ndimension: 3\nsizes: ") +
                              QByteArray::number(kW) + " " + QByteArray::number(kH) + " " +
                              QByteArray::number(kD) + "\nencoding: raw\nendian: " + endian + "\n# padding";
    return padded(header, "\n\n", payload, misalign);
}

QByteArray mha_bytes(const QByteArray& payload)
{
    const QByteArray header =
        QByteArray("ObjectType = Image\nNDims = 3\nDimSize = ") + QByteArray::number(kW) + " " +
        QByteArray::number(kH) + " " + QByteArray::number(kD) +
        "\nElementType = MET_FLOAT\nElementByteOrderMSB = False\nElementDataFile = LOCAL";
    return padded(header, "\n", payload);
}

// The SIGBUS handler that was there before MaskLens's (initTestCase).
void previous_handler(int)
{
    ::_exit(42);
}

// Every element of a float32 volume against the pattern.
bool holds_pattern(const Volume& volume)
{
    if (volume.type() != ScalarType::Float32 ||
        volume.shape().elements() != static_cast<std::int64_t>(kCount)) {
        return false;
    }
    const QByteArray expected = float_pattern(kCount);
    return std::memcmp(volume.data(), expected.constData(), kCount * 4) == 0;
}

// Sums every byte (touches every page; the compiler cannot skip the reads).
std::uint64_t touch_all(const Volume& volume)
{
    std::uint64_t sum = 0;
    const auto* bytes = reinterpret_cast<const volatile unsigned char*>(volume.data());
    for (std::size_t i = 0; i < volume.byte_size(); ++i) {
        sum += bytes[i];
    }
    return sum;
}

void set_old_mtime(const std::string& path)
{
    const struct timespec times[2] = {{946684800, 0}, {946684800, 0}}; // 2000-01-01
    QCOMPARE(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
}

} // namespace

class FileMappingTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init() { io::set_file_mapping(io::FileMapping::All); }
    void cleanup() { io::set_file_mapping(io::FileMapping::Off); }
    void uncompressedFilesAreMapped_data();
    void uncompressedFilesAreMapped();
    void conversionsAndSmallFilesAreCopied_data();
    void conversionsAndSmallFilesAreCopied();
    void offByDefault();
    void gzipIsInflatedFromTheMapping();
    void compressedInputsModeCopiesUncompressedFiles();
    void releasedVolumeMemoryIsReused();
    void shrunkFileGivesAClearError_data();
    void shrunkFileGivesAClearError();
    void rewrittenFileGivesAClearError();
    void otherFaultsStillKill();

private:
    QTemporaryDir temp_;
};

void FileMappingTest::initTestCase()
{
    // A handler of the program's own, before MaskLens installs its handler
    // (with the first mapping, below): faults outside the mappings must reach
    // it (otherFaultsStillKill). It also replaces QtTest's crash handler.
    struct sigaction action {};
    action.sa_handler = previous_handler;
    sigemptyset(&action.sa_mask);
    QCOMPARE(::sigaction(SIGBUS, &action, nullptr), 0);
    io::set_file_mapping(io::FileMapping::All);
    const std::string path =
        test::write_file(temp_.filePath("first.nii"), nifti_bytes(float_pattern(kCount)));
    QVERIFY(io::is_mapped(io::read_volume(path)));
}

void FileMappingTest::uncompressedFilesAreMapped_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray payload = float_pattern(kCount);
    QTest::newRow("npy") << "a.npy"
                         << test::npy_bytes(
                                "{'descr': '<f4', 'fortran_order': False, 'shape': (32, 256, 256), }",
                                payload);
    QTest::newRow("nii") << "a.nii" << nifti_bytes(payload);
    QTest::newRow("nrrd") << "a.nrrd" << nrrd_bytes(payload, "little");
    QTest::newRow("mha") << "a.mha" << mha_bytes(payload);
}

void FileMappingTest::uncompressedFilesAreMapped()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    const std::string path = test::write_file(temp_.filePath(name), bytes);
    const Volume volume = io::read_volume(path);
    QVERIFY(io::is_mapped(volume));
    QVERIFY(volume.is_view());
    QCOMPARE(volume.shape().d, kD);
    QCOMPARE(volume.shape().w, kW);
    QVERIFY(holds_pattern(volume));
    io::check_unchanged(volume); // unchanged: no error
}

void FileMappingTest::conversionsAndSmallFilesAreCopied_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<QByteArray>("bytes");
    const QByteArray payload = float_pattern(kCount);
    QByteArray swapped = payload;
    for (qsizetype i = 0; i < swapped.size(); i += 4) {
        std::swap(swapped[i], swapped[i + 3]);
        std::swap(swapped[i + 1], swapped[i + 2]);
    }
    QTest::newRow("big-endian npy")
        << "b.npy"
        << test::npy_bytes("{'descr': '>f4', 'fortran_order': False, 'shape': (32, 256, 256), }", swapped);
    QTest::newRow("big-endian nrrd") << "b.nrrd" << nrrd_bytes(swapped, "big");
    // float32 elements that do not start on a multiple of 4 bytes.
    QTest::newRow("misaligned nrrd") << "m.nrrd" << nrrd_bytes(payload, "little", true);
    // A 3 MiB array (under the threshold): the first 3/8 of the pattern.
    QTest::newRow("small npy") << "s.npy"
                               << test::npy_bytes(
                                      "{'descr': '<f4', 'fortran_order': False, 'shape': (12, 256, 256), }",
                                      payload.left(payload.size() * 3 / 8));
}

void FileMappingTest::conversionsAndSmallFilesAreCopied()
{
    QFETCH(QString, name);
    QFETCH(QByteArray, bytes);
    const std::string path = test::write_file(temp_.filePath(name), bytes);
    const Volume volume = io::read_volume(path);
    QVERIFY(!io::is_mapped(volume));
    QVERIFY(!volume.is_view());
    const QByteArray expected = float_pattern(kCount);
    QVERIFY(std::memcmp(volume.data(), expected.constData(), volume.byte_size()) == 0);
}

void FileMappingTest::offByDefault()
{
    io::set_file_mapping(io::FileMapping::Off);
    const std::string path = test::write_file(temp_.filePath("off.nii"), nifti_bytes(float_pattern(kCount)));
    const Volume volume = io::read_volume(path);
    QVERIFY(!io::is_mapped(volume));
    QVERIFY(holds_pattern(volume));
}

void FileMappingTest::gzipIsInflatedFromTheMapping()
{
    // A .nii.gz whose compressed bytes (over 4 MiB: pseudo-random values do
    // not compress) are inflated from the mapped file with All and with
    // CompressedInputs (the app's mode), from a copy with Off: the same
    // values each time, into the Volume's own memory (not a view).
    QByteArray payload(static_cast<qsizetype>(kCount * 4), Qt::Uninitialized);
    std::uint32_t state = 12345;
    for (std::size_t i = 0; i < kCount; ++i) {
        state = state * 1664525u + 1013904223u;
        const float value = static_cast<float>(state >> 8) / 16777216.0f;
        std::memcpy(payload.data() + i * 4, &value, 4);
    }
    const QByteArray raw = nifti_bytes(payload);
    const std::string path = temp_.filePath("random.nii.gz").toStdString();
    gzFile out = ::gzopen(path.c_str(), "wb6");
    QVERIFY(out != nullptr);
    QCOMPARE(::gzwrite(out, raw.constData(), static_cast<unsigned>(raw.size())),
             static_cast<int>(raw.size()));
    QCOMPARE(::gzclose(out), Z_OK);
    QVERIFY(QFileInfo(QString::fromStdString(path)).size() > (qint64{4} << 20));
    for (const io::FileMapping mode :
         {io::FileMapping::All, io::FileMapping::CompressedInputs, io::FileMapping::Off}) {
        io::set_file_mapping(mode);
        const std::uint64_t before = io::mappings_made();
        const Volume volume = io::read_volume(path);
        QCOMPARE(io::mappings_made() - before, std::uint64_t{mode == io::FileMapping::Off ? 0u : 1u});
        QVERIFY(!volume.is_view());
        QVERIFY(std::memcmp(volume.data(), payload.constData(), kCount * 4) == 0);
    }
}

void FileMappingTest::compressedInputsModeCopiesUncompressedFiles()
{
    // The app's mode: an uncompressed file that All would map is read into
    // memory of the Volume's own (a later truncation cannot change it).
    io::set_file_mapping(io::FileMapping::CompressedInputs);
    const std::string path = test::write_file(temp_.filePath("app.nii"), nifti_bytes(float_pattern(kCount)));
    const std::uint64_t before = io::mappings_made();
    const Volume volume = io::read_volume(path);
    QCOMPARE(io::mappings_made(), before);
    QVERIFY(!io::is_mapped(volume));
    QVERIFY(!volume.is_view());
    QVERIFY(holds_pattern(volume));
}

void FileMappingTest::releasedVolumeMemoryIsReused()
{
    // engine/src/volume.cpp keeps a released large allocation for the next
    // Volume of about its size (a folder run reads case after case into
    // pages already faulted in); a much larger one gets fresh memory.
    Shape shape;
    shape.d = 64;
    shape.h = 256;
    shape.w = 256; // 16 MiB of float32
    const std::byte* first = nullptr;
    {
        Volume volume("first", ScalarType::Float32, shape);
        std::memset(volume.data(), 0x5a, volume.byte_size());
        first = volume.data();
    }
    Volume again("again", ScalarType::Float32, shape);
    QCOMPARE(static_cast<const void*>(again.data()), static_cast<const void*>(first));
    std::memset(again.data(), 0x11, again.byte_size());
    QCOMPARE(again.data_as<std::uint8_t>()[again.byte_size() - 1], std::uint8_t{0x11});
    shape.d = 256; // 64 MiB: not from the 16 MiB entry
    Volume larger("larger", ScalarType::Float32, shape);
    std::memset(larger.data(), 0x22, larger.byte_size());
    QCOMPARE(larger.data_as<std::uint8_t>()[0], std::uint8_t{0x22});
    QCOMPARE(again.data_as<std::uint8_t>()[0], std::uint8_t{0x11});
}

void FileMappingTest::shrunkFileGivesAClearError_data()
{
    QTest::addColumn<qint64>("new_size");
    QTest::newRow("to half") << (qint64{4} << 20);
    QTest::newRow("inside the header") << qint64{100};
    QTest::newRow("to nothing") << qint64{0};
}

void FileMappingTest::shrunkFileGivesAClearError()
{
    QFETCH(qint64, new_size);
    const std::string path =
        test::write_file(temp_.filePath("shrinks.nii"), nifti_bytes(float_pattern(kCount)));
    const Volume volume = io::read_volume(path);
    QVERIFY(io::is_mapped(volume));
    QCOMPARE(::truncate(path.c_str(), static_cast<off_t>(new_size)), 0);
    // Pages past the new end raise SIGBUS; the handler gives zeros instead.
    touch_all(volume);
    const auto* values = volume.data_as<float>();
    QCOMPARE(values[kCount - 1], 0.0f);
    test::expect_input_error([&] { io::check_unchanged(volume); }, path,
                             "the file changed or shrank while it was read");
}

void FileMappingTest::rewrittenFileGivesAClearError()
{
    const std::string path = test::write_file(temp_.filePath("rewritten.npy"),
                                              test::npy_bytes("{'descr': '<f4', 'fortran_order': False, "
                                                              "'shape': (32, 256, 256), }",
                                                              float_pattern(kCount)));
    set_old_mtime(path); // so that the rewrite below surely changes it
    const Volume volume = io::read_volume(path);
    QVERIFY(io::is_mapped(volume));
    io::check_unchanged(volume);
    // Same size, other bytes.
    const int descriptor = ::open(path.c_str(), O_WRONLY);
    QVERIFY(descriptor >= 0);
    const char junk[16] = "changed bytes!!";
    QCOMPARE(::pwrite(descriptor, junk, sizeof junk, 1 << 20), static_cast<ssize_t>(sizeof junk));
    ::close(descriptor);
    test::expect_input_error([&] { io::check_unchanged(volume); }, path,
                             "the file changed or shrank while it was read");
}

void FileMappingTest::otherFaultsStillKill()
{
    // A SIGBUS outside MaskLens's mappings goes to the handler that was there
    // before (initTestCase's, which exits with 42; without one, the default
    // action ends the process as it would without MaskLens's handler).
    const std::string other = test::write_file(temp_.filePath("other.bin"), QByteArray(1 << 16, 'x'));
    const pid_t child = ::fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        const int descriptor = ::open(other.c_str(), O_RDWR);
        void* base = ::mmap(nullptr, 1 << 16, PROT_READ, MAP_SHARED, descriptor, 0);
        if (base == MAP_FAILED || ::ftruncate(descriptor, 0) != 0) {
            ::_exit(3);
        }
        const volatile char value = static_cast<const volatile char*>(base)[100];
        ::_exit(value == 'x' ? 4 : 5); // not reached: SIGBUS
    }
    int status = 0;
    QCOMPARE(::waitpid(child, &status, 0), child);
    QVERIFY2(WIFEXITED(status), "the child did not exit through the previous handler");
    QCOMPARE(WEXITSTATUS(status), 42);
}

QTEST_GUILESS_MAIN(FileMappingTest)
#include "tst_file_mapping.moc"
