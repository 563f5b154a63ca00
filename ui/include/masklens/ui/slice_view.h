// The slice view widget (axial, coronal or sagittal): hosts one render window
// and one SliceScene and binds to the SessionPresenter; it holds no UI state
// of its own beyond the camera.
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/slice_annotations.h"
#include "masklens/ui/slice_scene.h"
#include "masklens/ui/vtk_host_widget.h"

#include <QFutureWatcher>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

namespace masklens::ui {

class SliceView : public VtkHostWidget {
    Q_OBJECT
public:
    SliceView(SessionPresenter* presenter, ViewAxis axis, QWidget* parent = nullptr);
    ~SliceView() override;

    ViewAxis axis() const noexcept { return axis_; }
    void setAxis(ViewAxis axis);
    SliceScene& scene() { return *scene_; }
    // The letters, corner text and scale bar over the image.
    const SliceAnnotations& annotations() const { return *annotations_; }

    // What the view shows besides the session's pair: kSession (the session's
    // prediction; the A/B difference while the comparison's difference mode is
    // active), a comparison entry (>= 0: that prediction's errors; its camera
    // is the comparison's shared one, its axis the comparison axis) or
    // kDifference (the A/B difference, linked like an entry).
    static constexpr int kSession = -1;
    static constexpr int kDifference = -2;
    void bindComparison(ComparisonPresenter* comparison, int entry);
    int entry() const noexcept { return entry_; }
    // Shows the A/B difference colours now.
    bool showsDifference() const;
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
    void graphicsResized(int device_width, int device_height) override;
    void rendered() override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    // Recomposes the slice image when what it shows changed; true if it did.
    bool refreshImage(bool force);
    void refreshCrosshair();
    void refreshAnnotations();
    void onDatasetChanged();
    void showAfresh();
    // The axis stepped by wheel and keys: the view's own, or for 2D data the metric axis.
    ViewAxis stepAxis() const;
    std::array<double, 2> toDisplay(const QPointF& point) const;
    // A view of the comparison layout: camera and axis shared with the others.
    bool linked() const noexcept { return comparison_ && entry_ != kSession; }
    void shareCamera();

    SessionPresenter* presenter_;
    ComparisonPresenter* comparison_ = nullptr;
    int entry_ = kSession;
    ViewAxis axis_;
    std::unique_ptr<SliceScene> scene_;
    std::unique_ptr<SliceAnnotations> annotations_;
    bool window_level_drag_ = false;
    bool user_camera_ = false;
    Qt::MouseButton drag_button_ = Qt::NoButton;
    QPointF drag_last_;
    double wheel_steps_ = 0;
    QTimer deferred_update_; // crosshair-only changes: coalesced repaint
    struct Key {
        const Evaluation* evaluation = nullptr;
        const Evaluation* evaluation_b = nullptr; // difference: B's
        const Volume* prediction = nullptr;
        const Volume* prediction_b = nullptr;
        const Volume* image = nullptr; // the underlay
        // The Lesions mode's overlay (the session's pair only); held, so a
        // new one never compares equal to a freed one at the same address.
        std::shared_ptr<const LesionOverlay> lesions;
        ViewAxis axis = ViewAxis::Axial;
        std::int64_t slice = -1, sample = -1;
        std::optional<std::int64_t> label;
        LayerSettings layers;
        bool operator==(const Key& other) const = default;
    } shown_;
};

} // namespace masklens::ui
