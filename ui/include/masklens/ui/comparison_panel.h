// The "Compare" tab beside the views.
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/comparison_table.h"

#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;

namespace masklens::ui {

// The comparison tab: the table, A / B choosers, difference mode (with the
// voxel counts), "Differ most" / "Next", layout switch, add and remove.
class ComparisonPanel : public QWidget {
    Q_OBJECT
public:
    explicit ComparisonPanel(ComparisonPresenter* comparison, QWidget* parent = nullptr);
    ComparisonTable* table() const { return table_; }
    QComboBox* aCombo() const { return a_combo_; }
    QComboBox* bCombo() const { return b_combo_; }
    QCheckBox* differenceCheck() const { return difference_check_; }
    QCheckBox* layoutCheck() const { return layout_check_; }
    QPushButton* differMostButton() const { return differ_most_; }
    QPushButton* nextDifferButton() const { return next_differ_; }
    QPushButton* addButton() const { return add_; }
    QLabel* countsLabel() const { return counts_; }

private:
    void refreshChoosers();
    void refreshCounts();
    void showDiffer(std::optional<std::int64_t> slice);
    ComparisonPresenter* comparison_;
    ComparisonTable* table_;
    QComboBox* a_combo_;
    QComboBox* b_combo_;
    QCheckBox* difference_check_;
    QCheckBox* layout_check_;
    QPushButton* differ_most_;
    QPushButton* next_differ_;
    QPushButton* add_;
    QPushButton* remove_;
    QLabel* differ_note_;
    QLabel* counts_;
};

} // namespace masklens::ui
