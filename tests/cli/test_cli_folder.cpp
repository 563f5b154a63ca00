// masklens-cli evaluate-folder and merge, end to end on generated folders,
// plus the engine's pairing, sharding and summary helpers.
// Long (over 800 lines) on purpose: one flat list of independent folder-run
// cases sharing the writers and the reference loader above them.
#include "masklens/engine/folder.h"
#include "npy_writer.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

namespace {

struct Run {
    int exit_code = -1;
    QByteArray out;
    QString err; // without "note:" lines
    QByteArray raw_err;
};

Run run_cli(const QStringList& arguments, const QString& working_directory = {})
{
    QProcess process;
    if (!working_directory.isEmpty()) {
        process.setWorkingDirectory(working_directory);
    }
    process.start(QStringLiteral(MASKLENS_CLI), arguments);
    Run run;
    if (!process.waitForFinished(120000)) {
        process.kill();
        run.err = "timed out (a hang)";
        return run;
    }
    run.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -2;
    run.out = process.readAllStandardOutput();
    run.raw_err = process.readAllStandardError();
    for (const QString& line : QString::fromUtf8(run.raw_err).split('\n')) {
        if (!line.startsWith("note: ") && !line.isEmpty()) {
            run.err += line + '\n';
        }
    }
    return run;
}

using masklens::testing::npy_header;

void write_file(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    file.write(bytes);
}

// A uint8 mask (or label map) of the given shape, e.g. "(1, 4)".
void write_u8(const QString& path, const QByteArray& shape, const QList<int>& values)
{
    QByteArray data;
    for (const int v : values) {
        data += char(v);
    }
    write_file(path, npy_header("|u1", shape) + data);
}

void write_f32(const QString& path, const QByteArray& shape, const QList<float>& values)
{
    QByteArray data;
    for (const float v : values) {
        data += QByteArray(reinterpret_cast<const char*>(&v), 4); // little-endian hosts
    }
    write_file(path, npy_header("<f4", shape) + data);
}

QByteArray read_file(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return file.readAll();
}

QJsonObject json_of(const QByteArray& bytes)
{
    QJsonParseError error;
    const QJsonObject object = QJsonDocument::fromJson(bytes, &error).object();
    if (error.error != QJsonParseError::NoError) {
        qWarning() << "JSON:" << error.errorString();
    }
    return object;
}

QJsonObject find_case(const QJsonObject& report, const QString& id)
{
    for (const QJsonValue& entry : report.value("cases").toArray()) {
        if (entry.toObject().value("case").toString() == id) {
            return entry.toObject();
        }
    }
    return {};
}

bool near(double a, double b)
{
    return std::abs(a - b) <= 1e-12 * std::max(1.0, std::abs(b));
}

class CliFolderTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

    QString make_dir(const QString& name)
    {
        QDir(dir_.path()).mkpath(name);
        return dir_.filePath(name);
    }

    // A folder pair with good, mismatched, corrupt, missing and extra files.
    void make_mixed(const QString& pred, const QString& target)
    {
        write_f32(pred + "/case_a.npy", "(2, 4)", {0.9f, 0.8f, 0.2f, 0.1f, 0.7f, 0.4f, 0.6f, 0.0f});
        write_u8(target + "/case_a.npy", "(2, 4)", {1, 1, 0, 0, 1, 1, 0, 0});
        write_u8(pred + "/case_b.npy", "(2, 4)", {1, 0, 0, 0, 1, 1, 1, 1});
        write_u8(target + "/case_b.npy", "(2, 4)", {1, 1, 0, 0, 0, 1, 1, 0});
        write_u8(pred + "/case_c.npy", "(2, 4)", {1, 0, 0, 0, 0, 0, 0, 0}); // shape mismatch
        write_u8(target + "/case_c.npy", "(3, 4)", {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        write_file(pred + "/case_d.npy", "PK\x03\x04 corrupt, not an npy file"); // corrupt
        write_u8(target + "/case_d.npy", "(2, 4)", {1, 0, 0, 0, 0, 0, 0, 0});
        // Different extensions pair: .npy prediction, MetaImage target.
        write_u8(pred + "/case_e.npy", "(2, 2, 2)", {1, 1, 1, 1, 0, 0, 0, 0});
        write_file(target + "/case_e.mha",
                   "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementSpacing = 1 1 1\n"
                   "ElementType = MET_UCHAR\nElementDataFile = LOCAL\n" +
                       QByteArray("\x01\x01\x01\x01\x00\x00\x00\x00", 8));
        write_u8(pred + "/only_pred.npy", "(2, 4)", {0, 0, 0, 0, 0, 0, 0, 0});     // extra
        write_u8(target + "/only_target.npy", "(2, 4)", {0, 0, 0, 0, 0, 0, 0, 0}); // missing
        write_file(target + "/dataset.json", "{}");                                // ignored
    }

private slots:
    // --- engine helpers ---------------------------------------------------

    void extensions_are_stripped()
    {
        using masklens::strip_supported_extension;
        QCOMPARE(QString::fromStdString(strip_supported_extension("case_01.nii.gz").value()),
                 QString("case_01"));
        QCOMPARE(QString::fromStdString(strip_supported_extension("A.NII.GZ").value()), QString("A"));
        QCOMPARE(QString::fromStdString(strip_supported_extension("x.y.npy").value()), QString("x.y"));
        QCOMPARE(QString::fromStdString(strip_supported_extension("b.tiff").value()), QString("b"));
        QVERIFY(!strip_supported_extension("data.raw"));
        QVERIFY(!strip_supported_extension("archive.gz"));
        QVERIFY(!strip_supported_extension(".npy"));
    }

    void pairing_reports_every_file()
    {
        const auto pairing = masklens::pair_files({"b.npy", "a.nii.gz", "c.npy", "c.nii", "x.raw"},
                                                  {"a.npy", "b.png", "c.npy", "d.mha"}, {});
        QCOMPARE(pairing.pairs.size(), std::size_t(2));
        QCOMPARE(QString::fromStdString(pairing.pairs[0].case_id), QString("a"));
        QCOMPARE(QString::fromStdString(pairing.pairs[0].prediction), QString("a.nii.gz"));
        QCOMPARE(QString::fromStdString(pairing.pairs[1].target), QString("b.png"));
        // c is claimed twice in the predictions: neither pairs, c.npy target is left alone.
        QCOMPARE(pairing.unpaired_predictions.size(), std::size_t(2));
        QVERIFY(pairing.unpaired_predictions[0].reason.find("also claimed") != std::string::npos);
        QCOMPARE(pairing.unpaired_targets.size(), std::size_t(2)); // c.npy, d.mha
        QCOMPARE(QString::fromStdString(pairing.unpaired_targets[1].file), QString("d.mha"));
        QCOMPARE(pairing.ignored_predictions, std::vector<std::string>{"x.raw"});
    }

    void shards_cover_every_case_once()
    {
        for (int count : {1, 2, 3, 7}) {
            for (std::size_t position = 0; position < 20; ++position) {
                int hits = 0;
                for (int index = 1; index <= count; ++index) {
                    hits += masklens::in_shard(position, index, count) ? 1 : 0;
                }
                QCOMPARE(hits, 1);
            }
        }
    }

    void summary_statistics_by_hand()
    {
        const double nan = std::numeric_limits<double>::quiet_NaN();
        const auto s = masklens::summarize({1.0, nan, 2.0 / 3.0, 0.0});
        QCOMPARE(s.valid, std::int64_t(3));
        QVERIFY(near(s.mean, 5.0 / 9.0));
        QVERIFY(near(s.std, std::sqrt(21.0) / 9.0)); // sample std, ddof = 1
        QVERIFY(near(s.median, 2.0 / 3.0));
        QCOMPARE(s.min, 0.0);
        QCOMPARE(s.max, 1.0);
        const auto even = masklens::summarize({4.0, 1.0, 3.0, 2.0});
        QCOMPARE(even.median, 2.5);
        const auto one = masklens::summarize({7.0});
        QVERIFY(std::isnan(one.std));
        QCOMPARE(one.median, 7.0);
        const auto none = masklens::summarize({nan});
        QCOMPARE(none.valid, std::int64_t(0));
        QVERIFY(std::isnan(none.mean));
        const auto infinite = masklens::summarize({1.0, std::numeric_limits<double>::infinity()});
        QCOMPARE(infinite.valid, std::int64_t(2));
        QVERIFY(std::isinf(infinite.mean));
        QCOMPARE(infinite.min, 1.0);
    }

    // --- end to end -----------------------------------------------------------

    void mixed_folder_reports_unpaired_and_failed_cases()
    {
        const QString pred = make_dir("mixed/pred"), target = make_dir("mixed/target");
        make_mixed(pred, target);
        const QString output = dir_.filePath("mixed/results.json");
        const Run run = run_cli({"evaluate-folder", pred, target, "--metrics", "dice,mse,tp", "-o", output});
        QCOMPARE(run.exit_code, 1);
        QVERIFY(run.out.isEmpty());
        QVERIFY2(run.err.contains("2 cases failed"), qPrintable(run.err));
        QVERIFY2(run.err.contains("unpaired prediction: only_pred.npy"), qPrintable(run.err));
        QVERIFY2(run.err.contains("unpaired target: only_target.npy"), qPrintable(run.err));
        QVERIFY(!run.raw_err.contains('\r')); // no progress bar into a pipe
        const QJsonObject report = json_of(read_file(output));
        QCOMPARE(report.value("counts").toObject().value("cases").toInt(), 5);
        QCOMPARE(report.value("counts").toObject().value("failed").toInt(), 2);
        const QJsonArray cases = report.value("cases").toArray();
        QStringList ids;
        for (const QJsonValue& entry : cases) {
            ids << entry.toObject().value("case").toString();
        }
        QCOMPARE(ids, QStringList({"case_a", "case_b", "case_c", "case_d", "case_e"}));
        QCOMPARE(find_case(report, "case_a").value("status").toString(), QString("ok"));
        QCOMPARE(find_case(report, "case_e").value("status").toString(), QString("ok"));
        QCOMPARE(find_case(report, "case_e").value("target").toString(), target + "/case_e.mha");
        QCOMPARE(find_case(report, "case_e").value("values").toObject().value("dice").toDouble(), 1.0);
        const QJsonObject c = find_case(report, "case_c");
        QCOMPARE(c.value("status").toString(), QString("error"));
        QVERIFY(c.value("error").toString().contains("does not match"));
        const QJsonObject d = find_case(report, "case_d");
        QCOMPARE(d.value("status").toString(), QString("error"));
        QVERIFY(d.value("error").toString().startsWith(pred + "/case_d.npy"));
        const QJsonObject unpaired = report.value("unpaired").toObject();
        QCOMPARE(unpaired.value("predictions").toArray().size(), 1);
        QCOMPARE(unpaired.value("predictions").toArray()[0].toObject().value("file").toString(),
                 QString("only_pred.npy"));
        QCOMPARE(unpaired.value("targets").toArray()[0].toObject().value("reason").toString(),
                 QString("no prediction with this case id"));
        QCOMPARE(report.value("ignored").toObject().value("targets").toArray(), QJsonArray({"dataset.json"}));
        // The summary counts the ok cases only.
        QCOMPARE(report.value("summary").toObject().value("tp").toObject().value("valid").toInt(), 3);

        // CSV: the same cases, unpaired rows, errors quoted.
        const Run csv =
            run_cli({"evaluate-folder", pred, target, "--metrics", "dice,mse,tp", "--format", "csv"});
        QCOMPARE(csv.exit_code, 1);
        const QStringList lines = QString::fromUtf8(csv.out).trimmed().split('\n');
        QCOMPARE(lines.value(0), QString("case,sample,label,slice,statistic,status,dice,mse,tp,error,"
                                         "masklens_version,masklens_build"));
        // Every row, the summary rows included, ends with the same two build columns.
        const QString build_tail = lines.value(1).section(',', -2);
        QVERIFY(build_tail.contains(",cuda="));
        QVERIFY(
            QString::fromUtf8(run_cli({"--version"}).out).trimmed().endsWith(build_tail.section(',', 0, 0)));
        for (const QString& line : lines.mid(1)) {
            QVERIFY2(line.endsWith(build_tail), qPrintable(line));
        }
        QCOMPARE(report.value("masklens").toObject().value("version").toString(),
                 build_tail.section(',', 0, 0));
        QVERIFY(!lines.filter(QRegularExpression("^case_c,,,,,error,,,,\"")).isEmpty());
        QVERIFY(!lines.filter(QRegularExpression("^only_target,,,,,unpaired,,,,target only_target.npy"))
                     .isEmpty());
        QCOMPARE(lines.filter(QRegularExpression("^,,,,(mean|std|median|min|max|valid),")).size(), 6);

        // --require-all turns unpaired files into a failure even when all pairs pass.
        const QString good_pred = make_dir("mixed/good_pred");
        QFile::copy(pred + "/case_a.npy", good_pred + "/case_a.npy");
        const Run strict = run_cli({"evaluate-folder", good_pred, target, "--require-all", "-o",
                                    dir_.filePath("mixed/strict.json")});
        QCOMPARE(strict.exit_code, 1);
        const Run lenient =
            run_cli({"evaluate-folder", good_pred, target, "-o", dir_.filePath("mixed/lenient.json")});
        QCOMPARE(lenient.exit_code, 0);
        QVERIFY(lenient.err.contains("unpaired target: case_b.npy"));
    }

    // Folder runs against references that are not MaskLens: the golden cases
    // (tests/generate_golden.py, PyTorch float64 references) copied into a
    // pair of folders, one case per file pair; each case's values must equal
    // its expected.json "batch" (and, for label maps, "labels").
    void values_match_golden_references()
    {
        const QString golden = QStringLiteral(MASKLENS_TEST_DATA "/golden/");
        struct Group {
            QString folder;
            QStringList cases;
        };
        const QList<Group> groups = {
            {"golden_binary",
             {"binary_2d", "binary_3d", "float64_pred", "uint8_target", "exact_01", "multichannel_2d",
              "empty_sample", "soft_target"}},
            {"golden_labels", {"label_maps"}},
        };
        int compared = 0;
        for (const Group& group : groups) {
            const QString pred = make_dir(group.folder + "/pred"),
                          target = make_dir(group.folder + "/target");
            QStringList metrics;
            for (const QString& id : group.cases) {
                QVERIFY(QFile::copy(golden + id + "/pred.npy", pred + "/" + id + ".npy"));
                QVERIFY(QFile::copy(golden + id + "/target.npy", target + "/" + id + ".npy"));
                const QJsonObject options =
                    json_of(read_file(golden + id + "/expected.json")).value("options").toObject();
                QCOMPARE(options.value("threshold").toDouble(), 0.5); // the CLI's defaults
                QCOMPARE(options.value("empty").toString(), QString("nan"));
                QCOMPARE(options.value("smooth").toDouble(), 1e-6);
                QStringList names;
                for (const QJsonValue& name : options.value("metrics").toArray()) {
                    names.push_back(name.toString());
                }
                QVERIFY(metrics.isEmpty() || metrics == names);
                metrics = names;
            }
            const Run folder = run_cli({"evaluate-folder", pred, target, "--metrics", metrics.join(',')});
            QCOMPARE(folder.exit_code, 0);
            const QJsonObject report = json_of(folder.out);
            QCOMPARE(report.value("counts").toObject().value("ok").toInt(), group.cases.size());
            for (const QString& id : group.cases) {
                const QJsonObject expected = json_of(read_file(golden + id + "/expected.json"));
                const QJsonObject entry = find_case(report, id);
                QVERIFY2(!entry.isEmpty(), qPrintable(id));
                QCOMPARE(entry.value("pairing").toString(), expected.value("pairing").toString());
                const bool exact = expected.value("pred").toObject().value("dtype").toString() == "float64";
                const double relative = exact ? 1e-10 : 1e-5, absolute = exact ? 1e-12 : 1e-7;
                auto compare = [&](const QJsonObject& want, const QJsonObject& got, const QString& where) {
                    for (auto it = want.begin(); it != want.end(); ++it) {
                        QVERIFY2(got.contains(it.key()), qPrintable(id + " " + where + ": no " + it.key()));
                        const QJsonValue value = got.value(it.key());
                        const QString context =
                            QString("%1 %2 %3: expected %4, got %5")
                                .arg(id, where, it.key(), it.value().toVariant().toString(),
                                     value.toVariant().toString());
                        if (it.value().isNull()) {
                            QVERIFY2(value.isNull(), qPrintable(context));
                        } else {
                            QVERIFY2(value.isDouble(), qPrintable(context));
                            const double reference = it.value().toDouble();
                            QVERIFY2(std::abs(value.toDouble() - reference) <=
                                         relative * std::abs(reference) + absolute,
                                     qPrintable(context));
                        }
                        ++compared;
                    }
                };
                compare(expected.value("batch").toObject(), entry.value("values").toObject(), "batch");
                if (QTest::currentTestFailed()) {
                    return;
                }
                const QJsonArray labels = expected.value("labels").toArray();
                if (expected.value("pairing").toString() == "label_maps") {
                    QVERIFY(labels.size() >= 2);
                    QCOMPARE(entry.value("labels").toArray().size(), labels.size());
                    for (qsizetype l = 0; l < labels.size(); ++l) {
                        const QJsonObject got = entry.value("labels").toArray()[l].toObject();
                        QCOMPARE(got.value("label"), labels[l].toObject().value("label"));
                        compare(labels[l].toObject().value("values").toObject(),
                                got.value("values").toObject(),
                                QString("label %1").arg(got.value("label").toInt()));
                        if (QTest::currentTestFailed()) {
                            return;
                        }
                    }
                }
            }
        }
        QVERIFY2(compared >= 8 * 16 + 11 + 3 * 9,
                 qPrintable(QString("only %1 values compared").arg(compared)));
    }

    // The bundled NIfTI samples through evaluate-folder --jobs 2 against
    // references computed with nibabel/numpy/scipy from the README's
    // definitions (tests/generate_folder_references.py): organ (binary) batch
    // values, labels (label maps) per-label values.
    void nifti_samples_in_parallel_match_references()
    {
        const QString samples = QStringLiteral(MASKLENS_SOURCE_DIR "/resources/samples/");
        const QJsonObject references =
            json_of(read_file(QStringLiteral(MASKLENS_TEST_DATA "/folder_references/samples.json")));
        QVERIFY(!references.isEmpty());
        const QString pred = make_dir("nifti/pred"), target = make_dir("nifti/target");
        for (const QString name : {"organ", "labels"}) {
            QVERIFY(QFile::copy(samples + name + "_pred.nii.gz", pred + "/" + name + ".nii.gz"));
            QVERIFY(QFile::copy(samples + name + "_target.nii.gz", target + "/" + name + ".nii.gz"));
        }
        const QStringList metrics = {"--metrics", "dice,iou,tp,hd95,assd"};
        const Run folder = run_cli(QStringList{"evaluate-folder", pred, target, "--jobs", "2"} + metrics);
        QCOMPARE(folder.exit_code, 0);
        const QJsonObject report = json_of(folder.out);
        QCOMPARE(report.value("counts").toObject().value("ok").toInt(), 2);
        auto compare = [](const QJsonObject& want, const QJsonObject& got, const QString& where) {
            QCOMPARE(want.size(), 5);
            for (auto it = want.begin(); it != want.end(); ++it) {
                const double value = got.value(it.key()).toDouble(std::nan(""));
                const double reference = it.value().toDouble();
                QVERIFY2(std::abs(value - reference) <= 1e-9 * std::max(1.0, std::abs(reference)),
                         qPrintable(QString("%1 %2: expected %3, got %4")
                                        .arg(where, it.key())
                                        .arg(reference, 0, 'g', 17)
                                        .arg(value, 0, 'g', 17)));
            }
        };
        compare(references.value("organ").toObject().value("values").toObject(),
                find_case(report, "organ").value("values").toObject(), "organ");
        const QJsonArray want = references.value("labels").toObject().value("labels").toArray();
        const QJsonArray got = find_case(report, "labels").value("labels").toArray();
        QCOMPARE(got.size(), 3);
        QCOMPARE(got.size(), want.size());
        for (qsizetype l = 0; l < want.size(); ++l) {
            QCOMPARE(got[l].toObject().value("label").toInt(), want[l].toObject().value("label").toInt());
            compare(want[l].toObject().value("values").toObject(),
                    got[l].toObject().value("values").toObject(),
                    QString("labels, label %1").arg(want[l].toObject().value("label").toInt()));
        }
    }

    void summary_against_hand_computed_values()
    {
        // Dice per case: 1, 2/3, 0, undefined (both empty) -> hand-computed summary.
        const QString pred = make_dir("summary/pred"), target = make_dir("summary/target");
        write_u8(pred + "/c1.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(target + "/c1.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(pred + "/c2.npy", "(1, 4)", {1, 0, 0, 0});
        write_u8(target + "/c2.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(pred + "/c3.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(target + "/c3.npy", "(1, 4)", {0, 0, 1, 1});
        write_u8(pred + "/c4.npy", "(1, 4)", {0, 0, 0, 0});
        write_u8(target + "/c4.npy", "(1, 4)", {0, 0, 0, 0});
        const Run run = run_cli({"evaluate-folder", pred, target, "--metrics", "dice,tp"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject report = json_of(run.out);
        const QJsonObject dice = report.value("summary").toObject().value("dice").toObject();
        QCOMPARE(dice.value("valid").toInt(), 3);
        QVERIFY(near(dice.value("mean").toDouble(), 5.0 / 9.0));
        QVERIFY(near(dice.value("std").toDouble(), std::sqrt(21.0) / 9.0));
        QVERIFY(near(dice.value("median").toDouble(), 2.0 / 3.0));
        QCOMPARE(dice.value("min").toDouble(), 0.0);
        QCOMPARE(dice.value("max").toDouble(), 1.0);
        QVERIFY(find_case(report, "c4").value("values").toObject().value("dice").isNull());
        QVERIFY(find_case(report, "c4")
                    .value("undefined")
                    .toObject()
                    .value("dice")
                    .toString()
                    .startsWith("undefined"));
        // The same reason as evaluate gives for the same case (one home: the metric table).
        const Run single = run_cli(
            {"evaluate", pred + "/c4.npy", target + "/c4.npy", "--metrics", "dice,tp", "--format", "json"});
        QCOMPARE(single.exit_code, 0);
        QCOMPARE(
            find_case(report, "c4").value("undefined").toObject().value("dice"),
            json_of(single.out).value("samples")[0].toObject().value("undefined").toObject().value("dice"));
        // tp per case: 2, 1, 0, 0.
        const QJsonObject tp = report.value("summary").toObject().value("tp").toObject();
        QCOMPARE(tp.value("valid").toInt(), 4);
        QCOMPARE(tp.value("mean").toDouble(), 0.75);
        QCOMPARE(tp.value("median").toDouble(), 0.5);
        QVERIFY(near(tp.value("std").toDouble(), std::sqrt((1.5625 + 0.0625 + 0.5625 + 0.5625) / 3.0)));
        // --empty zero makes the empty case count as 0: 1, 2/3, 0, 0.
        const Run zero = run_cli({"evaluate-folder", pred, target, "--metrics", "dice", "--empty", "zero"});
        QCOMPARE(zero.exit_code, 0);
        const QJsonObject zero_dice = json_of(zero.out).value("summary").toObject().value("dice").toObject();
        QCOMPARE(zero_dice.value("valid").toInt(), 4);
        QVERIFY(near(zero_dice.value("mean").toDouble(), 5.0 / 12.0));
        QVERIFY(near(zero_dice.value("median").toDouble(), 1.0 / 3.0));

        // Per label: label maps, label 1 dice 1 and 0, label 2 dice 2/3 and 1.
        const QString lpred = make_dir("labels/pred"), ltarget = make_dir("labels/target");
        write_u8(lpred + "/l1.npy", "(1, 4)", {1, 1, 2, 0});
        write_u8(ltarget + "/l1.npy", "(1, 4)", {1, 1, 2, 2});
        write_u8(lpred + "/l2.npy", "(1, 4)", {0, 1, 2, 2});
        write_u8(ltarget + "/l2.npy", "(1, 4)", {1, 0, 2, 2});
        const Run labels = run_cli({"evaluate-folder", lpred, ltarget, "--metrics", "dice,mse"});
        QCOMPARE(labels.exit_code, 0);
        const QJsonArray label_summary = json_of(labels.out).value("label_summary").toArray();
        QCOMPARE(label_summary.size(), 2);
        const QJsonObject one = label_summary[0].toObject();
        QCOMPARE(one.value("label").toInt(), 1);
        const QJsonObject one_dice = one.value("summary").toObject().value("dice").toObject();
        QCOMPARE(one_dice.value("mean").toDouble(), 0.5);
        QVERIFY(near(one_dice.value("std").toDouble(), std::sqrt(0.5)));
        QVERIFY(!one.value("summary").toObject().contains("mse")); // no per-label mse for label maps
        const QJsonObject two_dice =
            label_summary[1].toObject().value("summary").toObject().value("dice").toObject();
        QVERIFY(near(two_dice.value("mean").toDouble(), 5.0 / 6.0));
        QCOMPARE(two_dice.value("valid").toInt(), 2);
    }

    void pattern_pairs_by_capture_group()
    {
        const QString pred = make_dir("pattern/pred"), target = make_dir("pattern/target");
        write_u8(pred + "/model_case01_seg.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(pred + "/model_case02_seg.npy", "(1, 4)", {1, 0, 0, 0});
        write_u8(pred + "/notes.npy", "(1, 4)", {1, 0, 0, 0});
        write_u8(target + "/case01_gt.npy", "(1, 4)", {1, 1, 0, 0});
        write_u8(target + "/case02_gt.npy", "(1, 4)", {1, 1, 0, 0});
        const Run run =
            run_cli({"evaluate-folder", pred, target, "--pattern", "(case[0-9]+)", "--metrics", "dice"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject report = json_of(run.out);
        QCOMPARE(report.value("counts").toObject().value("cases").toInt(), 2);
        QCOMPARE(find_case(report, "case01").value("values").toObject().value("dice").toDouble(), 1.0);
        QCOMPARE(find_case(report, "case02").value("target").toString(), target + "/case02_gt.npy");
        const QJsonArray unpaired = report.value("unpaired").toObject().value("predictions").toArray();
        QCOMPARE(unpaired.size(), 1);
        QVERIFY(unpaired[0].toObject().value("reason").toString().contains("does not match"));
        // Per-folder patterns.
        const Run split = run_cli({"evaluate-folder", pred, target, "--pred-pattern", "^model_(.*)_seg",
                                   "--target-pattern", "^(.*)_gt\\.npy$", "--metrics", "dice"});
        QCOMPARE(split.exit_code, 0);
        QCOMPARE(json_of(split.out).value("counts").toObject().value("cases").toInt(), 2);
        // No pairs at all is an error.
        const Run none = run_cli({"evaluate-folder", pred, target, "--pattern", "(zzz)"});
        QCOMPARE(none.exit_code, 1);
        QVERIFY(none.err.contains("no pairs"));
        // Bad patterns are usage errors.
        QCOMPARE(run_cli({"evaluate-folder", pred, target, "--pattern", "case[0-9]+"}).exit_code, 2);
        QCOMPARE(run_cli({"evaluate-folder", pred, target, "--pattern", "(case"}).exit_code, 2);
    }

    void per_slice_adds_slices()
    {
        const QString pred = make_dir("slices/pred"), target = make_dir("slices/target");
        write_u8(pred + "/v.npy", "(3, 2, 2)", {1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0});
        write_u8(target + "/v.npy", "(3, 2, 2)", {1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0});
        const Run plain = run_cli({"evaluate-folder", pred, target, "--metrics", "dice"});
        QCOMPARE(plain.exit_code, 0);
        QVERIFY(!find_case(json_of(plain.out), "v").contains("samples"));
        const Run run = run_cli({"evaluate-folder", pred, target, "--metrics", "dice", "--per-slice"});
        QCOMPARE(run.exit_code, 0);
        const QJsonArray samples = find_case(json_of(run.out), "v").value("samples").toArray();
        QCOMPARE(samples.size(), 1);
        const QJsonArray slices = samples[0].toObject().value("slices").toArray();
        QCOMPARE(slices.size(), 3);
        QCOMPARE(slices[0].toObject().value("values").toObject().value("dice").toDouble(), 1.0);
        QVERIFY(near(slices[1].toObject().value("values").toObject().value("dice").toDouble(), 2.0 / 3.0));
        QVERIFY(slices[2].toObject().value("values").toObject().value("dice").isNull());
        const Run csv =
            run_cli({"evaluate-folder", pred, target, "--metrics", "dice", "--per-slice", "--format", "csv"});
        QCOMPARE(csv.exit_code, 0);
        const QString text = QString::fromUtf8(csv.out);
        QVERIFY(text.contains("\nv,0,,0,,ok,1,,"));
        QVERIFY(text.contains("\nv,0,,2,,ok,nan,,"));
    }

    void shards_merge_into_a_single_run()
    {
        const QString pred = make_dir("shards/pred"), target = make_dir("shards/target");
        make_mixed(pred, target);
        // Label maps, 3D slices, and an infinite hd95 (empty prediction, non-empty target).
        write_u8(pred + "/lab.npy", "(2, 2, 2)", {1, 2, 0, 0, 2, 2, 1, 0});
        write_u8(target + "/lab.npy", "(2, 2, 2)", {1, 2, 2, 0, 2, 0, 1, 1});
        write_u8(pred + "/inf.npy", "(2, 2)", {0, 0, 0, 0});
        write_u8(target + "/inf.npy", "(2, 2)", {0, 1, 1, 0});
        const QStringList options = {"--metrics", "dice,tp,hd95,mse", "--per-slice"};
        const QString single = dir_.filePath("shards/single.json");
        const Run full = run_cli(QStringList{"evaluate-folder", pred, target, "-o", single} + options);
        QCOMPARE(full.exit_code, 1);
        QVERIFY(json_of(read_file(single))
                    .value("summary")
                    .toObject()
                    .value("hd95")
                    .toObject()
                    .value("mean")
                    .isNull());
        for (const int count : {1, 3, 10}) {
            QStringList outputs;
            QSet<QString> seen;
            for (int k = 1; k <= count; ++k) {
                const QString output = dir_.filePath(QString("shards/s%1_%2.json").arg(k).arg(count));
                const Run shard =
                    run_cli(QStringList{"evaluate-folder", pred, target, "--shard",
                                        QString("%1/%2").arg(k).arg(count), "-o", output, "--quiet"} +
                            options);
                QVERIFY(shard.exit_code == 0 || shard.exit_code == 1);
                const QJsonObject report = json_of(read_file(output));
                QCOMPARE(report.value("shard").toObject().value("cases_total").toInt(), 7);
                for (const QJsonValue& entry : report.value("cases").toArray()) {
                    const QString id = entry.toObject().value("case").toString();
                    QVERIFY2(!seen.contains(id), qPrintable(id)); // shards are disjoint
                    seen.insert(id);
                }
                outputs.prepend(output); // merge in another order than written
            }
            QCOMPARE(seen.size(), 7);
            const QString merged = dir_.filePath(QString("shards/merged_%1.json").arg(count));
            const Run merge = run_cli(QStringList{"merge"} + outputs + QStringList{"-o", merged});
            QCOMPARE(merge.exit_code, 1); // two cases failed, as in the single run
            QCOMPARE(read_file(merged), read_file(single));
            // CSV from the merge equals the single run's CSV.
            const Run merged_csv = run_cli(QStringList{"merge"} + outputs + QStringList{"--format", "csv"});
            const Run single_csv =
                run_cli(QStringList{"evaluate-folder", pred, target, "--format", "csv"} + options);
            QCOMPARE(merged_csv.out, single_csv.out);
            QVERIFY(single_csv.out.contains(",inf,"));
        }
        const QString s1 = dir_.filePath("shards/s1_3.json"), s2 = dir_.filePath("shards/s2_3.json"),
                      s3 = dir_.filePath("shards/s3_3.json");
        // A missing shard, a repeated shard, shards of another run: refused.
        const Run missing = run_cli({"merge", s1, s2, "-o", dir_.filePath("shards/x.json")});
        QCOMPARE(missing.exit_code, 1);
        QVERIFY2(missing.err.contains("missing shards"), qPrintable(missing.err));
        const Run twice = run_cli({"merge", s1, s2, s2, s3});
        QCOMPARE(twice.exit_code, 1);
        QVERIFY(twice.err.contains("given twice"));
        const QString other = dir_.filePath("shards/other.json");
        run_cli(QStringList{"evaluate-folder", pred, target, "--shard", "3/3", "-o", other, "--threshold",
                            "0.7"} +
                options);
        const Run different = run_cli({"merge", s1, s2, other});
        QCOMPARE(different.exit_code, 1);
        QVERIFY2(different.err.contains("options differ"), qPrintable(different.err));
        QVERIFY(!QFile::exists(dir_.filePath("shards/x.json")));
        const Run not_json = run_cli({"merge", pred + "/case_a.npy"});
        QCOMPARE(not_json.exit_code, 1);
        QVERIFY(not_json.err.startsWith("error: " + pred + "/case_a.npy"));
        // Counts that are not whole numbers (or out of range) are refused, not cast.
        for (const char* bad : {"1.5", "1e300", "-9.1e18"}) {
            QByteArray text = read_file(s1);
            const qsizetype at = text.indexOf("\"index\": 1");
            QVERIFY(at >= 0);
            text.replace(at, qsizetype(std::strlen("\"index\": 1")), QByteArray("\"index\": ") + bad);
            const QString edited = dir_.filePath("shards/edited.json");
            QFile file(edited);
            QVERIFY(file.open(QIODevice::WriteOnly | QIODevice::Truncate));
            file.write(text);
            file.close();
            const Run fractional = run_cli({"merge", edited, s2, s3});
            QCOMPARE(fractional.exit_code, 1);
            QVERIFY2(fractional.err.contains("'index' is not a whole number"), qPrintable(fractional.err));
        }
    }

    // The exit-status rule of --shard and merge: an empty shard of folders that
    // have pairs is fine (0); folders with no pair at all are an error (1) in
    // every shard and in the merge, as in a single run. Only shard 1 lists the
    // unpaired files.
    void shard_exit_statuses()
    {
        const QString pred = make_dir("empty_shards/pred"), target = make_dir("empty_shards/target");
        write_u8(pred + "/case_a.npy", "(2, 2)", {1, 0, 0, 1});
        write_u8(target + "/case_a.npy", "(2, 2)", {1, 1, 0, 1});
        write_u8(pred + "/case_b.npy", "(2, 2)", {0, 0, 1, 1});
        write_u8(target + "/case_b.npy", "(2, 2)", {0, 1, 1, 1});
        write_u8(target + "/case_c.npy", "(2, 2)", {1, 1, 1, 1}); // unpaired target
        const QString single = dir_.filePath("empty_shards/single.json");
        QCOMPARE(run_cli({"evaluate-folder", pred, target, "--metrics", "dice", "-o", single}).exit_code, 0);
        QStringList outputs;
        for (int k = 1; k <= 4; ++k) { // shards 3 and 4 hold no pair
            const QString output = dir_.filePath(QString("empty_shards/s%1.json").arg(k));
            outputs << output;
            const Run shard = run_cli({"evaluate-folder", pred, target, "--metrics", "dice", "--quiet",
                                       "--shard", QString("%1/4").arg(k), "-o", output});
            QCOMPARE(shard.exit_code, 0);
            if (k == 1) {
                QVERIFY2(shard.err.contains("unpaired target: case_c.npy"), qPrintable(shard.err));
            } else {
                QVERIFY2(shard.err.isEmpty(), qPrintable(shard.err));
            }
        }
        const Run loud = run_cli(
            {"evaluate-folder", pred, target, "--metrics", "dice", "--shard", "3/4", "-o", outputs[2]});
        QCOMPARE(loud.exit_code, 0);
        QVERIFY2(!loud.err.contains("unpaired target:"), qPrintable(loud.err));
        QVERIFY2(loud.err.contains("evaluated 0 cases") && loud.err.contains("(listed by shard 1)"),
                 qPrintable(loud.err));
        const QString merged = dir_.filePath("empty_shards/merged.json");
        const Run merge = run_cli(QStringList{"merge"} + outputs + QStringList{"-o", merged});
        QCOMPARE(merge.exit_code, 0);
        QVERIFY2(merge.err.contains("unpaired target: case_c.npy"), qPrintable(merge.err));
        QCOMPARE(read_file(merged), read_file(single));

        // No pair at all: 1 from every shard and from the merge, which still
        // write their reports.
        const QString lonely = make_dir("empty_shards/lonely");
        write_u8(lonely + "/case_z.npy", "(2, 2)", {1, 0, 0, 1});
        QStringList none;
        for (int k = 1; k <= 2; ++k) {
            const QString output = dir_.filePath(QString("empty_shards/none%1.json").arg(k));
            none << output;
            const Run shard = run_cli({"evaluate-folder", lonely, target, "--metrics", "dice", "--quiet",
                                       "--shard", QString("%1/2").arg(k), "-o", output});
            QCOMPARE(shard.exit_code, 1);
            QVERIFY2(shard.err.contains("error: no pairs"), qPrintable(shard.err));
            QVERIFY(QFile::exists(output));
        }
        const QString none_merged = dir_.filePath("empty_shards/none_merged.json");
        const Run none_merge =
            run_cli(QStringList{"merge", "--quiet"} + none + QStringList{"-o", none_merged});
        QCOMPARE(none_merge.exit_code, 1);
        QVERIFY2(none_merge.err.contains("error: no pairs"), qPrintable(none_merge.err));
        const QString none_single = dir_.filePath("empty_shards/none_single.json");
        QCOMPARE(
            run_cli({"evaluate-folder", lonely, target, "--metrics", "dice", "--quiet", "-o", none_single})
                .exit_code,
            1);
        QCOMPARE(read_file(none_merged), read_file(none_single));
    }

    void jobs_give_the_same_output()
    {
        const QString pred = make_dir("jobs/pred"), target = make_dir("jobs/target");
        make_mixed(pred, target);
        for (int i = 0; i < 6; ++i) {
            write_u8(pred + QString("/more%1.npy").arg(i), "(2, 3, 3)",
                     {1, 0, i % 2, 1, 1, 0, 0, 0, 1, 1, 1, 0, i % 3 == 0, 0, 1, 1, 0, 1});
            write_u8(target + QString("/more%1.npy").arg(i), "(2, 3, 3)",
                     {1, 1, 0, 1, 0, 0, 0, 1, 1, 1, 0, 0, 1, 0, 1, i % 2, 0, 1});
        }
        const QStringList options = {"--metrics", "all", "--nsd-tolerance", "1", "--per-slice"};
        const Run one = run_cli(QStringList{"evaluate-folder", pred, target, "--jobs", "1"} + options);
        const Run two = run_cli(QStringList{"evaluate-folder", pred, target, "--jobs", "2"} + options);
        const Run four =
            run_cli(QStringList{"evaluate-folder", pred, target, "--jobs", "4", "--threads", "1"} + options);
        QCOMPARE(one.exit_code, 1);
        QCOMPARE(two.exit_code, 1);
        QVERIFY(!one.out.isEmpty());
        QCOMPARE(two.out, one.out);
        QCOMPARE(four.out, one.out);
    }

    void progress_only_on_a_terminal()
    {
        const QString pred = make_dir("progress/pred"), target = make_dir("progress/target");
        make_mixed(pred, target);
        const QString output = dir_.filePath("progress/out.json");
        const Run piped = run_cli({"evaluate-folder", pred, target, "-o", output});
        QVERIFY(!piped.raw_err.contains('\r'));
        QVERIFY(!piped.raw_err.contains("cases/s"));
        QVERIFY(piped.err.contains("evaluated 5 cases"));
        const QString script = QStandardPaths::findExecutable("script");
        if (script.isEmpty()) {
            QSKIP("util-linux 'script' is not installed: the terminal case is not checked");
        }
        // Under a pseudo-terminal the bar appears, unless --quiet.
        auto on_terminal = [&](const QString& extra) {
            QProcess process;
            process.start(script, {"-qec",
                                   QString("'%1' evaluate-folder '%2' '%3' -o '%4' %5")
                                       .arg(QStringLiteral(MASKLENS_CLI), pred, target, output, extra),
                                   "/dev/null"});
            process.waitForFinished(60000);
            return process.readAllStandardOutput();
        };
        const QByteArray shown = on_terminal("");
        QVERIFY2(shown.contains("5/5 cases"), shown.constData());
        QVERIFY(shown.contains("cases/s"));
        const QByteArray quiet = on_terminal("--quiet");
        QVERIFY(!quiet.contains("cases/s"));
        QVERIFY(quiet.contains("2 cases failed")); // failures are still told
    }

    void usage_errors_exit_2_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("one folder") << QStringList{"evaluate-folder", "a"} << "exactly two folders";
        QTest::newRow("table format")
            << QStringList{"evaluate-folder", "a", "b", "--format", "table"} << "json or csv";
        QTest::newRow("shard zero") << QStringList{"evaluate-folder", "a", "b", "--shard", "0/3"}
                                    << "--shard must be between 1 and 3";
        QTest::newRow("shard past count")
            << QStringList{"evaluate-folder", "a", "b", "--shard", "4/3"} << "--shard must be between";
        QTest::newRow("shard text") << QStringList{"evaluate-folder", "a", "b", "--shard", "2"} << "K/N";
        QTest::newRow("shard csv") << QStringList{"evaluate-folder", "a",  "b", "--shard", "1/2",
                                                  "--format",        "csv"}
                                   << "--shard writes JSON";
        QTest::newRow("jobs zero") << QStringList{"evaluate-folder", "a", "b", "--jobs", "0"} << "--jobs";
        QTest::newRow("unknown option")
            << QStringList{"evaluate-folder", "a", "b", "--fast"} << "unknown option";
        QTest::newRow("per-slice value")
            << QStringList{"evaluate-folder", "a", "b", "--per-slice=1"} << "takes no value";
        QTest::newRow("merge nothing") << QStringList{"merge"} << "merge needs";
        QTest::newRow("merge format") << QStringList{"merge", "a.json", "--format", "table"} << "json or csv";
    }

    void usage_errors_exit_2()
    {
        QFETCH(QStringList, arguments);
        QFETCH(QString, message);
        const Run run = run_cli(arguments);
        QCOMPARE(run.exit_code, 2);
        QVERIFY2(run.err.startsWith("error: "), qPrintable(run.err));
        QVERIFY2(run.err.contains(message), qPrintable(run.err));
        QCOMPARE(run.err.count('\n'), 1);
    }

    void missing_folder_exits_1()
    {
        const Run run = run_cli({"evaluate-folder", dir_.filePath("nope"), dir_.path()});
        QCOMPARE(run.exit_code, 1);
        QVERIFY2(run.err.startsWith("error: " + dir_.filePath("nope")), qPrintable(run.err));
        QCOMPARE(run.err.count('\n'), 1);
    }

    void help_mentions_the_folder_commands()
    {
        const Run run = run_cli({"--help"});
        QCOMPARE(run.exit_code, 0);
        for (const char* text : {"evaluate-folder", "--pattern", "--per-slice", "--jobs", "--shard",
                                 "--quiet", "merge SHARD.json"}) {
            QVERIFY2(run.out.contains(text), text);
        }
    }
};

} // namespace

QTEST_APPLESS_MAIN(CliFolderTest)
#include "test_cli_folder.moc"
