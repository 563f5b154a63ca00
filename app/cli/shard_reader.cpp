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

class ShardReader {
public:
    ShardReader(std::string path, const JsonValue& root) : path_(std::move(path)), root_(root) {}

    const JsonValue& member(const JsonValue& object, const std::string& key, JsonValue::Type type) const
    {
        const JsonValue* value = object.is(JsonValue::Type::Object) ? object.find(key) : nullptr;
        if (!value || !value->is(type)) {
            throw_input_error(path_,
                              "not an evaluate-folder output: '" + key + "' is missing or of the wrong type");
        }
        return *value;
    }
    const std::string& string(const JsonValue& object, const std::string& key) const
    {
        return member(object, key, JsonValue::Type::String).text;
    }
    std::int64_t integer(const JsonValue& object, const std::string& key) const
    {
        return whole_number(member(object, key, JsonValue::Type::Number).number, key);
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
    MetricValues values(const JsonValue& object, const std::vector<Metric>& metrics) const
    {
        const JsonValue& values = member(object, "values", JsonValue::Type::Object);
        const JsonValue* reasons = object.find("undefined");
        MetricValues out(metrics.size(), std::numeric_limits<double>::quiet_NaN());
        for (std::size_t m = 0; m < metrics.size(); ++m) {
            const JsonValue* value = values.find(std::string(metric_name(metrics[m])));
            if (!value) {
                continue;
            }
            if (value->is(JsonValue::Type::Number)) {
                out[m] = value->number;
                continue;
            }
            const JsonValue* reason = reasons ? reasons->find(std::string(metric_name(metrics[m]))) : nullptr;
            const std::string text = reason && reason->is(JsonValue::Type::String) ? reason->text : "";
            if (text.rfind("infinite", 0) == 0) {
                out[m] = std::numeric_limits<double>::infinity();
            } else if (text.rfind("-infinite", 0) == 0) {
                out[m] = -std::numeric_limits<double>::infinity();
            }
        }
        return out;
    }

    std::vector<MetricValues> slices(const JsonValue& object, const std::vector<Metric>& metrics) const
    {
        std::vector<MetricValues> out;
        for (const JsonValue& slice : member(object, "slices", JsonValue::Type::Array).items) {
            out.push_back(values(slice, metrics));
        }
        return out;
    }

    std::vector<UnpairedFile> unpaired(const std::string& key) const
    {
        std::vector<UnpairedFile> out;
        const JsonValue& unpaired = member(root_, "unpaired", JsonValue::Type::Object);
        for (const JsonValue& file : member(unpaired, key, JsonValue::Type::Array).items) {
            out.push_back({string(file, "file"), string(file, "case"), string(file, "reason")});
        }
        return out;
    }

    std::vector<std::string> ignored(const std::string& key) const
    {
        std::vector<std::string> out;
        const JsonValue& ignored = member(root_, "ignored", JsonValue::Type::Object);
        for (const JsonValue& name : member(ignored, key, JsonValue::Type::Array).items) {
            if (!name.is(JsonValue::Type::String)) {
                throw_input_error(path_, "not an evaluate-folder output: 'ignored' holds a non-string");
            }
            out.push_back(name.text);
        }
        return out;
    }

    FolderCase folder_case(const JsonValue& entry, const std::vector<Metric>& metrics) const
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
        for (const JsonValue& extent : member(entry, "shape", JsonValue::Type::Array).items) {
            if (!extent.is(JsonValue::Type::Number)) {
                throw_input_error(path_, "not an evaluate-folder output: 'shape' holds a non-number");
            }
            c.shape.push_back(whole_number(extent.number, "shape"));
        }
        const auto pairing = parse_pairing_mode(string(entry, "pairing"));
        if (!pairing) {
            throw_input_error(path_, "case " + c.case_id + ": unknown pairing");
        }
        c.pairing = *pairing;
        c.values = values(entry, metrics);
        for (const JsonValue& label : member(entry, "labels", JsonValue::Type::Array).items) {
            c.labels.push_back({integer(label, "label"), values(label, metrics)});
        }
        if (const JsonValue* samples = entry.find("samples");
            samples && samples->is(JsonValue::Type::Array)) {
            for (const JsonValue& sample : samples->items) {
                FolderSampleDetail detail;
                detail.index = integer(sample, "index");
                detail.values = values(sample, metrics);
                detail.slices = slices(sample, metrics);
                for (const JsonValue& label : member(sample, "labels", JsonValue::Type::Array).items) {
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
        report.options_json = canonical_json(member(root_, "options", JsonValue::Type::Object));
        for (const JsonValue& name : member(root_, "metrics", JsonValue::Type::Array).items) {
            const auto metric = name.is(JsonValue::Type::String) ? parse_metric(name.text) : std::nullopt;
            if (!metric) {
                throw_input_error(path_, "unknown metric '" + name.text + "'");
            }
            report.metrics.push_back(*metric);
        }
        for (const JsonValue& entry : member(root_, "cases", JsonValue::Type::Array).items) {
            report.cases.push_back(folder_case(entry, report.metrics));
        }
        report.unpaired_predictions = unpaired("predictions");
        report.unpaired_targets = unpaired("targets");
        report.ignored_predictions = ignored("predictions");
        report.ignored_targets = ignored("targets");
        if (const JsonValue* shard = root_.find("shard")) {
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
    const JsonValue& root_;
};

} // namespace

FolderReport read_shard_report(const std::string& text, const std::string& path)
{
    const JsonValue root = parse_json(text, path);
    return ShardReader(path, root).report();
}

} // namespace masklens::cli
