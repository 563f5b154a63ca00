// CPU-GPU parity: the CUDA path against the CPU pass on random inputs of
// awkward sizes. Skips (QSKIP) when the build has no CUDA path or no device
// is present.
//
// Tolerances (relative, against the larger magnitude):
//   counts (elements, tp, fp, fn, tn and the label counts): exact;
//   float sums without transcendental functions (mse, mae, dice/iou/tversky
//     sums) when the prediction is not a logit: 1e-12, as the per-element
//     terms are rounded identically (-fmad=false) and only the order of the
//     double additions differs;
//   bce and focal sums, and every float sum with --logits (the sigmoid):
//     1e-6 in float precision, since the CPU's vectorised log/exp/pow (Eigen,
//     possibly FMA-contracted at -march=x86-64-v3) and CUDA's differ by a few
//     float ulps per element; 1e-12 when either input is float64 (double
//     precision terms);
//   every metric value: 1e-6.
#include "gpu_test_support.h"
#include "masklens/engine/components.h"
#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/gpu/backend.h"
#include "masklens/gpu/chunk_plan.h"
#include "masklens/gpu/cuda_components.h"
#include "masklens/gpu/cuda_statistics.h"

#include <QtTest>

#include <atomic>
#include <cmath>
#include <cstring>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace masklens;

namespace {

Shape make_shape(std::int64_t n, std::int64_t c, std::int64_t d, std::int64_t h, std::int64_t w, int dims = 3)
{
    Shape shape;
    shape.n = n;
    shape.c = c;
    shape.d = d;
    shape.h = h;
    shape.w = w;
    shape.spatial_dims = dims;
    return shape;
}

Shape with_channels(Shape shape, std::int64_t channels)
{
    shape.c = channels;
    return shape;
}

enum class Fill { Probability, Logit, Mask, Labels, Zero };

std::uint16_t to_half(float value)
{
    std::uint32_t bits = 0;
    std::memcpy(&bits, &value, sizeof bits);
    const auto sign = static_cast<std::uint16_t>((bits >> 16) & 0x8000u);
    const int exponent = static_cast<int>((bits >> 23) & 0xffu) - 127 + 15;
    const auto mantissa = static_cast<std::uint16_t>((bits >> 13) & 0x3ffu);
    if ((bits & 0x7fffffffu) == 0 || exponent <= 0) {
        return sign;
    }
    if (exponent >= 31) {
        return static_cast<std::uint16_t>(sign | 0x7c00u);
    }
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(exponent << 10) | mantissa);
}

void store(Volume& volume, std::int64_t index, double value)
{
    const auto i = static_cast<std::size_t>(index);
    const auto integer = static_cast<long long>(std::llround(value));
    switch (volume.type()) {
    case ScalarType::Bool:
    case ScalarType::UInt8: volume.data_as<std::uint8_t>()[i] = static_cast<std::uint8_t>(integer); break;
    case ScalarType::Int8: volume.data_as<std::int8_t>()[i] = static_cast<std::int8_t>(integer); break;
    case ScalarType::Int16: volume.data_as<std::int16_t>()[i] = static_cast<std::int16_t>(integer); break;
    case ScalarType::UInt16: volume.data_as<std::uint16_t>()[i] = static_cast<std::uint16_t>(integer); break;
    case ScalarType::Int32: volume.data_as<std::int32_t>()[i] = static_cast<std::int32_t>(integer); break;
    case ScalarType::UInt32: volume.data_as<std::uint32_t>()[i] = static_cast<std::uint32_t>(integer); break;
    case ScalarType::Int64: volume.data_as<std::int64_t>()[i] = integer; break;
    case ScalarType::UInt64: volume.data_as<std::uint64_t>()[i] = static_cast<std::uint64_t>(integer); break;
    case ScalarType::Float16: volume.data_as<std::uint16_t>()[i] = to_half(static_cast<float>(value)); break;
    case ScalarType::Float32: volume.data_as<float>()[i] = static_cast<float>(value); break;
    case ScalarType::Float64: volume.data_as<double>()[i] = value; break;
    }
}

Volume random_volume(const std::string& name, ScalarType type, const Shape& shape, Fill fill, unsigned seed,
                     int max_label = 1)
{
    Volume volume(name, type, shape);
    std::mt19937_64 generator(seed);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::normal_distribution<double> normal(0.0, 3.0);
    std::uniform_int_distribution<int> label(1, std::max(1, max_label));
    for (std::int64_t i = 0; i < shape.elements(); ++i) {
        double value = 0;
        switch (fill) {
        case Fill::Probability:
            value = is_label_type(type) ? (uniform(generator) < 0.45 ? 1 : 0) : uniform(generator);
            break;
        case Fill::Logit: value = normal(generator); break;
        case Fill::Mask: value = uniform(generator) < 0.4 ? 1 : 0; break;
        case Fill::Labels: value = uniform(generator) < 0.3 ? 0 : label(generator); break;
        case Fill::Zero: value = 0; break;
        }
        store(volume, i, value);
    }
    return volume;
}

bool close(double a, double b, double relative)
{
    if (std::isnan(a) || std::isnan(b)) {
        return std::isnan(a) && std::isnan(b);
    }
    if (a == b) {
        return true;
    }
    return std::abs(a - b) <= relative * std::max(std::abs(a), std::abs(b));
}

struct Tolerance {
    double sums = 1e-12; // float sums without logs
    double logs = 1e-6;  // bce and focal
};

Tolerance tolerance_for(const Volume& prediction, const Volume& target, const StatisticsOptions& options)
{
    const bool double_precision =
        prediction.type() == ScalarType::Float64 || target.type() == ScalarType::Float64;
    Tolerance tolerance;
    if (double_precision) {
        tolerance.logs = 1e-12;
    } else if (options.metric.logits()) {
        tolerance.sums = 1e-6;
    }
    return tolerance;
}

// The first difference between two regions, or empty.
std::string region_difference(const RegionStats& cpu, const RegionStats& gpu, const Tolerance& tolerance)
{
    std::ostringstream text;
    text.precision(17);
    const auto count = [&](const char* name, std::int64_t a, std::int64_t b) {
        if (a != b && text.tellp() == 0) {
            text << name << ": cpu " << a << " gpu " << b;
        }
    };
    const auto sum = [&](const char* name, double a, double b, double relative) {
        if (!close(a, b, relative) && text.tellp() == 0) {
            text << name << ": cpu " << a << " gpu " << b << " (tolerance " << relative << ")";
        }
    };
    count("elements", cpu.elements, gpu.elements);
    count("pred_positive", cpu.pred_positive, gpu.pred_positive);
    count("target_positive", cpu.target_positive, gpu.target_positive);
    count("true_positive", cpu.true_positive, gpu.true_positive);
    sum("squared_error", cpu.squared_error, gpu.squared_error, tolerance.sums);
    sum("absolute_error", cpu.absolute_error, gpu.absolute_error, tolerance.sums);
    sum("pred_sum", cpu.pred_sum, gpu.pred_sum, tolerance.sums);
    sum("target_sum", cpu.target_sum, gpu.target_sum, tolerance.sums);
    sum("overlap_sum", cpu.overlap_sum, gpu.overlap_sum, tolerance.sums);
    sum("bce", cpu.bce, gpu.bce, tolerance.logs);
    sum("focal", cpu.focal, gpu.focal, tolerance.logs);
    return text.str();
}

std::string statistics_difference(const BatchStatistics& cpu, const BatchStatistics& gpu,
                                  const Tolerance& tolerance)
{
    if (!(cpu.shape == gpu.shape) || cpu.pairing != gpu.pairing || cpu.axis != gpu.axis ||
        cpu.slices_per_sample != gpu.slices_per_sample) {
        return "layout differs";
    }
    if (cpu.labels != gpu.labels) {
        return "reported labels differ";
    }
    if (cpu.slices.size() != gpu.slices.size() || cpu.label_slices.size() != gpu.label_slices.size()) {
        return "region counts differ";
    }
    for (std::size_t i = 0; i < cpu.slices.size(); ++i) {
        const std::string difference = region_difference(cpu.slices[i], gpu.slices[i], tolerance);
        if (!difference.empty()) {
            return "slice " + std::to_string(i) + ": " + difference;
        }
    }
    for (std::size_t i = 0; i < cpu.label_slices.size(); ++i) {
        const std::string difference = region_difference(cpu.label_slices[i], gpu.label_slices[i], tolerance);
        if (!difference.empty()) {
            return "label slice " + std::to_string(i) + ": " + difference;
        }
    }
    return {};
}

std::string values_difference(const MetricValues& cpu, const MetricValues& gpu, const std::string& where)
{
    if (cpu.size() != gpu.size()) {
        return where + ": value counts differ";
    }
    for (std::size_t m = 0; m < cpu.size(); ++m) {
        if (!close(cpu[m], gpu[m], 1e-6)) {
            std::ostringstream text;
            text.precision(17);
            text << where << ", metric " << m << ": cpu " << cpu[m] << " gpu " << gpu[m];
            return text.str();
        }
    }
    return {};
}

std::string evaluation_difference(const Evaluation& cpu, const Evaluation& gpu)
{
    std::string difference = values_difference(cpu.batch, gpu.batch, "batch");
    if (!difference.empty() || cpu.batch_valid != gpu.batch_valid) {
        return difference.empty() ? "batch valid counts differ" : difference;
    }
    for (std::size_t n = 0; n < cpu.samples.size(); ++n) {
        const std::string sample = "sample " + std::to_string(n);
        difference = values_difference(cpu.samples[n].values, gpu.samples[n].values, sample);
        for (std::size_t s = 0; difference.empty() && s < cpu.samples[n].slices.size(); ++s) {
            difference = values_difference(cpu.samples[n].slices[s], gpu.samples[n].slices[s],
                                           sample + " slice " + std::to_string(s));
        }
        for (std::size_t l = 0; difference.empty() && l < cpu.samples[n].labels.size(); ++l) {
            difference = values_difference(cpu.samples[n].labels[l].values, gpu.samples[n].labels[l].values,
                                           sample + " label " + std::to_string(l));
        }
        if (!difference.empty()) {
            return difference;
        }
    }
    if (cpu.labels.size() != gpu.labels.size()) {
        return "batch label counts differ";
    }
    for (std::size_t l = 0; l < cpu.labels.size(); ++l) {
        difference = values_difference(cpu.labels[l].values, gpu.labels[l].values, "batch label");
        if (!difference.empty() || cpu.labels[l].valid != gpu.labels[l].valid) {
            return difference.empty() ? "batch label valid counts differ" : difference;
        }
    }
    return {};
}

// CPU and GPU agree on statistics and metric values (or throw the same error).
std::string parity(const Volume& prediction, const Volume& target, const StatisticsOptions& options,
                   const gpu::CudaConfig& config = {})
{
    std::optional<BatchStatistics> cpu, gpu_result;
    std::string cpu_error, gpu_error;
    try {
        cpu = compute_statistics(prediction, target, options);
    } catch (const Error& error) {
        cpu_error = std::to_string(static_cast<int>(error.kind())) + " " + error.what();
    }
    try {
        gpu_result = gpu::compute_statistics_cuda(prediction, target, options, nullptr, config);
    } catch (const Error& error) {
        gpu_error = std::to_string(static_cast<int>(error.kind())) + " " + error.what();
    }
    if (!cpu || !gpu_result) {
        return cpu_error == gpu_error ? std::string()
                                      : "errors differ: cpu '" + cpu_error + "' gpu '" + gpu_error + "'";
    }
    std::string difference =
        statistics_difference(*cpu, *gpu_result, tolerance_for(prediction, target, options));
    if (!difference.empty()) {
        return difference;
    }
    const Evaluation a = derive_evaluation(*cpu, options.metrics, options.metric);
    const Evaluation b = derive_evaluation(*gpu_result, options.metrics, options.metric);
    return evaluation_difference(a, b);
}

struct Case {
    std::string name = {};
    ScalarType prediction_type = ScalarType::Float32;
    ScalarType target_type = ScalarType::UInt8;
    Shape shape = {};
    std::int64_t target_channels = 0; // 0: as the prediction
    Fill prediction_fill = Fill::Probability;
    Fill target_fill = Fill::Mask;
    int max_label = 1;
    SliceAxis axis = SliceAxis::Default;
    double threshold = 0.5;
    bool logits = false;
    double gamma = 2.0;
    std::optional<double> alpha = std::nullopt;
    std::vector<Metric> metrics = {}; // empty: all
    std::vector<std::int64_t> labels = {};
};

std::vector<Case> cases()
{
    std::vector<Case> list;
    const auto add = [&list](Case c) { list.push_back(std::move(c)); };
    const Shape prime2d = make_shape(3, 1, 1, 7, 13, 2);
    const Shape prime3d = make_shape(2, 1, 5, 7, 11);
    add({.name = "1 voxel 2D", .shape = make_shape(1, 1, 1, 1, 1, 2)});
    add({.name = "1 voxel 3D f32/f32",
         .target_type = ScalarType::Float32,
         .shape = make_shape(1, 1, 1, 1, 1)});
    for (SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
        const std::string suffix = axis == SliceAxis::D ? " D" : axis == SliceAxis::H ? " H" : " W";
        add({.name = "prime 2D" + suffix, .shape = prime2d, .axis = axis});
        add({.name = "prime 3D" + suffix, .shape = prime3d, .axis = axis});
        add({.name = "wide rows" + suffix, .shape = make_shape(2, 1, 3, 5, 257), .axis = axis});
        add({.name = "batch C=2 soft targets" + suffix,
             .target_type = ScalarType::Float32,
             .shape = make_shape(3, 2, 5, 7, 11),
             .target_fill = Fill::Probability,
             .axis = axis});
        add({.name = "one-hot 4 classes" + suffix,
             .shape = make_shape(2, 4, 3, 9, 11),
             .target_channels = 1,
             .target_fill = Fill::Labels,
             .max_label = 3,
             .axis = axis});
        add({.name = "label maps int32" + suffix,
             .prediction_type = ScalarType::Int32,
             .target_type = ScalarType::Int32,
             .shape = make_shape(2, 1, 4, 9, 13),
             .prediction_fill = Fill::Labels,
             .target_fill = Fill::Labels,
             .max_label = 5,
             .axis = axis});
        add({.name = "logits" + suffix,
             .shape = prime3d,
             .prediction_fill = Fill::Logit,
             .axis = axis,
             .logits = true});
    }
    add({.name = "large planes", .shape = make_shape(1, 1, 3, 67, 71)});
    add({.name = "f64 prediction",
         .prediction_type = ScalarType::Float64,
         .shape = make_shape(2, 1, 4, 9, 10)});
    add({.name = "f64 target",
         .target_type = ScalarType::Float64,
         .shape = prime3d,
         .target_fill = Fill::Probability});
    add({.name = "f16 prediction", .prediction_type = ScalarType::Float16, .shape = prime3d});
    add({.name = "f16 target", .target_type = ScalarType::Float16, .shape = prime3d});
    add({.name = "u8 masks C=2", .prediction_type = ScalarType::UInt8, .shape = make_shape(2, 2, 3, 5, 7)});
    add({.name = "int16/int32 masks C=3",
         .prediction_type = ScalarType::Int16,
         .target_type = ScalarType::Int32,
         .shape = make_shape(1, 3, 2, 6, 5)});
    add({.name = "bool target", .target_type = ScalarType::Bool, .shape = prime3d});
    add({.name = "int64 target", .target_type = ScalarType::Int64, .shape = prime2d});
    add({.name = "uint64 target", .target_type = ScalarType::UInt64, .shape = prime2d});
    add({.name = "int8 prediction",
         .prediction_type = ScalarType::Int8,
         .target_type = ScalarType::Float32,
         .shape = make_shape(1, 2, 1, 9, 9, 2)});
    for (double threshold : {0.3, 0.7, 1.0}) {
        add({.name = "threshold " + std::to_string(threshold), .shape = prime3d, .threshold = threshold});
    }
    add({.name = "logits f64",
         .prediction_type = ScalarType::Float64,
         .shape = prime2d,
         .prediction_fill = Fill::Logit,
         .logits = true});
    add({.name = "logits threshold 0.8",
         .shape = prime2d,
         .prediction_fill = Fill::Logit,
         .threshold = 0.8,
         .logits = true});
    add({.name = "focal gamma 1.5 alpha 0.25", .shape = prime3d, .gamma = 1.5, .alpha = 0.25});
    add({.name = "focal gamma 2 alpha 0.8 f64",
         .prediction_type = ScalarType::Float64,
         .shape = prime3d,
         .alpha = 0.8});
    add({.name = "empty masks", .shape = prime3d, .prediction_fill = Fill::Zero, .target_fill = Fill::Zero});
    add({.name = "empty target", .shape = prime3d, .target_fill = Fill::Zero});
    add({.name = "dice only", .shape = prime3d, .metrics = {Metric::Dice}});
    add({.name = "bce and mse", .shape = prime3d, .metrics = {Metric::Bce, Metric::Mse}});
    add({.name = "one-hot f64",
         .prediction_type = ScalarType::Float64,
         .shape = make_shape(1, 3, 2, 5, 130),
         .target_channels = 1,
         .target_fill = Fill::Labels,
         .max_label = 2});
    add({.name = "one-hot f16 int64 target",
         .prediction_type = ScalarType::Float16,
         .target_type = ScalarType::Int64,
         .shape = make_shape(2, 3, 1, 8, 9, 2),
         .target_channels = 1,
         .target_fill = Fill::Labels,
         .max_label = 2});
    add({.name = "one-hot logits",
         .shape = make_shape(2, 3, 2, 6, 7),
         .target_channels = 1,
         .prediction_fill = Fill::Logit,
         .target_fill = Fill::Labels,
         .max_label = 2,
         .logits = true});
    add({.name = "one-hot explicit labels",
         .shape = make_shape(1, 5, 2, 6, 7),
         .target_channels = 1,
         .target_fill = Fill::Labels,
         .max_label = 4,
         .labels = {0, 3}});
    add({.name = "label maps u8 up to 200",
         .prediction_type = ScalarType::UInt8,
         .target_type = ScalarType::UInt8,
         .shape = make_shape(2, 1, 3, 20, 21),
         .prediction_fill = Fill::Labels,
         .target_fill = Fill::Labels,
         .max_label = 200});
    add({.name = "label maps binary",
         .prediction_type = ScalarType::UInt8,
         .target_type = ScalarType::Int16,
         .shape = prime3d,
         .prediction_fill = Fill::Mask,
         .target_fill = Fill::Mask});
    add({.name = "label maps explicit labels",
         .prediction_type = ScalarType::Int64,
         .target_type = ScalarType::UInt16,
         .shape = prime3d,
         .prediction_fill = Fill::Labels,
         .target_fill = Fill::Labels,
         .max_label = 6,
         .labels = {2, 6, 300}});
    add({.name = "label maps beyond 255 (CPU fallback)",
         .prediction_type = ScalarType::Int32,
         .target_type = ScalarType::Int32,
         .shape = prime3d,
         .prediction_fill = Fill::Labels,
         .target_fill = Fill::Labels,
         .max_label = 300});
    return list;
}

StatisticsOptions options_for(const Case& c)
{
    StatisticsOptions options;
    options.metrics = c.metrics;
    options.axis = c.axis;
    options.labels = c.labels;
    options.metric.threshold = c.threshold;
    options.metric.activation = c.logits ? Activation::Sigmoid : Activation::None;
    options.metric.focal_gamma = c.gamma;
    options.metric.focal_alpha = c.alpha;
    return options;
}

std::pair<Volume, Volume> volumes_for(const Case& c, unsigned seed)
{
    const Shape target_shape = c.target_channels > 0 ? with_channels(c.shape, c.target_channels) : c.shape;
    Volume prediction =
        random_volume("prediction.npy", c.prediction_type, c.shape, c.prediction_fill, seed, c.max_label);
    if (c.target_channels == 1 && c.prediction_fill == Fill::Probability) {
        // One-hot predictions: probabilities over the channels.
        for (std::int64_t i = 0; i < c.shape.elements(); ++i) {
            const double p = 1.0 / static_cast<double>(c.shape.c) + 0.1 * std::sin(static_cast<double>(i));
            store(prediction, i, std::clamp(p, 0.0, 1.0));
        }
    }
    Volume target =
        random_volume("target.npy", c.target_type, target_shape, c.target_fill, seed + 1, c.max_label);
    return {std::move(prediction), std::move(target)};
}

// Budget that makes plan_chunks use chunks of `chunk` (two buffer sets).
std::size_t budget_for(const Volume& prediction, const Volume& target, const StatisticsOptions& options,
                       const gpu::Chunk& chunk)
{
    const PassPlan plan = plan_pass(prediction, target, options);
    gpu::ChunkProblem problem;
    problem.shape = prediction.shape();
    problem.prediction_element_bytes = scalar_size(prediction.type());
    problem.target_element_bytes = scalar_size(target.type());
    problem.pairing = plan.pairing;
    problem.axis = plan.axis;
    return 2 * gpu::chunk_device_bytes(problem, chunk);
}

} // namespace

class GpuParityTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { REQUIRE_GPU(); }

    void matches_cpu_data()
    {
        QTest::addColumn<int>("index");
        const std::vector<Case> list = cases();
        for (std::size_t i = 0; i < list.size(); ++i) {
            QTest::newRow(list[i].name.c_str()) << static_cast<int>(i);
        }
    }

    void matches_cpu()
    {
        REQUIRE_GPU();
        QFETCH(int, index);
        const Case c = cases()[static_cast<std::size_t>(index)];
        for (unsigned seed : {1u, 2u}) {
            const auto [prediction, target] = volumes_for(c, seed * 17);
            const std::string difference = parity(prediction, target, options_for(c));
            QVERIFY2(difference.empty(), difference.c_str());
        }
    }

    void range_violations_are_the_same_error()
    {
        REQUIRE_GPU();
        const Shape shape = make_shape(2, 1, 3, 5, 7);
        Volume prediction = random_volume("pred.npy", ScalarType::Float32, shape, Fill::Probability, 3);
        const Volume target = random_volume("target.npy", ScalarType::UInt8, shape, Fill::Mask, 4);
        store(prediction, 150, 1.5);
        store(prediction, 151, std::nan(""));
        store(prediction, 200, -0.25);
        for (SliceAxis axis : {SliceAxis::D, SliceAxis::H, SliceAxis::W}) {
            StatisticsOptions options;
            options.axis = axis;
            const std::string difference = parity(prediction, target, options);
            QVERIFY2(difference.empty(), difference.c_str());
            QVERIFY_THROWS_EXCEPTION(Error, gpu::compute_statistics_cuda(prediction, target, options));
        }
        // Without bce and focal the values are fine on both.
        StatisticsOptions dice;
        dice.metrics = {Metric::Dice, Metric::Mse};
        const std::string difference = parity(prediction, target, dice);
        QVERIFY2(difference.empty(), difference.c_str());
    }

    void label_violations_are_the_same_error()
    {
        REQUIRE_GPU();
        const Shape shape = make_shape(2, 3, 2, 4, 5);
        const Volume prediction = random_volume("pred.npy", ScalarType::Float32, shape, Fill::Probability, 5);
        Volume target =
            random_volume("target.npy", ScalarType::Int16, with_channels(shape, 1), Fill::Labels, 6, 2);
        store(target, 33, 3); // one past the last channel
        store(target, 70, -1);
        const std::string one_hot = parity(prediction, target, StatisticsOptions{});
        QVERIFY2(one_hot.empty(), one_hot.c_str());

        // Label maps: a negative label goes to the CPU, which reports it.
        Volume labels =
            random_volume("labels.npy", ScalarType::Int32, with_channels(shape, 1), Fill::Labels, 7, 4);
        Volume predicted =
            random_volume("predicted.npy", ScalarType::Int32, with_channels(shape, 1), Fill::Labels, 8, 4);
        store(labels, 12, -5);
        const std::string maps = parity(predicted, labels, StatisticsOptions{});
        QVERIFY2(maps.empty(), maps.c_str());
        QVERIFY_THROWS_EXCEPTION(Error, gpu::compute_statistics_cuda(predicted, labels, StatisticsOptions{}));
    }

    void chunked_batches_match_cpu_data()
    {
        QTest::addColumn<int>("index");
        QTest::addColumn<int>("axis");
        QTest::addColumn<bool>("by_depth");
        const std::vector<std::pair<int, const char*>> kinds{
            {0, "binary"}, {1, "one-hot"}, {2, "label maps"}};
        for (const auto& [index, name] : kinds) {
            for (int axis : {1, 2, 3}) {
                for (bool by_depth : {false, true}) {
                    const std::string row = std::string(name) +
                                            (axis == 1   ? " D"
                                             : axis == 2 ? " H"
                                                         : " W") +
                                            (by_depth ? " by depth" : " by samples");
                    QTest::newRow(row.c_str()) << index << axis << by_depth;
                }
            }
        }
    }

    void chunked_batches_match_cpu()
    {
        REQUIRE_GPU();
        QFETCH(int, index);
        QFETCH(int, axis);
        QFETCH(bool, by_depth);
        Case c;
        c.shape = make_shape(5, 1, 7, 9, 11);
        c.axis = static_cast<SliceAxis>(axis);
        if (index == 1) {
            c.shape.c = 3;
            c.target_channels = 1;
            c.target_fill = Fill::Labels;
            c.max_label = 2;
        } else if (index == 2) {
            c.prediction_type = c.target_type = ScalarType::Int32;
            c.prediction_fill = c.target_fill = Fill::Labels;
            c.max_label = 9;
        }
        const auto [prediction, target] = volumes_for(c, 23);
        const StatisticsOptions options = options_for(c);
        gpu::CudaConfig config;
        config.memory_budget = budget_for(prediction, target, options,
                                          by_depth ? gpu::Chunk{0, 1, 0, 3} : gpu::Chunk{0, 2, 0, 7});
        config.staging_bytes = 1000; // many staging pieces, odd sizes
        const std::string difference = parity(prediction, target, options, config);
        QVERIFY2(difference.empty(), difference.c_str());
    }

    void session_recomputes_without_upload()
    {
        REQUIRE_GPU();
        const Shape shape = make_shape(3, 1, 6, 17, 19);
        const Volume prediction = random_volume("pred.npy", ScalarType::Float32, shape, Fill::Probability, 9);
        const Volume target = random_volume("target.npy", ScalarType::UInt8, shape, Fill::Mask, 10);
        gpu::DeviceSession session(prediction, target);
        QVERIFY(!session.device_name().empty());
        QVERIFY(session.device_bytes() >= prediction.byte_size() + target.byte_size());
        for (double threshold : {0.2, 0.5, 0.9}) {
            for (SliceAxis axis : {SliceAxis::D, SliceAxis::W}) {
                StatisticsOptions options;
                options.metric.threshold = threshold;
                options.axis = axis;
                const BatchStatistics gpu_result = session.compute(options);
                const BatchStatistics cpu = compute_statistics(prediction, target, options);
                const std::string difference =
                    statistics_difference(cpu, gpu_result, tolerance_for(prediction, target, options));
                QVERIFY2(difference.empty(), difference.c_str());
            }
        }
        StatisticsOptions subset;
        subset.metrics = {Metric::Dice, Metric::Bce};
        const std::string difference =
            evaluation_difference(evaluate(prediction, target, subset), session.evaluate(subset));
        QVERIFY2(difference.empty(), difference.c_str());
    }

    void cancel_and_progress()
    {
        REQUIRE_GPU();
        const Shape shape = make_shape(4, 1, 5, 8, 8);
        const Volume prediction =
            random_volume("pred.npy", ScalarType::Float32, shape, Fill::Probability, 11);
        const Volume target = random_volume("target.npy", ScalarType::UInt8, shape, Fill::Mask, 12);
        StatisticsOptions options;
        std::vector<double> progress;
        options.progress = [&progress](double fraction) { progress.push_back(fraction); };
        gpu::CudaConfig config;
        config.memory_budget = budget_for(prediction, target, options, gpu::Chunk{0, 1, 0, 5});
        (void)gpu::compute_statistics_cuda(prediction, target, options, nullptr, config);
        QCOMPARE(progress.size(), std::size_t{4});
        QCOMPARE(progress.back(), 1.0);
        std::atomic<bool> cancel{true};
        options.cancel = &cancel;
        try {
            (void)gpu::compute_statistics_cuda(prediction, target, options);
            QFAIL("no error");
        } catch (const Error& error) {
            QCOMPARE(error.kind(), Error::Kind::Cancelled);
        }
    }

    // CUDA labelling equals the CPU labeller bit for bit: random masks of
    // every connectivity (many components, many diagonal joins) and a large
    // blob-and-speckle volume whose components span many thread blocks.
    void component_labels_match_cpu()
    {
        std::mt19937 random(3);
        for (const double density : {0.05, 0.3, 0.7}) {
            std::bernoulli_distribution on(density);
            for (const auto& [grid, connectivities] : std::vector<std::pair<ComponentGrid, std::vector<int>>>{
                     {{40, 50, 60, 3}, {6, 18, 26}}, {{1, 300, 310, 2}, {4, 8}}}) {
                std::vector<std::uint8_t> mask(static_cast<std::size_t>(grid.voxels()));
                for (auto& v : mask) {
                    v = on(random) ? 1 : 0;
                }
                for (const int connectivity : connectivities) {
                    const Components cpu = label_components(mask.data(), grid, connectivity);
                    const Components gpu = gpu::label_components_cuda(mask.data(), grid, connectivity);
                    QCOMPARE(gpu.count, cpu.count);
                    QVERIFY(std::equal(gpu.labels.begin(), gpu.labels.end(), cpu.labels.begin()));
                }
            }
        }
        const ComponentGrid big{160, 170, 180, 3};
        std::vector<std::uint8_t> mask(static_cast<std::size_t>(big.voxels()), 0);
        std::bernoulli_distribution speck(0.01);
        for (std::int64_t z = 0; z < big.d; ++z) {
            for (std::int64_t y = 0; y < big.h; ++y) {
                for (std::int64_t x = 0; x < big.w; ++x) {
                    const double r =
                        std::hypot(std::hypot(static_cast<double>(z) - 80.0, static_cast<double>(y) - 85.0),
                                   static_cast<double>(x) - 90.0);
                    const bool shell = r > 40 && r < 45;
                    mask[static_cast<std::size_t>((z * big.h + y) * big.w + x)] =
                        shell || speck(random) ? 1 : 0;
                }
            }
        }
        const Components cpu = label_components(mask.data(), big, 26);
        const Components gpu = gpu::label_components_cuda(mask.data(), big, 26);
        QCOMPARE(gpu.count, cpu.count);
        QVERIFY(std::equal(gpu.labels.begin(), gpu.labels.end(), cpu.labels.begin()));
    }

    void device_choice_uses_the_gpu()
    {
        REQUIRE_GPU();
        QCOMPARE(gpu::resolve_device(gpu::DeviceChoice::Cuda).name, std::string("cuda"));
        QCOMPARE(gpu::resolve_device(gpu::DeviceChoice::Auto).name, std::string("cuda"));
        QVERIFY(gpu::cuda_path_available());
    }
};

QTEST_GUILESS_MAIN(GpuParityTest)
#include "test_gpu_parity.moc"
