// Golden values from PyTorch (tests/generate_golden.py, float64 references
// cross-checked against torch's own float32 functions): every value of every
// case (batch, sample, slice, label) must match.
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/io/read_volume.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>

using namespace masklens;

namespace {

QJsonObject read_json(const QString& path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        return {};
    }
    return QJsonDocument::fromJson(file.readAll()).object();
}

StatisticsOptions options_from(const QJsonObject& json)
{
    StatisticsOptions options;
    MetricOptions& metric = options.metric;
    metric.threshold = json.value("threshold").toDouble(0.5);
    metric.activation = json.value("logits").toBool(false) ? Activation::Sigmoid : Activation::None;
    metric.smooth_nr = metric.smooth_dr = json.value("smooth").toDouble(1e-6);
    metric.tversky_alpha = json.value("alpha").toDouble(0.5);
    metric.tversky_beta = json.value("beta").toDouble(0.5);
    metric.focal_gamma = json.value("gamma").toDouble(2.0);
    if (json.value("focal_alpha").isDouble()) {
        metric.focal_alpha = json.value("focal_alpha").toDouble();
    }
    const QString empty = json.value("empty").toString("nan");
    metric.empty = empty == "zero" ? EmptyPolicy::Zero : empty == "one" ? EmptyPolicy::One : EmptyPolicy::Nan;
    const QString axis = json.value("axis").toString("d");
    options.axis = axis == "h" ? SliceAxis::H : axis == "w" ? SliceAxis::W : SliceAxis::D;
    for (const auto name : json.value("metrics").toArray()) {
        options.metrics.push_back(*parse_metric(name.toString().toStdString()));
    }
    return options;
}

// Float32 inputs are evaluated in float32 chunks (as PyTorch does) against a
// float64 reference: 1e-5 relative covers float32 rounding of logs and sums.
// Float64 inputs must agree to 1e-10.
struct Tolerance {
    double relative;
    double absolute;
};

class GoldenTest : public QObject {
    Q_OBJECT

    int compared_ = 0;

    void compare_values(const QJsonObject& expected, const MetricValues& actual,
                        const std::vector<Metric>& metrics, const Tolerance& tolerance, const QString& where)
    {
        QVERIFY2(!expected.isEmpty(), qPrintable(where + ": no expected values"));
        for (auto it = expected.begin(); it != expected.end(); ++it) {
            const auto metric = parse_metric(it.key().toStdString());
            QVERIFY2(metric, qPrintable(where + ": unknown metric " + it.key()));
            const auto found = std::find(metrics.begin(), metrics.end(), *metric);
            QVERIFY2(found != metrics.end(), qPrintable(where + ": metric not computed: " + it.key()));
            const double value = actual[static_cast<std::size_t>(found - metrics.begin())];
            const QString context = QString("%1 %2: expected %3, got %4")
                                        .arg(where, it.key(), it.value().toVariant().toString())
                                        .arg(value, 0, 'g', 17);
            if (it.value().isNull()) {
                QVERIFY2(std::isnan(value), qPrintable(context));
            } else if (is_count(*metric)) {
                QVERIFY2(value == it.value().toDouble(), qPrintable(context));
            } else {
                const double reference = it.value().toDouble();
                QVERIFY2(std::abs(value - reference) <=
                             tolerance.relative * std::abs(reference) + tolerance.absolute,
                         qPrintable(context));
            }
            ++compared_;
        }
    }

private slots:
    void cases_data()
    {
        QTest::addColumn<QString>("folder");
        const QDir root(QStringLiteral(MASKLENS_TEST_DATA "/golden"));
        const auto cases = root.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        QVERIFY2(cases.size() >= 15, "golden cases missing; run tests/generate_golden.py");
        for (const QString& name : cases) {
            QTest::newRow(qPrintable(name)) << root.filePath(name);
        }
    }

    void cases()
    {
        QFETCH(QString, folder);
        const QJsonObject expected = read_json(folder + "/expected.json");
        QVERIFY(!expected.isEmpty());
        const Volume prediction = io::read_npy((folder + "/pred.npy").toStdString());
        const Volume target = io::read_npy((folder + "/target.npy").toStdString());
        const StatisticsOptions options = options_from(expected.value("options").toObject());
        const Evaluation evaluation = evaluate(prediction, target, options);
        const bool exact = prediction.type() == ScalarType::Float64 &&
                           (target.type() == ScalarType::Float64 || is_label_type(target.type()));
        const Tolerance tolerance = exact ? Tolerance{1e-10, 1e-12} : Tolerance{1e-5, 1e-7};
        const auto& metrics = evaluation.metrics;

        compare_values(expected.value("batch").toObject(), evaluation.batch, metrics, tolerance, "batch");
        const QJsonObject valid = expected.value("batch_valid").toObject();
        for (auto it = valid.begin(); it != valid.end(); ++it) {
            const auto m = std::find(metrics.begin(), metrics.end(), *parse_metric(it.key().toStdString()));
            QCOMPARE(evaluation.batch_valid[static_cast<std::size_t>(m - metrics.begin())],
                     it.value().toInteger());
        }

        const QJsonArray samples = expected.value("samples").toArray();
        QCOMPARE(static_cast<qsizetype>(evaluation.samples.size()), samples.size());
        for (qsizetype n = 0; n < samples.size(); ++n) {
            const QJsonObject sample = samples[n].toObject();
            const SampleResult& actual = evaluation.samples[static_cast<std::size_t>(n)];
            const QString where = QString("sample %1").arg(n);
            compare_values(sample.value("values").toObject(), actual.values, metrics, tolerance, where);
            const QJsonArray slices = sample.value("slices").toArray();
            QCOMPARE(static_cast<qsizetype>(actual.slices.size()), slices.size());
            for (qsizetype s = 0; s < slices.size(); ++s) {
                compare_values(slices[s].toObject().value("values").toObject(),
                               actual.slices[static_cast<std::size_t>(s)], metrics, tolerance,
                               where + QString(" slice %1").arg(s));
            }
            const QJsonArray labels = sample.value("labels").toArray();
            QCOMPARE(static_cast<qsizetype>(actual.labels.size()), labels.size());
            for (qsizetype l = 0; l < labels.size(); ++l) {
                const QJsonObject label = labels[l].toObject();
                const LabelResult& actual_label = actual.labels[static_cast<std::size_t>(l)];
                QCOMPARE(actual_label.label, label.value("label").toInteger());
                const QString label_where = where + QString(" label %1").arg(actual_label.label);
                compare_values(label.value("values").toObject(), actual_label.values, metrics, tolerance,
                               label_where);
                const QJsonArray label_slices = label.value("slices").toArray();
                for (qsizetype s = 0; s < label_slices.size(); ++s) {
                    compare_values(label_slices[s].toObject().value("values").toObject(),
                                   actual_label.slices[static_cast<std::size_t>(s)], metrics, tolerance,
                                   label_where + QString(" slice %1").arg(s));
                }
            }
        }
        const QJsonArray labels = expected.value("labels").toArray();
        QCOMPARE(static_cast<qsizetype>(evaluation.labels.size()), labels.size());
        for (qsizetype l = 0; l < labels.size(); ++l) {
            const QJsonObject label = labels[l].toObject();
            QCOMPARE(evaluation.labels[static_cast<std::size_t>(l)].label, label.value("label").toInteger());
            compare_values(label.value("values").toObject(),
                           evaluation.labels[static_cast<std::size_t>(l)].values, metrics, tolerance,
                           QString("batch label %1").arg(l));
        }
    }

    void cleanupTestCase()
    {
        QVERIFY2(compared_ > 1000, qPrintable(QString("only %1 values compared").arg(compared_)));
    }
};

} // namespace

QTEST_APPLESS_MAIN(GoldenTest)
#include "test_golden.moc"
