// ComparisonPresenter's values (see comparison_presenter.h): the added
// predictions' surface distances, the numbers each entry shows and which is
// best, the A / B pair with its difference counts, and the comparison layout.
// Entries and their evaluation: comparison_presenter.cpp.
#include "comparison_entries.h"

#include <cmath>

namespace masklens::ui {

using comparison_detail::index_of;
using comparison_detail::kNan;

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
    const auto found = entry(index);
    return found ? found->distance_state : DistanceState::Off;
}

const Evaluation* ComparisonPresenter::distanceEvaluation(int index) const
{
    const auto found = entry(index);
    return found && found->distance_state == DistanceState::Ready ? found->distance : nullptr;
}

QString ComparisonPresenter::distanceError(int index) const
{
    const auto found = entry(index);
    return found ? found->distance_error : QString();
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
