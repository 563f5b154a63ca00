// ComparisonPresenter: its entries (the session's prediction and the added
// ones), reading and evaluating the added predictions against the session's
// target, their decision rules. Values, A / B and layout: comparison_values.cpp.
#include "comparison_entries.h"

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

using comparison_detail::same_grid;

Rgb comparison_colour(int index)
{
    // Colours of their own, none of them a TP / FP / FN, target, prediction or
    // difference colour (slice_model.h), all readable on the 3D view's dark
    // background (Paul Tol's "bright" and "light" schemes, those hues left out).
    static constexpr Rgb kColours[] = {Rgb{0xEE, 0x66, 0x77}, Rgb{0xAA, 0x88, 0xEE}, Rgb{0xBB, 0xCC, 0x33},
                                       Rgb{0xDD, 0xDD, 0xDD}, Rgb{0xAA, 0x33, 0x77}, Rgb{0x99, 0x77, 0x55},
                                       Rgb{0xFF, 0xAA, 0xBB}};
    constexpr int count = static_cast<int>(sizeof(kColours) / sizeof(kColours[0]));
    return kColours[((index % count) + count) % count];
}

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
    appendExtra(std::move(extra));
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
    appendExtra(std::move(extra));
}

void ComparisonPresenter::appendExtra(std::unique_ptr<Extra> extra)
{
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

std::optional<ComparisonPresenter::Entry> ComparisonPresenter::entry(int index) const
{
    if (index < 0 || index >= count()) {
        return std::nullopt;
    }
    if (index == 0) {
        const Dataset& dataset = session_->dataset();
        return Entry{dataset.prediction_path.isEmpty() ? tr("prediction 1")
                                                       : QFileInfo(dataset.prediction_path).fileName(),
                     dataset.prediction_path,
                     dataset.prediction,
                     session_->evaluation(),
                     session_->busy(),
                     session_->distanceState(),
                     session_->distanceEvaluation(),
                     session_->distanceError()};
    }
    const Extra& extra = *extras_[static_cast<std::size_t>(index - 1)];
    return Entry{extra.name,
                 extra.path,
                 extra.evaluation ? extra.prediction : nullptr,
                 extra.evaluation.get(),
                 extra.pending,
                 extra.distances.state(),
                 extra.distances.values().evaluation.get(),
                 extra.distances.values().error};
}

QString ComparisonPresenter::name(int index) const
{
    const auto found = entry(index);
    return found ? found->name : QString();
}

QString ComparisonPresenter::path(int index) const
{
    const auto found = entry(index);
    return found ? found->path : QString();
}

std::shared_ptr<const Volume> ComparisonPresenter::predictionShared(int index) const
{
    const auto found = entry(index);
    return found ? found->prediction : nullptr;
}

const Volume* ComparisonPresenter::prediction(int index) const
{
    return predictionShared(index).get();
}

const Evaluation* ComparisonPresenter::evaluation(int index) const
{
    const auto found = entry(index);
    return found ? found->evaluation : nullptr;
}

bool ComparisonPresenter::pending(int index) const
{
    const auto found = entry(index);
    return found && found->pending;
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

} // namespace masklens::ui
