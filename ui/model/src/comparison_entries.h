// ComparisonPresenter's private parts shared by its source files
// (comparison_presenter.cpp: entries and their evaluation;
// comparison_values.cpp: distances, numbers, A / B and layout).
#pragma once

#include "masklens/ui/comparison_presenter.h"

#include <algorithm>
#include <limits>
#include <optional>

namespace masklens::ui {

namespace comparison_detail {

inline constexpr double kNan = std::numeric_limits<double>::quiet_NaN();

inline std::optional<std::size_t> index_of(const Evaluation& evaluation, Metric metric)
{
    const auto found = std::find(evaluation.metrics.begin(), evaluation.metrics.end(), metric);
    if (found == evaluation.metrics.end()) {
        return std::nullopt;
    }
    return static_cast<std::size_t>(found - evaluation.metrics.begin());
}

inline bool same_grid(const Shape& a, const Shape& b)
{
    return a.n == b.n && a.d == b.d && a.h == b.h && a.w == b.w && a.spatial_dims == b.spatial_dims;
}

} // namespace comparison_detail

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

// What one entry shows (ComparisonPresenter::entry).
struct ComparisonPresenter::Entry {
    QString name;
    QString path;
    std::shared_ptr<const Volume> prediction; // null until its evaluation is there
    const Evaluation* evaluation = nullptr;
    bool pending = false;
    DistanceState distance_state = DistanceState::Off;
    const Evaluation* distance = nullptr; // kept even when not Ready (see distanceEvaluation)
    QString distance_error;
};

} // namespace masklens::ui
