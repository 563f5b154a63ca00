// Every file in tests/fuzz/regressions/ (inputs that once crashed, hung or
// over-allocated a reader under the fuzzers, and hand-made hostile files) is
// read with read_volume: it must either succeed or throw masklens::Error.
// A crash, a sanitizer report or any other exception fails the test.
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QTest>

using namespace masklens;

class FuzzRegressionsTest : public QObject {
    Q_OBJECT

private slots:
    void readsWithoutCrashing_data();
    void readsWithoutCrashing();
};

void FuzzRegressionsTest::readsWithoutCrashing_data()
{
    QTest::addColumn<QString>("path");
    const QDir root(QStringLiteral(MASKLENS_FUZZ_DIR "/regressions"));
    QDirIterator files(root.path(), QDir::Files, QDirIterator::Subdirectories);
    int count = 0;
    while (files.hasNext()) {
        const QString path = files.next();
        if (path.endsWith(QStringLiteral(".md"))) {
            continue; // the folder's README
        }
        QTest::newRow(root.relativeFilePath(path).toUtf8().constData()) << path;
        ++count;
    }
    QVERIFY2(count > 0, "no regression inputs found");
}

void FuzzRegressionsTest::readsWithoutCrashing()
{
    QFETCH(QString, path);
    QElapsedTimer timer;
    timer.start();
    try {
        const Volume volume = io::read_volume(path.toStdString());
        QVERIFY(volume.byte_size() > 0);
    } catch (const Error& error) {
        QCOMPARE(error.kind(), Error::Kind::Input);
        QVERIFY(!error.message().empty());
    } catch (const std::exception& other) {
        QFAIL(qPrintable(QStringLiteral("unexpected exception: ") + QString::fromUtf8(other.what())));
    }
    // Every regression input is small; none may take long (hangs were findings).
    QVERIFY2(timer.elapsed() < 10000, "reading took more than 10 s");
}

QTEST_GUILESS_MAIN(FuzzRegressionsTest)
#include "tst_fuzz_regressions.moc"
