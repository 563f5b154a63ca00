// The per-sample table: one sortable row per sample with its metrics;
// choosing a row chooses the sample.
#pragma once

#include "masklens/ui/session_presenter.h"

#include <QTableWidget>

namespace masklens::ui {

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

} // namespace masklens::ui
