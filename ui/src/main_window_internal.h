// Helpers shared by the source files of MainWindow (private to masklens_ui).
#pragma once

#include "masklens/engine/evaluate.h"

#include <QImage>
#include <QString>

namespace masklens::ui {

// The evaluation with the distance pass's metrics as further columns (rows
// matched by sample, label and slice; NaN where the pass has no row), for the
// CSV export. `distances` may be null.
Evaluation with_distance_columns(const Evaluation& evaluation, const Evaluation* distances);
// The Open Recent entry of a pair: file names with their parent folder.
QString recent_entry_text(const QString& prediction, const QString& target);
// A file name for exports from the case: "<prediction>[_vs_<target>]<suffix>".
QString default_export_name(const QString& prediction_path, const QString& target_path,
                            const QString& suffix);

// A PNG written to a temporary file beside `path` and renamed over it only when
// complete (QSaveFile), so a failed or interrupted save never leaves half a file.
bool save_png_atomically(const QImage& image, const QString& path);

} // namespace masklens::ui
