// The 3D surface view widget: hosts one render window and one SurfaceScene and
// binds to the SessionPresenter (and, in comparison mode, the
// ComparisonPresenter); it holds no UI state of its own beyond the camera.
#pragma once

#include "masklens/ui/comparison_presenter.h"
#include "masklens/ui/session_presenter.h"
#include "masklens/ui/surface_scene.h"
#include "masklens/ui/vtk_host_widget.h"

#include <QFutureWatcher>
#include <QTimer>

#include <atomic>
#include <memory>
#include <optional>

namespace masklens::ui {

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
        // The Lesions mode's overlay (held: see SliceView::Key), else null.
        std::shared_ptr<const LesionOverlay> lesions;
        // "All labels": the label styles drawn (build_label_meshes), else empty.
        std::vector<LabelStyle> labels;
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
