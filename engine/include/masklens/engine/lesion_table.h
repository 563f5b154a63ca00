// The per-lesion table: one row per lesion (connected component) of the
// target and of the prediction, for every sample and label a lesion metric
// was computed for (lesions.h computes the rows, evaluate.cpp places them in
// the sample, this file writes them).
//
// Coordinates: voxel indices [d, h, w] of the sample (the array's order,
// as Shape), the bounding box half-open (hi = last index + 1, as Python
// slices); world coordinates [x, y, z] in mm from the Geometry: origin +
// direction * (spacing * [w, h, d]) (the readers' LPS/RAS as the file
// gives it). Volumes in mm^3 (2D: mm^2, spacing x * y).
//
// Status: a target lesion is "tp" when a predicted lesion matches it
// (--lesion-match), else "fn"; a predicted lesion is "tp" when it matches a
// target lesion, else "fp". `scored` is false for target lesions the BraTS
// rule leaves out of the counts (volume <= --lesion-volume-threshold).
// dice / hd95: a target lesion's Dice and percentile Hausdorff distance
// against the union of its matched predicted lesions (a missed lesion: 0
// and the HD penalty); a false lesion: 0 and the penalty; a matched
// predicted lesion: NaN (its score is its target lesions'). hd95 is NaN
// unless lesion_dice or lesion_hd95 was requested (the distances cost).
// Unscored target lesions get both too (as the BraTS reference lists them).
//
// Limits: a mask's rows (sizeof(LesionRecord) bytes per lesion) are checked
// against the memory cap (volume.h check_allocation) before they are made:
// Error(Input) naming the per-lesion table and its lesion count.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace masklens {

enum class LesionSide { Target, Prediction };
enum class LesionStatus { Tp, Fn, Fp };

std::string_view lesion_side_name(LesionSide side) noexcept;       // "target", "prediction"
std::string_view lesion_status_name(LesionStatus status) noexcept; // "tp", "fn", "fp"

// One lesion as lesions.h finds it, in the coordinates of the grid it was
// given (evaluate.cpp shifts them to the sample's).
struct LesionRecord {
    LesionSide side = LesionSide::Target;
    std::int64_t id = 0;              // 1..count on its side, in raster order of the lesion's first voxel
    std::int64_t voxels = 0;          // size
    std::array<double, 3> centroid{}; // mean voxel index [d, h, w]
    std::array<std::int64_t, 3> lo{}, hi{}; // bounding box [d, h, w], hi exclusive
    LesionStatus status = LesionStatus::Fn;
    bool scored = true;
    std::vector<std::int64_t> matched; // ids of the other side's matched lesions, ascending
    double dice = std::numeric_limits<double>::quiet_NaN();
    double hd95 = std::numeric_limits<double>::quiet_NaN(); // mm
};

// A row of the report's table: the record in the sample's coordinates plus
// where it belongs and its physical size and position.
struct LesionRow {
    std::int64_t sample = 0;
    std::int64_t label = -1; // -1: the sample's own masks (not one label's)
    LesionRecord lesion;
    double volume_mm3 = 0;
    std::array<double, 3> centroid_world{}; // [x, y, z] mm
};

// Lesion recall per size bin: edges e0 < e1 < ... < ek (mm^3, 2D mm^2)
// make the bins [e0, e1), ..., [e(k-1), ek) and [ek, inf); a scored target
// lesion falls in the bin holding its volume_mm3 (below e0: in none).
struct SizeBin {
    double from = 0, to = 0; // mm^3; to = +inf for the last bin
    std::int64_t target = 0; // target lesions in the bin
    std::int64_t tp = 0;     // of them, detected
    double recall() const noexcept
    {
        return target > 0 ? static_cast<double>(tp) / static_cast<double>(target)
                          : std::numeric_limits<double>::quiet_NaN();
    }
};
// The bins over the rows of one sample (sample < 0: every sample, the
// batch) and one label (-1: the samples' own masks).
std::vector<SizeBin> size_bin_recall(const std::vector<LesionRow>& rows, const std::vector<double>& edges,
                                     std::int64_t sample, std::int64_t label);
// One JSON object per (sample, label) key (sample -1: "batch"), each
// {"sample": n|null, "label": l|null, "bins": [{"from", "to" (null: no
// upper edge), "target", "tp", "recall" (null: no lesion)}, ...]}.
void write_size_bin_recall_json(std::ostream& out, const std::vector<LesionRow>& rows,
                                const std::vector<double>& edges,
                                const std::vector<std::pair<std::int64_t, std::int64_t>>& keys,
                                const std::string& indent);

// The rows as a JSON array (one object per row, `indent` before each).
void write_lesion_rows_json(std::ostream& out, const std::vector<LesionRow>& rows, const std::string& indent);

// CSV: a header line (when `header`), then one line per row. A non-empty
// `case_id` adds a first column "case" (folder runs). Matched ids are
// joined by ';'; undefined values are empty.
void write_lesion_csv_header(std::ostream& out, bool with_case);
void write_lesion_rows_csv(std::ostream& out, const std::vector<LesionRow>& rows, const std::string& case_id,
                           bool with_case);

} // namespace masklens
