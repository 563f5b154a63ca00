// read_image(): the image formats, dispatched by extension to their own
// readers (nifti_reader.cpp, nrrd_reader.cpp, metaimage_reader.cpp,
// tiff_reader.cpp: VTK 9.1's readers crashed on corrupt headers, leaked or
// dropped direction matrices) and PNG: check_png (here) checks the whole
// container first, then png_reader.cpp decodes it with libpng. No VTK: the
// readers link zlib, libdeflate and libpng only.
//
// Geometry conventions (Geometry: spacing, origin, row-major direction whose
// columns are the world directions of the x, y, z index axes):
//  * NIfTI: see nifti_reader.cpp (nibabel's affine, file order).
//  * NRRD, MetaImage: see nrrd_reader.cpp and metaimage_reader.cpp (the
//    file's own world frame, e.g. LPS, not converted to RAS).
//  * PNG (and TIFF, tiff_reader.cpp): no geometry (known = false). Row 0 is
//    the top row of the picture, as numpy/PIL show it.
#include "io_common.h"
#include "masklens/engine/error.h"
#include "masklens/io/read_volume.h"

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
        // libpng stops with png_error() on structural faults (a longjmp,
        // which crashed VTK 9.1's reader, used before, under fuzzing), so
        // refuse them all here: chunk names of letters only, IHDR first and once,
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

} // namespace

Volume read_image(const std::string& path)
{
    const detail::File probe(path);
    if (probe.size() == 0) {
        throw_input_error(path, "file is empty");
    }
    const std::string extension = detail::lower_extension(path);
    if (extension == ".nii" || extension == ".nii.gz") {
        return detail::read_nifti(path, extension == ".nii.gz");
    }
    if (extension == ".nrrd" || extension == ".nhdr") {
        return detail::read_nrrd(path);
    } else if (extension == ".mha" || extension == ".mhd") {
        return detail::read_metaimage(path);
    } else if (extension == ".tif" || extension == ".tiff") {
        return detail::read_tiff(path);
    } else if (extension != ".png") {
        throw_input_error(path, "not an image format (.nii, .nii.gz, .nrrd, .nhdr, .mha, .mhd, .png, .tif, "
                                ".tiff)");
    }
    // libpng stops with a longjmp on the faults check_png refuses, and
    // decodes only what check_png accepted.
    check_png(probe);
    return detail::read_png(path);
}

} // namespace masklens::io
