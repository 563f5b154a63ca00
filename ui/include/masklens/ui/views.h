// The view widgets: a slice view (axial, coronal or sagittal) and the 3D
// surface view. Each hosts one render window and one scene, and binds to the
// SessionPresenter; neither holds UI state of its own beyond the camera.
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/scenes.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/vtk_host_widget.h"

#include <QFutureWatcher>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

namespace masklens::ui {

// Repaint delay of views whose picture changes only by the crosshair (the 3D
// view, the slice views not stepped): stepping through slices redraws only the
// stepped view; the others follow once stepping pauses.
inline constexpr int kDeferredRepaintMs = 120;

class SliceView : public VtkHostWidget {
    Q_OBJECT
public:
    SliceView(SessionPresenter* presenter, ViewAxis axis, QWidget* parent = nullptr);
    ~SliceView() override;

    ViewAxis axis() const noexcept { return axis_; }
    void setAxis(ViewAxis axis);
    SliceScene& scene() { return *scene_; }

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
        ViewAxis axis = ViewAxis::Axial;
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
    // Colours the prediction surface by its distance to the target surface (mm).
    void setDistanceColouring(bool on);
    bool distanceColouring() const noexcept { return distance_colouring_; }
    // Surfaces are built on a background thread (synchronously when the
    // presenter is synchronous); true while a build for the current state runs.
    bool building() const noexcept
    {
        return building_ || rebuild_queued_ || comparison_running_ || comparison_queued_;
    }
    // Blocks until the surfaces for the current state are shown (tests, screenshots).
    void waitForSurfaces();
    // Shows the predictions the comparison's 3D chooser picks, each in its
    // colour (comparison_colour), while that is not the session's prediction alone.
    void bindComparison(ComparisonPresenter* comparison);

signals:
    void maximiseRequested();
    void surfacesReady();

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;

private:
    struct Key {
        std::uint64_t dataset = 0;
        const Volume* prediction = nullptr;
        const Volume* target = nullptr;
        std::int64_t sample = -1;
        std::optional<std::int64_t> label;
        DecisionRule rule;
        bool distances = false;
        bool operator==(const Key& other) const = default;
    };
    struct Build;
    Key currentKey() const;
    struct ComparisonKey {
        std::vector<const Evaluation*> evaluations; // of the entries shown
        std::vector<int> entries;
        std::int64_t sample = -1;
        std::optional<std::int64_t> label;
        DecisionRule rule;
        bool operator==(const ComparisonKey& other) const = default;
    };
    ComparisonKey comparisonKey() const;
    void refreshComparison();
    void finishComparison();
    ComparisonPresenter* comparison_ = nullptr;
    ComparisonKey comparison_shown_;
    ComparisonKey comparison_building_;
    bool comparison_running_ = false;
    bool comparison_queued_ = false;
    std::shared_ptr<std::atomic<bool>> comparison_cancel_;
    std::unique_ptr<QFutureWatcher<std::vector<ColouredSurface>>> comparison_watcher_;
    void refreshSurfaces();
    void launchBuild();
    void finishBuild();
    SessionPresenter* presenter_;
    std::unique_ptr<SurfaceScene> scene_;
    Key shown_;        // what the scene shows
    Key building_key_; // what the running build makes
    bool building_ = false;
    bool rebuild_queued_ = false;
    bool distance_colouring_ = false;
    std::uint64_t dataset_generation_ = 0;
    std::shared_ptr<std::atomic<bool>> cancel_;
    std::unique_ptr<QFutureWatcher<std::shared_ptr<SurfaceMeshes>>> watcher_;
    QTimer deferred_update_; // crosshair moves: coalesced repaint
};

} // namespace masklens::ui
