// Tests of the .npz reader: stored, deflated and ZIP64 entries, key choice,
// and corrupt or truncated archives.
#include "reader_test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace masklens;

namespace {

std::uint16_t le16(const QByteArray& bytes, qsizetype at)
{
    return static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[at]) |
                                      (static_cast<std::uint8_t>(bytes[at + 1]) << 8));
}

// Offset of the first entry's data (after its local header).
qsizetype first_entry_data(const QByteArray& zip)
{
    return 30 + le16(zip, 26) + le16(zip, 28);
}

} // namespace

class NpzReaderTest : public QObject {
    Q_OBJECT

private slots:
    void readsFixtures_data();
    void readsFixtures();
    void unknownKeyListsTheKeys();
    void severalArraysNeedAKey();
    void acceptsKeyWithNpySuffix();
    void rejectsBrokenArchives_data();
    void rejectsBrokenArchives();

private:
    QTemporaryDir temp_;
};

void NpzReaderTest::readsFixtures_data()
{
    QTest::addColumn<int>("index");
    const auto fixtures = test::expected_fixtures("npz/");
    QVERIFY(fixtures.size() >= 6);
    for (int i = 0; i < fixtures.size(); ++i) {
        QTest::newRow(test::row_name(fixtures[i]).constData()) << i;
    }
}

void NpzReaderTest::readsFixtures()
{
    QFETCH(int, index);
    const auto fixture = test::expected_fixtures("npz/").at(index);
    const std::string path = test::fixture_path(fixture.file);
    const Volume volume = io::read_npz(path, fixture.options);
    QCOMPARE(volume.source(), path);
    test::compare_with_expected(volume, fixture.json);
}

void NpzReaderTest::unknownKeyListsTheKeys()
{
    const std::string path = test::fixture_path("npz/multi_deflated.npz");
    const QString message = test::expect_input_error(
        [&] {
            io::read_npz(path, {io::Layout::Auto, "prediction"});
        },
        path, "no array 'prediction'");
    QVERIFY2(message.contains("'pred'") && message.contains("'target'"), qPrintable(message));
}

void NpzReaderTest::severalArraysNeedAKey()
{
    const std::string path = test::fixture_path("npz/multi_stored.npz");
    const QString message = test::expect_input_error([&] { io::read_npz(path); }, path, "--key");
    QVERIFY2(message.contains("'pred'") && message.contains("'target'") && message.contains("2 arrays"),
             qPrintable(message));
}

void NpzReaderTest::acceptsKeyWithNpySuffix()
{
    const Volume volume =
        io::read_npz(test::fixture_path("npz/multi_stored.npz"), {io::Layout::Auto, "target.npy"});
    QCOMPARE(volume.type(), ScalarType::UInt8);
}

void NpzReaderTest::rejectsBrokenArchives_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("fragment");
    const QByteArray deflated = test::read_all(test::readers_dir() + "/npz/single_deflated.npz");
    const QByteArray stored = test::read_all(test::readers_dir() + "/npz/single_stored.npz");
    QVERIFY(!deflated.isEmpty() && !stored.isEmpty());

    QTest::newRow("empty") << QByteArray() << ""
                           << "empty";
    QTest::newRow("garbage") << QByteArray(300, 'x') << ""
                             << "bad magic";
    QTest::newRow("tiny") << QByteArray("PK") << ""
                          << "too short";
    QTest::newRow("directory cut off") << deflated.left(deflated.size() / 2) << ""
                                       << "truncated";

    QByteArray bad_block = deflated;
    bad_block[first_entry_data(deflated)] = '\xff'; // invalid deflate block type
    QTest::newRow("corrupt deflate header") << bad_block << ""
                                            << "corrupt compressed data";

    QByteArray flipped = deflated;
    for (qsizetype i = first_entry_data(deflated) + 40; i < first_entry_data(deflated) + 60; ++i) {
        flipped[i] = static_cast<char>(~flipped[i]);
    }
    QTest::newRow("corrupt deflate body") << flipped << ""
                                          << "corrupt";

    QByteArray stored_flip = stored;
    const qsizetype last = first_entry_data(stored) + 140; // inside the array data
    stored_flip[last] = static_cast<char>(stored_flip[last] ^ 0x55);
    QTest::newRow("stored data changed (CRC)") << stored_flip << ""
                                               << "CRC-32 mismatch";

    QByteArray method = stored;
    // Compression method 12 (bzip2) in the central directory entry.
    const qsizetype central = stored.indexOf(QByteArray("PK\x01\x02", 4));
    QVERIFY(central > 0);
    method[central + 10] = 12;
    QTest::newRow("bzip2 entry") << method << ""
                                 << "compression method 12";

    QByteArray renamed = stored;
    // Rename "pred.npy" to "pred.txt" everywhere: no arrays left.
    renamed.replace("pred.npy", "pred.txt");
    QTest::newRow("no arrays") << renamed << ""
                               << "no .npy arrays";

    QByteArray inner = stored;
    const qsizetype magic = inner.indexOf("NUMPY");
    QVERIFY(magic > 0);
    inner[magic] = 'X';
    QTest::newRow("entry not npy") << inner << ""
                                   << "bad magic";
}

void NpzReaderTest::rejectsBrokenArchives()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, key);
    QFETCH(QString, fragment);
    const std::string path = test::write_file(temp_.filePath("broken.npz"), bytes);
    const io::ReadOptions options{io::Layout::Auto, key.toStdString()};
    test::expect_input_error([&] { io::read_npz(path, options); }, path, fragment);
}

QTEST_APPLESS_MAIN(NpzReaderTest)
#include "tst_npz_reader.moc"
