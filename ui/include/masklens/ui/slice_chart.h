// The per-slice chart (Qt Charts): the chart metric along the slicing axis,
// a marker on the current slice, one curve per prediction of a comparison.
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/session_presenter.h"

#include <QChartView>

#include <optional>
#include <vector>

class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace masklens::ui {

class SliceChart : public QChartView {
    Q_OBJECT
public:
    explicit SliceChart(SessionPresenter* presenter, QWidget* parent = nullptr);
    // Widget position of the chart point for `slice` (tests, hit-testing).
    std::optional<QPointF> pointPosition(std::int64_t slice) const;
    // The slice (sample, in per-sample mode) the marker is on (-1: none).
    std::int64_t markerSlice() const;
    int pointCount() const;
    // Overlays one curve per prediction of the comparison (legend with names)
    // while it holds more than one.
    void bindComparison(ComparisonPresenter* comparison);
    // The curves drawn (1 without a comparison) and their legend names.
    int curveCount() const;
    QStringList curveNames() const;
    // Finite points of curve `index`.
    QList<QPointF> curvePoints(int index) const;
    // 2D or batch data (one slice per sample): one point per sample, the
    // marker on the current sample, a click chooses the sample.
    bool perSampleMode() const noexcept { return per_sample_; }
    // Markers of infinite values (at the worst edge) and undefined ones (on the x axis).
    QList<QPointF> infinitePoints() const;
    QList<QPointF> undefinedPoints() const;
    double axisMin() const;
    double axisMax() const;
    double tickInterval() const;

protected:
    void mousePressEvent(QMouseEvent* event) override;

private:
    void rebuild();
    void moveMarker();
    bool perSample() const;
    std::vector<double> currentSeries(Metric metric) const;
    double specialY(double value) const;
    std::int64_t currentIndex() const;
    SessionPresenter* presenter_;
    ComparisonPresenter* comparison_ = nullptr;
    QLineSeries* line_;
    std::vector<QLineSeries*> extra_lines_; // comparison entries 1..n-1
    QScatterSeries* marker_;
    QScatterSeries* infinite_;
    QScatterSeries* undefined_;
    bool per_sample_ = false;
    QValueAxis* x_axis_;
    QValueAxis* y_axis_;
    std::vector<double> series_;
};

} // namespace masklens::ui
