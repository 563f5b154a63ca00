// `masklens-cli evaluate-folder` and `masklens-cli merge`.
#pragma once

#include "command_line.h"

#include "masklens/engine/folder.h"
#include "masklens/service/compute_device.h"

#include <string>
#include <vector>

namespace masklens::cli {

// Evaluates every pair of the two folders (or one shard of them) and writes
// the report. Returns the exit status: 0 all cases evaluated, 1 some failed
// (or no pairs, or unpaired files with --require-all).
int run_folder(const FolderCommand& command);

// The pieces of run_folder, for front ends that spread the cases over their
// own workers (the Python package's executors, Dask): plan, evaluate each
// selected pair (anywhere), put the cases into report.cases in the plan's
// order and render. run_folder itself is exactly these steps.
struct FolderPlan {
    FolderReport report;            // everything but the cases
    std::vector<CasePair> selected; // the pairs to evaluate (this shard's), by case id
    bool any_pairs = false;         // the folders had pairs (before sharding)
};
// Lists and pairs the folders. Throws Error(Input) for a folder that cannot
// be listed, Error(Usage) for a bad pattern.
FolderPlan plan_folder(const FolderCommand& command);
// One pair, read from the command's folders; a failure becomes a failed case
// (never an exception). `threads`: the engine's threads for this case.
FolderCase evaluate_folder_case(const FolderCommand& command, const CasePair& pair, int threads,
                                const service::ComputeDevice& device);
// The report as the CLI writes it (JSON unless `format` is Csv).
std::string render_folder_report(const FolderReport& report, OutputFormat format);

// Combines shard outputs into a single run's report. Returns the exit status.
int run_merge(const MergeCommand& command);

} // namespace masklens::cli
