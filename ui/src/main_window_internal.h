// Helpers shared by the source files of MainWindow (private to masklens_ui).
#pragma once

#include <QImage>
#include <QString>

namespace masklens::ui {

// A PNG written to a temporary file beside `path` and renamed over it only when
// complete (QSaveFile), so a failed or interrupted save never leaves half a file.
bool save_png_atomically(const QImage& image, const QString& path);

} // namespace masklens::ui
