#include "masklens/ui/slice_chart.h"

#include "masklens/ui/chart_axis.h"
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
    infinite_ = new QScatterSeries(chart);
    infinite_->setName(tr("∞ (one mask empty)"));
    infinite_->setMarkerShape(QScatterSeries::MarkerShapeTriangle);
    infinite_->setMarkerSize(9);
    infinite_->setColor(QColor(0xC0, 0x1C, 0x28));
    infinite_->setBorderColor(QColor(0xC0, 0x1C, 0x28));
    undefined_ = new QScatterSeries(chart);
    undefined_->setName(tr("undefined"));
    undefined_->setMarkerShape(QScatterSeries::MarkerShapeRectangle);
    undefined_->setMarkerSize(7);
    undefined_->setColor(QColor(0, 0, 0, 0));
    undefined_->setBorderColor(QColor(0x80, 0x80, 0x80));
    chart->addSeries(line_);
    chart->addSeries(infinite_);
    chart->addSeries(undefined_);
    chart->addSeries(marker_);
    x_axis_ = new QValueAxis(chart);
    y_axis_ = new QValueAxis(chart);
    x_axis_->setLabelFormat(QStringLiteral("%d"));
    chart->addAxis(x_axis_, Qt::AlignBottom);
    chart->addAxis(y_axis_, Qt::AlignLeft);
    for (QAbstractSeries* series :
         {static_cast<QAbstractSeries*>(line_), static_cast<QAbstractSeries*>(marker_),
          static_cast<QAbstractSeries*>(infinite_), static_cast<QAbstractSeries*>(undefined_)}) {
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
    connect(presenter_, &SessionPresenter::sampleChanged, this, &SliceChart::moveMarker);
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

std::vector<double> SliceChart::currentSeries(Metric metric) const
{
    std::vector<double> series = presenter_->chartSeries(metric);
    if (!perSample()) {
        return series;
    }
    // 2D or batch data (one slice per sample): one point per sample.
    series.clear();
    const std::optional<std::int64_t> label =
        presenter_->chartPerLabel() ? presenter_->currentLabel() : std::optional<std::int64_t>{};
    for (std::int64_t sample = 0; sample < presenter_->sampleCount(); ++sample) {
        series.push_back(label ? presenter_->labelValueOf(sample, *label, metric)
                               : presenter_->sampleValueOf(sample, metric));
    }
    return series;
}

bool SliceChart::perSample() const
{
    return presenter_->hasData() && presenter_->sampleCount() > 1 &&
           presenter_->chartSeries(presenter_->chartMetric()).size() <= 1;
}

double SliceChart::specialY(double value) const
{
    // Infinity (one mask empty) is the worst a metric can be: drawn at the
    // worst edge (the top for distances); undefined (NaN) on the x axis, in grey.
    if (std::isinf(value)) {
        return metric_info(presenter_->chartMetric()).higher_is_worse == (value > 0) ? y_axis_->max()
                                                                                     : y_axis_->min();
    }
    return y_axis_->min();
}

void SliceChart::rebuild()
{
    const Metric metric = presenter_->chartMetric();
    per_sample_ = perSample();
    series_ = currentSeries(metric);
    double low = std::numeric_limits<double>::quiet_NaN();
    double high = std::numeric_limits<double>::quiet_NaN();
    const auto to_points = [&](const std::vector<double>& values) {
        QList<QPointF> result;
        for (std::size_t i = 0; i < values.size(); ++i) {
            if (std::isfinite(values[i])) { // NaN and inf: markers of their own
                result.append(QPointF(static_cast<double>(i), values[i]));
                low = std::isnan(low) ? values[i] : std::min(low, values[i]);
                high = std::isnan(high) ? values[i] : std::max(high, values[i]);
            }
        }
        return result;
    };
    QList<QPointF> points = to_points(series_);
    line_->replace(points);
    // One curve per further prediction of the comparison (per slice only).
    const int entries = comparison_ && !per_sample_ ? comparison_->count() : 0;
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
    bool legend = false;
    if (entries >= 2) {
        line_->setName(comparison_->name(0));
        line_->setColor(qcolour(comparison_colour(0)));
        for (std::size_t i = 0; i < extra_lines_.size(); ++i) {
            const int entry = static_cast<int>(i) + 1;
            QLineSeries* line = extra_lines_[i];
            line->setName(comparison_->name(entry));
            line->setColor(qcolour(comparison_colour(entry)));
            line->replace(to_points(comparison_->chartSeries(entry, metric)));
        }
        legend = true;
    } else {
        line_->setName(QString());
        line_->setColor(QColor(0x20, 0x9F, 0xDF));
    }
    const AxisScale scale = nice_scale(low, high, metric_info(metric).range, 5);
    y_axis_->setRange(scale.low, scale.high);
    y_axis_->setTickType(QValueAxis::TicksDynamic);
    y_axis_->setTickAnchor(scale.low);
    y_axis_->setTickInterval(scale.step);
    y_axis_->setLabelFormat(QStringLiteral("%.%1f").arg(scale.decimals));
    // Infinite and undefined values: markers of their own, at the worst edge and on the x axis.
    QList<QPointF> infinite, undefined;
    for (std::size_t i = 0; i < series_.size(); ++i) {
        if (std::isinf(series_[i])) {
            infinite.append(QPointF(static_cast<double>(i), specialY(series_[i])));
        } else if (std::isnan(series_[i])) {
            undefined.append(QPointF(static_cast<double>(i), specialY(series_[i])));
        }
    }
    infinite_->replace(infinite);
    undefined_->replace(undefined);
    // The legend is for the comparison's curves; the special markers are
    // named in the title (a legend row would take the plot's height).
    chart()->legend()->setVisible(legend);
    if (legend) {
        for (QAbstractSeries* series :
             {static_cast<QAbstractSeries*>(marker_), static_cast<QAbstractSeries*>(infinite_),
              static_cast<QAbstractSeries*>(undefined_)}) {
            for (QLegendMarker* legend_marker : chart()->legend()->markers(series)) {
                legend_marker->setVisible(false);
            }
        }
    }
    const double last = std::max<double>(1.0, static_cast<double>(series_.size()) - 1.0);
    x_axis_->setRange(0, last);
    // Ticks on whole slice (sample) numbers at a round step, at most about six labels.
    x_axis_->setTickType(QValueAxis::TicksDynamic);
    x_axis_->setTickAnchor(0);
    x_axis_->setTickInterval(std::max(1.0, nice_step(last, 5)));
    QString title = per_sample_ ? tr("%1 per sample").arg(metric_label(metric))
                                : tr("%1 per slice").arg(metric_label(metric));
    if (presenter_->isPending(metric)) {
        title += QStringLiteral(" ") + QString::fromUtf8(kPendingText);
    } else if (metric == Metric::Nsd) {
        title = per_sample_ ? tr("nsd (τ = %1 mm) per sample").arg(presenter_->nsdTolerance())
                            : tr("nsd (τ = %1 mm) per slice").arg(presenter_->nsdTolerance());
    }
    if (presenter_->chartPerLabel() && presenter_->currentLabel()) {
        title += tr(" — label %1").arg(*presenter_->currentLabel());
    }
    QStringList keys;
    if (!infinite.isEmpty()) {
        keys << tr("▲ ∞ (one mask empty)");
    }
    if (!undefined.isEmpty()) {
        keys << tr("□ undefined");
    }
    if (!keys.isEmpty()) {
        title += QStringLiteral("   ") + keys.join(QStringLiteral("  "));
    }
    chart()->setTitle(title);
    moveMarker();
}

std::int64_t SliceChart::currentIndex() const
{
    return per_sample_ ? presenter_->sample() : presenter_->currentSlice();
}

void SliceChart::moveMarker()
{
    const std::int64_t slice = currentIndex();
    if (slice < 0 || slice >= static_cast<std::int64_t>(series_.size())) {
        marker_->clear();
        return;
    }
    const double value = series_[static_cast<std::size_t>(slice)];
    const double y = !std::isfinite(value) ? specialY(value) : value;
    marker_->replace(QList<QPointF>{QPointF(static_cast<double>(slice), y)});
}

QList<QPointF> SliceChart::infinitePoints() const
{
    return infinite_->points();
}

QList<QPointF> SliceChart::undefinedPoints() const
{
    return undefined_->points();
}

double SliceChart::axisMin() const
{
    return y_axis_->min();
}

double SliceChart::axisMax() const
{
    return y_axis_->max();
}

double SliceChart::tickInterval() const
{
    return y_axis_->tickInterval();
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
    const double y = !std::isfinite(value) ? specialY(value) : value;
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
        if (per_sample_) {
            presenter_->setSample(slice);
        } else {
            presenter_->setCurrentSlice(slice);
        }
        event->accept();
        return;
    }
    QChartView::mousePressEvent(event);
}

} // namespace masklens::ui
