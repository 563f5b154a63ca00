// The pass's plan and its end: how a pair is read (check_pair, the pairing's
// names), which terms it sums (term_needs), how it is laid out (plan_pass),
// and how its output becomes BatchStatistics (assemble_statistics: errors for
// range and label violations, the reported labels, the label regions).
#include "masklens/engine/pass_output.h"
#include "masklens/engine/statistics.h"

#include "masklens/engine/error.h"

#include "chunk_terms.h"

#include <algorithm>
#include <set>
#include <sstream>

namespace masklens {

namespace {

using detail::load_labels;
using detail::load_values;

std::string position_string(const Shape& shape, std::int64_t flat)
{
    const std::int64_t w = flat % shape.w;
    flat /= shape.w;
    const std::int64_t h = flat % shape.h;
    flat /= shape.h;
    const std::int64_t d = flat % shape.d;
    flat /= shape.d;
    const std::int64_t c = flat % shape.c;
    const std::int64_t n = flat / shape.c;
    std::ostringstream text;
    if (shape.spatial_dims == 2) {
        text << "[n=" << n << ", c=" << c << ", h=" << h << ", w=" << w << "]";
    } else {
        text << "[n=" << n << ", c=" << c << ", d=" << d << ", h=" << h << ", w=" << w << "]";
    }
    return text.str();
}

double value_at(const Volume& volume, std::int64_t flat)
{
    double value = 0;
    load_values<double>(volume, flat, 1, &value);
    if (is_label_type(volume.type())) {
        std::int64_t label = 0;
        load_labels(volume, flat, 1, &label);
        value = static_cast<double>(label);
    }
    return value;
}

} // namespace

const char* pairing_mode_name(PairingMode pairing) noexcept
{
    switch (pairing) {
    case PairingMode::Binary: return "binary";
    case PairingMode::LabelMaps: return "label_maps";
    case PairingMode::ChannelOneHot: return "channel_one_hot";
    case PairingMode::OneHotTarget: return "one_hot_target";
    }
    return "binary";
}

std::optional<PairingMode> parse_pairing_mode(const std::string& name) noexcept
{
    for (const PairingMode mode : {PairingMode::Binary, PairingMode::LabelMaps, PairingMode::ChannelOneHot,
                                   PairingMode::OneHotTarget}) {
        if (name == pairing_mode_name(mode)) {
            return mode;
        }
    }
    return std::nullopt;
}

PairingMode check_pair(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    const Shape& p = prediction.shape();
    const Shape& t = target.shape();
    const bool spatial_equal =
        p.n == t.n && p.d == t.d && p.h == t.h && p.w == t.w && p.spatial_dims == t.spatial_dims;
    PairingMode pairing = PairingMode::Binary;
    check_rule(options.metric.rule(), prediction);
    if (spatial_equal && p.c == t.c) {
        if (p.c == 1 && is_label_type(prediction.type()) && is_label_type(target.type())) {
            pairing = PairingMode::LabelMaps;
        } else if (p.c > 1 && options.metric.rule().exclusive_classes()) {
            pairing = PairingMode::OneHotTarget; // exclusive classes: the target must be one-hot
        }
    } else if (spatial_equal && t.c == 1 && p.c > 1 &&
               (is_floating(prediction.type()) || options.metric.rule().exclusive_classes()) &&
               is_label_type(target.type())) {
        // (An integer C-channel prediction is a one-hot prediction: argmax.)
        pairing = PairingMode::ChannelOneHot;
    } else {
        throw_input_error(target.source(), "shape " + t.to_string() + " does not match the prediction's " +
                                               p.to_string() + " (" + prediction.source() +
                                               "); shapes must be equal, or the prediction [N,C,...] with "
                                               "C channels and the target an integer label map [N,1,...]");
    }
    if (!options.labels.empty()) {
        if (pairing == PairingMode::Binary) {
            throw_usage_error("--labels needs label maps (integer prediction and target) or a C-channel "
                              "prediction with an integer target");
        }
        for (std::int64_t label : options.labels) {
            const bool channels =
                pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
            if (label < 0 || label > kMaxLabel || (channels && label >= p.c)) {
                throw_usage_error("--labels: label " + std::to_string(label) + " is out of range" +
                                  (channels ? " (the prediction has " + std::to_string(p.c) + " channels)"
                                            : std::string()));
            }
        }
    }
    return pairing;
}

TermNeeds term_needs(const std::vector<Metric>& requested, const MetricOptions& options, PairingMode pairing,
                     bool integer_target)
{
    TermNeeds needs;
    for (Metric metric : requested.empty() ? all_metrics() : requested) {
        switch (metric) {
        case Metric::Bce: needs.bce = true; break;
        case Metric::FocalLoss: needs.focal = true; break;
        case Metric::Mse: needs.squared = true; break;
        case Metric::Mae: needs.absolute = true; break;
        case Metric::DiceLoss:
        case Metric::IouLoss:
        case Metric::TverskyLoss: needs.overlap = true; break;
        case Metric::GeneralizedDiceLoss: needs.overlap = true; break;
        case Metric::DiceCe: needs.overlap = needs.cross_entropy = true; break;
        case Metric::Ce: needs.cross_entropy = true; break;
        default:
            if (is_distance_metric(metric) || is_lesion_metric(metric)) {
                break; // from the masks, after the pass (surface_distance.h, lesions.h)
            }
            needs.hard = true;
            break;
        }
    }
    // Label statistics are built from the hard counts and overlap sums.
    if (pairing != PairingMode::Binary) {
        needs.hard = true;
        needs.overlap = true;
    }
    const bool classes = pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
    needs.cross_entropy = needs.cross_entropy && classes;
    const bool probability_logs = needs.bce || needs.focal || needs.cross_entropy;
    needs.range_check = probability_logs && options.activation == Activation::None;
    needs.nan_check = probability_logs && options.activation != Activation::None;
    needs.binary_target =
        integer_target || pairing == PairingMode::ChannelOneHot || pairing == PairingMode::OneHotTarget;
    return needs;
}

PassPlan plan_pass(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    PassPlan plan;
    plan.pairing = check_pair(prediction, target, options);
    const Shape& shape = prediction.shape();
    plan.axis = options.axis == SliceAxis::Default ? SliceAxis::D : options.axis;
    plan.slices_per_sample = plan.axis == SliceAxis::D   ? shape.d
                             : plan.axis == SliceAxis::H ? shape.h
                                                         : shape.w;
    plan.regions = shape.n * plan.slices_per_sample;
    // Channel labels: a C-channel prediction against classes, or several
    // binary channels (multi-label, e.g. BraTS's overlapping regions).
    plan.channel_labels = plan.pairing != PairingMode::LabelMaps && shape.c > 1 ? shape.c : 0;
    return plan;
}

namespace {

StatisticsOptions normalised(const StatisticsOptions& options)
{
    StatisticsOptions resolved = options;
    std::sort(resolved.labels.begin(), resolved.labels.end());
    resolved.labels.erase(std::unique(resolved.labels.begin(), resolved.labels.end()), resolved.labels.end());
    return resolved;
}

std::vector<std::int64_t> choose_labels(const StatisticsOptions& options, const PassPlan& plan,
                                        const PassOutput& output)
{
    if (!options.labels.empty()) {
        return options.labels; // validated by check_pair
    }
    std::vector<std::int64_t> labels;
    const std::int64_t first = options.include_background ? 0 : 1;
    if (plan.channel_labels > 0) {
        for (std::int64_t c = first; c < plan.channel_labels; ++c) {
            labels.push_back(c);
        }
    } else if (plan.pairing == PairingMode::LabelMaps) {
        std::set<std::int64_t> seen;
        for (const auto& region : output.sparse_labels) {
            for (const auto& [label, counts] : region.entries) {
                if (label >= first && (counts.predicted > 0 || counts.target > 0)) {
                    seen.insert(label);
                }
            }
        }
        // Binary masks ({0, 1}) have no per-label table unless the
        // background is asked for.
        if (!seen.empty() && (*seen.rbegin() > 1 || options.include_background)) {
            labels.assign(seen.begin(), seen.end());
        }
    }
    return labels;
}

} // namespace

void derive_background_label(PassOutput& output)
{
    for (std::size_t region = 0; region < output.sparse_labels.size(); ++region) {
        const RegionStats& binary = output.slices[region];
        LabelCounts& zero = output.sparse_labels[region].at(0);
        zero.predicted = binary.elements - binary.pred_positive;
        zero.target = binary.elements - binary.target_positive;
        zero.both = binary.true_negative();
    }
}

BatchStatistics assemble_statistics(const Volume& prediction, const Volume& target,
                                    const StatisticsOptions& options, const PassPlan& plan,
                                    PassOutput&& output)
{
    const Shape& shape = prediction.shape();
    const RangeViolation& range = output.range;
    if (range.count > 0) {
        std::ostringstream text;
        if (options.metric.activation != Activation::None) {
            text << range.count << " prediction value" << (range.count == 1 ? " is" : "s are")
                 << " NaN, first at " << position_string(shape, range.first_index)
                 << "; bce, focal_loss and ce need numbers";
        } else {
            text << range.count << " prediction value" << (range.count == 1 ? " is" : "s are")
                 << " outside [0, 1] or NaN, first at " << position_string(shape, range.first_index) << " = "
                 << value_at(prediction, range.first_index)
                 << "; bce, focal_loss and ce need probabilities (pass --logits or --activation softmax if "
                    "these are logits)";
        }
        throw_input_error(prediction.source(), text.str());
    }
    const LabelViolation& label_violation = output.labels;
    if (label_violation.count > 0) {
        const Volume& file = label_violation.in_prediction ? prediction : target;
        std::ostringstream text;
        text << label_violation.count << " label value" << (label_violation.count == 1 ? " is" : "s are")
             << " out of range, first " << label_violation.first_value << " at "
             << position_string(file.shape(), label_violation.first_index);
        if (plan.pairing == PairingMode::OneHotTarget ||
            (plan.pairing == PairingMode::ChannelOneHot && label_violation.in_prediction)) {
            // first_value: how many channels hold 1 there (-1: a value other than 0 and 1).
            std::ostringstream one_hot;
            one_hot << label_violation.count << " voxel" << (label_violation.count == 1 ? " is" : "s are")
                    << " not one-hot, first at " << position_string(file.shape(), label_violation.first_index)
                    << ": "
                    << (label_violation.first_value < 0
                            ? std::string("a value other than 0 and 1")
                            : std::to_string(label_violation.first_value) + " channels hold 1")
                    << "; with --activation softmax or --decision argmax a C-channel target, and an integer "
                       "C-channel prediction, must be one-hot (exactly one 1 per voxel, the rest 0)";
            throw_input_error(file.source(), one_hot.str());
        }
        if (plan.pairing == PairingMode::ChannelOneHot) {
            text << "; target labels must be 0.." << shape.c - 1 << " (one per prediction channel)";
        } else {
            text << "; labels must be 0.." << kMaxLabel;
        }
        throw_input_error(file.source(), text.str());
    }

    const StatisticsOptions resolved = normalised(options);
    BatchStatistics result;
    result.shape = shape;
    result.pairing = plan.pairing;
    result.axis = plan.axis;
    result.slices_per_sample = plan.slices_per_sample;
    result.labels = choose_labels(resolved, plan, output);
    result.slices = std::move(output.slices);
    const std::size_t label_count = result.labels.size();
    result.label_slices.assign(static_cast<std::size_t>(plan.regions) * label_count, RegionStats{});
    const std::int64_t region_voxels = shape.voxels_per_channel() / plan.slices_per_sample;
    for (std::int64_t region = 0; region < plan.regions; ++region) {
        for (std::size_t l = 0; l < label_count; ++l) {
            RegionStats& out = result.label_slices[static_cast<std::size_t>(region) * label_count + l];
            const std::int64_t label = result.labels[l];
            if (plan.channel_labels > 0) {
                out = output.channel_label_slices[static_cast<std::size_t>(region * shape.c + label)];
            } else {
                const LabelCounts counts = output.sparse_labels[static_cast<std::size_t>(region)].at(label);
                out.elements = region_voxels;
                out.pred_positive = counts.predicted;
                out.target_positive = counts.target;
                out.true_positive = counts.both;
                out.pred_sum = static_cast<double>(counts.predicted);
                out.target_sum = static_cast<double>(counts.target);
                out.overlap_sum = static_cast<double>(counts.both);
            }
        }
    }
    return result;
}

} // namespace masklens
