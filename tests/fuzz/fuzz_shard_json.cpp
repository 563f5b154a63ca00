// libFuzzer target for the JSON that `masklens-cli merge` reads (shard
// outputs of evaluate-folder): parse_json + read_shard_report, in memory.
// masklens::Error is the expected refusal; anything else is a finding.
#include "masklens/engine/error.h"
#include "shard_reader.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string text(reinterpret_cast<const char*>(data), size);
    try {
        const masklens::FolderReport report = masklens::cli::read_shard_report(text, "shard.json");
        // Touch what was parsed.
        volatile std::size_t sink = report.cases.size() + report.metrics.size();
        (void)sink;
    } catch (const masklens::Error&) {
        // The expected way to refuse a document.
    }
    return 0;
}
