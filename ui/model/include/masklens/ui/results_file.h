// The results file of a folder evaluation (`masklens-cli evaluate-folder ...
// --format json`, or `masklens-cli merge`) parsed into plain data: Qt Core
// only, no model or widget, so that it can also be fuzzed on its own
// (tests/fuzz: fuzz_results_json).
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

#include <optional>
#include <vector>

namespace masklens::ui {

struct ResultsCase {
    QString id;
    QString prediction_name; // as written in the file
    QString target_name;
    QString prediction_path; // resolved (see parse_results)
    QString target_path;
    bool ok = true; // status "ok"
    QString status;
    QString error;
    std::vector<double> values; // one per ResultsData::metrics; NaN: null or absent
    QStringList reasons;        // one per metric: why the value is null ("" when it is not)
};

struct ResultsData {
    QString path; // the results file (absolute)
    QString prediction_dir;
    QString target_dir;
    QStringList metrics;
    std::vector<ResultsCase> cases;
    int unpaired = 0; // unpaired predictions + targets
    int failed() const;
};

// Parses a folder-evaluation JSON document. `results_path` locates relative
// files: a case's prediction (target) is taken as written (masklens-cli writes
// PRED_DIR/case.ext) or inside prediction_dir (target_dir); absolute paths as is,
// relative ones beside the results file, then in the current directory (the
// first that exists). Returns nullopt and sets `error` on a malformed document.
std::optional<ResultsData> parse_results(const QByteArray& json, const QString& results_path, QString* error);
// Reads and parses a results file.
std::optional<ResultsData> read_results(const QString& path, QString* error);

} // namespace masklens::ui
