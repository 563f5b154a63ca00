// Reading JSON documents (shard outputs for merge) with nlohmann/json, and
// the canonical writer that compares their options.
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace masklens::cli {

// Members keep their file order: the options of shards are compared as the
// canonical text, in the order evaluate-folder wrote them.
using Json = nlohmann::ordered_json;

// Parses a whole document; throws Error(Input) naming `source` with the byte
// offset of the problem (or "nested too deeply" past 64 levels).
Json parse_json(const std::string& text, const std::string& source);

// Compact form with ", " and ": " separators; numbers in shortest round-trip
// form (non-finite ones as null).
std::string canonical_json(const Json& value);

} // namespace masklens::cli
