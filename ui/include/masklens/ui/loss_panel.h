// The loss panel: every shown metric of the current slice and sample, the NSD
// tolerance, the distance pass's state and the empty-mask policy.
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QTableWidget>
#include <QWidget>

class QDoubleSpinBox;
class QLabel;

namespace masklens::ui {

class LossPanel : public QWidget {
    Q_OBJECT
public:
    explicit LossPanel(SessionPresenter* presenter, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }
    // The shown text of a metric's slice and sample cells (tests).
    QString sliceText(Metric metric) const;
    QString sampleText(Metric metric) const;
    QDoubleSpinBox* nsdToleranceBox() const { return nsd_tolerance_; }

private:
    void refresh();
    void refreshDistanceNote();
    int rowOf(Metric metric) const;
    SessionPresenter* presenter_;
    QLabel* caption_;
    QLabel* policy_;
    QLabel* distance_note_;
    QDoubleSpinBox* nsd_tolerance_;
    QTableWidget* table_;
};

} // namespace masklens::ui
