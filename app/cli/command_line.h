// Parsing `masklens-cli evaluate PRED TARGET [options]`,
// `masklens-cli evaluate-folder PRED_DIR TARGET_DIR [options]` and
// `masklens-cli merge SHARDS... [-o FILE]` into commands.
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
    bool slices = true; // --no-slices: per-sample, per-label and batch values only
    gpu::DeviceChoice device = gpu::DeviceChoice::Auto;
    OutputFormat format = OutputFormat::Table;
    bool format_given = false;
    std::string output_path;       // empty: standard output
    std::string options_json;      // the effective options, for the JSON report
    std::string lesion_table_path; // --lesion-table: the per-lesion CSV (lesion_table.h); empty: none
};

// evaluate-folder: evaluate's options apply to every pair.
struct FolderCommand {
    EvaluateCommand evaluate; // paths are the folders; format is Json or Csv
    std::string prediction_pattern;
    std::string target_pattern;
    bool per_slice = false;
    int jobs = 1;
    bool quiet = false;
    bool require_all = false;
    int shard_index = 0; // 1-based; 0: no sharding
    int shard_count = 0;
};

struct MergeCommand {
    std::vector<std::string> inputs;
    std::string output_path; // empty: standard output
    OutputFormat format = OutputFormat::Json;
    bool quiet = false;
};

struct ParsedCommand {
    bool help = false;
    bool version = false;
    std::optional<EvaluateCommand> evaluate;
    std::optional<FolderCommand> folder;
    std::optional<MergeCommand> merge;
};

// Throws Error(Usage) with a message naming the bad argument.
ParsedCommand parse_command_line(const std::vector<std::string>& arguments);

const std::string& usage_text();

} // namespace masklens::cli
