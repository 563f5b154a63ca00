// The engine's parallel loops: how many threads a pass gets, and the two ways
// of spreading work over them. Public because the CUDA path's host code
// (gpu/src/surface_plan.cpp) runs its loops with them too.
#pragma once

#include <cstdint>
#include <functional>

namespace masklens::detail {

// Number of worker threads for `work` items of roughly `cost` voxels each.
int worker_count(int requested, std::int64_t work_items, std::int64_t total_cost);

// Runs fn(begin, end, thread_index) over [0, count) split into contiguous
// ranges, one per thread, on `threads` std::threads (inline when 1).
// Exceptions thrown by fn are rethrown in the caller.
void parallel_for(std::int64_t count, int threads,
                  const std::function<void(std::int64_t, std::int64_t, int)>& fn);

// Runs fn(i) for i in [0, count) on `workers` threads, handing out items in
// order as threads become free (balances uneven items such as slices).
void parallel_dynamic(std::int64_t count, int workers, const std::function<void(std::int64_t)>& fn);

} // namespace masklens::detail
