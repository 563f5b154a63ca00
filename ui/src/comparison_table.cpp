#include "masklens/ui/comparison_table.h"

#include "masklens/ui/metric_format.h"
#include "table_cells.h"

#include <QAction>
#include <QHeaderView>
#include <QMenu>

#include <algorithm>

namespace masklens::ui {

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
    // Values change width (and best ones are bold): never elide them.
    resizeColumnsToContents();
}

} // namespace masklens::ui
