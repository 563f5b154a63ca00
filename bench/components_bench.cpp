// Times masklens::label_components on one raw byte mask (bench/lesion_speed.py
// writes it and times connected-components-3d on the same mask in the same
// run). Not a Google Benchmark program: it prints one JSON line.
//
//   masklens_bench_components MASK.raw D H W CONNECTIVITY REPEATS THREADS
//   -> {"best_s": ..., "median_s": ..., "components": N}
#include "masklens/engine/components.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <vector>

int main(int argc, char** argv)
{
    if (argc != 8) {
        std::cerr << "usage: masklens_bench_components MASK.raw D H W CONNECTIVITY REPEATS THREADS\n";
        return 2;
    }
    const masklens::ComponentGrid grid{std::atoll(argv[2]), std::atoll(argv[3]), std::atoll(argv[4]), 3};
    const int connectivity = std::atoi(argv[5]), repeats = std::max(1, std::atoi(argv[6]));
    const int threads = std::atoi(argv[7]);
    std::vector<std::uint8_t> mask(static_cast<std::size_t>(grid.voxels()));
    std::ifstream in(argv[1], std::ios::binary);
    if (!in.read(reinterpret_cast<char*>(mask.data()), static_cast<std::streamsize>(mask.size()))) {
        std::cerr << argv[1] << ": cannot read " << mask.size() << " bytes\n";
        return 1;
    }
    std::vector<double> seconds;
    std::int64_t count = 0;
    for (int r = 0; r < repeats; ++r) {
        const auto start = std::chrono::steady_clock::now();
        const masklens::Components c = masklens::label_components(mask.data(), grid, connectivity, threads);
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        count = c.count;
    }
    std::sort(seconds.begin(), seconds.end());
    std::printf("{\"best_s\": %.6f, \"median_s\": %.6f, \"components\": %lld}\n", seconds.front(),
                seconds[seconds.size() / 2], static_cast<long long>(count));
    return 0;
}
