#include "shard_reader.h"

#include "json.h"
#include "masklens/engine/error.h"
#include "masklens/engine/metrics.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace masklens::cli {

namespace {

// The JSON types a member may be required to have.
enum class Kind { String, Number, Array, Object };

bool is_kind(const Json& value, Kind kind) noexcept
{
    switch (kind) {
    case Kind::String: return value.is_string();
    case Kind::Number: return value.is_number();
    case Kind::Array: return value.is_array();
    case Kind::Object: return value.is_object();
    }
    return false;
}

// The member `key` of `object`, or nullptr (also when `object` is no object).
const Json* find(const Json& object, const std::string& key) noexcept
{
    if (!object.is_object()) {
        return nullptr;
    }
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &*it;
}

class ShardReader {
public:
    ShardReader(std::string path, const Json& root) : path_(std::move(path)), root_(root) {}

    const Json& member(const Json& object, const std::string& key, Kind kind) const
    {
        const Json* value = find(object, key);
        if (!value || !is_kind(*value, kind)) {
            throw_input_error(path_,
                              "not an evaluate-folder output: '" + key + "' is missing or of the wrong type");
        }
        return *value;
    }
    const std::string& string(const Json& object, const std::string& key) const
    {
        return member(object, key, Kind::String).get_ref<const std::string&>();
    }
    std::int64_t integer(const Json& object, const std::string& key) const
    {
        return whole_number(member(object, key, Kind::Number).get<double>(), key);
    }
    // A JSON number that must be a whole number of at most 2^53 (counts,
    // indices, extents); anything else is refused rather than cast.
    std::int64_t whole_number(double value, const std::string& key) const
    {
        constexpr double kLargest = 9007199254740992.0; // 2^53
        if (!(std::abs(value) <= kLargest) || value != std::floor(value)) {
            throw_input_error(path_, "not an evaluate-folder output: '" + key + "' is not a whole number");
        }
        return static_cast<std::int64_t>(value);
    }

    // "values" plus "undefined" reasons -> one value per metric (absent: NaN).
    MetricValues values(const Json& object, const std::vector<Metric>& metrics) const
    {
        const Json& values = member(object, "values", Kind::Object);
        const Json* reasons = find(object, "undefined");
        MetricValues out(metrics.size(), std::numeric_limits<double>::quiet_NaN());
        for (std::size_t m = 0; m < metrics.size(); ++m) {
            const std::string name(metric_name(metrics[m]));
            const Json* value = find(values, name);
            if (!value) {
                continue;
            }
            if (value->is_number()) {
                out[m] = value->get<double>();
                continue;
            }
            const Json* reason = reasons ? find(*reasons, name) : nullptr;
            const std::string text = reason && reason->is_string() ? reason->get<std::string>() : "";
            if (text.rfind("infinite", 0) == 0) {
                out[m] = std::numeric_limits<double>::infinity();
            } else if (text.rfind("-infinite", 0) == 0) {
                out[m] = -std::numeric_limits<double>::infinity();
            }
        }
        return out;
    }

    std::vector<MetricValues> slices(const Json& object, const std::vector<Metric>& metrics) const
    {
        std::vector<MetricValues> out;
        for (const Json& slice : member(object, "slices", Kind::Array)) {
            out.push_back(values(slice, metrics));
        }
        return out;
    }

    std::vector<UnpairedFile> unpaired(const std::string& key) const
    {
        std::vector<UnpairedFile> out;
        const Json& unpaired = member(root_, "unpaired", Kind::Object);
        for (const Json& file : member(unpaired, key, Kind::Array)) {
            out.push_back({string(file, "file"), string(file, "case"), string(file, "reason")});
        }
        return out;
    }

    std::vector<std::string> ignored(const std::string& key) const
    {
        std::vector<std::string> out;
        const Json& ignored = member(root_, "ignored", Kind::Object);
        for (const Json& name : member(ignored, key, Kind::Array)) {
            if (!name.is_string()) {
                throw_input_error(path_, "not an evaluate-folder output: 'ignored' holds a non-string");
            }
            out.push_back(name.get<std::string>());
        }
        return out;
    }

    FolderCase folder_case(const Json& entry, const std::vector<Metric>& metrics) const
    {
        FolderCase c;
        c.case_id = string(entry, "case");
        c.prediction = string(entry, "prediction");
        c.target = string(entry, "target");
        const std::string& status = string(entry, "status");
        c.ok = status == "ok";
        if (!c.ok) {
            c.error = string(entry, "error");
            return c;
        }
        for (const Json& extent : member(entry, "shape", Kind::Array)) {
            if (!extent.is_number()) {
                throw_input_error(path_, "not an evaluate-folder output: 'shape' holds a non-number");
            }
            c.shape.push_back(whole_number(extent.get<double>(), "shape"));
        }
        const auto pairing = parse_pairing_mode(string(entry, "pairing"));
        if (!pairing) {
            throw_input_error(path_, "case " + c.case_id + ": unknown pairing");
        }
        c.pairing = *pairing;
        c.values = values(entry, metrics);
        for (const Json& label : member(entry, "labels", Kind::Array)) {
            c.labels.push_back({integer(label, "label"), values(label, metrics)});
        }
        if (const Json* samples = find(entry, "samples"); samples && samples->is_array()) {
            for (const Json& sample : *samples) {
                FolderSampleDetail detail;
                detail.index = integer(sample, "index");
                detail.values = values(sample, metrics);
                detail.slices = slices(sample, metrics);
                for (const Json& label : member(sample, "labels", Kind::Array)) {
                    detail.labels.push_back(
                        {integer(label, "label"), values(label, metrics), slices(label, metrics)});
                }
                c.samples.push_back(std::move(detail));
            }
        }
        return c;
    }

    FolderReport report() const
    {
        FolderReport report;
        report.prediction_dir = string(root_, "prediction_dir");
        report.target_dir = string(root_, "target_dir");
        report.options_json = canonical_json(member(root_, "options", Kind::Object));
        for (const Json& name : member(root_, "metrics", Kind::Array)) {
            const std::string text = name.is_string() ? name.get<std::string>() : std::string();
            const auto metric = name.is_string() ? parse_metric(text) : std::nullopt;
            if (!metric) {
                throw_input_error(path_, "unknown metric '" + text + "'");
            }
            report.metrics.push_back(*metric);
        }
        for (const Json& entry : member(root_, "cases", Kind::Array)) {
            report.cases.push_back(folder_case(entry, report.metrics));
        }
        report.unpaired_predictions = unpaired("predictions");
        report.unpaired_targets = unpaired("targets");
        report.ignored_predictions = ignored("predictions");
        report.ignored_targets = ignored("targets");
        if (const Json* shard = find(root_, "shard")) {
            report.shard =
                ShardInfo{static_cast<int>(integer(*shard, "index")),
                          static_cast<int>(integer(*shard, "count")), integer(*shard, "cases_total")};
        } else {
            // A run without --shard is the one shard of one.
            report.shard = ShardInfo{1, 1, static_cast<std::int64_t>(report.cases.size())};
        }
        return report;
    }

private:
    std::string path_;
    const Json& root_;
};

} // namespace

FolderReport read_shard_report(const std::string& text, const std::string& path)
{
    const Json root = parse_json(text, path);
    return ShardReader(path, root).report();
}

} // namespace masklens::cli
