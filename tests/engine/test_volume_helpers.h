// Building small in-memory volumes for engine tests (no file readers).
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/volume.h"

#include <cmath>

#include <cstring>
#include <string>
#include <vector>

namespace masklens::testing {

template <class T>
Volume make_volume(const std::string& name, ScalarType type, Shape shape, const std::vector<T>& values)
{
    Volume volume(name, type, shape);
    if (values.size() * sizeof(T) == volume.byte_size()) {
        std::memcpy(volume.data(), values.data(), volume.byte_size());
    }
    return volume;
}

inline Shape shape2d(std::int64_t n, std::int64_t c, std::int64_t h, std::int64_t w)
{
    Shape shape;
    shape.n = n;
    shape.c = c;
    shape.h = h;
    shape.w = w;
    shape.spatial_dims = 2;
    return shape;
}

inline Shape shape3d(std::int64_t n, std::int64_t c, std::int64_t d, std::int64_t h, std::int64_t w)
{
    Shape shape = shape2d(n, c, h, w);
    shape.d = d;
    shape.spatial_dims = 3;
    return shape;
}

// The value of `metric` in a row of values of `evaluation` (NaN if absent).
inline double value_of(const Evaluation& evaluation, const MetricValues& values, Metric metric)
{
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        if (evaluation.metrics[m] == metric) {
            return values[m];
        }
    }
    return std::nan("");
}

inline StatisticsOptions with_metrics(std::vector<Metric> metrics)
{
    StatisticsOptions options;
    options.metrics = std::move(metrics);
    return options;
}

} // namespace masklens::testing
