#include "masklens/engine/volume.h"

#include "masklens/engine/error.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <sys/mman.h>
#include <unistd.h>

namespace masklens {

std::size_t scalar_size(ScalarType type) noexcept
{
    switch (type) {
    case ScalarType::Bool:
    case ScalarType::Int8:
    case ScalarType::UInt8: return 1;
    case ScalarType::Int16:
    case ScalarType::UInt16:
    case ScalarType::Float16: return 2;
    case ScalarType::Int32:
    case ScalarType::UInt32:
    case ScalarType::Float32: return 4;
    case ScalarType::Int64:
    case ScalarType::UInt64:
    case ScalarType::Float64: return 8;
    }
    return 1;
}

const char* scalar_name(ScalarType type) noexcept
{
    switch (type) {
    case ScalarType::Bool: return "bool";
    case ScalarType::Int8: return "int8";
    case ScalarType::UInt8: return "uint8";
    case ScalarType::Int16: return "int16";
    case ScalarType::UInt16: return "uint16";
    case ScalarType::Int32: return "int32";
    case ScalarType::UInt32: return "uint32";
    case ScalarType::Int64: return "int64";
    case ScalarType::UInt64: return "uint64";
    case ScalarType::Float16: return "float16";
    case ScalarType::Float32: return "float32";
    case ScalarType::Float64: return "float64";
    }
    return "?";
}

bool is_floating(ScalarType type) noexcept
{
    return type == ScalarType::Float16 || type == ScalarType::Float32 || type == ScalarType::Float64;
}

std::vector<std::int64_t> Shape::torch_shape() const
{
    if (spatial_dims == 2) {
        return {n, c, h, w};
    }
    return {n, c, d, h, w};
}

std::string Shape::to_string() const
{
    std::ostringstream text;
    text << '[';
    const auto extents = torch_shape();
    for (std::size_t i = 0; i < extents.size(); ++i) {
        text << (i ? ", " : "") << extents[i];
    }
    text << ']';
    return text.str();
}

namespace {
// Large mappings released by Volumes, kept for the next Volume of about the
// same size: a folder run (or the app opening file after file) then fills
// pages that are already faulted in, instead of faulting in and zeroing
// fresh ones for every case. A few entries, at most 1/8 of physical memory;
// counted as available memory (they are handed out before anything new).
class MappingCache {
public:
    // A cached mapping of `length` to `length` + 1/4 bytes (its length in
    // `mapped`), or nullptr; a miss releases every entry, so that the fresh
    // mapping does not come on top of them.
    std::byte* take(std::size_t length, std::size_t& mapped)
    {
        std::lock_guard lock(mutex_);
        for (std::size_t i = 0; i < count_; ++i) {
            if (entries_[i].length >= length && entries_[i].length - length <= length / 4) {
                const Entry entry = entries_[i];
                entries_[i] = entries_[--count_];
                bytes_ -= entry.length;
                mapped = entry.length;
                return entry.start;
            }
        }
        for (std::size_t i = 0; i < count_; ++i) {
            ::munmap(entries_[i].start, entries_[i].length);
        }
        count_ = 0;
        bytes_ = 0;
        return nullptr;
    }
    void give(std::byte* start, std::size_t length, std::uint64_t limit) noexcept
    {
        std::lock_guard lock(mutex_);
        if (count_ < kEntries && bytes_ + length <= limit) {
            entries_[count_++] = Entry{start, length};
            bytes_ += length;
            return;
        }
        ::munmap(start, length);
    }
    std::uint64_t bytes() noexcept
    {
        std::lock_guard lock(mutex_);
        return bytes_;
    }

private:
    struct Entry {
        std::byte* start;
        std::size_t length;
    };
    static constexpr std::size_t kEntries = 4;
    std::mutex mutex_;
    Entry entries_[kEntries] = {};
    std::size_t count_ = 0;
    std::uint64_t bytes_ = 0;
};

// Never destroyed: Volumes released during static destruction still use it.
MappingCache& mapping_cache()
{
    static MappingCache* cache = new MappingCache;
    return *cache;
}
} // namespace

std::uint64_t available_memory_bytes()
{
    const std::uint64_t cached = mapping_cache().bytes();
    std::ifstream meminfo("/proc/meminfo");
    std::string key;
    std::uint64_t value = 0;
    std::string unit;
    while (meminfo >> key >> value) {
        std::getline(meminfo, unit);
        if (key == "MemAvailable:") {
            return value * 1024 + cached;
        }
    }
    // No /proc (not Linux): do not refuse on this ground.
    return std::numeric_limits<std::uint64_t>::max();
}

namespace {
std::atomic<std::uint64_t> explicit_memory_cap{0};

std::uint64_t physical_memory_bytes()
{
    const long pages = ::sysconf(_SC_PHYS_PAGES);
    const long page_size = ::sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page_size <= 0) {
        return std::numeric_limits<std::uint64_t>::max();
    }
    return static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page_size);
}
} // namespace

std::uint64_t parse_byte_size(const std::string& text, const std::string& what)
{
    std::size_t end = 0;
    std::uint64_t value = 0;
    try {
        if (text.empty() || text[0] == '-') {
            throw std::invalid_argument(text);
        }
        value = std::stoull(text, &end);
    } catch (const std::exception&) {
        throw_usage_error(what + " needs a size such as 8G, 512M or 1000000, not '" + text + "'");
    }
    const std::string unit = text.substr(end);
    int shift = 0;
    if (unit == "K" || unit == "k" || unit == "KiB") {
        shift = 10;
    } else if (unit == "M" || unit == "MiB") {
        shift = 20;
    } else if (unit == "G" || unit == "GiB") {
        shift = 30;
    } else if (unit == "T" || unit == "TiB") {
        shift = 40;
    } else if (!unit.empty() && unit != "B") {
        throw_usage_error(what + " has an unknown unit '" + unit + "' (use K, M, G or T)");
    }
    if (value == 0 || value > (std::numeric_limits<std::uint64_t>::max() >> shift)) {
        throw_usage_error(what + " must be a positive size, not '" + text + "'");
    }
    return value << shift;
}

std::uint64_t memory_cap_bytes()
{
    if (const std::uint64_t cap = explicit_memory_cap.load()) {
        return cap;
    }
    if (const char* environment = std::getenv("MASKLENS_MEMORY_LIMIT"); environment && *environment) {
        return parse_byte_size(environment, "MASKLENS_MEMORY_LIMIT");
    }
    return physical_memory_bytes() / 4 * 3;
}

void set_memory_cap_bytes(std::uint64_t bytes)
{
    explicit_memory_cap.store(bytes);
}

std::array<double, 3> physical_position(const Geometry& g, const std::array<double, 3>& dhw) noexcept
{
    const std::array<double, 3> scaled{dhw[2] * g.spacing[0], dhw[1] * g.spacing[1], dhw[0] * g.spacing[2]};
    std::array<double, 3> position{};
    for (std::size_t row = 0; row < 3; ++row) {
        position[row] = g.origin[row];
        for (std::size_t col = 0; col < 3; ++col) {
            position[row] += g.direction[row * 3 + col] * scaled[col];
        }
    }
    return position;
}

void check_allocation(const std::string& file, std::uint64_t elements, ScalarType type)
{
    const std::uint64_t size = scalar_size(type);
    if (elements > std::numeric_limits<std::uint64_t>::max() / size) {
        throw_input_error(file, "array size overflows (" + std::to_string(elements) + " elements of " +
                                    scalar_name(type) + ")");
    }
    const std::uint64_t bytes = elements * size;
    const std::uint64_t cap = memory_cap_bytes();
    if (bytes > cap) {
        throw_input_error(file, "array needs " + std::to_string(bytes) +
                                    " bytes, more than the memory limit of " + std::to_string(cap) +
                                    " bytes (--memory-limit / MASKLENS_MEMORY_LIMIT)");
    }
    // Small arrays always fit; reading /proc/meminfo for each of them would
    // cost more than the allocation.
    constexpr std::uint64_t kAlwaysAffordable = std::uint64_t{64} << 20;
    if (bytes <= kAlwaysAffordable) {
        return;
    }
    const std::uint64_t available = available_memory_bytes();
    if (bytes > available) {
        throw_input_error(file, "array needs " + std::to_string(bytes) + " bytes but only " +
                                    std::to_string(available) + " bytes of memory are available");
    }
}

namespace {
// Uninitialised memory of `size` bytes (nullptr when there is none); `mapped`
// is the length of its own mapping, or 0 for new[].
std::byte* allocate(std::size_t size, std::size_t& mapped)
{
    mapped = 0;
    // Large arrays: their own mapping, 2 MiB aligned. Transparent huge pages
    // (MASKLENS_HUGE_PAGES=1) turn a 512^3 float32 array's 131072 page faults
    // into 256, but they are off by default: on the shared development VM
    // (KVM, virtio-balloon free page reporting of 2 MiB blocks) each fresh
    // huge page is zeroed after the host backs it again, and reading a 512^3
    // .npy pair took 0.19-2.5 s with them against a steady 0.61-0.78 s
    // without (docs/benchmarks.md, 2026-12-06).
    constexpr std::size_t kHugePage = std::size_t{2} << 20;
    constexpr std::size_t kMapFrom = std::size_t{16} << 20;
    if (size >= kMapFrom && size <= std::numeric_limits<std::size_t>::max() - 2 * kHugePage) {
        const std::size_t length = (size + kHugePage - 1) / kHugePage * kHugePage;
        if (std::byte* reused = mapping_cache().take(length, mapped)) {
            return reused;
        }
        void* mapping =
            ::mmap(nullptr, length + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mapping == MAP_FAILED) {
            return nullptr;
        }
        // Keep the 2 MiB-aligned `length` bytes, unmap the rest.
        const auto start = reinterpret_cast<std::uintptr_t>(mapping);
        const std::size_t head = (kHugePage - start % kHugePage) % kHugePage;
        auto* aligned = static_cast<std::byte*>(mapping) + head;
        if (head > 0) {
            ::munmap(mapping, head);
        }
        if (kHugePage - head > 0) {
            ::munmap(aligned + length, kHugePage - head);
        }
#ifdef MADV_HUGEPAGE
        static const bool huge_pages = [] {
            const char* setting = std::getenv("MASKLENS_HUGE_PAGES");
            return setting && std::string(setting) == "1";
        }();
        if (huge_pages) {
            ::madvise(aligned, length, MADV_HUGEPAGE);
        }
#endif
        mapped = length;
        return aligned;
    }
    return new (std::nothrow) std::byte[size];
}

} // namespace

Volume::Volume(std::string source, ScalarType type, const Shape& shape)
    : Volume(std::move(source), type, shape, 0, 0)
{}

Volume::Volume(std::string source, ScalarType type, const Shape& shape, std::size_t leading,
               std::size_t trailing)
    : source_(std::move(source)), type_(type), shape_(shape), leading_(leading)
{
    if (shape.n < 1 || shape.c < 1 || shape.d < 1 || shape.h < 1 || shape.w < 1) {
        throw_input_error(source_, "array has an empty or negative extent " + shape.to_string());
    }
    // Multiply with overflow checks before asking for memory.
    std::uint64_t elements = 1;
    for (const std::int64_t extent : {shape.n, shape.c, shape.d, shape.h, shape.w}) {
        if (elements > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(extent)) {
            throw_input_error(source_, "array shape " + shape.to_string() + " overflows");
        }
        elements *= static_cast<std::uint64_t>(extent);
    }
    check_allocation(source_, elements, type);
    bytes_ = static_cast<std::size_t>(elements * scalar_size(type));
    constexpr std::size_t kAlign = 64;
    const std::size_t before = (leading + kAlign - 1) / kAlign * kAlign;
    const std::size_t limit = std::numeric_limits<std::size_t>::max() - kAlign;
    if (before > limit - bytes_ || trailing > limit - bytes_ - before) {
        throw_input_error(source_, "array shape " + shape.to_string() + " overflows");
    }
    const std::size_t total = kAlign + before + bytes_ + trailing;
    std::size_t mapped = 0;
    std::byte* allocation = allocate(total, mapped);
    if (!allocation) {
        throw_input_error(source_, "cannot allocate " + std::to_string(bytes_) + " bytes");
    }
    allocation_ = std::unique_ptr<std::byte, Release>(allocation, Release{mapped});
    const auto start = reinterpret_cast<std::uintptr_t>(allocation_.get());
    const std::size_t skip = (kAlign - start % kAlign) % kAlign;
    data_ = allocation_.get() + skip + before;
}

Volume Volume::view(std::string source, ScalarType type, const Shape& shape, const std::byte* data,
                    std::shared_ptr<const void> keep_alive)
{
    Volume volume;
    volume.source_ = std::move(source);
    if (shape.n < 1 || shape.c < 1 || shape.d < 1 || shape.h < 1 || shape.w < 1) {
        throw_input_error(volume.source_, "array has an empty or negative extent " + shape.to_string());
    }
    std::uint64_t elements = 1;
    for (const std::int64_t extent : {shape.n, shape.c, shape.d, shape.h, shape.w}) {
        if (elements > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(extent)) {
            throw_input_error(volume.source_, "array shape " + shape.to_string() + " overflows");
        }
        elements *= static_cast<std::uint64_t>(extent);
    }
    if (elements > std::numeric_limits<std::size_t>::max() / scalar_size(type)) {
        throw_input_error(volume.source_, "array shape " + shape.to_string() + " overflows");
    }
    if (data == nullptr) {
        throw_input_error(volume.source_, "no data");
    }
    volume.type_ = type;
    volume.shape_ = shape;
    volume.bytes_ = static_cast<std::size_t>(elements * scalar_size(type));
    // The engine only reads a volume's elements; data() is non-const for
    // readers filling their own allocations, never written through here.
    volume.data_ = const_cast<std::byte*>(data);
    volume.keep_view_ = std::move(keep_alive);
    return volume;
}

Volume::Volume(Volume&& other) noexcept
    : source_(std::move(other.source_)), type_(other.type_), shape_(other.shape_), geometry_(other.geometry_),
      bytes_(std::exchange(other.bytes_, 0)), allocation_(std::move(other.allocation_)),
      data_(std::exchange(other.data_, nullptr)), leading_(std::exchange(other.leading_, 0)),
      keep_view_(std::move(other.keep_view_))
{}

Volume& Volume::operator=(Volume&& other) noexcept
{
    if (this != &other) {
        source_ = std::move(other.source_);
        type_ = other.type_;
        shape_ = other.shape_;
        geometry_ = other.geometry_;
        bytes_ = std::exchange(other.bytes_, 0);
        allocation_ = std::move(other.allocation_);
        data_ = std::exchange(other.data_, nullptr);
        leading_ = std::exchange(other.leading_, 0);
        keep_view_ = std::move(other.keep_view_);
    }
    return *this;
}

void Volume::Release::operator()(std::byte* allocation) const noexcept
{
    if (mapped > 0) {
        mapping_cache().give(allocation, mapped, physical_memory_bytes() / 8);
    } else {
        delete[] allocation;
    }
}

namespace {
bool nearly_equal(double a, double b, double tolerance)
{
    return std::abs(a - b) <= tolerance * std::max({1.0, std::abs(a), std::abs(b)});
}

template <std::size_t K> std::string list(const std::array<double, K>& values)
{
    std::ostringstream text;
    text.precision(9);
    text << '(';
    for (std::size_t i = 0; i < K; ++i) {
        text << (i ? ", " : "") << values[i];
    }
    text << ')';
    return text.str();
}

template <std::size_t K>
void compare(const char* what, const std::array<double, K>& a, const std::array<double, K>& b,
             double tolerance, const Volume& prediction, const Volume& target, const GeometryWords& words)
{
    for (std::size_t i = 0; i < K; ++i) {
        if (!nearly_equal(a[i], b[i], tolerance)) {
            throw_input_error(target.source(), std::string(what) + " " + list(b) + " differs from the " +
                                                   words.reference + "'s " + list(a) + " (" +
                                                   prediction.source() + ")" + words.hint);
        }
    }
}
} // namespace

void check_same_geometry(const Volume& prediction, const Volume& target, double tolerance,
                         const GeometryWords& words)
{
    const Geometry& a = prediction.geometry();
    const Geometry b = in_frame(target.geometry(), a.frame); // a NIfTI mask and an NRRD image agree
    if (!a.known || !b.known) {
        return;
    }
    compare("spacing", a.spacing, b.spacing, tolerance, prediction, target, words);
    compare("origin", a.origin, b.origin, tolerance, prediction, target, words);
    compare("direction", a.direction, b.direction, tolerance, prediction, target, words);
}

const char* frame_name(WorldFrame frame) noexcept
{
    return frame == WorldFrame::RAS ? "RAS" : "LPS";
}

Geometry in_frame(const Geometry& geometry, WorldFrame frame)
{
    Geometry result = geometry;
    if (frame != geometry.frame) {
        result.frame = frame;
        for (std::size_t row = 0; row < 2; ++row) { // x and y flip between LPS and RAS
            result.origin[row] = -result.origin[row];
            for (std::size_t column = 0; column < 3; ++column) {
                result.direction[row * 3 + column] = -result.direction[row * 3 + column];
            }
        }
    }
    return result;
}

// IEEE 754 binary16 to binary32, exact (subnormals, infinities and NaN kept).
float half_to_float(std::uint16_t bits)
{
    const std::uint32_t sign = static_cast<std::uint32_t>(bits & 0x8000u) << 16;
    const std::uint32_t exponent = (bits >> 10) & 0x1fu;
    std::uint32_t mantissa = bits & 0x3ffu;
    std::uint32_t result = 0;
    if (exponent == 0) {
        if (mantissa == 0) {
            result = sign;
        } else { // subnormal: normalise
            int shift = 0;
            while ((mantissa & 0x400u) == 0) {
                mantissa <<= 1;
                ++shift;
            }
            mantissa &= 0x3ffu;
            result = sign | static_cast<std::uint32_t>(127 - 15 - shift + 1) << 23 | mantissa << 13;
        }
    } else if (exponent == 0x1f) {
        result = sign | 0x7f800000u | mantissa << 13; // inf or NaN
    } else {
        result = sign | (exponent + 127 - 15) << 23 | mantissa << 13;
    }
    float value = 0;
    std::memcpy(&value, &result, sizeof value);
    return value;
}

void Volume::reshape(const Shape& shape)
{
    if (shape.elements() != shape_.elements()) {
        throw_input_error(source_, "cannot view " + shape_.to_string() + " as " + shape.to_string());
    }
    shape_ = shape;
}

} // namespace masklens
