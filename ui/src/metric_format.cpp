// The metric texts of every panel: values, names, tooltips, table columns.
#include "masklens/ui/metric_format.h"

#include <algorithm>
#include <cmath>

namespace masklens::ui {

QString format_value(Metric metric, double value)
{
    if (std::isnan(value)) {
        return QStringLiteral("—");
    }
    if (std::isinf(value)) {
        return value > 0 ? QStringLiteral("∞") : QStringLiteral("-∞");
    }
    if (is_count(metric)) {
        return QString::number(static_cast<long long>(std::llround(value)));
    }
    return QString::number(value, 'g', 6);
}

QString metric_label(Metric metric)
{
    const QString name =
        QString::fromUtf8(metric_name(metric).data(), static_cast<qsizetype>(metric_name(metric).size()));
    const std::string_view unit = metric_unit(metric);
    return unit.empty() ? name
                        : name + QStringLiteral(" (%1)").arg(
                                     QString::fromUtf8(unit.data(), static_cast<qsizetype>(unit.size())));
}

std::vector<Metric> table_metrics(const Evaluation& evaluation, bool labels_only)
{
    std::vector<Metric> result;
    for (const Metric metric : {Metric::Dice, Metric::Iou, Metric::DiceLoss, Metric::Bce, Metric::Precision,
                                Metric::Recall, Metric::Fp, Metric::Fn}) {
        const bool present = std::find(evaluation.metrics.begin(), evaluation.metrics.end(), metric) !=
                             evaluation.metrics.end();
        if (present && (!labels_only || is_label_metric(metric))) {
            result.push_back(metric);
        }
    }
    return result;
}

std::vector<Metric> table_metrics(const SessionPresenter& presenter, bool labels_only)
{
    const Evaluation* evaluation = presenter.evaluation();
    if (!evaluation) {
        return {};
    }
    std::vector<Metric> result = table_metrics(*evaluation, labels_only);
    if (presenter.distancesEnabled()) {
        auto at = std::find(result.begin(), result.end(), Metric::Iou);
        at = at == result.end() ? result.begin() : at + 1;
        for (const Metric metric : gui_distance_metrics()) {
            at = result.insert(at, metric) + 1;
        }
    }
    return result;
}

QString metric_tooltip(Metric metric)
{
    const std::string_view summary = metric_info(metric).summary;
    return QString::fromUtf8(summary.data(), static_cast<qsizetype>(summary.size()));
}

QString value_tooltip(Metric metric, double value)
{
    if (!std::isnan(value)) {
        return {};
    }
    const std::string_view reason = metric_info(metric).nan_reason;
    return QString::fromUtf8(reason.data(), static_cast<qsizetype>(reason.size()));
}

} // namespace masklens::ui
