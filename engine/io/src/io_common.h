// Private helpers shared by the readers in masklens_io (not installed).
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/io/read_volume.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

namespace masklens::io::detail {

// A sequential stream of bytes: a file region, or the inflated contents of a
// zip entry. read() fills up to `size` bytes and returns how many it gave;
// fewer than asked means the stream ended. Problems throw Error(Input).
class ByteSource {
public:
    virtual ~ByteSource() = default;
    virtual std::size_t read(void* buffer, std::size_t size) = 0;
    // Bytes left in the stream, as far as the container says (used to refuse
    // truncated data before allocating).
    virtual std::uint64_t remaining() const = 0;
};

// A read-only FILE* that closes itself.
class File {
public:
    File() = default;
    // Opens `path` for reading; throws Error(Input) with the system's reason.
    explicit File(const std::string& path);
    ~File();
    File(const File&) = delete;
    File& operator=(const File&) = delete;

    std::FILE* get() const noexcept { return file_; }
    std::uint64_t size() const noexcept { return size_; }
    const std::string& path() const noexcept { return path_; }
    // Reads exactly `size` bytes at `offset`, or throws "truncated" naming `what`.
    void read_at(std::uint64_t offset, void* buffer, std::size_t size, const char* what) const;
    void seek(std::uint64_t offset) const;

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
};

// Parses an .npy stream (header and data) into a Volume named `source`.
// `context` prefixes messages for npz entries (e.g. "array 'pred': ").
Volume read_npy_stream(ByteSource& stream, const std::string& source, const ReadOptions& options,
                       const std::string& context);

// Maps an N-dimensional array shape (outermost first) to the [N,C,D,H,W]
// layout; throws Error(Input) for unsupported ranks or empty extents.
Shape shape_from_dims(const std::string& source, const std::int64_t* dims, int ndim, Layout layout,
                      const std::string& context);

// Lower-cased extension including the dot; ".nii.gz" for double extensions.
std::string lower_extension(const std::string& path);

} // namespace masklens::io::detail
