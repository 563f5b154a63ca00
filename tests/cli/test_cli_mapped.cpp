// The CLI's evaluate path (read_volume_pair, then cli::evaluate_command, as
// main.cpp runs them) on memory-mapped inputs: the right Dice from mapped
// files, and a clear input error (exit status 1) when a file shrinks or
// changes between reading and the end of the evaluation, never a crash; and
// a folder run (read-ahead pipeline) giving the same report mapped or not.
// The expected Dice is counted here from the pattern written into the files.
#include "command_line.h"
#include "evaluate_command.h"
#include "folder_command.h"

#include "masklens/engine/error.h"
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"
#include "masklens/service/compute_device.h"
#include "reader_test_support.h"

#include <QDir>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstdint>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace masklens;

namespace {

// [64, 256, 256]: the float32 prediction is 16 MiB, the uint8 target 4 MiB
// (both at least the 4 MiB from which files are mapped).
constexpr std::size_t kCount = std::size_t{64} * 256 * 256;
constexpr const char* kShape = "(64, 256, 256)";

float prediction_value(std::size_t i)
{
    return (static_cast<float>(i % 1000) + 0.5f) / 1000.0f; // never exactly the 0.5 threshold
}

std::uint8_t target_value(std::size_t i)
{
    return (i % 7 == 0 || i % 1000 < 300) ? 1 : 0;
}

QByteArray npy(const char* descr, const QByteArray& payload)
{
    return masklens::test::npy_bytes(
        QByteArray("{'descr': '") + descr + "', 'fortran_order': False, 'shape': " + kShape + ", }", payload);
}

std::string write(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate) || file.write(bytes) != bytes.size()) {
        qFatal("cannot write %s", qPrintable(path));
    }
    return path.toStdString();
}

} // namespace

class CliMappedTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void init() { io::set_file_mapping(io::FileMapping::All); }
    void cleanup() { io::set_file_mapping(io::FileMapping::Off); }
    void mappedPairGivesTheCountedDice();
    void shrunkInputGivesAnInputError_data();
    void shrunkInputGivesAnInputError();
    void folderRunIsTheSameMappedOrNot();

private:
    cli::EvaluateCommand command() const
    {
        const cli::ParsedCommand parsed = cli::parse_command_line(
            {"evaluate", prediction_, target_, "--metrics", "dice", "--device", "cpu"});
        return *parsed.evaluate;
    }
    void write_inputs()
    {
        QByteArray p(static_cast<qsizetype>(kCount * 4), Qt::Uninitialized);
        QByteArray t(static_cast<qsizetype>(kCount), Qt::Uninitialized);
        for (std::size_t i = 0; i < kCount; ++i) {
            const float value = prediction_value(i);
            std::memcpy(p.data() + i * 4, &value, 4);
            t[static_cast<qsizetype>(i)] = static_cast<char>(target_value(i));
        }
        prediction_ = write(temp_.filePath("pred.npy"), npy("<f4", p));
        target_ = write(temp_.filePath("target.npy"), npy("|u1", t));
    }

    QTemporaryDir temp_;
    std::string prediction_, target_;
    double dice_ = 0;
};

void CliMappedTest::initTestCase()
{
    // Dice = 2 TP / (2 TP + FP + FN), counted from the pattern.
    std::uint64_t tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < kCount; ++i) {
        const bool p = prediction_value(i) > 0.5f;
        const bool t = target_value(i) != 0;
        tp += p && t;
        fp += p && !t;
        fn += !p && t;
    }
    dice_ = 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
}

void CliMappedTest::mappedPairGivesTheCountedDice()
{
    write_inputs();
    const cli::EvaluateCommand evaluate = command();
    const service::ComputeDevice device = service::resolve_compute_device(evaluate.device);
    const auto [prediction, target] = io::read_volume_pair(evaluate.prediction_path, evaluate.prediction_read,
                                                           evaluate.target_path, evaluate.target_read);
    QVERIFY(io::is_mapped(prediction));
    QVERIFY(io::is_mapped(target));
    const cli::CommandEvaluation result = cli::evaluate_command(evaluate, device, prediction, target);
    QCOMPARE(result.evaluation.metrics.size(), std::size_t{1});
    QVERIFY(std::abs(result.evaluation.batch.at(0) - dice_) <= 1e-9 * dice_);
}

void CliMappedTest::shrunkInputGivesAnInputError_data()
{
    QTest::addColumn<bool>("shrink_target");
    QTest::addColumn<bool>("rewrite");
    QTest::newRow("prediction truncated") << false << false;
    QTest::newRow("target truncated") << true << false;
    QTest::newRow("prediction rewritten") << false << true;
}

void CliMappedTest::shrunkInputGivesAnInputError()
{
    QFETCH(bool, shrink_target);
    QFETCH(bool, rewrite);
    write_inputs();
    const std::string& changed = shrink_target ? target_ : prediction_;
    if (rewrite) {
        // An old modification time before reading, so that the rewrite below surely changes it.
        const struct timespec old_times[2] = {{946684800, 0}, {946684800, 0}};
        QCOMPARE(::utimensat(AT_FDCWD, changed.c_str(), old_times, 0), 0);
    }
    const cli::EvaluateCommand evaluate = command();
    const service::ComputeDevice device = service::resolve_compute_device(evaluate.device);
    const auto [prediction, target] = io::read_volume_pair(evaluate.prediction_path, evaluate.prediction_read,
                                                           evaluate.target_path, evaluate.target_read);
    QVERIFY(io::is_mapped(prediction) && io::is_mapped(target));
    if (rewrite) {
        // Other bytes, the same size.
        const int descriptor = ::open(changed.c_str(), O_WRONLY);
        QVERIFY(descriptor >= 0);
        const char junk[8] = {1, 2, 3, 4, 5, 6, 7, 8};
        QCOMPARE(::pwrite(descriptor, junk, sizeof junk, 4096), static_cast<ssize_t>(sizeof junk));
        ::close(descriptor);
    } else {
        QCOMPARE(::truncate(changed.c_str(), 1000), 0);
    }
    try {
        cli::evaluate_command(evaluate, device, prediction, target);
        QFAIL("no error for a file that changed under its mapping");
    } catch (const Error& error) {
        QCOMPARE(error.kind(), Error::Kind::Input);
        QCOMPARE(error.exit_code(), 1);
        QCOMPARE(error.file(), changed);
        QVERIFY2(
            QString::fromStdString(error.message()).contains("the file changed or shrank while it was read"),
            error.what());
    }
}

void CliMappedTest::folderRunIsTheSameMappedOrNot()
{
    // Three cases of the mapped size, read ahead (run_folder's pipeline) from
    // mapped files or into memory of their own: the same report, every case
    // with the counted Dice.
    write_inputs();
    QDir root(temp_.path());
    QVERIFY(root.mkpath("p") && root.mkpath("t"));
    for (const char* name : {"a.npy", "b.npy", "c.npy"}) {
        QVERIFY(QFile::copy(QString::fromStdString(prediction_), root.filePath(QString("p/") + name)));
        QVERIFY(QFile::copy(QString::fromStdString(target_), root.filePath(QString("t/") + name)));
    }
    auto run = [&](bool mapped, const QString& output, QByteArray& bytes) {
        io::set_file_mapping(mapped ? io::FileMapping::All : io::FileMapping::Off);
        const cli::ParsedCommand parsed = cli::parse_command_line(
            {"evaluate-folder", root.filePath("p").toStdString(), root.filePath("t").toStdString(),
             "--metrics", "dice", "--device", "cpu", "--quiet", "-o", root.filePath(output).toStdString()});
        QCOMPARE(cli::run_folder(*parsed.folder), 0);
        QFile file(root.filePath(output));
        QVERIFY(file.open(QIODevice::ReadOnly));
        bytes = file.readAll();
    };
    QByteArray mapped, copied;
    run(true, "mapped.json", mapped);
    run(false, "copied.json", copied);
    QVERIFY(!mapped.isEmpty());
    QCOMPARE(mapped, copied);
    const QJsonArray cases = QJsonDocument::fromJson(mapped).object().value("cases").toArray();
    QCOMPARE(cases.size(), 3);
    for (const QJsonValue& c : cases) {
        const double dice = c.toObject().value("values").toObject().value("dice").toDouble(-1);
        QVERIFY2(std::abs(dice - dice_) <= 1e-9 * dice_, qPrintable(QJsonDocument(c.toObject()).toJson()));
    }
}

QTEST_GUILESS_MAIN(CliMappedTest)
#include "test_cli_mapped.moc"
