// The VTK-backed reader: PNG. read_image() also dispatches NIfTI, NRRD,
// MetaImage and TIFF, which have their own readers (nifti_reader.cpp: VTK
// 9.1's NIfTI reader crashes on corrupt headers; tiff_reader.cpp: its TIFF
// reader leaks and libtiff divides by zero on some files; nrrd_reader.cpp,
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
//  * NIfTI: see nifti_reader.cpp (nibabel's affine, file order).
//  * NRRD, MetaImage: see nrrd_reader.cpp and metaimage_reader.cpp (the
//    file's own world frame, e.g. LPS, not converted to RAS).
//  * PNG (and TIFF, tiff_reader.cpp): no geometry (known = false). Row 0 is
//    the top row of the picture, as numpy/PIL show it (VTK's bottom-up row
//    order is undone).
#include "io_common.h"
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

#include <mutex>

#if MASKLENS_IO_PNG
#include <vtkCallbackCommand.h>
#include <vtkCommand.h>
#include <vtkDataArray.h>
#include <vtkDataObject.h>
#include <vtkExecutive.h>
#include <vtkImageData.h>
#include <vtkInformation.h>
#include <vtkMatrix3x3.h>
#include <vtkNew.h>
#include <vtkPNGReader.h>
#include <vtkPointData.h>
#include <vtkSmartPointer.h>
#include <vtkStreamingDemandDrivenPipeline.h>
#include <vtkType.h>
#endif

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

#if MASKLENS_IO_PNG
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

#endif

std::uint32_t be32(const unsigned char* p)
{
    return (static_cast<std::uint32_t>(p[0]) << 24) | (static_cast<std::uint32_t>(p[1]) << 16) |
           (static_cast<std::uint32_t>(p[2]) << 8) | static_cast<std::uint32_t>(p[3]);
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
    bool data_ended = false; // a chunk other than IDAT followed the IDAT run
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
        // libpng stops with png_error() (a longjmp through VTK 9.1's reader,
        // which then crashed under fuzzing) on structural faults, so refuse
        // them all here: chunk names of letters only, IHDR first and once,
        // one run of IDAT chunks, no unknown critical chunk, no palette.
        for (const char c : type) {
            if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
                throw_input_error(path, "PNG file is corrupt (invalid chunk name)");
            }
        }
        const bool critical = type[0] >= 'A' && type[0] <= 'Z';
        if (!header_seen) {
            if (type != "IHDR" || length != 13) {
                throw_input_error(path, "not a valid PNG file (IHDR chunk missing)");
            }
            width = be32(chunk.data() + 4);
            height = be32(chunk.data() + 8);
            bit_depth = chunk[12];
            color_type = chunk[13];
            interlace = chunk[16];
            if (chunk[14] != 0 || chunk[15] != 0 || interlace > 1) {
                throw_input_error(path,
                                  "not a valid PNG file (unknown compression, filter or interlace method "
                                  "in IHDR)");
            }
            header_seen = true;
        } else if (type == "IDAT") {
            if (!data_chunks.empty() && data_ended) {
                throw_input_error(path, "PNG file is corrupt (IDAT chunks are not consecutive)");
            }
            data_chunks.emplace_back(offset + 8, length);
        } else if (type == "IEND") {
            end_seen = true;
        } else if (type == "IHDR") {
            throw_input_error(path, "PNG file is corrupt (a second IHDR chunk)");
        } else if (type == "PLTE") {
            throw_input_error(path, "image has a palette (PLTE chunk); a mask or prediction must be a "
                                    "single-channel grayscale image");
        } else if (critical) {
            throw_input_error(path, "PNG file has an unknown critical chunk '" + type + "'");
        }
        if (type != "IDAT" && !data_chunks.empty()) {
            data_ended = true;
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
    // The filtered scanlines of each (Adam7) pass: rows, and bytes per row
    // including the filter byte. They give the image data's size and where
    // each filter byte sits in the inflated stream (libpng stops with an
    // error on a filter type above 4).
    std::vector<std::pair<std::uint64_t, std::uint64_t>> passes;
    if (interlace == 0) {
        passes.emplace_back(height, 1 + (static_cast<std::uint64_t>(width) * channels * bit_depth + 7) / 8);
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
            if (w > 0 && h > 0) {
                passes.emplace_back(h, 1 + (w * static_cast<std::uint64_t>(channels * bit_depth) + 7) / 8);
            }
        }
    }
    std::uint64_t needed = 0;
    for (const auto& [rows, row_bytes] : passes) {
        needed += rows * row_bytes;
    }
    std::size_t pass_index = 0;
    std::uint64_t row_in_pass = 0;
    std::uint64_t next_filter = 0; // stream offset of the next filter byte
    auto check_filters = [&](std::uint64_t at, const unsigned char* piece, std::size_t size) {
        while (pass_index < passes.size() && next_filter < at + size) {
            if (next_filter >= at && piece[next_filter - at] > 4) {
                throw_input_error(path, "PNG image data is corrupt (scanline filter type " +
                                            std::to_string(piece[next_filter - at]) + ")");
            }
            next_filter += passes[pass_index].second;
            if (++row_in_pass == passes[pass_index].first) {
                row_in_pass = 0;
                ++pass_index;
            }
        }
    };
    std::size_t chunk_index = 0;
    std::uint64_t chunk_used = 0;
    const std::uint64_t produced = detail::inflate_all(
        path, "PNG image data", 15,
        [&](unsigned char* buffer, std::size_t size) -> std::size_t {
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
        },
        needed + (std::uint64_t{1} << 20), check_filters);
    if (produced < needed) {
        throw_input_error(path, "PNG image data is truncated (" + std::to_string(produced) + " of " +
                                    std::to_string(needed) + " bytes)");
    }
}

enum class Format { Png };

[[maybe_unused]] const char* format_name(Format format)
{
    switch (format) {
    case Format::Png: return "PNG";
    }
    return "image";
}

#if MASKLENS_IO_PNG
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

class ImageReadJob {
public:
    ImageReadJob(const std::string& path, Format format) : path_(path), format_(format)
    {
        callback_->SetCallback(&on_vtk_message);
        callback_->SetClientData(&messages_);
    }

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
        const auto* source = static_cast<const std::byte*>(scalars->GetVoidPointer(0));
        if (format_ == Format::Png) {
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
        case Format::Png: reader_ = vtkSmartPointer<vtkPNGReader>::New(); break;
        }
        // VTK 9.1's PNG reader always flips rows to its bottom-up convention;
        // they are flipped back when copying so that [H, W] matches numpy
        // (checked by the tests).
    }

    void observe(vtkObject* object)
    {
        if (!object) {
            return;
        }
        object->AddObserver(vtkCommand::ErrorEvent, callback_);
        object->AddObserver(vtkCommand::WarningEvent, callback_);
    }

    Geometry geometry(vtkImageData* image)
    {
        if (format_ == Format::Png) {
            return Geometry{};
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
    Messages messages_;
    vtkSmartPointer<vtkImageReader2> reader_;
    vtkNew<vtkCallbackCommand> callback_;
};

#endif

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
        return detail::read_nifti(path, extension == ".nii.gz");
    }
    if (extension == ".nrrd" || extension == ".nhdr") {
        return detail::read_nrrd(path);
    } else if (extension == ".mha" || extension == ".mhd") {
        return detail::read_metaimage(path);
    } else if (extension == ".png") {
        format = Format::Png;
    } else if (extension == ".tif" || extension == ".tiff") {
        return detail::read_tiff(path);
    } else {
        throw_input_error(path, "not an image format read through VTK (.nii, .nii.gz, .nrrd, .nhdr, .mha, "
                                ".mhd, .png, .tif, .tiff)");
    }
    // VTK's PNG reader does not notice every corrupt file and libpng errors
    // can crash VTK 9.1, so the container is checked first.
    check_png(probe);
#if MASKLENS_IO_PNG
    // VTK's object factory is set up on first use and that is not safe to
    // race; PNG reads are small, so they simply take turns (every other
    // reader is VTK-free and runs concurrently, see read_volume_pair).
    static std::mutex vtk_reads;
    const std::lock_guard lock(vtk_reads);
    ImageReadJob job(path, format);
    return job.run();
#else
    (void)format;
    throw_input_error(path, "PNG files need the readers built with VTK (MASKLENS_IO_PNG=ON); this build "
                            "(e.g. the Python package) reads .npy, .npz, NIfTI, NRRD, MetaImage and TIFF");
#endif
}

} // namespace masklens::io
