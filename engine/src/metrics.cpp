#include "masklens/engine/metrics.h"

#include "masklens/engine/error.h"

#include <array>
#include <limits>

namespace masklens {

namespace {

// Why a value is NaN. Readers of reports depend on the prefix "undefined".
constexpr std::string_view kZeroDenominator = "undefined: zero denominator (empty masks, see --empty)";
constexpr std::string_view kEmptyTarget =
    "undefined: zero denominator or empty target (empty masks, see --empty, --ignore-empty-target)";
constexpr std::string_view kBothEmpty = "undefined: both masks empty";
constexpr std::string_view kNsdUndefined = "undefined: both masks empty, or no --nsd-tolerance";
constexpr std::string_view kNoLesions =
    "undefined: no lesion on the side divided by (see --empty), or per slice (lesions are per sample)";
constexpr std::string_view kNoLesionPairs =
    "undefined: no lesions on either side, --lesion-match overlap (not one-to-one), or per slice";
constexpr std::string_view kNeedsClasses =
    "undefined: needs a C-channel prediction against classes (a label map or a one-hot target)";

using F = MetricFamily;
using B = BatchCombination;
using R = ValueRange;

// clang-format off
// metric, name, family, batch, higher_is_worse, unit, per_label, combines_classes,
// needs_probabilities, needs_tolerance, in_defaults, nan_reason, summary[, range]
constexpr std::array<MetricInfo, kMetricCount> kTable = {{
    {Metric::Bce, "bce", F::PerElement, B::ElementMean, true, "", false, false, true, false, true, kZeroDenominator,
     "binary cross-entropy, mean over elements (PyTorch; logs clamped at -100)"},
    {Metric::Mse, "mse", F::PerElement, B::ElementMean, true, "", false, false, false, false, true, kZeroDenominator,
     "mean squared error (PyTorch mse_loss)"},
    {Metric::Mae, "mae", F::PerElement, B::ElementMean, true, "", false, false, false, false, true, kZeroDenominator,
     "mean absolute error (PyTorch l1_loss)"},
    {Metric::FocalLoss, "focal_loss", F::PerElement, B::ElementMean, true, "", false, false, true, false, false, kZeroDenominator,
     "focal loss, mean over elements (torchvision sigmoid_focal_loss form)"},
    {Metric::DiceLoss, "dice_loss", F::OverlapLoss, B::SampleMean, true, "", true, false, false, false, true, kZeroDenominator,
     "soft Dice loss 1 - (2 S_pt + s_nr) / (S_p + S_t + s_dr) per sample", R::UnitInterval},
    {Metric::IouLoss, "iou_loss", F::OverlapLoss, B::SampleMean, true, "", true, false, false, false, true, kZeroDenominator,
     "soft IoU (Jaccard) loss per sample", R::UnitInterval},
    {Metric::TverskyLoss, "tversky_loss", F::OverlapLoss, B::SampleMean, true, "", true, false, false, false, false, kZeroDenominator,
     "Tversky loss with FP weight alpha and FN weight beta (MONAI TverskyLoss)"},
    {Metric::Dice, "dice", F::Overlap, B::SampleMean, false, "", true, false, false, false, true, kEmptyTarget,
     "Dice coefficient of the hard masks 2 TP / (2 TP + FP + FN)", R::UnitInterval},
    {Metric::Iou, "iou", F::Overlap, B::SampleMean, false, "", true, false, false, false, true, kEmptyTarget,
     "intersection over union of the hard masks TP / (TP + FP + FN)", R::UnitInterval},
    {Metric::Precision, "precision", F::Overlap, B::SampleMean, false, "", true, false, false, false, true, kZeroDenominator,
     "TP / (TP + FP)", R::UnitInterval},
    {Metric::Recall, "recall", F::Overlap, B::SampleMean, false, "", true, false, false, false, true, kZeroDenominator,
     "sensitivity TP / (TP + FN)", R::UnitInterval},
    {Metric::Specificity, "specificity", F::Overlap, B::SampleMean, false, "", true, false, false, false, false, kZeroDenominator,
     "TN / (TN + FP)", R::UnitInterval},
    {Metric::Tp, "tp", F::Count, B::Sum, false, "", true, false, false, false, false, kZeroDenominator,
     "true positive voxels"},
    {Metric::Fp, "fp", F::Count, B::Sum, true, "", true, false, false, false, false, kZeroDenominator,
     "false positive voxels"},
    {Metric::Fn, "fn", F::Count, B::Sum, true, "", true, false, false, false, false, kZeroDenominator,
     "false negative voxels"},
    {Metric::Tn, "tn", F::Count, B::Sum, false, "", true, false, false, false, false, kZeroDenominator,
     "true negative voxels"},
    {Metric::Hd, "hd", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "Hausdorff distance, the larger directed maximum"},
    {Metric::Hd95, "hd95", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "percentile Hausdorff distance (--percentile, --hd-rule)"},
    {Metric::Assd, "assd", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "average symmetric surface distance"},
    {Metric::Nsd, "nsd", F::Distance, B::SampleMean, false, "", true, false, false, true, false, kNsdUndefined,
     "normalised surface Dice: the surface fraction within the tolerance", R::UnitInterval},
    {Metric::Ce, "ce", F::PerElement, B::ElementMean, true, "", false, true, false, false, false, kNeedsClasses,
     "cross-entropy over classes (PyTorch cross_entropy)"},
    {Metric::DiceCe, "dice_ce", F::Combined, B::SampleMean, true, "", false, true, false, false, false, kNeedsClasses,
     "lambda_dice * per-class dice_loss + lambda_ce * ce (MONAI DiceCELoss)"},
    {Metric::GeneralizedDiceLoss, "generalized_dice_loss", F::OverlapLoss, B::SampleMean, true, "", false, true, false, false, false, kNeedsClasses,
     "class-weighted Dice loss (MONAI GeneralizedDiceLoss, --gdl-weight)", R::UnitInterval},
    {Metric::HdP2t, "hd_p2t", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "largest distance from the prediction's surface to the target's"},
    {Metric::HdT2p, "hd_t2p", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "largest distance from the target's surface to the prediction's"},
    {Metric::Hd95P2t, "hd95_p2t", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "percentile of the prediction-to-target distances"},
    {Metric::Hd95T2p, "hd95_t2p", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "percentile of the target-to-prediction distances"},
    {Metric::AsdP2t, "asd_p2t", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "mean distance from the prediction's surface to the target's"},
    {Metric::AsdT2p, "asd_t2p", F::Distance, B::SampleMean, true, "mm", true, false, false, false, false, kBothEmpty,
     "mean distance from the target's surface to the prediction's"},
    {Metric::LesionTp, "lesion_tp", F::Lesion, B::Sum, false, "", true, false, false, false, false, kNoLesions,
     "target lesions matched by a predicted lesion (--lesion-match)"},
    {Metric::LesionFp, "lesion_fp", F::Lesion, B::Sum, true, "", true, false, false, false, false, kNoLesions,
     "predicted lesions matching no target lesion"},
    {Metric::LesionFn, "lesion_fn", F::Lesion, B::Sum, true, "", true, false, false, false, false, kNoLesions,
     "target lesions matched by no predicted lesion"},
    {Metric::LesionPrecision, "lesion_precision", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesions,
     "matched predicted lesions / predicted lesions", R::UnitInterval},
    {Metric::LesionRecall, "lesion_recall", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesions,
     "matched target lesions / target lesions (lesion sensitivity)", R::UnitInterval},
    {Metric::LesionF1, "lesion_f1", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesions,
     "harmonic mean of lesion_precision and lesion_recall", R::UnitInterval},
    {Metric::Pq, "pq", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesionPairs,
     "panoptic quality sq * rq (panoptica)", R::UnitInterval},
    {Metric::Sq, "sq", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesionPairs,
     "segmentation quality: mean IoU of the matched lesion pairs", R::UnitInterval},
    {Metric::Rq, "rq", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesionPairs,
     "recognition quality tp / (tp + fp/2 + fn/2) over lesions", R::UnitInterval},
    {Metric::LesionDice, "lesion_dice", F::Lesion, B::SampleMean, false, "", true, false, false, false, false, kNoLesions,
     "mean Dice over target and false lesions (BraTS lesion-wise Dice)", R::UnitInterval},
    {Metric::LesionHd95, "lesion_hd95", F::Lesion, B::SampleMean, true, "mm", true, false, false, false, false, kNoLesions,
     "mean percentile Hausdorff distance over target and false lesions (--lesion-hd-penalty)"},
}};
// clang-format on

// The table is indexed by the enum: a row out of place would give one
// metric another's name, direction or unit.
constexpr bool table_in_enum_order()
{
    for (std::size_t i = 0; i < kTable.size(); ++i) {
        if (kTable[i].metric != static_cast<Metric>(i)) {
            return false;
        }
    }
    return true;
}
static_assert(table_in_enum_order(), "kTable rows must follow the Metric enum");

} // namespace

std::span<const MetricInfo> metric_table() noexcept
{
    return kTable;
}

const MetricInfo& metric_info(Metric metric) noexcept
{
    return kTable[static_cast<std::size_t>(metric)];
}

std::string_view empty_policy_name(EmptyPolicy policy) noexcept
{
    switch (policy) {
    case EmptyPolicy::Nan: return "nan";
    case EmptyPolicy::Zero: return "zero";
    case EmptyPolicy::One: return "one";
    }
    return "nan";
}

double empty_aware_ratio(double numerator, double denominator, EmptyPolicy policy) noexcept
{
    if (denominator == 0) {
        switch (policy) {
        case EmptyPolicy::Nan: return std::numeric_limits<double>::quiet_NaN();
        case EmptyPolicy::Zero: return 0.0;
        case EmptyPolicy::One: return 1.0;
        }
    }
    return numerator / denominator;
}

std::string_view metric_name(Metric metric) noexcept
{
    return metric_info(metric).name;
}

std::optional<Metric> parse_metric(std::string_view name) noexcept
{
    for (const MetricInfo& info : kTable) {
        if (info.name == name) {
            return info.metric;
        }
    }
    return std::nullopt;
}

std::vector<Metric> parse_metric_list(std::string_view list)
{
    std::vector<Metric> metrics;
    while (!list.empty()) {
        const auto comma = list.find(',');
        const std::string_view name = list.substr(0, comma);
        if (name == "all" || name == "lesion") {
            for (Metric metric : name == "all" ? all_metrics() : lesion_metrics()) {
                metrics.push_back(metric);
            }
        } else if (const auto metric = parse_metric(name)) {
            metrics.push_back(*metric);
        } else {
            std::string known;
            for (const MetricInfo& info : kTable) {
                known += (known.empty() ? "" : ", ") + std::string(info.name);
            }
            throw_usage_error("unknown metric '" + std::string(name) + "' (known: " + known + ", all)");
        }
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
    }
    if (metrics.empty()) {
        throw_usage_error("--metrics needs at least one metric");
    }
    // Keep the first occurrence of each metric, in the order given.
    std::vector<Metric> unique;
    for (Metric metric : metrics) {
        bool seen = false;
        for (Metric kept : unique) {
            seen = seen || kept == metric;
        }
        if (!seen) {
            unique.push_back(metric);
        }
    }
    return unique;
}

std::vector<Metric> default_metrics()
{
    std::vector<Metric> metrics;
    for (const MetricInfo& info : kTable) {
        if (info.in_defaults) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

std::vector<Metric> all_metrics()
{
    std::vector<Metric> metrics;
    for (const MetricInfo& info : kTable) {
        if (info.family != MetricFamily::Lesion) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

std::vector<Metric> lesion_metrics()
{
    std::vector<Metric> metrics;
    for (const MetricInfo& info : kTable) {
        if (info.family == MetricFamily::Lesion) {
            metrics.push_back(info.metric);
        }
    }
    return metrics;
}

} // namespace masklens
