// SessionPresenter: opening files, the evaluation job (with its preview of
// freshly read volumes and the snapshot a failed preview restores) and the
// surface-distance pass. View state and values: session_state.cpp.
#include "masklens/ui/session_presenter.h"

#include "masklens/engine/error.h"
#include "masklens/engine/statistics.h"
#include "masklens/io/read_volume.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QElapsedTimer>
#include <QMetaObject>
#include <QPointer>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <functional>
#include <limits>
#include <mutex>
#include <string>

namespace masklens::ui {

std::vector<Metric> gui_metrics()
{
    std::vector<Metric> metrics;
    // Everything the statistics pass gives for one prediction channel set:
    // distances come from the distance pass, class combinations need classes,
    // lesion metrics need the connected components (not shown in the app yet).
    for (const MetricInfo& info : metric_table()) {
        if (!is_distance_metric(info.metric) && !info.combines_classes && !is_lesion_metric(info.metric)) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

QThreadPool* background_pool()
{
    // Two threads: a distance pass and a surface build may run side by side;
    // evaluations use the global pool and never queue behind them.
    static QThreadPool* pool = []() {
        auto* created = new QThreadPool;
        created->setMaxThreadCount(2);
        return created;
    }();
    return pool;
}

struct SessionPresenter::Job {
    QString prediction_path;
    QString target_path;
    std::shared_ptr<const Volume> prediction; // already loaded (null: read prediction_path)
    std::shared_ptr<const Volume> target;
    std::shared_ptr<service::PairEvaluator> evaluator; // the pair's, when it is unchanged
    EvaluationSettings settings;
    bool new_dataset = false;
};

// Holds a previewed job's evaluation until the views have drawn the preview
// (setPreviewFirst): opened by previewShown, cancel, a dropped preview or the
// timeout, whichever comes first.
struct SessionPresenter::PreviewGate {
    std::mutex mutex;
    std::condition_variable opened;
    bool open = false;

    void release()
    {
        {
            const std::lock_guard lock(mutex);
            open = true;
        }
        opened.notify_all();
    }
    void wait(std::chrono::milliseconds limit)
    {
        std::unique_lock lock(mutex);
        opened.wait_for(lock, limit, [this] { return open; });
    }
};

struct SessionPresenter::Result {
    bool ok = false;
    bool cancelled = false;
    QString text;
    QString details;
    Dataset dataset;
    std::shared_ptr<const Evaluation> evaluation;
    EvaluationSettings settings;
    bool new_dataset = false;
    std::string refusal; // why the probability metrics were dropped (evaluate_for_display)
};

struct SessionPresenter::Snapshot {
    Dataset dataset;
    std::shared_ptr<const Evaluation> evaluation;
    EvaluationSettings evaluated;
    Voxel cursor;
    std::int64_t sample = 0;
    int label_index = -1;
    DistanceValues distances;
};

StatisticsOptions statistics_options(const EvaluationSettings& settings, std::vector<Metric> metrics)
{
    StatisticsOptions options;
    options.metric.threshold = settings.threshold;
    options.metric.activation = settings.activation;
    options.metric.decision = settings.decision;
    options.metric.smooth_nr = settings.smooth;
    options.metric.smooth_dr = settings.smooth;
    options.metric.empty = settings.empty;
    options.metrics = std::move(metrics);
    options.axis = settings.axis;
    return options;
}

const service::ComputeDevice& compute_device()
{
    static const service::ComputeDevice device =
        service::resolve_device_request(qgetenv("MASKLENS_DEVICE").trimmed().toLower().toStdString());
    return device;
}

namespace {

// What the views need before the numbers exist: the shape, the pairing and the
// resolved slicing axis (as the engine resolves it), one sample entry each, no values.
std::shared_ptr<const Evaluation> placeholder_evaluation(const Volume& prediction, PairingMode pairing,
                                                         const StatisticsOptions& options)
{
    auto evaluation = std::make_shared<Evaluation>();
    evaluation->metrics = options.metrics;
    evaluation->options = options.metric;
    BatchStatistics& statistics = evaluation->statistics;
    const Shape& shape = prediction.shape();
    statistics.shape = shape;
    statistics.pairing = pairing;
    statistics.axis = options.axis == SliceAxis::Default ? SliceAxis::D : options.axis;
    statistics.slices_per_sample = statistics.axis == SliceAxis::D   ? shape.d
                                   : statistics.axis == SliceAxis::H ? shape.h
                                                                     : shape.w;
    evaluation->samples.resize(static_cast<std::size_t>(shape.n));
    for (std::size_t i = 0; i < evaluation->samples.size(); ++i) {
        evaluation->samples[i].index = static_cast<std::int64_t>(i);
    }
    return evaluation;
}

// Both datasets hold a target of the same samples and D x H x W: the cursor
// and sample stay meaningful across the change.
bool same_voxel_grid(const Dataset& before, const Dataset& after)
{
    if (!before.target || !after.target) {
        return false;
    }
    const Shape& a = before.target->shape();
    const Shape& b = after.target->shape();
    return a.n == b.n && a.d == b.d && a.h == b.h && a.w == b.w;
}

QString describe(const Error& error)
{
    switch (error.kind()) {
    case Error::Kind::Input: return QStringLiteral("The file cannot be used.");
    case Error::Kind::Usage: return QStringLiteral("The options are not valid for these files.");
    case Error::Kind::Device: return QStringLiteral("The compute device failed.");
    case Error::Kind::Cancelled: return QStringLiteral("Cancelled.");
    }
    return QStringLiteral("Error.");
}

} // namespace

SessionPresenter::SessionPresenter(QObject* parent)
    : QObject(parent), evaluation_job_(this), image_job_(this, background_pool()), distances_(this)
{}

// The jobs are stopped (and waited for) by their destructors.
SessionPresenter::~SessionPresenter() = default;

void SessionPresenter::openFiles(const QString& prediction_path, const QString& target_path)
{
    auto job = std::make_shared<Job>();
    job->prediction_path = prediction_path;
    job->target_path = target_path;
    job->settings = settings_;
    job->new_dataset = true;
    start(std::move(job));
}

void SessionPresenter::openPrediction(const QString& path)
{
    auto job = std::make_shared<Job>();
    job->prediction_path = path;
    job->target = dataset_.target;
    job->target_path = dataset_.target_path;
    job->settings = settings_;
    job->new_dataset = true;
    if (!job->target) {
        emit errorOccurred(tr("Open a target first."), tr("A prediction is evaluated against a target."));
        return;
    }
    start(std::move(job));
}

void SessionPresenter::openTarget(const QString& path)
{
    auto job = std::make_shared<Job>();
    job->target_path = path;
    job->prediction = dataset_.prediction;
    job->prediction_path = dataset_.prediction_path;
    job->settings = settings_;
    job->new_dataset = true;
    if (!job->prediction) {
        emit errorOccurred(tr("Open a prediction first."), tr("A target is compared with a prediction."));
        return;
    }
    start(std::move(job));
}

void SessionPresenter::setVolumes(std::shared_ptr<const Volume> prediction,
                                  std::shared_ptr<const Volume> target, const QString& prediction_path,
                                  const QString& target_path)
{
    auto job = std::make_shared<Job>();
    job->prediction = std::move(prediction);
    job->target = std::move(target);
    job->prediction_path = prediction_path;
    job->target_path = target_path;
    job->settings = settings_;
    job->new_dataset = true;
    start(std::move(job));
}

void SessionPresenter::reevaluate()
{
    if (!hasData()) {
        return;
    }
    if (busy_) {
        pending_reevaluate_ = true;
        return;
    }
    auto job = std::make_shared<Job>();
    job->prediction = dataset_.prediction;
    job->target = dataset_.target;
    job->evaluator = dataset_.evaluator;
    job->prediction_path = dataset_.prediction_path;
    job->target_path = dataset_.target_path;
    job->settings = settings_;
    job->new_dataset = false;
    start(std::move(job));
}

void SessionPresenter::cancel()
{
    evaluation_job_.requestCancel(); // finish() still runs, with `cancelled`
    pending_reevaluate_ = false;
    previewShown(); // a held evaluation wakes up to see the cancel
}

void SessionPresenter::previewShown()
{
    if (preview_gate_) {
        preview_gate_->release();
        preview_gate_.reset();
    }
}

void SessionPresenter::waitForIdle()
{
    previewShown(); // no frame can come while this thread blocks
    while (busy_ && evaluation_job_.running()) {
        evaluation_job_.wait();
    }
}

void SessionPresenter::start(std::shared_ptr<Job> job)
{
    if (busy_ && job->new_dataset) {
        cancel();
        waitForIdle();
    }
    if (busy_) {
        pending_reevaluate_ = true;
        return;
    }
    const std::uint64_t job_id = ++job_id_;

    auto last_percent = std::make_shared<std::atomic<int>>(-1);
    QPointer<SessionPresenter> self(this);
    auto progress = [self, last_percent](double fraction) {
        const int percent = static_cast<int>(fraction * 100.0);
        if (last_percent->exchange(percent) == percent || !self) {
            return;
        }
        QMetaObject::invokeMethod(
            self.data(),
            [self, fraction]() {
                if (self) {
                    emit self->progressChanged(fraction);
                }
            },
            Qt::QueuedConnection);
    };

    // Shows freshly read volumes before their evaluation ends (not for in-memory
    // volumes or re-evaluations: there the evaluation is all the work).
    const bool may_preview = !synchronous_ && job->new_dataset && (!job->prediction || !job->target);
    std::function<void(Dataset, std::shared_ptr<const Evaluation>)> preview;
    std::shared_ptr<PreviewGate> gate;
    if (may_preview && preview_first_) {
        gate = std::make_shared<PreviewGate>();
    }
    preview_gate_ = gate;
    if (may_preview) {
        const EvaluationSettings settings = job->settings;
        preview = [self, job_id, settings](Dataset dataset, std::shared_ptr<const Evaluation> placeholder) {
            QMetaObject::invokeMethod(
                self.data(),
                [self, job_id, settings, dataset = std::move(dataset),
                 placeholder = std::move(placeholder)]() {
                    if (self) {
                        self->showPreview(job_id, dataset, placeholder, settings);
                    }
                },
                Qt::QueuedConnection);
        };
    }

    auto run = [job, progress, preview, gate,
                wait = preview_wait_](const std::atomic<bool>& cancel) -> Result {
        static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_TIMING");
        QElapsedTimer timer;
        timer.start();
        Result result;
        result.settings = job->settings;
        result.new_dataset = job->new_dataset;
        try {
            auto prediction = job->prediction;
            auto target = job->target;
            if (!target && !prediction) {
                // Both files at once: decompression dominates opening a .nii.gz pair.
                auto pair = io::read_volume_pair(job->prediction_path.toStdString(), {},
                                                 job->target_path.toStdString(), {});
                prediction = std::make_shared<const Volume>(std::move(pair.prediction));
                target = std::make_shared<const Volume>(std::move(pair.target));
            } else if (!prediction) {
                prediction =
                    std::make_shared<const Volume>(io::read_volume(job->prediction_path.toStdString()));
            }
            if (trace) {
                std::fprintf(stderr, "TRACE read %.1f ms at %lld\n",
                             static_cast<double>(timer.nsecsElapsed()) / 1e6,
                             static_cast<long long>(QDateTime::currentMSecsSinceEpoch() % 1000000));
            }
            if (cancel.load()) {
                throw Error(Error::Kind::Cancelled, {}, "cancelled");
            }
            if (!target) {
                target = std::make_shared<const Volume>(io::read_volume(job->target_path.toStdString()));
            }
            const std::shared_ptr<service::PairEvaluator> evaluator =
                service::evaluator_for(job->evaluator, prediction, target, compute_device());
            StatisticsOptions options = statistics_options(job->settings, gui_metrics());
            options.progress = progress;
            options.cancel = &cancel;
            if (preview) {
                // The pair is checked first (shapes, types): a pair the engine refuses
                // outright is never shown. Other failures come from the pass and are
                // reported as before (the window restores the previous dataset).
                std::optional<PairingMode> pairing;
                try {
                    pairing = check_pair(*prediction, *target, options);
                } catch (const Error&) {
                    // evaluate() reports it below, as without a preview
                }
                if (pairing) {
                    Dataset dataset;
                    dataset.prediction = prediction;
                    dataset.target = target;
                    dataset.evaluator = evaluator;
                    dataset.prediction_path = job->prediction_path;
                    dataset.target_path = job->target_path;
                    preview(std::move(dataset), placeholder_evaluation(*prediction, *pairing, options));
                    if (gate) {
                        gate->wait(wait);
                    }
                }
            }
            // A prediction outside [0, 1] (e.g. logits) still has hard metrics.
            service::PairEvaluator::DisplayOutcome outcome = evaluator->evaluate_for_display(options);
            result.refusal = std::move(outcome.refusal);
            std::shared_ptr<const Evaluation> evaluation = std::move(outcome.evaluation);
            if (trace) {
                std::fprintf(stderr, "TRACE read + evaluate %.1f ms\n",
                             static_cast<double>(timer.nsecsElapsed()) / 1e6);
            }
            result.dataset.prediction = prediction;
            result.dataset.target = target;
            result.dataset.evaluator = evaluator;
            result.dataset.prediction_path = job->prediction_path;
            result.dataset.target_path = job->target_path;
            result.evaluation = std::move(evaluation);
            result.ok = true;
        } catch (const Error& error) {
            result.cancelled = error.kind() == Error::Kind::Cancelled;
            result.text = describe(error);
            result.details = QString::fromStdString(error.what());
        } catch (const std::exception& error) {
            result.text = QStringLiteral("Unexpected error.");
            result.details = QString::fromStdString(error.what());
        }
        return result;
    };

    busy_ = true;
    emit busyChanged(true);
    emit progressChanged(-1.0);
    evaluation_job_.start(
        std::move(run), [this](Result result) { finish(std::move(result)); }, synchronous_);
}

void SessionPresenter::finish(Result result)
{
    static const bool trace = qEnvironmentVariableIsSet("MASKLENS_TRACE_TIMING");
    QElapsedTimer timer;
    timer.start();
    const struct Trace {
        bool on;
        QElapsedTimer& timer;
        ~Trace()
        {
            if (on) {
                std::fprintf(stderr, "TRACE finish (UI thread) %.1f ms at %lld\n",
                             static_cast<double>(timer.nsecsElapsed()) / 1e6,
                             static_cast<long long>(QDateTime::currentMSecsSinceEpoch() % 1000000));
            }
        }
    } trace_finish{trace, timer};
    preview_gate_.reset(); // (released: the job has ended)
    busy_ = false;
    emit busyChanged(false);
    const bool was_preview = previewing_;
    previewing_ = false;
    if (result.ok) {
        snapshot_.reset();
        const bool fresh = result.new_dataset;
        // Replacing one side of the pair by a file of the same grid keeps the slice.
        const bool same_grid = fresh && same_voxel_grid(dataset_, result.dataset);
        if (fresh) {
            dataset_ = result.dataset;
        }
        evaluation_ = result.evaluation;
        evaluated_settings_ = result.settings;
        probability_warning_ = QString::fromStdString(result.refusal);
        if (fresh) {
            if (!was_preview && !same_grid) {
                const Shape s = shape();
                cursor_ = {s.d / 2, s.h / 2, s.w / 2}; // (kept from the preview otherwise)
                sample_ = 0;
            }
            resetViewState();
        }
        clampState();
        resetDistances();
        if (fresh && !keepImageIfFits()) {
            emit imageChanged();
        }
        if (fresh) {
            emit datasetChanged();
        }
        emit evaluationChanged();
        emit cursorChanged();
        requestDistances();
    } else {
        if (was_preview) {
            restoreSnapshot();
        }
        if (settings_ != evaluated_settings_ && hasData()) {
            settings_ = evaluated_settings_; // keep the settings that match the numbers shown
            emit settingsChanged();
        }
        pending_reevaluate_ = false;
        if (result.cancelled) {
            emit cancelled();
        } else {
            emit errorOccurred(result.text, result.details);
        }
    }
    if (pending_reevaluate_) {
        pending_reevaluate_ = false;
        if (settings_ != evaluated_settings_) {
            reevaluate();
        }
    }
}

void SessionPresenter::resetViewState()
{
    label_index_ = -1;
    const auto& all = labels();
    for (std::size_t i = 0; i < all.size(); ++i) {
        if (all[i] > 0) {
            label_index_ = static_cast<int>(i);
            break;
        }
    }
    if (label_index_ < 0 && !all.empty()) {
        label_index_ = 0;
    }
}

void SessionPresenter::showPreview(std::uint64_t job, Dataset dataset,
                                   std::shared_ptr<const Evaluation> placeholder, EvaluationSettings settings)
{
    if (job != job_id_ || !busy_ || previewing_ || !preview_allowed_ || evaluation_job_.cancelRequested()) {
        if (job == job_id_) {
            previewShown(); // nothing to wait for
        }
        return; // superseded, finished, cancelled or not wanted
    }
    snapshot_ = std::make_unique<Snapshot>(Snapshot{dataset_, evaluation_, evaluated_settings_, cursor_,
                                                    sample_, label_index_, distances_.values()});
    previewing_ = true;
    const bool same_grid = same_voxel_grid(dataset_, dataset);
    dataset_ = std::move(dataset);
    evaluation_ = std::move(placeholder);
    evaluated_settings_ = settings;
    if (!same_grid) {
        const Shape s = shape();
        cursor_ = {s.d / 2, s.h / 2, s.w / 2};
        sample_ = 0;
    }
    resetViewState();
    resetDistances(); // pending; launched once the numbers exist
    emit datasetChanged();
    emit evaluationChanged();
    emit cursorChanged();
    emit distancesChanged();
}

void SessionPresenter::restoreSnapshot()
{
    if (!snapshot_) {
        return;
    }
    Snapshot snapshot = std::move(*snapshot_);
    snapshot_.reset();
    dataset_ = std::move(snapshot.dataset);
    evaluation_ = std::move(snapshot.evaluation);
    evaluated_settings_ = snapshot.evaluated;
    cursor_ = snapshot.cursor;
    sample_ = snapshot.sample;
    label_index_ = snapshot.label_index;
    // The previous distances: kept when they were there, computed again otherwise.
    resetDistances();
    if (snapshot.distances.state == DistanceState::Ready ||
        snapshot.distances.state == DistanceState::Failed) {
        distances_.restore(std::move(snapshot.distances));
    }
    restoring_ = true;
    emit datasetChanged();
    emit evaluationChanged();
    emit cursorChanged();
    restoring_ = false;
    requestDistances(); // emits distancesChanged; launches when still pending
}

void SessionPresenter::clampState()
{
    if (!hasData()) {
        return;
    }
    const Shape s = shape();
    cursor_.d = std::clamp<std::int64_t>(cursor_.d, 0, s.d - 1);
    cursor_.h = std::clamp<std::int64_t>(cursor_.h, 0, s.h - 1);
    cursor_.w = std::clamp<std::int64_t>(cursor_.w, 0, s.w - 1);
    sample_ = std::clamp<std::int64_t>(sample_, 0, sampleCount() - 1);
    if (label_index_ >= static_cast<int>(labels().size())) {
        label_index_ = labels().empty() ? -1 : 0;
    }
}

// ---------------------------------------------------------------------------
// Surface distances

void SessionPresenter::setDistancesEnabled(bool enabled)
{
    if (enabled == distances_enabled_) {
        return;
    }
    distances_enabled_ = enabled;
    resetDistances();
    requestDistances();
}

void SessionPresenter::setNsdTolerance(double millimetres)
{
    if (!(millimetres >= 0) || !std::isfinite(millimetres) || millimetres == nsd_tolerance_) {
        return;
    }
    nsd_tolerance_ = millimetres;
    resetDistances();
    requestDistances();
}

std::vector<Metric> SessionPresenter::shownMetrics() const
{
    std::vector<Metric> metrics;
    if (!evaluation_) {
        return metrics;
    }
    metrics = evaluation_->metrics;
    if (distances_enabled_) {
        // Right after the overlap metrics (dice, iou), so they are seen without scrolling.
        auto at = std::find(metrics.begin(), metrics.end(), Metric::Iou);
        at = at == metrics.end() ? metrics.end() : at + 1;
        for (const Metric metric : gui_distance_metrics()) {
            if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) {
                at = metrics.insert(at, metric) + 1;
            }
        }
    }
    return metrics;
}

bool SessionPresenter::isPending(Metric metric) const
{
    return (previewing_ && hasData()) ||
           (is_distance_metric(metric) && distances_.state() == DistanceState::Pending);
}

void SessionPresenter::resetDistances()
{
    distances_.reset(distances_enabled_ && hasData());
}

void SessionPresenter::requestDistances()
{
    emit distancesChanged();
    if (!previewing_) {
        launchDistances();
    }
}

void SessionPresenter::launchDistances()
{
    distances_.launch(
        service::evaluator_for(dataset_.evaluator, dataset_.prediction, dataset_.target, compute_device()),
        statistics_options(evaluated_settings_, {}), nsd_tolerance_, [this]() { emit distancesChanged(); },
        synchronous_);
}

void SessionPresenter::waitForDistances()
{
    if (previewing_) {
        waitForIdle(); // the distances start from the numbers
    }
    while (distances_.state() == DistanceState::Pending) {
        if (!distances_.running()) {
            if (previewing_ || !hasData()) {
                return; // nothing can start
            }
            launchDistances();
            if (!distances_.running()) {
                return;
            }
            continue;
        }
        distances_.wait();
    }
}

} // namespace masklens::ui
