// The metrics MaskLens computes, their names and the options they take.
// Definitions (each mirrors a reference; see README "Metric definitions"):
//   bce          torch.nn.functional.binary_cross_entropy, mean; each log clamped at -100.
//                With logits: binary_cross_entropy_with_logits (stable form).
//   mse, mae     F.mse_loss, F.l1_loss (mean).
//   focal_loss   torchvision sigmoid_focal_loss form on probabilities, mean:
//                bce_elem * (1 - p_t)^gamma [* alpha_t], p_t = p t + (1-p)(1-t).
//   dice_loss    1 - (2 S_pt + s_nr) / (S_p + S_t + s_dr)   per sample (the seed's DiceLoss)
//   iou_loss     1 - (S_pt + s_nr) / (S_p + S_t - S_pt + s_dr)
//   tversky_loss 1 - (S_pt + t_nr) / (S_pt + a (S_p - S_pt) + b (S_t - S_pt) + t_dr) (MONAI TverskyLoss)
//   dice, iou, precision, recall, specificity, tp, fp, fn, tn: hard, at
//                prediction >= threshold and target > 0.5.
//   hd, hd95, assd, nsd  surface distances in mm between the hard masks
//                (surface_distance.h; MONAI definitions).
#pragma once

#include "masklens/engine/decision.h"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace masklens {

enum class Metric {
    Bce,
    Mse,
    Mae,
    FocalLoss,
    DiceLoss,
    IouLoss,
    TverskyLoss,
    Dice,
    Iou,
    Precision,
    Recall,
    Specificity,
    Tp,
    Fp,
    Fn,
    Tn,
    Hd,
    Hd95, // the percentile is MetricOptions::hd_percentile (95 by default)
    Assd,
    Nsd,
    // Multi-class losses (C-channel predictions against classes).
    Ce,                  // cross-entropy: F.cross_entropy (softmax) or nll of log p (probabilities)
    DiceCe,              // MONAI DiceCELoss: lambda_dice * per-class dice_loss + lambda_ce * ce
    GeneralizedDiceLoss, // MONAI GeneralizedDiceLoss (w_type square | simple | uniform)
    // Directed surface distances: from the prediction's surface to the
    // target's (p2t) and back (t2p).
    HdP2t,
    HdT2p,
    Hd95P2t,
    Hd95T2p,
    AsdP2t,
    AsdT2p,
    // Lesion-wise metrics (lesions.h): connected components of both hard
    // masks, matched by MetricOptions::lesion_match.
    LesionTp,        // target lesions matched
    LesionFp,        // predicted lesions unmatched
    LesionFn,        // target lesions unmatched
    LesionPrecision, // matched predicted lesions / predicted lesions
    LesionRecall,    // matched target lesions / target lesions
    LesionF1,        // harmonic mean of lesion precision and recall
    Pq,              // panoptic quality sq * rq (panoptica)
    Sq,              // segmentation quality: mean IoU of matched lesion pairs
    Rq,              // recognition quality tp / (tp + fp/2 + fn/2)
    LesionDice,      // mean Dice over target lesions and false lesions (BraTS lesion-wise Dice)
    LesionHd95,      // mean HD95 over target and false lesions, penalty for missed / false ones
};

// What kind of quantity a metric is; it decides how its values are formed.
enum class MetricFamily {
    PerElement,  // mean of an elementwise loss (bce, mse, mae, focal_loss, ce)
    OverlapLoss, // soft overlap loss from the sample's sums (dice_loss, iou_loss, tversky_loss, ...)
    Combined,    // weighted sum of other losses (dice_ce)
    Overlap,     // ratio of hard counts (dice, iou, precision, recall, specificity)
    Count,       // hard voxel count (tp, fp, fn, tn)
    Distance,    // between the hard masks' surfaces (hd, hd95, assd, nsd, directed ones)
    Lesion,      // from the connected components of the hard masks (lesion_*, pq, sq, rq)
};

// How a metric's batch value combines the samples (with --batch-reduction mean).
enum class BatchCombination {
    ElementMean, // the mean over every element of the batch, as PyTorch's reduction="mean"
    SampleMean,  // the mean over samples of the per-sample values, NaN skipped
    Sum,         // the sum over samples (counts, lesion counts)
};

// One row of the metric table: everything MaskLens knows about a metric
// besides its formula (evaluate.cpp) and the sums that formula reads
// (pass_plan.cpp term_needs). The CLI's validation and help, the JSON and
// CSV writers and the app's panel, chart, tables and "worst" choices read it.
// The values a metric can take when its inputs are probabilities in [0, 1]
// (the app's chart axes start from it; values outside still widen them).
enum class ValueRange { NonNegative, UnitInterval };

struct MetricInfo {
    Metric metric;
    std::string_view name; // as in --metrics, JSON keys and CSV columns
    MetricFamily family;
    BatchCombination batch;
    bool higher_is_worse;  // losses, fp, fn, distances; false for dice, iou, ..., nsd, tp, tn
    std::string_view unit; // "mm" or "" (dimensionless)
    // Also reported per label of label maps (C-channel pairs report every
    // metric per channel).
    bool per_label;
    // Needs a C-channel prediction against classes (label map or one-hot
    // target); NaN otherwise.
    bool combines_classes;
    bool needs_probabilities;    // takes logs of the prediction: values must lie in [0, 1]
    bool needs_tolerance;        // needs --nsd-tolerance; 'all' leaves it out without one
    bool in_defaults;            // in the default --metrics set
    std::string_view nan_reason; // why a value is NaN (JSON "null" reasons, the app's tooltips)
    std::string_view summary;    // one line for help texts and the app's tooltips
    ValueRange range = ValueRange::NonNegative; // rows name it only for [0, 1] metrics
};

// Every metric, in the order of the Metric enum.
std::span<const MetricInfo> metric_table() noexcept;
const MetricInfo& metric_info(Metric metric) noexcept;
inline constexpr int kMetricCount = 40;

std::string_view metric_name(Metric metric) noexcept;
// Parses one name ("dice_loss"); std::nullopt when unknown.
std::optional<Metric> parse_metric(std::string_view name) noexcept;
// Parses "bce,mse,dice"; throws Error(Usage) naming the unknown entry.
// "all" stands for all_metrics(), "lesion" for lesion_metrics().
std::vector<Metric> parse_metric_list(std::string_view list);
std::vector<Metric> default_metrics();
// Every metric but the lesion-wise ones (those are named, or "lesion").
std::vector<Metric> all_metrics();
std::vector<Metric> lesion_metrics();

// Shorthands for the table's columns.
// Batch value over every element (bce, mse, mae, focal_loss, ce).
inline bool is_elementwise_mean(Metric metric) noexcept
{
    return metric_info(metric).batch == BatchCombination::ElementMean;
}
// Counts: voxel counts (tp, fp, fn, tn) and lesion counts; summed over samples.
inline bool is_count(Metric metric) noexcept
{
    return metric_info(metric).batch == BatchCombination::Sum;
}
inline bool is_label_metric(Metric metric) noexcept
{
    return metric_info(metric).per_label;
}
inline bool needs_probabilities(Metric metric) noexcept
{
    return metric_info(metric).needs_probabilities;
}
// Whether a larger value is worse: the "worst" slice, sample and case, and
// the best entry of a comparison.
inline bool higher_is_worse(Metric metric) noexcept
{
    return metric_info(metric).higher_is_worse;
}
inline std::string_view metric_unit(Metric metric) noexcept
{
    return metric_info(metric).unit;
}
// ce, dice_ce, generalized_dice_loss: all classes together, no per-label value.
inline bool is_class_combination(Metric metric) noexcept
{
    return metric_info(metric).combines_classes;
}
// Surface-distance metrics (computed from the hard masks, not the pass's sums).
inline bool is_distance_metric(Metric metric) noexcept
{
    return metric_info(metric).family == MetricFamily::Distance;
}
// Lesion-wise metrics (computed from the masks' connected components).
inline bool is_lesion_metric(Metric metric) noexcept
{
    return metric_info(metric).family == MetricFamily::Lesion;
}

enum class EmptyPolicy { Nan, Zero, One };
// "nan", "zero", "one": the --empty value that selects it.
std::string_view empty_policy_name(EmptyPolicy policy) noexcept;
// numerator / denominator, where a zero denominator (empty masks) gives what
// `policy` says: the one rule for the hard metrics and the lesion rates.
double empty_aware_ratio(double numerator, double denominator, EmptyPolicy policy) noexcept;

// How hd95 combines the two directed distance sets.
enum class HausdorffRule {
    Max,    // larger of the two directed percentiles (MONAI default)
    Pooled, // one percentile over both directions pooled (medpy / seg-metrics)
    Mean,   // mean of the two directed percentiles (plastimatch)
};

// Which surfaces the distance metrics measure between.
enum class SurfaceMode {
    Voxel,    // boundary voxels' centres (MONAI, default)
    Subvoxel, // area-weighted surface elements on voxel corners (DeepMind surface-distance)
};
enum class SliceAxis { Default, D, H, W };

// How lesions (connected components) of prediction and target are matched
// (lesions.h): IoU >= lesion_iou one-to-one (panoptica), any overlap, or
// the BraTS 2023 rule (dilated target lesions).
enum class LesionMatch { Iou, Overlap, Brats };

// How a sample's overlap loss (dice_loss, iou_loss, tversky_loss) combines
// the classes of a C-channel prediction.
enum class ClassReduction {
    Pooled, // one ratio of sums over every channel (the seed's DiceLoss)
    Mean,   // mean over the reported classes of each class's loss (MONAI reduction="mean")
    Sum,    // sum over the reported classes (MONAI reduction="sum")
};
// How batch values combine the samples: mean (NaN skipped; elementwise
// losses over every element) or sum (MONAI / PyTorch reduction="sum").
enum class BatchReduction { Mean, Sum };
// GeneralizedDiceLoss class weights from each class's target sum G_c.
enum class GdlWeight { Square, Simple, Uniform }; // 1/G^2, 1/G, 1

struct MetricOptions {
    // How prediction values become probabilities and hard classes
    // (decision.h): the one rule every consumer applies.
    Activation activation = Activation::None; // Sigmoid: the prediction holds logits (--logits)
    Decision decision = Decision::Threshold;
    double threshold = 0.5;     // Decision::Threshold: hard prediction p >= threshold
    double smooth_nr = 1e-6;    // dice_loss / iou_loss numerator smoothing
    double smooth_dr = 1e-6;    // dice_loss / iou_loss denominator smoothing
    double tversky_alpha = 0.5; // weight of false positives
    double tversky_beta = 0.5;  // weight of false negatives
    double tversky_smooth_nr = 1e-5;
    double tversky_smooth_dr = 1e-5;
    ClassReduction class_reduction = ClassReduction::Pooled;
    BatchReduction batch_reduction = BatchReduction::Mean;
    GdlWeight gdl_weight = GdlWeight::Square;
    // The batch values of dice_loss, iou_loss, tversky_loss and
    // generalized_dice_loss from sums over the whole batch (per class)
    // instead of means over samples: MONAI's batch=True.
    bool pool_batch = false;
    double lambda_dice = 1.0; // dice_ce weights (MONAI DiceCELoss lambda_dice, lambda_ce)
    double lambda_ce = 1.0;
    double focal_gamma = 2.0;
    std::optional<double> focal_alpha;    // weight of the positive class, in [0, 1]
    EmptyPolicy empty = EmptyPolicy::Nan; // value of a hard metric with a zero denominator
    // MONAI's ignore_empty=True (DiceMetric, MeanIoU default): dice and iou
    // of a region whose target is empty are NaN, whatever was predicted.
    bool ignore_empty_target = false;
    double hd_percentile = 95; // percentile of hd95, in [0, 100]
    HausdorffRule hd_rule = HausdorffRule::Max;
    SurfaceMode surface = SurfaceMode::Voxel;
    std::optional<double> nsd_tolerance_mm; // nsd is NaN without it
    // Voxel spacing in mm, (x, y, z) = (W, H, D); unset: the prediction's
    // header spacing (1 mm for formats without geometry). z = 0: given for
    // 2D data only (x, y); 3D data then is a usage error.
    std::optional<std::array<double, 3>> spacing;
    // Lesion metrics (lesions.h): component connectivity (0: 26 in 3D, 8 in
    // 2D), matching rule, IoU threshold and minimum lesion size in voxels
    // and in mm^3 (2D: mm^2; a lesion must reach both).
    int lesion_connectivity = 0;
    LesionMatch lesion_match = LesionMatch::Iou;
    double lesion_iou = 0.5;
    std::int64_t lesion_min_size = 0;
    double lesion_min_volume = 0;
    // Edges (mm^3, ascending) of the report's lesion recall per size bin
    // (lesion_table.h, size_bin_recall); empty: none.
    std::vector<double> lesion_size_bins;
    int lesion_dilation = 1;            // BraTS rule: dilation iterations
    double lesion_volume_threshold = 0; // BraTS rule: mm^3
    double lesion_hd_penalty = 374;     // lesion_hd95 of a missed or false lesion, mm

    DecisionRule rule() const noexcept { return {activation, decision, threshold}; }
    bool logits() const noexcept { return activation == Activation::Sigmoid; }
};

} // namespace masklens
