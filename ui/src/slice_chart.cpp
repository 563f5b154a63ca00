#include "masklens/ui/slice_chart.h"

#include "masklens/ui/metric_format.h"

#include <QChart>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMouseEvent>
#include <QScatterSeries>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {

SliceChart::SliceChart(SessionPresenter* presenter, QWidget* parent)
    : QChartView(parent), presenter_(presenter)
{
    setObjectName(QStringLiteral("sliceChart"));
    auto* chart = new QChart();
    chart->setAnimationOptions(QChart::NoAnimation);
    chart->legend()->hide();
    chart->setMargins(QMargins(4, 4, 4, 4));
    line_ = new QLineSeries(chart);
    marker_ = new QScatterSeries(chart);
    marker_->setMarkerSize(10);
    marker_->setColor(QColor(0xD5, 0x5E, 0x00));
    chart->addSeries(line_);
    chart->addSeries(marker_);
    x_axis_ = new QValueAxis(chart);
    y_axis_ = new QValueAxis(chart);
    x_axis_->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(x_axis_, Qt::AlignBottom);
    chart->addAxis(y_axis_, Qt::AlignLeft);
    for (QAbstractSeries* series :
         {static_cast<QAbstractSeries*>(line_), static_cast<QAbstractSeries*>(marker_)}) {
        series->attachAxis(x_axis_);
        series->attachAxis(y_axis_);
    }
    setChart(chart);
    setRenderHint(QPainter::Antialiasing, false);
    setMinimumHeight(160);
    for (auto signal : {&SessionPresenter::evaluationChanged, &SessionPresenter::sampleChanged,
                        &SessionPresenter::chartMetricChanged, &SessionPresenter::datasetChanged}) {
        connect(presenter_, signal, this, &SliceChart::rebuild);
    }
    connect(presenter_, &SessionPresenter::distancesChanged, this, [this]() {
        if (is_distance_metric(presenter_->chartMetric())) {
            rebuild();
        }
    });
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() {
        if (presenter_->chartPerLabel()) {
            rebuild();
        }
    });
    connect(presenter_, &SessionPresenter::cursorChanged, this, &SliceChart::moveMarker);
    rebuild();
}

void SliceChart::bindComparison(ComparisonPresenter* comparison)
{
    if (comparison_) {
        comparison_->disconnect(this);
    }
    comparison_ = comparison;
    if (comparison_) {
        connect(comparison_, &ComparisonPresenter::entriesChanged, this, &SliceChart::rebuild);
        connect(comparison_, &ComparisonPresenter::distancesChanged, this, [this]() {
            if (is_distance_metric(presenter_->chartMetric())) {
                rebuild();
            }
        });
    }
    rebuild();
}

int SliceChart::curveCount() const
{
    return 1 + static_cast<int>(extra_lines_.size());
}

QStringList SliceChart::curveNames() const
{
    QStringList names{line_->name()};
    for (const QLineSeries* line : extra_lines_) {
        names << line->name();
    }
    return names;
}

QList<QPointF> SliceChart::curvePoints(int index) const
{
    if (index == 0) {
        return line_->points();
    }
    if (index < 1 || index > static_cast<int>(extra_lines_.size())) {
        return {};
    }
    return extra_lines_[static_cast<std::size_t>(index - 1)]->points();
}

void SliceChart::rebuild()
{
    const Metric metric = presenter_->chartMetric();
    series_ = presenter_->chartSeries(metric);
    double low = std::numeric_limits<double>::infinity();
    double high = -std::numeric_limits<double>::infinity();
    const auto to_points = [&](const std::vector<double>& values) {
        QList<QPointF> result;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (std::isfinite(values[i])) { // NaN: undefined; inf: one mask empty (not plottable)
                result.append(QPointF(static_cast<double>(i), values[i]));
                low = std::min(low, values[i]);
                high = std::max(high, values[i]);
            }
        }
        return result;
    };
    QList<QPointF> points = to_points(series_);
    line_->replace(points);
    // One curve per further prediction of the comparison.
    const int entries = comparison_ ? comparison_->count() : 0;
    const auto wanted = static_cast<std::size_t>(std::max(0, entries - 1));
    while (extra_lines_.size() > wanted) {
        chart()->removeSeries(extra_lines_.back());
        delete extra_lines_.back();
        extra_lines_.pop_back();
    }
    while (extra_lines_.size() < wanted) {
        auto* line = new QLineSeries(chart());
        chart()->addSeries(line);
        line->attachAxis(x_axis_);
        line->attachAxis(y_axis_);
        extra_lines_.push_back(line);
    }
    const auto qcolour = [](const Rgb& c) { return QColor(c.r, c.g, c.b); };
    if (entries >= 2) {
        line_->setName(comparison_->name(0));
        line_->setColor(qcolour(comparison_colour(0)));
        for (std::size_t i = 0; i < extra_lines_.size(); ++i) {
            const int entry = static_cast<int>(i) + 1;
            QLineSeries* line = extra_lines_[i];
            line->setName(comparison_->name(entry));
            line->setColor(qcolour(comparison_colour(entry)));
            const QList<QPointF> extra = to_points(comparison_->chartSeries(entry, metric));
            line->replace(extra);
            if (points.isEmpty()) {
                points = extra; // for the empty-range fallback below
            }
        }
        chart()->legend()->show();
        // The marker is not a curve of its own in the legend.
        for (QLegendMarker* legend_marker : chart()->legend()->markers(marker_)) {
            legend_marker->setVisible(false);
        }
    } else {
        line_->setName(QString());
        chart()->legend()->hide();
    }
    if (points.isEmpty()) {
        low = 0;
        high = 1;
    }
    if (high - low < 1e-12) {
        low -= 0.5;
        high += 0.5;
    }
    const double pad = (high - low) * 0.05;
    y_axis_->setRange(low - pad, high + pad);
    const double last = std::max<double>(1.0, static_cast<double>(series_.size()) - 1.0);
    x_axis_->setRange(0, last);
    // Ticks on whole slice numbers, at a round step (1, 2, 5, 10, 20, ...)
    // giving at most about six labels (fixed tick counts put labels such as
    // "23" at 23.75).
    double step = 1;
    for (double scale = 1; step * 5 < last; scale *= 10) {
        for (const double factor : {1.0, 2.0, 5.0}) {
            step = factor * scale;
            if (step * 5 >= last) {
                break;
            }
        }
    }
    x_axis_->setTickType(QValueAxis::TicksDynamic);
    x_axis_->setTickAnchor(0);
    x_axis_->setTickInterval(step);
    QString title = tr("%1 per slice").arg(metric_label(metric));
    if (presenter_->isPending(metric)) {
        title += QStringLiteral(" ") + QString::fromUtf8(kPendingText);
    } else if (metric == Metric::Nsd) {
        title = tr("nsd (τ = %1 mm) per slice").arg(presenter_->nsdTolerance());
    }
    if (presenter_->chartPerLabel() && presenter_->currentLabel()) {
        title += tr(" — label %1").arg(*presenter_->currentLabel());
    }
    chart()->setTitle(title);
    moveMarker();
}

void SliceChart::moveMarker()
{
    const std::int64_t slice = presenter_->currentSlice();
    if (slice < 0 || slice >= static_cast<std::int64_t>(series_.size())) {
        marker_->clear();
        return;
    }
    const double value = series_[static_cast<std::size_t>(slice)];
    const double y = !std::isfinite(value) ? y_axis_->min() : value;
    marker_->replace(QList<QPointF>{QPointF(static_cast<double>(slice), y)});
}

std::int64_t SliceChart::markerSlice() const
{
    return marker_->count() == 1 ? static_cast<std::int64_t>(std::llround(marker_->at(0).x())) : -1;
}

int SliceChart::pointCount() const
{
    return static_cast<int>(line_->count());
}

std::optional<QPointF> SliceChart::pointPosition(std::int64_t slice) const
{
    if (slice < 0 || slice >= static_cast<std::int64_t>(series_.size())) {
        return std::nullopt;
    }
    const double value = series_[static_cast<std::size_t>(slice)];
    const double y = !std::isfinite(value) ? y_axis_->min() : value;
    const QPointF in_chart = chart()->mapToPosition(QPointF(static_cast<double>(slice), y), line_);
    return QPointF(mapFromScene(chart()->mapToScene(in_chart)));
}

void SliceChart::mousePressEvent(QMouseEvent* event)
{
    const QPointF in_chart = chart()->mapFromScene(mapToScene(event->position().toPoint()));
    if (event->button() == Qt::LeftButton && !series_.empty() &&
        chart()->plotArea().adjusted(-6, -6, 6, 6).contains(in_chart)) {
        const QPointF value = chart()->mapToValue(in_chart, line_);
        const auto slice = std::clamp<std::int64_t>(std::llround(value.x()), 0,
                                                    static_cast<std::int64_t>(series_.size()) - 1);
        presenter_->setCurrentSlice(slice);
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

} // namespace masklens::ui
