// The metrics computed from hard masks after the statistics pass: surface
// distances and lesion metrics. Private to the engine (evaluate.cpp).
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/volume.h"

namespace masklens {

// Fills the distance and lesion metrics of `evaluation` (those it asks for)
// per sample, label and slice, and its lesion table, from each sample's and
// label's hard masks, extracted once for both. Batch values are left to the
// caller (reduce_samples_again in evaluate.cpp). Throws a usage error for
// bad distance or lesion options before any work, Cancelled when
// options.cancel is set.
void add_mask_metrics(Evaluation& evaluation, const Volume& prediction, const Volume& target,
                      const StatisticsOptions& options);

} // namespace masklens
