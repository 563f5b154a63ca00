#include "masklens/ui/image_underlay.h"

#include "masklens/engine/error.h"
#include "masklens/ui/slice_model.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace masklens::ui {

void check_image(const Volume& image, const Volume& target)
{
    const Shape& is = image.shape();
    const Shape& ts = target.shape();
    const auto refuse = [&](const std::string& why) { throw_input_error(image.source(), why); };
    if (is.c != 1) {
        refuse("an image under the masks needs one channel, this one has " + std::to_string(is.c) +
               " (shape " + is.to_string() + ")");
    }
    if (is.d != ts.d || is.h != ts.h || is.w != ts.w) {
        refuse("its grid " + std::to_string(is.d) + " x " + std::to_string(is.h) + " x " +
               std::to_string(is.w) + " (D x H x W) differs from the target's " + std::to_string(ts.d) +
               " x " + std::to_string(ts.h) + " x " + std::to_string(ts.w) + " (" + target.source() + ")");
    }
    if (is.n != 1 && is.n != ts.n) {
        refuse("it has " + std::to_string(is.n) + " samples, the target " + std::to_string(ts.n) +
               " (one image for all samples, or one per sample)");
    }
    check_same_geometry(target, image, 1e-4, {"target", ""});
}

std::array<double, 2> value_percentiles(const Volume& image, double low, double high)
{
    const std::int64_t count = image.shape().voxels_per_sample();
    constexpr std::int64_t kMostValues = std::int64_t{1} << 20;
    const std::int64_t stride = std::max<std::int64_t>(1, count / kMostValues);
    std::vector<double> values;
    values.reserve(static_cast<std::size_t>(count / stride + 1));
    for (std::int64_t i = 0; i < count; i += stride) {
        const double value = element_value(image, static_cast<std::size_t>(i));
        if (std::isfinite(value)) {
            values.push_back(value);
        }
    }
    if (values.empty()) {
        return {0.0, 1.0};
    }
    const auto at = [&](double fraction) {
        const auto rank = static_cast<std::size_t>(
            std::lround(std::clamp(fraction, 0.0, 1.0) * static_cast<double>(values.size() - 1)));
        std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(rank), values.end());
        return values[rank];
    };
    return {at(low), at(high)};
}

std::array<double, 2> preset_window(WindowPreset preset, const std::array<double, 2>& percentiles)
{
    switch (preset) {
    case WindowPreset::SoftTissue: return {400.0, 40.0};
    case WindowPreset::Lung: return {1500.0, -600.0};
    case WindowPreset::Bone: return {1800.0, 400.0};
    case WindowPreset::Percentile: break;
    }
    const double window = std::max(percentiles[1] - percentiles[0], 1e-6);
    return {window, (percentiles[0] + percentiles[1]) / 2.0};
}

WindowPreset default_preset(const std::array<double, 2>& percentiles)
{
    return percentiles[0] <= -500.0 ? WindowPreset::SoftTissue : WindowPreset::Percentile;
}

} // namespace masklens::ui
