#include "masklens/ui/comparison_presenter.h"

#include "masklens/engine/error.h"
#include "masklens/engine/statistics.h"
#include "masklens/io/read_volume.h"

#include <QCoreApplication>
#include <QFileInfo>
#include <QPointer>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>

namespace masklens::ui {

namespace {

constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

std::optional<std::size_t> index_of(const Evaluation& evaluation, Metric metric)
{
    const auto found = std::find(evaluation.metrics.begin(), evaluation.metrics.end(), metric);
    if (found == evaluation.metrics.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(found - evaluation.metrics.begin());
}

bool same_grid(const Shape& a, const Shape& b)
{
    return a.n == b.n && a.d == b.d && a.h == b.h && a.w == b.w && a.spatial_dims == b.spatial_dims;
}

} // namespace

Rgb comparison_colour(int index)
{
    // Okabe-Ito, the target's yellow left out; entry 0 keeps the app's prediction green.
    static constexpr Rgb kColours[] = {Rgb{0x00, 0x9E, 0x73}, Rgb{0x00, 0x72, 0xB2}, Rgb{0xE6, 0x9F, 0x00},
                                       Rgb{0xCC, 0x79, 0xA7}, Rgb{0x56, 0xB4, 0xE9}, Rgb{0xD5, 0x5E, 0x00},
                                       Rgb{0x99, 0x99, 0x99}};
    constexpr int count = static_cast<int>(sizeof(kColours) / sizeof(kColours[0]));
    return kColours[((index % count) + count) % count];
}

struct ComparisonPresenter::Extra {
    std::uint64_t id = 0;
    QString name;
    QString path;
    std::shared_ptr<const Volume> prediction;          // null until read
    std::shared_ptr<service::PairEvaluator> evaluator; // against the session's target
    std::shared_ptr<const Evaluation> evaluation;
    bool pending = true;
    bool shown_3d = false;
    // Its own activation (a logits model beside a probability model) and
    // decision; none: the session's (a new activation brings its default
    // decision, as in the session).
    std::optional<Activation> activation;
    std::optional<Decision> decision;
    // What the running or last job evaluates against.
    EvaluationSettings requested;
    const Volume* requested_target = nullptr;
    LatestJob<Result> job;
    // Its surface-distance pass (after each evaluation).
    DistancePass distances;

    explicit Extra(QObject* owner) : job(owner), distances(owner) {}
    // Cancels both background jobs and drops their results; `wait`: also
    // blocks until they have finished (destruction).
    void stop(bool wait)
    {
        job.stop(wait);
        distances.stop(wait);
    }
};

// What a difference count counts: both predictions, the target and how each is read.
struct ComparisonPresenter::CountsKey {
    std::shared_ptr<const Volume> a;
    std::shared_ptr<const Volume> b;
    std::shared_ptr<const Volume> target;
    PairView view_a;
    PairView view_b;
    bool operator==(const CountsKey& other) const noexcept
    {
        return a == other.a && b == other.b && target == other.target && view_a == other.view_a &&
               view_b == other.view_b;
    }
};

struct ComparisonPresenter::Result {
    bool ok = false;
    QString text;
    QString details;
    std::shared_ptr<const Volume> prediction;
    std::shared_ptr<service::PairEvaluator> evaluator;
    std::shared_ptr<const Evaluation> evaluation;
};

ComparisonPresenter::ComparisonPresenter(SessionPresenter* session, QObject* parent)
    : QObject(parent), session_(session), counts_job_(this, background_pool())
{
    connect(session_, &SessionPresenter::datasetChanged, this, &ComparisonPresenter::onDatasetChanged);
    connect(session_, &SessionPresenter::evaluationChanged, this, &ComparisonPresenter::onEvaluationChanged);
    connect(session_, &SessionPresenter::chartMetricChanged, this, [this]() { differ_rank_ = 0; });
    connect(session_, &SessionPresenter::distancesChanged, this,
            &ComparisonPresenter::onSessionDistancesChanged);
    // The difference counts follow every change of what they count.
    for (auto signal : {&ComparisonPresenter::differenceChanged, &ComparisonPresenter::pairChanged,
                        &ComparisonPresenter::entriesChanged}) {
        connect(this, signal, this, &ComparisonPresenter::requestDifferenceCounts);
    }
    for (auto signal : {&SessionPresenter::sampleChanged, &SessionPresenter::labelChanged,
                        &SessionPresenter::evaluationChanged, &SessionPresenter::datasetChanged}) {
        connect(session_, signal, this, &ComparisonPresenter::requestDifferenceCounts);
    }
    const auto load_failed = [this]() {
        // The pair being opened failed: the predictions queued for it go too.
        if (!session_->busy()) {
            expect_new_pair_ = false;
            queued_.clear();
        }
    };
    connect(session_, &SessionPresenter::errorOccurred, this, load_failed);
    // A new pair may be shown before its numbers only while no added prediction
    // would meet a target it was not evaluated against.
    connect(this, &ComparisonPresenter::entriesChanged, this,
            [this]() { session_->setPreviewAllowed(extras_.empty()); });
    connect(session_, &SessionPresenter::cancelled, this, load_failed);
}

ComparisonPresenter::~ComparisonPresenter()
{
    counts_job_.stop(true);
    for (const auto& extra : extras_) {
        extra->stop(true);
    }
}

// ---------------------------------------------------------------------------
// Predictions

void ComparisonPresenter::openComparison(const QString& target_path, const QStringList& prediction_paths)
{
    if (prediction_paths.isEmpty()) {
        return;
    }
    expect_new_pair_ = true;
    queued_ = prediction_paths.mid(1);
    session_->openFiles(prediction_paths.front(), target_path);
}

void ComparisonPresenter::addPrediction(const QString& path)
{
    if (!session_->hasData()) {
        if (session_->busy()) {
            queued_.append(path); // added once the pair being opened is there
            return;
        }
        emit errorOccurred(tr("Open a prediction and a target first."),
                           tr("Further predictions are compared against the open target."));
        return;
    }
    auto extra = std::make_unique<Extra>(this);
    extra->id = next_id_++;
    extra->path = path;
    extra->name = uniqueName(QFileInfo(path).fileName());
    Extra& added = *extra;
    extras_.push_back(std::move(extra));
    resetExtraDistances(added); // "…" from the start
    clampPair();
    emit entriesChanged();
    evaluateExtra(added);
}

void ComparisonPresenter::addPredictionVolume(std::shared_ptr<const Volume> prediction, const QString& name)
{
    if (!session_->hasData() || !prediction) {
        emit errorOccurred(tr("Open a prediction and a target first."),
                           tr("Further predictions are compared against the open target."));
        return;
    }
    auto extra = std::make_unique<Extra>(this);
    extra->id = next_id_++;
    extra->prediction = std::move(prediction);
    extra->name = uniqueName(name.isEmpty() ? tr("prediction %1").arg(count() + 1) : name);
    Extra& added = *extra;
    extras_.push_back(std::move(extra));
    resetExtraDistances(added); // "…" from the start
    clampPair();
    emit entriesChanged();
    evaluateExtra(added);
}

void ComparisonPresenter::removePrediction(int index)
{
    if (index < 1 || index >= count()) {
        return;
    }
    auto& extra = extras_[static_cast<std::size_t>(index - 1)];
    extra->stop(false);
    const bool shown = extra->shown_3d;
    extras_.erase(extras_.begin() + (index - 1));
    clampPair();
    differ_rank_ = 0;
    emit entriesChanged();
    if (shown) {
        emit shown3dChanged();
    }
}

void ComparisonPresenter::clearPredictions()
{
    if (extras_.empty()) {
        return;
    }
    while (!extras_.empty()) {
        extras_.back()->stop(false);
        extras_.pop_back();
    }
    clampPair();
    differ_rank_ = 0;
    emit entriesChanged();
    emit shown3dChanged();
}

QString ComparisonPresenter::uniqueName(const QString& wanted) const
{
    QStringList names;
    for (int i = 0; i < count(); ++i) {
        names << name(i);
    }
    QString candidate = wanted;
    for (int n = 2; names.contains(candidate); ++n) {
        candidate = QStringLiteral("%1 (%2)").arg(wanted).arg(n);
    }
    return candidate;
}

int ComparisonPresenter::count() const
{
    return session_->hasData() ? 1 + static_cast<int>(extras_.size()) : 0;
}

QString ComparisonPresenter::name(int index) const
{
    if (index == 0) {
        const QString path = session_->dataset().prediction_path;
        return path.isEmpty() ? tr("prediction 1") : QFileInfo(path).fileName();
    }
    if (index < 1 || index >= count()) {
        return {};
    }
    return extras_[static_cast<std::size_t>(index - 1)]->name;
}

QString ComparisonPresenter::path(int index) const
{
    if (index == 0) {
        return session_->dataset().prediction_path;
    }
    if (index < 1 || index >= count()) {
        return {};
    }
    return extras_[static_cast<std::size_t>(index - 1)]->path;
}

std::shared_ptr<const Volume> ComparisonPresenter::predictionShared(int index) const
{
    if (index == 0) {
        return session_->dataset().prediction;
    }
    if (index < 1 || index >= count()) {
        return nullptr;
    }
    const Extra& extra = *extras_[static_cast<std::size_t>(index - 1)];
    return extra.evaluation ? extra.prediction : nullptr;
}

const Volume* ComparisonPresenter::prediction(int index) const
{
    return predictionShared(index).get();
}

const Evaluation* ComparisonPresenter::evaluation(int index) const
{
    if (index == 0) {
        return session_->evaluation();
    }
    if (index < 1 || index >= count()) {
        return nullptr;
    }
    return extras_[static_cast<std::size_t>(index - 1)]->evaluation.get();
}

bool ComparisonPresenter::pending(int index) const
{
    if (index == 0) {
        return session_->busy();
    }
    if (index < 1 || index >= count()) {
        return false;
    }
    return extras_[static_cast<std::size_t>(index - 1)]->pending;
}

bool ComparisonPresenter::busy() const
{
    return std::any_of(extras_.begin(), extras_.end(), [](const auto& extra) { return extra->pending; }) ||
           !queued_.isEmpty();
}

void ComparisonPresenter::waitForIdle()
{
    session_->waitForIdle();
    for (;;) {
        QCoreApplication::processEvents();
        Extra* running = nullptr;
        for (const auto& extra : extras_) {
            if (extra->pending && extra->job.running()) {
                running = extra.get();
                break;
            }
        }
        if (!running) {
            QCoreApplication::processEvents(); // what the last delivery queued (a failed entry's removal)
            return;
        }
        running->job.wait();
    }
}

PairView ComparisonPresenter::pairView(int index) const
{
    PairView view = session_->pairView();
    if (const Evaluation* source = evaluation(index)) {
        view.pairing = source->statistics.pairing;
        view.rule = source->options.rule(); // each prediction's own rule
    }
    return view;
}

EvaluationSettings ComparisonPresenter::settingsOf(const Extra& extra) const
{
    EvaluationSettings settings = session_->settings();
    if (extra.activation && *extra.activation != settings.activation) {
        settings.activation = *extra.activation;
        settings.decision = *extra.activation == Activation::Softmax ? Decision::Argmax : Decision::Threshold;
    }
    if (extra.decision) {
        settings.decision = *extra.decision;
    }
    return settings;
}

Decision ComparisonPresenter::decision(int index) const
{
    if (index >= 1 && index < count()) {
        return settingsOf(*extras_[static_cast<std::size_t>(index - 1)]).decision;
    }
    return session_->settings().decision;
}

void ComparisonPresenter::setDecision(int index, Decision decision)
{
    if (index == 0) {
        session_->setDecision(decision);
        return;
    }
    if (index < 1 || index >= count()) {
        return;
    }
    Extra& extra = *extras_[static_cast<std::size_t>(index - 1)];
    const std::optional<Decision> before = extra.decision;
    extra.decision = decision;
    applyRule(extra, extra.activation, before);
}

void ComparisonPresenter::applyRule(Extra& extra, std::optional<Activation> activation_before,
                                    std::optional<Decision> decision_before)
{
    // A rule the prediction cannot take (softmax or argmax on one channel,
    // an activation on integers) is refused with the engine's message.
    if (extra.prediction) {
        try {
            check_rule(settingsOf(extra).rule(), *extra.prediction);
        } catch (const Error& error) {
            extra.activation = activation_before;
            extra.decision = decision_before;
            emit errorOccurred(tr("%1: this rule does not apply.").arg(extra.name),
                               QString::fromStdString(error.what()));
            return;
        }
    }
    if (extra.requested != settingsOf(extra)) {
        evaluateExtra(extra);
        emit entriesChanged();
    }
}

Activation ComparisonPresenter::activation(int index) const
{
    if (index >= 1 && index < count()) {
        const Extra& extra = *extras_[static_cast<std::size_t>(index - 1)];
        return settingsOf(extra).activation;
    }
    return session_->settings().activation;
}

void ComparisonPresenter::setActivation(int index, Activation activation)
{
    if (index == 0) {
        session_->setActivation(activation); // every entry without its own follows
        return;
    }
    if (index < 1 || index >= count()) {
        return;
    }
    Extra& extra = *extras_[static_cast<std::size_t>(index - 1)];
    const std::optional<Activation> activation_before = extra.activation;
    const std::optional<Decision> decision_before = extra.decision;
    extra.activation = activation;
    extra.decision.reset(); // the activation's default decision
    applyRule(extra, activation_before, decision_before);
}

// ---------------------------------------------------------------------------
// Evaluating the added predictions

void ComparisonPresenter::onDatasetChanged()
{
    if (session_->previewing() || session_->restoring()) {
        // Volumes shown before their numbers, or the previous ones back after a
        // failed load: the pair changes (or not) when the evaluation ends.
        return;
    }
    const Volume* target = session_->target();
    if (expect_new_pair_) {
        // A new pair: the predictions of the previous one are dropped, the queued ones added.
        expect_new_pair_ = false;
        const QStringList queued = queued_;
        queued_.clear();
        seen_target_ = target;
        for (const auto& extra : extras_) {
            extra->stop(false);
        }
        extras_.clear();
        clampPair();
        differ_rank_ = 0;
        emit entriesChanged();
        emit shown3dChanged();
        for (const QString& path : queued) {
            addPrediction(path);
        }
        return;
    }
    const QStringList queued = queued_;
    queued_.clear();
    seen_target_ = target;
    // A new target or first prediction: every added one is evaluated again (a
    // grid that no longer fits is reported and the prediction removed).
    for (const std::uint64_t id : extraIds()) {
        if (Extra* extra = findExtra(id)) {
            evaluateExtra(*extra); // may remove it (synchronous failure)
        }
    }
    clampPair();
    emit entriesChanged();
    for (const QString& path : queued) {
        addPrediction(path);
    }
}

void ComparisonPresenter::onEvaluationChanged()
{
    if (session_->previewing() || session_->restoring()) {
        return;
    }
    for (const std::uint64_t id : extraIds()) {
        Extra* extra = findExtra(id);
        if (extra &&
            (extra->requested != settingsOf(*extra) || extra->requested_target != session_->target())) {
            evaluateExtra(*extra);
        }
    }
    emit entriesChanged();
}

void ComparisonPresenter::evaluateExtra(Extra& extra)
{
    if (!session_->hasData()) {
        return;
    }
    extra.pending = true;
    resetExtraDistances(extra); // the distances of the previous settings are stale
    extra.requested = settingsOf(extra);
    extra.requested_target = session_->target();
    const std::uint64_t id = extra.id;
    const std::shared_ptr<const Volume> target = session_->dataset().target;
    const Shape grid = session_->shape();
    const EvaluationSettings settings = extra.requested;
    if (extra.prediction && !same_grid(extra.prediction->shape(), grid)) {
        extra.evaluation.reset(); // not shown on a grid it does not fit
    }
    auto prediction = extra.prediction;
    auto previous = extra.evaluator;
    const QString path = extra.path;

    auto run = [target, grid, settings, prediction, previous,
                path](const std::atomic<bool>& cancel) -> Result {
        Result result;
        try {
            auto volume = prediction;
            if (!volume) {
                volume = std::make_shared<const Volume>(io::read_volume(path.toStdString()));
            }
            if (!same_grid(volume->shape(), grid)) {
                throw Error(Error::Kind::Input, path.toStdString(),
                            "shape " + volume->shape().to_string() +
                                " does not match the first prediction's " + grid.to_string());
            }
            StatisticsOptions options = statistics_options(settings, gui_metrics());
            options.cancel = &cancel;
            // As the session: a prediction outside [0, 1] keeps its hard metrics.
            auto evaluator = service::evaluator_for(previous, volume, target, compute_device());
            result.evaluation = evaluator->evaluate_for_display(options).evaluation;
            result.prediction = std::move(volume);
            result.evaluator = std::move(evaluator);
            result.ok = true;
        } catch (const Error& error) {
            result.text = error.kind() == Error::Kind::Cancelled
                              ? QString()
                              : QStringLiteral("The prediction cannot be compared.");
            result.details = QString::fromStdString(error.what());
        } catch (const std::exception& error) {
            result.text = QStringLiteral("Unexpected error.");
            result.details = QString::fromStdString(error.what());
        }
        return result;
    };

    extra.job.start(
        std::move(run), [this, id](Result result) { finishExtra(id, std::move(result)); },
        session_->synchronous());
}

std::vector<std::uint64_t> ComparisonPresenter::extraIds() const
{
    std::vector<std::uint64_t> ids;
    for (const auto& extra : extras_) {
        ids.push_back(extra->id);
    }
    return ids;
}

ComparisonPresenter::Extra* ComparisonPresenter::findExtra(std::uint64_t id)
{
    for (const auto& extra : extras_) {
        if (extra->id == id) {
            return extra.get();
        }
    }
    return nullptr;
}

void ComparisonPresenter::finishExtra(std::uint64_t id, Result result)
{
    Extra* extra = findExtra(id);
    if (!extra) {
        return; // removed
    }
    if (!result.ok) {
        if (result.text.isEmpty()) {
            return; // cancelled: a newer job follows
        }
        const QString name = extra->name;
        // Not from inside the watcher's own signal: the Extra owns it.
        QMetaObject::invokeMethod(
            this,
            [this, id]() {
                for (int i = 1; i < count(); ++i) {
                    if (extras_[static_cast<std::size_t>(i - 1)]->id == id) {
                        removePrediction(i);
                        return;
                    }
                }
            },
            session_->synchronous() ? Qt::DirectConnection : Qt::QueuedConnection);
        emit errorOccurred(result.text, name + QStringLiteral(": ") + result.details);
        return;
    }
    extra->prediction = std::move(result.prediction);
    extra->evaluator = std::move(result.evaluator);
    extra->evaluation = std::move(result.evaluation);
    extra->pending = false;
    emit entriesChanged();
    if (extra->shown_3d) {
        emit shown3dChanged();
    }
    launchExtraDistances(*extra);
}

// ---------------------------------------------------------------------------
// Surface distances of the added predictions

void ComparisonPresenter::resetExtraDistances(Extra& extra)
{
    extra.distances.reset(session_->distancesEnabled() && session_->hasData());
}

void ComparisonPresenter::launchExtraDistances(Extra& extra)
{
    if (!extra.evaluation || !extra.prediction || !session_->hasData()) {
        return; // launched when its evaluation arrives
    }
    // With the settings its evaluation was computed with.
    extra.distances.launch(
        service::evaluator_for(extra.evaluator, extra.prediction, session_->dataset().target,
                               compute_device()),
        statistics_options(extra.requested, {}), session_->nsdTolerance(),
        [this]() { emit distancesChanged(); }, session_->synchronous());
}

void ComparisonPresenter::onSessionDistancesChanged()
{
    // The session's own entry changed (shown through it), or its tolerance /
    // switch did: added predictions follow.
    const bool enabled = session_->distancesEnabled();
    for (const std::uint64_t id : extraIds()) {
        Extra* extra = findExtra(id);
        if (!extra) {
            continue;
        }
        const bool off = extra->distances.state() == DistanceState::Off;
        const bool stale_tolerance = extra->distances.values().tolerance != session_->nsdTolerance();
        if (enabled != !off || (enabled && stale_tolerance && extra->evaluation)) {
            resetExtraDistances(*extra);
            if (!extra->pending) {
                launchExtraDistances(*extra);
            }
        }
    }
    emit distancesChanged();
}

DistanceState ComparisonPresenter::distanceState(int index) const
{
    if (index == 0) {
        return session_->distanceState();
    }
    if (index < 1 || index >= count()) {
        return DistanceState::Off;
    }
    return extras_[static_cast<std::size_t>(index - 1)]->distances.state();
}

const Evaluation* ComparisonPresenter::distanceEvaluation(int index) const
{
    if (distanceState(index) != DistanceState::Ready) {
        return nullptr;
    }
    if (index == 0) {
        return session_->distanceEvaluation();
    }
    return extras_[static_cast<std::size_t>(index - 1)]->distances.values().evaluation.get();
}

QString ComparisonPresenter::distanceError(int index) const
{
    if (index == 0) {
        return session_->distanceError();
    }
    if (index < 1 || index >= count()) {
        return {};
    }
    return extras_[static_cast<std::size_t>(index - 1)]->distances.values().error;
}

bool ComparisonPresenter::pending(int index, Metric metric) const
{
    if (is_distance_metric(metric)) {
        return distanceState(index) == DistanceState::Pending;
    }
    return pending(index) && !evaluation(index);
}

void ComparisonPresenter::waitForDistances()
{
    waitForIdle(); // every evaluation has delivered, so every distance job is launched
    session_->waitForDistances();
    // Bounded: a job's finished signal is delivered by processEvents().
    for (int round = 0; round < 100000; ++round) {
        QCoreApplication::processEvents();
        Extra* waiting = nullptr;
        for (const auto& extra : extras_) {
            if (extra->distances.state() == DistanceState::Pending && extra->distances.running()) {
                waiting = extra.get();
                break;
            }
        }
        if (!waiting) {
            return;
        }
        waiting->distances.wait();
    }
}

const Evaluation* ComparisonPresenter::sourceFor(int index, Metric metric) const
{
    return is_distance_metric(metric) ? distanceEvaluation(index) : evaluation(index);
}

// ---------------------------------------------------------------------------
// Numbers

std::vector<Metric> ComparisonPresenter::metrics() const
{
    std::vector<Metric> result;
    const Evaluation* first = evaluation(0);
    if (!first) {
        return result;
    }
    for (const Metric metric : session_->shownMetrics()) {
        if (is_distance_metric(metric)) {
            result.push_back(metric); // every entry gets them (pending: "…")
            continue;
        }
        bool everywhere = true;
        for (int i = 1; i < count(); ++i) {
            const Evaluation* other = evaluation(i);
            if (other && !index_of(*other, metric)) {
                everywhere = false;
            }
        }
        if (everywhere) {
            result.push_back(metric);
        }
    }
    return result;
}

// The current sample of `index`'s evaluation holding `metric`, or nullptr.
const SampleResult* ComparisonPresenter::currentSample(int index, Metric metric) const
{
    const Evaluation* source = sourceFor(index, metric);
    const std::int64_t sample = session_->sample();
    if (!source || sample < 0 || sample >= static_cast<std::int64_t>(source->samples.size())) {
        return nullptr;
    }
    return &source->samples[static_cast<std::size_t>(sample)];
}

double ComparisonPresenter::sliceValue(int index, Metric metric) const
{
    const SampleResult* sample = currentSample(index, metric);
    if (!sample) {
        return kNan;
    }
    const auto at = index_of(*sourceFor(index, metric), metric);
    const MetricValues* values = shown_values(*sample, session_->followedLabel(), session_->currentSlice());
    return at && values && *at < values->size() ? (*values)[*at] : kNan;
}

double ComparisonPresenter::sampleValue(int index, Metric metric) const
{
    const SampleResult* sample = currentSample(index, metric);
    if (!sample) {
        return kNan;
    }
    const auto at = index_of(*sourceFor(index, metric), metric);
    const MetricValues* values = shown_values(*sample, session_->followedLabel(), std::nullopt);
    return at && values && *at < values->size() ? (*values)[*at] : kNan;
}

std::vector<double> ComparisonPresenter::chartSeries(int index, Metric metric) const
{
    std::vector<double> series;
    if (index == 0) {
        return session_->chartSeries(metric); // the distance metrics included
    }
    const Evaluation* source = sourceFor(index, metric);
    const std::int64_t sample = session_->sample();
    if (!source || sample < 0 || sample >= static_cast<std::int64_t>(source->samples.size())) {
        return series;
    }
    const auto at = index_of(*source, metric);
    if (!at) {
        return series;
    }
    const SampleResult& result = source->samples[static_cast<std::size_t>(sample)];
    const std::vector<MetricValues>* slices = &result.slices;
    if (session_->chartPerLabel() && session_->currentLabel()) {
        slices = nullptr;
        for (const LabelResult& label : result.labels) {
            if (label.label == *session_->currentLabel()) {
                slices = &label.slices;
            }
        }
        if (!slices) {
            return series;
        }
    }
    for (const MetricValues& values : *slices) {
        series.push_back(*at < values.size() ? values[*at] : kNan);
    }
    return series;
}

std::vector<int> ComparisonPresenter::bestEntries(Metric metric, bool slice) const
{
    std::vector<int> best;
    const bool low = higher_is_worse(metric);
    double best_value = kNan;
    for (int i = 0; i < count(); ++i) {
        const double value = slice ? sliceValue(i, metric) : sampleValue(i, metric);
        if (std::isnan(value)) {
            continue;
        }
        if (std::isnan(best_value) || (low ? value < best_value : value > best_value)) {
            best_value = value;
            best.assign(1, i);
        } else if (value == best_value) {
            best.push_back(i);
        }
    }
    return best;
}

// ---------------------------------------------------------------------------
// A / B

void ComparisonPresenter::clampPair()
{
    const int n = count();
    const int before_a = pair_a_;
    const int before_b = pair_b_;
    if (n >= 2) {
        pair_a_ = std::clamp(pair_a_, 0, n - 1);
        pair_b_ = std::clamp(pair_b_, 0, n - 1);
        if (pair_a_ == pair_b_) {
            pair_b_ = pair_a_ == 0 ? 1 : 0;
        }
    } else {
        pair_a_ = 0;
        pair_b_ = 1;
    }
    if (before_a != pair_a_ || before_b != pair_b_) {
        differ_rank_ = 0;
        emit pairChanged();
    }
}

void ComparisonPresenter::setPair(int a, int b)
{
    if (a == pair_a_ && b == pair_b_) {
        return;
    }
    if (a == b) {
        // Choosing one side equal to the other swaps them.
        if (b != pair_b_) {
            a = pair_b_;
        } else {
            b = pair_a_;
        }
    }
    pair_a_ = a;
    pair_b_ = b;
    differ_rank_ = 0;
    clampPair();
    emit pairChanged();
}

std::vector<std::int64_t> ComparisonPresenter::differingSlices() const
{
    std::vector<std::int64_t> order;
    if (count() < 2 || pair_a_ == pair_b_) {
        return order;
    }
    const Metric metric = session_->chartMetric();
    const std::vector<double> a = chartSeries(pair_a_, metric);
    const std::vector<double> b = chartSeries(pair_b_, metric);
    const std::size_t n = std::min(a.size(), b.size());
    std::vector<double> difference(n);
    for (std::size_t i = 0; i < n; ++i) {
        difference[i] = std::abs(a[i] - b[i]);
        if (!std::isnan(difference[i])) {
            order.push_back(static_cast<std::int64_t>(i));
        }
    }
    std::stable_sort(order.begin(), order.end(), [&](std::int64_t x, std::int64_t y) {
        return difference[static_cast<std::size_t>(x)] > difference[static_cast<std::size_t>(y)];
    });
    return order;
}

std::optional<std::int64_t> ComparisonPresenter::differMostSlice(int rank) const
{
    const std::vector<std::int64_t> order = differingSlices();
    if (rank < 0 || rank >= static_cast<int>(order.size())) {
        return std::nullopt;
    }
    return order[static_cast<std::size_t>(rank)];
}

std::optional<std::int64_t> ComparisonPresenter::goToDifferMost(bool next)
{
    const std::vector<std::int64_t> order = differingSlices();
    if (order.empty()) {
        return std::nullopt;
    }
    int rank = next ? differ_rank_ + 1 : 0;
    if (rank >= static_cast<int>(order.size())) {
        rank = 0; // wrap around
    }
    differ_rank_ = rank;
    const std::int64_t slice = order[static_cast<std::size_t>(rank)];
    session_->setCurrentSlice(slice);
    return slice;
}

void ComparisonPresenter::setDifferenceMode(bool on)
{
    if (on == difference_mode_) {
        return;
    }
    difference_mode_ = on;
    emit differenceChanged();
}

bool ComparisonPresenter::differenceActive() const
{
    return difference_mode_ && count() >= 2 && pair_a_ != pair_b_ && evaluation(pair_a_) &&
           evaluation(pair_b_) && prediction(pair_a_) && prediction(pair_b_);
}

std::optional<ComparisonPresenter::CountsKey> ComparisonPresenter::currentCountsKey() const
{
    if (count() < 2 || pair_a_ == pair_b_ || !evaluation(pair_a_) || !evaluation(pair_b_) ||
        !predictionShared(pair_a_) || !predictionShared(pair_b_) || !session_->dataset().target) {
        return std::nullopt;
    }
    return CountsKey{predictionShared(pair_a_), predictionShared(pair_b_), session_->dataset().target,
                     pairView(pair_a_), pairView(pair_b_)};
}

std::optional<DifferenceCounts> ComparisonPresenter::readyDifferenceCounts() const
{
    const auto key = currentCountsKey();
    if (!key || !counts_key_ || !(*counts_key_ == *key)) {
        return std::nullopt;
    }
    return counts_;
}

DifferenceCounts ComparisonPresenter::differenceCounts() const
{
    const auto key = currentCountsKey();
    if (!key) {
        return {};
    }
    if (counts_key_ && *counts_key_ == *key) {
        return counts_;
    }
    if (counts_running_ && *counts_running_ == *key && counts_job_.running()) {
        return counts_job_.peekResult();
    }
    return count_differences(*key->a, *key->b, *key->target, key->view_a, key->view_b);
}

void ComparisonPresenter::requestDifferenceCounts()
{
    const auto key = differenceActive() ? currentCountsKey() : std::nullopt;
    if (!key) {
        // Nothing to count (mode off, an entry pending): a running count is dropped.
        counts_job_.stop(false);
        counts_running_.reset();
        return;
    }
    if ((counts_key_ && *counts_key_ == *key) || (counts_running_ && *counts_running_ == *key)) {
        return; // ready, or being counted
    }
    // A count for older settings is cancelled and dropped by start().
    counts_running_ = std::make_unique<CountsKey>(*key);
    CountsKey job = *key;
    auto run = [job](const std::atomic<bool>& cancel) {
        return count_differences(*job.a, *job.b, *job.target, job.view_a, job.view_b, &cancel);
    };
    counts_job_.start(
        std::move(run),
        [this](DifferenceCounts counts) {
            counts_key_ = std::move(counts_running_);
            counts_ = std::move(counts);
            emit differenceCountsChanged();
        },
        session_->synchronous());
}

// ---------------------------------------------------------------------------
// Layout

void ComparisonPresenter::setComparisonLayout(bool on)
{
    if (on == layout_) {
        return;
    }
    layout_ = on;
    emit layoutChanged();
}

void ComparisonPresenter::setComparisonAxis(ViewAxis axis)
{
    if (axis == axis_) {
        return;
    }
    axis_ = axis;
    camera_ = {};
    emit layoutChanged();
    emit cameraChanged();
}

void ComparisonPresenter::setCamera(const SliceCamera& camera)
{
    if (camera == camera_) {
        return;
    }
    camera_ = camera;
    emit cameraChanged();
}

bool ComparisonPresenter::shownIn3d(int index) const
{
    if (index == 0) {
        return primary_shown_3d_;
    }
    if (index < 1 || index >= count()) {
        return false;
    }
    return extras_[static_cast<std::size_t>(index - 1)]->shown_3d;
}

void ComparisonPresenter::setShownIn3d(int index, bool shown)
{
    if (index < 0 || index >= std::max(count(), 1) || shownIn3d(index) == shown) {
        return;
    }
    if (index == 0) {
        primary_shown_3d_ = shown;
    } else {
        extras_[static_cast<std::size_t>(index - 1)]->shown_3d = shown;
    }
    emit shown3dChanged();
}

std::vector<int> ComparisonPresenter::shownIn3dEntries() const
{
    std::vector<int> shown;
    for (int i = 0; i < count(); ++i) {
        if (shownIn3d(i)) {
            shown.push_back(i);
        }
    }
    return shown;
}

} // namespace masklens::ui
