// Which code produced a result: the version and the build options that can
// change a number or its speed. Written into every JSON and CSV result, the
// terminal table, PNG screenshots and the About dialog, so that a figure can
// be traced back to the code that computed it.
#pragma once

#include <string>
#include <string_view>

namespace masklens {

struct BuildInfo {
    // "0.1.0+g1a2b3c4" or "0.1.0+g1a2b3c4-dirty" from a git checkout, "0.1.0"
    // otherwise (cmake/MasklensVersion.cmake, read when CMake configures).
    std::string_view version;
    // The CUDA path was compiled in. Whether a result was computed on a GPU is
    // the result's own "device" field: a CUDA build falls back to the CPU.
    bool cuda = false;
    // The widest vector instruction set the engine was compiled for: "avx512",
    // "avx2", "avx", "sse4.2", "sse2" on x86-64, "neon" on ARM, else "none".
    std::string_view simd;
};

const BuildInfo& build_info() noexcept;

// {"version": "0.1.0+g1a2b3c4", "cuda": false, "simd": "avx2"}
std::string build_info_json();

// "0.1.0+g1a2b3c4 (CUDA path built: no, SIMD: avx2)"
std::string build_info_text();

// The two trailing CSV columns every CSV result carries on every row (tidy
// data: rows keep their provenance when files are concatenated):
// header "masklens_version,masklens_build", values "0.1.0+g1a2b3c4,cuda=off simd=avx2".
// Neither contains a comma or a quote, so no CSV quoting is needed.
inline constexpr std::string_view kBuildCsvHeader = "masklens_version,masklens_build";
std::string build_info_csv();

} // namespace masklens
