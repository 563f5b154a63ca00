// `masklens-cli evaluate-folder` and `masklens-cli merge`.
#pragma once

#include "command_line.h"

namespace masklens::cli {

// Evaluates every pair of the two folders (or one shard of them) and writes
// the report. Returns the exit status: 0 all cases evaluated, 1 some failed
// (or no pairs, or unpaired files with --require-all).
int run_folder(const FolderCommand& command);

// Combines shard outputs into a single run's report. Returns the exit status.
int run_merge(const MergeCommand& command);

} // namespace masklens::cli
