// check_tiff(): walks a TIFF's structure before VTK's reader (libtiff) sees it.
//
// Why: libtiff and VTK 9.1's vtkTIFFReader accept far more than a mask needs
// (colour, palettes, JPEG, 1-bit, odd codecs) and fuzzing found vtkTIFFReader
// leaking libtiff handles on some of those files; a small compressed strip can
// also declare a huge image. So MaskLens accepts one well-defined subset and
// refuses the rest with a message naming the problem:
//   * classic TIFF ("II*\0" / "MM\0*") or BigTIFF (43), at most 65536 pages,
//     no IFD loops, every IFD and value array inside the file;
//   * every page: one sample per pixel of 8, 16, 32 or 64 bits (unsigned,
//     signed or float), a grayscale PhotometricInterpretation, the size of the
//     first page, strips (not tiles: VTK 9.1 misplaces them) whose count matches the image and whose
//     bytes lie inside the file;
//   * compression none, LZW, Deflate or PackBits, and the compressed bytes
//     able to hold the declared pixels at the codec's largest expansion
//     (Deflate 1032:1, LZW 2731:1, PackBits 64:1) so that a small file cannot
//     make the reader allocate a huge image;
//   * the whole stack within the memory cap (check_allocation).
#include "io_common.h"
#include "masklens/engine/error.h"

#include <cstdint>
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
};

constexpr std::size_t kMaxPages = 65536;
constexpr std::uint64_t kMaxEntries = 4096;                 // entries per IFD
constexpr std::uint64_t kMaxArray = std::uint64_t{1} << 24; // strips or tiles per page

struct Entry {
    std::uint16_t type = 0;
    std::uint64_t count = 0;
    std::uint64_t value_offset = 0; // where the values are (inline or not)
};

class TiffWalker {
public:
    explicit TiffWalker(const File& file) : file_(file), path_(file.path()) {}

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
        // VTK decodes into its own buffer, which is then copied into the
        // Volume: both must fit. Checked here because a refusal after VTK has
        // opened the file leaks libtiff's handle.
        check_allocation(path_, width_ * length_ * pages, type_);
        check_allocation(path_, width_ * length_ * pages * 2, type_);
    }

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
        case kSampleFormat: return true;
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
                                 tag == kSamplesPerPixel || tag == kSampleFormat;
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
            // VTK 9.1's reader puts the tiles of a tiled TIFF in the wrong
            // places (found with a tifffile-checked fixture); refuse them.
            fail(where + " is tiled; MaskLens reads TIFFs stored in strips (VTK 9.1 misreads tiles); "
                         "convert it, e.g. with `tiffcp -s in.tif out.tif`");
        }
        if (tiled) {
            const std::uint64_t tile_width = scalar(kTileWidth, 0, page);
            const std::uint64_t tile_length = scalar(kTileLength, 0, page);
            if (tile_width == 0 || tile_length == 0 || tile_width % 16 != 0 || tile_length % 16 != 0 ||
                tile_width > (1u << 16) || tile_length > (1u << 16)) {
                fail(where + " has tiles of " + std::to_string(tile_width) + " x " +
                     std::to_string(tile_length) + " (must be multiples of 16, at most 65536)");
            }
            pieces = ((width + tile_width - 1) / tile_width) * ((length + tile_length - 1) / tile_length);
        } else {
            std::uint64_t rows = scalar(kRowsPerStrip, length, page);
            if (rows == 0) {
                fail(where + " has RowsPerStrip 0");
            }
            rows = std::min(rows, length);
            pieces = (length + rows - 1) / rows;
        }
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
        }
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
};

} // namespace

void check_tiff(const File& file)
{
    TiffWalker(file).run();
}

} // namespace masklens::io::detail
