// masklens-cli: evaluates a prediction against a target (or two folders of
// them, or merges shard outputs) from the command line.
// Errors are one line on stderr starting "error:"; exit status 0 on success,
// 1 on bad input, 2 on usage errors. Nothing escapes as a crash.
#include "command_line.h"
#include "folder_command.h"

#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/engine/report.h"
#include "masklens/io/read_volume.h"
#include "masklens/service/pair_evaluator.h"

#include <iostream>
#include <new>
#include <sstream>

namespace {

int run(const std::vector<std::string>& arguments)
{
    using namespace masklens;
    const cli::ParsedCommand parsed = cli::parse_command_line(arguments);
    if (parsed.help) {
        std::cout << cli::usage_text();
        return 0;
    }
    if (parsed.version) {
        std::cout << "masklens-cli " MASKLENS_VERSION "\n";
        return 0;
    }
    if (parsed.folder) {
        return cli::run_folder(*parsed.folder);
    }
    if (parsed.merge) {
        return cli::run_merge(*parsed.merge);
    }
    const cli::EvaluateCommand& command = *parsed.evaluate;
    const service::ComputeDevice device = service::resolve_compute_device(command.device);
    if (!device.note.empty()) {
        std::cerr << device.note << '\n';
    }
    const auto [prediction, target] = io::read_volume_pair(command.prediction_path, command.prediction_read,
                                                           command.target_path, command.target_read);
    if (!command.ignore_geometry) {
        check_same_geometry(prediction, target);
    }
    std::string fallback;
    Evaluation evaluation = service::evaluate_once(device, prediction, target, command.statistics, &fallback);
    if (!fallback.empty()) {
        std::cerr << "note: " << fallback << '\n';
    }
    if (!command.slices) {
        for (SampleResult& sample : evaluation.samples) {
            sample.slices.clear();
            for (LabelResult& label : sample.labels) {
                label.slices.clear();
            }
        }
    }

    ReportContext context;
    context.prediction_path = command.prediction_path;
    context.target_path = command.target_path;
    context.device = fallback.empty() ? device.name : "cpu";
    context.options_json = command.options_json;
    std::ostringstream report;
    switch (command.format) {
    case cli::OutputFormat::Table: write_table(report, evaluation, context); break;
    case cli::OutputFormat::Json: write_json(report, evaluation, context); break;
    case cli::OutputFormat::Csv: write_csv(report, evaluation); break;
    }
    if (command.output_path.empty()) {
        std::cout << report.str() << std::flush;
    } else {
        write_file_atomically(command.output_path, report.str());
    }
    if (!command.lesion_table_path.empty()) {
        std::ostringstream table;
        write_lesion_csv_header(table, false);
        write_lesion_rows_csv(table, evaluation.lesions, {}, false);
        write_file_atomically(command.lesion_table_path, table.str());
    }
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    std::vector<std::string> arguments(argv + 1, argv + argc);
    try {
        return run(arguments);
    } catch (const masklens::Error& error) {
        std::cerr << "error: " << error.what() << '\n';
        return error.exit_code();
    } catch (const std::bad_alloc&) {
        std::cerr << "error: out of memory\n";
        return 1;
    } catch (const std::exception& error) {
        std::cerr << "error: internal: " << error.what() << '\n';
        return 1;
    }
}
