#include "masklens/ui/views.h"

#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>

#include <QCoreApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>

namespace masklens::ui {

// ---------------------------------------------------------------------------
// SliceView

SliceView::SliceView(SessionPresenter* presenter, ViewAxis axis, QWidget* parent)
    : VtkHostWidget(parent), presenter_(presenter), axis_(axis)
{
    scene_ = std::make_unique<SliceScene>(renderWindow());
    setEventForwarding(false);
    connect(presenter_, &SessionPresenter::datasetChanged, this, &SliceView::onDatasetChanged);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, [this]() { refreshImage(true); });
    deferred_update_.setSingleShot(true);
    deferred_update_.setInterval(kDeferredRepaintMs);
    connect(&deferred_update_, &QTimer::timeout, this, [this]() { update(); });
    connect(presenter_, &SessionPresenter::cursorChanged, this, [this]() {
        const bool recomposed = refreshImage(false); // repaints at once
        refreshCrosshair();
        if (!recomposed) {
            deferred_update_.start();
        }
    });
    connect(presenter_, &SessionPresenter::sampleChanged, this, [this]() { refreshImage(false); });
    connect(presenter_, &SessionPresenter::labelChanged, this, [this]() { refreshImage(false); });
    connect(presenter_, &SessionPresenter::layersChanged, this, [this]() { refreshImage(false); });
    if (presenter_->hasData()) {
        onDatasetChanged();
    }
}

SliceView::~SliceView() = default;

std::int64_t SliceView::sliceIndex() const
{
    return axis_coordinate(presenter_->cursor(), axis_);
}

ViewAxis SliceView::stepAxis() const
{
    return presenter_->is3d() ? axis_ : presenter_->metricAxis();
}

void SliceView::onDatasetChanged()
{
    user_camera_ = false;
    refreshImage(true);
    scene_->resetCamera();
    update();
}

bool SliceView::refreshImage(bool force)
{
    if (!presenter_->hasData() || (!presenter_->is3d() && axis_ != ViewAxis::Axial)) {
        scene_->clear();
        shown_ = {};
        update();
        return true;
    }
    const Key key{presenter_->evaluation(), sliceIndex(), presenter_->sample(), presenter_->currentLabel(),
                  presenter_->layers()};
    if (!force && key == shown_) {
        return false;
    }
    shown_ = key;
    scene_->setImage(compose_slice(*presenter_->prediction(), *presenter_->target(), presenter_->pairView(),
                                   axis_, key.slice, key.layers));
    refreshCrosshair();
    deferred_update_.stop();
    update();
    return true;
}

void SliceView::refreshCrosshair()
{
    if (!presenter_->hasData() || !scene_->hasImage()) {
        scene_->setCrosshair(std::nullopt);
        return;
    }
    scene_->setCrosshair(voxel_to_pixel(presenter_->shape(), axis_, presenter_->cursor()));
}

void SliceView::resetView()
{
    user_camera_ = false;
    scene_->resetCamera();
    update();
}

void SliceView::resizeGL(int width, int height)
{
    VtkHostWidget::resizeGL(width, height);
    if (!user_camera_) {
        scene_->resetCamera();
    }
}

std::array<double, 2> SliceView::toDisplay(const QPointF& point) const
{
    const double ratio = devicePixelRatioF();
    const int* size = renderWindow()->GetSize();
    return {point.x() * ratio, static_cast<double>(size[1]) - 1.0 - point.y() * ratio};
}

QPointF SliceView::voxelToWidget(const Voxel& voxel) const
{
    const auto pixel = voxel_to_pixel(presenter_->shape(), axis_, voxel);
    const auto display = scene_->pixelToDisplay(pixel[0], pixel[1]);
    const double ratio = devicePixelRatioF();
    const int* size = renderWindow()->GetSize();
    return {display[0] / ratio, (static_cast<double>(size[1]) - 1.0 - display[1]) / ratio};
}

std::optional<Voxel> SliceView::widgetToVoxel(const QPointF& point) const
{
    if (!presenter_->hasData()) {
        return std::nullopt;
    }
    const auto display = toDisplay(point);
    const auto pixel = scene_->displayToPixel(display[0], display[1]);
    if (!pixel) {
        return std::nullopt;
    }
    return pixel_to_voxel(presenter_->shape(), axis_, sliceIndex(), (*pixel)[0], (*pixel)[1]);
}

void SliceView::mousePressEvent(QMouseEvent* event)
{
    setFocus(Qt::MouseFocusReason);
    drag_button_ = event->button();
    drag_last_ = event->position();
    if (event->button() == Qt::LeftButton) {
        if (const auto voxel = widgetToVoxel(event->position())) {
            presenter_->setCursor(*voxel);
        }
    }
    event->accept();
}

void SliceView::mouseMoveEvent(QMouseEvent* event)
{
    const QPointF position = event->position();
    const auto voxel = widgetToVoxel(position);
    if (voxel) {
        emit hovered(*voxel);
    } else {
        emit hoverLeft();
    }
    const QPointF delta = position - drag_last_;
    drag_last_ = position;
    if (!(event->buttons() & drag_button_)) {
        drag_button_ = Qt::NoButton;
    }
    switch (drag_button_) {
    case Qt::LeftButton:
        if (voxel) {
            presenter_->setCursor(*voxel);
        }
        break;
    case Qt::RightButton:
        user_camera_ = true;
        scene_->zoom(std::pow(1.01, -delta.y()));
        update();
        break;
    case Qt::MiddleButton: {
        user_camera_ = true;
        const double ratio = devicePixelRatioF();
        scene_->pan(delta.x() * ratio, -delta.y() * ratio);
        update();
        break;
    }
    default: break;
    }
    event->accept();
}

void SliceView::mouseReleaseEvent(QMouseEvent* event)
{
    if (event->button() == drag_button_) {
        drag_button_ = Qt::NoButton;
    }
    event->accept();
}

void SliceView::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton) {
        emit maximiseRequested();
    }
    event->accept();
}

void SliceView::wheelEvent(QWheelEvent* event)
{
    wheel_steps_ += event->angleDelta().y() / 120.0;
    const auto steps = static_cast<std::int64_t>(wheel_steps_);
    if (steps != 0) {
        wheel_steps_ -= static_cast<double>(steps);
        if (event->modifiers() & Qt::ControlModifier) {
            user_camera_ = true;
            scene_->zoom(std::pow(1.15, static_cast<double>(steps)));
            update();
        } else {
            presenter_->stepSlice(stepAxis(), steps);
        }
    }
    event->accept();
}

void SliceView::keyPressEvent(QKeyEvent* event)
{
    switch (event->key()) {
    case Qt::Key_Up:
    case Qt::Key_Right: presenter_->stepSlice(stepAxis(), 1); break;
    case Qt::Key_Down:
    case Qt::Key_Left: presenter_->stepSlice(stepAxis(), -1); break;
    case Qt::Key_PageUp: presenter_->stepSlice(stepAxis(), 10); break;
    case Qt::Key_PageDown: presenter_->stepSlice(stepAxis(), -10); break;
    case Qt::Key_R: resetView(); break;
    case Qt::Key_F: emit maximiseRequested(); break;
    default: VtkHostWidget::keyPressEvent(event); return;
    }
    event->accept();
}

void SliceView::leaveEvent(QEvent* event)
{
    emit hoverLeft();
    VtkHostWidget::leaveEvent(event);
}

// ---------------------------------------------------------------------------
// SurfaceView

SurfaceView::SurfaceView(SessionPresenter* presenter, QWidget* parent)
    : VtkHostWidget(parent), presenter_(presenter)
{
    scene_ = std::make_unique<SurfaceScene>(renderWindow());
    vtkNew<vtkInteractorStyleTrackballCamera> style;
    interactor()->SetInteractorStyle(style);
    setEventForwarding(true);
    watcher_ = std::make_unique<QFutureWatcher<std::shared_ptr<SurfaceMeshes>>>();
    connect(watcher_.get(), &QFutureWatcher<std::shared_ptr<SurfaceMeshes>>::finished, this,
            &SurfaceView::finishBuild);
    connect(presenter_, &SessionPresenter::datasetChanged, this, [this]() {
        ++dataset_generation_;
        shown_ = {};
        scene_->clear();
        refreshSurfaces();
        update();
    });
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::sampleChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::labelChanged, this, &SurfaceView::refreshSurfaces);
    deferred_update_.setSingleShot(true);
    deferred_update_.setInterval(kDeferredRepaintMs);
    connect(&deferred_update_, &QTimer::timeout, this, [this]() { update(); });
    connect(presenter_, &SessionPresenter::cursorChanged, this, [this]() {
        if (presenter_->hasData() && presenter_->is3d()) {
            scene_->setCursor(presenter_->cursor()); // drawn by the next repaint
            deferred_update_.start();
        }
    });
    if (presenter_->hasData()) {
        refreshSurfaces();
    }
}

SurfaceView::~SurfaceView()
{
    if (cancel_) {
        cancel_->store(true);
    }
    watcher_->disconnect(this);
    watcher_->waitForFinished();
}

SurfaceView::Key SurfaceView::currentKey() const
{
    Key key;
    if (!presenter_->hasData()) {
        return key;
    }
    const PairView view = presenter_->pairView();
    key.dataset = dataset_generation_;
    key.prediction = presenter_->prediction();
    key.target = presenter_->target();
    key.sample = view.sample;
    key.label = view.label;
    key.threshold = view.threshold;
    key.logits = view.logits;
    key.distances = distance_colouring_;
    return key;
}

void SurfaceView::setDistanceColouring(bool on)
{
    distance_colouring_ = on;
    scene_->setDistanceColouring(on);
    refreshSurfaces();
    update();
}

void SurfaceView::refreshSurfaces()
{
    if (!presenter_->hasData() || !presenter_->is3d()) {
        if (cancel_) {
            cancel_->store(true);
        }
        rebuild_queued_ = false;
        scene_->clear();
        shown_ = {};
        update();
        return;
    }
    Key wanted = currentKey();
    Key shown = shown_;
    // Meshes that carry distances serve the plain view too.
    if (!wanted.distances && shown.distances) {
        shown.distances = false;
    }
    if (wanted == shown && !building_) {
        rebuild_queued_ = false;
        return;
    }
    if (presenter_->synchronous()) {
        scene_->setVolumes(*presenter_->prediction(), *presenter_->target(), presenter_->pairView(),
                           SurfaceBuildOptions{wanted.distances, 0});
        shown_ = wanted;
        scene_->setCursor(presenter_->cursor());
        update();
        emit surfacesReady();
        return;
    }
    if (building_) {
        if (!(building_key_ == wanted)) {
            cancel_->store(true); // superseded: finishBuild starts the current one
            rebuild_queued_ = true;
        }
        return;
    }
    launchBuild();
}

void SurfaceView::launchBuild()
{
    rebuild_queued_ = false;
    building_key_ = currentKey();
    building_ = true;
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    auto cancel = cancel_;
    const Dataset dataset = presenter_->dataset(); // shared volumes outlive the view's data
    const PairView view = presenter_->pairView();
    const SurfaceBuildOptions options{building_key_.distances, 0};
    watcher_->setFuture(QtConcurrent::run(background_pool(), [dataset, view, options, cancel]() {
        return std::make_shared<SurfaceMeshes>(
            build_surface_meshes(*dataset.prediction, *dataset.target, view, options, cancel.get()));
    }));
}

void SurfaceView::finishBuild()
{
    if (!building_) {
        return;
    }
    building_ = false;
    const std::shared_ptr<SurfaceMeshes> meshes = watcher_->result();
    const bool current = building_key_ == currentKey() && !cancel_->load();
    if (current && meshes && meshes->target) {
        scene_->setMeshes(*meshes);
        shown_ = building_key_;
        scene_->setCursor(presenter_->cursor());
        update();
    }
    if (!current || rebuild_queued_) {
        rebuild_queued_ = true;
        // Not from inside the watcher's own signal.
        QMetaObject::invokeMethod(this, &SurfaceView::refreshSurfaces, Qt::QueuedConnection);
        return;
    }
    emit surfacesReady();
}

void SurfaceView::waitForSurfaces()
{
    while (building_ || rebuild_queued_) {
        if (building_) {
            watcher_->waitForFinished();
        }
        QCoreApplication::processEvents();
    }
}

void SurfaceView::resetView()
{
    scene_->resetCamera();
    update();
}

void SurfaceView::keyPressEvent(QKeyEvent* event)
{
    // Keys are not forwarded: VTK's default key bindings (stereo, exit, ...) do not fit here.
    switch (event->key()) {
    case Qt::Key_R: resetView(); break;
    case Qt::Key_F: emit maximiseRequested(); break;
    default: QOpenGLWidget::keyPressEvent(event); return;
    }
    event->accept();
}

void SurfaceView::mouseDoubleClickEvent(QMouseEvent* event)
{
    if (event->button() == Qt::LeftButton) {
        emit maximiseRequested();
        event->accept();
        return;
    }
    VtkHostWidget::mouseDoubleClickEvent(event);
}

} // namespace masklens::ui
