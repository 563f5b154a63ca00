#include "masklens/ui/slice_view.h"

#include <vtkGenericOpenGLRenderWindow.h>
#include <vtkGenericRenderWindowInteractor.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>

#include <QCoreApplication>
#include <QKeyEvent>
#include <QMouseEvent>
#include <QWheelEvent>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace masklens::ui {

// ---------------------------------------------------------------------------
// SliceView

SliceView::SliceView(SessionPresenter* presenter, ViewAxis axis, QWidget* parent)
    : VtkHostWidget(parent), presenter_(presenter), axis_(axis)
{
    scene_ = std::make_unique<SliceScene>(renderWindow());
    annotations_ = std::make_unique<SliceAnnotations>(scene_->renderer());
    setEventForwarding(false);
    setOpaqueScene(true); // SliceScene: opaque background, RGB image, opaque crosshair
    connect(presenter_, &SessionPresenter::datasetChanged, this, &SliceView::onDatasetChanged);
    connect(presenter_, &SessionPresenter::evaluationChanged, this, [this]() { refreshImage(true); });
    deferred_update_.setSingleShot(true);
    deferred_update_.setInterval(kDeferredRepaintMs);
    connect(&deferred_update_, &QTimer::timeout, this, [this]() { requestRender(); });
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
    connect(presenter_, &SessionPresenter::imageChanged, this, [this]() { refreshImage(true); });
    connect(presenter_, &SessionPresenter::labelColoursChanged, this, [this]() { refreshImage(true); });
    connect(presenter_, &SessionPresenter::lesionOverlayChanged, this, [this]() { refreshImage(false); });
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

// A new image (dataset or axis): recompose it and take the linked camera, or
// fit the view when not linked.
void SliceView::showAfresh()
{
    user_camera_ = false;
    refreshImage(true);
    if (linked()) {
        scene_->setCamera(comparison_->camera());
    } else {
        scene_->resetCamera();
    }
    requestRender();
}

void SliceView::onDatasetChanged()
{
    showAfresh();
}

void SliceView::setAxis(ViewAxis axis)
{
    if (axis == axis_) {
        return;
    }
    axis_ = axis;
    showAfresh();
}

void SliceView::bindComparison(ComparisonPresenter* comparison, int entry)
{
    if (comparison_) {
        comparison_->disconnect(this);
    }
    comparison_ = comparison;
    entry_ = entry;
    if (comparison_) {
        for (auto signal : {&ComparisonPresenter::entriesChanged, &ComparisonPresenter::pairChanged,
                            &ComparisonPresenter::differenceChanged}) {
            connect(comparison_, signal, this, [this]() { refreshImage(false); });
        }
        if (linked()) {
            connect(comparison_, &ComparisonPresenter::layoutChanged, this,
                    [this]() { setAxis(comparison_->comparisonAxis()); });
            connect(comparison_, &ComparisonPresenter::cameraChanged, this, [this]() {
                if (!(scene_->camera() == comparison_->camera())) {
                    scene_->setCamera(comparison_->camera());
                    requestRender();
                }
            });
            axis_ = comparison_->comparisonAxis();
        }
    }
    refreshImage(true);
    if (linked()) {
        scene_->setCamera(comparison_->camera());
    }
    requestRender();
}

bool SliceView::showsDifference() const
{
    return comparison_ && (entry_ == kDifference || entry_ == kSession) && comparison_->differenceActive();
}

void SliceView::shareCamera()
{
    if (linked()) {
        comparison_->setCamera(scene_->camera());
    }
}

bool SliceView::refreshImage(bool force)
{
    const bool difference = showsDifference();
    const Volume* prediction = presenter_->prediction();
    PairView view = presenter_->pairView();
    Key key;
    if (difference) {
        const int a = comparison_->pairA();
        const int b = comparison_->pairB();
        prediction = comparison_->prediction(a);
        view = comparison_->pairView(a);
        key.evaluation = comparison_->evaluation(a);
        key.evaluation_b = comparison_->evaluation(b);
        key.prediction_b = comparison_->prediction(b);
    } else if (comparison_ && entry_ >= 0) {
        prediction = comparison_->prediction(entry_);
        view = comparison_->pairView(entry_);
        key.evaluation = comparison_->evaluation(entry_);
    } else {
        key.evaluation = presenter_->evaluation();
    }
    const bool nothing = (comparison_ && entry_ == kDifference && !difference) || !key.evaluation;
    if (!presenter_->hasData() || !prediction || nothing ||
        (!presenter_->is3d() && axis_ != ViewAxis::Axial)) {
        scene_->clear();
        annotations_->setVisible(false);
        shown_ = {};
        requestRender();
        return true;
    }
    key.prediction = prediction;
    key.axis = axis_;
    key.slice = sliceIndex();
    key.sample = presenter_->sample();
    key.label = presenter_->currentLabel();
    key.layers = presenter_->layers();
    key.image = difference ? nullptr : presenter_->image();
    // Lesions: the session's own pair (not an added prediction's).
    key.lesions = key.layers.mode == DisplayMode::Lesions && !difference && !(comparison_ && entry_ >= 0)
                      ? presenter_->sharedLesionOverlay()
                      : nullptr;
    if (!force && key == shown_) {
        return false;
    }
    shown_ = key;
    if (difference) {
        scene_->setImage(compose_difference_slice(*prediction, *key.prediction_b, *presenter_->target(), view,
                                                  comparison_->pairView(comparison_->pairB()), axis_,
                                                  key.slice, key.layers.convention));
    } else {
        const std::vector<LabelStyle> styles =
            key.layers.mode == DisplayMode::Labels ? presenter_->labelStyles() : std::vector<LabelStyle>{};
        scene_->setImage(compose_slice(*prediction, *presenter_->target(), view, axis_, key.slice, key.layers,
                                       key.image, &styles, key.lesions.get()));
    }
    refreshAnnotations();
    if (linked() && !(scene_->camera() == comparison_->camera())) {
        scene_->setCamera(comparison_->camera());
    }
    refreshCrosshair();
    deferred_update_.stop();
    requestRender();
    return true;
}

void SliceView::refreshCrosshair()
{
    if (!presenter_->hasData() || !scene_->hasImage()) {
        scene_->setCrosshair(std::nullopt);
        return;
    }
    scene_->setCrosshair(
        voxel_to_pixel(presenter_->shape(), axis_, scene_->geometry().orientation, presenter_->cursor()));
}

// Edge letters, and in the corner the plane, slice number, position and convention.
void SliceView::refreshAnnotations()
{
    const SliceOrientation& orientation = scene_->geometry().orientation;
    annotations_->setVisible(true);
    annotations_->setEdges(orientation.edges);
    static constexpr const char* kPlanes[] = {"Axial", "Coronal", "Sagittal"};
    const Shape shape = presenter_->shape();
    const std::int64_t slice = sliceIndex();
    // Three short lines (small views): "Axial 7 / 12", "S 15.0 mm", "LPS · radiological".
    char text[160];
    std::snprintf(text, sizeof text, "%s %lld / %lld", kPlanes[static_cast<int>(orientation.plane)],
                  static_cast<long long>(slice + 1), static_cast<long long>(axis_extent(shape, axis_)));
    std::string corner = text;
    const Volume* target = presenter_->target();
    if (target && target->geometry().known && orientation.edges[0] != '\0') {
        // The crosshair voxel's coordinate along the world axis the view looks along,
        // named by that axis' positive end in the file's frame (RAS: R, A, S; LPS: L, P, S).
        const Geometry& geometry = target->geometry();
        Voxel voxel = presenter_->cursor();
        axis_coordinate(voxel, axis_) = slice;
        const auto mm = presenter_->physicalPosition(voxel);
        const int world_axis = orientation.plane == ViewAxis::Axial     ? 2
                               : orientation.plane == ViewAxis::Coronal ? 1
                                                                        : 0;
        std::array<double, 3> positive{};
        positive[static_cast<std::size_t>(world_axis)] = 1.0;
        std::snprintf(text, sizeof text, "\n%c %.1f mm\n%s, %s", direction_letter(positive, geometry.frame),
                      mm[static_cast<std::size_t>(world_axis)], frame_name(geometry.frame),
                      presenter_->layers().convention == Convention::Radiological ? "radiological"
                                                                                  : "neurological");
        corner += text;
        if (orientation.oblique) {
            corner += "\noblique: voxel grid";
        }
    }
    annotations_->setCornerText(corner);
}

void SliceView::resetView()
{
    user_camera_ = false;
    scene_->resetCamera();
    shareCamera();
    requestRender();
}

void SliceView::rendered()
{
    scene_->endWarmUp(); // the image shaders exist now
}

void SliceView::graphicsResized(int, int)
{
    if (linked()) {
        scene_->setCamera(comparison_->camera()); // relative to the fitted camera: any size
    } else if (!user_camera_) {
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
    const auto pixel = voxel_to_pixel(presenter_->shape(), axis_, scene_->geometry().orientation, voxel);
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
    return pixel_to_voxel(presenter_->shape(), axis_, scene_->geometry().orientation, sliceIndex(),
                          (*pixel)[0], (*pixel)[1]);
}

void SliceView::mousePressEvent(QMouseEvent* event)
{
    setFocus(Qt::MouseFocusReason);
    drag_button_ = event->button();
    drag_last_ = event->position();
    // Shift + left drag: window / level of the image underneath (not the cursor).
    window_level_drag_ = event->button() == Qt::LeftButton && (event->modifiers() & Qt::ShiftModifier) &&
                         presenter_->image() != nullptr;
    if (event->button() == Qt::LeftButton && !window_level_drag_) {
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
    if (drag_button_ == Qt::LeftButton && window_level_drag_) {
        // Right widens the window, up raises the level; a full image range per 256 pixels.
        const auto& range = presenter_->imagePercentiles();
        const double step = std::max(range[1] - range[0], 1.0) / 256.0;
        const LayerSettings& layers = presenter_->layers();
        presenter_->setWindowLevel(layers.window + delta.x() * step, layers.level - delta.y() * step);
        event->accept();
        return;
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
        shareCamera();
        requestRender();
        break;
    case Qt::MiddleButton: {
        user_camera_ = true;
        const double ratio = devicePixelRatioF();
        scene_->pan(delta.x() * ratio, -delta.y() * ratio);
        shareCamera();
        requestRender();
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
            shareCamera();
            requestRender();
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

} // namespace masklens::ui
