// MainWindow's exports: the CSV of the evaluation and PNG screenshots.
#include "masklens/ui/main_window.h"

#include "main_window_internal.h"
#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/report.h"

#include <QSaveFile>
#include <QStatusBar>

#include <sstream>

namespace masklens::ui {

// Screenshots carry the code that drew them, as PNG text chunks under the PNG
// specification's registered keywords: "Software" (name and version) and
// "Comment" (version and build options).
bool save_png_atomically(const QImage& image, const QString& path)
{
    QImage tagged = image;
    const BuildInfo& build = build_info();
    tagged.setText(QStringLiteral("Software"),
                   QStringLiteral("MaskLens %1").arg(QString::fromStdString(std::string(build.version))));
    tagged.setText(QStringLiteral("Comment"), QString::fromStdString(build_info_text()));
    QSaveFile file(path);
    return file.open(QIODevice::WriteOnly) && tagged.save(&file, "PNG") && file.commit();
}

bool MainWindow::exportCsv(const QString& path)
{
    const Evaluation* evaluation = presenter_->evaluation();
    if (!evaluation || presenter_->previewing()) {
        showError(tr("Nothing to export."), presenter_->previewing()
                                                ? tr("The numbers are still being computed.")
                                                : tr("Open a prediction and a target first."));
        return false;
    }
    try {
        std::ostringstream out;
        write_csv(out, *evaluation);
        write_file_atomically(path.toStdString(), out.str());
    } catch (const Error& error) {
        showError(tr("The CSV file could not be written."), QString::fromStdString(error.what()));
        return false;
    }
    statusBar()->showMessage(tr("Wrote %1").arg(path), 5000);
    return true;
}

QImage MainWindow::windowImage()
{
    return grab().toImage();
}

bool MainWindow::saveScreenshot(const QString& path)
{
    return save_png_atomically(windowImage(), path);
}

} // namespace masklens::ui
