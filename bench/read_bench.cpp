// masklens_bench_read: times the readers alone, without the pass, against
// what they cannot beat. Used by bench/read_speed.sh.
//
//   masklens_bench_read MODE RUNS FILE...
//
// MODE:
//   pair        io::read_volume_pair of two files (prediction, target), as
//               masklens-cli reads them (both files at once on 2+ cores;
//               uncompressed files mapped where the tree has file_mapping.h)
//   pair-copy   the same with mapping off, as the desktop app reads
//   zlib        each .gz file inflated by zlib (1 MiB reads, output dropped),
//               one after the other: what the reader did before libdeflate
//   isal        each .gz file inflated by ISA-L's streaming inflate in 1 MiB
//               pieces of output, into touched memory as libdeflate below
//               (built where libisal-dev is installed): what a reader that
//               hands slices to the pass while it inflates could reach
//   libdeflate  each .gz file inflated by libdeflate, one after the other,
//               from memory into memory: the files are read and the output
//               buffers allocated and touched before timing, so this is the
//               inflate alone, the bound of a reader on one core per file
// Prints one line per run, "MODE SECONDS", then "MODE median SECONDS".
// Only the public masklens_io API is used, so the same file builds against an
// older tree for A/B runs.
#include "masklens/io/read_volume.h"
#ifdef MASKLENS_BENCH_ISAL
#include <isa-l/igzip_lib.h>
#endif
#if __has_include("masklens/io/file_mapping.h")
#include "masklens/io/file_mapping.h"
#define MASKLENS_BENCH_MAPPING 1
#endif

#include <libdeflate.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

std::vector<unsigned char> slurp(const std::string& path)
{
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) {
        std::perror(path.c_str());
        std::exit(1);
    }
    std::fseek(file, 0, SEEK_END);
    std::vector<unsigned char> bytes(static_cast<std::size_t>(std::ftell(file)));
    std::fseek(file, 0, SEEK_SET);
    if (std::fread(bytes.data(), 1, bytes.size(), file) != bytes.size()) {
        std::perror(path.c_str());
        std::exit(1);
    }
    std::fclose(file);
    return bytes;
}

std::size_t gzip_isize(const std::vector<unsigned char>& bytes)
{
    const std::size_t n = bytes.size();
    return n < 4 ? 0
                 : std::size_t{bytes[n - 4]} | std::size_t{bytes[n - 3]} << 8 |
                       std::size_t{bytes[n - 2]} << 16 | std::size_t{bytes[n - 1]} << 24;
}

std::size_t zlib_inflate(const std::string& path)
{
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) {
        std::perror(path.c_str());
        std::exit(1);
    }
    z_stream stream{};
    inflateInit2(&stream, 15 + 16);
    std::vector<unsigned char> input(1 << 20), output(1 << 20);
    std::size_t total = 0;
    int status = Z_OK;
    while (status != Z_STREAM_END) {
        if (stream.avail_in == 0) {
            const std::size_t got = std::fread(input.data(), 1, input.size(), file);
            if (got == 0) {
                break;
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        stream.next_out = output.data();
        stream.avail_out = static_cast<uInt>(output.size());
        status = inflate(&stream, Z_NO_FLUSH);
        total += output.size() - stream.avail_out;
        if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) {
            std::cerr << path << ": zlib error " << status << "\n";
            std::exit(1);
        }
    }
    inflateEnd(&stream);
    std::fclose(file);
    return total;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 4) {
        std::cerr << "usage: masklens_bench_read pair|pair-copy|zlib|isal|libdeflate RUNS FILE...\n";
        return 2;
    }
    const std::string mode = argv[1];
#ifdef MASKLENS_BENCH_MAPPING
    masklens::io::set_file_mapping(
        mode == "pair-copy" ? masklens::io::FileMapping::Off
                            : masklens::io::FileMapping::All); // as masklens-cli, or with no mapping
#endif
    const int runs = std::max(1, std::atoi(argv[2]));
    const std::vector<std::string> files(argv + 3, argv + argc);
    const bool pair_mode = mode == "pair" || mode == "pair-copy";
    if (pair_mode && files.size() != 2) {
        std::cerr << "pair needs two files\n";
        return 2;
    }
    // libdeflate's output buffers, allocated and touched once (not timed).
    std::vector<std::vector<unsigned char>> inputs;
    std::vector<std::vector<unsigned char>> outputs;
    if (mode == "libdeflate" || mode == "isal") {
        for (const auto& file : files) {
            inputs.push_back(slurp(file));
            outputs.emplace_back(gzip_isize(inputs.back()), 1);
        }
    }
    std::vector<double> seconds;
    for (int run = 0; run < runs; ++run) {
        const auto start = std::chrono::steady_clock::now();
        std::size_t bytes = 0;
        if (pair_mode) {
            const auto pair = masklens::io::read_volume_pair(files[0], {}, files[1], {});
            bytes = pair.prediction.byte_size() + pair.target.byte_size();
        } else if (mode == "zlib") {
            for (const auto& file : files) {
                bytes += zlib_inflate(file);
            }
        } else if (mode == "libdeflate") {
            libdeflate_decompressor* decompressor = libdeflate_alloc_decompressor();
            for (std::size_t i = 0; i < files.size(); ++i) {
                const std::vector<unsigned char>& input = inputs[i];
                std::size_t produced = 0;
                if (libdeflate_gzip_decompress(decompressor, input.data(), input.size(), outputs[i].data(),
                                               outputs[i].size(), &produced) != LIBDEFLATE_SUCCESS) {
                    std::cerr << files[i] << ": libdeflate failed\n";
                    return 1;
                }
                bytes += produced;
            }
            libdeflate_free_decompressor(decompressor);
#ifdef MASKLENS_BENCH_ISAL
        } else if (mode == "isal") {
            for (std::size_t i = 0; i < files.size(); ++i) {
                const std::vector<unsigned char>& input = inputs[i];
                inflate_state state;
                isal_inflate_init(&state);
                state.crc_flag = ISAL_GZIP;
                state.next_in = const_cast<unsigned char*>(input.data());
                state.avail_in = static_cast<std::uint32_t>(input.size());
                std::size_t position = 0;
                while (position < outputs[i].size() && state.block_state != ISAL_BLOCK_FINISH) {
                    const std::size_t piece =
                        std::min<std::size_t>(std::size_t{1} << 20, outputs[i].size() - position);
                    state.next_out = outputs[i].data() + position;
                    state.avail_out = static_cast<std::uint32_t>(piece);
                    if (isal_inflate(&state) != ISAL_DECOMP_OK) {
                        std::cerr << files[i] << ": isal_inflate failed\n";
                        return 1;
                    }
                    position += piece - state.avail_out;
                }
                bytes += position;
            }
#endif
        } else {
            std::cerr << "unknown mode " << mode << "\n";
            return 2;
        }
        seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        std::cout << mode << " " << seconds.back() << " (" << bytes << " bytes)\n";
    }
    std::sort(seconds.begin(), seconds.end());
    std::cout << mode << " median " << seconds[seconds.size() / 2] << "\n";
    return 0;
}
