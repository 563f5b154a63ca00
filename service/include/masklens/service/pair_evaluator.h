// One prediction against its target, evaluated any number of times with
// different options (threshold, decision rule, metrics, axis): the object
// every front end evaluates through (masklens-cli, folder runs, each of the
// app's predictions).
//
// On the GPU the pair is uploaded once and stays resident across
// re-evaluations (gpu::DeviceSession); a pair that does not fit is streamed
// in chunks instead. A device failure falls back to the CPU when the
// ComputeDevice allows it (compute_device.h), and the pair stays on the CPU
// from then on. evaluate() may be called from several threads at once: CPU
// evaluations run side by side, device evaluations one at a time.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/volume.h"
#include "masklens/service/compute_device.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace masklens::service {

// A device-resident copy of a pair: statistics without uploading again.
class ResidentPair {
public:
    virtual ~ResidentPair() = default;
    virtual BatchStatistics compute(const StatisticsOptions& options) = 0;
};

// Makes the resident copy (uploads the pair); Error(Device) when it cannot
// (no device, too large). The default wraps gpu::DeviceSession; tests
// inject their own to check the host logic without a GPU.
using ResidentFactory =
    std::function<std::unique_ptr<ResidentPair>(const Volume& prediction, const Volume& target)>;

// One evaluation that may fall back: `fallback` says why it ran on the CPU
// (empty when it ran where asked).
Evaluation evaluate_once(const ComputeDevice& device, const Volume& prediction, const Volume& target,
                         const StatisticsOptions& options, std::string* fallback = nullptr);

class PairEvaluator {
public:
    // Keeps both volumes alive. Nothing is uploaded before the first evaluate.
    PairEvaluator(std::shared_ptr<const Volume> prediction, std::shared_ptr<const Volume> target,
                  ComputeDevice device, ResidentFactory resident = {});

    // Statistics and surface distances for `options`. Throws the engine's
    // errors (Input, Usage, Cancelled); Error(Device) only when the device
    // does not fall back.
    Evaluation evaluate(const StatisticsOptions& options);

    // The app's rule: when a floating-point prediction is refused by a
    // metric that needs probabilities (values outside [0, 1]), those metrics
    // are dropped and the others still computed; `refusal` is the engine's
    // message, word for word (the CLI's). Any other error, or a second
    // refusal, is rethrown as the first one.
    struct DisplayOutcome {
        std::shared_ptr<const Evaluation> evaluation;
        std::string refusal;
    };
    DisplayOutcome evaluate_for_display(StatisticsOptions options);

    const Volume& prediction() const noexcept { return *prediction_; }
    const Volume& target() const noexcept { return *target_; }
    std::shared_ptr<const Volume> shared_prediction() const noexcept { return prediction_; }
    std::shared_ptr<const Volume> shared_target() const noexcept { return target_; }
    const ComputeDevice& device() const noexcept { return device_; }

    // Where the last evaluation ran ("cpu" or "cuda"), why it fell back
    // (empty: it did not), and how many times the pair was uploaded.
    std::string last_device() const;
    std::string fallback_note() const;
    int uploads() const;

private:
    Evaluation evaluate_on_device(const StatisticsOptions& options);

    std::shared_ptr<const Volume> prediction_;
    std::shared_ptr<const Volume> target_;
    ComputeDevice device_;
    ResidentFactory make_resident_;

    mutable std::mutex mutex_; // guards everything below and the device itself
    std::unique_ptr<ResidentPair> resident_;
    bool resident_refused_ = false; // the pair does not fit: stream it instead
    bool on_cpu_ = false;           // the device failed: the CPU from now on
    std::string last_device_;
    std::string fallback_;
    int uploads_ = 0;
};

// `previous` when it evaluates exactly these two volumes (the resident copy
// is kept), else a new evaluator on `device`.
std::shared_ptr<PairEvaluator> evaluator_for(std::shared_ptr<PairEvaluator> previous,
                                             std::shared_ptr<const Volume> prediction,
                                             std::shared_ptr<const Volume> target,
                                             const ComputeDevice& device);

} // namespace masklens::service
