// Multi-class semantics against MONAI 1.4.0 and PyTorch, end to end through
// masklens-cli: every case of tests/data/multiclass (written by
// tests/generate_multiclass_references.py) is evaluated with each run's flags
// and compared per (sample, label) with MONAI's reduction="none" values.
// Also the bad inputs of the decision rule: each a one-line error.
#include "cli_run.h"
#include "npy_writer.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

namespace {

using Run = masklens::testing::CliRun;
using masklens::testing::run_cli;

QString case_dir(const QString& name)
{
    return QStringLiteral(MASKLENS_TEST_DATA "/multiclass/") + name;
}

QJsonObject read_json(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

// MONAI's NaN is null in the references, NaN is null in MaskLens's JSON too.
bool same_value(const QJsonValue& expected, const QJsonValue& actual, double relative, double absolute)
{
    if (expected.isNull() || actual.isNull()) {
        return expected.isNull() && actual.isNull();
    }
    const double e = expected.toDouble(), a = actual.toDouble();
    return std::abs(a - e) <= absolute + relative * std::abs(e);
}

// Evaluates a reference case folder with one run's flags after `options`
// (JSON output); false with the CLI's error when it does not exit 0.
bool evaluate_run(const QString& dir, const QJsonObject& entry, const QStringList& options,
                  QJsonObject& report, QString& error)
{
    QStringList arguments =
        QStringList{"evaluate", dir + "/pred.npy", dir + "/target.npy", "--format", "json"} + options;
    for (const QJsonValue& flag : entry.value("flags").toArray()) {
        arguments << flag.toString();
    }
    const Run result = run_cli(arguments);
    error = result.err;
    report = QJsonDocument::fromJson(result.out.toUtf8()).object();
    return result.exit_code == 0;
}

using masklens::testing::npy_header;

// shape as numpy prints it, e.g. "(1, 3, 2, 2)".
void write_npy(const QString& path, const char* dtype, const QByteArray& shape, const QByteArray& data)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(npy_header(dtype, shape));
    file.write(data);
}

template <class T> QByteArray bytes_of(const std::vector<T>& values)
{
    return QByteArray(reinterpret_cast<const char*>(values.data()),
                      static_cast<qsizetype>(values.size() * sizeof(T)));
}

class MulticlassTest : public QObject {
    Q_OBJECT

    QTemporaryDir dir_;

private slots:
    void monai_per_label_values_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("run");
        const QStringList cases = QDir(QStringLiteral(MASKLENS_TEST_DATA "/multiclass"))
                                      .entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QVERIFY(cases.size() >= 6);
        for (const QString& name : cases) {
            const QJsonArray runs = read_json(case_dir(name) + "/expected.json").value("runs").toArray();
            if (!runs.first().toObject().contains("labels")) {
                continue; // bce_precision: its own test
            }
            for (int r = 0; r < runs.size(); ++r) {
                QTest::newRow(qPrintable(QString("%1 #%2").arg(name).arg(r))) << name << r;
            }
        }
    }

    // Per (sample, label): dice, iou, precision, recall, specificity and the
    // four counts as MONAI computes them. Counts exactly, ratios within 1e-12
    // (both are divisions of the same integers in double).
    void monai_per_label_values()
    {
        QFETCH(QString, name);
        QFETCH(int, run);
        const QJsonObject expected = read_json(case_dir(name) + "/expected.json");
        const QJsonObject entry = expected.value("runs").toArray().at(run).toObject();
        QJsonObject report;
        QString error;
        QVERIFY2(
            evaluate_run(case_dir(name), entry,
                         {"--no-slices", "--metrics", "dice,iou,precision,recall,specificity,tp,fp,fn,tn"},
                         report, error),
            qPrintable(error));
        const QJsonArray labels = entry.value("labels").toArray();
        const QJsonObject values = entry.value("values").toObject();
        const QJsonArray samples = report.value("samples").toArray();
        QCOMPARE(samples.size(), values.value("dice").toArray().size());
        for (int n = 0; n < samples.size(); ++n) {
            const QJsonArray reported = samples.at(n).toObject().value("labels").toArray();
            QCOMPARE(reported.size(), labels.size());
            for (int l = 0; l < labels.size(); ++l) {
                const QJsonObject label = reported.at(l).toObject();
                QCOMPARE(label.value("label").toInt(), labels.at(l).toInt());
                const QJsonObject got = label.value("values").toObject();
                for (auto it = values.begin(); it != values.end(); ++it) {
                    // MONAI's ConfusionMatrixMetric is NaN at a zero denominator
                    // whatever DiceMetric's ignore_empty; MaskLens's --empty applies
                    // to every hard ratio (a convention the README names), so the
                    // ratios are compared in the runs without --empty one.
                    const bool ratio =
                        it.key() == "precision" || it.key() == "recall" || it.key() == "specificity";
                    if (ratio && entry.value("flags").toArray().contains(QJsonValue("--empty"))) {
                        continue;
                    }
                    const QJsonValue want = it.value().toArray().at(n).toArray().at(l);
                    QVERIFY2(same_value(want, got.value(it.key()), 1e-12, 0),
                             qPrintable(QString("sample %1 label %2 %3: MONAI %4, MaskLens %5")
                                            .arg(n)
                                            .arg(labels.at(l).toInt())
                                            .arg(it.key())
                                            .arg(want.toVariant().toString(),
                                                 got.value(it.key()).toVariant().toString())));
                }
            }
        }
    }

    // MONAI's reduction "mean" of DiceMetric and MeanIoU: per sample the mean
    // over the classes with a value (NaN skipped), then the mean over the
    // samples that have one: --class-reduction mean, from the same references.
    void monai_mean_reduction_data() { monai_per_label_values_data(); }
    void monai_mean_reduction()
    {
        QFETCH(QString, name);
        QFETCH(int, run);
        const QJsonObject entry =
            read_json(case_dir(name) + "/expected.json").value("runs").toArray().at(run).toObject();
        QJsonObject report;
        QString error;
        QVERIFY2(evaluate_run(case_dir(name), entry,
                              {"--no-slices", "--metrics", "dice,iou", "--class-reduction", "mean"}, report,
                              error),
                 qPrintable(error));
        const QJsonArray samples = report.value("samples").toArray();
        for (const QString metric : {"dice", "iou"}) {
            const QJsonArray per_label = entry.value("values").toObject().value(metric).toArray();
            double batch_sum = 0;
            int batch_count = 0;
            for (int n = 0; n < samples.size(); ++n) {
                double sum = 0;
                int count = 0;
                for (const QJsonValue& value : per_label.at(n).toArray()) {
                    if (!value.isNull()) {
                        sum += value.toDouble();
                        ++count;
                    }
                }
                const QJsonValue got = samples.at(n).toObject().value("values").toObject().value(metric);
                if (count == 0) {
                    QVERIFY(got.isNull());
                    continue;
                }
                QVERIFY2(same_value(sum / count, got, 1e-12, 0), qPrintable(QString("%1 sample %2: %3 vs %4")
                                                                                .arg(metric)
                                                                                .arg(n)
                                                                                .arg(sum / count)
                                                                                .arg(got.toDouble())));
                batch_sum += sum / count;
                ++batch_count;
            }
            const QJsonValue batch = report.value("batch").toObject().value(metric);
            QVERIFY(batch_count == 0 ? batch.isNull() : same_value(batch_sum / batch_count, batch, 1e-12, 0));
        }
    }

    void monai_losses_and_distances_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("run");
        const QString root = QStringLiteral(MASKLENS_TEST_DATA "/multiclass_losses/");
        const QStringList cases = QDir(root).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QVERIFY(cases.size() >= 4);
        for (const QString& name : cases) {
            const QJsonArray runs = read_json(root + name + "/expected.json").value("runs").toArray();
            for (int r = 0; r < runs.size(); ++r) {
                QTest::newRow(qPrintable(QString("%1 #%2").arg(name).arg(r))) << name << r;
            }
        }
    }

    // MONAI's DiceLoss, TverskyLoss, GeneralizedDiceLoss, DiceCELoss,
    // FocalLoss(use_softmax) and F.cross_entropy per sample and for the batch,
    // and its distance metrics per (sample, label), from float64 references:
    // 1e-5 relative (MaskLens's per-element terms are float32). Conventions
    // the README names: where one surface is empty MaskLens's hd95 is +inf,
    // MONAI's NaN (torch.quantile over +inf values).
    void monai_losses_and_distances()
    {
        QFETCH(QString, name);
        QFETCH(int, run);
        const QString dir = QStringLiteral(MASKLENS_TEST_DATA "/multiclass_losses/") + name;
        const QJsonObject entry =
            read_json(dir + "/expected.json").value("runs").toArray().at(run).toObject();
        const QJsonObject metrics = entry.value("metrics").toObject();
        const QJsonObject labels = entry.value("labels").toObject();
        QStringList names = metrics.keys() + labels.keys();
        QJsonObject report;
        QString error;
        QVERIFY2(evaluate_run(dir, entry, {"--no-slices", "--metrics", names.join(',')}, report, error),
                 qPrintable(error));
        const QJsonArray samples = report.value("samples").toArray();
        const auto number = [](const QJsonValue& value) {
            if (value.isString()) {
                return value.toString() == "inf" ? std::numeric_limits<double>::infinity()
                                                 : -std::numeric_limits<double>::infinity();
            }
            return value.isNull() ? std::numeric_limits<double>::quiet_NaN() : value.toDouble();
        };
        // MaskLens writes +inf as null with the reason under "undefined".
        const auto masklens_value = [&](const QJsonObject& holder, const QString& key) {
            const QJsonValue value = holder.value("values").toObject().value(key);
            if (value.isNull() &&
                holder.value("undefined").toObject().value(key).toString().startsWith("infinite")) {
                return std::numeric_limits<double>::infinity();
            }
            return number(value);
        };
        const auto agrees = [](double want, double got) {
            if (std::isnan(want) || std::isnan(got) || std::isinf(want) || std::isinf(got)) {
                return (std::isnan(want) && std::isnan(got)) || want == got;
            }
            return std::abs(got - want) <= 1e-5 * std::abs(want) + 1e-12;
        };
        for (auto it = metrics.begin(); it != metrics.end(); ++it) {
            const QJsonObject want = it.value().toObject();
            const QJsonArray per_sample = want.value("samples").toArray();
            QCOMPARE(samples.size(), per_sample.size());
            for (int n = 0; n < samples.size(); ++n) {
                const double got = masklens_value(samples.at(n).toObject(), it.key());
                QVERIFY2(agrees(number(per_sample.at(n)), got),
                         qPrintable(QString("%1 sample %2: MONAI %3, MaskLens %4")
                                        .arg(it.key())
                                        .arg(n)
                                        .arg(number(per_sample.at(n)), 0, 'g', 17)
                                        .arg(got, 0, 'g', 17)));
            }
            const double got = number(report.value("batch").toObject().value(it.key())); // finite here
            QVERIFY2(agrees(number(want.value("batch")), got),
                     qPrintable(QString("%1 batch: MONAI %2, MaskLens %3")
                                    .arg(it.key())
                                    .arg(number(want.value("batch")), 0, 'g', 17)
                                    .arg(got, 0, 'g', 17)));
        }
        for (auto it = labels.begin(); it != labels.end(); ++it) {
            const QJsonObject want = it.value().toObject();
            const QJsonArray wanted_labels = want.value("labels").toArray();
            const QJsonArray values = want.value("values").toArray();
            for (int n = 0; n < samples.size(); ++n) {
                const QJsonArray reported = samples.at(n).toObject().value("labels").toArray();
                QCOMPARE(reported.size(), wanted_labels.size());
                for (int l = 0; l < wanted_labels.size(); ++l) {
                    const QJsonObject label = reported.at(l).toObject();
                    QCOMPARE(label.value("label").toInt(), wanted_labels.at(l).toInt());
                    const double got = masklens_value(label, it.key());
                    double expected = number(values.at(n).toArray().at(l));
                    const double hd = masklens_value(label, "hd");
                    if (it.key().startsWith("hd95") && std::isnan(expected) && std::isinf(hd)) {
                        expected = std::numeric_limits<double>::infinity(); // the named convention
                    }
                    QVERIFY2(agrees(expected, got),
                             qPrintable(QString("%1 sample %2 label %3: MONAI %4, MaskLens %5")
                                            .arg(it.key())
                                            .arg(n)
                                            .arg(wanted_labels.at(l).toInt())
                                            .arg(expected, 0, 'g', 17)
                                            .arg(got, 0, 'g', 17)));
                }
            }
        }
    }

    // bce of probabilities near 0 and 1, denormals included, against PyTorch
    // in float64: the per-sample value within 1e-6 relative. (PyTorch's
    // float64 log(1 - p) is 0 for p < 2^-53, where MaskLens's log1p gives p;
    // those terms are below 1e-37 and vanish in the mean.)
    void bce_precision_near_zero()
    {
        const QJsonObject expected = read_json(case_dir("bce_precision") + "/expected.json");
        const QJsonObject entry = expected.value("runs").toArray().at(0).toObject();
        QJsonObject report;
        QString error;
        QVERIFY2(evaluate_run(case_dir("bce_precision"), entry, {}, report, error), qPrintable(error));
        const QJsonObject sample = report.value("samples").toArray().at(0).toObject();
        const double want =
            entry.value("values").toObject().value("bce").toArray().at(0).toArray().at(0).toDouble();
        const double got = sample.value("values").toObject().value("bce").toDouble();
        QVERIFY2(
            std::abs(got - want) <= 1e-6 * std::abs(want),
            qPrintable(QString("bce %1, PyTorch float64 %2").arg(got, 0, 'g', 17).arg(want, 0, 'g', 17)));
        const double slice = sample.value("slices")
                                 .toArray()
                                 .at(0)
                                 .toObject()
                                 .value("values")
                                 .toObject()
                                 .value("bce")
                                 .toDouble();
        QVERIFY(std::abs(slice - want) <= 1e-6 * std::abs(want));
    }

    // A certain, wrong prediction costs exactly 100 whatever the
    // probability, denormals included (float32's log of a denormal is not
    // clamped at FLT_MIN's -87.3), and a probability near 0 against t = 0
    // costs -log1p(-p) to float precision.
    void bce_clamps_denormals_and_keeps_small_terms()
    {
        const QString pred = dir_.filePath("tiny_pred.npy"), target = dir_.filePath("tiny_target.npy");
        const std::vector<float> p{1e-45F, 1e-40F, 3e-39F, 1e-6F};
        const std::vector<std::uint8_t> t{1, 1, 1, 0};
        write_npy(pred, "<f4", "(4,)", bytes_of(p));
        write_npy(target, "|u1", "(4,)", bytes_of(t));
        for (int i = 0; i < 4; ++i) {
            const QString one_pred = dir_.filePath(QString("tiny_pred_%1.npy").arg(i));
            const QString one_target = dir_.filePath(QString("tiny_target_%1.npy").arg(i));
            write_npy(one_pred, "<f4", "(1, 1)",
                      bytes_of(std::vector<float>{p[static_cast<std::size_t>(i)]}));
            write_npy(one_target, "|u1", "(1, 1)",
                      bytes_of(std::vector<std::uint8_t>{t[static_cast<std::size_t>(i)]}));
            const Run result =
                run_cli({"evaluate", one_pred, one_target, "--metrics", "bce", "--format", "json"});
            QVERIFY2(result.exit_code == 0, qPrintable(result.err));
            const double got = QJsonDocument::fromJson(result.out.toUtf8())
                                   .object()
                                   .value("batch")
                                   .toObject()
                                   .value("bce")
                                   .toDouble();
            const double exact =
                t[static_cast<std::size_t>(i)] == 1
                    ? std::min(100.0, -std::log(static_cast<double>(p[static_cast<std::size_t>(i)])))
                    : -std::log1p(-static_cast<double>(p[static_cast<std::size_t>(i)]));
            QVERIFY2(std::abs(got - exact) <= 1e-5 * exact,
                     qPrintable(QString("p = %1: bce %2, exact %3")
                                    .arg(p[static_cast<std::size_t>(i)])
                                    .arg(got, 0, 'g', 17)
                                    .arg(exact, 0, 'g', 17)));
        }
    }

    void bad_inputs_are_one_line_errors_data()
    {
        QTest::addColumn<QString>("pred");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<int>("exit_code");
        QTest::addColumn<QString>("message");
        const QString softmax = case_dir("softmax_onehot_2d");
        const QString labels = case_dir("labelmaps_label0_3d");
        const QString binary = case_dir("bce_precision");
        QTest::newRow("softmax on one channel")
            << binary + "/pred.npy" << binary + "/target.npy" << QStringList{"--activation", "softmax"} << 2
            << "needs a prediction with C >= 2 channels";
        QTest::newRow("argmax on label maps")
            << labels + "/pred.npy" << labels + "/target.npy" << QStringList{"--decision", "argmax"} << 2
            << "needs a prediction with C >= 2 channels";
        QTest::newRow("softmax on integers")
            << labels + "/pred.npy" << labels + "/target.npy" << QStringList{"--activation", "softmax"} << 2
            << "needs a floating-point prediction";
        QTest::newRow("argmax with a threshold")
            << softmax + "/pred.npy" << softmax + "/target.npy"
            << QStringList{"--decision", "argmax", "--threshold", "0.3"} << 2 << "takes no --threshold";
        QTest::newRow("logits and softmax") << softmax + "/pred.npy" << softmax + "/target.npy"
                                            << QStringList{"--logits", "--activation", "softmax"} << 2
                                            << "--logits means --activation sigmoid";
        QTest::newRow("unknown activation")
            << softmax + "/pred.npy" << softmax + "/target.npy" << QStringList{"--activation", "relu"} << 2
            << "--activation must be none, sigmoid or softmax";
        QTest::newRow("label beyond the channels")
            << softmax + "/pred.npy" << softmax + "/target.npy"
            << QStringList{"--activation", "softmax", "--labels", "3"} << 2 << "out of range";
        QTest::newRow("2-value spacing on 3D data")
            << labels + "/pred.npy" << labels + "/target.npy"
            << QStringList{"--metrics", "hd", "--spacing", "1,1"} << 2 << "gives no z spacing";
    }

    void bad_inputs_are_one_line_errors()
    {
        QFETCH(QString, pred);
        QFETCH(QString, target);
        QFETCH(QStringList, flags);
        QFETCH(int, exit_code);
        QFETCH(QString, message);
        const Run result = run_cli(QStringList{"evaluate", pred, target} + flags);
        QCOMPARE(result.exit_code, exit_code);
        QVERIFY2(result.err.contains(message), qPrintable(result.err));
        QCOMPARE(result.err.count('\n'), 1);
    }

    // Logits may take any value but NaN: with bce requested a NaN logit is an
    // input error naming the prediction and the position (not a NaN bce
    // blamed on empty masks); without a probability metric it is no error.
    void nan_logits_are_errors()
    {
        const QString pred = dir_.filePath("nan_logits.npy"), target = dir_.filePath("nan_target.npy");
        write_npy(
            pred, "<f4", "(1, 2, 2, 2)",
            bytes_of(std::vector<float>{-3, 0.5F, 7, -1, 2, std::numeric_limits<float>::quiet_NaN(), 0, 1}));
        write_npy(target, "|u1", "(1, 1, 2, 2)", bytes_of(std::vector<std::uint8_t>{0, 1, 1, 0}));
        for (const QStringList& flags : {QStringList{"--logits", "--metrics", "bce,dice"},
                                         QStringList{"--activation", "softmax", "--metrics", "ce"}}) {
            const Run result = run_cli(QStringList{"evaluate", pred, target} + flags);
            QCOMPARE(result.exit_code, 1);
            QVERIFY2(result.err.contains(pred) && result.err.contains("1 prediction value is NaN") &&
                         result.err.contains("c=1, h=0, w=1"),
                     qPrintable(result.err));
        }
        const Run hard = run_cli({"evaluate", pred, target, "--activation", "softmax", "--metrics", "dice"});
        QVERIFY2(hard.exit_code == 0, qPrintable(hard.err));
    }

    // An integer C-channel prediction is a one-hot prediction (argmax reads
    // its hot channel) and must be one-hot: two hot channels at one voxel is
    // an input error naming the prediction and the position.
    void one_hot_predictions_are_read_and_checked()
    {
        // Target labels (h, w): [0 1; 2 2]. Prediction classes: [0 2; 2 1].
        const QString target = dir_.filePath("ohp_target.npy");
        write_npy(target, "|u1", "(1, 1, 2, 2)", bytes_of(std::vector<std::uint8_t>{0, 1, 2, 2}));
        const QString pred = dir_.filePath("ohp_pred.npy");
        write_npy(pred, "|u1", "(1, 3, 2, 2)",
                  bytes_of(std::vector<std::uint8_t>{1, 0, 0, 0, /* c1 */ 0, 0, 0, 1, /* c2 */ 0, 1, 1, 0}));
        Run result = run_cli({"evaluate", pred, target, "--decision", "argmax", "--include-background",
                              "--metrics", "dice,tp", "--format", "json", "--no-slices"});
        QVERIFY2(result.exit_code == 0, qPrintable(result.err));
        const QJsonArray labels = QJsonDocument::fromJson(result.out.toUtf8())
                                      .object()
                                      .value("samples")
                                      .toArray()
                                      .at(0)
                                      .toObject()
                                      .value("labels")
                                      .toArray();
        QCOMPARE(labels.size(), 3);
        // Label 0: tp 1 of 1 and 1 -> 1; label 1: pred {(1,1)}, target {(0,1)} -> 0;
        // label 2: pred {(0,1), (1,0)}, target {(1,0), (1,1)} -> 2*1 / 4.
        const double want[] = {1.0, 0.0, 0.5};
        for (int l = 0; l < 3; ++l) {
            QCOMPARE(labels.at(l).toObject().value("values").toObject().value("dice").toDouble(), want[l]);
        }
        const QString doubled = dir_.filePath("ohp_two.npy");
        write_npy(doubled, "|u1", "(1, 3, 2, 2)",
                  bytes_of(std::vector<std::uint8_t>{1, 0, 0, 0, 0, 0, 0, 1, 0, 1, 1, 1}));
        result = run_cli({"evaluate", doubled, target, "--decision", "argmax"});
        QCOMPARE(result.exit_code, 1);
        QVERIFY2(result.err.contains(doubled) && result.err.contains("not one-hot") &&
                     result.err.contains("h=1, w=1") && result.err.contains("2 channels hold 1"),
                 qPrintable(result.err));
    }

    // A C-channel target read as one-hot must be one-hot: two classes at one
    // voxel, or a value other than 0 and 1, is an input error naming the
    // target and the first position.
    void one_hot_targets_are_checked()
    {
        const QString pred = dir_.filePath("oh_pred.npy");
        write_npy(pred, "<f4", "(1, 3, 2, 2)", bytes_of(std::vector<float>(12, 0.25F)));
        // Voxel (h=0, w=1) has two ones; everything else is class 0.
        std::vector<float> two{1, 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0};
        const QString doubled = dir_.filePath("oh_two.npy");
        write_npy(doubled, "<f4", "(1, 3, 2, 2)", bytes_of(two));
        Run result = run_cli({"evaluate", pred, doubled, "--decision", "argmax"});
        QCOMPARE(result.exit_code, 1);
        QVERIFY2(result.err.contains(doubled) && result.err.contains("not one-hot") &&
                     result.err.contains("h=0, w=1") && result.err.contains("2 channels hold 1"),
                 qPrintable(result.err));
        std::vector<float> soft{1, 1, 1, 0.5F, 0, 0, 0, 0.5F, 0, 0, 0, 0};
        const QString fractional = dir_.filePath("oh_soft.npy");
        write_npy(fractional, "<f4", "(1, 3, 2, 2)", bytes_of(soft));
        result = run_cli({"evaluate", pred, fractional, "--activation", "softmax"});
        QCOMPARE(result.exit_code, 1);
        QVERIFY2(result.err.contains("h=1, w=1") && result.err.contains("a value other than 0 and 1"),
                 qPrintable(result.err));
        // The same target as a valid one-hot passes.
        std::vector<float> valid{1, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1};
        const QString good = dir_.filePath("oh_good.npy");
        write_npy(good, "<f4", "(1, 3, 2, 2)", bytes_of(valid));
        result = run_cli({"evaluate", pred, good, "--activation", "softmax"});
        QVERIFY2(result.exit_code == 0, qPrintable(result.err));
    }
};

} // namespace

QTEST_GUILESS_MAIN(MulticlassTest)
#include "test_cli_multiclass.moc"
