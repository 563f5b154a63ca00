// One pair's background surface-distance pass (distance_pass.h).
#include "masklens/ui/distance_pass.h"

#include "masklens/engine/error.h"
#include "masklens/ui/session_presenter.h"

namespace masklens::ui {

std::vector<Metric> gui_distance_metrics()
{
    return {Metric::Hd95, Metric::Assd, Metric::Nsd, Metric::Hd};
}

DistancePass::DistancePass(QObject* owner) : job_(owner, background_pool()) {}

void DistancePass::reset(bool wanted)
{
    job_.stop(false); // a running job's result is now stale
    const double tolerance = values_.tolerance;
    values_ = {};
    values_.tolerance = tolerance;
    values_.state = wanted ? DistanceState::Pending : DistanceState::Off;
}

void DistancePass::restore(DistanceValues values)
{
    job_.stop(false);
    values_ = std::move(values);
}

void DistancePass::launch(std::shared_ptr<service::PairEvaluator> evaluator, StatisticsOptions options,
                          double tolerance_mm, std::function<void()> changed, bool synchronous)
{
    if (values_.state != DistanceState::Pending || job_.running() || !evaluator) {
        return;
    }
    values_.tolerance = tolerance_mm;
    options.metrics = gui_distance_metrics();
    options.metric.nsd_tolerance_mm = tolerance_mm;
    job_.start(
        evaluation_job(std::move(evaluator), std::move(options)),
        [this, changed = std::move(changed)](EvaluationOutcome outcome) {
            if (outcome.evaluation) {
                values_.evaluation = std::move(outcome.evaluation);
                values_.state = DistanceState::Ready;
            } else {
                values_.state = DistanceState::Failed;
                values_.error = std::move(outcome.error);
            }
            changed();
        },
        synchronous);
}

} // namespace masklens::ui
