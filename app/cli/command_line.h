// Parsing `masklens-cli evaluate PRED TARGET [options]` into engine options.
#pragma once

#include "masklens/engine/statistics.h"
#include "masklens/gpu/backend.h"
#include "masklens/io/read_volume.h"

#include <optional>
#include <string>
#include <vector>

namespace masklens::cli {

enum class OutputFormat { Table, Json, Csv };

struct EvaluateCommand {
    std::string prediction_path;
    std::string target_path;
    io::ReadOptions prediction_read;
    io::ReadOptions target_read;
    StatisticsOptions statistics;
    bool ignore_geometry = false;
    gpu::DeviceChoice device = gpu::DeviceChoice::Auto;
    OutputFormat format = OutputFormat::Table;
    std::string output_path; // empty: standard output
    std::string options_json; // the effective options, for the JSON report
};

struct ParsedCommand {
    bool help = false;
    bool version = false;
    std::optional<EvaluateCommand> evaluate;
};

// Throws Error(Usage) with a message naming the bad argument.
ParsedCommand parse_command_line(const std::vector<std::string>& arguments);

const char* usage_text();

} // namespace masklens::cli
