// The lesions of one sample and label of an evaluation, labelled exactly as
// its per-lesion table (Evaluation::lesions) numbers them: the same hard
// masks (decision.h, as the lesion metrics read them), the same options
// (the evaluation's MetricOptions: connectivity, minimum size, matching
// rule), the same labelling (lesions.h label_lesions). The app paints them
// by the table's statuses (ui/model lesion_overlay.h) instead of labelling
// or matching a second time.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/lesions.h"

#include <array>
#include <cstdint>

namespace masklens {

struct SampleLesions {
    // The labelled box of the sample's [D, H, W] grid (hi exclusive): the
    // union of both masks' boxes (BraTS: widened by the dilation). Empty
    // (lo == hi) when both masks are empty.
    std::array<std::int64_t, 3> lo{0, 0, 0}, hi{0, 0, 0};
    // Over the box, C order: label l = the LesionRecord with id l of its side.
    LesionLabels labels;

    bool empty() const noexcept { return lo[0] >= hi[0] || lo[1] >= hi[1] || lo[2] >= hi[2]; }
    // The target (or predicted) lesion id at a voxel [d, h, w] of the sample; 0 outside.
    std::uint32_t target_at(std::int64_t d, std::int64_t h, std::int64_t w) const noexcept;
    std::uint32_t predicted_at(std::int64_t d, std::int64_t h, std::int64_t w) const noexcept;
};

// `label` -1: the sample's own masks (the table's label -1). Needs the
// volumes the evaluation was made from. Errors: as the lesion metrics'
// (Error(Input) past the memory cap or the component limit).
SampleLesions sample_lesions(const Evaluation& evaluation, const Volume& prediction, const Volume& target,
                             std::int64_t sample, std::int64_t label, int threads = 0);

} // namespace masklens
