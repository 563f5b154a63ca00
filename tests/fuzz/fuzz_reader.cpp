// libFuzzer target for one MaskLens reader. The readers take paths, so each
// input is written to "input<EXT>" in a private temporary folder and read
// with read_volume(). masklens::Error is the expected way to refuse a file;
// anything else (a crash, a sanitizer report, another exception, a timeout or
// a huge allocation) is a finding.
//
// MASKLENS_FUZZ_EXTENSION (a compile definition) chooses the reader. The
// folder also holds two fixed data files, "data.raw" and "data.raw.gz", for
// the detached-header targets (.nhdr, .mhd) to point at, and an "outside"
// file one level up that a header escaping its folder would reach.
#include "masklens/engine/error.h"
#include "masklens/engine/volume.h"
#include "masklens/io/read_volume.h"

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

#ifndef MASKLENS_FUZZ_EXTENSION
#error "define MASKLENS_FUZZ_EXTENSION, e.g. \".npy\""
#endif

namespace {

std::filesystem::path g_root;   // private temp folder (removed at exit)
std::filesystem::path g_folder; // g_root/work: where the input lives
std::string g_input;            // g_folder/input<EXT>

void write_file(const std::string& path, const std::uint8_t* data, std::size_t size)
{
    std::FILE* file = std::fopen(path.c_str(), "wb");
    if (!file) {
        std::perror("fuzz: cannot write the input file");
        std::abort();
    }
    if (size > 0 && std::fwrite(data, 1, size, file) != size) {
        std::perror("fuzz: cannot write the input file");
        std::abort();
    }
    std::fclose(file);
}

void remove_root()
{
    std::error_code ignored;
    std::filesystem::remove_all(g_root, ignored);
}

void make_companions()
{
    std::vector<std::uint8_t> raw(4096);
    for (std::size_t i = 0; i < raw.size(); ++i) {
        raw[i] = static_cast<std::uint8_t>(i * 7 + 3);
    }
    write_file((g_folder / "data.raw").string(), raw.data(), raw.size());
    gzFile gz = gzopen((g_folder / "data.raw.gz").string().c_str(), "wb");
    if (!gz || gzwrite(gz, raw.data(), static_cast<unsigned>(raw.size())) != static_cast<int>(raw.size()) ||
        gzclose(gz) != Z_OK) {
        std::fprintf(stderr, "fuzz: cannot write data.raw.gz\n");
        std::abort();
    }
    // A file outside the header's folder: reading it would be an escape.
    write_file((g_root / "outside.raw").string(), raw.data(), raw.size());
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/masklens-fuzz-XXXXXX";
    if (!mkdtemp(pattern.data())) {
        std::perror("fuzz: mkdtemp");
        std::abort();
    }
    g_root = pattern;
    g_folder = g_root / "work";
    std::filesystem::create_directory(g_folder);
    std::atexit(remove_root);
    g_input = (g_folder / (std::string("input") + MASKLENS_FUZZ_EXTENSION)).string();
    make_companions();
    // Under libFuzzer's -rss_limit_mb=2048 (also its malloc limit) a header may
    // make the readers allocate at most 1 GiB; larger ones must be refused.
    masklens::set_memory_cap_bytes(std::uint64_t{1} << 30);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    write_file(g_input, data, size);
    try {
        const masklens::Volume volume = masklens::io::read_volume(g_input);
        // Touch the result so a wrong byte_size() shows up under ASan.
        volatile std::uint8_t sink = 0;
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(volume.data());
        for (std::size_t i = 0; i < volume.byte_size(); i += 4096) {
            sink = static_cast<std::uint8_t>(sink ^ bytes[i]);
        }
        if (volume.byte_size() > 0) {
            sink = static_cast<std::uint8_t>(sink ^ bytes[volume.byte_size() - 1]);
        }
    } catch (const masklens::Error&) {
        // The expected way to refuse a file.
    }
    return 0;
}
