#include "masklens/ui/results_model.h"

#include "masklens/engine/metrics.h"
#include "masklens/ui/session_presenter.h"

#include <QBrush>
#include <QColor>

#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

constexpr double kNull = std::numeric_limits<double>::quiet_NaN();

// Natural order: digit runs compare as numbers (case2 < case10), the rest
// case-insensitively. Returns <0, 0, >0.
int natural_compare(const QString& a, const QString& b)
{
    qsizetype i = 0;
    qsizetype j = 0;
    while (i < a.size() && j < b.size()) {
        if (a[i].isDigit() && b[j].isDigit()) {
            qsizetype i_end = i;
            qsizetype j_end = j;
            while (i_end < a.size() && a[i_end].isDigit()) {
                ++i_end;
            }
            while (j_end < b.size() && b[j_end].isDigit()) {
                ++j_end;
            }
            // Compare the runs without leading zeros: longer is larger, else digit by digit.
            QStringView x = QStringView(a).mid(i, i_end - i);
            QStringView y = QStringView(b).mid(j, j_end - j);
            while (x.size() > 1 && x.front() == u'0') {
                x = x.mid(1);
            }
            while (y.size() > 1 && y.front() == u'0') {
                y = y.mid(1);
            }
            if (x.size() != y.size()) {
                return x.size() < y.size() ? -1 : 1;
            }
            if (const int order = x.compare(y); order != 0) {
                return order;
            }
            i = i_end;
            j = j_end;
            continue;
        }
        const QChar x = a[i].toCaseFolded();
        const QChar y = b[j].toCaseFolded();
        if (x != y) {
            return x < y ? -1 : 1;
        }
        ++i;
        ++j;
    }
    if (i < a.size() || j < b.size()) {
        return i < a.size() ? 1 : -1;
    }
    return a.compare(b, Qt::CaseSensitive);
}

} // namespace

bool results_higher_is_worse(const QString& metric)
{
    const std::optional<Metric> parsed = parse_metric(metric.toStdString());
    return parsed ? higher_is_worse(*parsed) : true;
}

QString format_result_value(double value)
{
    if (!std::isfinite(value)) {
        return QStringLiteral("—");
    }
    if (value == std::floor(value) && std::abs(value) < 1e15) {
        return QString::number(static_cast<qint64>(value));
    }
    return QString::number(value, 'g', 6);
}

ResultsModel::ResultsModel(QObject* parent) : QAbstractTableModel(parent) {}

void ResultsModel::setResults(ResultsData results)
{
    beginResetModel();
    data_ = std::move(results);
    endResetModel();
}

int ResultsModel::metricColumn(const QString& metric) const
{
    const qsizetype index = data_.metrics.indexOf(metric);
    return index < 0 ? -1 : FirstMetricColumn + static_cast<int>(index);
}

int ResultsModel::rowCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(data_.cases.size());
}

int ResultsModel::columnCount(const QModelIndex& parent) const
{
    return parent.isValid() ? 0 : errorColumn() + 1;
}

QVariant ResultsModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= rowCount() || index.column() >= columnCount()) {
        return {};
    }
    const ResultsCase& c = resultsCase(index.row());
    const int column = index.column();
    const bool metric = column >= FirstMetricColumn && column < errorColumn();
    const double value = metric ? c.values[static_cast<std::size_t>(column - FirstMetricColumn)] : kNull;
    switch (role) {
    case Qt::DisplayRole:
        if (column == CaseColumn) {
            return c.id;
        }
        if (column == StatusColumn) {
            return c.status;
        }
        if (metric) {
            return c.ok ? format_result_value(value) : QString();
        }
        return c.error;
    case SortRole:
        if (column == CaseColumn) {
            return c.id;
        }
        if (column == StatusColumn) {
            return c.status;
        }
        if (metric) {
            return value;
        }
        return c.error;
    case Qt::ToolTipRole:
        if (!c.ok) {
            return QStringLiteral("%1 failed: %2").arg(c.id, c.error);
        }
        if (metric && !std::isfinite(value)) {
            return c.reasons.value(column - FirstMetricColumn);
        }
        if (column == CaseColumn) {
            return QStringLiteral("%1\n%2").arg(c.prediction_path, c.target_path);
        }
        return {};
    case Qt::TextAlignmentRole:
        return metric ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                      : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (!c.ok) {
            return QBrush(QColor(0xD5, 0x5E, 0x00));
        }
        return {};
    default: return {};
    }
}

QVariant ResultsModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal) {
        return QAbstractTableModel::headerData(section, orientation, role);
    }
    if (role == Qt::DisplayRole) {
        if (section == CaseColumn) {
            return tr("case");
        }
        if (section == StatusColumn) {
            return tr("status");
        }
        if (section == errorColumn()) {
            return tr("error");
        }
        return data_.metrics.value(section - FirstMetricColumn);
    }
    if (role == Qt::ToolTipRole && section >= FirstMetricColumn && section < errorColumn()) {
        return results_higher_is_worse(data_.metrics.value(section - FirstMetricColumn))
                   ? tr("lower is better")
                   : tr("higher is better");
    }
    return {};
}

ResultsSortProxy::ResultsSortProxy(QObject* parent) : QSortFilterProxyModel(parent)
{
    setSortRole(ResultsModel::SortRole);
}

bool ResultsSortProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const
{
    // Ties keep the file order in both directions (descending reverses lessThan).
    const bool ascending = sortOrder() == Qt::AscendingOrder;
    const bool file_order = ascending ? left.row() < right.row() : left.row() > right.row();
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    if (a.typeId() == QMetaType::Double && b.typeId() == QMetaType::Double) {
        const double x = a.toDouble();
        const double y = b.toDouble();
        const bool x_null = !std::isfinite(x);
        const bool y_null = !std::isfinite(y);
        if (x_null && y_null) {
            return file_order;
        }
        if (x_null || y_null) {
            // Nulls last whatever the order.
            return ascending ? y_null : x_null;
        }
        return x == y ? file_order : x < y;
    }
    const int order = natural_compare(a.toString(), b.toString());
    return order == 0 ? file_order : order < 0;
}

} // namespace masklens::ui
