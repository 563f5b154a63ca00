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
#include "masklens/ui/lesion_overlay.h"

#include <QString>

#include <functional>
#include <memory>
#include <optional>
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

    // The Lesions display mode's overlay (lesion_overlay.h) of the ready
    // rows of one sample and label, made off the UI thread (labelling a
    // 256^3 pair costs about what the statistics pass does); `delivered`
    // gets it on the owner's thread, or nullptr and the error. A newer
    // request, launch() or reset() drops a running one. Not Ready: nothing.
    using OverlayDelivery = std::function<void(std::shared_ptr<const LesionOverlay>, QString)>;
    void makeOverlay(std::shared_ptr<const Volume> prediction, std::shared_ptr<const Volume> target,
                     std::int64_t sample, std::optional<std::int64_t> label, OverlayDelivery delivered,
                     bool synchronous);

private:
    LesionState state_ = LesionState::Off;
    std::shared_ptr<const Evaluation> evaluation_;
    QString error_;
    LatestJob<EvaluationOutcome> job_;
    struct OverlayOutcome {
        std::shared_ptr<const LesionOverlay> overlay;
        QString error;
    };
    LatestJob<OverlayOutcome> overlay_job_;
};

} // namespace masklens::ui
