#include "masklens/engine/report.h"

#include "masklens/engine/build_info.h"
#include "masklens/engine/error.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <sstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace masklens {

std::string json_quote(const std::string& text)
{
    std::string out = "\"";
    for (const char raw : text) {
        const auto c = static_cast<unsigned char>(raw);
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20) {
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", c);
                out += escaped;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    return out + "\"";
}

std::string csv_field(const std::string& text)
{
    if (text.find_first_of(",\"\n\r") == std::string::npos) {
        return text;
    }
    std::string out = "\"";
    for (const char c : text) {
        out += c;
        if (c == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

// Shortest text that reads back as the same double.
std::string format_number(double value)
{
    char text[32];
    for (int precision = 15; precision <= 17; ++precision) {
        std::snprintf(text, sizeof text, "%.*g", precision, value);
        if (std::strtod(text, nullptr) == value) {
            break;
        }
    }
    return text;
}

namespace {

std::string number(double value)
{
    return format_number(value);
}

std::string json_number(double value)
{
    return std::isfinite(value) ? number(value) : "null";
}

std::string_view undefined_reason(Metric metric, double value)
{
    if (std::isnan(value)) {
        return metric_info(metric).nan_reason;
    }
    if (is_distance_metric(metric)) {
        return "infinite: exactly one mask is empty";
    }
    return value > 0 ? "+inf" : "-inf";
}

const char* axis_name(SliceAxis axis)
{
    switch (axis) {
    case SliceAxis::H: return "h";
    case SliceAxis::W: return "w";
    default: return "d";
    }
}

// {"dice": 0.5, ...} and, for non-finite values (written as null), the
// reasons {"dice": "undefined: ..."} (empty when all values are finite).
std::pair<std::string, std::string> values_object(const Evaluation& evaluation, const MetricValues& values,
                                                  bool label)
{
    std::string object = "{", reasons;
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        const Metric metric = evaluation.metrics[m];
        if (label && !label_metric_applies(metric, evaluation.statistics.pairing)) {
            continue;
        }
        const std::string name = json_quote(std::string(metric_name(metric)));
        object += (object.size() > 1 ? ", " : "") + name + ": " + json_number(values[m]);
        if (!std::isfinite(values[m])) {
            reasons += (reasons.empty() ? "{" : ", ") + name + ": " +
                       json_quote(std::string(undefined_reason(metric, values[m])));
        }
    }
    return {object + "}", reasons.empty() ? reasons : reasons + "}"};
}

// "values": {...} plus "undefined": {...} when some value is not finite.
void write_values(std::ostream& out, const Evaluation& evaluation, const MetricValues& values, bool label,
                  const std::string& indent)
{
    const auto [object, reasons] = values_object(evaluation, values, label);
    out << "\"values\": " << object;
    if (!reasons.empty()) {
        out << ",\n" << indent << "\"undefined\": " << reasons;
    }
}

void write_valid(std::ostream& out, const Evaluation& evaluation, const std::vector<std::int64_t>& valid,
                 bool label)
{
    out << "\"valid\": {";
    bool first = true;
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        const Metric metric = evaluation.metrics[m];
        if (label && !label_metric_applies(metric, evaluation.statistics.pairing)) {
            continue;
        }
        out << (first ? "" : ", ") << json_quote(std::string(metric_name(metric))) << ": " << valid[m];
        first = false;
    }
    out << "}";
}

void write_slices(std::ostream& out, const Evaluation& evaluation, const std::vector<MetricValues>& slices,
                  bool label, const std::string& indent)
{
    out << "\"slices\": [";
    for (std::size_t s = 0; s < slices.size(); ++s) {
        out << (s ? ",\n" : "\n") << indent << "  {\"index\": " << s << ", ";
        write_values(out, evaluation, slices[s], label, indent + "   ");
        out << "}";
    }
    out << "\n" << indent << "]";
}

std::string csv_number(double value)
{
    if (std::isnan(value)) {
        return "nan";
    }
    if (std::isinf(value)) {
        return value > 0 ? "inf" : "-inf";
    }
    return number(value);
}

void csv_row(std::ostream& out, const Evaluation& evaluation, const std::string& sample,
             const std::string& label, const std::string& slice, const MetricValues& values, bool label_row,
             const std::string& tail)
{
    out << sample << ',' << label << ',' << slice;
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        out << ',';
        if (!label_row || label_metric_applies(evaluation.metrics[m], evaluation.statistics.pairing)) {
            out << csv_number(values[m]);
        }
    }
    out << tail << '\n';
}

std::string table_number(double value)
{
    if (std::isnan(value)) {
        return "-";
    }
    std::ostringstream text;
    text << std::setprecision(6) << value;
    return text.str();
}

void table_row(std::ostream& out, const std::string& name, const MetricValues& values, std::size_t width)
{
    out << std::left << std::setw(12) << name;
    for (const double value : values) {
        out << std::right << std::setw(static_cast<int>(width)) << table_number(value);
    }
    out << '\n';
}

} // namespace

void write_json(std::ostream& out, const Evaluation& evaluation, const ReportContext& context)
{
    const BatchStatistics& stats = evaluation.statistics;
    out << "{\n";
    out << "  \"prediction\": " << json_quote(context.prediction_path) << ",\n";
    out << "  \"target\": " << json_quote(context.target_path) << ",\n";
    out << "  \"shape\": [";
    const auto shape = stats.shape.torch_shape();
    for (std::size_t i = 0; i < shape.size(); ++i) {
        out << (i ? ", " : "") << shape[i];
    }
    out << "],\n";
    out << "  \"device\": " << json_quote(context.device) << ",\n";
    out << "  \"masklens\": " << build_info_json() << ",\n";
    out << "  \"options\": " << context.options_json << ",\n";
    out << "  \"pairing\": " << json_quote(pairing_mode_name(stats.pairing)) << ",\n";
    out << "  \"axis\": " << json_quote(axis_name(stats.axis)) << ",\n";
    out << "  \"slices_per_sample\": " << stats.slices_per_sample << ",\n";
    out << "  \"metrics\": [";
    for (std::size_t m = 0; m < evaluation.metrics.size(); ++m) {
        out << (m ? ", " : "") << json_quote(std::string(metric_name(evaluation.metrics[m])));
    }
    out << "],\n";
    const auto [batch, batch_reasons] = values_object(evaluation, evaluation.batch, false);
    out << "  \"batch\": " << batch << ",\n";
    if (!batch_reasons.empty()) {
        out << "  \"undefined\": " << batch_reasons << ",\n";
    }
    out << "  ";
    write_valid(out, evaluation, evaluation.batch_valid, false);
    out << ",\n";
    out << "  \"labels\": [";
    for (std::size_t l = 0; l < evaluation.labels.size(); ++l) {
        const auto& label = evaluation.labels[l];
        out << (l ? ",\n" : "\n") << "    {\"label\": " << label.label << ", ";
        write_values(out, evaluation, label.values, true, "     ");
        out << ", ";
        write_valid(out, evaluation, label.valid, true);
        out << "}";
    }
    out << (evaluation.labels.empty() ? "" : "\n  ") << "],\n";
    out << "  \"samples\": [";
    for (std::size_t n = 0; n < evaluation.samples.size(); ++n) {
        const SampleResult& sample = evaluation.samples[n];
        out << (n ? ",\n" : "\n") << "    {\"index\": " << sample.index << ",\n      ";
        write_values(out, evaluation, sample.values, false, "      ");
        out << ",\n      ";
        write_slices(out, evaluation, sample.slices, false, "      ");
        out << ",\n      \"labels\": [";
        for (std::size_t l = 0; l < sample.labels.size(); ++l) {
            const LabelResult& label = sample.labels[l];
            out << (l ? ",\n" : "\n") << "        {\"label\": " << label.label << ",\n          ";
            write_values(out, evaluation, label.values, true, "          ");
            out << ",\n          ";
            write_slices(out, evaluation, label.slices, true, "          ");
            out << "}";
        }
        out << (sample.labels.empty() ? "" : "\n      ") << "]}";
    }
    out << "\n  ]";
    // The per-lesion table, only when lesion metrics were asked for (other
    // reports keep their exact form).
    if (std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), is_lesion_metric)) {
        out << ",\n  \"lesions\": ";
        write_lesion_rows_json(out, evaluation.lesions, "    ");
        if (!evaluation.options.lesion_size_bins.empty()) {
            // Batch first (all samples), then each sample; the samples' own
            // masks (label null), then each label.
            std::vector<std::pair<std::int64_t, std::int64_t>> keys{{-1, -1}};
            for (const BatchLabelResult& label : evaluation.labels) {
                keys.emplace_back(-1, label.label);
            }
            for (const SampleResult& sample : evaluation.samples) {
                keys.emplace_back(sample.index, -1);
                for (const LabelResult& label : sample.labels) {
                    keys.emplace_back(sample.index, label.label);
                }
            }
            out << ",\n  \"lesion_size_recall\": ";
            write_size_bin_recall_json(out, evaluation.lesions, evaluation.options.lesion_size_bins, keys,
                                       "    ");
        }
    }
    out << "\n}\n";
}

void write_csv(std::ostream& out, const Evaluation& evaluation, const std::vector<CsvConstant>& constants)
{
    out << "sample,label,slice";
    for (const Metric metric : evaluation.metrics) {
        out << ',' << metric_name(metric);
    }
    std::string build; // the constant columns' values, then the build's
    for (const CsvConstant& constant : constants) {
        out << ',' << constant.name;
        build += ',' + constant.value;
    }
    out << ',' << kBuildCsvHeader << '\n';
    build += ',' + build_info_csv();
    csv_row(out, evaluation, "", "", "", evaluation.batch, false, build);
    for (const auto& label : evaluation.labels) {
        csv_row(out, evaluation, "", std::to_string(label.label), "", label.values, true, build);
    }
    for (const SampleResult& sample : evaluation.samples) {
        const std::string index = std::to_string(sample.index);
        csv_row(out, evaluation, index, "", "", sample.values, false, build);
        for (std::size_t s = 0; s < sample.slices.size(); ++s) {
            csv_row(out, evaluation, index, "", std::to_string(s), sample.slices[s], false, build);
        }
        for (const LabelResult& label : sample.labels) {
            const std::string name = std::to_string(label.label);
            csv_row(out, evaluation, index, name, "", label.values, true, build);
            for (std::size_t s = 0; s < label.slices.size(); ++s) {
                csv_row(out, evaluation, index, name, std::to_string(s), label.slices[s], true, build);
            }
        }
    }
}

void write_lesion_rows_table(std::ostream& out, const std::vector<LesionRow>& rows, std::size_t limit)
{
    out << "\nper lesion (label -: the sample's own masks; status tp found, fn missed, fp false)\n";
    if (rows.empty()) {
        out << "no lesions in either mask\n";
        return;
    }
    const auto number = [](double value, const char* format) {
        if (!std::isfinite(value)) {
            return std::string("-");
        }
        char text[32];
        std::snprintf(text, sizeof text, format, value);
        return std::string(text);
    };
    char line[160];
    std::snprintf(line, sizeof line, "%6s %6s %-10s %6s %12s %6s %7s %9s\n", "sample", "label", "side", "id",
                  "mm3", "status", "dice", "hd95");
    out << line;
    const std::size_t shown = std::min(limit, rows.size());
    for (std::size_t r = 0; r < shown; ++r) {
        const LesionRow& row = rows[r];
        const std::string label = row.label < 0 ? std::string("-") : std::to_string(row.label);
        std::snprintf(line, sizeof line, "%6lld %6s %-10s %6lld %12s %6s %7s %9s\n",
                      static_cast<long long>(row.sample), label.c_str(),
                      std::string(lesion_side_name(row.lesion.side)).c_str(),
                      static_cast<long long>(row.lesion.id), number(row.volume_mm3, "%.6g").c_str(),
                      std::string(lesion_status_name(row.lesion.status)).c_str(),
                      number(row.lesion.dice, "%.4f").c_str(), number(row.lesion.hd95, "%.2f").c_str());
        out << line;
    }
    if (rows.size() > shown) {
        out << "... " << rows.size() - shown
            << " more lesions (all of them: --format json or --lesion-table FILE)\n";
    }
}

void write_table(std::ostream& out, const Evaluation& evaluation, const ReportContext& context)
{
    const BatchStatistics& stats = evaluation.statistics;
    out << "prediction  " << context.prediction_path << "\n";
    out << "target      " << context.target_path << "\n";
    out << "shape       " << stats.shape.to_string() << "  (" << pairing_mode_name(stats.pairing) << ", "
        << stats.slices_per_sample << " slice" << (stats.slices_per_sample == 1 ? "" : "s")
        << " per sample along " << axis_name(stats.axis) << ", device " << context.device << ")\n";
    out << "masklens    " << build_info_text() << "\n\n";
    std::size_t width = 10;
    for (const Metric metric : evaluation.metrics) {
        width = std::max(width, metric_name(metric).size() + 2);
    }
    out << std::left << std::setw(12) << "";
    for (const Metric metric : evaluation.metrics) {
        out << std::right << std::setw(static_cast<int>(width)) << metric_name(metric);
    }
    out << '\n';
    table_row(out, "batch", evaluation.batch, width);
    for (const SampleResult& sample : evaluation.samples) {
        table_row(out, "sample " + std::to_string(sample.index), sample.values, width);
    }
    if (!evaluation.labels.empty()) {
        out << "\nper label (batch: mean over samples)\n";
        for (const auto& label : evaluation.labels) {
            MetricValues shown = label.values;
            for (std::size_t m = 0; m < shown.size(); ++m) {
                if (!label_metric_applies(evaluation.metrics[m], stats.pairing)) {
                    shown[m] = std::nan("");
                }
            }
            table_row(out, "label " + std::to_string(label.label), shown, width);
        }
    }
    // The per-lesion table, only when lesion metrics were asked for (as JSON's "lesions").
    if (std::any_of(evaluation.metrics.begin(), evaluation.metrics.end(), is_lesion_metric)) {
        write_lesion_rows_table(out, evaluation.lesions);
    }
    out << "\n- : undefined (empty masks; see --empty). Per-slice values: --format json or csv.\n";
}

void write_file_atomically(const std::string& path, const std::string& content)
{
    const auto slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    std::string pattern = folder + "/." + name + ".tmp.XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    const int fd = ::mkstemp(buffer.data());
    if (fd < 0) {
        throw_input_error(path,
                          std::string("cannot create a file in ") + folder + ": " + std::strerror(errno));
    }
    const std::string temporary(buffer.data());
    std::size_t written = 0;
    while (written < content.size()) {
        const ssize_t step = ::write(fd, content.data() + written, content.size() - written);
        if (step < 0) {
            if (errno == EINTR) {
                continue;
            }
            const std::string reason = std::strerror(errno);
            ::close(fd);
            ::unlink(temporary.c_str());
            throw_input_error(path, "cannot write: " + reason);
        }
        written += static_cast<std::size_t>(step);
    }
    ::fchmod(fd, 0644);
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        ::unlink(temporary.c_str());
        throw_input_error(path, std::string("cannot write: ") + std::strerror(errno));
    }
    if (::rename(temporary.c_str(), path.c_str()) != 0) {
        const std::string reason = std::strerror(errno);
        ::unlink(temporary.c_str());
        throw_input_error(path, "cannot replace the file: " + reason);
    }
}

} // namespace masklens
