// MainWindow's opening of files: pairs, comparisons, folder results, the
// recent pairs, drag and drop.
#include "masklens/ui/main_window.h"

#include "main_window_internal.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/results_panel.h"

#include <QAction>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMimeData>
#include <QSettings>
#include <QStatusBar>

namespace masklens::ui {

namespace {

constexpr int kMaxRecent = 8;

bool looks_like_target(const QString& path)
{
    const QString name = QFileInfo(path).fileName().toLower();
    for (const char* hint : {"target", "label", "gt", "truth", "mask", "seg"}) {
        if (name.contains(QLatin1String(hint)) && !name.contains(QLatin1String("pred"))) {
            return true;
        }
    }
    return false;
}

} // namespace

void MainWindow::openFiles(const QString& prediction, const QString& target)
{
    // A new pair: the predictions added for the previous one are dropped once it is open.
    comparison_->openComparison(target, {prediction});
}

void MainWindow::openAskingTarget(const QString& prediction)
{
    const QString target = QFileDialog::getOpenFileName(
        this, tr("Target for %1").arg(QFileInfo(prediction).fileName()), QFileInfo(prediction).absolutePath(),
        tr("Volumes (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.npy *.npz *.png *.tif *.tiff);;All files "
           "(*)"));
    if (!target.isEmpty()) {
        openFiles(prediction, target);
    }
}

void MainWindow::openComparison(const QString& target, const QStringList& predictions)
{
    comparison_->openComparison(target, predictions);
}

void MainWindow::addPrediction(const QString& path)
{
    comparison_->addPrediction(path);
}

bool MainWindow::openResults(const QString& path)
{
    QString error;
    std::optional<ResultsData> results = read_results(path, &error);
    if (!results) {
        showError(tr("The results file could not be read."), path + QStringLiteral(": ") + error);
        return false;
    }
    if (!results_panel_) {
        results_panel_ = new ResultsPanel;
        results_dock_ = new QDockWidget(tr("Cases"), this);
        results_dock_->setObjectName(QStringLiteral("resultsDock"));
        results_dock_->setWidget(results_panel_);
        addDockWidget(Qt::LeftDockWidgetArea, results_dock_);
        resizeDocks({results_dock_}, {420}, Qt::Horizontal);
        connect(results_panel_, &ResultsPanel::openRequested, this,
                [this](const QString& prediction, const QString& target, const QString& case_id,
                       const QString& image) {
                    // Cleared when the load ends (buildStatusBar), kept at most 60 s.
                    statusBar()->showMessage(openingCasePrefix() + case_id + QStringLiteral("…"), 60000);
                    pending_case_image_.clear();
                    if (!results_panel_->imagesFolder().isEmpty()) {
                        // Each case shows its own image or none: another
                        // case's image may fit the same grid.
                        presenter()->closeImage();
                        if (image.isEmpty()) {
                            statusBar()->showMessage(
                                tr("No image for case %1 in %2").arg(case_id, results_panel_->imagesFolder()),
                                10000);
                        }
                        pending_case_image_ = image;
                        pending_case_prediction_ = prediction;
                    }
                    openFiles(prediction, target);
                });
        // The pending image once its case's volumes are in (not another pair's).
        connect(presenter(), &SessionPresenter::datasetChanged, this, [this]() {
            if (!pending_case_image_.isEmpty() &&
                QFileInfo(presenter()->dataset().prediction_path).canonicalFilePath() ==
                    QFileInfo(pending_case_prediction_).canonicalFilePath()) {
                const QString image = pending_case_image_;
                pending_case_image_.clear();
                presenter()->openImage(image);
            }
        });
        connect(results_panel_, &ResultsPanel::failedCaseActivated, this,
                [this](const QString& case_id, const QString& case_error) {
                    statusBar()->showMessage(
                        tr("Case %1 failed in the evaluation: %2").arg(case_id, case_error), 10000);
                });
    }
    const int cases = static_cast<int>(results->cases.size());
    results_panel_->setResults(std::move(*results));
    results_dock_->show();
    results_dock_->raise();
    statusBar()->showMessage(tr("%1 cases from %2").arg(cases).arg(QFileInfo(path).fileName()), 5000);
    return true;
}

QString MainWindow::openingCasePrefix() const
{
    return tr("Opening case ");
}

void MainWindow::addRecent(const QString& prediction, const QString& target)
{
    QSettings settings;
    QStringList recent = settings.value(QStringLiteral("recentPairs")).toStringList();
    const QString entry = prediction + QLatin1Char('\n') + target;
    recent.removeAll(entry);
    recent.prepend(entry);
    while (recent.size() > kMaxRecent) {
        recent.removeLast();
    }
    settings.setValue(QStringLiteral("recentPairs"), recent);
    rebuildRecentMenu();
}

QString recent_entry_text(const QString& prediction, const QString& target)
{
    // Cases are often named by their folder ("case_01/pred.nii.gz"): show the
    // parent folder, once when both files share it.
    const QFileInfo p(prediction), t(target);
    const QString p_folder = p.dir().dirName(), t_folder = t.dir().dirName();
    if (p.absolutePath() == t.absolutePath()) {
        return QStringLiteral("%1: %2 + %3").arg(p_folder, p.fileName(), t.fileName());
    }
    return QStringLiteral("%1/%2 + %3/%4").arg(p_folder, p.fileName(), t_folder, t.fileName());
}

void MainWindow::rebuildRecentMenu()
{
    recent_menu_->clear();
    const QStringList recent = QSettings().value(QStringLiteral("recentPairs")).toStringList();
    for (const QString& entry : recent) {
        const QStringList pair = entry.split(QLatin1Char('\n'));
        if (pair.size() != 2) {
            continue;
        }
        QAction* action = recent_menu_->addAction(recent_entry_text(pair[0], pair[1]));
        action->setToolTip(QStringLiteral("%1\n%2").arg(pair[0], pair[1]));
        connect(action, &QAction::triggered, this, [this, pair]() { openFiles(pair[0], pair[1]); });
    }
    recent_menu_->setEnabled(!recent_menu_->isEmpty());
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event)
{
    if (event->mimeData()->hasUrls()) {
        event->acceptProposedAction();
    }
}

void MainWindow::dropEvent(QDropEvent* event)
{
    QStringList paths;
    for (const QUrl& url : event->mimeData()->urls()) {
        if (url.isLocalFile()) {
            paths << url.toLocalFile();
        }
    }
    if (paths.size() >= 2) {
        // Name hints decide which file is the target; otherwise the order dropped.
        if (looks_like_target(paths[0]) && !looks_like_target(paths[1])) {
            paths.swapItemsAt(0, 1);
        }
        openFiles(paths[0], paths[1]);
    } else if (paths.size() == 1) {
        if (looks_like_target(paths[0])) {
            presenter_->openTarget(paths[0]);
        } else {
            presenter_->openPrediction(paths[0]);
        }
    }
    event->acceptProposedAction();
}

} // namespace masklens::ui
