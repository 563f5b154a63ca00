// Every file in tests/fuzz/regressions/ (inputs that once crashed, hung or
// over-allocated a reader under the fuzzers, and hand-made hostile files) is
// read with read_volume, and must give the outcome that
// tests/fuzz/regressions/outcomes.txt states for it: "ok" (the file reads,
// with the shape given there) or "error" (masklens::Error of kind Input whose
// message contains the fragment given there). A crash, a sanitizer report,
// any other exception, the other outcome or a file missing from the list
// fails the test.
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QMap>
#include <QTest>

using namespace masklens;

namespace {

struct Outcome {
    bool ok = false;
    QString detail; // ok: the torch shape "[1, 1, 4, 4]"; error: a message fragment
};

const char* kOutcomes = "outcomes.txt";

// outcomes.txt: one line per input, "name<TAB>ok<TAB>shape" or
// "name<TAB>error<TAB>fragment"; '#' starts a comment line.
QMap<QString, Outcome> read_outcomes(QString* problem)
{
    QMap<QString, Outcome> outcomes;
    QFile file(QStringLiteral(MASKLENS_FUZZ_DIR "/regressions/") + kOutcomes);
    if (!file.open(QIODevice::ReadOnly | QIODevice::Text)) {
        *problem = "cannot open " + file.fileName();
        return outcomes;
    }
    int number = 0;
    while (!file.atEnd()) {
        const QString line = QString::fromUtf8(file.readLine()).trimmed();
        ++number;
        if (line.isEmpty() || line.startsWith('#')) {
            continue;
        }
        const QStringList fields = line.split('\t', Qt::SkipEmptyParts);
        if (fields.size() != 3 || (fields[1] != "ok" && fields[1] != "error") ||
            fields[2].trimmed().isEmpty() || outcomes.contains(fields[0])) {
            *problem =
                QString("%1 line %2: expected 'name<TAB>ok|error<TAB>shape|fragment' once per file: %3")
                    .arg(kOutcomes)
                    .arg(number)
                    .arg(line);
            return outcomes;
        }
        outcomes.insert(fields[0], Outcome{fields[1] == "ok", fields[2].trimmed()});
    }
    return outcomes;
}

} // namespace

class FuzzRegressionsTest : public QObject {
    Q_OBJECT

private slots:
    void everyInputHasAnOutcome();
    void readsAsStated_data();
    void readsAsStated();
};

void FuzzRegressionsTest::everyInputHasAnOutcome()
{
    QString problem;
    const QMap<QString, Outcome> outcomes = read_outcomes(&problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    const QDir root(QStringLiteral(MASKLENS_FUZZ_DIR "/regressions"));
    QStringList files;
    QDirIterator it(root.path(), QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString name = root.relativeFilePath(it.next());
        if (name != "README.md" && name != kOutcomes) {
            files.push_back(name);
        }
    }
    QVERIFY2(files.size() >= 15, "regression inputs missing");
    for (const QString& name : files) {
        QVERIFY2(outcomes.contains(name), qPrintable(name + " has no line in " + kOutcomes));
    }
    for (const QString& name : outcomes.keys()) {
        QVERIFY2(files.contains(name), qPrintable(QString(kOutcomes) + " lists a missing file: " + name));
    }
}

void FuzzRegressionsTest::readsAsStated_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<bool>("ok");
    QTest::addColumn<QString>("detail");
    QString problem;
    const QMap<QString, Outcome> outcomes = read_outcomes(&problem);
    QVERIFY2(problem.isEmpty(), qPrintable(problem));
    for (auto it = outcomes.begin(); it != outcomes.end(); ++it) {
        QTest::newRow(it.key().toUtf8().constData())
            << QStringLiteral(MASKLENS_FUZZ_DIR "/regressions/") + it.key() << it->ok << it->detail;
    }
}

void FuzzRegressionsTest::readsAsStated()
{
    QFETCH(QString, path);
    QFETCH(bool, ok);
    QFETCH(QString, detail);
    QElapsedTimer timer;
    timer.start();
    try {
        const Volume volume = io::read_volume(path.toStdString());
        QVERIFY2(ok, qPrintable("read without an error; expected one mentioning '" + detail + "'"));
        QVERIFY(volume.byte_size() > 0);
        QCOMPARE(QString::fromStdString(volume.shape().to_string()), detail);
    } catch (const Error& error) {
        const QString message = QString::fromStdString(error.message());
        QVERIFY2(!ok, qPrintable("expected the file to read; got: " + message));
        QCOMPARE(error.kind(), Error::Kind::Input);
        QVERIFY2(message.contains(detail, Qt::CaseInsensitive),
                 qPrintable(QString("message '%1' does not mention '%2'").arg(message, detail)));
    } catch (const std::exception& other) {
        QFAIL(qPrintable(QStringLiteral("unexpected exception: ") + QString::fromUtf8(other.what())));
    }
    // Every regression input is small; none may take long (hangs were findings).
    QVERIFY2(timer.elapsed() < 10000, "reading took more than 10 s");
}

QTEST_GUILESS_MAIN(FuzzRegressionsTest)
#include "tst_fuzz_regressions.moc"
