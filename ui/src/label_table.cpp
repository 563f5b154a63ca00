#include "masklens/ui/label_table.h"

#include "masklens/ui/metric_format.h"
#include "table_cells.h"

#include <QHeaderView>

namespace masklens::ui {

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
    connect(presenter_, &SessionPresenter::labelColoursChanged, this, &LabelTable::rebuild);
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
        // Named and coloured as in the label chooser; sorted by the label's value.
        const LabelStyle style = label_style(presenter_->labelColours(), labels[l].label);
        auto* name = new NumberItem(label_text(style), static_cast<double>(labels[l].label));
        name->setIcon(label_swatch(style));
        name->setTextAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        setItem(row, 0, name);
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

} // namespace masklens::ui
