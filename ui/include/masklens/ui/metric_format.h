// How the widgets show metrics: value texts (NaN as an em dash), names with
// their units, tooltips, and the metrics the sample and label tables show.
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QString>

#include <vector>

namespace masklens::ui {

// "—" for NaN, "∞" for infinity (one mask empty), integers for counts, 6
// significant digits otherwise.
QString format_value(Metric metric, double value);
// The metric's engine name; distance metrics carry their unit ("hd95 (mm)").
QString metric_label(Metric metric);
// The metric table's one-line summary, and why a NaN value is undefined
// (empty for other values): tooltips of names and value cells.
QString metric_tooltip(Metric metric);
QString value_tooltip(Metric metric, double value);
// The text shown while a distance metric is being computed.
inline constexpr const char* kPendingText = "…";

// The metrics shown as columns of the sample and label tables.
std::vector<Metric> table_metrics(const Evaluation& evaluation, bool labels_only);
// The same, with the surface-distance metrics (hd95, assd, nsd, hd) after iou
// while the presenter's distance pass is enabled.
std::vector<Metric> table_metrics(const SessionPresenter& presenter, bool labels_only);

} // namespace masklens::ui
