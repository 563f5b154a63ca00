// The options of masklens-cli, described once (option_table.cpp): each
// description gives the option's names, its value's name and help (the usage
// text), how it applies its value (registered with CLI11) and what it adds to
// the options object of the JSON report. command_line.cpp generates the
// usage, the parser and the JSON echo from these tables.
#pragma once

#include "command_line.h"

#include "masklens/engine/error.h"

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace masklens::cli {

// Value parsers: a usage error names the option and the value.
double parse_number(const std::string& option, const std::string& text);
std::int64_t parse_integer(const std::string& option, const std::string& text);
int parse_bounded(const std::string& option, const std::string& text, int low, int high);
// One of a fixed set of words ("--option must be a, b or c, not 'x'").
template <class T, std::size_t N>
T parse_choice(const std::string& option, const std::string& text,
               const std::array<std::pair<const char*, T>, N>& choices)
{
    std::string names;
    for (std::size_t i = 0; i < N; ++i) {
        if (text == choices[i].first) {
            return choices[i].second;
        }
        names += std::string(i == 0 ? "" : i + 1 == N ? " or " : ", ") + choices[i].first;
    }
    throw_usage_error(option + " must be " + names + ", not '" + text + "'");
}

// Whether the comma-separated --metrics text names `name` itself (not
// through 'all' or the default set).
bool metric_list_names(std::string_view list, std::string_view name);
bool ends_with_csv(const std::string& path);

// What the options set: the commands, plus
// the texts and choices that are resolved once all options are read.
struct Settings {
    FolderCommand folder; // folder.evaluate is the evaluate command
    std::string metrics_text = "default", axis_text = "d", empty_text = "nan", layout_text = "auto";
    std::string hd_rule_text = "max", surface_text = "voxel";
    std::string class_reduction_text = "pooled", batch_reduction_text = "mean", gdl_weight_text = "square";
    std::string lesion_match_text = "iou";
    std::optional<std::string> smooth, smooth_nr, smooth_dr, pattern;
    std::optional<Activation> activation;
    std::optional<Decision> decision;
    bool threshold_given = false, logits_given = false;
    MergeCommand merge; // merge's options set only this
    bool merge_format_given = false;

    EvaluateCommand& command() noexcept { return folder.evaluate; }
    const EvaluateCommand& command() const noexcept { return folder.evaluate; }
    StatisticsOptions& statistics() noexcept { return folder.evaluate.statistics; }
    const StatisticsOptions& statistics() const noexcept { return folder.evaluate.statistics; }
    MetricOptions& metric() noexcept { return folder.evaluate.statistics.metric; }
    const MetricOptions& metric() const noexcept { return folder.evaluate.statistics.metric; }
};

// One member of the options object in the JSON report (evaluate's, and
// evaluate-folder's, which shards compare).
struct Echo {
    int position; // the members' order is part of the output format: ascending positions
    std::string_view key;
    std::string (*value)(const Settings&);
    bool folder_only = false; // echoed by evaluate-folder only
    // Echoed only when this returns true (nullptr: always), so that options
    // of metrics not asked for leave the report as it was.
    bool (*shown)(const Settings&) = nullptr;
};

// Where an option is listed in the usage text.
enum class Section { Metrics, Distances, Lesions, Reading, Output, Folder, Merge };

struct OptionSpec {
    Section section;
    // For CLI11, e.g. "--output,-o". The usage lists a flag's names all
    // ("--quiet, -q") and an option with a value by its first ("--output FILE").
    std::string_view names;
    std::string_view value; // the value's name in the usage; empty for a flag
    // Usage text, lines apart by '\n' (the usage indents them). Empty: the
    // option is listed on the previous option's line, which describes both.
    std::string help;
    // Applies one occurrence (options apply in command-line order); `name`
    // is the shown name, for messages. nullptr: documented here, parsed as
    // another table's option.
    void (*apply)(Settings&, const std::string& name, const std::string& value);
    std::vector<Echo> echo = {};
};

// The options of evaluate (which evaluate-folder takes too), of
// evaluate-folder alone, and of merge.
const std::vector<OptionSpec>& evaluate_options();
const std::vector<OptionSpec>& folder_options();
const std::vector<OptionSpec>& merge_options();

} // namespace masklens::cli
