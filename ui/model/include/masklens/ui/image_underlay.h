// The image shown under the masks (CT, MR, ...): whether it fits the pair,
// its value range, and the window / level presets. Toolkit-free; the
// SessionPresenter reads and checks images with it off the UI thread.
#pragma once

#include "masklens/engine/volume.h"

#include <array>

namespace masklens::ui {

// Throws Error(Input) naming the image file unless it can lie under `target`:
// one channel, one sample or as many as the target, the same D x H x W, and
// (both with geometry) the same spacing, origin and direction as the target
// (check_same_geometry, the pair's check, in one world frame).
void check_image(const Volume& image, const Volume& target);

// Values at fractions `low` and `high` (0..1) of the sorted finite values of
// the image's first sample, nearest rank over at most ~2^20 evenly strided
// values (large volumes are subsampled); {0, 1} without finite values.
std::array<double, 2> value_percentiles(const Volume& image, double low, double high);

enum class WindowPreset {
    SoftTissue, // CT: W 400, L 40 (HU)
    Lung,       // CT: W 1500, L -600
    Bone,       // CT: W 1800, L 400
    Percentile, // MR and others: 1st to 99th percentile
};

// {window, level} of a preset; `percentiles` = value_percentiles(image, 0.01, 0.99).
std::array<double, 2> preset_window(WindowPreset preset, const std::array<double, 2>& percentiles);

// The preset an image opens with: soft tissue for CT-like values (1st
// percentile at or below -500, as air in HU), else the percentile window.
WindowPreset default_preset(const std::array<double, 2>& percentiles);

} // namespace masklens::ui
