// MainWindow's menu bar: the File, View and Help menus, their actions and the
// file dialogs they open.
#include "masklens/ui/main_window.h"

#include "main_window_internal.h"
#include "masklens/engine/error.h"
#include "masklens/ui/about.h"
#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/slice_view.h"
#include "masklens/ui/surface_view.h"

#include <QAction>
#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>

namespace masklens::ui {

namespace {

const QString kFileFilter = QStringLiteral(
    "Masks (*.npy *.npz *.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.png *.tif *.tiff);;All files (*)");
const QString kImageFilter = QStringLiteral(
    "Images (*.nii *.nii.gz *.nrrd *.nhdr *.mha *.mhd *.npy *.npz *.png *.tif *.tiff);;All files (*)");

} // namespace

void MainWindow::buildMenus()
{
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open_pair = file->addAction(tr("Open Prediction and Target…"));
    open_pair->setShortcut(QKeySequence::Open);
    connect(open_pair, &QAction::triggered, this, [this]() {
        const QString prediction =
            QFileDialog::getOpenFileName(this, tr("Open Prediction"), lastFolder(Folder::Open), kFileFilter);
        if (prediction.isEmpty()) {
            return;
        }
        rememberFolder(Folder::Open, prediction);
        const QString target =
            QFileDialog::getOpenFileName(this, tr("Open Target"), QFileInfo(prediction).path(), kFileFilter);
        if (!target.isEmpty()) {
            openFiles(prediction, target);
        }
    });
    QAction* open_prediction = file->addAction(tr("Open Prediction…"));
    open_prediction->setObjectName(QStringLiteral("openPredictionAction"));
    connect(open_prediction, &QAction::triggered, this, [this]() {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open Prediction"), lastFolder(Folder::Open), kFileFilter);
        if (!path.isEmpty()) {
            rememberFolder(Folder::Open, path);
            presenter_->openPrediction(path);
        }
    });
    QAction* open_target = file->addAction(tr("Open Target…"));
    open_target->setObjectName(QStringLiteral("openTargetAction"));
    connect(open_target, &QAction::triggered, this, [this]() {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open Target"), lastFolder(Folder::Open), kFileFilter);
        if (!path.isEmpty()) {
            rememberFolder(Folder::Open, path);
            presenter_->openTarget(path);
        }
    });
    QAction* open_image = file->addAction(tr("Open Image…"));
    open_image->setObjectName(QStringLiteral("openImageAction"));
    open_image->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_I));
    open_image->setToolTip(tr("Show a CT, MR or other image under the masks (same grid as the target)"));
    connect(open_image, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(
            this, tr("Open Image"), QFileInfo(presenter_->dataset().target_path).path(), kImageFilter);
        if (!path.isEmpty()) {
            presenter_->openImage(path);
        }
    });
    QAction* close_image = file->addAction(tr("Close Image"));
    close_image->setObjectName(QStringLiteral("closeImageAction"));
    close_image->setEnabled(false);
    connect(close_image, &QAction::triggered, presenter_, &SessionPresenter::closeImage);
    connect(presenter_, &SessionPresenter::imageChanged, close_image,
            [this, close_image]() { close_image->setEnabled(presenter_->image() != nullptr); });
    QAction* open_labels = file->addAction(tr("Open Label Colours…"));
    open_labels->setObjectName(QStringLiteral("openLabelColoursAction"));
    open_labels->setToolTip(
        tr("Label names and colours: ITK-SNAP label description or 3D Slicer colour table"));
    connect(open_labels, &QAction::triggered, this, [this]() {
        const QString path =
            QFileDialog::getOpenFileName(this, tr("Open Label Colours"), lastFolder(Folder::Open),
                                         tr("Label descriptions (*.txt *.ctbl *.label);;All files (*)"));
        if (path.isEmpty()) {
            return;
        }
        try {
            presenter_->setLabelColours(read_label_colours(path.toStdString()));
        } catch (const Error& error) {
            showError(tr("The label file cannot be used."), QString::fromStdString(error.what()));
        }
    });
    QAction* add_prediction = file->addAction(tr("Add Prediction…"));
    add_prediction->setObjectName(QStringLiteral("addPredictionAction"));
    add_prediction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_A));
    add_prediction->setToolTip(tr("Compare another prediction against the open target"));
    connect(add_prediction, &QAction::triggered, this, [this]() {
        const QStringList paths = QFileDialog::getOpenFileNames(
            this, tr("Add Prediction"), QFileInfo(presenter_->dataset().prediction_path).path(), kFileFilter);
        for (const QString& path : paths) {
            addPrediction(path);
        }
    });
    QAction* open_results = file->addAction(tr("Open Results…"));
    open_results->setObjectName(QStringLiteral("openResultsAction"));
    open_results->setToolTip(tr("Open a folder evaluation (masklens-cli evaluate-folder --format json)"));
    connect(open_results, &QAction::triggered, this, [this]() {
        const QString path = QFileDialog::getOpenFileName(this, tr("Open Results"), lastFolder(Folder::Open),
                                                          tr("Folder results (*.json);;All files (*)"));
        if (!path.isEmpty()) {
            rememberFolder(Folder::Open, path);
            openResults(path);
        }
    });
    recent_menu_ = file->addMenu(tr("Open Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    QAction* export_csv = file->addAction(tr("Export CSV…"));
    connect(export_csv, &QAction::triggered, this, [this]() {
        const Dataset& dataset = presenter_->dataset();
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Export CSV"),
            inLastFolder(Folder::Export, default_export_name(dataset.prediction_path, dataset.target_path,
                                                             QStringLiteral(".csv"))),
            tr("CSV (*.csv)"));
        if (!path.isEmpty()) {
            rememberFolder(Folder::Export, path);
            exportCsv(path);
        }
    });
    QAction* screenshot = file->addAction(tr("Save Screenshot…"));
    connect(screenshot, &QAction::triggered, this, [this]() {
        const Dataset& dataset = presenter_->dataset();
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save Screenshot"),
            inLastFolder(Folder::Export, default_export_name(dataset.prediction_path, dataset.target_path,
                                                             QStringLiteral(".png"))),
            tr("PNG (*.png)"));
        rememberFolder(Folder::Export, path);
        if (!path.isEmpty() && !saveScreenshot(path)) {
            showError(tr("The screenshot could not be saved."), path);
        }
    });
    QAction* view_shot = file->addAction(tr("Save View Screenshot…"));
    connect(view_shot, &QAction::triggered, this, [this]() {
        auto* view = qobject_cast<VtkHostWidget*>(focusWidget());
        if (!view) {
            view = axial_;
        }
        const QString path = QFileDialog::getSaveFileName(
            this, tr("Save View Screenshot"),
            inLastFolder(Folder::Export, QStringLiteral("masklens-view.png")), tr("PNG (*.png)"));
        rememberFolder(Folder::Export, path);
        if (!path.isEmpty() && !save_png_atomically(view->grabFramebuffer(), path)) {
            showError(tr("The screenshot could not be saved."), path);
        }
    });
    file->addSeparator();
    QAction* quit = file->addAction(tr("Quit"));
    quit->setShortcut(QKeySequence::Quit);
    connect(quit, &QAction::triggered, this, &QWidget::close);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* reset = view->addAction(tr("Reset Views"));
    reset->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    connect(reset, &QAction::triggered, this, [this]() {
        for (SliceView* slice : {axial_, coronal_, sagittal_}) {
            slice->resetView();
        }
        surface_view_->resetView();
    });
    QAction* compare = view->addAction(tr("Comparison Layout"));
    compare->setObjectName(QStringLiteral("comparisonLayoutAction"));
    compare->setCheckable(true);
    compare->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_K));
    connect(compare, &QAction::toggled, comparison_, &ComparisonPresenter::setComparisonLayout);
    // Window / level of the image underneath (Shift + drag in a slice view adjusts it).
    QMenu* window_level = view->addMenu(tr("Window/Level"));
    window_level->setObjectName(QStringLiteral("windowLevelMenu"));
    window_level->setEnabled(false);
    const std::pair<QString, WindowPreset> presets[] = {
        {tr("CT Soft Tissue (W 400, L 40)"), WindowPreset::SoftTissue},
        {tr("CT Lung (W 1500, L −600)"), WindowPreset::Lung},
        {tr("CT Bone (W 1800, L 400)"), WindowPreset::Bone},
        {tr("MR / Other: 1st–99th Percentile"), WindowPreset::Percentile},
    };
    for (const auto& [name, preset] : presets) {
        QAction* action = window_level->addAction(name);
        connect(action, &QAction::triggered, this,
                [this, preset = preset]() { presenter_->applyWindowPreset(preset); });
    }
    connect(presenter_, &SessionPresenter::imageChanged, window_level,
            [this, window_level]() { window_level->setEnabled(presenter_->image() != nullptr); });
    QAction* neurological = view->addAction(tr("Neurological Convention (Left on Left)"));
    neurological->setObjectName(QStringLiteral("neurologicalAction"));
    neurological->setCheckable(true);
    neurological->setToolTip(
        tr("Off: radiological convention, the patient's right on screen left (default)"));
    connect(neurological, &QAction::toggled, this, [this](bool on) {
        LayerSettings layers = presenter_->layers();
        layers.convention = on ? Convention::Neurological : Convention::Radiological;
        presenter_->setLayers(layers);
    });
    QAction* maximise = view->addAction(tr("Maximise Focused View"));
    maximise->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    connect(maximise, &QAction::triggered, this, [this]() {
        QWidget* focused = focusWidget();
        for (QWidget* candidate : {static_cast<QWidget*>(axial_), static_cast<QWidget*>(coronal_),
                                   static_cast<QWidget*>(sagittal_), static_cast<QWidget*>(surface_view_)}) {
            if (candidate == focused) {
                toggleMaximised(candidate);
                return;
            }
        }
        toggleMaximised(axial_);
    });
    view->addSeparator();
    // Batch data: step between samples from anywhere (the slice views use the
    // arrows and Page keys for slices).
    QAction* next_sample = view->addAction(tr("Next Sample"));
    next_sample->setObjectName(QStringLiteral("nextSampleAction"));
    next_sample->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_BracketRight));
    connect(next_sample, &QAction::triggered, this, [this]() { stepSample(1); });
    QAction* previous_sample = view->addAction(tr("Previous Sample"));
    previous_sample->setObjectName(QStringLiteral("previousSampleAction"));
    previous_sample->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_BracketLeft));
    connect(previous_sample, &QAction::triggered, this, [this]() { stepSample(-1); });

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    QAction* about = help->addAction(tr("About MaskLens"));
    about->setObjectName(QStringLiteral("aboutAction"));
    connect(about, &QAction::triggered, this, [this]() { show_about(this); });
    QAction* reset_settings = help->addAction(tr("Reset Settings"));
    reset_settings->setObjectName(QStringLiteral("resetSettingsAction"));
    connect(reset_settings, &QAction::triggered, this, [this]() {
        QSettings().clear(); // recent pairs, geometry, display, folders (main_window_settings.cpp)
        rebuildRecentMenu();
        statusBar()->showMessage(tr("Settings reset."), 5000);
    });
}

} // namespace masklens::ui
