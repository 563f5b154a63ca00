// Shared data for the UI tests: the seed's 2D batch and 3D example, and a
// small synthetic 3D pair with known TP / FP / FN voxels and non-unit spacing.
#pragma once

#include "masklens/engine/evaluate.h"
#include "masklens/engine/statistics.h"
#include "masklens/engine/volume.h"
#include "masklens/ui/session_presenter.h"

#include <QString>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace masklens::ui::test {

inline std::shared_ptr<Volume> make_float(const std::string& name, const Shape& shape,
                                          const std::vector<float>& values)
{
    auto volume = std::make_shared<Volume>(name, ScalarType::Float32, shape);
    std::memcpy(volume->data(), values.data(), values.size() * sizeof(float));
    return volume;
}

inline std::shared_ptr<Volume> make_u8(const std::string& name, const Shape& shape,
                                       const std::vector<std::uint8_t>& values)
{
    auto volume = std::make_shared<Volume>(name, ScalarType::UInt8, shape);
    std::memcpy(volume->data(), values.data(), values.size());
    return volume;
}

inline Shape seed_2d_shape()
{
    Shape shape;
    shape.n = 2;
    shape.h = 4;
    shape.w = 4;
    shape.spatial_dims = 2;
    return shape;
}

inline std::shared_ptr<Volume> seed_2d_prediction()
{
    return make_float("seed_2d_pred", seed_2d_shape(), {0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, //
                                                        0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 0});
}

inline std::shared_ptr<Volume> seed_2d_target()
{
    return make_float("seed_2d_target", seed_2d_shape(), {0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 0, 1, 0, //
                                                          1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0});
}

inline Shape seed_3d_shape()
{
    Shape shape;
    shape.d = 2;
    shape.h = 3;
    shape.w = 3;
    shape.spatial_dims = 3;
    return shape;
}

inline std::shared_ptr<Volume> seed_3d_prediction()
{
    return make_float("seed_3d_pred", seed_3d_shape(),
                      {0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 0, 1, 0, 1});
}

inline std::shared_ptr<Volume> seed_3d_target()
{
    return make_float("seed_3d_target", seed_3d_shape(),
                      {0, 1, 1, 1, 0, 0, 0, 1, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1});
}

// Synthetic pair: D=12, H=16, W=16, spacing 0.8 x 0.8 x 2.5 mm. Target: a
// ball at (6, 8, 8) of radius 4.5 voxels (uint8); prediction: soft
// probabilities of a ball at (6, 8, 10). Known voxels (d, h, w):
//   TP (6, 8, 8), FP (6, 8, 13), FN (6, 8, 4), TN (6, 14, 14).
inline Shape synthetic_shape()
{
    Shape shape;
    shape.d = 12;
    shape.h = 16;
    shape.w = 16;
    shape.spatial_dims = 3;
    return shape;
}

inline void set_spacing(Volume& volume)
{
    volume.geometry().spacing = {0.8, 0.8, 2.5};
    volume.geometry().known = true;
}

inline std::shared_ptr<Volume> synthetic_prediction()
{
    const Shape s = synthetic_shape();
    std::vector<float> values;
    for (std::int64_t d = 0; d < s.d; ++d) {
        for (std::int64_t h = 0; h < s.h; ++h) {
            for (std::int64_t w = 0; w < s.w; ++w) {
                const double dist =
                    std::sqrt(double((d - 6) * (d - 6) + (h - 8) * (h - 8) + (w - 10) * (w - 10)));
                values.push_back(static_cast<float>(std::clamp(0.5 + (4.5 - dist) * 0.3, 0.0, 1.0)));
            }
        }
    }
    auto volume = make_float("synthetic_pred", s, values);
    set_spacing(*volume);
    return volume;
}

inline std::shared_ptr<Volume> synthetic_target()
{
    const Shape s = synthetic_shape();
    std::vector<std::uint8_t> values;
    for (std::int64_t d = 0; d < s.d; ++d) {
        for (std::int64_t h = 0; h < s.h; ++h) {
            for (std::int64_t w = 0; w < s.w; ++w) {
                const double dist =
                    std::sqrt(double((d - 6) * (d - 6) + (h - 8) * (h - 8) + (w - 8) * (w - 8)));
                values.push_back(dist <= 4.5 ? 1 : 0);
            }
        }
    }
    auto volume = make_u8("synthetic_target", s, values);
    set_spacing(*volume);
    return volume;
}

// A soft ball prediction on the synthetic grid: centre (6, 8, centre_w),
// probabilities falling off around `radius` voxels (as synthetic_prediction).
inline std::shared_ptr<Volume> ball_prediction(const std::string& name, double centre_w, double radius)
{
    const Shape s = synthetic_shape();
    std::vector<float> values;
    for (std::int64_t d = 0; d < s.d; ++d) {
        for (std::int64_t h = 0; h < s.h; ++h) {
            for (std::int64_t w = 0; w < s.w; ++w) {
                const double dw = static_cast<double>(w) - centre_w;
                const double dist = std::sqrt(double((d - 6) * (d - 6) + (h - 8) * (h - 8)) + dw * dw);
                values.push_back(static_cast<float>(std::clamp(0.5 + (radius - dist) * 0.3, 0.0, 1.0)));
            }
        }
    }
    auto volume = make_float(name, s, values);
    set_spacing(*volume);
    return volume;
}

// Writes a float32 C-order .npy file (format 1.0).
inline void write_npy_float(const std::string& path, const std::vector<std::int64_t>& dims,
                            const std::vector<float>& values)
{
    std::string shape = "(";
    for (const std::int64_t dim : dims) {
        shape += std::to_string(dim) + ", ";
    }
    if (dims.size() > 1) {
        shape.erase(shape.size() - 1);
    }
    shape += ")";
    std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    while ((10 + header.size() + 1) % 64 != 0) {
        header += ' ';
    }
    header += '\n';
    std::ofstream out(path, std::ios::binary);
    out.write("\x93NUMPY\x01\x00", 8);
    const auto length = static_cast<std::uint16_t>(header.size());
    const char length_bytes[2] = {static_cast<char>(length & 0xFF), static_cast<char>(length >> 8)};
    out.write(length_bytes, 2);
    out.write(header.data(), static_cast<std::streamsize>(header.size()));
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * sizeof(float)));
}

// A volume's elements as float32, in order (for write_npy_float).
inline std::vector<float> float_values(const Volume& volume)
{
    std::vector<float> out(static_cast<std::size_t>(volume.shape().elements()));
    for (std::size_t i = 0; i < out.size(); ++i) {
        out[i] = static_cast<float>(element_value(volume, i));
    }
    return out;
}

// The synthetic pair as .npy files in `dir` (float32 prediction, float32 target).
inline std::pair<QString, QString> write_synthetic_pair(const QTemporaryDir& dir)
{
    const Shape s = synthetic_shape();
    const QString prediction = dir.filePath(QStringLiteral("pred.npy"));
    const QString target = dir.filePath(QStringLiteral("target.npy"));
    write_npy_float(prediction.toStdString(), {s.d, s.h, s.w}, float_values(*synthetic_prediction()));
    write_npy_float(target.toStdString(), {s.d, s.h, s.w}, float_values(*synthetic_target()));
    return {prediction, target};
}

// Two uint8 label maps 4 x 6 x 6 (labels 1 and 2 side by side): the prediction's
// label 1 reaches one column further in row 2, its label 2 misses its last row.
inline std::pair<std::shared_ptr<Volume>, std::shared_ptr<Volume>> label_map_pair()
{
    Shape shape;
    shape.d = 4;
    shape.h = 6;
    shape.w = 6;
    shape.spatial_dims = 3;
    std::vector<std::uint8_t> target(144, 0), prediction(144, 0);
    for (std::int64_t d = 0; d < 4; ++d) {
        for (std::int64_t h = 1; h < 5; ++h) {
            for (std::int64_t w = 1; w < 5; ++w) {
                const auto at = static_cast<std::size_t>((d * 6 + h) * 6 + w);
                target[at] = w < 3 ? 1 : 2;
                prediction[at] = w < 3 ? 1 : (h == 4 ? 0 : 2);
            }
        }
        prediction[static_cast<std::size_t>((d * 6 + 2) * 6 + 0)] = 1;
    }
    return {make_u8("labels_pred", shape, prediction), make_u8("labels_target", shape, target)};
}

// Engine options for `settings`, written out here rather than taken from the
// app's statistics_options() so that the tests check that mapping too. With a
// `tolerance`, the surface-distance metrics are added (nsd at that tolerance).
inline StatisticsOptions engine_options(const EvaluationSettings& settings,
                                        std::optional<double> tolerance = std::nullopt)
{
    StatisticsOptions options;
    options.metrics = gui_metrics();
    if (tolerance) {
        for (const Metric metric : gui_distance_metrics()) {
            options.metrics.push_back(metric);
        }
        options.metric.nsd_tolerance_mm = *tolerance;
    }
    options.metric.threshold = settings.threshold;
    options.metric.activation = settings.activation;
    options.metric.decision = settings.decision;
    options.metric.smooth_nr = settings.smooth;
    options.metric.smooth_dr = settings.smooth;
    options.metric.empty = settings.empty;
    options.axis = settings.axis;
    return options;
}

// The engine's evaluation with the options the presenter uses.
inline Evaluation engine_evaluation(const Volume& prediction, const Volume& target,
                                    const EvaluationSettings& settings = {})
{
    return evaluate(prediction, target, engine_options(settings));
}

// The engine's evaluation with the surface-distance metrics the app shows
// (hd95, assd, nsd at `tolerance` mm, hd), same settings otherwise.
inline Evaluation engine_distance_evaluation(const Volume& prediction, const Volume& target, double tolerance,
                                             const EvaluationSettings& settings = {})
{
    return evaluate(prediction, target, engine_options(settings, tolerance));
}

// The same through the engine's two steps, run directly: compute_statistics
// (the pass) then complete_evaluation (derived values + surface distances).
inline Evaluation engine_complete_evaluation(const Volume& prediction, const Volume& target, double tolerance,
                                             const EvaluationSettings& settings = {})
{
    const StatisticsOptions options = engine_options(settings, tolerance);
    return complete_evaluation(compute_statistics(prediction, target, options), prediction, target, options);
}

// Index of `metric` in an evaluation's values.
inline std::size_t metric_at(const Evaluation& evaluation, Metric metric)
{
    const auto found = std::find(evaluation.metrics.begin(), evaluation.metrics.end(), metric);
    if (found == evaluation.metrics.end()) {
        throw std::runtime_error("metric not evaluated");
    }
    return static_cast<std::size_t>(found - evaluation.metrics.begin());
}

// Both NaN, both the same infinity, or equal.
inline bool same_value(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

inline bool same_values(const MetricValues& a, const MetricValues& b)
{
    if (a.size() != b.size()) {
        return false;
    }
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (std::isnan(a[i]) != std::isnan(b[i]) || (!std::isnan(a[i]) && a[i] != b[i])) {
            return false;
        }
    }
    return true;
}

} // namespace masklens::ui::test
