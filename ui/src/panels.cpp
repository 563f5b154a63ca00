#include "masklens/ui/panels.h"

#include <QChart>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineSeries>
#include <QMouseEvent>
#include <QScatterSeries>
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
    if (metric == Metric::Hd || metric == Metric::Hd95 || metric == Metric::Assd) {
        return name + QStringLiteral(" (mm)");
    }
    return name;
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

void SliceChart::rebuild()
{
    const Metric metric = presenter_->chartMetric();
    series_ = presenter_->chartSeries(metric);
    QList<QPointF> points;
    double low = std::numeric_limits<double>::infinity();
    double high = -std::numeric_limits<double>::infinity();
    for (std::size_t i = 0; i < series_.size(); ++i) {
        if (std::isfinite(series_[i])) { // NaN: undefined; inf: one mask empty (not plottable)
            points.append(QPointF(static_cast<double>(i), series_[i]));
            low = std::min(low, series_[i]);
            high = std::max(high, series_[i]);
        }
    }
    line_->replace(points);
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
    x_axis_->setRange(0, std::max<double>(1.0, static_cast<double>(series_.size()) - 1.0));
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
    const std::vector<Metric> metrics = table_metrics(*evaluation, false);
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
            const auto index = presenter_->metricIndex(metrics[m]);
            const double value = index && *index < sample.values.size()
                                     ? sample.values[*index]
                                     : std::numeric_limits<double>::quiet_NaN();
            setItem(row, static_cast<int>(m) + 1, new NumberItem(format_value(metrics[m], value), value));
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
    const std::vector<Metric> metrics = table_metrics(*evaluation, true);
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
            const auto index = presenter_->metricIndex(metrics[m]);
            const double value = index && *index < labels[l].values.size()
                                     ? labels[l].values[*index]
                                     : std::numeric_limits<double>::quiet_NaN();
            setItem(row, static_cast<int>(m) + 1, new NumberItem(format_value(metrics[m], value), value));
        }
    }
    resizeColumnsToContents();
    if (presenter_->labelIndex() >= 0 && presenter_->labelIndex() < rowCount()) {
        setCurrentCell(presenter_->labelIndex(), 0);
    }
    updating_ = false;
}

} // namespace masklens::ui
