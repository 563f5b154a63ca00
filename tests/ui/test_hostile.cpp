// Hostile files through the app (issue 7): every file of the fuzz regression
// corpus and a set of broken files, opened through the main window as they
// would be from the File menu, must end in the error dialog (naming the file)
// with the previous dataset, its evaluation and the files themselves unchanged.
// A computation that fails after both files were read (a label map with
// negative labels) must likewise leave the previous results shown, and a
// hostile results file must be refused by `--results`' loader the same way.
#include "masklens/ui/main_window.h"
#include "ui_test_support.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QMessageBox>
#include <QTemporaryDir>
#include <QtTest>

#include <cstring>

using namespace masklens;
using namespace masklens::ui;
using namespace masklens::ui::test;

namespace {

QByteArray file_hash(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

bool write_bytes(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(bytes) == bytes.size();
}

QByteArray npy_bytes(const char* descr, const char* shape, const QByteArray& data)
{
    QByteArray header =
        QByteArray("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) {
        header += ' ';
    }
    header += '\n';
    QByteArray bytes("\x93NUMPY\x01\x00", 8);
    bytes += static_cast<char>(header.size() & 0xff);
    bytes += static_cast<char>(header.size() >> 8);
    return bytes + header + data;
}

} // namespace

class TestHostile : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void hostileFileShowsDialogAndKeepsState_data();
    void hostileFileShowsDialogAndKeepsState();
    void failingComputationKeepsPreviousResults();
    void hostileResultsFileIsRefused();

private:
    void load_seed();
    // Closes the error dialog and returns its detailed text (empty: no dialog).
    QString take_error_dialog();
    std::unique_ptr<MainWindow> window_;
    QTemporaryDir temp_;
};

void TestHostile::initTestCase()
{
    QVERIFY(temp_.isValid());
}

void TestHostile::init()
{
    window_ = std::make_unique<MainWindow>();
    window_->resize(1000, 700);
    window_->show();
    QVERIFY(QTest::qWaitForWindowExposed(window_.get()));
}

void TestHostile::cleanup()
{
    window_.reset();
}

void TestHostile::load_seed()
{
    QSignalSpy spy(window_->presenter(), &SessionPresenter::datasetChanged);
    window_->presenter()->setVolumes(seed_3d_prediction(), seed_3d_target());
    QVERIFY(spy.wait(10000));
    QTRY_VERIFY(!window_->presenter()->busy());
}

QString TestHostile::take_error_dialog()
{
    QMessageBox* box = nullptr;
    const bool shown = QTest::qWaitFor(
        [&] { return (box = window_->findChild<QMessageBox*>(QStringLiteral("errorDialog"))) != nullptr; },
        20000);
    if (!shown || !box->isVisible()) {
        return {};
    }
    const QString details = box->detailedText().isEmpty() ? box->text() : box->detailedText();
    box->close();
    if (!QTest::qWaitFor(
            [&] { return window_->findChild<QMessageBox*>(QStringLiteral("errorDialog")) == nullptr; },
            5000)) {
        return QStringLiteral("(the error dialog did not close)");
    }
    return details;
}

void TestHostile::hostileFileShowsDialogAndKeepsState_data()
{
    QTest::addColumn<QString>("path");
    // The fuzz regression corpus: crashes, leaks and bombs found so far.
    const QDir corpus(QStringLiteral(MASKLENS_SOURCE_DIR "/tests/fuzz/regressions"));
    int count = 0;
    for (const QString& name : corpus.entryList(QDir::Files, QDir::Name)) {
        if (name.endsWith(QStringLiteral(".md"))) {
            continue;
        }
        QTest::newRow(qPrintable(name)) << corpus.filePath(name);
        ++count;
    }
    QVERIFY(count >= 10);
    // More hostile files, made here.
    const QString dir = temp_.path();
    auto add = [&](const char* name, const QByteArray& bytes) {
        const QString path = dir + "/" + name;
        QVERIFY(write_bytes(path, bytes));
        QTest::newRow(name) << path;
    };
    add("empty.nii.gz", QByteArray());
    add("garbage.nii", QByteArray(400, 'x'));
    add("not_gzip.nii.gz", QByteArray(600, '\x01'));
    add("huge_shape.npy", npy_bytes("<f4", "(100000, 100000, 100000)", QByteArray(16, '\0')));
    add("truncated.npy", npy_bytes("<f4", "(2, 3, 4)", QByteArray(10, '\0')));
    add("bad_dtype.npy", npy_bytes("<c16", "(2, 2)", QByteArray(64, '\0')));
    add("garbage.npz", QByteArray("PK\x03\x04garbage", 11));
    add("garbage.tif", QByteArray("II*\0\xff\xff\xff\x7f", 8));
    add("garbage.png", QByteArray("\x89PNG\r\n\x1a\nnope", 12));
    add("bomb.nrrd",
        QByteArray("NRRD0004\ntype: float\ndimension: 3\nsizes: 4000 4000 4000\nencoding: gzip\n\n") +
            QByteArray("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8));
    add("escape.mha", QByteArray("ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementType = MET_UCHAR\n"
                                 "ElementDataFile = ../../../../etc/passwd\n"));
    QVERIFY(QDir(dir).mkpath(QStringLiteral("folder.nii")));
    QTest::newRow("a directory") << dir + "/folder.nii";
    QTest::newRow("missing file") << dir + "/no_such_file.nii.gz";
}

void TestHostile::hostileFileShowsDialogAndKeepsState()
{
    QFETCH(QString, path);
    load_seed();
    SessionPresenter* presenter = window_->presenter();
    const Evaluation* before = presenter->evaluation();
    QVERIFY(before != nullptr);
    const QByteArray hash = file_hash(path);
    const QString target = temp_.path() + "/target.npy";
    QVERIFY(write_bytes(target, npy_bytes("|u1", "(2, 2, 2)", QByteArray(8, '\1'))));

    window_->openFiles(path, target);
    const QString details = take_error_dialog();
    QVERIFY2(!details.isEmpty(), "no error dialog");
    QVERIFY2(details.contains(QFileInfo(path).fileName()), qPrintable(details));
    // The previous dataset and its numbers are still what the window shows.
    QTRY_VERIFY(!presenter->busy());
    QCOMPARE(presenter->evaluation(), before);
    QCOMPARE(presenter->shape(), seed_3d_shape());
    QCOMPARE(file_hash(path), hash);
}

void TestHostile::failingComputationKeepsPreviousResults()
{
    load_seed();
    SessionPresenter* presenter = window_->presenter();
    const Evaluation* before = presenter->evaluation();
    // Both files read fine; the evaluation refuses the negative labels.
    const QString prediction = temp_.path() + "/labels_pred.npy";
    const QString target = temp_.path() + "/labels_target.npy";
    QByteArray labels(8 * 2, '\0');
    labels[0] = static_cast<char>(0xfd); // int16 -3
    labels[1] = static_cast<char>(0xff);
    QVERIFY(write_bytes(prediction, npy_bytes("<i2", "(2, 2, 2)", labels)));
    QVERIFY(write_bytes(target, npy_bytes("<i2", "(2, 2, 2)", labels)));
    window_->openFiles(prediction, target);
    const QString details = take_error_dialog();
    QVERIFY2(details.contains(QStringLiteral("out of range")), qPrintable(details));
    QTRY_VERIFY(!presenter->busy());
    QCOMPARE(presenter->evaluation(), before);
    QCOMPARE(presenter->shape(), seed_3d_shape());
}

void TestHostile::hostileResultsFileIsRefused()
{
    const QString dir = temp_.path();
    const QList<QPair<const char*, QByteArray>> documents = {
        {"truncated.json", QByteArray("{\"metrics\": [\"dice\"], \"cases\": [{\"case\": \"a\"")},
        {"nested.json", QByteArray(100000, '[')},
        {"wrong_types.json", QByteArray("{\"metrics\": 3, \"cases\": \"none\"}")},
        {"binary.json", QByteArray("\x00\xff\xfe{}", 5)},
    };
    for (const auto& [name, bytes] : documents) {
        const QString path = dir + "/" + name;
        QVERIFY(write_bytes(path, bytes));
        QVERIFY2(!window_->openResults(path), name);
        const QString details = take_error_dialog();
        QVERIFY2(details.contains(QString::fromLatin1(name)), qPrintable(details));
    }
}

QTEST_MAIN(TestHostile)
#include "test_hostile.moc"
