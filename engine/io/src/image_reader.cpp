// VTK-backed readers: NIfTI-1/2, PNG and TIFF. read_image() also dispatches
// NRRD and MetaImage, which have their own readers (nrrd_reader.cpp,
// metaimage_reader.cpp: VTK 9.1's readers drop their direction matrices).
//
// Every reader gets observers for VTK's error and warning events (on the
// reader and on its executive), so VTK's messages become the text of an
// Error(Input) instead of going to VTK's output window or stderr. The header
// is read first (UpdateInformation) and the size it claims is checked with
// check_allocation before VTK allocates anything.
//
// Index order: VTK's x-fastest point order of an X x Y x Z image is the C
// order of a [Z, Y, X] array, so the scalars are copied as they are, giving
// [1, 1, Z, Y, X] (or [1, 1, Y, X] when Z == 1).
//
// Geometry conventions (Geometry: spacing, origin, row-major direction whose
// columns are the world directions of the x, y, z index axes):
//  * NIfTI: computed from the raw header the way nibabel's `img.affine` is:
//    the sform if sform_code > 0, else the qform if qform_code > 0 (quaternion,
//    pixdim and qfac), else diag(pixdim) with a zero origin. The 4x4 affine
//    maps the file's (i, j, k) voxel indices to NIfTI world (RAS+)
//    millimetres; spacing is its column norms, direction its normalised
//    columns, origin its translation. VTK's reader reverses the slice order
//    when qfac is -1; the slices are put back in file order here, so the array
//    equals numpy.asarray(nib.load(f).dataobj).T (before scl_slope/scl_inter,
//    which are not applied: masks are read as stored).
//  * NRRD, MetaImage: see nrrd_reader.cpp and metaimage_reader.cpp (the
//    file's own world frame, e.g. LPS, not converted to RAS).
//  * PNG and TIFF: no geometry (known = false). Row 0 is the top row of the
//    picture, as numpy/PIL show it (VTK's bottom-up row order is undone).
#include "io_common.h"
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkDataObject.h>
#include <vtkExecutive.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkMatrix3x3.h>
#include <vtkNIFTIImageHeader.h>
#include <vtkNIFTIImageReader.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkTIFFReader.h>
#include <vtkType.h>

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace masklens::io {

namespace {

struct Messages {
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
};

// VTK formats its messages as "ERROR: In FILE, line N\nClass (0x...): text\n\n";
// keep only the text.
std::string clean_message(const char* raw)
{
    std::string text = raw ? raw : "";
    if (text.rfind("ERROR: In ", 0) == 0 || text.rfind("Warning: In ", 0) == 0) {
        const auto newline = text.find('\n');
        text = newline == std::string::npos ? std::string() : text.substr(newline + 1);
    }
    const auto marker = text.find("): ");
    if (marker != std::string::npos && marker < 80 && text.find(" (0x") != std::string::npos &&
        text.find(" (0x") < marker) {
        text = text.substr(marker + 3);
    }
    while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
        text.pop_back();
    }
    return text;
}

void on_vtk_message(vtkObject*, unsigned long event, void* client, void* call)
{
    auto* messages = static_cast<Messages*>(client);
    std::string text = clean_message(static_cast<const char*>(call));
    if (text.empty() || (text.rfind("Algorithm ", 0) == 0 &&
                         text.find("returned failure for request") != std::string::npos)) {
        return; // the executive's echo of the reader's own error
    }
    (event == vtkCommand::ErrorEvent ? messages->errors : messages->warnings).push_back(std::move(text));
}

std::uint32_t be32(const unsigned char* p)
{
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
}

// Inflates `input` (zlib or gzip, chosen by window_bits) to the end of its
// stream, handing each piece of output to `sink` (with its offset) or
// discarding it; returns the inflated size. Throws on corrupt
// or truncated data, including a CRC or length mismatch in a gzip trailer.
std::uint64_t
inflate_all(const std::string& path, const char* what, int window_bits,
            const std::function<std::size_t(unsigned char*, std::size_t)>& next_input,
            std::uint64_t limit = std::numeric_limits<std::uint64_t>::max(),
            const std::function<void(std::uint64_t, const unsigned char*, std::size_t)>& sink = {})
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

// Checks the gzip magic and returns an upper bound of the inflated size
// (deflate expands at most 1032:1). The stream itself is checked (CRC,
// truncation, corruption) while the voxel data are inflated, once.
std::uint64_t check_gzip(const detail::File& file)
{
    unsigned char magic[2] = {};
    file.read_at(0, magic, std::min<std::uint64_t>(2, file.size()), "the gzip header");
    if (magic[0] != 0x1f || magic[1] != 0x8b) {
        throw_input_error(file.path(), "not gzip-compressed, although the name ends in .gz");
    }
    return file.size() * 1032 + 1032;
}

// NIfTI-1 or -2 header stored in the other byte order (sizeof_hdr reads
// 348 or 540 only when swapped).
bool nifti_swapped(const std::vector<unsigned char>& head)
{
    if (head.size() < 4) {
        return false;
    }
    std::int32_t native = 0;
    std::memcpy(&native, head.data(), 4);
    return native != 348 && native != 540;
}

void swap_bytes(std::byte* data, std::size_t count, std::size_t size)
{
    for (std::size_t i = 0; i < count; ++i) {
        std::reverse(data + i * size, data + (i + 1) * size);
    }
}

// Walks the PNG chunks (lengths, CRCs, IHDR, IEND) and inflates the image
// data to check it is complete, without decoding pixels.
void check_png(const detail::File& file)
{
    const std::string& path = file.path();
    unsigned char signature[8];
    static const unsigned char expected[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (file.size() < 8) {
        throw_input_error(path, "not a valid PNG file (too short)");
    }
    file.read_at(0, signature, 8, "the PNG signature");
    if (std::memcmp(signature, expected, 8) != 0) {
        throw_input_error(path, "not a valid PNG file (bad signature)");
    }
    std::uint64_t offset = 8;
    bool header_seen = false;
    bool end_seen = false;
    std::uint32_t width = 0, height = 0;
    int bit_depth = 0, color_type = 0, interlace = 0;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> data_chunks;
    std::vector<unsigned char> chunk;
    while (!end_seen) {
        unsigned char head[8];
        if (offset + 12 > file.size()) {
            throw_input_error(path, "PNG file is truncated (no IEND chunk)");
        }
        file.read_at(offset, head, 8, "a PNG chunk header");
        const std::uint32_t length = be32(head);
        const std::string type(reinterpret_cast<const char*>(head + 4), 4);
        if (length > 0x7fffffffu || offset + 12 + length > file.size()) {
            throw_input_error(path, "PNG file is truncated (chunk '" + type + "' runs past the end)");
        }
        chunk.resize(4 + static_cast<std::size_t>(length) + 4);
        file.read_at(offset + 4, chunk.data(), chunk.size(), "a PNG chunk");
        const uLong crc = crc32_z(crc32_z(0L, Z_NULL, 0), chunk.data(), 4 + static_cast<std::size_t>(length));
        if (crc != be32(chunk.data() + 4 + length)) {
            throw_input_error(path, "PNG file is corrupt (CRC mismatch in chunk '" + type + "')");
        }
        if (!header_seen) {
            if (type != "IHDR" || length != 13) {
                throw_input_error(path, "not a valid PNG file (IHDR chunk missing)");
            }
            width = be32(chunk.data() + 4);
            height = be32(chunk.data() + 8);
            bit_depth = chunk[12];
            color_type = chunk[13];
            interlace = chunk[16];
            header_seen = true;
        } else if (type == "IDAT") {
            data_chunks.emplace_back(offset + 8, length);
        } else if (type == "IEND") {
            end_seen = true;
        }
        offset += 12 + length;
    }
    int channels = 0;
    switch (color_type) {
    case 0: channels = 1; break;
    case 2: channels = 3; break;
    case 3: channels = 1; break;
    case 4: channels = 2; break;
    case 6: channels = 4; break;
    default: throw_input_error(path, "not a valid PNG file (colour type " + std::to_string(color_type) + ")");
    }
    if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu ||
        (bit_depth != 1 && bit_depth != 2 && bit_depth != 4 && bit_depth != 8 && bit_depth != 16)) {
        throw_input_error(path, "not a valid PNG file (image size " + std::to_string(width) + " x " +
                                    std::to_string(height) + ", bit depth " + std::to_string(bit_depth) +
                                    ")");
    }
    if (color_type == 2 || color_type == 3 || color_type == 4 || color_type == 6) {
        const int components = color_type == 3 ? 3 : channels;
        throw_input_error(path, "image has " + std::to_string(components) + " components per voxel (" +
                                    (color_type == 3 ? "a palette image" : "colour or alpha") +
                                    "); a mask or prediction must be a single-channel grayscale image");
    }
    check_allocation(path, static_cast<std::uint64_t>(width) * height,
                     bit_depth == 16 ? ScalarType::UInt16 : ScalarType::UInt8);
    if (data_chunks.empty()) {
        throw_input_error(path, "PNG file has no image data (IDAT)");
    }
    // Bytes of filtered scanlines: one filter byte per row of each pass.
    auto pass_bytes = [&](std::uint64_t w, std::uint64_t h) -> std::uint64_t {
        if (w == 0 || h == 0) {
            return 0;
        }
        return h * (1 + (w * static_cast<std::uint64_t>(channels * bit_depth) + 7) / 8);
    };
    std::uint64_t needed = 0;
    if (interlace == 0) {
        needed = pass_bytes(width, height);
    } else {
        static const int start_x[7] = {0, 4, 0, 2, 0, 1, 0}, start_y[7] = {0, 0, 4, 0, 2, 0, 1};
        static const int step_x[7] = {8, 8, 4, 4, 2, 2, 1}, step_y[7] = {8, 8, 8, 4, 4, 2, 2};
        for (int pass = 0; pass < 7; ++pass) {
            const std::uint64_t w = width > static_cast<std::uint32_t>(start_x[pass])
                                        ? (width - start_x[pass] + step_x[pass] - 1) / step_x[pass]
                                        : 0;
            const std::uint64_t h = height > static_cast<std::uint32_t>(start_y[pass])
                                        ? (height - start_y[pass] + step_y[pass] - 1) / step_y[pass]
                                        : 0;
            needed += pass_bytes(w, h);
        }
    }
    std::size_t chunk_index = 0;
    std::uint64_t chunk_used = 0;
    const std::uint64_t produced =
        inflate_all(path, "PNG image data", 15, [&](unsigned char* buffer, std::size_t size) -> std::size_t {
            while (chunk_index < data_chunks.size() && chunk_used == data_chunks[chunk_index].second) {
                ++chunk_index;
                chunk_used = 0;
            }
            if (chunk_index == data_chunks.size()) {
                return 0;
            }
            const auto& [start, length] = data_chunks[chunk_index];
            const auto take = static_cast<std::size_t>(std::min<std::uint64_t>(size, length - chunk_used));
            file.read_at(start + chunk_used, buffer, take, "PNG image data");
            chunk_used += take;
            return take;
        });
    if (produced < needed) {
        throw_input_error(path, "PNG image data is truncated (" + std::to_string(produced) + " of " +
                                    std::to_string(needed) + " bytes)");
    }
}

// The first `size` bytes of a NIfTI file (inflated for .nii.gz); fewer when
// the file is shorter.
std::vector<unsigned char> nifti_head(const detail::File& file, bool gzip, std::size_t size)
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
                break;
            }
            stream.next_in = input.data();
            stream.avail_in = static_cast<uInt>(got);
        }
        const int status = inflate(&stream, Z_NO_FLUSH);
        if (status != Z_OK) {
            break; // the stream ends or is corrupt: check_gzip has said which
        }
    }
    head.resize(head.size() - stream.avail_out);
    return head;
}

// VTK 9.1's NIfTI reader crashes (reads far out of bounds) on some unknown
// datatype codes, e.g. 4000: check the code before VTK sees the header.
void check_nifti_datatype(const detail::File& file, bool gzip)
{
    const std::vector<unsigned char> head = nifti_head(file, gzip, 540);
    if (head.size() < 4) {
        return; // VTK reports the short header
    }
    auto read16 = [&](std::size_t offset, bool swap) {
        const unsigned a = head[offset], b = head[offset + 1];
        return static_cast<std::int16_t>(swap ? (a << 8) | b : a | (b << 8));
    };
    const std::uint32_t little =
        static_cast<std::uint32_t>(head[0]) | (static_cast<std::uint32_t>(head[1]) << 8) |
        (static_cast<std::uint32_t>(head[2]) << 16) | (static_cast<std::uint32_t>(head[3]) << 24);
    const std::uint32_t big =
        (static_cast<std::uint32_t>(head[0]) << 24) | (static_cast<std::uint32_t>(head[1]) << 16) |
        (static_cast<std::uint32_t>(head[2]) << 8) | static_cast<std::uint32_t>(head[3]);
    std::size_t offset = 0;
    bool swap = false;
    if (little == 348 || big == 348) {
        offset = 70; // NIfTI-1 (and Analyze 7.5): short datatype
        swap = little != 348;
    } else if (little == 540 || big == 540) {
        offset = 12; // NIfTI-2: short datatype
        swap = little != 540;
    } else {
        return; // not a NIfTI header: VTK says so
    }
    if (head.size() < offset + 2) {
        return;
    }
    const int datatype = read16(offset, swap);
    switch (datatype) {
    case 2:    // uint8
    case 4:    // int16
    case 8:    // int32
    case 16:   // float32
    case 32:   // complex64 (VTK: 2 components, refused later)
    case 64:   // float64
    case 128:  // RGB24 (3 components, refused later)
    case 256:  // int8
    case 512:  // uint16
    case 768:  // uint32
    case 1024: // int64
    case 1280: // uint64
    case 1792: // complex128
    case 2304: // RGBA32
        return;
    default:
        throw_input_error(file.path(), "unsupported NIfTI datatype " + std::to_string(datatype) +
                                           " (supported: integer and float voxels)");
    }
}

enum class Format { Nifti, Png, Tiff };

const char* format_name(Format format)
{
    switch (format) {
    case Format::Nifti: return "NIfTI";
    case Format::Png: return "PNG";
    case Format::Tiff: return "TIFF";
    }
    return "image";
}

std::optional<ScalarType> scalar_type_of(int vtk_type)
{
    switch (vtk_type) {
    case VTK_CHAR:
    case VTK_SIGNED_CHAR: return ScalarType::Int8;
    case VTK_UNSIGNED_CHAR: return ScalarType::UInt8;
    case VTK_SHORT: return ScalarType::Int16;
    case VTK_UNSIGNED_SHORT: return ScalarType::UInt16;
    case VTK_INT: return ScalarType::Int32;
    case VTK_UNSIGNED_INT: return ScalarType::UInt32;
    case VTK_LONG:
    case VTK_LONG_LONG:
    case VTK_ID_TYPE:
        if constexpr (sizeof(long) == 8) {
            return ScalarType::Int64;
        } else {
            return vtk_type == VTK_LONG ? ScalarType::Int32 : ScalarType::Int64;
        }
    case VTK_UNSIGNED_LONG:
    case VTK_UNSIGNED_LONG_LONG:
        if constexpr (sizeof(unsigned long) == 8) {
            return ScalarType::UInt64;
        } else {
            return vtk_type == VTK_UNSIGNED_LONG ? ScalarType::UInt32 : ScalarType::UInt64;
        }
    case VTK_FLOAT: return ScalarType::Float32;
    case VTK_DOUBLE: return ScalarType::Float64;
    default: return std::nullopt;
    }
}

// The NIfTI affine (voxel index -> RAS+ mm) from the raw header, as nibabel
// computes `img.affine` except that the no-qform/no-sform fallback is plain
// diag(pixdim) rather than nibabel's centred Analyze affine.
std::array<std::array<double, 4>, 3> nifti_affine(vtkNIFTIImageHeader* header)
{
    std::array<std::array<double, 4>, 3> affine{};
    if (header->GetSFormCode() > 0) {
        header->GetSRowX(affine[0].data());
        header->GetSRowY(affine[1].data());
        header->GetSRowZ(affine[2].data());
        return affine;
    }
    const double dx = header->GetPixDim(1) > 0 ? header->GetPixDim(1) : 1.0;
    const double dy = header->GetPixDim(2) > 0 ? header->GetPixDim(2) : 1.0;
    const double dz = header->GetPixDim(3) > 0 ? header->GetPixDim(3) : 1.0;
    if (header->GetQFormCode() > 0) {
        // nibabel's quaternion handling: a = sqrt(1 - b^2 - c^2 - d^2), or 0
        // when that is negative (rounding), then a normalised rotation.
        const double b = header->GetQuaternB();
        const double c = header->GetQuaternC();
        const double d = header->GetQuaternD();
        const double a2 = 1.0 - (b * b + c * c + d * d);
        const double a = a2 > 0 ? std::sqrt(a2) : 0.0;
        const double n = a * a + b * b + c * c + d * d;
        const double s = n > 1e-12 ? 2.0 / n : 0.0;
        const double qfac = header->GetPixDim(0) < 0 ? -1.0 : 1.0;
        const double rotation[3][3] = {
            {1.0 - s * (c * c + d * d), s * (b * c - a * d), s * (b * d + a * c)},
            {s * (b * c + a * d), 1.0 - s * (b * b + d * d), s * (c * d - a * b)},
            {s * (b * d - a * c), s * (c * d + a * b), 1.0 - s * (b * b + c * c)},
        };
        const double zooms[3] = {dx, dy, dz * qfac};
        for (int row = 0; row < 3; ++row) {
            for (int column = 0; column < 3; ++column) {
                affine[row][column] = rotation[row][column] * zooms[column];
            }
        }
        affine[0][3] = header->GetQOffsetX();
        affine[1][3] = header->GetQOffsetY();
        affine[2][3] = header->GetQOffsetZ();
        return affine;
    }
    affine[0][0] = dx;
    affine[1][1] = dy;
    affine[2][2] = dz;
    return affine;
}

Geometry geometry_from_affine(const std::array<std::array<double, 4>, 3>& affine)
{
    Geometry geometry;
    geometry.known = true;
    for (int column = 0; column < 3; ++column) {
        const double norm =
            std::sqrt(affine[0][column] * affine[0][column] + affine[1][column] * affine[1][column] +
                      affine[2][column] * affine[2][column]);
        if (norm > 0 && std::isfinite(norm)) {
            geometry.spacing[column] = norm;
            for (int row = 0; row < 3; ++row) {
                geometry.direction[row * 3 + column] = affine[row][column] / norm;
            }
        } else {
            // A degenerate column: keep unit spacing and the index axis.
            geometry.spacing[column] = 1.0;
            for (int row = 0; row < 3; ++row) {
                geometry.direction[row * 3 + column] = row == column ? 1.0 : 0.0;
            }
        }
    }
    for (int row = 0; row < 3; ++row) {
        geometry.origin[row] = affine[row][3];
    }
    return geometry;
}

class ImageReadJob {
public:
    // `data_size`: the bytes the NIfTI header and data must fit in (the file's
    // size, or the inflated size of a .nii.gz); unused for PNG and TIFF.
    ImageReadJob(const std::string& path, Format format, std::uint64_t data_size)
        : path_(path), format_(format), data_size_(data_size)
    {
        callback_->SetCallback(&on_vtk_message);
        callback_->SetClientData(&messages_);
    }

    void set_gzip(bool gzip) { is_gzip_ = gzip; }

    Volume run()
    {
        create_reader();
        observe(reader_);
        observe(reader_->GetExecutive());
        reader_->SetFileName(path_.c_str());
        if (!reader_->CanReadFile(path_.c_str())) {
            fail_with_messages(std::string("not a valid ") + format_name(format_) +
                               " file (bad or corrupt header)");
        }
        messages_.warnings.clear(); // probing warnings are not interesting
        reader_->UpdateInformation();
        check_messages("cannot read the header");

        vtkInformation* info = reader_->GetOutputInformation(0);
        int extent[6] = {0, -1, 0, -1, 0, -1};
        if (!info || !info->Has(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT())) {
            fail_with_messages("the header gives no image size");
        }
        info->Get(vtkStreamingDemandDrivenPipeline::WHOLE_EXTENT(), extent);
        std::int64_t dims[3];
        for (int axis = 0; axis < 3; ++axis) {
            dims[axis] = static_cast<std::int64_t>(extent[2 * axis + 1]) - extent[2 * axis] + 1;
            if (dims[axis] < 1) {
                throw_input_error(path_, "image has an empty extent (" + std::to_string(dims[0]) + " x " +
                                             std::to_string(dims[1]) + " x " + std::to_string(dims[2]) +
                                             ") in its header");
            }
        }
        int vtk_type = reader_->GetDataScalarType();
        int components = reader_->GetNumberOfScalarComponents();
        if (vtkInformation* field = vtkDataObject::GetActiveFieldInformation(
                info, vtkDataObject::FIELD_ASSOCIATION_POINTS, vtkDataSetAttributes::SCALARS)) {
            if (field->Has(vtkDataObject::FIELD_ARRAY_TYPE())) {
                vtk_type = field->Get(vtkDataObject::FIELD_ARRAY_TYPE());
            }
            if (field->Has(vtkDataObject::FIELD_NUMBER_OF_COMPONENTS())) {
                components = field->Get(vtkDataObject::FIELD_NUMBER_OF_COMPONENTS());
            }
        }
        if (format_ == Format::Nifti) {
            check_nifti_dimensions();
        }
        if (components != 1) {
            throw_input_error(path_, "image has " + std::to_string(components) +
                                         " components per voxel (e.g. RGB or a vector image); a mask or "
                                         "prediction must have one");
        }
        const std::optional<ScalarType> type = scalar_type_of(vtk_type);
        if (!type) {
            throw_input_error(path_, std::string("unsupported voxel type '") +
                                         vtkImageScalarTypeNameMacro(vtk_type) + "'");
        }
        // Refuse a header that claims more than memory holds before VTK
        // allocates it (VTK would need this much, and the Volume as much again).
        const std::uint64_t elements = static_cast<std::uint64_t>(dims[0]) *
                                       static_cast<std::uint64_t>(dims[1]) *
                                       static_cast<std::uint64_t>(dims[2]);
        check_allocation(path_, elements, *type);
        check_allocation(path_, elements * 2, *type);
        if (format_ == Format::Nifti) {
            check_nifti_data_size(elements * scalar_size(*type));
        }

        if (format_ == Format::Nifti) {
            return read_nifti_voxels(dims, *type, elements);
        }
        reader_->Update();
        check_messages("cannot read the voxel data");
        vtkImageData* image = reader_->GetOutput();
        vtkDataArray* scalars = image ? image->GetPointData()->GetScalars() : nullptr;
        if (!scalars) {
            fail_with_messages("the reader produced no voxel data");
        }
        if (scalars->GetNumberOfComponents() != 1 || scalar_type_of(scalars->GetDataType()) != type ||
            static_cast<std::uint64_t>(scalars->GetNumberOfTuples()) != elements) {
            fail_with_messages("the voxel data do not match the header (" +
                               std::to_string(scalars->GetNumberOfTuples()) + " values of " +
                               scalars->GetDataTypeAsString() + " for " + std::to_string(elements) + ")");
        }

        Shape shape;
        shape.w = dims[0];
        shape.h = dims[1];
        shape.d = dims[2];
        shape.spatial_dims = dims[2] == 1 ? 2 : 3;
        Volume volume(path_, *type, shape);
        const std::size_t slice_bytes = static_cast<std::size_t>(dims[0] * dims[1]) * scalar_size(*type);
        const auto* source = static_cast<const std::byte*>(scalars->GetVoidPointer(0));
        if (format_ == Format::Nifti && nifti()->GetQFac() < 0) {
            // VTK stored the slices in reverse order; restore the file's order.
            for (std::int64_t k = 0; k < dims[2]; ++k) {
                std::memcpy(volume.data() + k * slice_bytes, source + (dims[2] - 1 - k) * slice_bytes,
                            slice_bytes);
            }
        } else if (format_ == Format::Png) {
            const std::size_t row_bytes = static_cast<std::size_t>(dims[0]) * scalar_size(*type);
            for (std::int64_t y = 0; y < dims[1]; ++y) {
                std::memcpy(volume.data() + y * row_bytes, source + (dims[1] - 1 - y) * row_bytes, row_bytes);
            }
        } else {
            std::memcpy(volume.data(), source, volume.byte_size());
        }
        volume.geometry() = geometry(image);
        return volume;
    }

private:
    void create_reader()
    {
        switch (format_) {
        case Format::Nifti: reader_ = vtkSmartPointer<vtkNIFTIImageReader>::New(); break;
        case Format::Png: reader_ = vtkSmartPointer<vtkPNGReader>::New(); break;
        case Format::Tiff: reader_ = vtkSmartPointer<vtkTIFFReader>::New(); break;
        }
        // Keep the file's row order (first row on top) instead of VTK's
        // bottom-up convention, so that [H, W] matches numpy. The TIFF reader
        // honours FileLowerLeft; VTK 9.1's PNG reader always flips, so PNG
        // rows are flipped back when copying (checked by the tests).
        if (format_ == Format::Tiff) {
            reader_->FileLowerLeftOn();
        }
    }

    void observe(vtkObject* object)
    {
        if (!object) {
            return;
        }
        object->AddObserver(vtkCommand::ErrorEvent, callback_);
        object->AddObserver(vtkCommand::WarningEvent, callback_);
    }

    vtkNIFTIImageReader* nifti() { return static_cast<vtkNIFTIImageReader*>(reader_.Get()); }

    // The voxel data of a NIfTI file read straight into the Volume, in file
    // order (no slice flip), byte-swapped when the header is: one pass over
    // the file, and for .nii.gz one decompression, which also checks the
    // gzip stream to its end (CRC, truncation). VTK reads only the header.
    Volume read_nifti_voxels(const std::int64_t dims[3], ScalarType type, std::uint64_t elements)
    {
        Shape shape;
        shape.w = dims[0];
        shape.h = dims[1];
        shape.d = dims[2];
        shape.spatial_dims = dims[2] == 1 ? 2 : 3;
        Volume volume(path_, type, shape);
        const auto offset = static_cast<std::uint64_t>(nifti()->GetNIFTIHeader()->GetVoxOffset());
        const std::uint64_t bytes = elements * scalar_size(type);
        const detail::File file(path_);
        if (!is_gzip_) {
            file.read_at(offset, volume.data(), static_cast<std::size_t>(bytes), "the NIfTI voxel data");
        } else {
            auto* destination = reinterpret_cast<unsigned char*>(volume.data());
            file.seek(0);
            const std::uint64_t total = inflate_all(
                path_, "gzip data", 15 + 16,
                [&](unsigned char* buffer, std::size_t size) {
                    return std::fread(buffer, 1, size, file.get());
                },
                offset + bytes + (std::uint64_t{1} << 20),
                [&](std::uint64_t at, const unsigned char* piece, std::size_t size) {
                    // Copy the part of [at, at + size) that falls in [offset, offset + bytes).
                    const std::uint64_t begin = std::max(at, offset);
                    const std::uint64_t end = std::min(at + size, offset + bytes);
                    if (begin < end) {
                        std::memcpy(destination + (begin - offset), piece + (begin - at),
                                    static_cast<std::size_t>(end - begin));
                    }
                });
            if (total < offset + bytes) {
                throw_input_error(path_, "NIfTI data is truncated: the header describes " +
                                             std::to_string(bytes) + " bytes at offset " +
                                             std::to_string(offset) + " but the inflated file holds " +
                                             std::to_string(total) + " bytes");
            }
        }
        if (scalar_size(type) > 1 && nifti_swapped(nifti_head(file, is_gzip_, 4))) {
            swap_bytes(volume.data(), static_cast<std::size_t>(elements), scalar_size(type));
        }
        volume.geometry() = geometry_from_affine(nifti_affine(nifti()->GetNIFTIHeader()));
        return volume;
    }

    void check_nifti_dimensions()
    {
        vtkNIFTIImageHeader* header = nifti()->GetNIFTIHeader();
        if (!header) {
            return;
        }
        const auto rank = header->GetDim(0);
        for (int axis = 4; axis <= rank && axis <= 7; ++axis) {
            if (header->GetDim(axis) > 1) {
                throw_input_error(path_, "NIfTI image has " + std::to_string(rank) + " dimensions (dim[" +
                                             std::to_string(axis) +
                                             "] = " + std::to_string(header->GetDim(axis)) +
                                             "); a mask must be 2D or 3D");
            }
        }
    }

    // VTK allocates the whole image before it notices a short file: refuse a
    // header whose voxel data (at vox_offset) runs past the end first.
    void check_nifti_data_size(std::uint64_t bytes)
    {
        vtkNIFTIImageHeader* header = nifti()->GetNIFTIHeader();
        if (!header) {
            return;
        }
        const vtkTypeInt64 vox_offset = header->GetVoxOffset();
        if (vox_offset < 0) {
            throw_input_error(path_,
                              "NIfTI header has a negative vox_offset (" + std::to_string(vox_offset) + ")");
        }
        const auto offset = static_cast<std::uint64_t>(vox_offset);
        if (offset > data_size_ || bytes > data_size_ - offset) {
            throw_input_error(path_,
                              "NIfTI data is truncated: the header describes " + std::to_string(bytes) +
                                  " bytes at offset " + std::to_string(offset) + " but the " +
                                  (is_gzip_ ? "compressed file can inflate to at most " : "file holds ") +
                                  std::to_string(data_size_) + " bytes");
        }
    }

    Geometry geometry(vtkImageData* image)
    {
        if (format_ == Format::Png || format_ == Format::Tiff) {
            return Geometry{};
        }
        if (format_ == Format::Nifti) {
            if (vtkNIFTIImageHeader* header = nifti()->GetNIFTIHeader()) {
                return geometry_from_affine(nifti_affine(header));
            }
        }
        Geometry result;
        result.known = true;
        const double* spacing = image->GetSpacing();
        const double* origin = image->GetOrigin();
        for (int axis = 0; axis < 3; ++axis) {
            result.spacing[axis] = std::abs(spacing[axis]);
            result.origin[axis] = origin[axis];
        }
        if (vtkMatrix3x3* direction = image->GetDirectionMatrix()) {
            for (int row = 0; row < 3; ++row) {
                for (int column = 0; column < 3; ++column) {
                    // A negative VTK spacing is a flipped axis.
                    result.direction[row * 3 + column] =
                        direction->GetElement(row, column) * (spacing[column] < 0 ? -1.0 : 1.0);
                }
            }
        }
        return result;
    }

    [[noreturn]] void fail_with_messages(const std::string& what)
    {
        std::string text = what;
        const auto& list = messages_.errors.empty() ? messages_.warnings : messages_.errors;
        for (const std::string& message : list) {
            text += (text == what ? ": " : "; ") + message;
        }
        throw_input_error(path_, text);
    }

    void check_messages(const std::string& what)
    {
        if (!messages_.errors.empty()) {
            fail_with_messages(what);
        }
    }

    const std::string& path_;
    Format format_;
    std::uint64_t data_size_;
    bool is_gzip_ = false;
    Messages messages_;
    vtkSmartPointer<vtkImageReader2> reader_;
    vtkNew<vtkCallbackCommand> callback_;
};

} // namespace

Volume read_image(const std::string& path)
{
    const detail::File probe(path);
    if (probe.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    const std::string extension = detail::lower_extension(path);
    Format format;
    if (extension == ".nii" || extension == ".nii.gz") {
        format = Format::Nifti;
    } else if (extension == ".nrrd" || extension == ".nhdr") {
        return detail::read_nrrd(path);
    } else if (extension == ".mha" || extension == ".mhd") {
        return detail::read_metaimage(path);
    } else if (extension == ".png") {
        format = Format::Png;
    } else if (extension == ".tif" || extension == ".tiff") {
        format = Format::Tiff;
    } else {
        throw_input_error(path, "not an image format read through VTK (.nii, .nii.gz, .nrrd, .nhdr, .mha, "
                                ".mhd, .png, .tif, .tiff)");
    }
    // VTK's readers do not notice every corrupt file (and libpng can crash
    // VTK 9.1 on a truncated PNG), so the container is checked first.
    std::uint64_t data_size = probe.size();
    if (format == Format::Png) {
        check_png(probe);
    } else if (extension == ".nii.gz") {
        data_size = check_gzip(probe);
    }
    if (format == Format::Nifti) {
        check_nifti_datatype(probe, extension == ".nii.gz");
    }
    ImageReadJob job(path, format, data_size);
    job.set_gzip(extension == ".nii.gz");
    return job.run();
}

} // namespace masklens::io
