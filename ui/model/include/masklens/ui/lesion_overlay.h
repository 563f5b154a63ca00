// What the Lesions display mode paints (slice_model.h compose_slice and the
// 3D lesion surfaces): one sample's and label's lesions as the engine labels
// them for the per-lesion table (engine sample_lesions.h), each with its
// status from the table's rows, and the lesion selected in the Lesions tab.
// No labelling or matching of its own: ids and statuses are the table's.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/sample_lesions.h"
#include "masklens/ui/slice_model.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

namespace masklens::ui {

// How a voxel of a lesion is painted.
enum class LesionPaint : std::uint8_t {
    None,
    Matched,           // a target lesion with a matching prediction (the TP colour, filled)
    Missed,            // a target lesion without one (the FN colour, filled)
    FalseLesion,       // a predicted lesion matching no target lesion (the FP colour, filled)
    MatchedPrediction, // a predicted lesion matching a target lesion (the TP colour, outlined)
};

struct LesionKey {
    LesionSide side = LesionSide::Target;
    std::int64_t id = 0;
    bool operator==(const LesionKey& other) const noexcept = default;
};

struct LesionOverlay {
    Shape shape;             // of the pair it was made for (a stale overlay is not drawn)
    std::int64_t sample = 0; // the sample and label (-1: the sample's own masks) of its rows
    std::int64_t label = -1;
    std::shared_ptr<const SampleLesions> lesions;
    // Indexed by id (0 unused): each lesion's status from the table.
    std::vector<LesionStatus> target_status, predicted_status;
    std::optional<LesionKey> selected; // drawn with a white outline

    // The target and predicted lesion ids at a voxel of the sample (0: none).
    std::uint32_t target_at(const Voxel& v) const noexcept
    {
        return lesions ? lesions->target_at(v.d, v.h, v.w) : 0;
    }
    std::uint32_t predicted_at(const Voxel& v) const noexcept
    {
        return lesions ? lesions->predicted_at(v.d, v.h, v.w) : 0;
    }
    // How a target (predicted) lesion id is painted.
    LesionPaint target_paint(std::uint32_t id) const noexcept;
    LesionPaint predicted_paint(std::uint32_t id) const noexcept;
};

// The overlay of `evaluation`'s lesion rows for one sample and label
// (lesion_list.h lesion_rows_of: a label without rows falls back to the
// sample's own masks), labelled from the volumes the evaluation was made
// from. Errors: the engine's (Error), as the lesion pass.
std::shared_ptr<const LesionOverlay> make_lesion_overlay(const Evaluation& evaluation,
                                                         const Volume& prediction, const Volume& target,
                                                         std::int64_t sample,
                                                         std::optional<std::int64_t> label);

// The same labels and statuses with another lesion selected (no labelling).
std::shared_ptr<const LesionOverlay> with_selection(const LesionOverlay& overlay,
                                                    std::optional<LesionKey> selected);

// The colour a paint takes under `layers` (the Errors mode's TP / FP / FN
// colours: one home for the status colours).
Rgb lesion_paint_colour(LesionPaint paint, const LayerSettings& layers);

// The selected lesion's outline.
inline constexpr Rgb kSelectedLesionColour{0xFF, 0xFF, 0xFF};

} // namespace masklens::ui
