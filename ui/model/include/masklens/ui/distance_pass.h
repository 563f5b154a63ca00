// The surface-distance pass of one prediction against its target: the app
// computes hd95, assd, nsd and hd in the background after each evaluation
// (they cost more than the statistics pass). One object per pair: the
// session's prediction and every compared prediction own one.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/service/pair_evaluator.h"
#include "masklens/ui/evaluation_job.h"
#include "masklens/ui/latest_job.h"

#include <QString>

#include <functional>
#include <memory>
#include <vector>

namespace masklens::ui {

// The surface-distance metrics the app adds in its second pass.
std::vector<Metric> gui_distance_metrics();

// Where the surface-distance values stand for the numbers shown.
enum class DistanceState {
    Off,     // disabled, or no data
    Pending, // the background job for the current evaluation has not delivered yet
    Ready,
    Failed, // the engine refused (e.g. multi-channel binary data): error()
};

// What a pass shows: kept and restored as a whole (a failed preview).
struct DistanceValues {
    DistanceState state = DistanceState::Off;
    std::shared_ptr<const Evaluation> evaluation; // Ready: the distance metrics' values
    QString error;                                // Failed: why
    double tolerance = 0;                         // the nsd tolerance (mm) they were asked with
};

class DistancePass {
public:
    // `owner` receives the deliveries (its thread); it must outlive the pass.
    explicit DistancePass(QObject* owner);

    // The current values are stale: a running job is cancelled and dropped;
    // the state becomes Pending when `wanted`, else Off.
    void reset(bool wanted);
    // Starts the pass for `options` (the evaluation's settings; the metrics
    // and the nsd tolerance are set here) unless it is not Pending or already
    // running. `changed` runs (on the owner's thread) when the values change.
    void launch(std::shared_ptr<service::PairEvaluator> evaluator, StatisticsOptions options,
                double tolerance_mm, std::function<void()> changed, bool synchronous);
    // Blocks until a running job has delivered.
    void wait() { job_.wait(); }
    // Cancels and drops a running job; `wait`: until it has finished.
    void stop(bool wait) { job_.stop(wait); }

    bool running() const noexcept { return job_.running(); }
    const DistanceValues& values() const noexcept { return values_; }
    void restore(DistanceValues values);
    DistanceState state() const noexcept { return values_.state; }
    // The values when Ready, else nullptr.
    const Evaluation* evaluation() const noexcept
    {
        return values_.state == DistanceState::Ready ? values_.evaluation.get() : nullptr;
    }

private:
    DistanceValues values_;
    LatestJob<EvaluationOutcome> job_;
};

} // namespace masklens::ui
