// MainWindow's comparison layout: one linked slice view per prediction (and
// the A/B difference view) with captions, in place of the view grid.
#include "masklens/ui/main_window.h"

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"

#include <QAction>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QStackedWidget>
#include <QVBoxLayout>

namespace masklens::ui {

QLabel* MainWindow::comparisonCaption(int index) const
{
    if (index < 0 || index >= static_cast<int>(comparison_captions_.size())) {
        return nullptr;
    }
    return comparison_captions_[static_cast<std::size_t>(index)];
}

bool MainWindow::comparisonLayoutShown() const
{
    return view_stack_->currentWidget() == comparison_host_;
}

void MainWindow::rebuildComparisonViews()
{
    // One tile per prediction, then the difference view while difference mode is active.
    const int entries = comparison_->count() >= 2 ? comparison_->count() : 0;
    const int wanted = entries + (entries > 0 && comparison_->differenceActive() ? 1 : 0);
    auto* row = static_cast<QHBoxLayout*>(comparison_host_->layout());
    while (static_cast<int>(comparison_tiles_.size()) > wanted) {
        QWidget* tile = comparison_tiles_.back();
        row->removeWidget(tile);
        delete tile;
        comparison_tiles_.pop_back();
        comparison_views_.pop_back();
        comparison_captions_.pop_back();
    }
    while (static_cast<int>(comparison_tiles_.size()) < wanted) {
        const int index = static_cast<int>(comparison_tiles_.size());
        auto* tile = new QWidget;
        auto* column = new QVBoxLayout(tile);
        column->setContentsMargins(0, 0, 0, 0);
        column->setSpacing(1);
        auto* caption = new QLabel;
        caption->setObjectName(QStringLiteral("comparisonCaption%1").arg(index));
        caption->setAlignment(Qt::AlignCenter);
        auto* view = new SliceView(presenter_, comparison_->comparisonAxis());
        view->setObjectName(QStringLiteral("comparisonView%1").arg(index));
        view->bindComparison(comparison_, index);
        connect(view, &SliceView::hovered, this, &MainWindow::updateHover);
        connect(view, &SliceView::hoverLeft, this, [this]() { hover_label_->clear(); });
        connect(view, &SliceView::maximiseRequested, this,
                [this]() { comparison_->setComparisonLayout(false); });
        column->addWidget(caption);
        column->addWidget(view, 1);
        row->addWidget(tile, 1);
        comparison_tiles_.push_back(tile);
        comparison_views_.push_back(view);
        comparison_captions_.push_back(caption);
    }
    for (int i = 0; i < wanted; ++i) {
        SliceView* view = comparison_views_[static_cast<std::size_t>(i)];
        QLabel* caption = comparison_captions_[static_cast<std::size_t>(i)];
        if (i < entries) {
            if (view->entry() != i) {
                view->bindComparison(comparison_, i);
            }
            const Rgb c = comparison_colour(i);
            caption->setText(comparison_->name(i));
            caption->setStyleSheet(QStringLiteral("QLabel { border-bottom: 3px solid rgb(%1, %2, %3); }")
                                       .arg(c.r)
                                       .arg(c.g)
                                       .arg(c.b));
            caption->setToolTip(comparison_->path(i));
        } else {
            if (view->entry() != SliceView::kDifference) {
                view->bindComparison(comparison_, SliceView::kDifference);
            }
            caption->setText(
                tr("%1 vs %2: only A right · only B right · both wrong")
                    .arg(comparison_->name(comparison_->pairA()), comparison_->name(comparison_->pairB())));
            caption->setStyleSheet({});
            caption->setToolTip(
                tr("blue #0072B2: only A right · orange #E69F00: only B right · purple #CC79A7: "
                   "both wrong · uncoloured: both right"));
        }
    }
    updateComparisonLayout();
}

void MainWindow::updateComparisonLayout()
{
    const bool on = comparison_->comparisonLayout();
    if (on && !layout_was_on_) {
        layout_was_on_ = true;
        // The orientation of the maximised slice view, else axial.
        auto* slice = qobject_cast<SliceView*>(maximised_);
        comparison_->setComparisonAxis(slice ? slice->axis() : ViewAxis::Axial);
    }
    layout_was_on_ = on;
    const bool show = comparison_->comparisonLayout() && comparison_->count() >= 2;
    view_stack_->setCurrentWidget(show ? comparison_host_ : view_stack_->widget(0));
    if (QAction* action = findChild<QAction*>(QStringLiteral("comparisonLayoutAction"))) {
        const QSignalBlocker block(action);
        action->setChecked(comparison_->comparisonLayout());
    }
}

} // namespace masklens::ui
