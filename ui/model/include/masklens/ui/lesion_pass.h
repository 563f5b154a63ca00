// The app's lesion pass: the per-lesion table of the session's pair, computed
// in the background on request (labelling and per-lesion HD95 cost more than
// the statistics pass, so the app does not run it after every change).
// Evaluates gui_lesion_metrics() with the session's settings through the
// pair's evaluator; the rows come back in Evaluation::lesions.
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

// The lesion metrics the pass asks for (their scores give each row its Dice
// and HD95); the matching rule is the engine's default (IoU >= 0.5).
std::vector<Metric> gui_lesion_metrics();

enum class LesionState {
    Off,     // not asked for since the data or settings changed
    Running, // the background job has not delivered yet
    Ready,
    Failed, // error()
};

class LesionPass {
public:
    // `owner` receives the deliveries (its thread); it must outlive the pass.
    explicit LesionPass(QObject* owner);

    // Starts the pass for `options` (the session's settings; the metrics are
    // set here), cancelling one running. `changed` runs on the owner's thread
    // when it delivers.
    void launch(std::shared_ptr<service::PairEvaluator> evaluator, StatisticsOptions options,
                std::function<void()> changed, bool synchronous);
    // The values are stale (data or settings changed): a running job is
    // dropped, the state becomes Off.
    void reset();
    void wait() { job_.wait(); }

    LesionState state() const noexcept { return state_; }
    const QString& error() const noexcept { return error_; }
    // When Ready: the evaluation holding the rows, else nullptr.
    const Evaluation* evaluation() const noexcept
    {
        return state_ == LesionState::Ready ? evaluation_.get() : nullptr;
    }

private:
    LesionState state_ = LesionState::Off;
    std::shared_ptr<const Evaluation> evaluation_;
    QString error_;
    LatestJob<EvaluationOutcome> job_;
};

} // namespace masklens::ui
