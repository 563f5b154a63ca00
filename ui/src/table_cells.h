// The cells shared by the panels' tables (private to masklens_ui): the role
// holding a cell's sort value, the numeric item sorting by it, and the metric
// value cell of the sample and label tables.
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QIcon>
#include <QTableWidgetItem>

#include <cmath>

namespace masklens::ui {

inline constexpr int kValueRole = Qt::UserRole + 1;

// Sorts by the number in kValueRole; NaN after every number.
class NumberItem : public QTableWidgetItem {
public:
    NumberItem(const QString& text, double value) : QTableWidgetItem(text)
    {
        setData(kValueRole, value);
        setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
        setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
    }
    bool operator<(const QTableWidgetItem& other) const override
    {
        const double a = data(kValueRole).toDouble();
        const double b = other.data(kValueRole).toDouble();
        if (std::isnan(a) || std::isnan(b)) {
            return !std::isnan(a) && std::isnan(b);
        }
        return a < b;
    }
};

// How a label is named wherever one is chosen or listed: "2 · liver" and a
// swatch of its colour (from --labels-file or the default palette).
QString label_text(const LabelStyle& style);
QIcon label_swatch(const LabelStyle& style);

// A metric cell of the sample or label table ("…" while its distance job runs).
QTableWidgetItem* value_item(const SessionPresenter& presenter, Metric metric, double value);

} // namespace masklens::ui
