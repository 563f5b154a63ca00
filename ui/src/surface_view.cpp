#include "masklens/ui/surface_view.h"

#include "masklens/ui/lesion_overlay.h"

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
        comparison_shown_ = {};
        refreshSurfaces();
        refreshComparison();
        requestRender();
    });
    connect(presenter_, &SessionPresenter::evaluationChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::sampleChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::labelChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::layersChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::lesionOverlayChanged, this, &SurfaceView::refreshSurfaces);
    connect(presenter_, &SessionPresenter::labelColoursChanged, this, &SurfaceView::refreshSurfaces);
    deferred_update_.setSingleShot(true);
    deferred_update_.setInterval(kDeferredRepaintMs);
    connect(&deferred_update_, &QTimer::timeout, this, [this]() { requestRender(); });
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
    if (comparison_watcher_) {
        if (comparison_cancel_) {
            comparison_cancel_->store(true);
        }
        comparison_watcher_->disconnect(this);
        comparison_watcher_->waitForFinished();
    }
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
    key.rule = view.rule;
    key.distances = distance_colouring_;
    const std::shared_ptr<const LesionOverlay> lesions = presenter_->sharedLesionOverlay();
    if (presenter_->layers().mode == DisplayMode::Lesions && lesions &&
        lesions->shape == presenter_->shape() && lesions->sample == view.sample) {
        key.lesions = lesions;
        key.distances = false; // lesions carry no distance colours
    }
    // Several predictions in 3D (comparison) take the label surfaces' place.
    if (presenter_->layers().mode == DisplayMode::Labels && comparisonKey().entries.empty()) {
        key.labels = presenter_->labelStyles();
        key.distances = false; // label surfaces carry no distance colours
    }
    return key;
}

void SurfaceView::setDistanceColouring(bool on)
{
    distance_colouring_ = on;
    scene_->setDistanceColouring(on);
    refreshSurfaces();
    requestRender();
}

void SurfaceView::refreshSurfaces()
{
    // While a load shows its volumes before the numbers, no surfaces: they are
    // built once the evaluation ends (the previous meshes would not fit).
    if (!presenter_->hasData() || !presenter_->is3d() || presenter_->previewing()) {
        if (cancel_) {
            cancel_->store(true);
        }
        rebuild_queued_ = false;
        scene_->clear();
        shown_ = {};
        comparison_shown_ = {};
        requestRender();
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
        if (wanted.lesions) {
            scene_->setPlacement(presenter_->target()->geometry());
            scene_->setMeshes(build_lesion_meshes(*wanted.lesions, *presenter_->target()));
        } else if (!wanted.labels.empty()) {
            scene_->setPlacement(presenter_->target()->geometry());
            scene_->setMeshes(build_label_meshes(*presenter_->prediction(), *presenter_->target(),
                                                 presenter_->pairView(), wanted.labels));
        } else {
            scene_->setVolumes(*presenter_->prediction(), *presenter_->target(), presenter_->pairView(),
                               SurfaceBuildOptions{wanted.distances, 0});
        }
        shown_ = wanted;
        scene_->setCursor(presenter_->cursor());
        requestRender();
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
    const std::shared_ptr<const LesionOverlay> lesions = building_key_.lesions;
    const std::vector<LabelStyle> labels = building_key_.labels;
    watcher_->setFuture(
        QtConcurrent::run(background_pool(), [dataset, view, options, lesions, labels, cancel]() {
            if (lesions) {
                return std::make_shared<SurfaceMeshes>(
                    build_lesion_meshes(*lesions, *dataset.target, 0, cancel.get()));
            }
            if (!labels.empty()) {
                return std::make_shared<SurfaceMeshes>(
                    build_label_meshes(*dataset.prediction, *dataset.target, view, labels, 0, cancel.get()));
            }
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
        scene_->setPlacement(presenter_->target()->geometry());
        scene_->setMeshes(*meshes);
        shown_ = building_key_;
        scene_->setCursor(presenter_->cursor());
        requestRender();
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
    while (building()) {
        if (building_) {
            watcher_->waitForFinished();
        }
        if (comparison_running_) {
            comparison_watcher_->waitForFinished();
        }
        QCoreApplication::processEvents();
    }
}

// ---------------------------------------------------------------------------
// SurfaceView: several predictions

void SurfaceView::bindComparison(ComparisonPresenter* comparison)
{
    if (comparison_) {
        comparison_->disconnect(this);
    }
    comparison_ = comparison;
    if (!comparison_watcher_) {
        comparison_watcher_ = std::make_unique<QFutureWatcher<std::vector<ColouredSurface>>>();
        connect(comparison_watcher_.get(), &QFutureWatcher<std::vector<ColouredSurface>>::finished, this,
                &SurfaceView::finishComparison);
    }
    if (comparison_) {
        connect(comparison_, &ComparisonPresenter::entriesChanged, this, &SurfaceView::refreshComparison);
        connect(comparison_, &ComparisonPresenter::shown3dChanged, this, &SurfaceView::refreshComparison);
        for (auto signal : {&SessionPresenter::sampleChanged, &SessionPresenter::labelChanged,
                            &SessionPresenter::evaluationChanged}) {
            connect(presenter_, signal, this, &SurfaceView::refreshComparison);
        }
    }
    refreshComparison();
}

SurfaceView::ComparisonKey SurfaceView::comparisonKey() const
{
    ComparisonKey key;
    if (!comparison_ || !presenter_->hasData() || !presenter_->is3d()) {
        return key;
    }
    const std::vector<int> shown = comparison_->shownIn3dEntries();
    if (shown == std::vector<int>{0}) {
        return key; // the session's prediction alone: its own surfaces (errors, distances)
    }
    for (const int entry : shown) {
        if (comparison_->evaluation(entry) && comparison_->prediction(entry)) {
            key.entries.push_back(entry);
            key.evaluations.push_back(comparison_->evaluation(entry));
        }
    }
    const PairView view = presenter_->pairView();
    key.sample = view.sample;
    key.label = view.label;
    key.rule = view.rule;
    return key;
}

void SurfaceView::refreshComparison()
{
    if (!comparison_) {
        return;
    }
    const ComparisonKey wanted = comparisonKey();
    if (comparison_running_) {
        if (!(wanted == comparison_building_)) {
            comparison_cancel_->store(true);
            comparison_queued_ = true;
        }
        return;
    }
    comparison_queued_ = false;
    if (wanted == comparison_shown_) {
        return;
    }
    std::vector<std::pair<std::shared_ptr<const Volume>, PairView>> inputs;
    std::vector<Rgb> colours;
    std::vector<std::string> names;
    for (const int entry : wanted.entries) {
        inputs.emplace_back(comparison_->predictionShared(entry), comparison_->pairView(entry));
        colours.push_back(comparison_colour(entry));
        names.push_back(comparison_->name(entry).toStdString());
    }
    const std::shared_ptr<const Volume> target = presenter_->dataset().target;
    comparison_cancel_ = std::make_shared<std::atomic<bool>>(false);
    auto cancel = comparison_cancel_;
    auto build = [inputs, colours, names, target, cancel]() {
        std::vector<ColouredSurface> surfaces;
        for (std::size_t i = 0; i < inputs.size(); ++i) {
            auto mesh =
                build_prediction_surface(*inputs[i].first, *target, inputs[i].second, 0, cancel.get());
            if (!mesh) {
                return std::vector<ColouredSurface>{};
            }
            surfaces.push_back({mesh, colours[i], names[i]});
        }
        return surfaces;
    };
    comparison_building_ = wanted;
    if (presenter_->synchronous()) {
        scene_->setComparisonSurfaces(build());
        comparison_shown_ = wanted;
        requestRender();
        refreshSurfaces(); // "All labels": its surfaces return when the comparison's leave
        return;
    }
    comparison_running_ = true;
    comparison_watcher_->setFuture(QtConcurrent::run(background_pool(), build));
}

void SurfaceView::finishComparison()
{
    if (!comparison_running_) {
        return;
    }
    comparison_running_ = false;
    const bool current = !comparison_cancel_->load() && comparison_building_ == comparisonKey();
    if (current) {
        scene_->setComparisonSurfaces(comparison_watcher_->result());
        comparison_shown_ = comparison_building_;
        requestRender();
        refreshSurfaces(); // "All labels": its surfaces return when the comparison's leave
        emit surfacesReady();
        return;
    }
    comparison_queued_ = true;
    QMetaObject::invokeMethod(this, &SurfaceView::refreshComparison, Qt::QueuedConnection);
}

void SurfaceView::resetView()
{
    scene_->resetCamera();
    requestRender();
}

void SurfaceView::keyPressEvent(QKeyEvent* event)
{
    // Keys are not forwarded: VTK's default key bindings (stereo, exit, ...) do not fit here.
    switch (event->key()) {
    case Qt::Key_R: resetView(); break;
    case Qt::Key_F: emit maximiseRequested(); break;
    default: VtkHostWidget::keyPressEvent(event); return;
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
