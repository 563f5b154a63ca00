// The numeric widgets beside the views: the loss panel, the per-slice chart,
// the per-sample and per-label tables. Each binds to the SessionPresenter and
// shows the engine's values as they are (NaN as an em dash).
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/session_presenter.h"

#include <QChartView>
#include <QTableWidget>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QPushButton;
class QLineSeries;
class QScatterSeries;
class QValueAxis;

namespace masklens::ui {

// "—" for NaN, "∞" for infinity (one mask empty), integers for counts, 6
// significant digits otherwise.
QString format_value(Metric metric, double value);
// The metric's engine name; distance metrics carry their unit ("hd95 (mm)").
QString metric_label(Metric metric);
// The metric table's one-line summary, and why a NaN value is undefined
// (empty for other values): tooltips of names and value cells.
QString metric_tooltip(Metric metric);
QString value_tooltip(Metric metric, double value);
// The text shown while a distance metric is being computed.
inline constexpr const char* kPendingText = "…";

class LossPanel : public QWidget {
    Q_OBJECT
public:
    explicit LossPanel(SessionPresenter* presenter, QWidget* parent = nullptr);
    QTableWidget* table() const { return table_; }
    // The shown text of a metric's slice and sample cells (tests).
    QString sliceText(Metric metric) const;
    QString sampleText(Metric metric) const;
    QDoubleSpinBox* nsdToleranceBox() const { return nsd_tolerance_; }

private:
    void refresh();
    void refreshDistanceNote();
    int rowOf(Metric metric) const;
    SessionPresenter* presenter_;
    QLabel* caption_;
    QLabel* policy_;
    QLabel* distance_note_;
    QDoubleSpinBox* nsd_tolerance_;
    QTableWidget* table_;
};

class SliceChart : public QChartView {
    Q_OBJECT
public:
    explicit SliceChart(SessionPresenter* presenter, QWidget* parent = nullptr);
    // Widget position of the chart point for `slice` (tests, hit-testing).
    std::optional<QPointF> pointPosition(std::int64_t slice) const;
    // The slice the marker is on (-1: none).
    std::int64_t markerSlice() const;
    int pointCount() const;
    // Overlays one curve per prediction of the comparison (legend with names)
    // while it holds more than one.
    void bindComparison(ComparisonPresenter* comparison);
    // The curves drawn (1 without a comparison) and their legend names.
    int curveCount() const;
    QStringList curveNames() const;
    // Finite points of curve `index`.
    QList<QPointF> curvePoints(int index) const;

protected:
    void mousePressEvent(QMouseEvent* event) override;

private:
    void rebuild();
    void moveMarker();
    SessionPresenter* presenter_;
    ComparisonPresenter* comparison_ = nullptr;
    QLineSeries* line_;
    std::vector<QLineSeries*> extra_lines_; // comparison entries 1..n-1
    QScatterSeries* marker_;
    QValueAxis* x_axis_;
    QValueAxis* y_axis_;
    std::vector<double> series_;
};

class SampleTable : public QTableWidget {
    Q_OBJECT
public:
    explicit SampleTable(SessionPresenter* presenter, QWidget* parent = nullptr);
    // Row showing sample `index` (after sorting), -1 when absent.
    int rowOfSample(std::int64_t index) const;

private:
    void rebuild();
    void selectCurrent();
    SessionPresenter* presenter_;
    bool updating_ = false;
};

class LabelTable : public QTableWidget {
    Q_OBJECT
public:
    explicit LabelTable(SessionPresenter* presenter, QWidget* parent = nullptr);

private:
    void rebuild();
    SessionPresenter* presenter_;
    bool updating_ = false;
};

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

// The metrics shown as columns of the sample and label tables.
std::vector<Metric> table_metrics(const Evaluation& evaluation, bool labels_only);
// The same, with the surface-distance metrics (hd95, assd, nsd, hd) after iou
// while the presenter's distance pass is enabled.
std::vector<Metric> table_metrics(const SessionPresenter& presenter, bool labels_only);

} // namespace masklens::ui
