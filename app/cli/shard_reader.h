// Reading the JSON that `masklens-cli evaluate-folder --format json` (or a
// --shard run) writes, for `masklens-cli merge`. Kept apart from the command
// so that it can be fuzzed on its own (tests/fuzz: fuzz_shard_json).
#pragma once

#include "masklens/engine/folder.h"

#include <string>

namespace masklens::cli {

// Parses the JSON text of `path` into the report it describes (a run without
// --shard is shard 1 of 1). Throws Error(Input) naming `path` for malformed
// JSON, missing or mistyped members, unknown metrics or pairings, and
// numbers that should be whole but are not.
FolderReport read_shard_report(const std::string& text, const std::string& path);

} // namespace masklens::cli
