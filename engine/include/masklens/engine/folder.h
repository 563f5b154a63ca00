// Folder evaluation: pairing prediction and target files by case id, choosing
// a deterministic shard of the cases, the per-case result model and the
// summary statistics over cases. Standard library only (the CLI reads the
// files, evaluates and writes the reports).
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/report.h"

#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace masklens {

// The file extensions the readers accept, longest first (".nii.gz" before
// ".gz"-less forms), lower case.
const std::vector<std::string>& supported_extensions();

// "case_01.nii.gz" -> "case_01"; std::nullopt when the extension (compared
// case-insensitively) is not a supported one.
std::optional<std::string> strip_supported_extension(const std::string& file_name);

// A file that found no partner, or that cannot take part.
struct UnpairedFile {
    std::string file;    // the file name inside its folder
    std::string case_id; // empty when none could be derived
    std::string reason;
};

struct CasePair {
    std::string case_id;
    std::string prediction; // file names inside their folders
    std::string target;
};

struct FolderPairing {
    std::vector<CasePair> pairs; // sorted by case id (byte order)
    std::vector<UnpairedFile> unpaired_predictions;
    std::vector<UnpairedFile> unpaired_targets;
    // Files of other types (e.g. a MetaImage's .raw data, a dataset.json).
    std::vector<std::string> ignored_predictions;
    std::vector<std::string> ignored_targets;
};

struct PairingRules {
    // ECMAScript regular expressions searched in the file name; capture group
    // 1 is the case id. Empty: the case id is the name without its extension.
    std::string prediction_pattern;
    std::string target_pattern;
};

// Pairs two folders' file names (order does not matter). Files with an
// unsupported extension are ignored; names not matching a pattern and case ids
// claimed by two files of one folder are unpaired with a reason. Throws Error(Usage) for
// a pattern that does not compile or has no capture group.
FolderPairing pair_files(const std::vector<std::string>& prediction_files,
                         const std::vector<std::string>& target_files, const PairingRules& rules);

// The regular files of a folder (names only, hidden files skipped), sorted.
// Throws Error(Input) naming the folder when it cannot be listed.
std::vector<std::string> list_folder(const std::string& folder);

// Shard `index` of `count` (1-based: 1 <= index <= count) of `total` cases
// sorted by case id: the cases whose sorted position p has p % count ==
// index - 1. The shards are disjoint and together cover every case once.
bool in_shard(std::size_t position, int index, int count) noexcept;

// Summary of one metric over cases: NaN values are skipped (the empty
// policy's undefined values), infinite values are kept. std is the sample
// standard deviation (ddof = 1, as pandas); NaN with fewer than two values.
// The median of an even count is the mean of the two middle values.
struct Summary {
    double mean = 0, std = 0, median = 0, min = 0, max = 0;
    std::int64_t valid = 0;
};
Summary summarize(const std::vector<double>& values);

struct FolderLabelValues {
    std::int64_t label = 0;
    MetricValues values;
};

// One sample's detail (only with --per-slice).
struct FolderSampleDetail {
    std::int64_t index = 0;
    MetricValues values;
    std::vector<MetricValues> slices;
    struct Label {
        std::int64_t label = 0;
        MetricValues values;
        std::vector<MetricValues> slices;
    };
    std::vector<Label> labels;
};

// One evaluated (or failed) pair.
struct FolderCase {
    std::string case_id;
    std::string prediction; // paths as the user gave the folders
    std::string target;
    bool ok = false;
    std::string error; // when !ok: "FILE: problem"
    std::vector<std::int64_t> shape;
    PairingMode pairing = PairingMode::Binary;
    MetricValues values;                     // the case's batch values
    std::vector<FolderLabelValues> labels;   // the case's per-label batch values
    std::vector<FolderSampleDetail> samples; // empty unless per slice
    std::vector<LesionRow> lesions;          // the per-lesion table (not in the folder report itself)
};

// Keeps what a folder report needs from one evaluation.
FolderCase folder_case_from(const Evaluation& evaluation, bool per_slice);

struct ShardInfo {
    int index = 0; // 1-based
    int count = 0;
    std::int64_t cases_total = 0; // pairs over all shards
};

// Everything a folder report holds.
struct FolderReport {
    std::string prediction_dir;
    std::string target_dir;
    std::string options_json; // canonical JSON text of the options object
    std::vector<Metric> metrics;
    std::vector<FolderCase> cases; // sorted by case id
    std::vector<UnpairedFile> unpaired_predictions;
    std::vector<UnpairedFile> unpaired_targets;
    std::vector<std::string> ignored_predictions;
    std::vector<std::string> ignored_targets;
    std::optional<ShardInfo> shard; // set in a shard's output only
};

std::int64_t failed_cases(const FolderReport& report);

// JSON (documented in the README) and tidy CSV. Both recompute the summary
// from the per-case values, so a merged report equals a single run's.
void write_folder_json(std::ostream& out, const FolderReport& report);
void write_folder_csv(std::ostream& out, const FolderReport& report);

} // namespace masklens
