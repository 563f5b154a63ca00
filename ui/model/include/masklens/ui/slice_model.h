// Toolkit-free helpers shared by the presenters and the scenes: reading voxels
// of a Volume, classifying them against the target at a threshold, mapping
// between voxels and slice pixels, and composing the RGBA image of one slice.
// Nothing here includes Qt or VTK, so it is tested without a window.
#pragma once

#include "masklens/engine/decision.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/volume.h"
#include "masklens/ui/slice_orientation.h"

#include <array>
#include <atomic>
#include <cstdint>
#include <optional>
#include <vector>

namespace masklens::ui {

struct LabelStyle;    // label_colours.h
struct LesionOverlay; // lesion_overlay.h

struct Voxel {
    std::int64_t d = 0, h = 0, w = 0;
    bool operator==(const Voxel& other) const noexcept = default;
};

struct Rgb {
    std::uint8_t r = 0, g = 0, b = 0;
    bool operator==(const Rgb& other) const noexcept = default;
};

// Okabe-Ito colours (colour-blind safe).
inline constexpr Rgb kTruePositiveColour{0x00, 0x9E, 0x73};
inline constexpr Rgb kFalsePositiveColour{0xD5, 0x5E, 0x00};
inline constexpr Rgb kFalseNegativeColour{0x56, 0xB4, 0xE9};
inline constexpr Rgb kTargetColour{0xF0, 0xE4, 0x42};
inline constexpr Rgb kPredictionColour{0xCC, 0x79, 0xA7};

// Errors: TP / FP / FN colours; Overlay: prediction and target layers;
// Labels: every label at once in its colour (target filled, prediction outlined);
// Lesions: each lesion (connected component) by its status in the per-lesion
// table (lesion_overlay.h: matched, missed, false), in the TP / FN / FP colours.
enum class DisplayMode { Errors, Overlay, Labels, Lesions };
enum class LayerStyle { Hidden, Filled, Outline, Colormap };

struct LayerSettings {
    DisplayMode mode = DisplayMode::Errors;
    LayerStyle target_style = LayerStyle::Outline;
    double target_opacity = 1.0;
    LayerStyle prediction_style = LayerStyle::Colormap; // Colormap: probabilities (float predictions)
    double prediction_opacity = 0.8;
    double error_opacity = 1.0;
    Rgb true_positive = kTruePositiveColour;
    Rgb false_positive = kFalsePositiveColour;
    Rgb false_negative = kFalseNegativeColour;
    Rgb target = kTargetColour;
    Rgb prediction = kPredictionColour;
    // How the views lay patients out (slice_orientation.h).
    Convention convention = Convention::Radiological;
    // The image underlay's grey ramp: values level - window / 2 .. level +
    // window / 2 (the image's units, e.g. HU) map to black .. white.
    double window = 400.0;
    double level = 40.0;
    bool operator==(const LayerSettings& other) const noexcept = default;
};

// How the pair is read at one voxel: which sample and label, under which
// decision rule (the engine's, decision.h: the same as the numbers').
struct PairView {
    PairingMode pairing = PairingMode::Binary;
    std::int64_t sample = 0;
    std::optional<std::int64_t> label; // the label shown; none: the foreground
    DecisionRule rule;
    bool operator==(const PairView& other) const noexcept = default;
};

// One prediction against the target under a PairView, over runs of voxels:
// the prediction's decisions from ClassDecider, the target's classes from
// TargetClasses (no second copy of either rule here). One per thread.
class PairClassifier {
public:
    PairClassifier(const Volume& prediction, const Volume& target, const PairView& view);

    // Voxels first + i * stride (flat over [D, H, W]) of the view's sample,
    // i < count: hard prediction, target hit and (when wanted) probability.
    void run(std::int64_t first, std::int64_t count, std::int64_t stride, std::uint8_t* predicted,
             std::uint8_t* hit, float* probability = nullptr) const;

private:
    ClassDecider prediction_;
    TargetClasses target_;
    std::int64_t sample_ = 0;
    std::int64_t label_ = -1;
};

struct VoxelClass {
    double prediction = 0;   // continuous prediction (probability) or label value
    double target = 0;       // target value (label value for label maps)
    bool predicted = false;  // hard prediction positive
    bool target_hit = false; // target positive
};

// Raw element value as double (float16 converted).
double element_value(const Volume& volume, std::size_t index);
std::size_t element_index(const Shape& shape, std::int64_t n, std::int64_t c, const Voxel& voxel);
VoxelClass classify(const Volume& prediction, const Volume& target, const PairView& view, const Voxel& voxel);

// Extent of the voxel grid along the axis a view fixes, and slice pixel size.
std::int64_t axis_extent(const Shape& shape, ViewAxis axis);
std::int64_t& axis_coordinate(Voxel& voxel, ViewAxis axis);
std::int64_t axis_coordinate(const Voxel& voxel, ViewAxis axis);
// The engine's slicing axis as a view axis.
ViewAxis view_axis_of(SliceAxis axis);

struct SliceGeometry {
    int width = 0, height = 0;           // pixels (on screen: after any transpose)
    double spacing_x = 1, spacing_y = 1; // mm per pixel
    SliceOrientation orientation;        // how the voxel grid lies on the screen
};
SliceGeometry slice_geometry(const Shape& shape, const Geometry& geometry, ViewAxis axis,
                             Convention convention = Convention::Radiological);
// Pixel (x right, y up as in VTK images) of a voxel in the view, and back,
// under the view's orientation; without one, the voxel grid's own layout
// (slice_orientation of a Geometry without geometry).
std::array<int, 2> voxel_to_pixel(const Shape& shape, ViewAxis axis, const SliceOrientation& orientation,
                                  const Voxel& voxel);
Voxel pixel_to_voxel(const Shape& shape, ViewAxis axis, const SliceOrientation& orientation,
                     std::int64_t slice, int x, int y);
std::array<int, 2> voxel_to_pixel(const Shape& shape, ViewAxis axis, const Voxel& voxel);
Voxel pixel_to_voxel(const Shape& shape, ViewAxis axis, std::int64_t slice, int x, int y);

// The underlay grey (0..255) of an image value under window / level.
std::uint8_t window_grey(double value, double window, double level);

struct SliceImage {
    SliceGeometry geometry;
    std::vector<std::uint8_t> rgba; // width * height * 4, row 0 at the bottom
};

// Composes the slice `index` of `axis`: error mode colours TP/FP/FN, overlay
// mode draws the prediction (colormap, filled or outline) under the target.
// With `image` (same D, H, W as the pair; its sample view.sample, or its
// last, channel 0) the masks are drawn over its grey values under
// layers.window / level. Laid out by the target's geometry and
// layers.convention (slice_orientation.h).
// Labels mode draws each visible entry of `labels` with a value > 0 (the
// decisions of view.label = that value, from the same PairClassifier).
// Lesions mode draws `lesions` (made for this pair's shape and view.sample;
// otherwise, or without one, the slice is drawn as in Errors mode): target
// lesions filled, matched in layers.true_positive, missed in
// layers.false_negative; false predicted lesions filled in
// layers.false_positive; matched predicted lesions outlined in
// layers.true_positive; the selected lesion outlined in kSelectedLesionColour.
SliceImage compose_slice(const Volume& prediction, const Volume& target, const PairView& view, ViewAxis axis,
                         std::int64_t index, const LayerSettings& layers, const Volume* image = nullptr,
                         const std::vector<LabelStyle>* labels = nullptr,
                         const LesionOverlay* lesions = nullptr);

// The probability colormap (0..1 -> colour), also used for the colour bar.
Rgb probability_colour(double value);

// --- comparing two predictions against one target ------------------------------
// Difference mode colours (Okabe-Ito, colour-blind safe); voxels both
// predictions get right are left uncoloured.
inline constexpr Rgb kOnlyARightColour{0x00, 0x72, 0xB2};
inline constexpr Rgb kOnlyBRightColour{0xE6, 0x9F, 0x00};
inline constexpr Rgb kBothWrongColour{0xCC, 0x79, 0xA7};

// A voxel is "right" for a prediction when its hard decision equals the
// target's (TP or TN under classify()).
enum class DifferenceClass { BothRight, OnlyARight, OnlyBRight, BothWrong };

DifferenceClass classify_difference(const Volume& a, const Volume& b, const Volume& target,
                                    const PairView& view_a, const PairView& view_b, const Voxel& voxel);

struct DifferenceCounts {
    std::int64_t both_right = 0, only_a_right = 0, only_b_right = 0, both_wrong = 0;
    bool operator==(const DifferenceCounts& other) const noexcept = default;
};

// Counts over one sample (view_a.sample) of every voxel. When `cancel` becomes
// true the count stops early (checked once per plane; the counts are then partial).
DifferenceCounts count_differences(const Volume& a, const Volume& b, const Volume& target,
                                   const PairView& view_a, const PairView& view_b,
                                   const std::atomic<bool>* cancel = nullptr);

// The slice `index` of `axis` in difference colours (both right: black),
// laid out as compose_slice lays it out.
SliceImage compose_difference_slice(const Volume& a, const Volume& b, const Volume& target,
                                    const PairView& view_a, const PairView& view_b, ViewAxis axis,
                                    std::int64_t index, Convention convention = Convention::Radiological);

// A slice view's camera relative to the fitted one: zoom (> 1 enlarges) and
// the focal point's offset from the image centre in mm. Linked views share it.
struct SliceCamera {
    double zoom = 1.0;
    double pan_x = 0.0, pan_y = 0.0;
    bool operator==(const SliceCamera& other) const noexcept = default;
};

} // namespace masklens::ui
