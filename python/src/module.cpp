// masklens._core: the engine as a Python extension. Everything here is glue:
// options are parsed by masklens-cli's own parser (option_table.cpp), pairs
// are evaluated by cli::evaluate_command (the CLI's path through the
// service), reports are written by the engine's writers and folder runs use
// the CLI's plan / case / render steps. The Python layer (masklens/*.py)
// turns keyword arguments into CLI options and arrays into C-contiguous
// buffers; no metric is computed here.
#include "arrays.h"

#include "command_line.h"
#include "evaluate_command.h"
#include "folder_command.h"
#include "shard_reader.h"

#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/metrics.h"
#include "masklens/gpu/backend.h"
#include "masklens/io/read_volume.h"

#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/tuple.h>
#include <nanobind/stl/vector.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

namespace nb = nanobind;
using namespace nb::literals;

namespace masklens::python {

namespace {

// The Python exception classes (masklens/errors.py), one per Error::Kind.
struct ErrorTypes {
    nb::object usage, input, device, cancelled;
};
ErrorTypes& error_types()
{
    static ErrorTypes* types = new ErrorTypes; // never destroyed: used until the interpreter ends
    return *types;
}

void translate(const std::exception_ptr& exception, void*)
{
    try {
        std::rethrow_exception(exception);
    } catch (const Error& error) {
        const ErrorTypes& types = error_types();
        nb::handle type = PyExc_ValueError;
        switch (error.kind()) {
        case Error::Kind::Usage: type = types.usage; break;
        case Error::Kind::Input: type = types.input; break;
        case Error::Kind::Device: type = types.device; break;
        case Error::Kind::Cancelled: type = types.cancelled; break;
        }
        if (!type.is_valid()) {
            type = PyExc_ValueError;
        }
        PyErr_SetString(type.ptr(), error.what());
    }
}

// `evaluate PRED TARGET OPTIONS...` through the CLI's parser: the same
// validation, messages and options echo. Building the parser costs far more
// than evaluating a small slice, and a training loop repeats the same
// options, so parsed commands are kept (a few dozen option lists; the
// parser's process-wide settings, e.g. --memory-limit, were applied when
// first parsed and stay, as in the CLI). Called with the GIL held.
cli::EvaluateCommand parse_evaluate(const std::string& prediction, const std::string& target,
                                    const std::vector<std::string>& options)
{
    std::vector<std::string> arguments{"evaluate", prediction, target};
    arguments.insert(arguments.end(), options.begin(), options.end());
    static std::map<std::vector<std::string>, cli::EvaluateCommand> parsed_before;
    if (const auto found = parsed_before.find(arguments); found != parsed_before.end()) {
        return found->second;
    }
    cli::ParsedCommand parsed = cli::parse_command_line(arguments);
    if (!parsed.evaluate) {
        throw_usage_error("the options do not describe an evaluation");
    }
    if (parsed_before.size() >= 64) {
        parsed_before.clear();
    }
    parsed_before.emplace(std::move(arguments), *parsed.evaluate);
    return *parsed.evaluate;
}

// The device for a choice, resolved once per process (the CLI resolves it
// once per run; asking the CUDA driver again on every call would cost more
// than a small evaluation). A refusal (e.g. cuda without a device) is not
// kept: it is thrown every time.
service::ComputeDevice device_for(gpu::DeviceChoice choice)
{
    static std::mutex mutex;
    static std::map<gpu::DeviceChoice, service::ComputeDevice> resolved;
    {
        const std::lock_guard lock(mutex);
        if (const auto found = resolved.find(choice); found != resolved.end()) {
            return found->second;
        }
    }
    service::ComputeDevice device = service::resolve_compute_device(choice);
    const std::lock_guard lock(mutex);
    resolved.emplace(choice, device);
    return device;
}

cli::FolderCommand parse_folder(const std::string& prediction_dir, const std::string& target_dir,
                                const std::vector<std::string>& options)
{
    std::vector<std::string> arguments{"evaluate-folder", prediction_dir, target_dir};
    arguments.insert(arguments.end(), options.begin(), options.end());
    cli::ParsedCommand parsed = cli::parse_command_line(arguments);
    if (!parsed.folder) {
        throw_usage_error("the options do not describe a folder evaluation");
    }
    return *parsed.folder;
}

// One evaluation and what Python reads from it.
struct Result {
    cli::CommandEvaluation run;
    // Where the engine read the elements (the zero-copy check compares these
    // with the caller's buffers).
    std::uintptr_t prediction_address = 0, target_address = 0;
    // Seconds spent in cli::evaluate_command (the engine, without the
    // bindings' overhead): the benchmark's reference time.
    double engine_seconds = 0;
};

double seconds_since(std::chrono::steady_clock::time_point start)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

nb::object numpy_array(std::vector<double>&& values, const std::vector<std::size_t>& shape)
{
    auto* owned = new std::vector<double>(std::move(values));
    nb::capsule owner(owned,
                      [](void* pointer) noexcept { delete static_cast<std::vector<double>*>(pointer); });
    return nb::cast(nb::ndarray<nb::numpy, double>(owned->data(), shape.size(), shape.data(), owner));
}

nb::object numpy_int_array(std::vector<std::int64_t>&& values)
{
    auto* owned = new std::vector<std::int64_t>(std::move(values));
    nb::capsule owner(
        owned, [](void* pointer) noexcept { delete static_cast<std::vector<std::int64_t>*>(pointer); });
    const std::size_t shape[1] = {owned->size()};
    return nb::cast(nb::ndarray<nb::numpy, std::int64_t>(owned->data(), 1, shape, owner));
}

// Appends `values` (M of them) or M NaN when absent.
void append(std::vector<double>& out, const MetricValues* values, std::size_t metrics)
{
    for (std::size_t m = 0; m < metrics; ++m) {
        out.push_back(values && m < values->size() ? (*values)[m] : std::numeric_limits<double>::quiet_NaN());
    }
}

// Every value of an evaluation as dense arrays (metrics last): batch [M],
// samples [N,M], slices [N,S,M], label_batch [L,M], label_samples [N,L,M],
// label_slices [N,L,S,M]; absent values are NaN.
nb::dict value_arrays(const Evaluation& evaluation)
{
    const std::size_t m_count = evaluation.metrics.size();
    const std::size_t n_count = evaluation.samples.size();
    std::size_t s_count = 0;
    for (const SampleResult& sample : evaluation.samples) {
        s_count = std::max(s_count, sample.slices.size());
        for (const LabelResult& label : sample.labels) {
            s_count = std::max(s_count, label.slices.size());
        }
    }
    std::vector<std::int64_t> label_ids;
    for (const BatchLabelResult& label : evaluation.labels) {
        label_ids.push_back(label.label);
    }
    const std::size_t l_count = label_ids.size();

    std::vector<double> batch, samples, slices, label_batch, label_samples, label_slices;
    append(batch, &evaluation.batch, m_count);
    for (const BatchLabelResult& label : evaluation.labels) {
        append(label_batch, &label.values, m_count);
    }
    for (const SampleResult& sample : evaluation.samples) {
        append(samples, &sample.values, m_count);
        for (std::size_t s = 0; s < s_count; ++s) {
            append(slices, s < sample.slices.size() ? &sample.slices[s] : nullptr, m_count);
        }
        for (std::size_t l = 0; l < l_count; ++l) {
            const LabelResult* found = nullptr;
            for (const LabelResult& label : sample.labels) {
                if (label.label == label_ids[l]) {
                    found = &label;
                }
            }
            append(label_samples, found ? &found->values : nullptr, m_count);
            for (std::size_t s = 0; s < s_count; ++s) {
                append(label_slices, found && s < found->slices.size() ? &found->slices[s] : nullptr,
                       m_count);
            }
        }
    }
    std::vector<std::int64_t> valid = evaluation.batch_valid;
    nb::dict out;
    out["batch"] = numpy_array(std::move(batch), {m_count});
    out["batch_valid"] = numpy_int_array(std::move(valid));
    out["samples"] = numpy_array(std::move(samples), {n_count, m_count});
    out["slices"] = numpy_array(std::move(slices), {n_count, s_count, m_count});
    out["labels"] = numpy_int_array(std::move(label_ids));
    out["label_batch"] = numpy_array(std::move(label_batch), {l_count, m_count});
    out["label_samples"] = numpy_array(std::move(label_samples), {n_count, l_count, m_count});
    out["label_slices"] = numpy_array(std::move(label_slices), {n_count, l_count, s_count, m_count});
    return out;
}

Result evaluate_arrays(const InputArray& prediction, nb::handle prediction_owner, const InputArray& target,
                       nb::handle target_owner, const std::vector<std::string>& options)
{
    const cli::EvaluateCommand command = parse_evaluate("prediction", "target", options);
    const Volume prediction_volume =
        array_volume(prediction, prediction_owner, command.prediction_path, command.prediction_read.layout);
    const Volume target_volume =
        array_volume(target, target_owner, command.target_path, command.target_read.layout);
    Result result;
    result.prediction_address = reinterpret_cast<std::uintptr_t>(prediction_volume.data());
    result.target_address = reinterpret_cast<std::uintptr_t>(target_volume.data());
    {
        // The engine runs without the GIL: other Python threads go on.
        nb::gil_scoped_release release;
        const service::ComputeDevice device = device_for(command.device);
        const auto start = std::chrono::steady_clock::now();
        result.run = cli::evaluate_command(command, device, prediction_volume, target_volume);
        result.engine_seconds = seconds_since(start);
    }
    return result;
}

Result evaluate_files(const std::string& prediction, const std::string& target,
                      const std::vector<std::string>& options)
{
    const cli::EvaluateCommand command = parse_evaluate(prediction, target, options);
    nb::gil_scoped_release release;
    const service::ComputeDevice device = device_for(command.device);
    const auto [prediction_volume, target_volume] = io::read_volume_pair(
        command.prediction_path, command.prediction_read, command.target_path, command.target_read);
    Result result;
    const auto start = std::chrono::steady_clock::now();
    result.run = cli::evaluate_command(command, device, prediction_volume, target_volume);
    result.engine_seconds = seconds_since(start);
    return result;
}

// A file as the readers see it: the elements (a numpy array of the file's
// type, shaped [N,C,H,W] or [N,C,D,H,W]) and its geometry.
nb::tuple read_file(const std::string& path, const std::vector<std::string>& options)
{
    const cli::EvaluateCommand command = parse_evaluate(path, path, options);
    auto volume = std::make_unique<Volume>();
    {
        nb::gil_scoped_release release;
        *volume = io::read_volume(path, command.prediction_read);
    }
    const Volume& v = *volume;
    const std::vector<std::int64_t> torch = v.shape().torch_shape();
    std::vector<std::size_t> shape(torch.begin(), torch.end());
    nb::dlpack::dtype dtype{};
    switch (v.type()) {
    case ScalarType::Bool: dtype = nb::dtype<bool>(); break;
    case ScalarType::Int8: dtype = nb::dtype<std::int8_t>(); break;
    case ScalarType::UInt8: dtype = nb::dtype<std::uint8_t>(); break;
    case ScalarType::Int16: dtype = nb::dtype<std::int16_t>(); break;
    case ScalarType::UInt16: dtype = nb::dtype<std::uint16_t>(); break;
    case ScalarType::Int32: dtype = nb::dtype<std::int32_t>(); break;
    case ScalarType::UInt32: dtype = nb::dtype<std::uint32_t>(); break;
    case ScalarType::Int64: dtype = nb::dtype<std::int64_t>(); break;
    case ScalarType::UInt64: dtype = nb::dtype<std::uint64_t>(); break;
    case ScalarType::Float16:
        dtype = {static_cast<std::uint8_t>(nb::dlpack::dtype_code::Float), 16, 1};
        break;
    case ScalarType::Float32: dtype = nb::dtype<float>(); break;
    case ScalarType::Float64: dtype = nb::dtype<double>(); break;
    }
    const Geometry geometry = v.geometry();
    const std::byte* data = v.data();
    // The array owns the Volume's memory: no copy.
    nb::capsule owner(volume.release(), [](void* pointer) noexcept { delete static_cast<Volume*>(pointer); });
    nb::object array = nb::cast(nb::ndarray<nb::numpy>(const_cast<std::byte*>(data), shape.size(),
                                                       shape.data(), owner, nullptr, dtype));
    nb::dict geo;
    geo["spacing"] = nb::make_tuple(geometry.spacing[0], geometry.spacing[1], geometry.spacing[2]);
    geo["origin"] = nb::make_tuple(geometry.origin[0], geometry.origin[1], geometry.origin[2]);
    const auto& d = geometry.direction;
    geo["direction"] = nb::make_tuple(nb::make_tuple(d[0], d[1], d[2]), nb::make_tuple(d[3], d[4], d[5]),
                                      nb::make_tuple(d[6], d[7], d[8]));
    geo["known"] = geometry.known;
    return nb::make_tuple(array, geo);
}

// Folder runs in three steps so that Python can spread the cases over any
// executor: the plan, one case at a time (anywhere; its result travels as a
// one-case folder report, the shard format merge reads), the report.
std::vector<std::tuple<std::string, std::string, std::string>>
folder_plan(const std::string& prediction_dir, const std::string& target_dir,
            const std::vector<std::string>& options)
{
    const cli::FolderCommand command = parse_folder(prediction_dir, target_dir, options);
    nb::gil_scoped_release release;
    const cli::FolderPlan plan = cli::plan_folder(command);
    std::vector<std::tuple<std::string, std::string, std::string>> pairs;
    for (const CasePair& pair : plan.selected) {
        pairs.emplace_back(pair.case_id, pair.prediction, pair.target);
    }
    return pairs;
}

std::string folder_case(const std::string& prediction_dir, const std::string& target_dir,
                        const std::vector<std::string>& options, const std::string& case_id,
                        const std::string& prediction_file, const std::string& target_file)
{
    const cli::FolderCommand command = parse_folder(prediction_dir, target_dir, options);
    nb::gil_scoped_release release;
    const service::ComputeDevice device = device_for(command.evaluate.device);
    FolderReport one;
    one.prediction_dir = command.evaluate.prediction_path;
    one.target_dir = command.evaluate.target_path;
    one.options_json = command.evaluate.options_json;
    one.metrics = command.evaluate.statistics.metrics;
    one.shard = ShardInfo{1, 1, 1};
    one.cases.push_back(cli::evaluate_folder_case(command, {case_id, prediction_file, target_file},
                                                  command.evaluate.statistics.threads, device));
    std::ostringstream text;
    write_folder_json(text, one);
    return text.str();
}

// The report (JSON, CSV) from the cases' texts, in the plan's order.
std::tuple<std::string, std::string, std::int64_t, bool>
folder_report(const std::string& prediction_dir, const std::string& target_dir,
              const std::vector<std::string>& options, const std::vector<std::string>& case_texts)
{
    const cli::FolderCommand command = parse_folder(prediction_dir, target_dir, options);
    nb::gil_scoped_release release;
    cli::FolderPlan plan = cli::plan_folder(command);
    if (case_texts.size() != plan.selected.size()) {
        throw_input_error(prediction_dir, "the folders changed during the run (" +
                                              std::to_string(case_texts.size()) + " cases evaluated, " +
                                              std::to_string(plan.selected.size()) + " pairs now)");
    }
    for (std::size_t i = 0; i < case_texts.size(); ++i) {
        FolderReport one = cli::read_shard_report(case_texts[i], "case " + plan.selected[i].case_id);
        if (one.cases.size() != 1 || one.cases.front().case_id != plan.selected[i].case_id) {
            throw_input_error("case " + plan.selected[i].case_id, "not the result of this case");
        }
        plan.report.cases.push_back(std::move(one.cases.front()));
    }
    return {cli::render_folder_report(plan.report, cli::OutputFormat::Json),
            cli::render_folder_report(plan.report, cli::OutputFormat::Csv), failed_cases(plan.report),
            plan.any_pairs};
}

} // namespace

} // namespace masklens::python

NB_MODULE(_core, m)
{
    using namespace masklens;
    using namespace masklens::python;
    m.doc() = "MaskLens engine bindings (internal: use the masklens package).";
    nb::register_exception_translator(translate);

    m.def(
        "_set_error_types",
        [](nb::object usage, nb::object input, nb::object device, nb::object cancelled) {
            error_types() = {std::move(usage), std::move(input), std::move(device), std::move(cancelled)};
        },
        "usage"_a, "input"_a, "device"_a, "cancelled"_a);

    nb::class_<Result>(m, "Result")
        .def_prop_ro("metrics",
                     [](const Result& r) {
                         std::vector<std::string> names;
                         for (Metric metric : r.run.evaluation.metrics) {
                             names.emplace_back(metric_name(metric));
                         }
                         return names;
                     })
        .def_prop_ro("shape", [](const Result& r) { return r.run.evaluation.statistics.shape.torch_shape(); })
        .def_prop_ro("pairing",
                     [](const Result& r) {
                         return std::string(pairing_mode_name(r.run.evaluation.statistics.pairing));
                     })
        .def_prop_ro("device", [](const Result& r) { return r.run.context.device; })
        .def_prop_ro("fallback", [](const Result& r) { return r.run.fallback; })
        .def_prop_ro("prediction_address", [](const Result& r) { return r.prediction_address; })
        .def_prop_ro("target_address", [](const Result& r) { return r.target_address; })
        .def_prop_ro("engine_seconds", [](const Result& r) { return r.engine_seconds; })
        .def("arrays", [](const Result& r) { return value_arrays(r.run.evaluation); })
        .def(
            "report",
            [](const Result& r, const std::string& format, std::optional<std::string> prediction,
               std::optional<std::string> target) {
                // The context's paths may be renamed (arrays have none:
                // "prediction" / "target" unless the caller names files).
                ReportContext context = r.run.context;
                if (prediction) {
                    context.prediction_path = *prediction;
                }
                if (target) {
                    context.target_path = *target;
                }
                const cli::OutputFormat chosen = format == "json"  ? cli::OutputFormat::Json
                                                 : format == "csv" ? cli::OutputFormat::Csv
                                                                   : cli::OutputFormat::Table;
                return cli::render_report(r.run.evaluation, context, chosen);
            },
            "format"_a, "prediction"_a = nb::none(), "target"_a = nb::none());

    m.def("evaluate_arrays", &evaluate_arrays, "prediction"_a.noconvert(), "prediction_owner"_a,
          "target"_a.noconvert(), "target_owner"_a, "options"_a);
    m.def("evaluate_files", &evaluate_files, "prediction"_a, "target"_a, "options"_a);
    m.def("read_file", &read_file, "path"_a, "options"_a);
    m.def("folder_plan", &folder_plan, "prediction_dir"_a, "target_dir"_a, "options"_a);
    m.def("folder_case", &folder_case, "prediction_dir"_a, "target_dir"_a, "options"_a, "case_id"_a,
          "prediction_file"_a, "target_file"_a);
    m.def("folder_report", &folder_report, "prediction_dir"_a, "target_dir"_a, "options"_a, "case_texts"_a);
    m.def("metric_reasons", [] {
        nb::dict reasons;
        for (const MetricInfo& info : metric_table()) {
            reasons[nb::str(info.name.data(), info.name.size())] =
                nb::str(info.nan_reason.data(), info.nan_reason.size());
        }
        return reasons;
    });
    m.def("cuda_built", [] { return gpu::query_devices().cuda_built; });
    m.attr("__version__") = std::string(build_info().version); // the one the CLI and results report
}
