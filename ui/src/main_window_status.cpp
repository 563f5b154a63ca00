// MainWindow's status bar: the hover readout, the files shown, the compute
// device, progress and Cancel.
#include "masklens/ui/main_window.h"

#include "masklens/ui/slice_view.h"

#include <QCursor>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QStatusBar>
#include <QTimer>

namespace masklens::ui {

void MainWindow::buildStatusBar()
{
    hover_label_ = new QLabel;
    hover_label_->setObjectName(QStringLiteral("hoverLabel"));
    file_label_ = new QLabel;
    progress_ = new QProgressBar;
    progress_->setObjectName(QStringLiteral("progressBar"));
    progress_->setMaximumWidth(180);
    progress_->setVisible(false);
    cancel_button_ = new QPushButton(tr("Cancel"));
    cancel_button_->setObjectName(QStringLiteral("cancelButton"));
    cancel_button_->setVisible(false);
    statusBar()->addWidget(hover_label_, 1);
    statusBar()->addPermanentWidget(file_label_);
    // Where the numbers are computed (MASKLENS_DEVICE, see compute_device()).
    device_label_ = new QLabel(QString::fromStdString(compute_device().label));
    device_label_->setObjectName(QStringLiteral("deviceLabel"));
    device_label_->setToolTip(QString::fromStdString(compute_device().summary));
    statusBar()->addPermanentWidget(device_label_);
    statusBar()->addPermanentWidget(progress_);
    statusBar()->addPermanentWidget(cancel_button_);
    connect(cancel_button_, &QPushButton::clicked, presenter_, &SessionPresenter::cancel);

    connect(presenter_, &SessionPresenter::busyChanged, this, [this](bool busy) {
        progress_->setVisible(busy);
        cancel_button_->setVisible(busy);
        if (!busy && statusBar()->currentMessage().startsWith(openingCasePrefix())) {
            statusBar()->clearMessage(); // the case is open (or failed, with its own message)
        }
    });
    for (auto signal : {&SessionPresenter::cursorChanged, &SessionPresenter::sampleChanged,
                        &SessionPresenter::labelChanged, &SessionPresenter::imageChanged,
                        &SessionPresenter::evaluationChanged, &SessionPresenter::settingsChanged}) {
        connect(presenter_, signal, this, &MainWindow::refreshHover);
    }
    // Progress is shown at most every 250 ms and never as a busy animation:
    // under software OpenGL every repaint of the window recomposes the views,
    // which took CPU from the very load it reports on.
    progress_->setRange(0, 100);
    progress_timer_ = new QTimer(this);
    progress_timer_->setSingleShot(true);
    progress_timer_->setInterval(250);
    connect(progress_timer_, &QTimer::timeout, this, [this]() {
        if (progress_fraction_ < 0) {
            progress_->setFormat(tr("working…"));
            progress_->setValue(0);
        } else {
            progress_->setFormat(QStringLiteral("%p%"));
            progress_->setValue(static_cast<int>(progress_fraction_ * 100));
        }
    });
    connect(presenter_, &SessionPresenter::progressChanged, this, [this](double fraction) {
        progress_fraction_ = fraction;
        if (!progress_timer_->isActive()) {
            progress_timer_->start();
        }
    });
}

void MainWindow::updateHover(const Voxel& voxel)
{
    if (!presenter_->hasData()) {
        return;
    }
    const VoxelClass c = presenter_->classifyVoxel(voxel);
    const auto mm = presenter_->physicalPosition(voxel);
    const Volume* target = presenter_->target();
    const bool placed = target && target->geometry().known;
    QString text = tr("voxel (d %1, h %2, w %3)").arg(voxel.d).arg(voxel.h).arg(voxel.w);
    if (placed) {
        // The world frame the file gave (NIfTI: RAS, NRRD / MetaImage: usually LPS).
        text += tr(" · %1 (%2, %3, %4) mm")
                    .arg(QString::fromLatin1(frame_name(target->geometry().frame)))
                    .arg(mm[0], 0, 'f', 1)
                    .arg(mm[1], 0, 'f', 1)
                    .arg(mm[2], 0, 'f', 1);
    } else {
        text += tr(" · (%1, %2, %3) mm (no geometry: index × spacing)")
                    .arg(mm[0], 0, 'f', 1)
                    .arg(mm[1], 0, 'f', 1)
                    .arg(mm[2], 0, 'f', 1);
    }
    if (presenter_->image()) {
        text += tr(" · image %1").arg(presenter_->imageValue(voxel), 0, 'g', 5);
    }
    text += tr(" · prediction %1 · target %2").arg(c.prediction, 0, 'g', 4).arg(c.target, 0, 'g', 4);
    hover_label_->setText(text);
}

void MainWindow::refreshHover()
{
    // The voxel under the mouse after a wheel or key step (the slice moved under
    // it), else the cursor: the readout never describes a voxel no longer shown.
    if (!presenter_->hasData()) {
        hover_label_->clear();
        return;
    }
    for (SliceView* view : {axial_, coronal_, sagittal_}) {
        if (view && view->underMouse()) {
            if (const auto voxel = view->widgetToVoxel(view->mapFromGlobal(QCursor::pos()))) {
                updateHover(*voxel);
                return;
            }
        }
    }
    updateHover(presenter_->cursor());
}

} // namespace masklens::ui
