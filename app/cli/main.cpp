// masklens-cli: evaluates a prediction against a target (or two folders of
// them, or merges shard outputs) from the command line.
// Errors are one line on stderr starting "error:"; exit status 0 on success,
// 1 on bad input, 2 on usage errors. Nothing escapes as a crash.
#include "command_line.h"
#include "evaluate_command.h"
#include "folder_command.h"

#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/lesion_table.h"
#include "masklens/engine/report.h"
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"

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
        std::cout << "masklens-cli " << build_info().version << "\n";
        return 0;
    }
    // Uncompressed inputs are read from the page cache without a copy;
    // evaluate_command and the folder runs check the files afterwards
    // (file_mapping.h).
    io::set_file_mapping(io::FileMapping::All);
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
    const cli::CommandEvaluation result = cli::evaluate_command(command, device, prediction, target);
    if (!result.fallback.empty()) {
        std::cerr << "note: " << result.fallback << '\n';
    }
    const std::string report = cli::render_report(result.evaluation, result.context, command.format);
    if (command.output_path.empty()) {
        std::cout << report << std::flush;
    } else {
        write_file_atomically(command.output_path, report);
    }
    if (!command.lesion_table_path.empty()) {
        std::ostringstream table;
        write_lesion_csv_header(table, false);
        write_lesion_rows_csv(table, result.evaluation.lesions, {}, false);
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
