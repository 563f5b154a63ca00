// libFuzzer target for the results JSON the app opens (`masklens --results`):
// masklens::ui::parse_results on the input, in memory. A refusal is a nullopt
// with an error text; a crash, sanitizer report or hang is a finding.
#include "masklens/ui/results_file.h"

#include <QByteArray>
#include <QDir>
#include <QString>

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const QByteArray json(reinterpret_cast<const char*>(data), static_cast<qsizetype>(size));
    QString error;
    const auto results =
        masklens::ui::parse_results(json, QDir::temp().filePath(QStringLiteral("results.json")), &error);
    if (results) {
        volatile qsizetype sink = results->metrics.size() + static_cast<qsizetype>(results->cases.size());
        (void)sink;
    } else if (error.isEmpty()) {
        __builtin_trap(); // a refusal must say why
    }
    return 0;
}
