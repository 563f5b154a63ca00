// The per-case table of a folder evaluation (masklens --results FILE): a
// sortable QTableView over ResultsModel, a metric chooser and "Worst first"
// (sorts by the chosen metric in its bad direction, nulls last, and selects
// the worst case). Activating a row (double-click, Enter) asks to open that
// pair; the window does the loading.
#pragma once

#include "masklens/ui/results_model.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace masklens::ui {

class ResultsPanel : public QWidget {
    Q_OBJECT
public:
    explicit ResultsPanel(QWidget* parent = nullptr);

    void setResults(ResultsData results);
    const ResultsData& results() const noexcept { return model_->results(); }
    ResultsModel* model() const { return model_; }
    ResultsSortProxy* proxy() const { return proxy_; }
    QTableView* table() const { return table_; }
    QComboBox* metricCombo() const { return metric_combo_; }
    QPushButton* worstButton() const { return worst_button_; }
    QPushButton* imagesButton() const { return images_button_; }

    // A folder of images: a case opens with its image under the masks
    // (case_image.h: the file named by the case id, or id_0000). Empty: none.
    void setImagesFolder(const QString& folder);
    const QString& imagesFolder() const noexcept { return images_folder_; }

    // Sorts by the chosen metric, worst first, and selects the first row.
    void showWorstFirst();
    // The case shown in a row of the (sorted) table.
    const ResultsCase& caseAt(int view_row) const;
    // Activates a row of the (sorted) table, as a double-click does.
    void activateRow(int view_row);

signals:
    // A case with status ok was activated: open its pair, and `image` under
    // it (empty: no images folder, or none found there for the case).
    void openRequested(const QString& prediction, const QString& target, const QString& case_id,
                       const QString& image);
    // A failed case was activated (nothing to open).
    void failedCaseActivated(const QString& case_id, const QString& error);

private:
    void onActivated(const QModelIndex& index);

    ResultsModel* model_;
    ResultsSortProxy* proxy_;
    QLabel* summary_ = nullptr;
    QComboBox* metric_combo_ = nullptr;
    QPushButton* worst_button_ = nullptr;
    QPushButton* images_button_ = nullptr;
    QLabel* images_label_ = nullptr;
    QString images_folder_;
    QTableView* table_ = nullptr;
};

} // namespace masklens::ui
