// Writing an Evaluation as JSON (the documented contract), CSV (tidy rows) or
// a terminal table. Outputs are written atomically: temp file + rename.
#pragma once

#include "masklens/engine/evaluate.h"

#include <ostream>
#include <string>

namespace masklens {

struct ReportContext {
    std::string prediction_path;
    std::string target_path;
    std::string device = "cpu";
    std::string options_json = "{}"; // the options object, already JSON
};

// A JSON string literal for `text`: quoted, with quotes, backslashes and
// control characters escaped.
std::string json_quote(const std::string& text);

// A CSV field: `text` as is, or quoted (quotes doubled) when it holds a
// comma, a quote or a line break.
std::string csv_field(const std::string& text);

// Shortest decimal text that reads back as the same double ("0.1", "1e-06").
std::string format_number(double value);

void write_json(std::ostream& out, const Evaluation& evaluation, const ReportContext& context);
// Columns with one value for the whole result (e.g. the app's settings:
// threshold, activation, spacing), written on every row after the metrics so
// that each row stands alone. Names and values must not contain a comma.
struct CsvConstant {
    std::string name;
    std::string value;
};
void write_csv(std::ostream& out, const Evaluation& evaluation,
               const std::vector<CsvConstant>& constants = {});
void write_table(std::ostream& out, const Evaluation& evaluation, const ReportContext& context);

// Writes `content` to `path` through a temporary file in the same folder and a
// rename, so readers never see a half-written file. Throws Error(Input).
void write_file_atomically(const std::string& path, const std::string& content);

} // namespace masklens
