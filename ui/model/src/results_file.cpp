#include "masklens/ui/results_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

QString join_path(const QString& dir, const QString& name)
{
    if (name.isEmpty() || QFileInfo(name).isAbsolute() || dir.isEmpty()) {
        return name;
    }
    return QDir(dir).filePath(name);
}

// Where a case's file is. masklens-cli writes the file as the user gave its
// folder ("pred/case.npy", already under prediction_dir); other writers may give
// the name inside prediction_dir ("case.npy"). Absolute paths are taken as is;
// relative ones are tried beside the results file, then in the current
// directory, with and without the folder; the first that exists wins (none: the
// likeliest one beside the results file, so that the load reports it).
QString resolve_path(const QString& base_dir, const QString& dir, const QString& name)
{
    if (name.isEmpty() || QFileInfo(name).isAbsolute()) {
        return QDir::cleanPath(name);
    }
    const QString joined = join_path(dir, name);
    const QString clean_dir = QDir::cleanPath(dir);
    const bool name_has_dir =
        !dir.isEmpty() && QDir::cleanPath(name).startsWith(clean_dir + QLatin1Char('/'));
    const QStringList forms = name_has_dir ? QStringList{name, joined} : QStringList{joined, name};
    QStringList candidates;
    for (const QString& form : forms) {
        if (QFileInfo(form).isAbsolute()) {
            candidates.append(QDir::cleanPath(form));
            continue;
        }
        candidates.append(QDir::cleanPath(QDir(base_dir).absoluteFilePath(form)));
        candidates.append(QDir::cleanPath(QDir::current().absoluteFilePath(form)));
    }
    for (const QString& candidate : candidates) {
        if (QFileInfo::exists(candidate)) {
            return candidate;
        }
    }
    return candidates.front();
}

bool fail(QString* error, const QString& text)
{
    if (error) {
        *error = text;
    }
    return false;
}

} // namespace

int ResultsData::failed() const
{
    int count = 0;
    for (const ResultsCase& c : cases) {
        count += c.ok ? 0 : 1;
    }
    return count;
}

std::optional<ResultsData> parse_results(const QByteArray& json, const QString& results_path, QString* error)
{
    QJsonParseError parse_error;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parse_error);
    if (parse_error.error != QJsonParseError::NoError) {
        fail(error, QStringLiteral("not valid JSON: %1 (at byte %2)")
                        .arg(parse_error.errorString())
                        .arg(parse_error.offset));
        return std::nullopt;
    }
    if (!document.isObject()) {
        fail(error, QStringLiteral("not a folder evaluation result: the document is not a JSON object"));
        return std::nullopt;
    }
    const QJsonObject root = document.object();
    if (!root.value(QStringLiteral("cases")).isArray()) {
        fail(error, QStringLiteral("not a folder evaluation result (masklens-cli evaluate-folder --format "
                                   "json): no \"cases\" array"));
        return std::nullopt;
    }
    ResultsData data;
    data.path = QFileInfo(results_path).absoluteFilePath();
    const QString base_dir = QFileInfo(data.path).absolutePath();
    for (const char* key : {"prediction_dir", "target_dir"}) {
        const QJsonValue value = root.value(QLatin1String(key));
        if (!value.isUndefined() && !value.isString()) {
            fail(error, QStringLiteral("\"%1\" is not a string").arg(QLatin1String(key)));
            return std::nullopt;
        }
    }
    data.prediction_dir = root.value(QStringLiteral("prediction_dir")).toString();
    data.target_dir = root.value(QStringLiteral("target_dir")).toString();

    const QJsonArray cases = root.value(QStringLiteral("cases")).toArray();
    const QJsonValue metrics = root.value(QStringLiteral("metrics"));
    if (metrics.isArray()) {
        for (const QJsonValue& name : metrics.toArray()) {
            if (!name.isString() || name.toString().isEmpty()) {
                fail(error, QStringLiteral("\"metrics\" holds something other than metric names"));
                return std::nullopt;
            }
            data.metrics.append(name.toString());
        }
    } else if (metrics.isUndefined()) {
        // No list: the metrics in the order the cases name them.
        for (const QJsonValue& entry : cases) {
            const QJsonObject values = entry.toObject().value(QStringLiteral("values")).toObject();
            for (const QString& name : values.keys()) {
                if (!data.metrics.contains(name)) {
                    data.metrics.append(name);
                }
            }
        }
    } else {
        fail(error, QStringLiteral("\"metrics\" is not an array"));
        return std::nullopt;
    }

    for (qsizetype i = 0; i < cases.size(); ++i) {
        const QString where = QStringLiteral("case %1: ").arg(i + 1);
        if (!cases[i].isObject()) {
            fail(error, where + QStringLiteral("not a JSON object"));
            return std::nullopt;
        }
        const QJsonObject entry = cases[i].toObject();
        for (const char* key : {"case", "prediction", "target"}) {
            if (!entry.value(QLatin1String(key)).isString()) {
                fail(error,
                     where + QStringLiteral("\"%1\" is missing or not a string").arg(QLatin1String(key)));
                return std::nullopt;
            }
        }
        ResultsCase c;
        c.id = entry.value(QStringLiteral("case")).toString();
        c.prediction_name = entry.value(QStringLiteral("prediction")).toString();
        c.target_name = entry.value(QStringLiteral("target")).toString();
        c.prediction_path = resolve_path(base_dir, data.prediction_dir, c.prediction_name);
        c.target_path = resolve_path(base_dir, data.target_dir, c.target_name);
        const QJsonValue status = entry.value(QStringLiteral("status"));
        if (!status.isUndefined() && !status.isString()) {
            fail(error, where + QStringLiteral("\"status\" is not a string"));
            return std::nullopt;
        }
        c.status = status.toString(QStringLiteral("ok"));
        c.ok = c.status == QLatin1String("ok");
        c.error = entry.value(QStringLiteral("error")).toString();
        const QJsonValue values_value = entry.value(QStringLiteral("values"));
        if (!values_value.isUndefined() && !values_value.isObject()) {
            fail(error, where + QStringLiteral("\"values\" is not an object"));
            return std::nullopt;
        }
        const QJsonObject values = values_value.toObject();
        const QJsonObject undefined = entry.value(QStringLiteral("undefined")).toObject();
        for (const QString& metric : data.metrics) {
            const QJsonValue value = values.value(metric);
            if (!value.isUndefined() && !value.isNull() && !value.isDouble()) {
                fail(error, where + QStringLiteral("the value of %1 is not a number or null").arg(metric));
                return std::nullopt;
            }
            c.values.push_back(value.isDouble() ? value.toDouble() : kNull);
            QString reason = undefined.value(metric).toString();
            if (reason.isEmpty() && !value.isDouble()) {
                reason =
                    value.isNull() ? QStringLiteral("null") : QStringLiteral("not computed for this case");
            }
            c.reasons.append(reason);
        }
        data.cases.push_back(std::move(c));
    }
    const QJsonObject unpaired = root.value(QStringLiteral("unpaired")).toObject();
    data.unpaired = static_cast<int>(unpaired.value(QStringLiteral("predictions")).toArray().size() +
                                     unpaired.value(QStringLiteral("targets")).toArray().size());
    return data;
}

std::optional<ResultsData> read_results(const QString& path, QString* error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        fail(error, QStringLiteral("cannot open: %1").arg(file.errorString()));
        return std::nullopt;
    }
    return parse_results(file.readAll(), path, error);
}

} // namespace masklens::ui
