#include "masklens/ui/sample_table.h"

#include "masklens/ui/metric_format.h"
#include "table_cells.h"

#include <QHeaderView>

namespace masklens::ui {

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
    connect(presenter_, &SessionPresenter::labelChanged, this,
            &SampleTable::rebuild); // values follow the label
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

} // namespace masklens::ui
