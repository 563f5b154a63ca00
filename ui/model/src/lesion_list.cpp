// The app's lesion list (lesion_list.h).
#include "masklens/ui/lesion_list.h"

#include <QString>
#include <QStringList>

#include <algorithm>
#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

bool missed(const LesionRow& row)
{
    return row.lesion.side == LesionSide::Target && row.lesion.status == LesionStatus::Fn;
}

bool false_lesion(const LesionRow& row)
{
    return row.lesion.side == LesionSide::Prediction && row.lesion.status == LesionStatus::Fp;
}

QString status_text(const LesionRow& row)
{
    if (missed(row)) {
        return QStringLiteral("missed");
    }
    if (false_lesion(row)) {
        return QStringLiteral("false");
    }
    return QStringLiteral("found");
}

QString number_text(double value, int decimals)
{
    return std::isfinite(value) ? QString::number(value, 'f', decimals) : QStringLiteral("\u2014");
}

} // namespace

std::vector<LesionRow> lesion_rows_of(const Evaluation& evaluation, std::int64_t sample,
                                      std::optional<std::int64_t> label)
{
    const auto collect = [&](std::int64_t wanted) {
        std::vector<LesionRow> rows;
        for (const LesionRow& row : evaluation.lesions) {
            if (row.sample == sample && row.label == wanted) {
                rows.push_back(row);
            }
        }
        return rows;
    };
    std::vector<LesionRow> rows = label ? collect(*label) : std::vector<LesionRow>{};
    return rows.empty() ? collect(-1) : rows;
}

Voxel lesion_centre(const LesionRow& row)
{
    const LesionRecord& l = row.lesion;
    std::array<std::int64_t, 3> at{};
    for (std::size_t a = 0; a < 3; ++a) {
        const auto rounded = static_cast<std::int64_t>(std::llround(l.centroid[a]));
        at[a] = std::clamp(rounded, l.lo[a], std::max(l.lo[a], l.hi[a] - 1));
    }
    return {at[0], at[1], at[2]};
}

LesionList::LesionList(QObject* parent) : QAbstractTableModel(parent) {}

void LesionList::setRows(std::vector<LesionRow> rows)
{
    beginResetModel();
    rows_ = std::move(rows);
    rebuild();
    endResetModel();
}

void LesionList::setFilter(LesionFilter filter)
{
    beginResetModel();
    filter_ = filter;
    rebuild();
    endResetModel();
}

const LesionRow* LesionList::lesionAt(int row) const
{
    if (row < 0 || row >= static_cast<int>(shown_.size())) {
        return nullptr;
    }
    return &rows_[static_cast<std::size_t>(shown_[static_cast<std::size_t>(row)])];
}

int LesionList::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(shown_.size());
}

int LesionList::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

double LesionList::sortKey(const LesionRow& row, int column) const
{
    const LesionRecord& l = row.lesion;
    switch (column) {
    case Status: return missed(row) ? 0 : false_lesion(row) ? 1 : 2; // the problems first
    case Side: return l.side == LesionSide::Target ? 0 : 1;
    case Id: return static_cast<double>(l.id);
    case Volume: return row.volume_mm3;
    case Voxels: return static_cast<double>(l.voxels);
    case Dice: return l.dice;
    case Hd95: return l.hd95;
    case Matched: return static_cast<double>(l.matched.size());
    default: return kNaN;
    }
}

QVariant LesionList::data(const QModelIndex& index, int role) const
{
    const LesionRow* row = lesionAt(index.row());
    if (row == nullptr || index.column() < 0 || index.column() >= ColumnCount) {
        return {};
    }
    const LesionRecord& l = row->lesion;
    if (role == SortRole) {
        return sortKey(*row, index.column());
    }
    if (role == Qt::ToolTipRole) {
        const Voxel c = lesion_centre(*row);
        return QStringLiteral("%1 lesion %2: %3 voxels, centre (d %4, h %5, w %6); click to centre the views")
            .arg(QString::fromLatin1(lesion_side_name(l.side).data()))
            .arg(l.id)
            .arg(l.voxels)
            .arg(c.d)
            .arg(c.h)
            .arg(c.w);
    }
    if (role != Qt::DisplayRole) {
        return {};
    }
    switch (index.column()) {
    case Status: return status_text(*row);
    case Side: return QString::fromLatin1(lesion_side_name(l.side).data());
    case Id: return QString::number(l.id);
    case Volume: return number_text(row->volume_mm3, 1);
    case Voxels: return QString::number(l.voxels);
    case Dice: return number_text(l.dice, 3);
    case Hd95: return number_text(l.hd95, 2);
    case Matched: {
        QStringList ids;
        for (const std::int64_t id : l.matched) {
            ids << QString::number(id);
        }
        return ids.join(QStringLiteral(", "));
    }
    default: return {};
    }
}

QVariant LesionList::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    switch (section) {
    case Status: return QStringLiteral("Status");
    case Side: return QStringLiteral("Side");
    case Id: return QStringLiteral("Id");
    case Volume: return QStringLiteral("Volume (mm\u00b3)");
    case Voxels: return QStringLiteral("Voxels");
    case Dice: return QStringLiteral("Dice");
    case Hd95: return QStringLiteral("HD95 (mm)");
    case Matched: return QStringLiteral("Matched");
    default: return {};
    }
}

void LesionList::sort(int column, Qt::SortOrder order)
{
    beginResetModel();
    sort_column_ = column;
    sort_order_ = order;
    rebuild();
    endResetModel();
}

void LesionList::rebuild()
{
    shown_.clear();
    for (std::size_t i = 0; i < rows_.size(); ++i) {
        const LesionRow& row = rows_[i];
        const bool keep = filter_ == LesionFilter::All || (filter_ == LesionFilter::Missed && missed(row)) ||
                          (filter_ == LesionFilter::False && false_lesion(row)) ||
                          (filter_ == LesionFilter::MissedOrFalse && (missed(row) || false_lesion(row)));
        if (keep) {
            shown_.push_back(static_cast<int>(i));
        }
    }
    if (sort_column_ < 0 || sort_column_ >= ColumnCount) {
        return;
    }
    std::stable_sort(shown_.begin(), shown_.end(), [this](int a, int b) {
        const double ka = sortKey(rows_[static_cast<std::size_t>(a)], sort_column_);
        const double kb = sortKey(rows_[static_cast<std::size_t>(b)], sort_column_);
        if (std::isnan(ka) || std::isnan(kb)) {
            return !std::isnan(ka) && std::isnan(kb); // NaN last
        }
        return sort_order_ == Qt::AscendingOrder ? ka < kb : ka > kb;
    });
}

} // namespace masklens::ui
