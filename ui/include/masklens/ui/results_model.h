// The per-case table of a folder evaluation (`masklens-cli evaluate-folder
// ... --format json`, or `masklens-cli merge`), without widgets: the parsed
// results file, a table model (one row per case: case id, status, one column
// per metric, error) and a sort proxy that sorts numbers numerically and keeps
// null values (NaN, ±inf, metric absent) last in both directions.
#pragma once

#include "masklens/ui/results_file.h"

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace masklens::ui {

// Whether a larger value of the named metric is worse (losses, distances, fp,
// fn; unknown names too); dice, iou, precision, recall, specificity, nsd, tp, tn: false.
bool results_higher_is_worse(const QString& metric);

class ResultsModel : public QAbstractTableModel {
    Q_OBJECT
public:
    // Numbers (double, NaN for null) for metric columns, text otherwise.
    static constexpr int SortRole = Qt::UserRole + 1;
    static constexpr int CaseColumn = 0;
    static constexpr int StatusColumn = 1;
    static constexpr int FirstMetricColumn = 2;

    explicit ResultsModel(QObject* parent = nullptr);

    void setResults(ResultsData results);
    const ResultsData& results() const noexcept { return data_; }
    const ResultsCase& resultsCase(int row) const { return data_.cases.at(static_cast<std::size_t>(row)); }
    // The column of a metric (-1 when absent) and the error column.
    int metricColumn(const QString& metric) const;
    int errorColumn() const { return FirstMetricColumn + static_cast<int>(data_.metrics.size()); }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    ResultsData data_;
};

// Sorts ResultsModel::SortRole: numbers numerically, text in natural order
// (case2 before case10); null numbers always after every number.
class ResultsSortProxy : public QSortFilterProxyModel {
    Q_OBJECT
public:
    explicit ResultsSortProxy(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
};

// Formats a metric value for the table ("—" for null).
QString format_result_value(double value);

} // namespace masklens::ui
