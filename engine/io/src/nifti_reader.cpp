// Single-file NIfTI-1 and NIfTI-2 images (.nii, .nii.gz), read by MaskLens's
// own parser. VTK 9.1's vtkNIFTIImageReader was used for the header until
// fuzzing found it reading wild addresses on corrupt headers (unknown datatype
// codes, a truncated gzip stream); every field is now checked here before it
// is used, and VTK is not involved.
//
// Layout: an X x Y x Z image (dim[1..3]) is the C-order array [Z, Y, X], i.e.
// [1, 1, Z, Y, X] (or [1, 1, Y, X] when Z == 1), in file order (no slice flip),
// byte-swapped when the header is. This equals
// numpy.asarray(nib.load(f).dataobj).T. scl_slope/scl_inter are not applied:
// masks are read as stored.
//
// Geometry: nibabel's `img.affine` (voxel index -> RAS+ mm): the sform if
// sform_code > 0, else the qform if qform_code > 0 (quaternion, pixdim, qfac),
// else diag(pixdim) with a zero origin (nibabel centres that Analyze-style
// fallback; MaskLens does not). Spacing is the affine's column norms,
// direction its normalised columns, origin its translation.
//
// Limits: the header is 348 (NIfTI-1) or 540 (NIfTI-2) bytes in either byte
// order; dim[0] in 1..7 with extents >= 1 and nothing beyond the third axis;
// scalar datatypes only; vox_offset past the header; the voxel data must fit
// in the file (or, for .nii.gz, in what the compressed size can inflate to)
// and in the memory cap, all checked before allocating.
#include "io_common.h"
#include "masklens/engine/error.h"

#include <zlib.h>

#include <array>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace masklens::io::detail {

namespace {

constexpr std::size_t kNifti1HeaderSize = 348;
constexpr std::size_t kNifti2HeaderSize = 540;
// The largest vox_offset (header and extensions) inflated into the volume's
// own allocation by the libdeflate path; larger ones are inflated by zlib.
constexpr std::uint64_t kMaxWholeHeader = std::uint64_t{1} << 20;

struct NiftiHeader {
    int version = 1;
    bool swapped = false;              // stored in the other byte order
    std::array<std::int64_t, 8> dim{}; // dim[0] = rank
    int datatype = 0;
    std::array<double, 8> pixdim{};
    double vox_offset = 0;
    int qform_code = 0;
    int sform_code = 0;
    double quatern[3] = {};
    double qoffset[3] = {};
    double srow[3][4] = {};
};

// Reads little/big-endian fields of the raw header.
class HeaderBytes {
public:
    HeaderBytes(const std::vector<unsigned char>& bytes, bool big_endian)
        : bytes_(bytes), big_endian_(big_endian)
    {}

    std::uint64_t raw(std::size_t offset, std::size_t size) const
    {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < size; ++i) {
            const std::size_t index = big_endian_ ? offset + i : offset + size - 1 - i;
            value = (value << 8) | bytes_[index];
        }
        return value;
    }
    std::int16_t i16(std::size_t offset) const { return static_cast<std::int16_t>(raw(offset, 2)); }
    std::int32_t i32(std::size_t offset) const { return static_cast<std::int32_t>(raw(offset, 4)); }
    std::int64_t i64(std::size_t offset) const { return static_cast<std::int64_t>(raw(offset, 8)); }
    double f32(std::size_t offset) const
    {
        const auto bits = static_cast<std::uint32_t>(raw(offset, 4));
        float value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return static_cast<double>(value);
    }
    double f64(std::size_t offset) const
    {
        const std::uint64_t bits = raw(offset, 8);
        double value = 0;
        std::memcpy(&value, &bits, sizeof value);
        return value;
    }

private:
    const std::vector<unsigned char>& bytes_;
    bool big_endian_;
};

// The first `size` bytes of the file (inflated for .nii.gz); fewer when the
// file (or the stream) is shorter. A corrupt stream throws.
std::vector<unsigned char> read_head(const File& file, bool gzip, std::size_t size)
{
    std::vector<unsigned char> head(size);
    if (!gzip) {
        const auto got = static_cast<std::size_t>(std::min<std::uint64_t>(size, file.size()));
        file.read_at(0, head.data(), got, "the NIfTI header");
        head.resize(got);
        return head;
    }
    z_stream stream{};
    if (inflateInit2(&stream, 15 + 16) != Z_OK) {
        throw_input_error(file.path(), "cannot initialise zlib");
    }
    struct Cleanup {
        z_stream* stream;
        ~Cleanup() { inflateEnd(stream); }
    } cleanup{&stream};
    file.seek(0);
    std::vector<unsigned char> input(4096);
    stream.next_out = head.data();
    stream.avail_out = static_cast<uInt>(head.size());
    while (stream.avail_out > 0) {
        if (stream.avail_in == 0) {
            const std::size_t got = std::fread(input.data(), 1, input.size(), file.get());
            if (got == 0) {
                break; // a short stream: the size checks below say what is missing
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        const int status = inflate(&stream, Z_NO_FLUSH);
        if (status == Z_STREAM_END) {
            break;
        }
        if (status != Z_OK && status != Z_BUF_ERROR) {
            throw_input_error(file.path(), std::string("gzip data is corrupt (zlib: ") +
                                               (stream.msg ? stream.msg : "inflate failed") + ")");
        }
    }
    head.resize(head.size() - stream.avail_out);
    return head;
}

bool host_is_little_endian()
{
    const std::uint16_t probe = 1;
    unsigned char first = 0;
    std::memcpy(&first, &probe, 1);
    return first == 1;
}

std::string quoted_bytes(const unsigned char* bytes, std::size_t count)
{
    std::string text = "'";
    for (std::size_t i = 0; i < count; ++i) {
        const unsigned char c = bytes[i];
        if (c >= 0x20 && c < 0x7f) {
            text += static_cast<char>(c);
        } else {
            static const char* digits = "0123456789abcdef";
            text += "\\x";
            text += digits[c >> 4];
            text += digits[c & 15];
        }
    }
    return text + "'";
}

NiftiHeader parse_header(const std::string& path, const std::vector<unsigned char>& head)
{
    if (head.size() < 4) {
        throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): only " +
                                    std::to_string(head.size()) + " bytes");
    }
    NiftiHeader header;
    const std::int32_t little = HeaderBytes(head, false).i32(0);
    const std::int32_t big = HeaderBytes(head, true).i32(0);
    std::size_t header_size = 0;
    if (little == 348 || big == 348) {
        header.version = 1;
        header.swapped = (little != 348) == host_is_little_endian();
        header_size = kNifti1HeaderSize;
    } else if (little == 540 || big == 540) {
        header.version = 2;
        header.swapped = (little != 540) == host_is_little_endian();
        header_size = kNifti2HeaderSize;
    } else {
        throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): sizeof_hdr is " +
                                    std::to_string(little) + ", not 348 (NIfTI-1) or 540 (NIfTI-2)");
    }
    if (head.size() < header_size) {
        throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): the NIfTI-" +
                                    std::to_string(header.version) + " header needs " +
                                    std::to_string(header_size) + " bytes, the file holds " +
                                    std::to_string(head.size()));
    }
    // The header is little-endian exactly when sizeof_hdr read that way matched.
    const bool little_endian = header.version == 1 ? little == 348 : little == 540;
    const HeaderBytes bytes(head, !little_endian);
    if (header.version == 1) {
        const unsigned char* magic = head.data() + 344;
        if (std::memcmp(magic, "ni1\0", 4) == 0) {
            throw_input_error(path, "NIfTI-1 magic 'ni1' means the voxels are in a separate .img file; "
                                    "MaskLens reads single-file images (magic 'n+1')");
        }
        if (std::memcmp(magic, "n+1\0", 4) != 0) {
            throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): magic is " +
                                        quoted_bytes(magic, 4) + ", not 'n+1'");
        }
    } else {
        const unsigned char* magic = head.data() + 4;
        if (std::memcmp(magic, "ni2\0", 4) == 0) {
            throw_input_error(path, "NIfTI-2 magic 'ni2' means the voxels are in a separate .img file; "
                                    "MaskLens reads single-file images (magic 'n+2')");
        }
        if (std::memcmp(magic, "n+2\0\r\n\032\n", 8) != 0) {
            throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): magic is " +
                                        quoted_bytes(magic, 8) +
                                        ", not 'n+2\\x00\\r\\n\\x1a\\n' (a text-mode transfer can break it)");
        }
    }
    // Field offsets and widths of the two versions (NIfTI-1: 16-bit dims and
    // codes, 32-bit floats; NIfTI-2: 64-bit dims, 32-bit codes, doubles).
    struct FieldLayout {
        std::size_t datatype, dim, pixdim, vox_offset, qform_code, sform_code, quatern, qoffset, srow;
        std::size_t int_size, code_size, real_size;
    };
    static constexpr FieldLayout kNifti1{70, 40, 76, 108, 252, 254, 256, 268, 280, 2, 2, 4};
    static constexpr FieldLayout kNifti2{12, 16, 104, 168, 344, 348, 352, 376, 400, 8, 4, 8};
    const FieldLayout& layout = header.version == 1 ? kNifti1 : kNifti2;
    auto integer = [&](std::size_t offset, std::size_t size) -> std::int64_t {
        return size == 2 ? bytes.i16(offset) : size == 4 ? bytes.i32(offset) : bytes.i64(offset);
    };
    auto real = [&](std::size_t offset) {
        return layout.real_size == 4 ? bytes.f32(offset) : bytes.f64(offset);
    };
    header.datatype = bytes.i16(layout.datatype);
    for (std::size_t i = 0; i < 8; ++i) {
        header.dim[i] = integer(layout.dim + layout.int_size * i, layout.int_size);
        header.pixdim[i] = real(layout.pixdim + layout.real_size * i);
    }
    // NIfTI-1 stores vox_offset as a float, NIfTI-2 as a 64-bit integer.
    header.vox_offset = header.version == 1 ? bytes.f32(layout.vox_offset)
                                            : static_cast<double>(bytes.i64(layout.vox_offset));
    header.qform_code = static_cast<int>(integer(layout.qform_code, layout.code_size));
    header.sform_code = static_cast<int>(integer(layout.sform_code, layout.code_size));
    for (std::size_t i = 0; i < 3; ++i) {
        header.quatern[i] = real(layout.quatern + layout.real_size * i);
        header.qoffset[i] = real(layout.qoffset + layout.real_size * i);
        for (std::size_t j = 0; j < 4; ++j) {
            header.srow[i][j] = real(layout.srow + layout.real_size * (4 * i + j));
        }
    }
    return header;
}

// The scalar type of a NIfTI datatype code, or an error naming what it is.
ScalarType scalar_type_of(const std::string& path, int datatype)
{
    switch (datatype) {
    case 2: return ScalarType::UInt8;
    case 4: return ScalarType::Int16;
    case 8: return ScalarType::Int32;
    case 16: return ScalarType::Float32;
    case 64: return ScalarType::Float64;
    case 256: return ScalarType::Int8;
    case 512: return ScalarType::UInt16;
    case 768: return ScalarType::UInt32;
    case 1024: return ScalarType::Int64;
    case 1280: return ScalarType::UInt64;
    default: break;
    }
    std::string what;
    switch (datatype) {
    case 1: what = "1-bit (binary) voxels"; break;
    case 32: what = "complex64: 2 components per voxel"; break;
    case 128: what = "RGB24: 3 components per voxel"; break;
    case 1536: what = "float128"; break;
    case 1792: what = "complex128: 2 components per voxel"; break;
    case 2048: what = "complex256: 2 components per voxel"; break;
    case 2304: what = "RGBA32: 4 components per voxel"; break;
    default: what = "not a NIfTI datatype code"; break;
    }
    throw_input_error(path, "unsupported NIfTI datatype " + std::to_string(datatype) + " (" + what +
                                "); a mask or prediction must have one integer or float value per voxel");
}

// nibabel's affine (see the top of this file); throws on non-finite entries.
std::array<std::array<double, 4>, 3> affine_of(const std::string& path, const NiftiHeader& header)
{
    std::array<std::array<double, 4>, 3> affine{};
    const char* source = "diag(pixdim)";
    if (header.sform_code > 0) {
        source = "sform";
        for (std::size_t row = 0; row < 3; ++row) {
            for (std::size_t column = 0; column < 4; ++column) {
                affine[row][column] = header.srow[row][column];
            }
        }
    } else {
        auto zoom = [&](std::size_t axis) {
            const double value = header.pixdim[axis];
            return value > 0 ? value : 1.0;
        };
        const double dx = zoom(1), dy = zoom(2), dz = zoom(3);
        if (header.qform_code > 0) {
            source = "qform";
            // nibabel's quaternion handling: a = sqrt(1 - b^2 - c^2 - d^2), or 0
            // when that is negative (rounding), then a normalised rotation.
            const double b = header.quatern[0], c = header.quatern[1], d = header.quatern[2];
            const double a2 = 1.0 - (b * b + c * c + d * d);
            const double a = a2 > 0 ? std::sqrt(a2) : 0.0;
            const double n = a * a + b * b + c * c + d * d;
            const double s = n > 1e-12 ? 2.0 / n : 0.0;
            const double qfac = header.pixdim[0] < 0 ? -1.0 : 1.0;
            const double rotation[3][3] = {
                {1.0 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)},
                {s * (b * c + a * d), 1.0 - s * (b * b + d * d), s * (c * d - a * b)},
                {s * (b * d - a * c), s * (c * d + a * b), 1.0 - s * (b * b + c * c)},
            };
            const double zooms[3] = {dx, dy, dz * qfac};
            for (std::size_t row = 0; row < 3; ++row) {
                for (std::size_t column = 0; column < 3; ++column) {
                    affine[row][column] = rotation[row][column] * zooms[column];
                }
                affine[row][3] = header.qoffset[row];
            }
        } else {
            affine[0][0] = dx;
            affine[1][1] = dy;
            affine[2][2] = dz;
        }
    }
    for (const auto& row : affine) {
        for (const double value : row) {
            if (!std::isfinite(value)) {
                throw_input_error(path, std::string("NIfTI header has a non-finite value in its ") + source +
                                            " (voxel-to-world affine)");
            }
        }
    }
    return affine;
}

Geometry geometry_from_affine(const std::array<std::array<double, 4>, 3>& affine)
{
    Geometry geometry;
    geometry.known = true;
    geometry.frame = WorldFrame::RAS; // nibabel's affine maps to RAS+
    for (std::size_t column = 0; column < 3; ++column) {
        const double norm =
            std::sqrt(affine[0][column] * affine[0][column] + affine[1][column] * affine[1][column] +
                      affine[2][column] * affine[2][column]);
        if (norm > 0 && std::isfinite(norm)) {
            geometry.spacing[column] = norm;
            for (std::size_t row = 0; row < 3; ++row) {
                geometry.direction[row * 3 + column] = affine[row][column] / norm;
            }
        } else {
            // A degenerate column: keep unit spacing and the index axis.
            geometry.spacing[column] = 1.0;
            for (std::size_t row = 0; row < 3; ++row) {
                geometry.direction[row * 3 + column] = row == column ? 1.0 : 0.0;
            }
        }
    }
    for (std::size_t row = 0; row < 3; ++row) {
        geometry.origin[row] = affine[row][3];
    }
    return geometry;
}

// The gzip magic, and an upper bound of the inflated size (deflate expands at
// most 1032:1). The stream itself is checked (CRC, truncation, corruption)
// while the voxel data are inflated, once.
std::uint64_t inflated_size_bound(const File& file)
{
    unsigned char magic[2] = {};
    file.read_at(0, magic, static_cast<std::size_t>(std::min<std::uint64_t>(2, file.size())),
                 "the gzip header");
    if (magic[0] != 0x1f || magic[1] != 0x8b) {
        throw_input_error(file.path(), "not gzip-compressed, although the name ends in .gz");
    }
    return file.size() * kMaxDeflateRatio + kMaxDeflateRatio;
}

} // namespace

Volume read_nifti(const std::string& path, bool gzip)
{
    const File file(path);
    const std::uint64_t data_size = gzip ? inflated_size_bound(file) : file.size();
    const NiftiHeader header = [&] {
        try {
            return parse_header(path, read_head(file, gzip, kNifti2HeaderSize));
        } catch (const Error&) {
            if (gzip) {
                // A damaged stream can inflate to a plausible-looking but wrong
                // header; when the stream itself is corrupt, say that instead.
                file.seek(0);
                inflate_all(
                    path, "gzip data", 15 + 16,
                    [&](unsigned char* buffer, std::size_t size) {
                        return std::fread(buffer, 1, size, file.get());
                    },
                    data_size);
            }
            throw;
        }
    }();

    const std::int64_t rank = header.dim[0];
    if (rank < 1 || rank > 7) {
        throw_input_error(path, "not a valid NIfTI file (bad or corrupt header): dim[0] (the number of "
                                "dimensions) is " +
                                    std::to_string(rank) + ", not 1 to 7");
    }
    std::int64_t dims[3] = {1, 1, 1};
    for (std::int64_t axis = 1; axis <= rank; ++axis) {
        const std::int64_t extent = header.dim[static_cast<std::size_t>(axis)];
        if (extent < 1) {
            throw_input_error(path, "NIfTI header gives dim[" + std::to_string(axis) +
                                        "] = " + std::to_string(extent) + ": a zero or negative size");
        }
        if (axis <= 3) {
            dims[axis - 1] = extent;
        } else if (extent > 1) {
            throw_input_error(path, "NIfTI image has " + std::to_string(rank) + " dimensions (dim[" +
                                        std::to_string(axis) + "] = " + std::to_string(extent) +
                                        "); a mask must be 2D or 3D");
        }
    }
    const ScalarType type = scalar_type_of(path, header.datatype);
    std::uint64_t elements = 1;
    for (const std::int64_t extent : dims) {
        if (elements > std::numeric_limits<std::uint64_t>::max() / static_cast<std::uint64_t>(extent)) {
            throw_input_error(path, "NIfTI image size overflows (" + std::to_string(dims[0]) + " x " +
                                        std::to_string(dims[1]) + " x " + std::to_string(dims[2]) + ")");
        }
        elements *= static_cast<std::uint64_t>(extent);
    }
    check_allocation(path, elements, type);
    const std::uint64_t bytes = elements * scalar_size(type);

    const std::size_t header_size = header.version == 1 ? kNifti1HeaderSize : kNifti2HeaderSize;
    if (!std::isfinite(header.vox_offset) || header.vox_offset < static_cast<double>(header_size) ||
        header.vox_offset > 9.0e15) {
        throw_input_error(path, "NIfTI header has vox_offset " + std::to_string(header.vox_offset) +
                                    ": the voxel data must start after the " + std::to_string(header_size) +
                                    "-byte header");
    }
    // nibabel reads at int(vox_offset).
    const auto offset = static_cast<std::uint64_t>(header.vox_offset);
    if (offset > data_size || bytes > data_size - offset) {
        throw_input_error(path, "NIfTI data is truncated: the header describes " + std::to_string(bytes) +
                                    " bytes at offset " + std::to_string(offset) + " but the " +
                                    (gzip ? "compressed file can inflate to at most " : "file holds ") +
                                    std::to_string(data_size) + " bytes");
    }
    const Geometry geometry = geometry_from_affine(affine_of(path, header));

    Shape shape;
    shape.w = dims[0];
    shape.h = dims[1];
    shape.d = dims[2];
    shape.spatial_dims = dims[2] == 1 ? 2 : 3;
    // The inflated file is [header: offset][voxels: bytes][a tail]; zlib below
    // refuses tails over 1 MiB.
    const std::uint64_t tail_limit = std::uint64_t{1} << 20;
    const std::uint64_t inflated_limit = offset + bytes + tail_limit;
    // libdeflate inflates the whole file into one buffer: room for the header
    // before the voxels and for the tail after them, so nothing is copied.
    if (!gzip && !header.swapped) {
        // The file's own bytes (mapped) where mapping is on.
        if (std::optional<Volume> view = map_volume(file, offset, path, type, shape)) {
            view->geometry() = geometry;
            return std::move(*view);
        }
    }
    const bool whole =
        gzip && offset <= kMaxWholeHeader && inflated_limit <= std::numeric_limits<std::size_t>::max();
    Volume volume = whole ? Volume(path, type, shape, static_cast<std::size_t>(offset), tail_limit)
                          : Volume(path, type, shape);
    if (!gzip) {
        file.read_at(offset, volume.data(), static_cast<std::size_t>(bytes), "the NIfTI voxel data");
    } else if (!whole ||
               !inflate_whole(file, 0, WholeFormat::Gzip, reinterpret_cast<unsigned char*>(volume.storage()),
                              static_cast<std::size_t>(inflated_limit), offset + bytes)) {
        // One decompression, which also checks the stream to its end (CRC,
        // length, truncation); only [offset, offset + bytes) is kept.
        auto* destination = reinterpret_cast<unsigned char*>(volume.data());
        file.seek(0);
        const std::uint64_t total = inflate_all(
            path, "gzip data", 15 + 16,
            [&](unsigned char* buffer, std::size_t size) { return std::fread(buffer, 1, size, file.get()); },
            inflated_limit,
            [&](std::uint64_t at, const unsigned char* piece, std::size_t size) {
                const std::uint64_t begin = std::max(at, offset);
                const std::uint64_t end = std::min(at + size, offset + bytes);
                if (begin < end) {
                    std::memcpy(destination + (begin - offset), piece + (begin - at),
                                static_cast<std::size_t>(end - begin));
                }
            });
        if (total < offset + bytes) {
            throw_input_error(path, "NIfTI data is truncated: the header describes " + std::to_string(bytes) +
                                        " bytes at offset " + std::to_string(offset) +
                                        " but the inflated file holds " + std::to_string(total) + " bytes");
        }
    }
    if (header.swapped) {
        swap_bytes(volume.data(), static_cast<std::size_t>(elements), scalar_size(type));
    }
    volume.geometry() = geometry;
    return volume;
}

} // namespace masklens::io::detail
