// The numeric widgets beside the views: the loss panel, the per-slice chart,
// the per-sample and per-label tables. Each binds to the SessionPresenter and
// shows the engine's values as they are (NaN as an em dash).
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QChartView>
#include <QTableWidget>
#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace masklens::ui {

// "—" for NaN, "∞" for infinity (one mask empty), integers for counts, 6
// significant digits otherwise.
QString format_value(Metric metric, double value);
// The metric's engine name; distance metrics carry their unit ("hd95 (mm)").
QString metric_label(Metric metric);
// The text shown while a distance metric is being computed.
inline constexpr const char* kPendingText = "…";

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

class SliceChart : public QChartView {
    Q_OBJECT
public:
    explicit SliceChart(SessionPresenter* presenter, QWidget* parent = nullptr);
    // Widget position of the chart point for `slice` (tests, hit-testing).
    std::optional<QPointF> pointPosition(std::int64_t slice) const;
    // The slice the marker is on (-1: none).
    std::int64_t markerSlice() const;
    int pointCount() const;

protected:
    void mousePressEvent(QMouseEvent* event) override;

private:
    void rebuild();
    void moveMarker();
    SessionPresenter* presenter_;
    QLineSeries* line_;
    QScatterSeries* marker_;
    QValueAxis* x_axis_;
    QValueAxis* y_axis_;
    std::vector<double> series_;
};

class SampleTable : public QTableWidget {
    Q_OBJECT
public:
    explicit SampleTable(SessionPresenter* presenter, QWidget* parent = nullptr);
    // Row showing sample `index` (after sorting), -1 when absent.
    int rowOfSample(std::int64_t index) const;

private:
    void rebuild();
    void selectCurrent();
    SessionPresenter* presenter_;
    bool updating_ = false;
};

class LabelTable : public QTableWidget {
    Q_OBJECT
public:
    explicit LabelTable(SessionPresenter* presenter, QWidget* parent = nullptr);

private:
    void rebuild();
    SessionPresenter* presenter_;
    bool updating_ = false;
};

// The metrics shown as columns of the sample and label tables.
std::vector<Metric> table_metrics(const Evaluation& evaluation, bool labels_only);

} // namespace masklens::ui
