// The metric value cell of the sample and label tables (table_cells.h).
#include "table_cells.h"

#include "masklens/ui/metric_format.h"

#include <QObject>

#include <limits>

namespace masklens::ui {

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
