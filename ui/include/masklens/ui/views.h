// The view widgets: a slice view (axial, coronal or sagittal) and the 3D
// surface view. Each hosts one render window and one scene, and binds to the
// SessionPresenter; neither holds UI state of its own beyond the camera.
#pragma once

#include "masklens/ui/scenes.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/vtk_host_widget.h"

#include <memory>
#include <optional>

namespace masklens::ui {

class SliceView : public VtkHostWidget {
    Q_OBJECT
public:
    SliceView(SessionPresenter* presenter, ViewAxis axis, QWidget* parent = nullptr);
    ~SliceView() override;

    ViewAxis axis() const noexcept { return axis_; }
    SliceScene& scene() { return *scene_; }
    // Widget coordinates (logical pixels) of a voxel centre in this view, and back.
    QPointF voxelToWidget(const Voxel& voxel) const;
    std::optional<Voxel> widgetToVoxel(const QPointF& point) const;
    void resetView();
    // The slice this view shows.
    std::int64_t sliceIndex() const;

signals:
    void hovered(const masklens::ui::Voxel& voxel);
    void hoverLeft();
    void maximiseRequested();

protected:
    void resizeGL(int width, int height) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    void refreshImage(bool force);
    void refreshCrosshair();
    void onDatasetChanged();
    // The axis stepped by wheel and keys: the view's own, or for 2D data the metric axis.
    ViewAxis stepAxis() const;
    std::array<double, 2> toDisplay(const QPointF& point) const;

    SessionPresenter* presenter_;
    ViewAxis axis_;
    std::unique_ptr<SliceScene> scene_;
    bool user_camera_ = false;
    Qt::MouseButton drag_button_ = Qt::NoButton;
    QPointF drag_last_;
    double wheel_steps_ = 0;
    struct Key {
        const Evaluation* evaluation = nullptr;
        std::int64_t slice = -1, sample = -1;
        std::optional<std::int64_t> label;
        LayerSettings layers;
        bool operator==(const Key& other) const = default;
    } shown_;
};

class SurfaceView : public VtkHostWidget {
    Q_OBJECT
public:
    explicit SurfaceView(SessionPresenter* presenter, QWidget* parent = nullptr);
    ~SurfaceView() override;

    SurfaceScene& scene() { return *scene_; }
    void resetView();

signals:
    void maximiseRequested();

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    void refreshSurfaces();
    SessionPresenter* presenter_;
    std::unique_ptr<SurfaceScene> scene_;
    const Evaluation* shown_evaluation_ = nullptr;
    std::int64_t shown_sample_ = -1;
    std::optional<std::int64_t> shown_label_;
};

} // namespace masklens::ui
