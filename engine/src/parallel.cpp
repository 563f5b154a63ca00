// The engine's parallel loops (masklens/engine/parallel.h): thread counts,
// contiguous ranges per thread, and items handed out as threads become free.
#include "masklens/engine/parallel.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace masklens::detail {

int worker_count(int requested, std::int64_t work_items, std::int64_t total_cost)
{
    int threads = requested;
    if (threads <= 0) {
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    // Below ~32k voxels per thread, starting threads costs more than it saves.
    const std::int64_t by_cost = std::max<std::int64_t>(1, total_cost / 32768);
    const std::int64_t limit =
        std::min<std::int64_t>({static_cast<std::int64_t>(threads), by_cost, work_items});
    return static_cast<int>(std::max<std::int64_t>(1, limit));
}

void parallel_for(std::int64_t count, int threads,
                  const std::function<void(std::int64_t, std::int64_t, int)>& fn)
{
    if (count <= 0) {
        return;
    }
    threads = static_cast<int>(std::clamp<std::int64_t>(threads, 1, count));
    if (threads == 1) {
        fn(0, count, 0);
        return;
    }
    std::exception_ptr failure;
    std::mutex failure_mutex;
    std::vector<std::thread> pool;
    pool.reserve(static_cast<std::size_t>(threads));
    for (int t = 0; t < threads; ++t) {
        const std::int64_t begin = count * t / threads;
        const std::int64_t end = count * (t + 1) / threads;
        pool.emplace_back([&, begin, end, t] {
            try {
                fn(begin, end, t);
            } catch (...) {
                const std::lock_guard lock(failure_mutex);
                if (!failure) {
                    failure = std::current_exception();
                }
            }
        });
    }
    for (auto& worker : pool) {
        worker.join();
    }
    if (failure) {
        std::rethrow_exception(failure);
    }
}

void parallel_dynamic(std::int64_t count, int workers, const std::function<void(std::int64_t)>& fn)
{
    if (count <= 0) {
        return;
    }
    std::atomic<std::int64_t> next{0};
    const int n = static_cast<int>(std::clamp<std::int64_t>(workers, 1, count));
    parallel_for(n, n, [&](std::int64_t, std::int64_t, int) {
        for (std::int64_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
            fn(i);
        }
    });
}

} // namespace masklens::detail
