#include "masklens/ui/slice_model.h"

#include "masklens/ui/label_colours.h"
#include "masklens/ui/lesion_overlay.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

namespace masklens::ui {

namespace {

template <class T> double load(const Volume& volume, std::size_t index)
{
    T value;
    std::memcpy(&value, volume.data() + index * sizeof(T), sizeof(T));
    return static_cast<double>(value);
}

std::uint8_t blend(std::uint8_t under, std::uint8_t over, double alpha)
{
    const double value = static_cast<double>(under) * (1.0 - alpha) + static_cast<double>(over) * alpha;
    return static_cast<std::uint8_t>(std::clamp(std::lround(value), 0L, 255L));
}

void paint(std::uint8_t* pixel, const Rgb& colour, double alpha)
{
    pixel[0] = blend(pixel[0], colour.r, alpha);
    pixel[1] = blend(pixel[1], colour.g, alpha);
    pixel[2] = blend(pixel[2], colour.b, alpha);
}

// A positive pixel with a non-positive 4-neighbour (or the image border).
bool on_outline(const std::vector<std::uint8_t>& mask, int width, int height, int x, int y)
{
    const auto at = [&](int px, int py) {
        return mask[static_cast<std::size_t>(py) * static_cast<std::size_t>(width) +
                    static_cast<std::size_t>(px)];
    };
    if (!at(x, y)) {
        return false;
    }
    if (x == 0 || y == 0 || x == width - 1 || y == height - 1) {
        return true;
    }
    return !at(x - 1, y) || !at(x + 1, y) || !at(x, y - 1) || !at(x, y + 1);
}

} // namespace

double element_value(const Volume& volume, std::size_t index)
{
    switch (volume.type()) {
    case ScalarType::Bool: return load<std::uint8_t>(volume, index) != 0 ? 1.0 : 0.0;
    case ScalarType::Int8: return load<std::int8_t>(volume, index);
    case ScalarType::UInt8: return load<std::uint8_t>(volume, index);
    case ScalarType::Int16: return load<std::int16_t>(volume, index);
    case ScalarType::UInt16: return load<std::uint16_t>(volume, index);
    case ScalarType::Int32: return load<std::int32_t>(volume, index);
    case ScalarType::UInt32: return load<std::uint32_t>(volume, index);
    case ScalarType::Int64: return load<std::int64_t>(volume, index);
    case ScalarType::UInt64: return load<std::uint64_t>(volume, index);
    case ScalarType::Float16: {
        std::uint16_t half;
        std::memcpy(&half, volume.data() + index * 2, 2);
        return half_to_float(half);
    }
    case ScalarType::Float32: return load<float>(volume, index);
    case ScalarType::Float64: return load<double>(volume, index);
    }
    return 0.0;
}

std::size_t element_index(const Shape& shape, std::int64_t n, std::int64_t c, const Voxel& voxel)
{
    return static_cast<std::size_t>((((n * shape.c + c) * shape.d + voxel.d) * shape.h + voxel.h) * shape.w +
                                    voxel.w);
}

PairClassifier::PairClassifier(const Volume& prediction, const Volume& target, const PairView& view)
    : prediction_(prediction, target.type(), view.rule), target_(target, view.pairing),
      sample_(std::clamp<std::int64_t>(view.sample, 0, prediction.shape().n - 1)),
      label_(view.label.value_or(-1))
{}

void PairClassifier::run(std::int64_t first, std::int64_t count, std::int64_t stride, std::uint8_t* predicted,
                         std::uint8_t* hit, float* probability) const
{
    prediction_.mask(sample_, first, count, label_, predicted, stride);
    target_.mask(sample_, first, count, label_, hit, stride);
    if (probability) {
        prediction_.probability(sample_, first, count, label_, probability, stride);
    }
}

VoxelClass classify(const Volume& prediction, const Volume& target, const PairView& view, const Voxel& voxel)
{
    VoxelClass result;
    const Shape& ps = prediction.shape();
    const Shape& ts = target.shape();
    const std::int64_t n = std::clamp<std::int64_t>(view.sample, 0, ps.n - 1);
    const std::int64_t flat = (voxel.d * ps.h + voxel.h) * ps.w + voxel.w;
    std::uint8_t predicted = 0, hit = 0;
    float probability = 0;
    PairClassifier(prediction, target, view).run(flat, 1, 1, &predicted, &hit, &probability);
    result.predicted = predicted != 0;
    result.target_hit = hit != 0;
    // The values shown: the probability (label maps: the label value) and the
    // target's value (label maps and labels: the label value).
    const std::int64_t channel =
        view.label && ps.c > 1 ? std::clamp<std::int64_t>(*view.label, 0, ps.c - 1) : 0;
    result.prediction = is_label_type(prediction.type())
                            ? element_value(prediction, element_index(ps, n, channel, voxel))
                            : static_cast<double>(probability);
    const std::int64_t target_channel =
        view.label && ts.c > 1 ? std::clamp<std::int64_t>(*view.label, 0, ts.c - 1) : 0;
    result.target = element_value(target, element_index(ts, n, target_channel, voxel));
    return result;
}

std::int64_t axis_extent(const Shape& shape, ViewAxis axis)
{
    switch (axis) {
    case ViewAxis::Axial: return shape.d;
    case ViewAxis::Coronal: return shape.h;
    case ViewAxis::Sagittal: return shape.w;
    }
    return 1;
}

std::int64_t& axis_coordinate(Voxel& voxel, ViewAxis axis)
{
    switch (axis) {
    case ViewAxis::Coronal: return voxel.h;
    case ViewAxis::Sagittal: return voxel.w;
    case ViewAxis::Axial: break;
    }
    return voxel.d;
}

std::int64_t axis_coordinate(const Voxel& voxel, ViewAxis axis)
{
    Voxel copy = voxel;
    return axis_coordinate(copy, axis);
}

ViewAxis view_axis_of(SliceAxis axis)
{
    switch (axis) {
    case SliceAxis::H: return ViewAxis::Coronal;
    case SliceAxis::W: return ViewAxis::Sagittal;
    case SliceAxis::D:
    case SliceAxis::Default: break;
    }
    return ViewAxis::Axial;
}

namespace {

// The voxel at in-plane indices (first, second) of slice `slice` (slice_orientation.h).
Voxel in_plane_voxel(ViewAxis axis, std::int64_t slice, std::int64_t first, std::int64_t second)
{
    switch (axis) {
    case ViewAxis::Coronal: return {second, slice, first};
    case ViewAxis::Sagittal: return {second, first, slice};
    case ViewAxis::Axial: break;
    }
    return {slice, second, first};
}

std::array<std::int64_t, 2> in_plane_indices(ViewAxis axis, const Voxel& voxel)
{
    switch (axis) {
    case ViewAxis::Coronal: return {voxel.w, voxel.d};
    case ViewAxis::Sagittal: return {voxel.h, voxel.d};
    case ViewAxis::Axial: break;
    }
    return {voxel.w, voxel.h};
}

// A slice composed in the grid's own layout (first index across, second up,
// row-major), moved into the screen layout of `geometry`.
std::vector<std::uint8_t> orient_pixels(const std::vector<std::uint8_t>& native,
                                        const SliceGeometry& geometry,
                                        const std::array<std::int64_t, 2>& extents)
{
    const SliceOrientation& orientation = geometry.orientation;
    if (!orientation.transpose && !orientation.flip_x && !orientation.flip_y) {
        return native;
    }
    std::vector<std::uint8_t> screen(native.size());
    for (std::int64_t second = 0; second < extents[1]; ++second) {
        for (std::int64_t first = 0; first < extents[0]; ++first) {
            const auto pixel = oriented_pixel(orientation, extents, first, second);
            const auto from = static_cast<std::size_t>(second * extents[0] + first) * 4;
            const auto to = (static_cast<std::size_t>(pixel[1]) * static_cast<std::size_t>(geometry.width) +
                             static_cast<std::size_t>(pixel[0])) *
                            4;
            std::memcpy(&screen[to], &native[from], 4);
        }
    }
    return screen;
}

} // namespace

SliceGeometry slice_geometry(const Shape& shape, const Geometry& geometry, ViewAxis axis,
                             Convention convention)
{
    SliceGeometry result;
    result.orientation = slice_orientation(geometry, axis, convention);
    const auto extents = in_plane_extents(shape, axis);
    // Spacing of the first and second in-plane index axes.
    const std::size_t first_axis = axis == ViewAxis::Sagittal ? 1 : 0;
    const std::size_t second_axis = axis == ViewAxis::Axial ? 1 : 2;
    const bool transpose = result.orientation.transpose;
    result.width = static_cast<int>(transpose ? extents[1] : extents[0]);
    result.height = static_cast<int>(transpose ? extents[0] : extents[1]);
    result.spacing_x = geometry.spacing[transpose ? second_axis : first_axis];
    result.spacing_y = geometry.spacing[transpose ? first_axis : second_axis];
    return result;
}

std::array<int, 2> voxel_to_pixel(const Shape& shape, ViewAxis axis, const SliceOrientation& orientation,
                                  const Voxel& voxel)
{
    const auto indices = in_plane_indices(axis, voxel);
    return oriented_pixel(orientation, in_plane_extents(shape, axis), indices[0], indices[1]);
}

Voxel pixel_to_voxel(const Shape& shape, ViewAxis axis, const SliceOrientation& orientation,
                     std::int64_t slice, int x, int y)
{
    const auto indices = unoriented_indices(orientation, in_plane_extents(shape, axis), x, y);
    return in_plane_voxel(axis, slice, indices[0], indices[1]);
}

std::array<int, 2> voxel_to_pixel(const Shape& shape, ViewAxis axis, const Voxel& voxel)
{
    return voxel_to_pixel(shape, axis, slice_orientation(Geometry{}, axis), voxel);
}

Voxel pixel_to_voxel(const Shape& shape, ViewAxis axis, std::int64_t slice, int x, int y)
{
    return pixel_to_voxel(shape, axis, slice_orientation(Geometry{}, axis), slice, x, y);
}

std::uint8_t window_grey(double value, double window, double level)
{
    if (std::isnan(value)) {
        return 0;
    }
    const double width = std::max(window, 1e-12);
    const double fraction = std::clamp((value - (level - width / 2.0)) / width, 0.0, 1.0);
    return static_cast<std::uint8_t>(std::lround(fraction * 255.0));
}

Rgb probability_colour(double value)
{
    // A dark-purple -> orange -> pale-yellow ramp (magma-like), piecewise linear.
    static constexpr std::array<Rgb, 5> stops{Rgb{0x00, 0x00, 0x04}, Rgb{0x51, 0x12, 0x7C},
                                              Rgb{0xB7, 0x37, 0x79}, Rgb{0xFC, 0x89, 0x61},
                                              Rgb{0xFC, 0xFD, 0xBF}};
    const double v = std::isnan(value) ? 0.0 : std::clamp(value, 0.0, 1.0) * (stops.size() - 1);
    const auto i = std::min<std::size_t>(static_cast<std::size_t>(v), stops.size() - 2);
    const double f = v - static_cast<double>(i);
    return {blend(stops[i].r, stops[i + 1].r, f), blend(stops[i].g, stops[i + 1].g, f),
            blend(stops[i].b, stops[i + 1].b, f)};
}

namespace {

// The Lesions mode over one slice in the grid's layout (compose_slice):
// every pixel's lesion ids from the overlay, painted by the table's statuses.
void paint_lesions(std::vector<std::uint8_t>& rgba, const LesionOverlay& lesions, ViewAxis axis,
                   std::int64_t slice, int width, int height, const LayerSettings& layers)
{
    const auto count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    std::vector<std::uint32_t> target_id(count), predicted_id(count);
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const Voxel voxel = in_plane_voxel(axis, slice, x, y);
            const std::size_t i =
                static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x);
            target_id[i] = lesions.target_at(voxel);
            predicted_id[i] = lesions.predicted_at(voxel);
        }
    }
    // Masks for the outlines: matched predicted lesions and the selected lesion.
    std::vector<std::uint8_t> matched_prediction(count), selected(count);
    for (std::size_t i = 0; i < count; ++i) {
        matched_prediction[i] = lesions.predicted_paint(predicted_id[i]) == LesionPaint::MatchedPrediction;
        if (lesions.selected) {
            const std::uint32_t id =
                lesions.selected->side == LesionSide::Target ? target_id[i] : predicted_id[i];
            selected[i] = id != 0 && static_cast<std::int64_t>(id) == lesions.selected->id;
        }
    }
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const std::size_t i =
                static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + static_cast<std::size_t>(x);
            std::uint8_t* pixel = &rgba[i * 4];
            const LesionPaint target_paint = lesions.target_paint(target_id[i]);
            if (target_paint != LesionPaint::None) {
                paint(pixel, lesion_paint_colour(target_paint, layers), layers.error_opacity);
            }
            if (lesions.predicted_paint(predicted_id[i]) == LesionPaint::FalseLesion) {
                paint(pixel, lesion_paint_colour(LesionPaint::FalseLesion, layers), layers.error_opacity);
            }
            if (on_outline(matched_prediction, width, height, x, y)) {
                paint(pixel, lesion_paint_colour(LesionPaint::MatchedPrediction, layers), 1.0);
            }
            if (on_outline(selected, width, height, x, y)) {
                paint(pixel, kSelectedLesionColour, 1.0);
            }
        }
    }
}

} // namespace

SliceImage compose_slice(const Volume& prediction, const Volume& target, const PairView& view, ViewAxis axis,
                         std::int64_t index, const LayerSettings& layers, const Volume* image_volume,
                         const std::vector<LabelStyle>* labels, const LesionOverlay* lesions)
{
    SliceImage image;
    const Shape& shape = prediction.shape();
    image.geometry = slice_geometry(shape, target.geometry(), axis, layers.convention);
    // Composed in the grid's layout (first in-plane index across, second up), then oriented.
    const auto extents = in_plane_extents(shape, axis);
    const int width = static_cast<int>(extents[0]);
    const int height = static_cast<int>(extents[1]);
    const auto count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    std::vector<std::uint8_t> rgba(count * 4, 0);
    for (std::size_t i = 0; i < count; ++i) {
        rgba[i * 4 + 3] = 255;
    }
    const std::int64_t slice = std::clamp<std::int64_t>(index, 0, axis_extent(shape, axis) - 1);

    std::vector<std::uint8_t> predicted(count), hit(count);
    std::vector<float> probability(count);
    // Image rows are runs of voxels: along W (axial, coronal) or H (sagittal).
    const PairClassifier classifier(prediction, target, view);
    const std::int64_t stride = axis == ViewAxis::Sagittal ? shape.w : 1;
    for (int y = 0; y < height; ++y) {
        const Voxel first = in_plane_voxel(axis, slice, 0, y);
        const std::size_t row = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
        classifier.run((first.d * shape.h + first.h) * shape.w + first.w, width, stride,
                       predicted.data() + row, hit.data() + row, probability.data() + row);
    }
    // The anatomy underneath: the image's grey values (its sample, channel 0).
    const bool underlay =
        image_volume && image_volume->shape().voxels_per_channel() == shape.voxels_per_channel();
    if (underlay) {
        const Shape& is = image_volume->shape();
        const std::int64_t sample = std::clamp<std::int64_t>(view.sample, 0, is.n - 1);
        const auto base = static_cast<std::size_t>(sample * is.voxels_per_sample());
        for (int y = 0; y < height; ++y) {
            for (int x = 0; x < width; ++x) {
                const Voxel voxel = in_plane_voxel(axis, slice, x, y);
                const auto flat = static_cast<std::size_t>((voxel.d * shape.h + voxel.h) * shape.w + voxel.w);
                const std::uint8_t grey =
                    window_grey(element_value(*image_volume, base + flat), layers.window, layers.level);
                std::uint8_t* pixel = &rgba[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                                             static_cast<std::size_t>(x)) *
                                            4];
                pixel[0] = pixel[1] = pixel[2] = grey;
            }
        }
    }

    if (layers.mode == DisplayMode::Lesions && lesions && lesions->shape == shape &&
        lesions->sample == view.sample) {
        paint_lesions(rgba, *lesions, axis, slice, width, height, layers);
        image.rgba = orient_pixels(rgba, image.geometry, extents);
        return image;
    }
    if (layers.mode == DisplayMode::Labels) {
        // Every label in its colour: the target filled, the prediction outlined.
        std::vector<std::uint8_t> label_predicted(count), label_hit(count);
        for (const LabelStyle& style : labels ? *labels : std::vector<LabelStyle>{}) {
            if (style.value <= 0 || !style.visible) {
                continue;
            }
            PairView label_view = view;
            label_view.label = style.value;
            const PairClassifier label_classifier(prediction, target, label_view);
            for (int y = 0; y < height; ++y) {
                const Voxel first = in_plane_voxel(axis, slice, 0, y);
                const std::size_t row = static_cast<std::size_t>(y) * static_cast<std::size_t>(width);
                label_classifier.run((first.d * shape.h + first.h) * shape.w + first.w, width, stride,
                                     label_predicted.data() + row, label_hit.data() + row);
            }
            for (int y = 0; y < height; ++y) {
                for (int x = 0; x < width; ++x) {
                    const std::size_t i = static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                                          static_cast<std::size_t>(x);
                    std::uint8_t* pixel = &rgba[i * 4];
                    if (layers.target_style != LayerStyle::Hidden && label_hit[i]) {
                        paint(pixel, style.colour, layers.target_opacity * style.opacity);
                    }
                    if (layers.prediction_style != LayerStyle::Hidden &&
                        on_outline(label_predicted, width, height, x, y)) {
                        paint(pixel, style.colour, layers.prediction_opacity);
                    }
                }
            }
        }
        image.rgba = orient_pixels(rgba, image.geometry, extents);
        return image;
    }

    const bool soft = is_floating(prediction.type());
    for (int y = 0; y < height; ++y) {
        for (int x = 0; x < width; ++x) {
            const std::size_t i = static_cast<std::size_t>(y) * static_cast<std::size_t>(width) + x;
            std::uint8_t* pixel = &rgba[i * 4];
            // Lesions without a (current) overlay: the errors.
            if (layers.mode == DisplayMode::Errors || layers.mode == DisplayMode::Lesions) {
                if (layers.prediction_style != LayerStyle::Hidden && soft && !underlay) {
                    // TN background: the probability, dimmed, so soft predictions stay visible.
                    const auto grey =
                        static_cast<std::uint8_t>(std::clamp(probability[i], 0.0f, 1.0f) * 90.0f);
                    pixel[0] = pixel[1] = pixel[2] = grey;
                }
                if (predicted[i] && hit[i]) {
                    paint(pixel, layers.true_positive, layers.error_opacity);
                } else if (predicted[i]) {
                    paint(pixel, layers.false_positive, layers.error_opacity);
                } else if (hit[i]) {
                    paint(pixel, layers.false_negative, layers.error_opacity);
                }
                continue;
            }
            switch (layers.prediction_style) {
            case LayerStyle::Colormap:
                if (soft) {
                    paint(pixel, probability_colour(probability[i]), layers.prediction_opacity);
                } else if (predicted[i]) {
                    paint(pixel, layers.prediction, layers.prediction_opacity);
                }
                break;
            case LayerStyle::Filled:
                if (predicted[i]) {
                    paint(pixel, layers.prediction, layers.prediction_opacity);
                }
                break;
            case LayerStyle::Outline:
                if (on_outline(predicted, width, height, x, y)) {
                    paint(pixel, layers.prediction, layers.prediction_opacity);
                }
                break;
            case LayerStyle::Hidden: break;
            }
            switch (layers.target_style) {
            case LayerStyle::Filled:
            case LayerStyle::Colormap:
                if (hit[i]) {
                    paint(pixel, layers.target, layers.target_opacity);
                }
                break;
            case LayerStyle::Outline:
                if (on_outline(hit, width, height, x, y)) {
                    paint(pixel, layers.target, layers.target_opacity);
                }
                break;
            case LayerStyle::Hidden: break;
            }
        }
    }
    image.rgba = orient_pixels(rgba, image.geometry, extents);
    return image;
}

namespace {

DifferenceClass difference_of(bool a_predicted, bool a_hit, bool b_predicted, bool b_hit)
{
    const bool a_right = a_predicted == a_hit;
    const bool b_right = b_predicted == b_hit;
    if (a_right && b_right) {
        return DifferenceClass::BothRight;
    }
    if (a_right) {
        return DifferenceClass::OnlyARight;
    }
    return b_right ? DifferenceClass::OnlyBRight : DifferenceClass::BothWrong;
}

// Differences of a run of voxels (PairClassifier::run's layout) into out.
struct DifferenceRun {
    PairClassifier a, b;
    std::vector<std::uint8_t> a_predicted, a_hit, b_predicted, b_hit;

    DifferenceRun(const Volume& va, const Volume& vb, const Volume& target, const PairView& view_a,
                  const PairView& view_b)
        : a(va, target, view_a), b(vb, target, view_b)
    {}
    template <class Emit> void run(std::int64_t first, std::int64_t count, std::int64_t stride, Emit&& emit)
    {
        for (auto* buffer : {&a_predicted, &a_hit, &b_predicted, &b_hit}) {
            buffer->resize(static_cast<std::size_t>(count));
        }
        a.run(first, count, stride, a_predicted.data(), a_hit.data());
        b.run(first, count, stride, b_predicted.data(), b_hit.data());
        for (std::int64_t i = 0; i < count; ++i) {
            const auto k = static_cast<std::size_t>(i);
            emit(i, difference_of(a_predicted[k] != 0, a_hit[k] != 0, b_predicted[k] != 0, b_hit[k] != 0));
        }
    }
};

} // namespace

DifferenceClass classify_difference(const Volume& a, const Volume& b, const Volume& target,
                                    const PairView& view_a, const PairView& view_b, const Voxel& voxel)
{
    DifferenceRun differences(a, b, target, view_a, view_b);
    const Shape& shape = a.shape();
    DifferenceClass result = DifferenceClass::BothRight;
    differences.run((voxel.d * shape.h + voxel.h) * shape.w + voxel.w, 1, 1,
                    [&](std::int64_t, DifferenceClass value) { result = value; });
    return result;
}

DifferenceCounts count_differences(const Volume& a, const Volume& b, const Volume& target,
                                   const PairView& view_a, const PairView& view_b,
                                   const std::atomic<bool>* cancel)
{
    DifferenceCounts counts;
    const Shape& shape = a.shape();
    DifferenceRun differences(a, b, target, view_a, view_b);
    for (std::int64_t d = 0; d < shape.d; ++d) {
        if (cancel && cancel->load(std::memory_order_relaxed)) {
            return counts;
        }
        for (std::int64_t h = 0; h < shape.h; ++h) {
            differences.run((d * shape.h + h) * shape.w, shape.w, 1,
                            [&](std::int64_t, DifferenceClass value) {
                                switch (value) {
                                case DifferenceClass::BothRight: ++counts.both_right; break;
                                case DifferenceClass::OnlyARight: ++counts.only_a_right; break;
                                case DifferenceClass::OnlyBRight: ++counts.only_b_right; break;
                                case DifferenceClass::BothWrong: ++counts.both_wrong; break;
                                }
                            });
        }
    }
    return counts;
}

SliceImage compose_difference_slice(const Volume& a, const Volume& b, const Volume& target,
                                    const PairView& view_a, const PairView& view_b, ViewAxis axis,
                                    std::int64_t index, Convention convention)
{
    SliceImage image;
    const Shape& shape = a.shape();
    image.geometry = slice_geometry(shape, target.geometry(), axis, convention);
    const auto extents = in_plane_extents(shape, axis);
    const int width = static_cast<int>(extents[0]);
    const int height = static_cast<int>(extents[1]);
    const auto count = static_cast<std::size_t>(width) * static_cast<std::size_t>(height);
    std::vector<std::uint8_t> rgba(count * 4, 0);
    const std::int64_t slice = std::clamp<std::int64_t>(index, 0, axis_extent(shape, axis) - 1);
    DifferenceRun differences(a, b, target, view_a, view_b);
    const std::int64_t stride = axis == ViewAxis::Sagittal ? shape.w : 1;
    for (int y = 0; y < height; ++y) {
        const Voxel first = in_plane_voxel(axis, slice, 0, y);
        differences.run((first.d * shape.h + first.h) * shape.w + first.w, width, stride,
                        [&](std::int64_t x, DifferenceClass value) {
                            std::uint8_t* pixel =
                                &rgba[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                                       static_cast<std::size_t>(x)) *
                                      4];
                            pixel[3] = 255;
                            switch (value) {
                            case DifferenceClass::BothRight: break;
                            case DifferenceClass::OnlyARight: paint(pixel, kOnlyARightColour, 1.0); break;
                            case DifferenceClass::OnlyBRight: paint(pixel, kOnlyBRightColour, 1.0); break;
                            case DifferenceClass::BothWrong: paint(pixel, kBothWrongColour, 1.0); break;
                            }
                        });
    }
    image.rgba = orient_pixels(rgba, image.geometry, extents);
    return image;
}

} // namespace masklens::ui
