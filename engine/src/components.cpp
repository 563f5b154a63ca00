// Connected components over runs (components.h).
//
// 1. Runs: every row (d, h) is cut into maximal runs of foreground along W,
//    rows spread over the threads.
// 2. Union-find over runs: a run is joined with the runs of the already
//    visited neighbour rows that touch it. Which rows are neighbours and
//    whether runs touch diagonally (their W ranges widened by one) follows
//    from the connectivity:
//      row (d, h-1):             4/6/18/26 always; widened for 8, 18, 26
//      row (d-1, h):             6/18/26; widened for 18, 26
//      rows (d-1, h-1), (d-1, h+1): 18 (not widened), 26 (widened)
//    Roots are always the smallest run index of their set, so a component's
//    root is its first run in raster order.
// 3. Labels in order of the roots, written run by run over the threads.
#include "masklens/engine/components.h"

#include "masklens/engine/error.h"
#include "masklens/engine/parallel.h"
#include "masklens/engine/volume.h"

#include <algorithm>
#include <cstring>
#include <limits>

namespace masklens {

namespace {

struct Run {
    std::int32_t begin, end; // [begin, end) along W
};

// Union-find with the smaller index as root.
class RunSets {
public:
    explicit RunSets(std::size_t count) : parent_(count)
    {
        for (std::size_t i = 0; i < count; ++i) {
            parent_[i] = static_cast<std::uint32_t>(i);
        }
    }
    std::uint32_t find(std::uint32_t i)
    {
        std::uint32_t root = i;
        while (parent_[root] != root) {
            root = parent_[root];
        }
        while (parent_[i] != root) { // path compression
            const std::uint32_t next = parent_[i];
            parent_[i] = root;
            i = next;
        }
        return root;
    }
    void join(std::uint32_t a, std::uint32_t b)
    {
        a = find(a);
        b = find(b);
        if (a < b) {
            parent_[b] = a;
        } else if (b < a) {
            parent_[a] = b;
        }
    }

private:
    std::vector<std::uint32_t> parent_;
};

// The runs of all rows: row r's runs are runs[row_begin[r] .. row_begin[r + 1]).
struct RowRuns {
    std::vector<Run> runs;
    std::vector<std::int64_t> row_begin;
};

// The first position at or after x holding a nonzero (zero) byte, or w;
// eight bytes at a time where it can.
std::uint64_t load8(const std::uint8_t* p)
{
    std::uint64_t v;
    std::memcpy(&v, p, sizeof v);
    return v;
}
std::int64_t skip_zeros(const std::uint8_t* row, std::int64_t x, std::int64_t w)
{
    while (x + 8 <= w && load8(row + x) == 0) {
        x += 8;
    }
    while (x < w && row[x] == 0) {
        ++x;
    }
    return x;
}
std::int64_t skip_nonzeros(const std::uint8_t* row, std::int64_t x, std::int64_t w)
{
    constexpr std::uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    // (v - ones) & ~v & highs is nonzero exactly when some byte of v is zero.
    while (x + 8 <= w) {
        const std::uint64_t v = load8(row + x);
        if (((v - ones) & ~v & highs) != 0) {
            break;
        }
        x += 8;
    }
    while (x < w && row[x] != 0) {
        ++x;
    }
    return x;
}

RowRuns find_runs(const std::uint8_t* mask, const ComponentGrid& grid, int threads)
{
    const std::int64_t rows = grid.d * grid.h;
    const int workers = detail::worker_count(threads, rows, grid.voxels());
    std::vector<std::vector<Run>> local(static_cast<std::size_t>(workers));
    std::vector<std::int64_t> count_in_row(static_cast<std::size_t>(rows), 0);
    detail::parallel_for(rows, workers, [&](std::int64_t begin, std::int64_t end, int t) {
        std::vector<Run>& out = local[static_cast<std::size_t>(t)];
        for (std::int64_t r = begin; r < end; ++r) {
            const std::uint8_t* row = mask + r * grid.w;
            const std::size_t before = out.size();
            std::int64_t x = 0;
            while (x < grid.w) {
                x = skip_zeros(row, x, grid.w);
                if (x == grid.w) {
                    break;
                }
                const std::int64_t start = x;
                x = skip_nonzeros(row, x, grid.w);
                out.push_back({static_cast<std::int32_t>(start), static_cast<std::int32_t>(x)});
            }
            count_in_row[static_cast<std::size_t>(r)] = static_cast<std::int64_t>(out.size() - before);
        }
    });
    RowRuns result;
    result.row_begin.resize(static_cast<std::size_t>(rows) + 1, 0);
    for (std::int64_t r = 0; r < rows; ++r) {
        result.row_begin[static_cast<std::size_t>(r) + 1] =
            result.row_begin[static_cast<std::size_t>(r)] + count_in_row[static_cast<std::size_t>(r)];
    }
    result.runs.reserve(static_cast<std::size_t>(result.row_begin.back()));
    for (const std::vector<Run>& part : local) { // threads hold consecutive row ranges
        result.runs.insert(result.runs.end(), part.begin(), part.end());
    }
    return result;
}

// Joins the runs of row `a` with those of row `b` that touch them; `widen`
// 1 lets runs that only meet diagonally along W touch.
void join_rows(const RowRuns& rows, std::int64_t a, std::int64_t b, int widen, RunSets& sets)
{
    auto i = rows.row_begin[static_cast<std::size_t>(a)];
    const auto i_end = rows.row_begin[static_cast<std::size_t>(a) + 1];
    auto j = rows.row_begin[static_cast<std::size_t>(b)];
    const auto j_end = rows.row_begin[static_cast<std::size_t>(b) + 1];
    while (i < i_end && j < j_end) {
        const Run& ra = rows.runs[static_cast<std::size_t>(i)];
        const Run& rb = rows.runs[static_cast<std::size_t>(j)];
        if (rb.begin < ra.end + widen && ra.begin < rb.end + widen) {
            sets.join(static_cast<std::uint32_t>(i), static_cast<std::uint32_t>(j));
        }
        if (ra.end < rb.end) {
            ++i;
        } else {
            ++j;
        }
    }
}

} // namespace

int resolve_connectivity(int connectivity, int spatial_dims)
{
    if (connectivity == 0) {
        return spatial_dims == 2 ? 8 : 26;
    }
    const bool valid = spatial_dims == 2 ? (connectivity == 4 || connectivity == 8)
                                         : (connectivity == 6 || connectivity == 18 || connectivity == 26);
    if (!valid) {
        throw_usage_error("connectivity " + std::to_string(connectivity) + " does not apply to " +
                          (spatial_dims == 2 ? "2D data (use 4 or 8)" : "3D data (use 6, 18 or 26)"));
    }
    return connectivity;
}

Components label_components(const std::uint8_t* mask, const ComponentGrid& grid, int connectivity,
                            int threads, const std::string& what)
{
    if (grid.spatial_dims == 2 && grid.d != 1) {
        throw_usage_error("a 2D component grid has one plane (d = 1)");
    }
    const int conn = resolve_connectivity(connectivity, grid.spatial_dims);
    if (grid.w > std::numeric_limits<std::int32_t>::max() - 1) {
        throw_input_error(what, "rows longer than 2^31 voxels are not supported for components");
    }
    check_allocation(what, static_cast<std::uint64_t>(grid.voxels()), ScalarType::UInt32);
    Components result;
    result.labels.resize(
        static_cast<std::size_t>(grid.voxels())); // uninitialised: every voxel is written below
    if (grid.voxels() == 0) {
        return result;
    }
    const RowRuns rows = find_runs(mask, grid, threads);
    if (rows.runs.size() >= std::numeric_limits<std::uint32_t>::max()) {
        throw_input_error(what, "too many foreground runs for component labelling (at most 2^32 - 1)");
    }

    RunSets sets(rows.runs.size());
    const int in_plane_widen = conn == 4 || conn == 6 ? 0 : 1;
    const int across_widen = conn == 26 ? 1 : 0;
    const bool across_planes = grid.spatial_dims == 3;
    for (std::int64_t z = 0; z < grid.d; ++z) {
        for (std::int64_t y = 0; y < grid.h; ++y) {
            const std::int64_t r = z * grid.h + y;
            if (rows.row_begin[static_cast<std::size_t>(r)] ==
                rows.row_begin[static_cast<std::size_t>(r) + 1]) {
                continue;
            }
            if (y > 0) {
                join_rows(rows, r, r - 1, in_plane_widen, sets);
            }
            if (!across_planes || z == 0) {
                continue;
            }
            const std::int64_t below = r - grid.h; // (z - 1, y)
            join_rows(rows, r, below, in_plane_widen, sets);
            if (conn == 6) {
                continue;
            }
            if (y > 0) {
                join_rows(rows, r, below - 1, across_widen, sets);
            }
            if (y + 1 < grid.h) {
                join_rows(rows, r, below + 1, across_widen, sets);
            }
        }
    }

    // Labels in raster order of the roots (a root precedes its set's runs).
    std::vector<std::uint32_t> run_label(rows.runs.size());
    std::int64_t count = 0;
    for (std::size_t i = 0; i < rows.runs.size(); ++i) {
        const std::uint32_t root = sets.find(static_cast<std::uint32_t>(i));
        if (root == i) {
            if (count >= kMaxComponents) {
                throw_input_error(what, "more than " + std::to_string(kMaxComponents) + " components");
            }
            run_label[i] = static_cast<std::uint32_t>(++count);
        } else {
            run_label[i] = run_label[root];
        }
    }
    result.count = count;

    const std::int64_t row_count = grid.d * grid.h;
    const int workers = detail::worker_count(threads, row_count, grid.voxels());
    detail::parallel_for(row_count, workers, [&](std::int64_t begin, std::int64_t end, int) {
        for (std::int64_t r = begin; r < end; ++r) {
            std::uint32_t* out = result.labels.data() + r * grid.w;
            std::int32_t x = 0; // background between the runs, then each run
            for (auto i = rows.row_begin[static_cast<std::size_t>(r)];
                 i < rows.row_begin[static_cast<std::size_t>(r) + 1]; ++i) {
                const Run& run = rows.runs[static_cast<std::size_t>(i)];
                std::fill(out + x, out + run.begin, 0U);
                std::fill(out + run.begin, out + run.end, run_label[static_cast<std::size_t>(i)]);
                x = run.end;
            }
            std::fill(out + x, out + grid.w, 0U);
        }
    });
    return result;
}

} // namespace masklens
