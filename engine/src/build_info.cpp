#include "masklens/engine/build_info.h"

#include "masklens/engine/report.h"

// MASKLENS_VERSION and MASKLENS_WITH_CUDA are defined for this file alone
// (engine/CMakeLists.txt), so a new version recompiles one file.
#ifndef MASKLENS_VERSION
#error "MASKLENS_VERSION must be defined for build_info.cpp"
#endif
#ifndef MASKLENS_WITH_CUDA
#error "MASKLENS_WITH_CUDA must be defined for build_info.cpp"
#endif

namespace masklens {

namespace {

// What the compiler was allowed to use for this translation unit: the whole
// engine is compiled with the same -march (cmake/MasklensCompilerSettings.cmake).
constexpr std::string_view compiled_simd()
{
#if defined(__AVX512F__)
    return "avx512";
#elif defined(__AVX2__)
    return "avx2";
#elif defined(__AVX__)
    return "avx";
#elif defined(__SSE4_2__)
    return "sse4.2";
#elif defined(__SSE2__) || defined(__x86_64__)
    return "sse2";
#elif defined(__ARM_NEON)
    return "neon";
#else
    return "none";
#endif
}

} // namespace

const BuildInfo& build_info() noexcept
{
    static const BuildInfo info{MASKLENS_VERSION, MASKLENS_WITH_CUDA != 0, compiled_simd()};
    return info;
}

std::string build_info_json()
{
    const BuildInfo& info = build_info();
    return "{\"version\": " + json_quote(std::string(info.version)) +
           ", \"cuda\": " + (info.cuda ? "true" : "false") +
           ", \"simd\": " + json_quote(std::string(info.simd)) + "}";
}

std::string build_info_text()
{
    const BuildInfo& info = build_info();
    return std::string(info.version) + " (CUDA path built: " + (info.cuda ? "yes" : "no") +
           ", SIMD: " + std::string(info.simd) + ")";
}

std::string build_info_csv()
{
    const BuildInfo& info = build_info();
    return std::string(info.version) + ",cuda=" + (info.cuda ? "on" : "off") +
           " simd=" + std::string(info.simd);
}

} // namespace masklens
