// The evaluation policy over one pair (pair_evaluator.h): resident device
// copy, streaming when it does not fit, CPU fallback, the display rule.
#include "masklens/service/pair_evaluator.h"

#include "masklens/engine/error.h"
#include "masklens/gpu/cuda_statistics.h"
#include "masklens/gpu/cuda_surface_distance.h"

#include <cstdio>

namespace masklens::service {

namespace {

class DeviceResident final : public ResidentPair {
public:
    DeviceResident(const Volume& prediction, const Volume& target) : session_(prediction, target) {}
    BatchStatistics compute(const StatisticsOptions& options) override { return session_.compute(options); }

private:
    gpu::DeviceSession session_;
};

std::unique_ptr<ResidentPair> make_device_resident(const Volume& prediction, const Volume& target)
{
    return std::make_unique<DeviceResident>(prediction, target);
}

bool is_device_error(const Error& error)
{
    return error.kind() == Error::Kind::Device;
}

// The note of a fallback (stderr, the app's status bar).
std::string fallback_note_for(const Error& error)
{
    return std::string("the GPU failed (") + error.what() + "); evaluating on the CPU";
}

} // namespace

Evaluation evaluate_once(const ComputeDevice& device, const Volume& prediction, const Volume& target,
                         const StatisticsOptions& options, std::string* fallback)
{
    if (device.name == "cuda") {
        try {
            return gpu::evaluate_on("cuda", prediction, target, options);
        } catch (const Error& error) {
            if (!is_device_error(error) || !device.fallback_to_cpu) {
                throw;
            }
            if (fallback) {
                *fallback = fallback_note_for(error);
            }
        }
    }
    return evaluate(prediction, target, options);
}

PairEvaluator::PairEvaluator(std::shared_ptr<const Volume> prediction, std::shared_ptr<const Volume> target,
                             ComputeDevice device, ResidentFactory resident)
    : prediction_(std::move(prediction)), target_(std::move(target)), device_(std::move(device)),
      make_resident_(resident ? std::move(resident) : ResidentFactory(make_device_resident))
{}

Evaluation PairEvaluator::evaluate_on_device(const StatisticsOptions& options)
{
    // Called with mutex_ held: one device evaluation at a time.
    if (!resident_ && !resident_refused_) {
        try {
            resident_ = make_resident_(*prediction_, *target_);
            ++uploads_;
        } catch (const Error& error) {
            if (!is_device_error(error)) {
                throw;
            }
            // Too large to keep (or no device): stream chunks per evaluation;
            // a device that is absent fails again there and falls back.
            resident_refused_ = true;
        }
    }
    if (!resident_) {
        return gpu::evaluate_on("cuda", *prediction_, *target_, options);
    }
    BatchStatistics statistics = resident_->compute(options);
    return complete_evaluation(std::move(statistics), *prediction_, *target_,
                               gpu::with_device_surface_distances(options));
}

Evaluation PairEvaluator::evaluate(const StatisticsOptions& options)
{
    {
        std::unique_lock lock(mutex_);
        if (device_.name == "cuda" && !on_cpu_) {
            try {
                Evaluation evaluation = evaluate_on_device(options);
                last_device_ = "cuda";
                return evaluation;
            } catch (const Error& error) {
                if (!is_device_error(error) || !device_.fallback_to_cpu) {
                    throw;
                }
                on_cpu_ = true;
                resident_.reset();
                fallback_ = fallback_note_for(error);
                std::fprintf(stderr, "masklens: %s\n", fallback_.c_str());
            }
        }
        last_device_ = "cpu";
    }
    // The CPU pass is thread-safe: evaluations of one pair run side by side.
    return masklens::evaluate(*prediction_, *target_, options);
}

PairEvaluator::DisplayOutcome PairEvaluator::evaluate_for_display(StatisticsOptions options)
{
    DisplayOutcome outcome;
    try {
        outcome.evaluation = std::make_shared<const Evaluation>(evaluate(options));
        return outcome;
    } catch (const Error& error) {
        if (error.kind() != Error::Kind::Input || !is_floating(prediction_->type())) {
            throw;
        }
        outcome.refusal = error.what();
        std::vector<Metric> kept;
        for (const Metric metric : options.metrics) {
            if (!needs_probabilities(metric)) {
                kept.push_back(metric);
            }
        }
        options.metrics = kept;
        try {
            outcome.evaluation = std::make_shared<const Evaluation>(evaluate(options));
        } catch (const Error&) {
            throw error;
        }
    }
    return outcome;
}

std::string PairEvaluator::last_device() const
{
    std::lock_guard lock(mutex_);
    return last_device_;
}

std::string PairEvaluator::fallback_note() const
{
    std::lock_guard lock(mutex_);
    return fallback_;
}

int PairEvaluator::uploads() const
{
    std::lock_guard lock(mutex_);
    return uploads_;
}

std::shared_ptr<PairEvaluator> evaluator_for(std::shared_ptr<PairEvaluator> previous,
                                             std::shared_ptr<const Volume> prediction,
                                             std::shared_ptr<const Volume> target,
                                             const ComputeDevice& device)
{
    if (previous && previous->shared_prediction() == prediction && previous->shared_target() == target) {
        return previous;
    }
    return std::make_shared<PairEvaluator>(std::move(prediction), std::move(target), device);
}

} // namespace masklens::service
