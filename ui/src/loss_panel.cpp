#include "masklens/ui/loss_panel.h"

#include "masklens/ui/metric_format.h"
#include "table_cells.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSignalBlocker>
#include <QVBoxLayout>

#include <limits>

namespace masklens::ui {

namespace {

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
    // The label chosen (and following it or not) changes the values shown.
    for (auto signal : {&SessionPresenter::evaluationChanged, &SessionPresenter::cursorChanged,
                        &SessionPresenter::sampleChanged, &SessionPresenter::datasetChanged,
                        &SessionPresenter::distancesChanged, &SessionPresenter::labelChanged,
                        &SessionPresenter::chartMetricChanged}) {
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

} // namespace masklens::ui
