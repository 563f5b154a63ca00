// The metric value cell of the sample and label tables (table_cells.h).
#include "table_cells.h"

#include "masklens/ui/metric_format.h"

#include <QColor>
#include <QObject>
#include <QPixmap>

#include <limits>

namespace masklens::ui {

QString label_text(const LabelStyle& style)
{
    return QStringLiteral("%1 · %2").arg(style.value).arg(QString::fromStdString(style.name));
}

QIcon label_swatch(const LabelStyle& style)
{
    QPixmap swatch(12, 12);
    swatch.fill(QColor(style.colour.r, style.colour.g, style.colour.b));
    return QIcon(swatch);
}

QTableWidgetItem* value_item(const SessionPresenter& presenter, Metric metric, double value)
{
    if (presenter.isPending(metric)) {
        auto* item =
            new NumberItem(QString::fromUtf8(kPendingText), std::numeric_limits<double>::quiet_NaN());
        item->setToolTip(QObject::tr("Surface distances are being computed"));
        return item;
    }
    auto* item = new NumberItem(format_value(metric, value), value);
    if (is_distance_metric(metric) && presenter.distanceState() == DistanceState::Failed) {
        item->setToolTip(presenter.distanceError());
    } else {
        item->setToolTip(value_tooltip(metric, value));
    }
    return item;
}

} // namespace masklens::ui
