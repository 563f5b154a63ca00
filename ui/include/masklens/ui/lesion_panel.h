// The lesion tab: "Find lesions" runs the lesion pass (lesion_pass.h) on the
// session's pair; the list (lesion_list.h) shows the current sample's and
// label's target and predicted lesions, sortable by any column (size, status,
// Dice, HD95), filterable to missed and false lesions; clicking a row moves
// the cursor to the lesion's centre, so every view centres on it, and
// selects it in the views' Lesions mode. The tab keeps the presenter's
// lesion overlay (lesion_overlay.h) in step with its rows (sample, label,
// selection); choosing the Lesions display mode finds the lesions.
#pragma once

#include "masklens/ui/lesion_list.h"
#include "masklens/ui/lesion_pass.h"
#include "masklens/ui/session_presenter.h"

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QTableView;

namespace masklens::ui {

class LesionPanel : public QWidget {
    Q_OBJECT
public:
    explicit LesionPanel(SessionPresenter* presenter, QWidget* parent = nullptr);

    LesionList* list() noexcept { return list_; }
    // Runs the pass; `synchronous` (tests): returns when it has delivered.
    void findLesions(bool synchronous = false);
    // Moves the cursor to the lesion of the shown row.
    void centreOn(int row);

private:
    void showRows();
    void stale();
    SessionPresenter* presenter_;
    LesionPass pass_;
    LesionList* list_;
    QTableView* view_;
    QComboBox* filter_;
    QPushButton* find_;
    QLabel* status_;
};

} // namespace masklens::ui
