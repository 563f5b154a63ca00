#include "evaluate_command.h"

#include "masklens/io/file_mapping.h"
#include "masklens/service/pair_evaluator.h"

#include <sstream>

namespace masklens::cli {

CommandEvaluation evaluate_command(const EvaluateCommand& command, const service::ComputeDevice& device,
                                   const Volume& prediction, const Volume& target)
{
    if (!command.ignore_geometry) {
        check_same_geometry(prediction, target);
    }
    CommandEvaluation result;
    result.evaluation =
        service::evaluate_once(device, prediction, target, command.statistics, &result.fallback);
    // A mapped file that shrank or changed while it was read gave zeros or
    // other bytes: refuse the numbers.
    io::check_unchanged(prediction);
    io::check_unchanged(target);
    if (!command.slices) {
        for (SampleResult& sample : result.evaluation.samples) {
            sample.slices.clear();
            for (LabelResult& label : sample.labels) {
                label.slices.clear();
            }
        }
    }
    result.context.prediction_path = command.prediction_path;
    result.context.target_path = command.target_path;
    result.context.device = result.fallback.empty() ? device.name : "cpu";
    result.context.options_json = command.options_json;
    return result;
}

std::string render_report(const Evaluation& evaluation, const ReportContext& context, OutputFormat format)
{
    std::ostringstream report;
    switch (format) {
    case OutputFormat::Table: write_table(report, evaluation, context); break;
    case OutputFormat::Json: write_json(report, evaluation, context); break;
    case OutputFormat::Csv: write_csv(report, evaluation); break;
    }
    return report.str();
}

} // namespace masklens::cli
