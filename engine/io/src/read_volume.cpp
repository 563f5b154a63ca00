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
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <zlib.h>

namespace masklens::io {

namespace detail {

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
    seek(offset);
    if (size > 0 && std::fread(buffer, 1, size, file_) != size) {
        throw_input_error(path_, std::string("read error in ") + what);
    }
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
