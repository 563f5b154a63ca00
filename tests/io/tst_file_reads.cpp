// Tests of the readers' file access (engine/io/src/io_common.h, private):
// large reads with pread on two threads, and a file that shrinks or is
// rewritten after it was opened, which must give a clear error, never a
// crash or a mixture of old and new bytes.
#include "io_common.h"
#include "reader_test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstring>
#include <memory>
#include <vector>

#include <cstdio>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace masklens;

class FileReadsTest : public QObject {
    Q_OBJECT

private slots:
    void largeReadEqualsTheFile();
    void shrunkFileGivesAClearError_data();
    void shrunkFileGivesAClearError();
    void rewrittenFileGivesAClearError();

private:
    // 96 MiB (over the two-thread threshold of 64 MiB) of a byte pattern.
    std::string write_pattern(const QString& name)
    {
        bytes_.resize(std::size_t{96} << 20);
        for (std::size_t i = 0; i < bytes_.size(); ++i) {
            bytes_[i] = static_cast<char>((i * 2654435761U) >> 13);
        }
        return test::write_file(
            temp_.filePath(name),
            QByteArray::fromRawData(bytes_.data(), static_cast<qsizetype>(bytes_.size())));
    }
    QTemporaryDir temp_;
    std::vector<char> bytes_;
};

void FileReadsTest::largeReadEqualsTheFile()
{
    const std::string path = write_pattern("whole.bin");
    const io::detail::File file(path);
    std::vector<char> buffer(bytes_.size() - 1000);
    file.read_at(1000, buffer.data(), buffer.size(), "the test data");
    QVERIFY(std::memcmp(buffer.data(), bytes_.data() + 1000, buffer.size()) == 0);
    // The FILE* continues after the read, as it did with fread.
    file.read_at(0, buffer.data(), 16, "the test data");
    QVERIFY(std::memcmp(buffer.data(), bytes_.data(), 16) == 0);
}

void FileReadsTest::shrunkFileGivesAClearError_data()
{
    QTest::addColumn<qint64>("new_size");
    QTest::newRow("into the second half") << (qint64{80} << 20);
    QTest::newRow("into the first half") << (qint64{10} << 20);
    QTest::newRow("to nothing") << qint64{0};
}

void FileReadsTest::shrunkFileGivesAClearError()
{
    QFETCH(qint64, new_size);
    const std::string path = write_pattern("shrinks.bin");
    const io::detail::File file(path);
    QCOMPARE(file.size(), bytes_.size());
    QCOMPARE(::truncate(path.c_str(), static_cast<off_t>(new_size)), 0);
    std::vector<char> buffer(bytes_.size());
    test::expect_input_error([&] { file.pread_some(0, buffer.data(), buffer.size()); }, path,
                             "the file changed while it was read");
    test::expect_input_error([&] { file.read_at(0, buffer.data(), buffer.size(), "the voxel data"); }, path,
                             "the file changed while it was read");
}

void FileReadsTest::rewrittenFileGivesAClearError()
{
    const std::string path = write_pattern("rewritten.bin");
    const io::detail::File file(path);
    // Rewritten in place: the same size, other bytes, another modification time.
    std::FILE* out = std::fopen(path.c_str(), "r+b");
    QVERIFY(out != nullptr);
    const std::vector<char> other(4096, 'x');
    QCOMPARE(std::fwrite(other.data(), 1, other.size(), out), other.size());
    std::fclose(out);
    const struct timespec times[2] = {{0, UTIME_OMIT}, {2000000000, 0}};
    QCOMPARE(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    std::vector<char> buffer(bytes_.size());
    test::expect_input_error([&] { file.read_at(0, buffer.data(), buffer.size(), "the voxel data"); }, path,
                             "the file changed while it was read");
}

QTEST_GUILESS_MAIN(FileReadsTest)
#include "tst_file_reads.moc"
