#include "command_line.h"

#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <functional>
#include <sstream>

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

std::string json_number(double value)
{
    return format_number(value);
}

std::string json_text(const std::string& text)
{
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
        }
        out += c;
    }
    return out + "\"";
}

} // namespace

namespace {

// "  --metrics LIST ..." with the default set and the known names from the
// metric table, wrapped at 78 columns under the option column.
std::string metrics_usage()
{
    const std::string indent(24, ' ');
    std::string text = "  --metrics LIST        comma-separated, or 'all' (default:\n" + indent;
    for (const Metric metric : default_metrics()) {
        text += std::string(text.back() == ' ' ? "" : ",") + std::string(metric_name(metric));
    }
    text += ")\n";
    std::string line = indent + "known:";
    for (const MetricInfo& info : metric_table()) {
        if (line.size() + 1 + info.name.size() > 78) {
            text += line + "\n";
            line = indent + std::string(info.name);
        } else {
            line += " " + std::string(info.name);
        }
    }
    for (const std::string_view word :
         {"(p2t:", "from", "the", "prediction's", "surface", "to", "the", "target's;", "t2p:", "back)"}) {
        if (line.size() + 1 + word.size() > 78) {
            text += line + "\n";
            line = indent + std::string(word);
        } else {
            line += " " + std::string(word);
        }
    }
    return text + line + "\n";
}

} // namespace

const std::string& usage_text()
{
    static const std::string text = R"(usage: masklens-cli evaluate PREDICTION TARGET [options]

Computes losses and metrics of a segmentation prediction against its target,
per slice, per sample, per label and for the batch.

Files: .npy .npz .nii .nii.gz .nrrd .nhdr .mha .mhd .png .tif .tiff
Arrays are [N,C,H,W] or [N,C,D,H,W]; [H,W] and [D,H,W] are one sample, one channel.

Metrics:
)" + metrics_usage() + R"(  --threshold X         hard prediction is p >= X (default 0.5); target is t > 0.5
  --logits              the prediction holds logits: bce uses the stable
                        with-logits form, other metrics use sigmoid(x)
                        (the same as --activation sigmoid)
  --activation none|sigmoid|softmax   what turns prediction values into
                        probabilities (default none); softmax runs over the
                        channels of a C-channel prediction [N,C,...]
  --decision threshold|argmax   hard classes: p >= threshold per channel, or
                        the channel of largest probability (default: argmax
                        with softmax, threshold otherwise). With softmax or
                        argmax a target with C channels must be one-hot
  --include-background  report label / channel 0 too (MONAI
                        include_background=True)
  --class-reduction pooled|mean|sum   a sample's dice_loss, iou_loss,
                        tversky_loss, dice, iou, precision, recall and
                        specificity with classes: one ratio of sums over all
                        channels (pooled, the default), or the mean / sum of
                        the per-class values, undefined ones skipped (MONAI
                        reduction mean / sum)
  --batch-reduction mean|sum   batch values: mean over samples (elementwise
                        losses and ce: over every element; default) or sum
  --gdl-weight square|simple|uniform   generalized_dice_loss class weights
                        1/G^2, 1/G or 1 from the class's target sum G
                        (default square)
  --lambda-dice L, --lambda-ce L   dice_ce weights (default 1, 1)
  --pool-batch          batch values of dice_loss, iou_loss, tversky_loss and
                        generalized_dice_loss from each class's sums over the
                        whole batch (MONAI batch=True), not means over samples
  --ignore-empty-target dice and iou are NaN where the target is empty, even
                        when something was predicted (MONAI DiceMetric and
                        MeanIoU ignore_empty=True)
  --smooth S            dice_loss/iou_loss smoothing, numerator and
                        denominator (default 1e-6)
  --smooth-nr S, --smooth-dr S   set them apart (as MONAI does)
  --alpha A, --beta B   tversky_loss weights of FP and FN (default 0.5, 0.5)
  --tversky-smooth S    tversky_loss smoothing, both terms (default 1e-5)
  --gamma G             focal_loss focusing (default 2; 0 gives bce)
  --focal-alpha A       focal_loss positive-class weight (default: none)
  --empty nan|zero|one  value of a hard metric whose denominator is zero,
                        e.g. Dice when both masks are empty (default nan)
  --labels L1,L2,...    labels to report one-vs-rest (label maps or a
                        C-channel prediction); default: all labels present
  --axis d|h|w          slicing axis (z|y|x also accepted; default: d, the
                        slowest spatial axis)

Surface distances (hd, hd95, assd, nsd; in mm, between the hard masks):
  --percentile P        the percentile of hd95 (default 95)
  --hd-rule max|pooled|mean   max: larger of the two directed percentiles
                        (MONAI, default); pooled: one percentile over both
                        directions (medpy, seg-metrics); mean: mean of the two
                        (plastimatch)
  --nsd-tolerance MM    tolerance tau of nsd (required for nsd)
  --surface voxel|subvoxel   voxel: boundary voxels' centres (MONAI, default);
                        subvoxel: area-weighted surface elements on voxel
                        corners (DeepMind surface-distance)
  --spacing X,Y,Z       voxel spacing in mm (default: from the header, else 1);
                        X,Y for 2D data

Reading:
  --layout auto|nhw     a 3D .npy/.npz array is [D,H,W] (auto) or a batch of
                        2D masks [N,H,W] (nhw)
  --key NAME            the array to read from .npz files
  --pred-key NAME, --target-key NAME   the same, per file
  --ignore-geometry     do not require equal spacing/origin/direction
  --allow-outside-data  let NRRD/MetaImage headers name data files outside
                        their folder (absolute or '..' paths; refused by
                        default; also MASKLENS_ALLOW_OUTSIDE_DATA=1)

Output:
  --no-slices           per-sample, per-label and batch values only (no
                        per-slice rows; surface distances then cost half)
  --format table|json|csv   (default table)
  --output FILE         write there (atomically) instead of standard output
  --device auto|cpu|cuda    compute device (default auto)
  --threads N           worker threads (default: all cores)
  --memory-limit SIZE   largest array a file may make MaskLens allocate, e.g.
                        8G (default: 3/4 of physical memory; also
                        MASKLENS_MEMORY_LIMIT)
  --help, --version

Exit status: 0 success, 1 bad input, 2 usage error.

usage: masklens-cli evaluate-folder PRED_DIR TARGET_DIR [evaluate's metric and
           reading options] [--pattern REGEX] [--per-slice] [--format json|csv]
           [--output FILE] [--jobs N] [--quiet] [--require-all] [--shard K/N]

Pairs the files of two folders by case id (the file name without its
extension: case_01.nii.gz pairs with case_01.npy), evaluates every pair and
writes one report: per case and per label values, failed cases with their
error, unpaired files, and a summary per metric over cases (mean, sample std,
median, min, max, valid count; NaN skipped, +inf kept).
  --pattern REGEX       ECMAScript regex searched in each file name; capture
                        group 1 is the case id (both folders)
  --pred-pattern REGEX, --target-pattern REGEX   the same, per folder
  --per-slice           add per-sample, per-slice (and per-label) values
  --format json|csv     default: csv when --output ends in .csv, else json
  --jobs N              pairs evaluated at once (default 1); --threads is
                        shared among them
  --quiet, -q           no progress bar (shown only when stderr is a terminal)
  --require-all         unpaired files make the exit status 1
  --shard K/N           evaluate shard K (1-based, 1 <= K <= N) of N: the
                        pairs at positions K-1, K-1+N, ... of the case ids in
                        sorted order; writes JSON for merge
Exit status: 0 every case evaluated, 1 some case failed (or no pairs, or a
folder cannot be read), 2 usage error.

usage: masklens-cli merge SHARD.json... [-o FILE] [--format json|csv] [--quiet]

Combines the JSON outputs of all N shards (--shard K/N) into the report one
run without --shard writes (same cases, order and summary). Refuses shards
whose options, folders or file listing differ, and missing or repeated
shards. Exit status as evaluate-folder: 1 when some merged case failed.
)";
    return text;
}

namespace {

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

// One option argument, "--name" or "--name=value", at arguments[index];
// value() returns the inline value or consumes the next argument.
class OptionArgument {
public:
    OptionArgument(const std::vector<std::string>& arguments, std::size_t& index)
        : arguments_(arguments), index_(index), name_(arguments[index])
    {
        if (const auto equals = name_.find('='); equals != std::string::npos) {
            inline_value_ = name_.substr(equals + 1);
            name_.resize(equals);
        }
    }
    const std::string& name() const noexcept { return name_; }
    bool has_inline_value() const noexcept { return inline_value_.has_value(); }
    std::string value()
    {
        if (inline_value_) {
            return *inline_value_;
        }
        if (index_ + 1 >= arguments_.size()) {
            throw_usage_error(name_ + " needs a value");
        }
        return arguments_[++index_];
    }

private:
    const std::vector<std::string>& arguments_;
    std::size_t& index_;
    std::string name_;
    std::optional<std::string> inline_value_;
};

// An option only some commands take: returns true when it consumed `name`.
// `value` fetches the option's value; `inline_value` says whether one was
// given with '='.
using ExtraOption = std::function<bool(const std::string& name, const std::function<std::string()>& value,
                                       bool inline_value)>;

// The options of `evaluate` (shared by evaluate-folder), from arguments[1].
EvaluateCommand parse_evaluation_options(const std::vector<std::string>& arguments,
                                         std::vector<std::string>& positional, const ExtraOption& extra,
                                         const std::function<void()>& check_positional)
{
    EvaluateCommand command;
    std::optional<std::string> smooth, smooth_nr, smooth_dr;
    std::string metrics_text = "default", axis_text = "d", empty_text = "nan", layout_text = "auto";
    std::string device_text = "auto", format_text = "table", labels_text, hd_rule_text = "max",
                surface_text = "voxel";
    std::string class_reduction_text = "pooled", batch_reduction_text = "mean", gdl_weight_text = "square";
    std::optional<Activation> activation;
    std::optional<Decision> decision;
    bool threshold_given = false, logits_given = false;
    for (std::size_t i = 1; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        const bool short_option = argument == "-o" || argument == "-q";
        if (!short_option && (argument.size() < 2 || argument.compare(0, 2, "--") != 0)) {
            positional.push_back(argument);
            continue;
        }
        OptionArgument option(arguments, i);
        const std::string name = option.name();
        auto value = [&option]() -> std::string { return option.value(); };
        MetricOptions& metric = command.statistics.metric;
        if (extra && extra(name, value, option.has_inline_value())) {
            continue;
        }
        if (name == "--metrics") {
            metrics_text = value();
            command.statistics.metrics = parse_metric_list(metrics_text);
        } else if (name == "--threshold") {
            metric.threshold = parse_number(name, value());
            threshold_given = true;
        } else if (name == "--logits") {
            logits_given = true;
        } else if (name == "--activation") {
            activation = parse_activation(value());
        } else if (name == "--decision") {
            decision = parse_decision(value());
        } else if (name == "--class-reduction") {
            class_reduction_text = value();
            const std::array<std::pair<const char*, ClassReduction>, 3> choices{
                {{"pooled", ClassReduction::Pooled},
                 {"mean", ClassReduction::Mean},
                 {"sum", ClassReduction::Sum}}};
            metric.class_reduction = parse_choice(name, class_reduction_text, choices);
        } else if (name == "--batch-reduction") {
            batch_reduction_text = value();
            const std::array<std::pair<const char*, BatchReduction>, 2> choices{
                {{"mean", BatchReduction::Mean}, {"sum", BatchReduction::Sum}}};
            metric.batch_reduction = parse_choice(name, batch_reduction_text, choices);
        } else if (name == "--gdl-weight") {
            gdl_weight_text = value();
            const std::array<std::pair<const char*, GdlWeight>, 3> choices{{{"square", GdlWeight::Square},
                                                                            {"simple", GdlWeight::Simple},
                                                                            {"uniform", GdlWeight::Uniform}}};
            metric.gdl_weight = parse_choice(name, gdl_weight_text, choices);
        } else if (name == "--lambda-dice") {
            metric.lambda_dice = parse_number(name, value());
        } else if (name == "--lambda-ce") {
            metric.lambda_ce = parse_number(name, value());
        } else if (name == "--pool-batch") {
            metric.pool_batch = true;
        } else if (name == "--include-background") {
            command.statistics.include_background = true;
        } else if (name == "--ignore-empty-target") {
            metric.ignore_empty_target = true;
        } else if (name == "--smooth") {
            smooth = value();
        } else if (name == "--smooth-nr") {
            smooth_nr = value();
        } else if (name == "--smooth-dr") {
            smooth_dr = value();
        } else if (name == "--alpha") {
            metric.tversky_alpha = parse_number(name, value());
        } else if (name == "--beta") {
            metric.tversky_beta = parse_number(name, value());
        } else if (name == "--tversky-smooth") {
            metric.tversky_smooth_nr = metric.tversky_smooth_dr = parse_number(name, value());
        } else if (name == "--gamma") {
            metric.focal_gamma = parse_number(name, value());
            if (metric.focal_gamma < 0) {
                throw_usage_error("--gamma must be >= 0");
            }
        } else if (name == "--focal-alpha") {
            metric.focal_alpha = parse_number(name, value());
            if (*metric.focal_alpha < 0 || *metric.focal_alpha > 1) {
                throw_usage_error("--focal-alpha must lie in [0, 1]");
            }
        } else if (name == "--percentile") {
            metric.hd_percentile = parse_number(name, value());
            if (metric.hd_percentile < 0 || metric.hd_percentile > 100) {
                throw_usage_error("--percentile must lie in [0, 100]");
            }
        } else if (name == "--nsd-tolerance") {
            metric.nsd_tolerance_mm = parse_number(name, value());
            if (*metric.nsd_tolerance_mm < 0) {
                throw_usage_error("--nsd-tolerance must be >= 0 (mm)");
            }
        } else if (name == "--hd-rule") {
            hd_rule_text = value();
            if (hd_rule_text == "max") {
                metric.hd_rule = HausdorffRule::Max;
            } else if (hd_rule_text == "pooled") {
                metric.hd_rule = HausdorffRule::Pooled;
            } else if (hd_rule_text == "mean") {
                metric.hd_rule = HausdorffRule::Mean;
            } else {
                throw_usage_error("--hd-rule must be max, pooled or mean, not '" + hd_rule_text + "'");
            }
        } else if (name == "--surface") {
            surface_text = value();
            if (surface_text == "voxel") {
                metric.surface = SurfaceMode::Voxel;
            } else if (surface_text == "subvoxel") {
                metric.surface = SurfaceMode::Subvoxel;
            } else {
                throw_usage_error("--surface must be voxel or subvoxel, not '" + surface_text + "'");
            }
        } else if (name == "--spacing") {
            const std::string text = value();
            std::stringstream list(text);
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
                                  text + "'");
            }
            metric.spacing = spacing;
        } else if (name == "--empty") {
            empty_text = value();
            if (empty_text == "nan") {
                metric.empty = EmptyPolicy::Nan;
            } else if (empty_text == "zero") {
                metric.empty = EmptyPolicy::Zero;
            } else if (empty_text == "one") {
                metric.empty = EmptyPolicy::One;
            } else {
                throw_usage_error("--empty must be nan, zero or one, not '" + empty_text + "'");
            }
        } else if (name == "--labels") {
            labels_text = value();
            std::stringstream list(labels_text);
            std::string item;
            while (std::getline(list, item, ',')) {
                command.statistics.labels.push_back(parse_integer(name, item));
            }
            if (command.statistics.labels.empty()) {
                throw_usage_error("--labels needs at least one label");
            }
        } else if (name == "--axis") {
            axis_text = value();
            if (axis_text == "d" || axis_text == "z") {
                command.statistics.axis = SliceAxis::D;
            } else if (axis_text == "h" || axis_text == "y") {
                command.statistics.axis = SliceAxis::H;
            } else if (axis_text == "w" || axis_text == "x") {
                command.statistics.axis = SliceAxis::W;
            } else {
                throw_usage_error("--axis must be d, h or w (or z, y, x), not '" + axis_text + "'");
            }
        } else if (name == "--layout") {
            layout_text = value();
            if (layout_text == "auto") {
                command.prediction_read.layout = command.target_read.layout = io::Layout::Auto;
            } else if (layout_text == "nhw" || layout_text == "NHW") {
                command.prediction_read.layout = command.target_read.layout = io::Layout::NHW;
            } else {
                throw_usage_error("--layout must be auto or nhw, not '" + layout_text + "'");
            }
        } else if (name == "--key") {
            command.prediction_read.npz_key = command.target_read.npz_key = value();
        } else if (name == "--pred-key") {
            command.prediction_read.npz_key = value();
        } else if (name == "--target-key") {
            command.target_read.npz_key = value();
        } else if (name == "--ignore-geometry") {
            command.ignore_geometry = true;
        } else if (name == "--no-slices") {
            command.slices = false;
            command.statistics.slice_distances = false;
        } else if (name == "--device") {
            device_text = value();
            command.device = gpu::parse_device_choice(device_text);
        } else if (name == "--format") {
            format_text = value();
            command.format_given = true;
            if (format_text == "table") {
                command.format = OutputFormat::Table;
            } else if (format_text == "json") {
                command.format = OutputFormat::Json;
            } else if (format_text == "csv") {
                command.format = OutputFormat::Csv;
            } else {
                throw_usage_error("--format must be table, json or csv, not '" + format_text + "'");
            }
        } else if (name == "--output" || name == "-o") {
            command.output_path = value();
        } else if (name == "--memory-limit") {
            set_memory_cap_bytes(parse_byte_size(value(), name));
        } else if (name == "--allow-outside-data") {
            io::set_outside_data_allowed(true);
        } else if (name == "--threads") {
            const auto threads = parse_integer(name, value());
            if (threads < 0 || threads > 1024) {
                throw_usage_error("--threads must be between 0 (all cores) and 1024");
            }
            command.statistics.threads = static_cast<int>(threads);
        } else {
            throw_usage_error("unknown option '" + name + "' (see --help)");
        }
        if (option.has_inline_value() &&
            (name == "--logits" || name == "--ignore-geometry" || name == "--allow-outside-data" ||
             name == "--no-slices" || name == "--include-background" || name == "--ignore-empty-target" ||
             name == "--pool-batch")) {
            throw_usage_error(name + " takes no value");
        }
    }
    check_positional();
    command.prediction_path = positional[0];
    command.target_path = positional[1];
    MetricOptions& metric = command.statistics.metric;
    if (logits_given && activation && *activation != Activation::Sigmoid) {
        throw_usage_error("--logits means --activation sigmoid; it cannot be combined with --activation " +
                          std::string(activation_name(*activation)));
    }
    metric.activation = logits_given ? Activation::Sigmoid : activation.value_or(Activation::None);
    metric.decision =
        decision.value_or(metric.activation == Activation::Softmax ? Decision::Argmax : Decision::Threshold);
    if (metric.decision == Decision::Argmax && threshold_given) {
        throw_usage_error("--decision argmax takes no --threshold (each voxel is the channel of largest "
                          "probability); use --decision threshold to threshold each channel");
    }
    if (smooth) {
        metric.smooth_nr = metric.smooth_dr = parse_number("--smooth", *smooth);
    }
    if (smooth_nr) {
        metric.smooth_nr = parse_number("--smooth-nr", *smooth_nr);
    }
    if (smooth_dr) {
        metric.smooth_dr = parse_number("--smooth-dr", *smooth_dr);
    }
    if (command.statistics.metrics.empty()) {
        command.statistics.metrics = default_metrics();
    }
    auto& metrics = command.statistics.metrics;
    if (!metric.nsd_tolerance_mm) {
        // 'all' means every metric that can be computed with the options given;
        // a metric named explicitly without its tolerance is a usage error.
        for (auto it = metrics.begin(); it != metrics.end();) {
            const MetricInfo& info = metric_info(*it);
            if (!info.needs_tolerance) {
                ++it;
            } else if (!metric_list_names(metrics_text, info.name)) {
                it = metrics.erase(it);
            } else {
                throw_usage_error(std::string(info.name) +
                                  " needs --nsd-tolerance (the tolerance tau in mm)");
            }
        }
    }

    std::ostringstream json;
    json << "{\"metrics\": [";
    for (std::size_t m = 0; m < command.statistics.metrics.size(); ++m) {
        json << (m ? ", " : "") << json_text(std::string(metric_name(command.statistics.metrics[m])));
    }
    json << "], \"threshold\": " << json_number(metric.threshold)
         << ", \"logits\": " << (metric.logits() ? "true" : "false")
         << ", \"smooth_nr\": " << json_number(metric.smooth_nr)
         << ", \"smooth_dr\": " << json_number(metric.smooth_dr)
         << ", \"tversky_alpha\": " << json_number(metric.tversky_alpha)
         << ", \"tversky_beta\": " << json_number(metric.tversky_beta)
         << ", \"tversky_smooth\": " << json_number(metric.tversky_smooth_nr)
         << ", \"focal_gamma\": " << json_number(metric.focal_gamma) << ", \"focal_alpha\": "
         << (metric.focal_alpha ? json_number(*metric.focal_alpha) : std::string("null"))
         << ", \"hd_percentile\": " << json_number(metric.hd_percentile)
         << ", \"hd_rule\": " << json_text(hd_rule_text) << ", \"surface\": " << json_text(surface_text)
         << ", \"nsd_tolerance\": "
         << (metric.nsd_tolerance_mm ? json_number(*metric.nsd_tolerance_mm) : std::string("null"))
         << ", \"spacing\": "
         << (metric.spacing
                 ? std::string("[") + json_number((*metric.spacing)[0]) + ", " +
                       json_number((*metric.spacing)[1]) +
                       ((*metric.spacing)[2] > 0 ? ", " + json_number((*metric.spacing)[2]) : std::string()) +
                       "]"
                 : std::string("null"))
         << ", \"empty\": " << json_text(empty_text) << ", \"axis\": " << json_text(axis_text)
         << ", \"layout\": " << json_text(layout_text)
         << ", \"ignore_geometry\": " << (command.ignore_geometry ? "true" : "false")
         << ", \"slices\": " << (command.slices ? "true" : "false") << ", \"labels\": [";
    for (std::size_t l = 0; l < command.statistics.labels.size(); ++l) {
        json << (l ? ", " : "") << command.statistics.labels[l];
    }
    json << "], \"activation\": " << json_text(std::string(activation_name(metric.activation)))
         << ", \"decision\": " << json_text(std::string(decision_name(metric.decision)))
         << ", \"include_background\": " << (command.statistics.include_background ? "true" : "false")
         << ", \"ignore_empty_target\": " << (metric.ignore_empty_target ? "true" : "false")
         << ", \"class_reduction\": " << json_text(class_reduction_text)
         << ", \"batch_reduction\": " << json_text(batch_reduction_text)
         << ", \"gdl_weight\": " << json_text(gdl_weight_text)
         << ", \"lambda_dice\": " << json_number(metric.lambda_dice)
         << ", \"lambda_ce\": " << json_number(metric.lambda_ce)
         << ", \"pool_batch\": " << (metric.pool_batch ? "true" : "false") << "}";
    command.options_json = json.str();
    return command;
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

void no_value(const std::string& name, bool inline_value)
{
    if (inline_value) {
        throw_usage_error(name + " takes no value");
    }
}

FolderCommand parse_folder(const std::vector<std::string>& arguments)
{
    FolderCommand folder;
    std::optional<std::string> pattern;
    std::vector<std::string> positional;
    const ExtraOption extra = [&](const std::string& name, const std::function<std::string()>& value,
                                  bool inline_value) {
        if (name == "--pattern") {
            pattern = value();
        } else if (name == "--pred-pattern") {
            folder.prediction_pattern = value();
        } else if (name == "--target-pattern") {
            folder.target_pattern = value();
        } else if (name == "--per-slice") {
            no_value(name, inline_value);
            folder.per_slice = true;
        } else if (name == "--quiet" || name == "-q") {
            no_value(name, inline_value);
            folder.quiet = true;
        } else if (name == "--require-all") {
            no_value(name, inline_value);
            folder.require_all = true;
        } else if (name == "--jobs") {
            folder.jobs = parse_bounded(name, value(), 1, 256);
        } else if (name == "--shard") {
            const std::string text = value();
            const auto slash = text.find('/');
            if (slash == std::string::npos) {
                throw_usage_error("--shard needs K/N (1 <= K <= N), not '" + text + "'");
            }
            folder.shard_count = parse_bounded("--shard", text.substr(slash + 1), 1, 1000000);
            folder.shard_index = parse_bounded("--shard", text.substr(0, slash), 1, folder.shard_count);
        } else {
            return false;
        }
        return true;
    };
    folder.evaluate = parse_evaluation_options(arguments, positional, extra, [&] {
        if (positional.size() != 2) {
            throw_usage_error("evaluate-folder needs exactly two folders, PRED_DIR and TARGET_DIR (got " +
                              std::to_string(positional.size()) + ")");
        }
    });
    if (pattern) {
        if (folder.prediction_pattern.empty()) {
            folder.prediction_pattern = *pattern;
        }
        if (folder.target_pattern.empty()) {
            folder.target_pattern = *pattern;
        }
    }
    EvaluateCommand& command = folder.evaluate;
    const std::string& output = command.output_path;
    if (!command.format_given) {
        const bool csv = output.size() >= 4 && output.compare(output.size() - 4, 4, ".csv") == 0;
        command.format = csv ? OutputFormat::Csv : OutputFormat::Json;
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
    std::string& json = command.options_json;
    json.pop_back();
    json += ", \"pred_pattern\": " + json_quote(folder.prediction_pattern) +
            ", \"target_pattern\": " + json_quote(folder.target_pattern) +
            ", \"pred_key\": " + json_quote(command.prediction_read.npz_key) +
            ", \"target_key\": " + json_quote(command.target_read.npz_key) +
            ", \"per_slice\": " + (folder.per_slice ? "true" : "false") + "}";
    return folder;
}

MergeCommand parse_merge(const std::vector<std::string>& arguments)
{
    MergeCommand merge;
    bool format_given = false;
    for (std::size_t i = 1; i < arguments.size(); ++i) {
        const std::string& argument = arguments[i];
        if (argument.size() < 2 || argument[0] != '-') {
            merge.inputs.push_back(argument);
            continue;
        }
        OptionArgument option(arguments, i);
        const std::string name = option.name();
        auto value = [&option]() -> std::string { return option.value(); };
        if (name == "-o" || name == "--output") {
            merge.output_path = value();
        } else if (name == "--format") {
            const std::string format = value();
            format_given = true;
            if (format == "json") {
                merge.format = OutputFormat::Json;
            } else if (format == "csv") {
                merge.format = OutputFormat::Csv;
            } else {
                throw_usage_error("--format must be json or csv, not '" + format + "'");
            }
        } else if (name == "--quiet" || name == "-q") {
            no_value(name, option.has_inline_value());
            merge.quiet = true;
        } else {
            throw_usage_error("unknown option '" + name + "' for merge (see --help)");
        }
    }
    if (merge.inputs.empty()) {
        throw_usage_error("merge needs the shard outputs (JSON files written with --shard)");
    }
    const std::string& output = merge.output_path;
    if (!format_given && output.size() >= 4 && output.compare(output.size() - 4, 4, ".csv") == 0) {
        merge.format = OutputFormat::Csv;
    }
    return merge;
}

} // namespace

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
        return parsed;
    }
    if (arguments[0] == "merge") {
        parsed.merge = parse_merge(arguments);
        return parsed;
    }
    if (arguments[0] != "evaluate") {
        throw_usage_error("unknown command '" + arguments[0] +
                          "'; the commands are 'evaluate', 'evaluate-folder' and 'merge'");
    }
    std::vector<std::string> positional;
    parsed.evaluate = parse_evaluation_options(arguments, positional, {}, [&] {
        if (positional.size() != 2) {
            throw_usage_error("evaluate needs exactly two files, PREDICTION and TARGET (got " +
                              std::to_string(positional.size()) + ")");
        }
    });
    return parsed;
}

} // namespace masklens::cli
