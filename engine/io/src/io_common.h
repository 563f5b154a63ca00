// Private helpers shared by the readers in masklens_io (not installed).
#pragma once

#include "masklens/engine/volume.h"
#include "masklens/io/read_volume.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
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
    // The next shape.elements() values of `type` as a view of the mapped
    // file (map_volume), or std::nullopt when the stream cannot give one (the
    // default: zip entries); the stream does not move either way.
    virtual std::optional<Volume> view_next(const std::string& source, ScalarType type, const Shape& shape)
    {
        (void)source;
        (void)type;
        (void)shape;
        return std::nullopt;
    }
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
    // Reads up to `size` bytes at `offset` with pread (large reads split over
    // two threads: filling fresh memory is bound by page faults and copies
    // on one core); returns how many it got, fewer only at the end of the
    // file. Leaves the FILE* position alone. Throws Error(Input) on a read
    // error, and when the file changed (size or modification time) since it
    // was opened: a file rewritten or truncated while it is read gives a
    // clear error, not a mixture of old and new bytes.
    std::size_t pread_some(std::uint64_t offset, void* buffer, std::size_t size) const;
    void seek(std::uint64_t offset) const;
    // The open file's modification time (ns since the epoch, fstat at open).
    std::int64_t opened_mtime_ns() const noexcept { return opened_mtime_ns_; }

private:
    std::string path_;
    std::FILE* file_ = nullptr;
    std::uint64_t size_ = 0;
    // The open file's size and modification time (fstat), for pread_some's check.
    std::int64_t opened_size_ = 0;
    std::int64_t opened_mtime_ns_ = 0;
};

// The elements of `shape` (values of `type`) at `offset` of `file`, as a
// read-only view of the mapped file named `source`, when mapping is on
// (file_mapping.h) and the bytes can be used as they are: at least 4 MiB,
// `offset` a multiple of the element size, inside the file, the file
// unchanged since it was opened. std::nullopt otherwise: the caller reads the
// bytes into a Volume of its own. The caller checks byte order and layout.
std::optional<Volume> map_volume(const File& file, std::uint64_t offset, const std::string& source,
                                 ScalarType type, const Shape& shape);

// A file range mapped read-only for one pass over it (map_bytes): `data`
// stays valid while `owner` lives. check() throws Error(Input) naming the
// file, like io::check_unchanged, when the file shrank under the mapping
// (SIGBUS: the rest of the range reads as zeros) or changed since it was mapped.
struct MappedBytes {
    std::shared_ptr<const void> owner;
    const unsigned char* data = nullptr;
    void check() const;
};
// The `length` bytes at `offset` of `file` mapped read-only when mapping is
// on (file_mapping.h) and they are at least 4 MiB; std::nullopt otherwise
// (the caller reads them into memory of its own).
std::optional<MappedBytes> map_bytes(const File& file, std::uint64_t offset, std::uint64_t length);

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

// NRRD (.nrrd, .nhdr) and MetaImage (.mha, .mhd) readers; see their sources
// for why they are not VTK's.
Volume read_nrrd(const std::string& path);
Volume read_metaimage(const std::string& path);
// PNG pixels with libpng (png_reader.cpp), for a file check_png accepted.
Volume read_png(const std::string& path);

// Fills `output` (exactly `size` bytes) from the gzip or zlib stream that
// starts at `offset` of `file`; throws Error(Input) if it is corrupt or short.
void inflate_into(const File& file, std::uint64_t offset, std::byte* output, std::size_t size);

// The voxels of an NRRD or MetaImage data section at `offset` of `file`:
// the file's own bytes (map_volume) where they are raw, in the machine's
// byte order and mapping is on; else read, or inflated (`compressed`: a gzip
// or zlib stream), into the Volume's own memory and byte-swapped if `swap`.
Volume read_voxel_section(const File& file, std::uint64_t offset, const std::string& source, ScalarType type,
                          const Shape& shape, bool compressed, bool swap);

// The path of a detached data file named `name` in the header at
// `header_path` (NRRD "data file", MetaImage ElementDataFile). Only a relative
// name inside the header's folder (or a subfolder) is accepted: an absolute
// path, a ".." component or an empty name throws Error(Input) naming the
// header, so a hostile header cannot make a reader open other files.
std::filesystem::path detached_data_path(const std::string& header_path, const std::string& name,
                                         const char* what);

// Deflate (zlib, gzip, zip) expands at most 1032:1. Throws Error(Input) for
// `path` when `compressed` bytes cannot hold the `declared` size, so a tiny
// file cannot make a reader allocate a huge buffer (a "gzip bomb" header).
void check_compressed_size(const std::string& path, std::uint64_t compressed, std::uint64_t declared,
                           const char* what);
constexpr std::uint64_t kMaxDeflateRatio = 1032;

// Supplies compressed bytes: fills up to `size` bytes, returns how many (0 at the end).
using InputFeed = std::function<std::size_t(unsigned char*, std::size_t)>;
// Receives each piece of inflated output with its offset in the stream.
using OutputSink = std::function<void(std::uint64_t, const unsigned char*, std::size_t)>;

// Inflates a zlib or gzip stream (chosen by zlib's `window_bits`) to its end,
// handing each piece of output to `sink` (or discarding it) and returns the
// inflated size. Throws Error(Input) for `path`, naming `what`, on corrupt or
// truncated data (including a gzip CRC or length mismatch) and once the output
// passes `limit` bytes.
std::uint64_t inflate_all(const std::string& path, const char* what, int window_bits,
                          const InputFeed& next_input,
                          std::uint64_t limit = std::numeric_limits<std::uint64_t>::max(),
                          const OutputSink& sink = {});

// The fast path for a whole compressed stream: reads (or, where mapping is
// on, maps: map_bytes) the bytes of `file` from `offset` to its end and
// inflates them with libdeflate (2-3x zlib's
// speed) into `output`, which has room for `capacity` bytes. The stream is a
// gzip member (Gzip), or a gzip member or a zlib stream (Auto, as zlib's
// window_bits 15 + 32). Returns the inflated size only when libdeflate decoded
// the stream completely with matching checksums (CRC-32 and ISIZE, or
// Adler-32), the stream ends exactly at the end of the file and it inflated
// to at least `minimum` bytes. A gzip member is tried only when its ISIZE
// field (the file's last 4 bytes: the inflated size mod 2^32) lies in
// [minimum, capacity] and capacity is under 4 GiB, so that field cannot be
// ambiguous. In every other case (a corrupt, truncated or larger stream,
// several gzip members, bytes after the stream, a gzip header CRC, which zlib
// checks and libdeflate skips, compressed data over 4 GiB or over the memory
// cap or the available memory) it returns std::nullopt and `output` holds
// nothing useful: the caller then inflates with zlib as before, which gives
// the bytes or the refusal it always gave. Deflate decodes one way only, so
// where both decoders finish with matching checksums the bytes are the same.
enum class WholeFormat { Gzip, Auto };
std::optional<std::uint64_t> inflate_whole(const File& file, std::uint64_t offset, WholeFormat format,
                                           unsigned char* output, std::size_t capacity,
                                           std::uint64_t minimum);

// Reads a single-file NIfTI-1 or NIfTI-2 image (.nii, or .nii.gz when
// `gzip`): MaskLens's own header parser (VTK 9.1's NIfTI reader crashes on
// some corrupt headers) and one pass over the voxel data; see nifti_reader.cpp.
Volume read_nifti(const std::string& path, bool gzip);

// Reads a TIFF (one grayscale integer/float sample per pixel, strips, no
// compression, LZW, Deflate or PackBits; a stack of equal pages is a volume)
// with MaskLens's own decoder; refuses anything else with Error(Input). See
// tiff_reader.cpp.
Volume read_tiff(const std::string& path);

// Reverses the bytes of each of `count` items of `item_size` bytes.
inline void swap_bytes(std::byte* data, std::size_t count, std::size_t item_size)
{
    if (item_size < 2) {
        return;
    }
    for (std::size_t i = 0; i < count; ++i) {
        std::byte* first = data + i * item_size;
        for (std::size_t a = 0, b = item_size - 1; a < b; ++a, --b) {
            const std::byte t = first[a];
            first[a] = first[b];
            first[b] = t;
        }
    }
}

} // namespace masklens::io::detail
