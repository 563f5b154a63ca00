// The per-label table: one row per label of the current sample with its
// metrics; choosing a row chooses the label.
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QTableWidget>

namespace masklens::ui {

class LabelTable : public QTableWidget {
    Q_OBJECT
public:
    explicit LabelTable(SessionPresenter* presenter, QWidget* parent = nullptr);

private:
    void rebuild();
    SessionPresenter* presenter_;
    bool updating_ = false;
};

} // namespace masklens::ui
