#include "command_line.h"

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

double parse_number(const std::string& option, const std::string& text)
{
    double value = 0;
    const char* end = text.data() + text.size();
    const auto [next, status] = std::from_chars(text.data(), end, value);
    if (status != std::errc() || next != end || !std::isfinite(value)) {
        throw_usage_error(option + " needs a number, not '" + text + "'");
    }
    return value;
}

std::int64_t parse_integer(const std::string& option, const std::string& text)
{
    std::int64_t value = 0;
    const char* end = text.data() + text.size();
    const auto [next, status] = std::from_chars(text.data(), end, value);
    if (status != std::errc() || next != end) {
        throw_usage_error(option + " needs an integer, not '" + text + "'");
    }
    return value;
}

int parse_bounded(const std::string& option, const std::string& text, int low, int high)
{
    const std::int64_t value = parse_integer(option, text);
    if (value < low || value > high) {
        throw_usage_error(option + " must be between " + std::to_string(low) + " and " +
                          std::to_string(high));
    }
    return static_cast<int>(value);
}

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
bool metric_list_names(std::string_view list, std::string_view name)
{
    while (true) {
        const auto comma = list.find(',');
        if (list.substr(0, comma) == name) {
            return true;
        }
        if (comma == std::string_view::npos) {
            return false;
        }
        list.remove_prefix(comma + 1);
    }
}

bool ends_with_csv(const std::string& path)
{
    return path.size() >= 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
}

// ---------------------------------------------------------------------------
// The options, described once. Each description gives the option's names,
// its value's name and help (for the usage text), how it applies its value
// (registered with CLI11) and what it adds to the options object of the JSON
// report. Adding an option means adding its description here and reading
// the field it sets where it is used.

// What the options set: the commands, plus
// the texts and choices that are resolved once all options are read.
struct Settings {
    FolderCommand folder; // folder.evaluate is the evaluate command
    std::string metrics_text = "default", axis_text = "d", empty_text = "nan", layout_text = "auto";
    std::string hd_rule_text = "max", surface_text = "voxel";
    std::string class_reduction_text = "pooled", batch_reduction_text = "mean", gdl_weight_text = "square";
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
};

// Where an option is listed in the usage text.
enum class Section { Metrics, Distances, Reading, Output, Folder, Merge };

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

std::string boolean(bool value)
{
    return value ? "true" : "false";
}

std::string optional_number(const std::optional<double>& value)
{
    return value ? format_number(*value) : "null";
}

// "comma-separated, or 'all' (default: ...)" with the default set and the
// known names from the metric table, wrapped at 78 columns under the option
// column (24).
std::string metrics_help()
{
    constexpr std::size_t width = 78 - 24;
    std::string text = "comma-separated, or 'all' (default:\n";
    for (const Metric metric : default_metrics()) {
        text += std::string(text.back() == '\n' ? "" : ",") + std::string(metric_name(metric));
    }
    text += ")\n";
    std::string line = "known:";
    auto add = [&](std::string_view word) {
        if (line.size() + 1 + word.size() > width) {
            text += line + "\n";
            line = std::string(word);
        } else {
            line += " " + std::string(word);
        }
    };
    for (const MetricInfo& info : metric_table()) {
        add(info.name);
    }
    for (const std::string_view word :
         {"(p2t:", "from", "the", "prediction's", "surface", "to", "the", "target's;", "t2p:", "back)"}) {
        add(word);
    }
    return text + line;
}

// The options of evaluate, which evaluate-folder takes too.
const std::vector<OptionSpec>& evaluate_options()
{
    using S = Settings;
    using N = const std::string&;
    static const std::vector<OptionSpec> table = {
        {Section::Metrics,
         "--metrics",
         "LIST",
         metrics_help(),
         [](S& s, N, N v) {
             s.metrics_text = v;
             s.statistics().metrics = parse_metric_list(v);
         },
         {{0, "metrics",
           [](const S& s) {
               std::string out = "[";
               for (const Metric metric : s.statistics().metrics) {
                   out += (out.size() > 1 ? ", " : "") + json_quote(std::string(metric_name(metric)));
               }
               return out + "]";
           }}}},
        {Section::Metrics,
         "--threshold",
         "X",
         "hard prediction is p >= X (default 0.5); target is t > 0.5",
         [](S& s, N name, N v) {
             s.metric().threshold = parse_number(name, v);
             s.threshold_given = true;
         },
         {{1, "threshold", [](const S& s) { return format_number(s.metric().threshold); }}}},
        {Section::Metrics,
         "--logits",
         "",
         "the prediction holds logits: bce uses the stable\n"
         "with-logits form, other metrics use sigmoid(x)\n"
         "(the same as --activation sigmoid)",
         [](S& s, N, N) { s.logits_given = true; },
         {{2, "logits", [](const S& s) { return boolean(s.metric().logits()); }}}},
        {Section::Metrics,
         "--activation",
         "none|sigmoid|softmax",
         "what turns prediction values into\n"
         "probabilities (default none); softmax runs over the\n"
         "channels of a C-channel prediction [N,C,...]",
         [](S& s, N, N v) { s.activation = parse_activation(v); },
         {{21, "activation",
           [](const S& s) { return json_quote(std::string(activation_name(s.metric().activation))); }}}},
        {Section::Metrics,
         "--decision",
         "threshold|argmax",
         "hard classes: p >= threshold per channel, or\n"
         "the channel of largest probability (default: argmax\n"
         "with softmax, threshold otherwise). With softmax or\n"
         "argmax a target with C channels must be one-hot",
         [](S& s, N, N v) { s.decision = parse_decision(v); },
         {{22, "decision",
           [](const S& s) { return json_quote(std::string(decision_name(s.metric().decision))); }}}},
        {Section::Metrics,
         "--include-background",
         "",
         "report label / channel 0 too (MONAI\n"
         "include_background=True)",
         [](S& s, N, N) { s.statistics().include_background = true; },
         {{23, "include_background", [](const S& s) { return boolean(s.statistics().include_background); }}}},
        {Section::Metrics,
         "--class-reduction",
         "pooled|mean|sum",
         "a sample's dice_loss, iou_loss,\n"
         "tversky_loss, dice, iou, precision, recall and\n"
         "specificity with classes: one ratio of sums over all\n"
         "channels (pooled, the default), or the mean / sum of\n"
         "the per-class values, undefined ones skipped (MONAI\n"
         "reduction mean / sum)",
         [](S& s, N name, N v) {
             s.class_reduction_text = v;
             const std::array<std::pair<const char*, ClassReduction>, 3> choices{
                 {{"pooled", ClassReduction::Pooled},
                  {"mean", ClassReduction::Mean},
                  {"sum", ClassReduction::Sum}}};
             s.metric().class_reduction = parse_choice(name, v, choices);
         },
         {{25, "class_reduction", [](const S& s) { return json_quote(s.class_reduction_text); }}}},
        {Section::Metrics,
         "--batch-reduction",
         "mean|sum",
         "batch values: mean over samples (elementwise\n"
         "losses and ce: over every element; default) or sum",
         [](S& s, N name, N v) {
             s.batch_reduction_text = v;
             const std::array<std::pair<const char*, BatchReduction>, 2> choices{
                 {{"mean", BatchReduction::Mean}, {"sum", BatchReduction::Sum}}};
             s.metric().batch_reduction = parse_choice(name, v, choices);
         },
         {{26, "batch_reduction", [](const S& s) { return json_quote(s.batch_reduction_text); }}}},
        {Section::Metrics,
         "--gdl-weight",
         "square|simple|uniform",
         "generalized_dice_loss class weights\n"
         "1/G^2, 1/G or 1 from the class's target sum G\n"
         "(default square)",
         [](S& s, N name, N v) {
             s.gdl_weight_text = v;
             const std::array<std::pair<const char*, GdlWeight>, 3> choices{
                 {{"square", GdlWeight::Square},
                  {"simple", GdlWeight::Simple},
                  {"uniform", GdlWeight::Uniform}}};
             s.metric().gdl_weight = parse_choice(name, v, choices);
         },
         {{27, "gdl_weight", [](const S& s) { return json_quote(s.gdl_weight_text); }}}},
        {Section::Metrics,
         "--lambda-dice",
         "L",
         "dice_ce weights (default 1, 1)",
         [](S& s, N name, N v) { s.metric().lambda_dice = parse_number(name, v); },
         {{28, "lambda_dice", [](const S& s) { return format_number(s.metric().lambda_dice); }}}},
        {Section::Metrics,
         "--lambda-ce",
         "L",
         "",
         [](S& s, N name, N v) { s.metric().lambda_ce = parse_number(name, v); },
         {{29, "lambda_ce", [](const S& s) { return format_number(s.metric().lambda_ce); }}}},
        {Section::Metrics,
         "--pool-batch",
         "",
         "batch values of dice_loss, iou_loss, tversky_loss and\n"
         "generalized_dice_loss from each class's sums over the\n"
         "whole batch (MONAI batch=True), not means over samples",
         [](S& s, N, N) { s.metric().pool_batch = true; },
         {{30, "pool_batch", [](const S& s) { return boolean(s.metric().pool_batch); }}}},
        {Section::Metrics,
         "--ignore-empty-target",
         "",
         "dice and iou are NaN where the target is empty, even\n"
         "when something was predicted (MONAI DiceMetric and\n"
         "MeanIoU ignore_empty=True)",
         [](S& s, N, N) { s.metric().ignore_empty_target = true; },
         {{24, "ignore_empty_target", [](const S& s) { return boolean(s.metric().ignore_empty_target); }}}},
        {Section::Metrics, "--smooth", "S",
         "dice_loss/iou_loss smoothing, numerator and\n"
         "denominator (default 1e-6)",
         [](S& s, N, N v) { s.smooth = v; }},
        {Section::Metrics,
         "--smooth-nr",
         "S",
         "set them apart (as MONAI does)",
         [](S& s, N, N v) { s.smooth_nr = v; },
         {{3, "smooth_nr", [](const S& s) { return format_number(s.metric().smooth_nr); }}}},
        {Section::Metrics,
         "--smooth-dr",
         "S",
         "",
         [](S& s, N, N v) { s.smooth_dr = v; },
         {{4, "smooth_dr", [](const S& s) { return format_number(s.metric().smooth_dr); }}}},
        {Section::Metrics,
         "--alpha",
         "A",
         "tversky_loss weights of FP and FN (default 0.5, 0.5)",
         [](S& s, N name, N v) { s.metric().tversky_alpha = parse_number(name, v); },
         {{5, "tversky_alpha", [](const S& s) { return format_number(s.metric().tversky_alpha); }}}},
        {Section::Metrics,
         "--beta",
         "B",
         "",
         [](S& s, N name, N v) { s.metric().tversky_beta = parse_number(name, v); },
         {{6, "tversky_beta", [](const S& s) { return format_number(s.metric().tversky_beta); }}}},
        {Section::Metrics,
         "--tversky-smooth",
         "S",
         "tversky_loss smoothing, both terms (default 1e-5)",
         [](S& s, N name, N v) {
             s.metric().tversky_smooth_nr = s.metric().tversky_smooth_dr = parse_number(name, v);
         },
         {{7, "tversky_smooth", [](const S& s) { return format_number(s.metric().tversky_smooth_nr); }}}},
        {Section::Metrics,
         "--gamma",
         "G",
         "focal_loss focusing (default 2; 0 gives bce)",
         [](S& s, N name, N v) {
             s.metric().focal_gamma = parse_number(name, v);
             if (s.metric().focal_gamma < 0) {
                 throw_usage_error("--gamma must be >= 0");
             }
         },
         {{8, "focal_gamma", [](const S& s) { return format_number(s.metric().focal_gamma); }}}},
        {Section::Metrics,
         "--focal-alpha",
         "A",
         "focal_loss positive-class weight (default: none)",
         [](S& s, N name, N v) {
             s.metric().focal_alpha = parse_number(name, v);
             if (*s.metric().focal_alpha < 0 || *s.metric().focal_alpha > 1) {
                 throw_usage_error("--focal-alpha must lie in [0, 1]");
             }
         },
         {{9, "focal_alpha", [](const S& s) { return optional_number(s.metric().focal_alpha); }}}},
        {Section::Metrics,
         "--empty",
         "nan|zero|one",
         "value of a hard metric whose denominator is zero,\n"
         "e.g. Dice when both masks are empty (default nan)",
         [](S& s, N name, N v) {
             s.empty_text = v;
             const std::array<std::pair<const char*, EmptyPolicy>, 3> choices{
                 {{"nan", EmptyPolicy::Nan}, {"zero", EmptyPolicy::Zero}, {"one", EmptyPolicy::One}}};
             s.metric().empty = parse_choice(name, v, choices);
         },
         {{15, "empty", [](const S& s) { return json_quote(s.empty_text); }}}},
        {Section::Metrics,
         "--labels",
         "L1,L2,...",
         "labels to report one-vs-rest (label maps or a\n"
         "C-channel prediction); default: all labels present",
         [](S& s, N name, N v) {
             std::stringstream list(v);
             std::string item;
             while (std::getline(list, item, ',')) {
                 s.statistics().labels.push_back(parse_integer(name, item));
             }
             if (s.statistics().labels.empty()) {
                 throw_usage_error("--labels needs at least one label");
             }
         },
         {{20, "labels",
           [](const S& s) {
               std::string out = "[";
               for (const std::int64_t label : s.statistics().labels) {
                   out += (out.size() > 1 ? ", " : "") + std::to_string(label);
               }
               return out + "]";
           }}}},
        {Section::Metrics,
         "--axis",
         "d|h|w",
         "slicing axis (z|y|x also accepted; default: d, the\n"
         "slowest spatial axis)",
         [](S& s, N, N v) {
             s.axis_text = v;
             if (v == "d" || v == "z") {
                 s.statistics().axis = SliceAxis::D;
             } else if (v == "h" || v == "y") {
                 s.statistics().axis = SliceAxis::H;
             } else if (v == "w" || v == "x") {
                 s.statistics().axis = SliceAxis::W;
             } else {
                 throw_usage_error("--axis must be d, h or w (or z, y, x), not '" + v + "'");
             }
         },
         {{16, "axis", [](const S& s) { return json_quote(s.axis_text); }}}},

        {Section::Distances,
         "--percentile",
         "P",
         "the percentile of hd95 (default 95)",
         [](S& s, N name, N v) {
             s.metric().hd_percentile = parse_number(name, v);
             if (s.metric().hd_percentile < 0 || s.metric().hd_percentile > 100) {
                 throw_usage_error("--percentile must lie in [0, 100]");
             }
         },
         {{10, "hd_percentile", [](const S& s) { return format_number(s.metric().hd_percentile); }}}},
        {Section::Distances,
         "--hd-rule",
         "max|pooled|mean",
         "max: larger of the two directed percentiles\n"
         "(MONAI, default); pooled: one percentile over both\n"
         "directions (medpy, seg-metrics); mean: mean of the two\n"
         "(plastimatch)",
         [](S& s, N name, N v) {
             s.hd_rule_text = v;
             const std::array<std::pair<const char*, HausdorffRule>, 3> choices{
                 {{"max", HausdorffRule::Max},
                  {"pooled", HausdorffRule::Pooled},
                  {"mean", HausdorffRule::Mean}}};
             s.metric().hd_rule = parse_choice(name, v, choices);
         },
         {{11, "hd_rule", [](const S& s) { return json_quote(s.hd_rule_text); }}}},
        {Section::Distances,
         "--nsd-tolerance",
         "MM",
         "tolerance tau of nsd (required for nsd)",
         [](S& s, N name, N v) {
             s.metric().nsd_tolerance_mm = parse_number(name, v);
             if (*s.metric().nsd_tolerance_mm < 0) {
                 throw_usage_error("--nsd-tolerance must be >= 0 (mm)");
             }
         },
         {{13, "nsd_tolerance", [](const S& s) { return optional_number(s.metric().nsd_tolerance_mm); }}}},
        {Section::Distances,
         "--surface",
         "voxel|subvoxel",
         "voxel: boundary voxels' centres (MONAI, default);\n"
         "subvoxel: area-weighted surface elements on voxel\n"
         "corners (DeepMind surface-distance)",
         [](S& s, N name, N v) {
             s.surface_text = v;
             const std::array<std::pair<const char*, SurfaceMode>, 2> choices{
                 {{"voxel", SurfaceMode::Voxel}, {"subvoxel", SurfaceMode::Subvoxel}}};
             s.metric().surface = parse_choice(name, v, choices);
         },
         {{12, "surface", [](const S& s) { return json_quote(s.surface_text); }}}},
        {Section::Distances,
         "--spacing",
         "X,Y,Z",
         "voxel spacing in mm (default: from the header, else 1);\n"
         "X,Y for 2D data",
         [](S& s, N name, N v) {
             std::stringstream list(v);
             std::string item;
             std::array<double, 3> spacing{};
             std::size_t count = 0;
             while (std::getline(list, item, ',')) {
                 if (count < 3) {
                     spacing[count] = parse_number(name, item);
                 }
                 ++count;
             }
             // Two values (2D data): z stays 0, "not given" (MetricOptions::spacing).
             if ((count != 3 && count != 2) || spacing[0] <= 0 || spacing[1] <= 0 ||
                 (count == 3 && spacing[2] <= 0)) {
                 throw_usage_error("--spacing needs positive numbers x,y,z (3D) or x,y (2D) in mm, not '" +
                                   v + "'");
             }
             s.metric().spacing = spacing;
         },
         {{14, "spacing",
           [](const S& s) -> std::string {
               const auto& spacing = s.metric().spacing;
               if (!spacing) {
                   return "null";
               }
               return "[" + format_number((*spacing)[0]) + ", " + format_number((*spacing)[1]) +
                      ((*spacing)[2] > 0 ? ", " + format_number((*spacing)[2]) : std::string()) + "]";
           }}}},

        {Section::Reading,
         "--layout",
         "auto|nhw",
         "a 3D .npy/.npz array is [D,H,W] (auto) or a batch of\n"
         "2D masks [N,H,W] (nhw)",
         [](S& s, N, N v) {
             s.layout_text = v;
             EvaluateCommand& command = s.command();
             if (v == "auto") {
                 command.prediction_read.layout = command.target_read.layout = io::Layout::Auto;
             } else if (v == "nhw" || v == "NHW") {
                 command.prediction_read.layout = command.target_read.layout = io::Layout::NHW;
             } else {
                 throw_usage_error("--layout must be auto or nhw, not '" + v + "'");
             }
         },
         {{17, "layout", [](const S& s) { return json_quote(s.layout_text); }}}},
        {Section::Reading, "--key", "NAME", "the array to read from .npz files",
         [](S& s, N, N v) { s.command().prediction_read.npz_key = s.command().target_read.npz_key = v; }},
        {Section::Reading,
         "--pred-key",
         "NAME",
         "the same, per file",
         [](S& s, N, N v) { s.command().prediction_read.npz_key = v; },
         {{33, "pred_key", [](const S& s) { return json_quote(s.command().prediction_read.npz_key); },
           true}}},
        {Section::Reading,
         "--target-key",
         "NAME",
         "",
         [](S& s, N, N v) { s.command().target_read.npz_key = v; },
         {{34, "target_key", [](const S& s) { return json_quote(s.command().target_read.npz_key); }, true}}},
        {Section::Reading,
         "--ignore-geometry",
         "",
         "do not require equal spacing/origin/direction",
         [](S& s, N, N) { s.command().ignore_geometry = true; },
         {{18, "ignore_geometry", [](const S& s) { return boolean(s.command().ignore_geometry); }}}},
        {Section::Reading, "--allow-outside-data", "",
         "let NRRD/MetaImage headers name data files outside\n"
         "their folder (absolute or '..' paths; refused by\n"
         "default; also MASKLENS_ALLOW_OUTSIDE_DATA=1)",
         [](S&, N, N) { io::set_outside_data_allowed(true); }},

        {Section::Output,
         "--no-slices",
         "",
         "per-sample, per-label and batch values only (no\n"
         "per-slice rows; surface distances then cost half)",
         [](S& s, N, N) {
             s.command().slices = false;
             s.statistics().slice_distances = false;
         },
         {{19, "slices", [](const S& s) { return boolean(s.command().slices); }}}},
        {Section::Output, "--format", "table|json|csv", "(default table)",
         [](S& s, N name, N v) {
             const std::array<std::pair<const char*, OutputFormat>, 3> choices{
                 {{"table", OutputFormat::Table}, {"json", OutputFormat::Json}, {"csv", OutputFormat::Csv}}};
             s.command().format = parse_choice(name, v, choices);
             s.command().format_given = true;
         }},
        {Section::Output, "--output,-o", "FILE", "write there (atomically) instead of standard output",
         [](S& s, N, N v) { s.command().output_path = v; }},
        {Section::Output, "--device", "auto|cpu|cuda", "compute device (default auto)",
         [](S& s, N, N v) { s.command().device = gpu::parse_device_choice(v); }},
        {Section::Output, "--threads", "N", "worker threads (default: all cores)",
         [](S& s, N name, N v) {
             const auto threads = parse_integer(name, v);
             if (threads < 0 || threads > 1024) {
                 throw_usage_error("--threads must be between 0 (all cores) and 1024");
             }
             s.statistics().threads = static_cast<int>(threads);
         }},
        {Section::Output, "--memory-limit", "SIZE",
         "largest array a file may make MaskLens allocate, e.g.\n"
         "8G (default: 3/4 of physical memory; also\n"
         "MASKLENS_MEMORY_LIMIT)",
         [](S&, N name, N v) { set_memory_cap_bytes(parse_byte_size(v, name)); }},
    };
    return table;
}

// The options only evaluate-folder takes.
const std::vector<OptionSpec>& folder_options()
{
    using S = Settings;
    using N = const std::string&;
    static const std::vector<OptionSpec> table = {
        {Section::Folder, "--pattern", "REGEX",
         "ECMAScript regex searched in each file name; capture\n"
         "group 1 is the case id (both folders)",
         [](S& s, N, N v) { s.pattern = v; }},
        {Section::Folder,
         "--pred-pattern",
         "REGEX",
         "the same, per folder",
         [](S& s, N, N v) { s.folder.prediction_pattern = v; },
         {{31, "pred_pattern", [](const S& s) { return json_quote(s.folder.prediction_pattern); }}}},
        {Section::Folder,
         "--target-pattern",
         "REGEX",
         "",
         [](S& s, N, N v) { s.folder.target_pattern = v; },
         {{32, "target_pattern", [](const S& s) { return json_quote(s.folder.target_pattern); }}}},
        {Section::Folder,
         "--per-slice",
         "",
         "add per-sample, per-slice (and per-label) values",
         [](S& s, N, N) { s.folder.per_slice = true; },
         {{35, "per_slice", [](const S& s) { return boolean(s.folder.per_slice); }}}},
        // Evaluate's --format, with evaluate-folder's default and choices.
        {Section::Folder, "--format", "json|csv", "default: csv when --output ends in .csv, else json",
         nullptr},
        {Section::Folder, "--jobs", "N",
         "pairs evaluated at once (default 1); --threads is\n"
         "shared among them",
         [](S& s, N name, N v) { s.folder.jobs = parse_bounded(name, v, 1, 256); }},
        {Section::Folder, "--quiet,-q", "", "no progress bar (shown only when stderr is a terminal)",
         [](S& s, N, N) { s.folder.quiet = true; }},
        {Section::Folder, "--require-all", "", "unpaired files make the exit status 1",
         [](S& s, N, N) { s.folder.require_all = true; }},
        {Section::Folder, "--shard", "K/N",
         "evaluate shard K (1-based, 1 <= K <= N) of N: the\n"
         "pairs at positions K-1, K-1+N, ... of the case ids in\n"
         "sorted order; writes JSON for merge",
         [](S& s, N name, N v) {
             const auto slash = v.find('/');
             if (slash == std::string::npos) {
                 throw_usage_error("--shard needs K/N (1 <= K <= N), not '" + v + "'");
             }
             s.folder.shard_count = parse_bounded(name, v.substr(slash + 1), 1, 1000000);
             s.folder.shard_index = parse_bounded(name, v.substr(0, slash), 1, s.folder.shard_count);
         }},
    };
    return table;
}

const std::vector<OptionSpec>& merge_options()
{
    using S = Settings;
    using N = const std::string&;
    static const std::vector<OptionSpec> table = {
        {Section::Merge, "-o,--output", "FILE", "write there (atomically) instead of standard output",
         [](S& s, N, N v) { s.merge.output_path = v; }},
        {Section::Merge, "--format", "json|csv", "default: csv when -o ends in .csv, else json",
         [](S& s, N name, N v) {
             const std::array<std::pair<const char*, OutputFormat>, 2> choices{
                 {{"json", OutputFormat::Json}, {"csv", OutputFormat::Csv}}};
             s.merge.format = parse_choice(name, v, choices);
             s.merge_format_given = true;
         }},
        {Section::Merge, "--quiet,-q", "", "no summary line on stderr unless some case failed",
         [](S& s, N, N) { s.merge.quiet = true; }},
    };
    return table;
}

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
                if (folder || !echo.folder_only) {
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
