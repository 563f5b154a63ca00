// Lesion-wise evaluation of one pair of binary masks: connected components
// (components.h) of the target and the prediction, matched by a rule, and
// the lesion counts and rates formed from the matches.
//
// Matching rules (LesionMatch, metrics.h):
//   Iou      one-to-one: pairs of overlapping lesions in order of decreasing
//            IoU (ties: target id, then prediction id ascending) are
//            matched greedily when IoU >= iou_threshold and neither lesion is
//            matched yet. panoptica's NaiveThresholdMatching (IOU, 0.5,
//            allow_many_to_one=False, non-strict threshold).
//   Overlap  many-to-many: a target lesion is detected when any predicted
//            lesion overlaps it by at least one voxel; a predicted lesion is
//            correct when it overlaps any target lesion.
//   Brats    the BraTS 2023 lesion-wise rule (rachitsaluja/BraTS-2023-Metrics,
//            get_LesionWiseScores / get_LesionWiseResults): target lesions
//            whose dilations (`dilation` iterations of the 18-neighbourhood,
//            scipy generate_binary_structure(3, 2)) touch form one lesion; a
//            target lesion is detected by every predicted lesion that meets
//            its own dilation (many-to-one); predicted lesions meeting no
//            dilation are false. Target lesions of volume <= volume_threshold
//            mm^3 are left out of tp, fn and the lesion scores (not of the
//            matching: a prediction they detect is not false).
// Lesions smaller than min_size voxels or min_volume mm^3 (on either side)
// are removed before matching: they are neither counted nor matched.
//
// Lesion scores (when LesionOptions::scores): for each counted target lesion
// T and the union P of its matched predicted lesions, Dice(T, P) and the
// percentile Hausdorff distance between them (`distance`; +inf when P is
// empty, replaced by hd_penalty_mm); lesion_dice = sum of Dice / (target +
// fp), lesion_hd95 = (sum of HD + fp * hd_penalty_mm) / (target + fp): every
// false lesion scores Dice 0 and the penalty (BraTS: 374 mm).
//
// Counts and rates (LesionCounts), "target" lesions are the reference's:
//   tp  target lesions matched; fn = target lesions - tp
//   fp  predicted lesions unmatched; matched_predicted = predicted - fp
//   precision = matched_predicted / predicted, recall = tp / target,
//   f1 = harmonic mean of the two (2 tp / (2 tp + fp + fn) one-to-one);
//   rq = tp / (tp + fp/2 + fn/2), sq = mean IoU of the matched pairs,
//   pq = sq * rq (panoptica; one-to-one rules only).
// Per-lesion table (when LesionOptions::table): LesionCounts::lesions holds
// one LesionRecord (lesion_table.h) per target lesion (BraTS: per merged
// target lesion), ids ascending, then one per predicted lesion, in the
// grid's voxel coordinates.
// Units: voxels for sizes; values are dimensionless.
#pragma once

#include "masklens/engine/components.h"
#include "masklens/engine/lesion_table.h"
#include "masklens/engine/metrics.h"
#include "masklens/engine/surface_distance.h"

#include <cstdint>
#include <string_view>
#include <vector>

namespace masklens {

std::string_view lesion_match_name(LesionMatch match) noexcept;

struct LesionOptions {
    int connectivity = 0; // components.h: 0 = 26 (3D) / 8 (2D)
    LesionMatch match = LesionMatch::Iou;
    double iou_threshold = 0.5;      // LesionMatch::Iou: a pair matches when IoU >= this
    std::int64_t min_size = 0;       // voxels; smaller lesions are dropped on both sides
    double min_volume = 0;           // mm^3 (2D: mm^2, spacing x * y); smaller lesions too
    int dilation = 1;                // LesionMatch::Brats: iterations of the 18-neighbourhood
    double volume_threshold = 0;     // LesionMatch::Brats: mm^3; target lesions <= this are not scored
    bool scores = false;             // compute the lesion scores (lesion_dice, lesion_hd95)
    bool table = false;              // fill LesionCounts::lesions (the per-lesion table)
    double hd_penalty_mm = 374;      // lesion_hd95 of a missed or false lesion
    SurfaceDistanceOptions distance; // spacing (mm; also the voxel volume), surface, percentile, rule
};

struct LesionCounts {
    std::int64_t target = 0;            // target lesions (after min_size)
    std::int64_t predicted = 0;         // predicted lesions (after min_size)
    std::int64_t tp = 0;                // target lesions matched
    std::int64_t matched_predicted = 0; // predicted lesions matched
    double iou_sum = 0;                 // sum of the matched pairs' IoU (one-to-one rules)
    bool one_to_one = true;             // the rule matches pairs one-to-one (pq, sq, rq defined)
    bool brats = false;                 // LesionMatch::Brats (its empty-case convention)
    double dice_sum = 0;                // lesion scores over the counted target lesions
    double hd_sum = 0;                  //   (HD: +inf replaced by the penalty)
    double hd_penalty_mm = 374;
    std::vector<LesionRecord> lesions; // when LesionOptions::table: target lesions, then predicted

    std::int64_t fn() const noexcept { return target - tp; }
    std::int64_t fp() const noexcept { return predicted - matched_predicted; }
};

// The lesions of both masks as the matching and the per-lesion table number
// them: components (components.h) with those under min_size / min_volume
// dropped and the rest renumbered (raster order kept); under the BraTS rule
// the target's components whose dilations touch merged into one lesion
// (numbered in raster order of its first voxel). Label l of `target` is
// the target LesionRecord with id l, label l of `predicted` the predicted
// one: what the app paints by status (ui/model lesion_overlay.h).
// sizes: voxels per label (index 0: background). Errors as label_components.
struct LesionLabels {
    Components target, predicted;
    std::vector<std::int64_t> target_size, predicted_size;
};
LesionLabels label_lesions(const std::uint8_t* prediction, const std::uint8_t* target,
                           const ComponentGrid& grid, const LesionOptions& options, int threads = 0);

// Components of both masks (grid.voxels() bytes each, nonzero = foreground),
// then the matching. threads <= 0: all hardware threads.
LesionCounts match_lesions(const std::uint8_t* prediction, const std::uint8_t* target,
                           const ComponentGrid& grid, const LesionOptions& options, int threads = 0);

// A lesion metric's value (Metric::LesionTp ... Metric::LesionHd95) from the counts.
// precision, recall and f1 with a zero denominator (no lesions on the side
// they divide by) follow `empty` (--empty), except that f1 is 0 when only one
// side has lesions. rq, sq and pq follow panoptica: NaN when neither side
// has a lesion; with lesions but no match rq = sq = pq = 0 (panoptica's
// default edge-case handling); NaN for rules that are not one-to-one.
// lesion_dice and lesion_hd95 without any lesion: 1 and 0 under the BraTS
// rule (as BraTS), else `empty` and NaN.
double lesion_metric_value(Metric metric, const LesionCounts& counts, EmptyPolicy empty);

} // namespace masklens
