#include "json.h"

#include "masklens/engine/error.h"
#include "masklens/engine/report.h"

#include <cmath>

namespace masklens::cli {

Json parse_json(const std::string& text, const std::string& source)
{
    // Deeper documents are refused: canonical_json recurses.
    constexpr int kMaxDepth = 64;
    const Json::parser_callback_t limit_depth = [&source](int depth, Json::parse_event_t event, Json&) {
        if ((event == Json::parse_event_t::object_start || event == Json::parse_event_t::array_start) &&
            depth > kMaxDepth) {
            throw_input_error(source, "not valid JSON: nested too deeply");
        }
        return true;
    };
    try {
        return Json::parse(text, limit_depth);
    } catch (const Json::parse_error& error) {
        // what(): "[json.exception.parse_error.101] parse error at line 1, column 2: <detail>"
        const std::string what = error.what();
        const auto colon = what.find(": ");
        const std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
        throw_input_error(source, "not valid JSON at byte " + std::to_string(error.byte) + ": " + detail);
    } catch (const Json::exception& error) {
        throw_input_error(source, std::string("not valid JSON: ") + error.what());
    }
}

std::string canonical_json(const Json& value)
{
    switch (value.type()) {
    case Json::value_t::boolean: return value.get<bool>() ? "true" : "false";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float: {
        const double number = value.get<double>();
        return std::isfinite(number) ? format_number(number) : "null";
    }
    case Json::value_t::string: return json_quote(value.get_ref<const std::string&>());
    case Json::value_t::array: {
        std::string out = "[";
        for (std::size_t i = 0; i < value.size(); ++i) {
            out += (i ? ", " : "") + canonical_json(value[i]);
        }
        return out + "]";
    }
    case Json::value_t::object: {
        std::string out = "{";
        bool first = true;
        for (const auto& [key, member] : value.items()) {
            out += (first ? "" : ", ") + json_quote(key) + ": " + canonical_json(member);
            first = false;
        }
        return out + "}";
    }
    default: return "null";
    }
}

} // namespace masklens::cli
