#include "masklens/engine/folder.h"

#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"
#include "masklens/engine/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <regex>
#include <set>
#include <system_error>

namespace masklens {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string lower(std::string text)
{
    for (char& c : text) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return text;
}

struct Named {
    std::string case_id;
    std::string file;
};

// Case ids of one folder's files; the rest goes to unpaired or ignored.
std::vector<Named> case_ids(const std::vector<std::string>& files, const std::string& pattern,
                            const char* option, std::vector<UnpairedFile>& unpaired,
                            std::vector<std::string>& ignored)
{
    std::optional<std::regex> regex;
    if (!pattern.empty()) {
        try {
            regex.emplace(pattern, std::regex::ECMAScript);
        } catch (const std::regex_error& error) {
            throw_usage_error(std::string(option) + " is not a valid regular expression: " + error.what());
        }
        if (regex->mark_count() < 1) {
            throw_usage_error(std::string(option) + " needs one capture group giving the case id, e.g. " +
                              "'^(case_[0-9]+)_pred'");
        }
    }
    std::vector<Named> named;
    for (const std::string& file : files) {
        const auto stem = strip_supported_extension(file);
        if (!stem) {
            ignored.push_back(file);
            continue;
        }
        if (!regex) {
            named.push_back({*stem, file});
            continue;
        }
        std::smatch match;
        if (!std::regex_search(file, match, *regex) || !match[1].matched || match[1].length() == 0) {
            unpaired.push_back({file, "", "does not match " + std::string(option)});
            continue;
        }
        named.push_back({match[1].str(), file});
    }
    // A case id claimed by two files of one folder pairs neither.
    std::map<std::string, std::vector<std::string>> by_id;
    for (const Named& entry : named) {
        by_id[entry.case_id].push_back(entry.file);
    }
    std::vector<Named> unique;
    for (const auto& [id, names] : by_id) {
        if (names.size() == 1) {
            unique.push_back({id, names.front()});
            continue;
        }
        for (const std::string& name : names) {
            std::string others;
            for (const std::string& other : names) {
                if (other != name) {
                    others += (others.empty() ? "" : ", ") + other;
                }
            }
            unpaired.push_back({name, id, "case id '" + id + "' is also claimed by " + others});
        }
    }
    return unique;
}

bool by_file(const UnpairedFile& a, const UnpairedFile& b)
{
    return a.file < b.file;
}

} // namespace

const std::vector<std::string>& supported_extensions()
{
    static const std::vector<std::string> extensions = {".nii.gz", ".tiff", ".nrrd", ".nhdr", ".npy", ".npz",
                                                        ".nii",    ".mha",  ".mhd",  ".png",  ".tif"};
    return extensions;
}

std::optional<std::string> strip_supported_extension(const std::string& file_name)
{
    const std::string name = lower(file_name);
    for (const std::string& extension : supported_extensions()) {
        if (name.size() > extension.size() &&
            name.compare(name.size() - extension.size(), extension.size(), extension) == 0) {
            return file_name.substr(0, file_name.size() - extension.size());
        }
    }
    return std::nullopt;
}

FolderPairing pair_files(const std::vector<std::string>& prediction_files,
                         const std::vector<std::string>& target_files, const PairingRules& rules)
{
    FolderPairing pairing;
    const std::vector<Named> predictions =
        case_ids(prediction_files, rules.prediction_pattern, "--pattern (predictions)",
                 pairing.unpaired_predictions, pairing.ignored_predictions);
    const std::vector<Named> targets = case_ids(target_files, rules.target_pattern, "--pattern (targets)",
                                                pairing.unpaired_targets, pairing.ignored_targets);
    // Both are sorted by case id (they come out of a std::map): merge them.
    std::size_t p = 0, t = 0;
    while (p < predictions.size() || t < targets.size()) {
        if (t == targets.size() || (p < predictions.size() && predictions[p].case_id < targets[t].case_id)) {
            pairing.unpaired_predictions.push_back(
                {predictions[p].file, predictions[p].case_id, "no target with this case id"});
            ++p;
        } else if (p == predictions.size() || targets[t].case_id < predictions[p].case_id) {
            pairing.unpaired_targets.push_back(
                {targets[t].file, targets[t].case_id, "no prediction with this case id"});
            ++t;
        } else {
            pairing.pairs.push_back({predictions[p].case_id, predictions[p].file, targets[t].file});
            ++p;
            ++t;
        }
    }
    std::sort(pairing.unpaired_predictions.begin(), pairing.unpaired_predictions.end(), by_file);
    std::sort(pairing.unpaired_targets.begin(), pairing.unpaired_targets.end(), by_file);
    std::sort(pairing.ignored_predictions.begin(), pairing.ignored_predictions.end());
    std::sort(pairing.ignored_targets.begin(), pairing.ignored_targets.end());
    return pairing;
}

std::vector<std::string> list_folder(const std::string& folder)
{
    namespace fs = std::filesystem;
    std::error_code error;
    if (!fs::is_directory(folder, error)) {
        throw_input_error(folder, error ? "cannot read: " + error.message() : "not a folder");
    }
    std::vector<std::string> names;
    fs::directory_iterator it(folder, error);
    if (error) {
        throw_input_error(folder, "cannot list: " + error.message());
    }
    for (const fs::directory_entry& entry : it) {
        const std::string name = entry.path().filename().string();
        std::error_code type_error;
        if (name.empty() || name[0] == '.' || !entry.is_regular_file(type_error)) {
            continue; // hidden files (and our own temporary files), folders
        }
        names.push_back(name);
    }
    std::sort(names.begin(), names.end());
    return names;
}

bool in_shard(std::size_t position, int index, int count) noexcept
{
    return count > 0 && position % static_cast<std::size_t>(count) == static_cast<std::size_t>(index - 1);
}

Summary summarize(const std::vector<double>& values)
{
    std::vector<double> kept;
    for (const double value : values) {
        if (!std::isnan(value)) {
            kept.push_back(value);
        }
    }
    Summary summary;
    summary.valid = static_cast<std::int64_t>(kept.size());
    if (kept.empty()) {
        summary.mean = summary.std = summary.median = summary.min = summary.max = kNaN;
        return summary;
    }
    std::sort(kept.begin(), kept.end());
    const std::size_t n = kept.size();
    summary.min = kept.front();
    summary.max = kept.back();
    summary.median = n % 2 == 1 ? kept[n / 2] : (kept[n / 2 - 1] + kept[n / 2]) / 2.0;
    double sum = 0;
    for (const double value : kept) {
        sum += value;
    }
    summary.mean = sum / static_cast<double>(n);
    if (n < 2 || !std::isfinite(summary.mean)) {
        summary.std = kNaN;
    } else {
        double squares = 0;
        for (const double value : kept) {
            squares += (value - summary.mean) * (value - summary.mean);
        }
        summary.std = std::sqrt(squares / static_cast<double>(n - 1));
    }
    return summary;
}

FolderCase folder_case_from(const Evaluation& evaluation, bool per_slice)
{
    FolderCase result;
    result.ok = true;
    result.shape = evaluation.statistics.shape.torch_shape();
    result.pairing = evaluation.statistics.pairing;
    result.values = evaluation.batch;
    result.lesions = evaluation.lesions;
    for (const BatchLabelResult& label : evaluation.labels) {
        result.labels.push_back({label.label, label.values});
    }
    if (per_slice) {
        for (const SampleResult& sample : evaluation.samples) {
            FolderSampleDetail detail;
            detail.index = sample.index;
            detail.values = sample.values;
            detail.slices = sample.slices;
            for (const LabelResult& label : sample.labels) {
                detail.labels.push_back({label.label, label.values, label.slices});
            }
            result.samples.push_back(std::move(detail));
        }
    }
    return result;
}

std::int64_t failed_cases(const FolderReport& report)
{
    return std::count_if(report.cases.begin(), report.cases.end(), [](const FolderCase& c) { return !c.ok; });
}

namespace {

std::string json_value(double value)
{
    return std::isfinite(value) ? format_number(value) : "null";
}

// Why a value is null. The reader of merge depends on the prefixes
// "undefined", "infinite" and "-infinite".
std::string null_reason(Metric metric, double value)
{
    if (std::isnan(value)) {
        return std::string(metric_info(metric).nan_reason);
    }
    if (value > 0) {
        return "infinite: exactly one mask is empty";
    }
    return "-infinite";
}

bool applies(Metric metric, PairingMode pairing, bool label)
{
    return !label || label_metric_applies(metric, pairing);
}

// "values": {...}[, "undefined": {...}]
std::string values_json(const std::vector<Metric>& metrics, const MetricValues& values, PairingMode pairing,
                        bool label)
{
    std::string object = "{", reasons;
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        if (!applies(metrics[m], pairing, label)) {
            continue;
        }
        const std::string name = json_quote(std::string(metric_name(metrics[m])));
        object += (object.size() > 1 ? ", " : "") + name + ": " + json_value(values[m]);
        if (!std::isfinite(values[m])) {
            reasons +=
                (reasons.empty() ? "{" : ", ") + name + ": " + json_quote(null_reason(metrics[m], values[m]));
        }
    }
    std::string text = "\"values\": " + object + "}";
    if (!reasons.empty()) {
        text += ", \"undefined\": " + reasons + "}";
    }
    return text;
}

std::string slices_json(const std::vector<Metric>& metrics, const std::vector<MetricValues>& slices,
                        PairingMode pairing, bool label, const std::string& indent)
{
    std::string text = "\"slices\": [";
    for (std::size_t s = 0; s < slices.size(); ++s) {
        text += (s ? ",\n" : "\n") + indent + "  {\"index\": " + std::to_string(s) + ", " +
                values_json(metrics, slices[s], pairing, label) + "}";
    }
    return text + (slices.empty() ? "" : "\n" + indent) + "]";
}

std::string summary_json(const Summary& s)
{
    return "{\"mean\": " + json_value(s.mean) + ", \"std\": " + json_value(s.std) +
           ", \"median\": " + json_value(s.median) + ", \"min\": " + json_value(s.min) +
           ", \"max\": " + json_value(s.max) + ", \"valid\": " + std::to_string(s.valid) + "}";
}

struct MetricSummary {
    Metric metric;
    Summary summary;
};

struct LabelSummary {
    std::int64_t label = 0;
    std::vector<MetricSummary> metrics;
};

std::vector<MetricSummary> overall_summary(const FolderReport& report)
{
    std::vector<MetricSummary> out;
    for (std::size_t m = 0; m < report.metrics.size(); ++m) {
        std::vector<double> values;
        for (const FolderCase& c : report.cases) {
            if (c.ok) {
                values.push_back(c.values[m]);
            }
        }
        out.push_back({report.metrics[m], summarize(values)});
    }
    return out;
}

std::vector<LabelSummary> label_summaries(const FolderReport& report)
{
    std::set<std::int64_t> labels;
    for (const FolderCase& c : report.cases) {
        for (const FolderLabelValues& label : c.labels) {
            labels.insert(label.label);
        }
    }
    std::vector<LabelSummary> out;
    for (const std::int64_t label : labels) {
        LabelSummary summary{label, {}};
        for (std::size_t m = 0; m < report.metrics.size(); ++m) {
            std::vector<double> values;
            bool any = false;
            for (const FolderCase& c : report.cases) {
                if (!c.ok || !label_metric_applies(report.metrics[m], c.pairing)) {
                    continue;
                }
                for (const FolderLabelValues& entry : c.labels) {
                    if (entry.label == label) {
                        values.push_back(entry.values[m]);
                        any = true;
                    }
                }
            }
            if (any) {
                summary.metrics.push_back({report.metrics[m], summarize(values)});
            }
        }
        out.push_back(std::move(summary));
    }
    return out;
}

std::string metric_summaries_json(const std::vector<MetricSummary>& summaries, const std::string& indent)
{
    std::string text = "{";
    for (std::size_t i = 0; i < summaries.size(); ++i) {
        text += (i ? ",\n" : "\n") + indent + "  " +
                json_quote(std::string(metric_name(summaries[i].metric))) + ": " +
                summary_json(summaries[i].summary);
    }
    return text + (summaries.empty() ? "" : "\n" + indent) + "}";
}

std::string unpaired_json(const std::vector<UnpairedFile>& files)
{
    std::string text = "[";
    for (std::size_t i = 0; i < files.size(); ++i) {
        text += (i ? ",\n" : "\n") + std::string("      {\"file\": ") + json_quote(files[i].file) +
                ", \"case\": " + json_quote(files[i].case_id) +
                ", \"reason\": " + json_quote(files[i].reason) + "}";
    }
    return text + (files.empty() ? "" : "\n    ") + "]";
}

std::string names_json(const std::vector<std::string>& names)
{
    std::string text = "[";
    for (std::size_t i = 0; i < names.size(); ++i) {
        text += (i ? ", " : "") + json_quote(names[i]);
    }
    return text + "]";
}

std::string csv_value(double value)
{
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    return format_number(value);
}

} // namespace

void write_folder_json(std::ostream& out, const FolderReport& report)
{
    const auto& metrics = report.metrics;
    const std::int64_t failed = failed_cases(report);
    out << "{\n";
    out << "  \"prediction_dir\": " << json_quote(report.prediction_dir) << ",\n";
    out << "  \"target_dir\": " << json_quote(report.target_dir) << ",\n";
    out << "  \"masklens\": " << build_info_json() << ",\n";
    out << "  \"options\": " << report.options_json << ",\n";
    if (report.shard) {
        out << "  \"shard\": {\"index\": " << report.shard->index << ", \"count\": " << report.shard->count
            << ", \"cases_total\": " << report.shard->cases_total << "},\n";
    }
    out << "  \"metrics\": [";
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        out << (m ? ", " : "") << json_quote(std::string(metric_name(metrics[m])));
    }
    out << "],\n";
    out << "  \"counts\": {\"cases\": " << report.cases.size()
        << ", \"ok\": " << static_cast<std::int64_t>(report.cases.size()) - failed
        << ", \"failed\": " << failed << ", \"unpaired_predictions\": " << report.unpaired_predictions.size()
        << ", \"unpaired_targets\": " << report.unpaired_targets.size() << "},\n";
    out << "  \"summary\": " << metric_summaries_json(overall_summary(report), "  ") << ",\n";
    out << "  \"label_summary\": [";
    const auto labels = label_summaries(report);
    for (std::size_t l = 0; l < labels.size(); ++l) {
        out << (l ? ",\n" : "\n") << "    {\"label\": " << labels[l].label
            << ", \"summary\": " << metric_summaries_json(labels[l].metrics, "    ") << "}";
    }
    out << (labels.empty() ? "" : "\n  ") << "],\n";
    out << "  \"unpaired\": {\n    \"predictions\": " << unpaired_json(report.unpaired_predictions)
        << ",\n    \"targets\": " << unpaired_json(report.unpaired_targets) << "\n  },\n";
    out << "  \"ignored\": {\"predictions\": " << names_json(report.ignored_predictions)
        << ", \"targets\": " << names_json(report.ignored_targets) << "},\n";
    out << "  \"cases\": [";
    for (std::size_t i = 0; i < report.cases.size(); ++i) {
        const FolderCase& c = report.cases[i];
        out << (i ? ",\n" : "\n") << "    {\"case\": " << json_quote(c.case_id)
            << ", \"prediction\": " << json_quote(c.prediction) << ", \"target\": " << json_quote(c.target)
            << ",\n     \"status\": " << (c.ok ? "\"ok\"" : "\"error\"");
        if (!c.ok) {
            out << ", \"error\": " << json_quote(c.error) << "}";
            continue;
        }
        out << ", \"shape\": [";
        for (std::size_t d = 0; d < c.shape.size(); ++d) {
            out << (d ? ", " : "") << c.shape[d];
        }
        out << "], \"pairing\": " << json_quote(pairing_mode_name(c.pairing)) << ",\n     "
            << values_json(metrics, c.values, c.pairing, false) << ",\n     \"labels\": [";
        for (std::size_t l = 0; l < c.labels.size(); ++l) {
            out << (l ? ",\n" : "\n") << "       {\"label\": " << c.labels[l].label << ", "
                << values_json(metrics, c.labels[l].values, c.pairing, true) << "}";
        }
        out << (c.labels.empty() ? "" : "\n     ") << "]";
        if (!c.samples.empty()) {
            out << ",\n     \"samples\": [";
            for (std::size_t n = 0; n < c.samples.size(); ++n) {
                const FolderSampleDetail& sample = c.samples[n];
                out << (n ? ",\n" : "\n") << "       {\"index\": " << sample.index << ", "
                    << values_json(metrics, sample.values, c.pairing, false) << ",\n        "
                    << slices_json(metrics, sample.slices, c.pairing, false, "        ")
                    << ",\n        \"labels\": [";
                for (std::size_t l = 0; l < sample.labels.size(); ++l) {
                    const auto& label = sample.labels[l];
                    out << (l ? ",\n" : "\n") << "          {\"label\": " << label.label << ", "
                        << values_json(metrics, label.values, c.pairing, true) << ",\n           "
                        << slices_json(metrics, label.slices, c.pairing, true, "           ") << "}";
                }
                out << (sample.labels.empty() ? "" : "\n        ") << "]}";
            }
            out << "\n     ]";
        }
        out << "}";
    }
    out << (report.cases.empty() ? "" : "\n  ") << "]\n}\n";
}

void write_folder_csv(std::ostream& out, const FolderReport& report)
{
    const auto& metrics = report.metrics;
    out << "case,sample,label,slice,statistic,status";
    for (const Metric metric : metrics) {
        out << ',' << metric_name(metric);
    }
    out << ",error," << kBuildCsvHeader << '\n';
    const std::string build = build_info_csv();
    auto row = [&](const std::string& case_id, const std::string& sample, const std::string& label,
                   const std::string& slice, const std::string& statistic, const std::string& status,
                   const MetricValues* values, PairingMode pairing, bool label_row,
                   const std::string& error) {
        out << csv_field(case_id) << ',' << sample << ',' << label << ',' << slice << ',' << statistic << ','
            << status;
        for (std::size_t m = 0; m < metrics.size(); ++m) {
            out << ',';
            if (values && applies(metrics[m], pairing, label_row)) {
                out << csv_value((*values)[m]);
            }
        }
        out << ',' << csv_field(error) << ',' << build << '\n';
    };
    for (const FolderCase& c : report.cases) {
        if (!c.ok) {
            row(c.case_id, "", "", "", "", "error", nullptr, c.pairing, false, c.error);
            continue;
        }
        row(c.case_id, "", "", "", "", "ok", &c.values, c.pairing, false, "");
        for (const FolderLabelValues& label : c.labels) {
            row(c.case_id, "", std::to_string(label.label), "", "", "ok", &label.values, c.pairing, true, "");
        }
        for (const FolderSampleDetail& sample : c.samples) {
            const std::string n = std::to_string(sample.index);
            row(c.case_id, n, "", "", "", "ok", &sample.values, c.pairing, false, "");
            for (std::size_t s = 0; s < sample.slices.size(); ++s) {
                row(c.case_id, n, "", std::to_string(s), "", "ok", &sample.slices[s], c.pairing, false, "");
            }
            for (const auto& label : sample.labels) {
                const std::string l = std::to_string(label.label);
                row(c.case_id, n, l, "", "", "ok", &label.values, c.pairing, true, "");
                for (std::size_t s = 0; s < label.slices.size(); ++s) {
                    row(c.case_id, n, l, std::to_string(s), "", "ok", &label.slices[s], c.pairing, true, "");
                }
            }
        }
    }
    for (const UnpairedFile& file : report.unpaired_predictions) {
        row(file.case_id, "", "", "", "", "unpaired", nullptr, PairingMode::Binary, false,
            "prediction " + file.file + ": " + file.reason);
    }
    for (const UnpairedFile& file : report.unpaired_targets) {
        row(file.case_id, "", "", "", "", "unpaired", nullptr, PairingMode::Binary, false,
            "target " + file.file + ": " + file.reason);
    }
    // Summary rows: `statistic` set, `case` empty; per label with `label` set.
    auto summary_rows = [&](const std::string& label, const std::vector<MetricSummary>& summaries) {
        const char* names[] = {"mean", "std", "median", "min", "max", "valid"};
        for (int k = 0; k < 6; ++k) {
            out << ",," << label << ",," << names[k] << ',';
            for (const Metric metric : metrics) {
                out << ',';
                const auto found = std::find_if(summaries.begin(), summaries.end(),
                                                [&](const MetricSummary& s) { return s.metric == metric; });
                if (found == summaries.end()) {
                    continue;
                }
                const Summary& s = found->summary;
                const double values[] = {s.mean, s.std, s.median, s.min, s.max, static_cast<double>(s.valid)};
                out << (k == 5 ? std::to_string(s.valid) : csv_value(values[k]));
            }
            out << ",," << build << '\n';
        }
    };
    summary_rows("", overall_summary(report));
    for (const LabelSummary& label : label_summaries(report)) {
        summary_rows(std::to_string(label.label), label.metrics);
    }
}

} // namespace masklens
