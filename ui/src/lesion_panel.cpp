// The lesion tab (lesion_panel.h).
#include "masklens/ui/lesion_panel.h"

#include "masklens/ui/lesion_overlay.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTableView>
#include <QVBoxLayout>

namespace masklens::ui {

LesionPanel::LesionPanel(SessionPresenter* presenter, QWidget* parent)
    : QWidget(parent), presenter_(presenter), pass_(this), list_(new LesionList(this)), view_(new QTableView),
      filter_(new QComboBox), find_(new QPushButton(tr("Find lesions"))), status_(new QLabel)
{
    auto* layout = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    find_->setToolTip(tr("Label the connected components of both masks (current settings) and match them "
                         "(IoU >= 0.5)"));
    filter_->addItem(tr("All lesions"), static_cast<int>(LesionFilter::All));
    filter_->addItem(tr("Missed and false"), static_cast<int>(LesionFilter::MissedOrFalse));
    filter_->addItem(tr("Missed"), static_cast<int>(LesionFilter::Missed));
    filter_->addItem(tr("False (by size)"), static_cast<int>(LesionFilter::False));
    row->addWidget(find_);
    row->addWidget(filter_, 1);
    layout->addLayout(row);
    layout->addWidget(status_);
    view_->setModel(list_);
    view_->setSortingEnabled(true);
    view_->setSelectionBehavior(QAbstractItemView::SelectRows);
    view_->setSelectionMode(QAbstractItemView::SingleSelection);
    view_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    view_->verticalHeader()->hide();
    view_->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    layout->addWidget(view_, 1);
    status_->setText(tr("Not computed: Find lesions."));

    connect(find_, &QPushButton::clicked, this, [this]() { findLesions(); });
    connect(filter_, &QComboBox::currentIndexChanged, this, [this](int index) {
        const auto filter = static_cast<LesionFilter>(filter_->itemData(index).toInt());
        list_->setFilter(filter);
        if (filter == LesionFilter::False) { // false blobs listed by size, largest first
            view_->sortByColumn(LesionList::Volume, Qt::DescendingOrder);
        }
    });
    connect(view_, &QTableView::clicked, this, [this](const QModelIndex& index) { centreOn(index.row()); });
    // New data or numbers make the rows stale; another sample or label shows other rows.
    connect(presenter_, &SessionPresenter::datasetChanged, this, [this]() { stale(); });
    connect(presenter_, &SessionPresenter::evaluationChanged, this, [this]() { stale(); });
    connect(presenter_, &SessionPresenter::sampleChanged, this, [this]() { showRows(); });
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() { showRows(); });
    // The Lesions display mode needs the lesions: choosing it finds them.
    connect(presenter_, &SessionPresenter::layersChanged, this, [this]() {
        if (presenter_->layers().mode == DisplayMode::Lesions && pass_.state() == LesionState::Off &&
            presenter_->hasData()) {
            findLesions(presenter_->synchronous());
        }
    });
}

void LesionPanel::findLesions(bool synchronous)
{
    if (!presenter_->dataset().evaluator) {
        status_->setText(tr("No data."));
        return;
    }
    status_->setText(tr("Finding lesions..."));
    pass_.launch(
        presenter_->dataset().evaluator, statistics_options(presenter_->settings(), {}),
        [this]() { showRows(); }, synchronous);
}

void LesionPanel::stale()
{
    pass_.reset();
    presenter_->setLesionOverlay(nullptr);
    list_->setRows({});
    status_->setText(tr("Not computed: Find lesions."));
    // The views show lesions: find them again for the new numbers.
    if (presenter_->layers().mode == DisplayMode::Lesions && presenter_->hasData() &&
        !presenter_->previewing()) {
        findLesions(presenter_->synchronous());
    }
}

void LesionPanel::showRows()
{
    if (pass_.state() == LesionState::Failed) {
        list_->setRows({});
        presenter_->setLesionOverlay(nullptr);
        status_->setText(pass_.error());
        return;
    }
    const Evaluation* evaluation = pass_.evaluation();
    if (evaluation == nullptr) {
        return;
    }
    list_->setRows(lesion_rows_of(*evaluation, presenter_->sample(), presenter_->currentLabel()));
    // The views' Lesions mode: the same rows' lesions, labelled by the engine
    // as the table numbers them (the volumes the pass evaluated: the session's),
    // off the UI thread.
    pass_.makeOverlay(
        presenter_->dataset().prediction, presenter_->dataset().target, presenter_->sample(),
        presenter_->currentLabel(),
        [this](std::shared_ptr<const LesionOverlay> overlay, const QString& error) {
            presenter_->setLesionOverlay(std::move(overlay));
            if (!error.isEmpty()) {
                status_->setText(error);
            }
        },
        presenter_->synchronous());
    int missed = 0, false_lesions = 0, target = 0, predicted = 0;
    for (const LesionRow& row : list_->allRows()) {
        const bool is_target = row.lesion.side == LesionSide::Target;
        target += is_target ? 1 : 0;
        predicted += is_target ? 0 : 1;
        missed += row.lesion.status == LesionStatus::Fn ? 1 : 0;
        false_lesions += row.lesion.status == LesionStatus::Fp ? 1 : 0;
    }
    status_->setText(tr("%1 target lesions (%2 missed), %3 predicted (%4 false)")
                         .arg(target)
                         .arg(missed)
                         .arg(predicted)
                         .arg(false_lesions));
}

void LesionPanel::centreOn(int row)
{
    if (const LesionRow* lesion = list_->lesionAt(row)) {
        if (const LesionOverlay* overlay = presenter_->lesionOverlay()) {
            presenter_->setLesionOverlay(
                with_selection(*overlay, LesionKey{lesion->lesion.side, lesion->lesion.id}));
        }
        presenter_->setCursor(lesion_centre(*lesion));
    }
}

} // namespace masklens::ui
