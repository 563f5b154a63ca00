// One background evaluation of a pair for LatestJob (the distance pass, the
// lesion pass): runs the pair's evaluator with the job's cancel flag and turns
// failures into the message the app shows ("Cancelled." for a cancel).
#pragma once

#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/service/pair_evaluator.h"

#include <QString>

#include <atomic>
#include <exception>
#include <memory>

namespace masklens::ui {

struct EvaluationOutcome {
    std::shared_ptr<const Evaluation> evaluation; // null on failure
    QString error;
};

// The job's work: a callable (const std::atomic<bool>& cancel) -> EvaluationOutcome.
inline auto evaluation_job(std::shared_ptr<service::PairEvaluator> evaluator, StatisticsOptions options)
{
    return [evaluator = std::move(evaluator),
            options = std::move(options)](const std::atomic<bool>& cancel) -> EvaluationOutcome {
        StatisticsOptions cancellable = options;
        cancellable.cancel = &cancel;
        try {
            return {std::make_shared<const Evaluation>(evaluator->evaluate(cancellable)), {}};
        } catch (const Error& error) {
            return {nullptr, error.kind() == Error::Kind::Cancelled ? QStringLiteral("Cancelled.")
                                                                    : QString::fromStdString(error.what())};
        } catch (const std::exception& error) {
            return {nullptr, QString::fromStdString(error.what())};
        }
    };
}

} // namespace masklens::ui
