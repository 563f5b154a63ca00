// read_tiff(): MaskLens's own reader for the TIFF subset a mask or a
// prediction needs. VTK 9.1's vtkTIFFReader (libtiff) was used first; fuzzing
// found it leaking libtiff handles and libtiff dividing by zero in
// TIFFReadScanline on directories it interprets differently from the spec,
// and VTK misplaces the tiles of tiled files. The structure is walked and
// checked, then the strips are decoded here:
//   * classic TIFF ("II*\0" / "MM\0*") or BigTIFF (43), at most 65536 pages,
//     no IFD loops, every IFD and value array inside the file;
//   * every page: one sample per pixel of 8, 16, 32 or 64 bits (unsigned,
//     signed or float), a grayscale PhotometricInterpretation, FillOrder 1,
//     the size and type of the first page, strips (not tiles) whose count
//     matches the image and whose bytes lie inside the file; the tags read
//     stored with the spec's field type and one value;
//   * compression none, LZW, Deflate or PackBits, horizontal-differencing
//     predictor (2) for integer samples; the compressed bytes able to hold the
//     declared pixels at the codec's largest expansion (Deflate 1032:1, LZW
//     2731:1, PackBits 64:1), so a small file cannot make the reader allocate
//     a huge image; the whole stack within the memory cap (check_allocation).
// A stack of Z pages is [1, 1, Z, Y, X], one page [1, 1, Y, X]; row 0 is the
// first row of the file (Orientation is not applied), as tifffile and numpy
// show it. No geometry.
#include "io_common.h"
#include "masklens/engine/error.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

namespace masklens::io::detail {

namespace {

enum Tag : std::uint16_t {
    kImageWidth = 256,
    kImageLength = 257,
    kBitsPerSample = 258,
    kCompression = 259,
    kPhotometric = 262,
    kStripOffsets = 273,
    kSamplesPerPixel = 277,
    kRowsPerStrip = 278,
    kStripByteCounts = 279,
    kTileWidth = 322,
    kTileLength = 323,
    kTileOffsets = 324,
    kTileByteCounts = 325,
    kSampleFormat = 339,
    kFillOrder = 266,
    kPlanarConfiguration = 284,
    kPredictor = 317,
};

constexpr std::size_t kMaxPages = 65536;
constexpr std::uint64_t kMaxEntries = 4096;                 // entries per IFD
constexpr std::uint64_t kMaxArray = std::uint64_t{1} << 24; // strips or tiles per page

// One page as the walker found it: how to decode its strips.
struct Page {
    std::uint64_t compression = 1;
    std::uint64_t predictor = 1;
    std::uint64_t rows_per_strip = 0;
    std::vector<std::pair<std::uint64_t, std::uint64_t>> strips; // (offset, bytes)
};

struct Entry {
    std::uint16_t type = 0;
    std::uint64_t count = 0;
    std::uint64_t value_offset = 0; // where the values are (inline or not)
};

class TiffWalker {
public:
    explicit TiffWalker(const File& file) : file_(file), path_(file.path()) {}

    // Walks and checks every directory; throws Error(Input) naming the file.
    void run()
    {
        unsigned char header[16] = {};
        if (file_.size() < 8) {
            fail("not a valid TIFF file (bad or corrupt header): " + std::to_string(file_.size()) + " bytes");
        }
        file_.read_at(0, header, static_cast<std::size_t>(std::min<std::uint64_t>(16, file_.size())),
                      "the TIFF header");
        if (header[0] == 'I' && header[1] == 'I') {
            big_endian_ = false;
        } else if (header[0] == 'M' && header[1] == 'M') {
            big_endian_ = true;
        } else {
            fail("not a valid TIFF file (bad or corrupt header): it does not start with II or MM");
        }
        const unsigned version = static_cast<unsigned>(decode(header + 2, 2));
        std::uint64_t ifd = 0;
        if (version == 42) {
            ifd = decode(header + 4, 4);
        } else if (version == 43) {
            big_tiff_ = true;
            if (file_.size() < 16 || decode(header + 4, 2) != 8 || decode(header + 6, 2) != 0) {
                fail("not a valid TIFF file (bad or corrupt BigTIFF header)");
            }
            ifd = decode(header + 8, 8);
        } else {
            fail("not a valid TIFF file (bad or corrupt header): version " + std::to_string(version) +
                 ", not 42 (TIFF) or 43 (BigTIFF)");
        }
        if (ifd == 0) {
            fail("TIFF file has no image (no image file directory)");
        }
        std::set<std::uint64_t> visited;
        std::uint64_t pages = 0;
        while (ifd != 0) {
            if (!visited.insert(ifd).second) {
                fail("TIFF image directories form a loop (corrupt file)");
            }
            if (++pages > kMaxPages) {
                fail("TIFF file has more than " + std::to_string(kMaxPages) + " pages");
            }
            ifd = check_page(ifd, pages);
        }
        check_allocation(path_, width_ * length_ * pages, type_);
    }

    std::uint64_t width() const noexcept { return width_; }
    std::uint64_t length() const noexcept { return length_; }
    ScalarType type() const noexcept { return type_; }
    bool big_endian() const noexcept { return big_endian_; }
    const std::vector<Page>& pages() const noexcept { return pages_; }

private:
    [[noreturn]] void fail(const std::string& what) const { throw_input_error(path_, what); }

    std::uint64_t decode(const unsigned char* bytes, std::size_t size) const
    {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < size; ++i) {
            value = (value << 8) | bytes[big_endian_ ? i : size - 1 - i];
        }
        return value;
    }

    std::uint64_t read_uint(std::uint64_t offset, std::size_t size) const
    {
        unsigned char bytes[8] = {};
        if (offset > file_.size() || size > file_.size() - offset) {
            fail("TIFF structure points past the end of the file (offset " + std::to_string(offset) + ")");
        }
        file_.read_at(offset, bytes, size, "a TIFF field");
        return decode(bytes, size);
    }

    static std::size_t type_size(std::uint16_t type)
    {
        switch (type) {
        case 1: // BYTE
        case 2: // ASCII
        case 6: // SBYTE
        case 7: // UNDEFINED
            return 1;
        case 3: // SHORT
        case 8: // SSHORT
            return 2;
        case 4:  // LONG
        case 9:  // SLONG
        case 11: // FLOAT
        case 13: // IFD
            return 4;
        case 5:  // RATIONAL
        case 10: // SRATIONAL
        case 12: // DOUBLE
        case 16: // LONG8
        case 17: // SLONG8
        case 18: // IFD8
            return 8;
        default: return 0;
        }
    }

    // Reads the IFD at `offset`; returns the next IFD's offset (0: none).
    std::uint64_t check_page(std::uint64_t offset, std::uint64_t page)
    {
        const std::size_t count_size = big_tiff_ ? 8 : 2;
        const std::size_t entry_size = big_tiff_ ? 20 : 12;
        const std::size_t inline_size = big_tiff_ ? 8 : 4;
        const std::uint64_t entries = read_uint(offset, count_size);
        if (entries == 0 || entries > kMaxEntries) {
            fail("TIFF page " + std::to_string(page) + " has " + std::to_string(entries) +
                 " directory entries (corrupt file)");
        }
        const std::uint64_t table = offset + count_size;
        if (table > file_.size() || entries * entry_size + inline_size > file_.size() - table) {
            fail("TIFF page " + std::to_string(page) + "'s directory runs past the end of the file");
        }
        std::vector<unsigned char> bytes(static_cast<std::size_t>(entries * entry_size + inline_size));
        file_.read_at(table, bytes.data(), bytes.size(), "a TIFF directory");
        entries_.clear();
        for (std::uint64_t i = 0; i < entries; ++i) {
            const unsigned char* raw = bytes.data() + i * entry_size;
            const auto tag = static_cast<std::uint16_t>(decode(raw, 2));
            Entry entry;
            entry.type = static_cast<std::uint16_t>(decode(raw + 2, 2));
            entry.count = decode(raw + 4, big_tiff_ ? 8 : 4);
            const std::size_t size = type_size(entry.type);
            const std::uint64_t value_position = table + i * entry_size + (big_tiff_ ? 12 : 8);
            if (size == 0) {
                if (is_checked_tag(tag)) {
                    fail("TIFF page " + std::to_string(page) + " stores tag " + std::to_string(tag) +
                         " with an invalid field type " + std::to_string(entry.type) + " (corrupt file)");
                }
                continue; // another tag of an unknown type: libtiff ignores the entry
            }
            if (entry.count > (std::uint64_t{1} << 40) / size) {
                fail("TIFF page " + std::to_string(page) + " has a field (tag " + std::to_string(tag) +
                     ") with " + std::to_string(entry.count) + " values (corrupt file)");
            }
            if (is_checked_tag(tag)) {
                check_field_type(tag, entry, page);
            }
            if (entry.count == 0 && is_checked_tag(tag)) {
                // libtiff then falls back to defaults VTK handles differently
                // (an empty PhotometricInterpretation made it decode RGBA).
                fail("TIFF page " + std::to_string(page) + " stores tag " + std::to_string(tag) +
                     " with no value (corrupt file)");
            }
            const std::uint64_t total = entry.count * size;
            if (total <= inline_size) {
                entry.value_offset = value_position;
            } else {
                entry.value_offset = decode(raw + (big_tiff_ ? 12 : 8), inline_size);
                if (entry.value_offset > file_.size() || total > file_.size() - entry.value_offset) {
                    fail("TIFF page " + std::to_string(page) + " has a field (tag " + std::to_string(tag) +
                         ") whose values lie past the end of the file");
                }
            }
            entries_.emplace_back(tag, entry);
        }
        check_image(page);
        return decode(bytes.data() + entries * entry_size, inline_size);
    }

    static bool is_checked_tag(std::uint16_t tag)
    {
        switch (tag) {
        case kImageWidth:
        case kImageLength:
        case kBitsPerSample:
        case kCompression:
        case kPhotometric:
        case kStripOffsets:
        case kSamplesPerPixel:
        case kRowsPerStrip:
        case kStripByteCounts:
        case kTileWidth:
        case kTileLength:
        case kTileOffsets:
        case kTileByteCounts:
        case kSampleFormat:
        case kFillOrder:
        case kPlanarConfiguration:
        case kPredictor: return true;
        default: return false;
        }
    }

    // libtiff drops a known tag stored with another field type or count
    // (and VTK then decodes the page differently, e.g. as RGBA), so the
    // tags MaskLens relies on must be stored as the TIFF 6.0 spec says.
    void check_field_type(std::uint16_t tag, const Entry& entry, std::uint64_t page) const
    {
        const bool is_short = entry.type == 3;
        const bool is_short_or_long = entry.type == 3 || entry.type == 4 || (big_tiff_ && entry.type == 16);
        const bool is_array =
            tag == kStripOffsets || tag == kStripByteCounts || tag == kTileOffsets || tag == kTileByteCounts;
        const bool shorts_only = tag == kBitsPerSample || tag == kCompression || tag == kPhotometric ||
                                 tag == kSamplesPerPixel || tag == kSampleFormat || tag == kFillOrder ||
                                 tag == kPlanarConfiguration || tag == kPredictor;
        if ((shorts_only && !is_short) || !is_short_or_long) {
            fail("TIFF page " + std::to_string(page) + " stores tag " + std::to_string(tag) +
                 " with field type " + std::to_string(entry.type) +
                 (shorts_only ? ", not SHORT" : ", not SHORT or LONG") + " (corrupt file)");
        }
        if (!is_array && entry.count != 1) {
            fail("TIFF page " + std::to_string(page) + " stores tag " + std::to_string(tag) + " with " +
                 std::to_string(entry.count) +
                 " values, not 1 (corrupt file or more than one sample per pixel)");
        }
    }

    const Entry* find(std::uint16_t tag) const
    {
        for (const auto& [key, entry] : entries_) {
            if (key == tag) {
                return &entry;
            }
        }
        return nullptr;
    }

    // One integer value of an integer field (BYTE, SHORT, LONG, LONG8).
    std::uint64_t value_at(const Entry& entry, std::uint64_t index, std::uint16_t tag,
                           std::uint64_t page) const
    {
        std::size_t size = 0;
        switch (entry.type) {
        case 1: size = 1; break;
        case 3: size = 2; break;
        case 4:
        case 13: size = 4; break;
        case 16:
        case 18: size = 8; break;
        default:
            fail("TIFF page " + std::to_string(page) + " stores tag " + std::to_string(tag) +
                 " with field type " + std::to_string(entry.type) + ", not an unsigned integer");
        }
        return read_uint(entry.value_offset + index * size, size);
    }

    std::uint64_t scalar(std::uint16_t tag, std::uint64_t fallback, std::uint64_t page) const
    {
        const Entry* entry = find(tag);
        if (!entry || entry->count == 0) {
            return fallback;
        }
        return value_at(*entry, 0, tag, page);
    }

    void check_image(std::uint64_t page)
    {
        const std::string where = "TIFF page " + std::to_string(page);
        const std::uint64_t width = scalar(kImageWidth, 0, page);
        const std::uint64_t length = scalar(kImageLength, 0, page);
        if (width == 0 || length == 0 || width > (1u << 24) || length > (1u << 24)) {
            fail(where + " has image size " + std::to_string(width) + " x " + std::to_string(length) +
                 " (missing, empty or over 16777216)");
        }
        const std::uint64_t samples = scalar(kSamplesPerPixel, 1, page);
        if (samples != 1) {
            fail("image has " + std::to_string(samples) +
                 " components per voxel (e.g. RGB or a vector image); a mask or prediction must have one (" +
                 where + ")");
        }
        const std::uint64_t bits = scalar(kBitsPerSample, 1, page);
        const std::uint64_t format = scalar(kSampleFormat, 1, page);
        ScalarType type = ScalarType::UInt8;
        bool known = true;
        switch (format) {
        case 1:
            known = bits == 8 || bits == 16 || bits == 32 || bits == 64;
            type = bits == 8    ? ScalarType::UInt8
                   : bits == 16 ? ScalarType::UInt16
                   : bits == 32 ? ScalarType::UInt32
                                : ScalarType::UInt64;
            break;
        case 2:
            known = bits == 8 || bits == 16 || bits == 32 || bits == 64;
            type = bits == 8    ? ScalarType::Int8
                   : bits == 16 ? ScalarType::Int16
                   : bits == 32 ? ScalarType::Int32
                                : ScalarType::Int64;
            break;
        case 3:
            known = bits == 32 || bits == 64;
            type = bits == 32 ? ScalarType::Float32 : ScalarType::Float64;
            break;
        default: known = false;
        }
        if (!known) {
            fail(where + " has " + std::to_string(bits) + "-bit samples of format " + std::to_string(format) +
                 "; supported: 8/16/32/64-bit unsigned or signed integers, 32/64-bit floats");
        }
        // Without the tag VTK 9.1 decodes the page as RGBA (and leaks the
        // libtiff handle when MaskLens then refuses the four components).
        if (!find(kPhotometric)) {
            fail(where +
                 " has no PhotometricInterpretation tag; a mask or prediction must be grayscale (0 or 1)");
        }
        const std::uint64_t photometric = scalar(kPhotometric, 1, page);
        if (photometric > 1) {
            fail(where + " has photometric interpretation " + std::to_string(photometric) +
                 (photometric == 3 ? " (palette colour)" : "") +
                 "; a mask or prediction must be grayscale (0 or 1)");
        }
        if (scalar(kFillOrder, 1, page) != 1) {
            fail(where + " has FillOrder 2 (least significant bit first); MaskLens reads FillOrder 1");
        }
        const std::uint64_t predictor = scalar(kPredictor, 1, page);
        if (predictor != 1 && !(predictor == 2 && format != 3)) {
            fail(where + " uses predictor " + std::to_string(predictor) +
                 "; supported: none (1) and horizontal differencing (2) of integer samples");
        }
        const std::uint64_t compression = scalar(kCompression, 1, page);
        std::uint64_t ratio = 1;
        switch (compression) {
        case 1: ratio = 1; break;
        case 5: ratio = 2731; break; // LZW: a 12-bit code stands for at most 4096 bytes
        case 8:
        case 32946: ratio = kMaxDeflateRatio; break;
        case 32773: ratio = 64; break; // PackBits: 2 bytes for a run of 128
        default:
            fail(where + " uses compression " + std::to_string(compression) +
                 "; supported: none (1), LZW (5), Deflate (8, 32946), PackBits (32773)");
        }
        if (page == 1) {
            width_ = width;
            length_ = length;
            type_ = type;
        } else if (width != width_ || length != length_ || type != type_) {
            fail(where + " is " + std::to_string(width) + " x " + std::to_string(length) + " " +
                 scalar_name(type) + ", unlike page 1 (" + std::to_string(width_) + " x " +
                 std::to_string(length_) + " " + scalar_name(type_) + "); a stack must have equal pages");
        }
        const std::uint64_t sample_bytes = bits / 8;

        // Strips or tiles: count, placement and size.
        const bool tiled = find(kTileOffsets) != nullptr;
        const Entry* offsets = find(tiled ? kTileOffsets : kStripOffsets);
        const Entry* counts = find(tiled ? kTileByteCounts : kStripByteCounts);
        if (!offsets || !counts) {
            fail(where + " has no " + (tiled ? "tile" : "strip") + " offsets or byte counts");
        }
        std::uint64_t pieces = 0;
        if (tiled) {
            fail(where + " is tiled; MaskLens reads TIFFs stored in strips; convert it, e.g. with "
                         "`tiffcp -s in.tif out.tif`");
        }
        std::uint64_t rows = scalar(kRowsPerStrip, length, page);
        if (rows == 0) {
            fail(where + " has RowsPerStrip 0");
        }
        rows = std::min(rows, length);
        pieces = (length + rows - 1) / rows;
        Page decoded;
        decoded.compression = compression;
        decoded.predictor = predictor;
        decoded.rows_per_strip = rows;
        if (pieces > kMaxArray || offsets->count != pieces || counts->count != pieces) {
            fail(where + " has " + std::to_string(offsets->count) + " " + (tiled ? "tile" : "strip") +
                 " offsets and " + std::to_string(counts->count) + " byte counts for " +
                 std::to_string(pieces) + " " + (tiled ? "tiles" : "strips"));
        }
        std::uint64_t compressed = 0;
        for (std::uint64_t i = 0; i < pieces; ++i) {
            const std::uint64_t at = value_at(*offsets, i, tiled ? kTileOffsets : kStripOffsets, page);
            const std::uint64_t size = value_at(*counts, i, tiled ? kTileByteCounts : kStripByteCounts, page);
            if (at > file_.size() || size > file_.size() - at) {
                fail(where + "'s " + (tiled ? "tile " : "strip ") + std::to_string(i) + " (" +
                     std::to_string(size) + " bytes at " + std::to_string(at) +
                     ") lies past the end of the file (" + std::to_string(file_.size()) +
                     " bytes); the file is truncated or corrupt");
            }
            compressed += size;
            decoded.strips.emplace_back(at, size);
        }
        pages_.push_back(std::move(decoded));
        const std::uint64_t declared = width * length * sample_bytes;
        if (compression == 1 && compressed < declared) {
            fail(where + " is truncated: its " + (tiled ? "tiles" : "strips") + " hold " +
                 std::to_string(compressed) + " bytes of the " + std::to_string(declared) +
                 " the image needs");
        }
        if (compression != 1 && declared / ratio > compressed) {
            fail(where + ": " + std::to_string(compressed) + " compressed bytes cannot hold the " +
                 std::to_string(declared) + " bytes the header describes (this codec expands at most " +
                 std::to_string(ratio) + ":1); the file is corrupt");
        }
    }

    const File& file_;
    const std::string& path_;
    bool big_endian_ = false;
    bool big_tiff_ = false;
    std::vector<std::pair<std::uint16_t, Entry>> entries_;
    std::uint64_t width_ = 0;
    std::uint64_t length_ = 0;
    ScalarType type_ = ScalarType::UInt8;
    std::vector<Page> pages_;
};

bool host_is_big_endian()
{
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    return first == 0;
}

// Predictor 2: each sample was stored as the difference to its left
// neighbour (modulo 2^bits); add them back up along every row.
template <typename T> void accumulate_rows(T* data, std::size_t width, std::size_t rows)
{
    for (std::size_t y = 0; y < rows; ++y) {
        T* row = data + y * width;
        for (std::size_t x = 1; x < width; ++x) {
            row[x] = static_cast<T>(row[x] + row[x - 1]);
        }
    }
}

void undo_horizontal_differencing(unsigned char* data, std::size_t width, std::size_t rows,
                                  std::size_t sample)
{
    // Samples are in host order here; unsigned arithmetic wraps like the encoder's.
    switch (sample) {
    case 1: accumulate_rows(data, width, rows); break;
    case 2: accumulate_rows(reinterpret_cast<std::uint16_t*>(data), width, rows); break;
    case 4: accumulate_rows(reinterpret_cast<std::uint32_t*>(data), width, rows); break;
    default: accumulate_rows(reinterpret_cast<std::uint64_t*>(data), width, rows); break;
    }
}

// PackBits: a signed count n, then n + 1 literal bytes (n >= 0) or one byte
// repeated 1 - n times (n in -127..-1); -128 is a no-op. Returns the bytes
// written (at most out_size).
std::size_t unpack_bits(const unsigned char* in, std::size_t in_size, unsigned char* out,
                        std::size_t out_size)
{
    std::size_t i = 0, o = 0;
    while (i < in_size && o < out_size) {
        const auto n = static_cast<signed char>(in[i++]);
        if (n >= 0) {
            const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(n) + 1, in_size - i);
            const std::size_t take = std::min(count, out_size - o);
            std::memcpy(out + o, in + i, take);
            i += count;
            o += take;
        } else if (n != -128 && i < in_size) {
            const std::size_t count = std::min<std::size_t>(static_cast<std::size_t>(1 - n), out_size - o);
            std::memset(out + o, in[i++], count);
            o += count;
        }
    }
    return o;
}

// TIFF LZW (compression 5): MSB-first codes of 9 to 12 bits, 256 = clear,
// 257 = end; the code width grows one code early (when the next free entry
// reaches 2^width - 1). Returns the bytes written (at most out_size); throws
// on codes that cannot occur in a valid stream.
std::size_t unpack_lzw(const std::string& path, const unsigned char* in, std::size_t in_size,
                       unsigned char* out, std::size_t out_size)
{
    if (in_size >= 2 && in[0] == 0 && (in[1] & 1) != 0) {
        throw_input_error(path, "TIFF strip uses the old (pre-6.0, LSB-first) LZW; convert it, e.g. with "
                                "`tiffcp -c lzw in.tif out.tif`");
    }
    constexpr int kClear = 256, kEnd = 257, kFirstFree = 258, kMaxCodes = 4096;
    std::vector<std::uint16_t> prefix(kMaxCodes);
    std::vector<unsigned char> suffix(kMaxCodes), first(kMaxCodes);
    std::vector<std::uint16_t> length(kMaxCodes);
    for (int c = 0; c < 256; ++c) {
        suffix[static_cast<std::size_t>(c)] = first[static_cast<std::size_t>(c)] =
            static_cast<unsigned char>(c);
        length[static_cast<std::size_t>(c)] = 1;
    }
    std::uint64_t bit = 0;
    const std::uint64_t bits = std::uint64_t{in_size} * 8;
    auto read_code = [&](int width) -> int {
        if (bit + static_cast<std::uint64_t>(width) > bits) {
            return kEnd; // the stream ends without an end code: take what was decoded
        }
        int code = 0;
        for (int k = 0; k < width; ++k, ++bit) {
            code = (code << 1) | ((in[bit >> 3] >> (7 - (bit & 7))) & 1);
        }
        return code;
    };
    int width = 9;
    int next = kFirstFree;
    int previous = -1;
    std::size_t o = 0;
    // Writes the string of `code` at out + o (clipped to out_size).
    auto emit = [&](int code) {
        const std::size_t size = length[static_cast<std::size_t>(code)];
        std::size_t end = o + size;
        for (int c = code; c >= 0;) {
            --end;
            if (end < out_size) {
                out[end] = suffix[static_cast<std::size_t>(c)];
            }
            c = c < 256 ? -1 : prefix[static_cast<std::size_t>(c)];
        }
        o += size;
    };
    while (o < out_size) {
        const int code = read_code(width);
        if (code == kEnd) {
            break;
        }
        if (code == kClear) {
            width = 9;
            next = kFirstFree;
            previous = -1;
            continue;
        }
        if (previous < 0) {
            if (code > 255) {
                throw_input_error(path, "TIFF LZW data is corrupt (code " + std::to_string(code) +
                                            " after a clear code)");
            }
            emit(code);
            previous = code;
            continue;
        }
        unsigned char head = 0;
        if (code < next) {
            head = first[static_cast<std::size_t>(code)];
        } else if (code == next) {
            head = first[static_cast<std::size_t>(previous)];
        } else {
            throw_input_error(path, "TIFF LZW data is corrupt (code " + std::to_string(code) +
                                        " before entry " + std::to_string(next) + ")");
        }
        if (next < kMaxCodes) {
            const auto entry = static_cast<std::size_t>(next);
            prefix[entry] = static_cast<std::uint16_t>(previous);
            suffix[entry] = head;
            first[entry] = first[static_cast<std::size_t>(previous)];
            length[entry] = static_cast<std::uint16_t>(
                std::min<int>(length[static_cast<std::size_t>(previous)] + 1, kMaxCodes));
            ++next;
        }
        emit(code);
        previous = code;
        if (next >= (1 << width) - 1 && width < 12) {
            ++width;
        }
    }
    return std::min(o, out_size);
}

} // namespace

Volume read_tiff(const std::string& path)
{
    const File file(path);
    TiffWalker walker(file);
    walker.run();
    const std::vector<Page>& pages = walker.pages();
    const std::uint64_t width = walker.width();
    const std::uint64_t length = walker.length();
    const ScalarType type = walker.type();
    const std::size_t sample = scalar_size(type);
    Shape shape;
    shape.w = static_cast<std::int64_t>(width);
    shape.h = static_cast<std::int64_t>(length);
    shape.d = static_cast<std::int64_t>(pages.size());
    shape.spatial_dims = pages.size() == 1 ? 2 : 3;
    Volume volume(path, type, shape);
    const std::size_t row_bytes = static_cast<std::size_t>(width) * sample;
    const std::size_t page_bytes = row_bytes * static_cast<std::size_t>(length);
    std::vector<unsigned char> packed;
    for (std::size_t z = 0; z < pages.size(); ++z) {
        const Page& page = pages[z];
        auto* page_data = reinterpret_cast<unsigned char*>(volume.data()) + z * page_bytes;
        for (std::size_t s = 0; s < page.strips.size(); ++s) {
            const std::uint64_t first_row = s * page.rows_per_strip;
            const std::uint64_t rows = std::min<std::uint64_t>(page.rows_per_strip, length - first_row);
            unsigned char* out = page_data + first_row * row_bytes;
            const auto need = static_cast<std::size_t>(rows * row_bytes);
            const auto [offset, size] = page.strips[s];
            const std::string where =
                "TIFF page " + std::to_string(z + 1) + " strip " + std::to_string(s) + ": ";
            std::size_t got = 0;
            if (page.compression == 1) {
                got = static_cast<std::size_t>(std::min<std::uint64_t>(size, need));
                file.read_at(offset, out, got, "a TIFF strip");
            } else if (page.compression == 8 || page.compression == 32946) {
                file.seek(offset);
                std::uint64_t left = size;
                const std::uint64_t total = inflate_all(
                    path, "TIFF Deflate data", 15,
                    [&](unsigned char* buffer, std::size_t wanted) -> std::size_t {
                        const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(wanted, left));
                        const std::size_t read = take ? std::fread(buffer, 1, take, file.get()) : 0;
                        left -= read;
                        return read;
                    },
                    need + (std::uint64_t{1} << 20),
                    [&](std::uint64_t at, const unsigned char* piece, std::size_t piece_size) {
                        if (at < need) {
                            std::memcpy(
                                out + at, piece,
                                static_cast<std::size_t>(std::min<std::uint64_t>(piece_size, need - at)));
                        }
                    });
                got = static_cast<std::size_t>(std::min<std::uint64_t>(total, need));
            } else {
                packed.resize(static_cast<std::size_t>(size));
                file.read_at(offset, packed.data(), packed.size(), "a TIFF strip");
                got = page.compression == 5 ? unpack_lzw(path, packed.data(), packed.size(), out, need)
                                            : unpack_bits(packed.data(), packed.size(), out, need);
            }
            if (got < need) {
                throw_input_error(path, where + "the data are truncated (" + std::to_string(got) + " of " +
                                            std::to_string(need) + " bytes)");
            }
        }
        if (sample > 1 && walker.big_endian() != host_is_big_endian()) {
            swap_bytes(reinterpret_cast<std::byte*>(page_data), static_cast<std::size_t>(width * length),
                       sample);
        }
        if (page.predictor == 2) {
            undo_horizontal_differencing(page_data, static_cast<std::size_t>(width),
                                         static_cast<std::size_t>(length), sample);
        }
    }
    return volume;
}

} // namespace masklens::io::detail
