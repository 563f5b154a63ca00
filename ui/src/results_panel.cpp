#include "masklens/ui/results_panel.h"

#include "masklens/ui/case_image.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace masklens::ui {

ResultsPanel::ResultsPanel(QWidget* parent)
    : QWidget(parent), model_(new ResultsModel(this)), proxy_(new ResultsSortProxy(this))
{
    setObjectName(QStringLiteral("resultsPanel"));
    proxy_->setSourceModel(model_);

    summary_ = new QLabel;
    summary_->setObjectName(QStringLiteral("resultsSummary"));
    summary_->setWordWrap(true);
    metric_combo_ = new QComboBox;
    metric_combo_->setObjectName(QStringLiteral("resultsMetricCombo"));
    metric_combo_->setToolTip(tr("The metric \"Worst first\" sorts by"));
    worst_button_ = new QPushButton(tr("Worst first"));
    worst_button_->setObjectName(QStringLiteral("resultsWorstButton"));
    worst_button_->setToolTip(tr("Sort the cases by the chosen metric, worst first (losses and distances "
                                 "descending, dice/iou/… ascending; missing values last)"));
    table_ = new QTableView;
    table_->setObjectName(QStringLiteral("resultsTable"));
    table_->setModel(proxy_);
    table_->setSortingEnabled(true);
    table_->sortByColumn(-1, Qt::AscendingOrder); // file order until a header or "Worst first" is clicked
    table_->setSelectionBehavior(QAbstractItemView::SelectRows);
    table_->setSelectionMode(QAbstractItemView::SingleSelection);
    table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table_->verticalHeader()->setVisible(false);
    table_->horizontalHeader()->setStretchLastSection(true);
    table_->setToolTip(tr("Double-click a case (or press Enter) to open its prediction and target"));
    connect(table_, &QTableView::activated, this, &ResultsPanel::onActivated);
    connect(worst_button_, &QPushButton::clicked, this, &ResultsPanel::showWorstFirst);

    images_button_ = new QPushButton(tr("Images…"));
    images_button_->setObjectName(QStringLiteral("resultsImagesButton"));
    images_button_->setToolTip(tr("A folder of images (CT, MR): each case opens with the image named by its "
                                  "case id (or id_0000) under the masks"));
    images_label_ = new QLabel(tr("No images folder"));
    images_label_->setObjectName(QStringLiteral("resultsImagesLabel"));
    images_label_->setWordWrap(true);
    connect(images_button_, &QPushButton::clicked, this, [this]() {
        const QString folder =
            QFileDialog::getExistingDirectory(this, tr("Folder of images"), images_folder_);
        if (!folder.isEmpty()) {
            setImagesFolder(folder);
        }
    });

    auto* controls = new QHBoxLayout;
    controls->addWidget(new QLabel(tr("Metric")));
    controls->addWidget(metric_combo_, 1);
    controls->addWidget(worst_button_);
    auto* images = new QHBoxLayout;
    images->addWidget(images_label_, 1);
    images->addWidget(images_button_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(summary_);
    layout->addLayout(controls);
    layout->addLayout(images);
    layout->addWidget(table_, 1);
}

void ResultsPanel::setImagesFolder(const QString& folder)
{
    images_folder_ = folder;
    images_label_->setText(folder.isEmpty() ? tr("No images folder")
                                            : tr("Images: %1").arg(QDir(folder).dirName()));
    images_label_->setToolTip(folder);
}

void ResultsPanel::setResults(ResultsData results)
{
    const QString name = QFileInfo(results.path).fileName();
    const int cases = static_cast<int>(results.cases.size());
    const int failed = results.failed();
    QString text = tr("%1: %2 cases, %3 failed").arg(name).arg(cases).arg(failed);
    if (results.unpaired > 0) {
        text += tr(", %1 unpaired files").arg(results.unpaired);
    }
    summary_->setText(text);
    summary_->setToolTip(results.path);
    metric_combo_->clear();
    metric_combo_->addItems(results.metrics);
    worst_button_->setEnabled(!results.metrics.isEmpty());
    proxy_->sort(-1); // back to file order
    table_->horizontalHeader()->setSortIndicator(-1, Qt::AscendingOrder);
    model_->setResults(std::move(results));
    table_->resizeColumnsToContents();
}

void ResultsPanel::showWorstFirst()
{
    const QString metric = metric_combo_->currentText();
    const int column = model_->metricColumn(metric);
    if (column < 0) {
        return;
    }
    table_->sortByColumn(column, results_higher_is_worse(metric) ? Qt::DescendingOrder : Qt::AscendingOrder);
    if (proxy_->rowCount() > 0) {
        table_->selectRow(0);
        table_->scrollToTop();
    }
}

const ResultsCase& ResultsPanel::caseAt(int view_row) const
{
    return model_->resultsCase(proxy_->mapToSource(proxy_->index(view_row, 0)).row());
}

void ResultsPanel::activateRow(int view_row)
{
    onActivated(proxy_->index(view_row, 0));
}

void ResultsPanel::onActivated(const QModelIndex& index)
{
    if (!index.isValid()) {
        return;
    }
    const QModelIndex source = proxy_->mapToSource(index);
    if (!source.isValid()) {
        return;
    }
    const ResultsCase& c = model_->resultsCase(source.row());
    if (c.ok) {
        emit openRequested(c.prediction_path, c.target_path, c.id, case_image(images_folder_, c.id));
    } else {
        emit failedCaseActivated(c.id, c.error);
    }
}

} // namespace masklens::ui
