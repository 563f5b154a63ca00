#include "command_line.h"
#include "option_table.h"

#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <string_view>

namespace masklens::cli {
namespace {

// ---------------------------------------------------------------------------
// What the descriptions generate: usage lines, the JSON options object and
// the CLI11 parser.

// The first of the names: "--output".
std::string shown_name(const OptionSpec& spec)
{
    return std::string(spec.names.substr(0, spec.names.find(',')));
}

// "--output FILE": the first name with the value's name.
std::string synopsis(const OptionSpec& spec)
{
    return shown_name(spec) + (spec.value.empty() ? "" : " " + std::string(spec.value));
}

// How the option list shows it: "--output FILE", or a flag's names ("--quiet, -q").
std::string shown(const OptionSpec& spec)
{
    if (!spec.value.empty()) {
        return synopsis(spec);
    }
    std::string names;
    for (const char c : spec.names) {
        names += c == ',' ? std::string(", ") : std::string(1, c);
    }
    return names;
}

// The usage lines of a section: the option (or options sharing a line) in
// the first 24 columns, the help beside and under it.
std::string option_lines(const std::vector<OptionSpec>& table, Section section)
{
    constexpr std::size_t column = 24;
    std::string text, names;
    const std::string* help = nullptr;
    auto flush = [&] {
        if (names.empty()) {
            return;
        }
        std::string line = "  " + names;
        line += line.size() < column ? std::string(column - line.size(), ' ') : std::string(3, ' ');
        for (const char c : *help) {
            line += c == '\n' ? "\n" + std::string(column, ' ') : std::string(1, c);
        }
        text += line + "\n";
        names.clear();
    };
    for (const OptionSpec& spec : table) {
        if (spec.section != section) {
            continue;
        }
        if (spec.help.empty() && !names.empty()) {
            names += ", " + shown(spec);
            continue;
        }
        flush();
        names = shown(spec);
        help = &spec.help;
    }
    flush();
    return text;
}

// The options object of the JSON report: every echo of evaluate's options
// (with evaluate-folder's when `folder`), in ascending position.
std::string options_json(const Settings& settings, bool folder)
{
    std::vector<const Echo*> echoes;
    auto collect = [&](const std::vector<OptionSpec>& table) {
        for (const OptionSpec& spec : table) {
            for (const Echo& echo : spec.echo) {
                if ((folder || !echo.folder_only) && (!echo.shown || echo.shown(settings))) {
                    echoes.push_back(&echo);
                }
            }
        }
    };
    collect(evaluate_options());
    if (folder) {
        collect(folder_options());
    }
    std::sort(echoes.begin(), echoes.end(),
              [](const Echo* a, const Echo* b) { return a->position < b->position; });
    std::string json = "{";
    for (const Echo* echo : echoes) {
        json +=
            (json.size() > 1 ? ", " : "") + json_quote(std::string(echo->key)) + ": " + echo->value(settings);
    }
    return json + "}";
}

// CLI11's messages in the project's words: "--threshold: 1 required TEXT
// missing" (the last argument wants a value) and "per-slice was given a
// disallowed flag override" (--per-slice=1).
std::string usage_message(const CLI::ParseError& error)
{
    const std::string what = error.what();
    const auto colon = what.find(": ");
    if (colon != std::string::npos && what.ends_with(" missing")) {
        return what.substr(0, colon) + " needs a value";
    }
    constexpr std::string_view flag_override = " was given a disallowed flag override";
    if (what.ends_with(flag_override)) {
        std::string name = what.substr(0, what.size() - flag_override.size());
        if (!name.starts_with("-")) {
            name = (name.size() == 1 ? "-" : "--") + name;
        }
        return name + " takes no value";
    }
    return what;
}

// Parses arguments[1...] with the options of `tables` and applies them, in
// the order given, to `target`. Returns the positional arguments; an
// argument that `is_option` says is an option but no table names is an
// unknown option ("unknown option '--x'" + unknown_suffix).
std::vector<std::string> parse_options(const std::vector<std::string>& arguments, Settings& target,
                                       std::initializer_list<const std::vector<OptionSpec>*> tables,
                                       bool (*is_option)(const std::string&),
                                       const std::string& unknown_suffix)
{
    CLI::App app;
    app.set_help_flag(); // --help and --version are answered before any command
    app.allow_extras();  // unknown options and positional arguments: sorted below
    std::map<const CLI::Option*, const OptionSpec*> specs;
    for (const auto* table : tables) {
        for (const OptionSpec& spec : *table) {
            if (!spec.apply) {
                continue;
            }
            const std::string names(spec.names);
            CLI::Option* option =
                spec.value.empty()
                    ? app.add_flag(names)->disable_flag_override()
                    : app.add_option(names)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
            specs[option] = &spec;
        }
    }
    try {
        app.parse(
            std::vector<std::string>(arguments.rbegin(), arguments.rend() - 1)); // CLI11 takes them reversed
    } catch (const CLI::ParseError& error) {
        throw_usage_error(usage_message(error));
    }
    std::vector<std::string> positional;
    for (const std::string& argument : app.remaining()) {
        if (is_option(argument)) {
            throw_usage_error("unknown option '" + argument.substr(0, argument.find('=')) + "'" +
                              unknown_suffix);
        }
        positional.push_back(argument);
    }
    std::map<const CLI::Option*, std::size_t> seen;
    for (const CLI::Option* option : app.parse_order()) {
        const OptionSpec& spec = *specs.at(option);
        const std::size_t occurrence = seen[option]++;
        const std::string value = spec.value.empty() ? std::string() : option->results().at(occurrence);
        spec.apply(target, shown_name(spec), value);
    }
    return positional;
}

// evaluate and evaluate-folder: "--name" options; -o and -q (evaluate has
// no -q) are options too. Other arguments, "-" included, are paths.
bool is_evaluate_option(const std::string& argument)
{
    return argument.starts_with("--") || argument == "-o" || argument == "-q";
}

bool is_merge_option(const std::string& argument)
{
    return argument.size() >= 2 && argument[0] == '-';
}

// The rules that join several of evaluate's options, once all are read.
void finish_evaluation(Settings& settings, const std::vector<std::string>& positional)
{
    EvaluateCommand& command = settings.command();
    command.prediction_path = positional[0];
    command.target_path = positional[1];
    MetricOptions& metric = settings.metric();
    const auto& activation = settings.activation;
    if (settings.logits_given && activation && *activation != Activation::Sigmoid) {
        throw_usage_error("--logits means --activation sigmoid; it cannot be combined with --activation " +
                          std::string(activation_name(*activation)));
    }
    metric.activation = settings.logits_given ? Activation::Sigmoid : activation.value_or(Activation::None);
    metric.decision = settings.decision.value_or(
        metric.activation == Activation::Softmax ? Decision::Argmax : Decision::Threshold);
    if (metric.decision == Decision::Argmax && settings.threshold_given) {
        throw_usage_error("--decision argmax takes no --threshold (each voxel is the channel of largest "
                          "probability); use --decision threshold to threshold each channel");
    }
    if (settings.smooth) {
        metric.smooth_nr = metric.smooth_dr = parse_number("--smooth", *settings.smooth);
    }
    if (settings.smooth_nr) {
        metric.smooth_nr = parse_number("--smooth-nr", *settings.smooth_nr);
    }
    if (settings.smooth_dr) {
        metric.smooth_dr = parse_number("--smooth-dr", *settings.smooth_dr);
    }
    auto& metrics = command.statistics.metrics;
    if (metrics.empty()) {
        metrics = default_metrics();
    }
    if (!metric.nsd_tolerance_mm) {
        // 'all' means every metric that can be computed with the options given;
        // a metric named explicitly without its tolerance is a usage error.
        for (auto it = metrics.begin(); it != metrics.end();) {
            const MetricInfo& info = metric_info(*it);
            if (!info.needs_tolerance) {
                ++it;
            } else if (!metric_list_names(settings.metrics_text, info.name)) {
                it = metrics.erase(it);
            } else {
                throw_usage_error(std::string(info.name) +
                                  " needs --nsd-tolerance (the tolerance tau in mm)");
            }
        }
    }
    if (!command.lesion_table_path.empty() &&
        std::none_of(metrics.begin(), metrics.end(), is_lesion_metric)) {
        throw_usage_error("--lesion-table needs a lesion metric in --metrics (e.g. --metrics lesion)");
    }
}

EvaluateCommand parse_evaluate(const std::vector<std::string>& arguments)
{
    Settings settings;
    const std::vector<std::string> positional =
        parse_options(arguments, settings, {&evaluate_options()}, is_evaluate_option, " (see --help)");
    if (positional.size() != 2) {
        throw_usage_error("evaluate needs exactly two files, PREDICTION and TARGET (got " +
                          std::to_string(positional.size()) + ")");
    }
    finish_evaluation(settings, positional);
    settings.command().options_json = options_json(settings, false);
    return settings.command();
}

FolderCommand parse_folder(const std::vector<std::string>& arguments)
{
    Settings settings;
    const std::vector<std::string> positional = parse_options(
        arguments, settings, {&evaluate_options(), &folder_options()}, is_evaluate_option, " (see --help)");
    if (positional.size() != 2) {
        throw_usage_error("evaluate-folder needs exactly two folders, PRED_DIR and TARGET_DIR (got " +
                          std::to_string(positional.size()) + ")");
    }
    finish_evaluation(settings, positional);
    FolderCommand& folder = settings.folder;
    if (settings.pattern) {
        if (folder.prediction_pattern.empty()) {
            folder.prediction_pattern = *settings.pattern;
        }
        if (folder.target_pattern.empty()) {
            folder.target_pattern = *settings.pattern;
        }
    }
    EvaluateCommand& command = folder.evaluate;
    if (!command.format_given) {
        command.format = ends_with_csv(command.output_path) ? OutputFormat::Csv : OutputFormat::Json;
    } else if (command.format == OutputFormat::Table) {
        throw_usage_error("evaluate-folder writes --format json or csv, not table");
    }
    if (folder.shard_count > 0 && command.format != OutputFormat::Json) {
        throw_usage_error("--shard writes JSON (merge reads it); drop --format csv and convert with "
                          "'masklens-cli merge SHARDS... -o results.csv'");
    }
    if (!command.slices) {
        throw_usage_error("--no-slices is evaluate's option; evaluate-folder reports per-slice values only "
                          "with --per-slice");
    }
    // Per-slice surface distances only when they are reported.
    command.statistics.slice_distances = folder.per_slice;
    // The folder options join evaluate's (shards must agree on all of them).
    command.options_json = options_json(settings, true);
    return folder;
}

MergeCommand parse_merge(const std::vector<std::string>& arguments)
{
    Settings settings;
    MergeCommand& merge = settings.merge;
    merge.inputs =
        parse_options(arguments, settings, {&merge_options()}, is_merge_option, " for merge (see --help)");
    if (merge.inputs.empty()) {
        throw_usage_error("merge needs the shard outputs (JSON files written with --shard)");
    }
    if (!settings.merge_format_given && ends_with_csv(merge.output_path)) {
        merge.format = OutputFormat::Csv;
    }
    return merge;
}

// "usage: masklens-cli merge SHARD.json... [-o FILE] [--format json|csv] [--quiet]"
std::string merge_synopsis()
{
    std::string text = "usage: masklens-cli merge SHARD.json...";
    for (const OptionSpec& spec : merge_options()) {
        text += " [" + synopsis(spec) + "]";
    }
    return text + "\n";
}

} // namespace

const std::string& usage_text()
{
    static const std::string text =
        std::string(R"(usage: masklens-cli evaluate PREDICTION TARGET [options]

Computes losses and metrics of a segmentation prediction against its target,
per slice, per sample, per label and for the batch.

Files: .npy .npz .nii .nii.gz .nrrd .nhdr .mha .mhd .png .tif .tiff
Arrays are [N,C,H,W] or [N,C,D,H,W]; [H,W] and [D,H,W] are one sample, one channel.

Metrics:
)") + option_lines(evaluate_options(), Section::Metrics) +
        R"(
Surface distances (hd, hd95, assd, nsd; in mm, between the hard masks):
)" + option_lines(evaluate_options(), Section::Distances) +
        R"(
Lesions (lesion_*, pq, sq, rq; connected components of the hard masks):
)" + option_lines(evaluate_options(), Section::Lesions) +
        R"(
Reading:
)" + option_lines(evaluate_options(), Section::Reading) +
        R"(
Output:
)" + option_lines(evaluate_options(), Section::Output) +
        R"(  --help, --version

Exit status: 0 success, 1 bad input, 2 usage error.

usage: masklens-cli evaluate-folder PRED_DIR TARGET_DIR [evaluate's metric and
           reading options] [--pattern REGEX] [--per-slice] [--format json|csv]
           [--output FILE] [--jobs N] [--quiet] [--require-all] [--shard K/N]

Pairs the files of two folders by case id (the file name without its
extension: case_01.nii.gz pairs with case_01.npy), evaluates every pair and
writes one report: per case and per label values, failed cases with their
error, unpaired files, and a summary per metric over cases (mean, sample std,
median, min, max, valid count; NaN skipped, +inf kept).
)" + option_lines(folder_options(), Section::Folder) +
        R"(Exit status: 0 every case evaluated, 1 some case failed (or no pairs, or a
folder cannot be read), 2 usage error.

)" + merge_synopsis() +
        R"(
Combines the JSON outputs of all N shards (--shard K/N) into the report one
run without --shard writes (same cases, order and summary). Refuses shards
whose options, folders or file listing differ, and missing or repeated
shards. Exit status as evaluate-folder: 1 when some merged case failed.
)";
    return text;
}

ParsedCommand parse_command_line(const std::vector<std::string>& arguments)
{
    ParsedCommand parsed;
    if (arguments.empty()) {
        throw_usage_error("missing command; try 'masklens-cli evaluate PREDICTION TARGET' or --help");
    }
    for (const auto& argument : arguments) {
        if (argument == "--help" || argument == "-h") {
            parsed.help = true;
            return parsed;
        }
        if (argument == "--version") {
            parsed.version = true;
            return parsed;
        }
    }
    if (arguments[0] == "evaluate-folder") {
        parsed.folder = parse_folder(arguments);
    } else if (arguments[0] == "merge") {
        parsed.merge = parse_merge(arguments);
    } else if (arguments[0] == "evaluate") {
        parsed.evaluate = parse_evaluate(arguments);
    } else {
        throw_usage_error("unknown command '" + arguments[0] +
                          "'; the commands are 'evaluate', 'evaluate-folder' and 'merge'");
    }
    return parsed;
}

} // namespace masklens::cli
