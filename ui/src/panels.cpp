#include "masklens/ui/panels.h"

#include <QAction>
#include <QChart>
#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QMenu>
#include <QMouseEvent>
#include <QPushButton>
#include <QScatterSeries>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

constexpr int kValueRole = Qt::UserRole + 1;

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

QString axis_name(ViewAxis axis)
{
    switch (axis) {
    case ViewAxis::Axial: return QStringLiteral("D");
    case ViewAxis::Coronal: return QStringLiteral("H");
    case ViewAxis::Sagittal: return QStringLiteral("W");
    }
    return {};
}

QString policy_text(EmptyPolicy policy)
{
    switch (policy) {
    case EmptyPolicy::Nan: return QStringLiteral("Empty masks: hard metrics undefined (NaN, shown as —).");
    case EmptyPolicy::Zero: return QStringLiteral("Empty masks: hard metrics with a zero denominator are 0.");
    case EmptyPolicy::One: return QStringLiteral("Empty masks: hard metrics with a zero denominator are 1.");
    }
    return {};
}

} // namespace

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

namespace {

// A metric cell of the sample or label table ("…" while its distance job runs).
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

} // namespace

// ---------------------------------------------------------------------------
// LossPanel

LossPanel::LossPanel(SessionPresenter* presenter, QWidget* parent) : QWidget(parent), presenter_(presenter)
{
    setObjectName(QStringLiteral("lossPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    caption_ = new QLabel(this);
    caption_->setObjectName(QStringLiteral("lossCaption"));
    policy_ = new QLabel(this);
    policy_->setObjectName(QStringLiteral("emptyPolicy"));
    policy_->setWordWrap(true);
    table_ = new QTableWidget(0, 3, this);
    table_->setObjectName(QStringLiteral("lossTable"));
    table_->setHorizontalHeaderLabels({tr("Metric"), tr("Slice"), tr("Sample")});
    table_->verticalHeader()->setVisible(false);
    table_->verticalHeader()->setDefaultSectionSize(20);
    table_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->setSelectionMode(QAbstractItemView::NoSelection);
    nsd_tolerance_ = new QDoubleSpinBox(this);
    nsd_tolerance_->setObjectName(QStringLiteral("nsdTolerance"));
    nsd_tolerance_->setRange(0.0, 100.0);
    nsd_tolerance_->setDecimals(2);
    nsd_tolerance_->setSingleStep(0.5);
    nsd_tolerance_->setSuffix(QStringLiteral(" mm"));
    nsd_tolerance_->setValue(presenter_->nsdTolerance());
    nsd_tolerance_->setKeyboardTracking(false);
    nsd_tolerance_->setToolTip(tr("Normalized surface Dice tolerance τ: surface voxels within τ mm of the "
                                  "other surface count as matched"));
    connect(nsd_tolerance_, &QDoubleSpinBox::valueChanged, presenter_, &SessionPresenter::setNsdTolerance);
    distance_note_ = new QLabel(this);
    distance_note_->setObjectName(QStringLiteral("distanceNote"));
    distance_note_->setWordWrap(true);
    auto* distance_row = new QHBoxLayout;
    distance_row->addWidget(new QLabel(tr("NSD tolerance"), this));
    distance_row->addWidget(nsd_tolerance_);
    distance_row->addWidget(distance_note_, 1);
    layout->addWidget(caption_);
    layout->addWidget(table_, 1);
    layout->addLayout(distance_row);
    layout->addWidget(policy_);
    for (auto signal : {&SessionPresenter::evaluationChanged, &SessionPresenter::cursorChanged,
                        &SessionPresenter::sampleChanged, &SessionPresenter::datasetChanged,
                        &SessionPresenter::distancesChanged}) {
        connect(presenter_, signal, this, &LossPanel::refresh);
    }
    refresh();
}

void LossPanel::refreshDistanceNote()
{
    switch (presenter_->distanceState()) {
    case DistanceState::Off: distance_note_->clear(); break;
    case DistanceState::Pending: distance_note_->setText(tr("surface distances: computing…")); break;
    case DistanceState::Ready:
        distance_note_->setText(tr("surface voxel centres; hd95: larger directed 95th pct."));
        break;
    case DistanceState::Failed:
        distance_note_->setText(tr("surface distances unavailable"));
        distance_note_->setToolTip(presenter_->distanceError());
        break;
    }
    if (presenter_->distanceState() != DistanceState::Failed) {
        distance_note_->setToolTip({});
    }
    const QSignalBlocker block(nsd_tolerance_);
    nsd_tolerance_->setValue(presenter_->nsdTolerance());
}

int LossPanel::rowOf(Metric metric) const
{
    for (int row = 0; row < table_->rowCount(); ++row) {
        if (table_->item(row, 0)->data(kValueRole).toInt() == static_cast<int>(metric)) {
            return row;
        }
    }
    return -1;
}

QString LossPanel::sliceText(Metric metric) const
{
    const int row = rowOf(metric);
    return row < 0 ? QString() : table_->item(row, 1)->text();
}

QString LossPanel::sampleText(Metric metric) const
{
    const int row = rowOf(metric);
    return row < 0 ? QString() : table_->item(row, 2)->text();
}

void LossPanel::refresh()
{
    const Evaluation* evaluation = presenter_->evaluation();
    if (!evaluation) {
        table_->setRowCount(0);
        caption_->setText(tr("No data"));
        policy_->clear();
        return;
    }
    const std::vector<Metric> metrics = presenter_->shownMetrics();
    if (table_->rowCount() != static_cast<int>(metrics.size())) {
        table_->setRowCount(static_cast<int>(metrics.size()));
    }
    // Items are reused (a slice change only sets texts: it runs on every step).
    const auto set_cell = [this](int row, int column, const QString& text, double value) {
        QTableWidgetItem* item = table_->item(row, column);
        if (!item) {
            table_->setItem(row, column, new NumberItem(text, value));
            return;
        }
        if (item->text() != text) {
            item->setText(text);
        }
        item->setData(kValueRole, value);
    };
    const QString nsd_name = tr("nsd (τ = %1 mm)").arg(presenter_->nsdTolerance());
    for (std::size_t i = 0; i < metrics.size(); ++i) {
        const int row = static_cast<int>(i);
        const Metric metric = metrics[i];
        QTableWidgetItem* name = table_->item(row, 0);
        if (!name) {
            name = new QTableWidgetItem;
            table_->setItem(row, 0, name);
        }
        const QString label = metric == Metric::Nsd ? nsd_name : metric_label(metric);
        if (name->text() != label) {
            name->setText(label);
            name->setToolTip(metric_tooltip(metric));
        }
        name->setData(kValueRole, static_cast<int>(metric));
        if (presenter_->isPending(metric)) {
            const QString pending = QString::fromUtf8(kPendingText);
            set_cell(row, 1, pending, std::numeric_limits<double>::quiet_NaN());
            set_cell(row, 2, pending, std::numeric_limits<double>::quiet_NaN());
            continue;
        }
        const double slice = presenter_->sliceValue(metric);
        const double sample = presenter_->sampleValue(metric);
        set_cell(row, 1, format_value(metric, slice), slice);
        set_cell(row, 2, format_value(metric, sample), sample);
        for (const auto& [column, value] : {std::pair{1, slice}, std::pair{2, sample}}) {
            QTableWidgetItem* item = table_->item(row, column);
            if (const QString tip = value_tooltip(metric, value); item->toolTip() != tip) {
                item->setToolTip(tip);
            }
        }
    }
    caption_->setText(tr("Slice %1 / %2 (axis %3) · sample %4 / %5")
                          .arg(presenter_->currentSlice())
                          .arg(presenter_->sliceCount())
                          .arg(axis_name(presenter_->metricAxis()))
                          .arg(presenter_->sample())
                          .arg(presenter_->sampleCount()));
    policy_->setText(policy_text(evaluation->options.empty));
    refreshDistanceNote();
}

// ---------------------------------------------------------------------------
// SliceChart

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

// ---------------------------------------------------------------------------
// SampleTable

SampleTable::SampleTable(SessionPresenter* presenter, QWidget* parent)
    : QTableWidget(parent), presenter_(presenter)
{
    setObjectName(QStringLiteral("sampleTable"));
    verticalHeader()->setVisible(false);
    verticalHeader()->setDefaultSectionSize(20);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &SampleTable::rebuild);
    connect(presenter_, &SessionPresenter::datasetChanged, this, &SampleTable::rebuild);
    connect(presenter_, &SessionPresenter::distancesChanged, this, &SampleTable::rebuild);
    connect(presenter_, &SessionPresenter::sampleChanged, this, &SampleTable::selectCurrent);
    connect(this, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (updating_ || row < 0 || !item(row, 0)) {
            return;
        }
        presenter_->setSample(item(row, 0)->data(kValueRole).toLongLong());
    });
    rebuild();
}

int SampleTable::rowOfSample(std::int64_t index) const
{
    for (int row = 0; row < rowCount(); ++row) {
        if (item(row, 0) && item(row, 0)->data(kValueRole).toLongLong() == index) {
            return row;
        }
    }
    return -1;
}

void SampleTable::rebuild()
{
    updating_ = true;
    setSortingEnabled(false);
    clear();
    const Evaluation* evaluation = presenter_->evaluation();
    if (!evaluation) {
        setRowCount(0);
        setColumnCount(0);
        updating_ = false;
        return;
    }
    const std::vector<Metric> metrics = table_metrics(*presenter_, false);
    QStringList headers{tr("Sample")};
    for (const Metric metric : metrics) {
        headers << metric_label(metric);
    }
    setColumnCount(static_cast<int>(headers.size()));
    setHorizontalHeaderLabels(headers);
    setRowCount(static_cast<int>(evaluation->samples.size()));
    for (std::size_t s = 0; s < evaluation->samples.size(); ++s) {
        const SampleResult& sample = evaluation->samples[s];
        const int row = static_cast<int>(s);
        setItem(row, 0, new NumberItem(QString::number(sample.index), static_cast<double>(sample.index)));
        item(row, 0)->setData(kValueRole, static_cast<qlonglong>(s));
        for (std::size_t m = 0; m < metrics.size(); ++m) {
            const double value = presenter_->sampleValueOf(static_cast<std::int64_t>(s), metrics[m]);
            setItem(row, static_cast<int>(m) + 1, value_item(*presenter_, metrics[m], value));
        }
    }
    setSortingEnabled(true);
    resizeColumnsToContents();
    updating_ = false;
    selectCurrent();
}

void SampleTable::selectCurrent()
{
    const int row = rowOfSample(presenter_->sample());
    if (row < 0 || row == currentRow()) {
        return;
    }
    updating_ = true;
    setCurrentCell(row, 0);
    updating_ = false;
}

// ---------------------------------------------------------------------------
// LabelTable

LabelTable::LabelTable(SessionPresenter* presenter, QWidget* parent)
    : QTableWidget(parent), presenter_(presenter)
{
    setObjectName(QStringLiteral("labelTable"));
    verticalHeader()->setVisible(false);
    verticalHeader()->setDefaultSectionSize(20);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &LabelTable::rebuild);
    connect(presenter_, &SessionPresenter::datasetChanged, this, &LabelTable::rebuild);
    connect(presenter_, &SessionPresenter::sampleChanged, this, &LabelTable::rebuild);
    connect(presenter_, &SessionPresenter::distancesChanged, this, &LabelTable::rebuild);
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() {
        updating_ = true;
        if (presenter_->labelIndex() >= 0 && presenter_->labelIndex() < rowCount()) {
            setCurrentCell(presenter_->labelIndex(), 0);
        }
        updating_ = false;
    });
    connect(this, &QTableWidget::currentCellChanged, this, [this](int row) {
        if (!updating_ && row >= 0) {
            presenter_->setLabelIndex(row);
        }
    });
    rebuild();
}

void LabelTable::rebuild()
{
    updating_ = true;
    clear();
    const Evaluation* evaluation = presenter_->evaluation();
    const std::int64_t sample = presenter_->sample();
    if (!evaluation || sample < 0 || sample >= static_cast<std::int64_t>(evaluation->samples.size()) ||
        evaluation->samples[static_cast<std::size_t>(sample)].labels.empty()) {
        setRowCount(0);
        setColumnCount(0);
        updating_ = false;
        return;
    }
    const std::vector<Metric> metrics = table_metrics(*presenter_, true);
    QStringList headers{tr("Label")};
    for (const Metric metric : metrics) {
        headers << metric_label(metric);
    }
    setColumnCount(static_cast<int>(headers.size()));
    setHorizontalHeaderLabels(headers);
    const auto& labels = evaluation->samples[static_cast<std::size_t>(sample)].labels;
    setRowCount(static_cast<int>(labels.size()));
    for (std::size_t l = 0; l < labels.size(); ++l) {
        const int row = static_cast<int>(l);
        setItem(row, 0,
                new NumberItem(QString::number(labels[l].label), static_cast<double>(labels[l].label)));
        for (std::size_t m = 0; m < metrics.size(); ++m) {
            const double value = presenter_->labelValueOf(sample, labels[l].label, metrics[m]);
            setItem(row, static_cast<int>(m) + 1, value_item(*presenter_, metrics[m], value));
        }
    }
    resizeColumnsToContents();
    if (presenter_->labelIndex() >= 0 && presenter_->labelIndex() < rowCount()) {
        setCurrentCell(presenter_->labelIndex(), 0);
    }
    updating_ = false;
}

// ---------------------------------------------------------------------------
// ComparisonTable

namespace {
constexpr int kBestRole = Qt::UserRole + 2;
}

ComparisonTable::ComparisonTable(ComparisonPresenter* comparison, QWidget* parent)
    : QTableWidget(parent), comparison_(comparison)
{
    setObjectName(QStringLiteral("comparisonTable"));
    verticalHeader()->setVisible(false);
    verticalHeader()->setDefaultSectionSize(20);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    SessionPresenter* session = comparison_->session();
    connect(comparison_, &ComparisonPresenter::entriesChanged, this, &ComparisonTable::rebuild);
    connect(comparison_, &ComparisonPresenter::shown3dChanged, this, &ComparisonTable::refreshValues);
    connect(comparison_, &ComparisonPresenter::distancesChanged, this, [this]() {
        if (comparison_->metrics() != metrics_) {
            rebuild(); // the distance columns came or went
        } else {
            refreshValues();
        }
    });
    for (auto signal : {&SessionPresenter::cursorChanged, &SessionPresenter::sampleChanged,
                        &SessionPresenter::labelChanged}) {
        connect(session, signal, this, &ComparisonTable::refreshValues);
    }
    connect(this, &QTableWidget::itemChanged, this, [this](QTableWidgetItem* item) {
        if (!updating_ && item->column() == kShownColumn) {
            comparison_->setShownIn3d(item->row(), item->checkState() == Qt::Checked);
        }
    });
    // Each prediction's activation (a logits model beside a probability model).
    setContextMenuPolicy(Qt::CustomContextMenu);
    connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const int row = rowAt(at.y());
        if (row < 0) {
            return;
        }
        QMenu menu(this);
        menu.setObjectName(QStringLiteral("activationMenu"));
        for (const auto& [activation, text] :
             {std::pair{Activation::None, tr("Probabilities (no activation)")},
              std::pair{Activation::Sigmoid, tr("Logits (sigmoid)")},
              std::pair{Activation::Softmax, tr("Logits over channels (softmax)")}}) {
            QAction* action = menu.addAction(text);
            action->setCheckable(true);
            action->setChecked(comparison_->activation(row) == activation);
            connect(action, &QAction::triggered, this,
                    [this, row, activation = activation]() { comparison_->setActivation(row, activation); });
        }
        menu.addSeparator();
        for (const auto& [decision, text] : {std::pair{Decision::Threshold, tr("Threshold per channel")},
                                             std::pair{Decision::Argmax, tr("Argmax over channels")}}) {
            QAction* action = menu.addAction(text);
            action->setCheckable(true);
            action->setChecked(comparison_->decision(row) == decision);
            connect(action, &QAction::triggered, this,
                    [this, row, decision = decision]() { comparison_->setDecision(row, decision); });
        }
        menu.exec(viewport()->mapToGlobal(at));
    });
    rebuild();
}

int ComparisonTable::columnOf(Metric metric, bool slice) const
{
    const auto found = std::find(metrics_.begin(), metrics_.end(), metric);
    if (found == metrics_.end()) {
        return -1;
    }
    return 2 + static_cast<int>(found - metrics_.begin()) * 2 + (slice ? 0 : 1);
}

bool ComparisonTable::isBest(int row, int column) const
{
    const QTableWidgetItem* cell = item(row, column);
    return cell && cell->data(kBestRole).toBool();
}

void ComparisonTable::rebuild()
{
    updating_ = true;
    metrics_ = comparison_->metrics();
    QStringList headers{tr("3D"), tr("Prediction")};
    for (const Metric metric : metrics_) {
        headers << tr("%1 slice").arg(metric_label(metric)) << tr("%1 sample").arg(metric_label(metric));
    }
    setColumnCount(static_cast<int>(headers.size()));
    setHorizontalHeaderLabels(headers);
    setRowCount(comparison_->count());
    updating_ = false;
    refreshValues();
    resizeColumnsToContents();
}

void ComparisonTable::refreshValues()
{
    updating_ = true;
    const int rows = comparison_->count();
    if (rowCount() != rows) {
        setRowCount(rows);
    }
    const auto cell = [this](int row, int column) {
        QTableWidgetItem* found = item(row, column);
        if (!found) {
            found = new QTableWidgetItem;
            found->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled);
            setItem(row, column, found);
        }
        return found;
    };
    for (int row = 0; row < rows; ++row) {
        QTableWidgetItem* shown = cell(row, kShownColumn);
        shown->setFlags(Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsUserCheckable);
        shown->setCheckState(comparison_->shownIn3d(row) ? Qt::Checked : Qt::Unchecked);
        shown->setToolTip(tr("Show this prediction's surface in the 3D view"));
        QTableWidgetItem* name = cell(row, kNameColumn);
        const Activation activation = comparison_->activation(row);
        name->setText(comparison_->name(row) + (activation == Activation::None
                                                    ? QString()
                                                    : QStringLiteral(" (%1)").arg(QString::fromUtf8(
                                                          activation_name(activation).data()))));
        name->setToolTip(comparison_->path(row) + tr("\nRight-click: this prediction's activation"));
        const Rgb colour = comparison_colour(row);
        name->setData(Qt::DecorationRole, QColor(colour.r, colour.g, colour.b));
    }
    for (std::size_t m = 0; m < metrics_.size(); ++m) {
        const Metric metric = metrics_[m];
        for (const bool slice : {true, false}) {
            const int column = columnOf(metric, slice);
            const std::vector<int> best = comparison_->bestEntries(metric, slice);
            for (int row = 0; row < rows; ++row) {
                QTableWidgetItem* item = cell(row, column);
                const double value =
                    slice ? comparison_->sliceValue(row, metric) : comparison_->sampleValue(row, metric);
                const bool pending = comparison_->pending(row, metric);
                item->setText(pending ? QString::fromUtf8(kPendingText) : format_value(metric, value));
                item->setToolTip(is_distance_metric(metric) &&
                                         comparison_->distanceState(row) == DistanceState::Failed
                                     ? comparison_->distanceError(row)
                                     : value_tooltip(metric, value));
                item->setData(kValueRole, value);
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
                const bool is_best = std::find(best.begin(), best.end(), row) != best.end();
                item->setData(kBestRole, is_best);
                QFont font = item->font();
                font.setBold(is_best);
                item->setFont(font);
                item->setBackground(is_best ? QBrush(QColor(0xC8, 0xEB, 0xDC)) : QBrush());
                item->setForeground(is_best ? QBrush(QColor(0x00, 0x3D, 0x2C)) : QBrush());
            }
        }
    }
    updating_ = false;
}

// ---------------------------------------------------------------------------
// ComparisonPanel

ComparisonPanel::ComparisonPanel(ComparisonPresenter* comparison, QWidget* parent)
    : QWidget(parent), comparison_(comparison)
{
    setObjectName(QStringLiteral("comparisonPanel"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);

    auto* top = new QHBoxLayout;
    add_ = new QPushButton(tr("Add Prediction…"));
    add_->setObjectName(QStringLiteral("addPredictionButton"));
    remove_ = new QPushButton(tr("Remove"));
    remove_->setObjectName(QStringLiteral("removePredictionButton"));
    remove_->setToolTip(tr("Remove the selected prediction (not the first)"));
    layout_check_ = new QCheckBox(tr("Side by side"));
    layout_check_->setObjectName(QStringLiteral("comparisonLayoutCheck"));
    layout_check_->setToolTip(tr("One linked slice view per prediction (View → Comparison Layout, Ctrl+K)"));
    top->addWidget(add_);
    top->addWidget(remove_);
    top->addStretch(1);
    top->addWidget(layout_check_);
    layout->addLayout(top);

    table_ = new ComparisonTable(comparison_);
    layout->addWidget(table_, 1);

    auto* pair = new QHBoxLayout;
    a_combo_ = new QComboBox;
    a_combo_->setObjectName(QStringLiteral("comparisonA"));
    b_combo_ = new QComboBox;
    b_combo_->setObjectName(QStringLiteral("comparisonB"));
    difference_check_ = new QCheckBox(tr("Difference"));
    difference_check_->setObjectName(QStringLiteral("differenceCheck"));
    difference_check_->setToolTip(tr("Slice views: only A right (blue), only B right (orange), both wrong "
                                     "(purple); both right uncoloured"));
    pair->addWidget(new QLabel(tr("A")));
    pair->addWidget(a_combo_, 1);
    pair->addWidget(new QLabel(tr("B")));
    pair->addWidget(b_combo_, 1);
    pair->addWidget(difference_check_);
    layout->addLayout(pair);

    auto* differ = new QHBoxLayout;
    differ_most_ = new QPushButton(tr("Differ most"));
    differ_most_->setObjectName(QStringLiteral("differMostButton"));
    differ_most_->setToolTip(tr("The slice with the largest |A − B| of the chart metric"));
    next_differ_ = new QPushButton(tr("Next"));
    next_differ_->setObjectName(QStringLiteral("nextDifferButton"));
    differ_note_ = new QLabel;
    differ_note_->setObjectName(QStringLiteral("differNote"));
    differ->addWidget(differ_most_);
    differ->addWidget(next_differ_);
    differ->addWidget(differ_note_, 1);
    layout->addLayout(differ);

    counts_ = new QLabel;
    counts_->setObjectName(QStringLiteral("differenceCounts"));
    counts_->setWordWrap(true);
    counts_->setTextFormat(Qt::RichText);
    layout->addWidget(counts_);

    connect(add_, &QPushButton::clicked, this, [this]() {
        // The window owns the file dialog (the presenter opens none).
        if (auto* action = window()->findChild<QAction*>(QStringLiteral("addPredictionAction"))) {
            action->trigger();
        }
    });
    connect(remove_, &QPushButton::clicked, this,
            [this]() { comparison_->removePrediction(table_->currentRow()); });
    connect(layout_check_, &QCheckBox::toggled, comparison_, &ComparisonPresenter::setComparisonLayout);
    connect(comparison_, &ComparisonPresenter::layoutChanged, this, [this]() {
        const QSignalBlocker block(layout_check_);
        layout_check_->setChecked(comparison_->comparisonLayout());
    });
    connect(difference_check_, &QCheckBox::toggled, comparison_, &ComparisonPresenter::setDifferenceMode);
    connect(comparison_, &ComparisonPresenter::differenceChanged, this, [this]() {
        const QSignalBlocker block(difference_check_);
        difference_check_->setChecked(comparison_->differenceMode());
        refreshCounts();
    });
    const auto pair_changed = [this]() {
        comparison_->setPair(a_combo_->currentIndex(), b_combo_->currentIndex());
    };
    connect(a_combo_, &QComboBox::currentIndexChanged, this, pair_changed);
    connect(b_combo_, &QComboBox::currentIndexChanged, this, pair_changed);
    connect(comparison_, &ComparisonPresenter::pairChanged, this, [this]() {
        refreshChoosers();
        refreshCounts();
        differ_note_->clear();
    });
    connect(comparison_, &ComparisonPresenter::entriesChanged, this, [this]() {
        refreshChoosers();
        refreshCounts();
    });
    SessionPresenter* session = comparison_->session();
    connect(session, &SessionPresenter::sampleChanged, this, &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::labelChanged, this, &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::evaluationChanged, this, &ComparisonPanel::refreshCounts);
    connect(comparison_, &ComparisonPresenter::differenceCountsChanged, this,
            &ComparisonPanel::refreshCounts);
    connect(session, &SessionPresenter::chartMetricChanged, differ_note_, &QLabel::clear);
    connect(differ_most_, &QPushButton::clicked, this,
            [this]() { showDiffer(comparison_->goToDifferMost(false)); });
    connect(next_differ_, &QPushButton::clicked, this,
            [this]() { showDiffer(comparison_->goToDifferMost(true)); });
    refreshChoosers();
    refreshCounts();
}

void ComparisonPanel::refreshChoosers()
{
    for (QComboBox* combo : {a_combo_, b_combo_}) {
        const QSignalBlocker block(combo);
        combo->clear();
        for (int i = 0; i < comparison_->count(); ++i) {
            combo->addItem(comparison_->name(i));
        }
    }
    const bool pair = comparison_->count() >= 2;
    {
        const QSignalBlocker block_a(a_combo_);
        const QSignalBlocker block_b(b_combo_);
        a_combo_->setCurrentIndex(pair ? comparison_->pairA() : -1);
        b_combo_->setCurrentIndex(pair ? comparison_->pairB() : -1);
    }
    for (QWidget* widget : {static_cast<QWidget*>(a_combo_), static_cast<QWidget*>(b_combo_),
                            static_cast<QWidget*>(difference_check_), static_cast<QWidget*>(differ_most_),
                            static_cast<QWidget*>(next_differ_), static_cast<QWidget*>(layout_check_)}) {
        widget->setEnabled(pair);
    }
    remove_->setEnabled(pair);
}

void ComparisonPanel::refreshCounts()
{
    if (!comparison_->differenceActive()) {
        counts_->setText(comparison_->count() >= 2 ? tr("Difference mode off.")
                                                   : tr("Add a prediction to compare."));
        return;
    }
    const std::optional<DifferenceCounts> ready = comparison_->readyDifferenceCounts();
    if (!ready) {
        counts_->setText(tr("Counting the voxels of this sample…"));
        return;
    }
    const DifferenceCounts counts = *ready;
    const auto swatch = [](const Rgb& c) {
        return QStringLiteral("<span style=\"background-color:#%1;\">&nbsp;&nbsp;&nbsp;</span>")
            .arg((c.r << 16) | (c.g << 8) | c.b, 6, 16, QLatin1Char('0'));
    };
    counts_->setText(tr("%1 only A right: %2 &nbsp; %3 only B right: %4 &nbsp; %5 both wrong: %6 (voxels, "
                        "this sample)")
                         .arg(swatch(kOnlyARightColour))
                         .arg(counts.only_a_right)
                         .arg(swatch(kOnlyBRightColour))
                         .arg(counts.only_b_right)
                         .arg(swatch(kBothWrongColour))
                         .arg(counts.both_wrong));
}

void ComparisonPanel::showDiffer(std::optional<std::int64_t> slice)
{
    if (!slice) {
        differ_note_->setText(tr("no slice with both values"));
        return;
    }
    SessionPresenter* session = comparison_->session();
    const Metric metric = session->chartMetric();
    const std::vector<double> a = comparison_->chartSeries(comparison_->pairA(), metric);
    const std::vector<double> b = comparison_->chartSeries(comparison_->pairB(), metric);
    const auto index = static_cast<std::size_t>(*slice);
    const double difference = index < a.size() && index < b.size() ? std::abs(a[index] - b[index])
                                                                   : std::numeric_limits<double>::quiet_NaN();
    differ_note_->setText(tr("#%1: slice %2, |Δ %3| = %4")
                              .arg(comparison_->differRank() + 1)
                              .arg(*slice)
                              .arg(metric_label(metric))
                              .arg(QString::number(difference, 'g', 4)));
}

} // namespace masklens::ui
