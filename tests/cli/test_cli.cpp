// masklens-cli end to end: output formats and their contract, exit codes,
// one-line errors naming the file, atomic output, untouched inputs.
#include "cli_run.h"
#include "npy_writer.h"
#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

namespace {

using Run = masklens::testing::CliRun;
using masklens::testing::run_cli;

QString seed(const QString& name)
{
    return QStringLiteral(MASKLENS_TEST_DATA "/seed/") + name;
}

using masklens::testing::npy_header;

void write_file(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(bytes);
}

QByteArray file_hash(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QCryptographicHash::hash(file.readAll(), QCryptographicHash::Sha256);
}

QByteArray mha(const QByteArray& spacing)
{
    return "ObjectType = Image\nNDims = 3\nDimSize = 2 2 2\nElementSpacing = " + spacing +
           "\nElementType = MET_UCHAR\nElementDataFile = LOCAL\n" + QByteArray(8, '\x01');
}

class CliTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private slots:
    void help_lists_options()
    {
        const Run run = run_cli({"--help"});
        QCOMPARE(run.exit_code, 0);
        for (const char* option :
             {"--metrics", "--threshold", "--logits", "--empty", "--axis", "--format", "--output", "--device",
              "--layout", "--key", "--ignore-geometry", "--labels"}) {
            QVERIFY2(run.out.contains(option), option);
        }
    }

    void json_follows_the_contract()
    {
        const Run run = run_cli({"evaluate", seed("seed_2d_pred.npy"), seed("seed_2d_target.npy"), "--format",
                                 "json", "--metrics", "dice_loss,dice,tp"});
        QCOMPARE(run.exit_code, 0);
        QJsonParseError error;
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8(), &error).object();
        QCOMPARE(error.error, QJsonParseError::NoError);
        QCOMPARE(json.value("prediction").toString(), seed("seed_2d_pred.npy"));
        QCOMPARE(json.value("device").toString(), QString("cpu"));
        QCOMPARE(json.value("shape").toArray(), QJsonArray({2, 1, 4, 4}));
        QVERIFY(json.value("options").isObject());
        QVERIFY(std::abs(json.value("batch").toObject().value("dice_loss").toDouble() - 0.0625) < 1e-7);
        QCOMPARE(json.value("valid").toObject().value("dice").toInt(), 2);
        const QJsonArray samples = json.value("samples").toArray();
        QCOMPARE(samples.size(), 2);
        const QJsonObject second = samples[1].toObject();
        QCOMPARE(second.value("index").toInt(), 1);
        QVERIFY(std::abs(second.value("values").toObject().value("dice_loss").toDouble() - 0.125) < 1e-7);
        QCOMPARE(second.value("slices").toArray().size(), 1); // 2D: one slice
        QVERIFY(second.value("labels").isArray());
    }

    void nan_is_null_with_a_reason()
    {
        // An all-zero prediction against an all-zero target: Dice undefined.
        const QString pred = dir_.filePath("zeros_pred.npy");
        write_file(pred, npy_header("<f4", "(2, 2)") + QByteArray(16, '\0'));
        const Run run = run_cli({"evaluate", pred, pred, "--format", "json", "--metrics", "dice,mse"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        QVERIFY(json.value("batch").toObject().value("dice").isNull());
        QVERIFY(json.value("undefined").toObject().value("dice").toString().contains("empty"));
        QCOMPARE(json.value("valid").toObject().value("dice").toInt(), 0);
        QCOMPARE(json.value("batch").toObject().value("mse").toDouble(), 0.0);
    }

    void csv_has_tidy_rows()
    {
        const Run run = run_cli({"evaluate", seed("seed_3d_pred.npy"), seed("seed_3d_target.npy"), "--format",
                                 "csv", "--metrics", "dice_loss,dice"});
        QCOMPARE(run.exit_code, 0);
        const QStringList lines = run.out.trimmed().split('\n');
        QCOMPARE(lines.value(0),
                 QString("sample,label,slice,dice_loss,dice,masklens_version,masklens_build"));
        // batch row, sample row, two slice rows.
        QCOMPARE(lines.size(), 5);
        QVERIFY(lines[1].startsWith(",,,"));
        QVERIFY(lines[2].startsWith("0,,,"));
        QVERIFY(lines[4].startsWith("0,,1,0.0909090"));
    }

    // Every result names the code that computed it: the version `--version`
    // prints and the build options, in JSON, on every CSV row and in the table.
    void results_carry_version_and_build()
    {
        const Run version = run_cli({"--version"});
        QCOMPARE(version.exit_code, 0);
        QVERIFY(version.out.startsWith("masklens-cli "));
        const QString expected = version.out.trimmed().mid(QString("masklens-cli ").size());
        QVERIFY(!expected.isEmpty() && expected.at(0).isDigit());

        const QStringList inputs = {seed("seed_3d_pred.npy"), seed("seed_3d_target.npy")};
        const Run json = run_cli({"evaluate", inputs[0], inputs[1], "--format", "json", "--metrics", "dice"});
        QCOMPARE(json.exit_code, 0);
        const QJsonObject build =
            QJsonDocument::fromJson(json.out.toUtf8()).object().value("masklens").toObject();
        QCOMPARE(build.value("version").toString(), expected);
        QVERIFY(build.value("cuda").isBool());
        QVERIFY(!build.value("simd").toString().isEmpty());

        const Run csv = run_cli({"evaluate", inputs[0], inputs[1], "--format", "csv", "--metrics", "dice"});
        QCOMPARE(csv.exit_code, 0);
        const QStringList lines = csv.out.trimmed().split('\n');
        QVERIFY(lines.value(0).endsWith(",masklens_version,masklens_build"));
        const QString cuda = build.value("cuda").toBool() ? "on" : "off";
        const QString tail = "," + expected + ",cuda=" + cuda + " simd=" + build.value("simd").toString();
        for (int i = 1; i < lines.size(); ++i) {
            QVERIFY2(lines[i].endsWith(tail), qPrintable(lines[i]));
        }

        const Run table = run_cli({"evaluate", inputs[0], inputs[1], "--metrics", "dice"});
        QCOMPARE(table.exit_code, 0);
        QVERIFY(table.out.contains("masklens    " + expected + " (CUDA path built: "));
    }

    void table_is_the_default()
    {
        const Run run = run_cli({"evaluate", seed("seed_2d_pred.npy"), seed("seed_2d_target.npy")});
        QCOMPARE(run.exit_code, 0);
        QVERIFY(run.out.contains("batch"));
        QVERIFY(run.out.contains("sample 1"));
        QVERIFY(run.out.contains("0.0625"));
    }

    void axis_changes_the_slices()
    {
        const Run run = run_cli({"evaluate", seed("seed_3d_pred.npy"), seed("seed_3d_target.npy"), "--format",
                                 "json", "--axis", "h"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        QCOMPARE(json.value("axis").toString(), QString("h"));
        QCOMPARE(json.value("samples").toArray()[0].toObject().value("slices").toArray().size(), 3);
    }

    void output_is_written_atomically()
    {
        const QString output = dir_.filePath("out.json");
        write_file(output, "old content");
        const Run run = run_cli({"evaluate", seed("seed_2d_pred.npy"), seed("seed_2d_target.npy"), "--format",
                                 "json", "--output", output});
        QCOMPARE(run.exit_code, 0);
        QVERIFY(run.out.isEmpty());
        QFile file(output);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(!QJsonDocument::fromJson(file.readAll()).isNull());
        // No temporary file is left beside it.
        const QStringList left =
            QDir(dir_.path()).entryList(QStringList{".out.json.tmp*"}, QDir::Files | QDir::Hidden);
        QVERIFY2(left.isEmpty(), qPrintable(left.join(',')));
        // An output folder that does not exist is an error, not a crash.
        const Run bad = run_cli({"evaluate", seed("seed_2d_pred.npy"), seed("seed_2d_target.npy"), "--output",
                                 dir_.filePath("missing/out.json")});
        QCOMPARE(bad.exit_code, 1);
        QVERIFY(bad.err.startsWith("error: "));
    }

    void usage_errors_exit_2_data()
    {
        QTest::addColumn<QStringList>("arguments");
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << "missing command";
        QTest::newRow("unknown command") << QStringList{"judge"} << "unknown command";
        QTest::newRow("one file") << QStringList{"evaluate", "a.npy"} << "exactly two files";
        QTest::newRow("unknown option")
            << QStringList{"evaluate", "a", "b", "--fast"} << "unknown option '--fast'";
        QTest::newRow("bad metric") << QStringList{"evaluate", "a", "b", "--metrics", "dice,foo"}
                                    << "unknown metric 'foo'";
        QTest::newRow("bad threshold")
            << QStringList{"evaluate", "a", "b", "--threshold", "x"} << "needs a number";
        QTest::newRow("bad axis") << QStringList{"evaluate", "a", "b", "--axis", "q"} << "--axis must be";
        QTest::newRow("bad format") << QStringList{"evaluate", "a", "b", "--format", "xml"}
                                    << "--format must be";
        QTest::newRow("bad device") << QStringList{"evaluate", "a", "b", "--device", "tpu"}
                                    << "--device must be";
        QTest::newRow("missing value") << QStringList{"evaluate", "a", "b", "--threshold"} << "needs a value";
        QTest::newRow("nsd without tolerance")
            << QStringList{"evaluate", "a", "b", "--metrics", "nsd"} << "nsd needs --nsd-tolerance";
        QTest::newRow("bad percentile") << QStringList{"evaluate", "a", "b", "--percentile", "101"}
                                        << "--percentile must lie in [0, 100]";
        QTest::newRow("bad hd rule") << QStringList{"evaluate", "a", "b", "--hd-rule", "min"}
                                     << "--hd-rule must be";
        QTest::newRow("bad memory limit")
            << QStringList{"evaluate", "a", "b", "--memory-limit", "12Q"} << "unknown unit 'Q'";
        QTest::newRow("bad surface") << QStringList{"evaluate", "a", "b", "--surface", "mesh"}
                                     << "--surface must be";
        QTest::newRow("bad spacing") << QStringList{"evaluate", "a", "b", "--spacing", "1,0,1"}
                                     << "--spacing needs";
        QTest::newRow("bad lesion match") << QStringList{"evaluate", "a", "b", "--lesion-match", "dilate"}
                                          << "--lesion-match must be iou, overlap or brats";
        QTest::newRow("bad lesion connectivity")
            << QStringList{"evaluate", "a", "b", "--lesion-connectivity", "10"}
            << "--lesion-connectivity must be";
        QTest::newRow("bad lesion iou")
            << QStringList{"evaluate", "a", "b", "--lesion-iou", "1.5"} << "--lesion-iou must lie in [0, 1]";
        QTest::newRow("bad lesion size") << QStringList{"evaluate", "a", "b", "--lesion-min-size", "-1"}
                                         << "--lesion-min-size must be >= 0";
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

    void bad_input_exits_1_naming_the_file_data()
    {
        QTest::addColumn<QString>("prediction");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QStringList>("extra");
        QTest::addColumn<QString>("culprit");
        QTest::addColumn<QString>("message");
        const QString good = seed("seed_prob_pred.npy");
        const QString target = seed("seed_prob_target.npy");
        auto path = [&](const char* name) { return dir_.filePath(name); };
        write_file(path("empty.npy"), {});
        write_file(path("magic.npy"), "PK\x03\x04 not an npy file at all");
        write_file(path("truncated.npy"), npy_header("<f4", "(1, 4)") + QByteArray(7, '\0'));
        write_file(path("negative.npy"), npy_header("<f4", "(-1, 4)"));
        write_file(path("overflow.npy"), npy_header("<f4", "(4294967296, 4294967296, 4294967296)"));
        write_file(path("huge.npy"), npy_header("<f8", "(100000, 100000, 100000)"));
        write_file(path("object.npy"), npy_header("|O", "(1, 4)") + QByteArray(32, '\0'));
        write_file(path("complex.npy"), npy_header("<c8", "(1, 4)") + QByteArray(32, '\0'));
        write_file(path("corrupt.nii.gz"),
                   QByteArray("\x1f\x8b\x08\x00\x00\x00\x00\x00", 8) + QByteArray(200, 'x'));
        write_file(path("other_shape.npy"), npy_header("<f4", "(1, 3)") + QByteArray(12, '\0'));
        write_file(path("out_of_range.npy"), npy_header("<f4", "(1, 4)") + QByteArray("\x00\x00\xc0\x3f", 4) +
                                                 QByteArray(12, '\0')); // 1.5, 0, 0, 0
        write_file(path("a.mha"), mha("1 1 1"));
        write_file(path("b.mha"), mha("1 1 2.5"));
        write_file(path("data.xyz"), "whatever");
        QDir(dir_.path()).mkdir("folder.npy");
        QTest::newRow("missing") << path("nope.npy") << target << QStringList{} << path("nope.npy") << "";
        QTest::newRow("directory") << path("folder.npy") << target << QStringList{} << path("folder.npy")
                                   << "directory";
        QTest::newRow("unknown extension")
            << path("data.xyz") << target << QStringList{} << path("data.xyz") << "";
        QTest::newRow("empty") << path("empty.npy") << target << QStringList{} << path("empty.npy") << "";
        QTest::newRow("bad magic") << path("magic.npy") << target << QStringList{} << path("magic.npy") << "";
        QTest::newRow("truncated") << path("truncated.npy") << target << QStringList{}
                                   << path("truncated.npy") << "";
        QTest::newRow("negative dims")
            << path("negative.npy") << target << QStringList{} << path("negative.npy") << "";
        QTest::newRow("overflow") << path("overflow.npy") << target << QStringList{} << path("overflow.npy")
                                  << "";
        QTest::newRow("exceeds memory")
            << path("huge.npy") << target << QStringList{} << path("huge.npy") << "";
        QTest::newRow("object dtype")
            << path("object.npy") << target << QStringList{} << path("object.npy") << "";
        QTest::newRow("complex dtype")
            << path("complex.npy") << target << QStringList{} << path("complex.npy") << "";
        QTest::newRow("corrupt gzip")
            << path("corrupt.nii.gz") << target << QStringList{} << path("corrupt.nii.gz") << "";
        QTest::newRow("shape mismatch") << good << path("other_shape.npy") << QStringList{}
                                        << path("other_shape.npy") << "does not match";
        QTest::newRow("geometry mismatch") << path("a.mha") << path("b.mha")
                                           << QStringList{"--metrics", "dice"} << path("b.mha") << "spacing";
        QTest::newRow("out of range for bce") << path("out_of_range.npy") << target << QStringList{}
                                              << path("out_of_range.npy") << "outside [0, 1]";
        QTest::newRow("cuda without device") << good << target << QStringList{"--device", "cuda"} << ""
                                             << "--device cuda";
    }

    void bad_input_exits_1_naming_the_file()
    {
        QFETCH(QString, prediction);
        QFETCH(QString, target);
        QFETCH(QStringList, extra);
        QFETCH(QString, culprit);
        QFETCH(QString, message);
        const QByteArray before_prediction = file_hash(prediction);
        const QByteArray before_target = file_hash(target);
        const Run run = run_cli(QStringList{"evaluate", prediction, target} + extra);
        QCOMPARE(run.exit_code, 1);
        QVERIFY2(run.err.startsWith("error: " + culprit), qPrintable(run.err));
        QVERIFY2(run.err.contains(message), qPrintable(run.err));
        QCOMPARE(run.err.count('\n'), 1); // one line, no stack trace
        QVERIFY(run.out.isEmpty());
        // Inputs are never changed.
        QCOMPARE(file_hash(prediction), before_prediction);
        QCOMPARE(file_hash(target), before_target);
    }

    void ignore_geometry_allows_a_mismatch()
    {
        const Run run = run_cli({"evaluate", dir_.filePath("a.mha"), dir_.filePath("b.mha"), "--metrics",
                                 "dice", "--ignore-geometry", "--format", "json"});
        QCOMPARE(run.exit_code, 0);
        QCOMPARE(QJsonDocument::fromJson(run.out.toUtf8())
                     .object()
                     .value("batch")
                     .toObject()
                     .value("dice")
                     .toDouble(),
                 1.0);
    }

    void surface_distances_in_mm()
    {
        // One voxel each in a 1x1x5 (D,H,W) volume, 3 voxels apart along x with
        // 2 mm x-spacing: every distance is 6 mm (hand-derived).
        QByteArray pred(5, '\0'), target(5, '\0');
        pred[0] = 1;
        target[3] = 1;
        const QString p = dir_.filePath("one_voxel_pred.npy"), t = dir_.filePath("one_voxel_target.npy");
        write_file(p, npy_header("|u1", "(1, 1, 5)") + pred);
        write_file(t, npy_header("|u1", "(1, 1, 5)") + target);
        const Run run = run_cli({"evaluate", p, t, "--format", "json", "--metrics", "hd,hd95,assd,nsd",
                                 "--spacing", "2,1,1", "--nsd-tolerance", "5.9"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonObject batch = json.value("batch").toObject();
        QCOMPARE(batch.value("hd").toDouble(), 6.0);
        QCOMPARE(batch.value("hd95").toDouble(), 6.0);
        QCOMPARE(batch.value("assd").toDouble(), 6.0);
        QCOMPARE(batch.value("nsd").toDouble(), 0.0); // 6 mm > tolerance 5.9
        QCOMPARE(json.value("options").toObject().value("surface").toString(), QString("voxel"));
        // An empty prediction against a non-empty target: infinite, written as null with a reason.
        const QString empty = dir_.filePath("empty_pred.npy");
        write_file(empty, npy_header("|u1", "(1, 1, 5)") + QByteArray(5, '\0'));
        const Run one_empty = run_cli({"evaluate", empty, t, "--format", "json", "--metrics", "hd95"});
        QCOMPARE(one_empty.exit_code, 0);
        const QJsonObject result = QJsonDocument::fromJson(one_empty.out.toUtf8()).object();
        QVERIFY(result.value("batch").toObject().value("hd95").isNull());
        QVERIFY(result.value("undefined")
                    .toObject()
                    .value("hd95")
                    .toString()
                    .contains("exactly one mask is empty"));
    }

    // --no-slices: the same per-sample, per-label and batch values, no slices.
    void no_slices_keeps_sample_values()
    {
        const QString samples = QStringLiteral(MASKLENS_SOURCE_DIR "/resources/samples/");
        const QStringList common{"evaluate",
                                 samples + "labels_pred.nii.gz",
                                 samples + "labels_target.nii.gz",
                                 "--format",
                                 "json",
                                 "--metrics",
                                 "dice,hd,hd95,assd,nsd",
                                 "--nsd-tolerance",
                                 "1.5"};
        const Run full = run_cli(common);
        const Run lean = run_cli(common + QStringList{"--no-slices"});
        QCOMPARE(full.exit_code, 0);
        QCOMPARE(lean.exit_code, 0);
        const QJsonObject a = QJsonDocument::fromJson(full.out.toUtf8()).object();
        const QJsonObject b = QJsonDocument::fromJson(lean.out.toUtf8()).object();
        QCOMPARE(b.value("options").toObject().value("slices").toBool(true), false);
        QCOMPARE(b.value("batch"), a.value("batch"));
        QCOMPARE(b.value("labels"), a.value("labels"));
        const QJsonArray sa = a.value("samples").toArray();
        const QJsonArray sb = b.value("samples").toArray();
        QCOMPARE(sb.size(), sa.size());
        for (qsizetype n = 0; n < sa.size(); ++n) {
            const QJsonObject x = sa[n].toObject();
            const QJsonObject y = sb[n].toObject();
            QVERIFY(!x.value("slices").toArray().isEmpty());
            QVERIFY(y.value("slices").toArray().isEmpty());
            QCOMPARE(y.value("values"), x.value("values"));
            QCOMPARE(y.value("values").toObject().size(), 5);
            const QJsonArray la = x.value("labels").toArray();
            const QJsonArray lb = y.value("labels").toArray();
            QCOMPARE(lb.size(), la.size());
            for (qsizetype l = 0; l < la.size(); ++l) {
                QVERIFY(lb[l].toObject().value("slices").toArray().isEmpty());
                QCOMPARE(lb[l].toObject().value("values"), la[l].toObject().value("values"));
            }
        }
        // evaluate-folder has its own switch (--per-slice): --no-slices is refused there.
        const Run folder = run_cli({"evaluate-folder", samples, samples, "--no-slices"});
        QCOMPARE(folder.exit_code, 2);
        QVERIFY(folder.err.contains("--no-slices"));
    }

    void memory_limit_refuses_before_allocating()
    {
        // The organ prediction holds 128 x 128 x 96 float32 values (6 MiB).
        const QString samples = QStringLiteral(MASKLENS_SOURCE_DIR "/resources/samples/");
        const Run run = run_cli({"evaluate", samples + "organ_pred.nii.gz", samples + "organ_target.nii.gz",
                                 "--memory-limit", "1M"});
        QCOMPARE(run.exit_code, 1);
        QVERIFY2(run.err.startsWith("error: " + samples + "organ_pred.nii.gz: "), qPrintable(run.err));
        QVERIFY2(run.err.contains("more than the memory limit of 1048576 bytes"), qPrintable(run.err));
        const Run fits = run_cli({"evaluate", samples + "organ_pred.nii.gz", samples + "organ_target.nii.gz",
                                  "--memory-limit", "64M", "--metrics", "dice"});
        QCOMPARE(fits.exit_code, 0);
    }

    // Lesion metrics: only when asked for (their options echoed then), values
    // as tests/data/lesions/references.json (panoptica) gives them.
    void lesion_metrics_when_asked()
    {
        const QString npz = QStringLiteral(MASKLENS_TEST_DATA "/lesions/blobs3d.npz");
        const QStringList pair = {"evaluate", npz, npz, "--pred-key", "pred", "--target-key", "target"};
        const Run plain = run_cli(pair + QStringList{"--format", "json", "--no-slices"});
        QCOMPARE(plain.exit_code, 0);
        QVERIFY(!plain.out.contains("lesion_"));
        const Run run =
            run_cli(pair + QStringList{"--format", "json", "--metrics", "dice,lesion", "--no-slices"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonObject options = json.value("options").toObject();
        QCOMPARE(options.value("lesion_match").toString(), QString("iou"));
        QCOMPARE(options.value("lesion_iou").toDouble(), 0.5);
        const QJsonObject batch = json.value("batch").toObject();
        QCOMPARE(batch.value("lesion_tp").toDouble(), 4.0);
        QCOMPARE(batch.value("lesion_fp").toDouble(), 45.0);
        QCOMPARE(batch.value("lesion_fn").toDouble(), 8.0);
        QVERIFY(std::abs(batch.value("pq").toDouble() - 0.10187113016261823) < 1e-12);

        const Run csv = run_cli(pair + QStringList{"--format", "csv", "--metrics", "lesion_tp,pq",
                                                   "--lesion-match", "overlap", "--lesion-min-size", "3"});
        QCOMPARE(csv.exit_code, 0);
        QVERIFY2(csv.out.section('\n', 0, 0).contains("lesion_tp"), qPrintable(csv.out.left(200)));

        const Run wrong = run_cli(pair + QStringList{"--metrics", "lesion_tp", "--lesion-connectivity", "8"});
        QCOMPARE(wrong.exit_code, 2);
        QVERIFY2(wrong.err.contains("does not apply to 3D data"), qPrintable(wrong.err));
    }

    // The per-lesion table: JSON "lesions" and --lesion-table CSV agree with
    // tests/data/lesions/table.json (NumPy / SciPy over cc3d's labels; this
    // .npz has no geometry: 1 mm voxels), recall per size bin counts its
    // rows, and a minimum size in mm3 equals panoptica's run with the
    // voxel minimum (references.json, min_size 3).
    void lesion_table_in_json_and_csv()
    {
        const QString npz = QStringLiteral(MASKLENS_TEST_DATA "/lesions/blobs3d.npz");
        const QStringList pair = {"evaluate", npz, npz, "--pred-key", "pred", "--target-key", "target"};
        QFile file(QStringLiteral(MASKLENS_TEST_DATA "/lesions/table.json"));
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QJsonArray want = QJsonDocument::fromJson(file.readAll())
                                    .object()["cases"]
                                    .toObject()["blobs3d"]
                                    .toObject()["rows"]
                                    .toArray();
        QTemporaryDir dir;
        const QString table_path = dir.filePath("lesions.csv");
        const Run run =
            run_cli(pair + QStringList{"--format", "json", "--metrics", "lesion_tp,lesion_recall",
                                       "--lesion-match", "overlap", "--no-slices", "--lesion-table",
                                       table_path, "--lesion-size-bins", "0,10,100"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        const QJsonArray rows = json.value("lesions").toArray();
        QCOMPARE(rows.size(), want.size());
        for (int r = 0; r < rows.size(); ++r) {
            const QJsonObject got = rows[r].toObject(), w = want[r].toObject();
            QCOMPARE(got["label"].isNull(), true);
            for (const char* key : {"side", "id", "voxels", "status", "matched", "bbox_lo", "bbox_hi"}) {
                QVERIFY2(got[key] == w[key], qPrintable(QString("row %1 %2").arg(r).arg(key)));
            }
            QCOMPARE(got["volume_mm3"].toDouble(), w["voxels"].toDouble());
            for (int a = 0; a < 3; ++a) {
                const double c = w["centroid_voxel"].toArray()[a].toDouble();
                QVERIFY(std::abs(got["centroid_voxel"].toArray()[a].toDouble() - c) < 1e-9);
                QVERIFY(std::abs(got["centroid_world"].toArray()[2 - a].toDouble() - c) < 1e-9);
            }
            QVERIFY(got["dice"].isNull() == w["dice"].isNull());
            QVERIFY(std::abs(got["dice"].toDouble() - w["dice"].toDouble()) < 1e-12);
            QVERIFY(got["hd95"].isNull());
        }
        // Recall per size bin (batch): the reference's target rows by size.
        std::array<int, 3> target{}, tp{};
        for (const QJsonValue& v : want) {
            const QJsonObject w = v.toObject();
            if (w["side"].toString() == "target") {
                const double size = w["voxels"].toDouble();
                const int b = size < 10 ? 0 : size < 100 ? 1 : 2;
                ++target[static_cast<std::size_t>(b)];
                tp[static_cast<std::size_t>(b)] += w["status"].toString() == "tp" ? 1 : 0;
            }
        }
        const QJsonObject batch_bins = json.value("lesion_size_recall").toArray()[0].toObject();
        QVERIFY(batch_bins["sample"].isNull());
        const QJsonArray bins = batch_bins["bins"].toArray();
        QCOMPARE(bins.size(), 3);
        QVERIFY(bins[2].toObject()["to"].isNull());
        for (int b = 0; b < 3; ++b) {
            const QJsonObject bin = bins[b].toObject();
            QCOMPARE(bin["target"].toInt(), target[static_cast<std::size_t>(b)]);
            QCOMPARE(bin["tp"].toInt(), tp[static_cast<std::size_t>(b)]);
            QCOMPARE(bin["recall"].toDouble(),
                     double(tp[static_cast<std::size_t>(b)]) / target[static_cast<std::size_t>(b)]);
        }
        QCOMPARE(json.value("options").toObject().value("lesion_size_bins").toArray().size(), 3);
        // The CSV table: a header and the same rows.
        QFile csv(table_path);
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), want.size() + 1);
        QVERIFY(lines[0].startsWith("sample,label,side,id,voxels,volume_mm3,centroid_d"));
        const QStringList first = lines[1].split(',');
        QCOMPARE(first.size(), lines[0].split(',').size());
        QCOMPARE(first[2], want[0].toObject()["side"].toString());
        QCOMPARE(first[4].toLongLong(), want[0].toObject()["voxels"].toInteger());

        // --lesion-min-size in mm3 (1 mm voxels: the same as voxels).
        const Run sized =
            run_cli(pair + QStringList{"--format", "json", "--metrics", "lesion_tp,lesion_fp,lesion_fn",
                                       "--lesion-min-size", "3mm3", "--no-slices"});
        QCOMPARE(sized.exit_code, 0);
        const QJsonObject sized_json = QJsonDocument::fromJson(sized.out.toUtf8()).object();
        const QJsonObject sized_batch = sized_json.value("batch").toObject();
        QCOMPARE(sized_batch.value("lesion_tp").toDouble(), 4.0); // panoptica, min_size 3
        QCOMPARE(sized_batch.value("lesion_fp").toDouble(), 5.0);
        QCOMPARE(sized_batch.value("lesion_fn").toDouble(), 3.0);
        QCOMPARE(sized_json.value("options").toObject().value("lesion_min_volume_mm3").toDouble(), 3.0);

        // evaluate-folder: one table for the run, the case id first.
        QVERIFY(QDir(dir.path()).mkdir("pred") && QDir(dir.path()).mkdir("target"));
        for (const QString& id : {QString("case_a"), QString("case_b")}) {
            QVERIFY(QFile::copy(npz, dir.filePath("pred/" + id + ".npz")));
            QVERIFY(QFile::copy(npz, dir.filePath("target/" + id + ".npz")));
        }
        const QString folder_table = dir.filePath("folder_lesions.csv");
        const Run folder =
            run_cli({"evaluate-folder", dir.filePath("pred"), dir.filePath("target"), "--pred-key", "pred",
                     "--target-key", "target", "--metrics", "lesion_tp", "--lesion-match", "overlap",
                     "--lesion-table", folder_table, "-o", dir.filePath("folder.json")});
        QCOMPARE(folder.exit_code, 0);
        QFile folder_csv(folder_table);
        QVERIFY(folder_csv.open(QIODevice::ReadOnly));
        const QStringList folder_lines =
            QString::fromUtf8(folder_csv.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(folder_lines.size(), 2 * want.size() + 1);
        QVERIFY(folder_lines[0].startsWith("case,sample,label,side"));
        QVERIFY(folder_lines[1].startsWith("case_a,0,,target,1,"));
        QVERIFY(folder_lines.back().startsWith("case_b,0,,prediction,"));

        const Run no_metric = run_cli(pair + QStringList{"--metrics", "dice", "--lesion-table", table_path});
        QCOMPARE(no_metric.exit_code, 2);
        QVERIFY2(no_metric.err.contains("--lesion-table needs a lesion metric"), qPrintable(no_metric.err));
        const Run bad_bins = run_cli(pair + QStringList{"--metrics", "lesion", "--lesion-size-bins", "10,5"});
        QCOMPARE(bad_bins.exit_code, 2);
        QVERIFY2(bad_bins.err.contains("ascending"), qPrintable(bad_bins.err));
    }

    void label_maps_report_each_label()
    {
        const QString samples = QStringLiteral(MASKLENS_SOURCE_DIR "/resources/samples/");
        const Run run = run_cli({"evaluate", samples + "labels_pred.nii.gz", samples + "labels_target.nii.gz",
                                 "--format", "json", "--metrics", "dice,tp"});
        QCOMPARE(run.exit_code, 0);
        const QJsonObject json = QJsonDocument::fromJson(run.out.toUtf8()).object();
        QCOMPARE(json.value("pairing").toString(), QString("label_maps"));
        const QJsonArray labels = json.value("labels").toArray();
        QCOMPARE(labels.size(), 3);
        QCOMPARE(labels[2].toObject().value("label").toInt(), 3);
        QCOMPARE(json.value("shape").toArray().size(), 5);
    }
};

} // namespace

QTEST_APPLESS_MAIN(CliTest)
#include "test_cli.moc"
