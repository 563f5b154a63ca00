// The app's background lesion pass (lesion_pass.h).
#include "masklens/ui/lesion_pass.h"

#include "masklens/engine/error.h"
#include "masklens/ui/session_presenter.h"

#include <exception>

namespace masklens::ui {

std::vector<Metric> gui_lesion_metrics()
{
    return {Metric::LesionTp, Metric::LesionFp, Metric::LesionFn, Metric::LesionDice, Metric::LesionHd95};
}

LesionPass::LesionPass(QObject* owner)
    : job_(owner, background_pool()), overlay_job_(owner, background_pool())
{}

void LesionPass::reset()
{
    job_.stop(false); // a running job's result is now stale
    overlay_job_.stop(false);
    state_ = LesionState::Off;
    evaluation_.reset();
    error_.clear();
}

void LesionPass::launch(std::shared_ptr<service::PairEvaluator> evaluator, StatisticsOptions options,
                        std::function<void()> changed, bool synchronous)
{
    if (!evaluator) {
        return;
    }
    job_.stop(false);
    overlay_job_.stop(false);
    state_ = LesionState::Running;
    options.metrics = gui_lesion_metrics();
    options.slice_distances = false; // lesion values are per sample
    job_.start(
        evaluation_job(std::move(evaluator), std::move(options)),
        [this, changed = std::move(changed)](EvaluationOutcome outcome) {
            if (outcome.evaluation) {
                evaluation_ = std::move(outcome.evaluation);
                state_ = LesionState::Ready;
            } else {
                state_ = LesionState::Failed;
                error_ = std::move(outcome.error);
            }
            changed();
        },
        synchronous);
}

void LesionPass::makeOverlay(std::shared_ptr<const Volume> prediction, std::shared_ptr<const Volume> target,
                             std::int64_t sample, std::optional<std::int64_t> label,
                             OverlayDelivery delivered, bool synchronous)
{
    if (state_ != LesionState::Ready || !prediction || !target) {
        overlay_job_.stop(false);
        return;
    }
    std::shared_ptr<const Evaluation> evaluation = evaluation_; // the job keeps the rows alive
    overlay_job_.start(
        [evaluation, prediction, target, sample, label](const std::atomic<bool>&) {
            OverlayOutcome outcome;
            try {
                outcome.overlay = make_lesion_overlay(*evaluation, *prediction, *target, sample, label);
            } catch (const std::exception& error) {
                outcome.error = QString::fromStdString(error.what());
            }
            return outcome;
        },
        [delivered = std::move(delivered)](OverlayOutcome outcome) {
            delivered(std::move(outcome.overlay), std::move(outcome.error));
        },
        synchronous);
}

} // namespace masklens::ui
