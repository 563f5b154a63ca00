// read_volume(): checks the path and dispatches to a reader by extension.
#include "masklens/io/read_volume.h"

#include "io_common.h"
#include "masklens/engine/error.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <future>
#include <limits>
#include <memory>
#include <new>
#include <optional>
#include <thread>
#include <vector>

#include <libdeflate.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

namespace masklens::io {

namespace detail {

namespace {
// Reads of at least this size use pread_some's two threads.
constexpr std::size_t kParallelReadFrom = std::size_t{64} << 20;
} // namespace

File::File(const std::string& path) : path_(path)
{
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0) {
        const int error = errno;
        throw_input_error(path, error == ENOENT ? std::string("no such file")
                                                : std::string("cannot open: ") + std::strerror(error));
    }
    if (S_ISDIR(info.st_mode)) {
        throw_input_error(path, "is a directory, not a file");
    }
    if (!S_ISREG(info.st_mode)) {
        throw_input_error(path, "is not a regular file");
    }
    file_ = std::fopen(path.c_str(), "rb");
    if (!file_) {
        const int error = errno;
        throw_input_error(path, std::string("cannot open for reading: ") + std::strerror(error));
    }
    size_ = static_cast<std::uint64_t>(info.st_size);
    struct stat opened {};
    if (::fstat(::fileno(file_), &opened) == 0) {
        opened_size_ = static_cast<std::int64_t>(opened.st_size);
        opened_mtime_ns_ =
            static_cast<std::int64_t>(opened.st_mtim.tv_sec) * 1000000000 + opened.st_mtim.tv_nsec;
    }
}

File::~File()
{
    if (file_) {
        std::fclose(file_);
    }
}

void File::seek(std::uint64_t offset) const
{
    if (offset > size_ || ::fseeko(file_, static_cast<off_t>(offset), SEEK_SET) != 0) {
        throw_input_error(path_, "cannot seek to byte " + std::to_string(offset) + " (file has " +
                                     std::to_string(size_) + " bytes)");
    }
}

void File::read_at(std::uint64_t offset, void* buffer, std::size_t size, const char* what) const
{
    if (offset > size_ || size > size_ - offset) {
        throw_input_error(path_, std::string("file is truncated: ") + what + " needs bytes " +
                                     std::to_string(offset) + ".." + std::to_string(offset + size) +
                                     " but the file has " + std::to_string(size_) + " bytes");
    }
    if (size >= kParallelReadFrom) {
        if (pread_some(offset, buffer, size) != size) {
            throw_input_error(path_, std::string("read error in ") + what);
        }
        seek(offset + size);
        return;
    }
    seek(offset);
    if (size > 0 && std::fread(buffer, 1, size, file_) != size) {
        throw_input_error(path_, std::string("read error in ") + what);
    }
}

std::size_t File::pread_some(std::uint64_t offset, void* buffer, std::size_t size) const
{
    const int descriptor = ::fileno(file_);
    // Reads [begin, end) of the request; returns the bytes read before the end of the file.
    auto part = [&](std::size_t begin, std::size_t end, int& error) -> std::size_t {
        std::size_t done = begin;
        while (done < end) {
            const ssize_t got = ::pread(descriptor, static_cast<std::byte*>(buffer) + done,
                                        std::min<std::size_t>(end - done, std::size_t{1} << 30),
                                        static_cast<off_t>(offset + done));
            if (got < 0) {
                if (errno == EINTR) {
                    continue;
                }
                error = errno;
                break;
            }
            if (got == 0) {
                break;
            }
            done += static_cast<std::size_t>(got);
        }
        return done - begin;
    };
    int first_error = 0;
    int second_error = 0;
    std::size_t got = 0;
    if (size >= kParallelReadFrom && std::thread::hardware_concurrency() >= 2) {
        // Two halves at once, split on a 2 MiB boundary (a huge page of the Volume).
        const std::size_t half = (size / 2) & ~((std::size_t{2} << 20) - 1);
        std::size_t second = 0;
        std::thread helper([&] { second = part(half, size, second_error); });
        const std::size_t first = part(0, half, first_error);
        helper.join();
        // Bytes count only up to the first gap (the file ended inside the first half).
        got = first < half ? first : half + second;
    } else {
        got = part(0, size, first_error);
    }
    if (first_error != 0 || second_error != 0) {
        throw_input_error(path_, std::string("read error: ") +
                                     std::strerror(first_error ? first_error : second_error));
    }
    struct stat now {};
    if (::fstat(descriptor, &now) == 0) {
        const std::int64_t mtime_ns =
            static_cast<std::int64_t>(now.st_mtim.tv_sec) * 1000000000 + now.st_mtim.tv_nsec;
        if (now.st_size != opened_size_ || mtime_ns != opened_mtime_ns_) {
            throw_input_error(path_,
                              "the file changed while it was read (" + std::to_string(opened_size_) +
                                  " bytes when opened, " + std::to_string(now.st_size) +
                                  (mtime_ns != opened_mtime_ns_ ? " bytes and a new modification time now)"
                                                                : " bytes now)"));
        }
    }
    return got;
}

std::string lower_extension(const std::string& path)
{
    std::string name = std::filesystem::path(path).filename().string();
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    for (const char* twice : {".nii.gz"}) {
        const std::string suffix = twice;
        if (name.size() > suffix.size() &&
            name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
            return suffix;
        }
    }
    const auto dot = name.rfind('.');
    if (dot == std::string::npos || dot == 0) {
        return {};
    }
    return name.substr(dot);
}

std::filesystem::path detached_data_path(const std::string& header_path, const std::string& name,
                                         const char* what)
{
    const std::filesystem::path relative(name);
    if (name.empty()) {
        throw_input_error(header_path, std::string(what) + " is empty");
    }
    const std::filesystem::path folder = std::filesystem::path(header_path).parent_path();
    if (outside_data_allowed()) {
        return relative.has_root_path() ? relative : folder / relative;
    }
    constexpr const char* kOptIn = "; only files in the header's folder are read (--allow-outside-data or "
                                   "MASKLENS_ALLOW_OUTSIDE_DATA=1 allows others)";
    if (relative.has_root_path()) {
        throw_input_error(header_path, std::string(what) + " '" + name + "' is an absolute path" + kOptIn);
    }
    for (const auto& part : relative) {
        if (part == "..") {
            throw_input_error(header_path, std::string(what) + " '" + name +
                                               "' leaves the header's folder ('..')" + kOptIn);
        }
    }
    return folder / relative;
}

std::uint64_t inflate_all(const std::string& path, const char* what, int window_bits,
                          const InputFeed& next_input, std::uint64_t limit, const OutputSink& sink)
{
    z_stream stream{};
    if (inflateInit2(&stream, window_bits) != Z_OK) {
        throw_input_error(path, "cannot initialise zlib");
    }
    struct Cleanup {
        z_stream* stream;
        ~Cleanup() { inflateEnd(stream); }
    } cleanup{&stream};
    std::vector<unsigned char> input(1 << 20);
    std::vector<unsigned char> output(1 << 20);
    std::uint64_t total = 0;
    while (true) {
        if (stream.avail_in == 0) {
            const std::size_t got = next_input(input.data(), input.size());
            if (got == 0) {
                throw_input_error(path,
                                  std::string(what) + " is truncated (the compressed stream ends early)");
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        stream.next_out = output.data();
        stream.avail_out = static_cast<uInt>(output.size());
        const int status = inflate(&stream, Z_NO_FLUSH);
        const std::size_t produced = output.size() - stream.avail_out;
        if (sink && produced > 0) {
            sink(total, output.data(), produced);
        }
        total += produced;
        if (status == Z_STREAM_END) {
            return total;
        }
        if (total > limit) {
            throw_input_error(path, std::string(what) + " inflates to more than " + std::to_string(limit) +
                                        " bytes, the memory available; refusing it");
        }
        if (status != Z_OK && status != Z_BUF_ERROR) {
            throw_input_error(path, std::string(what) + " is corrupt (zlib: " +
                                        (stream.msg ? stream.msg : "inflate failed") + ")");
        }
    }
}

std::optional<std::uint64_t> inflate_whole(const File& file, std::uint64_t offset, WholeFormat format,
                                           unsigned char* output, std::size_t capacity, std::uint64_t minimum)
{
    constexpr std::uint64_t k4GiB = std::uint64_t{1} << 32;
    // Outputs this large are faulted in on another thread while inflating,
    // where the data compresses at most this much: the inflate of highly
    // compressed data (a mask) writes as fast as pages fault in, and two
    // threads faulting the same pages only contend (512^3 uint8 masks,
    // ~140:1: 108 ms to read and count Dice without, 140 ms with).
    constexpr std::size_t kPrefaultFrom = std::size_t{16} << 20;
    constexpr std::uint64_t kPrefaultUpToRatio = 8;
    if (offset >= file.size() || minimum > capacity) {
        return std::nullopt;
    }
    const std::uint64_t compressed = file.size() - offset;
    // 18 bytes: the smallest gzip member (10 header, 2 empty block, 8 trailer).
    if (compressed < 18 || compressed >= k4GiB || compressed > memory_cap_bytes()) {
        return std::nullopt;
    }
    unsigned char head[4] = {};
    file.read_at(offset, head, sizeof head, "the compressed data");
    const bool gzip = head[0] == 0x1f && head[1] == 0x8b;
    if (gzip) {
        if ((head[3] & 0x02) != 0 || capacity >= k4GiB) { // FHCRC; ISIZE ambiguous
            return std::nullopt;
        }
        unsigned char tail[4] = {};
        file.read_at(file.size() - 4, tail, sizeof tail, "the gzip trailer");
        const std::uint64_t isize = std::uint64_t{tail[0]} | std::uint64_t{tail[1]} << 8 |
                                    std::uint64_t{tail[2]} << 16 | std::uint64_t{tail[3]} << 24;
        if (isize < minimum || isize > capacity) {
            return std::nullopt;
        }
    } else {
        // A zlib header: deflate (CM 8), window at most 32 KiB, check bits, no preset dictionary.
        const bool zlib = (head[0] & 0x0f) == 8 && (head[0] >> 4) <= 7 &&
                          ((head[0] << 8) | head[1]) % 31 == 0 && (head[1] & 0x20) == 0;
        if (format != WholeFormat::Auto || !zlib) {
            return std::nullopt;
        }
    }
    if (compressed > available_memory_bytes()) {
        return std::nullopt;
    }
    // The compressed bytes: the file's pages mapped where mapping is on (no
    // fresh buffer to fault in and fill), else read into memory of our own.
    const std::optional<MappedBytes> mapped = map_bytes(file, offset, compressed);
    std::unique_ptr<unsigned char[]> buffer;
    if (!mapped) {
        try {
            buffer = std::make_unique_for_overwrite<unsigned char[]>(static_cast<std::size_t>(compressed));
        } catch (const std::bad_alloc&) {
            return std::nullopt;
        }
        file.read_at(offset, buffer.get(), static_cast<std::size_t>(compressed), "the compressed data");
    }
    const unsigned char* input = mapped ? mapped->data : buffer.get();
    struct Free {
        void operator()(libdeflate_decompressor* decompressor) const noexcept
        {
            libdeflate_free_decompressor(decompressor);
        }
    };
    const std::unique_ptr<libdeflate_decompressor, Free> decompressor(libdeflate_alloc_decompressor());
    if (!decompressor) {
        return std::nullopt;
    }
    // Fault in the output's pages on another core while this one inflates
    // (the kernel zeroes each fresh page on first touch: a fifth of the
    // reading time of a large .nii.gz); a no-op on kernels without
    // MADV_POPULATE_WRITE (before Linux 5.14) or for memory already in use.
    const std::size_t expected =
        gzip ? static_cast<std::size_t>(capacity) : static_cast<std::size_t>(minimum);
    std::thread prefault;
    if (expected >= kPrefaultFrom && compressed * kPrefaultUpToRatio >= expected) {
        prefault = std::thread([output, expected] {
            const auto page =
                static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE) > 0 ? ::sysconf(_SC_PAGESIZE) : 4096);
            const auto begin = reinterpret_cast<std::uintptr_t>(output) / page * page;
            const auto end = reinterpret_cast<std::uintptr_t>(output) + expected;
            ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_WRITE);
        });
    }
    std::size_t used = 0;
    std::size_t produced = 0;
    const libdeflate_result result =
        gzip ? libdeflate_gzip_decompress_ex(decompressor.get(), input, static_cast<std::size_t>(compressed),
                                             output, capacity, &used, &produced)
             : libdeflate_zlib_decompress_ex(decompressor.get(), input, static_cast<std::size_t>(compressed),
                                             output, capacity, &used, &produced);
    if (prefault.joinable()) {
        prefault.join();
    }
    if (mapped) {
        // A file that shrank under the mapping gave zeros: its error, not a fallback.
        mapped->check();
    }
    if (result != LIBDEFLATE_SUCCESS || used != compressed || produced < minimum) {
        return std::nullopt;
    }
    return produced;
}

void check_compressed_size(const std::string& path, std::uint64_t compressed, std::uint64_t declared,
                           const char* what)
{
    if (declared / kMaxDeflateRatio > compressed) {
        throw_input_error(path, std::string(what) + ": " + std::to_string(compressed) +
                                    " compressed bytes cannot hold the " + std::to_string(declared) +
                                    " bytes the header describes (deflate expands at most " +
                                    std::to_string(kMaxDeflateRatio) + ":1); the file is corrupt");
    }
}

Shape shape_from_dims(const std::string& source, const std::int64_t* dims, int ndim, Layout layout,
                      const std::string& context)
{
    std::string text = "(";
    for (int i = 0; i < ndim; ++i) {
        text += (i ? ", " : "") + std::to_string(dims[i]);
    }
    text += ndim == 1 ? ",)" : ")";
    for (int i = 0; i < ndim; ++i) {
        if (dims[i] <= 0) {
            throw_input_error(source, context + "array of shape " + text +
                                          " has an empty or negative extent; nothing to evaluate");
        }
    }
    Shape shape;
    switch (ndim) {
    case 2:
        shape.h = dims[0];
        shape.w = dims[1];
        shape.spatial_dims = 2;
        break;
    case 3:
        if (layout == Layout::NHW) {
            shape.n = dims[0];
            shape.h = dims[1];
            shape.w = dims[2];
            shape.spatial_dims = 2;
        } else {
            shape.d = dims[0];
            shape.h = dims[1];
            shape.w = dims[2];
            shape.spatial_dims = 3;
        }
        break;
    case 4:
        shape.n = dims[0];
        shape.c = dims[1];
        shape.h = dims[2];
        shape.w = dims[3];
        shape.spatial_dims = 2;
        break;
    case 5:
        shape.n = dims[0];
        shape.c = dims[1];
        shape.d = dims[2];
        shape.h = dims[3];
        shape.w = dims[4];
        shape.spatial_dims = 3;
        break;
    default:
        throw_input_error(source, context + "array of shape " + text + " has " + std::to_string(ndim) +
                                      " dimensions; expected 2 [H,W], 3 [D,H,W] (or [N,H,W] with layout "
                                      "NHW), 4 [N,C,H,W] or 5 [N,C,D,H,W]");
    }
    return shape;
}

} // namespace detail

Shape array_shape(const std::string& source, const std::vector<std::int64_t>& dims, Layout layout)
{
    return detail::shape_from_dims(source, dims.data(), static_cast<int>(dims.size()), layout, "");
}

namespace {
std::atomic<bool> outside_data_allowed_flag{false};
} // namespace

void set_outside_data_allowed(bool allowed)
{
    outside_data_allowed_flag.store(allowed);
}

bool outside_data_allowed()
{
    if (outside_data_allowed_flag.load()) {
        return true;
    }
    const char* environment = std::getenv("MASKLENS_ALLOW_OUTSIDE_DATA");
    return environment && std::string(environment) == "1";
}

Volume read_volume(const std::string& path, const ReadOptions& options)
{
    {
        // Opening first gives the same "no such file" / "is a directory" /
        // permission messages for every format.
        const detail::File probe(path);
        if (probe.size() == 0) {
            throw_input_error(path, "file is empty");
        }
    }
    const std::string extension = detail::lower_extension(path);
    if (extension == ".npy") {
        return read_npy(path, options);
    }
    if (extension == ".npz") {
        return read_npz(path, options);
    }
    if (extension == ".nii" || extension == ".nii.gz" || extension == ".nrrd" || extension == ".nhdr" ||
        extension == ".mha" || extension == ".mhd" || extension == ".png" || extension == ".tif" ||
        extension == ".tiff") {
        return read_image(path);
    }
    throw_input_error(path,
                      "unsupported file type" +
                          (extension.empty() ? std::string(" (no extension)") : " '" + extension + "'") +
                          "; supported: .npy, .npz, .nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, .png, "
                          ".tif, .tiff");
}

VolumePair read_volume_pair(const std::string& prediction_path, const ReadOptions& prediction_options,
                            const std::string& target_path, const ReadOptions& target_options)
{
    if (std::thread::hardware_concurrency() < 2) {
        Volume prediction = read_volume(prediction_path, prediction_options);
        return {std::move(prediction), read_volume(target_path, target_options)};
    }
    std::future<Volume> target =
        std::async(std::launch::async, [&] { return read_volume(target_path, target_options); });
    Volume prediction;
    try {
        prediction = read_volume(prediction_path, prediction_options);
    } catch (...) {
        // The target's read ends (and its result or error is dropped) before
        // the prediction's error leaves: the caller sees one error, the
        // prediction's, as with reads one after the other.
        target.wait();
        throw;
    }
    return {std::move(prediction), target.get()};
}

} // namespace masklens::io
