#include "folder_command.h"

#include "shard_reader.h"

#include "masklens/service/pair_evaluator.h"

#include "masklens/engine/error.h"
#include "masklens/engine/evaluate.h"
#include "masklens/engine/folder.h"
#include "masklens/engine/report.h"
#include "masklens/io/file_mapping.h"
#include "masklens/io/read_volume.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <deque>
#include <fstream>
#include <functional>
#include <future>
#include <iostream>
#include <limits>
#include <mutex>
#include <new>
#include <optional>
#include <set>
#include <sstream>
#include <thread>
#include <utility>

#include <unistd.h>

namespace masklens::cli {

namespace {

using Clock = std::chrono::steady_clock;

std::string join_path(const std::string& folder, const std::string& name)
{
    if (folder.empty()) {
        return name;
    }
    return folder.back() == '/' ? folder + name : folder + "/" + name;
}

std::string format_duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0) {
        return "?";
    }
    const auto total = static_cast<long long>(seconds + 0.5);
    char text[32];
    if (total >= 3600) {
        std::snprintf(text, sizeof text, "%lld:%02lld:%02lld", total / 3600, total / 60 % 60, total % 60);
    } else {
        std::snprintf(text, sizeof text, "%lld:%02lld", total / 60, total % 60);
    }
    return text;
}

// "[#####.....]  12/100 cases  3.4 cases/s  ETA 0:26" on one terminal line.
class Progress {
public:
    Progress(std::size_t total, bool enabled) : total_(total), enabled_(enabled && total > 0) {}

    void case_done()
    {
        std::lock_guard lock(mutex_);
        ++done_;
        if (!enabled_) {
            return;
        }
        const auto now = Clock::now();
        if (done_ < total_ && now - last_ < std::chrono::milliseconds(200)) {
            return;
        }
        last_ = now;
        const double elapsed = std::chrono::duration<double>(now - start_).count();
        const double rate = elapsed > 0 ? static_cast<double>(done_) / elapsed : 0;
        const double eta = rate > 0 ? static_cast<double>(total_ - done_) / rate : NAN;
        constexpr std::size_t width = 24;
        const std::size_t filled = done_ * width / total_;
        char text[160];
        std::snprintf(text, sizeof text, "\r[%s%s] %zu/%zu cases  %.2f cases/s  %s %s   ",
                      std::string(filled, '#').c_str(), std::string(width - filled, '.').c_str(), done_,
                      total_, rate, done_ == total_ ? "elapsed" : "ETA",
                      format_duration(done_ == total_ ? elapsed : eta).c_str());
        std::cerr << text << (done_ == total_ ? "\n" : "") << std::flush;
    }

private:
    std::mutex mutex_;
    std::size_t total_ = 0, done_ = 0;
    bool enabled_ = false;
    Clock::time_point start_ = Clock::now();
    Clock::time_point last_{};
};

} // namespace

namespace {

// Both files of a case, as the command reads them.
io::VolumePair read_case(const FolderCommand& folder, const CasePair& pair)
{
    const EvaluateCommand& command = folder.evaluate;
    return io::read_volume_pair(join_path(command.prediction_path, pair.prediction), command.prediction_read,
                                join_path(command.target_path, pair.target), command.target_read);
}

std::uint64_t pair_bytes(const io::VolumePair& pair)
{
    return static_cast<std::uint64_t>(pair.prediction.byte_size()) + pair.target.byte_size();
}

// One case. Its pair is `ahead` when it was read ahead, else it is read here;
// `on_read` (if any) is called once the pair is in memory, before it is
// evaluated (run_folder starts reading the next case there).
FolderCase evaluate_case(const FolderCommand& folder, const CasePair& pair, int threads,
                         const service::ComputeDevice& device, std::optional<io::VolumePair> ahead,
                         const std::function<void(const io::VolumePair&)>& on_read)
{
    const EvaluateCommand& command = folder.evaluate;
    FolderCase result;
    const std::string prediction_path = join_path(command.prediction_path, pair.prediction);
    const std::string target_path = join_path(command.target_path, pair.target);
    try {
        const io::VolumePair volumes = ahead ? std::move(*ahead) : read_case(folder, pair);
        ahead.reset();
        if (on_read) {
            on_read(volumes);
        }
        const auto& [prediction, target] = volumes;
        if (!command.ignore_geometry) {
            check_same_geometry(prediction, target);
        }
        StatisticsOptions options = command.statistics;
        options.threads = threads;
        Evaluation evaluation = service::evaluate_once(device, prediction, target, options);
        // A mapped input that shrank or changed while it was read (file_mapping.h).
        io::check_unchanged(prediction);
        io::check_unchanged(target);
        result = folder_case_from(evaluation, folder.per_slice);
    } catch (const Error& error) {
        result = FolderCase{};
        result.error = error.what();
    } catch (const std::bad_alloc&) {
        result = FolderCase{};
        result.error = prediction_path + ": out of memory";
    } catch (const std::exception& error) {
        result = FolderCase{};
        result.error = prediction_path + ": internal: " + error.what();
    }
    result.case_id = pair.case_id;
    result.prediction = prediction_path;
    result.target = target_path;
    return result;
}

// A case's pair read ahead of its turn, or std::nullopt when reading it
// failed for any reason: the case is then read again in its turn, with
// nothing else held, so that its error (or its success, where memory was
// short) is the one a run without read-ahead gives.
std::optional<io::VolumePair> read_ahead(const FolderCommand& folder, const CasePair& pair) noexcept
{
    try {
        return read_case(folder, pair);
    } catch (...) {
        return std::nullopt;
    }
}

} // namespace

FolderCase evaluate_folder_case(const FolderCommand& folder, const CasePair& pair, int threads,
                                const service::ComputeDevice& device)
{
    return evaluate_case(folder, pair, threads, device, std::nullopt, {});
}

std::string render_folder_report(const FolderReport& report, OutputFormat format)
{
    std::ostringstream out;
    if (format == OutputFormat::Csv) {
        write_folder_csv(out, report);
    } else {
        write_folder_json(out, report);
    }
    return out.str();
}

namespace {

void emit(const std::string& text, const std::string& output_path)
{
    if (output_path.empty()) {
        std::cout << text << std::flush;
    } else {
        write_file_atomically(output_path, text);
    }
}

// Lines on stderr: unpaired files, failed cases, one summary line. Shards
// other than the first leave the unpaired files to shard 1 (every shard sees
// the same folders), so that N logs do not repeat them N times.
void tell(const FolderReport& report, bool quiet, const char* verb)
{
    const bool list_unpaired = !report.shard || report.shard->index == 1;
    constexpr std::size_t shown = 20;
    auto list = [&](const std::vector<UnpairedFile>& files, const char* what) {
        for (std::size_t i = 0; i < files.size() && i < shown; ++i) {
            std::cerr << "unpaired " << what << ": " << files[i].file << " (" << files[i].reason << ")\n";
        }
        if (files.size() > shown) {
            std::cerr << "... and " << files.size() - shown << " more unpaired " << what
                      << "s (listed in the output)\n";
        }
    };
    if (list_unpaired) {
        list(report.unpaired_predictions, "prediction");
        list(report.unpaired_targets, "target");
    }
    std::size_t failed_shown = 0;
    for (const FolderCase& c : report.cases) {
        if (!c.ok && failed_shown++ < shown) {
            std::cerr << "failed: " << c.case_id << ": " << c.error << '\n';
        }
    }
    const std::int64_t failed = failed_cases(report);
    if (failed > static_cast<std::int64_t>(shown)) {
        std::cerr << "... and " << failed - static_cast<std::int64_t>(shown)
                  << " more failed cases (listed in the output)\n";
    }
    const std::size_t ignored = report.ignored_predictions.size() + report.ignored_targets.size();
    const bool unpaired = !report.unpaired_predictions.empty() || !report.unpaired_targets.empty();
    if (failed > 0 || !quiet || (unpaired && list_unpaired)) {
        std::cerr << verb << ' ' << report.cases.size() << " case" << (report.cases.size() == 1 ? "" : "s")
                  << ": " << static_cast<std::int64_t>(report.cases.size()) - failed << " ok, " << failed
                  << " failed; unpaired: " << report.unpaired_predictions.size() << " prediction"
                  << (report.unpaired_predictions.size() == 1 ? "" : "s") << ", "
                  << report.unpaired_targets.size() << " target"
                  << (report.unpaired_targets.size() == 1 ? "" : "s");
        if (unpaired && !list_unpaired) {
            std::cerr << " (listed by shard 1)";
        }
        if (ignored > 0) {
            std::cerr << "; " << ignored << " file" << (ignored == 1 ? "" : "s") << " of other types ignored";
        }
        std::cerr << '\n';
    }
    if (failed > 0) {
        std::cerr << "error: " << failed << " case" << (failed == 1 ? "" : "s")
                  << " failed (status \"error\" in the output)\n";
    }
}

} // namespace

FolderPlan plan_folder(const FolderCommand& folder)
{
    const EvaluateCommand& command = folder.evaluate;
    const std::vector<std::string> prediction_files = list_folder(command.prediction_path);
    const std::vector<std::string> target_files = list_folder(command.target_path);
    const FolderPairing pairing =
        pair_files(prediction_files, target_files, {folder.prediction_pattern, folder.target_pattern});

    FolderPlan plan;
    std::vector<CasePair>& selected = plan.selected;
    for (std::size_t i = 0; i < pairing.pairs.size(); ++i) {
        if (folder.shard_count == 0 || in_shard(i, folder.shard_index, folder.shard_count)) {
            selected.push_back(pairing.pairs[i]);
        }
    }

    FolderReport& report = plan.report;
    report.prediction_dir = command.prediction_path;
    report.target_dir = command.target_path;
    report.options_json = command.options_json; // already canonical (command_line.cpp)
    report.metrics = command.statistics.metrics;
    report.unpaired_predictions = pairing.unpaired_predictions;
    report.unpaired_targets = pairing.unpaired_targets;
    report.ignored_predictions = pairing.ignored_predictions;
    report.ignored_targets = pairing.ignored_targets;
    if (folder.shard_count > 0) {
        report.shard = ShardInfo{folder.shard_index, folder.shard_count,
                                 static_cast<std::int64_t>(pairing.pairs.size())};
    }

    plan.any_pairs = !pairing.pairs.empty();
    return plan;
}

int run_folder(const FolderCommand& folder)
{
    const EvaluateCommand& command = folder.evaluate;
    const service::ComputeDevice device = service::resolve_compute_device(command.device);
    if (!device.note.empty() && !folder.quiet) {
        std::cerr << device.note << '\n';
    }
    FolderPlan plan = plan_folder(folder);
    FolderReport& report = plan.report;
    const std::vector<CasePair>& selected = plan.selected;

    // Bounded memory: `jobs` workers, each holding one pair at a time; the
    // engine's threads are shared among them.
    const int jobs = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(folder.jobs),
                                                            std::max<std::size_t>(selected.size(), 1)));
    const int cores = command.statistics.threads > 0
                          ? command.statistics.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    const int threads_per_job = std::max(1, cores / jobs);
    report.cases.resize(selected.size());
    Progress progress(selected.size(), !folder.quiet && ::isatty(STDERR_FILENO) == 1);
    // A pipeline per worker: once a case's pair is in memory, the worker
    // claims its next cases and reads them on other threads while it
    // evaluates this one (inflating a .nii.gz, one core per file, is most of
    // a case: reading several at once keeps the cores busy). At most
    // `cores / jobs` cases ahead, and only as many as fit with the pair in
    // hand in the worker's share of the memory cap (a folder's cases are
    // usually alike in size); none when the pair takes over half of it.
    const std::size_t most_ahead = static_cast<std::size_t>(std::max(1, cores / jobs));
    std::atomic<std::size_t> next{0};
    auto work = [&] {
        // Claimed cases (in order) and their reads.
        std::deque<std::pair<std::size_t, std::future<std::optional<io::VolumePair>>>> ahead;
        auto read_more = [&](const io::VolumePair& pair) {
            const std::uint64_t share = memory_cap_bytes() / static_cast<std::uint64_t>(jobs);
            const std::uint64_t fit = share / std::max<std::uint64_t>(pair_bytes(pair), 1);
            const std::size_t depth =
                static_cast<std::size_t>(std::min<std::uint64_t>(most_ahead, fit - (fit > 0)));
            while (ahead.size() < depth) {
                const std::size_t j = next++;
                if (j >= selected.size()) {
                    return;
                }
                std::future<std::optional<io::VolumePair>> reading;
                try {
                    reading =
                        std::async(std::launch::async, read_ahead, std::cref(folder), std::cref(selected[j]));
                } catch (const std::exception&) {
                    // No thread: the case is read in its turn.
                }
                ahead.emplace_back(j, std::move(reading));
            }
        };
        while (true) {
            std::size_t i = 0;
            std::optional<io::VolumePair> pair; // case i's pair, when it was read ahead
            if (!ahead.empty()) {
                i = ahead.front().first;
                if (ahead.front().second.valid()) {
                    pair = ahead.front().second.get();
                }
                ahead.pop_front();
            } else if ((i = next++) >= selected.size()) {
                return;
            }
            report.cases[i] =
                evaluate_case(folder, selected[i], threads_per_job, device, std::move(pair), read_more);
            progress.case_done();
        }
    };
    std::vector<std::thread> workers;
    for (int j = 1; j < jobs; ++j) {
        workers.emplace_back(work);
    }
    work();
    for (std::thread& worker : workers) {
        worker.join();
    }

    emit(render_folder_report(report, command.format), command.output_path);
    if (!command.lesion_table_path.empty()) {
        // One table for the run, a "case" column first; failed cases add no rows.
        std::ostringstream table;
        write_lesion_csv_header(table, true);
        for (const FolderCase& c : report.cases) {
            write_lesion_rows_csv(table, c.lesions, c.case_id, true);
        }
        write_file_atomically(command.lesion_table_path, table.str());
    }
    tell(report, folder.quiet, "evaluated");
    if (!plan.any_pairs) {
        std::cerr << "error: no pairs: no prediction in " << command.prediction_path
                  << " has a target with the same case id in " << command.target_path << '\n';
        return 1;
    }
    const bool unpaired = !report.unpaired_predictions.empty() || !report.unpaired_targets.empty();
    if (folder.require_all && unpaired) {
        std::cerr << "error: unpaired files (--require-all)\n";
        return 1;
    }
    return failed_cases(report) > 0 ? 1 : 0;
}

namespace {

std::string read_text(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        throw_input_error(path, "cannot open");
    }
    std::ostringstream text;
    text << file.rdbuf();
    if (file.bad()) {
        throw_input_error(path, "cannot read");
    }
    return text.str();
}

bool same_files(const std::vector<UnpairedFile>& a, const std::vector<UnpairedFile>& b)
{
    return std::equal(a.begin(), a.end(), b.begin(), b.end(),
                      [](const UnpairedFile& x, const UnpairedFile& y) {
                          return x.file == y.file && x.case_id == y.case_id && x.reason == y.reason;
                      });
}

} // namespace

int run_merge(const MergeCommand& command)
{
    std::vector<FolderReport> shards;
    for (const std::string& path : command.inputs) {
        shards.push_back(read_shard_report(read_text(path), path));
    }
    FolderReport merged = shards.front();
    merged.cases.clear();
    merged.shard.reset();
    const ShardInfo& first = *shards.front().shard;
    std::set<int> seen;
    for (std::size_t i = 0; i < shards.size(); ++i) {
        const FolderReport& shard = shards[i];
        const std::string& path = command.inputs[i];
        auto refuse = [&](const std::string& what) {
            throw_input_error(path, what + " differ from " + command.inputs.front() +
                                        "'s; shards of one run "
                                        "must agree");
        };
        if (shard.options_json != merged.options_json) {
            refuse("the options");
        }
        if (shard.metrics != merged.metrics) {
            refuse("the metrics");
        }
        if (shard.prediction_dir != merged.prediction_dir || shard.target_dir != merged.target_dir) {
            refuse("the folders");
        }
        if (!same_files(shard.unpaired_predictions, merged.unpaired_predictions) ||
            !same_files(shard.unpaired_targets, merged.unpaired_targets) ||
            shard.ignored_predictions != merged.ignored_predictions ||
            shard.ignored_targets != merged.ignored_targets) {
            refuse("the folders' files (unpaired or ignored)");
        }
        if (shard.shard->count != first.count || shard.shard->cases_total != first.cases_total) {
            refuse("the shard count or the number of pairs");
        }
        if (!seen.insert(shard.shard->index).second) {
            throw_input_error(path, "shard " + std::to_string(shard.shard->index) + "/" +
                                        std::to_string(first.count) + " is given twice");
        }
        merged.cases.insert(merged.cases.end(), shard.cases.begin(), shard.cases.end());
    }
    if (static_cast<int>(seen.size()) != first.count) {
        std::string missing;
        for (int k = 1; k <= first.count; ++k) {
            if (!seen.count(k)) {
                missing += (missing.empty() ? "" : ", ") + std::to_string(k);
            }
        }
        throw_input_error("", "missing shards (of " + std::to_string(first.count) + "): " + missing);
    }
    std::sort(merged.cases.begin(), merged.cases.end(),
              [](const FolderCase& a, const FolderCase& b) { return a.case_id < b.case_id; });
    for (std::size_t i = 1; i < merged.cases.size(); ++i) {
        if (merged.cases[i].case_id == merged.cases[i - 1].case_id) {
            throw_input_error("", "case '" + merged.cases[i].case_id + "' appears in two shards");
        }
    }
    if (static_cast<std::int64_t>(merged.cases.size()) != first.cases_total) {
        throw_input_error("", "the shards hold " + std::to_string(merged.cases.size()) + " cases, not the " +
                                  std::to_string(first.cases_total) + " pairs of the run");
    }
    emit(render_folder_report(merged, command.format), command.output_path);
    tell(merged, command.quiet, "merged");
    if (merged.cases.empty()) {
        std::cerr << "error: no pairs: no prediction in " << merged.prediction_dir
                  << " has a target with the same case id in " << merged.target_dir << '\n';
        return 1;
    }
    return failed_cases(merged) > 0 ? 1 : 0;
}

} // namespace masklens::cli
