#include "masklens/ui/chart_axis.h"

#include <algorithm>
#include <cmath>

namespace masklens::ui {

double nice_step(double span, int max_intervals)
{
    if (!std::isfinite(span) || span <= 0) {
        return 1.0;
    }
    max_intervals = std::max(1, max_intervals);
    const double raw = span / max_intervals;
    double scale = std::pow(10.0, std::floor(std::log10(raw)));
    for (;;) {
        for (const double factor : {1.0, 2.0, 5.0}) {
            const double step = factor * scale;
            // 1e-9: 0.3 / 0.1 is 2.9999999999999996, which is 3 intervals.
            if (span / step <= max_intervals * (1 + 1e-9)) {
                return step;
            }
        }
        scale *= 10;
    }
}

std::vector<double> AxisScale::ticks() const
{
    std::vector<double> result;
    const auto count = static_cast<long long>(std::llround((high - low) / step));
    for (long long i = 0; i <= count; ++i) {
        result.push_back(low + static_cast<double>(i) * step);
    }
    return result;
}

AxisScale nice_scale(double lowest, double highest, ValueRange range, int max_intervals)
{
    double low = std::isfinite(lowest) ? lowest : NAN;
    double high = std::isfinite(highest) ? highest : NAN;
    if (std::isnan(low) || std::isnan(high)) {
        low = 0;
        high = range == ValueRange::UnitInterval ? 1.0 : 0.0;
    }
    if (low > high) {
        std::swap(low, high);
    }
    if (range == ValueRange::UnitInterval) {
        low = std::min(low, 0.0);
        high = std::max(high, 1.0);
    } else if (low >= 0) {
        low = 0;
    }
    if (high - low <= 0) {
        high = low + 1; // all zero (or one value): a unit range above it
    }
    AxisScale scale;
    // A step, then the range widened to its multiples; widening can add an
    // interval, so grow the step until the count fits.
    scale.step = nice_step(high - low, max_intervals);
    for (;;) {
        scale.low = std::floor(low / scale.step + 1e-9) * scale.step;
        scale.high = std::ceil(high / scale.step - 1e-9) * scale.step;
        if ((scale.high - scale.low) / scale.step <= max_intervals + 1e-9) {
            break;
        }
        scale.step = nice_step(scale.step * 1.5 * max_intervals, max_intervals);
    }
    scale.decimals = std::max(0, static_cast<int>(-std::floor(std::log10(scale.step) + 1e-9)));
    return scale;
}

} // namespace masklens::ui
