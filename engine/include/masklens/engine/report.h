// Writing an Evaluation as JSON (the documented contract), CSV (tidy rows) or
// a terminal table. Outputs are written atomically: temp file + rename.
#pragma once

#include "masklens/engine/evaluate.h"

#include <cstddef>
#include <ostream>
#include <string>
#include <vector>

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
// The terminal table: the inputs, the batch, sample and label values and,
// when a lesion metric was asked for, write_lesion_rows_table's section.
void write_table(std::ostream& out, const Evaluation& evaluation, const ReportContext& context);

// The terminal table's per-lesion section: a title line, a header and one
// line per row in the rows' order (Evaluation::lesions, as JSON "lesions":
// per sample and label, target lesions then predicted, by id) with sample,
// label ("-": the sample's own masks), side, id, volume (mm^3, 6
// significant digits), status (tp found / fn missed / fp false), Dice (4
// decimals) and HD95 (mm, 2 decimals); "-": no value. At most `limit`
// rows, then "... N more lesions" and where to find them all (--format
// json, --lesion-table FILE). No rows: a line saying so.
inline constexpr std::size_t kTableLesionRows = 20;
void write_lesion_rows_table(std::ostream& out, const std::vector<LesionRow>& rows,
                             std::size_t limit = kTableLesionRows);

// Writes `content` to `path` through a temporary file in the same folder and a
// rename, so readers never see a half-written file. Throws Error(Input).
void write_file_atomically(const std::string& path, const std::string& content);

} // namespace masklens
