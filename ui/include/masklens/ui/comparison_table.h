// The comparison's table: every prediction's metrics side by side.
#pragma once

#include "masklens/ui/comparison_presenter.h"

#include <QTableWidget>

#include <vector>

namespace masklens::ui {

// One row per prediction of the comparison: a "3D" check (shown in the 3D
// view), the name, and every metric of the current slice and of the sample;
// the best value of each column (higher_is_worse) is highlighted (bold, green
// background). Pending entries show "…".
class ComparisonTable : public QTableWidget {
    Q_OBJECT
public:
    explicit ComparisonTable(ComparisonPresenter* comparison, QWidget* parent = nullptr);
    // Column of a metric's slice or sample values (-1: not shown).
    int columnOf(Metric metric, bool slice) const;
    // Whether a cell is highlighted as the best of its column.
    bool isBest(int row, int column) const;
    static constexpr int kShownColumn = 0;
    static constexpr int kNameColumn = 1;

private:
    void rebuild();
    void refreshValues();
    ComparisonPresenter* comparison_;
    std::vector<Metric> metrics_;
    bool updating_ = false;
};

} // namespace masklens::ui
