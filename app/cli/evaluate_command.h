// `masklens-cli evaluate` after reading: the geometry check, the evaluation
// through the service and the report's context. Shared by main.cpp and the
// Python package (which passes its callers' arrays as view Volumes), so that
// both give the same numbers, messages and JSON.
#pragma once

#include "command_line.h"

#include "masklens/engine/evaluate.h"
#include "masklens/engine/report.h"
#include "masklens/service/compute_device.h"

#include <string>

namespace masklens::cli {

struct CommandEvaluation {
    Evaluation evaluation; // slices dropped when the command says --no-slices
    ReportContext context; // the command's paths, the device it ran on, the options echo
    std::string fallback;  // why it ran on the CPU instead (empty: where asked)
};

// Throws Error(Input) when both volumes carry different geometry (unless
// --ignore-geometry), when a mapped input changed while it was evaluated
// (io::check_unchanged), and the engine's and service's errors.
CommandEvaluation evaluate_command(const EvaluateCommand& command, const service::ComputeDevice& device,
                                   const Volume& prediction, const Volume& target);

// The report in the command's format (table, JSON or CSV).
std::string render_report(const Evaluation& evaluation, const ReportContext& context, OutputFormat format);

} // namespace masklens::cli
