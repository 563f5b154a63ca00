// The option descriptions of masklens-cli (option_table.h). Adding an option
// means adding its description here and reading the field it sets where it is used.
#include "option_table.h"

#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <sstream>
#include <string_view>

namespace masklens::cli {

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

namespace {

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
    return text + line + "\n'lesion' names the lesion metrics (not in 'all')";
}

// Whether lesion metrics were asked for (their options are echoed then).
bool lesion_metrics_asked(const Settings& s)
{
    const auto& metrics = s.statistics().metrics;
    return std::any_of(metrics.begin(), metrics.end(), is_lesion_metric);
}

} // namespace

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
             // The names are the engine's (null-terminated literals).
             const std::array<std::pair<const char*, EmptyPolicy>, 3> choices{
                 {{empty_policy_name(EmptyPolicy::Nan).data(), EmptyPolicy::Nan},
                  {empty_policy_name(EmptyPolicy::Zero).data(), EmptyPolicy::Zero},
                  {empty_policy_name(EmptyPolicy::One).data(), EmptyPolicy::One}}};
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

        {Section::Lesions,
         "--lesion-connectivity",
         "N",
         "neighbours joining voxels into one lesion: 6, 18\n"
         "or 26 (3D), 4 or 8 (2D); default 26 / 8",
         [](S& s, N name, N v) {
             const std::int64_t n = parse_integer(name, v);
             if (n != 4 && n != 8 && n != 6 && n != 18 && n != 26) {
                 throw_usage_error("--lesion-connectivity must be 6, 18 or 26 (3D), 4 or 8 (2D), not '" + v +
                                   "'");
             }
             s.metric().lesion_connectivity = static_cast<int>(n);
         },
         {{36, "lesion_connectivity",
           [](const S& s) { return std::to_string(s.metric().lesion_connectivity); }, false,
           lesion_metrics_asked}}},
        {Section::Lesions,
         "--lesion-match",
         "iou|overlap|brats",
         "iou: pairs with IoU >= --lesion-iou, one-to-one\n"
         "(panoptica, default); overlap: any shared voxel,\n"
         "many-to-many; brats: the BraTS 2023 rule (dilated\n"
         "target lesions, many-to-one); pq, sq, rq need iou",
         [](S& s, N name, N v) {
             s.lesion_match_text = v;
             const std::array<std::pair<const char*, LesionMatch>, 3> choices{
                 {{"iou", LesionMatch::Iou}, {"overlap", LesionMatch::Overlap}, {"brats", LesionMatch::Brats}}};
             s.metric().lesion_match = parse_choice(name, v, choices);
         },
         {{37, "lesion_match", [](const S& s) { return json_quote(s.lesion_match_text); }, false,
           lesion_metrics_asked}}},
        {Section::Lesions,
         "--lesion-iou",
         "T",
         "IoU a lesion pair needs to match (default 0.5)",
         [](S& s, N name, N v) {
             s.metric().lesion_iou = parse_number(name, v);
             if (s.metric().lesion_iou < 0 || s.metric().lesion_iou > 1) {
                 throw_usage_error("--lesion-iou must lie in [0, 1]");
             }
         },
         {{38, "lesion_iou", [](const S& s) { return format_number(s.metric().lesion_iou); }, false,
           lesion_metrics_asked}}},
        {Section::Lesions,
         "--lesion-min-size",
         "N[mm3]",
         "lesions smaller than N voxels, or N mm^3 with the\n"
         "suffix mm3 (2D: mm^2), on either side are dropped\n"
         "before matching (default 0); may be given twice",
         [](S& s, N name, N v) {
             if (v.size() > 3 && v.ends_with("mm3")) {
                 s.metric().lesion_min_volume = parse_number(name, v.substr(0, v.size() - 3));
                 if (!(s.metric().lesion_min_volume >= 0) || !std::isfinite(s.metric().lesion_min_volume)) {
                     throw_usage_error("--lesion-min-size must be >= 0 (mm3), not '" + v + "'");
                 }
                 return;
             }
             s.metric().lesion_min_size = parse_integer(name, v);
             if (s.metric().lesion_min_size < 0) {
                 throw_usage_error("--lesion-min-size must be >= 0 (voxels)");
             }
         },
         {{39, "lesion_min_size", [](const S& s) { return std::to_string(s.metric().lesion_min_size); },
           false, lesion_metrics_asked},
          {43, "lesion_min_volume_mm3", [](const S& s) { return format_number(s.metric().lesion_min_volume); },
           false, [](const S& s) { return lesion_metrics_asked(s) && s.metric().lesion_min_volume > 0; }}}},
        {Section::Lesions,
         "--lesion-size-bins",
         "E0,E1,...",
         "report lesion recall per target lesion volume bin\n"
         "[E0,E1), ..., [Ek,inf) in mm^3 (JSON\n"
         "\"lesion_size_recall\")",
         [](S& s, N name, N v) {
             std::vector<double>& edges = s.metric().lesion_size_bins;
             edges.clear();
             std::stringstream list(v);
             std::string item;
             while (std::getline(list, item, ',')) {
                 const double edge = parse_number(name, item);
                 if (!std::isfinite(edge) || edge < 0 || (!edges.empty() && edge <= edges.back())) {
                     throw_usage_error("--lesion-size-bins needs ascending edges >= 0 (mm3), not '" + v + "'");
                 }
                 edges.push_back(edge);
             }
             if (edges.empty()) {
                 throw_usage_error("--lesion-size-bins needs at least one edge");
             }
         },
         {{44, "lesion_size_bins",
           [](const S& s) {
               std::string out = "[";
               for (const double edge : s.metric().lesion_size_bins) {
                   if (out.size() > 1) {
                       out += ", ";
                   }
                   out += format_number(edge);
               }
               return out + "]";
           },
           false, [](const S& s) { return lesion_metrics_asked(s) && !s.metric().lesion_size_bins.empty(); }}}},
        {Section::Lesions,
         "--lesion-dilation",
         "N",
         "brats: dilation iterations of target lesions\n"
         "(18-neighbourhood; default 1)",
         [](S& s, N name, N v) { s.metric().lesion_dilation = parse_bounded(name, v, 0, 1000); },
         {{40, "lesion_dilation", [](const S& s) { return std::to_string(s.metric().lesion_dilation); }, false,
           lesion_metrics_asked}}},
        {Section::Lesions,
         "--lesion-volume-threshold",
         "MM3",
         "brats: target lesions of at most this volume are\n"
         "left out of the scores (default 0)",
         [](S& s, N name, N v) {
             s.metric().lesion_volume_threshold = parse_number(name, v);
             if (s.metric().lesion_volume_threshold < 0) {
                 throw_usage_error("--lesion-volume-threshold must be >= 0 (mm^3)");
             }
         },
         {{41, "lesion_volume_threshold",
           [](const S& s) { return format_number(s.metric().lesion_volume_threshold); }, false,
           lesion_metrics_asked}}},
        {Section::Lesions,
         "--lesion-hd-penalty",
         "MM",
         "lesion_hd95 of a missed or false lesion (default 374,\n"
         "as BraTS)",
         [](S& s, N name, N v) {
             s.metric().lesion_hd_penalty = parse_number(name, v);
             if (s.metric().lesion_hd_penalty < 0) {
                 throw_usage_error("--lesion-hd-penalty must be >= 0 (mm)");
             }
         },
         {{42, "lesion_hd_penalty", [](const S& s) { return format_number(s.metric().lesion_hd_penalty); },
           false, lesion_metrics_asked}}},
        {Section::Lesions, "--lesion-table", "FILE.csv",
         "also write the per-lesion table (every target and\n"
         "predicted lesion: size, centroid, box, status,\n"
         "matches, Dice, HD) as CSV to FILE; needs a lesion\n"
         "metric (JSON reports hold it as \"lesions\")",
         [](S& s, N, N v) { s.command().lesion_table_path = v; }},

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

} // namespace masklens::cli
