// A small JSON reader for merging shard outputs, and a canonical writer.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace masklens::cli {

struct JsonValue {
    enum class Type { Null, Bool, Number, String, Array, Object };
    Type type = Type::Null;
    bool boolean = false;
    double number = 0;
    std::string text;             // String
    std::vector<JsonValue> items; // Array
    // Object members in file order: names[i] is the key of members[i]. Two
    // vectors because std::pair<std::string, JsonValue> would need JsonValue
    // complete here (libc++/clang refuse it; only a vector may hold an
    // incomplete type).
    std::vector<std::string> names;
    std::vector<JsonValue> members;

    bool is(Type t) const noexcept { return type == t; }
    // The member `key` of an object, or nullptr.
    const JsonValue* find(const std::string& key) const noexcept;
};

// Parses a whole document; throws Error(Input) naming `source` with the byte
// offset of the problem.
JsonValue parse_json(const std::string& text, const std::string& source);

// Compact form with ", " and ": " separators; numbers in shortest round-trip form.
std::string canonical_json(const JsonValue& value);

} // namespace masklens::cli
