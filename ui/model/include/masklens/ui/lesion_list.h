// The app's lesion list: the per-lesion table (engine lesion_table.h) of one
// sample and label as a Qt table model, sortable by any column (size,
// status, Dice, ...), filterable to missed and false lesions, and the voxel
// each lesion's row centres the views on. Filled by LesionPass
// (lesion_pass.h); shown by ui/src/lesion_panel.cpp.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/ui/slice_model.h"

#include <QAbstractTableModel>

#include <optional>
#include <vector>

namespace masklens::ui {

// Which rows the list shows.
enum class LesionFilter {
    All,
    MissedOrFalse, // target lesions without a match (fn) and predicted ones without (fp)
    Missed,        // fn target lesions
    False,         // fp predicted lesions, largest first when sorted by size
};

// The rows of `evaluation`'s table for one sample and label (std::nullopt:
// the sample's own masks, label -1; a label without rows falls back to them).
std::vector<LesionRow> lesion_rows_of(const Evaluation& evaluation, std::int64_t sample,
                                      std::optional<std::int64_t> label);

// The voxel a row centres the views on: the centroid rounded to the
// nearest voxel, moved inside the lesion's bounding box (a centroid can lie
// outside a curved lesion, never outside its box).
Voxel lesion_centre(const LesionRow& row);

class LesionList : public QAbstractTableModel {
    Q_OBJECT
public:
    enum Column { Status, Side, Id, Volume, Voxels, Dice, Hd95, Matched, ColumnCount };
    // The raw value of a cell (numbers as double, NaN for none), for sorting.
    static constexpr int SortRole = Qt::UserRole;

    explicit LesionList(QObject* parent = nullptr);

    // Replaces the rows (keeps the filter and the sort).
    void setRows(std::vector<LesionRow> rows);
    void setFilter(LesionFilter filter);
    LesionFilter filter() const noexcept { return filter_; }
    // The shown row's lesion, or nullptr.
    const LesionRow* lesionAt(int row) const;
    // All rows before filtering.
    const std::vector<LesionRow>& allRows() const noexcept { return rows_; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    // Stable: equal keys keep the table's order (target lesions, then
    // predicted, by id); NaN (no score) sorts last either way.
    void sort(int column, Qt::SortOrder order = Qt::AscendingOrder) override;

private:
    void rebuild();
    double sortKey(const LesionRow& row, int column) const;

    std::vector<LesionRow> rows_;
    std::vector<int> shown_; // indices into rows_, filtered and sorted
    LesionFilter filter_ = LesionFilter::All;
    int sort_column_ = -1;
    Qt::SortOrder sort_order_ = Qt::AscendingOrder;
};

} // namespace masklens::ui
