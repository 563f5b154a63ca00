// Round axis scales for the charts: ticks on 1-2-5 steps (0.1, 0.2, 0.5, 1,
// 2, 5, 10, ...) covering the data, starting from the range the metric table
// gives the metric (Dice 0..1, distances from 0). Toolkit-free.
#pragma once

#include "masklens/engine/metrics.h"

#include <vector>

namespace masklens::ui {

// A round step: the smallest 1, 2 or 5 times a power of ten that splits
// `span` (> 0) into at most `max_intervals` (>= 1) intervals. Non-finite or
// non-positive span: 1.
double nice_step(double span, int max_intervals);

struct AxisScale {
    double low = 0, high = 1, step = 0.2; // low and high are multiples of step
    int decimals = 1;                     // digits after the point a tick label needs
    std::vector<double> ticks() const;    // low, low + step, ..., high
};

// The scale for finite values in [lowest, highest] (either may be NaN: no
// data) with at most `max_intervals` intervals: the range is widened to
// multiples of a nice_step, and for ValueRange::UnitInterval at least [0, 1],
// for ValueRange::NonNegative it starts at 0 unless a value is negative.
AxisScale nice_scale(double lowest, double highest, ValueRange range, int max_intervals = 5);

} // namespace masklens::ui
